/*
 * Burn rates over windows no rule asks for (the status' 6 h and 1 d beside the objective
 * results' hour), computed when an answer is written instead of at every tick: the history's
 * running totals answer any window it still holds at base resolution with two lookups.
 */
#include "eval_int.h"

#include <math.h>

/* Does the series still hold every base interval of a window starting at from_ms? The
 * history's sums are exact from there (sw_history_sums reads base intervals alone). */
static bool
base_reaches(const sw_series *s, int64_t from_ms)
{
    return from_ms > s->hist.level[SW_LEVEL_BASE].dropped_start_ms;
}

/* Do the slice verdicts of a slice-judged objective reach back to from_ms? */
static bool
slices_reach(const sw_series *s, size_t oi, int64_t from_ms, int64_t to_ms)
{
    const sw_objective *o = &s->rules->objectives[oi];
    return !sw_plan_uses_slices(o) || to_ms - from_ms <= s->plan->slice_keep_ms[oi] - o->slice_ms;
}

double
sw_eval_burn_rate(const sw_eval *ev, size_t i, size_t oi, int64_t window_ms)
{
    SW_REQUIRE(i < ev->n_series);
    const sw_series *s = ev->series[i];
    SW_REQUIRE(oi < s->rules->n_objectives);
    /* At the time the objective's own results (its 1 h burn rate) were computed. */
    int64_t to = s->objectives[oi].window_end_ms, from = to - window_ms;
    if (to <= 0 || window_ms <= 0 || !base_reaches(s, from) || !slices_reach(s, oi, from, to))
        return NAN;
    double burn;
    sw_budget_burn(ev, s, oi, from, to, false, NULL, &burn); /* a reader: no memo */
    return burn;
}
