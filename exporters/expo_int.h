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

/* Converts HDR units to exposed ones: multiplies by mul, or divides by div when 1/scale is
 * an integer (see expo_hist.c). */
typedef struct expo_scaler {
    double mul, div; /* div is 0 when multiplying */
} expo_scaler;

/* The scaler of scale (> 0); an HDR value in exposed units; the largest HDR value (>= -1)
 * whose exposed value is at or below x (2^61 past every HDR value). */
expo_scaler expo_scaler_of(double scale);
double expo_to_exposed(const expo_scaler *s, double units);
int64_t expo_units_at_or_below(const expo_scaler *s, double x);

/* One histogram series as every format needs it, from one walk over the HDR buckets. */
typedef struct expo_hist {
    const double *bounds;
    const uint64_t *cumulative; /* [i]: values at or below bounds[i] */
    size_t n_bounds;
    uint64_t count; /* all values, the +Inf bucket */
    double sum;
    /* Native buckets (protobuf only): increasing indexes, each with its count (> 0). */
    const int32_t *native_index;
    const uint64_t *native_count;
    size_t n_native;
    uint64_t zero_count;
} expo_hist;

/* Values at or below this go to the zero bucket: only a recorded 0 does, whatever the scale
 * (2^-128 is what Prometheus clients use by default). It is also > 0, which tells a scraper
 * that the histogram is native even while it is empty. */
#define EXPO_ZERO_THRESHOLD 0x1p-128

struct sw_expo {
    sw_expo_format format;
    sw_buf *out;
    const sw_expo_visitor *visitor; /* when set, the text writers hand samples to it instead */
    sw_status failed;               /* first error of the exposition; every later call returns it */
    bool in_family;
    sw_expo_type type;
    char name[SW_EXPO_NAME_MAX + 1];
    size_t name_len;
    size_t family_len; /* OpenMetrics family name: a counter's name without "_total" */

    /* Scratch for expo_hist, grown to the largest histogram seen. */
    uint64_t *cumulative;
    int64_t *bound_units; /* each bound in HDR units: the last value at or below it */
    int32_t *native_index;
    uint64_t *native_count;
    size_t cumulative_cap, bound_units_cap, native_cap;

    /* Upper bounds of native buckets first, first + 1, ... in HDR units for one scale, so
     * placing an HDR bucket is an integer compare; kept while the scale stays the same. */
    expo_scaler table_scale;
    int64_t table_zero_units; /* values at or below it are in the zero bucket */
    int32_t table_first;
    int64_t *table_upper;
    size_t table_len, table_cap;

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

/* SW_E_INVAL unless scale > 0 and bounds[0..n) are finite and increasing. */
sw_status expo_check_bounds(double scale, const double *bounds, size_t n, sw_err *err);

/*
 * Fill *ret for h scaled by scale (> 0) at bounds (finite, increasing), with the native
 * buckets when native. Points into e's scratch: valid until the next call.
 */
sw_status expo_hist_build(sw_expo *e, const sw_hdr *h, double scale, const double *bounds,
                          size_t n_bounds, bool native, expo_hist *ret, sw_err *err);

/* Fill *ret for the totals t (expo_totals.c), with the native buckets when native; as
 * expo_hist_build's, it points into e's scratch. */
sw_status expo_totals_build(sw_expo *e, const sw_expo_totals *t, bool native, expo_hist *ret,
                            sw_err *err);

void expo_text_family(sw_expo *e, const char *help, const char *unit, sw_err *err);
void expo_text_sample(sw_expo *e, const sw_expo_label *labels, size_t n, double value, sw_err *err);
void expo_text_histogram(sw_expo *e, const sw_expo_label *labels, size_t n, const expo_hist *c,
                         sw_err *err);
void expo_text_summary(sw_expo *e, const sw_expo_label *labels, size_t n, const sw_expo_quantile *q,
                       size_t n_q, double sum, uint64_t count, sw_err *err);
void expo_text_finish(sw_expo *e, sw_err *err);

void expo_pb_family(sw_expo *e, const char *help, const char *unit, sw_err *err);
void expo_pb_sample(sw_expo *e, const sw_expo_label *labels, size_t n, double value, sw_err *err);
void expo_pb_histogram(sw_expo *e, const sw_expo_label *labels, size_t n, const expo_hist *c,
                       sw_err *err);
void expo_pb_summary(sw_expo *e, const sw_expo_label *labels, size_t n, const sw_expo_quantile *q,
                     size_t n_q, double sum, uint64_t count, sw_err *err);
void expo_pb_finish(sw_expo *e, sw_err *err);
void expo_pb_fini(sw_expo *e);

#endif
