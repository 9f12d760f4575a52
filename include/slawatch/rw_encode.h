/*
 * Remote-write 1.0 request bodies: samples of float series (counters) and native histograms
 * (schema SW_EXPO_SCHEMA, integer counts) encoded as a prometheus.WriteRequest, then snappy
 * block compressed, ready to POST. The sender (rw_send) queues sw_rw_sample values and hands
 * batches here; nothing here keeps state or touches the network.
 */
#ifndef SLAWATCH_RW_ENCODE_H
#define SLAWATCH_RW_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "slawatch/buf.h"
#include "slawatch/err.h"
#include "slawatch/expo.h"

typedef struct sw_rw_label {
    const char *name, *value;
} sw_rw_label;

/* A series: its labels sorted by name, `__name__` among them, as the protocol requires. */
typedef struct sw_rw_series {
    const sw_rw_label *labels;
    size_t n_labels;
} sw_rw_series;

/* A native histogram's absolute counts (the encoder turns them into spans and deltas). */
typedef struct sw_rw_hist {
    uint64_t count, zero_count;
    double sum;
    int32_t *index; /* n increasing bucket indexes */
    uint64_t *counts;
    size_t n;
} sw_rw_hist;

/* One sample: a float value, or a histogram when hist is not NULL. */
typedef struct sw_rw_sample {
    const sw_rw_series *series; /* borrowed; samples of one series share the pointer */
    int64_t ts_ms;              /* milliseconds since the epoch */
    double value;
    sw_rw_hist *hist; /* owned by whoever holds the sample */
} sw_rw_sample;

/* A copy of nat (one allocation) into *ret. SW_E_NOMEM. */
sw_status sw_rw_hist_new(const sw_expo_native *nat, sw_rw_hist **ret, sw_err *err);

/* sw_rw_hist_free(NULL) does nothing. */
void sw_rw_hist_free(sw_rw_hist *h);

/*
 * Append the snappy-compressed WriteRequest of samples[0..n) to out. Samples of one series (the
 * same series pointer) become one TimeSeries, in the order given, which must be increasing in
 * time. Histograms carry schema SW_EXPO_SCHEMA and zero threshold 2^-128. SW_E_TOOBIG past
 * out's cap, SW_E_NOMEM; out is unchanged on error.
 */
sw_status sw_rw_encode(const sw_rw_sample *samples, size_t n, sw_buf *out, sw_err *err);

#endif
