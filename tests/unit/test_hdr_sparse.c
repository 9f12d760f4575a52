/*
 * Compact histograms against dense ones: every histogram made by sw_hdr_new holds its recorded
 * buckets as pairs, or once that is cheaper a dense range of buckets grown as values arrive, and
 * must answer exactly as one made by sw_hdr_new_dense (every bucket of the layout, the
 * representation test_hdr checks against the format's formulas) fed the same values. Each step
 * compares every answer: counts, min, max, mean, stddev, percentiles, counts at or below every
 * recorded bucket's edges, the bucket walk and the V2 encoding byte for byte. Inputs: random
 * log-normal data, one bucket, every bucket, the highest trackable value, values refused as
 * overflow, zero counts, merges of many, windows sliding by subtraction, subtractions that must
 * fail, reset, clone, decode and unpacked bucket lists merged in one pass; for the range: growth
 * down and up to both ends of the layout, values recorded zero times outside it, subtraction to
 * empty and growth elsewhere, adds between every pair of representations in both directions, and
 * codec round trips; a histogram sized beforehand for what it will hold.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "slawatch/hdr.h"
#include "slawatch/hdr_codec.h"
#include "slawatch/rng.h"

#include "hdr_twin.h"

/* A histogram that turned dense or paged holds its recorded range plus slack, not the whole
 * layout: at most twice the range at 8 bytes a slot and a kilobyte; at least the range (dense)
 * or a directory entry for each 64 slots of it (paged, the counts at their own widths). */
static void
assert_range_memory(const sw_hdr *h)
{
    int32_t first = 0, last = 0;
    assert_true(bucket_span(h, &first, &last));
    size_t range = (size_t)(last - first + 1) * sizeof(int64_t);
    size_t counts = sw_hdr_memory_size(h) - header_size();
    assert_in_range(counts, range / 32, 2 * range + 1024);
    assert_true(sw_hdr_memory_size(h) < sw_hdr_config_memory_size(&sw_hdr_latency_config));
}

static void
test_random_small_and_large(void **state)
{
    (void)state;
    sw_rng rng = {42};
    /* 250 values stay compact; 60,000 spread wide pass the compact limit and turn dense. */
    const int sizes[] = {1, 250, 5000, 60000};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        sw_hdr *a = compact(&sw_hdr_latency_config), *b = dense(&sw_hdr_latency_config);
        for (int i = 0; i < sizes[s]; i++)
            record_both(a, b, lognormal(&rng, 2000.0, 1.5), 1 + (int64_t)(sw_rng_next(&rng) % 3));
        same_answers(a, b, &rng);
        if (sizes[s] == 250)
            assert_true(sw_hdr_memory_size(a) < sw_hdr_memory_size(b) / 20);
        if (sizes[s] == 60000) /* turned dense over the range it uses */
            assert_range_memory(a);
        sw_hdr_free(a);
        sw_hdr_free(b);
    }
}

static void
test_single_bucket(void **state)
{
    (void)state;
    sw_rng rng = {7};
    const int64_t values[] = {0, 1, 2047, 2048, 80000, SW_HDR_LATENCY_HIGHEST_US};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        sw_hdr *a = compact(&sw_hdr_latency_config), *b = dense(&sw_hdr_latency_config);
        record_both(a, b, values[i], 1);
        same_answers(a, b, &rng);
        record_both(a, b, values[i], INT64_C(1) << 40);
        same_answers(a, b, &rng);
        sw_hdr_free(a);
        sw_hdr_free(b);
    }
}

static void
test_every_bucket(void **state)
{
    (void)state;
    sw_rng rng = {9};
    sw_hdr *a = compact(&sw_hdr_latency_config), *b = dense(&sw_hdr_latency_config);
    /* Highest first, so the compact side inserts before every pair it holds. */
    for (int64_t v = SW_HDR_LATENCY_HIGHEST_US; v > 0; v = sw_hdr_lowest_equivalent(b, v) - 1)
        record_both(a, b, v, 1 + v % 5);
    record_both(a, b, 0, 3);
    same_answers(a, b, &rng);
    sw_hdr_free(a);
    sw_hdr_free(b);
}

static void
test_edges_overflow_and_zero_counts(void **state)
{
    (void)state;
    sw_rng rng = {11};
    sw_hdr *a = compact(&sw_hdr_latency_config), *b = dense(&sw_hdr_latency_config);
    same_answers(a, b, &rng); /* empty */
    record_both(a, b, SW_HDR_LATENCY_HIGHEST_US + 1, 4);
    record_both(a, b, -1, 2);
    record_both(a, b, INT64_MAX, 1);
    same_answers(a, b, &rng);   /* only overflow */
    record_both(a, b, 5000, 0); /* a zero count still moves min and max */
    record_both(a, b, 70, 0);
    same_answers(a, b, &rng);
    record_both(a, b, 100, 1);
    record_both(a, b, 0, 2);
    record_both(a, b, SW_HDR_LATENCY_HIGHEST_US, 1);
    assert_false(sw_hdr_record_n(a, 10, -1));
    assert_false(sw_hdr_record_n(b, 10, -1));
    same_answers(a, b, &rng);
    /* Coordinated-omission correction records many buckets at once. */
    assert_true(sw_hdr_record_corrected(a, 900000, 2, 1000));
    assert_true(sw_hdr_record_corrected(b, 900000, 2, 1000));
    same_answers(a, b, &rng);
    sw_hdr_free(a);
    sw_hdr_free(b);
}

/* Merges of many small histograms, compact and dense on either side of each add. */
static void
test_merges_of_many(void **state)
{
    (void)state;
    sw_rng rng = {13};
    sw_hdr *into_compact = compact(&sw_hdr_latency_config);
    sw_hdr *into_dense = dense(&sw_hdr_latency_config);
    sw_hdr *dense_of_dense = dense(&sw_hdr_latency_config);
    for (int n = 0; n < 400; n++) {
        sw_hdr *part = compact(&sw_hdr_latency_config), *part_d = dense(&sw_hdr_latency_config);
        for (int i = 0; i < 250; i++)
            record_both(part, part_d, lognormal(&rng, 80000.0, 0.5 + n / 400.0), 1);
        if (n % 7 == 0)
            record_both(part, part_d, SW_HDR_LATENCY_HIGHEST_US + 1, 1);
        same_answers(part, part_d, &rng);
        sw_hdr_add(into_compact, n % 2 ? part : part_d);
        sw_hdr_add(into_dense, part);
        sw_hdr_add(dense_of_dense, part_d);
        if (n % 100 == 0 || n == 399) {
            same_answers(into_compact, dense_of_dense, &rng);
            same_answers(into_dense, dense_of_dense, &rng);
        }
        sw_hdr_free(part);
        sw_hdr_free(part_d);
    }
    /* A histogram added to itself. */
    sw_hdr_add(into_compact, into_compact);
    sw_hdr_add(dense_of_dense, dense_of_dense);
    same_answers(into_compact, dense_of_dense, &rng);
    sw_hdr_free(into_compact);
    sw_hdr_free(into_dense);
    sw_hdr_free(dense_of_dense);
}

/* Adding a histogram of another layout re-records its buckets: the same on both sides. */
static void
test_merge_other_layout_and_grow(void **state)
{
    (void)state;
    sw_rng rng = {17};
    const sw_hdr_config two_digits = {1, INT64_C(3600000000), 2}, narrow = {1, 100000, 3};
    sw_hdr *src = compact(&two_digits), *src_d = dense(&two_digits);
    for (int i = 0; i < 3000; i++)
        record_both(src, src_d, lognormal(&rng, 5000.0, 2.0), 1);
    same_answers(src, src_d, &rng);
    sw_hdr *a = compact(&sw_hdr_latency_config), *b = dense(&sw_hdr_latency_config);
    sw_hdr_add(a, src);
    sw_hdr_add(b, src_d);
    same_answers(a, b, &rng);
    sw_hdr *na = compact(&narrow), *nb = dense(&narrow);
    record_both(na, nb, 99000, 1);
    assert_int_equal(sw_hdr_add_grow(&na, a, NULL), SW_OK);
    assert_int_equal(sw_hdr_add_grow(&nb, b, NULL), SW_OK);
    same_answers(na, nb, &rng);
    sw_hdr_free(src);
    sw_hdr_free(src_d);
    sw_hdr_free(a);
    sw_hdr_free(b);
    sw_hdr_free(na);
    sw_hdr_free(nb);
}

/* A 30-interval window sliding over 300 intervals: add the newest, subtract the oldest. */
static void
test_sliding_window_subtraction(void **state)
{
    (void)state;
    sw_rng rng = {19};
    enum { INTERVALS = 300, WINDOW = 30 };
    sw_hdr *iv[INTERVALS];
    sw_hdr *win = compact(&sw_hdr_latency_config), *win_d = dense(&sw_hdr_latency_config);
    for (int t = 0; t < INTERVALS; t++) {
        iv[t] = compact(&sw_hdr_latency_config);
        /* Bursts of wide traffic push the window past the compact limit and back. */
        int n = t % 100 < 10 ? 4000 : 250;
        for (int i = 0; i < n; i++)
            assert_true(sw_hdr_record(iv[t], lognormal(&rng, 80000.0, t % 100 < 10 ? 2.5 : 0.4)));
        sw_hdr_add(win, iv[t]);
        sw_hdr_add(win_d, iv[t]);
        if (t >= WINDOW) {
            assert_int_equal(sw_hdr_subtract(win, iv[t - WINDOW], NULL), SW_OK);
            assert_int_equal(sw_hdr_subtract(win_d, iv[t - WINDOW], NULL), SW_OK);
        }
        if (t % 25 == 0) {
            same_answers(win, win_d, &rng);
            /* And against the window merged afresh. */
            sw_hdr *fresh = dense(&sw_hdr_latency_config);
            for (int k = t >= WINDOW ? t - WINDOW + 1 : 0; k <= t; k++)
                sw_hdr_add(fresh, iv[k]);
            same_answers(win, fresh, &rng);
            sw_hdr_free(fresh);
        }
    }
    /* Everything leaves: empty again, on both sides. */
    for (int t = INTERVALS - WINDOW; t < INTERVALS; t++) {
        assert_int_equal(sw_hdr_subtract(win, iv[t], NULL), SW_OK);
        assert_int_equal(sw_hdr_subtract(win_d, iv[t], NULL), SW_OK);
    }
    same_answers(win, win_d, &rng);
    assert_int_equal(sw_hdr_recorded_buckets(win), 0);
    for (int t = 0; t < INTERVALS; t++)
        sw_hdr_free(iv[t]);
    sw_hdr_free(win);
    sw_hdr_free(win_d);
}

/* A minute's window of 10 s intervals (six of 250 log-normal values) slid 60 times stays pairs
 * and answers as the dense twin; its block holds at most a quarter and eight pairs more than the
 * most it ever held (doubling left it up to half empty for good). */
static void
test_sliding_window_block_slack(void **state)
{
    (void)state;
    sw_rng rng = {23};
    enum { INTERVALS = 66, WINDOW = 6 };
    sw_hdr *iv[INTERVALS];
    sw_hdr *win = compact(&sw_hdr_latency_config), *win_d = dense(&sw_hdr_latency_config);
    int64_t most = 0;
    for (int t = 0; t < INTERVALS; t++) {
        iv[t] = compact(&sw_hdr_latency_config);
        for (int i = 0; i < 250; i++)
            assert_true(sw_hdr_record(iv[t], lognormal(&rng, 80000.0, 0.5)));
        sw_hdr_add(win, iv[t]);
        sw_hdr_add(win_d, iv[t]);
        int64_t held = sw_hdr_recorded_buckets(win);
        most = held > most ? held : most;
        if (t >= WINDOW) {
            assert_int_equal(sw_hdr_subtract(win, iv[t - WINDOW], NULL), SW_OK);
            assert_int_equal(sw_hdr_subtract(win_d, iv[t - WINDOW], NULL), SW_OK);
        }
    }
    same_answers(win, win_d, &rng);
    size_t pairs = (sw_hdr_memory_size(win) - header_size()) / 12;
    assert_true(pairs >= (size_t)most);
    assert_true(pairs <= (size_t)(most + most / 4 + 8));
    for (int t = 0; t < INTERVALS; t++)
        sw_hdr_free(iv[t]);
    sw_hdr_free(win);
    sw_hdr_free(win_d);
}

/* An interval for a slide: log-normal of a random width and size (empty sometimes, wide enough
 * now and then for the window to turn into a range), in the layout of cfg, compact. */
static sw_hdr *
slide_interval(sw_rng *rng, int t)
{
    sw_hdr *h = compact(&sw_hdr_latency_config);
    int n = (int)(sw_rng_next(rng) % 7 == 0 ? 0 : sw_rng_next(rng) % 400);
    double sigma = t % 40 < 30 ? 0.2 + 0.1 * (double)(sw_rng_next(rng) % 6) : 2.0;
    double median = sw_rng_next(rng) % 3 == 0 ? 5000.0 : 80000.0;
    for (int i = 0; i < n; i++)
        assert_true(sw_hdr_record(h, lognormal(rng, median, sigma)));
    return h;
}

/*
 * sw_hdr_slide (one pass: dst += in - out) against a dense window moved by subtraction then
 * addition: a window of 6 intervals sliding by one over 160 random intervals (buckets that
 * appear, empty, both at once, none; the window compact, then a range, then compact again in
 * a new window), every answer equal at each step; a slide whose out holds a bucket the window
 * does not is refused as sw_hdr_subtract refuses it, and changes nothing.
 */
static void
test_slide_equals_subtract_then_add(void **state)
{
    (void)state;
    sw_rng rng = {97};
    enum { INTERVALS = 160, WINDOW = 6 };
    sw_hdr *iv[INTERVALS];
    sw_hdr *win = compact(&sw_hdr_latency_config), *win_d = dense(&sw_hdr_latency_config);
    bool was_range = false, compact_after = false;
    for (int t = 0; t < INTERVALS; t++) {
        iv[t] = slide_interval(&rng, t);
        if (t % 80 == 0 && t > 0) { /* a new window: start compact again */
            sw_hdr_free(win);
            win = compact(&sw_hdr_latency_config);
            sw_hdr_reset(win_d);
            for (int k = t - WINDOW; k < t; k++) {
                sw_hdr_add(win, iv[k]);
                sw_hdr_add(win_d, iv[k]);
            }
        }
        if (t < WINDOW) {
            sw_hdr_add(win, iv[t]);
            sw_hdr_add(win_d, iv[t]);
        } else {
            assert_int_equal(sw_hdr_slide(win, iv[t], iv[t - WINDOW], NULL), SW_OK);
            assert_int_equal(sw_hdr_subtract(win_d, iv[t - WINDOW], NULL), SW_OK);
            sw_hdr_add(win_d, iv[t]);
        }
        same_answers(win, win_d, &rng);
        bool range = sw_hdr_memory_size(win) > header_size() + 12 * (size_t)sw_hdr_recorded_buckets(win) + 12 * 512;
        was_range |= range;
        compact_after |= was_range && t >= 80 && !range;
    }
    assert_true(was_range);     /* the fallback through a range was taken */
    assert_true(compact_after); /* and the one pass over pairs after it */
    /* out holds a bucket the window does not: refused, nothing changed. */
    sw_hdr *more = compact(&sw_hdr_latency_config);
    sw_hdr_add(more, iv[INTERVALS - WINDOW]);
    assert_true(sw_hdr_record(more, 123456789));
    sw_err ea = {0}, eb = {0};
    assert_int_equal(sw_hdr_slide(win, iv[0], more, &ea), SW_E_RANGE);
    assert_int_equal(sw_hdr_subtract(win_d, more, &eb), SW_E_RANGE);
    assert_string_equal(ea.msg, eb.msg);
    same_answers(win, win_d, &rng);
    sw_hdr_free(more);
    for (int t = 0; t < INTERVALS; t++)
        sw_hdr_free(iv[t]);
    sw_hdr_free(win);
    sw_hdr_free(win_d);
}

/* A subtraction that would go negative fails the same way and changes nothing. */
static void
test_subtract_refused(void **state)
{
    (void)state;
    sw_rng rng = {23};
    sw_hdr *a = compact(&sw_hdr_latency_config), *b = dense(&sw_hdr_latency_config);
    sw_hdr *more = compact(&sw_hdr_latency_config), *more_d = dense(&sw_hdr_latency_config);
    for (int i = 0; i < 500; i++) {
        int64_t v = lognormal(&rng, 3000.0, 1.0);
        record_both(a, b, v, 1);
        record_both(more, more_d, v, 1);
    }
    record_both(more, more_d, 123456, 1); /* a bucket a does not hold */
    sw_hdr *subtrahends[] = {more, more_d};
    for (int k = 0; k < 2; k++) {
        sw_err ea = {0}, eb = {0};
        assert_int_equal(sw_hdr_subtract(a, subtrahends[k], &ea), SW_E_RANGE);
        assert_int_equal(sw_hdr_subtract(b, subtrahends[k], &eb), SW_E_RANGE);
        assert_string_equal(ea.msg, eb.msg);
        same_answers(a, b, &rng);
    }
    sw_hdr_free(a);
    sw_hdr_free(b);
    sw_hdr_free(more);
    sw_hdr_free(more_d);
}

static void
test_reset_clone_decode_reserve(void **state)
{
    (void)state;
    sw_rng rng = {29};
    const int sizes[] = {300, 100000};
    for (size_t s = 0; s < 2; s++) {
        sw_hdr *a = compact(&sw_hdr_latency_config), *b = dense(&sw_hdr_latency_config);
        for (int i = 0; i < sizes[s]; i++)
            record_both(a, b, lognormal(&rng, 20000.0, 1.8), 1);
        sw_hdr *ca = sw_hdr_clone(a), *cb = sw_hdr_clone(b);
        assert_non_null(ca);
        assert_non_null(cb);
        same_answers(ca, cb, &rng);
        sw_buf enc;
        sw_buf_init(&enc, SIZE_MAX);
        assert_int_equal(sw_hdr_encode(a, true, &enc, NULL), SW_OK);
        sw_hdr *decoded = NULL;
        assert_int_equal(sw_hdr_decode(enc.data, enc.len, &decoded, NULL), SW_OK);
        same_answers(decoded, b, &rng);
        sw_buf_fini(&enc);
        /* Room reserved, then the adds it was made for. */
        assert_int_equal(sw_hdr_reserve(ca, sw_hdr_recorded_buckets(decoded), NULL), SW_OK);
        sw_hdr_add(ca, decoded);
        sw_hdr_add(cb, decoded);
        same_answers(ca, cb, &rng);
        sw_hdr_reset(a);
        sw_hdr_reset(b);
        same_answers(a, b, &rng);
        for (int i = 0; i < 100; i++)
            record_both(a, b, lognormal(&rng, 20000.0, 1.8), 1);
        same_answers(a, b, &rng);
        sw_hdr_free(a);
        sw_hdr_free(b);
        sw_hdr_free(ca);
        sw_hdr_free(cb);
        sw_hdr_free(decoded);
    }
}

/* The compact limit of the latency layout: an eighth of its 23,552 buckets. */
#define LATENCY_COMPACT_MAX 2944

/* Decoding appends the payload's buckets to compact pairs, turning dense (a range) once that is
 * cheaper or on the one past the limit: at and around the limit the decoded histogram answers
 * as the dense original, holds no more than its pairs or its recorded range would (no slack),
 * and is no bigger than its clone. */
static void
test_decode_at_compact_limit(void **state)
{
    (void)state;
    sw_rng rng = {37};
    const int targets[] = {0,
                           1,
                           9,
                           LATENCY_COMPACT_MAX - 1,
                           LATENCY_COMPACT_MAX,
                           LATENCY_COMPACT_MAX + 1,
                           3 * LATENCY_COMPACT_MAX / 2};
    for (size_t t = 0; t < sizeof targets / sizeof targets[0]; t++) {
        sw_hdr *b = dense(&sw_hdr_latency_config);
        for (int64_t v = 1; sw_hdr_recorded_buckets(b) < targets[t]; v += 1 + v / 1024)
            assert_true(sw_hdr_record_n(b, v, 1 + (v % 7)));
        assert_int_equal(sw_hdr_recorded_buckets(b), targets[t]);
        sw_buf enc;
        sw_buf_init(&enc, SIZE_MAX);
        assert_int_equal(sw_hdr_encode(b, true, &enc, NULL), SW_OK);
        sw_hdr *decoded = NULL;
        assert_int_equal(sw_hdr_decode(enc.data, enc.len, &decoded, NULL), SW_OK);
        same_answers(decoded, b, &rng);
        int32_t first = 0, last = 0;
        size_t pairs = (size_t)targets[t] * (sizeof(int64_t) + sizeof(uint32_t));
        size_t range = bucket_span(b, &first, &last) ? (size_t)(last - first + 1) * 8 : 0;
        size_t held = sw_hdr_memory_size(decoded) - header_size();
        assert_true(held <= (pairs > 8 * 12 ? pairs : 8 * 12));
        if (targets[t] > 64) /* contiguous buckets: a range, fitted */
            assert_int_equal(held, range);
        sw_hdr *c = sw_hdr_clone(decoded);
        assert_non_null(c);
        assert_int_equal(sw_hdr_memory_size(c), sw_hdr_memory_size(decoded));
        sw_hdr_free(c);
        sw_hdr_free(decoded);
        sw_hdr_free(b);
        sw_buf_fini(&enc);
    }
}

/* Unpacked histograms merged bucket list by bucket list, as the evaluator's windows take
 * their intervals; out-of-order lists are recorded one by one. */
static void
test_record_sorted(void **state)
{
    (void)state;
    sw_rng rng = {31};
    sw_hdr *a = compact(&sw_hdr_latency_config), *b = dense(&sw_hdr_latency_config);
    for (int n = 0; n < 120; n++) {
        sw_hdr *part = dense(&sw_hdr_latency_config);
        int values = n % 40 == 0 ? 20000 : 250;
        for (int i = 0; i < values; i++)
            assert_true(sw_hdr_record(part, lognormal(&rng, 50000.0, n % 40 == 0 ? 2.0 : 0.6)));
        size_t len = (size_t)sw_hdr_recorded_buckets(part), k = 0;
        int64_t *v = calloc(len + 1, sizeof *v), *c = calloc(len + 1, sizeof *c);
        assert_non_null(v);
        assert_non_null(c);
        sw_hdr_iter it;
        sw_hdr_iter_init(&it, part);
        while (sw_hdr_iter_next(&it)) {
            v[k] = it.value_lo;
            c[k++] = it.count;
        }
        if (n % 7 == 3 && len > 2) { /* out of order */
            int64_t t = v[0];
            v[0] = v[len - 1];
            v[len - 1] = t;
        }
        sw_hdr_record_sorted(a, v, c, len);
        for (size_t j = 0; j < len; j++)
            sw_hdr_record_n(b, v[j], c[j]);
        if (n % 20 == 0)
            same_answers(a, b, &rng);
        free(v);
        free(c);
        sw_hdr_free(part);
    }
    same_answers(a, b, &rng);
    sw_hdr_free(a);
    sw_hdr_free(b);
}

/* Short sorted lists over a few values, zero counts among them: each brings buckets above,
 * below and between those held, or none new (every path of the merge). Compact lists are
 * added to and subtracted from a compact histogram too, as windows and totals take them. */
static void
test_sorted_lists_overlapping(void **state)
{
    (void)state;
    sw_rng rng = {47};
    for (int trial = 0; trial < 400; trial++) {
        sw_hdr *a = compact(&sw_hdr_latency_config), *b = dense(&sw_hdr_latency_config);
        sw_hdr *sum = compact(&sw_hdr_latency_config), *want = dense(&sw_hdr_latency_config);
        for (int round = 0; round < 8; round++) {
            int64_t v[8], c[8], x = 1 + (int64_t)(sw_rng_next(&rng) % 20);
            size_t n = 1 + sw_rng_next(&rng) % 8;
            sw_hdr *part = compact(&sw_hdr_latency_config);
            for (size_t j = 0; j < n; j++) {
                v[j] = x;
                c[j] = (int64_t)(sw_rng_next(&rng) % 3);
                x += 1 + (int64_t)(sw_rng_next(&rng) % 5);
                if (c[j] > 0) /* a zero count moves min and max on some paths only */
                    record_both(part, want, v[j], c[j]);
            }
            sw_hdr_record_sorted(a, v, c, n);
            for (size_t j = 0; j < n; j++)
                sw_hdr_record_n(b, v[j], c[j]);
            same_answers(a, b, &rng);
            sw_hdr_add(sum, part);
            same_answers(sum, want, &rng);
            if (round % 3 == 2) { /* take this list out again */
                assert_int_equal(sw_hdr_subtract(sum, part, NULL), SW_OK);
                assert_int_equal(sw_hdr_subtract(want, part, NULL), SW_OK);
                same_answers(sum, want, &rng);
            }
            sw_hdr_free(part);
        }
        sw_hdr_free(a);
        sw_hdr_free(b);
        sw_hdr_free(sum);
        sw_hdr_free(want);
    }
}

/* n adjacent buckets from value v recorded into both (count 1 + k % 3): 64 or more adjacent
 * buckets turn a compact histogram into a dense range just wide enough for them. */
static void
record_adjacent(sw_hdr *a, sw_hdr *b, int64_t v, int n)
{
    for (int k = 0; k < n && v <= SW_HDR_LATENCY_HIGHEST_US; k++) {
        record_both(a, b, v, 1 + k % 3);
        v = sw_hdr_highest_equivalent(b, v) + 1;
    }
}

/* A range grows bucket by bucket below and above what it holds (past its slack several times),
 * then in leaps to both ends of the layout: 0, 1 and the highest trackable value. */
static void
test_range_grows_down_and_up(void **state)
{
    (void)state;
    sw_rng rng = {53};
    sw_hdr *a = compact(&sw_hdr_latency_config), *b = dense(&sw_hdr_latency_config);
    record_adjacent(a, b, 80000, 200);
    assert_range_memory(a);
    same_answers(a, b, &rng);
    int64_t down = 80000, up = sw_hdr_max(b);
    for (int k = 0; k < 300; k++) {
        down = sw_hdr_lowest_equivalent(b, down) - 1;
        up = sw_hdr_highest_equivalent(b, up) + 1;
        record_both(a, b, down, 1);
        record_both(a, b, up, 1 + k % 4);
        if (k % 60 == 0) {
            same_answers(a, b, &rng);
            assert_range_memory(a);
        }
    }
    for (int k = 0; k < 20; k++) {
        down = down * 2 / 3;
        up = up + up / 2 < SW_HDR_LATENCY_HIGHEST_US ? up + up / 2 : SW_HDR_LATENCY_HIGHEST_US;
        record_both(a, b, down, 3);
        record_both(a, b, up, 1);
        same_answers(a, b, &rng);
    }
    record_both(a, b, 1, 1);
    same_answers(a, b, &rng);
    record_both(a, b, 0, 2);
    record_both(a, b, SW_HDR_LATENCY_HIGHEST_US, 5);
    same_answers(a, b, &rng);
    assert_true(sw_hdr_memory_size(a) <= sw_hdr_memory_size(b));
    sw_hdr_free(a);
    sw_hdr_free(b);
}

/* Values recorded zero times move min and max outside the range without growing it: every
 * reader still answers as the dense histogram, and adds and subtractions take it as it is. */
static void
test_range_zero_counts_outside(void **state)
{
    (void)state;
    sw_rng rng = {59};
    sw_hdr *a = compact(&sw_hdr_latency_config), *b = dense(&sw_hdr_latency_config);
    sw_hdr *part = compact(&sw_hdr_latency_config), *part_d = dense(&sw_hdr_latency_config);
    record_adjacent(a, b, 5000, 100);
    size_t before = sw_hdr_memory_size(a);
    record_both(a, b, 1, 0);
    record_both(a, b, SW_HDR_LATENCY_HIGHEST_US, 0);
    assert_int_equal(sw_hdr_memory_size(a), before);
    same_answers(a, b, &rng);
    record_adjacent(part, part_d, 5000, 60); /* the same counts as a's first 60 */
    sw_hdr *into_c = compact(&sw_hdr_latency_config), *into_d = dense(&sw_hdr_latency_config);
    sw_hdr_add(into_c, a);
    sw_hdr_add(into_d, b);
    same_answers(into_c, into_d, &rng);
    assert_int_equal(sw_hdr_subtract(a, part, NULL), SW_OK);
    assert_int_equal(sw_hdr_subtract(b, part_d, NULL), SW_OK);
    same_answers(a, b, &rng);
    sw_hdr_free(a);
    sw_hdr_free(b);
    sw_hdr_free(part);
    sw_hdr_free(part_d);
    sw_hdr_free(into_c);
    sw_hdr_free(into_d);
}

/* A range emptied by subtraction answers as an empty histogram and grows elsewhere; refused
 * subtractions of buckets below, above and inside it fail as the dense ones do and change
 * nothing; a reset clears it, keeping its memory for the values that come next. */
static void
test_range_subtract_to_empty_and_regrow(void **state)
{
    (void)state;
    sw_rng rng = {61};
    sw_hdr *a = compact(&sw_hdr_latency_config), *b = dense(&sw_hdr_latency_config);
    sw_hdr *p = compact(&sw_hdr_latency_config), *pd = dense(&sw_hdr_latency_config);
    record_adjacent(a, b, 80000, 150);
    record_adjacent(p, pd, 80000, 150);
    assert_int_equal(sw_hdr_subtract(a, p, NULL), SW_OK);
    assert_int_equal(sw_hdr_subtract(b, pd, NULL), SW_OK);
    same_answers(a, b, &rng);
    assert_int_equal(sw_hdr_recorded_buckets(a), 0);
    record_adjacent(a, b, 3000, 70);      /* below what it held */
    record_adjacent(a, b, 900000000, 70); /* far above */
    same_answers(a, b, &rng);
    /* Subtrahends each holding one bucket a lacks: below, inside, above its buckets. */
    const int64_t missing[] = {2, 50000, 3000000000, SW_HDR_LATENCY_HIGHEST_US};
    for (size_t k = 0; k < sizeof missing / sizeof missing[0]; k++) {
        sw_hdr *s = compact(&sw_hdr_latency_config), *sd = dense(&sw_hdr_latency_config);
        record_adjacent(s, sd, 3000, 70); /* held: a range subtrahend */
        record_both(s, sd, missing[k], 1);
        sw_hdr *subtrahends[] = {s, sd};
        for (int j = 0; j < 2; j++) {
            sw_err ea = {0}, eb = {0};
            assert_int_equal(sw_hdr_subtract(a, subtrahends[j], &ea), SW_E_RANGE);
            assert_int_equal(sw_hdr_subtract(b, subtrahends[j], &eb), SW_E_RANGE);
            assert_string_equal(ea.msg, eb.msg);
            same_answers(a, b, &rng);
        }
        sw_hdr_free(s);
        sw_hdr_free(sd);
    }
    sw_hdr_reset(a);
    sw_hdr_reset(b);
    size_t kept = sw_hdr_memory_size(a);
    same_answers(a, b, &rng);
    record_adjacent(a, b, 80000, 40); /* within the range kept */
    assert_int_equal(sw_hdr_memory_size(a), kept);
    same_answers(a, b, &rng);
    record_adjacent(a, b, 1, 90);
    same_answers(a, b, &rng);
    sw_hdr_free(a);
    sw_hdr_free(b);
    sw_hdr_free(p);
    sw_hdr_free(pd);
}

/* Subtrahends holding all of a range's buckets and one more, that one swept bucket by bucket
 * from well below to well above what the range holds (past its slack and its edges, wherever
 * they lie): each refused as the dense histogram refuses it, nothing changed. */
static void
test_range_subtract_sweeps_edges(void **state)
{
    (void)state;
    sw_rng rng = {73};
    sw_hdr *a = compact(&sw_hdr_latency_config), *b = dense(&sw_hdr_latency_config);
    record_adjacent(a, b, 80000, 100);
    int32_t first = 0, last = 0;
    assert_true(bucket_span(b, &first, &last));
    int64_t v = sw_hdr_min(b);
    for (int k = 0; k < 300; k++)
        v = sw_hdr_lowest_equivalent(b, v) - 1;
    for (int k = 0; k < 700; k++, v = sw_hdr_highest_equivalent(b, v) + 1) {
        if (sw_hdr_count_at_or_below(b, v) != sw_hdr_count_at_or_below(b, v - 1) ||
            (v >= sw_hdr_min(b) && v <= sw_hdr_max(b)))
            continue; /* a bucket a holds */
        sw_hdr *s = compact(&sw_hdr_latency_config), *sd = dense(&sw_hdr_latency_config);
        sw_hdr_add(s, a);
        sw_hdr_add(sd, b);
        record_both(s, sd, v, 1);
        sw_hdr *subtrahends[] = {s, sd};
        for (int j = 0; j < 2; j++) {
            sw_err ea = {0}, eb = {0};
            assert_int_equal(sw_hdr_subtract(a, subtrahends[j], &ea), SW_E_RANGE);
            assert_int_equal(sw_hdr_subtract(b, subtrahends[j], &eb), SW_E_RANGE);
            assert_string_equal(ea.msg, eb.msg);
        }
        sw_hdr_free(s);
        sw_hdr_free(sd);
    }
    same_answers(a, b, &rng);
    sw_hdr_free(a);
    sw_hdr_free(b);
}

enum kind { KIND_COMPACT, KIND_RANGE, KIND_MADE_DENSE, KINDS };

/* A histogram of the kind with values around v, and its dense twin. */
static sw_hdr *
make_kind(enum kind kind, int64_t v, sw_hdr **twin, sw_rng *rng)
{
    sw_hdr *h =
        kind == KIND_MADE_DENSE ? dense(&sw_hdr_latency_config) : compact(&sw_hdr_latency_config);
    *twin = dense(&sw_hdr_latency_config);
    if (kind == KIND_COMPACT)
        for (int i = 0; i < 20; i++)
            record_both(h, *twin, v + (int64_t)(sw_rng_next(rng) % (uint64_t)(v / 4 + 1)), 1);
    else
        record_adjacent(h, *twin, v, 64 + (int)(sw_rng_next(rng) % 100));
    if (kind == KIND_RANGE)
        assert_range_memory(h);
    return h;
}

/* dst += src and back for every pair of representations, src's buckets below, among, above
 * and at both ends of dst's; the sum cloned and encoded too. */
static void
test_add_every_direction(void **state)
{
    (void)state;
    sw_rng rng = {67};
    const int64_t places[][2] = {{80000, 80000},      {80000, 81000},  {80000, 2},
                                 {80000, 3000000000}, {1, 3500000000}, {3500000000, 1}};
    for (int dk = 0; dk < KINDS; dk++)
        for (int sk = 0; sk < KINDS; sk++)
            for (size_t p = 0; p < sizeof places / sizeof places[0]; p++) {
                sw_hdr *dt, *st;
                sw_hdr *d = make_kind((enum kind)dk, places[p][0], &dt, &rng);
                sw_hdr *s = make_kind((enum kind)sk, places[p][1], &st, &rng);
                sw_hdr_add(d, s);
                sw_hdr_add(dt, st);
                same_answers(d, dt, &rng);
                sw_hdr *c = sw_hdr_clone(d);
                assert_non_null(c);
                same_answers(c, dt, &rng);
                assert_int_equal(sw_hdr_subtract(d, s, NULL), SW_OK);
                assert_int_equal(sw_hdr_subtract(dt, st, NULL), SW_OK);
                same_answers(d, dt, &rng);
                sw_hdr_add(d, d); /* onto itself */
                sw_hdr_add(dt, dt);
                same_answers(d, dt, &rng);
                sw_hdr_free(c);
                sw_hdr_free(d);
                sw_hdr_free(dt);
                sw_hdr_free(s);
                sw_hdr_free(st);
            }
}

/* Ranges through the codec: around one value, from bucket 0 to the last, after growing both
 * ways; decoded (compressed and not) they answer as the original and hold no slack. */
static void
test_range_codec_round_trips(void **state)
{
    (void)state;
    sw_rng rng = {71};
    for (int shape = 0; shape < 3; shape++) {
        sw_hdr *a = compact(&sw_hdr_latency_config), *b = dense(&sw_hdr_latency_config);
        record_adjacent(a, b, 80000, 300);
        if (shape >= 1) {
            record_both(a, b, 0, 1);
            record_both(a, b, SW_HDR_LATENCY_HIGHEST_US, 2);
        }
        if (shape == 2)
            for (int i = 0; i < 5000; i++)
                record_both(a, b, lognormal(&rng, 80000.0, 1.0), 1);
        for (int compressed = 0; compressed < 2; compressed++) {
            sw_buf enc;
            sw_buf_init(&enc, SIZE_MAX);
            assert_int_equal(sw_hdr_encode(a, compressed, &enc, NULL), SW_OK);
            sw_hdr *decoded = NULL;
            assert_int_equal(sw_hdr_decode(enc.data, enc.len, &decoded, NULL), SW_OK);
            same_answers(decoded, b, &rng);
            int32_t first = 0, last = 0;
            assert_true(bucket_span(b, &first, &last));
            assert_true(sw_hdr_memory_size(decoded) - header_size() <=
                        (size_t)(last - first + 1) * sizeof(int64_t));
            sw_hdr_free(decoded);
            sw_buf_fini(&enc);
        }
        sw_hdr_free(a);
        sw_hdr_free(b);
    }
}

/* Room reserved where the new buckets' places are unknown: pairs past the compact limit while
 * they cost no more than the whole layout (a range once the adds show one is cheaper), the
 * whole layout for a histogram already dense. */
static void
test_reserve_pairs_then_range(void **state)
{
    (void)state;
    sw_rng rng = {79};
    sw_hdr *a = compact(&sw_hdr_latency_config), *b = dense(&sw_hdr_latency_config);
    sw_hdr *src = compact(&sw_hdr_latency_config);
    record_adjacent(src, b, 50, 8000);
    assert_int_equal(sw_hdr_reserve(a, 8000, NULL), SW_OK);
    assert_int_equal(sw_hdr_memory_size(a), header_size() + 8000 * 12);
    sw_hdr_add(a, src);
    same_answers(a, b, &rng);
    assert_range_memory(a);
    assert_int_equal(sw_hdr_reserve(a, 1, NULL), SW_OK);
    assert_int_equal(sw_hdr_memory_size(a), sw_hdr_memory_size(b));
    same_answers(a, b, &rng);
    sw_hdr *c = compact(&sw_hdr_latency_config);
    assert_int_equal(sw_hdr_reserve(c, 20000, NULL), SW_OK); /* pairs would cost more */
    assert_int_equal(sw_hdr_memory_size(c), sw_hdr_memory_size(b));
    sw_hdr_free(a);
    sw_hdr_free(b);
    sw_hdr_free(c);
    sw_hdr_free(src);
}

/* src's buckets and span as a restore knows them, given to an empty compact histogram. */
static void
presize_for(sw_hdr *h, const sw_hdr *src)
{
    int32_t first = 0, last = 0;
    assert_true(bucket_span(src, &first, &last));
    sw_hdr_iter it;
    sw_hdr_iter_init(&it, src);
    int64_t lo = -1, hi = 0;
    while (sw_hdr_iter_next(&it)) {
        lo = lo < 0 ? it.value_lo : lo;
        hi = it.value_lo;
    }
    sw_hdr_presize(h, sw_hdr_recorded_buckets(src), lo, hi);
}

/* Sized for what it will hold (a window restored): a month of log-normal latencies, whose
 * buckets fill their span, is paged over exactly that span from the start (a directory: less
 * than a byte a slot before the adds; after them each page at the width its counts need, the
 * directory beside); a few buckets far apart are
 * pairs with an eighth's room; both answer as the dense twin after the adds and after more
 * values inside and outside the span. A histogram holding values is left as it is. */
static void
test_presize_for_what_it_will_hold(void **state)
{
    (void)state;
    sw_rng rng = {83};
    sw_hdr *src = compact(&sw_hdr_latency_config), *b = dense(&sw_hdr_latency_config);
    for (int i = 0; i < 300000; i++)
        record_both(src, b, lognormal(&rng, 80000, 0.5), 1);
    sw_hdr *a = compact(&sw_hdr_latency_config);
    presize_for(a, src);
    int32_t first = 0, last = 0;
    assert_true(bucket_span(src, &first, &last));
    size_t span = (size_t)(last - first + 1);
    assert_in_range(sw_hdr_memory_size(a), header_size() + 1, header_size() + span - 1);
    size_t before = sw_hdr_memory_size(a);
    sw_hdr_add(a, src);
    assert_int_equal(sw_hdr_memory_size(a), before + paged_count_bytes(src));
    assert_true(sw_hdr_memory_size(a) < header_size() + span * 3);
    same_answers(a, b, &rng);
    record_both(a, b, 5, 2);        /* below the span: it grows like any range */
    record_both(a, b, 90000000, 1); /* and above it */
    same_answers(a, b, &rng);

    sw_hdr *few = compact(&sw_hdr_latency_config), *fb = dense(&sw_hdr_latency_config);
    for (int64_t v = 3; v < 3000000000; v *= 5)
        record_both(few, fb, v, 7);
    sw_hdr *c = compact(&sw_hdr_latency_config);
    presize_for(c, few);
    int64_t n = sw_hdr_recorded_buckets(few);
    assert_int_equal(sw_hdr_memory_size(c), header_size() + (size_t)(n + n / 8) * 12);
    sw_hdr_add(c, few);
    same_answers(c, fb, &rng);
    record_both(c, fb, 77777, 3);
    same_answers(c, fb, &rng);

    size_t held = sw_hdr_memory_size(c);
    sw_hdr_presize(c, 20000, 1, 3000000000); /* holds values: a no-op */
    assert_int_equal(sw_hdr_memory_size(c), held);
    same_answers(c, fb, &rng);
    sw_hdr_free(a);
    sw_hdr_free(b);
    sw_hdr_free(c);
    sw_hdr_free(few);
    sw_hdr_free(fb);
    sw_hdr_free(src);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_small_and_large),
        cmocka_unit_test(test_single_bucket),
        cmocka_unit_test(test_every_bucket),
        cmocka_unit_test(test_edges_overflow_and_zero_counts),
        cmocka_unit_test(test_merges_of_many),
        cmocka_unit_test(test_merge_other_layout_and_grow),
        cmocka_unit_test(test_sliding_window_subtraction),
        cmocka_unit_test(test_sliding_window_block_slack),
        cmocka_unit_test(test_subtract_refused),
        cmocka_unit_test(test_slide_equals_subtract_then_add),
        cmocka_unit_test(test_reset_clone_decode_reserve),
        cmocka_unit_test(test_record_sorted),
        cmocka_unit_test(test_sorted_lists_overlapping),
        cmocka_unit_test(test_decode_at_compact_limit),
        cmocka_unit_test(test_range_grows_down_and_up),
        cmocka_unit_test(test_range_zero_counts_outside),
        cmocka_unit_test(test_range_subtract_to_empty_and_regrow),
        cmocka_unit_test(test_range_subtract_sweeps_edges),
        cmocka_unit_test(test_add_every_direction),
        cmocka_unit_test(test_range_codec_round_trips),
        cmocka_unit_test(test_reserve_pairs_then_range),
        cmocka_unit_test(test_presize_for_what_it_will_hold),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
