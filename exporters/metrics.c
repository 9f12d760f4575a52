/*
 * The /metrics families. Labels: service, env (left out for series without an environment),
 * and per family window, objective, alert, trigger or quantile. Values in base units: ratios
 * as fractions, latencies in seconds. This file writes the families read live (slawatch's own,
 * scrape targets, the totals since start); metrics_view.c the per-series answers gathered from
 * the evaluator (exporters/snapshot: a /metrics body is rendered when first asked for).
 */
#include "metrics_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics_int.h"
#include "sw_config.h"
#include "slawatch/units.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------ per series */

/* The labels of a series known by its key (sw_rules_by_key) alone: the service's name first. A
 * plain service's key is its name, so only a label value's key is looked up in the rules (a walk
 * over the services: per plain series it would make a render quadratic in services). */
static labels
key_labels(const sw_rules *r, const char *key, const char *env)
{
    sw_rules_by_parts parts;
    if (!sw_rules_by_split(key, &parts))
        return sw_metrics_series_labels(key, NULL, NULL, env);
    const char *value;
    ptrdiff_t i = sw_rules_series_service(r, key, &value);
    if (i < 0 || value == NULL)
        return sw_metrics_series_labels(key, NULL, NULL, env);
    return sw_metrics_series_labels(r->services[i].name, r->services[i].by, value, env);
}

/* A series' latency histogram, from its totals at the classic bounds they hold. */
static sw_status
write_latency(sw_expo *e, const sw_rules *r, const sw_metrics_series *s, sw_err *err)
{
    if (s->latency_totals == NULL)
        return SW_OK;
    labels ls = key_labels(r, s->service, s->env);
    return sw_expo_histogram_totals(e, ls.l, ls.n, s->latency_totals, err);
}

static sw_status
write_totals(sw_expo *e, const sw_rules *r, const sw_metrics_input *in, sw_err *err)
{
    sw_status st = sw_expo_family(e, "slawatch_requests_total", SW_EXPO_COUNTER,
                                  "Requests ingested since slawatch started.", NULL, err);
    for (size_t i = 0; i < in->n_series && st == SW_OK; i++) {
        labels ls = key_labels(r, in->series[i].service, in->series[i].env);
        st = sw_expo_sample(e, ls.l, ls.n, (double)in->series[i].requests, err);
    }
    if (st == SW_OK)
        st = sw_expo_family(e, "slawatch_request_errors_total", SW_EXPO_COUNTER,
                            "Failed requests ingested since slawatch started.", NULL, err);
    for (size_t i = 0; i < in->n_series && st == SW_OK; i++) {
        labels ls = key_labels(r, in->series[i].service, in->series[i].env);
        st = sw_expo_sample(e, ls.l, ls.n, (double)in->series[i].errors, err);
    }
    if (st == SW_OK)
        st = sw_expo_family(e, "slawatch_health_probes_total", SW_EXPO_COUNTER,
                            "Health probes run.", NULL, err);
    for (size_t i = 0; i < in->n_series && st == SW_OK; i++) {
        labels ls = key_labels(r, in->series[i].service, in->series[i].env);
        st = sw_expo_sample(e, ls.l, ls.n, (double)in->series[i].probes, err);
    }
    if (st == SW_OK)
        st = sw_expo_family(e, "slawatch_health_probe_failures_total", SW_EXPO_COUNTER,
                            "Health probes that failed.", NULL, err);
    for (size_t i = 0; i < in->n_series && st == SW_OK; i++) {
        labels ls = key_labels(r, in->series[i].service, in->series[i].env);
        st = sw_expo_sample(e, ls.l, ls.n, (double)in->series[i].probe_failures, err);
    }
    if (st == SW_OK)
        st = sw_expo_family(e, "slawatch_request_duration_seconds", SW_EXPO_HISTOGRAM,
                            "Request durations ingested since slawatch started.", "seconds", err);
    for (size_t i = 0; i < in->n_series && st == SW_OK; i++)
        st = write_latency(e, r, &in->series[i], err);
    return st;
}

/* ------------------------------------------------------------------ label values */

static sw_status
write_label_values(sw_expo *e, const sw_metrics_input *in, sw_err *err)
{
    sw_status st = SW_OK;
    if (in->n_label_values == 0)
        return SW_OK;
    st = sw_expo_family(e, "slawatch_label_values", SW_EXPO_GAUGE,
                        "Values of a service's by label judged as their own SLO now.", NULL, err);
    for (size_t i = 0; i < in->n_label_values && st == SW_OK; i++) {
        const sw_metrics_label_values *v = &in->label_values[i];
        sw_expo_label l[] = {{"service", v->service}, {"label", v->label}};
        st = sw_expo_sample(e, l, 2, (double)v->tracked, err);
    }
    if (st == SW_OK)
        st = sw_expo_family(e, "slawatch_label_values_refused_total", SW_EXPO_COUNTER,
                            "Samples of a service judged per label value not taken: a new value "
                            "beyond by_limit, no label or a value over 1 KiB (one per SLI the "
                            "sample is for).",
                            NULL, err);
    for (size_t i = 0; i < in->n_label_values && st == SW_OK; i++) {
        const sw_metrics_label_values *v = &in->label_values[i];
        sw_expo_label l[] = {{"service", v->service}, {"label", v->label}};
        st = sw_expo_sample(e, l, 2, (double)v->refused, err);
    }
    return st;
}

/* ------------------------------------------------------------------ scrape targets */

/* One gauge or counter per target, like Prometheus' up and scrape_* series. */
static sw_status
write_scrape_family(sw_expo *e, const sw_metrics_input *in, const char *name, sw_expo_type type,
                    const char *help, const char *unit, int which, sw_err *err)
{
    sw_status st = sw_expo_family(e, name, type, help, unit, err);
    for (size_t i = 0; i < in->n_scrape && st == SW_OK; i++) {
        const sw_metrics_target *t = &in->scrape[i];
        sw_expo_label ls[2] = {{"job", t->job}, {"instance", t->instance}};
        double v = which == 0   ? (t->up ? 1 : 0)
                   : which == 1 ? t->duration_seconds
                                : (double)t->samples;
        st = sw_expo_sample(e, ls, 2, v, err);
    }
    return st;
}

static sw_status
write_scrape(sw_expo *e, const sw_metrics_input *in, sw_err *err)
{
    sw_status st = write_scrape_family(e, in, "slawatch_scrape_up", SW_EXPO_GAUGE,
                                       "1 when the target's last scrape succeeded.", NULL, 0, err);
    if (st == SW_OK)
        st = write_scrape_family(e, in, "slawatch_scrape_duration_seconds", SW_EXPO_GAUGE,
                                 "Duration of the target's last scrape, parsing included.",
                                 "seconds", 1, err);
    if (st == SW_OK)
        st = write_scrape_family(e, in, "slawatch_scrape_samples", SW_EXPO_GAUGE,
                                 "Samples in the target's last successful scrape (0 after a "
                                 "failure).",
                                 NULL, 2, err);
    if (st == SW_OK)
        st =
            sw_expo_family(e, "slawatch_scrape_failures_total", SW_EXPO_COUNTER,
                           "Failed scrapes by reason; a failed scrape changes nothing.", NULL, err);
    for (size_t i = 0; i < in->n_scrape && st == SW_OK; i++)
        for (size_t r = 0; r < in->n_failure_reasons && st == SW_OK; r++) {
            const sw_metrics_target *t = &in->scrape[i];
            sw_expo_label ls[3] = {
                {"job", t->job}, {"instance", t->instance}, {"reason", in->failure_reasons[r]}};
            st = sw_expo_sample(e, ls, 3, (double)t->failures[r], err);
        }
    return st;
}

/* ------------------------------------------------------------------ self */

typedef struct self_metric {
    const char *name, *help, *unit;
    sw_expo_type type;
    double value;
    unsigned source; /* SW_METRICS_SRC_* it belongs to; 0: always */
} self_metric;

/* What became of the Prometheus samples received, one series per outcome. */
static sw_status
write_prom_samples(sw_expo *e, const sw_metrics_prom *p, sw_err *err)
{
    /* no_env counts a sample once per service it concerned, so the rest is at least 0. */
    uint64_t accounted = p->matched + p->out_of_order + p->invalid + p->no_env;
    uint64_t unmatched = p->samples > accounted ? p->samples - accounted : 0;
    uint64_t used = p->matched > p->late ? p->matched - p->late : 0;
    const struct {
        const char *result;
        uint64_t n;
    } rows[] = {
        {"used", used},          {"unmatched", unmatched}, {"out_of_order", p->out_of_order},
        {"invalid", p->invalid}, {"no_env", p->no_env},    {"late", p->late}};
    sw_status st = sw_expo_family(e, "slawatch_prometheus_samples_total", SW_EXPO_COUNTER,
                                  "Prometheus samples received (scrapes, remote write, queries), "
                                  "by what became of them.",
                                  NULL, err);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0] && st == SW_OK; i++)
        st = sw_expo_sample(e, &(sw_expo_label){"result", rows[i].result}, 1, (double)rows[i].n,
                            err);
    if (st == SW_OK)
        st = sw_expo_family(e, "slawatch_prometheus_series_evicted_total", SW_EXPO_COUNTER,
                            "Series whose counter state was forgotten: silent for an hour, or "
                            "refused at the cap of 1,000,000.",
                            NULL, err);
    return st == SW_OK ? sw_expo_sample(e, NULL, 0, (double)p->evicted, err) : st;
}

/* One counter family with a `reason` label: n[i] under reasons[i]. */
static sw_status
write_reasons(sw_expo *e, const char *name, const char *help, const char *const *reasons,
              const uint64_t *n, size_t count, sw_err *err)
{
    sw_status st = sw_expo_family(e, name, SW_EXPO_COUNTER, help, NULL, err);
    for (size_t i = 0; i < count && st == SW_OK; i++)
        st = sw_expo_sample(e, &(sw_expo_label){"reason", reasons[i]}, 1, (double)n[i], err);
    return st;
}

/* How counters of new series, restarts and start times were read (promstart.h). */
static sw_status
write_prom_starts(sw_expo *e, const sw_metrics_prom *p, sw_err *err)
{
    static const char *const started[] = {"created", "process_start", "absent"};
    static const char *const resets[] = {"decrease", "created", "process_start"};
    static const char *const ignored[] = {"future", "moved"};
    sw_status st = write_reasons(e, "slawatch_prometheus_series_started_total",
                                 "Series new on a scrape target counted from zero, by what "
                                 "showed they were new.",
                                 started, p->started, N_OF(p->started), err);
    if (st == SW_OK)
        st = write_reasons(e, "slawatch_prometheus_counter_resets_total",
                           "Counter resets, by what showed them.", resets, p->resets,
                           N_OF(p->resets), err);
    if (st == SW_OK)
        st = write_reasons(e, "slawatch_prometheus_start_times_ignored_total",
                           "_created and process_start_time_seconds values ignored: later than "
                           "the sample, or moved without a restart.",
                           ignored, p->start_ignored, N_OF(p->start_ignored), err);
    return st;
}

/* Scheduled report deliveries per configured target and result (report_schedule). */
static sw_status
write_report_deliveries(sw_expo *e, const sw_metrics_self *s, sw_err *err)
{
    static const char *const targets[] = {"email", "webhook"};
    static const char *const results[SW_REPORT_DELIVERY_RESULTS] = {"sent", "failed", "skipped"};
    sw_status st =
        sw_expo_family(e, "slawatch_report_deliveries_total", SW_EXPO_COUNTER,
                       "Scheduled monthly report deliveries, by target and result.", NULL, err);
    for (size_t t = 0; t < N_OF(targets) && st == SW_OK; t++) {
        if ((s->report_targets & (1u << t)) == 0)
            continue;
        for (size_t r = 0; r < N_OF(results) && st == SW_OK; r++) {
            sw_expo_label l[] = {{"target", targets[t]}, {"result", results[r]}};
            st = sw_expo_sample(e, l, 2, (double)s->report_deliveries[t][r], err);
        }
    }
    return st;
}

static sw_status
write_rw_requests(sw_expo *e, const sw_metrics_self *s, sw_err *err)
{
    static const int codes[] = SW_METRICS_RW_CODES;
    sw_status st =
        sw_expo_family(e, "slawatch_remote_write_requests_total", SW_EXPO_COUNTER,
                       "Remote-write requests answered, by HTTP status code.", NULL, err);
    for (size_t i = 0; i < sizeof codes / sizeof codes[0] && st == SW_OK; i++) {
        char code[8];
        snprintf(code, sizeof code, "%d", codes[i]);
        st = sw_expo_sample(e, &(sw_expo_label){"code", code}, 1, (double)s->rw_requests[i], err);
    }
    return st;
}

/* The remote-write senders' counts, one family each, a series per receiver. */
static sw_status
write_remotes(sw_expo *e, const sw_metrics_self *s, sw_err *err)
{
    static const self_metric families[] = {
        {"slawatch_remote_storage_samples_sent_total",
         "Samples the remote-write receiver accepted.", NULL, SW_EXPO_COUNTER, 0, 0},
        {"slawatch_remote_storage_samples_failed_total",
         "Samples in batches the receiver refused for good (4xx other than 429), dropped.", NULL,
         SW_EXPO_COUNTER, 0, 0},
        {"slawatch_remote_storage_samples_dropped_total",
         "Samples pushed out of the full queue, or unsent when slawatch stopped.", NULL,
         SW_EXPO_COUNTER, 0, 0},
        {"slawatch_remote_storage_samples_retried_total",
         "Samples in batches sent again after a 5xx, a 429 or a failed connection.", NULL,
         SW_EXPO_COUNTER, 0, 0},
        {"slawatch_remote_storage_queue_samples", "Samples waiting to be sent.", NULL,
         SW_EXPO_GAUGE, 0, 0},
        {"slawatch_remote_storage_last_send_timestamp_seconds",
         "When the receiver last accepted a batch, in seconds since the epoch (0: never).",
         "seconds", SW_EXPO_GAUGE, 0, 0},
    };
    sw_status st = SW_OK;
    for (size_t f = 0; f < sizeof families / sizeof families[0] && s->n_remotes > 0; f++) {
        st = sw_expo_family(e, families[f].name, families[f].type, families[f].help,
                            families[f].unit, err);
        for (size_t i = 0; i < s->n_remotes && st == SW_OK; i++) {
            const sw_metrics_remote *r = &s->remotes[i];
            const double values[] = {(double)r->sent,    (double)r->failed,
                                     (double)r->dropped, (double)r->retried,
                                     (double)r->queued,  (double)r->last_send_ms / 1000.0};
            st = sw_expo_sample(e, &(sw_expo_label){"remote", r->name}, 1, values[f], err);
        }
        if (st != SW_OK)
            return st;
    }
    return st;
}

/* What the tick costs, whole and by stage, and the answers computed on request. */
static sw_status
write_tick(sw_expo *e, const sw_metrics_self *s, sw_err *err)
{
    static const char *const stages[] = SW_METRICS_TICK_STAGE_NAMES;
    static const char *const formats[] = {"text", "openmetrics", "protobuf"};
    sw_status st = sw_expo_family(e, "slawatch_tick_duration_seconds", SW_EXPO_GAUGE,
                                  "Duration of the last whole tick: ingest, store, evaluate, "
                                  "snapshot and publish.",
                                  "seconds", err);
    if (st == SW_OK)
        st = sw_expo_sample(e, NULL, 0, s->tick_seconds, err);
    if (st == SW_OK)
        st = sw_expo_family(e, "slawatch_tick_stage_duration_seconds", SW_EXPO_GAUGE,
                            "Duration of each stage of the last whole tick; the stages add up "
                            "to slawatch_tick_duration_seconds.",
                            "seconds", err);
    for (size_t i = 0; i < SW_METRICS_TICK_STAGES && st == SW_OK; i++)
        st = sw_expo_sample(e, &(sw_expo_label){"stage", stages[i]}, 1, s->tick_stage_seconds[i],
                            err);
    if (st == SW_OK)
        st = sw_expo_family(e, "slawatch_metrics_renders_total", SW_EXPO_COUNTER,
                            "/metrics bodies rendered, by format (this one included); a body "
                            "is rendered once per tick and format, when first asked for.",
                            NULL, err);
    for (size_t i = 0; i < N_OF(formats) && st == SW_OK; i++)
        st = sw_expo_sample(e, &(sw_expo_label){"format", formats[i]}, 1,
                            (double)s->metrics_renders[i], err);
    if (st == SW_OK)
        st = sw_expo_family(e, "slawatch_gate_computations_total", SW_EXPO_COUNTER,
                            "Gate answers computed on request; each is computed when first "
                            "asked for in a tick and kept for the rest of it.",
                            NULL, err);
    if (st == SW_OK)
        st = sw_expo_sample(e, NULL, 0, (double)s->gate_computations, err);
    if (st == SW_OK)
        st = sw_expo_family(e, "slawatch_gate_prepared_total", SW_EXPO_COUNTER,
                            "Gate answers the tick computed ahead, as it published its snapshot: "
                            "every window of a series marked in the last hour and each question "
                            "asked in the tick before.",
                            NULL, err);
    return st == SW_OK ? sw_expo_sample(e, NULL, 0, (double)s->gates_prepared, err) : st;
}

static sw_status
write_self(sw_expo *e, const sw_metrics_self *s, sw_err *err)
{
    const self_metric all[] = {
        {"slawatch_start_time_seconds", "When slawatch started, in seconds since the epoch.",
         "seconds", SW_EXPO_GAUGE, (double)s->start_ms / 1000.0, 0},
        {"slawatch_evaluations_total", "Evaluation ticks run.", NULL, SW_EXPO_COUNTER,
         (double)s->evaluations, 0},
        {"slawatch_evaluation_duration_seconds",
         "Duration of the last tick's ingest, store and evaluate stages "
         "(slawatch_tick_duration_seconds: the whole tick).",
         "seconds", SW_EXPO_GAUGE, s->evaluation_seconds, 0},
        {"slawatch_store_writes_total", "Batched interval writes to the store.", NULL,
         SW_EXPO_COUNTER, (double)s->store_writes, 0},
        {"slawatch_store_write_errors_total", "Store writes that failed (disk full, read-only).",
         NULL, SW_EXPO_COUNTER, (double)s->store_write_errors, 0},
        {"slawatch_store_write_duration_seconds", "Duration of the last store write.", "seconds",
         SW_EXPO_GAUGE, s->store_write_seconds, 0},
        {"slawatch_store_up", "1 when the last store write succeeded.", NULL, SW_EXPO_GAUGE,
         s->store_ok ? 1 : 0, 0},
        {"slawatch_store_intervals_written_total", "Intervals written to the store.", NULL,
         SW_EXPO_COUNTER, (double)s->intervals_stored, 0},
        {"slawatch_store_intervals_pending",
         "Intervals waiting to be written (kept in memory "
         "while the store fails).",
         NULL, SW_EXPO_GAUGE, (double)s->intervals_pending, 0},
        {"slawatch_ingest_late_values_total",
         "Values that arrived for intervals already "
         "closed, dropped.",
         NULL, SW_EXPO_COUNTER, (double)s->late_values, 0},
        {"slawatch_ingest_carried_increases_total",
         "Counter increases observed after their interval closed, counted in the oldest open "
         "one.",
         NULL, SW_EXPO_COUNTER, (double)s->carried_increases, 0},
        {"slawatch_source_errors_total", "Errors of sources (probes that could not run).", NULL,
         SW_EXPO_COUNTER, (double)s->probe_errors, 0},
        {"slawatch_alertmanager_notifications_total", "Alert batches delivered to Alertmanager.",
         NULL, SW_EXPO_COUNTER, (double)s->alertmanager_sent, 0},
        {"slawatch_alertmanager_errors_total", "Alert pushes to Alertmanager that failed.", NULL,
         SW_EXPO_COUNTER, (double)s->alertmanager_errors, 0},
        {"slawatch_reloads_total", "Configuration and rules reloads that succeeded.", NULL,
         SW_EXPO_COUNTER, (double)s->reloads, 0},
        {"slawatch_reload_errors_total", "Reloads refused because a file was bad.", NULL,
         SW_EXPO_COUNTER, (double)s->reload_errors, 0},
        {"slawatch_gate_audits_total", "Gate answers recorded in the store's audit table.", NULL,
         SW_EXPO_COUNTER, (double)s->gate_audits_stored, 0},
        {"slawatch_gate_audits_dropped_total",
         "Gate answers not recorded: more than 200,000 "
         "in one evaluation interval.",
         NULL, SW_EXPO_COUNTER, (double)s->gate_audits_dropped, 0},
        {"slawatch_gate_audits_skipped_total",
         "Gate answers not recorded: the same verdict to the same caller within "
         "store.audits.min_interval, or over store.audits.max_per_minute.",
         NULL, SW_EXPO_COUNTER, (double)s->gate_audits_skipped, 0},
        {"slawatch_store_records_pruned_total",
         "Gate audit, deployment mark and event rows deleted past their retention.", NULL,
         SW_EXPO_COUNTER, (double)s->records_pruned, 0},
        {"slawatch_remote_write_samples_total",
         "Samples and native histograms received by remote write and applied.", NULL,
         SW_EXPO_COUNTER, (double)s->rw_samples, SW_METRICS_SRC_RW_RECEIVER},
        {"slawatch_remote_write_samples_rejected_total",
         "Samples and native histograms of decoded remote-write requests that were refused "
         "(over the ingest rate, or not applied).",
         NULL, SW_EXPO_COUNTER, (double)s->rw_samples_rejected, SW_METRICS_SRC_RW_RECEIVER},
        {"slawatch_query_requests_total",
         "Range queries of the prometheus_query source (one per page of every selector).", NULL,
         SW_EXPO_COUNTER, (double)s->query_pages, SW_METRICS_SRC_QUERY},
        {"slawatch_query_failures_total",
         "Range query pages that failed after their retries (retried at the next poll).", NULL,
         SW_EXPO_COUNTER, (double)s->query_failures, SW_METRICS_SRC_QUERY},
        {"slawatch_query_last_success_timestamp_seconds",
         "When a poll of the prometheus_query source last succeeded; 0 before the first.",
         "seconds", SW_EXPO_GAUGE, (double)s->query_last_success_ms / 1000.0, SW_METRICS_SRC_QUERY},
        {"slawatch_cloudwatch_requests_total",
         "GetMetricData requests sent by the cloudwatch source (retries and pages included).", NULL,
         SW_EXPO_COUNTER, (double)s->cw_calls, SW_METRICS_SRC_CLOUDWATCH},
        {"slawatch_cloudwatch_throttled_total",
         "GetMetricData answers that were throttling (retried with backoff).", NULL,
         SW_EXPO_COUNTER, (double)s->cw_throttled, SW_METRICS_SRC_CLOUDWATCH},
        {"slawatch_cloudwatch_errors_total",
         "cloudwatch polls that failed after their retries (the range is read again next poll).",
         NULL, SW_EXPO_COUNTER, (double)s->cw_errors, SW_METRICS_SRC_CLOUDWATCH},
        {"slawatch_cloudwatch_periods_total",
         "Settled CloudWatch periods handed to the accumulators (each once).", NULL,
         SW_EXPO_COUNTER, (double)s->cw_periods, SW_METRICS_SRC_CLOUDWATCH},
        {"slawatch_cloudwatch_last_success_timestamp_seconds",
         "When a poll of the cloudwatch source last succeeded; 0 before the first.", "seconds",
         SW_EXPO_GAUGE, (double)s->cw_last_success_ms / 1000.0, SW_METRICS_SRC_CLOUDWATCH},
    };
    bool prom = (s->sources & SW_METRICS_SRC_PROMETHEUS) != 0;
    sw_status st = prom ? write_prom_samples(e, &s->prom, err) : SW_OK;
    if (st == SW_OK && prom)
        st = write_prom_starts(e, &s->prom, err);
    if (st == SW_OK)
        st = sw_expo_family(e, "slawatch_build_info", SW_EXPO_GAUGE,
                            "slawatch's version, as a label; always 1.", NULL, err);
    if (st == SW_OK)
        st = sw_expo_sample(e, &(sw_expo_label){"version", SW_VERSION}, 1, 1, err);
    for (size_t i = 0; i < sizeof all / sizeof all[0] && st == SW_OK; i++) {
        if (all[i].source != 0 && (s->sources & all[i].source) == 0)
            continue; /* a source not configured: no family of zeros */
        st = sw_expo_family(e, all[i].name, all[i].type, all[i].help, all[i].unit, err);
        if (st == SW_OK)
            st = sw_expo_sample(e, NULL, 0, all[i].value, err);
    }
    if (st == SW_OK)
        st = write_tick(e, s, err);
    if (st == SW_OK && (s->sources & SW_METRICS_SRC_RW_RECEIVER) != 0)
        st = write_rw_requests(e, s, err);
    if (st == SW_OK && s->report_targets != 0)
        st = write_report_deliveries(e, s, err);
    return st == SW_OK && s->n_remotes > 0 ? write_remotes(e, s, err) : st;
}

/* ------------------------------------------------------------------ writing */

sw_status
sw_metrics_write_live(sw_expo *e, const sw_metrics_view *v, sw_err *err)
{
    const sw_metrics_input *in = sw_metrics_view_input(v);
    sw_status st = write_self(e, in->self, err);
    if (st == SW_OK && in->n_scrape > 0)
        st = write_scrape(e, in, err);
    if (st == SW_OK)
        st = write_label_values(e, in, err);
    if (st == SW_OK)
        st = write_totals(e, sw_metrics_view_rules(v), in, err);
    return st;
}

sw_status
sw_metrics_write(sw_expo *e, const sw_metrics_view *v, sw_err *err)
{
    sw_status st = sw_metrics_write_live(e, v, err);
    return st == SW_OK ? sw_metrics_write_gathered(e, v, err) : st;
}
