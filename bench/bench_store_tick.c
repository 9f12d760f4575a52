/*
 * bench_store_tick: the CPU the tick thread spends in the store's transaction, per tick and per
 * row: N series (default 2,000: scale_serve.py's 1,000 services of two environments), each a
 * 10 s row with 250 log-normal latencies (median 80 ms, sigma 0.5), written as the daemon
 * writes a tick (sw_store_put_taken, one transaction) for T ticks (default 36: six minutes, so
 * rows meet their minutes' rollup marks as a day's ticks do), the rollup (and with it the WAL's
 * checkpoint, as serve opens the store) run every sixth tick as the daemon's rollup thread would,
 * outside the tick's clock (its own CPU is reported apart). Histograms are made before each
 * tick's clock starts. HISTORY hours of 1 m rows per series are imported first (default none):
 * a store some hours old, whose series each hold more than a page of rows. ENCODED 1: each row's
 * histogram encoded before the clock starts and written in those bytes
 * (sw_store_put_taken_encoded), as serve writes an interval one commit made, whose encoding its
 * journal record holds (keys slawatch.store_tick_encoded.*); 0 (default): encoded by the store.
 *
 *     bench_store_tick [SERIES [TICKS [HISTORY [ENCODED]]]]
 *
 * Besides the CPU, the pages a tick's transaction writes (sw_store_pages_written: WAL frames,
 * spilled or committed) beside the pages its rows' bytes fill (their histograms' encodings and
 * 14 integers of 8 bytes each, an upper bound of SQLite's varints), and those of a rollup.
 * Prints "key value unit" lines; the store lives in a mkdtemp directory removed at exit.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "slawatch/err.h"
#include "slawatch/buf.h"
#include "slawatch/hdr.h"
#include "slawatch/hdr_codec.h"
#include "slawatch/rng.h"
#include "slawatch/store.h"

#define BASE_MS INT64_C(10000)
#define VALUES 250
#define WARMUP 3                  /* ticks not counted: the series are added to the store then */
#define T0 INT64_C(1796601600000) /* 2026-12-07T00:00:00Z */

static double
cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void
die(const char *what, const sw_err *err)
{
    fprintf(stderr, "bench_store_tick: %s: %s\n", what, err->msg);
    exit(1);
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

/* One tick's rows, their histograms made afresh. */
static void
make_tick(sw_rng *rng, int64_t start, sw_sli_interval *ivs, sw_store_row *rows, char (*names)[24],
          size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sw_sli_interval_fini(&ivs[i]);
        ivs[i] = (sw_sli_interval){.start_ms = start,
                                   .length_ms = BASE_MS,
                                   .requests = VALUES,
                                   .errors = i % 7 == 0,
                                   .has_data = true};
        sw_err err;
        if (sw_hdr_new(&sw_hdr_latency_config, &ivs[i].latency, &err) != SW_OK)
            die("histogram", &err);
        for (int v = 0; v < VALUES; v++)
            sw_hdr_record(ivs[i].latency, sw_rng_lognormal_us(rng, 80000.0, 0.5));
        rows[i] = (sw_store_row){names[i / 2], i % 2 == 0 ? "blue" : "green", &ivs[i]};
    }
}

/* Each row's histogram encoded into enc[i] (bytes in bufs[i]), as the journal encodes it. */
static void
encode_tick(const sw_sli_interval *ivs, sw_buf *bufs, sw_store_encoded *enc, size_t n)
{
    sw_err err;
    for (size_t i = 0; i < n; i++) {
        sw_buf_reset(&bufs[i]);
        if (sw_hdr_encode(ivs[i].latency, false, &bufs[i], &err) != SW_OK)
            die("encode", &err);
        enc[i] = (sw_store_encoded){bufs[i].data, bufs[i].len};
    }
}

/* The bytes of one tick's rows. */
static int64_t
tick_bytes(const sw_sli_interval *ivs, size_t n)
{
    sw_buf enc;
    sw_err err;
    int64_t bytes = 0;
    sw_buf_init(&enc, 1 << 20);
    for (size_t i = 0; i < n; i++) {
        sw_buf_reset(&enc);
        if (sw_hdr_encode(ivs[i].latency, false, &enc, &err) != SW_OK)
            die("encode", &err);
        bytes += (int64_t)enc.len + 14 * 8;
    }
    sw_buf_fini(&enc);
    return bytes;
}

/* hours of 1 m rows for every series before T0, imported an hour at a time and rolled up. */
static void
import_history(sw_store *st, sw_store_row *rows, sw_sli_interval *ivs, char (*names)[24], size_t n,
               int hours)
{
    sw_err err;
    for (int h = hours; h > 0; h--) {
        for (int m = 0; m < 60; m++) {
            int64_t start = T0 - h * INT64_C(3600000) + m * INT64_C(60000);
            for (size_t i = 0; i < n; i++) {
                sw_sli_interval_fini(&ivs[i]);
                ivs[i] = (sw_sli_interval){.start_ms = start,
                                           .length_ms = 60000,
                                           .requests = 6 * VALUES,
                                           .has_data = true};
                rows[i] = (sw_store_row){names[i / 2], i % 2 == 0 ? "blue" : "green", &ivs[i]};
            }
            if (sw_store_import(st, 60000, rows, n, &err) != SW_OK)
                die("import", &err);
        }
        if (sw_store_rollup(st, T0, &err) != SW_OK)
            die("rollup", &err);
    }
}

int
main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)atol(argv[1]) : 2000;
    int ticks = argc > 2 ? atoi(argv[2]) : 36;
    int history = argc > 3 ? atoi(argv[3]) : 0;
    bool encoded = argc > 4 && atoi(argv[4]) != 0;
    if (n == 0 || ticks <= WARMUP || history < 0) {
        fprintf(stderr, "usage: bench_store_tick [SERIES [TICKS > %d [HISTORY_HOURS [ENCODED]]]]\n",
                WARMUP);
        return 2;
    }
    const char *key = encoded ? "store_tick_encoded" : "store_tick";
    char dir[] = "/tmp/sw-bench-store-tick-XXXXXX";
    if (mkdtemp(dir) == NULL)
        return 1;
    sw_store *st = NULL;
    sw_err err;
    sw_store_options so = {.checkpoint_in_rollup = true}; /* as serve opens it */
    if (sw_store_open(dir, &so, &st, &err) != SW_OK)
        die("open", &err);
    sw_rng rng = {1};
    char(*names)[24] = calloc((n + 1) / 2, sizeof *names);
    sw_sli_interval *ivs = calloc(n, sizeof *ivs);
    sw_store_row *rows = calloc(n, sizeof *rows);
    sw_buf *bufs = calloc(n, sizeof *bufs);
    sw_store_encoded *enc = calloc(n, sizeof *enc);
    if (names == NULL || ivs == NULL || rows == NULL || bufs == NULL || enc == NULL)
        return 1;
    for (size_t i = 0; i < n; i++)
        sw_buf_init(&bufs[i], 1 << 20);
    for (size_t i = 0; i < (n + 1) / 2; i++)
        snprintf(names[i], sizeof names[i], "svc%zu", i);
    import_history(st, rows, ivs, names, n, history);
    double spent = 0, rollup_spent = 0;
    int64_t pages = 0, rollup_pages = 0;
    int rollups = 0;
    for (int k = 0; k < ticks; k++) {
        int64_t start = T0 + k * BASE_MS;
        make_tick(&rng, start, ivs, rows, names, n);
        if (encoded)
            encode_tick(ivs, bufs, enc, n);
        double t0 = cpu_s();
        int64_t p0 = sw_store_pages_written(st);
        if (sw_store_put_taken_encoded(st, rows, encoded ? enc : NULL, n, start + BASE_MS, &err) !=
            SW_OK)
            die("put", &err);
        if (k >= WARMUP) {
            spent += cpu_s() - t0;
            pages += sw_store_pages_written(st) - p0;
        }
        if (k % 6 != 5)
            continue;
        t0 = cpu_s();
        p0 = sw_store_pages_written(st);
        if (sw_store_rollup(st, start + BASE_MS, &err) != SW_OK)
            die("rollup", &err);
        rollup_spent += cpu_s() - t0;
        rollup_pages += sw_store_pages_written(st) - p0;
        rollups++;
    }
    double per_tick = spent / (ticks - WARMUP);
    printf("slawatch.%s.%zu_series.row_pages_per_tick %.1f pages\n", key, n,
           (double)tick_bytes(ivs, n) / 4096);
    printf("slawatch.%s.%zu_series.cpu_per_tick %.3f ms\n", key, n, per_tick * 1e3);
    printf("slawatch.%s.%zu_series.cpu_per_row %.3f us\n", key, n, per_tick / (double)n * 1e6);
    printf("slawatch.%s.%zu_series.pages_per_tick %.1f pages\n", key, n,
           (double)pages / (ticks - WARMUP));
    if (rollups > 0) {
        printf("slawatch.%s.%zu_series.rollup_cpu %.3f ms\n", key, n,
               rollup_spent / rollups * 1e3);
        printf("slawatch.%s.%zu_series.rollup_pages %.1f pages\n", key, n,
               (double)rollup_pages / rollups);
    }
    for (size_t i = 0; i < n; i++) {
        sw_sli_interval_fini(&ivs[i]);
        sw_buf_fini(&bufs[i]);
    }
    free(bufs);
    free(enc);
    free(ivs);
    free(rows);
    free(names);
    sw_store_close(st);
    remove_store(dir);
    return 0;
}
