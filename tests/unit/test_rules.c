/*
 * Unit tests for the rules loader (ruleset/rules*.c) and selector validation: every field of
 * rules/production.yaml, the README's defaults, one case per error class with its position
 * counted by hand, multi-error files, YAML and JSON giving the same rule set, the OpenSLO
 * examples, and the small helpers. SW_RULES_DIR names the source tree's rules/ folder.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "slawatch/rules.h"
#include "slawatch/selector.h"

#ifndef SW_RULES_DIR
#error "build with -DSW_RULES_DIR=\"<source>/rules\""
#endif

#define assert_close(a, b)                                                                         \
    assert_true(fabs((double)(a) - (double)(b)) <= 1e-12 * fmax(1.0, fabs((double)(b))))

/* A service with one source: the smallest valid start, four lines long. */
#define BASE "version: 1\nservices:\n  - name: api\n    sli: {requests: {push: true}}\n"

#define MIN_MS INT64_C(60000)
#define HOUR_MS (60 * MIN_MS)
#define DAY_MS (24 * HOUR_MS)

static sw_status
load(const char *text, sw_rules **ret, sw_rules_diag *diag, sw_err *err)
{
    return sw_rules_load_mem(text, strlen(text), "t", ret, diag, err);
}

static sw_rules *
load_ok(const char *text)
{
    sw_rules_diag *d = sw_rules_diag_new();
    sw_rules *r = NULL;
    sw_err err = {0};
    sw_status st = load(text, &r, d, &err);
    for (size_t i = 0; i < sw_rules_diag_count(d); i++)
        print_error("unexpected: %s\n", sw_rules_diag_line(d, i));
    sw_rules_diag_free(d);
    assert_int_equal(st, SW_OK);
    assert_non_null(r);
    return r;
}

static sw_rules *
load_path_ok(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", SW_RULES_DIR, name);
    sw_rules_diag *d = sw_rules_diag_new();
    sw_rules *r = NULL;
    sw_err err = {0};
    sw_status st = sw_rules_load_file(path, &r, d, &err);
    for (size_t i = 0; i < sw_rules_diag_count(d); i++)
        print_error("unexpected: %s\n", sw_rules_diag_line(d, i));
    sw_rules_diag_free(d);
    assert_int_equal(st, SW_OK);
    return r;
}

/* ---- rules/production.yaml, field by field ------------------------------------------------ */

static void
check_condition(const sw_condition *c, sw_sli sli, double percentile, sw_op op, double value)
{
    assert_int_equal(c->sli, sli);
    assert_close(c->percentile, percentile);
    assert_int_equal(c->op, op);
    assert_close(c->value, value);
}

static void
check_prometheus(const sw_source *s, const char *selector)
{
    assert_int_equal(s->kind, SW_SOURCE_PROMETHEUS);
    assert_string_equal(s->selector, selector);
}

static void
test_production_service(void **state)
{
    const sw_rules *r = *state;
    assert_int_equal(r->base_interval_ms, 10000);
    assert_int_equal(r->min_requests, 100);
    assert_int_equal(r->n_services, 1);
    const sw_service *s = &r->services[0];
    assert_string_equal(s->name, "api");
    assert_int_equal(s->n_environments, 2);
    assert_string_equal(s->environments[0], "blue");
    assert_string_equal(s->environments[1], "green");
    check_prometheus(&s->requests, "http_requests_total{job=\"api\"}");
    check_prometheus(&s->errors, "http_requests_total{job=\"api\",code=~\"5..\"}");
    check_prometheus(&s->latency, "http_request_duration_seconds{job=\"api\"}");
    assert_int_equal(s->health.kind, SW_SOURCE_PROBE);
    assert_string_equal(s->health.url, "http://127.0.0.1:8080/health");
    assert_int_equal(s->health.every_ms, 10000);
    assert_int_equal(s->health.timeout_ms, 2000);
    assert_int_equal(s->health.expect_status, 200);
    assert_int_equal(s->n_maintenance, 0);
    assert_string_equal(s->pos.file, SW_RULES_DIR "/production.yaml");
    assert_int_equal(s->pos.line, 8);
    assert_int_equal(s->pos.col, 5);
}

static void
test_production_objectives(void **state)
{
    const sw_rules *r = *state;
    assert_int_equal(r->n_objectives, 5);
    const sw_objective *o = r->objectives;
    assert_string_equal(o[0].name, "availability");
    check_condition(&o[0].objective, SW_SLI_AVAILABILITY, 0, SW_OP_GE, 0.999);
    assert_int_equal(o[0].objective.pos.line, 20);
    assert_int_equal(o[0].objective.pos.col, 16);
    assert_int_equal(o[0].budgeting, SW_BUDGET_EVENTS);
    assert_string_equal(o[1].name, "latency-p95");
    check_condition(&o[1].objective, SW_SLI_LATENCY, 95, SW_OP_LE, 500000);
    assert_string_equal(o[2].name, "latency-p99");
    check_condition(&o[2].objective, SW_SLI_LATENCY, 99, SW_OP_LE, 1000000);
    assert_string_equal(o[3].name, "error-rate");
    check_condition(&o[3].objective, SW_SLI_ERROR_RATE, 0, SW_OP_LE, 0.001);
    assert_string_equal(o[4].name, "throughput");
    check_condition(&o[4].objective, SW_SLI_THROUGHPUT, 0, SW_OP_GE, 1000);
    assert_int_equal(o[4].slice_ms, MIN_MS);
    assert_close(o[4].slice_target, 0.99);
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(o[i].window.kind, SW_WINDOW_MONTH);
        assert_int_equal(o[i].n_bad_when, 2);
    }
}

static void
check_when(const sw_alert *a, const char *name, sw_sli sli, double pct, double value,
           int64_t for_ms, sw_severity sev)
{
    assert_string_equal(a->name, name);
    assert_int_equal(a->kind, SW_ALERT_CONDITION);
    check_condition(&a->when, sli, pct, SW_OP_GT, value);
    assert_int_equal(a->over_ms, MIN_MS);
    assert_int_equal(a->for_ms, for_ms);
    assert_int_equal(a->severity, sev);
}

static void
check_burn(const sw_alert *a, const char *name, double factor, int64_t long_ms, int64_t short_ms,
           sw_severity sev)
{
    assert_string_equal(a->name, name);
    assert_int_equal(a->kind, SW_ALERT_BURN_RATE);
    assert_int_equal(a->objective, 0); /* availability */
    assert_close(a->burn_rate, factor);
    assert_int_equal(a->long_ms, long_ms);
    assert_int_equal(a->short_ms, short_ms);
    assert_int_equal(a->for_ms, 0);
    assert_int_equal(a->severity, sev);
}

static void
test_production_alerts(void **state)
{
    const sw_rules *r = *state;
    const sw_severity crit = SW_SEVERITY_CRITICAL, warn = SW_SEVERITY_WARNING;
    assert_int_equal(r->n_alerts, 8);
    const sw_alert *a = r->alerts;
    check_when(&a[0], "ErrorRateHigh", SW_SLI_ERROR_RATE, 0, 0.01, 5 * MIN_MS, crit);
    check_when(&a[1], "ErrorRateVeryHigh", SW_SLI_ERROR_RATE, 0, 0.05, 5 * MIN_MS, crit);
    check_when(&a[2], "LatencyP95High", SW_SLI_LATENCY, 95, 800000, 10 * MIN_MS, warn);
    check_when(&a[3], "HealthChecksFailing", SW_SLI_HEALTH_CONSECUTIVE_FAILURES, 0, 3, 0, crit);
    check_burn(&a[4], "ErrorBudgetBurn1h", 14.4, HOUR_MS, 5 * MIN_MS, crit);
    check_burn(&a[5], "ErrorBudgetBurn6h", 6, 6 * HOUR_MS, 30 * MIN_MS, crit);
    check_burn(&a[6], "ErrorBudgetBurn1d", 3, DAY_MS, 2 * HOUR_MS, warn);
    check_burn(&a[7], "ErrorBudgetBurn3d", 1, 3 * DAY_MS, 6 * HOUR_MS, warn);
    assert_int_equal(a[4].pos.line, 55);
    assert_int_equal(a[4].pos.col, 5);
}

static void
test_production_triggers_gate(void **state)
{
    const sw_rules *r = *state;
    assert_int_equal(r->n_triggers, 3);
    const sw_alert *t = r->triggers;
    check_when(&t[0], "HealthChecksFailing", SW_SLI_HEALTH_CONSECUTIVE_FAILURES, 0, 3, 0,
               SW_SEVERITY_CRITICAL);
    check_when(&t[1], "ErrorRateSpike", SW_SLI_ERROR_RATE, 0, 0.05, 2 * MIN_MS,
               SW_SEVERITY_CRITICAL);
    check_when(&t[2], "LatencyP95Spike", SW_SLI_LATENCY, 95, 2000000, 5 * MIN_MS,
               SW_SEVERITY_CRITICAL);
    const sw_gate_spec *g = &r->gate;
    assert_int_equal(g->window_ms, 10 * MIN_MS);
    assert_int_equal(g->min_requests, 100);
    assert_int_equal(g->n_checks, 3);
    check_condition(&g->checks[0], SW_SLI_ERROR_RATE, 0, SW_OP_LE, 0.01);
    check_condition(&g->checks[1], SW_SLI_LATENCY, 95, SW_OP_LE, 500000);
    check_condition(&g->checks[2], SW_SLI_LATENCY, 99, SW_OP_LE, 1000000);
    assert_int_equal(g->checks[1].pos.line, 96);
    assert_int_equal(g->checks[1].pos.col, 7);
    assert_string_equal(g->baseline, "blue");
    assert_close(g->max_error_rate_increase, 0.005);
    assert_close(g->max_latency_increase, 0.2);
    assert_close(g->confidence, 0.99);
}

static void
test_production_lookups(void **state)
{
    const sw_rules *r = *state;
    assert_int_equal(sw_rules_objective_index(r, "latency-p99"), 2);
    assert_int_equal(sw_rules_objective_index(r, "latency"), -1);
    assert_int_equal(sw_rules_service_index(r, "api"), 0);
    assert_int_equal(sw_rules_service_index(r, "web"), -1);
}

static int
setup_production(void **state)
{
    *state = load_path_ok("production.yaml");
    return *state == NULL ? -1 : 0;
}

static int
teardown_rules(void **state)
{
    sw_rules_free(*state);
    return 0;
}

/* ---- defaults ----------------------------------------------------------------------------- */

static void
test_defaults(void **state)
{
    (void)state;
    sw_rules *r = load_ok(BASE "    maintenance: [{start: 2026-10-10T02:00:00Z, "
                               "end: '2026-10-10T04:00:00+01:00'}]\n"
                               "objectives:\n  - name: a\n    objective: availability >= 99%\n"
                               "alerts:\n  - name: A\n    when: errors > 10\n");
    assert_int_equal(r->base_interval_ms, 10000);
    assert_int_equal(r->min_requests, 100);
    const sw_objective *o = &r->objectives[0];
    assert_int_equal(o->window.kind, SW_WINDOW_MONTH);
    assert_int_equal(o->budgeting, SW_BUDGET_EVENTS);
    assert_int_equal(o->slice_ms, MIN_MS);
    assert_close(o->slice_target, 0.99);
    assert_int_equal(o->n_bad_when, 2);
    check_condition(&o->bad_when[0], SW_SLI_ERROR_RATE, 0, SW_OP_GT, 0.05);
    check_condition(&o->bad_when[1], SW_SLI_HEALTH_SUCCESS, 0, SW_OP_LT, 0.5);
    check_when(&r->alerts[0], "A", SW_SLI_ERRORS, 0, 10, 0, SW_SEVERITY_WARNING);
    const sw_gate_spec *g = &r->gate;
    assert_int_equal(g->window_ms, 10 * MIN_MS);
    assert_int_equal(g->min_requests, 100);
    assert_int_equal(g->n_checks, 0);
    assert_null(g->baseline);
    assert_close(g->max_error_rate_increase, -1);
    assert_close(g->max_latency_increase, -1);
    assert_close(g->confidence, 0.99);
    /* 2026-10-10T02:00:00Z: 20736 days after 1970-01-01 (56 years with 14 leap days, then
     * 273 + 9 days into 2026), plus 2 h; the end, 04:00 at +01:00, is 03:00Z. */
    const sw_maintenance *m = &r->services[0].maintenance[0];
    assert_int_equal(m->start_ms, INT64_C(1791597600000));
    assert_int_equal(m->end_ms, INT64_C(1791597600000) + HOUR_MS);
    assert_null(m->reason);
    sw_rules_free(r);
}

/* Rules written for the rank test keep loading: its alpha is the false-fail chance allowed. */
static void
test_gate_rank_test_alpha_reads_as_confidence(void **state)
{
    (void)state;
    sw_rules *r = load_ok("version: 1\nservices:\n  - name: api\n    environments: [blue, green]\n"
                          "    sli: {requests: {push: true}}\ngate:\n  compare:\n"
                          "    baseline: blue\n    rank_test_alpha: 0.05\n");
    assert_close(r->gate.confidence, 0.95);
    sw_rules_free(r);
}

static void
test_probe_defaults_and_gate_min_requests(void **state)
{
    (void)state;
    sw_rules *r = load_ok("version: 1\nmin_requests: 20\nservices:\n  - name: api\n"
                          "    sli: {health: {probe: {url: 'https://h/z'}}}\n");
    const sw_source *h = &r->services[0].health;
    assert_int_equal(h->kind, SW_SOURCE_PROBE);
    assert_int_equal(h->every_ms, 10000);
    assert_int_equal(h->timeout_ms, 2000);
    assert_int_equal(h->expect_status, 200);
    assert_int_equal(r->services[0].requests.kind, SW_SOURCE_NONE);
    assert_int_equal(r->gate.min_requests, 20); /* the rule set's min_requests */
    sw_rules_free(r);
}

/* ---- errors, one class per case ------------------------------------------------------------ */

typedef struct bad_case {
    const char *name;
    const char *text;
    const char *const *want; /* NULL-terminated */
} bad_case;

#define LINES(...) ((const char *const[]){__VA_ARGS__, NULL})
#define SLI_LIST                                                                                   \
    "requests, errors, error_rate, availability, throughput, pNN (e.g. p95, p99.9), "              \
    "health_consecutive_failures, health_failures, health_success"

static const bad_case bad_cases[] = {
    {"unknown key and missing key",
     BASE "objectives:\n  - name: a\n    objektive: availability >= 99%\n",
     LINES("t:6:5: error: missing key 'objective' in objective",
           "t:7:5: error: unknown key 'objektive' in objective; expected one of: name, "
           "objective, window, budgeting, slice, bad_when, slice_target")},
    {"list expected", "version: 1\nservices: api\n",
     LINES("t:2:11: error: expected a list of services, found a scalar")},
    {"mapping expected", BASE "gate: [a]\n",
     LINES("t:5:7: error: expected a mapping for gate, found a list")},
    {"missing name", "version: 1\nservices:\n  - sli: {requests: {push: true}}\n",
     LINES("t:3:5: error: missing key 'name' in service")},
    {"missing version", "services:\n  - name: a\n    sli: {requests: {push: true}}\n",
     LINES("t:1:1: error: missing key 'version' in the rules file")},
    {"bad window",
     BASE "objectives:\n  - name: a\n    objective: availability >= 99%\n"
          "    window: 5x\n",
     LINES("t:8:13: error: expected a window: month or a duration (e.g. 30d), found '5x'")},
    {"bad duration", BASE "alerts:\n  - name: A\n    when: error_rate > 1%\n    over: 5x\n",
     LINES("t:8:11: error: expected a duration (e.g. 5m, 1h30m) for over, found '5x'")},
    {"value unit, plain scalar", BASE "alerts:\n  - name: A\n    when: p95 > 500\n",
     LINES("t:7:17: error: expected a latency (e.g. 500ms, 1s, 250us) for p95, found '500'")},
    {"value unit, quoted scalar", BASE "alerts:\n  - name: A\n    when: \"p95 > 500\"\n",
     LINES("t:7:11: error: expected a latency (e.g. 500ms, 1s, 250us) for p95, found '500'")},
    {"value unit, scalar folded over two lines",
     BASE "alerts:\n  - name: A\n    when: p95 >\n      500\n",
     LINES("t:7:11: error: expected a latency (e.g. 500ms, 1s, 250us) for p95, found '500'")},
    {"unknown SLI", BASE "alerts:\n  - name: A\n    when: eror_rate > 1%\n",
     LINES("t:7:11: error: unknown SLI 'eror_rate'; expected one of: " SLI_LIST)},
    {"bad operator", BASE "alerts:\n  - name: A\n    when: error_rate => 1%\n",
     LINES("t:7:22: error: expected an operator (<, <=, >, >=) after 'error_rate', found '=>'")},
    {"ratio out of range", BASE "alerts:\n  - name: A\n    when: error_rate > 150%\n",
     LINES("t:7:24: error: expected a ratio between 0% and 100% for error_rate, found '150%'")},
    {"count", BASE "alerts:\n  - name: A\n    when: requests > 1.5\n",
     LINES("t:7:22: error: expected a count (a whole number) for requests, found '1.5'")},
    {"rate", BASE "alerts:\n  - name: A\n    when: throughput < 1000\n",
     LINES("t:7:24: error: expected a rate (e.g. 1000/s, 60000/m) for throughput, found '1000'")},
    {"text after the value", BASE "alerts:\n  - name: A\n    when: error_rate > 1% now\n",
     LINES("t:7:27: error: expected the end of the condition after the value, found 'now'")},
    {"condition not a scalar", BASE "alerts:\n  - name: A\n    when: [error_rate > 1%]\n",
     LINES("t:7:11: error: expected a condition '<sli> <op> <value>' (e.g. error_rate > 1%), "
           "found a list")},
    {"availability target 100%",
     BASE "objectives:\n  - name: a\n    objective: availability >= 100%\n",
     LINES("t:7:32: error: expected a target below 100% (100% leaves no error budget)")},
    {"availability target 0%", BASE "objectives:\n  - name: a\n    objective: availability >= 0%\n",
     LINES("t:7:32: error: expected a target above 0%")},
    {"error rate objective 0%", BASE "objectives:\n  - name: a\n    objective: error_rate <= 0%\n",
     LINES("t:7:30: error: expected an error rate above 0% (0% leaves no error budget)")},
    {"objective direction", BASE "objectives:\n  - name: a\n    objective: p95 >= 500ms\n",
     LINES("t:7:20: error: expected <= or < in the objective: p95 is promised as a maximum")},
    {"objective on a count", BASE "objectives:\n  - name: a\n    objective: errors < 10\n",
     LINES("t:7:16: error: expected an objective on availability, error_rate, pNN, throughput "
           "or health_success, found errors")},
    {"p99 below p95",
     BASE "objectives:\n  - name: p95\n    objective: p95 <= 800ms\n"
          "  - name: p99\n    objective: p99 <= 500ms\n",
     LINES("t:9:16: error: expected a p99 threshold of at least 800ms, the p95 threshold of "
           "objective 'p95' in the same window")},
    {"p95 above p99, written after it",
     BASE "objectives:\n  - name: p99\n    objective: p99 <= 500ms\n"
          "  - name: p95\n    objective: p95 <= 800ms\n",
     LINES("t:9:16: error: expected a p95 threshold of at most 500ms, the p99 threshold of "
           "objective 'p99' in the same window")},
    {"gate p99 below p95", BASE "gate:\n  checks: [p95 <= 1s, p99 <= 250ms]\n",
     LINES("t:6:23: error: expected a p99 threshold of at least 1s, the p95 threshold of gate "
           "check 1")},
    {"over shorter than base_interval",
     BASE "alerts:\n  - name: A\n    when: error_rate > 1%\n    over: 5s\n",
     LINES("t:8:11: error: expected over to be at least base_interval 10s, found 5s")},
    {"for not a multiple of base_interval",
     BASE "alerts:\n  - name: A\n    when: error_rate > 1%\n    for: 15s\n",
     LINES("t:8:10: error: expected for to be a multiple of base_interval 10s, found 15s")},
    {"window shorter than base_interval",
     "version: 1\nbase_interval: 1m\nservices:\n  - name: api\n    sli: {errors: {push: true}}\n"
     "objectives:\n  - name: a\n    objective: availability >= 99%\n    window: 30s\n",
     LINES("t:9:13: error: expected window to be at least base_interval 1m, found 30s")},
    {"slice and long/short against base_interval",
     "version: 1\nbase_interval: 30s\nservices:\n  - name: api\n    sli: {errors: {push: true}}\n"
     "objectives:\n  - name: a\n    objective: availability >= 99%\n    budgeting: timeslices\n"
     "    slice: 45s\nalerts:\n  - name: B\n    burn_rate: 2\n    objective: a\n"
     "    long: 10s\n    short: 20s\n",
     LINES("t:10:12: error: expected slice to be a multiple of base_interval 30s, found 45s",
           "t:15:11: error: expected long to be at least base_interval 30s, found 10s",
           "t:16:12: error: expected short to be at least base_interval 30s, found 20s",
           "t:16:12: error: expected a short window shorter than long (10s), found '20s'")},
    {"defaults that do not fit base_interval",
     "version: 1\nbase_interval: 2h\nservices:\n  - name: api\n    sli: {requests: {push: true}}\n"
     "objectives:\n  - name: t\n    objective: throughput >= 10/s\n"
     "alerts:\n  - name: A\n    when: error_rate > 1%\n",
     LINES("t:1:1: error: expected key 'gate.window': its default 10m is not a multiple of "
           "base_interval 2h",
           "t:7:5: error: expected key 'slice': its default 1m is not a multiple of "
           "base_interval 2h",
           "t:10:5: error: expected key 'over': its default 1m is not a multiple of "
           "base_interval 2h")},
    {"burn-rate objectives",
     BASE "objectives:\n  - name: availability\n    objective: availability >= 99.9%\n"
          "  - name: p95\n    objective: p95 <= 500ms\nalerts:\n"
          "  - name: B1\n    burn_rate: 14.4\n    objective: availabilty\n    long: 1h\n"
          "    short: 5m\n"
          "  - name: B2\n    burn_rate: 14.4\n    objective: p95\n    long: 5m\n    short: 1h\n"
          "  - name: B3\n    burn_rate: 1000\n    objective: availability\n    long: 1h\n"
          "    short: 5m\n",
     LINES("t:13:16: error: expected the name of an objective, found 'availabilty' (no "
           "objective has that name)",
           "t:18:16: error: expected an availability or error_rate objective for a burn rate, "
           "found objective 'p95' on p95",
           "t:20:12: error: expected a short window shorter than long (5m), found '1h'",
           "t:22:16: error: expected a burn rate below 1000: objective 'availability' allows "
           "0.1% bad, so its burn rate never exceeds 1000")},
    {"duplicate names",
     "version: 1\nservices:\n  - name: api\n    sli: {requests: {push: true}}\n"
     "  - name: api\n    sli: {requests: {push: true}}\n"
     "objectives:\n  - name: a\n    objective: availability >= 99%\n"
     "  - name: a\n    objective: availability >= 98%\n"
     "alerts:\n  - name: X\n    when: error_rate > 1%\n  - name: X\n    when: error_rate > 2%\n"
     "rollback_triggers:\n  - name: X\n    when: error_rate > 5%\n"
     "  - name: X\n    when: error_rate > 6%\n",
     LINES("t:5:11: error: expected a unique service name, found 'api' again (first at line 3)",
           "t:10:11: error: expected a unique objective name, found 'a' again (first at line 8)",
           "t:15:11: error: expected a unique alert name, found 'X' again (first at line 13)",
           "t:20:11: error: expected a unique rollback trigger name, found 'X' again (first at "
           "line 18)")},
    {"maintenance times",
     BASE
     "    maintenance:\n      - start: 2026-10-10T03:00:00Z\n        end: 2026-10-10T02:00:00Z\n"
     "      - start: 2026-10-10T25:00:00Z\n        end: 2026-02-29T01:00:00Z\n",
     LINES("t:7:14: error: expected an end after the start '2026-10-10T03:00:00Z', found "
           "'2026-10-10T02:00:00Z'",
           "t:8:16: error: expected an RFC 3339 time (e.g. 2026-10-10T02:00:00Z) for start, "
           "found '2026-10-10T25:00:00Z'",
           "t:9:14: error: expected an RFC 3339 time (e.g. 2026-10-10T02:00:00Z) for end, "
           "found '2026-02-29T01:00:00Z'")},
    {"gate baseline",
     "version: 1\nservices:\n  - name: api\n    environments: [blue, green]\n"
     "    sli: {requests: {push: true}}\ngate:\n  compare:\n    baseline: blu\n",
     LINES("t:8:15: error: expected one of the environments of service 'api' (blue, green) as "
           "baseline, found 'blu'")},
    {"gate tolerances and confidence",
     "version: 1\nservices:\n  - name: api\n    environments: [blue, green]\n"
     "    sli: {requests: {push: true}}\ngate:\n  compare:\n    baseline: blue\n"
     "    max_error_rate_increase: 0%\n    max_latency_increase: 1100%\n"
     "    confidence: 99.999%\n",
     LINES("t:9:30: error: expected more than 0% and at most 100% for max_error_rate_increase, "
           "found '0%'",
           "t:10:27: error: expected more than 0% and at most 1000% (10x) for "
           "max_latency_increase, found '1100%'",
           "t:11:17: error: expected more than 50% and less than 99.99% for confidence, found "
           "'99.999%'")},
    {"gate baseline without environments, confidence with its old name",
     "version: 1\nservices:\n  - name: api\n    sli: {requests: {push: true}}\n"
     "gate:\n  compare:\n    baseline: blue\n    confidence: 50%\n    rank_test_alpha: 0.05\n",
     LINES("t:7:15: error: expected an environment of a service as baseline (no service lists "
           "environments), found 'blue'",
           "t:8:17: error: expected more than 50% and less than 99.99% for confidence, found "
           "'50%'",
           "t:9:22: error: expected confidence or rank_test_alpha (its old name: confidence is 1 "
           "- rank_test_alpha), not both")},
    {"sources",
     "version: 1\nservices:\n  - name: api\n    sli:\n"
     "      requests: {probe: {url: 'http://x'}}\n"
     "      errors: {cloudwatch: {preset: alb}}\n"
     "      latency: {cloudwatch: {namespace: AWS/ApiGateway, metric: Latency, "
     "stat: p99.5}}\n"
     "      health: {push: yes}\n",
     LINES("t:5:25: error: expected prometheus, cloudwatch or push for requests: a probe "
           "measures health only",
           "t:6:28: error: missing key 'dimensions' in cloudwatch (a preset needs them)",
           "t:8:22: error: expected true for push, found 'yes'")},
    {"three errors in three sections",
     "version: 1\nbase_interval: 10s\nservices:\n  - name: api\n"
     "    sli: {requests: {prometheus: 'up{job=\"api\"'}}\n"
     "objectives:\n  - name: a\n    objective: availability >= 99.9%\n    window: 1x\n"
     "alerts:\n  - name: A\n    when: error_rate > 1%\n    for: 5m\n    severity: high\n",
     LINES("t:5:34: error: selector: expected ',' or '}' after a matcher, found the end",
           "t:9:13: error: expected a window: month or a duration (e.g. 30d), found '1x'",
           "t:14:15: error: expected a severity (critical, warning or info), found 'high'")},
    {"empty file", "", LINES("t:1:1: error: expected a rules file, found an empty file")},
    {"two documents", BASE "---\nversion: 1\n",
     LINES("t:6:1: error: expected one document in a rules file, found 2")},
    {"configuration file", "listen: ':8080'\n",
     LINES("t:1:1: error: expected a rules file, found a slawatch configuration (listen, "
           "data_dir, rules_files ...)")},
    {"OpenSLO errors",
     "apiVersion: openslo/v1\nkind: SLO\nmetadata:\n  name: a\n  labels: {team: x}\n"
     "spec:\n  service: api\n  owner: me\n  indicator:\n    spec:\n      ratioMetric:\n"
     "        good: {metricSource: {type: Prometheus, spec: {query: 'ok_total'}}}\n"
     "        total: {metricSource: {type: Prometheus, spec: {query: 'all_total'}}}\n"
     "  timeWindow: [{duration: 1M, isRolling: true}]\n  budgetingMethod: Occurrences\n"
     "  objectives: [{target: 1}]\n",
     LINES("t:8:3: error: unknown key 'owner' in SLO spec; expected one of: description, "
           "service, indicator, indicatorRef, timeWindow, budgetingMethod, objectives, "
           "alertPolicies",
           "t:14:27: error: expected a rolling duration in m, h, d or w (e.g. 28d), found '1M'",
           "t:16:25: error: expected a target above 0 and below 1, found '1'")},
};

static bool
same_lines(const bad_case *c, const sw_rules_diag *d)
{
    size_t n = 0;
    while (c->want[n] != NULL)
        n++;
    bool same = sw_rules_diag_count(d) == n;
    for (size_t i = 0; same && i < n; i++)
        same = strcmp(sw_rules_diag_line(d, i), c->want[i]) == 0;
    if (same)
        return true;
    print_error("case '%s': expected\n", c->name);
    for (size_t i = 0; i < n; i++)
        print_error("    %s\n", c->want[i]);
    print_error("  got\n");
    for (size_t i = 0; i < sw_rules_diag_count(d); i++)
        print_error("    %s\n", sw_rules_diag_line(d, i));
    return false;
}

static void
test_error_classes(void **state)
{
    (void)state;
    size_t failed = 0;
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        sw_rules_diag *d = sw_rules_diag_new();
        sw_rules *r = NULL;
        sw_err err = {0};
        sw_status st = load(bad_cases[i].text, &r, d, &err);
        if (st != SW_E_PARSE || r != NULL || err.code != SW_E_PARSE ||
            !same_lines(&bad_cases[i], d))
            failed++;
        sw_rules_diag_free(d);
    }
    assert_int_equal(failed, 0);
}

static void
test_summary_and_null_diag(void **state)
{
    (void)state;
    sw_rules *r = NULL;
    sw_err err = {0};
    const char *text = BASE "alerts:\n  - name: A\n    when: p95 > 500\n    severity: high\n";
    assert_int_equal(load(text, &r, NULL, &err), SW_E_PARSE);
    assert_null(r);
    assert_string_equal(err.msg, "t:7:17: expected a latency (e.g. 500ms, 1s, 250us) for p95, "
                                 "found '500' (and 1 more error)");
}

static void
test_yaml_syntax_error(void **state)
{
    (void)state;
    sw_rules_diag *d = sw_rules_diag_new();
    sw_rules *r = NULL;
    assert_int_equal(load("version: 1\nservices: [\n", &r, d, NULL), SW_E_PARSE);
    assert_int_equal(sw_rules_diag_count(d), 1);
    /* The message is libyaml's; the position is the end of the input, line 3 column 1. */
    assert_memory_equal(sw_rules_diag_line(d, 0), "t:3:1: error: ", 14);
    sw_rules_diag_free(d);
}

/* 600 alerts with two errors each: 1000 lines kept, then one saying the rest were cut. */
static void
test_too_many_errors(void **state)
{
    (void)state;
    size_t cap = 64 * 1024, used = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    used += (size_t)snprintf(text, cap, "%salerts:\n", BASE);
    for (int i = 0; i < 600; i++)
        used +=
            (size_t)snprintf(text + used, cap - used,
                             "  - {name: A%d, when: error_rate > 1, severity: x, for: 1s}\n", i);
    sw_rules_diag *d = sw_rules_diag_new();
    sw_rules *r = NULL;
    sw_err err = {0};
    assert_int_equal(load(text, &r, d, &err), SW_E_PARSE);
    assert_int_equal(sw_rules_diag_count(d), 1001);
    assert_string_equal(sw_rules_diag_line(d, 1000),
                        "t: error: too many errors; only the first 1000 are listed");
    assert_non_null(strstr(err.msg, "(and 1199 more errors)"));
    sw_rules_diag_free(d);
    free(text);
}

/* ---- YAML and JSON load alike ------------------------------------------------------------- */

static const char small_yaml[] =
    "version: 1\n"
    "base_interval: 15s\n"
    "min_requests: 50\n"
    "services:\n"
    "  - name: api\n"
    "    environments: [blue, green]\n"
    "    sli:\n"
    "      requests: { prometheus: 'http_requests_total{job=\"api\"}' }\n"
    "      health: { probe: { url: 'http://h/healthz' } }\n"
    "objectives:\n"
    "  - name: avail\n"
    "    objective: availability >= 99.5%\n"
    "    window: 30d\n"
    "    budgeting: timeslices\n"
    "    bad_when: [error_rate > 10%]\n"
    "alerts:\n"
    "  - name: Burn\n"
    "    burn_rate: 6\n"
    "    objective: avail\n"
    "    long: 6h\n"
    "    short: 30m\n"
    "gate:\n"
    "  checks: [p95 <= 300ms]\n";

static const char small_json[] =
    "{\"version\": 1, \"base_interval\": \"15s\", \"min_requests\": 50,\n"
    " \"services\": [{\"name\": \"api\", \"environments\": [\"blue\", \"green\"],\n"
    "   \"sli\": {\"requests\": {\"prometheus\": \"http_requests_total{job=\\\"api\\\"}\"},\n"
    "           \"health\": {\"probe\": {\"url\": \"http://h/healthz\"}}}}],\n"
    " \"objectives\": [{\"name\": \"avail\", \"objective\": \"availability >= 99.5%\",\n"
    "   \"window\": \"30d\", \"budgeting\": \"timeslices\", \"bad_when\": [\"error_rate > "
    "10%\"]}],\n"
    " \"alerts\": [{\"name\": \"Burn\", \"burn_rate\": 6, \"objective\": \"avail\",\n"
    "   \"long\": \"6h\", \"short\": \"30m\"}],\n"
    " \"gate\": {\"checks\": [\"p95 <= 300ms\"]}}\n";

static void
same_condition(const sw_condition *a, const sw_condition *b)
{
    check_condition(a, b->sli, b->percentile, b->op, b->value);
}

static void
same_source(const sw_source *a, const sw_source *b)
{
    assert_int_equal(a->kind, b->kind);
    if (a->selector != NULL || b->selector != NULL)
        assert_string_equal(a->selector, b->selector);
    if (a->url != NULL || b->url != NULL)
        assert_string_equal(a->url, b->url);
    assert_int_equal(a->every_ms, b->every_ms);
    assert_int_equal(a->timeout_ms, b->timeout_ms);
    assert_int_equal(a->expect_status, b->expect_status);
}

static void
same_objective(const sw_objective *a, const sw_objective *b)
{
    assert_string_equal(a->name, b->name);
    same_condition(&a->objective, &b->objective);
    assert_int_equal(a->window.kind, b->window.kind);
    assert_int_equal(a->window.length_ms, b->window.length_ms);
    assert_int_equal(a->budgeting, b->budgeting);
    assert_int_equal(a->slice_ms, b->slice_ms);
    assert_close(a->slice_target, b->slice_target);
    assert_int_equal(a->n_bad_when, b->n_bad_when);
    for (size_t i = 0; i < a->n_bad_when; i++)
        same_condition(&a->bad_when[i], &b->bad_when[i]);
}

static void
same_alert(const sw_alert *a, const sw_alert *b)
{
    assert_string_equal(a->name, b->name);
    assert_int_equal(a->kind, b->kind);
    assert_int_equal(a->severity, b->severity);
    same_condition(&a->when, &b->when);
    assert_int_equal(a->over_ms, b->over_ms);
    assert_int_equal(a->for_ms, b->for_ms);
    assert_int_equal(a->objective, b->objective);
    assert_close(a->burn_rate, b->burn_rate);
    assert_int_equal(a->long_ms, b->long_ms);
    assert_int_equal(a->short_ms, b->short_ms);
}

static void
same_rules(const sw_rules *a, const sw_rules *b)
{
    assert_int_equal(a->base_interval_ms, b->base_interval_ms);
    assert_int_equal(a->min_requests, b->min_requests);
    assert_int_equal(a->n_services, b->n_services);
    for (size_t i = 0; i < a->n_services; i++) {
        const sw_service *x = &a->services[i], *y = &b->services[i];
        assert_string_equal(x->name, y->name);
        assert_int_equal(x->n_environments, y->n_environments);
        for (size_t e = 0; e < x->n_environments; e++)
            assert_string_equal(x->environments[e], y->environments[e]);
        same_source(&x->requests, &y->requests);
        same_source(&x->errors, &y->errors);
        same_source(&x->latency, &y->latency);
        same_source(&x->health, &y->health);
    }
    assert_int_equal(a->n_objectives, b->n_objectives);
    for (size_t i = 0; i < a->n_objectives; i++)
        same_objective(&a->objectives[i], &b->objectives[i]);
    assert_int_equal(a->n_alerts, b->n_alerts);
    for (size_t i = 0; i < a->n_alerts; i++)
        same_alert(&a->alerts[i], &b->alerts[i]);
    assert_int_equal(a->gate.window_ms, b->gate.window_ms);
    assert_int_equal(a->gate.min_requests, b->gate.min_requests);
    assert_int_equal(a->gate.n_checks, b->gate.n_checks);
    for (size_t i = 0; i < a->gate.n_checks; i++)
        same_condition(&a->gate.checks[i], &b->gate.checks[i]);
}

static void
test_json_equals_yaml(void **state)
{
    (void)state;
    sw_rules *y = load_ok(small_yaml), *j = load_ok(small_json);
    same_rules(y, j);
    /* And the values themselves, worked out from the text. */
    assert_int_equal(y->base_interval_ms, 15000);
    assert_int_equal(y->gate.min_requests, 50);
    assert_int_equal(y->objectives[0].window.kind, SW_WINDOW_ROLLING);
    assert_int_equal(y->objectives[0].window.length_ms, 30 * DAY_MS);
    check_condition(&y->objectives[0].objective, SW_SLI_AVAILABILITY, 0, SW_OP_GE, 0.995);
    assert_int_equal(y->objectives[0].n_bad_when, 1);
    check_condition(&y->objectives[0].bad_when[0], SW_SLI_ERROR_RATE, 0, SW_OP_GT, 0.1);
    assert_int_equal(y->alerts[0].long_ms, 6 * HOUR_MS);
    assert_int_equal(y->alerts[0].short_ms, 30 * MIN_MS);
    check_condition(&y->gate.checks[0], SW_SLI_LATENCY, 95, SW_OP_LE, 300000);
    assert_int_equal(j->services[0].pos.line, 2); /* positions are the JSON's own */
    sw_rules_free(y);
    sw_rules_free(j);
}

/* ---- OpenSLO ------------------------------------------------------------------------------ */

static void
test_openslo_ratio_example(void **state)
{
    (void)state;
    sw_rules *r = load_path_ok("examples/openslo-ratio.yaml");
    assert_int_equal(r->n_services, 1);
    assert_string_equal(r->services[0].name, "api");
    check_prometheus(&r->services[0].requests, "http_requests_total{job=\"api\"}");
    check_prometheus(&r->services[0].errors, "http_requests_total{job=\"api\",code=~\"5..\"}");
    assert_int_equal(r->services[0].latency.kind, SW_SOURCE_NONE);
    /* An SLO's objectives are its service's own. */
    const sw_rules *own = sw_rules_of_service(r, 0);
    assert_int_equal(own->n_objectives, 2);
    const sw_objective *o = own->objectives;
    assert_string_equal(o[0].name, "api-availability");
    check_condition(&o[0].objective, SW_SLI_AVAILABILITY, 0, SW_OP_GE, 0.999);
    assert_int_equal(o[0].window.kind, SW_WINDOW_ROLLING);
    assert_int_equal(o[0].window.length_ms, 28 * DAY_MS);
    assert_int_equal(o[0].budgeting, SW_BUDGET_EVENTS);
    assert_string_equal(o[1].name, "api-errors");
    check_condition(&o[1].objective, SW_SLI_ERROR_RATE, 0, SW_OP_LE, 0.005); /* 1 - 99.5% */
    assert_int_equal(o[1].window.kind, SW_WINDOW_MONTH);
    assert_int_equal(o[1].budgeting, SW_BUDGET_TIMESLICES);
    assert_int_equal(o[1].slice_ms, MIN_MS);
    assert_int_equal(o[1].n_bad_when, 1);
    check_condition(&o[1].bad_when[0], SW_SLI_ERROR_RATE, 0, SW_OP_GT, 0.05); /* 1 - 0.95 */
    assert_int_equal(own->n_alerts + own->n_triggers, 0);
    assert_int_equal(r->base_interval_ms, 10000);
    sw_rules_free(r);
}

static void
test_openslo_latency_example(void **state)
{
    (void)state;
    sw_rules *r = load_path_ok("examples/openslo-latency.yaml");
    check_prometheus(&r->services[0].latency, "http_request_duration_seconds{job=\"api\"}");
    const sw_rules *own = sw_rules_of_service(r, 0);
    assert_int_equal(own->n_objectives, 2);
    assert_string_equal(own->objectives[0].name, "api-latency-p95");
    check_condition(&own->objectives[0].objective, SW_SLI_LATENCY, 95, SW_OP_LE, 500000);
    assert_string_equal(own->objectives[1].name, "api-latency-p99");
    check_condition(&own->objectives[1].objective, SW_SLI_LATENCY, 99, SW_OP_LE, 1000000);
    assert_int_equal(own->objectives[1].window.kind, SW_WINDOW_MONTH);
    sw_rules_free(r);
}

/* Without `_seconds` in the metric, values are milliseconds: value 500 is 500 ms. */
static void
test_openslo_milliseconds_and_list(void **state)
{
    (void)state;
    sw_rules *r = load_ok(
        "- apiVersion: openslo/v1\n  kind: SLO\n  metadata: {name: lat, displayName: Latency}\n"
        "  spec:\n    service: web\n    indicator:\n      spec:\n        thresholdMetric:\n"
        "          metricSource: {type: Datadog, spec: {query: 'avg:latency{*}'}}\n"
        "    budgetingMethod: Occurrences\n"
        "    objectives: [{op: lte, value: 500, targetPercent: 99.9}]\n");
    assert_string_equal(r->services[0].name, "web");
    assert_int_equal(r->services[0].latency.kind, SW_SOURCE_NONE);
    const sw_rules *own = sw_rules_of_service(r, 0);
    check_condition(&own->objectives[0].objective, SW_SLI_LATENCY, 99.9, SW_OP_LE, 500000);
    assert_int_equal(own->objectives[0].window.kind, SW_WINDOW_MONTH);
    sw_rules_free(r);
}

/* ---- file kinds --------------------------------------------------------------------------- */

static sw_rules_file_kind
kind_of_text(const char *text)
{
    char path[] = "/tmp/test_rules_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    sw_rules_file_kind kind = sw_rules_file_kind_of(path);
    unlink(path);
    return kind;
}

static void
test_file_kinds(void **state)
{
    (void)state;
    assert_int_equal(kind_of_text("gate: {}\n"), SW_FILE_RULES);
    assert_int_equal(kind_of_text("rollback_triggers: []\nlisten: x\n"), SW_FILE_RULES);
    assert_int_equal(kind_of_text("apiVersion: openslo/v1\nkind: SLO\n"), SW_FILE_OPENSLO);
    assert_int_equal(kind_of_text("- apiVersion: openslo/v1\n"), SW_FILE_OPENSLO);
    assert_int_equal(kind_of_text("data_dir: /var/lib/slawatch\n"), SW_FILE_CONFIG);
    assert_int_equal(kind_of_text("alertmanager: {url: x}\n"), SW_FILE_CONFIG);
    assert_int_equal(kind_of_text("base_interval: 10s\n"), SW_FILE_UNKNOWN);
    assert_int_equal(kind_of_text("[1, 2]\n"), SW_FILE_UNKNOWN);
    assert_int_equal(kind_of_text(""), SW_FILE_UNKNOWN);
    assert_int_equal(kind_of_text("a: [\n"), SW_FILE_UNKNOWN);
    assert_int_equal(sw_rules_file_kind_of("/nonexistent/rules.yaml"), SW_FILE_UNKNOWN);
}

static void
test_unreadable_file(void **state)
{
    (void)state;
    sw_rules *r = NULL;
    sw_err err = {0};
    assert_int_equal(sw_rules_load_file("/nonexistent/rules.yaml", &r, NULL, &err), SW_E_IO);
    assert_null(r);
    assert_int_equal(err.sys_errno, ENOENT);
}

/* ---- helpers ------------------------------------------------------------------------------ */

static void
test_helpers(void **state)
{
    (void)state;
    char name[32];
    sw_condition c = {.sli = SW_SLI_LATENCY, .percentile = 99.9};
    sw_rules_sli_name(&c, name, sizeof name);
    assert_string_equal(name, "p99.9");
    c = (sw_condition){.sli = SW_SLI_HEALTH_CONSECUTIVE_FAILURES};
    sw_rules_sli_name(&c, name, sizeof name);
    assert_string_equal(name, "health_consecutive_failures");
    assert_string_equal(sw_rules_op_str(SW_OP_LE), "<=");
    assert_string_equal(sw_rules_op_str(SW_OP_GT), ">");
    assert_string_equal(sw_rules_severity_str(SW_SEVERITY_INFO), "info");
    assert_true(sw_rules_compare(SW_OP_LT, 1, 2));
    assert_false(sw_rules_compare(SW_OP_LT, 2, 2));
    assert_true(sw_rules_compare(SW_OP_LE, 2, 2));
    assert_true(sw_rules_compare(SW_OP_GT, 3, 2));
    assert_true(sw_rules_compare(SW_OP_GE, 2, 2));
    assert_false(sw_rules_compare(SW_OP_GE, NAN, 2)); /* no data never holds */
    sw_rules_free(NULL);
    sw_rules_diag_free(NULL);
}

/* ---- selectors ---------------------------------------------------------------------------- */

typedef struct selector_case {
    const char *text;
    sw_status status;
    size_t offset; /* of the problem, on SW_E_PARSE */
} selector_case;

static const selector_case selector_cases[] = {
    {"http_requests_total", SW_OK, 0},
    {"http_requests_total{job=\"api\",code=~\"5..\"}", SW_OK, 0},
    {"a { b = 'c' , d != `e\\` , }", SW_OK, 0},
    {"{__name__=\"up\"}", SW_OK, 0},
    {"{job!~\".*\"}", SW_OK, 0},
    {"a{b=\"\\u00e9\\x41\\101\\\"\"}", SW_OK, 0},
    {":recording:rule", SW_OK, 0},
    {"", SW_E_PARSE, 0},
    {"{}", SW_E_PARSE, 0},
    {"{job=~\".*\"}", SW_E_PARSE, 0},
    {"a{b=\"c\"", SW_E_PARSE, 7},
    {"a{b==\"c\"}", SW_E_PARSE, 4},
    {"a{b:c=\"d\"}", SW_E_PARSE, 3},
    {"a{9=\"x\"}", SW_E_PARSE, 2},
    {"a{b=\"c\\q\"}", SW_E_PARSE, 6},
    {"a{b=\"\\uD800\"}", SW_E_PARSE, 5},
    {"a{b=\"c\nd\"}", SW_E_PARSE, 4},
    {"a{b=~\"(x\"}", SW_E_PARSE, 5},
    {"a{b=~\"\\\\d+\"}", SW_E_PARSE, 5},
    {"a{b=~\"(?i)x\"}", SW_E_PARSE, 5},
    {"a{b=~\"((a{100}){100}){100}\"}", SW_E_PARSE, 5},
    {"a{b=~\"x++\"}", SW_E_PARSE, 5},
    {"a{b=~\"(*x)\"}", SW_E_PARSE, 5},
    {"a{b=~\"x{1001}\"}", SW_E_PARSE, 5},
    {"a{b=~\"(x{0,30}){0,34}\"}", SW_E_PARSE, 5}, /* 30 x 34 > 1000, RE2's limit */
    {"a{b=~\"(x{0,30}){0,33}\"}", SW_OK, 0},
    {"a{b=~\"x{5,2}\"}", SW_E_PARSE, 5},
    {"a{b=~\"[z-a]\"}", SW_E_PARSE, 5},
    {"{b=~\"x+?\"}", SW_OK, 0},      /* lazy: never matches "" */
    {"{b=~\"x*?\"}", SW_E_PARSE, 0}, /* matches "" */
    {"{b=~\"(a|)\"}", SW_E_PARSE, 0},
    {"{b=~\"a)(b\"}", SW_OK, 0},            /* ^(a)(b)$ */
    {"{b=~\"((((x*)+)+)+)+y\"}", SW_OK, 0}, /* nested loops: no time in glibc */
    {"a{__name__=\"b\"}", SW_E_PARSE, 2},
    {"rate(a[5m])", SW_E_PARSE, 4},
    {"a[5m]", SW_E_PARSE, 1},
    {"9a", SW_E_PARSE, 0},
};

static void
test_selectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof selector_cases / sizeof selector_cases[0]; i++) {
        const selector_case *c = &selector_cases[i];
        size_t offset = 12345;
        sw_err err = {0};
        sw_status st = sw_selector_validate(c->text, strlen(c->text), &offset, &err);
        if (st != c->status || (st == SW_E_PARSE && offset != c->offset))
            print_error("selector '%s': status %d offset %zu (%s)\n", c->text, st, offset, err.msg);
        assert_int_equal(st, c->status);
        assert_int_equal(offset, st == SW_OK ? 12345 : c->offset);
    }
    size_t offset = 0;
    assert_int_equal(sw_selector_validate("a{b=\"\0\"}", 8, &offset, NULL), SW_E_PARSE);
    assert_int_equal(offset, 5);
}

static void
test_format_value(void **state)
{
    (void)state;
    static const struct {
        sw_sli sli;
        double v;
        const char *text;
    } cases[] = {
        {SW_SLI_AVAILABILITY, 0.9995, "99.95%"}, {SW_SLI_ERROR_RATE, 0.0625, "6.25%"},
        {SW_SLI_LATENCY, 412000, "412ms"},      {SW_SLI_LATENCY, 2501000, "2.501s"},
        {SW_SLI_LATENCY, 850, "850us"},         {SW_SLI_THROUGHPUT, 1200, "1200/s"},
        {SW_SLI_HEALTH_CONSECUTIVE_FAILURES, 4, "4"}, {SW_SLI_REQUESTS, NAN, "n/a"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[32];
        sw_rules_format_value(cases[i].sli, cases[i].v, out, sizeof out);
        assert_string_equal(out, cases[i].text);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_production_service, setup_production, teardown_rules),
        cmocka_unit_test_setup_teardown(test_production_objectives, setup_production,
                                        teardown_rules),
        cmocka_unit_test_setup_teardown(test_production_alerts, setup_production, teardown_rules),
        cmocka_unit_test_setup_teardown(test_production_triggers_gate, setup_production,
                                        teardown_rules),
        cmocka_unit_test_setup_teardown(test_production_lookups, setup_production, teardown_rules),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_probe_defaults_and_gate_min_requests),
        cmocka_unit_test(test_gate_rank_test_alpha_reads_as_confidence),
        cmocka_unit_test(test_error_classes),
        cmocka_unit_test(test_summary_and_null_diag),
        cmocka_unit_test(test_yaml_syntax_error),
        cmocka_unit_test(test_too_many_errors),
        cmocka_unit_test(test_json_equals_yaml),
        cmocka_unit_test(test_openslo_ratio_example),
        cmocka_unit_test(test_openslo_latency_example),
        cmocka_unit_test(test_openslo_milliseconds_and_list),
        cmocka_unit_test(test_file_kinds),
        cmocka_unit_test(test_unreadable_file),
        cmocka_unit_test(test_helpers),
        cmocka_unit_test(test_selectors),
        cmocka_unit_test(test_format_value),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
