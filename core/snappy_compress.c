/*
 * Snappy block compression over libsnappy's C API. The output is reserved at snappy's worst
 * case first, so the compressor never runs out of room mid-way.
 */
#include "slawatch/snappy_compress.h"

#include <snappy-c.h>

sw_status
sw_snappy_compress(const void *in, size_t n, sw_buf *out, sw_err *err)
{
    size_t room = snappy_max_compressed_length(n);
    sw_status st = sw_buf_reserve(out, room, err);
    if (st != SW_OK)
        return st;
    if (snappy_compress(in, n, (char *)out->data + out->len, &room) != SNAPPY_OK)
        return sw_err_set(err, SW_E_TOOBIG, "snappy: %zu bytes did not fit their bound", n);
    out->len += room;
    return SW_OK;
}
