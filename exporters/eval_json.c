/*
 * Writes evaluation results as JSON into an sw_buf. Reads the evaluator; never changes it.
 */
#include "slawatch/eval_json.h"

#include "slawatch/json.h"
#include "slawatch/units.h"

#include <math.h>
#include <string.h>

/* A number, or null when it is unknown (NaN) or infinite. */
static sw_status
put_number(sw_buf *b, double v, sw_err *err)
{
    if (!isfinite(v))
        return sw_buf_printf(b, err, "null");
    return sw_buf_printf(b, err, "%.10g", v);
}

static void
put_time(sw_buf *b, int64_t ms, sw_err *err)
{
    char t[40];
    if (ms < 0) {
        sw_buf_printf(b, err, "null");
        return;
    }
    sw_units_format_time(ms, t, sizeof t);
    sw_json_put_string(b, t, err);
}

static void
put_window(sw_buf *b, const sw_window_spec *w, sw_err *err)
{
    char d[40] = "month";
    if (w->kind == SW_WINDOW_ROLLING)
        sw_units_format_duration(w->length_ms, d, sizeof d);
    sw_json_put_string(b, d, err);
}

sw_status
sw_eval_json_objective_fields(sw_buf *b, const sw_objective_result *r, sw_err *err)
{
    const sw_objective *o = r->objective;
    sw_buf_printf(b, err, "\"name\":");
    sw_json_put_string(b, o->name, err);
    sw_buf_printf(b, err, ",\"window\":");
    put_window(b, &o->window, err);
    sw_buf_printf(b, err, ",\"measured\":");
    put_number(b, r->has_verdict ? r->measured : NAN, err);
    sw_buf_printf(b, err, ",\"op\":\"%s\",\"target\":", sw_rules_op_str(r->op));
    put_number(b, r->target, err);
    if (o->objective.sli == SW_SLI_THROUGHPUT) {
        sw_buf_printf(b, err, ",\"min_rate_per_s\":");
        put_number(b, o->objective.value, err);
    }
    sw_buf_printf(b, err, ",\"met\":%s", !r->has_verdict ? "null" : r->met ? "true" : "false");
    sw_buf_printf(b, err, ",\"so_far\":%s", r->so_far ? "true" : "false");
    sw_buf_printf(b, err, ",\"samples\":%llu,\"coverage\":", (unsigned long long)r->samples);
    put_number(b, r->coverage, err);
    sw_buf_printf(b, err, ",\"budget_remaining\":");
    put_number(b, r->budget_remaining, err);
    sw_buf_printf(b, err, ",\"burn_rate_1h\":");
    put_number(b, r->burn_rate, err);
    sw_buf_printf(b, err, ",\"time_to_exhaustion_s\":");
    return put_number(b, r->time_to_exhaustion_s, err);
}

/* The status' longer burn rates, asked of the evaluator now rather than kept at every tick. */
static void
put_longer_burns(sw_buf *b, const sw_eval *ev, size_t i, size_t k, sw_err *err)
{
    sw_buf_printf(b, err, ",\"burn_rate_6h\":");
    put_number(b, sw_eval_burn_rate(ev, i, k, INT64_C(6) * 3600 * 1000), err);
    sw_buf_printf(b, err, ",\"burn_rate_1d\":");
    put_number(b, sw_eval_burn_rate(ev, i, k, INT64_C(24) * 3600 * 1000), err);
}

static void
put_objective(sw_buf *b, const sw_eval *ev, size_t i, size_t k, const sw_objective_result *r,
              sw_err *err)
{
    sw_buf_printf(b, err, "{");
    sw_eval_json_objective_fields(b, r, err);
    put_longer_burns(b, ev, i, k, err);
    /* What measured and target are (their unit follows from it): the web UI formats them. */
    char sli[32];
    sw_rules_sli_name(&r->objective->objective, sli, sizeof sli);
    sw_buf_printf(b, err, ",\"sli\":");
    sw_json_put_string(b, sli, err);
    sw_buf_printf(b, err, "}");
}

/* A burn-rate alert's definition: the web UI marks burn rates with its factor. */
static void
put_burn_rule(sw_buf *b, const sw_rules *rules, const sw_alert *a, sw_err *err)
{
    char w[40];
    sw_buf_printf(b, err, ",\"objective\":");
    sw_json_put_string(b, rules->objectives[a->objective].name, err);
    sw_buf_printf(b, err, ",\"burn_rate\":");
    put_number(b, a->burn_rate, err);
    sw_units_format_duration(a->long_ms, w, sizeof w);
    sw_buf_printf(b, err, ",\"long\":");
    sw_json_put_string(b, w, err);
    sw_units_format_duration(a->short_ms, w, sizeof w);
    sw_buf_printf(b, err, ",\"short\":");
    sw_json_put_string(b, w, err);
}

static void
put_alert(sw_buf *b, const sw_rules *rules, const sw_alert_result *r, sw_err *err)
{
    sw_buf_printf(b, err, "{\"name\":");
    sw_json_put_string(b, r->alert->name, err);
    sw_buf_printf(b, err, ",\"severity\":\"%s\",\"state\":\"%s\",\"since\":",
                  sw_rules_severity_str(r->alert->severity), sw_eval_alert_state_str(r->state));
    put_time(b, r->state == SW_ALERT_INACTIVE ? -1 : r->active_since_ms, err);
    sw_buf_printf(b, err, ",\"measured\":");
    put_number(b, r->measured, err);
    if (r->alert->kind == SW_ALERT_BURN_RATE)
        put_burn_rule(b, rules, r->alert, err);
    sw_buf_printf(b, err, "}");
}

static void
put_trigger(sw_buf *b, const sw_trigger_result *r, sw_err *err)
{
    sw_buf_printf(b, err, "{\"name\":");
    sw_json_put_string(b, r->trigger->name, err);
    sw_buf_printf(b, err, ",\"fired\":%s,\"at\":", r->fired ? "true" : "false");
    put_time(b, r->fired ? r->fired_at_ms : -1, err);
    sw_buf_printf(b, err, "}");
}

/* A comparison's confidence bounds, baseline count and, undecided, what would decide it. */
static void
put_comparison(sw_buf *b, const sw_gate_check *c, sw_err *err)
{
    sw_buf_printf(b, err, ",\"lower\":");
    put_number(b, c->lower, err);
    sw_buf_printf(b, err, ",\"upper\":");
    put_number(b, c->upper, err);
    sw_buf_printf(b, err, ",\"confidence\":");
    put_number(b, c->confidence, err);
    sw_buf_printf(b, err, ",\"baseline_samples\":%llu", (unsigned long long)c->baseline_samples);
    if (c->more_samples == UINT64_MAX)
        sw_buf_printf(b, err, ",\"more_samples\":null");
    else if (c->more_samples > 0)
        sw_buf_printf(b, err, ",\"more_samples\":%llu", (unsigned long long)c->more_samples);
}

sw_status
sw_eval_json_gate_fields(sw_buf *b, const sw_gate_result *g, sw_err *err)
{
    sw_buf_printf(b, err, "\"verdict\":\"%s\",\"reason\":", sw_eval_verdict_str(g->verdict));
    sw_json_put_string(b, g->reason, err);
    sw_buf_printf(b, err, ",\"failed_at\":");
    put_time(b, g->failed_at_ms, err);
    if (g->policy_override[0] != '\0') { /* only with one: answers without keep their shape */
        sw_buf_printf(b, err, ",\"policy_override\":");
        sw_json_put_string(b, g->policy_override, err);
    }
    sw_buf_printf(b, err, ",\"checks\":[");
    for (size_t i = 0; i < g->n_checks; i++) {
        const sw_gate_check *c = &g->checks[i];
        char window[40];
        sw_units_format_duration(c->window_ms, window, sizeof window);
        sw_buf_printf(b, err, "%s{\"name\":", i ? "," : "");
        sw_json_put_string(b, c->name, err);
        sw_buf_printf(b, err, ",\"measured\":");
        put_number(b, c->measured, err);
        sw_buf_printf(b, err, ",\"op\":\"%s\",\"threshold\":", sw_rules_op_str(c->op));
        put_number(b, c->threshold, err);
        if (!isnan(c->confidence))
            put_comparison(b, c, err);
        if (c->overridden) {
            sw_buf_printf(b, err, ",\"overridden_by\":");
            sw_json_put_string(b, g->policy_override, err);
        }
        sw_buf_printf(b, err,
                      ",\"samples\":%llu,\"window\":\"%s\",\"verdict\":\"%s\",\"passed\":%s}",
                      (unsigned long long)c->samples, window, sw_eval_verdict_str(c->verdict),
                      c->passed ? "true" : "false");
    }
    return sw_buf_printf(b, err, "]");
}

static void
put_gate(sw_buf *b, const sw_gate_result *g, sw_err *err)
{
    sw_buf_printf(b, err, "{");
    sw_eval_json_gate_fields(b, g, err);
    sw_buf_printf(b, err, "}");
}

static sw_status
put_series(sw_buf *b, const sw_eval *ev, size_t i, sw_gate_scratch *x, sw_err *err)
{
    sw_series_result s;
    sw_eval_series(ev, i, &s);
    sw_gate_result gate;
    sw_status st = sw_eval_gate_with(ev, s.service, s.env, 0, x, &gate, err);
    if (st != SW_OK)
        return st;
    sw_buf_printf(b, err, "{\"name\":");
    sw_json_put_string(b, s.name, err);
    if (s.env != NULL) {
        sw_buf_printf(b, err, ",\"env\":");
        sw_json_put_string(b, s.env, err);
    }
    if (s.label != NULL) { /* one value of the service's by label: "labels":{"route":"/pay"} */
        sw_buf_printf(b, err, ",\"labels\":{");
        sw_json_put_string(b, s.label, err);
        sw_buf_printf(b, err, ":");
        sw_json_put_string(b, s.value, err);
        sw_buf_printf(b, err, "}");
    }
    sw_buf_printf(b, err, ",\"coverage\":");
    put_number(b, s.coverage, err);
    sw_buf_printf(b, err, ",\"objectives\":[");
    for (size_t k = 0; k < s.rules->n_objectives; k++) {
        sw_buf_printf(b, err, k ? "," : "");
        put_objective(b, ev, i, k, &s.objectives[k], err);
    }
    sw_buf_printf(b, err, "],\"alerts\":[");
    for (size_t k = 0; k < s.rules->n_alerts; k++) {
        sw_buf_printf(b, err, k ? "," : "");
        put_alert(b, s.rules, &s.alerts[k], err);
    }
    sw_buf_printf(b, err, "],\"triggers\":[");
    for (size_t k = 0; k < s.rules->n_triggers; k++) {
        sw_buf_printf(b, err, k ? "," : "");
        put_trigger(b, &s.triggers[k], err);
    }
    sw_buf_printf(b, err, "],\"gate\":");
    put_gate(b, &gate, err);
    sw_buf_printf(b, err, "}");
    return SW_OK;
}

sw_status
sw_eval_json_write(const sw_eval *ev, int64_t at_ms, sw_buf *out, sw_err *err)
{
    size_t before = out->len;
    sw_err local = {0};
    sw_err *e = err ? err : &local;
    e->code = SW_OK;
    sw_buf_printf(out, e, "{\"at\":");
    put_time(out, at_ms, e);
    sw_buf_printf(out, e, ",\"services\":[");
    /* Every series' gate verdict through one scratch (NULL, out of memory: each alone). */
    sw_gate_scratch *x = NULL;
    (void)sw_gate_scratch_new(&x, NULL);
    for (size_t i = 0; i < sw_eval_series_count(ev) && e->code == SW_OK; i++) {
        sw_buf_printf(out, e, i ? "," : "");
        sw_status st = put_series(out, ev, i, x, e);
        if (st != SW_OK)
            e->code = st;
    }
    sw_gate_scratch_free(x);
    sw_buf_printf(out, e, "]}\n");
    /* Appends record their failure in e (a full buffer); report the first, keep out whole. */
    if (e->code != SW_OK)
        out->len = before;
    return e->code;
}
