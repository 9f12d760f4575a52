/*
 * sw_hdr_decode() on raw bytes (V2/V1/V0, compressed or not). A rejected input must fail
 * cleanly (status and message, nothing leaked). An accepted one must be a consistent
 * histogram: iteration, statistics and percentiles agree with each other; clone, add and
 * subtract behave; and re-encoding (plain, compressed, base64) decodes to the same contents,
 * with a byte-identical re-encoding. sw_hdr_decode_buckets() accepts the same inputs and hands
 * over the same buckets. Any disagreement aborts: it is a bug in core/.
 */
#include "fuzz.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "slawatch/buf.h"
#include "slawatch/err.h"
#include "slawatch/hdr.h"
#include "slawatch/hdr_codec.h"

/* Room to encode the largest decodable histogram: the encoder uses out's spare capacity as
 * scratch, about 2.2 x its raw bound of <= 9 bytes a count (hdr_codec.h); the base64 buffer
 * below is 4/3 of this, covering the text as well. */
#define ENCODE_MAX ((size_t)SW_HDR_DECODE_MAX_COUNTS * 26 + 4096)

/* Per-bucket checks that cost O(counts) each run on this many buckets only. */
#define DEEP_BUCKETS 32

/*
 * The work per input is capped by the size of the decoded histogram: every check after the
 * decode costs whole-array passes (iteration, a dozen percentile scans, two re-encodings and
 * their decodes, clone/add/subtract), and a header may ask for up to 2^23 counts (64 MiB). At
 * that size one input took seconds, so the fuzzer spent its time re-checking a few huge
 * layouts (194 exec/s, 50 times slower than any other target) instead of exploring. Bigger
 * histograms are still decoded whole (allocation, zero runs, totals: the code an attacker
 * reaches) and checked against their configuration; the consistency checks run up to
 * CHECK_BYTES, where every layout shape (digits 1 to 5, lowest values, ranges to INT64_MAX
 * at low digits) still fits.
 */
#define CHECK_BYTES ((size_t)1 << 20)

/* Below this total, percentile answers are exact (no double rounding of the target count). */
#define EXACT_TOTAL (INT64_C(1) << 40)

static volatile double sink;

static uint32_t
load_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static uint64_t
load_be64(const uint8_t *p)
{
    return (uint64_t)load_be32(p) << 32 | load_be32(p + 4);
}

static void
dump_hist(const char *what, const sw_hdr *h)
{
    sw_hdr_config c = sw_hdr_get_config(h);
    fprintf(stderr, "%s: lowest %lld highest %lld digits %d total %lld min %lld max %lld\n", what,
            (long long)c.lowest_discernible_value, (long long)c.highest_trackable_value,
            c.significant_figures, (long long)sw_hdr_total_count(h), (long long)sw_hdr_min(h),
            (long long)sw_hdr_max(h));
}

/* Same configuration and same recorded buckets, compared through the public API only. */
static bool
same_contents(const sw_hdr *a, const sw_hdr *b)
{
    sw_hdr_config ca = sw_hdr_get_config(a), cb = sw_hdr_get_config(b);
    if (ca.lowest_discernible_value != cb.lowest_discernible_value ||
        ca.highest_trackable_value != cb.highest_trackable_value ||
        ca.significant_figures != cb.significant_figures) {
        fprintf(stderr, "configurations differ\n");
        return false;
    }
    if (!sw_hdr_same_layout(a, b)) {
        fprintf(stderr, "same configuration but not the same layout\n");
        return false;
    }
    if (sw_hdr_total_count(a) != sw_hdr_total_count(b) || sw_hdr_min(a) != sw_hdr_min(b) ||
        sw_hdr_max(a) != sw_hdr_max(b)) {
        fprintf(stderr, "total, min or max differ\n");
        return false;
    }
    sw_hdr_iter ia, ib;
    sw_hdr_iter_init(&ia, a);
    sw_hdr_iter_init(&ib, b);
    for (;;) {
        bool more_a = sw_hdr_iter_next(&ia);
        bool more_b = sw_hdr_iter_next(&ib);
        if (more_a != more_b) {
            fprintf(stderr, "one iteration ends first (index %ld vs %ld)\n", (long)ia.index,
                    (long)ib.index);
            return false;
        }
        if (!more_a)
            return true;
        if (ia.index != ib.index || ia.count != ib.count || ia.value_lo != ib.value_lo ||
            ia.value_hi != ib.value_hi || ia.cumulative != ib.cumulative) {
            fprintf(stderr, "bucket differs: index %ld/%ld count %lld/%lld value %lld/%lld\n",
                    (long)ia.index, (long)ib.index, (long long)ia.count, (long long)ib.count,
                    (long long)ia.value_lo, (long long)ib.value_lo);
            return false;
        }
    }
}

static void
check_same(const sw_hdr *a, const sw_hdr *b, const char *how)
{
    if (same_contents(a, b))
        return;
    fprintf(stderr, "mismatch after %s\n", how);
    dump_hist("before", a);
    dump_hist("after", b);
    FUZZ_CHECK(!"contents differ");
}

/*
 * Iteration, min/max/total and bucket arithmetic agree with each other. Returns the highest
 * value equivalent to the top recorded bucket (0 when empty): percentiles never exceed it.
 */
static int64_t
check_iteration(const sw_hdr *h)
{
    int64_t total = sw_hdr_total_count(h);
    int64_t min = sw_hdr_min(h), max = sw_hdr_max(h);
    FUZZ_CHECK(total >= 0);

    sw_hdr_iter it;
    sw_hdr_iter_init(&it, h);
    int64_t cum = 0, prev_lo = 0, prev_hi = -1;
    int32_t prev_index = -1;
    unsigned long n = 0;
    while (sw_hdr_iter_next(&it)) {
        FUZZ_CHECK(it.count > 0);
        FUZZ_CHECK(it.index > prev_index);
        FUZZ_CHECK(it.value_lo > prev_hi);
        FUZZ_CHECK(it.value_lo <= it.value_hi);
        FUZZ_CHECK(it.count <= INT64_MAX - cum); /* a total that overflows must not decode */
        cum += it.count;
        FUZZ_CHECK(it.cumulative == cum);
        FUZZ_CHECK(sw_hdr_lowest_equivalent(h, it.value_lo) == it.value_lo);
        FUZZ_CHECK(sw_hdr_lowest_equivalent(h, it.value_hi) == it.value_lo);
        FUZZ_CHECK(sw_hdr_highest_equivalent(h, it.value_lo) == it.value_hi);
        int64_t mid = sw_hdr_median_equivalent(h, it.value_lo);
        FUZZ_CHECK(mid >= it.value_lo && mid <= it.value_hi);
        if (n == 0)
            FUZZ_CHECK(min == it.value_lo);
        if (n < DEEP_BUCKETS)
            FUZZ_CHECK(sw_hdr_count_at_or_below(h, it.value_lo) == cum);
        prev_index = it.index;
        prev_lo = it.value_lo;
        prev_hi = it.value_hi;
        n++;
    }
    FUZZ_CHECK(cum == total);
    if (total == 0) {
        FUZZ_CHECK(min == 0 && max == 0);
        return 0;
    }
    /* HdrHistogram's getMaxValue(): 0 when the top recorded bucket is the one holding 0. */
    FUZZ_CHECK(max == (prev_lo == 0 ? 0 : prev_hi));
    FUZZ_CHECK(sw_hdr_count_at_or_below(h, max) == total);
    return prev_hi;
}

/*
 * Percentiles are monotonic, within [min, top] (top: the highest value equivalent to the top
 * recorded bucket, which is max except when that bucket holds 0), min at 0 and top at 100.
 */
static void
check_percentiles(const sw_hdr *h, int64_t top, const uint8_t *data, size_t size)
{
    static const double ps[] = {0.0, 1e-9, 1.0, 25.0, 50.0, 75.0, 90.0, 99.0, 99.9, 99.999, 100.0};
    int64_t total = sw_hdr_total_count(h);
    int64_t min = sw_hdr_min(h), max = sw_hdr_max(h);
    int64_t prev = INT64_MIN;
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) {
        int64_t v = sw_hdr_value_at_percentile(h, ps[i]);
        if (total == 0) {
            FUZZ_CHECK(v == 0);
            continue;
        }
        FUZZ_CHECK(v >= prev);
        FUZZ_CHECK(v >= min && v <= top);
        prev = v;
    }
    if (total > 0) {
        FUZZ_CHECK(sw_hdr_value_at_percentile(h, 0.0) == min);
        if (total < EXACT_TOTAL)
            FUZZ_CHECK(sw_hdr_value_at_percentile(h, 100.0) == top);
    }
    /* One more percentile picked by the input, so the fuzzer can steer it. */
    if (size >= 2) {
        double p = (double)((unsigned)data[size - 1] << 8 | data[size - 2]) / 65535.0 * 100.0;
        int64_t v = sw_hdr_value_at_percentile(h, p);
        FUZZ_CHECK(total == 0 ? v == 0 : (v >= min && v <= top));
    }

    /* 100 * count / total: exact below EXACT_TOTAL, within rounding above. */
    double pv = sw_hdr_percentile_of_value(h, max);
    FUZZ_CHECK(pv >= 0.0 && pv <= 100.0 + 1e-9);
    if (total == 0 || total < EXACT_TOTAL)
        FUZZ_CHECK(pv == 100.0);
    pv = sw_hdr_percentile_of_value(h, min);
    FUZZ_CHECK(pv >= 0.0 && pv <= 100.0 + 1e-9);

    double mean = sw_hdr_mean(h), sd = sw_hdr_stddev(h);
    FUZZ_CHECK(!isnan(mean) && !isnan(sd) && sd >= 0.0);
    if (total == 0)
        FUZZ_CHECK(mean == 0.0 && sd == 0.0);
    sink = mean + sd;
}

/* clone == h; clone + h - h == h; subtracting more than is there fails and changes nothing. */
static void
check_arithmetic(const sw_hdr *h)
{
    int64_t total = sw_hdr_total_count(h);
    sw_hdr *c = sw_hdr_clone(h);
    if (c == NULL)
        return; /* out of memory is not a bug */
    check_same(h, c, "sw_hdr_clone");
    FUZZ_CHECK(sw_hdr_memory_size(c) == sw_hdr_memory_size(h));
    FUZZ_CHECK(sw_hdr_overflow_count(c) == sw_hdr_overflow_count(h));

    if (total <= INT64_MAX / 2) {
        sw_hdr_add(c, h);
        FUZZ_CHECK(sw_hdr_total_count(c) == 2 * total);
        sw_err err = {0};
        sw_status st = sw_hdr_subtract(c, h, &err);
        FUZZ_CHECK(st == SW_OK);
        check_same(h, c, "sw_hdr_add then sw_hdr_subtract");
        st = sw_hdr_subtract(c, h, &err);
        FUZZ_CHECK(st == SW_OK);
        FUZZ_CHECK(sw_hdr_total_count(c) == 0);
        FUZZ_CHECK(sw_hdr_min(c) == 0 && sw_hdr_max(c) == 0);
        if (total > 0) {
            memset(&err, 0, sizeof err);
            st = sw_hdr_subtract(c, h, &err);
            FUZZ_CHECK(st == SW_E_RANGE);
            fuzz_check_err(st, &err);
            FUZZ_CHECK(sw_hdr_total_count(c) == 0);
        }
    }
    sw_hdr_reset(c);
    FUZZ_CHECK(sw_hdr_total_count(c) == 0);
    sw_hdr_free(c);
}

/* What the V2 header of a fresh encoding of h must say (format notes, "V2: layout"). */
static void
check_v2_header(const sw_hdr *h, const sw_buf *enc)
{
    sw_hdr_config cfg = sw_hdr_get_config(h);
    FUZZ_CHECK(enc->len >= 40);
    const uint8_t *p = enc->data;
    FUZZ_CHECK(load_be32(p) == SW_HDR_V2_COOKIE);
    FUZZ_CHECK(load_be32(p + 4) == enc->len - 40);
    FUZZ_CHECK(load_be32(p + 8) == 0);
    FUZZ_CHECK(load_be32(p + 12) == (uint32_t)cfg.significant_figures);
    FUZZ_CHECK(load_be64(p + 16) == (uint64_t)cfg.lowest_discernible_value);
    FUZZ_CHECK(load_be64(p + 24) == (uint64_t)cfg.highest_trackable_value);
    double ratio;
    uint64_t bits = load_be64(p + 32);
    memcpy(&ratio, &bits, sizeof ratio);
    FUZZ_CHECK(ratio == 1.0);
}

/* Encode h, decode the encoding, compare; the plain encoding must also be reproducible. */
static void
check_round_trip(const sw_hdr *h, bool compressed)
{
    sw_buf enc;
    sw_buf_init(&enc, ENCODE_MAX);
    sw_err err = {0};
    sw_status st = sw_hdr_encode(h, compressed, &enc, &err);
    if (st == SW_E_NOMEM) {
        sw_buf_fini(&enc);
        return;
    }
    if (st != SW_OK) {
        fprintf(stderr, "sw_hdr_encode(compressed=%d) of a decoded histogram: %s\n", compressed,
                err.msg);
        dump_hist("histogram", h);
        FUZZ_CHECK(st == SW_OK);
    }
    if (compressed) {
        FUZZ_CHECK(enc.len >= 8);
        FUZZ_CHECK(load_be32(enc.data) == SW_HDR_V2_COMPRESSED_COOKIE);
        FUZZ_CHECK(load_be32(enc.data + 4) == enc.len - 8);
    } else {
        check_v2_header(h, &enc);
    }

    sw_hdr *h2 = NULL;
    st = sw_hdr_decode(enc.data, enc.len, &h2, &err);
    if (st != SW_OK) {
        fprintf(stderr, "decoding our own encoding (compressed=%d): %s\n", compressed, err.msg);
        dump_hist("histogram", h);
        FUZZ_CHECK(st == SW_OK);
    }
    FUZZ_CHECK(h2 != NULL);
    check_same(h, h2, compressed ? "compressed V2 round trip" : "V2 round trip");

    if (!compressed) {
        sw_buf enc2;
        sw_buf_init(&enc2, ENCODE_MAX);
        st = sw_hdr_encode(h2, false, &enc2, &err);
        if (st == SW_OK) {
            FUZZ_CHECK(enc2.len == enc.len);
            FUZZ_CHECK(memcmp(enc2.data, enc.data, enc.len) == 0);
        } else {
            FUZZ_CHECK(st == SW_E_NOMEM);
        }
        sw_buf_fini(&enc2);
    }
    sw_hdr_free(h2);
    sw_buf_fini(&enc);
}

/* The .hlog field form: base64 of the compressed encoding, starting "HISTFA". */
static void
check_base64_round_trip(const sw_hdr *h)
{
    sw_buf text;
    sw_buf_init(&text, ENCODE_MAX / 3 * 4 + 8);
    sw_err err = {0};
    sw_status st = sw_hdr_encode_base64(h, &text, &err);
    if (st == SW_E_NOMEM) {
        sw_buf_fini(&text);
        return;
    }
    FUZZ_CHECK(st == SW_OK);
    FUZZ_CHECK(text.len >= 6 && memcmp(text.data, "HISTFA", 6) == 0);

    sw_hdr *h2 = NULL;
    st = sw_hdr_decode_base64((const char *)text.data, text.len, &h2, &err);
    if (st != SW_OK) {
        fprintf(stderr, "decoding our own base64 encoding: %s\n", err.msg);
        FUZZ_CHECK(st == SW_OK);
    }
    check_same(h, h2, "base64 round trip");
    sw_hdr_free(h2);
    sw_buf_fini(&text);
}

/* sw_hdr_decode_buckets() walks the decoded histogram's buckets alongside. */
typedef struct bucket_walk {
    sw_hdr_iter it;
    bool check; /* false: the histogram is too large to compare (only the status is) */
    size_t batches;
} bucket_walk;

static bool
next_buckets(void *ctx, const int64_t *value_lo, const int64_t *count, size_t n)
{
    bucket_walk *w = ctx;
    FUZZ_CHECK(n > 0);
    w->batches++;
    for (size_t i = 0; w->check && i < n; i++) {
        FUZZ_CHECK(sw_hdr_iter_next(&w->it));
        FUZZ_CHECK(w->it.value_lo == value_lo[i] && w->it.count == count[i]);
    }
    return true;
}

/* The bucket decoder accepts exactly what sw_hdr_decode() accepts (h NULL: it refused the
 * input) and hands over the buckets its histogram holds, in order. */
static void
check_buckets(const uint8_t *data, size_t size, const sw_hdr *h)
{
    bucket_walk w = {.check = false};
    if (h != NULL) {
        sw_hdr_config cfg = sw_hdr_get_config(h);
        w.check = sw_hdr_config_memory_size(&cfg) <= CHECK_BYTES;
        sw_hdr_iter_init(&w.it, h);
    }
    sw_err err = {0};
    sw_status st = sw_hdr_decode_buckets(data, size, next_buckets, &w, &err);
    FUZZ_CHECK((st == SW_OK) == (h != NULL));
    if (st != SW_OK) {
        fuzz_check_err(st, &err);
        return;
    }
    FUZZ_CHECK(!w.check || !sw_hdr_iter_next(&w.it));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sw_hdr *h = NULL;
    sw_err err = {0};
    sw_status st = sw_hdr_decode(data, size, &h, &err);
    check_buckets(data, size, st == SW_OK ? h : NULL);
    if (st != SW_OK) {
        fuzz_check_err(st, &err);
        return 0;
    }
    FUZZ_CHECK(h != NULL);

    sw_hdr_config cfg = sw_hdr_get_config(h);
    FUZZ_CHECK(sw_hdr_config_check(&cfg, NULL) == SW_OK);
    /* Bounded memory: compact or dense, never more than the dense layout. */
    FUZZ_CHECK(sw_hdr_memory_size(h) <= sw_hdr_config_memory_size(&cfg));

    if (sw_hdr_config_memory_size(&cfg) <= CHECK_BYTES) {
        int64_t top = check_iteration(h);
        check_percentiles(h, top, data, size);
        check_round_trip(h, false);
        check_round_trip(h, true);
        check_arithmetic(h);
        check_base64_round_trip(h);
    }

    sw_hdr_free(h);
    return 0;
}
