/*
 * The report scan's kept accumulators (exporters/report_pool.c): a copy taken from the pool
 * must hold exactly what its source holds, bucket for bucket, whatever an earlier service left
 * in the kept histogram, as a clone of the source would; kept minute arrays come back zeroed.
 * The reference is the source histogram itself, recorded here value by value.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "report_int.h"

/* A histogram of n values spread log-uniformly from lo up, dense or compact as recorded. */
static sw_hdr *
recorded(const sw_hdr_config *cfg, int64_t lo, int n)
{
    sw_hdr *h = NULL;
    assert_int_equal(sw_hdr_new(cfg, &h, NULL), SW_OK);
    double v = (double)lo;
    for (int i = 0; i < n; i++, v *= 1.002)
        assert_true(sw_hdr_record_n(h, (int64_t)v, 1 + i % 7));
    return h;
}

static void
assert_same(const sw_hdr *got, const sw_hdr *want)
{
    sw_hdr_config g = sw_hdr_get_config(got), w = sw_hdr_get_config(want);
    assert_int_equal(g.highest_trackable_value, w.highest_trackable_value);
    assert_int_equal(g.significant_figures, w.significant_figures);
    assert_int_equal(sw_hdr_total_count(got), sw_hdr_total_count(want));
    assert_int_equal(sw_hdr_min(got), sw_hdr_min(want));
    assert_int_equal(sw_hdr_max(got), sw_hdr_max(want));
    assert_int_equal(sw_hdr_overflow_count(got), sw_hdr_overflow_count(want));
    sw_hdr_iter a, b;
    sw_hdr_iter_init(&a, got);
    sw_hdr_iter_init(&b, want);
    bool more;
    while ((more = sw_hdr_iter_next(&b))) {
        assert_true(sw_hdr_iter_next(&a));
        assert_int_equal(a.value_lo, b.value_lo);
        assert_int_equal(a.count, b.count);
    }
    assert_false(sw_hdr_iter_next(&a));
    for (double p = 50.0; p < 100.0; p += 4.9)
        assert_int_equal(sw_hdr_value_at_percentile(got, p), sw_hdr_value_at_percentile(want, p));
}

/* Dense and compact sources, each copied into a histogram an earlier, wider one left. */
static void
test_copy_after_reuse(void **state)
{
    (void)state;
    rp_scan_pool pool = {0};
    sw_hdr *wide = recorded(&sw_hdr_latency_config, 50, 5000); /* past an eighth: dense */
    sw_hdr *small = recorded(&sw_hdr_latency_config, 200000, 40);
    sw_hdr *first = sw_report_pool_copy(&pool, wide);
    assert_same(first, wide);
    sw_report_pool_put(&pool, first);
    assert_int_equal(pool.n, 1);
    sw_hdr *again = sw_report_pool_copy(&pool, small);
    assert_int_equal(pool.n, 0);
    assert_same(again, small);
    sw_report_pool_put(&pool, again);
    sw_hdr *third = sw_report_pool_copy(&pool, wide);
    assert_same(third, wide);
    sw_report_pool_put(&pool, third);
    sw_report_pool_fini(&pool);
    sw_hdr_free(wide);
    sw_hdr_free(small);
}

/* Another layout is cloned, and a clone is freed when put back, never kept. */
static void
test_other_layout_cloned(void **state)
{
    (void)state;
    rp_scan_pool pool = {0};
    sw_hdr_config cfg = sw_hdr_latency_config;
    cfg.significant_figures = 2;
    sw_hdr *src = recorded(&cfg, 10, 300);
    sw_hdr *copy = sw_report_pool_copy(&pool, src);
    assert_same(copy, src);
    sw_report_pool_put(&pool, copy);
    assert_int_equal(pool.n, 0);
    sw_report_pool_fini(&pool);
    sw_hdr_free(src);
}

static void
test_minutes_zeroed(void **state)
{
    (void)state;
    rp_scan_pool pool = {0};
    rp_minutes m = {0};
    assert_int_equal(sw_report_pool_minutes(&pool, &m, 1440, NULL), SW_OK);
    const uint64_t *kept = m.requests;
    for (size_t i = 0; i < m.n; i++) {
        m.requests[i] = m.errors[i] = m.probes[i] = m.failures[i] = i + 1;
        m.flags[i] = RP_MIN_DATA;
    }
    sw_report_pool_put_minutes(&pool, &m);
    assert_null(m.requests);
    assert_int_equal(sw_report_pool_minutes(&pool, &m, 1440, NULL), SW_OK);
    assert_ptr_equal(m.requests, kept);
    for (size_t i = 0; i < m.n; i++) {
        assert_int_equal(m.requests[i] + m.errors[i] + m.probes[i] + m.failures[i], 0);
        assert_int_equal(m.flags[i], 0);
    }
    sw_report_pool_put_minutes(&pool, &m);
    sw_report_pool_fini(&pool);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_copy_after_reuse),
        cmocka_unit_test(test_other_layout_cloned),
        cmocka_unit_test(test_minutes_zeroed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
