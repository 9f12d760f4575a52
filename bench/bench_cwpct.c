/*
 * The percentile grid's error and cost: synthetic 1-minute periods (log-normal sigma 0.5 and
 * 0.75, bimodal) at several request rates, spread with sw_cwpct_record and merged into an
 * hour and a 30-day month; prints the relative error of P95, P97.5, P99, P99.5 against the
 * exact percentiles of all drawn values, then the time to spread one period.
 * Run: ninja -C build bench-cwpct  (or build/bench/bench_cwpct [seed]).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cwpct_sim.h"

static const double checked[] = {95, 97.5, 99, 99.5};

static void
window(const char *name, cwsim_shape shape, size_t periods, size_t per_period, uint64_t seed)
{
    sw_rng r = {seed};
    int64_t *all = malloc(periods * per_period * sizeof *all);
    sw_hdr *h = NULL;
    size_t n_all = 0;
    if (all == NULL || sw_hdr_new(&sw_hdr_latency_config, &h, NULL) != SW_OK)
        exit(1);
    for (size_t p = 0; p < periods; p++)
        if (cwsim_period(&r, shape, per_period, all, &n_all, h, NULL) != SW_OK)
            exit(1);
    qsort(all, n_all, sizeof *all, cwsim_cmp);
    for (size_t i = 0; i < sizeof checked / sizeof checked[0]; i++)
        printf("cwpct_error_%s_%s_%zu_per_min_p%g %.3f %%\n", cwsim_shape_names[shape], name,
               per_period, checked[i], 100 * cwsim_error(h, all, n_all, checked[i]));
    sw_hdr_free(h);
    free(all);
}

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* One period of 60,000 samples (1,000 req/s) from a fixed grid, spread many times. */
static void
spread_cost(void)
{
    sw_cwpct_point pts[32];
    sw_hdr *h = NULL;
    if (sw_hdr_new(&sw_hdr_latency_config, &h, NULL) != SW_OK)
        exit(1);
    for (size_t g = 0; g < sw_cwpct_grid_len; g++)
        pts[g] = (sw_cwpct_point){sw_cwpct_grid[g], 50 + 4 * sw_cwpct_grid[g]};
    int rounds = 2000;
    double t0 = now_s();
    for (int i = 0; i < rounds; i++)
        sw_cwpct_record(h, pts, sw_cwpct_grid_len, 60000, 20, 900, 1000, NULL);
    printf("cwpct_record_60000_samples %.1f us\n", (now_s() - t0) / rounds * 1e6);
    sw_hdr_free(h);
}

int
main(int argc, char **argv)
{
    uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 10) : 1;
    static const size_t rates[] = {60, 300, 1000, 6000};
    for (int s = CWSIM_LOGNORMAL_05; s <= CWSIM_BIMODAL; s++) {
        for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++)
            window("hour", (cwsim_shape)s, 60, rates[i], seed + (uint64_t)s);
        for (size_t i = 0; i < 3; i++)
            window("month", (cwsim_shape)s, 30 * 1440, rates[i], seed + 7 + (uint64_t)s);
    }
    spread_cost();
    return 0;
}
