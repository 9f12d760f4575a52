/*
 * GET /service?name=S&env=E&range=R (or range=custom&from=T&to=T): one service over a range
 * (1h, 6h, 1d, 7d, 30d, this month, last month): its objectives now (the snapshot's status),
 * the exact P50/P95/P99 of the whole range, the error budget's burndown against the ideal line,
 * availability, error rate, latency percentiles and request rate over time against their
 * thresholds with deployments, gate decisions and alert/trigger events marked on every chart
 * and maintenance windows shaded, then the events and the gate decisions of the range. The
 * data comes from the store (exporters/web_series, judged by the rules the store recorded);
 * the charts from exporters/chart. Unknown service or environment: 404; unknown range: 400.
 */
#include "web_int.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slawatch/chart.h"
#include "slawatch/units.h"
#include "slawatch/web_series.h"

static const struct {
    const char *name, *label;
} ranges[] = {
    {"1h", "1 hour"},
    {"6h", "6 hours"},
    {"1d", "1 day"},
    {"7d", "7 days"},
    {"30d", "30 days"},
    {"this-month", "this month"},
    {"last-month", "last month"},
};
#define N_RANGES (sizeof ranges / sizeof ranges[0])

/* Which series a page is about: a service, or one value of its by label. */
typedef struct page_series {
    const char *service, *label, *value; /* label and value "" for a plain service */
} page_series;

static void
put_page_link(sw_buf *b, const page_series *ps, const char *env, const char *range)
{
    sw_buf_printf(b, NULL, "/service?name=");
    sw_web_put_query_value(b, ps->service);
    if (ps->label[0] != '\0') {
        sw_buf_printf(b, NULL, "&amp;");
        sw_web_put_query_value(b, ps->label);
        sw_buf_printf(b, NULL, "=");
        sw_web_put_query_value(b, ps->value);
    }
    if (env[0] != '\0') {
        sw_buf_printf(b, NULL, "&amp;env=");
        sw_web_put_query_value(b, env);
    }
    sw_buf_printf(b, NULL, "&amp;range=%s", range);
}

static void
put_range_nav(sw_buf *b, const page_series *ps, const char *env, const char *chosen)
{
    sw_buf_printf(b, NULL, "<nav aria-label=\"Range\" class=\"ranges\"><ul>");
    for (size_t i = 0; i < N_RANGES; i++) {
        sw_buf_printf(b, NULL, "<li><a href=\"");
        put_page_link(b, ps, env, ranges[i].name);
        sw_buf_printf(b, NULL, "\"%s>%s</a></li>",
                      strcmp(ranges[i].name, chosen) == 0 ? " aria-current=\"page\"" : "",
                      ranges[i].label);
    }
    sw_buf_printf(b, NULL, "</ul></nav>");
}

/* Links to the service's other environments. */
static void
put_env_nav(sw_buf *b, const sw_snapshot *s, const page_series *ps, const char *env,
            const char *range)
{
    cJSON *envs = cJSON_Parse(sw_snapshot_envs_json(s, ps->service));
    if (cJSON_GetArraySize(envs) > 1) {
        sw_buf_printf(b, NULL, "<p>Environments: ");
        const cJSON *e;
        int i = 0;
        cJSON_ArrayForEach(e, envs)
        {
            if (!cJSON_IsString(e))
                continue;
            sw_buf_printf(b, NULL, "%s<a href=\"", i++ ? " · " : "");
            put_page_link(b, ps, e->valuestring, range);
            sw_buf_printf(b, NULL, "\"%s>",
                          strcmp(e->valuestring, env) == 0 ? " aria-current=\"page\"" : "");
            sw_web_put_text(b, e->valuestring);
            sw_buf_printf(b, NULL, "</a>");
        }
        sw_buf_printf(b, NULL, "</p>");
    }
    cJSON_Delete(envs);
}

/* 404 when the snapshot does not know (service, env). */
static bool
series_known(const sw_api_hooks *h, sw_http_response *resp, const sw_snapshot *s,
             const char *service, const char *env)
{
    sw_snapshot_lookup l = sw_snapshot_gate_known(s, service, env[0] ? env : NULL, 0);
    char detail[2 * SW_WEB_PARAM_MAX + 200];
    switch (l) {
    case SW_SNAPSHOT_UNKNOWN_SERVICE:
        snprintf(detail, sizeof detail, "There is no service '%s'. Services: %s", service,
                 sw_snapshot_services_json(s));
        sw_web_error_page(h, resp, 404, "Unknown service", detail);
        return false;
    case SW_SNAPSHOT_UNKNOWN_ENV:
    case SW_SNAPSHOT_NEEDS_ENV:
        snprintf(detail, sizeof detail, "Service '%s' has no environment '%s'. Environments: %s",
                 service, env, sw_snapshot_envs_json(s, service));
        sw_web_error_page(h, resp, 404, "Unknown environment", detail);
        return false;
    default:
        return true;
    }
}

/* ------------------------------------------------------------------ charts */

/* The marks every chart carries: deployments, gate decisions, alert and trigger events. */
typedef struct marks {
    sw_chart_mark *m;
    char (*labels)[SW_WEB_NAME_MAX + 48];
    size_t n;
    sw_chart_range *maint;
} marks;

static bool
marks_build(const sw_web_series *s, marks *out)
{
    size_t cap = s->n_deployments + s->n_gates + s->n_events;
    out->m = calloc(cap ? cap : 1, sizeof *out->m);
    out->labels = calloc(cap ? cap : 1, sizeof *out->labels);
    out->maint = calloc(s->n_maint ? s->n_maint : 1, sizeof *out->maint);
    if (out->m == NULL || out->labels == NULL || out->maint == NULL)
        return false;
    for (size_t i = 0; i < s->n_deployments; i++) {
        snprintf(out->labels[out->n], sizeof out->labels[0], "deployment %s",
                 s->deployments[i].env);
        out->m[out->n] =
            (sw_chart_mark){out->labels[out->n], s->deployments[i].at_ms, SW_CHART_MARK_DEPLOY};
        out->n++;
    }
    for (size_t i = 0; i < s->n_gates; i++) {
        bool fail = strcmp(s->gates[i].verdict, "fail") == 0;
        snprintf(out->labels[out->n], sizeof out->labels[0], "gate %s %s", s->gates[i].verdict,
                 s->gates[i].env);
        out->m[out->n] = (sw_chart_mark){out->labels[out->n], s->gates[i].at_ms,
                                         fail ? SW_CHART_MARK_GATE_FAIL : SW_CHART_MARK_GATE_PASS};
        out->n++;
    }
    for (size_t i = 0; i < s->n_events; i++) {
        snprintf(out->labels[out->n], sizeof out->labels[0], "%s %s %s", s->events[i].kind,
                 s->events[i].name, s->events[i].state);
        out->m[out->n] =
            (sw_chart_mark){out->labels[out->n], s->events[i].at_ms, SW_CHART_MARK_EVENT};
        out->n++;
    }
    for (size_t i = 0; i < s->n_maint; i++)
        out->maint[i] =
            (sw_chart_range){s->maint[i].reason, s->maint[i].from_ms, s->maint[i].to_ms};
    return true;
}

static void
marks_free(marks *m)
{
    free(m->m);
    free(m->labels);
    free(m->maint);
}

/* A chart over the range with every mark and maintenance window. */
static sw_chart
chart_over(const sw_web_series *s, const marks *m, const char *title, const char *unit)
{
    sw_chart c = sw_chart_defaults();
    c.title = title;
    c.unit = unit;
    c.from_ms = s->range.from_ms;
    c.to_ms = s->range.to_ms;
    c.marks = m->m;
    c.n_marks = m->n;
    c.ranges = m->maint;
    c.n_ranges = s->n_maint;
    return c;
}

/* Per-bucket columns: times and up to three value columns. */
typedef struct columns {
    int64_t *t;
    double *v[3];
} columns;

static bool
columns_new(columns *c, size_t n)
{
    c->t = calloc(n ? n : 1, sizeof *c->t);
    for (int i = 0; i < 3; i++)
        c->v[i] = calloc(n ? n : 1, sizeof *c->v[i]);
    return c->t && c->v[0] && c->v[1] && c->v[2];
}

static void
columns_free(columns *c)
{
    free(c->t);
    for (int i = 0; i < 3; i++)
        free(c->v[i]);
}

static void
draw(sw_buf *b, const char *heading, const sw_chart *c)
{
    sw_buf_printf(b, NULL, "<figure class=\"chart\"><figcaption>%s</figcaption>", heading);
    sw_err err; /* only the buffer's cap can fail: the page's own check reports it */
    sw_chart_draw(b, c, &err);
    sw_buf_printf(b, NULL, "</figure>");
}

/* Budget burndown, availability, error rate, latency, request rate. */
static void
put_charts(sw_buf *b, const sw_web_series *s, const marks *m, columns *col)
{
    size_t n = s->n_buckets;
    for (size_t i = 0; i < n; i++)
        col->t[i] = s->buckets[i].start_ms + s->range.bucket_ms; /* values at the bucket's end */
    for (size_t i = 0; i < n; i++) {
        col->v[0][i] = s->buckets[i].budget_left * 100;
        col->v[1][i] = s->buckets[i].budget_ideal * 100;
    }
    sw_chart c = chart_over(s, m, "Error budget left", "%");
    sw_chart_series budget[] = {{"budget left", col->t, col->v[0], n},
                                {"ideal (even spend)", col->t, col->v[1], n}};
    sw_chart_threshold zero[] = {{"exhausted", 0}};
    c.series = budget;
    c.n_series = 2;
    c.thresholds = zero;
    c.n_thresholds = 1;
    draw(b, "Error budget left against the ideal line", &c);

    for (size_t i = 0; i < n; i++) {
        col->v[0][i] = s->buckets[i].availability * 100;
        col->v[1][i] = s->buckets[i].error_rate * 100;
    }
    c = chart_over(s, m, "Availability", "%");
    sw_chart_series avail[] = {{"availability", col->t, col->v[0], n}};
    sw_chart_threshold avail_target[] = {{"target", s->availability_target * 100}};
    c.series = avail;
    c.n_series = 1;
    c.thresholds = avail_target;
    c.n_thresholds = isfinite(s->availability_target) ? 1 : 0;
    draw(b, "Availability", &c);
    c = chart_over(s, m, "Error rate", "%");
    sw_chart_series errors[] = {{"error rate", col->t, col->v[1], n}};
    c.series = errors;
    c.n_series = 1;
    c.include_zero = true;
    draw(b, "Error rate", &c);

    for (size_t i = 0; i < n; i++) {
        col->v[0][i] = s->buckets[i].p50_us / 1000;
        col->v[1][i] = s->buckets[i].p95_us / 1000;
        col->v[2][i] = s->buckets[i].p99_us / 1000;
    }
    c = chart_over(s, m, "Latency", "ms");
    sw_chart_series lat[] = {{"P50", col->t, col->v[0], n},
                             {"P95", col->t, col->v[1], n},
                             {"P99", col->t, col->v[2], n}};
    sw_chart_threshold lat_targets[2];
    size_t nt = 0;
    if (isfinite(s->p95_target_us))
        lat_targets[nt++] = (sw_chart_threshold){"P95 objective", s->p95_target_us / 1000};
    if (isfinite(s->p99_target_us))
        lat_targets[nt++] = (sw_chart_threshold){"P99 objective", s->p99_target_us / 1000};
    c.series = lat;
    c.n_series = 3;
    c.thresholds = lat_targets;
    c.n_thresholds = nt;
    c.include_zero = true;
    draw(b, "Latency percentiles (each bucket's merged histogram)", &c);

    for (size_t i = 0; i < n; i++)
        col->v[0][i] = s->buckets[i].rate_rps;
    c = chart_over(s, m, "Request rate", "req/s");
    sw_chart_series rate[] = {{"requests per second", col->t, col->v[0], n}};
    c.series = rate;
    c.n_series = 1;
    c.include_zero = true;
    draw(b, "Request rate", &c);
}

/* ------------------------------------------------------------------ tables */

static void
put_ms(sw_buf *b, const char *id, double us)
{
    sw_buf_printf(b, NULL, "<td id=\"%s\">", id);
    if (isfinite(us))
        sw_buf_printf(b, NULL, "%.4g ms", us / 1000);
    else
        sw_buf_printf(b, NULL, "—");
    sw_buf_printf(b, NULL, "</td>");
}

static void
put_range_figures(sw_buf *b, const sw_web_series *s)
{
    sw_buf_printf(b, NULL,
                  "<div class=\"scroll\"><table id=\"range-figures\"><caption class=\"muted\">"
                  "The whole range, every environment, maintenance left out; percentiles of "
                  "the range's merged histogram</caption><thead><tr>"
                  "<th scope=\"col\">Requests</th><th scope=\"col\">Errors</th>"
                  "<th scope=\"col\">Availability</th><th scope=\"col\">P50</th>"
                  "<th scope=\"col\">P95</th><th scope=\"col\">P99</th>"
                  "<th scope=\"col\">Budget left</th></tr></thead><tbody><tr>"
                  "<td id=\"range-requests\">%llu</td><td id=\"range-errors\">%llu</td>",
                  (unsigned long long)s->requests, (unsigned long long)s->errors);
    if (s->requests > 0)
        sw_buf_printf(b, NULL, "<td id=\"range-availability\">%.3f%%</td>",
                      100.0 * (double)(s->requests - s->errors) / (double)s->requests);
    else
        sw_buf_printf(b, NULL, "<td id=\"range-availability\">—</td>");
    put_ms(b, "range-p50", s->p50_us);
    put_ms(b, "range-p95", s->p95_us);
    put_ms(b, "range-p99", s->p99_us);
    if (isfinite(s->budget_left))
        sw_buf_printf(b, NULL, "<td id=\"range-budget\">%.1f%%</td>", s->budget_left * 100);
    else
        sw_buf_printf(b, NULL, "<td id=\"range-budget\">—</td>");
    sw_buf_printf(b, NULL, "</tr></tbody></table></div>");
}

static void
put_timeline(sw_buf *b, const sw_web_series *s)
{
    if (s->n_events == 0 && s->n_deployments == 0 && s->n_maint == 0) {
        sw_buf_printf(b, NULL,
                      "<p>No deployments, alerts, triggers or maintenance in this "
                      "range.</p>");
        return;
    }
    sw_buf_printf(b, NULL,
                  "<div class=\"scroll\"><table id=\"timeline\"><thead><tr>"
                  "<th scope=\"col\">At</th><th scope=\"col\">What</th>"
                  "<th scope=\"col\">Env</th></tr></thead><tbody>");
    for (size_t i = 0; i < s->n_deployments; i++) {
        sw_buf_printf(b, NULL, "<tr><td>");
        sw_web_put_time(b, s->deployments[i].at_ms);
        sw_buf_printf(b, NULL, "</td><td>▼ deployment");
        if (s->deployments[i].policy_override[0] != '\0') {
            sw_buf_printf(b, NULL, " (policy override ");
            sw_web_put_text(b, s->deployments[i].policy_override);
            sw_buf_printf(b, NULL, ")");
        }
        sw_buf_printf(b, NULL, "</td><td>");
        sw_web_put_text(b, s->deployments[i].env);
        sw_buf_printf(b, NULL, "</td></tr>");
    }
    for (size_t i = 0; i < s->n_events; i++) {
        const sw_web_event *e = &s->events[i];
        bool firing = strcmp(e->state, "firing") == 0;
        sw_buf_printf(b, NULL, "<tr><td>");
        sw_web_put_time(b, e->at_ms);
        sw_buf_printf(b, NULL, "</td><td class=\"%s\">%s ", firing ? "bad" : "ok",
                      firing ? "▲" : "△");
        sw_web_put_text(b, e->kind);
        sw_buf_printf(b, NULL, " ");
        sw_web_put_text(b, e->name);
        sw_buf_printf(b, NULL, " ");
        sw_web_put_text(b, e->state);
        sw_buf_printf(b, NULL, "</td><td>");
        sw_web_put_text(b, e->env);
        sw_buf_printf(b, NULL, "</td></tr>");
    }
    for (size_t i = 0; i < s->n_maint; i++) {
        sw_buf_printf(b, NULL, "<tr><td>");
        sw_web_put_time(b, s->maint[i].from_ms);
        sw_buf_printf(b, NULL, "</td><td>▒ maintenance until ");
        sw_web_put_time(b, s->maint[i].to_ms);
        sw_buf_printf(b, NULL, " ");
        sw_web_put_text(b, s->maint[i].reason);
        sw_buf_printf(b, NULL, "</td><td>—</td></tr>");
    }
    sw_buf_printf(b, NULL, "</tbody></table></div>");
}

/* ------------------------------------------------------------------ the page */

/* The rules the store recorded as in force at at_ms (what the reports judge by), or NULL. */
static sw_rules *
recorded_rules(sw_store *st, int64_t at_ms, sw_err *err)
{
    char *text;
    size_t len;
    int64_t since;
    if (sw_store_rules_at(st, at_ms, &text, &len, &since, err) != SW_OK)
        return NULL;
    sw_rules *rules = NULL;
    sw_rules_load_mem(text, len, "recorded rules", &rules, NULL, err);
    free(text);
    return rules;
}

static void
put_history(const sw_api_hooks *h, sw_buf *b, const sw_web_series *s)
{
    marks m = {0};
    columns col = {0};
    if (!marks_build(s, &m) || !columns_new(&col, s->n_buckets)) {
        sw_buf_printf(b, NULL, "<p class=\"error\">Out of memory drawing the charts.</p>");
    } else {
        sw_buf_printf(b, NULL,
                      "<section aria-labelledby=\"range-h\"><h2 id=\"range-h\">The "
                      "range</h2>");
        put_range_figures(b, s);
        sw_buf_printf(b, NULL,
                      "</section><section aria-labelledby=\"charts-h\">"
                      "<h2 id=\"charts-h\">Over time</h2><p class=\"muted\">Every "
                      "environment together; hover a point for its value. Marks: "
                      "deployments, gate decisions, alerts and triggers; shaded: "
                      "maintenance.</p>");
        put_charts(b, s, &m, &col);
        sw_buf_printf(b, NULL,
                      "</section><section aria-labelledby=\"timeline-h\">"
                      "<h2 id=\"timeline-h\">Deployments, alerts and triggers</h2>");
        put_timeline(b, s);
        sw_buf_printf(b, NULL, "</section>");
    }
    marks_free(&m);
    columns_free(&col);
    sw_buf_printf(b, NULL,
                  "<section aria-labelledby=\"decisions-h\"><h2 id=\"decisions-h\">"
                  "Gate decisions</h2>");
    sw_err err;
    if (sw_web_gate_decisions(h, b, s->service, s->range.from_ms, s->range.to_ms, "in this range",
                              &err) != SW_OK) {
        sw_buf_printf(b, NULL, "<p class=\"error\">");
        sw_web_put_text(b, err.msg);
        sw_buf_printf(b, NULL, "</p>");
    }
    sw_buf_printf(b, NULL, "</section>");
}

/* A label value as the sources admit it: at most 1024 bytes. */
#define LABEL_VALUE_MAX 1025

typedef struct page_request {
    char service[SW_WEB_PARAM_MAX], env[SW_WEB_PARAM_MAX];
    char range[32], from[64], to[64];
    char label[SW_WEB_PARAM_MAX], value[LABEL_VALUE_MAX]; /* a by service's value; "" */
    char key[SW_WEB_PARAM_MAX * 2 + LABEL_VALUE_MAX];     /* the series (sw_rules_by_key) */
} page_request;

static bool
parse_request(const sw_api_hooks *h, const sw_http_request *req, sw_http_response *resp,
              page_request *p)
{
    if (!sw_web_param(h, req, resp, "name", p->service, sizeof p->service) ||
        !sw_web_param(h, req, resp, "env", p->env, sizeof p->env) ||
        !sw_web_param(h, req, resp, "range", p->range, sizeof p->range) ||
        !sw_web_param(h, req, resp, "from", p->from, sizeof p->from) ||
        !sw_web_param(h, req, resp, "to", p->to, sizeof p->to))
        return false;
    if (p->service[0] == '\0') {
        sw_web_error_page(h, resp, 400, "Bad request", "Give the service: ?name=SERVICE.");
        return false;
    }
    if (p->range[0] == '\0')
        snprintf(p->range, sizeof p->range, "1d");
    return true;
}

/*
 * A service judged per label value is asked about one value with the label as a parameter
 * (?name=checkout&route=/pay), as the gate is: p->key becomes that value's series. False after
 * an error page (no value given, or one without a series).
 */
static bool
value_series(const sw_api_hooks *h, const sw_http_request *req, sw_http_response *resp,
             const sw_snapshot *s, page_request *p)
{
    snprintf(p->key, sizeof p->key, "%s", p->service);
    const char *label = sw_snapshot_by_label(s, p->service);
    if (label == NULL)
        return true;
    snprintf(p->label, sizeof p->label, "%s", label);
    if (!sw_web_param(h, req, resp, p->label, p->value, sizeof p->value))
        return false;
    char detail[SW_WEB_PARAM_MAX * 6 + 200];
    if (p->value[0] == '\0') {
        snprintf(detail, sizeof detail,
                 "'%s' is judged per value of %s: give one (?name=%s&%s=VALUE); the overview "
                 "links each.",
                 p->service, p->label, p->service, p->label);
        sw_web_error_page(h, resp, 400, "Which value?", detail);
        return false;
    }
    sw_rules_by_key(p->service, p->label, p->value, strlen(p->value), p->key, sizeof p->key);
    if (sw_snapshot_gate_known(s, p->key, p->env[0] ? p->env : NULL, 0) ==
        SW_SNAPSHOT_UNKNOWN_ENV) {
        snprintf(detail, sizeof detail, "'%s' has no series for that %s%s%s.", p->service, p->label,
                 p->env[0] ? " in environment " : "", p->env);
        sw_web_error_page(h, resp, 404, "Unknown value", detail);
        return false;
    }
    return true;
}

/* The page's top: the series now, from the snapshot; false after an error page. */
static bool
put_now(const sw_api_hooks *h, const sw_http_request *req, sw_http_response *resp, page_request *p,
        const sw_web_range *r)
{
    sw_snapshot *s = h->snapshot(h->ctx);
    if (s == NULL) {
        sw_web_error_page(h, resp, 503, "Starting", "No evaluation has run yet.");
        return false;
    }
    if (!series_known(h, resp, s, p->service, p->env) || !value_series(h, req, resp, s, p)) {
        sw_snapshot_unref(s);
        return false;
    }
    sw_buf *b = &resp->body;
    char title[sizeof p->key + SW_WEB_PARAM_MAX + 8];
    snprintf(title, sizeof title, "%s%s%s%s%s%s", p->service, p->label[0] ? " " : "", p->label,
             p->label[0] ? "=" : "", p->value, p->env[0] ? " · " : "");
    snprintf(title + strlen(title), sizeof title - strlen(title), "%s", p->env);
    sw_web_page_open(h, b, title, "");
    page_series ps = {p->service, p->label, p->value};
    put_env_nav(b, s, &ps, p->env, p->range);
    put_range_nav(b, &ps, p->env, r->name);
    sw_buf_printf(b, NULL, "<p class=\"muted\">From ");
    sw_web_put_time(b, r->from_ms);
    sw_buf_printf(b, NULL, " to ");
    sw_web_put_time(b, r->to_ms);
    sw_buf_printf(b, NULL, "</p><section aria-labelledby=\"now-h\"><h2 id=\"now-h\">Now</h2>");
    const sw_buf *status;
    if (sw_snapshot_status(s, &status) != SW_SNAPSHOT_FOUND ||
        !sw_web_overview_series(b, (const char *)status->data, status->len, p->service, p->value,
                                p->env))
        sw_buf_printf(b, NULL, "<p>No results for this series yet.</p>");
    sw_snapshot_unref(s);
    sw_buf_printf(b, NULL, "</section>");
    return true;
}

void
sw_web_handle_service(void *ctx, const sw_http_request *req, sw_http_response *resp)
{
    const sw_api_hooks *h = ctx;
    page_request p = {0};
    if (!sw_web_begin(h, req, resp) || !parse_request(h, req, resp, &p))
        return;
    int64_t now = h->now(h->ctx);
    sw_web_range r;
    sw_err err;
    int64_t keep = h->store_keep_ms > 0 ? h->store_keep_ms : INT64_MAX / 4;
    sw_status st = sw_web_range_parse(p.range, p.from[0] ? p.from : NULL, p.to[0] ? p.to : NULL,
                                      now, 0, keep, &r, &err);
    if (st != SW_OK) {
        sw_web_error_page(h, resp, 400, "Bad range", err.msg);
        return;
    }
    if (!put_now(h, req, resp, &p, &r))
        return;
    sw_buf *b = &resp->body;
    sw_rules *rules = h->store != NULL ? recorded_rules(h->store, now, &err) : NULL;
    sw_web_series *s = NULL;
    if (rules == NULL || sw_web_series_load(h->store, rules, p.key, &r, &s, &err) != SW_OK) {
        sw_buf_printf(b, NULL, "<p class=\"error\">The history could not be read: ");
        sw_web_put_text(b, h->store != NULL ? err.msg : "this server keeps no store");
        sw_buf_printf(b, NULL, "</p>");
    } else {
        put_history(h, b, s);
    }
    sw_web_series_free(s);
    sw_rules_free(rules);
    sw_web_page_close(b);
}
