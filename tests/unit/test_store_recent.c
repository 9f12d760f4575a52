/*
 * Unit tests for core/store_recent: a tick's base rows are appended to a table keyed by time and
 * folded into the series-ordered one by the rollup. What a tick writes must follow its rows'
 * bytes, not one page per series (observed from the WAL file's growth), and every reader must
 * see each row written exactly once, with its last value, before, across and after the folds,
 * and in a store written before the migration. Expected rows are the ones the tests wrote.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "slawatch/buf.h"
#include "slawatch/hdr.h"
#include "slawatch/hdr_codec.h"
#include "slawatch/rng.h"
#include "slawatch/store.h"
#include "store_v4.h"
#include "store_dir.h"

#define SEC INT64_C(1000)
#define BASE (10 * SEC)
#define MIN (60 * SEC)
#define DAY (24 * 60 * MIN)
#define T0 (INT64_C(1700000000000) / DAY * DAY) /* a UTC midnight */
#define N_SERIES 3
#define SLOTS 48 /* eight minutes of base rows */
#define WAL_FRAME (4096 + 24)

typedef struct fixture {
    char dir[64];
    sw_store *st;
} fixture;

static int
setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    strcpy(f->dir, "/tmp/sw-store-recent-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture *f = *state;
    sw_store_close(f->st);
    store_dir_remove(f->dir);
    free(f);
    return 0;
}

static sw_store *
open_store(fixture *f, bool checkpoint_in_rollup)
{
    sw_store_close(f->st);
    f->st = NULL;
    sw_store_options so = {.checkpoint_in_rollup = checkpoint_in_rollup};
    sw_err err = {0};
    if (sw_store_open(f->dir, &so, &f->st, &err) != SW_OK)
        fail_msg("open: %s", err.msg);
    return f->st;
}

/* ---- what was written: requests of each series' row at each slot, 0 for none ---- */

typedef struct expect {
    uint64_t req[N_SERIES][SLOTS];
} expect;

/* A row's histogram holds requests % 13 + 1 values: its count tells a row's latency apart. */
static int64_t
latency_count(uint64_t requests)
{
    return (int64_t)(requests % 13 + 1);
}

static void
put_row(sw_store *st, expect *e, int series, int slot, uint64_t requests)
{
    char name[16];
    snprintf(name, sizeof name, "svc%d", series);
    sw_sli_interval iv = {
        .start_ms = T0 + slot * BASE, .length_ms = BASE, .requests = requests, .has_data = true};
    sw_err err = {0};
    assert_int_equal(sw_hdr_new(&sw_hdr_latency_config, &iv.latency, &err), SW_OK);
    for (int64_t v = 0; v < latency_count(requests); v++)
        sw_hdr_record(iv.latency, 1000 + 97 * v);
    sw_store_row row = {name, "green", &iv};
    if (sw_store_put_taken(st, &row, 1, iv.start_ms + BASE, &err) != SW_OK)
        fail_msg("put: %s", err.msg);
    sw_sli_interval_fini(&iv);
    e->req[series][slot] = requests;
}

/* Slots [from, to) of every series, a gap in each series' rows every seventh slot. */
static void
put_slots(sw_store *st, expect *e, int from, int to)
{
    for (int k = from; k < to; k++)
        for (int i = 0; i < N_SERIES; i++)
            if ((k + i) % 7 != 3)
                put_row(st, e, i, k, (uint64_t)(100 * i + k + 1));
}

static void
rollup(sw_store *st, int64_t now_ms)
{
    sw_err err = {0};
    if (sw_store_rollup(st, now_ms, &err) != SW_OK)
        fail_msg("rollup: %s", err.msg);
}

/* ---- what the readers see ---- */

typedef struct seen {
    uint64_t req[N_SERIES][SLOTS];
    int times[N_SERIES][SLOTS];
    bool latency_wrong;
    int64_t from; /* rows before it are a reader's mistake */
} seen;

static void
note(seen *s, const char *service, int64_t start_ms, uint64_t requests)
{
    int i = atoi(service + 3);
    int64_t k = (start_ms - T0) / BASE;
    assert_true(i >= 0 && i < N_SERIES);
    assert_true(start_ms >= s->from && k < SLOTS && (start_ms - T0) % BASE == 0);
    s->req[i][k] = requests;
    s->times[i][k]++;
}

static sw_status
visit(void *ctx, const char *service, const char *env, const sw_sli_interval *iv, sw_err *err)
{
    (void)env;
    (void)err;
    seen *s = ctx;
    if (iv->latency == NULL || sw_hdr_total_count(iv->latency) != latency_count(iv->requests))
        s->latency_wrong = true;
    note(s, service, iv->start_ms, iv->requests);
    return SW_OK;
}

static sw_status
visit_encoded(void *ctx, const char *service, const char *env, const sw_sli_interval *iv,
              const uint8_t *latency, size_t len, sw_err *err)
{
    (void)env;
    (void)err;
    seen *s = ctx;
    sw_hdr *h = NULL;
    if (latency == NULL || sw_hdr_decode(latency, len, &h, err) != SW_OK ||
        sw_hdr_total_count(h) != latency_count(iv->requests))
        s->latency_wrong = true;
    sw_hdr_free(h);
    note(s, service, iv->start_ms, iv->requests);
    return SW_OK;
}

/* Each row written from slot `from` on seen once with its last value, nothing else. */
static void
assert_seen(const seen *s, const expect *e, int from, const char *reader)
{
    for (int i = 0; i < N_SERIES; i++)
        for (int k = 0; k < SLOTS; k++) {
            uint64_t want = k >= from ? e->req[i][k] : 0;
            if (s->req[i][k] != want || s->times[i][k] != (want != 0))
                fail_msg("%s: svc%d slot %d: %llu seen %d times, want %llu", reader, i, k,
                         (unsigned long long)s->req[i][k], s->times[i][k],
                         (unsigned long long)want);
        }
    if (s->latency_wrong)
        fail_msg("%s: a row's latency is not its own", reader);
}

/* The rows as the integration tests read them: SQL over the intervals view. */
static void
assert_view(const fixture *f, const expect *e)
{
    char path[160];
    snprintf(path, sizeof path, "%s/slawatch.db", f->dir);
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT s.service, i.start_ms, i.requests FROM intervals i"
                                        " JOIN series s ON s.id = i.series_id"
                                        " WHERE i.resolution_ms = 10000",
                                        -1, &q, NULL),
                     SQLITE_OK);
    seen s = {.from = T0};
    while (sqlite3_step(q) == SQLITE_ROW)
        note(&s, (const char *)sqlite3_column_text(q, 0), sqlite3_column_int64(q, 1),
             (uint64_t)sqlite3_column_int64(q, 2));
    sqlite3_finalize(q);
    sqlite3_close(db);
    assert_seen(&s, e, 0, "the intervals view");
}

/* Every reader of base rows: by level, the multi-resolution scans (from a start within a base
 * interval too), the encoded scan, the view. */
static void
assert_readers(const fixture *f, const expect *e)
{
    sw_store *st = f->st;
    const int64_t end = T0 + SLOTS * BASE;
    sw_err err = {0};
    seen s = {.from = T0};
    assert_int_equal(sw_store_scan_level(st, NULL, BASE, T0, end, true, visit, &s, &err), SW_OK);
    assert_seen(&s, e, 0, "sw_store_scan_level");
    s = (seen){.from = T0};
    assert_int_equal(sw_store_scan(st, NULL, T0, end, T0, visit, &s, &err), SW_OK);
    assert_seen(&s, e, 0, "sw_store_scan");
    s = (seen){.from = T0 + 15 * SEC};
    assert_int_equal(sw_store_scan(st, NULL, T0 + 15 * SEC, end, T0, visit, &s, &err), SW_OK);
    assert_seen(&s, e, 2, "sw_store_scan from within a base interval");
    s = (seen){.from = T0};
    assert_int_equal(
        sw_store_scan_encoded(st, NULL, T0, end, T0, INT64_MAX, visit_encoded, &s, &err), SW_OK);
    assert_seen(&s, e, 0, "sw_store_scan_encoded");
    assert_view(f, e);
}

static sw_status
visit_minute(void *ctx, const char *service, const char *env, const sw_sli_interval *iv,
             sw_err *err)
{
    (void)env;
    (void)err;
    uint64_t(*sums)[SLOTS / 6] = ctx;
    int64_t m = (iv->start_ms - T0) / MIN;
    assert_true(m >= 0 && m < SLOTS / 6);
    assert_int_equal(sw_hdr_total_count(iv->latency) > 0, 1);
    sums[atoi(service + 3)][m] += iv->requests;
    return SW_OK;
}

/* The 1 m rows of minutes [0, minutes): each the sum of the base rows written in it. */
static void
assert_minutes(sw_store *st, const expect *e, int minutes)
{
    uint64_t sums[N_SERIES][SLOTS / 6] = {{0}};
    sw_err err = {0};
    assert_int_equal(
        sw_store_scan_level(st, NULL, MIN, T0, T0 + minutes * MIN, true, visit_minute, sums, &err),
        SW_OK);
    for (int i = 0; i < N_SERIES; i++)
        for (int m = 0; m < minutes; m++) {
            uint64_t want = 0;
            for (int k = 6 * m; k < 6 * m + 6; k++)
                want += e->req[i][k];
            assert_int_equal(sums[i][m], want);
        }
}

/* ---- tests ---- */

static void
test_readers_see_each_row_once_across_folds(void **state)
{
    fixture *f = *state;
    sw_store *st = open_store(f, true);
    expect e = {0};
    put_slots(st, &e, 0, 30);
    assert_readers(f, &e);    /* every row still recent */
    rollup(st, T0 + 5 * MIN); /* folds minutes 0-2: those a minute older than the newest row */
    assert_readers(f, &e);
    assert_minutes(st, &e, 5);

    /* Rewritten rows replace theirs, folded (slot 7) or recent (26); a late row fills a gap of a
     * folded minute (slot 3 of svc0). */
    put_row(st, &e, 0, 7, 7000);
    put_row(st, &e, 1, 26, 2600);
    put_row(st, &e, 0, 3, 300);
    assert_readers(f, &e);
    rollup(st, T0 + 5 * MIN);
    assert_minutes(st, &e, 5);

    put_slots(st, &e, 30, SLOTS);
    rollup(st, T0 + 8 * MIN);
    assert_readers(f, &e);
    assert_minutes(st, &e, 8);

    /* Reopened: the same rows from the file. */
    st = open_store(f, true);
    assert_readers(f, &e);
}

static void
test_store_of_schema_4_reads_the_same(void **state)
{
    fixture *f = *state;
    sw_store *st = open_store(f, false);
    expect e = {0};
    put_slots(st, &e, 0, 30);
    rollup(st, T0 + 5 * MIN);
    sw_store_close(f->st);
    f->st = NULL;

    /* The file as slawatch wrote it before the recent rows: every row in the intervals table. */
    assert_int_equal(
        store_file_exec(f->dir, UNDO_RECENT_ROWS "UPDATE schema_version SET version = 4;"),
        SQLITE_OK);

    st = open_store(f, false);
    assert_int_equal(sw_store_schema_version(st), 5);
    assert_readers(f, &e);
    assert_minutes(st, &e, 5);
    /* A row the old table holds is replaced there; newer ones go to the recent rows. */
    put_row(st, &e, 1, 29, 2900);
    put_slots(st, &e, 30, SLOTS);
    assert_readers(f, &e);
    rollup(st, T0 + 8 * MIN);
    assert_readers(f, &e);
    assert_minutes(st, &e, 8);
}

static int64_t
wal_size(const fixture *f)
{
    char path[160];
    struct stat sb;
    snprintf(path, sizeof path, "%s/slawatch.db-wal", f->dir);
    return stat(path, &sb) == 0 ? (int64_t)sb.st_size : 0;
}

#define PAGE_SERIES 200
#define HISTORY_MINUTES 300 /* each series' rows more than a page of the series-ordered index */

/* Each series' history: 1 m rows before T0, so every series' run in the series-ordered index
 * spans a page or more, as in a store a few hours old. */
static void
import_history(sw_store *st, char (*names)[16])
{
    static sw_sli_interval ivs[PAGE_SERIES];
    static sw_store_row rows[PAGE_SERIES];
    sw_err err = {0};
    for (int m = 0; m < HISTORY_MINUTES; m++) {
        for (int i = 0; i < PAGE_SERIES; i++) {
            ivs[i] = (sw_sli_interval){.start_ms = T0 - (HISTORY_MINUTES - m) * MIN,
                                       .length_ms = MIN,
                                       .requests = 60,
                                       .has_data = true};
            rows[i] = (sw_store_row){names[i], "green", &ivs[i]};
        }
        if (sw_store_import(st, MIN, rows, PAGE_SERIES, &err) != SW_OK)
            fail_msg("import: %s", err.msg);
    }
}

/* One tick of PAGE_SERIES rows of 40 log-normal latencies; *ret_bytes the rows' bytes (their
 * latency encodings and 14 integers each). */
static void
put_tick(sw_store *st, char (*names)[16], sw_rng *rng, int64_t start, int64_t *ret_bytes)
{
    static sw_sli_interval ivs[PAGE_SERIES];
    static sw_store_row rows[PAGE_SERIES];
    sw_buf enc;
    sw_buf_init(&enc, 1 << 20);
    sw_err err = {0};
    *ret_bytes = 0;
    for (int i = 0; i < PAGE_SERIES; i++) {
        ivs[i] = (sw_sli_interval){
            .start_ms = start, .length_ms = BASE, .requests = 40, .has_data = true};
        assert_int_equal(sw_hdr_new(&sw_hdr_latency_config, &ivs[i].latency, &err), SW_OK);
        for (int v = 0; v < 40; v++)
            sw_hdr_record(ivs[i].latency, sw_rng_lognormal_us(rng, 80000.0, 0.5));
        sw_buf_reset(&enc);
        assert_int_equal(sw_hdr_encode(ivs[i].latency, false, &enc, &err), SW_OK);
        *ret_bytes += (int64_t)enc.len + 14 * 8;
        rows[i] = (sw_store_row){names[i], "green", &ivs[i]};
    }
    if (sw_store_put_taken(st, rows, PAGE_SERIES, start + BASE, &err) != SW_OK)
        fail_msg("put: %s", err.msg);
    for (int i = 0; i < PAGE_SERIES; i++)
        sw_sli_interval_fini(&ivs[i]);
    sw_buf_fini(&enc);
}

static sw_status
count_rows(void *ctx, const char *service, const char *env, const sw_sli_interval *iv, sw_err *err)
{
    (void)service;
    (void)env;
    (void)iv;
    (void)err;
    (*(int *)ctx)++;
    return SW_OK;
}

static void
test_tick_writes_its_rows_bytes_not_a_page_per_series(void **state)
{
    fixture *f = *state;
    /* As serve opens it: only the rollup checkpoints, so the WAL grows by what each commit
     * writes (no rollup runs here). */
    sw_store *st = open_store(f, true);
    static char names[PAGE_SERIES][16];
    for (int i = 0; i < PAGE_SERIES; i++)
        snprintf(names[i], sizeof names[i], "svc%03d", i);
    import_history(st, names);
    sw_rng rng = {11};
    int64_t bytes = 0;
    for (int k = 0; k < 3; k++) {
        int64_t before = wal_size(f);
        put_tick(st, names, &rng, T0 + k * BASE, &bytes);
        int64_t frames = (wal_size(f) - before) / WAL_FRAME;
        /* Twice the rows' pages (table and index, pages not full), and a few for the meta row,
         * the minute's rollup marks and the b-trees' upper levels. */
        int64_t bound = 2 * (bytes / 4096 + 1) + 12;
        if (frames > bound)
            fail_msg("tick %d of %d series (%lld bytes of rows) wrote %lld pages, over %lld", k,
                     PAGE_SERIES, (long long)bytes, (long long)frames, (long long)bound);
    }
    /* The rows are all there. */
    sw_err err = {0};
    int rows = 0;
    assert_int_equal(
        sw_store_scan_level(st, NULL, BASE, T0, T0 + 3 * BASE, false, count_rows, &rows, &err),
        SW_OK);
    assert_int_equal(rows, 3 * PAGE_SERIES);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_readers_see_each_row_once_across_folds, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store_of_schema_4_reads_the_same, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tick_writes_its_rows_bytes_not_a_page_per_series,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
