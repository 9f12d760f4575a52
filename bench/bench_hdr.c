/*
 * bench_hdr: figures for slawatch's HDR histogram, on the same input and with the same keys
 * (prefixed "slawatch.") as the HdrHistogram_c anchor in shared/anchors/hdr, so the anchors'
 * run.sh puts both in one table and the comparison is a ratio. Prints "key value unit" lines.
 * Single-threaded; everything it allocates is freed before exit.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "slawatch/rng.h"
#include "slawatch/buf.h"
#include "slawatch/err.h"
#include "slawatch/hdr.h"
#include "slawatch/hdr_codec.h"
#include "sw_config.h"

/*
 * The latency stream: microseconds, log-normal with median 2 ms and sigma 1.2, clamped to
 * [1 us, 1 h], drawn from splitmix64 (Box-Muller, first draw for the radius, second for the
 * angle). With the default seed it is value for value the stream of the anchor.
 */
#define STREAM_LEN (UINT64_C(1) << 22) /* 4 Mi values, 32 MiB, generated before any timing */
#define DEFAULT_SEED UINT64_C(42)
#define MEDIAN_US 2000.0
#define SIGMA 1.2

#define MIN_LOOP_NS 3e8         /* each timed loop runs at least 0.3 s */
#define RECORD_PASSES 32        /* record: 32 passes over the stream = 134M values */
#define BIG_COUNT 10000000      /* the "10M" histograms */
#define MINUTE_COUNT 60000      /* a one-minute histogram: 1000 requests/s for 60 s */
#define ENC_BUF_MAX (64u << 20) /* cap of the reused encoder buffer */

/* A month-long latency window: 30 days of 10 s intervals of 250 latencies each, log-normal with
 * median 80 ms and sigma 0.5 (scale_serve's services), each interval added as its sorted
 * buckets, as a packed interval is added to a window. */
#define MONTH_INTERVALS (30 * 8640)
#define INTERVAL_VALUES 250
#define MONTH_MEDIAN_US 80000.0
#define MONTH_SIGMA 0.5

static volatile int64_t sink_i64; /* results go here so the timed calls cannot be dropped */

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
    printf("slawatch.hdr.%-31s %14.3f %s\n", key, value, unit);
}

static _Noreturn void
die(const char *what, const sw_err *err)
{
    fflush(stdout);
    fprintf(stderr, "bench_hdr: %s: %s\n", what, err != NULL ? err->msg : "failed");
    exit(1);
}

static sw_hdr *
new_latency_hdr(void)
{
    sw_err err = {0};
    sw_hdr *h = NULL;

    if (sw_hdr_new(&sw_hdr_latency_config, &h, &err) != SW_OK)
        die("sw_hdr_new", &err);
    return h;
}

/* Record stream values 0, 1, ... n - 1 (wrapping around the stream) into h. */
static void
record_from_stream(sw_hdr *h, const int64_t *stream, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        (void)sw_hdr_record(h, stream[(uint64_t)i & (STREAM_LEN - 1)]);
}

static void
record_from_rng(sw_hdr *h, uint64_t seed, int64_t n)
{
    sw_rng r = {seed};

    for (int64_t i = 0; i < n; i++)
        (void)sw_hdr_record(h, sw_rng_lognormal_us(&r, MEDIAN_US, SIGMA));
}

static void
bench_record(sw_hdr *h, const int64_t *stream)
{
    const int64_t n = RECORD_PASSES * (int64_t)STREAM_LEN;
    double t0, t1;

    record_from_stream(h, stream, (int64_t)STREAM_LEN); /* warm-up: pages and caches */
    sw_hdr_reset(h);
    t0 = now_ns();
    for (int64_t i = 0; i < n; i++)
        (void)sw_hdr_record(h, stream[(uint64_t)i & (STREAM_LEN - 1)]);
    t1 = now_ns();
    sink_i64 = sw_hdr_total_count(h);
    if (sw_hdr_total_count(h) != n)
        die("record", NULL);
    put("record_value", (t1 - t0) / (double)n, "ns/op");
}

static void
bench_percentiles(const sw_hdr *a)
{
    static const struct {
        double p;
        const char *key;
    } cases[] = {
        {99.0, "value_at_percentile_p99"},
        {50.0, "value_at_percentile_p50"},
        {99.9, "value_at_percentile_p99.9"},
    };

    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        int64_t iters = 0, acc = 0;
        double t0 = now_ns(), t1;

        do {
            for (int j = 0; j < 256; j++)
                acc += sw_hdr_value_at_percentile(a, cases[k].p);
            iters += 256;
            t1 = now_ns();
        } while (t1 - t0 < MIN_LOOP_NS);
        sink_i64 = acc;
        put(cases[k].key, (t1 - t0) / (double)iters, "ns/op");
    }
    /* The answer, to check the stream and the percentile convention against the anchor. */
    put("p99_of_10M_stream_us", (double)sw_hdr_value_at_percentile(a, 99.0), "us");
}

/* dst += b repeatedly (the anchor's loop); then dst += b, dst -= b alternately, each timed. */
static void
bench_add_subtract(const sw_hdr *a, const sw_hdr *b)
{
    sw_hdr *dst = new_latency_hdr();
    sw_err err = {0};
    int64_t iters = 0, nonzero = 0;
    double t0, t1, add_ns = 0, sub_ns = 0;
    sw_hdr_iter it;

    sw_hdr_add(dst, a);
    sw_hdr_add(dst, b); /* warm-up */
    t0 = now_ns();
    do {
        sw_hdr_add(dst, b);
        iters++;
        t1 = now_ns();
    } while (t1 - t0 < MIN_LOOP_NS);
    sink_i64 = sw_hdr_total_count(dst);
    put("add_10M_into_10M", (t1 - t0) / (double)iters / 1e3, "us/op");

    sw_hdr_reset(dst);
    sw_hdr_add(dst, a); /* dst = a; each round makes it a + b, then a again */
    iters = 0;
    while (add_ns + sub_ns < 2 * MIN_LOOP_NS) {
        double ta = now_ns(), tb, tc;

        sw_hdr_add(dst, b);
        tb = now_ns();
        if (sw_hdr_subtract(dst, b, &err) != SW_OK)
            die("sw_hdr_subtract", &err);
        tc = now_ns();
        add_ns += tb - ta;
        sub_ns += tc - tb;
        iters++;
    }
    sink_i64 = sw_hdr_total_count(dst);
    if (sw_hdr_total_count(dst) != sw_hdr_total_count(a))
        die("add then subtract did not restore the total count", NULL);
    put("add_10M_into_10M_alternating", add_ns / (double)iters / 1e3, "us/op");
    put("subtract_10M_from_20M", sub_ns / (double)iters / 1e3, "us/op");

    sw_hdr_iter_init(&it, b);
    while (sw_hdr_iter_next(&it))
        nonzero++;
    put("add_src_nonzero_buckets", (double)nonzero, "buckets");
    sw_hdr_free(dst);
}

/* Time one encoder call into the reused buffer; returns the output length. */
static size_t
time_encode(const sw_hdr *m, bool base64, sw_buf *out, const char *key)
{
    sw_err err = {0};
    int64_t iters = 0;
    double t0, t1;
    sw_status st;

    sw_buf_reset(out); /* warm-up: the buffer's first growth is not what slawatch repeats */
    st = base64 ? sw_hdr_encode_base64(m, out, &err) : sw_hdr_encode(m, true, out, &err);
    if (st != SW_OK)
        die(key, &err);
    t0 = now_ns();
    do {
        sw_buf_reset(out);
        st = base64 ? sw_hdr_encode_base64(m, out, &err) : sw_hdr_encode(m, true, out, &err);
        if (st != SW_OK)
            die(key, &err);
        iters++;
        t1 = now_ns();
    } while (t1 - t0 < MIN_LOOP_NS);
    sink_i64 = (int64_t)out->len;
    put(key, (t1 - t0) / (double)iters / 1e3, "us/op");
    return out->len;
}

static void
bench_codec(const sw_hdr *a, uint64_t seed)
{
    sw_hdr *m = new_latency_hdr();
    sw_buf out, text;
    sw_err err = {0};
    int64_t iters = 0;
    double t0, t1;
    size_t len;

    record_from_rng(m, seed, MINUTE_COUNT);
    sw_buf_init(&out, ENC_BUF_MAX);
    sw_buf_init(&text, ENC_BUF_MAX);

    len = time_encode(m, false, &out, "encode_compressed_1min");
    put("encode_compressed_1min_size", (double)len, "bytes");
    len = time_encode(m, true, &out, "log_encode_1min");
    put("log_encode_1min_size", (double)len, "bytes(base64)");

    /* Decode a copy of that text (the encoder's buffer is not where a reader's input lives). */
    if (sw_buf_append(&text, out.data, out.len, &err) != SW_OK)
        die("sw_buf_append", &err);
    t0 = now_ns();
    do {
        sw_hdr *d = NULL;

        if (sw_hdr_decode_base64((const char *)text.data, text.len, &d, &err) != SW_OK)
            die("sw_hdr_decode_base64", &err);
        sink_i64 = sw_hdr_total_count(d);
        sw_hdr_free(d);
        iters++;
        t1 = now_ns();
    } while (t1 - t0 < MIN_LOOP_NS);
    put("log_decode_1min", (t1 - t0) / (double)iters / 1e3, "us/op");
    if (sink_i64 != MINUTE_COUNT)
        die("decoded histogram has the wrong total count", NULL);

    sw_buf_reset(&out);
    if (sw_hdr_encode_base64(a, &out, &err) != SW_OK)
        die("sw_hdr_encode_base64 (10M)", &err);
    put("log_encode_10M_size", (double)out.len, "bytes(base64)");

    sw_buf_fini(&text);
    sw_buf_fini(&out);
    sw_hdr_free(m);
}

static int
cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* One interval's values as its buckets: sorted lowest values and their counts; how many. */
static size_t
interval_buckets(const sw_hdr *layout, sw_rng *r, int64_t *values, int64_t *counts)
{
    int64_t v[INTERVAL_VALUES];
    size_t n = 0;
    for (int i = 0; i < INTERVAL_VALUES; i++)
        v[i] =
            sw_hdr_lowest_equivalent(layout, sw_rng_lognormal_us(r, MONTH_MEDIAN_US, MONTH_SIGMA));
    qsort(v, INTERVAL_VALUES, sizeof v[0], cmp_i64);
    for (int i = 0; i < INTERVAL_VALUES; i++) {
        if (n > 0 && values[n - 1] == v[i]) {
            counts[n - 1]++;
            continue;
        }
        values[n] = v[i];
        counts[n++] = 1;
    }
    return n;
}

/* ns per call of sw_hdr_value_at_percentile(h, p). */
static double
percentile_ns(const sw_hdr *h, double p)
{
    int64_t iters = 0, acc = 0;
    double t0 = now_ns(), t1;
    do {
        for (int j = 0; j < 256; j++)
            acc += sw_hdr_value_at_percentile(h, p);
        iters += 256;
        t1 = now_ns();
    } while (t1 - t0 < MIN_LOOP_NS);
    sink_i64 = acc;
    return (t1 - t0) / (double)iters;
}

/*
 * The month window as a window holds it (fed its intervals' buckets: paged once wide), beside
 * a twin fed the same intervals from a dense histogram (which keeps a dense range, the form a
 * month window had before the paged one); their answers must agree.
 */
static void
bench_month_window(uint64_t seed)
{
    sw_hdr *w = new_latency_hdr(), *twin = new_latency_hdr(), *iv = NULL;
    sw_err err = {0};
    if (sw_hdr_new_dense(&sw_hdr_latency_config, &iv, &err) != SW_OK)
        die("sw_hdr_new_dense", &err);
    int64_t values[INTERVAL_VALUES], counts[INTERVAL_VALUES];
    sw_rng r = {seed};
    double add_ns = 0;
    for (int i = 0; i < MONTH_INTERVALS; i++) {
        size_t n = interval_buckets(w, &r, values, counts);
        double t0 = now_ns();
        sw_hdr_record_sorted(w, values, counts, n);
        add_ns += now_ns() - t0;
        sw_hdr_record_sorted(iv, values, counts, n);
        sw_hdr_add(twin, iv);
        sw_hdr_reset(iv);
    }
    if (sw_hdr_total_count(w) != (int64_t)MONTH_INTERVALS * INTERVAL_VALUES ||
        sw_hdr_total_count(twin) != sw_hdr_total_count(w))
        die("month window: totals", NULL);
    put("month_window_add_interval", add_ns / MONTH_INTERVALS, "ns/op");
    put("month_window_memory", (double)sw_hdr_memory_size(w), "bytes");
    put("month_window_memory_range", (double)sw_hdr_memory_size(twin), "bytes");
    put("month_window_buckets", (double)sw_hdr_recorded_buckets(w), "buckets");
    static const double ps[] = {50.0, 95.0, 99.0, 99.9};
    for (size_t k = 0; k < sizeof ps / sizeof ps[0]; k++)
        if (sw_hdr_value_at_percentile(w, ps[k]) != sw_hdr_value_at_percentile(twin, ps[k]))
            die("month window: a percentile differs from the range's", NULL);
    put("month_window_p99", percentile_ns(w, 99.0), "ns/op");
    put("month_window_p95", percentile_ns(w, 95.0), "ns/op");
    put("month_window_p50", percentile_ns(w, 50.0), "ns/op");
    put("month_window_range_p99", percentile_ns(twin, 99.0), "ns/op");
    put("month_window_range_p50", percentile_ns(twin, 50.0), "ns/op");
    sw_hdr_free(iv);
    sw_hdr_free(twin);
    sw_hdr_free(w);
}

int
main(int argc, char **argv)
{
    uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : DEFAULT_SEED;
    int64_t *stream = malloc(STREAM_LEN * sizeof *stream);
    sw_hdr *h, *a, *b;

    if (stream == NULL) {
        fprintf(stderr, "bench_hdr: out of memory\n");
        return 1;
    }
    {
        sw_rng r = {seed};
        for (uint64_t i = 0; i < STREAM_LEN; i++)
            stream[i] = sw_rng_lognormal_us(&r, MEDIAN_US, SIGMA);
    }
#ifdef __OPTIMIZE__
    printf("# slawatch %s bench_hdr: optimised build\n", SW_VERSION);
#else
    printf("# slawatch %s bench_hdr: UNOPTIMISED build, figures are not comparable\n", SW_VERSION);
#endif

    h = new_latency_hdr();
    put("memory_footprint", (double)sw_hdr_memory_size(h), "bytes");
    bench_record(h, stream);

    a = new_latency_hdr();
    b = new_latency_hdr();
    record_from_stream(a, stream, BIG_COUNT);
    record_from_rng(b, seed + 1, BIG_COUNT);
    bench_percentiles(a);
    bench_add_subtract(a, b);
    bench_codec(a, seed + 2);
    bench_month_window(seed + 3);

    sw_hdr_free(b);
    sw_hdr_free(a);
    sw_hdr_free(h);
    free(stream);
    return 0;
}
