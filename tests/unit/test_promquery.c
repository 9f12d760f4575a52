/*
 * Unit tests for the query_range client: the response parser on the Prometheus HTTP API
 * documentation's own query_range example and error envelope (expected values read off the
 * documented JSON), NaN / ±Inf strings, malformed shapes, the size cap, range splitting
 * against Prometheus' 11,000-point rule, the `_bucket` selector, and the HTTP side (retries,
 * no retry on 4xx, headers and form body) against the loopback responder.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_responder.h"
#include "slawatch/promquery.h"

/* ------------------------------------------------------------------ a recording sink */

#define MAX_REC 64

typedef struct rec_sample {
    char name[64];
    char labels[256]; /* "a=1,b=2" in the order given */
    double value;
    int64_t ts_ms;
} rec_sample;

typedef struct recorder {
    rec_sample s[MAX_REC];
    size_t n;
    size_t fail_at; /* the sink refuses the sample with this index; SIZE_MAX: never */
} recorder;

static sw_status
rec_sample_fn(void *ctx, const sw_prom_sample *s, sw_err *err)
{
    recorder *r = ctx;
    if (r->n == r->fail_at)
        return sw_err_set(err, SW_E_RANGE, "sink refused sample %zu", r->n);
    assert_true(r->n < MAX_REC);
    rec_sample *o = &r->s[r->n++];
    snprintf(o->name, sizeof o->name, "%.*s", (int)s->name_len, s->name);
    o->labels[0] = '\0';
    for (size_t i = 0; i < s->n_labels; i++) {
        size_t used = strlen(o->labels);
        snprintf(o->labels + used, sizeof o->labels - used, "%s%.*s=%.*s", i ? "," : "",
                 (int)s->labels[i].name_len, s->labels[i].name, (int)s->labels[i].value_len,
                 s->labels[i].value);
    }
    assert_true(s->has_timestamp);
    assert_int_equal(s->type, SW_PROM_UNKNOWN);
    o->value = s->value;
    o->ts_ms = s->timestamp_ms;
    return SW_OK;
}

static sw_status
parse(const char *body, size_t max, recorder *r, sw_promquery_counts *c, sw_err *err)
{
    sw_promquery_reader rd = {{r, rec_sample_fn, NULL}, NULL, NULL};
    return sw_promquery_parse((const uint8_t *)body, strlen(body), max, &rd, c, err);
}

/* ------------------------------------------------------------------ parser */

/* The query_range example of prometheus.io/docs/prometheus/latest/querying/api/. */
static const char doc_example[] =
    "{\n   \"status\" : \"success\",\n   \"data\" : {\n      \"resultType\" : \"matrix\",\n"
    "      \"result\" : [\n         {\n            \"metric\" : {\n"
    "               \"__name__\" : \"up\",\n               \"job\" : \"prometheus\",\n"
    "               \"instance\" : \"localhost:9090\"\n            },\n"
    "            \"values\" : [\n               [ 1435781430.781, \"1\" ],\n"
    "               [ 1435781445.781, \"1\" ],\n               [ 1435781460.781, \"1\" ]\n"
    "            ]\n         },\n         {\n            \"metric\" : {\n"
    "               \"__name__\" : \"up\",\n               \"job\" : \"node\",\n"
    "               \"instance\" : \"localhost:9091\"\n            },\n"
    "            \"values\" : [\n               [ 1435781430.781, \"0\" ],\n"
    "               [ 1435781445.781, \"0\" ],\n               [ 1435781460.781, \"1\" ]\n"
    "            ]\n         }\n      ]\n   }\n}\n";

static void
test_parse_documented_matrix(void **state)
{
    (void)state;
    recorder r = {.fail_at = SIZE_MAX};
    sw_promquery_counts c = {0};
    sw_err err;
    assert_int_equal(parse(doc_example, 1 << 20, &r, &c, &err), SW_OK);
    assert_int_equal(r.n, 6);
    assert_int_equal(c.series, 2);
    assert_int_equal(c.samples, 6);
    static const struct {
        const char *labels;
        double value;
        int64_t ts_ms;
    } want[] = {
        {"job=prometheus,instance=localhost:9090", 1, INT64_C(1435781430781)},
        {"job=prometheus,instance=localhost:9090", 1, INT64_C(1435781445781)},
        {"job=prometheus,instance=localhost:9090", 1, INT64_C(1435781460781)},
        {"job=node,instance=localhost:9091", 0, INT64_C(1435781430781)},
        {"job=node,instance=localhost:9091", 0, INT64_C(1435781445781)},
        {"job=node,instance=localhost:9091", 1, INT64_C(1435781460781)},
    };
    for (size_t i = 0; i < 6; i++) {
        assert_string_equal(r.s[i].name, "up");
        assert_string_equal(r.s[i].labels, want[i].labels);
        assert_true(r.s[i].value == want[i].value);
        assert_int_equal(r.s[i].ts_ms, want[i].ts_ms);
    }
}

static void
test_parse_special_values(void **state)
{
    (void)state;
    const char *body = "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":["
                       "{\"metric\":{\"__name__\":\"x_bucket\",\"le\":\"+Inf\"},\"values\":["
                       "[10,\"NaN\"],[20,\"+Inf\"],[30,\"-Inf\"],[40,\"0.25\"],[50,\"-3\"],"
                       "[60,\"1e+06\"],[70.5,\"123456789012345678901234567890\"]]}]}}";
    recorder r = {.fail_at = SIZE_MAX};
    sw_err err;
    assert_int_equal(parse(body, 1 << 20, &r, NULL, &err), SW_OK);
    assert_int_equal(r.n, 7);
    assert_string_equal(r.s[0].labels, "le=+Inf");
    assert_true(isnan(r.s[0].value));
    assert_true(isinf(r.s[1].value) && r.s[1].value > 0);
    assert_true(isinf(r.s[2].value) && r.s[2].value < 0);
    assert_true(r.s[3].value == 0.25);
    assert_true(r.s[4].value == -3);
    assert_true(r.s[5].value == 1e6);
    assert_true(r.s[6].value == 123456789012345678901234567890.0);
    assert_int_equal(r.s[6].ts_ms, 70500);
}

/* What Prometheus 2.42 answers for `query=foo{` (HTTP 400). */
static void
test_parse_promql_error(void **state)
{
    (void)state;
    const char *body = "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"invalid "
                       "parameter \\\"query\\\": 1:5: parse error: unexpected end of input "
                       "inside braces\"}";
    recorder r = {.fail_at = SIZE_MAX};
    sw_err err;
    assert_int_equal(parse(body, 1 << 20, &r, NULL, &err), SW_E_INVAL);
    assert_int_equal(r.n, 0);
    assert_non_null(strstr(err.msg, "PromQL error bad_data"));
    assert_non_null(strstr(err.msg, "unexpected end of input inside braces"));
}

static void
test_parse_rejects(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        const char *msg; /* part of the message */
    } cases[] = {
        {"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[]}}",
         "expected resultType matrix, found vector"},
        {"{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[", "syntax"},
        {"[1,2]", "status"},
        {"{\"status\":\"pending\"}", "expected status success or error"},
        {"{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[{\"metric\":"
         "{\"a\":1},\"values\":[]}]}}",
         "series 0: label a is not a string"},
        {"{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[{\"metric\":{},"
         "\"values\":[[1,\"1\"],[2,\"0x10\"]]}]}}",
         "series 0 sample 1: bad value \"0x10\""},
        {"{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[{\"metric\":{},"
         "\"values\":[[1,\" 1\"]]}]}}",
         "bad value"},
        {"{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[{\"metric\":{},"
         "\"values\":[[\"1\",\"1\"]]}]}}",
         "expected [timestamp, \"value\"]"},
        {"{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[{\"metric\":{},"
         "\"values\":[[1e300,\"1\"]]}]}}",
         "timestamp out of range"},
        {"{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[{\"metric\":{},"
         "\"values\":[[1,\"1\",2]]}]}}",
         "expected [timestamp"},
        {"{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[7]}}",
         "series 0: expected an object"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        recorder r = {.fail_at = SIZE_MAX};
        sw_err err = {0};
        assert_int_equal(parse(cases[i].body, 1 << 20, &r, NULL, &err), SW_E_PARSE);
        if (strstr(err.msg, cases[i].msg) == NULL)
            fail_msg("case %zu: message \"%s\" lacks \"%s\"", i, err.msg, cases[i].msg);
    }
}

static void
test_parse_cap_and_sink_error(void **state)
{
    (void)state;
    recorder r = {.fail_at = SIZE_MAX};
    sw_err err;
    assert_int_equal(parse(doc_example, strlen(doc_example) - 1, &r, NULL, &err), SW_E_TOOBIG);
    assert_int_equal(r.n, 0);
    recorder refusing = {.fail_at = 2};
    assert_int_equal(parse(doc_example, 1 << 20, &refusing, NULL, &err), SW_E_RANGE);
    assert_string_equal(err.msg, "sink refused sample 2");
}

/* A response several times the cap: refused before anything reaches the sink. */
static void
test_parse_huge_response(void **state)
{
    (void)state;
    size_t points = 200000;
    size_t cap = 64 + points * 16;
    char *body = malloc(cap);
    assert_non_null(body);
    size_t n = (size_t)snprintf(body, cap,
                                "{\"status\":\"success\",\"data\":{\"resultType\":"
                                "\"matrix\",\"result\":[{\"metric\":{},\"values\":[");
    for (size_t i = 0; i < points; i++)
        n += (size_t)snprintf(body + n, cap - n, "%s[%zu,\"1\"]", i ? "," : "", i);
    n += (size_t)snprintf(body + n, cap - n, "]}]}}");
    recorder r = {.fail_at = SIZE_MAX};
    sw_promquery_reader rd = {{&r, rec_sample_fn, NULL}, NULL, NULL};
    sw_err err;
    assert_int_equal(sw_promquery_parse((const uint8_t *)body, n, (size_t)1 << 20, &rd, NULL, &err),
                     SW_E_TOOBIG);
    assert_int_equal(r.n, 0);
    free(body);
}

static void
test_parse_native_only_series(void **state)
{
    (void)state;
    const char *body = "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":["
                       "{\"metric\":{\"__name__\":\"h\"},\"histograms\":[[1,{\"count\":\"2\","
                       "\"sum\":\"0.5\",\"buckets\":[[0,\"0.1\",\"0.2\",\"2\"]]}]]}]}}";
    recorder r = {.fail_at = SIZE_MAX};
    sw_promquery_counts c = {0};
    sw_err err;
    assert_int_equal(parse(body, 1 << 20, &r, &c, &err), SW_OK);
    assert_int_equal(r.n, 0);
    assert_int_equal(c.native_series, 1);
}

/* ------------------------------------------------------------------ ranges */

static void
test_page_end(void **state)
{
    (void)state;
    /* Prometheus refuses (end - start) / step > 11000, i.e. more than 11,001 points; a page
     * holds at most max_points points. */
    static const struct {
        int64_t start, end, step;
        size_t max;
        int64_t want;
    } cases[] = {
        {0, 0, 10, 11000, 0},
        {0, 55, 10, 11000, 50},
        {1000, 200000000, 10000, 11000, 1000 + 10999 * INT64_C(10000)},
        {1000, 100000000, 10000, 11000, 1000 + 9999 * INT64_C(10000)},
        {0, 20, 10, 1, 0},
        {0, 20, 10, 3, 20},
        {0, 20, 10, 2, 10},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(
            sw_promquery_page_end(cases[i].start, cases[i].end, cases[i].step, cases[i].max),
            cases[i].want);
    /* A day at 1 s: 86,401 points in ceil(86401 / 11000) = 8 pages, none skipped or repeated. */
    int64_t start = 0, end = 86400000, pages = 0, points = 0;
    while (start <= end) {
        int64_t page_end = sw_promquery_page_end(start, end, 1000, SW_PROMQUERY_MAX_POINTS);
        assert_true((page_end - start) / 1000 + 1 <= 11000);
        points += (page_end - start) / 1000 + 1;
        pages++;
        start = page_end + 1000;
    }
    assert_int_equal(pages, 8);
    assert_int_equal(points, 86401);
}

static void
test_bucket_selector(void **state)
{
    (void)state;
    char out[128];
    sw_err err;
    assert_int_equal(sw_promquery_bucket_selector("http_request_duration_seconds{job=\"api\"}", out,
                                                  sizeof out, &err),
                     SW_OK);
    assert_string_equal(out, "http_request_duration_seconds_bucket{job=\"api\"}");
    assert_int_equal(sw_promquery_bucket_selector("rpc:latency", out, sizeof out, &err), SW_OK);
    assert_string_equal(out, "rpc:latency_bucket");
    assert_int_equal(sw_promquery_bucket_selector("{__name__=\"x\"}", out, sizeof out, &err),
                     SW_E_INVAL);
    assert_non_null(strstr(err.msg, "metric name must come first"));
    assert_int_equal(sw_promquery_bucket_selector("abc{}", out, 8, &err), SW_E_TOOBIG);
}

/* ------------------------------------------------------------------ HTTP */

typedef struct naps {
    int64_t ms[8];
    size_t n;
} naps;

static bool
record_nap(void *ctx, int64_t ms)
{
    naps *z = ctx;
    if (z->n < 8)
        z->ms[z->n] = ms;
    z->n++;
    return true;
}

static sw_status
fetch_from(const char *url, naps *z, const char *const *headers, size_t n_headers, const char *user,
           sw_err *err)
{
    sw_promquery_options o = {.url = url,
                              .retries = 3,
                              .backoff_ms = 100,
                              .sleep = record_nap,
                              .sleep_ctx = z,
                              .headers = headers,
                              .n_headers = n_headers,
                              .basic_user = user,
                              .basic_password = "s3cret",
                              .timeout_ms = 5000};
    sw_promquery *q;
    assert_int_equal(sw_promquery_new(&o, &q, err), SW_OK);
    recorder r = {.fail_at = SIZE_MAX};
    sw_prom_sink sink = {&r, rec_sample_fn, NULL};
    const char *sel = "up{job=~\"a|b\"}";
    sw_status st = sw_promquery_fetch(q, &sel, 1, 10000, 20000, 10000, &sink, NULL, err);
    assert_int_equal(r.n, 0);
    sw_promquery_free(q);
    return st;
}

static void
test_fetch_retries_5xx_not_4xx(void **state)
{
    http_responder *srv = *state;
    char url[128];
    naps z = {0};
    sw_err err;
    http_responder_url(srv, "/status/503", url, sizeof url);
    assert_int_equal(fetch_from(url, &z, NULL, 0, NULL, &err), SW_E_IO);
    assert_int_equal(z.n, 3);
    assert_int_equal(z.ms[0], 100);
    assert_int_equal(z.ms[1], 200);
    assert_int_equal(z.ms[2], 400);
    assert_non_null(strstr(err.msg, "HTTP 503"));
    assert_non_null(strstr(err.msg, "up{job=~\"a|b\"}"));

    z = (naps){0};
    http_responder_url(srv, "/status/429", url, sizeof url);
    assert_int_equal(fetch_from(url, &z, NULL, 0, NULL, &err), SW_E_IO);
    assert_int_equal(z.n, 3);

    z = (naps){0};
    http_responder_url(srv, "/status/400", url, sizeof url);
    assert_int_equal(fetch_from(url, &z, NULL, 0, NULL, &err), SW_E_INVAL);
    assert_int_equal(z.n, 0);
    assert_non_null(strstr(err.msg, "HTTP 400"));

    /* 200 that is not JSON: a parse error, not worth retrying. */
    z = (naps){0};
    http_responder_url(srv, "/status/200", url, sizeof url);
    assert_int_equal(fetch_from(url, &z, NULL, 0, NULL, &err), SW_E_PARSE);
    assert_int_equal(z.n, 0);
}

static void
test_fetch_network_error_retried(void **state)
{
    (void)state;
    http_responder *gone = http_responder_start();
    assert_non_null(gone);
    char url[128];
    http_responder_url(gone, "", url, sizeof url);
    http_responder_stop(gone); /* nothing listens on that port any more */
    naps z = {0};
    sw_err err;
    assert_int_equal(fetch_from(url, &z, NULL, 0, NULL, &err), SW_E_IO);
    assert_int_equal(z.n, 3);
}

static void
test_fetch_request_shape(void **state)
{
    http_responder *srv = *state;
    char url[128], seen[8192];
    naps z = {0};
    sw_err err;
    http_responder_url(srv, "/echo/", url, sizeof url);
    const char *headers[] = {"X-Scope-OrgID: tenant-1"};
    assert_int_equal(fetch_from(url, &z, headers, 1, "alice", &err), SW_E_PARSE);
    http_responder_last_request(srv, seen, sizeof seen);
    assert_non_null(strstr(seen, "POST /echo/api/v1/query_range HTTP/1.1\r\n"));
    assert_non_null(strstr(seen, "Content-Type: application/x-www-form-urlencoded\r\n"));
    assert_non_null(strstr(seen, "X-Scope-OrgID: tenant-1\r\n"));
    /* base64("alice:s3cret"), worked out by hand from RFC 4648's alphabet */
    assert_non_null(strstr(seen, "Authorization: Basic YWxpY2U6czNjcmV0\r\n"));
    assert_non_null(strstr(seen, "\r\n\r\nquery=up%7Bjob%3D~%22a%7Cb%22%7D&start=10.000&"
                                 "end=20.000&step=10.000"));
    /* The password never appears in a message. */
    assert_null(strstr(err.msg, "s3cret"));
}

static int
setup(void **state)
{
    http_responder *srv = http_responder_start();
    *state = srv;
    return srv != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
    http_responder_stop(*state);
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_documented_matrix),
        cmocka_unit_test(test_parse_special_values),
        cmocka_unit_test(test_parse_promql_error),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_parse_cap_and_sink_error),
        cmocka_unit_test(test_parse_huge_response),
        cmocka_unit_test(test_parse_native_only_series),
        cmocka_unit_test(test_page_end),
        cmocka_unit_test(test_bucket_selector),
        cmocka_unit_test(test_fetch_retries_5xx_not_4xx),
        cmocka_unit_test(test_fetch_network_error_retried),
        cmocka_unit_test(test_fetch_request_shape),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
