/*
 * The label values of services with `by` (rules/README.md, "One SLO per label value"): a
 * matching sample of such a service is handed to the accumulators under its value's series key
 * (sw_rules_by_key), once the value is admitted here. Each service tracks at most by_limit
 * values at once; a value beyond it, or a sample without the label, is refused and counted, and
 * a value without samples for by_idle is forgotten, freeing its place. The map's lock is held.
 */
#include "prommap_int.h"

#include <stdlib.h>
#include <string.h>

#include "slawatch/hash.h"

/* Longest label value taken (beyond: refused), so a key stays a short, bounded string. */
#define MAX_VALUE_LEN 1024
#define MAX_KEY (2048 + MAX_VALUE_LEN) /* names beyond the rules' are refused by the length */
#define HASH_TRIES 4                   /* seeds tried on a 64-bit hash collision before refusing */

/* The counts of service (target t's), made on first use; NULL: no memory. */
static by_owner *
owner_of(sw_prommap *m, const target *t)
{
    for (size_t i = 0; i < m->n_owners; i++)
        if (strcmp(m->owners[i].service, t->service) == 0 && strcmp(m->owners[i].label, t->by) == 0)
            return &m->owners[i];
    by_owner *grown = realloc(m->owners, (m->n_owners + 1) * sizeof *grown);
    if (grown == NULL)
        return NULL;
    m->owners = grown;
    by_owner *o = &m->owners[m->n_owners];
    *o = (by_owner){.service = strdup(t->service), .label = strdup(t->by)};
    if (o->service == NULL || o->label == NULL) {
        free(o->service);
        free(o->label);
        return NULL;
    }
    m->n_owners++;
    return o;
}

/* The index of the tracked value with this key, or where a new one goes (*slot_key). */
static bool
find_value(const sw_prommap *m, const char *key, size_t len, uint64_t *slot_key, size_t *index)
{
    for (uint64_t seed = 0; seed < HASH_TRIES; seed++) {
        uint64_t h = sw_hash_bytes(key, len, seed);
        size_t i;
        if (!sw_u64map_get(&m->value_at, h, &i)) {
            *slot_key = h;
            return false;
        }
        if (strcmp(m->values[i].key, key) == 0) {
            *index = i;
            return true;
        }
    }
    *slot_key = 0; /* every seed collided: refused */
    return false;
}

static const char *
track_value(sw_prommap *m, const char *key, uint64_t slot_key, size_t owner, int64_t at_ms)
{
    if (m->n_values == m->cap_values) {
        size_t cap = m->cap_values ? 2 * m->cap_values : 16;
        by_value *grown = realloc(m->values, cap * sizeof *grown);
        if (grown == NULL)
            return NULL;
        m->values = grown;
        m->cap_values = cap;
    }
    char *copy = strdup(key);
    if (copy == NULL || sw_u64map_put(&m->value_at, slot_key, m->n_values, NULL) != SW_OK) {
        free(copy);
        return NULL;
    }
    m->values[m->n_values++] = (by_value){copy, slot_key, at_ms, owner};
    m->owners[owner].tracked++;
    return copy;
}

const char *
sw_prommap_by_admit(sw_prommap *m, const target *t, const char *value, size_t len, int64_t at_ms)
{
    by_owner *o = owner_of(m, t);
    if (o == NULL)
        return NULL;
    char key[MAX_KEY];
    if (len == 0 || len > MAX_VALUE_LEN || memchr(value, '\0', len) != NULL ||
        sw_rules_by_key(t->service, t->by, value, len, key, sizeof key) >= sizeof key) {
        o->refused++;
        return NULL;
    }
    uint64_t slot_key;
    size_t i;
    if (find_value(m, key, strlen(key), &slot_key, &i)) {
        if (at_ms > m->values[i].last_ms)
            m->values[i].last_ms = at_ms;
        return m->values[i].key;
    }
    o->idle_ms = t->by_idle_ms;
    const char *kept = NULL;
    if (slot_key != 0 && o->tracked < t->by_limit)
        kept = track_value(m, key, slot_key, (size_t)(o - m->owners), at_ms);
    o->refused += kept == NULL;
    return kept;
}

/* Value i no longer tracked: the last one takes its place. */
static void
untrack_value(sw_prommap *m, size_t i)
{
    by_value *v = &m->values[i];
    m->owners[v->owner].tracked--;
    free(v->key);
    sw_u64map_del(&m->value_at, v->slot_key);
    if (i != --m->n_values) {
        m->values[i] = m->values[m->n_values];
        /* Re-pointing a key the map holds never grows it, so this cannot fail. */
        sw_u64map_put(&m->value_at, m->values[i].slot_key, i, NULL);
    }
}

void
sw_prommap_by_sweep(sw_prommap *m, int64_t now_ms)
{
    for (size_t i = 0; i < m->n_values;) {
        by_owner *o = &m->owners[m->values[i].owner];
        if (now_ms - m->values[i].last_ms < o->idle_ms) {
            i++;
            continue;
        }
        o->aged++;
        untrack_value(m, i);
    }
}

static bool
owner_in_rules(const by_owner *o, const ruleset *rs)
{
    for (size_t i = 0; i < rs->n_targets; i++) {
        const target *t = &rs->targets[i];
        if (t->by != NULL && strcmp(t->service, o->service) == 0 && strcmp(t->by, o->label) == 0)
            return true;
    }
    return false;
}

void
sw_prommap_by_retain(sw_prommap *m, const ruleset *rs)
{
    for (size_t o = 0; o < m->n_owners;) {
        if (owner_in_rules(&m->owners[o], rs)) {
            o++;
            continue;
        }
        for (size_t i = 0; i < m->n_values;)
            if (m->values[i].owner == o)
                untrack_value(m, i);
            else
                i++;
        free(m->owners[o].service);
        free(m->owners[o].label);
        size_t last = --m->n_owners;
        if (o == last)
            continue;
        m->owners[o] = m->owners[last];
        for (size_t i = 0; i < m->n_values; i++)
            if (m->values[i].owner == last)
                m->values[i].owner = o;
    }
}

void
sw_prommap_by_fini(sw_prommap *m)
{
    for (size_t i = 0; i < m->n_values; i++)
        free(m->values[i].key);
    for (size_t i = 0; i < m->n_owners; i++) {
        free(m->owners[i].service);
        free(m->owners[i].label);
    }
    free(m->values);
    free(m->owners);
    sw_u64map_fini(&m->value_at);
}

void
sw_prommap_label_values(sw_prommap *m, sw_prommap_label_visit visit, void *ctx)
{
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < m->n_owners; i++) {
        const by_owner *o = &m->owners[i];
        visit(ctx, &(sw_prommap_label_count){.service = o->service,
                                             .label = o->label,
                                             .tracked = o->tracked,
                                             .refused = o->refused,
                                             .aged = o->aged});
    }
    pthread_mutex_unlock(&m->lock);
}
