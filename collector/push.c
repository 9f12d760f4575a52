/*
 * The push batch parser: the capped JSON parser of core/json, then every field checked for
 * type, range and size before anything is kept.
 */
#include "slawatch/push.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "slawatch/hdr.h"
#include "slawatch/json.h"
#include "slawatch/units.h"

#define BODY_MAX ((size_t)8 << 20)

static const char *const known_keys[] = {"service", "env",        "at",     "requests",
                                         "errors",  "latency_us", "probes", NULL};

static sw_status
check_keys(const cJSON *root, sw_err *err)
{
    const cJSON *item;
    cJSON_ArrayForEach(item, root)
    {
        size_t i = 0;
        while (known_keys[i] != NULL && strcmp(known_keys[i], item->string) != 0)
            i++;
        if (known_keys[i] == NULL)
            return sw_err_set(err, SW_E_PARSE,
                              "unknown field '%.64s'; expected service, env, at, requests, "
                              "errors, latency_us or probes",
                              item->string);
    }
    return SW_OK;
}

static sw_status
get_name(const cJSON *root, const char *key, bool required, char *out, sw_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    out[0] = '\0';
    if (v == NULL && !required)
        return SW_OK;
    if (!cJSON_IsString(v) || v->valuestring[0] == '\0' ||
        strlen(v->valuestring) >= SW_PUSH_NAME_MAX)
        return sw_err_set(err, SW_E_PARSE, "%s must be a non-empty string of at most %d bytes", key,
                          SW_PUSH_NAME_MAX - 1);
    memcpy(out, v->valuestring, strlen(v->valuestring) + 1);
    return SW_OK;
}

/* A whole number in [0, 2^53], exactly representable in a JSON double. */
static bool
whole(const cJSON *v, double max, int64_t *ret)
{
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) || v->valuedouble > max ||
        floor(v->valuedouble) != v->valuedouble)
        return false;
    *ret = (int64_t)v->valuedouble;
    return true;
}

static sw_status
get_count(const cJSON *root, const char *key, uint64_t *ret, sw_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    int64_t n = 0;
    if (v != NULL && !whole(v, 9007199254740992.0, &n))
        return sw_err_set(err, SW_E_PARSE, "%s must be a whole number >= 0", key);
    *ret = (uint64_t)n;
    return SW_OK;
}

static sw_status
get_time(const cJSON *root, int64_t *ret, sw_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "at");
    *ret = -1;
    if (v == NULL)
        return SW_OK;
    if (!cJSON_IsString(v) || !sw_units_parse_time_ms(v->valuestring, strlen(v->valuestring), ret))
        return sw_err_set(err, SW_E_PARSE, "at must be an RFC 3339 time");
    return SW_OK;
}

static sw_status
get_latency(const cJSON *root, sw_push_batch *b, sw_err *err)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "latency_us");
    if (arr == NULL)
        return SW_OK;
    int n = cJSON_GetArraySize(arr);
    if (!cJSON_IsArray(arr) || n > SW_PUSH_MAX_VALUES)
        return sw_err_set(err, SW_E_PARSE, "latency_us must be a list of at most %d numbers",
                          SW_PUSH_MAX_VALUES);
    b->latency_us = calloc((size_t)n + 1, sizeof *b->latency_us);
    if (b->latency_us == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory reading latency_us");
    const cJSON *v;
    cJSON_ArrayForEach(v, arr)
    {
        int64_t us;
        if (!whole(v, (double)SW_HDR_LATENCY_HIGHEST_US, &us) || us < SW_HDR_LATENCY_LOWEST_US)
            return sw_err_set(
                err, SW_E_PARSE, "latency_us[%zu] must be whole microseconds from %d to %lld",
                b->n_latency, (int)SW_HDR_LATENCY_LOWEST_US, (long long)SW_HDR_LATENCY_HIGHEST_US);
        b->latency_us[b->n_latency++] = us;
    }
    return SW_OK;
}

static sw_status
get_probes(const cJSON *root, sw_push_batch *b, sw_err *err)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "probes");
    if (arr == NULL)
        return SW_OK;
    int n = cJSON_GetArraySize(arr);
    if (!cJSON_IsArray(arr) || n > SW_PUSH_MAX_PROBES)
        return sw_err_set(err, SW_E_PARSE, "probes must be a list of at most %d booleans",
                          SW_PUSH_MAX_PROBES);
    b->probes = calloc((size_t)n + 1, sizeof *b->probes);
    if (b->probes == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory reading probes");
    const cJSON *v;
    cJSON_ArrayForEach(v, arr)
    {
        if (!cJSON_IsBool(v))
            return sw_err_set(err, SW_E_PARSE, "probes[%zu] must be true or false", b->n_probes);
        b->probes[b->n_probes++] = cJSON_IsTrue(v);
    }
    return SW_OK;
}

static sw_status
parse_root(const cJSON *root, sw_push_batch *b, sw_err *err)
{
    if (!cJSON_IsObject(root))
        return sw_err_set(err, SW_E_PARSE, "expected a JSON object");
    sw_status st;
    if ((st = check_keys(root, err)) != SW_OK ||
        (st = get_name(root, "service", true, b->service, err)) != SW_OK ||
        (st = get_name(root, "env", false, b->env, err)) != SW_OK ||
        (st = get_time(root, &b->at_ms, err)) != SW_OK ||
        (st = get_count(root, "requests", &b->requests, err)) != SW_OK ||
        (st = get_count(root, "errors", &b->errors, err)) != SW_OK ||
        (st = get_latency(root, b, err)) != SW_OK || (st = get_probes(root, b, err)) != SW_OK)
        return st;
    if (b->errors > b->requests)
        return sw_err_set(err, SW_E_PARSE, "errors (%llu) must not exceed requests (%llu)",
                          (unsigned long long)b->errors, (unsigned long long)b->requests);
    return SW_OK;
}

sw_status
sw_push_parse(const uint8_t *body, size_t len, sw_push_batch *ret, sw_err *err)
{
    cJSON *root;
    sw_status st = sw_json_parse(body, len, BODY_MAX, 4, &root, err);
    if (st != SW_OK)
        return st;
    sw_push_batch b = {.at_ms = -1};
    st = parse_root(root, &b, err);
    cJSON_Delete(root);
    if (st != SW_OK) {
        sw_push_batch_fini(&b);
        return st;
    }
    *ret = b;
    return SW_OK;
}

void
sw_push_batch_fini(sw_push_batch *b)
{
    free(b->latency_us);
    free(b->probes);
    b->latency_us = NULL;
    b->probes = NULL;
    b->n_latency = b->n_probes = 0;
}

void
sw_push_handle(const sw_push_sink *sink, const sw_http_request *req, sw_http_response *resp)
{
    sw_push_batch b;
    sw_err err;
    if (sw_push_parse(req->body, req->body_len, &b, &err) != SW_OK) {
        sw_http_response_error(resp, err.code == SW_E_TOOBIG ? 413 : 400, "request body: %s",
                               err.msg);
        return;
    }
    int64_t at_ms = b.at_ms >= 0 ? b.at_ms : sink->now(sink->ctx);
    sw_status st = sink->apply(sink->ctx, &b, at_ms, &err);
    if (st == SW_OK) {
        sw_buf_reset(&resp->body);
        sw_buf_printf(&resp->body, NULL,
                      "{\"requests\":%llu,\"errors\":%llu,\"latency_values\":%zu,"
                      "\"probes\":%zu}\n",
                      (unsigned long long)b.requests, (unsigned long long)b.errors, b.n_latency,
                      b.n_probes);
    } else {
        sw_http_response_error(resp, sw_http_write_status(st, 404), "%s", err.msg);
    }
    sw_push_batch_fini(&b);
}
