/*
 * Unit tests for the rebuild's fast feed: intervals whose latency is still in the store's
 * encoding (sw_eval_add_encoded, packed from the encoding without a decoded histogram) must
 * leave the evaluator exactly as the same intervals fed decoded (sw_eval_add) do. Two evaluators
 * get the same random intervals, one each way, as a rebuild feeds them (hourly rows, then base
 * rows) and then as a live run does; every objective (measured value, samples, coverage, budget,
 * burn rate), alert and trigger result, and the gate's percentiles, are compared bit for bit.
 * The truth is the decoded path, which the evaluator's own tests check against independent
 * computations.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "slawatch/eval.h"
#include "slawatch/hdr_codec.h"
#include "slawatch/rng.h"
#include "slawatch/rules.h"

#include "random_interval.h"

#define SEC INT64_C(1000)
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)
#define BASE (10 * SEC)
/* 2026-11-26 00:00:00 UTC: the month's window holds days of hourly rows before the base rows. */
#define START INT64_C(1795651200000)

/* Latency objectives at several thresholds (their budgets count values above each), rolling
 * and calendar windows, percentile and burn-rate alerts, triggers: everything a histogram
 * reaches. */
static const char rules_text[] =
    "version: 1\n"
    "base_interval: 10s\n"
    "min_requests: 10\n"
    "services:\n"
    "  - name: api\n"
    "    environments: [blue, green]\n"
    "    sli: {requests: {push: true}, errors: {push: true}, latency: {push: true}}\n"
    "  - name: web\n"
    "    sli: {requests: {push: true}, errors: {push: true}, latency: {push: true}}\n"
    "objectives:\n"
    "  - name: availability\n"
    "    objective: availability >= 99.9%\n"
    "    window: month\n"
    "  - name: latency-p95\n"
    "    objective: p95 <= 120ms\n"
    "    window: month\n"
    "  - name: latency-p99-week\n"
    "    objective: p99 <= 250ms\n"
    "    window: 7d\n"
    "  - name: latency-p90-day\n"
    "    objective: p90 < 100ms\n"
    "    window: 1d\n"
    "alerts:\n"
    "  - name: LatencyP95High\n"
    "    when: p95 > 110ms\n"
    "    for: 2m\n"
    "  - name: LatencyP50Over\n"
    "    when: p50 > 85ms\n"
    "    over: 5m\n"
    "  - name: ErrorBudgetBurn1h\n"
    "    burn_rate: 2\n"
    "    objective: availability\n"
    "    long: 1h\n"
    "    short: 5m\n"
    "rollback_triggers:\n"
    "  - name: LatencyP95Spike\n"
    "    when: p95 > 115ms\n"
    "    for: 1m\n"
    "gate:\n"
    "  window: 10m\n"
    "  min_requests: 10\n"
    "  checks:\n"
    "    - p95 <= 500ms\n";

static const struct {
    const char *service, *env;
} series[] = {{"api", "blue"}, {"api", "green"}, {"web", NULL}};
#define N_SERIES (sizeof series / sizeof series[0])

typedef struct fx {
    sw_rules *rules;
    sw_eval *decoded, *encoded;
    sw_rng rng;
    sw_buf enc;
} fx;

static int
setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    sw_err err = {0};
    assert_int_equal(
        sw_rules_load_mem(rules_text, strlen(rules_text), "test", &f->rules, NULL, &err), SW_OK);
    assert_int_equal(sw_eval_new(f->rules, &f->decoded, &err), SW_OK);
    assert_int_equal(sw_eval_new(f->rules, &f->encoded, &err), SW_OK);
    sw_buf_init(&f->enc, 1u << 24);
    f->rng.state = 20261207;
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fx *f = *state;
    sw_eval_free(f->decoded);
    sw_eval_free(f->encoded);
    sw_rules_free(f->rules);
    sw_buf_fini(&f->enc);
    free(f);
    return 0;
}

/* The same interval into both evaluators: decoded, and as its stored encoding. */
static void
feed_both(fx *f, int64_t start, int64_t length)
{
    for (size_t i = 0; i < N_SERIES; i++) {
        sw_sli_interval iv;
        sw_hdr *h = sw_test_random_interval(&f->rng, start, length, BASE, &iv);
        sw_err err = {0};
        assert_int_equal(sw_eval_add(f->decoded, series[i].service, series[i].env, &iv, &err),
                         SW_OK);
        const uint8_t *lat = NULL;
        size_t len = 0;
        if (iv.latency != NULL) {
            sw_buf_reset(&f->enc);
            /* The store writes plain encodings; compressed ones take the same path. */
            bool compressed = sw_rng_next(&f->rng) % 4 == 0;
            assert_int_equal(sw_hdr_encode(iv.latency, compressed, &f->enc, &err), SW_OK);
            lat = f->enc.data;
            len = f->enc.len;
        }
        iv.latency = NULL;
        assert_int_equal(
            sw_eval_add_encoded(f->encoded, series[i].service, series[i].env, &iv, lat, len, &err),
            SW_OK);
        sw_hdr_free(h);
    }
}

static void
assert_same_double(double a, double b)
{
    if (isnan(a) && isnan(b))
        return;
    assert_memory_equal(&a, &b, sizeof a);
}

static void
assert_same_alert(const sw_alert_result *a, const sw_alert_result *b)
{
    assert_int_equal(a->state, b->state);
    assert_int_equal(a->active_since_ms, b->active_since_ms);
    assert_int_equal(a->last_fired_ms, b->last_fired_ms);
    assert_int_equal(a->last_resolved_ms, b->last_resolved_ms);
    assert_same_double(a->measured, b->measured);
    assert_same_double(a->measured_short, b->measured_short);
}

static void
assert_same_objective(const sw_objective_result *a, const sw_objective_result *b)
{
    assert_int_equal(a->window_start_ms, b->window_start_ms);
    assert_int_equal(a->window_end_ms, b->window_end_ms);
    assert_same_double(a->measured, b->measured);
    assert_int_equal(a->has_verdict, b->has_verdict);
    assert_int_equal(a->met, b->met);
    assert_int_equal(a->samples, b->samples);
    assert_same_double(a->coverage, b->coverage);
    assert_same_double(a->budget_remaining, b->budget_remaining);
    assert_same_double(a->burn_rate, b->burn_rate);
    assert_same_double(a->time_to_exhaustion_s, b->time_to_exhaustion_s);
    assert_same_double(a->downtime_s, b->downtime_s);
}

static void
assert_same_gate(const fx *f, size_t i)
{
    sw_gate_result a, b;
    sw_err err = {0};
    assert_int_equal(sw_eval_gate(f->decoded, series[i].service, series[i].env, 10 * MIN, &a, &err),
                     SW_OK);
    assert_int_equal(sw_eval_gate(f->encoded, series[i].service, series[i].env, 10 * MIN, &b, &err),
                     SW_OK);
    assert_int_equal(a.verdict, b.verdict);
    assert_string_equal(a.reason, b.reason);
    assert_int_equal(a.n_checks, b.n_checks);
    for (size_t c = 0; c < a.n_checks; c++) {
        assert_same_double(a.checks[c].measured, b.checks[c].measured);
        assert_int_equal(a.checks[c].samples, b.checks[c].samples);
    }
}

/* Advance both to now; every result the same. Returns how many latency objectives had a value
 * (so a test cannot pass by comparing nothing). */
static size_t
advance_and_compare(fx *f, int64_t now)
{
    sw_err err = {0};
    assert_int_equal(sw_eval_advance(f->decoded, now, &err), SW_OK);
    assert_int_equal(sw_eval_advance(f->encoded, now, &err), SW_OK);
    assert_int_equal(sw_eval_series_count(f->decoded), sw_eval_series_count(f->encoded));
    size_t measured = 0;
    for (size_t i = 0; i < sw_eval_series_count(f->decoded); i++) {
        sw_series_result a, b;
        sw_eval_series(f->decoded, i, &a);
        sw_eval_series(f->encoded, i, &b);
        assert_string_equal(a.service, b.service);
        assert_same_double(a.coverage, b.coverage);
        for (size_t k = 0; k < a.rules->n_objectives; k++) {
            assert_same_objective(&a.objectives[k], &b.objectives[k]);
            measured += a.objectives[k].objective->objective.sli == SW_SLI_LATENCY &&
                        !isnan(a.objectives[k].measured);
        }
        for (size_t k = 0; k < a.rules->n_alerts; k++)
            assert_same_alert(&a.alerts[k], &b.alerts[k]);
        for (size_t k = 0; k < a.rules->n_triggers; k++) {
            assert_int_equal(a.triggers[k].fired, b.triggers[k].fired);
            assert_int_equal(a.triggers[k].fired_at_ms, b.triggers[k].fired_at_ms);
            assert_int_equal(a.triggers[k].state, b.triggers[k].state);
        }
    }
    for (size_t i = 0; i < N_SERIES; i++)
        assert_same_gate(f, i);
    return measured;
}

/* As a rebuild feeds (hours for the month so far, base intervals for the last two hours), then
 * as a live run goes on (base intervals, advancing at each), the two evaluators agree. */
static void
test_encoded_feed_equals_decoded(void **state)
{
    fx *f = *state;
    int64_t fine_from = START + 10 * DAY;
    for (int64_t t = START; t < fine_from; t += HOUR)
        feed_both(f, t, HOUR);
    int64_t t = fine_from;
    for (; t < fine_from + 2 * HOUR; t += BASE)
        feed_both(f, t, BASE);
    assert_true(advance_and_compare(f, t) > 0);
    for (int64_t end = t + 10 * MIN; t < end; t += BASE) {
        feed_both(f, t, BASE);
        advance_and_compare(f, t + BASE);
    }
}

/* A bad encoding is refused with the decoder's status and feeds nothing: the series takes the
 * same interval afterwards, well formed. */
static void
test_bad_encoding_feeds_nothing(void **state)
{
    fx *f = *state;
    sw_sli_interval iv = {.start_ms = START, .length_ms = BASE, .has_data = true, .requests = 5};
    static const uint8_t truncated[] = {0x1c, 0x84, 0x93, 0x13, 0x00, 0x00};
    sw_err err = {0};
    sw_status st =
        sw_eval_add_encoded(f->encoded, "web", NULL, &iv, truncated, sizeof truncated, &err);
    assert_int_not_equal(st, SW_OK);
    assert_int_not_equal(st, SW_E_INVAL); /* the rebuild tells it from an unknown service */
    assert_int_equal(sw_eval_add_encoded(f->encoded, "web", NULL, &iv, NULL, 0, &err), SW_OK);
    assert_int_equal(sw_eval_add_encoded(f->encoded, "gone", NULL, &iv, NULL, 0, &err), SW_E_INVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_encoded_feed_equals_decoded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_encoding_feeds_nothing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
