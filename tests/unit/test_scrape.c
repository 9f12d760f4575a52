/*
 * Unit tests for the scraper against the loopback responder (tests/support): the request
 * carries Prometheus' Accept header, gzip and the configured Authorization; failures are
 * classified (HTTP status, body size limit, timeout) and nothing of a failed scrape reaches the
 * consumer; Content-Type negotiation; stable, spread phases; removed targets are forgotten.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "http_responder.h"
#include "slawatch/scrape.h"

#define T0 1790848800000LL

typedef struct fake {
    size_t applied, forgotten, problems;
    char echo[4096];
} fake;

static sw_status
apply(void *ctx, const sw_target *t, sw_scrape_format fmt, const uint8_t *body, size_t len,
      int64_t at_ms, uint64_t *ret_samples, sw_err *err)
{
    fake *f = ctx;
    (void)fmt;
    (void)at_ms;
    (void)err;
    f->applied++;
    if (strstr(t->url, "/echo") != NULL)
        snprintf(f->echo, sizeof f->echo, "%.*s", (int)len, (const char *)body);
    *ret_samples = 7;
    return SW_OK;
}

static void
forget(void *ctx, const sw_target *t)
{
    (void)t;
    ((fake *)ctx)->forgotten++;
}

static void
problem(void *ctx, const sw_target *t, const sw_err *err)
{
    (void)t;
    (void)err;
    ((fake *)ctx)->problems++;
}

static int64_t
wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
test_format_of(void **state)
{
    (void)state;
    struct {
        const char *ct;
        sw_scrape_format want;
    } cases[] = {
        {"text/plain; version=0.0.4; charset=utf-8", SW_SCRAPE_TEXT},
        {"application/openmetrics-text; version=1.0.0; charset=utf-8", SW_SCRAPE_OPENMETRICS},
        {"Application/OpenMetrics-Text", SW_SCRAPE_OPENMETRICS},
        {"application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; "
         "encoding=delimited",
         SW_SCRAPE_PROTOBUF},
        {"application/vnd.google.protobuf; proto=other.Message; encoding=delimited",
         SW_SCRAPE_TEXT},
        {"application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; "
         "encoding=text",
         SW_SCRAPE_TEXT},
        {"", SW_SCRAPE_TEXT},
        {"application/json", SW_SCRAPE_TEXT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(sw_scrape_format_of(cases[i].ct), cases[i].want);
    /* Protobuf preferred, then OpenMetrics 1.0.0, then text 0.0.4 (q-values decreasing). */
    const char *accept = SW_SCRAPE_ACCEPT;
    const char *pb = strstr(accept, "application/vnd.google.protobuf");
    const char *om = strstr(accept, "application/openmetrics-text;version=1.0.0;q=0.5");
    const char *text = strstr(accept, "text/plain;version=0.0.4;q=0.4");
    assert_true(pb == accept && om > pb && text > om);
}

static void
test_phase(void **state)
{
    (void)state;
    bool slot[15] = {false};
    size_t used = 0;
    for (int i = 0; i < 100; i++) {
        char id[64];
        snprintf(id, sizeof id, "http://10.0.0.%d:9100/metrics job=\"node\"", i);
        int64_t p = sw_scrape_phase_ms(id, 15000);
        assert_true(p >= 0 && p < 15000);
        assert_int_equal(p, sw_scrape_phase_ms(id, 15000));
        used += !slot[p / 1000];
        slot[p / 1000] = true;
    }
    /* 100 targets over 15 one-second slots: a hash leaves none or nearly none empty. */
    assert_true(used >= 13);
}

static void
make_job(sw_scrape_job *j, sw_target_group *g, const char *name, const char *path,
         const char *const *addr)
{
    *g = (sw_target_group){.targets = addr, .n_targets = 1};
    *j = (sw_scrape_job){.job_name = name, .interval_ms = 1000, .timeout_ms = 300,
                         .metrics_path = path, .scheme = "http", .body_size_limit = 1000,
                         .static_groups = g, .n_static_groups = 1};
}

static void
test_scrape_outcomes(void **state)
{
    (void)state;
    http_responder *srv = http_responder_start();
    assert_non_null(srv);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", http_responder_port(srv));
    const char *const addrs[] = {addr};
    sw_scrape_job jobs[4];
    sw_target_group groups[4];
    make_job(&jobs[0], &groups[0], "echo", "/echo", addrs);
    jobs[0].auth_type = "Bearer";
    jobs[0].auth_credentials = "s3cret";
    make_job(&jobs[1], &groups[1], "e500", "/status/500", addrs);
    make_job(&jobs[2], &groups[2], "big", "/big/5000", addrs);
    make_job(&jobs[3], &groups[3], "hang", "/hang/3000", addrs);
    fake f = {0};
    sw_scrape_consumer c = {&f, apply, forget, problem};
    sw_scrape *s;
    assert_int_equal(sw_scrape_new(&c, &s, NULL), SW_OK);
    assert_int_equal(sw_scrape_set_jobs(s, jobs, 4, T0, NULL), SW_OK);
    assert_true(sw_scrape_next_due_ms(s) < T0 + 1000);
    /* The scraper's clock stays at T0 + 999, past every first phase and before every second
     * scrape; the loop runs on the wall clock, since a target whose next scrape is a few ms
     * away makes each run return early, long before the 300 ms timeout of the hanging one. */
    for (int64_t give_up = wall_ms() + 10000; f.applied + f.problems < 4 && wall_ms() < give_up;)
        assert_int_equal(sw_scrape_run(s, T0 + 999, 50, NULL), SW_OK);
    assert_int_equal(f.applied, 1); /* only the good scrape reached the consumer */
    assert_int_equal(f.problems, 3);
    assert_non_null(strstr(f.echo, "Accept: " SW_SCRAPE_ACCEPT));
    assert_non_null(strstr(f.echo, "Accept-Encoding: gzip"));
    assert_non_null(strstr(f.echo, "Authorization: Bearer s3cret"));

    sw_scrape_target_stats *st;
    size_t n;
    assert_int_equal(sw_scrape_stats(s, &st, &n, NULL), SW_OK);
    assert_int_equal(n, 4);
    assert_string_equal(st[0].job, "echo");
    assert_string_equal(st[0].instance, addr);
    assert_true(st[0].up);
    assert_int_equal(st[0].samples, 7);
    assert_false(st[1].up);
    assert_int_equal(st[1].failures[SW_SCRAPE_FAIL_STATUS], 1);
    assert_int_equal(st[2].failures[SW_SCRAPE_FAIL_TOO_BIG], 1);
    assert_int_equal(st[3].failures[SW_SCRAPE_FAIL_TIMEOUT], 1);
    sw_scrape_stats_free(st, n);

    /* A reload without three of the jobs: they are forgotten, the echo target keeps going. */
    assert_int_equal(sw_scrape_set_jobs(s, jobs, 1, T0 + 999, NULL), SW_OK);
    assert_int_equal(f.forgotten, 3);
    assert_int_equal(sw_scrape_stats(s, &st, &n, NULL), SW_OK);
    assert_int_equal(n, 1);
    assert_true(st[0].up);
    sw_scrape_stats_free(st, n);
    sw_scrape_free(s);
    http_responder_stop(srv);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_of),
        cmocka_unit_test(test_phase),
        cmocka_unit_test(test_scrape_outcomes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
