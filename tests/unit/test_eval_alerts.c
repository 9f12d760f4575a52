/*
 * The evaluator's alerts: health runs across and inside base intervals, `for` and `over` timings
 * on 10 s boundaries, insufficient data never holding, a fast burn-rate alert, and alert timers
 * started only from the rebuild's horizon. Every expected number is worked out by hand in the
 * comments (fixture: tests/support/eval_fixture.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "eval_fixture.h"

/* ------------------------------------------------------------------ health runs */

static void
test_health_runs_across_boundaries(void **state)
{
    fx *f = *state;
    sw_condition c = cond(SW_SLI_HEALTH_CONSECUTIVE_FAILURES, SW_OP_GT, 3);
    f->alerts[0] = alert("Over1m", c, MIN, 0);
    f->alerts[1] = alert("Over10s", c, BASE, 0);
    f->rules.n_alerts = 2;
    start(f);
    /* One interval every 10 s from noon; probes: [1] [0] [00] [0], then an interval with
     * requests but no probe, a missing interval, [0] and [10]. Intervals without probes are
     * transparent, so failures in a row up to each boundary t = noon + 10 s * (i + 1) are
     * 0, 1, 3, 4, 4, 4, 5, 1; the longest run reaching into the minute before t is the same
     * but at +80 s, where the run of 5 (ended by the success in [10]) is still in it. */
    const char *probes[] = {"1", "0", "00", "0", "", NULL, "0", "10"};
    for (int i = 0; i < 8; i++)
        if (probes[i] != NULL)
            add(f, NULL, NOON + i * BASE, &(ivspec){.requests = 10, .health = probes[i]});
    /* Over1m fires at +40 s and stays firing while its minute holds a run of more than 3.
     * Over10s holds at +40 s although its window holds one interval: the run of 4 started
     * before it. At +50 s its window has no probe and at +60 s no interval: no data, resolved.
     * +70 s: 5 in a row, firing again; +80 s: resolved. */
    const double run1m[] = {0, 1, 3, 4, 4, 4, 5, 5};
    const sw_alert_state st1m[] = {SW_ALERT_INACTIVE, SW_ALERT_INACTIVE, SW_ALERT_INACTIVE,
                                   SW_ALERT_FIRING,   SW_ALERT_FIRING,   SW_ALERT_FIRING,
                                   SW_ALERT_FIRING,   SW_ALERT_FIRING};
    const sw_alert_state st10s[] = {SW_ALERT_INACTIVE, SW_ALERT_INACTIVE, SW_ALERT_INACTIVE,
                                    SW_ALERT_FIRING,   SW_ALERT_INACTIVE, SW_ALERT_INACTIVE,
                                    SW_ALERT_FIRING,   SW_ALERT_INACTIVE};
    for (int i = 0; i < 8; i++) {
        advance(f, NOON + (i + 1) * BASE);
        sw_series_result r = series(f, NULL);
        assert_near(r.alerts[0].measured, run1m[i], 0);
        assert_int_equal(r.alerts[0].state, st1m[i]);
        assert_int_equal(r.alerts[1].state, st10s[i]);
    }
    sw_series_result r = series(f, NULL);
    assert_int_equal(r.alerts[0].last_fired_ms, NOON + 40 * SEC);
    assert_int_equal(r.alerts[1].last_fired_ms, NOON + 70 * SEC);
    assert_int_equal(r.alerts[1].last_resolved_ms, NOON + 80 * SEC);
    assert_near(r.alerts[1].measured, 1, 0);
}

/*
 * Runs of more than 3 failed probes that end inside an interval, followed by a success there:
 * one spanning two intervals (1 + 4 failures), one inside a single interval (5). The alert over
 * one interval, the rollback trigger and the gate must all see a run of 5.
 */
static void
test_health_runs_ended_inside_an_interval(void **state)
{
    fx *f = *state;
    sw_condition c = cond(SW_SLI_HEALTH_CONSECUTIVE_FAILURES, SW_OP_GT, 3);
    f->alerts[0] = alert("HealthChecksFailing", c, BASE, 0);
    f->rules.n_alerts = 1;
    f->triggers[0] = alert("HealthChecksFailing", c, BASE, 0);
    f->rules.n_triggers = 1;
    f->checks[0] = cond(SW_SLI_HEALTH_CONSECUTIVE_FAILURES, SW_OP_LE, 3);
    f->rules.gate.n_checks = 1;
    start(f);
    add(f, "blue", NOON, &(ivspec){.requests = 200, .health = "1110"});
    add(f, "blue", NOON + BASE, &(ivspec){.requests = 200, .health = "00001"});
    add(f, "green", NOON, &(ivspec){.requests = 200, .health = "11111"});
    add(f, "green", NOON + BASE, &(ivspec){.requests = 200, .health = "1000001"});
    advance(f, NOON + 2 * BASE);
    for (int e = 0; e < 2; e++) {
        const char *env = e == 0 ? "blue" : "green";
        sw_series_result r = series(f, env);
        assert_near(r.alerts[0].measured, 5, 0);
        assert_int_equal(r.alerts[0].state, SW_ALERT_FIRING);
        assert_true(r.triggers[0].fired);
        sw_gate_result g = gate(f, env, 2 * BASE);
        const sw_gate_check *run = NULL;
        for (size_t i = 0; i < g.n_checks; i++)
            if (strcmp(g.checks[i].name, "health_consecutive_failures") == 0)
                run = &g.checks[i];
        assert_non_null(run);
        assert_near(run->measured, 5, 0);
        assert_false(run->passed);
    }
}

/* ------------------------------------------------------------------ `for` and `over` */

typedef struct for_case {
    bool clean_before;                          /* 0 % errors in the ten minutes before noon */
    int64_t pending_at, firing_at, resolved_at; /* offsets from noon */
} for_case;

static void
run_for_case(fx *f, const for_case *fc)
{
    f->alerts[0] = alert("ErrorRateHigh", cond(SW_SLI_ERROR_RATE, SW_OP_GT, 0.01), MIN, 5 * MIN);
    f->rules.n_alerts = 1;
    start(f);
    if (fc->clean_before)
        add_run(f, NULL, NOON - 10 * MIN, 60, &(ivspec){.requests = 1000});
    add_run(f, NULL, NOON, 36, &(ivspec){.requests = 1000, .errors = 20}); /* to 12:06 */
    add_run(f, NULL, NOON + 6 * MIN, 24, &(ivspec){.requests = 1000});     /* to 12:10 */
    int64_t pending = -1, firing = -1;
    for (int64_t t = NOON; t <= NOON + 10 * MIN; t += BASE) {
        advance(f, t);
        sw_alert_result a = series(f, NULL).alerts[0];
        if (a.state == SW_ALERT_PENDING && pending < 0) {
            pending = t - NOON;
            assert_int_equal(a.active_since_ms, t);
        }
        if (a.state == SW_ALERT_FIRING && firing < 0)
            firing = t - NOON;
    }
    sw_alert_result a = series(f, NULL).alerts[0];
    assert_int_equal(pending, fc->pending_at);
    assert_int_equal(firing, fc->firing_at);
    assert_int_equal(a.last_fired_ms, NOON + fc->firing_at);
    assert_int_equal(a.last_resolved_ms, NOON + fc->resolved_at);
    assert_int_equal(a.state, SW_ALERT_INACTIVE);
    assert_near(a.measured, 0.0, 0); /* the last minute is clean */
}

static void
test_for_timing_no_data_before(void **state)
{
    /* Each interval: 1000 requests. Without data before noon, the window at 12:00:10 holds
     * just the 12:00:00 interval at 2 % > 1 %: pending, active since 12:00:10. `for` 5m:
     * firing at the first t with t - 12:00:10 >= 5m, 12:05:10 (12:05:00 is 10 s short).
     * From 12:06:00 the intervals are clean; the window (t - 1m, t] holds k 2 % intervals of 6:
     * 20k / 6000 > 1 % needs k >= 4. t = 12:06:20 still has 12:05:20 ... 12:05:50 (k = 4),
     * t = 12:06:30 has k = 3, exactly 1 %: resolved at 12:06:30. */
    const for_case fc = {false, 10 * SEC, 5 * MIN + 10 * SEC, 6 * MIN + 30 * SEC};
    run_for_case(*state, &fc);
}

static void
test_for_timing_clean_before(void **state)
{
    /* With clean intervals before noon the window first holds when four 2 % intervals are in
     * it (12:00:00 ... 12:00:30, all ending by 12:00:40): pending at 12:00:40, firing five
     * minutes later at 12:05:40; resolved at 12:06:30 as above. */
    const for_case fc = {true, 40 * SEC, 5 * MIN + 40 * SEC, 6 * MIN + 30 * SEC};
    run_for_case(*state, &fc);
}

static void
test_replay_in_one_call(void **state)
{
    fx *f = *state;
    f->alerts[0] = alert("ErrorRateHigh", cond(SW_SLI_ERROR_RATE, SW_OP_GT, 0.01), MIN, 5 * MIN);
    f->rules.n_alerts = 1;
    start(f);
    /* 2 % errors from noon to 12:10, then no data; one advance to 13:00 replays every
     * boundary. Firing at 12:05:10 as above. The last interval (12:09:50) leaves the window at
     * 12:11:00, when the window is empty: resolved then, not when the replay ends. */
    add_run(f, NULL, NOON, 60, &(ivspec){.requests = 1000, .errors = 20});
    advance(f, NOON + HOUR);
    sw_alert_result a = series(f, NULL).alerts[0];
    assert_int_equal(a.last_fired_ms, NOON + 5 * MIN + 10 * SEC);
    assert_int_equal(a.last_resolved_ms, NOON + 11 * MIN);
    assert_int_equal(a.state, SW_ALERT_INACTIVE);
    assert_true(isnan(a.measured));
}

/* ------------------------------------------------------------------ insufficient data */

static void
test_insufficient_data_never_holds(void **state)
{
    fx *f = *state;
    f->alerts[0] = alert("ErrorRate", cond(SW_SLI_ERROR_RATE, SW_OP_GT, 0.01), MIN, 0);
    f->alerts[1] = alert("Health", cond(SW_SLI_HEALTH_FAILURES, SW_OP_GE, 0), MIN, 0);
    f->alerts[2] = alert("Quiet", cond(SW_SLI_REQUESTS, SW_OP_LT, 1e9), MIN, 0);
    f->rules.n_alerts = 3;
    start(f);
    /* 10 requests, all failed, per interval: at most 60 requests in a minute, below 100.
     * No probes at all: the health alert has nothing to judge either. */
    add_run(f, NULL, NOON, 30, &(ivspec){.requests = 10, .errors = 10});
    for (int64_t t = NOON; t <= NOON + 10 * MIN; t += BASE) {
        advance(f, t);
        sw_series_result r = series(f, NULL);
        for (int a = 0; a < 3; a++) {
            assert_int_equal(r.alerts[a].state, SW_ALERT_INACTIVE);
            assert_true(isnan(r.alerts[a].measured));
        }
    }
    /* The same failure rate with enough requests holds at once. */
    add_run(f, NULL, NOON + 10 * MIN, 1, &(ivspec){.requests = 100, .errors = 100, .health = "0"});
    advance(f, NOON + 10 * MIN + BASE);
    sw_series_result r = series(f, NULL);
    assert_int_equal(r.alerts[0].state, SW_ALERT_FIRING);
    assert_int_equal(r.alerts[1].state, SW_ALERT_FIRING);
    assert_near(r.alerts[2].measured, 100, 0);
}

/* ------------------------------------------------------------------ burn rate */

static void
test_burn_rate_fast(void **state)
{
    fx *f = *state;
    f->obj[0] = objective("availability", cond(SW_SLI_AVAILABILITY, SW_OP_GE, 0.999), true, 0);
    f->rules.n_objectives = 1;
    f->alerts[0] = (sw_alert){.name = "Burn1h",
                              .kind = SW_ALERT_BURN_RATE,
                              .objective = 0,
                              .burn_rate = 14.4,
                              .long_ms = HOUR,
                              .short_ms = 5 * MIN};
    f->rules.n_alerts = 1;
    start(f);
    int64_t t0 = T_OCT + 2 * DAY;
    /* A clean hour, then 2 % errors (20 of 1000 per interval) from t0 on. */
    add_run(f, NULL, t0 - HOUR, 360, &(ivspec){.requests = 1000});
    add_run(f, NULL, t0, 300, &(ivspec){.requests = 1000, .errors = 20});
    add_run(f, NULL, t0 + 3000 * SEC, 60, &(ivspec){.requests = 1000});
    int64_t firing = -1;
    for (int64_t t = t0; t <= t0 + 3300 * SEC; t += BASE) {
        advance(f, t);
        sw_alert_result a = series(f, NULL).alerts[0];
        if (t == t0 + 5 * MIN) {
            /* Short window: 30 intervals all at 2 %: burn 0.02 / 0.001 = 20. Long window:
             * 30 * 20 = 600 errors in 360,000 requests: 0.1667 % -> burn 1.667. */
            assert_near(a.measured_short, 20.0, 1e-9);
            assert_near(a.measured, 600.0 / 360000.0 / 0.001, 1e-9);
            assert_int_equal(a.state, SW_ALERT_INACTIVE);
        }
        if (t == t0 + 2590 * SEC) /* 259 bad intervals: 5180 / 360,000 -> burn 14.389 */
            assert_near(a.measured, 14.388888889, 1e-6);
        if (a.state == SW_ALERT_FIRING && firing < 0) {
            firing = t - t0;
            /* 260 bad intervals of 360: 5200 / 360,000 = 1.4444 % -> burn 14.444 > 14.4. */
            assert_near(a.measured, 14.444444444, 1e-6);
            assert_near(a.measured_short, 20.0, 1e-9);
        }
    }
    assert_int_equal(firing, 2600 * SEC);
    /* Clean again from t0 + 3000 s. The long window keeps its 300 bad intervals (burn 16.7)
     * for a while, but the short one holds k bad intervals of 30: burn 20k / 30 > 14.4 needs
     * k >= 22. At t0 + 3090 s k = 21 (burn 14.0): resolved by the short window alone. */
    sw_alert_result a = series(f, NULL).alerts[0];
    assert_int_equal(a.last_resolved_ms, t0 + 3090 * SEC);
    assert_near(a.measured, 6000.0 / 360000.0 / 0.001, 1e-9);
    assert_near(a.measured_short, 0.0, 0);
}

/* ------------------------------------------------------------------ restarts */

/* A rebuild feeds history, then evaluates alerts only from alerts_from: the `for` timer of an
 * alert whose condition has held for 3 of its 5 minutes before the horizon keeps running only
 * from the horizon (12:05:00), so it fires at 12:10:00, not at 12:05:10. */
static void
test_alerts_from_skips_history(void **state)
{
    fx *f = *state;
    f->alerts[0] = alert("ErrorRateHigh", cond(SW_SLI_ERROR_RATE, SW_OP_GT, 0.01), MIN, 5 * MIN);
    f->rules.n_alerts = 1;
    start(f);
    sw_eval_alerts_from(f->ev, NOON + 5 * MIN);
    add_run(f, "green", NOON, 90, &(ivspec){.requests = 1000, .errors = 100});
    advance(f, NOON + 5 * MIN);
    sw_alert_result a = series(f, "green").alerts[0];
    assert_int_equal(a.state, SW_ALERT_PENDING);
    assert_int_equal(a.active_since_ms, NOON + 5 * MIN);
    advance(f, NOON + 10 * MIN - BASE);
    assert_int_equal(series(f, "green").alerts[0].state, SW_ALERT_PENDING);
    advance(f, NOON + 10 * MIN);
    assert_int_equal(series(f, "green").alerts[0].state, SW_ALERT_FIRING);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_health_runs_across_boundaries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_health_runs_ended_inside_an_interval, setup, teardown),
        cmocka_unit_test_setup_teardown(test_for_timing_no_data_before, setup, teardown),
        cmocka_unit_test_setup_teardown(test_for_timing_clean_before, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replay_in_one_call, setup, teardown),
        cmocka_unit_test_setup_teardown(test_insufficient_data_never_holds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_burn_rate_fast, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alerts_from_skips_history, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
