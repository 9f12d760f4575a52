/*
 * Writing files that survive a crash (durable.h).
 */
#include "slawatch/durable.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

sw_status
sw_durable_write_all(int fd, const uint8_t *p, size_t n, const char *path, sw_err *err)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return sw_err_sys(err, SW_E_IO, "%s: cannot write", path);
        p += w;
        n -= (size_t)w;
    }
    return SW_OK;
}

sw_status
sw_durable_sync_dir_of(const char *path, sw_err *err)
{
    char *copy = strdup(path);
    if (copy == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory");
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    sw_status st = SW_OK;
    if (fd < 0 || fsync(fd) != 0)
        st = sw_err_sys(err, SW_E_IO, "%s: cannot sync its directory", path);
    if (fd >= 0)
        close(fd);
    free(copy);
    return st;
}
