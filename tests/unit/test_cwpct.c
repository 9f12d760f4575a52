/*
 * Unit tests for the CloudWatch percentile grid (collector/cwpct.c): a log-normal period is
 * reproduced between its points (truth: the distribution's own quantiles); merged hours and a
 * month of sampled periods stay within the documented bound against the exact percentiles of
 * every drawn value; PR(:T) counts are exact whatever the points say; totals exact; placement
 * on hand-computed cases; refused inputs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cwpct_sim.h"
#include "slawatch/cwpct.h"

/* collector/CLOUDWATCH.md, "Percentile grid": merged sampled periods */
#define SAMPLED_BOUND 0.01
#define EXACT_BOUND 0.002 /* a log-normal period between its points: HDR buckets (0.1 %) */

static const double checked[] = {50, 95, 97.5, 99, 99.5};

static sw_hdr *
new_hdr(void)
{
    sw_hdr *h = NULL;
    assert_int_equal(sw_hdr_new(&sw_hdr_latency_config, &h, NULL), SW_OK);
    return h;
}

/* The standard normal quantile by bisection on erfc: independent of the code's AS 241. */
static double
probit(double p)
{
    double lo = -40, hi = 40;
    for (int i = 0; i < 200; i++) {
        double mid = (lo + hi) / 2;
        if (0.5 * erfc(-mid / sqrt(2.0)) < p)
            lo = mid;
        else
            hi = mid;
    }
    return (lo + hi) / 2;
}

/* A period of many values from a log-normal (CloudWatch's statistics are then its exact
 * quantiles): every percentile of the histogram, on the grid or off it, within EXACT_BOUND. */
static void
test_lognormal_between_points(void **state)
{
    (void)state;
    double median_ms = 140, sigma = 0.6;
    int64_t n = 200000;
    sw_cwpct_point pts[64];
    for (size_t g = 0; g < sw_cwpct_grid_len; g++)
        pts[g] = (sw_cwpct_point){sw_cwpct_grid[g],
                                  median_ms * exp(sigma * probit(sw_cwpct_grid[g] / 100))};
    sw_cwpct_period pd = {.points = pts,
                          .n_points = sw_cwpct_grid_len,
                          .sample_count = (double)n,
                          .min = median_ms * exp(sigma * probit(0.5 / (double)n)),
                          .max = median_ms * exp(sigma * probit(1 - 0.5 / (double)n)),
                          .unit_us = 1000};
    sw_hdr *h = new_hdr();
    assert_int_equal(sw_cwpct_record(h, &pd, NULL), SW_OK);
    assert_int_equal(sw_hdr_total_count(h), n);
    static const double levels[] = {5, 33, 50, 60, 87.5, 92.5, 97.5, 98.7, 99.3, 99.7, 99.95};
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
        double want = median_ms * 1000 * exp(sigma * probit(levels[i] / 100));
        double got = (double)sw_hdr_value_at_percentile(h, levels[i]);
        if (fabs(got - want) / want > EXACT_BOUND)
            fail_msg("P%g: %.0f us, the log-normal's %.0f us", levels[i], got, want);
    }
    sw_hdr_free(h);
}

/* An incident minute's mixture: share s slow (900 ms, sigma 0.25), the rest 120 ms sigma 0.5. */
static double
mixture_cdf(double s, double us)
{
    double y = log(us);
    return (1 - s) * 0.5 * erfc(-(y - log(120000)) / 0.5 / sqrt(2.0)) +
           s * 0.5 * erfc(-(y - log(900000)) / 0.25 / sqrt(2.0));
}

static double
mixture_quantile(double s, double q)
{
    double lo = 0, hi = 25;
    for (int i = 0; i < 100; i++) {
        double mid = (lo + hi) / 2;
        if (mixture_cdf(s, exp(mid)) < q)
            lo = mid;
        else
            hi = mid;
    }
    return exp(hi);
}

/* Bimodal periods of many values (an incident minute at ALB rates, CloudWatch's statistics
 * the mixture's exact quantiles and mean), with PR(:250) and PR(:500) (500 ms lies in the gap)
 * or without ranks: every level from 50 to 99.5 %, on the grid or off, within the documented
 * 1 % of the mixture's quantile, and the requests above thresholds that were not fetched
 * (300, 400, 700 ms) within 0.5 % of the mixture's expectation. A curve through the gap was off
 * by up to 44 % without ranks and 16 % with them, counts by up to 20 % and 3.7 %; measured now:
 * 0.12 % and 0.1 %. */
#define GAP_LEVEL_BOUND 0.01
#define GAP_COUNT_BOUND 0.005

static void
check_incident_minute(double s, bool ranked)
{
    int64_t n = 72000;
    sw_cwpct_point pts[64];
    for (size_t g = 0; g < sw_cwpct_grid_len; g++)
        pts[g] =
            (sw_cwpct_point){sw_cwpct_grid[g], mixture_quantile(s, sw_cwpct_grid[g] / 100) / 1000};
    sw_cwpct_rank ranks[] = {{250, 100 * mixture_cdf(s, 250000)},
                             {500, 100 * mixture_cdf(s, 500000)}};
    double mean_ms = (1 - s) * 120 * exp(0.5 * 0.5 / 2) + s * 900 * exp(0.25 * 0.25 / 2);
    sw_cwpct_period pd = {pts,
                          sw_cwpct_grid_len,
                          ranks,
                          ranked ? 2 : 0,
                          (double)n,
                          mixture_quantile(s, 0.5 / (double)n) / 1000,
                          mixture_quantile(s, 1 - 0.5 / (double)n) / 1000,
                          1000,
                          mean_ms * (double)n};
    sw_hdr *h = new_hdr();
    assert_int_equal(sw_cwpct_record(h, &pd, NULL), SW_OK);
    for (double l = 50; l <= 99.5; l += 0.25) {
        double want = mixture_quantile(s, l / 100);
        double got = (double)sw_hdr_value_at_percentile(h, l);
        if (fabs(got - want) / want > GAP_LEVEL_BOUND)
            fail_msg("slow share %g%s, P%g: %.0f us, the mixture's %.0f us", s,
                     ranked ? "" : " without ranks", l, got, want);
    }
    static const double unfetched_us[] = {300000, 400000, 700000};
    for (size_t i = 0; i < sizeof unfetched_us / sizeof unfetched_us[0]; i++) {
        double want = (1 - mixture_cdf(s, unfetched_us[i])) * (double)n;
        double got = (double)(n - sw_hdr_count_at_or_below(h, (int64_t)unfetched_us[i]));
        if (fabs(got - want) / want > GAP_COUNT_BOUND)
            fail_msg("slow share %g%s: %.0f above %.0f us, the mixture's %.1f", s,
                     ranked ? "" : " without ranks", got, unfetched_us[i], want);
    }
    sw_hdr_free(h);
}

static void
test_incident_gap(void **state)
{
    (void)state;
    static const double shares[] = {0.05, 0.10, 0.14, 0.20, 0.30};
    for (size_t si = 0; si < sizeof shares / sizeof shares[0]; si++) {
        check_incident_minute(shares[si], true);
        check_incident_minute(shares[si], false);
    }
}

/*
 * Incident minutes at a low rate (240 ... 960 requests; 5 and 10 % slow, medians 136 and
 * 900 ms) without ranks: how many requests are slower than 500 ms (inside the gap, not
 * fetched) is what the points know least, and the period's Sum places the split between the
 * modes. Truth: the drawn values. Asserted over 240 minutes: each minute's P50 ... P99.5 (grid
 * points, so exact to the histogram's resolution), the root mean square of the
 * per-minute count error above 500 ms (a curve that ignored Sum there: 3.55 and 4.49
 * requests; measured now 2.06 and 2.36), and in each of the four hours the truth's share at or
 * below the reported P95 within GAP_HOUR_LEVEL_PP of its share at or below the true P95 (where the
 * gap makes a value error say little: a few requests move P95 by a hundred milliseconds; measured
 * 0.114 pp at most).
 */
#define GAP_MINUTE_RMS_5PCT 2.6
#define GAP_MINUTE_RMS_10PCT 3.2
#define GAP_HOUR_LEVEL_PP 0.15

static double
share_at_or_below(const int64_t *sorted, size_t n, int64_t v)
{
    return 100.0 * (double)(n - cwsim_above(sorted, n, v)) / (double)n;
}

static void
check_low_rate_incident(double slow_share, double rms_bound)
{
    enum { MINUTES = 60, HOURS = 4, MAX_N = 960 };
    static const int64_t gap_us = 500000;
    sw_rng r = {17};
    int64_t *hour = malloc(MINUTES * MAX_N * sizeof *hour);
    assert_non_null(hour);
    double sq = 0;
    for (int hr = 0; hr < HOURS; hr++) {
        sw_hdr *h = new_hdr();
        size_t n_hour = 0;
        for (int p = 0; p < MINUTES; p++) {
            size_t n = 240 + (size_t)(sw_rng_next(&r) % (MAX_N - 240 + 1));
            cwsim_mix m = {136000, 0.40, slow_share, CWSIM_SLOW_MEDIAN_US, CWSIM_SLOW_SIGMA};
            sw_hdr *minute = new_hdr();
            assert_int_equal(cwsim_period(&r, &m, n, NULL, 0, hour + n_hour, minute, NULL), SW_OK);
            double got =
                (double)(sw_hdr_total_count(minute) - sw_hdr_count_at_or_below(minute, gap_us));
            double err = got - (double)cwsim_above(hour + n_hour, n, gap_us);
            sq += err * err;
            for (size_t i = 0; i < sizeof checked / sizeof checked[0]; i++)
                if (fabs(cwsim_error(minute, hour + n_hour, n, checked[i])) > EXACT_BOUND)
                    fail_msg("slow share %g, a minute of %zu: P%g %.3f %% off, a point", slow_share,
                             n, checked[i],
                             100 * cwsim_error(minute, hour + n_hour, n, checked[i]));
            sw_hdr_add(h, minute);
            sw_hdr_free(minute);
            n_hour += n;
        }
        qsort(hour, n_hour, sizeof *hour, cwsim_cmp);
        double got = share_at_or_below(hour, n_hour, sw_hdr_value_at_percentile(h, 95));
        double want = share_at_or_below(hour, n_hour, cwsim_rank(hour, n_hour, 95));
        if (fabs(got - want) > GAP_HOUR_LEVEL_PP)
            fail_msg("slow share %g, hour %d: the reported P95 has %.3f %% at or below it, the "
                     "true one %.3f %%",
                     slow_share, hr, got, want);
        sw_hdr_free(h);
    }
    double rms = sqrt(sq / (MINUTES * HOURS));
    if (rms > rms_bound)
        fail_msg("slow share %g: requests above 500 ms off by %.2f a minute (rms), bound %.1f",
                 slow_share, rms, rms_bound);
    free(hour);
}

static void
test_low_rate_incident(void **state)
{
    (void)state;
    check_low_rate_incident(0.05, GAP_MINUTE_RMS_5PCT);
    check_low_rate_incident(0.10, GAP_MINUTE_RMS_10PCT);
}

/* Quiet hours (and 5 % incident hours without ranks) of 240 ... 960 sampled requests a minute:
 * the sum of the minutes' reconstructions conformed to the hour's own statistics (computed from
 * every drawn value) answers P50 ... P99.5 within a bucket of the hour's drawn values, and the
 * count above each fetched threshold exactly; the total stays the minutes'. The sum alone (main)
 * is off by up to 0.73 % (P99) and 0.93 % (P99.5) in the quiet hours of seeds 1 ... 3, 1.55 %
 * (P99) in seed 119's and 5.4 % (P95) in the incident hours. */
static void
check_conformed_hour(double slow_share, size_t n_thresholds, uint64_t seed)
{
    enum { MINUTES = 60, MAX_N = 960 };
    static const int64_t thresholds_us[] = {250000, 500000, 1000000};
    sw_rng r = {seed};
    int64_t *hour = malloc(MINUTES * MAX_N * sizeof *hour);
    assert_non_null(hour);
    sw_hdr *h = new_hdr();
    size_t n_hour = 0;
    for (int p = 0; p < MINUTES; p++) {
        size_t n = 240 + (size_t)(sw_rng_next(&r) % (MAX_N - 240 + 1));
        double phase = 2 * M_PI * p / 1440.0;
        cwsim_mix m = {120000 * exp(0.25 * sin(phase)), 0.45 + 0.1 * sin(phase + 1), slow_share,
                       CWSIM_SLOW_MEDIAN_US, CWSIM_SLOW_SIGMA};
        assert_int_equal(
            cwsim_period(&r, &m, n, thresholds_us, n_thresholds, hour + n_hour, h, NULL), SW_OK);
        n_hour += n;
    }
    qsort(hour, n_hour, sizeof *hour, cwsim_cmp);
    sw_cwpct_point pts[64];
    sw_cwpct_rank ranks[16];
    sw_cwpct_period pd = cwsim_window_stats(hour, n_hour, thresholds_us, n_thresholds, pts, ranks);
    assert_int_equal(sw_cwpct_conform(h, &pd, NULL), SW_OK);
    assert_int_equal(sw_hdr_total_count(h), (int64_t)n_hour);
    for (size_t i = 0; i < sizeof checked / sizeof checked[0]; i++)
        if (fabs(cwsim_error(h, hour, n_hour, checked[i])) > EXACT_BOUND)
            fail_msg("slow share %g, seed %llu: the hour's P%g %.3f %% off", slow_share,
                     (unsigned long long)seed, checked[i],
                     100 * cwsim_error(h, hour, n_hour, checked[i]));
    for (size_t i = 0; i < n_thresholds; i++)
        assert_int_equal(sw_hdr_total_count(h) - sw_hdr_count_at_or_below(h, thresholds_us[i]),
                         (int64_t)cwsim_above(hour, n_hour, thresholds_us[i]));
    sw_hdr_free(h);
    free(hour);
}

static void
test_quiet_hour_conformed(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 3; seed++) {
        check_conformed_hour(0, 3, seed);
        check_conformed_hour(0, 0, seed);
        check_conformed_hour(0.05, 0, seed);
    }
    /* quiet hours whose sum of minutes alone misses P99 by more than 1 % (-1.55 %, -1.16 %) */
    check_conformed_hour(0, 3, 119);
    check_conformed_hour(0, 0, 193);
}

/* 100 random windows (2 ... 30 periods of 1 ... 400 values, slow shares 0 ... 30 %, ranks at
 * thresholds that are drawn values in distinct buckets, so their buckets hold values on both
 * sides): the total is
 * the periods' and the count at or below every threshold is the window's, exactly. */
static void
test_conform_random_windows(void **state)
{
    (void)state;
    enum { MAX_PERIODS = 30, MAX_N = 400 };
    sw_rng r = {2026};
    int64_t *all = malloc(MAX_PERIODS * MAX_N * sizeof *all);
    assert_non_null(all);
    for (int w = 0; w < 100; w++) {
        size_t periods = 2 + (size_t)(sw_rng_next(&r) % (MAX_PERIODS - 1)), n_all = 0;
        double share = 0.3 * sw_rng_open01(&r);
        int64_t thr[3];
        sw_hdr *h = new_hdr();
        for (size_t p = 0; p < periods; p++) {
            size_t n = 1 + (size_t)(sw_rng_next(&r) % MAX_N);
            cwsim_mix m = {100000 + 50000 * sw_rng_open01(&r), 0.3 + 0.3 * sw_rng_open01(&r), share,
                           CWSIM_SLOW_MEDIAN_US, CWSIM_SLOW_SIGMA};
            assert_int_equal(cwsim_period(&r, &m, n, NULL, 0, all + n_all, h, NULL), SW_OK);
            n_all += n;
        }
        qsort(all, n_all, sizeof *all, cwsim_cmp);
        for (int i = 0; i < 3; i++) /* in distinct buckets: one bucket has one count */
            do
                thr[i] = all[sw_rng_next(&r) % n_all];
            while ((i > 0 && sw_hdr_lowest_equivalent(h, thr[i]) ==
                                 sw_hdr_lowest_equivalent(h, thr[i - 1])) ||
                   (i > 1 &&
                    sw_hdr_lowest_equivalent(h, thr[i]) == sw_hdr_lowest_equivalent(h, thr[0])));
        sw_cwpct_point pts[64];
        sw_cwpct_rank ranks[16];
        sw_cwpct_period pd = cwsim_window_stats(all, n_all, thr, 3, pts, ranks);
        assert_int_equal(sw_cwpct_conform(h, &pd, NULL), SW_OK);
        assert_int_equal(sw_hdr_total_count(h), (int64_t)n_all);
        for (int i = 0; i < 3; i++)
            assert_int_equal(sw_hdr_count_at_or_below(h, thr[i]),
                             (int64_t)(n_all - cwsim_above(all, n_all, thr[i])));
        sw_hdr_free(h);
    }
    free(all);
}

/* Conforming keeps the histogram's total when the window's SampleCount differs (a minute
 * missing), empties nothing, and refuses a count that is not a number. */
static void
test_conform_edges(void **state)
{
    (void)state;
    sw_hdr *h = new_hdr();
    for (int64_t v = 1000; v <= 100000; v += 1000)
        sw_hdr_record(h, v);
    sw_cwpct_point pts[] = {{50, 80}}; /* ms: half the window's 200 values at or below 80 ms */
    sw_cwpct_period pd = {pts, 1, NULL, 0, 200, 1, 100, 1000, NAN};
    assert_int_equal(sw_cwpct_conform(h, &pd, NULL), SW_OK);
    assert_int_equal(sw_hdr_total_count(h), 100);
    assert_int_equal(sw_hdr_count_at_or_below(h, 80000), 50);
    assert_int_equal(sw_hdr_count_at_or_below(h, 999), 0);
    pd.sample_count = NAN;
    assert_int_equal(sw_cwpct_conform(h, &pd, NULL), SW_E_INVAL);
    assert_int_equal(sw_hdr_total_count(h), 100);
    /* P50 (the 50th of 100) 50 us above a rank's threshold, in the same bucket: the rank's
     * count holds, and P50 reads the next bucket up, not the next one the shape holds values */
    sw_cwpct_point above_rank[] = {{50, 80.05}};
    sw_cwpct_rank rank[] = {{80, 49}};
    sw_cwpct_period shared = {above_rank, 1, rank, 1, 100, 1, 100, 1000, NAN};
    assert_int_equal(sw_cwpct_conform(h, &shared, NULL), SW_OK);
    assert_int_equal(sw_hdr_count_at_or_below(h, 80000), 49);
    assert_true(fabs((double)sw_hdr_value_at_percentile(h, 50) / 80050.0 - 1) < EXACT_BOUND);
    /* a Maximum beyond what the histogram tracks: kept at its top, nothing lost */
    sw_cwpct_period beyond = {above_rank, 1, rank, 1, 100, 1, 1e15, 1000, NAN};
    assert_int_equal(sw_cwpct_conform(h, &beyond, NULL), SW_OK);
    assert_int_equal(sw_hdr_total_count(h), 100);
    assert_int_equal(sw_hdr_count_at_or_below(h, 80000), 49);
    sw_hdr_free(h);
}

/* A window's statistics as the store keeps them: read back as written (non-finite points and
 * ranks left out), the pin built on them conforms like sw_cwpct_conform, and other bytes are
 * refused without touching the histogram. */
static void
test_window_bytes(void **state)
{
    (void)state;
    sw_cwpct_point pts[] = {{50, 80}, {99, NAN}, {99.9, 99.5}};
    sw_cwpct_rank ranks[] = {{0.5, 97.25}, {1, NAN}};
    sw_cwpct_period pd = {pts, 3, ranks, 2, 200, 1, 100, 1000, 12345.5};
    uint8_t bytes[SW_CWPCT_WINDOW_MAX_BYTES];
    size_t len = 0;
    assert_int_equal(sw_cwpct_window_encode(&pd, bytes, &len, NULL), SW_OK);
    assert_int_equal(len, 6 + 8 * (5 + 2 * 2 + 2 * 1));
    sw_cwpct_window w;
    assert_int_equal(sw_cwpct_window_decode(bytes, len, &w, NULL), SW_OK);
    assert_int_equal(w.period.n_points, 2);
    assert_int_equal(w.period.n_ranks, 1);
    assert_true(w.period.points[1].p == 99.9 && w.period.points[1].value == 99.5);
    assert_true(w.period.ranks[0].threshold == 0.5 && w.period.ranks[0].rank_pct == 97.25);
    assert_true(w.period.sample_count == 200 && w.period.min == 1 && w.period.max == 100 &&
                w.period.unit_us == 1000 && w.period.sum == 12345.5);

    sw_hdr *h = new_hdr(), *want = new_hdr();
    for (int64_t v = 1000; v <= 100000; v += 1000) {
        sw_hdr_record(h, v);
        sw_hdr_record(want, v);
    }
    assert_int_equal(sw_cwpct_pin_stored(NULL, bytes, len, h, NULL), SW_OK);
    assert_int_equal(sw_cwpct_conform(want, &w.period, NULL), SW_OK);
    assert_int_equal(sw_hdr_total_count(h), 100);
    for (int64_t v = 1000; v <= 100000; v += 1000)
        assert_int_equal(sw_hdr_count_at_or_below(h, v), sw_hdr_count_at_or_below(want, v));

    sw_err err = {0};
    assert_int_equal(sw_cwpct_pin_stored(NULL, bytes, len - 1, h, &err), SW_E_PARSE);
    assert_non_null(strstr(err.msg, "window statistics"));
    bytes[0] = 'X';
    assert_int_equal(sw_cwpct_window_decode(bytes, len, &w, NULL), SW_E_PARSE);
    assert_int_equal(sw_hdr_total_count(h), 100);
    sw_cwpct_point many[SW_CWPCT_WINDOW_MAX_POINTS + 1];
    for (size_t i = 0; i < sizeof many / sizeof many[0]; i++)
        many[i] = (sw_cwpct_point){1 + (double)i, 1 + (double)i};
    sw_cwpct_period over = {many, sizeof many / sizeof many[0], NULL, 0, 200, 1, 100, 1000, NAN};
    assert_int_equal(sw_cwpct_window_encode(&over, bytes, &len, NULL), SW_E_INVAL);
    sw_hdr_free(h);
    sw_hdr_free(want);
}

/* periods of 60 ... 1,500 values, median drifting +-25 % (and incidents' slow shares when
 * slow) merged into one histogram: P50 ... P99.5 against the drawn values. */
static void
check_window(size_t periods, size_t per_period, double slow_share, uint64_t seed)
{
    sw_rng r = {seed};
    int64_t *all = malloc(periods * per_period * 2 * sizeof *all);
    assert_non_null(all);
    size_t n_all = 0;
    sw_hdr *h = new_hdr();
    static const int64_t thresholds[] = {300000, 500000};
    for (size_t p = 0; p < periods; p++) {
        size_t n = per_period / 2 + (size_t)(sw_rng_next(&r) % per_period);
        cwsim_mix m = {120000 * exp(0.25 * sin((double)p / 200)), 0.5, slow_share,
                       CWSIM_SLOW_MEDIAN_US, CWSIM_SLOW_SIGMA};
        assert_int_equal(cwsim_period(&r, &m, n, thresholds, 2, all + n_all, h, NULL), SW_OK);
        n_all += n;
    }
    assert_int_equal(sw_hdr_total_count(h), (int64_t)n_all);
    qsort(all, n_all, sizeof *all, cwsim_cmp);
    for (size_t i = 0; i < sizeof checked / sizeof checked[0]; i++) {
        double e = cwsim_error(h, all, n_all, checked[i]);
        if (fabs(e) > SAMPLED_BOUND)
            fail_msg("slow share %g P%g: %.3f %% off", slow_share, checked[i], 100 * e);
    }
    for (size_t i = 0; i < 2; i++)
        assert_int_equal(sw_hdr_total_count(h) - sw_hdr_count_at_or_below(h, thresholds[i]),
                         (int64_t)cwsim_above(all, n_all, thresholds[i]));
    sw_hdr_free(h);
    free(all);
}

static void
test_day_within_bound(void **state)
{
    (void)state;
    check_window(1440, 1000, 0, 11);
}

/* 30 days of 1-minute periods at a modest 60 requests a minute (keeps the test fast; the
 * benchmark runs busier months). */
static void
test_month_within_bound(void **state)
{
    (void)state;
    check_window(30 * 1440, 60, 0, 101);
}

/* Incident minutes (14 % slow): whatever the grid's points make of the gap, the counts above
 * the ranks' thresholds are exact in every period. */
static void
test_ranks_exact(void **state)
{
    (void)state;
    sw_rng r = {7};
    int64_t v[3000];
    for (int p = 0; p < 400; p++) {
        size_t n = 1 + (size_t)(sw_rng_next(&r) % 3000);
        cwsim_mix m = {120000, 0.5, 0.05 * (p % 7), CWSIM_SLOW_MEDIAN_US, CWSIM_SLOW_SIGMA};
        /* thresholds drawn near the values, often inside a bucket holding some */
        int64_t t[3] = {100000 + (int64_t)(sw_rng_next(&r) % 900000), 250000, 500000};
        sw_hdr *h = new_hdr();
        assert_int_equal(cwsim_period(&r, &m, n, t, 3, v, h, NULL), SW_OK);
        for (size_t i = 0; i < 3; i++)
            if (sw_hdr_total_count(h) - sw_hdr_count_at_or_below(h, t[i]) !=
                (int64_t)cwsim_above(v, n, t[i]))
                fail_msg("period %d (%zu values): %lld above %lld us, drawn %zu", p, n,
                         (long long)(sw_hdr_total_count(h) - sw_hdr_count_at_or_below(h, t[i])),
                         (long long)t[i], cwsim_above(v, n, t[i]));
        sw_hdr_free(h);
    }
}

/* A rank that the points contradict wins: p50 says 100 ms, PR(:50) says 80 % are <= 50 ms. */
static void
test_rank_beats_points(void **state)
{
    (void)state;
    sw_cwpct_point pts[] = {{50, 100}, {90, 300}};
    sw_cwpct_rank ranks[] = {{50, 80}};
    sw_cwpct_period pd = {pts, 2, ranks, 1, 1000, 10, 400, 1000, NAN};
    sw_hdr *h = new_hdr();
    assert_int_equal(sw_cwpct_record(h, &pd, NULL), SW_OK);
    assert_int_equal(sw_hdr_count_at_or_below(h, 50000), 800);
    assert_int_equal(sw_hdr_total_count(h), 1000);
    sw_hdr_free(h);
}

/* 4 values, min 0, p50 = 100 ms, max 200 ms: p50 is the 2nd value, so the knots sit at the
 * levels 12.5 % (min), 37.5 % (p50) and 87.5 % (max); the third value, at 62.5 %, lies on the
 * line from p50 to max in (normal quantile, log(1 + us)). */
static void
test_placement(void **state)
{
    (void)state;
    sw_hdr *h = new_hdr();
    sw_cwpct_point p50 = {50, 100};
    sw_cwpct_period pd = {&p50, 1, NULL, 0, 4, 0, 200, 1000, NAN};
    assert_int_equal(sw_cwpct_record(h, &pd, NULL), SW_OK);
    double za = probit(0.375), zb = probit(0.875), z = probit(0.625);
    double third = expm1(log1p(100000) + (log1p(200000) - log1p(100000)) * (z - za) / (zb - za));
    /* buckets are 16 ... 128 us wide here: probe well clear of the values */
    assert_int_equal(sw_hdr_count_at_or_below(h, 0), 1);
    assert_int_equal(sw_hdr_count_at_or_below(h, 99000), 1);
    assert_int_equal(sw_hdr_count_at_or_below(h, 100000), 2);
    assert_int_equal(sw_hdr_count_at_or_below(h, (int64_t)third - 500), 2);
    assert_int_equal(sw_hdr_count_at_or_below(h, (int64_t)third + 500), 3);
    assert_int_equal(sw_hdr_count_at_or_below(h, 199000), 3);
    assert_int_equal(sw_hdr_count_at_or_below(h, 200000), 4);
    sw_hdr_free(h);
}

/* Ten million samples over 1 ... 2 s (the bucket-walk path): total exact, p50 (the 5,000,000th
 * value) in 1.5 s's bucket. */
static void
test_large_count_exact(void **state)
{
    (void)state;
    sw_hdr *h = new_hdr();
    sw_cwpct_point pts[] = {{99, 1.99}, {50, 1.5}, {1, 1.01}}; /* unsorted on purpose */
    sw_cwpct_period pd = {pts, 3, NULL, 0, 1e7 + 0.4, 1, 2, 1e6, NAN};
    assert_int_equal(sw_cwpct_record(h, &pd, NULL), SW_OK);
    assert_int_equal(sw_hdr_total_count(h), 10000000);
    assert_true(sw_hdr_count_at_or_below(h, sw_hdr_lowest_equivalent(h, 1500000) - 1) < 5000000);
    assert_true(sw_hdr_count_at_or_below(h, 1500000) >= 5000000);
    assert_int_equal(sw_hdr_min(h), sw_hdr_lowest_equivalent(h, 1000000));
    sw_hdr_free(h);
}

/* Without min/max the end segments continue the neighbouring lines: p50 = 40 ms and
 * p75 = 60 ms carried on to the last of 1,000 values' level (99.95 %). */
static void
test_unknown_ends(void **state)
{
    (void)state;
    sw_hdr *h = new_hdr();
    sw_cwpct_point pts[] = {{25, 20}, {50, 40}, {75, 60}};
    sw_cwpct_period pd = {pts, 3, NULL, 0, 1000, NAN, NAN, 1000, NAN};
    assert_int_equal(sw_cwpct_record(h, &pd, NULL), SW_OK);
    assert_int_equal(sw_hdr_total_count(h), 1000);
    double z50 = probit(0.4995), z75 = probit(0.7495), ztop = probit(0.9995);
    double slope = (log1p(60000) - log1p(40000)) / (z75 - z50);
    double top = expm1(log1p(60000) + slope * (ztop - z75));
    assert_true(fabs((double)sw_hdr_max(h) - top) < top * 0.002);
    assert_true(sw_hdr_min(h) < 20000);
    sw_hdr_free(h);
}

/* One value: every percentile is that value's, so every knot sits at level 50 %; the value is
 * still recorded (it was dropped), on the rank's side of its threshold. */
static void
test_single_value(void **state)
{
    (void)state;
    sw_hdr *h = new_hdr();
    sw_cwpct_point pts[] = {{10, 120}, {50, 120}, {99.9, 120}};
    sw_cwpct_rank rank = {100, 0}; /* the one value is above 100 ms */
    sw_cwpct_period pd = {pts, 3, &rank, 1, 1, 120, 120, 1000, 120};
    assert_int_equal(sw_cwpct_record(h, &pd, NULL), SW_OK);
    assert_int_equal(sw_hdr_total_count(h), 1);
    assert_int_equal(sw_hdr_count_at_or_below(h, 100000), 0);
    assert_int_equal(sw_hdr_count_at_or_below(h, 120000), 1);
    sw_hdr_free(h);
}

static void
test_rank_counts(void **state)
{
    (void)state;
    uint64_t good, bad;
    assert_int_equal(sw_cwpct_rank_counts(99.25, 4000, &good, &bad, NULL), SW_OK);
    assert_int_equal(good, 3970);
    assert_int_equal(bad, 30);
    sw_err err;
    assert_int_equal(sw_cwpct_rank_counts(100.5, 10, &good, &bad, &err), SW_E_INVAL);
}

static void
test_refused(void **state)
{
    (void)state;
    sw_hdr *h = new_hdr();
    sw_cwpct_point p = {50, 10};
    sw_cwpct_rank bad_rank = {100, 101};
    sw_err err;
    sw_cwpct_period pd = {&p, 1, NULL, 0, -1, NAN, NAN, 1000, NAN};
    assert_int_equal(sw_cwpct_record(h, &pd, &err), SW_E_INVAL);
    pd.sample_count = INFINITY;
    assert_int_equal(sw_cwpct_record(h, &pd, &err), SW_E_INVAL);
    pd.sample_count = 10;
    pd.unit_us = 0;
    assert_int_equal(sw_cwpct_record(h, &pd, &err), SW_E_INVAL);
    pd.unit_us = 1000;
    pd.ranks = &bad_rank;
    pd.n_ranks = 1;
    assert_int_equal(sw_cwpct_record(h, &pd, &err), SW_E_INVAL);
    sw_cwpct_period none = {NULL, 0, NULL, 0, 10, NAN, NAN, 1000, NAN};
    assert_int_equal(sw_cwpct_record(h, &none, &err), SW_E_INVAL);
    assert_int_equal(sw_hdr_total_count(h), 0);
    /* no points but min and max: the line between them */
    sw_cwpct_period ends = {NULL, 0, NULL, 0, 10, 10, 20, 1000, NAN};
    assert_int_equal(sw_cwpct_record(h, &ends, NULL), SW_OK);
    assert_int_equal(sw_hdr_total_count(h), 10);
    sw_hdr_free(h);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lognormal_between_points),
        cmocka_unit_test(test_incident_gap),
        cmocka_unit_test(test_low_rate_incident),
        cmocka_unit_test(test_quiet_hour_conformed),
        cmocka_unit_test(test_conform_edges),
        cmocka_unit_test(test_window_bytes),
        cmocka_unit_test(test_conform_random_windows),
        cmocka_unit_test(test_day_within_bound),
        cmocka_unit_test(test_month_within_bound),
        cmocka_unit_test(test_ranks_exact),
        cmocka_unit_test(test_rank_beats_points),
        cmocka_unit_test(test_placement),
        cmocka_unit_test(test_large_count_exact),
        cmocka_unit_test(test_unknown_ends),
        cmocka_unit_test(test_single_value),
        cmocka_unit_test(test_rank_counts),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
