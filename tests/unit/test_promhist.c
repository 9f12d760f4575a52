/*
 * Unit tests for Prometheus histograms into HDR. Expected values come from outside the code:
 * bucket bounds from the native histogram spec's formula (bucket i of schema s covers
 * (2^((i-1)/2^s), 2^(i/2^s)]), recomputed here with pow(); quantiles from sorting 100,000
 * log-normal draws (fixed seed) and from Prometheus' histogram_quantile interpolation written
 * out here; shares from the uniform spread's arithmetic; deltas worked by hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "slawatch/promhist.h"
#include "slawatch/rng.h"

#define DRAWS 100000
#define HDR_REL 1e-3 /* 3 significant digits */

static sw_hdr *
new_hdr(void)
{
    sw_hdr *h = NULL;
    assert_int_equal(sw_hdr_new(&sw_hdr_latency_config, &h, NULL), SW_OK);
    return h;
}

/* Values at or below v minus those at or below v - 1: exact where HDR buckets are 1 wide. */
static int64_t
count_of(const sw_hdr *h, int64_t v)
{
    return sw_hdr_count_at_or_below(h, v) - (v > 0 ? sw_hdr_count_at_or_below(h, v - 1) : 0);
}

/* ---------------------------------------------------------------- classic spreading */

static void
test_spread_shares_add_up(void **state)
{
    (void)state;
    static const struct {
        uint64_t count;
    } cases[] = {{5}, {10}, {7}, {1}, {1000}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        sw_hdr *h = new_hdr();
        assert_int_equal(sw_promhist_spread(h, 0, 10, cases[c].count, 1, NULL), SW_OK);
        assert_int_equal(sw_hdr_total_count(h), (int64_t)cases[c].count);
        double share = (double)cases[c].count / 10;
        for (int64_t v = 1; v <= 10; v++) {
            int64_t n = count_of(h, v);
            if (n != (int64_t)floor(share) && n != (int64_t)ceil(share))
                fail_msg("count %llu: value %lld got %lld, share %g",
                         (unsigned long long)cases[c].count, (long long)v, (long long)n, share);
        }
        assert_int_equal(count_of(h, 0), 0);
        sw_hdr_free(h);
    }
}

typedef struct range_case {
    double lo, hi; /* seconds */
    uint64_t count;
} range_case;

static void
test_spread_stays_in_bucket(void **state)
{
    (void)state;
    static const range_case cases[] = {
        {0.1, 0.2, 1000},        {0.005, 0.01, 7},        {1, 2.5, 1000000},
        {-INFINITY, 0.001, 100}, {0.000001, 0.000002, 3}, {2.5, 5, 12345},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        sw_hdr *h = new_hdr();
        range_case k = cases[c];
        assert_int_equal(sw_promhist_spread(h, k.lo, k.hi, k.count, 1e6, NULL), SW_OK);
        assert_int_equal(sw_hdr_total_count(h), (int64_t)k.count);
        double lo_us = isinf(k.lo) ? 0 : k.lo * 1e6, hi_us = k.hi * 1e6;
        assert_true((double)sw_hdr_min(h) >= lo_us * (1 - HDR_REL) - 1);
        assert_true((double)sw_hdr_max(h) <= hi_us * (1 + HDR_REL) + 1);
        /* Uniform: the mean is the middle of the bucket (to HDR precision and integer steps). */
        double mid = (lo_us + hi_us) / 2;
        if (k.count >= 1000 && fabs(sw_hdr_mean(h) - mid) > mid * 2 * HDR_REL + 1)
            fail_msg("(%g, %g]: mean %g, want %g", k.lo, k.hi, sw_hdr_mean(h), mid);
        sw_hdr_free(h);
    }
}

static void
test_spread_inf_bucket_at_lower_bound(void **state)
{
    (void)state;
    sw_hdr *h = new_hdr();
    assert_int_equal(sw_promhist_spread(h, 0.5, INFINITY, 7, 1e6, NULL), SW_OK);
    assert_int_equal(sw_hdr_total_count(h), 7);
    assert_int_equal(sw_hdr_min(h), sw_hdr_lowest_equivalent(h, 500000));
    assert_int_equal(sw_hdr_max(h), sw_hdr_highest_equivalent(h, 500000));
    sw_hdr_free(h);
}

static void
test_spread_below_zero_and_overflow(void **state)
{
    (void)state;
    sw_hdr *h = new_hdr();
    /* (-1, 1] µs: half the width is below zero. */
    assert_int_equal(sw_promhist_spread(h, -1, 1, 100, 1, NULL), SW_OK);
    assert_int_equal(count_of(h, 0), 50);
    assert_int_equal(count_of(h, 1), 50);
    sw_hdr_reset(h);
    assert_int_equal(sw_promhist_spread(h, -5, -1, 9, 1, NULL), SW_OK);
    assert_int_equal(count_of(h, 0), 9);
    sw_hdr_reset(h);
    /* (3000 s, 4000 s] against a 3600 s ceiling: 40 % overflows. */
    assert_int_equal(sw_promhist_spread(h, 3000, 4000, 1000, 1e6, NULL), SW_OK);
    assert_int_equal(sw_hdr_total_count(h) + sw_hdr_overflow_count(h), 1000);
    assert_true(llabs(sw_hdr_overflow_count(h) - 400) <= 1);
    sw_hdr_free(h);
}

static void
test_spread_rejects(void **state)
{
    (void)state;
    sw_hdr *h = new_hdr();
    sw_err err = {0};
    assert_int_equal(sw_promhist_spread(h, NAN, 1, 1, 1e6, &err), SW_E_INVAL);
    assert_int_equal(err.code, SW_E_INVAL);
    assert_int_equal(sw_promhist_spread(h, 2, 1, 1, 1e6, &err), SW_E_INVAL);
    assert_int_equal(sw_promhist_spread(h, 0, 1, 1, 0, &err), SW_E_INVAL);
    assert_int_equal(sw_promhist_spread(h, 0, 1, 1, INFINITY, &err), SW_E_INVAL);
    assert_int_equal(sw_promhist_spread(h, INFINITY, INFINITY, 1, 1e6, &err), SW_E_INVAL);
    assert_int_equal(sw_promhist_spread(h, 0, 1, (uint64_t)INT64_MAX + 1, 1e6, &err), SW_E_RANGE);
    assert_int_equal(sw_hdr_total_count(h), 0);
    sw_hdr_free(h);
}

/* ---------------------------------------------------------------- classic: known distribution */

static int
cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* 100,000 log-normal latencies (median 50 ms, sigma 1), sorted. */
static int64_t *
draw_sorted(void)
{
    int64_t *v = malloc(DRAWS * sizeof *v);
    assert_non_null(v);
    sw_rng rng = {.state = 20240601};
    for (size_t i = 0; i < DRAWS; i++)
        v[i] = sw_rng_lognormal_us(&rng, 50000, 1.0);
    qsort(v, DRAWS, sizeof *v, cmp_i64);
    return v;
}

/* Nearest-rank quantile, the order statistic HDR percentiles aim at. */
static int64_t
exact_quantile(const int64_t *sorted, double q)
{
    size_t rank = (size_t)ceil(q * DRAWS);
    return sorted[rank - 1];
}

typedef struct classic {
    const double *bounds; /* seconds, increasing; an implied +Inf bucket follows */
    size_t n;
    uint64_t *counts; /* n + 1, not cumulative */
} classic;

static void
bucket_values(classic *c, const int64_t *v)
{
    c->counts = calloc(c->n + 1, sizeof *c->counts);
    assert_non_null(c->counts);
    for (size_t i = 0; i < DRAWS; i++) {
        double s = (double)v[i] / 1e6;
        size_t b = 0;
        while (b < c->n && s > c->bounds[b])
            b++;
        c->counts[b]++;
    }
}

static void
spread_classic(const classic *c, sw_hdr *h)
{
    for (size_t b = 0; b <= c->n; b++) {
        double lo = b == 0 ? -INFINITY : c->bounds[b - 1];
        double hi = b == c->n ? INFINITY : c->bounds[b];
        assert_int_equal(sw_promhist_spread(h, lo, hi, c->counts[b], 1e6, NULL), SW_OK);
    }
}

/* Prometheus' histogram_quantile: linear interpolation inside the bucket holding rank q*n. */
static double
histogram_quantile_us(const classic *c, double q, size_t *bucket)
{
    double rank = q * DRAWS, cum = 0;
    size_t b = 0;
    while (b < c->n && cum + (double)c->counts[b] < rank)
        cum += (double)c->counts[b++];
    *bucket = b;
    if (b == c->n)
        return c->bounds[c->n - 1] * 1e6;
    double lo = b == 0 ? 0 : c->bounds[b - 1], hi = c->bounds[b];
    return (lo + (hi - lo) * (rank - cum) / (double)c->counts[b]) * 1e6;
}

static const double go_default_buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                            0.5,   1,    2.5,   5,    10};
static const double quantiles[] = {0.5, 0.95, 0.99};

static void
test_classic_quantiles_within_bound(void **state)
{
    (void)state;
    int64_t *v = draw_sorted();
    classic c = {go_default_buckets, sizeof go_default_buckets / sizeof go_default_buckets[0],
                 NULL};
    bucket_values(&c, v);
    sw_hdr *h = new_hdr();
    spread_classic(&c, h);
    assert_int_equal(sw_hdr_total_count(h), DRAWS);
    for (size_t i = 0; i < 3; i++) {
        double q = quantiles[i];
        double got = (double)sw_hdr_value_at_percentile(h, q * 100);
        double exact = (double)exact_quantile(v, q);
        size_t b;
        double interp = histogram_quantile_us(&c, q, &b);
        double lo = b == 0 ? 0 : c.bounds[b - 1] * 1e6, hi = c.bounds[b] * 1e6;
        print_message("q %.2f: exact %.0f hdr %.0f histogram_quantile %.0f bucket (%g, %g]\n", q,
                      exact, got, interp, lo, hi);
        /* The documented bound: inside the bucket that holds the true value, HDR precision. */
        assert_true(exact > lo && exact <= hi);
        assert_true(got >= lo * (1 - HDR_REL) && got <= hi * (1 + HDR_REL) + 1);
        /* And the estimate is histogram_quantile's, up to HDR precision and one value's step. */
        double step = (hi - lo) / (double)c.counts[b];
        if (fabs(got - interp) > interp * HDR_REL + step + 1)
            fail_msg("q %g: hdr %g vs interpolation %g", q, got, interp);
    }
    sw_hdr_free(h);
    free(c.counts);
    free(v);
}

static void
test_classic_fine_buckets_small_error(void **state)
{
    (void)state;
    int64_t *v = draw_sorted();
    /* 1 % wide buckets from 1 ms to 100 s. */
    double *bounds = malloc(1200 * sizeof *bounds);
    assert_non_null(bounds);
    size_t n = 0;
    for (double b = 0.001; b < 100 && n < 1200; b *= 1.01)
        bounds[n++] = b;
    classic c = {bounds, n, NULL};
    bucket_values(&c, v);
    sw_hdr *h = new_hdr();
    spread_classic(&c, h);
    for (size_t i = 0; i < 3; i++) {
        double exact = (double)exact_quantile(v, quantiles[i]);
        double got = (double)sw_hdr_value_at_percentile(h, quantiles[i] * 100);
        double rel = fabs(got - exact) / exact;
        print_message("q %.2f: exact %.0f hdr %.0f relative error %.4f\n", quantiles[i], exact, got,
                      rel);
        assert_true(rel <= 0.01 + HDR_REL);
    }
    sw_hdr_free(h);
    free(c.counts);
    free(bounds);
    free(v);
}

/* ---------------------------------------------------------------- native geometry */

static double
spec_upper(int schema, int index)
{
    return pow(2.0, (double)index / pow(2.0, schema));
}

/* One positive bucket of count n at index. */
static void
one_bucket(sw_native_dense *d, int schema, int index, double n)
{
    sw_prom_span span = {index, 1};
    sw_prom_native nat = {.schema = schema,
                          .count = n,
                          .pos_spans = &span,
                          .n_pos_spans = 1,
                          .pos_counts = &n,
                          .n_pos_counts = 1};
    assert_int_equal(sw_native_dense_set(d, &nat, NULL), SW_OK);
}

static void
test_native_bucket_bounds_per_schema(void **state)
{
    (void)state;
    for (int schema = -4; schema <= 8; schema++) {
        int indexes[] = {0, 1, -3, schema >= 0 ? (1 << schema) + 1 : 2};
        for (size_t k = 0; k < 4; k++) {
            int index = indexes[k];
            double lo = spec_upper(schema, index - 1) * 1e3, hi = spec_upper(schema, index) * 1e3;
            if (hi > 3.6e9 || lo < 1)
                continue;
            sw_native_dense d = {0};
            one_bucket(&d, schema, index, 1000);
            sw_hdr *h = new_hdr();
            assert_int_equal(sw_native_dense_record(&d, 1e3, h, NULL), SW_OK);
            assert_int_equal(sw_hdr_total_count(h), 1000);
            if ((double)sw_hdr_min(h) < lo * (1 - HDR_REL) - 1 ||
                (double)sw_hdr_max(h) > hi * (1 + HDR_REL) + 1)
                fail_msg("schema %d bucket %d: recorded [%lld, %lld], spec (%g, %g]", schema, index,
                         (long long)sw_hdr_min(h), (long long)sw_hdr_max(h), lo, hi);
            sw_hdr_free(h);
            sw_native_dense_fini(&d);
        }
    }
}

/*
 * Where HDR counts single microseconds, the bounds show exactly (a real x µs is recorded as
 * ceil(x); counts of at least one per microsecond reach both ends).
 */
static void
test_native_bounds_exact(void **state)
{
    (void)state;
    static const struct {
        int schema, index;
        double count;
        int64_t min, max;
    } cases[] = {
        {0, 1, 1000, 1001, 2000},  /* (1, 2] ms */
        {3, 8, 1660, 1835, 2000},  /* (2^(7/8), 2] ms: 2^(7/8) = 1.8340... */
        {3, 1, 1000, 1001, 1091},  /* (1, 2^(1/8)] ms: 2^(1/8) = 1.0905..., ceil 1091 */
        {-1, 1, 3000, 1001, 4001}, /* (1, 4] ms; HDR steps by 2 past 2047: 4000 reads 4001 */
        {0, 0, 1000, 501, 1000},   /* (0.5, 1] ms */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        sw_native_dense d = {0};
        one_bucket(&d, cases[c].schema, cases[c].index, cases[c].count);
        sw_hdr *h = new_hdr();
        assert_int_equal(sw_native_dense_record(&d, 1e3, h, NULL), SW_OK);
        assert_int_equal(sw_hdr_min(h), cases[c].min);
        assert_int_equal(sw_hdr_max(h), cases[c].max);
        sw_hdr_free(h);
        sw_native_dense_fini(&d);
    }
}

/* Index of the schema's bucket holding x > 0, from the spec: smallest i with x <= 2^(i/2^s). */
static int
spec_index(double x, int schema)
{
    int i = (int)ceil(log2(x) * pow(2.0, schema));
    while (spec_upper(schema, i) < x)
        i++;
    while (spec_upper(schema, i - 1) >= x)
        i--;
    return i;
}

static void
test_native_schema8_quantiles(void **state)
{
    (void)state;
    int64_t *v = draw_sorted();
    int first = spec_index((double)v[0] / 1e6, 8), last = spec_index((double)v[DRAWS - 1] / 1e6, 8);
    size_t n = (size_t)(last - first + 1);
    double *counts = calloc(n, sizeof *counts);
    assert_non_null(counts);
    for (size_t i = 0; i < DRAWS; i++)
        counts[spec_index((double)v[i] / 1e6, 8) - first]++;
    sw_prom_span span = {first, (uint32_t)n};
    sw_prom_native nat = {.schema = 8,
                          .count = DRAWS,
                          .pos_spans = &span,
                          .n_pos_spans = 1,
                          .pos_counts = counts,
                          .n_pos_counts = n};
    sw_native_dense d = {0};
    assert_int_equal(sw_native_dense_set(&d, &nat, NULL), SW_OK);
    sw_hdr *h = new_hdr();
    assert_int_equal(sw_native_dense_record(&d, 1e6, h, NULL), SW_OK);
    assert_int_equal(sw_hdr_total_count(h), DRAWS);
    double bound = pow(2.0, 1.0 / 256) - 1 + HDR_REL;
    for (size_t i = 0; i < 3; i++) {
        double exact = (double)exact_quantile(v, quantiles[i]);
        double got = (double)sw_hdr_value_at_percentile(h, quantiles[i] * 100);
        print_message("q %.2f: exact %.0f hdr %.0f relative error %.5f (bound %.5f)\n",
                      quantiles[i], exact, got, fabs(got - exact) / exact, bound);
        assert_true(fabs(got - exact) <= exact * bound + 1);
    }
    sw_hdr_free(h);
    sw_native_dense_fini(&d);
    free(counts);
    free(v);
}

static void
test_native_zero_negative_and_float_counts(void **state)
{
    (void)state;
    sw_prom_span pos_span = {1, 1}, neg_span = {0, 2};
    double pos = 10, neg[] = {3, 4};
    sw_prom_native nat = {.schema = 0,
                          .zero_threshold = 1e-3,
                          .zero_count = 5,
                          .count = 22,
                          .pos_spans = &pos_span,
                          .n_pos_spans = 1,
                          .pos_counts = &pos,
                          .n_pos_counts = 1,
                          .neg_spans = &neg_span,
                          .n_neg_spans = 1,
                          .neg_counts = neg,
                          .n_neg_counts = 2};
    sw_native_dense d = {0};
    assert_int_equal(sw_native_dense_set(&d, &nat, NULL), SW_OK);
    assert_int_equal(d.n_neg, 2);
    assert_int_equal(d.neg_first, 0);
    sw_hdr *h = new_hdr();
    assert_int_equal(sw_native_dense_record(&d, 1e6, h, NULL), SW_OK);
    assert_int_equal(count_of(h, 0), 12);
    assert_int_equal(sw_hdr_total_count(h), 22);

    /* 0.5 + 0.5 + 1.5 = 2.5 values: the running total rounds half up to 3. */
    sw_prom_span span = {0, 3};
    double fc[] = {0.5, 0.5, 1.5};
    sw_prom_native fnat = {.schema = 0,
                           .count = 2.5,
                           .pos_spans = &span,
                           .n_pos_spans = 1,
                           .pos_counts = fc,
                           .n_pos_counts = 3};
    assert_int_equal(sw_native_dense_set(&d, &fnat, NULL), SW_OK);
    sw_hdr_reset(h);
    assert_int_equal(sw_native_dense_record(&d, 1e6, h, NULL), SW_OK);
    assert_int_equal(sw_hdr_total_count(h), 3);
    sw_hdr_free(h);
    sw_native_dense_fini(&d);
}

/* ---------------------------------------------------------------- delta */

typedef struct side_spec {
    int first;
    size_t n;
    double counts[6];
} side_spec;

static void
set_dense(sw_native_dense *d, int schema, double zt, double zero, side_spec pos, side_spec neg)
{
    sw_prom_span ps = {pos.first, (uint32_t)pos.n}, ns = {neg.first, (uint32_t)neg.n};
    double count = zero;
    for (size_t i = 0; i < pos.n; i++)
        count += pos.counts[i];
    for (size_t i = 0; i < neg.n; i++)
        count += neg.counts[i];
    sw_prom_native nat = {.schema = schema,
                          .zero_threshold = zt,
                          .zero_count = zero,
                          .count = count,
                          .sum = count,
                          .pos_spans = &ps,
                          .n_pos_spans = 1,
                          .pos_counts = pos.counts,
                          .n_pos_counts = pos.n,
                          .neg_spans = &ns,
                          .n_neg_spans = 1,
                          .neg_counts = neg.counts,
                          .n_neg_counts = neg.n};
    assert_int_equal(sw_native_dense_set(d, &nat, NULL), SW_OK);
}

/* d's positive counts from index first on are want[0..n), any others zero. */
static void
expect_side(const double *counts, int32_t d_first, size_t d_n, int first, const double *want,
            size_t n)
{
    for (int64_t i = d_first; i < d_first + (int64_t)d_n; i++) {
        double w = i >= first && i < first + (int64_t)n ? want[i - first] : 0;
        if (counts[i - d_first] != w)
            fail_msg("bucket %lld: got %g, want %g", (long long)i, counts[i - d_first], w);
    }
    assert_true(d_n > 0 || n == 0);
}

typedef struct delta_fixture {
    sw_native_dense cur, prev, delta;
} delta_fixture;

static int
delta_setup(void **state)
{
    *state = calloc(1, sizeof(delta_fixture));
    return *state == NULL ? -1 : 0;
}

static int
delta_teardown(void **state)
{
    delta_fixture *f = *state;
    sw_native_dense_fini(&f->cur);
    sw_native_dense_fini(&f->prev);
    sw_native_dense_fini(&f->delta);
    free(f);
    return 0;
}

static const side_spec no_side = {0, 0, {0}};

static void
test_delta_same_schema(void **state)
{
    delta_fixture *f = *state;
    set_dense(&f->prev, 0, 0.001, 1, (side_spec){0, 3, {1, 2, 3}}, (side_spec){-1, 1, {2}});
    set_dense(&f->cur, 0, 0.001, 3, (side_spec){0, 4, {2, 2, 5, 1}}, (side_spec){-1, 1, {4}});
    bool reset = true;
    assert_int_equal(sw_native_dense_delta(&f->cur, &f->prev, &f->delta, &reset, NULL), SW_OK);
    assert_false(reset);
    assert_int_equal(f->delta.schema, 0);
    assert_true(f->delta.zero_count == 2);
    assert_true(f->delta.count == 17 - 9);
    expect_side(f->delta.pos, f->delta.pos_first, f->delta.n_pos, 0, (double[]){1, 0, 2, 1}, 4);
    expect_side(f->delta.neg, f->delta.neg_first, f->delta.n_neg, -1, (double[]){2}, 1);
}

/*
 * prev at schema 1, cur at schema 0: schema-1 bucket i lies in schema-0 bucket ceil(i/2)
 * (its bounds 2^((i-1)/2), 2^(i/2) sit inside (2^(j-1), 2^j] for j = ceil(i/2)). prev's
 * buckets -1, 0 go to 0; 1, 2 to 1; 3, 4 to 2.
 */
static void
test_delta_across_schema_change(void **state)
{
    delta_fixture *f = *state;
    set_dense(&f->prev, 1, 0, 0, (side_spec){-1, 6, {1, 1, 1, 2, 3, 4}}, no_side);
    set_dense(&f->cur, 0, 0, 0, (side_spec){0, 4, {2, 5, 7, 2}}, no_side);
    bool reset = true;
    assert_int_equal(sw_native_dense_delta(&f->cur, &f->prev, &f->delta, &reset, NULL), SW_OK);
    assert_false(reset);
    assert_int_equal(f->delta.schema, 0);
    expect_side(f->delta.pos, f->delta.pos_first, f->delta.n_pos, 0, (double[]){0, 2, 0, 2}, 4);
    /* More observations at a finer schema than before: Prometheus calls that a reset. */
    set_dense(&f->prev, 1, 0, 0, (side_spec){-1, 6, {5, 5, 5, 5, 5, 5}}, no_side);
    assert_int_equal(sw_native_dense_delta(&f->prev, &f->cur, &f->delta, &reset, NULL), SW_OK);
    assert_true(reset);
    assert_int_equal(f->delta.schema, 1);
    expect_side(f->delta.pos, f->delta.pos_first, f->delta.n_pos, -1, (double[]){5, 5, 5, 5, 5, 5},
                6);
}

static void
test_delta_resets(void **state)
{
    delta_fixture *f = *state;
    bool reset = false;
    /* Fewer observations. */
    set_dense(&f->prev, 0, 0, 0, (side_spec){0, 2, {5, 5}}, no_side);
    set_dense(&f->cur, 0, 0, 0, (side_spec){0, 2, {1, 2}}, no_side);
    assert_int_equal(sw_native_dense_delta(&f->cur, &f->prev, &f->delta, &reset, NULL), SW_OK);
    assert_true(reset);
    expect_side(f->delta.pos, f->delta.pos_first, f->delta.n_pos, 0, (double[]){1, 2}, 2);
    assert_true(f->delta.count == 3);
    /* More in total, but one bucket went down. */
    set_dense(&f->cur, 0, 0, 0, (side_spec){0, 3, {4, 9, 1}}, no_side);
    assert_int_equal(sw_native_dense_delta(&f->cur, &f->prev, &f->delta, &reset, NULL), SW_OK);
    assert_true(reset);
    /* Narrower zero bucket. */
    set_dense(&f->prev, 0, 0.01, 1, (side_spec){0, 1, {1}}, no_side);
    set_dense(&f->cur, 0, 0.001, 2, (side_spec){0, 1, {2}}, no_side);
    assert_int_equal(sw_native_dense_delta(&f->cur, &f->prev, &f->delta, &reset, NULL), SW_OK);
    assert_true(reset);
}

/*
 * The zero bucket widened from 0.001 to 0.002: prev's bucket -10 (upper 2^-10 = 0.000977)
 * now lies inside it and joins prev's zero count. A bucket straddling the new threshold
 * (-9: (0.000977, 0.00195] against 0.0015) cannot be split: a reset.
 */
static void
test_delta_zero_bucket_widened(void **state)
{
    delta_fixture *f = *state;
    bool reset = true;
    set_dense(&f->prev, 0, 0.001, 2, (side_spec){-10, 1, {3}}, no_side);
    set_dense(&f->cur, 0, 0.002, 6, (side_spec){0, 1, {4}}, no_side);
    assert_int_equal(sw_native_dense_delta(&f->cur, &f->prev, &f->delta, &reset, NULL), SW_OK);
    assert_false(reset);
    assert_true(f->delta.zero_count == 1);
    assert_true(f->delta.zero_threshold == 0.002);
    expect_side(f->delta.pos, f->delta.pos_first, f->delta.n_pos, 0, (double[]){4}, 1);

    set_dense(&f->prev, 0, 0.001, 2, (side_spec){-9, 1, {3}}, no_side);
    set_dense(&f->cur, 0, 0.0015, 6, (side_spec){-9, 1, {3}}, no_side);
    assert_int_equal(sw_native_dense_delta(&f->cur, &f->prev, &f->delta, &reset, NULL), SW_OK);
    assert_true(reset);
}

static void
test_dense_set_rejects(void **state)
{
    (void)state;
    sw_native_dense d = {0};
    one_bucket(&d, 0, 1, 3);
    sw_err err = {0};
    double counts[3] = {1, 2, 3};
    sw_prom_span spans[2] = {{0, 2}, {-1, 1}};
    sw_prom_native n = {
        .schema = 9, .pos_spans = spans, .n_pos_spans = 1, .pos_counts = counts, .n_pos_counts = 2};
    assert_int_equal(sw_native_dense_set(&d, &n, &err), SW_E_RANGE);
    n.schema = 0;
    n.n_pos_counts = 1; /* spans cover 2 */
    assert_int_equal(sw_native_dense_set(&d, &n, &err), SW_E_INVAL);
    n.n_pos_spans = 2;
    n.n_pos_counts = 3;
    assert_int_equal(sw_native_dense_set(&d, &n, &err), SW_E_INVAL); /* negative 2nd offset */
    n.n_pos_spans = 1;
    n.n_pos_counts = 2;
    counts[1] = -1;
    assert_int_equal(sw_native_dense_set(&d, &n, &err), SW_E_INVAL);
    double *many = calloc(SW_NATIVE_MAX_BUCKETS + 1, sizeof *many);
    assert_non_null(many);
    sw_prom_span wide = {0, SW_NATIVE_MAX_BUCKETS + 1};
    sw_prom_native big = {.schema = 0,
                          .pos_spans = &wide,
                          .n_pos_spans = 1,
                          .pos_counts = many,
                          .n_pos_counts = SW_NATIVE_MAX_BUCKETS + 1};
    assert_int_equal(sw_native_dense_set(&d, &big, &err), SW_E_TOOBIG);
    assert_int_equal(err.code, SW_E_TOOBIG);
    /* Far-apart spans: few counts, too wide a dense range. */
    sw_prom_span apart[2] = {{-60000, 1}, {120000, 1}};
    big.pos_spans = apart;
    big.n_pos_spans = 2;
    big.n_pos_counts = 2;
    assert_int_equal(sw_native_dense_set(&d, &big, &err), SW_E_TOOBIG);
    free(many);
    /* d still holds what it had. */
    assert_int_equal(d.n_pos, 1);
    assert_int_equal(d.pos_first, 1);
    assert_true(d.pos[0] == 3);
    sw_native_dense_fini(&d);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spread_shares_add_up),
        cmocka_unit_test(test_spread_stays_in_bucket),
        cmocka_unit_test(test_spread_inf_bucket_at_lower_bound),
        cmocka_unit_test(test_spread_below_zero_and_overflow),
        cmocka_unit_test(test_spread_rejects),
        cmocka_unit_test(test_classic_quantiles_within_bound),
        cmocka_unit_test(test_classic_fine_buckets_small_error),
        cmocka_unit_test(test_native_bucket_bounds_per_schema),
        cmocka_unit_test(test_native_bounds_exact),
        cmocka_unit_test(test_native_schema8_quantiles),
        cmocka_unit_test(test_native_zero_negative_and_float_counts),
        cmocka_unit_test_setup_teardown(test_delta_same_schema, delta_setup, delta_teardown),
        cmocka_unit_test_setup_teardown(test_delta_across_schema_change, delta_setup,
                                        delta_teardown),
        cmocka_unit_test_setup_teardown(test_delta_resets, delta_setup, delta_teardown),
        cmocka_unit_test_setup_teardown(test_delta_zero_bucket_widened, delta_setup,
                                        delta_teardown),
        cmocka_unit_test(test_dense_set_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
