/*
 * bench_scale_store: writes the store a daemon of N services would have after DAYS days, for
 * scale_serve.py's start-up figure. Services svc0 .. svcN-1, environments blue and green (the
 * names scale_serve.py's rules use); every row carries what scale_serve.py pushes: requests,
 * errors (half an error per 10 s on average: 0 or 1 in 250 requests) and a latency histogram
 * (log-normal, median 80 ms, sigma 0.5, 250 values per 10 s), no health (pushes carry none):
 * 1 d rows imported for the DAYS days before today, 1 h rows for today up to about two hours
 * ago, 1 m rows for the hour before the last one, base (10 s) rows put for the last hour, then
 * rolled up.
 * That is every row a start-up scan reads (the coarsest before the last two hours, the finest
 * after); the hours of past days, which it does not read, are left out, which keeps building a
 * store for 1,000 services to minutes. Histograms come from pools of 64 per resolution, reused
 * across rows. Prints "key value unit" lines.
 *
 *     bench_scale_store DIR N_SERVICES [DAYS [SEED]]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "slawatch/err.h"
#include "slawatch/hdr.h"
#include "slawatch/rng.h"
#include "slawatch/store.h"

#define BASE_MS INT64_C(10000)
#define VALUES_PER_BASE 250
#define POOL 64
#define MEDIAN_US 80000.0
#define SIGMA 0.5
#define ERROR_EVERY 500 /* requests per error: scale_serve.py's 0 or 1 in 250 */

static const char *const envs[] = {"blue", "green"};

typedef struct scale_batch {
    size_t n;
    char (*names)[24];
    sw_sli_interval *ivs;
    sw_store_row *rows;
} scale_batch;

static double
mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static _Noreturn void
die(const char *what, const sw_err *err)
{
    fflush(stdout);
    fprintf(stderr, "bench_scale_store: %s: %s\n", what, err != NULL ? err->msg : "failed");
    exit(1);
}

/* Histograms of one resolution: each holds `parts` base intervals' worth of values. */
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

static void
batch_init(scale_batch *b, size_t services)
{
    b->n = services * 2;
    b->names = calloc(services, sizeof *b->names);
    b->ivs = calloc(b->n, sizeof *b->ivs);
    b->rows = calloc(b->n, sizeof *b->rows);
    if (b->names == NULL || b->ivs == NULL || b->rows == NULL)
        die("out of memory", NULL);
    for (size_t s = 0; s < services; s++)
        snprintf(b->names[s], sizeof b->names[s], "svc%zu", s);
}

/* One row per series starting at t, histograms lent from pool; errors 0.2 % of the requests, as
 * scale_serve.py's pushes (0 or 1 in 250), rounded at random so base rows get 0 or 1. */
static void
fill_batch(scale_batch *b, int64_t t, int64_t length_ms, sw_hdr **pool, sw_rng *r)
{
    for (size_t i = 0; i < b->n; i++) {
        sw_sli_interval *iv = &b->ivs[i];
        *iv = (sw_sli_interval){.start_ms = t,
                                .length_ms = length_ms,
                                .has_data = true,
                                .latency = pool[sw_rng_next(r) % POOL]};
        iv->requests = (uint64_t)sw_hdr_total_count(iv->latency);
        iv->errors = (iv->requests + sw_rng_next(r) % ERROR_EVERY) / ERROR_EVERY;
        b->rows[i] = (sw_store_row){b->names[i / 2], envs[i % 2], iv};
    }
}

/* Rows of one resolution for every period in [from, to), one transaction per period. */
static size_t
write_span(sw_store *st, scale_batch *b, int64_t res, int64_t from, int64_t to, sw_hdr **pool,
           sw_rng *r)
{
    sw_err err = {0};
    size_t n = 0;
    for (int64_t t = from; t < to; t += res, n += b->n) {
        fill_batch(b, t, res, pool, r);
        sw_status s = res == BASE_MS ? sw_store_put(st, b->rows, b->n, &err)
                                     : sw_store_import(st, res, b->rows, b->n, &err);
        if (s != SW_OK)
            die("write", &err);
    }
    return n;
}

int
main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_scale_store DIR N_SERVICES [DAYS [SEED]]\n");
        return 2;
    }
    size_t services = strtoul(argv[2], NULL, 10);
    int64_t days = argc > 3 ? strtoll(argv[3], NULL, 10) : 30;
    sw_rng r = {argc > 4 ? strtoull(argv[4], NULL, 0) : UINT64_C(42)};
    if (services == 0 || days < 1)
        die("N_SERVICES and DAYS must be positive", NULL);
    static sw_hdr *base[POOL], *minute[POOL], *hour[POOL], *day[POOL];
    make_pool(base, 1, &r);
    make_pool(minute, 6, &r);
    make_pool(hour, 360, &r);
    for (int i = 0; i < POOL; i++) {
        day[i] = sw_hdr_clone(hour[i]);
        for (int k = 1; k < 24; k++)
            sw_hdr_add(day[i], hour[(i + k) % POOL]);
    }
    scale_batch b;
    batch_init(&b, services);
    sw_store *st = NULL;
    sw_err err = {0};
    if (sw_store_open(argv[1], NULL, &st, &err) != SW_OK)
        die("open", &err);

    double t0 = mono_s();
    int64_t now = (int64_t)time(NULL) * 1000;
    int64_t base_from = (now - SW_STORE_1H_MS) / BASE_MS * BASE_MS;
    int64_t minute_from = base_from - SW_STORE_1H_MS;
    minute_from -= minute_from % SW_STORE_1H_MS;
    /* Whole days before the day the 1 m rows start in (today, unless just after midnight). */
    int64_t today = minute_from / SW_STORE_1D_MS * SW_STORE_1D_MS;
    int64_t first = today - days * SW_STORE_1D_MS;
    size_t rows = write_span(st, &b, SW_STORE_1D_MS, first, today, day, &r);
    rows += write_span(st, &b, SW_STORE_1H_MS, today, minute_from, hour, &r);
    rows += write_span(st, &b, SW_STORE_1M_MS, minute_from, base_from, minute, &r);
    if (sw_store_rollup(st, base_from, &err) != SW_OK)
        die("rollup", &err);
    rows += write_span(st, &b, BASE_MS, base_from, now / BASE_MS * BASE_MS, base, &r);
    if (sw_store_rollup(st, now, &err) != SW_OK)
        die("rollup", &err);
    sw_store_close(st);
    printf("slawatch.scale.store_rows %zu rows\n", rows);
    printf("slawatch.scale.store_build %.1f s\n", mono_s() - t0);
    for (int i = 0; i < POOL; i++) {
        sw_hdr_free(base[i]);
        sw_hdr_free(minute[i]);
        sw_hdr_free(hour[i]);
        sw_hdr_free(day[i]);
    }
    free(b.names);
    free(b.ivs);
    free(b.rows);
    return 0;
}
