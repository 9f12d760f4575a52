/*
 * The evaluator: (rules, intervals, now) -> objective compliance, error budgets, burn rates,
 * alert states, latched rollback triggers and deploy-gate verdicts. Intervals are fed per
 * series (service and optional environment) in time order; sw_eval_advance() evaluates alerts
 * and triggers at every base-interval boundary, so `for` timers and latches are exact whether
 * the evaluator runs live or replays history. It performs no I/O and reads no clock: time is
 * passed in. One thread owns an evaluator; the rules it was built with must outlive it.
 */
#ifndef SLAWATCH_EVAL_H
#define SLAWATCH_EVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slawatch/err.h"
#include "slawatch/rules.h"
#include "slawatch/sli.h"

typedef enum sw_verdict { SW_VERDICT_PASS, SW_VERDICT_FAIL, SW_VERDICT_INCONCLUSIVE } sw_verdict;

typedef enum sw_alert_state {
    SW_ALERT_INACTIVE,
    SW_ALERT_PENDING,
    SW_ALERT_FIRING,
} sw_alert_state;

typedef struct sw_objective_result {
    const sw_objective *objective;
    int64_t window_start_ms, window_end_ms;
    double measured;          /* ratio, microseconds or requests/s; NAN without enough data */
    sw_op op;                 /* met = measured op target (throughput: share of slices >= */
    double target;            /* slice_target; otherwise the objective's own op and value) */
    bool has_verdict;         /* false: insufficient data or coverage (judgement.h) */
    bool met;
    bool so_far;              /* a verdict on a window not over yet (a month in progress) */
    uint64_t samples;         /* requests (or slices for timeslices and throughput) */
    double coverage;          /* share of the window's base intervals that had data */
    double budget_remaining;  /* fraction of the error budget left; negative when overspent */
    double burn_rate;         /* over the last hour; NAN without data */
    double time_to_exhaustion_s; /* at that burn rate; INFINITY when not burning */
    double allowed_downtime_s;   /* availability objectives: (1 - target) of the window */
    double downtime_s;           /* availability objectives: bad time at that rate */
} sw_objective_result;

typedef struct sw_alert_result {
    const sw_alert *alert;
    sw_alert_state state;
    int64_t active_since_ms;  /* pending or firing: when the condition started to hold */
    int64_t last_fired_ms;    /* last time it went to firing; -1 never */
    int64_t last_resolved_ms; /* last time it stopped firing; -1 never */
    double measured;          /* the condition's SLI at the last evaluation; NAN without data */
    double measured_short;    /* burn-rate alerts: burn over the short window */
} sw_alert_result;

typedef struct sw_trigger_result {
    const sw_alert *trigger;
    bool fired;               /* latched since the last deployment mark */
    int64_t fired_at_ms;      /* -1 when not fired */
    sw_alert_state state;     /* the underlying condition's state */
} sw_trigger_result;

#define SW_GATE_MAX_CHECKS 32
#define SW_POLICY_OVERRIDE_MAX 32 /* longest deployment policy_override (gate_policy.h) */
#define SW_GATE_REASON_MAX 2048

typedef struct sw_gate_check {
    char name[64];   /* `error_rate`, `p95`, `error_rate_increase`, `p99_increase`,
                        `error_budget:OBJECTIVE` ... */
    double measured; /* NAN when it could not be measured; comparisons: the estimate */
    sw_op op;
    double threshold;   /* comparisons: the tolerance */
    uint64_t samples;   /* the candidate's requests (latency comparisons: latency values) */
    int64_t window_ms;  /* comparisons: the time since the deployment mark they cover */
    bool passed;        /* verdict == SW_VERDICT_PASS */
    sw_verdict verdict; /* inconclusive: not judged (too few requests) or undecided */
    /* Comparisons with the baseline only (NAN / 0 for the others): */
    double lower, upper; /* always-valid confidence bounds of measured (NAN: unbounded) */
    double confidence;   /* of those bounds, over every look of the deployment */
    uint64_t baseline_samples;
    uint64_t more_samples; /* undecided: about this many more per environment would decide;
                               UINT64_MAX: no amount would */
    bool overridden; /* error-budget checks: below the policy, passed by the mark's override */
} sw_gate_check;

/* Why the window judged is shorter than the one asked for. */
typedef enum sw_gate_limit {
    SW_GATE_LIMIT_NONE,
    SW_GATE_LIMIT_DEPLOYMENT, /* the deployment mark is more recent */
    SW_GATE_LIMIT_RETENTION,  /* latency histograms are kept only for the rules' gate window */
} sw_gate_limit;

typedef struct sw_gate_result {
    sw_verdict verdict;
    int64_t window_start_ms, window_end_ms; /* the window the checks were judged over */
    int64_t requested_window_ms;            /* the window asked for (the rules' by default) */
    sw_gate_limit limited_by;
    int64_t compared_from_ms; /* comparisons cover [compared_from, compared_to); equal: none */
    int64_t compared_to_ms;
    int64_t failed_at_ms; /* a fail latched for this deployment: when; -1 when none */
    char policy_override[SW_POLICY_OVERRIDE_MAX + 1]; /* the mark's (gate_policy.h); "" if none */
    sw_gate_check checks[SW_GATE_MAX_CHECKS];
    size_t n_checks;
    char reason[SW_GATE_REASON_MAX]; /* one sentence a release manager understands */
} sw_gate_result;

/* Everything known about one series at the last sw_eval_advance(). */
typedef struct sw_series_result {
    const char *service;      /* the series' key: the service's name or a label value's key */
    const char *name;         /* the service's name */
    const char *label, *value; /* a value of the service's by label (sw_rules_by_key); or NULL */
    const char *env;          /* NULL when the series has no environment */
    double coverage;          /* share of base intervals with data since the first interval */
    int64_t deployed_ms;      /* the last deployment mark; -1 when none */
    const sw_rules *rules;    /* the service's resolved set, which the lists below follow */
    const sw_objective_result *objectives; /* rules->n_objectives entries */
    const sw_alert_result *alerts;         /* rules->n_alerts entries */
    const sw_trigger_result *triggers;     /* rules->n_triggers entries */
} sw_series_result;

typedef struct sw_eval sw_eval;

sw_status sw_eval_new(const sw_rules *rules, sw_eval **ret_ev, sw_err *err);

/* sw_eval_free(NULL) does nothing. */
void sw_eval_free(sw_eval *ev);

/*
 * Feed one interval of a series (env may be NULL). The service must be in the rules
 * (SW_E_INVAL otherwise). Within a series intervals arrive in increasing start order, aligned to
 * the base interval, length a multiple of it; an overlap is SW_E_INVAL. The interval is copied.
 */
sw_status sw_eval_add(sw_eval *ev, const char *service, const char *env,
                      const sw_sli_interval *iv, sw_err *err);

/*
 * sw_eval_add() of an interval whose latency histogram is still in its stored encoding
 * (sw_hdr_encode's, NULL when it has none; iv->latency must be NULL): packed straight from the
 * encoding, as a rebuild from the store feeds, without a histogram decoded per interval. The
 * evaluator ends up as sw_eval_add() of the decoded interval leaves it; a bad encoding is
 * refused as sw_hdr_decode() refuses it, and nothing is fed.
 */
sw_status sw_eval_add_encoded(sw_eval *ev, const char *service, const char *env,
                              const sw_sli_interval *iv, const uint8_t *latency, size_t latency_len,
                              sw_err *err);

/*
 * Pins an hour's latency to what a source answered for the hour as one period (CloudWatch's
 * hour statistics): latency is the sum of the hour's base-interval histograms, reshaped in
 * place without changing its total. The store's pin function (sw_store_pin_fn) has this shape.
 */
typedef sw_status (*sw_eval_pin_fn)(void *ctx, const void *stats, size_t len, sw_hdr *latency,
                                    sw_err *err);

/*
 * Pin hour_ms of a series in its rolling windows beyond 2 days, the windows that pack whole
 * hours: each replaces its packed hour with the pinned one (request and error counts do not
 * change). Windows up to 2 days and the calendar month keep their base intervals. *ret_done is
 * false, and nothing is applied, while a window has not packed the hour yet (an interval of a
 * later hour has not been evaluated): ask again after the next advance. A series the evaluator
 * has no data for is done. Errors are the pin function's; a window is then left as it was.
 * The series' answers change with the next sw_eval_advance(), at the same time too.
 */
sw_status sw_eval_pin_hour(sw_eval *ev, const char *service, const char *env, int64_t hour_ms,
                           sw_eval_pin_fn fn, void *ctx, const void *stats, size_t len,
                           bool *ret_done, sw_err *err);

/*
 * Pin the sliding latency windows of length_ms of a series that end at end_ms to what a source
 * answered for that window as one period (CloudWatch's statistics of [end - length, end)):
 * while such a window ends at end_ms its percentiles and counts over thresholds read its sum
 * pinned by fn (a view; the window's sum, its totals and its request and error counts are not
 * changed); once it moves on it reads its sum again. *ret_done is false, and nothing is applied,
 * while such a window has not reached end_ms yet: ask again after the next advance. A window
 * past end_ms takes nothing (done). Errors are the pin function's; no view is then answered.
 * The series' answers change with the next sw_eval_advance() at the same time.
 */
sw_status sw_eval_pin_window(sw_eval *ev, const char *service, const char *env, int64_t length_ms,
                             int64_t end_ms, sw_eval_pin_fn fn, void *ctx, const void *stats,
                             size_t len, bool *ret_done, sw_err *err);

/*
 * Evaluate alerts and triggers at every base-interval boundary after the previous call, up to
 * and including now_ms (which must not go back), then objectives and budgets at now_ms.
 */
sw_status sw_eval_advance(sw_eval *ev, int64_t now_ms, sw_err *err);

/*
 * sw_eval_advance() one service at a time, so that another thread may judge a service's gate
 * between two steps: every series of a service is then either as the last advance left it or
 * fed and evaluated at the steps' time, never half-fed. The owner:
 *   sw_eval_step_series() for every series it will feed (adds the new ones: the series table
 *     changes only here), then sw_eval_step_begin();
 *   per service k: sw_eval_add() of k's intervals, then sw_eval_step_service(k);
 *   sw_eval_step_end(): any series not stepped yet is evaluated, idle label values are
 *     forgotten, and the evaluator's time is now_ms. Together, what sw_eval_advance() gives.
 * Between sw_eval_step_begin() and _end, only the series of the service being stepped change; a
 * reader kept off that service (the caller's lock) may call sw_eval_gate() and
 * sw_eval_service_time() for the others.
 */
sw_status sw_eval_step_series(sw_eval *ev, const char *service, const char *env,
                              size_t *ret_service, sw_err *err);
/* The service index of a series the evaluator holds, -1 when it holds none: what
 * sw_eval_step_series() finds without adding, so it reads the table only (other readers may). */
ptrdiff_t sw_eval_step_held(const sw_eval *ev, const char *service, const char *env);
sw_status sw_eval_step_begin(sw_eval *ev, int64_t now_ms, sw_err *err);
sw_status sw_eval_step_service(sw_eval *ev, size_t service, sw_err *err);
sw_status sw_eval_step_end(sw_eval *ev, sw_err *err);

/* The time service i's series were evaluated at (sw_eval_gate judges at it): the steps' time for
 * a service stepped, the last advance's otherwise; INT64_MIN before the first. */
int64_t sw_eval_service_time(const sw_eval *ev, size_t service);

/* A new deployment of a series: its latched triggers are cleared and the gate window starts. */
void sw_eval_mark_deployment(sw_eval *ev, const char *service, const char *env, int64_t at_ms);

/* The same for a deployment marked with a policy_override (gate_policy.h; NULL or "": none,
 * longer than SW_POLICY_OVERRIDE_MAX: cut): the gate's error-budget policy passes it. */
void sw_eval_mark_deployment_override(sw_eval *ev, const char *service, const char *env,
                                      int64_t at_ms, const char *policy_override);

/*
 * Rebuilding from a store: alerts and triggers are evaluated only at boundaries from from_ms
 * on; earlier boundaries are passed over (their slices are still judged). Set before the first
 * advance, so feeding months of history costs one evaluation per boundary that matters.
 */
void sw_eval_alerts_from(sw_eval *ev, int64_t from_ms);

/*
 * A rollback trigger that fired at fired_at_ms (recorded in the store) is latched again after
 * a restart. SW_E_INVAL for an unknown series or trigger name.
 */
sw_status sw_eval_restore_trigger(sw_eval *ev, const char *service, const char *env,
                                  const char *trigger, int64_t fired_at_ms, sw_err *err);

/* The SLIs of a series over the trailing window_ms ending at the last advance. */
typedef struct sw_window_stats {
    uint64_t requests, errors;
    uint64_t probes, probe_failures;
    double coverage;      /* share of the window's base intervals with data */
    double p50_us, p95_us, p99_us; /* NAN without latency data */
} sw_window_stats;

/*
 * Sum the trailing window (at most 2 days: exact from base intervals). When lat is not NULL it
 * receives the merged latency histogram (reset first; latency configuration). SW_E_INVAL for
 * an unknown series.
 */
sw_status sw_eval_window_stats(const sw_eval *ev, const char *service, const char *env,
                               int64_t window_ms, sw_hdr *lat, sw_window_stats *ret, sw_err *err);

size_t sw_eval_series_count(const sw_eval *ev);

/* The evaluator's work so far, counted (not timed): what a tick spends follows what arrived. */
typedef struct sw_eval_work_done {
    uint64_t series_evaluated; /* series an advance evaluated (the others stood unchanged) */
    uint64_t window_steps;     /* histograms added to or taken out of latency windows */
} sw_eval_work_done;

void sw_eval_work(const sw_eval *ev, sw_eval_work_done *ret);

/* Label values forgotten so far for having no data for their service's by_idle: each series of
 * a value (sw_rules_by_key) is dropped at the first advance by_idle after its newest data. */
uint64_t sw_eval_values_aged(const sw_eval *ev);

/* Has the evaluator seen data (or a deployment mark) for the series? */
bool sw_eval_has_series(const sw_eval *ev, const char *service, const char *env);

/* Results of series i (0 <= i < count), valid until the next call that changes ev. */
void sw_eval_series(const sw_eval *ev, size_t i, sw_series_result *ret);

/*
 * Burn rate of objective oi of series i (sw_eval_series' order) over the window_ms before the
 * time its results were computed (bad fraction / allowed fraction, as the results' 1 h
 * burn_rate): exact from the intervals the evaluator holds. NAN without data, or when the
 * series no longer holds the window's every base interval (the rules keep them only as long
 * as their longest window up to 2 days needs: 1 d when an alert looks back a day).
 */
double sw_eval_burn_rate(const sw_eval *ev, size_t i, size_t oi, int64_t window_ms);

/*
 * Deploy gate for a series at the last advance. The rules' checks are judged over
 * min(window_ms, time since the last deployment mark, the latency kept) (window_ms 0: the
 * rules' gate window); the comparison with the baseline covers everything since the mark
 * (without a mark: that same window). A fail seen at any base-interval boundary since the mark
 * stays until the next mark. SW_E_INVAL for an unknown series.
 */
sw_status sw_eval_gate(const sw_eval *ev, const char *service, const char *env, int64_t window_ms,
                       sw_gate_result *ret, sw_err *err);

/*
 * What runs of gate answers on one thread reuse (a tick preparing a snapshot's answers, from
 * tick to tick; a render asking every series'): each side's merged latency kept by series and
 * intervals, so a side loaded again (the baseline of each candidate, a series' longer windows,
 * the same question at the next tick) is brought to its window by the intervals that arrived or
 * left since, not merged again; and the latency comparisons' arrays. Series forgotten or
 * replaced since are never matched; use it on one thread at a time, never while the evaluator
 * changes. Eight sides of 188 KB at most.
 */
typedef struct sw_gate_scratch sw_gate_scratch;
sw_status sw_gate_scratch_new(sw_gate_scratch **ret, sw_err *err);
void sw_gate_scratch_free(sw_gate_scratch *x); /* NULL: nothing */

/* Intervals merged into or taken out of x's sides, ever (a run's work, for tests and benches). */
uint64_t sw_gate_scratch_intervals(const sw_gate_scratch *x);

/* sw_eval_gate through x (NULL: as sw_eval_gate): the same answer. */
sw_status sw_eval_gate_with(const sw_eval *ev, const char *service, const char *env,
                            int64_t window_ms, sw_gate_scratch *x, sw_gate_result *ret,
                            sw_err *err);

const char *sw_eval_verdict_str(sw_verdict v);
const char *sw_eval_gate_limit_str(sw_gate_limit l); /* "deployment", "retention" or NULL */
const char *sw_eval_alert_state_str(sw_alert_state s);

#endif
