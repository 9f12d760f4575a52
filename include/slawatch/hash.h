/*
 * 64-bit hashing for in-memory tables (series identities, lookups by name): fast, well mixed,
 * not cryptographic and not stable across versions, so never stored or sent anywhere.
 */
#ifndef SLAWATCH_HASH_H
#define SLAWATCH_HASH_H

#include <stddef.h>
#include <stdint.h>

/* A finalizer that spreads every input bit over the whole word (splitmix64's). */
static inline uint64_t
sw_hash_mix(uint64_t x)
{
    x ^= x >> 30;
    x *= UINT64_C(0xbf58476d1ce4e5b9);
    x ^= x >> 27;
    x *= UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

/* Hash of data[0..len) continuing from seed, eight bytes at a time. */
uint64_t sw_hash_bytes(const void *data, size_t len, uint64_t seed);

#endif
