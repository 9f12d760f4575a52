/*
 * Parsing and formatting of durations, ratios, latencies and rates. Stateless.
 */
#include "slawatch/units.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DECIMAL_CHARS "0123456789.-"

static const struct {
    const char *name;
    int64_t ms;
} duration_units[] = {
    {"y", INT64_C(365) * 24 * 3600 * 1000}, {"w", INT64_C(7) * 24 * 3600 * 1000},
    {"d", INT64_C(24) * 3600 * 1000},       {"h", INT64_C(3600) * 1000},
    {"m", INT64_C(60) * 1000},              {"s", 1000},
    {"ms", 1},
};
#define N_DURATION_UNITS (sizeof duration_units / sizeof duration_units[0])

/* Index of the unit at s (longest match: "ms" before "m"), or -1. */
static int
duration_unit_at(const char *s, size_t len, size_t *unit_len)
{
    if (len >= 2 && s[0] == 'm' && s[1] == 's') {
        *unit_len = 2;
        return (int)N_DURATION_UNITS - 1;
    }
    for (size_t u = 0; u + 1 < N_DURATION_UNITS; u++)
        if (len >= 1 && s[0] == duration_units[u].name[0]) {
            *unit_len = 1;
            return (int)u;
        }
    return -1;
}

bool
sw_units_parse_duration_ms(const char *s, size_t len, int64_t *ret_ms)
{
    int64_t total = 0;
    int last_unit = -1;
    size_t i = 0;
    if (len == 0)
        return false;
    while (i < len) {
        int64_t n = 0;
        size_t digits = 0;
        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, digits++)
            if (__builtin_mul_overflow(n, 10, &n) || __builtin_add_overflow(n, s[i] - '0', &n))
                return false;
        size_t unit_len;
        int unit = digits ? duration_unit_at(s + i, len - i, &unit_len) : -1;
        /* Units must shrink from left to right, each used once, as Prometheus requires. */
        if (unit < 0 || unit <= last_unit)
            return false;
        int64_t part;
        if (__builtin_mul_overflow(n, duration_units[unit].ms, &part) ||
            __builtin_add_overflow(total, part, &total))
            return false;
        last_unit = unit;
        i += unit_len;
    }
    if (total <= 0)
        return false;
    *ret_ms = total;
    return true;
}

void
sw_units_format_duration(int64_t ms, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    if (ms <= 0) {
        snprintf(out, cap, "0s");
        return;
    }
    for (size_t u = 0; u < N_DURATION_UNITS && used < cap; u++) {
        int64_t n = ms / duration_units[u].ms;
        /* Years and weeks only when exact: 30 days reads better as 30d than as 4w2d. */
        bool exact_only = duration_units[u].name[0] == 'y' || duration_units[u].name[0] == 'w';
        if (n == 0 || (exact_only && ms % duration_units[u].ms != 0))
            continue;
        ms -= n * duration_units[u].ms;
        int w = snprintf(out + used, cap - used, "%lld%s", (long long)n, duration_units[u].name);
        used += w > 0 ? (size_t)w : 0;
    }
}

/* Length of the number in `<number><suffix>` (0 when there is none). */
static size_t
number_prefix(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len && s[i] != '\0' && strchr(DECIMAL_CHARS, s[i]))
        i++;
    return i;
}

bool
sw_units_parse_number(const char *s, size_t len, double *ret)
{
    char tmp[64];
    if (len == 0 || len >= sizeof tmp || s[0] == ' ' || s[0] == '+')
        return false;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    char *end;
    double v = strtod(tmp, &end);
    if (end != tmp + len || !isfinite(v))
        return false;
    /* strtod also takes hex, exponents and "inf"; rules are plain decimals. */
    if (number_prefix(tmp, len) != len)
        return false;
    *ret = v;
    return true;
}

bool
sw_units_parse_ratio(const char *s, size_t len, double *ret)
{
    double v;
    bool percent = len > 0 && s[len - 1] == '%';
    if (!sw_units_parse_number(s, percent ? len - 1 : len, &v))
        return false;
    if (percent) {
        /* Round once, as written: 99.9 / 100 is 0.9990000000000001, 99.9e-2 is 0.999, so a
         * budget of 1 - target is 0.001 and a burn rate of exactly 1 is not above 1. */
        char tmp[72];
        snprintf(tmp, sizeof tmp, "%.*se-2", (int)(len - 1), s);
        v = strtod(tmp, NULL);
    }
    *ret = v;
    return true;
}

/* A unit suffix: one of it is mul / div base units (divide, not multiply by 1/60, so
 * `60000/m` is exactly 1000/s). */
typedef struct unit_suffix {
    const char *suffix;
    double mul, div;
} unit_suffix;

/* `<non-negative number><suffix>` with one of units' suffixes, scaled to the base unit. */
static bool
parse_scaled(const char *s, size_t len, const unit_suffix *units, size_t n_units, double *ret)
{
    size_t n = number_prefix(s, len);
    double v;
    if (n == 0 || !sw_units_parse_number(s, n, &v) || v < 0)
        return false;
    for (size_t u = 0; u < n_units; u++)
        if (strlen(units[u].suffix) == len - n && memcmp(s + n, units[u].suffix, len - n) == 0) {
            *ret = v * units[u].mul / units[u].div;
            return true;
        }
    return false;
}

bool
sw_units_parse_latency_us(const char *s, size_t len, double *ret_us)
{
    static const unit_suffix units[] = {
        {"us", 1, 1}, {"\xc2\xb5s", 1, 1}, {"ms", 1e3, 1}, {"s", 1e6, 1}, {"m", 60e6, 1}};
    return parse_scaled(s, len, units, sizeof units / sizeof units[0], ret_us);
}

bool
sw_units_parse_rate(const char *s, size_t len, double *ret_per_s)
{
    static const unit_suffix units[] = {{"/s", 1, 1}, {"/m", 1, 60}, {"/h", 1, 3600}};
    return parse_scaled(s, len, units, sizeof units / sizeof units[0], ret_per_s);
}

/* ------------------------------------------------------------------ RFC 3339 times */

int64_t
sw_days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void
sw_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* n decimal digits at s, or -1. */
static int
digits_at(const char *s, size_t len, size_t at, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (at + (size_t)i >= len || s[at + i] < '0' || s[at + i] > '9')
            return -1;
        v = v * 10 + (s[at + i] - '0');
    }
    return v;
}

static bool
days_in_month_ok(int y, int m, int d)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m >= 1 && m <= 12 && d >= 1 && d <= days[m - 1] + (m == 2 && leap);
}

/* `Z` or `+HH:MM` / `-HH:MM` at s[at..len): the offset in minutes east of UTC. */
static bool
parse_zone(const char *s, size_t len, size_t at, int *ret_minutes)
{
    if (at + 1 == len && (s[at] == 'Z' || s[at] == 'z')) {
        *ret_minutes = 0;
        return true;
    }
    if (at + 6 != len || (s[at] != '+' && s[at] != '-') || s[at + 3] != ':')
        return false;
    int hh = digits_at(s, len, at + 1, 2), mm = digits_at(s, len, at + 4, 2);
    if (hh < 0 || hh > 23 || mm < 0 || mm > 59)
        return false;
    *ret_minutes = (s[at] == '-' ? -1 : 1) * (hh * 60 + mm);
    return true;
}

bool
sw_units_parse_time_ms(const char *s, size_t len, int64_t *ret_ms)
{
    int y = digits_at(s, len, 0, 4), mo = digits_at(s, len, 5, 2), d = digits_at(s, len, 8, 2);
    int h = digits_at(s, len, 11, 2), mi = digits_at(s, len, 14, 2), se = digits_at(s, len, 17, 2);
    if (len < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        s[13] != ':' || s[16] != ':' || y < 0 || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 ||
        se > 59 || !days_in_month_ok(y, mo, d))
        return false;
    size_t at = 19;
    int64_t frac_ms = 0;
    if (s[at] == '.') {
        int64_t scale = 100;
        for (at++; at < len && s[at] >= '0' && s[at] <= '9'; at++, scale /= 10)
            frac_ms += (s[at] - '0') * scale;
        if (at == 20)
            return false;
    }
    int zone_minutes;
    if (!parse_zone(s, len, at, &zone_minutes))
        return false;
    int64_t seconds = sw_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
    *ret_ms = (seconds - zone_minutes * 60) * 1000 + frac_ms;
    return true;
}

void
sw_units_month_of(int64_t t_ms, int64_t *ret_start_ms, int64_t *ret_end_ms)
{
    const int64_t day_ms = INT64_C(86400000);
    int64_t days = t_ms >= 0 ? t_ms / day_ms : -((-t_ms + day_ms - 1) / day_ms), y;
    int m, d;
    sw_civil_from_days(days, &y, &m, &d);
    *ret_start_ms = sw_days_from_civil(y, m, 1) * day_ms;
    *ret_end_ms = (m == 12 ? sw_days_from_civil(y + 1, 1, 1) : sw_days_from_civil(y, m + 1, 1)) * day_ms;
}

void
sw_units_format_time(int64_t ms, char *out, size_t cap)
{
    int64_t seconds = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
    int64_t rem_ms = ms - seconds * 1000;
    int64_t days = seconds >= 0 ? seconds / 86400 : -((-seconds + 86399) / 86400);
    int64_t sod = seconds - days * 86400, y;
    int m, d;
    sw_civil_from_days(days, &y, &m, &d);
    if (rem_ms == 0)
        snprintf(out, cap, "%04lld-%02d-%02dT%02d:%02d:%02dZ", (long long)y, m, d, (int)(sod / 3600),
                 (int)(sod / 60 % 60), (int)(sod % 60));
    else
        snprintf(out, cap, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ", (long long)y, m, d,
                 (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60), (int)rem_ms);
}
