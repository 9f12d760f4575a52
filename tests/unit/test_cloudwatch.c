/*
 * Unit tests for the CloudWatch mapping (collector/cloudwatch.c): every latency threshold the
 * rules compare with is fetched as PR(:T) in the metric's unit, and a period's PR answer makes
 * the count of requests slower than T exact in the interval handed on, even when the grid's
 * percentiles disagree with it. Rolling latency windows over an hour: their lengths, the plan
 * that asks each as one period for the services that use it, and the setting that turns it off
 * (refused at FILE:LINE:COL when not a boolean).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "slawatch/cloudwatch.h"
#include "slawatch/config.h"
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

/* Two CloudWatch services and one pushed: web uses 6 h twice, 1 d, 1 h (not over an hour) and
 * 3 d (beyond 2 days); api uses 2 h in an alert; the pushed service's 12 h is not CloudWatch's. */
static const char rolling_yaml[] =
    "version: 1\n"
    "base_interval: 60s\n"
    "services:\n"
    "  - name: web\n"
    "    sli:\n"
    "      requests: {cloudwatch: {preset: alb, dimensions: {LoadBalancer: app/web/1}}}\n"
    "      latency: {cloudwatch: {preset: alb, dimensions: {LoadBalancer: app/web/1}}}\n"
    "    objectives:\n"
    "      - {name: a, objective: p95 <= 500ms, window: 6h}\n"
    "      - {name: b, objective: p99 <= 1s, window: 6h}\n"
    "      - {name: c, objective: p99 <= 1s, window: 1d}\n"
    "      - {name: d, objective: p99 <= 1s, window: 1h}\n"
    "      - {name: e, objective: p99 <= 1s, window: 3d}\n"
    "      - {name: g, objective: p99 <= 1s, window: 1m}\n"
    "  - name: api\n"
    "    sli:\n"
    "      requests: {cloudwatch: {preset: alb, dimensions: {LoadBalancer: app/api/1}}}\n"
    "      latency: {cloudwatch: {preset: alb, dimensions: {LoadBalancer: app/api/1}}}\n"
    "    alerts:\n"
    "      - {name: Slow, when: p99 > 1s, over: 2h}\n"
    "  - name: pushed\n"
    "    sli: {requests: {push: true}, latency: {push: true}}\n"
    "    objectives:\n"
    "      - {name: f, objective: p95 <= 500ms, window: 12h}\n";

static size_t
count_dimension(const sw_cwgmd_query *q, size_t n, const char *value)
{
    size_t found = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < q[i].n_dimensions; k++)
            found += strcmp(q[i].dimensions[k].value, value) == 0;
    return found;
}

/* 2 h, 6 h and 1 d, in order; each plan asks only the services whose rules use its length. */
static void
test_rolling_lengths_and_plans(void **state)
{
    (void)state;
    sw_rules *rules = NULL;
    sw_err err;
    if (sw_rules_load_mem(rolling_yaml, strlen(rolling_yaml), "rules.yaml", &rules, NULL, &err) !=
        SW_OK)
        fail_msg("rules: %s", err.msg);
    int64_t lengths[8];
    size_t n = 0;
    sw_cloudwatch_rolling_lengths(rules, lengths, 8, &n);
    /* 1 h to 1 d; not the minute (it is the minute CloudWatch answers) nor 3 d (kept as hours) */
    assert_int_equal(n, 4);
    assert_int_equal(lengths[0], 3600);
    assert_int_equal(lengths[1], 7200);
    assert_int_equal(lengths[2], 21600);
    assert_int_equal(lengths[3], 86400);
    sw_cloudwatch_rolling_lengths(rules, lengths, 2, &n);
    assert_int_equal(n, 2);
    sw_cloudwatch *cw = NULL;
    assert_int_equal(sw_cloudwatch_new_rolling(rules, 21600, &cw, &err), SW_OK);
    size_t nq = 0;
    const sw_cwgmd_query *q = sw_cloudwatch_queries(cw, &nq);
    assert_true(nq > 0);
    assert_int_equal(count_dimension(q, nq, "app/web/1"), nq);
    assert_true(find_stat(q, nq, "TargetResponseTime", "p99") >= 0);
    assert_int_equal(find_stat(q, nq, "RequestCount", "Sum"), -1);
    assert_int_equal(q[0].period_s, 21600);
    assert_memory_equal(q[0].id, "w21600_", 7);
    sw_cloudwatch_free(cw);
    assert_int_equal(sw_cloudwatch_new_rolling(rules, 7200, &cw, &err), SW_OK);
    q = sw_cloudwatch_queries(cw, &nq);
    assert_true(nq > 0);
    assert_int_equal(count_dimension(q, nq, "app/api/1"), nq);
    sw_cloudwatch_free(cw);
    sw_rules_free(rules);
}

static sw_status
load_config(const char *text, sw_config **ret, sw_rules_diag *diag, sw_err *err)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/sw_cw_cfg_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    sw_status st = sw_config_load(path, ret, diag, err);
    unlink(path);
    return st;
}

/* On by default, off with false, anything else refused where it is written. */
static void
test_rolling_windows_setting(void **state)
{
    (void)state;
    static const char head[] = "rules_files: [r.yaml]\ningest_delay: 5m\ncloudwatch:\n"
                               "  region: eu-west-1\n";
    char text[256];
    sw_config *c = NULL;
    sw_err err;
    assert_int_equal(load_config(head, &c, NULL, &err), SW_OK);
    assert_true(c->cloudwatch.rolling_windows);
    sw_config_free(c);
    snprintf(text, sizeof text, "%s  rolling_windows: false\n", head);
    assert_int_equal(load_config(text, &c, NULL, &err), SW_OK);
    assert_false(c->cloudwatch.rolling_windows);
    sw_config_free(c);
    snprintf(text, sizeof text, "%s  rolling_windows: sometimes\n", head);
    sw_rules_diag *diag = sw_rules_diag_new();
    assert_int_equal(load_config(text, &c, diag, &err), SW_E_PARSE);
    assert_true(sw_rules_diag_count(diag) > 0);
    const char *line = sw_rules_diag_line(diag, 0);
    if (strstr(line, ":5:20: error:") == NULL)
        fail_msg("wanted the error at 5:20, got %s", line);
    sw_rules_diag_free(diag);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thresholds_fetched),
        cmocka_unit_test(test_rank_makes_count_exact),
        cmocka_unit_test(test_rolling_lengths_and_plans),
        cmocka_unit_test(test_rolling_windows_setting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
