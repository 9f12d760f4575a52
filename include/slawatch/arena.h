/*
 * Arena allocation for objects that live and die together (a parsed YAML document set, a
 * compiled rule set): many small allocations carved from a few blocks that are freed at once.
 * Blocks start at 4 KiB and double up to 4 MiB; a larger request gets a block of its own. The
 * caller owns the sw_arena value; not thread-safe.
 */
#ifndef SLAWATCH_ARENA_H
#define SLAWATCH_ARENA_H

#include <stddef.h>

typedef struct sw_arena_block sw_arena_block;

typedef struct sw_arena {
    sw_arena_block *head; /* the block allocations come from; the rest are behind it */
    size_t next_size;     /* size of the next block */
} sw_arena;

/* Start empty; allocates nothing. */
void sw_arena_init(sw_arena *a);

/* Zeroed memory for size bytes aligned to align (a power of two, at most max_align_t's), or
 * NULL when out of memory. Lives until sw_arena_fini. */
void *sw_arena_alloc(sw_arena *a, size_t size, size_t align);

/*
 * Forget every allocation but keep the memory for the next round (a decoder that fills the
 * arena once per message): the blocks are joined into one of their total size, so a round no
 * larger than the biggest so far allocates nothing. Out of memory leaves the arena empty.
 */
void sw_arena_reset(sw_arena *a);

/* Free every block. The arena may hold the struct that contains it: copy the sw_arena value
 * out first, then finish the copy. */
void sw_arena_fini(sw_arena *a);

#endif
