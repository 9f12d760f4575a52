/*
 * The evaluation plan: what a rule set asks of every series, worked out once when the
 * evaluator is built. Which latency windows need a merged histogram (shared by every alert,
 * trigger or objective over the same window), which latency thresholds get slow counts, how
 * long each history level must be kept, and each service's maintenance ranges. Immutable.
 */
#include "eval_int.h"
#include "slawatch/units.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MONTH_MAX_MS (31 * SW_DAY_MS)

bool
sw_plan_uses_slices(const sw_objective *o)
{
    return o->objective.sli == SW_SLI_THROUGHPUT ||
           (o->objective.sli == SW_SLI_AVAILABILITY && o->budgeting == SW_BUDGET_TIMESLICES);
}

void
sw_plan_objective_window(const sw_objective *o, int64_t now_ms, int64_t *ret_start,
                         int64_t *ret_whole_start, int64_t *ret_whole_end)
{
    if (o->window.kind == SW_WINDOW_MONTH) {
        sw_units_month_of(now_ms - 1, ret_whole_start, ret_whole_end);
        *ret_start = *ret_whole_start;
        return;
    }
    *ret_start = now_ms - o->window.length_ms;
    *ret_whole_start = *ret_start;
    *ret_whole_end = now_ms;
}

static int64_t
objective_length(const sw_objective *o)
{
    return o->window.kind == SW_WINDOW_MONTH ? MONTH_MAX_MS : o->window.length_ms;
}

/* ------------------------------------------------------------------ validation */

static sw_status
check_alert(const sw_rules *r, const sw_alert *a, const char *what, sw_err *err)
{
    if (a->kind == SW_ALERT_BURN_RATE) {
        if (a->objective >= r->n_objectives)
            return sw_err_set(err, SW_E_INVAL, "%s %s: objective %zu does not exist", what, a->name,
                              a->objective);
        if (a->long_ms <= 0 || a->short_ms <= 0)
            return sw_err_set(err, SW_E_INVAL, "%s %s: burn-rate windows must be positive", what,
                              a->name);
    } else if (a->over_ms <= 0) {
        return sw_err_set(err, SW_E_INVAL, "%s %s: `over` must be positive", what, a->name);
    }
    if (a->for_ms < 0)
        return sw_err_set(err, SW_E_INVAL, "%s %s: `for` must not be negative", what, a->name);
    return SW_OK;
}

static sw_status
check_objective(const sw_objective *o, sw_err *err)
{
    if (o->window.kind == SW_WINDOW_ROLLING && o->window.length_ms <= 0)
        return sw_err_set(err, SW_E_INVAL, "objective %s: window must be positive", o->name);
    if (sw_plan_uses_slices(o) && o->slice_ms <= 0)
        return sw_err_set(err, SW_E_INVAL, "objective %s: slice must be positive", o->name);
    if (o->objective.sli == SW_SLI_LATENCY &&
        !(o->objective.percentile > 0.0 && o->objective.percentile <= 100.0))
        return sw_err_set(err, SW_E_INVAL, "objective %s: percentile out of range", o->name);
    return SW_OK;
}

static sw_status
check_rules(const sw_rules *r, sw_err *err)
{
    if (r->base_interval_ms <= 0 || r->min_requests < 0)
        return sw_err_set(err, SW_E_INVAL, "base interval and min_requests must be positive");
    sw_status st = SW_OK;
    for (size_t i = 0; i < r->n_alerts && st == SW_OK; i++)
        st = check_alert(r, &r->alerts[i], "alert", err);
    for (size_t i = 0; i < r->n_triggers && st == SW_OK; i++)
        st = check_alert(r, &r->triggers[i], "rollback trigger", err);
    for (size_t i = 0; i < r->n_objectives && st == SW_OK; i++)
        st = check_objective(&r->objectives[i], err);
    return st;
}

/* ------------------------------------------------------------------ latency */

static ptrdiff_t
lat_index(sw_plan *p, sw_lat_kind kind, int64_t length_ms, bool excl_maint)
{
    for (size_t i = 0; i < p->n_lat; i++)
        if (p->lat[i].kind == kind && p->lat[i].length_ms == length_ms &&
            p->lat[i].excl_maint == excl_maint)
            return (ptrdiff_t)i;
    p->lat[p->n_lat] = (sw_lat_spec){kind, length_ms, excl_maint, !excl_maint};
    return (ptrdiff_t)p->n_lat++;
}

static ptrdiff_t
alert_lat(sw_plan *p, const sw_alert *a)
{
    if (a->kind != SW_ALERT_CONDITION || a->when.sli != SW_SLI_LATENCY)
        return -1;
    return lat_index(p, SW_LAT_SLIDING, a->over_ms, false);
}

static ptrdiff_t
objective_lat(sw_plan *p, const sw_objective *o)
{
    if (o->objective.sli != SW_SLI_LATENCY)
        return -1;
    if (o->window.kind == SW_WINDOW_MONTH)
        return lat_index(p, SW_LAT_MONTH, 0, true);
    if (o->window.length_ms <= SW_EXACT_MAX_MS)
        return lat_index(p, SW_LAT_SLIDING, o->window.length_ms, true);
    return lat_index(p, SW_LAT_HOURLY, o->window.length_ms, true);
}

/* Latency objectives `pNN <= T` keep a count of values above T for their budgets. */
static sw_status
objective_slow(sw_plan *p, const sw_objective *o, ptrdiff_t *ret, sw_err *err)
{
    const sw_condition *c = &o->objective;
    *ret = -1;
    if (c->sli != SW_SLI_LATENCY || (c->op != SW_OP_LE && c->op != SW_OP_LT))
        return SW_OK;
    int64_t t = (int64_t)llround(c->value);
    for (size_t i = 0; i < p->n_slow; i++)
        if (p->slow_us[i] == t) {
            *ret = (ptrdiff_t)i;
            return SW_OK;
        }
    if (p->n_slow == SW_SLOW_MAX)
        return sw_err_set(err, SW_E_INVAL, "more than %d distinct latency objective thresholds",
                          SW_SLOW_MAX);
    p->slow_us[p->n_slow] = t;
    *ret = (ptrdiff_t)p->n_slow++;
    return SW_OK;
}

static sw_status
plan_latency(sw_plan *p, const sw_rules *r, sw_err *err)
{
    for (size_t i = 0; i < r->n_alerts; i++)
        p->alert_lat[i] = alert_lat(p, &r->alerts[i]);
    for (size_t i = 0; i < r->n_triggers; i++)
        p->trigger_lat[i] = alert_lat(p, &r->triggers[i]);
    for (size_t i = 0; i < r->n_objectives; i++) {
        p->objective_lat[i] = objective_lat(p, &r->objectives[i]);
        sw_status st = objective_slow(p, &r->objectives[i], &p->objective_slow[i], err);
        if (st != SW_OK)
            return st;
    }
    return SW_OK;
}

/* ------------------------------------------------------------------ retention */

/* Windows of alerts and triggers: over, or a burn rate's long and short windows. */
static void
alert_windows(const sw_alert *a, int64_t w[2])
{
    w[0] = a->kind == SW_ALERT_BURN_RATE ? a->long_ms : a->over_ms;
    w[1] = a->kind == SW_ALERT_BURN_RATE ? a->short_ms : 0;
}

typedef struct spans {
    int64_t exact;   /* longest window up to 2 d */
    int64_t rolling; /* longest rolling window beyond 2 d */
    int64_t any;     /* longest window of all */
} spans;

static void
span_add(spans *s, int64_t length_ms, bool rolling)
{
    if (length_ms <= SW_EXACT_MAX_MS)
        s->exact = sw_max_i64(s->exact, length_ms);
    else if (rolling)
        s->rolling = sw_max_i64(s->rolling, length_ms);
    s->any = sw_max_i64(s->any, length_ms);
}

static spans
rule_spans(const sw_plan *p, const sw_rules *r)
{
    spans s = {SW_HOUR_MS, 0, 0};
    const sw_alert *lists[2] = {r->alerts, r->triggers};
    size_t counts[2] = {r->n_alerts, r->n_triggers};
    for (int l = 0; l < 2; l++)
        for (size_t i = 0; i < counts[l]; i++) {
            int64_t w[2];
            alert_windows(&lists[l][i], w);
            span_add(&s, w[0], true);
            span_add(&s, w[1], true);
        }
    for (size_t i = 0; i < r->n_objectives; i++) {
        const sw_objective *o = &r->objectives[i];
        span_add(&s, objective_length(o), o->window.kind == SW_WINDOW_ROLLING);
    }
    span_add(&s, r->gate.window_ms, true);
    for (size_t i = 0; i < p->n_lat; i++)
        if (p->lat[i].kind == SW_LAT_SLIDING)
            span_add(&s, p->lat[i].length_ms, true);
    return s;
}

static void
plan_retention(sw_plan *p, const sw_rules *r)
{
    spans s = rule_spans(p, r);
    int64_t base = r->base_interval_ms;
    sw_history_config *h = &p->history;
    h->n_sums = SW_SUM_SLOW + p->n_slow;
    h->base_ms = base;
    h->keep_ms[SW_LEVEL_BASE] = s.exact + 2 * base;
    h->keep_ms[SW_LEVEL_MINUTE] = s.rolling > 0 ? s.rolling + SW_HOUR_MS : 0;
    h->keep_ms[SW_LEVEL_HOUR] = s.any > s.exact ? s.any + SW_HOUR_MS : 0;
    int64_t lat = sw_max_i64(r->gate.window_ms, 0);
    for (size_t i = 0; i < p->n_lat; i++)
        if (p->lat[i].kind == SW_LAT_SLIDING)
            lat = sw_max_i64(lat, p->lat[i].length_ms);
    for (size_t i = 0; i < r->n_objectives; i++)
        if (sw_plan_uses_slices(&r->objectives[i]))
            lat = sw_max_i64(lat, r->objectives[i].slice_ms);
    h->latency_keep_ms = lat + base;
    for (size_t i = 0; i < r->n_alerts; i++) {
        int64_t w[2];
        alert_windows(&r->alerts[i], w);
        p->longest_condition_ms = sw_max_i64(p->longest_condition_ms, w[0]);
    }
    for (size_t i = 0; i < r->n_triggers; i++) {
        int64_t w[2];
        alert_windows(&r->triggers[i], w);
        p->longest_condition_ms = sw_max_i64(p->longest_condition_ms, w[0]);
    }
}

/* Slice verdicts cover the objective's window, its burn-rate alerts and the last hour. */
static void
plan_slices(sw_plan *p, const sw_rules *r)
{
    for (size_t i = 0; i < r->n_objectives; i++) {
        const sw_objective *o = &r->objectives[i];
        if (!sw_plan_uses_slices(o))
            continue;
        int64_t keep = sw_max_i64(objective_length(o), SW_HOUR_MS);
        for (size_t a = 0; a < r->n_alerts; a++)
            if (r->alerts[a].kind == SW_ALERT_BURN_RATE && r->alerts[a].objective == i)
                keep = sw_max_i64(keep, r->alerts[a].long_ms);
        p->slice_keep_ms[i] = keep + o->slice_ms;
    }
}

/* ------------------------------------------------------------------ plan */

static sw_status
plan_alloc(sw_plan *p, const sw_rules *r, sw_err *err)
{
    size_t n_lat_max = r->n_alerts + r->n_triggers + r->n_objectives + 1;
    p->lat = calloc(n_lat_max, sizeof *p->lat);
    p->alert_lat = calloc(r->n_alerts + 1, sizeof *p->alert_lat);
    p->trigger_lat = calloc(r->n_triggers + 1, sizeof *p->trigger_lat);
    p->objective_lat = calloc(r->n_objectives + 1, sizeof *p->objective_lat);
    p->objective_slow = calloc(r->n_objectives + 1, sizeof *p->objective_slow);
    p->slice_keep_ms = calloc(r->n_objectives + 1, sizeof *p->slice_keep_ms);
    p->maint = calloc(r->n_services + 1, sizeof *p->maint);
    p->n_maint = r->n_services;
    if (!p->lat || !p->alert_lat || !p->trigger_lat || !p->objective_lat || !p->objective_slow ||
        !p->slice_keep_ms || !p->maint)
        return sw_err_set(err, SW_E_NOMEM, "cannot allocate the evaluation plan");
    return SW_OK;
}

sw_status
sw_plan_init(sw_plan *p, const sw_rules *r, sw_err *err)
{
    memset(p, 0, sizeof *p);
    p->base_ms = r->base_interval_ms;
    sw_status st = check_rules(r, err);
    if (st == SW_OK)
        st = plan_alloc(p, r, err);
    if (st == SW_OK)
        st = plan_latency(p, r, err);
    for (size_t i = 0; i < r->n_services && st == SW_OK; i++)
        st = sw_maint_build(&r->services[i], r->base_interval_ms, &p->maint[i], err);
    if (st != SW_OK) {
        sw_plan_fini(p);
        return st;
    }
    plan_retention(p, r);
    plan_slices(p, r);
    return SW_OK;
}

void
sw_plan_fini(sw_plan *p)
{
    for (size_t i = 0; p->maint != NULL && i < p->n_maint; i++)
        sw_maint_fini(&p->maint[i]);
    free(p->maint);
    free(p->lat);
    free(p->alert_lat);
    free(p->trigger_lat);
    free(p->objective_lat);
    free(p->objective_slow);
    free(p->slice_keep_ms);
    memset(p, 0, sizeof *p);
}
