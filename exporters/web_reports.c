/*
 * GET /reports: the monthly report (GET /api/v1/report) of every month the store holds data
 * for, for all services and per service, in each format: one click away.
 */
#include "web_int.h"

#include "slawatch/rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MONTHS_MAX 36 /* the newest months listed */
#define SERVICES_MAX 2000

/* Each service with data and the start of its first stored day or hour. */
typedef struct firsts {
    char *names[SERVICES_MAX];
    int64_t first_ms[SERVICES_MAX];
    size_t n;
    bool nomem;
} firsts;

static sw_status
visit(void *ctx, const char *service, const char *env, const sw_sli_interval *iv, sw_err *err)
{
    (void)env;
    (void)err;
    firsts *f = ctx;
    /* A label value's rows count for its service: the service's report lists every value. */
    sw_rules_by_parts by;
    size_t len = sw_rules_by_split(service, &by) ? by.service_len : strlen(service);
    for (size_t i = 0; i < f->n; i++)
        if (strncmp(f->names[i], service, len) == 0 && f->names[i][len] == '\0') {
            if (iv->start_ms < f->first_ms[i])
                f->first_ms[i] = iv->start_ms;
            return SW_OK;
        }
    if (f->n == SERVICES_MAX)
        return SW_OK;
    if ((f->names[f->n] = strndup(service, len)) == NULL) {
        f->nomem = true;
        return SW_E_NOMEM;
    }
    f->first_ms[f->n++] = iv->start_ms;
    return SW_OK;
}

static int
by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Month index (year * 12 + month - 1) of a UTC time. */
static int
month_index(int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    return (tm.tm_year + 1900) * 12 + tm.tm_mon;
}

static void
put_links(sw_buf *b, int month, const char *service)
{
    static const char *const formats[] = {"html", "md", "csv", "json"};
    char m[16];
    snprintf(m, sizeof m, "%04d-%02d", month / 12, month % 12 + 1);
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
        sw_buf_printf(b, NULL, "%s<a href=\"/api/v1/report?month=%s&amp;format=%s", i ? " · " : "",
                      m, formats[i]);
        if (service != NULL) {
            sw_buf_printf(b, NULL, "&amp;service=");
            sw_web_put_query_value(b, service);
        }
        sw_buf_printf(b, NULL, "\">%s</a>", i == 0 ? m : formats[i]);
    }
}

/* Every service on one line: the all-services HTML report's portfolio section. */
static void
put_portfolio_link(sw_buf *b, int month)
{
    sw_buf_printf(b, NULL,
                  " · <a class=\"portfolio\" href=\"/api/v1/report?month=%04d-%02d&amp;"
                  "format=html#portfolio\">portfolio</a>",
                  month / 12, month % 12 + 1);
}

static void
put_page(sw_buf *b, firsts *f, int now_month)
{
    if (f->n == 0) {
        sw_buf_printf(b, NULL,
                      "<p>The store holds no data yet: reports appear once a day of "
                      "data has been rolled up.</p>");
        return;
    }
    int earliest = now_month;
    for (size_t i = 0; i < f->n; i++)
        if (month_index(f->first_ms[i]) < earliest)
            earliest = month_index(f->first_ms[i]);
    qsort(f->names, f->n, sizeof f->names[0], by_name); /* first_ms is not read after this */
    if (earliest < now_month - MONTHS_MAX + 1)
        earliest = now_month - MONTHS_MAX + 1;
    sw_buf_printf(b, NULL,
                  "<p>Each month's SLA report, judged by the rules in force that month "
                  "(UTC months; the current month is a partial report).</p>"
                  "<div class=\"scroll\"><table id=\"reports\"><thead><tr>"
                  "<th scope=\"col\">Month</th><th scope=\"col\">Every service</th>");
    for (size_t i = 0; i < f->n; i++) {
        sw_buf_printf(b, NULL, "<th scope=\"col\">");
        sw_web_put_text(b, f->names[i]);
        sw_buf_printf(b, NULL, "</th>");
    }
    sw_buf_printf(b, NULL, "</tr></thead><tbody>");
    for (int m = now_month; m >= earliest; m--) {
        sw_buf_printf(b, NULL, "<tr><th scope=\"row\">%04d-%02d</th><td>", m / 12, m % 12 + 1);
        put_links(b, m, NULL);
        put_portfolio_link(b, m);
        sw_buf_printf(b, NULL, "</td>");
        for (size_t i = 0; i < f->n; i++) {
            sw_buf_printf(b, NULL, "<td>");
            put_links(b, m, f->names[i]);
            sw_buf_printf(b, NULL, "</td>");
        }
        sw_buf_printf(b, NULL, "</tr>");
    }
    sw_buf_printf(b, NULL, "</tbody></table></div>");
}

void
sw_web_handle_reports(void *ctx, const sw_http_request *req, sw_http_response *resp)
{
    const sw_api_hooks *h = ctx;
    if (!sw_web_begin(h, req, resp))
        return;
    if (h->store == NULL || h->report == NULL) {
        sw_web_error_page(h, resp, 404, "Not available", "This server serves no reports.");
        return;
    }
    firsts *f = calloc(1, sizeof *f);
    if (f == NULL) {
        sw_web_error_page(h, resp, 503, "Try again", "Out of memory.");
        return;
    }
    int64_t now = h->now(h->ctx);
    sw_err err;
    /* Days for the history; hours, minutes and base intervals for what is not rolled up into
     * coarser rows yet (counts only: nothing decoded). */
    const struct {
        int64_t resolution_ms, back_ms;
    } levels[] = {{SW_STORE_1D_MS, now},
                  {SW_STORE_1H_MS, 2 * SW_STORE_1D_MS},
                  {SW_STORE_1M_MS, 2 * SW_STORE_1H_MS},
                  {h->base_interval_ms, 2 * SW_STORE_1H_MS}};
    sw_status st = SW_OK;
    for (size_t i = 0; i < sizeof levels / sizeof levels[0] && st == SW_OK; i++)
        if (levels[i].resolution_ms > 0)
            st = sw_store_scan_level(h->store, NULL, levels[i].resolution_ms,
                                     now - levels[i].back_ms, now, false, visit, f, &err);
    if (st != SW_OK) {
        sw_web_error_page(h, resp, 503, "Try again", f->nomem ? "Out of memory." : err.msg);
    } else {
        sw_web_page_open(h, &resp->body, "Monthly reports", "/reports");
        put_page(&resp->body, f, month_index(now));
        sw_web_page_close(&resp->body);
    }
    for (size_t i = 0; i < f->n; i++)
        free(f->names[i]);
    free(f);
}
