/*
 * Start times of Prometheus counter series (see promstart.h): a start time is a wall-clock
 * reading of the target, compared with the times slawatch stamped on samples.
 */
#include "slawatch/promstart.h"

#include <math.h>

static int64_t
to_ms(double seconds)
{
    return (int64_t)llround(seconds * 1000.0);
}

/* A finite start time no later than the sample; future ones are counted as bad. */
static bool
usable(double start, int64_t at_ms, sw_promstart_bad *bad)
{
    *bad = SW_PROMSTART_NONE;
    if (isnan(start))
        return false;
    if (!isfinite(start) || fabs(start) > 1e13 || to_ms(start) > at_ms) {
        *bad = SW_PROMSTART_FUTURE;
        return false;
    }
    return true;
}

double
sw_promstart_process(double start, double before, int64_t at_ms, int64_t since_ms,
                     sw_promstart_bad *bad)
{
    if (!usable(start, at_ms, bad))
        return NAN;
    /* A restart moves the start to after the previous scrape; any other change is noise. */
    bool changed = !isnan(before) && start != before;
    if (changed && since_ms != INT64_MIN && to_ms(start) <= since_ms) {
        *bad = SW_PROMSTART_MOVED;
        return NAN;
    }
    return start;
}

static void
judge_known(const sw_promstart_in *in, bool created_ok, sw_promstart_out *out)
{
    bool changed = !isnan(in->created_before) && in->created != in->created_before;
    if (created_ok && to_ms(in->created) > in->last_ms) {
        out->use = SW_PROMSTART_FROM_ZERO;
        out->reset = out->reset_by_created = true;
        return;
    }
    if (created_ok && changed)
        out->created_bad = SW_PROMSTART_MOVED; /* the same series cannot have begun earlier */
    if (!isnan(in->process_start) && to_ms(in->process_start) > in->last_ms) {
        out->use = SW_PROMSTART_FROM_ZERO;
        out->reset = true;
        return;
    }
    out->use = SW_PROMSTART_CONTINUE;
}

static void
judge_new(const sw_promstart_in *in, bool created_ok, sw_promstart_out *out)
{
    out->use = SW_PROMSTART_BASELINE;
    if (!in->scrape)
        return;
    bool first = in->since_ms == INT64_MIN;
    int64_t since =
        first ? in->at_ms - ((in->at_ms % in->base_ms) + in->base_ms) % in->base_ms : in->since_ms;
    if (created_ok) {
        if (to_ms(in->created) > since) {
            out->use = SW_PROMSTART_FROM_ZERO;
            out->why = SW_PROMSTART_CREATED;
        }
        return; /* created before: its value holds counts from before slawatch looked */
    }
    if (!isnan(in->process_start) && to_ms(in->process_start) > since) {
        out->use = SW_PROMSTART_FROM_ZERO;
        out->why = SW_PROMSTART_PROCESS_START;
    } else if (!first) {
        out->use = SW_PROMSTART_FROM_ZERO;
        out->why = SW_PROMSTART_ABSENT;
    }
}

void
sw_promstart_judge(const sw_promstart_in *in, sw_promstart_out *out)
{
    *out = (sw_promstart_out){0};
    bool created_ok = usable(in->created, in->at_ms, &out->created_bad);
    if (in->known)
        judge_known(in, created_ok, out);
    else
        judge_new(in, created_ok, out);
}
