/*
 * The rules format's deploy gate: its window, fixed checks, the canary comparison with its
 * baseline and the error-budget policy.
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

static const char *const gate_keys[] = {
    "window", "min_requests", "checks", "compare", "require_budget_remaining", "budget_objectives",
    NULL};

static const char *const compare_keys[] = {
    "baseline",   "max_error_rate_increase", "max_latency_increase",
    "confidence", "rank_test_alpha",         NULL};

/* ---- the gate ----------------------------------------------------------------------------- */

static void
compile_checks(sw_rules_loader *ld, const sw_yaml_node *node, sw_gate_spec *g)
{
    char desc[32];
    if (!sw_rules_check_list(ld, node, "conditions"))
        return;
    size_t n = sw_rules_list_len(node);
    sw_condition *c = sw_rules_alloc(ld, n, sizeof *c);
    for (size_t i = 0; c != NULL && i < n; i++) {
        if (!sw_rules_parse_condition(ld, node->items[i], &c[i], NULL))
            continue;
        for (size_t j = 0; j < i; j++) {
            snprintf(desc, sizeof desc, "gate check %zu", j + 1);
            sw_rules_latency_pair(ld, &c[j], &c[i], desc);
        }
    }
    g->checks = c;
    g->n_checks = c != NULL ? n : 0;
}

/* A comparison against an environment a service does not have could never be made. */
static void
check_baseline(sw_rules_loader *ld, const sw_rules *r, const sw_yaml_node *node)
{
    bool any_envs = false;
    for (size_t i = 0; i < r->n_services; i++)
        any_envs = any_envs || r->services[i].n_environments > 0;
    if (!any_envs && r->n_services > 0)
        sw_rules_error(ld, node,
                       "expected an environment of a service as baseline (no service lists "
                       "environments), found %s",
                       sw_rules_found(node).s);
    for (size_t i = 0; i < r->n_services; i++) {
        const sw_service *s = &r->services[i];
        char envs[256];
        bool found = false;
        size_t used = 0;
        envs[0] = '\0';
        for (size_t e = 0; e < s->n_environments && s->environments[e] != NULL; e++) {
            found = found || strcmp(s->environments[e], r->gate.baseline) == 0;
            int w = snprintf(envs + used, sizeof envs - used, "%s%s", e ? ", " : "",
                             sw_rules_show(s->environments[e], strlen(s->environments[e])).s);
            used = w > 0 && (size_t)w < sizeof envs - used ? used + (size_t)w : used;
        }
        if (!found && s->n_environments > 0 && s->name != NULL)
            sw_rules_error(ld, node,
                           "expected one of the environments of service '%s' (%s) as "
                           "baseline, found %s",
                           s->name, envs, sw_rules_found(node).s);
    }
}

/* A ratio read from v that must lie in (low, high] (or [low, high) when open_high). */
static void
get_bounded_ratio(sw_rules_loader *ld, const sw_yaml_node *v, const char *key, const char *range,
                  double low, double high, bool open_high, double *ret)
{
    char what[96];
    snprintf(what, sizeof what, "a ratio (e.g. %s) for %s", range, key);
    if (!sw_rules_get_ratio(ld, v, what, ret))
        return;
    bool inside = open_high ? *ret > low && *ret < high : *ret > low && *ret <= high;
    if (!inside)
        sw_rules_error(ld, v, "expected %s for %s, found %s", range, key, sw_rules_found(v).s);
}

static void
compile_compare(sw_rules_loader *ld, const sw_rules *r, const sw_yaml_node *node, sw_gate_spec *g)
{
    const sw_yaml_node *v;
    if (!sw_rules_check_map(ld, node, "compare", compare_keys))
        return;
    if ((v = sw_rules_require(ld, node, "baseline", "compare")) != NULL &&
        sw_rules_get_name(ld, v, "the baseline environment", &g->baseline))
        check_baseline(ld, r, v);
    if ((v = sw_yaml_get(node, "max_error_rate_increase")) != NULL)
        get_bounded_ratio(ld, v, "max_error_rate_increase", "more than 0% and at most 100%", 0, 1,
                          false, &g->max_error_rate_increase);
    if ((v = sw_yaml_get(node, "max_latency_increase")) != NULL)
        get_bounded_ratio(ld, v, "max_latency_increase", "more than 0% and at most 1000% (10x)", 0,
                          10, false, &g->max_latency_increase);
    if ((v = sw_yaml_get(node, "confidence")) != NULL)
        get_bounded_ratio(ld, v, "confidence", "more than 50% and less than 99.99%", 0.5, 0.9999,
                          true, &g->confidence);
    /* The old rank test's level reads as the false-fail chance it was meant to bound. */
    const sw_yaml_node *alpha = sw_yaml_get(node, "rank_test_alpha");
    double a;
    if (alpha != NULL && v != NULL)
        sw_rules_error(ld, alpha,
                       "expected confidence or rank_test_alpha (its old name: confidence is 1 - "
                       "rank_test_alpha), not both");
    else if (alpha != NULL) {
        get_bounded_ratio(ld, alpha, "rank_test_alpha", "more than 0.0001 and less than 0.5",
                          0.0001, 0.5, true, &a);
        g->confidence = 1.0 - a;
    }
}

static bool
has_budget(const sw_objective *o)
{
    double f = sw_rules_budget_fraction(o);
    return !isnan(f) && f > 0;
}

/* budget_objectives as written: names, each once; bound to objectives by sw_rules_bind_budget. */
static void
compile_budget_names(sw_rules_loader *ld, const sw_yaml_node *node, sw_gate_spec *g)
{
    if (!sw_rules_check_list(ld, node, "objective names"))
        return;
    size_t n = sw_rules_list_len(node);
    if (n == 0) {
        sw_rules_error(ld, node, "expected at least one objective in budget_objectives, found %s",
                       sw_rules_found(node).s);
        return;
    }
    const char **names = sw_rules_alloc(ld, n, sizeof *names);
    sw_rules_pos *pos = sw_rules_alloc(ld, n, sizeof *pos);
    for (size_t i = 0; names != NULL && pos != NULL && i < n; i++) {
        const sw_yaml_node *item = node->items[i];
        pos[i] = sw_rules_pos_of(ld, item);
        names[i] = NULL;
        if (!sw_rules_get_name(ld, item, "an objective name", &names[i]))
            continue;
        for (size_t j = 0; j < i; j++)
            if (names[j] != NULL && strcmp(names[j], names[i]) == 0)
                sw_rules_error(ld, item, "objective '%s' is listed twice", names[i]);
    }
    g->budget_names = names;
    g->budget_names_pos = pos;
    g->n_budget_names = names != NULL && pos != NULL ? n : 0;
}

/* The indices of the objectives the policy watches in r, which holds the objectives the gate
 * applies to (a file's top level, or one service's resolved set). */
static void
bind_named(sw_rules_loader *ld, sw_rules *r, sw_gate_spec *g)
{
    size_t n = g->n_budget_names;
    size_t *idx = sw_rules_alloc(ld, n, sizeof *idx);
    for (size_t i = 0; idx != NULL && i < n; i++) {
        const char *name = g->budget_names[i];
        ptrdiff_t k = name != NULL ? sw_rules_objective_index(r, name) : -1;
        idx[i] = k >= 0 ? (size_t)k : 0;
        if (name == NULL)
            continue;
        if (k < 0)
            sw_rules_error_pos(ld, g->budget_names_pos[i],
                               "expected the name of an objective, found '%s'", name);
        else if (!has_budget(&r->objectives[k]))
            sw_rules_error_pos(ld, g->budget_names_pos[i],
                               "objective '%s' has no error budget to require", name);
    }
    g->budget_objectives = idx;
    g->n_budget_objectives = idx != NULL ? n : 0;
}

/* Every objective of r with an error budget, when budget_objectives does not choose. */
static void
bind_all(sw_rules_loader *ld, sw_rules *r, sw_gate_spec *g)
{
    size_t n = 0;
    for (size_t k = 0; k < r->n_objectives; k++)
        n += has_budget(&r->objectives[k]);
    if (n == 0) {
        sw_rules_error_pos(ld, g->budget_pos,
                           "require_budget_remaining needs an objective with an error budget "
                           "(availability, error_rate, an upper latency bound, health_success or "
                           "throughput); there is none");
        return;
    }
    size_t *idx = sw_rules_alloc(ld, n, sizeof *idx);
    for (size_t k = 0, i = 0; idx != NULL && k < r->n_objectives; k++)
        if (has_budget(&r->objectives[k]))
            idx[i++] = k;
    g->budget_objectives = idx;
    g->n_budget_objectives = idx != NULL ? n : 0;
}

void
sw_rules_bind_budget(sw_rules_loader *ld, sw_rules *r)
{
    sw_gate_spec *g = &r->gate;
    g->budget_objectives = NULL;
    g->n_budget_objectives = 0;
    if (g->budget_pos.line == 0) /* no policy written (an invalid one is still bound) */
        return;
    if (g->budget_names != NULL)
        bind_named(ld, r, g);
    else
        bind_all(ld, r, g);
}

/* The error-budget policy: require_budget_remaining and the objectives it watches (by name). */
static void
compile_budget_policy(sw_rules_loader *ld, const sw_yaml_node *node, sw_gate_spec *g)
{
    const sw_yaml_node *need = sw_yaml_get(node, "require_budget_remaining");
    const sw_yaml_node *which = sw_yaml_get(node, "budget_objectives");
    if (need == NULL) {
        if (which != NULL)
            sw_rules_error(ld, sw_rules_key_of(node, "budget_objectives"),
                           "budget_objectives needs require_budget_remaining beside it");
        return;
    }
    get_bounded_ratio(ld, need, "require_budget_remaining", "more than 0% and less than 100%", 0, 1,
                      true, &g->require_budget_remaining);
    g->budget_pos = sw_rules_pos_of(ld, need);
    if (which != NULL)
        compile_budget_names(ld, which, g);
}

/* node is the gate section, or NULL without one: the default gate still applies. */
void
sw_rules_compile_gate(sw_rules_loader *ld, const sw_yaml_node *node, const sw_yaml_node *root,
                      sw_rules *r)
{
    sw_gate_spec *g = &r->gate;
    const sw_yaml_node *v;
    if (sw_yaml_get(node, "window") == NULL)
        sw_rules_check_default_step(ld, r, node != NULL ? node : root, "gate.window", g->window_ms);
    if (node == NULL || sw_yaml_is_null(node) || !sw_rules_check_map(ld, node, "gate", gate_keys))
        return;
    if ((v = sw_yaml_get(node, "window")) != NULL)
        sw_rules_get_step(ld, r, v, "window", false, &g->window_ms);
    if ((v = sw_yaml_get(node, "min_requests")) != NULL)
        sw_rules_get_int(ld, v, "a positive whole number for min_requests", 1, INT64_MAX,
                         &g->min_requests);
    if ((v = sw_yaml_get(node, "checks")) != NULL)
        compile_checks(ld, v, g);
    if ((v = sw_yaml_get(node, "compare")) != NULL)
        compile_compare(ld, r, v, g);
    compile_budget_policy(ld, node, g);
}
