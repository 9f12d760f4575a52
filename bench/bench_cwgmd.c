/*
 * GetMetricData response parsing: MB/s of sw_cwgmd_parse on a generated full call, 500 results x
 * 1,440 one-minute datapoints (a day), ~21 MB. Like CloudWatch, which pages at 100,800
 * datapoints, it comes as PAGES pages under the 10 MB response cap (NextToken, each page with
 * every result's next 480 points). Values have 17 significant digits, the longest JSON form.
 * Prints "key value unit" lines, in thread CPU time. Run: ninja -C build bench-cwgmd
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "slawatch/buf.h"
#include "slawatch/cwgmd.h"

#define RESULTS 500
#define POINTS 1440
#define ROUNDS 5
#define PAGES 3
#define START_S INT64_C(1763769600)

static double
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Page k of PAGES: datapoints [k * per, (k + 1) * per) of each of q[0..RESULTS). */
static int
make_page(sw_buf *b, const sw_cwgmd_query *q, int k)
{
    char tmp[64];
    int per = POINTS / PAGES, first = k * per;
    int ok = sw_buf_append(b, "{\"MetricDataResults\":[", 22, NULL) == SW_OK;
    for (int r = 0; ok && r < RESULTS; r++) {
        int n = snprintf(tmp, sizeof tmp, "%s{\"Id\":\"%s\",\"Label\":\"RequestCount\","
                         "\"Timestamps\":[", r ? "," : "", q[r].id);
        ok = sw_buf_append(b, tmp, (size_t)n, NULL) == SW_OK;
        for (int i = first; ok && i < first + per; i++) {
            n = snprintf(tmp, sizeof tmp, "%s%lld", i > first ? "," : "",
                         (long long)(START_S + 60 * i));
            ok = sw_buf_append(b, tmp, (size_t)n, NULL) == SW_OK;
        }
        ok = ok && sw_buf_append(b, "],\"Values\":[", 12, NULL) == SW_OK;
        for (int i = first; ok && i < first + per; i++) {
            n = snprintf(tmp, sizeof tmp, "%s%.17g", i > first ? "," : "",
                         0.1 + (r * 7 + i) * 0.37);
            ok = sw_buf_append(b, tmp, (size_t)n, NULL) == SW_OK;
        }
        const char *status = k + 1 < PAGES ? "PartialData" : "Complete";
        n = snprintf(tmp, sizeof tmp, "],\"StatusCode\":\"%s\"}", status);
        ok = ok && sw_buf_append(b, tmp, (size_t)n, NULL) == SW_OK;
    }
    const char *tail = k + 1 < PAGES ? "],\"NextToken\":\"page-token\",\"Messages\":[]}"
                                     : "],\"Messages\":[]}";
    return ok && sw_buf_append(b, tail, strlen(tail), NULL) == SW_OK;
}

int
main(void)
{
    static sw_cwgmd_query q[RESULTS];
    static sw_cwgmd_series series[RESULTS];
    for (int i = 0; i < RESULTS; i++) {
        snprintf(q[i].id, sizeof q[i].id, "q%d", i);
        q[i].namespace_ = "AWS/ApplicationELB";
        q[i].metric = "RequestCount";
        q[i].stat = "Sum";
        q[i].period_s = 60;
    }
    sw_buf pages[PAGES];
    size_t total = 0;
    for (int k = 0; k < PAGES; k++) {
        sw_buf_init(&pages[k], SW_CWGMD_MAX_RESPONSE);
        if (!make_page(&pages[k], q, k)) {
            fprintf(stderr, "bench_cwgmd: page %d over the 10 MB cap\n", k);
            return 1;
        }
        total += pages[k].len;
    }
    sw_cwgmd_page page = {.series = series, .n_series = RESULTS};
    sw_err err;
    double best = 0;
    for (int round = 0; round < ROUNDS; round++) {
        for (int i = 0; i < RESULTS; i++)
            series[i].n = 0;
        double t0 = now_ns();
        for (int k = 0; k < PAGES; k++)
            if (sw_cwgmd_parse(pages[k].data, pages[k].len, q, RESULTS, START_S,
                               START_S + 86400, &page, &err) != SW_OK) {
                fprintf(stderr, "bench_cwgmd: page %d: %s\n", k, err.msg);
                return 1;
            }
        double mbps = (double)total / 1e6 / ((now_ns() - t0) / 1e9);
        best = mbps > best ? mbps : best;
        if (series[RESULTS - 1].n != POINTS) {
            fprintf(stderr, "bench_cwgmd: %zu points parsed, not %d\n", series[RESULTS - 1].n,
                    POINTS);
            return 1;
        }
    }
    printf("cwgmd_response_bytes %zu bytes\n", total);
    printf("cwgmd_datapoints %d points\n", RESULTS * POINTS);
    printf("cwgmd_parse_best %.1f MB/s\n", best);
    for (int i = 0; i < RESULTS; i++)
        sw_cwgmd_series_fini(&series[i]);
    for (int k = 0; k < PAGES; k++)
        sw_buf_fini(&pages[k]);
    return 0;
}
