/*
 * The remote-write sender's queue: samples in arrival order, bounded by a capacity in samples.
 * When full, a new sample pushes out the oldest, so a receiver that is down costs at most the
 * capacity in memory and the newest data is what is kept. Not thread-safe: rw_send guards it.
 */
#ifndef SLAWATCH_RW_QUEUE_H
#define SLAWATCH_RW_QUEUE_H

#include <stddef.h>

#include "slawatch/err.h"
#include "slawatch/rw_encode.h"

typedef struct sw_rw_queue sw_rw_queue;

/* An empty queue holding at most capacity (>= 1) samples; memory grows as it fills. */
sw_status sw_rw_queue_new(size_t capacity, sw_rw_queue **ret, sw_err *err);

/* Frees the queued samples' histograms too; sw_rw_queue_free(NULL) does nothing. */
void sw_rw_queue_free(sw_rw_queue *q);

/*
 * Append *s, taking its histogram (s->hist is set to NULL). Returns how many samples were
 * dropped: the oldest one when the queue was full, or s itself when memory ran out; 0 else.
 */
size_t sw_rw_queue_push(sw_rw_queue *q, sw_rw_sample *s);

/* Move up to max of the oldest samples into out (the caller now owns their histograms);
 * returns how many. */
size_t sw_rw_queue_take(sw_rw_queue *q, sw_rw_sample *out, size_t max);

size_t sw_rw_queue_len(const sw_rw_queue *q);

#endif
