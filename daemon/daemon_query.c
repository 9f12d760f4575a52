/*
 * The `prometheus_query` source: a thread that polls a Prometheus-compatible server's
 * query_range for the rules' `prometheus` selectors and commits each page of results to the
 * daemon's prommap as one batch. It owns the query client and its position; the selectors are
 * replaced under the lock by the tick thread on reload; its counters are read under the lock
 * by the tick thread when it publishes.
 */
#include "daemon_int.h"

#include <stdlib.h>
#include <string.h>

#include "slawatch/http_client.h"
#include "slawatch/log.h"
#include "slawatch/promquery.h"
#include "slawatch/thread_prio.h"

struct sw_daemon_query {
    sw_promquery *client;
    char source[300]; /* "query:<url>" (redacted): the prommap source of every batch */
    int64_t step_ms, every_ms, lag_ms, lookback_ms;
    int64_t next_ms; /* first evaluation time not yet committed; INT64_MIN before the first */
    pthread_t thread;
    bool started;

    pthread_mutex_t lock; /* guards the fields below */
    char **selectors;
    size_t n_selectors;
    uint64_t pages, failures;
    int64_t last_success_ms;
};

/* ------------------------------------------------------------------ selectors */

void
sw_daemon_query_selectors_free(char **sel, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(sel[i]);
    free(sel);
}

/* Append sel unless the list holds it already. */
static sw_status
add_selector(char **list, size_t *n, const char *sel, sw_err *err)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp(list[i], sel) == 0)
            return SW_OK;
    if ((list[*n] = strdup(sel)) == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory copying selectors");
    (*n)++;
    return SW_OK;
}

sw_status
sw_daemon_query_selectors(const sw_rules *rules, char ***ret, size_t *ret_n, sw_err *err)
{
    char **list = calloc(4 * rules->n_services + 1, sizeof *list);
    size_t n = 0;
    sw_status st = list != NULL ? SW_OK : sw_err_set(err, SW_E_NOMEM, "out of memory");
    for (size_t i = 0; st == SW_OK && i < rules->n_services; i++) {
        const sw_service *s = &rules->services[i];
        const sw_source *plain[] = {&s->requests, &s->errors, &s->health};
        for (size_t k = 0; st == SW_OK && k < 3; k++)
            if (plain[k]->kind == SW_SOURCE_PROMETHEUS)
                st = add_selector(list, &n, plain[k]->selector, err);
        if (st != SW_OK || s->latency.kind != SW_SOURCE_PROMETHEUS)
            continue;
        size_t cap = strlen(s->latency.selector) + sizeof "_bucket";
        char *bucket = malloc(cap);
        st = bucket == NULL ? sw_err_set(err, SW_E_NOMEM, "out of memory")
                            : sw_promquery_bucket_selector(s->latency.selector, bucket, cap, err);
        if (st == SW_OK)
            st = add_selector(list, &n, bucket, err);
        free(bucket);
    }
    if (st != SW_OK) {
        sw_daemon_query_selectors_free(list, n);
        return st;
    }
    *ret = list;
    *ret_n = n;
    return SW_OK;
}

void
sw_daemon_query_set_rules(sw_daemon *d, const sw_rules *rules)
{
    sw_daemon_query *q = d->query;
    if (q == NULL)
        return;
    char **list;
    size_t n;
    sw_err err;
    if (sw_daemon_query_selectors(rules, &list, &n, &err) != SW_OK) {
        sw_log_err(SW_LOG_ERROR, "prometheus query selectors not updated", &err, NULL);
        return;
    }
    pthread_mutex_lock(&q->lock);
    char **old = q->selectors;
    size_t n_old = q->n_selectors;
    q->selectors = list;
    q->n_selectors = n;
    pthread_mutex_unlock(&q->lock);
    sw_daemon_query_selectors_free(old, n_old);
}

/* A copy of the current selectors, so a poll runs without the lock. */
static sw_status
selectors_copy(sw_daemon_query *q, char ***ret, size_t *ret_n, sw_err *err)
{
    pthread_mutex_lock(&q->lock);
    size_t n = q->n_selectors;
    char **list = calloc(n + 1, sizeof *list);
    size_t copied = 0;
    for (; list != NULL && copied < n; copied++)
        if ((list[copied] = strdup(q->selectors[copied])) == NULL)
            break;
    pthread_mutex_unlock(&q->lock);
    if (list == NULL || copied < n) {
        sw_daemon_query_selectors_free(list, copied);
        return sw_err_set(err, SW_E_NOMEM, "out of memory copying selectors");
    }
    *ret = list;
    *ret_n = n;
    return SW_OK;
}

/* ------------------------------------------------------------------ polling */

/*
 * The value at evaluation time T is the newest raw sample at or before T, so the increase it
 * shows since T - step happened in the interval ending at T: handed on at T - 1 ms, it lands
 * in [T - step, T) rather than in the interval T starts.
 */
static sw_status
shift_sample(void *ctx, const sw_prom_sample *s, sw_err *err)
{
    const sw_prom_sink *inner = ctx;
    sw_prom_sample shifted = *s;
    shifted.timestamp_ms -= 1;
    return inner->sample(inner->ctx, &shifted, err);
}

/* One page [start_ms, end_ms] of every selector, committed whole or not at all. */
static sw_status
poll_page(sw_daemon *d, char **sel, size_t n, int64_t start_ms, int64_t end_ms, sw_err *err)
{
    sw_daemon_query *q = d->query;
    sw_prommap_batch *b;
    sw_status st = sw_prommap_begin(d->prommap, q->source, NULL, 0, end_ms, &b, err);
    if (st != SW_OK)
        return st;
    sw_prom_sink inner = sw_prommap_sink(b);
    sw_prom_sink shifted = {&inner, shift_sample, NULL};
    sw_promquery_counts counts = {0};
    st = sw_promquery_fetch(q->client, (const char *const *)sel, n, start_ms, end_ms, q->step_ms,
                            &shifted, &counts, err);
    if (st != SW_OK) {
        sw_prommap_abort(b);
        return st;
    }
    if (counts.native_series > 0)
        sw_log(SW_LOG_DEBUG, "prometheus query: native histogram series are not read", "source",
               q->source, NULL);
    return sw_prommap_commit(b, err);
}

/* Everything from q->next_ms to now - lag, page by page; stops at the first failure so the
 * next poll starts again where this one stopped. */
static void
poll_once(sw_daemon *d, int64_t now_ms)
{
    sw_daemon_query *q = d->query;
    int64_t end = now_ms - q->lag_ms;
    end -= ((end % q->step_ms) + q->step_ms) % q->step_ms;
    if (q->next_ms == INT64_MIN)
        q->next_ms = end - (q->lookback_ms / q->step_ms) * q->step_ms;
    char **sel = NULL;
    size_t n = 0;
    sw_err err;
    sw_status st = selectors_copy(q, &sel, &n, &err);
    while (st == SW_OK && n > 0 && q->next_ms <= end) {
        int64_t page_end =
            sw_promquery_page_end(q->next_ms, end, q->step_ms, SW_PROMQUERY_MAX_POINTS);
        st = poll_page(d, sel, n, q->next_ms, page_end, &err);
        pthread_mutex_lock(&q->lock);
        q->pages += n;
        q->failures += st != SW_OK;
        q->last_success_ms = st == SW_OK ? now_ms : q->last_success_ms;
        pthread_mutex_unlock(&q->lock);
        if (st == SW_OK)
            q->next_ms = page_end + q->step_ms;
    }
    if (st != SW_OK)
        sw_log_err(SW_LOG_ERROR, "prometheus query failed", &err, "source", q->source, NULL);
    sw_daemon_query_selectors_free(sel, n);
}

static bool
nap_for_retry(void *ctx, int64_t ms)
{
    sw_daemon *d = ctx;
    return sw_daemon_nap(d, (int64_t)((double)ms / d->opts.speed) + 1);
}

static void *
query_loop(void *arg)
{
    sw_daemon *d = arg;
    sw_thread_prio_set("sw-prom-query", 0); /* polls are timed: at the gate's priority */
    do
        poll_once(d, sw_daemon_now(d));
    while (sw_daemon_nap(d, (int64_t)((double)d->query->every_ms / d->opts.speed) + 1));
    return NULL;
}

/* ------------------------------------------------------------------ lifecycle */

/* The client for cfg, with secrets read from their files. */
static sw_status
client_new(const sw_config_query *c, sw_daemon *d, sw_promquery **ret, sw_err *err)
{
    char *token = NULL, *password = NULL;
    sw_status st = SW_OK;
    if (c->bearer_token_file != NULL)
        st = sw_daemon_read_secret(c->bearer_token_file, &token, err);
    if (st == SW_OK && c->basic_password_file != NULL)
        st = sw_daemon_read_secret(c->basic_password_file, &password, err);
    sw_promquery_options o = {
        .url = c->url,
        .bearer_token = token,
        .basic_user = c->basic_user,
        .basic_password = password,
        .headers = c->headers,
        .n_headers = c->n_headers,
        .timeout_ms = c->timeout_ms,
        .max_response_bytes = (size_t)c->max_response,
        .retries = (unsigned)c->retries,
        .sleep = nap_for_retry,
        .sleep_ctx = d,
    };
    if (st == SW_OK)
        st = sw_promquery_new(&o, ret, err);
    free(token);
    free(password);
    return st;
}

static sw_status
query_new(sw_daemon *d, sw_daemon_query **ret, sw_err *err)
{
    const sw_config_query *c = &d->cfg->query;
    sw_daemon_query *q = calloc(1, sizeof *q);
    if (q == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory starting the prometheus query source");
    pthread_mutex_init(&q->lock, NULL);
    char where[256];
    sw_http_client_redact_url(c->url, where, sizeof where);
    snprintf(q->source, sizeof q->source, "query:%s", where);
    q->step_ms = d->base_ms;
    q->every_ms = c->every_ms > 0 ? c->every_ms : d->base_ms;
    q->lag_ms = c->lag_ms;
    q->lookback_ms = c->lookback_ms;
    q->next_ms = INT64_MIN;
    *ret = q;
    sw_status st = client_new(c, d, &q->client, err);
    if (st == SW_OK)
        st = sw_daemon_query_selectors(d->rules, &q->selectors, &q->n_selectors, err);
    return st;
}

sw_status
sw_daemon_query_start(sw_daemon *d, sw_err *err)
{
    if (d->cfg->query.url == NULL)
        return SW_OK;
    sw_status st = query_new(d, &d->query, err);
    if (st != SW_OK)
        return st;
    if (pthread_create(&d->query->thread, NULL, query_loop, d) != 0)
        return sw_err_set(err, SW_E_NOMEM, "cannot start the prometheus query thread");
    d->query->started = true;
    sw_log(SW_LOG_INFO, "prometheus query source started", "source", d->query->source, NULL);
    return SW_OK;
}

void
sw_daemon_query_stop(sw_daemon *d)
{
    sw_daemon_query *q = d->query;
    if (q == NULL)
        return;
    if (q->started)
        pthread_join(q->thread, NULL);
    sw_promquery_free(q->client);
    sw_daemon_query_selectors_free(q->selectors, q->n_selectors);
    pthread_mutex_destroy(&q->lock);
    free(q);
    d->query = NULL;
}

void
sw_daemon_query_self(sw_daemon *d, sw_metrics_self *self)
{
    sw_daemon_query *q = d->query;
    if (q == NULL)
        return;
    pthread_mutex_lock(&q->lock);
    self->query_pages = q->pages;
    self->query_failures = q->failures;
    self->query_last_success_ms = q->last_success_ms;
    pthread_mutex_unlock(&q->lock);
}
