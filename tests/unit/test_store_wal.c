/*
 * Unit tests for the store's WAL checkpoints: by default the commit that fills the WAL copies it
 * into the database; with checkpoint_in_rollup (serve's store) only sw_store_rollup does, so the
 * tick's writes never wait for one. Observed from the files' sizes: the database file grows only
 * when pages are checkpointed into it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "slawatch/rng.h"
#include "slawatch/store.h"
#include "store_dir.h"

#define BASE_MS INT64_C(10000)
#define T0 INT64_C(1796601600000) /* 2026-12-07T00:00:00Z */
#define SERIES 200
#define TICKS 40 /* about 6 MB of rows: past SQLite's 1,000-page automatic checkpoint */

static int64_t
size_of(const char *dir, const char *name)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct stat sb;
    return stat(path, &sb) == 0 ? (int64_t)sb.st_size : -1;
}

/* TICKS ticks of SERIES rows of 250 log-normal latencies, as serve's tick writes them. */
static void
write_ticks(sw_store *st)
{
    static sw_sli_interval ivs[SERIES];
    static sw_store_row rows[SERIES];
    static char names[SERIES][16];
    sw_rng rng = {5};
    for (int k = 0; k < TICKS; k++) {
        for (int s = 0; s < SERIES; s++) {
            snprintf(names[s], sizeof names[s], "svc%03d", s);
            ivs[s] = (sw_sli_interval){.start_ms = T0 + k * BASE_MS,
                                       .length_ms = BASE_MS,
                                       .requests = 250,
                                       .has_data = true};
            assert_int_equal(sw_hdr_new(&sw_hdr_latency_config, &ivs[s].latency, NULL), SW_OK);
            for (int v = 0; v < 250; v++)
                sw_hdr_record(ivs[s].latency, sw_rng_lognormal_us(&rng, 80000.0, 0.5));
            rows[s] = (sw_store_row){names[s], "green", &ivs[s]};
        }
        sw_err err = {0};
        if (sw_store_put_taken(st, rows, SERIES, T0 + (k + 1) * BASE_MS, &err) != SW_OK)
            fail_msg("put: %s", err.msg);
        for (int s = 0; s < SERIES; s++)
            sw_sli_interval_fini(&ivs[s]);
    }
}

static sw_status
count_rows(void *ctx, const char *service, const char *env, const sw_sli_interval *iv, sw_err *err)
{
    (void)service, (void)env, (void)iv, (void)err;
    ++*(size_t *)ctx;
    return SW_OK;
}

/* One run: the database file's size after the writes and after a rollup; every row readable. */
static void
run(bool in_rollup, int64_t *ret_after_writes, int64_t *ret_after_rollup, int64_t *ret_wal)
{
    char dir[] = "/tmp/sw-store-wal-XXXXXX";
    assert_non_null(mkdtemp(dir));
    sw_store_options so = {.checkpoint_in_rollup = in_rollup};
    sw_store *st = NULL;
    sw_err err = {0};
    if (sw_store_open(dir, &so, &st, &err) != SW_OK)
        fail_msg("open: %s", err.msg);
    write_ticks(st);
    *ret_after_writes = size_of(dir, "slawatch.db");
    *ret_wal = size_of(dir, "slawatch.db-wal");
    if (sw_store_rollup(st, T0 + TICKS * BASE_MS, &err) != SW_OK)
        fail_msg("rollup: %s", err.msg);
    *ret_after_rollup = size_of(dir, "slawatch.db");
    size_t rows = 0;
    if (sw_store_scan(st, "svc007", T0, T0 + TICKS * BASE_MS, T0, count_rows, &rows, &err) != SW_OK)
        fail_msg("scan: %s", err.msg);
    assert_int_equal(rows, TICKS);
    sw_store_close(st);
    store_dir_remove(dir);
}

static void
test_checkpoints_wait_for_the_rollup(void **state)
{
    (void)state;
    int64_t db_writes, db_rollup, wal;
    run(false, &db_writes, &db_rollup, &wal);
    assert_true(db_writes > 2 * 1024 * 1024); /* the commits checkpointed as the WAL filled */
    run(true, &db_writes, &db_rollup, &wal);
    assert_true(wal > 4 * 1024 * 1024);       /* everything still in the WAL */
    assert_true(db_writes < 512 * 1024);      /* nothing copied by the writes */
    assert_true(db_rollup > 4 * 1024 * 1024); /* the rollup's checkpoint copied it */
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checkpoints_wait_for_the_rollup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
