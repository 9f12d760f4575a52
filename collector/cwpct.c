/*
 * CloudWatch percentile statistics spread into an HDR histogram. The period's distribution is
 * taken as the piecewise-linear CDF through min, the grid points and max: between two points
 * values are uniform in value. Value i of N is placed at level (i + 0.5) / N, each knot at the
 * level of the order statistic it is, so totals are exact and knots are reproduced exactly.
 * Stateless; the caller owns h.
 */
#include "slawatch/cwpct.h"

#include <math.h>
#include <stdlib.h>

/* Dense from p95 up: linear interpolation in value overshoots on convex (long) tails, and the
 * spacing here keeps off-grid P97.5/P99.5 within 1 % on log-normal tails up to sigma 0.75
 * (collector/CLOUDWATCH.md, "Percentile grid"). */
const double sw_cwpct_grid[] = {1,  10, 25, 50,   75,   90,   95,   96,
                                97, 98, 99, 99.2, 99.4, 99.6, 99.8, 99.9};
const size_t sw_cwpct_grid_len = sizeof sw_cwpct_grid / sizeof sw_cwpct_grid[0];

#define MAX_KNOTS 130 /* 128 points + the two ends */
#define COUNT_MAX 9007199254740992.0 /* 2^53: beyond it a double count is not a whole number */
#define WALK_MIN 4096 /* segments with more values than this are spread bucket by bucket */

typedef struct knot {
    double p, v; /* percent, microseconds */
} knot;

static int
cmp_knot(const void *a, const void *b)
{
    const knot *x = a, *y = b;
    return (x->p > y->p) - (x->p < y->p);
}

/* Number of the n values (value i at level (i + 0.5) / n) below percent p. */
static int64_t
below(int64_t n, double p)
{
    double c = ceil((double)n * p / 100.0 - 0.5);
    return c < 0 ? 0 : c > (double)n ? n : (int64_t)c;
}

/* The level of the order statistic that percentile p of n values is (nearest rank, as
 * CloudWatch reports exact percentiles of small sets): the k-th value sits at (k - 0.5) / n, so
 * a reconstructed value that lands on a knot is exactly the value CloudWatch returned. */
static double
level(int64_t n, double p)
{
    double k = ceil(p / 100.0 * (double)n - 1e-9);
    return (fmax(k, 1) - 0.5) / (double)n * 100.0;
}

/* Valid points in microseconds at their levels, sorted; values made non-decreasing and points
 * sharing a level merged (CloudWatch's are consistent, but a stray inversion must not produce
 * a negative segment). */
static size_t
collect(const sw_cwpct_point *points, size_t n, int64_t total, double unit_us, knot *k)
{
    size_t m = 1; /* k[0] is the lower end, filled in by add_ends */
    for (size_t i = 0; i < n && m < MAX_KNOTS - 1; i++)
        if (isfinite(points[i].value) && points[i].value >= 0 && points[i].p > 0 &&
            points[i].p < 100)
            k[m++] = (knot){level(total, points[i].p), points[i].value * unit_us};
    qsort(k + 1, m - 1, sizeof *k, cmp_knot);
    size_t out = 1;
    for (size_t i = 1; i < m; i++) {
        if (out > 1 && k[i].v < k[out - 1].v)
            k[i].v = k[out - 1].v;
        if (out > 1 && k[i].p == k[out - 1].p)
            k[out - 1].v = k[i].v;
        else
            k[out++] = k[i];
    }
    return out;
}

/* Ends at the levels of the smallest and largest value: min and max when known (clamped to the
 * points), otherwise the first and last segments' slopes continued, never below 0. One point
 * alone stands for everything. */
static size_t
add_ends(knot *k, size_t m, int64_t total, double min_us, double max_us)
{
    double p_lo = level(total, 0), p_hi = level(total, 100);
    double lo = k[1].v, hi = k[m - 1].v;
    if (m >= 3) {
        double s0 = (k[2].v - k[1].v) / (k[2].p - k[1].p);
        double s1 = (k[m - 1].v - k[m - 2].v) / (k[m - 1].p - k[m - 2].p);
        lo = fmax(0, k[1].v - s0 * (k[1].p - p_lo));
        hi = k[m - 1].v + s1 * (p_hi - k[m - 1].p);
    }
    if (isfinite(min_us) && min_us >= 0)
        lo = fmin(min_us, k[1].v);
    if (isfinite(max_us))
        hi = fmax(max_us, k[m - 1].v);
    /* a point already at an end's level is that end */
    if (k[1].p <= p_lo)
        k[1].v = lo, k[1].p = p_lo - 1e-9;
    if (k[m - 1].p >= p_hi)
        k[m - 1].v = hi, k[m - 1].p = p_hi + 1e-9;
    k[0] = (knot){fmin(p_lo, k[1].p), lo};
    k[m] = (knot){fmax(p_hi, k[m - 1].p), hi};
    return m + 1;
}

static int64_t
clamp_us(const sw_hdr *h, double v)
{
    double top = (double)sw_hdr_get_config(h).highest_trackable_value;
    return v <= 0 ? 0 : v >= top ? (int64_t)top : (int64_t)v;
}

/* A segment: values i0 <= i < i1 of total, linear in level from (a.p, a.v) to (b.p, b.v). */
typedef struct segment {
    knot a, b;
    int64_t i0, i1, total;
} segment;

static double
value_at(const segment *s, int64_t i)
{
    double l = ((double)i + 0.5) / (double)s->total * 100.0;
    double f = s->b.p > s->a.p ? (l - s->a.p) / (s->b.p - s->a.p) : 0;
    return s->a.v + (s->b.v - s->a.v) * fmin(fmax(f, 0), 1);
}

static void
spread_each(sw_hdr *h, const segment *s)
{
    for (int64_t i = s->i0; i < s->i1; i++)
        sw_hdr_record(h, clamp_us(h, value_at(s, i)));
}

/* The same placement counted per bucket: values of the segment truncating below y. */
static int64_t
values_below(const segment *s, double y)
{
    double l = s->a.p + (y - s->a.v) / (s->b.v - s->a.v) * (s->b.p - s->a.p);
    int64_t c = below(s->total, l);
    return c < s->i0 ? s->i0 : c > s->i1 ? s->i1 : c;
}

static void
spread_walk(sw_hdr *h, const segment *s)
{
    int64_t v = clamp_us(h, s->a.v), end = clamp_us(h, s->b.v), done = s->i0;
    while (done < s->i1) {
        int64_t hi = sw_hdr_highest_equivalent(h, v);
        int64_t c = hi >= end ? s->i1 : values_below(s, (double)hi + 1);
        if (c > done)
            sw_hdr_record_n(h, v, c - done);
        done = c > done ? c : done;
        v = hi + 1;
    }
}

static void
spread(sw_hdr *h, const segment *s)
{
    if (s->i1 <= s->i0)
        return;
    if (s->b.v - s->a.v < 1)
        sw_hdr_record_n(h, clamp_us(h, s->a.v), s->i1 - s->i0);
    else if (s->i1 - s->i0 <= WALK_MIN)
        spread_each(h, s);
    else
        spread_walk(h, s);
}

static sw_status
check_count(double sample_count, int64_t *ret, sw_err *err)
{
    if (!isfinite(sample_count) || sample_count < 0 || sample_count > COUNT_MAX)
        return sw_err_set(err, SW_E_INVAL, "SampleCount %g is not a count from 0 to 2^53",
                          sample_count);
    *ret = (int64_t)llround(sample_count);
    return SW_OK;
}

sw_status
sw_cwpct_record(sw_hdr *h, const sw_cwpct_point *points, size_t n, double sample_count,
                double min, double max, double unit_us, sw_err *err)
{
    int64_t total = 0;
    sw_status st = check_count(sample_count, &total, err);
    if (st != SW_OK)
        return st;
    if (!isfinite(unit_us) || unit_us <= 0)
        return sw_err_set(err, SW_E_INVAL, "unit scale %g is not a positive number", unit_us);
    if (total == 0)
        return SW_OK;
    knot k[MAX_KNOTS + 1];
    size_t m = collect(points, n, total, unit_us, k);
    if (m == 1) {
        if (!isfinite(min) || !isfinite(max))
            return sw_err_set(err, SW_E_INVAL,
                              "no percentile value and no Minimum/Maximum for %lld samples",
                              (long long)total);
        k[m++] = (knot){50, (min + max) / 2 * unit_us};
    }
    m = add_ends(k, m, total, min * unit_us, max * unit_us);
    for (size_t i = 0; i + 1 < m; i++) {
        segment s = {k[i], k[i + 1], i == 0 ? 0 : below(total, k[i].p),
                     i + 2 == m ? total : below(total, k[i + 1].p), total};
        spread(h, &s);
    }
    return SW_OK;
}

sw_status
sw_cwpct_rank_counts(double rank_pct, double sample_count, uint64_t *ret_good, uint64_t *ret_bad,
                     sw_err *err)
{
    int64_t total = 0;
    sw_status st = check_count(sample_count, &total, err);
    if (st != SW_OK)
        return st;
    if (!(rank_pct >= 0 && rank_pct <= 100))
        return sw_err_set(err, SW_E_INVAL, "percentile rank %g is not from 0 to 100", rank_pct);
    int64_t good = llround((double)total * rank_pct / 100.0);
    *ret_good = (uint64_t)good;
    *ret_bad = (uint64_t)(total - good);
    return SW_OK;
}

sw_status
sw_cwpct_record_rank(sw_hdr *h, int64_t threshold_us, double rank_pct, double sample_count,
                     sw_err *err)
{
    uint64_t good, bad;
    sw_status st = sw_cwpct_rank_counts(rank_pct, sample_count, &good, &bad, err);
    if (st != SW_OK)
        return st;
    int64_t above = sw_hdr_highest_equivalent(h, threshold_us) + 1;
    if (threshold_us < 0 || above > sw_hdr_get_config(h).highest_trackable_value)
        return sw_err_set(err, SW_E_RANGE, "PR threshold %lld us is outside the histogram",
                          (long long)threshold_us);
    sw_hdr_record_n(h, threshold_us, (int64_t)good);
    sw_hdr_record_n(h, above, (int64_t)bad);
    return SW_OK;
}
