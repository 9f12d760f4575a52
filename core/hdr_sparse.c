/*
 * Compact histogram storage: the recorded buckets of an HDR histogram as sorted (index, count)
 * pairs, turned into a dense range (hdr_range.c) when that costs at most twice their bytes
 * or the pairs pass sp_max. Private to the hdr module (hdr_int.h); hdr.c picks the representation
 * each call works on. Buckets are found by binary search and inserted in place, so a compact
 * histogram is kept where it is small or sparse, and merges into it stay cheap.
 */
#include "hdr_int.h"

#include <stdlib.h>
#include <string.h>

void
sw_hdr_sp_release(sw_hdr *h)
{
    free(h->sp_count);
    h->sp_count = NULL;
    h->sp_n = h->sp_cap = 0;
}

/* A new block of cap (>= sp_n) pairs, the pairs copied over. */
static bool
reblock(sw_hdr *h, int32_t cap)
{
    int64_t *block = malloc((size_t)cap * (sizeof(int64_t) + sizeof(uint32_t)));
    if (block == NULL)
        return false;
    if (h->sp_n > 0) {
        memcpy(block, h->sp_count, (size_t)h->sp_n * sizeof *block);
        memcpy(block + cap, sw_hdr_sp_index(h), (size_t)h->sp_n * sizeof(uint32_t));
    }
    free(h->sp_count);
    h->sp_count = block;
    h->sp_cap = cap;
    return true;
}

/*
 * Room grows by a quarter (and eight pairs): a window's pairs come and go around what its
 * length holds, and doubling left its block up to half empty for good (a minute's window of 10 s
 * intervals held 1,077 pairs in blocks of 1,884 on average). Every merge into pairs moves them
 * anyway, so the more frequent copies cost little.
 */
bool
sw_hdr_sp_grow(sw_hdr *h, int32_t need)
{
    if (need <= h->sp_cap)
        return true;
    int32_t max = sw_hdr_sp_max(h), cap = h->sp_cap + h->sp_cap / 4 + 8;
    return reblock(h, cap < need ? need : cap > max ? max : cap);
}

void
sw_hdr_sp_fit(sw_hdr *h)
{
    int32_t fit = h->sp_n < 8 ? 8 : h->sp_n; /* what sw_hdr_sp_copy gives a clone */
    if (sw_hdr_is_compact(h) && h->sp_count != NULL && h->sp_cap > fit)
        (void)reblock(h, fit); /* out of memory: it keeps its room, correct, only bigger */
}

/* Room for need pairs whose new buckets lie within lo ... hi, or, when a range is better
 * (sw_hdr_range_preferred), paged (a window, fed packed intervals or paged histograms and kept
 * long) or dense (recorded value by value or fed dense histograms: a hot path); when its memory
 * runs out, pairs if need allows or the room was reserved (sw_hdr_sp_reserve). */
static bool
room_for(sw_hdr *h, int64_t need, int32_t lo, int32_t hi, bool paged)
{
    if (sw_hdr_range_preferred(h, need, lo, hi) &&
        (paged ? sw_hdr_pg_from_pairs(h, lo, hi) : sw_hdr_range_from_pairs(h, lo, hi)))
        return true;
    if (need <= h->sp_cap)
        return true;
    return need <= sw_hdr_sp_max(h) && sw_hdr_sp_grow(h, (int32_t)need);
}

bool
sw_hdr_sp_reserve(sw_hdr *h, int64_t more)
{
    /* Where a dense histogram's new buckets fall is not known: only the whole layout holds
     * any of them without growing. */
    int32_t last = h->counts_len - 1;
    if (sw_hdr_is_paged(h))
        return more <= 0 || sw_hdr_pg_to_layout(h);
    if (h->counts != NULL)
        return more <= 0 || sw_hdr_range_cover(h, 0, last);
    /* Pairs while they cost no more than the whole layout (past sp_max too: the merges that
     * come may still turn them into a range, and fall back on this room if that fails). */
    int64_t need = (int64_t)h->sp_n + more;
    if (need * (int64_t)(sizeof(int64_t) + sizeof(uint32_t)) <=
        (int64_t)h->counts_len * (int64_t)sizeof(int64_t))
        return sw_hdr_sp_grow(h, (int32_t)need);
    return sw_hdr_range_from_pairs(h, 0, last);
}

int32_t
sw_hdr_sp_find(const sw_hdr *h, uint32_t index)
{
    const uint32_t *idx = sw_hdr_sp_index(h);
    int32_t lo = 0, hi = h->sp_n;
    while (lo < hi) {
        int32_t mid = lo + (hi - lo) / 2;
        if (idx[mid] < index)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

bool
sw_hdr_sp_add(sw_hdr *h, int32_t index, int64_t count)
{
    uint32_t at = (uint32_t)index;
    const uint32_t *idx = sw_hdr_sp_index(h);
    /* Appending is the common case of an ordered merge: no search. */
    int32_t pos = h->sp_n == 0 || idx[h->sp_n - 1] < at ? h->sp_n : sw_hdr_sp_find(h, at);
    if (pos < h->sp_n && idx[pos] == at) {
        h->sp_count[pos] += count;
        return true;
    }
    if (!room_for(h, (int64_t)h->sp_n + 1, index, index, false))
        return false;
    if (h->counts != NULL) {
        *sw_hdr_slot(h, index) += count;
        return true;
    }
    int32_t tail = h->sp_n - pos;
    uint32_t *room = sw_hdr_sp_index(h); /* the block may have moved */
    memmove(room + pos + 1, room + pos, (size_t)tail * sizeof *room);
    memmove(h->sp_count + pos + 1, h->sp_count + pos, (size_t)tail * sizeof *h->sp_count);
    room[pos] = at;
    h->sp_count[pos] = count;
    h->sp_n++;
    return true;
}

bool
sw_hdr_sp_append(sw_hdr *h, int32_t index, int64_t count)
{
    if (sw_hdr_range_preferred(h, (int64_t)h->sp_n + 1, index, index)) {
        if (!sw_hdr_range_from_pairs(h, index, index))
            return false;
        *sw_hdr_slot(h, index) += count;
        return true;
    }
    if (!sw_hdr_sp_grow(h, h->sp_n + 1))
        return false;
    sw_hdr_sp_index(h)[h->sp_n] = (uint32_t)index;
    h->sp_count[h->sp_n++] = count;
    return true;
}

/* New pairs n sorted bucket indices bring to h; *lo and *hi the first and last of them with
 * a count (left as they are when none has). */
static int32_t
new_pairs(const sw_hdr *h, const uint32_t *index, const int64_t *count, size_t n, int32_t *lo,
          int32_t *hi)
{
    const uint32_t *idx = sw_hdr_sp_index(h);
    int32_t p = 0, fresh = 0;
    bool first = true;
    for (size_t j = 0; j < n; j++) {
        if (count[j] == 0)
            continue;
        if (first)
            *lo = (int32_t)index[j];
        first = false;
        *hi = (int32_t)index[j];
        while (p < h->sp_n && idx[p] < index[j])
            p++;
        fresh += p == h->sp_n || idx[p] != index[j];
    }
    return fresh;
}

/* Every bucket of index is held already: add the counts where they are, nothing moves. */
static void
add_in_place(sw_hdr *h, const uint32_t *index, const int64_t *count, size_t n)
{
    const uint32_t *idx = sw_hdr_sp_index(h);
    int32_t p = 0;
    for (size_t j = 0; j < n; j++) {
        if (count[j] == 0)
            continue;
        while (idx[p] < index[j])
            p++;
        h->sp_count[p] += count[j];
    }
}

/* counts[index[j]] += count[j], index increasing: the one merge of sorted pairs into h. */
static bool
merge_pairs(sw_hdr *h, const uint32_t *index, const int64_t *count, size_t n)
{
    int32_t lo = -1, hi = -1;
    int32_t fresh = new_pairs(h, index, count, n, &lo, &hi);
    if (fresh == 0) {
        add_in_place(h, index, count, n);
        return true;
    }
    if (!room_for(h, (int64_t)h->sp_n + fresh, lo, hi, true))
        return false;
    if (sw_hdr_is_paged(h))
        return sw_hdr_pg_add_sorted(h, index, count, n);
    if (h->counts != NULL) {
        for (size_t j = 0; j < n; j++)
            if (count[j] != 0)
                *sw_hdr_slot(h, (int32_t)index[j]) += count[j];
        return true;
    }
    /* Merge from the back: every pair moves at most once; once the new buckets are placed
     * (k meets i), the rest of index is held already and is added where it lies. */
    uint32_t *idx = sw_hdr_sp_index(h);
    int64_t *cnt = h->sp_count;
    int32_t i = h->sp_n - 1, k = h->sp_n + fresh - 1;
    for (size_t j = n; j-- > 0;) {
        if (count[j] == 0)
            continue;
        uint32_t at = index[j];
        if (k == i) {
            while (idx[i] > at)
                i--;
            cnt[i] += count[j];
            k = i;
            continue;
        }
        for (; i >= 0 && idx[i] > at; i--, k--) {
            idx[k] = idx[i];
            cnt[k] = cnt[i];
        }
        int64_t c = count[j];
        if (i >= 0 && idx[i] == at)
            c += cnt[i--];
        idx[k] = at;
        cnt[k--] = c;
    }
    h->sp_n += fresh;
    return true;
}

/* Pairs dst would hold after adding src's buckets; *lo and *hi src's first and last. */
static int64_t
union_size(const sw_hdr *dst, const sw_hdr *src, int32_t *lo, int32_t *hi)
{
    int64_t n = dst->sp_n;
    int32_t p = 0;
    const uint32_t *idx = sw_hdr_sp_index(dst);
    sw_hdr_iter it;
    sw_hdr_iter_init(&it, src);
    while (sw_hdr_iter_next(&it)) {
        uint32_t at = (uint32_t)it.index;
        if (it.cumulative == it.count)
            *lo = it.index;
        *hi = it.index;
        while (p < dst->sp_n && idx[p] < at)
            p++;
        n += p == dst->sp_n || idx[p] != at;
    }
    return n;
}

bool
sw_hdr_sp_merge(sw_hdr *dst, const sw_hdr *src)
{
    if (sw_hdr_is_compact(src)) /* its pairs, without an iterator */
        return merge_pairs(dst, sw_hdr_sp_index(src), src->sp_count, (size_t)src->sp_n);
    int32_t lo = -1, hi = -1;
    int64_t u = union_size(dst, src, &lo, &hi);
    if (lo < 0)
        return true; /* src holds nothing */
    /* The form of what comes: a dense source is a hot path's (a report's merges), a paged one a
     * window's. */
    if (!room_for(dst, u, lo, hi, sw_hdr_is_paged(src)))
        return false;
    if (sw_hdr_is_paged(dst))
        return sw_hdr_pg_merge(dst, src, lo, hi);
    sw_hdr_iter it;
    sw_hdr_iter_init(&it, src);
    if (dst->counts != NULL) {
        while (sw_hdr_iter_next(&it))
            *sw_hdr_slot(dst, it.index) += it.count;
        return true;
    }
    /* Move dst's pairs to the end of the room, then merge forwards into its start: the write
     * position never passes the read position, as src brings at most u - n new pairs. */
    int32_t n = dst->sp_n, end = (int32_t)u, r = end - n, w = 0;
    uint32_t *idx = sw_hdr_sp_index(dst);
    int64_t *cnt = dst->sp_count;
    memmove(idx + r, idx, (size_t)n * sizeof *idx);
    memmove(cnt + r, cnt, (size_t)n * sizeof *cnt);
    while (sw_hdr_iter_next(&it)) {
        uint32_t at = (uint32_t)it.index;
        for (; r < end && idx[r] < at; r++, w++) {
            idx[w] = idx[r];
            cnt[w] = cnt[r];
        }
        int64_t c = it.count;
        if (r < end && idx[r] == at)
            c += cnt[r++];
        idx[w] = at;
        cnt[w++] = c;
    }
    for (; r < end; r++, w++) {
        idx[w] = idx[r];
        cnt[w] = cnt[r];
    }
    dst->sp_n = w;
    return true;
}

/* dst -= the pairs (index, count) of a compact src, checked first as sw_hdr_sp_subtract. */
static int32_t
subtract_pairs(sw_hdr *dst, const uint32_t *index, const int64_t *count, int32_t n)
{
    uint32_t *idx = sw_hdr_sp_index(dst);
    int32_t p = 0;
    for (int32_t j = 0; j < n; j++) {
        while (p < dst->sp_n && idx[p] < index[j])
            p++;
        if (p == dst->sp_n || idx[p] != index[j] || dst->sp_count[p] < count[j])
            return (int32_t)index[j];
    }
    int32_t w = 0, j = 0;
    for (int32_t r = 0; r < dst->sp_n; r++) {
        int64_t c = dst->sp_count[r];
        if (j < n && idx[r] == index[j])
            c -= count[j++];
        if (c == 0)
            continue;
        idx[w] = idx[r];
        dst->sp_count[w++] = c;
    }
    dst->sp_n = w;
    return -1;
}

int32_t
sw_hdr_sp_subtract(sw_hdr *dst, const sw_hdr *src)
{
    if (sw_hdr_is_compact(src))
        return subtract_pairs(dst, sw_hdr_sp_index(src), src->sp_count, src->sp_n);
    uint32_t *idx = sw_hdr_sp_index(dst);
    sw_hdr_iter it;
    sw_hdr_iter_init(&it, src);
    int32_t p = 0;
    while (sw_hdr_iter_next(&it)) {
        uint32_t at = (uint32_t)it.index;
        while (p < dst->sp_n && idx[p] < at)
            p++;
        if (p == dst->sp_n || idx[p] != at || dst->sp_count[p] < it.count)
            return it.index;
    }
    /* Checked: subtract, closing up the pairs that reach zero. */
    sw_hdr_iter_init(&it, src);
    bool more = sw_hdr_iter_next(&it);
    int32_t w = 0;
    for (int32_t r = 0; r < dst->sp_n; r++) {
        int64_t c = dst->sp_count[r];
        if (more && idx[r] == (uint32_t)it.index) {
            c -= it.count;
            more = sw_hdr_iter_next(&it);
        }
        if (c == 0)
            continue;
        idx[w] = idx[r];
        dst->sp_count[w++] = c;
    }
    dst->sp_n = w;
    return -1;
}

int32_t
sw_hdr_sp_rank_index(const sw_hdr *h, int64_t rank)
{
    /* From the nearer end, as the dense scan does. */
    const uint32_t *idx = sw_hdr_sp_index(h);
    int64_t acc = 0;
    if (rank <= h->total_count / 2) {
        for (int32_t i = 0; i < h->sp_n; i++) {
            acc += h->sp_count[i];
            if (acc >= rank)
                return (int32_t)idx[i];
        }
        return (int32_t)idx[h->sp_n - 1];
    }
    int64_t above = h->total_count - rank;
    for (int32_t i = h->sp_n - 1; i >= 0; i--) {
        acc += h->sp_count[i];
        if (acc > above)
            return (int32_t)idx[i];
    }
    return (int32_t)idx[0];
}

bool
sw_hdr_sp_copy(sw_hdr *dst, const sw_hdr *src)
{
    dst->sp_count = NULL;
    dst->sp_n = dst->sp_cap = 0;
    if (src->sp_n == 0)
        return true;
    if (!sw_hdr_sp_grow(dst, src->sp_n))
        return false;
    memcpy(sw_hdr_sp_index(dst), sw_hdr_sp_index(src), (size_t)src->sp_n * sizeof(uint32_t));
    memcpy(dst->sp_count, src->sp_count, (size_t)src->sp_n * sizeof *src->sp_count);
    dst->sp_n = src->sp_n;
    return true;
}

bool
sw_hdr_sp_add_sorted(sw_hdr *h, const int32_t *index, const int64_t *count, size_t n)
{
    /* Indices are never negative: the unsigned view of the same array. */
    return merge_pairs(h, (const uint32_t *)(const void *)index, count, n);
}

/* ------------------------------------------------------------------ sliding */

/* Pairs being written by a slide: indices and counts in one block, as a histogram holds them. */
typedef struct slide_out {
    uint32_t *idx;
    int64_t *cnt;
    int32_t n;
} slide_out;

/* dst's pairs [from, to) appended to o unchanged. */
static void
copy_run(slide_out *o, const sw_hdr *dst, int32_t from, int32_t to)
{
    if (to <= from)
        return;
    memcpy(o->idx + o->n, sw_hdr_sp_index(dst) + from, (size_t)(to - from) * sizeof *o->idx);
    memcpy(o->cnt + o->n, dst->sp_count + from, (size_t)(to - from) * sizeof *o->cnt);
    o->n += to - from;
}

/*
 * dst's pairs with in's added and out's taken away, written to o in one forward pass over the
 * three (the runs of dst's pairs between the buckets that change copied whole). -1, or the
 * first bucket dst holds less of than out (o then unfinished). *fresh: the buckets that
 * appear, *lo and *hi the first and last of them.
 */
static int32_t
slide_into(slide_out *o, const sw_hdr *dst, const sw_hdr *in, const sw_hdr *out, int32_t *fresh,
           int32_t *lo, int32_t *hi)
{
    const uint32_t *di = sw_hdr_sp_index(dst), *ii = sw_hdr_sp_index(in),
                   *oi = sw_hdr_sp_index(out);
    int32_t i = 0, a = 0, b = 0;
    *fresh = 0;
    while (a < in->sp_n || b < out->sp_n) {
        uint32_t x = b == out->sp_n || (a < in->sp_n && ii[a] < oi[b]) ? ii[a] : oi[b];
        int32_t run = i;
        while (i < dst->sp_n && di[i] < x)
            i++;
        copy_run(o, dst, run, i);
        int64_t held = i < dst->sp_n && di[i] == x ? dst->sp_count[i++] : 0;
        int64_t c = held;
        if (a < in->sp_n && ii[a] == x)
            c += in->sp_count[a++];
        if (b < out->sp_n && oi[b] == x) {
            if (held < out->sp_count[b])
                return (int32_t)x;
            c -= out->sp_count[b++];
        }
        if (c == 0)
            continue;
        if (held == 0) {
            *lo = *fresh == 0 ? (int32_t)x : *lo;
            *hi = (int32_t)x;
            ++*fresh;
        }
        o->idx[o->n] = x;
        o->cnt[o->n++] = c;
    }
    copy_run(o, dst, i, dst->sp_n);
    return -1;
}

int32_t
sw_hdr_sp_slide(sw_hdr *dst, const sw_hdr *in, const sw_hdr *out, bool *ret_done)
{
    *ret_done = false;
    int32_t most = dst->sp_n + in->sp_n;
    if (most > sw_hdr_sp_max(dst))
        return -1; /* it may turn dense: the general way */
    int64_t *block = malloc((size_t)(most > 0 ? most : 1) * (sizeof(int64_t) + sizeof(uint32_t)));
    if (block == NULL)
        return -1;
    slide_out o = {(uint32_t *)(block + most), block, 0};
    int32_t fresh = 0, lo = 0, hi = 0;
    int32_t bad = slide_into(&o, dst, in, out, &fresh, &lo, &hi);
    if (bad >= 0) {
        *ret_done = true;
    } else if (fresh > 0 && sw_hdr_range_preferred(dst, (int64_t)dst->sp_n + fresh, lo, hi)) {
        /* Better dense (as an addition would have found): left to the general way. */
    } else if (sw_hdr_sp_grow(dst, o.n)) {
        if (o.n > 0) { /* an empty dst may have no block */
            memcpy(dst->sp_count, o.cnt, (size_t)o.n * sizeof *o.cnt);
            memcpy(sw_hdr_sp_index(dst), o.idx, (size_t)o.n * sizeof *o.idx);
        }
        dst->sp_n = o.n;
        *ret_done = true;
    }
    free(block);
    return bad;
}
