/*
 * A hash table from 64-bit keys (already hashes) to size_t values, open addressing with linear
 * probing and deletion by backward shift, so lookups never wade through tombstones. It stays
 * at most half full. Not thread-safe.
 */
#ifndef SLAWATCH_U64MAP_H
#define SLAWATCH_U64MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slawatch/err.h"

typedef struct sw_u64map_slot {
    uint64_t key;
    size_t value; /* SIZE_MAX marks an empty slot */
} sw_u64map_slot;

typedef struct sw_u64map {
    sw_u64map_slot *slots;
    size_t n_slots, count;
} sw_u64map;

/* Empty; allocates nothing. */
void sw_u64map_init(sw_u64map *m);

void sw_u64map_fini(sw_u64map *m);

/* The value of key into *value; false when absent. */
bool sw_u64map_get(const sw_u64map *m, uint64_t key, size_t *value);

/* Set key to value (value < SIZE_MAX), adding it when absent. */
sw_status sw_u64map_put(sw_u64map *m, uint64_t key, size_t value, sw_err *err);

/* Remove key; nothing when absent. */
void sw_u64map_del(sw_u64map *m, uint64_t key);

#endif
