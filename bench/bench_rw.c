/*
 * Remote-write receive path on one core: snappy + WriteRequest decode into a counting sink, and
 * the whole path into a prommap batch (decode, map, commit) for a rule set selecting node
 * exporter series. Inputs: $BENCH_DATA/rw_500.pb and rw_2000.pb from shared/anchors (raw
 * WriteRequests; compressed here with libsnappy, as a sender does). For the map, copies of
 * each request with timestamps 15 s apart, so every batch carries new samples.
 * Prints "key value unit" lines (shared/anchors/tools/median.py).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "prompb.pb-c.h"
#include "slawatch/accum.h"
#include "slawatch/prommap.h"
#include "slawatch/rules.h"
#include "slawatch/rw_recv.h"
#include "slawatch/sli.h"
#include "slawatch/snappy.h"

#define MIN_NS 5e8
#define COPIES 256
#define SHIFT_MS 15000
#define FIRST_MS INT64_C(1760000000000) /* the anchors' first timestamp */

static const char rules_text[] =
    "version: 1\nbase_interval: 10s\nservices:\n  - name: node\n    sli:\n"
    "      requests: { prometheus: 'node_cpu_seconds_total{job=\"node\"}' }\n"
    "      errors: { prometheus: 'node_cpu_seconds_total{job=\"node\",mode=\"iowait\"}' }\n"
    "objectives:\n  - name: availability\n    objective: availability >= 99.9%\n"
    "    window: 30d\n";

typedef struct body {
    uint8_t *data;
    size_t len;
} body;

/* CPU time, not wall time: on a shared machine the figures are per CPU-second of this process. */
static double
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void
put(const char *name, const char *key, double value, const char *unit)
{
    char k[128];
    snprintf(k, sizeof k, "rw.%s.%s", name, key);
    printf("%-44s %14.3f %s\n", k, value, unit);
}

static _Noreturn void
die(const char *what, const sw_err *err)
{
    fprintf(stderr, "bench_rw: %s: %s\n", what, err ? err->msg : "failed");
    exit(1);
}

static uint8_t *
slurp(const char *path, size_t *ret_len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    size_t n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *d = malloc(n + 1);
    if (d == NULL || fread(d, 1, n, f) != n)
        die("read", NULL);
    fclose(f);
    *ret_len = n;
    return d;
}

static body
compress(const uint8_t *raw, size_t n)
{
    sw_err err;
    body b = {.len = sw_snappy_max_compressed_len(n)};
    b.data = malloc(b.len);
    if (b.data == NULL || sw_snappy_compress(raw, n, b.data, &b.len, &err) != SW_OK)
        die("compress", &err);
    return b;
}

/* The request re-encoded with every timestamp moved by shift_ms, compressed. */
static body
shifted(const uint8_t *raw, size_t n, int64_t shift_ms)
{
    Prometheus__WriteRequest *req = prometheus__write_request__unpack(NULL, n, raw);
    if (req == NULL)
        die("unpack", NULL);
    for (size_t i = 0; i < req->n_timeseries; i++)
        for (size_t j = 0; j < req->timeseries[i]->n_samples; j++)
            req->timeseries[i]->samples[j]->timestamp += shift_ms;
    size_t len = prometheus__write_request__get_packed_size(req);
    uint8_t *out = malloc(len + 1);
    prometheus__write_request__pack(req, out);
    prometheus__write_request__free_unpacked(req, NULL);
    body b = compress(out, len);
    free(out);
    return b;
}

static sw_status
count_sample(void *ctx, const sw_prom_sample *s, sw_err *err)
{
    (void)err;
    *(uint64_t *)ctx += s->n_labels;
    return SW_OK;
}

static void
bench_decode(const char *name, const body *b)
{
    uint64_t labels = 0, samples = 0;
    sw_prom_sink sink = {&labels, count_sample, NULL};
    sw_err err;
    long iters = 0;
    double t0 = now_ns(), t1;
    do {
        sw_rw_counts c;
        if (sw_rw_recv_decode(b->data, b->len, NULL, &sink, &c, &err) != SW_OK)
            die("decode", &err);
        samples += c.samples;
        iters++;
        t1 = now_ns();
    } while (t1 - t0 < MIN_NS);
    put(name, "decode_us_per_request", (t1 - t0) / (double)iters / 1e3, "us");
    put(name, "decode_samples_per_cpu_s", (double)samples / ((t1 - t0) / 1e9), "samples/s");
}

static sw_status
drop_interval(void *ctx, const char *service, const char *env, sw_sli_interval *iv, sw_err *err)
{
    (void)service;
    (void)env;
    (void)err;
    *(uint64_t *)ctx += iv->requests;
    sw_sli_interval_fini(iv);
    return SW_OK;
}

/* What the daemon's tick does a minute behind the newest batch: flush the map, take intervals. */
static void
take_behind(sw_prommap *m, sw_accum *acc, int64_t until_ms, uint64_t *requests)
{
    sw_err err;
    if (sw_prommap_flush(m, until_ms, &err) != SW_OK ||
        sw_accum_take(acc, until_ms, drop_interval, requests, &err) != SW_OK)
        die("take", &err);
}

static void
bench_map(const char *name, const body *copies, size_t n_copies)
{
    sw_rules *rules;
    sw_accum *acc;
    sw_prommap *m;
    sw_err err;
    if (sw_rules_load_mem(rules_text, sizeof rules_text - 1, "bench", &rules, NULL, &err) !=
            SW_OK ||
        sw_accum_new(10000, &acc, &err) != SW_OK || sw_prommap_new(rules, acc, &m, &err) != SW_OK)
        die("map setup", &err);
    uint64_t samples = 0, requests = 0;
    size_t i = 0;
    double t0 = now_ns(), t1;
    do {
        sw_prommap_batch *b;
        sw_rw_counts c;
        if (sw_prommap_begin(m, "remote_write", NULL, 0, 0, &b, &err) != SW_OK)
            die("begin", &err);
        sw_prom_sink sink = sw_prommap_sink(b);
        if (sw_rw_recv_decode(copies[i].data, copies[i].len, NULL, &sink, &c, &err) != SW_OK) {
            sw_prommap_abort(b);
            die("decode into the map", &err);
        }
        if (sw_prommap_commit(b, &err) != SW_OK)
            die("commit", &err);
        samples += c.samples;
        take_behind(m, acc, FIRST_MS + (int64_t)i * SHIFT_MS - 60000, &requests);
        i++;
        t1 = now_ns();
    } while (t1 - t0 < MIN_NS && i < n_copies);
    sw_prommap_stats st;
    sw_prommap_stats_get(m, &st);
    put(name, "map_samples_per_cpu_s", (double)samples / ((t1 - t0) / 1e9), "samples/s");
    /* Values repeat in every copy, so increases (requests) are 0: matched shows the work. */
    if (st.matched == 0)
        die("the rules select nothing", NULL);
    put(name, "map_matched_share", (double)st.matched / (double)(st.samples ? st.samples : 1),
        "ratio");
    sw_prommap_free(m);
    sw_accum_free(acc);
    sw_rules_free(rules);
}

static void
run(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.pb", dir, name);
    size_t n;
    uint8_t *raw = slurp(path, &n);
    if (raw == NULL) {
        fprintf(stderr, "bench_rw: %s missing: run shared/anchors/run.sh once\n", path);
        exit(1);
    }
    body b = compress(raw, n);
    put(name, "compressed_bytes", (double)b.len, "B");
    bench_decode(name, &b);
    body *copies = malloc(COPIES * sizeof *copies);
    for (size_t i = 0; i < COPIES; i++)
        copies[i] = shifted(raw, n, (int64_t)i * SHIFT_MS);
    bench_map(name, copies, COPIES);
    for (size_t i = 0; i < COPIES; i++)
        free(copies[i].data);
    free(copies);
    free(b.data);
    free(raw);
}

/* `bench_rw --bodies RAW.pb OUTDIR N START_MS STEP_MS`: write N compressed copies of a raw
 * WriteRequest, copy i dated START_MS + i * STEP_MS, as OUTDIR/body_<i> (for rw_wrk.py). */
static int
write_bodies(char **argv)
{
    size_t n;
    uint8_t *raw = slurp(argv[0], &n);
    if (raw == NULL)
        die(argv[0], NULL);
    long count = strtol(argv[2], NULL, 10);
    int64_t start = strtoll(argv[3], NULL, 10), step = strtoll(argv[4], NULL, 10);
    for (long i = 0; i < count; i++) {
        body b = shifted(raw, n, start - FIRST_MS + i * step);
        char path[4096];
        snprintf(path, sizeof path, "%s/body_%ld", argv[1], i);
        FILE *f = fopen(path, "wb");
        if (f == NULL || fwrite(b.data, 1, b.len, f) != b.len || fclose(f) != 0)
            die(path, NULL);
        free(b.data);
    }
    free(raw);
    return 0;
}

int
main(int argc, char **argv)
{
    if (argc == 7 && strcmp(argv[1], "--bodies") == 0)
        return write_bodies(argv + 2);
    const char *dir = getenv("BENCH_DATA");
    if (dir == NULL)
        dir = "/tmp/slawatch-anchors/data";
    run(dir, "rw_500");
    run(dir, "rw_2000");
    return 0;
}
