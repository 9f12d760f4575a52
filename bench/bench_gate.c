/*
 * bench_gate: how often the deploy gate rolls back a healthy canary, and how fast it catches a
 * bad one. Each run marks a deployment of green, then feeds blue and green 10 s intervals for
 * 30 minutes through the evaluator, advancing at every base interval as the daemon does; the
 * gate's first fail is the rollback. Blue's latency is log-normal (median 80 ms, sigma 0.5) with
 * 0.1 % errors; green is blue's distribution changed by the scenario, drawn independently.
 * Every scenario of a run shares its random draws (common random numbers), so the scenarios
 * differ only by their change. Beside the gate, the gate as it was before sequential testing
 * (p95 ratio, error-rate difference and a Mann-Whitney test at alpha 0.05 over the trailing
 * 10 minutes, at every look) is judged on the same data.
 *
 * Usage: bench_gate [runs per cell (default 200)] [first seed (default 1)] [one rate only]
 * Prints "key value unit" lines: per rate, scenario and method, the share of runs that ever
 * failed, the share failed by the scenario's deadline, and the median and 95th percentile of
 * the time to the first fail (runs that never failed count as never).
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slawatch/eval.h"
#include "slawatch/ranktest.h"
#include "slawatch/rng.h"
#include "slawatch/rules.h"

#define BASE_MS INT64_C(10000)
#define MIN_MS INT64_C(60000)
#define RUN_MS (30 * MIN_MS)
#define TICKS (RUN_MS / BASE_MS)
#define START_MS INT64_C(1790812800000) /* 2026-10-01T00:00:00Z */
#define MEDIAN_US 80000.0
#define SIGMA 0.5
#define BASE_ERROR_RATE 0.001
#define Z_P97 1.880793608 /* the standard normal's 97th percentile */
#define OLD_WINDOW_MS (10 * MIN_MS)
#define OLD_ALPHA 0.05
#define NEVER INT64_MAX

static const char rules_text[] = "version: 1\n"
                                 "base_interval: 10s\n"
                                 "min_requests: 100\n"
                                 "services:\n"
                                 "  - name: api\n"
                                 "    environments: [blue, green]\n"
                                 "    sli: {requests: {push: true}}\n"
                                 "gate:\n"
                                 "  window: 10m\n"
                                 "  min_requests: 100\n"
                                 "  compare:\n"
                                 "    baseline: blue\n"
                                 "    max_error_rate_increase: 0.5%\n"
                                 "    max_latency_increase: 20%\n"
                                 "    confidence: 99%\n";

typedef struct scenario {
    const char *key;
    double latency_factor; /* every request */
    double tail_factor;    /* requests slower than the 97th percentile only: doubles the p99 */
    double error_increase; /* added to blue's error rate */
    int64_t deadline_ms;   /* bad scenarios: the target time to catch it; 0 for healthy ones */
} scenario;

static const scenario scenarios[] = {
    {"aa", 1.0, 1.0, 0.0, 0},
    {"latency_3pct", 1.03, 1.0, 0.0, 0},
    {"latency_10pct", 1.10, 1.0, 0.0, 0},
    {"errors_plus_0.05pct", 1.0, 1.0, 0.0005, 0},
    {"latency_30pct", 1.30, 1.0, 0.0, 3 * MIN_MS},
    {"p99_2x", 1.0, 2.0, 0.0, 3 * MIN_MS},
    {"errors_plus_2pct", 1.0, 1.0, 0.02, 2 * MIN_MS},
};
#define N_SCEN (sizeof scenarios / sizeof scenarios[0])

static const int rates[] = {10, 30, 100, 1000};
#define N_RATES (sizeof rates / sizeof rates[0])

enum { NEW, OLD, N_METHODS };
static const char *const method_names[] = {"sequential", "old_rank_test"};

/* ------------------------------------------------------------------ traffic */

static uint64_t
stream_seed(uint64_t seed, int side, int64_t tick)
{
    sw_rng r = {seed * UINT64_C(0x9E3779B97F4A7C15) ^ (uint64_t)(side + 1) << 56 ^ (uint64_t)tick};
    return sw_rng_next(&r);
}

/* One interval of raw draws: a latency histogram at blue's distribution, and the uniforms
 * that decide errors (kept as counts below each scenario's rate). */
typedef struct draws {
    sw_hdr *lat;
    uint64_t errors[N_SCEN];
} draws;

static void
draw(uint64_t seed, int side, int64_t tick, uint64_t n, draws *d)
{
    sw_rng r = {stream_seed(seed, side, tick)};
    sw_hdr_reset(d->lat);
    memset(d->errors, 0, sizeof d->errors);
    for (uint64_t i = 0; i < n; i++) {
        sw_hdr_record(d->lat, sw_rng_lognormal_us(&r, MEDIAN_US, SIGMA));
        double u = sw_rng_open01(&r);
        for (size_t k = 0; k < N_SCEN; k++)
            d->errors[k] += u < BASE_ERROR_RATE + (side == 1 ? scenarios[k].error_increase : 0);
    }
}

/* The scenario's change applied bucket by bucket to blue-distributed draws. */
static void
transform(const sw_hdr *raw, const scenario *sc, sw_hdr *out)
{
    double tail_from = MEDIAN_US * exp(SIGMA * Z_P97);
    sw_hdr_reset(out);
    sw_hdr_iter it;
    sw_hdr_iter_init(&it, raw);
    while (sw_hdr_iter_next(&it)) {
        double v = (double)it.value_lo * sc->latency_factor;
        if ((double)it.value_lo > tail_from)
            v *= sc->tail_factor;
        sw_hdr_record_n(out, (int64_t)v, it.count);
    }
}

/* ------------------------------------------------------------------ one run */

typedef struct lane {
    sw_eval *ev;
    int64_t first_fail[N_METHODS]; /* since the deployment; NEVER */
} lane;

static void
feed(sw_eval *ev, const char *env, int64_t start, uint64_t n, uint64_t errors, sw_hdr *lat)
{
    sw_sli_interval iv = {.start_ms = start,
                          .length_ms = BASE_MS,
                          .requests = n,
                          .errors = errors,
                          .latency = lat,
                          .has_data = true};
    sw_err err;
    if (sw_eval_add(ev, "api", env, &iv, &err) != SW_OK) {
        fprintf(stderr, "bench_gate: %s\n", err.msg);
        exit(1);
    }
}

/* The gate before sequential testing, at one look: any of its three comparisons failing. */
static bool
old_gate_fails(const sw_eval *ev, int64_t window_ms, sw_hdr *lat_c, sw_hdr *lat_b)
{
    sw_window_stats c, b;
    if (sw_eval_window_stats(ev, "api", "green", window_ms, lat_c, &c, NULL) != SW_OK ||
        sw_eval_window_stats(ev, "api", "blue", window_ms, lat_b, &b, NULL) != SW_OK)
        return false;
    if (c.requests < 100 || b.requests < 100)
        return false;
    double increase = (double)c.errors / (double)c.requests - (double)b.errors / (double)b.requests;
    if (increase > 0.005 || c.p95_us / b.p95_us - 1.0 > 0.2)
        return true;
    sw_ranktest_result rt;
    return sw_ranktest_mann_whitney(lat_c, lat_b, &rt, NULL) == SW_OK && rt.p_value < OLD_ALPHA;
}

typedef struct scratch {
    draws blue, green;
    sw_hdr *green_lat, *lat_c, *lat_b;
} scratch;

static void
run(const sw_rules *rules, uint64_t seed, int rate, scratch *x, lane lanes[N_SCEN])
{
    uint64_t n = (uint64_t)rate * (uint64_t)(BASE_MS / 1000);
    for (size_t k = 0; k < N_SCEN; k++) {
        if (sw_eval_new(rules, &lanes[k].ev, NULL) != SW_OK)
            exit(1);
        sw_eval_mark_deployment(lanes[k].ev, "api", "green", START_MS);
        lanes[k].first_fail[NEW] = lanes[k].first_fail[OLD] = NEVER;
    }
    for (int64_t t = 0; t < TICKS; t++) {
        int64_t start = START_MS + t * BASE_MS, now = start + BASE_MS;
        draw(seed, 0, t, n, &x->blue);
        draw(seed, 1, t, n, &x->green);
        for (size_t k = 0; k < N_SCEN; k++) {
            lane *l = &lanes[k];
            const scenario *sc = &scenarios[k];
            bool same = sc->latency_factor == 1.0 && sc->tail_factor == 1.0;
            if (!same)
                transform(x->green.lat, sc, x->green_lat);
            feed(l->ev, "blue", start, n, x->blue.errors[0], x->blue.lat);
            feed(l->ev, "green", start, n, x->green.errors[k], same ? x->green.lat : x->green_lat);
            if (sw_eval_advance(l->ev, now, NULL) != SW_OK)
                exit(1);
            int64_t window = now - START_MS < OLD_WINDOW_MS ? now - START_MS : OLD_WINDOW_MS;
            if (l->first_fail[OLD] == NEVER && old_gate_fails(l->ev, window, x->lat_c, x->lat_b))
                l->first_fail[OLD] = now - START_MS;
        }
    }
    for (size_t k = 0; k < N_SCEN; k++) {
        /* Every boundary's fail is latched: the first one is the rollback. */
        sw_gate_result g;
        if (sw_eval_gate(lanes[k].ev, "api", "green", 0, &g, NULL) != SW_OK)
            exit(1);
        if (g.failed_at_ms >= 0)
            lanes[k].first_fail[NEW] = g.failed_at_ms - START_MS;
        sw_eval_free(lanes[k].ev);
    }
}

/* ------------------------------------------------------------------ figures */

static int
cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void
print_seconds(const char *key, int64_t ms)
{
    if (ms == NEVER)
        printf("%s never s\n", key);
    else
        printf("%s %.0f s\n", key, (double)ms / 1000.0);
}

static void
report(int rate, const scenario *sc, int method, int64_t *fails, int runs)
{
    qsort(fails, (size_t)runs, sizeof *fails, cmp_i64);
    int ever = 0, in_time = 0;
    for (int i = 0; i < runs; i++) {
        ever += fails[i] != NEVER;
        in_time += sc->deadline_ms > 0 && fails[i] <= sc->deadline_ms;
    }
    char key[160];
    int n =
        snprintf(key, sizeof key, "slawatch.gate.%s.%drps.%s", sc->key, rate, method_names[method]);
    printf("%s.failed_share %.2f %%\n", key, 100.0 * ever / runs);
    if (sc->deadline_ms == 0)
        return;
    printf("%s.failed_by_%lldm_share %.2f %%\n", key, (long long)(sc->deadline_ms / MIN_MS),
           100.0 * in_time / runs);
    snprintf(key + n, sizeof key - (size_t)n, ".time_to_fail_p50");
    print_seconds(key, fails[runs / 2]);
    snprintf(key + n, sizeof key - (size_t)n, ".time_to_fail_p95");
    print_seconds(key, fails[(runs * 95 + 99) / 100 - 1]);
}

int
main(int argc, char **argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : 200;
    uint64_t first_seed = argc > 2 ? strtoull(argv[2], NULL, 10) : 1;
    int only_rate = argc > 3 ? atoi(argv[3]) : 0;
    if (runs < 1) {
        fprintf(stderr, "usage: bench_gate [runs per cell] [first seed] [one rate only]\n");
        return 2;
    }
    sw_rules *rules;
    sw_err err;
    if (sw_rules_load_mem(rules_text, sizeof rules_text - 1, "bench", &rules, NULL, &err) !=
        SW_OK) {
        fprintf(stderr, "bench_gate: %s\n", err.msg);
        return 1;
    }
    scratch x;
    sw_hdr **hists[] = {&x.blue.lat, &x.green.lat, &x.green_lat, &x.lat_c, &x.lat_b};
    for (size_t i = 0; i < sizeof hists / sizeof hists[0]; i++)
        if (sw_hdr_new(&sw_hdr_latency_config, hists[i], NULL) != SW_OK)
            return 1;
    int64_t *fails = malloc(sizeof *fails * (size_t)runs * N_SCEN * N_METHODS);
    if (fails == NULL)
        return 1;
    printf("slawatch.gate.runs_per_cell %d runs\n", runs);
    for (size_t ri = 0; ri < N_RATES; ri++) {
        if (only_rate != 0 && rates[ri] != only_rate)
            continue;
        lane lanes[N_SCEN];
        for (int i = 0; i < runs; i++) {
            run(rules, first_seed + (uint64_t)i, rates[ri], &x, lanes);
            for (size_t k = 0; k < N_SCEN; k++)
                for (int m = 0; m < N_METHODS; m++)
                    fails[((size_t)m * N_SCEN + k) * (size_t)runs + (size_t)i] =
                        lanes[k].first_fail[m];
        }
        for (size_t k = 0; k < N_SCEN; k++)
            for (int m = 0; m < N_METHODS; m++)
                report(rates[ri], &scenarios[k], m, &fails[((size_t)m * N_SCEN + k) * (size_t)runs],
                       runs);
        fflush(stdout);
    }
    free(fails);
    for (size_t i = 0; i < sizeof hists / sizeof hists[0]; i++)
        sw_hdr_free(*hists[i]);
    sw_rules_free(rules);
    return 0;
}
