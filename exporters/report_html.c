/*
 * The HTML report: one self-contained page (inline CSS and SVG, nothing fetched) that a
 * non-engineer reads in a minute: the verdict count and summary table first, then per service
 * the facts in words, four charts (daily availability, daily P95/P99, budget burn-down,
 * month-at-a-glance heatmap of bad minutes), worst periods, alerts and maintenance. Prints to
 * PDF: each service starts a page, charts keep their size.
 */
#include "report_int.h"
#include "report_html_int.h"
#include "report_marks.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "slawatch/chart.h"
#include "slawatch/rules.h"

static const char *const month_names[] = {"January",   "February", "March",    "April",
                                          "May",       "June",     "July",     "August",
                                          "September", "October",  "November", "December"};

static const char css[] =
    "body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;"
    "color:#222;max-width:820px;margin:2em auto;padding:0 1em}"
    "h1{font-size:1.6em;margin:0}h2{margin-top:2em;border-bottom:1px solid #ddd}"
    ".sub{color:#666}.tally{font-size:1.4em;margin:1em 0}"
    "table{border-collapse:collapse;width:100%;margin:.5em 0}"
    "th,td{text-align:left;padding:.3em .5em;border-bottom:1px solid #eee}"
    "th{color:#555;font-weight:600}.met{color:#1b7a3a}.missed{color:#b3261e;font-weight:600}"
    ".none{color:#8a6d00}.note{background:#fff7db;padding:.5em .8em;border-radius:4px}"
    "@media (prefers-color-scheme:dark){body{background:#1b1b1b;color:#ddd}"
    "h2,th,td{border-color:#444}th,.sub{color:#aaa}.met{color:#7fd19f}.missed{color:#ff8a80}"
    ".none{color:#e0c060}.note{background:#3a3320}}";

static void
esc(sw_buf *b, const char *s, sw_err *err)
{
    for (; *s; s++) {
        switch (*s) {
        case '<':
            sw_buf_printf(b, err, "&lt;");
            break;
        case '>':
            sw_buf_printf(b, err, "&gt;");
            break;
        case '&':
            sw_buf_printf(b, err, "&amp;");
            break;
        case '"':
            sw_buf_printf(b, err, "&quot;");
            break;
        default:
            sw_buf_printf(b, err, "%c", *s);
        }
    }
}

static const char *
verdict_class(const sw_objective_result *o)
{
    return !o->has_verdict ? "none" : o->met ? "met" : "missed";
}

static const char *
verdict_text(const sw_objective_result *o)
{
    if (!o->has_verdict)
        return "no verdict (too little data)";
    if (o->so_far)
        return o->met ? "met so far" : "missed so far";
    return o->met ? "met" : "missed";
}

static void
summary_row(sw_buf *b, const rp_service *s, size_t k, sw_err *err)
{
    const sw_objective_result *o = &s->objectives[k];
    char t[48], m[48], g[48], p[48] = "—";
    sw_report_format_target(o, t, sizeof t);
    sw_report_format_measured(o, m, sizeof m);
    sw_report_format_margin(o, g, sizeof g);
    if (s->has_prev && s->prev[k].has_verdict)
        sw_report_format_measured(&s->prev[k], p, sizeof p);
    sw_buf_printf(b, err, "<tr><td>");
    esc(b, s->title, err);
    sw_buf_printf(b, err, "</td><td>");
    esc(b, o->objective->name, err);
    /* Targets read "<= 500ms": every figure goes through the escaper. */
    const char *cells[] = {t, m, g};
    for (size_t i = 0; i < sizeof cells / sizeof cells[0]; i++) {
        sw_buf_printf(b, err, "</td><td>");
        esc(b, cells[i], err);
    }
    sw_buf_printf(b, err, "</td><td class=\"%s\">%s</td><td>", verdict_class(o), verdict_text(o));
    esc(b, p, err);
    sw_buf_printf(b, err, "</td></tr>\n");
}

static void
summary(sw_buf *b, const sw_report *r, sw_err *err)
{
    sw_buf_printf(b, err, "<h1>SLA report: %s %04d</h1>\n<p class=\"sub\">Time zone ",
                  month_names[r->month - 1], r->year);
    esc(b, sw_report_tz_name(r->tz), err);
    sw_buf_printf(b, err, ". %s</p>\n",
                  r->partial ? "The month is not over: figures so far."
                             : "The whole calendar month.");
    sw_report_html_headline(b, r, err);
    sw_buf_printf(b, err,
                  "<table id=\"summary\"><tr><th>Service</th><th>Commitment</th>"
                  "<th>Target</th><th>Actual</th><th>Margin</th><th>Verdict</th>"
                  "<th>Previous month</th></tr>\n");
    for (size_t i = 0; i < r->n_services; i++)
        for (size_t k = 0; k < r->services[i].own->n_objectives; k++)
            summary_row(b, &r->services[i], k, err);
    sw_buf_printf(b, err, "</table>\n");
}

/* ------------------------------------------------------------------ charts */

/* The charts' time axis: the local days' starts, a tick a week ("Oct 1", "Oct 8", ...). */
typedef struct day_ticks {
    int64_t at_ms[RP_MAX_DAYS];
    char text[RP_MAX_DAYS][12];
    const char *labels[RP_MAX_DAYS];
    size_t n;
} day_ticks;

static void
make_day_ticks(const sw_report *r, const rp_service *s, day_ticks *t)
{
    t->n = 0;
    for (int d = 0; d < r->n_days; d += 7) {
        t->at_ms[t->n] = s->days[d].start_ms;
        snprintf(t->text[t->n], sizeof t->text[t->n], "%.3s %d", month_names[r->month - 1],
                 s->days[d].mday);
        t->labels[t->n] = t->text[t->n];
        t->n++;
    }
}

/* A chart and its heading as one figure, which printing keeps on one page. */
static void
chart_heading(sw_buf *b, const char *heading, sw_err *err)
{
    sw_buf_printf(b, err, "<figure class=\"chart\"><h3>%s</h3>\n", heading);
}

/* A chart over the report's month with its day ticks. */
static sw_chart
month_chart(const sw_report *r, const rp_service *s, const day_ticks *t, const char *title,
            const char *cls, const char *unit)
{
    sw_chart c = sw_chart_defaults();
    const rp_marks *m = s->marks;
    if (m != NULL) {
        c.marks = m->m;
        c.n_marks = m->n;
        c.ranges = m->maint;
        c.n_ranges = m->n_maint;
    }
    c.offset_s =
        (int)(sw_report_tz_offset_ms(r->tz, r->start_ms + (r->end_ms - r->start_ms) / 2) / 1000);
    c.title = title;
    c.css_class = cls;
    c.unit = unit;
    c.from_ms = r->start_ms;
    c.to_ms = r->end_ms;
    c.tick_ms = t->at_ms;
    c.tick_labels = t->labels;
    c.n_ticks = t->n;
    return c;
}

static const sw_objective *
first_objective(const sw_rules *rules, sw_sli sli, double percentile)
{
    for (size_t i = 0; i < rules->n_objectives; i++) {
        const sw_objective *o = &rules->objectives[i];
        if (o->objective.sli == sli &&
            (sli != SW_SLI_LATENCY || o->objective.percentile == percentile))
            return o;
    }
    return NULL;
}

/*
 * Bounded value axes, so one extreme day does not flatten the rest; a value past the bound is
 * drawn at the chart's edge with a marker giving it (the chart module's rule). NAN: no bound,
 * the axis follows the data.
 */

/* Availability: down to 50 times the objective's allowance below it (99.9 %: 94.9 %). */
static double
availability_floor(const sw_objective *o, const sw_chart_bar *bars, int n)
{
    if (o == NULL)
        return NAN;
    double target = 100.0 * o->objective.value;
    double floor = target - 50.0 * (100.0 - target);
    bool beyond = false;
    for (int d = 0; d < n; d++)
        beyond = beyond || bars[d].value < floor;
    if (!beyond || floor <= 0.0)
        return NAN;
    sw_chart_ticks t;
    sw_chart_nice_ticks(floor, 100.0, 4, &t);
    return t.lo;
}

static int
by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Latency: up to three times the larger of the highest threshold and the median day's P99. */
static double
latency_ceiling(const sw_chart_threshold *th, size_t n_th, const double *p99, int n)
{
    double known[RP_MAX_DAYS], top = 0.0, base = 0.0;
    size_t k = 0;
    for (int d = 0; d < n; d++)
        if (isfinite(p99[d]))
            known[k++] = p99[d];
    if (k == 0)
        return NAN;
    qsort(known, k, sizeof known[0], by_value);
    base = known[k / 2];
    for (size_t i = 0; i < n_th; i++)
        base = fmax(base, th[i].value);
    top = known[k - 1];
    if (!(base > 0.0) || top <= 3.0 * base)
        return NAN;
    sw_chart_ticks t;
    sw_chart_nice_ticks(0.0, 3.0 * base, 4, &t);
    return t.hi;
}

/* Budget: down to -100 % (spent twice over); further than that is off the scale. */
static double
budget_floor(const double *left, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (left[i] < -100.0)
            return -100.0;
    return NAN;
}

/* Daily availability in %, bars from the axis floor chosen from the data (a 98 % day stands
 * out instead of sitting on a floor cut at the objective). */
static void
chart_availability(sw_buf *b, const sw_report *r, const rp_service *s, const day_ticks *t,
                   sw_err *err)
{
    const sw_objective *o = first_objective(s->own, SW_SLI_AVAILABILITY, 0);
    sw_chart_bar bars[RP_MAX_DAYS];
    for (int d = 0; d < r->n_days; d++) {
        const rp_counts *c = &s->days[d].c;
        double a = c->requests ? 1.0 - (double)c->errors / (double)c->requests : NAN;
        bars[d] = (sw_chart_bar){s->days[d].start_ms, s->days[d].end_ms, 100.0 * a,
                                 o != NULL && a < o->objective.value};
    }
    sw_chart_threshold th = {"objective", o ? 100.0 * o->objective.value : NAN};
    sw_chart c =
        month_chart(r, s, t, "Daily availability against the objective", "availability", "%");
    c.y_min = availability_floor(o, bars, r->n_days);
    c.bars = bars;
    c.n_bars = (size_t)r->n_days;
    c.bar_name = "availability";
    c.thresholds = &th;
    c.n_thresholds = o != NULL;
    chart_heading(b, "Daily availability against the objective", err);
    sw_chart_draw(b, &c, err);
    sw_buf_printf(b, err, "</figure>\n");
}

/* Daily P95 and P99 in ms at each local day's middle, against the latency thresholds. */
static void
chart_latency(sw_buf *b, const sw_report *r, const rp_service *s, const day_ticks *t, sw_err *err)
{
    int64_t at[RP_MAX_DAYS];
    double p95[RP_MAX_DAYS], p99[RP_MAX_DAYS];
    for (int d = 0; d < r->n_days; d++) {
        at[d] = s->days[d].start_ms + (s->days[d].end_ms - s->days[d].start_ms) / 2;
        p95[d] = s->days[d].p95_us / 1000.0;
        p99[d] = s->days[d].p99_us / 1000.0;
    }
    sw_chart_series series[2] = {{"P95", at, p95, (size_t)r->n_days},
                                 {"P99", at, p99, (size_t)r->n_days}};
    const sw_objective *o[2] = {first_objective(s->own, SW_SLI_LATENCY, 95.0),
                                first_objective(s->own, SW_SLI_LATENCY, 99.0)};
    sw_chart_threshold th[2];
    size_t n_th = 0;
    for (int i = 0; i < 2; i++)
        if (o[i] != NULL)
            th[n_th++] = (sw_chart_threshold){i == 0 ? "P95 objective" : "P99 objective",
                                              o[i]->objective.value / 1000.0};
    sw_chart c =
        month_chart(r, s, t, "Daily latency: P95 and P99 against the thresholds", "latency", "ms");
    c.y_max = latency_ceiling(th, n_th, p99, r->n_days);
    c.series = series;
    c.n_series = 2;
    c.thresholds = th;
    c.n_thresholds = n_th;
    c.include_zero = true;
    chart_heading(b, "Daily latency: P95 and P99 against the thresholds", err);
    sw_chart_draw(b, &c, err);
    sw_buf_printf(b, err, "</figure>\n");
}

/* Budget left in % at each day's end from 100 % at the month's start, beside the even spend
 * (the ideal line); the value axis reaches as far below zero as the budget went. */
static void
chart_budget(sw_buf *b, const sw_report *r, const rp_service *s, const day_ticks *t, sw_err *err)
{
    int64_t at[RP_MAX_DAYS + 1], ideal_at[2] = {r->start_ms, r->end_ms};
    double left[RP_MAX_DAYS + 1], ideal[2] = {100.0, 0.0};
    bool any = false;
    at[0] = r->start_ms;
    for (int d = 0; d < r->n_days; d++) {
        at[d + 1] = s->days[d].end_ms;
        left[d + 1] = 100.0 * s->days[d].budget_left;
        any = any || isfinite(left[d + 1]);
    }
    left[0] = any ? 100.0 : NAN; /* no budget at all: no line either */
    sw_chart_series series[2] = {{"budget left", at, left, (size_t)r->n_days + 1},
                                 {"even spend", ideal_at, ideal, 2}};
    sw_chart_threshold zero = {"exhausted", 0.0};
    sw_chart c = month_chart(r, s, t, "Error budget left at the end of each day", "budget", "%");
    c.y_min = budget_floor(left, (size_t)r->n_days + 1);
    c.series = series;
    c.n_series = any ? 2 : 1;
    c.thresholds = &zero;
    c.n_thresholds = 1;
    chart_heading(b, "Error budget left at the end of each day", err);
    sw_chart_draw(b, &c, err);
    sw_buf_printf(b, err, "</figure>\n");
}

static const char *
cell_class(const rp_counts *c)
{
    if (c->maint_ms > 0 && c->data_ms == 0)
        return "maint";
    if (c->data_ms == 0)
        return "nodata";
    if (c->bad_unknown)
        return "unknown";
    if (c->bad_minutes == 0)
        return "l0";
    return c->bad_minutes >= 10 ? "l3" : c->bad_minutes >= 3 ? "l2" : "l1";
}

static const sw_chart_key heat_keys[] = {
    {"l0", "no bad minute"},
    {"l1", "1-2"},
    {"l2", "3-9"},
    {"l3", "10 or more"},
    {"nodata", "no data"},
    {"maint", "maintenance"},
    {"unknown", "counted per hour only"},
};

typedef struct heat_cells {
    sw_chart_cell *cells;
    char (*titles)[64];
    size_t n, n_cols;
} heat_cells;

/* One cell per local hour: its day's row, its hour's column (25 on a day clocks go back). */
static sw_status
make_cells(const sw_report *r, const rp_service *s, heat_cells *h, sw_err *err)
{
    h->cells = calloc(s->n_hours + 1, sizeof *h->cells);
    h->titles = calloc(s->n_hours + 1, sizeof *h->titles);
    if (h->cells == NULL || h->titles == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory for the heatmap");
    h->n_cols = 24;
    char bad[24];
    for (size_t i = 0; i < s->n_hours; i++) {
        const rp_hour *hr = &s->hours[i];
        int d = 0;
        while (d + 1 < r->n_days && hr->start_ms >= s->days[d].end_ms)
            d++;
        size_t col = (size_t)((hr->start_ms - s->days[d].start_ms) / RP_HOUR_MS);
        snprintf(h->titles[i], sizeof h->titles[i], "day %d hour %zu: %s bad minutes", d + 1, col,
                 sw_report_bad_text(&hr->c, bad, sizeof bad));
        h->cells[h->n++] = (sw_chart_cell){(size_t)d, col, cell_class(&hr->c), h->titles[i]};
        if (col + 1 > h->n_cols)
            h->n_cols = col + 1;
    }
    return SW_OK;
}

static void
chart_heatmap(sw_buf *b, const sw_report *r, const rp_service *s, const day_ticks *t, sw_err *err)
{
    static const char *const hour_labels[25] = {
        "00", NULL, NULL, "03", NULL, NULL, "06", NULL, NULL, "09", NULL, NULL, "12",
        NULL, NULL, "15", NULL, NULL, "18", NULL, NULL, "21", NULL, NULL, NULL};
    const char *rows[RP_MAX_DAYS] = {0};
    for (size_t i = 0; i < t->n; i++)
        rows[i * 7] = t->labels[i];
    heat_cells h = {0};
    if (make_cells(r, s, &h, err) == SW_OK) {
        sw_chart_heatmap m = {.title = "Bad minutes per hour",
                              .css_class = "heatmap",
                              .n_rows = (size_t)r->n_days,
                              .n_cols = h.n_cols,
                              .row_labels = rows,
                              .col_labels = hour_labels,
                              .cells = h.cells,
                              .n_cells = h.n,
                              .keys = heat_keys,
                              .n_keys = sizeof heat_keys / sizeof heat_keys[0]};
        chart_heading(b,
                      "Month at a glance: bad minutes per hour (rows: days, columns: local "
                      "hours)",
                      err);
        sw_chart_draw_heatmap(b, &m, err);
        sw_buf_printf(b, err, "</figure>\n");
    }
    free(h.cells);
    free(h.titles);
}

/* ------------------------------------------------------------------ details */

static void
facts(sw_buf *b, const sw_report *r, const rp_service *s, sw_err *err)
{
    char a[48], c[48], t[40];
    if (!s->enough_coverage) {
        sw_buf_printf(b, err, "<p class=\"note\" id=\"coverage-note-");
        esc(b, s->title, err);
        sw_buf_printf(b, err, "\">Data covers only %.1f%% of the month%s", 100.0 * s->coverage,
                      r->partial ? " so far" : "");
        if (s->first_data_ms >= 0) {
            sw_report_local_time(r, s->first_data_ms, t, sizeof t);
            sw_buf_printf(b, err, " (first data %s)", t);
        }
        sw_buf_printf(b, err,
                      ": too little for a verdict, so no commitment is judged met or "
                      "missed.</p>\n");
    }
    sw_buf_printf(b, err,
                  "<ul><li>Data coverage: %.2f%% of the month's minutes%s outside "
                  "maintenance.</li>",
                  100.0 * s->coverage, r->partial ? " so far" : "");
    rp_fact_words f;
    sw_report_fact_words(s, &f);
    sw_buf_printf(b, err, "<li>%s requests, %s failed (%s).</li>", f.requests, f.failed,
                  f.error_share);
    sw_buf_printf(b, err, "<li>Latency over the whole month: P95 %s, P99 %s.</li>", f.p95, f.p99);
    sw_buf_printf(b, err, "<li>Throughput: &ge; %s in 99%% of minutes; peak minute %s.</li>",
                  f.sustained, f.peak);
    for (size_t k = 0; k < s->own->n_objectives; k++) {
        const sw_objective_result *o = &s->objectives[k];
        if (!isfinite(o->allowed_downtime_s))
            continue;
        sw_buf_printf(b, err, "<li>");
        esc(b, o->objective->name, err);
        sw_report_words_minutes(o->downtime_s, a, sizeof a);
        sw_report_words_minutes(o->allowed_downtime_s, c, sizeof c);
        sw_report_words_percent(o->budget_remaining, t, sizeof t);
        sw_buf_printf(b, err,
                      ": %s of downtime of %s allowed; error budget left at the "
                      "month's end %s.</li>",
                      a, c, t);
    }
    sw_buf_printf(b, err, "</ul>\n");
}

static void
service(sw_buf *b, const sw_report *r, const rp_service *s, sw_err *err)
{
    sw_buf_printf(b, err, "<section class=\"service\" id=\"service-%zu\"><h2>",
                  (size_t)(s - r->services));
    esc(b, s->title, err);
    sw_buf_printf(b, err, "</h2>\n");
    day_ticks t;
    make_day_ticks(r, s, &t);
    sw_report_html_sentences(b, r, s, err);
    facts(b, r, s, err);
    chart_availability(b, r, s, &t, err);
    chart_latency(b, r, s, &t, err);
    chart_budget(b, r, s, &t, err);
    chart_heatmap(b, r, s, &t, err);
    if (s->marks != NULL && s->marks->truncated)
        sw_buf_printf(b, err,
                      "<p class=\"sub\">The charts mark this month's first %d changes only "
                      "(deployments first, then alerts and triggers, then gate decisions).</p>\n",
                      RP_MARKS_MAX);
    sw_report_html_details(b, r, s, err);
    sw_buf_printf(b, err, "</section>\n");
}

sw_status
sw_report_write_html(const sw_report *r, sw_buf *b, sw_err *err)
{
    char t[40];
    sw_buf_printf(b, err,
                  "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                  "<title>SLA report %04d-%02d</title><style>%s%s%s</style></head><body>\n",
                  r->year, r->month, css, sw_chart_css(), sw_report_html_print_css);
    summary(b, r, err);
    sw_report_html_portfolio(r, b, err);
    for (size_t i = 0; i < r->n_services; i++)
        service(b, r, &r->services[i], err);
    sw_report_local_time(r, r->generated_ms, t, sizeof t);
    sw_buf_printf(b, err,
                  "<p class=\"sub\">Generated by slawatch at %s. Latency percentiles "
                  "come from the month's merged histograms (%s rows); counts, coverage "
                  "and slices from 1-minute rows where the store still holds them.</p>"
                  "\n</body></html>\n",
                  t, r->latency_res_ms == RP_HOUR_MS ? "hourly" : "1-minute");
    return SW_OK;
}
