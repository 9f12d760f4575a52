/*
 * The data of a service page for a range of time, read from the store: per-bucket series
 * (error budget left against the ideal line, availability and error rate, P50/P95/P99 from each
 * bucket's merged histogram, request rate), the exact P50/P95/P99 of the whole range (the
 * range's merged histogram, never an average of buckets), deployment marks, gate decisions with
 * their checks, maintenance windows and alert/trigger events. Every environment of the service
 * adds into the same figures. Work and memory are bounded: at most SW_WEB_MAX_BUCKETS buckets,
 * the store read at the coarsest rows that fit a bucket, ranges past what the store keeps
 * refused.
 */
#ifndef SLAWATCH_WEB_SERIES_H
#define SLAWATCH_WEB_SERIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slawatch/err.h"
#include "slawatch/rules.h"
#include "slawatch/store.h"

#define SW_WEB_MAX_BUCKETS 400
#define SW_WEB_MAX_MARKS 200 /* deployments, gate decisions and events each: the latest kept */
#define SW_WEB_NAME_MAX 96
#define SW_WEB_TEXT_MAX 512

/* A range of time and how it is cut into buckets. */
typedef struct sw_web_range {
    int64_t from_ms, to_ms; /* [from, to) */
    int64_t bucket_ms;      /* 1 m, 5 m, 15 m, 1 h, 6 h or 1 d; buckets on multiples of it */
    char name[24]; /* "1h", "6h", "1d", "7d", "30d", "this-month", "last-month", "custom" */
} sw_web_range;

/*
 * The range named by `range` ("1h", "6h", "1d", "7d", "30d": ending at now; "this-month": from
 * the month's start in local time (UTC + offset_s) to now; "last-month": the whole previous
 * month), or, with range NULL or "custom", [from, to) given as RFC 3339 or epoch milliseconds.
 * The bucket is the finest of the list above giving at most SW_WEB_MAX_BUCKETS / 2 buckets.
 * Unknown names, unparsable or reversed instants, and ranges ending after now + 1 h are refused
 * (SW_E_INVAL, saying which). keep_ms: how far back the store keeps data (the longest
 * retention); a range starting before now - keep_ms is SW_E_RANGE, saying how far back is kept.
 */
sw_status sw_web_range_parse(const char *range, const char *from, const char *to, int64_t now_ms,
                             int offset_s, int64_t keep_ms, sw_web_range *out, sw_err *err);

/* One bucket [start_ms, start_ms + bucket_ms), maintenance left out of every figure. */
typedef struct sw_web_bucket {
    int64_t start_ms;
    uint64_t requests, errors;
    bool has_data;
    double availability; /* 1 - errors / requests; NAN without requests */
    double error_rate;   /* errors / requests; NAN without requests */
    double rate_rps;     /* requests per second over the bucket's data; NAN without data */
    double p50_us, p95_us, p99_us; /* of the bucket's merged histogram; NAN without latency */
    double budget_left;            /* at the bucket's end; NAN without an availability objective */
    double budget_ideal;           /* the even spend: 1 at the range's start, 0 at its end */
    bool maint;                    /* overlaps a maintenance window */
} sw_web_bucket;

typedef struct sw_web_deployment {
    int64_t at_ms;
    char env[SW_WEB_NAME_MAX];
    char who[SW_WEB_NAME_MAX];
    char policy_override[SW_WEB_TEXT_MAX]; /* "" when none */
} sw_web_deployment;

typedef struct sw_web_gate {
    int64_t at_ms;
    char env[SW_WEB_NAME_MAX];
    char who[SW_WEB_NAME_MAX];
    char verdict[16];                  /* pass, fail, inconclusive, override */
    char checks_json[SW_WEB_TEXT_MAX]; /* the reasons; cut short (still "...") past the cap */
    int64_t window_ms;
} sw_web_gate;

typedef struct sw_web_event {
    int64_t at_ms;
    char kind[8];  /* alert | trigger */
    char state[9]; /* firing | resolved */
    char name[SW_WEB_NAME_MAX];
    char env[SW_WEB_NAME_MAX];
    double value; /* NAN unknown */
} sw_web_event;

typedef struct sw_web_maint {
    int64_t from_ms, to_ms;
    char reason[SW_WEB_TEXT_MAX];
} sw_web_maint;

typedef struct sw_web_series {
    sw_web_range range;
    char service[SW_WEB_NAME_MAX]; /* the service's name */
    char *key;                  /* the series read: the service, or one value's (sw_rules_by_key) */
    double availability_target; /* the first availability objective's; NAN without one */
    double p95_target_us, p99_target_us; /* the latency objectives' thresholds; NAN without */
    sw_web_bucket *buckets;
    size_t n_buckets;
    uint64_t requests, errors;     /* the whole range, maintenance left out */
    double p50_us, p95_us, p99_us; /* of the whole range's merged histogram; NAN without */
    double budget_left;            /* at the range's end; NAN without an availability objective */
    sw_web_deployment *deployments;
    size_t n_deployments;
    sw_web_gate *gates;
    size_t n_gates;
    sw_web_event *events;
    size_t n_events;
    sw_web_maint *maint;
    size_t n_maint;
    bool truncated; /* more than SW_WEB_MAX_MARKS of a kind: the latest kept */
} sw_web_series;

/*
 * Read service's page data over range from st, under rules (its objectives and maintenance).
 * service may be one label value's series key (sw_rules_by_key) of a service judged per value:
 * that value's rows and events are read (deployments and gate decisions are the service's).
 * SW_E_INVAL when the service is not in the rules. The caller frees *ret with
 * sw_web_series_free.
 */
sw_status sw_web_series_load(sw_store *st, const sw_rules *rules, const char *service,
                             const sw_web_range *range, sw_web_series **ret, sw_err *err);

void sw_web_series_free(sw_web_series *s);

#endif
