/*
 * Deterministic random streams for simulated traffic and benchmarks: splitmix64 and log-normal
 * latencies in microseconds, clamped to the latency histogram's range. The same generator as
 * the reference benchmarks (the anchors, outside this repository), so benchmark streams match.
 * Header-only so the benchmarks' hot loops inline it.
 */
#ifndef SLAWATCH_RNG_H
#define SLAWATCH_RNG_H

#include <math.h>
#include <stdint.h>

#include "slawatch/hdr.h"

typedef struct sw_rng {
    uint64_t state;
} sw_rng;

static inline uint64_t
sw_rng_next(sw_rng *r)
{
    uint64_t x;

    r->state += UINT64_C(0x9E3779B97F4A7C15);
    x = r->state;
    x = (x ^ (x >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94D049BB133111EB);
    return x ^ (x >> 31);
}

/* Uniform in (0, 1): the top 53 bits, centred in their interval, so log() never sees 0. */
static inline double
sw_rng_open01(sw_rng *r)
{
    return ((double)(sw_rng_next(r) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

/* median * exp(sigma * z), z standard normal by Box-Muller (radius draw first, then angle). */
static inline int64_t
sw_rng_lognormal_us(sw_rng *r, double median_us, double sigma)
{
    double radius_draw = sw_rng_open01(r);
    double angle_draw = sw_rng_open01(r);
    double z = sqrt(-2.0 * log(radius_draw)) * cos(6.283185307179586 * angle_draw);
    double v = median_us * exp(sigma * z);

    if (v < (double)SW_HDR_LATENCY_LOWEST_US)
        v = (double)SW_HDR_LATENCY_LOWEST_US;
    if (v > (double)SW_HDR_LATENCY_HIGHEST_US)
        v = (double)SW_HDR_LATENCY_HIGHEST_US;
    return (int64_t)v;
}

#endif
