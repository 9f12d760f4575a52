/*
 * cmocka assertions that two evaluators give the same answers, bit for bit: every series'
 * objectives (value, samples, coverage, budget, burn rate, downtime), alerts and triggers with
 * their timers, and each named series' gate. Include after cmocka.h.
 */
#ifndef SLAWATCH_TEST_EVAL_ASSERT_H
#define SLAWATCH_TEST_EVAL_ASSERT_H

#include <math.h>
#include <string.h>

#include "slawatch/eval.h"

static inline void
assert_same_double(double a, double b)
{
    if (isnan(a) && isnan(b))
        return;
    assert_memory_equal(&a, &b, sizeof a);
}

static inline void
assert_same_alert(const sw_alert_result *a, const sw_alert_result *b)
{
    assert_int_equal(a->state, b->state);
    assert_int_equal(a->active_since_ms, b->active_since_ms);
    assert_int_equal(a->last_fired_ms, b->last_fired_ms);
    assert_int_equal(a->last_resolved_ms, b->last_resolved_ms);
    assert_same_double(a->measured, b->measured);
    assert_same_double(a->measured_short, b->measured_short);
}

static inline void
assert_same_objective(const sw_objective_result *a, const sw_objective_result *b)
{
    assert_int_equal(a->window_start_ms, b->window_start_ms);
    assert_int_equal(a->window_end_ms, b->window_end_ms);
    assert_same_double(a->measured, b->measured);
    assert_int_equal(a->has_verdict, b->has_verdict);
    assert_int_equal(a->met, b->met);
    assert_int_equal(a->so_far, b->so_far);
    assert_int_equal(a->samples, b->samples);
    assert_same_double(a->coverage, b->coverage);
    assert_same_double(a->budget_remaining, b->budget_remaining);
    assert_same_double(a->burn_rate, b->burn_rate);
    assert_same_double(a->time_to_exhaustion_s, b->time_to_exhaustion_s);
    assert_same_double(a->allowed_downtime_s, b->allowed_downtime_s);
    assert_same_double(a->downtime_s, b->downtime_s);
}

static inline void
assert_same_gate(const sw_eval *x, const sw_eval *y, const char *service, const char *env,
                 int64_t window_ms)
{
    sw_gate_result a, b;
    sw_err err = {0};
    assert_int_equal(sw_eval_gate(x, service, env, window_ms, &a, &err), SW_OK);
    assert_int_equal(sw_eval_gate(y, service, env, window_ms, &b, &err), SW_OK);
    assert_int_equal(a.verdict, b.verdict);
    assert_int_equal(a.failed_at_ms, b.failed_at_ms);
    assert_int_equal(a.compared_from_ms, b.compared_from_ms);
    assert_int_equal(a.compared_to_ms, b.compared_to_ms);
    assert_string_equal(a.policy_override, b.policy_override);
    assert_string_equal(a.reason, b.reason);
    assert_int_equal(a.n_checks, b.n_checks);
    for (size_t c = 0; c < a.n_checks; c++) {
        assert_string_equal(a.checks[c].name, b.checks[c].name);
        assert_same_double(a.checks[c].measured, b.checks[c].measured);
        assert_same_double(a.checks[c].lower, b.checks[c].lower);
        assert_same_double(a.checks[c].upper, b.checks[c].upper);
        assert_int_equal(a.checks[c].samples, b.checks[c].samples);
        assert_int_equal(a.checks[c].baseline_samples, b.checks[c].baseline_samples);
        assert_int_equal(a.checks[c].verdict, b.checks[c].verdict);
    }
}

/* Every series' results the same (both already advanced); returns how many objective and
 * alert values were measured (not NAN), so a caller can tell it compared something. */
static inline size_t
assert_same_results(const sw_eval *x, const sw_eval *y)
{
    assert_int_equal(sw_eval_series_count(x), sw_eval_series_count(y));
    size_t measured = 0;
    for (size_t i = 0; i < sw_eval_series_count(x); i++) {
        sw_series_result a, b;
        sw_eval_series(x, i, &a);
        sw_eval_series(y, i, &b);
        assert_string_equal(a.service, b.service);
        assert_true(a.env == NULL ? b.env == NULL : b.env != NULL && strcmp(a.env, b.env) == 0);
        assert_int_equal(a.deployed_ms, b.deployed_ms);
        assert_same_double(a.coverage, b.coverage);
        for (size_t k = 0; k < a.rules->n_objectives; k++) {
            assert_same_objective(&a.objectives[k], &b.objectives[k]);
            measured += !isnan(a.objectives[k].measured);
        }
        for (size_t k = 0; k < a.rules->n_alerts; k++) {
            assert_same_alert(&a.alerts[k], &b.alerts[k]);
            measured += !isnan(a.alerts[k].measured);
        }
        for (size_t k = 0; k < a.rules->n_triggers; k++) {
            assert_int_equal(a.triggers[k].fired, b.triggers[k].fired);
            assert_int_equal(a.triggers[k].fired_at_ms, b.triggers[k].fired_at_ms);
            assert_int_equal(a.triggers[k].state, b.triggers[k].state);
        }
    }
    return measured;
}

#endif
