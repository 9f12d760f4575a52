/*
 * Recorded SLI intervals as JSON lines (rules/README.md, "Recorded intervals"), the input of
 * `slawatch eval`: one interval per line, parsed into an sw_sli_interval that owns its latency
 * histogram. Lines are hostile input: sizes are capped and every error names line and column.
 * Ordering and overlap across lines are the evaluator's to check. Stateless.
 */
#ifndef SLAWATCH_INTERVALS_H
#define SLAWATCH_INTERVALS_H

#include <stddef.h>
#include <stdint.h>

#include "slawatch/err.h"
#include "slawatch/sli.h"

#define SW_INTERVALS_MAX_LINE (8u << 20) /* bytes */
#define SW_INTERVALS_MAX_NAME 128        /* service and env names */

typedef struct sw_intervals_line {
    char service[SW_INTERVALS_MAX_NAME];
    char env[SW_INTERVALS_MAX_NAME]; /* "" when absent */
    sw_sli_interval iv;              /* owns its histogram: sw_sli_interval_fini() */
} sw_intervals_line;

/*
 * Parse one line (len bytes, no line feed) recorded at base_interval_ms resolution. name and
 * line_no are for messages: "name:LINE:COL: ...". On error *ret is untouched.
 */
sw_status sw_intervals_parse_line(const char *text, size_t len, int64_t base_interval_ms,
                                  const char *name, unsigned long line_no, sw_intervals_line *ret,
                                  sw_err *err);

#endif
