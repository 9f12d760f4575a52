/*
 * Unit tests for sw_buf: appending, formatting, NUL-terminating, and the hard size cap that
 * must fail with SW_E_TOOBIG while keeping what was already there.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "slawatch/buf.h"

static int
setup_buf(void **state)
{
    sw_buf *b = malloc(sizeof *b);
    if (b == NULL)
        return -1;
    sw_buf_init(b, 64);
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

static void
assert_contents(const sw_buf *b, const char *want)
{
    assert_int_equal(b->len, strlen(want));
    if (b->len > 0)
        assert_memory_equal(b->data, want, b->len);
}

static void
test_init_allocates_nothing(void **state)
{
    (void)state;
    sw_buf b;
    sw_buf_init(&b, 100);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.max, 100);
    sw_buf_fini(&b);
}

static void
test_append(void **state)
{
    sw_buf *b = *state;
    static const uint8_t binary[] = {0x00, 0xff, 0x00};
    assert_int_equal(sw_buf_append(b, "abc", 3, NULL), SW_OK);
    assert_int_equal(sw_buf_append(b, "def", 3, NULL), SW_OK);
    assert_int_equal(sw_buf_append(b, "", 0, NULL), SW_OK);
    assert_contents(b, "abcdef");
    assert_int_equal(sw_buf_append(b, binary, sizeof binary, NULL), SW_OK);
    assert_int_equal(b->len, 9);
    assert_memory_equal(b->data + 6, binary, sizeof binary);
    assert_true(b->cap >= b->len);
}

static void
test_printf(void **state)
{
    sw_buf *b = *state;
    assert_int_equal(sw_buf_printf(b, NULL, "%d-%s", 42, "x"), SW_OK);
    assert_int_equal(sw_buf_printf(b, NULL, "|%05.1f|", 2.5), SW_OK);
    assert_int_equal(sw_buf_printf(b, NULL, "%s", ""), SW_OK);
    assert_contents(b, "42-x|002.5|");
}

/* Output longer than any first guess must still come out whole. */
static void
test_printf_long(void **state)
{
    (void)state;
    char text[1001];
    sw_buf b;
    memset(text, 'q', 1000);
    text[1000] = '\0';
    sw_buf_init(&b, 4096);
    assert_int_equal(sw_buf_printf(&b, NULL, "<%s>", text), SW_OK);
    assert_int_equal(b.len, 1002);
    assert_int_equal(b.data[0], '<');
    assert_memory_equal(b.data + 1, text, 1000);
    assert_int_equal(b.data[1001], '>');
    sw_buf_fini(&b);
}

static void
test_cstr(void **state)
{
    sw_buf *b = *state;
    const char *s = sw_buf_cstr(b, NULL);
    assert_non_null(s);
    assert_string_equal(s, "");
    assert_int_equal(sw_buf_append(b, "hello", 5, NULL), SW_OK);
    s = sw_buf_cstr(b, NULL);
    assert_string_equal(s, "hello");
    assert_int_equal(b->len, 5);
    assert_int_equal(sw_buf_append(b, "!", 1, NULL), SW_OK);
    assert_string_equal(sw_buf_cstr(b, NULL), "hello!");
}

/* max caps len; the terminating NUL is not counted, so a full buffer still has a cstr. */
static void
test_cstr_at_cap(void **state)
{
    (void)state;
    sw_buf b;
    sw_buf_init(&b, 3);
    assert_int_equal(sw_buf_append(&b, "abc", 3, NULL), SW_OK);
    const char *s = sw_buf_cstr(&b, NULL);
    assert_non_null(s);
    assert_string_equal(s, "abc");
    assert_int_equal(b.len, 3);
    sw_buf_fini(&b);
}

static const struct cap_case {
    const char *name;
    size_t max;
    const char *first;  /* appended first; must fit */
    const char *second; /* appended next */
    sw_status want;
    const char *after;
} cap_cases[] = {
    {"well within", 10, "abc", "def", SW_OK, "abcdef"},
    {"one byte over", 5, "abc", "def", SW_E_TOOBIG, "abc"},
    {"cap zero", 0, "", "a", SW_E_TOOBIG, ""},
    {"exactly to the cap", 6, "abc", "def", SW_OK, "abcdef"},
    {"first append fills, then one more", 3, "abc", "d", SW_E_TOOBIG, "abc"},
};

static void
check_cap_case(const struct cap_case *c)
{
    sw_buf b;
    sw_err err = {0};
    sw_buf_init(&b, c->max);
    assert_int_equal(sw_buf_append(&b, c->first, strlen(c->first), NULL), SW_OK);
    assert_int_equal(sw_buf_append(&b, c->second, strlen(c->second), &err), c->want);
    assert_contents(&b, c->after);
    if (c->want != SW_OK) {
        assert_int_equal(err.code, c->want);
        assert_true(err.msg[0] != '\0');
        assert_int_equal(sw_buf_append(&b, c->second, strlen(c->second), NULL), c->want);
    }
    sw_buf_fini(&b);
}

static void
test_append_cap(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cap_cases / sizeof cap_cases[0]; i++) {
        print_message("cap case: %s\n", cap_cases[i].name);
        check_cap_case(&cap_cases[i]);
    }
}

static void
test_printf_cap_keeps_contents(void **state)
{
    (void)state;
    sw_buf b;
    sw_err err = {0};
    sw_buf_init(&b, 5);
    assert_int_equal(sw_buf_printf(&b, NULL, "%s", "ab"), SW_OK);
    assert_int_equal(sw_buf_printf(&b, &err, "%d", 1234), SW_E_TOOBIG);
    assert_int_equal(err.code, SW_E_TOOBIG);
    assert_true(err.msg[0] != '\0');
    assert_contents(&b, "ab");
    assert_int_equal(sw_buf_printf(&b, NULL, "%d", 123), SW_OK);
    assert_contents(&b, "ab123");
    sw_buf_fini(&b);
}

static void
test_reserve(void **state)
{
    sw_buf *b = *state;
    sw_err err = {0};
    assert_int_equal(sw_buf_append(b, "xy", 2, NULL), SW_OK);
    assert_int_equal(sw_buf_reserve(b, 40, NULL), SW_OK);
    assert_true(b->cap >= 42);
    assert_contents(b, "xy");
    assert_int_equal(sw_buf_reserve(b, 63, &err), SW_E_TOOBIG);
    assert_int_equal(err.code, SW_E_TOOBIG);
    assert_int_equal(sw_buf_reserve(b, 62, NULL), SW_OK);
    assert_contents(b, "xy");
}

/* len + extra must not wrap around, even with no cap to speak of. */
static void
test_reserve_overflow(void **state)
{
    (void)state;
    sw_buf b;
    sw_buf_init(&b, SIZE_MAX);
    assert_int_equal(sw_buf_append(&b, "abc", 3, NULL), SW_OK);
    assert_int_not_equal(sw_buf_reserve(&b, SIZE_MAX - 1, NULL), SW_OK);
    assert_int_not_equal(sw_buf_append(&b, "abc", SIZE_MAX - 1, NULL), SW_OK);
    assert_contents(&b, "abc");
    sw_buf_fini(&b);
}

static void
test_reset_keeps_allocation(void **state)
{
    sw_buf *b = *state;
    assert_int_equal(sw_buf_append(b, "0123456789", 10, NULL), SW_OK);
    size_t cap = b->cap;
    sw_buf_reset(b);
    assert_int_equal(b->len, 0);
    assert_int_equal(b->cap, cap);
    assert_non_null(b->data);
    assert_int_equal(sw_buf_append(b, "z", 1, NULL), SW_OK);
    assert_contents(b, "z");
}

static void
test_fini_then_reinit(void **state)
{
    (void)state;
    sw_buf b;
    sw_buf_init(&b, 16);
    assert_int_equal(sw_buf_append(&b, "first", 5, NULL), SW_OK);
    sw_buf_fini(&b);
    sw_buf_init(&b, 16);
    assert_int_equal(b.len, 0);
    assert_int_equal(sw_buf_append(&b, "second", 6, NULL), SW_OK);
    assert_contents(&b, "second");
    sw_buf_fini(&b);
}

static void
test_getline(void **state)
{
    (void)state;
    static const char text[] = "ab\n\nc\0d\nlast";
    FILE *f = fmemopen((void *)text, sizeof text - 1, "r");
    assert_non_null(f);
    sw_buf b;
    sw_buf_init(&b, 8);
    bool got = false;
    static const struct {
        const char *bytes;
        size_t len;
    } want[] = {{"ab", 2}, {"", 0}, {"c\0d", 3}, {"last", 4}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        assert_int_equal(sw_buf_getline(&b, f, &got, NULL), SW_OK);
        assert_true(got);
        assert_int_equal(b.len, want[i].len);
        assert_memory_equal(b.data, want[i].bytes, want[i].len);
    }
    assert_int_equal(sw_buf_getline(&b, f, &got, NULL), SW_OK);
    assert_false(got);
    fclose(f);

    /* A line of 9 bytes does not fit a buffer capped at 8; one of 8 does. */
    static const char long_text[] = "12345678\n123456789\n";
    f = fmemopen((void *)long_text, sizeof long_text - 1, "r");
    assert_int_equal(sw_buf_getline(&b, f, &got, NULL), SW_OK);
    assert_int_equal(b.len, 8);
    sw_err err = {0};
    assert_int_equal(sw_buf_getline(&b, f, &got, &err), SW_E_TOOBIG);
    assert_int_equal(err.code, SW_E_TOOBIG);
    assert_true(b.cap <= 9); /* bounded: never grew past the cap */
    fclose(f);
    sw_buf_fini(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_allocates_nothing),
        cmocka_unit_test_setup_teardown(test_append, setup_buf, teardown_buf),
        cmocka_unit_test_setup_teardown(test_printf, setup_buf, teardown_buf),
        cmocka_unit_test(test_printf_long),
        cmocka_unit_test_setup_teardown(test_cstr, setup_buf, teardown_buf),
        cmocka_unit_test(test_cstr_at_cap),
        cmocka_unit_test(test_append_cap),
        cmocka_unit_test(test_printf_cap_keeps_contents),
        cmocka_unit_test_setup_teardown(test_reserve, setup_buf, teardown_buf),
        cmocka_unit_test(test_reserve_overflow),
        cmocka_unit_test_setup_teardown(test_reset_keeps_allocation, setup_buf, teardown_buf),
        cmocka_unit_test(test_fini_then_reinit),
        cmocka_unit_test(test_getline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
