/*
 * The one SVG chart module: line charts, bar charts and heatmaps drawn as inline SVG into a
 * buffer, shared by the monthly report and the web UI so both look alike. Every chart has a
 * value axis and a time axis with ticks chosen from the data (values on 1-2-5 steps, times on
 * minute, hour, day, week, month or year boundaries in UTC or a fixed offset), the unit on the
 * value axis, a legend, and a <title> on every point, bar and cell for hover values. A value
 * outside the drawn range is never clipped silently: it is drawn at the edge with a marker
 * whose title gives the real value. Every text is escaped. The look is class names and CSS
 * custom properties (sw_chart_css); series differ by dash pattern and marker shape as well as
 * colour.
 *
 * Geometry (in SVG user units, the viewBox being width x height): the plot area runs from
 * x = SW_CHART_PAD_LEFT to width - SW_CHART_PAD_RIGHT and from y = SW_CHART_PAD_TOP to
 * height - SW_CHART_PAD_BOTTOM; time t maps linearly from [from_ms, to_ms] onto the first and
 * value v from [lo, hi] onto the second (hi at the top). Coordinates are written with one
 * decimal.
 */
#ifndef SLAWATCH_CHART_H
#define SLAWATCH_CHART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slawatch/buf.h"
#include "slawatch/err.h"

#define SW_CHART_PAD_LEFT 60.0
#define SW_CHART_PAD_RIGHT 14.0
#define SW_CHART_PAD_TOP 26.0 /* the legend's row */
#define SW_CHART_PAD_BOTTOM 22.0
#define SW_CHART_WIDTH 720.0  /* used when a chart's width is 0 */
#define SW_CHART_HEIGHT 200.0 /* used when a chart's height is 0 */
#define SW_CHART_MAX_TICKS 16
#define SW_CHART_SERIES_STYLES 6 /* series i is styled as sw-s(i mod 6) */

/* A value axis: ticks lo, lo + step, ..., hi (n of them). */
typedef struct sw_chart_ticks {
    double lo, hi, step;
    size_t n;
} sw_chart_ticks;

/*
 * Nice ticks for [lo, hi]: the smallest step of the form {1, 2, 5} x 10^k that covers the range
 * with at most max_intervals steps between multiples of it, the range widened out to those
 * multiples. An empty range (lo == hi) is widened first: to [0, 1] around 0, else by a tenth of
 * |lo| each side. Non-finite or reversed input gives [0, 1].
 */
void sw_chart_nice_ticks(double lo, double hi, size_t max_intervals, sw_chart_ticks *out);

/* How far apart time ticks are; labels follow it. */
typedef enum sw_chart_time_step {
    SW_CHART_STEP_MINUTES, /* labels "HH:MM" ("Mon DD" at midnight) */
    SW_CHART_STEP_HOURS,   /* idem */
    SW_CHART_STEP_DAYS,    /* "Mon DD" */
    SW_CHART_STEP_WEEKS,   /* "Mon DD", on Mondays */
    SW_CHART_STEP_MONTHS,  /* "Mon" ("Mon YYYY" in January and at the first tick) */
    SW_CHART_STEP_YEARS,   /* "YYYY" */
} sw_chart_time_step;

typedef struct sw_chart_time_ticks {
    int64_t at_ms[SW_CHART_MAX_TICKS];
    size_t n;
    sw_chart_time_step step;
    int64_t step_ms; /* the step's length; a month counts 30 days, a year 365 */
} sw_chart_time_ticks;

/*
 * Time ticks inside [from_ms, to_ms] on local boundaries (local = UTC + offset_s): the finest of
 * 1, 2, 5, 10, 15, 30 minutes, 1, 2, 3, 6, 12 hours, 1, 2 days, 1 week (Mondays), 1, 3 months
 * (calendar months; 3 months from January, April, July, October), 1 year that puts at most
 * max_ticks (<= SW_CHART_MAX_TICKS) ticks there.
 */
void sw_chart_time_ticks_for(int64_t from_ms, int64_t to_ms, int offset_s, size_t max_ticks,
                             sw_chart_time_ticks *out);

/* A tick's label in local time (see sw_chart_time_step), into out[cap]. */
void sw_chart_time_label(const sw_chart_time_ticks *t, size_t i, int offset_s, char *out,
                         size_t cap);

/* Append s with &, <, >, " and ' escaped for HTML text and attribute values. */
sw_status sw_chart_escape(sw_buf *b, const char *s, sw_err *err);

/* One line of a line chart: n points (t_ms[i], values[i]); a NAN value is a gap. */
typedef struct sw_chart_series {
    const char *name; /* legend and hover text */
    const int64_t *t_ms;
    const double *values;
    size_t n;
} sw_chart_series;

/* A horizontal line at a value (an objective's threshold, the zero line), labelled. */
typedef struct sw_chart_threshold {
    const char *label;
    double value;
} sw_chart_threshold;

/* A shaded stretch of time (a maintenance window), labelled on hover. */
typedef struct sw_chart_range {
    const char *label;
    int64_t from_ms, to_ms;
} sw_chart_range;

/* A vertical marker (a deployment, a gate decision): its kind is its CSS class. */
typedef enum sw_chart_mark_kind {
    SW_CHART_MARK_DEPLOY,    /* sw-mark deploy */
    SW_CHART_MARK_GATE_PASS, /* sw-mark gate-pass */
    SW_CHART_MARK_GATE_FAIL, /* sw-mark gate-fail */
    SW_CHART_MARK_EVENT,     /* sw-mark event: an alert or trigger */
} sw_chart_mark_kind;

typedef struct sw_chart_mark {
    const char *label;
    int64_t at_ms;
    sw_chart_mark_kind kind;
} sw_chart_mark;

/* A bar over [from_ms, to_ms); bad bars (missed a target) get the class "bad" and say so. */
typedef struct sw_chart_bar {
    int64_t from_ms, to_ms;
    double value; /* NAN: no bar */
    bool bad;
} sw_chart_bar;

/*
 * A chart over time. y_min and y_max fix the value range (NAN: from the data, thresholds and,
 * with include_zero, 0, on nice ticks); a value outside a fixed range is drawn at the edge
 * with a marker. Ticks: given ones (tick_ms with tick_labels, e.g. a report's local day starts)
 * or chosen from [from_ms, to_ms] in offset_s.
 */
typedef struct sw_chart {
    const char *title;     /* the SVG's accessible name */
    const char *css_class; /* added to "sw-chart" */
    const char *unit;      /* after every value: "%", "ms", "req/s"; NULL: none */
    double width, height;  /* 0: SW_CHART_WIDTH, SW_CHART_HEIGHT */
    int64_t from_ms, to_ms;
    int offset_s;
    const int64_t *tick_ms;
    const char *const *tick_labels;
    size_t n_ticks;
    double y_min, y_max;
    bool include_zero;
    int decimals; /* of hover values; < 0: two more than the value ticks' */
    const sw_chart_series *series;
    size_t n_series;
    const sw_chart_bar *bars;
    size_t n_bars;
    const char *bar_name; /* the bars' legend text */
    const sw_chart_threshold *thresholds;
    size_t n_thresholds;
    const sw_chart_range *ranges;
    size_t n_ranges;
    const sw_chart_mark *marks;
    size_t n_marks;
} sw_chart;

/* A chart with every option at its default: zero everything, y_min = y_max = NAN, decimals -1. */
sw_chart sw_chart_defaults(void);

/*
 * Draw c: its bars (if any) first, then the series, thresholds, ranges and marks, as one <svg>.
 * With nothing to draw the axes frame says "No data". Errors are the buffer's.
 */
sw_status sw_chart_draw(sw_buf *b, const sw_chart *c, sw_err *err);

/* One heatmap cell: its class picks its look (see sw_chart_css), its title its hover text. */
typedef struct sw_chart_cell {
    size_t row, col;
    const char *cls;   /* one of the heatmap classes: l0 l1 l2 l3 nodata maint unknown */
    const char *title; /* hover text */
} sw_chart_cell;

/* A legend entry of a heatmap: what a class means. */
typedef struct sw_chart_key {
    const char *cls;
    const char *label;
} sw_chart_key;

typedef struct sw_chart_heatmap {
    const char *title;
    const char *css_class;
    double width; /* 0: SW_CHART_WIDTH; the height follows the rows */
    size_t n_rows, n_cols;
    const char *const *row_labels; /* n_rows; NULL entries are not drawn */
    const char *const *col_labels; /* n_cols; idem */
    const sw_chart_cell *cells;
    size_t n_cells;
    const sw_chart_key *keys;
    size_t n_keys;
} sw_chart_heatmap;

/* Draw a heatmap; a cell outside n_rows x n_cols is refused (SW_E_INVAL, nothing drawn). */
sw_status sw_chart_draw_heatmap(sw_buf *b, const sw_chart_heatmap *h, sw_err *err);

/* The stylesheet fragment the charts need (light and dark), for a page's <style>. */
const char *sw_chart_css(void);

#endif
