/*
 * The remote-write 1.0 receiver's decoder: a request body (a snappy block holding a
 * prometheus.WriteRequest) checked against caps, uncompressed into the calling thread's buffer,
 * read in place (prompb_wire.h) and validated whole, and only then handed to a sink: each
 * series' samples and native histograms in the order given. A body that fails anywhere before
 * the sink is called leaves the sink untouched, so a request is applied whole or not at all.
 * Thread-safe: each thread keeps its own buffers between calls (a decoded body up to 1 MiB, the
 * label scratch), freed when the thread exits; nothing is allocated per sample.
 */
#ifndef SLAWATCH_RW_RECV_H
#define SLAWATCH_RW_RECV_H

#include <stddef.h>
#include <stdint.h>

#include "slawatch/err.h"
#include "slawatch/promsample.h"

/* Defaults of sw_rw_limits (a zero field takes its default). */
#define SW_RW_DEFAULT_MAX_BODY ((size_t)16 << 20)
#define SW_RW_DEFAULT_MAX_DECODED ((size_t)32 << 20)
#define SW_RW_DEFAULT_MAX_SERIES ((size_t)1000000)
#define SW_RW_DEFAULT_MAX_SAMPLES ((size_t)5000000)

typedef struct sw_rw_limits {
    size_t max_body;          /* compressed bytes */
    size_t max_decoded;       /* bytes after snappy */
    size_t max_series;        /* TimeSeries per request */
    size_t max_samples;       /* samples + native histograms per request */
    int64_t max_timestamp_ms; /* a later sample or histogram refuses the request; 0: no bound */
} sw_rw_limits;

/* What one request held (written only on success). */
typedef struct sw_rw_counts {
    uint64_t series, samples, histograms;
} sw_rw_counts;

/*
 * The remote-write 1.0 headers (values NULL when absent): Content-Encoding snappy,
 * Content-Type application/x-protobuf (parameters allowed), X-Prometheus-Remote-Write-Version
 * 0.1.x when given (senders that omit it, as older ones do, are accepted). SW_E_UNSUPPORTED for
 * remote write 2.0 (a Content-Type proto other than prometheus.WriteRequest, or version 2.x: the
 * receiver answers 415 so the sender falls back to 1.0); SW_E_INVAL naming the header otherwise.
 */
sw_status sw_rw_recv_check_headers(const char *content_encoding, const char *content_type,
                                   const char *version, sw_err *err);

/*
 * Decode body (len bytes) under lim (NULL: the defaults) and emit it to sink: per series the
 * labels with `__name__` split out as the sample name, each Sample (has_timestamp true) through
 * sink->sample and each Histogram through sink->native (int deltas turned into absolute
 * counts; reset hint YES sets counter_reset, GAUGE sets gauge); histograms are skipped when
 * sink->native is NULL. Errors, each naming what and where (series index, label):
 * SW_E_TOOBIG over a cap (or over 1,024 labels in a series); SW_E_PARSE bad snappy or
 * protobuf (with the byte offset); SW_E_INVAL a series without `__name__`, a bad or repeated
 * label name, a label value that is not UTF-8 or holds a NUL, a sample dated after
 * lim->max_timestamp_ms, an inconsistent histogram; SW_E_NOMEM; or what the sink returned
 * (samples already emitted stay emitted: the caller aborts its batch).
 */
sw_status sw_rw_recv_decode(const uint8_t *body, size_t len, const sw_rw_limits *lim,
                            const sw_prom_sink *sink, sw_rw_counts *ret_counts, sw_err *err);

#endif
