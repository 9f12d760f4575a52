/*
 * bench_rw_send: the cost of remote write out for 100 services (api-like traffic): one tick's worth
 * of samples (4 counters and a cumulative latency histogram per service) turned into native
 * buckets and encoded into one request, and the request's size. Prints "key value unit"
 * lines. Single-threaded; no network: the sender's thread only adds the POST.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "slawatch/err.h"
#include "slawatch/expo.h"
#include "slawatch/hdr.h"
#include "slawatch/rng.h"
#include "slawatch/rw_encode.h"

#define SERVICES 100
#define PER_SERVICE 5
#define HOUR_COUNT 3600000 /* each service's totals: 1000 requests/s for an hour */
#define MEDIAN_US 2000.0
#define SIGMA 1.2
#define MIN_LOOP_NS 3e8

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
    printf("slawatch.rw_send.%-28s %14.3f %s\n", key, value, unit);
}

static _Noreturn void
die(const char *what, const sw_err *err)
{
    fflush(stdout);
    fprintf(stderr, "bench_rw_send: %s: %s\n", what, err != NULL ? err->msg : "failed");
    exit(1);
}

typedef struct fleet {
    char names[SERVICES][16];
    sw_rw_label labels[SERVICES][PER_SERVICE][2];
    sw_rw_series series[SERVICES][PER_SERVICE];
    sw_hdr *latency[SERVICES];
    sw_rw_sample samples[SERVICES * PER_SERVICE];
} fleet;

static const char *const metric_names[PER_SERVICE] = {
    "slawatch_requests_total", "slawatch_request_errors_total", "slawatch_health_probes_total",
    "slawatch_health_probe_failures_total", "slawatch_request_duration_seconds"};

static void
fleet_init(fleet *f)
{
    sw_rng rng = {42};
    sw_err err;
    for (size_t s = 0; s < SERVICES; s++) {
        snprintf(f->names[s], sizeof f->names[s], "svc-%03zu", s);
        if (sw_hdr_new(&sw_hdr_latency_config, &f->latency[s], &err) != SW_OK)
            die("hdr", &err);
        for (int i = 0; i < HOUR_COUNT / 100; i++)
            sw_hdr_record_n(f->latency[s], sw_rng_lognormal_us(&rng, MEDIAN_US, SIGMA), 100);
        for (size_t m = 0; m < PER_SERVICE; m++) {
            f->labels[s][m][0] = (sw_rw_label){"__name__", metric_names[m]};
            f->labels[s][m][1] = (sw_rw_label){"service", f->names[s]};
            f->series[s][m] = (sw_rw_series){f->labels[s][m], 2};
        }
    }
}

/* One tick: native buckets of every histogram, then the samples. */
static size_t
build_tick(fleet *f, sw_expo *e, int64_t ts)
{
    size_t n = 0, buckets = 0;
    sw_err err;
    for (size_t s = 0; s < SERVICES; s++) {
        for (size_t m = 0; m + 1 < PER_SERVICE; m++)
            f->samples[n++] = (sw_rw_sample){&f->series[s][m], ts, 1e6, NULL};
        sw_expo_native nat;
        sw_rw_hist *h;
        if (sw_expo_native_of(e, f->latency[s], 1e-6, &nat, &err) != SW_OK ||
            sw_rw_hist_new(&nat, &h, &err) != SW_OK)
            die("native", &err);
        buckets += nat.n;
        f->samples[n++] = (sw_rw_sample){&f->series[s][PER_SERVICE - 1], ts, 0, h};
    }
    return buckets;
}

static void
free_tick(fleet *f)
{
    for (size_t i = 0; i < SERVICES * PER_SERVICE; i++)
        sw_rw_hist_free(f->samples[i].hist);
}

int
main(void)
{
    static fleet f;
    fleet_init(&f);
    sw_expo *e;
    sw_err err;
    if (sw_expo_new(&e, &err) != SW_OK)
        die("expo", &err);
    sw_buf out;
    sw_buf_init(&out, 64u << 20);
    size_t buckets = 0, loops = 0;
    double t0 = now_ns(), build_ns = 0, encode_ns = 0;
    while (now_ns() - t0 < MIN_LOOP_NS || loops < 3) {
        double a = now_ns();
        buckets = build_tick(&f, e, (int64_t)loops);
        double b = now_ns();
        sw_buf_reset(&out);
        if (sw_rw_encode(f.samples, SERVICES * PER_SERVICE, &out, &err) != SW_OK)
            die("encode", &err);
        encode_ns += now_ns() - b;
        build_ns += b - a;
        free_tick(&f);
        loops++;
    }
    put("native_buckets_per_histogram", (double)buckets / SERVICES, "buckets");
    put("tick_native_conversion_100_services", build_ns / (double)loops / 1e6, "ms");
    put("tick_encode_500_samples", encode_ns / (double)loops / 1e6, "ms");
    put("request_bytes_500_samples", (double)out.len, "bytes");
    put("request_bytes_per_histogram", (double)out.len / SERVICES, "bytes");
    sw_buf_fini(&out);
    sw_expo_free(e);
    for (size_t s = 0; s < SERVICES; s++)
        sw_hdr_free(f.latency[s]);
    return 0;
}
