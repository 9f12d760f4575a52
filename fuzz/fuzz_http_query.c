/*
 * sw_http_query_get on hostile query strings. The first input byte picks the output capacity,
 * the bytes up to the first 0x01 are the name, the rest the query. Checks: the result agrees
 * with a straightforward reference decoder written here, a found value fits its capacity and
 * the output is untouched otherwise.
 */
#include "fuzz.h"

#include <stdbool.h>

#include "slawatch/http_query.h"

#define OUT_MAX 256

static int
hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decode s[0..n) into out (room for n + 1); -1 on a bad escape or NUL. */
static long
ref_decode(const char *s, size_t n, char *out)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            if (i + 2 >= n || hex(s[i + 1]) < 0 || hex(s[i + 2]) < 0)
                return -1;
            c = (char)(hex(s[i + 1]) * 16 + hex(s[i + 2]));
            i += 2;
        }
        if (c == '\0')
            return -1;
        out[len++] = c;
    }
    out[len] = '\0';
    return (long)len;
}

static sw_http_query_result
reference(const char *q, const char *name, char *out, size_t cap)
{
    size_t qn = strlen(q);
    char *key = malloc(qn + 1), *val = malloc(qn + 1);
    sw_http_query_result res = SW_HTTP_QUERY_ABSENT;
    for (const char *p = q; *p && res == SW_HTTP_QUERY_ABSENT;) {
        size_t pair = strcspn(p, "&"), kn = strcspn(p, "=&");
        const char *next = p + pair + (p[pair] == '&');
        if (pair > 0 && ref_decode(p, kn, key) < 0) {
            res = SW_HTTP_QUERY_MALFORMED;
        } else if (pair > 0 && strcmp(key, name) == 0) {
            size_t off = kn < pair ? kn + 1 : pair;
            long vn = ref_decode(p + off, pair - off, val);
            res = vn < 0 || (size_t)vn >= cap ? SW_HTTP_QUERY_MALFORMED : SW_HTTP_QUERY_FOUND;
            if (res == SW_HTTP_QUERY_FOUND)
                memcpy(out, val, (size_t)vn + 1);
        }
        p = next;
    }
    free(key);
    free(val);
    return res;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t cap = data[0] % (OUT_MAX + 1);
    char *text = malloc(size);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    /* The name ends at the first 0x01 (or is the whole text, with an empty query). */
    char *sep = strchr(text, '\x01');
    const char *query = "";
    if (sep != NULL) {
        *sep = '\0';
        query = sep + 1;
    }
    char got[OUT_MAX + 1], want[OUT_MAX + 1];
    memset(got, 0x5a, sizeof got);
    sw_http_query_result r = sw_http_query_get(query, text, got, cap);
    sw_http_query_result w = reference(query, text, want, cap);
    FUZZ_CHECK(r == w);
    if (r == SW_HTTP_QUERY_FOUND) {
        FUZZ_CHECK(strlen(got) < cap);
        FUZZ_CHECK(strcmp(got, want) == 0);
    } else {
        FUZZ_CHECK(got[0] == 0x5a);
    }
    free(text);
    return 0;
}
