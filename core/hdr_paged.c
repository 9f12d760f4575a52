/*
 * Paged histogram storage: the counts of a range of buckets cut into pages of 64 slots, each
 * page held at the width its largest count needs (1, 2, 4 or 8 bytes), with the page's total
 * beside it. Private to the hdr module (hdr_int.h). A window a month long fills a range of
 * 6,000-8,000 buckets whose counts run from a few in its tails to tens of thousands at its
 * mode: 8 bytes a slot held mostly zeros in its high bytes. Paged, its memory follows the
 * counts' magnitudes; the totals let a percentile walk skip whole pages.
 *
 * A page is widened (copied into a new block) when a count outgrows it: each page at most
 * three times in its life, so the blocks are allocated page by page rather than in one block
 * that every widening would move. A page whose counts all leave (a subtraction) gives its
 * block back; a reset zeroes the blocks and keeps their widths (a month starts over at the
 * magnitudes the last one reached, a scratch histogram allocates nothing again).
 */
#include "hdr_int.h"

#include <stdlib.h>
#include <string.h>

#define PAGE_SHIFT 6
#define PAGE_SLOTS (1 << PAGE_SHIFT)
#define PAGE_MASK (PAGE_SLOTS - 1)

/* Pages first ... first + n - 1 (page k holds buckets 64k ... 64k + 63); a page without a
 * block holds zeros. The three arrays follow the header in its one allocation. */
struct sw_hdr_pages {
    int32_t first, n;
    int64_t *total; /* per page: the sum of its counts */
    void **block;   /* per page: 64 counts of 1 << shift bytes each, or NULL */
    uint8_t *shift; /* per page: log2 of a count's bytes, while it has a block */
};

static inline uint64_t
slot_get(const void *block, unsigned shift, int32_t s)
{
    switch (shift) {
    case 0:
        return ((const uint8_t *)block)[s];
    case 1:
        return ((const uint16_t *)block)[s];
    case 2:
        return ((const uint32_t *)block)[s];
    default:
        return ((const uint64_t *)block)[s];
    }
}

static inline void
slot_set(void *block, unsigned shift, int32_t s, uint64_t v)
{
    switch (shift) {
    case 0:
        ((uint8_t *)block)[s] = (uint8_t)v;
        break;
    case 1:
        ((uint16_t *)block)[s] = (uint16_t)v;
        break;
    case 2:
        ((uint32_t *)block)[s] = (uint32_t)v;
        break;
    default:
        ((uint64_t *)block)[s] = v;
        break;
    }
}

/* log2 of the bytes a count of v needs. */
static inline unsigned
shift_for(uint64_t v)
{
    return v <= UINT8_MAX ? 0 : v <= UINT16_MAX ? 1 : v <= UINT32_MAX ? 2 : 3;
}

/* A directory of n pages from first, every page without a block; NULL when out of memory. */
static sw_hdr_pages *
pages_new(int32_t first, int32_t n)
{
    size_t per_page = sizeof(int64_t) + sizeof(void *) + sizeof(uint8_t);
    sw_hdr_pages *pg = calloc(1, sizeof *pg + (size_t)n * per_page);
    if (pg == NULL)
        return NULL;
    pg->first = first;
    pg->n = n;
    pg->total = (int64_t *)(pg + 1);
    pg->block = (void **)(pg->total + n);
    pg->shift = (uint8_t *)(pg->block + n);
    return pg;
}

static void
pages_free(sw_hdr_pages *pg)
{
    if (pg == NULL)
        return;
    for (int32_t p = 0; p < pg->n; p++)
        free(pg->block[p]);
    free(pg);
}

/* Page p's block at width 1 << shift (wider than it is, or new), its counts kept; false when
 * out of memory (nothing changed). */
static bool
widen(sw_hdr_pages *pg, int32_t p, unsigned shift)
{
    void *block = calloc(PAGE_SLOTS, (size_t)1 << shift);
    if (block == NULL)
        return false;
    void *old = pg->block[p];
    if (old != NULL)
        for (int32_t s = 0; s < PAGE_SLOTS; s++)
            slot_set(block, shift, s, slot_get(old, pg->shift[p], s));
    free(old);
    pg->block[p] = block;
    pg->shift[p] = (uint8_t)shift;
    return true;
}

/* count[i] += c (c > 0) for bucket i within the directory; false when out of memory for a
 * wider page (nothing changed). */
static inline bool
add_one(sw_hdr_pages *pg, int32_t i, uint64_t c)
{
    int32_t p = (i >> PAGE_SHIFT) - pg->first, s = i & PAGE_MASK;
    void *block = pg->block[p];
    uint64_t v = (block != NULL ? slot_get(block, pg->shift[p], s) : 0) + c;
    if (block == NULL || shift_for(v) > pg->shift[p]) {
        if (!widen(pg, p, shift_for(v)))
            return false;
        block = pg->block[p];
    }
    slot_set(block, pg->shift[p], s, v);
    pg->total[p] += (int64_t)c;
    return true;
}

/* count[i] -= c (c at most count[i]); a page left empty gives its block back. */
static inline void
sub_one(sw_hdr_pages *pg, int32_t i, uint64_t c)
{
    int32_t p = (i >> PAGE_SHIFT) - pg->first, s = i & PAGE_MASK;
    slot_set(pg->block[p], pg->shift[p], s, slot_get(pg->block[p], pg->shift[p], s) - c);
    pg->total[p] -= (int64_t)c;
    if (pg->total[p] == 0) {
        free(pg->block[p]);
        pg->block[p] = NULL;
    }
}

/* The directory of h grown to hold buckets lo ... hi; false when out of memory (nothing
 * changed). No slack: pages are the slack, and growing copies only the directory. */
static bool
cover(sw_hdr *h, int32_t lo, int32_t hi)
{
    sw_hdr_pages *pg = h->pages;
    int32_t first = lo >> PAGE_SHIFT, last = hi >> PAGE_SHIFT;
    if (first >= pg->first && last < pg->first + pg->n)
        return true;
    first = first < pg->first ? first : pg->first;
    last = last > pg->first + pg->n - 1 ? last : pg->first + pg->n - 1;
    sw_hdr_pages *grown = pages_new(first, last - first + 1);
    if (grown == NULL)
        return false;
    int32_t at = pg->first - first;
    memcpy(grown->total + at, pg->total, (size_t)pg->n * sizeof *pg->total);
    memcpy(grown->block + at, pg->block, (size_t)pg->n * sizeof *pg->block);
    memcpy(grown->shift + at, pg->shift, (size_t)pg->n * sizeof *pg->shift);
    free(pg); /* the blocks now belong to grown */
    h->pages = grown;
    return true;
}

bool
sw_hdr_pg_from_pairs(sw_hdr *h, int32_t lo, int32_t hi)
{
    sw_hdr_sp_widen(h, &lo, &hi);
    const uint32_t *idx = sw_hdr_sp_index(h);
    sw_hdr_pages *pg = pages_new(lo >> PAGE_SHIFT, (hi >> PAGE_SHIFT) - (lo >> PAGE_SHIFT) + 1);
    if (pg == NULL)
        return false;
    for (int32_t i = 0; i < h->sp_n; i++)
        if (!add_one(pg, (int32_t)idx[i], (uint64_t)h->sp_count[i])) {
            pages_free(pg);
            return false;
        }
    sw_hdr_sp_release(h);
    h->pages = pg;
    h->paged = true;
    return true;
}

bool
sw_hdr_pg_add_sorted(sw_hdr *h, const uint32_t *index, const int64_t *count, size_t n)
{
    size_t first, last;
    if (!sw_hdr_nonzero_span(count, n, &first, &last))
        return true;
    if (!cover(h, (int32_t)index[first], (int32_t)index[last - 1]))
        return false;
    for (size_t j = first; j < last; j++) {
        if (count[j] == 0 || add_one(h->pages, (int32_t)index[j], (uint64_t)count[j]))
            continue;
        while (j-- > first) /* out of memory: what was added goes again */
            if (count[j] != 0)
                sub_one(h->pages, (int32_t)index[j], (uint64_t)count[j]);
        return false;
    }
    return true;
}

/* The 64 counts of page number page of src (dense or paged; zeros where it holds none). */
static void
page_of(const sw_hdr *src, int32_t page, int64_t *out)
{
    int32_t base = page << PAGE_SHIFT;
    memset(out, 0, PAGE_SLOTS * sizeof *out);
    if (!sw_hdr_is_paged(src)) {
        for (int32_t s = 0; s < PAGE_SLOTS; s++)
            if (sw_hdr_holds(src, base + s))
                out[s] = *sw_hdr_slot(src, base + s);
        return;
    }
    const sw_hdr_pages *pg = src->pages;
    int32_t p = page - pg->first;
    if ((uint32_t)p >= (uint32_t)pg->n || pg->block[p] == NULL)
        return;
    for (int32_t s = 0; s < PAGE_SLOTS; s++)
        out[s] = (int64_t)slot_get(pg->block[p], pg->shift[p], s);
}

/* Page p's counts += add[0 ... 63], widened once for the largest sum; false when out of memory
 * for the wider page (nothing changed). */
static bool
add_page(sw_hdr_pages *pg, int32_t p, const int64_t *add)
{
    void *block = pg->block[p];
    uint64_t bits = 0; /* the sums' bits together: the widest sum's top bit is among them */
    int64_t sum = 0;
    for (int32_t s = 0; s < PAGE_SLOTS; s++) {
        bits |= (block != NULL ? slot_get(block, pg->shift[p], s) : 0) + (uint64_t)add[s];
        sum += add[s];
    }
    if (sum == 0)
        return true;
    if ((block == NULL || shift_for(bits) > pg->shift[p]) && !widen(pg, p, shift_for(bits)))
        return false;
    block = pg->block[p];
    for (int32_t s = 0; s < PAGE_SLOTS; s++)
        slot_set(block, pg->shift[p], s, slot_get(block, pg->shift[p], s) + (uint64_t)add[s]);
    pg->total[p] += sum;
    return true;
}

/* Page p's counts -= sub[0 ... 63], each at most the count it is taken from. */
static void
sub_page(sw_hdr_pages *pg, int32_t p, const int64_t *sub)
{
    int64_t sum = 0;
    for (int32_t s = 0; s < PAGE_SLOTS; s++)
        sum += sub[s];
    if (sum == 0)
        return;
    for (int32_t s = 0; s < PAGE_SLOTS; s++)
        slot_set(pg->block[p], pg->shift[p], s,
                 slot_get(pg->block[p], pg->shift[p], s) - (uint64_t)sub[s]);
    pg->total[p] -= sum;
    if (pg->total[p] == 0) {
        free(pg->block[p]);
        pg->block[p] = NULL;
    }
}

bool
sw_hdr_pg_merge(sw_hdr *dst, const sw_hdr *src, int32_t lo, int32_t hi)
{
    if (sw_hdr_is_compact(src))
        return sw_hdr_pg_add_sorted(dst, sw_hdr_sp_index(src), src->sp_count, (size_t)src->sp_n);
    if (!cover(dst, lo, hi))
        return false;
    int64_t add[PAGE_SLOTS];
    int32_t first = lo >> PAGE_SHIFT, last = hi >> PAGE_SHIFT;
    for (int32_t page = first; page <= last; page++) {
        page_of(src, page, add);
        if (add_page(dst->pages, page - dst->pages->first, add))
            continue;
        while (page-- > first) { /* out of memory: what was added goes again */
            page_of(src, page, add);
            sub_page(dst->pages, page - dst->pages->first, add);
        }
        return false;
    }
    return true;
}

int32_t
sw_hdr_pg_subtract(sw_hdr *dst, const sw_hdr *src, int32_t lo, int32_t hi)
{
    if (sw_hdr_is_compact(src)) {
        const uint32_t *idx = sw_hdr_sp_index(src);
        for (int32_t j = 0; j < src->sp_n; j++)
            if (sw_hdr_pg_count(dst, (int32_t)idx[j]) < src->sp_count[j])
                return (int32_t)idx[j];
        for (int32_t j = 0; j < src->sp_n; j++)
            sub_one(dst->pages, (int32_t)idx[j], (uint64_t)src->sp_count[j]);
        return -1;
    }
    int64_t sub[PAGE_SLOTS];
    for (int32_t page = lo >> PAGE_SHIFT; page <= hi >> PAGE_SHIFT; page++) {
        page_of(src, page, sub);
        for (int32_t s = 0; s < PAGE_SLOTS; s++)
            if (sub[s] != 0 && sw_hdr_pg_count(dst, (page << PAGE_SHIFT) + s) < sub[s])
                return (page << PAGE_SHIFT) + s;
    }
    for (int32_t page = lo >> PAGE_SHIFT; page <= hi >> PAGE_SHIFT; page++) {
        page_of(src, page, sub);
        sub_page(dst->pages, page - dst->pages->first, sub);
    }
    return -1;
}

int64_t
sw_hdr_pg_count(const sw_hdr *h, int32_t index)
{
    const sw_hdr_pages *pg = h->pages;
    int32_t p = (index >> PAGE_SHIFT) - pg->first;
    if ((uint32_t)p >= (uint32_t)pg->n || pg->block[p] == NULL)
        return 0;
    return (int64_t)slot_get(pg->block[p], pg->shift[p], index & PAGE_MASK);
}

int32_t
sw_hdr_pg_next(const sw_hdr *h, int32_t from, int64_t *ret_count)
{
    const sw_hdr_pages *pg = h->pages;
    int32_t p = (from >> PAGE_SHIFT) - pg->first, s = from & PAGE_MASK;
    if (p < 0)
        p = s = 0;
    for (; p < pg->n; p++, s = 0) {
        if (pg->total[p] == 0)
            continue;
        for (; s < PAGE_SLOTS; s++) {
            uint64_t v = slot_get(pg->block[p], pg->shift[p], s);
            if (v != 0) {
                *ret_count = (int64_t)v;
                return ((pg->first + p) << PAGE_SHIFT) + s;
            }
        }
    }
    return -1;
}

int32_t
sw_hdr_pg_last(const sw_hdr *h, int32_t upto)
{
    const sw_hdr_pages *pg = h->pages;
    int32_t p = (upto >> PAGE_SHIFT) - pg->first, s = upto & PAGE_MASK;
    if (p >= pg->n) {
        p = pg->n - 1;
        s = PAGE_MASK;
    }
    for (; p >= 0; p--, s = PAGE_MASK) {
        if (pg->total[p] == 0)
            continue;
        for (; s >= 0; s--)
            if (slot_get(pg->block[p], pg->shift[p], s) != 0)
                return ((pg->first + p) << PAGE_SHIFT) + s;
    }
    return -1;
}

int32_t
sw_hdr_pg_rank_index(const sw_hdr *h, int64_t rank)
{
    /* Whole pages by their totals, from the nearer end, then the one page slot by slot. */
    const sw_hdr_pages *pg = h->pages;
    int64_t acc = 0;
    if (rank <= h->total_count / 2) {
        for (int32_t p = 0; p < pg->n; p++) {
            if (acc + pg->total[p] < rank) {
                acc += pg->total[p];
                continue;
            }
            for (int32_t s = 0; s < PAGE_SLOTS; s++) {
                acc += (int64_t)slot_get(pg->block[p], pg->shift[p], s);
                if (acc >= rank)
                    return ((pg->first + p) << PAGE_SHIFT) + s;
            }
        }
        return sw_hdr_pg_last(h, h->counts_len - 1);
    }
    int64_t above = h->total_count - rank;
    for (int32_t p = pg->n - 1; p >= 0; p--) {
        if (acc + pg->total[p] <= above) {
            acc += pg->total[p];
            continue;
        }
        for (int32_t s = PAGE_MASK; s >= 0; s--) {
            acc += (int64_t)slot_get(pg->block[p], pg->shift[p], s);
            if (acc > above)
                return ((pg->first + p) << PAGE_SHIFT) + s;
        }
    }
    int64_t none;
    return sw_hdr_pg_next(h, 0, &none);
}

int64_t
sw_hdr_pg_count_at_or_below(const sw_hdr *h, int32_t index)
{
    const sw_hdr_pages *pg = h->pages;
    int32_t at = (index >> PAGE_SHIFT) - pg->first;
    if (at < 0)
        return 0;
    if (at >= pg->n)
        return h->total_count;
    int64_t s = 0;
    for (int32_t p = 0; p < at; p++)
        s += pg->total[p];
    if (pg->block[at] != NULL)
        for (int32_t k = 0; k <= (index & PAGE_MASK); k++)
            s += (int64_t)slot_get(pg->block[at], pg->shift[at], k);
    return s;
}

/* d[k] += page p's counts k = from ... to - 1 (slots of the page). */
static void
add_page_into(int64_t *d, const sw_hdr_pages *pg, int32_t p, int32_t from, int32_t to)
{
    const void *b = pg->block[p];
    switch (pg->shift[p]) { /* one loop per width: each is a plain widening add */
    case 0:
        for (int32_t k = from; k < to; k++)
            d[k] += ((const uint8_t *)b)[k];
        break;
    case 1:
        for (int32_t k = from; k < to; k++)
            d[k] += ((const uint16_t *)b)[k];
        break;
    case 2:
        for (int32_t k = from; k < to; k++)
            d[k] += ((const uint32_t *)b)[k];
        break;
    default:
        for (int32_t k = from; k < to; k++)
            d[k] += (int64_t)((const uint64_t *)b)[k];
        break;
    }
}

void
sw_hdr_pg_add_into_range(sw_hdr *dst, const sw_hdr *src)
{
    const sw_hdr_pages *pg = src->pages;
    int32_t lo = dst->c_lo, end = sw_hdr_range_end(dst);
    for (int32_t p = 0; p < pg->n; p++) {
        if (pg->total[p] == 0)
            continue;
        int32_t base = (pg->first + p) << PAGE_SHIFT;
        /* Outside dst's range the page holds zeros (dst covers src's recorded buckets). */
        int32_t from = base < lo ? lo - base : 0;
        int32_t to = base + PAGE_SLOTS > end ? end - base : PAGE_SLOTS;
        if (from < to)
            add_page_into(dst->counts + (base - lo), pg, p, from, to);
    }
}

int32_t
sw_hdr_pg_underflow_in(const sw_hdr *dst, const sw_hdr *src)
{
    sw_hdr_iter it;
    sw_hdr_iter_init(&it, src);
    while (sw_hdr_iter_next(&it))
        if (sw_hdr_count_at_index(dst, it.index) < it.count)
            return it.index;
    return -1;
}

void
sw_hdr_pg_subtract_from_range(sw_hdr *dst, const sw_hdr *src)
{
    sw_hdr_iter it;
    sw_hdr_iter_init(&it, src);
    while (sw_hdr_iter_next(&it))
        *sw_hdr_slot(dst, it.index) -= it.count;
}

void
sw_hdr_pg_refresh_min_max(sw_hdr *h, int32_t lo, int32_t hi)
{
    int64_t count;
    int32_t first = sw_hdr_pg_next(h, lo > 0 ? lo : 1, &count);
    int32_t last = sw_hdr_pg_last(h, hi);
    h->min_value = first >= 0 && first <= hi ? sw_hdr_value_from_index(h, first) : INT64_MAX;
    h->max_value = last > 0 && last >= lo ? sw_hdr_value_from_index(h, last) : 0;
}

void
sw_hdr_pg_clear(sw_hdr *h)
{
    sw_hdr_pages *pg = h->pages;
    for (int32_t p = 0; p < pg->n; p++)
        if (pg->block[p] != NULL && pg->total[p] != 0) {
            memset(pg->block[p], 0, (size_t)PAGE_SLOTS << pg->shift[p]);
            pg->total[p] = 0;
        }
}

bool
sw_hdr_pg_copy(sw_hdr *dst, const sw_hdr *src)
{
    const sw_hdr_pages *pg = src->pages;
    sw_hdr_pages *copy = pages_new(pg->first, pg->n);
    if (copy == NULL)
        return false;
    for (int32_t p = 0; p < pg->n; p++) {
        if (pg->total[p] == 0)
            continue; /* a cleared page: the copy holds its zeros without a block */
        size_t bytes = (size_t)PAGE_SLOTS << pg->shift[p];
        copy->block[p] = malloc(bytes);
        if (copy->block[p] == NULL) {
            pages_free(copy);
            return false;
        }
        memcpy(copy->block[p], pg->block[p], bytes);
        copy->shift[p] = pg->shift[p];
        copy->total[p] = pg->total[p];
    }
    dst->pages = copy;
    dst->paged = true;
    return true;
}

void
sw_hdr_pg_release(sw_hdr *h)
{
    pages_free(h->pages);
    h->pages = NULL;
    h->paged = false;
}

size_t
sw_hdr_pg_memory_size(const sw_hdr *h)
{
    const sw_hdr_pages *pg = h->pages;
    size_t n = sizeof *pg + (size_t)pg->n * (sizeof(int64_t) + sizeof(void *) + sizeof(uint8_t));
    for (int32_t p = 0; p < pg->n; p++)
        if (pg->block[p] != NULL)
            n += (size_t)PAGE_SLOTS << pg->shift[p];
    return n;
}

bool
sw_hdr_pg_to_layout(sw_hdr *h)
{
    int64_t *counts = calloc((size_t)h->counts_len, sizeof *counts);
    if (counts == NULL)
        return false;
    const sw_hdr_pages *pg = h->pages;
    for (int32_t p = 0; p < pg->n; p++) {
        int32_t base = (pg->first + p) << PAGE_SHIFT;
        if (pg->total[p] != 0)
            add_page_into(counts + base, pg, p, 0,
                          base + PAGE_SLOTS > h->counts_len ? h->counts_len - base : PAGE_SLOTS);
    }
    sw_hdr_pg_release(h);
    h->counts = counts;
    h->c_lo = 0;
    h->c_n = h->counts_len;
    return true;
}
