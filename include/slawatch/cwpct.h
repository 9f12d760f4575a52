/*
 * CloudWatch percentile statistics into HDR latency histograms. CloudWatch keeps no histogram
 * of a metric, only the statistics asked for: a grid of percentiles (p1 ... p99.9) plus
 * SampleCount per period gives the period's distribution as a piecewise-linear CDF, which is
 * spread into the histogram so that periods merge into hours and months like any other
 * latency data. The grid, its error and its API cost are in collector/CLOUDWATCH.md.
 */
#ifndef SLAWATCH_CWPCT_H
#define SLAWATCH_CWPCT_H

#include <stddef.h>
#include <stdint.h>

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

/*
 * A percentile-rank statistic `PR(:T)` (the percentage of the period's sample_count values
 * <= T) as good/bad request counts: good = round(sample_count * rank / 100), bad = the rest.
 * For rules that only ask "share of requests under T" (a latency objective whose threshold is
 * T): one statistic per period instead of the grid. SW_E_INVAL for a rank outside 0 ... 100 or
 * a count that is negative, non-finite or above 2^53. ret_good/ret_bad written on success.
 */
sw_status sw_cwpct_rank_counts(double rank_pct, double sample_count, uint64_t *ret_good,
                               uint64_t *ret_bad, sw_err *err);

/*
 * The same statistic into a latency histogram: the good values recorded at threshold_us, the
 * bad ones just above it (the next bucket), so the histogram answers "is Pxx <= T?" and "share
 * under T" exactly, whatever the percentile. Errors as sw_cwpct_rank_counts, and SW_E_RANGE when
 * threshold_us is outside h's range.
 */
sw_status sw_cwpct_record_rank(sw_hdr *h, int64_t threshold_us, double rank_pct,
                               double sample_count, sw_err *err);

#endif
