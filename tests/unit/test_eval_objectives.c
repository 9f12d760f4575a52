/*
 * The evaluator's objectives and error budgets: a month with maintenance, budget numbers,
 * timeslices, throughput shares and the month's rollover. Expected numbers worked out by hand in
 * the comments (fixture: tests/support/eval_fixture.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "eval_fixture.h"

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

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_objectives_month_with_maintenance, setup, teardown),
        cmocka_unit_test_setup_teardown(test_budget_numbers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeslices, setup, teardown),
        cmocka_unit_test_setup_teardown(test_throughput_share, setup, teardown),
        cmocka_unit_test_setup_teardown(test_month_rollover, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
