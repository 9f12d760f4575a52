/*
 * The deploy gate: may traffic switch to this series (usually the candidate environment)?
 * Over the last window (never reaching back before the last deployment mark) it measures the
 * rules' checks, optionally compares against the baseline environment (error-rate and p95
 * increase, Mann-Whitney rank test on latency), looks at latched rollback triggers, and gives
 * pass, fail or inconclusive with every check and one sentence. Reads the evaluator only.
 */
#include "eval_int.h"
#include "slawatch/ranktest.h"
#include "slawatch/units.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* One side of the comparison: a series' sums and merged latency over the gate window. */
typedef struct gate_side {
    sw_sums sums;
    sw_hdr *lat;
    uint32_t tail_run;
} gate_side;

typedef struct gate_ctx {
    const sw_eval *ev;
    const sw_gate_spec *spec;
    sw_gate_result *res;
    int64_t window_ms;
    gate_side cand, base;
    bool compare; /* a baseline environment is compared against */
    bool enough;  /* the candidate has the requests to judge */
    bool base_enough;
    bool failed;
    const char *unmeasured; /* first check that could not be measured */
    char why[SW_GATE_REASON_MAX - 16]; /* the failures, "; " between them */
    bool truncated;                    /* why is full: "; and more" ends it */
    size_t why_len;
} gate_ctx;

/* ------------------------------------------------------------------ text */

static void
fmt_count(uint64_t n, char *out, size_t cap)
{
    char digits[24];
    int len = snprintf(digits, sizeof digits, "%llu", (unsigned long long)n);
    size_t o = 0;
    for (int i = 0; i < len && o + 2 < cap; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = digits[i];
    }
    out[o] = '\0';
}

static const char *
negated_op(sw_op op)
{
    static const char *const text[] = {
        [SW_OP_LT] = ">=", [SW_OP_LE] = ">", [SW_OP_GT] = "<=", [SW_OP_GE] = "<"};
    return text[op];
}

/* Append a failure to the reason, "; " between failures. */
static void why_fail(gate_ctx *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
why_fail(gate_ctx *g, const char *fmt, ...)
{
    char one[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(one, sizeof one, fmt, ap);
    va_end(ap);
    g->failed = true;
    if (n < 0 || g->truncated)
        return;
    /* Whole failures only: a sentence cut mid-word misleads more than "and more". */
    const char *sep = g->why_len > 0 ? "; " : "";
    size_t need = strlen(sep) + (size_t)n, room = sizeof g->why - g->why_len;
    if (need + sizeof "; and more" > room) {
        snprintf(g->why + g->why_len, room, "; and more");
        g->truncated = true;
        return;
    }
    snprintf(g->why + g->why_len, room, "%s%s", sep, one);
    g->why_len += need;
}

/* ------------------------------------------------------------------ measuring */

static sw_status
side_load(const sw_series *s, int64_t from, int64_t to, gate_side *g, sw_err *err)
{
    memset(g, 0, sizeof *g);
    sw_status st = sw_hdr_new(&sw_hdr_latency_config, &g->lat, err);
    if (st != SW_OK || s == NULL)
        return st;
    sw_history_sums(&s->hist, from, to, false, &g->sums);
    sw_window_merge(&s->hist, from, to, false, g->lat);
    g->tail_run = sw_history_peak_run(&s->hist, from, to);
    return SW_OK;
}

static sw_gate_check *
check_add(gate_ctx *g, const char *name, sw_op op, double threshold)
{
    sw_gate_result *r = g->res;
    if (r->n_checks == SW_GATE_MAX_CHECKS)
        return NULL;
    sw_gate_check *c = &r->checks[r->n_checks++];
    snprintf(c->name, sizeof c->name, "%s", name);
    c->measured = NAN;
    c->op = op;
    c->threshold = threshold;
    c->samples = g->cand.sums.v[SW_SUM_REQUESTS];
    c->window_ms = g->window_ms;
    return c;
}

/* Passed, failed or not judged (judged: there were enough requests); true when it failed. */
static bool
check_failed(gate_ctx *g, sw_gate_check *c, bool judged)
{
    c->passed = judged && !isnan(c->measured) && sw_rules_compare(c->op, c->measured, c->threshold);
    if (!judged || c->passed)
        return false;
    if (isnan(c->measured)) {
        if (g->unmeasured == NULL)
            g->unmeasured = c->name;
        return false;
    }
    return true;
}

/* Judge a check whose values read as sli does; a failure adds its sentence to the reason. */
static void
check_judge(gate_ctx *g, sw_gate_check *c, bool judged, sw_sli unit, const char *suffix)
{
    if (!check_failed(g, c, judged))
        return;
    char m[32], t[32], w[32], n[32];
    sw_rules_format_value(unit, c->measured, m, sizeof m);
    sw_rules_format_value(unit, c->threshold, t, sizeof t);
    sw_units_format_duration(g->window_ms, w, sizeof w);
    fmt_count(c->samples, n, sizeof n);
    why_fail(g, "%s %s %s %s over %s (%s requests)%s", c->name, m, negated_op(c->op), t, w, n,
             suffix);
}

static void
rule_checks(gate_ctx *g)
{
    for (size_t i = 0; i < g->spec->n_checks; i++) {
        const sw_condition *cond = &g->spec->checks[i];
        char name[64];
        sw_rules_sli_name(cond, name, sizeof name);
        sw_gate_check *c = check_add(g, name, cond->op, cond->value);
        if (c == NULL)
            return;
        /* Measured on any data, so the report shows it; judged only with enough requests. */
        sw_measure_in in = {&g->cand.sums, g->cand.tail_run, g->cand.lat, 1};
        sw_condition_measure(cond, &in, &c->measured);
        check_judge(g, c, g->enough, cond->sli, "");
    }
}

static double
side_error_rate(const gate_side *s)
{
    uint64_t req = s->sums.v[SW_SUM_REQUESTS];
    return req > 0 ? (double)s->sums.v[SW_SUM_ERRORS] / (double)req : NAN;
}

static double
side_p95(const gate_side *s)
{
    return sw_hdr_total_count(s->lat) > 0 ? (double)sw_hdr_value_at_percentile(s->lat, 95.0) : NAN;
}

static void
compare_checks(gate_ctx *g)
{
    const sw_gate_spec *sp = g->spec;
    char suffix[96];
    snprintf(suffix, sizeof suffix, " vs %s", sp->baseline);
    bool judged = g->enough && g->base_enough;
    sw_gate_check *c;
    if (sp->max_error_rate_increase >= 0 &&
        (c = check_add(g, "error_rate_increase", SW_OP_LE, sp->max_error_rate_increase))) {
        c->measured = side_error_rate(&g->cand) - side_error_rate(&g->base);
        check_judge(g, c, judged, SW_SLI_ERROR_RATE, suffix);
    }
    if (sp->max_latency_increase >= 0 &&
        (c = check_add(g, "latency_increase", SW_OP_LE, sp->max_latency_increase))) {
        double base = side_p95(&g->base);
        c->measured = base > 0 ? side_p95(&g->cand) / base - 1.0 : NAN;
        /* A relative increase reads as a percentage, like a ratio. */
        check_judge(g, c, judged, SW_SLI_ERROR_RATE, suffix);
    }
    sw_ranktest_result rt;
    if (sp->rank_test_alpha > 0 && (c = check_add(g, "rank_test", SW_OP_GE, sp->rank_test_alpha))) {
        if (sw_ranktest_mann_whitney(g->cand.lat, g->base.lat, &rt, NULL) == SW_OK)
            c->measured = rt.p_value;
        if (check_failed(g, c, judged)) {
            char w[32];
            sw_units_format_duration(g->window_ms, w, sizeof w);
            why_fail(g, "latencies slower%s by a rank test (p = %.2g, below %.2g) over %s", suffix,
                     c->measured, c->threshold, w);
        }
    }
}

static void
trigger_checks(gate_ctx *g, const sw_series *s)
{
    for (size_t i = 0; s != NULL && i < g->ev->rules->n_triggers; i++) {
        const sw_trigger_result *t = &s->triggers[i];
        if (!t->fired)
            continue;
        char name[64], at[32];
        snprintf(name, sizeof name, "rollback_trigger:%s", t->trigger->name);
        sw_gate_check *c = check_add(g, name, SW_OP_LE, 0.0);
        if (c != NULL)
            c->measured = 1.0;
        sw_units_format_time(t->fired_at_ms, at, sizeof at);
        why_fail(g, "rollback trigger %s fired at %s", t->trigger->name, at);
    }
}

/* ------------------------------------------------------------------ verdict */

static void
conclude(gate_ctx *g)
{
    sw_gate_result *r = g->res;
    char n[32], w[32];
    fmt_count(g->cand.sums.v[SW_SUM_REQUESTS], n, sizeof n);
    sw_units_format_duration(g->window_ms, w, sizeof w);
    long long need = (long long)g->spec->min_requests;
    size_t cap = sizeof r->reason;
    if (g->failed) {
        r->verdict = SW_VERDICT_FAIL;
        snprintf(r->reason, cap, "fail: %.*s", (int)(cap - 7), g->why);
    } else if (!g->enough) {
        r->verdict = SW_VERDICT_INCONCLUSIVE;
        snprintf(r->reason, cap, "inconclusive: %s requests over %s, fewer than the %lld needed", n,
                 w, need);
    } else if (g->compare && !g->base_enough) {
        fmt_count(g->base.sums.v[SW_SUM_REQUESTS], n, sizeof n);
        r->verdict = SW_VERDICT_INCONCLUSIVE;
        snprintf(r->reason, cap,
                 "inconclusive: baseline %.64s had %s requests over %s, fewer than the %lld "
                 "needed",
                 g->spec->baseline, n, w, need);
    } else if (g->unmeasured != NULL) {
        r->verdict = SW_VERDICT_INCONCLUSIVE;
        snprintf(r->reason, cap, "inconclusive: %.64s could not be measured over %s", g->unmeasured,
                 w);
    } else {
        r->verdict = SW_VERDICT_PASS;
        snprintf(r->reason, cap, "pass: %zu checks passed over %s (%s requests)", r->n_checks, w,
                 n);
    }
}

static int64_t
gate_window(const sw_eval *ev, const sw_series *s, int64_t window_ms, int64_t now)
{
    int64_t w = window_ms > 0 ? window_ms : ev->rules->gate.window_ms;
    /* Latency histograms are kept this long; a longer window could not be measured whole. */
    w = sw_min_i64(w, ev->plan.history.latency_keep_ms - ev->plan.base_ms);
    if (s != NULL && s->deployed_ms != INT64_MIN)
        w = sw_min_i64(w, now - s->deployed_ms);
    return sw_max_i64(w, 0);
}

static sw_status
gate_run(gate_ctx *g, const char *service, const char *env, sw_err *err)
{
    const sw_gate_spec *sp = g->spec;
    sw_gate_result *r = g->res;
    const sw_series *s = sw_eval_find(g->ev, service, env);
    sw_status st = side_load(s, r->window_start_ms, r->window_end_ms, &g->cand, err);
    g->compare = sp->baseline != NULL && env != NULL && strcmp(env, sp->baseline) != 0;
    if (st == SW_OK && g->compare)
        st = side_load(sw_eval_find(g->ev, service, sp->baseline), r->window_start_ms,
                       r->window_end_ms, &g->base, err);
    if (st != SW_OK)
        return st;
    g->enough = g->cand.sums.v[SW_SUM_REQUESTS] >= (uint64_t)sp->min_requests &&
                g->cand.sums.v[SW_SUM_REQUESTS] > 0;
    g->base_enough = g->base.sums.v[SW_SUM_REQUESTS] >= (uint64_t)sp->min_requests &&
                     g->base.sums.v[SW_SUM_REQUESTS] > 0;
    rule_checks(g);
    if (g->compare)
        compare_checks(g);
    trigger_checks(g, s);
    conclude(g);
    return SW_OK;
}

sw_status
sw_eval_gate(const sw_eval *ev, const char *service, const char *env, int64_t window_ms,
             sw_gate_result *ret, sw_err *err)
{
    size_t index;
    sw_status st = sw_eval_resolve(ev->rules, service, env, &index, err);
    if (st != SW_OK)
        return st;
    const sw_series *s = sw_eval_find(ev, service, env);
    int64_t now = ev->now_ms == INT64_MIN ? 0 : ev->now_ms;
    sw_gate_result res = {0};
    gate_ctx g = {.ev = ev, .spec = &ev->rules->gate, .res = &res};
    g.window_ms = gate_window(ev, s, window_ms, now);
    res.window_start_ms = now - g.window_ms;
    res.window_end_ms = now;
    st = gate_run(&g, service, env, err);
    sw_hdr_free(g.cand.lat);
    sw_hdr_free(g.base.lat);
    if (st == SW_OK)
        *ret = res;
    return st;
}
