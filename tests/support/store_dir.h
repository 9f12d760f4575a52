/*
 * A store's directory for a test, removed with every file SQLite may leave in it (the
 * database, its WAL, the WAL's index and a rollback journal).
 */
#ifndef SLAWATCH_TEST_STORE_DIR_H
#define SLAWATCH_TEST_STORE_DIR_H

#include <stdio.h>
#include <unistd.h>

static inline void
store_dir_remove(const char *dir)
{
    static const char *const names[] = {"slawatch.db", "slawatch.db-wal", "slawatch.db-shm",
                                        "slawatch.db-journal"};
    char path[256];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
}

#endif
