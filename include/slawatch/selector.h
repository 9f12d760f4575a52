/*
 * Prometheus series selectors, as rules name their SLI sources:
 * `http_requests_total{job="api",code=~"5.."}`. Validation only: the text is kept as written and
 * handed to Prometheus, so slawatch checks it the way PromQL would parse it. Stateless.
 */
#ifndef SLAWATCH_SELECTOR_H
#define SLAWATCH_SELECTOR_H

#include <stddef.h>

#include "slawatch/err.h"

#define SW_SELECTOR_MAX_LEN (64u << 10) /* bytes */

/*
 * Check that text[0..len) is one series selector: an optional metric name
 * ([a-zA-Z_:][a-zA-Z0-9_:]*) and an optional `{...}` list of matchers `label op value`, op one
 * of = != =~ !~, value a quoted string ("..." or '...' with Go escapes, or `raw`); blanks may
 * surround tokens and a trailing comma is allowed. A regex (at most 4096 bytes) must be valid
 * for POSIX regcomp(REG_EXTENDED) anchored as ^(re)$, and keep within RE2's limits as PromQL
 * does (counts up to 1000, nested counts' product up to 1000, no `x++`); RE2-only syntax
 * (`\d`, `(?i)`, backreferences) is refused with a hint. As in PromQL, a selector without a
 * metric name needs a matcher that does not match the empty string, and the name may not be
 * given twice. A NUL byte is refused: callers keep the text as a C string.
 *
 * Returns SW_OK, SW_E_TOOBIG (longer than SW_SELECTOR_MAX_LEN), SW_E_NOMEM, or SW_E_PARSE with
 * err holding "expected ..." (no position) and, when err_offset is not NULL, *err_offset the
 * byte offset in text of the offending character. *err_offset is written only on SW_E_PARSE.
 */
sw_status sw_selector_validate(const char *text, size_t len, size_t *err_offset, sw_err *err);

#endif
