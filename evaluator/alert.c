/*
 * Alerts: a condition over its `over` window, or a multiwindow burn rate, evaluated at every
 * base-interval boundary, and the Prometheus state machine on top (inactive -> pending ->
 * firing after `for`; resolved when it stops holding). Rollback triggers use the same
 * evaluation and state machine. Writes only the result it is given.
 */
#include "eval_int.h"

#include <math.h>

void
sw_alert_result_init(sw_alert_result *r, const sw_alert *a)
{
    *r = (sw_alert_result){
        .alert = a,
        .state = SW_ALERT_INACTIVE,
        .active_since_ms = -1,
        .last_fired_ms = -1,
        .last_resolved_ms = -1,
        .measured = NAN,
        .measured_short = NAN,
    };
}

/* Burn rate above the factor over both windows, each with enough data of its own. */
static bool
burn_holds(const sw_eval *ev, const sw_series *s, const sw_alert *a, int64_t t_ms, double *ret_long,
           double *ret_short)
{
    bool has_long = sw_budget_burn(ev, s, a->objective, t_ms - a->long_ms, t_ms, true,
                                   ev->sums_memo, ret_long);
    bool has_short = sw_budget_burn(ev, s, a->objective, t_ms - a->short_ms, t_ms, true,
                                    ev->sums_memo, ret_short);
    return has_long && has_short && *ret_long > a->burn_rate && *ret_short > a->burn_rate;
}

/*
 * A condition over (t - over, t], cut at from_ms when that is later: a rollback trigger judges
 * the deployment since its mark, never the traffic before it. A cut window merges its latency
 * afresh (scratch) instead of using the sliding window, and its failure run cannot be longer
 * than the failures since the cut.
 */
static bool
condition_holds(const sw_eval *ev, const sw_series *s, const sw_alert *a,
                const sw_lat_window *lat, int64_t from_ms, int64_t t_ms, double *ret_measured)
{
    int64_t start = t_ms - a->over_ms;
    bool cut = from_ms > start;
    sw_sums sums;
    sw_series_sums(ev->sums_memo, &s->hist, cut ? from_ms : start, t_ms, false, &sums);
    uint32_t run = a->when.sli == SW_SLI_HEALTH_CONSECUTIVE_FAILURES
                       ? sw_history_peak_run(&s->hist, cut ? from_ms : start, t_ms)
                       : 0;
    const sw_hdr *latency = lat != NULL ? sw_window_latency(lat) : NULL;
    const sw_packed_in packed = {lat, &s->hist, ev->scratch, ev->packed_memo};
    if (cut) {
        if (run > sums.v[SW_SUM_FAILURES])
            run = (uint32_t)sums.v[SW_SUM_FAILURES];
        if (lat != NULL) {
            sw_hdr_reset(ev->scratch);
            sw_window_merge(&s->hist, from_ms, t_ms, false, ev->scratch);
            latency = ev->scratch;
        }
    }
    sw_measure_in in = {&sums, run, latency, ev->rules->min_requests,
                        lat != NULL && latency == NULL ? &packed : NULL};
    bool holds = sw_condition_holds(&a->when, &in, ret_measured);
    if (cut && lat != NULL)
        sw_hdr_reset(ev->scratch); /* scratch is empty between uses */
    return holds;
}

bool
sw_alert_holds(const sw_eval *ev, const sw_series *s, const sw_alert *a, const sw_lat_window *lat,
               int64_t from_ms, int64_t t_ms, double *ret_measured, double *ret_short)
{
    if (a->kind == SW_ALERT_BURN_RATE)
        return burn_holds(ev, s, a, t_ms, ret_measured, ret_short);
    *ret_short = NAN;
    return condition_holds(ev, s, a, lat, from_ms, t_ms, ret_measured);
}

void
sw_alert_step(sw_alert_result *r, const sw_alert *a, bool holds, int64_t t_ms)
{
    if (!holds) {
        if (r->state == SW_ALERT_FIRING)
            r->last_resolved_ms = t_ms;
        r->state = SW_ALERT_INACTIVE;
        r->active_since_ms = -1;
        return;
    }
    if (r->state == SW_ALERT_INACTIVE) {
        r->state = SW_ALERT_PENDING;
        r->active_since_ms = t_ms;
    }
    if (r->state == SW_ALERT_PENDING && t_ms - r->active_since_ms >= a->for_ms) {
        r->state = SW_ALERT_FIRING;
        r->last_fired_ms = t_ms;
    }
}
