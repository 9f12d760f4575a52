/*
 * The rules format's objectives: condition, window, budgeting, slices, and the check that
 * latency objectives sharing a window do not contradict each other.
 */
#include "rules_int.h"

#include "slawatch/buf.h"
#include "slawatch/selector.h"
#include "slawatch/units.h"

#include <math.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN_MONTH_MS (28 * MS_PER_DAY)

static const char *const objective_keys[] = {"name",  "objective", "window",       "budgeting",
                                             "slice", "bad_when",  "slice_target", NULL};

/* ---- objectives --------------------------------------------------------------------------- */

typedef enum direction { DIR_NONE, DIR_FLOOR, DIR_CEILING } direction;

/* Which way an SLI can be promised: availability >= T, p95 <= L; counts cannot. */
static direction
objective_direction(sw_sli sli)
{
    switch (sli) {
    case SW_SLI_AVAILABILITY:
    case SW_SLI_HEALTH_SUCCESS:
    case SW_SLI_THROUGHPUT:
        return DIR_FLOOR;
    case SW_SLI_ERROR_RATE:
    case SW_SLI_LATENCY:
        return DIR_CEILING;
    default:
        return DIR_NONE;
    }
}

/* A promise of 100% (or of nothing) leaves no error budget to spend or measure. */
static bool
target_ok(sw_rules_loader *ld, const sw_yaml_node *node, size_t at, const sw_condition *c)
{
    const char *why = NULL;
    unit_kind unit = sw_rules_unit_of(c->sli);
    bool error_rate = c->sli == SW_SLI_ERROR_RATE;
    if (c->value <= 0)
        why = error_rate             ? "expected an error rate above 0% (0% leaves no error budget)"
              : unit == UNIT_RATIO   ? "expected a target above 0%"
              : unit == UNIT_LATENCY ? "expected a latency above 0"
                                     : "expected a rate above 0";
    else if (unit == UNIT_RATIO && c->value >= 1)
        why = error_rate ? "expected an error rate below 100%"
                         : "expected a target below 100% (100% leaves no error budget)";
    if (why != NULL)
        sw_rules_error_in(ld, node, at, "%s", why);
    return why == NULL;
}

/* The objective's condition is stored only when valid, so pos.line != 0 means usable. */
static void
objective_condition(sw_rules_loader *ld, const sw_yaml_node *node, sw_objective *o)
{
    cond_at at;
    sw_condition c;
    char sli[32];
    if (!sw_rules_parse_condition(ld, node, &c, &at))
        return;
    sw_rules_sli_name(&c, sli, sizeof sli);
    direction dir = objective_direction(c.sli);
    bool floor_op = c.op == SW_OP_GE || c.op == SW_OP_GT;
    if (dir == DIR_NONE)
        sw_rules_error_in(ld, node, at.sli,
                          "expected an objective on availability, error_rate, "
                          "pNN, throughput or health_success, found %s",
                          sli);
    else if ((dir == DIR_FLOOR) != floor_op)
        sw_rules_error_in(ld, node, at.op, "expected %s in the objective: %s is promised as a %s",
                          dir == DIR_FLOOR ? ">= or >" : "<= or <", sli,
                          dir == DIR_FLOOR ? "minimum" : "maximum");
    else if (target_ok(ld, node, at.value, &c))
        o->objective = c;
}

static void
get_window(sw_rules_loader *ld, const sw_rules *r, const sw_yaml_node *node, sw_window_spec *w)
{
    int64_t ms;
    if (sw_rules_is(node, "month")) {
        w->kind = SW_WINDOW_MONTH;
        return;
    }
    if (!sw_rules_is_text(node) || !sw_units_parse_duration_ms(node->str, node->len, &ms)) {
        sw_rules_error(ld, node, "expected a window: month or a duration (e.g. 30d), found %s",
                       sw_rules_found(node).s);
        return;
    }
    sw_rules_check_step(ld, r, node, "window", ms);
    w->kind = SW_WINDOW_ROLLING;
    w->length_ms = ms;
}

static void
compile_bad_when(sw_rules_loader *ld, const sw_yaml_node *node, sw_objective *o)
{
    if (!sw_rules_check_list(ld, node, "conditions"))
        return;
    size_t n = sw_rules_list_len(node);
    if (n == 0) {
        sw_rules_error(ld, node, "expected at least one condition in bad_when");
        return;
    }
    sw_condition *c = sw_rules_alloc(ld, n, sizeof *c);
    for (size_t i = 0; c != NULL && i < n; i++)
        sw_rules_parse_condition(ld, node->items[i], &c[i], NULL);
    o->bad_when = c;
    o->n_bad_when = c != NULL ? n : 0;
}

int64_t
sw_rules_window_ms(const sw_window_spec *w)
{
    return w->kind == SW_WINDOW_MONTH ? MIN_MONTH_MS : w->length_ms;
}

/* Settings that only make sense for some objectives are errors elsewhere, not ignored. */
static void
objective_applies(sw_rules_loader *ld, const sw_yaml_node *node, const sw_objective *o)
{
    const sw_yaml_node *k;
    sw_sli sli = o->objective.sli;
    bool parsed = o->objective.pos.line != 0;
    bool slices = o->budgeting == SW_BUDGET_TIMESLICES;
    bool throughput = parsed && sli == SW_SLI_THROUGHPUT;
    if (parsed && slices && sli != SW_SLI_AVAILABILITY && sli != SW_SLI_ERROR_RATE &&
        (k = sw_yaml_get(node, "budgeting")) != NULL)
        sw_rules_error(ld, k,
                       "expected events budgeting: timeslices applies to availability "
                       "and error_rate objectives only");
    if (!slices && (k = sw_rules_key_of(node, "bad_when")) != NULL)
        sw_rules_error(ld, k, "expected budgeting: timeslices with bad_when");
    if (parsed && !slices && !throughput && (k = sw_rules_key_of(node, "slice")) != NULL)
        sw_rules_error(ld, k,
                       "expected budgeting: timeslices or a throughput objective with "
                       "slice");
    if (parsed && !throughput && (k = sw_rules_key_of(node, "slice_target")) != NULL)
        sw_rules_error(ld, k, "expected a throughput objective with slice_target");
    if (o->slice_ms > sw_rules_window_ms(&o->window) && (k = sw_yaml_get(node, "slice")) != NULL)
        sw_rules_error(ld, k, "expected a slice no longer than the objective's window");
}

static void
objective_options(sw_rules_loader *ld, const sw_rules *r, const sw_yaml_node *node, sw_objective *o)
{
    const sw_yaml_node *v;
    if ((v = sw_yaml_get(node, "window")) != NULL)
        get_window(ld, r, v, &o->window);
    if ((v = sw_yaml_get(node, "budgeting")) != NULL) {
        if (sw_rules_is(v, "events") || sw_rules_is(v, "timeslices"))
            o->budgeting = sw_rules_is(v, "events") ? SW_BUDGET_EVENTS : SW_BUDGET_TIMESLICES;
        else
            sw_rules_error(ld, v, "expected events or timeslices for budgeting, found %s",
                           sw_rules_found(v).s);
    }
    if ((v = sw_yaml_get(node, "slice")) != NULL)
        sw_rules_get_step(ld, r, v, "slice", false, &o->slice_ms);
    else if (o->budgeting == SW_BUDGET_TIMESLICES || o->objective.sli == SW_SLI_THROUGHPUT)
        sw_rules_check_default_step(ld, r, node, "slice", o->slice_ms);
    if ((v = sw_yaml_get(node, "bad_when")) != NULL)
        compile_bad_when(ld, v, o);
    if ((v = sw_yaml_get(node, "slice_target")) != NULL &&
        sw_rules_get_ratio(ld, v, "a share of slices (e.g. 99%) for slice_target",
                           &o->slice_target) &&
        (o->slice_target <= 0 || o->slice_target > 1))
        sw_rules_error(ld, v,
                       "expected a share above 0%% and at most 100%% for slice_target, "
                       "found %s",
                       sw_rules_found(v).s);
}

static void
compile_objective(sw_rules_loader *ld, const sw_rules *r, const sw_yaml_node *node, sw_objective *o)
{
    const sw_yaml_node *v;
    o->pos = sw_rules_pos_of(ld, node);
    sw_rules_objective_defaults(ld, o);
    if (!sw_rules_check_map(ld, node, "objective", objective_keys))
        return;
    if ((v = sw_rules_require(ld, node, "name", "objective")) != NULL)
        sw_rules_get_name(ld, v, "an objective", &o->name);
    if ((v = sw_rules_require(ld, node, "objective", "objective")) != NULL)
        objective_condition(ld, v, o);
    objective_options(ld, r, node, o);
    objective_applies(ld, node, o);
}

void
sw_rules_compile_objectives(sw_rules_loader *ld, const sw_yaml_node *node, sw_rules *r)
{
    if (!sw_rules_check_list(ld, node, "objectives"))
        return;
    size_t n = sw_rules_list_len(node);
    sw_objective *o = sw_rules_alloc(ld, n, sizeof *o);
    for (size_t i = 0; o != NULL && i < n; i++) {
        compile_objective(ld, r, node->items[i], &o[i]);
        sw_rules_check_duplicate(ld, node->items[i], o, i, sizeof *o, offsetof(sw_objective, pos),
                                 "objective");
    }
    r->objectives = o;
    r->n_objectives = o != NULL ? n : 0;
}

/* ---- latency contradictions --------------------------------------------------------------- */

static void
format_latency(double us, char *out, size_t cap)
{
    if (us >= 1e6)
        snprintf(out, cap, "%gs", us / 1e6);
    else if (us >= 1e3)
        snprintf(out, cap, "%gms", us / 1e3);
    else
        snprintf(out, cap, "%gus", us);
}

static bool
latency_ceiling(const sw_condition *c)
{
    return c->sli == SW_SLI_LATENCY && (c->op == SW_OP_LE || c->op == SW_OP_LT);
}

/* A higher percentile is never faster: p99 <= 500ms contradicts p95 <= 800ms. */
void
sw_rules_latency_pair(sw_rules_loader *ld, const sw_condition *earlier, const sw_condition *later,
                      const char *earlier_desc)
{
    if (!latency_ceiling(earlier) || !latency_ceiling(later) ||
        earlier->percentile == later->percentile)
        return;
    bool later_higher = later->percentile > earlier->percentile;
    if (later_higher ? later->value >= earlier->value : later->value <= earlier->value)
        return;
    char mine[32], theirs[32], bound[32];
    sw_rules_sli_name(later, mine, sizeof mine);
    sw_rules_sli_name(earlier, theirs, sizeof theirs);
    format_latency(earlier->value, bound, sizeof bound);
    sw_rules_error_pos(ld, later->pos,
                       "expected a %s threshold of at %s %s, the %s threshold "
                       "of %s",
                       mine, later_higher ? "least" : "most", bound, theirs, earlier_desc);
}

static bool
same_window(const sw_window_spec *a, const sw_window_spec *b)
{
    return a->kind == b->kind && (a->kind == SW_WINDOW_MONTH || a->length_ms == b->length_ms);
}

/* The objective's threshold in whole µs when it is one the evaluator counts slow values for. */
static bool
slow_threshold(const sw_objective *o, int64_t *ret_us)
{
    if (!latency_ceiling(&o->objective))
        return false;
    *ret_us = (int64_t)llround(o->objective.value);
    return true;
}

void
sw_rules_check_slow_thresholds(sw_rules_loader *ld, const sw_rules *r, const char *whose)
{
    int64_t seen[SW_RULES_MAX_SLOW_THRESHOLDS];
    size_t n = 0;
    for (size_t i = 0; i < r->n_objectives; i++) {
        int64_t t;
        if (!slow_threshold(&r->objectives[i], &t))
            continue;
        size_t k = 0;
        while (k < n && seen[k] != t)
            k++;
        if (k < n)
            continue;
        if (n == SW_RULES_MAX_SLOW_THRESHOLDS) {
            sw_rules_error_pos(ld, r->objectives[i].pos,
                               "expected at most %d distinct latency objective thresholds "
                               "(pNN <= T) in %s, found one more",
                               SW_RULES_MAX_SLOW_THRESHOLDS, whose);
            return;
        }
        seen[n++] = t;
    }
}

void
sw_rules_check_latency_order(sw_rules_loader *ld, const sw_rules *r)
{
    char desc[128];
    for (size_t j = 0; j < r->n_objectives; j++)
        for (size_t i = 0; i < j; i++) {
            const sw_objective *a = &r->objectives[i], *b = &r->objectives[j];
            if (a->name == NULL || !same_window(&a->window, &b->window))
                continue;
            snprintf(desc, sizeof desc, "objective '%s' in the same window",
                     sw_rules_show(a->name, strlen(a->name)).s);
            sw_rules_latency_pair(ld, &a->objective, &b->objective, desc);
        }
}
