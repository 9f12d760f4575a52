/*
 * The evaluator's rollback triggers: the latch and the deployment mark that clears it, windows
 * that start at the mark, and a latch restored after a restart. Expected numbers worked out by
 * hand in the comments (fixture: tests/support/eval_fixture.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "eval_fixture.h"

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

/* ------------------------------------------------------------------ restarts */

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

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_trigger_latch_and_mark, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trigger_window_starts_at_mark, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restore_trigger, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
