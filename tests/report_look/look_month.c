/*
 * Writes the month the report's look is tested on (test_report_look.py holds the plan and the
 * expected figures): October 2026 (UTC) at 1-minute resolution for four services, the rules,
 * beta's deployment and gate answers; then rolls up to 1 h and 1 d as the daemon would.
 *   alpha  600 requests a minute, none failed; every request of Oct 14 took 60 s.
 *   beta   600 a minute, 1 failed; all of Oct 7 half of them failed; green deployed Oct 14
 *          13:00, the gate answering pass 12:50, fail 13:10 and 13:11, pass 13:40.
 *   gamma  600 a minute, none failed; maintenance Oct 20 10:00-12:00 in the rules; 130
 *          deployments on Oct 2, one a minute from 00:00 (more than a chart marks).
 *   delta  600 a minute from Oct 20 only.
 * After the rollup, late data the rollup has not seen yet: beta/green's Oct 3 12:00 minute, 60,000
 * requests of 60 s (so Oct 3's day row is stale: the report must merge that day from its hours).
 * usage: look_month DIR RULES_FILE
 */
#include "slawatch/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN_MS INT64_C(60000)
#define DAY_MS INT64_C(86400000)
#define OCT_1 INT64_C(1790812800000) /* 2026-10-01T00:00:00Z */
#define NOV_1 INT64_C(1793491200000) /* 2026-11-01T00:00:00Z */
#define BATCH 1440
#define PER_MINUTE 600

static _Noreturn void
die(const char *what, const sw_err *err)
{
    fprintf(stderr, "look_month: %s: %s\n", what, err ? err->msg : "failed");
    exit(2);
}

/* 540 requests at 5 ms, 54 at 20 ms, 6 at 40 ms; or all at 60 s. */
static sw_hdr *
histogram(bool slow)
{
    sw_hdr *h = NULL;
    if (sw_hdr_new(&sw_hdr_latency_config, &h, NULL) != SW_OK)
        die("histogram", NULL);
    if (slow) {
        sw_hdr_record_n(h, 60000000, PER_MINUTE);
    } else {
        sw_hdr_record_n(h, 5000, 540);
        sw_hdr_record_n(h, 20000, 54);
        sw_hdr_record_n(h, 40000, 6);
    }
    return h;
}

static bool
on_day(int64_t t, int mday)
{
    return t >= OCT_1 + (mday - 1) * DAY_MS && t < OCT_1 + mday * DAY_MS;
}

static void
write_service(sw_store *st, const char *name, sw_hdr *normal, sw_hdr *slow)
{
    static sw_sli_interval iv[BATCH];
    static sw_store_row rows[BATCH];
    sw_err err;
    int64_t from = strcmp(name, "delta") == 0 ? OCT_1 + 19 * DAY_MS : OCT_1;
    for (int64_t t0 = from; t0 < NOV_1; t0 += BATCH * MIN_MS) {
        size_t n = 0;
        for (int64_t t = t0; t < t0 + BATCH * MIN_MS && t < NOV_1; t += MIN_MS, n++) {
            bool beta = strcmp(name, "beta") == 0;
            uint64_t errors = beta ? (on_day(t, 7) ? PER_MINUTE / 2 : 1) : 0;
            bool is_slow = strcmp(name, "alpha") == 0 && on_day(t, 14);
            iv[n] = (sw_sli_interval){.start_ms = t,
                                      .length_ms = MIN_MS,
                                      .requests = PER_MINUTE,
                                      .errors = errors,
                                      .has_data = true,
                                      .latency = is_slow ? slow : normal};
            rows[n] = (sw_store_row){name, beta ? "blue" : NULL, &iv[n]};
        }
        if (sw_store_import(st, SW_STORE_1M_MS, rows, n, &err) != SW_OK)
            die("import", &err);
    }
}

/* 60,000 requests of 60 s in beta/green's Oct 3 12:00, written after the rollup. */
static void
late_minute(sw_store *st)
{
    sw_err err;
    sw_hdr *h = NULL;
    if (sw_hdr_new(&sw_hdr_latency_config, &h, NULL) != SW_OK)
        die("histogram", NULL);
    sw_hdr_record_n(h, 60000000, 60000);
    sw_sli_interval iv = {.start_ms = OCT_1 + 2 * DAY_MS + 12 * 3600000LL,
                          .length_ms = MIN_MS,
                          .requests = 60000,
                          .has_data = true,
                          .latency = h};
    sw_store_row row = {"beta", "green", &iv};
    if (sw_store_import(st, SW_STORE_1M_MS, &row, 1, &err) != SW_OK)
        die("late import", &err);
    sw_hdr_free(h);
}

static void
gate(sw_store *st, int64_t at_ms, const char *verdict)
{
    sw_err err;
    sw_store_gate_audit a = {at_ms, "ci", "beta", "green", 300000, verdict, "[]"};
    if (sw_store_put_gate_audit(st, &a, &err) != SW_OK)
        die("gate audit", &err);
}

int
main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    sw_err err;
    sw_store *st = NULL;
    sw_store_options opt = {.retention_1m_ms = 400 * DAY_MS};
    if (sw_store_open(argv[1], &opt, &st, &err) != SW_OK)
        die("open", &err);
    FILE *f = fopen(argv[2], "rb");
    static char rules[1 << 16];
    size_t len = f ? fread(rules, 1, sizeof rules - 1, f) : 0;
    if (f == NULL || len == 0)
        die(argv[2], NULL);
    fclose(f);
    if (sw_store_put_rules(st, OCT_1 - 30 * DAY_MS, rules, len, &err) != SW_OK)
        die("rules", &err);
    sw_hdr *normal = histogram(false), *slow = histogram(true);
    static const char *const names[] = {"alpha", "beta", "gamma", "delta"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        write_service(st, names[i], normal, slow);
    int64_t deploy = OCT_1 + 13 * DAY_MS + 13 * 3600000LL; /* Oct 14 13:00 */
    if (sw_store_put_deployment(st, "beta", "green", deploy, "ci", NULL, &err) != SW_OK)
        die("deployment", &err);
    for (int i = 0; i < 130; i++)
        if (sw_store_put_deployment(st, "gamma", NULL, OCT_1 + DAY_MS + i * MIN_MS, "ci", NULL,
                                    &err) != SW_OK)
            die("deployment", &err);
    gate(st, deploy - 10 * MIN_MS, "pass");
    gate(st, deploy + 10 * MIN_MS, "fail");
    gate(st, deploy + 11 * MIN_MS, "fail");
    gate(st, deploy + 40 * MIN_MS, "pass");
    if (sw_store_rollup(st, NOV_1 + DAY_MS, &err) != SW_OK)
        die("rollup", &err);
    late_minute(st);
    sw_hdr_free(normal);
    sw_hdr_free(slow);
    sw_store_close(st);
    return 0;
}
