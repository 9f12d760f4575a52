/*
 * Trailing-window SLIs of one series for exporters (/metrics percentile gauges, status):
 * counts from the history's running totals, latency merged from the base intervals. Reads
 * the evaluator only.
 */
#include "eval_int.h"

#include <math.h>

static double
percentile_us(const sw_hdr *h, double p)
{
    return sw_hdr_total_count(h) == 0 ? NAN : (double)sw_hdr_value_at_percentile(h, p);
}

sw_status
sw_eval_window_stats(const sw_eval *ev, const char *service, const char *env, int64_t window_ms,
                     sw_hdr *lat, sw_window_stats *ret, sw_err *err)
{
    SW_REQUIRE(window_ms > 0 && window_ms <= SW_EXACT_MAX_MS);
    const sw_series *s = sw_eval_find(ev, service, env);
    if (s == NULL)
        return sw_err_set(err, SW_E_INVAL, "no series %s%s%s", service, env ? "/" : "",
                          env ? env : "");
    sw_hdr *h = lat;
    sw_status st = h == NULL ? sw_hdr_new(&sw_hdr_latency_config, &h, err) : SW_OK;
    if (st != SW_OK)
        return st;
    sw_hdr_reset(h);
    int64_t to = ev->now_ms, from = to - window_ms;
    sw_sums sums;
    sw_history_sums(&s->hist, from, to, false, &sums);
    sw_window_merge(&s->hist, from, to, false, h);
    *ret = (sw_window_stats){
        .requests = sums.v[SW_SUM_REQUESTS],
        .errors = sums.v[SW_SUM_ERRORS],
        .probes = sums.v[SW_SUM_PROBES],
        .probe_failures = sums.v[SW_SUM_FAILURES],
        .coverage = (double)sums.v[SW_SUM_DATA_MS] / (double)window_ms,
        .p50_us = percentile_us(h, 50.0),
        .p95_us = percentile_us(h, 95.0),
        .p99_us = percentile_us(h, 99.0),
    };
    if (h != lat)
        sw_hdr_free(h);
    return SW_OK;
}
