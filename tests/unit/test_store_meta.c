/*
 * Unit tests for core/store_meta: a value written is read back after the store is closed and
 * opened again (committed), the first writer wins with keep_existing, a later put replaces
 * otherwise, the store's own keys are refused, and a key never written is not found.
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

#include "slawatch/store.h"
#include "store_dir.h"

static char dir[64];

static sw_store *
open_store(void)
{
    sw_store *st = NULL;
    sw_err err = {0};
    assert_int_equal(sw_store_open(dir, NULL, &st, &err), SW_OK);
    return st;
}

static int64_t
get(sw_store *st, const char *key, bool *found)
{
    int64_t v = -1;
    sw_err err = {0};
    assert_int_equal(sw_store_meta_get(st, key, &v, found, &err), SW_OK);
    return v;
}

static void
test_put_get(void **state)
{
    (void)state;
    sw_store *st = open_store();
    bool found = true;
    get(st, "report_sent:email:2026-10", &found);
    assert_false(found);
    sw_err err = {0};
    assert_int_equal(sw_store_meta_put(st, "report_sent:email:2026-10", 17, false, &err), SW_OK);
    assert_int_equal(sw_store_meta_put(st, "report_first:email", 5, true, &err), SW_OK);
    assert_int_equal(sw_store_meta_put(st, "report_first:email", 9, true, &err), SW_OK);
    sw_store_close(st);
    st = open_store();
    assert_int_equal(get(st, "report_sent:email:2026-10", &found), 17);
    assert_true(found);
    assert_int_equal(get(st, "report_first:email", &found), 5); /* the first writer's */
    assert_int_equal(sw_store_meta_put(st, "report_sent:email:2026-10", 18, false, &err), SW_OK);
    assert_int_equal(get(st, "report_sent:email:2026-10", &found), 18);
    sw_store_close(st);
}

static void
test_own_keys_refused(void **state)
{
    (void)state;
    sw_store *st = open_store();
    sw_err err = {0};
    assert_int_equal(sw_store_meta_put(st, "taken_until_ms", 1, false, &err), SW_E_INVAL);
    assert_int_equal(sw_store_meta_put(st, "done:chunk", 1, false, &err), SW_E_INVAL);
    int64_t taken = 0;
    assert_int_equal(sw_store_taken_until(st, &taken, &err), SW_OK);
    assert_int_equal(taken, INT64_MIN); /* untouched */
    sw_store_close(st);
}

static int
setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/sw-store-meta-XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    store_dir_remove(dir);
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_own_keys_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
