/*
 * The SQLite store (the only file that knows SQLite). One connection, guarded by st->mu, with
 * every statement prepared once at open. Rollups are driven by rollup_pending: writing a row marks
 * the coarser period it falls in; sw_store_rollup() rebuilds marked periods that have ended, in
 * the same transaction that clears their marks, so kill -9 at any point leaves either the old or
 * the new state. Retention deletes whole coarser periods and refuses later writes below them.
 */
#include "slawatch/store.h"

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

#define LEVELS 4 /* base, 1 m, 1 h, 1 d */
#define L_MINUTE 1
#define L_HOUR 2
#define BUSY_TIMEOUT_MS 5000
#define ROLLUP_CHUNK 256    /* periods per rollup transaction */
#define ENC_MAX (64u << 20) /* cap of the histogram encoding buffer */
#define DEFAULT_BASE_MS INT64_C(10000)
#define DEFAULT_KEEP_BASE_MS (2 * SW_STORE_1D_MS)
#define DEFAULT_KEEP_1M_MS (35 * SW_STORE_1D_MS)
#define DEFAULT_KEEP_1H_MS (400 * SW_STORE_1D_MS)
#define DEFAULT_KEEP_1D_MS (5 * 365 * SW_STORE_1D_MS)

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
};
#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

#define IV_COLUMNS                                                                                 \
    "start_ms, length_ms, requests, errors, probes, failures, leading_failures,"                   \
    " trailing_failures, longest_failures, has_data, latency, minutes"
#define IV_RANGE                                                                                   \
    "SELECT " IV_COLUMNS " FROM intervals WHERE series_id = ?1 AND resolution_ms = ?2"             \
    " AND start_ms >= ?3 AND start_ms < ?4 ORDER BY start_ms"

/* A series' latest deployment mark, which pruning keeps: the evaluator's windows start there. */
#define DEPLOY_LATEST                                                                              \
    "(SELECT MAX(l.at_ms) FROM deployments l WHERE l.service = deployments.service"                \
    " AND l.env = deployments.env)"

/* X(name, sql): every statement the store runs, prepared once at open. */
#define STMT_LIST(X)                                                                               \
    X(S_BEGIN, "BEGIN IMMEDIATE")                                                                  \
    X(S_COMMIT, "COMMIT")                                                                          \
    X(S_ROLLBACK, "ROLLBACK")                                                                      \
    X(S_SERIES_ADD, "INSERT OR IGNORE INTO series(service, env) VALUES(?1, ?2)")                   \
    X(S_SERIES_ID, "SELECT id FROM series WHERE service = ?1 AND env = ?2")                        \
    X(S_SERIES_ALL, "SELECT id, service, env FROM series ORDER BY service, env")                   \
    X(S_SERIES_OF, "SELECT id, service, env FROM series WHERE service = ?1 ORDER BY env")          \
    X(S_IV_PUT, "INSERT OR REPLACE INTO intervals(series_id, resolution_ms, " IV_COLUMNS ")"       \
                " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)")            \
    X(S_IV_DEL, "DELETE FROM intervals WHERE series_id = ?1 AND resolution_ms = ?2"                \
                " AND start_ms = ?3")                                                              \
    X(S_IV_PRUNE, "DELETE FROM intervals WHERE series_id = ?1 AND resolution_ms = ?2"              \
                  " AND start_ms < ?3")                                                            \
    X(S_IV_RANGE, IV_RANGE)                                                                        \
    X(S_SCAN0, IV_RANGE)                                                                           \
    X(S_SCAN1, IV_RANGE)                                                                           \
    X(S_SCAN2, IV_RANGE)                                                                           \
    X(S_SCAN3, IV_RANGE)                                                                           \
    X(S_MARK, "INSERT OR IGNORE INTO rollup_pending VALUES(?1, ?2, ?3)")                           \
    X(S_UNMARK, "DELETE FROM rollup_pending WHERE resolution_ms = ?1 AND series_id = ?2"           \
                " AND start_ms = ?3")                                                              \
    X(S_PENDING, "SELECT series_id, start_ms FROM rollup_pending WHERE resolution_ms = ?1"         \
                 " AND start_ms <= ?2 LIMIT ?3")                                                   \
    X(S_DONE_PUT, "INSERT OR REPLACE INTO meta VALUES('done:' || ?1, 1)")                          \
    X(S_DONE_GET, "SELECT value FROM meta WHERE key = 'done:' || ?1")                              \
    X(S_TAKEN_PUT, "INSERT OR REPLACE INTO meta VALUES('taken_until_ms', ?1)")                     \
    X(S_TAKEN_GET, "SELECT value FROM meta WHERE key = 'taken_until_ms'")                          \
    X(S_PENDING_FIRST, "SELECT MIN(start_ms) FROM rollup_pending WHERE resolution_ms = ?1")        \
    X(S_KEPT_GET, "SELECT kept_from_ms FROM retention WHERE resolution_ms = ?1")                   \
    X(S_KEPT_SET, "INSERT OR REPLACE INTO retention VALUES(?1, ?2)")                               \
    X(S_RULES_LAST, "SELECT text FROM rules ORDER BY since_ms DESC LIMIT 1")                       \
    X(S_RULES_PUT, "INSERT OR REPLACE INTO rules VALUES(?1, ?2)")                                  \
    X(S_RULES_AT, "SELECT since_ms, text FROM rules WHERE since_ms <= ?1"                          \
                  " ORDER BY since_ms DESC LIMIT 1")                                               \
    X(S_AUDIT_PUT, "INSERT INTO gate_audits(at_ms, who, service, env, window_ms, verdict, checks)" \
                   " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)")                                          \
    X(S_AUDIT_RANGE, "SELECT at_ms, who, service, env, window_ms, verdict, checks"                 \
                     " FROM gate_audits WHERE at_ms >= ?1 AND at_ms < ?2 ORDER BY at_ms, id")      \
    X(S_DEPLOY_PUT, "INSERT OR REPLACE INTO deployments VALUES(?1, ?2, ?3, ?4)")                   \
    X(S_DEPLOY_LAST, "SELECT service, env, MAX(at_ms) FROM deployments GROUP BY service, env"      \
                     " ORDER BY service, env")                                                     \
    X(S_EVENT_PUT, "INSERT INTO events(at_ms, kind, name, service, env, state, value)"             \
                   " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)")                                          \
    X(S_EVENT_RANGE, "SELECT kind, name, service, env, state, at_ms, value FROM events"            \
                     " WHERE at_ms >= ?1 AND at_ms < ?2 ORDER BY at_ms, id")                       \
    X(S_AUDIT_OLD, "DELETE FROM gate_audits WHERE id IN"                                           \
                   " (SELECT id FROM gate_audits WHERE at_ms < ?1 LIMIT ?2)")                      \
    X(S_AUDIT_OVER, "DELETE FROM gate_audits WHERE id IN"                                          \
                    " (SELECT id FROM gate_audits ORDER BY id DESC LIMIT ?2 OFFSET ?1)")           \
    X(S_EVENT_OLD, "DELETE FROM events WHERE id IN"                                                \
                   " (SELECT id FROM events WHERE at_ms < ?1 LIMIT ?2)")                           \
    X(S_EVENT_OVER, "DELETE FROM events WHERE id IN"                                               \
                    " (SELECT id FROM events ORDER BY id DESC LIMIT ?2 OFFSET ?1)")                \
    X(S_DEPLOY_OLD, "DELETE FROM deployments WHERE (service, env, at_ms) IN"                       \
                    " (SELECT service, env, at_ms FROM deployments WHERE at_ms < ?1 LIMIT ?2)"     \
                    " AND at_ms < " DEPLOY_LATEST)                                                 \
    X(S_DEPLOY_OVER, "DELETE FROM deployments WHERE (service, env, at_ms) IN"                      \
                     " (SELECT service, env, at_ms FROM deployments"                               \
                     " ORDER BY at_ms DESC LIMIT ?2 OFFSET ?1) AND at_ms < " DEPLOY_LATEST)

enum {
#define STMT_ENUM(name, sql) name,
    STMT_LIST(STMT_ENUM)
#undef STMT_ENUM
        STMT_COUNT
};

static const char *const stmt_sql[] = {
#define STMT_SQL(name, sql) [name] = sql,
    STMT_LIST(STMT_SQL)
#undef STMT_SQL
};

struct sw_store {
    sqlite3 *db;
    pthread_mutex_t mu;
    int schema_version;
    int64_t res_ms[LEVELS]; /* base, 1 m, 1 h, 1 d */
    int64_t keep_ms[LEVELS];
    int64_t kept_from[LEVELS]; /* rows below were deleted by retention; writes there refused */
    sqlite3_stmt *stmt[STMT_COUNT];
    sw_buf enc;     /* histogram encodings, reused; under mu */
    sw_buf min_enc; /* minute counts encodings, reused; under mu */
    char path[PATH_MAX];
};

/* Column order of IV_COLUMNS. */
enum {
    C_START, C_LENGTH, C_REQ, C_ERR, C_PROBES, C_FAIL, C_LEAD, C_TRAIL, C_LONG, C_HAS, C_LAT, C_MIN
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
static sw_status
run(sw_store *st, sqlite3_stmt *s, const char *what, sw_err *err)
{
    int rc = sqlite3_step(s);
    sw_status r = SW_OK;
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        r = db_err(st, rc, what, err);
    sqlite3_reset(s);
    return r;
}

/* Step a query: SW_OK with *ret_row telling whether a row is there. */
static sw_status
step(sw_store *st, sqlite3_stmt *s, bool *ret_row, const char *what, sw_err *err)
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

static int64_t
floor_to(int64_t v, int64_t period)
{
    int64_t r = v % period;
    return r < 0 ? v - r - period : v - r;
}

static const char *
env_or_empty(const char *env)
{
    return env != NULL ? env : "";
}

static const char *
env_or_null(const char *env)
{
    return env != NULL && env[0] != '\0' ? env : NULL;
}

static const char *
col_text(sqlite3_stmt *s, int col)
{
    const unsigned char *t = sqlite3_column_text(s, col);
    return t != NULL ? (const char *)t : "";
}

/* Lock and BEGIN IMMEDIATE (taking the write lock now, so a transaction never fails midway on
 * another process's lock). On failure the mutex is released. */
static sw_status
txn_begin(sw_store *st, sw_err *err)
{
    pthread_mutex_lock(&st->mu);
    sw_status r = run(st, st->stmt[S_BEGIN], "begin", err);
    if (r != SW_OK)
        pthread_mutex_unlock(&st->mu);
    return r;
}

/* Commit when r is SW_OK, else (or when the commit fails) roll back; the mutex stays held. */
static sw_status
txn_finish(sw_store *st, sw_status r, sw_err *err)
{
    if (r == SW_OK)
        r = run(st, st->stmt[S_COMMIT], "commit", err);
    if (r != SW_OK && !sqlite3_get_autocommit(st->db))
        (void)run(st, st->stmt[S_ROLLBACK], "rollback", NULL);
    return r;
}

/* txn_finish(), then unlock. */
static sw_status
txn_end(sw_store *st, sw_status r, sw_err *err)
{
    r = txn_finish(st, r, err);
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
        sw_status r = step(st, s, &row, "read retention", err);
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
    else if (strcmp(col_text(s, 0), "wal") != 0)
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
    sqlite3_close(st->db);
    sw_buf_fini(&st->enc);
    sw_buf_fini(&st->min_enc);
    pthread_mutex_destroy(&st->mu);
    free(st);
}

int
sw_store_schema_version(sw_store *st)
{
    return st->schema_version;
}

/* ---- intervals: writing ---- */

/* Series id of (service, env), created on first use. Within one transaction, so the id is
 * valid for it even when it was just inserted. */
static sw_status
series_id(sw_store *st, const char *service, const char *env, int64_t *ret, sw_err *err)
{
    sqlite3_stmt *add = st->stmt[S_SERIES_ADD], *get = st->stmt[S_SERIES_ID];
    sqlite3_bind_text(get, 1, service, -1, SQLITE_STATIC);
    sqlite3_bind_text(get, 2, env, -1, SQLITE_STATIC);
    bool row = false;
    sw_status r = step(st, get, &row, "look up series", err);
    if (r != SW_OK || row) {
        if (row)
            *ret = sqlite3_column_int64(get, 0);
        sqlite3_reset(get);
        return r;
    }
    sqlite3_reset(get);
    sqlite3_bind_text(add, 1, service, -1, SQLITE_STATIC);
    sqlite3_bind_text(add, 2, env, -1, SQLITE_STATIC);
    r = run(st, add, "add series", err);
    if (r == SW_OK)
        *ret = sqlite3_last_insert_rowid(st->db);
    return r;
}

static sw_status
mark_pending(sw_store *st, int level, int64_t sid, int64_t start_ms, sw_err *err)
{
    sqlite3_stmt *s = st->stmt[S_MARK];
    sqlite3_bind_int64(s, 1, st->res_ms[level]);
    sqlite3_bind_int64(s, 2, sid);
    sqlite3_bind_int64(s, 3, floor_to(start_ms, st->res_ms[level]));
    return run(st, s, "mark rollup", err);
}

/* Write one interval at a level (with the minute counts of an hour row, when given) and mark
 * the coarser period containing it. */
static sw_status
write_interval(sw_store *st, int level, int64_t sid, const sw_sli_interval *iv,
               const sw_hour_minutes *minutes, sw_err *err)
{
    sqlite3_stmt *s = st->stmt[S_IV_PUT];
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
    if (iv->latency != NULL) {
        /* Uncompressed V2: already compact (zero runs, varints), and DEFLATE was most of the
         * cost of writes, rollups and scans. */
        sw_buf_reset(&st->enc);
        sw_status r = sw_hdr_encode(iv->latency, false, &st->enc, err);
        if (r != SW_OK)
            return r;
        sqlite3_bind_blob(s, 13, st->enc.data, (int)st->enc.len, SQLITE_STATIC);
    }
    sqlite3_bind_null(s, 14);
    if (minutes != NULL) {
        sw_status r = sw_hour_minutes_encode(minutes, &st->min_enc, err);
        if (r != SW_OK)
            return r;
        sqlite3_bind_blob(s, 14, st->min_enc.data, (int)st->min_enc.len, SQLITE_STATIC);
    }
    sw_status r = run(st, s, "write interval", err);
    if (r == SW_OK && level + 1 < LEVELS)
        r = mark_pending(st, level + 1, sid, iv->start_ms, err);
    return r;
}

static sw_status
check_row(const sw_store *st, int level, const sw_store_row *row, sw_err *err)
{
    if (row->service == NULL || row->service[0] == '\0' || row->iv == NULL)
        return sw_err_set(err, SW_E_INVAL, "store row without service or interval");
    int64_t start = row->iv->start_ms;
    if (floor_to(start, st->res_ms[level]) != start)
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

/* Consecutive rows usually share their series: remember the last one looked up. */
typedef struct series_cache {
    const char *service;
    const char *env;
    int64_t id;
} series_cache;

static sw_status
put_rows(sw_store *st, int level, const sw_store_row *rows, size_t n, sw_err *err)
{
    series_cache cache = {0};
    for (size_t i = 0; i < n; i++) {
        const char *env = env_or_empty(rows[i].env);
        sw_status r = check_row(st, level, &rows[i], err);
        if (r == SW_OK && (cache.service == NULL || strcmp(cache.service, rows[i].service) != 0 ||
                           strcmp(cache.env, env) != 0)) {
            r = series_id(st, rows[i].service, env, &cache.id, err);
            cache.service = rows[i].service;
            cache.env = env;
        }
        if (r == SW_OK)
            r = write_interval(st, level, cache.id, rows[i].iv, NULL, err);
        if (r != SW_OK)
            return r;
    }
    return SW_OK;
}

static sw_status
put_level(sw_store *st, int level, const sw_store_row *rows, size_t n, sw_err *err)
{
    sw_status r = txn_begin(st, err);
    if (r != SW_OK)
        return r;
    return txn_end(st, put_rows(st, level, rows, n, err), err);
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
    sw_status r = txn_begin(st, err);
    if (r != SW_OK)
        return r;
    r = put_rows(st, 0, rows, n, err);
    if (r == SW_OK) {
        sqlite3_stmt *s = st->stmt[S_TAKEN_PUT];
        sqlite3_bind_int64(s, 1, taken_until_ms);
        r = run(st, s, "record what is stored", err);
    }
    return txn_end(st, r, err);
}

sw_status
sw_store_taken_until(sw_store *st, int64_t *ret, sw_err *err)
{
    pthread_mutex_lock(&st->mu);
    sqlite3_stmt *s = st->stmt[S_TAKEN_GET];
    bool row = false;
    sw_status r = step(st, s, &row, "read what is stored", err);
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
    sw_status r = step(st, s, &row, "read the first minute waiting for its rollup", err);
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
                     const char *mark, sw_err *err)
{
    int level = 1;
    while (level < LEVELS && st->res_ms[level] != resolution_ms)
        level++;
    if (level == LEVELS)
        return sw_err_set(err, SW_E_INVAL, "%lld ms is not a rollup resolution",
                          (long long)resolution_ms);
    sw_status r = txn_begin(st, err);
    if (r != SW_OK)
        return r;
    r = put_rows(st, level, rows, n, err);
    if (r == SW_OK) {
        sqlite3_bind_text(st->stmt[S_DONE_PUT], 1, mark, -1, SQLITE_STATIC);
        r = run(st, st->stmt[S_DONE_PUT], "record done mark", err);
    }
    return txn_end(st, r, err);
}

sw_status
sw_store_is_done(sw_store *st, const char *mark, bool *ret, sw_err *err)
{
    sqlite3_stmt *s = st->stmt[S_DONE_GET];
    pthread_mutex_lock(&st->mu);
    sqlite3_bind_text(s, 1, mark, -1, SQLITE_STATIC);
    sw_status r = step(st, s, ret, "read done mark", err);
    sqlite3_reset(s);
    pthread_mutex_unlock(&st->mu);
    return r;
}

/* ---- intervals: reading a row ---- */

/* Fill iv's counts from the current row of an IV_COLUMNS query (no histogram). */
static void
read_counts(sqlite3_stmt *s, sw_sli_interval *iv)
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
static sw_status
read_interval(sw_store *st, sqlite3_stmt *s, sw_sli_interval *iv, sw_err *err)
{
    read_counts(s, iv);
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
static void
note_minute(sw_hour_minutes *hm, int64_t hour_start, const sw_sli_interval *iv)
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
static sw_status
merge_period(sw_store *st, int level, int64_t sid, int64_t start, sw_sli_interval *acc,
             sw_hour_minutes *hm, size_t *ret_rows, sw_err *err)
{
    sqlite3_stmt *s = st->stmt[S_IV_RANGE];
    sqlite3_bind_int64(s, 1, sid);
    sqlite3_bind_int64(s, 2, st->res_ms[level - 1]);
    sqlite3_bind_int64(s, 3, start);
    sqlite3_bind_int64(s, 4, start + st->res_ms[level]);
    size_t rows = 0;
    bool row = false;
    sw_status r;
    while ((r = step(st, s, &row, "read rollup input", err)) == SW_OK && row) {
        sw_sli_interval next;
        r = read_interval(st, s, &next, err);
        if (r == SW_OK && hm != NULL)
            note_minute(hm, start, &next);
        if (r == SW_OK)
            r = accumulate(acc, &next, err);
        sw_sli_interval_fini(&next);
        if (r != SW_OK)
            break;
        rows++;
    }
    sqlite3_reset(s);
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
    sw_status r = merge_period(st, level, sid, start, &acc, minutes, &rows, err);
    if (r == SW_OK && rows > 0)
        r = write_interval(st, level, sid, &acc, minutes, err);
    if (r == SW_OK && rows == 0) {
        sqlite3_stmt *d = st->stmt[S_IV_DEL];
        sqlite3_bind_int64(d, 1, sid);
        sqlite3_bind_int64(d, 2, st->res_ms[level]);
        sqlite3_bind_int64(d, 3, start);
        r = run(st, d, "delete empty rollup", err);
        if (r == SW_OK && level + 1 < LEVELS)
            r = mark_pending(st, level + 1, sid, start, err);
    }
    sw_sli_interval_fini(&acc);
    if (r == SW_OK) {
        sqlite3_stmt *u = st->stmt[S_UNMARK];
        sqlite3_bind_int64(u, 1, st->res_ms[level]);
        sqlite3_bind_int64(u, 2, sid);
        sqlite3_bind_int64(u, 3, start);
        r = run(st, u, "clear rollup mark", err);
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
    pending todo[ROLLUP_CHUNK];
    size_t n = 0;
    bool row = false;
    sqlite3_stmt *s = st->stmt[S_PENDING];
    sw_status r = txn_begin(st, err);
    if (r != SW_OK)
        return r;
    sqlite3_bind_int64(s, 1, st->res_ms[level]);
    sqlite3_bind_int64(s, 2, now_ms - st->res_ms[level]);
    sqlite3_bind_int64(s, 3, ROLLUP_CHUNK);
    while ((r = step(st, s, &row, "list rollups", err)) == SW_OK && row)
        todo[n++] = (pending){sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1)};
    sqlite3_reset(s);
    for (size_t i = 0; r == SW_OK && i < n; i++)
        r = rebuild_period(st, level, todo[i].sid, todo[i].start, err);
    r = txn_end(st, r, err);
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
    while ((r = step(st, s, &row, "list series", err)) == SW_OK && row) {
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
    sw_status r = txn_begin(st, err);
    if (r != SW_OK)
        return r;
    r = all_series_ids(st, &ids, &n, err);
    sqlite3_stmt *p = st->stmt[S_IV_PRUNE];
    for (size_t i = 0; r == SW_OK && i < n; i++) {
        sqlite3_bind_int64(p, 1, ids[i]);
        sqlite3_bind_int64(p, 2, st->res_ms[level]);
        sqlite3_bind_int64(p, 3, horizon);
        r = run(st, p, "apply retention", err);
    }
    free(ids);
    if (r == SW_OK) {
        sqlite3_stmt *k = st->stmt[S_KEPT_SET];
        sqlite3_bind_int64(k, 1, st->res_ms[level]);
        sqlite3_bind_int64(k, 2, horizon);
        r = run(st, k, "record retention", err);
    }
    /* The bound puts check moves once the deletion is committed, before any put can run. */
    r = txn_finish(st, r, err);
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
        int64_t horizon = floor_to(now_ms - st->keep_ms[level], unit);
        if (horizon <= st->kept_from[level])
            continue;
        sw_status r = prune_level(st, level, horizon, err);
        if (r != SW_OK)
            return r;
    }
    return SW_OK;
}

sw_status
sw_store_rollup(sw_store *st, int64_t now_ms, sw_err *err)
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

/* ---- scanning ---- */

/* One resolution's rows of a series, walked in start order; `has` false once exhausted. */
typedef struct cursor {
    sqlite3_stmt *s;
    int64_t res;
    int64_t to;
    bool has;
    int64_t start;
} cursor;

static sw_status
cursor_step(sw_store *st, cursor *c, sw_err *err)
{
    sw_status r = step(st, c->s, &c->has, "scan", err);
    if (r == SW_OK && c->has)
        c->start = sqlite3_column_int64(c->s, C_START);
    return r;
}

static sw_status
cursor_open(sw_store *st, cursor *c, int64_t sid, int64_t from, sw_err *err)
{
    sqlite3_reset(c->s);
    sqlite3_bind_int64(c->s, 1, sid);
    sqlite3_bind_int64(c->s, 2, c->res);
    sqlite3_bind_int64(c->s, 3, from);
    sqlite3_bind_int64(c->s, 4, c->to);
    return cursor_step(st, c, err);
}

/* Move to the first row starting at or after t: one step when it is next, else a new seek. */
static sw_status
cursor_seek(sw_store *st, cursor *c, int64_t sid, int64_t t, sw_err *err)
{
    if (!c->has || c->start >= t)
        return SW_OK;
    sw_status r = cursor_step(st, c, err);
    if (r == SW_OK && c->has && c->start < t)
        r = cursor_open(st, c, sid, t, err);
    return r;
}

/* True when no row finer than level starts before end (cursors are at or after t). */
static bool
no_finer_within(const cursor *c, int level, int64_t end)
{
    for (int j = 0; j < level; j++)
        if (c[j].has && c[j].start < end)
            return false;
    return true;
}

/* The level whose row to use at t, or -1 when none starts at t. */
static int
pick_level(const cursor *c, int64_t t, int64_t fine_from)
{
    if (t < fine_from)
        for (int i = LEVELS - 1; i >= 0; i--)
            if (c[i].has && c[i].start == t && t + c[i].res <= fine_from)
                return i;
    for (int i = 0; i < LEVELS; i++)
        if (c[i].has && c[i].start == t && no_finer_within(c, i, t + c[i].res))
            return i;
    return -1;
}

/* Nothing usable at t: skip the rows starting there; the next t is the earliest start left. */
static sw_status
skip_to_next(sw_store *st, cursor *c, int64_t *t, sw_err *err)
{
    int64_t next = INT64_MAX;
    for (int i = 0; i < LEVELS; i++) {
        if (c[i].has && c[i].start == *t) {
            sw_status r = cursor_step(st, &c[i], err);
            if (r != SW_OK)
                return r;
        }
        if (c[i].has && c[i].start < next)
            next = c[i].start;
    }
    *t = next;
    return SW_OK;
}

/* What a scan visits: rows starting in [from, to), handed to fn (hour_fn for hour scans). */
typedef struct scan_args {
    int64_t from, to;
    int64_t fine_from; /* sw_store_scan */
    int level;         /* sw_store_scan_level */
    bool with_latency; /* sw_store_scan_level, sw_store_scan_hours */
    sw_store_visit fn;
    sw_store_hour_visit hour_fn;
    void *ctx;
} scan_args;

static sw_status
visit_row(sw_store *st, const cursor *c, const char *service, const char *env, const scan_args *a,
          sw_err *err)
{
    sw_sli_interval iv;
    sw_status r = read_interval(st, c->s, &iv, err);
    if (r == SW_OK)
        r = a->fn(a->ctx, service, env_or_null(env), &iv, err);
    sw_sli_interval_fini(&iv);
    return r;
}

static sw_status
scan_series(sw_store *st, int64_t sid, const char *service, const char *env, const scan_args *a,
            sw_err *err)
{
    cursor c[LEVELS];
    sw_status r = SW_OK;
    for (int i = 0; i < LEVELS && r == SW_OK; i++) {
        c[i] = (cursor){.s = st->stmt[S_SCAN0 + i], .res = st->res_ms[i], .to = a->to};
        r = cursor_open(st, &c[i], sid, a->from, err);
    }
    int64_t t = a->from;
    while (r == SW_OK && t < a->to) {
        for (int i = 0; i < LEVELS && r == SW_OK; i++)
            r = cursor_seek(st, &c[i], sid, t, err);
        if (r != SW_OK)
            break;
        int level = pick_level(c, t, a->fine_from);
        if (level < 0) {
            r = skip_to_next(st, c, &t, err);
            continue;
        }
        r = visit_row(st, &c[level], service, env, a, err);
        t += c[level].res;
    }
    for (int i = 0; i < LEVELS; i++)
        sqlite3_reset(c[i].s);
    return r;
}

typedef struct series_list {
    int64_t *ids;
    char **names; /* service and env of series i at 2i and 2i + 1 */
    size_t n;
} series_list;

static void
series_list_fini(series_list *l)
{
    for (size_t i = 0; i < 2 * l->n; i++)
        free(l->names[i]);
    free(l->names);
    free(l->ids);
}

static sw_status
series_list_add(series_list *l, sqlite3_stmt *s, sw_err *err)
{
    int64_t *ids = realloc(l->ids, (l->n + 1) * sizeof *ids);
    if (ids != NULL)
        l->ids = ids;
    char **names = realloc(l->names, 2 * (l->n + 1) * sizeof *names);
    if (names != NULL)
        l->names = names;
    if (ids == NULL || names == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory listing series");
    names[2 * l->n] = strdup(col_text(s, 1));
    names[2 * l->n + 1] = strdup(col_text(s, 2));
    ids[l->n++] = sqlite3_column_int64(s, 0);
    if (names[2 * l->n - 2] == NULL || names[2 * l->n - 1] == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory listing series");
    return SW_OK;
}

static sw_status
list_series(sw_store *st, const char *service, series_list *l, sw_err *err)
{
    sqlite3_stmt *s = st->stmt[service != NULL ? S_SERIES_OF : S_SERIES_ALL];
    bool row = false;
    sw_status r;
    pthread_mutex_lock(&st->mu);
    if (service != NULL)
        sqlite3_bind_text(s, 1, service, -1, SQLITE_STATIC);
    while ((r = step(st, s, &row, "list series", err)) == SW_OK && row)
        if ((r = series_list_add(l, s, err)) != SW_OK)
            break;
    sqlite3_reset(s);
    pthread_mutex_unlock(&st->mu);
    return r;
}

/* The scan of one series, run under the lock: its cursors see one state of the database. */
typedef sw_status (*series_scan)(sw_store *st, int64_t sid, const char *service, const char *env,
                                 const scan_args *a, sw_err *err);

static sw_status
each_series(sw_store *st, const char *service, series_scan scan, const scan_args *a, sw_err *err)
{
    series_list l = {0};
    sw_status r = list_series(st, service, &l, err);
    for (size_t i = 0; r == SW_OK && i < l.n; i++) {
        pthread_mutex_lock(&st->mu);
        r = scan(st, l.ids[i], l.names[2 * i], l.names[2 * i + 1], a, err);
        pthread_mutex_unlock(&st->mu);
    }
    series_list_fini(&l);
    return r;
}

sw_status
sw_store_scan(sw_store *st, const char *service, int64_t from_ms, int64_t to_ms,
              int64_t fine_from_ms, sw_store_visit fn, void *ctx, sw_err *err)
{
    scan_args a = {.from = from_ms, .to = to_ms, .fine_from = fine_from_ms, .fn = fn, .ctx = ctx};
    if (a.fine_from < from_ms)
        a.fine_from = from_ms;
    if (a.fine_from > to_ms)
        a.fine_from = to_ms;
    return each_series(st, service, scan_series, &a, err);
}

static int
level_of(const sw_store *st, int64_t resolution_ms)
{
    for (int level = 0; level < LEVELS; level++)
        if (st->res_ms[level] == resolution_ms)
            return level;
    return -1;
}

/* The rows of one series at one level. */
static sw_status
scan_level_series(sw_store *st, int64_t sid, const char *service, const char *env,
                  const scan_args *a, sw_err *err)
{
    sqlite3_stmt *s = st->stmt[S_IV_RANGE];
    sqlite3_bind_int64(s, 1, sid);
    sqlite3_bind_int64(s, 2, st->res_ms[a->level]);
    sqlite3_bind_int64(s, 3, a->from);
    sqlite3_bind_int64(s, 4, a->to);
    bool row = false;
    sw_status r;
    while ((r = step(st, s, &row, "scan intervals", err)) == SW_OK && row) {
        sw_sli_interval iv;
        if (a->with_latency) {
            r = read_interval(st, s, &iv, err);
        } else {
            read_counts(s, &iv);
        }
        if (r == SW_OK)
            r = a->fn(a->ctx, service, env_or_null(env), &iv, err);
        sw_sli_interval_fini(&iv);
        if (r != SW_OK)
            break;
    }
    sqlite3_reset(s);
    return r;
}

sw_status
sw_store_scan_level(sw_store *st, const char *service, int64_t resolution_ms, int64_t from_ms,
                    int64_t to_ms, bool with_latency, sw_store_visit fn, void *ctx, sw_err *err)
{
    int level = level_of(st, resolution_ms);
    if (level < 0)
        return sw_err_set(err, SW_E_INVAL, "%lld ms is not a resolution of the store",
                          (long long)resolution_ms);
    scan_args a = {.from = from_ms, .to = to_ms, .level = level, .with_latency = with_latency,
                   .fn = fn, .ctx = ctx};
    return each_series(st, service, scan_level_series, &a, err);
}

/* The minute counts of the hour row s is on, into *hm; *ret_has false when it has none. */
static sw_status
read_minutes(sw_store *st, sqlite3_stmt *s, sw_hour_minutes *hm, bool *ret_has, sw_err *err)
{
    *ret_has = sqlite3_column_type(s, C_MIN) != SQLITE_NULL;
    if (!*ret_has)
        return SW_OK;
    sw_status r = sw_hour_minutes_decode(sqlite3_column_blob(s, C_MIN),
                                         (size_t)sqlite3_column_bytes(s, C_MIN), hm, err);
    if (r != SW_OK && err != NULL)
        sw_err_prefix(err, "%s: the hour at %lld ms", st->path,
                      (long long)sqlite3_column_int64(s, C_START));
    return r;
}

/* The counts of the 1 m rows of the hour at t into *hm; *ret_has false when there are none. */
static sw_status
minutes_of_hour(sw_store *st, int64_t sid, int64_t t, sw_hour_minutes *hm, bool *ret_has,
                sw_err *err)
{
    sqlite3_stmt *s = st->stmt[S_IV_RANGE];
    sqlite3_bind_int64(s, 1, sid);
    sqlite3_bind_int64(s, 2, SW_STORE_1M_MS);
    sqlite3_bind_int64(s, 3, t);
    sqlite3_bind_int64(s, 4, t + SW_STORE_1H_MS);
    *hm = (sw_hour_minutes){0};
    *ret_has = false;
    bool row = false;
    sw_status r;
    while ((r = step(st, s, &row, "scan minutes", err)) == SW_OK && row) {
        sw_sli_interval iv;
        read_counts(s, &iv);
        note_minute(hm, t, &iv);
        *ret_has = true;
    }
    sqlite3_reset(s);
    return r;
}

/* The hour row s is on, with its minute counts (read from the 1 m rows when it has none). */
static sw_status
visit_hour_row(sw_store *st, sqlite3_stmt *s, int64_t sid, const char *service, const char *env,
               const scan_args *a, sw_err *err)
{
    sw_sli_interval iv;
    sw_hour_minutes hm;
    bool has = false;
    sw_status r = SW_OK;
    if (a->with_latency) {
        r = read_interval(st, s, &iv, err);
    } else {
        read_counts(s, &iv);
    }
    if (r == SW_OK)
        r = read_minutes(st, s, &hm, &has, err);
    if (r == SW_OK && !has)
        r = minutes_of_hour(st, sid, iv.start_ms, &hm, &has, err);
    if (r == SW_OK)
        r = a->hour_fn(a->ctx, service, env_or_null(env), &iv, has ? &hm : NULL, err);
    sw_sli_interval_fini(&iv);
    return r;
}

/* The hour at t without a row (not rolled up yet): as the rollup will build it, when it has
 * 1 m rows. */
static sw_status
visit_pending_hour(sw_store *st, int64_t sid, int64_t t, const char *service, const char *env,
                   const scan_args *a, sw_err *err)
{
    sw_sli_interval acc = {.start_ms = t, .length_ms = SW_STORE_1H_MS};
    sw_hour_minutes hm = {0};
    size_t rows = 0;
    sw_status r = merge_period(st, L_HOUR, sid, t, &acc, &hm, &rows, err);
    if (!a->with_latency) {
        sw_hdr_free(acc.latency);
        acc.latency = NULL;
    }
    if (r == SW_OK && rows > 0)
        r = a->hour_fn(a->ctx, service, env_or_null(env), &acc, &hm, err);
    sw_sli_interval_fini(&acc);
    return r;
}

static sw_status
scan_hours_series(sw_store *st, int64_t sid, const char *service, const char *env,
                  const scan_args *a, sw_err *err)
{
    cursor c = {.s = st->stmt[S_SCAN2], .res = SW_STORE_1H_MS, .to = a->to};
    cursor m = {.s = st->stmt[S_SCAN1], .res = SW_STORE_1M_MS, .to = a->to};
    sw_status r = cursor_open(st, &c, sid, a->from, err);
    if (r == SW_OK)
        r = cursor_open(st, &m, sid, a->from, err);
    /* Every hour of the range: one without a row may still have 1 m rows (the minute cursor
     * says whether it has, without a query per empty hour). */
    for (int64_t t = floor_to(a->from + SW_STORE_1H_MS - 1, SW_STORE_1H_MS);
         r == SW_OK && t < a->to; t += SW_STORE_1H_MS) {
        if (c.has && c.start == t) {
            r = visit_hour_row(st, c.s, sid, service, env, a, err);
            if (r == SW_OK)
                r = cursor_step(st, &c, err);
            continue;
        }
        r = cursor_seek(st, &m, sid, t, err);
        if (r == SW_OK && m.has && m.start < t + SW_STORE_1H_MS)
            r = visit_pending_hour(st, sid, t, service, env, a, err);
    }
    sqlite3_reset(c.s);
    sqlite3_reset(m.s);
    return r;
}

sw_status
sw_store_scan_hours(sw_store *st, const char *service, int64_t from_ms, int64_t to_ms,
                    bool with_latency, sw_store_hour_visit fn, void *ctx, sw_err *err)
{
    scan_args a = {.from = from_ms, .to = to_ms, .with_latency = with_latency, .hour_fn = fn,
                   .ctx = ctx};
    return each_series(st, service, scan_hours_series, &a, err);
}

/* ---- rules history ---- */

static sw_status
put_rules_locked(sw_store *st, int64_t at_ms, const char *text, size_t len, sw_err *err)
{
    sqlite3_stmt *last = st->stmt[S_RULES_LAST];
    bool row = false;
    sw_status r = step(st, last, &row, "read rules", err);
    if (r != SW_OK)
        return r;
    bool same = row && (size_t)sqlite3_column_bytes(last, 0) == len &&
                (len == 0 || memcmp(sqlite3_column_blob(last, 0), text, len) == 0);
    sqlite3_reset(last);
    if (same)
        return SW_OK;
    sqlite3_stmt *put = st->stmt[S_RULES_PUT];
    sqlite3_bind_int64(put, 1, at_ms);
    sqlite3_bind_blob(put, 2, len != 0 ? text : "", (int)len, SQLITE_STATIC);
    return run(st, put, "write rules", err);
}

sw_status
sw_store_put_rules(sw_store *st, int64_t at_ms, const char *text, size_t len, sw_err *err)
{
    if (len > INT_MAX)
        return sw_err_set(err, SW_E_TOOBIG, "rules text of %zu bytes is too long", len);
    sw_status r = txn_begin(st, err);
    if (r != SW_OK)
        return r;
    return txn_end(st, put_rules_locked(st, at_ms, text, len, err), err);
}

static sw_status
copy_rules(sqlite3_stmt *s, char **ret_text, size_t *ret_len, int64_t *ret_since_ms, sw_err *err)
{
    size_t len = (size_t)sqlite3_column_bytes(s, 1);
    const void *blob = sqlite3_column_blob(s, 1);
    char *text = malloc(len + 1);
    if (text == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory reading rules");
    if (len > 0)
        memcpy(text, blob, len);
    text[len] = '\0';
    *ret_text = text;
    *ret_len = len;
    *ret_since_ms = sqlite3_column_int64(s, 0);
    return SW_OK;
}

sw_status
sw_store_rules_at(sw_store *st, int64_t at_ms, char **ret_text, size_t *ret_len,
                  int64_t *ret_since_ms, sw_err *err)
{
    sqlite3_stmt *s = st->stmt[S_RULES_AT];
    bool row = false;
    pthread_mutex_lock(&st->mu);
    sqlite3_bind_int64(s, 1, at_ms);
    sw_status r = step(st, s, &row, "read rules", err);
    if (r == SW_OK && !row)
        r = sw_err_set(err, SW_E_INVAL, "%s: no rules recorded at or before %lld ms", st->path,
                       (long long)at_ms);
    if (r == SW_OK)
        r = copy_rules(s, ret_text, ret_len, ret_since_ms, err);
    sqlite3_reset(s);
    pthread_mutex_unlock(&st->mu);
    return r;
}

/* ---- gate audits, deployments, events ---- */

static void
bind_texts(sqlite3_stmt *s, int first, const char *const *texts, int n)
{
    for (int i = 0; i < n; i++)
        sqlite3_bind_text(s, first + i, texts[i] != NULL ? texts[i] : "", -1, SQLITE_STATIC);
}

static sw_status
put_one_audit(sw_store *st, const sw_store_gate_audit *a, sw_err *err)
{
    if (a->service == NULL || a->verdict == NULL)
        return sw_err_set(err, SW_E_INVAL, "gate audit without service or verdict");
    sqlite3_stmt *s = st->stmt[S_AUDIT_PUT];
    const char *texts[] = {a->who, a->service, a->env};
    const char *tail[] = {a->verdict, a->checks_json};
    sqlite3_bind_int64(s, 1, a->at_ms);
    bind_texts(s, 2, texts, 3);
    sqlite3_bind_int64(s, 5, a->window_ms);
    bind_texts(s, 6, tail, 2);
    return run(st, s, "write gate audit", err);
}

sw_status
sw_store_put_gate_audits(sw_store *st, const sw_store_gate_audit *a, size_t n, sw_err *err)
{
    sw_status r = txn_begin(st, err);
    if (r != SW_OK)
        return r;
    for (size_t i = 0; i < n && r == SW_OK; i++)
        r = put_one_audit(st, &a[i], err);
    return txn_end(st, r, err);
}

sw_status
sw_store_put_gate_audit(sw_store *st, const sw_store_gate_audit *a, sw_err *err)
{
    return sw_store_put_gate_audits(st, a, 1, err);
}

/* Run a query (over [from_ms, to_ms) when it takes a range), calling each(row) under the lock. */
typedef sw_status (*row_fn)(sqlite3_stmt *s, void *arg, sw_err *err);

static sw_status
query_rows(sw_store *st, int id, int64_t from_ms, int64_t to_ms, row_fn each, void *arg,
           sw_err *err)
{
    sqlite3_stmt *s = st->stmt[id];
    bool row = false;
    sw_status r;
    pthread_mutex_lock(&st->mu);
    if (sqlite3_bind_parameter_count(s) == 2) {
        sqlite3_bind_int64(s, 1, from_ms);
        sqlite3_bind_int64(s, 2, to_ms);
    }
    while ((r = step(st, s, &row, "read", err)) == SW_OK && row)
        if ((r = each(s, arg, err)) != SW_OK)
            break;
    sqlite3_reset(s);
    pthread_mutex_unlock(&st->mu);
    return r;
}

/* The caller's visitor; the field used depends on the query. */
typedef struct visit_ctx {
    sw_store_gate_audit_visit audit;
    sw_store_deployment_visit deployment;
    sw_store_event_visit event;
    void *ctx;
} visit_ctx;

static sw_status
audit_row(sqlite3_stmt *s, void *arg, sw_err *err)
{
    const visit_ctx *v = arg;
    sw_store_gate_audit a = {
        .at_ms = sqlite3_column_int64(s, 0),
        .who = col_text(s, 1),
        .service = col_text(s, 2),
        .env = env_or_null(col_text(s, 3)),
        .window_ms = sqlite3_column_int64(s, 4),
        .verdict = col_text(s, 5),
        .checks_json = col_text(s, 6),
    };
    return v->audit(v->ctx, &a, err);
}

sw_status
sw_store_gate_audits(sw_store *st, int64_t from_ms, int64_t to_ms, sw_store_gate_audit_visit fn,
                     void *ctx, sw_err *err)
{
    visit_ctx v = {.audit = fn, .ctx = ctx};
    return query_rows(st, S_AUDIT_RANGE, from_ms, to_ms, audit_row, &v, err);
}

sw_status
sw_store_put_deployment(sw_store *st, const char *service, const char *env, int64_t at_ms,
                        const char *who, sw_err *err)
{
    if (service == NULL || service[0] == '\0')
        return sw_err_set(err, SW_E_INVAL, "deployment without service");
    sqlite3_stmt *s = st->stmt[S_DEPLOY_PUT];
    const char *texts[] = {service, env};
    sw_status r = txn_begin(st, err);
    if (r != SW_OK)
        return r;
    bind_texts(s, 1, texts, 2);
    sqlite3_bind_int64(s, 3, at_ms);
    bind_texts(s, 4, &who, 1);
    return txn_end(st, run(st, s, "write deployment", err), err);
}

static sw_status
deployment_row(sqlite3_stmt *s, void *arg, sw_err *err)
{
    const visit_ctx *v = arg;
    return v->deployment(v->ctx, col_text(s, 0), env_or_null(col_text(s, 1)),
                         sqlite3_column_int64(s, 2), err);
}

sw_status
sw_store_last_deployments(sw_store *st, sw_store_deployment_visit fn, void *ctx, sw_err *err)
{
    visit_ctx v = {.deployment = fn, .ctx = ctx};
    return query_rows(st, S_DEPLOY_LAST, INT64_MIN, INT64_MAX, deployment_row, &v, err);
}

static bool
one_of(const char *s, const char *a, const char *b)
{
    return s != NULL && (strcmp(s, a) == 0 || strcmp(s, b) == 0);
}

sw_status
sw_store_put_event(sw_store *st, const sw_store_event *e, sw_err *err)
{
    if (!one_of(e->kind, "alert", "trigger"))
        return sw_err_set(err, SW_E_INVAL, "event kind must be \"alert\" or \"trigger\"");
    if (!one_of(e->state, "firing", "resolved"))
        return sw_err_set(err, SW_E_INVAL, "event state must be \"firing\" or \"resolved\"");
    if (e->name == NULL || e->service == NULL)
        return sw_err_set(err, SW_E_INVAL, "event without name or service");
    sqlite3_stmt *s = st->stmt[S_EVENT_PUT];
    const char *texts[] = {e->kind, e->name, e->service, e->env, e->state};
    sw_status r = txn_begin(st, err);
    if (r != SW_OK)
        return r;
    sqlite3_bind_int64(s, 1, e->at_ms);
    bind_texts(s, 2, texts, 5);
    if (isnan(e->value)) /* SQLite has no NaN: unknown is NULL */
        sqlite3_bind_null(s, 7);
    else
        sqlite3_bind_double(s, 7, e->value);
    return txn_end(st, run(st, s, "write event", err), err);
}

static sw_status
event_row(sqlite3_stmt *s, void *arg, sw_err *err)
{
    const visit_ctx *v = arg;
    sw_store_event e = {
        .kind = col_text(s, 0),
        .name = col_text(s, 1),
        .service = col_text(s, 2),
        .env = env_or_null(col_text(s, 3)),
        .state = col_text(s, 4),
        .at_ms = sqlite3_column_int64(s, 5),
        .value = sqlite3_column_type(s, 6) == SQLITE_NULL ? NAN : sqlite3_column_double(s, 6),
    };
    return v->event(v->ctx, &e, err);
}

sw_status
sw_store_events(sw_store *st, int64_t from_ms, int64_t to_ms, sw_store_event_visit fn, void *ctx,
                sw_err *err)
{
    visit_ctx v = {.event = fn, .ctx = ctx};
    return query_rows(st, S_EVENT_RANGE, from_ms, to_ms, event_row, &v, err);
}

/* ---- pruning of the record tables ---- */

#define PRUNE_CHUNK 10000 /* rows per transaction: writers wait at most one chunk */

/* Run a prune statement in chunks until it deletes less than a chunk; *deleted adds up. */
static sw_status
prune_chunks(sw_store *st, int id, int64_t bound, uint64_t *deleted, sw_err *err)
{
    sqlite3_stmt *s = st->stmt[id];
    for (;;) {
        sw_status r = txn_begin(st, err);
        if (r != SW_OK)
            return r;
        sqlite3_bind_int64(s, 1, bound);
        sqlite3_bind_int64(s, 2, PRUNE_CHUNK);
        r = run(st, s, "prune", err);
        int changes = r == SW_OK ? sqlite3_changes(st->db) : 0;
        if ((r = txn_end(st, r, err)) != SW_OK)
            return r;
        *deleted += (uint64_t)changes;
        if (changes < PRUNE_CHUNK)
            return SW_OK;
    }
}

sw_status
sw_store_prune(sw_store *st, sw_store_record which, int64_t now_ms, const sw_store_keep *keep,
               uint64_t *ret_deleted, sw_err *err)
{
    static const int by_age[] = {S_AUDIT_OLD, S_DEPLOY_OLD, S_EVENT_OLD};
    static const int by_count[] = {S_AUDIT_OVER, S_DEPLOY_OVER, S_EVENT_OVER};
    SW_REQUIRE(which >= SW_STORE_GATE_AUDITS && which <= SW_STORE_EVENTS && keep != NULL);
    sw_status r = SW_OK;
    if (keep->max_age_ms > 0)
        r = prune_chunks(st, by_age[which], now_ms - keep->max_age_ms, ret_deleted, err);
    if (r == SW_OK && keep->max_rows > 0)
        r = prune_chunks(st, by_count[which], keep->max_rows, ret_deleted, err);
    return r;
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
        else if (strcmp(col_text(s, 0), "ok") != 0)
            r = sw_err_set(err, SW_E_IO, "%s: integrity check: %s", st->path, col_text(s, 0));
    }
    sqlite3_finalize(s);
    pthread_mutex_unlock(&st->mu);
    return r;
}
