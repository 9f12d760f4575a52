/*
 * Unit tests for the CloudWatch mapping (collector/cloudwatch.c): every latency threshold the
 * rules compare with is fetched as PR(:T) in the metric's unit, and a period's PR answer makes
 * the count of requests slower than T exact in the interval handed on, even when the grid's
 * percentiles disagree with it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "slawatch/cloudwatch.h"
#include "slawatch/cwpct.h"
#include "slawatch/hdr.h"

static const char rules_yaml[] =
    "version: 1\n"
    "base_interval: 60s\n"
    "services:\n"
    "  - name: web\n"
    "    sli:\n"
    "      requests: {cloudwatch: {preset: alb, dimensions: {LoadBalancer: app/web/1}}}\n"
    "      latency: {cloudwatch: {preset: alb, dimensions: {LoadBalancer: app/web/1}}}\n"
    "objectives:\n"
    "  - name: fast\n"
    "    objective: p95 <= 500ms\n"
    "alerts:\n"
    "  - name: Slow\n"
    "    when: p99 > 1200ms\n"
    "gate:\n"
    "  checks:\n"
    "    - p95 <= 500ms\n";

static sw_cloudwatch *
plan(void)
{
    sw_rules *rules = NULL;
    sw_err err;
    if (sw_rules_load_mem(rules_yaml, strlen(rules_yaml), "rules.yaml", &rules, NULL, &err) !=
        SW_OK)
        fail_msg("rules: %s", err.msg);
    sw_cloudwatch *cw = NULL;
    assert_int_equal(sw_cloudwatch_new(rules, 60, 60000, &cw, &err), SW_OK);
    sw_rules_free(rules);
    return cw;
}

static ptrdiff_t
find_stat(const sw_cwgmd_query *q, size_t n, const char *metric, const char *stat)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(q[i].metric, metric) == 0 && strcmp(q[i].stat, stat) == 0)
            return (ptrdiff_t)i;
    return -1;
}

/* 500 ms (twice) and 1.2 s become PR(:0.5) and PR(:1.2): ALB's latency is in seconds. */
static void
test_thresholds_fetched(void **state)
{
    (void)state;
    sw_cloudwatch *cw = plan();
    size_t n;
    const sw_cwgmd_query *q = sw_cloudwatch_queries(cw, &n);
    assert_true(find_stat(q, n, "TargetResponseTime", "PR(:0.5)") >= 0);
    assert_true(find_stat(q, n, "TargetResponseTime", "PR(:1.2)") >= 0);
    size_t ranks = 0;
    for (size_t i = 0; i < n; i++)
        ranks += strncmp(q[i].stat, "PR(", 3) == 0;
    assert_int_equal(ranks, 2);
    /* RequestCount, SampleCount, Minimum, Maximum, Sum, the grid, two ranks */
    assert_int_equal(n, 5 + sw_cwpct_grid_len + 2);
    sw_cloudwatch_free(cw);
}

typedef struct got {
    int64_t slow, total;
    int intervals;
} got;

static sw_status
sink(void *ctx, const char *service, const sw_sli_interval *iv, sw_err *err)
{
    (void)err;
    got *g = ctx;
    assert_string_equal(service, "web");
    g->intervals++;
    if (iv->latency != NULL) {
        g->total = sw_hdr_total_count(iv->latency);
        g->slow = g->total - sw_hdr_count_at_or_below(iv->latency, 500000);
    }
    return SW_OK;
}

/* One period of 1,000 requests whose grid puts p95 at 450 ms but PR(:0.5) says 96.3 % are at
 * or below 500 ms: 37 slow requests, as CloudWatch counted. */
static void
test_rank_makes_count_exact(void **state)
{
    (void)state;
    sw_cloudwatch *cw = plan();
    size_t n;
    const sw_cwgmd_query *q = sw_cloudwatch_queries(cw, &n);
    sw_cwgmd_series *series = calloc(n, sizeof *series);
    int64_t t = 1700000040;
    for (size_t i = 0; i < n; i++) {
        double v = 1000; /* RequestCount, SampleCount */
        if (strcmp(q[i].stat, "Minimum") == 0)
            v = 0.01;
        else if (strcmp(q[i].stat, "Maximum") == 0)
            v = 2;
        else if (q[i].stat[0] == 'p')
            v = 0.45 * pow(atof(q[i].stat + 1) / 95, 3);
        else if (strcmp(q[i].stat, "PR(:0.5)") == 0)
            v = 96.3;
        else if (strcmp(q[i].stat, "PR(:1.2)") == 0)
            v = 99.9;
        series[i].ts_s = malloc(sizeof *series[i].ts_s);
        series[i].values = malloc(sizeof *series[i].values);
        series[i].ts_s[0] = t;
        series[i].values[0] = v;
        series[i].n = series[i].cap = 1;
    }
    got g = {0};
    sw_err err;
    assert_int_equal(sw_cloudwatch_apply(cw, series, t, t + 60, sink, &g, &err), SW_OK);
    assert_int_equal(g.intervals, 1);
    assert_int_equal(g.total, 1000);
    assert_int_equal(g.slow, 37);
    /* a rank above 100 % is refused and nothing is handed on */
    series[find_stat(q, n, "TargetResponseTime", "PR(:0.5)")].values[0] = 100.5;
    g = (got){0};
    assert_int_equal(sw_cloudwatch_apply(cw, series, t, t + 60, sink, &g, &err), SW_E_RANGE);
    assert_int_equal(g.intervals, 0);
    for (size_t i = 0; i < n; i++)
        sw_cwgmd_series_fini(&series[i]);
    free(series);
    sw_cloudwatch_free(cw);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thresholds_fetched),
        cmocka_unit_test(test_rank_makes_count_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
