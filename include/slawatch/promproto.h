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

/*
 * Decode buf[0..len), calling sink for every sample (a classic histogram as its `_bucket`,
 * `_sum` and `_count` samples, a native histogram through sink->native). Returns SW_OK,
 * SW_E_PARSE (err names the message's byte offset, *err_offset set when not NULL),
 * SW_E_TOOBIG, SW_E_NOMEM or the sink's error.
 */
sw_status sw_promproto_parse(const uint8_t *buf, size_t len, const sw_prom_sink *sink,
                             size_t *err_offset, sw_err *err);

#endif
