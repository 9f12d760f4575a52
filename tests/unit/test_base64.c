/*
 * Unit tests for core/base64.c against the RFC 4648 section 10 test vectors, plus hand-checked
 * vectors for '+', '/' and every byte value, and the errors a decoder must report.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slawatch/base64.h"

static int
setup_buf(void **state)
{
    sw_buf *b = malloc(sizeof *b);
    if (b == NULL)
        return -1;
    sw_buf_init(b, 1 << 20);
    *state = b;
    return 0;
}

static int
teardown_buf(void **state)
{
    sw_buf_fini(*state);
    free(*state);
    return 0;
}

static const struct vector {
    const char *plain;
    size_t plain_len;
    const char *encoded;
} vectors[] = {
    /* RFC 4648, section 10 */
    {"", 0, ""},
    {"f", 1, "Zg=="},
    {"fo", 2, "Zm8="},
    {"foo", 3, "Zm9v"},
    {"foob", 4, "Zm9vYg=="},
    {"fooba", 5, "Zm9vYmE="},
    {"foobar", 6, "Zm9vYmFy"},
    /* 0xfb 0xff = 111110 111111 1111(00): the two non-alphanumeric letters */
    {"\xfb\xff", 2, "+/8="},
    {"\x00\x00\x00", 3, "AAAA"},
    {"\xff\xff\xff", 3, "////"},
};

#define N_VECTORS (sizeof vectors / sizeof vectors[0])

static void
assert_buf_equals(const sw_buf *b, const void *want, size_t len)
{
    assert_int_equal(b->len, len);
    if (len > 0)
        assert_memory_equal(b->data, want, len);
}

static void
test_encoded_len(void **state)
{
    (void)state;
    static const size_t in[] = {0, 1, 2, 3, 4, 5, 6, 7, 300};
    static const size_t out[] = {0, 4, 4, 4, 8, 8, 8, 12, 400};
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++)
        assert_int_equal(sw_base64_encoded_len(in[i]), out[i]);
}

static void
test_encode_vectors(void **state)
{
    sw_buf *b = *state;
    for (size_t i = 0; i < N_VECTORS; i++) {
        sw_buf_reset(b);
        assert_int_equal(
            sw_base64_encode((const uint8_t *)vectors[i].plain, vectors[i].plain_len, b, NULL),
            SW_OK);
        assert_buf_equals(b, vectors[i].encoded, strlen(vectors[i].encoded));
    }
}

static void
test_decode_vectors(void **state)
{
    sw_buf *b = *state;
    for (size_t i = 0; i < N_VECTORS; i++) {
        sw_buf_reset(b);
        assert_int_equal(sw_base64_decode(vectors[i].encoded, strlen(vectors[i].encoded), b, NULL),
                         SW_OK);
        assert_buf_equals(b, vectors[i].plain, vectors[i].plain_len);
    }
}

static void
test_encode_and_decode_append(void **state)
{
    sw_buf *b = *state;
    assert_int_equal(sw_buf_append(b, "<", 1, NULL), SW_OK);
    assert_int_equal(sw_base64_encode((const uint8_t *)"fo", 2, b, NULL), SW_OK);
    assert_int_equal(sw_base64_decode("Zm9v", 4, b, NULL), SW_OK);
    assert_buf_equals(b, "<Zm8=foo", 8);
}

/* Each byte value b sits first in a triple "b 0 0", so its 6+2 bits are easy to predict. */
static void
test_every_byte_value(void **state)
{
    sw_buf *b = *state;
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int v = 0; v < 256; v++) {
        const uint8_t triple[3] = {(uint8_t)v, 0, 0};
        const char want[4] = {alphabet[v >> 2], alphabet[(v & 3) << 4], 'A', 'A'};
        sw_buf_reset(b);
        assert_int_equal(sw_base64_encode(triple, 3, b, NULL), SW_OK);
        assert_buf_equals(b, want, 4);
        sw_buf_reset(b);
        assert_int_equal(sw_base64_decode(want, 4, b, NULL), SW_OK);
        assert_buf_equals(b, triple, 3);
    }
}

static const struct bad_char_case {
    const char *text;
    size_t offset;
} bad_char_cases[] = {
    {"Zm9v!A==", 4},          {"Zm-v", 2},      {"Zm9vYm_y", 6},
    {"Zm9vYmFyZm9v#mFy", 12}, {"Zm9v\nYmF", 4}, {"Zm9v Ym=", 4},
};

static void
test_decode_bad_character(void **state)
{
    sw_buf *b = *state;
    for (size_t i = 0; i < sizeof bad_char_cases / sizeof bad_char_cases[0]; i++) {
        const struct bad_char_case *c = &bad_char_cases[i];
        sw_err err = {0};
        char offset[24];
        snprintf(offset, sizeof offset, "%zu", c->offset);
        print_message("bad character in \"%s\"\n", c->text);
        assert_int_equal(sw_base64_decode(c->text, strlen(c->text), b, &err), SW_E_PARSE);
        assert_int_equal(err.code, SW_E_PARSE);
        assert_non_null(strstr(err.msg, offset));
    }
}

static const char *const bad_shape_cases[] = {
    "Z",        /* length 1 */
    "Zg",       /* length 2: padding missing */
    "Zm9",      /* length 3: padding missing */
    "Zm9vY",    /* length 5 */
    "Zg=",      /* padding cut short */
    "Zm9v=",    /* padding after a full quantum */
    "Z===",     /* three padding characters */
    "====",     /* padding only */
    "=Zg=",     /* padding first */
    "Zg=a",     /* data after padding */
    "Zg==Zm8=", /* padding in the middle */
};

static void
test_decode_bad_length_or_padding(void **state)
{
    sw_buf *b = *state;
    for (size_t i = 0; i < sizeof bad_shape_cases / sizeof bad_shape_cases[0]; i++) {
        sw_err err = {0};
        const char *text = bad_shape_cases[i];
        print_message("bad shape \"%s\"\n", text);
        sw_status st = sw_base64_decode(text, strlen(text), b, &err);
        assert_int_not_equal(st, SW_OK);
        assert_int_equal(err.code, st);
        assert_true(err.msg[0] != '\0');
    }
}

/* The length argument bounds the input: a NUL or text after len is never read. */
static void
test_decode_respects_len(void **state)
{
    sw_buf *b = *state;
    assert_int_equal(sw_base64_decode("Zm9v!!!!", 4, b, NULL), SW_OK);
    assert_buf_equals(b, "foo", 3);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encoded_len),
        cmocka_unit_test_setup_teardown(test_encode_vectors, setup_buf, teardown_buf),
        cmocka_unit_test_setup_teardown(test_decode_vectors, setup_buf, teardown_buf),
        cmocka_unit_test_setup_teardown(test_encode_and_decode_append, setup_buf, teardown_buf),
        cmocka_unit_test_setup_teardown(test_every_byte_value, setup_buf, teardown_buf),
        cmocka_unit_test_setup_teardown(test_decode_bad_character, setup_buf, teardown_buf),
        cmocka_unit_test_setup_teardown(test_decode_bad_length_or_padding, setup_buf, teardown_buf),
        cmocka_unit_test_setup_teardown(test_decode_respects_len, setup_buf, teardown_buf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
