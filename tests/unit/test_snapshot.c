/*
 * The snapshot's answers on request. A gate answer or body asked for is computed once and kept;
 * once the tick thread has begun changing the evaluator (a write section of the source), a
 * snapshot from before answers what it kept and refuses (STALE) what it did not, and the
 * snapshot built in the section computes from the changed evaluator.
 *
 * Remote write forwards /metrics' per-service samples. It used to render the text exposition
 * and parse it back (collector/promtext); it now visits the snapshot's families
 * (sw_snapshot_metrics_visit). Here both paths run over the same snapshot (objectives, alerts,
 * triggers, gate, window SLIs with NaNs, latency summaries and histograms with the rules'
 * thresholds as bounds) and must give the same samples in the same order: names, label names
 * and values, and values bit for bit (any NaN matching a NaN). The text body itself is the
 * snapshot's rendered /metrics, and rendering it twice renders once.
 *
 * A render reads the evaluator only while it gathers: a tick that begins while the per-series
 * families are being written goes through at once, and the render still shows its snapshot.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "slawatch/buf.h"
#include "slawatch/eval.h"
#include "slawatch/expo.h"
#include "slawatch/metrics.h"
#include "slawatch/promtext.h"
#include "slawatch/rules.h"
#include "slawatch/snapshot.h"

#define T0 INT64_C(1790812800000)
#define BASE_MS 10000
#define MAX_SAMPLES 4096

static const char rules_text[] = "version: 1\n"
                                 "base_interval: 10s\n"
                                 "min_requests: 10\n"
                                 "services:\n"
                                 "  - name: api\n"
                                 "    environments: [blue, green]\n"
                                 "    sli: {requests: {push: true}, errors: {push: true},\n"
                                 "          latency: {push: true}}\n"
                                 "  - name: web\n"
                                 "    sli: {requests: {push: true}, errors: {push: true}}\n"
                                 "objectives:\n"
                                 "  - {name: availability, objective: availability >= 99%,\n"
                                 "     window: 1h}\n"
                                 "  - {name: latency, objective: p95 <= 250ms, window: 1h}\n"
                                 "alerts:\n"
                                 "  - {name: Errors, when: error_rate > 1%, for: 20s,\n"
                                 "     severity: critical}\n"
                                 "rollback_triggers:\n"
                                 "  - {name: Spike, when: error_rate > 5%, over: 20s}\n"
                                 "gate:\n"
                                 "  window: 10m\n"
                                 "  checks: ['error_rate <= 1%', 'p95 <= 300ms']\n";

/* One sample as a flat record: name, then label name=value pairs, '\n'-separated. */
typedef struct sample {
    char key[1024];
    double value;
    int family; /* sw_prom_type from the parser, sw_expo_type from the visitor */
} sample;

typedef struct samples {
    sample s[MAX_SAMPLES];
    size_t n;
} samples;

static void
add(samples *out, const char *key, double value, int family)
{
    assert_true(out->n < MAX_SAMPLES);
    sample *s = &out->s[out->n++];
    snprintf(s->key, sizeof s->key, "%s", key);
    s->value = value;
    s->family = family;
}

static sw_status
parsed(void *ctx, const sw_prom_sample *p, sw_err *err)
{
    (void)err;
    char key[1024];
    int n = snprintf(key, sizeof key, "%.*s", (int)p->name_len, p->name);
    for (size_t i = 0; i < p->n_labels; i++)
        n += snprintf(key + n, sizeof key - (size_t)n, "\n%.*s=%.*s", (int)p->labels[i].name_len,
                      p->labels[i].name, (int)p->labels[i].value_len, p->labels[i].value);
    add(ctx, key, p->value, p->type);
    return SW_OK;
}

static void
visited(void *ctx, sw_expo_type family, const char *name, const sw_expo_label *labels, size_t n,
        double value)
{
    char key[1024];
    int len = snprintf(key, sizeof key, "%s", name);
    for (size_t i = 0; i < n; i++)
        len += snprintf(key + len, sizeof key - (size_t)len, "\n%s=%s", labels[i].name,
                        labels[i].value);
    add(ctx, key, value, (int)family);
}

/* The families each side calls a counter: the only ones remote write leaves out here. */
static int
counter_of(int family, bool from_parser)
{
    return from_parser ? family == SW_PROM_COUNTER : family == SW_EXPO_COUNTER;
}

static void
feed(sw_eval *ev, int64_t start, const char *service, const char *env, uint64_t requests,
     uint64_t errors, uint64_t slow_ms)
{
    sw_sli_interval iv = {.start_ms = start,
                          .length_ms = BASE_MS,
                          .requests = requests,
                          .errors = errors,
                          .has_data = true};
    if (env != NULL || strcmp(service, "api") == 0) {
        assert_int_equal(sw_hdr_new(&sw_hdr_latency_config, &iv.latency, NULL), SW_OK);
        for (uint64_t i = 0; i < requests; i++)
            sw_hdr_record(iv.latency, i % 10 == 0 ? (int64_t)slow_ms * 1000 : 20000 + (int64_t)i);
    }
    assert_int_equal(sw_eval_add(ev, service, env, &iv, NULL), SW_OK);
    sw_sli_interval_fini(&iv);
}

static void
test_visit_matches_text(void **state)
{
    (void)state;
    sw_rules *rules;
    sw_eval *ev;
    assert_int_equal(
        sw_rules_load_mem(rules_text, sizeof rules_text - 1, "visit", &rules, NULL, NULL), SW_OK);
    assert_int_equal(sw_eval_new(rules, &ev, NULL), SW_OK);
    /* Six intervals: green slower and failing more (alert, trigger, gate fail); web without
     * latency; blue only in the first four (NaN SLIs over the 5m window stay possible). */
    for (int k = 0; k < 6; k++) {
        int64_t start = T0 + k * BASE_MS;
        if (k < 4)
            feed(ev, start, "api", "blue", 200, 1, 120);
        feed(ev, start, "api", "green", 150, 12, 900);
        feed(ev, start, "web", NULL, 50, 0, 0);
    }
    assert_int_equal(sw_eval_advance(ev, T0 + 6 * BASE_MS, NULL), SW_OK);
    sw_hdr *values;
    assert_int_equal(sw_hdr_new(&sw_hdr_latency_config, &values, NULL), SW_OK);
    for (int64_t v = 1000; v < 2000000; v = v * 11 / 10 + 1)
        sw_hdr_record(values, v);
    sw_metrics_bounds *bounds; /* the service's classic buckets, as the daemon keeps them */
    assert_int_equal(sw_metrics_bounds_new(rules, &bounds, NULL), SW_OK);
    const double *le;
    size_t n_le = sw_metrics_bounds_of(bounds, "api", &le);
    sw_expo_totals *total;
    assert_int_equal(sw_expo_totals_new(le, n_le, &total, NULL), SW_OK);
    sw_metrics_bounds_free(bounds);
    assert_int_equal(sw_expo_totals_add(total, values, NULL), SW_OK);
    sw_hdr_free(values);
    sw_metrics_series series[] = {
        {.service = "api", .env = "green", .requests = 900, .errors = 72, .latency_totals = total},
        {.service = "web", .requests = 300, .errors = 0}};
    sw_metrics_self self = {.start_ms = T0, .store_ok = true, .evaluation_seconds = 0.125};
    sw_metrics_input mi = {.series = series, .n_series = 2, .self = &self};
    sw_snapshot_input in = {ev, rules, T0 + 6 * BASE_MS, &mi, NULL};
    sw_snapshot *snap;
    assert_int_equal(sw_snapshot_build(&in, &snap, NULL), SW_OK);

    const sw_buf *text, *again;
    assert_int_equal(sw_snapshot_metrics(snap, SW_EXPO_TEXT, &text), SW_SNAPSHOT_FOUND);
    assert_int_equal(sw_snapshot_metrics(snap, SW_EXPO_TEXT, &again), SW_SNAPSHOT_FOUND);
    assert_ptr_equal(text, again); /* kept, not rendered twice */

    samples *from_text = calloc(1, sizeof *from_text), *from_visit = calloc(1, sizeof *from_visit);
    assert_non_null(from_text);
    assert_non_null(from_visit);
    sw_prom_sink sink = {.ctx = from_text, .sample = parsed, .native = NULL};
    assert_int_equal(
        sw_promtext_parse((const char *)text->data, text->len, SW_PROMTEXT_TEXT, &sink, NULL, NULL),
        SW_OK);
    sw_expo_visitor v = {.ctx = from_visit, .sample = visited};
    assert_int_equal(sw_snapshot_metrics_visit(snap, &v), SW_SNAPSHOT_FOUND);

    assert_int_equal(from_visit->n, from_text->n);
    size_t nans = 0, buckets = 0, quantiles = 0;
    for (size_t i = 0; i < from_text->n; i++) {
        const sample *a = &from_text->s[i], *b = &from_visit->s[i];
        if (strcmp(a->key, b->key) != 0)
            fail_msg("sample %zu: text has\n%s\nvisit has\n%s", i, a->key, b->key);
        assert_int_equal(counter_of(a->family, true), counter_of(b->family, false));
        if (isnan(a->value) || isnan(b->value)) {
            assert_true(isnan(a->value) && isnan(b->value));
            nans++;
        } else if (memcmp(&a->value, &b->value, sizeof a->value) != 0) {
            fail_msg("sample %zu (%s): text %.17g, visit %.17g", i, a->key, a->value, b->value);
        }
        buckets += strstr(a->key, "_bucket\n") != NULL;
        quantiles += strstr(a->key, "\nquantile=") != NULL;
    }
    /* The comparison covered what it is about. */
    assert_true(from_text->n > 100);
    assert_true(nans > 0);
    assert_true(buckets > 10);
    assert_true(quantiles > 0);
    free(from_text);
    free(from_visit);
    sw_snapshot_unref(snap);
    sw_expo_totals_free(total);
    sw_eval_free(ev);
    sw_rules_free(rules);
}

static sw_verdict
gate_of(const sw_snapshot *s, const char **json)
{
    size_t len;
    sw_verdict v;
    assert_int_equal(sw_snapshot_gate(s, "api", "green", 0, json, &len, &v), SW_SNAPSHOT_FOUND);
    assert_int_equal(strlen(*json), len);
    return v;
}

/* An evaluator with three good intervals of api/green, a snapshot source and the input of a
 * snapshot at their end (in points into the fixture: it must not move). */
typedef struct three_good {
    sw_rules *rules;
    sw_eval *ev;
    sw_snapshot_source *src;
    sw_metrics_self self;
    sw_metrics_input mi;
    sw_snapshot_input in;
} three_good;

static void
three_good_init(three_good *t)
{
    assert_int_equal(
        sw_rules_load_mem(rules_text, sizeof rules_text - 1, "three", &t->rules, NULL, NULL),
        SW_OK);
    assert_int_equal(sw_eval_new(t->rules, &t->ev, NULL), SW_OK);
    assert_int_equal(sw_snapshot_source_new(&t->src, NULL), SW_OK);
    for (int k = 0; k < 3; k++)
        feed(t->ev, T0 + k * BASE_MS, "api", "green", 150, 0, 100);
    assert_int_equal(sw_eval_advance(t->ev, T0 + 3 * BASE_MS, NULL), SW_OK);
    t->self = (sw_metrics_self){.store_ok = true};
    t->mi = (sw_metrics_input){.self = &t->self};
    t->in = (sw_snapshot_input){t->ev, t->rules, T0 + 3 * BASE_MS, &t->mi, t->src};
}

static void
three_good_fini(three_good *t)
{
    sw_snapshot_source_free(t->src);
    sw_eval_free(t->ev);
    sw_rules_free(t->rules);
}

static void
test_stale_after_write(void **state)
{
    (void)state;
    three_good t;
    three_good_init(&t);
    sw_eval *ev = t.ev;
    sw_snapshot_source *src = t.src;
    sw_snapshot_input in = t.in;
    sw_snapshot *old, *now;
    assert_int_equal(sw_snapshot_build(&in, &old, NULL), SW_OK);
    const char *first, *again;
    sw_verdict before = gate_of(old, &first);
    gate_of(old, &again);
    assert_ptr_equal(first, again); /* kept: the same text, not a second computation */
    assert_non_null(strstr(first, "\"evaluated_at\":\"2026-10-01T00:00:30Z\""));

    /* The tick moves on: green fails its error-rate check from here. */
    sw_snapshot_source_write_begin(src);
    for (int k = 3; k < 6; k++)
        feed(ev, T0 + k * BASE_MS, "api", "green", 150, 30, 100);
    assert_int_equal(sw_eval_advance(ev, T0 + 6 * BASE_MS, NULL), SW_OK);
    in.now_ms = T0 + 6 * BASE_MS;
    assert_int_equal(sw_snapshot_build(&in, &now, NULL), SW_OK);
    sw_snapshot_source_write_end(src);

    const char *json, *kept;
    size_t len;
    sw_verdict v;
    const sw_buf *body;
    /* What old kept it still answers; what it did not is stale. */
    assert_int_equal(gate_of(old, &kept), before);
    assert_ptr_equal(kept, first);
    assert_int_equal(sw_snapshot_gate(old, "api", "blue", 0, &json, &len, &v), SW_SNAPSHOT_STALE);
    assert_int_equal(sw_snapshot_status(old, &body), SW_SNAPSHOT_STALE);
    assert_int_equal(sw_snapshot_metrics(old, SW_EXPO_TEXT, &body), SW_SNAPSHOT_STALE);
    /* Questions it cannot answer at all are told apart without computing. */
    assert_int_equal(sw_snapshot_gate_known(old, "nope", NULL, 0), SW_SNAPSHOT_UNKNOWN_SERVICE);
    assert_int_equal(sw_snapshot_gate(old, "api", "red", 0, &json, &len, &v),
                     SW_SNAPSHOT_UNKNOWN_ENV);
    /* The new snapshot judges the changed evaluator. */
    assert_int_equal(before, SW_VERDICT_PASS);
    assert_int_equal(gate_of(now, &json), SW_VERDICT_FAIL);
    assert_non_null(strstr(json, "\"evaluated_at\":\"2026-10-01T00:01:00Z\""));
    assert_int_equal(sw_snapshot_status(now, &body), SW_SNAPSHOT_FOUND);
    sw_snapshot_unref(old);
    sw_snapshot_unref(now);
    three_good_fini(&t);
}

/* ------------------------------------------------------------------ a tick during a render */

/* The tick thread's side: one write section that moves the evaluator on. */
typedef struct tick_during {
    sw_eval *ev;
    sw_snapshot_source *src;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool started, done;
    samples seen;
} tick_during;

static void *
tick_thread(void *arg)
{
    tick_during *t = arg;
    sw_snapshot_source_write_begin(t->src);
    for (int k = 3; k < 6; k++)
        feed(t->ev, T0 + k * BASE_MS, "api", "green", 150, 30, 100);
    assert_int_equal(sw_eval_advance(t->ev, T0 + 6 * BASE_MS, NULL), SW_OK);
    sw_snapshot_source_write_end(t->src);
    pthread_mutex_lock(&t->lock);
    t->done = true;
    pthread_cond_signal(&t->cond);
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

/* At the first per-series window sample, run a tick and wait for it, within a bound. */
static void
visited_with_tick(void *ctx, sw_expo_type family, const char *name, const sw_expo_label *labels,
                  size_t n, double value)
{
    tick_during *t = ctx;
    visited(&t->seen, family, name, labels, n, value);
    if (t->started || strcmp(name, "slawatch_sli_error_ratio") != 0)
        return;
    t->started = true;
    assert_int_equal(pthread_create(&t->thread, NULL, tick_thread, t), 0);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 60;
    pthread_mutex_lock(&t->lock);
    while (!t->done && pthread_cond_timedwait(&t->cond, &t->lock, &until) == 0)
        ;
    pthread_mutex_unlock(&t->lock);
}

static double
value_of(const samples *s, const char *key)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->s[i].key, key) == 0)
            return s->s[i].value;
    fail_msg("no sample %s", key);
    return NAN;
}

static void
test_tick_during_render(void **state)
{
    (void)state;
    sw_rules *rules;
    tick_during *t = calloc(1, sizeof *t); /* its samples are too big for the stack */
    assert_non_null(t);
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->cond, NULL);
    assert_int_equal(
        sw_rules_load_mem(rules_text, sizeof rules_text - 1, "during", &rules, NULL, NULL), SW_OK);
    assert_int_equal(sw_eval_new(rules, &t->ev, NULL), SW_OK);
    assert_int_equal(sw_snapshot_source_new(&t->src, NULL), SW_OK);
    for (int k = 0; k < 3; k++)
        feed(t->ev, T0 + k * BASE_MS, "api", "green", 150, 0, 100);
    assert_int_equal(sw_eval_advance(t->ev, T0 + 3 * BASE_MS, NULL), SW_OK);
    sw_metrics_self self = {.store_ok = true};
    sw_metrics_input mi = {.self = &self};
    sw_snapshot_input in = {t->ev, rules, T0 + 3 * BASE_MS, &mi, t->src};
    sw_snapshot *old, *now;
    assert_int_equal(sw_snapshot_build(&in, &old, NULL), SW_OK);

    sw_expo_visitor v = {t, visited_with_tick};
    assert_int_equal(sw_snapshot_metrics_visit(old, &v), SW_SNAPSHOT_FOUND);
    pthread_mutex_lock(&t->lock);
    bool done_during = t->done; /* the render was still going: it had not returned */
    pthread_mutex_unlock(&t->lock);
    assert_true(t->started);
    assert_int_equal(pthread_join(t->thread, NULL), 0);
    assert_true(done_during);

    /* The render shows its snapshot: no errors in the 5m window, before the tick's 30 of 150. */
    const char *key = "slawatch_sli_error_ratio\nservice=api\nenv=green\nwindow=5m";
    assert_true(value_of(&t->seen, key) == 0.0);
    assert_true(
        value_of(&t->seen, "slawatch_sli_availability_ratio\nservice=api\nenv=green\nwindow=5m") ==
        1.0);
    /* What the tick changed is there for the next snapshot: 90 errors in 900 requests. */
    samples *after = calloc(1, sizeof *after);
    assert_non_null(after);
    in.now_ms = T0 + 6 * BASE_MS;
    assert_int_equal(sw_snapshot_build(&in, &now, NULL), SW_OK);
    sw_expo_visitor again = {after, visited};
    assert_int_equal(sw_snapshot_metrics_visit(now, &again), SW_SNAPSHOT_FOUND);
    assert_true(value_of(after, key) == 90.0 / 900.0);
    free(after);
    sw_snapshot_unref(old);
    sw_snapshot_unref(now);
    sw_snapshot_source_free(t->src);
    sw_eval_free(t->ev);
    pthread_mutex_destroy(&t->lock);
    pthread_cond_destroy(&t->cond);
    free(t);
    sw_rules_free(rules);
}

typedef struct asker {
    const sw_snapshot *s;
    const char *env;
    sw_snapshot_lookup got;
} asker;

static void *
ask_gate(void *arg)
{
    asker *a = arg;
    const char *json;
    size_t len;
    sw_verdict v;
    a->got = sw_snapshot_gate(a->s, "api", a->env, 0, &json, &len, &v);
    return NULL;
}

/* While the tick holds the evaluator, a gate answer not kept yet is BUSY after a bounded wait
 * (it would otherwise wait for the whole write section); a kept one is answered at once. */
static void
test_gate_busy_during_write(void **state)
{
    (void)state;
    three_good fx;
    three_good_init(&fx);
    sw_snapshot_source *src = fx.src;
    sw_snapshot *snap;
    assert_int_equal(sw_snapshot_build(&fx.in, &snap, NULL), SW_OK);
    const char *kept;
    gate_of(snap, &kept);

    sw_snapshot_source_write_begin(src); /* this thread is the tick, and it does not let go */
    asker a[2] = {{snap, "green", SW_SNAPSHOT_FAILED}, {snap, "blue", SW_SNAPSHOT_FAILED}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, ask_gate, &a[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(a[0].got, SW_SNAPSHOT_FOUND);
    assert_int_equal(a[1].got, SW_SNAPSHOT_BUSY);
    sw_snapshot_source_write_end(src);

    sw_snapshot_unref(snap);
    three_good_fini(&fx);
}

typedef struct window_asker {
    const sw_snapshot *s;
    const char *env;
    int64_t window_ms;
    sw_snapshot_lookup got;
    char json[4096];
} window_asker;

static void *
ask_window(void *arg)
{
    window_asker *a = arg;
    const char *json;
    size_t len;
    sw_verdict v;
    a->got = sw_snapshot_gate(a->s, "api", a->env, a->window_ms, &json, &len, &v);
    if (a->got == SW_SNAPSHOT_FOUND)
        snprintf(a->json, sizeof a->json, "%s", json);
    return NULL;
}

/* The answer of (service, env, window_ms) computed on request from a snapshot without source:
 * the evaluator of in as it stands, at in->now_ms. */
static void
service_on_request(const sw_snapshot_input *in, const char *service, const char *env,
                   int64_t window_ms, char *out, size_t cap)
{
    sw_snapshot_input plain = *in;
    plain.source = NULL;
    sw_snapshot *s;
    assert_int_equal(sw_snapshot_build(&plain, &s, NULL), SW_OK);
    const char *json;
    size_t len;
    sw_verdict v;
    assert_int_equal(sw_snapshot_gate(s, service, env, window_ms, &json, &len, &v),
                     SW_SNAPSHOT_FOUND);
    snprintf(out, cap, "%s", json);
    sw_snapshot_unref(s);
}

static void
answer_on_request(const sw_snapshot_input *in, const char *env, int64_t window_ms, char *out,
                  size_t cap)
{
    service_on_request(in, "api", env, window_ms, out, cap);
}

/*
 * While a tick holds the evaluator, the gate still answers what the tick prepared when it built
 * the snapshot: every window of a series marked in the last hour, and the questions asked of
 * both snapshots before (polled); the same answers as computed on request. A question neither
 * marked nor polled waits (BUSY), which shows the tick really held the evaluator: one asked of
 * the snapshot before only is such a question.
 */
static void
test_gate_answers_during_tick(void **state)
{
    (void)state;
    three_good fx;
    three_good_init(&fx);
    sw_snapshot_input in = fx.in;
    sw_snapshot *zero, *first, *second;
    const char *json;
    size_t len;
    sw_verdict v;
    /* A pipeline polls blue's gate over the rules' window; blue's 5m window is asked once. */
    assert_int_equal(sw_snapshot_build(&in, &zero, NULL), SW_OK);
    assert_int_equal(sw_snapshot_gate(zero, "api", "blue", 0, &json, &len, &v), SW_SNAPSHOT_FOUND);
    sw_snapshot_prepare(zero);
    assert_int_equal(sw_snapshot_build(&in, &first, NULL), SW_OK);
    sw_snapshot_prepare(first);
    assert_int_equal(sw_snapshot_gate(first, "api", "blue", 0, &json, &len, &v), SW_SNAPSHOT_FOUND);
    assert_int_equal(sw_snapshot_gate(first, "api", "blue", 300000, &json, &len, &v),
                     SW_SNAPSHOT_FOUND);

    /* The next tick: green is deployed, and more data comes. */
    sw_snapshot_source_write_begin(fx.src);
    in.now_ms = T0 + 6 * BASE_MS;
    sw_eval_mark_deployment(fx.ev, "api", "green", T0 + 3 * BASE_MS);
    for (int k = 3; k < 6; k++) {
        feed(fx.ev, T0 + k * BASE_MS, "api", "green", 150, 0, 100);
        feed(fx.ev, T0 + k * BASE_MS, "api", "blue", 150, 0, 100);
    }
    assert_int_equal(sw_eval_advance(fx.ev, in.now_ms, NULL), SW_OK);
    assert_int_equal(sw_snapshot_build(&in, &second, NULL), SW_OK);
    sw_snapshot_source_write_end(fx.src);
    sw_snapshot_prepare(second);

    sw_snapshot_source_write_begin(fx.src); /* the tick after it, held by this thread */
    window_asker a[] = {{second, "green", 0, SW_SNAPSHOT_FAILED, ""},
                        {second, "green", 300000, SW_SNAPSHOT_FAILED, ""},
                        {second, "green", 3600000, SW_SNAPSHOT_FAILED, ""},
                        {second, "blue", 0, SW_SNAPSHOT_FAILED, ""},
                        {second, "blue", 300000, SW_SNAPSHOT_FAILED, ""}};
    size_t n = sizeof a / sizeof a[0];
    pthread_t t[sizeof a / sizeof a[0]];
    for (size_t i = 0; i < n; i++)
        assert_int_equal(pthread_create(&t[i], NULL, ask_window, &a[i]), 0);
    for (size_t i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    sw_snapshot_source_write_end(fx.src);
    for (size_t i = 0; i + 1 < n; i++)
        assert_int_equal(a[i].got, SW_SNAPSHOT_FOUND);
    assert_int_equal(a[n - 1].got, SW_SNAPSHOT_BUSY);

    /* Prepared or not, the same answer. */
    for (size_t i = 0; i + 1 < n; i++) {
        char expected[4096];
        answer_on_request(&in, a[i].env, a[i].window_ms, expected, sizeof expected);
        assert_string_equal(a[i].json, expected);
    }
    assert_non_null(strstr(a[0].json, "\"window_limited_by\":\"deployment\""));
    sw_snapshot_unref(zero);
    sw_snapshot_unref(first);
    sw_snapshot_unref(second);
    three_good_fini(&fx);
}

/* ------------------------------------------------------------------ which answers are prepared */

#define SWEPT_SERVICES 30
#define SWEPT_WINDOWS 5 /* the rules' 10m and the other offered windows */

typedef struct question_asker {
    const sw_snapshot *s;
    char service[16];
    int64_t window_ms;
    sw_snapshot_lookup got;
    char json[4096];
} question_asker;

static void *
ask_question(void *arg)
{
    question_asker *a = arg;
    const char *json;
    size_t len;
    sw_verdict v;
    a->got = sw_snapshot_gate(a->s, a->service, NULL, a->window_ms, &json, &len, &v);
    if (a->got == SW_SNAPSHOT_FOUND)
        snprintf(a->json, sizeof a->json, "%s", json);
    return NULL;
}

/* Every question of the sweep asked of s once, and s7's rules window `polls` times. */
static void
sweep(const sw_snapshot *s, int polls)
{
    static const int64_t windows[SWEPT_WINDOWS] = {300000, 600000, 900000, 1800000, 3600000};
    const char *json;
    size_t len;
    sw_verdict v;
    for (int k = 0; k < SWEPT_SERVICES; k++)
        for (int w = 0; w < SWEPT_WINDOWS; w++) {
            char name[16];
            snprintf(name, sizeof name, "s%d", k);
            assert_int_equal(sw_snapshot_gate(s, name, NULL, windows[w], &json, &len, &v),
                             SW_SNAPSHOT_FOUND);
        }
    for (int i = 1; i < polls; i++)
        assert_int_equal(sw_snapshot_gate(s, "s7", NULL, 0, &json, &len, &v), SW_SNAPSHOT_FOUND);
}

/* slawatch_gate_prepared_total in s's /metrics text. */
static double
prepared_total(const sw_snapshot *s)
{
    const sw_buf *body;
    assert_int_equal(sw_snapshot_metrics(s, SW_EXPO_TEXT, &body), SW_SNAPSHOT_FOUND);
    const char *at = strstr((const char *)body->data, "\nslawatch_gate_prepared_total ");
    assert_non_null(at);
    return strtod(at + strlen("\nslawatch_gate_prepared_total "), NULL);
}

/*
 * A probe sweeping every service's gate asks each question about once a tick: asked of two
 * snapshots in a row, it is not a poll. Of those, the tick prepares the
 * SW_SNAPSHOT_PREPARE_POLLED_MAX asked most often of the last snapshot (a pipeline's, asked
 * several times a tick, among them), besides every window of a series marked in the last hour;
 * the rest are computed on request, the same answers. Shown with the tick holding the
 * evaluator: only prepared answers are found then, the others are BUSY. Main prepared all 150.
 */
static void
test_sweep_prepares_polled_asked_most(void **state)
{
    (void)state;
    sw_buf text;
    sw_buf_init(&text, 1 << 20);
    sw_buf_printf(&text, NULL, "version: 1\nbase_interval: 10s\nmin_requests: 10\nservices:\n");
    for (int k = 0; k < SWEPT_SERVICES; k++)
        sw_buf_printf(&text, NULL, "  - {name: s%d, sli: {requests: {push: true}}}\n", k);
    sw_buf_printf(&text, NULL, "gate: {window: 10m, checks: ['error_rate <= 1%%']}\n");
    sw_rules *rules;
    sw_eval *ev;
    sw_snapshot_source *src;
    assert_int_equal(
        sw_rules_load_mem((const char *)text.data, text.len, "swept", &rules, NULL, NULL), SW_OK);
    assert_int_equal(sw_eval_new(rules, &ev, NULL), SW_OK);
    assert_int_equal(sw_snapshot_source_new(&src, NULL), SW_OK);
    for (int k = 0; k < SWEPT_SERVICES; k++) {
        char name[16];
        snprintf(name, sizeof name, "s%d", k);
        for (int i = 0; i < 3; i++)
            feed(ev, T0 + i * BASE_MS, name, NULL, 150, k % 3, 0);
    }
    assert_int_equal(sw_eval_advance(ev, T0 + 3 * BASE_MS, NULL), SW_OK);
    sw_metrics_self self = {.store_ok = true};
    sw_metrics_input mi = {.self = &self};
    sw_snapshot_input in = {ev, rules, T0 + 3 * BASE_MS, &mi, src};
    sw_snapshot *zero, *first, *second;
    assert_int_equal(sw_snapshot_build(&in, &zero, NULL), SW_OK);
    sweep(zero, 3);
    sw_snapshot_prepare(zero);
    assert_int_equal(sw_snapshot_build(&in, &first, NULL), SW_OK);
    sw_snapshot_prepare(first);
    sweep(first, 3);
    sw_snapshot_source_write_begin(src); /* the next tick: s3 is deployed */
    sw_eval_mark_deployment(ev, "s3", NULL, T0 + 2 * BASE_MS);
    assert_int_equal(sw_eval_advance(ev, in.now_ms, NULL), SW_OK);
    assert_int_equal(sw_snapshot_build(&in, &second, NULL), SW_OK);
    sw_snapshot_source_write_end(src);
    sw_snapshot_prepare(second);
    assert_int_equal(prepared_total(second), SW_SNAPSHOT_PREPARE_POLLED_MAX + SWEPT_WINDOWS);

    /* Held by the tick after it: what was prepared is found, the rest waits. */
    static const int64_t windows[SWEPT_WINDOWS] = {300000, 600000, 900000, 1800000, 3600000};
    enum { N = SWEPT_SERVICES * SWEPT_WINDOWS };
    question_asker *a = calloc(N, sizeof *a);
    pthread_t t[N];
    assert_non_null(a);
    sw_snapshot_source_write_begin(src);
    for (int i = 0; i < N; i++) {
        a[i].s = second;
        snprintf(a[i].service, sizeof a[i].service, "s%d", i / SWEPT_WINDOWS);
        a[i].window_ms = windows[i % SWEPT_WINDOWS];
        assert_int_equal(pthread_create(&t[i], NULL, ask_question, &a[i]), 0);
    }
    for (int i = 0; i < N; i++)
        pthread_join(t[i], NULL);
    sw_snapshot_source_write_end(src);
    int found = 0, busy = -1;
    for (int i = 0; i < N; i++) {
        found += a[i].got == SW_SNAPSHOT_FOUND;
        bool marked_or_polled = i / SWEPT_WINDOWS == 3 || (i / SWEPT_WINDOWS == 7 && i % 5 == 1);
        if (marked_or_polled)
            assert_int_equal(a[i].got, SW_SNAPSHOT_FOUND);
        else if (a[i].got == SW_SNAPSHOT_BUSY)
            busy = i;
        else
            assert_int_equal(a[i].got, SW_SNAPSHOT_FOUND);
    }
    assert_int_equal(found, SW_SNAPSHOT_PREPARE_POLLED_MAX + SWEPT_WINDOWS);
    /* Prepared (through the tick's scratch) or computed when asked of the next snapshot, the
     * answer of a snapshot without source. */
    char expected[4096];
    for (int i = 0; i < N; i++)
        if (a[i].got == SW_SNAPSHOT_FOUND) {
            service_on_request(&in, a[i].service, NULL, a[i].window_ms, expected, sizeof expected);
            assert_string_equal(a[i].json, expected);
        }
    assert_true(busy >= 0);
    sw_snapshot *third;
    assert_int_equal(sw_snapshot_build(&in, &third, NULL), SW_OK);
    a[busy].s = third;
    ask_question(&a[busy]);
    assert_int_equal(a[busy].got, SW_SNAPSHOT_FOUND);
    service_on_request(&in, a[busy].service, NULL, a[busy].window_ms, expected, sizeof expected);
    assert_string_equal(a[busy].json, expected);
    sw_snapshot_unref(third);
    free(a);
    sw_snapshot_unref(zero);
    sw_snapshot_unref(first);
    sw_snapshot_unref(second);
    sw_snapshot_source_free(src);
    sw_eval_free(ev);
    sw_rules_free(rules);
    sw_buf_fini(&text);
}

/* ------------------------------------------------------------------ the gate during a tick */

/* Both services' data up to T0 + k_end * BASE_MS: api's two environments (green with errors
 * from bad_from on) and web. */
static void
feed_both(sw_eval *ev, int k_from, int k_end, int bad_from)
{
    for (int k = k_from; k < k_end; k++) {
        feed(ev, T0 + k * BASE_MS, "api", "green", 150, k >= bad_from ? 30 : 0, 100);
        feed(ev, T0 + k * BASE_MS, "api", "blue", 150, 0, 100);
        feed(ev, T0 + k * BASE_MS, "web", NULL, 150, 0, 0);
    }
}

typedef struct service_asker {
    const sw_snapshot *s;
    const char *service, *env;
    sw_snapshot_lookup got;
    char json[4096];
} service_asker;

static void *
ask_service(void *arg)
{
    service_asker *a = arg;
    const char *json;
    size_t len;
    sw_verdict v;
    a->got = sw_snapshot_gate(a->s, a->service, a->env, 0, &json, &len, &v);
    if (a->got == SW_SNAPSHOT_FOUND)
        snprintf(a->json, sizeof a->json, "%s", json);
    return NULL;
}

/* a's question asked and answered on a thread of its own (this one may be the writer). */
static void
ask_from_another_thread(service_asker *a)
{
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, ask_service, a), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
}

/* Service k of the tick: its rows fed and its series evaluated, in its stripe. */
static void
step_service(sw_snapshot_source *src, sw_eval *ev, size_t k, int bad_from)
{
    sw_snapshot_source_service_begin(src, k);
    if (k == 0) {
        for (int i = 3; i < 6; i++) {
            feed(ev, T0 + i * BASE_MS, "api", "green", 150, i >= bad_from ? 30 : 0, 100);
            feed(ev, T0 + i * BASE_MS, "api", "blue", 150, 0, 100);
        }
    } else {
        for (int i = 3; i < 6; i++)
            feed(ev, T0 + i * BASE_MS, "web", NULL, 150, 0, 0);
    }
    assert_int_equal(sw_eval_step_service(ev, k, NULL), SW_OK);
    sw_snapshot_source_service_end(src, k);
}

/*
 * A tick steps the services one at a time (sw_eval_step_*), the write section open between
 * steps. Asked of the snapshot before the tick, an answer not kept yet is computed at once (no
 * BUSY) from the service's state at that moment, and equals what is computed on request from
 * that state by an evaluator advanced the ordinary way (sw_eval_advance, no source):
 * - api, stepped: fed and evaluated at the tick's time T0+60s, where green's errors fail its
 *   gate: the answer of a twin evaluator fed the same intervals and advanced to T0+60s;
 * - web, not stepped yet: untouched since the last tick, so the answer at T0+30s, the one the
 *   evaluator gave before the tick began.
 * While the tick holds web's stripe (feeding it), web's question is the bounded BUSY; once the
 * tick is over the evaluator says what the twin says for both.
 */
static void
test_gate_answers_while_stepping(void **state)
{
    (void)state;
    sw_rules *rules;
    sw_eval *ev, *twin;
    sw_snapshot_source *src;
    assert_int_equal(
        sw_rules_load_mem(rules_text, sizeof rules_text - 1, "steps", &rules, NULL, NULL), SW_OK);
    assert_int_equal(sw_eval_new(rules, &ev, NULL), SW_OK);
    assert_int_equal(sw_eval_new(rules, &twin, NULL), SW_OK);
    assert_int_equal(sw_snapshot_source_new(&src, NULL), SW_OK);
    int bad_from = 3;
    feed_both(ev, 0, 3, bad_from);
    assert_int_equal(sw_eval_advance(ev, T0 + 3 * BASE_MS, NULL), SW_OK);
    sw_metrics_self self = {.store_ok = true};
    sw_metrics_input mi = {.self = &self};
    sw_snapshot_input in = {ev, rules, T0 + 3 * BASE_MS, &mi, src};
    sw_snapshot *before;
    assert_int_equal(sw_snapshot_build(&in, &before, NULL), SW_OK);
    char web_before[4096], green_before[4096];
    service_on_request(&in, "web", NULL, 0, web_before, sizeof web_before);
    service_on_request(&in, "api", "green", 0, green_before, sizeof green_before);

    /* The twin: the same intervals, one ordinary advance to the tick's time. */
    feed_both(twin, 0, 6, bad_from);
    assert_int_equal(sw_eval_advance(twin, T0 + 6 * BASE_MS, NULL), SW_OK);
    sw_snapshot_input twin_in = {twin, rules, T0 + 6 * BASE_MS, &mi, NULL};
    char web_after[4096], green_after[4096];
    service_on_request(&twin_in, "web", NULL, 0, web_after, sizeof web_after);
    service_on_request(&twin_in, "api", "green", 0, green_after, sizeof green_after);
    assert_string_not_equal(green_before, green_after);

    /* The tick, on this thread: series declared, then api (service 0) stepped. */
    sw_snapshot_source_write_begin_stepwise(src);
    size_t k;
    assert_int_equal(sw_eval_step_series(ev, "api", "green", &k, NULL), SW_OK);
    assert_int_equal(k, 0);
    assert_int_equal(sw_eval_step_series(ev, "web", NULL, &k, NULL), SW_OK);
    assert_int_equal(k, 1);
    assert_int_equal(sw_eval_step_begin(ev, T0 + 6 * BASE_MS, NULL), SW_OK);
    sw_snapshot_source_open(src);
    step_service(src, ev, 0, bad_from);

    service_asker green = {before, "api", "green", SW_SNAPSHOT_FAILED, ""};
    service_asker web = {before, "web", NULL, SW_SNAPSHOT_FAILED, ""};
    ask_from_another_thread(&green);
    ask_from_another_thread(&web);
    assert_int_equal(green.got, SW_SNAPSHOT_FOUND);
    assert_string_equal(green.json, green_after);
    assert_non_null(strstr(green.json, "\"verdict\":\"fail\""));
    assert_non_null(strstr(green.json, "\"evaluated_at\":\"2026-10-01T00:01:00Z\""));
    assert_int_equal(web.got, SW_SNAPSHOT_FOUND);
    assert_string_equal(web.json, web_before);
    assert_non_null(strstr(web.json, "\"evaluated_at\":\"2026-10-01T00:00:30Z\""));

    /* web being fed: its question waits, bounded. */
    sw_snapshot_source_service_begin(src, 1);
    service_asker held = {before, "web", NULL, SW_SNAPSHOT_FAILED, ""};
    ask_from_another_thread(&held);
    assert_int_equal(held.got, SW_SNAPSHOT_BUSY);
    sw_snapshot_source_service_end(src, 1);

    step_service(src, ev, 1, bad_from);
    sw_snapshot_source_close(src);
    assert_int_equal(sw_eval_step_end(ev, NULL), SW_OK);
    sw_snapshot_source_write_end(src);

    /* The stepped evaluator is the twin. */
    in.now_ms = T0 + 6 * BASE_MS;
    in.source = NULL;
    char mine[4096];
    service_on_request(&in, "web", NULL, 0, mine, sizeof mine);
    assert_string_equal(mine, web_after);
    service_on_request(&in, "api", "green", 0, mine, sizeof mine);
    assert_string_equal(mine, green_after);
    sw_snapshot_unref(before);
    sw_snapshot_source_free(src);
    sw_eval_free(twin);
    sw_eval_free(ev);
    sw_rules_free(rules);
}

/* ------------------------------------------------------------------ the gate during /metrics */

/* A render that stops at its first sample (the evaluator's lock held) until released, and a
 * tick that waits for that lock. */
typedef struct held_render {
    const sw_snapshot *s;
    sw_snapshot_source *src;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool holding, release;
    atomic_int tick_tid;
    samples *seen;
} held_render;

/* The text render of test_second_scrape_leaves_the_lock_to_the_tick, held once it has left the
 * evaluator's lock and writes the per-series families (the test links with
 * --wrap=sw_metrics_write_gathered): NULL while no test holds renders. */
static held_render *gathered_hold;

sw_status __real_sw_metrics_write_gathered(sw_expo *e, const sw_metrics_view *v, sw_err *err);
sw_status __wrap_sw_metrics_write_gathered(sw_expo *e, const sw_metrics_view *v, sw_err *err);

static bool
until_flag(held_render *h, const bool *flag)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 60;
    pthread_mutex_lock(&h->lock);
    while (!*flag && pthread_cond_timedwait(&h->cond, &h->lock, &until) == 0)
        ;
    bool set = *flag;
    pthread_mutex_unlock(&h->lock);
    return set;
}

static void
set_flag(held_render *h, bool *flag)
{
    pthread_mutex_lock(&h->lock);
    *flag = true;
    pthread_cond_broadcast(&h->cond);
    pthread_mutex_unlock(&h->lock);
}

sw_status
__wrap_sw_metrics_write_gathered(sw_expo *e, const sw_metrics_view *v, sw_err *err)
{
    held_render *h = gathered_hold;
    if (h != NULL && !h->holding) {
        set_flag(h, &h->holding);
        assert_true(until_flag(h, &h->release));
    }
    return __real_sw_metrics_write_gathered(e, v, err);
}

static void
visited_held(void *ctx, sw_expo_type family, const char *name, const sw_expo_label *labels,
             size_t n, double value)
{
    held_render *h = ctx;
    visited(h->seen, family, name, labels, n, value);
    if (h->holding)
        return;
    set_flag(h, &h->holding);
    assert_true(until_flag(h, &h->release));
}

static void *
render_held(void *arg)
{
    held_render *h = arg;
    sw_expo_visitor v = {h, visited_held};
    assert_int_equal(sw_snapshot_metrics_visit(h->s, &v), SW_SNAPSHOT_FOUND);
    return NULL;
}

static void *
tick_waiting(void *arg)
{
    held_render *h = arg;
    atomic_store(&h->tick_tid, (int)syscall(SYS_gettid));
    sw_snapshot_source_write_begin_stepwise(h->src);
    sw_snapshot_source_write_end(h->src);
    return NULL;
}

/* Whether thread tid of this process sleeps (state S: blocked), polled for up to 10 s. */
static bool
thread_sleeps(int tid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
    for (int i = 0; i < 10000; i++) {
        char line[512] = "";
        FILE *f = fopen(path, "r");
        if (f != NULL) {
            if (fgets(line, sizeof line, f) == NULL)
                line[0] = '\0';
            fclose(f);
        }
        const char *end = strrchr(line, ')');
        if (end != NULL && end[1] == ' ' && end[2] == 'S')
            return true;
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    return false;
}

/*
 * A /metrics render holds the evaluator while it gathers, and the tick waits for it (the lock
 * prefers writers, so every new reader of the whole evaluator waits behind that tick). A gate
 * answer not kept yet does not: it is computed at once from the evaluator as the render sees it
 * (nothing has changed: the tick has not begun), the answer computed on request.
 */
static void
test_gate_answers_while_metrics_renders(void **state)
{
    (void)state;
    three_good fx;
    three_good_init(&fx);
    sw_snapshot *snap;
    assert_int_equal(sw_snapshot_build(&fx.in, &snap, NULL), SW_OK);
    char expected[4096];
    service_on_request(&fx.in, "web", NULL, 0, expected, sizeof expected);
    held_render *h = calloc(1, sizeof *h);
    assert_non_null(h);
    h->seen = calloc(1, sizeof *h->seen);
    assert_non_null(h->seen);
    h->s = snap;
    h->src = fx.src;
    pthread_mutex_init(&h->lock, NULL);
    pthread_cond_init(&h->cond, NULL);
    pthread_t render, tick;
    assert_int_equal(pthread_create(&render, NULL, render_held, h), 0);
    assert_true(until_flag(h, &h->holding));
    assert_int_equal(pthread_create(&tick, NULL, tick_waiting, h), 0);
    while (atomic_load(&h->tick_tid) == 0)
        sched_yield();
    assert_true(thread_sleeps(atomic_load(&h->tick_tid))); /* in the write lock's wait */

    service_asker web = {snap, "web", NULL, SW_SNAPSHOT_FAILED, ""};
    ask_service(&web);
    assert_int_equal(web.got, SW_SNAPSHOT_FOUND);
    assert_string_equal(web.json, expected);

    set_flag(h, &h->release);
    assert_int_equal(pthread_join(render, NULL), 0);
    assert_int_equal(pthread_join(tick, NULL), 0);
    pthread_mutex_destroy(&h->lock);
    pthread_cond_destroy(&h->cond);
    free(h->seen);
    free(h);
    sw_snapshot_unref(snap);
    three_good_fini(&fx);
}

typedef struct scrape {
    const sw_snapshot *s;
    atomic_int tid;
    sw_snapshot_lookup got;
    const sw_buf *body;
} scrape;

static void *
scrape_text(void *arg)
{
    scrape *sc = arg;
    atomic_store(&sc->tid, (int)syscall(SYS_gettid));
    sc->got = sw_snapshot_metrics(sc->s, SW_EXPO_TEXT, &sc->body);
    return NULL;
}

typedef struct tick_entry {
    sw_snapshot_source *src;
    atomic_bool in_section;
    atomic_bool leave;
} tick_entry;

static void *
tick_enters(void *arg)
{
    tick_entry *t = arg;
    sw_snapshot_source_write_begin(t->src);
    atomic_store(&t->in_section, true);
    while (!atomic_load(&t->leave))
        sched_yield();
    sw_snapshot_source_write_end(t->src);
    return NULL;
}

/* Whether flag is set within 10 s. */
static bool
becomes_true(atomic_bool *flag)
{
    for (int i = 0; i < 10000 && !atomic_load(flag); i++) {
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    return atomic_load(flag);
}

/*
 * Two scrapes of /metrics in one snapshot render it once: the second waits for the first's
 * body. The first has left the evaluator's lock once it writes the per-series families, so a
 * tick begins then; the second, waiting, must not hold that lock either (it held it, and the
 * tick waited for the whole rest of the render). Both get the one body.
 */
static void
test_second_scrape_leaves_the_lock_to_the_tick(void **state)
{
    (void)state;
    three_good fx;
    three_good_init(&fx);
    sw_snapshot *snap;
    assert_int_equal(sw_snapshot_build(&fx.in, &snap, NULL), SW_OK);
    held_render *h = calloc(1, sizeof *h);
    assert_non_null(h);
    pthread_mutex_init(&h->lock, NULL);
    pthread_cond_init(&h->cond, NULL);
    gathered_hold = h;
    scrape first = {snap, 0, SW_SNAPSHOT_FAILED, NULL};
    scrape second = {snap, 0, SW_SNAPSHOT_FAILED, NULL};
    pthread_t t1, t2, tick;
    assert_int_equal(pthread_create(&t1, NULL, scrape_text, &first), 0);
    assert_true(until_flag(h, &h->holding));
    assert_int_equal(pthread_create(&t2, NULL, scrape_text, &second), 0);
    while (atomic_load(&second.tid) == 0)
        sched_yield();
    assert_true(thread_sleeps(atomic_load(&second.tid))); /* waiting for the first's body */

    tick_entry te = {.src = fx.src};
    assert_int_equal(pthread_create(&tick, NULL, tick_enters, &te), 0);
    bool entered = becomes_true(&te.in_section);
    set_flag(h, &h->release);
    atomic_store(&te.leave, true);
    assert_int_equal(pthread_join(t1, NULL), 0);
    assert_int_equal(pthread_join(t2, NULL), 0);
    assert_int_equal(pthread_join(tick, NULL), 0);
    gathered_hold = NULL;
    assert_true(entered);
    assert_int_equal(first.got, SW_SNAPSHOT_FOUND);
    assert_int_equal(second.got, SW_SNAPSHOT_FOUND);
    assert_ptr_equal(first.body, second.body);
    assert_true(first.body->len > 0);

    pthread_mutex_destroy(&h->lock);
    pthread_cond_destroy(&h->cond);
    free(h);
    sw_snapshot_unref(snap);
    three_good_fini(&fx);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_visit_matches_text),
        cmocka_unit_test(test_stale_after_write),
        cmocka_unit_test(test_tick_during_render),
        cmocka_unit_test(test_gate_busy_during_write),
        cmocka_unit_test(test_gate_answers_during_tick),
        cmocka_unit_test(test_sweep_prepares_polled_asked_most),
        cmocka_unit_test(test_gate_answers_while_stepping),
        cmocka_unit_test(test_gate_answers_while_metrics_renders),
        cmocka_unit_test(test_second_scrape_leaves_the_lock_to_the_tick),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
