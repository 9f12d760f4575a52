/*
 * Unit tests for core/journal's frames: the CRC-32C in each frame's header is checked against
 * the check values RFC 3720 (iSCSI, appendix B.4) and the CRC catalogue publish, and against a
 * bit-at-a-time division by the Castagnoli polynomial written here, for every length from 0 to
 * 300 at every alignment. And sw_journal_keep_from: a reopened journal replays exactly the
 * frames tagged from the value on, as they were appended, in order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

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

/* What a test appended: payload i is "frame <i>" padded to a length of its own. */
typedef struct written {
    char payload[64][48];
    size_t len[64];
    int64_t tag[64];
    size_t n;
} written;

static void
append(sw_journal *j, written *w, int64_t tag)
{
    size_t i = w->n++;
    int len = snprintf(w->payload[i], sizeof w->payload[i], "frame %zu %.*s", i, (int)(i % 17),
                       "................");
    w->len[i] = (size_t)len;
    w->tag[i] = tag;
    assert_int_equal(sw_journal_append(j, w->payload[i], w->len[i], tag, NULL), SW_OK);
}

typedef struct replayed {
    char payload[64][48];
    size_t len[64];
    size_t n;
} replayed;

static sw_status
collect(void *ctx, const uint8_t *payload, size_t len, sw_err *err)
{
    (void)err;
    replayed *r = ctx;
    assert_true(r->n < 64 && len < 48);
    memcpy(r->payload[r->n], payload, len);
    r->len[r->n++] = len;
    return SW_OK;
}

/* Reopened: the frames replayed are w's tagged from `from` on, in order, as appended. */
static sw_journal *
reopen_expect(sw_journal *j, const char *path, const written *w, int64_t from)
{
    sw_journal_close(j);
    replayed r = {0};
    size_t dropped;
    assert_int_equal(sw_journal_open(path, collect, &r, &dropped, &j, NULL), SW_OK);
    assert_int_equal(dropped, 0);
    size_t k = 0;
    for (size_t i = 0; i < w->n; i++) {
        if (w->tag[i] < from)
            continue;
        assert_true(k < r.n);
        assert_int_equal(r.len[k], w->len[i]);
        assert_memory_equal(r.payload[k], w->payload[i], w->len[i]);
        k++;
    }
    assert_int_equal(k, r.n);
    return j;
}

static void
test_keep_from_keeps_frames_tagged_from_on(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "/tmp/sw-test-journal-%ld", (long)getpid());
    unlink(path);
    sw_journal *j;
    assert_int_equal(sw_journal_open(path, collect, &(replayed){0}, NULL, &j, NULL), SW_OK);
    written w = {0};
    static const int64_t tags[] = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3};
    for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++)
        append(j, &w, tags[i]);
    bool kept;
    assert_int_equal(sw_journal_keep_from(j, 5, &kept, NULL), SW_OK);
    assert_true(kept);
    append(j, &w, 4); /* after a keep: indexed in the new file */
    append(j, &w, 6);
    assert_int_equal(sw_journal_keep_from(j, 6, &kept, NULL), SW_OK);
    assert_true(kept);
    assert_int_equal(sw_journal_sync(j, NULL), SW_OK);
    j = reopen_expect(j, path, &w, 6);
    /* Replayed frames' tags are not known: nothing is kept or dropped. */
    assert_int_equal(sw_journal_keep_from(j, 100, &kept, NULL), SW_OK);
    assert_false(kept);
    j = reopen_expect(j, path, &w, 6);
    /* A replace with tags: known again; without: not. */
    sw_buf frames;
    sw_buf_init(&frames, 1u << 20);
    written v = {0};
    for (size_t i = 0; i < 5; i++) {
        int len = snprintf(v.payload[i], sizeof v.payload[i], "replaced %zu", i);
        v.len[i] = (size_t)len;
        v.tag[i] = (int64_t)i * 10;
        assert_int_equal(sw_journal_frame(&frames, v.payload[i], v.len[i], NULL), SW_OK);
    }
    v.n = 5;
    assert_int_equal(sw_journal_replace(j, frames.data, frames.len, v.tag, NULL), SW_OK);
    append(j, &v, 25);
    assert_int_equal(sw_journal_keep_from(j, 20, &kept, NULL), SW_OK);
    assert_true(kept);
    j = reopen_expect(j, path, &v, 20);
    assert_int_equal(sw_journal_replace(j, frames.data, frames.len, NULL, NULL), SW_OK);
    assert_int_equal(sw_journal_keep_from(j, 20, &kept, NULL), SW_OK);
    assert_false(kept);
    v.n = 5;
    j = reopen_expect(j, path, &v, INT64_MIN);
    sw_buf_fini(&frames);
    sw_journal_close(j);
    unlink(path);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_published_check_values),
        cmocka_unit_test(test_every_length_and_alignment),
        cmocka_unit_test(test_keep_from_keeps_frames_tagged_from_on),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
