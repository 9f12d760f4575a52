/*
 * The exposition parser's family table: metric names with what has been seen of them (HELP,
 * TYPE, samples, the names an OpenMetrics family claims). Open addressing over 64-bit hashes;
 * names are copied into one capped byte buffer. Touched once per family, not per sample.
 */
#include "promtext_int.h"

#include <stdlib.h>
#include <string.h>

#define NAMES_BYTES_MAX (SW_PROMTEXT_MAX_FAMILIES * 64)

uint64_t
pt_hash(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325u; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 0x100000001b3u;
    return h ? h : 1; /* 0 marks a free slot */
}

void
pt_names_init(pt_names *t)
{
    memset(t, 0, sizeof *t);
    sw_buf_init(&t->bytes, NAMES_BYTES_MAX);
}

void
pt_names_fini(pt_names *t)
{
    free(t->slots);
    sw_buf_fini(&t->bytes);
}

static pt_family_entry *
slot_for(const pt_names *t, uint64_t h, const char *name, size_t len)
{
    size_t mask = t->n_slots - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        pt_family_entry *f = &t->slots[i];
        if (f->hash == 0)
            return f;
        if (f->hash == h && f->name_len == len &&
            memcmp(t->bytes.data + f->name_off, name, len) == 0)
            return f;
    }
}

pt_family_entry *
pt_names_find(const pt_names *t, const char *name, size_t len)
{
    if (t->n_slots == 0)
        return NULL;
    pt_family_entry *f = slot_for(t, pt_hash(name, len), name, len);
    return f->hash ? f : NULL;
}

static bool
grow(pt_names *t)
{
    size_t n = t->n_slots ? t->n_slots * 2 : 64;
    pt_family_entry *slots = calloc(n, sizeof *slots);
    if (!slots)
        return false;
    pt_names old = *t;
    t->slots = slots;
    t->n_slots = n;
    for (size_t i = 0; i < old.n_slots; i++)
        if (old.slots[i].hash) {
            const pt_family_entry *o = &old.slots[i];
            *slot_for(t, o->hash, (const char *)t->bytes.data + o->name_off, o->name_len) = *o;
        }
    free(old.slots);
    return true;
}

pt_family_entry *
pt_names_get(pt_parser *P, const char *name, size_t len, const char *at)
{
    pt_names *t = &P->names;
    pt_family_entry *f = pt_names_find(t, name, len);
    if (f)
        return f;
    if (t->n_used >= SW_PROMTEXT_MAX_FAMILIES) {
        pt_fail(P, at, SW_E_TOOBIG, "more than %zu metric families", SW_PROMTEXT_MAX_FAMILIES);
        return NULL;
    }
    if ((t->n_used + 1) * 2 > t->n_slots && !grow(t)) {
        pt_fail(P, at, SW_E_NOMEM, "out of memory for the family table");
        return NULL;
    }
    size_t off = t->bytes.len;
    sw_status st = sw_buf_append(&t->bytes, name, len, NULL);
    if (st != SW_OK) {
        pt_fail(P, at, st, "metric names exceed %zu bytes in all", (size_t)NAMES_BYTES_MAX);
        return NULL;
    }
    uint64_t h = pt_hash(name, len);
    f = slot_for(t, h, name, len);
    *f = (pt_family_entry){.hash = h, .name_off = (uint32_t)off, .name_len = (uint32_t)len};
    t->n_used++;
    return f;
}
