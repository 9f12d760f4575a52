/*
 * Standard base64 (RFC 4648 alphabet, '=' padding), as HdrHistogram interval logs carry
 * histograms. Stateless.
 */
#ifndef SLAWATCH_BASE64_H
#define SLAWATCH_BASE64_H

#include <stddef.h>
#include <stdint.h>

#include "slawatch/buf.h"
#include "slawatch/err.h"

/* Length of the encoding of n bytes. */
size_t sw_base64_encoded_len(size_t n);

/* Write the encoding of data to dst (sw_base64_encoded_len(n) bytes, not overlapping data);
 * returns its length. */
size_t sw_base64_encode_to(const uint8_t *data, size_t n, char *dst);

/* Append the encoding of data to out. */
sw_status sw_base64_encode(const uint8_t *data, size_t n, sw_buf *out, sw_err *err);

/*
 * Append the bytes encoded by text (len characters; padding required when the length is not
 * a multiple of 4) to out. SW_E_PARSE names the offset of the first bad character.
 */
sw_status sw_base64_decode(const char *text, size_t len, sw_buf *out, sw_err *err);

#endif
