/*
 * CloudWatch percentile statistics into HDR latency histograms. CloudWatch keeps no histogram
 * of a metric, only the statistics asked for: a grid of percentiles (p1 ... p99.9) plus
 * SampleCount per period gives the period's distribution as a piecewise-linear CDF, which is
 * spread into the histogram so that periods merge into hours and months like any other
 * latency data. The grid, its error and its API cost are in docs/cloudwatch.md.
 */
#ifndef SLAWATCH_CWPCT_H
#define SLAWATCH_CWPCT_H

#include <stddef.h>

#include "slawatch/err.h"
#include "slawatch/hdr.h"

/* One percentile statistic of a period: `p99.5` is {99.5, value}. */
typedef struct sw_cwpct_point {
    double p;     /* 0 < p < 100 */
    double value; /* in the metric's unit */
} sw_cwpct_point;

/* The grid slawatch asks CloudWatch for (the statistics' names are `p` and these numbers). */
extern const double sw_cwpct_grid[];
extern const size_t sw_cwpct_grid_len;

/*
 * Record sample_count values (rounded to a whole number) into h, distributed as the piecewise-
 * linear CDF through the points (sorted by p here; missing or non-finite values skipped),
 * with min and max (NaN when unknown) as the ends. unit_us scales values to microseconds
 * (1e3 for milliseconds, 1e6 for seconds). The total recorded is exactly the rounded count.
 */
sw_status sw_cwpct_record(sw_hdr *h, const sw_cwpct_point *points, size_t n, double sample_count,
                          double min, double max, double unit_us, sw_err *err);

#endif
