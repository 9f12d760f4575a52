/*
 * Unsigned LEB128 varints (protobuf's encoding: 7 bits a byte, low group first, at most 10
 * bytes). Header-only: encoders call it once per field in their inner loops.
 */
#ifndef SLAWATCH_VARINT_H
#define SLAWATCH_VARINT_H

#include <stddef.h>
#include <stdint.h>

#define SW_VARINT_MAX 10

/* Write v at p (room for SW_VARINT_MAX bytes); returns the bytes written. */
static inline size_t
sw_varint_put(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

/* Read one varint from the n bytes at p; returns the bytes used, 0 when it is truncated or
 * longer than 64 bits. */
static inline size_t
sw_varint_get(const uint8_t *p, size_t n, uint64_t *ret)
{
    uint64_t v = 0;
    for (size_t k = 0; k < n && k < SW_VARINT_MAX; k++) {
        if (k == SW_VARINT_MAX - 1 && p[k] > 1)
            return 0; /* the tenth byte holds bit 63 only */
        v |= (uint64_t)(p[k] & 0x7f) << (7 * k);
        if (!(p[k] & 0x80)) {
            *ret = v;
            return k + 1;
        }
    }
    return 0;
}

#endif
