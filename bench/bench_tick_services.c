/*
 * bench_tick_services: how one evaluation tick grows with services x objectives when every
 * service has commitments of its own (per-service objectives, so each has its own resolved
 * set and plan). For S services and K objectives each (availability and error-rate objectives,
 * rolling 1h windows, every service's targets different), the rules are loaded from generated
 * YAML, an hour of 10 s intervals is fed, then ticks (every service's next interval and one
 * advance) are timed. Prints "key value unit" lines: the tick and the tick per service x
 * objective, which stays flat when the growth is linear.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "slawatch/buf.h"
#include "slawatch/eval.h"
#include "slawatch/rules.h"

#define BASE_MS INT64_C(10000)
#define START_MS INT64_C(1790640000000) /* 2026-09-29T00:00:00Z */
#define WARM_INTERVALS 360              /* one hour */
#define TIMED_TICKS 90

static double
now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t); /* the machine is shared: CPU time */
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* One file of services [from, to): its own objectives each, targets differing by service. */
static void
rules_file(sw_buf *b, int from, int to, int objectives)
{
    sw_buf_printf(b, NULL, "version: 1\nbase_interval: 10s\nservices:\n");
    for (int s = from; s < to; s++) {
        sw_buf_printf(b, NULL,
                      "  - name: s%d\n    sli: {requests: {push: true}, errors: {push: true}}\n"
                      "    objectives:\n",
                      s);
        for (int k = 0; k < objectives; k++)
            sw_buf_printf(b, NULL,
                          "      - {name: o%d, objective: %s %s %d.%03d%%, window: 1h}\n", k,
                          k % 2 ? "error_rate" : "availability", k % 2 ? "<=" : ">=",
                          k % 2 ? 1 : 99, s % 1000);
    }
}

/* A file holds at most 1,000 services: a bundle of files of 1,000 (rules.h). */
static char *
rules_text(int services, int objectives)
{
    sw_buf b, one;
    sw_buf_init(&b, (size_t)1 << 30);
    sw_buf_printf(&b, NULL, "# slawatch rules bundle 1\n");
    for (int from = 0; from < services; from += 1000) {
        sw_buf_init(&one, (size_t)1 << 28);
        rules_file(&one, from, from + 1000 < services ? from + 1000 : services, objectives);
        sw_buf_printf(&b, NULL, "# file %zu team-%d.yaml\n", one.len, from / 1000);
        sw_buf_append(&b, one.data, one.len, NULL);
        sw_buf_fini(&one);
    }
    char *text = strdup(sw_buf_cstr(&b, NULL));
    sw_buf_fini(&b);
    return text;
}

static void
feed(sw_eval *ev, const sw_rules *r, int64_t start)
{
    for (size_t s = 0; s < r->n_services; s++) {
        sw_sli_interval iv = {.start_ms = start, .length_ms = BASE_MS, .has_data = true,
                              .requests = 10000, .errors = (uint64_t)(s % 7)};
        if (sw_eval_add(ev, r->services[s].name, NULL, &iv, NULL) != SW_OK)
            exit(1);
    }
}

static void
run(int services, int objectives)
{
    char *text = rules_text(services, objectives);
    sw_rules *r = NULL;
    sw_err err = {0};
    if (sw_rules_load_mem(text, strlen(text), "bench", &r, NULL, &err) != SW_OK) {
        fprintf(stderr, "rules: %s\n", err.msg);
        exit(1);
    }
    sw_eval *ev = NULL;
    if (sw_eval_new(r, &ev, &err) != SW_OK) {
        fprintf(stderr, "eval: %s\n", err.msg);
        exit(1);
    }
    int64_t t = START_MS;
    for (int i = 0; i < WARM_INTERVALS; i++, t += BASE_MS) {
        feed(ev, r, t);
        if (sw_eval_advance(ev, t + BASE_MS, NULL) != SW_OK)
            exit(1);
    }
    double t0 = now_s();
    for (int i = 0; i < TIMED_TICKS; i++, t += BASE_MS) {
        feed(ev, r, t);
        if (sw_eval_advance(ev, t + BASE_MS, NULL) != SW_OK)
            exit(1);
    }
    double tick_ms = (now_s() - t0) / TIMED_TICKS * 1e3;
    printf("slawatch.tick_services.s%d_k%d.tick %.2f ms\n", services, objectives, tick_ms);
    printf("slawatch.tick_services.s%d_k%d.per_service_objective %.0f ns\n", services, objectives,
           tick_ms * 1e6 / services / objectives);
    sw_eval_free(ev);
    sw_rules_free(r);
    free(text);
}

int
main(int argc, char **argv)
{
    int max = argc > 1 ? atoi(argv[1]) : 5000;
    static const int services[] = {100, 1000, 5000};
    for (size_t i = 0; i < sizeof services / sizeof services[0]; i++)
        for (int k = 1; k <= 4; k *= 4)
            if (services[i] <= max)
                run(services[i], k);
    return 0;
}
