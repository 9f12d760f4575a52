/*
 * The report's numbers and times for people (docs/reports.md, "How the report words it"):
 * counts with a unit prefix ("2.65 G"), durations in minutes or hours, percentages with as many
 * decimals as it takes not to round 99.996 % up to 100 %, latencies in ms or s, margins that say
 * "better by" or "worse by" whichever way the comparison points, and the month's changes.
 */
#include "report_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const month_abbr[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* Three significant digits without a trailing ".0" beyond them. */
static void
three_digits(double v, char *out, size_t cap)
{
    snprintf(out, cap, "%.*f", v < 10 ? 2 : v < 100 ? 1 : 0, v);
}

/* Drop trailing zeros of a decimal number (and its point when nothing is left after it). */
static void
strip_zeros(char *s)
{
    char *dot = strchr(s, '.');
    if (dot == NULL)
        return;
    char *end = s + strlen(s);
    while (end > dot + 1 && end[-1] == '0')
        *--end = '\0';
    if (end == dot + 1)
        *dot = '\0';
}

void
sw_report_words_count(double n, char *out, size_t cap)
{
    static const char *const prefix[] = {"k", "M", "G", "T", "P"};
    if (!isfinite(n)) {
        snprintf(out, cap, "n/a");
        return;
    }
    if (n < 1000) {
        snprintf(out, cap, "%.0f", n);
        return;
    }
    size_t p = 0;
    double v = n / 1000;
    while (p + 1 < sizeof prefix / sizeof *prefix && v >= 999.5) {
        v /= 1000;
        p++;
    }
    char d[24];
    three_digits(v, d, sizeof d);
    strip_zeros(d);
    snprintf(out, cap, "%s %s", d, prefix[p]);
}

void
sw_report_words_minutes(double seconds, char *out, size_t cap)
{
    double min = seconds / 60.0;
    if (!isfinite(min))
        snprintf(out, cap, "n/a");
    else if (min >= 120)
        snprintf(out, cap, "%.1f h", min / 60.0);
    else
        snprintf(out, cap, "%.1f min", min);
}

/* pct with the decimals (2 to 5) it takes not to read as 100 when below it, nor as other (a
 * target it is compared with) when it differs from it. */
static void
percent_apart(double pct, double other, char *out, size_t cap)
{
    char d[48], o[48];
    int decimals = 2;
    for (; decimals < 5; decimals++) {
        snprintf(d, sizeof d, "%.*f", decimals, pct);
        snprintf(o, sizeof o, "%.*f", decimals, other);
        bool looks_whole = pct < 100 && strtod(d, NULL) >= 100;
        bool looks_other = isfinite(other) && pct != other && strcmp(d, o) == 0;
        if (!looks_whole && !looks_other)
            break;
    }
    snprintf(d, sizeof d, "%.*f", decimals, pct);
    strip_zeros(d);
    snprintf(out, cap, "%s %%", d);
}

void
sw_report_words_percent(double ratio, char *out, size_t cap)
{
    sw_report_words_percent_apart(ratio, NAN, out, cap);
}

void
sw_report_words_percent_apart(double ratio, double other, char *out, size_t cap)
{
    double pct = 100.0 * ratio;
    char d[48];
    if (!isfinite(pct)) {
        snprintf(out, cap, "n/a");
        return;
    }
    if (fabs(pct) < 1 && pct != 0) {
        snprintf(d, sizeof d, "%.3g", pct);
        snprintf(out, cap, "%s %%", d);
        return;
    }
    percent_apart(pct, 100.0 * other, out, cap);
}

void
sw_report_words_latency(double us, char *out, size_t cap)
{
    if (!isfinite(us))
        snprintf(out, cap, "n/a");
    else if (us >= 1e6)
        snprintf(out, cap, "%.3g s", us / 1e6);
    else if (us >= 1e3)
        snprintf(out, cap, "%.3g ms", us / 1e3);
    else
        snprintf(out, cap, "%.3g µs", us);
}

void
sw_report_fact_words(const rp_service *s, rp_fact_words *out)
{
    const rp_counts *m = &s->month;
    sw_report_words_count((double)m->requests, out->requests, sizeof out->requests);
    sw_report_words_count((double)m->errors, out->failed, sizeof out->failed);
    sw_report_words_percent(m->requests ? (double)m->errors / (double)m->requests : NAN,
                            out->error_share, sizeof out->error_share);
    sw_report_words_latency(s->p95_us, out->p95, sizeof out->p95);
    sw_report_words_latency(s->p99_us, out->p99, sizeof out->p99);
    sw_report_words_rate(s->sustained_rps, out->sustained, sizeof out->sustained);
    sw_report_words_rate(s->peak_rps, out->peak, sizeof out->peak);
}

void
sw_report_words_rate(double per_s, char *out, size_t cap)
{
    char d[32];
    if (!isfinite(per_s)) {
        snprintf(out, cap, "n/a");
        return;
    }
    if (per_s >= 10000)
        sw_report_words_count(per_s, d, sizeof d);
    else
        snprintf(d, sizeof d, "%.4g", per_s);
    snprintf(out, cap, "%s req/s", d);
}

void
sw_report_words_value(sw_sli shown, double v, char *out, size_t cap)
{
    switch (shown) {
    case SW_SLI_AVAILABILITY:
    case SW_SLI_ERROR_RATE:
    case SW_SLI_HEALTH_SUCCESS:
        sw_report_words_percent(v, out, cap);
        return;
    case SW_SLI_LATENCY:
        sw_report_words_latency(v, out, cap);
        return;
    case SW_SLI_THROUGHPUT:
        sw_report_words_rate(v, out, cap);
        return;
    default:
        sw_report_words_count(v, out, cap);
        return;
    }
}

static void
day_and_month(const sw_report *r, int64_t ms, int *ret_d, int *ret_h, int *ret_mi,
              const char **ret_mon)
{
    int y, mo;
    sw_report_tz_local(r->tz, ms, &y, &mo, ret_d, ret_h, ret_mi);
    *ret_mon = month_abbr[(mo - 1) % 12];
}

void
sw_report_words_time(const sw_report *r, int64_t ms, char *out, size_t cap)
{
    int d, h, mi;
    const char *mon;
    day_and_month(r, ms, &d, &h, &mi, &mon);
    snprintf(out, cap, "%d %s %02d:%02d", d, mon, h, mi);
}

void
sw_report_words_span(const sw_report *r, int64_t from_ms, int64_t to_ms, char *out, size_t cap)
{
    int d0, h0, m0, d1, h1, m1;
    const char *mon0, *mon1;
    day_and_month(r, from_ms, &d0, &h0, &m0, &mon0);
    day_and_month(r, to_ms, &d1, &h1, &m1, &mon1);
    if (d0 == d1 && mon0 == mon1)
        snprintf(out, cap, "%d %s %02d:%02d-%02d:%02d", d0, mon0, h0, m0, h1, m1);
    else if (h1 == 0 && m1 == 0 && to_ms - from_ms <= 86400000)
        snprintf(out, cap, "%d %s %02d:%02d-24:00", d0, mon0, h0, m0);
    else
        snprintf(out, cap, "%d %s %02d:%02d-%d %s %02d:%02d", d0, mon0, h0, m0, d1, mon1, h1, m1);
}

const char *
sw_report_op_sign(sw_op op)
{
    switch (op) {
    case SW_OP_GE:
        return "≥";
    case SW_OP_LE:
        return "≤";
    default:
        return sw_rules_op_str(op);
    }
}

const char *
sw_report_change_kind_name(rp_change_kind k)
{
    static const char *const names[] = {"deployment", "gate", "trigger", "alert", "maintenance"};
    return names[k];
}

void
sw_report_change_text(const sw_report *r, const rp_change *c, char *out, size_t cap)
{
    char end[40] = "";
    const char *on = c->env[0] ? " on " : "";
    if (c->end_ms >= 0)
        sw_report_words_time(r, c->end_ms, end, sizeof end);
    switch (c->kind) {
    case RP_CHANGE_DEPLOYMENT:
        snprintf(out, cap, "%s%sdeployed, marked by %s%s%s%s", c->env, c->env[0] ? " " : "",
                 c->name, c->detail[0] ? " (error-budget policy overridden: " : "", c->detail,
                 c->detail[0] ? ")" : "");
        return;
    case RP_CHANGE_GATE: {
        /* The gate's reason starts with its verdict ("fail: ..."): said once. */
        size_t n = strlen(c->name);
        const char *why = c->detail;
        if (strncmp(why, c->name, n) == 0 && why[n] == ':')
            why += n + 1 + (why[n + 1] == ' ');
        snprintf(out, cap, "deploy gate: %s%s%s%s%s%s", c->name, c->env[0] ? " for " : "", c->env,
                 why[0] ? " (" : "", why, why[0] ? ")" : "");
        return;
    }
    case RP_CHANGE_TRIGGER:
        snprintf(out, cap, "rollback trigger %s fired%s%s, %s%s", c->name, on, c->env,
                 c->end_ms >= 0 ? "cleared by the deployment mark of "
                                : "still latched at the "
                                  "month's end",
                 end);
        return;
    case RP_CHANGE_ALERT:
        snprintf(out, cap, "alert %s fired%s%s, %s%s", c->name, on, c->env,
                 c->end_ms >= 0 ? "resolved " : "still firing at the month's end", end);
        return;
    case RP_CHANGE_MAINTENANCE:
        snprintf(out, cap, "planned maintenance until %s (left out of every figure)%s%s", end,
                 c->detail[0] ? ": " : "", c->detail);
        return;
    }
}

bool
sw_report_by_slices(const sw_objective *o)
{
    return o->objective.sli == SW_SLI_THROUGHPUT || o->budgeting == SW_BUDGET_TIMESLICES;
}

static void
slice_name(const sw_objective *o, char *out, size_t cap)
{
    if (o->slice_ms == RP_MINUTE_MS)
        snprintf(out, cap, "minutes");
    else if (o->slice_ms % RP_MINUTE_MS == 0)
        snprintf(out, cap, "%lld-minute slices", (long long)(o->slice_ms / RP_MINUTE_MS));
    else
        snprintf(out, cap, "%lld-second slices", (long long)(o->slice_ms / 1000));
}

void
sw_report_measured_words(const sw_objective_result *o, double value, char *out, size_t cap)
{
    const sw_objective *ob = o->objective;
    char v[40], rate[40], slices[40];
    if (!isfinite(value)) {
        snprintf(out, cap, "n/a");
        return;
    }
    if (!sw_report_by_slices(ob)) {
        sw_report_words_value(ob->objective.sli, value, out, cap);
        return;
    }
    sw_report_words_percent(value, v, sizeof v);
    slice_name(ob, slices, sizeof slices);
    if (ob->objective.sli == SW_SLI_THROUGHPUT) {
        sw_report_words_rate(ob->objective.value, rate, sizeof rate);
        snprintf(out, cap, "%s %s in %s of %s", sw_report_op_sign(ob->objective.op), rate, v,
                 slices);
    } else {
        snprintf(out, cap, "%s of %s good", v, slices);
    }
}
