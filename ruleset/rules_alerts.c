/*
 * The rules format's alerts and rollback triggers: condition alerts, multiwindow burn-rate
 * alerts and their reachability, severities.
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

static const char *const alert_keys[] = {"name",     "when",        "over",        "for",
                                         "severity", "burn_rate",   "objective",   "long",
                                         "short",    "runbook_url", "description", NULL};

static const char *const burn_keys[] = {"objective", "long", "short", NULL};

static const char *const trigger_keys[] = {"name",        "when",        "over", "for",
                                           "runbook_url", "description", NULL};

/* ---- alerts and rollback triggers --------------------------------------------------------- */

/* A burn rate is measured against an error budget: availability or error_rate objectives. */
static bool
burn_objective(sw_rules_loader *ld, const sw_rules *r, const sw_yaml_node *node, sw_alert *a)
{
    char sli[32];
    if (sw_rules_is_text(node))
        a->objective_name = sw_rules_strdup(ld, node->str, node->len);
    for (size_t i = 0; sw_rules_is_text(node) && i < r->n_objectives; i++) {
        const sw_objective *o = &r->objectives[i];
        if (o->name == NULL || !sw_rules_text_is(node->str, node->len, o->name))
            continue;
        a->objective = i;
        if (o->objective.pos.line == 0)
            return false; /* its own error is reported already */
        if (o->objective.sli == SW_SLI_AVAILABILITY || o->objective.sli == SW_SLI_ERROR_RATE)
            return true;
        sw_rules_sli_name(&o->objective, sli, sizeof sli);
        sw_rules_error(ld, node,
                       "expected an availability or error_rate objective for a burn "
                       "rate, found objective '%s' on %s",
                       o->name, sli);
        return false;
    }
    if (ld->late_refs && sw_rules_is_text(node))
        return false; /* an objective inherited from a profile or the top level: resolution */
    sw_rules_error(ld, node,
                   "expected the name of an objective, found %s (no objective has "
                   "that name)",
                   sw_rules_found(node).s);
    return false;
}

/* At 100% bad the burn rate is 1 / budget; a factor at or above that can never be exceeded. */
bool
sw_rules_burn_unreachable(const sw_objective *o, const sw_alert *a, char *why, size_t cap)
{
    const sw_condition *c = &o->objective;
    double budget = c->sli == SW_SLI_AVAILABILITY ? 1 - c->value : c->value;
    /* The tolerance absorbs binary noise: 1 - 99.9% is not exactly 0.001. */
    if (budget <= 0 || budget >= 1 || a->burn_rate < (1 / budget) * (1 - 1e-9))
        return false;
    snprintf(why, cap,
             "expected a burn rate below %g: objective '%s' allows %g%% bad, "
             "so its burn rate never exceeds %g",
             1 / budget, o->name, budget * 100, 1 / budget);
    return true;
}

static void
check_burn_reachable(sw_rules_loader *ld, const sw_rules *r, const sw_yaml_node *node,
                     const sw_alert *a)
{
    char why[512];
    if (sw_rules_burn_unreachable(&r->objectives[a->objective], a, why, sizeof why))
        sw_rules_error(ld, node, "%s", why);
}

static void
compile_burn_alert(sw_rules_loader *ld, const sw_rules *r, const sw_yaml_node *node,
                   const sw_yaml_node *burn, sw_alert *a)
{
    const sw_yaml_node *obj = sw_rules_require(ld, node, "objective", "alert");
    const sw_yaml_node *lng = sw_rules_require(ld, node, "long", "alert");
    const sw_yaml_node *shrt = sw_rules_require(ld, node, "short", "alert"), *k;
    char have[32];
    a->kind = SW_ALERT_BURN_RATE;
    if ((k = sw_rules_key_of(node, "over")) != NULL)
        sw_rules_error(ld, k, "expected long and short, not over, in a burn-rate alert");
    bool rate_ok = sw_rules_get_number(ld, burn, "a burn rate (e.g. 14.4)", &a->burn_rate);
    if (rate_ok && a->burn_rate <= 0) {
        sw_rules_error(ld, burn, "expected a burn rate above 0, found %s", sw_rules_found(burn).s);
        rate_ok = false;
    }
    bool obj_ok = obj != NULL && burn_objective(ld, r, obj, a);
    bool long_ok = lng != NULL && sw_rules_get_step(ld, r, lng, "long", false, &a->long_ms);
    if (shrt != NULL && sw_rules_get_step(ld, r, shrt, "short", false, &a->short_ms) && long_ok &&
        a->short_ms >= a->long_ms) {
        sw_units_format_duration(a->long_ms, have, sizeof have);
        sw_rules_error(ld, shrt, "expected a short window shorter than long (%s), found %s", have,
                       sw_rules_found(shrt).s);
    }
    if (rate_ok && obj_ok)
        check_burn_reachable(ld, r, burn, a);
}

static void
compile_condition_alert(sw_rules_loader *ld, const sw_rules *r, const sw_yaml_node *node,
                        const sw_yaml_node *when, sw_alert *a)
{
    const sw_yaml_node *v;
    a->kind = SW_ALERT_CONDITION;
    sw_rules_parse_condition(ld, when, &a->when, NULL);
    if ((v = sw_yaml_get(node, "over")) != NULL)
        sw_rules_get_step(ld, r, v, "over", false, &a->over_ms);
    else
        sw_rules_check_default_step(ld, r, node, "over", a->over_ms);
}

static void
get_severity(sw_rules_loader *ld, const sw_yaml_node *node, sw_severity *ret)
{
    static const sw_severity all[] = {SW_SEVERITY_CRITICAL, SW_SEVERITY_WARNING, SW_SEVERITY_INFO};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (sw_rules_is(node, sw_rules_severity_str(all[i]))) {
            *ret = all[i];
            return;
        }
    sw_rules_error(ld, node, "expected a severity (critical, warning or info), found %s",
                   sw_rules_found(node).s);
}

/* `when` alerts and burn-rate alerts; triggers are `when` alerts without severity. */
static void
compile_alert_kind(sw_rules_loader *ld, const sw_rules *r, const sw_yaml_node *node, sw_alert *a,
                   bool trigger)
{
    const sw_yaml_node *when = sw_yaml_get(node, "when"), *k;
    const sw_yaml_node *burn = trigger ? NULL : sw_yaml_get(node, "burn_rate");
    if (when != NULL && burn != NULL)
        sw_rules_error(ld, sw_rules_key_of(node, "burn_rate"),
                       "expected either when or burn_rate, "
                       "not both");
    else if (burn != NULL)
        compile_burn_alert(ld, r, node, burn, a);
    else if (when != NULL)
        compile_condition_alert(ld, r, node, when, a);
    else
        sw_rules_error(ld, node, "missing key 'when' in %s",
                       trigger ? "rollback trigger" : "alert (or burn_rate)");
    for (size_t i = 0; !trigger && burn == NULL && burn_keys[i] != NULL; i++)
        if ((k = sw_rules_key_of(node, burn_keys[i])) != NULL)
            sw_rules_error(ld, k,
                           "expected burn_rate with %s: it applies to burn-rate alerts "
                           "only",
                           burn_keys[i]);
}

static void
compile_alert(sw_rules_loader *ld, const sw_rules *r, const sw_yaml_node *node, sw_alert *a,
              bool trigger)
{
    const char *what = trigger ? "rollback trigger" : "alert";
    const sw_yaml_node *v;
    a->pos = sw_rules_pos_of(ld, node);
    /* Triggers have no severity; a rollback is as serious as it gets. */
    a->severity = trigger ? SW_SEVERITY_CRITICAL : SW_SEVERITY_WARNING;
    a->over_ms = 60000;
    if (!sw_rules_check_map(ld, node, what, trigger ? trigger_keys : alert_keys))
        return;
    if ((v = sw_rules_require(ld, node, "name", what)) != NULL)
        sw_rules_get_name(ld, v, trigger ? "a rollback trigger" : "an alert", &a->name);
    compile_alert_kind(ld, r, node, a, trigger);
    if ((v = sw_yaml_get(node, "for")) != NULL)
        sw_rules_get_step(ld, r, v, "for", true, &a->for_ms);
    if (!trigger && (v = sw_yaml_get(node, "severity")) != NULL)
        get_severity(ld, v, &a->severity);
    if ((v = sw_yaml_get(node, "runbook_url")) != NULL)
        sw_rules_get_text(ld, v, "a URL for runbook_url", &a->runbook_url);
    if ((v = sw_yaml_get(node, "description")) != NULL)
        sw_rules_get_text(ld, v, "a text for description", &a->description);
}

void
sw_rules_compile_alerts(sw_rules_loader *ld, const sw_yaml_node *node, sw_rules *r, bool trigger)
{
    if (!sw_rules_check_list(ld, node, trigger ? "rollback triggers" : "alerts"))
        return;
    size_t n = sw_rules_list_len(node);
    sw_alert *a = sw_rules_alloc(ld, n, sizeof *a);
    for (size_t i = 0; a != NULL && i < n; i++) {
        compile_alert(ld, r, node->items[i], &a[i], trigger);
        sw_rules_check_duplicate(ld, node->items[i], a, i, sizeof *a, offsetof(sw_alert, pos),
                                 trigger ? "rollback trigger" : "alert");
    }
    if (trigger) {
        r->triggers = a;
        r->n_triggers = a != NULL ? n : 0;
    } else {
        r->alerts = a;
        r->n_alerts = a != NULL ? n : 0;
    }
}
