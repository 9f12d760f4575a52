/*
 * Query-string lookup with form decoding. Works on borrowed strings only; no allocation, no
 * state, so handlers call it on any thread.
 */
#include "slawatch/http_query.h"

#include <stdbool.h>
#include <string.h>

static int
hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * Decode the byte at s[*i] (advancing *i past it and its escape) into *ret. False for a bad
 * escape or a decoded NUL, which no C string can carry.
 */
static bool
decode_byte(const char *s, size_t n, size_t *i, char *ret)
{
    char c = s[*i];
    if (c == '+') {
        c = ' ';
    } else if (c == '%') {
        if (*i + 2 >= n)
            return false;
        int hi = hex_value(s[*i + 1]), lo = hex_value(s[*i + 2]);
        if (hi < 0 || lo < 0)
            return false;
        c = (char)(hi << 4 | lo);
        *i += 2;
    }
    (*i)++;
    *ret = c;
    return c != '\0';
}

/* Does s[0..n) decode to name? -1 when it holds a bad escape. */
static int
name_matches(const char *s, size_t n, const char *name)
{
    size_t i = 0, k = 0;
    bool same = true;
    while (i < n) {
        char c;
        if (!decode_byte(s, n, &i, &c))
            return -1;
        same = same && name[k] == c;
        if (same)
            k++;
    }
    return same && name[k] == '\0';
}

/* Decode s[0..n) into out, or (out NULL) only check that it decodes; the decoded length or -1. */
static long
decode(const char *s, size_t n, char *out)
{
    size_t i = 0, len = 0;
    while (i < n) {
        char c;
        if (!decode_byte(s, n, &i, &c))
            return -1;
        if (out != NULL)
            out[len] = c;
        len++;
    }
    return (long)len;
}

sw_http_query_result
sw_http_query_get(const char *query, const char *name, char *out, size_t cap)
{
    const char *p = query;
    while (*p) {
        size_t pair = strcspn(p, "&");
        size_t key = strcspn(p, "=&");
        if (pair > 0) {
            int m = name_matches(p, key, name);
            if (m < 0)
                return SW_HTTP_QUERY_MALFORMED;
            if (m) {
                const char *v = key < pair ? p + key + 1 : p + pair;
                size_t vn = (size_t)(p + pair - v);
                long len = decode(v, vn, NULL);
                if (len < 0 || (size_t)len >= cap)
                    return SW_HTTP_QUERY_MALFORMED;
                decode(v, vn, out);
                out[len] = '\0';
                return SW_HTTP_QUERY_FOUND;
            }
        }
        p += pair + (p[pair] == '&');
    }
    return SW_HTTP_QUERY_ABSENT;
}
