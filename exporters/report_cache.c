/*
 * The report cache: a small array searched linearly (a handful of entries), one mutex. Copies in
 * and out, so no caller ever holds a pointer into an entry that another thread may replace.
 */
#include "slawatch/report_cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    char *key; /* NULL: free */
    uint8_t *doc;
    size_t len;
    const char *content_type;
    int64_t stored_ms;
    uint64_t used; /* recency stamp */
} entry;

struct sw_report_cache {
    pthread_mutex_t lock;
    entry *entries;
    size_t n, max_bytes, bytes;
    int64_t ttl_ms;
    uint64_t clock;
};

sw_report_cache *
sw_report_cache_new(size_t max_entries, size_t max_bytes, int64_t ttl_ms)
{
    sw_report_cache *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->entries = calloc(max_entries ? max_entries : 1, sizeof *c->entries);
    if (c->entries == NULL) {
        free(c);
        return NULL;
    }
    c->n = max_entries ? max_entries : 1;
    c->max_bytes = max_bytes;
    c->ttl_ms = ttl_ms;
    pthread_mutex_init(&c->lock, NULL);
    return c;
}

static void
drop(sw_report_cache *c, entry *e)
{
    c->bytes -= e->len;
    free(e->key);
    free(e->doc);
    memset(e, 0, sizeof *e);
}

void
sw_report_cache_free(sw_report_cache *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n; i++)
        drop(c, &c->entries[i]);
    pthread_mutex_destroy(&c->lock);
    free(c->entries);
    free(c);
}

static entry *
find(sw_report_cache *c, const char *key)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->entries[i].key != NULL && strcmp(c->entries[i].key, key) == 0)
            return &c->entries[i];
    return NULL;
}

bool
sw_report_cache_get(sw_report_cache *c, const char *key, int64_t now_ms, sw_buf *out,
                    const char **ret_content_type)
{
    pthread_mutex_lock(&c->lock);
    entry *e = find(c, key);
    if (e != NULL && now_ms - e->stored_ms >= c->ttl_ms) {
        drop(c, e);
        e = NULL;
    }
    bool hit = false;
    if (e != NULL) {
        e->used = ++c->clock;
        sw_buf_reset(out);
        hit = sw_buf_append(out, e->doc, e->len, NULL) == SW_OK;
        *ret_content_type = e->content_type;
    }
    pthread_mutex_unlock(&c->lock);
    return hit;
}

/* The least recently used entry; NULL when every entry is free. */
static entry *
least_recent(sw_report_cache *c)
{
    entry *v = NULL;
    for (size_t i = 0; i < c->n; i++)
        if (c->entries[i].key != NULL && (v == NULL || c->entries[i].used < v->used))
            v = &c->entries[i];
    return v;
}

/* A free entry, made by dropping the least recently used one when none is. */
static entry *
free_entry(sw_report_cache *c)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->entries[i].key == NULL)
            return &c->entries[i];
    entry *e = least_recent(c);
    drop(c, e);
    return e;
}

void
sw_report_cache_put(sw_report_cache *c, const char *key, int64_t now_ms, const void *doc,
                    size_t len, const char *content_type)
{
    if (len > c->max_bytes / 4)
        return;
    char *k = strdup(key);
    uint8_t *d = malloc(len ? len : 1);
    if (k == NULL || d == NULL) {
        free(k);
        free(d);
        return;
    }
    memcpy(d, doc, len);
    pthread_mutex_lock(&c->lock);
    entry *e = find(c, key);
    if (e != NULL)
        drop(c, e);
    while (c->bytes + len > c->max_bytes && (e = least_recent(c)) != NULL)
        drop(c, e);
    e = free_entry(c);
    *e = (entry){k, d, len, content_type, now_ms, ++c->clock};
    c->bytes += len;
    pthread_mutex_unlock(&c->lock);
}
