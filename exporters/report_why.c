/*
 * The why of each objective that was missed or is at risk (met with less than
 * RP_AT_RISK_BUDGET of its budget left): the stretches of the month that spent its error budget,
 * ranked by how much of it each spent, in the budget's own unit: failed requests for
 * availability and error rate, requests over the threshold for latency, bad minutes for
 * timeslice objectives, minutes below the rate for throughput. An hour is worth naming when it
 * holds at least 1 % of the month's bad events and three times an even share of them; adjacent
 * such hours make one period, trimmed to its first and last remarkable minute where the store
 * has minute counts. Quiet hours are never listed to fill the list.
 */
#include "report_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN_SHARE 0.01
#define EVEN_FACTOR 3.0

typedef enum bad_unit { BAD_ERRORS, BAD_OVER, BAD_MINUTES, BAD_SLOW_MINUTES, BAD_NONE } bad_unit;

static bad_unit
unit_of(const sw_objective *o)
{
    if (o->objective.sli == SW_SLI_THROUGHPUT)
        return BAD_SLOW_MINUTES;
    if (o->budgeting == SW_BUDGET_TIMESLICES)
        return BAD_MINUTES;
    switch (o->objective.sli) {
    case SW_SLI_AVAILABILITY:
    case SW_SLI_ERROR_RATE:
        return BAD_ERRORS;
    case SW_SLI_LATENCY:
        return BAD_OVER;
    default:
        return BAD_NONE;
    }
}

/* A minute's bad events (minute counts only; latency has none per minute). */
static double
minute_bad(bad_unit u, const sw_objective *o, const rp_minutes *m, size_t i,
           const sw_condition *bad_when, size_t n_bad, int64_t min_requests)
{
    if ((m->flags[i] & RP_MIN_MAINT) || !(m->flags[i] & RP_MIN_DATA))
        return 0;
    switch (u) {
    case BAD_ERRORS:
        return (double)m->errors[i];
    case BAD_MINUTES:
        return sw_report_counts_bad(bad_when, n_bad, min_requests, m->requests[i], m->errors[i],
                                    m->probes[i], m->failures[i]);
    case BAD_SLOW_MINUTES:
        return !sw_rules_compare(o->objective.op, (double)m->requests[i] / 60.0,
                                 o->objective.value);
    default:
        return 0;
    }
}

/* Each hour's bad events into bad[], from the minutes when there are, else the hour rows. */
static void
hour_bad(const sw_report *r, const rp_service *s, size_t k, bad_unit u, const rp_minutes *m,
         double *bad)
{
    const sw_objective *o = &s->own->objectives[k];
    for (size_t h = 0; h < s->n_hours; h++) {
        if (u == BAD_OVER)
            bad[h] = s->over != NULL ? (double)s->over[h * s->own->n_objectives + k] : 0;
        else if (u == BAD_ERRORS)
            bad[h] = (double)s->hours[h].c.errors;
        else if (u == BAD_MINUTES)
            bad[h] = (double)s->hours[h].c.bad_minutes;
        else
            bad[h] = 0;
    }
    if (u != BAD_SLOW_MINUTES || m->n == 0)
        return;
    for (size_t i = 0; i < m->n; i++)
        bad[i * RP_MINUTE_MS / RP_HOUR_MS] +=
            minute_bad(u, o, m, i, NULL, 0, r->rules->min_requests);
}

/* Narrow [start, end) to its first and last minute holding more than an even share. */
static void
trim(const sw_report *r, const rp_service *s, size_t k, bad_unit u, const rp_minutes *m,
     double even_per_minute, rp_period *p)
{
    if (u == BAD_OVER || m->n == 0 || !s->minute_counts)
        return;
    const sw_objective *o = &s->own->objectives[k];
    const sw_condition *bw;
    size_t n_bw;
    sw_report_bad_when(s->own, &bw, &n_bw);
    size_t from = (size_t)((p->start_ms - r->start_ms) / RP_MINUTE_MS);
    size_t to = (size_t)((p->end_ms - r->start_ms) / RP_MINUTE_MS);
    int64_t first = -1, last = -1;
    for (size_t i = from; i < to && i < m->n; i++)
        if (minute_bad(u, o, m, i, bw, n_bw, r->rules->min_requests) >
            EVEN_FACTOR * even_per_minute) {
            if (first < 0)
                first = (int64_t)i;
            last = (int64_t)i;
        }
    if (first < 0)
        return;
    p->start_ms = r->start_ms + first * RP_MINUTE_MS;
    p->end_ms = r->start_ms + (last + 1) * RP_MINUTE_MS;
}

static void
keep_period(rp_why *w, const rp_period *p)
{
    size_t j = w->n_periods < RP_WHY_PERIODS ? w->n_periods++ : RP_WHY_PERIODS;
    while (j > 0 && w->periods[j - 1].bad < p->bad) {
        if (j < RP_WHY_PERIODS)
            w->periods[j] = w->periods[j - 1];
        j--;
    }
    if (j < RP_WHY_PERIODS)
        w->periods[j] = *p;
}

static void
name_unit(const sw_objective *o, bad_unit u, rp_why *w)
{
    static const char *const names[] = {"failed requests", "", "bad minutes", ""};
    char v[40];
    if (u == BAD_OVER) {
        sw_report_words_latency(o->objective.value, v, sizeof v);
        snprintf(w->unit_text, sizeof w->unit_text, "requests over %s", v);
    } else if (u == BAD_SLOW_MINUTES) {
        sw_report_words_rate(o->objective.value, v, sizeof v);
        snprintf(w->unit_text, sizeof w->unit_text, "minutes below %s", v);
    } else {
        snprintf(w->unit_text, sizeof w->unit_text, "%s", names[u]);
    }
}

static bool
wants_why(const sw_objective_result *o)
{
    return o->has_verdict &&
           (!o->met || (isfinite(o->budget_remaining) && o->budget_remaining < RP_AT_RISK_BUDGET));
}

bool
sw_report_has_why(const rp_service *s)
{
    for (size_t i = 0; i < s->n_why; i++)
        if (s->why[i].n_periods > 0)
            return true;
    return false;
}

void
sw_report_period_words(const sw_report *r, const rp_period *x, rp_period_words *out)
{
    sw_report_words_span(r, x->start_ms, x->end_ms, out->span, sizeof out->span);
    sw_report_words_count(x->bad, out->bad, sizeof out->bad);
    sw_report_words_percent(x->share, out->share, sizeof out->share);
}

bool
sw_report_why_needs_over(const rp_service *s)
{
    for (size_t k = 0; k < s->own->n_objectives; k++)
        if (unit_of(&s->own->objectives[k]) == BAD_OVER && wants_why(&s->objectives[k]))
            return true;
    return false;
}

/* The periods of objective k from its hours' bad events. */
static void
periods(const sw_report *r, const rp_service *s, size_t k, bad_unit u, const rp_minutes *m,
        const double *bad, rp_why *w)
{
    size_t with_data = 0;
    for (size_t h = 0; h < s->n_hours; h++) {
        w->total_bad += bad[h];
        with_data += s->hours[h].c.data_ms > 0;
    }
    if (w->total_bad <= 0 || with_data == 0)
        return;
    double floor = fmax(MIN_SHARE * w->total_bad, EVEN_FACTOR * w->total_bad / (double)with_data);
    double even_minute = w->total_bad / ((double)with_data * 60.0);
    for (size_t h = 0; h < s->n_hours;) {
        if (bad[h] < floor) {
            w->max_hour_share = fmax(w->max_hour_share, bad[h] / w->total_bad);
            h++;
            continue;
        }
        rp_period p = {.start_ms = s->hours[h].start_ms};
        for (; h < s->n_hours && bad[h] >= floor; h++)
            p.bad += bad[h];
        p.end_ms = h < s->n_hours ? s->hours[h].start_ms : r->end_ms;
        p.share = p.bad / w->total_bad;
        w->max_hour_share = fmax(w->max_hour_share, p.share);
        trim(r, s, k, u, m, even_minute, &p);
        keep_period(w, &p);
    }
}

sw_status
sw_report_find_why(const sw_report *r, rp_service *s, const rp_minutes *m, sw_err *err)
{
    double *bad = malloc((s->n_hours + 1) * sizeof *bad);
    s->why = calloc(s->own->n_objectives + 1, sizeof *s->why);
    if (bad == NULL || s->why == NULL) {
        free(bad);
        return sw_err_set(err, SW_E_NOMEM, "out of memory ranking a service's hours");
    }
    for (size_t k = 0; k < s->own->n_objectives; k++) {
        const sw_objective *o = &s->own->objectives[k];
        bad_unit u = unit_of(o);
        if (!wants_why(&s->objectives[k]) || u == BAD_NONE)
            continue;
        rp_why *w = &s->why[s->n_why++];
        w->objective = k;
        name_unit(o, u, w);
        hour_bad(r, s, k, u, m, bad);
        periods(r, s, k, u, m, bad, w);
    }
    free(bad);
    return SW_OK;
}

const rp_why *
sw_report_why_of(const rp_service *s, size_t k)
{
    for (size_t i = 0; i < s->n_why; i++)
        if (s->why[i].objective == k)
            return &s->why[i];
    return NULL;
}
