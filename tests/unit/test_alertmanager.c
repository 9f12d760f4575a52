/*
 * Unit tests for the Alertmanager tracker: the payload parsed back with cJSON (labels,
 * annotations, startsAt/endsAt), when alerts are due (at once on a change, then every resend
 * interval), resolved alerts (endsAt = resolution time, re-sent for 15 minutes, then dropped),
 * summaries in readable units, and a push to a refused port failing fast and backing off.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

#include "slawatch/alertmanager.h"
#include "slawatch/http_client.h"

/* 2026-10-01T10:00:00Z */
#define T0 1790848800000LL
#define MIN 60000LL

static sw_am *
new_am(void)
{
    sw_am_config cfg = {.generator_url = "http://slawatch:9464/api/v1/status"};
    sw_am *am = NULL;
    assert_int_equal(sw_am_new(&cfg, &am, NULL), SW_OK);
    return am;
}

static void
observe(sw_am *am, bool firing, int64_t since_ms, int64_t now_ms)
{
    sw_am_observation o = {.service = "api",
                           .env = "green",
                           .kind = SW_AM_ALERT,
                           .name = "HighErrorRate",
                           .severity = "critical",
                           .firing = firing,
                           .since_ms = since_ms,
                           .summary = "error_rate is 2.3% (> 1% over 5m)",
                           .runbook_url = "https://runbooks/api"};
    assert_int_equal(sw_am_observe(am, &o, now_ms, NULL), SW_OK);
}

/* Build the payload at now_ms and parse it; caller deletes. */
static cJSON *
payload(sw_am *am, int64_t now_ms, size_t *ret_n)
{
    sw_buf b;
    sw_buf_init(&b, 1 << 20);
    assert_int_equal(sw_am_build_payload(am, now_ms, &b, ret_n, NULL), SW_OK);
    cJSON *j = cJSON_ParseWithLength((const char *)b.data, b.len);
    sw_buf_fini(&b);
    assert_non_null(j);
    assert_true(cJSON_IsArray(j));
    assert_int_equal((size_t)cJSON_GetArraySize(j), *ret_n);
    return j;
}

static const char *
str_at(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void
test_firing_payload_shape(void **state)
{
    (void)state;
    sw_am *am = new_am();
    observe(am, true, T0, T0 + 10000);
    size_t n;
    cJSON *j = payload(am, T0 + 10000, &n);
    assert_int_equal(n, 1);
    const cJSON *a = cJSON_GetArrayItem(j, 0);
    const cJSON *labels = cJSON_GetObjectItemCaseSensitive(a, "labels");
    const cJSON *ann = cJSON_GetObjectItemCaseSensitive(a, "annotations");
    assert_string_equal(str_at(labels, "alertname"), "HighErrorRate");
    assert_string_equal(str_at(labels, "severity"), "critical");
    assert_string_equal(str_at(labels, "service"), "api");
    assert_string_equal(str_at(labels, "env"), "green");
    assert_string_equal(str_at(labels, "kind"), "alert");
    assert_int_equal(cJSON_GetArraySize(labels), 5);
    assert_string_equal(str_at(ann, "summary"), "error_rate is 2.3% (> 1% over 5m)");
    assert_string_equal(str_at(ann, "runbook_url"), "https://runbooks/api");
    assert_null(str_at(ann, "description"));
    assert_string_equal(str_at(a, "startsAt"), "2026-10-01T10:00:00Z");
    /* 10:00:10 + 4 x max(1m resend, 10s evaluation) = 10:04:10 */
    assert_string_equal(str_at(a, "endsAt"), "2026-10-01T10:04:10Z");
    assert_string_equal(str_at(a, "generatorURL"), "http://slawatch:9464/api/v1/status");
    cJSON_Delete(j);
    sw_am_free(am);
}

static void
test_resend_timing(void **state)
{
    (void)state;
    sw_am *am = new_am();
    size_t n;
    observe(am, true, T0, T0);
    cJSON_Delete(payload(am, T0, &n));
    assert_int_equal(n, 1);
    sw_am_mark_sent(am, T0);
    static const struct {
        int64_t at;
        size_t due;
    } steps[] = {{T0 + 10000, 0}, {T0 + 59999, 0}, {T0 + MIN, 1}};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        observe(am, true, T0, steps[i].at);
        cJSON_Delete(payload(am, steps[i].at, &n));
        assert_int_equal(n, steps[i].due);
    }
    /* Sent again at T0+1m: its endsAt moves forward to T0+5m. */
    cJSON *j = payload(am, T0 + MIN, &n);
    assert_string_equal(str_at(cJSON_GetArrayItem(j, 0), "endsAt"), "2026-10-01T10:05:00Z");
    cJSON_Delete(j);
    sw_am_free(am);
}

static void
test_resolved(void **state)
{
    (void)state;
    sw_am *am = new_am();
    size_t n;
    observe(am, true, T0, T0);
    cJSON_Delete(payload(am, T0, &n));
    sw_am_mark_sent(am, T0);
    /* Resolved at 10:00:30, seen 10 s later: due at once, though the resend is not. */
    observe(am, false, T0 + 30000, T0 + 40000);
    cJSON *j = payload(am, T0 + 40000, &n);
    assert_int_equal(n, 1);
    const cJSON *a = cJSON_GetArrayItem(j, 0);
    assert_string_equal(str_at(a, "startsAt"), "2026-10-01T10:00:00Z");
    assert_string_equal(str_at(a, "endsAt"), "2026-10-01T10:00:30Z");
    cJSON_Delete(j);
    sw_am_mark_sent(am, T0 + 40000);
    /* Re-sent every minute while within 15 minutes of the resolution, then forgotten. */
    cJSON_Delete(payload(am, T0 + 40000 + MIN, &n));
    assert_int_equal(n, 1);
    sw_am_mark_sent(am, T0 + 40000 + MIN);
    assert_int_equal(sw_am_count(am), 1);
    sw_am_mark_sent(am, T0 + 30000 + 15 * MIN);
    assert_int_equal(sw_am_count(am), 0);
    sw_am_free(am);
}

static void
test_refire_starts_new_episode(void **state)
{
    (void)state;
    sw_am *am = new_am();
    size_t n;
    observe(am, true, T0, T0);
    observe(am, false, T0 + MIN, T0 + MIN);
    observe(am, true, T0 + 3 * MIN, T0 + 3 * MIN);
    cJSON *j = payload(am, T0 + 3 * MIN, &n);
    assert_int_equal(n, 1);
    assert_string_equal(str_at(cJSON_GetArrayItem(j, 0), "startsAt"), "2026-10-01T10:03:00Z");
    cJSON_Delete(j);
    sw_am_free(am);
}

static void
test_resolved_never_fired_is_ignored(void **state)
{
    (void)state;
    sw_am *am = new_am();
    size_t n;
    observe(am, false, T0, T0);
    assert_int_equal(sw_am_count(am), 0);
    cJSON *j = payload(am, T0, &n);
    assert_int_equal(n, 0);
    cJSON_Delete(j);
    sw_am_free(am);
}

static void
test_trigger_kind_and_no_env(void **state)
{
    (void)state;
    sw_am *am = new_am();
    sw_alert rule = {.name = "ErrorRateSpike"};
    sw_trigger_result r = {
        .trigger = &rule, .fired = true, .fired_at_ms = T0, .state = SW_ALERT_FIRING};
    assert_int_equal(sw_am_observe_trigger(am, "api", NULL, &r, T0, NULL), SW_OK);
    size_t n;
    cJSON *j = payload(am, T0, &n);
    const cJSON *labels = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(j, 0), "labels");
    assert_string_equal(str_at(labels, "kind"), "rollback_trigger");
    assert_string_equal(str_at(labels, "alertname"), "ErrorRateSpike");
    assert_null(cJSON_GetObjectItemCaseSensitive(labels, "env"));
    cJSON_Delete(j);
    sw_am_free(am);
}

static void
test_summary_units(void **state)
{
    (void)state;
    char out[256];
    sw_alert err_rate = {.kind = SW_ALERT_CONDITION,
                         .over_ms = 5 * MIN,
                         .when = {.sli = SW_SLI_ERROR_RATE, .op = SW_OP_GT, .value = 0.01}};
    sw_am_summary(&err_rate, 0.023, out, sizeof out);
    assert_string_equal(out, "error_rate is 2.3% (> 1% over 5m)");
    sw_alert p95 = {
        .kind = SW_ALERT_CONDITION,
        .over_ms = 10 * MIN,
        .when = {.sli = SW_SLI_LATENCY, .percentile = 95, .op = SW_OP_GT, .value = 800000}};
    sw_am_summary(&p95, 1250000, out, sizeof out);
    assert_string_equal(out, "p95 is 1.25s (> 800ms over 10m)");
    sw_am_summary(&p95, NAN, out, sizeof out);
    assert_string_equal(out, "p95 is n/a (> 800ms over 10m)");
    sw_alert burn = {
        .kind = SW_ALERT_BURN_RATE, .burn_rate = 14.4, .long_ms = 60 * MIN, .short_ms = 5 * MIN};
    sw_am_summary(&burn, 15.2, out, sizeof out);
    assert_string_equal(out, "error budget burning 15.2x (> 14.4x over 1h and 5m)");
}

static void
test_push_refused_backs_off(void **state)
{
    (void)state;
    sw_am_config cfg = {.timeout_ms = 500, .attempts = 2};
    sw_am *am = NULL;
    assert_int_equal(sw_am_new(&cfg, &am, NULL), SW_OK);
    observe(am, true, T0, T0);
    sw_err err;
    size_t sent = 99;
    assert_int_equal(sw_am_push(am, "http://127.0.0.1:1/api/v2/alerts", T0, &sent, &err), SW_E_IO);
    assert_int_equal(sent, 0);
    assert_non_null(strstr(err.msg, "127.0.0.1:1/api/v2/alerts"));
    /* Within the backoff nothing is attempted; the alert stays due. */
    assert_int_equal(sw_am_push(am, "http://127.0.0.1:1/api/v2/alerts", T0 + 5000, &sent, &err),
                     SW_OK);
    assert_int_equal(sent, 0); /* still backing off: nothing sent */
    size_t n;
    cJSON_Delete(payload(am, T0 + 5000, &n));
    assert_int_equal(n, 1);
    sw_am_free(am);
}

int
main(void)
{
    if (sw_http_client_global_init(NULL) != SW_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_firing_payload_shape),
        cmocka_unit_test(test_resend_timing),
        cmocka_unit_test(test_resolved),
        cmocka_unit_test(test_refire_starts_new_episode),
        cmocka_unit_test(test_resolved_never_fired_is_ignored),
        cmocka_unit_test(test_trigger_kind_and_no_env),
        cmocka_unit_test(test_summary_units),
        cmocka_unit_test(test_push_refused_backs_off),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    sw_http_client_global_cleanup();
    return failed;
}
