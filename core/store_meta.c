/*
 * Named values in the store's meta table for callers outside the store (the report schedule's
 * deliveries): one key, one 64-bit integer, each write its own transaction, so a value read
 * back after a crash is one that was committed whole.
 */
#include "store_int.h"

#include <string.h>

/* Keys the store keeps for itself. */
static bool
reserved(const char *key)
{
    return strncmp(key, "done:", 5) == 0 || strcmp(key, "taken_until_ms") == 0;
}

sw_status
sw_store_meta_get(sw_store *st, const char *key, int64_t *ret, bool *ret_found, sw_err *err)
{
    sqlite3_stmt *s = NULL;
    pthread_mutex_lock(&st->mu);
    int rc = sqlite3_prepare_v2(st->db, "SELECT value FROM meta WHERE key = ?1", -1, &s, NULL);
    sw_status r = SW_OK;
    if (rc != SQLITE_OK) {
        r = sw_err_set(err, SW_E_IO, "%s: read %s: %s", st->path, key, sqlite3_errmsg(st->db));
    } else {
        sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
        r = sw_store_step(st, s, ret_found, "read a meta value", err);
        if (r == SW_OK && *ret_found)
            *ret = sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
    pthread_mutex_unlock(&st->mu);
    return r;
}

sw_status
sw_store_meta_put(sw_store *st, const char *key, int64_t value, bool keep_existing, sw_err *err)
{
    if (reserved(key))
        return sw_err_set(err, SW_E_INVAL, "meta key '%s' is the store's own", key);
    sw_status r = sw_store_txn_begin(st, err);
    if (r != SW_OK)
        return r;
    sqlite3_stmt *s = NULL;
    const char *sql = keep_existing ? "INSERT OR IGNORE INTO meta VALUES(?1, ?2)"
                                    : "INSERT OR REPLACE INTO meta VALUES(?1, ?2)";
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
        r = sw_err_set(err, SW_E_IO, "%s: write %s: %s", st->path, key, sqlite3_errmsg(st->db));
    } else {
        sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, value);
        r = sw_store_run(st, s, "write a meta value", err);
    }
    sqlite3_finalize(s);
    return sw_store_txn_end(st, r, err);
}
