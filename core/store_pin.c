/*
 * Windows' own statistics and the rollup rows pinned to them. A source that answers the same
 * statistics for an hour as one period as for its minutes (CloudWatch) knows the hour better
 * than the sum of its minutes' reconstructions; the store keeps those statistics opaque, beside
 * the rows, and the rollup hands them with the merged row to the pin function the owner set
 * (the core cannot know the source's format). Rows are rebuilt from their finer rows whenever
 * those change, so the pin is applied at every rebuild, never stored in place of the sum.
 */
#include "store_int.h"

void
sw_store_set_pin(sw_store *st, sw_store_pin_fn fn, void *ctx)
{
    st->pin = fn;
    st->pin_ctx = ctx;
}

static int
level_of(const sw_store *st, int64_t resolution_ms)
{
    for (int level = L_HOUR; level < LEVELS; level++)
        if (st->res_ms[level] == resolution_ms)
            return level;
    return -1;
}

/* Inside the caller's transaction: each window's statistics, and its row marked for rebuild. */
sw_status
sw_store_put_window_stats_rows(sw_store *st, const sw_store_window_stats *ws, size_t n, sw_err *err)
{
    for (size_t i = 0; i < n; i++) {
        int level = level_of(st, ws[i].resolution_ms);
        if (level < 0 || ws[i].service == NULL ||
            sw_store_floor_to(ws[i].start_ms, ws[i].resolution_ms) != ws[i].start_ms)
            return sw_err_set(err, SW_E_INVAL,
                              "window statistics at %lld ms for %lld ms: not an hour or day "
                              "of a service",
                              (long long)ws[i].start_ms, (long long)ws[i].resolution_ms);
        if (ws[i].start_ms < st->kept_from[level])
            continue; /* retention removed the row: nothing left to pin */
        int64_t sid;
        sw_status r =
            sw_store_series_id(st, ws[i].service, sw_store_env_or_empty(ws[i].env), &sid, err);
        sqlite3_stmt *s = st->stmt[S_WSTATS_PUT];
        sqlite3_bind_int64(s, 1, sid);
        sqlite3_bind_int64(s, 2, ws[i].resolution_ms);
        sqlite3_bind_int64(s, 3, ws[i].start_ms);
        sqlite3_bind_blob(s, 4, ws[i].data, (int)ws[i].len, SQLITE_STATIC);
        if (r == SW_OK)
            r = sw_store_run(st, s, "write window statistics", err);
        else
            sqlite3_clear_bindings(s);
        if (r == SW_OK)
            r = sw_store_mark_pending(st, level, sid, ws[i].start_ms, err);
        if (r != SW_OK)
            return r;
    }
    return SW_OK;
}

sw_status
sw_store_put_window_stats(sw_store *st, const sw_store_window_stats *ws, size_t n, sw_err *err)
{
    sw_status r = sw_store_txn_begin(st, err);
    if (r != SW_OK)
        return r;
    return sw_store_txn_end(st, sw_store_put_window_stats_rows(st, ws, n, err), err);
}

/* Pin a rebuilt row's latency to its window's statistics, when both a pin and they exist. */
sw_status
sw_store_pin_period(sw_store *st, int level, int64_t sid, int64_t start, sw_hdr *latency,
                    sw_err *err)
{
    if (st->pin == NULL || level < L_HOUR)
        return SW_OK;
    sqlite3_stmt *s = st->stmt[S_WSTATS_GET];
    sqlite3_bind_int64(s, 1, sid);
    sqlite3_bind_int64(s, 2, st->res_ms[level]);
    sqlite3_bind_int64(s, 3, start);
    bool row = false;
    sw_status r = sw_store_step(st, s, &row, "read window statistics", err);
    if (r == SW_OK && row)
        r = st->pin(st->pin_ctx, sqlite3_column_blob(s, 0), (size_t)sqlite3_column_bytes(s, 0),
                    latency, err);
    sqlite3_reset(s);
    return r;
}

sw_status
sw_store_scan_window_stats(sw_store *st, int64_t resolution_ms, int64_t from_ms, int64_t to_ms,
                           sw_store_window_stats_visit fn, void *ctx, sw_err *err)
{
    sqlite3_stmt *s = st->stmt[S_WSTATS_RANGE];
    sqlite3_bind_int64(s, 1, resolution_ms);
    sqlite3_bind_int64(s, 2, from_ms);
    sqlite3_bind_int64(s, 3, to_ms);
    bool row = false;
    sw_status r;
    while ((r = sw_store_step(st, s, &row, "read window statistics", err)) == SW_OK && row) {
        const char *env = (const char *)sqlite3_column_text(s, 1);
        r = fn(ctx, (const char *)sqlite3_column_text(s, 0), env[0] != '\0' ? env : NULL,
               sqlite3_column_int64(s, 2), sqlite3_column_blob(s, 3),
               (size_t)sqlite3_column_bytes(s, 3), err);
        if (r != SW_OK)
            break;
    }
    sqlite3_reset(s);
    return r;
}
