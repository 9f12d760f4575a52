/*
 * Unit tests for core/store. Each test opens a store in a fresh mkdtemp directory (removed
 * afterwards). Expected rollups are merged here, directly from the generated inputs, with
 * sw_hdr_add and sw_health_append; scans are checked for coverage (every input request counted
 * exactly once, no instant visited twice).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hdr_assert.h"
#include "slawatch/store.h"
#include "store_v4.h"
#include "store_dir.h"

#define SEC INT64_C(1000)
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)
#define T0 (INT64_C(1700000000000) / DAY * DAY) /* a UTC midnight */
#define MAX_GOT 20000

typedef struct fixture {
    char dir[64];
    char sub[96];
    sw_store *st;
} fixture;

/* A visited interval, copied (the store lends it only for the call). */
typedef struct got {
    char service[32];
    char env[32];
    bool env_null;
    sw_sli_interval iv;
} got;

typedef struct got_list {
    got *items;
    size_t n;
} got_list;

static uint64_t
next_rand(uint64_t *state)
{
    uint64_t x = (*state += UINT64_C(0x9E3779B97F4A7C15));
    x = (x ^ (x >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94D049BB133111EB);
    return x ^ (x >> 31);
}

static int
setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    strcpy(f->dir, "/tmp/sw-store-test-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->sub, sizeof f->sub, "%s/sub", f->dir);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture *f = *state;
    sw_store_close(f->st);
    chmod(f->sub, 0755);
    store_dir_remove(f->sub);
    store_dir_remove(f->dir);
    free(f);
    return 0;
}

static sw_store *
open_store(fixture *f, const sw_store_options *opt)
{
    sw_err err = {0};
    sw_store_close(f->st);
    f->st = NULL;
    sw_status r = sw_store_open(f->dir, opt, &f->st, &err);
    if (r != SW_OK)
        fail_msg("open: %s", err.msg);
    return f->st;
}

/* An interval with a random histogram (n values, log-uniform 100 us .. 1 s) and probes. */
static sw_sli_interval
make_interval(uint64_t *rng, int64_t start_ms, int64_t length_ms)
{
    sw_sli_interval iv = {.start_ms = start_ms, .length_ms = length_ms, .has_data = true};
    int n = 20 + (int)(next_rand(rng) % 200);
    assert_int_equal(sw_hdr_new(&sw_hdr_latency_config, &iv.latency, NULL), SW_OK);
    for (int i = 0; i < n; i++)
        sw_hdr_record(iv.latency, 100 << (next_rand(rng) % 14));
    iv.requests = (uint64_t)n;
    iv.errors = next_rand(rng) % 3;
    for (int p = 0; p < 3; p++)
        sw_health_record(&iv.health, next_rand(rng) % 4 != 0);
    return iv;
}

static void
put_one(sw_store *st, const char *service, const char *env, const sw_sli_interval *iv)
{
    sw_err err = {0};
    sw_store_row row = {service, env, iv};
    if (sw_store_put(st, &row, 1, &err) != SW_OK)
        fail_msg("put: %s", err.msg);
}

static sw_status
collect(void *ctx, const char *service, const char *env, const sw_sli_interval *iv, sw_err *err)
{
    got_list *l = ctx;
    (void)err;
    assert_true(l->n < MAX_GOT);
    got *g = &l->items[l->n++];
    snprintf(g->service, sizeof g->service, "%s", service);
    snprintf(g->env, sizeof g->env, "%s", env != NULL ? env : "");
    g->env_null = env == NULL;
    g->iv = *iv;
    g->iv.latency = iv->latency != NULL ? sw_hdr_clone(iv->latency) : NULL;
    return SW_OK;
}

static void
got_reset(got_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        sw_sli_interval_fini(&l->items[i].iv);
    l->n = 0;
}

static void
scan(sw_store *st, const char *service, int64_t from, int64_t to, int64_t fine_from, got_list *l)
{
    sw_err err = {0};
    got_reset(l);
    if (sw_store_scan(st, service, from, to, fine_from, collect, l, &err) != SW_OK)
        fail_msg("scan: %s", err.msg);
}

static got_list *
got_new(void)
{
    got_list *l = calloc(1, sizeof *l);
    assert_non_null(l);
    l->items = calloc(MAX_GOT, sizeof *l->items);
    assert_non_null(l->items);
    return l;
}

static void
got_free(got_list *l)
{
    got_reset(l);
    free(l->items);
    free(l);
}

static void
assert_same_interval(const sw_sli_interval *a, const sw_sli_interval *b)
{
    assert_int_equal(a->start_ms, b->start_ms);
    assert_int_equal(a->length_ms, b->length_ms);
    assert_int_equal(a->requests, b->requests);
    assert_int_equal(a->errors, b->errors);
    assert_int_equal(a->has_data, b->has_data);
    assert_memory_equal(&a->health, &b->health, sizeof a->health);
    assert_int_equal(a->latency != NULL, b->latency != NULL);
    if (a->latency != NULL)
        assert_same_buckets(a->latency, b->latency);
}

/* expected += iv, iv later in time. */
static void
merge_into(sw_sli_interval *expected, const sw_sli_interval *iv)
{
    expected->requests += iv->requests;
    expected->errors += iv->errors;
    expected->has_data = expected->has_data || iv->has_data;
    sw_health_append(&expected->health, &iv->health);
    if (expected->latency == NULL)
        assert_int_equal(sw_hdr_new(&sw_hdr_latency_config, &expected->latency, NULL), SW_OK);
    sw_hdr_add(expected->latency, iv->latency);
}

static void
test_round_trip_and_replace(void **state)
{
    fixture *f = *state;
    sw_store *st = open_store(f, NULL);
    uint64_t rng = 1;
    sw_sli_interval in[4];
    for (int i = 0; i < 4; i++)
        in[i] = make_interval(&rng, T0 + i * 10 * SEC, 10 * SEC);
    in[3].has_data = false;
    sw_hdr_free(in[3].latency);
    in[3].latency = NULL;
    sw_store_row rows[] = {
        {"api", NULL, &in[0]}, {"api", NULL, &in[1]}, {"api", "blue", &in[2]}, {"web", "", &in[3]}};
    assert_int_equal(sw_store_put(st, rows, 4, NULL), SW_OK);

    got_list *l = got_new();
    scan(st, NULL, T0, T0 + HOUR, T0, l);
    assert_int_equal(l->n, 4);
    const int order[] = {0, 1, 2, 3}; /* series sorted by service, then env ("" first) */
    for (int i = 0; i < 4; i++)
        assert_same_interval(&l->items[i].iv, &in[order[i]]);
    assert_true(l->items[0].env_null);
    assert_string_equal(l->items[2].env, "blue");
    assert_true(l->items[3].env_null);
    assert_string_equal(l->items[3].service, "web");

    /* Redelivery with other values replaces the row. */
    sw_sli_interval again = make_interval(&rng, T0 + 10 * SEC, 10 * SEC);
    put_one(st, "api", NULL, &again);
    scan(st, "api", T0, T0 + HOUR, T0, l);
    assert_int_equal(l->n, 3);
    assert_same_interval(&l->items[1].iv, &again);
    sw_sli_interval_fini(&again);
    for (int i = 0; i < 4; i++)
        sw_sli_interval_fini(&in[i]);
    got_free(l);
}

/* One hour of 10 s intervals: each 1 m row and the 1 h row equal direct merges. */
static void
test_rollup_exact(void **state)
{
    fixture *f = *state;
    sw_store *st = open_store(f, NULL);
    uint64_t rng = 2;
    sw_sli_interval minute[60] = {0}, hour = {.start_ms = T0, .length_ms = HOUR};
    uint64_t requests[360];
    for (int i = 0; i < 360; i++) {
        sw_sli_interval iv = make_interval(&rng, T0 + i * 10 * SEC, 10 * SEC);
        requests[i] = iv.requests;
        put_one(st, "api", "green", &iv);
        minute[i / 6].start_ms = T0 + (i / 6) * MIN;
        minute[i / 6].length_ms = MIN;
        merge_into(&minute[i / 6], &iv);
        merge_into(&hour, &iv);
        sw_sli_interval_fini(&iv);
    }
    assert_int_equal(sw_store_rollup(st, T0 + HOUR, NULL), SW_OK);
    got_list *l = got_new();
    for (int m = 0; m < 60; m++) {
        scan(st, "api", T0 + m * MIN, T0 + (m + 1) * MIN, T0 + (m + 1) * MIN, l);
        assert_int_equal(l->n, 1);
        assert_same_interval(&l->items[0].iv, &minute[m]);
        sw_sli_interval_fini(&minute[m]);
    }
    scan(st, "api", T0, T0 + HOUR, T0 + HOUR, l);
    assert_int_equal(l->n, 1);
    assert_same_interval(&l->items[0].iv, &hour);
    assert_int_equal(sw_hdr_value_at_percentile(l->items[0].iv.latency, 99.0),
                     sw_hdr_value_at_percentile(hour.latency, 99.0));

    /* A row redelivered with other values changes a rolled-up minute: the next rollup re-rolls
     * the minute and the hour. */
    sw_sli_interval late = make_interval(&rng, T0 + 30 * MIN, 10 * SEC);
    put_one(st, "api", "green", &late);
    assert_int_equal(sw_store_rollup(st, T0 + HOUR + MIN, NULL), SW_OK);
    scan(st, "api", T0, T0 + HOUR, T0 + HOUR, l);
    assert_int_equal(l->items[0].iv.requests, hour.requests - requests[180] + late.requests);
    sw_sli_interval_fini(&late);
    sw_sli_interval_fini(&hour);
    got_free(l);
}

/* A UTC day of sparse rows rolls up to one 1 d row, the direct merge; not before it ends. */
static void
test_rollup_day(void **state)
{
    fixture *f = *state;
    sw_store *st = open_store(f, NULL);
    uint64_t rng = 3;
    sw_sli_interval day = {.start_ms = T0, .length_ms = DAY};
    for (int64_t t = T0; t < T0 + DAY; t += 5 * MIN) {
        sw_sli_interval iv = make_interval(&rng, t, 10 * SEC);
        put_one(st, "db", NULL, &iv);
        merge_into(&day, &iv);
        sw_sli_interval_fini(&iv);
    }
    got_list *l = got_new();
    assert_int_equal(sw_store_rollup(st, T0 + DAY - 1, NULL), SW_OK);
    scan(st, NULL, T0, T0 + DAY, T0 + DAY, l);
    assert_int_equal(l->n, 23 + 12); /* the last hour has not ended: its 12 minute rows */
    assert_int_equal(sw_store_rollup(st, T0 + DAY, NULL), SW_OK);
    scan(st, NULL, T0, T0 + DAY, T0 + DAY, l);
    assert_int_equal(l->n, 1);
    assert_same_interval(&l->items[0].iv, &day);
    /* A second call with nothing new changes nothing. */
    assert_int_equal(sw_store_rollup(st, T0 + DAY + HOUR, NULL), SW_OK);
    scan(st, NULL, T0, T0 + DAY, T0 + DAY, l);
    assert_same_interval(&l->items[0].iv, &day);
    sw_sli_interval_fini(&day);
    got_free(l);
}

/* Every visited interval starts at or after the end of the previous one of its series. */
static uint64_t
check_coverage(const got_list *l, int64_t fine_from, int64_t *ret_coarsest_before)
{
    uint64_t requests = 0;
    int64_t end = INT64_MIN, coarsest = 0;
    for (size_t i = 0; i < l->n; i++) {
        const sw_sli_interval *iv = &l->items[i].iv;
        assert_true(iv->start_ms >= end);
        end = iv->start_ms + iv->length_ms;
        if (iv->start_ms < fine_from && iv->length_ms > coarsest)
            coarsest = iv->length_ms;
        if (iv->start_ms >= fine_from)
            assert_true(iv->length_ms == 10 * SEC || iv->length_ms == MIN);
        requests += iv->requests;
    }
    *ret_coarsest_before = coarsest;
    return requests;
}

/* Three days of 10 s rows, one every 30 s: every scan counts each request exactly once. */
static void
test_scan_coverage(void **state)
{
    fixture *f = *state;
    sw_store *st = open_store(f, NULL);
    uint64_t rng = 4, total = 0;
    const int64_t end = T0 + 3 * DAY;
    sw_store_row rows[256];
    sw_sli_interval ivs[256];
    size_t n = 0;
    for (int64_t t = T0 + 2 * HOUR; t < end; t += 30 * SEC) {
        ivs[n] = (sw_sli_interval){.start_ms = t,
                                   .length_ms = 10 * SEC,
                                   .has_data = true,
                                   .requests = 1 + next_rand(&rng) % 100};
        total += ivs[n].requests;
        rows[n] = (sw_store_row){"api", NULL, &ivs[n]};
        if (++n == 256 || t + 30 * SEC >= end) {
            assert_int_equal(sw_store_put(st, rows, n, NULL), SW_OK);
            n = 0;
        }
    }
    assert_int_equal(sw_store_rollup(st, end, NULL), SW_OK);
    got_list *l = got_new();
    int64_t coarsest = 0;
    const int64_t fine_from[] = {end, T0, end - 2 * HOUR, T0 + DAY + 17 * MIN + 30 * SEC};
    for (size_t i = 0; i < 4; i++) {
        scan(st, "api", T0, end, fine_from[i], l);
        assert_int_equal(check_coverage(l, fine_from[i], &coarsest), total);
    }
    /* fine_from = end: the coarsest; fine_from = T0: the finest, 1 m rows for the first day
     * (base rows are kept 2 days) and base rows, two a minute, for the last two. */
    scan(st, "api", T0, end, end, l);
    assert_int_equal(l->n, 3);
    scan(st, "api", T0, end, T0, l);
    assert_int_equal(l->n, 22 * 60 + 2 * 2880);
    scan(st, "api", T0, end, end - 2 * HOUR, l);
    check_coverage(l, end - 2 * HOUR, &coarsest);
    assert_int_equal(coarsest, DAY);
    assert_int_equal(l->n, 2 + 22 + 240);

    /* Retention removes base rows older than a day: the finest scan falls back to 1 m rows. */
    sw_store_options opt = {.retention_base_ms = DAY};
    st = open_store(f, &opt);
    assert_int_equal(sw_store_rollup(st, end, NULL), SW_OK);
    scan(st, "api", T0, end, T0, l);
    assert_int_equal(check_coverage(l, T0, &coarsest), total);
    assert_int_equal(l->items[0].iv.length_ms, MIN);
    assert_int_equal(l->n, (22 + 24) * 60 + 2880);
    assert_int_equal(l->items[l->n - 1].iv.length_ms, 10 * SEC);
    got_free(l);
}

static void
test_retention(void **state)
{
    fixture *f = *state;
    sw_store_options opt = {.retention_base_ms = HOUR,
                            .retention_1m_ms = DAY,
                            .retention_1h_ms = 2 * DAY,
                            .retention_1d_ms = 3 * DAY};
    sw_store *st = open_store(f, &opt);
    sw_err err = {0};
    for (int64_t t = T0; t < T0 + 5 * DAY; t += 20 * MIN) {
        sw_sli_interval iv = {.start_ms = t, .length_ms = 10 * SEC, .requests = 1};
        put_one(st, "api", NULL, &iv);
    }
    const int64_t now = T0 + 5 * DAY;
    assert_int_equal(sw_store_rollup(st, now, NULL), SW_OK);
    got_list *l = got_new();
    /* Finest view: 1 d rows for days 2-3 (1 h kept 2 d: from day 3 on), ... */
    scan(st, "api", T0, now, T0, l);
    int64_t coarsest = 0;
    check_coverage(l, INT64_MAX, &coarsest);
    assert_int_equal(l->items[0].iv.start_ms, T0 + 2 * DAY); /* 1 d rows kept 3 d */
    assert_int_equal(l->items[0].iv.length_ms, DAY);
    assert_int_equal(l->items[1].iv.length_ms, HOUR);
    assert_int_equal(l->items[l->n - 1].iv.length_ms, 10 * SEC);
    /* Writing below what retention removed would make the rollup inexact: refused. */
    sw_sli_interval old = {.start_ms = now - 2 * HOUR, .length_ms = 10 * SEC, .requests = 1};
    sw_store_row row = {"api", NULL, &old};
    assert_int_equal(sw_store_put(st, &row, 1, &err), SW_E_RANGE);
    /* ... and the bound survives a restart. */
    st = open_store(f, &opt);
    assert_int_equal(sw_store_put(st, &row, 1, &err), SW_E_RANGE);
    old.start_ms = now - 10 * SEC;
    assert_int_equal(sw_store_put(st, &row, 1, &err), SW_OK);
    got_free(l);
}

static void
test_rules_history(void **state)
{
    fixture *f = *state;
    sw_store *st = open_store(f, NULL);
    sw_err err = {0};
    char *text = NULL;
    size_t len = 0;
    int64_t since = 0;
    assert_int_equal(sw_store_rules_at(st, 100, &text, &len, &since, &err), SW_E_INVAL);
    assert_non_null(strstr(err.msg, "no rules recorded"));
    assert_int_equal(sw_store_put_rules(st, 100, "a: 1\n", 5, NULL), SW_OK);
    assert_int_equal(sw_store_put_rules(st, 200, "a: 1\n", 5, NULL), SW_OK); /* unchanged */
    assert_int_equal(sw_store_put_rules(st, 300, "a: 2\n", 5, NULL), SW_OK);
    const struct {
        int64_t at;
        const char *text;
        int64_t since;
    } cases[] = {
        {100, "a: 1\n", 100}, {250, "a: 1\n", 100}, {300, "a: 2\n", 300}, {9999, "a: 2\n", 300}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(sw_store_rules_at(st, cases[i].at, &text, &len, &since, NULL), SW_OK);
        assert_string_equal(text, cases[i].text);
        assert_int_equal(len, strlen(cases[i].text));
        assert_int_equal(since, cases[i].since);
        free(text);
    }
    assert_int_equal(sw_store_rules_at(st, 99, &text, &len, &since, NULL), SW_E_INVAL);
}

static sw_status
collect_audit(void *ctx, const sw_store_gate_audit *a, sw_err *err)
{
    char *out = ctx;
    (void)err;
    size_t used = strlen(out);
    snprintf(out + used, 512 - used, "%lld %s %s %s %lld %s %s;", (long long)a->at_ms, a->who,
             a->service, a->env != NULL ? a->env : "-", (long long)a->window_ms, a->verdict,
             a->checks_json);
    return SW_OK;
}

static sw_status
collect_deployment(void *ctx, const char *service, const char *env, int64_t at_ms,
                   const char *policy_override, sw_err *err)
{
    char *out = ctx;
    (void)err;
    size_t used = strlen(out);
    snprintf(out + used, 512 - used, "%s/%s@%lld%s%s;", service, env != NULL ? env : "-",
             (long long)at_ms, policy_override != NULL ? "!" : "",
             policy_override != NULL ? policy_override : "");
    return SW_OK;
}

static sw_status
collect_event(void *ctx, const sw_store_event *e, sw_err *err)
{
    char *out = ctx;
    (void)err;
    size_t used = strlen(out);
    snprintf(out + used, 512 - used, "%lld %s %s %s/%s %s %g;", (long long)e->at_ms, e->kind,
             e->name, e->service, e->env != NULL ? e->env : "-", e->state, e->value);
    return SW_OK;
}

static void
test_audits_deployments_events(void **state)
{
    fixture *f = *state;
    sw_store *st = open_store(f, NULL);
    char out[512] = "";
    sw_store_gate_audit a1 = {300, "10.0.0.1", "api", NULL, 600000, "pass", "[]"};
    sw_store_gate_audit a2 = {100, "ci", "api", "blue", 60000, "fail", "[{\"x\":1}]"};
    assert_int_equal(sw_store_put_gate_audit(st, &a1, NULL), SW_OK);
    assert_int_equal(sw_store_put_gate_audit(st, &a2, NULL), SW_OK);
    assert_int_equal(sw_store_gate_audits(st, 0, 1000, collect_audit, out, NULL), SW_OK);
    assert_string_equal(out, "100 ci api blue 60000 fail [{\"x\":1}];"
                             "300 10.0.0.1 api - 600000 pass [];");
    out[0] = '\0';
    assert_int_equal(sw_store_gate_audits(st, 101, 1000, collect_audit, out, NULL), SW_OK);
    assert_string_equal(out, "300 10.0.0.1 api - 600000 pass [];");

    out[0] = '\0';
    assert_int_equal(sw_store_put_deployment(st, "api", NULL, 50, "ci", NULL, NULL), SW_OK);
    assert_int_equal(sw_store_put_deployment(st, "api", NULL, 70, "ci", NULL, NULL), SW_OK);
    assert_int_equal(sw_store_put_deployment(st, "api", "green", 60, "me", NULL, NULL), SW_OK);
    assert_int_equal(sw_store_put_deployment(st, "api", NULL, 65, "ci", NULL, NULL), SW_OK);
    assert_int_equal(sw_store_last_deployments(st, collect_deployment, out, NULL), SW_OK);
    assert_string_equal(out, "api/-@70;api/green@60;");

    out[0] = '\0';
    sw_store_event e1 = {"alert", "fast-burn", "api", NULL, "firing", 500, 14.4};
    sw_store_event e2 = {"trigger", "rollback", "api", "blue", "resolved", 400, 0.5};
    sw_store_event bad = {"page", "x", "api", NULL, "firing", 1, 0};
    assert_int_equal(sw_store_put_event(st, &e1, NULL), SW_OK);
    assert_int_equal(sw_store_put_event(st, &e2, NULL), SW_OK);
    assert_int_equal(sw_store_put_event(st, &bad, NULL), SW_E_INVAL);
    bad.kind = "alert";
    bad.state = "pending";
    assert_int_equal(sw_store_put_event(st, &bad, NULL), SW_E_INVAL);
    assert_int_equal(sw_store_events(st, 0, 1000, collect_event, out, NULL), SW_OK);
    assert_string_equal(out, "400 trigger rollback api/blue resolved 0.5;"
                             "500 alert fast-burn api/- firing 14.4;");

    /* A batch with one refused event stores none of them; a good batch stores all. */
    sw_store_event batch[] = {{"alert", "slow", "web", NULL, "firing", 600, 2.0},
                              {"alert", "slow", "web", NULL, "pending", 610, 2.0}};
    assert_int_equal(sw_store_put_events(st, batch, 2, NULL), SW_E_INVAL);
    batch[1].state = "resolved";
    assert_int_equal(sw_store_put_events(st, batch, 2, NULL), SW_OK);
    out[0] = '\0';
    assert_int_equal(sw_store_events(st, 550, 1000, collect_event, out, NULL), SW_OK);
    assert_string_equal(out, "600 alert slow web/- firing 2;610 alert slow web/- resolved 2;");
}

static sw_status
collect_override(void *ctx, const sw_store_override *o, sw_err *err)
{
    char *out = ctx;
    (void)err;
    size_t used = strlen(out);
    snprintf(out + used, 512 - used, "%lld %s %s/%s %s;", (long long)o->at_ms, o->who, o->service,
             o->env != NULL ? o->env : "-", o->policy_override);
    return SW_OK;
}

/* A mark's policy_override: kept on the mark (the latest one brings it back after a restart),
 * listed by time, and audited beside the gate's answers in the same transaction. */
static void
test_policy_overrides(void **state)
{
    fixture *f = *state;
    sw_store *st = open_store(f, NULL);
    char out[512] = "";
    assert_int_equal(sw_store_put_deployment(st, "api", "green", 100, "ci", "INC-123", NULL),
                     SW_OK);
    assert_int_equal(sw_store_put_deployment(st, "api", "blue", 200, "me", NULL, NULL), SW_OK);
    assert_int_equal(sw_store_put_deployment(st, "web", NULL, 300, "ops", "CHG/9", NULL), SW_OK);
    assert_int_equal(sw_store_put_deployment(st, "web", NULL, 400, "ops", "", NULL), SW_OK);
    st = open_store(f, NULL);
    assert_int_equal(sw_store_last_deployments(st, collect_deployment, out, NULL), SW_OK);
    assert_string_equal(out, "api/blue@200;api/green@100!INC-123;web/-@400;");
    out[0] = '\0';
    assert_int_equal(sw_store_policy_overrides(st, 0, 1000, collect_override, out, NULL), SW_OK);
    assert_string_equal(out, "100 ci api/green INC-123;300 ops web/- CHG/9;");
    out[0] = '\0';
    assert_int_equal(sw_store_policy_overrides(st, 101, 300, collect_override, out, NULL), SW_OK);
    assert_string_equal(out, "");
    assert_int_equal(sw_store_gate_audits(st, 0, 1000, collect_audit, out, NULL), SW_OK);
    assert_string_equal(out, "100 ci api green 0 override {\"policy_override\":\"INC-123\"};"
                             "300 ops web - 0 override {\"policy_override\":\"CHG/9\"};");
}

static sw_status
count_audit(void *ctx, const sw_store_gate_audit *a, sw_err *err)
{
    int64_t *seen = ctx; /* [count, first at_ms, last at_ms] */
    (void)err;
    if (seen[0]++ == 0)
        seen[1] = a->at_ms;
    seen[2] = a->at_ms;
    return SW_OK;
}

static sw_status
count_event(void *ctx, const sw_store_event *e, sw_err *err)
{
    int64_t *seen = ctx;
    (void)err;
    if (seen[0]++ == 0)
        seen[1] = e->at_ms;
    seen[2] = e->at_ms;
    return SW_OK;
}

/* 25,000 audits (more than one pruning chunk), one a second from T0. */
#define N_PRUNE 25000

static void
put_many_audits(sw_store *st)
{
    sw_store_gate_audit *a = calloc(N_PRUNE, sizeof *a);
    assert_non_null(a);
    for (int i = 0; i < N_PRUNE; i++)
        a[i] = (sw_store_gate_audit){T0 + i * SEC, "10.0.0.1", "api", NULL, MIN, "pass", "[]"};
    assert_int_equal(sw_store_put_gate_audits(st, a, N_PRUNE, NULL), SW_OK);
    free(a);
}

/* Audits and events go by age, then by count, oldest first; deployments keep each series'
 * latest mark whatever its age or the count. */
static void
test_prune_records(void **state)
{
    fixture *f = *state;
    sw_store *st = open_store(f, NULL);
    put_many_audits(st);
    int64_t now = T0 + N_PRUNE * SEC, seen[3] = {0};
    uint64_t deleted = 0;
    sw_store_keep keep = {.max_age_ms = 20000 * SEC};
    assert_int_equal(sw_store_prune(st, SW_STORE_GATE_AUDITS, now, &keep, &deleted, NULL), SW_OK);
    assert_int_equal(deleted, N_PRUNE - 20000);
    assert_int_equal(sw_store_gate_audits(st, INT64_MIN, INT64_MAX, count_audit, seen, NULL),
                     SW_OK);
    assert_int_equal(seen[0], 20000);
    assert_int_equal(seen[1], now - 20000 * SEC);

    keep = (sw_store_keep){.max_rows = 12345};
    deleted = 0;
    assert_int_equal(sw_store_prune(st, SW_STORE_GATE_AUDITS, now, &keep, &deleted, NULL), SW_OK);
    assert_int_equal(deleted, 20000 - 12345);
    memset(seen, 0, sizeof seen);
    assert_int_equal(sw_store_gate_audits(st, INT64_MIN, INT64_MAX, count_audit, seen, NULL),
                     SW_OK);
    assert_int_equal(seen[0], 12345);
    assert_int_equal(seen[1], now - 12345 * SEC);
    assert_int_equal(seen[2], now - SEC);
    deleted = 0;
    assert_int_equal(sw_store_prune(st, SW_STORE_GATE_AUDITS, now, &keep, &deleted, NULL), SW_OK);
    assert_int_equal(deleted, 0);

    for (int i = 0; i < 10; i++) {
        sw_store_event e = {"alert",      "fast-burn", "api", NULL, i % 2 ? "resolved" : "firing",
                            T0 + i * MIN, 1.0};
        assert_int_equal(sw_store_put_event(st, &e, NULL), SW_OK);
    }
    keep = (sw_store_keep){.max_age_ms = 5 * MIN, .max_rows = 3};
    deleted = 0;
    assert_int_equal(sw_store_prune(st, SW_STORE_EVENTS, T0 + 10 * MIN, &keep, &deleted, NULL),
                     SW_OK);
    assert_int_equal(deleted, 7);
    memset(seen, 0, sizeof seen);
    assert_int_equal(sw_store_events(st, INT64_MIN, INT64_MAX, count_event, seen, NULL), SW_OK);
    assert_int_equal(seen[0], 3);
    assert_int_equal(seen[1], T0 + 7 * MIN);

    for (int i = 0; i < 5; i++)
        assert_int_equal(
            sw_store_put_deployment(st, "api", "blue", T0 + i * HOUR, "ci", NULL, NULL), SW_OK);
    assert_int_equal(sw_store_put_deployment(st, "web", NULL, T0, "ci", NULL, NULL), SW_OK);
    keep = (sw_store_keep){.max_age_ms = HOUR, .max_rows = 1};
    deleted = 0;
    assert_int_equal(
        sw_store_prune(st, SW_STORE_DEPLOYMENTS, T0 + 10 * HOUR, &keep, &deleted, NULL), SW_OK);
    assert_int_equal(deleted, 4);
    char out[512] = "";
    assert_int_equal(sw_store_last_deployments(st, collect_deployment, out, NULL), SW_OK);
    char want[128];
    snprintf(want, sizeof want, "api/blue@%lld;web/-@%lld;", (long long)(T0 + 4 * HOUR),
             (long long)T0);
    assert_string_equal(out, want);
}

/* A database left by an older slawatch (schema_version 0, or an empty file) is migrated. */
/* An hour as sw_store_scan_hours() lends it, copied. */
typedef struct got_hour {
    char service[32];
    sw_sli_interval iv;
    bool has_minutes;
    sw_hour_minutes minutes;
} got_hour;

typedef struct hour_list {
    got_hour items[16];
    size_t n;
} hour_list;

static sw_status
collect_hour(void *ctx, const char *service, const char *env, const sw_sli_interval *iv,
             const sw_hour_minutes *minutes, sw_err *err)
{
    (void)env, (void)err;
    hour_list *l = ctx;
    assert_true(l->n < 16);
    got_hour *g = &l->items[l->n++];
    snprintf(g->service, sizeof g->service, "%s", service);
    g->iv = *iv;
    g->iv.latency = iv->latency != NULL ? sw_hdr_clone(iv->latency) : NULL;
    g->has_minutes = minutes != NULL;
    if (minutes != NULL)
        g->minutes = *minutes;
    return SW_OK;
}

static void
hour_list_reset(hour_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        sw_sli_interval_fini(&l->items[i].iv);
    l->n = 0;
}

static void
scan_hours(sw_store *st, int64_t from, int64_t to, bool with_latency, hour_list *l)
{
    sw_err err = {0};
    hour_list_reset(l);
    if (sw_store_scan_hours(st, NULL, from, to, with_latency, collect_hour, l, &err) != SW_OK)
        fail_msg("scan hours: %s", err.msg);
}

/* The hour's minutes as the inputs say: sums of the 10 s rows, unstored where none was put. */
static void
assert_minutes(const got_hour *g, const sw_minute_count *want)
{
    assert_true(g->has_minutes);
    for (int k = 0; k < SW_MINUTES_PER_HOUR; k++) {
        const sw_minute_count *a = &g->minutes.m[k], *b = &want[k];
        assert_int_equal(a->stored, b->stored);
        assert_int_equal(a->has_data, b->has_data);
        assert_int_equal(a->requests, b->requests);
        assert_int_equal(a->errors, b->errors);
        assert_int_equal(a->probes, b->probes);
        assert_int_equal(a->failures, b->failures);
    }
}

/* Hours with their minute counts: from the 1 h row, from 1 m rows when the row has none (as
 * one rolled up before the migration), merged from 1 m rows when not rolled up yet; an hour
 * imported at 1 h has none. */
/* A capped scan: hourly rows where the plain scan takes the day's, a day held only as a daily
 * row still visited whole, base rows from fine_from on; requests counted once either way. */
static void
test_scan_upto(void **state)
{
    fixture *f = *state;
    sw_store *st = open_store(f, NULL);
    sw_store_row rows[48];
    sw_sli_interval iv[48];
    for (int h = 0; h < 48; h++) { /* two days of hours, rolled up into two days */
        iv[h] = (sw_sli_interval){.start_ms = T0 + h * HOUR,
                                  .length_ms = HOUR,
                                  .requests = (uint64_t)h + 1,
                                  .has_data = true};
        rows[h] = (sw_store_row){"api", NULL, &iv[h]};
    }
    assert_int_equal(sw_store_import(st, HOUR, rows, 48, NULL), SW_OK);
    sw_sli_interval day = {
        .start_ms = T0 + 2 * DAY, .length_ms = DAY, .requests = 1000, .has_data = true};
    sw_store_row day_row = {"api", NULL, &day};
    assert_int_equal(sw_store_import(st, DAY, &day_row, 1, NULL), SW_OK);
    assert_int_equal(sw_store_rollup(st, T0 + 3 * DAY, NULL), SW_OK);
    got_list *l = got_new();
    scan(st, "api", T0, T0 + 3 * DAY, T0 + 3 * DAY, l);
    assert_int_equal(l->n, 3); /* coarsest: three days */
    sw_err err = {0};
    got_reset(l);
    assert_int_equal(sw_store_scan_upto(st, "api", T0 + 5 * HOUR, T0 + 3 * DAY, T0 + 40 * HOUR,
                                        HOUR, collect, l, &err),
                     SW_OK);
    assert_int_equal(l->n, 43 + 1); /* hours 5..47 (none finer), then the daily-only day */
    uint64_t requests = 0;
    for (size_t i = 0; i < l->n; i++) {
        assert_int_equal(l->items[i].iv.start_ms,
                         i < 43 ? T0 + (int64_t)(i + 5) * HOUR : T0 + 2 * DAY);
        assert_int_equal(l->items[i].iv.length_ms, i < 43 ? HOUR : DAY);
        requests += l->items[i].iv.requests;
    }
    assert_int_equal(requests, (48 * 49 / 2 - 5 * 6 / 2) + 1000);
    got_free(l);
}

static void
test_scan_hours(void **state)
{
    fixture *f = *state;
    sw_store *st = open_store(f, NULL);
    uint64_t rng = 9;
    static sw_minute_count want[3][SW_MINUTES_PER_HOUR];
    memset(want, 0, sizeof want);
    sw_sli_interval hour[3] = {{.start_ms = T0, .length_ms = HOUR},
                               {.start_ms = T0 + HOUR, .length_ms = HOUR},
                               {.start_ms = T0 + 2 * HOUR, .length_ms = HOUR}};
    for (int i = 0; i < 900; i++) { /* 2 h 30 min of 10 s rows, minute 7 left empty */
        int m = i / 6;
        if (m == 7)
            continue;
        sw_sli_interval iv = make_interval(&rng, T0 + i * 10 * SEC, 10 * SEC);
        iv.has_data = m != 20; /* a minute of empty rows: stored, without data */
        put_one(st, "api", "green", &iv);
        sw_minute_count *w = &want[m / 60][m % 60];
        w->stored = true;
        w->has_data = w->has_data || iv.has_data;
        w->requests += iv.requests;
        w->errors += iv.errors;
        w->probes += iv.health.probes;
        w->failures += iv.health.failures;
        merge_into(&hour[m / 60], &iv);
        sw_sli_interval_fini(&iv);
    }
    sw_sli_interval imported = {.start_ms = T0, .length_ms = HOUR, .requests = 5, .has_data = true};
    sw_store_row row = {"batch", NULL, &imported};
    assert_int_equal(sw_store_import(st, HOUR, &row, 1, NULL), SW_OK);
    /* Two hours rolled up; the third's first 30 minutes are 1 m rows only. */
    assert_int_equal(sw_store_rollup(st, T0 + 2 * HOUR + 31 * MIN, NULL), SW_OK);

    static hour_list l;
    for (int pass = 0; pass < 2; pass++) {
        scan_hours(st, T0, T0 + 4 * HOUR, true, &l);
        assert_int_equal(l.n, 4); /* api's three hours, then batch's one */
        for (int h = 0; h < 3; h++) {
            assert_string_equal(l.items[h].service, "api");
            assert_same_interval(&l.items[h].iv, &hour[h]);
            assert_minutes(&l.items[h], want[h]);
        }
        assert_string_equal(l.items[3].service, "batch");
        assert_int_equal(l.items[3].iv.requests, 5);
        assert_false(l.items[3].has_minutes);
        if (pass == 1)
            break;
        /* The database as a slawatch before minute counts left it: version 1, no column (nor the
         * later policy_override, window_stats and recent rows). */
        sw_store_close(f->st);
        f->st = NULL;
        assert_int_equal(store_file_exec(f->dir, UNDO_RECENT_ROWS
                                         "ALTER TABLE intervals DROP COLUMN minutes;"
                                         "ALTER TABLE deployments DROP COLUMN policy_override;"
                                         "DROP TABLE window_stats;"
                                         "UPDATE schema_version SET version = 1;"),
                         SQLITE_OK);
        st = open_store(f, NULL);
        assert_int_equal(sw_store_schema_version(st), 5);
    }
    scan_hours(st, T0, T0 + 4 * HOUR, false, &l);
    for (size_t i = 0; i < l.n; i++)
        assert_null(l.items[i].iv.latency);
    hour_list_reset(&l);
    for (int h = 0; h < 3; h++)
        sw_sli_interval_fini(&hour[h]);
}

static void
test_migrations(void **state)
{
    fixture *f = *state;
    char path[160];
    sqlite3 *db = NULL;
    snprintf(path, sizeof path, "%s/slawatch.db", f->dir);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TABLE schema_version(version INTEGER NOT NULL);"
                                  "INSERT INTO schema_version VALUES(0);",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    sw_store *st = open_store(f, NULL);
    assert_int_equal(sw_store_schema_version(st), 5);
    sw_sli_interval iv = {.start_ms = T0, .length_ms = 10 * SEC, .requests = 7};
    put_one(st, "api", NULL, &iv);
    st = open_store(f, NULL); /* reopening applies nothing and keeps the data */
    assert_int_equal(sw_store_schema_version(st), 5);
    got_list *l = got_new();
    scan(st, NULL, T0, T0 + MIN, T0, l);
    assert_int_equal(l->n, 1);
    assert_int_equal(l->items[0].iv.requests, 7);
    got_free(l);
    sw_store_close(f->st);
    f->st = NULL;

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *s = NULL;
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT COUNT(*), MAX(version) FROM schema_version", -1, &s, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(s, 0), 1);
    assert_int_equal(sqlite3_column_int(s, 1), 5);
    sqlite3_finalize(s);
    sqlite3_close(db);

    /* A database file of zero bytes lost its contents: refused, not silently made a new store
     * (a new directory has no file at all). The file is left as it was. */
    store_dir_remove(f->dir);
    assert_int_equal(mkdir(f->dir, 0700), 0);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fclose(fp);
    sw_err err = {0};
    assert_int_equal(sw_store_open(f->dir, NULL, &f->st, &err), SW_E_IO);
    assert_null(f->st);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "0 bytes"));
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_size, 0);
}

static void
test_bad_places(void **state)
{
    fixture *f = *state;
    sw_err err = {0};
    sw_store *st = NULL;
    char path[160];
    sw_store_close(NULL);

    /* A corrupt file. */
    assert_int_equal(mkdir(f->sub, 0755), 0);
    snprintf(path, sizeof path, "%s/slawatch.db", f->sub);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    for (int i = 0; i < 512; i++)
        fputs("not a database ", fp);
    fclose(fp);
    assert_int_equal(sw_store_open(f->sub, NULL, &st, &err), SW_E_IO);
    assert_null(st);
    assert_non_null(strstr(err.msg, path));

    /* Bad options. */
    sw_store_options opt = {.base_interval_ms = 7000};
    assert_int_equal(sw_store_open(f->dir, &opt, &st, &err), SW_E_INVAL);
    opt = (sw_store_options){.retention_base_ms = 1000};
    assert_int_equal(sw_store_open(f->dir, &opt, &st, &err), SW_E_INVAL);

    /* A store created with 10 s base intervals cannot be reopened with 5 s. */
    open_store(f, NULL);
    opt = (sw_store_options){.base_interval_ms = 5000};
    assert_int_equal(sw_store_open(f->dir, &opt, &st, &err), SW_E_INVAL);

    if (geteuid() == 0)
        return; /* root ignores permissions: the read-only cases cannot happen */
    unlink(path);
    assert_int_equal(chmod(f->sub, 0555), 0);
    memset(&err, 0, sizeof err);
    assert_int_equal(sw_store_open(f->sub, NULL, &st, &err), SW_E_IO);
    assert_non_null(strstr(err.msg, f->sub));
    snprintf(path, sizeof path, "%s/deeper", f->sub);
    assert_int_equal(sw_store_open(path, NULL, &st, &err), SW_E_IO);
    assert_non_null(strstr(err.msg, path));
}

/* Writes past a size cap fail as on a full disk, store nothing, and succeed once it is raised. */
static void
test_full_disk(void **state)
{
    fixture *f = *state;
    sw_store_options small = {.max_db_bytes = 256 * 1024};
    sw_store *st = open_store(f, &small);
    sw_err err = {0};
    uint64_t rng = 5, acked = 0;
    int64_t t = T0;
    sw_sli_interval ivs[20];
    sw_store_row rows[20];
    sw_status r = SW_OK;
    while (r == SW_OK) {
        uint64_t batch = 0;
        for (int i = 0; i < 20; i++, t += 10 * SEC) {
            ivs[i] = make_interval(&rng, t, 10 * SEC);
            rows[i] = (sw_store_row){"api", NULL, &ivs[i]};
            batch += ivs[i].requests;
        }
        r = sw_store_put(st, rows, 20, &err);
        if (r == SW_OK) {
            acked += batch;
            for (int i = 0; i < 20; i++)
                sw_sli_interval_fini(&ivs[i]);
        }
    }
    assert_int_equal(r, SW_E_IO);
    assert_non_null(strstr(err.msg, "disk full"));
    got_list *l = got_new();
    int64_t coarsest = 0;
    scan(st, NULL, T0, t, T0, l);
    assert_int_equal(check_coverage(l, T0, &coarsest), acked);
    assert_int_equal(sw_store_integrity_check(st, NULL), SW_OK);

    /* The caller kept the failed batch: with room again it goes in, nothing else lost. */
    st = open_store(f, NULL);
    assert_int_equal(sw_store_put(st, rows, 20, NULL), SW_OK);
    for (int i = 0; i < 20; i++) {
        acked += ivs[i].requests;
        sw_sli_interval_fini(&ivs[i]);
    }
    scan(st, NULL, T0, t, T0, l);
    assert_int_equal(check_coverage(l, T0, &coarsest), acked);
    assert_int_equal(sw_store_integrity_check(st, NULL), SW_OK);
    got_free(l);
}

typedef struct writer_arg {
    sw_store *st;
    const char *service;
} writer_arg;

static void *
writer(void *p)
{
    const writer_arg *a = p;
    for (int64_t i = 0; i < 600; i++) {
        sw_sli_interval iv = {.start_ms = T0 + i * 10 * SEC, .length_ms = 10 * SEC, .requests = 1};
        sw_store_row row = {a->service, NULL, &iv};
        if (sw_store_put(a->st, &row, 1, NULL) != SW_OK)
            return p;
    }
    return NULL;
}

/* Two writers and a rollup thread share one store; everything arrives. */
static void
test_threads(void **state)
{
    fixture *f = *state;
    sw_store *st = open_store(f, NULL);
    pthread_t th[2];
    writer_arg args[2] = {{st, "a"}, {st, "b"}};
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, writer, &args[i]), 0);
    for (int64_t now = T0; now <= T0 + 2 * HOUR; now += MIN)
        assert_int_equal(sw_store_rollup(st, now, NULL), SW_OK);
    for (int i = 0; i < 2; i++) {
        void *ret = &ret;
        pthread_join(th[i], &ret);
        assert_null(ret);
    }
    assert_int_equal(sw_store_rollup(st, T0 + 2 * HOUR, NULL), SW_OK);
    got_list *l = got_new();
    int64_t coarsest = 0;
    scan(st, "a", T0, T0 + 2 * HOUR, T0 + 2 * HOUR, l);
    assert_int_equal(check_coverage(l, T0 + 2 * HOUR, &coarsest), 600);
    assert_int_equal(l->n, 2);
    scan(st, "b", T0, T0 + 2 * HOUR, T0, l);
    assert_int_equal(check_coverage(l, T0, &coarsest), 600);
    got_free(l);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip_and_replace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollup_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollup_day, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan_coverage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retention, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rules_history, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policy_overrides, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audits_deployments_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan_hours, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan_upto, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prune_records, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_places, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_disk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
