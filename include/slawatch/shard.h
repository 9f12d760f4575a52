/*
 * Sharding services across slawatch instances (`shard: {count: N, index: i}` in the
 * configuration, docs/scaling.md): a service belongs to the instance whose index equals the
 * 64-bit FNV-1a hash of its name's UTF-8 bytes modulo N. FNV-1a reads one byte at a time and
 * is defined by two published constants, so the owner of a name is the same on every platform,
 * compiler and version of slawatch; it is part of the documented interface and must not change.
 */
#ifndef SLAWATCH_SHARD_H
#define SLAWATCH_SHARD_H

#include <stdbool.h>
#include <stdint.h>

#include "slawatch/rules.h"

/* Most instances a service set can be spread over. */
#define SW_SHARD_COUNT_MAX 4096
#define SW_SHARD_COUNT_MAX_TEXT "4096"

typedef struct sw_shard {
    uint32_t count; /* 0: not sharded, the instance owns every service */
    uint32_t index; /* < count */
} sw_shard;

/* FNV-1a 64 of the NUL-terminated name. */
uint64_t sw_shard_hash(const char *name);

/* The index of the instance that owns service among count (> 0). */
uint32_t sw_shard_of(const char *service, uint32_t count);

/* Does the instance s evaluate service? Always true when s is not sharded. */
bool sw_shard_owns(const sw_shard *s, const char *service);

/*
 * Keep only the services s owns in a rule set just loaded, before anything else sees it (its
 * services array is compacted in place, in order). Objectives, alerts, triggers and the gate
 * apply to every service, so nothing else changes.
 */
void sw_shard_rules(sw_rules *rules, const sw_shard *s);

#endif
