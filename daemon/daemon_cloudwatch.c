/*
 * The `cloudwatch` source in serve: a thread that polls GetMetricData for the rules'
 * cloudwatch sources and hands each settled period to the accumulators exactly once. It owns
 * the credential provider, the client, the plan in use and the watermark (the end of the
 * periods handed on); the tick thread leaves a new plan under the lock on reload and reads
 * the counters under the lock when it publishes.
 *
 * Why periods are handed once: CloudWatch keeps ingesting a period for minutes after it ends,
 * so a period is only read once it is `settle` old, read whole, and the watermark moves past
 * it; a failed poll moves nothing, so the next one reads the same range again. The watermark
 * starts after the daemon's first tick, which starts where the store's rows end: a period the
 * store holds (a backfill's) is never read again.
 */
#include "daemon_int.h"

#include <stdlib.h>
#include <string.h>

#include "slawatch/awscreds.h"
#include "slawatch/cloudwatch.h"
#include "slawatch/cwgmd.h"
#include "slawatch/http_client.h"
#include "slawatch/log.h"

/* At most this many periods per poll: after a long outage older ones are late anyway. */
#define MAX_PERIODS_PER_POLL 1440

struct sw_daemon_cw {
    sw_awscreds_provider *creds;
    sw_cwgmd *client;
    sw_cloudwatch *plan;
    sw_cwgmd_series *series;
    size_t n_series;
    int64_t period_s, settle_s, every_ms;
    int64_t handed_until_s;
    char endpoint[512];
    pthread_t thread;
    bool started;

    pthread_mutex_t lock; /* guards the fields below */
    sw_cloudwatch *next_plan;
    uint64_t periods;
    sw_cwgmd_stats stats;
    int64_t last_success_ms;
};

/* ------------------------------------------------------------------ polling */

static sw_status
to_accum(void *ctx, const char *service, const sw_sli_interval *iv, sw_err *err)
{
    sw_daemon *d = ctx;
    return sw_accum_add_interval(d->accum, service, NULL, iv, err);
}

/* Take a plan the tick thread left, with room for its series. */
static void
adopt_plan(sw_daemon_cw *c)
{
    pthread_mutex_lock(&c->lock);
    sw_cloudwatch *next = c->next_plan;
    c->next_plan = NULL;
    pthread_mutex_unlock(&c->lock);
    if (next == NULL)
        return;
    size_t n;
    sw_cloudwatch_queries(next, &n);
    sw_cwgmd_series *s = calloc(n + 1, sizeof *s);
    if (s == NULL) {
        sw_log(SW_LOG_ERROR, "cloudwatch rules not updated: out of memory", NULL);
        sw_cloudwatch_free(next);
        return;
    }
    for (size_t i = 0; i < c->n_series; i++)
        sw_cwgmd_series_fini(&c->series[i]);
    free(c->series);
    sw_cloudwatch_free(c->plan);
    c->plan = next;
    c->series = s;
    c->n_series = n;
}

/* Read [handed_until, settled end) and hand it on; on failure nothing moves. */
static void
poll_once(sw_daemon *d, int64_t now_ms)
{
    sw_daemon_cw *c = d->cw;
    adopt_plan(c);
    int64_t end = sw_cloudwatch_settled_end(now_ms / 1000, c->settle_s, c->period_s);
    if (end - c->handed_until_s > MAX_PERIODS_PER_POLL * c->period_s)
        c->handed_until_s = end - MAX_PERIODS_PER_POLL * c->period_s;
    size_t n;
    const sw_cwgmd_query *q = sw_cloudwatch_queries(c->plan, &n);
    if (n == 0 || c->handed_until_s >= end)
        return;
    sw_err err;
    sw_status st = sw_cwgmd_fetch(c->client, q, n, c->handed_until_s, end, c->series, &err);
    if (st == SW_OK)
        st = sw_cloudwatch_apply(c->plan, c->series, c->handed_until_s, end, to_accum, d, &err);
    pthread_mutex_lock(&c->lock);
    sw_cwgmd_stats_get(c->client, &c->stats);
    if (st == SW_OK) {
        c->periods += (uint64_t)((end - c->handed_until_s) / c->period_s);
        c->last_success_ms = now_ms;
    }
    pthread_mutex_unlock(&c->lock);
    if (st == SW_OK)
        c->handed_until_s = end;
    else
        sw_log_err(SW_LOG_ERROR, "cloudwatch poll failed", &err, "endpoint", c->endpoint, NULL);
}

static bool
nap_for_retry(void *ctx, int64_t ms)
{
    sw_daemon *d = ctx;
    return sw_daemon_nap(d, (int64_t)((double)ms / d->opts.speed) + 1);
}

static void *
cw_loop(void *arg)
{
    sw_daemon *d = arg;
    do
        poll_once(d, sw_daemon_now(d));
    while (sw_daemon_nap(d, (int64_t)((double)d->cw->every_ms / d->opts.speed) + 1));
    return NULL;
}

/* ------------------------------------------------------------------ lifecycle */

/*
 * The first period to read: the first one wholly after the daemon's first tick, which starts
 * where the store's rows end (a backfill, the last run) or ingest_delay ago. Earlier periods
 * are stored already or closed; reading them would only repeat or be refused as late.
 */
static int64_t
first_period(int64_t first_tick_ms, int64_t period_s)
{
    int64_t s = first_tick_ms / 1000 + (first_tick_ms % 1000 != 0);
    return s + (period_s - s % period_s) % period_s;
}

static sw_status
client_new(sw_daemon *d, sw_daemon_cw *c, sw_err *err)
{
    sw_cwgmd_options tuning = {.sleep = nap_for_retry, .sleep_ctx = d,
                               .seed = (uint64_t)sw_daemon_now(d)};
    return sw_cloudwatch_client_new(&d->cfg->cloudwatch, &tuning, &c->creds, &c->client,
                                    c->endpoint, sizeof c->endpoint, err);
}

void
sw_daemon_cw_set_rules(sw_daemon *d, const sw_rules *rules)
{
    sw_daemon_cw *c = d->cw;
    if (c == NULL)
        return;
    sw_cloudwatch *plan;
    sw_err err;
    if (sw_cloudwatch_new(rules, c->period_s, d->base_ms, &plan, &err) != SW_OK) {
        sw_log_err(SW_LOG_ERROR, "cloudwatch rules not updated", &err, NULL);
        return;
    }
    pthread_mutex_lock(&c->lock);
    sw_cloudwatch *old = c->next_plan;
    c->next_plan = plan;
    pthread_mutex_unlock(&c->lock);
    sw_cloudwatch_free(old);
}

sw_status
sw_daemon_cw_start(sw_daemon *d, sw_err *err)
{
    const sw_cloudwatch_options *cfg = &d->cfg->cloudwatch;
    if (!cfg->enabled)
        return SW_OK;
    sw_daemon_cw *c = calloc(1, sizeof *c);
    if (c == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory starting the cloudwatch source");
    pthread_mutex_init(&c->lock, NULL);
    c->period_s = cfg->period_ms / 1000;
    c->settle_s = (cfg->settle_ms + 999) / 1000;
    c->every_ms = cfg->every_ms;
    c->handed_until_s = first_period(d->last_tick_ms, c->period_s);
    d->cw = c;
    sw_status st = sw_cloudwatch_new(d->rules, c->period_s, d->base_ms, &c->next_plan, err);
    if (st == SW_OK)
        st = client_new(d, c, err);
    if (st != SW_OK)
        return st;
    adopt_plan(c);
    if (c->plan == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory starting the cloudwatch source");
    if (pthread_create(&c->thread, NULL, cw_loop, d) != 0)
        return sw_err_set(err, SW_E_NOMEM, "cannot start the cloudwatch thread");
    c->started = true;
    sw_log(SW_LOG_INFO, "cloudwatch source started", "endpoint", c->endpoint, NULL);
    return SW_OK;
}

void
sw_daemon_cw_stop(sw_daemon *d)
{
    sw_daemon_cw *c = d->cw;
    if (c == NULL)
        return;
    if (c->started)
        pthread_join(c->thread, NULL);
    sw_cwgmd_free(c->client);
    sw_awscreds_provider_free(c->creds);
    for (size_t i = 0; i < c->n_series; i++)
        sw_cwgmd_series_fini(&c->series[i]);
    free(c->series);
    sw_cloudwatch_free(c->plan);
    sw_cloudwatch_free(c->next_plan);
    pthread_mutex_destroy(&c->lock);
    free(c);
    d->cw = NULL;
}

void
sw_daemon_cw_self(sw_daemon *d, sw_metrics_self *self)
{
    sw_daemon_cw *c = d->cw;
    if (c == NULL)
        return;
    pthread_mutex_lock(&c->lock);
    self->cw_calls = c->stats.calls;
    self->cw_throttled = c->stats.throttled;
    self->cw_errors = c->stats.errors;
    self->cw_periods = c->periods;
    self->cw_last_success_ms = c->last_success_ms;
    pthread_mutex_unlock(&c->lock);
}
