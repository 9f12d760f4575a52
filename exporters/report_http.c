/*
 * The report route: parameters are checked here (hostile input, each 400 naming the
 * parameter), the report is built through the hooks (the daemon's store, its clock) and written
 * straight into the response body. Runs on the HTTP pool threads; nothing is shared.
 */
#include "slawatch/report_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slawatch/api.h"
#include "slawatch/http_query.h"
#include "slawatch/report.h"
#include "slawatch/report_cache.h"
#include "slawatch/report_tz.h"

#define PARAM_MAX 256
#define SERVICE_MAX 128

typedef struct report_query {
    char month[PARAM_MAX], format[PARAM_MAX], tz[PARAM_MAX];
    char names[SW_REPORT_HTTP_MAX_SERVICES][SERVICE_MAX];
    const char *services[SW_REPORT_HTTP_MAX_SERVICES];
    size_t n_services;
} report_query;

static bool
param(const char *query, const char *name, char *out, size_t cap, sw_http_response *resp)
{
    switch (sw_http_query_get(query, name, out, cap)) {
    case SW_HTTP_QUERY_FOUND:
        return true;
    case SW_HTTP_QUERY_ABSENT:
        out[0] = '\0';
        return true;
    case SW_HTTP_QUERY_MALFORMED:
        break;
    }
    sw_http_response_error(resp, 400,
                           "query parameter %s is malformed (bad %%-escape, NUL or longer than "
                           "%zu bytes)",
                           name, cap - 1);
    return false;
}

/* One service= value, split at commas ("api,web" names two). */
static bool
add_services(report_query *q, char *value, sw_http_response *resp)
{
    for (char *save = NULL, *s = strtok_r(value, ",", &save); s != NULL;
         s = strtok_r(NULL, ",", &save)) {
        if (q->n_services == SW_REPORT_HTTP_MAX_SERVICES) {
            sw_http_response_error(resp, 400, "more than %d services in one request",
                                   SW_REPORT_HTTP_MAX_SERVICES);
            return false;
        }
        snprintf(q->names[q->n_services], SERVICE_MAX, "%s", s);
        q->services[q->n_services] = q->names[q->n_services];
        q->n_services++;
    }
    return true;
}

/* Every service= pair: sw_http_query_get finds only the first, so ask each pair alone. */
static bool
services_param(const char *query, report_query *q, sw_http_response *resp)
{
    char pair[PARAM_MAX * 4], value[SERVICE_MAX];
    for (const char *p = query; *p != '\0';) {
        size_t n = strcspn(p, "&");
        if (n < sizeof pair) {
            memcpy(pair, p, n);
            pair[n] = '\0';
            if (!param(pair, "service", value, sizeof value, resp))
                return false;
            if (value[0] != '\0' && !add_services(q, value, resp))
                return false;
        } else if (strncmp(p, "service=", 8) == 0) {
            sw_http_response_error(resp, 400, "query parameter service is too long");
            return false;
        }
        p += n + (p[n] == '&');
    }
    return true;
}

static bool
parse_query(const sw_http_request *req, report_query *q, sw_report_request *rr,
            sw_report_format *ret_format, sw_http_response *resp)
{
    if (!param(req->query, "month", q->month, sizeof q->month, resp) ||
        !param(req->query, "format", q->format, sizeof q->format, resp) ||
        !param(req->query, "tz", q->tz, sizeof q->tz, resp) || !services_param(req->query, q, resp))
        return false;
    sw_err err = {0};
    if (q->month[0] == '\0') {
        sw_http_response_error(resp, 400, "missing query parameter month (YYYY-MM)");
        return false;
    }
    if (sw_report_parse_month(q->month, &rr->year, &rr->month, &err) != SW_OK) {
        sw_http_response_error(resp, 400, "%s", err.msg);
        return false;
    }
    *ret_format = SW_REPORT_HTML;
    if (q->format[0] != '\0' && !sw_report_parse_format(q->format, ret_format)) {
        sw_http_response_error(resp, 400, "format '%.64s' is not html, md, json or csv", q->format);
        return false;
    }
    /* Loaded once here only to tell a bad zone (400) from a month that cannot be judged. */
    sw_report_tz *tz = NULL;
    if (sw_report_tz_load(q->tz, &tz, &err) != SW_OK) {
        sw_http_response_error(resp, err.code == SW_E_NOMEM ? 500 : 400, "tz: %s", err.msg);
        return false;
    }
    sw_report_tz_free(tz);
    rr->tz = q->tz;
    rr->services = q->services;
    rr->n_services = q->n_services;
    return true;
}

static int
status_of(sw_status s)
{
    switch (s) {
    case SW_E_RANGE:
        return 404;
    case SW_E_INVAL:
        return 422;
    default:
        return 500;
    }
}

/* Everything the document depends on: month, format, zone, the services (in the order asked:
 * the report lists them so) and the rules version. */
static bool
cache_key(const sw_api_hooks *h, const report_query *q, const sw_report_request *rr,
          sw_report_format f, sw_buf *key)
{
    bool ok = sw_buf_printf(key, NULL, "%04d-%02d|%d|%s|%llu|", rr->year, rr->month, (int)f, q->tz,
                            (unsigned long long)h->rules_version(h->ctx)) == SW_OK;
    for (size_t i = 0; ok && i < q->n_services; i++)
        ok = sw_buf_printf(key, NULL, "%s,", q->services[i]) == SW_OK;
    return ok && sw_buf_cstr(key, NULL) != NULL;
}

static void
serve_report(const sw_api_hooks *h, sw_report_request *rr, sw_report_format f,
             sw_http_response *resp)
{
    rr->now_ms = h->now(h->ctx);
    sw_err err = {0};
    sw_report *rep = NULL;
    sw_status s = h->report(h->ctx, rr, &rep, &err);
    sw_buf_reset(&resp->body);
    if (s == SW_OK)
        s = sw_report_write(rep, f, &resp->body, &err);
    if (s == SW_OK) {
        resp->status = 200;
        resp->content_type = sw_report_content_type(f);
    } else {
        /* Built but not written: the response cap or memory, the server's side. */
        sw_http_response_error(resp, rep != NULL ? 500 : status_of(s), "%s", err.msg);
    }
    sw_report_free(rep);
}

void
sw_report_http_handle(void *ctx, const sw_http_request *req, sw_http_response *resp)
{
    const sw_api_hooks *h = ctx;
    report_query *q = calloc(1, sizeof *q); /* ~10 KiB: kept off the pool thread's stack */
    if (q == NULL) {
        sw_http_response_error(resp, 500, "out of memory");
        return;
    }
    sw_report_request rr = {0};
    sw_report_format f;
    sw_buf key;
    sw_buf_init(&key, SW_REPORT_HTTP_MAX_SERVICES * SERVICE_MAX + PARAM_MAX * 2);
    /* Parameters first, so the API fuzzer (no store behind it) still reaches the parsing. */
    if (parse_query(req, q, &rr, &f, resp)) {
        bool keyed = h->report_cache != NULL && cache_key(h, q, &rr, f, &key);
        bool hit = keyed && h->report != NULL &&
                   sw_report_cache_get(h->report_cache, (const char *)key.data, h->now(h->ctx),
                                       &resp->body, &resp->content_type);
        if (h->report == NULL)
            sw_http_response_error(resp, 404, "reports are not served here");
        else if (!hit)
            serve_report(h, &rr, f, resp);
        if (keyed && !hit && resp->status == 200)
            sw_report_cache_put(h->report_cache, (const char *)key.data, h->now(h->ctx),
                                resp->body.data, resp->body.len, resp->content_type);
    }
    sw_buf_fini(&key);
    free(q);
}
