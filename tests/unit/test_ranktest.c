/*
 * Unit tests for evaluator/ranktest: Mann-Whitney U from two histograms. Expected U values are
 * counted by hand (pairs where the candidate is larger, ties one half); z and p follow the
 * textbook tie-corrected normal approximation with continuity correction, worked out in the
 * comments. Values below 2048 us sit in buckets of their own, so a bucket is one value.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>

#include "slawatch/hdr.h"
#include "slawatch/ranktest.h"

static sw_hdr *
hist_of(const int64_t *values, size_t n)
{
    sw_hdr *h;
    assert_int_equal(sw_hdr_new(&sw_hdr_latency_config, &h, NULL), SW_OK);
    for (size_t i = 0; i < n; i++)
        assert_true(sw_hdr_record(h, values[i]));
    return h;
}

static void
run(const int64_t *c, size_t nc, const int64_t *b, size_t nb, sw_ranktest_result *ret)
{
    sw_hdr *hc = hist_of(c, nc), *hb = hist_of(b, nb);
    assert_int_equal(sw_ranktest_mann_whitney(hc, hb, ret, NULL), SW_OK);
    sw_hdr_free(hc);
    sw_hdr_free(hb);
}

static void
test_no_ties(void **state)
{
    (void)state;
    /* Every candidate value beats every baseline value: U = 3 * 3 = 9. mu = 4.5,
     * sigma^2 = 3*3/12 * (6 + 1) = 5.25, z = (9 - 4.5 - 0.5) / sqrt(5.25) = 1.745743,
     * p = P(Z >= 1.745743) = 0.040428. */
    const int64_t c[] = {4, 5, 6}, b[] = {1, 2, 3};
    sw_ranktest_result r;
    run(c, 3, b, 3, &r);
    assert_true(r.u == 9.0);
    assert_int_equal(r.n_candidate, 3);
    assert_int_equal(r.n_baseline, 3);
    assert_true(fabs(r.z - 1.745743) < 1e-6);
    assert_true(fabs(r.p_value - 0.040428) < 1e-6);
}

static void
test_ties(void **state)
{
    (void)state;
    /* Candidate {3, 4, 5} against baseline {1, 2, 3}: 3 beats 1 and 2 and ties 3 (2.5), 4 and
     * 5 beat all three: U = 2.5 + 3 + 3 = 8.5. The value 3 is a tie group of t = 2:
     * sum(t^3 - t) = 6, sigma^2 = 9/12 * (7 - 6 / (6 * 5)) = 0.75 * 6.8 = 5.1,
     * z = (8.5 - 4.5 - 0.5) / sqrt(5.1) = 1.549826, p = 0.060592. */
    const int64_t c[] = {3, 4, 5}, b[] = {1, 2, 3};
    sw_ranktest_result r;
    run(c, 3, b, 3, &r);
    assert_true(r.u == 8.5);
    assert_true(fabs(r.z - 1.549826) < 1e-6);
    assert_true(fabs(r.p_value - 0.060592) < 1e-6);
}

static void
test_faster_candidate(void **state)
{
    (void)state;
    /* Swapped: U' = n1 n2 - U = 0; z = (0 - 4.5 - 0.5) / sqrt(5.25) = -2.182179, p = 0.985452. */
    const int64_t c[] = {1, 2, 3}, b[] = {4, 5, 6};
    sw_ranktest_result r;
    run(c, 3, b, 3, &r);
    assert_true(r.u == 0.0);
    assert_true(fabs(r.z + 2.182179) < 1e-6);
    assert_true(fabs(r.p_value - 0.985452) < 1e-6);
}

static void
test_all_tied(void **state)
{
    (void)state;
    /* One bucket holds everything: sigma = 0, no evidence either way. */
    const int64_t c[] = {7, 7}, b[] = {7, 7, 7};
    sw_ranktest_result r;
    run(c, 2, b, 3, &r);
    assert_true(r.u == 3.0); /* 2 * 3 pairs, each a tie */
    assert_true(r.z == 0.0);
    assert_true(r.p_value == 1.0);
}

static void
test_u_equals_pair_count(void **state)
{
    (void)state;
    /* Property: U equals the brute-force count over all pairs, on random small samples. */
    srand(7);
    for (int round = 0; round < 200; round++) {
        int64_t c[40], b[40];
        size_t nc = 1 + (size_t)(rand() % 40), nb = 1 + (size_t)(rand() % 40);
        for (size_t i = 0; i < nc; i++)
            c[i] = 1 + rand() % 30;
        for (size_t i = 0; i < nb; i++)
            b[i] = 1 + rand() % 30;
        double pairs = 0;
        for (size_t i = 0; i < nc; i++)
            for (size_t j = 0; j < nb; j++)
                pairs += c[i] > b[j] ? 1.0 : c[i] == b[j] ? 0.5 : 0.0;
        sw_ranktest_result r;
        run(c, nc, b, nb, &r);
        assert_true(r.u == pairs);
        assert_true(r.p_value >= 0.0 && r.p_value <= 1.0);
    }
}

static void
test_large_samples(void **state)
{
    (void)state;
    sw_hdr *same1, *same2, *slow;
    assert_int_equal(sw_hdr_new(&sw_hdr_latency_config, &same1, NULL), SW_OK);
    assert_int_equal(sw_hdr_new(&sw_hdr_latency_config, &same2, NULL), SW_OK);
    assert_int_equal(sw_hdr_new(&sw_hdr_latency_config, &slow, NULL), SW_OK);
    for (int64_t v = 1000; v < 200000; v += 7) {
        sw_hdr_record(same1, v);
        sw_hdr_record(same2, v);
        sw_hdr_record(slow, v + v / 10); /* 10 % slower */
    }
    sw_ranktest_result r;
    /* Identical samples: U = n^2 / 2 exactly, z = -0.5 / sigma, p just above one half. */
    assert_int_equal(sw_ranktest_mann_whitney(same1, same2, &r, NULL), SW_OK);
    assert_true(r.p_value > 0.5 && r.p_value < 0.51);
    assert_int_equal(sw_ranktest_mann_whitney(slow, same1, &r, NULL), SW_OK);
    assert_true(r.p_value < 1e-6);
    assert_int_equal(sw_ranktest_mann_whitney(same1, slow, &r, NULL), SW_OK);
    assert_true(r.p_value > 1.0 - 1e-6);
    sw_hdr_free(same1);
    sw_hdr_free(same2);
    sw_hdr_free(slow);
}

static void
test_errors(void **state)
{
    (void)state;
    sw_hdr *a, *empty, *other;
    sw_hdr_config small = {1, 1000, 2};
    assert_int_equal(sw_hdr_new(&sw_hdr_latency_config, &a, NULL), SW_OK);
    assert_int_equal(sw_hdr_new(&sw_hdr_latency_config, &empty, NULL), SW_OK);
    assert_int_equal(sw_hdr_new(&small, &other, NULL), SW_OK);
    sw_hdr_record(a, 5);
    sw_hdr_record(other, 5);
    sw_ranktest_result r;
    sw_err err;
    assert_int_equal(sw_ranktest_mann_whitney(a, empty, &r, &err), SW_E_INVAL);
    assert_int_equal(sw_ranktest_mann_whitney(empty, a, &r, &err), SW_E_INVAL);
    assert_int_equal(sw_ranktest_mann_whitney(a, other, &r, &err), SW_E_MISMATCH);
    sw_hdr_free(a);
    sw_hdr_free(empty);
    sw_hdr_free(other);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_ties),
        cmocka_unit_test(test_ties),
        cmocka_unit_test(test_faster_candidate),
        cmocka_unit_test(test_all_tied),
        cmocka_unit_test(test_u_equals_pair_count),
        cmocka_unit_test(test_large_samples),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
