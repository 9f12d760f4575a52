/*
 * `slawatch check --explain SERVICE`: a service's resolved commitments, one line per
 * objective, alert and rollback trigger and one for the gate, each saying where it came from
 * (the top level of the service's file, a profile, or the service itself) as FILE:LINE:COL.
 */
#include "cli.h"

#include "slawatch/rules.h"
#include "slawatch/units.h"

#include <stdio.h>
#include <string.h>

static void
print_origin(const sw_rules_origin *o)
{
    const char *file = o->pos.file != NULL ? o->pos.file : "?";
    switch (o->kind) {
    case SW_ORIGIN_PROFILE:
        printf("  [profile %s, %s:%u:%u]\n", o->profile, file, o->pos.line, o->pos.col);
        return;
    case SW_ORIGIN_SERVICE:
        printf("  [the service, %s:%u:%u]\n", file, o->pos.line, o->pos.col);
        return;
    case SW_ORIGIN_DEFAULT:
        printf("  [the default]\n");
        return;
    case SW_ORIGIN_TOP:
        break;
    }
    if (o->pos.line == 0)
        printf("  [the top level, %s]\n", file);
    else
        printf("  [the top level, %s:%u:%u]\n", file, o->pos.line, o->pos.col);
}

static void
print_condition(const sw_condition *c)
{
    char sli[32], value[32];
    sw_rules_sli_name(c, sli, sizeof sli);
    sw_rules_format_value(c->sli, c->value, value, sizeof value);
    printf("%s %s %s", sli, sw_rules_op_str(c->op), value);
}

static void
print_objective(const sw_objective *o, const sw_rules_origin *from)
{
    char w[32] = "month";
    if (o->window.kind == SW_WINDOW_ROLLING)
        sw_units_format_duration(o->window.length_ms, w, sizeof w);
    printf("  %s: ", o->name);
    print_condition(&o->objective);
    printf(" over %s, %s", w, o->budgeting == SW_BUDGET_TIMESLICES ? "timeslices" : "events");
    print_origin(from);
}

static void
print_alert(const sw_rules *r, const sw_alert *a, const sw_rules_origin *from, bool trigger)
{
    char d1[32], d2[32];
    printf("  %s: ", a->name);
    if (a->kind == SW_ALERT_BURN_RATE) {
        sw_units_format_duration(a->long_ms, d1, sizeof d1);
        sw_units_format_duration(a->short_ms, d2, sizeof d2);
        printf("burn rate %g of %s over %s and %s", a->burn_rate, r->objectives[a->objective].name,
               d1, d2);
    } else {
        sw_units_format_duration(a->over_ms, d1, sizeof d1);
        sw_units_format_duration(a->for_ms, d2, sizeof d2);
        print_condition(&a->when);
        printf(" over %s for %s", d1, d2);
    }
    if (!trigger)
        printf(", %s", sw_rules_severity_str(a->severity));
    print_origin(from);
}

static void
print_gate(const sw_gate_spec *g, const sw_rules_origin *from)
{
    char w[32];
    sw_units_format_duration(g->window_ms, w, sizeof w);
    printf("gate: window %s, checks ", w);
    for (size_t i = 0; i < g->n_checks; i++) {
        printf(i ? ", " : "");
        print_condition(&g->checks[i]);
    }
    if (g->n_checks == 0)
        printf("none");
    if (g->baseline != NULL)
        printf("; compared with %s", g->baseline);
    print_origin(from);
}

/* A service judged per value of a label: which, how many values, how long one is kept. */
static void
print_by(const sw_service *svc)
{
    char idle[32];
    sw_units_format_duration(svc->by_idle_ms, idle, sizeof idle);
    printf("by: %s, at most %zu values, each kept %s after its last data  [the service, "
           "%s:%u:%u]\n",
           svc->by, svc->by_limit, idle, svc->by_pos.file, svc->by_pos.line, svc->by_pos.col);
}

int
sw_cli_explain(const sw_rules *rules, const char *service)
{
    ptrdiff_t i = sw_rules_service_index(rules, service);
    if (i < 0) {
        fprintf(stderr,
                "slawatch check: error: --explain %s: no service of that name in the rules "
                "files\n",
                service);
        return SW_EXIT_INPUT;
    }
    const sw_service *svc = &rules->services[i];
    const sw_rules *r = sw_rules_of_service(rules, (size_t)i);
    const sw_rules_explain *ex = r->explain;
    printf("service %s (%s:%u:%u)\nprofiles:", svc->name, svc->pos.file, svc->pos.line,
           svc->pos.col);
    for (size_t k = 0; k < ex->n_profiles; k++)
        printf(" %s", ex->profiles[k]);
    printf(ex->n_profiles == 0 ? " none\n" : "\n");
    if (svc->by != NULL)
        print_by(svc);
    printf("objectives:\n");
    for (size_t k = 0; k < r->n_objectives; k++)
        print_objective(&r->objectives[k], &ex->objectives[k]);
    printf("alerts:\n");
    for (size_t k = 0; k < r->n_alerts; k++)
        print_alert(r, &r->alerts[k], &ex->alerts[k], false);
    printf("rollback triggers:\n");
    for (size_t k = 0; k < r->n_triggers; k++)
        print_alert(r, &r->triggers[k], &ex->triggers[k], true);
    print_gate(&r->gate, &ex->gate);
    return SW_EXIT_OK;
}
