/*
 * Conditions (`<sli> <op> <value>`) measured over a window: the SLI from the window's sums,
 * health run and latency (a merged histogram, or a short window's packed intervals), and whether there was enough data to say anything.
 * A window with no data, too few requests (request-based SLIs) or no probe (health SLIs) has
 * no value: it never holds and is never "fine". Stateless.
 */
#include "eval_int.h"

#include <math.h>

bool
sw_condition_is_health(const sw_condition *c)
{
    return c->sli == SW_SLI_HEALTH_CONSECUTIVE_FAILURES || c->sli == SW_SLI_HEALTH_FAILURES ||
           c->sli == SW_SLI_HEALTH_SUCCESS;
}

/* Values in the window's latency: its merged histogram's, or its packed intervals'. */
static int64_t
latency_total(const sw_measure_in *in)
{
    if (in->latency != NULL)
        return sw_hdr_total_count(in->latency);
    return in->packed != NULL ? sw_packed_total(in->packed->w) : 0;
}

static int64_t
latency_at(const sw_measure_in *in, double percentile)
{
    if (in->latency != NULL)
        return sw_hdr_value_at_percentile(in->latency, percentile);
    const sw_packed_in *p = in->packed;
    return sw_packed_percentile(p->w, p->h, p->layout, percentile, p->memo);
}

static bool
enough_data(const sw_condition *c, const sw_measure_in *in)
{
    const uint64_t *v = in->sums->v;
    if (v[SW_SUM_DATA_MS] == 0)
        return false;
    if (sw_condition_is_health(c))
        return v[SW_SUM_PROBES] >= 1;
    if (v[SW_SUM_REQUESTS] == 0 || v[SW_SUM_REQUESTS] < (uint64_t)in->min_requests)
        return false;
    if (c->sli == SW_SLI_LATENCY)
        return latency_total(in) > 0;
    return true;
}

static double
ratio(uint64_t part, uint64_t whole)
{
    return (double)part / (double)whole;
}

bool
sw_condition_measure(const sw_condition *c, const sw_measure_in *in, double *ret)
{
    const uint64_t *v = in->sums->v;
    *ret = NAN;
    if (!enough_data(c, in))
        return false;
    switch (c->sli) {
    case SW_SLI_REQUESTS:
        *ret = (double)v[SW_SUM_REQUESTS];
        break;
    case SW_SLI_ERRORS:
        *ret = (double)v[SW_SUM_ERRORS];
        break;
    case SW_SLI_ERROR_RATE:
        *ret = ratio(v[SW_SUM_ERRORS], v[SW_SUM_REQUESTS]);
        break;
    case SW_SLI_AVAILABILITY:
        *ret = 1.0 - ratio(v[SW_SUM_ERRORS], v[SW_SUM_REQUESTS]);
        break;
    case SW_SLI_THROUGHPUT:
        *ret = 1000.0 * ratio(v[SW_SUM_REQUESTS], v[SW_SUM_DATA_MS]);
        break;
    case SW_SLI_LATENCY:
        *ret = (double)latency_at(in, c->percentile);
        break;
    case SW_SLI_HEALTH_CONSECUTIVE_FAILURES:
        *ret = (double)in->failure_run;
        break;
    case SW_SLI_HEALTH_FAILURES:
        *ret = (double)v[SW_SUM_FAILURES];
        break;
    case SW_SLI_HEALTH_SUCCESS:
        *ret = 1.0 - ratio(v[SW_SUM_FAILURES], v[SW_SUM_PROBES]);
        break;
    }
    return true;
}

bool
sw_condition_holds(const sw_condition *c, const sw_measure_in *in, double *ret_measured)
{
    return sw_condition_measure(c, in, ret_measured) &&
           sw_rules_compare(c->op, *ret_measured, c->value);
}
