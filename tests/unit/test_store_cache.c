/*
 * Unit tests for core/store_cache: the series ids and rollup marks the store's writes remember
 * between transactions must never leave a minute unrolled or a row under another series' id.
 * Each test opens its store in a fresh mkdtemp directory; the expected minute rows are summed
 * here from the rows written, and read back through scans.
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

#define SEC INT64_C(1000)
#define MIN (60 * SEC)
#define DAY (24 * 60 * MIN)
#define T0 (INT64_C(1700000000000) / DAY * DAY) /* a UTC midnight */

typedef struct fixture {
    char dir[64];
} fixture;

static int
setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    strcpy(f->dir, "/tmp/sw-store-cache-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture *f = *state;
    store_dir_remove(f->dir);
    free(f);
    return 0;
}

static sw_store *
open_store(const fixture *f)
{
    sw_store *st = NULL;
    sw_err err = {0};
    if (sw_store_open(f->dir, NULL, &st, &err) != SW_OK)
        fail_msg("open: %s", err.msg);
    return st;
}

/* A 10 s row of `requests` requests (no histogram: the counts tell the rows apart). */
static sw_sli_interval
row_at(int64_t start_ms, uint64_t requests)
{
    return (sw_sli_interval){
        .start_ms = start_ms, .length_ms = 10 * SEC, .requests = requests, .has_data = true};
}

static void
put_taken(sw_store *st, const char *service, const sw_sli_interval *iv)
{
    sw_err err = {0};
    sw_store_row row = {service, "green", iv};
    if (sw_store_put_taken(st, &row, 1, iv->start_ms + iv->length_ms, &err) != SW_OK)
        fail_msg("put: %s", err.msg);
}

static void
rollup(sw_store *st, int64_t now_ms)
{
    sw_err err = {0};
    if (sw_store_rollup(st, now_ms, &err) != SW_OK)
        fail_msg("rollup: %s", err.msg);
}

typedef struct counted {
    size_t rows;
    uint64_t requests;
    int64_t length_ms;
} counted;

static sw_status
count(void *ctx, const char *service, const char *env, const sw_sli_interval *iv, sw_err *err)
{
    (void)service, (void)env, (void)err;
    counted *c = ctx;
    c->rows++;
    c->requests += iv->requests;
    c->length_ms = iv->length_ms;
    return SW_OK;
}

/* What a scan of [from, to) hands out, coarse rows only when fine is false. */
static counted
scan(sw_store *st, const char *service, int64_t from, int64_t to, bool fine)
{
    counted c = {0};
    sw_err err = {0};
    if (sw_store_scan(st, service, from, to, fine ? from : to, count, &c, &err) != SW_OK)
        fail_msg("scan: %s", err.msg);
    return c;
}

/* The minute [m, m + 1 min) as its 1 m row says it: one row, that many requests. */
static void
assert_minute_row(sw_store *st, int64_t m, uint64_t requests)
{
    counted c = scan(st, "api", m, m + MIN, false);
    assert_int_equal(c.rows, 1);
    assert_int_equal(c.length_ms, MIN);
    assert_int_equal(c.requests, requests);
}

/*
 * A minute's base rows marked once, the minute rolled up, then a row of it delivered again
 * with other counts: the minute is marked again and re-rolled, by this connection's rollup and
 * by another connection's (a second process on the same store), for every row of the minute.
 */
static void
test_rows_after_a_rollup_mark_again(void **state)
{
    fixture *f = *state;
    sw_store *st = open_store(f), *other = open_store(f);
    for (int round = 0; round < 4; round++) {
        int64_t m = T0 + round * MIN;
        uint64_t sum = 0;
        for (int i = 0; i < 6; i++) {
            sw_sli_interval iv = row_at(m + i * 10 * SEC, 100 + (uint64_t)i);
            put_taken(st, "api", &iv);
            sum += iv.requests;
        }
        sw_store *roller = round % 2 == 0 ? st : other;
        rollup(roller, m + 2 * MIN);
        assert_minute_row(st, m, sum);
        for (int i = 0; i < 6; i++) { /* each row again, one rollup after each */
            sw_sli_interval again = row_at(m + i * 10 * SEC, 1000 + (uint64_t)i);
            put_taken(st, "api", &again);
            sum += again.requests - (100 + (uint64_t)i);
            rollup(roller, m + 2 * MIN);
            assert_minute_row(st, m, sum);
        }
    }
    sw_store_close(other);
    sw_store_close(st);
}

/*
 * A transaction that added a series and then failed is rolled back: the series' id is gone
 * and the next series added may get it. The first series written again gets an id of its own:
 * its row is its own and the other's is the other's.
 */
static void
test_rollback_forgets_new_series(void **state)
{
    fixture *f = *state;
    sw_store *st = open_store(f);
    sw_sli_interval fresh = row_at(T0, 7), bad = row_at(T0 + 3 * SEC, 9); /* not on 10 s */
    sw_store_row rows[] = {{"fresh", "green", &fresh}, {"fresh", "blue", &bad}};
    sw_err err = {0};
    assert_int_equal(sw_store_put_taken(st, rows, 2, T0 + 10 * SEC, &err), SW_E_INVAL);
    assert_int_equal(scan(st, "fresh", T0, T0 + MIN, true).rows, 0);
    sw_sli_interval first = row_at(T0, 11);
    put_taken(st, "other", &first); /* added now: may take the id rolled back */
    put_taken(st, "fresh", &fresh);
    counted c = scan(st, "fresh", T0, T0 + MIN, true);
    assert_int_equal(c.rows, 1);
    assert_int_equal(c.requests, 7);
    c = scan(st, "other", T0, T0 + MIN, true);
    assert_int_equal(c.rows, 1);
    assert_int_equal(c.requests, 11);
    sw_store_close(st);
}

/* Many series, rows interleaved across ticks as a daemon writes them, reopened in between:
 * every minute of every series rolls up to the sum of its rows. */
static void
test_many_series_across_reopen(void **state)
{
    fixture *f = *state;
    enum { SERIES = 300, TICKS = 18 };
    sw_store *st = open_store(f);
    static sw_sli_interval ivs[SERIES];
    static sw_store_row rows[SERIES];
    static char names[SERIES][16];
    for (int s = 0; s < SERIES; s++)
        snprintf(names[s], sizeof names[s], "svc%03d", s);
    for (int t = 0; t < TICKS; t++) {
        for (int s = 0; s < SERIES; s++) {
            int named = (s * 7 + t) % SERIES; /* a different order every tick */
            ivs[s] = row_at(T0 + t * 10 * SEC, (uint64_t)(named * 100 + t));
            rows[s] = (sw_store_row){names[named], "green", &ivs[s]};
        }
        sw_err err = {0};
        if (sw_store_put_taken(st, rows, SERIES, T0 + (t + 1) * 10 * SEC, &err) != SW_OK)
            fail_msg("put: %s", err.msg);
        if (t == 8) { /* a restart: the new connection knows nothing yet */
            sw_store_close(st);
            st = open_store(f);
        }
        if (t % 5 == 4)
            rollup(st, T0 + (t + 1) * 10 * SEC);
    }
    rollup(st, T0 + 5 * MIN);
    for (int s = 0; s < SERIES; s++)
        for (int m = 0; m < TICKS / 6; m++) {
            uint64_t want = 0;
            for (int t = m * 6; t < m * 6 + 6; t++)
                want += (uint64_t)(s * 100 + t);
            counted c = scan(st, names[s], T0 + m * MIN, T0 + (m + 1) * MIN, false);
            assert_int_equal(c.rows, 1);
            assert_int_equal(c.requests, want);
        }
    sw_store_close(st);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rows_after_a_rollup_mark_again, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_forgets_new_series, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_series_across_reopen, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
