/*
 * Prometheus exposition parsers: the text format 0.0.4 and OpenMetrics 1.0 text. One pass over
 * the buffer, no allocation per sample, no regex: each sample goes to a sink as it is read.
 * Input is hostile; a parse error names line and column.
 *
 * What the sink sees (promsample.h): every sample, with the sample's own name (`x_bucket`,
 * `x_total`, `x_created`...) and its family's declared type (UNKNOWN when untyped). Label
 * values are unescaped; labels come in the order the exposition gave them. OpenMetrics
 * timestamps (seconds, possibly fractional) become milliseconds, rounded down and saturated to
 * the int64 range. Exemplars are checked but not passed on.
 *
 * What is not the parser's job: duplicate series (the same name and labels twice) are passed
 * on as given, and so are out-of-order timestamps in the text format; the sample-to-SLI map
 * (prommap.h) de-duplicates. OpenMetrics forbids both, so there they are parse errors.
 *
 * OpenMetrics is validated as the specification requires (families contiguous and never
 * repeated, a labelset's samples contiguous, metadata once and before samples, histogram
 * buckets ordered with +Inf equal to _count, no negative or NaN counts, exemplars only on
 * _total and _bucket, `# EOF` last). The text format follows Prometheus' expfmt parser: HELP
 * and TYPE at most once per name, TYPE before the name's samples, valid `le` and `quantile`.
 */
#ifndef SLAWATCH_PROMTEXT_H
#define SLAWATCH_PROMTEXT_H

#include <stddef.h>
#include <stdint.h>

#include "slawatch/err.h"
#include "slawatch/promsample.h"

/*
 * Caps that bound memory whatever the input; past one, parsing stops with SW_E_TOOBIG (a
 * parse error with line and column, naming the cap).
 */
#define SW_PROMTEXT_MAX_LINE ((size_t)1 << 20)         /* bytes in one line */
#define SW_PROMTEXT_MAX_LABELS 128                     /* labels on one sample or exemplar */
#define SW_PROMTEXT_MAX_LABEL_VALUE ((size_t)64 << 10) /* bytes in one label value */
#define SW_PROMTEXT_MAX_NAME 1024                      /* bytes in a metric or label name */
#define SW_PROMTEXT_MAX_FAMILIES ((size_t)1 << 18)     /* distinct metric families */
#define SW_PROMTEXT_MAX_GROUPS ((size_t)1 << 22)       /* labelsets in one OpenMetrics family */

typedef enum sw_promtext_format {
    SW_PROMTEXT_TEXT,        /* text/plain; version=0.0.4 */
    SW_PROMTEXT_OPENMETRICS, /* application/openmetrics-text; version=1.0.0 */
} sw_promtext_format;

typedef struct sw_promtext_pos {
    uint32_t line, col; /* 1-based; col counts bytes */
} sw_promtext_pos;

/*
 * Parse buf[0..len) in format fmt, calling sink for every sample. Returns SW_OK, SW_E_PARSE or
 * SW_E_TOOBIG (err: the message, without position; *where: its line and column), SW_E_NOMEM,
 * or the sink's error. where may be NULL. The sink may have seen samples before an error:
 * callers that must not half-apply a scrape buffer what the sink gets and commit only on SW_OK.
 * Working memory (label scratch, the family table) is freed before returning.
 */
sw_status sw_promtext_parse(const char *buf, size_t len, sw_promtext_format fmt,
                            const sw_prom_sink *sink, sw_promtext_pos *where, sw_err *err);

#endif
