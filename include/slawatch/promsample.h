/*
 * A Prometheus sample as every Prometheus-format reader hands it on: the exposition text and
 * OpenMetrics parsers, the protobuf exposition decoder, the remote-write decoder and the
 * query_range client. Readers call a sink once per sample (or native histogram); what the sink
 * is given lives only for that call, so a reader reuses its buffers and allocates nothing per
 * sample. A sink that returns an error stops the reader, which returns that error.
 */
#ifndef SLAWATCH_PROMSAMPLE_H
#define SLAWATCH_PROMSAMPLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slawatch/err.h"

/* The family's declared type; UNKNOWN for untyped samples and sources without types. */
typedef enum sw_prom_type {
    SW_PROM_UNKNOWN,
    SW_PROM_COUNTER,
    SW_PROM_GAUGE,
    SW_PROM_HISTOGRAM,
    SW_PROM_GAUGEHISTOGRAM,
    SW_PROM_SUMMARY,
    SW_PROM_INFO,
    SW_PROM_STATESET,
} sw_prom_type;

/* Unescaped bytes, not NUL-terminated. */
typedef struct sw_prom_label {
    const char *name, *value;
    size_t name_len, value_len;
} sw_prom_label;

typedef struct sw_prom_sample {
    const char *name; /* the series' metric name as exposed: `http_requests_total`, `x_bucket` */
    size_t name_len;
    sw_prom_type type;
    const sw_prom_label *labels; /* without __name__, in the order the source gave them */
    size_t n_labels;
    double value;                /* unused for native histograms */
    int64_t timestamp_ms;        /* meaningful only when has_timestamp */
    bool has_timestamp;
} sw_prom_sample;

typedef struct sw_prom_span {
    int32_t offset; /* gap to the previous span (the first: the index of its first bucket) */
    uint32_t length;
} sw_prom_span;

/*
 * A native (exponential) histogram with absolute bucket counts; readers turn the wire's deltas
 * into counts. Bucket i of schema s covers (b^(i-1), b^i] with
 * b = 2^(2^-s); negative buckets mirror that below zero.
 */
typedef struct sw_prom_native {
    int32_t schema; /* -4 .. 8 */
    double zero_threshold;
    double zero_count, count, sum;
    const sw_prom_span *pos_spans;
    size_t n_pos_spans;
    const double *pos_counts; /* as many as the spans' lengths add up to */
    size_t n_pos_counts;
    const sw_prom_span *neg_spans;
    size_t n_neg_spans;
    const double *neg_counts;
    size_t n_neg_counts;
    bool counter_reset; /* the source marked this histogram as following a reset */
    bool gauge;         /* a gauge histogram: counts are not cumulative over time */
} sw_prom_native;

typedef struct sw_prom_sink {
    void *ctx;
    sw_status (*sample)(void *ctx, const sw_prom_sample *s, sw_err *err);
    /* s->value is unused; NULL when the consumer ignores native histograms */
    sw_status (*native)(void *ctx, const sw_prom_sample *s, const sw_prom_native *h, sw_err *err);
} sw_prom_sink;

#endif
