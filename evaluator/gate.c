/*
 * The deploy gate: may traffic switch to this series (usually the candidate environment)?
 * The rules' checks are judged over the last window (never reaching back before the last
 * deployment mark); the comparison with the baseline environment covers everything since the
 * mark, with always-valid confidence bounds (canary.h), so looking at every base interval
 * costs no false fails; latched rollback triggers fail it. A fail seen at any boundary stays
 * until the next mark (sw_gate_step). Gives pass, fail or inconclusive with every check and
 * one sentence. Reads the evaluator only.
 */
#include "eval_int.h"
#include "slawatch/canary.h"
#include "slawatch/units.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Latency comparisons: where the candidate's distribution is held against the baseline's. */
static const double compared_percentiles[SW_GATE_PERCENTILES] = {50.0, 95.0, 99.0};
#define N_PERCENTILES SW_GATE_PERCENTILES

/* One side of the comparison: counts and merged latency. */
typedef struct gate_side {
    sw_sums sums;
    const sw_hdr *lat;
    sw_hdr *own; /* lat when it is this side's own (freed with it), not a scratch slot's */
    uint32_t tail_run;
} gate_side;

typedef struct gate_ctx {
    const sw_eval *ev;
    const sw_gate_spec *spec;
    const sw_series *series;
    sw_gate_result *res;
    sw_gate_scratch *scratch; /* NULL: each side merged into a histogram of its own */
    int64_t now_ms, window_ms;
    gate_side cand;                  /* the checks' window */
    uint64_t cmp_req[2], cmp_err[2]; /* the comparison's data: candidate, baseline */
    const sw_hdr *cmp_lat[2];
    sw_hdr *cmp_own[2]; /* merged here when there is no deployment state */
    bool compare;       /* a baseline environment is compared against */
    bool enough;        /* the candidate has the requests to judge its checks */
    bool cmp_enough;    /* both sides have the requests to compare */
    bool failed;
    const char *unmeasured;            /* first check that could not be measured */
    const sw_gate_check *undecided;    /* first comparison still undecided */
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

/* A signed percentage: "+3.1%", "-0.05%". */
static void
fmt_change(double v, char *out, size_t cap)
{
    out[0] = v < 0 ? '-' : '+';
    sw_rules_format_value(SW_SLI_ERROR_RATE, fabs(v), out + 1, cap - 1);
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

/*
 * with_latency false: the histogram stays empty (nothing will read it). With it, the window's
 * 60-odd packed intervals are merged into a dense histogram: each merge into a compact one
 * walked every pair it held, thousands once a window holds a wide distribution; the counts, and
 * so every answer, are the same either way. Through a scratch, the side is one of its slots,
 * brought to the window by the intervals it does not hold yet or no longer should
 * (gate_scratch.c); merged here only when the scratch is out of memory.
 */
static sw_status
side_load(const sw_series *s, int64_t from, int64_t to, bool with_latency, sw_gate_scratch *x,
          gate_side *g, sw_err *err)
{
    memset(g, 0, sizeof *g);
    bool merged = with_latency && s != NULL;
    if (merged && x != NULL)
        g->lat = sw_gate_scratch_side(x, s, from, to);
    if (g->lat == NULL) {
        sw_status st = merged ? sw_hdr_new_dense(&sw_hdr_latency_config, &g->own, err)
                              : sw_hdr_new(&sw_hdr_latency_config, &g->own, err);
        if (st != SW_OK)
            return st;
        g->lat = g->own;
        if (merged)
            sw_window_merge(&s->hist, from, to, false, g->own);
    }
    if (s == NULL)
        return SW_OK;
    sw_history_sums(&s->hist, from, to, false, &g->sums);
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
    *c = (sw_gate_check){.measured = NAN,
                         .op = op,
                         .threshold = threshold,
                         .samples = g->cand.sums.v[SW_SUM_REQUESTS],
                         .window_ms = g->window_ms,
                         .verdict = SW_VERDICT_INCONCLUSIVE,
                         .lower = NAN,
                         .upper = NAN,
                         .confidence = NAN};
    snprintf(c->name, sizeof c->name, "%s", name);
    return c;
}

static void
check_set(sw_gate_check *c, sw_verdict v)
{
    c->verdict = v;
    c->passed = v == SW_VERDICT_PASS;
}

/* Passed, failed or not judged (judged: there were enough requests); true when it failed. */
static bool
check_failed(gate_ctx *g, sw_gate_check *c, bool judged)
{
    if (!judged) {
        check_set(c, SW_VERDICT_INCONCLUSIVE);
        return false;
    }
    if (isnan(c->measured)) {
        check_set(c, SW_VERDICT_INCONCLUSIVE);
        if (g->unmeasured == NULL)
            g->unmeasured = c->name;
        return false;
    }
    bool ok = sw_rules_compare(c->op, c->measured, c->threshold);
    check_set(c, ok ? SW_VERDICT_PASS : SW_VERDICT_FAIL);
    return !ok;
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
        sw_measure_in in = {&g->cand.sums, g->cand.tail_run, g->cand.lat, 1, NULL};
        sw_condition_measure(cond, &in, &c->measured);
        if (!check_failed(g, c, g->enough))
            continue;
        char m[32], t[32], w[32], n[32];
        sw_rules_format_value(cond->sli, c->measured, m, sizeof m);
        sw_rules_format_value(cond->sli, c->threshold, t, sizeof t);
        sw_units_format_duration(g->window_ms, w, sizeof w);
        fmt_count(c->samples, n, sizeof n);
        why_fail(g, "%s %s %s %s over %s (%s requests)", c->name, m, negated_op(c->op), t, w, n);
    }
}

/* ------------------------------------------------------------------ comparing */

/* The chance of a false fail over the whole deployment, shared by every comparison. */
static double
comparison_alpha(const sw_gate_spec *sp)
{
    size_t k = (sp->max_error_rate_increase > 0 ? 1 : 0) +
               (sp->max_latency_increase > 0 ? N_PERCENTILES : 0);
    return (1.0 - sp->confidence) / (double)(k > 0 ? k : 1);
}

static void
since_text(const gate_ctx *g, char *out, size_t cap)
{
    sw_units_format_duration(g->res->compared_to_ms - g->res->compared_from_ms, out, cap);
    if (g->series != NULL && g->series->gate != NULL)
        snprintf(out + strlen(out), cap - strlen(out), " since the deployment");
}

/* Judge one comparison from its canary result; a failure adds its sentence. */
static void
comparison_judge(gate_ctx *g, sw_gate_check *c, const sw_canary_result *cr, const char *what,
                 const char *unit)
{
    c->measured = cr->estimate;
    c->lower = cr->lower;
    c->upper = cr->upper;
    c->confidence = g->spec->confidence;
    if (!g->cmp_enough) {
        check_set(c, SW_VERDICT_INCONCLUSIVE);
        return;
    }
    if (cr->call == SW_CANARY_UNDECIDED) {
        check_set(c, SW_VERDICT_INCONCLUSIVE);
        c->more_samples = cr->more_samples;
        if (g->undecided == NULL)
            g->undecided = c;
        return;
    }
    check_set(c, cr->call == SW_CANARY_WITHIN ? SW_VERDICT_PASS : SW_VERDICT_FAIL);
    if (cr->call != SW_CANARY_WORSE)
        return;
    char est[32], low[32], tol[32], since[64], nc[32], nb[32];
    fmt_change(c->measured, est, sizeof est);
    fmt_change(c->lower, low, sizeof low);
    sw_rules_format_value(SW_SLI_ERROR_RATE, c->threshold, tol, sizeof tol);
    since_text(g, since, sizeof since);
    fmt_count(c->samples, nc, sizeof nc);
    fmt_count(c->baseline_samples, nb, sizeof nb);
    why_fail(g,
             "%s %s vs %s (at least %s with %g%% confidence, more than the %s allowed) over %s "
             "(%s and %s %s)",
             what, est, g->spec->baseline, low, c->confidence * 100.0, tol, since, nc, nb, unit);
}

/* samples: what the comparison counts on each side, requests or latency values. */
static sw_gate_check *
comparison_add(gate_ctx *g, const char *name, double tolerance, const uint64_t samples[2])
{
    sw_gate_check *c = check_add(g, name, SW_OP_LE, tolerance);
    if (c == NULL)
        return NULL;
    c->samples = samples[0];
    c->baseline_samples = samples[1];
    c->window_ms = g->res->compared_to_ms - g->res->compared_from_ms;
    return c;
}

/* The memo's key for a marked series' comparison: what a memo must hold to be read back. */
static sw_gate_cmp_memo
memo_key(const gate_ctx *g, const uint64_t values[2], double alpha)
{
    const sw_gate_state *st = g->series->gate;
    return (sw_gate_cmp_memo){.valid = true,
                              .series_id = g->series->id,
                              .from_ms = st->from_ms,
                              .to_ms = st->to_ms,
                              .values = {(int64_t)values[0], (int64_t)values[1]},
                              .lat = {g->cmp_lat[0], g->cmp_lat[1]},
                              .tolerance = g->spec->max_latency_increase,
                              .alpha = alpha};
}

/* An accumulation only grows (its end moves with what it takes in) or starts again at a mark
 * (its start moves): the same series, ends, counts and histograms are the same values. */
static bool
memo_same(const sw_gate_cmp_memo *a, const sw_gate_cmp_memo *b)
{
    return a->valid && b->valid && a->series_id == b->series_id && a->from_ms == b->from_ms &&
           a->to_ms == b->to_ms && a->values[0] == b->values[0] && a->values[1] == b->values[1] &&
           a->lat[0] == b->lat[0] && a->lat[1] == b->lat[1] && a->tolerance == b->tolerance &&
           a->alpha == b->alpha;
}

/*
 * Each compared percentile's result (NAN estimates when not measured: a side without latency
 * values); whether both sides were measured. Both sides' cumulative counts are built once;
 * through a scratch, a marked series' comparison (its deployment's accumulation, the same for
 * every window asked) is computed once and read back for its other windows.
 */
static bool
latency_results(gate_ctx *g, const uint64_t values[2], double alpha,
                sw_canary_result cr[N_PERCENTILES])
{
    bool accumulated = g->series != NULL && g->series->gate != NULL;
    sw_gate_cmp_memo *m = g->scratch != NULL && accumulated ? sw_gate_scratch_memo(g->scratch)
                                                             : NULL;
    sw_gate_cmp_memo key = m != NULL ? memo_key(g, values, alpha) : (sw_gate_cmp_memo){0};
    if (m != NULL && memo_same(m, &key)) {
        memcpy(cr, m->cr, sizeof m->cr);
        return m->measured;
    }
    sw_canary_latencies *own = NULL,
                        **cmp = g->scratch != NULL ? sw_gate_scratch_comparison(g->scratch) : &own;
    bool measured = values[0] > 0 && values[1] > 0 &&
                    sw_canary_latencies_renew(cmp, g->cmp_lat[0], g->cmp_lat[1], NULL) == SW_OK;
    for (size_t i = 0; i < N_PERCENTILES; i++) {
        cr[i] = (sw_canary_result){.estimate = NAN, .lower = NAN, .upper = NAN};
        if (measured)
            sw_canary_latency_at(*cmp, compared_percentiles[i], g->spec->max_latency_increase,
                                 alpha, &cr[i]);
    }
    sw_canary_latencies_free(own);
    if (m != NULL) {
        key.measured = measured;
        memcpy(key.cr, cr, sizeof key.cr);
        *m = key;
    }
    return measured;
}

/*
 * p50, p95 and p99 of the same windows. Each check shows its own estimate whenever both sides
 * hold latency values, judged only with enough requests on both; with requests enough but no
 * latency on a side it is unmeasured.
 */
static void
latency_checks(gate_ctx *g, const uint64_t values[2], double alpha)
{
    const sw_gate_spec *sp = g->spec;
    sw_canary_result results[N_PERCENTILES];
    bool measured = latency_results(g, values, alpha, results);
    for (size_t i = 0; i < N_PERCENTILES; i++) {
        char name[32], what[32];
        snprintf(name, sizeof name, "p%g_increase", compared_percentiles[i]);
        snprintf(what, sizeof what, "p%g latency", compared_percentiles[i]);
        sw_gate_check *c = comparison_add(g, name, sp->max_latency_increase, values);
        if (c == NULL)
            break;
        sw_canary_result cr = results[i];
        if (!g->cmp_enough || measured)
            comparison_judge(g, c, &cr, what, "latency values");
        else if (g->unmeasured == NULL)
            g->unmeasured = c->name; /* requests counted but no latency recorded */
    }
}

static void
compare_checks(gate_ctx *g)
{
    const sw_gate_spec *sp = g->spec;
    double alpha = comparison_alpha(sp);
    sw_gate_check *c;
    uint64_t values[2];
    for (int i = 0; i < 2; i++)
        values[i] = g->cmp_lat[i] != NULL ? (uint64_t)sw_hdr_total_count(g->cmp_lat[i]) : 0;
    if (sp->max_error_rate_increase > 0 &&
        (c = comparison_add(g, "error_rate_increase", sp->max_error_rate_increase, g->cmp_req)) !=
            NULL) {
        sw_canary_result cr;
        sw_canary_error_rate(g->cmp_err[0], g->cmp_req[0], g->cmp_err[1], g->cmp_req[1],
                             sp->max_error_rate_increase, alpha, &cr);
        comparison_judge(g, c, &cr, "error rate", "requests");
    }
    if (sp->max_latency_increase > 0)
        latency_checks(g, values, alpha);
}

static void
trigger_checks(gate_ctx *g)
{
    const sw_series *s = g->series;
    for (size_t i = 0; s != NULL && i < s->rules->n_triggers; i++) {
        const sw_trigger_result *t = &s->triggers[i];
        if (!t->fired)
            continue;
        char name[64], at[32];
        snprintf(name, sizeof name, "rollback_trigger:%s", t->trigger->name);
        sw_gate_check *c = check_add(g, name, SW_OP_LE, 0.0);
        if (c != NULL) {
            c->measured = 1.0;
            check_set(c, SW_VERDICT_FAIL);
        }
        sw_units_format_time(t->fired_at_ms, at, sizeof at);
        why_fail(g, "rollback trigger %s fired at %s", t->trigger->name, at);
    }
}

/* The deployment's policy_override, "" when the series has no mark or the mark none. */
static const char *
mark_override(const gate_ctx *g)
{
    return g->series != NULL && g->series->gate != NULL ? g->series->gate->policy_override : "";
}

/* One budgeted objective over every series of the service (the environments share a budget
 * policy, and production is usually the other one): its lowest budget left, from the results
 * of the last evaluation, as /api/v1/status shows them. */
static void
budget_seen(const gate_ctx *g, const char *service, size_t oi, sw_budget_seen *b)
{
    const sw_rules *rules = g->ev->rules;
    /* The series knows its service; a lookup by name only for a series without data yet. */
    const sw_service *sv = g->series != NULL
                               ? g->series->service
                               : &rules->services[sw_rules_series_service(rules, service, NULL)];
    /* oi indexes the service's own resolved objectives, as its series' results do. */
    sw_gate_policy_begin(b, &sv->rules->objectives[oi], g->spec->require_budget_remaining);
    size_t n = sv->n_environments > 0 ? sv->n_environments : 1;
    for (size_t e = 0; e < n; e++) {
        const char *env = sv->n_environments > 0 ? sv->environments[e] : NULL;
        const sw_series *s = sw_eval_find(g->ev, service, env);
        sw_gate_policy_see(b, env, s != NULL ? &s->objectives[oi] : NULL);
    }
}

static void
policy_checks(gate_ctx *g, const char *service)
{
    const sw_gate_spec *sp = g->spec;
    for (size_t i = 0; sp->require_budget_remaining > 0 && i < sp->n_budget_objectives; i++) {
        sw_budget_seen b;
        budget_seen(g, service, sp->budget_objectives[i], &b);
        sw_verdict v = sw_gate_policy_judge(&b, mark_override(g));
        char name[64];
        snprintf(name, sizeof name, "error_budget:%s", b.objective->name);
        sw_gate_check *c = check_add(g, name, SW_OP_GE, b.required);
        if (c != NULL) {
            c->measured = b.remaining;
            c->samples = 0;
            c->window_ms = 0;
            c->overridden = b.overridden;
            check_set(c, v);
        }
        if (v != SW_VERDICT_FAIL)
            continue;
        char why[256];
        sw_gate_policy_reason(&b, why, sizeof why);
        why_fail(g, "%s", why);
    }
}

/* ------------------------------------------------------------------ verdict */

static void
conclude_undecided(gate_ctx *g)
{
    const sw_gate_check *c = g->undecided;
    sw_gate_result *r = g->res;
    char est[32], tol[32], since[64], more[96], bounds[96] = "";
    fmt_change(c->measured, est, sizeof est);
    sw_rules_format_value(SW_SLI_ERROR_RATE, c->threshold, tol, sizeof tol);
    since_text(g, since, sizeof since);
    if (!isnan(c->upper)) {
        char up[32];
        fmt_change(c->upper, up, sizeof up);
        snprintf(bounds, sizeof bounds, ", could be %s", up);
    }
    if (c->more_samples == UINT64_MAX) {
        snprintf(more, sizeof more,
                 "no amount of data would decide (the estimate sits on the "
                 "tolerance)");
    } else {
        char n[32];
        fmt_count(c->more_samples, n, sizeof n);
        snprintf(more, sizeof more, "about %s more %s per environment would decide", n,
                 strncmp(c->name, "error", 5) == 0 ? "requests" : "latency values");
    }
    snprintf(r->reason, sizeof r->reason,
             "inconclusive: %s %s vs %.64s%s against the %s allowed (%g%% confidence) over %s; %s",
             c->name, est, g->spec->baseline, bounds, tol, c->confidence * 100.0, since, more);
}

static size_t
count_passed(const sw_gate_result *r)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_checks; i++)
        n += r->checks[i].verdict == SW_VERDICT_PASS;
    return n;
}

/* What a pass owes to the error-budget policy: an override, or budgets without a verdict. */
static void
policy_note(const gate_ctx *g, char *out, size_t cap)
{
    const sw_gate_result *r = g->res;
    size_t unjudged = 0;
    bool overridden = false;
    for (size_t i = 0; i < r->n_checks; i++) {
        const sw_gate_check *c = &r->checks[i];
        bool budget = strncmp(c->name, "error_budget:", 13) == 0;
        unjudged += budget && c->verdict == SW_VERDICT_INCONCLUSIVE;
        overridden = overridden || c->overridden;
    }
    out[0] = '\0';
    if (overridden)
        snprintf(out, cap, "; error budget policy overridden by %s", mark_override(g));
    else if (unjudged > 0)
        snprintf(out, cap, "; %zu error budget%s without a verdict yet, not blocking", unjudged,
                 unjudged > 1 ? "s" : "");
}

static void
conclude(gate_ctx *g)
{
    sw_gate_result *r = g->res;
    char n[32], w[32];
    fmt_count(g->cand.sums.v[SW_SUM_REQUESTS], n, sizeof n);
    sw_units_format_duration(g->window_ms, w, sizeof w);
    long long need = (long long)g->spec->min_requests;
    size_t cap = sizeof r->reason;
    const sw_gate_state *latch = g->series != NULL ? g->series->gate : NULL;
    if (g->failed) {
        r->verdict = SW_VERDICT_FAIL;
        snprintf(r->reason, cap, "fail: %.*s", (int)(cap - 7), g->why);
    } else if (latch != NULL && latch->failed_at_ms != INT64_MIN) {
        char at[32];
        sw_units_format_time(latch->failed_at_ms, at, sizeof at);
        r->verdict = SW_VERDICT_FAIL;
        snprintf(r->reason, cap, "fail since %s, until the next deployment: %.*s", at,
                 (int)(cap - 96), latch->failed_reason + strlen("fail: "));
    } else if (g->spec->n_checks == 0 && !g->compare) {
        r->verdict = SW_VERDICT_INCONCLUSIVE;
        snprintf(r->reason, cap,
                 "inconclusive: the gate has no checks for this series (configure gate.checks "
                 "or gate.compare)");
    } else if (!g->enough) {
        r->verdict = SW_VERDICT_INCONCLUSIVE;
        snprintf(r->reason, cap, "inconclusive: %s requests over %s, fewer than the %lld needed", n,
                 w, need);
    } else if (g->compare && !g->cmp_enough) {
        char nb[32], since[64];
        fmt_count(g->cmp_req[1], nb, sizeof nb);
        fmt_count(g->cmp_req[0], n, sizeof n);
        since_text(g, since, sizeof since);
        r->verdict = SW_VERDICT_INCONCLUSIVE;
        snprintf(r->reason, cap,
                 "inconclusive: %s and baseline %.64s had %s and %s requests over %s, fewer than "
                 "the %lld needed",
                 g->series != NULL && g->series->env ? g->series->env : "the candidate",
                 g->spec->baseline, n, nb, since, need);
    } else if (g->unmeasured != NULL) {
        r->verdict = SW_VERDICT_INCONCLUSIVE;
        snprintf(r->reason, cap, "inconclusive: %.64s could not be measured over %s", g->unmeasured,
                 w);
    } else if (g->undecided != NULL) {
        r->verdict = SW_VERDICT_INCONCLUSIVE;
        conclude_undecided(g);
    } else {
        char note[160];
        policy_note(g, note, sizeof note);
        r->verdict = SW_VERDICT_PASS;
        snprintf(r->reason, cap, "pass: %zu checks passed over %s (%s requests)%s", count_passed(r),
                 w, n, note);
    }
}

/* The checks' window: the one asked for, cut at the deployment mark and the latency kept. */
static void
gate_window(const sw_rules *rules, const sw_plan *plan, const sw_series *s, int64_t window_ms,
            int64_t now, sw_gate_result *r)
{
    int64_t asked = window_ms > 0 ? window_ms : rules->gate.window_ms;
    int64_t kept = plan->history.latency_keep_ms - plan->base_ms;
    int64_t w = asked;
    r->requested_window_ms = asked;
    r->limited_by = SW_GATE_LIMIT_NONE;
    if (s != NULL && s->deployed_ms != INT64_MIN && now - s->deployed_ms < w) {
        w = sw_max_i64(now - s->deployed_ms, 0);
        r->limited_by = SW_GATE_LIMIT_DEPLOYMENT;
    }
    if (kept < w) {
        w = kept;
        r->limited_by = SW_GATE_LIMIT_RETENTION;
    }
    r->window_start_ms = now - w;
    r->window_end_ms = now;
}

/* The comparison's data: the deployment's accumulation, or the checks' window merged here. */
static sw_status
comparison_load(gate_ctx *g, const sw_series *base, sw_err *err)
{
    sw_gate_result *r = g->res;
    const sw_gate_state *st = g->series != NULL ? g->series->gate : NULL;
    if (st != NULL) { /* nothing accumulated yet: no requests, and no histograms either */
        r->compared_from_ms = st->from_ms;
        r->compared_to_ms = st->to_ms;
        for (int i = 0; i < 2; i++) {
            g->cmp_req[i] = st->requests[i];
            g->cmp_err[i] = st->errors[i];
            g->cmp_lat[i] = st->lat[i];
        }
        return SW_OK;
    }
    gate_side b;
    sw_status status =
        side_load(base, r->window_start_ms, r->window_end_ms, true, g->scratch, &b, err);
    if (status != SW_OK)
        return status;
    g->cmp_own[1] = b.own;
    r->compared_from_ms = r->window_start_ms;
    r->compared_to_ms = r->window_end_ms;
    g->cmp_req[0] = g->cand.sums.v[SW_SUM_REQUESTS];
    g->cmp_err[0] = g->cand.sums.v[SW_SUM_ERRORS];
    g->cmp_lat[0] = g->cand.lat;
    g->cmp_req[1] = b.sums.v[SW_SUM_REQUESTS];
    g->cmp_err[1] = b.sums.v[SW_SUM_ERRORS];
    g->cmp_lat[1] = b.lat;
    return SW_OK;
}

static bool
checks_read_latency(const sw_gate_spec *sp)
{
    for (size_t i = 0; i < sp->n_checks; i++)
        if (sp->checks[i].sli == SW_SLI_LATENCY)
            return true;
    return false;
}

static bool
is_candidate(const sw_gate_spec *sp, const char *env)
{
    return sp->baseline != NULL && env != NULL && strcmp(env, sp->baseline) != 0;
}

static sw_status
gate_run(gate_ctx *g, const char *service, const char *env, sw_err *err)
{
    const sw_gate_spec *sp = g->spec;
    sw_gate_result *r = g->res;
    g->compare =
        is_candidate(sp, env) && (sp->max_error_rate_increase > 0 || sp->max_latency_increase > 0);
    bool marked = g->series != NULL && g->series->gate != NULL;
    sw_status st =
        side_load(g->series, r->window_start_ms, r->window_end_ms,
                  checks_read_latency(sp) || (g->compare && !marked), g->scratch, &g->cand, err);
    if (st == SW_OK && g->compare)
        st = comparison_load(g, sw_eval_find(g->ev, service, sp->baseline), err);
    if (st != SW_OK)
        return st;
    uint64_t need = (uint64_t)sp->min_requests;
    g->enough = g->cand.sums.v[SW_SUM_REQUESTS] >= need && g->cand.sums.v[SW_SUM_REQUESTS] > 0;
    g->cmp_enough =
        g->cmp_req[0] >= need && g->cmp_req[1] >= need && g->cmp_req[0] > 0 && g->cmp_req[1] > 0;
    rule_checks(g);
    if (g->compare)
        compare_checks(g);
    trigger_checks(g);
    policy_checks(g, service);
    conclude(g);
    return SW_OK;
}

/* The gate of series s (may be NULL: no data yet) at now over window_ms, through x (may be
 * NULL). */
static sw_status
gate_at(const sw_eval *ev, size_t index, const sw_series *s, const char *service, const char *env,
        int64_t window_ms, int64_t now, sw_gate_scratch *x, sw_gate_result *ret, sw_err *err)
{
    sw_gate_result res = {.failed_at_ms = -1};
    /* The service's own gate (its resolved set), also before its series has data. */
    const sw_rules *rules = sw_eval_service_rules(ev, index);
    gate_ctx g = {
        .ev = ev, .spec = &rules->gate, .series = s, .res = &res, .scratch = x, .now_ms = now};
    gate_window(rules, sw_eval_service_plan(ev, index), s, window_ms, now, &res);
    g.window_ms = res.window_end_ms - res.window_start_ms;
    sw_status st = gate_run(&g, service, env, err);
    sw_hdr_free(g.cand.own);
    sw_hdr_free(g.cmp_own[1]);
    if (s != NULL && s->gate != NULL && s->gate->failed_at_ms != INT64_MIN)
        res.failed_at_ms = s->gate->failed_at_ms;
    snprintf(res.policy_override, sizeof res.policy_override, "%s", mark_override(&g));
    if (st == SW_OK)
        *ret = res;
    return st;
}

sw_status
sw_eval_gate(const sw_eval *ev, const char *service, const char *env, int64_t window_ms,
             sw_gate_result *ret, sw_err *err)
{
    return sw_eval_gate_with(ev, service, env, window_ms, NULL, ret, err);
}

sw_status
sw_eval_gate_with(const sw_eval *ev, const char *service, const char *env, int64_t window_ms,
                  sw_gate_scratch *x, sw_gate_result *ret, sw_err *err)
{
    /* A series the evaluator holds names its service: no scan of the rules' services. */
    const sw_series *s = sw_eval_find(ev, service, env);
    size_t index = s != NULL ? s->service_index : 0;
    sw_status st = s != NULL ? SW_OK : sw_eval_resolve(ev->rules, service, env, &index, err);
    if (st != SW_OK)
        return st;
    /* The time the service's series were evaluated at: during a stepped advance, the step's
     * for a service already stepped (eval_step.c). */
    int64_t at = sw_eval_service_time(ev, index), now = at == INT64_MIN ? 0 : at;
    return gate_at(ev, index, s, service, env, window_ms, now, x, ret, err);
}

const char *
sw_eval_gate_limit_str(sw_gate_limit l)
{
    return l == SW_GATE_LIMIT_DEPLOYMENT  ? "deployment"
           : l == SW_GATE_LIMIT_RETENTION ? "retention"
                                          : NULL;
}

/* ------------------------------------------------------------------ per deployment */

sw_status
sw_gate_mark(sw_gate_state **gp, int64_t at_ms, const char *policy_override, sw_err *err)
{
    sw_gate_state *g = *gp;
    if (g == NULL && (g = *gp = calloc(1, sizeof *g)) == NULL)
        return sw_err_set(err, SW_E_NOMEM, "cannot allocate a deployment's gate");
    for (int i = 0; i < 2; i++) {
        g->requests[i] = g->errors[i] = 0;
        if (g->lat[i] != NULL)
            sw_hdr_reset(g->lat[i]);
    }
    g->from_ms = g->to_ms = at_ms;
    g->failed_at_ms = INT64_MIN;
    g->failed_reason[0] = '\0';
    snprintf(g->policy_override, sizeof g->policy_override, "%s",
             policy_override != NULL ? policy_override : "");
    return SW_OK;
}

void
sw_gate_state_free(sw_gate_state *g)
{
    if (g == NULL)
        return;
    sw_hdr_free(g->lat[0]);
    sw_hdr_free(g->lat[1]);
    free(g);
}

/* Both sides' base intervals in [g->to, upto) join the comparison. */
static sw_status
accumulate(sw_gate_state *g, const sw_series *sides[2], int64_t upto, sw_err *err)
{
    for (int i = 0; i < 2; i++) {
        if (g->lat[i] == NULL) {
            sw_status st = sw_hdr_new(&sw_hdr_latency_config, &g->lat[i], err);
            if (st != SW_OK)
                return st;
        }
        sw_sums sums;
        sw_history_sums(&sides[i]->hist, g->to_ms, upto, false, &sums);
        g->requests[i] += sums.v[SW_SUM_REQUESTS];
        g->errors[i] += sums.v[SW_SUM_ERRORS];
        sw_window_merge(&sides[i]->hist, g->to_ms, upto, false, g->lat[i]);
    }
    g->to_ms = upto;
    return SW_OK;
}

sw_status
sw_gate_step(const sw_eval *ev, sw_series *s, int64_t t, sw_err *err)
{
    sw_gate_state *g = s->gate;
    if (g == NULL || g->failed_at_ms != INT64_MIN)
        return SW_OK;
    const sw_gate_spec *sp = &s->rules->gate;
    const sw_series *base =
        is_candidate(sp, s->env) ? sw_eval_find(ev, sw_series_name(s), sp->baseline) : NULL;
    sw_status st = SW_OK;
    if (base != NULL) {
        /* Only spans both sides have reported, so each side covers the same time. */
        int64_t upto = sw_min_i64(t, sw_min_i64(s->fed_until_ms, base->fed_until_ms));
        const sw_series *sides[2] = {s, base};
        if (upto > g->to_ms)
            st = accumulate(g, sides, upto, err);
    }
    sw_gate_result r;
    if (st == SW_OK)
        st = gate_at(ev, s->service_index, s, sw_series_name(s), s->env, 0, t, NULL, &r, err);
    if (st == SW_OK && r.verdict == SW_VERDICT_FAIL) {
        g->failed_at_ms = t;
        snprintf(g->failed_reason, sizeof g->failed_reason, "%s", r.reason);
    }
    return st;
}
