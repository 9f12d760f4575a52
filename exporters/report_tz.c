/*
 * IANA zones from TZif files: the version 2 block (64-bit transition times) is read into a
 * sorted table of (transition, offset). Times past the last transition keep its offset: Debian
 * installs "fat" files whose tables run to 2037. Calendar arithmetic is Howard Hinnant's
 * days-from-civil, so no libc time zone state is touched.
 */
#include "slawatch/report_tz.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slawatch/units.h"

#define ZONEINFO_DIR "/usr/share/zoneinfo/"
#define ZONE_NAME_MAX 128
#define TZIF_MAX (1u << 20)
#define DAY_MS INT64_C(86400000)

struct sw_report_tz {
    char name[ZONE_NAME_MAX];
    size_t n;            /* transitions */
    int64_t *at_ms;      /* transition instants, increasing */
    int64_t *offset_ms;  /* offset from each transition on */
    int64_t first_offset_ms; /* before the first transition */
};

int
sw_report_tz_month_days(int year, int month)
{
    int64_t ny = month == 12 ? year + 1 : year, nm = month == 12 ? 1 : month + 1;
    return (int)(sw_days_from_civil(ny, nm, 1) - sw_days_from_civil(year, month, 1));
}

/* Zone names are paths under the zoneinfo directory: no "..", no leading '/', tame bytes. */
static bool
name_ok(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len >= ZONE_NAME_MAX || name[0] == '/' || strstr(name, "..") != NULL)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '/' || c == '_' || c == '-' || c == '+';
        if (!ok)
            return false;
    }
    return true;
}

static uint32_t
be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t
be64(const uint8_t *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* The six counts of a TZif header at p: isut, isstd, leap, time, type, char. */
typedef struct tzif_counts {
    uint32_t isut, isstd, leap, time, type, chars;
} tzif_counts;

static tzif_counts
header_counts(const uint8_t *p)
{
    return (tzif_counts){be32(p + 20), be32(p + 24), be32(p + 28),
                         be32(p + 32), be32(p + 36), be32(p + 40)};
}

static size_t
block_size(const tzif_counts *c, size_t time_size)
{
    return (size_t)c->time * (time_size + 1) + (size_t)c->type * 6 + c->chars +
           (size_t)c->leap * (time_size + 4) + c->isstd + c->isut;
}

/* Fill tz from the version 2 data block at p (n bytes available). */
static sw_status
parse_v2(sw_report_tz *tz, const uint8_t *p, size_t n, sw_err *err)
{
    if (n < 44 || memcmp(p, "TZif", 4) != 0)
        return sw_err_set(err, SW_E_PARSE, "zone %s: no version 2 header", tz->name);
    tzif_counts c = header_counts(p);
    if (c.type == 0 || c.type > 256 || c.time > 100000 || block_size(&c, 8) > n - 44)
        return sw_err_set(err, SW_E_PARSE, "zone %s: bad TZif counts", tz->name);
    const uint8_t *times = p + 44, *idx = times + 8 * (size_t)c.time, *types = idx + c.time;
    tz->at_ms = malloc(((size_t)c.time + 1) * sizeof *tz->at_ms);
    tz->offset_ms = malloc(((size_t)c.time + 1) * sizeof *tz->offset_ms);
    if (tz->at_ms == NULL || tz->offset_ms == NULL)
        return sw_err_set(err, SW_E_NOMEM, "zone %s: out of memory", tz->name);
    for (uint32_t i = 0; i < c.time; i++) {
        if (idx[i] >= c.type)
            return sw_err_set(err, SW_E_PARSE, "zone %s: bad type index", tz->name);
        tz->at_ms[i] = be64(times + 8 * (size_t)i) * 1000;
        tz->offset_ms[i] = (int64_t)(int32_t)be32(types + 6 * (size_t)idx[i]) * 1000;
    }
    tz->n = c.time;
    tz->first_offset_ms = (int64_t)(int32_t)be32(types) * 1000;
    return SW_OK;
}

static sw_status
parse_tzif(sw_report_tz *tz, const uint8_t *p, size_t n, sw_err *err)
{
    if (n < 44 || memcmp(p, "TZif", 4) != 0)
        return sw_err_set(err, SW_E_PARSE, "zone %s: not a TZif file", tz->name);
    if (p[4] < '2')
        return sw_err_set(err, SW_E_PARSE, "zone %s: TZif version 1 is not supported", tz->name);
    tzif_counts c1 = header_counts(p);
    size_t v1 = 44 + block_size(&c1, 4);
    if (v1 > n)
        return sw_err_set(err, SW_E_PARSE, "zone %s: truncated TZif file", tz->name);
    return parse_v2(tz, p + v1, n - v1, err);
}

static sw_status
read_zone_file(sw_report_tz *tz, sw_err *err)
{
    char path[sizeof ZONEINFO_DIR + ZONE_NAME_MAX];
    snprintf(path, sizeof path, "%s%s", ZONEINFO_DIR, tz->name);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return sw_err_set(err, SW_E_INVAL, "unknown time zone '%s' (no %s)", tz->name, path);
    uint8_t *data = malloc(TZIF_MAX);
    size_t n = data != NULL ? fread(data, 1, TZIF_MAX, f) : 0;
    fclose(f);
    sw_status r = data == NULL ? sw_err_set(err, SW_E_NOMEM, "zone %s: out of memory", tz->name)
                               : parse_tzif(tz, data, n, err);
    free(data);
    return r;
}

sw_status
sw_report_tz_load(const char *name, sw_report_tz **ret, sw_err *err)
{
    bool utc = name == NULL || name[0] == '\0' || strcmp(name, "UTC") == 0;
    if (!utc && !name_ok(name))
        return sw_err_set(err, SW_E_INVAL, "'%.64s' is not a time zone name (e.g. Europe/Berlin)",
                          name);
    sw_report_tz *tz = calloc(1, sizeof *tz);
    if (tz == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory loading a time zone");
    snprintf(tz->name, sizeof tz->name, "%s", utc ? "UTC" : name);
    sw_status r = utc ? SW_OK : read_zone_file(tz, err);
    if (r != SW_OK) {
        sw_report_tz_free(tz);
        return r;
    }
    *ret = tz;
    return SW_OK;
}

void
sw_report_tz_free(sw_report_tz *tz)
{
    if (tz == NULL)
        return;
    free(tz->at_ms);
    free(tz->offset_ms);
    free(tz);
}

const char *
sw_report_tz_name(const sw_report_tz *tz)
{
    return tz->name;
}

int64_t
sw_report_tz_offset_ms(const sw_report_tz *tz, int64_t utc_ms)
{
    if (tz->n == 0 || utc_ms < tz->at_ms[0])
        return tz->first_offset_ms;
    size_t lo = 0, hi = tz->n; /* the last transition at or before utc_ms is in [lo, hi) */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (tz->at_ms[mid] <= utc_ms)
            lo = mid;
        else
            hi = mid;
    }
    return tz->offset_ms[lo];
}

int64_t
sw_report_tz_day_start(const sw_report_tz *tz, int year, int month, int day)
{
    int64_t local = sw_days_from_civil(year, month, 1) * DAY_MS + (int64_t)(day - 1) * DAY_MS;
    /* Two rounds find the instant whose local time is midnight; in a gap, the later guess is
     * the first instant of the day. */
    int64_t guess = local - sw_report_tz_offset_ms(tz, local);
    int64_t again = local - sw_report_tz_offset_ms(tz, guess);
    if (again + sw_report_tz_offset_ms(tz, again) == local)
        return again;
    return guess > again ? guess : again;
}

void
sw_report_tz_local(const sw_report_tz *tz, int64_t utc_ms, int *ret_year, int *ret_month,
                   int *ret_day, int *ret_hour, int *ret_minute)
{
    int64_t local = utc_ms + sw_report_tz_offset_ms(tz, utc_ms);
    int64_t days = (local >= 0 ? local : local - DAY_MS + 1) / DAY_MS;
    int64_t in_day = local - days * DAY_MS;
    int64_t year;
    sw_civil_from_days(days, &year, ret_month, ret_day);
    *ret_year = (int)year;
    *ret_hour = (int)(in_day / 3600000);
    *ret_minute = (int)(in_day / 60000 % 60);
}
