/*
 * Shared by the store's files (store.c: schema, migrations and opening; store_write.c:
 * interval writes and rollups; store_scan.c: scans; store_recent.c: the recent base rows, their
 * fold and the reads of a series' rows across both tables; store_records.c: rules history, gate
 * audits, deployments, events): the connection and its prepared statements, the SQL they run,
 * and the helpers every file uses. Everything here runs under st->mu.
 */
#ifndef SLAWATCH_STORE_INT_H
#define SLAWATCH_STORE_INT_H

#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "slawatch/buf.h"
#include "slawatch/minute_counts.h"
#include "slawatch/store.h"
#include "slawatch/u64map.h"

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

#define IV_COLUMNS                                                                                 \
    "start_ms, length_ms, requests, errors, probes, failures, leading_failures,"                   \
    " trailing_failures, longest_failures, has_data, latency, minutes"
#define ALL_IV_COLUMNS "series_id, resolution_ms, " IV_COLUMNS
#define IV_RANGE                                                                                   \
    "SELECT " IV_COLUMNS " FROM series_rows WHERE series_id = ?1 AND resolution_ms = ?2"           \
    " AND start_ms >= ?3 AND start_ms < ?4 ORDER BY start_ms"
/*
 * A series' recent rows (store_recent.c) starting in [?3, ?4), ?3 a multiple of the base interval
 * ?2: one lookup by (start, series) per base interval the table spans, so reading one series
 * never walks the other series' rows (CROSS JOIN: SQLite keeps t the outer loop; the planner's
 * own choice, recent_rows outer, walked every recent row for each series, 0.5 ms a read).
 */
#define RECENT_RANGE                                                                               \
    "WITH RECURSIVE t(s) AS (SELECT MAX(?3, (SELECT MIN(start_ms) FROM recent_rows))"              \
    " UNION ALL SELECT s + ?2 FROM t"                                                              \
    " WHERE s + ?2 < MIN(?4, (SELECT MAX(start_ms) FROM recent_rows) + 1))"                        \
    " SELECT " IV_COLUMNS " FROM t CROSS JOIN recent_rows r"                                       \
    " ON r.start_ms = t.s AND r.series_id = ?1"                                                    \
    " WHERE t.s < ?4 ORDER BY t.s"

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
    X(S_IV_PUT, "INSERT OR REPLACE INTO series_rows(" ALL_IV_COLUMNS ")"                           \
                " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)")            \
    X(S_RECENT_PUT, "INSERT OR REPLACE INTO recent_rows(" ALL_IV_COLUMNS ")"                       \
                    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)")        \
    X(S_IV_DEL, "DELETE FROM series_rows WHERE series_id = ?1 AND resolution_ms = ?2"              \
                " AND start_ms = ?3")                                                              \
    X(S_IV_PRUNE, "DELETE FROM series_rows WHERE series_id = ?1 AND resolution_ms = ?2"            \
                  " AND start_ms < ?3")                                                            \
    X(S_RECENT_PRUNE, "DELETE FROM recent_rows WHERE start_ms < ?1")                               \
    X(S_RECENT_FROM_GET, "SELECT value FROM meta WHERE key = 'recent_from_ms'")                    \
    X(S_RECENT_FROM_PUT, "INSERT OR REPLACE INTO meta VALUES('recent_from_ms', ?1)")               \
    X(S_RECENT_SPAN, "SELECT MIN(start_ms), MAX(start_ms) FROM recent_rows")                       \
    /* Series by series, so each series' index page is written once for all its rows. */           \
    X(S_FOLD_MOVE, "INSERT OR REPLACE INTO series_rows(" ALL_IV_COLUMNS ") SELECT " ALL_IV_COLUMNS \
                   " FROM recent_rows WHERE start_ms < ?1 ORDER BY series_id, start_ms")           \
    X(S_FOLD_DROP, "DELETE FROM recent_rows WHERE start_ms < ?1")                                  \
    X(S_IV_RANGE, IV_RANGE)                                                                        \
    X(S_IV_RECENT, RECENT_RANGE)                                                                   \
    X(S_SCAN0_RECENT, RECENT_RANGE)                                                                \
    X(S_SCAN0, IV_RANGE) /* S_SCAN0 + level: a cursor per level */                                 \
    X(S_SCAN1, IV_RANGE)                                                                           \
    X(S_SCAN2, IV_RANGE)                                                                           \
    X(S_SCAN3, IV_RANGE)                                                                           \
    X(S_WSTATS_PUT, "INSERT OR REPLACE INTO window_stats VALUES(?1, ?2, ?3, ?4)")                  \
    X(S_WSTATS_GET, "SELECT stats FROM window_stats WHERE series_id = ?1 AND resolution_ms = ?2"   \
                    " AND start_ms = ?3")                                                          \
    X(S_WSTATS_RANGE, "SELECT s.service, s.env, w.start_ms, w.stats FROM window_stats w"           \
                      " JOIN series s ON s.id = w.series_id WHERE w.resolution_ms = ?1"            \
                      " AND w.start_ms >= ?2 AND w.start_ms < ?3 ORDER BY w.start_ms")             \
    X(S_WSTATS_PRUNE, "DELETE FROM window_stats WHERE series_id = ?1 AND resolution_ms = ?2"       \
                      " AND start_ms < ?3")                                                        \
    X(S_MARK, "INSERT OR IGNORE INTO rollup_pending VALUES(?1, ?2, ?3)")                           \
    X(S_DATA_VERSION, "PRAGMA data_version")                                                       \
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
    X(S_SERIES_NAMES, "SELECT DISTINCT service FROM series WHERE service > ?1 AND service < ?2"    \
                      " ORDER BY service")                                                         \
    X(S_RULES_PUT, "INSERT OR REPLACE INTO rules VALUES(?1, ?2)")                                  \
    X(S_RULES_AT, "SELECT since_ms, text FROM rules WHERE since_ms <= ?1"                          \
                  " ORDER BY since_ms DESC LIMIT 1")                                               \
    X(S_AUDIT_PUT, "INSERT INTO gate_audits(at_ms, who, service, env, window_ms, verdict, checks)" \
                   " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)")                                          \
    X(S_AUDIT_RANGE, "SELECT at_ms, who, service, env, window_ms, verdict, checks"                 \
                     " FROM gate_audits WHERE at_ms >= ?1 AND at_ms < ?2 ORDER BY at_ms, id")      \
    X(S_DEPLOY_PUT,                                                                                \
      "INSERT OR REPLACE INTO deployments(service, env, at_ms, who, policy_override)"              \
      " VALUES(?1, ?2, ?3, ?4, ?5)")                                                               \
    /* The bare policy_override beside MAX() is SQLite's: the value of the row with the max. */    \
    X(S_DEPLOY_LAST, "SELECT service, env, MAX(at_ms), policy_override FROM deployments"           \
                     " GROUP BY service, env ORDER BY service, env")                               \
    X(S_DEPLOY_RANGE, "SELECT service, env, at_ms, who, policy_override FROM deployments"          \
                      " WHERE service = ?3 AND at_ms >= ?1 AND at_ms < ?2 ORDER BY at_ms, env")    \
    X(S_OVERRIDE_AUDIT, "INSERT INTO gate_audits(at_ms, who, service, env, window_ms, verdict,"    \
                        " checks) VALUES(?1, ?2, ?3, ?4, 0, 'override',"                           \
                        " json_object('policy_override', ?5))")                                    \
    X(S_OVERRIDE_RANGE, "SELECT service, env, at_ms, who, policy_override FROM deployments"        \
                        " WHERE policy_override IS NOT NULL AND at_ms >= ?1 AND at_ms < ?2"        \
                        " ORDER BY at_ms, service, env")                                           \
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

/* A series the writes have met (store_cache.c): its id and the last rollup mark its rows made. */
typedef struct sw_store_known {
    char *service, *env;
    int64_t id;
    int64_t marked_start; /* the 1 m period its last base row marked */
    uint64_t marked_gen;  /* the marks' generation then; 0: none */
} sw_store_known;

typedef struct sw_store_cache {
    sw_store_known *known;
    size_t n, cap;
    sw_u64map index;      /* hash of (service, env) -> known[] */
    uint64_t gen;         /* moves whenever a rollup mark may have gone */
    int64_t data_version; /* PRAGMA data_version last read: other connections' commits */
} sw_store_cache;

struct sw_store {
    sqlite3 *db;
    pthread_mutex_t mu;
    int schema_version;
    int64_t res_ms[LEVELS]; /* base, 1 m, 1 h, 1 d */
    int64_t keep_ms[LEVELS];
    int64_t kept_from[LEVELS]; /* rows below were deleted by retention; writes there refused */
    sqlite3_stmt *stmt[STMT_COUNT];
    sw_buf enc;           /* histogram encodings, reused; under mu */
    sw_buf min_enc;       /* minute counts encodings, reused; under mu */
    sw_store_cache cache; /* under mu */
    bool checkpoint_in_rollup;
    pthread_mutex_t ckpt_mu; /* guards ckpt_db */
    sqlite3 *ckpt_db;        /* checkpoints' own connection (store_write.c); NULL until one */
    sw_store_pin_fn pin;     /* NULL: rollup rows are not pinned */
    void *pin_ctx;
    char path[PATH_MAX];
};

/*
 * One series' rows at one level starting in [from, to), oldest first, read through the
 * statement s: at the base level the folded rows, then (recent not NULL) the recent ones, which
 * all start later (store_recent.c).
 */
typedef struct sw_store_range {
    sqlite3_stmt *s;      /* the statement whose row is current */
    sqlite3_stmt *first;  /* the folded rows' */
    sqlite3_stmt *recent; /* the recent rows', read once first is done; NULL above the base */
    int64_t sid, res, from, to;
} sw_store_range;

/* Column order of IV_COLUMNS. */
enum {
    C_START,
    C_LENGTH,
    C_REQ,
    C_ERR,
    C_PROBES,
    C_FAIL,
    C_LEAD,
    C_TRAIL,
    C_LONG,
    C_HAS,
    C_LAT,
    C_MIN
};

/* Helpers shared among the store's files. */
sw_status sw_store_run(sw_store *st, sqlite3_stmt *s, const char *what, sw_err *err);
sw_status sw_store_step(sw_store *st, sqlite3_stmt *s, bool *ret_row, const char *what,
                        sw_err *err);
int64_t sw_store_floor_to(int64_t v, int64_t period);
const char *sw_store_env_or_empty(const char *env);
const char *sw_store_env_or_null(const char *env);
const char *sw_store_col_text(sqlite3_stmt *s, int col);
sw_status sw_store_txn_begin(sw_store *st, sw_err *err);
sw_status sw_store_txn_finish(sw_store *st, sw_status r, sw_err *err);
sw_status sw_store_txn_end(sw_store *st, sw_status r, sw_err *err);
sw_status sw_store_series_id(sw_store *st, const char *service, const char *env, int64_t *ret,
                             sw_err *err);
void sw_store_cache_init(sw_store_cache *c);
void sw_store_cache_fini(sw_store_cache *c);
sw_status sw_store_cache_sync(sw_store *st, sw_err *err);
void sw_store_cache_marks_moved(sw_store *st);
void sw_store_cache_rolled_back(sw_store *st);
sw_status sw_store_cache_series(sw_store *st, const char *service, const char *env, int64_t *ret_id,
                                sw_store_known **ret_known, sw_err *err);
bool sw_store_cache_marked(const sw_store *st, const sw_store_known *k, int64_t start_ms);
void sw_store_cache_note_mark(sw_store *st, sw_store_known *k, int64_t start_ms);
void sw_store_read_counts(sqlite3_stmt *s, sw_sli_interval *iv);
sw_status sw_store_read_interval(sw_store *st, sqlite3_stmt *s, sw_sli_interval *iv, sw_err *err);
void sw_store_note_minute(sw_hour_minutes *hm, int64_t hour_start, const sw_sli_interval *iv);
sw_status sw_store_mark_pending(sw_store *st, int level, int64_t sid, int64_t start_ms,
                                sw_err *err);
sw_status sw_store_pin_period(sw_store *st, int level, int64_t sid, int64_t start, sw_hdr *latency,
                              sw_err *err);
sw_status sw_store_put_window_stats_rows(sw_store *st, const sw_store_window_stats *ws, size_t n,
                                         sw_err *err);
void sw_store_range_open(sw_store *st, sw_store_range *rg, int level, sqlite3_stmt *first,
                         sqlite3_stmt *recent, int64_t sid, int64_t from, int64_t to);
sw_status sw_store_range_step(sw_store *st, sw_store_range *rg, bool *ret_row, const char *what,
                              sw_err *err);
void sw_store_range_reset(sw_store_range *rg);
sw_status sw_store_recent_from(sw_store *st, int64_t *ret, sw_err *err);
sw_status sw_store_fold(sw_store *st, sw_err *err);
sw_status sw_store_recent_prune(sw_store *st, int64_t horizon, sw_err *err);
sw_status sw_store_merge_period(sw_store *st, int level, int64_t sid, int64_t start,
                                sw_sli_interval *acc, sw_hour_minutes *hm, size_t *ret_rows,
                                sw_err *err);

#endif
