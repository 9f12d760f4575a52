/*
 * The chart module's axes: nice value ticks on 1-2-5 steps, time ticks on local calendar
 * boundaries and their labels, and the formatting and escaping every chart text goes through.
 */
#include "chart_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define MIN_MS INT64_C(60000)
#define HOUR_MS (60 * MIN_MS)
#define DAY_MS (24 * HOUR_MS)

static const char *const month_abbr[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* ------------------------------------------------------------------ values */

static size_t
intervals_for(double lo, double hi, double step)
{
    /* A little slack so that 0.3 / 0.1 counts as 3, not 3.0000000000000004. */
    double a = floor(lo / step + 1e-9), b = ceil(hi / step - 1e-9);
    return (size_t)(b - a);
}

void
sw_chart_nice_ticks(double lo, double hi, size_t max_intervals, sw_chart_ticks *out)
{
    if (!isfinite(lo) || !isfinite(hi) || lo > hi) {
        lo = 0.0;
        hi = 1.0;
    }
    /* Spans past what a double holds, or below what its steps can resolve, are brought back
     * inside: the drawing then pins what lies beyond to the edge. */
    lo = fmax(lo, -1e307);
    hi = fmin(hi, 1e307);
    if (hi - lo < 1e-290 * fmax(1.0, fabs(lo)))
        hi = lo = fabs(lo) < 1e-290 ? 0.0 : lo;
    if (lo == hi) {
        double d = lo == 0.0 ? 1.0 : fabs(lo) / 10.0;
        lo = lo == 0.0 ? 0.0 : lo - d;
        hi = hi + d;
    }
    if (max_intervals < 1)
        max_intervals = 1;
    if (max_intervals > SW_CHART_MAX_TICKS - 1)
        max_intervals = SW_CHART_MAX_TICKS - 1;
    static const double mult[] = {1.0, 2.0, 5.0};
    double step = 0.0;
    for (double mag = pow(10.0, floor(log10((hi - lo) / (double)max_intervals))); step == 0.0;
         mag *= 10.0)
        for (size_t i = 0; i < 3 && step == 0.0; i++)
            if (intervals_for(lo, hi, mult[i] * mag) <= max_intervals)
                step = mult[i] * mag;
    double a = floor(lo / step + 1e-9), b = ceil(hi / step - 1e-9);
    out->step = step;
    out->lo = a * step;
    out->hi = b * step;
    out->n = (size_t)(b - a) + 1;
}

int
sw_chart_step_decimals(double step)
{
    if (!(step > 0.0) || step >= 1.0)
        return 0;
    int d = (int)ceil(-log10(step) - 1e-9);
    return d > 12 ? 12 : d;
}

void
sw_chart_format_value(double v, int decimals, const char *unit, char *out, size_t cap)
{
    const char *sep = unit && unit[0] ? (strcmp(unit, "%") == 0 ? "" : " ") : "";
    const char *u = unit ? unit : "";
    if (isnan(v))
        snprintf(out, cap, "no data");
    else if (isinf(v))
        snprintf(out, cap, "%s%s%s", v > 0 ? "+inf" : "-inf", sep, u);
    else if (fabs(v) >= 1e9 || (v != 0.0 && fabs(v) < 1e-4 && decimals < 5))
        snprintf(out, cap, "%.3g%s%s", v, sep, u);
    else
        snprintf(out, cap, "%.*f%s%s", decimals, v == 0.0 ? 0.0 : v, sep, u);
}

sw_status
sw_chart_escape(sw_buf *b, const char *s, sw_err *err)
{
    const char *run = s;
    for (; *s; s++) {
        const char *rep = NULL;
        switch (*s) {
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '&':
            rep = "&amp;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        default:
            continue;
        }
        sw_status st = sw_buf_append(b, run, (size_t)(s - run), err);
        if (st == SW_OK)
            st = sw_buf_append(b, rep, strlen(rep), err);
        if (st != SW_OK)
            return st;
        run = s + 1;
    }
    return sw_buf_append(b, run, (size_t)(s - run), err);
}

/* ------------------------------------------------------------------ time */

static int64_t
floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Days since 1970-01-01 of a civil date (the proleptic Gregorian calendar). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

typedef struct fixed_step {
    int64_t ms;
    int64_t phase_ms; /* of the local boundaries from the epoch: Mondays are 4 days in */
    sw_chart_time_step kind;
} fixed_step;

static const fixed_step fixed_steps[] = {
    {MIN_MS, 0, SW_CHART_STEP_MINUTES},      {2 * MIN_MS, 0, SW_CHART_STEP_MINUTES},
    {5 * MIN_MS, 0, SW_CHART_STEP_MINUTES},  {10 * MIN_MS, 0, SW_CHART_STEP_MINUTES},
    {15 * MIN_MS, 0, SW_CHART_STEP_MINUTES}, {30 * MIN_MS, 0, SW_CHART_STEP_MINUTES},
    {HOUR_MS, 0, SW_CHART_STEP_HOURS},       {2 * HOUR_MS, 0, SW_CHART_STEP_HOURS},
    {3 * HOUR_MS, 0, SW_CHART_STEP_HOURS},   {6 * HOUR_MS, 0, SW_CHART_STEP_HOURS},
    {12 * HOUR_MS, 0, SW_CHART_STEP_HOURS},  {DAY_MS, 0, SW_CHART_STEP_DAYS},
    {2 * DAY_MS, 0, SW_CHART_STEP_DAYS},     {7 * DAY_MS, 4 * DAY_MS, SW_CHART_STEP_WEEKS},
};

static bool
fixed_ticks(int64_t from, int64_t to, int64_t off, const fixed_step *s, size_t max,
            sw_chart_time_ticks *out)
{
    int64_t k = floor_div(from + off - s->phase_ms + s->ms - 1, s->ms);
    int64_t first = k * s->ms + s->phase_ms - off;
    size_t n = first > to ? 0 : (size_t)((to - first) / s->ms) + 1;
    if (n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        out->at_ms[i] = first + (int64_t)i * s->ms;
    out->n = n;
    out->step = s->kind;
    out->step_ms = s->ms;
    return true;
}

/* Ticks every `months` calendar months (12 x years for years), aligned to multiples of it. */
static bool
month_ticks(int64_t from, int64_t to, int64_t off, int64_t months, size_t max,
            sw_chart_time_ticks *out)
{
    int64_t y;
    int m, d;
    civil_from_days(floor_div(from + off, DAY_MS), &y, &m, &d);
    int64_t idx = y * 12 + (m - 1); /* months since year 0 */
    idx = floor_div(idx + months - 1, months) * months;
    size_t n = 0;
    for (;; idx += months) {
        int64_t at =
            days_from_civil(floor_div(idx, 12), (int)(idx - floor_div(idx, 12) * 12) + 1, 1) *
                DAY_MS -
            off;
        if (at < from)
            continue;
        if (at > to)
            break;
        if (n == max)
            return false;
        out->at_ms[n++] = at;
    }
    out->n = n;
    out->step = months >= 12 ? SW_CHART_STEP_YEARS : SW_CHART_STEP_MONTHS;
    out->step_ms = months >= 12 ? months / 12 * 365 * DAY_MS : months * 30 * DAY_MS;
    return true;
}

void
sw_chart_time_ticks_for(int64_t from_ms, int64_t to_ms, int offset_s, size_t max_ticks,
                        sw_chart_time_ticks *out)
{
    memset(out, 0, sizeof *out);
    if (max_ticks > SW_CHART_MAX_TICKS)
        max_ticks = SW_CHART_MAX_TICKS;
    if (from_ms >= to_ms || max_ticks == 0)
        return;
    int64_t off = (int64_t)offset_s * 1000;
    for (size_t i = 0; i < sizeof fixed_steps / sizeof fixed_steps[0]; i++)
        if (fixed_ticks(from_ms, to_ms, off, &fixed_steps[i], max_ticks, out))
            return;
    static const int64_t months[] = {1, 3, 12, 24, 60, 120, 240, 600, 1200, 2400, 6000, 12000};
    for (size_t i = 0; i < sizeof months / sizeof months[0]; i++)
        if (to_ms - from_ms <= months[i] * 31 * DAY_MS * (int64_t)(max_ticks + 1) &&
            month_ticks(from_ms, to_ms, off, months[i], max_ticks, out))
            return;
    memset(out, 0, sizeof *out);
}

void
sw_chart_time_label(const sw_chart_time_ticks *t, size_t i, int offset_s, char *out, size_t cap)
{
    int64_t local = t->at_ms[i] + (int64_t)offset_s * 1000, y;
    int m, d;
    int64_t day = floor_div(local, DAY_MS), in_day = local - day * DAY_MS;
    civil_from_days(day, &y, &m, &d);
    switch (t->step) {
    case SW_CHART_STEP_MINUTES:
    case SW_CHART_STEP_HOURS:
        if (in_day != 0)
            snprintf(out, cap, "%02d:%02d", (int)(in_day / HOUR_MS),
                     (int)(in_day % HOUR_MS / MIN_MS));
        else /* midnight names its day */
            snprintf(out, cap, "%s %02d", month_abbr[m - 1], d);
        return;
    case SW_CHART_STEP_DAYS:
    case SW_CHART_STEP_WEEKS:
        snprintf(out, cap, "%s %02d", month_abbr[m - 1], d);
        return;
    case SW_CHART_STEP_MONTHS:
        if (m == 1 || i == 0)
            snprintf(out, cap, "%s %lld", month_abbr[m - 1], (long long)y);
        else
            snprintf(out, cap, "%s", month_abbr[m - 1]);
        return;
    case SW_CHART_STEP_YEARS:
        snprintf(out, cap, "%lld", (long long)y);
        return;
    }
}

void
sw_chart_format_time(int64_t utc_ms, int offset_s, char *out, size_t cap)
{
    int64_t local = utc_ms + (int64_t)offset_s * 1000, y;
    int m, d;
    int64_t day = floor_div(local, DAY_MS), in_day = local - day * DAY_MS;
    civil_from_days(day, &y, &m, &d);
    snprintf(out, cap, "%04lld-%02d-%02d %02d:%02d", (long long)y, m, d, (int)(in_day / HOUR_MS),
             (int)(in_day % HOUR_MS / MIN_MS));
}
