/*
 * Per-series interval accumulators: sources add events, latency values and probe results as
 * they arrive (any thread), a request's worth at a time as one batch; at each base-interval
 * boundary the daemon takes the intervals that
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
typedef struct sw_accum_batch sw_accum_batch;

/* Open intervals kept per series at most: a memory bound behind the clock's horizon. */
#define SW_ACCUM_MAX_OPEN 4096

sw_status sw_accum_new(int64_t base_ms, sw_accum **ret, sw_err *err);

/* sw_accum_free(NULL) does nothing. Intervals not taken are dropped (the journal keeps them). */
void sw_accum_free(sw_accum *a);

/* The clock the horizon is measured against: epoch milliseconds. */
typedef int64_t (*sw_accum_clock)(void *ctx);

/*
 * Refuse data dated more than ahead_ms after clock's now (SW_E_RANGE naming the bound), so
 * far-future times cannot fill a series' open intervals. Set before the accumulators are used.
 */
void sw_accum_set_horizon(sw_accum *a, sw_accum_clock clock, void *ctx, int64_t ahead_ms);

/*
 * Intervals starting before until_ms are closed to strict batches: one reaching into such an
 * interval is refused whole (SW_E_RANGE "too late"). The daemon closes before it takes, so what a
 * strict commit accepted is never dropped as late. Other batches (sources that hand over what
 * they gathered, e.g. histogram buckets joined until the tick) go on until the take, after which
 * their data for taken intervals is late: counted and dropped.
 */
void sw_accum_close(sw_accum *a, int64_t until_ms);

/*
 * A batch: what one request (or scrape, or query page) adds, gathered per series and interval
 * and committed whole or not at all. Adding to a batch checks sums for overflow; nothing reaches
 * the accumulators before sw_accum_commit.
 */
sw_accum_batch *sw_accum_batch_new(const sw_accum *a);
/* A batch for a client that is told "too late" rather than having its data dropped. */
sw_accum_batch *sw_accum_batch_new_strict(const sw_accum *a);
void sw_accum_batch_free(sw_accum_batch *b);

/* Requests and errors that happened at at_ms. env may be NULL. */
sw_status sw_accum_batch_counts(sw_accum_batch *b, const char *service, const char *env,
                                int64_t at_ms, uint64_t requests, uint64_t errors, sw_err *err);

/* count request durations of value_us each (1 us .. 1 h), at at_ms. */
sw_status sw_accum_batch_latency(sw_accum_batch *b, const char *service, const char *env,
                                 int64_t at_ms, int64_t value_us, uint64_t count, sw_err *err);

/*
 * n request durations (each 1 us .. 1 h, in any order) at at_ms, once each: as many
 * sw_accum_batch_latency calls, recorded in one pass over their buckets. Sorts values in place.
 */
sw_status sw_accum_batch_latencies(sw_accum_batch *b, const char *service, const char *env,
                                   int64_t at_ms, int64_t *values, size_t n, sw_err *err);

/* One probe result at at_ms; results of one series must arrive in time order. */
sw_status sw_accum_batch_probe(sw_accum_batch *b, const char *service, const char *env,
                               int64_t at_ms, bool ok, sw_err *err);

/* A whole interval (start aligned to the base interval, one base interval long) merged in. */
sw_status sw_accum_batch_interval(sw_accum_batch *b, const char *service, const char *env,
                                  const sw_sli_interval *iv, sw_err *err);

/*
 * The increase of cumulative counters (requests, errors, histogram buckets; latency may be NULL)
 * observed at at_ms: counted in the interval of at_ms, or, when that one was taken already, in
 * the oldest open interval (the entry is moved there at commit; sw_accum_carried counts them).
 */
sw_status sw_accum_batch_increase(sw_accum_batch *b, const char *service, const char *env,
                                  int64_t at_ms, uint64_t requests, uint64_t errors,
                                  const sw_hdr *latency, sw_err *err);

/*
 * Apply the batch whole or not at all: every interval checked (within the horizon, sums that
 * fit in 64 bits, memory), journaled when a journal is open, then merged. Parts for intervals
 * already taken are late: counted and dropped, not an error. The batch is left as it was, but
 * for sw_accum_batch_increase entries moved to the oldest open interval.
 */
sw_status sw_accum_commit(sw_accum *a, sw_accum_batch *b, sw_err *err);

/* The values of b its commits dropped as late (a part of sw_accum_late), so a source can
 * count its own. */
uint64_t sw_accum_batch_late(const sw_accum_batch *b);

/* One-item batches, committed at once. */
sw_status sw_accum_add_counts(sw_accum *a, const char *service, const char *env, int64_t at_ms,
                              uint64_t requests, uint64_t errors, sw_err *err);
sw_status sw_accum_add_latency(sw_accum *a, const char *service, const char *env, int64_t at_ms,
                               int64_t value_us, uint64_t count, sw_err *err);
sw_status sw_accum_add_probe(sw_accum *a, const char *service, const char *env, int64_t at_ms,
                             bool ok, sw_err *err);
sw_status sw_accum_add_interval(sw_accum *a, const char *service, const char *env,
                                const sw_sli_interval *iv, sw_err *err);

/*
 * Durability (accum_journal.c). Open the journal at path: its batches for intervals starting at
 * or after skip_before_ms (those before it are in the store already) are merged back in, the
 * count put in *ret_replayed; from then on every commit is journaled before it is applied.
 */
sw_status sw_accum_journal_open(sw_accum *a, const char *path, int64_t skip_before_ms,
                                size_t *ret_replayed, sw_err *err);

/* Make every commit so far durable (one fdatasync shared by concurrent callers). No journal:
 * nothing to do. */
sw_status sw_accum_sync(sw_accum *a, sw_err *err);

/*
 * Rewrite the journal as the open intervals alone (call once everything taken is stored):
 * it then holds exactly what a restart needs, synced.
 */
sw_status sw_accum_journal_compact(sw_accum *a, sw_err *err);

/* Called with each interval taken; it takes ownership of *iv (and must fini it). */
typedef sw_status (*sw_accum_sink)(void *ctx, const char *service, const char *env,
                                   sw_sli_interval *iv, sw_err *err);

/*
 * Hand every interval that ended at or before until_ms to sink, in start order per series.
 * An interval the sink fails on is dropped; the first error is returned after the rest are
 * handed over. Out of memory, some series' intervals stay open (SW_E_NOMEM), taken next time.
 */
sw_status sw_accum_take(sw_accum *a, int64_t until_ms, sw_accum_sink sink, void *ctx, sw_err *err);

/*
 * Every interval starting before this mark has been handed to a take's sink (INT64_MIN before
 * the first take that detached every series; earlier when a series first seen since has opened
 * an interval before it): the most a store may record as taken, and where the journal's
 * compaction cuts.
 */
int64_t sw_accum_taken_until(sw_accum *a);

/*
 * A taken interval's latency histogram in the bytes its journal record holds (sw_hdr_encode,
 * uncompressed V2), kept when one commit alone made the histogram: what the store writes, so
 * it is not encoded twice. data NULL when not kept (several commits, a replay, no journal).
 */
typedef struct sw_accum_encoding {
    uint8_t *data; /* malloc'd */
    size_t len;
} sw_accum_encoding;

/* sw_accum_sink with the interval's encoding: the sink takes *latency (sets data NULL) or it
 * is freed after the call. */
typedef sw_status (*sw_accum_encoded_sink)(void *ctx, const char *service, const char *env,
                                           sw_sli_interval *iv, sw_accum_encoding *latency,
                                           sw_err *err);

/* sw_accum_take(), each interval handed with its latency's encoding when kept. */
sw_status sw_accum_take_encoded(sw_accum *a, int64_t until_ms, sw_accum_encoded_sink sink,
                                void *ctx, sw_err *err);

/* Values that arrived for intervals already taken, since the accumulator was made. */
uint64_t sw_accum_late(sw_accum *a);

/* Increases counted in a later interval than observed (sw_accum_batch_increase). */
uint64_t sw_accum_carried(sw_accum *a);

#endif
