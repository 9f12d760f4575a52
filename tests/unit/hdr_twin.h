/*
 * Helpers of the histogram tests that hold a histogram to its dense twin (one made by
 * sw_hdr_new_dense, every bucket of the layout, the representation test_hdr checks against the
 * format's formulas): every answer compared. Included by test_hdr_sparse.c and
 * test_hdr_paged.c after cmocka.h.
 */
#ifndef SLAWATCH_TEST_HDR_TWIN_H
#define SLAWATCH_TEST_HDR_TWIN_H

#include "slawatch/buf.h"
#include "slawatch/hdr.h"
#include "slawatch/hdr_codec.h"
#include "slawatch/rng.h"

static const double percentiles[] = {0.0,  0.001, 0.1,  1.0,  10.0,  25.0,   50.0, 75.0,
                                     90.0, 95.0,  99.0, 99.9, 99.99, 99.999, 100.0};

static inline sw_hdr *
compact(const sw_hdr_config *cfg)
{
    sw_hdr *h = NULL;
    assert_int_equal(sw_hdr_new(cfg, &h, NULL), SW_OK);
    return h;
}

static inline sw_hdr *
dense(const sw_hdr_config *cfg)
{
    sw_hdr *h = NULL;
    assert_int_equal(sw_hdr_new_dense(cfg, &h, NULL), SW_OK);
    return h;
}

static inline void
same_encoding(const sw_hdr *a, const sw_hdr *b)
{
    sw_buf ea, eb;
    sw_buf_init(&ea, SIZE_MAX);
    sw_buf_init(&eb, SIZE_MAX);
    assert_int_equal(sw_hdr_encode(a, false, &ea, NULL), SW_OK);
    assert_int_equal(sw_hdr_encode(b, false, &eb, NULL), SW_OK);
    assert_int_equal(ea.len, eb.len);
    assert_memory_equal(ea.data, eb.data, ea.len);
    sw_buf_fini(&ea);
    sw_buf_fini(&eb);
}

static inline void
same_count_at_or_below(const sw_hdr *a, const sw_hdr *b, int64_t v)
{
    assert_int_equal(sw_hdr_count_at_or_below(a, v), sw_hdr_count_at_or_below(b, v));
    double pa = sw_hdr_percentile_of_value(a, v), pb = sw_hdr_percentile_of_value(b, v);
    assert_memory_equal(&pa, &pb, sizeof pa);
}

/* Every answer of a (compact or not) equals b's (dense). */
static inline void
same_answers(const sw_hdr *a, const sw_hdr *b, sw_rng *rng)
{
    assert_int_equal(sw_hdr_total_count(a), sw_hdr_total_count(b));
    assert_int_equal(sw_hdr_overflow_count(a), sw_hdr_overflow_count(b));
    assert_int_equal(sw_hdr_min(a), sw_hdr_min(b));
    assert_int_equal(sw_hdr_max(a), sw_hdr_max(b));
    double ma = sw_hdr_mean(a), mb = sw_hdr_mean(b), sa = sw_hdr_stddev(a), sb = sw_hdr_stddev(b);
    assert_memory_equal(&ma, &mb, sizeof ma);
    assert_memory_equal(&sa, &sb, sizeof sa);
    assert_int_equal(sw_hdr_recorded_buckets(a), sw_hdr_recorded_buckets(b));
    for (size_t i = 0; i < sizeof percentiles / sizeof percentiles[0]; i++)
        assert_int_equal(sw_hdr_value_at_percentile(a, percentiles[i]),
                         sw_hdr_value_at_percentile(b, percentiles[i]));
    for (int k = 0; k < 50; k++) {
        double p = 100.0 * sw_rng_open01(rng);
        assert_int_equal(sw_hdr_value_at_percentile(a, p), sw_hdr_value_at_percentile(b, p));
        int64_t v =
            (int64_t)(sw_rng_next(rng) % (uint64_t)sw_hdr_get_config(b).highest_trackable_value);
        same_count_at_or_below(a, b, v);
    }
    same_count_at_or_below(a, b, -1);
    same_count_at_or_below(a, b, 0);
    same_count_at_or_below(a, b, INT64_MAX);
    int64_t buckets = sw_hdr_recorded_buckets(b);
    sw_hdr_iter ia, ib;
    sw_hdr_iter_init(&ia, a);
    sw_hdr_iter_init(&ib, b);
    for (;;) {
        bool more = sw_hdr_iter_next(&ia);
        assert_int_equal(more, sw_hdr_iter_next(&ib));
        if (!more)
            break;
        assert_int_equal(ia.index, ib.index);
        assert_int_equal(ia.count, ib.count);
        assert_int_equal(ia.value_lo, ib.value_lo);
        assert_int_equal(ia.value_hi, ib.value_hi);
        assert_int_equal(ia.cumulative, ib.cumulative);
        /* Both edges of the recorded buckets (about 2,000 of them), and just outside them. */
        if (ib.index % (1 + buckets / 2000) != 0)
            continue;
        same_count_at_or_below(a, b, ib.value_lo - 1);
        same_count_at_or_below(a, b, ib.value_lo);
        same_count_at_or_below(a, b, ib.value_hi);
        same_count_at_or_below(a, b, ib.value_hi + 1);
    }
    same_encoding(a, b);
}

/* Bytes of a histogram holding nothing: its header. */
static inline size_t
header_size(void)
{
    sw_hdr *h = compact(&sw_hdr_latency_config);
    size_t n = sw_hdr_memory_size(h);
    sw_hdr_free(h);
    return n;
}

/* The first and last recorded buckets of h; false when it holds none. */
static inline bool
bucket_span(const sw_hdr *h, int32_t *first, int32_t *last)
{
    sw_hdr_iter it;
    sw_hdr_iter_init(&it, h);
    bool any = false;
    while (sw_hdr_iter_next(&it)) {
        if (!any)
            *first = it.index;
        *last = it.index;
        any = true;
    }
    return any;
}

/* Record into both; the answers of the calls must agree too. */
static inline void
record_both(sw_hdr *a, sw_hdr *b, int64_t v, int64_t n)
{
    assert_int_equal(sw_hdr_record_n(a, v, n), sw_hdr_record_n(b, v, n));
}

static inline int64_t
lognormal(sw_rng *rng, double median_us, double sigma)
{
    int64_t v = sw_rng_lognormal_us(rng, median_us, sigma);
    return v < 1 ? 1 : v;
}

/* Bytes of the counts of h held in pages of 64 slots, each at the width (1, 2, 4 or 8 bytes)
 * its largest count needs, pages holding nothing without any. */
static inline size_t
paged_count_bytes(const sw_hdr *h)
{
    size_t bytes = 0;
    int32_t page = -1;
    uint64_t page_max = 0;
    sw_hdr_iter it;
    sw_hdr_iter_init(&it, h);
    for (bool more = sw_hdr_iter_next(&it);; more = sw_hdr_iter_next(&it)) {
        if (!more || it.index / 64 != page) {
            if (page >= 0)
                bytes += 64 * (page_max <= UINT8_MAX    ? 1
                               : page_max <= UINT16_MAX ? 2
                               : page_max <= UINT32_MAX ? 4
                                                        : 8);
            if (!more)
                return bytes;
            page = it.index / 64;
            page_max = 0;
        }
        page_max = (uint64_t)it.count > page_max ? (uint64_t)it.count : page_max;
    }
}

#endif
