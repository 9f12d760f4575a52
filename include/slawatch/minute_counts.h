/*
 * The minute-by-minute counts of one hour, kept beside its 1 h rollup row so that a month read
 * at 1 h resolution is still exact to the minute (availability minutes, throughput peaks,
 * coverage, slices) without reading 44,640 one-minute rows per series.
 *
 * Encoding (slawatch's own, stored as a blob): a format byte (1), then per minute a flags byte
 * (bit 0: a row was stored for the minute, bit 1: it had data) and, when stored, the unsigned
 * LEB128 varints requests, errors, probes, failures.
 */
#ifndef SLAWATCH_MINUTE_COUNTS_H
#define SLAWATCH_MINUTE_COUNTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slawatch/buf.h"
#include "slawatch/err.h"

#define SW_MINUTES_PER_HOUR 60

typedef struct sw_minute_count {
    bool stored;   /* a 1 m row existed for this minute */
    bool has_data;
    uint64_t requests, errors;
    uint32_t probes, failures;
} sw_minute_count;

typedef struct sw_hour_minutes {
    sw_minute_count m[SW_MINUTES_PER_HOUR];
} sw_hour_minutes;

/* Replace out's contents with the encoding of hm. */
sw_status sw_hour_minutes_encode(const sw_hour_minutes *hm, sw_buf *out, sw_err *err);

/* Decode len bytes into *hm; SW_E_PARSE naming the byte offset for anything malformed (an
 * unknown format or flag, a truncated or oversized varint, bytes left over). */
sw_status sw_hour_minutes_decode(const uint8_t *data, size_t len, sw_hour_minutes *hm,
                                 sw_err *err);

#endif
