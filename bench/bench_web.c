/*
 * bench_web: the web UI's overview (GET /) for 100 services rendered on the server. The rules
 * are rules/demo.yaml's commitments (5 objectives, 8 alerts, 3 rollback triggers, the gate)
 * for 100 services in two environments (200 series); an hour of 10 s intervals is evaluated,
 * every tenth service with an incident, then the status document the snapshot serves is
 * rendered into the page as the handler does (parse, order worst first, write HTML).
 * Usage: bench_web [RULES] (default rules/demo.yaml, run from the repository's root).
 * Prints "key value unit" lines.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "slawatch/buf.h"
#include "slawatch/eval.h"
#include "slawatch/eval_json.h"
#include "slawatch/hdr.h"
#include "slawatch/rules.h"
#include "slawatch/web.h"

#define SERVICES 100
#define BASE_MS 10000
#define FEED_MS (3600 * 1000)
#define START_MS 1796515200000LL /* 2026-12-05T00:00:00Z */
#define RENDERS 200
#define PAGE_MAX (16u << 20)

static _Noreturn void
die(const char *what, const sw_err *err)
{
    fprintf(stderr, "bench_web: %s: %s\n", what, err != NULL ? err->msg : "failed");
    exit(1);
}

/* Wall time, and the thread's CPU time (what a render costs, whatever else runs). */
static double
now_ms(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

/* The demo's rules with its one service replaced by SERVICES of them. */
static char *
fleet_rules(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "bench_web: cannot read %s (run from the repository's root)\n", path);
        exit(1);
    }
    static char text[1 << 16];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    const char *rest = strstr(text, "\nobjectives:");
    if (rest == NULL)
        die("the rules have no objectives section", NULL);
    sw_buf b;
    sw_buf_init(&b, 1u << 20);
    sw_buf_printf(&b, NULL, "version: 1\nbase_interval: 10s\nmin_requests: 100\nservices:\n");
    for (int i = 0; i < SERVICES; i++)
        sw_buf_printf(&b, NULL,
                      "  - name: svc-%03d\n    environments: [blue, green]\n    sli:\n"
                      "      requests: {push: true}\n      errors: {push: true}\n"
                      "      latency: {push: true}\n      health: {push: true}\n",
                      i);
    sw_buf_printf(&b, NULL, "%s", rest);
    return (char *)sw_buf_cstr(&b, NULL);
}

static void
feed(sw_eval *ev, sw_hdr *latency)
{
    sw_err err;
    for (int64_t t = START_MS; t < START_MS + FEED_MS; t += BASE_MS) {
        for (int i = 0; i < SERVICES; i++) {
            for (int e = 0; e < 2; e++) {
                bool incident = i % 10 == 0 && e == 1 && t >= START_MS + FEED_MS / 2;
                sw_sli_interval iv = {.start_ms = t,
                                      .length_ms = BASE_MS,
                                      .requests = 2000,
                                      .errors = incident ? 200 : (uint64_t)(i % 3),
                                      .latency = latency,
                                      .has_data = true};
                sw_health_record(&iv.health, true);
                char name[16];
                snprintf(name, sizeof name, "svc-%03d", i);
                if (sw_eval_add(ev, name, e ? "green" : "blue", &iv, &err) != SW_OK)
                    die("add", &err);
            }
        }
        if (sw_eval_advance(ev, t + BASE_MS, &err) != SW_OK)
            die("advance", &err);
    }
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
    sw_err err;
    char *text = fleet_rules(argc > 1 ? argv[1] : "rules/demo.yaml");
    sw_rules *rules;
    sw_eval *ev;
    sw_hdr *latency;
    if (sw_rules_load_mem(text, strlen(text), "fleet", &rules, NULL, &err) != SW_OK)
        die("rules", &err);
    if (sw_eval_new(rules, &ev, &err) != SW_OK)
        die("evaluator", &err);
    if (sw_hdr_new(&sw_hdr_latency_config, &latency, &err) != SW_OK)
        die("histogram", &err);
    for (int v = 1; v <= 400; v++)
        sw_hdr_record(latency, 1000 * v); /* 1 ms .. 400 ms */
    feed(ev, latency);
    sw_buf status, page;
    sw_buf_init(&status, PAGE_MAX);
    sw_buf_init(&page, PAGE_MAX);
    if (sw_eval_json_write(ev, START_MS + FEED_MS, &status, &err) != SW_OK)
        die("status", &err);
    static double took[RENDERS], cpu[RENDERS];
    for (int r = 0; r < RENDERS; r++) {
        sw_buf_reset(&page);
        double t0 = now_ms(CLOCK_MONOTONIC), c0 = now_ms(CLOCK_THREAD_CPUTIME_ID);
        if (sw_web_overview_render((const char *)status.data, status.len, "", SW_WEB_ORDER_WORST,
                                   &page, &err) != SW_OK)
            die("render", &err);
        took[r] = now_ms(CLOCK_MONOTONIC) - t0;
        cpu[r] = now_ms(CLOCK_THREAD_CPUTIME_ID) - c0;
    }
    qsort(took, RENDERS, sizeof took[0], cmp_double);
    qsort(cpu, RENDERS, sizeof cpu[0], cmp_double);
    printf("slawatch.web.overview_series          %14d series\n", SERVICES * 2);
    printf("slawatch.web.overview_status_bytes    %14zu bytes\n", status.len);
    printf("slawatch.web.overview_page_bytes      %14zu bytes\n", page.len);
    printf("slawatch.web.overview_render_median   %14.3f ms\n", took[RENDERS / 2]);
    printf("slawatch.web.overview_render_p99      %14.3f ms\n", took[RENDERS * 99 / 100]);
    printf("slawatch.web.overview_render_max      %14.3f ms\n", took[RENDERS - 1]);
    printf("slawatch.web.overview_render_cpu_median %12.3f ms\n", cpu[RENDERS / 2]);
    printf("slawatch.web.overview_render_cpu_p99  %14.3f ms\n", cpu[RENDERS * 99 / 100]);
    sw_buf_fini(&status);
    sw_buf_fini(&page);
    sw_hdr_free(latency);
    sw_eval_free(ev);
    sw_rules_free(rules);
    free(text);
    return 0;
}
