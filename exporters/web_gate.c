/*
 * GET /gate: the stored gate decisions (the audits the daemon writes, daemon/daemon_audit.c),
 * newest first: service, environment, verdict, reason, checks and caller, filtered by service
 * and by how far back, each linked to the service's page around that time.
 */
#include "web_int.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slawatch/units.h"

#define SHOWN_MAX 200 /* decisions on one page: the latest ones */
#define DAY_MS (24 * 3600 * 1000LL)

typedef struct decision {
    int64_t at_ms, window_ms;
    char *who, *service, *env, *verdict, *json;
} decision;

/* The latest SHOWN_MAX decisions visited, as a ring. */
typedef struct collect {
    const char *service; /* "" for every service */
    decision ring[SHOWN_MAX];
    size_t next, n;
    uint64_t matched;
    bool nomem;
} collect;

static void
decision_free(decision *d)
{
    free(d->who);
    free(d->service);
    free(d->env);
    free(d->verdict);
    free(d->json);
    *d = (decision){0};
}

static char *
dup_or_empty(const char *s)
{
    return strdup(s != NULL ? s : "");
}

static sw_status
visit(void *ctx, const sw_store_gate_audit *a, sw_err *err)
{
    (void)err;
    collect *c = ctx;
    if (c->service[0] != '\0' && strcmp(c->service, a->service) != 0)
        return SW_OK;
    c->matched++;
    decision *d = &c->ring[c->next];
    decision_free(d);
    *d = (decision){.at_ms = a->at_ms,
                    .window_ms = a->window_ms,
                    .who = dup_or_empty(a->who),
                    .service = dup_or_empty(a->service),
                    .env = dup_or_empty(a->env),
                    .verdict = dup_or_empty(a->verdict),
                    .json = dup_or_empty(a->checks_json)};
    if (!d->who || !d->service || !d->env || !d->verdict || !d->json) {
        decision_free(d);
        c->nomem = true;
        return SW_E_NOMEM;
    }
    c->next = (c->next + 1) % SHOWN_MAX;
    if (c->n < SHOWN_MAX)
        c->n++;
    return SW_OK;
}

static void
put_verdict(sw_buf *b, const char *v)
{
    bool pass = strcmp(v, "pass") == 0, fail = strcmp(v, "fail") == 0;
    sw_buf_printf(b, NULL, "<span class=\"verdict %s\">%s ",
                  pass   ? "met"
                  : fail ? "missed"
                         : "noverdict",
                  pass   ? "✔"
                  : fail ? "✖"
                         : "○");
    sw_web_put_text(b, v);
    sw_buf_printf(b, NULL, "</span>");
}

static void
put_number(sw_buf *b, const cJSON *v)
{
    if (cJSON_IsNumber(v))
        sw_buf_printf(b, NULL, "%.6g", v->valuedouble);
    else
        sw_buf_printf(b, NULL, "—");
}

/* The reason and checks of a stored verdict document. */
static void
put_reason_checks(sw_buf *b, const char *json)
{
    cJSON *doc = cJSON_Parse(json);
    const cJSON *reason = cJSON_GetObjectItemCaseSensitive(doc, "reason");
    sw_buf_printf(b, NULL, "<td class=\"reason\">");
    if (cJSON_IsString(reason))
        sw_web_put_text(b, reason->valuestring);
    const cJSON *ov = cJSON_GetObjectItemCaseSensitive(doc, "policy_override");
    if (cJSON_IsString(ov)) {
        sw_buf_printf(b, NULL, " policy override ");
        sw_web_put_text(b, ov->valuestring);
    }
    sw_buf_printf(b, NULL, "</td><td class=\"checks\"><ul class=\"objs\">");
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(doc, "checks"))
    {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(c, "name");
        const cJSON *passed = cJSON_GetObjectItemCaseSensitive(c, "passed");
        const cJSON *op = cJSON_GetObjectItemCaseSensitive(c, "op");
        sw_buf_printf(b, NULL, "<li>%s ",
                      cJSON_IsTrue(passed)    ? "<span class=\"met\">✔</span>"
                      : cJSON_IsFalse(passed) ? "<span class=\"missed\">✖</span>"
                                              : "<span class=\"noverdict\">○</span>");
        sw_web_put_text(b, cJSON_IsString(name) ? name->valuestring : "?");
        sw_buf_printf(b, NULL, " ");
        put_number(b, cJSON_GetObjectItemCaseSensitive(c, "measured"));
        sw_buf_printf(b, NULL, " ");
        sw_web_put_text(b, cJSON_IsString(op) ? op->valuestring : "");
        sw_buf_printf(b, NULL, " ");
        put_number(b, cJSON_GetObjectItemCaseSensitive(c, "threshold"));
        sw_buf_printf(b, NULL, "</li>");
    }
    sw_buf_printf(b, NULL, "</ul></td>");
    cJSON_Delete(doc);
}

/* The service's page over the 6 hours around the decision: for one value of a service judged
 * per label value (the answer's "labels"), that value's page, named as the overview names it. */
static void
put_service_link(sw_buf *b, const decision *d, int64_t now_ms)
{
    cJSON *doc = cJSON_Parse(d->json);
    const cJSON *labels = cJSON_GetObjectItemCaseSensitive(doc, "labels");
    const cJSON *value =
        cJSON_IsObject(labels) && cJSON_IsString(labels->child) ? labels->child : NULL;
    char from[40], to[40];
    sw_units_format_time(d->at_ms - 3 * 3600 * 1000LL, from, sizeof from);
    /* A recent decision's hours after it have not come yet: the page refuses a future end. */
    int64_t to_ms = d->at_ms + 3 * 3600 * 1000LL;
    sw_units_format_time(to_ms < now_ms ? to_ms : now_ms, to, sizeof to);
    sw_buf_printf(b, NULL, "<a href=\"/service?name=");
    sw_web_put_query_value(b, d->service);
    if (d->env[0] != '\0') {
        sw_buf_printf(b, NULL, "&amp;env=");
        sw_web_put_query_value(b, d->env);
    }
    if (value != NULL) {
        sw_buf_printf(b, NULL, "&amp;");
        sw_web_put_query_value(b, value->string);
        sw_buf_printf(b, NULL, "=");
        sw_web_put_query_value(b, value->valuestring);
    }
    sw_buf_printf(b, NULL, "&amp;range=custom&amp;from=");
    sw_web_put_query_value(b, from);
    sw_buf_printf(b, NULL, "&amp;to=");
    sw_web_put_query_value(b, to);
    sw_buf_printf(b, NULL, "\">");
    sw_web_put_text(b, d->service);
    if (value != NULL) {
        sw_buf_printf(b, NULL, " <span class=\"label\">");
        sw_web_put_text(b, value->string);
        sw_buf_printf(b, NULL, "=");
        sw_web_put_text(b, value->valuestring);
        sw_buf_printf(b, NULL, "</span>");
    }
    sw_buf_printf(b, NULL, "</a>");
    cJSON_Delete(doc);
}

static void
put_decision(sw_buf *b, const decision *d, int64_t now_ms)
{
    sw_buf_printf(b, NULL, "<tr class=\"decision\"><td>");
    sw_web_put_time(b, d->at_ms);
    sw_buf_printf(b, NULL, "</td><th scope=\"row\">");
    put_service_link(b, d, now_ms);
    sw_buf_printf(b, NULL, "</th><td class=\"env\">");
    sw_web_put_text(b, d->env[0] ? d->env : "—");
    sw_buf_printf(b, NULL, "</td><td>");
    put_verdict(b, d->verdict);
    sw_buf_printf(b, NULL, "</td>");
    put_reason_checks(b, d->json);
    sw_buf_printf(b, NULL, "<td class=\"who opt\">");
    sw_web_put_text(b, d->who);
    sw_buf_printf(b, NULL, "</td></tr>");
}

static void
put_controls(sw_buf *b, const char *service, int days)
{
    sw_buf_printf(b, NULL,
                  "<form class=\"filters\" method=\"get\" action=\"/gate\">"
                  "<label for=\"service\">Service</label><input id=\"service\" "
                  "type=\"search\" name=\"service\" value=\"");
    sw_web_put_text(b, service);
    sw_buf_printf(b, NULL,
                  "\"><label for=\"days\">Days back</label><select id=\"days\" "
                  "name=\"days\">");
    static const int choices[] = {1, 7, 30, 90};
    for (size_t i = 0; i < sizeof choices / sizeof choices[0]; i++)
        sw_buf_printf(b, NULL, "<option value=\"%d\"%s>%d</option>", choices[i],
                      choices[i] == days ? " selected" : "", choices[i]);
    sw_buf_printf(b, NULL, "</select><button type=\"submit\">Apply</button></form>");
}

static void
put_table(sw_buf *b, const collect *c, const char *period, int64_t now_ms)
{
    sw_buf_printf(b, NULL,
                  "<p class=\"summary\"><span class=\"n-decisions\">%llu</span> decisions %s%s"
                  "</p>",
                  (unsigned long long)c->matched, period,
                  c->matched > c->n ? ", the latest shown" : "");
    if (c->n == 0)
        return;
    sw_buf_printf(b, NULL,
                  "<div class=\"scroll\"><table class=\"decisions\"><caption class=\"muted\">"
                  "Recorded gate answers, newest first (a caller's repeats are sampled)"
                  "</caption><thead><tr><th scope=\"col\">At</th><th scope=\"col\">Service</th>"
                  "<th scope=\"col\">Env</th><th scope=\"col\">Verdict</th>"
                  "<th scope=\"col\">Reason</th><th scope=\"col\">Checks</th>"
                  "<th scope=\"col\" class=\"opt\">Caller</th></tr></thead><tbody>");
    for (size_t i = 0; i < c->n; i++) /* newest first: backwards from the ring's end */
        put_decision(b, &c->ring[(c->next + SHOWN_MAX - 1 - i) % SHOWN_MAX], now_ms);
    sw_buf_printf(b, NULL, "</tbody></table></div>");
}

sw_status
sw_web_gate_decisions(const sw_api_hooks *h, sw_buf *b, const char *service, int64_t from_ms,
                      int64_t to_ms, const char *period, sw_err *err)
{
    collect *c = calloc(1, sizeof *c);
    if (c == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory");
    c->service = service;
    sw_status st = sw_store_gate_audits(h->store, from_ms, to_ms, visit, c, err);
    if (st == SW_OK)
        put_table(b, c, period, h->now(h->ctx));
    else if (c->nomem)
        st = sw_err_set(err, SW_E_NOMEM, "out of memory");
    for (size_t i = 0; i < SHOWN_MAX; i++)
        decision_free(&c->ring[i]);
    free(c);
    return st;
}

void
sw_web_handle_gate(void *ctx, const sw_http_request *req, sw_http_response *resp)
{
    const sw_api_hooks *h = ctx;
    char service[SW_WEB_PARAM_MAX], days_text[16];
    if (!sw_web_begin(h, req, resp) ||
        !sw_web_param(h, req, resp, "service", service, sizeof service) ||
        !sw_web_param(h, req, resp, "days", days_text, sizeof days_text))
        return;
    char *end;
    long days = days_text[0] ? strtol(days_text, &end, 10) : 7;
    if (days_text[0] && (*end != '\0' || days < 1 || days > 400)) {
        sw_web_error_page(h, resp, 400, "Bad request", "days must be a whole number, 1 to 400.");
        return;
    }
    if (h->store == NULL) {
        sw_web_error_page(h, resp, 404, "Not available", "This server keeps no gate decisions.");
        return;
    }
    int64_t now = h->now(h->ctx);
    sw_buf *b = &resp->body;
    sw_web_page_open(h, b, "Gate decisions", "/gate");
    put_controls(b, service, (int)days);
    char period[64];
    snprintf(period, sizeof period, "in the last %ld days", days);
    sw_err err;
    if (sw_web_gate_decisions(h, b, service, now - days * DAY_MS, now + 1, period, &err) != SW_OK) {
        sw_web_error_page(h, resp, 503, "Try again", err.msg);
        return;
    }
    sw_web_page_close(b);
}
