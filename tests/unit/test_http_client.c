/*
 * Unit tests for the HTTP client against the loopback responder (tests/support): status and
 * body, request method, headers and bearer token, the response cap, the timeout, concurrent
 * batches, refused connections, and URLs redacted in messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>
#include <time.h>

#include "http_responder.h"
#include "slawatch/http_client.h"

typedef struct fixture {
    http_responder *srv;
    sw_http_client *client;
} fixture;

static int
setup(void **state)
{
    static fixture f;
    f.srv = http_responder_start();
    if (f.srv == NULL || sw_http_client_new(&f.client, NULL) != SW_OK)
        return -1;
    *state = &f;
    return 0;
}

static int
teardown(void **state)
{
    fixture *f = *state;
    sw_http_client_free(f->client);
    http_responder_stop(f->srv);
    return 0;
}

static void
test_get_status_and_body(void **state)
{
    fixture *f = *state;
    char url[128];
    http_responder_url(f->srv, "/status/201", url, sizeof url);
    sw_http_fetch_request rq = {.url = url};
    sw_http_fetch_response resp;
    sw_err err;
    assert_int_equal(sw_http_client_fetch(f->client, &rq, &resp, &err), SW_OK);
    assert_int_equal(resp.status, 201);
    assert_int_equal(resp.body.len, strlen("status 201"));
    assert_memory_equal(resp.body.data, "status 201", resp.body.len);
    assert_string_equal(resp.content_type, "text/plain");
    assert_true(resp.elapsed_us > 0);
    sw_http_fetch_response_fini(&resp);
}

static void
test_post_sends_body_headers_and_token(void **state)
{
    fixture *f = *state;
    char url[128], seen[8192];
    http_responder_url(f->srv, "/echo", url, sizeof url);
    static const char body[] = "[{\"labels\":{}}]";
    sw_http_fetch_request rq = {.method = "POST", .url = url, .content_type = "application/json",
                                .body = body, .body_len = strlen(body),
                                .bearer_token = "s3cret"};
    sw_http_fetch_response resp;
    assert_int_equal(sw_http_fetch(&rq, &resp, NULL), SW_OK);
    assert_int_equal(resp.status, 200);
    sw_http_fetch_response_fini(&resp);
    http_responder_last_request(f->srv, seen, sizeof seen);
    assert_non_null(strstr(seen, "POST /echo HTTP/1.1\r\n"));
    assert_non_null(strstr(seen, "\r\nContent-Type: application/json\r\n"));
    assert_non_null(strstr(seen, "\r\nAuthorization: Bearer s3cret\r\n"));
    assert_non_null(strstr(seen, "\r\n\r\n[{\"labels\":{}}]"));
}

static void
test_response_cap(void **state)
{
    fixture *f = *state;
    char url[128];
    sw_http_fetch_response resp;
    sw_err err;
    http_responder_url(f->srv, "/big/1000", url, sizeof url);
    sw_http_fetch_request rq = {.url = url, .max_response_bytes = 1000};
    assert_int_equal(sw_http_client_fetch(f->client, &rq, &resp, &err), SW_OK);
    assert_int_equal(resp.body.len, 1000);
    sw_http_fetch_response_fini(&resp);

    http_responder_url(f->srv, "/big/100000", url, sizeof url);
    assert_int_equal(sw_http_client_fetch(f->client, &rq, &resp, &err), SW_E_TOOBIG);
    assert_non_null(strstr(err.msg, "1000 bytes"));
    assert_non_null(strstr(err.msg, "/big/100000"));

    rq.discard_body = true; /* a probe reads any size and keeps nothing */
    assert_int_equal(sw_http_client_fetch(f->client, &rq, &resp, &err), SW_OK);
    assert_int_equal(resp.body.len, 0);
    sw_http_fetch_response_fini(&resp);
}

static void
test_timeout(void **state)
{
    fixture *f = *state;
    char url[128];
    http_responder_url(f->srv, "/hang/3000", url, sizeof url);
    sw_http_fetch_request rq = {.url = url, .timeout_ms = 200};
    sw_http_fetch_response resp;
    sw_err err;
    assert_int_equal(sw_http_client_fetch(f->client, &rq, &resp, &err), SW_E_IO);
    assert_non_null(strstr(err.msg, "GET http://127.0.0.1:"));
    assert_non_null(strstr(err.msg, "imed out"));
}

static void
test_refused_and_redacted(void **state)
{
    (void)state;
    /* Port 1 on loopback: nothing listens there in a test environment. */
    sw_http_fetch_request rq = {.url = "http://user:pw@127.0.0.1:1/api?token=abc",
                                .bearer_token = "tok3n"};
    sw_http_fetch_response resp;
    sw_err err;
    assert_int_equal(sw_http_fetch(&rq, &resp, &err), SW_E_IO);
    assert_non_null(strstr(err.msg, "GET http://127.0.0.1:1/api: "));
    assert_null(strstr(err.msg, "pw"));
    assert_null(strstr(err.msg, "abc"));
    assert_null(strstr(err.msg, "tok3n"));
}

static void
test_bad_url(void **state)
{
    (void)state;
    sw_http_fetch_request rq = {.url = "file:///etc/passwd"};
    sw_http_fetch_response resp;
    sw_err err;
    assert_int_equal(sw_http_fetch(&rq, &resp, &err), SW_E_INVAL);
}

static void
test_batch_runs_concurrently(void **state)
{
    fixture *f = *state;
    char urls[3][128];
    http_responder_url(f->srv, "/hang/400", urls[0], sizeof urls[0]);
    http_responder_url(f->srv, "/status/200", urls[1], sizeof urls[1]);
    http_responder_url(f->srv, "/status/503", urls[2], sizeof urls[2]);
    sw_http_fetch_request rqs[5];
    memset(rqs, 0, sizeof rqs);
    /* Four transfers each hanging 400 ms within a 300 ms timeout: sequential would take 1.2 s. */
    for (size_t i = 0; i < 3; i++)
        rqs[i] = (sw_http_fetch_request){.url = urls[0], .timeout_ms = 300};
    rqs[3] = (sw_http_fetch_request){.url = urls[1]};
    rqs[4] = (sw_http_fetch_request){.url = urls[2]};
    sw_http_fetch_result res[5];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(sw_http_client_fetch_all(f->client, rqs, 5, res, NULL), SW_OK);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double took_ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    assert_true(took_ms < 900);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(res[i].err.code, SW_E_IO);
    assert_int_equal(res[3].err.code, SW_OK);
    assert_int_equal(res[3].resp.status, 200);
    assert_int_equal(res[4].err.code, SW_OK);
    assert_int_equal(res[4].resp.status, 503);
    for (size_t i = 0; i < 5; i++)
        sw_http_fetch_result_fini(&res[i]);
}

static void
test_redact_url(void **state)
{
    (void)state;
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"http://host:9093/api/v2/alerts", "http://host:9093/api/v2/alerts"},
        {"https://u:p@host/x?token=1#f", "https://host/x"},
        {"http://host?x=1", "http://host"},
        {"http://a@b@host/p", "http://host/p"},
        {"http://user:p@ss@host:80/p", "http://host:80/p"},
        {"http:/user:secret@host/p", "(malformed URL)"},
        {"user:secret@host:9100/metrics", "(malformed URL)"},
        {"1http://u:p@host", "(malformed URL)"},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[128];
        sw_http_client_redact_url(cases[i].in, out, sizeof out);
        assert_string_equal(out, cases[i].want);
    }
}

int
main(void)
{
    if (sw_http_client_global_init(NULL) != SW_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_status_and_body),
        cmocka_unit_test(test_post_sends_body_headers_and_token),
        cmocka_unit_test(test_response_cap),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_refused_and_redacted),
        cmocka_unit_test(test_bad_url),
        cmocka_unit_test(test_batch_runs_concurrently),
        cmocka_unit_test(test_redact_url),
    };
    int failed = cmocka_run_group_tests(tests, setup, teardown);
    sw_http_client_global_cleanup();
    return failed;
}
