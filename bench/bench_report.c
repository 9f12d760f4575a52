/*
 * bench_report: the monthly report of 50 services from a store holding October 2026 at 1 m
 * resolution (imported) rolled up to 1 h and 1 d, plus base (10 s) rows for the last base_days
 * of the month (argument 2; default 2, what the store's retention keeps; 31 for the whole month).
 * The report phase runs in a fresh process (this program re-executed) so its peak RSS is the
 * report's own. Prints "key value unit" lines, each format's wall and CPU time (on a shared
 * machine the CPU time is the figure that does not move with the load); targets (issue 20):
 * <= 1 s a format, <= 100 MB.
 * With a third argument DIR the store is built there (unless DIR already holds one) and kept,
 * so the report phase can be rerun or profiled: `bench_report --report DIR`.
 * usage: bench_report [seed [base_days [DIR]]] | bench_report --report DIR
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "slawatch/buf.h"
#include "slawatch/err.h"
#include "slawatch/hdr.h"
#include "slawatch/report.h"
#include "slawatch/rng.h"
#include "slawatch/store.h"

#define SERVICES 50
#define BASE_MS INT64_C(10000)
#define VALUES_PER_BASE 100          /* recorded latencies per base interval */
#define POOL 64                      /* distinct histograms per resolution, reused across rows */
#define OCT_1 INT64_C(1790812800000) /* 2026-10-01T00:00:00Z */
#define NOV_1 INT64_C(1793491200000) /* 2026-11-01T00:00:00Z */
#define MEDIAN_US 2000.0
#define SIGMA 1.2

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* User and system CPU time of this process so far. */
static double
cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

static void
put(const char *key, double value, const char *unit)
{
    printf("slawatch.report.%-29s %14.3f %s\n", key, value, unit);
    fflush(stdout);
}

static _Noreturn void
die(const char *what, const sw_err *err)
{
    fflush(stdout);
    fprintf(stderr, "bench_report: %s: %s\n", what, err != NULL ? err->msg : "failed");
    exit(1);
}

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

#define BATCH_PERIODS 60 /* periods written per transaction: an hour of minutes */

typedef struct rows_batch {
    char names[SERVICES][16];
    sw_sli_interval ivs[BATCH_PERIODS * SERVICES];
    sw_store_row rows[BATCH_PERIODS * SERVICES];
} rows_batch;

/* One row per service starting at t, at slot p of the batch; one row in 500 of a service
 * has an error burst. */
static void
fill_batch(rows_batch *b, size_t p, int64_t t, int64_t length_ms, sw_hdr **pool, sw_rng *r)
{
    for (size_t s = p * SERVICES; s < (p + 1) * SERVICES; s++) {
        sw_sli_interval *iv = &b->ivs[s];
        *iv = (sw_sli_interval){.start_ms = t,
                                .length_ms = length_ms,
                                .has_data = true,
                                .latency = pool[sw_rng_next(r) % POOL]};
        iv->requests = (uint64_t)sw_hdr_total_count(iv->latency);
        iv->errors = sw_rng_next(r) % 500 == 0 ? iv->requests / 4 : sw_rng_next(r) % 2;
        b->rows[s] = (sw_store_row){b->names[s % SERVICES], NULL, iv};
    }
}

static void
write_span(sw_store *st, rows_batch *b, int64_t res, int64_t from, int64_t to, sw_hdr **pool,
           sw_rng *r)
{
    sw_err err = {0};
    for (int64_t t = from; t < to;) {
        size_t n = 0;
        for (; n < BATCH_PERIODS && t < to; n++, t += res)
            fill_batch(b, n, t, res, pool, r);
        sw_status s = res == BASE_MS ? sw_store_put(st, b->rows, n * SERVICES, &err)
                                     : sw_store_import(st, res, b->rows, n * SERVICES, &err);
        if (s != SW_OK)
            die("write", &err);
    }
}

/* The production commitments for every service, recorded as in force from September. */
static void
put_rules(sw_store *st, const rows_batch *b)
{
    static const char head[] = "version: 1\nbase_interval: 10s\nservices:\n";
    static const char tail[] = "objectives:\n"
                               "  - {name: availability, objective: availability >= 99.9%}\n"
                               "  - {name: latency-p95, objective: p95 <= 500ms}\n"
                               "  - {name: latency-p99, objective: p99 <= 1000ms}\n"
                               "  - {name: error-rate, objective: error_rate <= 0.1%}\n"
                               "  - {name: throughput, objective: throughput >= 1/s}\n";
    char text[sizeof head + sizeof tail + SERVICES * 160];
    size_t n = (size_t)snprintf(text, sizeof text, "%s", head);
    for (int i = 0; i < SERVICES; i++)
        n += (size_t)snprintf(text + n, sizeof text - n,
                              "  - {name: %s, sli: {requests: {push: true}, errors: {push: true}, "
                              "latency: {push: true}}}\n",
                              b->names[i]);
    n += (size_t)snprintf(text + n, sizeof text - n, "%s", tail);
    sw_err err = {0};
    if (sw_store_put_rules(st, OCT_1 - 30 * SW_STORE_1D_MS, text, n, &err) != SW_OK)
        die("rules", &err);
}

static void
build_store(const char *dir, uint64_t seed, int base_days)
{
    sw_rng r = {seed};
    static sw_hdr *base[POOL], *minute[POOL];
    static rows_batch b;
    sw_store *st = NULL;
    sw_err err = {0};
    for (int s = 0; s < SERVICES; s++)
        snprintf(b.names[s], sizeof b.names[s], "service-%03d", s);
    make_pool(base, 1, &r);
    make_pool(minute, 6, &r);
    double t0 = now_s();
    if (sw_store_open(dir, NULL, &st, &err) != SW_OK)
        die("open", &err);
    put_rules(st, &b);
    int64_t base_from = NOV_1 - base_days * SW_STORE_1D_MS;
    write_span(st, &b, SW_STORE_1M_MS, OCT_1, base_from, minute, &r);
    write_span(st, &b, BASE_MS, base_from, NOV_1, base, &r);
    /* What the daemon would have done by November: 1 m, 1 h and 1 d rows for the month. */
    if (sw_store_rollup(st, NOV_1, &err) != SW_OK)
        die("rollup", &err);
    put("store_build", now_s() - t0, "s");
    sw_store_close(st);
    for (int i = 0; i < POOL; i++) {
        sw_hdr_free(base[i]);
        sw_hdr_free(minute[i]);
    }
}

/* The report phase, in its own process: build once, write every format, peak memory. */
static int
run_report(const char *dir)
{
    static const struct {
        sw_report_format f;
        const char *name;
    } formats[] = {{SW_REPORT_HTML, "html"},
                   {SW_REPORT_MD, "md"},
                   {SW_REPORT_JSON, "json"},
                   {SW_REPORT_CSV, "csv"}};
    sw_store *st = NULL;
    sw_err err = {0};
    if (sw_store_open(dir, NULL, &st, &err) != SW_OK)
        die("open", &err);
    sw_report_request req = {.year = 2026, .month = 10, .now_ms = NOV_1 + SW_STORE_1D_MS};
    double total = 0;
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
        /* Each format timed end to end as `slawatch report` runs it: build, then write. */
        double t0 = now_s(), c0 = cpu_s();
        sw_report *rep = NULL;
        sw_buf out;
        sw_buf_init(&out, (size_t)1 << 30);
        if (sw_report_build(st, &req, &rep, &err) != SW_OK ||
            sw_report_write(rep, formats[i].f, &out, &err) != SW_OK)
            die("report", &err);
        double dt = now_s() - t0, dc = cpu_s() - c0;
        total += dt;
        char key[48];
        snprintf(key, sizeof key, "month_50_services_%s", formats[i].name);
        put(key, dt, "s");
        snprintf(key, sizeof key, "month_50_services_%s_cpu", formats[i].name);
        put(key, dc, "s");
        snprintf(key, sizeof key, "size_%s", formats[i].name);
        put(key, (double)out.len / 1e6, "MB");
        sw_report_free(rep);
        sw_buf_fini(&out);
    }
    put("month_50_services_all_formats", total, "s");
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    put("peak_rss", (double)ru.ru_maxrss / 1024.0, "MB");
    sw_store_close(st);
    return 0;
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
    if (argc == 3 && strcmp(argv[1], "--report") == 0)
        return run_report(argv[2]);
    uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : UINT64_C(42);
    int base_days = argc > 2 ? atoi(argv[2]) : 2;
    if (base_days < 0 || base_days > 31) {
        fprintf(stderr, "bench_report: base_days must be 0..31\n");
        return 2;
    }
    char tmpdir[] = "/tmp/sw-bench-report-XXXXXX";
    const char *dir = argc > 3 ? argv[3] : mkdtemp(tmpdir);
    char db[4096];
    struct stat sb;
    if (dir == NULL)
        die("mkdtemp", NULL);
    snprintf(db, sizeof db, "%s/%s", dir, SW_STORE_DB_NAME);
    if (argc <= 3 || stat(db, &sb) != 0)
        build_store(dir, seed, base_days);
    put("base_days", base_days, "days");
    pid_t pid = fork();
    if (pid == 0) {
        execl("/proc/self/exe", argv[0], "--report", dir, (char *)NULL);
        _exit(127);
    }
    int status = 1;
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        status = 1;
    if (argc <= 3)
        remove_store(dir);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
