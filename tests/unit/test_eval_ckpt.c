/*
 * Unit tests for the evaluator's checkpoint (eval_ckpt.h): an evaluator saved and loaded at
 * random moments of a run (a restart from a checkpoint) and then fed and advanced like one that
 * ran without stopping must give the same results, bit for bit: every objective (measured
 * value, samples, coverage, budget, burn rate, downtime), alert and trigger state with its
 * timers, and the deployment gate's checks and verdict. The truth is the uninterrupted
 * evaluator. The rules reach every kind of state: calendar and rolling (hourly) latency
 * windows, sliding alert windows, timeslice and throughput slices, maintenance, burn-rate
 * alerts, rollback triggers, a deployment mark with a compared gate. A saved state loaded and
 * saved again gives the same bytes; damaged bytes are refused or load without harm.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "slawatch/eval.h"
#include "slawatch/eval_ckpt.h"
#include "slawatch/rng.h"
#include "slawatch/rules.h"

#include "eval_assert.h"
#include "random_interval.h"

#define SEC INT64_C(1000)
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)
#define BASE (10 * SEC)
/* 2026-11-26 00:00:00 UTC; hourly rows for ten days, then base intervals from 2026-12-06. */
#define START INT64_C(1795651200000)
#define FINE_FROM (START + 10 * DAY)
#define MARK_AT (FINE_FROM + 50 * MIN)

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
    "    maintenance:\n"
    "      - start: 2026-12-06T01:00:00Z\n"
    "        end: 2026-12-06T01:30:00Z\n"
    "        reason: test\n"
    "objectives:\n"
    "  - name: availability\n"
    "    objective: availability >= 99.9%\n"
    "    window: month\n"
    "  - name: availability-slices\n"
    "    objective: availability >= 99%\n"
    "    window: 1d\n"
    "    budgeting: timeslices\n"
    "    slice: 1m\n"
    "  - name: throughput\n"
    "    objective: throughput >= 3/s\n"
    "    window: 1h\n"
    "    slice: 1m\n"
    "  - name: latency-p95\n"
    "    objective: p95 <= 120ms\n"
    "    window: month\n"
    "  - name: latency-p99-week\n"
    "    objective: p99 <= 250ms\n"
    "    window: 7d\n"
    "  - name: latency-p90-hour\n"
    "    objective: p90 < 100ms\n"
    "    window: 1h\n"
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
    "    - p95 <= 500ms\n"
    "  compare:\n"
    "    baseline: blue\n"
    "    max_error_rate_increase: 0.5%\n"
    "    max_latency_increase: 20%\n"
    "    confidence: 99%\n";

static const struct {
    const char *service, *env;
} series[] = {{"api", "blue"}, {"api", "green"}, {"web", NULL}};
#define N_SERIES (sizeof series / sizeof series[0])

typedef struct fx {
    sw_rules *rules;
    sw_eval *whole;     /* runs without stopping: the truth */
    sw_eval *restarted; /* saved and loaded again and again */
    sw_rng rng;
    sw_buf saved, again;
} fx;

static int
setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    sw_err err = {0};
    assert_int_equal(
        sw_rules_load_mem(rules_text, strlen(rules_text), "test", &f->rules, NULL, &err), SW_OK);
    assert_int_equal(sw_eval_new(f->rules, &f->whole, &err), SW_OK);
    assert_int_equal(sw_eval_new(f->rules, &f->restarted, &err), SW_OK);
    sw_buf_init(&f->saved, (size_t)1 << 30);
    sw_buf_init(&f->again, (size_t)1 << 30);
    f->rng.state = 20261207;
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fx *f = *state;
    sw_eval_free(f->whole);
    sw_eval_free(f->restarted);
    sw_rules_free(f->rules);
    sw_buf_fini(&f->saved);
    sw_buf_fini(&f->again);
    free(f);
    return 0;
}

static void
feed_both(fx *f, int64_t start, int64_t length)
{
    for (size_t i = 0; i < N_SERIES; i++) {
        sw_sli_interval iv;
        sw_hdr *h = sw_test_random_interval(&f->rng, start, length, BASE, &iv);
        sw_err err = {0};
        assert_int_equal(sw_eval_add(f->whole, series[i].service, series[i].env, &iv, &err), SW_OK);
        assert_int_equal(sw_eval_add(f->restarted, series[i].service, series[i].env, &iv, &err),
                         SW_OK);
        sw_hdr_free(h);
    }
}

/* Save the restarted evaluator, throw it away, load it back; saved again, the same bytes. */
static void
restart(fx *f)
{
    sw_err err = {0};
    sw_buf_reset(&f->saved);
    assert_int_equal(sw_eval_ckpt_save(f->restarted, &f->saved, &err), SW_OK);
    sw_eval_free(f->restarted);
    f->restarted = NULL;
    assert_int_equal(sw_eval_ckpt_load(f->rules, f->saved.data, f->saved.len, &f->restarted, &err),
                     SW_OK);
    sw_buf_reset(&f->again);
    assert_int_equal(sw_eval_ckpt_save(f->restarted, &f->again, &err), SW_OK);
    assert_int_equal(f->again.len, f->saved.len);
    assert_memory_equal(f->again.data, f->saved.data, f->saved.len);
}

/* Advance both to now and compare everything (see eval_assert.h). */
static size_t
advance_and_compare(fx *f, int64_t now)
{
    sw_err err = {0};
    assert_int_equal(sw_eval_advance(f->whole, now, &err), SW_OK);
    assert_int_equal(sw_eval_advance(f->restarted, now, &err), SW_OK);
    size_t measured = assert_same_results(f->whole, f->restarted);
    for (size_t i = 0; i < N_SERIES; i++)
        assert_same_gate(f->whole, f->restarted, series[i].service, series[i].env, 10 * MIN);
    return measured;
}

/* As the daemon runs: a rebuild's hourly rows, then base intervals with an advance at each
 * boundary; restarts at random boundaries (after the mark too); everything compared. */
static void
test_restart_from_checkpoint_equals_uninterrupted(void **state)
{
    fx *f = *state;
    for (int64_t t = START; t < FINE_FROM; t += HOUR)
        feed_both(f, t, HOUR);
    sw_eval_alerts_from(f->whole, FINE_FROM - HOUR);
    sw_eval_alerts_from(f->restarted, FINE_FROM - HOUR);
    restart(f); /* before the first advance */
    int64_t t = FINE_FROM;
    assert_true(advance_and_compare(f, t) > 0);
    size_t restarts = 0, measured = 0;
    bool fired = false;
    for (; t < FINE_FROM + 3 * HOUR; t += BASE) {
        if (t == MARK_AT) {
            sw_eval_mark_deployment_override(f->whole, "api", "green", t, "fast");
            sw_eval_mark_deployment_override(f->restarted, "api", "green", t, "fast");
        }
        feed_both(f, t, BASE);
        /* Now and then the daemon is a few intervals behind: several boundaries at once. */
        if (sw_rng_next(&f->rng) % 4 != 0)
            measured += advance_and_compare(f, t + BASE);
        if (sw_rng_next(&f->rng) % 60 == 0) {
            restart(f);
            restarts++;
        }
        sw_series_result r;
        sw_eval_series(f->whole, 1, &r);
        fired |= r.triggers[0].fired || r.alerts[0].state == SW_ALERT_FIRING;
    }
    assert_true(restarts >= 5);
    assert_true(measured > 0);
    assert_true(fired); /* timers and latches were carried across restarts */
}

/* Damaged state: every truncation point sampled and bytes flipped are refused with SW_E_PARSE
 * (or load something when the damage still reads as a state), never crash or leak. */
static void
test_damaged_state_is_refused_or_harmless(void **state)
{
    fx *f = *state;
    for (int64_t t = FINE_FROM - 6 * HOUR; t < FINE_FROM; t += HOUR)
        feed_both(f, t, HOUR);
    for (int64_t t = FINE_FROM; t < FINE_FROM + 20 * MIN; t += BASE)
        feed_both(f, t, BASE);
    sw_eval_mark_deployment(f->restarted, "api", "green", FINE_FROM + 10 * MIN);
    sw_err err = {0};
    assert_int_equal(sw_eval_advance(f->restarted, FINE_FROM + 20 * MIN, &err), SW_OK);
    sw_buf_reset(&f->saved);
    assert_int_equal(sw_eval_ckpt_save(f->restarted, &f->saved, &err), SW_OK);
    size_t len = f->saved.len;
    uint8_t *copy = malloc(len);
    assert_non_null(copy);
    for (size_t cut = 0; cut < len; cut += 1 + len / 500) {
        sw_eval *ev = NULL;
        assert_int_equal(sw_eval_ckpt_load(f->rules, f->saved.data, cut, &ev, &err), SW_E_PARSE);
        assert_null(ev);
    }
    for (int k = 0; k < 500; k++) {
        memcpy(copy, f->saved.data, len);
        copy[sw_rng_next(&f->rng) % len] ^= (uint8_t)(1 + sw_rng_next(&f->rng) % 255);
        sw_eval *ev = NULL;
        sw_status st = sw_eval_ckpt_load(f->rules, copy, len, &ev, &err);
        assert_true(st == SW_OK || st == SW_E_PARSE);
        if (st == SW_OK)
            sw_eval_free(ev);
    }
    /* Other rules: a series they do not know. */
    static const char other[] = "version: 1\nbase_interval: 10s\nservices:\n  - name: web\n"
                                "    sli: {requests: {push: true}}\n";
    sw_rules *rules;
    assert_int_equal(sw_rules_load_mem(other, strlen(other), "other", &rules, NULL, &err), SW_OK);
    sw_eval *ev = NULL;
    assert_int_equal(sw_eval_ckpt_load(rules, f->saved.data, len, &ev, &err), SW_E_PARSE);
    sw_rules_free(rules);
    free(copy);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_restart_from_checkpoint_equals_uninterrupted, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_damaged_state_is_refused_or_harmless, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
