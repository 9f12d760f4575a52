/*
 * JSON string escaping and the capped cJSON front end for request bodies. No state: every
 * function works on its arguments only, so any thread may call it.
 */
#include "slawatch/json.h"

#include <cjson/cJSON.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/*
 * Length of the well-formed UTF-8 sequence at p (1 to 4), or 0 if the bytes there are not one
 * (stray continuation, overlong form, surrogate, above U+10FFFF, cut short by the NUL).
 */
static size_t
utf8_len(const unsigned char *p)
{
    if (p[0] < 0x80)
        return 1;
    size_t n;
    unsigned lo = 0x80, hi = 0xbf; /* allowed range of the second byte (RFC 3629, section 4) */
    if (p[0] >= 0xc2 && p[0] <= 0xdf) {
        n = 2;
    } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
        n = 3;
        lo = p[0] == 0xe0 ? 0xa0 : 0x80;
        hi = p[0] == 0xed ? 0x9f : 0xbf;
    } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        n = 4;
        lo = p[0] == 0xf0 ? 0x90 : 0x80;
        hi = p[0] == 0xf4 ? 0x8f : 0xbf;
    } else {
        return 0;
    }
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return n;
}

bool
sw_json_utf8_valid(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t n = utf8_len(p);
        if (n == 0)
            return false;
        p += n;
    }
    return true;
}

bool
sw_json_utf8_valid_n(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        if (*p < 0x80) {
            p++;
            continue;
        }
        /* Zero padding makes a sequence cut short by the end fail like one cut by a NUL. */
        unsigned char seq[4] = {0};
        size_t avail = (size_t)(end - p) < sizeof seq ? (size_t)(end - p) : sizeof seq;
        memcpy(seq, p, avail);
        size_t n = utf8_len(seq);
        if (n == 0 || n > avail)
            return false;
        p += n;
    }
    return true;
}

sw_status
sw_json_put_string(sw_buf *b, const char *s, sw_err *err)
{
    sw_status st = sw_buf_append(b, "\"", 1, err);
    const unsigned char *p = (const unsigned char *)s;
    while (st == SW_OK && *p) {
        size_t n = utf8_len(p);
        if (*p == '"' || *p == '\\')
            st = sw_buf_printf(b, err, "\\%c", *p);
        else if (*p < 0x20)
            st = sw_buf_printf(b, err, "\\u%04x", *p);
        else if (n == 0)
            st = sw_buf_append(b, "\\ufffd", 6, err);
        else
            st = sw_buf_append(b, p, n, err);
        p += n ? n : 1;
    }
    return st == SW_OK ? sw_buf_append(b, "\"", 1, err) : st;
}

/* "offset 12 (line 2, col 3)" for the byte at data[off]; lines and columns count from 1. */
static void
position(const uint8_t *data, size_t off, char *out, size_t cap)
{
    size_t line = 1, col = 1;
    for (size_t i = 0; i < off; i++) {
        if (data[i] == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    snprintf(out, cap, "offset %zu (line %zu, col %zu)", off, line, col);
}

/* An escaped NUL (\u0000) at data[i] just after a backslash: C strings would end there, so
 * "api\u0000evil" would be read as "api". */
static bool
escaped_nul(const uint8_t *data, size_t len, size_t i)
{
    return len - i >= 5 && memcmp(data + i, "u0000", 5) == 0;
}

/*
 * cJSON's own nesting limit is a compile-time 1000; a request body gets a much smaller one,
 * checked before cJSON recurses. Brackets inside strings do not count. NUL bytes, raw or
 * escaped in a string, are refused: no string is silently cut short.
 */
static sw_status
check_depth(const uint8_t *data, size_t len, unsigned max_depth, sw_err *err)
{
    unsigned depth = 0;
    bool in_string = false, escaped = false;
    char where[80];
    for (size_t i = 0; i < len; i++) {
        uint8_t c = data[i];
        if (c == '\0') {
            position(data, i, where, sizeof where);
            return sw_err_set(err, SW_E_PARSE, "JSON body: NUL byte at %s", where);
        }
        if (in_string && escaped && escaped_nul(data, len, i)) {
            position(data, i - 1, where, sizeof where);
            return sw_err_set(err, SW_E_PARSE, "JSON body: \\u0000 (NUL) in a string at %s", where);
        }
        if (in_string) {
            in_string = escaped || c != '"';
            escaped = !escaped && c == '\\';
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max_depth) {
                position(data, i, where, sizeof where);
                return sw_err_set(err, SW_E_PARSE, "JSON body: nested deeper than %u at %s",
                                  max_depth, where);
            }
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    return SW_OK;
}

/* The first byte in [p, end) that is not JSON whitespace, or end. */
static const uint8_t *
skip_space(const uint8_t *p, const uint8_t *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

sw_status
sw_json_parse(const uint8_t *data, size_t len, size_t max_bytes, unsigned max_depth,
              struct cJSON **ret_tree, sw_err *err)
{
    if (len > max_bytes)
        return sw_err_set(err, SW_E_TOOBIG, "JSON body: %zu bytes, the limit is %zu", len,
                          max_bytes);
    /* An empty body may come as NULL: no pointer arithmetic on it. */
    if (len == 0 || skip_space(data, data + len) == data + len)
        return sw_err_set(err, SW_E_PARSE, "JSON body: empty");
    sw_status st = check_depth(data, len, max_depth, err);
    if (st != SW_OK)
        return st;
    const char *text = (const char *)data, *end = NULL;
    cJSON *tree = cJSON_ParseWithLengthOpts(text, len, &end, false);
    char where[80];
    if (tree == NULL) {
        /* cJSON points end at the byte it gave up on (out of memory looks the same). */
        size_t off = end != NULL && (size_t)(end - text) < len ? (size_t)(end - text) : len;
        position(data, off, where, sizeof where);
        return sw_err_set(err, SW_E_PARSE, "JSON body: syntax error at %s", where);
    }
    const uint8_t *rest = skip_space((const uint8_t *)end, data + len);
    if (rest != data + len) {
        position(data, (size_t)(rest - data), where, sizeof where);
        cJSON_Delete(tree);
        return sw_err_set(err, SW_E_PARSE, "JSON body: unexpected data after the value at %s",
                          where);
    }
    *ret_tree = tree;
    return SW_OK;
}
