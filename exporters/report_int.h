/*
 * The report's model, shared by the builder (report.c, report_scan.c) and the writers
 * (report_html.c, report_md.c, report_json.c, report_csv.c). Built once, then only read.
 */
#ifndef SLAWATCH_REPORT_INT_H
#define SLAWATCH_REPORT_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "slawatch/eval.h"
#include "slawatch/report.h"
#include "slawatch/report_tz.h"

#define RP_MINUTE_MS INT64_C(60000)
#define RP_HOUR_MS INT64_C(3600000)
#define RP_MAX_DAYS 31
#define RP_WORST_HOURS 5
#define RP_WORST_DAYS 3
#define RP_NAME_MAX 96

/* Counts of a period, maintenance left out (maint_ms says how much of it was maintenance). */
typedef struct rp_counts {
    uint64_t requests, errors, probes, failures;
    int64_t span_ms;  /* the period's length */
    int64_t data_ms;  /* of it, outside maintenance, with data */
    int64_t maint_ms; /* of it, under maintenance */
    uint64_t bad_minutes; /* minutes that failed a timeslice condition */
    bool bad_unknown;     /* some of it has counts per hour only: bad_minutes is not known */
} rp_counts;

/* bad_minutes as text ("unknown" when only hourly counts exist), into out[cap]. */
const char *sw_report_bad_text(const rp_counts *c, char *out, size_t cap);

typedef struct rp_day {
    int64_t start_ms, end_ms;
    int mday;
    rp_counts c;
    double p95_us, p99_us;  /* NAN without latency data */
    double budget_left;     /* availability budget left at the day's end; NAN without one */
} rp_day;

/* One hour of the month-at-a-glance heatmap and of the worst-hours list. */
typedef struct rp_hour {
    int64_t start_ms;
    rp_counts c;
} rp_hour;

typedef struct rp_event {
    char kind[8]; /* alert | trigger */
    char name[RP_NAME_MAX];
    char env[RP_NAME_MAX];  /* "" when none */
    int64_t fired_ms;
    int64_t resolved_ms;    /* -1: still firing at the month's end */
    double value;           /* measured when it fired; NAN unknown */
} rp_event;

/* A deployment marked with a policy_override (the gate's error-budget policy) in the month. */
typedef struct rp_override {
    char env[RP_NAME_MAX]; /* "" when none */
    char who[RP_NAME_MAX];
    char ticket[SW_POLICY_OVERRIDE_MAX + 1];
    int64_t at_ms;
} rp_override;

typedef struct rp_service {
    const sw_service *svc;
    /* The series read (svc->name, or one label value's key, sw_rules_by_key) and the name shown
     * (svc->name, or "checkout route=/pay"); owned when they differ from svc->name. */
    const char *key, *title;
    const sw_rules *own;             /* the service's resolved set: its objectives */
    bool has_data;
    int64_t first_data_ms, last_data_ms; /* -1 without data */
    bool minute_counts;     /* counts from 1-minute rows; false: from hourly rows */
    rp_counts month;
    double p50_us, p95_us, p99_us;
    double peak_rps;        /* busiest minute */
    double sustained_rps;   /* reached in 99 % of the minutes with data */
    double coverage;        /* share of the judged minutes (outside maintenance) with data */
    bool enough_coverage;
    sw_objective_result *objectives; /* rules->n_objectives */
    rp_day days[RP_MAX_DAYS];
    rp_hour *hours;
    size_t n_hours;
    size_t worst_hours[RP_WORST_HOURS], n_worst_hours; /* indices into hours */
    size_t worst_days[RP_WORST_DAYS], n_worst_days;
    rp_event *events;
    size_t n_events;
    rp_override *overrides; /* in time order */
    size_t n_overrides;
    bool has_prev;
    sw_objective_result *prev;  /* the previous month, when has_prev */
    struct rp_marks *marks;     /* what the charts mark (report_marks.h); NULL: none read */
} rp_service;

struct sw_report {
    int year, month;
    sw_report_tz *tz;
    int64_t start_ms, end_ms;   /* the month in UTC instants, [start, end) */
    int n_days;
    int64_t generated_ms;
    bool partial;               /* the month is not over: figures so far */
    int64_t judged_until_ms;    /* verdicts judge [start, this): the month's end or now */
    sw_rules *owned_rules;      /* loaded from the store; NULL when given */
    const sw_rules *rules;
    int64_t rules_since_ms;     /* -1 when the rules were given */
    int64_t latency_res_ms;     /* rows the histograms were merged from: 1 h, or 1 m when the
                                 * zone's days do not start on the hour */
    rp_service *services;
    size_t n_services;
};

/* Per-minute counts of the month (all environments of a service added), for slices. */
typedef struct rp_minutes {
    size_t n;
    uint64_t *requests, *errors, *probes, *failures;
    uint8_t *flags; /* RP_MIN_DATA, RP_MIN_MAINT */
} rp_minutes;

#define RP_MIN_DATA 1u
#define RP_MIN_MAINT 2u
#define RP_MIN_ROW 4u /* from a 1 m row (else from base rows not rolled up yet) */

void sw_report_minutes_fini(rp_minutes *m);

/*
 * Scan the store for one service's month into s, *m (minute counts; empty when the store no
 * longer holds 1-minute rows) and *ret_lat (the month's merged latency outside maintenance,
 * NULL without any). The caller frees both (report_scan.c).
 */
sw_status sw_report_scan_service(sw_store *st, const sw_report *r, rp_service *s, rp_minutes *m,
                                 sw_hdr **ret_lat, sw_err *err);

/* The month's policy overrides from the store into each service (report_overrides.c). */
sw_status sw_report_load_overrides(sw_store *st, sw_report *r, sw_err *err);

/* *acc += h, cloning h into an empty *acc (report_scan.c; web_series.c merges alike). */
sw_status sw_report_merge_into(sw_hdr **acc, const sw_hdr *h, sw_err *err);

/* Is [from, to) overlapping one of the service's maintenance windows? */
bool sw_report_in_maint(const sw_service *svc, int64_t from_ms, int64_t to_ms);

/* Judge objective o of a scanned service (report_judge.c) into *out. */
void sw_report_judge(const sw_report *r, const rp_service *s, const rp_minutes *m,
                     const sw_hdr *lat, const sw_objective *o, sw_objective_result *out);

/* The conditions that make a minute bad: the first timeslice objective's, else the defaults. */
void sw_report_bad_when(const sw_rules *rules, const sw_condition **ret, size_t *ret_n);

/* Does any of conds hold on these counts (conditions on latency are not judged per minute)? */
bool sw_report_counts_bad(const sw_condition *conds, size_t n, int64_t min_requests,
                          uint64_t requests, uint64_t errors, uint64_t probes, uint64_t failures);

/* Writers: they append, leaving the first buffer failure in err (sw_report_write checks). */
sw_status sw_report_write_html(const sw_report *r, sw_buf *b, sw_err *err);
sw_status sw_report_write_md(const sw_report *r, sw_buf *b, sw_err *err);
sw_status sw_report_write_json(const sw_report *r, sw_buf *b, sw_err *err);
sw_status sw_report_write_csv(const sw_report *r, sw_buf *b, sw_err *err);

/* Shared wording: "2026-10-14 13:00" in the report's zone. */
void sw_report_local_time(const sw_report *r, int64_t utc_ms, char *out, size_t cap);
/* Commitments met / with a verdict, over every service. */
void sw_report_tally(const sw_report *r, size_t *ret_met, size_t *ret_judged, size_t *ret_total);
/* "availability >= 99.9%": the objective as promised. */
void sw_report_objective_text(const sw_objective *o, char *out, size_t cap);
/* The objective's measured value and margin in the unit people read. */
void sw_report_format_measured(const sw_objective_result *o, char *out, size_t cap);
void sw_report_format_target(const sw_objective_result *o, char *out, size_t cap);
void sw_report_format_margin(const sw_objective_result *o, char *out, size_t cap);

#endif
