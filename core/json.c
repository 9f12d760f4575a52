/*
 * JSON string escaping and the capped cJSON front end for request bodies. No state: every
 * function works on its arguments only, so any thread may call it.
 */
#include "slawatch/json.h"

#include <cjson/cJSON.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
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

/* A JSON number's parts: sign, digits before and after the point, the exponent (kept within
 * +-100000, far past where any double ends), and its length in bytes. */
typedef struct json_number {
    bool negative;
    const uint8_t *int_digits, *frac_digits;
    size_t n_int, n_frac, len;
    long exponent;
} json_number;

static size_t
count_digits(const uint8_t *p, const uint8_t *end)
{
    const uint8_t *q = p;
    while (q < end && *q >= '0' && *q <= '9')
        q++;
    return (size_t)(q - p);
}

/* A byte cJSON copies into its number buffer (it stops at the first other one). */
static bool
cjson_number_byte(uint8_t c)
{
    return (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.' || c == 'e' || c == 'E';
}

static size_t
scan_exponent(const uint8_t *p, const uint8_t *end, long *ret)
{
    const uint8_t *q = p;
    bool negative = q < end && *q == '-';
    q += q < end && (*q == '+' || *q == '-');
    size_t n = count_digits(q, end);
    if (n == 0)
        return 0;
    long e = 0;
    for (size_t i = 0; i < n; i++)
        e = e < 100000 ? e * 10 + (q[i] - '0') : e;
    *ret = negative ? -e : e;
    return (size_t)(q + n - p);
}

/* The JSON-grammar number at p, when cJSON would read exactly these bytes as its number. */
static bool
scan_number(const uint8_t *p, const uint8_t *end, json_number *n)
{
    const uint8_t *q = p;
    n->negative = q < end && *q == '-';
    q += n->negative;
    n->int_digits = q;
    n->n_int = count_digits(q, end);
    if (n->n_int == 0 || (q[0] == '0' && n->n_int > 1))
        return false;
    q += n->n_int;
    n->frac_digits = q;
    n->n_frac = 0;
    if (q < end && *q == '.') {
        n->frac_digits = ++q;
        if ((n->n_frac = count_digits(q, end)) == 0)
            return false;
        q += n->n_frac;
    }
    n->exponent = 0;
    if (q < end && (*q == 'e' || *q == 'E')) {
        size_t k = scan_exponent(q + 1, end, &n->exponent);
        if (k == 0)
            return false;
        q += 1 + k;
    }
    n->len = (size_t)(q - p);
    return n->len <= SW_JSON_NUMBER_MAX && !(q < end && cjson_number_byte(*q));
}

#define WHOLE_MAX (UINT64_C(1) << 53) /* every whole number up to here is a double */

static const uint64_t powers_of_ten[20] = {1,
                                           10,
                                           100,
                                           1000,
                                           10000,
                                           100000,
                                           1000000,
                                           10000000,
                                           100000000,
                                           1000000000,
                                           10000000000,
                                           100000000000,
                                           1000000000000,
                                           10000000000000,
                                           100000000000000,
                                           1000000000000000,
                                           10000000000000000,
                                           100000000000000000,
                                           1000000000000000000,
                                           10000000000000000000u};

/*
 * The number's magnitude when its decimal value is exactly a whole number up to 2^53 (then the
 * double strtod rounds it to is that number itself); false for anything that needs rounding.
 */
static bool
exact_whole(const json_number *n, uint64_t *ret)
{
    uint64_t d = 0;
    size_t significant = 0;
    for (size_t i = 0; i < n->n_int + n->n_frac; i++) {
        unsigned c = (i < n->n_int ? n->int_digits[i] : n->frac_digits[i - n->n_int]) - '0';
        if (d == 0 && c == 0)
            continue;
        if (++significant > 19) /* 19 digits always fit in 64 bits */
            return false;
        d = d * 10 + c;
    }
    long scale = n->exponent - (long)n->n_frac;
    if (d == 0) {
        *ret = 0;
        return true;
    }
    if (scale >= 0) {
        if (scale > 15 || d > WHOLE_MAX / powers_of_ten[scale])
            return false;
        d *= powers_of_ten[scale];
    } else {
        if (scale < -19 || d % powers_of_ten[-scale] != 0)
            return false;
        d /= powers_of_ten[-scale];
    }
    *ret = d;
    return d <= WHOLE_MAX;
}

bool
sw_json_number(const uint8_t *p, const uint8_t *end, double *ret, size_t *ret_len)
{
    json_number n;
    if (p >= end || !scan_number(p, end, &n))
        return false;
    uint64_t whole;
    if (exact_whole(&n, &whole)) {
        *ret = n.negative ? -(double)whole : (double)whole;
    } else {
        /* cJSON's own path: strtod over the same bytes (the C locale, as cJSON arranges). */
        char text[SW_JSON_NUMBER_MAX + 1];
        memcpy(text, p, n.len);
        text[n.len] = '\0';
        *ret = strtod(text, NULL);
    }
    *ret_len = n.len;
    return true;
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
