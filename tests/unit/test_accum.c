/*
 * Unit tests for the interval accumulators: events land in the base interval holding their
 * time, taking hands over only ended intervals in start order, late data is dropped and
 * counted, a late counter increase is counted in the oldest open interval, whole intervals
 * merge, and concurrent adds from several threads lose nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "slawatch/accum.h"

#define BASE 10000
#define T0 INT64_C(1790812800000) /* 2026-10-01T00:00:00Z */

typedef struct taken {
    char service[16], env[16];
    sw_sli_interval iv[16];
    size_t n;
} taken;

static sw_status
collect(void *ctx, const char *service, const char *env, sw_sli_interval *iv, sw_err *err)
{
    (void)err;
    taken *t = ctx;
    assert_true(t->n < 16);
    snprintf(t->service, sizeof t->service, "%s", service);
    snprintf(t->env, sizeof t->env, "%s", env ? env : "-");
    t->iv[t->n++] = *iv; /* takes ownership */
    return SW_OK;
}

static void
release(taken *t)
{
    for (size_t i = 0; i < t->n; i++)
        sw_sli_interval_fini(&t->iv[i]);
    t->n = 0;
}

static void
test_counts_land_in_their_interval(void **state)
{
    (void)state;
    sw_accum *a;
    assert_int_equal(sw_accum_new(BASE, &a, NULL), SW_OK);
    assert_int_equal(sw_accum_add_counts(a, "api", "green", T0 + 12000, 100, 1, NULL), SW_OK);
    assert_int_equal(sw_accum_add_counts(a, "api", "green", T0 + 3000, 50, 0, NULL), SW_OK);
    assert_int_equal(sw_accum_add_counts(a, "api", "green", T0 + 19999, 10, 2, NULL), SW_OK);
    assert_int_equal(sw_accum_add_latency(a, "api", "green", T0 + 15000, 2500, 7, NULL), SW_OK);
    assert_int_equal(sw_accum_add_probe(a, "api", "green", T0 + 11000, false, NULL), SW_OK);
    assert_int_equal(sw_accum_add_probe(a, "api", "green", T0 + 16000, true, NULL), SW_OK);
    taken t = {0};
    /* At T0 + 15 s only [T0, T0+10s) has ended. */
    assert_int_equal(sw_accum_take(a, T0 + 15000, collect, &t, NULL), SW_OK);
    assert_int_equal(t.n, 1);
    assert_string_equal(t.service, "api");
    assert_string_equal(t.env, "green");
    assert_int_equal(t.iv[0].start_ms, T0);
    assert_int_equal(t.iv[0].requests, 50);
    assert_null(t.iv[0].latency);
    release(&t);
    assert_int_equal(sw_accum_take(a, T0 + 20000, collect, &t, NULL), SW_OK);
    assert_int_equal(t.n, 1);
    assert_int_equal(t.iv[0].start_ms, T0 + 10000);
    assert_int_equal(t.iv[0].length_ms, BASE);
    assert_int_equal(t.iv[0].requests, 110);
    assert_int_equal(t.iv[0].errors, 3);
    assert_true(t.iv[0].has_data);
    assert_int_equal(sw_hdr_total_count(t.iv[0].latency), 7);
    assert_int_equal(t.iv[0].health.probes, 2);
    assert_int_equal(t.iv[0].health.failures, 1);
    assert_int_equal(t.iv[0].health.leading_failures, 1);
    release(&t);
    /* Late: the interval [T0+10s, T0+20s) was taken. */
    assert_int_equal(sw_accum_add_counts(a, "api", "green", T0 + 19000, 5, 5, NULL), SW_OK);
    assert_int_equal(sw_accum_late(a), 1);
    assert_int_equal(sw_accum_take(a, T0 + 30000, collect, &t, NULL), SW_OK);
    assert_int_equal(t.n, 0);
    sw_accum_free(a);
}

/* A scrape stamped in a taken interval: its increase is cumulative, so it lands in the next. */
static void
test_late_increase_carried(void **state)
{
    (void)state;
    sw_accum *a;
    sw_hdr *h;
    assert_int_equal(sw_accum_new(BASE, &a, NULL), SW_OK);
    assert_int_equal(sw_hdr_new(&sw_hdr_latency_config, &h, NULL), SW_OK);
    sw_hdr_record_n(h, 4000, 9);
    taken t = {0};
    assert_int_equal(sw_accum_add_counts(a, "api", NULL, T0 + 1000, 1, 0, NULL), SW_OK);
    assert_int_equal(sw_accum_take(a, T0 + 10000, collect, &t, NULL), SW_OK);
    release(&t);
    assert_int_equal(sw_accum_add_increase(a, "api", NULL, T0 + 9500, 40, 4, h, NULL), SW_OK);
    assert_int_equal(sw_accum_add_increase(a, "api", NULL, T0 + 12000, 2, 0, NULL, NULL), SW_OK);
    assert_int_equal(sw_accum_late(a), 0);
    assert_int_equal(sw_accum_carried(a), 1);
    assert_int_equal(sw_accum_take(a, T0 + 20000, collect, &t, NULL), SW_OK);
    assert_int_equal(t.n, 1);
    assert_int_equal(t.iv[0].start_ms, T0 + 10000);
    assert_int_equal(t.iv[0].requests, 42);
    assert_int_equal(t.iv[0].errors, 4);
    assert_int_equal(sw_hdr_total_count(t.iv[0].latency), 9);
    release(&t);
    sw_hdr_free(h);
    sw_accum_free(a);
}

static void
test_whole_intervals_merge(void **state)
{
    (void)state;
    sw_accum *a;
    assert_int_equal(sw_accum_new(BASE, &a, NULL), SW_OK);
    sw_sli_interval iv = {
        .start_ms = T0, .length_ms = BASE, .requests = 10, .errors = 1, .has_data = true};
    assert_int_equal(sw_hdr_new(&sw_hdr_latency_config, &iv.latency, NULL), SW_OK);
    sw_hdr_record_n(iv.latency, 1000, 10);
    sw_health_record(&iv.health, false);
    assert_int_equal(sw_accum_add_interval(a, "api", NULL, &iv, NULL), SW_OK);
    assert_int_equal(sw_accum_add_interval(a, "api", NULL, &iv, NULL), SW_OK);
    sw_sli_interval_fini(&iv);
    taken t = {0};
    assert_int_equal(sw_accum_take(a, T0 + BASE, collect, &t, NULL), SW_OK);
    assert_int_equal(t.n, 1);
    assert_string_equal(t.env, "-");
    assert_int_equal(t.iv[0].requests, 20);
    assert_int_equal(t.iv[0].errors, 2);
    assert_int_equal(sw_hdr_total_count(t.iv[0].latency), 20);
    /* Two failed probes in a row across the two merged intervals: one run of 2. */
    assert_int_equal(t.iv[0].health.longest_failures, 2);
    release(&t);
    sw_accum_free(a);
}

static void
test_too_far_ahead_refused(void **state)
{
    (void)state;
    sw_accum *a;
    sw_err err;
    assert_int_equal(sw_accum_new(BASE, &a, NULL), SW_OK);
    for (int i = 0; i < 64; i++)
        assert_int_equal(sw_accum_add_counts(a, "api", NULL, T0 + i * BASE, 1, 0, NULL), SW_OK);
    assert_int_equal(sw_accum_add_counts(a, "api", NULL, T0 + 64 * BASE, 1, 0, &err), SW_E_RANGE);
    assert_non_null(strstr(err.msg, "too far ahead"));
    sw_accum_free(a);
}

typedef struct worker {
    sw_accum *a;
    const char *env;
} worker;

static void *
add_many(void *arg)
{
    const worker *w = arg;
    for (int i = 0; i < 20000; i++)
        sw_accum_add_counts(w->a, "api", w->env, T0 + (i % 5) * 1000, 1, i % 2, NULL);
    return NULL;
}

static void
test_concurrent_adds(void **state)
{
    (void)state;
    sw_accum *a;
    assert_int_equal(sw_accum_new(BASE, &a, NULL), SW_OK);
    pthread_t th[4];
    worker w[4] = {{a, "blue"}, {a, "blue"}, {a, "green"}, {a, "green"}};
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, add_many, &w[i]);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    taken t = {0};
    assert_int_equal(sw_accum_take(a, T0 + BASE, collect, &t, NULL), SW_OK);
    assert_int_equal(t.n, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(t.iv[i].requests, 40000);
        assert_int_equal(t.iv[i].errors, 20000);
    }
    release(&t);
    sw_accum_free(a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_land_in_their_interval),
        cmocka_unit_test(test_late_increase_carried),
        cmocka_unit_test(test_whole_intervals_merge),
        cmocka_unit_test(test_too_far_ahead_refused),
        cmocka_unit_test(test_concurrent_adds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
