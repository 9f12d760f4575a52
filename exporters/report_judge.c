/*
 * Judging a service's month against each objective with the evaluator's definitions
 * (rules/README.md): events objectives from the month's sums and merged histogram, throughput
 * and timeslices slice by slice from the 1-minute counts. A month whose coverage is below
 * the verdict rule's (judgement.h), or without the detail an objective needs, gets no verdict.
 */
#include "report_int.h"
#include "slawatch/judgement.h"

#include <math.h>

/* rules/README.md's default bad_when. */
static const sw_condition default_bad_when[] = {
    {.sli = SW_SLI_ERROR_RATE, .op = SW_OP_GT, .value = 0.05},
    {.sli = SW_SLI_HEALTH_SUCCESS, .op = SW_OP_LT, .value = 0.5},
};

typedef enum slice_verdict { SLICE_NODATA, SLICE_GOOD, SLICE_BAD, SLICE_MAINT } slice_verdict;

void
sw_report_bad_when(const sw_rules *rules, const sw_condition **ret, size_t *ret_n)
{
    for (size_t i = 0; i < rules->n_objectives; i++) {
        const sw_objective *o = &rules->objectives[i];
        if (o->budgeting == SW_BUDGET_TIMESLICES && o->n_bad_when > 0) {
            *ret = o->bad_when;
            *ret_n = o->n_bad_when;
            return;
        }
    }
    *ret = default_bad_when;
    *ret_n = sizeof default_bad_when / sizeof default_bad_when[0];
}

/* One condition on counts: false (not judged) without enough data or for latency. */
static bool
measure_counts(const sw_condition *c, int64_t min_requests, const rp_counts *k, double *ret)
{
    bool health = c->sli == SW_SLI_HEALTH_SUCCESS || c->sli == SW_SLI_HEALTH_FAILURES;
    if (health) {
        if (k->probes == 0)
            return false;
        *ret = c->sli == SW_SLI_HEALTH_FAILURES
                   ? (double)k->failures
                   : 1.0 - (double)k->failures / (double)k->probes;
        return true;
    }
    if (k->requests == 0 || k->requests < (uint64_t)min_requests)
        return false;
    double rate = (double)k->errors / (double)k->requests;
    switch (c->sli) {
    case SW_SLI_REQUESTS: *ret = (double)k->requests; return true;
    case SW_SLI_ERRORS: *ret = (double)k->errors; return true;
    case SW_SLI_ERROR_RATE: *ret = rate; return true;
    case SW_SLI_AVAILABILITY: *ret = 1.0 - rate; return true;
    case SW_SLI_THROUGHPUT:
        *ret = k->data_ms > 0 ? 1000.0 * (double)k->requests / (double)k->data_ms : NAN;
        return k->data_ms > 0;
    default: return false;
    }
}

static slice_verdict
judge_conditions(const sw_condition *conds, size_t n, int64_t min_requests, const rp_counts *k)
{
    slice_verdict v = SLICE_NODATA;
    for (size_t i = 0; i < n; i++) {
        double x;
        if (!measure_counts(&conds[i], min_requests, k, &x))
            continue;
        if (sw_rules_compare(conds[i].op, x, conds[i].value))
            return SLICE_BAD;
        v = SLICE_GOOD;
    }
    return v;
}

bool
sw_report_counts_bad(const sw_condition *conds, size_t n, int64_t min_requests,
                     uint64_t requests, uint64_t errors, uint64_t probes, uint64_t failures)
{
    rp_counts k = {.requests = requests, .errors = errors, .probes = probes,
                   .failures = failures, .data_ms = RP_MINUTE_MS};
    return judge_conditions(conds, n, min_requests, &k) == SLICE_BAD;
}

static slice_verdict
judge_slice(const sw_report *r, const sw_objective *o, const rp_counts *k)
{
    if (k->maint_ms > 0)
        return SLICE_MAINT;
    if (k->data_ms == 0)
        return SLICE_NODATA;
    if (o->objective.sli == SW_SLI_THROUGHPUT) {
        double rate = 1000.0 * (double)k->requests / (double)k->data_ms;
        return sw_rules_compare(o->objective.op, rate, o->objective.value) ? SLICE_GOOD
                                                                           : SLICE_BAD;
    }
    const sw_condition *conds = o->n_bad_when ? o->bad_when : default_bad_when;
    size_t n = o->n_bad_when ? o->n_bad_when : sizeof default_bad_when / sizeof *conds;
    return judge_conditions(conds, n, r->rules->min_requests, k);
}

/* Verdict counts of the objective's slices wholly inside the month. */
static void
count_slices(const sw_report *r, const rp_minutes *m, const sw_objective *o, uint64_t count[4])
{
    int64_t per = o->slice_ms / RP_MINUTE_MS;
    int64_t first = (r->start_ms + o->slice_ms - 1) / o->slice_ms * o->slice_ms;
    for (int64_t t = first; t + o->slice_ms <= r->end_ms; t += o->slice_ms) {
        rp_counts k = {0};
        size_t i0 = (size_t)((t - r->start_ms) / RP_MINUTE_MS);
        for (size_t i = i0; i < i0 + (size_t)per && i < m->n; i++) {
            k.requests += m->requests[i];
            k.errors += m->errors[i];
            k.probes += m->probes[i];
            k.failures += m->failures[i];
            k.data_ms += (m->flags[i] & RP_MIN_DATA) ? RP_MINUTE_MS : 0;
            k.maint_ms += (m->flags[i] & RP_MIN_MAINT) ? RP_MINUTE_MS : 0;
        }
        count[judge_slice(r, o, &k)]++;
    }
}

static double
budget_fraction(const sw_objective *o)
{
    const sw_condition *c = &o->objective;
    switch (c->sli) {
    case SW_SLI_AVAILABILITY:
    case SW_SLI_HEALTH_SUCCESS: return 1.0 - c->value;
    case SW_SLI_ERROR_RATE: return c->value;
    case SW_SLI_LATENCY:
        return c->op == SW_OP_LE || c->op == SW_OP_LT ? 1.0 - c->percentile / 100.0 : NAN;
    case SW_SLI_THROUGHPUT: return 1.0 - o->slice_target;
    default: return NAN;
    }
}

static double
remaining(double bad, double allowed)
{
    if (!isfinite(bad) || !isfinite(allowed))
        return NAN;
    if (allowed <= 0)
        return bad > 0 ? -INFINITY : 1.0;
    return 1.0 - bad / allowed;
}

static void
judge_slices(const sw_report *r, const rp_service *s, const rp_minutes *m, const sw_objective *o,
             sw_objective_result *out)
{
    uint64_t count[4] = {0};
    bool usable = s->minute_counts && o->slice_ms % RP_MINUTE_MS == 0;
    if (usable)
        count_slices(r, m, o, count);
    uint64_t good = count[SLICE_GOOD], bad = count[SLICE_BAD], judged = good + bad;
    bool throughput = o->objective.sli == SW_SLI_THROUGHPUT;
    double frac = budget_fraction(o);
    out->samples = judged;
    out->op = throughput ? SW_OP_GE : o->objective.op;
    out->target = throughput ? o->slice_target : o->objective.value;
    out->has_verdict = sw_judgement_enough(
        usable && judged > 0 && s->month.requests >= (uint64_t)r->rules->min_requests, s->coverage);
    if (judged > 0)
        out->measured = (double)good / (double)judged;
    out->met = out->has_verdict && sw_rules_compare(out->op, out->measured, out->target);
    if (throughput) {
        out->budget_remaining = remaining((double)bad, frac * (double)judged);
        return;
    }
    double whole = (double)(count[SLICE_GOOD] + count[SLICE_BAD] + count[SLICE_NODATA]);
    out->budget_remaining = remaining((double)bad, frac * whole);
    out->allowed_downtime_s = frac * (double)(r->end_ms - r->start_ms) / 1000.0;
    out->downtime_s = (double)bad * (double)o->slice_ms / 1000.0;
}

static bool
measure_event(const sw_report *r, const rp_service *s, const sw_hdr *lat, const sw_condition *c,
              double *ret)
{
    if (s->month.data_ms == 0)
        return false;
    if (c->sli == SW_SLI_LATENCY) {
        if (lat == NULL || sw_hdr_total_count(lat) == 0 ||
            s->month.requests < (uint64_t)r->rules->min_requests)
            return false;
        *ret = (double)sw_hdr_value_at_percentile(lat, c->percentile);
        return true;
    }
    if (c->sli == SW_SLI_HEALTH_CONSECUTIVE_FAILURES)
        return false; /* a run across rows is not kept in the month's rollups */
    return measure_counts(c, r->rules->min_requests, &s->month, ret);
}

static void
judge_events(const sw_report *r, const rp_service *s, const sw_hdr *lat, const sw_objective *o,
             sw_objective_result *out)
{
    const sw_condition *c = &o->objective;
    const rp_counts *k = &s->month;
    bool measured = measure_event(r, s, lat, c, &out->measured);
    out->has_verdict = sw_judgement_enough(measured, s->coverage);
    out->op = c->op;
    out->target = c->value;
    out->met = out->has_verdict && sw_rules_compare(c->op, out->measured, c->value);
    bool health = c->sli == SW_SLI_HEALTH_SUCCESS || c->sli == SW_SLI_HEALTH_FAILURES;
    out->samples = health ? k->probes : k->requests;
    double frac = budget_fraction(o), bad = NAN, total = NAN;
    if (c->sli == SW_SLI_LATENCY && lat != NULL) {
        total = (double)sw_hdr_total_count(lat);
        bad = total - (double)sw_hdr_count_at_or_below(lat, (int64_t)c->value);
    } else if (c->sli == SW_SLI_HEALTH_SUCCESS) {
        bad = (double)k->failures;
        total = (double)k->probes;
    } else if (c->sli == SW_SLI_AVAILABILITY || c->sli == SW_SLI_ERROR_RATE) {
        bad = (double)k->errors;
        total = (double)k->requests;
    }
    out->budget_remaining = remaining(bad, frac * total);
    if (c->sli != SW_SLI_AVAILABILITY)
        return;
    out->allowed_downtime_s = frac * (double)(r->end_ms - r->start_ms) / 1000.0;
    out->downtime_s = total > 0 ? bad / total * (double)k->data_ms / 1000.0 : 0.0;
}

void
sw_report_judge(const sw_report *r, const rp_service *s, const rp_minutes *m, const sw_hdr *lat,
                const sw_objective *o, sw_objective_result *out)
{
    *out = (sw_objective_result){
        .objective = o,
        .window_start_ms = r->start_ms,
        .window_end_ms = r->end_ms,
        .measured = NAN,
        .budget_remaining = NAN,
        .burn_rate = NAN,
        .time_to_exhaustion_s = NAN,
        .allowed_downtime_s = NAN,
        .downtime_s = NAN,
        .coverage = s->coverage,
    };
    bool slices = o->objective.sli == SW_SLI_THROUGHPUT || o->budgeting == SW_BUDGET_TIMESLICES;
    if (slices)
        judge_slices(r, s, m, o, out);
    else
        judge_events(r, s, lat, o, out);
    out->so_far = out->has_verdict && sw_judgement_so_far(r->judged_until_ms, r->end_ms);
}
