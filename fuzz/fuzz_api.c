/*
 * The API handlers on hostile requests: the first byte picks the route, the rest is split at
 * the first NUL into the query string and the body. The handlers answer from a snapshot of a
 * small rule set with one interval of data; the hooks accept everything. Checks: a status from
 * the documented set, and a JSON content type only with a body cJSON can parse.
 */
#include "fuzz.h"

#include <cjson/cJSON.h>
#include <string.h>

#include "slawatch/api.h"
#include "slawatch/eval.h"
#include "slawatch/push.h"
#include "slawatch/rules.h"

static const char rules_text[] = "version: 1\n"
                                 "base_interval: 10s\n"
                                 "services:\n"
                                 "  - name: api\n"
                                 "    environments: [blue, green]\n"
                                 "    sli: {requests: {push: true}}\n"
                                 "  - name: web\n"
                                 "    sli: {requests: {push: true}}\n"
                                 "gate:\n"
                                 "  checks: ['error_rate <= 1%']\n";

#define T0 INT64_C(1790812800000)

static sw_snapshot *snap;

static sw_snapshot *
hook_snapshot(void *ctx)
{
    (void)ctx;
    return sw_snapshot_ref(snap);
}

static int64_t
hook_now(void *ctx)
{
    (void)ctx;
    return T0 + 10000;
}

static sw_status
hook_mark(void *ctx, const char *service, const char *env, int64_t at_ms,
          const char *policy_override, const char *who, sw_err *err)
{
    (void)ctx, (void)service, (void)env, (void)at_ms, (void)policy_override, (void)who, (void)err;
    return SW_OK;
}

static sw_status
hook_reload(void *ctx, sw_err *err)
{
    (void)ctx, (void)err;
    return SW_OK;
}

static void
hook_audit(void *ctx, const sw_api_gate_audit *a)
{
    (void)ctx;
    FUZZ_CHECK(a->json != NULL && a->json_len > 0);
}

static sw_status
hook_ingest(void *ctx, const sw_push_batch *b, int64_t at_ms, sw_err *err)
{
    (void)ctx, (void)at_ms, (void)err;
    FUZZ_CHECK(b->errors <= b->requests);
    return SW_OK;
}

static void
hook_ingest_http(void *ctx, const sw_http_request *req, sw_http_response *resp)
{
    sw_push_sink sink = {ctx, hook_now, hook_ingest};
    sw_push_handle(&sink, req, resp);
}

static bool
hook_ready(void *ctx, char *why, size_t cap)
{
    (void)ctx, (void)why, (void)cap;
    return true;
}

static const sw_api_hooks hooks = {
    NULL,       hook_snapshot, hook_now, hook_mark, hook_reload, hook_audit, hook_ingest_http,
    hook_ready, NULL,          NULL,     NULL,      NULL,        NULL,       NULL,
    10000,      0};

/* What the snapshot reads when it computes an answer: kept for the process's life. */
static sw_rules *rules;
static sw_eval *ev;

static void
build_snapshot(void)
{
    FUZZ_CHECK(sw_rules_load_mem(rules_text, sizeof rules_text - 1, "fuzz", &rules, NULL, NULL) ==
               SW_OK);
    FUZZ_CHECK(sw_eval_new(rules, &ev, NULL) == SW_OK);
    sw_sli_interval iv = {
        .start_ms = T0, .length_ms = 10000, .requests = 500, .errors = 3, .has_data = true};
    FUZZ_CHECK(sw_eval_add(ev, "api", "green", &iv, NULL) == SW_OK);
    FUZZ_CHECK(sw_eval_advance(ev, T0 + 10000, NULL) == SW_OK);
    sw_metrics_self self = {.store_ok = true};
    sw_metrics_input mi = {.self = &self};
    /* No source: the evaluator and rules stay as they are for the snapshot's whole life. */
    sw_snapshot_input in = {ev, rules, T0 + 10000, &mi, NULL};
    FUZZ_CHECK(sw_snapshot_build(&in, &snap, NULL) == SW_OK);
}

static bool
status_known(int status)
{
    static const int known[] = {200, 400, 404, 412, 413, 422, 500, 503};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (status == known[i])
            return true;
    return false;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (snap == NULL)
        build_snapshot();
    if (size == 0)
        return 0;
    size_t n_routes;
    const sw_http_route *routes = sw_api_routes(&n_routes);
    const sw_http_route *r = &routes[data[0] % n_routes];
    const uint8_t *rest = data + 1, *nul = memchr(rest, 0, size - 1);
    size_t qlen = nul != NULL ? (size_t)(nul - rest) : size - 1;
    char *query = strndup((const char *)rest, qlen);
    const uint8_t *body = nul != NULL ? nul + 1 : rest + qlen;
    size_t blen = (size_t)(data + size - body);
    sw_http_request req = {.method = r->method,
                           .path = r->path,
                           .query = query,
                           .remote = "127.0.0.1:1",
                           .body = blen ? body : NULL,
                           .body_len = blen};
    sw_http_response resp = {.status = 200, .content_type = "application/json"};
    sw_buf_init(&resp.body, 1 << 24);
    r->handler((void *)&hooks, &req, &resp);
    FUZZ_CHECK(status_known(resp.status));
    /* A body kept by the snapshot (status, /metrics) is shared, not copied into resp.body. */
    const char *text = resp.shared != NULL ? resp.shared : (const char *)resp.body.data;
    size_t len = resp.shared != NULL ? resp.shared_len : resp.body.len;
    if (strcmp(resp.content_type, "application/json") == 0) {
        cJSON *j = cJSON_ParseWithLength(text, len);
        FUZZ_CHECK(j != NULL);
        cJSON_Delete(j);
    }
    sw_http_response_unshare(&resp);
    sw_buf_fini(&resp.body);
    free(query);
    return 0;
}
