/*
 * Which instance evaluates which service. The hash is FNV-1a 64 (offset basis 14695981039346656037,
 * prime 1099511628211) over the name's bytes: byte order, word size and slawatch's own in-memory
 * hash (core/hash, free to change) play no part, so every instance of every version agrees.
 */
#include "slawatch/shard.h"

#define FNV64_OFFSET UINT64_C(0xcbf29ce484222325)
#define FNV64_PRIME UINT64_C(0x100000001b3)

uint64_t
sw_shard_hash(const char *name)
{
    uint64_t h = FNV64_OFFSET;
    for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++)
        h = (h ^ *p) * FNV64_PRIME;
    return h;
}

uint32_t
sw_shard_of(const char *service, uint32_t count)
{
    return (uint32_t)(sw_shard_hash(service) % count);
}

bool
sw_shard_owns(const sw_shard *s, const char *service)
{
    return s->count == 0 || sw_shard_of(service, s->count) == s->index;
}

void
sw_shard_rules(sw_rules *rules, const sw_shard *s)
{
    if (s->count == 0)
        return;
    /* The array was built for this rule set alone and nothing holds it yet: compacting it
     * where it lies keeps the rule set one arena, freed as before. */
    sw_service *services = (sw_service *)rules->services;
    size_t kept = 0;
    for (size_t i = 0; i < rules->n_services; i++) {
        if (!sw_shard_owns(s, services[i].name))
            continue;
        services[kept] = services[i];
        /* Each service's resolved set (its own, in the same arena) holds it by address. */
        if (services[kept].rules != NULL)
            ((sw_rules *)(void *)services[kept].rules)->services = &services[kept];
        kept++;
    }
    rules->n_services = kept;
}
