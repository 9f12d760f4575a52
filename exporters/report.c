/*
 * Building a monthly report: the month's bounds in the zone, the rules in force, then per
 * service the store scan (report_scan.c), the verdicts (report_judge.c), the budget burn-down,
 * the worst periods, the alert and trigger events, and the previous month for comparison.
 * Writers are in report_{html,md,json,csv}.c.
 */
#include "report_int.h"
#include "report_marks.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slawatch/units.h"

sw_status
sw_report_parse_month(const char *text, int *ret_year, int *ret_month, sw_err *err)
{
    int y = 0, m = 0, used = 0;
    if (text == NULL || sscanf(text, "%4d-%2d%n", &y, &m, &used) != 2 || used != 7 ||
        text[used] != '\0' || y < 1970 || m < 1 || m > 12)
        return sw_err_set(err, SW_E_INVAL, "month '%.32s' is not YYYY-MM (e.g. 2026-10)",
                          text ? text : "");
    *ret_year = y;
    *ret_month = m;
    return SW_OK;
}

bool
sw_report_parse_format(const char *text, sw_report_format *ret)
{
    static const struct {
        const char *name;
        sw_report_format f;
    } names[] = {{"html", SW_REPORT_HTML},
                 {"md", SW_REPORT_MD},
                 {"markdown", SW_REPORT_MD},
                 {"json", SW_REPORT_JSON},
                 {"csv", SW_REPORT_CSV}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(text, names[i].name) == 0) {
            *ret = names[i].f;
            return true;
        }
    return false;
}

const char *
sw_report_content_type(sw_report_format f)
{
    switch (f) {
    case SW_REPORT_HTML:
        return "text/html; charset=utf-8";
    case SW_REPORT_MD:
        return "text/markdown; charset=utf-8";
    case SW_REPORT_JSON:
        return "application/json";
    case SW_REPORT_CSV:
        return "text/csv; charset=utf-8";
    }
    return "application/octet-stream";
}

/* The writers append piece by piece and leave the first failure in the sw_err they are given,
 * so one check at the end catches a buffer that hit its limit anywhere. */
sw_status
sw_report_write(const sw_report *r, sw_report_format f, sw_buf *out, sw_err *err)
{
    sw_err first = {.code = SW_OK};
    switch (f) {
    case SW_REPORT_HTML:
        sw_report_write_html(r, out, &first);
        break;
    case SW_REPORT_MD:
        sw_report_write_md(r, out, &first);
        break;
    case SW_REPORT_JSON:
        sw_report_write_json(r, out, &first);
        break;
    case SW_REPORT_CSV:
        sw_report_write_csv(r, out, &first);
        break;
    default:
        return sw_err_set(err, SW_E_INVAL, "unknown report format %d", (int)f);
    }
    if (first.code != SW_OK && err != NULL)
        *err = first;
    return first.code;
}

static void
service_fini(const sw_report *r, rp_service *s)
{
    (void)r;
    if (s->key != s->svc->name)
        free((char *)s->key);
    if (s->title != s->svc->name)
        free((char *)s->title);
    free(s->objectives);
    free(s->prev);
    free(s->hours);
    free(s->events);
    free(s->overrides);
    sw_report_marks_free(s->marks);
    free(s->over);
    free(s->changes);
    free(s->why);
    for (size_t k = 0; s->sentences != NULL && k < s->own->n_objectives; k++)
        free(s->sentences[k]);
    free(s->sentences);
    sw_report_envs_free(s);
}

void
sw_report_free(sw_report *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->n_services; i++)
        service_fini(r, &r->services[i]);
    free(r->services);
    sw_rules_free(r->owned_rules);
    sw_report_tz_free(r->tz);
    free(r);
}

/* ---------------------------------------------------------------- the month */

static sw_status
set_month(sw_report *r, const sw_report_request *req, sw_err *err)
{
    r->year = req->year;
    r->month = req->month;
    r->n_days = sw_report_tz_month_days(req->year, req->month);
    r->start_ms = sw_report_tz_day_start(r->tz, req->year, req->month, 1);
    r->end_ms = sw_report_tz_day_start(r->tz, req->year, req->month, r->n_days + 1);
    r->generated_ms = req->now_ms;
    if (req->now_ms < r->start_ms)
        return sw_err_set(err, SW_E_INVAL, "%04d-%02d has not started yet in %s: no report",
                          req->year, req->month, sw_report_tz_name(r->tz));
    r->partial = req->now_ms < r->end_ms;
    r->judged_until_ms = r->partial ? req->now_ms : r->end_ms;
    bool hours = r->start_ms % RP_HOUR_MS == 0 && r->end_ms % RP_HOUR_MS == 0;
    for (int d = 2; hours && d <= r->n_days; d++)
        hours = sw_report_tz_day_start(r->tz, req->year, req->month, d) % RP_HOUR_MS == 0;
    r->latency_res_ms = hours ? RP_HOUR_MS : RP_MINUTE_MS;
    return SW_OK;
}

/* The rules recorded by the month's end (the last in force during it). */
static sw_status
load_rules(sw_store *st, sw_report *r, const sw_report_request *req, sw_err *err)
{
    if (req->rules != NULL) {
        r->rules = req->rules;
        r->rules_since_ms = -1;
        return SW_OK;
    }
    char *text = NULL;
    size_t len = 0;
    sw_status rc = sw_store_rules_at(st, r->end_ms - 1, &text, &len, &r->rules_since_ms, err);
    if (rc == SW_E_INVAL)
        return sw_err_set(err, SW_E_INVAL,
                          "no rules were recorded in the store by the end of "
                          "%04d-%02d: nothing to judge the month by",
                          r->year, r->month);
    if (rc != SW_OK)
        return rc;
    rc = sw_rules_load_mem(text, len, "recorded rules", &r->owned_rules, NULL, err);
    free(text);
    r->rules = r->owned_rules;
    return rc;
}

static sw_status
pick_services(sw_report *r, const sw_report_request *req, sw_err *err)
{
    size_t n = req->n_services ? req->n_services : r->rules->n_services;
    r->services = calloc(n ? n : 1, sizeof *r->services);
    if (r->services == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory for %zu services", n);
    for (size_t i = 0; i < n; i++) {
        ptrdiff_t k = (ptrdiff_t)i;
        if (!req->n_services && req->shard != NULL &&
            !sw_shard_owns(req->shard, r->rules->services[i].name))
            continue; /* another shard's: its data is in that shard's store */
        if (req->n_services) {
            k = sw_rules_service_index(r->rules, req->services[i]);
            if (k < 0)
                return sw_err_set(err, SW_E_INVAL,
                                  "service '%.64s' is not in the rules of %04d-%02d",
                                  req->services[i], r->year, r->month);
        }
        r->services[r->n_services].own = sw_rules_of_service(r->rules, (size_t)k);
        r->services[r->n_services].key = r->services[r->n_services].title =
            r->rules->services[k].name;
        r->services[r->n_services++].svc = &r->rules->services[k];
    }
    if (r->n_services == 0 && n > 0)
        return sw_err_set(
            err, SW_E_INVAL, "shard index %u of count %u owns none of the services of %04d-%02d",
            (unsigned)req->shard->index, (unsigned)req->shard->count, r->year, r->month);
    return SW_OK;
}

/* ---------------------------------------------------------------- label values */

typedef struct values_ctx {
    sw_report *r;
    rp_service *out;
    size_t n, cap;
    const rp_service *of; /* the service whose values are listed */
} values_ctx;

static sw_status
add_value_plain(values_ctx *c, const rp_service *s, sw_err *err)
{
    if (c->n == c->cap) {
        size_t cap = 2 * c->cap + 8;
        rp_service *grown = realloc(c->out, cap * sizeof *grown);
        if (grown == NULL)
            return sw_err_set(err, SW_E_NOMEM, "out of memory listing label values");
        c->out = grown;
        c->cap = cap;
    }
    c->out[c->n++] = *s;
    return SW_OK;
}

static sw_status
add_value(void *ctx, const char *key, sw_err *err)
{
    values_ctx *c = ctx;
    sw_rules_by_parts p;
    if (!sw_rules_by_split(key, &p))
        return SW_OK;
    if (c->n == c->cap) {
        size_t cap = 2 * c->cap + 8;
        rp_service *grown = realloc(c->out, cap * sizeof *grown);
        if (grown == NULL)
            return sw_err_set(err, SW_E_NOMEM, "out of memory listing label values");
        c->out = grown;
        c->cap = cap;
    }
    rp_service *s = &c->out[c->n];
    *s = (rp_service){.svc = c->of->svc, .own = c->of->own};
    char *title = malloc(strlen(key) + 2);
    char *copy = strdup(key);
    if (title == NULL || copy == NULL) {
        free(title);
        free(copy);
        return sw_err_set(err, SW_E_NOMEM, "out of memory listing label values");
    }
    snprintf(title, strlen(key) + 2, "%.*s %.*s=%s", (int)p.service_len, p.service,
             (int)p.label_len, p.label, p.value);
    s->key = copy;
    s->title = title;
    c->n++;
    return SW_OK;
}

/* A service judged per label value is reported once per value its store holds (rules/README.md,
 * "One SLO per label value"); one without stored values stays as itself, without data. */
static sw_status
expand_values(sw_store *st, sw_report *r, sw_err *err)
{
    values_ctx c = {.r = r};
    sw_status rc = SW_OK;
    for (size_t i = 0; i < r->n_services && rc == SW_OK; i++) {
        const rp_service *s = &r->services[i];
        size_t before = c.n;
        if (s->svc->by != NULL) {
            char prefix[1024];
            size_t n = sw_rules_by_key(s->svc->name, s->svc->by, "", 0, prefix, sizeof prefix);
            c.of = s;
            rc = n < sizeof prefix ? sw_store_service_names(st, prefix, add_value, &c, err) : SW_OK;
        }
        if (rc == SW_OK && c.n == before)
            rc = add_value_plain(&c, s, err);
    }
    if (rc != SW_OK) {
        for (size_t i = 0; i < c.n; i++)
            service_fini(r, &c.out[i]);
        free(c.out);
        return rc;
    }
    free(r->services);
    r->services = c.out;
    r->n_services = c.n;
    return SW_OK;
}

/* ---------------------------------------------------------------- per service */

static sw_status
init_periods(sw_report *r, rp_service *s, sw_err *err)
{
    s->first_data_ms = s->last_data_ms = -1;
    for (int d = 0; d < r->n_days; d++) {
        s->days[d].mday = d + 1;
        s->days[d].start_ms = sw_report_tz_day_start(r->tz, r->year, r->month, d + 1);
        s->days[d].end_ms = sw_report_tz_day_start(r->tz, r->year, r->month, d + 2);
    }
    s->n_hours = (size_t)((r->end_ms - r->start_ms + RP_HOUR_MS - 1) / RP_HOUR_MS);
    s->hours = calloc(s->n_hours, sizeof *s->hours);
    s->objectives = calloc(s->own->n_objectives + 1, sizeof *s->objectives);
    s->prev = calloc(s->own->n_objectives + 1, sizeof *s->prev);
    s->over = calloc(s->n_hours * s->own->n_objectives + 1, sizeof *s->over);
    if (s->hours == NULL || s->objectives == NULL || s->prev == NULL || s->over == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory for a service's month");
    for (size_t h = 0; h < s->n_hours; h++)
        s->hours[h].start_ms = r->start_ms + (int64_t)h * RP_HOUR_MS;
    return SW_OK;
}

/* Availability budget left at each day's end: errors (or bad minutes) so far over the month's
 * whole allowance. */
static void
burn_down(const sw_report *r, rp_service *s)
{
    const sw_objective *o = NULL;
    for (size_t i = 0; i < s->own->n_objectives && o == NULL; i++)
        if (s->own->objectives[i].objective.sli == SW_SLI_AVAILABILITY)
            o = &s->own->objectives[i];
    double frac = o ? 1.0 - o->objective.value : NAN, spent = 0;
    bool slices = o && o->budgeting == SW_BUDGET_TIMESLICES, unknown = false;
    double whole = slices ? (double)(s->month.span_ms - s->month.maint_ms) / RP_MINUTE_MS
                          : (double)s->month.requests;
    for (int d = 0; d < r->n_days; d++) {
        spent += slices ? (double)s->days[d].c.bad_minutes : (double)s->days[d].c.errors;
        unknown = unknown || (slices && s->days[d].c.bad_unknown);
        bool known = o && whole > 0 && !unknown && s->days[d].start_ms < r->generated_ms;
        s->days[d].budget_left = known ? 1.0 - spent / (frac * whole) : NAN;
    }
}

/* Does a period stand out (report_why.c's rule): at least 1 % of the month's total and three
 * times an even share of it over the periods with data? */
static bool
remarkable(uint64_t v, uint64_t total, size_t with_data)
{
    double floor = fmax(0.01 * (double)total, 3.0 * (double)total / (double)with_data);
    return v > 0 && (double)v >= floor;
}

/* Largest first by errors (the budget they spent), then bad minutes; only the periods that stand
 * out by either, never quiet ones to fill the list. */
static void
rank(const rp_counts *const *c, size_t n, size_t *out, size_t *ret_n, size_t max)
{
    uint64_t errors = 0, bad = 0;
    size_t with_data = 0, k = 0;
    for (size_t i = 0; i < n; i++) {
        errors += c[i]->errors;
        bad += c[i]->bad_minutes;
        with_data += c[i]->data_ms > 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (!remarkable(c[i]->errors, errors, with_data) &&
            !remarkable(c[i]->bad_minutes, bad, with_data))
            continue;
        size_t j = k < max ? k++ : max;
        while (j > 0 && (c[out[j - 1]]->errors < c[i]->errors ||
                         (c[out[j - 1]]->errors == c[i]->errors &&
                          c[out[j - 1]]->bad_minutes < c[i]->bad_minutes))) {
            if (j < max)
                out[j] = out[j - 1];
            j--;
        }
        if (j < max)
            out[j] = i;
    }
    *ret_n = k;
}

static sw_status
worst_periods(rp_service *s, int n_days, sw_err *err)
{
    const rp_counts **c = malloc((s->n_hours + RP_MAX_DAYS) * sizeof *c);
    if (c == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory ranking hours");
    for (size_t h = 0; h < s->n_hours; h++)
        c[h] = &s->hours[h].c;
    rank(c, s->n_hours, s->worst_hours, &s->n_worst_hours, RP_WORST_HOURS);
    for (int d = 0; d < n_days; d++)
        c[d] = &s->days[d].c;
    rank(c, (size_t)n_days, s->worst_days, &s->n_worst_days, RP_WORST_DAYS);
    free(c);
    return SW_OK;
}

static sw_status
scan_and_judge(sw_store *st, sw_report *r, rp_service *s, sw_err *err)
{
    rp_minutes m = {0};
    sw_hdr *lat = NULL;
    sw_status rc = init_periods(r, s, err);
    if (rc == SW_OK)
        rc = sw_report_scan_service(st, r, s, &m, &lat, err);
    for (size_t i = 0; rc == SW_OK && i < s->own->n_objectives; i++)
        sw_report_judge(r, s, &m, lat, &s->own->objectives[i], &s->objectives[i]);
    if (rc == SW_OK) {
        burn_down(r, s);
        sw_report_envs_finish(r, s);
        sw_report_envs_put_latency(r->pool, s);
        rc = worst_periods(s, r->n_days, err);
    }
    /* A compared month shows only its verdicts: its why would be read for nothing. */
    if (rc == SW_OK && !r->compared_only && sw_report_why_needs_over(s))
        rc = sw_report_scan_over(st, r, s, &m, err);
    if (rc == SW_OK && !r->compared_only)
        rc = sw_report_find_why(r, s, &m, err);
    sw_report_pool_put(r->pool, lat);
    sw_report_pool_put_minutes(r->pool, &m);
    return rc;
}

/* ---------------------------------------------------------------- events */

typedef struct events_ctx {
    sw_report *r;
    sw_err *err;
} events_ctx;

static rp_event *
open_event(rp_service *s, const sw_store_event *e)
{
    for (size_t i = s->n_events; i-- > 0;) {
        rp_event *x = &s->events[i];
        if (x->resolved_ms < 0 && strcmp(x->kind, e->kind) == 0 && strcmp(x->name, e->name) == 0 &&
            strcmp(x->env, e->env ? e->env : "") == 0)
            return x;
    }
    return NULL;
}

static sw_status
add_event(rp_service *s, const sw_store_event *e, sw_err *err)
{
    rp_event *grown = realloc(s->events, (s->n_events + 1) * sizeof *grown);
    if (grown == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory listing events");
    s->events = grown;
    rp_event *x = &s->events[s->n_events++];
    memset(x, 0, sizeof *x);
    snprintf(x->kind, sizeof x->kind, "%s", e->kind);
    snprintf(x->name, sizeof x->name, "%s", e->name);
    snprintf(x->env, sizeof x->env, "%s", e->env ? e->env : "");
    x->fired_ms = e->at_ms;
    x->resolved_ms = -1;
    x->value = e->value;
    return SW_OK;
}

static sw_status
visit_event(void *ctx, const sw_store_event *e, sw_err *err)
{
    events_ctx *c = ctx;
    for (size_t i = 0; i < c->r->n_services; i++) {
        rp_service *s = &c->r->services[i];
        if (strcmp(s->key, e->service) != 0)
            continue;
        if (strcmp(e->state, "firing") == 0)
            return add_event(s, e, err);
        rp_event *x = open_event(s, e);
        if (x != NULL)
            x->resolved_ms = e->at_ms;
    }
    return SW_OK;
}

/* ---------------------------------------------------------------- building */

static sw_status build(sw_store *st, const sw_report_request *req, bool with_prev, sw_report **ret,
                       sw_err *err);

/* The previous month's verdicts, matched by service and objective name. */
static void
copy_prev(sw_report *r, const sw_report *p)
{
    for (size_t i = 0; i < r->n_services; i++) {
        rp_service *s = &r->services[i];
        for (size_t j = 0; j < p->n_services; j++) {
            const rp_service *q = &p->services[j];
            if (strcmp(q->key, s->key) != 0 || !q->has_data)
                continue;
            s->has_prev = true;
            for (size_t k = 0; k < s->own->n_objectives; k++) {
                const sw_objective *o = &s->own->objectives[k];
                ptrdiff_t pk = sw_rules_objective_index(q->own, o->name);
                if (pk >= 0) {
                    s->prev[k] = q->objectives[pk];
                    s->prev[k].objective = o;
                } else {
                    sw_report_judge(r, s, &(rp_minutes){0}, NULL, o, &s->prev[k]);
                    s->prev[k].has_verdict = false;
                }
            }
        }
    }
}

static sw_status
previous_month(sw_store *st, sw_report *r, const sw_report_request *req, sw_err *err)
{
    sw_report_request p = *req;
    p.year = req->month == 1 ? req->year - 1 : req->year;
    p.month = req->month == 1 ? 12 : req->month - 1;
    sw_report *prev = NULL;
    sw_status rc = build(st, &p, false, &prev, err);
    if (rc == SW_E_RANGE || rc == SW_E_INVAL)
        return SW_OK; /* no previous month to compare with */
    if (rc == SW_OK)
        copy_prev(r, prev);
    sw_report_free(prev);
    return rc;
}

static sw_status
build_services(sw_store *st, sw_report *r, sw_err *err)
{
    bool any = false;
    rp_scan_pool pool = {0}; /* each service's accumulators reused by the next */
    sw_status scanned = SW_OK;
    r->pool = &pool;
    for (size_t i = 0; scanned == SW_OK && i < r->n_services; i++) {
        scanned = scan_and_judge(st, r, &r->services[i], err);
        any = any || r->services[i].has_data;
    }
    r->pool = NULL;
    sw_report_pool_fini(&pool);
    if (scanned != SW_OK)
        return scanned;
    if (!any)
        return sw_err_set(err, SW_E_RANGE, "the store holds no data for %04d-%02d (%s)", r->year,
                          r->month, sw_report_tz_name(r->tz));
    events_ctx ec = {r, err};
    sw_status rc = sw_store_events(st, r->start_ms, r->end_ms, visit_event, &ec, err);
    return rc == SW_OK ? sw_report_load_overrides(st, r, err) : rc;
}

/* The month's changes, then each commitment's sentence (which names the changes). */
static sw_status
tell(sw_store *st, sw_report *r, sw_err *err)
{
    sw_status rc = sw_report_load_changes(st, r, err);
    for (size_t i = 0; rc == SW_OK && i < r->n_services; i++)
        rc = sw_report_tell(r, &r->services[i], err);
    return rc;
}

static sw_status
build(sw_store *st, const sw_report_request *req, bool with_prev, sw_report **ret, sw_err *err)
{
    sw_report *r = calloc(1, sizeof *r);
    if (r == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory for a report");
    r->compared_only = !with_prev;
    sw_status rc = sw_report_tz_load(req->tz, &r->tz, err);
    if (rc == SW_OK)
        rc = set_month(r, req, err);
    if (rc == SW_OK)
        rc = load_rules(st, r, req, err);
    if (rc == SW_OK)
        rc = pick_services(r, req, err);
    if (rc == SW_OK)
        rc = expand_values(st, r, err);
    if (rc == SW_OK)
        rc = build_services(st, r, err);
    if (rc == SW_OK && with_prev)
        rc = previous_month(st, r, req, err);
    if (rc == SW_OK && with_prev) /* the report itself, not the month it compares with */
        rc = tell(st, r, err);
    if (rc == SW_OK && with_prev) /* the month's own report: its charts' marks */
        rc = sw_report_load_marks(st, r, err);
    if (rc != SW_OK) {
        sw_report_free(r);
        return rc;
    }
    *ret = r;
    return SW_OK;
}

sw_status
sw_report_build(sw_store *st, const sw_report_request *req, sw_report **ret, sw_err *err)
{
    if (req->month < 1 || req->month > 12)
        return sw_err_set(err, SW_E_INVAL, "month %d is not 1..12", req->month);
    return build(st, req, true, ret, err);
}

/* ---------------------------------------------------------------- shared wording */

void
sw_report_local_time(const sw_report *r, int64_t utc_ms, char *out, size_t cap)
{
    int y, mo, d, h, mi;
    sw_report_tz_local(r->tz, utc_ms, &y, &mo, &d, &h, &mi);
    snprintf(out, cap, "%04d-%02d-%02d %02d:%02d", y, mo, d, h, mi);
}

void
sw_report_objective_text(const sw_objective *o, char *out, size_t cap)
{
    char sli[32], v[40];
    sw_rules_sli_name(&o->objective, sli, sizeof sli);
    sw_rules_format_value(o->objective.sli, o->objective.value, v, sizeof v);
    snprintf(out, cap, "%s %s %s", sli, sw_rules_op_str(o->objective.op), v);
}

/* Throughput and timeslices are judged on the share of slices; everything else in the SLI's
 * own unit. */
static sw_sli
shown_as(const sw_objective_result *o)
{
    return o->objective->objective.sli == SW_SLI_THROUGHPUT ||
                   o->objective->budgeting == SW_BUDGET_TIMESLICES
               ? SW_SLI_AVAILABILITY
               : o->objective->objective.sli;
}

void
sw_report_format_measured(const sw_objective_result *o, char *out, size_t cap)
{
    double v = isfinite(o->measured) ? o->measured : NAN;
    if (shown_as(o) == o->objective->objective.sli && shown_as(o) != SW_SLI_LATENCY &&
        shown_as(o) != SW_SLI_THROUGHPUT)
        sw_report_words_percent_apart(v, o->target, out, cap); /* a ratio beside its target */
    else
        sw_report_measured_words(o, v, out, cap);
}

void
sw_report_format_target(const sw_objective_result *o, char *out, size_t cap)
{
    char v[64];
    if (shown_as(o) != o->objective->objective.sli &&
        o->objective->objective.sli == SW_SLI_THROUGHPUT) {
        sw_report_measured_words(o, o->target, out, cap); /* "≥ 1000 req/s in 99 % of minutes" */
        return;
    }
    sw_report_measured_words(o, o->target, v, sizeof v);
    snprintf(out, cap, "%s %s", sw_report_op_sign(o->op), v);
}

/* The margin's sign means the same in every row: "better by" when the measured value is on the
 * target's good side, "worse by" otherwise, in the unit the values are shown in. */
void
sw_report_format_margin(const sw_objective_result *o, char *out, size_t cap)
{
    if (!o->has_verdict || !isfinite(o->measured)) {
        snprintf(out, cap, "n/a");
        return;
    }
    bool up = o->op == SW_OP_GE || o->op == SW_OP_GT;
    double d = up ? o->measured - o->target : o->target - o->measured;
    char v[40];
    if (shown_as(o) == SW_SLI_LATENCY)
        sw_report_words_latency(fabs(d), v, sizeof v);
    else if (shown_as(o) == SW_SLI_AVAILABILITY || shown_as(o) == SW_SLI_ERROR_RATE ||
             shown_as(o) == SW_SLI_HEALTH_SUCCESS)
        snprintf(v, sizeof v, fabs(d) >= 0.0001 ? "%.2f pp" : "%.2g pp", 100.0 * fabs(d));
    else
        sw_report_words_value(shown_as(o), fabs(d), v, sizeof v);
    snprintf(out, cap, "%s by %s", o->met ? "better" : "worse", v);
}
