/*
 * The daemon's lifecycle and its evaluation tick. The tick thread (the caller of
 * sw_daemon_run) owns the evaluator, the accumulators' consumer side, the Alertmanager tracker
 * and the pending rows; HTTP threads read published snapshots and queue marks and audits under
 * the lock; the rollup thread only calls the (thread-safe) store.
 */
#include "daemon_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "slawatch/log.h"
#include "slawatch/units.h"

#define ROLLUP_EVERY_MS 60000
#define SECRET_MAX 4096 /* bytes of a token or password file's first line */
/* Reports written for GET /api/v1/report are served again for a minute: the current month
 * moves every tick, and late data or a backfill may still change past ones. */
#define REPORT_CACHE_ENTRIES 16
#define REPORT_CACHE_BYTES ((size_t)64 << 20)
#define REPORT_CACHE_MS 60000
#define SLEEP_SLICE_MS 50

static int64_t
wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double
mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int64_t
sw_daemon_now(const sw_daemon *d)
{
    return d->opts.clock != NULL ? d->opts.clock(d->opts.clock_ctx) : wall_ms();
}

static void
sleep_real_ms(int64_t ms)
{
    struct timespec ts = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        break; /* a signal: let the loop look at its flags */
}

/* ------------------------------------------------------------------ totals */

static sw_metrics_series *
totals_of(sw_daemon *d, const char *service, const char *env)
{
    sw_totals *t = &d->totals;
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->series[i].service, service) == 0 &&
            (env == NULL ? t->series[i].env == NULL
                         : t->series[i].env != NULL && strcmp(t->series[i].env, env) == 0))
            return &t->series[i];
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        sw_metrics_series *s = realloc(t->series, cap * sizeof *s);
        if (s == NULL)
            return NULL;
        t->series = s;
        t->cap = cap;
    }
    sw_metrics_series *s = &t->series[t->n];
    *s = (sw_metrics_series){.service = strdup(service), .env = env ? strdup(env) : NULL};
    if (s->service == NULL || (env != NULL && s->env == NULL)) {
        free((char *)s->service);
        free((char *)s->env);
        return NULL;
    }
    t->n++;
    return s;
}

static const sw_metrics_series *
totals_add(sw_daemon *d, const char *service, const char *env, const sw_sli_interval *iv)
{
    sw_metrics_series *s = totals_of(d, service, env);
    if (s == NULL)
        return NULL;
    s->requests += iv->requests;
    s->errors += iv->errors;
    s->probes += iv->health.probes;
    s->probe_failures += iv->health.failures;
    if (iv->latency == NULL)
        return s;
    if (s->latency == NULL) {
        sw_hdr *h;
        if (sw_hdr_new(&sw_hdr_latency_config, &h, NULL) != SW_OK)
            return s;
        s->latency = h;
    }
    sw_hdr_add((sw_hdr *)s->latency, iv->latency);
    return s;
}

static void
totals_fini(sw_totals *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free((char *)t->series[i].service);
        free((char *)t->series[i].env);
        sw_hdr_free((sw_hdr *)t->series[i].latency);
    }
    free(t->series);
}

/* ------------------------------------------------------------------ ingest */

static void
pending_drop_oldest(sw_daemon *d)
{
    sw_pending_row *p = &d->pending[0];
    sw_log(SW_LOG_WARN, "dropping an unstored interval: too many pending", "service", p->service,
           NULL);
    free(p->service);
    free(p->env);
    sw_sli_interval_fini(&p->iv);
    memmove(&d->pending[0], &d->pending[1], (d->n_pending - 1) * sizeof d->pending[0]);
    d->n_pending--;
}

static sw_status
pending_push(sw_daemon *d, const char *service, const char *env, sw_sli_interval *iv, sw_err *err)
{
    if (d->n_pending == SW_DAEMON_PENDING_MAX)
        pending_drop_oldest(d);
    if (d->n_pending == d->cap_pending) {
        size_t cap = d->cap_pending ? d->cap_pending * 2 : 256;
        sw_pending_row *p = realloc(d->pending, cap * sizeof *p);
        if (p == NULL)
            return sw_err_set(err, SW_E_NOMEM, "out of memory queueing intervals");
        d->pending = p;
        d->cap_pending = cap;
    }
    sw_pending_row *row = &d->pending[d->n_pending];
    row->service = strdup(service);
    row->env = env ? strdup(env) : NULL;
    if (row->service == NULL || (env != NULL && row->env == NULL)) {
        free(row->service);
        free(row->env);
        return sw_err_set(err, SW_E_NOMEM, "out of memory queueing intervals");
    }
    row->iv = *iv; /* takes the histogram */
    *iv = (sw_sli_interval){0};
    d->n_pending++;
    return SW_OK;
}

/* An ended interval: into the evaluator, the totals and the rows to store. */
static sw_status
ingest(void *ctx, const char *service, const char *env, sw_sli_interval *iv, sw_err *err)
{
    sw_daemon *d = ctx;
    sw_err eval_err;
    if (sw_eval_add(d->ev, service, env, iv, &eval_err) != SW_OK) {
        sw_log_err(SW_LOG_WARN, "interval not evaluated", &eval_err, "service", service, "env",
                   env ? env : "", NULL);
        sw_sli_interval_fini(iv);
        return SW_OK;
    }
    const sw_metrics_series *total = totals_add(d, service, env, iv);
    if (total != NULL)
        sw_daemon_rwout_add(d, total, iv->start_ms + iv->length_ms);
    sw_status st = pending_push(d, service, env, iv, err);
    sw_sli_interval_fini(iv);
    return st;
}

/*
 * Write the pending rows, recording that everything taken before taken_until_ms is stored; then
 * the journal need keep only the open intervals. false when the store refused.
 */
static bool
store_flush(sw_daemon *d, int64_t taken_until_ms)
{
    sw_store_row *rows = calloc(d->n_pending + 1, sizeof *rows);
    if (rows == NULL)
        return false;
    for (size_t i = 0; i < d->n_pending; i++)
        rows[i] = (sw_store_row){d->pending[i].service, d->pending[i].env, &d->pending[i].iv};
    sw_err err;
    double t0 = mono_s();
    sw_status st = sw_store_put_taken(d->store, rows, d->n_pending, taken_until_ms, &err);
    d->self.store_write_seconds = mono_s() - t0;
    d->self.store_writes++;
    free(rows);
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
static void
store_and_compact(sw_daemon *d, int64_t boundary_ms)
{
    if (store_flush(d, boundary_ms))
        journal_compact(d);
}

/* The demo's traffic for every base interval that ended by until_ms. */
static void
simulate(sw_daemon *d, int64_t until_ms)
{
    static const char *const envs[] = {"blue", "green"};
    if (d->sim_until_ms == INT64_MIN)
        d->sim_until_ms = d->opts.simulate->start_ms;
    for (; d->sim_until_ms + d->base_ms <= until_ms; d->sim_until_ms += d->base_ms)
        for (size_t e = 0; e < 2; e++) {
            sw_sli_interval iv = {0};
            sw_err err;
            if (sw_sim_interval(d->opts.simulate, envs[e], d->sim_until_ms, d->base_ms, &iv,
                                &err) != SW_OK ||
                sw_accum_add_interval(d->accum, "api", envs[e], &iv, &err) != SW_OK)
                sw_log_err(SW_LOG_WARN, "simulated interval lost", &err, NULL);
            sw_sli_interval_fini(&iv);
        }
}

/* ------------------------------------------------------------------ alerts */

static void
record_event(sw_daemon *d, const char *kind, const char *name, const sw_series_result *sr,
             const char *state, int64_t at_ms, double value)
{
    sw_store_event e = {kind, name, sr->service, sr->env, state, at_ms, value};
    sw_err err;
    char measured[40];
    snprintf(measured, sizeof measured, "%g", value);
    sw_log(strcmp(state, "firing") == 0 ? SW_LOG_WARN : SW_LOG_INFO,
           strcmp(kind, "trigger") == 0 ? "rollback trigger fired" : "alert state changed", "name",
           name, "service", sr->service, "env", sr->env ? sr->env : "", "state", state, "measured",
           measured, NULL);
    if (sw_store_put_event(d->store, &e, &err) != SW_OK)
        sw_log_err(SW_LOG_ERROR, "alert event not stored", &err, NULL);
}

/* The remembered state of one alert or trigger of series i, growing the table as needed. */
static uint8_t *
seen_slot(sw_daemon *d, size_t i, size_t k)
{
    size_t per = d->rules->n_alerts + d->rules->n_triggers;
    size_t need = (i + 1) * per;
    if (need > d->seen.n) {
        uint8_t *grown = realloc(d->seen.state, need);
        if (grown == NULL)
            return NULL;
        memset(grown + d->seen.n, 0, need - d->seen.n);
        d->seen.state = grown;
        d->seen.n = need;
    }
    return &d->seen.state[i * per + k];
}

static void
observe_series(sw_daemon *d, size_t i, int64_t now_ms)
{
    const sw_rules *r = d->rules;
    sw_series_result sr;
    sw_eval_series(d->ev, i, &sr);
    for (size_t a = 0; a < r->n_alerts; a++) {
        uint8_t *seen = seen_slot(d, i, a);
        bool firing = sr.alerts[a].state == SW_ALERT_FIRING;
        if (seen != NULL && firing != (*seen != 0)) {
            record_event(d, "alert", r->alerts[a].name, &sr, firing ? "firing" : "resolved", now_ms,
                         sr.alerts[a].measured);
            *seen = firing;
        }
        if (d->am != NULL)
            sw_am_observe_alert(d->am, d->rules, sr.service, sr.env, &sr.alerts[a], now_ms, NULL);
    }
    for (size_t t = 0; t < r->n_triggers; t++) {
        uint8_t *seen = seen_slot(d, i, r->n_alerts + t);
        bool fired = sr.triggers[t].fired;
        if (seen != NULL && fired != (*seen != 0)) {
            if (fired)
                record_event(d, "trigger", r->triggers[t].name, &sr, "firing",
                             sr.triggers[t].fired_at_ms, NAN);
            *seen = fired;
        }
        if (d->am != NULL)
            sw_am_observe_trigger(d->am, sr.service, sr.env, &sr.triggers[t], now_ms, NULL);
    }
}

static void
observe_alerts(sw_daemon *d, int64_t now_ms)
{
    for (size_t i = 0; i < sw_eval_series_count(d->ev); i++)
        observe_series(d, i, now_ms);
    if (d->am == NULL)
        return;
    sw_err err;
    size_t sent;
    if (sw_am_push(d->am, d->cfg->alertmanager_url, now_ms, &sent, &err) != SW_OK) {
        d->self.alertmanager_errors++;
        sw_log_err(SW_LOG_WARN, "alertmanager push failed", &err, NULL);
    } else if (sent > 0) {
        d->self.alertmanager_sent++;
    }
}

/* Remember every state as it is now, so a rebuild does not re-announce old news. */
static void
seen_reset(sw_daemon *d)
{
    free(d->seen.state);
    d->seen = (sw_seen){0};
    const sw_rules *r = d->rules;
    for (size_t i = 0; i < sw_eval_series_count(d->ev); i++) {
        sw_series_result sr;
        sw_eval_series(d->ev, i, &sr);
        for (size_t a = 0; a < r->n_alerts; a++) {
            uint8_t *seen = seen_slot(d, i, a);
            if (seen != NULL)
                *seen = sr.alerts[a].state == SW_ALERT_FIRING;
        }
        for (size_t t = 0; t < r->n_triggers; t++) {
            uint8_t *seen = seen_slot(d, i, r->n_alerts + t);
            if (seen != NULL)
                *seen = sr.triggers[t].fired;
        }
    }
}

/* ------------------------------------------------------------------ the tick */

/* The sources the configuration sets up: /metrics leaves out the families of the others. */
static unsigned
configured_sources(const sw_config *c)
{
    unsigned s = (c->rw_enabled ? SW_METRICS_SRC_RW_RECEIVER : 0) |
                 (c->query.url != NULL ? SW_METRICS_SRC_QUERY : 0) |
                 (c->cloudwatch.enabled ? SW_METRICS_SRC_CLOUDWATCH : 0);
    return s | (c->n_scrape_jobs > 0 || (s & (SW_METRICS_SRC_RW_RECEIVER | SW_METRICS_SRC_QUERY))
                    ? SW_METRICS_SRC_PROMETHEUS
                    : 0);
}

static void
publish(sw_daemon *d, int64_t now_ms)
{
    d->self.sources = configured_sources(d->cfg);
    d->self.late_values = sw_accum_late(d->accum);
    d->self.carried_increases = sw_accum_carried(d->accum);
    sw_daemon_prom_self(d, &d->self);
    sw_daemon_rw_self(d, &d->self);
    pthread_mutex_lock(&d->probe_lock);
    d->self.probe_errors = d->probe_errors;
    pthread_mutex_unlock(&d->probe_lock);
    sw_daemon_query_self(d, &d->self);
    sw_daemon_rwout_stats(d);
    sw_daemon_cw_self(d, &d->self);
    sw_metrics_input mi = {.series = d->totals.series, .n_series = d->totals.n, .self = &d->self};
    sw_daemon_targets targets;
    sw_daemon_scrape_targets(d, &mi, &targets);
    sw_snapshot_input in = {d->ev, d->rules, now_ms, &mi, d->expo};
    sw_snapshot *s;
    sw_err err;
    sw_status built = sw_snapshot_build(&in, &s, &err);
    sw_daemon_scrape_targets_free(&targets);
    if (built != SW_OK) {
        sw_log_err(SW_LOG_ERROR, "snapshot not built", &err, NULL);
        return;
    }
    pthread_mutex_lock(&d->lock);
    sw_snapshot *old = d->snapshot;
    d->snapshot = s;
    pthread_mutex_unlock(&d->lock);
    sw_snapshot_unref(old);
    if (d->opts.on_tick != NULL)
        d->opts.on_tick(d->opts.hook_ctx, s);
}

static void
tick(sw_daemon *d, int64_t boundary_ms)
{
    double t0 = mono_s();
    sw_err err;
    if (d->opts.simulate != NULL)
        simulate(d, boundary_ms);
    sw_daemon_apply_marks(d);
    /* Closed before the take, so no batch is acknowledged into an interval already taken. */
    sw_accum_close(d->accum, boundary_ms);
    if (sw_prommap_flush(d->prommap, boundary_ms, &err) != SW_OK)
        sw_log_err(SW_LOG_ERROR, "histogram buckets lost", &err, NULL);
    if (sw_accum_take(d->accum, boundary_ms, ingest, d, &err) != SW_OK)
        sw_log_err(SW_LOG_ERROR, "intervals lost", &err, NULL);
    store_and_compact(d, boundary_ms);
    if (sw_eval_advance(d->ev, boundary_ms, &err) != SW_OK)
        sw_log_err(SW_LOG_ERROR, "evaluation failed", &err, NULL);
    observe_alerts(d, boundary_ms);
    sw_daemon_flush_audits(d);
    d->self.evaluations++;
    d->self.evaluation_seconds = mono_s() - t0;
    publish(d, boundary_ms);
    d->last_tick_ms = boundary_ms;
}

/* ------------------------------------------------------------------ probes */

static void
probe_result(void *ctx, const sw_probe_result *r)
{
    sw_daemon *d = ctx;
    sw_err err;
    if (sw_accum_add_probe(d->accum, r->service_name, r->env, r->at_ms, r->ok, &err) != SW_OK)
        sw_log_err(SW_LOG_WARN, "probe result lost", &err, "service", r->service_name, NULL);
    if (!r->ok)
        sw_log(SW_LOG_DEBUG, "probe failed", "service", r->service_name, "reason", r->reason, NULL);
}

bool
sw_daemon_nap(sw_daemon *d, int64_t ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    int64_t ns = (int64_t)until.tv_nsec + (ms % 1000) * 1000000;
    until.tv_sec += (time_t)(ms / 1000 + ns / 1000000000);
    until.tv_nsec = (long)(ns % 1000000000);
    pthread_mutex_lock(&d->stop_lock);
    while (!d->stopping && pthread_cond_timedwait(&d->stop_cond, &d->stop_lock, &until) == 0)
        ;
    bool go_on = !d->stopping;
    pthread_mutex_unlock(&d->stop_lock);
    return go_on;
}

static void *
probe_loop(void *arg)
{
    sw_daemon *d = arg;
    do {
        pthread_mutex_lock(&d->probe_lock);
        int64_t now = sw_daemon_now(d), next = now + 1000;
        if (d->prober != NULL) {
            sw_err err;
            if (sw_probe_run_due(d->prober, now, probe_result, d, &err) != SW_OK) {
                d->probe_errors++;
                sw_log_err(SW_LOG_WARN, "probes did not run", &err, NULL);
            }
            next = sw_probe_next_due_ms(d->prober);
        }
        pthread_mutex_unlock(&d->probe_lock);
        int64_t wait = (int64_t)((double)(next - now) / d->opts.speed);
        if (wait < 10)
            wait = 10;
        if (wait > 1000)
            wait = 1000;
        if (!sw_daemon_nap(d, wait))
            break;
    } while (true);
    return NULL;
}

static sw_status
probes_for(sw_daemon *d, const sw_rules *rules, sw_probe **ret, sw_err *err)
{
    *ret = NULL;
    for (size_t i = 0; i < rules->n_services; i++)
        if (rules->services[i].health.kind == SW_SOURCE_PROBE)
            return sw_probe_new_from_rules(rules, sw_daemon_now(d), (uint64_t)wall_ms(), ret, err);
    return SW_OK;
}

/* ------------------------------------------------------------------ rollups */

/* Gate audits, deployment marks and events past their retention (age, then count). */
static void
prune_records(sw_daemon *d)
{
    static const char *const names[] = {"gate_audits", "deployments", "events"};
    const sw_config *c = d->cfg;
    for (int i = SW_STORE_GATE_AUDITS; i <= SW_STORE_EVENTS; i++) {
        sw_store_keep keep = {c->record_keep_ms[i], c->record_max_rows[i]};
        uint64_t deleted = 0;
        sw_err err;
        if (sw_store_prune(d->store, (sw_store_record)i, sw_daemon_now(d), &keep, &deleted, &err) !=
            SW_OK)
            sw_log_err(SW_LOG_WARN, "pruning failed; retrying later", &err, "table", names[i],
                       NULL);
        atomic_fetch_add(&d->records_pruned, deleted);
    }
}

static void *
rollup_loop(void *arg)
{
    sw_daemon *d = arg;
    prune_records(d);
    while (sw_daemon_nap(d, ROLLUP_EVERY_MS)) {
        sw_err err;
        if (sw_store_rollup(d->store, sw_daemon_now(d), &err) != SW_OK)
            sw_log_err(SW_LOG_WARN, "rollup failed; retrying later", &err, NULL);
        prune_records(d);
    }
    return NULL;
}

/* ------------------------------------------------------------------ reload */

static sw_status
load_config_again(const sw_daemon *d, sw_config **ret, sw_err *err)
{
    sw_rules_diag *diag = sw_rules_diag_new();
    sw_status st = sw_config_load(d->cfg->path, ret, diag, err);
    for (size_t i = 0; diag != NULL && i < sw_rules_diag_count(diag); i++)
        sw_log(SW_LOG_ERROR, "configuration error", "detail", sw_rules_diag_line(diag, i), NULL);
    sw_rules_diag_free(diag);
    if (st != SW_OK)
        return st;
    /* Where to listen and where the data lives need a restart; flags keep winning. */
    (*ret)->listen = d->listen;
    (*ret)->data_dir = d->data_dir;
    return SW_OK;
}

static void
swap_probes(sw_daemon *d, const sw_rules *rules)
{
    sw_probe *p;
    sw_err err;
    if (probes_for(d, rules, &p, &err) != SW_OK) {
        sw_log_err(SW_LOG_ERROR, "probes not started", &err, NULL);
        p = NULL;
    }
    pthread_mutex_lock(&d->probe_lock);
    sw_probe *old = d->prober;
    d->prober = p;
    pthread_mutex_unlock(&d->probe_lock);
    sw_probe_free(old);
}

/* Everything new is built first; only then is the old swapped out, so a bad file changes
 * nothing. */
static sw_status
reload(sw_daemon *d, sw_err *err)
{
    sw_config *cfg = NULL;
    sw_rules *rules = NULL;
    sw_eval *ev = NULL;
    char *text = NULL;
    size_t len = 0;
    int64_t now = sw_daemon_now(d);
    sw_status st = d->opts.rules_text == NULL ? load_config_again(d, &cfg, err) : SW_OK;
    if (st == SW_OK)
        st = sw_daemon_load_rules(d, cfg != NULL ? cfg : d->cfg, true, &rules, &text, &len, err);
    if (st == SW_OK) {
        store_flush(d, d->last_tick_ms); /* the rebuild reads the store: it must hold
                                          * everything ingested */
        st = sw_daemon_rebuild(d, rules, d->last_tick_ms, &ev, err);
    }
    if (st != SW_OK) {
        sw_config_free(cfg);
        sw_rules_free(rules);
        free(text);
        d->self.reload_errors++;
        sw_log_err(SW_LOG_ERROR, "reload failed; keeping the previous configuration", err, NULL);
        return st;
    }
    sw_err store_err;
    if (sw_store_put_rules(d->store, now, text, len, &store_err) != SW_OK)
        sw_log_err(SW_LOG_WARN, "rules history not recorded", &store_err, NULL);
    swap_probes(d, rules);
    sw_err scrape_err;
    if (cfg != NULL && sw_daemon_scrape_reload(d, cfg, &scrape_err) != SW_OK)
        sw_log_err(SW_LOG_ERROR, "scrape jobs not reloaded; the previous ones go on", &scrape_err,
                   NULL);
    sw_err map_err;
    if (sw_prommap_set_rules(d->prommap, rules, &map_err) != SW_OK)
        sw_log_err(SW_LOG_ERROR, "Prometheus selectors not updated", &map_err, NULL);
    sw_daemon_query_set_rules(d, rules);
    sw_emf_map *emf = NULL;
    sw_err emf_err;
    if (sw_emf_map_new(rules, &emf, &emf_err) != SW_OK)
        sw_log_err(SW_LOG_ERROR, "EMF targets not updated", &emf_err, NULL);
    else {
        pthread_mutex_lock(&d->emf_lock);
        sw_emf_map_free(d->emf);
        d->emf = emf;
        pthread_mutex_unlock(&d->emf_lock);
    }
    sw_daemon_cw_set_rules(d, rules);
    sw_eval_free(d->ev);
    sw_rules_free(d->rules);
    free(d->rules_text);
    d->ev = ev;
    d->rules = rules;
    d->rules_text = text;
    atomic_fetch_add(&d->rules_version, 1);
    d->rules_len = len;
    if (cfg != NULL) {
        sw_config_free(d->cfg);
        d->cfg = cfg;
    }
    seen_reset(d);
    d->self.reloads++;
    /* Answer with the new rules at once: until the next tick the old snapshot would serve. */
    publish(d, d->last_tick_ms);
    sw_log(SW_LOG_INFO, "configuration and rules reloaded", NULL);
    return SW_OK;
}

/* A reload asked for over HTTP: done here, on the tick thread, and answered through the lock. */
static void
serve_reload_request(sw_daemon *d)
{
    pthread_mutex_lock(&d->lock);
    bool asked = d->reload_requested;
    d->reload_requested = false;
    pthread_mutex_unlock(&d->lock);
    if (!asked)
        return;
    sw_err err = {0};
    sw_status st = reload(d, &err);
    pthread_mutex_lock(&d->lock);
    d->reload_status = st;
    snprintf(d->reload_msg, sizeof d->reload_msg, "%s", err.msg);
    d->reload_done = true;
    pthread_cond_broadcast(&d->reloaded);
    pthread_mutex_unlock(&d->lock);
}

sw_status
sw_daemon_request_reload(sw_daemon *d, sw_err *err)
{
    pthread_mutex_lock(&d->lock);
    d->reload_requested = true;
    d->reload_done = false;
    while (!d->reload_done && !d->stopping)
        pthread_cond_wait(&d->reloaded, &d->lock);
    sw_status st = d->reload_done ? d->reload_status : SW_E_IO;
    if (st != SW_OK)
        sw_err_set(err, st, "%s", d->reload_done ? d->reload_msg : "shutting down");
    pthread_mutex_unlock(&d->lock);
    return st;
}

/* ------------------------------------------------------------------ running */

/*
 * How long after an interval ends it is taken: a probe or scrape is stamped when it starts, so
 * one that starts at the interval's edge and answers just within its timeout is still in; later
 * still when sources deliver late (remote write batches, queries: ingest_delay).
 */
static int64_t
take_grace_ms(const sw_daemon *d)
{
    int64_t longest = 0;
    for (size_t i = 0; i < d->cfg->n_scrape_jobs; i++)
        longest = d->cfg->scrape_jobs[i].timeout_ms > longest ? d->cfg->scrape_jobs[i].timeout_ms
                                                              : longest;
    for (size_t i = 0; i < d->rules->n_services; i++) {
        const sw_source *h = &d->rules->services[i].health;
        if (h->kind == SW_SOURCE_PROBE && h->timeout_ms > longest)
            longest = h->timeout_ms;
    }
    return d->base_ms / 10 + longest + d->cfg->ingest_delay_ms;
}

/* Take the intervals that ended by until_ms for the store, without evaluating them. */
static void
store_unjudged(sw_daemon *d, int64_t until_ms)
{
    sw_err err;
    sw_accum_close(d->accum, until_ms);
    if (sw_prommap_flush(d->prommap, until_ms, &err) != SW_OK)
        sw_log_err(SW_LOG_ERROR, "histogram buckets lost", &err, NULL);
    if (sw_accum_take(d->accum, until_ms, ingest, d, &err) != SW_OK)
        sw_log_err(SW_LOG_ERROR, "intervals lost", &err, NULL);
}

void
sw_daemon_run(sw_daemon *d, volatile sig_atomic_t *stop, volatile sig_atomic_t *reload_flag)
{
    while (!*stop) {
        int64_t grace = take_grace_ms(d);
        if (*reload_flag) {
            *reload_flag = 0;
            sw_err err;
            reload(d, &err);
        }
        serve_reload_request(d);
        int64_t now = sw_daemon_now(d);
        int64_t boundary = now - grace - ((now - grace) % d->base_ms);
        if (boundary > d->last_tick_ms) {
            tick(d, boundary);
            continue;
        }
        int64_t wait = (int64_t)((double)(boundary + d->base_ms + grace - now) / d->opts.speed);
        sleep_real_ms(wait < SLEEP_SLICE_MS ? (wait > 0 ? wait : 1) : SLEEP_SLICE_MS);
    }
    /* Evaluate only what is complete under the grace, as every tick does: the intervals after
     * it may still be missing late data, and judging them would record false resolutions.
     * Those that have ended are stored all the same; the open intervals stay in the journal,
     * synced by the compaction, and are merged back at the next start. */
    int64_t now = sw_daemon_now(d), grace = take_grace_ms(d);
    int64_t boundary = now - grace - ((now - grace) % d->base_ms);
    if (boundary > d->last_tick_ms)
        tick(d, boundary);
    int64_t ended = now - now % d->base_ms;
    store_unjudged(d, ended);
    store_and_compact(d, ended > d->last_tick_ms ? ended : d->last_tick_ms);
    sw_log(SW_LOG_INFO, "stopped", NULL);
}

/* ------------------------------------------------------------------ setup */

sw_status
sw_daemon_read_secret(const char *path, char **ret, sw_err *err)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return sw_err_sys(err, SW_E_IO, "cannot read the token file %s", path);
    /* The whole first line is the secret (a passphrase has spaces); only the whitespace around
     * it goes, as the line end a text editor adds. */
    char buf[SECRET_MAX + 2];
    bool got = fgets(buf, sizeof buf, f) != NULL;
    fclose(f);
    size_t n = got ? strcspn(buf, "\n") : 0;
    if (n > SECRET_MAX)
        return sw_err_set(err, SW_E_INVAL, "the token file %s: first line over %d bytes", path,
                          SECRET_MAX);
    buf[n] = '\0';
    while (n > 0 && strchr(" \t\r", buf[n - 1]) != NULL)
        buf[--n] = '\0';
    char *start = buf + strspn(buf, " \t");
    if (start[0] == '\0')
        return sw_err_set(err, SW_E_INVAL, "the token file %s is empty", path);
    *ret = strdup(start);
    return *ret != NULL ? SW_OK : sw_err_set(err, SW_E_NOMEM, "out of memory");
}

static sw_status
open_store(sw_daemon *d, sw_err *err)
{
    const sw_config *c = d->cfg;
    sw_store_options so = {
        .base_interval_ms = d->base_ms,
        .retention_base_ms = c->retention_ms[0],
        .retention_1m_ms = c->retention_ms[1],
        .retention_1h_ms = c->retention_ms[2],
        .retention_1d_ms = c->retention_ms[3],
    };
    sw_status st = sw_daemon_data_dir_prepare(c->data_dir, &d->data_dir_created, err);
    return st == SW_OK ? sw_store_open(c->data_dir, &so, &d->store, err) : st;
}

/* What the HTTP server will read, read or checked before anything is created or written. */
static sw_status
check_files(sw_daemon *d, sw_err *err)
{
    const sw_config *c = d->cfg;
    sw_status st =
        c->token_file != NULL ? sw_daemon_read_secret(c->token_file, &d->token, err) : SW_OK;
    if (st == SW_OK && c->tls_cert_file != NULL)
        st = sw_daemon_check_readable(c->tls_cert_file, "TLS certificate", err);
    if (st == SW_OK && c->tls_key_file != NULL)
        st = sw_daemon_check_readable(c->tls_key_file, "TLS key", err);
    return st;
}

static sw_status
start_http(sw_daemon *d, sw_err *err)
{
    const sw_config *c = d->cfg;
    sw_daemon_api_init(d);
    sw_daemon_rw_init(d);
    size_t n_routes;
    const sw_http_route *routes = sw_api_routes(&n_routes);
    sw_http_options ho = {
        .listen = d->listen,
        .threads = c->http_threads,
        .max_body = (size_t)c->http_max_body,
        .timeout_s = (unsigned)((c->http_timeout_ms + 999) / 1000),
        .header_timeout_s = (unsigned)((c->http_header_timeout_ms + 999) / 1000),
        .max_per_client = c->http_max_per_client,
        .heavy_workers = c->http_report_workers,
        .heavy_waiting = c->http_report_queue,
        .bearer_token = d->token,
        .auth_all = c->auth_all,
        .tls_cert_file = c->tls_cert_file,
        .tls_key_file = c->tls_key_file,
    };
    return sw_http_start(&ho, routes, n_routes, &d->hooks, &d->http, err);
}

static sw_status
start_alertmanager(sw_daemon *d, sw_err *err)
{
    if (d->cfg->alertmanager_url == NULL)
        return SW_OK;
    char generator[512];
    if (d->cfg->external_url != NULL)
        snprintf(generator, sizeof generator, "%s/api/v1/status", d->cfg->external_url);
    else
        snprintf(generator, sizeof generator, "http://%s/api/v1/status", d->listen);
    sw_am_config ac = {.resend_ms = d->cfg->alertmanager_resend_ms,
                       .eval_interval_ms = d->base_ms,
                       .generator_url = generator};
    return sw_am_new(&ac, &d->am, err);
}

static sw_status
start_threads(sw_daemon *d, sw_err *err)
{
    if (pthread_create(&d->rollup_thread, NULL, rollup_loop, d) != 0)
        return sw_err_set(err, SW_E_NOMEM, "cannot start the rollup thread");
    d->rollup_started = true;
    if (pthread_create(&d->probe_thread, NULL, probe_loop, d) != 0)
        return sw_err_set(err, SW_E_NOMEM, "cannot start the probe thread");
    d->probe_started = true;
    return SW_OK;
}

static int64_t
horizon_clock(void *ctx)
{
    return sw_daemon_now(ctx);
}

/* Queue an interval the journal gave back that ended before this start, to be stored. */
static sw_status
pend_replayed(void *ctx, const char *service, const char *env, sw_sli_interval *iv, sw_err *err)
{
    sw_status st = pending_push(ctx, service, env, iv, err);
    sw_sli_interval_fini(iv);
    return st;
}

/*
 * Merge back what the journal holds beyond what the store has, store the intervals among it
 * that have ended (before the evaluator is rebuilt from the store), and from then on journal
 * every commit.
 */
static sw_status
recover_journal(sw_daemon *d, sw_err *err)
{
    sw_accum_set_horizon(d->accum, horizon_clock, d, SW_DAEMON_AHEAD_MS);
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", d->data_dir, SW_DAEMON_JOURNAL_NAME) >=
        sizeof path)
        return sw_err_set(err, SW_E_INVAL, "%s: data directory path too long", d->data_dir);
    int64_t stored_until;
    size_t replayed;
    sw_status st = sw_store_taken_until(d->store, &stored_until, err);
    if (st == SW_OK)
        st = sw_accum_journal_open(d->accum, path, stored_until, &replayed, err);
    if (st != SW_OK)
        return st;
    if (replayed > 0) {
        char n[24];
        snprintf(n, sizeof n, "%zu", replayed);
        sw_log(SW_LOG_INFO, "ingest journal replayed", "intervals", n, NULL);
    }
    sw_accum_close(d->accum, d->last_tick_ms);
    if ((st = sw_accum_take(d->accum, d->last_tick_ms, pend_replayed, d, err)) != SW_OK)
        return st;
    if (!store_flush(d, d->last_tick_ms))
        return sw_err_set(err, SW_E_IO, "%s: cannot store the intervals the journal gave back",
                          path);
    return sw_accum_journal_compact(d->accum, err);
}

static sw_status
daemon_start(sw_daemon *d, sw_err *err)
{
    sw_status st =
        sw_daemon_load_rules(d, d->cfg, false, &d->rules, &d->rules_text, &d->rules_len, err);
    if (st != SW_OK)
        return st;
    d->base_ms = d->rules->base_interval_ms;
    int64_t now = sw_daemon_now(d);
    d->last_tick_ms = now - now % d->base_ms;
    d->audit_sampler =
        sw_audit_sampler_new(d->cfg->audit_min_interval_ms, d->cfg->audit_max_per_minute);
    d->report_cache =
        sw_report_cache_new(REPORT_CACHE_ENTRIES, REPORT_CACHE_BYTES, REPORT_CACHE_MS);
    if (d->audit_sampler == NULL || d->report_cache == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory starting the daemon");
    if ((st = check_files(d, err)) != SW_OK || (st = open_store(d, err)) != SW_OK ||
        (st = sw_accum_new(d->base_ms, &d->accum, err)) != SW_OK ||
        (st = recover_journal(d, err)) != SW_OK ||
        (st = sw_prommap_new(d->rules, d->accum, &d->prommap, err)) != SW_OK ||
        (st = sw_emf_map_new(d->rules, &d->emf, err)) != SW_OK ||
        (st = sw_expo_new(&d->expo, err)) != SW_OK ||
        (st = sw_daemon_rebuild(d, d->rules, d->last_tick_ms, &d->ev, err)) != SW_OK ||
        (st = start_alertmanager(d, err)) != SW_OK ||
        (st = probes_for(d, d->rules, &d->prober, err)) != SW_OK ||
        (st = sw_daemon_rwout_start(d, err)) != SW_OK)
        return st;
    seen_reset(d);
    publish(d, d->last_tick_ms);
    if ((st = start_http(d, err)) != SW_OK || (st = start_threads(d, err)) != SW_OK)
        return st;
    if ((st = sw_daemon_scrape_start(d, err)) != SW_OK)
        return st;
    if ((st = sw_daemon_query_start(d, err)) != SW_OK || (st = sw_daemon_cw_start(d, err)) != SW_OK)
        return st;
    /* Recorded once everything started: a failed start adds nothing to the history. */
    return sw_store_put_rules(d->store, now, d->rules_text, d->rules_len, err);
}

sw_status
sw_daemon_new(const sw_daemon_options *opts, sw_daemon **ret, sw_err *err)
{
    sw_daemon *d = calloc(1, sizeof *d);
    if (d == NULL) {
        sw_config_free(opts->config);
        return sw_err_set(err, SW_E_NOMEM, "out of memory starting the daemon");
    }
    d->opts = *opts;
    if (d->opts.speed <= 0)
        d->opts.speed = 1;
    d->cfg = opts->config;
    d->sim_until_ms = INT64_MIN;
    d->self.store_ok = true;
    d->self.start_ms = wall_ms();
    pthread_mutex_init(&d->lock, NULL);
    pthread_mutex_init(&d->probe_lock, NULL);
    pthread_mutex_init(&d->rw.lock, NULL);
    pthread_mutex_init(&d->scrape_lock, NULL);
    pthread_mutex_init(&d->emf_lock, NULL);
    pthread_mutex_init(&d->stop_lock, NULL);
    pthread_cond_init(&d->stop_cond, NULL);
    pthread_cond_init(&d->reloaded, NULL);
    d->ingest_sync = d->cfg->ingest_sync;
    d->listen = strdup(d->cfg->listen);
    d->data_dir = strdup(d->cfg->data_dir);
    sw_status st = d->listen != NULL && d->data_dir != NULL
                       ? daemon_start(d, err)
                       : sw_err_set(err, SW_E_NOMEM, "out of memory starting the daemon");
    if (st != SW_OK) {
        bool discard = d->data_dir_created;
        char *dir = d->data_dir;
        d->data_dir = NULL;
        sw_daemon_free(d); /* closes the store before its files go */
        if (discard)
            sw_daemon_data_dir_discard(dir);
        free(dir);
        return st;
    }
    char port[16];
    snprintf(port, sizeof port, "%u", (unsigned)sw_http_port(d->http));
    sw_log(SW_LOG_INFO, "listening", "addr", d->listen, "port", port, "data_dir", d->data_dir,
           NULL);
    *ret = d;
    return SW_OK;
}

uint16_t
sw_daemon_port(const sw_daemon *d)
{
    return sw_http_port(d->http);
}

static void
stop_threads(sw_daemon *d)
{
    pthread_mutex_lock(&d->stop_lock);
    d->stopping = true;
    pthread_cond_broadcast(&d->stop_cond);
    pthread_mutex_unlock(&d->stop_lock);
    pthread_mutex_lock(&d->lock);
    pthread_cond_broadcast(&d->reloaded); /* a reload request waiting gets "shutting down" */
    pthread_mutex_unlock(&d->lock);
    if (d->rollup_started)
        pthread_join(d->rollup_thread, NULL);
    if (d->probe_started)
        pthread_join(d->probe_thread, NULL);
    sw_daemon_scrape_stop(d);
    sw_daemon_query_stop(d);
    sw_daemon_cw_stop(d);
}

static void
free_queues(sw_daemon *d)
{
    for (size_t i = 0; i < d->n_pending; i++) {
        free(d->pending[i].service);
        free(d->pending[i].env);
        sw_sli_interval_fini(&d->pending[i].iv);
    }
    free(d->pending);
    for (size_t i = 0; i < d->n_audits; i++) {
        sw_audit_row *a = &d->audits[i];
        free(a->who);
        free(a->service);
        free(a->env);
        free(a->verdict);
        free(a->json);
    }
    free(d->audits);
    sw_audit_sampler_free(d->audit_sampler);
    sw_report_cache_free(d->report_cache);
    for (size_t i = 0; i < d->n_marks; i++) {
        free(d->marks[i].service);
        free(d->marks[i].env);
    }
    free(d->marks);
}

void
sw_daemon_free(sw_daemon *d)
{
    if (d == NULL)
        return;
    stop_threads(d);
    sw_http_stop(d->http);
    sw_daemon_rwout_stop(d);
    if (d->store != NULL) /* a failed start has no store, and no audits either */
        sw_daemon_flush_audits(d);
    free_queues(d);
    sw_snapshot_unref(d->snapshot);
    sw_probe_free(d->prober);
    sw_am_free(d->am);
    sw_expo_free(d->expo);
    sw_prommap_free(d->prommap);
    sw_emf_map_free(d->emf);
    sw_accum_free(d->accum);
    sw_eval_free(d->ev);
    sw_store_close(d->store);
    sw_rules_free(d->rules);
    free(d->rules_text);
    totals_fini(&d->totals);
    free(d->seen.state);
    free(d->token);
    free(d->listen);
    free(d->data_dir);
    sw_config_free(d->cfg);
    pthread_mutex_destroy(&d->lock);
    pthread_mutex_destroy(&d->probe_lock);
    pthread_mutex_destroy(&d->rw.lock);
    pthread_mutex_destroy(&d->scrape_lock);
    pthread_mutex_destroy(&d->emf_lock);
    pthread_mutex_destroy(&d->stop_lock);
    pthread_cond_destroy(&d->stop_cond);
    pthread_cond_destroy(&d->reloaded);
    free(d);
}
