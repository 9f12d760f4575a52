/*
 * Objectives at the evaluation time: the window (calendar month so far, or rolling), the
 * measured SLI with maintenance left out, whether it meets the promise, and the error budget.
 * Events objectives are measured from the history's sums and the latency windows; throughput
 * and timeslices from slice verdicts. Writes the series' objective results; nothing else.
 */
#include "eval_int.h"
#include "slawatch/judgement.h"

#include <math.h>

void
sw_objective_result_init(sw_objective_result *r, const sw_objective *o)
{
    *r = (sw_objective_result){
        .objective = o,
        .measured = NAN,
        .budget_remaining = NAN,
        .burn_rate = NAN,
        .time_to_exhaustion_s = NAN,
        .allowed_downtime_s = NAN,
        .downtime_s = NAN,
    };
}

static double
coverage(const sw_eval *ev, const sw_series *s, const sw_sums *sums, int64_t from, int64_t to)
{
    int64_t span = to - from - sw_maint_ms_in(&ev->plan.maint[s->service_index], from, to);
    return sw_judgement_coverage((int64_t)sums->v[SW_SUM_DATA_MS], span);
}

/* Availability, error rate, latency and the other per-event SLIs. */
static void
eval_events(const sw_eval *ev, const sw_series *s, size_t oi, const sw_sums *sums, int64_t now_ms,
            double whole_s, sw_objective_result *r)
{
    const sw_objective *o = &s->rules->objectives[oi];
    const uint64_t *v = sums->v;
    ptrdiff_t lat = s->plan->objective_lat[oi], slow = s->plan->objective_slow[oi];
    uint32_t run = o->objective.sli == SW_SLI_HEALTH_CONSECUTIVE_FAILURES
                       ? sw_history_peak_run(&s->hist, r->window_start_ms, now_ms)
                       : 0;
    const sw_lat_window *w = lat >= 0 ? &s->lat[lat] : NULL;
    const sw_packed_in packed = {w, &s->hist, ev->scratch, ev->packed_memo};
    sw_measure_in in = {sums, run, w != NULL ? sw_window_latency(w) : NULL, ev->rules->min_requests,
                        NULL};
    if (w != NULL && in.latency == NULL)
        in.packed = &packed;
    r->has_verdict = sw_condition_measure(&o->objective, &in, &r->measured);
    r->op = o->objective.op;
    r->target = o->objective.value;
    r->met = r->has_verdict && sw_rules_compare(r->op, r->measured, r->target);
    bool health = sw_condition_is_health(&o->objective);
    r->samples = health ? v[SW_SUM_PROBES] : v[SW_SUM_REQUESTS];
    double frac = sw_rules_budget_fraction(o), bad = NAN, total = NAN;
    if (o->objective.sli == SW_SLI_LATENCY && slow >= 0) {
        bad = (double)v[SW_SUM_SLOW + slow];
        total = (double)v[SW_SUM_LAT_TOTAL];
    } else if (o->objective.sli == SW_SLI_HEALTH_SUCCESS) {
        bad = (double)v[SW_SUM_FAILURES];
        total = (double)v[SW_SUM_PROBES];
    } else if (o->objective.sli == SW_SLI_AVAILABILITY || o->objective.sli == SW_SLI_ERROR_RATE) {
        bad = (double)v[SW_SUM_ERRORS];
        total = (double)v[SW_SUM_REQUESTS];
    }
    r->budget_remaining = sw_budget_remaining(bad, frac * total);
    if (o->objective.sli != SW_SLI_AVAILABILITY)
        return;
    r->allowed_downtime_s = frac * whole_s;
    r->downtime_s = total > 0 ? bad / total * (double)v[SW_SUM_DATA_MS] / 1000.0 : 0.0;
}

/* Slices of the whole window (a whole calendar month for `month`) not under maintenance. */
static double
whole_slices(const sw_eval *ev, const sw_series *s, const sw_objective *o, int64_t whole_start,
             int64_t whole_end)
{
    int64_t n = sw_floor_to(whole_end, o->slice_ms) / o->slice_ms -
                sw_ceil_to(whole_start, o->slice_ms) / o->slice_ms;
    n -= sw_maint_slices_in(&ev->plan.maint[s->service_index], o->slice_ms, whole_start, whole_end);
    return n > 0 ? (double)n : 0.0;
}

/* Throughput and timeslices availability, from the slice verdicts of the window. */
static void
eval_slices(const sw_eval *ev, sw_series *s, size_t oi, const sw_sums *sums, int64_t start_ms,
            const int64_t whole[2], sw_objective_result *r)
{
    const sw_objective *o = &s->rules->objectives[oi];
    uint64_t count[SW_SLICE_VERDICTS];
    sw_slices_window(s->slices[oi], start_ms, count);
    uint64_t good = count[SW_SLICE_GOOD], bad = count[SW_SLICE_BAD], judged = good + bad;
    double frac = sw_rules_budget_fraction(o);
    bool throughput = o->objective.sli == SW_SLI_THROUGHPUT;
    r->samples = judged;
    r->has_verdict = judged > 0 && sums->v[SW_SUM_REQUESTS] > 0 &&
                     sums->v[SW_SUM_REQUESTS] >= (uint64_t)ev->rules->min_requests;
    /* Throughput is judged on the share of slices that reached the rate. */
    r->op = throughput ? SW_OP_GE : o->objective.op;
    r->target = throughput ? o->slice_target : o->objective.value;
    if (r->has_verdict) {
        r->measured = (double)good / (double)judged;
        r->met = sw_rules_compare(r->op, r->measured, r->target);
    }
    if (throughput) {
        r->budget_remaining = sw_budget_remaining((double)bad, frac * (double)judged);
        return;
    }
    double allowed = frac * whole_slices(ev, s, o, whole[0], whole[1]);
    r->budget_remaining = sw_budget_remaining((double)bad, allowed);
    r->allowed_downtime_s = frac * (double)(whole[1] - whole[0]) / 1000.0;
    r->downtime_s = (double)bad * (double)o->slice_ms / 1000.0;
}

sw_status
sw_objective_eval(const sw_eval *ev, sw_series *s, size_t oi, int64_t now_ms, sw_err *err)
{
    const sw_objective *o = &s->rules->objectives[oi];
    sw_objective_result *r = &s->objectives[oi];
    int64_t start, whole[2];
    sw_plan_objective_window(o, now_ms, &start, &whole[0], &whole[1]);
    sw_objective_result_init(r, o);
    r->window_start_ms = start;
    r->window_end_ms = now_ms;
    sw_sums sums;
    sw_series_sums(ev->sums_memo, &s->hist, start, now_ms, true, &sums);
    r->coverage = coverage(ev, s, &sums, start, now_ms);
    double whole_s = (double)(whole[1] - whole[0]) / 1000.0;
    if (sw_plan_uses_slices(o)) {
        sw_status st = sw_slices_judge(s->slices[oi], ev, s, o, now_ms, ev->scratch, err);
        if (st != SW_OK)
            return st;
        eval_slices(ev, s, oi, &sums, start, whole, r);
    } else {
        eval_events(ev, s, oi, &sums, now_ms, whole_s, r);
    }
    /* Measured is not enough: the verdict rule also wants the window's coverage. */
    r->has_verdict = sw_judgement_enough(r->has_verdict, r->coverage);
    r->met = r->has_verdict && r->met;
    r->so_far = r->has_verdict && sw_judgement_so_far(now_ms, whole[1]);
    sw_budget_burn(ev, s, oi, now_ms - SW_HOUR_MS, now_ms, false, ev->sums_memo,
                   &r->burn_rate);
    r->time_to_exhaustion_s = sw_budget_exhaustion_s(r->budget_remaining, whole_s, r->burn_rate);
    return SW_OK;
}
