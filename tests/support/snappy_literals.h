/*
 * Test support: a snappy block built by hand (a varint length, then literals of at most 60
 * bytes), so remote-write tests make bodies without the library under test compressing them.
 */
#ifndef SLAWATCH_TEST_SNAPPY_LITERALS_H
#define SLAWATCH_TEST_SNAPPY_LITERALS_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* n bytes of in as a snappy block (malloc'd; *ret_len its length). */
static inline uint8_t *
snappy_literals(const uint8_t *in, size_t n, size_t *ret_len)
{
    uint8_t *out = malloc(10 + n + n / 60 + 1);
    size_t o = 0;
    size_t v = n;
    do {
        out[o++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v != 0);
    for (size_t i = 0; i < n; i += 60) {
        size_t k = n - i < 60 ? n - i : 60;
        out[o++] = (uint8_t)((k - 1) << 2);
        memcpy(out + o, in + i, k);
        o += k;
    }
    *ret_len = o;
    return out;
}

#endif
