/*
 * Private to the exposition writer: the handle, shared by the format-neutral part (expo.c),
 * the text writers (expo_text.c) and the protobuf writer (expo_pb.c, the only user of
 * protobuf-c). Not installed, not included outside exporters/expo*.c.
 */
#ifndef SLAWATCH_EXPO_INT_H
#define SLAWATCH_EXPO_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "metrics.pb-c.h"
#include "slawatch/expo.h"

typedef Io__Prometheus__Client__LabelPair expo_pb_label;
typedef Io__Prometheus__Client__Bucket expo_pb_bucket;
typedef Io__Prometheus__Client__BucketSpan expo_pb_span;

/* Converts HDR units to exposed ones; divides when 1/scale is an integer, so that 5000 us
 * becomes exactly the double nearest 0.005 and compares equal to a bound written 0.005. */
typedef struct expo_scaler {
    double mul, div; /* div is 0 when multiplying */
} expo_scaler;

/* The classic view of one histogram series, shared by all formats. */
typedef struct expo_classic {
    const double *bounds;
    const uint64_t *cumulative; /* [i]: values at or below bounds[i] */
    size_t n_bounds;
    uint64_t count; /* all values, the +Inf bucket */
    double sum;
} expo_classic;

struct sw_expo {
    sw_expo_format format;
    sw_buf *out;
    sw_status failed; /* first error of the exposition; every later call returns it */
    bool in_family;
    sw_expo_type type;
    char name[SW_EXPO_NAME_MAX + 1];
    size_t name_len;
    size_t family_len; /* OpenMetrics family name: a counter's name without "_total" */

    uint64_t *cumulative; /* scratch for expo_classic, grown to the most bounds seen */
    size_t cumulative_cap;

    /* protobuf scratch, grown as needed and kept for the next exposition */
    sw_buf pb_family; /* the family being built: its header fields, then one entry per series */
    expo_pb_label pb_labels[SW_EXPO_LABELS_MAX];
    expo_pb_label *pb_label_ptrs[SW_EXPO_LABELS_MAX];
    expo_pb_bucket *pb_buckets;
    expo_pb_bucket **pb_bucket_ptrs;
    expo_pb_span *pb_spans;
    expo_pb_span **pb_span_ptrs;
    int64_t *pb_deltas;
    size_t pb_buckets_cap, pb_bucket_ptrs_cap, pb_spans_cap, pb_span_ptrs_cap, pb_deltas_cap;
};

/* Grow *array (of elem bytes each) to hold at least need elements. */
sw_status expo_grow(void **array, size_t *cap, size_t need, size_t elem, sw_err *err);

double expo_scale(const expo_scaler *s, int64_t units);

void expo_text_family(sw_expo *e, const char *help, const char *unit, sw_err *err);
void expo_text_sample(sw_expo *e, const sw_expo_label *labels, size_t n, double value,
                      sw_err *err);
void expo_text_histogram(sw_expo *e, const sw_expo_label *labels, size_t n,
                         const expo_classic *c, sw_err *err);
void expo_text_finish(sw_expo *e, sw_err *err);

void expo_pb_family(sw_expo *e, const char *help, const char *unit, sw_err *err);
void expo_pb_sample(sw_expo *e, const sw_expo_label *labels, size_t n, double value,
                    sw_err *err);
void expo_pb_histogram(sw_expo *e, const sw_expo_label *labels, size_t n, const expo_classic *c,
                       const sw_hdr *h, const expo_scaler *s, sw_err *err);
void expo_pb_finish(sw_expo *e, sw_err *err);
void expo_pb_fini(sw_expo *e);

#endif
