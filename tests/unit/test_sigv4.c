/*
 * Tests for collector/sigv4. Expected signatures are published cases of the AWS SigV4 test
 * suite (aws-c-auth tests/aws-signing-test-suite/v4, files header-signature.txt); the whole
 * suite runs in the conformance test and botocore cross-checks random requests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "slawatch/sigv4.h"

#define SUITE_TIME 1440938160 /* 2015-08-30T12:36:00Z */
#define SUITE_SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define SUITE_TOKEN "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267"

typedef struct fixture {
    sw_sigv4_signer *signer;
    sw_sigv4_result result;
    sw_awscreds creds;
} fixture;

static int
setup(void **state)
{
    fixture *f = test_calloc(1, sizeof *f);
    assert_int_equal(sw_sigv4_signer_new("us-east-1", "service", &f->signer, NULL), SW_OK);
    sw_sigv4_result_init(&f->result);
    strcpy(f->creds.access_key_id, "AKIDEXAMPLE");
    strcpy(f->creds.secret_access_key, SUITE_SECRET);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture *f = *state;
    sw_sigv4_result_fini(&f->result);
    sw_sigv4_signer_free(f->signer);
    test_free(f);
    return 0;
}

static const char *
added(const sw_sigv4_result *r, const char *name)
{
    for (size_t i = 0; i < r->n_added; i++)
        if (strcmp(r->added[i].name, name) == 0)
            return r->added[i].value;
    return NULL;
}

static const char *
signature(const sw_sigv4_result *r)
{
    const char *auth = added(r, "Authorization");
    const char *sig = auth != NULL ? strstr(auth, "Signature=") : NULL;
    return sig != NULL ? sig + strlen("Signature=") : "";
}

typedef struct suite_case {
    const char *name, *method, *path, *query;
    sw_sigv4_header headers[4];
    size_t n_headers;
    const char *body;
    unsigned flags;
    bool token;
    const char *want_signature;
} suite_case;

static const suite_case cases[] = {
    {"get-vanilla", "GET", "/", NULL, {{"Host", "example.amazonaws.com"}}, 1, NULL, 0, false,
     "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
    {"get-vanilla-with-session-token", "GET", "/", NULL, {{"Host", "example.amazonaws.com"}}, 1,
     NULL, 0, true, "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8"},
    {"get-vanilla-query-order-encoded", "GET", "/", "Param-3=Value3&Param=Value2&%E1%88%B4=Value1",
     {{"Host", "example.amazonaws.com"}}, 1, NULL, 0, false,
     "371d3713e185cc334048618a97f809c9ffe339c62934c032af5a0e595648fcac"},
    {"get-header-value-multiline", "GET", "/", NULL,
     {{"Host", "example.amazonaws.com"}, {"My-Header1", "value1\n  value2\n     value3"}}, 2, NULL,
     0, false, "cfd34249e4b1c8d6b91ef74165d41a32e5fab3306300901bb65a51a73575eefd"},
    {"get-header-key-duplicate", "GET", "/", NULL,
     {{"Host", "example.amazonaws.com"}, {"My-Header1", "value2"}, {"My-Header1", "value2"},
      {"My-Header1", "value1"}},
     4, NULL, 0, false, "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"},
    {"get-relative-relative-unnormalized", "GET", "/example1/example2/../..", NULL,
     {{"Host", "example.amazonaws.com"}}, 1, NULL, SW_SIGV4_NO_NORMALIZE, false,
     "dc33e0856fd4baca4d7aa2146c38958283844764f38c74252a333df5e613003b"},
    {"get-utf8", "GET", "/\xe1\x88\xb4", NULL, {{"Host", "example.amazonaws.com"}}, 1, NULL, 0,
     false, "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"},
    {"post-x-www-form-urlencoded", "POST", "/", NULL,
     {{"Content-Type", "application/x-www-form-urlencoded"},
      {"Host", "example.amazonaws.com"},
      {"Content-Length", "13"}},
     3, "Param1=value1", SW_SIGV4_CONTENT_SHA256, false,
     "d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b"},
};

static void
test_published_cases(void **state)
{
    fixture *f = *state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const suite_case *c = &cases[i];
        strcpy(f->creds.session_token, c->token ? SUITE_TOKEN : "");
        sw_sigv4_request rq = {.method = c->method, .path = c->path, .query = c->query,
                               .headers = c->headers, .n_headers = c->n_headers,
                               .payload = c->body, .payload_len = c->body ? strlen(c->body) : 0,
                               .now_unix_s = SUITE_TIME, .flags = c->flags};
        sw_err err = {0};
        assert_int_equal(sw_sigv4_sign(f->signer, &f->creds, &rq, &f->result, &err), SW_OK);
        if (strcmp(signature(&f->result), c->want_signature) != 0)
            fail_msg("%s: signature %s, want %s", c->name, signature(&f->result),
                     c->want_signature);
        assert_string_equal(added(&f->result, "X-Amz-Date"), "20150830T123600Z");
        if (c->token)
            assert_string_equal(added(&f->result, "X-Amz-Security-Token"), SUITE_TOKEN);
        else
            assert_null(added(&f->result, "X-Amz-Security-Token"));
    }
}

/* The cached key must not outlive a change of day or of secret. */
static void
test_key_cache_keyed_by_day_and_secret(void **state)
{
    fixture *f = *state;
    sw_sigv4_header host = {"Host", "example.amazonaws.com"};
    sw_sigv4_request rq = {.method = "GET", .path = "/", .headers = &host, .n_headers = 1,
                           .now_unix_s = SUITE_TIME};
    char first[65];
    assert_int_equal(sw_sigv4_sign(f->signer, &f->creds, &rq, &f->result, NULL), SW_OK);
    strcpy(first, signature(&f->result));
    strcpy(f->creds.secret_access_key, "another-secret");
    assert_int_equal(sw_sigv4_sign(f->signer, &f->creds, &rq, &f->result, NULL), SW_OK);
    assert_string_not_equal(signature(&f->result), first);
    strcpy(f->creds.secret_access_key, SUITE_SECRET);
    assert_int_equal(sw_sigv4_sign(f->signer, &f->creds, &rq, &f->result, NULL), SW_OK);
    assert_string_equal(signature(&f->result), first);
    assert_string_equal(first, cases[0].want_signature);
    rq.now_unix_s += 86400;
    assert_int_equal(sw_sigv4_sign(f->signer, &f->creds, &rq, &f->result, NULL), SW_OK);
    assert_string_not_equal(signature(&f->result), first);
    assert_non_null(strstr(added(&f->result, "Authorization"), "/20150831/us-east-1/service/"));
}

static void
test_bad_requests(void **state)
{
    fixture *f = *state;
    strcpy(f->creds.session_token, SUITE_TOKEN);
    static const struct {
        sw_sigv4_header h[2];
        size_t n;
        int64_t t;
        const char *method, *hash;
    } bad[] = {
        {{{"X-Amz-Date", "x"}, {"Host", "h"}}, 2, SUITE_TIME, "GET", NULL},
        {{{"authorization", "x"}, {"Host", "h"}}, 2, SUITE_TIME, "GET", NULL},
        {{{"My-Header", "v"}}, 1, SUITE_TIME, "GET", NULL},
        {{{"Host", "h"}, {"Bad Name", "v"}}, 2, SUITE_TIME, "GET", NULL},
        {{{"Host", "h"}, {"X", "a\x01"}}, 2, SUITE_TIME, "GET", NULL},
        {{{"Host", "h"}}, 1, -1, "GET", NULL},
        {{{"Host", "h"}}, 1, SUITE_TIME, "get", NULL},
        {{{"Host", "h"}}, 1, SUITE_TIME, "GET", "ABC"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sw_sigv4_request rq = {.method = bad[i].method, .path = "/", .headers = bad[i].h,
                               .n_headers = bad[i].n, .now_unix_s = bad[i].t,
                               .payload_sha256_hex = bad[i].hash};
        sw_err err = {0};
        assert_int_equal(sw_sigv4_sign(f->signer, &f->creds, &rq, &f->result, &err), SW_E_INVAL);
        assert_int_equal(f->result.n_added, 0);
        assert_true(strncmp(err.msg, "sigv4: ", 7) == 0);
        assert_null(strstr(err.msg, SUITE_SECRET));
        assert_null(strstr(err.msg, SUITE_TOKEN));
    }
}

/* A session token or secret with a control character is refused without echoing it. */
static void
test_bad_credentials_not_echoed(void **state)
{
    fixture *f = *state;
    sw_sigv4_header host = {"Host", "h"};
    sw_sigv4_request rq = {.method = "GET", .path = "/", .headers = &host, .n_headers = 1,
                           .now_unix_s = SUITE_TIME};
    strcpy(f->creds.session_token, "tok\ren-secret-part");
    sw_err err = {0};
    assert_int_equal(sw_sigv4_sign(f->signer, &f->creds, &rq, &f->result, &err), SW_E_INVAL);
    assert_null(strstr(err.msg, "secret-part"));
    f->creds.session_token[0] = '\0';
    f->creds.secret_access_key[0] = '\0';
    assert_int_equal(sw_sigv4_sign(f->signer, &f->creds, &rq, &f->result, &err), SW_E_INVAL);
    assert_int_equal(sw_sigv4_signer_new("us east", "s", &(sw_sigv4_signer *){NULL}, &err),
                     SW_E_INVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_published_cases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_cache_keyed_by_day_and_secret, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_credentials_not_echoed, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
