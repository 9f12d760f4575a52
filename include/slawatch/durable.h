/*
 * Writing files that survive a crash: every byte written, and a rename made durable. The
 * journal and the evaluator's checkpoint both replace files this way (temporary file, fsync,
 * rename, directory fsync).
 */
#ifndef SLAWATCH_DURABLE_H
#define SLAWATCH_DURABLE_H

#include <stddef.h>
#include <stdint.h>

#include "slawatch/err.h"

/* All n bytes of p to fd, through short writes and EINTR; path names the file in errors. */
sw_status sw_durable_write_all(int fd, const uint8_t *p, size_t n, const char *path, sw_err *err);

/* fsync the directory holding path: a rename to path is durable once it returns SW_OK. */
sw_status sw_durable_sync_dir_of(const char *path, sw_err *err);

#endif
