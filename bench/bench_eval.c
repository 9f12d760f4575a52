/*
 * bench_eval: the evaluator at production scale. 100 services under the rule set of
 * rules/production.yaml (built here as structs: 5 objectives with month p95/p99, 8 alerts with
 * 4 burn-rate ones up to 3 d, 3 rollback triggers, the gate), fed 3 days of 10 s intervals
 * (1000 requests/s, a few errors, a sampled log-normal latency histogram, a health probe) with
 * an advance after every interval, as the daemon runs. Then one tick (every service's next
 * interval) is timed many times. Prints "key value unit" lines; single-threaded.
 */
#include <malloc.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "heap.h"
#include "slawatch/rng.h"
#include "slawatch/eval.h"

#define SERVICES 100
#define BASE_MS INT64_C(10000)
#define MIN_MS INT64_C(60000)
#define HOUR_MS (60 * MIN_MS)
#define DAY_MS (24 * HOUR_MS)
#define START_MS INT64_C(1790640000000) /* 2026-09-29T00:00:00Z: the month turns on day 3 */
#define FEED_MS (3 * DAY_MS)
#define TIMED_TICKS 360 /* one more hour, each tick timed */
#define REQUESTS 10000  /* 1000/s over 10 s */
#define SAMPLES 250     /* latency values per interval, a sample of its 10,000 requests */
#define TEMPLATES 64    /* distinct interval histograms, reused */
#define MEDIAN_US 80000.0
#define SIGMA 0.6

/* ------------------------------------------------------------------ the production rules */

typedef struct prod {
    sw_rules rules;
    sw_service services[SERVICES];
    char names[SERVICES][16];
    const char *envs[2];
    sw_objective objectives[5];
    sw_alert alerts[8];
    sw_alert triggers[3];
    sw_condition checks[3];
} prod;

static sw_condition
cond(sw_sli sli, sw_op op, double value)
{
    return (sw_condition){.sli = sli, .op = op, .value = value};
}

static sw_condition
pct(double p, sw_op op, double value_us)
{
    return (sw_condition){.sli = SW_SLI_LATENCY, .percentile = p, .op = op, .value = value_us};
}

static sw_objective
month_objective(const char *name, sw_condition c)
{
    return (sw_objective){.name = name,
                          .objective = c,
                          .window = {SW_WINDOW_MONTH, 0},
                          .budgeting = SW_BUDGET_EVENTS,
                          .slice_ms = MIN_MS,
                          .slice_target = 0.99};
}

static sw_alert
when(const char *name, sw_condition c, int64_t for_ms)
{
    return (sw_alert){
        .name = name, .kind = SW_ALERT_CONDITION, .when = c, .over_ms = MIN_MS, .for_ms = for_ms};
}

static sw_alert
burn(const char *name, double factor, int64_t long_ms, int64_t short_ms)
{
    return (sw_alert){.name = name,
                      .kind = SW_ALERT_BURN_RATE,
                      .objective = 0,
                      .burn_rate = factor,
                      .long_ms = long_ms,
                      .short_ms = short_ms};
}

static void
prod_objectives(prod *p)
{
    p->objectives[0] = month_objective("availability", cond(SW_SLI_AVAILABILITY, SW_OP_GE, 0.999));
    p->objectives[1] = month_objective("latency-p95", pct(95, SW_OP_LE, 500000));
    p->objectives[2] = month_objective("latency-p99", pct(99, SW_OP_LE, 1000000));
    p->objectives[3] = month_objective("error-rate", cond(SW_SLI_ERROR_RATE, SW_OP_LE, 0.001));
    p->objectives[4] = month_objective("throughput", cond(SW_SLI_THROUGHPUT, SW_OP_GE, 1000));
}

static void
prod_alerts(prod *p)
{
    p->alerts[0] = when("ErrorRateHigh", cond(SW_SLI_ERROR_RATE, SW_OP_GT, 0.01), 5 * MIN_MS);
    p->alerts[1] = when("ErrorRateVeryHigh", cond(SW_SLI_ERROR_RATE, SW_OP_GT, 0.05), 5 * MIN_MS);
    p->alerts[2] = when("LatencyP95High", pct(95, SW_OP_GT, 800000), 10 * MIN_MS);
    p->alerts[3] =
        when("HealthChecksFailing", cond(SW_SLI_HEALTH_CONSECUTIVE_FAILURES, SW_OP_GT, 3), 0);
    p->alerts[4] = burn("ErrorBudgetBurn1h", 14.4, HOUR_MS, 5 * MIN_MS);
    p->alerts[5] = burn("ErrorBudgetBurn6h", 6, 6 * HOUR_MS, 30 * MIN_MS);
    p->alerts[6] = burn("ErrorBudgetBurn1d", 3, DAY_MS, 2 * HOUR_MS);
    p->alerts[7] = burn("ErrorBudgetBurn3d", 1, 3 * DAY_MS, 6 * HOUR_MS);
    p->triggers[0] =
        when("HealthChecksFailing", cond(SW_SLI_HEALTH_CONSECUTIVE_FAILURES, SW_OP_GT, 3), 0);
    p->triggers[1] = when("ErrorRateSpike", cond(SW_SLI_ERROR_RATE, SW_OP_GT, 0.05), 2 * MIN_MS);
    p->triggers[2] = when("LatencyP95Spike", pct(95, SW_OP_GT, 2000000), 5 * MIN_MS);
}

static void
prod_init(prod *p)
{
    memset(p, 0, sizeof *p);
    p->envs[0] = "blue";
    p->envs[1] = "green";
    for (int i = 0; i < SERVICES; i++) {
        snprintf(p->names[i], sizeof p->names[i], "svc-%03d", i);
        p->services[i] =
            (sw_service){.name = p->names[i], .environments = p->envs, .n_environments = 2};
    }
    prod_objectives(p);
    prod_alerts(p);
    p->checks[0] = cond(SW_SLI_ERROR_RATE, SW_OP_LE, 0.01);
    p->checks[1] = pct(95, SW_OP_LE, 500000);
    p->checks[2] = pct(99, SW_OP_LE, 1000000);
    p->rules = (sw_rules){
        .base_interval_ms = BASE_MS,
        .min_requests = 100,
        .services = p->services,
        .n_services = SERVICES,
        .objectives = p->objectives,
        .n_objectives = 5,
        .alerts = p->alerts,
        .n_alerts = 8,
        .triggers = p->triggers,
        .n_triggers = 3,
        .gate = {.window_ms = 10 * MIN_MS,
                 .min_requests = 100,
                 .checks = p->checks,
                 .n_checks = 3,
                 .baseline = "blue",
                 .max_error_rate_increase = 0.005,
                 .max_latency_increase = 0.2,
                 .confidence = 0.99},
    };
}

/* ------------------------------------------------------------------ feeding */

typedef struct feeder {
    sw_hdr *templates[TEMPLATES];
    sw_rng r;
} feeder;

static void
feeder_init(feeder *f, int samples)
{
    f->r.state = 42;
    for (int t = 0; t < TEMPLATES; t++) {
        if (sw_hdr_new(&sw_hdr_latency_config, &f->templates[t], NULL) != SW_OK)
            abort();
        for (int i = 0; i < samples; i++)
            sw_hdr_record(f->templates[t], sw_rng_lognormal_us(&f->r, MEDIAN_US, SIGMA));
    }
}

static void
feeder_fini(feeder *f)
{
    for (int t = 0; t < TEMPLATES; t++)
        sw_hdr_free(f->templates[t]);
}

/* Service i's interval at start: a few errors; every tenth service has a 2 % incident
 * during the last six hours of the feed, so burn-rate windows have something to find. */
static void
feed_one(feeder *f, sw_eval *ev, const prod *p, int i, int64_t start)
{
    bool incident =
        i % 10 == 0 && start >= START_MS + FEED_MS - 6 * HOUR_MS && start < START_MS + FEED_MS;
    sw_sli_interval iv = {
        .start_ms = start, .length_ms = BASE_MS, .requests = REQUESTS, .has_data = true};
    iv.errors = incident ? REQUESTS / 50 : sw_rng_next(&f->r) % 5;
    sw_health_record(&iv.health, true);
    iv.latency = f->templates[sw_rng_next(&f->r) % TEMPLATES];
    sw_err err;
    if (sw_eval_add(ev, p->names[i], NULL, &iv, &err) != SW_OK) {
        fprintf(stderr, "bench_eval: add: %s\n", err.msg);
        exit(1);
    }
}

static void
tick(feeder *f, sw_eval *ev, const prod *p, int64_t start)
{
    for (int i = 0; i < SERVICES; i++)
        feed_one(f, ev, p, i, start);
}

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void
advance(sw_eval *ev, int64_t now_ms)
{
    sw_err err;
    if (sw_eval_advance(ev, now_ms, &err) != SW_OK) {
        fprintf(stderr, "bench_eval: advance: %s\n", err.msg);
        exit(1);
    }
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
    static prod p;
    feeder f;
    int samples = argc > 1 ? atoi(argv[1]) : SAMPLES;
    if (samples < 1 || samples > 100000) {
        fprintf(stderr, "usage: bench_eval [latency values per interval, default %d]\n", SAMPLES);
        return 2;
    }
    prod_init(&p);
    feeder_init(&f, samples);
    size_t before = bench_heap_in_use();
    sw_eval *ev;
    if (sw_eval_new(&p.rules, &ev, NULL) != SW_OK)
        return 1;
    double feed_start = now_s();
    int64_t t = START_MS;
    for (; t < START_MS + FEED_MS; t += BASE_MS) {
        tick(&f, ev, &p, t);
        advance(ev, t + BASE_MS);
    }
    double feed_s = now_s() - feed_start;
    size_t bytes = bench_heap_in_use() - before;
    static double ms[TIMED_TICKS];
    for (int k = 0; k < TIMED_TICKS; k++, t += BASE_MS) {
        tick(&f, ev, &p, t);
        double t0 = now_s();
        advance(ev, t + BASE_MS);
        ms[k] = (now_s() - t0) * 1e3;
    }
    qsort(ms, TIMED_TICKS, sizeof ms[0], cmp_double);
    printf("slawatch.eval.tick_100_services %.3f ms\n", ms[TIMED_TICKS / 2]);
    printf("slawatch.eval.tick_100_services_p99 %.3f ms\n", ms[TIMED_TICKS * 99 / 100]);
    printf("slawatch.eval.bytes_per_service %zu bytes\n", bytes / SERVICES);
    printf("slawatch.eval.total_memory %.1f MB\n", (double)bytes / 1e6);
    printf("slawatch.eval.feed_3_days %.1f s\n", feed_s);
    sw_eval_free(ev);
    feeder_fini(&f);
    return 0;
}
