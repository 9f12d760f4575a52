/*
 * Unit tests for the demo's traffic simulator: deterministic intervals, the script's timing,
 * and distributions that match their parameters (expected percentiles from the log-normal
 * quantile function: median * exp(sigma * z_p), z_0.95 = 1.644854).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "slawatch/sim.h"

#define MIN INT64_C(60000)
#define T0 INT64_C(1790812800000) /* 2026-10-01T00:00:00Z */
#define BASE INT64_C(10000)

static sw_sli_interval
interval(const char *env, int64_t start_ms)
{
    sw_sim_scenario sc = sw_sim_default(T0);
    sw_sli_interval iv;
    assert_int_equal(sw_sim_interval(&sc, env, start_ms, BASE, &iv, NULL), SW_OK);
    return iv;
}

static void
test_deterministic(void **state)
{
    (void)state;
    sw_sli_interval a = interval("green", T0 + 3 * MIN), b = interval("green", T0 + 3 * MIN);
    assert_int_equal(a.requests, 12000);
    assert_int_equal(a.errors, b.errors);
    assert_int_equal(sw_hdr_value_at_percentile(a.latency, 99),
                     sw_hdr_value_at_percentile(b.latency, 99));
    sw_sli_interval_fini(&a);
    sw_sli_interval_fini(&b);
}

static void
check_phase(const char *env, int64_t from_ms, double error_rate, double median_us, bool probe_ok)
{
    uint64_t requests = 0, errors = 0;
    sw_hdr *all;
    assert_int_equal(sw_hdr_new(&sw_hdr_latency_config, &all, NULL), SW_OK);
    for (int i = 0; i < 12; i++) {
        sw_sli_interval iv = interval(env, from_ms + i * BASE);
        requests += iv.requests;
        errors += iv.errors;
        sw_hdr_add(all, iv.latency);
        assert_int_equal(iv.health.probes, 1);
        assert_int_equal(iv.health.failures, probe_ok ? 0 : 1);
        sw_sli_interval_fini(&iv);
    }
    double rate = (double)errors / (double)requests;
    /* 144000 requests: the count is rounded per interval, within 1 per interval of expected. */
    assert_true(fabs(rate - error_rate) <= 12.0 / (double)requests);
    double p50 = (double)sw_hdr_value_at_percentile(all, 50);
    double p95 = (double)sw_hdr_value_at_percentile(all, 95);
    assert_true(fabs(p50 / median_us - 1) < 0.02);
    assert_true(fabs(p95 / (median_us * exp(SW_SIM_SIGMA * 1.644854)) - 1) < 0.03);
    sw_hdr_free(all);
}

static void
test_script(void **state)
{
    (void)state;
    check_phase("blue", T0, SW_SIM_GOOD_ERROR_RATE, SW_SIM_GOOD_MEDIAN_US, true);
    check_phase("blue", T0 + 20 * MIN, SW_SIM_GOOD_ERROR_RATE, SW_SIM_GOOD_MEDIAN_US, true);
    check_phase("green", T0 + 5 * MIN, SW_SIM_GOOD_ERROR_RATE, SW_SIM_GOOD_MEDIAN_US, true);
    check_phase("green", T0 + 11 * MIN, SW_SIM_BAD_ERROR_RATE, SW_SIM_BAD_MEDIAN_US, true);
    check_phase("green", T0 + 15 * MIN, SW_SIM_BAD_ERROR_RATE, SW_SIM_BAD_MEDIAN_US, false);
}

static void
test_unknown_env(void **state)
{
    (void)state;
    sw_sim_scenario sc = sw_sim_default(T0);
    sw_sli_interval iv;
    sw_err err;
    assert_int_equal(sw_sim_interval(&sc, "red", T0, BASE, &iv, &err), SW_E_INVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_script),
        cmocka_unit_test(test_unknown_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
