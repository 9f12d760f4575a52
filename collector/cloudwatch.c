/*
 * CloudWatch mapping: rules' cloudwatch sources to GetMetricData queries (presets expanded,
 * latency as the percentile grid plus SampleCount, Minimum and Maximum), and fetched series to
 * SLI intervals. The plan owns its strings in an arena; apply() is read-only on the plan, so
 * the poller thread and a backfill may each use their own copy or share one.
 */
#include "slawatch/cloudwatch.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slawatch/arena.h"
#include "slawatch/cwpct.h"
#include "slawatch/hdr.h"

/* What a query's values mean for its service. */
typedef enum role {
    ROLE_REQUESTS,
    ROLE_ERRORS,
    ROLE_PCT,       /* one percentile of the grid */
    ROLE_RANK,      /* PR(:T) at a latency threshold of the rules */
    ROLE_COUNT,     /* SampleCount of the latency metric */
    ROLE_MIN,       /* Minimum of the latency metric */
    ROLE_MAX,       /* Maximum of the latency metric */
    ROLE_SUM,       /* Sum of the latency metric: its mean, times SampleCount */
    ROLE_UP,        /* a custom health metric: > 0 is healthy */
    ROLE_HEALTHY,   /* ALB HealthyHostCount Minimum */
    ROLE_UNHEALTHY, /* ALB UnHealthyHostCount Maximum */
} role;

typedef struct query_meta {
    size_t service;
    role role;
    double p; /* ROLE_PCT: the percentile; ROLE_RANK: the threshold in the metric's unit */
} query_meta;

typedef struct service_plan {
    const char *name;
    double unit_us; /* latency metric unit in microseconds */
} service_plan;

struct sw_cloudwatch {
    sw_arena arena;
    int64_t period_s, base_ms;
    bool windows; /* latency statistics only, of windows (an hour, a day) as one period */
    bool rolling; /* those: only of services with a sliding latency window of period_s */
    sw_cwgmd_query *queries;
    query_meta *meta;
    size_t n, cap;
    service_plan *services;
    size_t n_services;
    int64_t thresholds_us[SW_CLOUDWATCH_MAX_THRESHOLDS]; /* the rules' latency thresholds */
    size_t n_thresholds;
};

/* A preset's metrics: namespace, requests, errors (one or two), latency and its unit. */
typedef struct preset {
    const char *name, *ns, *requests, *errors[2], *latency;
    double unit_us;
    bool health;
} preset;

static const preset presets[] = {
    {"alb", "AWS/ApplicationELB", "RequestCount",
     {"HTTPCode_Target_5XX_Count", "HTTPCode_ELB_5XX_Count"}, "TargetResponseTime", 1e6, true},
    {"apigateway", "AWS/ApiGateway", "Count", {"5XXError", NULL}, "Latency", 1e3, false},
    {"lambda", "AWS/Lambda", "Invocations", {"Errors", NULL}, "Duration", 1e3, false},
};

/* ------------------------------------------------------------------ plan */

static char *
copy_str(sw_cloudwatch *cw, const char *s)
{
    size_t len = strlen(s) + 1;
    char *p = sw_arena_alloc(&cw->arena, len, 1);
    if (p != NULL)
        memcpy(p, s, len);
    return p;
}

static sw_status
add_query(sw_cloudwatch *cw, size_t service, const sw_source *src, const char *ns,
          const char *metric, const char *stat, role r, double p, sw_err *err)
{
    if (cw->n == cw->cap) {
        size_t cap = cw->cap > 0 ? cw->cap * 2 : 32;
        sw_cwgmd_query *q = realloc(cw->queries, cap * sizeof *q);
        if (q != NULL)
            cw->queries = q;
        query_meta *m = q != NULL ? realloc(cw->meta, cap * sizeof *m) : NULL;
        if (m == NULL)
            return sw_err_set(err, SW_E_NOMEM, "out of memory planning CloudWatch queries");
        cw->meta = m;
        cw->cap = cap;
    }
    sw_cwgmd_query *q = &cw->queries[cw->n];
    memset(q, 0, sizeof *q);
    if (cw->windows)
        snprintf(q->id, sizeof q->id, "w%lld_%zu", (long long)cw->period_s, cw->n);
    else
        snprintf(q->id, sizeof q->id, "q%zu", cw->n);
    q->namespace_ = copy_str(cw, ns);
    q->metric = copy_str(cw, metric);
    q->stat = copy_str(cw, stat);
    q->period_s = cw->period_s;
    sw_label *dims = sw_arena_alloc(&cw->arena, (src->n_dimensions + 1) * sizeof *dims,
                                    _Alignof(sw_label));
    for (size_t i = 0; dims != NULL && i < src->n_dimensions; i++) {
        dims[i].name = copy_str(cw, src->dimensions[i].name);
        dims[i].value = copy_str(cw, src->dimensions[i].value);
        if (dims[i].name == NULL || dims[i].value == NULL)
            dims = NULL;
    }
    if (q->namespace_ == NULL || q->metric == NULL || q->stat == NULL || dims == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory planning CloudWatch queries");
    q->dimensions = dims;
    q->n_dimensions = src->n_dimensions;
    cw->meta[cw->n++] = (query_meta){service, r, p};
    return SW_OK;
}

/* The percentile grid, SampleCount, Minimum, Maximum, Sum and a PR(:T) per rules threshold of
 * one latency metric. */
static sw_status
add_latency(sw_cloudwatch *cw, size_t svc, const sw_source *src, const char *ns,
            const char *metric, sw_err *err)
{
    double unit_us = cw->services[svc].unit_us;
    for (size_t i = 0; i < cw->n_thresholds; i++) {
        char stat[48];
        double t = (double)cw->thresholds_us[i] / unit_us;
        snprintf(stat, sizeof stat, "PR(:%.10g)", t);
        sw_status st = add_query(cw, svc, src, ns, metric, stat, ROLE_RANK, t, err);
        if (st != SW_OK)
            return st;
    }
    sw_status st = add_query(cw, svc, src, ns, metric, "SampleCount", ROLE_COUNT, 0, err);
    if (st == SW_OK)
        st = add_query(cw, svc, src, ns, metric, "Minimum", ROLE_MIN, 0, err);
    if (st == SW_OK)
        st = add_query(cw, svc, src, ns, metric, "Maximum", ROLE_MAX, 0, err);
    if (st == SW_OK)
        st = add_query(cw, svc, src, ns, metric, "Sum", ROLE_SUM, 0, err);
    for (size_t i = 0; st == SW_OK && i < sw_cwpct_grid_len; i++) {
        char stat[32];
        snprintf(stat, sizeof stat, "p%g", sw_cwpct_grid[i]);
        st = add_query(cw, svc, src, ns, metric, stat, ROLE_PCT, sw_cwpct_grid[i], err);
    }
    return st;
}

static const preset *
preset_of(const char *name)
{
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
        if (strcmp(presets[i].name, name) == 0)
            return &presets[i];
    return NULL;
}

static sw_status
plan_preset(sw_cloudwatch *cw, size_t svc, const sw_source *src, role r, const char *service,
            sw_err *err)
{
    const preset *ps = preset_of(src->preset);
    if (ps == NULL)
        return sw_err_set(err, SW_E_INVAL, "service %s: unknown cloudwatch preset", service);
    cw->services[svc].unit_us = ps->unit_us;
    sw_status st = SW_OK;
    switch (r) {
    case ROLE_REQUESTS:
        return add_query(cw, svc, src, ps->ns, ps->requests, "Sum", r, 0, err);
    case ROLE_ERRORS:
        for (size_t i = 0; st == SW_OK && i < 2 && ps->errors[i] != NULL; i++)
            st = add_query(cw, svc, src, ps->ns, ps->errors[i], "Sum", r, 0, err);
        return st;
    case ROLE_PCT:
        return add_latency(cw, svc, src, ps->ns, ps->latency, err);
    default:
        if (!ps->health)
            return sw_err_set(err, SW_E_INVAL,
                              "service %s: preset %s has no health metric (alb has)", service,
                              ps->name);
        st = add_query(cw, svc, src, ps->ns, "HealthyHostCount", "Minimum", ROLE_HEALTHY, 0, err);
        return st == SW_OK ? add_query(cw, svc, src, ps->ns, "UnHealthyHostCount", "Maximum",
                                       ROLE_UNHEALTHY, 0, err)
                           : st;
    }
}

/* One SLI's source of one service; r is ROLE_REQUESTS, _ERRORS, _PCT (latency) or _UP. */
static sw_status
plan_source(sw_cloudwatch *cw, size_t svc, const sw_source *src, role r, const char *service,
            sw_err *err)
{
    if (src->kind != SW_SOURCE_CLOUDWATCH || (cw->windows && r != ROLE_PCT))
        return SW_OK;
    if (src->preset != NULL)
        return plan_preset(cw, svc, src, r, service, err);
    if (r == ROLE_PCT) /* a custom latency metric is read in milliseconds, as the grid */
        return add_latency(cw, svc, src, src->cw_namespace, src->cw_metric, err);
    return add_query(cw, svc, src, src->cw_namespace, src->cw_metric, src->cw_stat, r, 0, err);
}

static sw_status
add_threshold(sw_cloudwatch *cw, const sw_condition *c, sw_err *err)
{
    if (c->sli != SW_SLI_LATENCY)
        return SW_OK;
    int64_t t = llround(c->value);
    for (size_t i = 0; i < cw->n_thresholds; i++)
        if (cw->thresholds_us[i] == t)
            return SW_OK;
    if (cw->n_thresholds == SW_CLOUDWATCH_MAX_THRESHOLDS)
        return sw_err_set(err, SW_E_INVAL,
                          "%s:%u:%u: more than %d distinct latency thresholds for CloudWatch "
                          "percentile ranks",
                          c->pos.file != NULL ? c->pos.file : "rules", c->pos.line, c->pos.col,
                          SW_CLOUDWATCH_MAX_THRESHOLDS);
    cw->thresholds_us[cw->n_thresholds++] = t;
    return SW_OK;
}

static sw_status
add_alert_thresholds(sw_cloudwatch *cw, const sw_alert *a, size_t n, sw_err *err)
{
    sw_status st = SW_OK;
    for (size_t i = 0; st == SW_OK && i < n; i++)
        if (a[i].kind == SW_ALERT_CONDITION)
            st = add_threshold(cw, &a[i].when, err);
    return st;
}

/* Every latency threshold a condition of the rules compares with (objectives and their
 * timeslice conditions, alerts, triggers, gate checks): each is fetched as PR(:T), so the
 * share of requests under it is CloudWatch's, not a reconstruction. */
static sw_status
set_thresholds(sw_cloudwatch *cw, const sw_rules *r, sw_err *err)
{
    sw_status st = SW_OK;
    for (size_t i = 0; st == SW_OK && i < r->n_objectives; i++) {
        st = add_threshold(cw, &r->objectives[i].objective, err);
        for (size_t k = 0; st == SW_OK && k < r->objectives[i].n_bad_when; k++)
            st = add_threshold(cw, &r->objectives[i].bad_when[k], err);
    }
    if (st == SW_OK)
        st = add_alert_thresholds(cw, r->alerts, r->n_alerts, err);
    if (st == SW_OK)
        st = add_alert_thresholds(cw, r->triggers, r->n_triggers, err);
    for (size_t i = 0; st == SW_OK && i < r->gate.n_checks; i++)
        st = add_threshold(cw, &r->gate.checks[i], err);
    return st;
}

/* The whole set's and every service's own (services resolved alike share their arrays). */
static sw_status
collect_thresholds(sw_cloudwatch *cw, const sw_rules *r, sw_err *err)
{
    sw_status st = set_thresholds(cw, r, err);
    const sw_rules *last = r;
    for (size_t i = 0; st == SW_OK && i < r->n_services; i++) {
        const sw_rules *own = sw_rules_of_service(r, i);
        if (own->objectives != last->objectives || own->alerts != last->alerts ||
            own->triggers != last->triggers || own->gate.checks != last->gate.checks)
            st = set_thresholds(cw, own, err);
        last = own;
    }
    return st;
}

/* ------------------------------------------------------------------ rolling windows */

/* Sliding windows are those up to 2 days (longer ones are kept as hours by the evaluator). */
#define ROLLING_MAX_MS (2 * INT64_C(86400000))

/* A length CloudWatch can answer as one period: whole minutes (Period and StartTime, the
 * window's start under 15 days old, are then what CloudWatch keeps and rounds to), more than
 * one (a window of one minute is the minute the poll reads anyway). */
static bool
rolling_length(int64_t length_ms)
{
    return length_ms > 60000 && length_ms <= ROLLING_MAX_MS && length_ms % 60000 == 0;
}

typedef struct lengths {
    int64_t *v;
    size_t cap, n;
} lengths;

/* Insert a new length in order; when full, it is left out. */
static void
lengths_add(lengths *l, int64_t length_ms)
{
    if (!rolling_length(length_ms))
        return;
    int64_t s = length_ms / 1000;
    size_t i = 0;
    while (i < l->n && l->v[i] < s)
        i++;
    if ((i < l->n && l->v[i] == s) || l->n == l->cap)
        return;
    memmove(l->v + i + 1, l->v + i, (l->n - i) * sizeof *l->v);
    l->v[i] = s;
    l->n++;
}

static void
alert_lengths(lengths *l, const sw_alert *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i].kind == SW_ALERT_CONDITION && a[i].when.sli == SW_SLI_LATENCY)
            lengths_add(l, a[i].over_ms);
}

/* The sliding latency windows of one rule set (what the evaluator keeps as SW_LAT_SLIDING). */
static void
set_lengths(lengths *l, const sw_rules *r)
{
    for (size_t i = 0; i < r->n_objectives; i++) {
        const sw_objective *o = &r->objectives[i];
        if (o->objective.sli == SW_SLI_LATENCY && o->window.kind == SW_WINDOW_ROLLING)
            lengths_add(l, o->window.length_ms);
    }
    alert_lengths(l, r->alerts, r->n_alerts);
    alert_lengths(l, r->triggers, r->n_triggers);
}

static bool
has_cloudwatch_latency(const sw_service *s)
{
    return s->latency.kind == SW_SOURCE_CLOUDWATCH;
}

void
sw_cloudwatch_rolling_lengths(const sw_rules *rules, int64_t *ret_s, size_t cap, size_t *ret_n)
{
    lengths l = {ret_s, cap, 0};
    for (size_t i = 0; i < rules->n_services; i++)
        if (has_cloudwatch_latency(&rules->services[i]))
            set_lengths(&l, sw_rules_of_service(rules, i));
    *ret_n = l.n;
}

/* The service's own rules use a sliding latency window of cw's period. */
static bool
uses_rolling(const sw_cloudwatch *cw, const sw_rules *rules, size_t svc)
{
    int64_t found[64];
    lengths l = {found, sizeof found / sizeof found[0], 0};
    set_lengths(&l, sw_rules_of_service(rules, svc));
    for (size_t i = 0; i < l.n; i++)
        if (found[i] == cw->period_s)
            return true;
    return false;
}

static sw_status
plan_rules(sw_cloudwatch *cw, const sw_rules *rules, sw_err *err)
{
    sw_status st = collect_thresholds(cw, rules, err);
    if (st != SW_OK)
        return st;
    cw->services = calloc(rules->n_services + 1, sizeof *cw->services);
    if (cw->services == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory planning CloudWatch queries");
    cw->n_services = rules->n_services;
    for (size_t i = 0; st == SW_OK && i < rules->n_services; i++) {
        const sw_service *s = &rules->services[i];
        cw->services[i].name = copy_str(cw, s->name);
        cw->services[i].unit_us = 1e3;
        if (cw->services[i].name == NULL)
            return sw_err_set(err, SW_E_NOMEM, "out of memory planning CloudWatch queries");
        if (cw->rolling && !uses_rolling(cw, rules, i))
            continue;
        st = plan_source(cw, i, &s->requests, ROLE_REQUESTS, s->name, err);
        if (st == SW_OK)
            st = plan_source(cw, i, &s->errors, ROLE_ERRORS, s->name, err);
        if (st == SW_OK)
            st = plan_source(cw, i, &s->latency, ROLE_PCT, s->name, err);
        if (st == SW_OK)
            st = plan_source(cw, i, &s->health, ROLE_UP, s->name, err);
    }
    return st;
}

static sw_status
plan_new(const sw_rules *rules, int64_t period_s, int64_t base_ms, bool windows, bool rolling,
         sw_cloudwatch **ret, sw_err *err)
{
    if (period_s <= 0 || base_ms <= 0 || (period_s * 1000) % base_ms != 0)
        return sw_err_set(err, SW_E_INVAL,
                          "cloudwatch period %llds is not a multiple of the base interval %lldms",
                          (long long)period_s, (long long)base_ms);
    sw_cloudwatch *cw = calloc(1, sizeof *cw);
    if (cw == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory planning CloudWatch queries");
    sw_arena_init(&cw->arena);
    cw->period_s = period_s;
    cw->base_ms = base_ms;
    cw->windows = windows;
    cw->rolling = rolling;
    sw_status st = plan_rules(cw, rules, err);
    if (st != SW_OK) {
        sw_cloudwatch_free(cw);
        return st;
    }
    *ret = cw;
    return SW_OK;
}

sw_status
sw_cloudwatch_new(const sw_rules *rules, int64_t period_s, int64_t base_ms, sw_cloudwatch **ret,
                  sw_err *err)
{
    return plan_new(rules, period_s, base_ms, false, false, ret, err);
}

sw_status
sw_cloudwatch_new_windows(const sw_rules *rules, int64_t window_s, sw_cloudwatch **ret, sw_err *err)
{
    return plan_new(rules, window_s, 1000, true, false, ret, err);
}

sw_status
sw_cloudwatch_new_rolling(const sw_rules *rules, int64_t window_s, sw_cloudwatch **ret, sw_err *err)
{
    return plan_new(rules, window_s, 1000, true, true, ret, err);
}

void
sw_cloudwatch_free(sw_cloudwatch *cw)
{
    if (cw == NULL)
        return;
    free(cw->queries);
    free(cw->meta);
    free(cw->services);
    sw_arena_fini(&cw->arena);
    free(cw);
}

const sw_cwgmd_query *
sw_cloudwatch_queries(const sw_cloudwatch *cw, size_t *ret_n)
{
    *ret_n = cw->n;
    return cw->queries;
}

int64_t
sw_cloudwatch_period_s(const sw_cloudwatch *cw)
{
    return cw->period_s;
}

int64_t
sw_cloudwatch_settled_end(int64_t now_s, int64_t settle_s, int64_t period_s)
{
    int64_t t = now_s - settle_s;
    return t - ((t % period_s) + period_s) % period_s;
}

/* ------------------------------------------------------------------ apply */

/* One service's statistics in one period. */
typedef struct slot {
    bool any, has_count, has_min, has_max, has_sum, has_healthy, has_unhealthy, has_up;
    double requests, errors, count, min, max, sum, healthy, unhealthy, up;
    sw_cwpct_point *pts; /* sw_cwpct_grid_len of them */
    size_t n_pts;
    sw_cwpct_rank ranks[SW_CLOUDWATCH_MAX_THRESHOLDS];
    size_t n_ranks;
} slot;

static bool
is_count(role r)
{
    return r == ROLE_REQUESTS || r == ROLE_ERRORS || r == ROLE_COUNT;
}

/* Every value is checked before anything is handed on, so a bad answer changes nothing. */
static sw_status
check_series(const sw_cloudwatch *cw, const sw_cwgmd_series *series, int64_t start_s,
             int64_t end_s, sw_err *err)
{
    for (size_t i = 0; i < cw->n; i++) {
        const sw_cwgmd_series *s = &series[i];
        for (size_t j = 0; j < s->n; j++) {
            double v = s->values[j];
            int64_t t = s->ts_s[j];
            if (t < start_s || t >= end_s || (t - start_s) % cw->period_s != 0 ||
                (j > 0 && t <= s->ts_s[j - 1]))
                return sw_err_set(err, SW_E_RANGE,
                                  "cloudwatch %s %s %s: timestamp %lld not a period of the "
                                  "range in order",
                                  cw->queries[i].namespace_, cw->queries[i].metric,
                                  cw->queries[i].stat, (long long)t);
            if (!isfinite(v) || v < 0 || (is_count(cw->meta[i].role) && v > 9007199254740992.0) ||
                (cw->meta[i].role == ROLE_RANK && v > 100))
                return sw_err_set(err, SW_E_RANGE,
                                  "cloudwatch %s %s %s at %lld: value %g out of range",
                                  cw->queries[i].namespace_, cw->queries[i].metric,
                                  cw->queries[i].stat, (long long)t, v);
        }
    }
    return SW_OK;
}

static void
put_value(slot *sl, const query_meta *m, double v)
{
    sl->any = true;
    switch (m->role) {
    case ROLE_REQUESTS: sl->requests += v; break;
    case ROLE_ERRORS: sl->errors += v; break;
    case ROLE_PCT: sl->pts[sl->n_pts++] = (sw_cwpct_point){m->p, v}; break;
    case ROLE_RANK: sl->ranks[sl->n_ranks++] = (sw_cwpct_rank){m->p, v}; break;
    case ROLE_COUNT: sl->count = v, sl->has_count = true; break;
    case ROLE_MIN: sl->min = v, sl->has_min = true; break;
    case ROLE_MAX: sl->max = v, sl->has_max = true; break;
    case ROLE_SUM: sl->sum = v, sl->has_sum = true; break;
    case ROLE_UP: sl->up = v, sl->has_up = true; break;
    case ROLE_HEALTHY: sl->healthy = v, sl->has_healthy = true; break;
    case ROLE_UNHEALTHY: sl->unhealthy = v, sl->has_unhealthy = true; break;
    }
}

/* Whether the slot holds latency statistics of some values. */
static bool
has_latency(const slot *sl)
{
    return sl->has_count && sl->count >= 0.5 && (sl->n_pts > 0 || sl->n_ranks > 0);
}

static sw_cwpct_period
period_of(const sw_cloudwatch *cw, size_t svc, const slot *sl)
{
    return (sw_cwpct_period){.points = sl->pts,
                             .n_points = sl->n_pts,
                             .ranks = sl->ranks,
                             .n_ranks = sl->n_ranks,
                             .sample_count = sl->count,
                             .min = sl->has_min ? sl->min : NAN,
                             .max = sl->has_max ? sl->max : NAN,
                             .unit_us = cw->services[svc].unit_us,
                             .sum = sl->has_sum ? sl->sum : NAN};
}

/* The period's latency histogram, or NULL when it reported no samples. */
static sw_status
period_latency(const sw_cloudwatch *cw, size_t svc, const slot *sl, sw_hdr **ret, sw_err *err)
{
    *ret = NULL;
    if (!has_latency(sl))
        return SW_OK;
    sw_hdr *h;
    sw_status st = sw_hdr_new(&sw_hdr_latency_config, &h, err);
    sw_cwpct_period pd = period_of(cw, svc, sl);
    if (st == SW_OK)
        st = sw_cwpct_record(h, &pd, err);
    if (st != SW_OK) {
        sw_hdr_free(h);
        return st;
    }
    *ret = h;
    return SW_OK;
}

/* Split n over k intervals: n / k each, one more for the first n % k. */
static uint64_t
share(uint64_t n, int64_t k, int64_t j)
{
    return n / (uint64_t)k + ((uint64_t)j < n % (uint64_t)k);
}

static sw_status
emit(const sw_cloudwatch *cw, size_t svc, const slot *sl, int64_t t_s, sw_cloudwatch_sink sink,
     void *ctx, sw_err *err)
{
    sw_hdr *h;
    sw_status st = period_latency(cw, svc, sl, &h, err);
    int64_t k = cw->period_s * 1000 / cw->base_ms;
    uint64_t req = (uint64_t)llround(sl->requests), errs = (uint64_t)llround(sl->errors);
    bool has_health = sl->has_up || sl->has_healthy || sl->has_unhealthy;
    bool ok = sl->has_up ? sl->up > 0
                         : (!sl->has_healthy || sl->healthy >= 1) &&
                               (!sl->has_unhealthy || sl->unhealthy == 0);
    for (int64_t j = 0; st == SW_OK && j < k; j++) {
        sw_sli_interval iv = {.start_ms = t_s * 1000 + j * cw->base_ms,
                              .length_ms = cw->base_ms,
                              .requests = share(req, k, j),
                              .errors = share(errs, k, j),
                              .latency = j == 0 ? h : NULL,
                              .has_data = true};
        if (j == 0 && has_health)
            sw_health_record(&iv.health, ok);
        st = sink(ctx, cw->services[svc].name, &iv, err);
    }
    sw_hdr_free(h);
    return st;
}

/* Slots for every service, with room for the grid's points. */
static slot *
slots_new(const sw_cloudwatch *cw)
{
    size_t n = cw->n_services + 1;
    slot *s = calloc(n, sizeof *s);
    sw_cwpct_point *pts = s != NULL ? calloc(n * (sw_cwpct_grid_len + 1), sizeof *pts) : NULL;
    if (pts == NULL) {
        free(s);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        s[i].pts = pts + i * (sw_cwpct_grid_len + 1);
    return s;
}

static void
slots_reset(slot *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sw_cwpct_point *pts = s[i].pts;
        memset(&s[i], 0, sizeof s[i]);
        s[i].pts = pts;
    }
}

/* What to do with one service's statistics of one period. */
typedef struct visit {
    sw_cloudwatch_sink intervals;      /* periods as intervals */
    sw_cloudwatch_window_sink windows; /* or windows' latency statistics */
    void *ctx;
} visit;

static sw_status
visit_slot(const sw_cloudwatch *cw, size_t svc, const slot *sl, int64_t t_s, const visit *v,
           sw_err *err)
{
    if (v->intervals != NULL)
        return emit(cw, svc, sl, t_s, v->intervals, v->ctx, err);
    if (!has_latency(sl))
        return SW_OK;
    sw_cwpct_period pd = period_of(cw, svc, sl);
    return v->windows(v->ctx, cw->services[svc].name, t_s, &pd, err);
}

/* Group the series' values by period and service, checked first, and visit each. */
static sw_status
visit_periods(const sw_cloudwatch *cw, const sw_cwgmd_series *series, int64_t start_s,
              int64_t end_s, const visit *v, sw_err *err)
{
    sw_status st = check_series(cw, series, start_s, end_s, err);
    if (st != SW_OK)
        return st;
    slot *slots = slots_new(cw);
    size_t *cur = calloc(cw->n + 1, sizeof *cur);
    if (slots == NULL || cur == NULL)
        st = sw_err_set(err, SW_E_NOMEM, "out of memory applying CloudWatch data");
    for (int64_t t = start_s; st == SW_OK && t < end_s; t += cw->period_s) {
        slots_reset(slots, cw->n_services);
        for (size_t i = 0; i < cw->n; i++) {
            const sw_cwgmd_series *s = &series[i];
            if (cur[i] < s->n && s->ts_s[cur[i]] == t)
                put_value(&slots[cw->meta[i].service], &cw->meta[i], s->values[cur[i]++]);
        }
        for (size_t svc = 0; st == SW_OK && svc < cw->n_services; svc++)
            if (slots[svc].any)
                st = visit_slot(cw, svc, &slots[svc], t, v, err);
    }
    if (slots != NULL)
        free(slots[0].pts);
    free(slots);
    free(cur);
    return st;
}

sw_status
sw_cloudwatch_apply(const sw_cloudwatch *cw, const sw_cwgmd_series *series, int64_t start_s,
                    int64_t end_s, sw_cloudwatch_sink sink, void *ctx, sw_err *err)
{
    visit v = {.intervals = sink, .ctx = ctx};
    return visit_periods(cw, series, start_s, end_s, &v, err);
}

sw_status
sw_cloudwatch_windows(const sw_cloudwatch *cw, const sw_cwgmd_series *series, int64_t start_s,
                      int64_t end_s, sw_cloudwatch_window_sink sink, void *ctx, sw_err *err)
{
    visit v = {.windows = sink, .ctx = ctx};
    return visit_periods(cw, series, start_s, end_s, &v, err);
}

/* ------------------------------------------------------------------ client */

static const char *
env_lookup(void *ctx, const char *name)
{
    (void)ctx;
    return getenv(name);
}

sw_status
sw_cloudwatch_client_new(const sw_cloudwatch_options *cfg, const sw_cwgmd_options *tuning,
                         sw_awscreds_provider **ret_creds, sw_cwgmd **ret_client, char *endpoint,
                         size_t cap, sw_err *err)
{
    sw_awscreds_options ao = {.getenv = env_lookup, .profile = cfg->profile};
    char region[SW_AWSCREDS_REGION_MAX];
    sw_status st = SW_OK;
    *ret_creds = NULL;
    *ret_client = NULL;
    if (cfg->region != NULL)
        snprintf(region, sizeof region, "%s", cfg->region);
    else
        st = sw_awscreds_region(&ao, region, sizeof region, err);
    if (st == SW_OK && cfg->endpoint_url != NULL)
        snprintf(endpoint, cap, "%s", cfg->endpoint_url);
    else if (st == SW_OK)
        st = sw_awscreds_endpoint_url(&ao, "CLOUDWATCH", "cloudwatch", "monitoring", region,
                                      endpoint, cap, err);
    if (st == SW_OK)
        st = sw_awscreds_provider_new(&ao, ret_creds, err);
    sw_cwgmd_options o = *tuning;
    o.endpoint_url = endpoint;
    o.region = region;
    o.creds = *ret_creds;
    o.timeout_ms = cfg->timeout_ms;
    if (st == SW_OK)
        st = sw_cwgmd_new(&o, ret_client, err);
    if (st != SW_OK) {
        sw_awscreds_provider_free(*ret_creds);
        *ret_creds = NULL;
    }
    return st;
}
