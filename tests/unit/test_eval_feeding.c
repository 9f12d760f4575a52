/*
 * What the evaluator takes and what an advance does with it: intervals refused (overlapping,
 * misaligned, unknown service or environment, more errors than requests, time going back), and
 * the work of an advance following what arrived (fixture: tests/support/eval_fixture.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "eval_fixture.h"

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
        cmocka_unit_test_setup_teardown(test_add_rejects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_work_follows_arrivals, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
