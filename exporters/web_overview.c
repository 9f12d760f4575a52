/*
 * GET /: every series (service and environment) with its objectives' measured values against
 * their targets, verdicts, error budgets left, burn rates, firing alerts, latched triggers,
 * gate verdict and data coverage, worst first. Rendered from the snapshot's status document,
 * the same answer /api/v1/status serves, so the page and the API never disagree.
 */
#include "web_int.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "slawatch/units.h"

typedef struct series_row {
    const cJSON *s;
    const char *name, *env;
    const char *label, *value; /* one value of the service's by label ("route", "/pay"); "" */
    double min_budget;         /* INFINITY when no objective has a budget */
    int missed, firing;
} series_row;

static double
number_of(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const char *
string_of(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* ------------------------------------------------------------------ numbers */

/* A fraction as a percentage, at most 3 decimals, trailing zeros dropped. */
static void
put_percent(sw_buf *b, double v)
{
    char t[48];
    snprintf(t, sizeof t, "%.3f", v * 100.0);
    char *dot = strchr(t, '.');
    if (dot != NULL) {
        char *end = t + strlen(t);
        while (end > dot + 1 && end[-1] == '0')
            *--end = '\0';
        if (end == dot + 1)
            *dot = '\0';
    }
    sw_buf_printf(b, NULL, "%s%%", t);
}

static bool
is_ratio(const char *sli)
{
    return strcmp(sli, "availability") == 0 || strcmp(sli, "error_rate") == 0 ||
           strcmp(sli, "health_success") == 0 || strcmp(sli, "throughput") == 0;
}

/* A measured value or target in the unit its SLI has (base units: fractions, microseconds). */
static void
put_value(sw_buf *b, const char *sli, double v)
{
    if (!isfinite(v))
        sw_buf_printf(b, NULL, "—");
    else if (is_ratio(sli))
        put_percent(b, v);
    else if (sli[0] == 'p' && sli[1] >= '0' && sli[1] <= '9')
        sw_buf_printf(b, NULL, v >= 1e7 ? "%.4g s" : "%.4g ms", v >= 1e7 ? v / 1e6 : v / 1e3);
    else
        sw_buf_printf(b, NULL, "%.0f", v);
}

static const char *
op_symbol(const char *op)
{
    return strcmp(op, "<=") == 0 ? "≤" : strcmp(op, ">=") == 0 ? "≥" : op;
}

/* ------------------------------------------------------------------ cells */

static void
put_verdict(sw_buf *b, const cJSON *o)
{
    const cJSON *met = cJSON_GetObjectItemCaseSensitive(o, "met");
    if (cJSON_IsTrue(met))
        sw_buf_printf(b, NULL, "<span class=\"verdict met\">✔ met</span>");
    else if (cJSON_IsFalse(met))
        sw_buf_printf(b, NULL, "<span class=\"verdict missed\">✖ missed</span>");
    else
        sw_buf_printf(b, NULL, "<span class=\"verdict noverdict\">○ no verdict</span>");
}

static void
put_budget(sw_buf *b, double budget)
{
    if (!isfinite(budget)) {
        sw_buf_printf(b, NULL, "<span class=\"budget muted\">no budget yet</span>");
        return;
    }
    double width = budget < 0 ? 0 : budget > 1 ? 100 : budget * 100;
    sw_buf_printf(b, NULL,
                  "<span class=\"bar\" aria-hidden=\"true\"><span%s style=\"width:%.1f%%\">"
                  "</span></span><span class=\"budget\">%.1f%%</span> budget left",
                  budget < 0.25 ? " class=\"low\"" : "", width, budget * 100);
}

/* ------------------------------------------------------------------ burn rates */

/* The factors a burn rate over a window is marked with: from the objective's burn-rate alerts
 * over that window (their `long`), else over the nearest window an alert of it watches;
 * page from critical alerts, ticket from the others (the lowest factor of each). NAN: none. */
typedef struct burn_marks {
    double page, ticket;
    int64_t long_ms; /* the alerts' window; -1 without any */
} burn_marks;

static int64_t
duration_of(const cJSON *obj, const char *name)
{
    const char *text = string_of(obj, name);
    int64_t ms;
    return sw_units_parse_duration_ms(text, strlen(text), &ms) ? ms : -1;
}

static bool
is_burn_alert_of(const cJSON *a, const char *objective)
{
    return isfinite(number_of(a, "burn_rate")) && duration_of(a, "long") > 0 &&
           strcmp(string_of(a, "objective"), objective) == 0;
}

static int64_t
distance(int64_t a, int64_t b)
{
    return a > b ? a - b : b - a;
}

static int64_t
nearest_long(const cJSON *series, const char *objective, int64_t window_ms)
{
    int64_t best = -1;
    const cJSON *a;
    cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(series, "alerts"))
    {
        int64_t l = is_burn_alert_of(a, objective) ? duration_of(a, "long") : -1;
        if (l > 0 && (best < 0 || distance(l, window_ms) < distance(best, window_ms)))
            best = l;
    }
    return best;
}

static burn_marks
marks_for(const cJSON *series, const char *objective, int64_t window_ms)
{
    int64_t l = nearest_long(series, objective, window_ms);
    burn_marks m = {NAN, NAN, l};
    const cJSON *a;
    cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(series, "alerts"))
    {
        if (!is_burn_alert_of(a, objective) || duration_of(a, "long") != l)
            continue;
        double f = number_of(a, "burn_rate");
        double *slot = strcmp(string_of(a, "severity"), "critical") == 0 ? &m.page : &m.ticket;
        if (isnan(*slot) || f < *slot)
            *slot = f;
    }
    return m;
}

static void
put_burn(sw_buf *b, const cJSON *series, const cJSON *o, const char *window)
{
    char field[32];
    snprintf(field, sizeof field, "burn_rate_%s", window);
    double burn = number_of(o, field);
    int64_t window_ms;
    sw_units_parse_duration_ms(window, strlen(window), &window_ms);
    sw_buf_printf(b, NULL, strcmp(window, "1h") == 0 ? "" : " · ");
    if (!isfinite(burn)) {
        sw_buf_printf(
            b, NULL,
            "<span class=\"burn muted\" data-window=\"%s\" title=\"no data in the window, "
            "or none kept that far back\">burn %s —</span>",
            window, window);
        return;
    }
    burn_marks m = marks_for(series, string_of(o, "name"), window_ms);
    bool fast = isfinite(m.page) && burn >= m.page;
    bool slow = !fast && isfinite(m.ticket) && burn >= m.ticket;
    const char *cls = fast ? "bad" : slow ? "warn" : "ok";
    sw_buf_printf(b, NULL, "<span class=\"burn %s\" data-window=\"%s\" title=\"", cls, window);
    if (isfinite(m.page))
        sw_buf_printf(b, NULL, "page alert at %g×", m.page);
    if (isfinite(m.ticket))
        sw_buf_printf(b, NULL, "%sticket alert at %g×", isfinite(m.page) ? ", " : "", m.ticket);
    if (m.long_ms > 0) {
        char over[40];
        sw_units_format_duration(m.long_ms, over, sizeof over);
        sw_buf_printf(b, NULL, " over %s", over);
    } else {
        sw_buf_printf(b, NULL, "no burn-rate alert on this objective");
    }
    sw_buf_printf(b, NULL, "\">burn %s <span class=\"burn-value\">%.2f</span>×%s</span>", window,
                  burn,
                  fast   ? " ▲ fast"
                  : slow ? " ▲ slow"
                         : "");
}

static void
put_objective(sw_buf *b, const cJSON *series, const cJSON *o)
{
    const char *sli = string_of(o, "sli");
    sw_buf_printf(b, NULL, "<li>");
    put_verdict(b, o);
    sw_buf_printf(b, NULL, " <strong>");
    sw_web_put_text(b, string_of(o, "name"));
    sw_buf_printf(b, NULL, "</strong> <span class=\"measured\">");
    put_value(b, sli, number_of(o, "measured"));
    sw_buf_printf(b, NULL, "</span> %s ", op_symbol(string_of(o, "op")));
    put_value(b, sli, number_of(o, "target"));
    sw_buf_printf(b, NULL, " <span class=\"muted\">(");
    sw_web_put_text(b, string_of(o, "window"));
    sw_buf_printf(b, NULL, "%s)</span><br>",
                  cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "so_far")) ? ", so far" : "");
    put_budget(b, number_of(o, "budget_remaining"));
    sw_buf_printf(b, NULL, "<br>");
    put_burn(b, series, o, "1h");
    put_burn(b, series, o, "6h");
    put_burn(b, series, o, "1d");
    sw_buf_printf(b, NULL, "</li>");
}

static void
put_alerts(sw_buf *b, const cJSON *s)
{
    int n = 0;
    const cJSON *a;
    cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(s, "alerts"))
    {
        const char *state = string_of(a, "state");
        if (strcmp(state, "firing") != 0 && strcmp(state, "pending") != 0)
            continue;
        bool firing = strcmp(state, "firing") == 0;
        sw_buf_printf(b, NULL, "%s<span class=\"alert %s\">%s %s ", n++ ? "<br>" : "",
                      firing ? "bad" : "warn", firing ? "▲ firing" : "△ pending", "");
        sw_web_put_text(b, string_of(a, "name"));
        sw_buf_printf(b, NULL, " (");
        sw_web_put_text(b, string_of(a, "severity"));
        sw_buf_printf(b, NULL, ")</span>");
    }
    if (n == 0)
        sw_buf_printf(b, NULL, "<span class=\"muted\">none</span>");
}

static void
put_triggers(sw_buf *b, const cJSON *s)
{
    int n = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(s, "triggers"))
    {
        if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, "fired")))
            continue;
        sw_buf_printf(b, NULL, "%s<span class=\"trigger bad\">■ latched ", n++ ? "<br>" : "");
        sw_web_put_text(b, string_of(t, "name"));
        sw_buf_printf(b, NULL, "</span>");
    }
    if (n == 0)
        sw_buf_printf(b, NULL, "<span class=\"muted\">none</span>");
}

static void
put_gate(sw_buf *b, const cJSON *s)
{
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(s, "gate");
    const char *v = string_of(g, "verdict");
    const char *cls = strcmp(v, "pass") == 0   ? "met"
                      : strcmp(v, "fail") == 0 ? "missed"
                                               : "noverdict";
    const char *icon = strcmp(v, "pass") == 0 ? "✔" : strcmp(v, "fail") == 0 ? "✖" : "○";
    sw_buf_printf(b, NULL, "<span class=\"gate %s\">%s ", cls, icon);
    sw_web_put_text(b, v[0] ? v : "none");
    sw_buf_printf(b, NULL, "</span>");
    const char *reason = string_of(g, "reason");
    if (reason[0] != '\0') {
        sw_buf_printf(b, NULL, "<br><span class=\"muted reason\">");
        sw_web_put_text(b, reason);
        sw_buf_printf(b, NULL, "</span>");
    }
}

static void
put_series_link(sw_buf *b, const series_row *r)
{
    sw_buf_printf(b, NULL, "<a href=\"/service?name=");
    sw_web_put_query_value(b, r->name);
    if (r->env[0] != '\0') {
        sw_buf_printf(b, NULL, "&amp;env=");
        sw_web_put_query_value(b, r->env);
    }
    if (r->label[0] != '\0') { /* the value's own page: ?name=checkout&route=/pay */
        sw_buf_printf(b, NULL, "&amp;");
        sw_web_put_query_value(b, r->label);
        sw_buf_printf(b, NULL, "=");
        sw_web_put_query_value(b, r->value);
    }
    sw_buf_printf(b, NULL, "\">");
    sw_web_put_text(b, r->name);
    if (r->label[0] != '\0') {
        sw_buf_printf(b, NULL, " <span class=\"label\">");
        sw_web_put_text(b, r->label);
        sw_buf_printf(b, NULL, "=");
        sw_web_put_text(b, r->value);
        sw_buf_printf(b, NULL, "</span>");
    }
    sw_buf_printf(b, NULL, "</a>");
}

static void
put_row(sw_buf *b, const series_row *r)
{
    sw_buf_printf(b, NULL, "<tr class=\"series\"><th scope=\"row\">");
    put_series_link(b, r);
    sw_buf_printf(b, NULL, "</th><td class=\"env\">");
    sw_web_put_text(b, r->env[0] ? r->env : "—");
    sw_buf_printf(b, NULL, "</td><td><ul class=\"objs\">");
    const cJSON *o;
    cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(r->s, "objectives"))
        put_objective(b, r->s, o);
    sw_buf_printf(b, NULL, "</ul></td><td class=\"alerts\">");
    put_alerts(b, r->s);
    sw_buf_printf(b, NULL, "</td><td class=\"triggers\">");
    put_triggers(b, r->s);
    sw_buf_printf(b, NULL, "</td><td class=\"gatecell\">");
    put_gate(b, r->s);
    sw_buf_printf(b, NULL, "</td><td class=\"coverage opt\">");
    double cov = number_of(r->s, "coverage");
    if (isfinite(cov))
        put_percent(b, cov);
    else
        sw_buf_printf(b, NULL, "—");
    sw_buf_printf(b, NULL, "</td></tr>");
}

/* ------------------------------------------------------------------ rows, order, filter */

static bool
contains(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay != '\0'; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return true;
    return n == 0;
}

static bool
matches(const series_row *r, const char *filter)
{
    if (filter[0] == '\0' || contains(r->name, filter) || contains(r->env, filter) ||
        contains(r->value, filter))
        return true;
    const cJSON *o;
    cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(r->s, "objectives"))
    {
        if (contains(string_of(o, "name"), filter))
            return true;
    }
    return false;
}

static series_row
row_of(const cJSON *s)
{
    series_row r = {.s = s,
                    .name = string_of(s, "name"),
                    .env = string_of(s, "env"),
                    .label = "",
                    .value = "",
                    .min_budget = INFINITY};
    const cJSON *labels = cJSON_GetObjectItemCaseSensitive(s, "labels");
    if (cJSON_IsObject(labels) && cJSON_IsString(labels->child)) {
        r.label = labels->child->string;
        r.value = labels->child->valuestring;
    }
    const cJSON *o;
    cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(s, "objectives"))
    {
        double budget = number_of(o, "budget_remaining");
        if (isfinite(budget) && budget < r.min_budget)
            r.min_budget = budget;
        r.missed += cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(o, "met"));
    }
    const cJSON *a;
    cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(s, "alerts"))
    {
        r.firing += strcmp(string_of(a, "state"), "firing") == 0;
    }
    return r;
}

static int
by_name(const series_row *a, const series_row *b)
{
    int c = strcmp(a->name, b->name);
    if (c == 0)
        c = strcmp(a->value, b->value);
    return c != 0 ? c : strcmp(a->env, b->env);
}

static int
by_budget(const series_row *a, const series_row *b)
{
    if (a->min_budget != b->min_budget)
        return a->min_budget < b->min_budget ? -1 : 1;
    return by_name(a, b);
}

static int
cmp_worst(const void *pa, const void *pb)
{
    const series_row *a = pa, *b = pb;
    if (a->missed != b->missed)
        return b->missed - a->missed;
    if (a->firing != b->firing)
        return b->firing - a->firing;
    return by_budget(a, b);
}

static int
cmp_budget(const void *pa, const void *pb)
{
    return by_budget(pa, pb);
}

static int
cmp_name(const void *pa, const void *pb)
{
    return by_name(pa, pb);
}

static void
put_controls(sw_buf *b, const char *filter, sw_web_order order)
{
    static const char *const names[] = {"worst", "budget", "name"};
    static const char *const labels[] = {"worst first", "least budget left", "name"};
    sw_buf_printf(b, NULL,
                  "<form class=\"filters\" method=\"get\" action=\"/\" role=\"search\">"
                  "<label for=\"q\">Filter</label><input id=\"q\" type=\"search\" "
                  "name=\"q\" placeholder=\"service, env or objective\" value=\"");
    sw_web_put_text(b, filter);
    sw_buf_printf(b, NULL,
                  "\"><label for=\"sort\">Sort by</label><select id=\"sort\" "
                  "name=\"sort\">");
    for (int i = 0; i < 3; i++)
        sw_buf_printf(b, NULL, "<option value=\"%s\"%s>%s</option>", names[i],
                      (int)order == i ? " selected" : "", labels[i]);
    sw_buf_printf(b, NULL, "</select><button type=\"submit\">Apply</button></form>");
}

static void
put_table(sw_buf *b, series_row *rows, size_t n, size_t shown_of)
{
    int missed = 0, firing = 0;
    for (size_t i = 0; i < n; i++) {
        missed += rows[i].missed;
        firing += rows[i].firing;
    }
    sw_buf_printf(b, NULL,
                  "<p class=\"summary\"><span id=\"n-series\">%zu</span> of %zu series shown · "
                  "<span id=\"n-missed\">%d</span> objectives missed · "
                  "<span id=\"n-firing\">%d</span> alerts firing</p>",
                  n, shown_of, missed, firing);
    sw_buf_printf(
        b, NULL,
        "<div class=\"scroll\"><table id=\"overview\"><caption class=\"muted\">Each "
        "series' objectives: measured against target, verdict, error budget left and "
        "its burn rates over 1 hour, 6 hours and 1 day (▲ fast at or above a page alert's "
        "factor over that window, ▲ slow at a ticket alert's)</caption><thead><tr>"
        "<th scope=\"col\">Service</th><th scope=\"col\">Env</th>"
        "<th scope=\"col\">Objectives</th><th scope=\"col\">Alerts</th>"
        "<th scope=\"col\">Triggers</th><th scope=\"col\">Gate</th>"
        "<th scope=\"col\" class=\"opt\">Coverage</th></tr></thead><tbody>");
    for (size_t i = 0; i < n; i++)
        put_row(b, &rows[i]);
    sw_buf_printf(b, NULL, "</tbody></table></div>");
}

bool
sw_web_overview_series(sw_buf *b, const char *status, size_t len, const char *service,
                       const char *value, const char *env)
{
    cJSON *doc = cJSON_ParseWithLength(status, len);
    const cJSON *s;
    bool found = false;
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(doc, "services"))
    {
        series_row r = row_of(s);
        if (strcmp(r.name, service) == 0 && strcmp(r.value, value) == 0 &&
            strcmp(r.env, env) == 0) {
            put_table(b, &r, 1, 1);
            found = true;
            break;
        }
    }
    cJSON_Delete(doc);
    return found;
}

sw_status
sw_web_overview_render(const char *status, size_t len, const char *filter, sw_web_order order,
                       sw_buf *b, sw_err *err)
{
    cJSON *doc = cJSON_ParseWithLength(status, len);
    const cJSON *services = cJSON_GetObjectItemCaseSensitive(doc, "services");
    if (!cJSON_IsArray(services)) {
        cJSON_Delete(doc);
        return sw_err_set(err, SW_E_PARSE, "the status document has no services list");
    }
    size_t total = (size_t)cJSON_GetArraySize(services), n = 0;
    series_row *rows = calloc(total ? total : 1, sizeof *rows);
    if (rows == NULL) {
        cJSON_Delete(doc);
        return sw_err_set(err, SW_E_NOMEM, "out of memory");
    }
    const cJSON *s;
    cJSON_ArrayForEach(s, services)
    {
        series_row r = row_of(s);
        if (matches(&r, filter))
            rows[n++] = r;
    }
    int (*cmp)(const void *, const void *) = order == SW_WEB_ORDER_BUDGET ? cmp_budget
                                             : order == SW_WEB_ORDER_NAME ? cmp_name
                                                                          : cmp_worst;
    qsort(rows, n, sizeof *rows, cmp);
    const char *at = string_of(doc, "at");
    sw_buf_printf(b, NULL, "<p class=\"muted\">Evaluated at ");
    int64_t at_ms;
    if (sw_units_parse_time_ms(at, strlen(at), &at_ms))
        sw_web_put_time(b, at_ms);
    else
        sw_web_put_text(b, at);
    sw_buf_printf(b, NULL, "</p>");
    put_controls(b, filter, order);
    put_table(b, rows, n, total);
    free(rows);
    cJSON_Delete(doc);
    /* Appends past the cap are dropped whole; a page that came this close lost some. */
    return b->max - b->len > 4096 ? SW_OK
                                  : sw_err_set(err, SW_E_TOOBIG, "the page is over the size cap");
}

/* The status document of the current snapshot (a reference the caller releases), or NULL
 * with an error page answered. */
static sw_snapshot *
current_status(const sw_api_hooks *h, sw_http_response *resp, const sw_buf **ret)
{
    for (int attempt = 0; attempt < 8; attempt++) {
        sw_snapshot *s = h->snapshot(h->ctx);
        if (s == NULL) {
            sw_web_error_page(h, resp, 503, "Starting",
                              "No evaluation has run yet: this page fills in after the first "
                              "base interval.");
            return NULL;
        }
        sw_snapshot_lookup l = sw_snapshot_status(s, ret);
        if (l == SW_SNAPSHOT_FOUND)
            return s;
        sw_snapshot_unref(s);
        if (l != SW_SNAPSHOT_STALE)
            break;
    }
    sw_web_error_page(h, resp, 503, "Try again", "The status could not be computed just now.");
    return NULL;
}

void
sw_web_handle_overview(void *ctx, const sw_http_request *req, sw_http_response *resp)
{
    const sw_api_hooks *h = ctx;
    char filter[SW_WEB_PARAM_MAX], sort[32];
    if (!sw_web_begin(h, req, resp) || !sw_web_param(h, req, resp, "q", filter, sizeof filter) ||
        !sw_web_param(h, req, resp, "sort", sort, sizeof sort))
        return;
    sw_web_order order = SW_WEB_ORDER_WORST;
    if (strcmp(sort, "budget") == 0)
        order = SW_WEB_ORDER_BUDGET;
    else if (strcmp(sort, "name") == 0)
        order = SW_WEB_ORDER_NAME;
    else if (sort[0] != '\0' && strcmp(sort, "worst") != 0) {
        sw_web_error_page(h, resp, 400, "Bad request", "sort must be worst, budget or name.");
        return;
    }
    const sw_buf *status;
    sw_snapshot *s = current_status(h, resp, &status);
    if (s == NULL)
        return;
    sw_buf *b = &resp->body;
    sw_web_page_open(h, b, "Service levels", "/");
    sw_err err;
    sw_status st =
        sw_web_overview_render((const char *)status->data, status->len, filter, order, b, &err);
    sw_snapshot_unref(s);
    if (st != SW_OK) {
        sw_web_error_page(h, resp, 500, "Error", err.msg);
        return;
    }
    sw_web_page_close(b);
}
