/*
 * Unit tests for per-service commitments and many rules files (ruleset/rules_sections.c,
 * rules_resolve.c, rules_files.c): a service's own entry replacing an inherited one, drop,
 * profiles (extends, used from another file), cycles, a service defined twice, settings that
 * disagree, burn-rate alerts linked to the service's own list, bundles, and two services with
 * different objectives judged apart by one evaluator. Positions are counted by hand from the
 * texts below; verdicts from counts worked out here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "slawatch/eval.h"
#include "slawatch/rules.h"
#include "slawatch/shard.h"

/* The directory the files of a test are written to (removed by teardown). */
static char dir[64];

static int
setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/sw_resolve_XXXXXX");
    return mkdtemp(dir) != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Write name in the test's directory; its path goes into out. */
static void
put(const char *name, const char *text, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", dir, name);
    FILE *f = fopen(out, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Load the files; on success the rule set, otherwise NULL with every diagnostic in *lines. */
static sw_rules *
load_files(const char *const *paths, size_t n, char *lines, size_t cap)
{
    sw_rules_diag *d = sw_rules_diag_new();
    sw_rules *r = NULL;
    sw_err err = {0};
    sw_status st = sw_rules_load_files(paths, n, &r, d, &err);
    size_t used = 0;
    lines[0] = '\0';
    for (size_t i = 0; i < sw_rules_diag_count(d); i++) {
        int w = snprintf(lines + used, cap - used, "%s\n", sw_rules_diag_line(d, i));
        used += w > 0 && (size_t)w < cap - used ? (size_t)w : 0;
    }
    sw_rules_diag_free(d);
    if (st != SW_OK)
        return NULL;
    return r;
}

static sw_rules *
load_text(const char *text, char *lines, size_t cap)
{
    char path[128];
    put("one.yaml", text, path, sizeof path);
    const char *paths[] = {path};
    return load_files(paths, 1, lines, cap);
}

static const sw_objective *
objective(const sw_rules *r, const char *name)
{
    ptrdiff_t i = sw_rules_objective_index(r, name);
    return i >= 0 ? &r->objectives[i] : NULL;
}

static const sw_rules *
of(const sw_rules *r, const char *service)
{
    ptrdiff_t i = sw_rules_service_index(r, service);
    assert_true(i >= 0);
    return sw_rules_of_service(r, (size_t)i);
}

#define SLI "    sli: {requests: {push: true}, errors: {push: true}}\n"

/* Lines: 1 version, 2 objectives, 3-4 availability, 5-6 p99, 7 services, 8 api, 9 sli,
 * 10 batch, 11 sli, 12 objectives, 13-14 its availability, 15 drop. */
static const char *const replace_drop =
    "version: 1\n"
    "objectives:\n"
    "  - name: availability\n"
    "    objective: availability >= 99.9%\n"
    "  - name: latency_p99\n"
    "    objective: p99 <= 300ms\n"
    "services:\n"
    "  - name: api\n" SLI "  - name: batch\n" SLI "    objectives:\n"
    "      - name: availability\n"
    "        objective: availability >= 99%\n"
    "    drop: [latency_p99]\n";

static void
test_plain_service_keeps_the_top_level(void **state)
{
    (void)state;
    char lines[4096];
    sw_rules *r = load_text(replace_drop, lines, sizeof lines);
    assert_non_null(r);
    const sw_rules *api = of(r, "api");
    assert_int_equal(api->n_objectives, 2);
    assert_float_equal(objective(api, "availability")->objective.value, 0.999, 1e-12);
    assert_int_equal(api->explain->objectives[1].kind, SW_ORIGIN_TOP);
    assert_int_equal(api->explain->objectives[1].pos.line, 5);
    assert_int_equal(api->n_services, 1);
    assert_string_equal(api->services[0].name, "api");
    sw_rules_free(r);
}

static void
test_own_entry_replaces_and_drop_removes(void **state)
{
    (void)state;
    char lines[4096];
    sw_rules *r = load_text(replace_drop, lines, sizeof lines);
    assert_non_null(r);
    const sw_rules *batch = of(r, "batch");
    assert_int_equal(batch->n_objectives, 1);
    const sw_objective *a = objective(batch, "availability");
    assert_non_null(a);
    assert_float_equal(a->objective.value, 0.99, 1e-12);
    assert_null(objective(batch, "latency_p99"));
    assert_int_equal(batch->explain->objectives[0].kind, SW_ORIGIN_SERVICE);
    assert_int_equal(batch->explain->objectives[0].pos.line, 13);
    assert_int_equal(batch->explain->objectives[0].pos.col, 9);
    /* The top level itself is unchanged. */
    assert_float_equal(objective(r, "availability")->objective.value, 0.999, 1e-12);
    sw_rules_free(r);
}

static void
test_drop_of_nothing_is_an_error(void **state)
{
    (void)state;
    char lines[4096];
    sw_rules *r = load_text("version: 1\n"
                            "services:\n"
                            "  - name: api\n" SLI "    drop: [ghost]\n",
                            lines, sizeof lines);
    assert_null(r);
    /* `ghost` on line 5: "    drop: [" is 11 characters. */
    assert_non_null(strstr(lines, "one.yaml:5:12: error: expected the name of an inherited "
                                  "objective, alert or rollback trigger in drop, found 'ghost'"));
}

static void
test_profile_from_another_file_and_extends(void **state)
{
    (void)state;
    char base[128], team[128], lines[4096];
    /* Lines: 1 version, 2 profiles, 3 tier1, 4 objectives, 5-6 availability, 7-8 p99,
     * 9 strict, 10 extends, 11 objectives, 12-13 p99 again. */
    put("base.yaml",
        "version: 1\n"
        "profiles:\n"
        "  tier1:\n"
        "    objectives:\n"
        "      - name: availability\n"
        "        objective: availability >= 99.95%\n"
        "      - name: latency_p99\n"
        "        objective: p99 <= 300ms\n"
        "  strict:\n"
        "    extends: tier1\n"
        "    objectives:\n"
        "      - name: latency_p99\n"
        "        objective: p99 <= 200ms\n",
        base, sizeof base);
    put("team.yaml",
        "version: 1\n"
        "services:\n"
        "  - name: checkout\n" SLI "    profile: strict\n"
        "  - name: search\n" SLI "    profile: tier1\n",
        team, sizeof team);
    const char *paths[] = {base, team};
    sw_rules *r = load_files(paths, 2, lines, sizeof lines);
    assert_non_null(r);
    const sw_rules *c = of(r, "checkout");
    assert_int_equal(c->n_objectives, 2);
    assert_float_equal(objective(c, "latency_p99")->objective.value, 200000, 1e-9);
    assert_float_equal(objective(c, "availability")->objective.value, 0.9995, 1e-12);
    ptrdiff_t p99 = sw_rules_objective_index(c, "latency_p99");
    assert_int_equal(c->explain->objectives[p99].kind, SW_ORIGIN_PROFILE);
    assert_string_equal(c->explain->objectives[p99].profile, "strict");
    assert_string_equal(c->explain->objectives[p99].pos.file, base);
    assert_int_equal(c->explain->objectives[p99].pos.line, 12);
    assert_int_equal(c->explain->n_profiles, 2);
    assert_string_equal(c->explain->profiles[0], "tier1");
    assert_string_equal(c->explain->profiles[1], "strict");
    assert_float_equal(objective(of(r, "search"), "latency_p99")->objective.value, 300000, 1e-9);
    sw_rules_free(r);
}

static void
test_profile_cycle_and_unknown_profile(void **state)
{
    (void)state;
    char lines[4096];
    sw_rules *r = load_text("version: 1\n"
                            "profiles:\n"
                            "  a: {extends: b}\n"
                            "  b: {extends: a}\n"
                            "services:\n"
                            "  - name: api\n" SLI "    profile: nope\n",
                            lines, sizeof lines);
    assert_null(r);
    /* The edge closing the cycle is b's `a` (line 4, column 16). */
    assert_non_null(strstr(lines, "one.yaml:4:16: error: profiles extend one another in a cycle"));
    r = load_text("version: 1\n"
                  "services:\n"
                  "  - name: api\n" SLI "    profile: nope\n",
                  lines, sizeof lines);
    assert_null(r);
    assert_non_null(
        strstr(lines, "one.yaml:5:14: error: unknown profile 'nope' for service 'api'"));
}

static void
test_service_in_two_files_names_both(void **state)
{
    (void)state;
    char a[128], b[128], lines[4096], want[512];
    put("a.yaml", "version: 1\nservices:\n  - name: api\n" SLI, a, sizeof a);
    put("b.yaml", "version: 1\nservices:\n  - name: web\n" SLI "  - name: api\n" SLI, b, sizeof b);
    const char *paths[] = {a, b};
    assert_null(load_files(paths, 2, lines, sizeof lines));
    snprintf(want, sizeof want, "%s:5:5: error: service 'api' is defined twice: here and at %s:3:5",
             b, a);
    assert_non_null(strstr(lines, want));
}

static void
test_settings_must_agree(void **state)
{
    (void)state;
    char a[128], b[128], c[128], lines[4096], want[512];
    put("a.yaml", "version: 1\nbase_interval: 15s\nservices:\n  - name: api\n" SLI, a, sizeof a);
    put("b.yaml", "version: 1\nservices:\n  - name: web\n" SLI, b, sizeof b);
    const char *ok[] = {a, b};
    sw_rules *r = load_files(ok, 2, lines, sizeof lines);
    assert_non_null(r);
    assert_int_equal(of(r, "web")->base_interval_ms, 15000);
    sw_rules_free(r);
    put("c.yaml", "version: 1\nbase_interval: 30s\nservices:\n  - name: db\n" SLI, c, sizeof c);
    const char *bad[] = {a, b, c};
    assert_null(load_files(bad, 3, lines, sizeof lines));
    snprintf(want, sizeof want, "%s:2:16: error: base_interval differs from the one set at %s:2:16",
             c, a);
    assert_non_null(strstr(lines, want));
}

static void
test_burn_alert_follows_the_service_list(void **state)
{
    (void)state;
    char lines[4096];
    /* The profile's burn-rate alert names `availability`, which is the service's second
     * objective (its own p95 comes first). */
    sw_rules *r =
        load_text("version: 1\n"
                  "profiles:\n"
                  "  paging:\n"
                  "    objectives:\n"
                  "      - {name: availability, objective: availability >= 99%}\n"
                  "    alerts:\n"
                  "      - {name: Burn, burn_rate: 10, objective: availability, long: 1h, "
                  "short: 5m}\n"
                  "services:\n"
                  "  - name: api\n" SLI "    objectives:\n"
                  "      - {name: fast, objective: p95 <= 100ms}\n"
                  "    profile: paging\n",
                  lines, sizeof lines);
    assert_non_null(r);
    const sw_rules *api = of(r, "api");
    assert_int_equal(api->n_alerts, 1);
    assert_string_equal(api->objectives[api->alerts[0].objective].name, "availability");
    sw_rules_free(r);
    /* 1 / (1 - 99%) = 100 is unreachable for the service's own 99.5 %: 1 / 0.005 = 200 is
     * fine, so use a service target of 95 %: 1 / 0.05 = 20 < 30. */
    r = load_text(
        "version: 1\n"
        "profiles:\n"
        "  paging:\n"
        "    alerts:\n"
        "      - {name: Burn, burn_rate: 30, objective: availability, long: 1h, short: 5m}\n"
        "services:\n"
        "  - name: api\n" SLI "    profile: paging\n"
        "    objectives:\n"
        "      - {name: availability, objective: availability >= 95%}\n",
        lines, sizeof lines);
    assert_null(r);
    assert_non_null(strstr(lines, "one.yaml:5:9: error: expected a burn rate below 20"));
}

static void
test_bundle_loads_as_its_files(void **state)
{
    (void)state;
    char a[128], b[128];
    put("a.yaml", "version: 1\nservices:\n  - name: api\n" SLI, a, sizeof a);
    put("b.yaml",
        "version: 1\nobjectives:\n  - {name: up, objective: availability >= 99%}\n"
        "services:\n  - name: web\n" SLI,
        b, sizeof b);
    const char *paths[] = {a, b};
    sw_buf text;
    sw_buf_init(&text, SW_RULES_MAX_BUNDLE);
    assert_int_equal(sw_rules_bundle_files(paths, 2, &text, NULL), SW_OK);
    sw_rules *r = NULL;
    assert_int_equal(sw_rules_load_mem((const char *)text.data, text.len, "x", &r, NULL, NULL),
                     SW_OK);
    assert_int_equal(r->n_services, 2);
    assert_string_equal(r->services[1].pos.file, b);
    assert_int_equal(of(r, "api")->n_objectives, 0); /* b's top level is b's own */
    assert_int_equal(of(r, "web")->n_objectives, 1);
    sw_rules_free(r);
    sw_buf_fini(&text);
}

static void
test_expand_sorts_and_refuses_empty_patterns(void **state)
{
    (void)state;
    char p[128], pattern[160];
    put("b.yaml", "x", p, sizeof p);
    put("a.yaml", "x", p, sizeof p);
    put("c.txt", "x", p, sizeof p);
    snprintf(pattern, sizeof pattern, "%s/*.yaml", dir);
    const char *patterns[] = {pattern};
    char **paths = NULL;
    size_t n = 0;
    assert_int_equal(sw_rules_expand_paths(patterns, 1, &paths, &n, NULL), SW_OK);
    assert_int_equal(n, 2);
    assert_non_null(strstr(paths[0], "/a.yaml"));
    assert_non_null(strstr(paths[1], "/b.yaml"));
    sw_rules_paths_free(paths, n);
    snprintf(pattern, sizeof pattern, "%s/*.json", dir);
    sw_err err = {0};
    assert_int_equal(sw_rules_expand_paths(patterns, 1, &paths, &n, &err), SW_E_IO);
    assert_non_null(strstr(err.msg, "matches no file"));
}

/* A shard keeps some services, moved within the array: each resolved set follows its own. */
static void
test_shard_keeps_each_service_with_its_own_set(void **state)
{
    (void)state;
    char lines[8192], text[8192];
    size_t used = (size_t)snprintf(text, sizeof text, "version: 1\nservices:\n");
    for (int i = 0; i < 20; i++)
        used += (size_t)snprintf(text + used, sizeof text - used,
                                 "  - name: s%d\n" SLI "    objectives:\n"
                                 "      - {name: availability, objective: availability >= %d%%}\n",
                                 i, 80 + i);
    sw_rules *r = load_text(text, lines, sizeof lines);
    assert_non_null(r);
    sw_shard shard = {.index = 1, .count = 3};
    sw_shard_rules(r, &shard);
    assert_true(r->n_services > 0 && r->n_services < 20);
    for (size_t i = 0; i < r->n_services; i++) {
        const sw_rules *own = sw_rules_of_service(r, i);
        int k = atoi(r->services[i].name + 1);
        assert_ptr_equal(own->services, &r->services[i]);
        assert_float_equal(own->objectives[0].objective.value, (80 + k) / 100.0, 1e-12);
        assert_int_equal(sw_shard_of(r->services[i].name, 3), 1);
    }
    sw_rules_free(r);
}

/* One interval of 1000 requests with 5 errors: availability 99.5 %. */
static void
feed(sw_eval *ev, const char *service, int64_t start_ms)
{
    sw_sli_interval iv = {
        .start_ms = start_ms, .length_ms = 10000, .has_data = true, .requests = 1000, .errors = 5};
    assert_int_equal(sw_eval_add(ev, service, NULL, &iv, NULL), SW_OK);
}

static void
test_evaluator_judges_each_service_by_its_own(void **state)
{
    (void)state;
    char lines[4096];
    sw_rules *r =
        load_text("version: 1\n"
                  "objectives:\n"
                  "  - {name: availability, objective: availability >= 99.95%, window: 1h}\n"
                  "services:\n"
                  "  - name: checkout\n" SLI "  - name: importer\n" SLI "    objectives:\n"
                  "      - {name: availability, objective: availability >= 99%, window: 1h}\n",
                  lines, sizeof lines);
    assert_non_null(r);
    sw_eval *ev = NULL;
    assert_int_equal(sw_eval_new(r, &ev, NULL), SW_OK);
    int64_t t0 = INT64_C(1767225600000); /* 2026-01-01T00:00:00Z */
    for (int64_t t = t0; t < t0 + 3600000; t += 10000) {
        feed(ev, "checkout", t);
        feed(ev, "importer", t);
    }
    assert_int_equal(sw_eval_advance(ev, t0 + 3600000, NULL), SW_OK);
    for (size_t i = 0; i < sw_eval_series_count(ev); i++) {
        sw_series_result s;
        sw_eval_series(ev, i, &s);
        assert_int_equal(s.rules->n_objectives, 1);
        const sw_objective_result *o = &s.objectives[0];
        assert_true(o->has_verdict);
        assert_float_equal(o->measured, 0.995, 1e-12);
        bool checkout = strcmp(s.service, "checkout") == 0;
        assert_float_equal(o->target, checkout ? 0.9995 : 0.99, 1e-12);
        /* 0.995 < 0.9995 (checkout misses), 0.995 >= 0.99 (importer meets). */
        assert_int_equal(o->met, !checkout);
    }
    sw_eval_free(ev);
    sw_rules_free(r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_plain_service_keeps_the_top_level, setup, teardown),
        cmocka_unit_test_setup_teardown(test_own_entry_replaces_and_drop_removes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drop_of_nothing_is_an_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_profile_from_another_file_and_extends, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_profile_cycle_and_unknown_profile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_service_in_two_files_names_both, setup, teardown),
        cmocka_unit_test_setup_teardown(test_settings_must_agree, setup, teardown),
        cmocka_unit_test_setup_teardown(test_burn_alert_follows_the_service_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bundle_loads_as_its_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expand_sorts_and_refuses_empty_patterns, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_evaluator_judges_each_service_by_its_own, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_shard_keeps_each_service_with_its_own_set, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
