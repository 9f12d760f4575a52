/*
 * A random interval for tests that feed two evaluators alike (test_eval_encoded, test_eval_ckpt):
 * now and then without data or without latency; latency log-normal around 70 ms, 95 ms in a slow
 * phase one 40-minute stretch in three, values spread over many buckets. Include after cmocka.h.
 */
#ifndef SLAWATCH_TEST_RANDOM_INTERVAL_H
#define SLAWATCH_TEST_RANDOM_INTERVAL_H

#include <stdint.h>

#include "slawatch/hdr.h"
#include "slawatch/rng.h"
#include "slawatch/sli.h"

/* Fills iv for [start, start + length) in base intervals of base_ms; returns the histogram the
 * caller frees (iv->latency is it or NULL), NULL when iv has no data. */
static inline sw_hdr *
sw_test_random_interval(sw_rng *rng, int64_t start, int64_t length, int64_t base_ms,
                        sw_sli_interval *iv)
{
    uint64_t pick = sw_rng_next(rng) % 20;
    *iv = (sw_sli_interval){.start_ms = start, .length_ms = length, .has_data = pick != 0};
    if (!iv->has_data)
        return NULL;
    sw_hdr *h = NULL;
    assert_int_equal(sw_hdr_new(&sw_hdr_latency_config, &h, NULL), SW_OK);
    int64_t values = pick == 1 ? 0 : (int64_t)(length / base_ms) * (20 + sw_rng_next(rng) % 40);
    double median = (start / (40 * 60000)) % 3 == 0 ? 95000.0 : 70000.0;
    for (int64_t v = 0; v < values; v++)
        sw_hdr_record(h, sw_rng_lognormal_us(rng, median, 0.6));
    iv->requests = (uint64_t)values;
    iv->errors = iv->requests / 200 + sw_rng_next(rng) % 3;
    if (iv->errors > iv->requests)
        iv->errors = iv->requests;
    iv->latency = pick == 2 ? NULL : h;
    return h;
}

#endif
