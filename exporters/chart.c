/*
 * Line and bar charts over time (chart.h): the value range and its ticks from the data, then
 * the frame, shaded ranges, bars, thresholds, series, marks and legend, each text escaped and
 * each value that lies outside the drawn range pinned to the edge with a marker.
 */
#include "chart_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define VALUE_INTERVALS 4 /* value ticks: at most this many steps */
#define TIME_TICKS 8
#define CHAR_W 6.2   /* rough width of a legend character at the legend's font size */
#define LABEL_MAX 40 /* bytes of a legend or mark label shown; the title has them all */

typedef struct geom {
    double w, h, x0, x1, y0, y1; /* the plot area: x0..x1 left to right, y0 top, y1 bottom */
    int64_t from, to;
    double lo, hi, step;
    int decimals; /* of hover values */
    const sw_chart *c;
} geom;

sw_chart
sw_chart_defaults(void)
{
    sw_chart c;
    memset(&c, 0, sizeof c);
    c.y_min = NAN;
    c.y_max = NAN;
    c.decimals = -1;
    return c;
}

static double
x_of(const geom *g, int64_t t)
{
    return g->x0 + (g->x1 - g->x0) * (double)(t - g->from) / (double)(g->to - g->from);
}

/* y of v, v pinned into [lo, hi] (the caller draws the edge marker). */
static double
y_of(const geom *g, double v)
{
    if (v > g->hi)
        v = g->hi;
    if (v < g->lo)
        v = g->lo;
    return g->y0 + (g->y1 - g->y0) * (g->hi - v) / (g->hi - g->lo);
}

static bool
in_time(const geom *g, int64_t t)
{
    return t >= g->from && t <= g->to;
}

/* ------------------------------------------------------------------ the value range */

static void
widen(double v, double *lo, double *hi, bool *any)
{
    if (!isfinite(v))
        return;
    *lo = *any ? fmin(*lo, v) : v;
    *hi = *any ? fmax(*hi, v) : v;
    *any = true;
}

static bool
data_range(const geom *g, double *lo, double *hi)
{
    const sw_chart *c = g->c;
    bool any = false;
    for (size_t s = 0; s < c->n_series; s++)
        for (size_t i = 0; i < c->series[s].n; i++)
            if (in_time(g, c->series[s].t_ms[i]))
                widen(c->series[s].values[i], lo, hi, &any);
    for (size_t i = 0; i < c->n_bars; i++)
        widen(c->bars[i].value, lo, hi, &any);
    return any;
}

static void
value_range(geom *g, bool *ret_any)
{
    const sw_chart *c = g->c;
    double lo = 0.0, hi = 1.0;
    bool any = data_range(g, &lo, &hi);
    *ret_any = any;
    for (size_t i = 0; i < c->n_thresholds; i++)
        widen(c->thresholds[i].value, &lo, &hi, &any);
    if (c->include_zero)
        widen(0.0, &lo, &hi, &any);
    sw_chart_ticks t;
    sw_chart_nice_ticks(lo, hi, VALUE_INTERVALS, &t);
    bool fixed_lo = isfinite(c->y_min), fixed_hi = isfinite(c->y_max);
    if (fixed_lo && fixed_hi && c->y_min >= c->y_max)
        fixed_lo = fixed_hi = false; /* an empty fixed range says nothing: follow the data */
    g->lo = fixed_lo ? c->y_min : t.lo;
    g->hi = fixed_hi ? c->y_max : t.hi;
    if (g->lo >= g->hi) {
        /* One side fixed beyond the data's other side: keep the fixed side, nice the other. */
        sw_chart_nice_ticks(fixed_lo ? g->lo : g->hi, fixed_lo ? g->lo : g->hi, VALUE_INTERVALS,
                            &t);
        g->lo = fixed_lo ? g->lo : t.lo;
        g->hi = fixed_hi ? g->hi : t.hi;
    }
    sw_chart_nice_ticks(g->lo, g->hi, VALUE_INTERVALS, &t);
    g->step = t.step;
    /* Bars standing on a non-zero floor: a bar at the floor would have no height at all. */
    if (c->n_bars && !fixed_lo && g->lo > 0.0 && any && lo <= g->lo)
        g->lo -= g->step;
    g->decimals = c->decimals >= 0 ? c->decimals : sw_chart_step_decimals(g->step) + 2;
}

/* ------------------------------------------------------------------ frame and axes */

static void
value_axis(sw_buf *b, const geom *g, sw_err *err)
{
    char label[64];
    int dec = sw_chart_step_decimals(g->step);
    sw_buf_printf(b, err, "<g class=\"sw-axis sw-y\">");
    for (double k = ceil(g->lo / g->step - 1e-9); k * g->step <= g->hi + 1e-9 * g->step; k++) {
        double v = k * g->step, y = y_of(g, v);
        sw_chart_format_value(v, dec, NULL, label, sizeof label);
        sw_buf_printf(b, err,
                      "<line class=\"sw-grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>"
                      "<text class=\"sw-tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">",
                      g->x0, g->x1, y, y, g->x0 - 4, y + 4);
        sw_chart_escape(b, label, err);
        sw_buf_printf(b, err, "</text>");
    }
    if (g->c->unit && g->c->unit[0]) {
        sw_buf_printf(b, err, "<text class=\"sw-unit\" x=\"4\" y=\"14\">");
        sw_chart_escape(b, g->c->unit, err);
        sw_buf_printf(b, err, "</text>");
    }
    sw_buf_printf(b, err, "</g>");
}

static void
time_tick(sw_buf *b, const geom *g, int64_t t, const char *label, sw_err *err)
{
    double x = x_of(g, t);
    sw_buf_printf(b, err,
                  "<line class=\"sw-grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>"
                  "<text class=\"sw-tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
                  x, x, g->y0, g->y1 + 4, x, g->h - 6);
    sw_chart_escape(b, label, err);
    sw_buf_printf(b, err, "</text>");
}

static void
time_axis(sw_buf *b, const geom *g, sw_err *err)
{
    const sw_chart *c = g->c;
    sw_buf_printf(b, err, "<g class=\"sw-axis sw-x\">");
    if (c->n_ticks && c->tick_ms && c->tick_labels) {
        for (size_t i = 0; i < c->n_ticks; i++)
            if (in_time(g, c->tick_ms[i]))
                time_tick(b, g, c->tick_ms[i], c->tick_labels[i] ? c->tick_labels[i] : "", err);
    } else {
        sw_chart_time_ticks t;
        char label[32];
        sw_chart_time_ticks_for(g->from, g->to, c->offset_s, TIME_TICKS, &t);
        for (size_t i = 0; i < t.n; i++) {
            sw_chart_time_label(&t, i, c->offset_s, label, sizeof label);
            time_tick(b, g, t.at_ms[i], label, err);
        }
    }
    sw_buf_printf(b, err,
                  "<line class=\"sw-frame\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>"
                  "<line class=\"sw-frame\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/></g>",
                  g->x0, g->x1, g->y1, g->y1, g->x0, g->x0, g->y0, g->y1);
}

/* ------------------------------------------------------------------ what is drawn */

static void
ranges(sw_buf *b, const geom *g, sw_err *err)
{
    char t0[32], t1[32];
    for (size_t i = 0; i < g->c->n_ranges; i++) {
        const sw_chart_range *r = &g->c->ranges[i];
        int64_t a = r->from_ms > g->from ? r->from_ms : g->from;
        int64_t z = r->to_ms < g->to ? r->to_ms : g->to;
        if (a >= z)
            continue;
        sw_chart_format_time(r->from_ms, g->c->offset_s, t0, sizeof t0);
        sw_chart_format_time(r->to_ms, g->c->offset_s, t1, sizeof t1);
        sw_buf_printf(b, err,
                      "<rect class=\"sw-range\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                      "height=\"%.1f\"><title>",
                      x_of(g, a), g->y0, x_of(g, z) - x_of(g, a), g->y1 - g->y0);
        sw_chart_escape(b, r->label ? r->label : "", err);
        sw_buf_printf(b, err, ": %s to %s</title></rect>", t0, t1);
    }
}

/* A marker on the edge for a value outside [lo, hi]: a triangle pointing off the chart. */
static void
edge_marker(sw_buf *b, const geom *g, double x, double v, const char *cls, sw_err *err)
{
    bool above = v > g->hi;
    double y = above ? g->y0 : g->y1, d = above ? 7.0 : -7.0;
    sw_buf_printf(b, err,
                  "<path class=\"sw-clip %s\" d=\"M%.1f %.1fL%.1f %.1fL%.1f %.1fZ\"><title>", cls,
                  x - 5, y + d, x, y, x + 5, y + d);
}

static void
hover_text(sw_buf *b, const geom *g, const char *name, int64_t t, double v, bool clipped,
           sw_err *err)
{
    char when[32], val[64];
    sw_chart_format_time(t, g->c->offset_s, when, sizeof when);
    sw_chart_format_value(v, g->decimals, g->c->unit, val, sizeof val);
    sw_chart_escape(b, name ? name : "", err);
    sw_buf_printf(b, err, " at %s: %s", when, val);
    if (clipped)
        sw_buf_printf(b, err, " (%s the chart's range)", v > g->hi ? "above" : "below");
}

static bool
outside(const geom *g, double v)
{
    return v > g->hi || v < g->lo;
}

static void
bars(sw_buf *b, const geom *g, sw_err *err)
{
    double base = g->lo <= 0.0 && g->hi >= 0.0 ? 0.0 : g->lo > 0.0 ? g->lo : g->hi;
    double yb = y_of(g, base);
    for (size_t i = 0; i < g->c->n_bars; i++) {
        const sw_chart_bar *r = &g->c->bars[i];
        if (isnan(r->value) || r->to_ms <= g->from || r->from_ms >= g->to)
            continue;
        double xa = x_of(g, r->from_ms > g->from ? r->from_ms : g->from) + 1.0;
        double xz = x_of(g, r->to_ms < g->to ? r->to_ms : g->to) - 1.0;
        double w = xz - xa > 1.0 ? xz - xa : 1.0, yv = y_of(g, r->value);
        double top = fmin(yv, yb), hgt = fabs(yb - yv);
        if (hgt < 1.0 && r->value != base) {
            hgt = 1.0; /* off the floor by less than a unit: still visible */
            top = yv < yb ? yb - 1.0 : yb;
        }
        const char *cls = r->bad ? " bad" : "";
        bool clipped = outside(g, r->value);
        sw_buf_printf(b, err,
                      "<rect class=\"sw-bar%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                      "height=\"%.1f\"><title>",
                      cls, xa, top, w, hgt);
        hover_text(b, g, g->c->bar_name, r->from_ms, r->value, clipped, err);
        sw_buf_printf(b, err, "%s</title></rect>", r->bad ? " (missed)" : "");
        if (clipped) {
            edge_marker(b, g, (xa + xa + w) / 2.0, r->value, "sw-bar", err);
            hover_text(b, g, g->c->bar_name, r->from_ms, r->value, true, err);
            sw_buf_printf(b, err, "</title></path>");
        }
    }
}

static void
thresholds(sw_buf *b, const geom *g, sw_err *err)
{
    char val[64];
    for (size_t i = 0; i < g->c->n_thresholds; i++) {
        const sw_chart_threshold *t = &g->c->thresholds[i];
        if (!isfinite(t->value))
            continue;
        double y = y_of(g, t->value);
        sw_chart_format_value(t->value, g->decimals, g->c->unit, val, sizeof val);
        sw_buf_printf(b, err,
                      "<g class=\"sw-threshold%s\"><line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" "
                      "y2=\"%.1f\"/><text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">",
                      outside(g, t->value) ? " sw-off" : "", g->x0, g->x1, y, y, g->x1 - 2, y - 3);
        sw_chart_escape(b, t->label ? t->label : "", err);
        sw_buf_printf(b, err, " %s%s</text></g>", val,
                      outside(g, t->value) ? " (off the chart)" : "");
    }
}

/* The series' marker shape: circle, square, triangle, diamond, by style. */
static void
point_shape(sw_buf *b, size_t style, double x, double y, sw_err *err)
{
    switch (style % 4) {
    case 0:
        sw_buf_printf(b, err, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.6\"", x, y);
        break;
    case 1:
        sw_buf_printf(b, err, "<rect x=\"%.1f\" y=\"%.1f\" width=\"5\" height=\"5\"", x - 2.5,
                      y - 2.5);
        break;
    case 2:
        sw_buf_printf(b, err, "<path d=\"M%.1f %.1fL%.1f %.1fL%.1f %.1fZ\"", x - 3, y + 2.5, x,
                      y - 3, x + 3, y + 2.5);
        break;
    default:
        sw_buf_printf(b, err, "<path d=\"M%.1f %.1fL%.1f %.1fL%.1f %.1fL%.1f %.1fZ\"", x - 3, y, x,
                      y - 3, x + 3, y, x, y + 3);
    }
}

static const char *const shape_close[] = {"</circle>", "</rect>", "</path>", "</path>"};

static void
series_line(sw_buf *b, const geom *g, const sw_chart_series *s, size_t style, sw_err *err)
{
    bool pen_down = false;
    sw_buf_printf(b, err, "<g class=\"sw-series sw-s%zu\"><path class=\"sw-line\" d=\"",
                  style % SW_CHART_SERIES_STYLES);
    for (size_t i = 0; i < s->n; i++) {
        if (!in_time(g, s->t_ms[i]))
            continue;
        if (isnan(s->values[i])) {
            pen_down = false; /* a gap breaks the line */
            continue;
        }
        sw_buf_printf(b, err, "%s%.1f %.1f", pen_down ? "L" : "M", x_of(g, s->t_ms[i]),
                      y_of(g, s->values[i]));
        pen_down = true;
    }
    sw_buf_printf(b, err, "\"/>");
    for (size_t i = 0; i < s->n; i++) {
        double v = s->values[i];
        if (!in_time(g, s->t_ms[i]) || isnan(v))
            continue;
        double x = x_of(g, s->t_ms[i]);
        if (outside(g, v)) {
            edge_marker(b, g, x, v, "sw-pt", err);
            hover_text(b, g, s->name, s->t_ms[i], v, true, err);
            sw_buf_printf(b, err, "</title></path>");
            continue;
        }
        point_shape(b, style, x, y_of(g, v), err);
        sw_buf_printf(b, err, " class=\"sw-pt\"><title>");
        hover_text(b, g, s->name, s->t_ms[i], v, false, err);
        sw_buf_printf(b, err, "</title>%s", shape_close[style % 4]);
    }
    sw_buf_printf(b, err, "</g>");
}

/*
 * Escaped text cut to at most max bytes at a character boundary, "..." marking the cut (a
 * label on the chart; the full text stays in a title). Returns the bytes shown.
 */
static size_t
short_text(sw_buf *b, const char *s, size_t max, sw_err *err)
{
    size_t n = strlen(s);
    if (n <= max) {
        sw_chart_escape(b, s, err);
        return n;
    }
    while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
        max--; /* not inside a UTF-8 sequence */
    char cut[LABEL_MAX + 1];
    memcpy(cut, s, max);
    cut[max] = '\0';
    sw_chart_escape(b, cut, err);
    sw_buf_printf(b, err, "...");
    return max + 3;
}

static const char *const mark_class[] = {"deploy", "gate-pass", "gate-fail", "event"};

static void
marks(sw_buf *b, const geom *g, sw_err *err)
{
    char when[32];
    size_t drawn = 0;
    for (size_t i = 0; i < g->c->n_marks; i++) {
        const sw_chart_mark *m = &g->c->marks[i];
        if (!in_time(g, m->at_ms))
            continue;
        /* Labels of neighbouring marks on three rows, so close marks stay readable. */
        double label_y = g->y0 + 10 + 11.0 * (double)(drawn++ % 3);
        double x = x_of(g, m->at_ms);
        sw_chart_format_time(m->at_ms, g->c->offset_s, when, sizeof when);
        sw_buf_printf(b, err,
                      "<g class=\"sw-mark %s\"><line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" "
                      "y2=\"%.1f\"/><text x=\"%.1f\" y=\"%.1f\">",
                      mark_class[m->kind % 4], x, x, g->y0, g->y1, x + 3, label_y);
        short_text(b, m->label ? m->label : "", LABEL_MAX, err);
        sw_buf_printf(b, err, "</text><title>%s: ", when);
        sw_chart_escape(b, m->label ? m->label : "", err);
        sw_buf_printf(b, err, "</title></g>");
    }
}

/* One legend entry at *x: its swatch (drawn by the caller's format) and its text. */
static void
legend_text(sw_buf *b, double *x, const char *text, sw_err *err)
{
    sw_buf_printf(b, err, "<text x=\"%.1f\" y=\"14\">", *x + 22);
    size_t shown = short_text(b, text ? text : "", LABEL_MAX, err);
    sw_buf_printf(b, err, "<title>");
    sw_chart_escape(b, text ? text : "", err);
    sw_buf_printf(b, err, "</title></text>");
    *x += 22 + CHAR_W * (double)shown + 12;
}

static void
legend(sw_buf *b, const geom *g, sw_err *err)
{
    const sw_chart *c = g->c;
    double x = g->x0;
    sw_buf_printf(b, err, "<g class=\"sw-legend\">");
    if (c->n_bars) {
        sw_buf_printf(b, err,
                      "<rect class=\"sw-bar\" x=\"%.1f\" y=\"6\" width=\"16\" "
                      "height=\"10\"/>",
                      x);
        legend_text(b, &x, c->bar_name, err);
    }
    for (size_t s = 0; s < c->n_series; s++) {
        sw_buf_printf(
            b, err, "<g class=\"sw-series sw-s%zu\"><path class=\"sw-line\" d=\"M%.1f 10H%.1f\"/>",
            s % SW_CHART_SERIES_STYLES, x, x + 16);
        point_shape(b, s, x + 8, 10, err);
        sw_buf_printf(b, err, " class=\"sw-pt\">%s</g>", shape_close[s % 4]);
        legend_text(b, &x, c->series[s].name, err);
    }
    for (size_t i = 0; i < c->n_thresholds; i++) {
        sw_buf_printf(b, err,
                      "<g class=\"sw-threshold\"><line x1=\"%.1f\" x2=\"%.1f\" y1=\"10\" "
                      "y2=\"10\"/></g>",
                      x, x + 16);
        legend_text(b, &x, c->thresholds[i].label, err);
    }
    sw_buf_printf(b, err, "</g>");
}

sw_status
sw_chart_draw(sw_buf *b, const sw_chart *c, sw_err *err)
{
    geom g = {.c = c, .from = c->from_ms, .to = c->to_ms};
    g.w = c->width > 0 ? c->width : SW_CHART_WIDTH;
    g.h = c->height > 0 ? c->height : SW_CHART_HEIGHT;
    if (g.to <= g.from)
        g.to = g.from + 1; /* an empty span still draws its frame */
    g.x0 = SW_CHART_PAD_LEFT;
    g.x1 = g.w - SW_CHART_PAD_RIGHT;
    g.y0 = SW_CHART_PAD_TOP;
    g.y1 = g.h - SW_CHART_PAD_BOTTOM;
    bool any;
    value_range(&g, &any);
    sw_buf_printf(b, err,
                  "<svg class=\"sw-chart %s\" viewBox=\"0 0 %.0f %.0f\" width=\"100%%\" "
                  "role=\"img\" aria-label=\"",
                  c->css_class ? c->css_class : "", g.w, g.h);
    sw_chart_escape(b, c->title ? c->title : "", err);
    sw_buf_printf(b, err, "\"><title>");
    sw_chart_escape(b, c->title ? c->title : "", err);
    sw_buf_printf(b, err, "</title>");
    ranges(b, &g, err);
    value_axis(b, &g, err);
    time_axis(b, &g, err);
    bars(b, &g, err);
    thresholds(b, &g, err);
    for (size_t s = 0; s < c->n_series; s++)
        series_line(b, &g, &c->series[s], s, err);
    marks(b, &g, err);
    legend(b, &g, err);
    if (!any)
        sw_buf_printf(b, err,
                      "<text class=\"sw-nodata\" x=\"%.1f\" y=\"%.1f\" "
                      "text-anchor=\"middle\">No data</text>",
                      (g.x0 + g.x1) / 2.0, (g.y0 + g.y1) / 2.0);
    sw_buf_printf(b, err, "</svg>\n");
    return err->code;
}
