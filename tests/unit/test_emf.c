/*
 * Unit tests for EMF ingestion (collector/emf.c), one case per spec rule: values as numbers or
 * lists, dimension sets (exact match, several sets, extra sets ignored), unit conversion,
 * presets and the push convention, and refused lines (missing _aws, bad Timestamp, non-number
 * values, giant lines) each naming line and field. Documents are written by hand from the AWS
 * EMF specification.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "slawatch/emf.h"

static const char rules_text[] =
    "version: 1\nservices:\n"
    "  - name: api\n"
    "    sli:\n"
    "      requests: {push: true}\n      errors: {push: true}\n      latency: {push: true}\n"
    "  - name: web\n"
    "    sli:\n"
    "      requests: {cloudwatch: {preset: alb, dimensions: {LoadBalancer: app/web/1}}}\n"
    "      errors: {cloudwatch: {preset: alb, dimensions: {LoadBalancer: app/web/1}}}\n"
    "      latency: {cloudwatch: {preset: alb, dimensions: {LoadBalancer: app/web/1}}}\n";

typedef struct fixture {
    sw_rules *rules;
    sw_emf_map *map;
    sw_emf_batch b;
} fixture;

static int
setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_int_equal(sw_rules_load_mem(rules_text, strlen(rules_text), "t", &f->rules, NULL, NULL),
                     SW_OK);
    assert_int_equal(sw_emf_map_new(f->rules, &f->map, NULL), SW_OK);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture *f = *state;
    sw_emf_batch_fini(&f->b);
    sw_emf_map_free(f->map);
    sw_rules_free(f->rules);
    free(f);
    return 0;
}

static sw_status
parse(fixture *f, const char *text, sw_err *err)
{
    return sw_emf_parse(f->map, (const uint8_t *)text, strlen(text), &f->b, err);
}

#define PUSH_HEAD                                                                                  \
    "{\"_aws\":{\"Timestamp\":1790812803000,\"CloudWatchMetrics\":[{\"Namespace\":\"App\","       \
    "\"Dimensions\":[[\"Service\"]],\"Metrics\":[{\"Name\":\"Latency\",\"Unit\":\"Milliseconds\"}," \
    "{\"Name\":\"Requests\",\"Unit\":\"Count\"},{\"Name\":\"Errors\"}]}]},\"Service\":\"api\","

static void
test_numbers_and_lists(void **state)
{
    fixture *f = *state;
    assert_int_equal(parse(f, PUSH_HEAD "\"Latency\":[1.5,250,0.001],\"Requests\":3,\"Errors\":1}\n"
                              "\n" PUSH_HEAD "\"Latency\":12,\"Requests\":[1,1],\"Errors\":[0,0]}",
                           NULL),
                     SW_OK);
    assert_int_equal(f->b.lines, 2);
    assert_int_equal(f->b.n_values, 4);
    assert_int_equal(f->b.values_us[0], 1500);
    assert_int_equal(f->b.values_us[1], 250000);
    assert_int_equal(f->b.values_us[2], 1);
    assert_int_equal(f->b.values_us[3], 12000);
    uint64_t req = 0, errs = 0;
    for (size_t i = 0; i < f->b.n_items; i++) {
        assert_string_equal(f->b.items[i].service, "api");
        assert_int_equal(f->b.items[i].at_ms, INT64_C(1790812803000));
        req += f->b.items[i].kind == SW_EMF_REQUESTS ? f->b.items[i].count : 0;
        errs += f->b.items[i].kind == SW_EMF_ERRORS ? f->b.items[i].count : 0;
    }
    assert_int_equal(req, 5);
    assert_int_equal(errs, 1);
}

/* ALB preset: TargetResponseTime in Seconds; a second, finer dimension set is another metric
 * and does not match; a line for another load balancer is unmatched. */
static void
test_preset_dimension_sets_units(void **state)
{
    fixture *f = *state;
    assert_int_equal(
        parse(f,
              "{\"_aws\":{\"Timestamp\":1,\"CloudWatchMetrics\":[{\"Namespace\":"
              "\"AWS/ApplicationELB\",\"Dimensions\":[[\"LoadBalancer\",\"TargetGroup\"],"
              "[\"LoadBalancer\"]],\"Metrics\":[{\"Name\":\"TargetResponseTime\",\"Unit\":"
              "\"Seconds\"}]}]},\"LoadBalancer\":\"app/web/1\",\"TargetGroup\":\"tg\","
              "\"TargetResponseTime\":[0.25,2]}\n"
              "{\"_aws\":{\"Timestamp\":1,\"CloudWatchMetrics\":[{\"Namespace\":"
              "\"AWS/ApplicationELB\",\"Dimensions\":[[\"LoadBalancer\"]],\"Metrics\":[{\"Name\":"
              "\"TargetResponseTime\",\"Unit\":\"Microseconds\"}]}]},\"LoadBalancer\":\"app/x/2\","
              "\"TargetResponseTime\":7}\n",
              NULL),
        SW_OK);
    assert_int_equal(f->b.n_items, 1);
    assert_string_equal(f->b.items[0].service, "web");
    assert_int_equal(f->b.n_values, 2);
    assert_int_equal(f->b.values_us[0], 250000);
    assert_int_equal(f->b.values_us[1], 2000000);
    assert_int_equal(f->b.unmatched, 1);
}

static const struct bad_case {
    const char *name, *text, *msg;
    sw_status st;
} bad_cases[] = {
    {"missing _aws", "{\"Latency\":1}", "line 1: _aws: missing", SW_E_PARSE},
    {"string Timestamp",
     "\n{\"_aws\":{\"Timestamp\":\"now\",\"CloudWatchMetrics\":[]}}", "line 2: _aws.Timestamp",
     SW_E_PARSE},
    {"fractional Timestamp", "{\"_aws\":{\"Timestamp\":1.5,\"CloudWatchMetrics\":[]}}",
     "line 1: _aws.Timestamp", SW_E_PARSE},
    {"negative Timestamp", "{\"_aws\":{\"Timestamp\":-1,\"CloudWatchMetrics\":[]}}",
     "line 1: _aws.Timestamp", SW_E_PARSE},
    {"string value", PUSH_HEAD "\"Latency\":\"5\",\"Requests\":1,\"Errors\":0}",
     "line 1: Latency: a metric's value", SW_E_PARSE},
    {"list with a string", PUSH_HEAD "\"Latency\":[1,\"x\"],\"Requests\":1,\"Errors\":0}",
     "line 1: Latency: list holds", SW_E_PARSE},
    {"missing value", PUSH_HEAD "\"Latency\":1,\"Requests\":1}", "line 1: Errors: declared",
     SW_E_PARSE},
    {"fractional count", PUSH_HEAD "\"Latency\":1,\"Requests\":1.5,\"Errors\":0}",
     "line 1: Requests: a count", SW_E_PARSE},
    {"dimension value not a string", PUSH_HEAD "\"Latency\":1,\"Requests\":1,\"Errors\":0}"
     "\n{\"_aws\":{\"Timestamp\":1,\"CloudWatchMetrics\":[{\"Namespace\":\"A\",\"Dimensions\":"
     "[[\"Service\"]],\"Metrics\":[]}]},\"Service\":3}",
     "line 2: Service: a dimension", SW_E_PARSE},
    {"not JSON", "{\"_aws\":", "line 1: ", SW_E_PARSE},
};

/* A bad line anywhere leaves the batch empty, whatever came before it. */
static void
test_refused(void **state)
{
    fixture *f = *state;
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        sw_err err = {0};
        assert_int_equal(parse(f, bad_cases[i].text, &err), bad_cases[i].st);
        if (strncmp(err.msg, bad_cases[i].msg, strlen(bad_cases[i].msg)) != 0)
            fail_msg("%s: got '%s'", bad_cases[i].name, err.msg);
        assert_int_equal(f->b.n_items + f->b.n_values + f->b.lines, 0);
    }
}

static void
test_latency_needs_unit(void **state)
{
    fixture *f = *state;
    sw_err err = {0};
    assert_int_equal(parse(f,
                           "{\"_aws\":{\"Timestamp\":1,\"CloudWatchMetrics\":[{\"Namespace\":\"A\","
                           "\"Dimensions\":[[\"Service\"]],\"Metrics\":[{\"Name\":\"Latency\"}]}]},"
                           "\"Service\":\"api\",\"Latency\":3}",
                           &err),
                     SW_E_PARSE);
    assert_string_equal(err.msg,
                        "line 1: Latency: latency needs Unit Milliseconds, Seconds or Microseconds");
}

static void
test_giant_line(void **state)
{
    fixture *f = *state;
    size_t n = SW_EMF_LINE_MAX + 10;
    char *text = malloc(n + 1);
    memset(text, ' ', n);
    text[0] = '{';
    text[n - 1] = '}';
    text[n] = '\0';
    sw_err err = {0};
    assert_int_equal(parse(f, text, &err), SW_E_TOOBIG);
    assert_string_equal(err.msg, "line 1: longer than 262144 bytes");
    free(text);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_numbers_and_lists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_preset_dimension_sets_units, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_latency_needs_unit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_giant_line, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
