/*
 * The report's numbers for people (exporters/report_words.c, docs/reports.md): expected texts
 * written by hand from the rules the docs give (three significant digits and a unit prefix,
 * minutes then hours, percentages with the decimals it takes not to read as 100 % or as the
 * target, latencies in ms or s).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>

#include "report_int.h"

static void
expect(void (*fn)(double, char *, size_t), double v, const char *want)
{
    char out[64];
    fn(v, out, sizeof out);
    assert_string_equal(out, want);
}

static void
test_counts(void **state)
{
    (void)state;
    expect(sw_report_words_count, 2653200000.0, "2.65 G");
    expect(sw_report_words_count, 1505700.0, "1.51 M");
    expect(sw_report_words_count, 6600.0, "6.6 k");
    expect(sw_report_words_count, 999.0, "999");
    expect(sw_report_words_count, 0.0, "0");
    expect(sw_report_words_count, 999600.0, "1 M"); /* not "1000 k" */
    expect(sw_report_words_count, 44460000.0, "44.5 M");
    expect(sw_report_words_count, NAN, "n/a");
}

static void
test_durations(void **state)
{
    (void)state;
    expect(sw_report_words_minutes, 43.2 * 60, "43.2 min");
    expect(sw_report_words_minutes, 119.0 * 60, "119.0 min");
    expect(sw_report_words_minutes, 150.0 * 60, "2.5 h");
}

static void
test_percentages(void **state)
{
    (void)state;
    expect(sw_report_words_percent, 0.9994, "99.94 %");
    expect(sw_report_words_percent, 0.99996, "99.996 %"); /* two decimals would say 100 */
    expect(sw_report_words_percent, 1.0, "100 %");
    expect(sw_report_words_percent, 0.999, "99.9 %");
    expect(sw_report_words_percent, 0.000568, "0.0568 %");
    expect(sw_report_words_percent, 0.4325, "43.25 %");
    expect(sw_report_words_percent, 0.0, "0 %");
    char out[32];
    sw_report_words_percent_apart(0.999852, 0.9999, out, sizeof out);
    assert_string_equal(out, "99.985 %"); /* "99.99 %" would read as the target */
    sw_report_words_percent_apart(0.9994, 0.999, out, sizeof out);
    assert_string_equal(out, "99.94 %");
}

static void
test_latency_and_rate(void **state)
{
    (void)state;
    expect(sw_report_words_latency, 1200000.0, "1.2 s");
    expect(sw_report_words_latency, 450000.0, "450 ms");
    expect(sw_report_words_latency, 1000000.0, "1 s");
    expect(sw_report_words_rate, 1000.0, "1000 req/s");
    expect(sw_report_words_rate, 1000.0 / 60.0, "16.67 req/s");
    expect(sw_report_words_rate, 25000.0, "25 k req/s");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_percentages),
        cmocka_unit_test(test_latency_and_rate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
