/*
 * Paged histograms against dense ones: a histogram fed by merges of sorted bucket lists (a
 * window fed its packed intervals) turns paged once a range is cheaper than its pairs (pages of
 * 64 buckets, each at the width its largest count needs), and must answer exactly as its dense
 * twin (sw_hdr_new_dense) fed the same: every answer compared (hdr_twin.h). Inputs: a window of
 * log-normal intervals with whole hours leaving; counts crossing 255, 65,535 and 2^32 and near
 * 2^63, then subtracted back to small counts and to nothing; pages left empty in the middle;
 * one value; the lowest and highest trackable values; adds, subtractions and slides between
 * every pair of forms; clone, reset, reserve; the V2 codec and a checkpoint's restore (decode,
 * presize, add) round trip; other layouts. Its memory is its pages at their widths.
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

#define MAX_BUCKETS 4096

/* A list of buckets, sorted, one (lowest value, count) each: what a packed interval hands over. */
typedef struct buckets {
    int64_t value[MAX_BUCKETS];
    int64_t count[MAX_BUCKETS];
    size_t n;
} buckets;

static void
put_bucket(buckets *b, const sw_hdr *layout, int64_t v, int64_t count)
{
    int64_t lo = sw_hdr_lowest_equivalent(layout, v);
    if (b->n > 0 && b->value[b->n - 1] == lo) {
        b->count[b->n - 1] += count;
        return;
    }
    assert_true(b->n == 0 || b->value[b->n - 1] < lo);
    assert_true(b->n < MAX_BUCKETS);
    b->value[b->n] = lo;
    b->count[b->n++] = count;
}

static int
cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* An interval of n log-normal latencies as its sorted buckets. */
static void
interval(buckets *b, const sw_hdr *layout, sw_rng *rng, int n)
{
    int64_t *v = malloc((size_t)n * sizeof *v);
    assert_non_null(v);
    for (int i = 0; i < n; i++)
        v[i] = lognormal(rng, 80000, 0.5);
    qsort(v, (size_t)n, sizeof *v, cmp_i64);
    b->n = 0;
    for (int i = 0; i < n; i++)
        put_bucket(b, layout, v[i], 1);
    free(v);
}

/* The same list merged into both (the way sw_chist_add_to feeds a window). */
static void
add_both(sw_hdr *a, sw_hdr *twin, const buckets *b)
{
    sw_hdr_record_sorted(a, b->value, b->count, b->n);
    sw_hdr_record_sorted(twin, b->value, b->count, b->n);
}

/* n adjacent buckets from v's, count each. */
static void
adjacent(buckets *b, const sw_hdr *layout, int64_t v, int n, int64_t count)
{
    b->n = 0;
    for (int i = 0; i < n; i++) {
        put_bucket(b, layout, v, count);
        v = sw_hdr_highest_equivalent(layout, v) + 1;
    }
}

/* True when h holds less than a range over its span would (8 bytes a bucket) and less than
 * half its buckets as pairs (12 bytes each): paged. */
static bool
below_range_bytes(const sw_hdr *h)
{
    int32_t first = 0, last = 0;
    assert_true(bucket_span(h, &first, &last));
    size_t held = sw_hdr_memory_size(h) - header_size();
    return held < (size_t)(last - first + 1) * 8 && held < 6 * (size_t)sw_hdr_recorded_buckets(h);
}

/* A paged histogram of the latency layout: 200 adjacent buckets of 1 merged in, twin alike. */
static void
paged_pair(sw_hdr **a, sw_hdr **twin, int64_t from)
{
    static buckets b;
    *a = compact(&sw_hdr_latency_config);
    *twin = dense(&sw_hdr_latency_config);
    adjacent(&b, *a, from, 200, 1);
    add_both(*a, *twin, &b);
    assert_true(below_range_bytes(*a));
}

/* A window of log-normal intervals: paged, its memory its pages' widths (a directory beside);
 * hours leave by subtraction (the hour's histogram merged from its intervals), as a rolling
 * window's do; answers as the twin's at every step. */
static void
test_window_with_hours_leaving(void **state)
{
    (void)state;
    sw_rng rng = {101};
    static buckets b;
    sw_hdr *a = compact(&sw_hdr_latency_config), *twin = dense(&sw_hdr_latency_config);
    sw_hdr *hours[6];
    for (int h = 0; h < 6; h++) {
        hours[h] = compact(&sw_hdr_latency_config);
        for (int i = 0; i < 360; i++) {
            interval(&b, a, &rng, 250);
            add_both(a, twin, &b);
            sw_hdr_record_sorted(hours[h], b.value, b.count, b.n);
        }
        same_answers(a, twin, &rng);
    }
    assert_true(below_range_bytes(a));
    size_t counts = paged_count_bytes(a), held = sw_hdr_memory_size(a) - header_size();
    int32_t first = 0, last = 0;
    assert_true(bucket_span(a, &first, &last));
    /* The directory: a few words a page (a tenth of what the range's 8 bytes a slot cost). */
    assert_in_range(held, counts, counts + (size_t)(last - first + 64) * 8 / 10 + 64);
    for (int h = 0; h < 5; h++) {
        assert_int_equal(sw_hdr_subtract(a, hours[h], NULL), SW_OK);
        assert_int_equal(sw_hdr_subtract(twin, hours[h], NULL), SW_OK);
        same_answers(a, twin, &rng);
    }
    assert_int_equal(sw_hdr_subtract(a, hours[5], NULL), SW_OK); /* to empty */
    assert_int_equal(sw_hdr_subtract(twin, hours[5], NULL), SW_OK);
    same_answers(a, twin, &rng);
    assert_int_equal(sw_hdr_value_at_percentile(a, 99.0), 0);
    interval(&b, a, &rng, 250); /* and again from nothing */
    add_both(a, twin, &b);
    same_answers(a, twin, &rng);
    for (int h = 0; h < 6; h++)
        sw_hdr_free(hours[h]);
    sw_hdr_free(a);
    sw_hdr_free(twin);
}

/* One bucket's count through every width and back: 200, past 255, past 65,535, past 2^32,
 * near 2^63; then subtracted back down to small counts, to one value, to nothing. */
static void
test_counts_cross_every_width(void **state)
{
    (void)state;
    sw_rng rng = {103};
    sw_hdr *a, *twin;
    paged_pair(&a, &twin, 70000);
    static const int64_t steps[] = {199,
                                    100,
                                    65300,
                                    INT64_C(1) << 32,
                                    INT64_C(1) << 40,
                                    (INT64_C(1) << 62) - 1,
                                    INT64_C(1) << 60};
    static buckets one;
    sw_hdr *added = dense(&sw_hdr_latency_config);
    for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++) {
        one.n = 0;
        put_bucket(&one, a, 80000, steps[k]);
        put_bucket(&one, a, 80500, steps[k] / 3 + 1); /* a second bucket of the same page */
        add_both(a, twin, &one);
        sw_hdr_record_sorted(added, one.value, one.count, one.n);
        same_answers(a, twin, &rng);
    }
    assert_true(sw_hdr_count_at_or_below(a, 80000) - sw_hdr_count_at_or_below(a, 79999) >
                (INT64_C(1) << 62) + (INT64_C(1) << 60));
    /* Back down: what the big steps added leaves, the 64 small buckets stay. */
    assert_int_equal(sw_hdr_subtract(a, added, NULL), SW_OK);
    assert_int_equal(sw_hdr_subtract(twin, added, NULL), SW_OK);
    same_answers(a, twin, &rng);
    assert_int_equal(sw_hdr_total_count(a), 200);
    /* Down to one value: every bucket but one subtracted. */
    static buckets all_but_one;
    adjacent(&all_but_one, a, 70000, 200, 1);
    memmove(all_but_one.value + 0, all_but_one.value + 1, 199 * sizeof(int64_t));
    memmove(all_but_one.count + 0, all_but_one.count + 1, 199 * sizeof(int64_t));
    all_but_one.n = 199;
    sw_hdr *rest = compact(&sw_hdr_latency_config);
    sw_hdr_record_sorted(rest, all_but_one.value, all_but_one.count, all_but_one.n);
    assert_int_equal(sw_hdr_subtract(a, rest, NULL), SW_OK);
    assert_int_equal(sw_hdr_subtract(twin, rest, NULL), SW_OK);
    same_answers(a, twin, &rng);
    assert_int_equal(sw_hdr_total_count(a), 1);
    /* Subtracting more than it holds is refused and changes nothing. */
    assert_int_equal(sw_hdr_subtract(a, rest, NULL), SW_E_RANGE);
    same_answers(a, twin, &rng);
    sw_hdr_free(rest);
    sw_hdr_free(added);
    sw_hdr_free(a);
    sw_hdr_free(twin);
}

/* Pages emptied in the middle (their blocks given back), values at the layout's two ends (the
 * directory grown down to bucket 0 and up to the last), values recorded one at a time. */
static void
test_empty_pages_and_the_layout_ends(void **state)
{
    (void)state;
    sw_rng rng = {107};
    sw_hdr *a, *twin;
    paged_pair(&a, &twin, 5000);
    static buckets far;
    adjacent(&far, a, 900000, 300, 7);
    add_both(a, twin, &far);
    size_t before = sw_hdr_memory_size(a);
    static buckets middle;
    adjacent(&middle, a, 5000, 200, 1);
    sw_hdr *m = compact(&sw_hdr_latency_config);
    sw_hdr_record_sorted(m, middle.value, middle.count, middle.n);
    assert_int_equal(sw_hdr_subtract(a, m, NULL), SW_OK);
    assert_int_equal(sw_hdr_subtract(twin, m, NULL), SW_OK);
    same_answers(a, twin, &rng);
    assert_true(sw_hdr_memory_size(a) < before); /* the emptied pages' blocks are gone */
    int64_t highest = sw_hdr_latency_config.highest_trackable_value;
    record_both(a, twin, 0, 3);
    record_both(a, twin, 1, 2);
    record_both(a, twin, highest, 5);
    record_both(a, twin, highest + 1, 1); /* overflow, as the twin counts it */
    record_both(a, twin, -1, 1);
    for (int i = 0; i < 2000; i++)
        record_both(a, twin, lognormal(&rng, 2000, 2.0), 1);
    same_answers(a, twin, &rng);
    sw_hdr_free(m);
    sw_hdr_free(a);
    sw_hdr_free(twin);
}

/* The four forms of a histogram, each beside its twin recorded value by value: compact (one
 * small interval), dense range (values recorded one by one past 512 buckets), paged (intervals
 * merged), the whole layout. */
static void
forms(uint64_t seed, sw_hdr *out[4], sw_hdr *twins[4])
{
    sw_rng r = {seed};
    static buckets b;
    for (int k = 0; k < 4; k++) {
        out[k] = k == 3 ? dense(&sw_hdr_latency_config) : compact(&sw_hdr_latency_config);
        twins[k] = dense(&sw_hdr_latency_config);
        for (int i = 0; i < (k == 0 ? 1 : 16); i++) {
            interval(&b, out[k], &r, k == 0 ? 30 : 400);
            if (k != 1)
                sw_hdr_record_sorted(out[k], b.value, b.count, b.n);
            for (size_t j = 0; j < b.n; j++) {
                if (k == 1)
                    assert_true(sw_hdr_record_n(out[k], b.value[j], b.count[j]));
                assert_true(sw_hdr_record_n(twins[k], b.value[j], b.count[j]));
            }
        }
    }
    assert_true(below_range_bytes(out[2]));
    assert_false(below_range_bytes(out[1]));
}

/* Adds and subtractions and slides between every pair of forms, in both directions, each
 * against the twins doing the same. */
static void
test_every_pair_of_forms(void **state)
{
    (void)state;
    sw_rng rng = {109};
    for (int d = 0; d < 4; d++)
        for (int s = 0; s < 4; s++) {
            sw_hdr *dst[4], *dtwin[4], *src[4], *stwin[4];
            forms(11, dst, dtwin);
            forms(13, src, stwin);
            sw_hdr *a = dst[d], *twin = dtwin[d];
            same_answers(a, twin, &rng);
            sw_hdr_add(a, src[s]);
            sw_hdr_add(twin, stwin[s]);
            same_answers(a, twin, &rng);
            assert_int_equal(sw_hdr_subtract(a, src[s], NULL), SW_OK);
            assert_int_equal(sw_hdr_subtract(twin, stwin[s], NULL), SW_OK);
            same_answers(a, twin, &rng);
            sw_hdr_add(a, src[s]); /* a slide: src out, the paged src in */
            sw_hdr_add(twin, stwin[s]);
            assert_int_equal(sw_hdr_slide(a, src[2], src[s], NULL), SW_OK);
            assert_int_equal(sw_hdr_slide(twin, stwin[2], stwin[s], NULL), SW_OK);
            same_answers(a, twin, &rng);
            for (int k = 0; k < 4; k++) {
                sw_hdr_free(dst[k]);
                sw_hdr_free(dtwin[k]);
                sw_hdr_free(src[k]);
                sw_hdr_free(stwin[k]);
            }
        }
}

/* Clone, reset (widths kept, counts gone, filled again), reserve (the whole layout), the V2
 * encoding decoded, and a checkpoint's restore: the decoded buckets given to a histogram
 * presized for them, then merged in. */
static void
test_clone_reset_reserve_codec_restore(void **state)
{
    (void)state;
    sw_rng rng = {113};
    static buckets b;
    sw_hdr *a = compact(&sw_hdr_latency_config), *twin = dense(&sw_hdr_latency_config);
    for (int i = 0; i < 200; i++) {
        interval(&b, a, &rng, 250);
        add_both(a, twin, &b);
    }
    sw_hdr *c = sw_hdr_clone(a);
    assert_non_null(c);
    same_answers(c, twin, &rng);
    assert_int_equal(sw_hdr_memory_size(c), sw_hdr_memory_size(a));

    sw_buf enc;
    sw_buf_init(&enc, SIZE_MAX);
    assert_int_equal(sw_hdr_encode(a, true, &enc, NULL), SW_OK);
    sw_hdr *d = NULL;
    assert_int_equal(sw_hdr_decode(enc.data, enc.len, &d, NULL), SW_OK);
    same_answers(d, twin, &rng);
    sw_hdr *restored = compact(&sw_hdr_latency_config);
    static buckets all;
    all.n = 0;
    sw_hdr_iter it;
    sw_hdr_iter_init(&it, d);
    while (sw_hdr_iter_next(&it))
        put_bucket(&all, a, it.value_lo, it.count);
    sw_hdr_presize(restored, (int64_t)all.n, all.value[0], all.value[all.n - 1]);
    sw_hdr_record_sorted(restored, all.value, all.count, all.n);
    same_answers(restored, twin, &rng);
    assert_true(below_range_bytes(restored));
    assert_int_equal(sw_hdr_memory_size(restored), sw_hdr_memory_size(a));

    sw_hdr_reset(c);
    sw_hdr_reset(twin);
    assert_int_equal(sw_hdr_total_count(c), 0);
    assert_int_equal(sw_hdr_value_at_percentile(c, 50.0), 0);
    for (int i = 0; i < 20; i++) {
        interval(&b, a, &rng, 250);
        add_both(c, twin, &b);
    }
    same_answers(c, twin, &rng);

    assert_int_equal(sw_hdr_reserve(c, 10, NULL), SW_OK);
    same_answers(c, twin, &rng);
    assert_int_equal(sw_hdr_memory_size(c), sw_hdr_memory_size(twin));
    sw_buf_fini(&enc);
    sw_hdr_free(restored);
    sw_hdr_free(d);
    sw_hdr_free(c);
    sw_hdr_free(a);
    sw_hdr_free(twin);
}

/* Layouts whose length is not a whole number of pages, a coarser and a finer one, and one
 * whose lowest value is 1,000: merged windows answer as their twins there too. */
static void
test_other_layouts(void **state)
{
    (void)state;
    static const sw_hdr_config cfgs[] = {
        {1, 100000, 1},
        {1, INT64_C(3600000000), 2},
        {1000, INT64_C(1000000000000), 3},
        {1, 100000, 4},
    };
    sw_rng rng = {127};
    static buckets b;
    for (size_t k = 0; k < sizeof cfgs / sizeof cfgs[0]; k++) {
        sw_hdr *a = compact(&cfgs[k]), *twin = dense(&cfgs[k]);
        int64_t highest = cfgs[k].highest_trackable_value;
        for (int i = 0; i < 40; i++) {
            b.n = 0;
            int64_t v[400];
            for (int j = 0; j < 400; j++) {
                int64_t x = lognormal(&rng, (double)highest / 50, 1.0);
                v[j] = x > highest ? highest : x;
            }
            qsort(v, 400, sizeof v[0], cmp_i64);
            for (int j = 0; j < 400; j++)
                put_bucket(&b, a, v[j], 1 + j % 3);
            add_both(a, twin, &b);
        }
        same_answers(a, twin, &rng);
        record_both(a, twin, highest, 1);
        record_both(a, twin, 0, 1);
        same_answers(a, twin, &rng);
        sw_hdr_free(a);
        sw_hdr_free(twin);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window_with_hours_leaving),
        cmocka_unit_test(test_counts_cross_every_width),
        cmocka_unit_test(test_empty_pages_and_the_layout_ends),
        cmocka_unit_test(test_every_pair_of_forms),
        cmocka_unit_test(test_clone_reset_reserve_codec_restore),
        cmocka_unit_test(test_other_layouts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
