/*
 * Test helper shared by the unit tests: two histograms hold the same buckets with the same
 * counts, seen through the public iterator (so no test depends on the internal layout).
 * Include after cmocka.h.
 */
#ifndef SLAWATCH_TEST_HDR_ASSERT_H
#define SLAWATCH_TEST_HDR_ASSERT_H

#include <stdbool.h>

#include "slawatch/hdr.h"

static inline void
assert_same_buckets(const sw_hdr *a, const sw_hdr *b)
{
    sw_hdr_iter ia;
    sw_hdr_iter ib;
    sw_hdr_iter_init(&ia, a);
    sw_hdr_iter_init(&ib, b);
    for (;;) {
        bool more_a = sw_hdr_iter_next(&ia);
        bool more_b = sw_hdr_iter_next(&ib);
        assert_int_equal(more_a, more_b);
        if (!more_a)
            break;
        assert_int_equal(ia.count, ib.count);
        assert_int_equal(ia.value_lo, ib.value_lo);
        assert_int_equal(ia.value_hi, ib.value_hi);
        assert_int_equal(ia.cumulative, ib.cumulative);
    }
    assert_int_equal(sw_hdr_total_count(a), sw_hdr_total_count(b));
}

#endif
