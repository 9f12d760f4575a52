/*
 * The status' burn rates over 6 h and 1 d (sw_eval_burn_rate) against counts worked out by hand:
 * 30 hours of known errors per hour, and rules that keep a day of base intervals or only an hour.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "slawatch/eval.h"

#define SEC INT64_C(1000)
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)
#define BASE (10 * SEC)
#define T_OCT INT64_C(1790812800000) /* 2026-10-01T00:00:00Z */

#define assert_near(x, y, eps) assert_true(fabs((double)(x) - (double)(y)) <= (eps))

typedef struct fx {
    sw_rules rules;
    sw_service svc;
    sw_objective obj;
    sw_alert alert;
    sw_eval *ev;
} fx;

/* Availability >= 99.9 % over the month (0.1 % of requests may fail) and one burn-rate alert
 * whose long window is long_ms: the rules keep base intervals as long as it looks back. */
static void
build(fx *f, int64_t long_ms)
{
    memset(f, 0, sizeof *f);
    f->svc = (sw_service){.name = "api"};
    f->obj = (sw_objective){
        .name = "availability",
        .objective = {.sli = SW_SLI_AVAILABILITY, .op = SW_OP_GE, .value = 0.999},
        .window = {SW_WINDOW_MONTH, 0},
        .budgeting = SW_BUDGET_EVENTS,
        .slice_ms = MIN,
        .slice_target = 0.99,
    };
    f->alert = (sw_alert){.name = "burn",
                          .kind = SW_ALERT_BURN_RATE,
                          .objective = 0,
                          .burn_rate = 3,
                          .long_ms = long_ms,
                          .short_ms = long_ms / 12};
    f->rules = (sw_rules){.base_interval_ms = BASE,
                          .min_requests = 100,
                          .services = &f->svc,
                          .n_services = 1,
                          .objectives = &f->obj,
                          .n_objectives = 1,
                          .alerts = &f->alert,
                          .n_alerts = 1,
                          .gate = {.window_ms = 10 * MIN, .confidence = 0.99}};
    assert_int_equal(sw_eval_new(&f->rules, &f->ev, NULL), SW_OK);
}

/* Errors per 10 s interval of 1000 requests in hour h after T_OCT. */
static uint64_t
errors_in_hour(int h)
{
    return h < 6 ? 0 : h < 24 ? 1 : h < 29 ? 2 : 10;
}

/* 30 hours of base intervals, then one advance at their end. */
static void
feed_30_hours(fx *f)
{
    for (int64_t t = T_OCT; t < T_OCT + 30 * HOUR; t += BASE) {
        sw_sli_interval iv = {.start_ms = t,
                              .length_ms = BASE,
                              .requests = 1000,
                              .errors = errors_in_hour((int)((t - T_OCT) / HOUR)),
                              .has_data = true};
        sw_err err;
        if (sw_eval_add(f->ev, "api", NULL, &iv, &err) != SW_OK)
            fail_msg("sw_eval_add: %s", err.msg);
    }
    sw_err err;
    if (sw_eval_advance(f->ev, T_OCT + 30 * HOUR, &err) != SW_OK)
        fail_msg("sw_eval_advance: %s", err.msg);
}

static void
test_six_hours_and_a_day(void **state)
{
    (void)state;
    fx f;
    build(&f, DAY);
    feed_30_hours(&f);
    assert_int_equal(sw_eval_series_count(f.ev), 1);
    sw_series_result r;
    sw_eval_series(f.ev, 0, &r);
    /* 360 intervals an hour, 360,000 requests. Allowed: 0.1 %.
     * 1 h (hour 29): 3600 errors / 360,000 = 1 % -> 10.
     * 6 h (hours 24-29): 5 x 720 + 3600 = 7200 / 2,160,000 = 1/300 -> 10/3.
     * 1 d (hours 6-29): 18 x 360 + 5 x 720 + 3600 = 13,680 / 8,640,000 -> 1.583333... */
    assert_near(r.objectives[0].burn_rate, 10.0, 1e-12);
    assert_near(sw_eval_burn_rate(f.ev, 0, 0, HOUR), 10.0, 1e-12);
    assert_near(sw_eval_burn_rate(f.ev, 0, 0, 6 * HOUR), 10.0 / 3.0, 1e-12);
    assert_near(sw_eval_burn_rate(f.ev, 0, 0, DAY), 13680.0 / 8640000.0 / 0.001, 1e-12);
    assert_near(sw_eval_burn_rate(f.ev, 0, 0, DAY), 1.5833333333333333, 1e-12);
    sw_eval_free(f.ev);
}

static void
test_not_kept_is_unknown(void **state)
{
    (void)state;
    fx f;
    /* An hour-long alert: the rules keep an hour of base intervals (and the month in hours),
     * so the 6 h and 1 d windows' old edges are gone: unknown, never an estimate. */
    build(&f, HOUR);
    feed_30_hours(&f);
    assert_near(sw_eval_burn_rate(f.ev, 0, 0, HOUR), 10.0, 1e-12);
    assert_true(isnan(sw_eval_burn_rate(f.ev, 0, 0, 6 * HOUR)));
    assert_true(isnan(sw_eval_burn_rate(f.ev, 0, 0, DAY)));
    sw_eval_free(f.ev);
}

static void
test_no_data_is_unknown(void **state)
{
    (void)state;
    fx f;
    build(&f, DAY);
    sw_sli_interval iv = {.start_ms = T_OCT, .length_ms = BASE, .has_data = false};
    assert_int_equal(sw_eval_add(f.ev, "api", NULL, &iv, NULL), SW_OK);
    assert_int_equal(sw_eval_advance(f.ev, T_OCT + HOUR, NULL), SW_OK);
    assert_true(isnan(sw_eval_burn_rate(f.ev, 0, 0, 6 * HOUR)));
    sw_eval_free(f.ev);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_six_hours_and_a_day),
        cmocka_unit_test(test_not_kept_is_unknown),
        cmocka_unit_test(test_no_data_is_unknown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
