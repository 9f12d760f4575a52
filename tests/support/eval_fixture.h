/*
 * The evaluator's unit tests' fixture (tests/unit/test_eval_*.c): one service, api, in blue and
 * green, its rule set built as structs as a loaded rules file would be (objectives, alerts,
 * triggers and gate checks filled in by each test before start()), and helpers that feed base
 * intervals, advance and read a series' results or its gate. Include after cmocka.h.
 */
#ifndef SLAWATCH_TEST_EVAL_FIXTURE_H
#define SLAWATCH_TEST_EVAL_FIXTURE_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "slawatch/eval.h"

#define SEC INT64_C(1000)
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)
#define BASE (10 * SEC)
#define T_SEP INT64_C(1788220800000) /* 2026-09-01T00:00:00Z, a 30-day month */
#define T_OCT INT64_C(1790812800000) /* 2026-10-01T00:00:00Z, a 31-day month */
#define T_NOV INT64_C(1793491200000) /* 2026-11-01T00:00:00Z */
#define NOON (T_OCT + 12 * HOUR)     /* 2026-10-01T12:00:00Z */

#define assert_near(x, y, eps) assert_true(fabs((double)(x) - (double)(y)) <= (eps))

typedef struct fx {
    sw_rules rules;
    sw_service svc;
    const char *envs[2];
    sw_maintenance maint[2];
    sw_objective obj[8];
    sw_condition bad_when[2];
    sw_alert alerts[8];
    sw_alert triggers[4];
    sw_condition checks[4];
    sw_eval *ev;
} fx;

static inline int
setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->envs[0] = "blue";
    f->envs[1] = "green";
    f->svc = (sw_service){.name = "api", .environments = f->envs, .n_environments = 2};
    f->rules = (sw_rules){
        .base_interval_ms = BASE,
        .min_requests = 100,
        .services = &f->svc,
        .n_services = 1,
        .objectives = f->obj,
        .alerts = f->alerts,
        .triggers = f->triggers,
        .gate = {.window_ms = 10 * MIN,
                 .min_requests = 100,
                 .checks = f->checks,
                 .max_error_rate_increase = -1,
                 .max_latency_increase = -1,
                 .confidence = 0.99},
    };
    *state = f;
    return 0;
}

static inline int
teardown(void **state)
{
    fx *f = *state;
    sw_eval_free(f->ev);
    free(f);
    return 0;
}

static inline void
start(fx *f)
{
    assert_int_equal(sw_eval_new(&f->rules, &f->ev, NULL), SW_OK);
}

static inline sw_condition
cond(sw_sli sli, sw_op op, double value)
{
    return (sw_condition){.sli = sli, .op = op, .value = value};
}

static inline sw_condition
pct(double percentile, sw_op op, double value_us)
{
    return (sw_condition){
        .sli = SW_SLI_LATENCY, .percentile = percentile, .op = op, .value = value_us};
}

static inline sw_alert
alert(const char *name, sw_condition when, int64_t over_ms, int64_t for_ms)
{
    return (sw_alert){.name = name,
                      .kind = SW_ALERT_CONDITION,
                      .when = when,
                      .over_ms = over_ms,
                      .for_ms = for_ms};
}

static inline sw_objective
objective(const char *name, sw_condition c, bool month, int64_t length_ms)
{
    return (sw_objective){
        .name = name,
        .objective = c,
        .window = {month ? SW_WINDOW_MONTH : SW_WINDOW_ROLLING, month ? 0 : length_ms},
        .budgeting = SW_BUDGET_EVENTS,
        .slice_ms = MIN,
        .slice_target = 0.99,
    };
}

/* One base interval: counts, health ('1' ok, '0' failed) and up to two latency values. */
typedef struct ivspec {
    uint64_t requests, errors;
    const char *health;
    int64_t lat_us, lat_n, lat2_us, lat2_n;
} ivspec;

static inline void
add(fx *f, const char *env, int64_t start_ms, const ivspec *sp)
{
    sw_sli_interval iv = {.start_ms = start_ms,
                          .length_ms = BASE,
                          .requests = sp->requests,
                          .errors = sp->errors,
                          .has_data = true};
    for (const char *p = sp->health ? sp->health : ""; *p; p++)
        sw_health_record(&iv.health, *p == '1');
    if (sp->lat_n > 0 || sp->lat2_n > 0) {
        assert_int_equal(sw_hdr_new(&sw_hdr_latency_config, &iv.latency, NULL), SW_OK);
        sw_hdr_record_n(iv.latency, sp->lat_us, sp->lat_n);
        sw_hdr_record_n(iv.latency, sp->lat2_us, sp->lat2_n);
    }
    sw_err err;
    sw_status st = sw_eval_add(f->ev, "api", env, &iv, &err);
    if (st != SW_OK)
        fail_msg("sw_eval_add: %s", err.msg);
    sw_sli_interval_fini(&iv);
}

static inline void
add_run(fx *f, const char *env, int64_t start_ms, int n, const ivspec *sp)
{
    for (int i = 0; i < n; i++)
        add(f, env, start_ms + i * BASE, sp);
}

static inline void
advance(fx *f, int64_t now_ms)
{
    sw_err err;
    if (sw_eval_advance(f->ev, now_ms, &err) != SW_OK)
        fail_msg("sw_eval_advance: %s", err.msg);
}

static inline sw_series_result
series(const fx *f, const char *env)
{
    sw_series_result r;
    for (size_t i = 0; i < sw_eval_series_count(f->ev); i++) {
        sw_eval_series(f->ev, i, &r);
        if (env == NULL ? r.env == NULL : r.env != NULL && strcmp(r.env, env) == 0)
            return r;
    }
    fail_msg("no series for env %s", env ? env : "(none)");
    return r;
}

static inline sw_gate_result
gate(const fx *f, const char *env, int64_t window_ms)
{
    sw_gate_result g;
    sw_err err;
    if (sw_eval_gate(f->ev, "api", env, window_ms, &g, &err) != SW_OK)
        fail_msg("sw_eval_gate: %s", err.msg);
    return g;
}

#endif
