#include "slawatch/hash.h"

#include <string.h>

uint64_t
sw_hash_bytes(const void *data, size_t len, uint64_t seed)
{
    const unsigned char *p = data;
    uint64_t h = seed ^ (len * UINT64_C(0x9e3779b97f4a7c15));
    for (; len >= 8; p += 8, len -= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = sw_hash_mix(h ^ w);
    }
    uint64_t tail = 0;
    memcpy(&tail, p, len);
    return sw_hash_mix(h ^ tail ^ ((uint64_t)len << 56));
}
