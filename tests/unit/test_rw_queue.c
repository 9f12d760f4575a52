/*
 * Unit tests for the remote-write queue: bounded by its capacity, the oldest dropped first,
 * batches taken oldest first. Histograms are heap-allocated so ASan sees any leak or double
 * free across push, drop, take and free.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>

#include "slawatch/rw_queue.h"

static const sw_rw_label labels[] = {{"__name__", "x_total"}};
static const sw_rw_series series = {labels, 1};

static size_t
push_at(sw_rw_queue *q, int64_t ts, bool with_hist)
{
    sw_rw_sample s = {&series, ts, (double)ts, NULL};
    if (with_hist) {
        uint64_t count = (uint64_t)ts;
        int32_t index = 1;
        sw_expo_native nat = {count, 0, 0, &index, &count, 1};
        assert_int_equal(sw_rw_hist_new(&nat, &s.hist, NULL), SW_OK);
    }
    size_t dropped = sw_rw_queue_push(q, &s);
    assert_null(s.hist); /* taken */
    return dropped;
}

static void
test_bounded_drop_oldest(void **state)
{
    (void)state;
    sw_rw_queue *q;
    assert_int_equal(sw_rw_queue_new(3, &q, NULL), SW_OK);
    size_t dropped = 0;
    for (int64_t ts = 1; ts <= 10; ts++)
        dropped += push_at(q, ts, ts % 2 == 0);
    assert_int_equal(dropped, 7);
    assert_int_equal(sw_rw_queue_len(q), 3);
    sw_rw_sample out[8];
    assert_int_equal(sw_rw_queue_take(q, out, 8), 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(out[i].ts_ms, 8 + (int64_t)i); /* the newest three, oldest first */
        assert_true(out[i].value == (double)(8 + i));
        assert_true((out[i].hist != NULL) == (out[i].ts_ms % 2 == 0));
        if (out[i].hist != NULL)
            assert_int_equal(out[i].hist->count, (uint64_t)out[i].ts_ms);
        sw_rw_hist_free(out[i].hist);
    }
    assert_int_equal(sw_rw_queue_len(q), 0);
    sw_rw_queue_free(q);
}

static void
test_batches(void **state)
{
    (void)state;
    sw_rw_queue *q;
    assert_int_equal(sw_rw_queue_new(1000, &q, NULL), SW_OK);
    /* Past the first allocation (64) so the ring grows while wrapped. */
    for (int64_t ts = 0; ts < 50; ts++)
        assert_int_equal(push_at(q, ts, false), 0);
    sw_rw_sample out[40];
    assert_int_equal(sw_rw_queue_take(q, out, 40), 40);
    for (int64_t ts = 50; ts < 250; ts++)
        assert_int_equal(push_at(q, ts, ts % 3 == 0), 0);
    int64_t want = 40;
    size_t n;
    while ((n = sw_rw_queue_take(q, out, 40)) > 0) {
        assert_true(n == 40 || (n == 10 && want == 240));
        for (size_t i = 0; i < n; i++, want++) {
            assert_int_equal(out[i].ts_ms, want);
            sw_rw_hist_free(out[i].hist);
        }
    }
    assert_int_equal(want, 250);
    sw_rw_queue_free(q);
}

static void
test_free_with_samples(void **state)
{
    (void)state;
    sw_rw_queue *q;
    assert_int_equal(sw_rw_queue_new(5, &q, NULL), SW_OK);
    for (int64_t ts = 0; ts < 9; ts++)
        push_at(q, ts, true);
    sw_rw_queue_free(q); /* frees the five histograms still queued */
    sw_rw_queue_free(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bounded_drop_oldest),
        cmocka_unit_test(test_batches),
        cmocka_unit_test(test_free_with_samples),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
