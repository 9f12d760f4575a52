/*
 * A store as slawatch left it before migration 5 (one intervals table for every row, no recent
 * rows), made from a newer one by undoing that migration: for the tests that open old stores.
 */
#ifndef SLAWATCH_TEST_STORE_V4_H
#define SLAWATCH_TEST_STORE_V4_H

#include <sqlite3.h>
#include <stdio.h>

/* Run sql on the store file in dir, as an older slawatch (or a hand) would have left it. */
static inline int
store_file_exec(const char *dir, const char *sql)
{
    char path[256];
    snprintf(path, sizeof path, "%s/slawatch.db", dir);
    sqlite3 *db = NULL;
    int rc = sqlite3_open(path, &db);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_close(db);
    return rc;
}

#define UNDO_RECENT_ROWS                                                                           \
    "DROP VIEW intervals; INSERT INTO series_rows SELECT * FROM recent_rows;"                      \
    "DROP TABLE recent_rows; ALTER TABLE series_rows RENAME TO intervals;"                         \
    "DELETE FROM meta WHERE key = 'recent_from_ms';"

#endif
