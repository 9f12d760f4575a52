/*
 * Each environment of a service (blue/green) beside the service total, and the requests over
 * each latency threshold hour by hour (the why of a latency objective). Gathered from the same
 * rows as the service's figures while the scan reads them (report_scan.c hands each over), so
 * the environments add up to the total; the counts over a threshold from a second read of the
 * hours, made only for a latency objective whose why is given (sw_report_scan_over).
 */
#include "report_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The environment's entry, added on first sight; NULL without environment or memory (the
 * report then leaves that environment out rather than fail). */
static rp_env *
env_of(rp_service *s, const char *env)
{
    if (env == NULL || env[0] == '\0')
        return NULL;
    for (size_t i = 0; i < s->n_envs; i++)
        if (strcmp(s->envs[i].name, env) == 0)
            return &s->envs[i];
    rp_env *grown = realloc(s->envs, (s->n_envs + 1) * sizeof *grown);
    if (grown == NULL)
        return NULL;
    s->envs = grown;
    rp_env *e = &s->envs[s->n_envs++];
    memset(e, 0, sizeof *e);
    snprintf(e->name, sizeof e->name, "%s", env);
    e->p95_us = e->p99_us = NAN;
    return e;
}

void
sw_report_env_minute(rp_service *s, const char *env, int64_t start_ms, int64_t length_ms,
                     uint64_t requests, uint64_t errors, bool has_data)
{
    rp_env *e = env_of(s, env);
    if (e == NULL || sw_report_in_maint(s->svc, start_ms, start_ms + length_ms))
        return;
    e->minute_sums.requests += requests;
    e->minute_sums.errors += errors;
    e->minute_sums.data_ms += has_data ? length_ms : 0;
}

void
sw_report_env_hour(rp_service *s, const char *env, const sw_sli_interval *iv)
{
    rp_env *e = env_of(s, env);
    if (e == NULL)
        return;
    e->hour_sums.requests += iv->requests;
    e->hour_sums.errors += iv->errors;
    e->hour_sums.data_ms += iv->has_data ? RP_HOUR_MS : 0;
}

void
sw_report_count_over(const sw_report *r, rp_service *s, const sw_sli_interval *iv)
{
    size_t h = (size_t)((iv->start_ms - r->start_ms) / RP_HOUR_MS);
    if (s->over == NULL || iv->latency == NULL || iv->start_ms < r->start_ms || h >= s->n_hours)
        return;
    int64_t total = sw_hdr_total_count(iv->latency);
    for (size_t k = 0; k < s->own->n_objectives; k++) {
        const sw_condition *c = &s->own->objectives[k].objective;
        if (c->sli == SW_SLI_LATENCY)
            s->over[h * s->own->n_objectives + k] +=
                (uint64_t)(total - sw_hdr_count_at_or_below(iv->latency, (int64_t)c->value));
    }
}

sw_status
sw_report_env_latency(rp_scan_pool *p, rp_service *s, const char *env, const sw_hdr *lat,
                      sw_err *err)
{
    rp_env *e = env_of(s, env);
    return e == NULL ? SW_OK : sw_report_merge_pooled(p, &e->lat, lat, err);
}

static void
judge_env(const sw_report *r, const rp_service *s, rp_env *e)
{
    e->objectives = calloc(s->own->n_objectives + 1, sizeof *e->objectives);
    if (e->objectives == NULL)
        return;
    /* The service as this environment alone saw it: its counts, its share of the minutes. */
    rp_service alone = *s;
    alone.month = e->c;
    alone.coverage =
        s->month.data_ms > 0 ? s->coverage * (double)e->c.data_ms / (double)s->month.data_ms : 0.0;
    for (size_t k = 0; k < s->own->n_objectives; k++)
        if (!sw_report_by_slices(&s->own->objectives[k]))
            sw_report_judge(r, &alone, &(rp_minutes){0}, e->lat, &s->own->objectives[k],
                            &e->objectives[k]);
}

void
sw_report_envs_finish(const sw_report *r, rp_service *s)
{
    for (size_t i = 0; i < s->n_envs; i++) {
        rp_env *e = &s->envs[i];
        e->c = s->minute_counts ? e->minute_sums : e->hour_sums;
        bool any = e->lat != NULL && sw_hdr_total_count(e->lat) > 0;
        e->p95_us = any ? (double)sw_hdr_value_at_percentile(e->lat, 95.0) : NAN;
        e->p99_us = any ? (double)sw_hdr_value_at_percentile(e->lat, 99.0) : NAN;
        judge_env(r, s, e);
    }
}

void
sw_report_envs_put_latency(rp_scan_pool *p, rp_service *s)
{
    for (size_t i = 0; i < s->n_envs; i++) {
        sw_report_pool_put(p, s->envs[i].lat);
        s->envs[i].lat = NULL;
    }
}

void
sw_report_envs_free(rp_service *s)
{
    for (size_t i = 0; i < s->n_envs; i++) {
        sw_hdr_free(s->envs[i].lat);
        free(s->envs[i].objectives);
    }
    free(s->envs);
    s->envs = NULL;
    s->n_envs = 0;
}
