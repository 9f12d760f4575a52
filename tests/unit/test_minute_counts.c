/*
 * Unit tests for core/minute_counts: the encoding byte by byte for a small hour (varints worked
 * out by hand from the LEB128 rule: 300 = 0b10_0101100 -> 0xAC 0x02), round trips of extreme
 * values, and every kind of malformed blob refused with its byte offset.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "slawatch/minute_counts.h"

static void
test_known_bytes(void **state)
{
    (void)state;
    sw_hour_minutes hm = {0};
    hm.m[0] = (sw_minute_count){.stored = true, .has_data = true, .requests = 300, .errors = 1};
    hm.m[2] = (sw_minute_count){.stored = true, .probes = 6, .failures = 128};
    sw_buf out;
    sw_buf_init(&out, 1 << 20);
    assert_int_equal(sw_hour_minutes_encode(&hm, &out, NULL), SW_OK);
    uint8_t want[1 + 60 + 8 + 5];
    size_t n = 0;
    want[n++] = 1;                                           /* format */
    memcpy(want + n, (uint8_t[]){3, 0xAC, 0x02, 1, 0, 0}, 6); /* minute 0: stored, data */
    n += 6;
    want[n++] = 0;                                            /* minute 1: nothing stored */
    memcpy(want + n, (uint8_t[]){1, 0, 0, 6, 0x80, 0x01}, 6); /* minute 2: stored, no data */
    n += 6;
    memset(want + n, 0, 57); /* minutes 3..59 */
    n += 57;
    assert_int_equal(out.len, n);
    assert_memory_equal(out.data, want, n);

    sw_hour_minutes back;
    assert_int_equal(sw_hour_minutes_decode(out.data, out.len, &back, NULL), SW_OK);
    assert_memory_equal(&back, &hm, sizeof hm);
    sw_buf_fini(&out);
}

static void
test_round_trip_extremes(void **state)
{
    (void)state;
    sw_hour_minutes hm = {0};
    for (int k = 0; k < SW_MINUTES_PER_HOUR; k++)
        hm.m[k] = (sw_minute_count){.stored = true, .has_data = k % 2 == 0,
                                    .requests = UINT64_MAX - (uint64_t)k, .errors = UINT64_MAX,
                                    .probes = UINT32_MAX, .failures = (uint32_t)k};
    sw_buf out;
    sw_buf_init(&out, 1 << 20);
    assert_int_equal(sw_hour_minutes_encode(&hm, &out, NULL), SW_OK);
    sw_hour_minutes back;
    assert_int_equal(sw_hour_minutes_decode(out.data, out.len, &back, NULL), SW_OK);
    assert_memory_equal(&back, &hm, sizeof hm);
    sw_buf_fini(&out);
}

static void
expect_bad(const uint8_t *data, size_t len, const char *words)
{
    sw_hour_minutes hm;
    sw_err err = {0};
    assert_int_equal(sw_hour_minutes_decode(data, len, &hm, &err), SW_E_PARSE);
    if (strstr(err.msg, words) == NULL)
        fail_msg("'%s' does not say '%s'", err.msg, words);
}

static void
test_malformed(void **state)
{
    (void)state;
    uint8_t b[64] = {1};
    expect_bad(b, 0, "format -1 at byte 0");
    expect_bad((const uint8_t[]){2}, 1, "format 2 at byte 0");
    expect_bad(b, 30, "truncated at byte 30");   /* 29 of 60 minutes */
    expect_bad(b, 64, "3 bytes left over at byte 61");
    b[5] = 4;
    expect_bad(b, 61, "unknown flags 0x04 at byte 5");
    /* Minute 0 stored, its errors varint cut short by the end of the blob. */
    expect_bad((const uint8_t[]){1, 1, 5, 0x80}, 4, "bad count");
    /* probes above 32 bits: 2^32 = 0x80 0x80 0x80 0x80 0x10 */
    expect_bad((const uint8_t[]){1, 1, 0, 0, 0x80, 0x80, 0x80, 0x80, 0x10, 0}, 10, "bad count");
    /* An 11-byte varint. */
    uint8_t longv[16] = {1, 1};
    memset(longv + 2, 0x80, 10);
    longv[12] = 1;
    expect_bad(longv, 13, "bad count");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_bytes),
        cmocka_unit_test(test_round_trip_extremes),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
