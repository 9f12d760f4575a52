/*
 * Writes the recorded month the report tests read (tests/report/README.md describes it, and
 * test_report.py computes the expected figures from that description by hand): October 2026
 * (UTC) at 1-minute resolution for services api and web, September 2026 for api, the rules,
 * and the alert and trigger events; then rolls up to 1 h and 1 d as the daemon would.
 * usage: record_month DIR RULES_FILE
 */
#include "slawatch/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN_MS INT64_C(60000)
#define SEP_1 INT64_C(1788220800000) /* 2026-09-01T00:00:00Z */
#define OCT_1 INT64_C(1790812800000) /* 2026-10-01T00:00:00Z */
#define NOV_1 INT64_C(1793491200000) /* 2026-11-01T00:00:00Z */
#define BATCH 1440

static sw_hdr *
histogram(int64_t v1, int n1, int64_t v2, int n2, int64_t v3, int n3)
{
    sw_hdr *h = NULL;
    if (sw_hdr_new(&sw_hdr_latency_config, &h, NULL) != SW_OK)
        exit(2);
    sw_hdr_record_n(h, v1, n1);
    sw_hdr_record_n(h, v2, n2);
    sw_hdr_record_n(h, v3, n3);
    return h;
}

typedef struct minute_plan {
    bool data;
    uint64_t requests, errors;
    bool slow;
} minute_plan;

/* The api service in October: see the header comment's README. */
static minute_plan
api_october(int64_t t)
{
    int64_t maint = OCT_1 + 9 * 86400000LL + 2 * 3600000LL;      /* Oct 10 02:00 */
    int64_t incident = OCT_1 + 13 * 86400000LL + 13 * 3600000LL; /* Oct 14 13:00 */
    int64_t gap = OCT_1 + 19 * 86400000LL;                       /* Oct 20 00:00 */
    if (t >= gap && t < gap + 6 * 3600000LL)
        return (minute_plan){false, 0, 0, false};
    if (t >= maint && t < maint + 3600000LL)
        return (minute_plan){true, 60000, 60000, true};
    if (t >= incident && t < incident + 30 * MIN_MS)
        return (minute_plan){true, 60000, 6000, true};
    return (minute_plan){true, 60000, 30, false};
}

static minute_plan
plan_of(const char *service, int64_t t)
{
    if (t < OCT_1)
        return (minute_plan){true, 60000, 6, false};
    if (strcmp(service, "api") == 0)
        return api_october(t);
    return (minute_plan){t >= OCT_1 + 15 * 86400000LL, 6000, 0, false}; /* web: from Oct 16 */
}

static void
write_series(sw_store *st, const char *service, int64_t from, int64_t to, sw_hdr *normal,
             sw_hdr *slow)
{
    static sw_sli_interval iv[BATCH];
    static sw_store_row rows[BATCH];
    sw_err err;
    for (int64_t t0 = from; t0 < to; t0 += BATCH * MIN_MS) {
        size_t n = 0;
        for (int64_t t = t0; t < t0 + BATCH * MIN_MS && t < to; t += MIN_MS) {
            minute_plan p = plan_of(service, t);
            if (!p.data)
                continue;
            iv[n] = (sw_sli_interval){.start_ms = t, .length_ms = MIN_MS, .requests = p.requests,
                                      .errors = p.errors, .has_data = true,
                                      .latency = p.slow ? slow : normal};
            for (int k = 0; k < 6; k++)
                sw_health_record(&iv[n].health, true);
            rows[n] = (sw_store_row){service, NULL, &iv[n]};
            n++;
        }
        if (n > 0 && sw_store_import(st, SW_STORE_1M_MS, rows, n, &err) != SW_OK) {
            fprintf(stderr, "record_month: %s\n", err.msg);
            exit(2);
        }
    }
}

static void
event(sw_store *st, const char *kind, const char *name, const char *env, const char *state,
      int64_t at_ms)
{
    sw_err err;
    sw_store_event e = {kind, name, "api", env, state, at_ms, 0.1};
    if (sw_store_put_event(st, &e, &err) != SW_OK)
        exit(2);
}

static char *
slurp(const char *path, size_t *ret_len)
{
    FILE *f = fopen(path, "rb");
    static char text[1 << 16];
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    if (f == NULL || n == 0)
        exit(2);
    fclose(f);
    *ret_len = n;
    return text;
}

int
main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    sw_err err;
    sw_store *st = NULL;
    sw_store_options opt = {.retention_1m_ms = 400 * 86400000LL};
    if (sw_store_open(argv[1], &opt, &st, &err) != SW_OK) {
        fprintf(stderr, "record_month: %s\n", err.msg);
        return 2;
    }
    size_t len;
    char *rules = slurp(argv[2], &len);
    sw_store_put_rules(st, SEP_1, rules, len, &err);
    sw_hdr *normal = histogram(200000, 94, 450000, 4, 1200000, 2);
    sw_hdr *slow = histogram(2500000, 100, 2500000, 0, 2500000, 0);
    write_series(st, "api", SEP_1, NOV_1, normal, slow);
    write_series(st, "web", OCT_1, NOV_1, normal, slow);
    int64_t incident = OCT_1 + 13 * 86400000LL + 13 * 3600000LL;
    event(st, "trigger", "ErrorRateSpike", "green", "firing", incident + 2 * MIN_MS);
    event(st, "alert", "ErrorRateHigh", NULL, "firing", incident + 5 * MIN_MS);
    event(st, "alert", "ErrorRateHigh", NULL, "resolved", incident + 31 * MIN_MS);
    if (sw_store_rollup(st, NOV_1 + 86400000LL, &err) != SW_OK) {
        fprintf(stderr, "record_month: %s\n", err.msg);
        return 2;
    }
    sw_hdr_free(normal);
    sw_hdr_free(slow);
    sw_store_close(st);
    return 0;
}
