/*
 * Table-driven tests for sw_http_query_get. Expected decodings follow RFC 3986 section 2.1
 * (%XX is one octet, hex digits either case) and the HTML/WHATWG form rules
 * (application/x-www-form-urlencoded: '&' separates pairs, the first '=' splits name from
 * value, '+' is a space, a pair without '=' has an empty value), plus this API's own rules:
 * the first match wins, a bad escape or %00 or a value too long is MALFORMED.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "slawatch/http_query.h"

typedef struct qcase {
    const char *query;
    const char *name;
    sw_http_query_result want;
    const char *value; /* when FOUND */
} qcase;

static const qcase cases[] = {
    {"", "a", SW_HTTP_QUERY_ABSENT, NULL},
    {"a=1", "a", SW_HTTP_QUERY_FOUND, "1"},
    {"a=1&b=2", "b", SW_HTTP_QUERY_FOUND, "2"},
    {"a=1&b=2", "c", SW_HTTP_QUERY_ABSENT, NULL},
    {"ab=1", "a", SW_HTTP_QUERY_ABSENT, NULL},
    {"a=1", "ab", SW_HTTP_QUERY_ABSENT, NULL},
    {"a=first&a=second", "a", SW_HTTP_QUERY_FOUND, "first"},
    {"a", "a", SW_HTTP_QUERY_FOUND, ""},
    {"a=", "a", SW_HTTP_QUERY_FOUND, ""},
    {"a=x=y", "a", SW_HTTP_QUERY_FOUND, "x=y"},
    {"&&a=1&&", "a", SW_HTTP_QUERY_FOUND, "1"},
    {"=1&a=2", "a", SW_HTTP_QUERY_FOUND, "2"},
    {"=x", "", SW_HTTP_QUERY_FOUND, "x"},
    {"a=x+y", "a", SW_HTTP_QUERY_FOUND, "x y"},
    {"a=hello+world", "a", SW_HTTP_QUERY_MALFORMED, NULL}, /* 11 bytes + NUL > 8 */
    {"a=%20%2b%2B", "a", SW_HTTP_QUERY_FOUND, " ++"},
    {"a=100%25", "a", SW_HTTP_QUERY_FOUND, "100%"},
    {"a=%26%3D", "a", SW_HTTP_QUERY_FOUND, "&="},
    {"a=%C3%A9t%C3%A9", "a", SW_HTTP_QUERY_FOUND, "\xc3\xa9t\xc3\xa9"},
    {"a=%c3%a9", "a", SW_HTTP_QUERY_FOUND, "\xc3\xa9"},
    {"a=%FF", "a", SW_HTTP_QUERY_FOUND, "\xff"},
    {"my+key=v", "my key", SW_HTTP_QUERY_FOUND, "v"},
    {"my%20key=v", "my key", SW_HTTP_QUERY_FOUND, "v"},
    {"%61=v", "a", SW_HTTP_QUERY_FOUND, "v"},
    {"window=10m&service=api&env=green", "env", SW_HTTP_QUERY_FOUND, "green"},
    {"a=;b", "a", SW_HTTP_QUERY_FOUND, ";b"}, /* ';' is not a separator in forms */
    /* Malformed values. */
    {"a=%", "a", SW_HTTP_QUERY_MALFORMED, NULL},
    {"a=%2", "a", SW_HTTP_QUERY_MALFORMED, NULL},
    {"a=%2&b=1", "a", SW_HTTP_QUERY_MALFORMED, NULL},
    {"a=%g0", "a", SW_HTTP_QUERY_MALFORMED, NULL},
    {"a=%0g", "a", SW_HTTP_QUERY_MALFORMED, NULL},
    {"a=% 1", "a", SW_HTTP_QUERY_MALFORMED, NULL},
    {"a=x%00y", "a", SW_HTTP_QUERY_MALFORMED, NULL},
    /* A name that cannot be decoded before the match: cannot tell whether it is ours. */
    {"%zz=1&a=2", "a", SW_HTTP_QUERY_MALFORMED, NULL},
    {"%00=1&a=2", "a", SW_HTTP_QUERY_MALFORMED, NULL},
    /* A bad value in another pair, or anything after the match, does not matter. */
    {"b=%zz&a=2", "a", SW_HTTP_QUERY_FOUND, "2"},
    {"a=2&%zz", "a", SW_HTTP_QUERY_FOUND, "2"},
    /* Size: the value and its NUL must fit in 8 bytes. */
    {"a=1234567", "a", SW_HTTP_QUERY_FOUND, "1234567"},
    {"a=12345678", "a", SW_HTTP_QUERY_MALFORMED, NULL},
    {"a=%31%32%33%34%35%36%37", "a", SW_HTTP_QUERY_FOUND, "1234567"},
    {"a=+++++++", "a", SW_HTTP_QUERY_FOUND, "       "},
};

static void
test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const qcase *c = &cases[i];
        char out[8];
        memset(out, '#', sizeof out);
        sw_http_query_result got = sw_http_query_get(c->query, c->name, out, sizeof out);
        if (got != c->want)
            fail_msg("case %zu (%s, %s): got %d, want %d", i, c->query, c->name, got, c->want);
        if (got == SW_HTTP_QUERY_FOUND)
            assert_string_equal(out, c->value);
        else
            assert_int_equal(out[0], '#'); /* untouched */
    }
}

static void
test_zero_cap(void **state)
{
    (void)state;
    char out[1] = {'#'};
    assert_int_equal(sw_http_query_get("a=", "a", out, 0), SW_HTTP_QUERY_MALFORMED);
    assert_int_equal(sw_http_query_get("a=", "a", out, 1), SW_HTTP_QUERY_FOUND);
    assert_int_equal(out[0], '\0');
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_zero_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
