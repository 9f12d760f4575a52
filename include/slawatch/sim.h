/*
 * The built-in traffic simulator behind `slawatch demo`: a blue environment that meets the SLA
 * and a green one that degrades after a while (error rate, then latency, then failing health
 * checks), as base intervals. Stateless and deterministic: the interval of (seed, env, start)
 * is always the same, so tests know exactly what the demo feeds.
 */
#ifndef SLAWATCH_SIM_H
#define SLAWATCH_SIM_H

#include <stdint.h>

#include "slawatch/err.h"
#include "slawatch/sli.h"

typedef struct sw_sim_scenario {
    uint64_t seed;
    int64_t start_ms;             /* the deployment of green */
    double rate_per_s;            /* requests per second in each environment */
    int64_t degrade_after_ms;     /* green's errors and latency go bad this long after start */
    int64_t probes_fail_after_ms; /* green's health checks start failing */
} sw_sim_scenario;

/* The demo's script: 1200 requests/s each; green degrades after 10 min, probes fail after 14. */
sw_sim_scenario sw_sim_default(int64_t start_ms);

/* Healthy: 0.05 % errors, latency log-normal with median 80 ms; degraded: 8 % errors, median
 * 1.2 s. One health probe per interval. */
#define SW_SIM_GOOD_ERROR_RATE 0.0005
#define SW_SIM_BAD_ERROR_RATE 0.08
#define SW_SIM_GOOD_MEDIAN_US 80000.0
#define SW_SIM_BAD_MEDIAN_US 1200000.0
#define SW_SIM_SIGMA 0.5

/*
 * The interval [start_ms, start_ms + length_ms) of env ("blue" or "green") into *ret (the caller
 * finishes it with sw_sli_interval_fini). Latency holds one value per request.
 */
sw_status sw_sim_interval(const sw_sim_scenario *sc, const char *env, int64_t start_ms,
                          int64_t length_ms, sw_sli_interval *ret, sw_err *err);

#endif
