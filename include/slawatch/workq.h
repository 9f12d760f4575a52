/*
 * A bounded pool of worker threads for work that must not run on the threads that answer
 * cheap requests (reports off the HTTP pool). A job first reserves one of the pool's places
 * (running or waiting); when none is left the caller refuses the work instead of queueing it,
 * so neither memory nor waiting time grows with demand.
 */
#ifndef SLAWATCH_WORKQ_H
#define SLAWATCH_WORKQ_H

#include <stdbool.h>
#include <stddef.h>

#include "slawatch/err.h"

typedef struct sw_workq sw_workq;

typedef void (*sw_workq_fn)(void *arg);

/*
 * threads workers (at least 1) and room for `waiting` more jobs queued behind them. The workers
 * are named NAME-1, NAME-2 ... (NAME at most 12 bytes) and run at `nice` as sw_thread_prio_set
 * takes it: with nice > 0 they are background threads, so the threads that answer cheap requests
 * win the CPU; 0: the caller's priority. SW_E_NOMEM when a thread cannot start.
 */
sw_status sw_workq_new(unsigned threads, unsigned waiting, const char *name, int nice,
                       sw_workq **ret, sw_err *err);

/* Take a place for one job: false when threads + waiting jobs already hold every place. */
bool sw_workq_reserve(sw_workq *q);

/* Run fn(arg) on a worker, in a place reserve() took; the place is freed when fn returns. */
void sw_workq_submit(sw_workq *q, sw_workq_fn fn, void *arg);

/* Jobs holding a place now (running or waiting). */
unsigned sw_workq_busy(sw_workq *q);

/* Run every job already submitted, then stop the workers and free q. NULL does nothing. */
void sw_workq_free(sw_workq *q);

#endif
