/*
 * bench_expo: the cost of one /metrics answer for 100 services, in each exposition format.
 * Prints "key value unit" lines. Single-threaded; the writer and the output buffer are reused
 * from render to render, as the daemon reuses them; everything is freed before exit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "slawatch/rng.h"
#include "slawatch/buf.h"
#include "slawatch/err.h"
#include "slawatch/expo.h"
#include "slawatch/hdr.h"

#define SERVICES 100
#define GAUGE_FAMILIES 8 /* + 2 counter families: 10 families x 4 series x 100 services */
#define WINDOWS 4
#define MINUTE_COUNT 60000 /* each service's histogram: 1000 requests/s for 60 s */
#define MEDIAN_US 2000.0
#define SIGMA 1.2
#define MIN_LOOP_NS 3e8 /* each timed loop runs at least 0.3 s */
#define OUT_MAX (64u << 20)

static const char *windows[WINDOWS] = {"5m", "1h", "1d", "30d"};
static const double sla_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
static const char *gauges[GAUGE_FAMILIES] = {
    "slawatch_sli_availability_ratio", "slawatch_sli_error_ratio",
    "slawatch_sli_latency_p99_seconds", "slawatch_sli_latency_p95_seconds",
    "slawatch_objective_compliance_ratio", "slawatch_error_budget_remaining_ratio",
    "slawatch_burn_rate", "slawatch_alert_firing",
};

typedef struct fleet {
    char names[SERVICES][16];
    sw_hdr *latency[SERVICES];
} fleet;

static double
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void
put(const char *key, double value, const char *unit)
{
    printf("slawatch.expo.%-31s %14.3f %s\n", key, value, unit);
}

static _Noreturn void
die(const char *what, const sw_err *err)
{
    fflush(stdout);
    fprintf(stderr, "bench_expo: %s: %s\n", what, err != NULL ? err->msg : "failed");
    exit(1);
}

static sw_status
render_series(sw_expo *e, const fleet *f, int family, sw_err *err)
{
    sw_status st = SW_OK;
    for (int s = 0; s < SERVICES && st == SW_OK; s++) {
        for (int w = 0; w < WINDOWS && st == SW_OK; w++) {
            sw_expo_label l[] = {{"service", f->names[s]}, {"window", windows[w]}};
            st = sw_expo_sample(e, l, 2, 0.9990 + 1e-5 * (s * WINDOWS + w + family), err);
        }
    }
    return st;
}

static sw_status
render(sw_expo *e, const fleet *f, sw_err *err)
{
    static const char *counters[] = {"slawatch_requests_total", "slawatch_errors_total"};
    sw_status st = SW_OK;
    for (int c = 0; c < 2 && st == SW_OK; c++) {
        if ((st = sw_expo_family(e, counters[c], SW_EXPO_COUNTER, "Events seen.", NULL, err)) ==
            SW_OK)
            st = render_series(e, f, c, err);
    }
    for (int g = 0; g < GAUGE_FAMILIES && st == SW_OK; g++) {
        if ((st = sw_expo_family(e, gauges[g], SW_EXPO_GAUGE, "An SLI value.", NULL, err)) ==
            SW_OK)
            st = render_series(e, f, g + 2, err);
    }
    if (st == SW_OK)
        st = sw_expo_family(e, "slawatch_request_duration_seconds", SW_EXPO_HISTOGRAM,
                            "Request latency over the last minute.", "seconds", err);
    for (int s = 0; s < SERVICES && st == SW_OK; s++) {
        sw_expo_label l[] = {{"service", f->names[s]}};
        st = sw_expo_histogram(e, l, 1, f->latency[s], 1e-6, sla_bounds,
                               sizeof sla_bounds / sizeof *sla_bounds, err);
    }
    return st == SW_OK ? sw_expo_finish(e, err) : st;
}

static void
bench_format(sw_expo *e, const fleet *f, sw_expo_format format, const char *name)
{
    sw_err err = {0};
    sw_buf out;
    sw_buf_init(&out, OUT_MAX);
    long n = 0;
    double t0 = now_ns(), t1;
    do {
        sw_buf_reset(&out);
        sw_expo_begin(e, format, &out);
        if (render(e, f, &err) != SW_OK)
            die(name, &err);
        n++;
        t1 = now_ns();
    } while (t1 - t0 < MIN_LOOP_NS);
    char key[64];
    snprintf(key, sizeof key, "render_100_services_%s", name);
    put(key, (t1 - t0) / (double)n / 1e6, "ms/op");
    snprintf(key, sizeof key, "render_100_services_%s_size", name);
    put(key, (double)out.len, "bytes");
    sw_buf_fini(&out);
}

int
main(int argc, char **argv)
{
    uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 10) : 42;
    static fleet f;
    sw_err err = {0};
    sw_rng r = {seed};
    int64_t buckets = 0;
    for (int s = 0; s < SERVICES; s++) {
        snprintf(f.names[s], sizeof f.names[s], "svc-%03d", s);
        if (sw_hdr_new(&sw_hdr_latency_config, &f.latency[s], &err) != SW_OK)
            die("sw_hdr_new", &err);
        for (int i = 0; i < MINUTE_COUNT; i++)
            (void)sw_hdr_record(f.latency[s], sw_rng_lognormal_us(&r, MEDIAN_US, SIGMA));
        sw_hdr_iter it;
        sw_hdr_iter_init(&it, f.latency[s]);
        while (sw_hdr_iter_next(&it))
            buckets++;
    }
    put("hdr_nonzero_buckets_per_service", (double)buckets / SERVICES, "buckets");

    sw_expo *e;
    if (sw_expo_new(&e, &err) != SW_OK)
        die("sw_expo_new", &err);
    bench_format(e, &f, SW_EXPO_TEXT, "text");
    bench_format(e, &f, SW_EXPO_OPENMETRICS, "openmetrics");
    bench_format(e, &f, SW_EXPO_PROTOBUF, "protobuf");
    sw_expo_free(e);
    for (int s = 0; s < SERVICES; s++)
        sw_hdr_free(f.latency[s]);
    return 0;
}
