/*
 * Unit tests for the evaluator: alert timings (`for`, `over`, 10 s boundaries), health runs,
 * insufficient data, burn rates, rollback-trigger latches, objectives and error budgets (with
 * maintenance, timeslices, throughput), the deploy gate, and sliding windows against a brute-
 * force re-merge on random data. Every expected number is worked out by hand in the comments;
 * the rule sets are built as structs, as a loaded rules file would be.
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

#define SEC INT64_C(1000)
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)
#define BASE (10 * SEC)
#define T_SEP INT64_C(1788220800000) /* 2026-09-01T00:00:00Z, a 30-day month */
#define T_OCT INT64_C(1790812800000) /* 2026-10-01T00:00:00Z, a 31-day month */
#define T_NOV INT64_C(1793491200000) /* 2026-11-01T00:00:00Z */
#define NOON (T_OCT + 12 * HOUR)     /* 2026-10-01T12:00:00Z */

#define assert_near(x, y, eps) assert_true(fabs((double)(x) - (double)(y)) <= (eps))

/* ------------------------------------------------------------------ fixture */

typedef struct fx {
    sw_rules rules;
    sw_service svc;
    const char *envs[2];
    sw_maintenance maint[2];
    sw_objective obj[8];
    sw_condition bad_when[2];
    sw_alert alerts[8];
    sw_alert triggers[4];
    sw_condition checks[4];
    sw_eval *ev;
} fx;

static int
setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->envs[0] = "blue";
    f->envs[1] = "green";
    f->svc = (sw_service){.name = "api", .environments = f->envs, .n_environments = 2};
    f->rules = (sw_rules){
        .base_interval_ms = BASE,
        .min_requests = 100,
        .services = &f->svc,
        .n_services = 1,
        .objectives = f->obj,
        .alerts = f->alerts,
        .triggers = f->triggers,
        .gate = {.window_ms = 10 * MIN,
                 .min_requests = 100,
                 .checks = f->checks,
                 .max_error_rate_increase = -1,
                 .max_latency_increase = -1,
                 .confidence = 0.99},
    };
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fx *f = *state;
    sw_eval_free(f->ev);
    free(f);
    return 0;
}

static void
start(fx *f)
{
    assert_int_equal(sw_eval_new(&f->rules, &f->ev, NULL), SW_OK);
}

static sw_condition
cond(sw_sli sli, sw_op op, double value)
{
    return (sw_condition){.sli = sli, .op = op, .value = value};
}

static sw_condition
pct(double percentile, sw_op op, double value_us)
{
    return (sw_condition){
        .sli = SW_SLI_LATENCY, .percentile = percentile, .op = op, .value = value_us};
}

static sw_alert
alert(const char *name, sw_condition when, int64_t over_ms, int64_t for_ms)
{
    return (sw_alert){.name = name,
                      .kind = SW_ALERT_CONDITION,
                      .when = when,
                      .over_ms = over_ms,
                      .for_ms = for_ms};
}

static sw_objective
objective(const char *name, sw_condition c, bool month, int64_t length_ms)
{
    return (sw_objective){
        .name = name,
        .objective = c,
        .window = {month ? SW_WINDOW_MONTH : SW_WINDOW_ROLLING, month ? 0 : length_ms},
        .budgeting = SW_BUDGET_EVENTS,
        .slice_ms = MIN,
        .slice_target = 0.99,
    };
}

/* One base interval: counts, health ('1' ok, '0' failed) and up to two latency values. */
typedef struct ivspec {
    uint64_t requests, errors;
    const char *health;
    int64_t lat_us, lat_n, lat2_us, lat2_n;
} ivspec;

static void
add(fx *f, const char *env, int64_t start_ms, const ivspec *sp)
{
    sw_sli_interval iv = {.start_ms = start_ms,
                          .length_ms = BASE,
                          .requests = sp->requests,
                          .errors = sp->errors,
                          .has_data = true};
    for (const char *p = sp->health ? sp->health : ""; *p; p++)
        sw_health_record(&iv.health, *p == '1');
    if (sp->lat_n > 0 || sp->lat2_n > 0) {
        assert_int_equal(sw_hdr_new(&sw_hdr_latency_config, &iv.latency, NULL), SW_OK);
        sw_hdr_record_n(iv.latency, sp->lat_us, sp->lat_n);
        sw_hdr_record_n(iv.latency, sp->lat2_us, sp->lat2_n);
    }
    sw_err err;
    sw_status st = sw_eval_add(f->ev, "api", env, &iv, &err);
    if (st != SW_OK)
        fail_msg("sw_eval_add: %s", err.msg);
    sw_sli_interval_fini(&iv);
}

static void
add_run(fx *f, const char *env, int64_t start_ms, int n, const ivspec *sp)
{
    for (int i = 0; i < n; i++)
        add(f, env, start_ms + i * BASE, sp);
}

static void
advance(fx *f, int64_t now_ms)
{
    sw_err err;
    if (sw_eval_advance(f->ev, now_ms, &err) != SW_OK)
        fail_msg("sw_eval_advance: %s", err.msg);
}

static sw_series_result
series(const fx *f, const char *env)
{
    sw_series_result r;
    for (size_t i = 0; i < sw_eval_series_count(f->ev); i++) {
        sw_eval_series(f->ev, i, &r);
        if (env == NULL ? r.env == NULL : r.env != NULL && strcmp(r.env, env) == 0)
            return r;
    }
    fail_msg("no series for env %s", env ? env : "(none)");
    return r;
}

static sw_gate_result
gate(const fx *f, const char *env, int64_t window_ms)
{
    sw_gate_result g;
    sw_err err;
    if (sw_eval_gate(f->ev, "api", env, window_ms, &g, &err) != SW_OK)
        fail_msg("sw_eval_gate: %s", err.msg);
    return g;
}

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

/* ------------------------------------------------------------------ triggers */

static void
test_trigger_latch_and_mark(void **state)
{
    fx *f = *state;
    f->triggers[0] = alert("ErrorRateSpike", cond(SW_SLI_ERROR_RATE, SW_OP_GT, 0.05), MIN, 2 * MIN);
    f->rules.n_triggers = 1;
    f->checks[0] = cond(SW_SLI_ERROR_RATE, SW_OP_LE, 0.01);
    f->rules.gate.n_checks = 1;
    start(f);
    /* 10 % errors from noon for 5 minutes: holds from 12:00:10, fires at 12:02:10. */
    add_run(f, "green", NOON, 30, &(ivspec){.requests = 1000, .errors = 100});
    add_run(f, "green", NOON + 5 * MIN, 30, &(ivspec){.requests = 1000});
    for (int64_t t = NOON; t <= NOON + 10 * MIN; t += BASE)
        advance(f, t);
    sw_trigger_result tr = series(f, "green").triggers[0];
    assert_true(tr.fired);
    assert_int_equal(tr.fired_at_ms, NOON + 2 * MIN + 10 * SEC);
    assert_int_equal(tr.state, SW_ALERT_INACTIVE); /* the condition is gone, the latch stays */

    /* Over the last 4 minutes the error rate is 0: only the latch fails the gate. */
    sw_gate_result g = gate(f, "green", 4 * MIN);
    assert_int_equal(g.verdict, SW_VERDICT_FAIL);
    assert_int_equal(g.n_checks, 2);
    assert_true(g.checks[0].passed);
    assert_string_equal(g.checks[1].name, "rollback_trigger:ErrorRateSpike");
    assert_near(g.checks[1].measured, 1, 0);
    assert_false(g.checks[1].passed);
    assert_string_equal(g.reason,
                        "fail: rollback trigger ErrorRateSpike fired at 2026-10-01T12:02:10Z");

    sw_eval_mark_deployment(f->ev, "api", "green", NOON + 10 * MIN);
    tr = series(f, "green").triggers[0];
    assert_false(tr.fired);
    assert_int_equal(tr.fired_at_ms, -1);
    /* Marked just now: no data since, so no verdict yet. */
    g = gate(f, "green", 0);
    assert_int_equal(g.verdict, SW_VERDICT_INCONCLUSIVE);
    assert_int_equal(g.window_start_ms, NOON + 10 * MIN);
    add_run(f, "green", NOON + 10 * MIN, 30, &(ivspec){.requests = 1000});
    for (int64_t t = NOON + 10 * MIN; t <= NOON + 15 * MIN; t += BASE)
        advance(f, t);
    g = gate(f, "green", 0);
    assert_int_equal(g.verdict, SW_VERDICT_PASS);
    assert_int_equal(g.checks[0].window_ms, 5 * MIN); /* since the mark, not 10m */
    assert_false(series(f, "green").triggers[0].fired);
}

/* ------------------------------------------------------------------ objectives */

/* Data 00:00-04:00 and 05:00-06:00 on October 1st with maintenance 02:00-03:00. Outside
 * maintenance each interval has 1000 requests, 1 error every other interval, latency
 * 96 x 1000 us + 4 x 1500 us. During maintenance every request fails and takes 2000 us. */
static void
feed_month_with_maintenance(fx *f)
{
    ivspec odd = {.requests = 1000, .lat_us = 1000, .lat_n = 96, .lat2_us = 1500, .lat2_n = 4};
    ivspec even = odd;
    even.errors = 1;
    ivspec down = {.requests = 1000, .errors = 1000, .lat_us = 2000, .lat_n = 100};
    for (int64_t t = T_OCT; t < T_OCT + 6 * HOUR; t += BASE) {
        if (t >= T_OCT + 4 * HOUR && t < T_OCT + 5 * HOUR)
            continue;
        bool maint = t >= T_OCT + 2 * HOUR && t < T_OCT + 3 * HOUR;
        add(f, NULL, t, maint ? &down : (t / BASE) % 2 == 0 ? &even : &odd);
    }
}

static void
test_objectives_month_with_maintenance(void **state)
{
    fx *f = *state;
    f->obj[0] = objective("availability", cond(SW_SLI_AVAILABILITY, SW_OP_GE, 0.999), true, 0);
    f->obj[1] = objective("error-rate", cond(SW_SLI_ERROR_RATE, SW_OP_LE, 0.001), true, 0);
    f->obj[2] = objective("latency-p95", pct(95, SW_OP_LE, 1200), true, 0);
    f->rules.n_objectives = 3;
    /* 02:00:05-03:00 leaves out the interval 02:00:00-02:00:10 whole: 02:00-03:00. */
    f->maint[0] = (sw_maintenance){T_OCT + 2 * HOUR + 5 * SEC, T_OCT + 3 * HOUR, "migration"};
    f->svc.maintenance = f->maint;
    f->svc.n_maintenance = 1;
    start(f);
    feed_month_with_maintenance(f);
    int64_t now = T_OCT + 6 * HOUR;
    advance(f, now);
    sw_series_result r = series(f, NULL);

    /* Counted: 4 h of data outside maintenance = 1440 intervals, 1,440,000 requests, 720
     * errors. Availability 1 - 720 / 1.44e6 = 0.9995. Budget 0.1 % of 1.44e6 = 1440 errors,
     * 720 spent: 0.5 left. Coverage: 4 h of data in 6 h - 1 h of maintenance = 0.8. October
     * has 31 days: allowed downtime 0.001 * 2,678,400 s = 2678.4 s; downtime 0.0005 * 14,400
     * data seconds = 7.2 s. Last hour (05:00-06:00): 180 errors / 360,000 = 0.05 % -> burn
     * 0.5; time to exhaustion 0.5 * 2,678,400 / 0.5 = 2,678,400 s. */
    const sw_objective_result *a = &r.objectives[0];
    assert_int_equal(a->window_start_ms, T_OCT);
    assert_int_equal(a->window_end_ms, now);
    /* Measured, but 0.8 of the judged span is below the verdict rule's 0.9: no verdict. */
    assert_false(a->has_verdict);
    assert_false(a->so_far);
    assert_near(a->measured, 0.9995, 1e-12);
    assert_false(a->met);
    assert_int_equal(a->samples, 1440000);
    assert_near(a->coverage, 0.8, 1e-12);
    assert_near(a->budget_remaining, 0.5, 1e-12);
    assert_near(a->allowed_downtime_s, 2678.4, 1e-9);
    assert_near(a->downtime_s, 7.2, 1e-9);
    assert_near(a->burn_rate, 0.5, 1e-12);
    assert_near(a->time_to_exhaustion_s, 2678400.0, 1e-6);

    /* Error rate 0.05 % <= 0.1 %; budget 0.1 % of requests: 0.5 left as well. */
    assert_near(r.objectives[1].measured, 0.0005, 1e-15);
    assert_false(r.objectives[1].has_verdict);
    assert_near(r.objectives[1].budget_remaining, 0.5, 1e-12);
    assert_true(isnan(r.objectives[1].allowed_downtime_s));

    /* p95 of 96 % at 1000 us and 4 % at 1500 us is 1000 us (buckets are single values below
     * 2048). Maintenance's 2000 us values would make it 2000 us. Budget: 5 % may exceed
     * 1200 us, 4 % did: 1 - 0.04 / 0.05 = 0.2 left; the last hour burns 0.04 / 0.05 = 0.8. */
    const sw_objective_result *p = &r.objectives[2];
    assert_near(p->measured, 1000, 0);
    assert_false(p->has_verdict);
    assert_near(p->budget_remaining, 0.2, 1e-12);
    assert_near(p->burn_rate, 0.8, 1e-12);
}

static void
test_budget_numbers(void **state)
{
    fx *f = *state;
    f->obj[0] = objective("availability", cond(SW_SLI_AVAILABILITY, SW_OP_GE, 0.999), true, 0);
    f->obj[1] =
        objective("availability-1d", cond(SW_SLI_AVAILABILITY, SW_OP_GE, 0.999), false, DAY);
    f->rules.n_objectives = 2;
    start(f);
    /* September (30 days). blue: 100 intervals x 10,000 requests x 5 errors: 1,000,000
     * requests, 500 errors. green: 20 errors each, 2000 errors. */
    int64_t t0 = T_SEP + 9 * DAY;
    add_run(f, "blue", t0, 100, &(ivspec){.requests = 10000, .errors = 5});
    add_run(f, "green", t0, 100, &(ivspec){.requests = 10000, .errors = 20});
    advance(f, t0 + 1000 * SEC);
    /* Budget 0.1 % of 1e6 = 1000 errors; 500 spent: 0.5 left. Allowed downtime in a 30-day
     * month: 0.001 * 2,592,000 s = 2592 s (43.2 min); in a rolling day 86.4 s. Downtime
     * 0.0005 * 1000 data seconds = 0.5 s. Burn over the last hour 0.0005 / 0.001 = 0.5;
     * exhaustion 0.5 * 2,592,000 / 0.5 = 2,592,000 s. */
    const sw_objective_result *m = &series(f, "blue").objectives[0];
    assert_near(m->budget_remaining, 0.5, 1e-12);
    assert_near(m->allowed_downtime_s, 2592.0, 1e-9);
    assert_near(m->downtime_s, 0.5, 1e-12);
    assert_near(m->burn_rate, 0.5, 1e-12);
    assert_near(m->time_to_exhaustion_s, 2592000.0, 1e-6);
    assert_near(series(f, "blue").objectives[1].allowed_downtime_s, 86.4, 1e-9);
    /* green: 2000 errors against 1000 allowed: -1 left, exhausted now; burn 2 / 0.1 % ... */
    const sw_objective_result *g = &series(f, "green").objectives[0];
    assert_near(g->budget_remaining, -1.0, 1e-12);
    assert_near(g->burn_rate, 2.0, 1e-12);
    assert_near(g->time_to_exhaustion_s, 0.0, 0);
    assert_false(g->met); /* availability 0.998 < 0.999 */
}

static void
test_timeslices(void **state)
{
    fx *f = *state;
    f->obj[0] = objective("slices", cond(SW_SLI_AVAILABILITY, SW_OP_GE, 0.99), false, HOUR);
    f->obj[0].budgeting = SW_BUDGET_TIMESLICES;
    f->bad_when[0] = cond(SW_SLI_ERROR_RATE, SW_OP_GT, 0.05);
    f->bad_when[1] = cond(SW_SLI_HEALTH_SUCCESS, SW_OP_LT, 0.5);
    f->obj[0].bad_when = f->bad_when;
    f->obj[0].n_bad_when = 2;
    f->obj[1] = objective("health", cond(SW_SLI_HEALTH_SUCCESS, SW_OP_GE, 0.9), false, HOUR);
    f->rules.n_objectives = 2;
    f->maint[0] = (sw_maintenance){NOON + 7 * MIN, NOON + 8 * MIN, "restart"};
    f->svc.maintenance = f->maint;
    f->svc.n_maintenance = 1;
    start(f);
    /* Ten 1-minute slices from noon: 0-6 good (1000 requests, no errors, probe ok); 7 has
     * 10 % errors but is under maintenance (left out); 8 has no data (unknown); 9 has clean
     * requests but failing probes (health success 0 % < 50 %: bad). */
    ivspec good = {.requests = 1000, .health = "1"};
    add_run(f, NULL, NOON, 42, &good);
    add_run(f, NULL, NOON + 7 * MIN, 6, &(ivspec){.requests = 1000, .errors = 100, .health = "1"});
    add_run(f, NULL, NOON + 9 * MIN, 6, &(ivspec){.requests = 1000, .health = "0"});
    advance(f, NOON + 10 * MIN);
    /* Availability = good / slices with data = 7 / 8 = 0.875 < 99 %. Budget: the rolling hour
     * has 60 slices, one under maintenance; 1 % of 59 (0.59) may be bad, 1 was:
     * 1 - 1 / 0.59 = -0.6949. Downtime one slice = 60 s of the 0.01 * 3600 = 36 s allowed. */
    const sw_objective_result *o = &series(f, NULL).objectives[0];
    /* Data in 9 of the hour's 59 minutes outside maintenance: measured, but no verdict. */
    assert_false(o->has_verdict);
    assert_near(o->measured, 7.0 / 8.0, 1e-12);
    assert_false(o->met);
    assert_int_equal(o->samples, 8);
    assert_near(o->budget_remaining, 1.0 - 1.0 / 0.59, 1e-9);
    assert_near(o->downtime_s, 60.0, 0);
    assert_near(o->allowed_downtime_s, 36.0, 1e-9);
    /* Health success as events, maintenance left out: 48 probes, 6 failed: 42 / 48 = 0.875
     * < 0.9. Budget 10 % of 48 = 4.8 failures, 6 spent: 1 - 6 / 4.8 = -0.25; the hour burns
     * (6 / 48) / 0.1 = 1.25. */
    const sw_objective_result *h = &series(f, NULL).objectives[1];
    assert_near(h->measured, 42.0 / 48.0, 1e-12);
    assert_false(h->met);
    assert_int_equal(h->samples, 48);
    assert_near(h->budget_remaining, -0.25, 1e-9);
    assert_near(h->burn_rate, 1.25, 1e-9);
}

static void
test_throughput_share(void **state)
{
    fx *f = *state;
    f->obj[0] = objective("throughput", cond(SW_SLI_THROUGHPUT, SW_OP_GE, 1000), false, 10 * MIN);
    f->obj[0].slice_target = 0.75;
    f->rules.n_objectives = 1;
    start(f);
    /* Slices 0-6: 12,000 requests per 10 s = 1200/s. Slice 7: only 3 of its 6 intervals have
     * data, 12,000 each: 36,000 / 30 data seconds = 1200/s, good (the missing half is not
     * held against it). Slices 8-9: 5,000 per 10 s = 500/s, bad. Then an hour of nothing. */
    add_run(f, NULL, NOON, 42, &(ivspec){.requests = 12000});
    add_run(f, NULL, NOON + 7 * MIN, 3, &(ivspec){.requests = 12000});
    add_run(f, NULL, NOON + 8 * MIN, 12, &(ivspec){.requests = 5000});
    advance(f, NOON + 10 * MIN);
    /* 8 of 10 slices with data reached 1000/s: 0.8 >= 0.75, met. Budget: 25 % of the 10
     * slices (2.5) may miss, 2 did: 1 - 2 / 2.5 = 0.2 left. */
    const sw_objective_result *o = &series(f, NULL).objectives[0];
    assert_true(o->has_verdict);
    assert_near(o->measured, 0.8, 1e-12);
    assert_true(o->met);
    assert_int_equal(o->samples, 10);
    assert_near(o->budget_remaining, 0.2, 1e-12);
    /* Slices that leave the rolling 10 minutes leave the counts: at 12:18 only slices 8 and 9
     * (both bad) remain, and 2 minutes of data in 10 are too few for a verdict. */
    advance(f, NOON + 18 * MIN);
    o = &series(f, NULL).objectives[0];
    assert_int_equal(o->samples, 2);
    assert_near(o->measured, 0.0, 0);
    assert_false(o->has_verdict);
}

static void
test_month_rollover(void **state)
{
    fx *f = *state;
    f->obj[0] = objective("latency-p95", pct(95, SW_OP_LE, 1500), true, 0);
    f->obj[1] = objective("availability", cond(SW_SLI_AVAILABILITY, SW_OP_GE, 0.999), true, 0);
    f->rules.n_objectives = 2;
    start(f);
    /* October's last 10 minutes at 2000 us, November's first 10 minutes at 1000 us. */
    add_run(f, NULL, T_NOV - 10 * MIN, 60,
            &(ivspec){.requests = 1000, .lat_us = 2000, .lat_n = 10});
    add_run(f, NULL, T_NOV, 60,
            &(ivspec){.requests = 1000, .errors = 1, .lat_us = 1000, .lat_n = 10});
    advance(f, T_NOV); /* now - 1 ms is still October */
    sw_series_result r = series(f, NULL);
    assert_int_equal(r.objectives[0].window_start_ms, T_OCT);
    assert_near(r.objectives[0].measured, 2000, 0);
    /* 10 minutes of data in October: too few for a verdict on the month. */
    assert_false(r.objectives[0].has_verdict);
    advance(f, T_NOV + 10 * MIN);
    r = series(f, NULL);
    assert_int_equal(r.objectives[0].window_start_ms, T_NOV);
    assert_near(r.objectives[0].measured, 1000, 0);
    /* Every interval of November so far has data: a verdict, so far (the month goes on). */
    assert_true(r.objectives[0].met);
    assert_true(r.objectives[0].so_far);
    /* November alone: 60 errors in 60,000 requests = availability 0.999 exactly. */
    assert_int_equal(r.objectives[1].samples, 60000);
    assert_near(r.objectives[1].measured, 0.999, 1e-12);
}

/* ------------------------------------------------------------------ gate */

static void
gate_rules(fx *f)
{
    f->checks[0] = cond(SW_SLI_ERROR_RATE, SW_OP_LE, 0.01);
    f->checks[1] = pct(95, SW_OP_LE, 500000);
    f->rules.gate.n_checks = 2;
}

static void
test_gate_pass_fail_inconclusive(void **state)
{
    fx *f = *state;
    gate_rules(f);
    start(f);
    /* Ten minutes each: green 0.5 % errors, blue 6.2 %, no env 1 request per interval. */
    add_run(f, "green", NOON, 60,
            &(ivspec){.requests = 1000, .errors = 5, .lat_us = 1000, .lat_n = 100});
    add_run(f, "blue", NOON, 60,
            &(ivspec){.requests = 1000, .errors = 62, .lat_us = 1000, .lat_n = 100});
    add_run(f, NULL, NOON, 60, &(ivspec){.requests = 1, .lat_us = 1000, .lat_n = 1});
    advance(f, NOON + 10 * MIN);

    sw_gate_result g = gate(f, "green", 0);
    assert_int_equal(g.verdict, SW_VERDICT_PASS);
    assert_string_equal(g.reason, "pass: 2 checks passed over 10m (60,000 requests)");
    assert_int_equal(g.n_checks, 2);
    assert_string_equal(g.checks[0].name, "error_rate");
    assert_near(g.checks[0].measured, 0.005, 1e-15);
    assert_int_equal(g.checks[0].op, SW_OP_LE);
    assert_near(g.checks[0].threshold, 0.01, 0);
    assert_int_equal(g.checks[0].samples, 60000);
    assert_int_equal(g.checks[0].window_ms, 10 * MIN);
    assert_string_equal(g.checks[1].name, "p95");
    assert_near(g.checks[1].measured, 1000, 0);
    assert_true(g.checks[0].passed && g.checks[1].passed);
    assert_int_equal(g.window_start_ms, NOON);
    assert_int_equal(g.window_end_ms, NOON + 10 * MIN);

    g = gate(f, "blue", 0);
    assert_int_equal(g.verdict, SW_VERDICT_FAIL);
    assert_false(g.checks[0].passed);
    assert_true(g.checks[1].passed);
    assert_string_equal(g.reason, "fail: error_rate 6.2% > 1% over 10m (60,000 requests)");

    g = gate(f, NULL, 0);
    assert_int_equal(g.verdict, SW_VERDICT_INCONCLUSIVE);
    assert_string_equal(g.reason, "inconclusive: 60 requests over 10m, fewer than the 100 needed");
    assert_near(g.checks[0].measured, 0, 0); /* measured anyway, not judged */
    assert_false(g.checks[0].passed);

    /* A deployment five minutes ago: the window starts there. */
    sw_eval_mark_deployment(f->ev, "api", "green", NOON + 5 * MIN);
    g = gate(f, "green", 0);
    assert_int_equal(g.checks[0].window_ms, 5 * MIN);
    assert_int_equal(g.checks[0].samples, 30000);
    assert_string_equal(g.reason, "pass: 2 checks passed over 5m (30,000 requests)");

    sw_err err;
    assert_int_equal(sw_eval_gate(f->ev, "web", NULL, 0, &g, &err), SW_E_INVAL);
    assert_int_equal(sw_eval_gate(f->ev, "api", "red", 0, &g, &err), SW_E_INVAL);
}

static void
compare_rules(fx *f)
{
    f->checks[0] = cond(SW_SLI_ERROR_RATE, SW_OP_LE, 0.05);
    f->rules.gate.n_checks = 1;
    f->rules.gate.baseline = "blue";
    f->rules.gate.max_error_rate_increase = 0.005;
    f->rules.gate.max_latency_increase = 0.2;
}

static void
test_gate_baseline_fail(void **state)
{
    fx *f = *state;
    compare_rules(f);
    start(f);
    /* blue: 0.2 % errors, 1000 us; green: 1 % errors, 1200 us, 60,000 requests each. The
     * error rate is 0.8 points higher, more than the 0.5 allowed by far more than the
     * interval's half-width (about 0.18 points at 60,000 requests): fail. Every latency
     * percentile is exactly 20 % higher: within the 20 % allowed. */
    add_run(f, "blue", NOON, 60,
            &(ivspec){.requests = 1000, .errors = 2, .lat_us = 1000, .lat_n = 100});
    add_run(f, "green", NOON, 60,
            &(ivspec){.requests = 1000, .errors = 10, .lat_us = 1200, .lat_n = 100});
    advance(f, NOON + 10 * MIN);
    sw_gate_result g = gate(f, "green", 0);
    assert_int_equal(g.verdict, SW_VERDICT_FAIL);
    assert_int_equal(g.n_checks, 5);
    assert_true(g.checks[0].passed);
    assert_string_equal(g.checks[1].name, "error_rate_increase");
    assert_near(g.checks[1].measured, 0.008, 1e-15);
    assert_int_equal(g.checks[1].verdict, SW_VERDICT_FAIL);
    assert_true(g.checks[1].lower > 0.005 && g.checks[1].lower < 0.008);
    assert_true(g.checks[1].upper > 0.008);
    assert_near(g.checks[1].confidence, 0.99, 0);
    assert_int_equal(g.checks[1].samples, 60000);
    assert_int_equal(g.checks[1].baseline_samples, 60000);
    const char *names[] = {"p50_increase", "p95_increase", "p99_increase"};
    for (int i = 0; i < 3; i++) {
        const sw_gate_check *c = &g.checks[2 + i];
        assert_string_equal(c->name, names[i]);
        assert_near(c->measured, 0.2, 1e-12);
        assert_int_equal(c->verdict, SW_VERDICT_PASS);
        assert_true(c->passed);
        /* Every value of each side in one bucket: the bounds close on the ratio itself. */
        assert_near(c->lower, 0.2, 1e-6);
        assert_near(c->upper, 0.2, 1e-6);
        assert_int_equal(c->more_samples, 0);
    }
    assert_non_null(strstr(g.reason, "fail: error rate +0.8% vs blue (at least +0."));
    assert_non_null(strstr(g.reason, "with 99% confidence, more than the 0.5% allowed) over "
                                     "10m (60,000 and 60,000 requests)"));
    /* The baseline itself is not compared with itself. */
    g = gate(f, "blue", 0);
    assert_int_equal(g.n_checks, 1);
    assert_int_equal(g.verdict, SW_VERDICT_PASS);
}

static void
test_gate_baseline_pass_and_thin_baseline(void **state)
{
    fx *f = *state;
    compare_rules(f);
    start(f);
    /* 0.3 % vs 0.2 % errors: +0.1 %, well inside 0.5 %; the same latencies, inside 20 %. */
    add_run(f, "blue", NOON, 60,
            &(ivspec){.requests = 1000,
                      .errors = 2,
                      .lat_us = 1000,
                      .lat_n = 500,
                      .lat2_us = 3000,
                      .lat2_n = 500});
    add_run(f, "green", NOON, 60,
            &(ivspec){.requests = 1000,
                      .errors = 3,
                      .lat_us = 1000,
                      .lat_n = 500,
                      .lat2_us = 3000,
                      .lat2_n = 500});
    advance(f, NOON + 10 * MIN);
    sw_gate_result g = gate(f, "green", 0);
    assert_int_equal(g.verdict, SW_VERDICT_PASS);
    assert_near(g.checks[1].measured, 0.001, 1e-15);
    assert_true(g.checks[1].upper < 0.005);
    assert_int_equal(g.n_checks, 5);
    for (int i = 2; i < 5; i++) {
        assert_near(g.checks[i].measured, 0.0, 0);
        assert_true(g.checks[i].upper < 0.2);
        assert_true(g.checks[i].passed);
    }
    assert_string_equal(g.reason, "pass: 5 checks passed over 10m (60,000 requests)");
    /* A baseline with too few requests (60 < 100) leaves the comparison without a verdict. */
    sw_eval_free(f->ev);
    f->ev = NULL;
    start(f);
    add_run(f, "blue", NOON, 60, &(ivspec){.requests = 1, .lat_us = 1000, .lat_n = 1});
    add_run(f, "green", NOON, 60, &(ivspec){.requests = 1000, .lat_us = 1000, .lat_n = 10});
    advance(f, NOON + 10 * MIN);
    g = gate(f, "green", 0);
    assert_int_equal(g.verdict, SW_VERDICT_INCONCLUSIVE);
    assert_string_equal(g.reason, "inconclusive: green and baseline blue had 60,000 and 60 "
                                  "requests over 10m, fewer than the 100 needed");
    assert_true(g.checks[0].passed); /* the candidate's own check is judged */
    assert_false(g.checks[1].passed);
    assert_int_equal(g.checks[1].verdict, SW_VERDICT_INCONCLUSIVE);
}

/* ------------------------------------------------------------------ feeding */

static void
test_add_rejects(void **state)
{
    fx *f = *state;
    start(f);
    sw_sli_interval iv = {.start_ms = NOON, .length_ms = BASE, .requests = 10, .has_data = true};
    sw_err err;
    assert_int_equal(sw_eval_add(f->ev, "api", NULL, &iv, &err), SW_OK);
    /* The same interval again, one that starts inside it, and one before it. */
    assert_int_equal(sw_eval_add(f->ev, "api", NULL, &iv, &err), SW_E_INVAL);
    assert_non_null(strstr(err.msg, "overlaps"));
    iv.start_ms = NOON - BASE;
    assert_int_equal(sw_eval_add(f->ev, "api", NULL, &iv, &err), SW_E_INVAL);
    iv.start_ms = NOON + 5 * SEC; /* not aligned */
    assert_int_equal(sw_eval_add(f->ev, "api", NULL, &iv, &err), SW_E_INVAL);
    iv.start_ms = NOON + BASE;
    iv.length_ms = 15 * SEC;
    assert_int_equal(sw_eval_add(f->ev, "api", NULL, &iv, &err), SW_E_INVAL);
    iv.length_ms = 2 * BASE; /* a multiple of the base interval is fine */
    assert_int_equal(sw_eval_add(f->ev, "api", NULL, &iv, &err), SW_OK);
    iv.start_ms = NOON + 3 * BASE;
    assert_int_equal(sw_eval_add(f->ev, "web", NULL, &iv, &err), SW_E_INVAL);
    assert_int_equal(sw_eval_add(f->ev, "api", "red", &iv, &err), SW_E_INVAL);
    iv.errors = 11;
    assert_int_equal(sw_eval_add(f->ev, "api", NULL, &iv, &err), SW_E_INVAL);
    iv.errors = 0;
    advance(f, NOON + HOUR);
    assert_int_equal(sw_eval_advance(f->ev, NOON, &err), SW_E_INVAL); /* time went back */
    /* Data for 30 s of the hour since the first interval. */
    sw_series_result r = series(f, NULL);
    assert_near(r.coverage, 30.0 / 3600.0, 1e-12);
    assert_string_equal(sw_eval_verdict_str(SW_VERDICT_INCONCLUSIVE), "inconclusive");
    assert_string_equal(sw_eval_alert_state_str(SW_ALERT_PENDING), "pending");
}

/* ------------------------------------------------------------------ property tests */

/* What the brute force keeps of each interval: counts and the raw latency values. */
typedef struct kept {
    int64_t start;
    uint64_t requests, errors;
    bool maint;
    int n_values;
    int64_t values[12];
} kept;

static uint64_t
rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* A random interval: gaps, bursts of errors and log-spread latencies (1 us ... 3.3 s). */
static kept
random_interval(uint64_t *seed, int64_t start, bool maint)
{
    kept k = {.start = start, .maint = maint};
    k.requests = rnd(seed) % 60;
    k.errors = k.requests ? rnd(seed) % (k.requests + 1) / (1 + rnd(seed) % 4) : 0;
    k.n_values = (int)(rnd(seed) % 12);
    for (int i = 0; i < k.n_values; i++)
        k.values[i] = (int64_t)exp((double)(rnd(seed) % 1500) / 100.0);
    return k;
}

static sw_hdr *
hist_of(const kept *k)
{
    sw_hdr *h;
    assert_int_equal(sw_hdr_new(&sw_hdr_latency_config, &h, NULL), SW_OK);
    for (int i = 0; i < k->n_values; i++)
        sw_hdr_record(h, k->values[i]);
    return h;
}

static void
feed_kept(fx *f, const kept *k)
{
    sw_sli_interval iv = {.start_ms = k->start,
                          .length_ms = BASE,
                          .requests = k->requests,
                          .errors = k->errors,
                          .latency = hist_of(k),
                          .has_data = true};
    assert_int_equal(sw_eval_add(f->ev, "api", NULL, &iv, NULL), SW_OK);
    sw_sli_interval_fini(&iv);
}

static bool
in_window(const kept *k, int64_t from, int64_t to, bool excl_maint)
{
    return k->start >= from && k->start + BASE <= to && !(excl_maint && k->maint);
}

/* Brute force: record every value of the intervals with start >= from and end <= to. */
static double
brute_percentile(const kept *ks, size_t n, int64_t from, int64_t to, bool excl_maint,
                 double percentile)
{
    sw_hdr *h;
    uint64_t requests = 0;
    assert_int_equal(sw_hdr_new(&sw_hdr_latency_config, &h, NULL), SW_OK);
    for (size_t i = 0; i < n; i++)
        if (in_window(&ks[i], from, to, excl_maint)) {
            for (int v = 0; v < ks[i].n_values; v++)
                sw_hdr_record(h, ks[i].values[v]);
            requests += ks[i].requests;
        }
    double v = requests > 0 && sw_hdr_total_count(h) > 0
                   ? (double)sw_hdr_value_at_percentile(h, percentile)
                   : NAN;
    sw_hdr_free(h);
    return v;
}

static double
brute_error_rate(const kept *ks, size_t n, int64_t from, int64_t to, bool excl_maint)
{
    uint64_t requests = 0, errors = 0;
    for (size_t i = 0; i < n; i++)
        if (in_window(&ks[i], from, to, excl_maint)) {
            requests += ks[i].requests;
            errors += ks[i].errors;
        }
    return requests > 0 ? (double)errors / (double)requests : NAN;
}

static void
assert_same(double got, double want)
{
    if (isnan(want))
        assert_true(isnan(got));
    else
        assert_true(got == want);
}

static void
test_sliding_equals_brute_force(void **state)
{
    fx *f = *state;
    f->rules.min_requests = 1;
    f->alerts[0] = alert("P95", pct(95, SW_OP_GT, 1e12), MIN, 0);
    f->alerts[1] = alert("P99", pct(99, SW_OP_GT, 1e12), 5 * MIN, 0);
    f->alerts[2] = alert("Errors", cond(SW_SLI_ERROR_RATE, SW_OP_GT, 2), 2 * MIN, 0);
    f->rules.n_alerts = 3;
    f->obj[0] = objective("p90-1h", pct(90, SW_OP_LE, 1e12), false, HOUR);
    f->obj[1] = objective("p50-month", pct(50, SW_OP_LE, 1e12), true, 0);
    f->obj[2] = objective("errors-1h", cond(SW_SLI_ERROR_RATE, SW_OP_LE, 1), false, HOUR);
    f->rules.n_objectives = 3;
    int64_t t0 = T_NOV - 90 * MIN; /* crosses into November */
    f->maint[0] = (sw_maintenance){t0 + 20 * MIN + 5 * SEC, t0 + 31 * MIN, "test"};
    f->svc.maintenance = f->maint;
    f->svc.n_maintenance = 1;
    start(f);
    enum { N = 1000 };
    kept *ks = calloc(N, sizeof *ks);
    size_t n = 0;
    uint64_t seed = 0x9e3779b97f4a7c15u;
    for (int step = 0; step < N; step++) {
        int64_t start = t0 + step * BASE;
        /* Intervals overlapping the maintenance window [t0+20m5s, t0+31m) are left out. */
        bool maint = start + BASE > t0 + 20 * MIN + 5 * SEC && start < t0 + 31 * MIN;
        if (step == 0 || rnd(&seed) % 10 != 0) { /* about one interval in ten is missing */
            ks[n] = random_interval(&seed, start, maint);
            feed_kept(f, &ks[n++]);
        }
        if (rnd(&seed) % 3 == 0)
            continue; /* sometimes several boundaries pass in one advance */
        int64_t now = start + BASE + (int64_t)(rnd(&seed) % BASE);
        int64_t t = now / BASE * BASE; /* the last boundary evaluated */
        advance(f, now);
        sw_series_result r = series(f, NULL);
        assert_same(r.alerts[0].measured, brute_percentile(ks, n, t - MIN, t, false, 95));
        assert_same(r.alerts[1].measured, brute_percentile(ks, n, t - 5 * MIN, t, false, 99));
        assert_same(r.alerts[2].measured, brute_error_rate(ks, n, t - 2 * MIN, t, false));
        assert_same(r.objectives[0].measured, brute_percentile(ks, n, now - HOUR, now, true, 90));
        int64_t month = now - 1 < T_NOV ? T_OCT : T_NOV;
        assert_same(r.objectives[1].measured, brute_percentile(ks, n, month, now, true, 50));
        assert_same(r.objectives[2].measured, brute_error_rate(ks, n, now - HOUR, now, true));
    }
    free(ks);
}

static void
test_long_windows_from_rollups(void **state)
{
    fx *f = *state;
    f->rules.min_requests = 1;
    f->obj[0] = objective("p50-3d", pct(50, SW_OP_LE, 1e12), false, 3 * DAY);
    f->obj[1] = objective("errors-3d", cond(SW_SLI_ERROR_RATE, SW_OP_LE, 1), false, 3 * DAY);
    f->rules.n_objectives = 2;
    start(f);
    /* 3.5 days of random intervals, evaluated every 10 minutes (at odd seconds). Beyond 2 d,
     * counts come from minute and hour rollups with the window's old edge at the next whole
     * minute; the latency window's old edge moves by whole hours. */
    enum { N = 30240 };
    kept *ks = calloc(N, sizeof *ks);
    size_t n = 0;
    uint64_t seed = 12345;
    int64_t t0 = T_OCT + 3 * DAY;
    for (int step = 0; step < N; step++) {
        int64_t start = t0 + step * BASE;
        if (step == 0 || rnd(&seed) % 10 != 0) {
            ks[n] = random_interval(&seed, start, false);
            feed_kept(f, &ks[n++]);
        }
        if (step % 60 != 59)
            continue;
        int64_t now = start + BASE + 7 * SEC;
        advance(f, now);
        sw_series_result r = series(f, NULL);
        int64_t from_min = (now - 3 * DAY + MIN - 1) / MIN * MIN;
        int64_t from_hour = (now - 3 * DAY + HOUR - 1) / HOUR * HOUR;
        assert_same(r.objectives[1].measured, brute_error_rate(ks, n, from_min, now, true));
        /* The latency brute force re-merges everything: every 200 minutes, then at every
         * evaluation once the window is full and its old edge moves. */
        if (step % 1200 == 1199 || now - 3 * DAY > t0)
            assert_same(r.objectives[0].measured,
                        brute_percentile(ks, n, from_hour, now, true, 50));
    }
    free(ks);
}

/* ------------------------------------------------------------------ restarts and stats */

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

/* Marked right after five bad minutes: the triggers' windows (1 min over, p95 over 1 min) start
 * at the mark, so the good traffic after it does not re-fire them on the bad traffic before. */
static void
test_trigger_window_starts_at_mark(void **state)
{
    fx *f = *state;
    f->triggers[0] = alert("ErrorRateSpike", cond(SW_SLI_ERROR_RATE, SW_OP_GT, 0.05), MIN, 0);
    f->triggers[1] = alert("LatencyP95Spike", pct(95, SW_OP_GT, 2e6), MIN, 0);
    f->triggers[2] =
        alert("HealthFailing", cond(SW_SLI_HEALTH_CONSECUTIVE_FAILURES, SW_OP_GT, 3), MIN, 0);
    f->rules.n_triggers = 3;
    start(f);
    add_run(
        f, "green", NOON, 30,
        &(ivspec){.requests = 1000, .errors = 500, .health = "0", .lat_us = 3000000, .lat_n = 100});
    for (int64_t t = NOON; t <= NOON + 5 * MIN; t += BASE)
        advance(f, t);
    for (int i = 0; i < 3; i++)
        assert_true(series(f, "green").triggers[i].fired);
    sw_eval_mark_deployment(f->ev, "api", "green", NOON + 5 * MIN);
    add_run(f, "green", NOON + 5 * MIN, 12,
            &(ivspec){.requests = 1000, .health = "1", .lat_us = 1000, .lat_n = 100});
    for (int64_t t = NOON + 5 * MIN + BASE; t <= NOON + 7 * MIN; t += BASE)
        advance(f, t);
    for (int i = 0; i < 3; i++)
        assert_false(series(f, "green").triggers[i].fired);
}

static void
test_restore_trigger(void **state)
{
    fx *f = *state;
    f->triggers[0] = alert("ErrorRateSpike", cond(SW_SLI_ERROR_RATE, SW_OP_GT, 0.05), MIN, 0);
    f->rules.n_triggers = 1;
    start(f);
    sw_err err;
    assert_int_equal(sw_eval_restore_trigger(f->ev, "api", "green", "ErrorRateSpike", NOON, &err),
                     SW_OK);
    assert_int_equal(sw_eval_restore_trigger(f->ev, "api", "green", "Nope", NOON, &err),
                     SW_E_INVAL);
    assert_int_equal(sw_eval_restore_trigger(f->ev, "web", "green", "ErrorRateSpike", NOON, &err),
                     SW_E_INVAL);
    add_run(f, "green", NOON, 6, &(ivspec){.requests = 1000});
    advance(f, NOON + MIN);
    sw_trigger_result tr = series(f, "green").triggers[0];
    assert_true(tr.fired);
    assert_int_equal(tr.fired_at_ms, NOON);
    sw_eval_mark_deployment(f->ev, "api", "green", NOON + MIN);
    assert_false(series(f, "green").triggers[0].fired);
}

/* Six intervals: the last three (the 30 s window) hold 3 x 1000 requests, 3 x 20 errors and
 * latencies 3 x (90 x 1000 us + 10 x 5000 us): p50 = 1000 us; p95 = p99 fall among the 5000s.
 * With 3 significant digits buckets are 1 us wide below 2048 and 4 us wide from 4096 to 8191,
 * and HdrHistogram reports a bucket's highest equivalent value: 1000 and 5003. */
static void
test_window_stats(void **state)
{
    fx *f = *state;
    start(f);
    add_run(f, "blue", NOON, 3,
            &(ivspec){.requests = 500, .errors = 400, .lat_us = 9000, .lat_n = 100});
    add_run(f, "blue", NOON + 30 * SEC, 3,
            &(ivspec){.requests = 1000,
                      .errors = 20,
                      .health = "10",
                      .lat_us = 1000,
                      .lat_n = 90,
                      .lat2_us = 5000,
                      .lat2_n = 10});
    advance(f, NOON + MIN);
    sw_window_stats ws;
    sw_err err;
    assert_int_equal(sw_eval_window_stats(f->ev, "api", "blue", 30 * SEC, NULL, &ws, &err), SW_OK);
    assert_int_equal(ws.requests, 3000);
    assert_int_equal(ws.errors, 60);
    assert_int_equal(ws.probes, 6);
    assert_int_equal(ws.probe_failures, 3);
    assert_near(ws.coverage, 1.0, 1e-12);
    assert_near(ws.p50_us, 1000, 0);
    assert_near(ws.p95_us, 5003, 0);
    assert_near(ws.p99_us, 5003, 0);
    assert_int_equal(sw_eval_window_stats(f->ev, "api", "blue", 2 * MIN, NULL, &ws, &err), SW_OK);
    assert_int_equal(ws.requests, 4500);
    assert_near(ws.coverage, 0.5, 1e-12);
    assert_int_equal(sw_eval_window_stats(f->ev, "api", "red", MIN, NULL, &ws, &err), SW_E_INVAL);
}

/* ------------------------------------------------------------------ work follows arrivals */

static sw_eval_work_done
work(const fx *f)
{
    sw_eval_work_done w;
    sw_eval_work(f->ev, &w);
    return w;
}

/*
 * What an advance does is counted: series evaluated, histograms moved in or out of latency
 * windows. Advancing again at the same time with nothing new does none of it (a deployment
 * mark re-advances at the last boundary); a boundary moves each window by what arrived and
 * what left, and the answers are those of an evaluator that never skipped.
 */
static void
test_work_follows_arrivals(void **state)
{
    fx *f = *state;
    f->alerts[0] = alert("Slow", pct(95, SW_OP_GT, 500000), 5 * MIN, 0);
    f->rules.n_alerts = 1;
    f->obj[0] = objective("p95", pct(95, SW_OP_LE, 300000), false, HOUR);
    f->rules.n_objectives = 1;
    start(f);
    const ivspec sp = {
        .requests = 200, .lat_us = 100000, .lat_n = 190, .lat2_us = 900000, .lat2_n = 10};
    add_run(f, "blue", NOON, 30, &sp);
    add_run(f, "green", NOON, 30, &sp);
    advance(f, NOON + 30 * BASE);
    sw_eval_work_done before = work(f);
    assert_int_equal(before.series_evaluated, 2);
    assert_int_equal(before.window_steps, 2 * (30 + 30)); /* each series: 5m and 1h windows */
    sw_series_result was = series(f, "blue");
    double measured = was.objectives[0].measured;

    sw_eval_mark_deployment(f->ev, "api", "green", NOON + 30 * BASE);
    advance(f, NOON + 30 * BASE);
    sw_eval_work_done again = work(f);
    assert_int_equal(again.series_evaluated, before.series_evaluated);
    assert_int_equal(again.window_steps, before.window_steps);
    assert_true(series(f, "blue").objectives[0].measured == measured);

    /* One interval for blue: its 5m window takes it in and lets the oldest go, its 1h window
     * takes it in; green's 5m window lets its oldest go. */
    add(f, "blue", NOON + 30 * BASE, &sp);
    advance(f, NOON + 31 * BASE);
    sw_eval_work_done next = work(f);
    assert_int_equal(next.series_evaluated, before.series_evaluated + 2);
    assert_int_equal(next.window_steps, before.window_steps + 2 + 1 + 1);
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
        cmocka_unit_test_setup_teardown(test_trigger_latch_and_mark, setup, teardown),
        cmocka_unit_test_setup_teardown(test_objectives_month_with_maintenance, setup, teardown),
        cmocka_unit_test_setup_teardown(test_budget_numbers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeslices, setup, teardown),
        cmocka_unit_test_setup_teardown(test_throughput_share, setup, teardown),
        cmocka_unit_test_setup_teardown(test_month_rollover, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gate_pass_fail_inconclusive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gate_baseline_fail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gate_baseline_pass_and_thin_baseline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_add_rejects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sliding_equals_brute_force, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_windows_from_rollups, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alerts_from_skips_history, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restore_trigger, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trigger_window_starts_at_mark, setup, teardown),
        cmocka_unit_test_setup_teardown(test_window_stats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_work_follows_arrivals, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
