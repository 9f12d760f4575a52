/*
 * Snappy block compression (libsnappy behind it; the only module that sees libsnappy's
 * compressor), for the remote-write sender: the 1.0 protocol compresses each request body
 * with the block format, not the framed one. Stateless and thread-safe.
 */
#ifndef SLAWATCH_SNAPPY_COMPRESS_H
#define SLAWATCH_SNAPPY_COMPRESS_H

#include <stddef.h>

#include "slawatch/buf.h"
#include "slawatch/err.h"

/*
 * Append the snappy block compression of in[0..n) to out. SW_E_TOOBIG when the compressed
 * form could exceed out's cap, SW_E_NOMEM on allocation failure; out is unchanged on error.
 */
sw_status sw_snappy_compress(const void *in, size_t n, sw_buf *out, sw_err *err);

#endif
