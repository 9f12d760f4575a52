/*
 * bench_promproto: protobuf exposition decoding and histogram conversion. Prints "key value
 * unit" lines. The scrape body (built once with the generated protobuf-c code, like a client
 * library's /metrics) holds 100 services' counters, classic and native histograms; the sink
 * only counts, so the figures are the decoder's. Single-threaded; everything is freed.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics.pb-c.h"
#include "slawatch/buf.h"
#include "slawatch/promhist.h"
#include "slawatch/promproto.h"
#include "slawatch/rng.h"

#define SERVICES 100
#define ENDPOINTS 20 /* counter series per service */
#define NATIVE_BUCKETS 40
#define MIN_LOOP_NS 3e8

static const double go_buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
#define N_GO_BUCKETS (sizeof go_buckets / sizeof go_buckets[0])

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
    printf("slawatch.%-36s %14.3f %s\n", key, value, unit);
}

static _Noreturn void
die(const char *what, const sw_err *err)
{
    fflush(stdout);
    fprintf(stderr, "bench_promproto: %s: %s\n", what, err != NULL ? err->msg : "failed");
    exit(1);
}

static void
append_family(sw_buf *out, const Io__Prometheus__Client__MetricFamily *f)
{
    size_t size = protobuf_c_message_get_packed_size(&f->base);
    uint8_t head[10];
    size_t k = 0;
    for (size_t v = size;; v >>= 7) {
        head[k++] = (uint8_t)((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
        if (v < 0x80)
            break;
    }
    if (sw_buf_append(out, head, k, NULL) != SW_OK || sw_buf_reserve(out, size, NULL) != SW_OK)
        die("building the body", NULL);
    out->len += protobuf_c_message_pack(&f->base, out->data + out->len);
}

typedef struct series {
    Io__Prometheus__Client__LabelPair l[2];
    Io__Prometheus__Client__LabelPair *lp[2];
    char service[24], endpoint[24]; /* room for any int */
} series;

static void
set_labels(series *s, Io__Prometheus__Client__Metric *m, int service, int endpoint)
{
    snprintf(s->service, sizeof s->service, "svc%03d", service);
    snprintf(s->endpoint, sizeof s->endpoint, "/api/v%d", endpoint);
    for (int i = 0; i < 2; i++) {
        s->l[i] = (Io__Prometheus__Client__LabelPair)IO__PROMETHEUS__CLIENT__LABEL_PAIR__INIT;
        s->lp[i] = &s->l[i];
    }
    s->l[0].name = (char *)"service";
    s->l[0].value = s->service;
    s->l[1].name = (char *)"handler";
    s->l[1].value = s->endpoint;
    m->n_label = 2;
    m->label = s->lp;
}

/* One family per service: ENDPOINTS counters. */
static void
counters(sw_buf *out, int service)
{
    series s[ENDPOINTS];
    Io__Prometheus__Client__Metric m[ENDPOINTS], *mp[ENDPOINTS];
    Io__Prometheus__Client__Counter c[ENDPOINTS];
    for (int e = 0; e < ENDPOINTS; e++) {
        m[e] = (Io__Prometheus__Client__Metric)IO__PROMETHEUS__CLIENT__METRIC__INIT;
        c[e] = (Io__Prometheus__Client__Counter)IO__PROMETHEUS__CLIENT__COUNTER__INIT;
        c[e].has_value = true;
        c[e].value = 1000.0 * (service + 1) + e;
        m[e].counter = &c[e];
        set_labels(&s[e], &m[e], service, e);
        mp[e] = &m[e];
    }
    Io__Prometheus__Client__MetricFamily f = IO__PROMETHEUS__CLIENT__METRIC_FAMILY__INIT;
    f.name = (char *)"http_requests";
    f.has_type = true;
    f.type = IO__PROMETHEUS__CLIENT__METRIC_TYPE__COUNTER;
    f.n_metric = ENDPOINTS;
    f.metric = mp;
    append_family(out, &f);
}

/* One histogram family per service with both parts: classic Go buckets and schema 3. */
static void
histogram(sw_buf *out, int service)
{
    Io__Prometheus__Client__Bucket b[N_GO_BUCKETS], *bp[N_GO_BUCKETS];
    for (size_t i = 0; i < N_GO_BUCKETS; i++) {
        b[i] = (Io__Prometheus__Client__Bucket)IO__PROMETHEUS__CLIENT__BUCKET__INIT;
        b[i].has_upper_bound = b[i].has_cumulative_count = true;
        b[i].upper_bound = go_buckets[i];
        b[i].cumulative_count = 1000 * (i + 1);
        bp[i] = &b[i];
    }
    int64_t deltas[NATIVE_BUCKETS];
    for (int i = 0; i < NATIVE_BUCKETS; i++)
        deltas[i] = i < NATIVE_BUCKETS / 2 ? 7 : -7;
    Io__Prometheus__Client__BucketSpan span = IO__PROMETHEUS__CLIENT__BUCKET_SPAN__INIT,
                                       *sp = &span;
    span.has_offset = span.has_length = true;
    span.offset = -60;
    span.length = NATIVE_BUCKETS;
    Io__Prometheus__Client__Histogram h = IO__PROMETHEUS__CLIENT__HISTOGRAM__INIT;
    h.has_sample_count = h.has_sample_sum = h.has_schema = h.has_zero_threshold = true;
    h.sample_count = 1000 * N_GO_BUCKETS;
    h.sample_sum = 123.5;
    h.n_bucket = N_GO_BUCKETS;
    h.bucket = bp;
    h.schema = 3;
    h.zero_threshold = 1e-128;
    h.n_positive_span = 1;
    h.positive_span = &sp;
    h.n_positive_delta = NATIVE_BUCKETS;
    h.positive_delta = deltas;
    series s;
    Io__Prometheus__Client__Metric m = IO__PROMETHEUS__CLIENT__METRIC__INIT, *mp = &m;
    m.histogram = &h;
    set_labels(&s, &m, service, 0);
    Io__Prometheus__Client__MetricFamily f = IO__PROMETHEUS__CLIENT__METRIC_FAMILY__INIT;
    f.name = (char *)"http_request_duration_seconds";
    f.has_type = true;
    f.type = IO__PROMETHEUS__CLIENT__METRIC_TYPE__HISTOGRAM;
    f.n_metric = 1;
    f.metric = &mp;
    append_family(out, &f);
}

static sw_status
count_sample(void *ctx, const sw_prom_sample *s, sw_err *err)
{
    (void)s;
    (void)err;
    ++*(size_t *)ctx;
    return SW_OK;
}

static sw_status
count_native(void *ctx, const sw_prom_sample *s, const sw_prom_native *h, sw_err *err)
{
    (void)s;
    (void)h;
    (void)err;
    ++*(size_t *)ctx;
    return SW_OK;
}

static void
bench_decode(const sw_buf *body, bool native, const char *key)
{
    size_t samples = 0, rounds = 0;
    sw_prom_sink sink = {&samples, count_sample, native ? count_native : NULL};
    sw_err err = {0};
    double start = now_ns(), elapsed;
    do {
        if (sw_promproto_parse(body->data, body->len, &sink, NULL, &err) != SW_OK)
            die("decoding", &err);
        rounds++;
        elapsed = now_ns() - start;
    } while (elapsed < MIN_LOOP_NS);
    char k[64];
    snprintf(k, sizeof k, "promproto.decode_%s_mb_per_s", key);
    put(k, (double)body->len * (double)rounds / (elapsed / 1e9) / 1e6, "MB/s");
    snprintf(k, sizeof k, "promproto.decode_%s_samples_per_s", key);
    put(k, (double)samples / (elapsed / 1e9), "samples/s");
}

/* 60,000 log-normal requests in Go's default buckets, spread into a fresh HDR each time. */
static void
bench_spread(sw_hdr *h)
{
    uint64_t counts[N_GO_BUCKETS + 1] = {0};
    sw_rng rng = {.state = 42};
    for (int i = 0; i < 60000; i++) {
        double s = (double)sw_rng_lognormal_us(&rng, 50000, 1.0) / 1e6;
        size_t b = 0;
        while (b < N_GO_BUCKETS && s > go_buckets[b])
            b++;
        counts[b]++;
    }
    size_t rounds = 0;
    sw_err err = {0};
    double start = now_ns(), elapsed;
    do {
        sw_hdr_reset(h);
        for (size_t b = 0; b <= N_GO_BUCKETS; b++) {
            double lo = b == 0 ? -INFINITY : go_buckets[b - 1];
            double hi = b == N_GO_BUCKETS ? INFINITY : go_buckets[b];
            if (sw_promhist_spread(h, lo, hi, counts[b], 1e6, &err) != SW_OK)
                die("spreading", &err);
        }
        rounds++;
        elapsed = now_ns() - start;
    } while (elapsed < MIN_LOOP_NS);
    put("promhist.spread_go_default_buckets", elapsed / 1e3 / (double)rounds, "us");
}

/* A schema-8 histogram over 0.1 ms .. 10 s (~4,250 buckets) recorded into a fresh HDR. */
static void
bench_native_record(sw_hdr *h)
{
    int first = -3402, n = 4252; /* 2^(-3402/256) s ~ 0.1 ms, 2^(850/256) s ~ 10 s */
    double *counts = malloc((size_t)n * sizeof *counts);
    if (counts == NULL)
        die("allocating", NULL);
    for (int i = 0; i < n; i++)
        counts[i] = (double)(i % 17);
    sw_prom_span span = {first, (uint32_t)n};
    sw_prom_native nat = {.schema = 8,
                          .pos_spans = &span,
                          .n_pos_spans = 1,
                          .pos_counts = counts,
                          .n_pos_counts = (size_t)n};
    sw_native_dense d = {0};
    sw_err err = {0};
    if (sw_native_dense_set(&d, &nat, &err) != SW_OK)
        die("expanding", &err);
    size_t rounds = 0;
    double start = now_ns(), elapsed;
    do {
        sw_hdr_reset(h);
        if (sw_native_dense_record(&d, 1e6, h, &err) != SW_OK)
            die("recording", &err);
        rounds++;
        elapsed = now_ns() - start;
    } while (elapsed < MIN_LOOP_NS);
    put("promhist.record_native_schema8_4252_buckets", elapsed / 1e3 / (double)rounds, "us");
    sw_native_dense_fini(&d);
    free(counts);
}

int
main(void)
{
    sw_buf body;
    sw_buf_init(&body, (size_t)64 << 20);
    for (int s = 0; s < SERVICES; s++) {
        counters(&body, s);
        histogram(&body, s);
    }
    put("promproto.body_size", (double)body.len, "bytes");
    bench_decode(&body, true, "native");
    bench_decode(&body, false, "classic");
    sw_hdr *h = NULL;
    sw_err err = {0};
    if (sw_hdr_new(&sw_hdr_latency_config, &h, &err) != SW_OK)
        die("allocating", &err);
    bench_spread(h);
    bench_native_record(h);
    sw_hdr_free(h);
    sw_buf_fini(&body);
    return 0;
}
