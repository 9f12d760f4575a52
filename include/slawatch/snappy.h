/*
 * Snappy's block format (a varint length, then literals and back-references; not the framed
 * stream format), which remote write uses for request bodies. This is the one module that
 * talks to libsnappy, so the receiver and the sender share it and no other file sees it.
 * Stateless and thread-safe.
 */
#ifndef SLAWATCH_SNAPPY_H
#define SLAWATCH_SNAPPY_H

#include <stddef.h>
#include <stdint.h>

#include "slawatch/err.h"

/* The length the block in (len bytes) says it decodes to; SW_E_PARSE when the preamble is bad. */
sw_status sw_snappy_decoded_len(const uint8_t *in, size_t len, size_t *ret_len, sw_err *err);

/*
 * Decode the block in into out, whose size out_len must be what sw_snappy_decoded_len said.
 * SW_E_PARSE for corrupt data (a bad back-reference, a length differing from the preamble).
 */
sw_status sw_snappy_uncompress(const uint8_t *in, size_t len, uint8_t *out, size_t out_len,
                               sw_err *err);

/* The most bytes sw_snappy_compress can write for len input bytes. */
size_t sw_snappy_max_compressed_len(size_t len);

/* Compress in into out (capacity *out_len, at least sw_snappy_max_compressed_len(len));
 * *out_len is set to the compressed length. SW_E_INVAL when out is too small. */
sw_status sw_snappy_compress(const uint8_t *in, size_t len, uint8_t *out, size_t *out_len,
                             sw_err *err);

#endif
