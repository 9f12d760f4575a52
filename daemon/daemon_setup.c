/*
 * Starting and stopping the daemon: secrets and files checked, the store opened, the journal
 * replayed, HTTP, Alertmanager and the threads started (sw_daemon_new); everything stopped and
 * freed in reverse (sw_daemon_free). A failed start frees what it built.
 */
#include "daemon_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "slawatch/cwpct.h"
#include "slawatch/log.h"
#include "slawatch/units.h"

#define SECRET_MAX 4096 /* bytes of a token or password file's first line */

/* Reports written for GET /api/v1/report are served again for a minute: the current month
 * moves every tick, and late data or a backfill may still change past ones. */
#define REPORT_CACHE_ENTRIES 16
#define REPORT_CACHE_BYTES ((size_t)64 << 20)
#define REPORT_CACHE_MS 60000

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
        .checkpoint_in_rollup = true, /* the rollup thread's, not the tick's write section */
    };
    sw_status st = sw_daemon_data_dir_prepare(c->data_dir, &d->data_dir_created, err);
    if (st == SW_OK)
        st = sw_store_open(c->data_dir, &so, &d->store, err);
    if (st == SW_OK) /* hours and days CloudWatch answered as one period pin their rows */
        sw_store_set_pin(d->store, sw_cwpct_pin_stored, NULL);
    return st;
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
        .bulk_workers = c->http_ingest_workers,
        .bulk_waiting = c->http_ingest_queue,
        .render_workers = c->http_render_workers,
        .render_waiting = c->http_render_queue,
        .render_nice = d->background_nice,
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
    if (pthread_create(&d->rollup_thread, NULL, sw_daemon_rollup_loop, d) != 0)
        return sw_err_set(err, SW_E_NOMEM, "cannot start the rollup thread");
    d->rollup_started = true;
    if (pthread_create(&d->probe_thread, NULL, sw_daemon_probe_loop, d) != 0)
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
    sw_status st = sw_daemon_pending_push(ctx, service, env, iv, err);
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
        st = sw_daemon_first_tick(d, sw_daemon_take_grace_ms(d), stored_until, &d->last_tick_ms,
                                  err);
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
    if (!sw_daemon_store_flush(d, d->last_tick_ms))
        return sw_err_set(err, SW_E_IO, "%s: cannot store the intervals the journal gave back",
                          path);
    return sw_accum_journal_compact(d->accum, err);
}

static sw_status
daemon_start(sw_daemon *d, sw_err *err)
{
    sw_status st =
        sw_daemon_load_rules(d, d->cfg, false, &d->rules, &d->rules_text, &d->rules_len, err);
    if (st == SW_OK)
        st = sw_daemon_check_arrivals(d->cfg, d->rules, NULL, err);
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
        (st = sw_snapshot_source_new(&d->source, err)) != SW_OK ||
        (st = sw_daemon_evaluator_start(d, d->last_tick_ms, &d->ev, err)) != SW_OK ||
        (st = start_alertmanager(d, err)) != SW_OK ||
        (st = sw_daemon_probes_for(d, d->rules, &d->prober, err)) != SW_OK ||
        (st = sw_daemon_rwout_start(d, err)) != SW_OK)
        return st;
    sw_daemon_seen_reset(d);
    sw_daemon_publish(d, d->last_tick_ms);
    if ((st = start_http(d, err)) != SW_OK || (st = start_threads(d, err)) != SW_OK)
        return st;
    if ((st = sw_daemon_scrape_start(d, err)) != SW_OK)
        return st;
    if ((st = sw_daemon_query_start(d, err)) != SW_OK || (st = sw_daemon_cw_start(d, err)) != SW_OK ||
        (st = sw_daemon_report_sched_start(d, err)) != SW_OK)
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
    d->background_nice = d->cfg->background_nice;
    d->sim_until_ms = INT64_MIN;
    d->self.store_ok = true;
    d->self.start_ms = sw_daemon_wall_ms();
    pthread_mutex_init(&d->lock, NULL);
    pthread_mutex_init(&d->probe_lock, NULL);
    pthread_mutex_init(&d->rw.lock, NULL);
    pthread_mutex_init(&d->scrape_lock, NULL);
    pthread_mutex_init(&d->emf_lock, NULL);
    pthread_mutex_init(&d->stop_lock, NULL);
    pthread_cond_init(&d->stop_cond, NULL);
    pthread_cond_init(&d->reloaded, NULL);
    d->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    d->ingest_sync = d->cfg->ingest_sync;
    d->shard = d->cfg->shard;
    d->listen = strdup(d->cfg->listen);
    d->data_dir = strdup(d->cfg->data_dir);
    sw_status st = d->wake_fd < 0 ? sw_err_sys(err, SW_E_IO, "cannot make the tick's wake-up")
                   : d->listen != NULL && d->data_dir != NULL
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
    sw_daemon_log_start_note(d);
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
    sw_daemon_report_sched_stop(d);
}

static void
free_queues(sw_daemon *d)
{
    for (size_t i = 0; i < d->n_pending; i++) {
        free(d->pending[i].service);
        free(d->pending[i].env);
        sw_sli_interval_fini(&d->pending[i].iv);
        free(d->pending[i].latency.data);
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
        free(d->marks[i].policy_override);
    }
    free(d->marks);
}

void
sw_daemon_free(sw_daemon *d)
{
    if (d == NULL)
        return;
    stop_threads(d);
    sw_daemon_checkpoint_wait(d);
    sw_http_stop(d->http);
    sw_daemon_rwout_stop(d);
    if (d->store != NULL) /* a failed start has no store, and no audits either */
        sw_daemon_flush_audits(d);
    free_queues(d);
    sw_snapshot_unref(d->snapshot);
    sw_probe_free(d->prober);
    sw_am_free(d->am);
    sw_snapshot_source_free(d->source);
    sw_prommap_free(d->prommap);
    sw_emf_map_free(d->emf);
    sw_accum_free(d->accum);
    sw_eval_free(d->ev);
    sw_store_close(d->store);
    sw_rules_free(d->rules);
    free(d->rules_text);
    sw_daemon_totals_fini(&d->totals);
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
    if (d->wake_fd >= 0)
        close(d->wake_fd);
    free(d);
}
