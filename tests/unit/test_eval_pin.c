/*
 * Hours pinned after the fact (sw_eval_pin_hour): a rolling window beyond 2 days that packed an
 * hour from its base intervals and then takes the hour's pinned sum must hold exactly what a
 * window made of the pinned hour from the start holds. The expected histograms are summed here
 * from the intervals the test fed, never read from the evaluator; the pin is the test's own
 * (every value half again as slow), so a pin that is not applied, applied twice or to the wrong
 * hour shows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "slawatch/buf.h"
#include "slawatch/eval.h"
#include "slawatch/eval_ckpt.h"
#include "slawatch/rng.h"
#include "slawatch/rules.h"

#include "eval_int.h"
#include "hdr_assert.h"
#include "random_interval.h"

#define MIN INT64_C(60000)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)
/* 2026-12-01 00:00:00 UTC */
#define START INT64_C(1796083200000)
#define HOURS 4

static const char rules_text[] = "version: 1\n"
                                 "base_interval: 1m\n"
                                 "services:\n"
                                 "  - name: api\n"
                                 "    sli: {requests: {push: true}, errors: {push: true}, "
                                 "latency: {push: true}}\n"
                                 "objectives:\n"
                                 "  - name: p99-3d\n"
                                 "    objective: p99 <= 250ms\n"
                                 "    window: 3d\n"
                                 "  - name: p99-1d\n"
                                 "    objective: p99 <= 250ms\n"
                                 "    window: 1d\n";

typedef struct fx {
    sw_rules *rules;
    sw_eval *ev;
    sw_hdr *fed[HOURS]; /* the latency fed, per hour */
} fx;

/* The test's pin: every value half again as slow, the total kept. */
static sw_status
slower(void *ctx, const void *stats, size_t len, sw_hdr *latency, sw_err *err)
{
    (void)stats;
    (void)len;
    int *calls = ctx;
    sw_hdr *moved = NULL;
    sw_status st = sw_hdr_new(&sw_hdr_latency_config, &moved, err);
    if (st != SW_OK)
        return st;
    sw_hdr_iter it;
    sw_hdr_iter_init(&it, latency);
    while (sw_hdr_iter_next(&it))
        sw_hdr_record_n(moved, it.value_lo * 3 / 2, it.count);
    sw_hdr_reset(latency);
    sw_hdr_add(latency, moved);
    sw_hdr_free(moved);
    (*calls)++;
    return SW_OK;
}

static int
setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    sw_err err = {0};
    assert_int_equal(
        sw_rules_load_mem(rules_text, strlen(rules_text), "test", &f->rules, NULL, &err), SW_OK);
    assert_int_equal(sw_eval_new(f->rules, &f->ev, &err), SW_OK);
    sw_rng rng = {.state = 17};
    for (int hour = 0; hour < HOURS; hour++) {
        assert_int_equal(sw_hdr_new(&sw_hdr_latency_config, &f->fed[hour], &err), SW_OK);
        for (int64_t t = START + hour * HOUR; t < START + (hour + 1) * HOUR; t += MIN) {
            sw_sli_interval iv;
            sw_hdr *h = sw_test_random_interval(&rng, t, MIN, MIN, &iv);
            assert_int_equal(sw_eval_add(f->ev, "api", NULL, &iv, &err), SW_OK);
            if (iv.latency != NULL)
                sw_hdr_add(f->fed[hour], iv.latency);
            sw_hdr_free(h);
            assert_int_equal(sw_eval_advance(f->ev, t + MIN, &err), SW_OK);
        }
    }
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fx *f = *state;
    for (int hour = 0; hour < HOURS; hour++)
        sw_hdr_free(f->fed[hour]);
    sw_eval_free(f->ev);
    sw_rules_free(f->rules);
    free(f);
    return 0;
}

static const sw_lat_window *
window_of(const fx *f, sw_lat_kind kind)
{
    const sw_series *s = sw_eval_find(f->ev, "api", NULL);
    assert_non_null(s);
    for (size_t i = 0; i < s->plan->n_lat; i++)
        if (s->plan->lat[i].kind == kind)
            return &s->lat[i];
    fail_msg("no window of kind %d", (int)kind);
    return NULL;
}

/* The hours [from, HOURS) as fed, hour `pinned` through the test's pin. */
static sw_hdr *
expected(const fx *f, int from, int pinned)
{
    sw_hdr *sum = NULL, *one = NULL;
    assert_int_equal(sw_hdr_new(&sw_hdr_latency_config, &sum, NULL), SW_OK);
    int calls = 0;
    for (int hour = from; hour < HOURS; hour++) {
        one = sw_hdr_clone(f->fed[hour]);
        assert_non_null(one);
        if (hour == pinned)
            assert_int_equal(slower(&calls, NULL, 0, one, NULL), SW_OK);
        sw_hdr_add(sum, one);
        sw_hdr_free(one);
    }
    return sum;
}

static void
pin(fx *f, int64_t hour_ms, bool want_done, int want_calls)
{
    sw_err err = {0};
    bool done = !want_done;
    int calls = 0;
    assert_int_equal(
        sw_eval_pin_hour(f->ev, "api", NULL, hour_ms, slower, &calls, "", 0, &done, &err), SW_OK);
    assert_int_equal(done, want_done);
    assert_int_equal(calls, want_calls);
}

static void
test_pinned_hour_replaces_packed(void **state)
{
    fx *f = *state;
    sw_hdr *sliding = sw_hdr_clone(window_of(f, SW_LAT_SLIDING)->acc);
    int64_t total = sw_hdr_total_count(window_of(f, SW_LAT_HOURLY)->acc);
    pin(f, START + HOUR, true, 1);
    sw_hdr *want = expected(f, 0, 1);
    assert_same_buckets(window_of(f, SW_LAT_HOURLY)->acc, want);
    assert_int_equal(sw_hdr_total_count(window_of(f, SW_LAT_HOURLY)->acc), total);
    /* windows up to 2 days keep their base intervals */
    assert_same_buckets(window_of(f, SW_LAT_SLIDING)->acc, sliding);
    sw_hdr_free(want);
    sw_hdr_free(sliding);
}

static void
test_hour_still_gathered_waits(void **state)
{
    fx *f = *state;
    sw_hdr *before = sw_hdr_clone(window_of(f, SW_LAT_HOURLY)->acc);
    pin(f, START + (HOURS - 1) * HOUR, false, 0);
    assert_same_buckets(window_of(f, SW_LAT_HOURLY)->acc, before);
    sw_hdr_free(before);
}

/* The pinned hour leaves the window as the pinned sum: what stays is the later hours, exactly. */
static void
test_pinned_hour_leaves_whole(void **state)
{
    fx *f = *state;
    sw_err err = {0};
    pin(f, START + HOUR, true, 1);
    assert_int_equal(sw_eval_advance(f->ev, START + 3 * DAY + 2 * HOUR, &err), SW_OK);
    sw_hdr *want = expected(f, 2, -1);
    assert_same_buckets(window_of(f, SW_LAT_HOURLY)->acc, want);
    sw_hdr_free(want);
}

/* A pinned hour is packed like any other: the checkpoint keeps it as pinned. */
static void
test_pinned_hour_survives_checkpoint(void **state)
{
    fx *f = *state;
    sw_err err = {0};
    pin(f, START + HOUR, true, 1);
    sw_buf saved;
    sw_buf_init(&saved, (size_t)1 << 28);
    assert_int_equal(sw_eval_ckpt_save(f->ev, &saved, &err), SW_OK);
    sw_eval_free(f->ev);
    f->ev = NULL;
    assert_int_equal(sw_eval_ckpt_load(f->rules, saved.data, saved.len, &f->ev, &err), SW_OK);
    sw_buf_fini(&saved);
    sw_hdr *want = expected(f, 0, 1);
    assert_same_buckets(window_of(f, SW_LAT_HOURLY)->acc, want);
    sw_hdr_free(want);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pinned_hour_replaces_packed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hour_still_gathered_waits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pinned_hour_leaves_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pinned_hour_survives_checkpoint, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
