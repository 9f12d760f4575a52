/*
 * The push batch parser. A plain valid batch, what every pusher sends, is read straight from
 * the text (one pass, no tree, numbers through sw_json_number). Anything else, and any batch
 * that would be refused, goes to the tree path: the capped JSON parser of core/json, then
 * every field checked for type, range and size before anything is kept. The direct reader only
 * ever accepts, so every refusal and its message is the tree path's.
 */
#include "slawatch/push.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "slawatch/hdr.h"
#include "slawatch/json.h"
#include "slawatch/units.h"

#define BODY_MAX ((size_t)8 << 20)

/* In this order direct_field reads them by index. */
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

#define COUNT_MAX 9007199254740992.0 /* 2^53 */

/* A whole number in [0, max], max <= 2^53, exactly representable in a JSON double. */
static bool
whole(double v, double max, int64_t *ret)
{
    if (!(v >= 0) || v > max)
        return false;
    /* Within [0, 2^53] truncation is floor, and cheaper than the libm call. */
    *ret = (int64_t)v;
    return (double)*ret == v;
}

static bool
latency_value(double v, int64_t *ret)
{
    return whole(v, (double)SW_HDR_LATENCY_HIGHEST_US, ret) && *ret >= SW_HDR_LATENCY_LOWEST_US;
}

static bool
whole_number(const cJSON *v, double max, int64_t *ret)
{
    return cJSON_IsNumber(v) && whole(v->valuedouble, max, ret);
}

static sw_status
get_count(const cJSON *root, const char *key, uint64_t *ret, sw_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    int64_t n = 0;
    if (v != NULL && !whole_number(v, COUNT_MAX, &n))
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
        if (!cJSON_IsNumber(v) || !latency_value(v->valuedouble, &us))
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

/*
 * The direct reader: a cursor over the body. Every function returns false at the first byte
 * it does not expect, and the caller then leaves the body to the tree path.
 */
typedef struct cursor {
    const uint8_t *p, *end;
} cursor;

static void
skip_ws(cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

/* The byte ch, then whitespace. */
static bool
take(cursor *c, uint8_t ch)
{
    if (c->p >= c->end || *c->p != ch)
        return false;
    c->p++;
    skip_ws(c);
    return true;
}

/* A string without escapes or control bytes (cJSON keeps its other bytes as they are). */
static bool
plain_string(cursor *c, const char **ret, size_t *ret_len)
{
    if (c->p >= c->end || *c->p != '"')
        return false;
    const uint8_t *s = ++c->p;
    while (c->p < c->end && *c->p != '"') {
        if (*c->p < 0x20 || *c->p == '\\')
            return false;
        c->p++;
    }
    if (c->p >= c->end)
        return false;
    *ret = (const char *)s;
    *ret_len = (size_t)(c->p++ - s);
    skip_ws(c);
    return true;
}

static bool
number(cursor *c, double *ret)
{
    size_t n;
    if (!sw_json_number(c->p, c->end, ret, &n))
        return false;
    c->p += n;
    skip_ws(c);
    return true;
}

static bool
direct_name(cursor *c, char *out)
{
    const char *s;
    size_t n;
    if (!plain_string(c, &s, &n) || n == 0 || n >= SW_PUSH_NAME_MAX)
        return false;
    memcpy(out, s, n);
    out[n] = '\0';
    return true;
}

static bool
direct_time(cursor *c, int64_t *ret)
{
    const char *s;
    size_t n;
    return plain_string(c, &s, &n) && sw_units_parse_time_ms(s, n, ret);
}

static bool
direct_count(cursor *c, uint64_t *ret)
{
    double v;
    int64_t n;
    if (!number(c, &v) || !whole(v, COUNT_MAX, &n))
        return false;
    *ret = (uint64_t)n;
    return true;
}

/* Room for every value the rest of the body can hold (each takes at least "1,"). */
static bool
direct_latency(cursor *c, sw_push_batch *b)
{
    size_t cap = (size_t)(c->end - c->p) / 2 + 1;
    cap = cap < SW_PUSH_MAX_VALUES ? cap : SW_PUSH_MAX_VALUES;
    if (!take(c, '[') || (b->latency_us = malloc((cap + 1) * sizeof *b->latency_us)) == NULL)
        return false;
    if (take(c, ']'))
        return true;
    do {
        double v;
        if (b->n_latency == cap || !number(c, &v) ||
            !latency_value(v, &b->latency_us[b->n_latency]))
            return false;
        b->n_latency++;
    } while (take(c, ','));
    return take(c, ']');
}

static bool
literal(cursor *c, const char *word, size_t n)
{
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0)
        return false;
    c->p += n;
    skip_ws(c);
    return true;
}

static bool
direct_probes(cursor *c, sw_push_batch *b)
{
    size_t cap = (size_t)(c->end - c->p) / 5 + 1; /* each at least "true," */
    cap = cap < SW_PUSH_MAX_PROBES ? cap : SW_PUSH_MAX_PROBES;
    if (!take(c, '[') || (b->probes = malloc((cap + 1) * sizeof *b->probes)) == NULL)
        return false;
    if (take(c, ']'))
        return true;
    do {
        bool ok = literal(c, "true", 4);
        if (b->n_probes == cap || (!ok && !literal(c, "false", 5)))
            return false;
        b->probes[b->n_probes++] = ok;
    } while (take(c, ','));
    return take(c, ']');
}

/* The value of known_keys[key]. */
static bool
direct_field(cursor *c, size_t key, sw_push_batch *b)
{
    switch (key) {
    case 0:
        return direct_name(c, b->service);
    case 1:
        return direct_name(c, b->env);
    case 2:
        return direct_time(c, &b->at_ms);
    case 3:
        return direct_count(c, &b->requests);
    case 4:
        return direct_count(c, &b->errors);
    case 5:
        return direct_latency(c, b);
    default:
        return direct_probes(c, b);
    }
}

/* The index of a known key, each at most once (cJSON would read the first of two). */
static bool
direct_key(cursor *c, unsigned *seen, size_t *ret)
{
    const char *s;
    size_t n;
    if (!plain_string(c, &s, &n) || !take(c, ':'))
        return false;
    for (size_t i = 0; known_keys[i] != NULL; i++)
        if (strlen(known_keys[i]) == n && memcmp(known_keys[i], s, n) == 0 && !(*seen & 1u << i)) {
            *seen |= 1u << i;
            *ret = i;
            return true;
        }
    return false;
}

/* A plain valid batch into *b (which the caller finishes either way). */
static bool
read_direct(const uint8_t *body, const uint8_t *end, sw_push_batch *b)
{
    cursor c = {body, end};
    unsigned seen = 0;
    skip_ws(&c);
    if (!take(&c, '{'))
        return false;
    do {
        size_t key;
        if (!direct_key(&c, &seen, &key) || !direct_field(&c, key, b))
            return false;
    } while (take(&c, ','));
    return take(&c, '}') && c.p == c.end && (seen & 1u) && b->errors <= b->requests;
}

sw_status
sw_push_parse_tree(const uint8_t *body, size_t len, sw_push_batch *ret, sw_err *err)
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

sw_status
sw_push_parse(const uint8_t *body, size_t len, sw_push_batch *ret, sw_err *err)
{
    sw_push_batch b = {.at_ms = -1};
    /* An empty body may come as NULL: no pointer arithmetic on it. */
    if (len > 0 && len <= BODY_MAX && read_direct(body, body + len, &b)) {
        *ret = b;
        return SW_OK;
    }
    sw_push_batch_fini(&b);
    return sw_push_parse_tree(body, len, ret, err);
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
