/*
 * bench_store: figures for the SQLite store, on a store shaped like a production one for 100
 * services: 1 d and 1 h rows for 35 days, 1 m rows for the last 2 days, base (10 s) rows for the
 * last 6 hours, every row with a latency histogram (base: 300 log-normal values); and the
 * daemon's start: the evaluator rebuilt from a 30-day scan. Prints
 * "key value unit" lines. Single-threaded; the store lives in a mkdtemp directory removed at exit.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "slawatch/rng.h"
#include "slawatch/err.h"
#include "slawatch/eval.h"
#include "slawatch/hdr.h"
#include "slawatch/store.h"

#define SERVICES 100
#define BASE_MS INT64_C(10000)
#define VALUES_PER_BASE 300 /* recorded latencies per base interval */
#define POOL 64             /* distinct histograms per resolution, reused across rows */
#define BASE_SPAN_MS (6 * SW_STORE_1H_MS)
#define MINUTE_SPAN_MS (2 * SW_STORE_1D_MS)
#define COARSE_SPAN_MS (35 * SW_STORE_1D_MS)
#define SCAN_SPAN_MS (30 * SW_STORE_1D_MS)
#define FINE_SPAN_MS (2 * SW_STORE_1H_MS)
/* "now": 13:00 UTC, so today's 1 d row is not complete, as in a running daemon. */
#define NOW_MS (INT64_C(1700006400000) + 13 * SW_STORE_1H_MS)
#define MEDIAN_US 2000.0
#define SIGMA 1.2

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void
put(const char *key, double value, const char *unit)
{
    printf("slawatch.store.%-29s %14.3f %s\n", key, value, unit);
}

static _Noreturn void
die(const char *what, const sw_err *err)
{
    fflush(stdout);
    fprintf(stderr, "bench_store: %s: %s\n", what, err != NULL ? err->msg : "failed");
    exit(1);
}

/* Histograms of one resolution: each merges `parts` histograms of VALUES_PER_BASE values. */
static void
make_pool(sw_hdr **pool, int parts, sw_rng *r)
{
    for (int i = 0; i < POOL; i++) {
        if (sw_hdr_new(&sw_hdr_latency_config, &pool[i], NULL) != SW_OK)
            die("sw_hdr_new", NULL);
        for (int64_t v = 0; v < (int64_t)parts * VALUES_PER_BASE; v++)
            sw_hdr_record(pool[i], sw_rng_lognormal_us(r, MEDIAN_US, SIGMA));
    }
}

typedef struct rows_batch {
    char names[SERVICES][16];
    sw_sli_interval ivs[SERVICES];
    sw_store_row rows[SERVICES];
} rows_batch;

/* One row per service starting at t, histograms lent from pool. */
static void
fill_batch(rows_batch *b, int64_t t, int64_t length_ms, sw_hdr **pool, sw_rng *r)
{
    for (int s = 0; s < SERVICES; s++) {
        sw_sli_interval *iv = &b->ivs[s];
        *iv = (sw_sli_interval){.start_ms = t, .length_ms = length_ms, .has_data = true,
                                .latency = pool[sw_rng_next(r) % POOL]};
        iv->requests = (uint64_t)sw_hdr_total_count(iv->latency);
        iv->errors = sw_rng_next(r) % 3;
        sw_health_record(&iv->health, sw_rng_next(r) % 100 != 0);
        b->rows[s] = (sw_store_row){b->names[s], NULL, iv};
    }
}

/* Write rows of one resolution for every period in [from, to), one transaction per period. */
static double
write_span(sw_store *st, rows_batch *b, int64_t res, int64_t from, int64_t to, sw_hdr **pool,
           sw_rng *r)
{
    sw_err err = {0};
    size_t n = 0;
    double t0 = now_s();
    for (int64_t t = from; t < to; t += res, n += SERVICES) {
        fill_batch(b, t, res, pool, r);
        sw_status s = res == BASE_MS ? sw_store_put(st, b->rows, SERVICES, &err)
                                     : sw_store_import(st, res, b->rows, SERVICES, &err);
        if (s != SW_OK)
            die("write", &err);
    }
    return (double)n / (now_s() - t0);
}

typedef struct scan_count {
    uint64_t intervals;
    uint64_t requests;
} scan_count;

static sw_status
count_interval(void *ctx, const char *service, const char *env, const sw_sli_interval *iv,
               sw_err *err)
{
    scan_count *c = ctx;
    (void)service;
    (void)env;
    (void)err;
    c->intervals++;
    c->requests += iv->requests;
    return SW_OK;
}

static void
bench_scan(sw_store *st)
{
    sw_err err = {0};
    scan_count c = {0};
    double t0 = now_s();
    if (sw_store_scan(st, NULL, NOW_MS - SCAN_SPAN_MS, NOW_MS, NOW_MS - FINE_SPAN_MS,
                      count_interval, &c, &err) != SW_OK)
        die("scan", &err);
    put("scan_30d_100_services", now_s() - t0, "s");
    put("scan_30d_intervals_visited", (double)c.intervals, "intervals");
}

/* The rules for the rebuild: production's objectives and alerts for each bench service. */
static sw_rules *
bench_rules(const rows_batch *b)
{
    static const char head[] = "version: 1\nbase_interval: 10s\nservices:\n";
    static const char tail[] =
        "objectives:\n"
        "  - {name: availability, objective: availability >= 99.9%, window: month}\n"
        "  - {name: latency-p95, objective: p95 <= 500ms, window: month}\n"
        "  - {name: latency-p99, objective: p99 <= 1000ms, window: month}\n"
        "  - {name: rolling, objective: error_rate <= 0.1%, window: 30d}\n"
        "alerts:\n"
        "  - {name: ErrorRateHigh, when: error_rate > 1%, for: 5m}\n"
        "  - {name: LatencyP95High, when: p95 > 800ms, for: 10m}\n"
        "  - {name: Burn1h, burn_rate: 14.4, objective: availability, long: 1h, short: 5m}\n"
        "  - {name: Burn3d, burn_rate: 1, objective: availability, long: 3d, short: 6h}\n";
    size_t cap = sizeof head + sizeof tail + SERVICES * 96;
    char *text = malloc(cap);
    size_t n = (size_t)snprintf(text, cap, "%s", head);
    for (int i = 0; i < SERVICES; i++)
        n += (size_t)snprintf(text + n, cap - n, "  - {name: %s, sli: {requests: {push: true}}}\n",
                              b->names[i]);
    n += (size_t)snprintf(text + n, cap - n, "%s", tail);
    sw_rules *rules;
    sw_err err = {0};
    if (sw_rules_load_mem(text, n, "bench rules", &rules, NULL, &err) != SW_OK)
        die("rules", &err);
    free(text);
    return rules;
}

static sw_status
feed_decoded(void *ctx, const char *service, const char *env, const sw_sli_interval *iv,
             sw_err *err)
{
    return sw_eval_add(ctx, service, env, iv, err);
}

static sw_status
feed_encoded(void *ctx, const char *service, const char *env, const sw_sli_interval *iv,
             const uint8_t *latency, size_t latency_len, sw_err *err)
{
    return sw_eval_add_encoded(ctx, service, env, iv, latency, latency_len, err);
}

static double
cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* What the daemon does on start and reload (daemon/daemon_rebuild.c): scan, feed, evaluate. The
 * 30-day rolling objective makes the whole span hourly rows. `encoded` as the daemon feeds (the
 * stored encodings packed straight into the evaluator), else each row's histogram decoded and
 * fed (as it did before): both in one run, so under the same load. */
static void
bench_rebuild(sw_store *st, const rows_batch *b, bool encoded)
{
    sw_rules *rules = bench_rules(b);
    sw_eval *ev;
    sw_err err = {0};
    double t0 = now_s(), c0 = cpu_s();
    if (sw_eval_new(rules, &ev, &err) != SW_OK)
        die("eval", &err);
    sw_eval_alerts_from(ev, NOW_MS - SW_STORE_1H_MS);
    int64_t from = NOW_MS - SCAN_SPAN_MS, fine_from = NOW_MS - FINE_SPAN_MS;
    sw_status s = encoded ? sw_store_scan_encoded(st, NULL, from, NOW_MS, fine_from, SW_STORE_1H_MS,
                                                  feed_encoded, ev, &err)
                          : sw_store_scan_upto(st, NULL, from, NOW_MS, fine_from, SW_STORE_1H_MS,
                                               feed_decoded, ev, &err);
    if (s != SW_OK || sw_eval_advance(ev, NOW_MS, &err) != SW_OK)
        die("rebuild", &err);
    const char *key = encoded ? "rebuild_30d_100_services" : "rebuild_30d_100_services_decoded";
    char cpu_key[64];
    snprintf(cpu_key, sizeof cpu_key, "%s.cpu", key);
    put(key, now_s() - t0, "s");
    put(cpu_key, cpu_s() - c0, "s");
    sw_eval_free(ev);
    sw_rules_free(rules);
}

static void
bench_rollup(sw_store *st)
{
    sw_err err = {0};
    double t0 = now_s();
    if (sw_store_rollup(st, NOW_MS, &err) != SW_OK)
        die("rollup", &err);
    double t1 = now_s();
    if (sw_store_rollup(st, NOW_MS, &err) != SW_OK)
        die("rollup", &err);
    put("rollup_6h_100_services", t1 - t0, "s");
    put("rollup_nothing_new", (now_s() - t1) * 1e3, "ms");
}

static void
remove_store(const char *dir)
{
    static const char *const names[] = {"slawatch.db", "slawatch.db-wal", "slawatch.db-shm"};
    char path[128];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
}

int
main(int argc, char **argv)
{
    sw_rng r = {argc > 1 ? strtoull(argv[1], NULL, 0) : UINT64_C(42)};
    static sw_hdr *base[POOL], *minute[POOL], *hour[POOL], *day[POOL / 4];
    static rows_batch b;
    char dir[] = "/tmp/sw-bench-store-XXXXXX";
    sw_store *st = NULL;
    sw_err err = {0};
    for (int s = 0; s < SERVICES; s++)
        snprintf(b.names[s], sizeof b.names[s], "service-%03d", s);
    make_pool(base, 1, &r);
    make_pool(minute, 6, &r);
    make_pool(hour, 360, &r);
    for (int i = 0; i < POOL / 4; i++) {
        day[i] = sw_hdr_clone(hour[i]);
        for (int k = 1; k < 24; k++)
            sw_hdr_add(day[i], hour[(i + k) % POOL]);
    }
    if (mkdtemp(dir) == NULL || sw_store_open(dir, NULL, &st, &err) != SW_OK)
        die("open", &err);

    int64_t today = NOW_MS / SW_STORE_1D_MS * SW_STORE_1D_MS;
    int64_t base_from = NOW_MS - BASE_SPAN_MS;
    write_span(st, &b, SW_STORE_1D_MS, today - COARSE_SPAN_MS, today, day, &r);
    write_span(st, &b, SW_STORE_1H_MS, today - COARSE_SPAN_MS, base_from, hour, &r);
    write_span(st, &b, SW_STORE_1M_MS, NOW_MS - MINUTE_SPAN_MS, base_from, minute, &r);
    /* The imports marked their coarser periods: roll those up before anything is timed. */
    if (sw_store_rollup(st, base_from, &err) != SW_OK)
        die("rollup", &err);
    put("intervals_written_per_s", write_span(st, &b, BASE_MS, base_from, NOW_MS, base, &r),
        "intervals/s");
    bench_rollup(st);
    bench_scan(st);
    bench_rebuild(st, &b, true);
    bench_rebuild(st, &b, false);

    sw_store_close(st);
    remove_store(dir);
    for (int i = 0; i < POOL; i++) {
        sw_hdr_free(base[i]);
        sw_hdr_free(minute[i]);
        sw_hdr_free(hour[i]);
    }
    for (int i = 0; i < POOL / 4; i++)
        sw_hdr_free(day[i]);
    return 0;
}
