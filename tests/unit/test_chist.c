/*
 * The evaluator's packed interval histograms (evaluator/chist.c): whatever a histogram holds,
 * unpacking its packed form (sw_chist_pack from the histogram, sw_chist_decode from its V2
 * encoding) into an empty histogram gives back every bucket and count the histogram recorded,
 * in the latency layout (gaps written in bucket widths) and in finer and coarser layouts (a
 * finer one falls back on plain gaps); the thresholds' counts of the decode equal those counted
 * here from the recorded values. And the packing is as small as the widths make it: a 10 s
 * interval of 250 log-normal latencies takes at most 2.5 bytes a bucket (plain gaps in
 * microseconds took about 3), and at most 1.25 with counts of 1 written as nothing (a gap and a
 * count token a bucket took about 2). The tokens' edges (gaps of 63 and 64 widths, one and two
 * bytes; counts of 1, 2, 65, 66, of many bytes) read back up, down and into a histogram.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "slawatch/buf.h"
#include "slawatch/hdr.h"
#include "slawatch/hdr_codec.h"
#include "slawatch/rng.h"

#include "eval_int.h"
#include "hdr_assert.h"

/* The histogram's packed forms, each unpacked into a histogram of its layout, equal it. */
static void
assert_packs_exactly(const sw_hdr *h, const sw_hdr_config *cfg)
{
    sw_err err = {0};
    sw_buf buf, enc;
    sw_buf_init(&buf, SIZE_MAX);
    sw_buf_init(&enc, SIZE_MAX);
    sw_chist *packed, *decoded;
    assert_int_equal(sw_chist_pack(h, &buf, &packed, &err), SW_OK);
    assert_int_equal(sw_hdr_encode(h, false, &enc, &err), SW_OK);
    assert_int_equal(sw_chist_decode(enc.data, enc.len, NULL, 0, NULL, &buf, &decoded, &err),
                     SW_OK);
    const sw_chist *forms[] = {packed, decoded};
    for (int i = 0; i < 2; i++) {
        sw_hdr *back;
        assert_int_equal(sw_hdr_new(cfg, &back, &err), SW_OK);
        sw_chist_add_to(back, forms[i]);
        assert_same_buckets(back, h);
        assert_int_equal(sw_chist_total(forms[i]), sw_hdr_total_count(h));
        assert_int_equal(sw_chist_buckets(forms[i]), sw_hdr_recorded_buckets(h));
        sw_hdr_free(back);
    }
    sw_chist_free(packed);
    sw_chist_free(decoded);
    sw_buf_fini(&buf);
    sw_buf_fini(&enc);
}

static sw_hdr *
histogram(const sw_hdr_config *cfg)
{
    sw_err err = {0};
    sw_hdr *h;
    assert_int_equal(sw_hdr_new(cfg, &h, &err), SW_OK);
    return h;
}

static void
test_lognormal_intervals_in_the_latency_layout(void **state)
{
    (void)state;
    sw_rng rng = {42};
    for (int round = 0; round < 50; round++) {
        sw_hdr *h = histogram(&sw_hdr_latency_config);
        double sigma = 0.2 + 0.1 * (round % 20);
        int values = 1 + (round * 97) % 5000;
        for (int i = 0; i < values; i++)
            sw_hdr_record(h, sw_rng_lognormal_us(&rng, 80000, sigma));
        assert_packs_exactly(h, &sw_hdr_latency_config);
        sw_hdr_free(h);
    }
}

/* Bucket edges: every value from 0 to past the first sub-buckets, the layout's extremes, and
 * single values on each power of two (the width doubles there). */
static void
test_edges_of_the_latency_layout(void **state)
{
    (void)state;
    sw_hdr *h = histogram(&sw_hdr_latency_config);
    for (int64_t v = 0; v < 5000; v++)
        sw_hdr_record_n(h, v, v % 7 + 1);
    for (int b = 12; b < 62; b++) {
        int64_t p = INT64_C(1) << b;
        if (p > sw_hdr_latency_config.highest_trackable_value)
            break;
        sw_hdr_record(h, p - 1);
        sw_hdr_record(h, p);
        sw_hdr_record(h, p + 1);
    }
    sw_hdr_record(h, sw_hdr_latency_config.highest_trackable_value);
    sw_hdr_record_n(h, 123456789, INT64_C(1) << 40); /* a count of six bytes */
    assert_packs_exactly(h, &sw_hdr_latency_config);
    sw_hdr_free(h);
}

/* Layouts other than the latency one: finer (4 and 5 digits: some gaps are not whole widths of
 * the latency layout's buckets) and coarser (2 digits, a lowest value of 1,000). */
static void
test_other_layouts(void **state)
{
    (void)state;
    const sw_hdr_config cfgs[] = {
        {1, INT64_C(3600000000), 4},
        {1, INT64_C(3600000000), 5},
        {1, INT64_C(3600000000), 2},
        {1000, INT64_C(3600000000000), 3},
    };
    sw_rng rng = {7};
    for (size_t k = 0; k < sizeof cfgs / sizeof cfgs[0]; k++) {
        sw_hdr *h = histogram(&cfgs[k]);
        for (int i = 0; i < 3000; i++)
            sw_hdr_record(h, sw_rng_lognormal_us(&rng, 80000 * (k == 3 ? 1000 : 1), 1.0));
        for (int64_t v = 2040; v < 2100; v++)
            sw_hdr_record(h, v * (k == 3 ? 1000 : 1));
        assert_packs_exactly(h, &cfgs[k]);
        sw_hdr_free(h);
    }
}

/* The thresholds' counts of a decode, from the recorded values themselves. */
static void
test_decode_counts_below_thresholds(void **state)
{
    (void)state;
    sw_err err = {0};
    sw_rng rng = {3};
    sw_hdr *h = histogram(&sw_hdr_latency_config);
    const int64_t thresholds[] = {50000, 100000, 500000};
    int64_t expected[3] = {0};
    for (int i = 0; i < 2000; i++) {
        int64_t v = sw_rng_lognormal_us(&rng, 80000, 0.8);
        sw_hdr_record(h, v);
        /* A value counts where its bucket's lowest value is at or below the threshold. */
        for (int k = 0; k < 3; k++)
            expected[k] += sw_hdr_lowest_equivalent(h, v) <= thresholds[k];
    }
    sw_buf buf, enc;
    sw_buf_init(&buf, SIZE_MAX);
    sw_buf_init(&enc, SIZE_MAX);
    assert_int_equal(sw_hdr_encode(h, false, &enc, &err), SW_OK);
    int64_t below[3];
    sw_chist *c;
    assert_int_equal(sw_chist_decode(enc.data, enc.len, thresholds, 3, below, &buf, &c, &err),
                     SW_OK);
    for (int k = 0; k < 3; k++)
        assert_int_equal(below[k], expected[k]);
    sw_chist_free(c);
    sw_buf_fini(&buf);
    sw_buf_fini(&enc);
    sw_hdr_free(h);
}

/* Counts of 1 take no count token: 250 log-normal values over thousands of buckets, counts of 1
 * almost everywhere and gaps of tens of widths, about a byte a bucket. */
static void
test_interval_packs_in_a_byte_and_a_quarter_a_bucket(void **state)
{
    (void)state;
    sw_err err = {0};
    sw_rng rng = {23};
    sw_buf buf;
    sw_buf_init(&buf, SIZE_MAX);
    sw_hdr *empty = histogram(&sw_hdr_latency_config);
    sw_chist *c;
    assert_int_equal(sw_chist_pack(empty, &buf, &c, &err), SW_OK);
    int64_t header = (int64_t)sw_chist_size(c);
    sw_chist_free(c);
    sw_hdr_free(empty);
    int64_t bytes = 0, buckets = 0;
    for (int round = 0; round < 100; round++) {
        sw_hdr *h = histogram(&sw_hdr_latency_config);
        for (int i = 0; i < 250; i++)
            sw_hdr_record(h, sw_rng_lognormal_us(&rng, 80000, 0.5));
        assert_int_equal(sw_chist_pack(h, &buf, &c, &err), SW_OK);
        bytes += (int64_t)sw_chist_size(c) - header;
        buckets += sw_hdr_recorded_buckets(h);
        sw_chist_free(c);
        sw_hdr_free(h);
    }
    assert_true(bytes * 4 <= buckets * 5);
    sw_buf_fini(&buf);
}

/* ------------------------------------------------------------------ one bucket at a time */

/*
 * h's packed form read up from its first bucket and down from its last gives the buckets
 * h's own iteration gives (lowest value and count), in order and in reverse; the extent is the
 * last bucket's lowest value and the values in buckets whose lowest value is at most max_value.
 */
static void
assert_reads_both_ways(const sw_hdr *h, int64_t max_value)
{
    sw_err err = {0};
    sw_buf buf;
    sw_buf_init(&buf, SIZE_MAX);
    sw_chist *c;
    assert_int_equal(sw_chist_pack(h, &buf, &c, &err), SW_OK);
    size_t n = (size_t)sw_hdr_recorded_buckets(h);
    int64_t *lo = calloc(n + 1, sizeof *lo), *count = calloc(n + 1, sizeof *count);
    assert_non_null(lo);
    assert_non_null(count);
    sw_hdr_iter it;
    sw_hdr_iter_init(&it, h);
    size_t k = 0;
    int64_t held = 0;
    while (sw_hdr_iter_next(&it)) {
        assert_true(k < n);
        lo[k] = it.value_lo;
        count[k++] = it.count;
        held += it.value_lo <= max_value ? it.count : 0;
    }
    assert_int_equal(k, n);
    int64_t last, got_held;
    sw_chist_extent(c, max_value, &last, &got_held);
    assert_int_equal(last, n > 0 ? lo[n - 1] : 0);
    assert_int_equal(got_held, held);
    sw_chist_cursor cur;
    sw_chist_cursor_bottom(c, &cur);
    for (size_t i = 0; i < n; i++) {
        assert_true(sw_chist_up(&cur));
        assert_int_equal(cur.value, lo[i]);
        assert_int_equal(cur.count, count[i]);
    }
    assert_false(sw_chist_up(&cur));
    if (n > 0) {
        sw_chist_cursor_top(c, last, &cur);
        for (size_t i = n; i-- > 0;) {
            assert_int_equal(cur.value, lo[i]);
            assert_int_equal(cur.count, count[i]);
            assert_true(sw_chist_down(&cur) == (i > 0));
        }
    }
    free(lo);
    free(count);
    sw_chist_free(c);
    sw_buf_fini(&buf);
}

/* The latency layout (log-normal intervals, every bucket edge, counts of many bytes) and the
 * others: finer layouts whose gaps are not whole widths of the latency layout (or are, by
 * chance, from a value off the latency layout's bucket edges), coarser, wider. */
static void
test_read_up_and_down(void **state)
{
    (void)state;
    sw_rng rng = {19};
    int64_t max = sw_hdr_latency_config.highest_trackable_value;
    for (int round = 0; round < 40; round++) {
        sw_hdr *h = histogram(&sw_hdr_latency_config);
        int values = (round * 131) % 3000;
        for (int i = 0; i < values; i++)
            sw_hdr_record(h, sw_rng_lognormal_us(&rng, 80000, 0.3 + 0.05 * round));
        assert_reads_both_ways(h, max);
        assert_reads_both_ways(h, 100000 + round * 7919); /* a cut inside the values */
        sw_hdr_free(h);
    }
    sw_hdr *h = histogram(&sw_hdr_latency_config);
    for (int64_t v = 0; v < 5000; v++)
        sw_hdr_record_n(h, v, v % 5 + 1);
    for (int b = 12; b < 62 && (INT64_C(1) << b) <= max; b++) {
        sw_hdr_record(h, (INT64_C(1) << b) - 1);
        sw_hdr_record(h, INT64_C(1) << b);
    }
    sw_hdr_record(h, max);
    sw_hdr_record_n(h, 123456789, INT64_C(1) << 40);
    assert_reads_both_ways(h, max);
    sw_hdr_free(h);
    const sw_hdr_config cfgs[] = {
        {1, INT64_C(3600000000), 4},
        {1, INT64_C(3600000000), 5},
        {1, INT64_C(3600000000), 2},
        {1000, INT64_C(3600000000000), 3},
    };
    for (size_t k = 0; k < sizeof cfgs / sizeof cfgs[0]; k++) {
        h = histogram(&cfgs[k]);
        int64_t scale = k == 3 ? 1000 : 1;
        for (int i = 0; i < 3000; i++)
            sw_hdr_record(h, sw_rng_lognormal_us(&rng, 80000 * (double)scale, 1.5));
        assert_reads_both_ways(h, max);
        sw_hdr_free(h);
        /* Off the latency layout's edges, gaps whole widths of it: 4094 then 4098 (width 4). */
        h = histogram(&cfgs[k]);
        sw_hdr_record(h, 4094 * scale);
        sw_hdr_record(h, 4098 * scale);
        sw_hdr_record(h, 4106 * scale);
        assert_reads_both_ways(h, max);
        sw_hdr_free(h);
    }
    /* A layout up to 2^62 with a value far above the rest (a timestamp sent as a latency): the
     * gap down from it, times the widths above its own, passes 2^63. */
    const sw_hdr_config wide = {1, INT64_C(1) << 62, 3};
    h = histogram(&wide);
    sw_hdr_record_n(h, 100000, 100);
    sw_hdr_record(h, INT64_C(1700000000000000));
    assert_reads_both_ways(h, INT64_C(1) << 62);
    sw_hdr_free(h);
}

/*
 * Where a token changes length or form: gaps of 63 and 64 widths (a gap token of one byte and of
 * two), 127 and 128; counts of 1 (no count token), 2 (a count token of 0 and the low bit), 65
 * and 66 (one byte and two), of eight bytes and the largest a total still holds; buckets of
 * width one and of wider widths; the first bucket at 0 and past it.
 */
static void
test_tokens_at_their_edges(void **state)
{
    (void)state;
    const int64_t counts[] = {1, 2, 3, 65, 66, 67, 1, INT64_C(1) << 56, 1, 2};
    const int64_t gaps[] = {63, 64, 127, 128, 1, 0x3fff, 0x4000, 2, 63, 64};
    const int64_t starts[] = {0, 1, 3000, 70000, 2000000};
    for (size_t s = 0; s < sizeof starts / sizeof starts[0]; s++) {
        sw_hdr *h = histogram(&sw_hdr_latency_config);
        int64_t v = starts[s];
        int64_t top = sw_hdr_latency_config.highest_trackable_value;
        for (size_t i = 0; i < sizeof counts / sizeof counts[0] && v <= top; i++) {
            sw_hdr_record_n(h, v, counts[i]);
            /* The next bucket gaps[i] widths of this one's up (in the latency layout). */
            v = sw_hdr_lowest_equivalent(h, v) +
                gaps[i] * (sw_hdr_highest_equivalent(h, v) - sw_hdr_lowest_equivalent(h, v) + 1);
        }
        sw_hdr_record_n(h, v <= top ? v : top, INT64_C(1) << 61);
        assert_packs_exactly(h, &sw_hdr_latency_config);
        assert_reads_both_ways(h, sw_hdr_latency_config.highest_trackable_value);
        assert_reads_both_ways(h, 70000);
        sw_hdr_free(h);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lognormal_intervals_in_the_latency_layout),
        cmocka_unit_test(test_edges_of_the_latency_layout),
        cmocka_unit_test(test_other_layouts),
        cmocka_unit_test(test_decode_counts_below_thresholds),
        cmocka_unit_test(test_interval_packs_in_a_byte_and_a_quarter_a_bucket),
        cmocka_unit_test(test_read_up_and_down),
        cmocka_unit_test(test_tokens_at_their_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
