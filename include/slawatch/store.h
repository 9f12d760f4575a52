/*
 * The store: SLI intervals, their 1 m / 1 h / 1 d rollups, rules history, gate audits,
 * deployment marks and alert/trigger events in one SQLite database (dir/slawatch.db, WAL mode).
 * Every write is one transaction: a committed call survives kill -9; a failed one (disk full,
 * read-only file) is rolled back whole and may be retried with the same arguments.
 *
 * Threads: one sw_store may be shared by any number of threads. It holds one connection behind a
 * mutex; each call takes it for its transaction (rollups and scans release it between chunks or
 * series, so interval writes are not held up for long). Callbacks run with the mutex held: they
 * must not call back into the same store.
 */
#ifndef SLAWATCH_STORE_H
#define SLAWATCH_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slawatch/err.h"
#include "slawatch/minute_counts.h"
#include "slawatch/sli.h"

typedef struct sw_store sw_store;

/* Rollup resolutions; 1 d periods are UTC days. */
#define SW_STORE_1M_MS INT64_C(60000)
#define SW_STORE_1H_MS INT64_C(3600000)
#define SW_STORE_1D_MS INT64_C(86400000)

#define SW_STORE_DB_NAME "slawatch.db"

/*
 * Zero fields take the defaults: base 10 s; kept 2 d / 35 d / 400 d / 5 y (5 * 365 d). Each
 * resolution must be kept at least one period of the next coarser one (a day for 1 d rows), so a
 * period is always rolled up before its finer rows go.
 */
typedef struct sw_store_options {
    int64_t base_interval_ms;  /* must divide one minute; 0: the one recorded (new: 10 s) */
    int64_t retention_base_ms; /* how long base rows are kept */
    int64_t retention_1m_ms;
    int64_t retention_1h_ms;
    int64_t retention_1d_ms;
    int64_t max_db_bytes; /* 0: no cap; past it writes fail as on a full disk */
    /* The WAL copied into the database (a checkpoint, with its two fsyncs) by sw_store_rollup
     * only, not by the write whose commit fills it: for a writer whose rollups run on a thread
     * of their own (serve), so its writes never wait for a checkpoint. */
    bool checkpoint_in_rollup;
} sw_store_options;

/*
 * Open (creating dir and the database when missing) and bring the schema to the current version,
 * each migration in its own transaction. opt may be NULL (defaults). A database created with
 * another base interval than one given is refused (SW_E_INVAL); without one, the recorded one
 * is used (readers: export, report). An unwritable directory, a read-only or corrupt file, or a
 * database file of zero bytes (its contents lost): SW_E_IO naming the path. The caller frees *ret
 * with sw_store_close().
 */
sw_status sw_store_open(const char *dir, const sw_store_options *opt, sw_store **ret, sw_err *err);

/* Close; sw_store_close(NULL) does nothing. No call may be running on st. */
void sw_store_close(sw_store *st);

/* Schema version of the open database (after migrations: the latest this build knows). */
int sw_store_schema_version(sw_store *st);

/* The pages the store's connection has written since it opened (SQLite's cache writes: WAL
 * frames at commits and when dirty pages spill before one), for measuring what writes cost. */
int64_t sw_store_pages_written(sw_store *st);

/* One interval of one series. env NULL or "" means no environment label. */
typedef struct sw_store_row {
    const char *service;
    const char *env;
    const sw_sli_interval *iv;
} sw_store_row;

/*
 * Write base-resolution intervals (start_ms a multiple of the base interval), all in one
 * transaction; a row with the key (service, env, start_ms) of a stored one replaces it, so
 * redelivery is harmless. The periods they fall in are marked for sw_store_rollup().
 * SW_E_INVAL for a bad row (no service, unaligned start), SW_E_RANGE for a start older than what
 * retention has already removed (its rollup could no longer be exact), SW_E_IO for storage
 * failures (the message says "disk full" or "read-only" when that is the cause): nothing of the
 * batch is stored then, and the caller keeps the rows and retries later.
 */
sw_status sw_store_put(sw_store *st, const sw_store_row *rows, size_t n, sw_err *err);

/*
 * sw_store_put(), and record in the same transaction that every interval starting before
 * taken_until_ms that will ever be stored is stored: the ingest journal's replay starts there.
 */
sw_status sw_store_put_taken(sw_store *st, const sw_store_row *rows, size_t n,
                             int64_t taken_until_ms, sw_err *err);

/* A row's latency histogram as the store writes it (sw_hdr_encode, uncompressed V2), made by
 * the caller already; data NULL: the store encodes the row's histogram itself. */
typedef struct sw_store_encoded {
    const uint8_t *data;
    size_t len;
} sw_store_encoded;

/* sw_store_put_taken(), row i's latency written as latency[i] (which must be the encoding of
 * rows[i].iv->latency) when given: a histogram the journal encoded is not encoded again. */
sw_status sw_store_put_taken_encoded(sw_store *st, const sw_store_row *rows,
                                     const sw_store_encoded *latency, size_t n,
                                     int64_t taken_until_ms, sw_err *err);

/* What the last sw_store_put_taken() recorded; INT64_MIN when none did. */
sw_status sw_store_taken_until(sw_store *st, int64_t *ret, sw_err *err);

/*
 * The start of the first minute whose base rows are not yet rolled up into its 1 m row (the
 * minutes from there on are read from base rows); INT64_MAX when none waits.
 */
sw_status sw_store_first_unrolled_minute(sw_store *st, int64_t *ret, sw_err *err);

/*
 * Write rows at a rollup resolution (SW_STORE_1M_MS, _1H_MS or _1D_MS, start_ms aligned to it)
 * directly, as sw_store_put() does for base rows: for importing history already aggregated
 * elsewhere. The coarser periods they fall in are marked for rollup; finer rows written later into
 * the same period replace the imported row by their rollup. Same errors as sw_store_put().
 */
sw_status sw_store_import(sw_store *st, int64_t resolution_ms, const sw_store_row *rows, size_t n,
                          sw_err *err);

/*
 * A window's own statistics from its source (CloudWatch's figures for an hour or a day as one
 * period), kept opaque: the store hands them to the pin function when it builds the window's
 * rollup row. resolution_ms is the row's (1 h or 1 d), start_ms a multiple of it.
 */
typedef struct sw_store_window_stats {
    const char *service;
    const char *env; /* NULL or "": none */
    int64_t resolution_ms;
    int64_t start_ms;
    const void *data;
    size_t len;
} sw_store_window_stats;

/*
 * Called by the rollup with a row's merged latency (never NULL) and the statistics stored for
 * its window: may move the histogram's values, must keep its total (the row's counts are the
 * finer rows' sums). An error fails the rollup transaction.
 */
typedef sw_status (*sw_store_pin_fn)(void *ctx, const void *stats, size_t len, sw_hdr *latency,
                                     sw_err *err);

/* Visitor of sw_store_scan_window_stats(): env NULL for none; stats valid during the call. */
typedef sw_status (*sw_store_window_stats_visit)(void *ctx, const char *service, const char *env,
                                                 int64_t start_ms, const void *stats, size_t len,
                                                 sw_err *err);

/*
 * Every window's statistics stored at resolution_ms with a start in [from_ms, to_ms), oldest
 * first: for a reader that pins its own copies of the rows (the evaluator's packed hours after a
 * start from a checkpoint). Stops at the visitor's first error.
 */
sw_status sw_store_scan_window_stats(sw_store *st, int64_t resolution_ms, int64_t from_ms,
                                     int64_t to_ms, sw_store_window_stats_visit fn, void *ctx,
                                     sw_err *err);

/* The pin function rollups call from now on (NULL: rows are their finer rows' sum). Set it
 * before any thread uses st. */
void sw_store_set_pin(sw_store *st, sw_store_pin_fn fn, void *ctx);

/*
 * Store windows' statistics (replacing any of the same window) in one transaction and mark
 * their windows for sw_store_rollup(), which rebuilds the rows pinned to them. Errors as
 * sw_store_import(); SW_E_INVAL for a resolution that is not 1 h or 1 d or an unaligned start.
 */
sw_status sw_store_put_window_stats(sw_store *st, const sw_store_window_stats *ws, size_t n,
                                    sw_err *err);

/*
 * sw_store_import() and sw_store_put_window_stats() of stats[0..n_stats), and record the mark
 * (a short key, e.g. a backfill chunk's) as done in the same transaction: a mark that
 * sw_store_is_done() finds means its rows are all stored, so an interrupted job resumes after
 * its last done mark. Same errors as sw_store_import().
 */
sw_status sw_store_import_done(sw_store *st, int64_t resolution_ms, const sw_store_row *rows,
                               size_t n, const sw_store_window_stats *stats, size_t n_stats,
                               const char *mark, sw_err *err);

/* Whether mark was recorded by sw_store_import_done(). */
sw_status sw_store_is_done(sw_store *st, const char *mark, bool *ret, sw_err *err);

/*
 * Build 1 m, 1 h and 1 d rows from the next finer resolution for every marked period that ended
 * at or before now_ms (counts add, histograms merge, health composes in time order), then delete
 * rows older than each resolution's retention (whole coarser periods at a time), and move the base
 * rows of each minute a minute older than the newest from the table the writes append to into
 * the one kept in series order (a transaction a minute: store_recent.c). Incremental:
 * only periods written since the last call are rebuilt. Runs in chunks of transactions, each
 * leaving the database consistent, so it may be interrupted at any moment.
 */
sw_status sw_store_rollup(sw_store *st, int64_t now_ms, sw_err *err);

/*
 * Scan visitor: service, env (NULL when none) and the interval are lent for the call. A status
 * other than SW_OK stops the scan, which returns it.
 */
typedef sw_status (*sw_store_visit)(void *ctx, const char *service, const char *env,
                                    const sw_sli_interval *iv, sw_err *err);

/*
 * Visit, series by series (service NULL: every series, else that service's), in increasing start
 * order, stored intervals starting in [from_ms, to_ms), each instant covered at most once. Before
 * fine_from_ms the coarsest row that ends by fine_from_ms is used (1 d, else 1 h, else 1 m, else
 * base); from fine_from_ms on the finest one (base rows, else the finest rollup still holding a
 * period whose finer rows retention removed). fine_from_ms = to_ms: coarsest; = from_ms: finest.
 */
sw_status sw_store_scan(sw_store *st, const char *service, int64_t from_ms, int64_t to_ms,
                        int64_t fine_from_ms, sw_store_visit fn, void *ctx, sw_err *err);

/*
 * sw_store_scan() using, before fine_from_ms, no row coarser than coarsest_ms (e.g. hours where a
 * window that slides by the hour must let each hour leave on its own; a period held only in
 * coarser rows is still visited, as those rows).
 */
sw_status sw_store_scan_upto(sw_store *st, const char *service, int64_t from_ms, int64_t to_ms,
                             int64_t fine_from_ms, int64_t coarsest_ms, sw_store_visit fn,
                             void *ctx, sw_err *err);

/*
 * Visitor of sw_store_scan_encoded(): iv without its histogram (iv->latency NULL), latency its
 * stored encoding (sw_hdr_encode's; NULL when the row has none), both valid during the call only.
 */
typedef sw_status (*sw_store_encoded_visit)(void *ctx, const char *service, const char *env,
                                            const sw_sli_interval *iv, const uint8_t *latency,
                                            size_t latency_len, sw_err *err);

/*
 * sw_store_scan_upto() handing each row's histogram over as stored, undecoded: for a visitor
 * that keeps it in another form (the evaluator's packed histograms), so no histogram is built
 * per row. The visitor decodes, and refuses what does not decode.
 */
sw_status sw_store_scan_encoded(sw_store *st, const char *service, int64_t from_ms, int64_t to_ms,
                                int64_t fine_from_ms, int64_t coarsest_ms,
                                sw_store_encoded_visit fn, void *ctx, sw_err *err);

/*
 * Visit the rows of one resolution only (the base interval, SW_STORE_1M_MS, _1H_MS or _1D_MS),
 * series by series as sw_store_scan() does, starting in [from_ms, to_ms). Without with_latency
 * the histograms are not decoded (iv->latency is NULL): counts-only passes over many rows.
 * SW_E_INVAL for another resolution.
 */
sw_status sw_store_scan_level(sw_store *st, const char *service, int64_t resolution_ms,
                              int64_t from_ms, int64_t to_ms, bool with_latency, sw_store_visit fn,
                              void *ctx, sw_err *err);

/*
 * Visitor of sw_store_scan_hours(): minutes are the hour's per-minute counts, NULL when neither
 * the row nor 1 m rows hold them (an hour imported at 1 h, or whose 1 m rows retention removed
 * before slawatch kept minute counts on hour rows).
 */
typedef sw_status (*sw_store_hour_visit)(void *ctx, const char *service, const char *env,
                                         const sw_sli_interval *iv,
                                         const sw_hour_minutes *minutes, sw_err *err);

/*
 * Visit the hours starting in [from_ms, to_ms), series by series in start order, each with the
 * per-minute counts it was rolled up from: a month of one series in 744 rows, exact to the
 * minute. An hour not rolled up yet is visited as the rollup will build it from its 1 m rows
 * (base rows not yet rolled up into minutes are not seen). Without with_latency iv->latency is
 * NULL.
 */
sw_status sw_store_scan_hours(sw_store *st, const char *service, int64_t from_ms, int64_t to_ms,
                              bool with_latency, sw_store_hour_visit fn, void *ctx, sw_err *err);

/* Record the rules text (len bytes) in force from at_ms, unless it equals the latest recorded. */
sw_status sw_store_put_rules(sw_store *st, int64_t at_ms, const char *text, size_t len,
                             sw_err *err);

/*
 * The rules text in force at at_ms: *ret_text (malloc'd, NUL-terminated, caller frees), its
 * length and the time it was recorded from. SW_E_INVAL when no rules were recorded by at_ms.
 */
/* Each service name of the stored series that starts with prefix (a service's label values:
 * "SERVICE\x1fLABEL=", rules.h), in byte order; visit's error stops the listing. */
typedef sw_status (*sw_store_name_visit)(void *ctx, const char *service, sw_err *err);
sw_status sw_store_service_names(sw_store *st, const char *prefix, sw_store_name_visit visit,
                                 void *ctx, sw_err *err);

sw_status sw_store_rules_at(sw_store *st, int64_t at_ms, char **ret_text, size_t *ret_len,
                            int64_t *ret_since_ms, sw_err *err);

/* One answer of the deploy gate. Strings are borrowed; env NULL or "" = none. */
typedef struct sw_store_gate_audit {
    int64_t at_ms;
    const char *who; /* remote address or caller identity */
    const char *service;
    const char *env;
    int64_t window_ms;
    const char *verdict;
    const char *checks_json; /* the checks as JSON text */
} sw_store_gate_audit;

sw_status sw_store_put_gate_audit(sw_store *st, const sw_store_gate_audit *a, sw_err *err);

/* n audits in one transaction (the daemon writes a tick's worth at once). */
sw_status sw_store_put_gate_audits(sw_store *st, const sw_store_gate_audit *a, size_t n,
                                   sw_err *err);

typedef sw_status (*sw_store_gate_audit_visit)(void *ctx, const sw_store_gate_audit *a,
                                               sw_err *err);

/* Visit the audits with at_ms in [from_ms, to_ms) in time order (env NULL when none). */
sw_status sw_store_gate_audits(sw_store *st, int64_t from_ms, int64_t to_ms,
                               sw_store_gate_audit_visit fn, void *ctx, sw_err *err);

/*
 * Record a deployment of service (env NULL or "" = none) at at_ms by who. With a
 * policy_override (not NULL or ""; the gate's error-budget policy), the same transaction also
 * writes a gate audit with verdict "override" and checks {"policy_override": ...}.
 */
sw_status sw_store_put_deployment(sw_store *st, const char *service, const char *env, int64_t at_ms,
                                  const char *who, const char *policy_override, sw_err *err);

/* policy_override NULL when the mark has none. */
typedef sw_status (*sw_store_deployment_visit)(void *ctx, const char *service, const char *env,
                                               int64_t at_ms, const char *policy_override,
                                               sw_err *err);

/* Visit the latest deployment mark of every series (env NULL when none). */
sw_status sw_store_last_deployments(sw_store *st, sw_store_deployment_visit fn, void *ctx,
                                    sw_err *err);

/* A deployment marked with a policy_override. Strings are borrowed; env NULL when none. */
typedef struct sw_store_override {
    const char *service;
    const char *env;
    int64_t at_ms;
    const char *who;
    const char *policy_override;
} sw_store_override;

typedef sw_status (*sw_store_override_visit)(void *ctx, const sw_store_override *o, sw_err *err);

/* Visit the marks with a policy_override and at_ms in [from_ms, to_ms), in time order. */
sw_status sw_store_policy_overrides(sw_store *st, int64_t from_ms, int64_t to_ms,
                                    sw_store_override_visit fn, void *ctx, sw_err *err);

/*
 * Visit service's deployment marks with at_ms in [from_ms, to_ms), in time order, as
 * sw_store_override records (policy_override NULL when the mark has none).
 */
sw_status sw_store_deployments(sw_store *st, const char *service, int64_t from_ms, int64_t to_ms,
                               sw_store_override_visit fn, void *ctx, sw_err *err);

/* An alert or trigger state change. Strings are borrowed; env NULL or "" = none. */
typedef struct sw_store_event {
    const char *kind; /* "alert" or "trigger" */
    const char *name;
    const char *service;
    const char *env;
    const char *state; /* "firing" or "resolved" */
    int64_t at_ms;
    double value;       /* the measured value that decided; NAN when unknown */
} sw_store_event;

/* SW_E_INVAL for another kind or state. */
sw_status sw_store_put_event(sw_store *st, const sw_store_event *e, sw_err *err);

/* n events in one transaction (a tick's alert and trigger changes), or none of them when one
 * is refused. */
sw_status sw_store_put_events(sw_store *st, const sw_store_event *e, size_t n, sw_err *err);

typedef sw_status (*sw_store_event_visit)(void *ctx, const sw_store_event *e, sw_err *err);

/* Visit the events with at_ms in [from_ms, to_ms) in time order (then in recording order). */
sw_status sw_store_events(sw_store *st, int64_t from_ms, int64_t to_ms, sw_store_event_visit fn,
                          void *ctx, sw_err *err);

/* The record tables a caller's requests can grow, and what pruning keeps of them. */
typedef enum sw_store_record {
    SW_STORE_GATE_AUDITS,
    SW_STORE_DEPLOYMENTS,
    SW_STORE_EVENTS,
} sw_store_record;

typedef struct sw_store_keep {
    int64_t max_age_ms; /* rows older than now - max_age_ms go; 0: no age limit */
    int64_t max_rows;   /* past this many, the oldest rows go; 0: no count limit */
} sw_store_keep;

/*
 * Delete the rows of table which past keep, adding how many to *ret_deleted (age first, then
 * count; audits and events in recording order). A series' latest deployment mark is always
 * kept, whatever its age or the count. Runs in transactions of a bounded number of rows, so
 * writers wait at most one of them; SW_E_IO for storage failures (rows deleted until then stay
 * deleted).
 */
sw_status sw_store_prune(sw_store *st, sw_store_record which, int64_t now_ms,
                         const sw_store_keep *keep, uint64_t *ret_deleted, sw_err *err);

/*
 * A named 64-bit value of the caller's (e.g. what the report schedule delivered), read and
 * written in its own transaction: *ret_found false when the key was never written. Keys starting
 * "done:" and "taken_until_ms" are the store's own (SW_E_INVAL). keep_existing: a key already
 * written keeps its value (the first writer wins).
 */
sw_status sw_store_meta_get(sw_store *st, const char *key, int64_t *ret, bool *ret_found,
                            sw_err *err);
sw_status sw_store_meta_put(sw_store *st, const char *key, int64_t value, bool keep_existing,
                            sw_err *err);

/* PRAGMA integrity_check: SW_OK when it says "ok", else SW_E_IO with its first complaint. */
sw_status sw_store_integrity_check(sw_store *st, sw_err *err);

#endif
