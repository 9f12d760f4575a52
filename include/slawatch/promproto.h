/*
 * The Prometheus protobuf exposition format (application/vnd.google.protobuf;
 * proto=io.prometheus.client.MetricFamily; encoding=delimited): varint-length-delimited
 * MetricFamily messages, decoded with protobuf-c into an arena (no malloc per message), classic
 * and native histograms included.
 */
#ifndef SLAWATCH_PROMPROTO_H
#define SLAWATCH_PROMPROTO_H

#include <stddef.h>
#include <stdint.h>

#include "slawatch/err.h"
#include "slawatch/promsample.h"

/* Largest encoded MetricFamily accepted; a longer length prefix is SW_E_TOOBIG. */
#define SW_PROMPROTO_MAX_MESSAGE ((size_t)16 << 20)

/*
 * Memory one decoded message may take (protobuf-c's structs plus the samples' names and
 * labels): packed fields expand up to ~50 times when decoded, so this bounds what a hostile
 * message can make the decoder hold. Past it: SW_E_TOOBIG.
 */
#define SW_PROMPROTO_MAX_DECODED ((size_t)64 << 20)

/*
 * Decode buf[0..len), calling sink for every sample, named as Prometheus names the series it
 * makes of a MetricFamily: counters, gauges and untyped metrics under the family's name as
 * given; a summary as `_count`, `_sum` and one sample per quantile (label `quantile`); a
 * classic histogram as `_count`, `_sum` and `_bucket` samples (label `le`, with a `+Inf`
 * bucket of the total count when the message has none). `le` and `quantile` values are
 * spelled as Prometheus spells them (`1.0`, `0.25`, `1e+06`). A histogram with a native part
 * (spans, a zero threshold or a zero count) goes to sink->native instead, with absolute
 * counts, when sink->native is not NULL; else its classic buckets are emitted.
 *
 * Returns SW_OK, SW_E_PARSE (malformed or truncated message, invalid name, type, schema or
 * spans), SW_E_TOOBIG (see the limits above), SW_E_NOMEM or the sink's error. On any error
 * err names the failing message's byte offset (where its length prefix starts) and
 * *err_offset, when not NULL, is set to it. The sink may have seen samples of the messages
 * before the failing one.
 */
sw_status sw_promproto_parse(const uint8_t *buf, size_t len, const sw_prom_sink *sink,
                             size_t *err_offset, sw_err *err);

#endif
