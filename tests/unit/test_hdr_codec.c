/*
 * Unit tests for core/hdr_codec.c. Expected encodings are built byte by byte here from the
 * format notes (big-endian header, ZigZag LEB128 counts with Java's zero runs), compressed
 * with zlib by the test itself; the Java payload's buckets were decoded by hand from the notes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "hdr_assert.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "slawatch/hdr_codec.h"

#define V1_COOKIE_2BYTE UINT32_C(0x1c849321)
#define V1_COOKIE_8BYTE UINT32_C(0x1c849381)
#define V1_COMPRESSED_COOKIE_8BYTE UINT32_C(0x1c849382)
#define V0_COOKIE_8BYTE UINT32_C(0x1c849388)
#define V0_COMPRESSED_COOKIE_8BYTE UINT32_C(0x1c849389)
#define BUF_MAX ((size_t)1 << 26)

/* 32 counts (one bucket of 32 sub-buckets), every index a value <= highest. */
static const sw_hdr_config tiny_config = {1, 31, 1};

/* ---- byte builders ---- */

typedef struct bytes {
    uint8_t data[1024];
    size_t len;
} bytes;

static void
put(bytes *b, const void *p, size_t n)
{
    assert_true(b->len + n <= sizeof b->data);
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void
put_be(bytes *b, uint64_t v, int width)
{
    for (int shift = 8 * (width - 1); shift >= 0; shift -= 8) {
        uint8_t byte = (uint8_t)(v >> shift);
        put(b, &byte, 1);
    }
}

static void
put_be_double(bytes *b, double d)
{
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    put_be(b, bits, 8);
}

/* The 40-byte V1/V2 header: cookie, payload length, offset 0, digits, lowest, highest, 1.0. */
static void
put_header40(bytes *b, uint32_t cookie, int32_t payload_len, const sw_hdr_config *cfg)
{
    put_be(b, cookie, 4);
    put_be(b, (uint32_t)payload_len, 4);
    put_be(b, 0, 4);
    put_be(b, (uint32_t)cfg->significant_figures, 4);
    put_be(b, (uint64_t)cfg->lowest_discernible_value, 8);
    put_be(b, (uint64_t)cfg->highest_trackable_value, 8);
    put_be_double(b, 1.0);
}

static bytes
encoding40(uint32_t cookie, const sw_hdr_config *cfg, const uint8_t *payload, size_t n)
{
    bytes b = {.len = 0};
    put_header40(&b, cookie, (int32_t)n, cfg);
    put(&b, payload, n);
    return b;
}

static bytes
v2(const sw_hdr_config *cfg, const uint8_t *payload, size_t n)
{
    return encoding40(SW_HDR_V2_COOKIE, cfg, payload, n);
}

/* Cookie, zlib length, zlib stream (best compression, as Java writes). */
static bytes
compressed(uint32_t cookie, const bytes *inner)
{
    bytes b = {.len = 0};
    uint8_t z[1024];
    uLongf zlen = sizeof z;
    assert_int_equal(compress2(z, &zlen, inner->data, inner->len, Z_BEST_COMPRESSION), Z_OK);
    put_be(&b, cookie, 4);
    put_be(&b, (uint32_t)zlen, 4);
    put(&b, z, zlen);
    return b;
}

/* V0: cookie, digits, lowest, highest, total count, then 8-byte counts to the end. */
static bytes
v0(const sw_hdr_config *cfg, const int64_t *counts, size_t n)
{
    bytes b = {.len = 0};
    int64_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += counts[i];
    put_be(&b, V0_COOKIE_8BYTE, 4);
    put_be(&b, (uint32_t)cfg->significant_figures, 4);
    put_be(&b, (uint64_t)cfg->lowest_discernible_value, 8);
    put_be(&b, (uint64_t)cfg->highest_trackable_value, 8);
    put_be(&b, (uint64_t)total, 8);
    for (size_t i = 0; i < n; i++)
        put_be(&b, (uint64_t)counts[i], 8);
    return b;
}

static uint32_t
get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- histogram helpers ---- */

typedef struct bucket {
    int64_t value;
    int64_t count;
} bucket;

static sw_hdr *
new_hdr(const sw_hdr_config *cfg)
{
    sw_hdr *h = NULL;
    assert_int_equal(sw_hdr_new(cfg, &h, NULL), SW_OK);
    return h;
}

static sw_hdr *
decode_ok(const bytes *b)
{
    sw_hdr *h = NULL;
    sw_err err = {0};
    sw_status st = sw_hdr_decode(b->data, b->len, &h, &err);
    if (st != SW_OK)
        fail_msg("decode: %s: %s", sw_err_str(st), err.msg);
    assert_non_null(h);
    return h;
}

static void
assert_buckets(const sw_hdr *h, const bucket *want, size_t n)
{
    sw_hdr_iter it;
    size_t i = 0;
    int64_t total = 0;
    sw_hdr_iter_init(&it, h);
    while (sw_hdr_iter_next(&it)) {
        assert_true(i < n);
        assert_int_equal(it.value_lo, want[i].value);
        assert_int_equal(it.count, want[i].count);
        total += want[i].count;
        i++;
    }
    assert_int_equal(i, n);
    assert_int_equal(sw_hdr_total_count(h), total);
}

static void
assert_config(const sw_hdr *h, const sw_hdr_config *want)
{
    sw_hdr_config got = sw_hdr_get_config(h);
    assert_int_equal(got.lowest_discernible_value, want->lowest_discernible_value);
    assert_int_equal(got.highest_trackable_value, want->highest_trackable_value);
    assert_int_equal(got.significant_figures, want->significant_figures);
}

static void
assert_same_histogram(const sw_hdr *a, const sw_hdr *b)
{
    sw_hdr_config ca = sw_hdr_get_config(a);
    assert_config(b, &ca);
    assert_same_buckets(a, b);
    assert_int_equal(sw_hdr_min(a), sw_hdr_min(b));
    assert_int_equal(sw_hdr_max(a), sw_hdr_max(b));
}

/* ---- fixture: an output buffer ---- */

static int
setup_buf(void **state)
{
    sw_buf *b = malloc(sizeof *b);
    if (b == NULL)
        return -1;
    sw_buf_init(b, BUF_MAX);
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

/* ---- encoding against hand-computed bytes ---- */

#define BIG_COUNT (INT64_C(1) << 62)

static const struct encode_case {
    const char *name;
    bucket records[3];
    size_t n_records;
    uint8_t payload[12];
    size_t payload_len;
} encode_cases[] = {
    {"count 1 at index 0", {{0, 1}}, 1, {0x02}, 1},
    {"lone zero is 0", {{1, 1}}, 1, {0x00, 0x02}, 2},
    {"two zeros are -2", {{2, 1}}, 1, {0x03, 0x02}, 2},
    {"nine zeros then 1", {{9, 1}}, 1, {0x11, 0x02}, 2},
    {"ten zeros then 1", {{10, 1}}, 1, {0x13, 0x02}, 2},
    {"mixed",
     {{1, 1}, {3, 300}, {3000, 1}},
     3,
     {0x00, 0x02, 0x00, 0xd8, 0x04, 0xaf, 0x27, 0x02},
     8},
    {"nine-byte varint",
     {{0, BIG_COUNT}},
     1,
     {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80},
     9},
};

static sw_hdr *
histogram_of(const struct encode_case *c)
{
    sw_hdr *h = new_hdr(&sw_hdr_latency_config);
    for (size_t i = 0; i < c->n_records; i++)
        assert_true(sw_hdr_record_n(h, c->records[i].value, c->records[i].count));
    return h;
}

static void
check_compressed_form(const sw_buf *out, const bytes *want)
{
    uint8_t inflated[1024];
    uLongf inflated_len = sizeof inflated;
    assert_true(out->len > 10);
    assert_int_equal(get_be32(out->data), SW_HDR_V2_COMPRESSED_COOKIE);
    assert_int_equal(get_be32(out->data + 4), out->len - 8);
    assert_int_equal(out->data[8] & 0x0f, 8); /* zlib: deflate */
    assert_int_equal((out->data[8] * 256 + out->data[9]) % 31, 0);
    assert_int_equal(uncompress(inflated, &inflated_len, out->data + 8, out->len - 8), Z_OK);
    assert_int_equal(inflated_len, want->len);
    assert_memory_equal(inflated, want->data, want->len);
}

static void
test_encode_hand_computed(void **state)
{
    sw_buf *out = *state;
    for (size_t i = 0; i < sizeof encode_cases / sizeof encode_cases[0]; i++) {
        const struct encode_case *c = &encode_cases[i];
        bytes want = v2(&sw_hdr_latency_config, c->payload, c->payload_len);
        sw_hdr *h = histogram_of(c);
        print_message("encode case: %s\n", c->name);
        sw_buf_reset(out);
        assert_int_equal(sw_hdr_encode(h, false, out, NULL), SW_OK);
        assert_int_equal(out->len, want.len);
        assert_memory_equal(out->data, want.data, want.len);
        sw_buf_reset(out);
        assert_int_equal(sw_hdr_encode(h, true, out, NULL), SW_OK);
        check_compressed_form(out, &want);
        sw_hdr_free(h);
    }
}

static void
test_encode_header_fields(void **state)
{
    sw_buf *out = *state;
    const sw_hdr_config cfg = {1000, INT64_C(10000000000), 2};
    static const uint8_t prefix[] = {'x', 'y'};
    sw_hdr *h = new_hdr(&cfg);
    bytes want = {.len = 0};
    assert_true(sw_hdr_record(h, 5000000));
    assert_int_equal(sw_buf_append(out, prefix, sizeof prefix, NULL), SW_OK);
    assert_int_equal(sw_hdr_encode(h, false, out, NULL), SW_OK);
    assert_true(out->len > 2 + 40);
    assert_memory_equal(out->data, prefix, sizeof prefix); /* appended, not replaced */
    put_header40(&want, SW_HDR_V2_COOKIE, (int32_t)(out->len - 2 - 40), &cfg);
    assert_memory_equal(out->data + 2, want.data, 40);
    sw_hdr_free(h);
}

/* ---- decoding hand-built encodings ---- */

static const struct decode_case {
    const char *name;
    const sw_hdr_config *cfg;
    uint8_t payload[12];
    size_t payload_len;
    bucket want[3];
    size_t n_want;
} decode_cases[] = {
    {"lone zero as 0 (Java)", &tiny_config, {0x00, 0x02}, 2, {{1, 1}}, 1},
    {"lone zero as -1 (C)", &tiny_config, {0x01, 0x02}, 2, {{1, 1}}, 1},
    {"run to the last index", &tiny_config, {0x3d, 0x02}, 2, {{31, 1}}, 1},
    {"run over the whole array", &tiny_config, {0x3f}, 1, {{0, 0}}, 0},
    {"two-byte count", &tiny_config, {0xd8, 0x04}, 2, {{0, 300}}, 1},
    {"ninth varint byte carries 8 bits",
     &tiny_config,
     {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00},
     10,
     {{0, BIG_COUNT}},
     1},
    {"empty payload", &tiny_config, {0}, 0, {{0, 0}}, 0},
    {"one zero count", &tiny_config, {0x00}, 1, {{0, 0}}, 0},
    {"mixed",
     &sw_hdr_latency_config,
     {0x00, 0x02, 0x00, 0xd8, 0x04, 0xaf, 0x27, 0x02},
     8,
     {{1, 1}, {3, 300}, {3000, 1}},
     3},
};

static void
check_decode_case(const struct decode_case *c, const bytes *encoded)
{
    sw_hdr *h = decode_ok(encoded);
    assert_config(h, c->cfg);
    assert_buckets(h, c->want, c->n_want);
    sw_hdr_free(h);
}

static void
test_decode_v2_hand_built(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof decode_cases / sizeof decode_cases[0]; i++) {
        const struct decode_case *c = &decode_cases[i];
        bytes plain = v2(c->cfg, c->payload, c->payload_len);
        bytes packed = compressed(SW_HDR_V2_COMPRESSED_COOKIE, &plain);
        print_message("decode case: %s\n", c->name);
        check_decode_case(c, &plain);
        check_decode_case(c, &packed);
    }
}

static void
test_decode_v1(void **state)
{
    (void)state;
    static const uint8_t words2[] = {0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c};
    static const bucket want2[] = {{1, 1}, {3, 300}};
    static const bucket want8[] = {{2, 5}, {31, 7}};
    bytes plain = encoding40(V1_COOKIE_2BYTE, &tiny_config, words2, sizeof words2);
    sw_hdr *h = decode_ok(&plain);
    assert_config(h, &tiny_config);
    assert_buckets(h, want2, 2);
    sw_hdr_free(h);

    bytes words8 = {.len = 0};
    for (int i = 0; i < 32; i++)
        put_be(&words8, i == 2 ? 5 : i == 31 ? 7 : 0, 8);
    plain = encoding40(V1_COOKIE_8BYTE, &sw_hdr_latency_config, words8.data, words8.len);
    bytes packed = compressed(V1_COMPRESSED_COOKIE_8BYTE, &plain);
    h = decode_ok(&packed);
    assert_config(h, &sw_hdr_latency_config);
    assert_buckets(h, want8, 2);
    sw_hdr_free(h);
}

static void
test_decode_v0(void **state)
{
    (void)state;
    static const int64_t counts[] = {0, 2, 0, 0, 5};
    static const bucket want[] = {{1, 2}, {4, 5}};
    bytes plain = v0(&tiny_config, counts, 5);
    bytes packed = compressed(V0_COMPRESSED_COOKIE_8BYTE, &plain);
    sw_hdr *h = decode_ok(&plain);
    assert_config(h, &tiny_config);
    assert_buckets(h, want, 2);
    sw_hdr_free(h);
    h = decode_ok(&packed);
    assert_buckets(h, want, 2);
    sw_hdr_free(h);
}

/* digits 5, highest INT64_MAX: 47 * 2^17 counts, the largest legal layout, under the cap. */
static void
test_decode_largest_layout(void **state)
{
    (void)state;
    static const uint8_t payload[] = {0x02};
    static const bucket want[] = {{0, 1}};
    const sw_hdr_config cfg = {1, INT64_MAX, 5};
    bytes plain = v2(&cfg, payload, sizeof payload);
    sw_hdr *h = decode_ok(&plain);
    assert_config(h, &cfg);
    assert_buckets(h, want, 1);
    sw_hdr_free(h);
}

/* ---- every decoding error path ---- */

static bytes
tiny_v2(const uint8_t *payload, size_t n)
{
    return v2(&tiny_config, payload, n);
}

static const uint8_t one_count[] = {0x02};

static bytes
bad_empty(void)
{
    bytes b = {.len = 0};
    return b;
}

static bytes
bad_truncated_header(void)
{
    bytes b = tiny_v2(one_count, 1);
    b.len = 39;
    return b;
}

static bytes
bad_truncated_compressed_header(void)
{
    bytes b = {.len = 0};
    put_be(&b, SW_HDR_V2_COMPRESSED_COOKIE, 4);
    put_be(&b, 0, 2);
    return b;
}

static bytes
bad_cookie(void)
{
    bytes b = tiny_v2(one_count, 1);
    memcpy(b.data, "\x12\x34\x56\x78", 4);
    return b;
}

static bytes
bad_double_histogram_cookie(void)
{
    bytes b = tiny_v2(one_count, 1);
    memcpy(b.data, "\x0c\x72\x12\x4f", 4);
    return b;
}

static bytes
bad_compressed_length_past_data(void)
{
    bytes inner = tiny_v2(one_count, 1);
    bytes b = compressed(SW_HDR_V2_COMPRESSED_COOKIE, &inner);
    b.data[7]++;
    return b;
}

static bytes
bad_compressed_length_negative(void)
{
    bytes inner = tiny_v2(one_count, 1);
    bytes b = compressed(SW_HDR_V2_COMPRESSED_COOKIE, &inner);
    memcpy(b.data + 4, "\xff\xff\xff\xf0", 4);
    return b;
}

static bytes
bad_zlib_checksum(void)
{
    bytes inner = tiny_v2(one_count, 1);
    bytes b = compressed(SW_HDR_V2_COMPRESSED_COOKIE, &inner);
    b.data[b.len - 1] ^= 0xff;
    return b;
}

static bytes
bad_zlib_garbage(void)
{
    bytes b = {.len = 0};
    put_be(&b, SW_HDR_V2_COMPRESSED_COOKIE, 4);
    put_be(&b, 4, 4);
    put(&b, "\x00\x01\x02\x03", 4);
    return b;
}

static bytes
bad_nested_compression(void)
{
    bytes inner = tiny_v2(one_count, 1);
    bytes once = compressed(SW_HDR_V2_COMPRESSED_COOKIE, &inner);
    return compressed(SW_HDR_V2_COMPRESSED_COOKIE, &once);
}

static bytes
bad_payload_length_past_data(void)
{
    bytes b = {.len = 0};
    put_header40(&b, SW_HDR_V2_COOKIE, 3, &tiny_config);
    put(&b, one_count, 1);
    return b;
}

static bytes
bad_payload_length_negative(void)
{
    bytes b = {.len = 0};
    put_header40(&b, SW_HDR_V2_COOKIE, -1, &tiny_config);
    put(&b, one_count, 1);
    return b;
}

static bytes
bad_truncated_varint(void)
{
    return tiny_v2((const uint8_t *)"\x80", 1);
}

static bytes
bad_truncated_nine_byte_varint(void)
{
    return tiny_v2((const uint8_t *)"\x80\x80\x80\x80\x80\x80\x80\x80", 8);
}

/* ff x9 is ZigZag for INT64_MIN, a run of 2^63 zeros, whatever follows. */
static bytes
bad_ten_varint_bytes(void)
{
    return tiny_v2((const uint8_t *)"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 10);
}

static bytes
bad_run_past_array(void)
{
    return tiny_v2((const uint8_t *)"\x41", 1); /* -33 */
}

static bytes
bad_run_of_2_31(void)
{
    static const uint8_t run[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x02}; /* -2^31, 1 */
    return v2(&sw_hdr_latency_config, run, sizeof run);
}

static bytes
bad_leftover_after_run(void)
{
    return tiny_v2((const uint8_t *)"\x3f\x02", 2); /* -32 fills the array, then a count */
}

static bytes
bad_leftover_after_counts(void)
{
    uint8_t counts[33];
    memset(counts, 0x02, sizeof counts);
    return tiny_v2(counts, sizeof counts);
}

static bytes
bad_total_overflow(void)
{
    uint8_t two_big[18];
    memset(two_big, 0x80, sizeof two_big); /* two counts of 2^62 */
    return tiny_v2(two_big, sizeof two_big);
}

static bytes
bad_config(int64_t lowest, int64_t highest, int digits)
{
    const sw_hdr_config cfg = {lowest, highest, digits};
    return v2(&cfg, one_count, 1);
}

static bytes
bad_digits_0(void)
{
    return bad_config(1, 1000, 0);
}

static bytes
bad_digits_6(void)
{
    return bad_config(1, 1000, 6);
}

static bytes
bad_lowest_0(void)
{
    return bad_config(0, 1000, 3);
}

static bytes
bad_lowest_negative(void)
{
    return bad_config(-1, 1000, 3);
}

static bytes
bad_highest_below_twice_lowest(void)
{
    return bad_config(100, 199, 3);
}

static bytes
bad_range_beyond_int64(void)
{
    return bad_config(INT64_C(1) << 50, INT64_MAX, 5);
}

static bytes
bad_v1_negative_count(void)
{
    return encoding40(V1_COOKIE_2BYTE, &tiny_config, (const uint8_t *)"\x00\x01\xff\xff", 4);
}

static bytes
bad_v1_counts_past_array(void)
{
    bytes words = {.len = 0};
    for (int i = 0; i < 33; i++)
        put_be(&words, 1, 2);
    return encoding40(V1_COOKIE_2BYTE, &tiny_config, words.data, words.len);
}

static bytes
bad_v0_negative_count(void)
{
    static const int64_t counts[] = {3, -1};
    return v0(&tiny_config, counts, 2);
}

static bytes
bad_v0_truncated_header(void)
{
    static const int64_t counts[] = {3};
    bytes b = v0(&tiny_config, counts, 1);
    b.len = 20;
    return b;
}

static const struct bad_case {
    const char *name;
    bytes (*build)(void);
} bad_cases[] = {
    {"empty input", bad_empty},
    {"truncated header", bad_truncated_header},
    {"truncated compressed header", bad_truncated_compressed_header},
    {"bad cookie", bad_cookie},
    {"DoubleHistogram cookie", bad_double_histogram_cookie},
    {"compressed length past data", bad_compressed_length_past_data},
    {"negative compressed length", bad_compressed_length_negative},
    {"corrupt zlib checksum", bad_zlib_checksum},
    {"zlib garbage", bad_zlib_garbage},
    {"compressed inside compressed", bad_nested_compression},
    {"payload length past data", bad_payload_length_past_data},
    {"negative payload length", bad_payload_length_negative},
    {"truncated varint", bad_truncated_varint},
    {"truncated nine-byte varint", bad_truncated_nine_byte_varint},
    {"ten varint bytes", bad_ten_varint_bytes},
    {"zero run past the array", bad_run_past_array},
    {"zero run of 2^31", bad_run_of_2_31},
    {"payload left after a run filled the array", bad_leftover_after_run},
    {"payload left after 32 counts", bad_leftover_after_counts},
    {"total count overflows int64", bad_total_overflow},
    {"digits 0", bad_digits_0},
    {"digits 6", bad_digits_6},
    {"lowest 0", bad_lowest_0},
    {"lowest negative", bad_lowest_negative},
    {"highest below 2 * lowest", bad_highest_below_twice_lowest},
    {"sub-bucket range beyond 2^63", bad_range_beyond_int64},
    {"V1 negative count", bad_v1_negative_count},
    {"V1 counts past the array", bad_v1_counts_past_array},
    {"V0 negative count", bad_v0_negative_count},
    {"V0 truncated header", bad_v0_truncated_header},
};

static void
check_bad_case(const struct bad_case *c)
{
    bytes b = c->build();
    sw_err err = {0};
    char marker;
    sw_hdr *sentinel = (sw_hdr *)&marker;
    sw_hdr *h = sentinel;
    sw_status st = sw_hdr_decode(b.data, b.len, &h, &err);
    if (st == SW_OK)
        fail_msg("%s: decoded", c->name);
    assert_ptr_equal(h, sentinel);
    if (err.msg[0] == '\0')
        fail_msg("%s: empty message", c->name);
    assert_int_equal(sw_hdr_decode(b.data, b.len, &h, NULL), st);
    assert_ptr_equal(h, sentinel);
}

static void
test_decode_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        print_message("bad case: %s\n", bad_cases[i].name);
        check_bad_case(&bad_cases[i]);
    }
}

/* The sw_err filled in carries the status the call returned. */
static void
test_decode_error_code_matches_status(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        bytes b = bad_cases[i].build();
        sw_err err = {0};
        sw_hdr *h = NULL;
        sw_status st = sw_hdr_decode(b.data, b.len, &h, &err);
        if (err.code != st)
            fail_msg("%s: returned %s, err.code %s (%s)", bad_cases[i].name, sw_err_str(st),
                     sw_err_str(err.code), err.msg);
    }
}

/* ---- round trips ---- */

static uint64_t
splitmix64(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static sw_hdr *
random_histogram(const sw_hdr_config *cfg, uint64_t seed, int64_t range)
{
    sw_hdr *h = new_hdr(cfg);
    for (int i = 0; i < 20000; i++) {
        /* squaring a uniform fraction skews toward small values, like latencies */
        double u = (double)(splitmix64(&seed) >> 11) * 0x1.0p-53;
        assert_true(sw_hdr_record(h, (int64_t)(u * u * (double)range)));
    }
    assert_true(sw_hdr_record_n(h, range, 1000000));
    return h;
}

static void
check_round_trip(sw_buf *out, const sw_hdr *h, bool compress)
{
    sw_hdr *back = NULL;
    sw_err err = {0};
    sw_buf_reset(out);
    assert_int_equal(sw_hdr_encode(h, compress, out, &err), SW_OK);
    assert_int_equal(sw_hdr_decode(out->data, out->len, &back, &err), SW_OK);
    assert_same_histogram(h, back);
    sw_hdr_free(back);
}

static void
test_round_trip(void **state)
{
    sw_buf *out = *state;
    const sw_hdr_config coarse = {1000, INT64_C(10000000000), 2};
    sw_hdr *hists[] = {
        random_histogram(&sw_hdr_latency_config, 1, SW_HDR_LATENCY_HIGHEST_US),
        random_histogram(&coarse, 2, coarse.highest_trackable_value),
        random_histogram(&tiny_config, 3, tiny_config.highest_trackable_value),
        new_hdr(&sw_hdr_latency_config),
    };
    for (size_t i = 0; i < sizeof hists / sizeof hists[0]; i++) {
        check_round_trip(out, hists[i], false);
        check_round_trip(out, hists[i], true);
        sw_hdr_free(hists[i]);
    }
}

/* ---- base64 wrapper ---- */

/* An interval of jHiccup 2.0.7 (HdrHistogram_c tests), written by Java HdrHistogram. */
static const char java_histogram[] =
    "HISTFAAAAEV42pNpmSzMwMCgyAABTBDKT4GBgdnNYMcCBvsPEBEJISEuATEZMQ4uA"
    "SkhIR4nrxg9v2lMaxhvMekILGZkKmcCAEf2CsI=";

static const bucket java_buckets[] = {
    {0, 12},      {16384, 9},   {32768, 9},    {49152, 5},   {65536, 8},    {81920, 11},
    {98304, 14},  {114688, 11}, {131072, 4},   {147456, 5},  {163840, 8},   {180224, 13},
    {196608, 9},  {212992, 9},  {229376, 6},   {245760, 33}, {262144, 37},  {278528, 46},
    {294912, 23}, {311296, 39}, {327680, 139}, {344064, 86}, {360448, 173}, {376832, 22},
    {393216, 8},  {1753088, 1}, {2752512, 1},
};

static void
test_decode_java_base64(void **state)
{
    (void)state;
    const sw_hdr_config cfg = {20000, INT64_C(3600000000000), 2};
    sw_hdr *h = NULL;
    sw_err err = {0};
    assert_int_equal(sw_hdr_decode_base64(java_histogram, strlen(java_histogram), &h, &err), SW_OK);
    assert_config(h, &cfg);
    assert_buckets(h, java_buckets, sizeof java_buckets / sizeof java_buckets[0]);
    assert_int_equal(sw_hdr_total_count(h), 741);
    assert_int_equal(sw_hdr_max(h), 2768895); /* the log's max column: 2.769 ms */
    sw_hdr_free(h);
}

static void
test_base64_round_trip(void **state)
{
    sw_buf *out = *state;
    sw_hdr *h = random_histogram(&sw_hdr_latency_config, 9, 5000000);
    sw_hdr *back = NULL;
    sw_err err = {0};
    assert_int_equal(sw_hdr_encode_base64(h, out, &err), SW_OK);
    assert_true(out->len > 6 && out->len % 4 == 0);
    assert_memory_equal(out->data, "HISTFA", 6);
    assert_int_equal(sw_hdr_decode_base64((const char *)out->data, out->len, &back, &err), SW_OK);
    assert_same_histogram(h, back);
    sw_hdr_free(back);
    sw_hdr_free(h);
}

static void
test_decode_base64_errors(void **state)
{
    (void)state;
    static const char *const texts[] = {"", "HISTFA*A", "HISTFAAAAEJ42pNpmSzMwMCgwAABT", "AAAA"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        sw_err err = {0};
        char marker;
        sw_hdr *sentinel = (sw_hdr *)&marker;
        sw_hdr *h = sentinel;
        assert_int_not_equal(sw_hdr_decode_base64(texts[i], strlen(texts[i]), &h, &err), SW_OK);
        assert_ptr_equal(h, sentinel);
        assert_true(err.msg[0] != '\0');
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_encode_hand_computed, setup_buf, teardown_buf),
        cmocka_unit_test_setup_teardown(test_encode_header_fields, setup_buf, teardown_buf),
        cmocka_unit_test(test_decode_v2_hand_built),
        cmocka_unit_test(test_decode_v1),
        cmocka_unit_test(test_decode_v0),
        cmocka_unit_test(test_decode_largest_layout),
        cmocka_unit_test(test_decode_errors),
        cmocka_unit_test(test_decode_error_code_matches_status),
        cmocka_unit_test_setup_teardown(test_round_trip, setup_buf, teardown_buf),
        cmocka_unit_test(test_decode_java_base64),
        cmocka_unit_test_setup_teardown(test_base64_round_trip, setup_buf, teardown_buf),
        cmocka_unit_test(test_decode_base64_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
