/*
 * The /metrics exposition writer: families of counters, gauges and latency histograms rendered
 * as Prometheus text 0.0.4, OpenMetrics 1.0 text, or the delimited protobuf format (where a
 * histogram carries both its classic buckets and a native histogram). A writer is one handle,
 * reused from request to request; one thread uses it at a time. It appends to a caller's
 * sw_buf and allocates only when its scratch space has to grow.
 */
#ifndef SLAWATCH_EXPO_H
#define SLAWATCH_EXPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slawatch/buf.h"
#include "slawatch/err.h"
#include "slawatch/hdr.h"

typedef enum sw_expo_format {
    SW_EXPO_TEXT,        /* Prometheus text 0.0.4 */
    SW_EXPO_OPENMETRICS, /* OpenMetrics 1.0 text */
    SW_EXPO_PROTOBUF,    /* io.prometheus.client.MetricFamily, varint-length delimited */
} sw_expo_format;

typedef enum sw_expo_type {
    SW_EXPO_COUNTER,
    SW_EXPO_GAUGE,
    SW_EXPO_HISTOGRAM,
    SW_EXPO_SUMMARY,
} sw_expo_type;

/* One quantile of a summary series: quantile in (0, 1) and the value there. A series has at most
 * SW_EXPO_QUANTILES_MAX. */
#define SW_EXPO_QUANTILES_MAX 16
typedef struct sw_expo_quantile {
    double quantile, value;
} sw_expo_quantile;

typedef struct sw_expo_label {
    const char *name, *value;
} sw_expo_label;

/* Native histograms use schema 8: bucket bounds grow by 2^(2^-8) ~ 1.0027, ~3 digits. */
#define SW_EXPO_SCHEMA 8

/* Longest metric name, and most labels on one series (the histogram's le not counted). */
#define SW_EXPO_NAME_MAX 200
#define SW_EXPO_LABELS_MAX 32

typedef struct sw_expo sw_expo;

/*
 * The format to answer a scrape with, from its Accept header (NULL when absent): the
 * acceptable media range with the highest q wins, the earlier one on a tie; q=0 refuses.
 * Protobuf needs proto=io.prometheus.client.MetricFamily and encoding=delimited (or no
 * encoding); OpenMetrics needs version 1.0.0 or none; text/plain needs version 0.0.4 or
 * none; text/plain, text/ and any wildcard mean text 0.0.4, as does a header nothing fits.
 */
sw_expo_format sw_expo_negotiate(const char *accept);

/* The Content-Type to send with a format, with its version and charset. Never NULL. */
const char *sw_expo_content_type(sw_expo_format format);

/* Allocate a writer. SW_E_NOMEM on failure. */
sw_status sw_expo_new(sw_expo **ret_e, sw_err *err);

/* Release e; sw_expo_free(NULL) does nothing. */
void sw_expo_free(sw_expo *e);

/*
 * Start an exposition in format, appended to out. out is borrowed until sw_expo_finish and
 * must not be touched meanwhile. Forgets any exposition in progress (and its error).
 */
void sw_expo_begin(sw_expo *e, sw_expo_format format, sw_buf *out);

/*
 * Start a family; the previous one ends. name matches [a-zA-Z_:][a-zA-Z0-9_:]*; a counter's
 * name ends in "_total" (OpenMetrics writes the family without it, its samples with it).
 * help may be NULL (no HELP line). unit (e.g. "seconds") or NULL: when given, the name
 * (a counter's without "_total") must end in "_" unit; OpenMetrics writes a UNIT line and
 * protobuf the unit field. A name or unit that breaks these rules is SW_E_INVAL.
 */
sw_status sw_expo_family(sw_expo *e, const char *name, sw_expo_type type, const char *help,
                         const char *unit, sw_err *err);

/*
 * One series of the current counter or gauge family: n labels (names match
 * [a-zA-Z_][a-zA-Z0-9_]*, values are any UTF-8, escaped here) and its value. NaN and
 * infinities are written as NaN, +Inf and -Inf. SW_E_INVAL for a bad label name, more than
 * SW_EXPO_LABELS_MAX labels, or a family that is not a counter or gauge.
 */
sw_status sw_expo_sample(sw_expo *e, const sw_expo_label *labels, size_t n, double value,
                         sw_err *err);

/*
 * One series of the current histogram family from an HDR histogram h whose values are
 * multiplied by scale (> 0; 1e-6 exposes microseconds as seconds). bounds are the classic
 * buckets' upper bounds in exposed units, finite and strictly increasing; +Inf is added.
 *
 * Every HDR bucket is placed at its lowest equivalent value, as sw_hdr_count_at_or_below
 * counts, so le="0.25" agrees with the evaluator's "latency <= 250 ms". The sum is
 * computed from bucket midpoints (as sw_hdr_mean), added exactly and rounded once (sw_hdr_mean's
 * while below 2^53 units). Overflowed values are not exposed.
 * In protobuf the series also carries the native histogram, schema SW_EXPO_SCHEMA, zero
 * bucket for values <= 2^-128. A label named "le" is SW_E_INVAL, as are bad bounds or scale.
 */
sw_status sw_expo_histogram(sw_expo *e, const sw_expo_label *labels, size_t n, const sw_hdr *h,
                            double scale, const double *bounds, size_t n_bounds, sw_err *err);

/*
 * One series of the current summary family, as Prometheus client summaries are: the values at
 * quantiles q[0..n_q) (strictly increasing, within (0, 1)) over a recent window, and the sum
 * and count of everything observed since start (name_sum, name_count). Prometheus reads the
 * quantiles as series labelled quantile="0.95". A label named "quantile" is SW_E_INVAL, as are
 * bad or too many quantiles, a NaN sum, or a family that is not a summary.
 */
sw_status sw_expo_summary(sw_expo *e, const sw_expo_label *labels, size_t n,
                          const sw_expo_quantile *q, size_t n_q, double sum, uint64_t count,
                          sw_err *err);

/* A native histogram (schema SW_EXPO_SCHEMA) as absolute counts, for senders that encode it
 * themselves (remote write). */
typedef struct sw_expo_native {
    uint64_t count;      /* every value, the zero bucket's included */
    uint64_t zero_count; /* values at or below the zero threshold 2^-128 (recorded zeros) */
    double sum;          /* from bucket midpoints, as sw_expo_histogram's */
    const int32_t
        *index; /* n increasing bucket indexes: bucket i holds (2^((i-1)/256), 2^(i/256)] */
    const uint64_t *counts; /* each > 0 */
    size_t n;
} sw_expo_native;

/*
 * The native histogram of h scaled by scale (> 0), with the buckets sw_expo_histogram writes in
 * protobuf. *ret points into e's scratch: valid until e's next call. May be called between
 * expositions, never during one. SW_E_INVAL for a bad scale, SW_E_NOMEM.
 */
sw_status sw_expo_native_of(sw_expo *e, const sw_hdr *h, double scale, sw_expo_native *ret,
                            sw_err *err);

/*
 * A latency histogram's totals kept at the resolution they are exported at: the native buckets
 * (schema SW_EXPO_SCHEMA, the zero bucket), the counts at the classic bounds, the count and the
 * exact sum, for values recorded in microseconds (sw_hdr_latency_config's layout) exposed in
 * seconds. Adding an interval costs its recorded buckets; what it exposes is byte for byte what
 * sw_expo_histogram and sw_expo_native_of expose of one HDR histogram (scale 1e-6) holding every
 * value added since the bounds were set. Memory follows the native buckets used (about a
 * quarter of the HDR buckets a wide latency distribution spans). One thread at a time.
 */
typedef struct sw_expo_totals sw_expo_totals;

/* Empty totals with the classic bounds bounds[0..n) (as sw_expo_histogram's, in seconds,
 * copied). SW_E_INVAL for bounds that are not finite and increasing, SW_E_NOMEM. */
sw_status sw_expo_totals_new(const double *bounds, size_t n, sw_expo_totals **ret, sw_err *err);

/* Release t; sw_expo_totals_free(NULL) does nothing. */
void sw_expo_totals_free(sw_expo_totals *t);

/*
 * Set the classic bounds. The same bounds change nothing; other bounds cannot be placed over
 * the values already counted, so the totals start again from zero, as a restarted process's
 * histogram does (Prometheus sees a counter reset). true when they were reset. SW_E_INVAL, or
 * SW_E_NOMEM leaving t as it was.
 */
sw_status sw_expo_totals_set_bounds(sw_expo_totals *t, const double *bounds, size_t n,
                                    bool *ret_reset, sw_err *err);

/* Add every value of h (any layout: another one is brought to the latency layout first, as
 * sw_hdr_add would). SW_E_NOMEM leaves t as it was. */
sw_status sw_expo_totals_add(sw_expo_totals *t, const sw_hdr *h, sw_err *err);

/* The values counted (overflowed values excluded), and their mean in microseconds from bucket
 * midpoints (0 when none): equal to sw_hdr_total_count and sw_hdr_mean of the histogram of
 * every value while the sum stays below 2^53 us; past it the sum is the exact one rounded once. */
uint64_t sw_expo_totals_count(const sw_expo_totals *t);
double sw_expo_totals_mean(const sw_expo_totals *t);

/* The bytes t holds (its native range, bounds and counts). */
size_t sw_expo_totals_memory_size(const sw_expo_totals *t);

/* One series of the current histogram family from t, as sw_expo_histogram at scale 1e-6 and
 * t's bounds. */
sw_status sw_expo_histogram_totals(sw_expo *e, const sw_expo_label *labels, size_t n,
                                   const sw_expo_totals *t, sw_err *err);

/* The native histogram of t, as sw_expo_native_of at scale 1e-6 (the same lifetime rules). */
sw_status sw_expo_native_of_totals(sw_expo *e, const sw_expo_totals *t, sw_expo_native *ret,
                                   sw_err *err);

/*
 * Receives, instead of text, every sample a Prometheus text 0.0.4 exposition would hold, as a
 * text parser reads it back: the series' name (a histogram's with _bucket, _sum or _count, a
 * summary's with _sum or _count), its labels (le or quantile last, spelled as the text spells
 * them) and its value (NaN as the parser's NaN). family is the type of the family it is in.
 * Everything is lent for the call.
 */
typedef struct sw_expo_visitor {
    void *ctx;
    void (*sample)(void *ctx, sw_expo_type family, const char *name, const sw_expo_label *labels,
                   size_t n, double value);
} sw_expo_visitor;

/* Start an exposition that writes nothing and hands each sample to v (borrowed until
 * sw_expo_finish); otherwise as sw_expo_begin, with its checks. */
void sw_expo_begin_visit(sw_expo *e, const sw_expo_visitor *v);

/*
 * End the exposition: the last protobuf family is written, OpenMetrics gets "# EOF". Returns
 * the first error of the exposition (every call after a failure returns it too, writing
 * nothing); on error out holds a partial exposition that must not be served.
 */
sw_status sw_expo_finish(sw_expo *e, sw_err *err);

#endif
