/*
 * The SQLite store (the only module that knows SQLite). One connection, guarded by st->mu, with
 * every statement prepared once at open. Rollups are driven by rollup_pending: writing a row marks
 * the coarser period it falls in; sw_store_rollup() rebuilds marked periods that have ended, in
 * the same transaction that clears their marks, so kill -9 at any point leaves either the old or
 * the new state. Retention deletes whole coarser periods and refuses later writes below them.
 *
 * This file holds the schema and its migrations, opening and closing, and the helpers the
 * store's files share (store_int.h); writes and rollups are in store_write.c, scans in
 * store_scan.c, the rules history, audits, deployments and events in store_records.c.
 */
#include "store_int.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "slawatch/buf.h"
#include "slawatch/hdr_codec.h"
#include "slawatch/minute_counts.h"

/* Migration N (1-based) is migrations[N - 1]; append new ones, never edit applied ones. */
static const char *const migrations[] = {
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE series(id INTEGER PRIMARY KEY, service TEXT NOT NULL, env TEXT NOT NULL,"
    " UNIQUE(service, env));"
    "CREATE TABLE intervals(series_id INTEGER NOT NULL, resolution_ms INTEGER NOT NULL,"
    " start_ms INTEGER NOT NULL, length_ms INTEGER NOT NULL, requests INTEGER NOT NULL,"
    " errors INTEGER NOT NULL, probes INTEGER NOT NULL, failures INTEGER NOT NULL,"
    " leading_failures INTEGER NOT NULL, trailing_failures INTEGER NOT NULL,"
    " longest_failures INTEGER NOT NULL, has_data INTEGER NOT NULL, latency BLOB,"
    " PRIMARY KEY(series_id, resolution_ms, start_ms));"
    "CREATE TABLE rollup_pending(resolution_ms INTEGER NOT NULL, series_id INTEGER NOT NULL,"
    " start_ms INTEGER NOT NULL, PRIMARY KEY(resolution_ms, series_id, start_ms)) WITHOUT ROWID;"
    "CREATE TABLE retention(resolution_ms INTEGER PRIMARY KEY, kept_from_ms INTEGER NOT NULL);"
    "CREATE TABLE rules(since_ms INTEGER PRIMARY KEY, text BLOB NOT NULL);"
    "CREATE TABLE gate_audits(id INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, who TEXT NOT NULL,"
    " service TEXT NOT NULL, env TEXT NOT NULL, window_ms INTEGER NOT NULL,"
    " verdict TEXT NOT NULL, checks TEXT NOT NULL);"
    "CREATE INDEX gate_audits_at ON gate_audits(at_ms);"
    "CREATE TABLE deployments(service TEXT NOT NULL, env TEXT NOT NULL, at_ms INTEGER NOT NULL,"
    " who TEXT NOT NULL, PRIMARY KEY(service, env, at_ms)) WITHOUT ROWID;"
    "CREATE TABLE events(id INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL,"
    " kind TEXT NOT NULL CHECK(kind IN ('alert', 'trigger')), name TEXT NOT NULL,"
    " service TEXT NOT NULL, env TEXT NOT NULL,"
    " state TEXT NOT NULL CHECK(state IN ('firing', 'resolved')), value REAL);"
    "CREATE INDEX events_at ON events(at_ms);",
    /* 2: the per-minute counts of an hour, on its 1 h row (minute_counts.h). */
    "ALTER TABLE intervals ADD COLUMN minutes BLOB;",
    /* 3: a deployment's policy_override (the gate's error-budget policy), NULL when none. */
    "ALTER TABLE deployments ADD COLUMN policy_override TEXT;",
    /* 4: a window's own statistics from its source (store_pin.c), pinning its rollup row. */
    "CREATE TABLE window_stats(series_id INTEGER NOT NULL, resolution_ms INTEGER NOT NULL,"
    " start_ms INTEGER NOT NULL, stats BLOB NOT NULL,"
    " PRIMARY KEY(series_id, resolution_ms, start_ms)) WITHOUT ROWID;",
    /*
     * 5: the base rows of the last minutes in a table of their own, keyed by time (store_recent.c:
     * a tick's rows are appended there instead of dirtying one index page per series) and folded
     * into the series-major one by the rollup. The view keeps the name every reader of the file
     * knows. The rows already stored stay where they are: the recent ones start after them.
     */
    "ALTER TABLE intervals RENAME TO series_rows;"
    "CREATE TABLE recent_rows(series_id INTEGER NOT NULL, resolution_ms INTEGER NOT NULL,"
    " start_ms INTEGER NOT NULL, length_ms INTEGER NOT NULL, requests INTEGER NOT NULL,"
    " errors INTEGER NOT NULL, probes INTEGER NOT NULL, failures INTEGER NOT NULL,"
    " leading_failures INTEGER NOT NULL, trailing_failures INTEGER NOT NULL,"
    " longest_failures INTEGER NOT NULL, has_data INTEGER NOT NULL, latency BLOB, minutes BLOB,"
    " PRIMARY KEY(start_ms, series_id));"
    "CREATE VIEW intervals AS SELECT " ALL_IV_COLUMNS " FROM series_rows"
    " UNION ALL SELECT " ALL_IV_COLUMNS " FROM recent_rows;"
    "INSERT INTO meta SELECT 'recent_from_ms', m FROM (SELECT MAX((SELECT MAX(i.start_ms) + 1"
    " FROM series_rows i WHERE i.series_id = s.id AND i.resolution_ms ="
    " (SELECT value FROM meta WHERE key = 'base_interval_ms'))) AS m FROM series s)"
    " WHERE m IS NOT NULL;",
};
#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

static const char *const stmt_sql[] = {
#define STMT_SQL(name, sql) [name] = sql,
    STMT_LIST(STMT_SQL)
#undef STMT_SQL
};

static sw_status
db_err(sw_store *st, int rc, const char *what, sw_err *err)
{
    const char *why = "";
    if (rc == SQLITE_FULL)
        why = " (disk full)";
    else if (rc == SQLITE_READONLY)
        why = " (read-only)";
    return sw_err_set(err, SW_E_IO, "%s: %s: %s%s", st->path, what, sqlite3_errmsg(st->db), why);
}

/* Run a statement that returns no row (or ignore its row) and reset it for reuse. */
sw_status
sw_store_run(sw_store *st, sqlite3_stmt *s, const char *what, sw_err *err)
{
    int rc = sqlite3_step(s);
    sw_status r = SW_OK;
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        r = db_err(st, rc, what, err);
    sqlite3_reset(s);
    return r;
}

/* Step a query: SW_OK with *ret_row telling whether a row is there. */
sw_status
sw_store_step(sw_store *st, sqlite3_stmt *s, bool *ret_row, const char *what, sw_err *err)
{
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
        *ret_row = rc == SQLITE_ROW;
        return SW_OK;
    }
    sw_status r = db_err(st, rc, what, err);
    sqlite3_reset(s);
    return r;
}

int64_t
sw_store_floor_to(int64_t v, int64_t period)
{
    int64_t r = v % period;
    return r < 0 ? v - r - period : v - r;
}

const char *
sw_store_env_or_empty(const char *env)
{
    return env != NULL ? env : "";
}

const char *
sw_store_env_or_null(const char *env)
{
    return env != NULL && env[0] != '\0' ? env : NULL;
}

const char *
sw_store_col_text(sqlite3_stmt *s, int col)
{
    const unsigned char *t = sqlite3_column_text(s, col);
    return t != NULL ? (const char *)t : "";
}

/* Lock and BEGIN IMMEDIATE (taking the write lock now, so a transaction never fails midway on
 * another process's lock). On failure the mutex is released. */
sw_status
sw_store_txn_begin(sw_store *st, sw_err *err)
{
    pthread_mutex_lock(&st->mu);
    sw_status r = sw_store_run(st, st->stmt[S_BEGIN], "begin", err);
    if (r != SW_OK)
        pthread_mutex_unlock(&st->mu);
    return r;
}

/* Commit when r is SW_OK, else (or when the commit fails) roll back; the mutex stays held. */
sw_status
sw_store_txn_finish(sw_store *st, sw_status r, sw_err *err)
{
    if (r == SW_OK)
        r = sw_store_run(st, st->stmt[S_COMMIT], "commit", err);
    if (r != SW_OK && !sqlite3_get_autocommit(st->db))
        (void)sw_store_run(st, st->stmt[S_ROLLBACK], "rollback", NULL);
    if (r != SW_OK) /* what the transaction added may be gone */
        sw_store_cache_rolled_back(st);
    return r;
}

/* sw_store_txn_finish(), then unlock. */
sw_status
sw_store_txn_end(sw_store *st, sw_status r, sw_err *err)
{
    r = sw_store_txn_finish(st, r, err);
    pthread_mutex_unlock(&st->mu);
    return r;
}

/* ---- opening: options, directory, connection, migrations ---- */

static sw_status
apply_options(sw_store *st, const sw_store_options *opt, sw_err *err)
{
    static const sw_store_options none = {0};
    const sw_store_options *o = opt != NULL ? opt : &none;
    int64_t base = o->base_interval_ms != 0 ? o->base_interval_ms : DEFAULT_BASE_MS;
    if (base <= 0 || SW_STORE_1M_MS % base != 0)
        return sw_err_set(err, SW_E_INVAL, "base interval %lld ms does not divide a minute",
                          (long long)base);
    const int64_t res[LEVELS] = {base, SW_STORE_1M_MS, SW_STORE_1H_MS, SW_STORE_1D_MS};
    const int64_t given[LEVELS] = {o->retention_base_ms, o->retention_1m_ms, o->retention_1h_ms,
                                   o->retention_1d_ms};
    const int64_t dflt[LEVELS] = {DEFAULT_KEEP_BASE_MS, DEFAULT_KEEP_1M_MS, DEFAULT_KEEP_1H_MS,
                                  DEFAULT_KEEP_1D_MS};
    for (int i = 0; i < LEVELS; i++) {
        int64_t keep = given[i] != 0 ? given[i] : dflt[i];
        int64_t floor = i + 1 < LEVELS ? res[i + 1] : SW_STORE_1D_MS;
        if (keep < floor)
            return sw_err_set(err, SW_E_INVAL,
                              "retention of %lld ms rows is %lld ms, below the %lld ms minimum",
                              (long long)res[i], (long long)keep, (long long)floor);
        st->res_ms[i] = res[i];
        st->keep_ms[i] = keep;
        st->kept_from[i] = INT64_MIN;
    }
    return SW_OK;
}

static sw_status
make_dir(const char *dir, sw_err *err)
{
    struct stat sb;
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return sw_err_sys(err, SW_E_IO, "%s: cannot create the store directory", dir);
    if (stat(dir, &sb) != 0)
        return sw_err_sys(err, SW_E_IO, "%s", dir);
    if (!S_ISDIR(sb.st_mode))
        return sw_err_set(err, SW_E_IO, "%s: not a directory", dir);
    return SW_OK;
}

/*
 * A database file of zero bytes is one that lost its contents (truncated, or restored from a
 * broken copy): SQLite would quietly start a new, empty store over it. A new store has no file
 * at all until it is opened.
 */
static sw_status
check_not_emptied(const char *path, sw_err *err)
{
    struct stat sb;
    if (stat(path, &sb) != 0 || sb.st_size > 0)
        return SW_OK;
    return sw_err_set(err, SW_E_IO,
                      "%s: the database file is empty (0 bytes): it lost its contents; restore it "
                      "from a backup, or remove it to start a new store",
                      path);
}

static sw_status
exec_sql(sw_store *st, const char *sql, const char *what, sw_err *err)
{
    int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? SW_OK : db_err(st, rc, what, err);
}

/* Read one integer from a one-row query; *ret untouched when there is no row. */
static sw_status
query_int(sw_store *st, const char *sql, int64_t *ret, bool *ret_found, sw_err *err)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
    if (rc != SQLITE_OK)
        return db_err(st, rc, sql, err);
    rc = sqlite3_step(s);
    *ret_found = rc == SQLITE_ROW;
    if (rc == SQLITE_ROW)
        *ret = sqlite3_column_int64(s, 0);
    sw_status r = rc == SQLITE_ROW || rc == SQLITE_DONE ? SW_OK : db_err(st, rc, sql, err);
    sqlite3_finalize(s);
    return r;
}

/* Apply migration `index` (0-based) unless the recorded version is already past it. Reading the
 * version under the write lock keeps two processes opening at once from applying it twice. */
static sw_status
migrate_one(sw_store *st, int index, sw_err *err)
{
    char sql[96];
    int64_t version = 0;
    bool found = false;
    sw_status r = exec_sql(st, "BEGIN IMMEDIATE", "begin migration", err);
    if (r != SW_OK)
        return r;
    r = exec_sql(st, "CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL)",
                 "create schema_version", err);
    if (r == SW_OK)
        r = query_int(st, "SELECT MAX(version) FROM schema_version", &version, &found, err);
    if (r == SW_OK && version > SCHEMA_VERSION)
        r = sw_err_set(err, SW_E_UNSUPPORTED,
                       "%s: schema version %lld is newer than this build's %d", st->path,
                       (long long)version, SCHEMA_VERSION);
    if (r == SW_OK && version <= index) {
        r = exec_sql(st, migrations[index], "migration", err);
        snprintf(sql, sizeof sql,
                 "DELETE FROM schema_version; INSERT INTO schema_version VALUES(%d)", index + 1);
        if (r == SW_OK)
            r = exec_sql(st, sql, "record schema version", err);
    }
    if (r == SW_OK)
        return exec_sql(st, "COMMIT", "commit migration", err);
    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    if (err != NULL && r == SW_E_IO)
        sw_err_prefix(err, "migration %d", index + 1);
    return r;
}

static sw_status
migrate(sw_store *st, sw_err *err)
{
    for (int i = 0; i < SCHEMA_VERSION; i++) {
        sw_status r = migrate_one(st, i, err);
        if (r != SW_OK)
            return r;
    }
    st->schema_version = SCHEMA_VERSION;
    return SW_OK;
}

/*
 * The base interval is fixed when the database is created: rows and rollups depend on it. A
 * reader that gave none (given false) takes the recorded one.
 */
static sw_status
check_base_interval(sw_store *st, bool given, sw_err *err)
{
    char sql[96];
    int64_t stored = 0;
    bool found = false;
    sw_status r = query_int(st, "SELECT value FROM meta WHERE key = 'base_interval_ms'", &stored,
                            &found, err);
    if (r != SW_OK)
        return r;
    if (!found) {
        snprintf(sql, sizeof sql, "INSERT INTO meta VALUES('base_interval_ms', %lld)",
                 (long long)st->res_ms[0]);
        return exec_sql(st, sql, "record base interval", err);
    }
    if (!given && stored > 0 && SW_STORE_1M_MS % stored == 0)
        st->res_ms[0] = stored;
    if (stored != st->res_ms[0])
        return sw_err_set(err, SW_E_INVAL, "%s: created with a %lld ms base interval, not %lld ms",
                          st->path, (long long)stored, (long long)st->res_ms[0]);
    return SW_OK;
}

static sw_status
prepare_all(sw_store *st, sw_err *err)
{
    for (int i = 0; i < STMT_COUNT; i++) {
        int rc = sqlite3_prepare_v3(st->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                                    &st->stmt[i], NULL);
        if (rc != SQLITE_OK)
            return db_err(st, rc, "prepare", err);
    }
    return SW_OK;
}

static sw_status
load_kept_from(sw_store *st, sw_err *err)
{
    sqlite3_stmt *s = st->stmt[S_KEPT_GET];
    for (int i = 0; i < LEVELS; i++) {
        bool row = false;
        sqlite3_bind_int64(s, 1, st->res_ms[i]);
        sw_status r = sw_store_step(st, s, &row, "read retention", err);
        if (r != SW_OK)
            return r;
        if (row)
            st->kept_from[i] = sqlite3_column_int64(s, 0);
        sqlite3_reset(s);
    }
    return SW_OK;
}

/* SQLite keeps the old journal mode when it cannot create the -wal file: check the answer. */
static sw_status
set_wal(sw_store *st, sw_err *err)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(st->db, "PRAGMA journal_mode=WAL", -1, &s, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(s);
    sw_status r = SW_OK;
    if (rc != SQLITE_ROW)
        r = db_err(st, rc, "set WAL mode", err);
    else if (strcmp(sw_store_col_text(s, 0), "wal") != 0)
        r = sw_err_set(err, SW_E_IO, "%s: cannot switch to WAL mode (is the directory writable?)",
                       st->path);
    sqlite3_finalize(s);
    return r;
}

static sw_status
configure(sw_store *st, const sw_store_options *opt, sw_err *err)
{
    char sql[64];
    sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);
    if (sqlite3_db_readonly(st->db, "main") == 1)
        return sw_err_set(err, SW_E_IO, "%s: the database file is read-only", st->path);
    /* The first read: a corrupt or foreign file fails here ("file is not a database"). */
    sw_status r = set_wal(st, err);
    if (r == SW_OK)
        r = exec_sql(st, "PRAGMA synchronous=NORMAL", "set synchronous", err);
    if (r == SW_OK && opt != NULL && opt->checkpoint_in_rollup) {
        st->checkpoint_in_rollup = true;
        sqlite3_wal_autocheckpoint(st->db, 0);
    }
    if (r == SW_OK && opt != NULL && opt->max_db_bytes > 0) {
        snprintf(sql, sizeof sql, "PRAGMA max_page_count=%lld",
                 (long long)(opt->max_db_bytes / 4096 > 0 ? opt->max_db_bytes / 4096 : 1));
        r = exec_sql(st, sql, "set size cap", err);
    }
    return r;
}

sw_status
sw_store_open(const char *dir, const sw_store_options *opt, sw_store **ret, sw_err *err)
{
    sw_store *st = calloc(1, sizeof *st);
    if (st == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory opening the store");
    pthread_mutex_init(&st->mu, NULL);
    pthread_mutex_init(&st->ckpt_mu, NULL);
    sw_store_cache_init(&st->cache);
    sw_buf_init(&st->enc, ENC_MAX);
    sw_buf_init(&st->min_enc, ENC_MAX);
    sw_status r = apply_options(st, opt, err);
    if (r == SW_OK)
        r = make_dir(dir, err);
    if (r == SW_OK && (size_t)snprintf(st->path, sizeof st->path, "%s/%s", dir, SW_STORE_DB_NAME) >=
                          sizeof st->path)
        r = sw_err_set(err, SW_E_INVAL, "%s: store path too long", dir);
    if (r == SW_OK)
        r = check_not_emptied(st->path, err);
    if (r == SW_OK) {
        int rc =
            sqlite3_open_v2(st->path, &st->db,
                            SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
        if (rc != SQLITE_OK)
            r = sw_err_set(err, SW_E_IO, "%s: cannot open: %s", st->path,
                           st->db != NULL ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
    }
    if (r == SW_OK)
        r = configure(st, opt, err);
    if (r == SW_OK)
        r = migrate(st, err);
    if (r == SW_OK)
        r = check_base_interval(st, opt != NULL && opt->base_interval_ms != 0, err);
    if (r == SW_OK)
        r = prepare_all(st, err);
    if (r == SW_OK)
        r = load_kept_from(st, err);
    if (r != SW_OK) {
        sw_store_close(st);
        return r;
    }
    *ret = st;
    return SW_OK;
}

void
sw_store_close(sw_store *st)
{
    if (st == NULL)
        return;
    for (int i = 0; i < STMT_COUNT; i++)
        sqlite3_finalize(st->stmt[i]);
    sqlite3_close(st->ckpt_db); /* first: the last connection closed checkpoints the WAL */
    sqlite3_close(st->db);
    sw_buf_fini(&st->enc);
    sw_buf_fini(&st->min_enc);
    sw_store_cache_fini(&st->cache);
    pthread_mutex_destroy(&st->ckpt_mu);
    pthread_mutex_destroy(&st->mu);
    free(st);
}

int
sw_store_schema_version(sw_store *st)
{
    return st->schema_version;
}

int64_t
sw_store_pages_written(sw_store *st)
{
    int cur = 0, high = 0;
    pthread_mutex_lock(&st->mu);
    sqlite3_db_status(st->db, SQLITE_DBSTATUS_CACHE_WRITE, &cur, &high, 0);
    pthread_mutex_unlock(&st->mu);
    return cur;
}

sw_status
sw_store_integrity_check(sw_store *st, sw_err *err)
{
    sqlite3_stmt *s = NULL;
    pthread_mutex_lock(&st->mu);
    int rc = sqlite3_prepare_v2(st->db, "PRAGMA integrity_check", -1, &s, NULL);
    sw_status r = rc == SQLITE_OK ? SW_OK : db_err(st, rc, "integrity check", err);
    if (r == SW_OK) {
        rc = sqlite3_step(s);
        if (rc != SQLITE_ROW)
            r = db_err(st, rc, "integrity check", err);
        else if (strcmp(sw_store_col_text(s, 0), "ok") != 0)
            r = sw_err_set(err, SW_E_IO, "%s: integrity check: %s", st->path,
                           sw_store_col_text(s, 0));
    }
    sqlite3_finalize(s);
    pthread_mutex_unlock(&st->mu);
    return r;
}
