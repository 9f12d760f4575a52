/*
 * A store as slawatch left it before migration 5 (one intervals table for every row, no recent
 * rows), made from a newer one by undoing that migration: for the tests that open old stores.
 */
#ifndef SLAWATCH_TEST_STORE_V4_H
#define SLAWATCH_TEST_STORE_V4_H

#define UNDO_RECENT_ROWS                                                                           \
    "DROP VIEW intervals; INSERT INTO series_rows SELECT * FROM recent_rows;"                      \
    "DROP TABLE recent_rows; ALTER TABLE series_rows RENAME TO intervals;"                         \
    "DELETE FROM meta WHERE key = 'recent_from_ms';"

#endif
