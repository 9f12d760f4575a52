/*
 * Unit tests for OpenSLO sets (ruleset/rules_openslo*.c, rules/OPENSLO.md): the checkout
 * repository of tests/data/openslo (a Service, three SLIs, four SLOs across three files) loads
 * to the rule set worked out here from the OpenSLO fields by the mapping table of
 * rules/OPENSLO.md; the same documents as one multi-document file, and the record the daemon
 * stores, load to the same; every refusal gives the FILE:LINE:COL counted by hand (both places
 * where two are involved). SW_OPENSLO_DIR names tests/data/openslo.
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

#include "slawatch/rules.h"
#include "slawatch/rules_openslo.h"

#ifndef SW_OPENSLO_DIR
#error "build with -DSW_OPENSLO_DIR=\"<source>/tests/data/openslo\""
#endif

#define N_CHECKOUT 3
static const char *const checkout_files[N_CHECKOUT] = {"services.yaml", "slis.yaml", "slos.yaml"};

#define REQUESTS "http_requests_total{job=\"checkout\"}"
#define ERRORS "http_requests_total{job=\"checkout\",code=~\"5..\"}"
#define LATENCY "http_request_duration_seconds{job=\"checkout\"}"

static void
checkout_paths(char paths[N_CHECKOUT][512], const char *ptrs[N_CHECKOUT])
{
    for (size_t i = 0; i < N_CHECKOUT; i++) {
        snprintf(paths[i], 512, "%s/checkout/%s", SW_OPENSLO_DIR, checkout_files[i]);
        ptrs[i] = paths[i];
    }
}

static void
print_diag(const sw_rules_diag *d)
{
    for (size_t i = 0; i < sw_rules_diag_count(d); i++)
        print_error("diag: %s\n", sw_rules_diag_line(d, i));
}

/* The checkout repository, from the OpenSLO fields by hand: */
static void
check_checkout(const sw_rules *r, const char *slos_file, const char *slis_file)
{
    assert_int_equal(r->n_services, 1);
    const sw_service *s = &r->services[0];
    assert_string_equal(s->name, "checkout");
    /* total -> requests, bad -> errors, thresholdMetric -> latency; good is no source. */
    assert_int_equal(s->requests.kind, SW_SOURCE_PROMETHEUS);
    assert_string_equal(s->requests.selector, REQUESTS);
    assert_int_equal(s->errors.kind, SW_SOURCE_PROMETHEUS);
    assert_string_equal(s->errors.selector, ERRORS);
    assert_int_equal(s->latency.kind, SW_SOURCE_PROMETHEUS);
    assert_string_equal(s->latency.selector, LATENCY);
    assert_int_equal(s->health.kind, SW_SOURCE_NONE);
    /* The first selector given for requests: checkout-success's total, slis.yaml line 17. */
    assert_string_equal(s->requests.pos.file, slis_file);
    assert_int_equal(s->requests.pos.line, 17);
    assert_int_equal(r->base_interval_ms, 10000);
    assert_int_equal(r->min_requests, 100);
    assert_int_equal(r->n_alerts, 0);
    assert_int_equal(r->n_triggers, 0);

    assert_int_equal(r->n_objectives, 4);
    static const struct {
        const char *name;
        sw_sli sli;
        double percentile;
        sw_op op;
        double value;
        unsigned line;
    } want[] = {
        /* good/total, target 0.99 -> availability >= 0.99 */
        {"checkout-availability", SW_SLI_AVAILABILITY, 0, SW_OP_GE, 0.99, 13},
        /* bad/total, targetPercent 99.5 -> error_rate <= 1 - 0.995 */
        {"checkout-errors", SW_SLI_ERROR_RATE, 0, SW_OP_LE, 0.005, 27},
        /* threshold lte 0.5 on a _seconds metric at target 0.95 -> p95 <= 500 ms */
        {"checkout-latency", SW_SLI_LATENCY, 95, SW_OP_LE, 500000, 41},
        /* inline good/total, target 0.999 -> availability >= 0.999 */
        {"checkout-three-nines", SW_SLI_AVAILABILITY, 0, SW_OP_GE, 0.999, 71},
    };
    for (size_t i = 0; i < 4; i++) {
        const sw_objective *o = &r->objectives[i];
        assert_string_equal(o->name, want[i].name);
        assert_int_equal(o->objective.sli, want[i].sli);
        assert_int_equal(o->objective.op, want[i].op);
        assert_true(fabs(o->objective.value - want[i].value) <= 1e-12 * want[i].value);
        if (want[i].sli == SW_SLI_LATENCY)
            assert_true(o->objective.percentile == want[i].percentile);
        /* 1M, isRolling: false -> the calendar month; Occurrences -> events */
        assert_int_equal(o->window.kind, SW_WINDOW_MONTH);
        assert_int_equal(o->budgeting, SW_BUDGET_EVENTS);
        assert_string_equal(o->pos.file, slos_file);
        assert_int_equal(o->pos.line, want[i].line);
    }
}

static void
test_checkout_files(void **state)
{
    (void)state;
    char paths[N_CHECKOUT][512];
    const char *ptrs[N_CHECKOUT];
    checkout_paths(paths, ptrs);
    sw_rules_diag *d = sw_rules_diag_new();
    sw_rules *r = NULL;
    sw_err err = {0};
    /* As the daemon loads its rules_files: the OpenSLO files of the set compiled together. */
    sw_status st = sw_rules_load_files(ptrs, N_CHECKOUT, &r, d, &err);
    print_diag(d);
    assert_int_equal(st, SW_OK);
    check_checkout(r, ptrs[2], ptrs[1]);
    assert_int_equal(sw_rules_diag_count(d), 0);
    sw_rules_free(r);
    sw_rules_diag_free(d);
}

/* The same documents in another order, as one file: SLOs first, then SLIs, then the Service. */
static void
test_checkout_one_file(void **state)
{
    (void)state;
    char paths[N_CHECKOUT][512];
    const char *ptrs[N_CHECKOUT];
    checkout_paths(paths, ptrs);
    sw_buf text;
    sw_buf_init(&text, 1u << 20);
    for (size_t i = N_CHECKOUT; i-- > 0;) {
        FILE *f = fopen(ptrs[i], "rb");
        char chunk[4096];
        size_t got;
        assert_non_null(f);
        assert_int_equal(sw_buf_append(&text, "---\n", 4, NULL), SW_OK);
        while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
            assert_int_equal(sw_buf_append(&text, chunk, got, NULL), SW_OK);
        fclose(f);
    }
    sw_rules *r = NULL;
    sw_rules_diag *d = sw_rules_diag_new();
    sw_err err = {0};
    sw_status st = sw_rules_load_mem((const char *)text.data, text.len, "all", &r, d, &err);
    print_diag(d);
    assert_int_equal(st, SW_OK);
    assert_int_equal(r->n_services, 1);
    assert_int_equal(r->n_objectives, 4);
    assert_string_equal(r->objectives[1].name, "checkout-errors");
    assert_true(fabs(r->objectives[1].objective.value - 0.005) < 1e-12);
    assert_string_equal(r->services[0].errors.selector, ERRORS);
    sw_rules_free(r);
    sw_rules_diag_free(d);
    sw_buf_fini(&text);
}

/* ---- refusals ------------------------------------------------------------------------------ */

/* An SLI "errs": bad e_total over total r_total; the queries at columns 58 and 60 of lines 7, 8. */
#define SLI_ERRS                                                                                   \
    "apiVersion: openslo/v1\nkind: SLI\nmetadata:\n  name: errs\nspec:\n  ratioMetric:\n"          \
    "    bad: {metricSource: {type: Prometheus, spec: {query: 'e_total'}}}\n"                      \
    "    total: {metricSource: {type: Prometheus, spec: {query: 'r_total'}}}\n"
/* An SLO (9 lines): name at 4:9, service at 6:12, indicatorRef's value at 7:17. */
#define SLO(name, service, ref)                                                                    \
    "apiVersion: openslo/v1\nkind: SLO\nmetadata:\n  name: " name "\nspec:\n  service: " service   \
    "\n  indicatorRef: " ref "\n  budgetingMethod: Occurrences\n  objectives: [{target: 0.99}]\n"
/* A Service (4 lines): name at 4:9. */
#define SERVICE(name) "apiVersion: openslo/v1\nkind: Service\nmetadata:\n  name: " name "\n"

typedef struct bad_set {
    const char *what;
    const char *texts[3];
    const char *lines[4];
} bad_set;

static const bad_set bad_sets[] = {
    {"a kind slawatch does not read",
     {SLI_ERRS "---\n" SLO("s", "api", "errs"),
      "apiVersion: openslo/v1\nkind: DataSource\nmetadata:\n  name: prom\nspec:\n"
      "  type: Prometheus\n"},
     {"b:2:7: error: unsupported OpenSLO kind DataSource; slawatch reads SLO, SLI and Service"}},
    {"alerting kinds",
     {SLI_ERRS
      "---\n" SLO("s", "api",
                  "errs") "---\napiVersion: openslo/v1\nkind: AlertPolicy\n"
                          "metadata: {name: p}\n---\napiVersion: openslo/v1\nkind: AlertCondition\n"
                          "metadata: {name: c}\n"},
     {"a:21:7: error: unsupported OpenSLO kind AlertPolicy; slawatch reads SLO, SLI and Service",
      "a:25:7: error: unsupported OpenSLO kind AlertCondition; slawatch reads SLO, SLI and "
      "Service"}},
    {"an SLI defined in two files",
     {SLI_ERRS, SLI_ERRS "---\n" SLO("s", "api", "errs")},
     {"b:4:9: error: expected a unique SLI name, found 'errs' again (first at a:4:9)"}},
    {"an SLO defined in two files",
     {SLI_ERRS "---\n" SLO("s", "api", "errs"), SLO("s", "api", "errs")},
     {"b:4:9: error: expected a unique SLO name, found 's' again (first at a:13:9)"}},
    {"an indicatorRef to nothing",
     {SLO("s", "api", "nope"), SLI_ERRS},
     {"a:7:17: error: expected the name of a kind: SLI of the set for indicatorRef, found "
      "'nope'"}},
    {"an SLO for a service no kind: Service defines",
     {SERVICE("api"), SLI_ERRS "---\n" SLO("s", "apx", "errs")},
     {"b:15:12: error: expected the name of a kind: Service of the set for service, found "
      "'apx'"}},
    {"SLOs for two services",
     {SLI_ERRS, SLO("s1", "api", "errs"), SLO("s2", "web", "errs")},
     {"c:6:12: error: SLO 's2' is for service 'web', but SLO 's1' (b:4:9) is for service 'api': "
      "slawatch applies a rule set's objectives to every service, so the SLOs of one set must "
      "all be for one service"}},
    {"a Service without an SLO beside one with",
     {SERVICE("api") "---\n" SERVICE("web"), SLI_ERRS "---\n" SLO("s", "api", "errs")},
     {"a:9:9: error: Service 'web' has no SLO, but slawatch would apply to it the objectives of "
      "service 'api' (SLO 's' at b:13:9): a set's SLOs must all be for its one service"}},
    {"two selectors for one source of a service, in two files",
     {SLI_ERRS,
      "apiVersion: openslo/v1\nkind: SLI\nmetadata:\n  name: other\nspec:\n  ratioMetric:\n"
      "    bad: {metricSource: {type: Prometheus, spec: {query: 'e_total'}}}\n"
      "    total: {metricSource: {type: Prometheus, spec: {query: 'x_total'}}}\n"
      "---\n" SLO("s1", "api", "errs") "---\n" SLO("s2", "api", "other")},
     {"b:8:60: error: expected the requests selector given at a:8:60 (one per service), found "
      "a different one"}},
    {"indicator and indicatorRef, alertPolicies",
     {SLI_ERRS "---\napiVersion: openslo/v1\nkind: SLO\nmetadata: {name: s}\nspec:\n"
               "  service: api\n  indicatorRef: errs\n  indicator: {spec: {}}\n"
               "  alertPolicies: [p]\n  budgetingMethod: Occurrences\n"
               "  objectives: [{target: 0.99}]\n"},
     {"a:15:3: error: expected either indicator or indicatorRef, not both",
      "a:17:3: error: unsupported OpenSLO field alertPolicies: write slawatch alerts in a rules "
      "file"}},
    {"a rules file beside OpenSLO files is checked as one",
     {SLI_ERRS "---\n" SLO("s", "api", "errs"), "version: 1\nservices: []\n"},
     {"b:2:11: error: expected at least one service"}},
    {"a YAML error in one file: no reference into it is reported",
     {SLO("s", "api", "errs"), "apiVersion: openslo/v1\nkind: [SLI\n"},
     {"b:3:1: error: did not find expected ',' or ']' while parsing a flow sequence"}},
};

static void
test_refusals(void **state)
{
    (void)state;
    static const char *const names[] = {"a", "b", "c"};
    for (size_t k = 0; k < sizeof bad_sets / sizeof bad_sets[0]; k++) {
        const bad_set *c = &bad_sets[k];
        sw_rules_openslo_text texts[3];
        size_t n = 0, want = 0;
        for (; n < 3 && c->texts[n] != NULL; n++)
            texts[n] = (sw_rules_openslo_text){names[n], c->texts[n], strlen(c->texts[n])};
        while (want < 4 && c->lines[want] != NULL)
            want++;
        sw_rules_diag *d = sw_rules_diag_new();
        sw_rules *r = NULL;
        sw_err err = {0};
        sw_status st = sw_rules_openslo_load_mem(texts, n, &r, d, &err);
        bool same = sw_rules_diag_count(d) == want;
        for (size_t i = 0; same && i < want; i++)
            same = strcmp(sw_rules_diag_line(d, i), c->lines[i]) == 0;
        if (!same) {
            print_error("case '%s': got %zu lines, want %zu:\n", c->what, sw_rules_diag_count(d),
                        want);
            print_diag(d);
        }
        assert_true(same);
        assert_int_equal(st, SW_E_PARSE);
        assert_null(r);
        /* err starts with the first line without "error: " (its message cut at 140 bytes). */
        const char *msg = strstr(c->lines[0], "error: ");
        size_t where = (size_t)(msg - c->lines[0]);
        assert_memory_equal(err.msg, c->lines[0], where);
        assert_memory_equal(err.msg + where, msg + 7,
                            strlen(msg + 7) < 100 ? strlen(msg + 7) : 100);
        sw_rules_diag_free(d);
    }
}

/* The seam the model's shape goes through: without kind: Service objects, SLOs name their
 * service (as one file always could); with them, the SLO's service must be one of them. */
static void
test_services_named_by_slos(void **state)
{
    (void)state;
    sw_rules_openslo_text texts[2] = {
        {"a", SLI_ERRS, strlen(SLI_ERRS)},
        {"b", SLO("s", "billing", "errs"), strlen(SLO("s", "billing", "errs"))}};
    sw_rules *r = NULL;
    sw_err err = {0};
    assert_int_equal(sw_rules_openslo_load_mem(texts, 2, &r, NULL, &err), SW_OK);
    assert_int_equal(r->n_services, 1);
    assert_string_equal(r->services[0].name, "billing");
    assert_string_equal(r->services[0].errors.selector, "e_total");
    assert_string_equal(r->services[0].requests.selector, "r_total");
    assert_int_equal(r->n_objectives, 1);
    /* bad/total at target 0.99: error_rate <= 0.01 */
    assert_int_equal(r->objectives[0].objective.sli, SW_SLI_ERROR_RATE);
    assert_true(fabs(r->objectives[0].objective.value - 0.01) < 1e-12);
    sw_rules_free(r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checkout_files),
        cmocka_unit_test(test_checkout_one_file),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_services_named_by_slos),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
