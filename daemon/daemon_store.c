/*
 * The daemon's commit step: the taken intervals queued as pending rows, written to the store in
 * one transaction per tick (with what that transaction says is stored: the journal's replay
 * point), then the journal compacted to what is not stored yet. Pending rows stay queued while
 * the store refuses them (bounded: the oldest dropped past SW_DAEMON_PENDING_MAX).
 */
#include "daemon_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slawatch/log.h"

static void
pending_drop_oldest(sw_daemon *d)
{
    sw_pending_row *p = &d->pending[0];
    sw_log(SW_LOG_WARN, "dropping an unstored interval: too many pending", "service", p->service,
           NULL);
    free(p->service);
    free(p->env);
    sw_sli_interval_fini(&p->iv);
    free(p->latency.data);
    memmove(&d->pending[0], &d->pending[1], (d->n_pending - 1) * sizeof d->pending[0]);
    d->n_pending--;
}

/* Room for one more pending row, the oldest dropped past SW_DAEMON_PENDING_MAX. */
static sw_status
pending_room(sw_daemon *d, sw_err *err)
{
    if (d->n_pending == SW_DAEMON_PENDING_MAX)
        pending_drop_oldest(d);
    if (d->n_pending < d->cap_pending)
        return SW_OK;
    size_t cap = d->cap_pending ? d->cap_pending * 2 : 256;
    sw_pending_row *p = realloc(d->pending, cap * sizeof *p);
    if (p == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory queueing intervals");
    d->pending = p;
    d->cap_pending = cap;
    return SW_OK;
}

sw_status
sw_daemon_pending_move(sw_daemon *d, sw_pending_row *row, sw_err *err)
{
    sw_status st = pending_room(d, err);
    if (st != SW_OK)
        return st;
    d->pending[d->n_pending++] = *row;
    *row = (sw_pending_row){0};
    return SW_OK;
}

sw_status
sw_daemon_pending_push(sw_daemon *d, const char *service, const char *env, sw_sli_interval *iv,
                       sw_err *err)
{
    sw_pending_row row = {.service = strdup(service), .env = env ? strdup(env) : NULL, .iv = *iv};
    sw_status st = row.service == NULL || (env != NULL && row.env == NULL)
                       ? sw_err_set(err, SW_E_NOMEM, "out of memory queueing intervals")
                       : sw_daemon_pending_move(d, &row, err);
    if (st == SW_OK) {
        *iv = (sw_sli_interval){0}; /* its histogram taken */
        return SW_OK;
    }
    free(row.service);
    free(row.env);
    return st;
}

/*
 * Write the pending rows, recording that everything taken before taken_until_ms is stored; then
 * the journal need keep only the open intervals. false when the store refused. The mark
 * recorded (where a replay starts) stays before any interval a take left open.
 */
bool
sw_daemon_store_flush(sw_daemon *d, int64_t taken_until_ms)
{
    int64_t taken = sw_accum_taken_until(d->accum);
    if (taken < taken_until_ms)
        taken_until_ms = taken;
    sw_store_row *rows = calloc(d->n_pending + 1, sizeof *rows);
    sw_store_encoded *latency = calloc(d->n_pending + 1, sizeof *latency);
    if (rows == NULL || latency == NULL) {
        free(rows);
        free(latency);
        return false;
    }
    for (size_t i = 0; i < d->n_pending; i++) {
        const sw_pending_row *p = &d->pending[i];
        rows[i] = (sw_store_row){p->service, p->env, &p->iv};
        latency[i] = (sw_store_encoded){p->latency.data, p->latency.len};
    }
    sw_err err;
    double t0 = sw_daemon_mono_s();
    sw_status st =
        sw_store_put_taken_encoded(d->store, rows, latency, d->n_pending, taken_until_ms, &err);
    d->self.store_write_seconds = sw_daemon_mono_s() - t0;
    d->self.store_writes++;
    free(rows);
    free(latency);
    pthread_mutex_lock(&d->lock);
    if (st != SW_OK)
        snprintf(d->not_ready, sizeof d->not_ready, "store writes failing: %.200s", err.msg);
    else
        d->not_ready[0] = '\0';
    pthread_mutex_unlock(&d->lock);
    if (st != SW_OK) {
        /* Kept in memory and retried next tick: ingestion resumes when space returns. */
        if (d->self.store_ok)
            sw_log_err(SW_LOG_ERROR, "store write failed; keeping intervals in memory", &err, NULL);
        d->self.store_ok = false;
        d->self.store_write_errors++;
        d->self.intervals_pending = d->n_pending;
        return false;
    }
    if (!d->self.store_ok)
        sw_log(SW_LOG_INFO, "store writes resumed", NULL);
    d->self.store_ok = true;
    d->self.intervals_stored += d->n_pending;
    for (size_t i = 0; i < d->n_pending; i++) {
        free(d->pending[i].service);
        free(d->pending[i].env);
        sw_sli_interval_fini(&d->pending[i].iv);
        free(d->pending[i].latency.data);
    }
    d->n_pending = 0;
    d->self.intervals_pending = 0;
    return true;
}

/* Everything taken is stored: the journal shrinks to the open intervals. */
static void
journal_compact(sw_daemon *d)
{
    sw_err err;
    if (sw_accum_journal_compact(d->accum, &err) != SW_OK)
        sw_log_err(SW_LOG_ERROR, "ingest journal not compacted; it keeps growing", &err, NULL);
}

/* Store what was taken up to boundary_ms; compact the journal when that worked. */
void
sw_daemon_store_and_compact(sw_daemon *d, int64_t boundary_ms)
{
    if (sw_daemon_store_flush(d, boundary_ms))
        journal_compact(d);
}
