/*
 * Hours pinned after the fact. A source may answer an hour's latency as one period some time
 * after the hour's base intervals were fed (CloudWatch settles first); that answer knows the
 * hour's shape better than the sum of its minutes' reconstructions, so the rolling windows that
 * pack whole hours take it in place of their packed hour. The evaluator does not know the
 * source's format: the caller hands the pin function with the statistics. Every window that
 * packs whole hours takes it: rolling windows beyond 2 d, and sliding windows of an hour or
 * more, which start packing at their series' first pin (their partial edge hours stay base
 * intervals), so series no source pins keep the plain sliding windows' cost.
 *
 * Windows pinned whole. A source may also answer a sliding window of more than a minute as one
 * period ending at the window's end (CloudWatch's statistics of the last 6 h, asked at each
 * poll): while the window ends there its answers read its sum pinned to them (a view; the sum
 * and its totals are not changed); once it moves on without new statistics it reads its sum.
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

/* Whether a sliding window of length_ms of s has not reached end_ms yet (the pin waits). */
static bool
window_before(const sw_series *s, int64_t length_ms, int64_t end_ms)
{
    for (size_t i = 0; i < s->plan->n_lat; i++)
        if (s->plan->lat[i].kind == SW_LAT_SLIDING && s->plan->lat[i].length_ms == length_ms &&
            s->lat[i].to_ms < end_ms)
            return true;
    return false;
}

sw_status
sw_eval_pin_window(sw_eval *ev, const char *service, const char *env, int64_t length_ms,
                   int64_t end_ms, sw_eval_pin_fn fn, void *ctx, const void *stats, size_t len,
                   bool *ret_done, sw_err *err)
{
    sw_series *s = sw_eval_find(ev, service, env);
    *ret_done = s == NULL || !window_before(s, length_ms, end_ms);
    if (s == NULL)
        return SW_OK;
    const sw_hour_pin pin = {.fn = fn, .ctx = ctx, .stats = stats, .len = len};
    bool pinned = false;
    for (size_t i = 0; i < s->plan->n_lat; i++) {
        if (s->plan->lat[i].kind != SW_LAT_SLIDING || s->plan->lat[i].length_ms != length_ms ||
            s->lat[i].to_ms != end_ms)
            continue; /* another window, or moved on already: it reads its sum */
        sw_status st = sw_window_pin_view(&s->lat[i], &s->hist, &pin, err);
        if (st != SW_OK)
            return st;
        pinned = true;
    }
    if (pinned)
        s->advanced_ms = INT64_MIN; /* its answers changed: the next advance evaluates it again */
    return SW_OK;
}
