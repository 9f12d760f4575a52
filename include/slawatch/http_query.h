/*
 * Reading one parameter out of a raw URL query string (the part after '?'), decoded the way
 * HTML forms encode it (application/x-www-form-urlencoded): pairs separated by '&', name and
 * value by the first '=', '+' meaning a space and %XX a byte. Pure functions, any thread.
 */
#ifndef SLAWATCH_HTTP_QUERY_H
#define SLAWATCH_HTTP_QUERY_H

#include <stddef.h>

typedef enum sw_http_query_result {
    SW_HTTP_QUERY_FOUND,     /* out holds the decoded value, NUL-terminated */
    SW_HTTP_QUERY_ABSENT,    /* no pair has that name; out untouched */
    SW_HTTP_QUERY_MALFORMED, /* see sw_http_query_get; out untouched */
} sw_http_query_result;

/*
 * Find the first pair whose decoded name equals name and decode its value into out (cap
 * bytes including the NUL). A pair without '=' has the empty value; empty pairs are skipped.
 * MALFORMED when a name examined before the match, or the matched value, holds a bad %-escape
 * (not two hex digits) or decodes to a NUL byte, or when the value does not fit in cap.
 * query may be "" (no query); cap may be 0 (then any found value is MALFORMED).
 */
sw_http_query_result sw_http_query_get(const char *query, const char *name, char *out,
                                       size_t cap);

#endif
