/*
 * Simulated traffic: each interval draws from its own splitmix64 stream seeded by (seed, env,
 * start), so intervals can be produced in any order, any number of times, with the same result.
 */
#include "slawatch/sim.h"

#include <math.h>
#include <string.h>

#include "slawatch/rng.h"

#define MINUTE_MS INT64_C(60000)

sw_sim_scenario
sw_sim_default(int64_t start_ms)
{
    return (sw_sim_scenario){
        .seed = 20261122,
        .start_ms = start_ms,
        .rate_per_s = 1200,
        .degrade_after_ms = 10 * MINUTE_MS,
        .probes_fail_after_ms = 14 * MINUTE_MS,
    };
}

static uint64_t
stream_seed(const sw_sim_scenario *sc, const char *env, int64_t start_ms)
{
    uint64_t h = sc->seed ^ UINT64_C(0xcbf29ce484222325);
    for (const char *p = env; *p != '\0'; p++)
        h = (h ^ (unsigned char)*p) * UINT64_C(0x100000001b3);
    return h ^ ((uint64_t)start_ms * UINT64_C(0x9E3779B97F4A7C15));
}

/* Errors among n requests at rate p: the expected count, rounded by one draw. */
static uint64_t
draw_errors(sw_rng *r, uint64_t n, double p)
{
    double expected = (double)n * p;
    double whole = floor(expected);
    return (uint64_t)whole + (sw_rng_open01(r) < expected - whole ? 1 : 0);
}

sw_status
sw_sim_interval(const sw_sim_scenario *sc, const char *env, int64_t start_ms, int64_t length_ms,
                sw_sli_interval *ret, sw_err *err)
{
    bool green = strcmp(env, "green") == 0;
    if (!green && strcmp(env, "blue") != 0)
        return sw_err_set(err, SW_E_INVAL, "the simulator knows blue and green, not '%s'", env);
    int64_t since = start_ms - sc->start_ms;
    bool degraded = green && since >= sc->degrade_after_ms;
    bool probe_fails = green && since >= sc->probes_fail_after_ms;
    sw_rng r = {stream_seed(sc, env, start_ms)};
    sw_sli_interval iv = {.start_ms = start_ms, .length_ms = length_ms, .has_data = true};
    iv.requests = (uint64_t)llround(sc->rate_per_s * (double)length_ms / 1000.0);
    iv.errors =
        draw_errors(&r, iv.requests, degraded ? SW_SIM_BAD_ERROR_RATE : SW_SIM_GOOD_ERROR_RATE);
    /* Every request recorded one by one: a hot recording path. */
    sw_status st = sw_hdr_new_dense(&sw_hdr_latency_config, &iv.latency, err);
    if (st != SW_OK)
        return st;
    double median = degraded ? SW_SIM_BAD_MEDIAN_US : SW_SIM_GOOD_MEDIAN_US;
    for (uint64_t i = 0; i < iv.requests; i++)
        sw_hdr_record(iv.latency, sw_rng_lognormal_us(&r, median, SW_SIM_SIGMA));
    sw_health_record(&iv.health, !probe_fails);
    *ret = iv;
    return SW_OK;
}
