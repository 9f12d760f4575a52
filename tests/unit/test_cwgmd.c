/*
 * Unit tests for GetMetricData (collector/cwgmd.c, cwgmd_client.c). Responses and error bodies
 * are written by hand in the shapes of the CloudWatch API reference (GetMetricData: output
 * MetricDataResults [{Id, Label, Timestamps, Values, StatusCode, Messages}], NextToken,
 * Messages; AWS JSON 1.0 errors {"__type", "message"}; timestamps as epoch seconds). Requests
 * built by slawatch are read back with cJSON and checked field by field against the request
 * syntax of the reference. The client's split into calls of at most 500 queries runs against
 * the scripted loopback responder in tests/support.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "script_responder.h"
#include "slawatch/cwgmd.h"

#define T0 1700000040 /* a whole minute */

static const sw_label alb_dims[] = {{"LoadBalancer", "app/web/0123456789abcdef"}};

static sw_cwgmd_query queries[2];

static void
init_queries(void)
{
    queries[0] = (sw_cwgmd_query){.id = "m1",
                                  .namespace_ = "AWS/ApplicationELB",
                                  .metric = "RequestCount",
                                  .stat = "Sum",
                                  .dimensions = alb_dims,
                                  .n_dimensions = 1,
                                  .period_s = 60};
    queries[1] = (sw_cwgmd_query){.id = "m2",
                                  .namespace_ = "AWS/ApplicationELB",
                                  .metric = "TargetResponseTime",
                                  .stat = "p99",
                                  .dimensions = alb_dims,
                                  .n_dimensions = 1,
                                  .period_s = 60};
}

typedef struct fixture {
    sw_cwgmd_series series[2];
    sw_cwgmd_page page;
} fixture;

static int
setup(void **state)
{
    init_queries();
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->page.series = f->series;
    f->page.n_series = 2;
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture *f = *state;
    for (size_t i = 0; i < 2; i++)
        sw_cwgmd_series_fini(&f->series[i]);
    free(f);
    return 0;
}

static sw_status
parse(fixture *f, const char *body, sw_err *err)
{
    return sw_cwgmd_parse((const uint8_t *)body, strlen(body), queries, 2, T0, T0 + 600, &f->page,
                          err);
}

/* ------------------------------------------------------------------ parsing */

static void
test_complete_response(void **state)
{
    fixture *f = *state;
    sw_err err = {0};
    /* Results in another order than asked: matched by Id. */
    const char *body =
        "{\"MetricDataResults\":["
        "{\"Id\":\"m2\",\"Label\":\"TargetResponseTime\",\"Timestamps\":[1700000040,1700000100],"
        "\"Values\":[0.25,0.5],\"StatusCode\":\"Complete\",\"Messages\":[]},"
        "{\"Id\":\"m1\",\"Label\":\"RequestCount\",\"Timestamps\":[1700000040,1700000100,"
        "1700000160],\"Values\":[1200.0,980.0,0.0],\"StatusCode\":\"Complete\"}],"
        "\"Messages\":[{\"Code\":\"Info\",\"Value\":\"informational\"}]}";
    assert_int_equal(parse(f, body, &err), SW_OK);
    assert_int_equal(f->series[0].n, 3);
    assert_int_equal(f->series[0].ts_s[0], 1700000040);
    assert_int_equal(f->series[0].ts_s[2], 1700000160);
    assert_true(f->series[0].values[0] == 1200.0 && f->series[0].values[1] == 980.0 &&
                f->series[0].values[2] == 0.0);
    assert_int_equal(f->series[1].n, 2);
    assert_true(f->series[1].values[0] == 0.25 && f->series[1].values[1] == 0.5);
    assert_string_equal(f->page.next_token, "");
    assert_false(f->page.partial);
    assert_int_equal(f->page.messages, 1);
}

static void
test_partial_data_with_next_token(void **state)
{
    fixture *f = *state;
    sw_err err = {0};
    const char *page1 =
        "{\"MetricDataResults\":[{\"Id\":\"m1\",\"Label\":\"RequestCount\","
        "\"Timestamps\":[1700000040],\"Values\":[7],\"StatusCode\":\"PartialData\"}],"
        "\"NextToken\":\"tok-2\",\"Messages\":[]}";
    assert_int_equal(parse(f, page1, &err), SW_OK);
    assert_true(f->page.partial);
    assert_string_equal(f->page.next_token, "tok-2");
    /* The next page appends to the same series and resets the page's token and flag. */
    const char *page2 =
        "{\"MetricDataResults\":[{\"Id\":\"m1\",\"Timestamps\":[1700000100,1700000160],"
        "\"Values\":[8,9],\"StatusCode\":\"Complete\"}]}";
    assert_int_equal(parse(f, page2, &err), SW_OK);
    assert_false(f->page.partial);
    assert_string_equal(f->page.next_token, "");
    assert_int_equal(f->series[0].n, 3);
    assert_true(f->series[0].values[0] == 7 && f->series[0].values[2] == 9);
    /* A page going back in time is refused: order holds across pages. */
    const char *page3 =
        "{\"MetricDataResults\":[{\"Id\":\"m1\",\"Timestamps\":[1700000100],\"Values\":[1],"
        "\"StatusCode\":\"Complete\"}]}";
    assert_int_equal(parse(f, page3, &err), SW_E_PARSE);
    assert_non_null(strstr(err.msg, "out of order"));
    assert_non_null(strstr(err.msg, "m1"));
}

static void
test_internal_error_and_forbidden(void **state)
{
    fixture *f = *state;
    static const char *const codes[] = {"InternalError", "Forbidden"};
    for (size_t i = 0; i < 2; i++) {
        char body[512];
        snprintf(body, sizeof body,
                 "{\"MetricDataResults\":[{\"Id\":\"m2\",\"Timestamps\":[],\"Values\":[],"
                 "\"StatusCode\":\"%s\",\"Messages\":[{\"Code\":\"%s\",\"Value\":\"no access "
                 "to this metric\"}]}]}",
                 codes[i], codes[i]);
        sw_err err = {0};
        assert_int_equal(parse(f, body, &err), SW_E_IO);
        assert_non_null(strstr(err.msg, codes[i]));
        assert_non_null(strstr(err.msg, "m2"));
        assert_non_null(strstr(err.msg, "no access to this metric"));
    }
}

/* Each malformed response is SW_E_PARSE with a message holding `what`. */
static void
test_malformed_responses(void **state)
{
    fixture *f = *state;
    static const struct {
        const char *body, *what;
    } cases[] = {
        {"{\"MetricDataResults\":[{\"Id\":\"m1\"", "JSON"},
        {"[]", "MetricDataResults"},
        {"{\"Messages\":[]}", "MetricDataResults"},
        {"{\"MetricDataResults\":{}}", "MetricDataResults"},
        {"{\"MetricDataResults\":[{\"Timestamps\":[],\"Values\":[],\"StatusCode\":\"Complete\"}]}",
         "Id"},
        {"{\"MetricDataResults\":[{\"Id\":1,\"Timestamps\":[],\"Values\":[],"
         "\"StatusCode\":\"Complete\"}]}",
         "Id"},
        {"{\"MetricDataResults\":[{\"Id\":\"zz\",\"Timestamps\":[],\"Values\":[],"
         "\"StatusCode\":\"Complete\"}]}",
         "not asked"},
        {"{\"MetricDataResults\":[{\"Id\":\"m1\",\"Timestamps\":[],\"Values\":[]}]}", "StatusCode"},
        {"{\"MetricDataResults\":[{\"Id\":\"m1\",\"Timestamps\":[],\"Values\":[],"
         "\"StatusCode\":\"Mostly\"}]}",
         "StatusCode"},
        {"{\"MetricDataResults\":[{\"Id\":\"m1\",\"Timestamps\":\"1700000040\",\"Values\":[1],"
         "\"StatusCode\":\"Complete\"}]}",
         "arrays"},
        {"{\"MetricDataResults\":[{\"Id\":\"m1\",\"Timestamps\":[1700000040],\"Values\":[\"1\"],"
         "\"StatusCode\":\"Complete\"}]}",
         "not a number"},
        {"{\"MetricDataResults\":[{\"Id\":\"m1\",\"Timestamps\":[\"2023-11-14T22:14:00Z\"],"
         "\"Values\":[1],\"StatusCode\":\"Complete\"}]}",
         "epoch seconds"},
        {"{\"MetricDataResults\":[{\"Id\":\"m1\",\"Timestamps\":[1700000040.5],\"Values\":[1],"
         "\"StatusCode\":\"Complete\"}]}",
         "epoch seconds"},
        {"{\"MetricDataResults\":[{\"Id\":\"m1\",\"Timestamps\":[1700000040,1700000100],"
         "\"Values\":[1],\"StatusCode\":\"Complete\"}]}",
         "2 timestamps but 1 values"},
        {"{\"MetricDataResults\":[{\"Id\":\"m1\",\"Timestamps\":[1700000100,1700000040],"
         "\"Values\":[1,2],\"StatusCode\":\"Complete\"}]}",
         "out of order"},
        {"{\"MetricDataResults\":[{\"Id\":\"m1\",\"Timestamps\":[1700000100,1700000100],"
         "\"Values\":[1,2],\"StatusCode\":\"Complete\"}]}",
         "out of order"},
        /* The asked range is [T0, T0 + 600): one before it, one at its end. */
        {"{\"MetricDataResults\":[{\"Id\":\"m1\",\"Timestamps\":[1699999980],\"Values\":[1],"
         "\"StatusCode\":\"Complete\"}]}",
         "outside the asked range"},
        {"{\"MetricDataResults\":[{\"Id\":\"m1\",\"Timestamps\":[1700000640],\"Values\":[1],"
         "\"StatusCode\":\"Complete\"}]}",
         "outside the asked range"},
        {"{\"MetricDataResults\":[],\"NextToken\":42}", "NextToken"},
        {"{\"MetricDataResults\":[],\"Messages\":\"none\"}", "Messages"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sw_err err = {0};
        sw_status st = parse(f, cases[i].body, &err);
        if (st != SW_E_PARSE || strstr(err.msg, cases[i].what) == NULL)
            fail_msg("case %zu (%s): status %d, message '%s'; want SW_E_PARSE naming '%s'", i,
                     cases[i].body, (int)st, err.msg, cases[i].what);
        for (size_t k = 0; k < 2; k++)
            f->series[k].n = 0;
    }
}

static void
test_body_over_10mb(void **state)
{
    fixture *f = *state;
    /* Valid JSON padded with whitespace to one byte over the cap: refused by size alone. */
    size_t len = SW_CWGMD_MAX_RESPONSE + 1;
    char *body = malloc(len);
    assert_non_null(body);
    memset(body, ' ', len);
    memcpy(body, "{\"MetricDataResults\":[]}", 24);
    sw_err err = {0};
    assert_int_equal(
        sw_cwgmd_parse((const uint8_t *)body, len, queries, 2, T0, T0 + 600, &f->page, &err),
        SW_E_TOOBIG);
    assert_non_null(strstr(err.msg, "GetMetricData"));
    /* At the cap exactly it is read. */
    assert_int_equal(
        sw_cwgmd_parse((const uint8_t *)body, len - 1, queries, 2, T0, T0 + 600, &f->page, &err),
        SW_OK);
    free(body);
}

/* ------------------------------------------------------------------ error bodies */

static void
test_classify_errors(void **state)
{
    (void)state;
    static const struct {
        long status;
        const char *body;
        sw_cwgmd_fault fault;
        sw_status code;
        const char *type, *message;
    } cases[] = {
        {400,
         "{\"__type\":\"com.amazonaws.monitoring#ThrottlingException\","
         "\"message\":\"Rate exceeded\"}",
         SW_CWGMD_FAULT_THROTTLED, SW_E_IO, "ThrottlingException", "Rate exceeded"},
        {400,
         "{\"__type\":\"InvalidParameterValue\",\"message\":\"The parameter StartTime must be "
         "less than the parameter EndTime.\"}",
         SW_CWGMD_FAULT_INVALID, SW_E_INVAL, "InvalidParameterValue", "StartTime must be"},
        {400,
         "{\"__type\":\"com.amazon.coral.service#ExpiredTokenException\","
         "\"message\":\"The security token included in the request is expired\"}",
         SW_CWGMD_FAULT_EXPIRED, SW_E_IO, "ExpiredTokenException", "token included"},
        {429, "", SW_CWGMD_FAULT_THROTTLED, SW_E_IO, "429", ""},
        {503, "<html>Service Unavailable</html>", SW_CWGMD_FAULT_SERVER, SW_E_IO, "503", ""},
        {500, "{\"__type\":\"InternalServiceFault\",\"Message\":\"oops\"}", SW_CWGMD_FAULT_SERVER,
         SW_E_IO, "InternalServiceFault", "oops"},
        {400,
         "{\"__type\":\"AccessDeniedException\",\"message\":\"User is not authorized to "
         "perform: cloudwatch:GetMetricData\"}",
         SW_CWGMD_FAULT_DENIED, SW_E_IO, "AccessDeniedException", "not authorized"},
        {403, "{\"__type\":\"InvalidSignatureException\",\"message\":\"Signature expired\"}",
         SW_CWGMD_FAULT_DENIED, SW_E_IO, "InvalidSignatureException", "Signature expired"},
        {400, "{\"__type\":\"UnrecognizedClientException\",\"message\":\"bad key id\"}",
         SW_CWGMD_FAULT_DENIED, SW_E_IO, "UnrecognizedClientException", "bad key id"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sw_err err = {0};
        sw_cwgmd_fault got = sw_cwgmd_classify(cases[i].status, (const uint8_t *)cases[i].body,
                                               strlen(cases[i].body), &err);
        if (got != cases[i].fault || err.code != cases[i].code ||
            strstr(err.msg, cases[i].type) == NULL || strstr(err.msg, cases[i].message) == NULL)
            fail_msg("case %zu (HTTP %ld %s): fault %d code %d '%s'; want fault %d code %d "
                     "naming '%s' and '%s'",
                     i, cases[i].status, cases[i].body, (int)got, (int)err.code, err.msg,
                     (int)cases[i].fault, (int)cases[i].code, cases[i].type, cases[i].message);
    }
}

/* ------------------------------------------------------------------ requests */

static const cJSON *
get(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (v == NULL)
        fail_msg("request member %s missing", k);
    return v;
}

static void
test_request_body(void **state)
{
    (void)state;
    init_queries();
    sw_buf b;
    sw_buf_init(&b, 1 << 20);
    sw_err err = {0};
    assert_int_equal(sw_cwgmd_request_body(queries, 2, T0, T0 + 600, "tok \"2\"", &b, &err), SW_OK);
    cJSON *root = cJSON_ParseWithLength((const char *)b.data, b.len);
    assert_non_null(root);
    const cJSON *qs = get(root, "MetricDataQueries");
    assert_int_equal(cJSON_GetArraySize(qs), 2);
    const cJSON *q = cJSON_GetArrayItem(qs, 1);
    assert_string_equal(get(q, "Id")->valuestring, "m2");
    assert_true(cJSON_IsTrue(get(q, "ReturnData")));
    const cJSON *ms = get(q, "MetricStat");
    const cJSON *m = get(ms, "Metric");
    assert_string_equal(get(m, "Namespace")->valuestring, "AWS/ApplicationELB");
    assert_string_equal(get(m, "MetricName")->valuestring, "TargetResponseTime");
    const cJSON *dims = get(m, "Dimensions");
    assert_int_equal(cJSON_GetArraySize(dims), 1);
    assert_string_equal(get(dims->child, "Name")->valuestring, "LoadBalancer");
    assert_string_equal(get(dims->child, "Value")->valuestring, "app/web/0123456789abcdef");
    assert_true(get(ms, "Period")->valuedouble == 60);
    assert_string_equal(get(ms, "Stat")->valuestring, "p99");
    assert_true(get(root, "StartTime")->valuedouble == T0);
    assert_true(get(root, "EndTime")->valuedouble == T0 + 600);
    assert_string_equal(get(root, "ScanBy")->valuestring, "TimestampAscending");
    assert_string_equal(get(root, "NextToken")->valuestring, "tok \"2\"");
    cJSON_Delete(root);

    /* No NextToken on a first page. */
    sw_buf_reset(&b);
    assert_int_equal(sw_cwgmd_request_body(queries, 2, T0, T0 + 600, "", &b, &err), SW_OK);
    root = cJSON_ParseWithLength((const char *)b.data, b.len);
    assert_non_null(root);
    assert_null(cJSON_GetObjectItemCaseSensitive(root, "NextToken"));
    cJSON_Delete(root);

    /* The API's limit is 500 queries per call; an empty or reversed range is refused. */
    sw_cwgmd_query many[SW_CWGMD_MAX_QUERIES + 1];
    for (size_t i = 0; i < SW_CWGMD_MAX_QUERIES + 1; i++) {
        many[i] = queries[0];
        snprintf(many[i].id, sizeof many[i].id, "q%zu", i);
    }
    sw_buf_reset(&b);
    assert_int_equal(sw_cwgmd_request_body(many, 500, T0, T0 + 60, NULL, &b, &err), SW_OK);
    sw_buf_reset(&b);
    assert_int_equal(sw_cwgmd_request_body(many, 501, T0, T0 + 60, NULL, &b, &err), SW_E_INVAL);
    assert_int_equal(sw_cwgmd_request_body(many, 0, T0, T0 + 60, NULL, &b, &err), SW_E_INVAL);
    assert_int_equal(sw_cwgmd_request_body(many, 1, T0, T0, NULL, &b, &err), SW_E_INVAL);
    assert_int_equal(sw_cwgmd_request_body(many, 1, T0 + 60, T0, NULL, &b, &err), SW_E_INVAL);
    sw_buf_fini(&b);
}

/* ------------------------------------------------------------------ client */

static const char *
fake_env(void *ctx, const char *name)
{
    (void)ctx;
    if (strcmp(name, "AWS_ACCESS_KEY_ID") == 0)
        return "AKIDEXAMPLE";
    if (strcmp(name, "AWS_SECRET_ACCESS_KEY") == 0)
        return "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    return NULL;
}

/* 1001 queries go out as calls of 500, 500 and 1, each query exactly once, each call with the
 * JSON 1.0 target and content type. */
static void
test_fetch_splits_over_500(void **state)
{
    (void)state;
    init_queries();
    enum { N = 2 * SW_CWGMD_MAX_QUERIES + 1 };
    const char *empty = "{\"MetricDataResults\":[],\"Messages\":[]}";
    script_step steps[3] = {{200, NULL, empty}, {200, NULL, empty}, {200, NULL, empty}};
    script_responder *r = script_responder_start(steps, 3);
    assert_non_null(r);
    char url[128];
    script_responder_url(r, url, sizeof url);

    sw_err err = {0};
    sw_awscreds_provider *creds = NULL;
    assert_int_equal(
        sw_awscreds_provider_new(&(sw_awscreds_options){.getenv = fake_env}, &creds, &err), SW_OK);
    sw_cwgmd *c = NULL;
    assert_int_equal(sw_cwgmd_new(&(sw_cwgmd_options){.endpoint_url = url,
                                                      .region = "eu-west-1",
                                                      .creds = creds,
                                                      .timeout_ms = 5000},
                                  &c, &err),
                     SW_OK);
    sw_cwgmd_query *q = calloc(N, sizeof *q);
    sw_cwgmd_series *out = calloc(N, sizeof *out);
    assert_true(q != NULL && out != NULL);
    for (size_t i = 0; i < N; i++) {
        q[i] = queries[0];
        snprintf(q[i].id, sizeof q[i].id, "q%zu", i);
    }
    assert_int_equal(sw_cwgmd_fetch(c, q, N, T0, T0 + 600, out, &err), SW_OK);
    assert_int_equal(script_responder_count(r), 3);
    unsigned char *seen = calloc(N, 1);
    assert_non_null(seen);
    static const size_t want_sizes[] = {500, 500, 1};
    for (size_t k = 0; k < 3; k++) {
        const script_request *rq = script_responder_request(r, k);
        assert_non_null(strstr(rq->head, "X-Amz-Target: GraniteServiceVersion20100801."
                                         "GetMetricData"));
        assert_non_null(strstr(rq->head, "application/x-amz-json-1.0"));
        cJSON *root = cJSON_ParseWithLength((const char *)rq->body, rq->body_len);
        assert_non_null(root);
        const cJSON *qs = get(root, "MetricDataQueries");
        assert_int_equal((size_t)cJSON_GetArraySize(qs), want_sizes[k]);
        for (const cJSON *e = qs->child; e != NULL; e = e->next) {
            const char *id = get(e, "Id")->valuestring;
            size_t i = (size_t)strtoul(id + 1, NULL, 10);
            assert_true(id[0] == 'q' && i < N && !seen[i]);
            seen[i] = 1;
        }
        cJSON_Delete(root);
    }
    for (size_t i = 0; i < N; i++)
        assert_true(seen[i]);
    sw_cwgmd_stats stats;
    sw_cwgmd_stats_get(c, &stats);
    assert_int_equal(stats.calls, 3);
    free(seen);
    for (size_t i = 0; i < N; i++)
        sw_cwgmd_series_fini(&out[i]);
    free(out);
    free(q);
    sw_cwgmd_free(c);
    sw_awscreds_provider_free(creds);
    script_responder_stop(r);
}

/* Whether a failed fetch may succeed later, as backfill's chunk retries need it said. */
static bool
no_wait(void *ctx, int64_t ms)
{
    (void)ctx;
    (void)ms;
    return true;
}

static void
test_transient_or_permanent(void **state)
{
    (void)state;
    init_queries();
    const char *internal = "{\"MetricDataResults\":[{\"Id\":\"m1\",\"Timestamps\":[],"
                           "\"Values\":[],\"StatusCode\":\"InternalError\"}]}";
    const char *forbidden = "{\"MetricDataResults\":[{\"Id\":\"m1\",\"Timestamps\":[],"
                            "\"Values\":[],\"StatusCode\":\"Forbidden\"}]}";
    const char *throttled = "{\"__type\":\"ThrottlingException\",\"message\":\"Rate\"}";
    const char *denied = "{\"__type\":\"AccessDeniedException\",\"message\":\"no\"}";
    const char *invalid = "{\"__type\":\"InvalidParameterValue\",\"message\":\"bad\"}";
    const struct {
        script_step steps[2];
        bool transient;
    } cases[] = {
        {{{200, NULL, internal}}, true},
        {{{200, NULL, "{\"MetricDataResults\":[{\"Id\":\"m1\",\"Time"}}, true},
        {{{400, NULL, throttled}, {400, NULL, throttled}}, true},
        {{{500, NULL, "{}"}, {503, NULL, "{}"}}, true},
        {{{200, NULL, forbidden}}, false},
        {{{403, NULL, denied}}, false},
        {{{400, NULL, invalid}}, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        script_responder *r = script_responder_start(cases[i].steps, 2);
        assert_non_null(r);
        char url[128];
        script_responder_url(r, url, sizeof url);
        sw_err err = {0};
        sw_awscreds_provider *creds = NULL;
        assert_int_equal(
            sw_awscreds_provider_new(&(sw_awscreds_options){.getenv = fake_env}, &creds, &err),
            SW_OK);
        sw_cwgmd *c = NULL;
        assert_int_equal(sw_cwgmd_new(&(sw_cwgmd_options){.endpoint_url = url,
                                                          .region = "eu-west-1",
                                                          .creds = creds,
                                                          .timeout_ms = 5000,
                                                          .retries = 1,
                                                          .sleep = no_wait},
                                      &c, &err),
                         SW_OK);
        sw_cwgmd_series out[1] = {{0}};
        assert_int_not_equal(sw_cwgmd_fetch(c, queries, 1, T0, T0 + 600, out, &err), SW_OK);
        if (sw_cwgmd_transient(c) != cases[i].transient)
            fail_msg("case %zu (%s): transient %d", i, err.msg, !cases[i].transient);
        sw_cwgmd_series_fini(&out[0]);
        sw_cwgmd_free(c);
        sw_awscreds_provider_free(creds);
        script_responder_stop(r);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_complete_response, setup, teardown),
        cmocka_unit_test_setup_teardown(test_partial_data_with_next_token, setup, teardown),
        cmocka_unit_test_setup_teardown(test_internal_error_and_forbidden, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_responses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_over_10mb, setup, teardown),
        cmocka_unit_test(test_classify_errors),
        cmocka_unit_test(test_transient_or_permanent),
        cmocka_unit_test(test_request_body),
        cmocka_unit_test(test_fetch_splits_over_500),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
