/*
 * The deploy gate as the evaluator answers it: pass, fail and inconclusive on the rules' checks,
 * and the comparison with a baseline environment. Expected numbers worked out by hand in the
 * comments (fixture: tests/support/eval_fixture.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "eval_fixture.h"
#include "slawatch/canary.h"
#include "slawatch/hdr.h"

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
    /* A baseline with too few requests (60 < 100) leaves the comparison without a verdict.
     * Each check still shows its own estimate: errors 1 % against none (+0.01), every latency
     * 1,500 us against 1,000 (+50 %; both exact in the layout), not the error rate's. */
    sw_eval_free(f->ev);
    f->ev = NULL;
    start(f);
    add_run(f, "blue", NOON, 60, &(ivspec){.requests = 1, .lat_us = 1000, .lat_n = 1});
    add_run(f, "green", NOON, 60,
            &(ivspec){.requests = 1000, .errors = 10, .lat_us = 1500, .lat_n = 10});
    advance(f, NOON + 10 * MIN);
    g = gate(f, "green", 0);
    assert_int_equal(g.verdict, SW_VERDICT_INCONCLUSIVE);
    assert_string_equal(g.reason, "inconclusive: green and baseline blue had 60,000 and 60 "
                                  "requests over 10m, fewer than the 100 needed");
    assert_true(g.checks[0].passed); /* the candidate's own check is judged */
    assert_false(g.checks[1].passed);
    assert_int_equal(g.checks[1].verdict, SW_VERDICT_INCONCLUSIVE);
    assert_near(g.checks[1].measured, 0.01, 1e-15);
    for (int i = 2; i < 5; i++) {
        assert_near(g.checks[i].measured, 0.5, 0);
        assert_int_equal(g.checks[i].verdict, SW_VERDICT_INCONCLUSIVE);
        assert_false(g.checks[i].passed);
    }
}

/* ------------------------------------------------------------------ wide windows */

/* A latency spread log-uniformly over 100 us .. 60 s, scaled by `slower` (deterministic). */
static int64_t
wide_value(uint64_t *x, double slower)
{
    *x = *x * 6364136223846793005u + 1442695040888963407u;
    double u = (double)(*x >> 11) / 9007199254740992.0;
    return (int64_t)(100.0 * exp(u * log(600000.0)) * slower);
}

/* 60 intervals of 250 wide values from `seed` into env, each value also into ref (dense). */
static void
add_wide_run(fx *f, const char *env, uint64_t seed, double slower, sw_hdr *ref)
{
    uint64_t x = seed;
    for (int i = 0; i < 60; i++) {
        sw_sli_interval iv = {
            .start_ms = NOON + i * BASE, .length_ms = BASE, .requests = 250, .has_data = true};
        assert_int_equal(sw_hdr_new(&sw_hdr_latency_config, &iv.latency, NULL), SW_OK);
        for (int k = 0; k < 250; k++) {
            int64_t v = wide_value(&x, slower);
            sw_hdr_record(iv.latency, v);
            sw_hdr_record(ref, v);
        }
        assert_int_equal(sw_eval_add(f->ev, "api", env, &iv, NULL), SW_OK);
        sw_sli_interval_fini(&iv);
    }
}

static void
assert_compared_as(const sw_gate_check *c, const sw_canary_result *want)
{
    assert_near(c->measured, want->estimate, 0);
    assert_near(c->lower, want->lower, 0);
    assert_near(c->upper, want->upper, 0);
    assert_int_equal(c->more_samples, want->more_samples);
}

/*
 * Windows of 15,000 values over thousands of distinct buckets (past the compact histogram's
 * limit), the candidate 10 % slower: the gate's p95 and p99 checks are the percentiles of every
 * value fed, and its latency comparisons are those of two dense histograms that recorded the
 * values one by one, whatever form the gate merges the windows' intervals into.
 */
static void
test_gate_wide_windows_answer_from_every_value(void **state)
{
    fx *f = *state;
    compare_rules(f);
    f->checks[1] = pct(95, SW_OP_LE, 500000);
    f->checks[2] = pct(99, SW_OP_LE, 1000000);
    f->rules.gate.n_checks = 3;
    start(f);
    sw_hdr *ref[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(sw_hdr_new_dense(&sw_hdr_latency_config, &ref[i], NULL), SW_OK);
    add_wide_run(f, "green", 7, 1.1, ref[0]);
    add_wide_run(f, "blue", 7, 1.0, ref[1]);
    advance(f, NOON + 10 * MIN);
    sw_gate_result g = gate(f, "green", 0);
    assert_int_equal(g.n_checks, 7);
    assert_string_equal(g.checks[1].name, "p95");
    assert_near(g.checks[1].measured, sw_hdr_value_at_percentile(ref[0], 95), 0);
    assert_string_equal(g.checks[2].name, "p99");
    assert_near(g.checks[2].measured, sw_hdr_value_at_percentile(ref[0], 99), 0);

    sw_canary_latencies *cmp;
    assert_int_equal(sw_canary_latencies_new(ref[0], ref[1], &cmp, NULL), SW_OK);
    double alpha = (1.0 - 0.99) / 4; /* the error rate's comparison and three percentiles' */
    const double at[] = {50, 95, 99};
    for (int i = 0; i < 3; i++) {
        sw_canary_result want;
        sw_canary_latency_at(cmp, at[i], 0.2, alpha, &want);
        assert_true(want.estimate > 0.05 && want.estimate < 0.15);
        assert_compared_as(&g.checks[4 + i], &want);
    }
    sw_canary_latencies_free(cmp);
    sw_hdr_free(ref[0]);
    sw_hdr_free(ref[1]);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_gate_pass_fail_inconclusive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gate_baseline_fail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gate_baseline_pass_and_thin_baseline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gate_wide_windows_answer_from_every_value, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
