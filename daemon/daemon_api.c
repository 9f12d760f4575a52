/*
 * The hooks the HTTP handlers call, running on the HTTP pool threads: they read the published
 * snapshot and queue work (deployment marks, gate audits) for the tick thread under d->lock.
 */
#include "daemon_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slawatch/gate_policy.h"
#include "slawatch/log.h"
#include "slawatch/push.h"
#include "slawatch/units.h"

static sw_snapshot *
hook_snapshot(void *ctx)
{
    sw_daemon *d = ctx;
    pthread_mutex_lock(&d->lock);
    sw_snapshot *s = d->snapshot != NULL ? sw_snapshot_ref(d->snapshot) : NULL;
    pthread_mutex_unlock(&d->lock);
    return s;
}

static int64_t
hook_now(void *ctx)
{
    return sw_daemon_now(ctx);
}

static char *
dup_or_null(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

/* Known service and environment? Asked of the rules the last snapshot was built from. */
static sw_status
check_series(sw_daemon *d, const char *service, const char *env, sw_err *err)
{
    sw_snapshot *s = hook_snapshot(d);
    if (s == NULL)
        return sw_err_set(err, SW_E_IO, "starting: try again in a moment");
    sw_snapshot_lookup l = sw_snapshot_gate_known(s, service, env, 0);
    sw_snapshot_unref(s);
    if (l == SW_SNAPSHOT_UNKNOWN_SERVICE)
        return sw_err_set(err, SW_E_INVAL, "unknown service '%.100s'", service);
    if (l == SW_SNAPSHOT_UNKNOWN_ENV)
        return sw_err_set(err, SW_E_INVAL, "service '%.100s' has no environment '%.100s'", service,
                          env);
    if (l == SW_SNAPSHOT_NEEDS_ENV)
        return sw_err_set(err, SW_E_INVAL, "service '%.100s' has environments: give env", service);
    return SW_OK;
}

/* A service judged per label value takes only labelled samples: a pushed batch carries none. */
static sw_status
refuse_by(sw_daemon *d, const char *service, sw_err *err)
{
    sw_snapshot *s = hook_snapshot(d);
    if (s == NULL)
        return sw_err_set(err, SW_E_IO, "starting: try again in a moment");
    const char *label = sw_snapshot_by_label(s, service);
    sw_status st = label == NULL ? SW_OK
                                 : sw_err_set(err, SW_E_PARSE,
                                              "service '%.100s' is judged per value of %.100s: "
                                              "a pushed batch carries no labels",
                                              service, label);
    sw_snapshot_unref(s);
    return st;
}

sw_status
sw_daemon_mark_deployment(sw_daemon *d, const char *service, const char *env, int64_t at_ms,
                          const char *policy_override, const char *who, sw_err *err)
{
    char why[160];
    if (policy_override != NULL && !sw_gate_policy_override_valid(policy_override, why, sizeof why))
        return sw_err_set(err, SW_E_PARSE, "%s", why);
    sw_status st = check_series(d, service, env, err);
    if (st != SW_OK)
        return st;
    st = sw_store_put_deployment(d->store, service, env, at_ms, who, policy_override, err);
    if (st != SW_OK)
        return st;
    pthread_mutex_lock(&d->lock);
    if (d->n_marks == d->cap_marks) {
        size_t cap = d->cap_marks ? d->cap_marks * 2 : 8;
        sw_mark *m = realloc(d->marks, cap * sizeof *m);
        if (m == NULL) {
            pthread_mutex_unlock(&d->lock);
            return sw_err_set(err, SW_E_NOMEM, "out of memory");
        }
        d->marks = m;
        d->cap_marks = cap;
    }
    d->marks[d->n_marks++] =
        (sw_mark){strdup(service), dup_or_null(env), at_ms, dup_or_null(policy_override)};
    pthread_mutex_unlock(&d->lock);
    sw_daemon_wake(d);
    char when[40];
    sw_units_format_time(at_ms, when, sizeof when);
    sw_log(SW_LOG_INFO, "deployment marked", "service", service, "env", env ? env : "", "at", when,
           "by", who, "policy_override", policy_override ? policy_override : "", NULL);
    return SW_OK;
}

static sw_status
hook_mark(void *ctx, const char *service, const char *env, int64_t at_ms,
          const char *policy_override, const char *who, sw_err *err)
{
    return sw_daemon_mark_deployment(ctx, service, env, at_ms, policy_override, who, err);
}

bool
sw_daemon_apply_marks(sw_daemon *d)
{
    pthread_mutex_lock(&d->lock);
    sw_mark *marks = d->marks;
    size_t n = d->n_marks;
    d->marks = NULL;
    d->n_marks = d->cap_marks = 0;
    pthread_mutex_unlock(&d->lock);
    for (size_t i = 0; i < n; i++) {
        if (marks[i].service != NULL)
            sw_eval_mark_deployment_override(d->ev, marks[i].service, marks[i].env, marks[i].at_ms,
                                             marks[i].policy_override);
        free(marks[i].service);
        free(marks[i].env);
        free(marks[i].policy_override);
    }
    free(marks);
    return n > 0;
}

static sw_status
hook_reload(void *ctx, sw_err *err)
{
    return sw_daemon_request_reload(ctx, err);
}

static void
audit_row_free(sw_audit_row *r)
{
    free(r->who);
    free(r->service);
    free(r->env);
    free(r->verdict);
    free(r->json);
}

static void
hook_audit(void *ctx, const sw_api_gate_audit *a)
{
    sw_daemon *d = ctx;
    pthread_mutex_lock(&d->lock);
    bool wanted = sw_audit_sampler_admit(d->audit_sampler, a);
    pthread_mutex_unlock(&d->lock);
    if (!wanted)
        return;
    sw_audit_row row = {.at_ms = a->at_ms,
                        .window_ms = a->window_ms,
                        .who = strdup(a->who),
                        .service = strdup(a->service),
                        .env = dup_or_null(a->env),
                        .verdict = strdup(a->verdict),
                        .json = strndup(a->json, a->json_len)};
    pthread_mutex_lock(&d->lock);
    bool room = d->n_audits < SW_DAEMON_AUDIT_MAX;
    if (room && d->n_audits == d->cap_audits) {
        size_t cap = d->cap_audits ? d->cap_audits * 2 : 256;
        sw_audit_row *grown = realloc(d->audits, cap * sizeof *grown);
        room = grown != NULL;
        if (room) {
            d->audits = grown;
            d->cap_audits = cap;
        }
    }
    bool complete = row.who && row.service && row.verdict && row.json && (row.env || !a->env);
    if (room && complete)
        d->audits[d->n_audits++] = row;
    else
        d->audits_dropped++;
    pthread_mutex_unlock(&d->lock);
    if (!room || !complete)
        audit_row_free(&row);
}

void
sw_daemon_flush_audits(sw_daemon *d)
{
    if (d->store == NULL) /* a start that failed before the store opened: nothing queued */
        return;
    pthread_mutex_lock(&d->lock);
    sw_audit_row *rows = d->audits;
    size_t n = d->n_audits;
    uint64_t dropped = d->audits_dropped;
    d->self.gate_audits_skipped = sw_audit_sampler_skipped(d->audit_sampler);
    d->audits = NULL;
    d->n_audits = d->cap_audits = 0;
    d->audits_dropped = 0;
    pthread_mutex_unlock(&d->lock);
    sw_store_gate_audit *batch = calloc(n + 1, sizeof *batch);
    for (size_t i = 0; batch != NULL && i < n; i++) {
        sw_audit_row *r = &rows[i];
        batch[i] = (sw_store_gate_audit){r->at_ms,     r->who,     r->service, r->env,
                                         r->window_ms, r->verdict, r->json};
    }
    sw_err err;
    if (batch == NULL || sw_store_put_gate_audits(d->store, batch, n, &err) != SW_OK)
        sw_log_err(SW_LOG_ERROR, "gate audits not stored", batch ? &err : NULL, NULL);
    d->self.gate_audits_stored += n;
    d->self.gate_audits_dropped += dropped;
    d->self.records_pruned = atomic_load(&d->records_pruned);
    if (dropped > 0) {
        char count[24];
        snprintf(count, sizeof count, "%llu", (unsigned long long)dropped);
        sw_log(SW_LOG_WARN, "gate audits dropped: more than the queue holds per tick", "count",
               count, NULL);
    }
    for (size_t i = 0; i < n; i++)
        audit_row_free(&rows[i]);
    free(batch);
    free(rows);
}

sw_status
sw_daemon_check_ahead(const sw_daemon *d, int64_t at_ms, const char *what, sw_err *err)
{
    int64_t bound = sw_daemon_now(d) + SW_DAEMON_AHEAD_MS;
    if (at_ms <= bound)
        return SW_OK;
    char at[40], when[40];
    sw_units_format_time(at_ms, at, sizeof at);
    sw_units_format_time(bound, when, sizeof when);
    return sw_err_set(err, SW_E_PARSE, "%s %s is after %s (now + 5m): too far ahead", what, at,
                      when);
}

void
sw_daemon_sync_journal(sw_daemon *d)
{
    sw_err err;
    if (d->ingest_sync && sw_accum_sync(d->accum, &err) != SW_OK)
        sw_log_err(SW_LOG_ERROR, "ingest journal not synced", &err, NULL);
}

/* Commit a strict batch (refused whole when it reaches into a closed interval, as the tick
 * closes before it takes: acknowledged data is never dropped as late) and sync the journal. */
static sw_status
commit_synced(sw_daemon *d, sw_accum_batch *b, sw_err *err)
{
    sw_status st = sw_accum_commit(d->accum, b, err);
    if (st == SW_OK)
        sw_daemon_sync_journal(d);
    return st;
}

/* A pushed batch becomes one base interval's worth of data at at_ms. */
static sw_status
hook_ingest(void *ctx, const sw_push_batch *b, int64_t at_ms, sw_err *err)
{
    sw_daemon *d = ctx;
    const char *env = b->env[0] != '\0' ? b->env : NULL;
    sw_status st = check_series(d, b->service, env, err);
    if (st == SW_OK)
        st = refuse_by(d, b->service, err);
    if (st == SW_OK)
        st = sw_daemon_check_ahead(d, at_ms, "at", err);
    sw_accum_batch *ab = st == SW_OK ? sw_accum_batch_new_strict(d->accum) : NULL;
    if (st != SW_OK || ab == NULL)
        return st != SW_OK ? st : sw_err_set(err, SW_E_NOMEM, "out of memory");
    st = sw_accum_batch_counts(ab, b->service, env, at_ms, b->requests, b->errors, err);
    for (size_t i = 0; st == SW_OK && i < b->n_probes; i++)
        st = sw_accum_batch_probe(ab, b->service, env, at_ms, b->probes[i], err);
    if (st == SW_OK)
        st = sw_accum_batch_latencies(ab, b->service, env, at_ms, b->latency_us, b->n_latency, err);
    if (st == SW_OK)
        st = commit_synced(d, ab, err);
    sw_accum_batch_free(ab);
    return st;
}

/* POST /api/v1/ingest: collector/push's handler over the accumulators. */
static void
hook_ingest_http(void *ctx, const sw_http_request *req, sw_http_response *resp)
{
    sw_push_sink sink = {ctx, hook_now, hook_ingest};
    sw_push_handle(&sink, req, resp);
}

/* Every item of the EMF request into one batch, committed whole. */
static sw_status
apply_emf(sw_daemon *d, const sw_emf_batch *b, sw_err *err)
{
    sw_accum_batch *ab = sw_accum_batch_new_strict(d->accum);
    if (ab == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory");
    sw_status st = SW_OK;
    for (size_t i = 0; i < b->n_items && st == SW_OK; i++) {
        const sw_emf_item *it = &b->items[i];
        st = sw_daemon_check_ahead(d, it->at_ms, "Timestamp", err);
        if (st == SW_OK && it->kind == SW_EMF_LATENCY)
            for (size_t v = 0; v < it->count && st == SW_OK; v++)
                st = sw_accum_batch_latency(ab, it->service, it->env, it->at_ms,
                                            b->values_us[it->first + v], 1, err);
        else if (st == SW_OK)
            st = sw_accum_batch_counts(ab, it->service, it->env, it->at_ms,
                                       it->kind == SW_EMF_REQUESTS ? it->count : 0,
                                       it->kind == SW_EMF_ERRORS ? it->count : 0, err);
    }
    if (st == SW_OK && b->n_items > 0)
        st = commit_synced(d, ab, err);
    sw_accum_batch_free(ab);
    return st;
}

static sw_status
hook_ingest_emf(void *ctx, const uint8_t *body, size_t len, size_t ret[3], sw_err *err)
{
    sw_daemon *d = ctx;
    sw_emf_batch b = {0};
    pthread_mutex_lock(&d->emf_lock);
    sw_status st = sw_emf_parse(d->emf, body, len, &b, err);
    if (st == SW_OK && (st = apply_emf(d, &b, err)) == SW_OK) {
        ret[0] = b.n_values;
        for (size_t i = 0; i < b.n_items; i++)
            ret[0] += b.items[i].kind != SW_EMF_LATENCY;
        ret[1] = b.lines;
        ret[2] = b.unmatched;
    }
    pthread_mutex_unlock(&d->emf_lock);
    sw_emf_batch_fini(&b);
    return st;
}

static bool
hook_ready(void *ctx, char *why, size_t cap)
{
    sw_daemon *d = ctx;
    pthread_mutex_lock(&d->lock);
    bool ready = d->not_ready[0] == '\0';
    snprintf(why, cap, "%s", d->not_ready);
    pthread_mutex_unlock(&d->lock);
    return ready;
}

/* Bumped by every reload that installs rules (daemon_reload.c): cached reports are then stale. */
static uint64_t
hook_rules_version(void *ctx)
{
    sw_daemon *d = ctx;
    return atomic_load(&d->rules_version);
}

/* Built on a report worker thread; the store serialises its reads with the tick's writes. */
static sw_status
hook_report(void *ctx, const sw_report_request *req, sw_report **ret, sw_err *err)
{
    sw_daemon *d = ctx;
    sw_report_request own = *req;
    own.shard = &d->shard; /* "every service" means every service this instance evaluates */
    return sw_report_build(d->store, &own, ret, err);
}

void
sw_daemon_api_init(sw_daemon *d)
{
    d->hooks = (sw_api_hooks){
        .ctx = d,
        .snapshot = hook_snapshot,
        .now = hook_now,
        .mark_deployment = hook_mark,
        .reload = hook_reload,
        .audit = hook_audit,
        .ingest = hook_ingest_http,
        .ready = hook_ready,
        .ingest_emf = hook_ingest_emf,
        .report = hook_report,
        .report_cache = d->report_cache,
        .rules_version = hook_rules_version,
        .store = d->store,
        .base_interval_ms = d->base_ms,
        .store_keep_ms = d->cfg->retention_ms[3],
    };
}
