/*
 * A service page's data over a range (web_series.h). The store is read once, through its own
 * scan (sw_store_scan_upto: each instant once, from the coarsest rows that still fit a bucket,
 * base rows where the rollup has not reached yet); the stretches that maintenance windows touch
 * are read again at one minute, so a window that cuts an hour leaves out only its own minutes
 * (as the report's scan does, report_scan.c, whose maintenance test and histogram merge are
 * shared here; where retention has removed the minutes, the coarser rows touching the window
 * are left out whole). Buckets keep their merged histograms until the end: the range's
 * percentiles come from their sum, never from an average.
 */
#include "slawatch/web_series.h"
#include "report_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slawatch/hdr.h"
#include "slawatch/units.h"

#define MIN_MS INT64_C(60000)
#define HOUR_MS (60 * MIN_MS)
#define DAY_MS (24 * HOUR_MS)
#define FUTURE_SLACK_MS HOUR_MS /* a range may end a little after now (clock skew) */

static const int64_t bucket_sizes[] = {MIN_MS,  5 * MIN_MS,  15 * MIN_MS,
                                       HOUR_MS, 6 * HOUR_MS, DAY_MS};

/* ------------------------------------------------------------------ the range */

static int64_t
floor_to(int64_t t, int64_t step)
{
    int64_t q = t / step;
    return (q - (t % step != 0 && t < 0)) * step;
}

static bool
parse_instant(const char *s, int64_t *ret)
{
    if (s == NULL || *s == '\0')
        return false;
    char *end;
    long long ms = strtoll(s, &end, 10);
    if (*end == '\0' && end != s) {
        *ret = ms;
        return true;
    }
    return sw_units_parse_time_ms(s, strlen(s), ret);
}

/* [start, end) of the local calendar month holding t, shifted `back` months earlier. */
static void
local_month(int64_t t, int offset_s, int back, int64_t *ret_start, int64_t *ret_end)
{
    int64_t off = (int64_t)offset_s * 1000, start, end;
    sw_units_month_of(t + off, &start, &end);
    for (int i = 0; i < back; i++) {
        end = start;
        sw_units_month_of(start - 1, &start, &end);
    }
    *ret_start = start - off;
    *ret_end = end - off;
}

static bool
named_span(const char *name, int64_t *ret)
{
    static const struct {
        const char *name;
        int64_t ms;
    } spans[] = {{"1h", HOUR_MS},
                 {"6h", 6 * HOUR_MS},
                 {"1d", DAY_MS},
                 {"7d", 7 * DAY_MS},
                 {"30d", 30 * DAY_MS}};
    for (size_t i = 0; i < sizeof spans / sizeof spans[0]; i++)
        if (strcmp(name, spans[i].name) == 0) {
            *ret = spans[i].ms;
            return true;
        }
    return false;
}

static sw_status
range_bounds(const char *range, const char *from, const char *to, int64_t now_ms, int offset_s,
             sw_web_range *out, sw_err *err)
{
    int64_t span;
    if (range != NULL && named_span(range, &span)) {
        out->from_ms = now_ms - span;
        out->to_ms = now_ms;
    } else if (range != NULL && strcmp(range, "this-month") == 0) {
        local_month(now_ms, offset_s, 0, &out->from_ms, &out->to_ms);
        out->to_ms = now_ms;
    } else if (range != NULL && strcmp(range, "last-month") == 0) {
        local_month(now_ms, offset_s, 1, &out->from_ms, &out->to_ms);
    } else if (range == NULL || strcmp(range, "custom") == 0) {
        if (!parse_instant(from, &out->from_ms))
            return sw_err_set(err, SW_E_INVAL,
                              "from: expected an RFC 3339 time or epoch "
                              "milliseconds");
        if (!parse_instant(to, &out->to_ms))
            return sw_err_set(err, SW_E_INVAL,
                              "to: expected an RFC 3339 time or epoch "
                              "milliseconds");
        range = "custom";
    } else {
        return sw_err_set(err, SW_E_INVAL,
                          "range: unknown (1h, 6h, 1d, 7d, 30d, this-month, "
                          "last-month or custom with from and to)");
    }
    snprintf(out->name, sizeof out->name, "%s", range);
    return SW_OK;
}

sw_status
sw_web_range_parse(const char *range, const char *from, const char *to, int64_t now_ms,
                   int offset_s, int64_t keep_ms, sw_web_range *out, sw_err *err)
{
    memset(out, 0, sizeof *out);
    sw_status r = range_bounds(range, from, to, now_ms, offset_s, out, err);
    if (r != SW_OK)
        return r;
    if (out->from_ms < 0)
        return sw_err_set(err, SW_E_INVAL, "range: from is before 1970");
    if (out->from_ms >= out->to_ms)
        return sw_err_set(err, SW_E_INVAL, "range: from must be before to");
    if (out->to_ms > now_ms + FUTURE_SLACK_MS)
        return sw_err_set(err, SW_E_INVAL, "range: to is in the future");
    if (keep_ms > 0 && out->from_ms < now_ms - keep_ms)
        return sw_err_set(err, SW_E_RANGE,
                          "range: starts before the oldest data the store keeps "
                          "(%lld days back)",
                          (long long)(keep_ms / DAY_MS));
    int64_t span = out->to_ms - floor_to(out->from_ms, DAY_MS);
    for (size_t i = 0; i < sizeof bucket_sizes / sizeof bucket_sizes[0]; i++) {
        int64_t b = bucket_sizes[i], n = (out->to_ms - floor_to(out->from_ms, b) + b - 1) / b;
        if (n <= SW_WEB_MAX_BUCKETS / 2 || (b == DAY_MS && n <= SW_WEB_MAX_BUCKETS)) {
            out->bucket_ms = b;
            out->from_ms = floor_to(out->from_ms, b);
            return SW_OK;
        }
    }
    return sw_err_set(err, SW_E_RANGE, "range: %lld days is longer than the %d days a page shows",
                      (long long)(span / DAY_MS), SW_WEB_MAX_BUCKETS);
}

/* ------------------------------------------------------------------ reading the store */

typedef struct span {
    int64_t from, to;
} span;

typedef struct load_ctx {
    sw_web_series *s;
    const sw_service *svc;
    sw_hdr **lat; /* per bucket, NULL until one arrives */
    span *reread; /* stretches around maintenance read again at one minute */
    size_t n_reread;
} load_ctx;

static sw_status
add_row(load_ctx *c, const sw_sli_interval *iv, sw_err *err)
{
    const sw_web_range *r = &c->s->range;
    if (iv->start_ms < r->from_ms || iv->start_ms >= r->to_ms)
        return SW_OK;
    size_t k = (size_t)((iv->start_ms - r->from_ms) / r->bucket_ms);
    sw_web_bucket *b = &c->s->buckets[k];
    b->requests += iv->requests;
    b->errors += iv->errors;
    b->has_data |= iv->has_data;
    return iv->latency != NULL ? sw_report_merge_into(&c->lat[k], iv->latency, err) : SW_OK;
}

static bool
in_reread(const load_ctx *c, int64_t t)
{
    for (size_t i = 0; i < c->n_reread; i++)
        if (t >= c->reread[i].from && t < c->reread[i].to)
            return true;
    return false;
}

static sw_status
visit_main(void *ctx, const char *service, const char *env, const sw_sli_interval *iv, sw_err *err)
{
    (void)service, (void)env;
    load_ctx *c = ctx;
    return in_reread(c, iv->start_ms) ? SW_OK : add_row(c, iv, err);
}

static sw_status
visit_minute(void *ctx, const char *service, const char *env, const sw_sli_interval *iv,
             sw_err *err)
{
    (void)service, (void)env;
    load_ctx *c = ctx;
    return sw_report_in_maint(c->svc, iv->start_ms, iv->start_ms + iv->length_ms)
               ? SW_OK
               : add_row(c, iv, err);
}

/* The coarsest rows a bucket holds whole: days for daily buckets (UTC days both), else hours
 * at most. */
static int64_t
coarsest_rows(int64_t bucket_ms)
{
    return bucket_ms >= DAY_MS ? DAY_MS : bucket_ms < HOUR_MS ? bucket_ms : HOUR_MS;
}

static int
cmp_span(const void *a, const void *b)
{
    const span *x = a, *y = b;
    return (x->from > y->from) - (x->from < y->from);
}

/* Each maintenance window in the range, widened to the coarsest rows, overlaps merged. */
static sw_status
plan_reread(load_ctx *c, sw_err *err)
{
    const sw_web_range *r = &c->s->range;
    int64_t g = coarsest_rows(r->bucket_ms);
    c->reread = calloc(c->svc->n_maintenance + 1, sizeof *c->reread);
    if (c->reread == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory planning the range's reads");
    for (size_t i = 0; i < c->svc->n_maintenance; i++) {
        const sw_maintenance *m = &c->svc->maintenance[i];
        int64_t a = floor_to(m->start_ms, g), z = floor_to(m->end_ms + g - 1, g);
        a = a > r->from_ms ? a : r->from_ms;
        z = z < r->to_ms ? z : r->to_ms;
        if (a < z)
            c->reread[c->n_reread++] = (span){a, z};
    }
    qsort(c->reread, c->n_reread, sizeof *c->reread, cmp_span);
    size_t n = 0;
    for (size_t i = 0; i < c->n_reread; i++) {
        if (n > 0 && c->reread[i].from <= c->reread[n - 1].to) {
            if (c->reread[i].to > c->reread[n - 1].to)
                c->reread[n - 1].to = c->reread[i].to;
        } else {
            c->reread[n++] = c->reread[i];
        }
    }
    c->n_reread = n;
    return SW_OK;
}

static sw_status
scan_counts(sw_store *st, load_ctx *c, sw_err *err)
{
    const sw_web_range *r = &c->s->range;
    sw_status rc = plan_reread(c, err);
    if (rc == SW_OK)
        rc = sw_store_scan_upto(st, c->s->key, r->from_ms, r->to_ms, r->to_ms,
                                coarsest_rows(r->bucket_ms), visit_main, c, err);
    for (size_t i = 0; rc == SW_OK && i < c->n_reread; i++)
        rc = sw_store_scan_upto(st, c->s->key, c->reread[i].from, c->reread[i].to, c->reread[i].to,
                                MIN_MS, visit_minute, c, err);
    return rc;
}

/* ------------------------------------------------------------------ marks and events */

/*
 * Room for one more item in a list kept to its latest SW_WEB_MAX_MARKS: the oldest drops out
 * when it is full (the store visits in time order). Returns the slot, NULL without memory.
 */
static void *
list_slot(void **items, size_t *n, size_t size, bool *truncated)
{
    if (*items == NULL) {
        *items = calloc(SW_WEB_MAX_MARKS, size);
        if (*items == NULL)
            return NULL;
    }
    char *base = *items;
    if (*n == SW_WEB_MAX_MARKS) {
        memmove(base, base + size, (SW_WEB_MAX_MARKS - 1) * size);
        (*n)--;
        *truncated = true;
    }
    char *slot = base + (*n)++ * size;
    memset(slot, 0, size);
    return slot;
}

#define COPY(dst, src) snprintf((dst), sizeof(dst), "%s", (src) ? (src) : "")

static sw_status
visit_deployment(void *ctx, const sw_store_override *o, sw_err *err)
{
    sw_web_series *s = ctx;
    sw_web_deployment *d =
        list_slot((void **)&s->deployments, &s->n_deployments, sizeof *d, &s->truncated);
    if (d == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory listing deployments");
    d->at_ms = o->at_ms;
    COPY(d->env, o->env);
    COPY(d->who, o->who);
    COPY(d->policy_override, o->policy_override);
    return SW_OK;
}

/* checks_json cut short at the cap ends in "..." rather than in the middle of nowhere. */
static void
copy_checks(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (n < cap) {
        snprintf(dst, cap, "%s", src ? src : "");
        return;
    }
    snprintf(dst, cap, "%.*s...", (int)(cap - 4), src);
}

static sw_status
visit_audit(void *ctx, const sw_store_gate_audit *a, sw_err *err)
{
    sw_web_series *s = ctx;
    if (a->service == NULL || strcmp(a->service, s->service) != 0)
        return SW_OK;
    sw_web_gate *g = list_slot((void **)&s->gates, &s->n_gates, sizeof *g, &s->truncated);
    if (g == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory listing gate decisions");
    g->at_ms = a->at_ms;
    g->window_ms = a->window_ms;
    COPY(g->env, a->env);
    COPY(g->who, a->who);
    COPY(g->verdict, a->verdict);
    copy_checks(g->checks_json, sizeof g->checks_json, a->checks_json);
    return SW_OK;
}

static sw_status
visit_event(void *ctx, const sw_store_event *e, sw_err *err)
{
    sw_web_series *s = ctx;
    if (e->service == NULL || strcmp(e->service, s->key) != 0)
        return SW_OK;
    sw_web_event *v = list_slot((void **)&s->events, &s->n_events, sizeof *v, &s->truncated);
    if (v == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory listing events");
    v->at_ms = e->at_ms;
    v->value = e->value;
    COPY(v->kind, e->kind);
    COPY(v->state, e->state);
    COPY(v->name, e->name);
    COPY(v->env, e->env);
    return SW_OK;
}

static sw_status
copy_maintenance(sw_web_series *s, const sw_service *svc, sw_err *err)
{
    s->maint = calloc(svc->n_maintenance + 1, sizeof *s->maint);
    if (s->maint == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory listing maintenance");
    for (size_t i = 0; i < svc->n_maintenance; i++) {
        const sw_maintenance *m = &svc->maintenance[i];
        if (m->end_ms <= s->range.from_ms || m->start_ms >= s->range.to_ms)
            continue;
        sw_web_maint *w = &s->maint[s->n_maint++];
        w->from_ms = m->start_ms;
        w->to_ms = m->end_ms;
        COPY(w->reason, m->reason);
    }
    return SW_OK;
}

static sw_status
scan_records(sw_store *st, sw_web_series *s, sw_err *err)
{
    const sw_web_range *r = &s->range;
    sw_status rc =
        sw_store_deployments(st, s->service, r->from_ms, r->to_ms, visit_deployment, s, err);
    if (rc == SW_OK)
        rc = sw_store_gate_audits(st, r->from_ms, r->to_ms, visit_audit, s, err);
    if (rc == SW_OK)
        rc = sw_store_events(st, r->from_ms, r->to_ms, visit_event, s, err);
    return rc;
}

/* ------------------------------------------------------------------ the figures */

static void
targets(sw_web_series *s, const sw_rules *own)
{
    s->availability_target = s->p95_target_us = s->p99_target_us = NAN;
    for (size_t i = 0; i < own->n_objectives; i++) {
        const sw_objective *o = &own->objectives[i];
        if (o->objective.sli == SW_SLI_AVAILABILITY && isnan(s->availability_target) &&
            o->budgeting != SW_BUDGET_TIMESLICES)
            s->availability_target = o->objective.value;
        if (o->objective.sli == SW_SLI_LATENCY && o->objective.percentile == 95.0 &&
            isnan(s->p95_target_us))
            s->p95_target_us = o->objective.value;
        if (o->objective.sli == SW_SLI_LATENCY && o->objective.percentile == 99.0 &&
            isnan(s->p99_target_us))
            s->p99_target_us = o->objective.value;
    }
}

static void
percentiles(const sw_hdr *h, double *p50, double *p95, double *p99)
{
    bool any = h != NULL && sw_hdr_total_count(h) > 0;
    *p50 = any ? (double)sw_hdr_value_at_percentile(h, 50.0) : NAN;
    *p95 = any ? (double)sw_hdr_value_at_percentile(h, 95.0) : NAN;
    *p99 = any ? (double)sw_hdr_value_at_percentile(h, 99.0) : NAN;
}

/* Milliseconds of [from, to) under maintenance (windows assumed not to overlap each other). */
static int64_t
maint_overlap(const sw_service *svc, int64_t from, int64_t to)
{
    int64_t ms = 0;
    for (size_t i = 0; i < svc->n_maintenance; i++) {
        int64_t a = svc->maintenance[i].start_ms > from ? svc->maintenance[i].start_ms : from;
        int64_t z = svc->maintenance[i].end_ms < to ? svc->maintenance[i].end_ms : to;
        ms += z > a ? z - a : 0;
    }
    return ms < to - from ? ms : to - from;
}

static void
bucket_figures(load_ctx *c)
{
    sw_web_series *s = c->s;
    const sw_web_range *r = &s->range;
    for (size_t k = 0; k < s->n_buckets; k++) {
        sw_web_bucket *b = &s->buckets[k];
        int64_t end = b->start_ms + r->bucket_ms < r->to_ms ? b->start_ms + r->bucket_ms : r->to_ms;
        int64_t open_ms = end - b->start_ms - maint_overlap(c->svc, b->start_ms, end);
        b->maint = sw_report_in_maint(c->svc, b->start_ms, end);
        b->availability = b->requests ? 1.0 - (double)b->errors / (double)b->requests : NAN;
        b->error_rate = b->requests ? (double)b->errors / (double)b->requests : NAN;
        b->rate_rps =
            b->has_data && open_ms > 0 ? (double)b->requests * 1000.0 / (double)open_ms : NAN;
        percentiles(c->lat[k], &b->p50_us, &b->p95_us, &b->p99_us);
        b->budget_ideal = 1.0 - (double)(end - r->from_ms) / (double)(r->to_ms - r->from_ms);
        s->requests += b->requests;
        s->errors += b->errors;
    }
    /* The budget is the range's allowance: (1 - target) of the range's requests; each bucket's
     * end shows what the errors so far left of it (the report's burn-down, over any range). */
    double allowed = (1.0 - s->availability_target) * (double)s->requests;
    uint64_t spent = 0;
    for (size_t k = 0; k < s->n_buckets; k++) {
        spent += s->buckets[k].errors;
        s->buckets[k].budget_left = allowed > 0 ? 1.0 - (double)spent / allowed : NAN;
    }
    s->budget_left = allowed > 0 ? 1.0 - (double)spent / allowed : NAN;
}

static sw_status
range_percentiles(load_ctx *c, sw_err *err)
{
    sw_hdr *all = NULL;
    sw_status rc = SW_OK;
    for (size_t k = 0; rc == SW_OK && k < c->s->n_buckets; k++)
        if (c->lat[k] != NULL)
            rc = sw_report_merge_into(&all, c->lat[k], err);
    if (rc == SW_OK)
        percentiles(all, &c->s->p50_us, &c->s->p95_us, &c->s->p99_us);
    sw_hdr_free(all);
    return rc;
}

/* ------------------------------------------------------------------ load */

static sw_status
series_init(sw_web_series *s, const sw_service *svc, const sw_web_range *range, load_ctx *c,
            sw_err *err)
{
    s->range = *range;
    COPY(s->service, svc->name);
    targets(s, svc->rules);
    s->n_buckets =
        (size_t)((range->to_ms - range->from_ms + range->bucket_ms - 1) / range->bucket_ms);
    if (range->bucket_ms <= 0 || s->n_buckets > SW_WEB_MAX_BUCKETS)
        return sw_err_set(err, SW_E_INVAL, "range: not from sw_web_range_parse");
    s->buckets = calloc(s->n_buckets + 1, sizeof *s->buckets);
    c->lat = calloc(s->n_buckets + 1, sizeof *c->lat);
    if (s->buckets == NULL || c->lat == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory for %zu buckets", s->n_buckets);
    for (size_t k = 0; k < s->n_buckets; k++)
        s->buckets[k].start_ms = range->from_ms + (int64_t)k * range->bucket_ms;
    return copy_maintenance(s, svc, err);
}

sw_status
sw_web_series_load(sw_store *st, const sw_rules *rules, const char *service,
                   const sw_web_range *range, sw_web_series **ret, sw_err *err)
{
    ptrdiff_t i = service ? sw_rules_series_service(rules, service, NULL) : -1;
    if (i < 0)
        return sw_err_set(err, SW_E_INVAL, "service: not in the rules");
    const sw_service *svc = &rules->services[i];
    sw_web_series *s = calloc(1, sizeof *s);
    if (s == NULL || (s->key = strdup(service)) == NULL) {
        free(s);
        return sw_err_set(err, SW_E_NOMEM, "out of memory for a service page");
    }
    load_ctx c = {.s = s, .svc = svc};
    sw_status rc = series_init(s, svc, range, &c, err);
    if (rc == SW_OK)
        rc = scan_counts(st, &c, err);
    if (rc == SW_OK)
        rc = scan_records(st, s, err);
    if (rc == SW_OK) {
        bucket_figures(&c);
        rc = range_percentiles(&c, err);
    }
    for (size_t k = 0; c.lat != NULL && k < s->n_buckets; k++)
        sw_hdr_free(c.lat[k]);
    free(c.lat);
    free(c.reread);
    if (rc != SW_OK) {
        sw_web_series_free(s);
        return rc;
    }
    *ret = s;
    return SW_OK;
}

void
sw_web_series_free(sw_web_series *s)
{
    if (s == NULL)
        return;
    free(s->buckets);
    free(s->deployments);
    free(s->gates);
    free(s->events);
    free(s->maint);
    free(s->key);
    free(s);
}
