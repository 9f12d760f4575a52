/*
 * The interval histograms a history keeps (evaluator/history.c): fed as a rebuild feeds them
 * (thousands of intervals before the first drop), then dropped to the last latency_keep_ms and
 * run on interval by interval, the history keeps exactly the intervals of that span, each with
 * its own histogram (told apart by their totals), and the array holding them shrinks back to a
 * few times what it holds (without the shrink it keeps the 2,048 slots the rebuild needed).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "slawatch/buf.h"
#include "slawatch/hdr.h"

#include "eval_int.h"

#define SEC INT64_C(1000)
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define BASE (10 * SEC)
#define T0 INT64_C(1796601600000)
#define KEPT 61 /* intervals ending within 10 min + one base interval */

static const sw_history_config cfg = {
    .n_sums = SW_SUM_SLOW,
    .base_ms = BASE,
    .keep_ms = {2 * HOUR, 0, 0},
    .latency_keep_ms = 10 * MIN + BASE,
};

/* Interval i (from T0), with a histogram of i + 1 values. */
static void
append(sw_history *h, sw_hdr *hdr, sw_buf *buf, int64_t i)
{
    sw_err err = {0};
    sw_hdr_reset(hdr);
    sw_hdr_record_n(hdr, 80000 + i % 1000, i + 1);
    sw_chist *lat;
    assert_int_equal(sw_chist_pack(hdr, buf, &lat, &err), SW_OK);
    sw_sli_interval iv;
    memset(&iv, 0, sizeof iv);
    iv.start_ms = T0 + i * BASE;
    iv.length_ms = BASE;
    iv.has_data = true;
    iv.requests = (uint64_t)i + 1;
    sw_sums sums;
    memset(&sums, 0, sizeof sums);
    sums.v[SW_SUM_REQUESTS] = (uint64_t)i + 1;
    sums.v[SW_SUM_DATA_MS] = BASE;
    assert_int_equal(sw_history_append(h, &iv, &sums, false, lat, &err), SW_OK);
}

/* The intervals ending in (end - latency_keep_ms, end] are kept, each with its own histogram,
 * in an array at most four times (and 16 slots more than) what it holds. */
static void
assert_keeps_last(const sw_history *h, int64_t n_fed)
{
    int64_t first = n_fed - KEPT;
    uint64_t seq = sw_history_seq_from(h, T0 + first * BASE);
    assert_null(sw_history_lat(h, seq - 1));
    for (int64_t i = first; i < n_fed; i++, seq++) {
        const sw_lat_rec *l = sw_history_lat(h, seq);
        assert_non_null(l);
        assert_int_equal(l->start_ms, T0 + i * BASE);
        assert_int_equal(sw_chist_total(l->latency), i + 1);
    }
    assert_null(sw_history_lat(h, seq));
    assert_true(h->lat_cap <= 4 * KEPT + 16);
}

static void
test_rebuilt_history_keeps_its_last_minutes_in_a_small_array(void **state)
{
    (void)state;
    sw_err err = {0};
    sw_hdr *hdr;
    assert_int_equal(sw_hdr_new(&sw_hdr_latency_config, &hdr, &err), SW_OK);
    sw_buf buf;
    sw_buf_init(&buf, SIZE_MAX);
    sw_history h;
    sw_history_init(&h, &cfg);
    int64_t n = 0;
    for (; n < 2000; n++) /* a rebuild: everything fed before the first advance */
        append(&h, hdr, &buf, n);
    assert_true(h.lat_cap >= 2000);
    assert_int_equal(sw_history_drop(&h, T0 + n * BASE, &err), SW_OK);
    assert_keeps_last(&h, n);
    for (; n < 2500; n++) { /* then as the tick runs, the ring wrapping in its smaller array */
        append(&h, hdr, &buf, n);
        assert_int_equal(sw_history_drop(&h, T0 + (n + 1) * BASE, &err), SW_OK);
        assert_keeps_last(&h, n + 1);
    }
    sw_history_fini(&h);
    sw_buf_fini(&buf);
    sw_hdr_free(hdr);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rebuilt_history_keeps_its_last_minutes_in_a_small_array),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
