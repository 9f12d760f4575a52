/*
 * bench_gate_answer: what one gate answer costs at steady state, the work behind each gate
 * question a snapshot computes (on request or prepared by the tick). One service, blue and
 * green, rules/production.yaml's gate (error rate, p95 and p99 checks; compared with blue),
 * fed two hours of 10 s intervals of 250 log-normal latencies (median 80 ms, sigma 0.5) and
 * advanced at each, as scale_serve.py's store holds them. Then each question is answered
 * REPEATS times and timed in thread CPU: green over the rules' 10m window (the random probe's
 * question: both sides merged and compared), blue over 10m (its checks only), and green over
 * every offered window in turn (5m ... 1h, as a marked series' answers are prepared), without
 * and with a deployment marked 20 minutes before. Then a pipeline polling: the same questions
 * at each of the next ticks through a scratch kept from tick to tick, and through a new one.
 *
 * Usage: bench_gate_answer [repeats (default 400)]
 * Prints "key value unit" lines: microseconds of CPU per answer.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "slawatch/buf.h"
#include "slawatch/eval.h"
#include "slawatch/rng.h"
#include "slawatch/rules.h"

#define BASE_MS INT64_C(10000)
#define START_MS INT64_C(1790812800000) /* 2026-10-01T00:00:00Z */
#define INTERVALS 720                   /* two hours */
#define VALUES 250
#define MEDIAN_US 80000.0
#define SIGMA 0.5
#define SERVICES 100

static const char rules_head[] = "version: 1\n"
                                 "base_interval: 10s\n"
                                 "min_requests: 100\n"
                                 "services:\n";
static const char rules_gate[] = "gate:\n"
                                 "  window: 10m\n"
                                 "  min_requests: 100\n"
                                 "  checks:\n"
                                 "    - error_rate <= 1%\n"
                                 "    - p95 <= 500ms\n"
                                 "    - p99 <= 1000ms\n"
                                 "  compare:\n"
                                 "    baseline: blue\n"
                                 "    max_error_rate_increase: 0.5%\n"
                                 "    max_latency_increase: 20%\n"
                                 "    confidence: 99%\n";

static const int64_t windows_ms[] = {300000, 600000, 900000, 1800000, 3600000};
#define N_WINDOWS (sizeof windows_ms / sizeof windows_ms[0])

static double
cpu_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t); /* the machine is shared: CPU time */
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static void
fail(const char *what, const sw_err *err)
{
    fprintf(stderr, "bench_gate_answer: %s: %s\n", what, err->msg);
    exit(1);
}

static void
feed(sw_eval *ev, sw_rng *r, sw_hdr *lat, const char *service, const char *env, int64_t start)
{
    sw_hdr_reset(lat);
    uint64_t errors = 0;
    for (int i = 0; i < VALUES; i++) {
        sw_hdr_record(lat, sw_rng_lognormal_us(r, MEDIAN_US, SIGMA));
        errors += sw_rng_open01(r) < 0.002;
    }
    sw_sli_interval iv = {.start_ms = start,
                          .length_ms = BASE_MS,
                          .requests = VALUES,
                          .errors = errors,
                          .latency = lat,
                          .has_data = true};
    sw_err err;
    if (sw_eval_add(ev, service, env, &iv, &err) != SW_OK)
        fail("add", &err);
}

/* CPU microseconds per answer of every service's (env, window) question of the lists, asked
 * in that order, passes times over; through one scratch a pass when scratch is set (as a tick
 * prepares a snapshot's answers), else each answer on its own (as on request). */
static double
time_answers(const sw_eval *ev, const char *const *envs, size_t n_envs, const int64_t *ws,
             size_t n_ws, int passes, bool scratch)
{
    double t0 = cpu_us();
    for (int k = 0; k < passes; k++) {
        sw_gate_scratch *x = NULL;
        sw_err err;
        if (scratch && sw_gate_scratch_new(&x, &err) != SW_OK)
            fail("scratch", &err);
        for (int svc = 0; svc < SERVICES; svc++) {
            char name[16];
            snprintf(name, sizeof name, "s%d", svc);
            for (size_t e = 0; e < n_envs; e++)
                for (size_t i = 0; i < n_ws; i++) {
                    sw_gate_result g;
                    if (sw_eval_gate_with(ev, name, envs[e], ws[i], x, &g, &err) != SW_OK)
                        fail("gate", &err);
                }
        }
        sw_gate_scratch_free(x);
    }
    return (cpu_us() - t0) / (double)(passes * SERVICES * (int)(n_envs * n_ws));
}

static void
report(const sw_eval *ev, const char *prefix, int passes)
{
    static const char *const green[] = {"green"}, *const both[] = {"blue", "green"};
    int64_t rules_window = 600000;
    for (int scratch = 0; scratch < 2; scratch++) {
        const char *how = scratch ? "scratch" : "own";
        printf("gate_answer.%s.%s.green_10m %.1f us\n", prefix, how,
               time_answers(ev, green, 1, &rules_window, 1, passes, scratch));
        printf("gate_answer.%s.%s.blue_and_green_10m %.1f us\n", prefix, how,
               time_answers(ev, both, 2, &rules_window, 1, passes, scratch));
        printf("gate_answer.%s.%s.every_window %.1f us\n", prefix, how,
               time_answers(ev, both, 2, windows_ms, N_WINDOWS, passes / 5 + 1, scratch));
    }
}

static void
mark_green(sw_eval *ev, int64_t at_ms)
{
    for (int svc = 0; svc < SERVICES; svc++) {
        char name[16];
        snprintf(name, sizeof name, "s%d", svc);
        sw_eval_mark_deployment(ev, name, "green", at_ms);
    }
}

/* Every service's blue and green fed one interval more and the evaluator advanced to it. */
static int64_t
next_tick(sw_eval *ev, sw_rng *r, sw_hdr *lat, int64_t now)
{
    sw_err err;
    for (int svc = 0; svc < SERVICES; svc++) {
        char name[16];
        snprintf(name, sizeof name, "s%d", svc);
        feed(ev, r, lat, name, "blue", now);
        feed(ev, r, lat, name, "green", now);
    }
    now += BASE_MS;
    if (sw_eval_advance(ev, now, &err) != SW_OK)
        fail("advance", &err);
    return now;
}

/*
 * A pipeline polling: the random probe's question (green, 10m) of POLLED services asked again at
 * each of TICKS ticks, as a tick prepares them, through a scratch kept from tick to tick (the
 * sides slid by the interval in and the one out) and through one made afresh at each tick (as
 * before the scratch was kept). Only the answers are timed; the evaluator moves on. Returns the
 * time it reached.
 */
#define POLLED 4
#define TICKS 30
static int64_t
report_polled(sw_eval *ev, sw_rng *r, sw_hdr *lat, int64_t now)
{
    for (int kept = 0; kept < 2; kept++) {
        sw_gate_scratch *x = NULL;
        sw_err err;
        double spent = 0;
        for (int t = 0; t < TICKS; t++) {
            now = next_tick(ev, r, lat, now);
            if (x == NULL && sw_gate_scratch_new(&x, &err) != SW_OK)
                fail("scratch", &err);
            double t0 = cpu_us();
            for (int svc = 0; svc < POLLED; svc++) {
                char name[16];
                snprintf(name, sizeof name, "s%d", svc);
                sw_gate_result g;
                if (sw_eval_gate_with(ev, name, "green", 600000, x, &g, &err) != SW_OK)
                    fail("gate", &err);
            }
            spent += cpu_us() - t0;
            if (!kept) {
                sw_gate_scratch_free(x);
                x = NULL;
            }
        }
        sw_gate_scratch_free(x);
        printf("gate_answer.polled.%s.green_10m %.1f us\n", kept ? "kept" : "afresh",
               spent / (TICKS * POLLED));
    }
    return now;
}

int
main(int argc, char **argv)
{
    int passes = argc > 1 ? atoi(argv[1]) : 20;
    sw_err err;
    sw_buf text;
    sw_buf_init(&text, (size_t)1 << 20);
    sw_buf_printf(&text, NULL, "%s", rules_head);
    for (int svc = 0; svc < SERVICES; svc++)
        sw_buf_printf(&text, NULL, "  - {name: s%d, environments: [blue, green], %s}\n", svc,
                      "sli: {requests: {push: true}}");
    sw_buf_printf(&text, NULL, "%s", rules_gate);
    sw_rules *rules;
    if (sw_rules_load_mem((const char *)text.data, text.len, "bench.yaml", &rules, NULL, &err) !=
        SW_OK)
        fail("rules", &err);
    sw_eval *ev;
    sw_hdr *lat;
    if (sw_eval_new(rules, &ev, &err) != SW_OK ||
        sw_hdr_new(&sw_hdr_latency_config, &lat, &err) != SW_OK)
        fail("evaluator", &err);
    sw_rng r = {7};
    int64_t now = START_MS;
    for (int t = 0; t < INTERVALS; t++) {
        for (int svc = 0; svc < SERVICES; svc++) {
            char name[16];
            snprintf(name, sizeof name, "s%d", svc);
            feed(ev, &r, lat, name, "blue", now);
            feed(ev, &r, lat, name, "green", now);
        }
        now += BASE_MS;
        if (sw_eval_advance(ev, now, &err) != SW_OK)
            fail("advance", &err);
    }
    report(ev, "unmarked", passes);
    now = report_polled(ev, &r, lat, now);
    mark_green(ev, now - 20 * 60000);
    if (sw_eval_advance(ev, now, &err) != SW_OK)
        fail("advance", &err);
    report(ev, "marked_20m", passes);
    sw_buf_fini(&text);
    sw_hdr_free(lat);
    sw_eval_free(ev);
    sw_rules_free(rules);
    return 0;
}
