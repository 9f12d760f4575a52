/*
 * Latency totals kept at the resolution they are exported at (expo.h, sw_expo_totals): the
 * native buckets as a dense range of counts, the counts between the classic bounds, the count
 * and the sum of bucket midpoints in exact 128-bit integers. Which native bucket each HDR bucket
 * of the latency layout goes to is worked out once per process by the writer itself
 * (expo_hist_build over a histogram holding one value in every bucket), so the totals place
 * values exactly where an exposition of the HDR histogram would, with a table lookup a bucket.
 */
#include "expo_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define LATENCY_SCALE 1e-6
#define IN_ZERO_BUCKET INT32_MIN

struct sw_expo_totals {
    double *bounds;
    int64_t *bound_units; /* each bound in HDR units: the last value at or below it */
    uint64_t *classic;    /* [j]: values above bound j - 1, at or below bound j; [n]: above all */
    size_t n_bounds;
    uint64_t count, zero;
    __int128 sum;         /* of bucket midpoints, in microseconds */
    int32_t native_first; /* native bucket index of native[0] */
    uint64_t *native;
    size_t native_len;
};

/* The native bucket of each HDR bucket index of the latency layout (IN_ZERO_BUCKET: the zero
 * bucket), and the lowest and highest native index any of them has. */
static struct {
    int32_t *native_of;
    int64_t *value_lo; /* each bucket's lowest value, increasing */
    size_t n;
    int32_t lowest, highest;
} layout;
static pthread_once_t layout_once = PTHREAD_ONCE_INIT;

/* Fill the table from a histogram holding one value in each bucket; the writer's native buckets
 * of it, in order, count how many HDR buckets each takes. */
static bool
layout_fill(sw_expo *e, const sw_hdr *h)
{
    expo_hist c;
    if (expo_hist_build(e, h, LATENCY_SCALE, NULL, 0, true, &c, NULL) != SW_OK)
        return false;
    sw_hdr_iter it;
    sw_hdr_iter_init(&it, h);
    uint64_t zero_left = c.zero_count, left = 0;
    size_t j = 0;
    bool first = true;
    while (sw_hdr_iter_next(&it)) {
        if ((size_t)it.index >= layout.n)
            return false;
        layout.value_lo[it.index] = it.value_lo;
        if (zero_left > 0) {
            zero_left--;
            layout.native_of[it.index] = IN_ZERO_BUCKET;
            continue;
        }
        while (left == 0 && j < c.n_native)
            left = c.native_count[j++];
        if (left == 0)
            return false;
        left--;
        int32_t k = c.native_index[j - 1];
        layout.native_of[it.index] = k;
        if (first)
            layout.lowest = k;
        first = false;
        layout.highest = k;
    }
    return !first;
}

static void
layout_build(void)
{
    sw_hdr *h = NULL;
    sw_expo *e = NULL;
    if (sw_hdr_new_dense(&sw_hdr_latency_config, &h, NULL) == SW_OK &&
        sw_expo_new(&e, NULL) == SW_OK) {
        int64_t v = 0;
        while (sw_hdr_record(h, v))
            v = sw_hdr_highest_equivalent(h, v) + 1;
        layout.n = (size_t)sw_hdr_recorded_buckets(h);
        layout.native_of = malloc(layout.n * sizeof *layout.native_of);
        layout.value_lo = malloc(layout.n * sizeof *layout.value_lo);
        if (layout.native_of == NULL || layout.value_lo == NULL || !layout_fill(e, h)) {
            free(layout.native_of);
            free(layout.value_lo);
            layout.native_of = NULL;
        }
    }
    sw_expo_free(e);
    sw_hdr_free(h);
}

static sw_status
layout_ready(sw_err *err)
{
    pthread_once(&layout_once, layout_build);
    return layout.native_of != NULL
               ? SW_OK
               : sw_err_set(err, SW_E_NOMEM, "out of memory placing latency buckets");
}

/* ------------------------------------------------------------------ bounds */

sw_status
sw_expo_totals_set_bounds(sw_expo_totals *t, const double *bounds, size_t n, bool *ret_reset,
                          sw_err *err)
{
    *ret_reset = false;
    sw_status st = expo_check_bounds(LATENCY_SCALE, bounds, n, err);
    if (st != SW_OK)
        return st;
    if (t->bounds != NULL && n == t->n_bounds &&
        (n == 0 || memcmp(bounds, t->bounds, n * sizeof *bounds) == 0))
        return SW_OK;
    double *b = malloc((n + 1) * sizeof *b);
    int64_t *units = malloc((n + 1) * sizeof *units);
    uint64_t *classic = calloc(n + 1, sizeof *classic);
    if (b == NULL || units == NULL || classic == NULL) {
        free(b);
        free(units);
        free(classic);
        return sw_err_set(err, SW_E_NOMEM, "out of memory keeping latency bounds");
    }
    expo_scaler s = expo_scaler_of(LATENCY_SCALE);
    for (size_t j = 0; j < n; j++) {
        b[j] = bounds[j];
        units[j] = expo_units_at_or_below(&s, bounds[j]);
    }
    *ret_reset = t->bounds != NULL;
    free(t->bounds);
    free(t->bound_units);
    free(t->classic);
    t->bounds = b;
    t->bound_units = units;
    t->classic = classic;
    t->n_bounds = n;
    /* The values counted cannot be placed at the new bounds: everything starts again. */
    t->count = t->zero = 0;
    t->sum = 0;
    if (t->native != NULL)
        memset(t->native, 0, t->native_len * sizeof *t->native);
    return SW_OK;
}

sw_status
sw_expo_totals_new(const double *bounds, size_t n, sw_expo_totals **ret, sw_err *err)
{
    *ret = NULL;
    sw_status st = layout_ready(err);
    if (st != SW_OK)
        return st;
    sw_expo_totals *t = calloc(1, sizeof *t);
    if (t == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory keeping latency totals");
    bool reset;
    if ((st = sw_expo_totals_set_bounds(t, bounds, n, &reset, err)) != SW_OK) {
        sw_expo_totals_free(t);
        return st;
    }
    *ret = t;
    return SW_OK;
}

void
sw_expo_totals_free(sw_expo_totals *t)
{
    if (t == NULL)
        return;
    free(t->bounds);
    free(t->bound_units);
    free(t->classic);
    free(t->native);
    free(t);
}

/* ------------------------------------------------------------------ adding */

/* Grow the native range to cover [lo, hi], with a sixteenth's slack on the side it grows,
 * clamped to the native buckets the layout reaches. */
static bool
native_cover(sw_expo_totals *t, int32_t lo, int32_t hi)
{
    int32_t first = t->native_first, last = first + (int32_t)t->native_len - 1;
    if (t->native != NULL && lo >= first && hi <= last)
        return true;
    int32_t slack = (int32_t)(t->native_len / 16);
    int32_t new_first = t->native == NULL ? lo : lo < first ? lo - slack : first;
    int32_t new_last = t->native == NULL ? hi : hi > last ? hi + slack : last;
    if (new_first < layout.lowest)
        new_first = layout.lowest;
    if (new_last > layout.highest)
        new_last = layout.highest;
    size_t len = (size_t)(new_last - new_first + 1);
    uint64_t *native = calloc(len, sizeof *native);
    if (native == NULL)
        return false;
    if (t->native != NULL)
        memcpy(native + (first - new_first), t->native, t->native_len * sizeof *native);
    free(t->native);
    t->native = native;
    t->native_first = new_first;
    t->native_len = len;
    return true;
}

/* The native bucket of the HDR bucket holding v (a value the layout holds). */
static int32_t
native_of_value(int64_t v)
{
    size_t lo = 0, hi = layout.n; /* the bucket is the last whose lowest value is <= v */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (layout.value_lo[mid] <= v)
            lo = mid;
        else
            hi = mid;
    }
    return layout.native_of[lo];
}

/* The native buckets h's values reach, from its lowest and highest values (a walk of its
 * buckets when it holds zeros); false when all are in the zero bucket. */
static bool
native_span(const sw_hdr *h, int32_t *lo, int32_t *hi)
{
    if (sw_hdr_total_count(h) == 0)
        return false;
    *hi = native_of_value(sw_hdr_max(h));
    if (*hi == IN_ZERO_BUCKET)
        return false;
    *lo = native_of_value(sw_hdr_min(h));
    if (*lo != IN_ZERO_BUCKET)
        return true;
    bool any = false;
    sw_hdr_iter it;
    sw_hdr_iter_init(&it, h);
    while (sw_hdr_iter_next(&it)) {
        int32_t k = layout.native_of[it.index];
        if (k == IN_ZERO_BUCKET)
            continue;
        if (!any)
            *lo = k;
        *hi = k;
        any = true;
    }
    return any;
}

/* h in the latency layout: each bucket to its classic, native or zero count, and the sum (kept
 * in locals while the walk writes the arrays). */
static sw_status
add_same_layout(sw_expo_totals *t, const sw_hdr *h, sw_err *err)
{
    int32_t lo, hi;
    if (native_span(h, &lo, &hi) && !native_cover(t, lo, hi))
        return sw_err_set(err, SW_E_NOMEM, "out of memory adding latency totals");
    uint64_t total = 0, zero = 0;
    __int128 sum = 0;
    size_t j = 0;
    sw_hdr_iter it;
    sw_hdr_iter_init(&it, h);
    while (sw_hdr_iter_next(&it)) {
        while (j < t->n_bounds && it.value_lo > t->bound_units[j])
            j++;
        uint64_t count = (uint64_t)it.count;
        t->classic[j] += count;
        total += count;
        /* The midpoint the writer and HdrHistogram's mean use. */
        int64_t mid = it.value_lo + (it.value_hi - it.value_lo + 1) / 2;
        sum += (__int128)mid * it.count;
        int32_t k = layout.native_of[it.index];
        if (k == IN_ZERO_BUCKET) {
            zero += count;
            continue;
        }
        /* Covered from h's lowest and highest values (native_span). */
        SW_REQUIRE(k >= t->native_first && k < t->native_first + (int32_t)t->native_len);
        t->native[k - t->native_first] += count;
    }
    t->count += total;
    t->zero += zero;
    t->sum += sum;
    return SW_OK;
}

sw_status
sw_expo_totals_add(sw_expo_totals *t, const sw_hdr *h, sw_err *err)
{
    if (sw_hdr_has_config(h, &sw_hdr_latency_config))
        return add_same_layout(t, h, err);
    /* Another layout: its values brought to the latency layout as sw_hdr_add brings them. */
    sw_hdr *moved;
    sw_status st = sw_hdr_new(&sw_hdr_latency_config, &moved, err);
    if (st != SW_OK)
        return st;
    sw_hdr_add(moved, h);
    st = add_same_layout(t, moved, err);
    sw_hdr_free(moved);
    return st;
}

uint64_t
sw_expo_totals_count(const sw_expo_totals *t)
{
    return t->count;
}

double
sw_expo_totals_mean(const sw_expo_totals *t)
{
    return t->count == 0 ? 0.0 : (double)t->sum / (double)t->count;
}

size_t
sw_expo_totals_memory_size(const sw_expo_totals *t)
{
    return sizeof *t + t->native_len * sizeof *t->native +
           t->n_bounds * (sizeof *t->bounds + sizeof *t->bound_units) +
           (t->n_bounds + 1) * sizeof *t->classic;
}

/* ------------------------------------------------------------------ exposing */

sw_status
expo_totals_build(sw_expo *e, const sw_expo_totals *t, bool native, expo_hist *ret, sw_err *err)
{
    size_t native_cap = e->native_cap;
    if (expo_grow((void **)&e->cumulative, &e->cumulative_cap, t->n_bounds, sizeof *e->cumulative,
                  err) != SW_OK ||
        (native && (expo_grow((void **)&e->native_index, &native_cap, t->native_len,
                              sizeof *e->native_index, err) != SW_OK ||
                    expo_grow((void **)&e->native_count, &e->native_cap, t->native_len,
                              sizeof *e->native_count, err) != SW_OK)))
        return SW_E_NOMEM;
    uint64_t below = 0;
    for (size_t j = 0; j < t->n_bounds; j++) {
        below += t->classic[j];
        e->cumulative[j] = below;
    }
    size_t n = 0;
    for (size_t i = 0; native && i < t->native_len; i++) {
        if (t->native[i] == 0)
            continue;
        e->native_index[n] = t->native_first + (int32_t)i;
        e->native_count[n++] = t->native[i];
    }
    expo_scaler s = expo_scaler_of(LATENCY_SCALE);
    *ret = (expo_hist){.bounds = t->bounds,
                       .cumulative = e->cumulative,
                       .n_bounds = t->n_bounds,
                       .count = t->count,
                       .sum = expo_to_exposed(&s, (double)t->sum),
                       .native_index = e->native_index,
                       .native_count = e->native_count,
                       .n_native = n,
                       .zero_count = t->zero};
    return SW_OK;
}
