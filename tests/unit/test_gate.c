/*
 * The deploy gate as a pipeline meets it: looked at every base interval of a deployment.
 * Expected values come from simulations whose truth is set here (the demo's script, log-normal
 * latencies scaled by a known factor, error draws at a known rate), never from the gate's own
 * arithmetic: a healthy canary must never fail, a clearly bad one must fail soon, a fail stays
 * until the next deployment, and the guarantee of the error-rate bounds is counted over many
 * sequences of looks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "slawatch/canary.h"
#include "slawatch/eval.h"
#include "slawatch/rng.h"
#include "slawatch/rules.h"
#include "slawatch/sim.h"

#define SEC INT64_C(1000)
#define MIN (60 * SEC)
#define BASE (10 * SEC)
#define T0 INT64_C(1790812800000) /* 2026-10-01T00:00:00Z */

static sw_rules *
rules_from(const char *text)
{
    sw_rules *r = NULL;
    sw_err err = {0};
    if (sw_rules_load_mem(text, strlen(text), "t", &r, NULL, &err) != SW_OK)
        fail_msg("rules: %s", err.msg);
    return r;
}

static sw_rules *
rules_file(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", SW_RULES_DIR, name);
    sw_rules *r = NULL;
    sw_err err = {0};
    if (sw_rules_load_file(path, &r, NULL, &err) != SW_OK)
        fail_msg("%s: %s", path, err.msg);
    return r;
}

static sw_gate_result
gate(const sw_eval *ev, const char *env, int64_t window_ms)
{
    sw_gate_result g;
    sw_err err;
    if (sw_eval_gate(ev, "api", env, window_ms, &g, &err) != SW_OK)
        fail_msg("gate: %s", err.msg);
    return g;
}

static void
feed(sw_eval *ev, const char *env, int64_t start, uint64_t requests, uint64_t errors, sw_hdr *lat)
{
    sw_sli_interval iv = {.start_ms = start,
                          .length_ms = BASE,
                          .requests = requests,
                          .errors = errors,
                          .latency = lat,
                          .has_data = true};
    sw_err err;
    if (sw_eval_add(ev, "api", env, &iv, &err) != SW_OK)
        fail_msg("add: %s", err.msg);
}

static void
advance(sw_eval *ev, int64_t now)
{
    sw_err err;
    if (sw_eval_advance(ev, now, &err) != SW_OK)
        fail_msg("advance: %s", err.msg);
}

/* ------------------------------------------------------------------ the demo's story */

/* 100 seeds; under the sanitizers (which check memory, not statistics) 10 keep CI fast. */
#if defined(__SANITIZE_ADDRESS__)
#define DEMO_SEEDS 10
#else
#define DEMO_SEEDS 100
#endif
#define HEALTHY_TICKS 60 /* green degrades at +10:00 */
#define DEGRADED_TICKS 2

/* The demo's rules and script, seed by seed: green passes at every look of its healthy ten
 * minutes and fails at the first look after it degrades, and that fail stays. */
static void
test_demo_story_every_seed(void **state)
{
    (void)state;
    sw_rules *r = rules_file("demo.yaml");
    static const char *const envs[] = {"blue", "green"};
    for (uint64_t seed = 1; seed <= DEMO_SEEDS; seed++) {
        sw_sim_scenario sc = sw_sim_default(T0);
        sc.seed = seed;
        sw_eval *ev;
        assert_int_equal(sw_eval_new(r, &ev, NULL), SW_OK);
        sw_eval_mark_deployment(ev, "api", "green", T0);
        for (int i = 0; i < HEALTHY_TICKS + DEGRADED_TICKS; i++) {
            int64_t start = T0 + i * BASE;
            for (int e = 0; e < 2; e++) {
                sw_sli_interval iv;
                assert_int_equal(sw_sim_interval(&sc, envs[e], start, BASE, &iv, NULL), SW_OK);
                assert_int_equal(sw_eval_add(ev, "api", envs[e], &iv, NULL), SW_OK);
                sw_sli_interval_fini(&iv);
            }
            advance(ev, start + BASE);
            sw_gate_result g = gate(ev, "green", 0);
            sw_verdict want = i < HEALTHY_TICKS ? SW_VERDICT_PASS : SW_VERDICT_FAIL;
            if (g.verdict != want && !(i == 0 && g.verdict == SW_VERDICT_INCONCLUSIVE))
                fail_msg("seed %llu at +%ds: %s, want %s", (unsigned long long)seed, (i + 1) * 10,
                         g.reason, sw_eval_verdict_str(want));
        }
        sw_gate_result g = gate(ev, "green", 0);
        assert_int_equal(g.failed_at_ms, T0 + (HEALTHY_TICKS + 1) * BASE);
        sw_eval_free(ev);
    }
    sw_rules_free(r);
}

/* ------------------------------------------------------------------ shifts */

static const char compare_rules[] = "version: 1\n"
                                    "base_interval: 10s\n"
                                    "services:\n"
                                    "  - name: api\n"
                                    "    environments: [blue, green]\n"
                                    "    sli: {requests: {push: true}}\n"
                                    "gate:\n"
                                    "  window: 10m\n"
                                    "  compare:\n"
                                    "    baseline: blue\n"
                                    "    max_error_rate_increase: 0.5%\n"
                                    "    max_latency_increase: 20%\n"
                                    "    confidence: 99%\n";

/* One side's interval: n log-normal latencies (median 80 ms, sigma 0.5) times factor. */
static void
draw_latency(sw_rng *rng, uint64_t n, double factor, sw_hdr *out)
{
    sw_hdr_reset(out);
    for (uint64_t i = 0; i < n; i++)
        sw_hdr_record(out, (int64_t)((double)sw_rng_lognormal_us(rng, 80000, 0.5) * factor));
}

/* Ticks (base intervals since the mark) until the first fail, or -1 within `ticks`. */
static int
first_fail(const sw_rules *r, uint64_t seed, uint64_t per_interval, double factor, int ticks,
           sw_gate_result *last)
{
    sw_rng rng = {seed};
    sw_hdr *lat;
    sw_eval *ev;
    assert_int_equal(sw_hdr_new(&sw_hdr_latency_config, &lat, NULL), SW_OK);
    assert_int_equal(sw_eval_new(r, &ev, NULL), SW_OK);
    sw_eval_mark_deployment(ev, "api", "green", T0);
    int at = -1;
    for (int i = 0; i < ticks && at < 0; i++) {
        draw_latency(&rng, per_interval, 1.0, lat);
        feed(ev, "blue", T0 + i * BASE, per_interval, 0, lat);
        draw_latency(&rng, per_interval, factor, lat);
        feed(ev, "green", T0 + i * BASE, per_interval, 0, lat);
        advance(ev, T0 + (i + 1) * BASE);
        *last = gate(ev, "green", 0);
        if (last->verdict == SW_VERDICT_FAIL)
            at = i + 1;
    }
    sw_eval_free(ev);
    sw_hdr_free(lat);
    return at;
}

/* At 30 requests/s each: 3 % slower never fails in ten minutes and ends in a pass; 30 % slower
 * fails within three minutes. */
static void
test_latency_shifts(void **state)
{
    (void)state;
    sw_rules *r = rules_from(compare_rules);
    sw_gate_result g;
    for (uint64_t seed = 1; seed <= 5; seed++) {
        assert_int_equal(first_fail(r, seed, 300, 1.03, 60, &g), -1);
        assert_int_equal(g.verdict, SW_VERDICT_PASS);
        assert_string_equal(g.checks[1].name, "p50_increase");
        assert_true(g.checks[1].upper < 0.2);
        int at = first_fail(r, seed, 300, 1.30, 60, &g);
        assert_true(at > 0 && at <= 18);
        assert_non_null(strstr(g.reason, "latency +"));
        assert_non_null(strstr(g.reason, "more than the 20% allowed"));
    }
    sw_rules_free(r);
}

/* ------------------------------------------------------------------ the guarantee */

/* Binomial(n, p) by n draws. */
static uint64_t
binomial(sw_rng *rng, uint64_t n, double p)
{
    uint64_t k = 0;
    for (uint64_t i = 0; i < n; i++)
        k += sw_rng_open01(rng) < p;
    return k;
}

/*
 * Candidate errors exactly at the tolerance above the baseline (the worst case a pass must
 * survive): 400 deployments of 180 looks, 300 requests per side between looks. A false fail
 * in any look counts against the 1 % promised; 10 of 400 is three standard deviations above 1 %.
 * The same looks at 2 points over the baseline all fail.
 */
static void
test_error_bounds_hold_over_every_look(void **state)
{
    (void)state;
    const double base = 0.001, tol = 0.005, alpha = 0.01;
    int false_fails = 0, caught = 0;
    for (uint64_t run = 0; run < 400; run++) {
        sw_rng rng = {run + 1};
        uint64_t n = 0, eb = 0, ec = 0, ec_bad = 0;
        bool failed = false, failed_bad = false;
        for (int look = 0; look < 180; look++) {
            n += 300;
            eb += binomial(&rng, 300, base);
            ec += binomial(&rng, 300, base + tol);
            ec_bad += binomial(&rng, 300, base + 0.02);
            sw_canary_result cr;
            sw_canary_error_rate(ec, n, eb, n, tol, alpha, &cr);
            failed = failed || cr.call == SW_CANARY_WORSE;
            sw_canary_error_rate(ec_bad, n, eb, n, tol, alpha, &cr);
            failed_bad = failed_bad || cr.call == SW_CANARY_WORSE;
        }
        false_fails += failed;
        caught += failed_bad;
    }
    assert_true(false_fails <= 10);
    assert_int_equal(caught, 400);
}

/* ------------------------------------------------------------------ settling */

static const char latch_rules[] = "version: 1\n"
                                  "base_interval: 10s\n"
                                  "services:\n"
                                  "  - name: api\n"
                                  "    environments: [blue, green]\n"
                                  "    sli: {requests: {push: true}}\n"
                                  "gate:\n"
                                  "  window: 1m\n"
                                  "  checks:\n"
                                  "    - error_rate <= 1%\n";

/* One bad interval fails the gate; when it has left the window the fail stays, with when it
 * started, until a new deployment is marked. */
static void
test_fail_latches_until_next_mark(void **state)
{
    (void)state;
    sw_rules *r = rules_from(latch_rules);
    sw_eval *ev;
    assert_int_equal(sw_eval_new(r, &ev, NULL), SW_OK);
    sw_eval_mark_deployment(ev, "api", "green", T0);
    for (int i = 0; i < 18; i++) {
        feed(ev, "green", T0 + i * BASE, 1000, i == 6 ? 200 : 0, NULL);
        advance(ev, T0 + (i + 1) * BASE);
    }
    /* The bad interval [60 s, 70 s) was judged at 70 s; at 180 s the window is clean. */
    sw_gate_result g = gate(ev, "green", 0);
    assert_int_equal(g.verdict, SW_VERDICT_FAIL);
    assert_true(g.checks[0].passed);
    assert_int_equal(g.failed_at_ms, T0 + 70 * SEC);
    assert_string_equal(g.reason, "fail since 2026-10-01T00:01:10Z, until the next deployment: "
                                  "error_rate 3.333% > 1% over 1m (6,000 requests)");
    sw_eval_mark_deployment(ev, "api", "green", T0 + 180 * SEC);
    for (int i = 18; i < 30; i++) {
        feed(ev, "green", T0 + i * BASE, 1000, 0, NULL);
        advance(ev, T0 + (i + 1) * BASE);
    }
    g = gate(ev, "green", 0);
    assert_int_equal(g.verdict, SW_VERDICT_PASS);
    assert_int_equal(g.failed_at_ms, -1);
    sw_eval_free(ev);
    sw_rules_free(r);
}

/* A gate with nothing to check never passes. */
static void
test_no_checks_is_inconclusive(void **state)
{
    (void)state;
    sw_rules *r = rules_from("version: 1\nservices:\n  - name: api\n"
                             "    environments: [blue, green]\n"
                             "    sli: {requests: {push: true}}\n");
    sw_eval *ev;
    assert_int_equal(sw_eval_new(r, &ev, NULL), SW_OK);
    for (int i = 0; i < 6; i++)
        feed(ev, "green", T0 + i * BASE, 1000, 0, NULL);
    advance(ev, T0 + 60 * SEC);
    sw_gate_result g = gate(ev, "green", 0);
    assert_int_equal(g.verdict, SW_VERDICT_INCONCLUSIVE);
    assert_int_equal(g.n_checks, 0);
    assert_non_null(strstr(g.reason, "no checks"));
    sw_eval_free(ev);
    sw_rules_free(r);
}

/* 3 % vs 0.5 % errors over 1,000 requests each: +2.5 points, but it could be inside or outside the
 * 0.5 points allowed; the gate says so and how much more data would settle it. */
static void
test_undecided_says_what_would_decide(void **state)
{
    (void)state;
    sw_rules *r = rules_from("version: 1\nservices:\n  - name: api\n"
                             "    environments: [blue, green]\n"
                             "    sli: {requests: {push: true}}\n"
                             "gate:\n  compare:\n    baseline: blue\n"
                             "    max_error_rate_increase: 0.5%\n");
    sw_eval *ev;
    assert_int_equal(sw_eval_new(r, &ev, NULL), SW_OK);
    sw_eval_mark_deployment(ev, "api", "green", T0);
    feed(ev, "blue", T0, 1000, 5, NULL);
    feed(ev, "green", T0, 1000, 30, NULL);
    advance(ev, T0 + BASE);
    sw_gate_result g = gate(ev, "green", 0);
    assert_int_equal(g.verdict, SW_VERDICT_INCONCLUSIVE);
    const sw_gate_check *c = &g.checks[0];
    assert_string_equal(c->name, "error_rate_increase");
    assert_true(fabs(c->measured - 0.025) < 1e-12);
    assert_true(c->lower < 0.005 && c->upper > 0.005);
    assert_true(c->more_samples > 0 && c->more_samples < UINT64_MAX);
    assert_non_null(strstr(g.reason, "inconclusive: error_rate_increase +2.5% vs blue, could be"));
    assert_non_null(strstr(g.reason, "more requests per environment would decide"));
    sw_eval_free(ev);
    sw_rules_free(r);
}

/* ------------------------------------------------------------------ the window judged */

/* 1h asked: latency is kept for the rules' 10m, so 10m is judged, and the result says why. */
static void
test_window_reports_what_was_judged(void **state)
{
    (void)state;
    sw_rules *r = rules_from(latch_rules);
    sw_eval *ev;
    assert_int_equal(sw_eval_new(r, &ev, NULL), SW_OK);
    for (int i = 0; i < 360; i++)
        feed(ev, "green", T0 + i * BASE, 1000, 0, NULL);
    advance(ev, T0 + 60 * MIN);
    sw_gate_result g = gate(ev, "green", 60 * MIN);
    assert_int_equal(g.requested_window_ms, 60 * MIN);
    assert_int_equal(g.window_end_ms - g.window_start_ms, MIN);
    assert_int_equal(g.limited_by, SW_GATE_LIMIT_RETENTION);
    assert_int_equal(g.checks[0].window_ms, MIN);
    assert_int_equal(g.checks[0].samples, 6000);
    sw_eval_mark_deployment(ev, "api", "green", T0 + 60 * MIN - 30 * SEC);
    g = gate(ev, "green", 0);
    assert_int_equal(g.window_end_ms - g.window_start_ms, 30 * SEC);
    assert_int_equal(g.limited_by, SW_GATE_LIMIT_DEPLOYMENT);
    assert_string_equal(sw_eval_gate_limit_str(g.limited_by), "deployment");
    sw_eval_free(ev);
    sw_rules_free(r);
}

/* ------------------------------------------------------------------ prepared comparisons */

static sw_hdr *
lognormal_hdr(sw_rng *rng, bool dense, int n, double median_us, double sigma)
{
    sw_hdr *h = NULL;
    sw_err err;
    sw_status st = dense ? sw_hdr_new_dense(&sw_hdr_latency_config, &h, &err)
                         : sw_hdr_new(&sw_hdr_latency_config, &h, &err);
    if (st != SW_OK)
        fail_msg("hdr: %s", err.msg);
    for (int i = 0; i < n; i++)
        sw_hdr_record(h, sw_rng_lognormal_us(rng, median_us, sigma));
    return h;
}

static void
assert_same_result(const sw_canary_result *a, const sw_canary_result *b)
{
    /* Bit for bit: the same arithmetic on the same counts (NaN bounds included). */
    assert_memory_equal(&a->estimate, &b->estimate, sizeof a->estimate);
    assert_memory_equal(&a->lower, &b->lower, sizeof a->lower);
    assert_memory_equal(&a->upper, &b->upper, sizeof a->upper);
    assert_int_equal(a->call, b->call);
    if (a->call == SW_CANARY_UNDECIDED)
        assert_true(a->more_samples == b->more_samples);
}

/*
 * The gate compares p50, p95 and p99 of one pair of windows with one prepared comparison: asked
 * in any order, each percentile gives what a comparison prepared for it alone gives, for compact
 * and dense histograms, from a few values to thousands, shifted or not.
 */
static void
test_prepared_latencies_match_each_comparison(void **state)
{
    (void)state;
    static const double percentiles[] = {99.0, 50.0, 95.0, 99.9, 50.0};
    sw_rng rng = {7};
    int decided = 0;
    for (int round = 0; round < 60; round++) {
        int n = 3 + (int)(sw_rng_open01(&rng) * (round < 30 ? 200 : 5000));
        double shift = 0.8 + 0.8 * sw_rng_open01(&rng);
        sw_hdr *cand = lognormal_hdr(&rng, round % 3 == 0, n, 80000.0 * shift, 0.5);
        sw_hdr *base = lognormal_hdr(&rng, round % 4 == 0, n + round, 80000.0, 0.5);
        sw_canary_latencies *p = NULL;
        sw_err err;
        if (sw_canary_latencies_new(cand, base, &p, &err) != SW_OK)
            fail_msg("prepare: %s", err.msg);
        for (size_t i = 0; i < sizeof percentiles / sizeof percentiles[0]; i++) {
            sw_canary_result alone, prepared;
            sw_canary_latencies *fresh = NULL;
            if (sw_canary_latencies_new(cand, base, &fresh, &err) != SW_OK)
                fail_msg("prepare: %s", err.msg);
            sw_canary_latency_at(fresh, percentiles[i], 0.2, 0.01, &alone);
            sw_canary_latencies_free(fresh);
            sw_canary_latency_at(p, percentiles[i], 0.2, 0.01, &prepared);
            assert_same_result(&alone, &prepared);
            decided += alone.call != SW_CANARY_UNDECIDED;
        }
        sw_canary_latencies_free(p);
        sw_hdr_free(cand);
        sw_hdr_free(base);
    }
    assert_true(decided > 0); /* the rounds reach verdicts, not only "undecided" */
    sw_hdr *empty = NULL, *some = lognormal_hdr(&rng, false, 10, 1000.0, 0.5);
    sw_err err;
    if (sw_hdr_new(&sw_hdr_latency_config, &empty, &err) != SW_OK)
        fail_msg("hdr: %s", err.msg);
    sw_canary_latencies *p = NULL;
    assert_int_equal(sw_canary_latencies_new(some, empty, &p, &err), SW_E_INVAL);
    assert_null(p);
    sw_hdr_free(empty);
    sw_hdr_free(some);
}

/* ------------------------------------------------------------------ answers through a scratch */

static const char scratch_rules[] = "version: 1\n"
                                    "base_interval: 10s\n"
                                    "services:\n"
                                    "  - name: api\n"
                                    "    environments: [blue, green]\n"
                                    "    sli: {requests: {push: true}}\n"
                                    "  - name: web\n"
                                    "    environments: [blue, green]\n"
                                    "    sli: {requests: {push: true}}\n"
                                    "gate:\n"
                                    "  window: 10m\n"
                                    "  min_requests: 100\n"
                                    "  checks:\n"
                                    "    - p95 <= 400ms\n"
                                    "  compare:\n"
                                    "    baseline: blue\n"
                                    "    max_error_rate_increase: 0.5%\n"
                                    "    max_latency_increase: 20%\n"
                                    "    confidence: 99%\n";

/* Every field of two gate answers, doubles bit for bit (NaN included). */
static void
assert_same_gate(const sw_gate_result *a, const sw_gate_result *b)
{
    assert_int_equal(a->verdict, b->verdict);
    assert_int_equal(a->window_start_ms, b->window_start_ms);
    assert_int_equal(a->window_end_ms, b->window_end_ms);
    assert_int_equal(a->limited_by, b->limited_by);
    assert_int_equal(a->compared_from_ms, b->compared_from_ms);
    assert_int_equal(a->compared_to_ms, b->compared_to_ms);
    assert_int_equal(a->failed_at_ms, b->failed_at_ms);
    assert_string_equal(a->reason, b->reason);
    assert_int_equal(a->n_checks, b->n_checks);
    for (size_t i = 0; i < a->n_checks; i++) {
        const sw_gate_check *x = &a->checks[i], *y = &b->checks[i];
        assert_string_equal(x->name, y->name);
        assert_memory_equal(&x->measured, &y->measured, sizeof x->measured);
        assert_memory_equal(&x->lower, &y->lower, sizeof x->lower);
        assert_memory_equal(&x->upper, &y->upper, sizeof x->upper);
        assert_int_equal(x->samples, y->samples);
        assert_int_equal(x->baseline_samples, y->baseline_samples);
        assert_int_equal(x->verdict, y->verdict);
        assert_true(x->more_samples == y->more_samples);
    }
}

typedef struct question {
    const char *service, *env;
    int64_t window_ms;
} question;

/*
 * A run of answers through one scratch (a tick preparing them, each side merged once where the
 * next answer loads it again) gives, answer by answer, what each computed alone gives: in the
 * snapshot's order (a series' windows growing, blue before green, so green's baseline and each
 * longer window reuse what was merged), then backwards (nothing to extend: merged afresh), with
 * api/green marked at a time off the intervals' edges (its longer windows cut there),
 * web/green slower than its baseline (latency comparisons decided) and web/blue's 30 s intervals
 * cut by the 5m window's edge (its 10m window is merged afresh, not extended).
 */
static void
test_scratch_answers_match_alone(void **state)
{
    (void)state;
    static const char *const services[] = {"api", "web"}, *const envs[] = {"blue", "green"};
    static const int64_t windows[] = {0, 5 * MIN, 10 * MIN, 15 * MIN, 30 * MIN, 60 * MIN};
    enum { N_WINDOWS = sizeof windows / sizeof windows[0] };
    sw_rules *r = rules_from(scratch_rules);
    sw_eval *ev;
    sw_hdr *lat;
    assert_int_equal(sw_eval_new(r, &ev, NULL), SW_OK);
    assert_int_equal(sw_hdr_new(&sw_hdr_latency_config, &lat, NULL), SW_OK);
    sw_rng rng = {11};
    int ticks = 80;
    for (int i = 0; i < ticks; i++) {
        for (int k = 0; k < 4; k++) {
            /* web/blue reports 30 s intervals, which a window's edge may cut through */
            int64_t length = k == 2 ? 3 * BASE : BASE;
            if (k == 2 && i % 3 != 2)
                continue;
            double factor = k == 3 ? 1.5 : 1.0; /* web/green */
            uint64_t n = 100 + (uint64_t)(sw_rng_open01(&rng) * 200);
            draw_latency(&rng, n, factor, lat);
            sw_sli_interval iv = {.start_ms = T0 + (i + 1) * BASE - length,
                                  .length_ms = length,
                                  .requests = n,
                                  .errors = (uint64_t)(sw_rng_open01(&rng) * 3),
                                  .latency = lat,
                                  .has_data = true};
            assert_int_equal(sw_eval_add(ev, services[k / 2], envs[k % 2], &iv, NULL), SW_OK);
        }
        advance(ev, T0 + (i + 1) * BASE);
    }
    sw_eval_mark_deployment(ev, "api", "green", T0 + (ticks - 42) * BASE + 3 * SEC);
    advance(ev, T0 + ticks * BASE);
    question q[2 * 2 * N_WINDOWS];
    size_t n = 0;
    for (size_t s = 0; s < 2; s++)
        for (size_t e = 0; e < 2; e++)
            for (size_t w = 0; w < N_WINDOWS; w++)
                q[n++] = (question){services[s], envs[e], windows[w]};
    sw_gate_scratch *x;
    assert_int_equal(sw_gate_scratch_new(&x, NULL), SW_OK);
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < n; i++) {
            const question *a = &q[pass == 0 ? i : n - 1 - i];
            sw_gate_result through, alone;
            assert_int_equal(
                sw_eval_gate_with(ev, a->service, a->env, a->window_ms, x, &through, NULL), SW_OK);
            assert_int_equal(sw_eval_gate(ev, a->service, a->env, a->window_ms, &alone, NULL),
                             SW_OK);
            assert_same_gate(&through, &alone);
        }
    /* The run reached every kind of answer: cut at the mark, decided worse, passed. */
    sw_gate_result g;
    assert_int_equal(sw_eval_gate_with(ev, "api", "green", 60 * MIN, x, &g, NULL), SW_OK);
    assert_int_equal(g.limited_by, SW_GATE_LIMIT_DEPLOYMENT);
    assert_int_equal(sw_eval_gate_with(ev, "web", "green", 0, x, &g, NULL), SW_OK);
    assert_int_equal(g.verdict, SW_VERDICT_FAIL);
    assert_int_equal(sw_eval_gate_with(ev, "web", "blue", 0, x, &g, NULL), SW_OK);
    assert_int_equal(g.verdict, SW_VERDICT_PASS);
    sw_gate_scratch_free(x);
    sw_hdr_free(lat);
    sw_eval_free(ev);
    sw_rules_free(r);
}

/*
 * A scratch kept from tick to tick (as the snapshot source keeps the tick's) brings the sides it
 * holds forward by the intervals that arrived and left instead of merging them again: over a
 * random sequence (intervals of random sizes, some missing, some without latency, web/blue's 30 s
 * intervals cut by windows' edges, latencies drifting so a side not moved right reads different
 * percentiles, a deployment marked off the intervals' edges), every answer through it is, field
 * by field, the answer computed from scratch, and it merges far fewer intervals than a scratch
 * made afresh at each tick for the same questions. A slide that adds or subtracts the wrong
 * intervals (or none) changes the percentiles the comparisons print, and so does a marked
 * series' comparison read back from the scratch once its accumulation has moved on.
 */
static void
test_kept_sides_slide_exactly(void **state)
{
    (void)state;
    static const char *const services[] = {"api", "web"}, *const envs[] = {"blue", "green"};
    static const int64_t windows[] = {0, 1 * MIN, 5 * MIN, 10 * MIN, 30 * MIN};
    enum { N_WINDOWS = sizeof windows / sizeof windows[0], TICKS = 150, ASKED = 3 };
    sw_rules *r = rules_from(scratch_rules);
    sw_eval *ev;
    sw_hdr *lat;
    assert_int_equal(sw_eval_new(r, &ev, NULL), SW_OK);
    assert_int_equal(sw_hdr_new(&sw_hdr_latency_config, &lat, NULL), SW_OK);
    sw_gate_scratch *kept;
    assert_int_equal(sw_gate_scratch_new(&kept, NULL), SW_OK);
    uint64_t afresh = 0;
    sw_rng rng = {23};
    for (int i = 0; i < TICKS; i++) {
        double drift = 1.0 + 0.5 * sin(i / 9.0);
        for (int k = 0; k < 4; k++) {
            int64_t length = k == 2 ? 3 * BASE : BASE; /* web/blue: 30 s intervals */
            if ((k == 2 && i % 3 != 2) || sw_rng_open01(&rng) < 0.08)
                continue; /* not reported */
            bool no_latency = sw_rng_open01(&rng) < 0.05;
            uint64_t n = 100 + (uint64_t)(sw_rng_open01(&rng) * 200);
            draw_latency(&rng, n, (k == 3 ? 1.3 : 1.0) * drift, lat);
            sw_sli_interval iv = {.start_ms = T0 + (i + 1) * BASE - length,
                                  .length_ms = length,
                                  .requests = n,
                                  .errors = (uint64_t)(sw_rng_open01(&rng) * 3),
                                  .latency = no_latency ? NULL : lat,
                                  .has_data = true};
            assert_int_equal(sw_eval_add(ev, services[k / 2], envs[k % 2], &iv, NULL), SW_OK);
        }
        if (i == 100)
            sw_eval_mark_deployment(ev, "api", "green", T0 + i * BASE + 4 * SEC);
        advance(ev, T0 + (i + 1) * BASE);
        sw_gate_scratch *fresh;
        assert_int_equal(sw_gate_scratch_new(&fresh, NULL), SW_OK);
        for (int q = 0; q < ASKED; q++) {
            /* One question polled at every tick, the others drawn. */
            size_t pick = q == 0 ? 1 * N_WINDOWS + 0 : (size_t)(sw_rng_open01(&rng) * 20) % 20;
            const char *service = services[pick / (2 * N_WINDOWS)];
            const char *env = envs[pick / N_WINDOWS % 2];
            int64_t window = windows[pick % N_WINDOWS];
            sw_gate_result through, alone, again;
            assert_int_equal(sw_eval_gate_with(ev, service, env, window, kept, &through, NULL),
                             SW_OK);
            assert_int_equal(sw_eval_gate(ev, service, env, window, &alone, NULL), SW_OK);
            assert_same_gate(&through, &alone);
            assert_int_equal(sw_eval_gate_with(ev, service, env, window, fresh, &again, NULL),
                             SW_OK);
        }
        afresh += sw_gate_scratch_intervals(fresh);
        sw_gate_scratch_free(fresh);
    }
    /* The polled question's sides moved by an interval or two a tick, not merged again. */
    assert_true(sw_gate_scratch_intervals(kept) * 2 < afresh);
    sw_gate_scratch_free(kept);
    sw_hdr_free(lat);
    sw_eval_free(ev);
    sw_rules_free(r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_demo_story_every_seed),
        cmocka_unit_test(test_latency_shifts),
        cmocka_unit_test(test_error_bounds_hold_over_every_look),
        cmocka_unit_test(test_fail_latches_until_next_mark),
        cmocka_unit_test(test_no_checks_is_inconclusive),
        cmocka_unit_test(test_undecided_says_what_would_decide),
        cmocka_unit_test(test_window_reports_what_was_judged),
        cmocka_unit_test(test_prepared_latencies_match_each_comparison),
        cmocka_unit_test(test_scratch_answers_match_alone),
        cmocka_unit_test(test_kept_sides_slide_exactly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
