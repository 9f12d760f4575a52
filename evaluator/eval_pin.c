/*
 * Hours pinned after the fact. A source may answer an hour's latency as one period some time
 * after the hour's base intervals were fed (CloudWatch settles first); that answer knows the
 * hour's shape better than the sum of its minutes' reconstructions, so the rolling windows that
 * pack whole hours take it in place of their packed hour. The evaluator does not know the
 * source's format: the caller hands the pin function with the statistics. Every window that
 * packs whole hours takes it: rolling windows beyond 2 d, and sliding windows of an hour or
 * more, which start packing at their series' first pin (their partial edge hours stay base
 * intervals), so series no source pins keep the plain sliding windows' cost.
 */
#include "eval_int.h"

/* Every window of s that packs hours has packed hour_ms, so a pin reaches all at once. */
static bool
all_sealed(const sw_series *s, int64_t hour_ms)
{
    for (size_t i = 0; i < s->plan->n_lat; i++)
        if (sw_window_packs_hours(&s->lat[i]) && !sw_window_hour_sealed(&s->lat[i], hour_ms))
            return false;
    return true;
}

sw_status
sw_eval_pin_hour(sw_eval *ev, const char *service, const char *env, int64_t hour_ms,
                 sw_eval_pin_fn fn, void *ctx, const void *stats, size_t len, bool *ret_done,
                 sw_err *err)
{
    sw_series *s = sw_eval_find(ev, service, env);
    for (size_t i = 0; s != NULL && i < s->plan->n_lat; i++) {
        sw_status st =
            sw_window_pack_hours(&s->lat[i], &s->plan->lat[i], &s->hist, &ev->pack_buf, err);
        if (st != SW_OK)
            return st;
    }
    *ret_done = s == NULL || all_sealed(s, hour_ms);
    if (s == NULL || !*ret_done)
        return SW_OK;
    const sw_hour_pin pin = {.fn = fn, .ctx = ctx, .stats = stats, .len = len};
    for (size_t i = 0; i < s->plan->n_lat; i++) {
        if (!sw_window_packs_hours(&s->lat[i]))
            continue;
        sw_status st =
            sw_window_pin_hour(&s->lat[i], hour_ms, &pin, ev->scratch, &ev->pack_buf, err);
        if (st != SW_OK)
            return st;
    }
    s->advanced_ms = INT64_MIN; /* its answers changed: the next advance evaluates it again */
    return SW_OK;
}
