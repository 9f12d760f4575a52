/*
 * Unit tests for target discovery: file_sd files in JSON and YAML, errors with file:line:col,
 * re-reading a rewritten file, a broken rewrite keeping the previous targets, and the label
 * pipeline (job, instance, __scheme__/__metrics_path__ overrides, relabel drops), with expected
 * targets written out by hand from Prometheus' scrape_config documentation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "slawatch/targets.h"

typedef struct fixture {
    char dir[64];
    char path[96];
    size_t warnings;
    char last_warning[SW_ERR_MSG_MAX];
} fixture;

static int
setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/sw_targets_XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->path, sizeof f->path, "%s/sd.json", f->dir);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture *f = *state;
    unlink(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

static void
write_file(const char *path, const char *text)
{
    /* A new file renamed over the old: a new inode, as config management tools write. */
    char tmp[128];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *fp = fopen(tmp, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    assert_int_equal(rename(tmp, path), 0);
}

static void
warn(void *ctx, const sw_err *e)
{
    fixture *f = ctx;
    f->warnings++;
    snprintf(f->last_warning, sizeof f->last_warning, "%s", e->msg);
}

static void
test_file_json_and_yaml(void **state)
{
    fixture *f = *state;
    write_file(f->path, "[{\"targets\": [\"a:1\", \"b:2\"], \"labels\": {\"env\": \"prod\"}},\n"
                        " {\"targets\": [\"c:3\"]}]\n");
    sw_targets_file *tf;
    assert_int_equal(sw_targets_file_load(f->path, &tf, NULL), SW_OK);
    size_t n;
    const sw_target_group *g = sw_targets_file_groups(tf, &n);
    assert_int_equal(n, 2);
    assert_int_equal(g[0].n_targets, 2);
    assert_string_equal(g[0].targets[1], "b:2");
    assert_int_equal(g[0].n_labels, 1);
    assert_string_equal(g[0].labels[0].value, "prod");
    assert_int_equal(g[1].n_labels, 0);
    sw_targets_file_free(tf);

    write_file(f->path, "- targets: [x:9]\n  labels:\n    team: a\n");
    assert_int_equal(sw_targets_file_load(f->path, &tf, NULL), SW_OK);
    g = sw_targets_file_groups(tf, &n);
    assert_int_equal(n, 1);
    assert_string_equal(g[0].targets[0], "x:9");
    sw_targets_file_free(tf);
}

static void
test_file_errors(void **state)
{
    fixture *f = *state;
    struct {
        const char *text, *where;
    } cases[] = {
        {"[{\"targets\": \"a:1\"}]", ":1:14: expected a list"},
        {"- targets: [a:1]\n  labels: [x]\n", ":2:11: expected a mapping of labels"},
        {"- targets: [a:1]\n  tagets: [b:2]\n", ":2:3: unknown key tagets"},
        {"{\"targets\": []}", ":1:1: expected a list of target groups"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_file(f->path, cases[i].text);
        sw_targets_file *tf;
        sw_err err;
        assert_int_equal(sw_targets_file_load(f->path, &tf, &err), SW_E_PARSE);
        if (strstr(err.msg, cases[i].where) == NULL)
            fail_msg("case %zu: %s lacks %s", i, err.msg, cases[i].where);
    }
}

static size_t
count_targets(const sw_targets_sd *sd)
{
    sw_target_group *g;
    size_t n, total = 0;
    assert_int_equal(sw_targets_sd_groups(sd, &g, &n, NULL), SW_OK);
    for (size_t i = 0; i < n; i++)
        total += g[i].n_targets;
    free(g);
    return total;
}

static void
test_watch_rewrite_and_bad_file(void **state)
{
    fixture *f = *state;
    write_file(f->path, "[{\"targets\": [\"a:1\"]}]");
    const char *paths[] = {f->path};
    sw_targets_sd *sd;
    bool changed;
    assert_int_equal(sw_targets_sd_new(paths, 1, &sd, NULL), SW_OK);
    sw_targets_sd_refresh(sd, &changed, warn, f);
    assert_true(changed);
    assert_int_equal(count_targets(sd), 1);
    sw_targets_sd_refresh(sd, &changed, warn, f);
    assert_false(changed); /* same inode, size, mtime */

    write_file(f->path, "[{\"targets\": [\"a:1\", \"b:2\"]}]");
    sw_targets_sd_refresh(sd, &changed, warn, f);
    assert_true(changed);
    assert_int_equal(count_targets(sd), 2);

    write_file(f->path, "[{\"targets\": [\"a:1\"");
    sw_targets_sd_refresh(sd, &changed, warn, f);
    assert_false(changed);
    assert_int_equal(f->warnings, 1);
    assert_non_null(strstr(f->last_warning, "keeping the previous targets"));
    assert_int_equal(count_targets(sd), 2);
    sw_targets_sd_refresh(sd, &changed, warn, f);
    assert_int_equal(f->warnings, 1); /* reported once, not each refresh */
    sw_targets_sd_free(sd);
}

static void
test_build(void **state)
{
    fixture *f = *state;
    const char *ts1[] = {"a:1", "b:2", "a:1"};
    const sw_targets_label l1[] = {{"env", "prod"}};
    const char *ts2[] = {"c:3"};
    const sw_targets_label l2[] = {{"__scheme__", "https"},
                                   {"__metrics_path__", "/m"},
                                   {"instance", "named"}};
    sw_target_group groups[] = {{ts1, 3, l1, 1, NULL}, {ts2, 1, l2, 3, "/x/sd.json"}};
    static const char *const src[] = {"__address__"};
    sw_relabel_rule rules[] = {{.action = SW_RELABEL_DROP, .source_labels = src,
                                .n_source_labels = 1, .regex = "b:.*"}};
    sw_relabel *rl;
    assert_int_equal(sw_relabel_new(rules, 1, &rl, NULL), SW_OK);
    sw_targets_job job = {"node", "http", "/metrics", rl};
    sw_target *t;
    size_t n;
    assert_int_equal(sw_targets_build(&job, groups, 2, warn, f, &t, &n, NULL), SW_OK);
    assert_int_equal(n, 2); /* b dropped, the second a:1 a duplicate */
    assert_string_equal(t[0].url, "http://a:1/metrics");
    assert_int_equal(t[0].labels.n, 3);
    assert_string_equal(sw_relabel_get(&t[0].labels, "job"), "node");
    assert_string_equal(sw_relabel_get(&t[0].labels, "instance"), "a:1");
    assert_string_equal(sw_relabel_get(&t[0].labels, "env"), "prod");
    assert_string_equal(t[1].url, "https://c:3/m");
    assert_string_equal(sw_relabel_get(&t[1].labels, "instance"), "named");
    assert_null(sw_relabel_get(&t[1].labels, "__meta_filepath"));
    assert_int_equal(f->warnings, 0);
    sw_targets_free(t, n);
    sw_relabel_free(rl);
}

/* Credentials in an address reach the scrape URL, never the instance label. */
static void
test_instance_without_credentials(void **state)
{
    fixture *f = *state;
    const char *ts[] = {"scraper:p@ss@node:9100"};
    sw_target_group groups[] = {{ts, 1, NULL, 0, NULL}};
    sw_targets_job job = {"node", "http", "/metrics", NULL};
    sw_target *t;
    size_t n;
    assert_int_equal(sw_targets_build(&job, groups, 1, warn, f, &t, &n, NULL), SW_OK);
    assert_int_equal(n, 1);
    assert_string_equal(t[0].url, "http://scraper:p@ss@node:9100/metrics");
    assert_string_equal(sw_relabel_get(&t[0].labels, "instance"), "node:9100");
    sw_targets_free(t, n);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_file_json_and_yaml, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watch_rewrite_and_bad_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_build, setup, teardown),
        cmocka_unit_test_setup_teardown(test_instance_without_credentials, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
