/*
 * Unit tests for core/journal's frames: the CRC-32C in each frame's header is checked against
 * the check values RFC 3720 (iSCSI, appendix B.4) and the CRC catalogue publish, and against a
 * bit-at-a-time division by the Castagnoli polynomial written here, for every length from 0 to
 * 300 at every alignment.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "slawatch/journal.h"

/* The CRC in the header sw_journal_frame writes (length, then CRC, both little-endian). */
static uint32_t
frame_crc(const void *payload, size_t len)
{
    sw_buf out;
    sw_buf_init(&out, 1u << 20);
    sw_err err = {0};
    if (sw_journal_frame(&out, payload, len, &err) != SW_OK)
        fail_msg("frame: %s", err.msg);
    assert_int_equal(out.len, 8 + len);
    assert_memory_equal(out.data + 8, payload, len);
    const uint8_t *h = out.data;
    assert_int_equal(
        (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 24, len);
    uint32_t crc =
        (uint32_t)h[4] | (uint32_t)h[5] << 8 | (uint32_t)h[6] << 16 | (uint32_t)h[7] << 24;
    sw_buf_fini(&out);
    return crc;
}

static void
test_published_check_values(void **state)
{
    (void)state;
    uint8_t b[32];
    assert_int_equal(frame_crc("123456789", 9), 0xE3069283u); /* the catalogue's check */
    memset(b, 0, sizeof b);
    assert_int_equal(frame_crc(b, sizeof b), 0x8A9136AAu); /* RFC 3720 B.4: 32 bytes of 0 */
    memset(b, 0xFF, sizeof b);
    assert_int_equal(frame_crc(b, sizeof b), 0x62A8AB43u); /* 32 bytes of 0xFF */
    for (int i = 0; i < 32; i++)
        b[i] = (uint8_t)i;
    assert_int_equal(frame_crc(b, sizeof b), 0x46DD794Eu); /* 0x00 .. 0x1F */
    for (int i = 0; i < 32; i++)
        b[i] = (uint8_t)(31 - i);
    assert_int_equal(frame_crc(b, sizeof b), 0x113FDB5Cu); /* 0x1F .. 0x00 */
}

/* CRC-32C one bit at a time: the polynomial's definition, no table. */
static uint32_t
crc32c_bitwise(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
    }
    return ~c;
}

static void
test_every_length_and_alignment(void **state)
{
    (void)state;
    static uint8_t data[320];
    uint64_t x = 0x9E3779B97F4A7C15u;
    for (size_t i = 0; i < sizeof data; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        data[i] = (uint8_t)x;
    }
    for (size_t offset = 0; offset < 8; offset++)
        for (size_t len = 0; len <= 300; len++)
            assert_int_equal(frame_crc(data + offset, len), crc32c_bitwise(data + offset, len));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_published_check_values),
        cmocka_unit_test(test_every_length_and_alignment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
