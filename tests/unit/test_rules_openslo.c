/*
 * Unit tests for OpenSLO sets (ruleset/rules_openslo*.c, rules/OPENSLO.md): the checkout
 * repository of tests/data/openslo (a Service, three SLIs, four SLOs across three files) loads
 * to the rule set worked out here from the OpenSLO fields by the mapping table of
 * rules/OPENSLO.md; the same documents as one multi-document file load to the same; the shop
 * repository (four Services, three teams' SLOs in files of their own) gives each service the
 * objectives its own SLOs say; every refusal gives the FILE:LINE:COL counted by hand (both
 * places where two are involved). SW_OPENSLO_DIR names tests/data/openslo.
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
check_checkout(const sw_rules *all, const char *slos_file, const char *slis_file)
{
    assert_int_equal(all->n_services, 1);
    const sw_service *s = &all->services[0];
    const sw_rules *r = sw_rules_of_service(all, 0);
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
    const sw_rules *own = sw_rules_of_service(r, 0);
    assert_int_equal(own->n_objectives, 4);
    assert_string_equal(own->objectives[1].name, "checkout-errors");
    assert_true(fabs(own->objectives[1].objective.value - 0.005) < 1e-12);
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
    {"an objective name given by SLOs of two services",
     {SLI_ERRS "---\n" SLO("s-1", "api", "errs"),
      "apiVersion: openslo/v1\nkind: SLO\nmetadata:\n  name: s\nspec:\n  service: web\n"
      "  indicatorRef: errs\n  budgetingMethod: Occurrences\n"
      "  objectives: [{target: 0.99}, {target: 0.9}]\n"},
     {"b:4:9: error: expected a unique objective name, found 's-1' again (first at a:18:16)"}},
    {"a latency bound falling with the percentile, in one service across files",
     {"apiVersion: openslo/v1\nkind: SLI\nmetadata: {name: lat}\nspec:\n  thresholdMetric:\n"
      "    metricSource: {type: Prometheus, spec: {query: 'lat_ms_bucket'}}\n"
      "---\napiVersion: openslo/v1\nkind: SLO\nmetadata: {name: p50}\nspec:\n"
      "  service: api\n  indicatorRef: lat\n  budgetingMethod: Occurrences\n"
      "  objectives: [{op: lte, value: 300, target: 0.5}]\n",
      "apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: p99}\nspec:\n"
      "  service: api\n  indicatorRef: lat\n  budgetingMethod: Occurrences\n"
      "  objectives: [{op: lte, value: 200, target: 0.99}]\n"},
     {"b:8:16: error: expected a p99 threshold of at least 300ms, the p50 threshold of "
      "objective 'p50' in the same window"}},
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
    const sw_rules *own = sw_rules_of_service(r, 0);
    assert_int_equal(own->n_objectives, 1);
    /* bad/total at target 0.99: error_rate <= 0.01 */
    assert_int_equal(own->objectives[0].objective.sli, SW_SLI_ERROR_RATE);
    assert_true(fabs(own->objectives[0].objective.value - 0.01) < 1e-12);
    sw_rules_free(r);
}

/* Service i of r named name, or fail. */
static size_t
service_index(const sw_rules *r, const char *name)
{
    for (size_t i = 0; i < r->n_services; i++)
        if (strcmp(r->services[i].name, name) == 0)
            return i;
    fail_msg("no service '%s'", name);
    return 0;
}

/* SLOs of two services, in two files: each service is judged by its own SLO only. */
static void
test_two_services(void **state)
{
    (void)state;
    const char *b = SLO("s1", "api", "errs"), *c = SLO("s2", "web", "errs");
    sw_rules_openslo_text texts[3] = {
        {"a", SLI_ERRS, strlen(SLI_ERRS)}, {"b", b, strlen(b)}, {"c", c, strlen(c)}};
    sw_rules *r = NULL;
    sw_err err = {0};
    assert_int_equal(sw_rules_openslo_load_mem(texts, 3, &r, NULL, &err), SW_OK);
    assert_int_equal(r->n_services, 2);
    static const char *const names[2][2] = {{"api", "s1"}, {"web", "s2"}};
    for (size_t k = 0; k < 2; k++) {
        size_t i = service_index(r, names[k][0]);
        const sw_rules *own = sw_rules_of_service(r, i);
        assert_int_equal(own->n_objectives, 1);
        assert_string_equal(own->objectives[0].name, names[k][1]);
        /* Both use the SLI errs: bad e_total over total r_total. */
        assert_string_equal(r->services[i].errors.selector, "e_total");
        assert_string_equal(r->services[i].requests.selector, "r_total");
    }
    sw_rules_free(r);
}

/* One expected objective of the shop repository, from its OpenSLO fields. */
typedef struct want_objective {
    const char *name;
    sw_sli sli;
    sw_op op;
    double value, percentile;
    sw_window_kind window;
    int64_t window_ms;
    sw_budgeting budgeting;
    int64_t slice_ms;
    double bad_error_rate; /* timeslices: a slice is bad above this error rate */
} want_objective;

#define DAYS(n) ((int64_t)(n)*86400000)

static void
check_objective(const sw_objective *o, const want_objective *w)
{
    assert_string_equal(o->name, w->name);
    assert_int_equal(o->objective.sli, w->sli);
    assert_int_equal(o->objective.op, w->op);
    assert_true(fabs(o->objective.value - w->value) <= 1e-9 * w->value);
    if (w->sli == SW_SLI_LATENCY)
        assert_true(fabs(o->objective.percentile - w->percentile) < 1e-9);
    assert_int_equal(o->window.kind, w->window);
    if (w->window == SW_WINDOW_ROLLING)
        assert_int_equal(o->window.length_ms, w->window_ms);
    assert_int_equal(o->budgeting, w->budgeting);
    if (w->budgeting == SW_BUDGET_TIMESLICES) {
        assert_int_equal(o->slice_ms, w->slice_ms);
        assert_int_equal(o->n_bad_when, 1);
        assert_int_equal(o->bad_when[0].sli, SW_SLI_ERROR_RATE);
        assert_int_equal(o->bad_when[0].op, SW_OP_GT);
        assert_true(fabs(o->bad_when[0].value - w->bad_error_rate) < 1e-12);
    }
}

/*
 * tests/data/openslo/shop: four Services in one file, four SLIs in another, and each team's SLOs
 * in its own file. Worked out by hand from rules/OPENSLO.md's table, service by service.
 */
static void
test_shop_repository(void **state)
{
    (void)state;
    static const char *const files[] = {"services.yaml", "slis.yaml", "cart.yaml", "search.yaml",
                                        "inventory.yaml"};
    char paths[5][512];
    const char *ptrs[5];
    for (size_t i = 0; i < 5; i++) {
        snprintf(paths[i], sizeof paths[i], "%s/shop/%s", SW_OPENSLO_DIR, files[i]);
        ptrs[i] = paths[i];
    }
    sw_rules_diag *d = sw_rules_diag_new();
    sw_rules *r = NULL;
    sw_err err = {0};
    sw_status st = sw_rules_load_files(ptrs, 5, &r, d, &err);
    print_diag(d);
    assert_int_equal(st, SW_OK);
    assert_int_equal(r->n_services, 4);

    /* cart: good/total at 0.995 over a rolling 28d -> availability >= 0.995; good gives no
     * source, total gives requests. */
    static const want_objective cart[] = {{"cart-availability", SW_SLI_AVAILABILITY, SW_OP_GE,
                                           0.995, 0, SW_WINDOW_ROLLING, DAYS(28), SW_BUDGET_EVENTS,
                                           0, 0}};
    /* search: bad/total at 99.9 % over the calendar month -> error_rate <= 0.001; threshold
     * lte 250 on a _ms metric at 0.9 over 7d -> p90 <= 250 ms; Timeslices at 0.99 with slices
     * of 5 minutes good at 0.95 -> error_rate <= 0.01, a slice bad above 0.05 errors. */
    static const want_objective search[] = {{"search-errors", SW_SLI_ERROR_RATE, SW_OP_LE, 0.001, 0,
                                             SW_WINDOW_MONTH, 0, SW_BUDGET_EVENTS, 0, 0},
                                            {"search-latency", SW_SLI_LATENCY, SW_OP_LE, 250000, 90,
                                             SW_WINDOW_ROLLING, DAYS(7), SW_BUDGET_EVENTS, 0, 0},
                                            {"search-slices", SW_SLI_ERROR_RATE, SW_OP_LE, 0.01, 0,
                                             SW_WINDOW_ROLLING, DAYS(7), SW_BUDGET_TIMESLICES,
                                             5 * 60000, 0.05}};
    /* inventory: thresholds on a _seconds metric: lte 0.3 at 0.99 -> p99 <= 300 ms, lte 0.05
     * at 0.5 -> p50 <= 50 ms, both over a rolling 28d. */
    static const want_objective inventory[] = {
        {"inventory-latency", SW_SLI_LATENCY, SW_OP_LE, 300000, 99, SW_WINDOW_ROLLING, DAYS(28),
         SW_BUDGET_EVENTS, 0, 0},
        {"inventory-p50", SW_SLI_LATENCY, SW_OP_LE, 50000, 50, SW_WINDOW_ROLLING, DAYS(28),
         SW_BUDGET_EVENTS, 0, 0}};
    static const struct {
        const char *service;
        const want_objective *want;
        size_t n;
        const char *requests, *errors, *latency;
    } services[] = {
        {"cart", cart, 1, "http_requests_total{job=\"cart\"}", NULL, NULL},
        {"search", search, 3, "search_requests_total", "search_requests_total{code=~\"5..\"}",
         "search_latency_ms_bucket"},
        {"inventory", inventory, 2, NULL, NULL, "http_request_duration_seconds{job=\"inventory\"}"},
        /* A Service no SLO is for: no objectives, no sources. */
        {"admin", NULL, 0, NULL, NULL, NULL},
    };
    for (size_t k = 0; k < 4; k++) {
        size_t i = service_index(r, services[k].service);
        const sw_service *s = &r->services[i];
        const sw_rules *own = sw_rules_of_service(r, i);
        assert_int_equal(own->n_objectives, services[k].n);
        for (size_t j = 0; j < services[k].n; j++)
            check_objective(&own->objectives[j], &services[k].want[j]);
        const char *want_src[3] = {services[k].requests, services[k].errors, services[k].latency};
        const sw_source *got_src[3] = {&s->requests, &s->errors, &s->latency};
        for (size_t j = 0; j < 3; j++) {
            assert_int_equal(got_src[j]->kind,
                             want_src[j] != NULL ? SW_SOURCE_PROMETHEUS : SW_SOURCE_NONE);
            if (want_src[j] != NULL)
                assert_string_equal(got_src[j]->selector, want_src[j]);
        }
        assert_int_equal(own->n_alerts, 0);
        assert_int_equal(own->n_triggers, 0);
    }
    assert_int_equal(sw_rules_diag_count(d), 0);
    sw_rules_free(r);
    sw_rules_diag_free(d);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checkout_files), cmocka_unit_test(test_checkout_one_file),
        cmocka_unit_test(test_refusals),       cmocka_unit_test(test_services_named_by_slos),
        cmocka_unit_test(test_two_services),   cmocka_unit_test(test_shop_repository),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
