/*
 * The evaluator's windows: sliding and long (rollup-fed) windows against a brute-force re-merge
 * on random data, and a window's statistics asked directly (fixture:
 * tests/support/eval_fixture.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "eval_fixture.h"

/* ------------------------------------------------------------------ property tests */

/* What the brute force keeps of each interval: counts and the raw latency values. */
typedef struct kept {
    int64_t start;
    uint64_t requests, errors;
    bool maint;
    int n_values;
    int64_t values[12];
} kept;

static uint64_t
rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* A random interval: gaps, bursts of errors and log-spread latencies (1 us ... 3.3 s). */
static kept
random_interval(uint64_t *seed, int64_t start, bool maint)
{
    kept k = {.start = start, .maint = maint};
    k.requests = rnd(seed) % 60;
    k.errors = k.requests ? rnd(seed) % (k.requests + 1) / (1 + rnd(seed) % 4) : 0;
    k.n_values = (int)(rnd(seed) % 12);
    for (int i = 0; i < k.n_values; i++)
        k.values[i] = (int64_t)exp((double)(rnd(seed) % 1500) / 100.0);
    return k;
}

static sw_hdr *
hist_of(const kept *k)
{
    sw_hdr *h;
    assert_int_equal(sw_hdr_new(&sw_hdr_latency_config, &h, NULL), SW_OK);
    for (int i = 0; i < k->n_values; i++)
        sw_hdr_record(h, k->values[i]);
    return h;
}

static void
feed_kept(fx *f, const kept *k)
{
    sw_sli_interval iv = {.start_ms = k->start,
                          .length_ms = BASE,
                          .requests = k->requests,
                          .errors = k->errors,
                          .latency = hist_of(k),
                          .has_data = true};
    assert_int_equal(sw_eval_add(f->ev, "api", NULL, &iv, NULL), SW_OK);
    sw_sli_interval_fini(&iv);
}

static bool
in_window(const kept *k, int64_t from, int64_t to, bool excl_maint)
{
    return k->start >= from && k->start + BASE <= to && !(excl_maint && k->maint);
}

/* Brute force: record every value of the intervals with start >= from and end <= to. */
static double
brute_percentile(const kept *ks, size_t n, int64_t from, int64_t to, bool excl_maint,
                 double percentile)
{
    sw_hdr *h;
    uint64_t requests = 0;
    assert_int_equal(sw_hdr_new(&sw_hdr_latency_config, &h, NULL), SW_OK);
    for (size_t i = 0; i < n; i++)
        if (in_window(&ks[i], from, to, excl_maint)) {
            for (int v = 0; v < ks[i].n_values; v++)
                sw_hdr_record(h, ks[i].values[v]);
            requests += ks[i].requests;
        }
    double v = requests > 0 && sw_hdr_total_count(h) > 0
                   ? (double)sw_hdr_value_at_percentile(h, percentile)
                   : NAN;
    sw_hdr_free(h);
    return v;
}

static double
brute_error_rate(const kept *ks, size_t n, int64_t from, int64_t to, bool excl_maint)
{
    uint64_t requests = 0, errors = 0;
    for (size_t i = 0; i < n; i++)
        if (in_window(&ks[i], from, to, excl_maint)) {
            requests += ks[i].requests;
            errors += ks[i].errors;
        }
    return requests > 0 ? (double)errors / (double)requests : NAN;
}

static void
assert_same(double got, double want)
{
    if (isnan(want))
        assert_true(isnan(got));
    else
        assert_true(got == want);
}

static void
test_sliding_equals_brute_force(void **state)
{
    fx *f = *state;
    f->rules.min_requests = 1;
    f->alerts[0] = alert("P95", pct(95, SW_OP_GT, 1e12), MIN, 0);
    f->alerts[1] = alert("P99", pct(99, SW_OP_GT, 1e12), 5 * MIN, 0);
    f->alerts[2] = alert("Errors", cond(SW_SLI_ERROR_RATE, SW_OP_GT, 2), 2 * MIN, 0);
    f->rules.n_alerts = 3;
    f->obj[0] = objective("p90-1h", pct(90, SW_OP_LE, 1e12), false, HOUR);
    f->obj[1] = objective("p50-month", pct(50, SW_OP_LE, 1e12), true, 0);
    f->obj[2] = objective("errors-1h", cond(SW_SLI_ERROR_RATE, SW_OP_LE, 1), false, HOUR);
    f->rules.n_objectives = 3;
    int64_t t0 = T_NOV - 90 * MIN; /* crosses into November */
    f->maint[0] = (sw_maintenance){t0 + 20 * MIN + 5 * SEC, t0 + 31 * MIN, "test"};
    f->svc.maintenance = f->maint;
    f->svc.n_maintenance = 1;
    start(f);
    enum { N = 1000 };
    kept *ks = calloc(N, sizeof *ks);
    size_t n = 0;
    uint64_t seed = 0x9e3779b97f4a7c15u;
    for (int step = 0; step < N; step++) {
        int64_t start = t0 + step * BASE;
        /* Intervals overlapping the maintenance window [t0+20m5s, t0+31m) are left out. */
        bool maint = start + BASE > t0 + 20 * MIN + 5 * SEC && start < t0 + 31 * MIN;
        if (step == 0 || rnd(&seed) % 10 != 0) { /* about one interval in ten is missing */
            ks[n] = random_interval(&seed, start, maint);
            feed_kept(f, &ks[n++]);
        }
        if (rnd(&seed) % 3 == 0)
            continue; /* sometimes several boundaries pass in one advance */
        int64_t now = start + BASE + (int64_t)(rnd(&seed) % BASE);
        int64_t t = now / BASE * BASE; /* the last boundary evaluated */
        advance(f, now);
        sw_series_result r = series(f, NULL);
        assert_same(r.alerts[0].measured, brute_percentile(ks, n, t - MIN, t, false, 95));
        assert_same(r.alerts[1].measured, brute_percentile(ks, n, t - 5 * MIN, t, false, 99));
        assert_same(r.alerts[2].measured, brute_error_rate(ks, n, t - 2 * MIN, t, false));
        assert_same(r.objectives[0].measured, brute_percentile(ks, n, now - HOUR, now, true, 90));
        int64_t month = now - 1 < T_NOV ? T_OCT : T_NOV;
        assert_same(r.objectives[1].measured, brute_percentile(ks, n, month, now, true, 50));
        assert_same(r.objectives[2].measured, brute_error_rate(ks, n, now - HOUR, now, true));
    }
    free(ks);
}

static void
test_long_windows_from_rollups(void **state)
{
    fx *f = *state;
    f->rules.min_requests = 1;
    f->obj[0] = objective("p50-3d", pct(50, SW_OP_LE, 1e12), false, 3 * DAY);
    f->obj[1] = objective("errors-3d", cond(SW_SLI_ERROR_RATE, SW_OP_LE, 1), false, 3 * DAY);
    f->rules.n_objectives = 2;
    start(f);
    /* 3.5 days of random intervals, evaluated every 10 minutes (at odd seconds). Beyond 2 d,
     * counts come from minute and hour rollups with the window's old edge at the next whole
     * minute; the latency window's old edge moves by whole hours. */
    enum { N = 30240 };
    kept *ks = calloc(N, sizeof *ks);
    size_t n = 0;
    uint64_t seed = 12345;
    int64_t t0 = T_OCT + 3 * DAY;
    for (int step = 0; step < N; step++) {
        int64_t start = t0 + step * BASE;
        if (step == 0 || rnd(&seed) % 10 != 0) {
            ks[n] = random_interval(&seed, start, false);
            feed_kept(f, &ks[n++]);
        }
        if (step % 60 != 59)
            continue;
        int64_t now = start + BASE + 7 * SEC;
        advance(f, now);
        sw_series_result r = series(f, NULL);
        int64_t from_min = (now - 3 * DAY + MIN - 1) / MIN * MIN;
        int64_t from_hour = (now - 3 * DAY + HOUR - 1) / HOUR * HOUR;
        assert_same(r.objectives[1].measured, brute_error_rate(ks, n, from_min, now, true));
        /* The latency brute force re-merges everything: every 200 minutes, then at every
         * evaluation once the window is full and its old edge moves. */
        if (step % 1200 == 1199 || now - 3 * DAY > t0)
            assert_same(r.objectives[0].measured,
                        brute_percentile(ks, n, from_hour, now, true, 50));
    }
    free(ks);
}

/* ------------------------------------------------------------------ stats */

/* Six intervals: the last three (the 30 s window) hold 3 x 1000 requests, 3 x 20 errors and
 * latencies 3 x (90 x 1000 us + 10 x 5000 us): p50 = 1000 us; p95 = p99 fall among the 5000s.
 * With 3 significant digits buckets are 1 us wide below 2048 and 4 us wide from 4096 to 8191,
 * and HdrHistogram reports a bucket's highest equivalent value: 1000 and 5003. */
static void
test_window_stats(void **state)
{
    fx *f = *state;
    start(f);
    add_run(f, "blue", NOON, 3,
            &(ivspec){.requests = 500, .errors = 400, .lat_us = 9000, .lat_n = 100});
    add_run(f, "blue", NOON + 30 * SEC, 3,
            &(ivspec){.requests = 1000,
                      .errors = 20,
                      .health = "10",
                      .lat_us = 1000,
                      .lat_n = 90,
                      .lat2_us = 5000,
                      .lat2_n = 10});
    advance(f, NOON + MIN);
    sw_window_stats ws;
    sw_err err;
    assert_int_equal(sw_eval_window_stats(f->ev, "api", "blue", 30 * SEC, NULL, &ws, &err), SW_OK);
    assert_int_equal(ws.requests, 3000);
    assert_int_equal(ws.errors, 60);
    assert_int_equal(ws.probes, 6);
    assert_int_equal(ws.probe_failures, 3);
    assert_near(ws.coverage, 1.0, 1e-12);
    assert_near(ws.p50_us, 1000, 0);
    assert_near(ws.p95_us, 5003, 0);
    assert_near(ws.p99_us, 5003, 0);
    assert_int_equal(sw_eval_window_stats(f->ev, "api", "blue", 2 * MIN, NULL, &ws, &err), SW_OK);
    assert_int_equal(ws.requests, 4500);
    assert_near(ws.coverage, 0.5, 1e-12);
    assert_int_equal(sw_eval_window_stats(f->ev, "api", "red", MIN, NULL, &ws, &err), SW_E_INVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sliding_equals_brute_force, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_windows_from_rollups, setup, teardown),
        cmocka_unit_test_setup_teardown(test_window_stats, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
