/* Unit tests for core/sli: health runs composed across interval boundaries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "slawatch/sli.h"

/* Health of a probe sequence written as a string: '1' ok, '0' failed. */
static sw_health
health_of(const char *seq)
{
    sw_health h = {0};
    for (const char *p = seq; *p; p++)
        sw_health_record(&h, *p == '1');
    return h;
}

static void
assert_health(sw_health h, uint32_t probes, uint32_t failures, uint32_t leading, uint32_t trailing,
              uint32_t longest)
{
    assert_int_equal(h.probes, probes);
    assert_int_equal(h.failures, failures);
    assert_int_equal(h.leading_failures, leading);
    assert_int_equal(h.trailing_failures, trailing);
    assert_int_equal(h.longest_failures, longest);
}

static void
test_single_sequences(void **state)
{
    (void)state;
    assert_health(health_of(""), 0, 0, 0, 0, 0);
    assert_health(health_of("1"), 1, 0, 0, 0, 0);
    assert_health(health_of("0"), 1, 1, 1, 1, 1);
    assert_health(health_of("0010001"), 7, 5, 2, 0, 3);
    assert_health(health_of("1000"), 4, 3, 0, 3, 3);
    assert_health(health_of("0000"), 4, 4, 4, 4, 4);
}

static void
test_runs_span_boundaries(void **state)
{
    (void)state;
    /* "1100" + "0011": the failures 00|00 are one run of 4 across the boundary. */
    sw_health a = health_of("1100"), b = health_of("0011");
    sw_health_append(&a, &b);
    assert_health(a, 8, 4, 0, 0, 4);

    /* All-failed intervals chain: "00" + "000" + "0" + "10" = leading 6, trailing 1. */
    sw_health c = health_of("00");
    const char *next[] = {"000", "0", "10"};
    for (size_t i = 0; i < 3; i++) {
        sw_health n = health_of(next[i]);
        sw_health_append(&c, &n);
    }
    assert_health(c, 8, 7, 6, 1, 6);
}

static void
test_append_equals_recording_in_order(void **state)
{
    (void)state;
    /* Property: splitting a sequence anywhere and appending equals recording it whole. */
    const char *seq = "1000110000010111000000100";
    size_t n = strlen(seq);
    for (size_t cut1 = 0; cut1 <= n; cut1++) {
        for (size_t cut2 = cut1; cut2 <= n; cut2 += 3) {
            char p1[32] = {0}, p2[32] = {0}, p3[32] = {0};
            memcpy(p1, seq, cut1);
            memcpy(p2, seq + cut1, cut2 - cut1);
            memcpy(p3, seq + cut2, n - cut2);
            sw_health acc = health_of(p1), h2 = health_of(p2), h3 = health_of(p3);
            sw_health_append(&acc, &h2);
            sw_health_append(&acc, &h3);
            sw_health whole = health_of(seq);
            assert_memory_equal(&acc, &whole, sizeof acc);
        }
    }
}

static void
test_interval_fini(void **state)
{
    (void)state;
    sw_sli_interval iv = {.start_ms = 10000, .length_ms = 10000, .requests = 5, .has_data = true};
    assert_int_equal(sw_hdr_new(&sw_hdr_latency_config, &iv.latency, NULL), SW_OK);
    sw_hdr_record(iv.latency, 812);
    sw_sli_interval_fini(&iv);
    assert_null(iv.latency);
    assert_int_equal(iv.requests, 0);
    assert_false(iv.has_data);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_sequences),
        cmocka_unit_test(test_runs_span_boundaries),
        cmocka_unit_test(test_append_equals_recording_in_order),
        cmocka_unit_test(test_interval_fini),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
