/*
 * The format-neutral view of one histogram series (expo_hist): classic cumulative counts at
 * the caller's bounds, the sum, and for protobuf the native buckets, all from one walk over
 * the HDR's recorded buckets. Every HDR bucket is placed at its lowest equivalent value, the
 * rule of sw_hdr_count_at_or_below. Bounds are turned into HDR units first, so the walk only
 * compares integers; native bucket bounds come from a table kept in the handle per scale.
 */
#include "expo_int.h"

#include <math.h>

expo_scaler
expo_scaler_of(double scale)
{
    double inv = 1 / scale;
    double whole = nearbyint(inv);
    /* Dividing by an integer such as 1e6 turns 5000 us into exactly the double nearest
     * 0.005, so it compares equal to a bound written 0.005. */
    if (inv >= 1 && fabs(inv - whole) <= 1e-9 * whole)
        return (expo_scaler){.mul = scale, .div = whole};
    return (expo_scaler){.mul = scale, .div = 0};
}

double
expo_to_exposed(const expo_scaler *s, double units)
{
    return s->div != 0 ? units / s->div : units * s->mul;
}

int64_t
expo_units_at_or_below(const expo_scaler *s, double x)
{
    double guess = floor(s->div != 0 ? x * s->div : x / s->mul);
    if (!(guess < 0x1p61))
        return INT64_C(1) << 61; /* beyond any HDR value */
    int64_t u = guess < -1 ? -1 : (int64_t)guess;
    /* The guess is off by at most one or two from rounding: settle it by the exact rule. */
    while (expo_to_exposed(s, (double)(u + 1)) <= x)
        u++;
    while (u >= 0 && expo_to_exposed(s, (double)u) > x)
        u--;
    return u;
}

/* Bucket i of schema s holds (2^((i-1)/2^s), 2^(i/2^s)]. */
static int32_t
native_index(double v)
{
    return (int32_t)ceil(log2(v) * (double)(1 << SW_EXPO_SCHEMA));
}

static void
table_reset(sw_expo *e, const expo_scaler *s)
{
    e->table_scale = *s;
    e->table_zero_units = expo_units_at_or_below(s, EXPO_ZERO_THRESHOLD);
    e->table_first = native_index(expo_to_exposed(s, (double)(e->table_zero_units + 1)));
    e->table_len = 0;
}

/* Extend the table by one native bucket. */
static sw_status
table_extend(sw_expo *e, sw_err *err)
{
    if (expo_grow((void **)&e->table_upper, &e->table_cap, e->table_len + 1,
                  sizeof *e->table_upper, err) != SW_OK)
        return SW_E_NOMEM;
    double upper =
        exp2((double)(e->table_first + (int32_t)e->table_len) / (double)(1 << SW_EXPO_SCHEMA));
    e->table_upper[e->table_len++] = expo_units_at_or_below(&e->table_scale, upper);
    return SW_OK;
}

static sw_status
grow_scratch(sw_expo *e, size_t n_bounds, size_t n_native, sw_err *err)
{
    size_t cap = e->native_cap;
    if (expo_grow((void **)&e->cumulative, &e->cumulative_cap, n_bounds, sizeof *e->cumulative,
                  err) != SW_OK ||
        expo_grow((void **)&e->bound_units, &e->bound_units_cap, n_bounds,
                  sizeof *e->bound_units, err) != SW_OK ||
        expo_grow((void **)&e->native_index, &cap, n_native, sizeof *e->native_index, err) !=
            SW_OK ||
        expo_grow((void **)&e->native_count, &e->native_cap, n_native, sizeof *e->native_count,
                  err) != SW_OK)
        return SW_E_NOMEM;
    return SW_OK;
}

/* Walk state for the native buckets. */
typedef struct native_walk {
    size_t k; /* table position of the last native bucket used */
    size_t n;
    uint64_t zero;
} native_walk;

/* Table entries and scratch for every native bucket up to max_units, before the walk. */
static sw_status
native_prepare(sw_expo *e, int64_t max_units, sw_err *err)
{
    while (e->table_len == 0 || e->table_upper[e->table_len - 1] < max_units) {
        if (table_extend(e, err) != SW_OK)
            return SW_E_NOMEM;
    }
    return grow_scratch(e, 0, e->table_len, err);
}

/* Add an HDR bucket at lo; the table already reaches past lo (native_prepare). */
static void
add_native(sw_expo *e, native_walk *w, int64_t lo, uint64_t count)
{
    if (lo <= e->table_zero_units) {
        w->zero += count;
        return;
    }
    while (e->table_upper[w->k] < lo)
        w->k++;
    int32_t index = e->table_first + (int32_t)w->k;
    if (w->n > 0 && e->native_index[w->n - 1] == index) {
        e->native_count[w->n - 1] += count;
        return;
    }
    e->native_index[w->n] = index;
    e->native_count[w->n++] = count;
}

sw_status
expo_hist_build(sw_expo *e, const sw_hdr *h, double scale, const double *bounds,
                size_t n_bounds, bool native, expo_hist *ret, sw_err *err)
{
    expo_scaler s = expo_scaler_of(scale);
    if (grow_scratch(e, n_bounds, 0, err) != SW_OK)
        return SW_E_NOMEM;
    for (size_t j = 0; j < n_bounds; j++)
        e->bound_units[j] = expo_units_at_or_below(&s, bounds[j]);
    if (native && (e->table_scale.mul != s.mul || e->table_scale.div != s.div))
        table_reset(e, &s);
    if (native && native_prepare(e, sw_hdr_max(h), err) != SW_OK)
        return SW_E_NOMEM;
    native_walk w = {0};
    uint64_t below = 0;
    __int128 sum_units = 0;
    size_t j = 0;
    sw_hdr_iter it;
    sw_hdr_iter_init(&it, h);
    while (sw_hdr_iter_next(&it)) {
        while (j < n_bounds && it.value_lo > e->bound_units[j])
            e->cumulative[j++] = below;
        below += (uint64_t)it.count;
        /* The midpoint HdrHistogram's mean uses: lowest + half the bucket's width. Summed in
         * exact integers and rounded once, so the sum does not depend on the order buckets are
         * added in (the totals, expo_totals.c, add them interval by interval). */
        int64_t mid = it.value_lo + (it.value_hi - it.value_lo + 1) / 2;
        sum_units += (__int128)mid * it.count;
        if (native)
            add_native(e, &w, it.value_lo, (uint64_t)it.count);
    }
    while (j < n_bounds)
        e->cumulative[j++] = below;
    *ret = (expo_hist){.bounds = bounds,
                       .cumulative = e->cumulative,
                       .n_bounds = n_bounds,
                       .count = below,
                       .sum = expo_to_exposed(&s, (double)sum_units),
                       .native_index = e->native_index,
                       .native_count = e->native_count,
                       .n_native = w.n,
                       .zero_count = w.zero};
    return SW_OK;
}
