/*
 * The worker pool: a ring of submitted jobs under one mutex, sized to the number of places so
 * a submit after a successful reserve always finds room.
 */
#include "slawatch/workq.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "slawatch/thread_prio.h"

#define NAME_LEN 16 /* a thread's name as the kernel keeps it */

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
    char name[NAME_LEN]; /* the workers' names: NAME-1, NAME-2, ... */
    int nice;
    unsigned started; /* workers that have taken their number */
    pthread_t *threads;
    unsigned n_threads;
};

/* Each worker names itself after the pool and its number, then takes the pool's priority. */
static void
worker_identity(sw_workq *q)
{
    pthread_mutex_lock(&q->lock);
    unsigned number = ++q->started;
    pthread_mutex_unlock(&q->lock);
    char name[NAME_LEN + 12]; /* room for the number; sw_thread_prio_set cuts to the limit */
    snprintf(name, sizeof name, "%s-%u", q->name, number);
    sw_thread_prio_set(name, q->nice);
}

static void *
worker_main(void *arg)
{
    sw_workq *q = arg;
    worker_identity(q);
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
sw_workq_new(unsigned threads, unsigned waiting, const char *name, int nice, sw_workq **ret,
             sw_err *err)
{
    sw_workq *q = calloc(1, sizeof *q);
    if (q == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory");
    q->places = (threads ? threads : 1) + waiting;
    snprintf(q->name, sizeof q->name, "%s", name);
    q->nice = nice;
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
