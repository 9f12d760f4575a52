/*
 * The libsnappy wrapper: its C API (snappy-c.h) with status codes turned into sw_err messages.
 * libsnappy itself checks every back-reference and the final length against the preamble.
 */
#include "slawatch/snappy.h"

#include <snappy-c.h>

sw_status
sw_snappy_decoded_len(const uint8_t *in, size_t len, size_t *ret_len, sw_err *err)
{
    size_t n;
    if (snappy_uncompressed_length((const char *)in, len, &n) != SNAPPY_OK)
        return sw_err_set(err, SW_E_PARSE, "snappy: bad length preamble");
    *ret_len = n;
    return SW_OK;
}

sw_status
sw_snappy_uncompress(const uint8_t *in, size_t len, uint8_t *out, size_t out_len, sw_err *err)
{
    size_t n = out_len;
    if (snappy_uncompress((const char *)in, len, (char *)out, &n) != SNAPPY_OK)
        return sw_err_set(err, SW_E_PARSE, "snappy: corrupt block data");
    if (n != out_len)
        return sw_err_set(err, SW_E_PARSE, "snappy: decoded %zu bytes, the preamble says %zu", n,
                          out_len);
    return SW_OK;
}

size_t
sw_snappy_max_compressed_len(size_t len)
{
    return snappy_max_compressed_length(len);
}

sw_status
sw_snappy_compress(const uint8_t *in, size_t len, uint8_t *out, size_t *out_len, sw_err *err)
{
    if (*out_len < snappy_max_compressed_length(len))
        return sw_err_set(err, SW_E_INVAL, "snappy: output buffer of %zu bytes is too small",
                          *out_len);
    if (snappy_compress((const char *)in, len, (char *)out, out_len) != SNAPPY_OK)
        return sw_err_set(err, SW_E_INVAL, "snappy: compression failed");
    return SW_OK;
}
