/*
 * Prometheus histograms into HDR latency histograms. Classic buckets only say how many values
 * fell between two bounds, so their counts are spread evenly over the bucket; native
 * (exponential) buckets are narrow enough at schema 8 to map almost exactly. The error bound
 * of both is in collector/PROMETHEUS.md. Values are scaled to microseconds by unit_us (1e6 for a
 * `_seconds` histogram); what falls below zero is recorded as 0.
 */
#ifndef SLAWATCH_PROMHIST_H
#define SLAWATCH_PROMHIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slawatch/err.h"
#include "slawatch/hdr.h"
#include "slawatch/promsample.h"

/*
 * Record count values spread evenly over (lo, hi] (in the histogram's unit, scaled by unit_us)
 * into h, the total exactly count. lo may be -inf (the first bucket: spread from 0) and hi
 * +inf (the last: recorded at lo, as histogram_quantile does). Each HDR bucket inside the range
 * gets the share of count its overlap earns, rounded so the shares add up to count; a real
 * value x becomes the integer ceil(x), so a bucket's upper bound stays inside it. The share
 * below zero is recorded as 0; the share above h's highest trackable value goes to its
 * overflow count. SW_E_INVAL for NaN bounds, lo > hi or a unit that is not positive and
 * finite; SW_E_RANGE for count > INT64_MAX.
 */
sw_status sw_promhist_spread(sw_hdr *h, double lo, double hi, uint64_t count, double unit_us,
                             sw_err *err);

/* A native histogram held densely, bucket counts indexed from a first index. */
typedef struct sw_native_dense {
    int32_t schema;
    double zero_threshold, zero_count, count, sum;
    int32_t pos_first, neg_first; /* index of pos[0], neg[0] */
    size_t n_pos, n_neg;
    double *pos, *neg;            /* owned */
} sw_native_dense;

#define SW_NATIVE_MAX_BUCKETS 100000u /* per sign; more is refused as SW_E_TOOBIG */

/*
 * d = n, expanding spans (d's old buckets are freed; start d zeroed). SW_E_RANGE for a schema
 * outside -4 ... 8, SW_E_INVAL for spans that do not cover the counts (or overlap) and for
 * negative or non-finite counts, SW_E_TOOBIG past SW_NATIVE_MAX_BUCKETS; d unchanged then.
 */
sw_status sw_native_dense_set(sw_native_dense *d, const sw_prom_native *n, sw_err *err);

void sw_native_dense_fini(sw_native_dense *d);

/*
 * delta = cur - prev, bucket by bucket, at cur's schema: a prev of finer schema is merged down,
 * and prev's buckets that fell inside a zero bucket widened since are added to its zero count,
 * as Prometheus does. *reset is true, and delta = cur, when the counter was reset between the
 * two by Prometheus' test: the count, the zero count or a bucket went down, the schema got
 * finer, the zero bucket got narrower, or a non-empty bucket of prev straddles cur's zero
 * threshold. delta's old buckets are freed (start it zeroed); delta must not be cur or prev.
 */
sw_status sw_native_dense_delta(const sw_native_dense *cur, const sw_native_dense *prev,
                                sw_native_dense *delta, bool *reset, sw_err *err);

/*
 * Record d's counts into h, each bucket's count spread over its bounds; the zero bucket and the
 * negative buckets at 0. Float counts are rounded as a running total, so h gains
 * round(zero + negative + positive counts) values. SW_E_INVAL for a bad unit.
 */
sw_status sw_native_dense_record(const sw_native_dense *d, double unit_us, sw_hdr *h,
                                 sw_err *err);

#endif
