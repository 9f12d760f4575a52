/*
 * Synthetic CloudWatch latency periods for the percentile-grid test and benchmark: draw each
 * period's request durations from a mix (a log-normal fast mode and, during incidents, a share
 * of slow requests from a second log-normal), compute the statistics CloudWatch would return
 * (the grid percentiles by nearest rank, SampleCount, Minimum, Maximum, Sum and PR(:T) at the
 * given thresholds, in milliseconds) and spread them into a histogram with sw_cwpct_record. The
 * drawn values stay with the caller, so the reconstruction can be compared with the exact truth.
 */
#ifndef SLAWATCH_TESTS_CWPCT_SIM_H
#define SLAWATCH_TESTS_CWPCT_SIM_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "slawatch/cwpct.h"
#include "slawatch/rng.h"

/* One period's distribution: slow_share of the requests from the slow mode. */
typedef struct cwsim_mix {
    double median_us, sigma;
    double slow_share, slow_median_us, slow_sigma;
} cwsim_mix;

/* Incidents' slow mode: a stuck dependency answering around 900 ms. */
#define CWSIM_SLOW_MEDIAN_US 900000.0
#define CWSIM_SLOW_SIGMA 0.25

static inline int64_t
cwsim_draw(sw_rng *r, const cwsim_mix *m)
{
    if (m->slow_share > 0 && sw_rng_open01(r) < m->slow_share)
        return sw_rng_lognormal_us(r, m->slow_median_us, m->slow_sigma);
    return sw_rng_lognormal_us(r, m->median_us, m->sigma);
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

/* Values of sorted[0..n) above t. */
static inline size_t
cwsim_above(const int64_t *sorted, size_t n, int64_t t)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (sorted[mid] <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return n - lo;
}

/*
 * One period of n values drawn into v[0..n) (sorted), its statistics spread into h: the grid,
 * SampleCount, Minimum, Maximum, Sum and, for each of thresholds_us[0..n_thresholds), PR(:T).
 */
static inline sw_status
cwsim_period(sw_rng *r, const cwsim_mix *m, size_t n, const int64_t *thresholds_us,
             size_t n_thresholds, int64_t *v, sw_hdr *h, sw_err *err)
{
    sw_cwpct_point pts[64];
    sw_cwpct_rank ranks[16];
    double sum_us = 0;
    for (size_t i = 0; i < n; i++) {
        v[i] = cwsim_draw(r, m);
        sum_us += (double)v[i];
    }
    qsort(v, n, sizeof *v, cwsim_cmp);
    for (size_t g = 0; g < sw_cwpct_grid_len; g++)
        pts[g] =
            (sw_cwpct_point){sw_cwpct_grid[g], (double)cwsim_rank(v, n, sw_cwpct_grid[g]) / 1000.0};
    for (size_t i = 0; i < n_thresholds && i < 16; i++)
        ranks[i] =
            (sw_cwpct_rank){(double)thresholds_us[i] / 1000.0,
                            100.0 * (double)(n - cwsim_above(v, n, thresholds_us[i])) / (double)n};
    sw_cwpct_period pd = {.points = pts,
                          .n_points = sw_cwpct_grid_len,
                          .ranks = ranks,
                          .n_ranks = n_thresholds < 16 ? n_thresholds : 16,
                          .sample_count = (double)n,
                          .min = (double)v[0] / 1000.0,
                          .max = (double)v[n - 1] / 1000.0,
                          .unit_us = 1000.0,
                          .sum = sum_us / 1000.0};
    return sw_cwpct_record(h, &pd, err);
}

/*
 * What CloudWatch answers for a whole window (an hour, a day) as one period, from every value
 * drawn in it (sorted[0..n)): the grid by nearest rank, SampleCount, Minimum, Maximum and
 * PR(:T) at thresholds_us[0..n_thresholds) (at most 16), in milliseconds. pts holds
 * sw_cwpct_grid_len points and ranks n_thresholds; Sum is left unknown.
 */
static inline sw_cwpct_period
cwsim_window_stats(const int64_t *sorted, size_t n, const int64_t *thresholds_us,
                   size_t n_thresholds, sw_cwpct_point *pts, sw_cwpct_rank *ranks)
{
    for (size_t g = 0; g < sw_cwpct_grid_len; g++)
        pts[g] = (sw_cwpct_point){sw_cwpct_grid[g],
                                  (double)cwsim_rank(sorted, n, sw_cwpct_grid[g]) / 1000.0};
    for (size_t i = 0; i < n_thresholds && i < 16; i++)
        ranks[i] = (sw_cwpct_rank){(double)thresholds_us[i] / 1000.0,
                                   100.0 * (double)(n - cwsim_above(sorted, n, thresholds_us[i])) /
                                       (double)n};
    return (sw_cwpct_period){.points = pts,
                             .n_points = sw_cwpct_grid_len,
                             .ranks = ranks,
                             .n_ranks = n_thresholds < 16 ? n_thresholds : 16,
                             .sample_count = (double)n,
                             .min = (double)sorted[0] / 1000.0,
                             .max = (double)sorted[n - 1] / 1000.0,
                             .unit_us = 1000.0,
                             .sum = NAN};
}

/* Relative error of h's percentile p against the exact one of the values (sorted). */
static inline double
cwsim_error(const sw_hdr *h, const int64_t *sorted, size_t n, double p)
{
    int64_t exact = cwsim_rank(sorted, n, p);
    return ((double)sw_hdr_value_at_percentile(h, p) - (double)exact) / (double)exact;
}

#endif
