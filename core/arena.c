/*
 * Arena allocator: a list of blocks, allocations bumped from the head block. Owned by the
 * caller's sw_arena value; not thread-safe.
 */
#include "slawatch/arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FIRST_BLOCK (4u << 10)
#define MAX_BLOCK (4u << 20)

struct sw_arena_block {
    sw_arena_block *next;
    size_t size;
    size_t used;
    alignas(max_align_t) unsigned char data[];
};

void
sw_arena_init(sw_arena *a)
{
    a->head = NULL;
    a->next_size = FIRST_BLOCK;
}

void
sw_arena_fini(sw_arena *a)
{
    sw_arena_block *b = a->head;
    while (b != NULL) {
        sw_arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
}

void
sw_arena_reset(sw_arena *a)
{
    if (a->head == NULL)
        return;
    if (a->head->next == NULL) {
        a->head->used = 0;
        return;
    }
    size_t total = 0;
    for (const sw_arena_block *b = a->head; b != NULL; b = b->next)
        total += b->size;
    sw_arena_fini(a);
    sw_arena_block *joined = malloc(sizeof *joined + total);
    if (joined == NULL)
        return;
    joined->next = NULL;
    joined->size = total;
    joined->used = 0;
    a->head = joined;
}

static sw_arena_block *
arena_grow(sw_arena *a, size_t need)
{
    size_t size = a->next_size > need ? a->next_size : need;
    if (size > SIZE_MAX - sizeof(sw_arena_block))
        return NULL;
    sw_arena_block *b = malloc(sizeof *b + size);
    if (b == NULL)
        return NULL;
    b->size = size;
    b->used = 0;
    /* A block filled by one big request goes behind the head, whose free space stays in use. */
    if (a->head != NULL && size - need < a->head->size - a->head->used) {
        b->next = a->head->next;
        a->head->next = b;
    } else {
        b->next = a->head;
        a->head = b;
    }
    if (a->next_size < MAX_BLOCK)
        a->next_size *= 2;
    return b;
}

void *
sw_arena_alloc(sw_arena *a, size_t size, size_t align)
{
    sw_arena_block *b = a->head;
    size_t at = 0;
    if (b != NULL)
        at = (b->used + align - 1) & ~(align - 1);
    if (b == NULL || at > b->size || b->size - at < size) {
        /* A fresh block starts max_align_t-aligned, so offset 0 suits any align. */
        b = arena_grow(a, size);
        if (b == NULL)
            return NULL;
        at = 0;
    }
    b->used = at + size;
    return memset(b->data + at, 0, size);
}
