/*
 * The CloudWatch source's mapping: the rules' `cloudwatch` sources (a preset alb | apigateway |
 * lambda, or namespace/metric/stat) become GetMetricData queries, and the fetched series
 * become SLI intervals handed to a sink, one period at a time. collector/CLOUDWATCH.md has the
 * metrics of each preset, the latency grid, and how a period covers base intervals.
 *
 * A plan owns copies of every string it needs, so it outlives the rules it came from; it is
 * immutable once made and may be shared by threads.
 */
#ifndef SLAWATCH_CLOUDWATCH_H
#define SLAWATCH_CLOUDWATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slawatch/awscreds.h"
#include "slawatch/cwgmd.h"
#include "slawatch/cwpct.h"
#include "slawatch/err.h"
#include "slawatch/rules.h"
#include "slawatch/sli.h"

#define SW_CLOUDWATCH_DEFAULT_PERIOD_S 60
#define SW_CLOUDWATCH_DEFAULT_SETTLE_S 180
#define SW_CLOUDWATCH_MAX_THRESHOLDS 16 /* distinct latency thresholds fetched as PR(:T) */

typedef struct sw_cloudwatch sw_cloudwatch;

/*
 * The source's own options, filled by the daemon's configuration loader (its `cloudwatch`
 * section) and polled by daemon/daemon_cloudwatch.c. A period is handed on once it is
 * settle old; it reaches the accumulators up to settle + every after it ended, and its first
 * base interval ended a period earlier, so ingest_delay must be at least period + settle +
 * every (checked when loading; collector/CLOUDWATCH.md).
 */
typedef struct sw_cloudwatch_options {
    bool enabled;             /* configured: the daemon polls */
    const char *region;       /* NULL: the credential chain's region */
    const char *endpoint_url; /* NULL: AWS_ENDPOINT_URL_CLOUDWATCH, ..., the regional one */
    const char *profile;      /* NULL: AWS_PROFILE, else default */
    int64_t period_ms;        /* whole seconds; default 60 s */
    int64_t settle_ms;        /* default 3 min */
    int64_t every_ms;         /* poll interval; default 60 s */
    int64_t timeout_ms;       /* per request */
    bool rolling_windows;     /* ask rolling latency windows over a minute as one period */
} sw_cloudwatch_options;

/*
 * The plan for every `cloudwatch` source of rules, with period_s per query. period_s * 1000
 * must be a multiple of base_ms (SW_E_INVAL otherwise). A preset without a metric for the SLI
 * (health of apigateway or lambda) is SW_E_INVAL naming the service. A rule set without
 * cloudwatch sources gives an empty plan. Every latency metric is read as the percentile grid
 * plus PR(:T) for each latency threshold the rules' conditions use (at most
 * SW_CLOUDWATCH_MAX_THRESHOLDS distinct ones, SW_E_INVAL beyond).
 */
sw_status sw_cloudwatch_new(const sw_rules *rules, int64_t period_s, int64_t base_ms,
                            sw_cloudwatch **ret, sw_err *err);

/*
 * The plan of the rules' latency metrics only, each asked as one period of window_s (3600: an
 * hour, 86400: a day): the same statistics as a period of sw_cloudwatch_new(), which
 * sw_cloudwatch_windows() hands on as they are, so the hour's or day's rows can be pinned to
 * them (sw_cwpct_conform). Query ids start with "w<window_s>_", apart from the period plan's.
 */
sw_status sw_cloudwatch_new_windows(const sw_rules *rules, int64_t window_s, sw_cloudwatch **ret,
                                    sw_err *err);

/*
 * The lengths, in seconds, of the sliding latency windows of more than a minute (up to 2 days,
 * whole minutes) that the rules' CloudWatch services use (objectives, alerts and triggers),
 * distinct and in increasing order: the first cap found, *ret_n of them.
 */
void sw_cloudwatch_rolling_lengths(const sw_rules *rules, int64_t *ret_s, size_t cap,
                                   size_t *ret_n);

/*
 * The plan of sw_cloudwatch_new_windows() at Period window_s for the services whose rules have a
 * sliding latency window of that length only (query ids "w<window_s>_..."): asked for
 * [end - window_s, end), its one period is the window ending at end.
 */
sw_status sw_cloudwatch_new_rolling(const sw_rules *rules, int64_t window_s, sw_cloudwatch **ret,
                                    sw_err *err);

/* sw_cloudwatch_free(NULL) does nothing. */
void sw_cloudwatch_free(sw_cloudwatch *cw);

/* The queries to fetch (valid while cw lives) and their number. */
const sw_cwgmd_query *sw_cloudwatch_queries(const sw_cloudwatch *cw, size_t *ret_n);

int64_t sw_cloudwatch_period_s(const sw_cloudwatch *cw);

/* Receives one base interval of a service (no environment): borrowed for the call. */
typedef sw_status (*sw_cloudwatch_sink)(void *ctx, const char *service, const sw_sli_interval *iv,
                                        sw_err *err);

/*
 * Hand the periods in [start_s, end_s) (multiples of the period) of series (one per query, as
 * sw_cwgmd_fetch filled them) to sink. Every value is checked first (timestamps on period
 * boundaries, counts and latencies not negative): on SW_E_RANGE / SW_E_PARSE nothing is handed.
 * A period with no datapoint for a service is skipped (its intervals stay unknown). A period
 * of k base intervals gives k intervals: counts split evenly with the remainder going one each
 * to the earliest, the latency histogram and the health result to the first. A sink error
 * stops and is returned.
 */
sw_status sw_cloudwatch_apply(const sw_cloudwatch *cw, const sw_cwgmd_series *series,
                              int64_t start_s, int64_t end_s, sw_cloudwatch_sink sink, void *ctx,
                              sw_err *err);

/* Receives one window's latency statistics of a service: stats is borrowed for the call,
 * service is the plan's own name (valid while the plan lives). */
typedef sw_status (*sw_cloudwatch_window_sink)(void *ctx, const char *service, int64_t start_s,
                                               const sw_cwpct_period *stats, sw_err *err);

/*
 * Hand each window in [start_s, end_s) of a plan from sw_cloudwatch_new_windows() that has
 * latency values to sink, checked as sw_cloudwatch_apply() checks (nothing handed on a bad
 * value).
 */
sw_status sw_cloudwatch_windows(const sw_cloudwatch *cw, const sw_cwgmd_series *series,
                                int64_t start_s, int64_t end_s, sw_cloudwatch_window_sink sink,
                                void *ctx, sw_err *err);

/*
 * The end of the settled range at now_s: the start of the first period that has not been
 * settle_s old for its whole length (so periods ending at or before now_s - settle_s).
 */
int64_t sw_cloudwatch_settled_end(int64_t now_s, int64_t settle_s, int64_t period_s);

/*
 * A GetMetricData client for cfg (serve's poller and backfill share it): region and endpoint
 * from cfg, else found the way the AWS SDKs do (AWS_REGION, AWS_ENDPOINT_URL_CLOUDWATCH, ...),
 * credentials from the chain with cfg's profile. tuning supplies sleep, sleep_ctx and seed (its
 * endpoint, region, creds and timeout are filled in here). The endpoint used is written to
 * endpoint[0..cap) for log lines. The caller frees *ret_client, then *ret_creds.
 */
sw_status sw_cloudwatch_client_new(const sw_cloudwatch_options *cfg, const sw_cwgmd_options *tuning,
                                   sw_awscreds_provider **ret_creds, sw_cwgmd **ret_client,
                                   char *endpoint, size_t cap, sw_err *err);

#endif
