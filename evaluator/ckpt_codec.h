/*
 * The evaluator checkpoint's encoding (evaluator/checkpoint.c): varints, zigzag for signed
 * values, doubles as their bits, byte strings with their length. The writer keeps the first
 * error; the reader stops at the first byte that does not fit and says so once, so callers
 * read on and check at the end, and nothing is read past the end or allocated beyond what
 * the bytes left could describe.
 */
#ifndef SLAWATCH_CKPT_CODEC_H
#define SLAWATCH_CKPT_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slawatch/buf.h"
#include "slawatch/err.h"

typedef struct sw_ckw {
    sw_buf *out;
    sw_status st;
    sw_err *err;
} sw_ckw;

void sw_ckw_u64(sw_ckw *w, uint64_t v);
void sw_ckw_i64(sw_ckw *w, int64_t v);
void sw_ckw_f64(sw_ckw *w, double v);
void sw_ckw_bytes(sw_ckw *w, const void *data, size_t len);

typedef struct sw_ckr {
    const uint8_t *p, *end;
    bool bad;
} sw_ckr;

uint64_t sw_ckr_u64(sw_ckr *r);
int64_t sw_ckr_i64(sw_ckr *r);
double sw_ckr_f64(sw_ckr *r);
/* A view of the next byte string, or NULL (and bad) when it does not fit. */
const uint8_t *sw_ckr_bytes(sw_ckr *r, size_t *ret_len);
/* A count of items each taking at least one byte: more than the bytes left is bad (0). */
size_t sw_ckr_count(sw_ckr *r);

#endif
