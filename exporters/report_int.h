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
    int64_t span_ms;      /* the period's length */
    int64_t data_ms;      /* of it, outside maintenance, with data */
    int64_t maint_ms;     /* of it, under maintenance */
    uint64_t bad_minutes; /* minutes that failed a timeslice condition */
    bool bad_unknown;     /* some of it has counts per hour only: bad_minutes is not known */
} rp_counts;

/* bad_minutes as text ("unknown" when only hourly counts exist), into out[cap]. */
const char *sw_report_bad_text(const rp_counts *c, char *out, size_t cap);

typedef struct rp_day {
    int64_t start_ms, end_ms;
    int mday;
    rp_counts c;
    double p95_us, p99_us; /* NAN without latency data */
    double budget_left;    /* availability budget left at the day's end; NAN without one */
} rp_day;

/* One hour of the month-at-a-glance heatmap and of the worst-hours list. */
typedef struct rp_hour {
    int64_t start_ms;
    rp_counts c;
} rp_hour;

typedef struct rp_event {
    char kind[8]; /* alert | trigger */
    char name[RP_NAME_MAX];
    char env[RP_NAME_MAX]; /* "" when none */
    int64_t fired_ms;
    int64_t resolved_ms; /* -1: still firing at the month's end */
    double value;        /* measured when it fired; NAN unknown */
} rp_event;

/* A deployment marked with a policy_override (the gate's error-budget policy) in the month. */
typedef struct rp_override {
    char env[RP_NAME_MAX]; /* "" when none */
    char who[RP_NAME_MAX];
    char ticket[SW_POLICY_OVERRIDE_MAX + 1];
    int64_t at_ms;
} rp_override;

/* What changed in the month (report_changes.c), in time order. */
typedef enum rp_change_kind {
    RP_CHANGE_DEPLOYMENT,  /* name: who marked it; detail: its policy_override or "" */
    RP_CHANGE_GATE,        /* name: the verdict; detail: the gate's reason */
    RP_CHANGE_TRIGGER,     /* name: the trigger; end: the mark that cleared it, -1 latched */
    RP_CHANGE_ALERT,       /* name: the alert; end: resolved, -1 still firing */
    RP_CHANGE_MAINTENANCE, /* detail: the reason; end: the window's end */
} rp_change_kind;

typedef struct rp_change {
    rp_change_kind kind;
    int64_t at_ms;
    int64_t end_ms;
    char env[RP_NAME_MAX]; /* "" when none */
    char name[RP_NAME_MAX];
    char detail[240];
} rp_change;

#define RP_WHY_PERIODS 5

/* A stretch of the month and its part of an objective's bad events (report_why.c). */
typedef struct rp_period {
    int64_t start_ms, end_ms;
    double bad;   /* in the objective's budget unit (rp_why.unit_text) */
    double share; /* of the month's bad events of that objective */
} rp_period;

/* The why of one objective that was missed or is at risk: its worst periods by contribution. */
typedef struct rp_why {
    size_t objective;      /* index into the service's objectives */
    char unit_text[64];    /* "failed requests", "requests over 1 s", "bad minutes", ... */
    double total_bad;      /* over the month */
    double max_hour_share; /* the largest share one hour (or period) held */
    rp_period periods[RP_WHY_PERIODS];
    size_t n_periods;
} rp_why;

/* One environment of a service (blue/green) beside the service total (report_envs.c). */
typedef struct rp_env {
    char name[RP_NAME_MAX];
    rp_counts minute_sums; /* from minute counts, maintenance minutes left out */
    rp_counts hour_sums;   /* from hour rows, maintenance hours left out */
    rp_counts c;           /* the one of the two the service's counts came from */
    sw_hdr *lat;           /* merged outside maintenance; NULL without latency */
    double p95_us, p99_us;
    sw_objective_result *objectives; /* the events objectives judged on this environment */
} rp_env;

typedef struct rp_service {
    const sw_service *svc;
    /* The series read (svc->name, or one label value's key, sw_rules_by_key) and the name shown
     * (svc->name, or "checkout route=/pay"); owned when they differ from svc->name. */
    const char *key, *title;
    const sw_rules *own; /* the service's resolved set: its objectives */
    bool has_data;
    int64_t first_data_ms, last_data_ms; /* -1 without data */
    bool minute_counts;                  /* counts from 1-minute rows; false: from hourly rows */
    rp_counts month;
    double p50_us, p95_us, p99_us;
    double peak_rps;      /* busiest minute */
    double sustained_rps; /* reached in 99 % of the minutes with data */
    double coverage;      /* share of the judged minutes (outside maintenance) with data */
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
    sw_objective_result *prev; /* the previous month, when has_prev */
    /* Per hour and latency objective: requests over its threshold (n_hours x n_objectives,
     * only latency objectives' columns used), for the why (report_envs.c gathers it). */
    uint64_t *over;
    rp_change *changes; /* in time order */
    size_t n_changes;
    rp_why *why; /* the missed and at-risk objectives' worst periods */
    size_t n_why;
    char **sentences; /* per objective: what the month says of it (report_story.c) */
    rp_env *envs;
    size_t n_envs;
    struct rp_marks *marks; /* what the charts mark (report_marks.h); NULL: none read */
} rp_service;

struct sw_report {
    int year, month;
    sw_report_tz *tz;
    int64_t start_ms, end_ms; /* the month in UTC instants, [start, end) */
    int n_days;
    int64_t generated_ms;
    bool partial;            /* the month is not over: figures so far */
    bool compared_only;      /* the month another report compares with: its verdicts, no why */
    int64_t judged_until_ms; /* verdicts judge [start, this): the month's end or now */
    sw_rules *owned_rules;   /* loaded from the store; NULL when given */
    const sw_rules *rules;
    int64_t rules_since_ms; /* -1 when the rules were given */
    int64_t latency_res_ms; /* rows the histograms were merged from: 1 h, or 1 m when the
                             * zone's days do not start on the hour */
    rp_service *services;
    size_t n_services;
    struct rp_scan_pool *pool; /* while the services are scanned; NULL otherwise */
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

/* What a report's scan reuses from one service to the next (report_pool.c): dense latency
 * accumulators and the minute arrays. */
typedef struct rp_scan_pool {
    sw_hdr **kept;
    size_t n, cap;
    rp_minutes spare; /* n 0: none kept */
} rp_scan_pool;

/* A copy of h to merge into: a kept accumulator when h has the latency layout, else a clone
 * (p NULL: always a clone). NULL when out of memory. */
sw_hdr *sw_report_pool_copy(rp_scan_pool *p, const sw_hdr *h);
/* h cleared and kept for the next copy when it is a kept accumulator, else freed. */
void sw_report_pool_put(rp_scan_pool *p, sw_hdr *h);
void sw_report_pool_fini(rp_scan_pool *p);

/* *m with n minutes, all zero: the kept arrays when they have n, else new ones. */
sw_status sw_report_pool_minutes(rp_scan_pool *p, rp_minutes *m, size_t n, sw_err *err);
/* m's arrays kept for the next service (p NULL, or one kept already: freed); m emptied. */
void sw_report_pool_put_minutes(rp_scan_pool *p, rp_minutes *m);

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
/* The same, an empty *acc starting as sw_report_pool_copy(p, h). */
sw_status sw_report_merge_pooled(rp_scan_pool *p, sw_hdr **acc, const sw_hdr *h, sw_err *err);

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

/* ---- gathered during the scan (report_envs.c): each environment's counts and latency, and
 * the requests over each latency threshold per hour. env NULL: a series without environment. */
void sw_report_env_minute(rp_service *s, const char *env, int64_t start_ms, int64_t length_ms,
                          uint64_t requests, uint64_t errors, bool has_data);
void sw_report_env_hour(rp_service *s, const char *env, const sw_sli_interval *iv);
sw_status sw_report_env_latency(rp_scan_pool *p, rp_service *s, const char *env, const sw_hdr *lat,
                                sw_err *err);
/* The row's requests over each latency objective's threshold, into its hour (s->over). */
void sw_report_count_over(const sw_report *r, rp_service *s, const sw_sli_interval *iv);
/* Fills s->over by a second read of the latency rows the scan merged (report_scan.c); m is the
 * scan's minutes. Called only when sw_report_why_needs_over() says a why will read it. */
sw_status sw_report_scan_over(sw_store *st, const sw_report *r, rp_service *s, rp_minutes *m,
                              sw_err *err);
/* After the scan: each environment's counts, percentiles and events objectives. */
void sw_report_envs_finish(const sw_report *r, rp_service *s);
/* Each environment's latency, read by then, back into the pool for the next service. */
void sw_report_envs_put_latency(rp_scan_pool *p, rp_service *s);
void sw_report_envs_free(rp_service *s);

/* The month's changes of every service (report_changes.c). */
sw_status sw_report_load_changes(sw_store *st, sw_report *r, sw_err *err);

/* The worst periods of each missed or at-risk objective (report_why.c); m: the minute counts. */
sw_status sw_report_find_why(const sw_report *r, rp_service *s, const rp_minutes *m, sw_err *err);
/* Will sw_report_find_why() rank a latency objective's hours by requests over its threshold
 * (one missed or at risk)? Only then are those counts read (sw_report_scan_over). */
bool sw_report_why_needs_over(const rp_service *s);
/* The why of objective k, NULL when it has none. */
const rp_why *sw_report_why_of(const rp_service *s, size_t k);
/* Does any objective of s have a why to print? (A format leaves the section out if not.) */
bool sw_report_has_why(const rp_service *s);
/* A why period in words, as every format prints it. */
typedef struct {
    char span[64], bad[32], share[24];
} rp_period_words;
void sw_report_period_words(const sw_report *r, const rp_period *x, rp_period_words *out);
/* Budget left below this (and met): at risk, so its why is given too. */
#define RP_AT_RISK_BUDGET 0.25

/* Each objective's sentence (report_story.c), once the changes are known. */
sw_status sw_report_tell(const sw_report *r, rp_service *s, sw_err *err);

typedef struct rp_tally {
    size_t met, missed, none, total;
} rp_tally;
/* s NULL: every service. */
rp_tally sw_report_count(const sw_report *r, const rp_service *s);
/* "3 met, 1 missed, 1 without a verdict" (every count named, zeros too). */
void sw_report_tally_text(const rp_tally *t, char *out, size_t cap);

/* Numbers for people (report_words.c): "2.65 G", "43.2 min", "99.94 %", "1.2 s", the margin
 * as "better by 0.04 pp" / "worse by 200 ms" whatever the comparison's direction. */
void sw_report_words_count(double n, char *out, size_t cap);
void sw_report_words_minutes(double seconds, char *out, size_t cap);
void sw_report_words_percent(double ratio, char *out, size_t cap);
/* The same with the decimals it takes to differ from other (NAN: none) when it does. */
void sw_report_words_percent_apart(double ratio, double other, char *out, size_t cap);
void sw_report_words_latency(double us, char *out, size_t cap);
void sw_report_words_rate(double per_s, char *out, size_t cap);
void sw_report_words_value(sw_sli shown, double v, char *out, size_t cap);
/* A service's month figures in words, as every format states them. */
typedef struct {
    char requests[48], failed[48], error_share[24], p95[48], p99[48], sustained[48], peak[48];
} rp_fact_words;
void sw_report_fact_words(const rp_service *s, rp_fact_words *out);
/* "14 Oct 13:00" / "14 Oct 13:00-13:30" / "14 Oct 22:00-15 Oct 01:00" in the report's zone. */
void sw_report_words_time(const sw_report *r, int64_t ms, char *out, size_t cap);
void sw_report_words_span(const sw_report *r, int64_t from_ms, int64_t to_ms, char *out,
                          size_t cap);
/* Throughput and timeslice objectives are judged on the share of slices. */
bool sw_report_by_slices(const sw_objective *o);
/* "≥", "≤", "<", ">": the comparison as people write it. */
const char *sw_report_op_sign(sw_op op);
const char *sw_report_change_kind_name(rp_change_kind k);
/* The change in words: "green deployed by ci (override INC-1)", "gate fail on green: ..." */
void sw_report_change_text(const sw_report *r, const rp_change *c, char *out, size_t cap);
/* What an objective's measured value and target say, in words ("≥ 1000 req/s in 99.2 % of
 * minutes" for throughput). */
void sw_report_measured_words(const sw_objective_result *o, double value, char *out, size_t cap);

/* The HTML report's words (report_html_story.c), called where report_html.c lays them out:
 * the headline with the missed commitments' sentences; a service's tally and sentences; its
 * environments, why and changes. */
void sw_report_html_headline(sw_buf *b, const sw_report *r, sw_err *err);
void sw_report_html_sentences(sw_buf *b, const sw_report *r, const rp_service *s, sw_err *err);
void sw_report_html_details(sw_buf *b, const sw_report *r, const rp_service *s, sw_err *err);

/* Writers: they append, leaving the first buffer failure in err (sw_report_write checks). */
sw_status sw_report_write_html(const sw_report *r, sw_buf *b, sw_err *err);
sw_status sw_report_write_md(const sw_report *r, sw_buf *b, sw_err *err);
sw_status sw_report_write_json(const sw_report *r, sw_buf *b, sw_err *err);
sw_status sw_report_write_csv(const sw_report *r, sw_buf *b, sw_err *err);

/* Shared wording: "2026-10-14 13:00" in the report's zone. */
void sw_report_local_time(const sw_report *r, int64_t utc_ms, char *out, size_t cap);
/* "availability >= 99.9%": the objective as promised. */
void sw_report_objective_text(const sw_objective *o, char *out, size_t cap);
/* The objective's measured value and margin in the unit people read. */
void sw_report_format_measured(const sw_objective_result *o, char *out, size_t cap);
void sw_report_format_target(const sw_objective_result *o, char *out, size_t cap);
void sw_report_format_margin(const sw_objective_result *o, char *out, size_t cap);

#endif
