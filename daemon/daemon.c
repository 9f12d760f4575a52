/*
 * The daemon's lifecycle and its evaluation tick. The tick thread (the caller of
 * sw_daemon_run) owns the evaluator, the accumulators' consumer side, the Alertmanager tracker
 * and the pending rows; HTTP threads read published snapshots and queue marks and audits under
 * the lock; the rollup thread only calls the (thread-safe) store.
 *
 * This file holds the clocks, the series' totals, ingest, alert and trigger events, the tick and
 * the run loop; the pending rows, their store and the journal's compaction are in
 * daemon_store.c; start-up and shutdown are in daemon_setup.c, the probe and
 * rollup threads and reload in daemon_reload.c.
 */
#include "daemon_int.h"

#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "slawatch/hash.h"
#include "slawatch/log.h"
#include "slawatch/units.h"

/*
 * The longest the tick thread waits between boundaries without looking at its flags: a signal
 * usually reaches it (the main thread, which a process-directed signal prefers) and ends the
 * wait at once, but one handled on another thread is seen only when the wait ends.
 */
#define WAIT_MAX_MS 5000

int64_t
sw_daemon_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double
sw_daemon_mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int64_t
sw_daemon_now(const sw_daemon *d)
{
    return d->opts.clock != NULL ? d->opts.clock(d->opts.clock_ctx) : sw_daemon_wall_ms();
}

void
sw_daemon_wake(sw_daemon *d)
{
    uint64_t one = 1;
    /* Only full (EAGAIN) can fail here, and a full counter wakes the tick all the same. */
    (void)!write(d->wake_fd, &one, sizeof one);
}

int
sw_daemon_signal_fd(const sw_daemon *d)
{
    return d->wake_fd;
}

/*
 * Wait up to ms for a mark or a reload request (sw_daemon_wake) or a signal: between
 * boundaries the tick thread sleeps until it has something to do, not on a short poll (200
 * wake-ups an interval were 3-4 % of its CPU).
 */
static void
wait_for_work(sw_daemon *d, int64_t ms)
{
    struct pollfd p = {.fd = d->wake_fd, .events = POLLIN};
    if (poll(&p, 1, (int)ms) > 0) {
        uint64_t woken;
        (void)!read(d->wake_fd, &woken, sizeof woken); /* the wake-ups so far, taken */
    }
}

/* ------------------------------------------------------------------ totals */

static uint64_t
totals_key(const char *service, const char *env)
{
    uint64_t h = sw_hash_bytes(service, strlen(service) + 1, 0);
    return env == NULL ? h : sw_hash_bytes(env, strlen(env) + 1, h);
}

static bool
totals_is(const sw_metrics_series *s, const char *service, const char *env)
{
    return strcmp(s->service, service) == 0 &&
           (env == NULL ? s->env == NULL : s->env != NULL && strcmp(s->env, env) == 0);
}

/* The series' totals by hash (a tick takes every series: no scan per interval), a scan only
 * when two names share a hash. */
static sw_metrics_series *
totals_find(const sw_totals *t, const char *service, const char *env, uint64_t key)
{
    size_t i;
    if (!sw_u64map_get(&t->index, key, &i))
        return NULL;
    if (totals_is(&t->series[i], service, env))
        return &t->series[i];
    for (i = 0; i < t->n; i++)
        if (totals_is(&t->series[i], service, env))
            return &t->series[i];
    return NULL;
}

static sw_metrics_series *
totals_of(sw_daemon *d, const char *service, const char *env)
{
    sw_totals *t = &d->totals;
    uint64_t key = totals_key(service, env);
    sw_metrics_series *found = totals_find(t, service, env, key);
    if (found != NULL)
        return found;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        sw_metrics_series *s = realloc(t->series, cap * sizeof *s);
        if (s == NULL)
            return NULL;
        t->series = s;
        t->cap = cap;
    }
    size_t first;
    bool indexed = !sw_u64map_get(&t->index, key, &first); /* else a namesake by hash is */
    if (indexed && sw_u64map_put(&t->index, key, t->n, NULL) != SW_OK)
        return NULL;
    sw_metrics_series *s = &t->series[t->n];
    *s = (sw_metrics_series){.service = strdup(service), .env = env ? strdup(env) : NULL};
    if (s->service == NULL || (env != NULL && s->env == NULL)) {
        free((char *)s->service);
        free((char *)s->env);
        if (indexed)
            sw_u64map_del(&t->index, key);
        return NULL;
    }
    t->n++;
    return s;
}

void
sw_daemon_totals_rebound(sw_totals *t, const sw_rules *rules)
{
    sw_err err;
    sw_metrics_bounds *b;
    if (sw_metrics_bounds_new(rules, &b, &err) != SW_OK) {
        sw_log_err(SW_LOG_ERROR, "latency totals keep their bounds", &err, NULL);
        return;
    }
    sw_metrics_bounds_free(t->bounds);
    t->bounds = b;
    t->bounds_rules = rules;
    size_t reset = 0;
    for (size_t i = 0; i < t->n; i++) {
        sw_expo_totals *lt = (sw_expo_totals *)t->series[i].latency_totals;
        if (lt == NULL)
            continue;
        const double *le;
        size_t n_le = sw_metrics_bounds_of_key(b, rules, t->series[i].service, &le);
        bool was_reset;
        if (sw_expo_totals_set_bounds(lt, le, n_le, &was_reset, &err) != SW_OK)
            sw_log_err(SW_LOG_ERROR, "latency totals keep their bounds", &err, "service",
                       t->series[i].service, NULL);
        reset += was_reset;
    }
    if (reset == 0)
        return;
    char count[24];
    snprintf(count, sizeof count, "%zu", reset);
    sw_log(SW_LOG_INFO, "latency buckets changed: those series' histograms start again", "count",
           count, NULL);
}

/* A series' latency totals, made at its first latency at its service's bounds. */
static void
latency_totals_add(sw_daemon *d, sw_metrics_series *s, const sw_hdr *latency)
{
    sw_totals *t = &d->totals;
    sw_err err;
    if (t->bounds == NULL || t->bounds_rules != d->rules)
        sw_daemon_totals_rebound(t, d->rules);
    if (s->latency_totals == NULL && t->bounds != NULL) {
        const double *le;
        size_t n_le = sw_metrics_bounds_of_key(t->bounds, d->rules, s->service, &le);
        sw_expo_totals *lt;
        if (sw_expo_totals_new(le, n_le, &lt, &err) != SW_OK) {
            sw_log_err(SW_LOG_ERROR, "latency totals lost", &err, "service", s->service, NULL);
            return;
        }
        s->latency_totals = lt;
    }
    if (s->latency_totals != NULL &&
        sw_expo_totals_add((sw_expo_totals *)s->latency_totals, latency, &err) != SW_OK)
        sw_log_err(SW_LOG_ERROR, "latency totals lost", &err, "service", s->service, NULL);
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
    if (iv->latency != NULL)
        latency_totals_add(d, s, iv->latency);
    return s;
}

size_t
sw_daemon_totals_drop(sw_totals *t, sw_daemon_series_gone_fn gone, void *ctx)
{
    /* The new index first: without memory for it, nothing changes. */
    sw_u64map index;
    sw_u64map_init(&index);
    size_t kept = 0, first;
    for (size_t i = 0; i < t->n; i++) {
        const sw_metrics_series *s = &t->series[i];
        if (gone(ctx, s->service, s->env))
            continue;
        uint64_t key = totals_key(s->service, s->env);
        if (!sw_u64map_get(&index, key, &first) &&
            sw_u64map_put(&index, key, kept, NULL) != SW_OK) {
            sw_u64map_fini(&index);
            return 0;
        }
        kept++;
    }
    size_t dropped = t->n - kept;
    kept = 0;
    for (size_t i = 0; i < t->n && dropped > 0; i++) {
        sw_metrics_series *s = &t->series[i];
        if (!gone(ctx, s->service, s->env)) {
            t->series[kept++] = *s;
            continue;
        }
        free((char *)s->service);
        free((char *)s->env);
        sw_expo_totals_free((sw_expo_totals *)s->latency_totals);
    }
    if (dropped > 0) {
        t->n = kept;
        sw_u64map_fini(&t->index);
        t->index = index;
    } else {
        sw_u64map_fini(&index);
    }
    return dropped;
}

void
sw_daemon_totals_fini(sw_totals *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free((char *)t->series[i].service);
        free((char *)t->series[i].env);
        sw_expo_totals_free((sw_expo_totals *)t->series[i].latency_totals);
    }
    free(t->series);
    sw_metrics_bounds_free(t->bounds);
    sw_u64map_fini(&t->index);
}

/* ------------------------------------------------------------------ ingest */

/* An ended interval: into the evaluator, the totals and the rows to store. */
sw_status
sw_daemon_ingest(void *ctx, const char *service, const char *env, sw_sli_interval *iv, sw_err *err)
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
    sw_status st = sw_daemon_pending_push(d, service, env, iv, err);
    sw_sli_interval_fini(iv);
    return st;
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

/* A tick's alert and trigger changes, written to the store in one transaction. */
typedef struct tick_events {
    sw_store_event *e;
    size_t n, cap;
} tick_events;

static void
record_event(tick_events *ev, const char *kind, const char *name, const sw_series_result *sr,
             const char *state, int64_t at_ms, double value)
{
    char measured[40];
    snprintf(measured, sizeof measured, "%g", value);
    sw_log(strcmp(state, "firing") == 0 ? SW_LOG_WARN : SW_LOG_INFO,
           strcmp(kind, "trigger") == 0 ? "rollback trigger fired" : "alert state changed", "name",
           name, "service", sr->service, "env", sr->env ? sr->env : "", "state", state, "measured",
           measured, NULL);
    if (ev->n == ev->cap) {
        size_t cap = ev->cap ? 2 * ev->cap : 64;
        sw_store_event *grown = realloc(ev->e, cap * sizeof *grown);
        if (grown == NULL) {
            sw_log(SW_LOG_ERROR, "alert event not stored: out of memory", "name", name, NULL);
            return;
        }
        ev->e = grown;
        ev->cap = cap;
    }
    /* The names belong to the rules and the evaluator, which outlive the tick. */
    ev->e[ev->n++] = (sw_store_event){kind, name, sr->service, sr->env, state, at_ms, value};
}

static void
store_events(sw_daemon *d, tick_events *ev)
{
    sw_err err;
    if (ev->n > 0 && sw_store_put_events(d->store, ev->e, ev->n, &err) != SW_OK)
        sw_log_err(SW_LOG_ERROR, "alert events not stored", &err, NULL);
    free(ev->e);
}

/* The remembered state of one alert or trigger of series i, growing the table as needed. */
static uint8_t *
seen_slot(sw_daemon *d, size_t i, size_t k)
{
    if (d->seen.per == 0)
        for (size_t svc = 0; svc < d->rules->n_services; svc++) {
            const sw_rules *own = sw_rules_of_service(d->rules, svc);
            if (own->n_alerts + own->n_triggers > d->seen.per)
                d->seen.per = own->n_alerts + own->n_triggers;
        }
    size_t per = d->seen.per;
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
observe_series(sw_daemon *d, tick_events *ev, size_t i, int64_t now_ms)
{
    sw_series_result sr;
    sw_eval_series(d->ev, i, &sr);
    const sw_rules *r = sr.rules;
    for (size_t a = 0; a < r->n_alerts; a++) {
        uint8_t *seen = seen_slot(d, i, a);
        bool firing = sr.alerts[a].state == SW_ALERT_FIRING;
        if (seen != NULL && firing != (*seen != 0)) {
            record_event(ev, "alert", r->alerts[a].name, &sr, firing ? "firing" : "resolved",
                         now_ms, sr.alerts[a].measured);
            *seen = firing;
        }
        if (d->am != NULL)
            sw_am_observe_alert(d->am, r, sr.service, sr.env, &sr.alerts[a], now_ms, NULL);
    }
    for (size_t t = 0; t < r->n_triggers; t++) {
        uint8_t *seen = seen_slot(d, i, r->n_alerts + t);
        bool fired = sr.triggers[t].fired;
        if (seen != NULL && fired != (*seen != 0)) {
            if (fired)
                record_event(ev, "trigger", r->triggers[t].name, &sr, "firing",
                             sr.triggers[t].fired_at_ms, NAN);
            *seen = fired;
        }
        if (d->am != NULL)
            sw_am_observe_trigger(d->am, sr.service, sr.env, &sr.triggers[t], now_ms, NULL);
    }
}

/* The tick's alert and trigger changes into ev, and every state to the Alertmanager tracker. */
static void
observe_alerts(sw_daemon *d, tick_events *ev, int64_t now_ms)
{
    for (size_t i = 0; i < sw_eval_series_count(d->ev); i++)
        observe_series(d, ev, i, now_ms);
}

/* The changes stored and the alerts pushed: after the write section, nothing reads them. */
static void
report_alerts(sw_daemon *d, tick_events *ev, int64_t now_ms)
{
    store_events(d, ev);
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
void
sw_daemon_seen_reset(sw_daemon *d)
{
    free(d->seen.state);
    d->seen = (sw_seen){0};
    for (size_t i = 0; i < sw_eval_series_count(d->ev); i++) {
        sw_series_result sr;
        sw_eval_series(d->ev, i, &sr);
        const sw_rules *r = sr.rules;
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

/* Publish the snapshot s: swapped in under the lock, then handed to remote write and the hook. */
static void
publish(sw_daemon *d, sw_snapshot *s, int64_t now_ms)
{
    pthread_mutex_lock(&d->lock);
    sw_snapshot *old = d->snapshot;
    d->snapshot = s;
    pthread_mutex_unlock(&d->lock);
    sw_snapshot_unref(old);
    sw_daemon_rwout_snapshot(d, s, now_ms);
    if (d->opts.on_tick != NULL)
        d->opts.on_tick(d->opts.hook_ctx, s);
}

/* The snapshot of now_ms: names and copies only, every answer computed when asked for. */
static sw_snapshot *
build_snapshot(sw_daemon *d, int64_t now_ms)
{
    sw_daemon_end_series(d, false); /* before the snapshot names the totals */
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
    sw_daemon_report_sched_self(d, &d->self);
    sw_metrics_input mi = {.series = d->totals.series, .n_series = d->totals.n, .self = &d->self};
    sw_daemon_targets targets;
    sw_daemon_scrape_targets(d, &mi, &targets);
    sw_daemon_label_values(d, &mi);
    sw_snapshot_input in = {d->ev, d->rules, now_ms, &mi, d->source};
    sw_snapshot *s;
    sw_err err;
    sw_status built = sw_snapshot_build(&in, &s, &err);
    sw_daemon_scrape_targets_free(&targets);
    free((void *)mi.label_values);
    if (built != SW_OK) {
        sw_log_err(SW_LOG_ERROR, "snapshot not built", &err, NULL);
        return NULL;
    }
    return s;
}

void
sw_daemon_publish(sw_daemon *d, int64_t now_ms)
{
    sw_snapshot *s = build_snapshot(d, now_ms);
    if (s != NULL)
        publish(d, s, now_ms);
}

/* The stages of a tick, in SW_METRICS_TICK_STAGE_NAMES order. */
enum { STAGE_INGEST, STAGE_STORE, STAGE_EVALUATE, STAGE_SNAPSHOT, STAGE_PUBLISH };

/* Stage took from *t to now (returned); *t moves on to now. */
static double
stage_done(double stages[SW_METRICS_TICK_STAGES], int stage, double *t)
{
    double now = sw_daemon_mono_s();
    stages[stage] = now - *t;
    *t = now;
    return now;
}

/* A row's service when the evaluator refused its interval (not evaluated, not stored), and while
 * its series is still to be added. */
#define ROW_REFUSED SIZE_MAX
#define ROW_NEW (SIZE_MAX - 1)

/* The intervals a tick takes, with the service each is for (sw_eval_step_series). */
typedef struct tick_rows {
    sw_pending_row *row;
    size_t *service; /* or ROW_REFUSED, ROW_NEW */
    size_t *order;   /* indices of the rows evaluated (n_ordered), by service */
    size_t n, cap, n_ordered;
} tick_rows;

static sw_status
take_row(void *ctx, const char *service, const char *env, sw_sli_interval *iv,
         sw_accum_encoding *latency, sw_err *err)
{
    tick_rows *t = ctx;
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 256;
        sw_pending_row *grown = realloc(t->row, cap * sizeof *grown);
        if (grown == NULL) {
            sw_sli_interval_fini(iv);
            return sw_err_set(err, SW_E_NOMEM, "out of memory taking intervals");
        }
        t->row = grown;
        t->cap = cap;
    }
    sw_pending_row *r = &t->row[t->n];
    r->service = strdup(service);
    r->env = env != NULL ? strdup(env) : NULL;
    if (r->service == NULL || (env != NULL && r->env == NULL)) {
        free(r->service);
        free(r->env);
        sw_sli_interval_fini(iv);
        return sw_err_set(err, SW_E_NOMEM, "out of memory taking intervals");
    }
    r->iv = *iv; /* takes the histogram and its encoding */
    *iv = (sw_sli_interval){0};
    r->latency = *latency;
    *latency = (sw_accum_encoding){0};
    t->n++;
    return SW_OK;
}

static void
tick_rows_free(tick_rows *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->row[i].service);
        free(t->row[i].env);
        sw_sli_interval_fini(&t->row[i].iv);
        free(t->row[i].latency.data);
    }
    free(t->row);
    free(t->service);
    free(t->order);
}

/*
 * The intervals that ended by boundary_ms, taken from the accumulators (their own lock: no
 * write section needed) into rows fed to the evaluator by the tick's steps.
 */
static void
take(sw_daemon *d, int64_t boundary_ms, tick_rows *rows)
{
    sw_err err;
    if (d->opts.simulate != NULL)
        simulate(d, boundary_ms);
    /* Closed before the take, so no batch is acknowledged into an interval already taken. */
    sw_accum_close(d->accum, boundary_ms);
    if (sw_prommap_flush(d->prommap, boundary_ms, &err) != SW_OK)
        sw_log_err(SW_LOG_ERROR, "histogram buckets lost", &err, NULL);
    if (sw_accum_take_encoded(d->accum, boundary_ms, take_row, rows, &err) != SW_OK)
        sw_log_err(SW_LOG_ERROR, "ended intervals not all taken", &err, NULL);
}

static void
not_evaluated(const sw_pending_row *r, const sw_err *err)
{
    sw_log_err(SW_LOG_WARN, "interval not evaluated", err, "service", r->service, "env",
               r->env ? r->env : "", NULL);
}

/* Row i's service, its series added when new (closed: the series table changes); ROW_REFUSED and
 * logged when the evaluator refuses it. */
static void
row_series(sw_daemon *d, tick_rows *rows, size_t i)
{
    sw_pending_row *r = &rows->row[i];
    sw_err err;
    if (sw_eval_step_series(d->ev, r->service, r->env, &rows->service[i], &err) != SW_OK) {
        not_evaluated(r, &err);
        rows->service[i] = ROW_REFUSED;
    }
}

/*
 * Each row's service found, and the rows ordered by service. The series held are looked up
 * with the section open (read only: gate answers go on); the section is closed only to add the
 * new ones, usually none. Left closed. false: out of memory.
 */
static bool
rows_by_service(sw_daemon *d, tick_rows *rows)
{
    rows->service = calloc(rows->n + 1, sizeof *rows->service);
    rows->order = calloc(rows->n + 1, sizeof *rows->order);
    size_t n_services = d->rules->n_services;
    size_t *first = calloc(n_services + 2, sizeof *first);
    if (rows->service == NULL || rows->order == NULL || first == NULL) {
        free(first);
        return false;
    }
    sw_snapshot_source_open(d->source);
    size_t n_new = 0;
    for (size_t i = 0; i < rows->n; i++) {
        ptrdiff_t k = sw_eval_step_held(d->ev, rows->row[i].service, rows->row[i].env);
        rows->service[i] = k >= 0 ? (size_t)k : ROW_NEW;
        n_new += k < 0;
    }
    sw_snapshot_source_close(d->source);
    for (size_t i = 0; n_new > 0 && i < rows->n; i++)
        if (rows->service[i] == ROW_NEW)
            row_series(d, rows, i);
    for (size_t i = 0; i < rows->n; i++)
        if (rows->service[i] != ROW_REFUSED)
            first[rows->service[i] + 1]++;
    for (size_t k = 0; k < n_services; k++)
        first[k + 1] += first[k];
    for (size_t i = 0; i < rows->n; i++)
        if (rows->service[i] != ROW_REFUSED) {
            rows->order[first[rows->service[i]]++] = i;
            rows->n_ordered++;
        }
    free(first);
    return true;
}

/* Row i fed to the evaluator; ROW_REFUSED its service when refused. */
static void
feed_row(sw_daemon *d, tick_rows *rows, size_t i)
{
    sw_pending_row *r = &rows->row[i];
    sw_err err;
    if (sw_eval_add(d->ev, r->service, r->env, &r->iv, &err) != SW_OK) {
        not_evaluated(r, &err);
        rows->service[i] = ROW_REFUSED;
    }
}

/*
 * Service by service (in the source's stripe of each, the write section open): its rows fed,
 * then its series evaluated at boundary_ms, so that a gate answer computed meanwhile reads a
 * service either as the last tick left it or as this one leaves it.
 */
static void
step_services(sw_daemon *d, tick_rows *rows)
{
    size_t j = 0;
    for (size_t k = 0; k < d->rules->n_services; k++) {
        sw_snapshot_source_service_begin(d->source, k);
        for (; j < rows->n_ordered && rows->service[rows->order[j]] == k; j++)
            feed_row(d, rows, rows->order[j]);
        sw_err err;
        if (sw_eval_step_service(d->ev, k, &err) != SW_OK)
            sw_log_err(SW_LOG_ERROR, "evaluation failed", &err, NULL);
        sw_snapshot_source_service_end(d->source, k);
    }
}

/* Rows the evaluator took into the totals, remote write and the rows to store. */
static void
rows_to_store(sw_daemon *d, tick_rows *rows)
{
    for (size_t i = 0; i < rows->n; i++) {
        sw_pending_row *r = &rows->row[i];
        if (rows->service[i] == ROW_REFUSED)
            continue;
        const sw_metrics_series *total = totals_add(d, r->service, r->env, &r->iv);
        if (total != NULL)
            sw_daemon_rwout_add(d, total, r->iv.start_ms + r->iv.length_ms);
        sw_err err;
        if (sw_daemon_pending_move(d, r, &err) != SW_OK)
            sw_log_err(SW_LOG_ERROR, "interval not stored", &err, "service", r->service, NULL);
    }
}

/* Without room to step (out of memory): every row fed, then one advance, the section closed. */
static void
feed_and_advance(sw_daemon *d, tick_rows *rows, int64_t boundary_ms)
{
    sw_err err;
    for (size_t i = 0; i < rows->n; i++)
        if (rows->service == NULL || rows->service[i] != ROW_REFUSED)
            sw_daemon_ingest(d, rows->row[i].service, rows->row[i].env, &rows->row[i].iv, &err);
    if (sw_eval_advance(d->ev, boundary_ms, &err) != SW_OK)
        sw_log_err(SW_LOG_ERROR, "evaluation failed", &err, NULL);
}

/* The rows fed and evaluated at boundary_ms, the write section open while the services step. */
static void
evaluate(sw_daemon *d, tick_rows *rows, int64_t boundary_ms)
{
    sw_err err;
    sw_daemon_apply_marks(d);
    if (!rows_by_service(d, rows) || sw_eval_step_begin(d->ev, boundary_ms, &err) != SW_OK) {
        sw_log(SW_LOG_ERROR, "no room to evaluate service by service; evaluating at once", NULL);
        feed_and_advance(d, rows, boundary_ms);
        return;
    }
    sw_snapshot_source_open(d->source);
    step_services(d, rows);
    rows_to_store(d, rows);
    sw_snapshot_source_close(d->source);
    if (sw_eval_step_end(d->ev, &err) != SW_OK)
        sw_log_err(SW_LOG_ERROR, "evaluation failed", &err, NULL);
    /* After the advance, which packs the hours; again for the pinned series' answers. */
    if (sw_daemon_cw_pin_hours(d, boundary_ms) &&
        sw_eval_advance(d->ev, boundary_ms, &err) != SW_OK)
        sw_log_err(SW_LOG_ERROR, "evaluation failed", &err, NULL);
}

/* The snapshot just published answers the questions likely to come (after the write section). */
void
sw_daemon_prepare_published(sw_daemon *d)
{
    if (d->snapshot != NULL) /* only this thread sets it */
        sw_snapshot_prepare(d->snapshot);
}

/*
 * One tick, timed by stage for the self-metrics (a tick's figures appear in the next tick's
 * snapshot: this one's is built before the tick ends). What changes what snapshots read (the
 * evaluator, the totals) happens in one write section of the snapshot source, which ends once
 * the new snapshot is published, so a reader that was kept waiting finds it. The section is
 * closed to the gate only while the series table changes (deployment marks, new series, label
 * values forgotten) and open while the services are fed and evaluated one by one. What readers
 * do not read runs outside it: the take from the accumulators before; the store's transaction,
 * the alert events, Alertmanager and the gate audits after.
 */
void
sw_daemon_tick(sw_daemon *d, int64_t boundary_ms)
{
    double stages[SW_METRICS_TICK_STAGES];
    double start = sw_daemon_mono_s(), t = start;
    tick_rows rows = {0};
    tick_events events = {0};
    take(d, boundary_ms, &rows);
    sw_snapshot_source_write_begin_stepwise(d->source);
    stage_done(stages, STAGE_INGEST, &t);
    evaluate(d, &rows, boundary_ms);
    sw_snapshot_source_open(d->source);
    observe_alerts(d, &events, boundary_ms);
    d->self.evaluations++;
    d->self.evaluation_seconds = stage_done(stages, STAGE_EVALUATE, &t) - start;
    sw_snapshot *s = build_snapshot(d, boundary_ms);
    stage_done(stages, STAGE_SNAPSHOT, &t);
    if (s != NULL)
        publish(d, s, boundary_ms);
    d->last_tick_ms = boundary_ms;
    sw_snapshot_source_write_end(d->source);
    stage_done(stages, STAGE_PUBLISH, &t);
    tick_rows_free(&rows);
    sw_daemon_store_and_compact(d, boundary_ms);
    report_alerts(d, &events, boundary_ms);
    sw_daemon_flush_audits(d);
    stage_done(stages, STAGE_STORE, &t);
    /* The snapshot's likely answers, once no one waits for the section. */
    sw_daemon_prepare_published(d);
    double snapshot_built = stages[STAGE_SNAPSHOT];
    d->self.tick_seconds = stage_done(stages, STAGE_SNAPSHOT, &t) - start;
    stages[STAGE_SNAPSHOT] += snapshot_built;
    memcpy(d->self.tick_stage_seconds, stages, sizeof stages);
    /* After the write section: snapshots are not held up while the state is written. */
    sw_daemon_checkpoint_hourly(d, boundary_ms);
}

/*
 * Deployment marks are answered for at once, not at the next boundary: a pipeline asks the
 * gate right after marking, and after a start the next boundary can be ingest_delay away. The
 * evaluation stays at the last boundary; only the marks' effects (the gate's window and state,
 * cleared latches) are published.
 */
static void
honour_marks(sw_daemon *d)
{
    pthread_mutex_lock(&d->lock);
    bool waiting = d->n_marks > 0; /* only the tick thread takes them */
    pthread_mutex_unlock(&d->lock);
    if (!waiting)
        return;
    sw_snapshot_source_write_begin_stepwise(d->source);
    sw_daemon_apply_marks(d);
    sw_err err;
    if (sw_eval_advance(d->ev, d->last_tick_ms, &err) != SW_OK)
        sw_log_err(SW_LOG_ERROR, "evaluation failed", &err, NULL);
    sw_snapshot_source_open(d->source); /* only read from here on */
    sw_daemon_publish(d, d->last_tick_ms);
    sw_snapshot_source_write_end(d->source);
    sw_daemon_prepare_published(d);
}

/*
 * End a write section that may not have published (a refused reload, the last intervals at
 * shutdown): the snapshot in force can no longer compute, so its successor is published.
 */
static void
write_end_published(sw_daemon *d, const sw_snapshot *before)
{
    if (d->snapshot == before) /* only this thread sets it */
        sw_daemon_publish(d, d->last_tick_ms);
    sw_snapshot_source_write_end(d->source);
}

/* A reload replaces the evaluator and the rules that snapshots read (sw_daemon_reload: built
 * first, swapped in a write section of its own). */
static void
reload_if_asked(sw_daemon *d, volatile sig_atomic_t *reload_flag)
{
    if (*reload_flag) {
        *reload_flag = 0;
        sw_err err;
        sw_daemon_reload(d, &err);
    }
    sw_daemon_serve_reload_request(d);
}

/* ------------------------------------------------------------------ running */

/* Late sources (remote write batches, queries) need ingest_delay (sw_daemon_check_arrivals). */
int64_t
sw_daemon_take_grace_ms(const sw_daemon *d)
{
    return sw_daemon_take_delay_ms(d->cfg, d->rules);
}

/* Take the intervals that ended by until_ms for the store, without evaluating them. */
static void
store_unjudged(sw_daemon *d, int64_t until_ms)
{
    sw_err err;
    sw_accum_close(d->accum, until_ms);
    if (sw_prommap_flush(d->prommap, until_ms, &err) != SW_OK)
        sw_log_err(SW_LOG_ERROR, "histogram buckets lost", &err, NULL);
    if (sw_accum_take(d->accum, until_ms, sw_daemon_ingest, d, &err) != SW_OK)
        sw_log_err(SW_LOG_ERROR, "ended intervals not all taken", &err, NULL);
}

void
sw_daemon_run(sw_daemon *d, volatile sig_atomic_t *stop, volatile sig_atomic_t *reload_flag)
{
    uint_least64_t grace_of = UINT_LEAST64_MAX; /* the rule set grace was worked out for */
    int64_t grace = 0;
    while (!*stop) {
        /* A walk over the services: once per rule set, not at each of the 200 wake-ups of an
         * interval (2 % of the tick thread at 1,000 services). */
        uint_least64_t version = atomic_load(&d->rules_version);
        if (version != grace_of) {
            grace = sw_daemon_take_grace_ms(d);
            grace_of = version;
        }
        reload_if_asked(d, reload_flag);
        honour_marks(d);
        int64_t now = sw_daemon_now(d);
        int64_t boundary = now - grace - ((now - grace) % d->base_ms);
        if (boundary > d->last_tick_ms) {
            sw_daemon_tick(d, boundary);
            continue;
        }
        int64_t wait = (int64_t)((double)(boundary + d->base_ms + grace - now) / d->opts.speed);
        wait_for_work(d, wait < WAIT_MAX_MS ? (wait > 0 ? wait : 1) : WAIT_MAX_MS);
    }
    /* Evaluate only what is complete under the grace, as every tick does: the intervals after
     * it may still be missing late data, and judging them would record false resolutions.
     * Those that have ended are stored all the same; the open intervals stay in the journal,
     * synced by the compaction, and are merged back at the next start. */
    int64_t now = sw_daemon_now(d);
    grace = sw_daemon_take_grace_ms(d); /* a reload may have come with the stop */
    int64_t boundary = now - grace - ((now - grace) % d->base_ms);
    if (boundary > d->last_tick_ms)
        sw_daemon_tick(d, boundary);
    int64_t ended = now - now % d->base_ms;
    sw_snapshot_source_write_begin(d->source); /* the totals grow */
    const sw_snapshot *before = d->snapshot;
    store_unjudged(d, ended);
    write_end_published(d, before);
    int64_t stored_until = ended > d->last_tick_ms ? ended : d->last_tick_ms;
    sw_daemon_store_and_compact(d, stored_until);
    sw_daemon_checkpoint(d, stored_until);
    sw_log(SW_LOG_INFO, "stopped", NULL);
}
