/*
 * Where an advancing series' window sums last looked each of its history's rings up
 * (sw_history_sums_on). A window's edges move one base interval a boundary, so the lookup at
 * its old edge is, a boundary later, the bucket it found then or one or two after it: read on
 * from there (sw_ring_cum_on) instead of a search of the ring's blocks and a sum of a quarter
 * of one. The answers are the search's by construction (the totals are exact running totals);
 * `unit-sums_fingers` holds them to it.
 *
 * A lookup takes the finger of the same ring and edge kind (start or end) that lies nearest at
 * or before its time, so each window's edge keeps finding its own as long as the windows are
 * asked alike from boundary to boundary; a search places a finger at its answer: in a slot
 * whose finger is stale (its bucket dropped) or unused for DEAD_AFTER lookups (an edge that
 * jumped, as a window's whole hours do every hour), else a new one, else the least recently
 * used. Live edges are used every advance, so a series keeps about as many as its windows have.
 */
#include "eval_int.h"

#include <stdlib.h>
#include <string.h>

#define FINGERS_MAX 32 /* the production rules look up 13 edges, twice with maintenance */
#define DEAD_AFTER 64  /* lookups through fingers since a finger's last use: no edge's any more */

typedef struct finger_slot {
    sw_ring_finger f;
    uint32_t used; /* the clock at its last use */
    uint8_t ring;  /* which ring and edge kind */
} finger_slot;

struct sw_history_fingers {
    size_t n, cap, n_sums;
    uint32_t clock; /* lookups through fingers so far (wrapping) */
    finger_slot *slot;
    uint64_t *cum; /* cap x n_sums: the totals before each finger's bucket */
};

sw_history_fingers *
sw_sums_fingers_new(size_t n_sums)
{
    sw_history_fingers *fs = calloc(1, sizeof *fs);
    if (fs != NULL)
        fs->n_sums = n_sums;
    return fs;
}

void
sw_sums_fingers_free(sw_history_fingers *fs)
{
    if (fs == NULL)
        return;
    free(fs->slot);
    free(fs->cum);
    free(fs);
}

void
sw_sums_fingers_forget_set(sw_history_fingers *fs, int set)
{
    if (fs == NULL)
        return;
    for (size_t i = 0; i < fs->n; i++)
        if (fs->slot[i].ring / (2 * SW_LEVELS) == set)
            fs->slot[i].f.t = INT64_MAX; /* unset: never moved again, placed anew */
}

static uint32_t
age(const sw_history_fingers *fs, const finger_slot *s)
{
    return fs->clock - s->used;
}

/* Room for one more slot, up to FINGERS_MAX (none when out of memory). */
static void
grow(sw_history_fingers *fs)
{
    if (fs->n < fs->cap || fs->cap == FINGERS_MAX)
        return;
    size_t cap = fs->cap == 0 ? 8 : 2 * fs->cap;
    finger_slot *slot = realloc(fs->slot, cap * sizeof *slot);
    if (slot == NULL)
        return;
    fs->slot = slot;
    uint64_t *cum = realloc(fs->cum, cap * fs->n_sums * sizeof *cum);
    if (cum == NULL)
        return;
    fs->cum = cum;
    fs->cap = cap;
}

/* The slot a search's answer goes to: a forgotten, stale or dead one, a new one, or the least
 * recently used; NULL when none can be had. */
static finger_slot *
slot_for(sw_history_fingers *fs, uint8_t ring, const sw_ring *r)
{
    for (size_t i = 0; i < fs->n; i++) {
        const finger_slot *s = &fs->slot[i];
        if (s->f.t == INT64_MAX || (s->ring == ring && s->f.seq < r->first) ||
            age(fs, s) > DEAD_AFTER)
            return &fs->slot[i];
    }
    grow(fs);
    if (fs->n < fs->cap)
        return &fs->slot[fs->n++];
    finger_slot *lru = NULL;
    for (size_t i = 0; i < fs->n; i++)
        if (lru == NULL || age(fs, &fs->slot[i]) > age(fs, lru))
            lru = &fs->slot[i];
    return lru;
}

uint64_t
sw_sums_fingers_cum(sw_history_fingers *fs, int set, int level, const sw_ring *r, int64_t t,
                    bool by_end, uint64_t *ret)
{
    uint8_t ring = (uint8_t)((set * SW_LEVELS + level) * 2 + by_end);
    finger_slot *best = NULL;
    for (size_t i = 0; i < fs->n; i++) {
        finger_slot *s = &fs->slot[i];
        if (s->ring == ring && s->f.t <= t && (best == NULL || s->f.t > best->f.t))
            best = s;
    }
    sw_finger_use use;
    uint64_t *best_cum = best != NULL ? fs->cum + (size_t)(best - fs->slot) * fs->n_sums : NULL;
    uint64_t seq =
        sw_ring_cum_on(r, t, by_end, best != NULL ? &best->f : NULL, best_cum, ret, &use);
    if (use == SW_FINGER_UNUSED)
        return seq;
    fs->clock++;
    if (use == SW_FINGER_MOVED) {
        best->used = fs->clock;
        return seq;
    }
    finger_slot *s = slot_for(fs, ring, r);
    if (s != NULL) {
        *s = (finger_slot){{t, seq, INT64_MIN}, fs->clock, ring};
        memcpy(fs->cum + (size_t)(s - fs->slot) * fs->n_sums, ret, fs->n_sums * sizeof *ret);
    }
    return seq;
}
