/*
 * The pushed ingest path in process, as scale_serve.py loads it: SERIES series (services of
 * two environments) each pushed one `POST /api/v1/ingest` body per 10 s interval with 250
 * requests and 250 log-normal latencies (median 80 ms, sigma 0.5). Each body is parsed
 * (sw_push_parse), gathered into a strict batch and committed into the accumulators with the
 * write-ahead journal open (as the daemon's hook does, without its HTTP and snapshot parts);
 * the ended intervals are taken between rounds, as the tick does. CPU time of this thread.
 *
 *   build/bench/bench_ingest [SERVICES]     (default 10000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "slawatch/accum.h"
#include "slawatch/buf.h"
#include "slawatch/push.h"
#include "slawatch/rng.h"

#define BASE_MS 10000
#define T0 INT64_C(1790812800000) /* 2026-10-01T00:00:00Z */
#define REQUESTS 250
#define POOL 32
#define ROUNDS 3

static double
cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The latency lists scale_serve.py draws its bodies from. */
static void
latency_pool(sw_buf pool[POOL])
{
    sw_rng r = {42};
    for (int k = 0; k < POOL; k++) {
        sw_buf_init(&pool[k], (size_t)1 << 20);
        for (int i = 0; i < REQUESTS; i++)
            sw_buf_printf(&pool[k], NULL, "%s%lld", i ? "," : "",
                          (long long)sw_rng_lognormal_us(&r, 80000, 0.5));
    }
}

static void
body_for(sw_buf *body, unsigned service, const char *env, const sw_buf *latencies)
{
    sw_buf_reset(body);
    sw_buf_printf(body, NULL,
                  "{\"service\":\"svc%u\",\"env\":\"%s\",\"requests\":%d,\"errors\":%u,"
                  "\"latency_us\":[%.*s]}",
                  service, env, REQUESTS, service % 2, (int)latencies->len,
                  (const char *)latencies->data);
}

/* What the daemon's ingest hook does with a parsed batch at at_ms. */
static sw_status
apply(sw_accum *a, const sw_push_batch *b, int64_t at_ms, sw_err *err)
{
    sw_accum_batch *ab = sw_accum_batch_new_strict(a);
    if (ab == NULL)
        return SW_E_NOMEM;
    sw_status st =
        sw_accum_batch_counts(ab, b->service, b->env, at_ms, b->requests, b->errors, err);
    if (st == SW_OK)
        st = sw_accum_batch_latencies(ab, b->service, b->env, at_ms, b->latency_us, b->n_latency,
                                      err);
    if (st == SW_OK)
        st = sw_accum_commit(a, ab, err);
    sw_accum_batch_free(ab);
    return st;
}

static sw_status
drop(void *ctx, const char *service, const char *env, sw_sli_interval *iv, sw_err *err)
{
    (void)ctx, (void)service, (void)env, (void)err;
    sw_sli_interval_fini(iv);
    return SW_OK;
}

int
main(int argc, char **argv)
{
    unsigned services = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 10000;
    char dir[] = "/tmp/slawatch-bench-ingest-XXXXXX", path[64];
    if (services == 0 || mkdtemp(dir) == NULL)
        return 1;
    snprintf(path, sizeof path, "%s/ingest.journal", dir);
    sw_buf pool[POOL], body;
    latency_pool(pool);
    sw_buf_init(&body, (size_t)1 << 20);
    sw_accum *a;
    sw_err err;
    size_t replayed;
    if (sw_accum_new(BASE_MS, &a, &err) != SW_OK ||
        sw_accum_journal_open(a, path, 0, &replayed, &err) != SW_OK) {
        fprintf(stderr, "bench_ingest: %s\n", err.msg);
        return 1;
    }
    static const char *const envs[] = {"blue", "green"};
    double parse_s = 0, apply_s = 0, bytes = 0;
    size_t pushes = 0;
    for (int round = 0; round <= ROUNDS; round++) { /* round 0 makes the series: a warm-up */
        int64_t at_ms = T0 + round * BASE_MS + 200;
        for (unsigned s = 0; s < services; s++)
            for (int e = 0; e < 2; e++) {
                body_for(&body, s, envs[e], &pool[(s * 2 + (unsigned)e) % POOL]);
                sw_push_batch b;
                double t0 = cpu_s();
                if (sw_push_parse(body.data, body.len, &b, &err) != SW_OK) {
                    fprintf(stderr, "bench_ingest: %s\n", err.msg);
                    return 1;
                }
                double t1 = cpu_s();
                sw_status st = apply(a, &b, at_ms, &err);
                double t2 = cpu_s();
                sw_push_batch_fini(&b);
                if (st != SW_OK) {
                    fprintf(stderr, "bench_ingest: %s\n", err.msg);
                    return 1;
                }
                if (round > 0) {
                    parse_s += t1 - t0;
                    apply_s += t2 - t1;
                    bytes += (double)body.len;
                    pushes++;
                }
            }
        int64_t ended_ms = T0 + (round + 1) * BASE_MS;
        sw_accum_close(a, ended_ms);
        sw_accum_take(a, ended_ms, drop, NULL, NULL);
    }
    double samples = (double)pushes * REQUESTS;
    const char *key = "slawatch.ingest.push";
    printf("%s.series %u series\n", key, services * 2);
    printf("%s.body_bytes %.0f bytes\n", key, bytes / (double)pushes);
    printf("%s.parse_per_sample %.1f ns\n", key, parse_s / samples * 1e9);
    printf("%s.commit_per_sample %.1f ns\n", key, apply_s / samples * 1e9);
    printf("%s.cpu_per_sample %.1f ns\n", key, (parse_s + apply_s) / samples * 1e9);
    printf("%s.cpu_per_push %.1f us\n", key, (parse_s + apply_s) / (double)pushes * 1e6);
    sw_accum_free(a);
    unlink(path);
    rmdir(dir);
    for (int k = 0; k < POOL; k++)
        sw_buf_fini(&pool[k]);
    sw_buf_fini(&body);
    return 0;
}
