/*
 * Error budgets (the bad fraction an objective allows is sw_rules_budget_fraction): the burn
 * rate over a window (bad fraction in it / allowed fraction: 1 spends the budget exactly over the
 * objective's window), what is left and when it runs out. Bad events are errors (availability,
 * error rate), failed probes (health success), values above the threshold (latency) or bad
 * slices (timeslices, throughput). Stateless; reads the series' history and slice verdicts.
 */
#include "eval_int.h"

#include <math.h>

/* Bad and total of a slice-judged objective over [from, to]; enough: data to judge. */
static bool
slice_bad_total(const sw_eval *ev, const sw_series *s, size_t oi, const sw_sums *sums,
                int64_t from_ms, int64_t to_ms, bool need_min, double bt[2])
{
    uint64_t count[SW_SLICE_VERDICTS];
    sw_slices_count(s->slices[oi], from_ms, to_ms, count);
    bt[0] = (double)count[SW_SLICE_BAD];
    bt[1] = (double)(count[SW_SLICE_BAD] + count[SW_SLICE_GOOD]);
    if (need_min && sums->v[SW_SUM_REQUESTS] < (uint64_t)ev->rules->min_requests)
        return false;
    return bt[1] > 0;
}

/* Bad and total events of objective oi in sums; false when it has none or too few. */
static bool
event_bad_total(const sw_eval *ev, const sw_series *s, size_t oi, const sw_sums *sums,
                bool need_min, double bt[2])
{
    const sw_objective *o = &s->rules->objectives[oi];
    const uint64_t *v = sums->v;
    ptrdiff_t slow = s->plan->objective_slow[oi];
    bool enough_requests = !need_min || v[SW_SUM_REQUESTS] >= (uint64_t)ev->rules->min_requests;
    switch (o->objective.sli) {
    case SW_SLI_AVAILABILITY:
    case SW_SLI_ERROR_RATE:
        bt[0] = (double)v[SW_SUM_ERRORS];
        bt[1] = (double)v[SW_SUM_REQUESTS];
        return enough_requests && bt[1] > 0;
    case SW_SLI_HEALTH_SUCCESS:
        bt[0] = (double)v[SW_SUM_FAILURES];
        bt[1] = (double)v[SW_SUM_PROBES];
        return bt[1] > 0;
    case SW_SLI_LATENCY:
        if (slow < 0)
            return false;
        bt[0] = (double)v[SW_SUM_SLOW + slow];
        bt[1] = (double)v[SW_SUM_LAT_TOTAL];
        return enough_requests && bt[1] > 0;
    default:
        return false;
    }
}

bool
sw_budget_burn(const sw_eval *ev, const sw_series *s, size_t oi, int64_t from_ms, int64_t to_ms,
               bool need_min, sw_sums_memo *memo, double *ret)
{
    const sw_objective *o = &s->rules->objectives[oi];
    double frac = sw_rules_budget_fraction(o), bt[2];
    sw_sums sums;
    *ret = NAN;
    if (isnan(frac) || frac <= 0)
        return false;
    sw_series_sums(memo, &s->hist, from_ms, to_ms, true, &sums);
    bool ok = sw_plan_uses_slices(o)
                  ? slice_bad_total(ev, s, oi, &sums, from_ms, to_ms, need_min, bt)
                  : event_bad_total(ev, s, oi, &sums, need_min, bt);
    if (!ok)
        return false;
    *ret = bt[0] / bt[1] / frac;
    return true;
}

double
sw_budget_remaining(double bad, double allowed)
{
    if (isnan(bad) || isnan(allowed))
        return NAN;
    if (allowed <= 0)
        return bad > 0 ? -INFINITY : 1.0;
    return 1.0 - bad / allowed;
}

double
sw_budget_exhaustion_s(double remaining, double whole_window_s, double burn)
{
    if (isnan(remaining))
        return NAN;
    if (remaining <= 0)
        return 0.0;
    if (isnan(burn) || burn <= 0)
        return INFINITY;
    return remaining * whole_window_s / burn;
}
