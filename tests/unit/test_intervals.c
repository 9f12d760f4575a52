/* Unit tests for core/intervals: the JSON-lines interval reader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "slawatch/hdr_codec.h"
#include "slawatch/intervals.h"

#define BASE_MS 10000
#define OCT1_MS INT64_C(1790812800000) /* 2026-10-01T00:00:00Z (date -u -d ... +%s) */

static sw_status
parse(const char *text, sw_intervals_line *out, sw_err *err)
{
    memset(out, 0, sizeof *out);
    return sw_intervals_parse_line(text, strlen(text), BASE_MS, "iv.jsonl", 7, out, err);
}

static void
test_full_line(void **state)
{
    (void)state;
    sw_intervals_line l;
    sw_err err = {0};
    assert_int_equal(parse("{\"service\":\"api\",\"env\":\"green\",\"start\":\"2026-10-01T00:00:00Z\","
                           "\"length_s\":10,\"requests\":1200,\"errors\":3,"
                           "\"latency_us\":[812,10440,812],\"health\":[1,1,0]}",
                           &l, &err),
                     SW_OK);
    assert_string_equal(l.service, "api");
    assert_string_equal(l.env, "green");
    assert_int_equal(l.iv.start_ms, OCT1_MS);
    assert_int_equal(l.iv.length_ms, 10000);
    assert_int_equal(l.iv.requests, 1200);
    assert_int_equal(l.iv.errors, 3);
    assert_true(l.iv.has_data);
    assert_int_equal(l.iv.health.probes, 3);
    assert_int_equal(l.iv.health.failures, 1);
    assert_int_equal(l.iv.health.trailing_failures, 1);
    assert_non_null(l.iv.latency);
    assert_int_equal(sw_hdr_total_count(l.iv.latency), 3);
    assert_int_equal(sw_hdr_min(l.iv.latency), 812);
    /* 10440 is in [8192, 16384): width 8, bucket [10440, 10447]. */
    assert_int_equal(sw_hdr_max(l.iv.latency), 10447);
    sw_sli_interval_fini(&l.iv);
}

static void
test_minimal_line_and_hdr_latency(void **state)
{
    (void)state;
    sw_intervals_line l;
    sw_err err = {0};
    assert_int_equal(parse("{\"service\":\"api\",\"start\":\"2026-10-01T00:00:20Z\",\"length_s\":60}",
                           &l, &err),
                     SW_OK);
    assert_string_equal(l.env, "");
    assert_int_equal(l.iv.length_ms, 60000);
    assert_int_equal(l.iv.requests, 0);
    assert_null(l.iv.latency);

    /* A latency_hdr made from a histogram of 100 and 200 decodes to the same counts. */
    sw_hdr *h;
    assert_int_equal(sw_hdr_new(&sw_hdr_latency_config, &h, NULL), SW_OK);
    sw_hdr_record(h, 100);
    sw_hdr_record(h, 200);
    sw_buf b64;
    sw_buf_init(&b64, 1 << 20);
    assert_int_equal(sw_hdr_encode_base64(h, &b64, NULL), SW_OK);
    char line[512];
    snprintf(line, sizeof line,
             "{\"service\":\"api\",\"start\":\"2026-10-01T00:00:00Z\",\"length_s\":10,"
             "\"requests\":2,\"latency_hdr\":\"%s\"}",
             sw_buf_cstr(&b64, NULL));
    assert_int_equal(parse(line, &l, &err), SW_OK);
    assert_int_equal(sw_hdr_total_count(l.iv.latency), 2);
    assert_int_equal(sw_hdr_value_at_percentile(l.iv.latency, 100.0), 200);
    sw_sli_interval_fini(&l.iv);
    sw_buf_fini(&b64);
    sw_hdr_free(h);
}

static const struct bad_case {
    const char *line;
    const char *message; /* a substring of the error */
} bad_cases[] = {
    {"", "iv.jsonl:7:1: expected a JSON object"},
    {"[1,2]", "iv.jsonl:7:1: expected a JSON object"},
    {"{\"service\":\"api\",", "iv.jsonl:7:"},
    {"{\"service\":\"api\",\"start\":\"2026-10-01T00:00:00Z\",\"length_s\":10} x",
     "iv.jsonl:7:64: unexpected text after the object"},
    {"{\"start\":\"2026-10-01T00:00:00Z\",\"length_s\":10}", "\"service\": missing"},
    {"{\"service\":\"\",\"start\":\"2026-10-01T00:00:00Z\",\"length_s\":10}", "\"service\": expected"},
    {"{\"service\":\"api\",\"start\":\"2026-10-01\",\"length_s\":10}", "\"start\": expected an RFC 3339"},
    {"{\"service\":\"api\",\"start\":\"2026-10-01T00:00:05Z\",\"length_s\":10}", "not aligned"},
    {"{\"service\":\"api\",\"start\":\"2026-10-01T00:00:00Z\",\"length_s\":15}", "\"length_s\": expected"},
    {"{\"service\":\"api\",\"start\":\"2026-10-01T00:00:00Z\",\"length_s\":0}", "\"length_s\": expected"},
    {"{\"service\":\"api\",\"start\":\"2026-10-01T00:00:00Z\",\"length_s\":10,\"requests\":-1}",
     "\"requests\": expected a non-negative integer"},
    {"{\"service\":\"api\",\"start\":\"2026-10-01T00:00:00Z\",\"length_s\":10,\"requests\":1.5}",
     "\"requests\": expected a non-negative integer"},
    {"{\"service\":\"api\",\"start\":\"2026-10-01T00:00:00Z\",\"length_s\":10,\"requests\":1,"
     "\"errors\":2}",
     "more errors than requests"},
    {"{\"service\":\"api\",\"start\":\"2026-10-01T00:00:00Z\",\"length_s\":10,\"health\":[1,2]}",
     "\"health\": probe results must be"},
    {"{\"service\":\"api\",\"start\":\"2026-10-01T00:00:00Z\",\"length_s\":10,\"latency_us\":[5,-5]}",
     "\"latency_us\": values must be"},
    {"{\"service\":\"api\",\"start\":\"2026-10-01T00:00:00Z\",\"length_s\":10,\"latency_us\":[5],"
     "\"latency_hdr\":\"HISTFAAA\"}",
     "not both"},
    {"{\"service\":\"api\",\"start\":\"2026-10-01T00:00:00Z\",\"length_s\":10,\"latency_hdr\":\"QUJD\"}",
     "\"latency_hdr\""},
    {"{\"service\":\"api\",\"start\":\"2026-10-01T00:00:00Z\",\"length_s\":10,\"latncy\":[]}",
     "\"latncy\": unknown field"},
    {"{\"service\":\"api\",\"service\":\"web\",\"start\":\"2026-10-01T00:00:00Z\",\"length_s\":10}",
     "field appears twice"},
};

static void
test_bad_lines(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        sw_intervals_line l;
        memset(&l, 0x5a, sizeof l);
        sw_err err = {0};
        sw_status st = sw_intervals_parse_line(bad_cases[i].line, strlen(bad_cases[i].line),
                                               BASE_MS, "iv.jsonl", 7, &l, &err);
        print_message("case %zu: %s\n", i, err.msg);
        assert_int_not_equal(st, SW_OK);
        assert_non_null(strstr(err.msg, bad_cases[i].message));
        assert_int_equal((unsigned char)l.service[0], 0x5a); /* untouched on error */
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_line),
        cmocka_unit_test(test_minimal_line_and_hdr_latency),
        cmocka_unit_test(test_bad_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
