/*
 * The API handlers. They run on the HTTP pool threads, concurrently: everything they read
 * comes from a referenced snapshot, everything they change goes through the hooks. Request
 * input is hostile: query values and JSON bodies are size-capped and every error names what
 * was wrong.
 */
#include "slawatch/api.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "slawatch/gate_policy.h"
#include "slawatch/http_query.h"
#include "slawatch/json.h"
#include "slawatch/report_http.h"
#include "slawatch/units.h"
#include "slawatch/web.h"

#define PARAM_MAX 256
#define WHO_MAX 320

/* ------------------------------------------------------------------ helpers */

static void
reply_text(sw_http_response *resp, int status, const char *content_type, const void *data,
           size_t len)
{
    resp->status = status;
    resp->content_type = content_type;
    sw_buf_reset(&resp->body);
    if (sw_buf_append(&resp->body, data, len, NULL) != SW_OK)
        sw_http_response_error(resp, 500, "response too large");
}

static void
who_of(const sw_http_request *req, char *out, size_t cap)
{
    snprintf(out, cap, "%s%s%.200s", req->remote ? req->remote : "?", req->user_agent ? " " : "",
             req->user_agent ? req->user_agent : "");
}

/* A query parameter: true with out set (out[0] = 0 when absent); false after a 400 reply. */
static bool
query_param(const sw_http_request *req, sw_http_response *resp, const char *name, char *out,
            size_t cap)
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
    sw_http_response_error(resp, 400,
                           "query parameter %s is malformed (bad %%-escape, NUL or longer than "
                           "%zu bytes)",
                           name, cap - 1);
    return false;
}

static bool
parse_window(const char *text, int64_t *ret_ms, sw_http_response *resp)
{
    *ret_ms = 0;
    if (text[0] == '\0')
        return true;
    if (sw_units_parse_duration_ms(text, strlen(text), ret_ms))
        return true;
    sw_http_response_error(resp, 400, "window '%.64s' is not a duration (e.g. 10m, 1h)", text);
    return false;
}

/* The error body with the names a caller could have meant. */
static void
reply_lookup_error(sw_http_response *resp, sw_snapshot *s, sw_snapshot_lookup l,
                   const char *service, const char *env)
{
    sw_buf *b = &resp->body;
    sw_buf_reset(b);
    resp->content_type = "application/json";
    sw_buf_printf(b, NULL, "{\"error\":");
    char msg[PARAM_MAX * 2 + 128];
    const char *list_name = "environments", *list = sw_snapshot_envs_json(s, service);
    static const int64_t offered[] = SW_SNAPSHOT_GATE_WINDOWS_MS;
    char windows[256] = "[";
    switch (l) {
    case SW_SNAPSHOT_UNKNOWN_SERVICE:
        resp->status = 404;
        snprintf(msg, sizeof msg, "unknown service '%s'", service);
        list_name = "services";
        list = sw_snapshot_services_json(s);
        break;
    case SW_SNAPSHOT_UNKNOWN_ENV:
        resp->status = 404;
        snprintf(msg, sizeof msg, "service '%s' has no environment '%s'", service, env);
        break;
    case SW_SNAPSHOT_NEEDS_ENV:
        resp->status = 400;
        snprintf(msg, sizeof msg, "service '%s' has environments: give env", service);
        break;
    default:
        resp->status = 400;
        snprintf(msg, sizeof msg,
                 "window not offered: use the rules' gate window or one of "
                 "the listed windows");
        list_name = "windows";
        for (size_t i = 0; i < sizeof offered / sizeof offered[0]; i++) {
            char d[32];
            sw_units_format_duration(offered[i], d, sizeof d);
            size_t n = strlen(windows);
            snprintf(windows + n, sizeof windows - n, "%s\"%s\"", i ? "," : "", d);
        }
        strcat(windows, "]");
        list = windows;
        break;
    }
    sw_json_put_string(b, msg, NULL);
    sw_buf_printf(b, NULL, ",\"%s\":%s}\n", list_name, list);
}

static sw_snapshot *
snapshot_or_503(const sw_api_hooks *h, sw_http_response *resp)
{
    sw_snapshot *s = h->snapshot(h->ctx);
    if (s == NULL) {
        sw_http_response_header(resp, "Retry-After", "%d", 5);
        sw_http_response_error(resp, 503, "starting: no evaluation has run yet");
    }
    return s;
}

/*
 * A snapshot computes what it has not kept from the evaluator as its tick left it; once the
 * evaluator has moved on it answers SW_SNAPSHOT_STALE and the current snapshot is asked
 * instead. A tick publishes its snapshot before readers may compute again, so one retry
 * normally does; the bound only keeps a reload storm from holding a request.
 */
#define STALE_RETRIES 8

static void
release_snapshot(void *s)
{
    sw_snapshot_unref(s);
}

/* Answer 200 with a body the snapshot s keeps: not copied, s (whose reference the caller hands
 * over) is released once the body is sent. */
static void
reply_shared(sw_http_response *resp, const char *content_type, sw_snapshot *s, const sw_buf *b)
{
    resp->status = 200;
    resp->content_type = content_type;
    sw_http_response_share(resp, b->data, b->len, release_snapshot, s);
}

/* A lazily computed body of the current snapshot (status or /metrics), or an error reply. */
static sw_snapshot *
snapshot_body(const sw_api_hooks *h, sw_http_response *resp, sw_expo_format format, bool metrics,
              const sw_buf **ret)
{
    for (int attempt = 0; attempt <= STALE_RETRIES; attempt++) {
        sw_snapshot *s = snapshot_or_503(h, resp);
        if (s == NULL)
            return NULL;
        sw_snapshot_lookup l =
            metrics ? sw_snapshot_metrics(s, format, ret) : sw_snapshot_status(s, ret);
        if (l == SW_SNAPSHOT_FOUND)
            return s;
        sw_snapshot_unref(s);
        if (l != SW_SNAPSHOT_STALE)
            break;
    }
    sw_http_response_header(resp, "Retry-After", "%d", 1);
    sw_http_response_error(resp, 503, "the answer could not be computed: try again");
    return NULL;
}

/* ------------------------------------------------------------------ gate */

typedef struct gate_query {
    char service[PARAM_MAX], env[PARAM_MAX];
    int64_t window_ms;
    char key[3 * PARAM_MAX]; /* the series asked about: service, or one of its label values */
} gate_query;

/*
 * A service judged per label value (rules/README.md, "One SLO per label value") is asked about
 * one value with the label as a parameter (?service=checkout&route=/pay); without it the gate
 * answers for the value with the worst verdict, whose reason names it. False: answered (400).
 */
static bool
gate_series(const sw_snapshot *s, const sw_http_request *req, sw_http_response *resp, gate_query *q)
{
    snprintf(q->key, sizeof q->key, "%s", q->service);
    const char *label = sw_snapshot_by_label(s, q->service);
    if (label == NULL)
        return true;
    char value[PARAM_MAX];
    if (!query_param(req, resp, label, value, sizeof value))
        return false;
    const char *env = q->env[0] != '\0' ? q->env : NULL;
    if (value[0] == '\0') {
        /* With no value holding data, key stays the service: its answer says no data yet. */
        sw_snapshot_gate_worst(s, q->service, env, q->window_ms, q->key, sizeof q->key);
        return true;
    }
    sw_rules_by_key(q->service, label, value, strlen(value), q->key, sizeof q->key);
    return true;
}

/* Look up the verdict, audit it and put it in resp; the status is left to the caller. */
static bool
serve_gate(const sw_api_hooks *h, const sw_http_request *req, sw_http_response *resp, gate_query *q,
           sw_verdict *ret_verdict)
{
    sw_snapshot *s = snapshot_or_503(h, resp);
    if (s == NULL)
        return false;
    if (!gate_series(s, req, resp, q)) {
        sw_snapshot_unref(s);
        return false;
    }
    const char *env = q->env[0] != '\0' ? q->env : NULL, *json;
    size_t len;
    sw_snapshot_lookup l = sw_snapshot_gate(s, q->key, env, q->window_ms, &json, &len, ret_verdict);
    for (int attempt = 0; l == SW_SNAPSHOT_STALE && attempt < STALE_RETRIES; attempt++) {
        sw_snapshot_unref(s);
        if ((s = snapshot_or_503(h, resp)) == NULL)
            return false;
        l = sw_snapshot_gate(s, q->key, env, q->window_ms, &json, &len, ret_verdict);
    }
    bool found = l == SW_SNAPSHOT_FOUND;
    if (l == SW_SNAPSHOT_BUSY) {
        sw_http_response_header(resp, "Retry-After", "%d", 1);
        sw_http_response_error(resp, 503,
                               "busy evaluating: the gate's answer is not ready; try "
                               "again");
    } else if (l == SW_SNAPSHOT_STALE || l == SW_SNAPSHOT_FAILED) {
        sw_http_response_header(resp, "Retry-After", "%d", 1);
        sw_http_response_error(resp, 503, "the gate's answer could not be computed: try again");
    } else if (found) {
        reply_text(resp, 200, "application/json", json, len);
        char who[WHO_MAX];
        who_of(req, who, sizeof who);
        h->audit(h->ctx, &(sw_api_gate_audit){.at_ms = h->now(h->ctx),
                                              .who = who,
                                              .remote = req->remote,
                                              .service = q->service,
                                              .env = env,
                                              .window_ms = q->window_ms,
                                              .verdict = sw_eval_verdict_str(*ret_verdict),
                                              .json = json,
                                              .json_len = len});
    } else {
        reply_lookup_error(resp, s, l, q->service, q->env);
    }
    sw_snapshot_unref(s);
    return found;
}

static void
handle_gate_get(void *ctx, const sw_http_request *req, sw_http_response *resp)
{
    gate_query q;
    char window[PARAM_MAX];
    if (!query_param(req, resp, "service", q.service, sizeof q.service) ||
        !query_param(req, resp, "env", q.env, sizeof q.env) ||
        !query_param(req, resp, "window", window, sizeof window) ||
        !parse_window(window, &q.window_ms, resp))
        return;
    if (q.service[0] == '\0') {
        sw_http_response_error(resp, 400, "missing query parameter service");
        return;
    }
    sw_verdict v;
    /* Always 200 with the verdict in the body: Argo Rollouts treats non-2xx as an error. */
    serve_gate(ctx, req, resp, &q, &v);
}

/* A string member of obj copied into out; "" when absent; false when not a short string. */
static bool
json_string(const cJSON *obj, const char *name, char *out, size_t cap, sw_http_response *resp)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    out[0] = '\0';
    if (v == NULL || cJSON_IsNull(v))
        return true;
    if (!cJSON_IsString(v) || strlen(v->valuestring) >= cap) {
        sw_http_response_error(resp, 400, "%s must be a string of at most %zu bytes", name,
                               cap - 1);
        return false;
    }
    memcpy(out, v->valuestring, strlen(v->valuestring) + 1);
    return true;
}

static cJSON *
parse_body(const sw_http_request *req, sw_http_response *resp)
{
    cJSON *tree = NULL;
    sw_err err;
    if (sw_json_parse(req->body, req->body_len, SW_JSON_MAX_BYTES, 8, &tree, &err) != SW_OK) {
        sw_http_response_error(resp, err.code == SW_E_TOOBIG ? 413 : 400, "request body: %s",
                               err.msg);
        return NULL;
    }
    if (!cJSON_IsObject(tree)) {
        cJSON_Delete(tree);
        sw_http_response_error(resp, 400, "request body: expected a JSON object");
        return NULL;
    }
    return tree;
}

/* Flagger's webhook: {"name", "namespace", "phase", "metadata": {service, env, window}}. */
static bool
flagger_query(const cJSON *body, gate_query *q, sw_http_response *resp)
{
    char name[PARAM_MAX], window[PARAM_MAX] = "";
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(body, "metadata");
    if (meta != NULL && !cJSON_IsObject(meta) && !cJSON_IsNull(meta)) {
        sw_http_response_error(resp, 400, "metadata must be an object of strings");
        return false;
    }
    if (!json_string(body, "name", name, sizeof name, resp) ||
        !json_string(meta, "service", q->service, sizeof q->service, resp) ||
        !json_string(meta, "env", q->env, sizeof q->env, resp) ||
        !json_string(meta, "window", window, sizeof window, resp) ||
        !parse_window(window, &q->window_ms, resp))
        return false;
    if (q->service[0] == '\0') /* the canary's name is the service unless metadata says */
        memcpy(q->service, name, sizeof name);
    if (q->service[0] == '\0') {
        sw_http_response_error(resp, 400, "no service: give metadata.service or name");
        return false;
    }
    return true;
}

static void
handle_gate_post(void *ctx, const sw_http_request *req, sw_http_response *resp)
{
    cJSON *body = parse_body(req, resp);
    if (body == NULL)
        return;
    gate_query q;
    bool ok = flagger_query(body, &q, resp);
    cJSON_Delete(body);
    sw_verdict v;
    /* Flagger halts on any status above 202: 200 only on pass. */
    if (ok && serve_gate(ctx, req, resp, &q, &v) && v != SW_VERDICT_PASS)
        resp->status = 412;
}

/* ------------------------------------------------------------------ deployments, status */

static bool
deployment_time(const sw_api_hooks *h, const char *at, int64_t *ret_ms, sw_http_response *resp)
{
    if (at[0] == '\0') {
        *ret_ms = h->now(h->ctx);
        return true;
    }
    if (!sw_units_parse_time_ms(at, strlen(at), ret_ms)) {
        sw_http_response_error(resp, 400, "at '%.64s' is not an RFC 3339 time", at);
        return false;
    }
    int64_t bound = h->now(h->ctx) + SW_API_AHEAD_MS;
    if (*ret_ms <= bound)
        return true;
    char when[40];
    sw_units_format_time(bound, when, sizeof when);
    sw_http_response_error(resp, 400, "at '%.64s' is after %s (now + 5m): too far ahead", at, when);
    return false;
}

/* policy_override: absent or null is none; anything else must be a valid ticket reference. */
static bool
json_override(const cJSON *body, char *out, size_t cap, bool *ret_given, sw_http_response *resp)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, "policy_override");
    *ret_given = v != NULL && !cJSON_IsNull(v);
    out[0] = '\0';
    if (!*ret_given)
        return true;
    char why[160];
    if (!cJSON_IsString(v)) {
        sw_http_response_error(resp, 400,
                               "policy_override must be a string (a ticket reference "
                               "such as INC-123)");
        return false;
    }
    if (!sw_gate_policy_override_valid(v->valuestring, why, sizeof why)) {
        sw_http_response_error(resp, 400, "%s", why);
        return false;
    }
    snprintf(out, cap, "%s", v->valuestring);
    return true;
}

static void
handle_deployments(void *ctx, const sw_http_request *req, sw_http_response *resp)
{
    const sw_api_hooks *h = ctx;
    cJSON *body = parse_body(req, resp);
    if (body == NULL)
        return;
    char service[PARAM_MAX], env[PARAM_MAX], at[PARAM_MAX];
    char override[SW_POLICY_OVERRIDE_MAX + 1];
    bool overridden;
    bool ok = json_string(body, "service", service, sizeof service, resp) &&
              json_string(body, "env", env, sizeof env, resp) &&
              json_string(body, "at", at, sizeof at, resp) &&
              json_override(body, override, sizeof override, &overridden, resp);
    cJSON_Delete(body);
    int64_t at_ms;
    if (!ok || !deployment_time(h, at, &at_ms, resp))
        return;
    if (service[0] == '\0') {
        sw_http_response_error(resp, 400, "missing service");
        return;
    }
    char who[WHO_MAX];
    who_of(req, who, sizeof who);
    sw_err err;
    const char *e = env[0] != '\0' ? env : NULL;
    if (h->mark_deployment(h->ctx, service, e, at_ms, overridden ? override : NULL, who, &err) !=
        SW_OK) {
        int status = err.code == SW_E_INVAL ? 404 : err.code == SW_E_PARSE ? 400 : 500;
        sw_http_response_error(resp, status, "%s", err.msg);
        return;
    }
    char when[40];
    sw_units_format_time(at_ms, when, sizeof when);
    sw_buf_reset(&resp->body);
    sw_buf_printf(&resp->body, NULL, "{\"service\":");
    sw_json_put_string(&resp->body, service, NULL);
    if (e != NULL) {
        sw_buf_printf(&resp->body, NULL, ",\"env\":");
        sw_json_put_string(&resp->body, e, NULL);
    }
    sw_buf_printf(&resp->body, NULL, ",\"at\":\"%s\"", when);
    if (overridden) {
        sw_buf_printf(&resp->body, NULL, ",\"policy_override\":");
        sw_json_put_string(&resp->body, override, NULL);
    }
    sw_buf_printf(&resp->body, NULL, "}\n");
}

/* Pushed batches: collector/push's handler, which the daemon's hook runs over its data. */
static void
handle_ingest(void *ctx, const sw_http_request *req, sw_http_response *resp)
{
    const sw_api_hooks *h = ctx;
    h->ingest(h->ctx, req, resp);
}

static void
handle_remote_write(void *ctx, const sw_http_request *req, sw_http_response *resp)
{
    const sw_api_hooks *h = ctx;
    if (h->remote_write == NULL) {
        sw_http_response_error(resp, 404,
                               "the remote-write receiver is off (remote_write_receiver.enabled)");
        return;
    }
    sw_err err = {0};
    int status = h->remote_write(h->ctx, req, &err);
    if (status == 204) {
        resp->status = 204;
        sw_buf_reset(&resp->body);
        return;
    }
    /* Senders log the body of a failed request: plain text saying what was wrong. */
    char text[SW_ERR_MSG_MAX + 2];
    int n = snprintf(text, sizeof text, "%s\n", err.msg[0] ? err.msg : "request refused");
    reply_text(resp, status, "text/plain; charset=utf-8", text, (size_t)n);
    if (status == 429 || status == 503)
        sw_http_response_header(resp, "Retry-After", "%d", 1);
}

/* Newline-delimited EMF documents: 200 with what was applied, 400 naming the bad line. */
static void
handle_ingest_emf(void *ctx, const sw_http_request *req, sw_http_response *resp)
{
    const sw_api_hooks *h = ctx;
    if (h->ingest_emf == NULL) {
        sw_http_response_error(resp, 404, "EMF ingest is not available");
        return;
    }
    size_t n[3] = {0};
    sw_err err = {0};
    sw_status st = h->ingest_emf(h->ctx, req->body, req->body_len, n, &err);
    if (st != SW_OK) {
        sw_http_response_error(resp, sw_http_write_status(st, 500), "%s", err.msg);
        return;
    }
    sw_buf_reset(&resp->body);
    sw_buf_printf(&resp->body, NULL, "{\"values\":%zu,\"lines\":%zu,\"unmatched\":%zu}\n", n[0],
                  n[1], n[2]);
}

static void
handle_status(void *ctx, const sw_http_request *req, sw_http_response *resp)
{
    (void)req;
    const sw_buf *b;
    sw_snapshot *s = snapshot_body(ctx, resp, SW_EXPO_TEXT, false, &b);
    if (s == NULL)
        return;
    reply_shared(resp, "application/json", s, b);
}

static void
handle_metrics(void *ctx, const sw_http_request *req, sw_http_response *resp)
{
    sw_expo_format f = sw_expo_negotiate(req->accept);
    const sw_buf *b;
    sw_snapshot *s = snapshot_body(ctx, resp, f, true, &b);
    if (s == NULL)
        return;
    reply_shared(resp, sw_expo_content_type(f), s, b);
}

/* ------------------------------------------------------------------ lifecycle */

static void
handle_healthy(void *ctx, const sw_http_request *req, sw_http_response *resp)
{
    (void)ctx;
    (void)req;
    static const char text[] = "slawatch is Healthy.\n";
    reply_text(resp, 200, "text/plain; charset=utf-8", text, sizeof text - 1);
}

static void
handle_ready(void *ctx, const sw_http_request *req, sw_http_response *resp)
{
    (void)req;
    const sw_api_hooks *h = ctx;
    char why[256] = "";
    if (!h->ready(h->ctx, why, sizeof why)) {
        char text[300];
        int n = snprintf(text, sizeof text, "slawatch is not ready: %s\n", why);
        reply_text(resp, 503, "text/plain; charset=utf-8", text, (size_t)n);
        return;
    }
    static const char text[] = "slawatch is Ready.\n";
    reply_text(resp, 200, "text/plain; charset=utf-8", text, sizeof text - 1);
}

static void
handle_reload(void *ctx, const sw_http_request *req, sw_http_response *resp)
{
    (void)req;
    const sw_api_hooks *h = ctx;
    sw_err err;
    if (h->reload(h->ctx, &err) != SW_OK) {
        sw_http_response_error(resp, 500, "reload failed, the previous configuration stays: %s",
                               err.msg);
        return;
    }
    static const char text[] = "{\"status\":\"reloaded\"}\n";
    reply_text(resp, 200, "application/json", text, sizeof text - 1);
}

static const sw_http_route routes[] = {
    /* Renders of the snapshot (seconds at 10,000 services) run on the render workers: the pool
     * thread that read the scrape goes on answering its other connections' gate questions. */
    {"GET", "/metrics", handle_metrics, false, SW_HTTP_RENDER, false},
    /* the headers of GET, no body (MHD) */
    {"HEAD", "/metrics", handle_metrics, false, SW_HTTP_RENDER, false},
    {"GET", "/api/v1/gate", handle_gate_get, false, SW_HTTP_POOL, false},
    {"POST", "/api/v1/gate", handle_gate_post, false, SW_HTTP_POOL, false},
    {"POST", "/api/v1/deployments", handle_deployments, true, SW_HTTP_POOL, false},
    {"POST", "/api/v1/ingest", handle_ingest, true, SW_HTTP_BULK, false},
    {"POST", "/api/v1/write", handle_remote_write, true, SW_HTTP_BULK, false},
    {"POST", "/api/v1/ingest/emf", handle_ingest_emf, true, SW_HTTP_BULK, false},
    {"GET", "/api/v1/status", handle_status, false, SW_HTTP_RENDER, false},
    {"GET", "/-/healthy", handle_healthy, false, SW_HTTP_POOL, false},
    {"GET", "/-/ready", handle_ready, false, SW_HTTP_POOL, false},
    {"POST", "/-/reload", handle_reload, true, SW_HTTP_POOL, false},
    {"PUT", "/-/reload", handle_reload, true, SW_HTTP_POOL, false},
    {"GET", "/api/v1/report", sw_report_http_handle, false, SW_HTTP_HEAVY, false},
    /* The web UI (exporters/web*.c): pages check the token themselves (cookie or form). */
    {"GET", "/", sw_web_handle_overview, false, SW_HTTP_RENDER, true}, /* the status, as a page */
    {"GET", "/service", sw_web_handle_service, false, SW_HTTP_HEAVY, true}, /* reads the store */
    {"GET", "/gate", sw_web_handle_gate, false, SW_HTTP_HEAVY, true},       /* reads the store */
    {"GET", "/reports", sw_web_handle_reports, false, SW_HTTP_HEAVY, true}, /* scans the store */
    {"POST", "/login", sw_web_handle_login, false, SW_HTTP_POOL, true},
    {"GET", "/ui/slawatch.css", sw_web_handle_css, false, SW_HTTP_POOL, true},
    {"GET", "/ui/slawatch.js", sw_web_handle_js, false, SW_HTTP_POOL, true},
};

const sw_http_route *
sw_api_routes(size_t *ret_n)
{
    *ret_n = sizeof routes / sizeof routes[0];
    return routes;
}
