/*
 * Prometheus histograms into HDR histograms: classic buckets spread uniformly over the HDR
 * buckets they overlap, native histograms expanded into dense arrays, subtracted at a common
 * schema and recorded bucket by bucket. No shared state; the caller owns every histogram.
 */
#include "slawatch/promhist.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MIN_SCHEMA (-4)
#define MAX_SCHEMA 8

/* ---------------------------------------------------------------- classic spreading */

/* The value a real x (µs) is recorded as: x in (v-1, v] becomes v, as a bucket's `le` reads. */
static int64_t
value_of(double x, int64_t highest)
{
    if (x <= 0)
        return 0;
    if (x > (double)highest)
        return highest + 1;
    return (int64_t)ceil(x);
}

/* Values recorded out of count once the spread reaches x: rounded, so the total is exact. */
static uint64_t
cumulative_at(double x, double lo, double hi, uint64_t count)
{
    if (x >= hi)
        return count;
    double c = floor((double)count * ((x - lo) / (hi - lo)) + 0.5);
    if (!(c > 0))
        return 0;
    return c >= (double)count ? count : (uint64_t)c;
}

/*
 * Walk the HDR buckets over (lo, hi] (µs, 0 <= lo < hi), recording in each the share of count
 * its overlap with the range earned. done: what was recorded before lo (below zero).
 */
static void
spread_range(sw_hdr *h, double range_lo, double lo, double hi, uint64_t count, uint64_t done)
{
    int64_t highest = sw_hdr_get_config(h).highest_trackable_value;
    int64_t v = value_of(floor(lo) + 1, highest);
    double at = lo;
    while (at < hi && v <= highest) {
        int64_t top = sw_hdr_highest_equivalent(h, v);
        if (top > highest)
            top = highest;
        double end = fmin(hi, (double)top);
        uint64_t cum = cumulative_at(end, range_lo, hi, count);
        if (cum > done)
            sw_hdr_record_n(h, v, (int64_t)(cum - done));
        done = cum;
        at = end;
        v = top + 1;
    }
    /* Past the highest trackable value: counted as overflow by the histogram. */
    if (done < count)
        sw_hdr_record_n(h, highest + 1, (int64_t)(count - done));
}

sw_status
sw_promhist_spread(sw_hdr *h, double lo, double hi, uint64_t count, double unit_us, sw_err *err)
{
    if (isnan(lo) || isnan(hi) || lo > hi || lo == INFINITY || hi == -INFINITY || !(unit_us > 0) ||
        isinf(unit_us))
        return sw_err_set(err, SW_E_INVAL, "cannot spread over bucket (%g, %g] in unit %g µs", lo,
                          hi, unit_us);
    if (count > INT64_MAX)
        return sw_err_set(err, SW_E_RANGE, "bucket (%g, %g]: count %llu too large", lo, hi,
                          (unsigned long long)count);
    if (count == 0)
        return SW_OK;
    int64_t highest = sw_hdr_get_config(h).highest_trackable_value;
    double from = lo * unit_us, to = hi * unit_us;
    if (from == -INFINITY)
        from = 0;
    /* The +Inf bucket has no width: its values are at its lower bound, as histogram_quantile. */
    if (isinf(to) || from >= to || to <= 0) {
        sw_hdr_record_n(h, value_of(isinf(to) ? from : to, highest), (int64_t)count);
        return SW_OK;
    }
    uint64_t below_zero = 0;
    if (from < 0) {
        below_zero = cumulative_at(0, from, to, count);
        if (below_zero > 0)
            sw_hdr_record_n(h, 0, (int64_t)below_zero);
    }
    spread_range(h, from, fmax(from, 0), to, count, below_zero);
    return SW_OK;
}

/* ---------------------------------------------------------------- native bucket geometry */

/* Upper bound of bucket index of schema: 2^(index * 2^-schema). */
static double
native_upper(int32_t schema, int64_t index)
{
    return exp2(ldexp((double)index, -schema));
}

static int64_t
floor_div_pow2(int64_t a, int shift)
{
    int64_t d = INT64_C(1) << shift;
    int64_t q = a / d;
    return (a % d != 0 && a < 0) ? q - 1 : q;
}

/* Index at a coarser schema of the bucket holding bucket index of a schema finer by shift. */
static int64_t
coarser_index(int64_t index, int shift)
{
    return floor_div_pow2(index - 1, shift) + 1;
}

/* ---------------------------------------------------------------- dense arrays */

typedef struct dense_side {
    int32_t first;
    size_t n;
    double *counts; /* owned */
} dense_side;

static sw_status
side_alloc(dense_side *s, int64_t first, int64_t last, sw_err *err)
{
    *s = (dense_side){0};
    if (last < first)
        return SW_OK;
    if (first < INT32_MIN || last > INT32_MAX)
        return sw_err_set(err, SW_E_RANGE, "bucket index %lld outside 32 bits",
                          (long long)(first < INT32_MIN ? first : last));
    if (last - first + 1 > (int64_t)SW_NATIVE_MAX_BUCKETS)
        return sw_err_set(err, SW_E_TOOBIG, "%lld buckets, more than %u",
                          (long long)(last - first + 1), SW_NATIVE_MAX_BUCKETS);
    s->first = (int32_t)first;
    s->n = (size_t)(last - first + 1);
    s->counts = calloc(s->n, sizeof *s->counts);
    if (s->counts == NULL)
        return sw_err_set(err, SW_E_NOMEM, "no memory for %zu buckets", s->n);
    return SW_OK;
}

/* First and last bucket index spans cover (last < first when they cover none). */
static sw_status
span_extent(const sw_prom_span *spans, size_t n_spans, size_t n_counts, int64_t *first,
            int64_t *last, sw_err *err)
{
    int64_t index = 0;
    uint64_t covered = 0;
    *first = 0;
    *last = -1;
    for (size_t i = 0; i < n_spans; i++) {
        if (i > 0 && spans[i].offset < 0)
            return sw_err_set(err, SW_E_INVAL, "span %zu has negative offset %d", i,
                              (int)spans[i].offset);
        index += spans[i].offset;
        if (spans[i].length > 0) {
            if (covered == 0)
                *first = index;
            index += spans[i].length;
            *last = index - 1;
            covered += spans[i].length;
        }
        if (index > INT32_MAX || index < INT32_MIN)
            return sw_err_set(err, SW_E_RANGE, "span %zu reaches index %lld", i, (long long)index);
    }
    if (covered != n_counts)
        return sw_err_set(err, SW_E_INVAL, "spans cover %llu buckets, %zu counts given",
                          (unsigned long long)covered, n_counts);
    return SW_OK;
}

static sw_status
side_expand(dense_side *s, const sw_prom_span *spans, size_t n_spans, const double *counts,
            size_t n_counts, sw_err *err)
{
    int64_t first, last;
    sw_status st = span_extent(spans, n_spans, n_counts, &first, &last, err);
    if (st == SW_OK)
        st = side_alloc(s, first, last, err);
    if (st != SW_OK)
        return st;
    int64_t index = 0;
    size_t k = 0;
    for (size_t i = 0; i < n_spans; i++) {
        index += spans[i].offset;
        for (uint32_t j = 0; j < spans[i].length; j++, k++, index++) {
            if (!(counts[k] >= 0) || isinf(counts[k])) {
                free(s->counts);
                return sw_err_set(err, SW_E_INVAL, "bucket %lld has count %g", (long long)index,
                                  counts[k]);
            }
            s->counts[index - s->first] = counts[k];
        }
    }
    return SW_OK;
}

static void
dense_put(sw_native_dense *d, const dense_side *pos, const dense_side *neg)
{
    free(d->pos);
    free(d->neg);
    d->pos_first = pos->first;
    d->n_pos = pos->n;
    d->pos = pos->counts;
    d->neg_first = neg->first;
    d->n_neg = neg->n;
    d->neg = neg->counts;
}

sw_status
sw_native_dense_set(sw_native_dense *d, const sw_prom_native *n, sw_err *err)
{
    if (n->schema < MIN_SCHEMA || n->schema > MAX_SCHEMA)
        return sw_err_set(err, SW_E_RANGE, "native histogram schema %d outside %d ... %d",
                          (int)n->schema, MIN_SCHEMA, MAX_SCHEMA);
    if (!(n->zero_threshold >= 0) || !(n->zero_count >= 0) || isinf(n->zero_count))
        return sw_err_set(err, SW_E_INVAL, "zero bucket: threshold %g, count %g", n->zero_threshold,
                          n->zero_count);
    dense_side pos, neg;
    sw_status st =
        side_expand(&pos, n->pos_spans, n->n_pos_spans, n->pos_counts, n->n_pos_counts, err);
    if (st != SW_OK)
        return st;
    st = side_expand(&neg, n->neg_spans, n->n_neg_spans, n->neg_counts, n->n_neg_counts, err);
    if (st != SW_OK) {
        free(pos.counts);
        sw_err_prefix(err, "negative buckets");
        return st;
    }
    dense_put(d, &pos, &neg);
    d->schema = n->schema;
    d->zero_threshold = n->zero_threshold;
    d->zero_count = n->zero_count;
    d->count = n->count;
    d->sum = n->sum;
    return SW_OK;
}

void
sw_native_dense_fini(sw_native_dense *d)
{
    free(d->pos);
    free(d->neg);
    memset(d, 0, sizeof *d);
}

/* ---------------------------------------------------------------- delta */

/* src's side merged down to a schema coarser by shift (0: a copy). */
static sw_status
side_reduce(const double *counts, int32_t first, size_t n, int shift, dense_side *out, sw_err *err)
{
    if (n == 0) {
        *out = (dense_side){0};
        return SW_OK;
    }
    int64_t lo = coarser_index(first, shift), hi = coarser_index(first + (int64_t)n - 1, shift);
    sw_status st = side_alloc(out, lo, hi, err);
    if (st != SW_OK)
        return st;
    for (size_t i = 0; i < n; i++)
        out->counts[coarser_index(first + (int64_t)i, shift) - lo] += counts[i];
    return SW_OK;
}

static double
side_at(const dense_side *s, int64_t index)
{
    if (s->n == 0 || index < s->first || index >= s->first + (int64_t)s->n)
        return 0;
    return s->counts[index - s->first];
}

/*
 * out = cur - prev over both sides' range. prev's buckets inside the zero bucket of threshold
 * zt (which may have widened since prev) go to *prev_zero instead; one straddling zt, or any
 * bucket that went down, is a reset.
 */
static sw_status
side_subtract(const dense_side *cur, const dense_side *prev, int32_t schema, double zt,
              double *prev_zero, dense_side *out, bool *reset, sw_err *err)
{
    *out = (dense_side){0};
    if (cur->n == 0 && prev->n == 0)
        return SW_OK;
    int64_t lo = cur->n == 0    ? prev->first
                 : prev->n == 0 ? cur->first
                                : (cur->first < prev->first ? cur->first : prev->first);
    int64_t hi_cur = cur->first + (int64_t)cur->n - 1, hi_prev = prev->first + (int64_t)prev->n - 1;
    int64_t hi = cur->n == 0    ? hi_prev
                 : prev->n == 0 ? hi_cur
                                : (hi_cur > hi_prev ? hi_cur : hi_prev);
    sw_status st = side_alloc(out, lo, hi, err);
    if (st != SW_OK)
        return st;
    for (int64_t i = lo; i <= hi && !*reset; i++) {
        double p = side_at(prev, i), c = side_at(cur, i);
        if (p > 0 && native_upper(schema, i) <= zt) {
            *prev_zero += p;
            p = 0;
        } else if (p > 0 && native_upper(schema, i - 1) < zt) {
            *reset = true;
        }
        out->counts[i - lo] = c - p;
        *reset = *reset || c < p;
    }
    return SW_OK;
}

static void
sides_free(dense_side *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(s[i].counts);
}

/* cur - prev when neither reset nor schema got finer; *reset set when a bucket went down. */
static sw_status
subtract(const sw_native_dense *cur, const sw_native_dense *prev, sw_native_dense *delta,
         bool *reset, sw_err *err)
{
    int shift = prev->schema - cur->schema;
    dense_side s[4] = {{0}}; /* prev's positive and negative sides at cur's schema; the delta's */
    dense_side cur_pos = {cur->pos_first, cur->n_pos, cur->pos};
    dense_side cur_neg = {cur->neg_first, cur->n_neg, cur->neg};
    double prev_zero = prev->zero_count;
    sw_status st = side_reduce(prev->pos, prev->pos_first, prev->n_pos, shift, &s[0], err);
    if (st == SW_OK)
        st = side_reduce(prev->neg, prev->neg_first, prev->n_neg, shift, &s[1], err);
    if (st == SW_OK)
        st = side_subtract(&cur_pos, &s[0], cur->schema, cur->zero_threshold, &prev_zero, &s[2],
                           reset, err);
    if (st == SW_OK)
        st = side_subtract(&cur_neg, &s[1], cur->schema, cur->zero_threshold, &prev_zero, &s[3],
                           reset, err);
    *reset = *reset || cur->zero_count < prev_zero;
    if (st != SW_OK || *reset) {
        sides_free(s, 4);
        return st;
    }
    sides_free(s, 2);
    dense_put(delta, &s[2], &s[3]);
    delta->schema = cur->schema;
    delta->zero_threshold = cur->zero_threshold;
    delta->zero_count = cur->zero_count - prev_zero;
    delta->count = cur->count - prev->count;
    delta->sum = cur->sum - prev->sum;
    return SW_OK;
}

static sw_status
copy_dense(const sw_native_dense *src, sw_native_dense *dst, sw_err *err)
{
    dense_side pos, neg;
    sw_status st = side_reduce(src->pos, src->pos_first, src->n_pos, 0, &pos, err);
    if (st != SW_OK)
        return st;
    st = side_reduce(src->neg, src->neg_first, src->n_neg, 0, &neg, err);
    if (st != SW_OK) {
        free(pos.counts);
        return st;
    }
    dense_put(dst, &pos, &neg);
    dst->schema = src->schema;
    dst->zero_threshold = src->zero_threshold;
    dst->zero_count = src->zero_count;
    dst->count = src->count;
    dst->sum = src->sum;
    return SW_OK;
}

sw_status
sw_native_dense_delta(const sw_native_dense *cur, const sw_native_dense *prev,
                      sw_native_dense *delta, bool *reset, sw_err *err)
{
    /* Prometheus' reset test: fewer observations, a finer schema or a narrower zero bucket
     * cannot happen to a histogram that kept counting. */
    *reset = cur->count < prev->count || cur->schema > prev->schema ||
             cur->zero_threshold < prev->zero_threshold;
    if (!*reset) {
        sw_status st = subtract(cur, prev, delta, reset, err);
        if (st != SW_OK || !*reset)
            return st;
    }
    return copy_dense(cur, delta, err);
}

/* ---------------------------------------------------------------- recording */

/* Values to record so that, after adding c, the running total is round(*cum) exactly. */
static uint64_t
take_rounded(double *cum, uint64_t *done, double c)
{
    if (c > 0)
        *cum += c;
    double target = floor(*cum + 0.5);
    uint64_t total = target >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)target;
    uint64_t n = total > *done ? total - *done : 0;
    *done += n;
    return n;
}

sw_status
sw_native_dense_record(const sw_native_dense *d, double unit_us, sw_hdr *h, sw_err *err)
{
    if (!(unit_us > 0) || isinf(unit_us))
        return sw_err_set(err, SW_E_INVAL, "unit %g µs", unit_us);
    double cum = 0;
    uint64_t done = 0;
    /* Zero bucket and negative buckets are at or below zero: recorded as 0. */
    double at_zero = d->zero_count > 0 ? d->zero_count : 0;
    for (size_t i = 0; i < d->n_neg; i++)
        at_zero += d->neg[i] > 0 ? d->neg[i] : 0;
    uint64_t n = take_rounded(&cum, &done, at_zero);
    sw_status st = sw_promhist_spread(h, 0, 0, n, unit_us, err);
    for (size_t i = 0; i < d->n_pos && st == SW_OK; i++) {
        n = take_rounded(&cum, &done, d->pos[i]);
        int64_t index = d->pos_first + (int64_t)i;
        st = sw_promhist_spread(h, native_upper(d->schema, index - 1),
                                native_upper(d->schema, index), n, unit_us, err);
    }
    return st;
}
