/*
 * Prometheus series selectors, as rules name their SLI sources:
 * `http_requests_total{job="api",code=~"5.."}`. The rules keep the text as written (it may be
 * handed to a Prometheus as is), so slawatch checks it the way PromQL would parse it; sources
 * that receive samples themselves compile it and test series against it.
 */
#ifndef SLAWATCH_SELECTOR_H
#define SLAWATCH_SELECTOR_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#include "slawatch/buf.h"
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

/* One `label op value`, the value unescaped; a regex is compiled anchored, as ^(value)$. */
typedef struct sw_matcher {
    char *label, *value;
    size_t value_len;
    bool regex, negate;
    regex_t re;
} sw_matcher;

typedef struct sw_selector {
    char *name; /* the metric name before the braces, NULL when none */
    sw_matcher *matchers;
    size_t n_matchers;
} sw_selector;

/* Validate text (as sw_selector_validate) and compile it. */
sw_status sw_selector_compile(const char *text, size_t len, sw_selector **ret, sw_err *err);

void sw_selector_free(sw_selector *sel);

/* Sets *value and *len to label's value in a series ("" when the series has no such label). */
typedef void (*sw_selector_label_fn)(const void *ctx, const char *label, const char **value,
                                     size_t *len);

/*
 * Do a series' labels satisfy every matcher? A `__name__` matcher is tested against name; the
 * selector's own metric name is not (callers index series by name). A label absent from the
 * series is the empty string, as in PromQL. scratch holds NUL-terminated copies for regexec;
 * a value longer than its limit matches no regex.
 */
bool sw_selector_matches(const sw_selector *sel, const char *name, size_t name_len,
                         sw_selector_label_fn lookup, const void *ctx, sw_buf *scratch);

#endif
