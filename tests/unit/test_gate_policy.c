/*
 * Unit tests for the gate's error-budget policy: the pure call (evaluator/gate_policy) on
 * objective results written here, the ticket check of policy_override, and the gate of an
 * evaluator fed known counts, whose budget left is worked out here from the definition
 * (1 - errors / ((1 - target) x requests)).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "slawatch/eval.h"
#include "slawatch/gate_policy.h"

#define SEC INT64_C(1000)
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define NOON INT64_C(1790856000000) /* 2026-10-01T12:00:00Z */

static const sw_objective availability = {.name = "availability"};

static sw_objective_result
result(bool has_verdict, double remaining)
{
    return (sw_objective_result){.objective = &availability,
                                 .has_verdict = has_verdict,
                                 .budget_remaining = remaining,
                                 .measured = NAN};
}

/* The lowest budget among the series with a verdict decides; its environment is named. */
static void
test_lowest_with_verdict(void **state)
{
    (void)state;
    sw_budget_seen b;
    sw_objective_result blue = result(true, 0.5), green = result(true, 0.04),
                        fresh = result(false, -3.0);
    sw_gate_policy_begin(&b, &availability, 0.10);
    sw_gate_policy_see(&b, "blue", &blue);
    sw_gate_policy_see(&b, "green", &green);
    sw_gate_policy_see(&b, "canary", &fresh); /* no verdict: not counted, however low */
    sw_gate_policy_see(&b, "gone", NULL);     /* no data at all */
    assert_int_equal(b.series_seen, 4);
    assert_true(b.remaining == 0.04);
    assert_string_equal(b.env, "green");
    assert_int_equal(sw_gate_policy_judge(&b, NULL), SW_VERDICT_FAIL);
    assert_false(b.overridden);
    char why[256];
    sw_gate_policy_reason(&b, why, sizeof why);
    assert_string_equal(why, "error budget exhausted: 4% left of availability in green, policy "
                             "requires 10%");
}

/* Without a verdict on any series the policy does not block: inconclusive, never fail. */
static void
test_no_verdict_does_not_block(void **state)
{
    (void)state;
    sw_budget_seen b;
    sw_objective_result none = result(false, 0.0), unknown = result(true, NAN);
    sw_gate_policy_begin(&b, &availability, 0.10);
    sw_gate_policy_see(&b, NULL, &none);
    sw_gate_policy_see(&b, NULL, &unknown);
    assert_true(isnan(b.remaining));
    assert_int_equal(sw_gate_policy_judge(&b, NULL), SW_VERDICT_INCONCLUSIVE);
}

/* At the policy passes (">= required"); just below fails; an override passes that deployment. */
static void
test_boundary_and_override(void **state)
{
    (void)state;
    sw_budget_seen b;
    sw_objective_result at = result(true, 0.25), below = result(true, 0.2499);
    sw_gate_policy_begin(&b, &availability, 0.25);
    sw_gate_policy_see(&b, NULL, &at);
    assert_int_equal(sw_gate_policy_judge(&b, NULL), SW_VERDICT_PASS);
    sw_gate_policy_begin(&b, &availability, 0.25);
    sw_gate_policy_see(&b, NULL, &below);
    assert_int_equal(sw_gate_policy_judge(&b, ""), SW_VERDICT_FAIL); /* "" is no override */
    assert_int_equal(sw_gate_policy_judge(&b, "INC-123"), SW_VERDICT_PASS);
    assert_true(b.overridden);
    /* An override does not turn a budget that is fine into an overridden one. */
    sw_gate_policy_begin(&b, &availability, 0.25);
    sw_gate_policy_see(&b, NULL, &at);
    assert_int_equal(sw_gate_policy_judge(&b, "INC-123"), SW_VERDICT_PASS);
    assert_false(b.overridden);
}

static void
test_overspent_reason(void **state)
{
    (void)state;
    sw_budget_seen b;
    sw_objective_result over = result(true, -0.35);
    sw_gate_policy_begin(&b, &availability, 0.05);
    sw_gate_policy_see(&b, NULL, &over);
    assert_int_equal(sw_gate_policy_judge(&b, NULL), SW_VERDICT_FAIL);
    char why[256];
    sw_gate_policy_reason(&b, why, sizeof why);
    assert_string_equal(why, "error budget exhausted: none left of availability (overspent by "
                             "35%), policy requires 5%");
}

static void
test_override_text(void **state)
{
    (void)state;
    char why[160];
    const char *good[] = {"INC-123", "CHG/2026:7#1", "a", "JIRA_OPS.42",
                          "12345678901234567890123456789012" /* 32 */};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_true(sw_gate_policy_override_valid(good[i], why, sizeof why));
    assert_false(sw_gate_policy_override_valid("", why, sizeof why));
    assert_non_null(strstr(why, "empty"));
    assert_false(
        sw_gate_policy_override_valid("123456789012345678901234567890123", why, sizeof why));
    assert_string_equal(why, "policy_override is 33 characters long, more than the 32 allowed");
    assert_false(sw_gate_policy_override_valid("INC 123", why, sizeof why));
    assert_string_equal(why, "policy_override has character ' ' (0x20) at 4: only letters, "
                             "digits and - _ . : / # are allowed");
    assert_false(sw_gate_policy_override_valid("INC\n1", why, sizeof why));
    assert_string_equal(why, "policy_override has character ? (0x0a) at 4: only letters, digits "
                             "and - _ . : / # are allowed");
    assert_false(sw_gate_policy_override_valid("-rf", why, sizeof why));
    assert_string_equal(why, "policy_override must start with a letter or a digit");
    assert_false(sw_gate_policy_override_valid("INC-\xc3\xa9", why, sizeof why));
    assert_false(sw_gate_policy_override_valid("<b>1</b>", why, sizeof why));
}

/* ------------------------------------------------------------------ through the evaluator */

static const char rules_text[] = "version: 1\n"
                                 "base_interval: 10s\n"
                                 "min_requests: 100\n"
                                 "services:\n"
                                 "  - name: api\n"
                                 "    environments: [blue, green]\n"
                                 "    sli: {requests: {push: true}, errors: {push: true}}\n"
                                 "objectives:\n"
                                 "  - name: availability\n"
                                 "    objective: availability >= 99%\n"
                                 "    window: 1h\n"
                                 "gate:\n"
                                 "  window: 10m\n"
                                 "  checks: [error_rate <= 5%]\n"
                                 "  require_budget_remaining: 10%\n";

/* An hour of 10 s intervals of a series, each with requests and errors. */
static void
feed_hour(sw_eval *ev, const char *env, uint64_t requests, uint64_t errors)
{
    for (int64_t t = NOON - HOUR; t < NOON; t += 10 * SEC) {
        sw_sli_interval iv = {.start_ms = t,
                              .length_ms = 10 * SEC,
                              .requests = requests,
                              .errors = errors,
                              .has_data = true};
        assert_int_equal(sw_eval_add(ev, "api", env, &iv, NULL), SW_OK);
    }
}

static const sw_gate_check *
find_check(const sw_gate_result *g, const char *name)
{
    for (size_t i = 0; i < g->n_checks; i++)
        if (strcmp(g->checks[i].name, name) == 0)
            return &g->checks[i];
    return NULL;
}

/*
 * blue (production) spends 96% of its budget: 2,500 requests and 24 errors every 10 s, so the
 * hour allows 1% of 900,000 = 9,000 errors and has 8,640: 1 - 8640/9000 = 4% left. green (the
 * candidate) is clean. green's gate fails on blue's budget, naming it; the error-rate check
 * over green's own 10 minutes passes. A mark with a policy_override passes it, and a mark
 * without one takes the policy back.
 */
static void
test_gate_uses_service_budget(void **state)
{
    (void)state;
    sw_rules *rules = NULL;
    assert_int_equal(
        sw_rules_load_mem(rules_text, strlen(rules_text), "rules.yaml", &rules, NULL, NULL), SW_OK);
    assert_true(rules->gate.require_budget_remaining == 0.10);
    assert_int_equal(rules->gate.n_budget_objectives, 1);
    sw_eval *ev = NULL;
    assert_int_equal(sw_eval_new(rules, &ev, NULL), SW_OK);
    feed_hour(ev, "blue", 2500, 24);
    feed_hour(ev, "green", 2500, 0);
    assert_int_equal(sw_eval_advance(ev, NOON, NULL), SW_OK);
    double left = 1.0 - 8640.0 / (0.01 * 900000.0);

    sw_gate_result g;
    assert_int_equal(sw_eval_gate(ev, "api", "green", 0, &g, NULL), SW_OK);
    assert_int_equal(g.verdict, SW_VERDICT_FAIL);
    assert_string_equal(g.reason, "fail: error budget exhausted: 4% left of availability in blue, "
                                  "policy requires 10%");
    const sw_gate_check *c = find_check(&g, "error_budget:availability");
    assert_non_null(c);
    assert_true(fabs(c->measured - left) < 1e-12);
    assert_true(c->threshold == 0.10);
    assert_int_equal(c->verdict, SW_VERDICT_FAIL);
    assert_int_equal(find_check(&g, "error_rate")->verdict, SW_VERDICT_PASS);
    assert_string_equal(g.policy_override, "");

    sw_eval_mark_deployment_override(ev, "api", "green", NOON - 5 * MIN, "INC-123");
    assert_int_equal(sw_eval_gate(ev, "api", "green", 0, &g, NULL), SW_OK);
    assert_int_equal(g.verdict, SW_VERDICT_PASS);
    assert_string_equal(g.reason, "pass: 2 checks passed over 5m (75,000 requests); error budget "
                                  "policy overridden by INC-123");
    assert_string_equal(g.policy_override, "INC-123");
    c = find_check(&g, "error_budget:availability");
    assert_true(c->overridden);
    assert_int_equal(c->verdict, SW_VERDICT_PASS);
    /* The override is green's deployment's: blue's gate still fails. */
    assert_int_equal(sw_eval_gate(ev, "api", "blue", 0, &g, NULL), SW_OK);
    assert_int_equal(g.verdict, SW_VERDICT_FAIL);

    sw_eval_mark_deployment(ev, "api", "green", NOON - 2 * MIN);
    assert_int_equal(sw_eval_gate(ev, "api", "green", 0, &g, NULL), SW_OK);
    assert_int_equal(g.verdict, SW_VERDICT_FAIL);
    assert_string_equal(g.policy_override, "");
    sw_eval_free(ev);
    sw_rules_free(rules);
}

/* Before the hour is covered (90% of it: judgement.h) the budget has no verdict: no block. */
static void
test_gate_without_budget_verdict(void **state)
{
    (void)state;
    sw_rules *rules = NULL;
    assert_int_equal(
        sw_rules_load_mem(rules_text, strlen(rules_text), "rules.yaml", &rules, NULL, NULL), SW_OK);
    sw_eval *ev = NULL;
    assert_int_equal(sw_eval_new(rules, &ev, NULL), SW_OK);
    for (int64_t t = NOON - 10 * MIN; t < NOON; t += 10 * SEC) {
        sw_sli_interval iv = {.start_ms = t,
                              .length_ms = 10 * SEC,
                              .requests = 2500,
                              .errors = 100,
                              .has_data = true};
        assert_int_equal(sw_eval_add(ev, "api", "blue", &iv, NULL), SW_OK);
        iv.errors = 0;
        assert_int_equal(sw_eval_add(ev, "api", "green", &iv, NULL), SW_OK);
    }
    assert_int_equal(sw_eval_advance(ev, NOON, NULL), SW_OK);
    sw_gate_result g;
    assert_int_equal(sw_eval_gate(ev, "api", "green", 0, &g, NULL), SW_OK);
    assert_int_equal(g.verdict, SW_VERDICT_PASS);
    assert_string_equal(g.reason, "pass: 1 checks passed over 10m (150,000 requests); 1 error "
                                  "budget without a verdict yet, not blocking");
    assert_int_equal(find_check(&g, "error_budget:availability")->verdict, SW_VERDICT_INCONCLUSIVE);
    sw_eval_free(ev);
    sw_rules_free(rules);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lowest_with_verdict),
        cmocka_unit_test(test_no_verdict_does_not_block),
        cmocka_unit_test(test_boundary_and_override),
        cmocka_unit_test(test_overspent_reason),
        cmocka_unit_test(test_override_text),
        cmocka_unit_test(test_gate_uses_service_budget),
        cmocka_unit_test(test_gate_without_budget_verdict),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
