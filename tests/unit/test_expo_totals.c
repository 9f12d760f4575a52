/*
 * Unit tests for the latency totals kept at export resolution (sw_expo_totals). The truth is
 * the exposition of one HDR histogram holding every value added (sw_expo_histogram and
 * sw_expo_native_of at scale 1e-6, the path /metrics took before the totals): random and
 * adversarial interval sequences (wide log-normal spreads, values at HDR, native and classic
 * bucket edges, zero, the layout's top and past it, counts that take the sum past 2^53, other
 * layouts, empty intervals) are added to both, with bounds that differ and change, and every
 * exposition is compared byte for byte in text, OpenMetrics and protobuf. The means are checked
 * against a sum of bucket midpoints the test computes itself in 128-bit integers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "slawatch/expo.h"

#define OUT_MAX (1u << 22)

static uint64_t
next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static double
uniform(uint64_t *s)
{
    return (double)(next(s) >> 11) * 0x1p-53;
}

static double
normal(uint64_t *s)
{
    double u = uniform(s), v = uniform(s);
    return sqrt(-2 * log(u > 0 ? u : 0x1p-60)) * cos(2 * M_PI * v);
}

/* ------------------------------------------------------------------ bounds */

static const double ladder[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
static const double thresholds[] = {0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.2,
                                    0.25,  0.3,    0.5,  1,     2.5,  5,   10};
static const double odd[] = {-1, 0, 1e-7, 1e-6, 1.5e-6, 0.0010235, 0.123456789, 3600, 1e9};
static const double one[] = {0.25};

typedef struct bounds_set {
    const double *v;
    size_t n;
} bounds_set;

static const bounds_set sets[] = {
    {ladder, sizeof ladder / sizeof ladder[0]},
    {thresholds, sizeof thresholds / sizeof thresholds[0]},
    {odd, sizeof odd / sizeof odd[0]},
    {one, 1},
    {NULL, 0},
};
#define N_SETS (sizeof sets / sizeof sets[0])

/* ------------------------------------------------------------------ values */

static const sw_hdr_config coarse = {1, INT64_C(10000000), 2};

/* A value at the edge of something an exposition cuts at: HDR buckets, native buckets, bounds. */
static int64_t
edge_value(uint64_t *s, sw_hdr *h, const bounds_set *b)
{
    int64_t v = (int64_t)exp(uniform(s) * log(4e9));
    int64_t jitter = (int64_t)(next(s) % 3) - 1;
    switch (next(s) % 6) {
    case 0:
        return sw_hdr_lowest_equivalent(h, v) + jitter;
    case 1:
        return sw_hdr_highest_equivalent(h, v) + jitter;
    case 2: { /* a native bucket's upper bound, 2^(i/256) s */
        double up = exp2((double)((int64_t)(next(s) % 8200) - 5120) / 256.0) * 1e6;
        return (int64_t)floor(up) + jitter;
    }
    case 3:
        if (b->n > 0)
            return (int64_t)floor(b->v[next(s) % b->n] * 1e6) + jitter;
        return v;
    case 4:
        return (int64_t)(next(s) % 5); /* 0 and the lowest values */
    default:                           /* the layout's top, and past it (overflow) */
        return SW_HDR_LATENCY_HIGHEST_US + (int64_t)(next(s) % 5000000) - 2500000;
    }
}

/* One interval's histogram: a log-normal of its own spread, edges, huge counts, or nothing. */
static sw_hdr *
interval(uint64_t *s, const bounds_set *b)
{
    sw_hdr *h;
    bool other_layout = next(s) % 10 == 0;
    assert_int_equal(sw_hdr_new(other_layout ? &coarse : &sw_hdr_latency_config, &h, NULL), SW_OK);
    unsigned kind = (unsigned)(next(s) % 8);
    if (kind == 0)
        return h; /* empty */
    double median = exp(uniform(s) * log(1e7)), sigma = uniform(s) * 3;
    int n = 1 + (int)(next(s) % 300);
    for (int i = 0; i < n; i++) {
        int64_t v = kind <= 3 ? (int64_t)(median * exp(sigma * normal(s))) : edge_value(s, h, b);
        if (v < 0)
            v = 0;
        int64_t count =
            kind == 7 ? (int64_t)(next(s) % (UINT64_C(1) << 36)) + 1 : (int64_t)(next(s) % 4) + 1;
        sw_hdr_record_n(h, v, count);
    }
    return h;
}

/* ------------------------------------------------------------------ comparison */

typedef struct fixture {
    sw_expo *truth_e, *totals_e;
    sw_buf truth_out, totals_out;
} fixture;

static int
setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (f == NULL || sw_expo_new(&f->truth_e, NULL) != SW_OK ||
        sw_expo_new(&f->totals_e, NULL) != SW_OK)
        return -1;
    sw_buf_init(&f->truth_out, OUT_MAX);
    sw_buf_init(&f->totals_out, OUT_MAX);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture *f = *state;
    sw_expo_free(f->truth_e);
    sw_expo_free(f->totals_e);
    sw_buf_fini(&f->truth_out);
    sw_buf_fini(&f->totals_out);
    free(f);
    return 0;
}

static const sw_expo_label labels[] = {{"service", "api"}, {"env", "green"}};

static void
render(sw_expo *e, sw_buf *out, sw_expo_format format, const sw_hdr *h, const bounds_set *b,
       const sw_expo_totals *t)
{
    out->len = 0;
    sw_expo_begin(e, format, out);
    assert_int_equal(sw_expo_family(e, "slawatch_request_duration_seconds", SW_EXPO_HISTOGRAM,
                                    "Request durations.", "seconds", NULL),
                     SW_OK);
    sw_status st = h != NULL ? sw_expo_histogram(e, labels, 2, h, 1e-6, b->v, b->n, NULL)
                             : sw_expo_histogram_totals(e, labels, 2, t, NULL);
    assert_int_equal(st, SW_OK);
    assert_int_equal(sw_expo_finish(e, NULL), SW_OK);
}

/* The midpoint sum the exporters use, in exact integers, from the HDR of every value. */
static __int128
midpoint_sum(const sw_hdr *h)
{
    __int128 sum = 0;
    sw_hdr_iter it;
    sw_hdr_iter_init(&it, h);
    while (sw_hdr_iter_next(&it))
        sum += (__int128)(it.value_lo + (it.value_hi - it.value_lo + 1) / 2) * it.count;
    return sum;
}

static void
expect_same(fixture *f, const sw_hdr *all, const bounds_set *b, const sw_expo_totals *t)
{
    static const sw_expo_format formats[] = {SW_EXPO_TEXT, SW_EXPO_OPENMETRICS, SW_EXPO_PROTOBUF};
    for (size_t k = 0; k < 3; k++) {
        render(f->truth_e, &f->truth_out, formats[k], all, b, NULL);
        render(f->totals_e, &f->totals_out, formats[k], NULL, NULL, t);
        if (f->truth_out.len != f->totals_out.len ||
            memcmp(f->truth_out.data, f->totals_out.data, f->truth_out.len) != 0)
            fail_msg("format %zu differs:\n%.*s\n--- totals ---\n%.*s", k,
                     formats[k] == SW_EXPO_PROTOBUF ? 0 : (int)f->truth_out.len,
                     (const char *)f->truth_out.data,
                     formats[k] == SW_EXPO_PROTOBUF ? 0 : (int)f->totals_out.len,
                     (const char *)f->totals_out.data);
    }
    sw_expo_native a, c;
    assert_int_equal(sw_expo_native_of(f->truth_e, all, 1e-6, &a, NULL), SW_OK);
    assert_int_equal(sw_expo_native_of_totals(f->totals_e, t, &c, NULL), SW_OK);
    assert_int_equal(a.count, c.count);
    assert_int_equal(a.zero_count, c.zero_count);
    assert_memory_equal(&a.sum, &c.sum, sizeof a.sum);
    assert_int_equal(a.n, c.n);
    if (a.n > 0) {
        assert_memory_equal(a.index, c.index, a.n * sizeof *a.index);
        assert_memory_equal(a.counts, c.counts, a.n * sizeof *a.counts);
    }
    int64_t count = sw_hdr_total_count(all);
    assert_int_equal(sw_expo_totals_count(t), (uint64_t)count);
    __int128 exact = midpoint_sum(all);
    double mean = sw_expo_totals_mean(t);
    if (count == 0) {
        assert_true(mean == 0);
    } else if (exact < ((__int128)1 << 53)) {
        double hdr_mean = sw_hdr_mean(all); /* the summary's _sum was mean x count */
        assert_memory_equal(&hdr_mean, &mean, sizeof mean);
    } else {
        double want = (double)exact / (double)count;
        assert_memory_equal(&want, &mean, sizeof mean);
    }
}

/* ------------------------------------------------------------------ tests */

/* Random sequences: the bounds switch now and then, to the same set (nothing resets) or to
 * another (the totals start again, and so does the truth). */
static void
test_sequences_expose_as_every_value(void **state)
{
    fixture *f = *state;
    size_t past_2_53 = 0, resets = 0, overflowed = 0;
    for (uint64_t seed = 1; seed <= 60; seed++) {
        uint64_t s = seed * 7919;
        const bounds_set *b = &sets[next(&s) % N_SETS];
        sw_expo_totals *t;
        assert_int_equal(sw_expo_totals_new(b->v, b->n, &t, NULL), SW_OK);
        sw_hdr *all;
        assert_int_equal(sw_hdr_new(&sw_hdr_latency_config, &all, NULL), SW_OK);
        int n = 1 + (int)(next(&s) % 40);
        for (int k = 0; k < n; k++) {
            if (next(&s) % 8 == 0) {
                const bounds_set *nb = &sets[next(&s) % N_SETS];
                bool reset;
                assert_int_equal(sw_expo_totals_set_bounds(t, nb->v, nb->n, &reset, NULL), SW_OK);
                bool changed = nb != b;
                assert_int_equal(reset, changed);
                if (changed) {
                    sw_hdr_reset(all);
                    resets++;
                }
                b = nb;
            }
            sw_hdr *iv = interval(&s, b);
            sw_hdr_add(all, iv);
            overflowed += sw_hdr_overflow_count(iv) > 0;
            assert_int_equal(sw_expo_totals_add(t, iv, NULL), SW_OK);
            sw_hdr_free(iv);
            expect_same(f, all, b, t);
        }
        past_2_53 += midpoint_sum(all) >= ((__int128)1 << 53);
        sw_hdr_free(all);
        sw_expo_totals_free(t);
    }
    /* The adversarial cases happened. */
    assert_true(past_2_53 > 0);
    assert_true(resets > 0);
    assert_true(overflowed > 0);
}

/* Every bucket of the layout once: each HDR bucket lands in the native bucket the writer puts
 * it in, and a value in each gives the same classic counts at bounds between every bucket. */
static void
test_every_bucket_of_the_layout(void **state)
{
    fixture *f = *state;
    sw_hdr *all;
    assert_int_equal(sw_hdr_new_dense(&sw_hdr_latency_config, &all, NULL), SW_OK);
    sw_expo_totals *t;
    assert_int_equal(sw_expo_totals_new(odd, sizeof odd / sizeof odd[0], &t, NULL), SW_OK);
    for (int64_t v = 0; v <= SW_HDR_LATENCY_HIGHEST_US; v = sw_hdr_highest_equivalent(all, v) + 1) {
        sw_hdr *one_value;
        assert_int_equal(sw_hdr_new(&sw_hdr_latency_config, &one_value, NULL), SW_OK);
        sw_hdr_record(one_value, v);
        sw_hdr_record(all, v);
        assert_int_equal(sw_expo_totals_add(t, one_value, NULL), SW_OK);
        sw_hdr_free(one_value);
    }
    bounds_set b = {odd, sizeof odd / sizeof odd[0]};
    expect_same(f, all, &b, t);
    sw_hdr_free(all);
    sw_expo_totals_free(t);
}

/* Nothing added yet: an empty histogram, as an HDR with no values exposes. */
static void
test_empty_totals(void **state)
{
    fixture *f = *state;
    sw_hdr *all;
    assert_int_equal(sw_hdr_new(&sw_hdr_latency_config, &all, NULL), SW_OK);
    sw_expo_totals *t;
    assert_int_equal(sw_expo_totals_new(ladder, 11, &t, NULL), SW_OK);
    bounds_set b = {ladder, 11};
    expect_same(f, all, &b, t);
    sw_hdr_free(all);
    sw_expo_totals_free(t);
}

/* Bounds the writer refuses are refused here too, and change nothing. */
static void
test_bad_bounds_refused(void **state)
{
    (void)state;
    static const double down[] = {1, 0.5}, nan_b[] = {NAN}, inf_b[] = {1, INFINITY};
    sw_expo_totals *t = NULL;
    assert_int_equal(sw_expo_totals_new(down, 2, &t, NULL), SW_E_INVAL);
    assert_null(t);
    assert_int_equal(sw_expo_totals_new(ladder, 11, &t, NULL), SW_OK);
    sw_hdr *h;
    assert_int_equal(sw_hdr_new(&sw_hdr_latency_config, &h, NULL), SW_OK);
    sw_hdr_record_n(h, 3000, 7);
    assert_int_equal(sw_expo_totals_add(t, h, NULL), SW_OK);
    bool reset = true;
    assert_int_equal(sw_expo_totals_set_bounds(t, nan_b, 1, &reset, NULL), SW_E_INVAL);
    assert_int_equal(sw_expo_totals_set_bounds(t, inf_b, 2, &reset, NULL), SW_E_INVAL);
    assert_int_equal(sw_expo_totals_count(t), 7);
    assert_int_equal(sw_expo_totals_set_bounds(t, ladder, 11, &reset, NULL), SW_OK);
    assert_false(reset);
    assert_int_equal(sw_expo_totals_count(t), 7);
    sw_hdr_free(h);
    sw_expo_totals_free(t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sequences_expose_as_every_value, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_bucket_of_the_layout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_totals, setup, teardown),
        cmocka_unit_test(test_bad_bounds_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
