/*
 * GetMetricData request bodies, response parsing and error classification (the protocol;
 * cwgmd_client.c sends). Stateless: everything lives in the caller's page and series. The
 * parser goes through sw_json_parse with the 10 MB cap, then checks every field's type, so a
 * malformed or hostile answer is an error and never a partial series the caller would apply.
 */
#include "slawatch/cwgmd.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "slawatch/json.h"

#define MAX_DEPTH 8

/* ------------------------------------------------------------------ request */

static sw_status
put_metric(sw_buf *b, const sw_cwgmd_query *q, sw_err *err)
{
    sw_status st = sw_buf_printf(b, err, "{\"Id\":\"%s\",\"ReturnData\":true,\"MetricStat\":{"
                                         "\"Metric\":{\"Namespace\":",
                                 q->id);
    if (st == SW_OK)
        st = sw_json_put_string(b, q->namespace_, err);
    if (st == SW_OK)
        st = sw_buf_printf(b, err, ",\"MetricName\":");
    if (st == SW_OK)
        st = sw_json_put_string(b, q->metric, err);
    if (st == SW_OK)
        st = sw_buf_printf(b, err, ",\"Dimensions\":[");
    for (size_t i = 0; st == SW_OK && i < q->n_dimensions; i++) {
        st = sw_buf_printf(b, err, "%s{\"Name\":", i > 0 ? "," : "");
        if (st == SW_OK)
            st = sw_json_put_string(b, q->dimensions[i].name, err);
        if (st == SW_OK)
            st = sw_buf_printf(b, err, ",\"Value\":");
        if (st == SW_OK)
            st = sw_json_put_string(b, q->dimensions[i].value, err);
        if (st == SW_OK)
            st = sw_buf_printf(b, err, "}");
    }
    if (st == SW_OK)
        st = sw_buf_printf(b, err, "]},\"Period\":%lld,\"Stat\":", (long long)q->period_s);
    if (st == SW_OK)
        st = sw_json_put_string(b, q->stat, err);
    return st == SW_OK ? sw_buf_printf(b, err, "}}") : st;
}

sw_status
sw_cwgmd_request_body(const sw_cwgmd_query *q, size_t n, int64_t start_s, int64_t end_s,
                      const char *next_token, sw_buf *out, sw_err *err)
{
    if (n == 0 || n > SW_CWGMD_MAX_QUERIES)
        return sw_err_set(err, SW_E_INVAL, "GetMetricData: %zu queries (1 to %d per call)", n,
                          SW_CWGMD_MAX_QUERIES);
    if (start_s >= end_s || start_s < 0)
        return sw_err_set(err, SW_E_INVAL, "GetMetricData: empty or negative range");
    sw_status st = sw_buf_printf(out, err, "{\"MetricDataQueries\":[");
    for (size_t i = 0; st == SW_OK && i < n; i++) {
        if (i > 0)
            st = sw_buf_printf(out, err, ",");
        if (st == SW_OK)
            st = put_metric(out, &q[i], err);
    }
    if (st == SW_OK)
        st = sw_buf_printf(out, err,
                           "],\"StartTime\":%lld,\"EndTime\":%lld,\"ScanBy\":\"TimestampAscending\"",
                           (long long)start_s, (long long)end_s);
    if (st == SW_OK && next_token != NULL && next_token[0] != '\0') {
        st = sw_buf_printf(out, err, ",\"NextToken\":");
        if (st == SW_OK)
            st = sw_json_put_string(out, next_token, err);
    }
    return st == SW_OK ? sw_buf_printf(out, err, "}") : st;
}

/* ------------------------------------------------------------------ response */

void
sw_cwgmd_series_fini(sw_cwgmd_series *s)
{
    free(s->ts_s);
    free(s->values);
    memset(s, 0, sizeof *s);
}

void
sw_cwgmd_page_reset(sw_cwgmd_page *page)
{
    page->next_token[0] = '\0';
    page->partial = false;
    page->internal_error = false;
    page->messages = 0;
}

static sw_status
series_grow(sw_cwgmd_series *s, size_t extra, sw_err *err)
{
    if (s->n + extra <= s->cap)
        return SW_OK;
    size_t cap = s->cap > 0 ? s->cap : 64;
    while (cap < s->n + extra)
        cap *= 2;
    int64_t *ts = realloc(s->ts_s, cap * sizeof *ts);
    if (ts != NULL)
        s->ts_s = ts;
    double *v = ts != NULL ? realloc(s->values, cap * sizeof *v) : NULL;
    if (v == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory for GetMetricData datapoints");
    s->values = v;
    s->cap = cap;
    return SW_OK;
}

/* The index of the asked query with this Id, or n. */
static size_t
query_index(const sw_cwgmd_query *q, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(q[i].id, id) == 0)
            return i;
    return n;
}

/* A timestamp as AWS JSON 1.0 writes it: epoch seconds, a number (whole for metric data). */
static bool
get_ts(const cJSON *t, int64_t *ret)
{
    if (!cJSON_IsNumber(t) || !isfinite(t->valuedouble) || t->valuedouble < 0 ||
        t->valuedouble > 253402300799.0 || t->valuedouble != floor(t->valuedouble))
        return false;
    *ret = (int64_t)t->valuedouble;
    return true;
}

/* Datapoints of one result appended to s, checked against the range and the order. */
static sw_status
take_points(const cJSON *ts, const cJSON *vs, const char *id, int64_t start_s, int64_t end_s,
            sw_cwgmd_series *s, sw_err *err)
{
    int n = cJSON_GetArraySize(ts);
    if (n != cJSON_GetArraySize(vs))
        return sw_err_set(err, SW_E_PARSE, "GetMetricData result %s: %d timestamps but %d values",
                          id, n, cJSON_GetArraySize(vs));
    sw_status st = series_grow(s, (size_t)n, err);
    const cJSON *t = ts->child, *v = vs->child;
    for (int i = 0; st == SW_OK && i < n; i++, t = t->next, v = v->next) {
        int64_t at;
        if (!get_ts(t, &at))
            return sw_err_set(err, SW_E_PARSE,
                              "GetMetricData result %s: timestamp %d is not whole epoch seconds",
                              id, i);
        if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
            return sw_err_set(err, SW_E_PARSE, "GetMetricData result %s: value %d is not a number",
                              id, i);
        if (at < start_s || at >= end_s)
            return sw_err_set(err, SW_E_PARSE,
                              "GetMetricData result %s: timestamp %lld outside the asked range "
                              "[%lld, %lld)",
                              id, (long long)at, (long long)start_s, (long long)end_s);
        if (s->n > 0 && at <= s->ts_s[s->n - 1])
            return sw_err_set(err, SW_E_PARSE,
                              "GetMetricData result %s: timestamp %lld out of order (after %lld)",
                              id, (long long)at, (long long)s->ts_s[s->n - 1]);
        s->ts_s[s->n] = at;
        s->values[s->n++] = v->valuedouble;
    }
    return st;
}

/* The first message of a result, for InternalError / Forbidden errors. */
static const char *
first_message(const cJSON *res)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(res, "Messages");
    const cJSON *v = cJSON_IsArray(m) && m->child != NULL
                         ? cJSON_GetObjectItemCaseSensitive(m->child, "Value")
                         : NULL;
    return cJSON_IsString(v) ? v->valuestring : "no message";
}

static sw_status
take_result(const cJSON *res, const sw_cwgmd_query *q, size_t n, int64_t start_s, int64_t end_s,
            sw_cwgmd_page *page, sw_err *err)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(res, "Id");
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(res, "StatusCode");
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(res, "Timestamps");
    const cJSON *vs = cJSON_GetObjectItemCaseSensitive(res, "Values");
    if (!cJSON_IsObject(res) || !cJSON_IsString(id))
        return sw_err_set(err, SW_E_PARSE, "GetMetricData: a result without a string Id");
    size_t i = query_index(q, n, id->valuestring);
    if (i == n)
        return sw_err_set(err, SW_E_PARSE, "GetMetricData: result for an Id not asked for");
    if (!cJSON_IsString(code))
        return sw_err_set(err, SW_E_PARSE, "GetMetricData result %s: StatusCode missing", q[i].id);
    page->internal_error = strcmp(code->valuestring, "InternalError") == 0;
    if (page->internal_error || strcmp(code->valuestring, "Forbidden") == 0)
        return sw_err_set(err, SW_E_IO, "GetMetricData result %s (%s %s): %s: %.120s", q[i].id,
                          q[i].namespace_, q[i].metric, code->valuestring, first_message(res));
    if (strcmp(code->valuestring, "PartialData") == 0)
        page->partial = true;
    else if (strcmp(code->valuestring, "Complete") != 0)
        return sw_err_set(err, SW_E_PARSE, "GetMetricData result %s: unknown StatusCode",
                          q[i].id);
    if (!cJSON_IsArray(ts) || !cJSON_IsArray(vs))
        return sw_err_set(err, SW_E_PARSE,
                          "GetMetricData result %s: Timestamps and Values must be arrays",
                          q[i].id);
    return take_points(ts, vs, q[i].id, start_s, end_s, &page->series[i], err);
}

static sw_status
take_page(const cJSON *root, const sw_cwgmd_query *q, size_t n, int64_t start_s, int64_t end_s,
          sw_cwgmd_page *page, sw_err *err)
{
    const cJSON *results = cJSON_GetObjectItemCaseSensitive(root, "MetricDataResults");
    const cJSON *token = cJSON_GetObjectItemCaseSensitive(root, "NextToken");
    const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(root, "Messages");
    if (!cJSON_IsObject(root) || !cJSON_IsArray(results))
        return sw_err_set(err, SW_E_PARSE, "GetMetricData: MetricDataResults missing");
    if (token != NULL && !cJSON_IsNull(token) &&
        (!cJSON_IsString(token) || strlen(token->valuestring) >= sizeof page->next_token))
        return sw_err_set(err, SW_E_PARSE, "GetMetricData: NextToken not a string of < 4 KiB");
    if (msgs != NULL && !cJSON_IsArray(msgs) && !cJSON_IsNull(msgs))
        return sw_err_set(err, SW_E_PARSE, "GetMetricData: Messages is not an array");
    page->messages += (uint64_t)cJSON_GetArraySize(msgs);
    if (cJSON_IsString(token))
        strcpy(page->next_token, token->valuestring);
    sw_status st = SW_OK;
    for (const cJSON *r = results->child; st == SW_OK && r != NULL; r = r->next)
        st = take_result(r, q, n, start_s, end_s, page, err);
    return st;
}

sw_status
sw_cwgmd_parse(const uint8_t *data, size_t len, const sw_cwgmd_query *q, size_t n,
               int64_t start_s, int64_t end_s, sw_cwgmd_page *page, sw_err *err)
{
    cJSON *root;
    sw_cwgmd_page_reset(page);
    sw_status st = sw_json_parse(data, len, SW_CWGMD_MAX_RESPONSE, MAX_DEPTH, &root, err);
    if (st != SW_OK) {
        sw_err_prefix(err, "GetMetricData response");
        return st;
    }
    st = take_page(root, q, n, start_s, end_s, page, err);
    cJSON_Delete(root);
    return st;
}

/* ------------------------------------------------------------------ errors */

static const struct {
    const char *type;
    sw_cwgmd_fault fault;
} faults[] = {
    {"ThrottlingException", SW_CWGMD_FAULT_THROTTLED},
    {"Throttling", SW_CWGMD_FAULT_THROTTLED},
    {"RequestLimitExceeded", SW_CWGMD_FAULT_THROTTLED},
    {"TooManyRequestsException", SW_CWGMD_FAULT_THROTTLED},
    {"LimitExceededException", SW_CWGMD_FAULT_THROTTLED},
    {"ExpiredTokenException", SW_CWGMD_FAULT_EXPIRED},
    {"ExpiredToken", SW_CWGMD_FAULT_EXPIRED},
    {"RequestExpired", SW_CWGMD_FAULT_EXPIRED},
    {"InternalServiceFault", SW_CWGMD_FAULT_SERVER},
    {"InternalFailure", SW_CWGMD_FAULT_SERVER},
    {"ServiceUnavailable", SW_CWGMD_FAULT_SERVER},
    {"InvalidParameterValue", SW_CWGMD_FAULT_INVALID},
    {"InvalidParameterValueException", SW_CWGMD_FAULT_INVALID},
    {"InvalidParameterCombination", SW_CWGMD_FAULT_INVALID},
    {"InvalidParameterCombinationException", SW_CWGMD_FAULT_INVALID},
    {"MissingParameter", SW_CWGMD_FAULT_INVALID},
    {"InvalidNextToken", SW_CWGMD_FAULT_INVALID},
    {"SerializationException", SW_CWGMD_FAULT_INVALID},
    /* Denied: AWS answers most of these with 400, so the status alone would say invalid. */
    {"AccessDeniedException", SW_CWGMD_FAULT_DENIED},
    {"AccessDenied", SW_CWGMD_FAULT_DENIED},
    {"NotAuthorized", SW_CWGMD_FAULT_DENIED},
    {"UnrecognizedClientException", SW_CWGMD_FAULT_DENIED},
    {"InvalidClientTokenId", SW_CWGMD_FAULT_DENIED},
    {"InvalidSignatureException", SW_CWGMD_FAULT_DENIED},
    {"SignatureDoesNotMatch", SW_CWGMD_FAULT_DENIED},
    {"IncompleteSignature", SW_CWGMD_FAULT_DENIED},
    {"MissingAuthenticationToken", SW_CWGMD_FAULT_DENIED},
};

/* `__type` without a `namespace#` prefix or a `:suffix`, into out. */
static void
short_type(const char *type, char *out, size_t cap)
{
    const char *hash = strrchr(type, '#');
    const char *start = hash != NULL ? hash + 1 : type;
    size_t len = strcspn(start, ":");
    if (len >= cap)
        len = cap - 1;
    memcpy(out, start, len);
    out[len] = '\0';
}

static sw_cwgmd_fault
fault_of(long status, const char *type)
{
    for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++)
        if (strcmp(type, faults[i].type) == 0)
            return faults[i].fault;
    if (status == 429)
        return SW_CWGMD_FAULT_THROTTLED;
    if (status >= 500)
        return SW_CWGMD_FAULT_SERVER;
    if (status == 401 || status == 403)
        return SW_CWGMD_FAULT_DENIED;
    return SW_CWGMD_FAULT_INVALID;
}

sw_cwgmd_fault
sw_cwgmd_classify(long status, const uint8_t *body, size_t len, sw_err *err)
{
    char type[96] = "";
    char message[160] = "";
    cJSON *root = NULL;
    if (sw_json_parse(body, len, (size_t)64 << 10, MAX_DEPTH, &root, NULL) == SW_OK) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "__type");
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "message");
        if (!cJSON_IsString(m))
            m = cJSON_GetObjectItemCaseSensitive(root, "Message");
        if (cJSON_IsString(t))
            short_type(t->valuestring, type, sizeof type);
        if (cJSON_IsString(m))
            snprintf(message, sizeof message, "%s", m->valuestring);
        cJSON_Delete(root);
    }
    sw_cwgmd_fault f = fault_of(status, type);
    sw_err_set(err, f == SW_CWGMD_FAULT_INVALID ? SW_E_INVAL : SW_E_IO,
               "GetMetricData: HTTP %ld %s%s%s", status, type[0] != '\0' ? type : "error",
               message[0] != '\0' ? ": " : "", message);
    return f;
}
