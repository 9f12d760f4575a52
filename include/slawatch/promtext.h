/*
 * Prometheus exposition parsers: the text format 0.0.4 and OpenMetrics 1.0 text. One pass over
 * the buffer, no allocation per sample, no regex: each sample goes to a sink as it is read.
 * Input is hostile; a parse error names line and column.
 */
#ifndef SLAWATCH_PROMTEXT_H
#define SLAWATCH_PROMTEXT_H

#include <stddef.h>
#include <stdint.h>

#include "slawatch/err.h"
#include "slawatch/promsample.h"

typedef enum sw_promtext_format {
    SW_PROMTEXT_TEXT,        /* text/plain; version=0.0.4 */
    SW_PROMTEXT_OPENMETRICS, /* application/openmetrics-text; version=1.0.0 */
} sw_promtext_format;

typedef struct sw_promtext_pos {
    uint32_t line, col; /* 1-based; col counts bytes */
} sw_promtext_pos;

/*
 * Parse buf[0..len) in format fmt, calling sink for every sample. Returns SW_OK, SW_E_PARSE
 * (err: the message; *where: its line and column), SW_E_NOMEM, or the sink's error. The sink
 * may have seen samples before an error: callers that must not half-apply a scrape buffer what
 * the sink gets and commit only on SW_OK.
 */
sw_status sw_promtext_parse(const char *buf, size_t len, sw_promtext_format fmt,
                            const sw_prom_sink *sink, sw_promtext_pos *where, sw_err *err);

#endif
