/*
 * Hours pinned after the fact (sw_eval_pin_hour): a rolling window that packed an hour from its
 * base intervals (beyond 2 days, or of an hour or more up to 2 days) and then takes the hour's
 * pinned sum must hold exactly what a window made of the pinned hour from the start holds; a
 * window up to 2 days keeps its partial edge hours as base intervals, so when its old edge
 * moves into a pinned hour the pinned sum leaves and the hour's intervals still inside come
 * back. The expected histograms are summed here from the intervals the test fed, never read
 * from the evaluator; the pin is the test's own (every value half again as slow), so a pin that
 * is not applied, applied twice or to the wrong hour shows.
 *
 * Windows pinned whole (sw_eval_pin_window): a sliding window of more than an hour pinned at the
 * minute it ends answers, while it ends there, the test's own sum of the minutes it holds
 * conformed to CloudWatch-style statistics (sw_cwpct_conform through the store's pin function),
 * bucket for bucket; its sum and totals stay the minutes'; it answers its sum again once it
 * moves on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "slawatch/buf.h"
#include "slawatch/cwpct.h"
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

/* Both the hourly-packed and the sliding window hold expected(f, from, pinned), bucket for
 * bucket. */
static void
assert_windows_hold(const fx *f, int from, int pinned)
{
    sw_hdr *want = expected(f, from, pinned);
    assert_same_buckets(window_of(f, SW_LAT_HOURLY)->acc, want);
    assert_same_buckets(window_of(f, SW_LAT_SLIDING)->acc, want);
    sw_hdr_free(want);
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

/* Both windows (3 d and 1 d) hold the hour whole: each takes the pin. */
static void
test_pinned_hour_replaces_packed(void **state)
{
    fx *f = *state;
    int64_t total = sw_hdr_total_count(window_of(f, SW_LAT_HOURLY)->acc);
    pin(f, START + HOUR, true, 2);
    sw_hdr *want = expected(f, 0, 1);
    assert_same_buckets(window_of(f, SW_LAT_HOURLY)->acc, want);
    assert_same_buckets(window_of(f, SW_LAT_SLIDING)->acc, want);
    assert_int_equal(sw_hdr_total_count(window_of(f, SW_LAT_HOURLY)->acc), total);
    assert_int_equal(sw_hdr_total_count(window_of(f, SW_LAT_SLIDING)->acc), total);
    sw_hdr_free(want);
}

/* An hour the evaluation has not passed the end of is still being gathered: its pin waits. */
static void
test_hour_still_gathered_waits(void **state)
{
    fx *f = *state;
    sw_err err = {0};
    sw_rng rng = {.state = 5};
    sw_sli_interval iv;
    sw_hdr *h = sw_test_random_interval(&rng, START + HOURS * HOUR, MIN, MIN, &iv);
    assert_int_equal(sw_eval_add(f->ev, "api", NULL, &iv, &err), SW_OK);
    sw_hdr_free(h);
    assert_int_equal(sw_eval_advance(f->ev, START + HOURS * HOUR + MIN, &err), SW_OK);
    sw_hdr *before = sw_hdr_clone(window_of(f, SW_LAT_HOURLY)->acc);
    pin(f, START + HOURS * HOUR, false, 0);
    assert_same_buckets(window_of(f, SW_LAT_HOURLY)->acc, before);
    sw_hdr_free(before);
}

/* An hour the evaluation has just passed the end of is packed in every window: pinned at once. */
static void
test_hour_ended_is_pinned(void **state)
{
    fx *f = *state;
    pin(f, START + (HOURS - 1) * HOUR, true, 2);
    assert_windows_hold(f, 0, HOURS - 1);
}

/* The pinned hour leaves the window as the pinned sum: what stays is the later hours, exactly. */
static void
test_pinned_hour_leaves_whole(void **state)
{
    fx *f = *state;
    sw_err err = {0};
    pin(f, START + HOUR, true, 2);
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
    pin(f, START + HOUR, true, 2);
    sw_buf saved;
    sw_buf_init(&saved, (size_t)1 << 28);
    assert_int_equal(sw_eval_ckpt_save(f->ev, &saved, &err), SW_OK);
    sw_eval_free(f->ev);
    f->ev = NULL;
    assert_int_equal(sw_eval_ckpt_load(f->rules, saved.data, saved.len, &f->ev, &err), SW_OK);
    sw_buf_fini(&saved);
    assert_windows_hold(f, 0, 1);
}

/* A second pin of the same hour (a reload's queue, a start's re-pin) leaves it as it is. */
static void
test_pin_twice_is_once(void **state)
{
    fx *f = *state;
    pin(f, START + HOUR, true, 2);
    pin(f, START + HOUR, true, 0);
    assert_windows_hold(f, 0, 1);
}

/*
 * An hour fed as one interval is a stored hourly row (as a rebuild after a reload feeds them),
 * pinned where it was stored: a pin still queued for it leaves it as it is.
 */
static void
test_stored_hour_row_left_as_it_is(void **state)
{
    fx *f = *state;
    sw_err err = {0};
    sw_eval_free(f->ev);
    assert_int_equal(sw_eval_new(f->rules, &f->ev, &err), SW_OK);
    for (int hour = 0; hour < HOURS; hour++) {
        sw_sli_interval iv = {.start_ms = START + hour * HOUR,
                              .length_ms = HOUR,
                              .requests = (uint64_t)sw_hdr_total_count(f->fed[hour]),
                              .latency = f->fed[hour],
                              .has_data = true};
        assert_int_equal(sw_eval_add(f->ev, "api", NULL, &iv, &err), SW_OK);
        assert_int_equal(sw_eval_advance(f->ev, START + (hour + 1) * HOUR, &err), SW_OK);
    }
    pin(f, START + HOUR, true, 0);
    assert_int_equal(sw_eval_advance(f->ev, START + HOURS * HOUR, &err), SW_OK);
    assert_windows_hold(f, 0, -1);
}

/* ------------------------------------------------------------------ a 2-hour window's edges */

#define EDGE_HOURS 5
#define EDGE_MINUTES (EDGE_HOURS * 60)
#define EDGE_WINDOW (2 * HOUR)
_Static_assert(START % DAY == 0, "START is a month's first instant (2026-12-01)");

static const char edge_rules_text[] = "version: 1\n"
                                      "base_interval: 1m\n"
                                      "services:\n"
                                      "  - name: api\n"
                                      "    sli: {requests: {push: true}, errors: {push: true}, "
                                      "latency: {push: true}}\n"
                                      "objectives:\n"
                                      "  - name: p99-2h\n"
                                      "    objective: p99 <= 250ms\n"
                                      "    window: 2h\n"
                                      "  - name: p99-month\n"
                                      "    objective: p99 <= 250ms\n"
                                      "    window: month\n";

typedef struct edge_fx {
    sw_rules *rules;
    sw_eval *ev;
    sw_hdr *minute[EDGE_MINUTES]; /* the latency fed, per minute (NULL: none) */
    sw_hdr *pinned[EDGE_HOURS];   /* an hour's minutes through the test's pin, once pinned */
} edge_fx;

/* What (from, to] must hold: pinned hours lying wholly inside as pinned, the rest as fed. */
static sw_hdr *
edge_expected(const edge_fx *f, int64_t from, int64_t to_ms, int64_t *ret_total)
{
    sw_hdr *sum = NULL;
    assert_int_equal(sw_hdr_new(&sw_hdr_latency_config, &sum, NULL), SW_OK);
    *ret_total = 0;
    for (int hour = 0; hour < EDGE_HOURS; hour++) {
        int64_t hour_ms = START + hour * HOUR;
        bool whole = hour_ms >= from && hour_ms + HOUR <= to_ms;
        if (whole && f->pinned[hour] != NULL)
            sw_hdr_add(sum, f->pinned[hour]);
        for (int m = hour * 60; m < (hour + 1) * 60; m++) {
            int64_t start = START + m * MIN;
            if (start < from || start + MIN > to_ms || f->minute[m] == NULL)
                continue;
            *ret_total += sw_hdr_total_count(f->minute[m]);
            if (!(whole && f->pinned[hour] != NULL))
                sw_hdr_add(sum, f->minute[m]);
        }
    }
    return sum;
}

/* The 2-hour window, and the month so far (START is a month's first instant). */
static void
edge_check(const edge_fx *f, int64_t to_ms)
{
    const sw_series *s = sw_eval_find(f->ev, "api", NULL);
    assert_non_null(s);
    assert_int_equal(s->plan->n_lat, 2);
    for (size_t i = 0; i < 2; i++) {
        bool month = s->plan->lat[i].kind == SW_LAT_MONTH;
        int64_t total;
        sw_hdr *want = edge_expected(f, month ? START : to_ms - EDGE_WINDOW, to_ms, &total);
        assert_same_buckets(s->lat[i].acc, want);
        assert_int_equal(sw_hdr_total_count(s->lat[i].acc), total);
        sw_hdr_free(want);
    }
}

/* Pin hour h into the evaluator and into the test's own copy. */
static void
edge_pin(edge_fx *f, int hour)
{
    sw_err err = {0};
    bool done = false;
    int calls = 0;
    assert_int_equal(sw_eval_pin_hour(f->ev, "api", NULL, START + hour * HOUR, slower, &calls, "",
                                      0, &done, &err),
                     SW_OK);
    assert_true(done);
    assert_int_equal(calls, 2); /* the 2-hour window and the month */
    assert_int_equal(sw_hdr_new(&sw_hdr_latency_config, &f->pinned[hour], &err), SW_OK);
    for (int m = hour * 60; m < (hour + 1) * 60; m++)
        if (f->minute[m] != NULL)
            sw_hdr_add(f->pinned[hour], f->minute[m]);
    assert_int_equal(slower(&calls, NULL, 0, f->pinned[hour], NULL), SW_OK);
}

/* The evaluator saved and loaded again: the window packs hours where it did. */
static void
edge_reload(edge_fx *f)
{
    sw_err err = {0};
    sw_buf saved;
    sw_buf_init(&saved, (size_t)1 << 28);
    assert_int_equal(sw_eval_ckpt_save(f->ev, &saved, &err), SW_OK);
    sw_eval_free(f->ev);
    f->ev = NULL;
    assert_int_equal(sw_eval_ckpt_load(f->rules, saved.data, saved.len, &f->ev, &err), SW_OK);
    sw_buf_fini(&saved);
}

static void
edge_advance(edge_fx *f, int64_t to_ms)
{
    sw_err err = {0};
    assert_int_equal(sw_eval_advance(f->ev, to_ms, &err), SW_OK);
    edge_check(f, to_ms);
}

/*
 * Minutes fed one by one, each hour pinned as soon as it has ended (the hour just ended and the
 * one before it are whole in the window then); every minute the windows equal the test's sums,
 * so the old edge has moved into pinned hours (their pinned sum out, their later minutes in)
 * and out of them again, a checkpoint round trip on the way. Then the window moves on without
 * data in uneven steps until empty.
 */
static void
test_short_window_pinned_through_edges(void **state)
{
    (void)state;
    edge_fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    sw_err err = {0};
    assert_int_equal(
        sw_rules_load_mem(edge_rules_text, strlen(edge_rules_text), "test", &f->rules, NULL, &err),
        SW_OK);
    assert_int_equal(sw_eval_new(f->rules, &f->ev, &err), SW_OK);
    sw_rng rng = {.state = 29};
    for (int m = 0; m < EDGE_MINUTES; m++) {
        sw_sli_interval iv;
        sw_hdr *h = sw_test_random_interval(&rng, START + m * MIN, MIN, MIN, &iv);
        assert_int_equal(sw_eval_add(f->ev, "api", NULL, &iv, &err), SW_OK);
        f->minute[m] = iv.latency != NULL ? sw_hdr_clone(iv.latency) : NULL;
        sw_hdr_free(h);
        if (m == 150)
            edge_reload(f);
        edge_advance(f, START + (m + 1) * MIN);
        if ((m + 1) % 60 == 0 && m / 60 != 2) { /* hour 2 stays its minutes' sum */
            edge_pin(f, m / 60);
            edge_check(f, START + (m + 1) * MIN);
        }
    }
    for (int64_t to = START + EDGE_MINUTES * MIN + 7 * MIN;
         to <= START + EDGE_MINUTES * MIN + EDGE_WINDOW + 13 * MIN; to += 13 * MIN)
        edge_advance(f, to);
    for (int m = 0; m < EDGE_MINUTES; m++)
        sw_hdr_free(f->minute[m]);
    for (int h = 0; h < EDGE_HOURS; h++)
        sw_hdr_free(f->pinned[h]);
    sw_eval_free(f->ev);
    sw_rules_free(f->rules);
    free(f);
}

/* ------------------------------------------------------------------ windows pinned whole */

#define VIEW_MINUTES 200
#define VIEW_WINDOW (6 * HOUR)

static const char view_rules_text[] = "version: 1\n"
                                      "base_interval: 1m\n"
                                      "services:\n"
                                      "  - name: api\n"
                                      "    sli: {requests: {push: true}, errors: {push: true}, "
                                      "latency: {push: true}}\n"
                                      "objectives:\n"
                                      "  - name: p99-6h\n"
                                      "    objective: p99 <= 250ms\n"
                                      "    window: 6h\n";

typedef struct view_fx {
    sw_rules *rules;
    sw_eval *ev;
    sw_hdr *minute[VIEW_MINUTES];
    int64_t to_ms; /* where the evaluator has advanced to */
    uint8_t stats[SW_CWPCT_WINDOW_MAX_BYTES];
    size_t len;
} view_fx;

static void
view_advance(view_fx *f, int64_t to_ms)
{
    sw_err err = {0};
    for (int m = (int)((f->to_ms - START) / MIN); m < VIEW_MINUTES && START + m * MIN < to_ms;
         m++) {
        sw_sli_interval iv;
        sw_rng rng = {.state = 41 + (uint64_t)m};
        sw_hdr *h = sw_test_random_interval(&rng, START + m * MIN, MIN, MIN, &iv);
        assert_int_equal(sw_eval_add(f->ev, "api", NULL, &iv, &err), SW_OK);
        f->minute[m] = iv.latency != NULL ? sw_hdr_clone(iv.latency) : NULL;
        sw_hdr_free(h);
    }
    assert_int_equal(sw_eval_advance(f->ev, to_ms, &err), SW_OK);
    f->to_ms = to_ms;
}

/* The test's own sum of the minutes in [to - 6 h, to). */
static sw_hdr *
view_sum(const view_fx *f, int64_t to_ms)
{
    sw_hdr *sum = NULL;
    assert_int_equal(sw_hdr_new(&sw_hdr_latency_config, &sum, NULL), SW_OK);
    for (int m = 0; m < VIEW_MINUTES; m++) {
        int64_t start = START + m * MIN;
        if (start >= to_ms - VIEW_WINDOW && start + MIN <= to_ms && f->minute[m] != NULL)
            sw_hdr_add(sum, f->minute[m]);
    }
    return sum;
}

/*
 * Statistics of the window as one period that differ from its sum's (every value a tenth
 * slower, the 250 ms share a point lower), so a view not applied, or applied to the wrong
 * sum, shows.
 */
static void
view_stats(view_fx *f, const sw_hdr *sum)
{
    sw_cwpct_point pts[SW_CWPCT_WINDOW_MAX_POINTS];
    size_t n = 0;
    for (size_t i = 0; i < sw_cwpct_grid_len; i++)
        pts[n++] =
            (sw_cwpct_point){sw_cwpct_grid[i],
                             1.1 * (double)sw_hdr_value_at_percentile(sum, sw_cwpct_grid[i]) / 1e3};
    double total = (double)sw_hdr_total_count(sum);
    sw_cwpct_rank rank = {250.0, sw_hdr_percentile_of_value(sum, 250000) - 1.0};
    sw_cwpct_period p = {.points = pts,
                         .n_points = n,
                         .ranks = &rank,
                         .n_ranks = 1,
                         .sample_count = total,
                         .min = 1.1 * (double)sw_hdr_min(sum) / 1e3,
                         .max = 1.1 * (double)sw_hdr_max(sum) / 1e3,
                         .unit_us = 1e3,
                         .sum = NAN};
    sw_err err = {0};
    assert_int_equal(sw_cwpct_window_encode(&p, f->stats, &f->len, &err), SW_OK);
}

static const sw_lat_window *
view_window(const view_fx *f)
{
    const sw_series *s = sw_eval_find(f->ev, "api", NULL);
    assert_non_null(s);
    assert_int_equal(s->plan->n_lat, 1);
    return &s->lat[0];
}

static bool
view_pin(view_fx *f, int64_t end_ms)
{
    sw_err err = {0};
    bool done = false;
    assert_int_equal(sw_eval_pin_window(f->ev, "api", NULL, VIEW_WINDOW, end_ms,
                                        sw_cwpct_pin_stored, NULL, f->stats, f->len, &done, &err),
                     SW_OK);
    return done;
}

/* The window answers its sum (unpinned) or its sum conformed to f's statistics, and its own
 * sum and total are the minutes' either way. */
static void
view_check(const view_fx *f, bool pinned)
{
    const sw_lat_window *w = view_window(f);
    sw_hdr *sum = view_sum(f, f->to_ms);
    assert_same_buckets(w->acc, sum);
    if (pinned) {
        sw_cwpct_window dec;
        sw_err err = {0};
        assert_int_equal(sw_cwpct_window_decode(f->stats, f->len, &dec, &err), SW_OK);
        int64_t total = sw_hdr_total_count(sum);
        assert_int_equal(sw_cwpct_conform(sum, &dec.period, &err), SW_OK);
        assert_int_equal(sw_hdr_total_count(sum), total);
        assert_int_not_equal(sw_hdr_value_at_percentile(w->acc, 99.0),
                             sw_hdr_value_at_percentile(sum, 99.0));
    }
    assert_same_buckets(sw_window_latency(w), sum);
    assert_int_equal(sw_hdr_total_count(sw_window_latency(w)), sw_hdr_total_count(w->acc));
    sw_hdr_free(sum);
}

static void
view_setup(view_fx *f)
{
    sw_err err = {0};
    assert_int_equal(
        sw_rules_load_mem(view_rules_text, strlen(view_rules_text), "test", &f->rules, NULL, &err),
        SW_OK);
    assert_int_equal(sw_eval_new(f->rules, &f->ev, &err), SW_OK);
    f->to_ms = START;
}

static void
view_teardown(view_fx *f)
{
    for (int m = 0; m < VIEW_MINUTES; m++)
        sw_hdr_free(f->minute[m]);
    sw_eval_free(f->ev);
    sw_rules_free(f->rules);
}

/* f set up and advanced to end, the window's statistics made from the test's own sum there. */
static void
view_ready(view_fx *f, int64_t end)
{
    view_setup(f);
    view_advance(f, end);
    sw_hdr *sum = view_sum(f, end);
    view_stats(f, sum);
    sw_hdr_free(sum);
}

/*
 * Pinned at a minute that is not on the hour: the window answers its conformed sum, also after
 * evaluating again at the same time; the next minute it answers its sum again; statistics for an
 * end it has not reached wait (not done, nothing applied); for an end it has passed, nothing.
 */
static void
test_window_pinned_whole_is_a_view(void **state)
{
    (void)state;
    view_fx f = {0};
    int64_t end = START + 157 * MIN;
    view_ready(&f, end);
    assert_false(view_pin(&f, end + MIN)); /* not there yet: waits */
    view_check(&f, false);
    assert_true(view_pin(&f, end));
    view_check(&f, true);
    sw_err err = {0};
    assert_int_equal(sw_eval_advance(f.ev, end, &err), SW_OK); /* evaluated again, same end */
    view_check(&f, true);
    view_advance(&f, end + MIN);
    view_check(&f, false);
    assert_true(view_pin(&f, end)); /* moved past it: nothing */
    view_check(&f, false);
    view_teardown(&f);
}

/* The view holds while the window ends there and only then: a pinned hour taken in at the same
 * end changes the sum, so the window answers the new sum, not a stale view. */
static void
test_window_view_gives_way_to_a_changed_sum(void **state)
{
    (void)state;
    view_fx f = {0};
    int64_t end = START + 3 * HOUR;
    view_ready(&f, end);
    assert_true(view_pin(&f, end));
    view_check(&f, true);
    bool done = false;
    int calls = 0;
    sw_err err = {0};
    assert_int_equal(
        sw_eval_pin_hour(f.ev, "api", NULL, START + HOUR, slower, &calls, "", 0, &done, &err),
        SW_OK);
    assert_true(done);
    assert_int_equal(calls, 1);
    const sw_lat_window *w = view_window(&f);
    assert_ptr_equal(sw_window_latency(w), w->acc);
    view_teardown(&f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pinned_hour_replaces_packed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hour_still_gathered_waits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hour_ended_is_pinned, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pinned_hour_leaves_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pinned_hour_survives_checkpoint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pin_twice_is_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stored_hour_row_left_as_it_is, setup, teardown),
        cmocka_unit_test(test_short_window_pinned_through_edges),
        cmocka_unit_test(test_window_pinned_whole_is_a_view),
        cmocka_unit_test(test_window_view_gives_way_to_a_changed_sum),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
