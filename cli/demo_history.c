/*
 * The demo's previous month: api/blue serving the whole calendar month before the demo starts,
 * with one incident, written into the store at 1-minute resolution before the daemon opens it,
 * so `slawatch report` and the report endpoint have a month to show at once.
 *
 * Simulating every request of a month (about three billion latency values) would take minutes;
 * instead a few minutes are simulated for real (sw_sim, as the live demo does) and the month is
 * laid out from them, each minute of the month one of those simulated minutes.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "slawatch/sim.h"
#include "slawatch/store.h"

#define MIN_MS INT64_C(60000)
#define DAY_MS INT64_C(86400000)
#define GOOD_MINUTES 16 /* distinct healthy minutes the month is laid out from */
#define BAD_MINUTES 4   /* and degraded ones, for the incident */
#define INCIDENT_DAY 17 /* of the month, 14:10 to 15:40 UTC */
#define INCIDENT_FROM_MS (14 * 3600000 + 10 * MIN_MS)
#define INCIDENT_MS (90 * MIN_MS)
#define ALERT_AFTER_MS (5 * MIN_MS) /* ErrorRateHigh's `for` in rules/demo.yaml */
#define BATCH_MINUTES 1440

typedef struct minutes {
    sw_sli_interval good[GOOD_MINUTES], bad[BAD_MINUTES];
} minutes;

int64_t
sw_demo_month_start(int64_t at_ms, int months_back)
{
    time_t t = (time_t)(at_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    int month = tm.tm_year * 12 + tm.tm_mon - months_back;
    tm = (struct tm){.tm_year = month / 12, .tm_mon = month % 12, .tm_mday = 1};
    return (int64_t)timegm(&tm) * 1000;
}

static void
minutes_fini(minutes *m)
{
    for (size_t i = 0; i < GOOD_MINUTES; i++)
        sw_sli_interval_fini(&m->good[i]);
    for (size_t i = 0; i < BAD_MINUTES; i++)
        sw_sli_interval_fini(&m->bad[i]);
}

/* Blue's healthy minutes, and green's after it degrades, from the live demo's simulator. */
static sw_status
simulate_minutes(minutes *m, sw_err *err)
{
    sw_sim_scenario sc = sw_sim_default(0);
    sw_status st = SW_OK;
    for (int i = 0; st == SW_OK && i < GOOD_MINUTES; i++)
        st = sw_sim_interval(&sc, "blue", i * MIN_MS, MIN_MS, &m->good[i], err);
    for (int i = 0; st == SW_OK && i < BAD_MINUTES; i++)
        st = sw_sim_interval(&sc, "green", sc.degrade_after_ms + i * MIN_MS, MIN_MS, &m->bad[i],
                             err);
    return st;
}

static bool
in_incident(const sw_demo_history *h, int64_t t)
{
    return t >= h->incident_ms && t < h->incident_ms + INCIDENT_MS;
}

static sw_status
write_minutes(sw_store *st, const sw_demo_history *h, const minutes *m, sw_err *err)
{
    static sw_sli_interval ivs[BATCH_MINUTES];
    static sw_store_row rows[BATCH_MINUTES];
    for (int64_t day = h->from_ms; day < h->to_ms; day += BATCH_MINUTES * MIN_MS) {
        size_t n = 0;
        for (int64_t t = day; t < day + BATCH_MINUTES * MIN_MS && t < h->to_ms; t += MIN_MS) {
            size_t k = (size_t)((t - h->from_ms) / MIN_MS);
            ivs[n] = in_incident(h, t) ? m->bad[k % BAD_MINUTES] : m->good[k % GOOD_MINUTES];
            ivs[n].start_ms = t; /* the histogram stays the simulated minute's, lent */
            rows[n] = (sw_store_row){"api", "blue", &ivs[n]};
            n++;
        }
        sw_status s = sw_store_import(st, SW_STORE_1M_MS, rows, n, err);
        if (s != SW_OK)
            return s;
    }
    return SW_OK;
}

static sw_status
write_events(sw_store *st, const sw_demo_history *h, const minutes *m, sw_err *err)
{
    double rate = (double)m->bad[0].errors / (double)m->bad[0].requests;
    sw_store_event firing = {
        "alert", "ErrorRateHigh", "api", "blue", "firing", h->incident_ms + ALERT_AFTER_MS, rate};
    sw_store_event resolved = {"alert", "ErrorRateHigh", "api",
                               "blue",  "resolved",      h->incident_ms + INCIDENT_MS + MIN_MS,
                               rate};
    sw_status s = sw_store_put_event(st, &firing, err);
    return s == SW_OK ? sw_store_put_event(st, &resolved, err) : s;
}

sw_status
sw_demo_fill_history(const char *dir, const sw_store_options *so, const char *rules_text,
                     int64_t now_ms, sw_demo_history *ret, sw_err *err)
{
    sw_demo_history h = {.from_ms = sw_demo_month_start(now_ms, 1),
                         .to_ms = sw_demo_month_start(now_ms, 0)};
    h.incident_ms = h.from_ms + (INCIDENT_DAY - 1) * DAY_MS + INCIDENT_FROM_MS;
    minutes m = {0};
    sw_store *st = NULL;
    sw_status s = simulate_minutes(&m, err);
    if (s == SW_OK)
        s = sw_store_open(dir, so, &st, err);
    /* The rules in force that month are the demo's: the report judges by what was recorded. */
    if (s == SW_OK)
        s = sw_store_put_rules(st, h.from_ms, rules_text, strlen(rules_text), err);
    if (s == SW_OK)
        s = write_minutes(st, &h, &m, err);
    if (s == SW_OK)
        s = write_events(st, &h, &m, err);
    if (s == SW_OK)
        s = sw_store_rollup(st, now_ms, err);
    sw_store_close(st);
    minutes_fini(&m);
    if (s == SW_OK)
        *ret = h;
    return s;
}
