/*
 * bench_history: one series' interval history (evaluator/history.c) at full retention. The
 * history is configured as the plan of a rule set configures it (default rules/production.yaml)
 * and fed DAYS days (default 31, so that every level is full) of 10 s intervals shaped like
 * production's: 250 +- 30 requests, about 0.5 errors, one probe (a failure now and then), 10 s
 * of data, a slow count per latency threshold, each dropped as the tick drops
 * (sw_history_drop at the interval's end).
 *
 *     bench_history [RULES [DAYS]]
 *
 * Memory is the history's own struct (a series embeds it) and what it holds in malloc'd bytes
 * (glibc's mallinfo2 in-use and mmap'd bytes before and after, glibc's thread caches off, so
 * whatever the rings' layout it is counted alike): once with the counts alone and once with a
 * packed latency histogram of 250 log-normal values per interval, of which the history keeps
 * latency_keep_ms. Then each level's buckets, its blocks' bytes as allocated (malloc_usable_size)
 * and its blocks. CPU: ns per append (with its drop), per window sum as the tick asks them (the
 * windows ending at the newest interval, lengths 5 m to 30 d, with and without maintenance), per
 * sum over random windows, and per tick window over a day of boundaries more, searched and read
 * on from the last boundary's fingers. Prints "key value unit" lines.
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
#include "slawatch/hdr.h"
#include "slawatch/rng.h"
#include "slawatch/rules.h"

#include "eval_int.h"

#define BASE_MS INT64_C(10000)
#define T0 INT64_C(1796601600000) /* 2026-12-07T00:00:00Z */
#define SUM_ROUNDS 2000

static double
cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void
draw_interval(sw_rng *r, size_t n_sums, int64_t start, sw_sli_interval *iv, sw_sums *s)
{
    memset(iv, 0, sizeof *iv);
    memset(s, 0, sizeof *s);
    iv->start_ms = start;
    iv->length_ms = BASE_MS;
    bool ok = sw_rng_next(r) % 500 != 0;
    sw_health_record(&iv->health, ok);
    s->v[SW_SUM_REQUESTS] = 220 + sw_rng_next(r) % 61;
    s->v[SW_SUM_ERRORS] = sw_rng_next(r) % 4 == 0 ? 1 + sw_rng_next(r) % 3 : 0;
    s->v[SW_SUM_PROBES] = 1;
    s->v[SW_SUM_FAILURES] = !ok;
    s->v[SW_SUM_DATA_MS] = BASE_MS;
    s->v[SW_SUM_LAT_TOTAL] = s->v[SW_SUM_REQUESTS];
    for (size_t k = SW_SUM_SLOW; k < n_sums; k++)
        s->v[k] = sw_rng_next(r) % (25 >> (k - SW_SUM_SLOW));
}

static sw_chist *
latency(sw_rng *r, sw_hdr *h, sw_buf *buf)
{
    sw_hdr_reset(h);
    for (int i = 0; i < 250; i++)
        sw_hdr_record(h, sw_rng_lognormal_us(r, 80000, 0.5));
    sw_chist *c = NULL;
    sw_err err = {0};
    if (sw_chist_pack(h, buf, &c, &err) != SW_OK) {
        fprintf(stderr, "bench_history: %s\n", err.msg);
        exit(1);
    }
    return c;
}

#define DAY_INTERVALS (86400000 / BASE_MS)

/* Feed days of intervals; returns the CPU ns per append and drop (a day's intervals and
 * histograms are made before the clock starts, so it times those two calls alone). */
static double
feed(sw_history *h, const sw_history_config *cfg, int days, bool with_latency)
{
    sw_rng r = {2026};
    sw_hdr *hdr;
    sw_buf buf;
    sw_err err = {0};
    sw_buf_init(&buf, SIZE_MAX);
    sw_sli_interval *iv = calloc(DAY_INTERVALS, sizeof *iv);
    sw_sums *s = calloc(DAY_INTERVALS, sizeof *s);
    sw_chist **lat = calloc(DAY_INTERVALS, sizeof *lat);
    if (iv == NULL || s == NULL || lat == NULL || sw_hdr_new(&sw_hdr_latency_config, &hdr, &err))
        exit(1);
    double spent = 0;
    for (int64_t day = 0; day < days; day++) {
        for (int64_t i = 0; i < DAY_INTERVALS; i++) {
            draw_interval(&r, cfg->n_sums, T0 + (day * DAY_INTERVALS + i) * BASE_MS, &iv[i], &s[i]);
            lat[i] = with_latency ? latency(&r, hdr, &buf) : NULL;
        }
        double t = cpu_ns();
        for (int64_t i = 0; i < DAY_INTERVALS; i++) {
            if (sw_history_append(h, &iv[i], &s[i], false, lat[i], &err) != SW_OK ||
                sw_history_drop(h, iv[i].start_ms + iv[i].length_ms, &err) != SW_OK) {
                fprintf(stderr, "bench_history: %s\n", err.msg);
                exit(1);
            }
        }
        spent += cpu_ns() - t;
    }
    sw_hdr_free(hdr);
    sw_buf_fini(&buf);
    free(iv);
    free(s);
    free(lat);
    return spent / (double)(days * DAY_INTERVALS);
}

/* Where the bytes go: each level's buckets, its blocks' bytes as allocated and its blocks. */
static void
print_levels(const sw_history *h)
{
    static const char *const names[SW_LEVELS] = {"base", "minute", "hour"};
    for (int l = 0; l < SW_LEVELS; l++) {
        const sw_ring *r = &h->level[l];
        size_t coded = 0;
        for (size_t i = 0; i < r->n_blocks; i++)
            coded += malloc_usable_size(r->blocks[(r->block_head + i) % r->block_cap].data);
        printf("%s_buckets %llu count\n", names[l], (unsigned long long)(r->end - r->first));
        printf("%s_block_bytes %zu B\n", names[l], coded);
        printf("%s_blocks %zu count\n", names[l], r->n_blocks);
    }
}

static const int64_t tick_windows_ms[] = {
    5 * SW_MINUTE_MS, 30 * SW_MINUTE_MS, SW_HOUR_MS,       6 * SW_HOUR_MS,
    24 * SW_HOUR_MS,  72 * SW_HOUR_MS,   720 * SW_HOUR_MS,
};
#define N_TICK_WINDOWS (sizeof tick_windows_ms / sizeof tick_windows_ms[0])

static void
bench_sums(const sw_history *h, int64_t now, int days)
{
    sw_sums s;
    uint64_t sink = 0;
    double t = cpu_ns();
    for (int round = 0; round < SUM_ROUNDS; round++)
        for (size_t w = 0; w < N_TICK_WINDOWS; w++)
            for (int excl = 0; excl < 2; excl++) {
                sw_history_sums(h, now - tick_windows_ms[w], now, excl, &s);
                sink += s.v[SW_SUM_REQUESTS];
            }
    double tick_ns = (cpu_ns() - t) / (SUM_ROUNDS * N_TICK_WINDOWS * 2.0);
    sw_rng r = {7};
    int64_t span = days * 86400000LL;
    t = cpu_ns();
    for (int i = 0; i < SUM_ROUNDS * 10; i++) {
        int64_t to = now - (int64_t)(sw_rng_next(&r) % (uint64_t)span);
        int64_t from = to - (int64_t)(sw_rng_next(&r) % (uint64_t)span);
        sw_history_sums(h, from, to, false, &s);
        sink += s.v[SW_SUM_REQUESTS];
    }
    double random_ns = (cpu_ns() - t) / (SUM_ROUNDS * 10.0);
    printf("sum_tick_windows %.1f ns\n", tick_ns);
    printf("sum_random_windows %.1f ns\n", random_ns);
    printf("sum_checksum %llu count\n", (unsigned long long)sink);
}

/* The tick windows asked at each boundary of a day more (each boundary's interval appended and
 * dropped first, untimed): searched (sw_history_sums) and read on from the last boundary's
 * fingers (sw_history_sums_on), which one first alternating; the fingers' bytes after. */
static void
bench_moving(sw_history *h, const sw_history_config *cfg, int64_t now)
{
    sw_rng r = {99};
    sw_sums s;
    sw_err err = {0};
    uint64_t sink = 0;
    double spent[2] = {0, 0};
    size_t before = bench_heap_in_use();
    for (int64_t i = 0; i < DAY_INTERVALS; i++) {
        sw_sli_interval iv;
        sw_sums add;
        draw_interval(&r, cfg->n_sums, now + i * BASE_MS, &iv, &add);
        int64_t t = iv.start_ms + iv.length_ms;
        if (sw_history_append(h, &iv, &add, false, NULL, &err) != SW_OK ||
            sw_history_drop(h, t, &err) != SW_OK) {
            fprintf(stderr, "bench_history: %s\n", err.msg);
            exit(1);
        }
        for (int k = 0; k < 2; k++) {
            int on = (int)((i + k) % 2);
            double t0 = cpu_ns();
            for (size_t w = 0; w < N_TICK_WINDOWS; w++)
                for (int excl = 0; excl < 2; excl++) {
                    if (on)
                        sw_history_sums_on(h, t - tick_windows_ms[w], t, excl, &s);
                    else
                        sw_history_sums(h, t - tick_windows_ms[w], t, excl, &s);
                    sink += s.v[SW_SUM_REQUESTS];
                }
            spent[on] += cpu_ns() - t0;
        }
    }
    double per = (double)DAY_INTERVALS * N_TICK_WINDOWS * 2.0;
    printf("sum_tick_windows_moving_searched %.1f ns\n", spent[0] / per);
    printf("sum_tick_windows_moving_fingers %.1f ns\n", spent[1] / per);
    printf("fingers_bytes %zu B\n", bench_heap_in_use() - before);
    printf("sum_moving_checksum %llu count\n", (unsigned long long)sink);
}

int
main(int argc, char **argv)
{
    bench_without_thread_caches("bench_history", argv);
    const char *path = argc > 1 ? argv[1] : "rules/production.yaml";
    int days = argc > 2 ? atoi(argv[2]) : 31;
    sw_rules *rules;
    sw_plan plan;
    sw_err err = {0};
    if (sw_rules_load_file(path, &rules, NULL, &err) != SW_OK ||
        sw_plan_init(&plan, rules, &err) != SW_OK) {
        fprintf(stderr, "bench_history: %s\n", err.msg);
        return 1;
    }
    const sw_history_config *cfg = &plan.history;
    printf("keep_base %lld s\n", (long long)(cfg->keep_ms[SW_LEVEL_BASE] / 1000));
    printf("keep_minute %lld s\n", (long long)(cfg->keep_ms[SW_LEVEL_MINUTE] / 1000));
    printf("keep_hour %lld s\n", (long long)(cfg->keep_ms[SW_LEVEL_HOUR] / 1000));
    printf("latency_keep %lld s\n", (long long)(cfg->latency_keep_ms / 1000));
    printf("n_sums %zu count\n", cfg->n_sums);
    int64_t now = T0 + days * INT64_C(86400000);
    for (int with_latency = 0; with_latency < 2; with_latency++) {
        sw_history h;
        size_t before = bench_heap_in_use();
        sw_history_init(&h, cfg);
        double append_ns = feed(&h, cfg, days, with_latency);
        size_t held = bench_heap_in_use() - before + sizeof h; /* the series embeds h */
        const char *what = with_latency ? "with_latency" : "counts";
        printf("bytes_per_series_%s %zu B\n", what, held);
        if (!with_latency) {
            printf("append_ns %.1f ns\n", append_ns);
            print_levels(&h);
            bench_sums(&h, now, days);
            bench_moving(&h, cfg, now);
        }
        sw_history_fini(&h);
    }
    sw_plan_fini(&plan);
    sw_rules_free(rules);
    return 0;
}
