/*
 * Unit tests for the series of one label value (rules/README.md, "One SLO per label value"):
 * the key SERVICE\x1fLABEL=VALUE (ruleset/rules_by.c) splits back into its parts and resolves
 * only to a service whose by names that label; the Prometheus map (collector/prommap_by.c)
 * hands each value's increases to the accumulators under its key, refuses values beyond
 * by_limit and samples without the label (counted), and forgets a value silent for by_idle;
 * the evaluator forgets a value's series by_idle after its newest data. Expected counts are the
 * increases written below.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "slawatch/accum.h"
#include "slawatch/eval.h"
#include "slawatch/prommap.h"
#include "slawatch/promsample.h"
#include "slawatch/rules.h"

#define BASE 10000
#define HOUR 3600000
#define T0 INT64_C(1790812800000) /* 2026-10-01T00:00:00Z, a multiple of BASE */

static const char rules_text[] = "version: 1\n"
                                 "base_interval: 10s\n"
                                 "services:\n"
                                 "  - name: shop\n"
                                 "    by: [route]\n"
                                 "    by_limit: 2\n"
                                 "    sli:\n"
                                 "      requests: { prometheus: 'req_total' }\n"
                                 "  - name: plain\n"
                                 "    sli:\n"
                                 "      requests: { prometheus: 'plain_total' }\n"
                                 "objectives:\n"
                                 "  - name: availability\n"
                                 "    objective: availability >= 99%\n"
                                 "    window: 1h\n";

static sw_rules *
rules(void)
{
    sw_rules *r = NULL;
    sw_err err;
    assert_int_equal(sw_rules_load_mem(rules_text, strlen(rules_text), "by.yaml", &r, NULL, &err),
                     SW_OK);
    return r;
}

static void
test_key_splits_back(void **state)
{
    (void)state;
    char key[64];
    const char value[] = "/pay=now\x1f";
    size_t n = sw_rules_by_key("shop", "route", value, strlen(value), key, sizeof key);
    assert_int_equal(n, strlen("shop") + 1 + strlen("route") + 1 + strlen(value));
    assert_memory_equal(key, "shop\x1froute=/pay=now\x1f", n + 1);
    sw_rules_by_parts p;
    assert_true(sw_rules_by_split(key, &p));
    assert_int_equal(p.service_len, 4);
    assert_memory_equal(p.service, "shop", 4);
    assert_int_equal(p.label_len, 5);
    assert_memory_equal(p.label, "route", 5);
    assert_string_equal(p.value, value);
    assert_false(sw_rules_by_split("shop", &p));
    /* Too small a buffer: the length needed, nothing written past it. */
    assert_int_equal(sw_rules_by_key("shop", "route", "/", 1, key, 8), 12);

    sw_rules *r = rules();
    const char *v;
    assert_int_equal(sw_rules_series_service(r, "shop\x1froute=/a", &v), 0);
    assert_string_equal(v, "/a");
    assert_int_equal(sw_rules_series_service(r, "shop", &v), 0);
    assert_null(v);
    assert_int_equal(sw_rules_series_service(r,
                                             "shop\x1f"
                                             "customer=x",
                                             NULL),
                     -1);
    assert_int_equal(sw_rules_series_service(r, "plain\x1froute=/a", NULL), -1);
    sw_rules_free(r);
}

/* ------------------------------------------------------------------ the Prometheus map */

typedef struct taken {
    char key[8][64];
    uint64_t requests[8];
    size_t n;
} taken;

static sw_status
collect(void *ctx, const char *service, const char *env, sw_sli_interval *iv, sw_err *err)
{
    (void)env;
    (void)err;
    taken *t = ctx;
    assert_true(t->n < 8);
    snprintf(t->key[t->n], sizeof t->key[0], "%s@%lld", service,
             (long long)((iv->start_ms - T0) / 1000));
    t->requests[t->n++] = iv->requests;
    sw_sli_interval_fini(iv);
    return SW_OK;
}

static uint64_t
requests_of(const taken *t, const char *key)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->key[i], key) == 0)
            return t->requests[i];
    return UINT64_MAX;
}

/* One committed batch of req_total samples: routes[i] (NULL: no route label) at values[i]. */
static void
batch(sw_prommap *m, int64_t at_ms, const char *const *routes, const double *values, size_t n)
{
    sw_prommap_batch *b;
    assert_int_equal(sw_prommap_begin(m, "t", NULL, 0, at_ms, &b, NULL), SW_OK);
    sw_prom_sink sink = sw_prommap_sink(b);
    for (size_t i = 0; i < n; i++) {
        sw_prom_label l = {"route", routes[i], 5, routes[i] ? strlen(routes[i]) : 0};
        sw_prom_sample s = {.name = "req_total",
                            .name_len = 9,
                            .labels = &l,
                            .n_labels = routes[i] != NULL,
                            .value = values[i]};
        assert_int_equal(sink.sample(sink.ctx, &s, NULL), SW_OK);
    }
    assert_int_equal(sw_prommap_commit(b, NULL), SW_OK);
}

static void
counts(void *ctx, const sw_prommap_label_count *c)
{
    assert_string_equal(c->service, "shop");
    assert_string_equal(c->label, "route");
    *(sw_prommap_label_count *)ctx = *c;
}

static void
test_map_splits_caps_and_forgets(void **state)
{
    (void)state;
    sw_rules *r = rules();
    sw_accum *a;
    sw_prommap *m;
    assert_int_equal(sw_accum_new(BASE, &a, NULL), SW_OK);
    assert_int_equal(sw_prommap_new(r, a, &m, NULL), SW_OK);
    const char *routes[] = {"/a", "/b", "/c", NULL};
    batch(m, T0 + 1000, routes, (double[]){10, 20, 30, 40}, 4);
    batch(m, T0 + 11000, routes, (double[]){15, 27, 31, 41}, 4);
    taken t = {0};
    assert_int_equal(sw_prommap_flush(m, T0 + 20000, NULL), SW_OK);
    assert_int_equal(sw_accum_take(a, T0 + 20000, collect, &t, NULL), SW_OK);
    assert_int_equal(t.n, 2); /* /c beyond the cap of 2, the unlabelled sample: no series */
    assert_int_equal(requests_of(&t, "shop\x1froute=/a@10"), 5);
    assert_int_equal(requests_of(&t, "shop\x1froute=/b@10"), 7);
    sw_prommap_label_count c = {0};
    sw_prommap_label_values(m, counts, &c);
    assert_int_equal(c.tracked, 2);
    assert_int_equal(c.refused, 4); /* /c and the unlabelled sample, in each of two batches */
    assert_int_equal(c.aged, 0);

    /* An hour (by_idle: the 1h window) after their last samples, /a and /b are forgotten at
     * the map's next sweep, and /c is taken. */
    int64_t later = T0 + 11000 + HOUR + 60000;
    batch(m, later, (const char *[]){"/c"}, (double[]){35}, 1);
    t.n = 0;
    assert_int_equal(sw_prommap_flush(m, later + BASE, NULL), SW_OK);
    sw_prommap_label_values(m, counts, &c);
    assert_int_equal(c.tracked, 0);
    assert_int_equal(c.aged, 2);
    batch(m, later + BASE, (const char *[]){"/c"}, (double[]){38}, 1);
    assert_int_equal(sw_prommap_flush(m, later + 3 * BASE, NULL), SW_OK);
    assert_int_equal(sw_accum_take(a, later + 3 * BASE, collect, &t, NULL), SW_OK);
    char key[64];
    int64_t start = (later + BASE - T0) / BASE * BASE; /* its interval's start, from T0 */
    snprintf(key, sizeof key, "shop\x1froute=/c@%lld", (long long)(start / 1000));
    assert_int_equal(requests_of(&t, key), 3);
    sw_prommap_label_values(m, counts, &c);
    assert_int_equal(c.tracked, 1);

    sw_prommap_free(m);
    sw_accum_free(a);
    sw_rules_free(r);
}

/* ------------------------------------------------------------------ the evaluator */

static void
add(sw_eval *ev, const char *key, int64_t start_ms)
{
    sw_sli_interval iv = {
        .start_ms = start_ms, .length_ms = BASE, .requests = 100, .errors = 1, .has_data = true};
    sw_err err;
    assert_int_equal(sw_eval_add(ev, key, NULL, &iv, &err), SW_OK);
}

static void
test_evaluator_forgets_idle_values(void **state)
{
    (void)state;
    sw_rules *r = rules();
    sw_eval *ev;
    sw_err err;
    assert_int_equal(sw_eval_new(r, &ev, &err), SW_OK);
    add(ev, "shop\x1froute=/a", T0);
    add(ev, "shop\x1froute=/b", T0 + HOUR / 2);
    add(ev, "plain", T0);
    sw_sli_interval iv = {.start_ms = T0, .length_ms = BASE, .requests = 1, .has_data = true};
    assert_int_equal(sw_eval_add(ev,
                                 "shop\x1f"
                                 "customer=x",
                                 NULL, &iv, &err),
                     SW_E_INVAL);
    assert_int_equal(sw_eval_series_count(ev), 3);

    sw_series_result sr;
    sw_eval_series(ev, 0, &sr);
    assert_string_equal(sr.service, "shop\x1froute=/a");
    assert_string_equal(sr.name, "shop");
    assert_string_equal(sr.label, "route");
    assert_string_equal(sr.value, "/a");
    sw_eval_series(ev, 2, &sr);
    assert_string_equal(sr.name, "plain");
    assert_null(sr.label);

    /* /a's data ends at T0 + BASE: kept until by_idle (1h) after that, then forgotten; the
     * plain service never is. */
    assert_int_equal(sw_eval_advance(ev, T0 + BASE + HOUR - BASE, &err), SW_OK);
    assert_int_equal(sw_eval_series_count(ev), 3);
    assert_int_equal(sw_eval_advance(ev, T0 + BASE + HOUR, &err), SW_OK);
    assert_int_equal(sw_eval_series_count(ev), 2);
    assert_int_equal(sw_eval_values_aged(ev), 1);
    assert_false(sw_eval_has_series(ev, "shop\x1froute=/a", NULL));
    assert_true(sw_eval_has_series(ev, "shop\x1froute=/b", NULL));
    assert_true(sw_eval_has_series(ev, "plain", NULL));
    /* Data coming back starts the value anew. */
    add(ev, "shop\x1froute=/a", T0 + 2 * HOUR);
    assert_true(sw_eval_has_series(ev, "shop\x1froute=/a", NULL));
    sw_eval_free(ev);
    sw_rules_free(r);
}

/* A deployment mark of a service judged per label value marks each value it has, and adds no
 * series for the service itself. */
static void
test_mark_reaches_every_value(void **state)
{
    (void)state;
    sw_rules *r = rules();
    sw_eval *ev;
    sw_err err;
    assert_int_equal(sw_eval_new(r, &ev, &err), SW_OK);
    add(ev, "shop\x1froute=/a", T0);
    add(ev, "shop\x1froute=/b", T0);
    sw_eval_mark_deployment(ev, "shop", NULL, T0 + BASE);
    assert_int_equal(sw_eval_series_count(ev), 2);
    assert_false(sw_eval_has_series(ev, "shop", NULL));
    for (size_t i = 0; i < 2; i++) {
        sw_series_result sr;
        sw_eval_series(ev, i, &sr);
        assert_int_equal(sr.deployed_ms, T0 + BASE);
    }
    sw_eval_free(ev);
    sw_rules_free(r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_splits_back),
        cmocka_unit_test(test_map_splits_caps_and_forgets),
        cmocka_unit_test(test_evaluator_forgets_idle_values),
        cmocka_unit_test(test_mark_reaches_every_value),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
