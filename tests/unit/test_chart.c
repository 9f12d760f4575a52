/*
 * Unit tests for exporters/chart: value ticks, time ticks and their labels, point and bar
 * coordinates, edge markers for values outside a fixed range, gaps, escaping and empty input.
 * Expected values are worked out by hand in the comments from the rules stated in chart.h
 * (1-2-5 steps, the plot area between the pads, linear maps); the epoch milliseconds of the
 * dates come from Python's datetime.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "slawatch/chart.h"

#define MIN_MS INT64_C(60000)
#define HOUR_MS INT64_C(3600000)
#define DAY_MS INT64_C(86400000)
#define DEC_7_2026 INT64_C(1796601600000) /* 2026-12-07T00:00:00Z, a Monday */
#define NOV_7_2026 INT64_C(1794009600000) /* 2026-11-07T00:00:00Z, a Saturday */
#define JAN_1_2026 INT64_C(1767225600000)
#define JAN_1_2027 INT64_C(1798761600000)

static void
nice(double lo, double hi, double want_lo, double want_hi, double want_step, size_t want_n)
{
    sw_chart_ticks t;
    sw_chart_nice_ticks(lo, hi, 4, &t);
    if (fabs(t.lo - want_lo) > 1e-12 * fmax(1, fabs(want_lo)) ||
        fabs(t.hi - want_hi) > 1e-12 * fmax(1, fabs(want_hi)) ||
        fabs(t.step - want_step) > 1e-12 * want_step || t.n != want_n)
        fail_msg("[%g, %g]: got %g..%g step %g n %zu, want %g..%g step %g n %zu", lo, hi, t.lo,
                 t.hi, t.step, t.n, want_lo, want_hi, want_step, want_n);
}

static void
test_nice_ticks(void **state)
{
    (void)state;
    /* 7.3 / 4 intervals: step 1 needs 8, step 2 needs 4 (0, 2, 4, 6, 8). */
    nice(0, 7.3, 0, 8, 2, 5);
    /* 97.8..100: 0.5 needs 5 (97.5..100), 1 needs 3 (97..100). */
    nice(97.8, 100, 97, 100, 1, 4);
    /* Tiny: 1e-4 needs 8, 2e-4 needs 5, 5e-4 needs 2 (0..1e-3). */
    nice(0.00012, 0.00087, 0, 0.001, 0.0005, 3);
    /* Huge: 5e11 needs 7, 1e12 needs 4. */
    nice(0, 3.2e12, 0, 4e12, 1e12, 5);
    /* Negative to positive: 2 needs -4..14 = 9, 5 needs -5..15 = 4. */
    nice(-3.7, 12.1, -5, 15, 5, 5);
    /* Constant 5: widened by a tenth each side to 4.5..5.5; 0.5 needs 2. */
    nice(5, 5, 4.5, 5.5, 0.5, 3);
    /* Constant 0 and nonsense: [0, 1], step 0.5. */
    nice(0, 0, 0, 1, 0.5, 3);
    nice(NAN, 3, 0, 1, 0.5, 3);
    nice(4, 1, 0, 1, 0.5, 3);
    /* Past a double's range and below its resolution: still a finite axis. */
    sw_chart_ticks t;
    sw_chart_nice_ticks(-1e308, 1e308, 4, &t);
    assert_true(isfinite(t.lo) && isfinite(t.hi) && t.step > 0 && t.lo < t.hi);
    sw_chart_nice_ticks(0, 1e-320, 4, &t);
    assert_true(t.lo == 0 && t.hi == 1);
}

static void
want_ticks(int64_t from, int64_t to, int off, const int64_t *want, size_t n,
           const char *const *labels)
{
    sw_chart_time_ticks t;
    char label[32];
    sw_chart_time_ticks_for(from, to, off, 8, &t);
    assert_int_equal(t.n, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(t.at_ms[i], want[i]);
        sw_chart_time_label(&t, i, off, label, sizeof label);
        assert_string_equal(label, labels[i]);
    }
}

static void
test_time_ticks_hours(void **state)
{
    (void)state;
    /* 00:10 to 06:00 UTC: 30 minutes would be 12 ticks, hours give 01:00..06:00. */
    int64_t h[6];
    for (int i = 0; i < 6; i++)
        h[i] = DEC_7_2026 + (i + 1) * HOUR_MS;
    const char *const hl[] = {"01:00", "02:00", "03:00", "04:00", "05:00", "06:00"};
    want_ticks(DEC_7_2026 + 10 * MIN_MS, DEC_7_2026 + 6 * HOUR_MS, 0, h, 6, hl);
    /* The same span at +05:30 is 05:40..11:30 local: local hours 06..11 are UTC hh:30. */
    int64_t k[6];
    for (int i = 0; i < 6; i++)
        k[i] = DEC_7_2026 + 30 * MIN_MS + i * HOUR_MS;
    const char *const kl[] = {"06:00", "07:00", "08:00", "09:00", "10:00", "11:00"};
    want_ticks(DEC_7_2026 + 10 * MIN_MS, DEC_7_2026 + 6 * HOUR_MS, 19800, k, 6, kl);
    /* One hour: 5 minutes would be 13 ticks, 10 minutes give 7. */
    int64_t m[7];
    for (int i = 0; i < 7; i++)
        m[i] = DEC_7_2026 + 12 * HOUR_MS + i * 10 * MIN_MS;
    const char *const ml[] = {"12:00", "12:10", "12:20", "12:30", "12:40", "12:50", "13:00"};
    want_ticks(m[0], m[6], 0, m, 7, ml);
    /* 24 hours from 20:00: 2 hours give 13, 3 hours give 8; midnight names its day. */
    int64_t d[8];
    for (int i = 0; i < 8; i++)
        d[i] = DEC_7_2026 - 3 * HOUR_MS + i * 3 * HOUR_MS;
    const char *const dl[] = {"21:00", "Dec 07", "03:00", "06:00",
                              "09:00", "12:00",  "15:00", "18:00"};
    want_ticks(DEC_7_2026 - 4 * HOUR_MS, DEC_7_2026 + 20 * HOUR_MS, 0, d, 8, dl);
}

static void
test_time_ticks_weeks_months(void **state)
{
    (void)state;
    /* 30 days from Saturday Nov 7: days 31, 2 days 16, weeks on Mondays: Nov 9 .. Dec 7. */
    int64_t w[5];
    for (int i = 0; i < 5; i++)
        w[i] = NOV_7_2026 + 2 * DAY_MS + i * 7 * DAY_MS;
    const char *const wl[] = {"Nov 09", "Nov 16", "Nov 23", "Nov 30", "Dec 07"};
    want_ticks(NOV_7_2026, DEC_7_2026, 0, w, 5, wl);
    /* A year: months would be 13 ticks, quarters give Jan, Apr, Jul, Oct, Jan. Day counts:
     * Jan 31 + Feb 28 + Mar 31 = 90, + Apr 30 + May 31 + Jun 30 = 181, + 92 = 273. */
    const int64_t q[] = {JAN_1_2026, JAN_1_2026 + 90 * DAY_MS, JAN_1_2026 + 181 * DAY_MS,
                         JAN_1_2026 + 273 * DAY_MS, JAN_1_2027};
    const char *const ql[] = {"Jan 2026", "Apr", "Jul", "Oct", "Jan 2027"};
    want_ticks(JAN_1_2026, JAN_1_2027, 0, q, 5, ql);
    /* An empty span has no ticks. */
    sw_chart_time_ticks t;
    sw_chart_time_ticks_for(DEC_7_2026, DEC_7_2026, 0, 8, &t);
    assert_int_equal(t.n, 0);
}

static char *
draw(const sw_chart *c, sw_buf *b)
{
    sw_err err = {0};
    sw_buf_init(b, 1 << 20);
    assert_int_equal(sw_chart_draw(b, c, &err), SW_OK);
    return (char *)sw_buf_cstr(b, &err);
}

static size_t
count(const char *s, const char *what)
{
    size_t n = 0;
    for (const char *p = strstr(s, what); p; p = strstr(p + 1, what))
        n++;
    return n;
}

/* Four hours, points at 0 h (0), 1 h (50), 2 h (NAN: a gap) and 4 h (100). */
static const int64_t pts_t[] = {DEC_7_2026, DEC_7_2026 + HOUR_MS, DEC_7_2026 + 2 * HOUR_MS,
                                DEC_7_2026 + 4 * HOUR_MS};

static sw_chart
four_hours(const sw_chart_series *s)
{
    sw_chart c = sw_chart_defaults();
    c.from_ms = DEC_7_2026;
    c.to_ms = DEC_7_2026 + 4 * HOUR_MS;
    c.series = s;
    c.n_series = 1;
    c.unit = "ms";
    return c;
}

static void
test_point_coordinates(void **state)
{
    (void)state;
    const double v[] = {0, 50, NAN, 100};
    sw_chart_series s = {"P99", pts_t, v, 4};
    sw_chart c = four_hours(&s);
    sw_buf b;
    char *svg = draw(&c, &b);
    /* Range 0..100 (step 50: 20 would need 5 intervals). Plot x 60..706, y 26..178: 1 h is
     * 60 + 646 / 4 = 221.5; 50 is 26 + 152 / 2 = 102. The gap starts a new subpath. */
    assert_non_null(strstr(svg, "d=\"M60.0 178.0L221.5 102.0M706.0 26.0\""));
    assert_non_null(strstr(svg, "<circle cx=\"221.5\" cy=\"102.0\" r=\"2.6\" class=\"sw-pt\">"
                                "<title>P99 at 2026-12-07 01:00: 50.00 ms</title>"));
    assert_int_equal(count(svg, "class=\"sw-pt\"><title>"), 3);
    assert_null(strstr(svg, "sw-clip"));
    /* Value ticks 0, 50, 100 and the unit. */
    assert_non_null(strstr(svg, "text-anchor=\"end\">50</text>"));
    assert_non_null(strstr(svg, "<text class=\"sw-unit\" x=\"4\" y=\"14\">ms</text>"));
    /* Time ticks hourly (30 minutes would be 9): 00:00 is midnight, so "Dec 07". */
    assert_non_null(strstr(svg, ">Dec 07</text>"));
    assert_non_null(strstr(svg, ">03:00</text>"));
    sw_buf_fini(&b);
}

static void
test_edge_markers(void **state)
{
    (void)state;
    const double v[] = {-20, 50, NAN, 100};
    sw_chart_series s = {"P99", pts_t, v, 4};
    sw_chart c = four_hours(&s);
    c.y_min = 0;
    c.y_max = 80;
    sw_buf b;
    char *svg = draw(&c, &b);
    /* 100 above 80: a triangle on the top edge at x 706 (y 26, base 7 below); -20 below 0: one
     * on the bottom edge at x 60 pointing down. 50 inside: y = 26 + 152 * 30 / 80 = 83. */
    assert_non_null(strstr(svg, "<path class=\"sw-clip sw-pt\" d=\"M701.0 33.0L706.0 26.0L711.0 "
                                "33.0Z\"><title>P99 at 2026-12-07 04:00: 100.00 ms (above the "
                                "chart's range)</title></path>"));
    assert_non_null(strstr(svg, "d=\"M55.0 171.0L60.0 178.0L65.0 171.0Z\"><title>P99 at "
                                "2026-12-07 00:00: -20.00 ms (below the chart's range)"));
    assert_non_null(strstr(svg, "d=\"M60.0 178.0L221.5 83.0M706.0 26.0\""));
    assert_int_equal(count(svg, "sw-clip"), 2);
    sw_buf_fini(&b);
}

static void
test_bars_from_a_floor(void **state)
{
    (void)state;
    /* Three days at 99.95 %, 98 % and 100 % against 99.9 %: the data 98..100 nice to 98..100
     * step 0.5; bars standing on 98 would hide the 98 % day, so the floor drops a step to 97.5.
     * 98 % is at 26 + 152 * 2 / 2.5 = 147.6, 30.4 above the floor (178). */
    sw_chart_bar bars[] = {{DEC_7_2026, DEC_7_2026 + DAY_MS, 99.95, false},
                           {DEC_7_2026 + DAY_MS, DEC_7_2026 + 2 * DAY_MS, 98.0, true},
                           {DEC_7_2026 + 2 * DAY_MS, DEC_7_2026 + 3 * DAY_MS, 100.0, false}};
    sw_chart_threshold th = {"objective", 99.9};
    sw_chart c = sw_chart_defaults();
    c.from_ms = DEC_7_2026;
    c.to_ms = DEC_7_2026 + 3 * DAY_MS;
    c.bars = bars;
    c.n_bars = 3;
    c.bar_name = "availability";
    c.thresholds = &th;
    c.n_thresholds = 1;
    c.unit = "%";
    sw_buf b;
    char *svg = draw(&c, &b);
    /* Day 2 spans x 60 + 646 / 3 = 275.3 to 490.7, less a unit each side. */
    assert_non_null(strstr(svg, "<rect class=\"sw-bar bad\" x=\"276.3\" y=\"147.6\" "
                                "width=\"213.3\" height=\"30.4\"><title>availability at "
                                "2026-12-08 00:00: 98.000% (missed)</title>"));
    assert_non_null(strstr(svg, ">97.5</text>"));
    assert_int_equal(count(svg, "<rect class=\"sw-bar"), 3 + 1 /* legend */);
    assert_non_null(strstr(svg, "objective 99.900%</text>"));
    sw_buf_fini(&b);
}

static void
test_escaping(void **state)
{
    (void)state;
    const double v[] = {1, 2, 3, 4};
    sw_chart_series s = {"<script>\"x'&", pts_t, v, 4};
    sw_chart_mark mark = {"</svg><b>", DEC_7_2026 + HOUR_MS, SW_CHART_MARK_DEPLOY};
    sw_chart_range maint = {"db & <b>", DEC_7_2026, DEC_7_2026 + HOUR_MS};
    sw_chart c = four_hours(&s);
    c.title = "a\"b";
    c.marks = &mark;
    c.n_marks = 1;
    c.ranges = &maint;
    c.n_ranges = 1;
    sw_buf b;
    char *svg = draw(&c, &b);
    assert_null(strstr(svg, "<script"));
    assert_null(strstr(svg, "<b>"));
    assert_int_equal(count(svg, "</svg>"), 1);
    assert_non_null(strstr(svg, "&lt;script&gt;&quot;x&#39;&amp;"));
    assert_non_null(strstr(svg, "aria-label=\"a&quot;b\""));
    assert_non_null(strstr(svg, "db &amp; &lt;b&gt;: 2026-12-07 00:00 to 2026-12-07 01:00"));
    assert_non_null(strstr(svg, "class=\"sw-mark deploy\""));
    sw_buf_fini(&b);
    /* A 10 KB name: the legend shows its first 40 bytes (no character cut in two: "é" is 2
     * bytes at 39 and 40), the title all of it. */
    static char big[10241];
    memset(big, 'x', sizeof big - 1);
    memcpy(big + 39, "\xc3\xa9", 2);
    s.name = big;
    svg = draw(&c, &b);
    char want[128];
    snprintf(want, sizeof want, ">%.39s...<title>%.39s\xc3\xa9x", big, big);
    assert_non_null(strstr(svg, want));
    sw_buf_fini(&b);
}

static void
test_empty_one_point_constant(void **state)
{
    (void)state;
    sw_chart c = sw_chart_defaults();
    c.from_ms = DEC_7_2026;
    c.to_ms = DEC_7_2026 + HOUR_MS;
    sw_buf b;
    char *svg = draw(&c, &b);
    assert_non_null(strstr(svg, ">No data</text>"));
    assert_null(strstr(svg, "nan"));
    sw_buf_fini(&b);
    /* One point of a constant 7: range 6.3..7.7 nices to 6..8 (step 0.5), the point at
     * y = 26 + 152 / 2 = 102, no line to speak of but its marker. */
    const double v[] = {7};
    sw_chart_series s = {"rate", pts_t, v, 1};
    c.series = &s;
    c.n_series = 1;
    svg = draw(&c, &b);
    assert_null(strstr(svg, "No data"));
    assert_non_null(strstr(svg, "cx=\"60.0\" cy=\"102.0\""));
    assert_null(strstr(svg, "nan"));
    sw_buf_fini(&b);
    /* Huge and tiny values of both signs: short labels, no NaN or infinity drawn. */
    const double h[] = {1e300, -1e300, 1e-300, INFINITY};
    sw_chart_series hs = {"huge", pts_t, h, 4};
    c.series = &hs;
    c.to_ms = DEC_7_2026 + 4 * HOUR_MS;
    svg = draw(&c, &b);
    assert_null(strstr(svg, "nan"));
    assert_non_null(strstr(svg, "e+300"));
    assert_non_null(strstr(svg, "+inf (above the chart's range)"));
    sw_buf_fini(&b);
    c.to_ms = DEC_7_2026 + HOUR_MS;
    /* Only gaps and a reversed span: still a frame, no NaN anywhere. */
    const double g[] = {NAN, NAN, NAN, NAN};
    sw_chart_series gs = {"gaps", pts_t, g, 4};
    c.series = &gs;
    c.to_ms = c.from_ms - 1;
    svg = draw(&c, &b);
    assert_non_null(strstr(svg, ">No data</text>"));
    assert_null(strstr(svg, "nan"));
    assert_null(strstr(svg, "inf"));
    sw_buf_fini(&b);
}

static void
test_heatmap(void **state)
{
    (void)state;
    sw_chart_cell cells[] = {{0, 0, "l0", "day 1 hour 0: 0 bad minutes"}, {1, 23, "l3", "<x>"}};
    const char *rows[] = {"Dec 01", NULL};
    sw_chart_key keys[] = {{"maint", "maintenance"}};
    sw_chart_heatmap h = {.title = "bad minutes",
                          .n_rows = 2,
                          .n_cols = 24,
                          .row_labels = rows,
                          .cells = cells,
                          .n_cells = 2,
                          .keys = keys,
                          .n_keys = 1};
    sw_buf b;
    sw_err err = {0};
    sw_buf_init(&b, 1 << 20);
    assert_int_equal(sw_chart_draw_heatmap(&b, &h, &err), SW_OK);
    const char *svg = sw_buf_cstr(&b, &err);
    /* Column 23 of 24 over 646 units: x = 60 + 23 * 26.9167 = 679.1; row 1 at 24 + 10. */
    assert_non_null(strstr(svg, "<rect class=\"sw-cell l3\" x=\"679.1\" y=\"34.0\" "
                                "width=\"26.9\" height=\"10.0\"><title>&lt;x&gt;</title>"));
    assert_non_null(strstr(svg, ">Dec 01</text>"));
    assert_non_null(strstr(svg, ">maintenance</text>"));
    sw_buf_reset(&b);
    /* A cell outside the grid is refused and nothing is drawn. */
    cells[1].row = 2;
    assert_int_equal(sw_chart_draw_heatmap(&b, &h, &err), SW_E_INVAL);
    assert_int_equal(b.len, 0);
    assert_non_null(strstr(err.msg, "row 2"));
    sw_buf_fini(&b);
}

static void
test_css(void **state)
{
    (void)state;
    const char *css = sw_chart_css();
    assert_non_null(strstr(css, "prefers-color-scheme:dark"));
    /* Series differ by dash as well as colour. */
    assert_non_null(strstr(css, ".sw-s1 .sw-line{stroke-dasharray"));
    assert_non_null(strstr(css, ".sw-clip{"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nice_ticks),
        cmocka_unit_test(test_time_ticks_hours),
        cmocka_unit_test(test_time_ticks_weeks_months),
        cmocka_unit_test(test_point_coordinates),
        cmocka_unit_test(test_edge_markers),
        cmocka_unit_test(test_bars_from_a_floor),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_empty_one_point_constant),
        cmocka_unit_test(test_heatmap),
        cmocka_unit_test(test_css),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
