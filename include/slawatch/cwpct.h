/*
 * CloudWatch percentile statistics into HDR latency histograms. CloudWatch keeps no histogram
 * of a metric, only the statistics asked for: a grid of percentiles (p1 ... p99.9), Minimum,
 * Maximum and SampleCount per period, and percentile ranks PR(:T) at the rules' latency
 * thresholds, give the period's distribution as a curve through those points, which is spread
 * into the histogram so that periods merge into hours and months like any other latency data.
 * The grid, the method, its measured error and its API cost are in collector/CLOUDWATCH.md.
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

/* One percentile-rank statistic `PR(:threshold)`: rank_pct % of the values are <= threshold. */
typedef struct sw_cwpct_rank {
    double threshold; /* in the metric's unit */
    double rank_pct;  /* 0 ... 100 */
} sw_cwpct_rank;

/* The grid slawatch asks CloudWatch for (the statistics' names are `p` and these numbers). */
extern const double sw_cwpct_grid[];
extern const size_t sw_cwpct_grid_len;

/* What CloudWatch said about one period of a latency metric. */
typedef struct sw_cwpct_period {
    const sw_cwpct_point *points; /* any order; missing or non-finite values skipped */
    size_t n_points;
    const sw_cwpct_rank *ranks; /* PR(:T) answers; non-finite ones skipped */
    size_t n_ranks;
    double sample_count; /* rounded to a whole number */
    double min, max;     /* NaN when unknown */
    double unit_us;      /* the unit in microseconds: 1e3 for milliseconds, 1e6 for seconds */
    double sum;          /* the Sum statistic (the mean times the count); 0 or NaN: not fetched */
} sw_cwpct_period;

/*
 * Record the period's sample_count values into h, distributed along the curve through min,
 * the points and max, linear in (normal quantile of the level, log of the value). The total
 * recorded is exactly the rounded count, and for every rank the number of values recorded at or
 * below its threshold's bucket (sw_hdr_count_at_or_below) is exactly what the rank says:
 * round(sample_count * rank_pct / 100); points that disagree with a rank give way to it.
 * SW_E_INVAL for a count that is negative, non-finite or above 2^53, a rank outside 0 ... 100,
 * a bad unit, or values but neither a point nor min and max.
 */
sw_status sw_cwpct_record(sw_hdr *h, const sw_cwpct_period *period, sw_err *err);

/*
 * Make h, the sum of a window's period reconstructions (an hour of minutes, a day of hours),
 * agree with the statistics CloudWatch gives for the window as one period (window: its grid,
 * Minimum, Maximum and ranks; Sum is not used): the count h holds up to each point's bucket
 * becomes that point's order (pXX of N values is the ceil(XX/100 N)-th, PR(:T) counts
 * round(N PR/100)), scaled to h's total, which is kept; between two points the values keep the
 * shape h gave them. So the window answers its grid percentiles within a bucket and its ranks
 * exactly, like a single period. SW_E_INVAL for a SampleCount or unit that is not a number
 * >= 0; SW_E_NOMEM. h is unchanged when empty or when the window has no values.
 */
sw_status sw_cwpct_conform(sw_hdr *h, const sw_cwpct_period *window, sw_err *err);

/* A window's statistics as bytes the store keeps (sw_store_window_stats) and reads back. */
#define SW_CWPCT_WINDOW_MAX_POINTS 32
#define SW_CWPCT_WINDOW_MAX_RANKS 16
#define SW_CWPCT_WINDOW_MAX_BYTES                                                                  \
    (6 + 8 * (5 + 2 * SW_CWPCT_WINDOW_MAX_POINTS + 2 * SW_CWPCT_WINDOW_MAX_RANKS))

/* A decoded window: period points into the arrays beside it. */
typedef struct sw_cwpct_window {
    sw_cwpct_point points[SW_CWPCT_WINDOW_MAX_POINTS];
    sw_cwpct_rank ranks[SW_CWPCT_WINDOW_MAX_RANKS];
    sw_cwpct_period period;
} sw_cwpct_window;

/*
 * Write p's statistics (its finite points and ranks, count, min, max, sum, unit) into
 * out[0..SW_CWPCT_WINDOW_MAX_BYTES); *ret_len the bytes used. SW_E_INVAL for more points or
 * ranks than the caps.
 */
sw_status sw_cwpct_window_encode(const sw_cwpct_period *p, uint8_t *out, size_t *ret_len,
                                 sw_err *err);

/* Read bytes written by sw_cwpct_window_encode(); SW_E_PARSE for anything else. */
sw_status sw_cwpct_window_decode(const void *data, size_t len, sw_cwpct_window *ret, sw_err *err);

/*
 * The store's pin function (sw_store_pin_fn): decode the window's stored statistics and
 * sw_cwpct_conform() the row's merged latency to them. ctx is unused.
 */
sw_status sw_cwpct_pin_stored(void *ctx, const void *stats, size_t len, sw_hdr *latency,
                              sw_err *err);

/*
 * A percentile rank `PR(:T)` (the percentage of the period's sample_count values <= T) as
 * good/bad request counts: good = round(sample_count * rank / 100), bad = the rest. Errors as
 * sw_cwpct_record. ret_good/ret_bad written on success.
 */
sw_status sw_cwpct_rank_counts(double rank_pct, double sample_count, uint64_t *ret_good,
                               uint64_t *ret_bad, sw_err *err);

#endif
