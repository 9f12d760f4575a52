/*
 * Prints a realistic /metrics exposition (slawatch's per-service counters and gauges, a
 * latency histogram with SLA bounds and the windowed latency quantiles as a summary) in the format named on the command line, for the
 * promtool checks in expo_promtool.py. --no-counters leaves the counter families out.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "slawatch/expo.h"

#define SERVICES 4

static const char *services[SERVICES] = {"api", "checkout", "search \"beta\"", "path\\to\nsvc"};
static const char *windows[] = {"5m", "1h", "30d"};
static const double sla_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

static int
fail(const char *what, const sw_err *err)
{
    fprintf(stderr, "expo_sample: %s: %s\n", what, err->msg);
    return 1;
}

static sw_status
counters(sw_expo *e, sw_err *err)
{
    sw_status st = sw_expo_family(e, "slawatch_requests_total", SW_EXPO_COUNTER,
                                  "Requests seen per service and environment.", NULL, err);
    for (int s = 0; s < SERVICES && st == SW_OK; s++) {
        sw_expo_label l[] = {{"service", services[s]}, {"env", s % 2 ? "green" : "blue"}};
        st = sw_expo_sample(e, l, 2, 1000.0 * (s + 1), err);
    }
    if (st == SW_OK)
        st = sw_expo_family(e, "slawatch_scrape_seconds_total", SW_EXPO_COUNTER,
                            "Time spent scraping targets.", "seconds", err);
    if (st == SW_OK)
        st = sw_expo_sample(e, NULL, 0, 12.75, err);
    return st;
}

static sw_status
gauges(sw_expo *e, sw_err *err)
{
    sw_status st = sw_expo_family(e, "slawatch_sli_availability_ratio", SW_EXPO_GAUGE,
                                  "Good events over all events in the window.", "ratio", err);
    for (int s = 0; s < SERVICES && st == SW_OK; s++) {
        for (int w = 0; w < 3 && st == SW_OK; w++) {
            sw_expo_label l[] = {{"service", services[s]}, {"window", windows[w]}};
            st = sw_expo_sample(e, l, 2, s == 3 ? NAN : 0.999 - 0.0001 * w, err);
        }
    }
    if (st == SW_OK)
        st = sw_expo_family(e, "slawatch_store_lag_seconds", SW_EXPO_GAUGE,
                            "Age of the newest interval written to the store.", "seconds", err);
    if (st == SW_OK)
        st = sw_expo_sample(e, NULL, 0, 0.125, err);
    return st;
}

static sw_status
histograms(sw_expo *e, sw_err *err)
{
    sw_hdr *h;
    sw_status st = sw_hdr_new(&sw_hdr_latency_config, &h, err);
    if (st != SW_OK)
        return st;
    st = sw_expo_family(e, "slawatch_request_duration_seconds", SW_EXPO_HISTOGRAM,
                        "Request latency per service.", "seconds", err);
    for (int s = 0; s < SERVICES && st == SW_OK; s++) {
        sw_hdr_reset(h);
        for (int64_t v = 300; v < 3000000; v = v * 11 / 10 + s)
            sw_hdr_record_n(h, v, 1 + v % 7);
        sw_expo_label l[] = {{"service", services[s]}};
        st = sw_expo_histogram(e, l, 1, h, 1e-6, sla_bounds,
                               sizeof sla_bounds / sizeof *sla_bounds, err);
    }
    sw_hdr_free(h);
    return st;
}

static sw_status
summaries(sw_expo *e, sw_err *err)
{
    sw_status st = sw_expo_family(e, "slawatch_sli_latency_seconds", SW_EXPO_SUMMARY,
                                  "Request latency at a quantile over the window.", "seconds", err);
    for (int s = 0; s < SERVICES && st == SW_OK; s++)
        for (size_t w = 0; w < sizeof windows / sizeof *windows && st == SW_OK; w++) {
            const sw_expo_quantile q[] = {{0.5, 0.012 * (s + 1)},
                                          {0.95, 0.25 * (s + 1)},
                                          {0.99, s == 3 ? NAN : 1.5 * (s + 1)}};
            sw_expo_label l[] = {{"service", services[s]}, {"window", windows[w]}};
            st = sw_expo_summary(e, l, 2, q, 3, 123.25 * (s + 1), 1000u * (unsigned)(s + 1),
                                 err);
        }
    return st;
}

int
main(int argc, char **argv)
{
    sw_expo_format format = SW_EXPO_TEXT;
    if (argc > 1 && strcmp(argv[1], "openmetrics") == 0)
        format = SW_EXPO_OPENMETRICS;
    else if (argc > 1 && strcmp(argv[1], "protobuf") == 0)
        format = SW_EXPO_PROTOBUF;
    bool with_counters = !(argc > 2 && strcmp(argv[2], "--no-counters") == 0);

    sw_err err = {0};
    sw_expo *e;
    sw_buf out;
    sw_buf_init(&out, 1u << 20);
    if (sw_expo_new(&e, &err) != SW_OK)
        return fail("new", &err);
    sw_expo_begin(e, format, &out);
    sw_status st = with_counters ? counters(e, &err) : SW_OK;
    if (st == SW_OK && (st = gauges(e, &err)) == SW_OK && (st = histograms(e, &err)) == SW_OK &&
        (st = summaries(e, &err)) == SW_OK)
        st = sw_expo_finish(e, &err);
    sw_expo_free(e);
    if (st != SW_OK)
        return fail("exposition", &err);
    fwrite(out.data, 1, out.len, stdout);
    sw_buf_fini(&out);
    return fflush(stdout) == 0 ? 0 : 1;
}
