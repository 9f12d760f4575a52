/*
 * The evaluator's checkpoint (docs/scaling.md "Start-up"): written at a clean stop and once an
 * hour of base intervals while running, loaded at start instead of rebuilding the windows from
 * the store, then brought up to date with the rows stored after the position it covers. The
 * file is refused, and the evaluator rebuilt as before, unless it is intact, of this format,
 * built from the same rules text, base interval and shard, and not ahead of the store. The
 * position is a boundary before which every interval the evaluator was given is stored: a
 * checkpoint is written only when no row waits for the store. The hourly one is encoded on the
 * tick thread (the state's copy) and written, synced and renamed on a thread of its own, so the
 * ticks go on meanwhile; at a stop it is written inline, after the hourly one in progress.
 */
#include "daemon_int.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slawatch/ckpt.h"
#include "slawatch/cwpct.h"
#include "slawatch/eval_ckpt.h"
#include "slawatch/log.h"
#include "slawatch/thread_prio.h"
#include "slawatch/units.h"

#define CKPT_MAX_BYTES ((size_t)4 << 30)
#define HOUR_MS INT64_C(3600000)

static sw_status
ckpt_path(const sw_daemon *d, char *path, size_t size, sw_err *err)
{
    if ((size_t)snprintf(path, size, "%s/%s", d->data_dir, SW_DAEMON_CHECKPOINT_NAME) >= size)
        return sw_err_set(err, SW_E_INVAL, "%s: data directory path too long", d->data_dir);
    return SW_OK;
}

/* What a state depends on besides the store: the rules in force, base interval and shard. */
static sw_status
inputs_digest(const sw_daemon *d, uint8_t digest[SW_CKPT_DIGEST_LEN], sw_err *err)
{
    return sw_ckpt_digest(d->rules_text, d->rules_len, d->base_ms, d->shard.count, d->shard.index,
                          digest, err);
}

/* ------------------------------------------------------------------ writing */

/* An hourly checkpoint: the bytes the tick encoded, written by a thread of its own. */
struct sw_daemon_ckpt_job {
    pthread_t thread;
    atomic_bool done;
    char path[4096];
    sw_ckpt_meta meta;
    sw_buf payload;
    int nice; /* the writer thread's: a background thread */
};

/* The checkpoint of d->ev covering the stored rows before covers_until_ms, as its file's path,
 * header and payload (the state's copy: the evaluator may change once this returns). */
static sw_status
encode(const sw_daemon *d, int64_t covers_until_ms, char *path, size_t path_size,
       sw_ckpt_meta *meta, sw_buf *payload, sw_err *err)
{
    *meta = (sw_ckpt_meta){.store_until_ms = covers_until_ms, .evaluated_ms = d->last_tick_ms};
    sw_buf_init(payload, CKPT_MAX_BYTES - SW_CKPT_HEADER_LEN);
    sw_status st = ckpt_path(d, path, path_size, err);
    if (st == SW_OK)
        st = inputs_digest(d, meta->digest, err);
    if (st == SW_OK)
        st = sw_eval_ckpt_save(d->ev, payload, err);
    return st;
}

static void
log_not_written(sw_err *err)
{
    sw_log_err(SW_LOG_WARN, "checkpoint not written; the next start rebuilds from the store", err,
               NULL);
}

void
sw_daemon_checkpoint_wait(sw_daemon *d)
{
    if (d->ckpt_job == NULL)
        return;
    pthread_join(d->ckpt_job->thread, NULL);
    free(d->ckpt_job);
    d->ckpt_job = NULL;
}

void
sw_daemon_checkpoint(sw_daemon *d, int64_t covers_until_ms)
{
    sw_daemon_checkpoint_wait(d); /* one writer of the file at a time */
    if (d->n_pending > 0 || d->ev == NULL)
        return; /* rows the evaluator holds are not all stored: the position would lie */
    char path[4096];
    sw_ckpt_meta meta;
    sw_buf payload;
    sw_err err;
    sw_status st = encode(d, covers_until_ms, path, sizeof path, &meta, &payload, &err);
    if (st == SW_OK)
        st = sw_ckpt_write(path, &meta, payload.data, payload.len, &err);
    sw_buf_fini(&payload);
    if (st != SW_OK)
        log_not_written(&err);
    d->checkpoint_ms = covers_until_ms;
}

static void *
write_job(void *arg)
{
    struct sw_daemon_ckpt_job *j = arg;
    sw_thread_prio_set("sw-ckpt-write", j->nice);
    sw_err err;
    if (sw_ckpt_write(j->path, &j->meta, j->payload.data, j->payload.len, &err) != SW_OK)
        log_not_written(&err);
    sw_buf_fini(&j->payload); /* the memory back now, not at the next hour */
    atomic_store(&j->done, true);
    return NULL;
}

/* Encode now, write on a thread of its own; inline when no thread can be started. */
static void
checkpoint_off_tick(sw_daemon *d, int64_t covers_until_ms)
{
    struct sw_daemon_ckpt_job *j = calloc(1, sizeof *j);
    if (j == NULL) {
        sw_daemon_checkpoint(d, covers_until_ms);
        return;
    }
    sw_err err;
    atomic_init(&j->done, false);
    j->nice = d->background_nice;
    sw_status st = encode(d, covers_until_ms, j->path, sizeof j->path, &j->meta, &j->payload, &err);
    d->checkpoint_ms = covers_until_ms;
    if (st != SW_OK) {
        log_not_written(&err);
    } else if (pthread_create(&j->thread, NULL, write_job, j) == 0) {
        d->ckpt_job = j;
        return;
    } else if (sw_ckpt_write(j->path, &j->meta, j->payload.data, j->payload.len, &err) != SW_OK) {
        log_not_written(&err);
    }
    sw_buf_fini(&j->payload);
    free(j);
}

void
sw_daemon_checkpoint_hourly(sw_daemon *d, int64_t boundary_ms)
{
    if (d->checkpoint_ms == 0)
        d->checkpoint_ms = boundary_ms; /* the first hour counts from the start */
    if (d->ckpt_job != NULL && !atomic_load(&d->ckpt_job->done))
        return; /* the last one is still being written: the next tick asks again */
    sw_daemon_checkpoint_wait(d);
    /* While rows wait for the store the position would lie: the next tick asks again. */
    if (boundary_ms - d->checkpoint_ms >= HOUR_MS && d->n_pending == 0 && d->ev != NULL)
        checkpoint_off_tick(d, boundary_ms);
}

/* ------------------------------------------------------------------ loading */

/* A stored row after the checkpoint, as the rebuild feeds one. */
static sw_status
replay_row(void *ctx, const char *service, const char *env, const sw_sli_interval *iv,
           const uint8_t *latency, size_t latency_len, sw_err *err)
{
    sw_status st = sw_eval_add_encoded(ctx, service, env, iv, latency, latency_len, err);
    /* Services gone from the rules, and intervals the evaluator already holds (stored while
     * the checkpoint was written), are refused with SW_E_INVAL and skipped. */
    return st == SW_E_INVAL ? SW_OK : st;
}

/* Deployment marks recorded after the checkpoint's state (later than its series' mark). */
static sw_status
replay_mark(void *ctx, const char *service, const char *env, int64_t at_ms,
            const char *policy_override, sw_err *err)
{
    (void)err;
    sw_eval *ev = ctx;
    sw_series_result sr;
    for (size_t i = 0; i < sw_eval_series_count(ev); i++) {
        sw_eval_series(ev, i, &sr);
        bool same_env = env == NULL ? sr.env == NULL : sr.env && strcmp(sr.env, env) == 0;
        if (strcmp(sr.service, service) == 0 && same_env) {
            if (at_ms > sr.deployed_ms)
                sw_eval_mark_deployment_override(ev, service, env, at_ms, policy_override);
            return SW_OK;
        }
    }
    /* A series the state does not hold was marked after it (a mark adds its series); one the
     * rules do not know is ignored by the evaluator. */
    sw_eval_mark_deployment_override(ev, service, env, at_ms, policy_override);
    return SW_OK;
}

/* A stored hour's statistics pinned into the windows that packed it from replayed rows. */
static sw_status
repin_hour(void *ctx, const char *service, const char *env, int64_t start_ms, const void *stats,
           size_t len, sw_err *err)
{
    bool done;
    return sw_eval_pin_hour(ctx, service, env, start_ms, sw_cwpct_pin_stored, NULL, stats, len,
                            &done, err);
}

/*
 * Stored hours' statistics pinned into the windows that hold those hours packed, as serve pins
 * them live: the replay after a checkpoint and a rebuild pack hours from minute rows again, and
 * an hour whose pin was still queued when serve stopped is in the checkpoint unpinned. Pins
 * reach back as far as the poller's queue waits (48 hours); an hour pinned already (live, or
 * fed as its stored pinned row) is left as it is.
 */
sw_status
sw_daemon_repin_stored(sw_daemon *d, sw_eval *ev, int64_t now_ms, sw_err *err)
{
    int64_t from = now_ms - now_ms % HOUR_MS - 48 * HOUR_MS;
    sw_status st = sw_store_scan_window_stats(d->store, HOUR_MS, from, now_ms, repin_hour, ev, err);
    return st == SW_OK ? sw_eval_advance(ev, now_ms, err) : st;
}

/* The checkpoint's state brought up to now_ms from the store; SW_E_PARSE if it does not read. */
static sw_status
load_and_replay(sw_daemon *d, const sw_rules *rules, const sw_ckpt_meta *meta,
                const uint8_t *payload, size_t len, int64_t now_ms, sw_eval **ret, sw_err *err)
{
    sw_eval *ev;
    sw_status st = sw_eval_ckpt_load(rules, payload, len, &ev, err);
    if (st != SW_OK)
        return st;
    /* After a long stop, as a rebuild: boundaries older than the timers reach are not judged. */
    int64_t horizon_from = now_ms - sw_rules_timers_reach_ms(rules);
    if (horizon_from > meta->evaluated_ms)
        sw_eval_alerts_from(ev, horizon_from);
    st = sw_store_scan_encoded(d->store, NULL, meta->store_until_ms, now_ms, meta->store_until_ms,
                               HOUR_MS, replay_row, ev, err);
    if (st == SW_OK)
        st = sw_store_last_deployments(d->store, replay_mark, ev, err);
    if (st == SW_OK)
        st = sw_eval_advance(ev, now_ms, err);
    if (st == SW_OK)
        st = sw_daemon_repin_stored(d, ev, now_ms, err);
    if (st != SW_OK) {
        sw_eval_free(ev);
        return st;
    }
    *ret = ev;
    return SW_OK;
}

sw_status
sw_daemon_evaluator_start(sw_daemon *d, int64_t now_ms, sw_eval **ret, sw_err *err)
{
    char path[4096], until[40];
    uint8_t digest[SW_CKPT_DIGEST_LEN];
    int64_t stored_until;
    sw_status st = ckpt_path(d, path, sizeof path, err);
    if (st == SW_OK)
        st = inputs_digest(d, digest, err);
    if (st == SW_OK)
        st = sw_store_taken_until(d->store, &stored_until, err);
    if (st != SW_OK)
        return st;
    sw_buf file;
    sw_buf_init(&file, CKPT_MAX_BYTES);
    sw_ckpt_meta meta;
    const uint8_t *payload = NULL;
    size_t len = 0;
    sw_err load_err = {0};
    sw_ckpt_verdict v = sw_ckpt_load(path, CKPT_MAX_BYTES, digest, stored_until, &file, &meta,
                                     &payload, &len, &load_err);
    const char *why = sw_ckpt_verdict_text(v);
    if (v == SW_CKPT_LOADED) {
        st = load_and_replay(d, d->rules, &meta, payload, len, now_ms, ret, &load_err);
        why = load_err.msg;
    }
    sw_buf_fini(&file);
    /* Logged once the start succeeded (sw_daemon_log_start_note): a failed start prints one
     * line, its error. */
    if (v == SW_CKPT_LOADED && st == SW_OK) {
        sw_units_format_time(meta.store_until_ms, until, sizeof until);
        snprintf(d->start_note, sizeof d->start_note, "covers until %s", until);
        d->start_loaded = true;
        return SW_OK;
    }
    snprintf(d->start_note, sizeof d->start_note, "%s%s%s", why,
             v == SW_CKPT_UNREADABLE ? ": " : "", v == SW_CKPT_UNREADABLE ? load_err.msg : "");
    d->start_loaded = false;
    return sw_daemon_rebuild(d, d->rules, now_ms, ret, err);
}

void
sw_daemon_log_start_note(const sw_daemon *d)
{
    if (d->start_loaded)
        sw_log(SW_LOG_INFO, "evaluator loaded from its checkpoint", "detail", d->start_note, NULL);
    else
        sw_log(SW_LOG_INFO, "evaluator rebuilt from the store", "reason", d->start_note, NULL);
}
