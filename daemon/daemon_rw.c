/*
 * The remote-write receiver's hook: headers, the ingest rate (a token bucket of samples per
 * second), decoding into one prommap batch (source "remote_write") committed only when the
 * whole request decoded, and the answer's status code with self-metrics. Runs on the HTTP
 * threads; the bucket and counters are under rw.lock. Settings are taken at start.
 */
#include <stdio.h>
#include <string.h>

#include "daemon/daemon_int.h"
#include "slawatch/log.h"
#include "slawatch/rw_recv.h"

static const int rw_codes[] = SW_METRICS_RW_CODES;

/* Refill for the time passed; the bucket holds at most one second of samples. */
static void
bucket_refill(sw_daemon_rw *rw, int64_t now_ms)
{
    double rate = (double)rw->samples_per_second;
    if (now_ms > rw->bucket_ms)
        rw->tokens += rate * (double)(now_ms - rw->bucket_ms) / 1000.0;
    if (rw->tokens > rate)
        rw->tokens = rate;
    rw->bucket_ms = now_ms;
}

/* Take n samples' worth. A request is let in while the bucket is not in debt, so one larger
 * than a second's worth still passes after a quiet second; the debt then holds back the next. */
static bool
bucket_take(sw_daemon_rw *rw, uint64_t n, int64_t now_ms)
{
    if (rw->samples_per_second <= 0)
        return true;
    bucket_refill(rw, now_ms);
    if (rw->tokens < 0)
        return false;
    rw->tokens -= (double)n;
    return true;
}

static void
count_answer(sw_daemon *d, int status, uint64_t applied, uint64_t rejected)
{
    pthread_mutex_lock(&d->rw.lock);
    for (size_t i = 0; i < sizeof rw_codes / sizeof rw_codes[0]; i++)
        if (rw_codes[i] == status)
            d->rw.requests[i]++;
    d->rw.samples += applied;
    d->rw.rejected += rejected;
    pthread_mutex_unlock(&d->rw.lock);
}

/* 400 for what a retry cannot fix, 413 for size, 503 for memory (a retry may find some). */
static int
status_of(sw_status st)
{
    switch (st) {
    case SW_OK:
        return 204;
    case SW_E_TOOBIG:
        return 413;
    case SW_E_NOMEM:
    case SW_E_IO:
        return 503;
    case SW_E_UNSUPPORTED:
        return 415;
    case SW_E_PARSE:
    case SW_E_TRUNCATED:
    case SW_E_INVAL:
    case SW_E_RANGE:
        return 400;
    default:
        return 500;
    }
}

/* Decode into a batch and commit it only if all went well. */
static sw_status
apply(sw_daemon *d, const sw_http_request *req, sw_rw_counts *counts, bool *limited,
      sw_err *err)
{
    int64_t now = sw_daemon_now(d);
    sw_prommap_batch *b;
    sw_status st = sw_prommap_begin(d->prommap, "remote_write", NULL, 0, now, &b, err);
    if (st != SW_OK)
        return st;
    sw_prom_sink sink = sw_prommap_sink(b);
    sw_rw_limits lim = {.max_body = d->rw.max_body, .max_timestamp_ms = now + SW_DAEMON_AHEAD_MS};
    if ((st = sw_rw_recv_decode(req->body, req->body_len, &lim, &sink, counts, err)) != SW_OK) {
        sw_prommap_abort(b);
        return st;
    }
    pthread_mutex_lock(&d->rw.lock);
    *limited = !bucket_take(&d->rw, counts->samples + counts->histograms, now);
    pthread_mutex_unlock(&d->rw.lock);
    if (*limited) {
        sw_prommap_abort(b);
        return sw_err_set(err, SW_E_RANGE, "over the ingest rate of %lld samples per second",
                          (long long)d->rw.samples_per_second);
    }
    if ((st = sw_prommap_commit(b, err)) == SW_OK)
        sw_daemon_sync_journal(d);
    return st;
}

static int
hook_remote_write(void *ctx, const sw_http_request *req, sw_err *err)
{
    sw_daemon *d = ctx;
    sw_rw_counts c = {0};
    bool limited = false;
    if (d->stopping) {
        sw_err_set(err, SW_E_IO, "shutting down: retry on another instance or later");
        count_answer(d, 503, 0, 0);
        return 503;
    }
    sw_status st = sw_rw_recv_check_headers(req->content_encoding, req->content_type,
                                            req->remote_write_version, err);
    if (st == SW_OK)
        st = apply(d, req, &c, &limited, err);
    int status = limited ? 429 : status_of(st);
    uint64_t n = c.samples + c.histograms;
    count_answer(d, status, st == SW_OK ? n : 0, st == SW_OK ? 0 : n);
    if (st != SW_OK && !limited) {
        char code[8];
        snprintf(code, sizeof code, "%d", status);
        sw_log_err(SW_LOG_WARN, "remote-write request refused", err, "status", code, "remote",
                   req->remote ? req->remote : "", NULL);
    }
    return status;
}

void
sw_daemon_rw_init(sw_daemon *d)
{
    d->rw.samples_per_second = d->cfg->rw_samples_per_second;
    d->rw.max_body = (size_t)d->cfg->rw_max_body;
    d->rw.tokens = (double)d->rw.samples_per_second;
    d->rw.bucket_ms = sw_daemon_now(d);
    d->hooks.remote_write = d->cfg->rw_enabled ? hook_remote_write : NULL;
}

void
sw_daemon_rw_self(sw_daemon *d, sw_metrics_self *self)
{
    pthread_mutex_lock(&d->rw.lock);
    memcpy(self->rw_requests, d->rw.requests, sizeof self->rw_requests);
    self->rw_samples = d->rw.samples;
    self->rw_samples_rejected = d->rw.rejected;
    pthread_mutex_unlock(&d->rw.lock);
}
