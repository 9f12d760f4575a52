/*
 * A window's reconstruction made to agree with the window's own statistics. The sum of an
 * hour's minute reconstructions knows each minute's points exactly, but between them every
 * minute's values are a guess, and in a quiet hour those guesses add up to percentile errors of
 * a few percent (collector/CLOUDWATCH.md). CloudWatch answers the same statistics for the hour
 * as a whole, exactly; here the histogram's cumulative count is pinned at each of those points'
 * buckets, and the values between two points keep the shape the minutes gave them. The total
 * stays the histogram's own (the sum of the minutes). Stateless; the caller owns h.
 */
#include "slawatch/cwpct.h"

#include <math.h>
#include <stdlib.h>

#define MAX_PINS 160
#define EVEN_STEPS 1024

/* The histogram's count at or below bucket `top` (its lowest equivalent value) must be `cum`. */
typedef struct pin {
    int64_t top;
    int64_t cum;
    bool rank;    /* from a PR(:T) or Maximum: exact, percentiles give way to it */
    bool value;   /* a value of the window lies in bucket `top` (a percentile, Minimum, Maximum) */
    int64_t held; /* the count a percentile sharing a rank's bucket wanted there (0: none):
                   * its values above the rank's count spill into the next bucket up */
} pin;

/* One recorded bucket of the histogram being conformed. */
typedef struct cell {
    int64_t lo, count;
} cell;

/* Within a bucket: the window's values first, Maximum next, thresholds' ranks last (so they
 * win: the count at or below a threshold's bucket is what budgets read). */
static int
pin_order(const pin *x)
{
    return x->rank ? (x->value ? 1 : 2) : 0;
}

static int
cmp_pin(const void *a, const void *b)
{
    const pin *x = a, *y = b;
    if (x->top != y->top)
        return (x->top > y->top) - (x->top < y->top);
    return pin_order(x) - pin_order(y);
}

/* The count at or below a value known to be the k-th of n, scaled to the histogram's total. */
static int64_t
scaled(double k, double n, int64_t total)
{
    double c = nearbyint(k / n * (double)total);
    return c < 0 ? 0 : c > (double)total ? total : (int64_t)c;
}

static size_t
add_pin(const sw_hdr *h, pin *p, size_t m, double value, double unit_us, int64_t cum, bool rank,
        bool is_value)
{
    if (!isfinite(value) || value < 0 || m == MAX_PINS)
        return m;
    double top = (double)sw_hdr_get_config(h).highest_trackable_value, v = value * unit_us;
    p[m] = (pin){sw_hdr_lowest_equivalent(h, v >= top ? (int64_t)top : (int64_t)nearbyint(v)), cum,
                 rank, is_value, 0};
    return m + 1;
}

/* Every point, both ends and every rank as a pin, sorted by bucket; a bucket's last pin wins
 * (a rank over a percentile sharing its bucket, whose values above the threshold then go to
 * the next bucket up, the nearest the histogram can put them); percentiles that disagree with a
 * rank are clamped to it, and counts made non-decreasing. */
static size_t
collect_pins(const sw_hdr *h, const sw_cwpct_period *pd, int64_t total, pin *p)
{
    double n = nearbyint(pd->sample_count);
    size_t m = 0;
    for (size_t i = 0; i < pd->n_points; i++) {
        const sw_cwpct_point *q = &pd->points[i];
        if (q->p > 0 && q->p < 100)
            m = add_pin(h, p, m, q->value, pd->unit_us,
                        scaled(fmax(ceil(q->p / 100.0 * n - 1e-9), 1), n, total), false, true);
    }
    m = add_pin(h, p, m, pd->min, pd->unit_us, scaled(1, n, total), false, true);
    m = add_pin(h, p, m, pd->max, pd->unit_us, total, true, true);
    for (size_t i = 0; i < pd->n_ranks; i++) {
        const sw_cwpct_rank *r = &pd->ranks[i];
        if (isfinite(r->rank_pct) && r->rank_pct >= 0 && r->rank_pct <= 100)
            m = add_pin(h, p, m, r->threshold, pd->unit_us,
                        scaled(nearbyint(n * r->rank_pct / 100.0), n, total), true, false);
    }
    qsort(p, m, sizeof *p, cmp_pin);
    size_t out = 0;
    for (size_t i = 0; i < m; i++) {
        bool holds_value = p[i].value;
        int64_t held = 0;
        if (out > 0 && p[out - 1].top == p[i].top) {
            out--;
            holds_value |= p[out].value;
            if (pin_order(&p[i]) == 2)
                held = p[out].cum;
        }
        p[out] = p[i];
        p[out].value = holds_value;
        p[out++].held = held;
    }
    for (size_t i = 0; i < out; i++)
        for (size_t j = 0; j < out && !p[i].rank; j++)
            if (p[j].rank && ((j < i && p[i].cum < p[j].cum) || (j > i && p[i].cum > p[j].cum)))
                p[i].cum = p[j].cum;
    for (size_t i = 1; i < out; i++)
        if (p[i].cum < p[i - 1].cum)
            p[i].cum = p[i - 1].cum;
    return out;
}

/* Record `count` values between buckets lo (exclusive) and hi (inclusive) where the old
 * histogram had none there: evenly in log value, as the curve between two points would, at
 * most EVEN_STEPS distinct values so a large window costs no more than a small one. */
static void
spread_even(sw_hdr *h, int64_t lo, int64_t hi, int64_t count)
{
    int64_t start = sw_hdr_highest_equivalent(h, lo) + 1; /* lo's own bucket is not ours */
    if (start > hi)
        start = hi;
    double a = log1p((double)start), b = log1p((double)hi);
    int64_t steps = count < EVEN_STEPS ? count : EVEN_STEPS, placed = 0;
    for (int64_t j = 0; j < steps; j++) {
        int64_t v = (int64_t)nearbyint(expm1(a + (b - a) * ((double)j + 0.5) / (double)steps));
        int64_t upto =
            j + 1 == steps ? count : (int64_t)((double)count * (double)(j + 1) / (double)steps);
        sw_hdr_record_n(h, v < start ? start : v > hi ? hi : v, upto - placed);
        placed = upto;
    }
}

/* Record `count` values over the cells [from, to) in proportion to their old counts, rounding
 * the running sum so the segment's total is exact. */
static void
spread_like(sw_hdr *h, const cell *c, size_t from, size_t to, int64_t count)
{
    int64_t mass = 0, seen = 0, placed = 0;
    for (size_t i = from; i < to; i++)
        mass += c[i].count;
    for (size_t i = from; i < to; i++) {
        seen += c[i].count;
        int64_t upto = (int64_t)nearbyint((double)count * (double)seen / (double)mass);
        if (upto > placed)
            sw_hdr_record_n(h, c[i].lo, upto - placed);
        placed = upto;
    }
}

/* Segment by segment: the cells above the previous pin's bucket up to this pin's bucket get
 * this pin's count minus the previous one's, one of them in the pin's bucket when a value of
 * the window is known to be there (else the minutes' shape could leave that bucket empty and
 * the percentile would read the bucket below). Below a known Minimum's bucket nothing; values
 * left above the last pin (when Maximum is unknown) keep the old shape above it. */
static void
respread(sw_hdr *h, const cell *c, size_t n_c, const pin *p, size_t n_p, bool floored,
         int64_t total)
{
    size_t i = 0;
    int64_t prev_top = -1, prev_cum = 0;
    while (floored && i < n_c && c[i].lo < p[0].top)
        i++;
    for (size_t k = 0; k < n_p; k++) {
        size_t from = i;
        while (i < n_c && c[i].lo <= p[k].top)
            i++;
        int64_t want = p[k].cum - prev_cum;
        if (want > 0 && p[k].value) { /* the point's own value, where percentiles look for it */
            sw_hdr_record(h, p[k].top);
            want--;
        }
        if (want > 0 && i > from)
            spread_like(h, c, from, i, want);
        else if (want > 0)
            spread_even(h, prev_top < 0 ? p[k].top : prev_top, p[k].top, want);
        prev_top = p[k].top;
        prev_cum = p[k].cum;
        /* Measured against the rank's count as finally clamped, not as fetched: the clamps can
         * raise it, and a spill beyond the displaced count would add values the window lacks. */
        int64_t spill = p[k].held - p[k].cum;
        if (spill > 0 && (k + 1 == n_p || p[k + 1].cum >= prev_cum + spill)) {
            int64_t top = sw_hdr_get_config(h).highest_trackable_value;
            prev_top = prev_top < sw_hdr_lowest_equivalent(h, top)
                           ? sw_hdr_highest_equivalent(h, prev_top) + 1
                           : prev_top;
            sw_hdr_record_n(h, prev_top, spill);
            prev_cum += spill;
            while (i < n_c && c[i].lo <= prev_top)
                i++;
        }
    }
    if (total > prev_cum && i < n_c)
        spread_like(h, c, i, n_c, total - prev_cum);
    else if (total > prev_cum)
        sw_hdr_record_n(h, prev_top, total - prev_cum);
}

sw_status
sw_cwpct_conform(sw_hdr *h, const sw_cwpct_period *pd, sw_err *err)
{
    int64_t total = sw_hdr_total_count(h);
    if (!isfinite(pd->sample_count) || pd->sample_count < 0 || !isfinite(pd->unit_us) ||
        pd->unit_us <= 0)
        return sw_err_set(err, SW_E_INVAL, "a window's SampleCount or unit is not a number >= 0");
    /* collect_pins divides by the count as rounded: 0.5 rounds to 0 (to even), not to 1 */
    if (total == 0 || nearbyint(pd->sample_count) < 1)
        return SW_OK;
    pin p[MAX_PINS];
    size_t n_p = collect_pins(h, pd, total, p);
    if (n_p == 0)
        return SW_OK;
    size_t cap = (size_t)sw_hdr_recorded_buckets(h) + 1, n_c = 0;
    cell *c = malloc(cap * sizeof *c);
    if (c == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory conforming a window");
    sw_hdr_iter it;
    sw_hdr_iter_init(&it, h);
    while (sw_hdr_iter_next(&it) && n_c < cap)
        c[n_c++] = (cell){it.value_lo, it.count};
    sw_hdr_reset(h);
    respread(h, c, n_c, p, n_p, isfinite(pd->min) && pd->min >= 0, total);
    free(c);
    return SW_OK;
}
