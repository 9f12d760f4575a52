/*
 * CloudWatch percentile statistics spread into an HDR histogram. A period's values are placed
 * along a curve through its known points: value i of N sits at level (i + 0.5) / N, each
 * percentile at the level of the order statistic it is, Minimum and Maximum at the first and
 * last value's level, and a percentile rank PR(:T) between the last value <= T and the first
 * above it. Between two points the curve is a straight line in (z, log value), z the standard
 * normal quantile of the level: a log-normal period is exactly such a line, so its
 * reconstruction is exact between points, and chords no longer overshoot the convex tail as
 * straight lines in (level, value) did; a fitted two-mode shape bends it through an incident's
 * gap, and in small periods the period's Sum decides how many values between the points around
 * the gap are slow (spread_gap). Ranks are exact by construction: values are clamped by index
 * to their side of every rank's threshold bucket. Stateless; the caller owns h.
 */
#include "slawatch/cwpct.h"

#include "cwpct_int.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

/* 13 points, so that with SampleCount, Minimum, Maximum, Sum and two PR(:T) a latency metric
 * costs 19 statistics. The curve between points follows a fitted log-normal (or two), so the
 * tail needs no dense grid; p70, p75, p80 and p85 sit where incidents with 15 to 30 % slow
 * requests put the gap between the modes; P50, P95, P97.5, P99 and P99.5, the percentiles rules
 * and reports use, are on the grid, so single periods answer them exactly
 * (collector/CLOUDWATCH.md). */
const double sw_cwpct_grid[] = {10, 25, 50, 70, 75, 80, 85, 90, 95, 97.5, 99, 99.5, 99.9};
const size_t sw_cwpct_grid_len = sizeof sw_cwpct_grid / sizeof sw_cwpct_grid[0];

#define MAX_POINTS 128
#define MAX_RANKS 32
#define MAX_KNOTS (MAX_POINTS + MAX_RANKS + 2)
#define COUNT_MAX 9007199254740992.0 /* 2^53: beyond it a double count is not a whole number */
#define WALK_MIN 4096 /* segments with more values than this are spread bucket by bucket */

typedef struct knot {
    double l, v; /* level in percent, value in microseconds */
    bool rank;   /* from a PR(:T): never merged with another knot */
    bool split;  /* a rank in a gap between two modes (see find_split) */
} knot;

typedef struct rank_bound {
    double t;  /* threshold, microseconds */
    int64_t g; /* values at or below it */
} rank_bound;

/* ------------------------------------------------------------------ the curve's coordinates */

/* The level (percent) at which the normal quantile is z. */
static double
normal_level(double z)
{
    return 50.0 * erfc(-z / sqrt(2.0));
}

static double
log_value(double v)
{
    return log1p(fmax(v, 0));
}

/* ------------------------------------------------------------------ knots */

static int
cmp_knot(const void *a, const void *b)
{
    const knot *x = a, *y = b;
    if (x->l != y->l)
        return (x->l > y->l) - (x->l < y->l);
    return (x->v > y->v) - (x->v < y->v);
}

static int
cmp_rank(const void *a, const void *b)
{
    const rank_bound *x = a, *y = b;
    return (x->t > y->t) - (x->t < y->t);
}

/* Number of the n values (value i at level (i + 0.5) / n) below percent p. A knot's level is
 * a value's own level up to rounding, which must not count that value as below it (the
 * segment that starts at the knot places it at the knot's value). */
static int64_t
below(int64_t n, double p)
{
    double x = (double)n * p / 100.0 - 0.5;
    double c = ceil(x - 1e-12 * fmax(fabs(x), 1));
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

/* The ranks as (threshold, count at or below), sorted by threshold, counts made
 * non-decreasing (a higher threshold cannot have fewer values under it). */
static sw_status
collect_ranks(const sw_cwpct_period *pd, int64_t total, rank_bound *r, size_t *ret_n, sw_err *err)
{
    size_t n = 0;
    for (size_t i = 0; i < pd->n_ranks; i++) {
        const sw_cwpct_rank *k = &pd->ranks[i];
        if (!isfinite(k->threshold) || k->threshold < 0 || !isfinite(k->rank_pct))
            continue;
        if (n == MAX_RANKS)
            return sw_err_set(err, SW_E_INVAL, "more than %d percentile ranks", MAX_RANKS);
        uint64_t good, bad;
        sw_status st = sw_cwpct_rank_counts(k->rank_pct, (double)total, &good, &bad, err);
        if (st != SW_OK)
            return st;
        r[n++] = (rank_bound){nearbyint(k->threshold * pd->unit_us), (int64_t)good};
    }
    qsort(r, n, sizeof *r, cmp_rank);
    for (size_t i = 1; i < n; i++)
        if (r[i].g < r[i - 1].g)
            r[i].g = r[i - 1].g;
    *ret_n = n;
    return SW_OK;
}

/* A knot for value index idx (0-based) given way to the ranks: at most the threshold of every
 * rank counting it, at least that of every rank not counting it. */
static double
obey_ranks(const rank_bound *r, size_t n_r, int64_t idx, double v)
{
    for (size_t i = 0; i < n_r; i++)
        v = idx < r[i].g ? fmin(v, r[i].t) : fmax(v, r[i].t);
    return v;
}

static size_t
add_value_knot(knot *k, size_t m, int64_t total, double l, double v, const rank_bound *r,
               size_t n_r)
{
    int64_t idx = (int64_t)floor(l / 100.0 * (double)total); /* l is (idx + 0.5) / total */
    k[m] = (knot){l, obey_ranks(r, n_r, idx, v), false, false};
    return m + 1;
}

/* Points, known ends and ranks as knots, sorted, values non-decreasing, value knots sharing a
 * level merged. */
static size_t
collect_knots(const sw_cwpct_period *pd, int64_t total, const rank_bound *r, size_t n_r, knot *k)
{
    size_t m = 0;
    for (size_t i = 0; i < pd->n_points && m < MAX_POINTS; i++) {
        const sw_cwpct_point *p = &pd->points[i];
        if (isfinite(p->value) && p->value >= 0 && p->p > 0 && p->p < 100)
            m = add_value_knot(k, m, total, level(total, p->p), p->value * pd->unit_us, r, n_r);
    }
    if (isfinite(pd->min) && pd->min >= 0)
        m = add_value_knot(k, m, total, level(total, 0), pd->min * pd->unit_us, r, n_r);
    if (isfinite(pd->max) && pd->max >= 0)
        m = add_value_knot(k, m, total, level(total, 100), pd->max * pd->unit_us, r, n_r);
    for (size_t i = 0; i < n_r; i++)
        if (r[i].g > 0 && r[i].g < total)
            k[m++] = (knot){100.0 * (double)r[i].g / (double)total, r[i].t, true, false};
    qsort(k, m, sizeof *k, cmp_knot);
    size_t out = 0;
    for (size_t i = 0; i < m; i++) {
        if (out > 0 && k[i].v < k[out - 1].v)
            k[i].v = k[out - 1].v;
        if (out > 0 && k[i].l == k[out - 1].l && !k[i].rank && !k[out - 1].rank)
            k[out - 1].v = k[i].v;
        else
            k[out++] = k[i];
    }
    return out;
}

/* An unknown end continues the neighbouring segment's line in (z, log value), never below 0;
 * with one knot, that knot's value. */
static knot
extend(const knot *from, const knot *next, double l)
{
    if (next == NULL)
        return (knot){l, from->v, false, false};
    double z0 = cwpct_normal_quantile(from->l / 100), z1 = cwpct_normal_quantile(next->l / 100);
    double slope = z1 != z0 ? (log_value(next->v) - log_value(from->v)) / (z1 - z0) : 0;
    double y = log_value(from->v) + slope * (cwpct_normal_quantile(l / 100) - z0);
    return (knot){l, fmax(expm1(y), 0), false, false};
}

/* Knots at the first and last value's levels, so the curve covers every value. */
static size_t
add_ends(knot *k, size_t m, int64_t total)
{
    double lo = level(total, 0), hi = level(total, 100);
    if (k[0].l > lo) {
        knot e = extend(&k[0], m > 1 ? &k[1] : NULL, lo);
        for (size_t i = m; i > 0; i--)
            k[i] = k[i - 1];
        k[0] = e;
        m++;
    }
    if (k[m - 1].l < hi) {
        k[m] = extend(&k[m - 1], m > 1 ? &k[m - 2] : NULL, hi);
        m++;
    }
    return m;
}

/* ------------------------------------------------------------------ spreading */

/*
 * A segment: values i0 <= i < i1 of total on the line y = y0 + slope * (z - z0) in (z, log
 * value), recorded within [lo, hi] (the knots' values and the ranks' thresholds).
 */
typedef struct segment {
    double z0, y0, slope;
    double f0, f1; /* the sub-population's levels (fractions): z is taken within them */
    int64_t i0, i1, total;
    double lo, hi;
} segment;

/* The normal quantile of level l (percent) within the sub-population [f0, f1]. */
static double
z_of(const segment *s, double l)
{
    return cwpct_normal_quantile((l / 100 - s->f0) / (s->f1 - s->f0));
}

static int64_t
to_hdr(const sw_hdr *h, const segment *s, double v)
{
    double top = (double)sw_hdr_get_config(h).highest_trackable_value;
    v = fmin(fmax(v, s->lo), s->hi);
    return v <= 0 ? 0 : v >= top ? (int64_t)top : (int64_t)llround(v);
}

static double
value_at(const segment *s, int64_t i)
{
    double z = z_of(s, ((double)i + 0.5) / (double)s->total * 100);
    return expm1(s->y0 + s->slope * (z - s->z0));
}

/* Each spreading function returns the sum of the values it recorded, so that the period's
 * Sum can place what the points leave open (see spread_gap). */
static double
spread_each(sw_hdr *h, const segment *s)
{
    double sum = 0;
    for (int64_t i = s->i0; i < s->i1; i++) {
        int64_t v = to_hdr(h, s, value_at(s, i));
        sw_hdr_record(h, v);
        sum += (double)v;
    }
    return sum;
}

/* The number of the segment's values whose line value is below x (slope > 0). */
static int64_t
values_below(const segment *s, double x)
{
    double u = normal_level(s->z0 + (log_value(x) - s->y0) / s->slope) / 100;
    double l = 100 * (s->f0 + u * (s->f1 - s->f0));
    int64_t c = below(s->total, l);
    return c < s->i0 ? s->i0 : c > s->i1 ? s->i1 : c;
}

/* The same placement counted per bucket, for segments of many values (summed as each
 * bucket's lowest value). */
static double
spread_walk(sw_hdr *h, const segment *s)
{
    int64_t v = to_hdr(h, s, s->lo), end = to_hdr(h, s, s->hi), done = s->i0;
    double sum = 0;
    while (done < s->i1) {
        int64_t top = sw_hdr_highest_equivalent(h, v);
        int64_t c = top >= end ? s->i1 : values_below(s, (double)top + 1);
        if (c > done) {
            sw_hdr_record_n(h, v, c - done);
            sum += (double)v * (double)(c - done);
        }
        done = c > done ? c : done;
        v = top + 1;
    }
    return sum;
}

/* The bounds ranks put on values i0 ... i1 - 1: above the bucket of every threshold whose
 * count they are past, at most every threshold whose count they are within. */
static void
rank_clamps(const sw_hdr *h, const rank_bound *r, size_t n_r, segment *s)
{
    for (size_t i = 0; i < n_r; i++) {
        int64_t t = (int64_t)fmin(r[i].t, (double)sw_hdr_get_config(h).highest_trackable_value);
        if (r[i].g <= s->i0)
            s->lo = fmax(s->lo, (double)sw_hdr_highest_equivalent(h, t) + 1);
        else if (r[i].g >= s->i1)
            s->hi = fmin(s->hi, r[i].t);
    }
    s->hi = fmax(s->hi, s->lo); /* thresholds within one bucket: the rank above wins */
}

/* The line through two knots; flat when they share a level. */
static void
line_through(const knot *a, const knot *b, segment *s)
{
    double za = z_of(s, a->l), zb = z_of(s, b->l);
    s->z0 = za;
    s->y0 = log_value(a->v);
    s->slope = zb > za ? (log_value(b->v) - s->y0) / (zb - za) : 0;
}

/* How far the points of levels (f0, f1) (percent) bend in that sub-population's normal
 * quantile: the squared relative changes of slope between consecutive segments. */
static double
bend(const knot *k, size_t m, double f0, double f1)
{
    double cost = 0, zp = 0, yp = 0, sp = 0;
    int seen = 0;
    for (size_t i = 0; i < m; i++) {
        if (k[i].rank || k[i].l <= f0 || k[i].l >= f1)
            continue;
        double z = cwpct_normal_quantile((k[i].l - f0) / (f1 - f0)), y = log_value(k[i].v);
        if (seen > 0 && z > zp) {
            double slope = (y - yp) / (z - zp);
            if (seen > 1) {
                double d = (slope - sp) / (fabs(slope) + fabs(sp) + 1e-9);
                cost += d * d;
            }
            sp = slope;
        }
        seen += seen == 0 || z > zp;
        zp = z;
        yp = y;
    }
    return cost;
}

/*
 * A rank in a gap: an incident's slow share makes a period two modes, and a PR(:T) with T
 * between them counts the fast requests exactly. Split there, each mode is straight in its
 * own normal quantile (the levels within the mode), while across the gap the points bend
 * sharply. The rank whose split leaves the points least bent is taken, if that is less than
 * SPLIT_GAIN of the bending without a split; no value is then put in the gap.
 */
#define SPLIT_GAIN 0.25
static void
find_split(knot *k, size_t m)
{
    double none = bend(k, m, 0, 100), best = none * SPLIT_GAIN;
    size_t pick = m;
    for (size_t r = 0; r < m; r++) {
        if (!k[r].rank)
            continue;
        double cost = bend(k, m, 0, k[r].l) + bend(k, m, k[r].l, 100);
        if (cost < best) {
            best = cost;
            pick = r;
        }
    }
    if (pick < m)
        k[pick].split = true;
}

/* The last point (not a rank) before index j with a level above f0 (percent), or m. */
static size_t
prev_point(const knot *k, size_t m, size_t j, double f0)
{
    while (j-- > 0) {
        if (k[j].l <= f0)
            return m;
        if (!k[j].rank)
            return j;
    }
    return m;
}

/* The first point (not a rank) after index j with a level below f1 (percent), or m. */
static size_t
next_point(const knot *k, size_t m, size_t j, double f1)
{
    for (j++; j < m; j++) {
        if (k[j].l >= f1)
            return m;
        if (!k[j].rank)
            return j;
    }
    return m;
}

/*
 * Segment i of the m knots: the line through its two ends, within the sub-population between
 * the splits around it. Next to a split the values are only known to lie on its side of the
 * threshold, so the mode's neighbouring segment is continued up to (or back from) it.
 */
static segment
segment_of(const knot *k, size_t m, size_t i, int64_t total)
{
    segment s = {.f0 = 0,
                 .f1 = 1,
                 .i0 = i == 0 ? 0 : below(total, k[i].l),
                 .i1 = i + 2 == m ? total : below(total, k[i + 1].l),
                 .total = total,
                 .lo = k[i].v,
                 .hi = k[i + 1].v};
    for (size_t j = 0; j <= i; j++)
        if (k[j].split)
            s.f0 = k[j].l / 100;
    for (size_t j = m; j-- > i + 1;)
        if (k[j].split)
            s.f1 = k[j].l / 100;
    size_t p1 = m, p2 = m; /* two points of the mode next to a split */
    if (k[i + 1].split) {
        p2 = prev_point(k, m, i + 1, s.f0 * 100);
        p1 = p2 < m ? prev_point(k, m, p2, s.f0 * 100) : m;
    } else if (k[i].split) {
        p1 = next_point(k, m, i, s.f1 * 100);
        p2 = p1 < m ? next_point(k, m, p1, s.f1 * 100) : m;
    }
    if (p1 < m && p2 < m)
        line_through(&k[p1], &k[p2], &s);
    else
        line_through(&k[i], &k[i + 1], &s);
    return s;
}

static double
spread(sw_hdr *h, const knot *k, size_t m, size_t i, int64_t total, const rank_bound *r, size_t n_r)
{
    segment s = segment_of(k, m, i, total);
    if (s.i1 <= s.i0)
        return 0;
    rank_clamps(h, r, n_r, &s);
    if (s.hi - s.lo < 1 || s.slope <= 0) {
        int64_t v = to_hdr(h, &s, k[i + 1].v);
        sw_hdr_record_n(h, v, s.i1 - s.i0);
        return (double)v * (double)(s.i1 - s.i0);
    }
    if (s.i1 - s.i0 <= WALK_MIN)
        return spread_each(h, &s);
    return spread_walk(h, &s);
}

/* ------------------------------------------------------------------ a guided curve */

/*
 * Between two knots a and b the curve follows the fitted model: each knot is where the model
 * puts its value (its model level, as a normal quantile u), and the levels between a and b map
 * to model levels linearly in z from u_a to u_b. So the curve passes through both knots and
 * bends where the model bends, through an incident's gap where the fast mode's top meets the
 * slow mode's bottom; where the sample's gap sits a little off the model's, the levels are
 * shifted, not the values (a value shift next to a gap would be large). With one mode this is
 * the straight line in (z, log value). Written as knots close enough that the straight lines
 * between them stay within CURVE_TOL of the curve.
 */
typedef struct guide {
    const cwpct_model *model;
    double za, zb, ua, ub; /* the knots' z and model levels (normal quantiles) */
} guide;

#define CURVE_TOL 5e-4 /* in log value: half the histogram's resolution */
#define MIN_DEPTH 2    /* every gap between knots is looked at in four places at least */
#define MAX_DEPTH 12
#define MAX_DENSE 2048

static double
guided_y(const guide *g, double z)
{
    return cwpct_model_y(g->model, g->ua + (g->ub - g->ua) * (z - g->za) / (g->zb - g->za));
}

/* Knots strictly between (z0, y0) and (z1, y1) into out[n ...], in order; values kept between
 * the ends, so the curve never falls. Returns the new n. */
static size_t
subdivide(const guide *g, knot *out, size_t n, double z0, double y0, double z1, double y1,
          int depth)
{
    if (n >= MAX_DENSE - 1 || depth > MAX_DEPTH)
        return n;
    double zm = (z0 + z1) / 2, ym = fmin(fmax(guided_y(g, zm), y0), y1);
    if (depth >= MIN_DEPTH && fabs(ym - (y0 + y1) / 2) < CURVE_TOL)
        return n;
    n = subdivide(g, out, n, z0, y0, zm, ym, depth + 1);
    if (n < MAX_DENSE - 1)
        out[n++] = (knot){normal_level(zm), expm1(ym), false, false};
    return subdivide(g, out, n, zm, ym, z1, y1, depth + 1);
}

/* The knots k[0 .. m) and the model's curve between them, into out; returns their number. The
 * segment after knot `open` is left as it is, its first knot's index in out put in *ret_open
 * (MAX_DENSE when it is not there). */
static size_t
follow_model(const knot *k, size_t m, const cwpct_model *model, size_t open, knot *out,
             size_t *ret_open)
{
    size_t n = 0;
    *ret_open = MAX_DENSE;
    for (size_t i = 0; i < m && n < MAX_DENSE; i++) {
        out[n++] = k[i];
        if (i == open)
            *ret_open = n - 1;
        if (i == open || i + 1 == m || k[i + 1].l <= k[i].l)
            continue;
        double ya = log_value(k[i].v), yb = log_value(k[i + 1].v);
        guide g = {model, cwpct_normal_quantile(k[i].l / 100),
                   cwpct_normal_quantile(k[i + 1].l / 100), cwpct_model_z(model, ya),
                   cwpct_model_z(model, yb)};
        if (g.zb <= g.za)
            continue;
        n = subdivide(&g, out, n, g.za, ya, g.zb, yb, 0);
    }
    return n;
}

/* ------------------------------------------------------------------ the gap and the Sum */

/*
 * Which mode the values between two modes came from is what the points of a few hundred values
 * know least: the points on either side of an incident's gap are order statistics, and the
 * values between them are fast or slow in whatever proportion the sample drew, which the
 * model's share only estimates. The period's Sum knows it better: a slow value instead of a
 * fast one adds most of a slow request's latency. So in the segment across which the model
 * passes from the fast mode to the slow one, j values are placed as slow and the rest as fast,
 * each mode's evenly spread in its own level between the segment's ends (a sample of that mode
 * cut to the segment), with the j that brings the period's reconstructed sum nearest to Sum.
 * Done for periods of at most WALK_MIN values, where every value is placed one by one; at
 * larger counts the points are close to the distribution's own quantiles and the curve through
 * them places the gap within the histogram's resolution.
 */

/* Whether the model's density at log value y comes mostly from the slow mode. */
static bool
mostly_slow(const cwpct_model *m, double y)
{
    double log_density[2];
    for (int k = 0; k < 2; k++) {
        double t = (y - m->mu[k]) / m->sigma[k];
        log_density[k] = log(k == 1 ? m->w : 1 - m->w) - log(m->sigma[k]) - t * t / 2;
    }
    return log_density[1] >= log_density[0];
}

/* The segment of k[0 .. m) between two points (not ranks: a rank in the gap counts its sides
 * exactly) across which the model passes from the fast mode to the slow one; m when none. */
static size_t
gap_segment(const knot *k, size_t m, const cwpct_model *model)
{
    for (size_t i = 0; i + 1 < m; i++) {
        if (!mostly_slow(model, log_value(k[i + 1].v)))
            continue;
        bool open = !k[i].rank && !k[i + 1].rank && !mostly_slow(model, log_value(k[i].v));
        return open ? i : m;
    }
    return m;
}

/* The normal quantile the fraction t of the way in level from normal quantile a to b, taken in
 * the tail where both keep their precision. */
static double
level_between(double a, double b, double t)
{
    bool upper = a > 0;
    double la = 0.5 * erfc((upper ? a : -a) / M_SQRT2);
    double lb = 0.5 * erfc((upper ? b : -b) / M_SQRT2);
    double l = la + t * (lb - la);
    return upper ? -cwpct_normal_quantile(l) : cwpct_normal_quantile(l);
}

/* The segment's values as j slow and the rest fast into v (each mode's evenly spread in its
 * level between the segment's ends); returns their sum. */
static double
place_modes(const sw_hdr *h, const segment *s, const cwpct_model *m, int64_t j, int64_t *v)
{
    int64_t c = s->i1 - s->i0;
    double sum = 0;
    for (int64_t i = 0; i < c; i++) {
        int k = i >= c - j; /* the slow ones last */
        int64_t n = k ? j : c - j, at = k ? i - (c - j) : i;
        double a = (log_value(s->lo) - m->mu[k]) / m->sigma[k];
        double b = (log_value(s->hi) - m->mu[k]) / m->sigma[k];
        double z = level_between(a, b, ((double)at + 0.5) / (double)n);
        v[i] = to_hdr(h, s, expm1(m->mu[k] + m->sigma[k] * z));
        sum += (double)v[i];
    }
    return sum;
}

/* Segment i of the knots placed so that its values sum to want, as nearly as the split
 * between the modes allows (the sum grows with the slow ones); returns their sum. */
static double
spread_gap(sw_hdr *h, const knot *k, size_t m, size_t i, int64_t total, const rank_bound *r,
           size_t n_r, const cwpct_model *model, double want, int64_t *v)
{
    segment s = segment_of(k, m, i, total);
    if (s.i1 <= s.i0)
        return 0;
    rank_clamps(h, r, n_r, &s);
    /* The segment's first value is its first knot's, known exactly; the others are open. */
    int64_t first = to_hdr(h, &s, k[i].v);
    sw_hdr_record(h, first);
    want -= (double)first;
    s.i0++;
    int64_t lo = 0, hi = s.i1 - s.i0;
    while (lo < hi) { /* the fewest slow values that reach want */
        int64_t mid = lo + (hi - lo) / 2;
        if (place_modes(h, &s, model, mid, v) < want)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo > 0 &&
        want - place_modes(h, &s, model, lo - 1, v) < place_modes(h, &s, model, lo, v) - want)
        lo--;
    double sum = place_modes(h, &s, model, lo, v);
    for (int64_t t = 0; t < s.i1 - s.i0; t++)
        sw_hdr_record(h, v[t]);
    return (double)first + sum;
}

/* A two-mode period: the knots and the model's curve between them, the gap's segment by the
 * period's sum (sum_us, NaN when unknown). */
static sw_status
spread_two_modes(sw_hdr *h, const knot *k, size_t m, int64_t total, const rank_bound *r, size_t n_r,
                 const cwpct_model *model, double sum_us, sw_err *err)
{
    size_t gap = total <= WALK_MIN && isfinite(sum_us) ? gap_segment(k, m, model) : m;
    knot *dense = malloc(MAX_DENSE * sizeof *dense);
    int64_t *values = malloc(WALK_MIN * sizeof *values);
    if (dense == NULL || values == NULL) {
        free(dense);
        free(values);
        return sw_err_set(err, SW_E_NOMEM, "percentile grid: out of memory");
    }
    size_t dense_gap;
    size_t n = follow_model(k, m, model, gap, dense, &dense_gap);
    double sum = 0;
    for (size_t i = 0; i + 1 < n; i++)
        if (i != dense_gap)
            sum += spread(h, dense, n, i, total, r, n_r);
    if (dense_gap + 1 < n)
        spread_gap(h, dense, n, dense_gap, total, r, n_r, model, sum_us - sum, values);
    free(dense);
    free(values);
    return SW_OK;
}

/* The knots as what the model is fitted to: levels as fractions, values as log values. */
static bool
fit_model(const knot *k, size_t m, int64_t total, double mean_us, cwpct_model *ret)
{
    cwpct_obs obs[MAX_KNOTS + 2];
    for (size_t i = 0; i < m; i++)
        obs[i] = (cwpct_obs){k[i].l / 100, log_value(k[i].v)};
    return cwpct_model_fit(obs, m, (double)total, mean_us, ret);
}

/* The period's mean in microseconds from Sum, NaN when Sum was not fetched or cannot be a sum
 * of these values. */
static double
mean_of(const sw_cwpct_period *pd, int64_t total)
{
    double mean = pd->sum / (double)total * pd->unit_us;
    bool known = isfinite(mean) && mean > 0 &&
                 !(isfinite(pd->min) && mean < pd->min * pd->unit_us) &&
                 !(isfinite(pd->max) && mean > pd->max * pd->unit_us);
    return known ? mean : NAN;
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
sw_cwpct_record(sw_hdr *h, const sw_cwpct_period *pd, sw_err *err)
{
    int64_t total = 0;
    sw_status st = check_count(pd->sample_count, &total, err);
    if (st != SW_OK)
        return st;
    if (!isfinite(pd->unit_us) || pd->unit_us <= 0)
        return sw_err_set(err, SW_E_INVAL, "unit scale %g is not a positive number", pd->unit_us);
    rank_bound r[MAX_RANKS];
    size_t n_r = 0;
    st = collect_ranks(pd, total, r, &n_r, err);
    if (st != SW_OK || total == 0)
        return st;
    knot k[MAX_KNOTS + 2];
    size_t m = collect_knots(pd, total, r, n_r, k);
    if (m == 0)
        return sw_err_set(err, SW_E_INVAL,
                          "no percentile, rank, Minimum or Maximum for %lld samples",
                          (long long)total);
    cwpct_model model;
    double mean_us = mean_of(pd, total);
    bool two_modes = fit_model(k, m, total, mean_us, &model);
    m = add_ends(k, m, total);
    if (m == 1) { /* every knot at one level: so few values that all are that one */
        segment whole = {.lo = k[0].v, .hi = k[0].v};
        sw_hdr_record_n(h, to_hdr(h, &whole, k[0].v), total);
        return SW_OK;
    }
    if (!two_modes) {
        find_split(k, m);
        for (size_t i = 0; i + 1 < m; i++)
            spread(h, k, m, i, total, r, n_r);
        return SW_OK;
    }
    return spread_two_modes(h, k, m, total, r, n_r, &model, mean_us * (double)total, err);
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
