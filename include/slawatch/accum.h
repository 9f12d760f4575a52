/*
 * Per-series interval accumulators: sources add events, latency values and probe results as
 * they arrive (any thread); at each base-interval boundary the daemon takes the intervals that
 * have ended and hands them to the store and the evaluator. Data for an interval that was
 * already taken is late: it is counted and dropped, so a stored interval never changes behind
 * the evaluator's back. The exception is the increase of a cumulative counter: it happened at
 * some time up to when it was observed, so when its interval is taken it is counted in the
 * oldest interval still open (late by at most the time it took to observe), never dropped.
 */
#ifndef SLAWATCH_ACCUM_H
#define SLAWATCH_ACCUM_H

#include <stdbool.h>
#include <stdint.h>

#include "slawatch/err.h"
#include "slawatch/sli.h"

typedef struct sw_accum sw_accum;

sw_status sw_accum_new(int64_t base_ms, sw_accum **ret, sw_err *err);

/* sw_accum_free(NULL) does nothing. Intervals not taken are dropped. */
void sw_accum_free(sw_accum *a);

/* Requests and errors that happened at at_ms. env may be NULL. */
sw_status sw_accum_add_counts(sw_accum *a, const char *service, const char *env, int64_t at_ms,
                              uint64_t requests, uint64_t errors, sw_err *err);

/* count request durations of value_us each, at at_ms. */
sw_status sw_accum_add_latency(sw_accum *a, const char *service, const char *env, int64_t at_ms,
                               int64_t value_us, uint64_t count, sw_err *err);

/* One probe result at at_ms; results of one series must arrive in time order. */
sw_status sw_accum_add_probe(sw_accum *a, const char *service, const char *env, int64_t at_ms,
                             bool ok, sw_err *err);

/* A whole interval (start aligned to the base interval, one base interval long) merged in. */
sw_status sw_accum_add_interval(sw_accum *a, const char *service, const char *env,
                                const sw_sli_interval *iv, sw_err *err);

/*
 * The increase of cumulative counters (requests, errors, histogram buckets; latency may be NULL)
 * observed at at_ms: counted in the interval of at_ms, or in the oldest open interval when that
 * one was taken already (sw_accum_carried counts those).
 */
sw_status sw_accum_add_increase(sw_accum *a, const char *service, const char *env, int64_t at_ms,
                                uint64_t requests, uint64_t errors, const sw_hdr *latency,
                                sw_err *err);

/* Called with each interval taken; it takes ownership of *iv (and must fini it). */
typedef sw_status (*sw_accum_sink)(void *ctx, const char *service, const char *env,
                                   sw_sli_interval *iv, sw_err *err);

/*
 * Hand every interval that ended at or before until_ms to sink, in start order per series.
 * An interval the sink fails on is dropped; the first error is returned after the rest are
 * handed over.
 */
sw_status sw_accum_take(sw_accum *a, int64_t until_ms, sw_accum_sink sink, void *ctx, sw_err *err);

/* Values that arrived for intervals already taken, since the accumulator was made. */
uint64_t sw_accum_late(sw_accum *a);

/* Increases counted in a later interval than observed because theirs was taken, since made. */
uint64_t sw_accum_carried(sw_accum *a);

#endif
