/*
 * The HTML report: one self-contained page (inline CSS and SVG, nothing fetched) that a
 * non-engineer reads in a minute: the verdict count and summary table first, then per service
 * the facts in words, four charts (daily availability, daily P95/P99, budget burn-down,
 * month-at-a-glance heatmap of bad minutes), worst periods, alerts and maintenance. Prints to
 * PDF: each service starts a page, charts keep their size.
 */
#include "report_int.h"

#include <math.h>

#include "slawatch/rules.h"

#define W 720.0 /* chart width in SVG units */
#define H 160.0
#define PAD 36.0

static const char *const month_names[] = {"January", "February", "March",     "April",
                                          "May",     "June",     "July",      "August",
                                          "September", "October", "November", "December"};

static const char css[] =
    "body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;"
    "color:#222;max-width:820px;margin:2em auto;padding:0 1em}"
    "h1{font-size:1.6em;margin:0}h2{margin-top:2em;border-bottom:1px solid #ddd}"
    ".sub{color:#666}.tally{font-size:1.4em;margin:1em 0}"
    "table{border-collapse:collapse;width:100%;margin:.5em 0}"
    "th,td{text-align:left;padding:.3em .5em;border-bottom:1px solid #eee}"
    "th{color:#555;font-weight:600}.met{color:#1b7a3a}.missed{color:#b3261e;font-weight:600}"
    ".none{color:#8a6d00}.note{background:#fff7db;padding:.5em .8em;border-radius:4px}"
    "svg{display:block;margin:.3em 0 1em}svg text{font-size:11px;fill:#555}"
    ".bar{fill:#7aa6c2}.bar.bad{fill:#d9776f}.objective{stroke:#444;stroke-dasharray:4 3}"
    ".p95{fill:none;stroke:#3d7ea6;stroke-width:2}.p99{fill:none;stroke:#9b5fa8;stroke-width:2}"
    ".pt{fill:#fff;stroke:#555}.burn{fill:none;stroke:#3d7ea6;stroke-width:2}"
    ".cell{stroke:#fff;stroke-width:1}"
    "@media print{body{margin:0;max-width:none}section.service{break-before:page}"
    "svg,table{break-inside:avoid}}";

static void
esc(sw_buf *b, const char *s, sw_err *err)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': sw_buf_printf(b, err, "&lt;"); break;
        case '>': sw_buf_printf(b, err, "&gt;"); break;
        case '&': sw_buf_printf(b, err, "&amp;"); break;
        case '"': sw_buf_printf(b, err, "&quot;"); break;
        default: sw_buf_printf(b, err, "%c", *s);
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
    sw_buf_printf(b, err, "</td><td>%s</td><td>%s</td><td>%s</td><td class=\"%s\">%s</td>"
                          "<td>%s</td></tr>\n",
                  t, m, g, verdict_class(o), verdict_text(o), p);
}

static void
summary(sw_buf *b, const sw_report *r, sw_err *err)
{
    size_t met, judged, total;
    sw_report_tally(r, &met, &judged, &total);
    sw_buf_printf(b, err, "<h1>SLA report: %s %04d</h1>\n<p class=\"sub\">Time zone ",
                  month_names[r->month - 1], r->year);
    esc(b, sw_report_tz_name(r->tz), err);
    sw_buf_printf(b, err, ". %s</p>\n", r->partial ? "The month is not over: figures so far."
                                                 : "The whole calendar month.");
    sw_buf_printf(b, err, "<p class=\"tally\" id=\"tally\"><strong>%zu of %zu commitments met"
                          "</strong>", met, total);
    if (judged < total)
        sw_buf_printf(b, err, " &middot; %zu without a verdict (too little data)",
                      total - judged);
    sw_buf_printf(b, err, "</p>\n<table id=\"summary\"><tr><th>Service</th><th>Commitment</th>"
                          "<th>Target</th><th>Actual</th><th>Margin</th><th>Verdict</th>"
                          "<th>Previous month</th></tr>\n");
    for (size_t i = 0; i < r->n_services; i++)
        for (size_t k = 0; k < r->services[i].own->n_objectives; k++)
            summary_row(b, &r->services[i], k, err);
    sw_buf_printf(b, err, "</table>\n");
}

/* ------------------------------------------------------------------ charts */

static double
day_x(const sw_report *r, int d)
{
    return PAD + (W - PAD) * (double)d / (double)r->n_days;
}

static double
scale_y(double v, double lo, double hi)
{
    if (v < lo)
        v = lo;
    if (v > hi)
        v = hi;
    return H - 18.0 - (H - 28.0) * (v - lo) / (hi - lo);
}

static void
axis_days(sw_buf *b, const sw_report *r, sw_err *err)
{
    for (int d = 0; d < r->n_days; d += 7)
        sw_buf_printf(b, err, "<text x=\"%.1f\" y=\"%.0f\">%d</text>", day_x(r, d), H - 4, d + 1);
}

static const sw_objective *
first_objective(const sw_rules *rules, sw_sli sli, double percentile)
{
    for (size_t i = 0; i < rules->n_objectives; i++) {
        const sw_objective *o = &rules->objectives[i];
        if (o->objective.sli == sli && (sli != SW_SLI_LATENCY || o->objective.percentile == percentile))
            return o;
    }
    return NULL;
}

static void
chart_availability(sw_buf *b, const sw_report *r, const rp_service *s, sw_err *err)
{
    const sw_objective *o = first_objective(s->own, SW_SLI_AVAILABILITY, 0);
    double target = o ? o->objective.value : 0.999;
    double lo = fmax(0.0, 1.0 - 10.0 * (1.0 - target)), bw = (W - PAD) / r->n_days - 2;
    sw_buf_printf(b, err, "<h3>Daily availability against the objective</h3>\n"
                          "<svg class=\"chart availability\" viewBox=\"0 0 %.0f %.0f\" "
                          "width=\"100%%\" role=\"img\">", W, H);
    for (int d = 0; d < r->n_days; d++) {
        const rp_counts *c = &s->days[d].c;
        if (c->requests == 0)
            continue;
        double a = 1.0 - (double)c->errors / (double)c->requests, y = scale_y(a, lo, 1.0);
        sw_buf_printf(b, err, "<rect class=\"bar%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                              "height=\"%.1f\"><title>day %d: %.3f%%</title></rect>",
                      a < target ? " bad" : "", day_x(r, d) + 1, y, bw,
                      fmax(H - 18.0 - y, 1.0), d + 1, 100.0 * a);
    }
    double ty = scale_y(target, lo, 1.0);
    sw_buf_printf(b, err, "<line class=\"objective\" x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" "
                          "y2=\"%.1f\"/><text x=\"0\" y=\"%.1f\">%.2f%%</text>"
                          "<text x=\"0\" y=\"14\">100%%</text>",
                  PAD, W, ty, ty, ty + 4, 100.0 * target);
    axis_days(b, r, err);
    sw_buf_printf(b, err, "</svg>\n");
}

static void
latency_line(sw_buf *b, const sw_report *r, const rp_service *s, bool p99, double hi, sw_err *err)
{
    sw_buf_printf(b, err, "<polyline class=\"%s\" points=\"", p99 ? "p99" : "p95");
    for (int d = 0; d < r->n_days; d++) {
        double v = p99 ? s->days[d].p99_us : s->days[d].p95_us;
        if (isfinite(v))
            sw_buf_printf(b, err, "%.1f,%.1f ", day_x(r, d) + 6, scale_y(v, 0, hi));
    }
    sw_buf_printf(b, err, "\"/>");
    for (int d = 0; d < r->n_days; d++) {
        double v = p99 ? s->days[d].p99_us : s->days[d].p95_us;
        if (isfinite(v))
            sw_buf_printf(b, err, "<circle class=\"pt\" cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\">"
                                  "<title>day %d %s %.0f ms</title></circle>",
                          day_x(r, d) + 6, scale_y(v, 0, hi), d + 1, p99 ? "P99" : "P95",
                          v / 1000.0);
    }
}

static void
chart_latency(sw_buf *b, const sw_report *r, const rp_service *s, sw_err *err)
{
    const sw_objective *o95 = first_objective(s->own, SW_SLI_LATENCY, 95.0);
    const sw_objective *o99 = first_objective(s->own, SW_SLI_LATENCY, 99.0);
    double hi = 0;
    for (int d = 0; d < r->n_days; d++)
        if (isfinite(s->days[d].p99_us))
            hi = fmax(hi, s->days[d].p99_us);
    if (o99)
        hi = fmax(hi, o99->objective.value);
    hi = hi > 0 ? 1.15 * hi : 1000.0;
    sw_buf_printf(b, err, "<h3>Daily latency: P95 (blue) and P99 (purple) against thresholds</h3>\n"
                          "<svg class=\"chart latency\" viewBox=\"0 0 %.0f %.0f\" width=\"100%%\" "
                          "role=\"img\">", W, H);
    const sw_objective *th[2] = {o95, o99};
    for (int i = 0; i < 2; i++) {
        if (th[i] == NULL)
            continue;
        double y = scale_y(th[i]->objective.value, 0, hi);
        sw_buf_printf(b, err, "<line class=\"objective\" x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" "
                              "y2=\"%.1f\"/><text x=\"0\" y=\"%.1f\">%.0f ms</text>",
                      PAD, W, y, y, y + 4, th[i]->objective.value / 1000.0);
    }
    latency_line(b, r, s, false, hi, err);
    latency_line(b, r, s, true, hi, err);
    axis_days(b, r, err);
    sw_buf_printf(b, err, "</svg>\n");
}

static void
chart_budget(sw_buf *b, const sw_report *r, const rp_service *s, sw_err *err)
{
    double lo = 0.0;
    for (int d = 0; d < r->n_days; d++)
        if (isfinite(s->days[d].budget_left))
            lo = fmin(lo, s->days[d].budget_left);
    sw_buf_printf(b, err, "<h3>Error budget left at the end of each day</h3>\n"
                          "<svg class=\"chart budget\" viewBox=\"0 0 %.0f %.0f\" width=\"100%%\" "
                          "role=\"img\"><polyline class=\"burn\" points=\"%.1f,%.1f ",
                  W, H, PAD, scale_y(1.0, lo, 1.0));
    for (int d = 0; d < r->n_days; d++)
        if (isfinite(s->days[d].budget_left))
            sw_buf_printf(b, err, "%.1f,%.1f ", day_x(r, d + 1),
                          scale_y(s->days[d].budget_left, lo, 1.0));
    double zy = scale_y(0.0, lo, 1.0);
    sw_buf_printf(b, err, "\"/><line class=\"objective\" x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" "
                          "y2=\"%.1f\"/><text x=\"0\" y=\"14\">100%%</text>"
                          "<text x=\"0\" y=\"%.1f\">0%%</text>",
                  PAD, W, zy, zy, zy + 4);
    axis_days(b, r, err);
    sw_buf_printf(b, err, "</svg>\n");
}

static const char *
cell_colour(const rp_counts *c)
{
    if (c->maint_ms > 0 && c->data_ms == 0)
        return "#c9c9e8"; /* maintenance */
    if (c->data_ms == 0)
        return "#e6e6e6"; /* no data */
    if (c->bad_unknown)
        return "#d9d4bf"; /* counts per hour only */
    if (c->bad_minutes == 0)
        return "#cfe5d3";
    return c->bad_minutes >= 10 ? "#b3261e" : c->bad_minutes >= 3 ? "#e08a80" : "#f2c4bd";
}

static void
chart_heatmap(sw_buf *b, const sw_report *r, const rp_service *s, sw_err *err)
{
    double cw = (W - PAD) / 25.0, ch = 9.0, hh = ch * r->n_days + 16;
    char bad[24];
    sw_buf_printf(b, err,
                  "<h3>Month at a glance: bad minutes per hour (rows: days, columns: "
                  "hours; grey: no data, lilac: maintenance, sand: counted per hour "
                  "only)</h3>\n"
                  "<svg class=\"chart heatmap\" viewBox=\"0 0 %.0f %.0f\" width=\"100%%\" "
                  "role=\"img\">",
                  W, hh);
    for (size_t h = 0; h < s->n_hours; h++) {
        const rp_hour *hr = &s->hours[h];
        int d = 0;
        while (d + 1 < r->n_days && hr->start_ms >= s->days[d].end_ms)
            d++;
        double col = (double)((hr->start_ms - s->days[d].start_ms) / RP_HOUR_MS);
        sw_buf_printf(b, err,
                      "<rect class=\"cell\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                      "height=\"%.1f\" fill=\"%s\"><title>day %d hour %.0f: %s bad "
                      "minutes</title></rect>",
                      PAD + col * cw, ch * d, cw, ch, cell_colour(&hr->c), d + 1, col,
                      sw_report_bad_text(&hr->c, bad, sizeof bad));
    }
    for (int d = 0; d < r->n_days; d += 7)
        sw_buf_printf(b, err, "<text x=\"0\" y=\"%.1f\">day %d</text>", ch * d + 8, d + 1);
    sw_buf_printf(b, err, "</svg>\n");
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
        sw_buf_printf(b, err, ": too little for a verdict, so no commitment is judged met or "
                              "missed.</p>\n");
    }
    sw_buf_printf(b, err,
                  "<ul><li>Data coverage: %.2f%% of the month's minutes%s outside "
                  "maintenance.</li>",
                  100.0 * s->coverage, r->partial ? " so far" : "");
    sw_buf_printf(b, err, "<li>%llu requests, %llu failed (%.4f%%).</li>",
                  (unsigned long long)s->month.requests, (unsigned long long)s->month.errors,
                  s->month.requests ? 100.0 * (double)s->month.errors / (double)s->month.requests
                                    : 0.0);
    sw_rules_format_value(SW_SLI_LATENCY, s->p95_us, a, sizeof a);
    sw_rules_format_value(SW_SLI_LATENCY, s->p99_us, c, sizeof c);
    sw_buf_printf(b, err, "<li>Latency over the whole month: P95 %s, P99 %s.</li>", a, c);
    sw_rules_format_value(SW_SLI_THROUGHPUT, s->peak_rps, a, sizeof a);
    sw_rules_format_value(SW_SLI_THROUGHPUT, s->sustained_rps, c, sizeof c);
    sw_buf_printf(b, err, "<li>Throughput: peak minute %s; 99%% of minutes reached %s.</li>", a,
                  c);
    for (size_t k = 0; k < s->own->n_objectives; k++) {
        const sw_objective_result *o = &s->objectives[k];
        if (!isfinite(o->allowed_downtime_s))
            continue;
        sw_buf_printf(b, err, "<li>");
        esc(b, o->objective->name, err);
        sw_buf_printf(b, err, ": %.1f minutes of downtime of %.1f allowed; error budget left "
                              "at the month's end %.1f%%.</li>",
                      o->downtime_s / 60.0, o->allowed_downtime_s / 60.0,
                      100.0 * o->budget_remaining);
    }
    sw_buf_printf(b, err, "</ul>\n");
}

static void
worst_hours(sw_buf *b, const sw_report *r, const rp_service *s, sw_err *err)
{
    char t[40];
    sw_buf_printf(b, err, "<h3>Worst hours</h3>\n");
    if (s->n_worst_hours == 0) {
        sw_buf_printf(b, err, "<p>No hour had failed requests.</p>\n");
        return;
    }
    sw_buf_printf(b, err, "<table class=\"worst\"><tr><th>Hour starting</th><th>Failed "
                          "requests</th><th>Error rate</th><th>Bad minutes</th></tr>\n");
    for (size_t i = 0; i < s->n_worst_hours; i++) {
        const rp_counts *c = &s->hours[s->worst_hours[i]].c;
        sw_report_local_time(r, s->hours[s->worst_hours[i]].start_ms, t, sizeof t);
        char bad[24];
        sw_buf_printf(b, err, "<tr><td>%s</td><td>%llu</td><td>%.3f%%</td><td>%s</td></tr>\n", t,
                      (unsigned long long)c->errors,
                      c->requests ? 100.0 * (double)c->errors / (double)c->requests : 0.0,
                      sw_report_bad_text(c, bad, sizeof bad));
    }
    sw_buf_printf(b, err, "</table>\n");
}

static void
events(sw_buf *b, const sw_report *r, const rp_service *s, sw_err *err)
{
    char t[40], u[40];
    sw_buf_printf(b, err, "<h3>Alerts and rollback triggers that fired</h3>\n");
    if (s->n_events == 0) {
        sw_buf_printf(b, err, "<p>None fired.</p>\n");
        return;
    }
    sw_buf_printf(b, err, "<table class=\"events\"><tr><th>What</th><th>Name</th><th>Fired</th>"
                          "<th>Resolved</th></tr>\n");
    for (size_t i = 0; i < s->n_events; i++) {
        const rp_event *e = &s->events[i];
        sw_report_local_time(r, e->fired_ms, t, sizeof t);
        if (e->resolved_ms >= 0)
            sw_report_local_time(r, e->resolved_ms, u, sizeof u);
        sw_buf_printf(b, err, "<tr><td>%s</td><td>",
                      e->kind[0] == 't' ? "rollback trigger" : "alert");
        esc(b, e->name, err);
        if (e->env[0]) {
            sw_buf_printf(b, err, " (");
            esc(b, e->env, err);
            sw_buf_printf(b, err, ")");
        }
        sw_buf_printf(b, err, "</td><td>%s</td><td>%s</td></tr>\n", t,
                      e->resolved_ms >= 0 ? u : "still firing at the month's end");
    }
    sw_buf_printf(b, err, "</table>\n");
}

static void
overrides(sw_buf *b, const sw_report *r, const rp_service *s, sw_err *err)
{
    char t[40];
    sw_buf_printf(b, err, "<h3>Error-budget policy overrides</h3>\n");
    if (s->n_overrides == 0) {
        sw_buf_printf(b, err, "<p>None.</p>\n");
        return;
    }
    sw_buf_printf(b, err,
                  "<table class=\"overrides\"><tr><th>Deployment</th><th>Environment</th>"
                  "<th>By</th><th>Override</th></tr>\n");
    for (size_t i = 0; i < s->n_overrides; i++) {
        const rp_override *o = &s->overrides[i];
        sw_report_local_time(r, o->at_ms, t, sizeof t);
        sw_buf_printf(b, err, "<tr><td>%s</td><td>", t);
        esc(b, o->env, err);
        sw_buf_printf(b, err, "</td><td>");
        esc(b, o->who, err);
        sw_buf_printf(b, err, "</td><td>");
        esc(b, o->ticket, err);
        sw_buf_printf(b, err, "</td></tr>\n");
    }
    sw_buf_printf(b, err, "</table>\n");
}

static void
maintenance(sw_buf *b, const sw_report *r, const rp_service *s, sw_err *err)
{
    char t[40], u[40];
    sw_buf_printf(b, err, "<h3>Planned maintenance (left out of the figures)</h3>\n<ul>");
    size_t n = 0;
    for (size_t i = 0; i < s->svc->n_maintenance; i++) {
        const sw_maintenance *m = &s->svc->maintenance[i];
        if (m->end_ms <= r->start_ms || m->start_ms >= r->end_ms)
            continue;
        sw_report_local_time(r, m->start_ms, t, sizeof t);
        sw_report_local_time(r, m->end_ms, u, sizeof u);
        sw_buf_printf(b, err, "<li class=\"maint\">%s to %s: ", t, u);
        esc(b, m->reason ? m->reason : "", err);
        sw_buf_printf(b, err, "</li>");
        n++;
    }
    sw_buf_printf(b, err, "%s</ul>\n", n ? "" : "<li>None.</li>");
}

static void
service(sw_buf *b, const sw_report *r, const rp_service *s, sw_err *err)
{
    sw_buf_printf(b, err, "<section class=\"service\"><h2>");
    esc(b, s->title, err);
    sw_buf_printf(b, err, "</h2>\n");
    facts(b, r, s, err);
    chart_availability(b, r, s, err);
    chart_latency(b, r, s, err);
    chart_budget(b, r, s, err);
    chart_heatmap(b, r, s, err);
    worst_hours(b, r, s, err);
    events(b, r, s, err);
    overrides(b, r, s, err);
    maintenance(b, r, s, err);
    sw_buf_printf(b, err, "</section>\n");
}

sw_status
sw_report_write_html(const sw_report *r, sw_buf *b, sw_err *err)
{
    char t[40];
    sw_buf_printf(b, err, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                          "<title>SLA report %04d-%02d</title><style>%s</style></head><body>\n",
                  r->year, r->month, css);
    summary(b, r, err);
    for (size_t i = 0; i < r->n_services; i++)
        service(b, r, &r->services[i], err);
    sw_report_local_time(r, r->generated_ms, t, sizeof t);
    sw_buf_printf(b, err, "<p class=\"sub\">Generated by slawatch at %s. Latency percentiles "
                          "come from the month's merged histograms (%s rows); counts, coverage "
                          "and slices from 1-minute rows where the store still holds them.</p>"
                          "\n</body></html>\n",
                  t, r->latency_res_ms == RP_HOUR_MS ? "hourly" : "1-minute");
    return SW_OK;
}
