#include "slawatch/u64map.h"

#include <stdlib.h>

#include "slawatch/hash.h"

#define EMPTY SIZE_MAX

void
sw_u64map_init(sw_u64map *m)
{
    *m = (sw_u64map){0};
}

void
sw_u64map_fini(sw_u64map *m)
{
    free(m->slots);
    *m = (sw_u64map){0};
}

static size_t
home(const sw_u64map *m, uint64_t key)
{
    return (size_t)sw_hash_mix(key) & (m->n_slots - 1);
}

static size_t
find(const sw_u64map *m, uint64_t key)
{
    size_t mask = m->n_slots - 1, i = home(m, key);
    while (m->slots[i].value != EMPTY && m->slots[i].key != key)
        i = (i + 1) & mask;
    return i;
}

bool
sw_u64map_get(const sw_u64map *m, uint64_t key, size_t *value)
{
    if (m->count == 0)
        return false;
    size_t i = find(m, key);
    if (m->slots[i].value == EMPTY)
        return false;
    *value = m->slots[i].value;
    return true;
}

static sw_status
grow(sw_u64map *m, sw_err *err)
{
    size_t n = m->n_slots ? m->n_slots * 2 : 16;
    sw_u64map_slot *slots = malloc(n * sizeof *slots);
    if (slots == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory growing a table to %zu slots", n);
    for (size_t i = 0; i < n; i++)
        slots[i].value = EMPTY;
    sw_u64map old = *m;
    m->slots = slots;
    m->n_slots = n;
    for (size_t i = 0; i < old.n_slots; i++)
        if (old.slots[i].value != EMPTY)
            m->slots[find(m, old.slots[i].key)] = old.slots[i];
    free(old.slots);
    return SW_OK;
}

sw_status
sw_u64map_put(sw_u64map *m, uint64_t key, size_t value, sw_err *err)
{
    SW_REQUIRE(value != EMPTY);
    if (2 * (m->count + 1) > m->n_slots) {
        sw_status st = grow(m, err);
        if (st != SW_OK)
            return st;
    }
    size_t i = find(m, key);
    m->count += m->slots[i].value == EMPTY;
    m->slots[i] = (sw_u64map_slot){key, value};
    return SW_OK;
}

void
sw_u64map_del(sw_u64map *m, uint64_t key)
{
    if (m->count == 0)
        return;
    size_t mask = m->n_slots - 1, hole = find(m, key);
    if (m->slots[hole].value == EMPTY)
        return;
    m->count--;
    /* Shift back every later entry of the run that the hole would cut off from its home. */
    for (size_t j = (hole + 1) & mask; m->slots[j].value != EMPTY; j = (j + 1) & mask) {
        size_t h = home(m, m->slots[j].key);
        bool reachable = hole <= j ? (h <= hole || h > j) : (h <= hole && h > j);
        if (reachable) {
            m->slots[hole] = m->slots[j];
            hole = j;
        }
    }
    m->slots[hole].value = EMPTY;
}
