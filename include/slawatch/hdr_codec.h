/*
 * HdrHistogram's binary encodings. Writes V2 (ZigZag LEB128 counts with zero runs, optionally
 * DEFLATE-compressed: what .hlog lines carry); reads V2, V1 and V0, compressed or not. Decoding
 * treats input as hostile: sizes are checked before anything is allocated, and every error names
 * the field or byte offset at fault.
 */
#ifndef SLAWATCH_HDR_CODEC_H
#define SLAWATCH_HDR_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slawatch/buf.h"
#include "slawatch/err.h"
#include "slawatch/hdr.h"

/* Cookies as written (V2); readers ignore bits 4-7 when classifying. */
#define SW_HDR_V2_COOKIE UINT32_C(0x1c849313)
#define SW_HDR_V2_COMPRESSED_COOKIE UINT32_C(0x1c849314)

/* Largest histogram a decoder will allocate: 2^23 counts (64 MiB). */
#define SW_HDR_DECODE_MAX_COUNTS (INT32_C(1) << 23)

/*
 * Append the V2 encoding of h to out, DEFLATE-compressed when `compressed`. The counts are
 * walked once, into out's spare capacity, so out needs room beyond the result (about twice the
 * raw encoding's bound when compressed, once more for base64): reuse one buffer across calls.
 */
sw_status sw_hdr_encode(const sw_hdr *h, bool compressed, sw_buf *out, sw_err *err);

/* Append the base64 of the compressed V2 encoding (an .hlog histogram field) to out. */
sw_status sw_hdr_encode_base64(const sw_hdr *h, sw_buf *out, sw_err *err);

/*
 * Decode a V0/V1/V2 encoding, compressed or not, into a new histogram whose configuration
 * comes from the encoding's header. The caller frees *ret_h. On error nothing is allocated.
 */
sw_status sw_hdr_decode(const uint8_t *data, size_t len, sw_hdr **ret_h, sw_err *err);

/*
 * Receives decoded buckets: n of them, the lowest value each stands for and its count (> 0), in
 * increasing order over the calls of one decoding. False when it cannot take them (out of
 * memory), which stops the decoding with SW_E_NOMEM.
 */
typedef bool (*sw_hdr_buckets_fn)(void *ctx, const int64_t *value_lo, const int64_t *count,
                                  size_t n);

/*
 * sw_hdr_decode() without the histogram: the recorded buckets, as the decoded histogram's
 * iterator would give them, handed to fn in batches. Input is checked as sw_hdr_decode() checks
 * it, but fn may have been given buckets before an error is found: the caller discards them.
 */
sw_status sw_hdr_decode_buckets(const uint8_t *data, size_t len, sw_hdr_buckets_fn fn, void *ctx,
                                sw_err *err);

/* sw_hdr_decode() of base64 text (an .hlog histogram field). */
sw_status sw_hdr_decode_base64(const char *text, size_t len, sw_hdr **ret_h, sw_err *err);

#endif
