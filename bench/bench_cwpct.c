/*
 * The percentile grid's accuracy on generated months, and its cost. Each month is 43,200
 * one-minute periods of log-normal latency whose median (120 ms x e^(+-0.25)) and spread
 * (sigma 0.45 +- 0.1) drift over the day ("drift"); the incident month adds five 4-hour
 * incidents (days 3, 9, 15, 21, 27) during which 5, 10, 14, 20 and 30 % of the requests come
 * from a slow mode around 900 ms ("incidents"). Two kinds of month:
 *   large rate: 30,000 ... 120,000 requests a minute; each minute's statistics are its mixture's
 *     exact quantiles (as CloudWatch's are for so many values) and the truth of every window is
 *     its minutes' mixture's exact quantile (bisection on the summed CDFs);
 *   sampled: 240 ... 960 drawn requests a minute; statistics by nearest rank, truth the drawn
 *     values (sorted per minute, a 5-digit histogram beyond).
 * Per minute the statistics (the grid, Minimum, Maximum, Sum) are spread with sw_cwpct_record,
 * with PR(:T) at the thresholds (250 ms, 500 ms, 1 s) or without ("noPR"). Printed: the worst
 * relative error of P50, P95, P97.5, P99, P99.5 over every window of a minute, an hour, a day
 * and the month, and of the count above each threshold (windows with at least MIN_ABOVE /
 * MIN_ABOVE_EXACT above it); then, per percentile, the worst level error: the truth's share up
 * to the reported value's bucket minus its share at or below the true percentile (percentage
 * points; see window).
 * Each month is run three ways: minutes alone; with every hour also fetched as one period
 * ("_hours": the hour's sum of minutes conformed to its statistics, sw_cwpct_conform, which the
 * generator computes from the hour's drawn values, or for large rates its mixture's exact
 * quantiles); and with days fetched too ("_days"). The truth is computed from the drawn values
 * as before, never from a reconstruction.
 * Mode "rolling" (build/bench/bench_cwpct SEED rolling) runs the live evaluator instead: the
 * sampled drift and incident months (PR fetched) fed minute by minute as serve feeds them, with
 * objectives P50 ... P99.5 over rolling 6 h, 1 d, 1 h and 30 min windows read every 5 minutes
 * (and the 1 h window read on the hour, after that hour's pin: one whole hour), once with
 * every hour pinned to its own statistics as soon as it has ended (sw_eval_pin_hour, what serve
 * does when the poller has fetched the hour) and once from minutes alone; the truth is the
 * window's drawn values (their nearest rank, to 0.001 %, from a count of them in log buckets,
 * minutes added and taken out as the window moves). Printed: the worst relative error of each
 * percentile over every evaluation, and its worst level error (the truth's share at or below
 * the answer minus its share at or below the true percentile, percentage points, to 0.001 %).
 * A third way ("windows") pins the hours too and, at each reading, also every window
 * to its own statistics as one period ending there (sw_eval_pin_window, what serve does with
 * the window CloudWatch answers at each poll): the grid and PR(:T) of the window's drawn values
 * (the grid by nearest rank to 0.001 %, from the truth's counts; ranks, Minimum, Maximum and
 * SampleCount exact), then evaluated again at the same time, as the tick does.
 * A third argument runs that many days instead of 30.
 * Then the time to spread one period: 60,000 values from a fixed grid, and an incident minute
 * of 600 drawn values (drawing and sorting them included). The minutes-only months take about
 * 4 minutes of one core, the six kinds about three times that; the four sampled months with
 * hours fetched (sampled_hours) about 50 s.
 * Run: ninja -C build bench-cwpct  (or build/bench/bench_cwpct [seed [month]], month a part of
 * the months' names, e.g. incidents_exact or sampled_hours).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "slawatch/eval.h"
#include "slawatch/rules.h"

#include "cwpct_sim.h"

#define MINUTES (30 * 1440)
#define MAX_RATE 960
#define N_PCT 5
#define N_THR 3
#define N_WIN 4
/* A count's relative error is read where at least this many are above: sampled counts are
 * whole, the large-rate limit's are expectations that per-minute rounding moves by up to 0.5. */
#define MIN_ABOVE 100
#define MIN_ABOVE_EXACT 20000

static const double pcts[N_PCT] = {50, 95, 97.5, 99, 99.5};
static const int64_t thresholds_us[N_THR] = {250000, 500000, 1000000};
static const char *const window_names[N_WIN] = {"minute", "hour", "day", "month"};
static const sw_hdr_config truth_config = {1, SW_HDR_LATENCY_HIGHEST_US, 5};

typedef struct window {
    sw_hdr *recon, *truth; /* truth NULL for minutes: the sorted values are */
    uint64_t above[N_THR];
    double worst_pct[N_PCT], worst_count[N_THR];
    /* The truth's share at or below the reported percentile's bucket (at or below its top when
     * the true percentile is above it, below its bottom when under it; 0 when inside) minus its
     * share at or below the true percentile, in percentage points: how far off the level is
     * where a value error says little (in an incident's gap a tiny share spans hundreds of
     * milliseconds). */
    double worst_level[N_PCT];
} window;

/* Which windows are also fetched as one period and conformed to it (sw_cwpct_conform). */
typedef enum resolution { MINUTES_ONLY, HOURS_TOO, DAYS_TOO } resolution;

typedef struct month {
    bool incidents, fetch_ranks, continuous;
    resolution fetched;
    window w[N_WIN];
} month;

static const double incident_share[] = {0.05, 0.10, 0.14, 0.20, 0.30};
static const int incident_day[] = {3, 9, 15, 21, 27};

static cwsim_mix
mix_at(const month *mo, int minute)
{
    double phase = 2 * M_PI * (minute % 1440) / 1440.0;
    cwsim_mix m = {120000 * exp(0.25 * sin(phase)), 0.45 + 0.1 * sin(phase + 1), 0,
                   CWSIM_SLOW_MEDIAN_US, CWSIM_SLOW_SIGMA};
    for (size_t i = 0; mo->incidents && i < sizeof incident_day / sizeof incident_day[0]; i++) {
        int start = incident_day[i] * 1440 + 600;
        if (minute >= start && minute < start + 240)
            m.slow_share = incident_share[i];
    }
    return m;
}

static size_t
rate_at(int minute)
{
    return (size_t)(600 - 360 * cos(2 * M_PI * (minute % 1440) / 1440.0));
}

static void
note(double *worst, double e)
{
    if (fabs(e) > fabs(*worst))
        *worst = e;
}

/* Percent of the window's drawn values at or below v: the sorted values of a minute, the
 * truth histogram beyond. */
static double
truth_share_at_or_below(const window *w, const int64_t *sorted, size_t n, int64_t v)
{
    if (w->truth == NULL)
        return 100.0 * (double)(n - cwsim_above(sorted, n, v)) / (double)n;
    return 100.0 * (double)sw_hdr_count_at_or_below(w->truth, v) /
           (double)sw_hdr_total_count(w->truth);
}

/* Window k has ended: compare, hand on to the next longer window, start again. */
static void
close_window(month *mo, int k, const int64_t *sorted, size_t n)
{
    window *w = &mo->w[k];
    for (int i = 0; i < N_PCT; i++) {
        double got = (double)sw_hdr_value_at_percentile(w->recon, pcts[i]);
        double want = w->truth == NULL ? (double)cwsim_rank(sorted, n, pcts[i])
                                       : (double)sw_hdr_value_at_percentile(w->truth, pcts[i]);
        note(&w->worst_pct[i], (got - want) / want);
        int64_t bottom = sw_hdr_lowest_equivalent(w->recon, (int64_t)got);
        double share_want = truth_share_at_or_below(w, sorted, n, (int64_t)want);
        if (want > got)
            note(&w->worst_level[i],
                 truth_share_at_or_below(w, sorted, n, (int64_t)got) - share_want);
        else if (want < (double)bottom)
            note(&w->worst_level[i],
                 truth_share_at_or_below(w, sorted, n, bottom - 1) - share_want);
    }
    int64_t total = sw_hdr_total_count(w->recon);
    for (int i = 0; i < N_THR; i++) {
        double got = (double)(total - sw_hdr_count_at_or_below(w->recon, thresholds_us[i]));
        if (w->above[i] >= MIN_ABOVE)
            note(&w->worst_count[i], (got - (double)w->above[i]) / (double)w->above[i]);
    }
    if (k + 1 < N_WIN) {
        sw_hdr_add(mo->w[k + 1].recon, w->recon);
        if (w->truth != NULL)
            sw_hdr_add(mo->w[k + 1].truth, w->truth);
        for (int i = 0; i < N_THR; i++)
            mo->w[k + 1].above[i] += w->above[i];
    }
    sw_hdr_reset(w->recon);
    if (w->truth != NULL)
        sw_hdr_reset(w->truth);
    memset(w->above, 0, sizeof w->above);
}

/* What CloudWatch answers for the window as one period (from every value drawn in it, sorted
 * here), and the window's sum of minutes conformed to it. */
static void
conform_sampled(const month *mo, int64_t *values, size_t n, sw_hdr *h)
{
    sw_cwpct_point pts[64];
    sw_cwpct_rank ranks[N_THR];
    qsort(values, n, sizeof *values, cwsim_cmp);
    sw_cwpct_period pd =
        cwsim_window_stats(values, n, thresholds_us, mo->fetch_ranks ? N_THR : 0, pts, ranks);
    if (sw_cwpct_conform(h, &pd, NULL) != SW_OK)
        exit(1);
}

static void
run_month(month *mo, uint64_t seed)
{
    sw_rng r = {seed};
    int64_t *v = malloc(MAX_RATE * sizeof *v);
    int64_t *hour = malloc(60 * MAX_RATE * sizeof *hour),
            *day = malloc(1440 * MAX_RATE * sizeof *day);
    size_t n_hour = 0, n_day = 0;
    if (v == NULL || hour == NULL || day == NULL)
        exit(1);
    for (int k = 0; k < N_WIN; k++)
        if (sw_hdr_new(&sw_hdr_latency_config, &mo->w[k].recon, NULL) != SW_OK ||
            (k > 0 && sw_hdr_new(&truth_config, &mo->w[k].truth, NULL) != SW_OK))
            exit(1);
    for (int minute = 0; minute < MINUTES; minute++) {
        cwsim_mix m = mix_at(mo, minute);
        size_t n = rate_at(minute);
        if (cwsim_period(&r, &m, n, thresholds_us, mo->fetch_ranks ? N_THR : 0, v, mo->w[0].recon,
                         NULL) != SW_OK)
            exit(1);
        for (size_t i = 0; i < n; i++)
            sw_hdr_record(mo->w[1].truth, v[i]);
        for (int i = 0; i < N_THR; i++)
            mo->w[0].above[i] = cwsim_above(v, n, thresholds_us[i]);
        memcpy(hour + n_hour, v, n * sizeof *v);
        memcpy(day + n_day, v, n * sizeof *v);
        n_hour += n;
        n_day += n;
        close_window(mo, 0, v, n);
        if ((minute + 1) % 60 == 0) {
            if (mo->fetched >= HOURS_TOO)
                conform_sampled(mo, hour, n_hour, mo->w[1].recon);
            close_window(mo, 1, NULL, 0);
            n_hour = 0;
        }
        if ((minute + 1) % 1440 == 0) {
            if (mo->fetched >= DAYS_TOO)
                conform_sampled(mo, day, n_day, mo->w[2].recon);
            close_window(mo, 2, NULL, 0);
            n_day = 0;
        }
    }
    close_window(mo, 3, NULL, 0);
    for (int k = 0; k < N_WIN; k++) {
        sw_hdr_free(mo->w[k].recon);
        sw_hdr_free(mo->w[k].truth);
    }
    free(v);
    free(hour);
    free(day);
}

/* ------------------------------------------------------------------ the large-rate limit */

/* A minute's mixture with its weight (requests), for exact window quantiles. */
typedef struct component {
    double mu, sigma, slow_share, mu_slow, sigma_slow, n;
} component;

static component comps[MINUTES];

static double
phi(double z)
{
    return 0.5 * erfc(-z / sqrt(2.0));
}

/* Share of the window's (components c[0..n)) requests at or below e^y microseconds. */
static double
mixture_cdf(const component *c, size_t n, double y, double *ret_total)
{
    double below = 0, total = 0;
    for (size_t i = 0; i < n; i++) {
        double f = (1 - c[i].slow_share) * phi((y - c[i].mu) / c[i].sigma);
        if (c[i].slow_share > 0)
            f += c[i].slow_share * phi((y - c[i].mu_slow) / c[i].sigma_slow);
        below += c[i].n * f;
        total += c[i].n;
    }
    *ret_total = total;
    return below / total;
}

/* The exact quantile (microseconds) of level q in (0, 1), by bisection in log value. */
static double
mixture_quantile(const component *c, size_t n, double q)
{
    double lo = log(1.0), hi = log((double)SW_HDR_LATENCY_HIGHEST_US), total;
    for (int it = 0; it < 80; it++) {
        double mid = (lo + hi) / 2;
        if (mixture_cdf(c, n, mid, &total) < q)
            lo = mid;
        else
            hi = mid;
    }
    return exp(hi);
}

static component
component_of(const cwsim_mix *m, double n)
{
    return (component){log(m->median_us),      m->sigma,      m->slow_share,
                       log(m->slow_median_us), m->slow_sigma, n};
}

/* A minute's mean (microseconds): what CloudWatch's Sum / SampleCount is for many requests. */
static double
mixture_mean(const component *c)
{
    return (1 - c->slow_share) * exp(c->mu + c->sigma * c->sigma / 2) +
           c->slow_share * exp(c->mu_slow + c->sigma_slow * c->sigma_slow / 2);
}

/* What CloudWatch answers for a minute of many requests: the mixture's exact quantiles. */
static void
continuous_period(const month *mo, const component *c, int64_t n, sw_hdr *h)
{
    sw_cwpct_point pts[64];
    sw_cwpct_rank ranks[N_THR];
    double total;
    for (size_t g = 0; g < sw_cwpct_grid_len; g++)
        pts[g] = (sw_cwpct_point){sw_cwpct_grid[g],
                                  mixture_quantile(c, 1, sw_cwpct_grid[g] / 100) / 1000};
    for (int i = 0; i < N_THR; i++)
        ranks[i] = (sw_cwpct_rank){(double)thresholds_us[i] / 1000,
                                   100 * mixture_cdf(c, 1, log((double)thresholds_us[i]), &total)};
    sw_cwpct_period pd = {pts,
                          sw_cwpct_grid_len,
                          ranks,
                          mo->fetch_ranks ? N_THR : 0,
                          (double)n,
                          mixture_quantile(c, 1, 0.5 / (double)n) / 1000,
                          mixture_quantile(c, 1, 1 - 0.5 / (double)n) / 1000,
                          1000,
                          mixture_mean(c) / 1000 * (double)n};
    if (sw_cwpct_record(h, &pd, NULL) != SW_OK)
        exit(1);
}

/* What CloudWatch answers for a window of many requests (components c[0..n)) as one period:
 * its mixture's exact quantiles and ranks; the window's sum of minutes conformed to them. */
static void
conform_continuous(const month *mo, const component *c, size_t n, sw_hdr *h)
{
    sw_cwpct_point pts[64];
    sw_cwpct_rank ranks[N_THR];
    double total;
    mixture_cdf(c, n, 0, &total);
    for (size_t g = 0; g < sw_cwpct_grid_len; g++)
        pts[g] = (sw_cwpct_point){sw_cwpct_grid[g],
                                  mixture_quantile(c, n, sw_cwpct_grid[g] / 100) / 1000};
    for (int i = 0; i < N_THR; i++)
        ranks[i] = (sw_cwpct_rank){(double)thresholds_us[i] / 1000,
                                   100 * mixture_cdf(c, n, log((double)thresholds_us[i]), &total)};
    sw_cwpct_period pd = {pts,
                          sw_cwpct_grid_len,
                          ranks,
                          mo->fetch_ranks ? N_THR : 0,
                          total,
                          mixture_quantile(c, n, 0.5 / total) / 1000,
                          mixture_quantile(c, n, 1 - 0.5 / total) / 1000,
                          1000,
                          NAN};
    if (sw_cwpct_conform(h, &pd, NULL) != SW_OK)
        exit(1);
}

/* Compare window k (components c[0..n)) with its exact quantiles and counts, hand it on. */
static void
close_continuous(month *mo, int k, const component *c, size_t n)
{
    window *w = &mo->w[k];
    double total;
    for (int i = 0; i < N_PCT; i++) {
        double got = (double)sw_hdr_value_at_percentile(w->recon, pcts[i]);
        double want = mixture_quantile(c, n, pcts[i] / 100);
        note(&w->worst_pct[i], (got - want) / want);
        double bottom = (double)sw_hdr_lowest_equivalent(w->recon, (int64_t)got);
        if (want > got || want < bottom)
            note(&w->worst_level[i],
                 100 * mixture_cdf(c, n, log(want > got ? got : bottom), &total) - pcts[i]);
    }
    int64_t count = sw_hdr_total_count(w->recon);
    for (int i = 0; i < N_THR; i++) {
        double above = (1 - mixture_cdf(c, n, log((double)thresholds_us[i]), &total)) * total;
        double got = (double)(count - sw_hdr_count_at_or_below(w->recon, thresholds_us[i]));
        if (above >= MIN_ABOVE_EXACT)
            note(&w->worst_count[i], (got - above) / above);
    }
    if (k + 1 < N_WIN)
        sw_hdr_add(mo->w[k + 1].recon, w->recon);
    sw_hdr_reset(w->recon);
}

/* Large-rate months (30,000 ... 120,000 requests a minute, ALB scale): the statistics are the
 * mixture's exact quantiles, as CloudWatch's are for so many values, and the truth of every
 * window is the exact quantile of its minutes' mixture. */
static void
run_continuous(month *mo)
{
    for (int k = 0; k < N_WIN; k++)
        if (sw_hdr_new(&sw_hdr_latency_config, &mo->w[k].recon, NULL) != SW_OK)
            exit(1);
    for (int minute = 0; minute < MINUTES; minute++) {
        cwsim_mix m = mix_at(mo, minute);
        comps[minute] = component_of(&m, 125.0 * (double)rate_at(minute));
        continuous_period(mo, &comps[minute], (int64_t)comps[minute].n, mo->w[0].recon);
        close_continuous(mo, 0, &comps[minute], 1);
        if ((minute + 1) % 60 == 0) {
            if (mo->fetched >= HOURS_TOO)
                conform_continuous(mo, &comps[minute - 59], 60, mo->w[1].recon);
            close_continuous(mo, 1, &comps[minute - 59], 60);
        }
        if ((minute + 1) % 1440 == 0) {
            if (mo->fetched >= DAYS_TOO)
                conform_continuous(mo, &comps[minute - 1439], 1440, mo->w[2].recon);
            close_continuous(mo, 2, &comps[minute - 1439], 1440);
        }
    }
    close_continuous(mo, 3, comps, MINUTES);
    for (int k = 0; k < N_WIN; k++)
        sw_hdr_free(mo->w[k].recon);
}

static const char *
month_name(const month *mo)
{
    static const char *const names[2][2][3] = {
        {{"drift_sampled", "drift_sampled_hours", "drift_sampled_days"},
         {"drift_exact", "drift_exact_hours", "drift_exact_days"}},
        {{"incidents_sampled", "incidents_sampled_hours", "incidents_sampled_days"},
         {"incidents_exact", "incidents_exact_hours", "incidents_exact_days"}}};
    return names[mo->incidents][mo->continuous][mo->fetched];
}

static void
print_month(const month *mo)
{
    for (int k = 0; k < N_WIN; k++) {
        printf("cwpct_%s_%s%s", month_name(mo), mo->fetch_ranks ? "" : "noPR_", window_names[k]);
        for (int i = 0; i < N_PCT; i++)
            printf(" P%g %+.2f%%", pcts[i], 100 * mo->w[k].worst_pct[i]);
        for (int i = 0; i < N_THR; i++)
            printf(" >%lldms %+.2f%%", (long long)(thresholds_us[i] / 1000),
                   100 * mo->w[k].worst_count[i]);
        for (int i = 0; i < N_PCT; i++)
            printf(" levelP%g %+.3fpp", pcts[i], mo->w[k].worst_level[i]);
        printf("\n");
    }
}

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* One period of 60,000 samples (1,000 req/s) from a fixed grid and two ranks, spread many
 * times. */
static void
spread_cost(void)
{
    sw_cwpct_point pts[32];
    sw_cwpct_rank ranks[] = {{250, 95.5}, {500, 99.1}};
    sw_hdr *h = NULL;
    if (sw_hdr_new(&sw_hdr_latency_config, &h, NULL) != SW_OK)
        exit(1);
    for (size_t g = 0; g < sw_cwpct_grid_len; g++)
        pts[g] = (sw_cwpct_point){sw_cwpct_grid[g], 50 + 4 * sw_cwpct_grid[g]};
    sw_cwpct_period pd = {pts, sw_cwpct_grid_len, ranks, 2, 60000, 20, 900, 1000, NAN};
    int rounds = 2000;
    double t0 = now_s();
    for (int i = 0; i < rounds; i++)
        sw_cwpct_record(h, &pd, NULL);
    printf("cwpct_record_60000_samples %.1f us\n", (now_s() - t0) / rounds * 1e6);
    sw_hdr_free(h);
}

/* Incident minutes of 600 drawn values (5, 10, 14, 20 and 30 % slow, statistics without
 * ranks: the two-mode fit and the gap placed by Sum), each spread many times. */
static void
incident_cost(void)
{
    static const double shares[] = {0.05, 0.10, 0.14, 0.20, 0.30};
    int64_t v[600];
    sw_hdr *h = NULL;
    if (sw_hdr_new(&sw_hdr_latency_config, &h, NULL) != SW_OK)
        exit(1);
    double spent = 0;
    int rounds = 200;
    for (size_t i = 0; i < sizeof shares / sizeof shares[0]; i++) {
        cwsim_mix m = {136000, 0.40, shares[i], CWSIM_SLOW_MEDIAN_US, CWSIM_SLOW_SIGMA};
        for (int k = 0; k < rounds; k++) {
            sw_rng r = {1000 + i}; /* the same minute each round */
            double t0 = now_s();
            if (cwsim_period(&r, &m, 600, NULL, 0, v, h, NULL) != SW_OK)
                exit(1);
            spent += now_s() - t0;
        }
    }
    printf("cwpct_record_incident_600_samples %.1f us\n",
           spent / (rounds * (double)(sizeof shares / sizeof shares[0])) * 1e6);
    sw_hdr_free(h);
}

/* ------------------------------------------------------------------ rolling windows, live */

#define N_ROLL 5
#define EVAL_EVERY 5                    /* minutes */
#define START_MS INT64_C(1796083200000) /* 2026-12-01 00:00 UTC */

/* One 1-hour window is read on the hour only, after that hour's pin: one whole hour; the other
 * every 5 minutes, as the 30-minute one (the same window of the evaluator: two readings). */
static const int roll_minutes[N_ROLL] = {360, 1440, 60, 60, 30};
static const bool roll_on_the_hour[N_ROLL] = {false, false, true, false, false};
static const char *const roll_names[N_ROLL] = {"6h", "1d", "1h_on_the_hour", "1h", "30m"};

/* One objective per percentile and window, in that order: measured is the window's pNN. */
static const char roll_rules[] =
    "version: 1\nbase_interval: 1m\nservices:\n  - name: api\n"
    "    sli: {requests: {push: true}, errors: {push: true}, latency: {push: true}}\n"
    "objectives:\n"
    "  - {name: p50-6h, objective: p50 <= 10s, window: 6h}\n"
    "  - {name: p95-6h, objective: p95 <= 10s, window: 6h}\n"
    "  - {name: p97.5-6h, objective: p97.5 <= 10s, window: 6h}\n"
    "  - {name: p99-6h, objective: p99 <= 10s, window: 6h}\n"
    "  - {name: p99.5-6h, objective: p99.5 <= 10s, window: 6h}\n"
    "  - {name: p50-1d, objective: p50 <= 10s, window: 1d}\n"
    "  - {name: p95-1d, objective: p95 <= 10s, window: 1d}\n"
    "  - {name: p97.5-1d, objective: p97.5 <= 10s, window: 1d}\n"
    "  - {name: p99-1d, objective: p99 <= 10s, window: 1d}\n"
    "  - {name: p99.5-1d, objective: p99.5 <= 10s, window: 1d}\n"
    "  - {name: p50-1h, objective: p50 <= 10s, window: 1h}\n"
    "  - {name: p95-1h, objective: p95 <= 10s, window: 1h}\n"
    "  - {name: p97.5-1h, objective: p97.5 <= 10s, window: 1h}\n"
    "  - {name: p99-1h, objective: p99 <= 10s, window: 1h}\n"
    "  - {name: p99.5-1h, objective: p99.5 <= 10s, window: 1h}\n"
    "  - {name: p50-1h-any, objective: p50 <= 10s, window: 1h}\n"
    "  - {name: p95-1h-any, objective: p95 <= 10s, window: 1h}\n"
    "  - {name: p97.5-1h-any, objective: p97.5 <= 10s, window: 1h}\n"
    "  - {name: p99-1h-any, objective: p99 <= 10s, window: 1h}\n"
    "  - {name: p99.5-1h-any, objective: p99.5 <= 10s, window: 1h}\n"
    "  - {name: p50-30m, objective: p50 <= 10s, window: 30m}\n"
    "  - {name: p95-30m, objective: p95 <= 10s, window: 30m}\n"
    "  - {name: p97.5-30m, objective: p97.5 <= 10s, window: 30m}\n"
    "  - {name: p99-30m, objective: p99 <= 10s, window: 30m}\n"
    "  - {name: p99.5-30m, objective: p99.5 <= 10s, window: 30m}\n";

/*
 * A window's drawn values, counted in buckets of 0.001 % (log-spaced) in a Fenwick tree, so a
 * percentile of a day of values is a few dozen steps: its nearest-rank value to within 0.001 %.
 */
#define TRUTH_STEP 1e-5
#define TRUTH_BUCKETS ((size_t)(22.0 / TRUTH_STEP) + 2) /* ln(3.6e9 us) < 22 */

typedef struct ranks_tree {
    int32_t *count; /* Fenwick tree over the buckets, 1-based */
    int64_t total;
} ranks_tree;

static size_t
truth_bucket(int64_t v)
{
    return (size_t)(log((double)(v > 1 ? v : 1)) / log1p(TRUTH_STEP)) + 1;
}

static void
ranks_add(ranks_tree *t, int64_t v, int32_t d)
{
    for (size_t i = truth_bucket(v); i < TRUTH_BUCKETS; i += i & (~i + 1))
        t->count[i] += d;
    t->total += d;
}

/* The value of nearest rank ceil(p/100 total), to the bucket's lower bound. */
static double
ranks_value(const ranks_tree *t, double p)
{
    int64_t k = (int64_t)ceil(p / 100 * (double)t->total - 1e-9), pos = 0;
    size_t top = 1;
    while (top * 2 < TRUTH_BUCKETS)
        top *= 2;
    for (size_t step = top; step > 0; step /= 2)
        if ((size_t)pos + step < TRUTH_BUCKETS && t->count[pos + (int64_t)step] < k) {
            pos += (int64_t)step;
            k -= t->count[pos];
        }
    return exp((double)pos * log1p(TRUTH_STEP));
}

/* Percent of the values at or below v (to its bucket). */
static double
ranks_share(const ranks_tree *t, double v)
{
    int64_t below = 0;
    for (size_t i = truth_bucket((int64_t)v); i > 0; i -= i & (~i + 1))
        below += t->count[i];
    return 100.0 * (double)below / (double)t->total;
}

/* How a run treats what CloudWatch answers beyond the minutes. */
typedef enum roll_mode { ROLL_MINUTES, ROLL_HOURS, ROLL_WINDOWS } roll_mode;
static const char *const roll_mode_names[] = {"minutes", "pinned", "windows"};

typedef struct rolling {
    sw_eval *ev;
    int64_t *minute_values[1440]; /* the last day's minutes' drawn values, by minute % 1440 */
    size_t minute_n[1440];
    int64_t minute_above[1440][N_THR]; /* of those, how many above each threshold */
    ranks_tree truth[N_ROLL];
    double worst[N_ROLL][N_PCT], worst_level[N_ROLL][N_PCT];
} rolling;

static void
must(sw_status st, const sw_err *err)
{
    if (st != SW_OK) {
        fprintf(stderr, "bench_cwpct: %s\n", err->msg);
        exit(1);
    }
}

/* The hour's drawn values as CloudWatch answers them for Period 3600, pinned as serve pins. */
static void
pin_hour(rolling *ro, int64_t hour_ms, int64_t *values, size_t n)
{
    sw_cwpct_point pts[64];
    sw_cwpct_rank ranks[N_THR];
    uint8_t stats[SW_CWPCT_WINDOW_MAX_BYTES];
    size_t len;
    sw_err err = {0};
    qsort(values, n, sizeof *values, cwsim_cmp);
    sw_cwpct_period pd = cwsim_window_stats(values, n, thresholds_us, N_THR, pts, ranks);
    bool done = false;
    must(sw_cwpct_window_encode(&pd, stats, &len, &err), &err);
    must(sw_eval_pin_hour(ro->ev, "api", NULL, hour_ms, sw_cwpct_pin_stored, NULL, stats, len,
                          &done, &err),
         &err);
    if (!done) {
        fprintf(stderr, "bench_cwpct: hour %lld not pinned\n", (long long)hour_ms);
        exit(1);
    }
}

/* The minute's drawn values into the truth of every window; the minutes that left, out. */
static void
truth_step(rolling *ro, int minute, const int64_t *v, size_t n)
{
    for (int k = 0; k < N_ROLL; k++)
        if (minute >= roll_minutes[k]) {
            int gone = (minute - roll_minutes[k]) % 1440;
            for (size_t i = 0; i < ro->minute_n[gone]; i++)
                ranks_add(&ro->truth[k], ro->minute_values[gone][i], -1);
        }
    int slot = minute % 1440;
    memcpy(ro->minute_values[slot], v, n * sizeof *v);
    ro->minute_n[slot] = n;
    for (int i = 0; i < N_THR; i++)
        ro->minute_above[slot][i] = (int64_t)cwsim_above(v, n, thresholds_us[i]);
    for (int k = 0; k < N_ROLL; k++)
        for (size_t i = 0; i < n; i++)
            ranks_add(&ro->truth[k], v[i], 1);
}

/*
 * Window k, ending after `minute`, as CloudWatch answers it for one period of its length: the
 * grid from its drawn values' counts (nearest rank, to 0.001 %), Minimum, Maximum, SampleCount
 * and PR(:T) exact from its minutes; pinned as serve's tick pins it.
 */
static void
pin_window(rolling *ro, int k, int minute, int64_t end_ms)
{
    const ranks_tree *t = &ro->truth[k];
    sw_cwpct_point pts[64];
    sw_cwpct_rank ranks[N_THR];
    int64_t lo = INT64_MAX, hi = 0, above[N_THR] = {0};
    for (int m = minute - roll_minutes[k] + 1; m <= minute; m++) {
        int slot = m % 1440;
        size_t n = ro->minute_n[slot];
        if (n == 0)
            continue;
        lo = ro->minute_values[slot][0] < lo ? ro->minute_values[slot][0] : lo;
        hi = ro->minute_values[slot][n - 1] > hi ? ro->minute_values[slot][n - 1] : hi;
        for (int i = 0; i < N_THR; i++)
            above[i] += ro->minute_above[slot][i];
    }
    for (size_t g = 0; g < sw_cwpct_grid_len; g++)
        pts[g] = (sw_cwpct_point){sw_cwpct_grid[g], ranks_value(t, sw_cwpct_grid[g]) / 1000.0};
    for (int i = 0; i < N_THR; i++)
        ranks[i] = (sw_cwpct_rank){(double)thresholds_us[i] / 1000.0,
                                   100.0 * (double)(t->total - above[i]) / (double)t->total};
    sw_cwpct_period pd = {.points = pts,
                          .n_points = sw_cwpct_grid_len,
                          .ranks = ranks,
                          .n_ranks = N_THR,
                          .sample_count = (double)t->total,
                          .min = (double)lo / 1000.0,
                          .max = (double)hi / 1000.0,
                          .unit_us = 1000.0,
                          .sum = NAN};
    uint8_t stats[SW_CWPCT_WINDOW_MAX_BYTES];
    size_t len;
    sw_err err = {0};
    bool done = false;
    must(sw_cwpct_window_encode(&pd, stats, &len, &err), &err);
    must(sw_eval_pin_window(ro->ev, "api", NULL, (int64_t)roll_minutes[k] * 60000, end_ms,
                            sw_cwpct_pin_stored, NULL, stats, len, &done, &err),
         &err);
    if (!done) {
        fprintf(stderr, "bench_cwpct: window %s not pinned\n", roll_names[k]);
        exit(1);
    }
}

/* Each full window's objectives against its truth. */
static void
roll_compare(rolling *ro, int minute)
{
    sw_series_result res;
    sw_eval_series(ro->ev, 0, &res);
    for (int k = 0; k < N_ROLL; k++) {
        if (minute + 1 < roll_minutes[k] || (roll_on_the_hour[k] && (minute + 1) % 60 != 0))
            continue;
        for (int i = 0; i < N_PCT; i++) {
            double got = res.objectives[k * N_PCT + i].measured;
            double want = ranks_value(&ro->truth[k], pcts[i]);
            note(&ro->worst[k][i], (got - want) / want);
            note(&ro->worst_level[k][i],
                 ranks_share(&ro->truth[k], got) - ranks_share(&ro->truth[k], want));
        }
    }
}

static void
run_rolling(const month *mo, uint64_t seed, roll_mode mode, int minutes, rolling *ro)
{
    sw_err err = {0};
    sw_rules *rules = NULL;
    must(sw_rules_load_mem(roll_rules, strlen(roll_rules), "bench", &rules, NULL, &err), &err);
    must(sw_eval_new(rules, &ro->ev, &err), &err);
    for (int k = 0; k < N_ROLL; k++)
        if ((ro->truth[k].count = calloc(TRUTH_BUCKETS, sizeof *ro->truth[k].count)) == NULL)
            exit(1);
    for (int i = 0; i < 1440; i++)
        if ((ro->minute_values[i] = malloc(MAX_RATE * sizeof *ro->minute_values[i])) == NULL)
            exit(1);
    sw_rng r = {seed};
    int64_t *v = malloc(MAX_RATE * sizeof *v), *hour = malloc(60 * MAX_RATE * sizeof *hour);
    sw_hdr *recon = NULL;
    if (v == NULL || hour == NULL)
        exit(1);
    must(sw_hdr_new(&sw_hdr_latency_config, &recon, &err), &err);
    size_t n_hour = 0;
    for (int minute = 0; minute < minutes; minute++) {
        cwsim_mix m = mix_at(mo, minute);
        size_t n = rate_at(minute);
        sw_hdr_reset(recon);
        must(cwsim_period(&r, &m, n, thresholds_us, N_THR, v, recon, &err), &err);
        int64_t start = START_MS + (int64_t)minute * 60000;
        sw_sli_interval iv = {.start_ms = start,
                              .length_ms = 60000,
                              .requests = n,
                              .latency = recon,
                              .has_data = true};
        must(sw_eval_add(ro->ev, "api", NULL, &iv, &err), &err);
        must(sw_eval_advance(ro->ev, start + 60000, &err), &err);
        truth_step(ro, minute, v, n);
        memcpy(hour + n_hour, v, n * sizeof *v);
        n_hour += n;
        if ((minute + 1) % 60 == 0) {
            if (mode >= ROLL_HOURS) { /* as the tick: pin after the advance, evaluate again */
                pin_hour(ro, start + 60000 - 3600000, hour, n_hour);
                must(sw_eval_advance(ro->ev, start + 60000, &err), &err);
            }
            n_hour = 0;
        }
        if ((minute + 1) % EVAL_EVERY == 0 && mode == ROLL_WINDOWS) {
            for (int k = 0; k < N_ROLL; k++) /* every window once full (1 h: its twin's pin) */
                if (!roll_on_the_hour[k] && minute + 1 >= roll_minutes[k])
                    pin_window(ro, k, minute, start + 60000);
            must(sw_eval_advance(ro->ev, start + 60000, &err), &err);
        }
        if ((minute + 1) % EVAL_EVERY == 0)
            roll_compare(ro, minute);
    }
    sw_hdr_free(recon);
    free(v);
    free(hour);
    for (int i = 0; i < 1440; i++)
        free(ro->minute_values[i]);
    for (int k = 0; k < N_ROLL; k++)
        free(ro->truth[k].count);
    sw_eval_free(ro->ev);
    sw_rules_free(rules);
}

static void
rolling_months(uint64_t seed, int days)
{
    for (int incidents = 0; incidents < 2; incidents++)
        for (int mode = ROLL_WINDOWS; mode >= ROLL_MINUTES; mode--) {
            month mo = {.incidents = incidents, .fetch_ranks = true};
            rolling ro = {0};
            double t0 = now_s();
            run_rolling(&mo, seed + (uint64_t)incidents, (roll_mode)mode, days * 1440, &ro);
            for (int k = 0; k < N_ROLL; k++) {
                printf("cwpct_rolling_%s_%s_%s", incidents ? "incidents" : "drift",
                       roll_mode_names[mode], roll_names[k]);
                for (int i = 0; i < N_PCT; i++)
                    printf(" P%g %+.2f%%", pcts[i], 100 * ro.worst[k][i]);
                for (int i = 0; i < N_PCT; i++)
                    printf(" levelP%g %+.3fpp", pcts[i], ro.worst_level[k][i]);
                printf("\n");
            }
            printf("cwpct_rolling_cpu %.1f s\n", now_s() - t0);
        }
}

int
main(int argc, char **argv)
{
    uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 10) : 1;
    const char *only = argc > 2 ? argv[2] : "";
    if (strcmp(only, "rolling") == 0) {
        rolling_months(seed, argc > 3 ? atoi(argv[3]) : 30);
        return 0;
    }
    for (int fetched = MINUTES_ONLY; fetched <= DAYS_TOO; fetched++)
        for (int continuous = 1; continuous >= 0; continuous--)
            for (int incidents = 0; incidents < 2; incidents++)
                for (int fetch = 1; fetch >= 0; fetch--) {
                    month mo = {.incidents = incidents,
                                .fetch_ranks = fetch,
                                .continuous = continuous,
                                .fetched = (resolution)fetched};
                    if (strstr(month_name(&mo), only) == NULL)
                        continue;
                    if (continuous)
                        run_continuous(&mo);
                    else
                        run_month(&mo, seed + (uint64_t)incidents);
                    print_month(&mo);
                }
    spread_cost();
    incident_cost();
    return 0;
}
