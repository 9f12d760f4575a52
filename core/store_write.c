/*
 * The store's intervals: writing rows (base, imported and taken), reading one back, and the
 * rollups rollup_pending drives, with retention.
 */
#include "store_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "slawatch/hdr_codec.h"
#include "slawatch/minute_counts.h"

/* ---- intervals: writing ---- */

/* Series id of (service, env), created on first use. Within one transaction, so the id is
 * valid for it even when it was just inserted. */
sw_status
sw_store_series_id(sw_store *st, const char *service, const char *env, int64_t *ret, sw_err *err)
{
    sqlite3_stmt *add = st->stmt[S_SERIES_ADD], *get = st->stmt[S_SERIES_ID];
    sqlite3_bind_text(get, 1, service, -1, SQLITE_STATIC);
    sqlite3_bind_text(get, 2, env, -1, SQLITE_STATIC);
    bool row = false;
    sw_status r = sw_store_step(st, get, &row, "look up series", err);
    if (r != SW_OK || row) {
        if (row)
            *ret = sqlite3_column_int64(get, 0);
        sqlite3_reset(get);
        return r;
    }
    sqlite3_reset(get);
    sqlite3_bind_text(add, 1, service, -1, SQLITE_STATIC);
    sqlite3_bind_text(add, 2, env, -1, SQLITE_STATIC);
    r = sw_store_run(st, add, "add series", err);
    if (r == SW_OK)
        *ret = sqlite3_last_insert_rowid(st->db);
    return r;
}

sw_status
sw_store_mark_pending(sw_store *st, int level, int64_t sid, int64_t start_ms, sw_err *err)
{
    sqlite3_stmt *s = st->stmt[S_MARK];
    sqlite3_bind_int64(s, 1, st->res_ms[level]);
    sqlite3_bind_int64(s, 2, sid);
    sqlite3_bind_int64(s, 3, sw_store_floor_to(start_ms, st->res_ms[level]));
    return sw_store_run(st, s, "mark rollup", err);
}

/* Bind the row's latency (parameter 13): its encoding when the caller made it, else encoded
 * here. Uncompressed V2: already compact (zero runs, varints), and DEFLATE was most of the cost
 * of writes, rollups and scans. */
static sw_status
bind_latency(sw_store *st, sqlite3_stmt *s, const sw_sli_interval *iv,
             const sw_store_encoded *encoded, sw_err *err)
{
    if (iv->latency == NULL)
        return SW_OK;
    if (encoded != NULL && encoded->data != NULL) {
        sqlite3_bind_blob(s, 13, encoded->data, (int)encoded->len, SQLITE_STATIC);
        return SW_OK;
    }
    sw_buf_reset(&st->enc);
    sw_status r = sw_hdr_encode(iv->latency, false, &st->enc, err);
    if (r == SW_OK)
        sqlite3_bind_blob(s, 13, st->enc.data, (int)st->enc.len, SQLITE_STATIC);
    return r;
}

/* Write one interval at a level through put, S_IV_PUT or S_RECENT_PUT (with the minute counts
 * of an hour row, when given; its latency's encoding when the caller has it). */
static sw_status
write_row(sw_store *st, int put, int level, int64_t sid, const sw_sli_interval *iv,
          const sw_store_encoded *encoded, const sw_hour_minutes *minutes, sw_err *err)
{
    sqlite3_stmt *s = st->stmt[put];
    const int64_t v[] = {sid,
                         st->res_ms[level],
                         iv->start_ms,
                         iv->length_ms,
                         (int64_t)iv->requests,
                         (int64_t)iv->errors,
                         iv->health.probes,
                         iv->health.failures,
                         iv->health.leading_failures,
                         iv->health.trailing_failures,
                         iv->health.longest_failures,
                         iv->has_data};
    for (int i = 0; i < (int)(sizeof v / sizeof v[0]); i++)
        sqlite3_bind_int64(s, i + 1, v[i]);
    sqlite3_bind_null(s, 13);
    sw_status r = bind_latency(st, s, iv, encoded, err);
    if (r != SW_OK)
        return r;
    sqlite3_bind_null(s, 14);
    if (minutes != NULL) {
        r = sw_hour_minutes_encode(minutes, &st->min_enc, err);
        if (r != SW_OK)
            return r;
        sqlite3_bind_blob(s, 14, st->min_enc.data, (int)st->min_enc.len, SQLITE_STATIC);
    }
    return sw_store_run(st, s, "write interval", err);
}

/* write_row(), then mark the coarser period containing it. */
static sw_status
write_interval(sw_store *st, int level, int64_t sid, const sw_sli_interval *iv,
               const sw_hour_minutes *minutes, sw_err *err)
{
    sw_status r = write_row(st, S_IV_PUT, level, sid, iv, NULL, minutes, err);
    if (r == SW_OK && level + 1 < LEVELS)
        r = sw_store_mark_pending(st, level + 1, sid, iv->start_ms, err);
    return r;
}

/* A base row, in recent_rows from recent_from on (store_recent.c), its minute marked unless this
 * series' last base row marked it already. */
static sw_status
write_base_row(sw_store *st, int64_t recent_from, int64_t sid, sw_store_known *k,
               const sw_sli_interval *iv, const sw_store_encoded *encoded, sw_err *err)
{
    int put = iv->start_ms >= recent_from ? S_RECENT_PUT : S_IV_PUT;
    sw_status r = write_row(st, put, 0, sid, iv, encoded, NULL, err);
    if (r != SW_OK || (k != NULL && sw_store_cache_marked(st, k, iv->start_ms)))
        return r;
    r = sw_store_mark_pending(st, L_MINUTE, sid, iv->start_ms, err);
    if (r == SW_OK && k != NULL)
        sw_store_cache_note_mark(st, k, iv->start_ms);
    return r;
}

static sw_status
check_row(const sw_store *st, int level, const sw_store_row *row, sw_err *err)
{
    if (row->service == NULL || row->service[0] == '\0' || row->iv == NULL)
        return sw_err_set(err, SW_E_INVAL, "store row without service or interval");
    int64_t start = row->iv->start_ms;
    if (sw_store_floor_to(start, st->res_ms[level]) != start)
        return sw_err_set(err, SW_E_INVAL, "%s: start %lld ms is not a multiple of %lld ms",
                          row->service, (long long)start, (long long)st->res_ms[level]);
    if (start < st->kept_from[level])
        return sw_err_set(err, SW_E_RANGE,
                          "%s: start %lld ms is before %lld ms, where retention already removed"
                          " %lld ms rows",
                          row->service, (long long)start, (long long)st->kept_from[level],
                          (long long)st->res_ms[level]);
    return SW_OK;
}

/* latency: each row's encoding made by the caller (sw_store_put_taken_encoded), or NULL. */
static sw_status
put_rows(sw_store *st, int level, const sw_store_row *rows, const sw_store_encoded *latency,
         size_t n, sw_err *err)
{
    int64_t recent_from = INT64_MIN;
    sw_status r = level == 0 ? sw_store_cache_sync(st, err) : SW_OK;
    if (r == SW_OK && level == 0)
        r = sw_store_recent_from(st, &recent_from, err);
    for (size_t i = 0; r == SW_OK && i < n; i++) {
        int64_t sid;
        sw_store_known *k = NULL;
        r = check_row(st, level, &rows[i], err);
        if (r == SW_OK)
            r = sw_store_cache_series(st, rows[i].service, sw_store_env_or_empty(rows[i].env), &sid,
                                      &k, err);
        if (r == SW_OK)
            r = level == 0 ? write_base_row(st, recent_from, sid, k, rows[i].iv,
                                            latency != NULL ? &latency[i] : NULL, err)
                           : write_interval(st, level, sid, rows[i].iv, NULL, err);
    }
    return r;
}

static sw_status
put_level(sw_store *st, int level, const sw_store_row *rows, size_t n, sw_err *err)
{
    sw_status r = sw_store_txn_begin(st, err);
    if (r != SW_OK)
        return r;
    return sw_store_txn_end(st, put_rows(st, level, rows, NULL, n, err), err);
}

sw_status
sw_store_put(sw_store *st, const sw_store_row *rows, size_t n, sw_err *err)
{
    return put_level(st, 0, rows, n, err);
}

sw_status
sw_store_put_taken(sw_store *st, const sw_store_row *rows, size_t n, int64_t taken_until_ms,
                   sw_err *err)
{
    return sw_store_put_taken_encoded(st, rows, NULL, n, taken_until_ms, err);
}

sw_status
sw_store_put_taken_encoded(sw_store *st, const sw_store_row *rows,
                           const sw_store_encoded *latency, size_t n, int64_t taken_until_ms,
                           sw_err *err)
{
    sw_status r = sw_store_txn_begin(st, err);
    if (r != SW_OK)
        return r;
    r = put_rows(st, 0, rows, latency, n, err);
    if (r == SW_OK) {
        sqlite3_stmt *s = st->stmt[S_TAKEN_PUT];
        sqlite3_bind_int64(s, 1, taken_until_ms);
        r = sw_store_run(st, s, "record what is stored", err);
    }
    return sw_store_txn_end(st, r, err);
}

sw_status
sw_store_taken_until(sw_store *st, int64_t *ret, sw_err *err)
{
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *s = st->stmt[S_TAKEN_GET];
    bool row = false;
    sw_status r = sw_store_step(st, s, &row, "read what is stored", err);
    if (r == SW_OK) {
        *ret = row ? sqlite3_column_int64(s, 0) : INT64_MIN;
        sqlite3_reset(s);
    }
    pthread_mutex_unlock(&st->mu);
    return r;
}

sw_status
sw_store_first_unrolled_minute(sw_store *st, int64_t *ret, sw_err *err)
{
    *ret = INT64_MAX;
    if (st->res_ms[0] == SW_STORE_1M_MS)
        return SW_OK; /* base rows are minute rows: nothing waits */
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *s = st->stmt[S_PENDING_FIRST];
    sqlite3_bind_int64(s, 1, SW_STORE_1M_MS);
    bool row = false;
    sw_status r = sw_store_step(st, s, &row, "read the first minute waiting for its rollup", err);
    if (r == SW_OK) {
        if (row && sqlite3_column_type(s, 0) != SQLITE_NULL)
            *ret = sqlite3_column_int64(s, 0);
        sqlite3_reset(s);
    }
    pthread_mutex_unlock(&st->mu);
    return r;
}

sw_status
sw_store_import(sw_store *st, int64_t resolution_ms, const sw_store_row *rows, size_t n,
                sw_err *err)
{
    for (int level = 1; level < LEVELS; level++)
        if (st->res_ms[level] == resolution_ms)
            return put_level(st, level, rows, n, err);
    return sw_err_set(err, SW_E_INVAL, "%lld ms is not a rollup resolution",
                      (long long)resolution_ms);
}

/* Rows and their done mark in one transaction: a mark present means its rows are stored. */
sw_status
sw_store_import_done(sw_store *st, int64_t resolution_ms, const sw_store_row *rows, size_t n,
                     const sw_store_window_stats *stats, size_t n_stats, const char *mark,
                     sw_err *err)
{
    int level = 1;
    while (level < LEVELS && st->res_ms[level] != resolution_ms)
        level++;
    if (level == LEVELS)
        return sw_err_set(err, SW_E_INVAL, "%lld ms is not a rollup resolution",
                          (long long)resolution_ms);
    sw_status r = sw_store_txn_begin(st, err);
    if (r != SW_OK)
        return r;
    r = put_rows(st, level, rows, NULL, n, err);
    if (r == SW_OK)
        r = sw_store_put_window_stats_rows(st, stats, n_stats, err);
    if (r == SW_OK) {
        sqlite3_bind_text(st->stmt[S_DONE_PUT], 1, mark, -1, SQLITE_STATIC);
        r = sw_store_run(st, st->stmt[S_DONE_PUT], "record done mark", err);
    }
    return sw_store_txn_end(st, r, err);
}

sw_status
sw_store_is_done(sw_store *st, const char *mark, bool *ret, sw_err *err)
{
    sqlite3_stmt *s = st->stmt[S_DONE_GET];
    pthread_mutex_lock(&st->mu);
    sqlite3_bind_text(s, 1, mark, -1, SQLITE_STATIC);
    sw_status r = sw_store_step(st, s, ret, "read done mark", err);
    sqlite3_reset(s);
    pthread_mutex_unlock(&st->mu);
    return r;
}

/* ---- intervals: reading a row ---- */

/* Fill iv's counts from the current row of an IV_COLUMNS query (no histogram). */
void
sw_store_read_counts(sqlite3_stmt *s, sw_sli_interval *iv)
{
    memset(iv, 0, sizeof *iv);
    iv->start_ms = sqlite3_column_int64(s, C_START);
    iv->length_ms = sqlite3_column_int64(s, C_LENGTH);
    iv->requests = (uint64_t)sqlite3_column_int64(s, C_REQ);
    iv->errors = (uint64_t)sqlite3_column_int64(s, C_ERR);
    iv->health.probes = (uint32_t)sqlite3_column_int64(s, C_PROBES);
    iv->health.failures = (uint32_t)sqlite3_column_int64(s, C_FAIL);
    iv->health.leading_failures = (uint32_t)sqlite3_column_int64(s, C_LEAD);
    iv->health.trailing_failures = (uint32_t)sqlite3_column_int64(s, C_TRAIL);
    iv->health.longest_failures = (uint32_t)sqlite3_column_int64(s, C_LONG);
    iv->has_data = sqlite3_column_int64(s, C_HAS) != 0;
}

/* Fill iv from the current row of an IV_COLUMNS query; iv owns the decoded histogram. */
sw_status
sw_store_read_interval(sw_store *st, sqlite3_stmt *s, sw_sli_interval *iv, sw_err *err)
{
    sw_store_read_counts(s, iv);
    if (sqlite3_column_type(s, C_LAT) == SQLITE_NULL)
        return SW_OK;
    const void *blob = sqlite3_column_blob(s, C_LAT);
    size_t len = (size_t)sqlite3_column_bytes(s, C_LAT);
    sw_status r = sw_hdr_decode(blob, len, &iv->latency, err);
    if (r != SW_OK && err != NULL)
        sw_err_prefix(err, "%s: latency of the interval at %lld ms", st->path,
                      (long long)iv->start_ms);
    return r;
}

/* ---- rollups ---- */

/* acc += next, next being later in time; takes next's histogram. */
static sw_status
accumulate(sw_sli_interval *acc, sw_sli_interval *next, sw_err *err)
{
    acc->requests += next->requests;
    acc->errors += next->errors;
    acc->has_data = acc->has_data || next->has_data;
    sw_health_append(&acc->health, &next->health);
    if (next->latency == NULL)
        return SW_OK;
    if (acc->latency == NULL) {
        acc->latency = next->latency;
        next->latency = NULL;
        return SW_OK;
    }
    return sw_hdr_add_grow(&acc->latency, next->latency, err);
}

/* The counts of a 1 m row, at its place in the hour. */
void
sw_store_note_minute(sw_hour_minutes *hm, int64_t hour_start, const sw_sli_interval *iv)
{
    int64_t i = (iv->start_ms - hour_start) / SW_STORE_1M_MS;
    hm->m[i] = (sw_minute_count){.stored = true,
                                 .has_data = iv->has_data,
                                 .requests = iv->requests,
                                 .errors = iv->errors,
                                 .probes = iv->health.probes,
                                 .failures = iv->health.failures};
}

/* Merge the finer rows of one period into *acc (noting each minute in *hm when not NULL);
 * *ret_rows counts them. */
sw_status
sw_store_merge_period(sw_store *st, int level, int64_t sid, int64_t start, sw_sli_interval *acc,
                      sw_hour_minutes *hm, size_t *ret_rows, sw_err *err)
{
    sw_store_range rg;
    sw_store_range_open(st, &rg, level - 1, st->stmt[S_IV_RANGE], st->stmt[S_IV_RECENT], sid, start,
                        start + st->res_ms[level]);
    size_t rows = 0;
    bool row = false;
    sw_status r;
    while ((r = sw_store_range_step(st, &rg, &row, "read rollup input", err)) == SW_OK && row) {
        sw_sli_interval next;
        r = sw_store_read_interval(st, rg.s, &next, err);
        if (r == SW_OK && hm != NULL)
            sw_store_note_minute(hm, start, &next);
        if (r == SW_OK)
            r = accumulate(acc, &next, err);
        sw_sli_interval_fini(&next);
        if (r != SW_OK)
            break;
        rows++;
    }
    sw_store_range_reset(&rg);
    *ret_rows = rows;
    return r;
}

/* Rebuild the level row of one period from the level below (delete it when nothing is left). */
static sw_status
rebuild_period(sw_store *st, int level, int64_t sid, int64_t start, sw_err *err)
{
    sw_sli_interval acc = {.start_ms = start, .length_ms = st->res_ms[level]};
    sw_hour_minutes hm = {0};
    sw_hour_minutes *minutes = level == L_HOUR ? &hm : NULL;
    size_t rows = 0;
    sw_status r = sw_store_merge_period(st, level, sid, start, &acc, minutes, &rows, err);
    if (r == SW_OK && rows > 0 && acc.latency != NULL)
        r = sw_store_pin_period(st, level, sid, start, acc.latency, err);
    if (r == SW_OK && rows > 0)
        r = write_interval(st, level, sid, &acc, minutes, err);
    if (r == SW_OK && rows == 0) {
        sqlite3_stmt *d = st->stmt[S_IV_DEL];
        sqlite3_bind_int64(d, 1, sid);
        sqlite3_bind_int64(d, 2, st->res_ms[level]);
        sqlite3_bind_int64(d, 3, start);
        r = sw_store_run(st, d, "delete empty rollup", err);
        if (r == SW_OK && level + 1 < LEVELS)
            r = sw_store_mark_pending(st, level + 1, sid, start, err);
    }
    sw_sli_interval_fini(&acc);
    if (r == SW_OK) {
        sqlite3_stmt *u = st->stmt[S_UNMARK];
        sqlite3_bind_int64(u, 1, st->res_ms[level]);
        sqlite3_bind_int64(u, 2, sid);
        sqlite3_bind_int64(u, 3, start);
        r = sw_store_run(st, u, "clear rollup mark", err);
    }
    return r;
}

typedef struct pending {
    int64_t sid;
    int64_t start;
} pending;

/* One transaction: rebuild up to ROLLUP_CHUNK ended periods of a level; *ret_n how many. */
static sw_status
rollup_chunk(sw_store *st, int level, int64_t now_ms, size_t *ret_n, sw_err *err)
{
    pending due[ROLLUP_CHUNK];
    size_t n = 0;
    bool row = false;
    sqlite3_stmt *s = st->stmt[S_PENDING];
    sw_status r = sw_store_txn_begin(st, err);
    if (r != SW_OK)
        return r;
    sqlite3_bind_int64(s, 1, st->res_ms[level]);
    sqlite3_bind_int64(s, 2, now_ms - st->res_ms[level]);
    sqlite3_bind_int64(s, 3, ROLLUP_CHUNK);
    while ((r = sw_store_step(st, s, &row, "list rollups", err)) == SW_OK && row)
        due[n++] = (pending){sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1)};
    sqlite3_reset(s);
    for (size_t i = 0; r == SW_OK && i < n; i++)
        r = rebuild_period(st, level, due[i].sid, due[i].start, err);
    if (n > 0)
        sw_store_cache_marks_moved(st); /* the periods rebuilt are unmarked */
    r = sw_store_txn_end(st, r, err);
    if (r == SW_OK)
        *ret_n = n;
    return r;
}

/* Every series id, read under the lock into a malloc'd array. */
static sw_status
all_series_ids(sw_store *st, int64_t **ret, size_t *ret_n, sw_err *err)
{
    sqlite3_stmt *s = st->stmt[S_SERIES_ALL];
    int64_t *ids = NULL;
    size_t n = 0, cap = 0;
    bool row = false;
    sw_status r;
    while ((r = sw_store_step(st, s, &row, "list series", err)) == SW_OK && row) {
        if (n == cap) {
            cap = cap != 0 ? 2 * cap : 64;
            int64_t *grown = realloc(ids, cap * sizeof *ids);
            if (grown == NULL) {
                r = sw_err_set(err, SW_E_NOMEM, "out of memory listing series");
                break;
            }
            ids = grown;
        }
        ids[n++] = sqlite3_column_int64(s, 0);
    }
    sqlite3_reset(s);
    if (r != SW_OK) {
        free(ids);
        return r;
    }
    *ret = ids;
    *ret_n = n;
    return SW_OK;
}

static sw_status
prune_level(sw_store *st, int level, int64_t horizon, sw_err *err)
{
    int64_t *ids = NULL;
    size_t n = 0;
    sw_status r = sw_store_txn_begin(st, err);
    if (r != SW_OK)
        return r;
    r = all_series_ids(st, &ids, &n, err);
    sqlite3_stmt *p = st->stmt[S_IV_PRUNE];
    for (size_t i = 0; r == SW_OK && i < n; i++) {
        sqlite3_bind_int64(p, 1, ids[i]);
        sqlite3_bind_int64(p, 2, st->res_ms[level]);
        sqlite3_bind_int64(p, 3, horizon);
        r = sw_store_run(st, p, "apply retention", err);
        sqlite3_stmt *w = st->stmt[S_WSTATS_PRUNE];
        sqlite3_bind_int64(w, 1, ids[i]);
        sqlite3_bind_int64(w, 2, st->res_ms[level]);
        sqlite3_bind_int64(w, 3, horizon);
        if (r == SW_OK)
            r = sw_store_run(st, w, "apply retention to window statistics", err);
    }
    free(ids);
    if (r == SW_OK && level == 0)
        r = sw_store_recent_prune(st, horizon, err);
    if (r == SW_OK) {
        sqlite3_stmt *k = st->stmt[S_KEPT_SET];
        sqlite3_bind_int64(k, 1, st->res_ms[level]);
        sqlite3_bind_int64(k, 2, horizon);
        r = sw_store_run(st, k, "record retention", err);
    }
    /* The bound puts check moves once the deletion is committed, before any put can run. */
    r = sw_store_txn_finish(st, r, err);
    if (r == SW_OK)
        st->kept_from[level] = horizon;
    pthread_mutex_unlock(&st->mu);
    return r;
}

static sw_status
apply_retention(sw_store *st, int64_t now_ms, sw_err *err)
{
    for (int level = 0; level < LEVELS; level++) {
        /* Whole coarser periods only, so a period being rebuilt never lacks finer rows. */
        int64_t unit = level + 1 < LEVELS ? st->res_ms[level + 1] : SW_STORE_1D_MS;
        int64_t horizon = sw_store_floor_to(now_ms - st->keep_ms[level], unit);
        if (horizon <= st->kept_from[level])
            continue;
        sw_status r = prune_level(st, level, horizon, err);
        if (r != SW_OK)
            return r;
    }
    return SW_OK;
}

/*
 * A passive checkpoint (what no reader still needs goes from the WAL into the database) on a
 * connection of its own, opened at the first: it copies pages without the write lock, so
 * writes on the store's connection (the tick's) go on meanwhile instead of waiting for st->mu.
 */
static sw_status
checkpoint(sw_store *st, sw_err *err)
{
    pthread_mutex_lock(&st->ckpt_mu);
    int rc = SQLITE_OK;
    if (st->ckpt_db == NULL) {
        rc = sqlite3_open_v2(st->path, &st->ckpt_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                             NULL);
        /* A connection that has read nothing has not seen the WAL: it would checkpoint nothing. */
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(st->ckpt_db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
            sqlite3_close(st->ckpt_db);
            st->ckpt_db = NULL;
        }
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_wal_checkpoint_v2(st->ckpt_db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    sw_status r = SW_OK;
    if (rc != SQLITE_OK && rc != SQLITE_BUSY)
        r = sw_err_set(err, SW_E_IO, "%s: checkpoint: %s", st->path, sqlite3_errstr(rc));
    pthread_mutex_unlock(&st->ckpt_mu);
    return r;
}

static sw_status
rollup_levels(sw_store *st, int64_t now_ms, sw_err *err)
{
    for (int level = 1; level < LEVELS; level++) {
        size_t n = ROLLUP_CHUNK;
        while (n == ROLLUP_CHUNK) {
            sw_status r = rollup_chunk(st, level, now_ms, &n, err);
            if (r != SW_OK)
                return r;
        }
    }
    return apply_retention(st, now_ms, err);
}

sw_status
sw_store_rollup(sw_store *st, int64_t now_ms, sw_err *err)
{
    sw_status r = rollup_levels(st, now_ms, err);
    if (r == SW_OK)
        r = sw_store_fold(st, err);
    /* Also after a failed rollup: the WAL must not grow while rollups fail. */
    sw_status c = st->checkpoint_in_rollup ? checkpoint(st, r == SW_OK ? err : NULL) : SW_OK;
    return r != SW_OK ? r : c;
}
