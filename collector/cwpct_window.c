/*
 * A window's CloudWatch statistics (an hour or a day asked as one period) as the bytes the
 * store keeps beside its rollup row, and the pin the rollup calls with them. The store cannot
 * read them (core does not know CloudWatch); serve and backfill set sw_cwpct_pin_stored as the
 * store's pin, so every rebuild of the row is conformed to them (collector/CLOUDWATCH.md).
 *
 * Layout: "SWW1", the point and rank counts (one byte each), then little-endian IEEE doubles:
 * unit_us, sample_count, min, max, sum, each point's p and value, each rank's threshold and
 * percentage. The length must be exactly what the counts say.
 */
#include "slawatch/cwpct.h"

#include <math.h>
#include <string.h>

#define MAGIC "SWW1"
#define HEAD 6

static void
put_double(uint8_t *out, size_t *at, double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    for (int i = 0; i < 8; i++)
        out[(*at)++] = (uint8_t)(u >> (8 * i));
}

static double
get_double(const uint8_t *in, size_t *at)
{
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
        u |= (uint64_t)in[(*at)++] << (8 * i);
    double v;
    memcpy(&v, &u, sizeof v);
    return v;
}

sw_status
sw_cwpct_window_encode(const sw_cwpct_period *p, uint8_t *out, size_t *ret_len, sw_err *err)
{
    size_t np = 0, nr = 0;
    for (size_t i = 0; i < p->n_points; i++)
        np += isfinite(p->points[i].value);
    for (size_t i = 0; i < p->n_ranks; i++)
        nr += isfinite(p->ranks[i].rank_pct);
    if (np > SW_CWPCT_WINDOW_MAX_POINTS || nr > SW_CWPCT_WINDOW_MAX_RANKS)
        return sw_err_set(err, SW_E_INVAL,
                          "window statistics: %zu points and %zu ranks, over %d "
                          "and %d",
                          np, nr, SW_CWPCT_WINDOW_MAX_POINTS, SW_CWPCT_WINDOW_MAX_RANKS);
    memcpy(out, MAGIC, 4);
    out[4] = (uint8_t)np;
    out[5] = (uint8_t)nr;
    size_t at = HEAD;
    const double head[] = {p->unit_us, p->sample_count, p->min, p->max, p->sum};
    for (size_t i = 0; i < sizeof head / sizeof head[0]; i++)
        put_double(out, &at, head[i]);
    for (size_t i = 0; i < p->n_points; i++)
        if (isfinite(p->points[i].value)) {
            put_double(out, &at, p->points[i].p);
            put_double(out, &at, p->points[i].value);
        }
    for (size_t i = 0; i < p->n_ranks; i++)
        if (isfinite(p->ranks[i].rank_pct)) {
            put_double(out, &at, p->ranks[i].threshold);
            put_double(out, &at, p->ranks[i].rank_pct);
        }
    *ret_len = at;
    return SW_OK;
}

static bool
unknown_or_value(double v)
{
    return isnan(v) || (isfinite(v) && v >= 0);
}

/* What CloudWatch can have said (the poller checked it before encoding): anything else in the
 * store is damage, refused rather than handed to the conform. */
static sw_status
check_window(const sw_cwpct_period *p, sw_err *err)
{
    bool ok = isfinite(p->unit_us) && p->unit_us > 0 && isfinite(p->sample_count) &&
              p->sample_count >= 0 && p->sample_count <= 9007199254740992.0 &&
              unknown_or_value(p->min) && unknown_or_value(p->max) && unknown_or_value(p->sum);
    for (size_t i = 0; ok && i < p->n_points; i++)
        ok = p->points[i].p > 0 && p->points[i].p < 100 && unknown_or_value(p->points[i].value);
    for (size_t i = 0; ok && i < p->n_ranks; i++)
        ok = isfinite(p->ranks[i].threshold) && p->ranks[i].threshold >= 0 &&
             (isnan(p->ranks[i].rank_pct) ||
              (p->ranks[i].rank_pct >= 0 && p->ranks[i].rank_pct <= 100));
    return ok ? SW_OK
              : sw_err_set(err, SW_E_PARSE,
                           "window statistics: a count, unit, percentile, rank or value out of "
                           "range");
}

sw_status
sw_cwpct_window_decode(const void *data, size_t len, sw_cwpct_window *ret, sw_err *err)
{
    const uint8_t *in = data;
    if (len < HEAD || memcmp(in, MAGIC, 4) != 0)
        return sw_err_set(err, SW_E_PARSE, "window statistics: not SWW1 (%zu bytes)", len);
    size_t np = in[4], nr = in[5];
    if (np > SW_CWPCT_WINDOW_MAX_POINTS || nr > SW_CWPCT_WINDOW_MAX_RANKS ||
        len != HEAD + 8 * (5 + 2 * np + 2 * nr))
        return sw_err_set(err, SW_E_PARSE,
                          "window statistics: %zu points and %zu ranks in %zu bytes", np, nr, len);
    size_t at = HEAD;
    memset(ret, 0, sizeof *ret);
    sw_cwpct_period *p = &ret->period;
    p->unit_us = get_double(in, &at);
    p->sample_count = get_double(in, &at);
    p->min = get_double(in, &at);
    p->max = get_double(in, &at);
    p->sum = get_double(in, &at);
    for (size_t i = 0; i < np; i++) {
        ret->points[i].p = get_double(in, &at);
        ret->points[i].value = get_double(in, &at);
    }
    for (size_t i = 0; i < nr; i++) {
        ret->ranks[i].threshold = get_double(in, &at);
        ret->ranks[i].rank_pct = get_double(in, &at);
    }
    p->points = ret->points;
    p->n_points = np;
    p->ranks = ret->ranks;
    p->n_ranks = nr;
    return check_window(p, err);
}

sw_status
sw_cwpct_pin_stored(void *ctx, const void *stats, size_t len, sw_hdr *latency, sw_err *err)
{
    (void)ctx;
    sw_cwpct_window w;
    sw_status st = sw_cwpct_window_decode(stats, len, &w, err);
    return st == SW_OK ? sw_cwpct_conform(latency, &w.period, err) : st;
}
