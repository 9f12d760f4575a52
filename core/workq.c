/*
 * The worker pool: a ring of submitted jobs under one mutex, sized to the number of places so
 * a submit after a successful reserve always finds room.
 */
#define _GNU_SOURCE /* SCHED_BATCH */
#include "slawatch/workq.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

typedef struct job {
    sw_workq_fn fn;
    void *arg;
} job;

struct sw_workq {
    pthread_mutex_t lock;
    pthread_cond_t ready; /* a job was submitted, or stopping */
    job *ring;
    unsigned places; /* threads + waiting: the ring's size */
    unsigned head, queued;
    unsigned reserved; /* places taken: queued, running, or reserved and not yet submitted */
    bool stopping;
    int nice_incr;
    pthread_t *threads;
    unsigned n_threads;
};

/*
 * Background workers: Linux's SCHED_BATCH (a waking worker never preempts a running thread;
 * no privilege needed) at the niceness asked for (per thread: setpriority on the thread id).
 * Not SCHED_IDLE: a worker holding a lock the tick needs (the store's) must still get some CPU
 * on a busy machine, or the tick would wait on it indefinitely. Best effort.
 */
static void
lower_priority(int nice_incr)
{
#ifdef SCHED_BATCH
    struct sched_param sp = {0};
    (void)pthread_setschedparam(pthread_self(), SCHED_BATCH, &sp);
#endif
    (void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid),
                      getpriority(PRIO_PROCESS, 0) + nice_incr);
}

static void *
worker_main(void *arg)
{
    sw_workq *q = arg;
    if (q->nice_incr > 0)
        lower_priority(q->nice_incr);
    pthread_mutex_lock(&q->lock);
    for (;;) {
        while (q->queued == 0 && !q->stopping)
            pthread_cond_wait(&q->ready, &q->lock);
        if (q->queued == 0)
            break; /* stopping with nothing left */
        job j = q->ring[q->head];
        q->head = (q->head + 1) % q->places;
        q->queued--;
        pthread_mutex_unlock(&q->lock);
        j.fn(j.arg);
        pthread_mutex_lock(&q->lock);
        q->reserved--;
    }
    pthread_mutex_unlock(&q->lock);
    return NULL;
}

sw_status
sw_workq_new(unsigned threads, unsigned waiting, int nice_incr, sw_workq **ret, sw_err *err)
{
    sw_workq *q = calloc(1, sizeof *q);
    if (q == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory");
    q->places = (threads ? threads : 1) + waiting;
    q->nice_incr = nice_incr;
    q->ring = calloc(q->places, sizeof *q->ring);
    q->threads = calloc(threads ? threads : 1, sizeof *q->threads);
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->ready, NULL);
    if (q->ring == NULL || q->threads == NULL) {
        sw_workq_free(q);
        return sw_err_set(err, SW_E_NOMEM, "out of memory");
    }
    for (unsigned i = 0; i < (threads ? threads : 1); i++) {
        if (pthread_create(&q->threads[i], NULL, worker_main, q) != 0) {
            sw_workq_free(q);
            return sw_err_set(err, SW_E_NOMEM, "cannot start worker thread %u", i + 1);
        }
        q->n_threads++;
    }
    *ret = q;
    return SW_OK;
}

bool
sw_workq_reserve(sw_workq *q)
{
    pthread_mutex_lock(&q->lock);
    bool ok = q->reserved < q->places && !q->stopping;
    if (ok)
        q->reserved++;
    pthread_mutex_unlock(&q->lock);
    return ok;
}

void
sw_workq_submit(sw_workq *q, sw_workq_fn fn, void *arg)
{
    pthread_mutex_lock(&q->lock);
    SW_REQUIRE(q->queued < q->places);
    q->ring[(q->head + q->queued) % q->places] = (job){fn, arg};
    q->queued++;
    pthread_cond_signal(&q->ready);
    pthread_mutex_unlock(&q->lock);
}

unsigned
sw_workq_busy(sw_workq *q)
{
    pthread_mutex_lock(&q->lock);
    unsigned n = q->reserved;
    pthread_mutex_unlock(&q->lock);
    return n;
}

void
sw_workq_free(sw_workq *q)
{
    if (q == NULL)
        return;
    pthread_mutex_lock(&q->lock);
    q->stopping = true;
    pthread_cond_broadcast(&q->ready);
    pthread_mutex_unlock(&q->lock);
    for (unsigned i = 0; i < q->n_threads; i++)
        pthread_join(q->threads[i], NULL);
    pthread_cond_destroy(&q->ready);
    pthread_mutex_destroy(&q->lock);
    free(q->threads);
    free(q->ring);
    free(q);
}
