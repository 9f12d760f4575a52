/*
 * GET /service?name=S&env=E&range=R&end=T: one series over a range (1h, 6h, 1d, 7d, 30d, this
 * month, last month; ending at T, default now): its objectives now, and the gate decisions of
 * the range. Unknown service or environment: 404; unknown range or end: 400.
 */
#include "web_int.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "slawatch/units.h"

typedef struct range_choice {
    const char *name, *label;
    int64_t length_ms; /* 0: a calendar month */
    int months_back;   /* calendar months: 0 this month, 1 last month */
} range_choice;

static const range_choice ranges[] = {
    {"1h", "1 hour", 3600000LL, 0},
    {"6h", "6 hours", 6 * 3600000LL, 0},
    {"1d", "1 day", 24 * 3600000LL, 0},
    {"7d", "7 days", 7 * 24 * 3600000LL, 0},
    {"30d", "30 days", 30 * 24 * 3600000LL, 0},
    {"month", "this month", 0, 0},
    {"lastmonth", "last month", 0, 1},
};
#define N_RANGES (sizeof ranges / sizeof ranges[0])

static const range_choice *
range_named(const char *name)
{
    for (size_t i = 0; i < N_RANGES; i++)
        if (strcmp(ranges[i].name, name) == 0)
            return &ranges[i];
    return NULL;
}

/* The start of the UTC month holding ms, moved back months_back months. */
static int64_t
month_start(int64_t ms, int months_back)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    int m = (tm.tm_year + 1900) * 12 + tm.tm_mon - months_back;
    struct tm start = {.tm_year = m / 12 - 1900, .tm_mon = m % 12, .tm_mday = 1};
    return (int64_t)timegm(&start) * 1000;
}

/* [from, to) of the range ending at end_ms. */
static void
range_span(const range_choice *r, int64_t end_ms, int64_t *from, int64_t *to)
{
    if (r->length_ms > 0) {
        *from = end_ms - r->length_ms;
        *to = end_ms;
        return;
    }
    *from = month_start(end_ms, r->months_back);
    *to = r->months_back == 0 ? end_ms : month_start(end_ms, r->months_back - 1);
}

static void
put_page_link(sw_buf *b, const char *service, const char *env, const char *range)
{
    sw_buf_printf(b, NULL, "/service?name=");
    sw_web_put_query_value(b, service);
    if (env[0] != '\0') {
        sw_buf_printf(b, NULL, "&amp;env=");
        sw_web_put_query_value(b, env);
    }
    sw_buf_printf(b, NULL, "&amp;range=%s", range);
}

static void
put_range_nav(sw_buf *b, const char *service, const char *env, const range_choice *chosen)
{
    sw_buf_printf(b, NULL, "<nav aria-label=\"Range\" class=\"ranges\"><ul>");
    for (size_t i = 0; i < N_RANGES; i++) {
        sw_buf_printf(b, NULL, "<li><a href=\"");
        put_page_link(b, service, env, ranges[i].name);
        sw_buf_printf(b, NULL, "\"%s>%s</a></li>",
                      &ranges[i] == chosen ? " aria-current=\"page\"" : "", ranges[i].label);
    }
    sw_buf_printf(b, NULL, "</ul></nav>");
}

/* Links to the service's other environments. */
static void
put_env_nav(sw_buf *b, const sw_snapshot *s, const char *service, const char *env,
            const range_choice *r)
{
    cJSON *envs = cJSON_Parse(sw_snapshot_envs_json(s, service));
    if (cJSON_GetArraySize(envs) > 1) {
        sw_buf_printf(b, NULL, "<p>Environments: ");
        const cJSON *e;
        int i = 0;
        cJSON_ArrayForEach(e, envs)
        {
            if (!cJSON_IsString(e))
                continue;
            sw_buf_printf(b, NULL, "%s<a href=\"", i++ ? " · " : "");
            put_page_link(b, service, e->valuestring, r->name);
            sw_buf_printf(b, NULL, "\"%s>",
                          strcmp(e->valuestring, env) == 0 ? " aria-current=\"page\"" : "");
            sw_web_put_text(b, e->valuestring);
            sw_buf_printf(b, NULL, "</a>");
        }
        sw_buf_printf(b, NULL, "</p>");
    }
    cJSON_Delete(envs);
}

/* 404 or 400 when the snapshot does not know (service, env). */
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

static bool
parse_request(const sw_api_hooks *h, const sw_http_request *req, sw_http_response *resp,
              char *service, char *env, const range_choice **r, int64_t *end_ms)
{
    char range[32], end[64];
    if (!sw_web_param(h, req, resp, "name", service, SW_WEB_PARAM_MAX) ||
        !sw_web_param(h, req, resp, "env", env, SW_WEB_PARAM_MAX) ||
        !sw_web_param(h, req, resp, "range", range, sizeof range) ||
        !sw_web_param(h, req, resp, "end", end, sizeof end))
        return false;
    if (service[0] == '\0') {
        sw_web_error_page(h, resp, 400, "Bad request", "Give the service: ?name=SERVICE.");
        return false;
    }
    *r = range_named(range[0] ? range : "1d");
    if (*r == NULL) {
        sw_web_error_page(h, resp, 400, "Unknown range",
                          "range must be one of 1h, 6h, 1d, 7d, 30d, month, lastmonth.");
        return false;
    }
    *end_ms = h->now(h->ctx);
    if (end[0] != '\0') {
        int64_t t;
        if (!sw_units_parse_time_ms(end, strlen(end), &t) || t > *end_ms || t <= 0) {
            sw_web_error_page(h, resp, 400, "Bad end",
                              "end must be an RFC 3339 time, not in the future.");
            return false;
        }
        *end_ms = t;
    }
    return true;
}

void
sw_web_handle_service(void *ctx, const sw_http_request *req, sw_http_response *resp)
{
    const sw_api_hooks *h = ctx;
    char service[SW_WEB_PARAM_MAX], env[SW_WEB_PARAM_MAX];
    const range_choice *r;
    int64_t end_ms;
    if (!sw_web_begin(h, req, resp) || !parse_request(h, req, resp, service, env, &r, &end_ms))
        return;
    sw_snapshot *s = h->snapshot(h->ctx);
    if (s == NULL) {
        sw_web_error_page(h, resp, 503, "Starting", "No evaluation has run yet.");
        return;
    }
    const sw_buf *status = NULL;
    if (!series_known(h, resp, s, service, env)) {
        sw_snapshot_unref(s);
        return;
    }
    sw_buf *b = &resp->body;
    char title[2 * SW_WEB_PARAM_MAX + 8];
    snprintf(title, sizeof title, "%s%s%s", service, env[0] ? " · " : "", env);
    sw_web_page_open(h, b, title, "");
    put_env_nav(b, s, service, env, r);
    put_range_nav(b, service, env, r);
    int64_t from, to;
    range_span(r, end_ms, &from, &to);
    sw_buf_printf(b, NULL, "<p class=\"muted\">From ");
    sw_web_put_time(b, from);
    sw_buf_printf(b, NULL, " to ");
    sw_web_put_time(b, to);
    sw_buf_printf(b, NULL, "</p><section aria-labelledby=\"now\"><h2 id=\"now\">Now</h2>");
    if (sw_snapshot_status(s, &status) != SW_SNAPSHOT_FOUND ||
        !sw_web_overview_series(b, (const char *)status->data, status->len, service, env))
        sw_buf_printf(b, NULL, "<p>No results for this series yet.</p>");
    sw_snapshot_unref(s);
    sw_buf_printf(b, NULL,
                  "</section><section aria-labelledby=\"decisions\">"
                  "<h2 id=\"decisions\">Gate decisions</h2>");
    sw_err err;
    if (h->store != NULL &&
        sw_web_gate_decisions(h, b, service, from, to, "in this range", &err) != SW_OK) {
        sw_web_error_page(h, resp, 503, "Try again", err.msg);
        return;
    }
    sw_buf_printf(b, NULL, "</section>");
    sw_web_page_close(b);
}
