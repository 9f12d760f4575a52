/*
 * The /metrics families. Labels: service, env (left out for series without an environment),
 * and per family window, objective, alert, trigger or quantile. Values in base units: ratios
 * as fractions, latencies in seconds. Reads the evaluator, on whichever thread may read it
 * (exporters/snapshot: a /metrics body is rendered when first asked for).
 */
#include "slawatch/metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sw_config.h"
#include "slawatch/units.h"

#define MAX_LABELS 7
#define MAX_BOUNDS 32
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* Labels of one series plus up to three more. */
typedef struct labels {
    sw_expo_label l[MAX_LABELS];
    size_t n;
    char window[32];
} labels;

/* A series' labels: its service, its environment and, for one value of a service's by label
 * (rules/README.md, "One SLO per label value"), that label and value. */
static labels
series_labels(const char *service, const char *label, const char *value, const char *env)
{
    labels ls = {.n = 0};
    ls.l[ls.n++] = (sw_expo_label){"service", service};
    if (env != NULL)
        ls.l[ls.n++] = (sw_expo_label){"env", env};
    if (label != NULL)
        ls.l[ls.n++] = (sw_expo_label){label, value};
    return ls;
}

static labels
result_labels(const sw_series_result *sr)
{
    return series_labels(sr->name, sr->label, sr->value, sr->env);
}

/* The labels of a series known by its key (sw_rules_by_key) alone. */
static labels
key_labels(const sw_rules *r, const char *key, const char *env)
{
    const char *value;
    ptrdiff_t i = sw_rules_series_service(r, key, &value);
    if (i < 0 || value == NULL)
        return series_labels(key, NULL, NULL, env);
    return series_labels(r->services[i].name, r->services[i].by, value, env);
}

static labels
with(labels ls, const char *name, const char *value)
{
    SW_REQUIRE(ls.n < MAX_LABELS);
    ls.l[ls.n++] = (sw_expo_label){name, value};
    return ls;
}

static const char *
window_text(const sw_window_spec *w, char *out, size_t cap)
{
    if (w->kind == SW_WINDOW_MONTH)
        return "month";
    sw_units_format_duration(w->length_ms, out, cap);
    return out;
}

/* ------------------------------------------------------------------ per series */

/* The conditions of one rule set, after the nc already in conds (at most 64 in all). */
static size_t
set_conditions(const sw_rules *r, const sw_condition **conds, size_t nc)
{
    for (size_t i = 0; i < r->n_objectives && nc < 64; i++)
        conds[nc++] = &r->objectives[i].objective;
    for (size_t i = 0; i < r->n_alerts && nc < 64; i++)
        conds[nc++] = &r->alerts[i].when;
    for (size_t i = 0; i < r->n_triggers && nc < 64; i++)
        conds[nc++] = &r->triggers[i].when;
    for (size_t i = 0; i < r->gate.n_checks && nc < 64; i++)
        conds[nc++] = &r->gate.checks[i];
    return nc;
}

/* The classic buckets: a standard ladder plus every latency threshold the rules name. */
static size_t
latency_bounds(const sw_rules *r, double *out)
{
    static const double ladder[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
    size_t n = 0;
    for (size_t i = 0; i < sizeof ladder / sizeof ladder[0]; i++)
        out[n++] = ladder[i];
    const sw_condition *conds[64];
    size_t nc = set_conditions(r, conds, 0);
    /* Every service's own thresholds too; services resolved alike share their arrays. */
    for (size_t i = 0; i < r->n_services && nc < 64; i++) {
        const sw_rules *own = sw_rules_of_service(r, i);
        if (i == 0 || own->objectives != sw_rules_of_service(r, i - 1)->objectives ||
            own->alerts != sw_rules_of_service(r, i - 1)->alerts)
            nc = set_conditions(own, conds, nc);
    }
    for (size_t c = 0; c < nc && n < MAX_BOUNDS; c++) {
        if (conds[c]->sli != SW_SLI_LATENCY)
            continue;
        double b = conds[c]->value / 1e6;
        size_t at = 0;
        while (at < n && out[at] < b)
            at++;
        if (at < n && out[at] == b)
            continue;
        memmove(&out[at + 1], &out[at], (n - at) * sizeof out[0]);
        out[at] = b;
        n++;
    }
    return n;
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
    double bounds[MAX_BOUNDS];
    size_t n_bounds = latency_bounds(r, bounds);
    if (st == SW_OK)
        st = sw_expo_family(e, "slawatch_request_duration_seconds", SW_EXPO_HISTOGRAM,
                            "Request durations ingested since slawatch started.", "seconds", err);
    for (size_t i = 0; i < in->n_series && st == SW_OK; i++) {
        if (in->series[i].latency == NULL)
            continue;
        labels ls = key_labels(r, in->series[i].service, in->series[i].env);
        st = sw_expo_histogram(e, ls.l, ls.n, in->series[i].latency, 1e-6, bounds, n_bounds, err);
    }
    return st;
}

/* ------------------------------------------------------------------ windows */

typedef struct window_row {
    const char *service, *env; /* the series' key and environment */
    labels ls;                 /* its labels */
    const char *window;
    sw_window_stats ws;
} window_row;

typedef double (*window_value)(const sw_window_stats *ws, int64_t window_ms);

static double
availability(const sw_window_stats *ws, int64_t window_ms)
{
    (void)window_ms;
    return ws->requests == 0 ? NAN : 1.0 - (double)ws->errors / (double)ws->requests;
}

static double
error_ratio(const sw_window_stats *ws, int64_t window_ms)
{
    (void)window_ms;
    return ws->requests == 0 ? NAN : (double)ws->errors / (double)ws->requests;
}

/* Per second of the window that had data, as the rules define throughput. */
static double
throughput(const sw_window_stats *ws, int64_t window_ms)
{
    double data_s = ws->coverage * (double)window_ms / 1000.0;
    return data_s > 0 ? (double)ws->requests / data_s : NAN;
}

static double
coverage(const sw_window_stats *ws, int64_t window_ms)
{
    (void)window_ms;
    return ws->coverage;
}

typedef struct window_family {
    const char *name, *help, *unit;
    window_value value;
} window_family;

static const window_family window_families[] = {
    {"slawatch_sli_availability_ratio", "Share of requests that succeeded over the window.",
     "ratio", availability},
    {"slawatch_sli_error_ratio", "Share of requests that failed over the window.", "ratio",
     error_ratio},
    {"slawatch_sli_throughput_requests_per_second",
     "Requests per second over the window's intervals with data.", NULL, throughput},
    {"slawatch_sli_coverage_ratio", "Share of the window's base intervals that had data.", "ratio",
     coverage},
};

static sw_status
gather_windows(const sw_eval *ev, window_row *rows, size_t *ret_n, sw_err *err)
{
    static const int64_t windows[] = SW_METRICS_WINDOWS_MS;
    static const char *const names[] = {"5m", "1h"};
    size_t n = 0;
    sw_hdr *scratch;
    sw_status st = sw_hdr_new(&sw_hdr_latency_config, &scratch, err);
    for (size_t i = 0; i < sw_eval_series_count(ev) && st == SW_OK; i++)
        for (size_t w = 0; w < 2 && st == SW_OK; w++) {
            sw_series_result sr;
            sw_eval_series(ev, i, &sr);
            window_row *row = &rows[n++];
            row->service = sr.service;
            row->env = sr.env;
            row->ls = result_labels(&sr);
            row->window = names[w];
            st = sw_eval_window_stats(ev, row->service, row->env, windows[w], scratch, &row->ws,
                                      err);
        }
    sw_hdr_free(scratch);
    *ret_n = n;
    return st;
}

static sw_status
write_window_rows(sw_expo *e, const window_row *rows, size_t n, sw_err *err)
{
    static const int64_t windows[] = SW_METRICS_WINDOWS_MS;
    sw_status st = SW_OK;
    for (size_t f = 0; f < sizeof window_families / sizeof window_families[0] && st == SW_OK; f++) {
        const window_family *wf = &window_families[f];
        st = sw_expo_family(e, wf->name, SW_EXPO_GAUGE, wf->help, wf->unit, err);
        for (size_t i = 0; i < n && st == SW_OK; i++) {
            labels ls = with(rows[i].ls, "window", rows[i].window);
            st = sw_expo_sample(e, ls.l, ls.n, wf->value(&rows[i].ws, windows[i % 2]), err);
        }
    }
    return st;
}

/* The cumulative latency of the totals' series (service, env): what a summary's _sum and
 * _count hold, as slawatch_request_duration_seconds_sum and _count do. */
static void
latency_totals(const sw_metrics_input *in, const char *service, const char *env, double *ret_sum,
               uint64_t *ret_count)
{
    *ret_sum = 0;
    *ret_count = 0;
    for (size_t i = 0; i < in->n_series; i++) {
        const sw_metrics_series *s = &in->series[i];
        bool same_env = env == NULL ? s->env == NULL : s->env != NULL && strcmp(s->env, env) == 0;
        if (strcmp(s->service, service) != 0 || !same_env || s->latency == NULL)
            continue;
        int64_t n = sw_hdr_total_count(s->latency);
        *ret_count = n > 0 ? (uint64_t)n : 0;
        *ret_sum = n > 0 ? sw_hdr_mean(s->latency) * (double)n / 1e6 : 0;
        return;
    }
}

/* Latency percentiles per window as Prometheus summaries are: quantile="0.95" over the window,
 * _sum and _count since start. */
static sw_status
write_latency_summary(sw_expo *e, const sw_metrics_input *in, const window_row *rows, size_t n,
                      sw_err *err)
{
    sw_status st = sw_expo_family(e, "slawatch_sli_latency_seconds", SW_EXPO_SUMMARY,
                                  "Request latency at a quantile over the window; sum and count "
                                  "since slawatch started.",
                                  "seconds", err);
    for (size_t i = 0; i < n && st == SW_OK; i++) {
        const sw_expo_quantile q[] = {{0.5, rows[i].ws.p50_us / 1e6},
                                      {0.95, rows[i].ws.p95_us / 1e6},
                                      {0.99, rows[i].ws.p99_us / 1e6}};
        double sum;
        uint64_t count;
        latency_totals(in, rows[i].service, rows[i].env, &sum, &count);
        labels ls = with(rows[i].ls, "window", rows[i].window);
        st = sw_expo_summary(e, ls.l, ls.n, q, sizeof q / sizeof q[0], sum, count, err);
    }
    return st;
}

/* ------------------------------------------------------------------ objectives */

typedef double (*objective_value)(const sw_objective_result *o);

/* Which family an objective's SLI is reported in: one unit per family. */
typedef enum measured_unit { UNIT_SECONDS, UNIT_RATIO, UNIT_COUNT } measured_unit;

static measured_unit
measured_unit_of(const sw_objective *o)
{
    switch (o->objective.sli) {
    case SW_SLI_LATENCY:
        return UNIT_SECONDS;
    case SW_SLI_AVAILABILITY:
    case SW_SLI_ERROR_RATE:
    case SW_SLI_HEALTH_SUCCESS:
    case SW_SLI_THROUGHPUT: /* the share of slices that reached the rate */
        return UNIT_RATIO;
    default:
        return UNIT_COUNT;
    }
}

static double
obj_measured_as(const sw_objective_result *o, measured_unit unit)
{
    if (measured_unit_of(o->objective) != unit)
        return NAN; /* not written: see write_objectives */
    return unit == UNIT_SECONDS ? o->measured / 1e6 : o->measured;
}

static double
obj_measured_seconds(const sw_objective_result *o)
{
    return obj_measured_as(o, UNIT_SECONDS);
}

static double
obj_measured_ratio(const sw_objective_result *o)
{
    return obj_measured_as(o, UNIT_RATIO);
}

static double
obj_measured_count(const sw_objective_result *o)
{
    return obj_measured_as(o, UNIT_COUNT);
}

static double
obj_met(const sw_objective_result *o)
{
    return o->has_verdict ? (o->met ? 1 : 0) : NAN;
}

static double
obj_so_far(const sw_objective_result *o)
{
    return o->so_far ? 1 : 0;
}

static double
obj_budget(const sw_objective_result *o)
{
    return o->budget_remaining;
}

static double
obj_burn(const sw_objective_result *o)
{
    return o->burn_rate;
}

static double
obj_coverage(const sw_objective_result *o)
{
    return o->coverage;
}

typedef struct objective_family {
    const char *name, *help, *unit;
    objective_value value;
    int only; /* a measured_unit: only the objectives of that unit; -1: all */
} objective_family;

static const objective_family objective_families[] = {
    {"slawatch_objective_measured_seconds", "A latency objective's SLI over its window.", "seconds",
     obj_measured_seconds, UNIT_SECONDS},
    {"slawatch_objective_measured_ratio",
     "A ratio objective's SLI over its window (availability, error rate, health success as "
     "fractions; throughput objectives as the share of slices that reached the rate).",
     "ratio", obj_measured_ratio, UNIT_RATIO},
    {"slawatch_objective_measured",
     "A count objective's SLI over its window (requests, errors, health failures).", NULL,
     obj_measured_count, UNIT_COUNT},
    {"slawatch_objective_met",
     "1 when the objective is met, 0 when missed, NaN without enough "
     "data.",
     NULL, obj_met, -1},
    {"slawatch_objective_met_so_far",
     "1 when slawatch_objective_met judges a window not over yet (a month in progress), 0 when "
     "its verdict is final or there is none.",
     NULL, obj_so_far, -1},
    {"slawatch_error_budget_remaining_ratio",
     "Share of the error budget left (negative when "
     "overspent).",
     "ratio", obj_budget, -1},
    {"slawatch_error_budget_burn_rate",
     "Error-budget burn rate over the last hour (1 spends "
     "exactly the budget over the window).",
     NULL, obj_burn, -1},
    {"slawatch_objective_coverage_ratio",
     "Share of the objective window's base intervals with "
     "data.",
     "ratio", obj_coverage, -1},
};

static sw_status
write_objectives(sw_expo *e, const sw_eval *ev, sw_err *err)
{
    sw_status st = SW_OK;
    char wbuf[32];
    for (size_t f = 0; f < sizeof objective_families / sizeof objective_families[0] && st == SW_OK;
         f++) {
        const objective_family *of = &objective_families[f];
        st = sw_expo_family(e, of->name, SW_EXPO_GAUGE, of->help, of->unit, err);
        for (size_t i = 0; i < sw_eval_series_count(ev) && st == SW_OK; i++) {
            sw_series_result sr;
            sw_eval_series(ev, i, &sr);
            for (size_t o = 0; o < sr.rules->n_objectives && st == SW_OK; o++) {
                const sw_objective_result *res = &sr.objectives[o];
                if (of->only >= 0 && (int)measured_unit_of(res->objective) != of->only)
                    continue;
                labels ls = with(with(result_labels(&sr), "objective", res->objective->name),
                                 "window", window_text(&res->objective->window, wbuf, sizeof wbuf));
                st = sw_expo_sample(e, ls.l, ls.n, of->value(res), err);
            }
        }
    }
    return st;
}

/* ------------------------------------------------------------------ alerts, triggers, gate */

static sw_status
write_alert_family(sw_expo *e, const sw_eval *ev, const char *name, const char *help,
                   sw_alert_state want, sw_err *err)
{
    sw_status st = sw_expo_family(e, name, SW_EXPO_GAUGE, help, NULL, err);
    for (size_t i = 0; i < sw_eval_series_count(ev) && st == SW_OK; i++) {
        sw_series_result sr;
        sw_eval_series(ev, i, &sr);
        const sw_rules *own = sr.rules;
        for (size_t a = 0; a < own->n_alerts && st == SW_OK; a++) {
            labels ls = with(with(result_labels(&sr), "alert", own->alerts[a].name), "severity",
                             sw_rules_severity_str(own->alerts[a].severity));
            st = sw_expo_sample(e, ls.l, ls.n, sr.alerts[a].state == want ? 1 : 0, err);
        }
    }
    return st;
}

static sw_status
write_triggers(sw_expo *e, const sw_eval *ev, sw_err *err)
{
    sw_status st = sw_expo_family(e, "slawatch_rollback_trigger_fired", SW_EXPO_GAUGE,
                                  "1 while the rollback trigger is latched (until the next "
                                  "deployment mark).",
                                  NULL, err);
    for (size_t i = 0; i < sw_eval_series_count(ev) && st == SW_OK; i++) {
        sw_series_result sr;
        sw_eval_series(ev, i, &sr);
        for (size_t t = 0; t < sr.rules->n_triggers && st == SW_OK; t++) {
            labels ls = with(result_labels(&sr), "trigger", sr.rules->triggers[t].name);
            st = sw_expo_sample(e, ls.l, ls.n, sr.triggers[t].fired ? 1 : 0, err);
        }
    }
    return st;
}

static sw_status
write_gate(sw_expo *e, const sw_eval *ev, const sw_verdict *verdict, sw_err *err)
{
    static const sw_verdict verdicts[] = {SW_VERDICT_PASS, SW_VERDICT_FAIL,
                                          SW_VERDICT_INCONCLUSIVE};
    sw_status st = sw_expo_family(e, "slawatch_gate_verdict", SW_EXPO_GAUGE,
                                  "Deploy-gate verdict over the rules' gate window: 1 for the "
                                  "current verdict, 0 for the others.",
                                  NULL, err);
    for (size_t i = 0; i < sw_eval_series_count(ev) && st == SW_OK; i++) {
        sw_series_result sr;
        sw_eval_series(ev, i, &sr);
        for (size_t v = 0; v < 3 && st == SW_OK; v++) {
            labels ls = with(result_labels(&sr), "verdict", sw_eval_verdict_str(verdicts[v]));
            st = sw_expo_sample(e, ls.l, ls.n, verdict[i] == verdicts[v] ? 1 : 0, err);
        }
    }
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
                            "Gate answers computed; each is computed when first asked for in a "
                            "tick and kept for the rest of it.",
                            NULL, err);
    return st == SW_OK ? sw_expo_sample(e, NULL, 0, (double)s->gate_computations, err) : st;
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
    return st == SW_OK && s->n_remotes > 0 ? write_remotes(e, s, err) : st;
}

/* ------------------------------------------------------------------ the view */

struct sw_metrics_view {
    const sw_eval *ev;
    const sw_rules *rules;
    const sw_metrics_input *in;
    window_row *rows; /* two per evaluator series: 5m, 1h */
    size_t n_rows;
    sw_verdict *verdicts; /* per evaluator series */
};

void
sw_metrics_view_free(sw_metrics_view *v)
{
    if (v == NULL)
        return;
    free(v->rows);
    free(v->verdicts);
    free(v);
}

static sw_status
gather_verdicts(sw_metrics_view *v, sw_err *err)
{
    sw_status st = SW_OK;
    for (size_t i = 0; i < sw_eval_series_count(v->ev) && st == SW_OK; i++) {
        sw_series_result sr;
        sw_gate_result g;
        sw_eval_series(v->ev, i, &sr);
        st = sw_eval_gate(v->ev, sr.service, sr.env, 0, &g, err);
        v->verdicts[i] = g.verdict;
    }
    return st;
}

sw_status
sw_metrics_view_new(const sw_eval *ev, const sw_rules *rules, const sw_metrics_input *in,
                    sw_metrics_view **ret, sw_err *err)
{
    size_t n = sw_eval_series_count(ev);
    sw_metrics_view *v = calloc(1, sizeof *v);
    if (v != NULL) {
        *v = (sw_metrics_view){ev, rules,
                               in, calloc(n * 2 + 1, sizeof *v->rows),
                               0,  calloc(n + 1, sizeof *v->verdicts)};
    }
    if (v == NULL || v->rows == NULL || v->verdicts == NULL) {
        sw_metrics_view_free(v);
        return sw_err_set(err, SW_E_NOMEM, "out of memory gathering metrics");
    }
    sw_status st = gather_windows(ev, v->rows, &v->n_rows, err);
    if (st == SW_OK)
        st = gather_verdicts(v, err);
    if (st != SW_OK) {
        sw_metrics_view_free(v);
        return st;
    }
    *ret = v;
    return SW_OK;
}

sw_status
sw_metrics_write(sw_expo *e, const sw_metrics_view *v, sw_err *err)
{
    const sw_eval *ev = v->ev;
    const sw_rules *rules = v->rules;
    sw_status st = write_self(e, v->in->self, err);
    if (st == SW_OK && v->in->n_scrape > 0)
        st = write_scrape(e, v->in, err);
    if (st == SW_OK)
        st = write_label_values(e, v->in, err);
    if (st == SW_OK)
        st = write_totals(e, rules, v->in, err);
    if (st == SW_OK)
        st = write_window_rows(e, v->rows, v->n_rows, err);
    if (st == SW_OK)
        st = write_latency_summary(e, v->in, v->rows, v->n_rows, err);
    if (st == SW_OK)
        st = write_objectives(e, ev, err);
    if (st == SW_OK)
        st = write_alert_family(e, ev, "slawatch_alert_firing", "1 while the alert is firing.",
                                SW_ALERT_FIRING, err);
    if (st == SW_OK)
        st = write_alert_family(e, ev, "slawatch_alert_pending",
                                "1 while the alert's condition holds but its `for` has not "
                                "elapsed.",
                                SW_ALERT_PENDING, err);
    if (st == SW_OK)
        st = write_triggers(e, ev, err);
    if (st == SW_OK)
        st = write_gate(e, ev, v->verdicts, err);
    return st;
}
