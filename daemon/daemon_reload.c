/*
 * The probe and rollup threads, and reloading the configuration and rules (SIGHUP,
 * POST /-/reload) on the tick thread: everything is built first, then swapped in; the totals of
 * the series that ended (a reload, a label value forgotten) dropped.
 */
#include "daemon_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "slawatch/log.h"
#include "slawatch/thread_prio.h"
#include "slawatch/units.h"

#define ROLLUP_EVERY_MS 60000

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

void *
sw_daemon_probe_loop(void *arg)
{
    sw_daemon *d = arg;
    sw_thread_prio_set("sw-probe", 0); /* probes are timed: at the gate's priority */
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

sw_status
sw_daemon_probes_for(sw_daemon *d, const sw_rules *rules, sw_probe **ret, sw_err *err)
{
    *ret = NULL;
    for (size_t i = 0; i < rules->n_services; i++)
        if (rules->services[i].health.kind == SW_SOURCE_PROBE)
            return sw_probe_new_from_rules(rules, sw_daemon_now(d), (uint64_t)sw_daemon_wall_ms(),
                                           ret, err);
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

void *
sw_daemon_rollup_loop(void *arg)
{
    sw_daemon *d = arg;
    sw_thread_prio_set("sw-rollup", d->background_nice);
    prune_records(d);
    while (sw_daemon_nap(d, ROLLUP_EVERY_MS)) {
        sw_err err;
        if (sw_store_rollup(d->store, sw_daemon_now(d), &err) != SW_OK)
            sw_log_err(SW_LOG_WARN, "rollup failed; retrying later", &err, NULL);
        prune_records(d);
    }
    return NULL;
}

/* ------------------------------------------------------------------ series that end */

/* A label value's series the evaluator no longer holds (a plain series is never forgotten). */
static bool
value_forgotten(void *ctx, const char *key, const char *env)
{
    const sw_daemon *d = ctx;
    sw_rules_by_parts parts;
    return sw_rules_by_split(key, &parts) && !sw_eval_has_series(d->ev, key, env);
}

/* After a reload, also a series the rules no longer resolve (its service, environment or by
 * gone). */
static bool
series_ended(void *ctx, const char *key, const char *env)
{
    const sw_daemon *d = ctx;
    ptrdiff_t i = sw_rules_series_service(d->rules, key, NULL);
    if (i < 0)
        return true;
    const sw_service *s = &d->rules->services[i];
    bool env_known = env == NULL;
    for (size_t e = 0; !env_known && e < s->n_environments; e++)
        env_known = strcmp(s->environments[e], env) == 0;
    return !env_known || value_forgotten(ctx, key, env);
}

void
sw_daemon_end_series(sw_daemon *d, bool reloaded)
{
    uint64_t aged = sw_eval_values_aged(d->ev);
    if (!reloaded && aged == d->values_aged_ended)
        return;
    d->values_aged_ended = aged;
    size_t n = sw_daemon_totals_drop(&d->totals, reloaded ? series_ended : value_forgotten, d);
    if (n == 0)
        return;
    char count[24];
    snprintf(count, sizeof count, "%zu", n);
    sw_log(SW_LOG_INFO, "series ended: their totals left /metrics", "count", count, NULL);
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
    /* Where to listen, where the data lives and the shard need a restart; flags keep winning. */
    (*ret)->listen = d->listen;
    (*ret)->data_dir = d->data_dir;
    (*ret)->shard = d->shard;
    return SW_OK;
}

static void
swap_probes(sw_daemon *d, const sw_rules *rules)
{
    sw_probe *p;
    sw_err err;
    if (sw_daemon_probes_for(d, rules, &p, &err) != SW_OK) {
        sw_log_err(SW_LOG_ERROR, "probes not started", &err, NULL);
        p = NULL;
    }
    pthread_mutex_lock(&d->probe_lock);
    sw_probe *old = d->prober;
    d->prober = p;
    pthread_mutex_unlock(&d->probe_lock);
    sw_probe_free(old);
}

/* What a reload builds before anything is swapped. */
typedef struct reload_built {
    sw_config *cfg; /* NULL: the options' rules text, the configuration kept */
    sw_rules *rules;
    sw_eval *ev;
    char *text;
    size_t len;
    int64_t now_ms;
} reload_built;

/*
 * The new configuration, rules and evaluator, built outside any write section: only the tick
 * thread (this one) changes the evaluator and the store's pending rows, so the readers go on
 * answering from the old ones meanwhile. A rebuild of thousands of services takes seconds, and
 * in a write section a gate question whose answer the snapshot in force had not kept waited
 * for it and was answered 503 busy (integration-serve-reload-large).
 */
static sw_status
reload_build(sw_daemon *d, reload_built *b, sw_err *err)
{
    *b = (reload_built){.now_ms = sw_daemon_now(d)};
    sw_status st = d->opts.rules_text == NULL ? load_config_again(d, &b->cfg, err) : SW_OK;
    if (st == SW_OK)
        st = sw_daemon_load_rules(d, b->cfg != NULL ? b->cfg : d->cfg, true, &b->rules, &b->text,
                                  &b->len, err);
    if (st == SW_OK) { /* against the query source as it runs: it keeps its start's settings */
        sw_config running = *(b->cfg != NULL ? b->cfg : d->cfg);
        running.query = d->cfg->query;
        st = sw_daemon_check_arrivals(&running, b->rules, NULL, err);
    }
    if (st == SW_OK) {
        sw_daemon_store_flush(d, d->last_tick_ms); /* the rebuild reads the store: it must hold
                                                    * everything ingested */
        st = sw_daemon_rebuild(d, b->rules, d->last_tick_ms, &b->ev, err);
    }
    if (st != SW_OK) {
        sw_config_free(b->cfg);
        sw_rules_free(b->rules);
        free(b->text);
        d->self.reload_errors++;
        sw_log_err(SW_LOG_ERROR, "reload failed; keeping the previous configuration", err, NULL);
    }
    return st;
}

/* What b built swapped in, in a write section, and published. */
static void
reload_install(sw_daemon *d, reload_built *b)
{
    sw_err store_err;
    if (sw_store_put_rules(d->store, b->now_ms, b->text, b->len, &store_err) != SW_OK)
        sw_log_err(SW_LOG_WARN, "rules history not recorded", &store_err, NULL);
    swap_probes(d, b->rules);
    sw_err scrape_err;
    if (b->cfg != NULL && sw_daemon_scrape_reload(d, b->cfg, &scrape_err) != SW_OK)
        sw_log_err(SW_LOG_ERROR, "scrape jobs not reloaded; the previous ones go on", &scrape_err,
                   NULL);
    sw_err map_err;
    if (sw_prommap_set_rules(d->prommap, b->rules, &map_err) != SW_OK)
        sw_log_err(SW_LOG_ERROR, "Prometheus selectors not updated", &map_err, NULL);
    sw_daemon_query_set_rules(d, b->rules);
    sw_emf_map *emf = NULL;
    sw_err emf_err;
    if (sw_emf_map_new(b->rules, &emf, &emf_err) != SW_OK)
        sw_log_err(SW_LOG_ERROR, "EMF targets not updated", &emf_err, NULL);
    else {
        pthread_mutex_lock(&d->emf_lock);
        sw_emf_map_free(d->emf);
        d->emf = emf;
        pthread_mutex_unlock(&d->emf_lock);
    }
    sw_daemon_cw_set_rules(d, b->rules);
    sw_eval_free(d->ev);
    sw_rules_free(d->rules);
    free(d->rules_text);
    d->ev = b->ev;
    d->rules = b->rules;
    d->rules_text = b->text;
    atomic_fetch_add(&d->rules_version, 1);
    d->rules_len = b->len;
    if (b->cfg != NULL) {
        sw_config_free(d->cfg);
        d->cfg = b->cfg;
    }
    sw_daemon_seen_reset(d);
    sw_daemon_end_series(d, true);
    sw_daemon_totals_rebound(&d->totals, d->rules);
    d->self.reloads++;
    /* Answer with the new rules at once: until the next tick the old snapshot would serve. */
    sw_daemon_publish(d, d->last_tick_ms);
    sw_log(SW_LOG_INFO, "configuration and rules reloaded", NULL);
}

/* Everything new is built first; only then is the old swapped out (in a write section of its
 * own), so a bad file changes nothing. */
sw_status
sw_daemon_reload(sw_daemon *d, sw_err *err)
{
    reload_built b;
    sw_status st = reload_build(d, &b, err);
    if (st != SW_OK)
        return st;
    sw_snapshot_source_write_begin(d->source);
    reload_install(d, &b);
    sw_snapshot_source_write_end(d->source);
    sw_daemon_prepare_published(d);
    return SW_OK;
}

/* A reload asked for over HTTP: done here, on the tick thread, and answered through the lock. */
void
sw_daemon_serve_reload_request(sw_daemon *d)
{
    pthread_mutex_lock(&d->lock);
    bool asked = d->reload_requested;
    d->reload_requested = false;
    pthread_mutex_unlock(&d->lock);
    if (!asked)
        return;
    sw_err err = {0};
    sw_status st = sw_daemon_reload(d, &err);
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
    sw_daemon_wake(d);
    while (!d->reload_done && !d->stopping)
        pthread_cond_wait(&d->reloaded, &d->lock);
    sw_status st = d->reload_done ? d->reload_status : SW_E_IO;
    if (st != SW_OK)
        sw_err_set(err, st, "%s", d->reload_done ? d->reload_msg : "shutting down");
    pthread_mutex_unlock(&d->lock);
    return st;
}
