/*
 * The deploy gate's error-budget policy (rules `gate.require_budget_remaining`): the gate fails
 * while a chosen objective of the service has less of its error budget left than the policy
 * requires, unless the deployment was marked with a `policy_override` (an incident or change
 * ticket). Pure: it reads the rules' gate, the objective results an evaluation produced and the
 * deployment's override, and nothing else, so it gives the same answer wherever it is asked.
 *
 * No verdict on a budget (too few requests, too little coverage: judgement.h) does not block: a
 * service that has just started reporting, or one whose data stopped, must not freeze deploys;
 * a spent budget it cannot see is the only case it lets through.
 */
#ifndef SLAWATCH_GATE_POLICY_H
#define SLAWATCH_GATE_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "slawatch/eval.h"
#include "slawatch/rules.h"

/*
 * Is text a ticket reference fit for policy_override: 1 to SW_POLICY_OVERRIDE_MAX characters,
 * starting with a letter or digit, then letters, digits and - _ . : / #? When not, why (cap
 * bytes) says what is wrong with it.
 */
bool sw_gate_policy_override_valid(const char *text, char *why, size_t cap);

/* What the policy saw of one objective over the service's series, and its call. */
typedef struct sw_budget_seen {
    const sw_objective *objective;
    double required;    /* the policy's require_budget_remaining */
    double remaining;   /* the lowest budget left among the series with a verdict; NAN: none */
    const char *env;    /* the series it was lowest in (NULL: no environment) */
    size_t series_seen; /* series whose results were looked at */
    sw_verdict verdict; /* pass, fail (below the policy), inconclusive (no verdict on it) */
    bool overridden;    /* below the policy, passed by the deployment's policy_override */
} sw_budget_seen;

/* Start looking at objective o for a policy requiring required (0 < required < 1). */
void sw_gate_policy_begin(sw_budget_seen *b, const sw_objective *o, double required);

/* One series' result r of that objective (env NULL: no environment); keeps the lowest. */
void sw_gate_policy_see(sw_budget_seen *b, const char *env, const sw_objective_result *r);

/* The call, given the deployment's override (NULL or "" when none). */
sw_verdict sw_gate_policy_judge(sw_budget_seen *b, const char *policy_override);

/*
 * One sentence for a failed or overridden call: "error budget exhausted: 4% left of
 * availability, policy requires 10%" (with " in ENV" after the objective for a series with an
 * environment, "none left ... (overspent by 35%)" below zero).
 */
void sw_gate_policy_reason(const sw_budget_seen *b, char *out, size_t cap);

#endif
