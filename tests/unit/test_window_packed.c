/*
 * Short sliding latency windows read from their packed intervals (evaluator/window_packed.c):
 * whatever the intervals, every answer equals what a dense histogram of the same intervals,
 * built here from the histograms the test fed, gives: the window's total, its value at every
 * percentile (0 and 100 included), each alert's, trigger's and objective's measured value and
 * whether its condition holds (two conditions on one window's p95 read it once). The intervals are random and adversarial: values in the
 * thresholds' buckets and at their edges, intervals without data or without latency, gaps,
 * maintenance (left out of the objective's window, kept in the alerts'), intervals fed after
 * their boundary was evaluated, advances that jump several boundaries, histograms of finer and
 * wider layouts (values the latency layout cannot hold are not counted), and the evaluator
 * saved and loaded again along the way (a restart from its checkpoint).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "slawatch/eval.h"
#include "slawatch/eval_ckpt.h"
#include "slawatch/hdr.h"
#include "slawatch/rng.h"
#include "slawatch/rules.h"

#include "eval_int.h"

#define SEC INT64_C(1000)
#define MIN (60 * SEC)
#define BASE (10 * SEC)
/* 2026-12-06 00:00:00 UTC */
#define START INT64_C(1796515200000)
#define MAINT_FROM (START + 20 * MIN)
#define MAINT_TO (START + 26 * MIN)
#define STEPS 720 /* two hours of base intervals */
#define MAX_IVS (STEPS + 8)

/* p95 > 800 ms: 800,000 us is inside a bucket of the latency layout (width 512 there). */
#define P95_US 800000
#define P99_US 1000000
#define P50_US 100000

static const char rules_text[] = "version: 1\n"
                                 "base_interval: 10s\n"
                                 "min_requests: 1\n"
                                 "services:\n"
                                 "  - name: api\n"
                                 "    environments: [blue, green]\n"
                                 "    sli: {requests: {push: true}, errors: {push: true}, "
                                 "latency: {push: true}}\n"
                                 "    maintenance:\n"
                                 "      - start: 2026-12-06T00:20:00Z\n"
                                 "        end: 2026-12-06T00:26:00Z\n"
                                 "        reason: test\n"
                                 "objectives:\n"
                                 "  - name: p95-5m\n"
                                 "    objective: p95 <= 800ms\n"
                                 "    window: 5m\n"
                                 "alerts:\n"
                                 "  - name: P95\n"
                                 "    when: p95 > 800ms\n"
                                 "  - name: P50\n"
                                 "    when: p50 > 100ms\n"
                                 "    over: 30s\n"
                                 "  - name: P999\n"
                                 "    when: p99.9 >= 1s\n"
                                 "    over: 3m\n"
                                 "rollback_triggers:\n"
                                 "  - name: P99\n"
                                 "    when: p99 > 1s\n"
                                 "  - name: P95Spike\n"
                                 "    when: p95 > 2s\n";

static const char *const envs[] = {"blue", "green"};
#define N_ENVS 2

/* What the test fed a series: each interval's span, requests and latency (a histogram of the
 * latency layout holding what the evaluator is to count of it; NULL: none), in start order. */
typedef struct fed {
    int64_t start[MAX_IVS], end[MAX_IVS];
    uint64_t requests[MAX_IVS];
    sw_hdr *lat[MAX_IVS];
    size_t n;
} fed;

typedef struct fx {
    sw_rules *rules;
    sw_eval *ev;
    sw_rng rng;
    fed fed[N_ENVS];
    sw_sli_interval held[N_ENVS]; /* an interval held back, fed after its boundary */
    sw_hdr *held_truth[N_ENVS];
    bool holding[N_ENVS];
    int checks;
} fx;

static int
setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    sw_err err = {0};
    assert_int_equal(
        sw_rules_load_mem(rules_text, strlen(rules_text), "test", &f->rules, NULL, &err), SW_OK);
    assert_int_equal(sw_eval_new(f->rules, &f->ev, &err), SW_OK);
    f->rng.state = 20261207;
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fx *f = *state;
    for (int e = 0; e < N_ENVS; e++) {
        for (size_t i = 0; i < f->fed[e].n; i++)
            sw_hdr_free(f->fed[e].lat[i]);
        if (f->holding[e]) {
            sw_sli_interval_fini(&f->held[e]);
            sw_hdr_free(f->held_truth[e]);
        }
    }
    sw_eval_free(f->ev);
    sw_rules_free(f->rules);
    free(f);
    return 0;
}

static sw_hdr *
dense(void)
{
    sw_hdr *h;
    assert_int_equal(sw_hdr_new_dense(&sw_hdr_latency_config, &h, NULL), SW_OK);
    return h;
}

static sw_hdr *
compact(void)
{
    sw_hdr *h;
    assert_int_equal(sw_hdr_new(&sw_hdr_latency_config, &h, NULL), SW_OK);
    return h;
}

/* Values around a threshold: in its bucket, at the bucket's edges and the buckets beside. */
static int64_t
near(sw_rng *rng, const sw_hdr *layout, int64_t threshold)
{
    int64_t lo = sw_hdr_lowest_equivalent(layout, threshold);
    int64_t hi = sw_hdr_highest_equivalent(layout, threshold);
    switch (sw_rng_next(rng) % 6) {
    case 0:
        return lo;
    case 1:
        return hi;
    case 2:
        return lo - 1;
    case 3:
        return hi + 1;
    case 4:
        return threshold;
    default:
        return lo + (int64_t)(sw_rng_next(rng) % (uint64_t)(hi - lo + 1));
    }
}

/* One value of an interval: log-normal around a median that moves, or near a threshold. */
static int64_t
value(sw_rng *rng, const sw_hdr *layout, double median)
{
    static const int64_t thresholds[] = {P95_US, P99_US, P50_US};
    if (sw_rng_next(rng) % 4 == 0)
        return near(rng, layout, thresholds[sw_rng_next(rng) % 3]);
    return sw_rng_lognormal_us(rng, median, 0.9);
}

/*
 * An interval's latency in the layout cfg, and what the evaluator counts of it into truth: each
 * recorded bucket's lowest value, as merging into the latency layout records it (a value the
 * latency layout cannot hold is not counted).
 */
static sw_hdr *
latency(sw_rng *rng, const sw_hdr_config *cfg, int64_t values, double median, sw_hdr *truth)
{
    sw_hdr *h;
    assert_int_equal(sw_hdr_new(cfg, &h, NULL), SW_OK);
    for (int64_t i = 0; i < values; i++)
        sw_hdr_record(h, value(rng, truth, median));
    if (cfg->highest_trackable_value > sw_hdr_latency_config.highest_trackable_value &&
        values > 0)
        sw_hdr_record_n(h, sw_hdr_latency_config.highest_trackable_value * 3, 1 + values / 50);
    sw_hdr_iter it;
    sw_hdr_iter_init(&it, h);
    while (sw_hdr_iter_next(&it))
        sw_hdr_record_n(truth, it.value_lo, it.count);
    return h;
}

/* The interval of series e at start, random; false for a gap (nothing to feed). */
static bool
make_interval(fx *f, int e, int64_t start, sw_sli_interval *iv, sw_hdr **ret_truth)
{
    static const sw_hdr_config finer = {1, INT64_C(3600000000), 4};
    static const sw_hdr_config wider = {1, INT64_C(36000000000), 3};
    sw_rng *rng = &f->rng;
    uint64_t pick = sw_rng_next(rng) % 16;
    *ret_truth = NULL;
    if (pick == 0)
        return false; /* a gap */
    *iv = (sw_sli_interval){.start_ms = start, .length_ms = BASE, .has_data = pick != 1};
    if (!iv->has_data)
        return true;
    iv->requests = 1 + sw_rng_next(rng) % 300;
    if (pick == 2)
        return true; /* requests without latency */
    /* A slow stretch now and then, so conditions hold and stop holding. */
    double median = ((start - START) / (7 * MIN)) % 3 == 1 ? 600000.0 : 60000.0;
    int64_t values = pick == 3 ? 1 : pick == 4 ? 0 : (int64_t)(sw_rng_next(rng) % 400);
    const sw_hdr_config *cfg = pick == 5   ? &finer
                               : pick == 6 ? &wider
                                           : &sw_hdr_latency_config;
    sw_hdr *truth = compact();
    iv->latency = latency(rng, cfg, values, median * (e == 0 ? 1.0 : 1.3), truth);
    *ret_truth = truth;
    return true;
}

static void
feed(fx *f, int e, sw_sli_interval *iv, sw_hdr *truth)
{
    sw_err err = {0};
    assert_int_equal(sw_eval_add(f->ev, "api", envs[e], iv, &err), SW_OK);
    fed *d = &f->fed[e];
    assert_true(d->n < MAX_IVS);
    d->start[d->n] = iv->start_ms;
    d->end[d->n] = iv->start_ms + iv->length_ms;
    d->requests[d->n] = iv->has_data ? iv->requests : 0;
    d->lat[d->n] = iv->latency != NULL && sw_hdr_total_count(iv->latency) > 0 ? truth : NULL;
    if (d->lat[d->n] == NULL)
        sw_hdr_free(truth);
    d->n++;
    sw_sli_interval_fini(iv);
}

/* The dense histogram of series e's intervals inside (to - length, to], maintenance left out
 * when excl_maint. */
static sw_hdr *
truth_of(const fx *f, int e, int64_t length, int64_t to, bool excl_maint)
{
    const fed *d = &f->fed[e];
    sw_hdr *h = dense();
    for (size_t i = d->n; i-- > 0 && d->start[i] >= to - length;) {
        bool maint = d->start[i] < MAINT_TO && d->end[i] > MAINT_FROM;
        if (d->lat[i] != NULL && d->end[i] <= to && !(excl_maint && maint))
            sw_hdr_add(h, d->lat[i]);
    }
    return h;
}

static const double percentiles[] = {0.0,  1e-9, 0.1,  1.0,  25.0,  49.999, 50.0,    50.001,
                                     75.0, 90.0, 95.0, 99.0, 99.9,  99.99,  99.9999, 100.0};

/* Every window of series e read from packed intervals, against its dense histogram. */
static void
check_windows(fx *f, int e)
{
    const sw_series *s = sw_eval_find(f->ev, "api", envs[e]);
    if (s == NULL)
        return;
    sw_hdr *layout = dense();
    size_t packed = 0;
    for (size_t i = 0; i < s->plan->n_lat; i++) {
        const sw_lat_window *w = &s->lat[i];
        const sw_lat_spec *spec = &s->plan->lat[i];
        if (w->packed == NULL || w->to_ms == INT64_MIN)
            continue;
        packed++;
        assert_null(w->acc);
        sw_hdr *truth = truth_of(f, e, spec->length_ms, w->to_ms, spec->excl_maint);
        assert_int_equal(sw_packed_total(w), sw_hdr_total_count(truth));
        for (size_t k = 0; k < sizeof percentiles / sizeof *percentiles; k++) {
            assert_int_equal(sw_packed_percentile(w, &s->hist, layout, percentiles[k], NULL),
                             sw_hdr_value_at_percentile(truth, percentiles[k]));
            f->checks++;
        }
        sw_hdr_free(truth);
    }
    assert_int_equal(packed, s->plan->n_lat); /* 1m, 30s, 3m and the objective's 5m */
    sw_hdr_free(layout);
}

/* A condition's measured value over its window, from the dense histogram; NAN without data
 * (no requests, or no latency). */
static double
expected(const fx *f, int e, int64_t length, int64_t to, bool excl_maint, double percentile)
{
    const fed *d = &f->fed[e];
    bool requests = false;
    for (size_t i = d->n; i-- > 0 && d->start[i] >= to - length;) {
        bool maint = d->start[i] < MAINT_TO && d->end[i] > MAINT_FROM;
        requests |= d->requests[i] > 0 && d->end[i] <= to && !(excl_maint && maint);
    }
    sw_hdr *truth = truth_of(f, e, length, to, excl_maint);
    double v = NAN;
    if (requests && sw_hdr_total_count(truth) > 0)
        v = (double)sw_hdr_value_at_percentile(truth, percentile);
    sw_hdr_free(truth);
    return v;
}

static void
assert_measured(double got, double want)
{
    if (isnan(want))
        assert_true(isnan(got));
    else
        assert_true(got == want);
}

/* Alerts, trigger and objective: measured as the dense histogram says, and held accordingly. */
static void
check_results(fx *f, int e, int64_t now)
{
    sw_series_result r = {0};
    bool found = false;
    for (size_t i = 0; i < sw_eval_series_count(f->ev) && !found; i++) {
        sw_eval_series(f->ev, i, &r);
        found = r.env != NULL && strcmp(r.env, envs[e]) == 0;
    }
    if (!found)
        return;
    int64_t t = now - now % BASE;
    static const struct {
        int64_t length;
        double percentile, threshold;
        bool or_equal;
    } alerts[] = {{MIN, 95.0, P95_US, false}, {30 * SEC, 50.0, P50_US, false},
                  {3 * MIN, 99.9, P99_US, true}};
    for (size_t a = 0; a < 3; a++) {
        double want = expected(f, e, alerts[a].length, t, false, alerts[a].percentile);
        assert_measured(r.alerts[a].measured, want);
        bool holds = !isnan(want) && (alerts[a].or_equal ? want >= alerts[a].threshold
                                                         : want > alerts[a].threshold);
        assert_true((r.alerts[a].state == SW_ALERT_FIRING) == holds);
    }
    const sw_series *s = sw_eval_find(f->ev, "api", envs[e]);
    double want = expected(f, e, MIN, t, false, 99.0);
    if (s->deployed_ms == INT64_MIN) {
        assert_measured(s->trigger_states[0].measured, want);
        assert_true((s->trigger_states[0].state == SW_ALERT_FIRING) ==
                    (!isnan(want) && want > P99_US));
        /* The alert's window and percentile: read once in the advance, answered to both. */
        want = expected(f, e, MIN, t, false, 95.0);
        assert_measured(s->trigger_states[1].measured, want);
        assert_true((s->trigger_states[1].state == SW_ALERT_FIRING) ==
                    (!isnan(want) && want > 2 * P99_US));
    }
    want = expected(f, e, 5 * MIN, now, true, 95.0);
    assert_measured(r.objectives[0].measured, want);
    if (r.objectives[0].has_verdict) /* measured, and enough of the window covered */
        assert_true(r.objectives[0].met == (want <= P95_US));
}

/* The evaluator saved and loaded into a new one, which goes on in its place. */
static void
restart(fx *f)
{
    sw_err err = {0};
    sw_buf saved;
    sw_buf_init(&saved, (size_t)1 << 30);
    assert_int_equal(sw_eval_ckpt_save(f->ev, &saved, &err), SW_OK);
    sw_eval *loaded;
    assert_int_equal(sw_eval_ckpt_load(f->rules, saved.data, saved.len, &loaded, &err), SW_OK);
    sw_eval_free(f->ev);
    f->ev = loaded;
    sw_buf_fini(&saved);
}

static void
advance(fx *f, int64_t now)
{
    sw_err err = {0};
    assert_int_equal(sw_eval_advance(f->ev, now, &err), SW_OK);
    for (int e = 0; e < N_ENVS; e++) {
        check_windows(f, e);
        check_results(f, e, now);
    }
}

static void
test_packed_windows_answer_as_dense(void **state)
{
    fx *f = *state;
    int64_t now = START;
    for (int k = 0; k < STEPS; k++) {
        int64_t start = START + k * BASE;
        for (int e = 0; e < N_ENVS; e++) {
            if (f->holding[e]) { /* late: fed after the boundary it belongs to */
                feed(f, e, &f->held[e], f->held_truth[e]);
                f->holding[e] = false;
            }
            sw_sli_interval iv;
            sw_hdr *truth;
            if (!make_interval(f, e, start, &iv, &truth))
                continue;
            if (sw_rng_next(&f->rng) % 10 == 0) {
                f->held[e] = iv;
                f->held_truth[e] = truth;
                f->holding[e] = true;
                continue;
            }
            feed(f, e, &iv, truth);
        }
        if (sw_rng_next(&f->rng) % 8 == 0) /* an advance at every boundary, mostly */
            continue;
        now = start + BASE + (int64_t)(sw_rng_next(&f->rng) % 3) * SEC;
        advance(f, now);
        if (sw_rng_next(&f->rng) % 50 == 0)
            restart(f);
    }
    assert_true(f->checks > 10000);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_packed_windows_answer_as_dense, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
