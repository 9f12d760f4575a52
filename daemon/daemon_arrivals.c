/*
 * When sources' values arrive and when their intervals are taken: the take delay the tick
 * waits after an interval ends, and the check (`slawatch check`, serve's start and reloads)
 * that refuses a configuration whose values can arrive after their interval was taken, where
 * they would be dropped. Counter and bucket increases never need it (a late increase is
 * carried into an open interval); health values and gauge histograms do.
 */
#include "daemon_int.h"

#include <stdio.h>

#include "slawatch/rules_schema.h"
#include "slawatch/units.h"

int64_t
sw_daemon_take_delay_ms(const sw_config *cfg, const sw_rules *rules)
{
    int64_t longest = 0;
    for (size_t i = 0; i < cfg->n_scrape_jobs; i++)
        if (cfg->scrape_jobs[i].timeout_ms > longest)
            longest = cfg->scrape_jobs[i].timeout_ms;
    for (size_t i = 0; i < rules->n_services; i++) {
        const sw_source *h = &rules->services[i].health;
        if (h->kind == SW_SOURCE_PROBE && h->timeout_ms > longest)
            longest = h->timeout_ms;
    }
    return rules->base_interval_ms / 10 + longest + cfg->ingest_delay_ms;
}

/*
 * How long after its interval ends a value of the query source is committed, at the latest,
 * while every query is answered within its timeout at the first attempt. The value at
 * evaluation time T belongs to the interval ending at T, and a poll reads up to now - lag, so
 * the first poll that starts at or after T + lag reads it. The poll before that one started
 * earlier, ran up to one page long (a page is one query per selector, sent one after the
 * other, each within the timeout) and then waited `every`; this one commits after its own
 * page. Hence lag + every + 2 x selectors x timeout (processing time aside: milliseconds).
 * A query that fails or is retried delivers later: health for intervals taken by then is
 * dropped and counted (slawatch_prometheus_samples_total{result="late"}).
 */
static sw_status
query_arrival_ms(const sw_config *cfg, const sw_rules *rules, int64_t *ret, size_t *ret_queries,
                 sw_err *err)
{
    char **sel;
    size_t n;
    sw_status st = sw_daemon_query_selectors(rules, &sel, &n, err);
    if (st != SW_OK)
        return st;
    sw_daemon_query_selectors_free(sel, n);
    const sw_config_query *q = &cfg->query;
    int64_t every = q->every_ms > 0 ? q->every_ms : rules->base_interval_ms;
    *ret = q->lag_ms + every + 2 * (int64_t)n * q->timeout_ms;
    *ret_queries = n;
    return SW_OK;
}

/* One error at the health source of every service that reads health through the query; err
 * holds the first, whole, for a failed start's one line. */
static void
refuse_query_health(sw_rules_loader *ld, const sw_config *cfg, const sw_rules *rules,
                    int64_t arrival_ms, size_t queries, sw_err *err)
{
    int64_t take = sw_daemon_take_delay_ms(cfg, rules);
    if (arrival_ms <= take)
        return;
    char arrive[32], taken[32], need[32], msg[512];
    sw_units_format_duration(arrival_ms, arrive, sizeof arrive);
    sw_units_format_duration(take, taken, sizeof taken);
    sw_units_format_duration(cfg->ingest_delay_ms + arrival_ms - take, need, sizeof need);
    snprintf(msg, sizeof msg,
             "health via prometheus_query can arrive %s after its interval (lag + every + 2 x %zu "
             "queries x timeout), taken after %s: raise ingest_delay to at least %s or lower "
             "the query's lag, every or timeout",
             arrive, queries, taken, need);
    for (size_t i = 0; i < rules->n_services; i++) {
        const sw_source *h = &rules->services[i].health;
        if (h->kind != SW_SOURCE_PROMETHEUS)
            continue;
        if (ld->n_errors == 0)
            sw_err_set(err, SW_E_INVAL, "%s:%u:%u: %s", h->pos.file, h->pos.line, h->pos.col, msg);
        ld->name = h->pos.file;
        sw_rules_error_pos(ld, h->pos, "%s", msg);
    }
}

sw_status
sw_daemon_check_arrivals(const sw_config *cfg, const sw_rules *rules, sw_rules_diag *diag,
                         sw_err *err)
{
    if (cfg->query.url == NULL)
        return SW_OK;
    int64_t arrival;
    size_t queries;
    sw_status st = query_arrival_ms(cfg, rules, &arrival, &queries, err);
    if (st != SW_OK)
        return st;
    sw_rules_loader ld = {.diag = diag};
    refuse_query_health(&ld, cfg, rules, arrival, queries, err);
    if (ld.n_errors == 0)
        return SW_OK;
    return ld.nomem ? sw_err_set(err, SW_E_NOMEM, "out of memory listing late sources")
                    : SW_E_INVAL;
}
