/*
 * The JSON report (schema in docs/reports.md): objectives in the shape of `slawatch eval
 * --json` with the report's fields added, then the month's details. Ratios are fractions,
 * latencies microseconds, times RFC 3339 UTC; unknown values are null.
 */
#include "report_int.h"
#include "slawatch/judgement.h"

#include <math.h>

#include "slawatch/eval_json.h"
#include "slawatch/json.h"
#include "slawatch/units.h"

static void
num(sw_buf *b, const char *key, double v, sw_err *err)
{
    if (isfinite(v))
        sw_buf_printf(b, err, ",\"%s\":%.10g", key, v);
    else
        sw_buf_printf(b, err, ",\"%s\":null", key);
}

static void
when(sw_buf *b, const char *key, int64_t ms, sw_err *err)
{
    char t[40];
    if (ms < 0) {
        sw_buf_printf(b, err, ",\"%s\":null", key);
        return;
    }
    sw_units_format_time(ms, t, sizeof t);
    sw_buf_printf(b, err, ",\"%s\":\"%s\"", key, t);
}

static double
ratio(uint64_t a, uint64_t b)
{
    return b ? (double)a / (double)b : NAN;
}

/* A period's counts with its coverage: a day's or an hour's of the whole period, the
 * month's of the span its verdicts judge (the month so far while it is in progress). */
static void
counts_covered(sw_buf *b, const rp_counts *c, double coverage, sw_err *err)
{
    sw_buf_printf(b, err, ",\"requests\":%llu,\"errors\":%llu", (unsigned long long)c->requests,
                  (unsigned long long)c->errors);
    if (c->bad_unknown)
        sw_buf_printf(b, err, ",\"bad_minutes\":null");
    else
        sw_buf_printf(b, err, ",\"bad_minutes\":%llu", (unsigned long long)c->bad_minutes);
    num(b, "error_rate", ratio(c->errors, c->requests), err);
    num(b, "coverage", coverage, err);
}

static void
counts(sw_buf *b, const rp_counts *c, sw_err *err)
{
    int64_t outside = c->span_ms - c->maint_ms;
    counts_covered(b, c, outside > 0 ? (double)c->data_ms / (double)outside : NAN, err);
}

static void
why(sw_buf *b, const rp_why *w, sw_err *err)
{
    sw_buf_printf(b, err, ",\"why\":{\"unit\":");
    sw_json_put_string(b, w->unit_text, err);
    sw_buf_printf(b, err, ",\"total\":%.0f,\"periods\":[", w->total_bad);
    for (size_t p = 0; p < w->n_periods; p++) {
        const rp_period *x = &w->periods[p];
        sw_buf_printf(b, err, "%s{\"bad\":%.0f", p ? "," : "", x->bad);
        when(b, "start", x->start_ms, err);
        when(b, "end", x->end_ms, err);
        num(b, "share", x->share, err);
        sw_buf_printf(b, err, "}");
    }
    sw_buf_printf(b, err, "]}");
}

static void
objective(sw_buf *b, const rp_service *s, size_t k, sw_err *err)
{
    const sw_objective_result *o = &s->objectives[k];
    char margin[64];
    sw_buf_printf(b, err, "%s{", k ? "," : "");
    sw_eval_json_objective_fields(b, o, err);
    num(b, "allowed_downtime_s", o->allowed_downtime_s, err);
    num(b, "downtime_s", o->downtime_s, err);
    sw_buf_printf(b, err, ",\"sentence\":");
    sw_json_put_string(b, s->sentences[k], err);
    sw_buf_printf(b, err, ",\"margin\":");
    if (o->has_verdict && isfinite(o->measured)) {
        sw_report_format_margin(o, margin, sizeof margin);
        sw_json_put_string(b, margin, err);
    } else {
        sw_buf_printf(b, err, "null");
    }
    const rp_why *w = sw_report_why_of(s, k);
    if (w != NULL)
        why(b, w, err);
    sw_buf_printf(b, err, ",\"previous\":");
    if (!s->has_prev) {
        sw_buf_printf(b, err, "null}");
        return;
    }
    const sw_objective_result *p = &s->prev[k];
    sw_buf_printf(b, err, "{\"measured\":");
    if (p->has_verdict && isfinite(p->measured))
        sw_buf_printf(b, err, "%.10g", p->measured);
    else
        sw_buf_printf(b, err, "null");
    sw_buf_printf(b, err, ",\"met\":%s}}", !p->has_verdict ? "null" : p->met ? "true" : "false");
}

static void
days(sw_buf *b, const sw_report *r, const rp_service *s, sw_err *err)
{
    sw_buf_printf(b, err, ",\"days\":[");
    for (int d = 0; d < r->n_days; d++) {
        const rp_day *day = &s->days[d];
        sw_buf_printf(b, err, "%s{\"day\":%d", d ? "," : "", day->mday);
        when(b, "start", day->start_ms, err);
        counts(b, &day->c, err);
        num(b, "p95_us", day->p95_us, err);
        num(b, "p99_us", day->p99_us, err);
        num(b, "budget_remaining", day->budget_left, err);
        sw_buf_printf(b, err, "}");
    }
    sw_buf_printf(b, err, "]");
}

static void
worst(sw_buf *b, const sw_report *r, const rp_service *s, sw_err *err)
{
    sw_buf_printf(b, err, ",\"worst_days\":[");
    for (size_t i = 0; i < s->n_worst_days; i++) {
        const rp_day *day = &s->days[s->worst_days[i]];
        sw_buf_printf(b, err, "%s{\"day\":%d", i ? "," : "", day->mday);
        when(b, "start", day->start_ms, err);
        counts(b, &day->c, err);
        sw_buf_printf(b, err, "}");
    }
    sw_buf_printf(b, err, "],\"worst_hours\":[");
    for (size_t i = 0; i < s->n_worst_hours; i++) {
        const rp_hour *h = &s->hours[s->worst_hours[i]];
        sw_buf_printf(b, err, "%s{", i ? "," : "");
        sw_buf_printf(b, err, "\"hour\":%zu", s->worst_hours[i]);
        when(b, "start", h->start_ms, err);
        counts(b, &h->c, err);
        sw_buf_printf(b, err, "}");
    }
    sw_buf_printf(b, err, "]");
    (void)r;
}

static void
events(sw_buf *b, const rp_service *s, sw_err *err)
{
    sw_buf_printf(b, err, ",\"events\":[");
    for (size_t i = 0; i < s->n_events; i++) {
        const rp_event *e = &s->events[i];
        sw_buf_printf(b, err, "%s{\"kind\":\"%s\",\"name\":", i ? "," : "", e->kind);
        sw_json_put_string(b, e->name, err);
        sw_buf_printf(b, err, ",\"env\":");
        sw_json_put_string(b, e->env, err);
        when(b, "fired_at", e->fired_ms, err);
        when(b, "resolved_at", e->resolved_ms, err);
        num(b, "value", e->value, err);
        sw_buf_printf(b, err, "}");
    }
    sw_buf_printf(b, err, "],\"policy_overrides\":[");
    for (size_t i = 0; i < s->n_overrides; i++) {
        const rp_override *o = &s->overrides[i];
        sw_buf_printf(b, err, "%s{\"env\":", i ? "," : "");
        sw_json_put_string(b, o->env, err);
        when(b, "deployed_at", o->at_ms, err);
        sw_buf_printf(b, err, ",\"by\":");
        sw_json_put_string(b, o->who, err);
        sw_buf_printf(b, err, ",\"policy_override\":");
        sw_json_put_string(b, o->ticket, err);
        sw_buf_printf(b, err, "}");
    }
    sw_buf_printf(b, err, "],\"maintenance\":[");
    size_t n = 0;
    for (size_t i = 0; i < s->svc->n_maintenance; i++) {
        const sw_maintenance *m = &s->svc->maintenance[i];
        sw_buf_printf(b, err, "%s{\"reason\":", n++ ? "," : "");
        sw_json_put_string(b, m->reason ? m->reason : "", err);
        when(b, "start", m->start_ms, err);
        when(b, "end", m->end_ms, err);
        sw_buf_printf(b, err, "}");
    }
    sw_buf_printf(b, err, "]");
}

static void
headline(sw_buf *b, const rp_tally *t, sw_err *err)
{
    char text[128];
    sw_report_tally_text(t, text, sizeof text);
    sw_buf_printf(b, err, "\"met\":%zu,\"missed\":%zu,\"no_verdict\":%zu,\"headline\":", t->met,
                  t->missed, t->none);
    sw_json_put_string(b, text, err);
}

static void
changes(sw_buf *b, const sw_report *r, const rp_service *s, sw_err *err)
{
    sw_buf_printf(b, err, ",\"changes\":[");
    for (size_t i = 0; i < s->n_changes; i++) {
        const rp_change *c = &s->changes[i];
        char text[512];
        sw_report_change_text(r, c, text, sizeof text);
        sw_buf_printf(b, err, "%s{\"kind\":\"%s\"", i ? "," : "",
                      sw_report_change_kind_name(c->kind));
        when(b, "at", c->at_ms, err);
        if (c->kind == RP_CHANGE_TRIGGER || c->kind == RP_CHANGE_ALERT ||
            c->kind == RP_CHANGE_MAINTENANCE)
            when(b, c->kind == RP_CHANGE_TRIGGER ? "cleared_at" : "end", c->end_ms, err);
        sw_buf_printf(b, err, ",\"env\":");
        sw_json_put_string(b, c->env, err);
        if (c->kind != RP_CHANGE_MAINTENANCE) {
            sw_buf_printf(b, err,
                          c->kind == RP_CHANGE_DEPLOYMENT ? ",\"by\":"
                          : c->kind == RP_CHANGE_GATE     ? ",\"verdict\":"
                                                          : ",\"name\":");
            sw_json_put_string(b, c->name, err);
        }
        if (c->kind == RP_CHANGE_DEPLOYMENT || c->kind == RP_CHANGE_GATE ||
            c->kind == RP_CHANGE_MAINTENANCE) {
            sw_buf_printf(b, err,
                          c->kind == RP_CHANGE_DEPLOYMENT ? ",\"policy_override\":"
                          : c->kind == RP_CHANGE_GATE     ? ",\"reason\":"
                                                          : ",\"reason\":");
            sw_json_put_string(b, c->detail, err);
        }
        sw_buf_printf(b, err, ",\"text\":");
        sw_json_put_string(b, text, err);
        sw_buf_printf(b, err, "}");
    }
    sw_buf_printf(b, err, "]");
}

static void
environments(sw_buf *b, const rp_service *s, sw_err *err)
{
    sw_buf_printf(b, err, ",\"environments\":[");
    for (size_t i = 0; i < s->n_envs; i++) {
        const rp_env *e = &s->envs[i];
        sw_buf_printf(b, err, "%s{\"name\":", i ? "," : "");
        sw_json_put_string(b, e->name, err);
        sw_buf_printf(b, err, ",\"requests\":%llu,\"errors\":%llu",
                      (unsigned long long)e->c.requests, (unsigned long long)e->c.errors);
        num(b, "error_rate", ratio(e->c.errors, e->c.requests), err);
        num(b, "p95_us", e->p95_us, err);
        num(b, "p99_us", e->p99_us, err);
        sw_buf_printf(b, err, ",\"objectives\":[");
        size_t n = 0;
        for (size_t k = 0; e->objectives != NULL && k < s->own->n_objectives; k++) {
            const sw_objective_result *o = &e->objectives[k];
            if (sw_report_by_slices(&s->own->objectives[k]))
                continue;
            sw_buf_printf(b, err, "%s{\"name\":", n++ ? "," : "");
            sw_json_put_string(b, s->own->objectives[k].name, err);
            num(b, "measured", o->has_verdict ? o->measured : NAN, err);
            sw_buf_printf(b, err, ",\"met\":%s}",
                          !o->has_verdict ? "null"
                          : o->met        ? "true"
                                          : "false");
        }
        sw_buf_printf(b, err, "]}");
    }
    sw_buf_printf(b, err, "]");
}

static void
service(sw_buf *b, const sw_report *r, const rp_service *s, sw_err *err)
{
    rp_tally t = sw_report_count(r, s);
    sw_buf_printf(b, err, "{\"name\":");
    sw_json_put_string(b, s->title, err);
    sw_buf_printf(b, err, ",");
    headline(b, &t, err);
    sw_buf_printf(b, err, ",\"enough_coverage\":%s,\"counts_resolution\":\"%s\"",
                  s->enough_coverage ? "true" : "false", s->minute_counts ? "1m" : "1h");
    when(b, "first_data", s->first_data_ms, err);
    when(b, "last_data", s->last_data_ms, err);
    counts_covered(b, &s->month, s->coverage, err);
    num(b, "p50_us", s->p50_us, err);
    num(b, "p95_us", s->p95_us, err);
    num(b, "p99_us", s->p99_us, err);
    num(b, "peak_rps", s->peak_rps, err);
    num(b, "sustained_rps", s->sustained_rps, err);
    sw_buf_printf(b, err, ",\"objectives\":[");
    for (size_t k = 0; k < s->own->n_objectives; k++)
        objective(b, s, k, err);
    sw_buf_printf(b, err, "]");
    environments(b, s, err);
    changes(b, r, s, err);
    events(b, s, err);
    worst(b, r, s, err);
    days(b, r, s, err);
    sw_buf_printf(b, err, "}");
}

sw_status
sw_report_write_json(const sw_report *r, sw_buf *b, sw_err *err)
{
    rp_tally t = sw_report_count(r, NULL);
    sw_buf_printf(b, err, "{\"month\":\"%04d-%02d\",\"time_zone\":", r->year, r->month);
    sw_json_put_string(b, sw_report_tz_name(r->tz), err);
    when(b, "from", r->start_ms, err);
    when(b, "to", r->end_ms, err);
    when(b, "generated_at", r->generated_ms, err);
    when(b, "rules_since", r->rules_since_ms, err);
    sw_buf_printf(b, err, ",\"partial\":%s,\"latency_resolution\":\"%s\",\"min_coverage\":%g",
                  r->partial ? "true" : "false", r->latency_res_ms == RP_HOUR_MS ? "1h" : "1m",
                  SW_JUDGEMENT_MIN_COVERAGE);
    sw_buf_printf(b, err, ",\"summary\":{");
    headline(b, &t, err);
    sw_buf_printf(b, err, ",\"judged\":%zu,\"commitments\":%zu}", t.met + t.missed, t.total);
    sw_buf_printf(b, err, ",\"services\":[");
    for (size_t i = 0; i < r->n_services; i++) {
        if (i)
            sw_buf_printf(b, err, ",");
        service(b, r, &r->services[i], err);
    }
    sw_buf_printf(b, err, "]}\n");
    return SW_OK;
}
