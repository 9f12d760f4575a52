/*
 * Unit tests for exporters/report_tz: month lengths and day starts in zones with daylight
 * saving, offsets either side of a transition, local times, UTC, and rejected zone names.
 * Expected instants are worked out by hand from the zones' rules (EU: last Sunday of October
 * at 01:00 UTC; US: second Sunday of March at 02:00 local; Cuba: Sunday >= 8 March at 00:00
 * local) and the UTC epoch milliseconds of the month starts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "slawatch/report_tz.h"

#define MIN_MS INT64_C(60000)
#define HOUR_MS INT64_C(3600000)
#define DAY_MS INT64_C(86400000)
#define MAR_1_2026 INT64_C(1772323200000) /* 2026-03-01T00:00:00Z */
#define APR_1_2026 (MAR_1_2026 + 31 * DAY_MS)
#define OCT_1_2026 INT64_C(1790812800000) /* 2026-10-01T00:00:00Z */
#define NOV_1_2026 (OCT_1_2026 + 31 * DAY_MS)
#define JAN_1_2027 INT64_C(1798761600000) /* 2027-01-01T00:00:00Z */

static sw_report_tz *
load(const char *name)
{
    sw_report_tz *tz = NULL;
    sw_err err = {0};
    if (sw_report_tz_load(name, &tz, &err) != SW_OK)
        fail_msg("loading %s: %s", name ? name : "(null)", err.msg);
    return tz;
}

static int64_t
month_minutes(const sw_report_tz *tz, int year, int month)
{
    int days = sw_report_tz_month_days(year, month);
    return (sw_report_tz_day_start(tz, year, month, days + 1) -
            sw_report_tz_day_start(tz, year, month, 1)) /
           MIN_MS;
}

/* October 2026 in Berlin: CEST (+2) until Oct 25 01:00 UTC, then CET (+1): 31 days + 1 h. */
static void
test_berlin_october(void **state)
{
    (void)state;
    sw_report_tz *tz = load("Europe/Berlin");
    assert_string_equal(sw_report_tz_name(tz), "Europe/Berlin");
    assert_int_equal(month_minutes(tz, 2026, 10), 44700);
    assert_int_equal(sw_report_tz_day_start(tz, 2026, 10, 1), OCT_1_2026 - 2 * HOUR_MS);
    assert_int_equal(sw_report_tz_day_start(tz, 2026, 10, 32), NOV_1_2026 - HOUR_MS);
    /* Sunday the 25th lasts 25 hours. */
    int64_t d25 = sw_report_tz_day_start(tz, 2026, 10, 25);
    assert_int_equal(d25, OCT_1_2026 + 24 * DAY_MS - 2 * HOUR_MS);
    assert_int_equal(sw_report_tz_day_start(tz, 2026, 10, 26) - d25, 25 * HOUR_MS);
    int64_t change = OCT_1_2026 + 24 * DAY_MS + HOUR_MS; /* 2026-10-25T01:00:00Z */
    assert_int_equal(sw_report_tz_offset_ms(tz, change - 1), 2 * HOUR_MS);
    assert_int_equal(sw_report_tz_offset_ms(tz, change), HOUR_MS);
    /* 02:30 local happens twice: at 00:30 and at 01:30 UTC. */
    int y, mo, d, h, mi;
    sw_report_tz_local(tz, change - 30 * MIN_MS, &y, &mo, &d, &h, &mi);
    assert_true(y == 2026 && mo == 10 && d == 25 && h == 2 && mi == 30);
    sw_report_tz_local(tz, change + 30 * MIN_MS, &y, &mo, &d, &h, &mi);
    assert_true(y == 2026 && mo == 10 && d == 25 && h == 2 && mi == 30);
    sw_report_tz_free(tz);
}

/* March 2026 in New York: EST (-5) until Mar 8 07:00 UTC, then EDT (-4): 31 days - 1 h. */
static void
test_new_york_march(void **state)
{
    (void)state;
    sw_report_tz *tz = load("America/New_York");
    assert_int_equal(month_minutes(tz, 2026, 3), 44580);
    assert_int_equal(sw_report_tz_day_start(tz, 2026, 3, 1), MAR_1_2026 + 5 * HOUR_MS);
    assert_int_equal(sw_report_tz_day_start(tz, 2026, 4, 1), APR_1_2026 + 4 * HOUR_MS);
    int64_t d8 = sw_report_tz_day_start(tz, 2026, 3, 8);
    assert_int_equal(sw_report_tz_day_start(tz, 2026, 3, 9) - d8, 23 * HOUR_MS);
    int64_t change = MAR_1_2026 + 7 * DAY_MS + 7 * HOUR_MS; /* 2026-03-08T07:00:00Z */
    assert_int_equal(sw_report_tz_offset_ms(tz, change - 1), -5 * HOUR_MS);
    assert_int_equal(sw_report_tz_offset_ms(tz, change), -4 * HOUR_MS);
    sw_report_tz_free(tz);
}

/* Havana skips from 00:00 to 01:00 on Sunday 8 March 2026: the day starts at 01:00 CDT. */
static void
test_midnight_in_gap(void **state)
{
    (void)state;
    sw_report_tz *tz = load("America/Havana");
    int64_t d8 = sw_report_tz_day_start(tz, 2026, 3, 8);
    assert_int_equal(d8, MAR_1_2026 + 7 * DAY_MS + 5 * HOUR_MS); /* 01:00 at -4 */
    int y, mo, d, h, mi;
    sw_report_tz_local(tz, d8, &y, &mo, &d, &h, &mi);
    assert_true(y == 2026 && mo == 3 && d == 8 && h == 1 && mi == 0);
    assert_int_equal(sw_report_tz_day_start(tz, 2026, 3, 9) - d8, 23 * HOUR_MS);
    sw_report_tz_free(tz);
}

static void
test_utc(void **state)
{
    (void)state;
    static const char *const names[] = {NULL, "", "UTC"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        sw_report_tz *tz = load(names[i]);
        assert_string_equal(sw_report_tz_name(tz), "UTC");
        assert_int_equal(month_minutes(tz, 2026, 10), 31 * 1440);
        assert_int_equal(month_minutes(tz, 2026, 2), 28 * 1440);
        assert_int_equal(sw_report_tz_day_start(tz, 2026, 10, 1), OCT_1_2026);
        assert_int_equal(sw_report_tz_day_start(tz, 2026, 12, 32), JAN_1_2027);
        assert_int_equal(sw_report_tz_offset_ms(tz, OCT_1_2026), 0);
        int y, mo, d, h, mi;
        sw_report_tz_local(tz, JAN_1_2027 - 1, &y, &mo, &d, &h, &mi);
        assert_true(y == 2026 && mo == 12 && d == 31 && h == 23 && mi == 59);
        sw_report_tz_free(tz);
    }
}

static void
test_month_days(void **state)
{
    (void)state;
    static const int cases[][3] = {{2026, 1, 31}, {2026, 2, 28}, {2024, 2, 29}, {2000, 2, 29},
                                   {2100, 2, 28}, {2026, 4, 30}, {2026, 9, 30}, {2026, 12, 31}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(sw_report_tz_month_days(cases[i][0], cases[i][1]), cases[i][2]);
}

static void
test_rejected(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        sw_status code;
        const char *says;
    } cases[] = {
        {"Mars/Olympus", SW_E_INVAL, "Mars/Olympus"},
        {"../../etc/passwd", SW_E_INVAL, "not a time zone name"},
        {"/usr/share/zoneinfo/UTC", SW_E_INVAL, "not a time zone name"},
        {"Europe/Berlin;rm", SW_E_INVAL, "not a time zone name"},
        {"leapseconds", SW_E_PARSE, "leapseconds"}, /* a text file beside the zones */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sw_report_tz *tz = NULL;
        sw_err err = {0};
        assert_int_equal(sw_report_tz_load(cases[i].name, &tz, &err), cases[i].code);
        assert_null(tz);
        if (strstr(err.msg, cases[i].says) == NULL)
            fail_msg("%s: message '%s' lacks '%s'", cases[i].name, err.msg, cases[i].says);
    }
    sw_report_tz_free(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_berlin_october),  cmocka_unit_test(test_new_york_march),
        cmocka_unit_test(test_midnight_in_gap), cmocka_unit_test(test_utc),
        cmocka_unit_test(test_month_days),      cmocka_unit_test(test_rejected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
