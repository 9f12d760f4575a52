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
    *ret = percent ? v / 100.0 : v;
    return true;
}

static bool
suffix_is(const char *s, size_t len, const char *suffix)
{
    return strlen(suffix) == len && memcmp(s, suffix, len) == 0;
}

bool
sw_units_parse_latency_us(const char *s, size_t len, double *ret_us)
{
    static const struct {
        const char *suffix;
        double us;
    } units[] = {{"us", 1.0}, {"\xc2\xb5s", 1.0}, {"ms", 1e3}, {"s", 1e6}, {"m", 60e6}};
    size_t n = number_prefix(s, len);
    double v;
    if (n == 0 || !sw_units_parse_number(s, n, &v) || v < 0)
        return false;
    for (size_t u = 0; u < sizeof units / sizeof units[0]; u++)
        if (suffix_is(s + n, len - n, units[u].suffix)) {
            *ret_us = v * units[u].us;
            return true;
        }
    return false;
}

bool
sw_units_parse_rate(const char *s, size_t len, double *ret_per_s)
{
    static const struct {
        const char *suffix;
        double seconds;
    } units[] = {{"/s", 1.0}, {"/m", 60.0}, {"/h", 3600.0}};
    size_t n = number_prefix(s, len);
    double v;
    if (n == 0 || !sw_units_parse_number(s, n, &v) || v < 0)
        return false;
    for (size_t u = 0; u < sizeof units / sizeof units[0]; u++)
        if (suffix_is(s + n, len - n, units[u].suffix)) {
            *ret_per_s = v / units[u].seconds;
            return true;
        }
    return false;
}
