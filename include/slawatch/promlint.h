/*
 * Naming-convention lints for a Prometheus exposition, after promtool's `check metrics`:
 * counters end in _total and nothing else does, base units (seconds, bytes) rather than
 * milliseconds or kilobytes, snake_case, no colons (reserved for recording rules), no type name
 * in the metric name, a HELP line per family. Warnings, not errors: the exposition is valid.
 */
#ifndef SLAWATCH_PROMLINT_H
#define SLAWATCH_PROMLINT_H

#include <stddef.h>
#include <stdint.h>

#include "slawatch/err.h"
#include "slawatch/promtext.h"

typedef struct sw_promlint_warning {
    uint32_t line, col;     /* 1-based, bytes: where the family first appears */
    const char *family;     /* the family's name, into the input; not NUL-terminated */
    size_t family_len;
    const char *message;    /* NUL-terminated, valid during the callback */
} sw_promlint_warning;

typedef void (*sw_promlint_fn)(void *ctx, const sw_promlint_warning *w);

/*
 * Lint buf[0..len), an exposition that sw_promtext_parse accepted in format fmt, calling fn
 * once per warning, families in the order they first appear. Returns SW_OK, or SW_E_NOMEM /
 * SW_E_TOOBIG (more than SW_PROMTEXT_MAX_FAMILIES families).
 */
sw_status sw_promlint_check(const char *buf, size_t len, sw_promtext_format fmt, sw_promlint_fn fn,
                            void *ctx, sw_err *err);

#endif
