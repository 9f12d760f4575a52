/*
 * JSON in and out: the one string escaper every JSON writer uses, and the capped parser for
 * JSON request bodies (cJSON underneath; callers read the tree it returns with the cJSON API
 * and free it with cJSON_Delete()). Stateless; safe from any thread.
 */
#ifndef SLAWATCH_JSON_H
#define SLAWATCH_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slawatch/buf.h"
#include "slawatch/err.h"

/* Defaults for sw_json_parse's caps. */
#define SW_JSON_MAX_BYTES ((size_t)1 << 20)
#define SW_JSON_MAX_DEPTH 32

/*
 * Append s as a JSON string literal: quotes, backslashes and control characters escaped, each
 * invalid UTF-8 byte replaced by U+FFFD so the output is always valid JSON whatever s holds.
 * SW_E_TOOBIG / SW_E_NOMEM from the buffer (b then holds a prefix).
 */
sw_status sw_json_put_string(sw_buf *b, const char *s, sw_err *err);

/* True when s (NUL-terminated) is well-formed UTF-8 (RFC 3629: no overlong forms, surrogates
 * or code points above U+10FFFF). */
bool sw_json_utf8_valid(const char *s);

/* The same for len bytes at s (a NUL among them is a character like any other). */
bool sw_json_utf8_valid_n(const char *s, size_t len);

/* The longest number cJSON reads in one piece (its 64-byte buffer); longer ones it cuts. */
#define SW_JSON_NUMBER_MAX 63

/*
 * The JSON number at the start of [p, end), read to the double cJSON would give it (strtod of
 * the same text), so a caller can read number arrays without building a tree. Only text where
 * that is certain is read: the JSON grammar (-?int frac? exp?), at most SW_JSON_NUMBER_MAX
 * bytes, not followed by a byte cJSON would take as part of the number ([0-9+-.eE]). Whole
 * numbers up to 2^53 are converted exactly without strtod; any other number goes to strtod.
 * True with *ret and *ret_len (bytes read); false (nothing set) when the text is anything else.
 */
bool sw_json_number(const uint8_t *p, const uint8_t *end, double *ret, size_t *ret_len);

struct cJSON;

/*
 * Parse data[0..len) as one JSON value (surrounding whitespace allowed, nothing else). Bodies
 * longer than max_bytes are SW_E_TOOBIG; arrays and objects nested deeper than max_depth, NUL
 * bytes (raw, or \u0000 in a string), syntax errors and trailing data are SW_E_PARSE, with a
 * message giving the byte offset and line:col. On success *ret_tree is a tree the caller frees with
 * cJSON_Delete().
 */
sw_status sw_json_parse(const uint8_t *data, size_t len, size_t max_bytes, unsigned max_depth,
                        struct cJSON **ret_tree, sw_err *err);

#endif
