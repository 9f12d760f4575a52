/*
 * The accumulators' state shared by accum.c (batches, commits, takes) and accum_journal.c
 * (the write-ahead journal and its replay).
 */
#ifndef SLAWATCH_ACCUM_INT_H
#define SLAWATCH_ACCUM_INT_H

#include <pthread.h>

#include "slawatch/accum.h"
#include "slawatch/buf.h"
#include "slawatch/journal.h"
#include "slawatch/u64map.h"

typedef struct accum_series {
    char *service, *env;
    sw_sli_interval *open; /* sorted by start_ms */
    /* Beside open (same index and capacity): each open interval's histogram as its only
     * commit journaled it, or none (sw_accum_take_encoded). */
    sw_accum_encoding *open_enc;
    size_t n_open, cap_open;
    int64_t taken_until_ms; /* intervals starting before this were handed over */
} accum_series;

struct sw_accum {
    pthread_mutex_t lock;
    int64_t base_ms;
    accum_series *series;
    size_t n_series, cap_series;
    sw_u64map series_at; /* series_key(service, env), probing on: index into series */
    uint64_t late, carried;
    sw_accum_clock clock; /* NULL: no horizon */
    void *clock_ctx;
    int64_t ahead_ms;
    int64_t closed_until_ms; /* sw_accum_close: strict commits refuse intervals before it */
    sw_journal *journal; /* NULL: commits are not journaled */
    sw_buf enc;          /* a commit's journal record */
    int64_t taken_from_ms; /* intervals starting before it were taken (sw_accum_take) */
};

/* One (series, interval) part of a batch. */
typedef struct accum_entry {
    char *service, *env;
    sw_sli_interval iv;
    int64_t latest_ms; /* the latest time given for it, for the horizon's message */
    uint64_t values;   /* adds that went into it (counted as late values when late) */
    bool carry;        /* a cumulative increase: moved to the oldest open interval, never late */
} accum_entry;

struct sw_accum_batch {
    int64_t base_ms;
    bool strict; /* refused whole when a part falls in a closed interval */
    uint64_t late; /* values its commits dropped as late */
    accum_entry *e;
    size_t n, cap;
};

/* Where an entry's latency histogram is in its journal record: len bytes at offset at. */
typedef struct accum_span {
    size_t at, len;
} accum_span;

/* The batch's entries as one journal record, appended to out; with spans (n of them, or NULL),
 * where each entry's histogram bytes are in out (len 0: none). */
sw_status sw_accum_encode_entries(const accum_entry *e, size_t n, sw_buf *out, accum_span *spans,
                                  sw_err *err);

/* The record's entries into b (which must be empty), entries of intervals starting before
 * skip_before_ms left out. */
sw_status sw_accum_decode_entries(const uint8_t *p, size_t len, int64_t skip_before_ms,
                                  sw_accum_batch *b, sw_err *err);

/* Commit under a->lock already held; a replayed batch is neither journaled again nor held to
 * the horizon (it was within it when accepted). */
sw_status sw_accum_commit_locked(sw_accum *a, sw_accum_batch *b, bool replaying, sw_err *err);

/* sw_accum_taken_until with a->lock held. */
int64_t sw_accum_taken_until_locked(const sw_accum *a);

#endif
