/*
 * What slawatch exposes on /metrics (names in docs/metrics.md): per series the cumulative
 * request, error and latency counters; per series and window the SLIs; per objective the
 * measured value, compliance, budget remaining and burn rate; alert, rollback-trigger and gate
 * states; and slawatch's own health. Written through the exposition writer in any format.
 */
#ifndef SLAWATCH_METRICS_H
#define SLAWATCH_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slawatch/eval.h"
#include "slawatch/expo.h"
#include "slawatch/hdr.h"
#include "slawatch/rules.h"

/*
 * A series' totals since the daemon started (counters never go back while it runs). Its latency
 * histogram is latency_totals, kept at the exported resolution and the classic bounds it holds;
 * NULL: no histogram.
 */
typedef struct sw_metrics_series {
    const char *service, *env; /* env NULL when none */
    uint64_t requests, errors, probes, probe_failures;
    const sw_expo_totals *latency_totals;
} sw_metrics_series;

/* One remote-write receiver's delivery counts (rw_send.h says what each means). */
typedef struct sw_metrics_remote {
    const char *name;
    uint64_t sent, failed, dropped, retried, queued;
    int64_t last_send_ms; /* 0: nothing delivered yet */
} sw_metrics_remote;

/*
 * What became of the Prometheus samples received (scrapes, remote write, queries): the sample
 * map's counts (collector/prommap), copied by the daemon.
 */
typedef struct sw_metrics_prom {
    uint64_t samples;      /* every sample and native histogram seen in committed batches */
    uint64_t matched;      /* those a selector took */
    uint64_t out_of_order; /* dropped: not newer than the series' last sample */
    uint64_t invalid;      /* NaN, infinite or negative counters; histograms without `le` */
    uint64_t no_env;       /* matched a service with environments but had no listed `env` */
    uint64_t late;         /* of the matched: health or gauge histograms for taken intervals */
    uint64_t evicted;      /* series forgotten after an hour of silence, or refused at the cap */
    uint64_t started[3];   /* new series counted from zero: created, process_start, absent */
    uint64_t resets[3];    /* counter resets: decrease, created, process_start */
    uint64_t start_ignored[2]; /* start times ignored: future, moved */
} sw_metrics_prom;

/* One scrape target's health, as its last scrape left it (borrowed for the call). */
typedef struct sw_metrics_target {
    const char *job, *instance;
    bool up;
    double duration_seconds;
    uint64_t samples;
    const uint64_t *failures; /* failed scrapes by reason: sw_metrics_input.failure_reasons */
} sw_metrics_target;

/* slawatch's own health. Durations in seconds of the last occurrence. */
/* The sources a daemon has configured: the families of the others are left out. */
enum {
    SW_METRICS_SRC_PROMETHEUS = 1 << 0, /* scrapes, the remote-write receiver or queries */
    SW_METRICS_SRC_RW_RECEIVER = 1 << 1,
    SW_METRICS_SRC_QUERY = 1 << 2,
    SW_METRICS_SRC_CLOUDWATCH = 1 << 3,
};

/* The stages of a tick, in order (the `stage` label of slawatch_tick_stage_duration_seconds). */
enum { SW_METRICS_TICK_STAGES = 5 };
#define SW_METRICS_TICK_STAGE_NAMES                                                                \
    {                                                                                              \
        "ingest", "store", "evaluate", "snapshot", "publish"                                       \
    }

/* What became of a scheduled report delivery (slawatch_report_deliveries_total's result). */
typedef enum sw_report_delivery_result {
    SW_REPORT_DELIVERY_SENT,
    SW_REPORT_DELIVERY_FAILED,  /* retried with backoff */
    SW_REPORT_DELIVERY_SKIPPED, /* nothing to report for the month (no data, no rules) */
    SW_REPORT_DELIVERY_RESULTS
} sw_report_delivery_result;

typedef struct sw_metrics_self {
    int64_t start_ms;
    unsigned sources; /* SW_METRICS_SRC_* of the configured sources */
    uint64_t evaluations;
    double evaluation_seconds;
    double tick_seconds; /* the last whole tick, every stage included */
    double tick_stage_seconds[SW_METRICS_TICK_STAGES];
    uint64_t metrics_renders[3]; /* /metrics bodies rendered: text, OpenMetrics, protobuf */
    uint64_t gate_computations;  /* gate answers computed (each kept for its snapshot) */
    uint64_t gates_prepared;     /* gate answers computed ahead by the tick (snapshot.h) */
    uint64_t store_writes, store_write_errors;
    double store_write_seconds;
    bool store_ok; /* the last write succeeded */
    uint64_t intervals_stored, intervals_pending;
    uint64_t late_values;
    uint64_t carried_increases; /* counter increases counted in a later interval */
    uint64_t probe_errors;
    uint64_t alertmanager_sent, alertmanager_errors;
    uint64_t reloads, reload_errors;
    uint64_t gate_audits_stored, gate_audits_dropped;
    uint64_t gate_audits_skipped; /* repeats not recorded (docs/api.md) */
    uint64_t records_pruned;      /* audit, deployment and event rows past their retention */
    sw_metrics_prom prom;         /* Prometheus samples: scrapes, remote write, queries */
    /* remote-write requests answered, by status code (SW_METRICS_RW_CODES) */
    uint64_t rw_requests[7];
    uint64_t rw_samples, rw_samples_rejected; /* samples + native histograms */
    uint64_t query_pages, query_failures;     /* prometheus_query source */
    int64_t query_last_success_ms;            /* 0: never */
    const sw_metrics_remote *remotes;         /* per remote_write entry */
    size_t n_remotes;
    uint64_t cw_calls, cw_throttled, cw_errors; /* cloudwatch source: GetMetricData requests */
    uint64_t cw_periods;                        /* periods handed on */
    int64_t cw_last_success_ms;                 /* 0: never */
    unsigned report_targets; /* report_schedule's targets: bit 0 email, bit 1 webhook */
    uint64_t report_deliveries[2][SW_REPORT_DELIVERY_RESULTS]; /* per target and result */
} sw_metrics_self;

/* The status codes of sw_metrics_self.rw_requests, in order. */
#define SW_METRICS_RW_CODES                                                                        \
    {                                                                                              \
        204, 400, 413, 415, 429, 500, 503                                                          \
    }

/* A service judged per label value: values tracked now, and samples refused since start (a
 * value beyond by_limit, no label, a value over 1 KiB; one per SLI a sample is for). */
typedef struct sw_metrics_label_values {
    const char *service, *label;
    uint64_t tracked, refused;
} sw_metrics_label_values;

typedef struct sw_metrics_input {
    const sw_metrics_series *series;
    size_t n_series;
    const sw_metrics_label_values *label_values;
    size_t n_label_values;
    const sw_metrics_self *self;
    const sw_metrics_target *scrape; /* per scrape target: slawatch_scrape_* */
    size_t n_scrape;
    const char *const *failure_reasons; /* the `reason` labels of each target's failures */
    size_t n_failure_reasons;
} sw_metrics_input;

/* SLI windows exposed per series: 5m and 1h (exact, from base intervals). */
#define SW_METRICS_WINDOWS_MS                                                                      \
    {                                                                                              \
        300000, 3600000                                                                            \
    }

/*
 * The `le` bounds of slawatch_request_duration_seconds per service: a standard ladder (5 ms to
 * 10 s) plus every latency threshold of that service's resolved set (objectives, alerts,
 * rollback triggers, gate checks), in seconds, ascending, each once. Services resolved alike
 * share one list. No cap: a set holds at most the rules' list limits of conditions.
 */
typedef struct sw_metrics_bounds sw_metrics_bounds;

sw_status sw_metrics_bounds_new(const sw_rules *rules, sw_metrics_bounds **ret, sw_err *err);

/* The bounds of service (those of the rules' top level when the rules do not name it, as a
 * series whose service a reload removed). */
size_t sw_metrics_bounds_of(const sw_metrics_bounds *b, const char *service,
                            const double **ret_bounds);

/* The bounds of the series known by key (sw_rules_by_key: a label value's series has its
 * service's bounds), against the rules b was built from. */
size_t sw_metrics_bounds_of_key(const sw_metrics_bounds *b, const sw_rules *rules, const char *key,
                                const double **ret_bounds);

void sw_metrics_bounds_free(sw_metrics_bounds *b);

/*
 * What /metrics shows per series from the evaluator — window sums and latency merges, objective
 * results, alert and trigger states, gate verdicts over the rules' gate window — gathered once
 * (sw_metrics_view_new, while the evaluator may be read) and copied with the names they are
 * shown under, so sw_metrics_write_gathered reads neither the evaluator nor the rules. rules and
 * in stay borrowed for sw_metrics_write_live.
 */
typedef struct sw_metrics_view sw_metrics_view;

sw_status sw_metrics_view_new(const sw_eval *ev, const sw_rules *rules, const sw_metrics_input *in,
                              sw_metrics_view **ret, sw_err *err);

/* sw_metrics_view_free(NULL) does nothing. */
void sw_metrics_view_free(sw_metrics_view *v);

/* Write the families read live from the view's rules and input (slawatch's own, scrape targets,
 * the totals since start): while they may be read. */
sw_status sw_metrics_write_live(sw_expo *e, const sw_metrics_view *v, sw_err *err);

/* Then the per-series families, from the view's copies alone: any time, on any thread. */
sw_status sw_metrics_write_gathered(sw_expo *e, const sw_metrics_view *v, sw_err *err);

/* Both, in that order (between sw_expo_begin and sw_expo_finish, which the caller calls). */
sw_status sw_metrics_write(sw_expo *e, const sw_metrics_view *v, sw_err *err);

#endif
