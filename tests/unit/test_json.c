/*
 * Tests for core/json: the string escaper (RFC 8259 section 7: '"', '\\' and U+0000-U+001F
 * must be escaped; invalid UTF-8 per RFC 3629 becomes U+FFFD) and the capped body parser
 * (caps, nesting, trailing data, error positions counted by hand from the inputs).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <cjson/cJSON.h>
#include <string.h>

#include "slawatch/json.h"

static void
test_put_string(void **state)
{
    (void)state;
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"", "\"\""},
        {"plain", "\"plain\""},
        {"a\"b\\c", "\"a\\\"b\\\\c\""},
        {"\n\t\x01\x1f", "\"\\u000a\\u0009\\u0001\\u001f\""},
        {"/\x7f", "\"/\x7f\""},
        {"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\""},
        {"\xff", "\"\\ufffd\""},
        {"a\x80z", "\"a\\ufffdz\""},                /* stray continuation byte */
        {"\xc0\xaf", "\"\\ufffd\\ufffd\""},         /* overlong '/' */
        {"\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""}, /* UTF-16 surrogate */
        {"\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""}, /* above U+10FFFF */
        {"\xe2\x82", "\"\\ufffd\\ufffd\""},         /* cut short by the end */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sw_buf b;
        sw_buf_init(&b, 1024);
        assert_int_equal(sw_json_put_string(&b, cases[i].in, NULL), SW_OK);
        assert_string_equal(sw_buf_cstr(&b, NULL), cases[i].want);
        sw_buf_fini(&b);
    }
}

static void
test_put_string_cap(void **state)
{
    (void)state;
    sw_buf b;
    sw_buf_init(&b, 4);
    sw_err err = {0};
    assert_int_equal(sw_json_put_string(&b, "abcdef", &err), SW_E_TOOBIG);
    assert_int_equal(err.code, SW_E_TOOBIG);
    sw_buf_fini(&b);
}

static sw_status
parse(const char *text, size_t max_bytes, unsigned depth, cJSON **tree, sw_err *err)
{
    return sw_json_parse((const uint8_t *)text, strlen(text), max_bytes, depth, tree, err);
}

static void
test_parse_ok(void **state)
{
    (void)state;
    cJSON *tree = NULL;
    sw_err err = {0};
    assert_int_equal(parse(" {\"a\": [1, {\"b\": \"]]]\"}]}\n", 100, 3, &tree, &err), SW_OK);
    assert_non_null(tree);
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(tree, "a");
    assert_true(cJSON_IsArray(a));
    assert_int_equal(cJSON_GetArraySize(a), 2);
    cJSON_Delete(tree);
}

static void
test_parse_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        size_t max_bytes;
        unsigned depth;
        sw_status want;
        const char *msg_part;
    } cases[] = {
        {"", 100, 8, SW_E_PARSE, "empty"},
        {" \n ", 100, 8, SW_E_PARSE, "empty"},
        {"[1,2,3]", 6, 8, SW_E_TOOBIG, "7 bytes, the limit is 6"},
        {"[[[1]]]", 100, 2, SW_E_PARSE, "nested deeper than 2 at offset 2 (line 1, col 3)"},
        {"{\"a\":\n  {\"b\":[]}}", 100, 2, SW_E_PARSE, "offset 13 (line 2, col 8)"},
        {"{\"a\": 1,\n\"b\" 2}", 100, 8, SW_E_PARSE, "syntax error at offset 13 (line 2, col 5)"},
        {"[1] [2]", 100, 8, SW_E_PARSE, "after the value at offset 4 (line 1, col 5)"},
        {"{\"a\":tru}", 100, 8, SW_E_PARSE, "syntax error at offset 5 (line 1, col 6)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *tree = NULL;
        sw_err err = {0};
        sw_status st = parse(cases[i].text, cases[i].max_bytes, cases[i].depth, &tree, &err);
        assert_int_equal(st, cases[i].want);
        assert_int_equal(err.code, st);
        if (strstr(err.msg, cases[i].msg_part) == NULL)
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err.msg, cases[i].msg_part);
        assert_null(tree);
    }
}

static void
test_parse_nul(void **state)
{
    (void)state;
    static const uint8_t text[] = {'[', '1', 0, ']'};
    cJSON *tree = NULL;
    sw_err err = {0};
    assert_int_equal(sw_json_parse(text, sizeof text, 100, 8, &tree, &err), SW_E_PARSE);
    assert_non_null(strstr(err.msg, "NUL byte at offset 2"));
    assert_null(tree);
    /* Escaped in a string (a value or a key): a C string would end there, "api" for
     * "api\u0000evil". An escaped backslash before "u0000" is not an escape of it. */
    static const char *const escaped[] = {"{\"service\": \"api\\u0000evil\"}", "{\"a\\u0000b\": 1}",
                                          "[\"\\u0000\"]"};
    for (size_t i = 0; i < sizeof escaped / sizeof escaped[0]; i++) {
        assert_int_equal(
            sw_json_parse((const uint8_t *)escaped[i], strlen(escaped[i]), 100, 8, &tree, &err),
            SW_E_PARSE);
        assert_non_null(strstr(err.msg, "\\u0000 (NUL) in a string at offset"));
    }
    static const char literal[] = "[\"a\\\\u0000\"]"; /* the text \u0000, not a NUL */
    assert_int_equal(sw_json_parse((const uint8_t *)literal, strlen(literal), 100, 8, &tree, &err),
                     SW_OK);
    assert_string_equal(cJSON_GetArrayItem(tree, 0)->valuestring, "a\\u0000");
    cJSON_Delete(tree);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_string),
        cmocka_unit_test(test_put_string_cap),
        cmocka_unit_test(test_parse_ok),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_parse_nul),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
