/*
 * bench_expo_totals: what one series' /metrics latency totals cost over a month of a daemon
 * that never restarts, kept as an HDR histogram every interval is merged into (sw_hdr_add, the
 * totals before) and at export resolution (sw_expo_totals_add). Every 10 s interval holds 250
 * log-normal latencies (median 80 ms, sigma 0.5: scale_serve.py's traffic). Prints "key value
 * unit" lines: CPU per interval added (the whole month, its first hour, as after each restart,
 * and its last day), the memory each
 * holds at the end, and one series rendered in text and protobuf from each (the bytes checked
 * equal). Usage: bench_expo_totals [DAYS [SIGMA]].
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "slawatch/buf.h"
#include "slawatch/expo.h"
#include "slawatch/hdr.h"
#include "slawatch/rng.h"

#define VALUES 250
#define MEDIAN_US 80000.0
#define INTERVALS_A_DAY 8640
#define INTERVALS_AN_HOUR 360
#define RENDERS 2000

static const double ladder[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
#define N_LADDER (sizeof ladder / sizeof ladder[0])

static double
cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void
die(const char *what)
{
    fprintf(stderr, "bench_expo_totals: %s\n", what);
    exit(1);
}

typedef struct month {
    sw_hdr *hdr;
    sw_expo_totals *totals;
    double hdr_ns, totals_ns, hdr_last_day_ns, totals_last_day_ns;
    double hdr_first_hour_ns, totals_first_hour_ns;
} month;

/* One day's intervals, made first so the adds are timed apart from the values' drawing. */
static void
make_day(sw_rng *r, double sigma, sw_hdr **day)
{
    for (int k = 0; k < INTERVALS_A_DAY; k++) {
        sw_hdr_reset(day[k]);
        for (int v = 0; v < VALUES; v++)
            sw_hdr_record(day[k], sw_rng_lognormal_us(r, MEDIAN_US, sigma));
    }
}

/* The first hour's adds timed on their own (a young daemon's, as after every restart) into
 * copies the month then does not use. */
static void
first_hour(month *m, sw_hdr **day)
{
    sw_hdr *hdr;
    sw_expo_totals *totals;
    if (sw_hdr_new(&sw_hdr_latency_config, &hdr, NULL) != SW_OK ||
        sw_expo_totals_new(ladder, N_LADDER, &totals, NULL) != SW_OK)
        die("out of memory");
    double t0 = cpu_ns();
    for (int k = 0; k < INTERVALS_AN_HOUR; k++)
        sw_hdr_add(hdr, day[k]);
    double t1 = cpu_ns();
    for (int k = 0; k < INTERVALS_AN_HOUR; k++)
        if (sw_expo_totals_add(totals, day[k], NULL) != SW_OK)
            die("out of memory");
    double t2 = cpu_ns();
    m->hdr_first_hour_ns = t1 - t0;
    m->totals_first_hour_ns = t2 - t1;
    sw_hdr_free(hdr);
    sw_expo_totals_free(totals);
}

static void
add_month(month *m, long days, double sigma)
{
    sw_rng r = {42};
    sw_hdr **day = calloc(INTERVALS_A_DAY, sizeof *day);
    if (day == NULL)
        die("out of memory");
    for (int k = 0; k < INTERVALS_A_DAY; k++)
        if (sw_hdr_new(&sw_hdr_latency_config, &day[k], NULL) != SW_OK)
            die("out of memory");
    for (long d = 0; d < days; d++) {
        make_day(&r, sigma, day);
        if (d == 0)
            first_hour(m, day);
        double t0 = cpu_ns();
        for (int k = 0; k < INTERVALS_A_DAY; k++)
            sw_hdr_add(m->hdr, day[k]);
        double t1 = cpu_ns();
        for (int k = 0; k < INTERVALS_A_DAY; k++)
            if (sw_expo_totals_add(m->totals, day[k], NULL) != SW_OK)
                die("out of memory");
        double t2 = cpu_ns();
        m->hdr_ns += t1 - t0;
        m->totals_ns += t2 - t1;
        m->hdr_last_day_ns = t1 - t0;
        m->totals_last_day_ns = t2 - t1;
    }
    for (int k = 0; k < INTERVALS_A_DAY; k++)
        sw_hdr_free(day[k]);
    free(day);
}

/* One series in format, RENDERS times; ns per render, the last body left in out. */
static double
render(sw_expo *e, sw_buf *out, sw_expo_format format, const month *m, bool from_totals)
{
    static const sw_expo_label l[] = {{"service", "svc0"}, {"env", "green"}};
    double t0 = cpu_ns();
    for (int i = 0; i < RENDERS; i++) {
        out->len = 0;
        sw_expo_begin(e, format, out);
        sw_expo_family(e, "slawatch_request_duration_seconds", SW_EXPO_HISTOGRAM, NULL, "seconds",
                       NULL);
        if (from_totals)
            sw_expo_histogram_totals(e, l, 2, m->totals, NULL);
        else
            sw_expo_histogram(e, l, 2, m->hdr, 1e-6, ladder, N_LADDER, NULL);
        if (sw_expo_finish(e, NULL) != SW_OK)
            die("render failed");
    }
    return (cpu_ns() - t0) / RENDERS;
}

static void
compare_renders(const month *m)
{
    sw_expo *e;
    sw_buf a, b;
    if (sw_expo_new(&e, NULL) != SW_OK)
        die("out of memory");
    sw_buf_init(&a, 1u << 24);
    sw_buf_init(&b, 1u << 24);
    static const char *names[] = {"text", "protobuf"};
    static const sw_expo_format formats[] = {SW_EXPO_TEXT, SW_EXPO_PROTOBUF};
    for (int f = 0; f < 2; f++) {
        double hdr = render(e, &a, formats[f], m, false);
        double tot = render(e, &b, formats[f], m, true);
        printf("slawatch.expo_totals.render_%s_from_hdr %.0f ns\n", names[f], hdr);
        printf("slawatch.expo_totals.render_%s_from_totals %.0f ns\n", names[f], tot);
        printf("slawatch.expo_totals.render_%s_same_bytes %d bool\n", names[f],
               a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
    }
    sw_buf_fini(&a);
    sw_buf_fini(&b);
    sw_expo_free(e);
}

int
main(int argc, char **argv)
{
    long days = argc > 1 ? strtol(argv[1], NULL, 10) : 30;
    double sigma = argc > 2 ? strtod(argv[2], NULL) : 0.5;
    if (days < 1 || !(sigma > 0))
        die("usage: bench_expo_totals [DAYS >= 1 [SIGMA > 0]]");
    month m = {0};
    if (sw_hdr_new(&sw_hdr_latency_config, &m.hdr, NULL) != SW_OK ||
        sw_expo_totals_new(ladder, N_LADDER, &m.totals, NULL) != SW_OK)
        die("out of memory");
    add_month(&m, days, sigma);
    double n = (double)(days * INTERVALS_A_DAY);
    printf("slawatch.expo_totals.days %ld days\n", days);
    printf("slawatch.expo_totals.add_hdr_per_interval %.0f ns\n", m.hdr_ns / n);
    printf("slawatch.expo_totals.add_totals_per_interval %.0f ns\n", m.totals_ns / n);
    printf("slawatch.expo_totals.add_hdr_per_interval_first_hour %.0f ns\n",
           m.hdr_first_hour_ns / INTERVALS_AN_HOUR);
    printf("slawatch.expo_totals.add_totals_per_interval_first_hour %.0f ns\n",
           m.totals_first_hour_ns / INTERVALS_AN_HOUR);
    printf("slawatch.expo_totals.add_hdr_per_interval_last_day %.0f ns\n",
           m.hdr_last_day_ns / INTERVALS_A_DAY);
    printf("slawatch.expo_totals.add_totals_per_interval_last_day %.0f ns\n",
           m.totals_last_day_ns / INTERVALS_A_DAY);
    printf("slawatch.expo_totals.hdr_buckets %lld buckets\n",
           (long long)sw_hdr_recorded_buckets(m.hdr));
    printf("slawatch.expo_totals.hdr_memory %zu bytes\n", sw_hdr_memory_size(m.hdr));
    printf("slawatch.expo_totals.totals_memory %zu bytes\n", sw_expo_totals_memory_size(m.totals));
    compare_renders(&m);
    sw_hdr_free(m.hdr);
    sw_expo_totals_free(m.totals);
    return 0;
}
