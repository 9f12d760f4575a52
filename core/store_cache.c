/*
 * What the store's writes remember between transactions, so that a tick's thousands of base
 * rows run one INSERT each instead of three statements: every series' id (series rows are never
 * deleted, so an id read or added in a committed transaction stays valid; a rollback forgets
 * them all, since ids added in it are gone), and the 1 m period whose rollup mark a series'
 * last base row made, so the other base rows of that minute skip the INSERT OR IGNORE that
 * would find the mark there. A mark can go: a rollup rebuilt its period, a transaction rolled
 * back, another connection (a backfill, a second process) committed. Each of those moves the
 * generation, and a mark remembered from an older generation is made again.
 */
#include "store_int.h"

#include <stdlib.h>
#include <string.h>

#include "slawatch/hash.h"

void
sw_store_cache_init(sw_store_cache *c)
{
    memset(c, 0, sizeof *c);
    sw_u64map_init(&c->index);
    c->gen = 1;
    c->data_version = -1;
}

static void
forget_all(sw_store_cache *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->known[i].service);
        free(c->known[i].env);
    }
    c->n = 0;
    sw_u64map_fini(&c->index);
    sw_u64map_init(&c->index);
}

void
sw_store_cache_fini(sw_store_cache *c)
{
    forget_all(c);
    free(c->known);
    sw_u64map_fini(&c->index);
}

void
sw_store_cache_marks_moved(sw_store *st)
{
    st->cache.gen++;
}

void
sw_store_cache_rolled_back(sw_store *st)
{
    forget_all(&st->cache);
    st->cache.gen++;
}

/* In a write transaction (nobody else commits meanwhile): another connection's commit since the
 * last one seen may have rolled up (unmarked) periods. */
sw_status
sw_store_cache_sync(sw_store *st, sw_err *err)
{
    sqlite3_stmt *s = st->stmt[S_DATA_VERSION];
    bool row = false;
    sw_status r = sw_store_step(st, s, &row, "read the data version", err);
    if (r != SW_OK)
        return r;
    int64_t v = row ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_reset(s);
    if (v != st->cache.data_version || v == -1)
        st->cache.gen++;
    st->cache.data_version = v;
    return SW_OK;
}

static uint64_t
key_of(const char *service, const char *env)
{
    return sw_hash_bytes(env, strlen(env), sw_hash_bytes(service, strlen(service) + 1, 0));
}

static bool
same_series(const sw_store_known *k, const char *service, const char *env)
{
    return strcmp(k->service, service) == 0 && strcmp(k->env, env) == 0;
}

/* Remember a series looked up in SQL; false (nothing remembered) when memory runs out or its
 * hash is another series' already. */
static bool
remember(sw_store_cache *c, uint64_t key, const char *service, const char *env, int64_t id)
{
    if (c->n == c->cap) {
        size_t cap = c->cap != 0 ? 2 * c->cap : 256;
        sw_store_known *grown = realloc(c->known, cap * sizeof *grown);
        if (grown == NULL)
            return false;
        c->known = grown;
        c->cap = cap;
    }
    sw_store_known *k = &c->known[c->n];
    *k = (sw_store_known){.service = strdup(service), .env = strdup(env), .id = id};
    if (k->service == NULL || k->env == NULL ||
        sw_u64map_put(&c->index, key, c->n, NULL) != SW_OK) {
        free(k->service);
        free(k->env);
        return false;
    }
    c->n++;
    return true;
}

/*
 * The id of series (service, env) into *ret_id, the series added to the store when new (in the
 * open transaction); *ret_known what is remembered of it, valid until the next call, or NULL
 * when it could not be remembered.
 */
sw_status
sw_store_cache_series(sw_store *st, const char *service, const char *env, int64_t *ret_id,
                      sw_store_known **ret_known, sw_err *err)
{
    sw_store_cache *c = &st->cache;
    uint64_t key = key_of(service, env);
    size_t at;
    bool taken = sw_u64map_get(&c->index, key, &at);
    if (taken && same_series(&c->known[at], service, env)) {
        *ret_id = c->known[at].id;
        *ret_known = &c->known[at];
        return SW_OK;
    }
    sw_status r = sw_store_series_id(st, service, env, ret_id, err);
    if (r != SW_OK)
        return r;
    *ret_known = !taken && remember(c, key, service, env, *ret_id) ? &c->known[c->n - 1] : NULL;
    return SW_OK;
}

bool
sw_store_cache_marked(const sw_store *st, const sw_store_known *k, int64_t start_ms)
{
    return k->marked_gen == st->cache.gen &&
           k->marked_start == sw_store_floor_to(start_ms, st->res_ms[L_MINUTE]);
}

void
sw_store_cache_note_mark(sw_store *st, sw_store_known *k, int64_t start_ms)
{
    k->marked_start = sw_store_floor_to(start_ms, st->res_ms[L_MINUTE]);
    k->marked_gen = st->cache.gen;
}
