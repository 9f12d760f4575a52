/*
 * Synthetic CloudWatch latency periods for the percentile-grid test and benchmark: draw each
 * 1-minute period's request durations, compute the statistics CloudWatch would return (the grid
 * percentiles by nearest rank, SampleCount, Minimum, Maximum, in milliseconds), spread them
 * into a histogram with sw_cwpct_record and keep every drawn value, so the merged histogram's
 * percentiles can be compared with the exact percentiles of all values.
 */
#ifndef SLAWATCH_TESTS_CWPCT_SIM_H
#define SLAWATCH_TESTS_CWPCT_SIM_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "slawatch/cwpct.h"
#include "slawatch/rng.h"

typedef enum cwsim_shape { CWSIM_LOGNORMAL_05, CWSIM_LOGNORMAL_075, CWSIM_BIMODAL } cwsim_shape;

static const char *const cwsim_shape_names[] = {"lognormal_s0.5", "lognormal_s0.75", "bimodal"};

static inline int64_t
cwsim_draw(sw_rng *r, cwsim_shape shape)
{
    switch (shape) {
    case CWSIM_LOGNORMAL_05:
        return sw_rng_lognormal_us(r, 120000, 0.5);
    case CWSIM_LOGNORMAL_075:
        return sw_rng_lognormal_us(r, 120000, 0.75);
    default: /* 90 % fast path around 80 ms, 10 % slow (cache misses) around 900 ms */
        return sw_rng_open01(r) < 0.9 ? sw_rng_lognormal_us(r, 80000, 0.3)
                                      : sw_rng_lognormal_us(r, 900000, 0.25);
    }
}

static inline int
cwsim_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest rank: the smallest value with at least p % of the sorted values at or below it. */
static inline int64_t
cwsim_rank(const int64_t *sorted, size_t n, double p)
{
    size_t k = (size_t)ceil(p / 100.0 * (double)n - 1e-9);
    return sorted[k == 0 ? 0 : k - 1];
}

/* One period of n values appended to all[*n_all] (sorted in place), spread into h. */
static inline sw_status
cwsim_period(sw_rng *r, cwsim_shape shape, size_t n, int64_t *all, size_t *n_all, sw_hdr *h,
             sw_err *err)
{
    int64_t *v = all + *n_all;
    sw_cwpct_point pts[64];
    for (size_t i = 0; i < n; i++)
        v[i] = cwsim_draw(r, shape);
    qsort(v, n, sizeof *v, cwsim_cmp);
    for (size_t g = 0; g < sw_cwpct_grid_len; g++)
        pts[g] = (sw_cwpct_point){sw_cwpct_grid[g],
                                  (double)cwsim_rank(v, n, sw_cwpct_grid[g]) / 1000.0};
    *n_all += n;
    return sw_cwpct_record(h, pts, sw_cwpct_grid_len, (double)n, (double)v[0] / 1000.0,
                           (double)v[n - 1] / 1000.0, 1000.0, err);
}

/* Relative error of h's percentile p against the exact one of the values (sorted). */
static inline double
cwsim_error(const sw_hdr *h, int64_t *all, size_t n_all, double p)
{
    int64_t exact = cwsim_rank(all, n_all, p);
    return ((double)sw_hdr_value_at_percentile(h, p) - (double)exact) / (double)exact;
}

#endif
