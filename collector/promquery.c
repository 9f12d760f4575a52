/*
 * The query_range client and its response parser. The parser walks the cJSON tree of one
 * capped body and hands each sample to the reader's sink with labels pointing into the tree,
 * so nothing is allocated per sample. The client owns an HTTP client (connection reuse) and
 * the set of series already handed on within one fetch; one thread uses it at a time.
 */
#include "slawatch/promquery.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "slawatch/base64.h"
#include "slawatch/buf.h"
#include "slawatch/http_client.h"
#include "slawatch/json.h"

/* envelope{data{result[{values[[ts, {buckets[[...]]}]]}]}} is 7 deep; a little headroom. */
#define MAX_DEPTH 10
/* Timestamps beyond this many seconds from the epoch cannot be milliseconds in an int64. */
#define MAX_ABS_SECONDS 1e12
#define MAX_FORM_BYTES ((size_t)256 << 10)

/* ------------------------------------------------------------------ values */

/* JSON's number grammar, whole text: what Prometheus' FormatFloat and its peers write. */
static bool
is_decimal(const char *s)
{
    const char *p = s + (*s == '-');
    size_t digits = strspn(p, "0123456789");
    if (digits == 0)
        return false;
    p += digits;
    if (*p == '.') {
        digits = strspn(p + 1, "0123456789");
        if (digits == 0)
            return false;
        p += 1 + digits;
    }
    if (*p == 'e' || *p == 'E') {
        p += 1 + (p[1] == '+' || p[1] == '-');
        digits = strspn(p, "0123456789");
        if (digits == 0)
            return false;
        p += digits;
    }
    return *p == '\0';
}

/* A sample value as the API writes it: a decimal string, "NaN", "+Inf" or "-Inf". */
static bool
parse_value(const char *s, double *ret)
{
    if (strcmp(s, "NaN") == 0)
        *ret = NAN;
    else if (strcmp(s, "+Inf") == 0 || strcmp(s, "Inf") == 0)
        *ret = INFINITY;
    else if (strcmp(s, "-Inf") == 0)
        *ret = -INFINITY;
    else if (is_decimal(s))
        *ret = strtod(s, NULL); /* overflow gives ±HUGE_VAL = ±Inf, as Go's ParseFloat */
    else
        return false;
    return true;
}

/* ------------------------------------------------------------------ parser */

typedef struct parse_state {
    const sw_promquery_reader *rd;
    sw_promquery_counts *counts;
    sw_prom_label *labels; /* reused for every series */
    size_t cap_labels;
} parse_state;

static sw_status
status_error(const cJSON *root, sw_err *err)
{
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(root, "errorType");
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(root, "error");
    return sw_err_set(err, SW_E_INVAL, "PromQL error %s: %.160s",
                      cJSON_IsString(type) ? type->valuestring : "(no errorType)",
                      cJSON_IsString(msg) ? msg->valuestring : "(no error message)");
}

/* The result array of a successful matrix response. */
static sw_status
envelope(const cJSON *root, const cJSON **ret_result, sw_err *err)
{
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(root, "status");
    if (!cJSON_IsObject(root) || !cJSON_IsString(status))
        return sw_err_set(err, SW_E_PARSE, "expected an object with a status string");
    if (strcmp(status->valuestring, "error") == 0)
        return status_error(root, err);
    if (strcmp(status->valuestring, "success") != 0)
        return sw_err_set(err, SW_E_PARSE, "expected status success or error, found %.40s",
                          status->valuestring);
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(data, "resultType");
    const cJSON *result = cJSON_GetObjectItemCaseSensitive(data, "result");
    if (!cJSON_IsString(type) || !cJSON_IsArray(result))
        return sw_err_set(err, SW_E_PARSE, "expected data with resultType and a result array");
    if (strcmp(type->valuestring, "matrix") != 0)
        return sw_err_set(err, SW_E_PARSE, "expected resultType matrix, found %.40s",
                          type->valuestring);
    *ret_result = result;
    return SW_OK;
}

/* The series' labels into ps->labels and its name into s. */
static sw_status
read_metric(parse_state *ps, const cJSON *metric, size_t i, sw_prom_sample *s, sw_err *err)
{
    if (!cJSON_IsObject(metric))
        return sw_err_set(err, SW_E_PARSE, "series %zu: expected a metric object", i);
    size_t n = (size_t)cJSON_GetArraySize(metric);
    if (n > ps->cap_labels) {
        sw_prom_label *grown = realloc(ps->labels, n * sizeof *grown);
        if (grown == NULL)
            return sw_err_set(err, SW_E_NOMEM, "series %zu: out of memory for %zu labels", i, n);
        ps->labels = grown;
        ps->cap_labels = n;
    }
    *s = (sw_prom_sample){
        .name = "", .type = SW_PROM_UNKNOWN, .labels = ps->labels, .has_timestamp = true};
    const cJSON *l;
    cJSON_ArrayForEach(l, metric)
    {
        if (!cJSON_IsString(l))
            return sw_err_set(err, SW_E_PARSE, "series %zu: label %.60s is not a string", i,
                              l->string);
        if (strcmp(l->string, "__name__") == 0) {
            s->name = l->valuestring;
            s->name_len = strlen(l->valuestring);
            continue;
        }
        ps->labels[s->n_labels++] =
            (sw_prom_label){l->string, l->valuestring, strlen(l->string), strlen(l->valuestring)};
    }
    return SW_OK;
}

/* One [timestamp, "value"] pair into s. */
static sw_status
read_point(const cJSON *pt, size_t i, size_t k, sw_prom_sample *s, sw_err *err)
{
    const cJSON *ts = cJSON_GetArrayItem(pt, 0), *v = cJSON_GetArrayItem(pt, 1);
    if (!cJSON_IsArray(pt) || cJSON_GetArraySize(pt) != 2 || !cJSON_IsNumber(ts) ||
        !cJSON_IsString(v))
        return sw_err_set(err, SW_E_PARSE, "series %zu sample %zu: expected [timestamp, \"value\"]",
                          i, k);
    if (!isfinite(ts->valuedouble) || fabs(ts->valuedouble) > MAX_ABS_SECONDS)
        return sw_err_set(err, SW_E_PARSE, "series %zu sample %zu: timestamp out of range", i, k);
    if (!parse_value(v->valuestring, &s->value))
        return sw_err_set(err, SW_E_PARSE, "series %zu sample %zu: bad value \"%.40s\"", i, k,
                          v->valuestring);
    s->timestamp_ms = (int64_t)llround(ts->valuedouble * 1000.0);
    return SW_OK;
}

static sw_status
read_series(parse_state *ps, const cJSON *series, size_t i, sw_err *err)
{
    sw_prom_sample s;
    sw_status st = read_metric(ps, cJSON_GetObjectItemCaseSensitive(series, "metric"), i, &s, err);
    if (st != SW_OK)
        return st;
    const cJSON *values = cJSON_GetObjectItemCaseSensitive(series, "values");
    if (cJSON_GetObjectItemCaseSensitive(series, "histograms") != NULL && ps->counts != NULL)
        ps->counts->native_series++;
    if (values == NULL)
        return SW_OK; /* omitted when a series has only native histograms */
    if (!cJSON_IsArray(values))
        return sw_err_set(err, SW_E_PARSE, "series %zu: expected a values array", i);
    const sw_promquery_reader *rd = ps->rd;
    if (rd->skip != NULL && rd->skip(rd->skip_ctx, &s)) {
        if (ps->counts != NULL)
            ps->counts->skipped_series++;
        return SW_OK;
    }
    size_t k = 0;
    const cJSON *pt;
    cJSON_ArrayForEach(pt, values)
    {
        if ((st = read_point(pt, i, k++, &s, err)) != SW_OK ||
            (st = rd->sink.sample(rd->sink.ctx, &s, err)) != SW_OK)
            return st;
    }
    if (ps->counts != NULL) {
        ps->counts->series++;
        ps->counts->samples += k;
    }
    return SW_OK;
}

sw_status
sw_promquery_parse(const uint8_t *data, size_t len, size_t max_bytes, const sw_promquery_reader *rd,
                   sw_promquery_counts *counts, sw_err *err)
{
    SW_REQUIRE(rd != NULL && rd->sink.sample != NULL);
    cJSON *root = NULL;
    sw_status st = sw_json_parse(data, len, max_bytes, MAX_DEPTH, &root, err);
    if (st != SW_OK)
        return st;
    const cJSON *result = NULL;
    parse_state ps = {rd, counts, NULL, 0};
    if ((st = envelope(root, &result, err)) != SW_OK)
        goto out;
    size_t i = 0;
    const cJSON *series;
    cJSON_ArrayForEach(series, result)
    {
        if (!cJSON_IsObject(series)) {
            st = sw_err_set(err, SW_E_PARSE, "series %zu: expected an object", i);
            goto out;
        }
        if ((st = read_series(&ps, series, i++, err)) != SW_OK)
            goto out;
    }
out:
    free(ps.labels);
    cJSON_Delete(root);
    return st;
}

/* ------------------------------------------------------------------ ranges */

int64_t
sw_promquery_page_end(int64_t start_ms, int64_t end_ms, int64_t step_ms, size_t max_points)
{
    SW_REQUIRE(start_ms <= end_ms && step_ms > 0 && max_points > 0);
    int64_t steps = (end_ms - start_ms) / step_ms;
    if ((uint64_t)steps >= max_points)
        steps = (int64_t)max_points - 1;
    return start_ms + steps * step_ms;
}

sw_status
sw_promquery_bucket_selector(const char *selector, char *out, size_t cap, sw_err *err)
{
    static const char first[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_:";
    static const char rest[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_:0123456789";
    const char *p = selector + strspn(selector, " \t\r\n");
    if (*p == '\0' || strchr(first, *p) == NULL)
        return sw_err_set(err, SW_E_INVAL,
                          "latency selector %.80s: a metric name must come first to query its "
                          "_bucket series",
                          selector);
    size_t name_len = strspn(p, rest);
    int n = snprintf(out, cap, "%.*s_bucket%s", (int)name_len, p, p + name_len);
    if (n < 0 || (size_t)n >= cap)
        return sw_err_set(err, SW_E_TOOBIG, "latency selector %.80s: too long", selector);
    return SW_OK;
}

/* ------------------------------------------------------------------ series seen */

/* Series handed on within one fetch, each tagged with the selector that brought it. */
typedef struct seen_set {
    char **keys; /* canonical "name\0l1\0v1\0..." with its length in front */
    size_t *lens;
    unsigned *tags;
    size_t n, cap; /* cap: a power of two, at most half full */
    unsigned tag;  /* the selector being read */
    bool nomem;
} seen_set;

static uint64_t
fnv1a(const char *p, size_t n)
{
    uint64_t h = UINT64_C(14695981039346656037);
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)p[i]) * UINT64_C(1099511628211);
    return h;
}

static int
label_cmp(const void *a, const void *b)
{
    const sw_prom_label *x = a, *y = b;
    size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
    int c = memcmp(x->name, y->name, n);
    return c != 0 ? c : (x->name_len > y->name_len) - (x->name_len < y->name_len);
}

/* The series' identity whatever order its labels came in. */
static sw_status
series_key(const sw_prom_sample *s, sw_buf *key)
{
    sw_prom_label *sorted = malloc((s->n_labels ? s->n_labels : 1) * sizeof *sorted);
    if (sorted == NULL)
        return SW_E_NOMEM;
    memcpy(sorted, s->labels, s->n_labels * sizeof *sorted);
    qsort(sorted, s->n_labels, sizeof *sorted, label_cmp);
    sw_status st = sw_buf_append(key, s->name, s->name_len + 1, NULL);
    for (size_t i = 0; st == SW_OK && i < s->n_labels; i++) {
        st = sw_buf_append(key, sorted[i].name, sorted[i].name_len + 1, NULL);
        if (st == SW_OK)
            st = sw_buf_append(key, sorted[i].value, sorted[i].value_len + 1, NULL);
    }
    free(sorted);
    return st;
}

static bool
seen_grow(seen_set *set)
{
    size_t cap = set->cap ? set->cap * 2 : 64;
    seen_set grown = {calloc(cap, sizeof(char *)),
                      calloc(cap, sizeof(size_t)),
                      calloc(cap, sizeof(unsigned)),
                      set->n,
                      cap,
                      set->tag,
                      false};
    if (grown.keys == NULL || grown.lens == NULL || grown.tags == NULL) {
        free(grown.keys);
        free(grown.lens);
        free(grown.tags);
        return false;
    }
    for (size_t i = 0; i < set->cap; i++) {
        if (set->keys[i] == NULL)
            continue;
        size_t j = fnv1a(set->keys[i], set->lens[i]) & (cap - 1);
        while (grown.keys[j] != NULL)
            j = (j + 1) & (cap - 1);
        grown.keys[j] = set->keys[i];
        grown.lens[j] = set->lens[i];
        grown.tags[j] = set->tags[i];
    }
    free(set->keys);
    free(set->lens);
    free(set->tags);
    *set = grown;
    return true;
}

/* Was key brought by an earlier selector? Records it for this one otherwise. */
static bool
seen_check(seen_set *set, const sw_buf *key)
{
    if ((set->n + 1) * 2 > set->cap && !seen_grow(set)) {
        set->nomem = true;
        return false;
    }
    const char *k = (const char *)key->data;
    size_t j = fnv1a(k, key->len) & (set->cap - 1);
    for (; set->keys[j] != NULL; j = (j + 1) & (set->cap - 1))
        if (set->lens[j] == key->len && memcmp(set->keys[j], k, key->len) == 0)
            return set->tags[j] != set->tag;
    char *copy = malloc(key->len);
    if (copy == NULL) {
        set->nomem = true;
        return false;
    }
    memcpy(copy, k, key->len);
    set->keys[j] = copy;
    set->lens[j] = key->len;
    set->tags[j] = set->tag;
    set->n++;
    return false;
}

static bool
seen_skip(void *ctx, const sw_prom_sample *s)
{
    seen_set *set = ctx;
    sw_buf key;
    sw_buf_init(&key, SIZE_MAX);
    bool skip = false;
    if (series_key(s, &key) != SW_OK)
        set->nomem = true;
    else
        skip = seen_check(set, &key);
    sw_buf_fini(&key);
    return skip;
}

static void
seen_fini(seen_set *set)
{
    for (size_t i = 0; i < set->cap; i++)
        free(set->keys[i]);
    free(set->keys);
    free(set->lens);
    free(set->tags);
    *set = (seen_set){0};
}

/* ------------------------------------------------------------------ client */

struct sw_promquery {
    sw_http_client *http;
    char *endpoint;  /* <url>/api/v1/query_range */
    char where[300]; /* the endpoint, redacted, for messages */
    char **headers;  /* owned "Name: value" lines, Authorization: Basic among them */
    size_t n_headers;
    char *bearer_token;
    sw_promquery_options o;
};

static bool
sleep_real(void *ctx, int64_t ms)
{
    (void)ctx;
    struct timespec ts = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
    return true;
}

static sw_status
add_header(sw_promquery *q, const char *line, sw_err *err)
{
    char *copy = strdup(line);
    if (copy == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory copying query headers");
    q->headers[q->n_headers++] = copy;
    return SW_OK;
}

static sw_status
add_basic_auth(sw_promquery *q, const char *user, const char *password, sw_err *err)
{
    sw_buf plain, line;
    sw_buf_init(&plain, 4096);
    sw_buf_init(&line, 8192);
    sw_status st = sw_buf_printf(&plain, err, "%s:%s", user, password ? password : "");
    if (st == SW_OK)
        st = sw_buf_append(&line, "Authorization: Basic ", 21, err);
    if (st == SW_OK)
        st = sw_base64_encode(plain.data, plain.len, &line, err);
    const char *text = st == SW_OK ? sw_buf_cstr(&line, err) : NULL;
    if (text != NULL)
        st = add_header(q, text, err);
    else if (st == SW_OK)
        st = SW_E_NOMEM;
    sw_buf_fini(&plain);
    sw_buf_fini(&line);
    return st;
}

static sw_status
copy_options(sw_promquery *q, const sw_promquery_options *o, sw_err *err)
{
    q->o = *o;
    q->o.url = q->o.basic_user = q->o.basic_password = q->o.bearer_token = NULL;
    q->o.headers = NULL;
    size_t base_len = strlen(o->url);
    while (base_len > 0 && o->url[base_len - 1] == '/')
        base_len--;
    size_t cap = base_len + sizeof "/api/v1/query_range";
    if ((q->endpoint = malloc(cap)) == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory");
    snprintf(q->endpoint, cap, "%.*s/api/v1/query_range", (int)base_len, o->url);
    sw_http_client_redact_url(q->endpoint, q->where, sizeof q->where);
    /* Room for Authorization: Basic and the NULL that ends the list. */
    q->headers = calloc(o->n_headers + 2, sizeof *q->headers);
    if (q->headers == NULL ||
        (o->bearer_token != NULL && (q->bearer_token = strdup(o->bearer_token)) == NULL))
        return sw_err_set(err, SW_E_NOMEM, "out of memory");
    sw_status st = SW_OK;
    for (size_t i = 0; st == SW_OK && i < o->n_headers; i++)
        st = add_header(q, o->headers[i], err);
    if (st == SW_OK && o->basic_user != NULL)
        st = add_basic_auth(q, o->basic_user, o->basic_password, err);
    return st;
}

sw_status
sw_promquery_new(const sw_promquery_options *o, sw_promquery **ret, sw_err *err)
{
    SW_REQUIRE(o != NULL && ret != NULL);
    if (o->url == NULL ||
        (strncmp(o->url, "http://", 7) != 0 && strncmp(o->url, "https://", 8) != 0))
        return sw_err_set(err, SW_E_INVAL, "prometheus query: expected an http(s) URL");
    if (o->n_headers > SW_PROMQUERY_MAX_HEADERS)
        return sw_err_set(err, SW_E_INVAL, "prometheus query: more than %d headers",
                          SW_PROMQUERY_MAX_HEADERS);
    sw_promquery *q = calloc(1, sizeof *q);
    if (q == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory");
    sw_status st = copy_options(q, o, err);
    if (st == SW_OK)
        st = sw_http_client_new(&q->http, err);
    if (st != SW_OK) {
        sw_promquery_free(q);
        return st;
    }
    *ret = q;
    return SW_OK;
}

void
sw_promquery_free(sw_promquery *q)
{
    if (q == NULL)
        return;
    sw_http_client_free(q->http);
    for (size_t i = 0; i < q->n_headers; i++)
        free(q->headers[i]);
    free(q->headers);
    free(q->endpoint);
    free(q->bearer_token);
    free(q);
}

/* application/x-www-form-urlencoded value: unreserved bytes as is, the rest %XX. */
static sw_status
form_value(sw_buf *b, const char *s, sw_err *err)
{
    static const char hex[] = "0123456789ABCDEF";
    sw_status st = SW_OK;
    for (const unsigned char *p = (const unsigned char *)s; st == SW_OK && *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-_.~", *p) != NULL) {
            st = sw_buf_append(b, p, 1, err);
        } else {
            char esc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            st = sw_buf_append(b, esc, 3, err);
        }
    }
    return st;
}

/* Milliseconds as the API's seconds with a fraction. */
static void
seconds(int64_t ms, char *out, size_t cap)
{
    lldiv_t d = lldiv((long long)ms, 1000);
    if (d.rem < 0) {
        d.quot--;
        d.rem += 1000;
    }
    snprintf(out, cap, "%lld.%03lld", d.quot, d.rem);
}

static sw_status
build_form(sw_buf *b, const char *selector, int64_t start_ms, int64_t end_ms, int64_t step_ms,
           sw_err *err)
{
    char start[32], end[32], step[32];
    seconds(start_ms, start, sizeof start);
    seconds(end_ms, end, sizeof end);
    seconds(step_ms, step, sizeof step);
    sw_status st = sw_buf_append(b, "query=", 6, err);
    if (st == SW_OK)
        st = form_value(b, selector, err);
    if (st == SW_OK)
        st = sw_buf_printf(b, err, "&start=%s&end=%s&step=%s", start, end, step);
    return st;
}

/* A refused query's reason: the API's errorType and error when the body has them. */
static sw_status
refused(const sw_promquery *q, const char *selector, const sw_http_fetch_response *resp,
        sw_status code, sw_err *err)
{
    cJSON *root = NULL;
    sw_err why;
    if (sw_json_parse(resp->body.data, resp->body.len, resp->body.len, MAX_DEPTH, &root, NULL) ==
            SW_OK &&
        cJSON_IsObject(root) && cJSON_GetObjectItemCaseSensitive(root, "errorType") != NULL)
        status_error(root, &why);
    else
        snprintf(why.msg, sizeof why.msg, "%.*s",
                 (int)(resp->body.len < 120 ? resp->body.len : 120),
                 resp->body.len ? (const char *)resp->body.data : "");
    cJSON_Delete(root);
    return sw_err_set(err, code, "%s: HTTP %ld: %.170s (query %.60s)", q->where, resp->status,
                      why.msg, selector);
}

/* One attempt. *retry says whether a failure is worth another. */
static sw_status
attempt(sw_promquery *q, const char *selector, const sw_buf *form, const sw_promquery_reader *rd,
        sw_promquery_counts *counts, bool *retry, sw_err *err)
{
    sw_http_fetch_request rq = {
        .method = "POST",
        .url = q->endpoint,
        .content_type = "application/x-www-form-urlencoded",
        .body = form->data,
        .body_len = form->len,
        .bearer_token = q->bearer_token,
        .headers = (const char *const *)q->headers,
        .timeout_ms = q->o.timeout_ms ? q->o.timeout_ms : SW_PROMQUERY_DEFAULT_TIMEOUT_MS,
        .max_response_bytes =
            q->o.max_response_bytes ? q->o.max_response_bytes : SW_PROMQUERY_DEFAULT_MAX_RESPONSE,
    };
    sw_http_fetch_response resp;
    sw_status st = sw_http_client_fetch(q->http, &rq, &resp, err);
    *retry = st == SW_E_IO;
    if (st != SW_OK) {
        sw_err_prefix(err, "query %.60s", selector);
        return st;
    }
    if (resp.status < 200 || resp.status > 299) {
        *retry = resp.status >= 500 || resp.status == 429;
        st = refused(q, selector, &resp, *retry ? SW_E_IO : SW_E_INVAL, err);
    } else {
        st = sw_promquery_parse(resp.body.data, resp.body.len, resp.body.len, rd, counts, err);
        if (st != SW_OK)
            sw_err_prefix(err, "%s: query %.60s", q->where, selector);
    }
    sw_http_fetch_response_fini(&resp);
    return st;
}

/* One selector, retried with doubling waits while the failure is transient. */
static sw_status
fetch_one(sw_promquery *q, const char *selector, const sw_buf *form, const sw_promquery_reader *rd,
          sw_promquery_counts *counts, sw_err *err)
{
    bool (*nap)(void *, int64_t) = q->o.sleep != NULL ? q->o.sleep : sleep_real;
    int64_t wait = q->o.backoff_ms > 0 ? q->o.backoff_ms : SW_PROMQUERY_DEFAULT_BACKOFF_MS;
    for (unsigned n = 0;; n++) {
        bool retry;
        sw_status st = attempt(q, selector, form, rd, counts, &retry, err);
        if (st == SW_OK || !retry || n == q->o.retries || !nap(q->o.sleep_ctx, wait))
            return st;
        wait = wait * 2 < SW_PROMQUERY_MAX_BACKOFF_MS ? wait * 2 : SW_PROMQUERY_MAX_BACKOFF_MS;
    }
}

sw_status
sw_promquery_fetch(sw_promquery *q, const char *const *selectors, size_t n, int64_t start_ms,
                   int64_t end_ms, int64_t step_ms, const sw_prom_sink *sink,
                   sw_promquery_counts *counts, sw_err *err)
{
    SW_REQUIRE(q != NULL && sink != NULL && step_ms > 0 && start_ms <= end_ms);
    seen_set seen = {0};
    sw_promquery_reader rd = {*sink, seen_skip, &seen};
    sw_buf form;
    sw_buf_init(&form, MAX_FORM_BYTES);
    sw_status st = SW_OK;
    for (size_t i = 0; st == SW_OK && i < n; i++) {
        seen.tag = (unsigned)i;
        sw_buf_reset(&form);
        st = build_form(&form, selectors[i], start_ms, end_ms, step_ms, err);
        if (st == SW_OK)
            st = fetch_one(q, selectors[i], &form, &rd, counts, err);
        if (st == SW_OK && seen.nomem)
            st = sw_err_set(err, SW_E_NOMEM, "out of memory tracking query series");
    }
    sw_buf_fini(&form);
    seen_fini(&seen);
    return st;
}
