/*
 * The evaluator object: the series table (service and environment, hashed), feeding intervals,
 * and advancing time: alerts and triggers at every base-interval boundary, then objectives at
 * the evaluation time, then forgetting what no window needs. One thread owns an evaluator; it
 * owns every series, history and window in it, and borrows the rule set.
 */
#include "eval_int.h"
#include "slawatch/units.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define PACK_BUF_MAX (64u << 20)

/* ------------------------------------------------------------------ series table */

static uint64_t
series_hash(const char *service, const char *env)
{
    uint64_t h = UINT64_C(1469598103934665603);
    for (const char *p = service; *p; p++)
        h = (h ^ (uint8_t)*p) * UINT64_C(1099511628211);
    h = (h ^ 0xff) * UINT64_C(1099511628211); /* separator: ("ab", NULL) != ("a", "b") */
    for (const char *p = env ? env : ""; *p; p++)
        h = (h ^ (uint8_t)*p) * UINT64_C(1099511628211);
    return env ? h : h ^ 1;
}

static bool
same_env(const char *a, const char *b)
{
    return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

sw_series *
sw_eval_find(const sw_eval *ev, const char *service, const char *env)
{
    if (ev->n_slots == 0)
        return NULL;
    size_t mask = ev->n_slots - 1;
    for (size_t i = series_hash(service, env) & mask; ev->slots[i] != 0; i = (i + 1) & mask) {
        sw_series *s = ev->series[ev->slots[i] - 1];
        if (strcmp(sw_series_name(s), service) == 0 && same_env(s->env, env))
            return s;
    }
    return NULL;
}

static void
slot_put(size_t *slots, size_t n_slots, const sw_series *s, size_t index)
{
    size_t mask = n_slots - 1, i = series_hash(sw_series_name(s), s->env) & mask;
    while (slots[i] != 0)
        i = (i + 1) & mask;
    slots[i] = index + 1;
}

/* Room for one more series: the array doubles, the table stays at most half full. */
static sw_status
table_reserve(sw_eval *ev, sw_err *err)
{
    if (ev->n_series == ev->cap_series) {
        size_t cap = ev->cap_series ? 2 * ev->cap_series : 16;
        sw_series **series = realloc(ev->series, cap * sizeof *series);
        if (series == NULL)
            return sw_err_set(err, SW_E_NOMEM, "cannot grow the series table");
        ev->series = series;
        ev->cap_series = cap;
    }
    if (2 * (ev->n_series + 1) <= ev->n_slots)
        return SW_OK;
    size_t n_slots = ev->n_slots ? 2 * ev->n_slots : 32;
    size_t *slots = calloc(n_slots, sizeof *slots);
    if (slots == NULL)
        return sw_err_set(err, SW_E_NOMEM, "cannot grow the series table");
    for (size_t i = 0; i < ev->n_series; i++)
        slot_put(slots, n_slots, ev->series[i], i);
    free(ev->slots);
    ev->slots = slots;
    ev->n_slots = n_slots;
    return SW_OK;
}

/* ------------------------------------------------------------------ series */

static void
series_free(sw_series *s)
{
    if (s == NULL)
        return;
    sw_history_fini(&s->hist);
    for (size_t i = 0; s->lat != NULL && i < s->plan->n_lat; i++)
        sw_window_fini(&s->lat[i]);
    for (size_t i = 0; s->slices != NULL && i < s->rules->n_objectives; i++)
        sw_slices_free(s->slices[i]);
    free(s->lat);
    free(s->slices);
    free(s->objectives);
    free(s->alerts);
    free(s->trigger_states);
    free(s->triggers);
    sw_gate_state_free(s->gate);
    free(s->key);
    free(s->env);
    free(s);
}

static void
series_results_init(const sw_rules *r, sw_series *s)
{
    for (size_t i = 0; i < r->n_objectives; i++)
        sw_objective_result_init(&s->objectives[i], &r->objectives[i]);
    for (size_t i = 0; i < r->n_alerts; i++)
        sw_alert_result_init(&s->alerts[i], &r->alerts[i]);
    for (size_t i = 0; i < r->n_triggers; i++) {
        sw_alert_result_init(&s->trigger_states[i], &r->triggers[i]);
        sw_trigger_result_init(&s->triggers[i], &r->triggers[i]);
    }
}

static sw_status
series_alloc(sw_series *s, sw_err *err)
{
    const sw_rules *r = s->rules;
    s->lat = calloc(s->plan->n_lat + 1, sizeof *s->lat);
    s->slices = calloc(r->n_objectives + 1, sizeof *s->slices);
    s->objectives = calloc(r->n_objectives + 1, sizeof *s->objectives);
    s->alerts = calloc(r->n_alerts + 1, sizeof *s->alerts);
    s->trigger_states = calloc(r->n_triggers + 1, sizeof *s->trigger_states);
    s->triggers = calloc(r->n_triggers + 1, sizeof *s->triggers);
    if (!s->lat || !s->slices || !s->objectives || !s->alerts || !s->trigger_states || !s->triggers)
        return sw_err_set(err, SW_E_NOMEM, "cannot allocate a series");
    series_results_init(r, s);
    sw_status st = SW_OK;
    for (size_t i = 0; i < s->plan->n_lat && st == SW_OK; i++)
        st = sw_window_init(&s->lat[i], &s->plan->lat[i], s->plan->base_ms, err);
    for (size_t i = 0; i < r->n_objectives && st == SW_OK; i++)
        if (sw_plan_uses_slices(&r->objectives[i]))
            st = sw_slices_new(r->objectives[i].slice_ms, &s->slices[i], err);
    return st;
}

static sw_status
series_new(const sw_eval *ev, size_t service_index, const char *name, const char *env,
           sw_series **ret, sw_err *err)
{
    static atomic_uint_fast64_t last_id;
    sw_series *s = calloc(1, sizeof *s);
    if (s == NULL)
        return sw_err_set(err, SW_E_NOMEM, "cannot allocate a series");
    s->id = atomic_fetch_add(&last_id, 1) + 1;
    s->service = &ev->rules->services[service_index];
    s->service_index = service_index;
    s->rules = sw_eval_service_rules(ev, service_index);
    s->plan = sw_eval_service_plan(ev, service_index);
    s->evaluated_ms = INT64_MIN;
    s->deployed_ms = INT64_MIN;
    s->fed_until_ms = INT64_MIN;
    s->advanced_ms = INT64_MIN;
    sw_history_init(&s->hist, &s->plan->history);
    sw_status st = SW_OK;
    if (env != NULL && (s->env = strdup(env)) == NULL)
        st = sw_err_set(err, SW_E_NOMEM, "cannot allocate a series");
    if (strcmp(name, s->service->name) != 0 && (s->key = strdup(name)) == NULL)
        st = sw_err_set(err, SW_E_NOMEM, "cannot allocate a series");
    if (st == SW_OK)
        st = series_alloc(s, err);
    if (st != SW_OK) {
        series_free(s);
        return st;
    }
    *ret = s;
    return SW_OK;
}

sw_status
sw_eval_resolve(const sw_rules *r, const char *service, const char *env, size_t *ret, sw_err *err)
{
    /* A label value's key (sw_rules_by_key) resolves to the service whose by names its label. */
    ptrdiff_t i = sw_rules_series_service(r, service, NULL);
    if (i < 0)
        return sw_err_set(err, SW_E_INVAL, "unknown service %s", service);
    const sw_service *svc = &r->services[i];
    for (size_t e = 0; env != NULL && e < svc->n_environments; e++)
        if (strcmp(svc->environments[e], env) == 0)
            env = NULL;
    if (env != NULL)
        return sw_err_set(err, SW_E_INVAL, "service %s has no environment %s", service, env);
    *ret = (size_t)i;
    return SW_OK;
}

static sw_status
find_or_add(sw_eval *ev, const char *service, const char *env, sw_series **ret, sw_err *err)
{
    sw_series *s = sw_eval_find(ev, service, env);
    if (s != NULL) {
        *ret = s;
        return SW_OK;
    }
    size_t index;
    sw_status st = sw_eval_resolve(ev->rules, service, env, &index, err);
    if (st == SW_OK)
        st = table_reserve(ev, err);
    if (st == SW_OK)
        st = series_new(ev, index, service, env, &s, err);
    if (st != SW_OK)
        return st;
    ev->series[ev->n_series] = s;
    slot_put(ev->slots, ev->n_slots, s, ev->n_series++);
    *ret = s;
    return SW_OK;
}

sw_status
sw_eval_series_get(sw_eval *ev, const char *service, const char *env, sw_series **ret, sw_err *err)
{
    return find_or_add(ev, service, env, ret, err);
}

/* ------------------------------------------------------------------ lifecycle */

const sw_rules *
sw_eval_service_rules(const sw_eval *ev, size_t i)
{
    /* A rule set built by hand (tests) has no resolved sets: the whole set applies. */
    const sw_rules *own = ev->rules->services[i].rules;
    return own != NULL ? own : ev->rules;
}

const sw_plan *
sw_eval_service_plan(const sw_eval *ev, size_t i)
{
    return &ev->plans[ev->plan_of[i]];
}

/* Services resolved alike (a file's plain services share their file's lists) share a plan. */
static bool
same_set(const sw_rules *a, const sw_rules *b)
{
    return a->objectives == b->objectives && a->n_objectives == b->n_objectives &&
           a->alerts == b->alerts && a->n_alerts == b->n_alerts && a->triggers == b->triggers &&
           a->n_triggers == b->n_triggers && memcmp(&a->gate, &b->gate, sizeof a->gate) == 0;
}

/* The plan of each service's resolved set, built once per distinct set in a row. */
static sw_status
plans_init(sw_eval *ev, sw_err *err)
{
    size_t n = ev->rules->n_services;
    ev->plans = calloc(n + 1, sizeof *ev->plans);
    ev->plan_of = calloc(n + 1, sizeof *ev->plan_of);
    if (ev->plans == NULL || ev->plan_of == NULL)
        return sw_err_set(err, SW_E_NOMEM, "cannot allocate the evaluation plans");
    const sw_rules *last = NULL;
    for (size_t i = 0; i < n; i++) {
        const sw_rules *r = sw_eval_service_rules(ev, i);
        if (last == NULL || !same_set(last, r)) {
            sw_status st = sw_plan_init(&ev->plans[ev->n_plans], r, err);
            if (st != SW_OK) {
                sw_err_prefix(err, "service %s", ev->rules->services[i].name);
                return st;
            }
            ev->n_plans++;
            last = r;
        }
        ev->plan_of[i] = ev->n_plans - 1;
    }
    return SW_OK;
}

sw_status
sw_eval_new(const sw_rules *rules, sw_eval **ret_ev, sw_err *err)
{
    sw_eval *ev = calloc(1, sizeof *ev);
    if (ev == NULL)
        return sw_err_set(err, SW_E_NOMEM, "cannot allocate an evaluator");
    ev->rules = rules;
    ev->now_ms = INT64_MIN;
    ev->alerts_from_ms = INT64_MIN;
    ev->step_ms = INT64_MIN;
    sw_buf_init(&ev->pack_buf, PACK_BUF_MAX);
    sw_status st = sw_plan_init(&ev->plan, rules, err);
    if (st == SW_OK)
        st = plans_init(ev, err);
    if (st == SW_OK)
        st = sw_hdr_new(&sw_hdr_latency_config, &ev->scratch, err);
    if (st == SW_OK)
        st = sw_hdr_new(&sw_hdr_latency_config, &ev->slide_out, err);
    if (st == SW_OK)
        st = sw_hdr_new(&sw_hdr_latency_config, &ev->slide_in, err);
    if (st == SW_OK && (ev->sums_memo = calloc(1, sizeof *ev->sums_memo)) == NULL)
        st = sw_err_set(err, SW_E_NOMEM, "cannot allocate an evaluator");
    if (st == SW_OK && (ev->packed_memo = calloc(1, sizeof *ev->packed_memo)) == NULL)
        st = sw_err_set(err, SW_E_NOMEM, "cannot allocate an evaluator");
    if (st != SW_OK) {
        sw_eval_free(ev);
        return st;
    }
    *ret_ev = ev;
    return SW_OK;
}

void
sw_eval_free(sw_eval *ev)
{
    if (ev == NULL)
        return;
    for (size_t i = 0; i < ev->n_series; i++)
        series_free(ev->series[i]);
    free(ev->series);
    free(ev->slots);
    sw_hdr_free(ev->scratch);
    sw_hdr_free(ev->slide_out);
    sw_hdr_free(ev->slide_in);
    free(ev->sums_memo);
    free(ev->packed_memo);
    sw_buf_fini(&ev->pack_buf);
    free(ev->stepped);
    free(ev->step_order);
    free(ev->step_first);
    for (size_t i = 0; i < ev->n_plans; i++)
        sw_plan_fini(&ev->plans[i]);
    free(ev->plans);
    free(ev->plan_of);
    sw_plan_fini(&ev->plan);
    free(ev);
}

/* ------------------------------------------------------------------ feeding */

static sw_status
check_interval(const sw_eval *ev, const sw_sli_interval *iv, sw_err *err)
{
    int64_t base = ev->plan.base_ms;
    if (iv->start_ms < 0 || iv->start_ms % base != 0)
        return sw_err_set(err, SW_E_INVAL, "interval start %lld is not a multiple of %lld ms",
                          (long long)iv->start_ms, (long long)base);
    if (iv->length_ms <= 0 || iv->length_ms % base != 0)
        return sw_err_set(err, SW_E_INVAL, "interval length %lld is not a multiple of %lld ms",
                          (long long)iv->length_ms, (long long)base);
    if (iv->errors > iv->requests)
        return sw_err_set(err, SW_E_INVAL, "interval at %lld has %llu errors in %llu requests",
                          (long long)iv->start_ms, (unsigned long long)iv->errors,
                          (unsigned long long)iv->requests);
    if (iv->health.failures > iv->health.probes)
        return sw_err_set(err, SW_E_INVAL, "interval at %lld has more failed probes than probes",
                          (long long)iv->start_ms);
    return SW_OK;
}

/* The counts of an interval, but for its latency's. */
static void
count_sums(const sw_sli_interval *iv, sw_sums *ret)
{
    memset(ret, 0, sizeof *ret);
    ret->v[SW_SUM_REQUESTS] = iv->requests;
    ret->v[SW_SUM_ERRORS] = iv->errors;
    ret->v[SW_SUM_PROBES] = iv->health.probes;
    ret->v[SW_SUM_FAILURES] = iv->health.failures;
    ret->v[SW_SUM_DATA_MS] = (uint64_t)iv->length_ms;
}

static void
interval_sums(const sw_plan *p, const sw_sli_interval *iv, sw_sums *ret)
{
    count_sums(iv, ret);
    if (iv->latency == NULL)
        return;
    int64_t total = sw_hdr_total_count(iv->latency);
    ret->v[SW_SUM_LAT_TOTAL] = (uint64_t)total;
    for (size_t k = 0; k < p->n_slow; k++)
        ret->v[SW_SUM_SLOW + k] =
            (uint64_t)(total - sw_hdr_count_at_or_below(iv->latency, p->slow_us[k]));
}

/* interval_sums() of an interval whose latency comes packed (lat; NULL when it has none), with
 * the counts at or below the slow thresholds. */
static void
packed_interval_sums(const sw_plan *p, const sw_sli_interval *iv, const sw_chist *lat,
                     const int64_t *at_or_below, sw_sums *ret)
{
    count_sums(iv, ret);
    if (lat == NULL)
        return;
    int64_t total = sw_chist_total(lat);
    ret->v[SW_SUM_LAT_TOTAL] = (uint64_t)total;
    for (size_t k = 0; k < p->n_slow; k++)
        ret->v[SW_SUM_SLOW + k] = (uint64_t)(total - at_or_below[k]);
}

/* The series an interval is for, once it is known to fit after what the series was given. */
static sw_status
series_to_feed(sw_eval *ev, const char *service, const char *env, const sw_sli_interval *iv,
               sw_series **ret, sw_err *err)
{
    sw_series *s;
    sw_status st = check_interval(ev, iv, err);
    if (st == SW_OK)
        st = find_or_add(ev, service, env, &s, err);
    if (st != SW_OK)
        return st;
    if (iv->start_ms < s->fed_until_ms) {
        char at[40], until[40];
        sw_units_format_time(iv->start_ms, at, sizeof at);
        sw_units_format_time(s->fed_until_ms, until, sizeof until);
        return sw_err_set(err, SW_E_INVAL,
                          "%s%s%s: interval at %s overlaps or duplicates one before it (data up to "
                          "%s already given)",
                          service, env ? "/" : "", env ? env : "", at, until);
    }
    *ret = s;
    return SW_OK;
}

/* Append the interval with its sums to the series' history; takes lat (NULL: no latency). */
static sw_status
append_interval(sw_eval *ev, sw_series *s, const sw_sli_interval *iv, const sw_sums *sums,
                sw_chist *lat, sw_err *err)
{
    int64_t end = iv->start_ms + iv->length_ms;
    sw_status st = SW_OK;
    if (iv->has_data) {
        bool in_maint = sw_maint_overlaps(&ev->plan.maint[s->service_index], iv->start_ms, end);
        st = sw_history_append(&s->hist, iv, sums, in_maint, lat, err);
    }
    if (st == SW_OK) {
        s->fed_until_ms = end;
        s->fed++;
    }
    return st;
}

sw_status
sw_eval_add(sw_eval *ev, const char *service, const char *env, const sw_sli_interval *iv,
            sw_err *err)
{
    sw_series *s;
    sw_status st = series_to_feed(ev, service, env, iv, &s, err);
    if (st != SW_OK || !iv->has_data)
        return st == SW_OK ? append_interval(ev, s, iv, NULL, NULL, err) : st;
    sw_sums sums;
    interval_sums(s->plan, iv, &sums);
    sw_chist *lat = NULL;
    if (iv->latency != NULL && sw_hdr_total_count(iv->latency) > 0)
        st = sw_chist_pack(iv->latency, &ev->pack_buf, &lat, err);
    return st == SW_OK ? append_interval(ev, s, iv, &sums, lat, err) : st;
}

sw_status
sw_eval_add_encoded(sw_eval *ev, const char *service, const char *env, const sw_sli_interval *iv,
                    const uint8_t *latency, size_t latency_len, sw_err *err)
{
    SW_REQUIRE(iv->latency == NULL);
    sw_series *s;
    sw_status st = series_to_feed(ev, service, env, iv, &s, err);
    if (st != SW_OK || !iv->has_data)
        return st == SW_OK ? append_interval(ev, s, iv, NULL, NULL, err) : st;
    sw_chist *lat = NULL;
    int64_t at_or_below[SW_SLOW_MAX];
    if (latency != NULL)
        st = sw_chist_decode(latency, latency_len, s->plan->slow_us, s->plan->n_slow, at_or_below,
                             &ev->pack_buf, &lat, err);
    if (st != SW_OK)
        return st;
    if (lat != NULL && sw_chist_total(lat) == 0) { /* as sw_eval_add keeps no empty histogram */
        sw_chist_free(lat);
        lat = NULL;
    }
    sw_sums sums;
    packed_interval_sums(s->plan, iv, lat, at_or_below, &sums);
    return append_interval(ev, s, iv, &sums, lat, err);
}

/* ------------------------------------------------------------------ advancing */

static void
eval_conditions(const sw_eval *ev, sw_series *s, int64_t t)
{
    const sw_rules *r = s->rules;
    for (size_t i = 0; i < r->n_alerts; i++) {
        ptrdiff_t lat = s->plan->alert_lat[i];
        sw_alert_result *res = &s->alerts[i];
        bool holds = sw_alert_holds(ev, s, &r->alerts[i], lat >= 0 ? &s->lat[lat] : NULL, INT64_MIN,
                                    t, &res->measured, &res->measured_short);
        sw_alert_step(res, &r->alerts[i], holds, t);
    }
    for (size_t i = 0; i < r->n_triggers; i++) {
        ptrdiff_t lat = s->plan->trigger_lat[i];
        sw_alert_result *res = &s->trigger_states[i];
        /* Triggers judge the deployment since its mark (deployed_ms is INT64_MIN without). */
        bool holds = sw_alert_holds(ev, s, &r->triggers[i], lat >= 0 ? &s->lat[lat] : NULL,
                                    s->deployed_ms, t, &res->measured, &res->measured_short);
        sw_alert_step(res, &r->triggers[i], holds, t);
        sw_trigger_latch(&s->triggers[i], res, t);
    }
}

/* One boundary: move the alert latency windows, judge finished slices, evaluate. */
static sw_status
eval_boundary(sw_eval *ev, sw_series *s, int64_t t, sw_err *err)
{
    sw_move_scratch scratch = {ev->scratch, ev->slide_out, ev->slide_in};
    sw_status st = SW_OK;
    for (size_t i = 0; i < s->plan->n_lat && st == SW_OK; i++)
        if (s->plan->lat[i].at_boundaries)
            st = sw_window_move(&s->lat[i], &s->plan->lat[i], &s->hist, t, &scratch,
                                &ev->pack_buf, err);
    for (size_t i = 0; i < s->rules->n_objectives && st == SW_OK; i++)
        if (s->slices[i] != NULL)
            st =
                sw_slices_judge(s->slices[i], ev, s, &s->rules->objectives[i], t, ev->scratch, err);
    if (st == SW_OK) {
        eval_conditions(ev, s, t);
        st = sw_gate_step(ev, s, t, err);
    }
    return st;
}

/*
 * Every boundary in (evaluated, now]. Once the newest data is older than the longest
 * condition window, every window is empty until new data arrives: the states cannot change,
 * so the remaining boundaries collapse into the last one.
 */
static sw_status
eval_boundaries(sw_eval *ev, sw_series *s, int64_t now_ms, sw_err *err)
{
    int64_t base = ev->plan.base_ms, last = sw_floor_to(now_ms, base);
    int64_t t =
        s->evaluated_ms == INT64_MIN ? s->hist.first_start_ms + base : s->evaluated_ms + base;
    int64_t quiet = s->hist.last_end_ms + s->plan->longest_condition_ms;
    if (t < ev->alerts_from_ms)
        t = sw_min_i64(last, sw_ceil_to(ev->alerts_from_ms, base));
    while (t <= last) {
        sw_status st = eval_boundary(ev, s, t, err);
        if (st != SW_OK)
            return st;
        s->evaluated_ms = t;
        t = t >= quiet && t < last ? last : t + base;
    }
    return SW_OK;
}

static sw_status
eval_objectives(sw_eval *ev, sw_series *s, int64_t now_ms, sw_err *err)
{
    sw_move_scratch scratch = {ev->scratch, ev->slide_out, ev->slide_in};
    sw_status st = SW_OK;
    for (size_t i = 0; i < s->plan->n_lat && st == SW_OK; i++)
        if (!s->plan->lat[i].at_boundaries)
            st = sw_window_move(&s->lat[i], &s->plan->lat[i], &s->hist, now_ms, &scratch,
                                &ev->pack_buf, err);
    for (size_t i = 0; i < s->rules->n_objectives && st == SW_OK; i++)
        st = sw_objective_eval(ev, s, i, now_ms, err);
    return st;
}

static sw_status
series_drop(sw_series *s, int64_t now_ms, sw_err *err)
{
    for (size_t i = 0; i < s->rules->n_objectives; i++)
        if (s->slices[i] != NULL)
            sw_slices_drop(s->slices[i], now_ms - s->plan->slice_keep_ms[i]);
    return sw_history_drop(&s->hist, now_ms, err);
}

/*
 * Evaluated at now_ms already, and fed nothing since: every answer is a function of the
 * series' intervals and the time, so it stands (a deployment mark re-advancing at the last
 * boundary touches only what the mark changed, which is read where it is kept).
 */
static bool
unchanged(const sw_series *s, int64_t now_ms)
{
    return s->advanced_ms == now_ms && s->fed == s->fed_seen;
}

/* A label value without data for its service's by_idle is forgotten (rules/README.md, "One
 * SLO per label value"), freeing its place under by_limit; data coming back starts it anew. */
static bool
value_idle(const sw_series *s, int64_t now_ms)
{
    return s->key != NULL && s->service->by_idle_ms > 0 && s->fed_until_ms != INT64_MIN &&
           now_ms - s->fed_until_ms >= s->service->by_idle_ms;
}

void
sw_eval_forget_idle(sw_eval *ev, int64_t now_ms)
{
    size_t kept = 0;
    for (size_t i = 0; i < ev->n_series; i++) {
        sw_series *s = ev->series[i];
        if (value_idle(s, now_ms)) {
            series_free(s);
            ev->values_aged++;
        } else {
            ev->series[kept++] = s;
        }
    }
    if (kept == ev->n_series)
        return;
    ev->n_series = kept;
    memset(ev->slots, 0, ev->n_slots * sizeof *ev->slots);
    for (size_t i = 0; i < kept; i++)
        slot_put(ev->slots, ev->n_slots, ev->series[i], i);
}

uint64_t
sw_eval_values_aged(const sw_eval *ev)
{
    return ev->values_aged;
}

sw_status
sw_eval_series_advance(sw_eval *ev, sw_series *s, int64_t now_ms, sw_err *err)
{
    if (unchanged(s, now_ms))
        return SW_OK;
    sw_sums_memo_clear(ev->sums_memo); /* another series, or this one fed since */
    sw_packed_memo_clear(ev->packed_memo);
    sw_status st = SW_OK;
    if (s->hist.first_start_ms != INT64_MIN)
        st = eval_boundaries(ev, s, now_ms, err);
    if (st == SW_OK)
        st = eval_objectives(ev, s, now_ms, err);
    if (st == SW_OK)
        st = series_drop(s, now_ms, err);
    if (st != SW_OK) {
        sw_err_prefix(err, "%s%s%s", sw_series_name(s), s->env ? "/" : "", s->env ? s->env : "");
        return st;
    }
    s->advanced_ms = now_ms;
    s->fed_seen = s->fed;
    ev->series_evaluated++;
    return SW_OK;
}

sw_status
sw_eval_advance(sw_eval *ev, int64_t now_ms, sw_err *err)
{
    if (ev->now_ms != INT64_MIN && now_ms < ev->now_ms)
        return sw_err_set(err, SW_E_INVAL, "evaluation time %lld is before the previous %lld",
                          (long long)now_ms, (long long)ev->now_ms);
    for (size_t i = 0; i < ev->n_series; i++) {
        sw_status st = sw_eval_series_advance(ev, ev->series[i], now_ms, err);
        if (st != SW_OK)
            return st;
    }
    sw_eval_forget_idle(ev, now_ms);
    ev->now_ms = now_ms;
    return SW_OK;
}

/* ------------------------------------------------------------------ results */

void
sw_eval_mark_deployment(sw_eval *ev, const char *service, const char *env, int64_t at_ms)
{
    sw_eval_mark_deployment_override(ev, service, env, at_ms, NULL);
}

static void
mark_series(sw_series *s, int64_t at_ms, const char *policy_override)
{
    s->deployed_ms = at_ms;
    for (size_t i = 0; i < s->rules->n_triggers; i++)
        sw_trigger_reset(&s->triggers[i], &s->trigger_states[i]);
    /* Without memory for it (gate stays NULL) the gate is judged as an unmarked series' is. */
    sw_gate_mark(&s->gate, at_ms, policy_override, NULL);
}

void
sw_eval_mark_deployment_override(sw_eval *ev, const char *service, const char *env, int64_t at_ms,
                                 const char *policy_override)
{
    /* A service judged per label value deploys all its values at once: each is marked. */
    ptrdiff_t k = sw_rules_service_index(ev->rules, service);
    if (k >= 0 && ev->rules->services[k].by != NULL) {
        for (size_t i = 0; i < ev->n_series; i++) {
            sw_series *s = ev->series[i];
            if (s->service == &ev->rules->services[k] && s->key != NULL && same_env(s->env, env))
                mark_series(s, at_ms, policy_override);
        }
        return;
    }
    sw_series *s;
    /* An unknown service or environment has nothing to mark; the header returns nothing. */
    if (find_or_add(ev, service, env, &s, NULL) == SW_OK)
        mark_series(s, at_ms, policy_override);
}

void
sw_eval_alerts_from(sw_eval *ev, int64_t from_ms)
{
    ev->alerts_from_ms = from_ms;
}

sw_status
sw_eval_restore_trigger(sw_eval *ev, const char *service, const char *env, const char *trigger,
                        int64_t fired_at_ms, sw_err *err)
{
    sw_series *s;
    sw_status st = find_or_add(ev, service, env, &s, err);
    if (st != SW_OK)
        return st;
    for (size_t i = 0; i < s->rules->n_triggers; i++)
        if (strcmp(s->rules->triggers[i].name, trigger) == 0) {
            s->triggers[i].fired = true;
            s->triggers[i].fired_at_ms = fired_at_ms;
            return SW_OK;
        }
    return sw_err_set(err, SW_E_INVAL, "no rollback trigger named '%s'", trigger);
}

bool
sw_eval_has_series(const sw_eval *ev, const char *service, const char *env)
{
    return sw_eval_find(ev, service, env) != NULL;
}

void
sw_eval_work(const sw_eval *ev, sw_eval_work_done *ret)
{
    *ret = (sw_eval_work_done){.series_evaluated = ev->series_evaluated};
    for (size_t i = 0; i < ev->n_series; i++)
        for (size_t w = 0; w < ev->series[i]->plan->n_lat; w++)
            ret->window_steps += ev->series[i]->lat[w].steps;
}

size_t
sw_eval_series_count(const sw_eval *ev)
{
    return ev->n_series;
}

void
sw_eval_series(const sw_eval *ev, size_t i, sw_series_result *ret)
{
    SW_REQUIRE(i < ev->n_series);
    const sw_series *s = ev->series[i];
    int64_t now = ev->now_ms, first = s->hist.first_start_ms;
    double coverage = 0.0;
    if (first != INT64_MIN && now > first)
        coverage = (double)sw_history_total(&s->hist, now, SW_SUM_DATA_MS) / (double)(now - first);
    *ret = (sw_series_result){
        .service = sw_series_name(s),
        .name = s->service->name,
        .label = s->key != NULL ? s->service->by : NULL,
        .value = s->key != NULL ? strchr(s->key, '=') + 1 : NULL,
        .env = s->env,
        .coverage = coverage < 1.0 ? coverage : 1.0,
        .deployed_ms = s->deployed_ms == INT64_MIN ? -1 : s->deployed_ms,
        .rules = s->rules,
        .objectives = s->objectives,
        .alerts = s->alerts,
        .triggers = s->triggers,
    };
}

const char *
sw_eval_verdict_str(sw_verdict v)
{
    switch (v) {
    case SW_VERDICT_PASS:
        return "pass";
    case SW_VERDICT_FAIL:
        return "fail";
    case SW_VERDICT_INCONCLUSIVE:
        return "inconclusive";
    }
    return "unknown";
}

const char *
sw_eval_alert_state_str(sw_alert_state s)
{
    switch (s) {
    case SW_ALERT_INACTIVE:
        return "inactive";
    case SW_ALERT_PENDING:
        return "pending";
    case SW_ALERT_FIRING:
        return "firing";
    }
    return "unknown";
}
