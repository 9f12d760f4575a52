/*
 * Unit tests for label sets and relabelling, cases worked out by hand from Prometheus'
 * relabel_config documentation: replace with $1/${1}/$$, anchoring, missing source labels,
 * empty results deleting the target label, keep, drop, labeldrop, labelkeep, bad regexes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "slawatch/relabel.h"

static void
put(sw_labelset *ls, const char *n, const char *v)
{
    assert_int_equal(sw_relabel_set(ls, n, v, NULL), SW_OK);
}

static bool
run(const sw_relabel_rule *r, size_t n, sw_labelset *ls)
{
    sw_relabel *c;
    bool keep;
    assert_int_equal(sw_relabel_new(r, n, &c, NULL), SW_OK);
    assert_int_equal(sw_relabel_apply(c, ls, &keep, NULL), SW_OK);
    sw_relabel_free(c);
    return keep;
}

static void
test_labelset_sorted(void **state)
{
    (void)state;
    sw_labelset ls = {0};
    put(&ls, "zone", "a");
    put(&ls, "app", "b");
    put(&ls, "job", "c");
    put(&ls, "app", "d");
    assert_int_equal(ls.n, 3);
    assert_string_equal(ls.l[0].name, "app");
    assert_string_equal(ls.l[0].value, "d");
    assert_string_equal(ls.l[2].name, "zone");
    sw_relabel_del(&ls, "job");
    assert_null(sw_relabel_get(&ls, "job"));
    assert_int_equal(ls.n, 2);
    sw_relabel_clear(&ls);
}

static void
test_replace(void **state)
{
    (void)state;
    static const char *const src[] = {"__address__", "port"};
    struct {
        const char *regex, *replacement, *target, *want_label, *want_value;
    } cases[] = {
        /* host:port split, ; joins the sources */
        {"([^:]+):.*;(.*)", "$1-${2}", "host", "host", "web1-9100"},
        /* anchored: "eb1" alone does not match the whole value, nothing changes */
        {"eb1", "x", "host", "host", NULL},
        /* $$ is a literal dollar; $9 of a regex with fewer groups is empty */
        {"(.*)", "$$1$9", "dollar", "dollar", "$1"},
        /* $1x names group "1x", which does not exist: empty value deletes the label */
        {"(.*)", "$1x", "port", "port", NULL},
        /* the target label expands too */
        {"([a-z]+)[0-9]:.*", "v", "lbl_$1", "lbl_web", "v"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sw_labelset ls = {0};
        put(&ls, "__address__", "web1:9100");
        put(&ls, "port", "9100");
        sw_relabel_rule r = {.action = SW_RELABEL_REPLACE, .source_labels = src,
                             .n_source_labels = 2, .regex = cases[i].regex,
                             .replacement = cases[i].replacement,
                             .target_label = cases[i].target};
        if (i == 1 || i == 2 || i == 4)
            r.n_source_labels = 1;
        assert_true(run(&r, 1, &ls));
        const char *got = sw_relabel_get(&ls, cases[i].want_label);
        if (cases[i].want_value == NULL)
            assert_true(got == NULL || i == 1);
        else
            assert_string_equal(got, cases[i].want_value);
        if (i == 1)
            assert_null(sw_relabel_get(&ls, "host"));
        sw_relabel_clear(&ls);
    }
}

static void
test_defaults_copy_value(void **state)
{
    (void)state;
    /* regex (.*), replacement $1, separator ";": a plain copy of the joined sources */
    static const char *const src[] = {"a", "missing", "b"};
    sw_relabel_rule r = {.action = SW_RELABEL_REPLACE, .source_labels = src, .n_source_labels = 3,
                         .target_label = "joined"};
    sw_labelset ls = {0};
    put(&ls, "a", "1");
    put(&ls, "b", "2");
    assert_true(run(&r, 1, &ls));
    assert_string_equal(sw_relabel_get(&ls, "joined"), "1;;2");
    sw_relabel_clear(&ls);
}

static void
test_keep_drop(void **state)
{
    (void)state;
    static const char *const src[] = {"env"};
    sw_relabel_rule keep = {.action = SW_RELABEL_KEEP, .source_labels = src,
                            .n_source_labels = 1, .regex = "prod|staging"};
    sw_relabel_rule drop = {.action = SW_RELABEL_DROP, .source_labels = src,
                            .n_source_labels = 1, .regex = "prod"};
    const char *values[] = {"prod", "staging", "production", "dev"};
    const bool kept[] = {true, true, false, false};
    const bool survived_drop[] = {false, true, true, true};
    for (size_t i = 0; i < 4; i++) {
        sw_labelset ls = {0};
        put(&ls, "env", values[i]);
        assert_int_equal(run(&keep, 1, &ls), kept[i]);
        assert_int_equal(run(&drop, 1, &ls), survived_drop[i]);
        sw_relabel_clear(&ls);
    }
}

static void
test_labeldrop_labelkeep(void **state)
{
    (void)state;
    sw_relabel_rule ld = {.action = SW_RELABEL_LABELDROP, .regex = "tmp_.*"};
    sw_relabel_rule lk = {.action = SW_RELABEL_LABELKEEP, .regex = "job|instance|__.*"};
    sw_labelset ls = {0};
    put(&ls, "tmp_a", "1");
    put(&ls, "xtmp_b", "2");
    put(&ls, "job", "j");
    put(&ls, "instance", "i");
    put(&ls, "__address__", "h:1");
    assert_true(run(&ld, 1, &ls));
    assert_null(sw_relabel_get(&ls, "tmp_a"));
    assert_string_equal(sw_relabel_get(&ls, "xtmp_b"), "2");
    assert_true(run(&lk, 1, &ls));
    assert_int_equal(ls.n, 3);
    assert_null(sw_relabel_get(&ls, "xtmp_b"));
    sw_relabel_clear(&ls);
}

static void
test_bad_rules(void **state)
{
    (void)state;
    sw_relabel *c;
    sw_err err;
    sw_relabel_rule bad_re = {.action = SW_RELABEL_KEEP, .regex = "(unclosed"};
    assert_int_equal(sw_relabel_new(&bad_re, 1, &c, &err), SW_E_PARSE);
    assert_non_null(strstr(err.msg, "(unclosed"));
    sw_relabel_rule no_target = {.action = SW_RELABEL_REPLACE};
    assert_int_equal(sw_relabel_new(&no_target, 1, &c, &err), SW_E_INVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_labelset_sorted),  cmocka_unit_test(test_replace),
        cmocka_unit_test(test_defaults_copy_value), cmocka_unit_test(test_keep_drop),
        cmocka_unit_test(test_labeldrop_labelkeep), cmocka_unit_test(test_bad_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
