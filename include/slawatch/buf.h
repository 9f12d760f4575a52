/*
 * A growable byte buffer with a hard size cap, for encoders and anything that builds bytes
 * from untrusted sizes. The caller owns the struct; the buffer owns its data. Growing past
 * `max` fails with SW_E_TOOBIG instead of allocating without bound.
 */
#ifndef SLAWATCH_BUF_H
#define SLAWATCH_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "slawatch/err.h"

typedef struct sw_buf {
    uint8_t *data; /* NULL until the first append; not NUL-terminated unless sw_buf_cstr */
    size_t len;
    size_t cap;
    size_t max; /* cap on len, in bytes */
} sw_buf;

/* Start empty with a size cap; allocates nothing. */
void sw_buf_init(sw_buf *b, size_t max);

/* Release the data; the struct may be initialised again. */
void sw_buf_fini(sw_buf *b);

/* Drop the contents, keeping the allocation for reuse. */
void sw_buf_reset(sw_buf *b);

/* Make room for `extra` more bytes; SW_E_TOOBIG past the cap, SW_E_NOMEM on failure. */
sw_status sw_buf_reserve(sw_buf *b, size_t extra, sw_err *err);

sw_status sw_buf_append(sw_buf *b, const void *data, size_t n, sw_err *err);

sw_status sw_buf_printf(sw_buf *b, sw_err *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Read the next line of f into b, replacing its contents, without the line feed (NUL bytes are
 * kept as data). *ret_got is false at the end of input. A line longer than b->max is
 * SW_E_TOOBIG: memory stays bounded whatever the input. SW_E_IO on a read error.
 */
sw_status sw_buf_getline(sw_buf *b, FILE *f, bool *ret_got, sw_err *err);

/* NUL-terminate (without counting the NUL in len) and return the data as a string. */
const char *sw_buf_cstr(sw_buf *b, sw_err *err);

#endif
