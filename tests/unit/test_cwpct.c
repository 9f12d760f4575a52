/*
 * Unit tests for the CloudWatch percentile grid (collector/cwpct.c): the documented 1 % bound
 * on P95, P97.5, P99, P99.5 of merged hours and a month of synthetic periods, measured against
 * the exact percentiles of every drawn value; exact totals; placement on hand-computed cases;
 * the PR(:T) helpers; refused inputs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>

#include "cwpct_sim.h"
#include "slawatch/cwpct.h"

#define BOUND 0.01 /* collector/CLOUDWATCH.md, "Percentile grid" */

static const double checked[] = {95, 97.5, 99, 99.5};

/* The shapes the bound is documented for; log-normal sigma 0.75 is only measured (bench). */
static const cwsim_shape bounded[] = {CWSIM_LOGNORMAL_05, CWSIM_BIMODAL};

static sw_hdr *
new_hdr(void)
{
    sw_hdr *h = NULL;
    assert_int_equal(sw_hdr_new(&sw_hdr_latency_config, &h, NULL), SW_OK);
    return h;
}

/* periods of per_period values each (varied +-50 % when vary) merged into one histogram. */
static void
check_window(cwsim_shape shape, size_t periods, size_t per_period, bool vary, uint64_t seed)
{
    sw_rng r = {seed};
    int64_t *all = malloc(periods * per_period * 2 * sizeof *all);
    assert_non_null(all);
    size_t n_all = 0;
    sw_hdr *h = new_hdr();
    for (size_t p = 0; p < periods; p++) {
        size_t n = vary ? per_period / 2 + (size_t)(sw_rng_next(&r) % per_period) : per_period;
        assert_int_equal(cwsim_period(&r, shape, n, all, &n_all, h, NULL), SW_OK);
    }
    assert_int_equal(sw_hdr_total_count(h), (int64_t)n_all);
    qsort(all, n_all, sizeof *all, cwsim_cmp);
    for (size_t i = 0; i < sizeof checked / sizeof checked[0]; i++) {
        double e = cwsim_error(h, all, n_all, checked[i]);
        if (fabs(e) > BOUND)
            fail_msg("%s P%g: %.3f %% off", cwsim_shape_names[shape], checked[i], 100 * e);
    }
    sw_hdr_free(h);
    free(all);
}

static void
test_hour_within_bound(void **state)
{
    (void)state;
    for (size_t s = 0; s < 2; s++)
        check_window(bounded[s], 60, 1000, true, 11 + s);
}

/* 30 days of 1-minute periods at a modest 60 requests a minute (keeps the test fast; the
 * benchmark runs busier months). */
static void
test_month_within_bound(void **state)
{
    (void)state;
    for (size_t s = 0; s < 2; s++)
        check_window(bounded[s], 30 * 1440, 60, true, 101 + s);
}

/* 4 values, min 0, p50 = 100 ms, max 200 ms: p50 is the 2nd value, so the knots sit at the
 * levels 12.5 % (min), 37.5 % (p50) and 87.5 % (max) and the values are 0, 100, 150 and
 * 200 ms (the third halfway along the last segment). */
static void
test_placement(void **state)
{
    (void)state;
    sw_hdr *h = new_hdr();
    sw_cwpct_point p50 = {50, 100};
    assert_int_equal(sw_cwpct_record(h, &p50, 1, 4, 0, 200, 1000, NULL), SW_OK);
    /* buckets are 16 ... 128 us wide here: probe well clear of the values */
    assert_int_equal(sw_hdr_count_at_or_below(h, 0), 1);
    assert_int_equal(sw_hdr_count_at_or_below(h, 99000), 1);
    assert_int_equal(sw_hdr_count_at_or_below(h, 100000), 2);
    assert_int_equal(sw_hdr_count_at_or_below(h, 149000), 2);
    assert_int_equal(sw_hdr_count_at_or_below(h, 150000), 3);
    assert_int_equal(sw_hdr_count_at_or_below(h, 199000), 3);
    assert_int_equal(sw_hdr_count_at_or_below(h, 200000), 4);
    sw_hdr_free(h);
}

/* Ten million samples over 1 ... 2 s (the bucket-walk path): total exact, half below 1.5 s. */
static void
test_large_count_exact(void **state)
{
    (void)state;
    sw_hdr *h = new_hdr();
    sw_cwpct_point pts[] = {{99, 1.99}, {50, 1.5}, {1, 1.01}}; /* unsorted on purpose */
    assert_int_equal(sw_cwpct_record(h, pts, 3, 1e7 + 0.4, 1, 2, 1e6, NULL), SW_OK);
    assert_int_equal(sw_hdr_total_count(h), 10000000);
    double below = (double)sw_hdr_count_at_or_below(h, 1499000);
    assert_true(fabs(below - 5e6) < 5e6 * 0.002);
    assert_int_equal(sw_hdr_min(h), sw_hdr_lowest_equivalent(h, 1000000));
    sw_hdr_free(h);
}

/* Without min/max the end segments continue the neighbouring slopes: p25 = 20, p50 = 40 ms
 * give 0 at 0 % and p75 = 60 ms gives 80 ms at 100 %. */
static void
test_unknown_ends(void **state)
{
    (void)state;
    sw_hdr *h = new_hdr();
    sw_cwpct_point pts[] = {{25, 20}, {50, 40}, {75, 60}};
    assert_int_equal(sw_cwpct_record(h, pts, 3, 1000, NAN, NAN, 1000, NULL), SW_OK);
    assert_int_equal(sw_hdr_total_count(h), 1000);
    assert_true(sw_hdr_min(h) < 100);
    assert_true(sw_hdr_max(h) >= 79900 && sw_hdr_max(h) <= 80100);
    sw_hdr_free(h);
}

static void
test_rank(void **state)
{
    (void)state;
    uint64_t good, bad;
    assert_int_equal(sw_cwpct_rank_counts(99.25, 4000, &good, &bad, NULL), SW_OK);
    assert_int_equal(good, 3970);
    assert_int_equal(bad, 30);
    sw_hdr *h = new_hdr();
    assert_int_equal(sw_cwpct_record_rank(h, 500000, 96, 1000, NULL), SW_OK);
    assert_int_equal(sw_hdr_count_at_or_below(h, 500000), 960);
    assert_int_equal(sw_hdr_total_count(h), 1000);
    assert_true(sw_hdr_value_at_percentile(h, 95) <= sw_hdr_highest_equivalent(h, 500000));
    assert_true(sw_hdr_value_at_percentile(h, 97) > sw_hdr_highest_equivalent(h, 500000));
    sw_err err;
    assert_int_equal(sw_cwpct_rank_counts(100.5, 10, &good, &bad, &err), SW_E_INVAL);
    assert_int_equal(sw_cwpct_record_rank(h, INT64_C(3600000000), 50, 10, &err), SW_E_RANGE);
    sw_hdr_free(h);
}

static void
test_refused(void **state)
{
    (void)state;
    sw_hdr *h = new_hdr();
    sw_cwpct_point p = {50, 10};
    sw_err err;
    assert_int_equal(sw_cwpct_record(h, &p, 1, -1, NAN, NAN, 1000, &err), SW_E_INVAL);
    assert_int_equal(sw_cwpct_record(h, &p, 1, INFINITY, NAN, NAN, 1000, &err), SW_E_INVAL);
    assert_int_equal(sw_cwpct_record(h, &p, 1, 10, NAN, NAN, 0, &err), SW_E_INVAL);
    assert_int_equal(sw_cwpct_record(h, NULL, 0, 10, NAN, NAN, 1000, &err), SW_E_INVAL);
    assert_int_equal(sw_hdr_total_count(h), 0);
    /* no points but min and max: uniform between them */
    assert_int_equal(sw_cwpct_record(h, NULL, 0, 10, 10, 20, 1000, NULL), SW_OK);
    assert_int_equal(sw_hdr_total_count(h), 10);
    sw_hdr_free(h);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hour_within_bound), cmocka_unit_test(test_month_within_bound),
        cmocka_unit_test(test_placement),         cmocka_unit_test(test_large_count_exact),
        cmocka_unit_test(test_unknown_ends),      cmocka_unit_test(test_rank),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
