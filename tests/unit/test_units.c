/* Unit tests for core/units: durations, ratios, latencies, rates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "slawatch/units.h"

static void
test_durations(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int64_t ms;
    } good[] = {
        {"10s", 10000},       {"5m", 300000},         {"1h", 3600000},
        {"30d", 2592000000},  {"1w", 604800000},      {"1y", 31536000000},
        {"250ms", 250},       {"1h30m", 5400000},     {"1d2h3m4s5ms", 93784005},
        {"90s", 90000},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        int64_t ms = -1;
        assert_true(sw_units_parse_duration_ms(good[i].text, strlen(good[i].text), &ms));
        assert_int_equal(ms, good[i].ms);
    }
    static const char *const bad[] = {"",    "10",   "s",     "5 m",  "1m1h", "1h1h",
                                      "-5m", "0s",   "1.5h",  "5M",   "m5",   "99999999999999999999s"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t ms = 7;
        assert_false(sw_units_parse_duration_ms(bad[i], strlen(bad[i]), &ms));
        assert_int_equal(ms, 7); /* untouched on failure */
    }
}

static void
test_duration_format(void **state)
{
    (void)state;
    char out[32];
    static const struct {
        int64_t ms;
        const char *text;
    } cases[] = {{0, "0s"},          {10000, "10s"},     {90000, "1m30s"},
                 {2592000000, "30d"}, {604800000, "1w"}, {5400000, "1h30m"}, {250, "250ms"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sw_units_format_duration(cases[i].ms, out, sizeof out);
        assert_string_equal(out, cases[i].text);
    }
}

static void
test_ratios(void **state)
{
    (void)state;
    double v = 0;
    assert_true(sw_units_parse_ratio("99.9%", 5, &v));
    assert_true(v == 0.999); /* the double nearest 0.999, not 99.9 / 100 */
    assert_true(sw_units_parse_ratio("0.1%", 4, &v));
    assert_true(v == 0.001);
    assert_true(sw_units_parse_ratio("0.001", 5, &v));
    assert_true(fabs(v - 0.001) < 1e-15);
    assert_true(sw_units_parse_ratio("5%", 2, &v));
    assert_true(fabs(v - 0.05) < 1e-15);
    assert_false(sw_units_parse_ratio("%", 1, &v));
    assert_false(sw_units_parse_ratio("abc%", 4, &v));
    assert_false(sw_units_parse_ratio("1e3", 3, &v)); /* plain decimals only */
    assert_false(sw_units_parse_ratio("0x10", 4, &v));
    assert_false(sw_units_parse_ratio("inf", 3, &v));
}

static void
test_latencies(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        double us;
    } good[] = {{"500ms", 500000}, {"1s", 1000000}, {"2.5s", 2500000},
                {"250us", 250},    {"1m", 60000000}};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        double us = -1;
        assert_true(sw_units_parse_latency_us(good[i].text, strlen(good[i].text), &us));
        assert_true(fabs(us - good[i].us) < 1e-9);
    }
    double us = -1;
    assert_true(sw_units_parse_latency_us("3\xc2\xb5s", 4, &us));
    assert_true(fabs(us - 3.0) < 1e-12);
    static const char *const bad[] = {"500", "ms", "-1ms", "5 ms", "5msx", "1h"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(sw_units_parse_latency_us(bad[i], strlen(bad[i]), &us));
}

static void
test_rates(void **state)
{
    (void)state;
    double r = 0;
    assert_true(sw_units_parse_rate("1000/s", 6, &r));
    assert_true(fabs(r - 1000.0) < 1e-12);
    assert_true(sw_units_parse_rate("60000/m", 7, &r));
    assert_true(r == 1000.0); /* exactly: thresholds are compared at their boundary */
    assert_true(sw_units_parse_rate("7200/h", 6, &r));
    assert_true(fabs(r - 2.0) < 1e-12);
    assert_false(sw_units_parse_rate("1000", 4, &r));
    assert_false(sw_units_parse_rate("1000/d", 6, &r));
    assert_false(sw_units_parse_rate("/s", 2, &r));
}

static void
test_length_is_respected(void **state)
{
    (void)state;
    int64_t ms = 0;
    /* Only the first 2 bytes are the text: "5m" out of "5m0s". */
    assert_true(sw_units_parse_duration_ms("5m0s", 2, &ms));
    assert_int_equal(ms, 300000);
    double v = 0;
    assert_true(sw_units_parse_ratio("1%%%", 2, &v));
    assert_true(fabs(v - 0.01) < 1e-15);
}

static void
test_times(void **state)
{
    (void)state;
    /* Epoch seconds worked out independently (`date -u -d ... +%s`). */
    static const struct {
        const char *text;
        int64_t ms;
    } good[] = {
        {"1970-01-01T00:00:00Z", 0},
        {"2026-10-01T00:00:00Z", INT64_C(1790812800000)},
        {"2024-02-29T12:30:15Z", INT64_C(1709209815000)},
        {"2026-10-01T02:00:00+02:00", INT64_C(1790812800000)},
        {"2026-09-30T19:30:00-04:30", INT64_C(1790812800000)},
        {"2026-10-01T00:00:00.250Z", INT64_C(1790812800250)},
        {"2000-03-01T00:00:00Z", INT64_C(951868800000)},
        {"2026-10-01 00:00:00Z", INT64_C(1790812800000)}, /* RFC 3339 5.6 allows a space */
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        int64_t ms = -1;
        assert_true(sw_units_parse_time_ms(good[i].text, strlen(good[i].text), &ms));
        assert_int_equal(ms, good[i].ms);
    }
    static const char *const bad[] = {
        "2026-10-01",           "2026-10-01T00:00:00",   "2026-13-01T00:00:00Z",
        "2025-02-29T00:00:00Z", "2026-10-01T24:00:00Z",  "2026-10-01T00:00:00+2:00",
        "2026-10-01_00:00:00Z", "2026-10-01T00:00:00.Z", "2026-10-01T00:00:00Zjunk",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t ms = 7;
        assert_false(sw_units_parse_time_ms(bad[i], strlen(bad[i]), &ms));
        assert_int_equal(ms, 7);
    }
    char out[32];
    sw_units_format_time(INT64_C(1790812800000), out, sizeof out);
    assert_string_equal(out, "2026-10-01T00:00:00Z");
    sw_units_format_time(INT64_C(1709209815250), out, sizeof out);
    assert_string_equal(out, "2024-02-29T12:30:15.250Z");
    sw_units_format_time(-1000, out, sizeof out);
    assert_string_equal(out, "1969-12-31T23:59:59Z");
}

static void
test_month_of(void **state)
{
    (void)state;
    int64_t start, end;
    /* 2024-02-29T12:30:15Z: February 2024 (leap year), 1706745600 .. 1709251200 (date -u). */
    sw_units_month_of(INT64_C(1709209815000), &start, &end);
    assert_int_equal(start, INT64_C(1706745600000));
    assert_int_equal(end, INT64_C(1709251200000));
    /* 2026-12-31T23:59:59.999Z: December rolls over into the next year. */
    sw_units_month_of(INT64_C(1798761599999), &start, &end);
    assert_int_equal(start, INT64_C(1796083200000));
    assert_int_equal(end, INT64_C(1798761600000));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_durations),   cmocka_unit_test(test_duration_format),
        cmocka_unit_test(test_ratios),      cmocka_unit_test(test_latencies),
        cmocka_unit_test(test_rates),       cmocka_unit_test(test_length_is_respected),
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_month_of),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
