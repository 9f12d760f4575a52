/*
 * The API's routes on the real HTTP server: a /metrics render in progress does not hold up the
 * gate. The renders are held deterministically by the test thread keeping a tick's write section
 * (open to the gate, as the daemon's tick is while it steps the services): a scrape's handler
 * waits for that section to end, and meanwhile gate questions on other connections must be
 * answered, with the server's only pool thread. Then the section ends: the two waiting scrapes
 * are answered one body, rendered once.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "slawatch/api.h"
#include "slawatch/eval.h"
#include "slawatch/http.h"
#include "slawatch/rules.h"
#include "slawatch/snapshot.h"

static const char rules_text[] = "version: 1\n"
                                 "base_interval: 10s\n"
                                 "min_requests: 10\n"
                                 "services:\n"
                                 "  - name: api\n"
                                 "    environments: [blue, green]\n"
                                 "    sli: {requests: {push: true}, errors: {push: true}}\n"
                                 "gate:\n"
                                 "  window: 10m\n"
                                 "  checks: ['error_rate <= 1%']\n";

#define T0 INT64_C(1790812800000)
#define BASE_MS 10000
#define WAIT_STEPS 2000 /* polls of 5 ms: a bound of 10 s, never reached when things work */

/* The snapshot the server's hook hands out: the one the last "tick" built. */
static pthread_mutex_t current_lock = PTHREAD_MUTEX_INITIALIZER;
static sw_snapshot *current;

static sw_snapshot *
hook_snapshot(void *ctx)
{
    (void)ctx;
    pthread_mutex_lock(&current_lock);
    sw_snapshot *s = current != NULL ? sw_snapshot_ref(current) : NULL;
    pthread_mutex_unlock(&current_lock);
    return s;
}

static void
publish(sw_snapshot *s)
{
    pthread_mutex_lock(&current_lock);
    sw_snapshot *old = current;
    current = s;
    pthread_mutex_unlock(&current_lock);
    if (old != NULL)
        sw_snapshot_unref(old);
}

static int64_t
hook_now(void *ctx)
{
    (void)ctx;
    return T0 + 3 * BASE_MS;
}

static void
hook_audit(void *ctx, const sw_api_gate_audit *a)
{
    (void)ctx;
    (void)a;
}

static bool
hook_ready(void *ctx, char *why, size_t cap)
{
    (void)ctx, (void)why, (void)cap;
    return true;
}

/* --- client -------------------------------------------------------------------------------- */

typedef struct reply {
    long status;
    char retry_after[32];
    char *body;
    size_t len;
} reply;

static size_t
on_body(char *p, size_t size, size_t n, void *ud)
{
    reply *r = ud;
    char *grown = realloc(r->body, r->len + size * n + 1);
    if (grown == NULL)
        return 0;
    memcpy(grown + r->len, p, size * n);
    r->len += size * n;
    grown[r->len] = '\0';
    r->body = grown;
    return size * n;
}

static size_t
on_header(char *p, size_t size, size_t n, void *ud)
{
    reply *r = ud;
    if (size * n > 13 && strncmp(p, "Retry-After: ", 13) == 0)
        snprintf(r->retry_after, sizeof r->retry_after, "%.*s", (int)strcspn(p + 13, "\r\n"),
                 p + 13);
    return size * n;
}

/* One request on a connection of its own. */
static reply
fetch(uint16_t port, const char *path)
{
    reply r = {0};
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", (unsigned)port, path);
    CURL *h = curl_easy_init();
    assert_non_null(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &r);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
    if (curl_easy_perform(h) == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
    curl_easy_cleanup(h);
    return r;
}

typedef struct scrape {
    uint16_t port;
    reply r;
    atomic_bool answered;
} scrape;

static void *
run_scrape(void *arg)
{
    scrape *s = arg;
    s->r = fetch(s->port, "/metrics");
    atomic_store(&s->answered, true);
    return NULL;
}

static void
until_render_busy(const sw_http_server *srv, unsigned n)
{
    for (int i = 0; i < WAIT_STEPS && sw_http_render_busy(srv) < n; i++)
        nanosleep(&(struct timespec){0, 5 * 1000 * 1000}, NULL);
    assert_int_equal(sw_http_render_busy(srv), n);
}

/* --- the test ------------------------------------------------------------------------------ */

static void
feed(sw_eval *ev, int64_t start, uint64_t requests, uint64_t errors)
{
    sw_sli_interval iv = {.start_ms = start,
                          .length_ms = BASE_MS,
                          .requests = requests,
                          .errors = errors,
                          .has_data = true};
    assert_int_equal(sw_eval_add(ev, "api", "green", &iv, NULL), SW_OK);
}

/*
 * One pool thread, two render workers and one render place waiting: two scrapes held in their
 * renders and a third queued, the gate is still answered on other connections (on the old
 * route table, /metrics on the pool thread, the pool's only thread waited with the first
 * scrape and the gate question was never answered); a fourth scrape is refused 503 with
 * Retry-After. Once the section ends the scrapes are answered from one render.
 */
static void
test_gate_answered_while_metrics_renders(void **state)
{
    (void)state;
    sw_rules *rules;
    sw_eval *ev;
    sw_snapshot_source *src;
    assert_int_equal(
        sw_rules_load_mem(rules_text, sizeof rules_text - 1, "lanes", &rules, NULL, NULL), SW_OK);
    assert_int_equal(sw_eval_new(rules, &ev, NULL), SW_OK);
    assert_int_equal(sw_snapshot_source_new(&src, NULL), SW_OK);
    for (int k = 0; k < 3; k++)
        feed(ev, T0 + k * BASE_MS, 200, 0);
    assert_int_equal(sw_eval_advance(ev, T0 + 3 * BASE_MS, NULL), SW_OK);
    sw_metrics_self self = {.store_ok = true};
    sw_metrics_input mi = {.self = &self};
    sw_snapshot_input in = {ev, rules, T0 + 3 * BASE_MS, &mi, src};

    /* A tick in progress, open to the gate: the snapshot it publishes is built inside. */
    sw_snapshot_source_write_begin_stepwise(src);
    sw_snapshot *snap;
    assert_int_equal(sw_snapshot_build(&in, &snap, NULL), SW_OK);
    publish(snap);
    sw_snapshot_source_open(src);

    sw_api_hooks hooks = {.snapshot = hook_snapshot,
                          .now = hook_now,
                          .audit = hook_audit,
                          .ready = hook_ready,
                          .base_interval_ms = BASE_MS};
    size_t n_routes;
    const sw_http_route *routes = sw_api_routes(&n_routes);
    sw_http_options o = {.listen = "127.0.0.1:0",
                         .threads = 1,
                         .timeout_s = 30,
                         .render_workers = 2,
                         .render_waiting = 1};
    sw_http_server *srv = NULL;
    assert_int_equal(sw_http_start(&o, routes, n_routes, &hooks, &srv, NULL), SW_OK);
    uint16_t port = sw_http_port(srv);

    scrape scrapes[3];
    pthread_t t[3];
    for (unsigned k = 0; k < 3; k++) {
        scrapes[k] = (scrape){.port = port};
        atomic_init(&scrapes[k].answered, false);
        assert_int_equal(pthread_create(&t[k], NULL, run_scrape, &scrapes[k]), 0);
        until_render_busy(srv, k + 1);
    }

    for (int i = 0; i < 5; i++) {
        reply g = fetch(port, "/api/v1/gate?service=api&env=green");
        assert_int_equal(g.status, 200);
        assert_non_null(g.body);
        assert_non_null(strstr(g.body, "\"verdict\":\"pass\""));
        free(g.body);
    }
    reply full = fetch(port, "/metrics");
    assert_int_equal(full.status, 503);
    assert_string_equal(full.retry_after, "1");
    free(full.body);
    for (unsigned k = 0; k < 3; k++)
        assert_false(atomic_load(&scrapes[k].answered)); /* still held: answered meanwhile */

    sw_snapshot_source_write_end(src);
    for (unsigned k = 0; k < 3; k++) {
        assert_int_equal(pthread_join(t[k], NULL), 0);
        assert_int_equal(scrapes[k].r.status, 200);
        assert_non_null(scrapes[k].r.body);
        /* One render served all three: the body counts itself as the first text render. */
        assert_non_null(
            strstr(scrapes[k].r.body, "slawatch_metrics_renders_total{format=\"text\"} 1\n"));
        assert_int_equal(scrapes[k].r.len, scrapes[0].r.len);
        assert_memory_equal(scrapes[k].r.body, scrapes[0].r.body, scrapes[0].r.len);
    }
    for (unsigned k = 0; k < 3; k++)
        free(scrapes[k].r.body);
    sw_http_stop(srv);
    publish(NULL);
    sw_snapshot_source_free(src);
    sw_eval_free(ev);
    sw_rules_free(rules);
}

int
main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gate_answered_while_metrics_renders),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return failed;
}
