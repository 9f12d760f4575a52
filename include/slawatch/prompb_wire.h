/*
 * Remote write 1.0's prometheus.WriteRequest read straight from its protobuf bytes: no message
 * structs, nothing allocated, strings lent as pointers into the bytes.
 *
 * sw_prompb_check accepts exactly the requests libprotobuf-c's unpack accepts, by the same wire
 * rules: a tag of at most 5 bytes (a one-byte tag of field 0 refused), a varint of at most 10, a
 * length prefix of at most 5 that fits in what is left; a known field only in its wire type
 * (repeated numbers packed or not); unknown fields skipped, groups and wire types 6 and 7 refused;
 * singular fields given twice: the last one counts. The readers below walk only checked bytes: on
 * anything else their results are unspecified, though they never read outside the bytes.
 */
#ifndef SLAWATCH_PROMPB_WIRE_H
#define SLAWATCH_PROMPB_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slawatch/err.h"
#include "slawatch/promsample.h"

/* A cursor over one message's fields. */
typedef struct sw_prompb_iter {
    const uint8_t *p, *end;
} sw_prompb_iter;

/* A Histogram's singular fields, and its bytes for the repeated ones. */
typedef struct sw_prompb_hist {
    bool count_is_float; /* the count oneof's last field was count_float */
    uint64_t count_int;
    double count_float;
    bool zero_count_is_float;
    uint64_t zero_count_int;
    double zero_count_float;
    double sum, zero_threshold;
    int32_t schema;
    int32_t reset_hint; /* 1 YES, 2 NO, 3 GAUGE */
    int64_t timestamp_ms;
    const uint8_t *p;
    size_t len;
} sw_prompb_hist;

typedef enum sw_prompb_kind {
    SW_PROMPB_END,
    SW_PROMPB_LABEL,
    SW_PROMPB_SAMPLE,
    SW_PROMPB_HISTOGRAM,
} sw_prompb_kind;

/* One item of a TimeSeries, in wire order (exemplars and unknown fields are skipped). */
typedef struct sw_prompb_item {
    sw_prom_label label; /* SW_PROMPB_LABEL (a missing name or value is "") */
    double value;        /* SW_PROMPB_SAMPLE */
    int64_t timestamp_ms;
    sw_prompb_hist hist; /* SW_PROMPB_HISTOGRAM */
} sw_prompb_item;

/*
 * Check a whole WriteRequest of len bytes. SW_E_PARSE naming what is wrong and the byte offset
 * where it is.
 */
sw_status sw_prompb_check(const uint8_t *p, size_t len, sw_err *err);

static inline sw_prompb_iter
sw_prompb_iter_of(const uint8_t *p, size_t len)
{
    /* An empty body may come as NULL: an offset from NULL is undefined even when 0. */
    return (sw_prompb_iter){p, p != NULL ? p + len : NULL};
}

/* The next TimeSeries of a checked WriteRequest into *series; false at the end. */
bool sw_prompb_next_series(sw_prompb_iter *request, sw_prompb_iter *series);

/* A mask of the kinds sw_prompb_next_item returns (the others are skipped undecoded). */
#define SW_PROMPB_WANT(kind) (1u << (kind))
#define SW_PROMPB_WANT_ALL                                                                         \
    (SW_PROMPB_WANT(SW_PROMPB_LABEL) | SW_PROMPB_WANT(SW_PROMPB_SAMPLE) |                          \
     SW_PROMPB_WANT(SW_PROMPB_HISTOGRAM))

/* The next item of a wanted kind of a checked TimeSeries. */
sw_prompb_kind sw_prompb_next_item(sw_prompb_iter *series, unsigned want, sw_prompb_item *item);

/*
 * A histogram side's spans in wire order: the count is returned, the first cap are written to
 * out (when not NULL), and the buckets they cover (their lengths' sum, saturating at UINT64_MAX)
 * to *ret_buckets (when not NULL).
 */
size_t sw_prompb_hist_spans(const sw_prompb_hist *h, bool negative, sw_prom_span *out, size_t cap,
                            uint64_t *ret_buckets);

/* How many deltas (ints) and counts (floats) a side holds. */
void sw_prompb_hist_sizes(const sw_prompb_hist *h, bool negative, size_t *ret_deltas,
                          size_t *ret_counts);

/* A cursor over one side's deltas (zigzag-decoded) or counts, packed or not, in wire order. */
typedef struct sw_prompb_values {
    sw_prompb_iter msg;
    const uint8_t *run, *run_end; /* the packed run being read */
    uint32_t field;
} sw_prompb_values;

sw_prompb_values sw_prompb_hist_values(const sw_prompb_hist *h, bool negative, bool floats);
bool sw_prompb_next_delta(sw_prompb_values *v, int64_t *ret);
bool sw_prompb_next_count(sw_prompb_values *v, double *ret);

#endif
