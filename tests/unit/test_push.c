/*
 * Unit tests for the push batch parser (POST /api/v1/ingest): a full batch read back field by
 * field, and a table of malformed batches each refused with a message naming the field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "slawatch/push.h"

static sw_status
parse(const char *text, sw_push_batch *b, sw_err *err)
{
    return sw_push_parse((const uint8_t *)text, strlen(text), b, err);
}

static void
test_full_batch(void **state)
{
    (void)state;
    sw_push_batch b;
    assert_int_equal(parse("{\"service\":\"api\",\"env\":\"green\",\"at\":\"2026-10-01T00:00:03Z\","
                           "\"requests\":120,\"errors\":2,\"latency_us\":[1,1830,3600000000],"
                           "\"probes\":[true,false]}",
                           &b, NULL),
                     SW_OK);
    assert_string_equal(b.service, "api");
    assert_string_equal(b.env, "green");
    assert_int_equal(b.at_ms, INT64_C(1790812803000)); /* 2026-10-01T00:00:03Z */
    assert_int_equal(b.requests, 120);
    assert_int_equal(b.errors, 2);
    assert_int_equal(b.n_latency, 3);
    assert_int_equal(b.latency_us[0], 1);
    assert_int_equal(b.latency_us[1], 1830);
    assert_int_equal(b.latency_us[2], INT64_C(3600000000));
    assert_int_equal(b.n_probes, 2);
    assert_true(b.probes[0]);
    assert_false(b.probes[1]);
    sw_push_batch_fini(&b);
}

static void
test_defaults(void **state)
{
    (void)state;
    sw_push_batch b;
    assert_int_equal(parse("{\"service\":\"web\"}", &b, NULL), SW_OK);
    assert_string_equal(b.env, "");
    assert_int_equal(b.at_ms, -1);
    assert_int_equal(b.requests, 0);
    assert_int_equal(b.n_latency, 0);
    sw_push_batch_fini(&b);
}

typedef struct bad_case {
    const char *body;
    const char *message; /* a part of the error message */
} bad_case;

static const bad_case bad[] = {
    {"", "empty"},
    {"{\"service\":", "line 1"},
    {"[1]", "expected a JSON object"},
    {"{\"requests\":1}", "service must be a non-empty string"},
    {"{\"service\":\"\"}", "service must be a non-empty string"},
    {"{\"service\":\"a\",\"env\":5}", "env must be"},
    {"{\"service\":\"a\",\"requests\":-1}", "requests must be a whole number"},
    {"{\"service\":\"a\",\"requests\":1.5}", "requests must be a whole number"},
    {"{\"service\":\"a\",\"requests\":1,\"errors\":2}", "errors (2) must not exceed requests (1)"},
    {"{\"service\":\"a\",\"at\":\"yesterday\"}", "at must be an RFC 3339 time"},
    {"{\"service\":\"a\",\"latency_us\":[0]}", "latency_us[0] must be whole microseconds"},
    {"{\"service\":\"a\",\"latency_us\":[5,3600000001]}", "latency_us[1] must be whole"},
    {"{\"service\":\"a\",\"latency_us\":7}", "latency_us must be a list"},
    {"{\"service\":\"a\",\"probes\":[1]}", "probes[0] must be true or false"},
    {"{\"service\":\"a\",\"latency\":[1]}", "unknown field 'latency'"},
};

static void
test_bad_batches(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sw_push_batch b;
        sw_err err = {0};
        sw_status st = parse(bad[i].body, &b, &err);
        if (st == SW_OK || strstr(err.msg, bad[i].message) == NULL)
            fail_msg("case %zu (%s): status %d, message '%s'", i, bad[i].body, st, err.msg);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_batch),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_bad_batches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
