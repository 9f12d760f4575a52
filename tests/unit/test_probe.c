/*
 * Unit tests for the health prober against the loopback responder (tests/support): 200 is ok,
 * 500 and a hang past the timeout fail; due times (jittered first run, then one interval
 * later); probes run concurrently; bad targets are refused.
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
#include "slawatch/probe.h"

#define T0 1790848800000LL
#define EVERY 10000

typedef struct seen {
    sw_probe_result r[8];
    char reasons[8][300];
    size_t n;
} seen;

static void
sink(void *ctx, const sw_probe_result *r)
{
    seen *s = ctx;
    assert_true(s->n < 8);
    s->r[s->n] = *r;
    snprintf(s->reasons[s->n], sizeof s->reasons[s->n], "%s", r->reason);
    s->n++;
}

static int
setup(void **state)
{
    http_responder *srv = http_responder_start();
    *state = srv;
    return srv == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
    http_responder_stop(*state);
    return 0;
}

static void
test_ok_fail_timeout(void **state)
{
    char urls[4][128];
    http_responder_url(*state, "/status/200", urls[0], sizeof urls[0]);
    http_responder_url(*state, "/status/500", urls[1], sizeof urls[1]);
    http_responder_url(*state, "/hang/2000", urls[2], sizeof urls[2]);
    http_responder_url(*state, "/hang/2000", urls[3], sizeof urls[3]);
    sw_probe_target ts[4];
    static const char *const names[] = {"api", "web", "db", "cache"};
    /* The answering targets get time to spare on a loaded machine; the hanging ones 300 ms. */
    for (size_t i = 0; i < 4; i++)
        ts[i] = (sw_probe_target){.service = i, .service_name = names[i], .env = "green",
                                  .url = urls[i], .every_ms = EVERY,
                                  .timeout_ms = i < 2 ? 10000 : 300, .expect_status = 200};
    sw_probe *p;
    assert_int_equal(sw_probe_new(ts, 4, T0, 42, &p, NULL), SW_OK);
    assert_int_equal(sw_probe_count(p), 4);
    seen s = {0};
    /* Every first run falls within one interval of the start. */
    assert_int_equal(sw_probe_run_due(p, T0 + EVERY - 1, sink, &s, NULL), SW_OK);
    /* The two probes hanging past their timeout waited together, not one after the other. */
    assert_int_equal(http_responder_most_hanging(*state), 2);
    assert_int_equal(s.n, 4);
    static const bool want_ok[] = {true, false, false, false};
    static const long want_status[] = {200, 500, 0, 0};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(s.r[i].service, i);
        assert_string_equal(s.r[i].service_name, names[i]);
        assert_string_equal(s.r[i].env, "green");
        assert_int_equal(s.r[i].ok, want_ok[i]);
        assert_int_equal(s.r[i].status, want_status[i]);
        assert_int_equal(s.r[i].at_ms, T0 + EVERY - 1);
    }
    assert_true(s.r[0].latency_us > 0);
    assert_string_equal(s.reasons[0], "HTTP 200");
    assert_string_equal(s.reasons[1], "HTTP 500, expected 200");
    assert_non_null(strstr(s.reasons[2], "imed out"));
    sw_probe_free(p);
}

static void
test_due_times(void **state)
{
    char url[128];
    http_responder_url(*state, "/status/200", url, sizeof url);
    sw_probe_target t = {.service_name = "api", .url = url, .every_ms = EVERY, .timeout_ms = 1000,
                         .expect_status = 200};
    sw_probe *p;
    assert_int_equal(sw_probe_new(&t, 1, T0, 7, &p, NULL), SW_OK);
    int64_t first = sw_probe_next_due_ms(p);
    assert_true(first >= T0 && first < T0 + EVERY);
    seen s = {0};
    if (first > T0) {
        assert_int_equal(sw_probe_run_due(p, first - 1, sink, &s, NULL), SW_OK);
        assert_int_equal(s.n, 0);
    }
    assert_int_equal(sw_probe_run_due(p, first, sink, &s, NULL), SW_OK);
    assert_int_equal(s.n, 1);
    assert_int_equal(sw_probe_next_due_ms(p), first + EVERY);
    /* A long pause skips the missed runs instead of probing several times at once. */
    assert_int_equal(sw_probe_run_due(p, first + 5 * EVERY + 3, sink, &s, NULL), SW_OK);
    assert_int_equal(s.n, 2);
    assert_int_equal(sw_probe_next_due_ms(p), first + 6 * EVERY + 3);
    sw_probe_free(p);
}

static void
test_jitter_spreads_first_runs(void **state)
{
    (void)state;
    sw_probe_target ts[8];
    for (size_t i = 0; i < 8; i++)
        ts[i] = (sw_probe_target){.service = i, .url = "http://127.0.0.1:1/", .every_ms = EVERY,
                                  .timeout_ms = 100, .expect_status = 200};
    sw_probe *p;
    assert_int_equal(sw_probe_new(ts, 8, T0, 1, &p, NULL), SW_OK);
    /* Half an interval in, some targets have had their first run and some have not. */
    seen s = {0};
    assert_int_equal(sw_probe_run_due(p, T0 + EVERY / 2, sink, &s, NULL), SW_OK);
    assert_true(s.n > 0 && s.n < 8);
    for (size_t i = 0; i < s.n; i++)
        assert_false(s.r[i].ok); /* nothing listens on port 1 */
    assert_int_equal(sw_probe_run_due(p, T0 + EVERY - 1, sink, &s, NULL), SW_OK);
    assert_int_equal(s.n, 8);
    sw_probe_free(p);
}

static void
test_bad_targets(void **state)
{
    (void)state;
    sw_probe_target t = {.service_name = "api", .url = NULL, .every_ms = EVERY,
                         .timeout_ms = 100, .expect_status = 200};
    sw_probe *p;
    sw_err err;
    assert_int_equal(sw_probe_new(&t, 1, T0, 1, &p, &err), SW_E_INVAL);
    assert_non_null(strstr(err.msg, "api"));
    t.url = "http://x/";
    t.every_ms = 0;
    assert_int_equal(sw_probe_new(&t, 1, T0, 1, &p, &err), SW_E_INVAL);
}

int
main(void)
{
    if (sw_http_client_global_init(NULL) != SW_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ok_fail_timeout),
        cmocka_unit_test(test_due_times),
        cmocka_unit_test(test_jitter_spreads_first_runs),
        cmocka_unit_test(test_bad_targets),
    };
    int failed = cmocka_run_group_tests(tests, setup, teardown);
    sw_http_client_global_cleanup();
    return failed;
}
