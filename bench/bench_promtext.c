/*
 * bench_promtext: MB/s of the exposition parser with every label touched, as Prometheus'
 * textparse benchmark does in its "labels" mode (Metric() + Hash() per sample). Inputs are
 * $BENCH_DATA/node_exporter.prom and large.prom when BENCH_DATA is set (shared/anchors), else a
 * generated exposition. Prints "key value unit" lines. Single-threaded.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "slawatch/buf.h"
#include "slawatch/err.h"
#include "slawatch/promtext.h"

#define MIN_LOOP_NS 1e9 /* each timed loop runs at least 1 s, as textparse_bench's -min */
#define INPUT_MAX ((size_t)1 << 30)

typedef struct hash_sink {
    uint64_t hash;
    size_t samples;
} hash_sink;

static double
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* A 64-bit hash over bytes, eight at a time (the role xxhash plays for Prometheus labels). */
static uint64_t
hash_bytes(uint64_t h, const char *p, size_t n)
{
    uint64_t w;
    for (; n >= 8; p += 8, n -= 8) {
        memcpy(&w, p, 8);
        h = (h ^ w) * 0x9e3779b97f4a7c15u;
        h ^= h >> 29;
    }
    w = 0;
    memcpy(&w, p, n);
    h = (h ^ w ^ n) * 0x9e3779b97f4a7c15u;
    return h ^ (h >> 32);
}

static sw_status
hash_sample(void *ctx, const sw_prom_sample *s, sw_err *err)
{
    (void)err;
    hash_sink *k = ctx;
    uint64_t h = hash_bytes(0, s->name, s->name_len);
    for (size_t i = 0; i < s->n_labels; i++) {
        h = hash_bytes(h, s->labels[i].name, s->labels[i].name_len);
        h = hash_bytes(h, s->labels[i].value, s->labels[i].value_len);
    }
    uint64_t v;
    memcpy(&v, &s->value, sizeof v);
    k->hash += h ^ v;
    k->samples++;
    return SW_OK;
}

static _Noreturn void
die(const char *what, const char *detail)
{
    fflush(stdout);
    fprintf(stderr, "bench_promtext: %s: %s\n", what, detail);
    exit(1);
}

static void
read_file(const char *path, sw_buf *b)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die(path, "cannot open");
    char chunk[1 << 16];
    size_t n;
    sw_err err;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (sw_buf_append(b, chunk, n, &err) != SW_OK)
            die(path, err.msg);
    fclose(f);
}

/* 20,000 series of a classic histogram with four labels, plus counters and gauges. */
static void
generate(sw_buf *b)
{
    sw_err err;
    static const double bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
    if (sw_buf_printf(b, &err, "# HELP http_request_duration_seconds Request latency.\n"
                               "# TYPE http_request_duration_seconds histogram\n") != SW_OK)
        die("generate", err.msg);
    for (int i = 0; i < 2000; i++) {
        unsigned long total = 0;
        for (size_t j = 0; j <= sizeof bounds / sizeof bounds[0]; j++) {
            total += (unsigned long)(i * 7 + j * 13);
            char le[32];
            if (j < sizeof bounds / sizeof bounds[0])
                snprintf(le, sizeof le, "%g", bounds[j]);
            else
                snprintf(le, sizeof le, "+Inf");
            sw_buf_printf(b, &err,
                          "http_request_duration_seconds_bucket{service=\"svc-%d\",env=\"green\","
                          "method=\"GET\",code=\"200\",le=\"%s\"} %lu\n",
                          i % 50, le, total);
        }
        sw_buf_printf(b, &err,
                      "http_request_duration_seconds_sum{service=\"svc-%d\",env=\"green\","
                      "method=\"GET\",code=\"200\"} %.6f\n"
                      "http_request_duration_seconds_count{service=\"svc-%d\",env=\"green\","
                      "method=\"GET\",code=\"200\"} %lu\n",
                      i % 50, total * 0.0123, i % 50, total);
    }
}

static void
bench_input(const char *name, const sw_buf *in)
{
    hash_sink k = {0};
    sw_prom_sink sink = {.ctx = &k, .sample = hash_sample};
    sw_promtext_pos where;
    sw_err err;
    if (sw_promtext_parse((const char *)in->data, in->len, SW_PROMTEXT_TEXT, &sink, &where,
                          &err) != SW_OK) {
        char detail[SW_ERR_MSG_MAX + 32];
        snprintf(detail, sizeof detail, "%u:%u: %s", where.line, where.col, err.msg);
        die(name, detail);
    }
    size_t samples = k.samples, iters = 0;
    double t0 = now_ns(), t1;
    do {
        k.samples = 0;
        sw_promtext_parse((const char *)in->data, in->len, SW_PROMTEXT_TEXT, &sink, NULL, NULL);
        iters++;
        t1 = now_ns();
    } while (t1 - t0 < MIN_LOOP_NS);
    double per_s = (t1 - t0) / 1e9 / (double)iters;
    printf("# slawatch promtext %s: %zu bytes, %zu samples (hash %llx)\n", name, in->len, samples,
           (unsigned long long)k.hash);
    printf("slawatch.promtext.labels.%s.MBps %14.3f MB/s\n", name, (double)in->len / 1e6 / per_s);
    printf("slawatch.promtext.labels.%s.Msamples_per_s %14.3f Msamples/s\n", name,
           (double)samples / 1e6 / per_s);
}

int
main(void)
{
    const char *dir = getenv("BENCH_DATA");
    static const char *const inputs[] = {"node", "node_exporter.prom", "large", "large.prom"};
    if (!dir || !*dir) {
        sw_buf b;
        sw_buf_init(&b, INPUT_MAX);
        generate(&b);
        bench_input("generated", &b);
        sw_buf_fini(&b);
        return 0;
    }
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i += 2) {
        char path[4096];
        if (snprintf(path, sizeof path, "%s/%s", dir, inputs[i + 1]) >= (int)sizeof path)
            die(inputs[i + 1], "path too long");
        sw_buf b;
        sw_buf_init(&b, INPUT_MAX);
        read_file(path, &b);
        bench_input(inputs[i], &b);
        sw_buf_fini(&b);
    }
    return 0;
}
