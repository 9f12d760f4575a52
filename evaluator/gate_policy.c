/*
 * The gate's error-budget policy (gate_policy.h): the lowest budget left of an objective over a
 * service's series against the rules' requirement, and the deployment's override of it.
 */
#include "slawatch/gate_policy.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static bool
is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool
sw_gate_policy_override_valid(const char *text, char *why, size_t cap)
{
    size_t len = text != NULL ? strlen(text) : 0;
    if (len == 0) {
        snprintf(why, cap, "policy_override is empty: give a ticket reference such as INC-123");
        return false;
    }
    if (len > SW_POLICY_OVERRIDE_MAX) {
        snprintf(why, cap, "policy_override is %zu characters long, more than the %d allowed", len,
                 SW_POLICY_OVERRIDE_MAX);
        return false;
    }
    if (!is_alnum(text[0])) {
        snprintf(why, cap, "policy_override must start with a letter or a digit");
        return false;
    }
    for (size_t i = 1; i < len; i++) {
        if (is_alnum(text[i]) || strchr("-_.:/#", text[i]) != NULL)
            continue;
        unsigned char c = (unsigned char)text[i];
        snprintf(why, cap,
                 "policy_override has character %s%c%s (0x%02x) at %zu: only letters, digits and "
                 "- _ . : / # are allowed",
                 c >= 0x20 && c < 0x7f ? "'" : "", c >= 0x20 && c < 0x7f ? c : '?',
                 c >= 0x20 && c < 0x7f ? "'" : "", c, i + 1);
        return false;
    }
    return true;
}

void
sw_gate_policy_begin(sw_budget_seen *b, const sw_objective *o, double required)
{
    *b = (sw_budget_seen){
        .objective = o, .required = required, .remaining = NAN, .verdict = SW_VERDICT_INCONCLUSIVE};
}

void
sw_gate_policy_see(sw_budget_seen *b, const char *env, const sw_objective_result *r)
{
    b->series_seen++;
    /* Without a verdict the figure is not one /api/v1/status stands behind: it does not count. */
    if (r == NULL || !r->has_verdict || isnan(r->budget_remaining))
        return;
    if (isnan(b->remaining) || r->budget_remaining < b->remaining) {
        b->remaining = r->budget_remaining;
        b->env = env;
    }
}

sw_verdict
sw_gate_policy_judge(sw_budget_seen *b, const char *policy_override)
{
    b->overridden = false;
    if (isnan(b->remaining))
        b->verdict = SW_VERDICT_INCONCLUSIVE;
    else if (b->remaining >= b->required)
        b->verdict = SW_VERDICT_PASS;
    else if (policy_override != NULL && policy_override[0] != '\0') {
        b->verdict = SW_VERDICT_PASS;
        b->overridden = true;
    } else
        b->verdict = SW_VERDICT_FAIL;
    return b->verdict;
}

void
sw_gate_policy_reason(const sw_budget_seen *b, char *out, size_t cap)
{
    char left[32], need[32], where[96] = "";
    if (isfinite(b->remaining))
        sw_rules_format_value(SW_SLI_ERROR_RATE, fabs(b->remaining), left, sizeof left);
    else /* a budget of nothing, with bad events against it */
        snprintf(left, sizeof left, "all of it");
    sw_rules_format_value(SW_SLI_ERROR_RATE, b->required, need, sizeof need);
    if (b->env != NULL)
        snprintf(where, sizeof where, " in %.64s", b->env);
    if (b->remaining >= 0)
        snprintf(out, cap, "error budget exhausted: %s left of %.64s%s, policy requires %s", left,
                 b->objective->name, where, need);
    else
        snprintf(out, cap,
                 "error budget exhausted: none left of %.64s%s (overspent by %s), policy "
                 "requires %s",
                 b->objective->name, where, left, need);
}
