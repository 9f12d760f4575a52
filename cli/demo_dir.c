/*
 * The demo's data directory. Every run tells a fresh story: a temporary directory (removed on
 * exit, Ctrl-C included), or --data DIR that is new, empty, or holds a previous demo's store
 * (recognised by the marker file the demo leaves beside it), which is replaced. A store the demo
 * did not write is refused, never deleted.
 */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "slawatch/daemon.h"

#define MARKER "slawatch-demo.txt"

static bool
exists_in(const char *dir, const char *name)
{
    char path[PATH_MAX];
    struct stat sb;
    return (size_t)snprintf(path, sizeof path, "%s/%s", dir, name) < sizeof path &&
           stat(path, &sb) == 0;
}

/* The store's files, the ingest journal, the evaluator's checkpoint and the marker; what else
 * is in the directory stays. */
static void
remove_store(const char *dir)
{
    static const char *const names[] = {SW_STORE_DB_NAME,
                                        SW_STORE_DB_NAME "-wal",
                                        SW_STORE_DB_NAME "-shm",
                                        SW_STORE_DB_NAME "-journal",
                                        SW_DAEMON_JOURNAL_NAME,
                                        SW_DAEMON_CHECKPOINT_NAME,
                                        SW_DAEMON_CHECKPOINT_NAME ".tmp",
                                        MARKER};
    char path[PATH_MAX];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, names[i]) < sizeof path)
            unlink(path);
}

static sw_status
write_marker(const char *dir, sw_err *err)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, MARKER);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return sw_err_sys(err, SW_E_IO, "cannot write %s", path);
    fputs("This store was written by `slawatch demo`; a rerun with --data here replaces it.\n", f);
    return fclose(f) == 0 ? SW_OK : sw_err_sys(err, SW_E_IO, "cannot write %s", path);
}

static sw_status
make_temporary(sw_demo_dir *dd, sw_err *err)
{
    const char *tmp = getenv("TMPDIR");
    if (tmp == NULL || tmp[0] == '\0')
        tmp = "/tmp";
    if ((size_t)snprintf(dd->path, sizeof dd->path, "%s/slawatch-demo-XXXXXX", tmp) >=
            sizeof dd->path ||
        mkdtemp(dd->path) == NULL)
        return sw_err_sys(err, SW_E_IO, "cannot create a temporary directory in %s", tmp);
    dd->created = dd->temporary = true;
    return SW_OK;
}

static sw_status
take_given(sw_demo_dir *dd, const char *dir, sw_err *err)
{
    struct stat sb;
    if ((size_t)snprintf(dd->path, sizeof dd->path, "%s", dir) >= sizeof dd->path)
        return sw_err_set(err, SW_E_INVAL, "data directory %s: path too long", dir);
    if (stat(dir, &sb) != 0) {
        if (mkdir(dir, 0750) != 0)
            return sw_err_sys(err, SW_E_IO, "cannot create data directory %s", dir);
        dd->created = true;
        return SW_OK;
    }
    if (!S_ISDIR(sb.st_mode))
        return sw_err_set(err, SW_E_IO, "data directory %s is not a directory", dir);
    if (!exists_in(dir, SW_STORE_DB_NAME))
        return SW_OK;
    if (!exists_in(dir, MARKER))
        return sw_err_set(err, SW_E_INVAL,
                          "%s holds a store the demo did not write; it tells its story in a new, "
                          "empty or previous demo's directory",
                          dir);
    remove_store(dir);
    dd->replaced = true;
    return SW_OK;
}

sw_status
sw_demo_dir_open(const char *data, sw_demo_dir *dd, sw_err *err)
{
    *dd = (sw_demo_dir){0};
    sw_status st = data == NULL ? make_temporary(dd, err) : take_given(dd, data, err);
    if (st == SW_OK && (st = write_marker(dd->path, err)) != SW_OK)
        sw_demo_dir_close(dd, true);
    return st;
}

void
sw_demo_dir_close(const sw_demo_dir *dd, bool failed)
{
    if (!dd->temporary && !failed)
        return;
    remove_store(dd->path);
    if (dd->created)
        rmdir(dd->path);
}
