/*
 * Unit tests for one SLO per label value (ruleset/rules_by.c): `by`, `by_limit` and `by_idle`
 * on a service, their defaults (by_idle from the service's longest window, a calendar month
 * counting 31 days), and the errors: a cap of 0, several labels, a source that carries no
 * labels, a selector only series without the label match, a reserved label, a by_idle that
 * would forget a budget mid-window. Positions are counted by hand from the texts below.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "slawatch/rules.h"

#define DAY_MS INT64_C(86400000)

/* Load text as by.yaml; on success the rule set, otherwise NULL with every diagnostic in
 * lines (one a line). */
static sw_rules *
load(const char *text, char *lines, size_t cap)
{
    sw_rules_diag *d = sw_rules_diag_new();
    sw_rules *r = NULL;
    sw_err err = {0};
    sw_status st = sw_rules_load_mem(text, strlen(text), "by.yaml", &r, d, &err);
    size_t used = 0;
    lines[0] = '\0';
    for (size_t i = 0; i < sw_rules_diag_count(d); i++) {
        int w = snprintf(lines + used, cap - used, "%s\n", sw_rules_diag_line(d, i));
        used += w > 0 && (size_t)w < cap - used ? (size_t)w : 0;
    }
    sw_rules_diag_free(d);
    return st == SW_OK ? r : NULL;
}

#define PROM_SLI                                                                                   \
    "    sli:\n"                                                                                   \
    "      requests: {prometheus: 'http_requests_total{job=\"pay\"}'}\n"                           \
    "      errors: {prometheus: 'http_requests_total{job=\"pay\",code=~\"5..\"}'}\n"

static void
test_defaults_follow_the_longest_window(void **state)
{
    (void)state;
    char lines[2048];
    sw_rules *r = load("version: 1\n"
                       "objectives:\n"
                       "  - {name: availability, objective: availability >= 99.9%}\n"
                       "services:\n"
                       "  - name: checkout\n"
                       "    by: [route]\n" PROM_SLI "  - name: rolling\n"
                       "    by: [customer]\n"
                       "    by_limit: 5\n"
                       "    objectives:\n"
                       "      - {name: availability, objective: availability >= 99%, window: 40d}\n"
                       "" PROM_SLI "  - name: plain\n" PROM_SLI,
                       lines, sizeof lines);
    assert_non_null(r);
    assert_string_equal(lines, "");
    const sw_service *checkout = &r->services[0], *rolling = &r->services[1];
    assert_string_equal(checkout->by, "route");
    assert_int_equal(checkout->by_pos.line, 6);
    assert_int_equal(checkout->by_pos.col, 10);
    assert_int_equal(checkout->by_limit, 100);
    /* A calendar month: kept 31 days after its last report. */
    assert_int_equal(checkout->by_idle_ms, 31 * DAY_MS);
    assert_string_equal(rolling->by, "customer");
    assert_int_equal(rolling->by_limit, 5);
    /* Its own 40-day window replaces the month. */
    assert_int_equal(rolling->by_idle_ms, 40 * DAY_MS);
    assert_null(r->services[2].by);
    /* The resolved set carries the service as it was compiled. */
    assert_string_equal(checkout->rules->services[0].by, "route");
    sw_rules_free(r);
}

static void
test_explicit_idle_at_least_the_window(void **state)
{
    (void)state;
    char lines[2048];
    sw_rules *r = load("version: 1\n"
                       "objectives:\n"
                       "  - {name: availability, objective: availability >= 99.9%, window: 7d}\n"
                       "services:\n"
                       "  - name: checkout\n"
                       "    by: [route]\n"
                       "    by_idle: 10d\n" PROM_SLI,
                       lines, sizeof lines);
    assert_non_null(r);
    assert_int_equal(r->services[0].by_idle_ms, 10 * DAY_MS);
    sw_rules_free(r);

    r = load("version: 1\n"
             "objectives:\n"
             "  - {name: availability, objective: availability >= 99.9%}\n"
             "services:\n"
             "  - name: checkout\n"
             "    by: [route]\n"
             "    by_idle: 2d\n" PROM_SLI,
             lines, sizeof lines);
    assert_null(r);
    assert_string_equal(lines, "by.yaml:7:14: error: expected by_idle of at least 31d (the "
                               "service's longest window, a calendar month counting 31 days), "
                               "so no value's budget is forgotten mid-window, found 2d\n");
}

static void
test_cap_of_zero_and_several_labels(void **state)
{
    (void)state;
    char lines[2048];
    sw_rules *r = load("version: 1\n"
                       "services:\n"
                       "  - name: checkout\n"
                       "    by: [route, method]\n"
                       "    by_limit: 0\n" PROM_SLI "  - name: plain\n"
                       "    by_limit: 3\n" PROM_SLI,
                       lines, sizeof lines);
    assert_null(r);
    assert_non_null(strstr(lines, "by.yaml:4:9: error: expected exactly one label in by (one SLO "
                                  "per value of one label; several labels are not supported), "
                                  "found 2\n"));
    assert_non_null(strstr(lines, "by.yaml:5:15: error: expected a number of label values of at "
                                  "least 1 for by_limit"));
    assert_non_null(strstr(lines, "by.yaml:10:5: error: expected by_limit only with by\n"));
}

static void
test_sources_that_cannot_carry_the_label(void **state)
{
    (void)state;
    char lines[2048];
    sw_rules *r =
        load("version: 1\n"
             "services:\n"
             "  - name: alb\n"
             "    by: [route]\n"
             "    sli:\n"
             "      requests: {cloudwatch: {preset: alb, dimensions: {LoadBalancer: x}}}\n"
             "      errors: {push: true}\n"
             "      latency: {prometheus: 'http_seconds{job=\"pay\",route=\"\"}'}\n"
             "      health: {probe: {url: 'http://127.0.0.1:9/healthz'}}\n",
             lines, sizeof lines);
    assert_null(r);
    assert_string_equal(
        lines, "by.yaml:6:17: error: expected a prometheus source for sli requests of a service "
               "with by: [route], found cloudwatch, which carries no labels\n"
               "by.yaml:7:15: error: expected a prometheus source for sli errors of a service "
               "with by: [route], found push, which carries no labels\n"
               "by.yaml:8:16: error: expected a selector for sli latency that series with the "
               "label 'route' of by can match, found route=\"\", which only series without it "
               "match\n"
               "by.yaml:9:15: error: expected a prometheus source for sli health of a service "
               "with by: [route], found probe, which carries no labels\n");
}

static void
test_reserved_and_malformed_labels(void **state)
{
    (void)state;
    char lines[2048];
    sw_rules *r = load("version: 1\n"
                       "services:\n"
                       "  - name: a\n"
                       "    by: [env]\n" PROM_SLI "  - name: b\n"
                       "    by: [2route]\n" PROM_SLI "  - name: c\n"
                       "    by: route\n" PROM_SLI,
                       lines, sizeof lines);
    assert_null(r);
    assert_string_equal(lines,
                        "by.yaml:4:10: error: expected a label of the service's own series in "
                        "by, found 'env', which slawatch reserves (env, le, quantile, __*, and "
                        "its outputs' labels)\n"
                        "by.yaml:9:10: error: expected a Prometheus label name "
                        "([a-zA-Z_][a-zA-Z0-9_]*), found '2route'\n"
                        "by.yaml:14:9: error: expected a list of one label name for by, found "
                        "'route'\n");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_follow_the_longest_window),
        cmocka_unit_test(test_explicit_idle_at_least_the_window),
        cmocka_unit_test(test_cap_of_zero_and_several_labels),
        cmocka_unit_test(test_sources_that_cannot_carry_the_label),
        cmocka_unit_test(test_reserved_and_malformed_labels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
