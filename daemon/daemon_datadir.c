/*
 * Start-up checks that come before anything is written: the files the HTTP server will read
 * and the data directory. Checking them first lets the error name the file or directory the
 * operator must fix (rather than a SQLite file inside it), and a directory created by a start
 * that then fails is removed again, so a failed start leaves nothing behind.
 */
#include "daemon_int.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "slawatch/store.h"

sw_status
sw_daemon_check_readable(const char *path, const char *what, sw_err *err)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return sw_err_sys(err, SW_E_IO, "cannot read %s %s", what, path);
    fclose(f);
    return SW_OK;
}

sw_status
sw_daemon_data_dir_prepare(const char *dir, bool *ret_created, sw_err *err)
{
    struct stat sb;
    *ret_created = false;
    if (stat(dir, &sb) != 0) {
        if (errno != ENOENT && errno != ENOTDIR)
            return sw_err_sys(err, SW_E_IO, "cannot use data directory %s", dir);
        if (mkdir(dir, 0750) != 0)
            return sw_err_sys(err, SW_E_IO, "cannot create data directory %s", dir);
        *ret_created = true;
        return SW_OK;
    }
    if (!S_ISDIR(sb.st_mode))
        return sw_err_set(err, SW_E_IO, "data directory %s is not a directory", dir);
    /* The store needs to list, read and create files (its WAL and shared-memory files). */
    if (access(dir, R_OK | W_OK | X_OK) != 0)
        return sw_err_sys(err, SW_E_IO, "cannot use data directory %s", dir);
    return SW_OK;
}

void
sw_daemon_data_dir_discard(const char *dir)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    char path[4096];
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++)
        if ((size_t)snprintf(path, sizeof path, "%s/%s%s", dir, SW_STORE_DB_NAME, suffixes[i]) <
            sizeof path)
            unlink(path);
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, SW_DAEMON_JOURNAL_NAME) < sizeof path)
        unlink(path);
    rmdir(dir); /* fails, keeping it, if anything else was put there meanwhile */
}
