/*
 * A compiled rule set: services and their SLI sources, objectives, alerts, rollback triggers
 * and the deploy gate, as rules/README.md describes them. Loaded from YAML or JSON (or an
 * OpenSLO v1 `kind: SLO` document) and validated whole: a file with any error yields no rule
 * set and every error is reported. A rule set is immutable once loaded; a reload builds a new
 * one and swaps it, so readers may share it across threads.
 */
#ifndef SLAWATCH_RULES_H
#define SLAWATCH_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "slawatch/buf.h"
#include "slawatch/err.h"

/* Where something was written, for messages. */
typedef struct sw_rules_pos {
    const char *file;
    unsigned line, col; /* 1-based */
} sw_rules_pos;

typedef enum sw_sli {
    SW_SLI_REQUESTS,
    SW_SLI_ERRORS,
    SW_SLI_ERROR_RATE,
    SW_SLI_AVAILABILITY,
    SW_SLI_THROUGHPUT,
    SW_SLI_LATENCY,           /* at `percentile` */
    SW_SLI_HEALTH_CONSECUTIVE_FAILURES,
    SW_SLI_HEALTH_FAILURES,
    SW_SLI_HEALTH_SUCCESS,
} sw_sli;

typedef enum sw_op { SW_OP_LT, SW_OP_LE, SW_OP_GT, SW_OP_GE } sw_op;

/* `<sli> <op> <value>`; value in base units: ratio, microseconds, requests/s or a count. */
typedef struct sw_condition {
    sw_sli sli;
    double percentile; /* SW_SLI_LATENCY only: 95.0 for p95 */
    sw_op op;
    double value;
    sw_rules_pos pos;
} sw_condition;

typedef enum sw_window_kind { SW_WINDOW_ROLLING, SW_WINDOW_MONTH } sw_window_kind;

typedef struct sw_window_spec {
    sw_window_kind kind;
    int64_t length_ms; /* SW_WINDOW_ROLLING only */
} sw_window_spec;

typedef enum sw_budgeting { SW_BUDGET_EVENTS, SW_BUDGET_TIMESLICES } sw_budgeting;

/* Distinct latency objective thresholds (`pNN <= T`, `pNN < T`) one service's resolved set may
 * hold: the evaluator keeps a count of the values above each (SW_E_PARSE at check time past
 * it, at the objective bringing one too many). */
#define SW_RULES_MAX_SLOW_THRESHOLDS 16

typedef struct sw_objective {
    const char *name;
    sw_condition objective;
    sw_window_spec window;
    sw_budgeting budgeting;
    int64_t slice_ms;          /* timeslices and throughput: slice length (default 1 min) */
    const sw_condition *bad_when; /* timeslices: a slice is bad when any holds */
    size_t n_bad_when;
    double slice_target;       /* throughput: share of slices that must reach the rate */
    sw_rules_pos pos;
} sw_objective;

typedef enum sw_severity { SW_SEVERITY_CRITICAL, SW_SEVERITY_WARNING, SW_SEVERITY_INFO } sw_severity;

typedef enum sw_alert_kind { SW_ALERT_CONDITION, SW_ALERT_BURN_RATE } sw_alert_kind;

/* An alert or a rollback trigger (triggers have no severity and latch). */
typedef struct sw_alert {
    const char *name;
    sw_alert_kind kind;
    sw_severity severity;
    sw_condition when;       /* SW_ALERT_CONDITION */
    int64_t over_ms;         /* aggregation window, default 1 min */
    int64_t for_ms;          /* default 0 */
    size_t objective;        /* SW_ALERT_BURN_RATE: index into the objectives of the rule set
                                it is in (a service's resolved set: its own list) */
    const char *objective_name; /* SW_ALERT_BURN_RATE: that objective's name */
    double burn_rate;        /* SW_ALERT_BURN_RATE: the factor, e.g. 14.4 */
    int64_t long_ms, short_ms;
    const char *runbook_url; /* NULL when not given; sent to Alertmanager as an annotation */
    const char *description; /* NULL when not given; sent to Alertmanager as an annotation */
    sw_rules_pos pos;
} sw_alert;

typedef enum sw_source_kind {
    SW_SOURCE_NONE,
    SW_SOURCE_PROMETHEUS,
    SW_SOURCE_CLOUDWATCH,
    SW_SOURCE_PROBE,
    SW_SOURCE_PUSH,
} sw_source_kind;

typedef struct sw_label {
    const char *name, *value;
} sw_label;

typedef struct sw_source {
    sw_source_kind kind;
    const char *selector;   /* prometheus: series selector, validated */
    const char *preset;     /* cloudwatch: alb | apigateway | lambda, or NULL */
    const char *cw_namespace, *cw_metric, *cw_stat; /* cloudwatch without a preset */
    const sw_label *dimensions; /* cloudwatch */
    size_t n_dimensions;
    const char *url;        /* probe */
    int64_t every_ms, timeout_ms;
    int expect_status;
    sw_rules_pos pos;
} sw_source;

typedef struct sw_maintenance {
    int64_t start_ms, end_ms; /* epoch milliseconds, [start, end) */
    const char *reason;
} sw_maintenance;

struct sw_rules;

typedef struct sw_service {
    const char *name;
    const char *const *environments;
    size_t n_environments;
    sw_source requests, errors, latency, health;
    const sw_maintenance *maintenance;
    size_t n_maintenance;
    sw_rules_pos pos;
    /* One SLO per value of a label (rules/README.md, "One SLO per label value"): by is that
     * label, NULL when the service is one SLO. At most by_limit values are tracked at once (new
     * ones beyond it are refused); a value silent for by_idle_ms is forgotten. */
    const char *by;
    sw_rules_pos by_pos;
    size_t by_limit;
    int64_t by_idle_ms;
    sw_rules_pos by_idle_pos; /* where by_idle was written; line 0 when it was not */
    /* Its resolved commitments (rules/README.md, "Per-service commitments"): a rule set of its
     * own holding this one service, the objectives, alerts, triggers and gate that apply to it,
     * and where each came from. Set by every load; the evaluator and the exporters use it. */
    const struct sw_rules *rules;
} sw_service;

typedef struct sw_gate_spec {
    int64_t window_ms;        /* default 10 min */
    int64_t min_requests;     /* default: the rule set's min_requests */
    const sw_condition *checks;
    size_t n_checks;
    const char *baseline;     /* NULL: no comparison */
    double max_error_rate_increase; /* absolute ratio points; < 0 when not set */
    double max_latency_increase;    /* relative increase at p50, p95, p99; < 0 when not set */
    double confidence;              /* of the comparisons, over a whole deployment (default 0.99) */
    /* The error-budget policy: fail while a chosen objective has less budget left than this. */
    double require_budget_remaining; /* (0, 1); 0: no policy */
    const size_t *budget_objectives; /* indices into sw_rules.objectives, each with a budget */
    size_t n_budget_objectives;
    /* As written: budget_objectives' names (NULL: every objective with a budget) and where.
     * A gate may come from a profile or the top level and name objectives a service inherits,
     * so the indices above are bound to each service's resolved objectives. */
    const char *const *budget_names;
    const sw_rules_pos *budget_names_pos;
    size_t n_budget_names;
    sw_rules_pos budget_pos; /* of require_budget_remaining */
} sw_gate_spec;

/* Where an entry of a service's resolved set came from. */
typedef enum sw_rules_origin_kind {
    SW_ORIGIN_TOP,     /* the top-level section of the service's file */
    SW_ORIGIN_PROFILE, /* profile `profile` */
    SW_ORIGIN_SERVICE, /* the service's own section */
    SW_ORIGIN_DEFAULT, /* nothing said: the built-in default (the gate only) */
} sw_rules_origin_kind;

typedef struct sw_rules_origin {
    sw_rules_origin_kind kind;
    const char *profile; /* SW_ORIGIN_PROFILE */
    sw_rules_pos pos;    /* where the entry was written */
} sw_rules_origin;

/* How a service's resolved set was formed, for `slawatch check --explain`. */
typedef struct sw_rules_explain {
    const sw_rules_origin *objectives, *alerts, *triggers; /* one per entry */
    sw_rules_origin gate;
    const char *const *profiles; /* the profiles applied, in order (extended ones first) */
    size_t n_profiles;
} sw_rules_explain;

typedef struct sw_rules {
    int64_t base_interval_ms;
    int64_t min_requests;
    const sw_service *services;
    size_t n_services;
    const sw_objective *objectives;
    size_t n_objectives;
    const sw_alert *alerts;
    size_t n_alerts;
    const sw_alert *triggers;
    size_t n_triggers;
    sw_gate_spec gate;
    /* A service's resolved set (sw_service.rules) only, else NULL. */
    const sw_rules_explain *explain;
} sw_rules;

/* What a file holds, recognised from its top-level keys. */
typedef enum sw_rules_file_kind {
    SW_FILE_UNKNOWN,
    SW_FILE_RULES,    /* `services`, `objectives`, ... */
    SW_FILE_CONFIG,   /* daemon configuration: `listen`, `data_dir`, `rules_files`, ... */
    SW_FILE_OPENSLO,  /* `apiVersion: openslo/v1` */
} sw_rules_file_kind;

/*
 * Diagnostics: every problem found while loading, each formatted `FILE:LINE:COL: error: MESSAGE`
 * (1-based). Loading goes on after an error where it can, so one run lists them all.
 */
typedef struct sw_rules_diag sw_rules_diag;

sw_rules_diag *sw_rules_diag_new(void);
void sw_rules_diag_free(sw_rules_diag *d);
size_t sw_rules_diag_count(const sw_rules_diag *d);
const char *sw_rules_diag_line(const sw_rules_diag *d, size_t i);

/*
 * Load the rule set in path (YAML or JSON; an OpenSLO file yields the equivalent rule set).
 * On any error returns SW_E_PARSE with every problem in diag (which may be NULL) and a summary
 * in err; *ret_rules is set only on success. Other statuses: SW_E_IO (unreadable), SW_E_TOOBIG.
 */
sw_status sw_rules_load_file(const char *path, sw_rules **ret_rules, sw_rules_diag *diag,
                             sw_err *err);

/* The same from memory; name is used in messages. A bundle (sw_rules_bundle_files) is loaded
 * as its files, each named in messages by its own name. */
sw_status sw_rules_load_mem(const char *text, size_t len, const char *name, sw_rules **ret_rules,
                            sw_rules_diag *diag, sw_err *err);

/*
 * Load several rules files as one rule set (rules/README.md, "Many files"): each service is
 * defined in exactly one file, profiles may be used from any file, and the settings (version,
 * base_interval, min_requests) agree wherever they are set. Any error in any file: no rule set,
 * every problem in diag, and err names the first (its file included). SW_E_IO names the file
 * that could not be read. n must be at least 1.
 */
sw_status sw_rules_load_files(const char *const *paths, size_t n, sw_rules **ret_rules,
                              sw_rules_diag *diag, sw_err *err);

/*
 * Several rules files as one text (a bundle: each file's name, size and bytes), which
 * sw_rules_load_mem loads as sw_rules_load_files loads the files: the daemon keeps its rules
 * history this way. At most SW_RULES_MAX_BUNDLE bytes (out's cap decides; SW_E_TOOBIG past it).
 */
#define SW_RULES_MAX_BUNDLE ((size_t)256 << 20)
sw_status sw_rules_bundle_files(const char *const *paths, size_t n, sw_buf *out,
                                sw_err *err);

/*
 * Expand rules file patterns: each is a path or a glob pattern (`rules.d/NAME.yaml` with `*` for NAME), whose
 * matches are taken in sorted order; a pattern matching nothing is an error (SW_E_IO naming
 * it), and so is a file named twice. The result is a malloc'd array of malloc'd strings (sw_rules_paths_free).
 */
sw_status sw_rules_expand_paths(const char *const *patterns, size_t n, char ***ret_paths,
                                size_t *ret_n, sw_err *err);
void sw_rules_paths_free(char **paths, size_t n);

/*
 * The text of rules files given as patterns (a configuration's rules_files), as the daemon
 * keeps it in its rules history and loads it with sw_rules_load_mem: one file named as such
 * (no pattern) its own text, anything else the bundle of the expanded files (read now, so
 * files added to a folder are in it). Errors as sw_rules_expand_paths and
 * sw_rules_bundle_files.
 */
sw_status sw_rules_read_patterns(const char *const *patterns, size_t n, sw_buf *text,
                                 sw_err *err);

/* How far back alert and rollback-trigger timers reach (the longest `for` plus its `over`, at
 * least an hour), over rules and every service's resolved set: the recent past a rebuild or a
 * what-if evaluates alerts over. */
int64_t sw_rules_timers_reach_ms(const sw_rules *rules);

/* The resolved rule set of service i of rules (sw_service.rules). */
const sw_rules *sw_rules_of_service(const sw_rules *rules, size_t i);

/* Recognise a file's kind without loading it (SW_FILE_UNKNOWN when unreadable or unclear). */
sw_rules_file_kind sw_rules_file_kind_of(const char *path);

void sw_rules_free(sw_rules *rules);

/* Index of the objective or service called name, or -1. */
ptrdiff_t sw_rules_objective_index(const sw_rules *rules, const char *name);
ptrdiff_t sw_rules_service_index(const sw_rules *rules, const char *name);

/*
 * One SLO per label value (rules/README.md, "One SLO per label value"): the series of value V of
 * a service S with `by: [L]` is keyed, wherever series are keyed by service name (accumulators,
 * journal, store, evaluator), by "S\x1fL=V". Service names hold no control characters and label
 * names no '=', so the key splits back into (S, L, V) and never equals a plain service's name.
 * sw_rules_by_key writes it into out when it fits (the length returned is < cap) and returns its
 * length without the NUL.
 */
size_t sw_rules_by_key(const char *service, const char *label, const char *value,
                       size_t value_len, char *out, size_t cap);

typedef struct sw_rules_by_parts {
    const char *service, *label, *value; /* service and label not NUL-terminated: see lengths */
    size_t service_len, label_len;
} sw_rules_by_parts;

/* Split a label value's key; false for a plain service name. */
bool sw_rules_by_split(const char *key, sw_rules_by_parts *ret);

/* The service a series key belongs to: a plain service's index, or that of the service with
 * `by` whose label the key names (*ret_value, when not NULL: the value in the key, NULL for a
 * plain service); -1 when neither. */
ptrdiff_t sw_rules_series_service(const sw_rules *rules, const char *key, const char **ret_value);

/* Text of an SLI (`error_rate`, `p95`) and of an op (`<=`), for output. */
void sw_rules_sli_name(const sw_condition *c, char *out, size_t cap);
const char *sw_rules_op_str(sw_op op);

/* The reverse of sw_rules_sli_name: `error_rate` -> SW_SLI_ERROR_RATE, `p99` -> SW_SLI_LATENCY
 * with *ret_percentile 99. False for any other name; outputs are written only on success. */
bool sw_rules_sli_parse(const char *name, sw_sli *ret_sli, double *ret_percentile);
const char *sw_rules_severity_str(sw_severity s);

/* A value of sli in the unit people read (`99.95%`, `412ms`, `2.5s`, `1200/s`, `4`; `n/a` for
 * NaN) into out (>= 32 bytes). */
void sw_rules_format_value(sw_sli sli, double v, char *out, size_t cap);

/* The share of bad events (or slices) objective o allows over its window, its error budget as a
 * fraction (1 - 99.9% = 0.001); NAN when it has none (a `>=` latency objective, counts, failure
 * runs). */
double sw_rules_budget_fraction(const sw_objective *o);

/* Does measured satisfy `op value`? */
bool sw_rules_compare(sw_op op, double measured, double value);

#endif
