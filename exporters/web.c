/*
 * The web UI's frame: the token check (header, cookie, `?token=`, the login form), the page
 * layout every page shares, escaping, the error page, and the embedded stylesheet and script.
 * The pages themselves are in web_overview.c, web_gate.c, web_reports.c and web_service.c.
 */
#include "web_int.h"

#include <stdio.h>
#include <string.h>

#include "slawatch/chart.h"
#include "slawatch/http_query.h"
#include "slawatch/units.h"

#define COOKIE_NAME "slawatch_token"
#define TOKEN_MAX 512
#define HTML "text/html; charset=utf-8"

/* ------------------------------------------------------------------ escaping */

/* The charts' escaping, for every text of a page. */
void
sw_web_put_text(sw_buf *b, const char *s)
{
    (void)sw_chart_escape(b, s, NULL);
}

void
sw_web_put_query_value(sw_buf *b, const char *s)
{
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            strchr("-._~", c) != NULL)
            sw_buf_append(b, s, 1, NULL);
        else
            sw_buf_printf(b, NULL, "%%%02X", c);
    }
}

void
sw_web_put_time(sw_buf *b, int64_t ms)
{
    char iso[40], shown[40];
    sw_units_format_time(ms, iso, sizeof iso);
    snprintf(shown, sizeof shown, "%.10s %.8s UTC", iso, iso + 11);
    sw_buf_printf(b, NULL, "<time datetime=\"%s\">%s</time>", iso, shown);
}

/* ------------------------------------------------------------------ the frame */

static const struct {
    const char *path, *label;
} nav[] = {{"/", "Overview"}, {"/gate", "Gate decisions"}, {"/reports", "Reports"}};

void
sw_web_page_open(const sw_api_hooks *h, sw_buf *b, const char *title, const char *active)
{
    /* Pages refresh once per base interval, when new results can have been published. */
    long long refresh_s = h->base_interval_ms > 0 ? h->base_interval_ms / 1000 : 60;
    if (refresh_s < 5)
        refresh_s = 5;
    sw_buf_printf(b, NULL,
                  "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                  "<meta name=\"color-scheme\" content=\"light dark\">"
                  "<meta name=\"referrer\" content=\"no-referrer\">"
                  "<meta http-equiv=\"refresh\" content=\"%lld\"><title>",
                  refresh_s);
    sw_web_put_text(b, title);
    sw_buf_printf(
        b, NULL,
        " · slawatch</title><link rel=\"icon\" href=\"data:,\"><link rel=\"stylesheet\" "
        "href=\"/ui/slawatch.css\">"
        "<script src=\"/ui/slawatch.js\" defer></script></head><body>"
        "<header><a class=\"brand\" href=\"/\">slawatch</a><nav aria-label=\"Main\"><ul>");
    for (size_t i = 0; i < sizeof nav / sizeof nav[0]; i++)
        sw_buf_printf(b, NULL, "<li><a href=\"%s\"%s>%s</a></li>", nav[i].path,
                      strcmp(active, nav[i].path) == 0 ? " aria-current=\"page\"" : "",
                      nav[i].label);
    sw_buf_printf(b, NULL, "</ul></nav></header><main id=\"main\"><h1>");
    sw_web_put_text(b, title);
    sw_buf_printf(b, NULL, "</h1>");
}

void
sw_web_page_close(sw_buf *b)
{
    sw_buf_printf(b, NULL,
                  "</main><footer><p>slawatch · <a href=\"/api/v1/status\">status JSON</a> · "
                  "<a href=\"/metrics\">metrics</a></p></footer></body></html>\n");
}

static void
start_html(sw_http_response *resp, int status)
{
    resp->status = status;
    resp->content_type = HTML;
    sw_buf_reset(&resp->body);
}

void
sw_web_error_page(const sw_api_hooks *h, sw_http_response *resp, int status, const char *what,
                  const char *detail)
{
    start_html(resp, status);
    sw_web_page_open(h, &resp->body, what, "");
    sw_buf_printf(&resp->body, NULL, "<p class=\"error\" role=\"alert\">");
    sw_web_put_text(&resp->body, detail);
    sw_buf_printf(&resp->body, NULL, "</p><p><a href=\"/\">Back to the overview</a></p>");
    sw_web_page_close(&resp->body);
}

bool
sw_web_param(const sw_api_hooks *h, const sw_http_request *req, sw_http_response *resp,
             const char *name, char *out, size_t cap)
{
    switch (sw_http_query_get(req->query, name, out, cap)) {
    case SW_HTTP_QUERY_FOUND:
        return true;
    case SW_HTTP_QUERY_ABSENT:
        out[0] = '\0';
        return true;
    case SW_HTTP_QUERY_MALFORMED:
        break;
    }
    char detail[160];
    snprintf(detail, sizeof detail,
             "The query parameter %s is malformed (a bad %%-escape, a NUL, or longer than %zu "
             "bytes).",
             name, cap - 1);
    sw_web_error_page(h, resp, 400, "Bad request", detail);
    return false;
}

/* ------------------------------------------------------------------ the token */

/* The cookie's value is the token in hex: any byte of a token fits a cookie that way. */
static void
hex_of(const char *s, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", (unsigned char)s[i]);
    out[2 * n] = '\0';
}

static int
hex_digit(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static bool
cookie_token_ok(const sw_http_request *req)
{
    const char *c = req->cookie;
    while (c != NULL && *c != '\0') {
        c += strspn(c, " ");
        size_t n = strcspn(c, ";");
        if (n > sizeof COOKIE_NAME && strncmp(c, COOKIE_NAME "=", sizeof COOKIE_NAME) == 0) {
            const char *v = c + sizeof COOKIE_NAME;
            size_t vn = n - sizeof COOKIE_NAME;
            char token[TOKEN_MAX];
            if (vn % 2 != 0 || vn / 2 >= sizeof token)
                return false;
            for (size_t i = 0; i < vn / 2; i++) {
                int hi = hex_digit(v[2 * i]), lo = hex_digit(v[2 * i + 1]);
                if (hi < 0 || lo < 0)
                    return false;
                token[i] = (char)(hi * 16 + lo);
            }
            return sw_http_token_matches(req, token, vn / 2);
        }
        c += n;
        c += *c == ';';
    }
    return false;
}

static void
set_cookie(sw_http_response *resp, const char *token)
{
    char hex[2 * TOKEN_MAX + 1];
    hex_of(token, strlen(token), hex);
    sw_http_response_header(resp, "Set-Cookie", "%s=%s; HttpOnly; SameSite=Strict; Path=/",
                            COOKIE_NAME, hex);
}

/* A page that sends the browser on to next (a local path) once the cookie is set. */
static void
signed_in_page(const sw_api_hooks *h, sw_http_response *resp, const char *token, const char *next)
{
    start_html(resp, 200);
    set_cookie(resp, token);
    sw_buf *b = &resp->body;
    sw_buf_printf(b, NULL,
                  "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                  "<meta name=\"referrer\" content=\"no-referrer\">"
                  "<meta http-equiv=\"refresh\" content=\"0; url=");
    sw_web_put_text(b, next);
    sw_buf_printf(b, NULL,
                  "\"><title>Signed in · slawatch</title><link rel=\"icon\" "
                  "href=\"data:,\"></head><body><main>"
                  "<p>Signed in. <a href=\"");
    sw_web_put_text(b, next);
    sw_buf_printf(b, NULL, "\">Continue</a></p></main></body></html>\n");
    (void)h;
}

static void
login_page(const sw_api_hooks *h, const sw_http_request *req, sw_http_response *resp,
           const char *message)
{
    start_html(resp, 401);
    sw_buf *b = &resp->body;
    sw_web_page_open(h, b, "Sign in", "");
    if (message != NULL) {
        sw_buf_printf(b, NULL, "<p class=\"error\" role=\"alert\">");
        sw_web_put_text(b, message);
        sw_buf_printf(b, NULL, "</p>");
    }
    sw_buf_printf(b, NULL,
                  "<p>This slawatch asks for its bearer token.</p>"
                  "<form method=\"post\" action=\"/login\"><input type=\"hidden\" name=\"next\" "
                  "value=\"");
    sw_web_put_text(b, req->path[0] == '/' && strcmp(req->path, "/login") != 0 ? req->path : "/");
    sw_buf_printf(b, NULL,
                  "\"><label for=\"token\">Bearer token</label> "
                  "<input id=\"token\" name=\"token\" type=\"password\" "
                  "autocomplete=\"current-password\" required> "
                  "<button type=\"submit\">Sign in</button></form>");
    sw_web_page_close(b);
}

/* The header, the cookie, or `?token=` (which sets the cookie and sends the browser on to
 * the path without it, so the token leaves the address bar). */
bool
sw_web_begin(const sw_api_hooks *h, const sw_http_request *req, sw_http_response *resp)
{
    start_html(resp, 200);
    if (!sw_http_token_required(req) || sw_http_token_matches(req, NULL, 0) || cookie_token_ok(req))
        return true;
    char token[TOKEN_MAX];
    if (sw_http_query_get(req->query, "token", token, sizeof token) == SW_HTTP_QUERY_FOUND) {
        if (sw_http_token_matches(req, token, strlen(token))) {
            signed_in_page(h, resp, token, req->path);
            return false;
        }
        login_page(h, req, resp, "That token is not the one configured.");
        return false;
    }
    login_page(h, req, resp, NULL);
    return false;
}

/* A local path to go on to: one slash, then no second one (no other host). */
static bool
local_path(const char *p)
{
    return p[0] == '/' && p[1] != '/' && p[1] != '\\' && strpbrk(p, "\r\n") == NULL;
}

void
sw_web_handle_login(void *ctx, const sw_http_request *req, sw_http_response *resp)
{
    const sw_api_hooks *h = ctx;
    char form[2 * TOKEN_MAX + SW_WEB_PARAM_MAX + 32], token[TOKEN_MAX],
        next[SW_WEB_PARAM_MAX] = "/";
    size_t n = req->body_len < sizeof form - 1 ? req->body_len : sizeof form - 1;
    if (n > 0)
        memcpy(form, req->body, n);
    form[n] = '\0';
    if (sw_http_query_get(form, "next", next, sizeof next) != SW_HTTP_QUERY_FOUND ||
        !local_path(next))
        snprintf(next, sizeof next, "/");
    if (!sw_http_token_required(req)) {
        signed_in_page(h, resp, "", next);
        resp->header_name = NULL;
        return;
    }
    if (sw_http_query_get(form, "token", token, sizeof token) != SW_HTTP_QUERY_FOUND ||
        !sw_http_token_matches(req, token, strlen(token))) {
        login_page(h, req, resp, "That token is not the one configured.");
        return;
    }
    signed_in_page(h, resp, token, next);
}

/* ------------------------------------------------------------------ embedded assets */

/* One palette for both schemes; the browser test checks every text/background pair for
 * WCAG AA contrast (4.5:1). */
static const char css[] =
    ":root{--bg:#ffffff;--fg:#1b1f24;--muted:#4d5560;--line:#c9ced6;--head:#eef1f5;"
    "--link:#0b57b0;--ok:#146c2e;--bad:#b3261e;--warn:#8a5300;--none:#4d5560;"
    "--bar:#dde2e8;--barfill:#146c2e;--barlow:#b3261e}\n"
    "@media (prefers-color-scheme:dark){:root{--bg:#121417;--fg:#e6e9ed;--muted:#aab2bd;"
    "--line:#3a4049;--head:#1d2127;--link:#8ab4f8;--ok:#6dd58c;--bad:#ff8a80;--warn:#f6c26b;"
    "--none:#aab2bd;--bar:#2c323a;--barfill:#6dd58c;--barlow:#ff8a80}}\n"
    "*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,sans-serif;"
    "background:var(--bg);color:var(--fg)}\n"
    "header{display:flex;flex-wrap:wrap;gap:1em;align-items:center;padding:.6em 1em;"
    "border-bottom:1px solid var(--line);background:var(--head)}\n"
    "header nav ul{display:flex;flex-wrap:wrap;gap:1em;list-style:none;margin:0;padding:0}\n"
    ".brand{font-weight:700;text-decoration:none}a{color:var(--link)}"
    "a[aria-current]{font-weight:700}\n"
    "main{padding:1em;max-width:90em}h1{font-size:1.4em;margin:.2em 0 .6em}\n"
    "footer{padding:1em;color:var(--muted);border-top:1px solid var(--line)}\n"
    "table{border-collapse:collapse;width:100%}th,td{text-align:left;vertical-align:top;"
    "padding:.35em .5em;border-bottom:1px solid var(--line)}th{background:var(--head)}\n"
    ".scroll{overflow-x:auto}ul.objs{list-style:none;margin:0;padding:0}"
    "ul.objs li{margin-bottom:.4em}.label{overflow-wrap:anywhere}.burn{white-space:nowrap}\n"
    ".met{color:var(--ok)}.missed{color:var(--bad)}.noverdict{color:var(--none)}"
    ".warn{color:var(--warn)}.bad{color:var(--bad)}.ok{color:var(--ok)}"
    ".muted{color:var(--muted)}.error{color:var(--bad);font-weight:600}\n"
    ".bar{display:inline-block;width:6em;height:.7em;background:var(--bar);"
    "border:1px solid var(--line);vertical-align:middle;margin-right:.4em}"
    ".bar span{display:block;height:100%;background:var(--barfill)}"
    ".bar span.low{background:var(--barlow)}\n"
    "form.filters{display:flex;flex-wrap:wrap;gap:.6em;align-items:end;margin-bottom:1em}"
    "form.filters label{display:flex;flex-direction:column;font-size:.9em}\n"
    "input,select,button{font:inherit;color:var(--fg);background:var(--bg);"
    "border:1px solid var(--line);padding:.25em .4em}\n"
    "nav.ranges ul{display:flex;flex-wrap:wrap;gap:.3em 1em;list-style:none;padding:0}\n"
    "figure.chart{margin:1em 0}figure.chart svg{max-width:100%;height:auto}"
    "figcaption{font-weight:600}h2{font-size:1.15em;margin-top:1.4em}\n"
    "@media (max-width:40em){th.opt,td.opt{display:none}main{padding:.5em}}\n";

/* Progressive enhancement only: the filter form submits itself while typing. */
static const char js[] = "\"use strict\";\n"
                         "document.addEventListener('DOMContentLoaded',function(){\n"
                         "  var f=document.querySelector('form.filters');if(!f)return;\n"
                         "  var q=f.querySelector('input[type=search]');var t=null;\n"
                         "  if(q)q.addEventListener('input',function(){clearTimeout(t);"
                         "t=setTimeout(function(){f.submit();},400);});\n"
                         "  f.querySelectorAll('select').forEach(function(s){"
                         "s.addEventListener('change',function(){f.submit();});});\n"
                         "});\n";

static void
reply_asset(sw_http_response *resp, const char *type, const char *data, size_t len)
{
    resp->status = 200;
    resp->content_type = type;
    sw_buf_reset(&resp->body);
    sw_buf_append(&resp->body, data, len, NULL);
    sw_http_response_header(resp, "Cache-Control", "max-age=300");
}

/* The page's rules, then the charts' (exporters/chart): still one stylesheet. */
void
sw_web_handle_css(void *ctx, const sw_http_request *req, sw_http_response *resp)
{
    (void)ctx;
    (void)req;
    reply_asset(resp, "text/css; charset=utf-8", css, sizeof css - 1);
    const char *charts = sw_chart_css();
    sw_buf_append(&resp->body, charts, strlen(charts), NULL);
}

void
sw_web_handle_js(void *ctx, const sw_http_request *req, sw_http_response *resp)
{
    (void)ctx;
    (void)req;
    reply_asset(resp, "text/javascript; charset=utf-8", js, sizeof js - 1);
}
