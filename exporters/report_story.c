/*
 * What the report says of each commitment, in one plain sentence built once and printed by
 * every format: a missed one says what, by how much, when (the periods that spent its budget,
 * report_why.c) and what the month's changes show happened then; a met one how much of its
 * budget is left; one without a verdict why there is none. Also the headline counts.
 */
#include "report_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slawatch/buf.h"

rp_tally
sw_report_count(const sw_report *r, const rp_service *only)
{
    rp_tally t = {0};
    for (size_t i = 0; i < r->n_services; i++) {
        const rp_service *s = &r->services[i];
        if (only != NULL && s != only)
            continue;
        for (size_t k = 0; k < s->own->n_objectives; k++) {
            const sw_objective_result *o = &s->objectives[k];
            t.total++;
            t.met += o->has_verdict && o->met;
            t.missed += o->has_verdict && !o->met;
            t.none += !o->has_verdict;
        }
    }
    return t;
}

void
sw_report_tally_text(const rp_tally *t, char *out, size_t cap)
{
    snprintf(out, cap, "%zu met, %zu missed, %zu without a verdict", t->met, t->missed, t->none);
}

/* "P99", "Availability", "Error rate": what the objective measures, as a sentence starts. */
static void
sli_label(const sw_objective *o, char *out, size_t cap)
{
    const sw_condition *c = &o->objective;
    switch (c->sli) {
    case SW_SLI_LATENCY:
        snprintf(out, cap, "P%g", c->percentile);
        return;
    case SW_SLI_AVAILABILITY:
        snprintf(out, cap, "Availability");
        return;
    case SW_SLI_ERROR_RATE:
        snprintf(out, cap, "The error rate");
        return;
    case SW_SLI_THROUGHPUT:
        snprintf(out, cap, "Throughput");
        return;
    case SW_SLI_HEALTH_SUCCESS:
        snprintf(out, cap, "Health-check success");
        return;
    default:
        sw_rules_sli_name(c, out, cap);
        return;
    }
}

/* "P99 was 1.2 s against 1 s, worse by 200 ms" */
static void
what_and_how_much(sw_buf *b, const sw_objective_result *o, sw_err *err)
{
    char label[40], m[96], t[96], g[64];
    sli_label(o->objective, label, sizeof label);
    sw_report_format_measured(o, m, sizeof m);
    if (sw_report_by_slices(o->objective))
        sw_report_words_percent(o->target, t, sizeof t);
    else
        sw_report_words_value(o->objective->objective.sli, o->target, t, sizeof t);
    sw_report_format_margin(o, g, sizeof g);
    sw_buf_printf(b, err, "%s was %s against %s, %s", label, m, t, g);
}

/* A change that may explain a period: it happened from an hour before the period to its end,
 * or (alerts, triggers) was active during it. Gate passes explain nothing. */
static bool
explains(const rp_change *c, const rp_period *p)
{
    if (c->kind == RP_CHANGE_MAINTENANCE || (c->kind == RP_CHANGE_GATE && strcmp(c->name, "fail")))
        return false;
    int64_t end = c->end_ms >= 0 ? c->end_ms : c->at_ms + 1;
    if (c->kind == RP_CHANGE_DEPLOYMENT || c->kind == RP_CHANGE_GATE)
        end = c->at_ms + 1;
    bool active_long = c->kind == RP_CHANGE_TRIGGER || c->kind == RP_CHANGE_ALERT;
    if (active_long && c->end_ms < 0)
        end = INT64_MAX;
    return c->at_ms < p->end_ms && end > p->start_ms - RP_HOUR_MS;
}

static void
cause_item(sw_buf *b, const sw_report *r, const rp_change *c, sw_err *err)
{
    char t[40];
    int y, mo, d, h, mi;
    sw_report_tz_local(r->tz, c->at_ms, &y, &mo, &d, &h, &mi);
    snprintf(t, sizeof t, "%02d:%02d", h, mi);
    const char *env = c->env;
    switch (c->kind) {
    case RP_CHANGE_DEPLOYMENT:
        if (env[0])
            sw_buf_printf(b, err, "%s was deployed (%s)", env, t);
        else
            sw_buf_printf(b, err, "a deployment was marked (%s)", t);
        return;
    case RP_CHANGE_GATE:
        sw_buf_printf(b, err, "the deploy gate failed%s%s (%s)", env[0] ? " " : "", env, t);
        return;
    case RP_CHANGE_TRIGGER:
        sw_buf_printf(b, err, "rollback trigger %s fired%s%s (%s)", c->name, env[0] ? " on " : "",
                      env, t);
        return;
    case RP_CHANGE_ALERT:
        sw_buf_printf(b, err, "alert %s fired (%s)", c->name, t);
        return;
    case RP_CHANGE_MAINTENANCE:
        return;
    }
}

/* ", when green was deployed (13:00) and rollback trigger X fired on green (13:02)" */
static void
cause(sw_buf *b, const sw_report *r, const rp_service *s, const rp_period *p, sw_err *err)
{
    size_t n = 0, picked[4];
    for (size_t i = 0; i < s->n_changes && n < 4; i++)
        if (explains(&s->changes[i], p))
            picked[n++] = i;
    if (n == 0) {
        sw_buf_printf(b, err, ", with no deployment, gate failure, alert or trigger recorded then");
        return;
    }
    sw_buf_printf(b, err, ", when ");
    for (size_t i = 0; i < n; i++) {
        sw_buf_printf(b, err, "%s", i == 0 ? "" : i + 1 == n ? " and " : ", ");
        cause_item(b, r, &s->changes[picked[i]], err);
    }
}

/* "; all of it from 14 Oct 13:00-13:30, when ..." or "; 62 % of the failed requests from ...". */
static void
when_and_why(sw_buf *b, const sw_report *r, const rp_service *s, const rp_why *w, sw_err *err)
{
    char span[64], pct[24];
    if (w == NULL || w->total_bad <= 0)
        return;
    if (w->n_periods == 0) {
        sw_report_words_percent(w->max_hour_share, pct, sizeof pct);
        sw_buf_printf(b, err,
                      "; the %s were spread over the month (no hour held more than %s "
                      "of them)",
                      w->unit_text, pct);
        return;
    }
    double shown = 0;
    for (size_t i = 0; i < w->n_periods && i < 2; i++) {
        const rp_period *p = &w->periods[i];
        sw_report_words_span(r, p->start_ms, p->end_ms, span, sizeof span);
        shown += p->share;
        if (i == 0 && p->share >= 0.995) {
            sw_buf_printf(b, err, "; all of it from %s", span);
        } else {
            sw_report_words_percent(p->share, pct, sizeof pct);
            sw_buf_printf(b, err, i == 0 ? "; %s of the %s from %s" : "; %s from %s", pct,
                          i == 0 ? w->unit_text : span, span);
        }
        cause(b, r, s, p, err);
    }
    if (shown < 0.995)
        sw_buf_printf(b, err, "; the rest spread over the month");
}

static void
no_verdict(sw_buf *b, const sw_report *r, const rp_service *s, sw_err *err)
{
    char pct[24];
    if (!s->enough_coverage) {
        sw_report_words_percent(s->coverage, pct, sizeof pct);
        sw_buf_printf(b, err, "no verdict: data covers only %s of the month%s", pct,
                      r->partial ? " so far" : "");
    } else {
        sw_buf_printf(b, err, "no verdict: too few requests or no data for this measure");
    }
}

static void
budget_left(sw_buf *b, const sw_objective_result *o, sw_err *err)
{
    char pct[24];
    if (!isfinite(o->budget_remaining))
        return;
    sw_report_words_percent(o->budget_remaining, pct, sizeof pct);
    sw_buf_printf(b, err, "; %s of the error budget left", pct);
}

static void
tell_one(sw_buf *b, const sw_report *r, const rp_service *s, size_t k, sw_err *err)
{
    const sw_objective_result *o = &s->objectives[k];
    sw_buf_printf(b, err, "%s: ", o->objective->name);
    if (!o->has_verdict) {
        no_verdict(b, r, s, err);
    } else {
        sw_buf_printf(b, err, "%s%s. ", o->met ? "met" : "missed", o->so_far ? " so far" : "");
        what_and_how_much(b, o, err);
        if (o->met)
            budget_left(b, o, err);
        when_and_why(b, r, s, sw_report_why_of(s, k), err);
    }
    sw_buf_printf(b, err, ".");
}

sw_status
sw_report_tell(const sw_report *r, rp_service *s, sw_err *err)
{
    s->sentences = calloc(s->own->n_objectives + 1, sizeof *s->sentences);
    if (s->sentences == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory for the report's sentences");
    for (size_t k = 0; k < s->own->n_objectives; k++) {
        sw_buf b;
        sw_buf_init(&b, 4096);
        sw_err first = {.code = SW_OK};
        tell_one(&b, r, s, k, &first);
        const char *text = first.code == SW_OK ? sw_buf_cstr(&b, &first) : NULL;
        if (text == NULL) {
            sw_buf_fini(&b);
            *err = first;
            return first.code;
        }
        s->sentences[k] = strdup(text);
        sw_buf_fini(&b);
        if (s->sentences[k] == NULL)
            return sw_err_set(err, SW_E_NOMEM, "out of memory for the report's sentences");
    }
    return SW_OK;
}
