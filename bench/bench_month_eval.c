/*
 * bench_month_eval: what the evaluator of an instance that has run a month holds per service,
 * measured, not added up from its parts. The production rules (rules/production.yaml's
 * objectives, alerts, triggers and gate) for N services of two environments (blue, green, as
 * scale_serve.py writes them), fed as a live instance is fed: DAYS days of the month (default
 * 30, ending 2026-12-31T00:00Z) of 250 requests and log-normal latencies (median 80 ms, sigma
 * 0.5) every 10 s, about half an error each. The days before the last FINE_HOURS (default 72,
 * the longest alert window) come as hourly intervals, which the month's latency windows and hourly
 * rings hold just as they hold a live instance's (the base and minute rings have let those
 * days go by then); the last FINE_HOURS come at the base interval, every boundary advanced, so
 * the rings, the kept interval histograms and the windows end full, as a month-old instance's
 * are. A daemon started on a 30-day store (scale_serve.py tick --store) holds less: its
 * rebuild fed the rings hours but for the last two (FINE_HOURS 2 is its evaluator; bench/
 * README.md, "h23mem").
 *
 *     bench_month_eval [N_SERVICES [DAYS [FINE_HOURS [RULES]]]]
 *
 * Memory: glibc's bytes in use (mallinfo2: the arenas' chunks and the blocks mmap'd apart, the
 * thread caches off, so freed chunks are not counted) held by the evaluator at the end, per
 * service; of them the kept interval histograms, the history rings' blocks, the latency
 * windows' merged histograms and the slice verdicts as the evaluator sizes them. Prints "key value
 * unit" lines.
 */
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "heap.h"
#include "slawatch/buf.h"
#include "slawatch/err.h"
#include "slawatch/eval.h"
#include "slawatch/hdr.h"
#include "slawatch/rng.h"
#include "slawatch/rules.h"

#include "eval_int.h"

#define BASE_MS INT64_C(10000)
#define HOUR_MS INT64_C(3600000)
#define DAY_MS INT64_C(86400000)
#define END_MS INT64_C(1798675200000) /* 2026-12-31T00:00:00Z */
#define VALUES 250
#define POOL 64

static const char *const envs[] = {"blue", "green"};

static _Noreturn void
die(const char *what, const sw_err *err)
{
    fflush(stdout);
    fprintf(stderr, "bench_month_eval: %s: %s\n", what, err != NULL ? err->msg : "failed");
    exit(1);
}

static double
cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The rules file's text with its services replaced by svc0 .. svcN-1 of two environments (as
 * bench/mem_serve.py's rules_for). */
static char *
rules_text(const char *path, int n)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        die(path, NULL);
    static char text[1 << 20];
    size_t len = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[len] = '\0';
    char *services = strstr(text, "services:\n"), *tail = strstr(text, "\n# The SLA");
    if (services == NULL || tail == NULL)
        die("no services section ending before \"# The SLA\"", NULL);
    size_t head = (size_t)(services - text) + strlen("services:\n");
    size_t cap = len + (size_t)n * 160 + 1;
    char *out = malloc(cap);
    if (out == NULL)
        die("out of memory", NULL);
    memcpy(out, text, head);
    size_t at = head;
    for (int i = 0; i < n; i++)
        at += (size_t)snprintf(out + at, cap - at,
                               "  - name: svc%d\n    environments: [blue, green]\n    sli: "
                               "{requests: {push: true}, errors: {push: true}, latency: {push: "
                               "true}}\n",
                               i);
    snprintf(out + at, cap - at, "%s", tail);
    return out;
}

/* POOL histograms of `parts` base intervals' values each. */
static sw_hdr **
pool_of(sw_rng *r, int parts)
{
    sw_hdr **pool = calloc(POOL, sizeof *pool);
    sw_err err = {0};
    for (int k = 0; pool != NULL && k < POOL; k++) {
        if (sw_hdr_new(&sw_hdr_latency_config, &pool[k], &err) != SW_OK)
            die("histogram", &err);
        for (int i = 0; i < VALUES * parts; i++)
            sw_hdr_record(pool[k], sw_rng_lognormal_us(r, 80000, 0.5));
    }
    if (pool == NULL)
        die("out of memory", NULL);
    return pool;
}

/* Every series' interval [start, start + len) from the pool. */
static void
feed_all(sw_eval *ev, sw_rng *r, int n, sw_hdr **pool, int64_t start, int64_t len)
{
    sw_err err = {0};
    char name[24];
    for (int i = 0; i < n; i++) {
        snprintf(name, sizeof name, "svc%d", i);
        for (int e = 0; e < 2; e++) {
            sw_sli_interval iv;
            memset(&iv, 0, sizeof iv);
            iv.start_ms = start;
            iv.length_ms = len;
            iv.has_data = true;
            iv.latency = pool[sw_rng_next(r) % POOL];
            iv.requests = (uint64_t)sw_hdr_total_count(iv.latency);
            iv.errors = sw_rng_next(r) % (uint64_t)(2 * len / BASE_MS + 1) / 2;
            if (sw_eval_add(ev, name, envs[e], &iv, &err) != SW_OK)
                die("feeding", &err);
        }
    }
}

/* Bytes the series hold in kept interval histograms, ring blocks and latency windows. */
static void
print_kinds(const sw_eval *ev)
{
    size_t chists = 0, kept = 0, rings = 0, windows = 0, slices = 0, hours = 0;
    for (size_t i = 0; i < ev->n_series; i++) {
        const sw_series *s = ev->series[i];
        const sw_ring *base = &s->hist.level[SW_LEVEL_BASE];
        for (uint64_t q = s->hist.latency_first; q < base->end; q++) {
            const sw_lat_rec *l = sw_history_lat(&s->hist, q);
            if (l != NULL && l->latency != NULL) {
                chists += malloc_usable_size(l->latency);
                kept++;
            }
        }
        for (int l = 0; l < SW_LEVELS; l++) {
            const sw_ring *r = &s->hist.level[l];
            for (size_t b = 0; b < r->n_blocks; b++)
                rings += malloc_usable_size(r->blocks[(r->block_head + b) % r->block_cap].data);
        }
        for (size_t o = 0; o < s->rules->n_objectives; o++)
            slices += s->slices[o] != NULL ? sw_slices_bytes(s->slices[o]) : 0;
        for (size_t w = 0; w < s->plan->n_lat; w++) {
            const sw_lat_window *lw = &s->lat[w];
            windows += lw->acc != NULL ? sw_hdr_memory_size(lw->acc) : 0;
            windows += lw->build != NULL ? sw_hdr_memory_size(lw->build) : 0;
            windows += lw->view != NULL ? sw_hdr_memory_size(lw->view) : 0;
            for (size_t k = 0; k < lw->n_hours; k++)
                hours += malloc_usable_size(lw->hours[k]);
        }
    }
    printf("interval_histograms_per_series %.0f B\n", (double)chists / (double)ev->n_series);
    printf("interval_histograms_kept_per_series %.1f count\n", (double)kept / (double)ev->n_series);
    printf("ring_blocks_per_series %.0f B\n", (double)rings / (double)ev->n_series);
    printf("latency_windows_per_series %.0f B\n", (double)windows / (double)ev->n_series);
    printf("packed_hours_per_series %.0f B\n", (double)hours / (double)ev->n_series);
    printf("slice_verdicts_per_series %.0f B\n", (double)slices / (double)ev->n_series);
}

int
main(int argc, char **argv)
{
    bench_without_thread_caches("bench_month_eval", argv);
    int n = argc > 1 ? atoi(argv[1]) : 20;
    int days = argc > 2 ? atoi(argv[2]) : 30;
    int fine_hours = argc > 3 ? atoi(argv[3]) : 72;
    const char *path = argc > 4 ? argv[4] : "rules/production.yaml";
    if (n < 1 || days < 1 || fine_hours < 0 || fine_hours > 24 * days)
        die("usage: bench_month_eval [N_SERVICES [DAYS [FINE_HOURS [RULES]]]]", NULL);
    sw_err err = {0};
    sw_rules *rules;
    char *text = rules_text(path, n);
    if (sw_rules_load_mem(text, strlen(text), path, &rules, NULL, &err) != SW_OK)
        die(path, &err);
    sw_rng r = {2026};
    sw_hdr **hours = pool_of(&r, (int)(HOUR_MS / BASE_MS)), **bases = pool_of(&r, 1);
    size_t before = bench_heap_in_use();
    sw_eval *ev;
    if (sw_eval_new(rules, &ev, &err) != SW_OK)
        die("evaluator", &err);
    int64_t from = END_MS - days * DAY_MS, fine_from = END_MS - fine_hours * HOUR_MS;
    double t0 = cpu_s();
    sw_eval_alerts_from(ev, fine_from);
    for (int64_t t = from; t < fine_from; t += HOUR_MS)
        feed_all(ev, &r, n, hours, t, HOUR_MS);
    if (sw_eval_advance(ev, fine_from, &err) != SW_OK)
        die("advance", &err);
    double t1 = cpu_s();
    for (int64_t t = fine_from; t < END_MS; t += BASE_MS) {
        feed_all(ev, &r, n, bases, t, BASE_MS);
        if (sw_eval_advance(ev, t + BASE_MS, &err) != SW_OK)
            die("advance", &err);
    }
    double t2 = cpu_s();
    malloc_trim(0);
    size_t held = bench_heap_in_use() - before;
    printf("services %d count\n", n);
    printf("days %d days\n", days);
    printf("fine_hours %d h\n", fine_hours);
    printf("feed_hours_cpu %.1f s\n", t1 - t0);
    printf("feed_base_cpu %.1f s\n", t2 - t1);
    printf("evaluator_bytes_per_service %.0f B\n", (double)held / n);
    print_kinds(ev);
    sw_eval_free(ev);
    for (int k = 0; k < POOL; k++) {
        sw_hdr_free(hours[k]);
        sw_hdr_free(bases[k]);
    }
    free(hours);
    free(bases);
    sw_rules_free(rules);
    free(text);
    return 0;
}
