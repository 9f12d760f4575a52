/*
 * A compact ring of buckets (eval_int.h, "ring.c"). A production series' bucket is regular: it
 * starts where the one before it ended, lasts as long, has no failure runs, and its counts are
 * close to the previous bucket's. So buckets are kept in blocks of RING_BLOCK, each block a
 * header (the running totals before its first bucket, that bucket's start, its last bucket's
 * end) and its buckets coded against the bucket before them: a varint of flags and of which
 * counts changed, the start's and length's differences only when not zero, the runs only when
 * not zero, then each changed count's difference from the previous bucket's as a zigzag varint
 * (mod 2^64, so exact for any count). About 7 bytes a base interval instead of 104.
 *
 * A lookup binary-searches the block headers and decodes at most one block forward; the
 * newest bucket is held decoded (rollups add to it, and the tick asks about it most), so
 * windows ending now cost no decoding at their new edge.
 */
#include "eval_int.h"

#include <stdlib.h>
#include <string.h>

#include "slawatch/varint.h"

#define RING_BLOCK 32         /* buckets a block holds: a lookup decodes half of one on average */
#define BLOCK_FIRST_BYTES 320 /* a block's first allocation, about its 32 buckets' bytes */

enum { F_GAP = 1, F_LENGTH = 2, F_TAIL = 4, F_PEAK = 8, F_MAINT = 16, F_BITS = 5 };
_Static_assert(F_BITS + SW_SUMS_MAX <= 64, "a bucket's flags and changed counts fit a varint");

static uint64_t
zigzag(uint64_t d)
{
    return (d << 1) ^ (0 - (d >> 63));
}

static uint64_t
unzigzag(uint64_t z)
{
    return (z >> 1) ^ (0 - (z & 1));
}

/* A varint the ring wrote itself (so complete): one or two bytes at once, longer as varint.h. */
static inline uint64_t
get_varint(const uint8_t **p)
{
    const uint8_t *q = *p;
    if (q[0] < 0x80) {
        *p += 1;
        return q[0];
    }
    if (q[1] < 0x80) {
        *p += 2;
        return (uint64_t)(q[0] & 0x7f) | (uint64_t)q[1] << 7;
    }
    uint64_t v = 0;
    *p += sw_varint_get(q, SW_VARINT_MAX, &v);
    return v;
}

static size_t
rec_max_bytes(size_t n_sums)
{
    return 5 + 2 * SW_VARINT_MAX + 3 * 5 + n_sums * SW_VARINT_MAX;
}

static size_t
header_bytes(const sw_ring *r)
{
    return r->n_sums * sizeof(uint64_t);
}

/* ------------------------------------------------------------------ coding */

static uint64_t
length_of(const sw_rec *rec)
{
    return (uint64_t)rec->end_ms - (uint64_t)rec->start_ms;
}

/*
 * rec coded against prev, the bucket before it in its block; returns the bytes written. First
 * a varint of the flags (F_*) and, above them, a bit per count that differs from prev's; then
 * what the flags say is there; then those counts' differences.
 */
static size_t
encode_rec(uint8_t *out, const sw_rec *rec, const sw_rec *prev, size_t n_sums)
{
    uint64_t gap = (uint64_t)rec->start_ms - (uint64_t)prev->end_ms;
    uint64_t dlen = length_of(rec) - length_of(prev);
    uint64_t head = (gap != 0 ? F_GAP : 0) | (dlen != 0 ? F_LENGTH : 0) |
                    (rec->tail_run != 0 ? F_TAIL : 0) | (rec->peak_run != 0 ? F_PEAK : 0) |
                    (rec->in_maint != 0 ? F_MAINT : 0);
    for (size_t i = 0; i < n_sums && i < SW_SUMS_MAX; i++)
        head |= (uint64_t)(rec->sums[i] != prev->sums[i]) << (F_BITS + i);
    size_t k = sw_varint_put(out, head);
    if (gap != 0)
        k += sw_varint_put(out + k, zigzag(gap));
    if (dlen != 0)
        k += sw_varint_put(out + k, zigzag(dlen));
    if (rec->tail_run != 0)
        k += sw_varint_put(out + k, rec->tail_run);
    if (rec->peak_run != 0)
        k += sw_varint_put(out + k, rec->peak_run);
    if (rec->in_maint != 0)
        k += sw_varint_put(out + k, rec->in_maint);
    for (size_t i = 0; i < n_sums; i++)
        if (rec->sums[i] != prev->sums[i])
            k += sw_varint_put(out + k, zigzag(rec->sums[i] - prev->sums[i]));
    return k;
}

/* rec (the previous bucket on entry) becomes the bucket at *p; its changed bits name only the
 * counts the encoder had. */
static void
decode_rec(const uint8_t **p, sw_rec *rec)
{
    uint64_t head = get_varint(p);
    uint64_t start = (uint64_t)rec->end_ms, length = length_of(rec);
    if (head & F_GAP)
        start += unzigzag(get_varint(p));
    if (head & F_LENGTH)
        length += unzigzag(get_varint(p));
    rec->start_ms = (int64_t)start;
    rec->end_ms = (int64_t)(start + length);
    rec->tail_run = head & F_TAIL ? (uint32_t)get_varint(p) : 0;
    rec->peak_run = head & F_PEAK ? (uint32_t)get_varint(p) : 0;
    rec->in_maint = head & F_MAINT ? (uint32_t)get_varint(p) : 0;
    for (uint64_t changed = head >> F_BITS; changed != 0; changed &= changed - 1)
        rec->sums[__builtin_ctzll(changed)] += unzigzag(get_varint(p));
}

/* What a block's first bucket is coded against: a bucket of the nominal length ending where
 * it starts, with no counts. */
static void
coder_reset(sw_rec *rec, int64_t start_ms, int64_t res_ms, size_t n_sums)
{
    rec->start_ms = (int64_t)((uint64_t)start_ms - (uint64_t)res_ms);
    rec->end_ms = start_ms;
    memset(rec->sums, 0, n_sums * sizeof rec->sums[0]);
}

/* ------------------------------------------------------------------ blocks */

static sw_ring_block *
block_at(const sw_ring *r, size_t i)
{
    size_t slot = r->block_head + i;
    return &r->blocks[slot >= r->block_cap ? slot - r->block_cap : slot];
}

/* Blocks hold sequence numbers [k * RING_BLOCK, (k + 1) * RING_BLOCK), the first from `stored`. */
static uint64_t
block_first_seq(const sw_ring *r, size_t i)
{
    return i == 0 ? r->stored : (r->stored / RING_BLOCK + i) * RING_BLOCK;
}

static size_t
block_of(const sw_ring *r, uint64_t seq)
{
    return (size_t)(seq / RING_BLOCK - r->stored / RING_BLOCK);
}

static sw_status
grow_blocks(sw_ring *r, sw_err *err)
{
    size_t cap = r->block_cap < 4 ? 4 : 2 * r->block_cap;
    if (r->block_cap < r->fit_blocks && cap > r->fit_blocks)
        cap = r->fit_blocks;
    sw_ring_block *blocks = malloc(cap * sizeof *blocks);
    if (blocks == NULL)
        return sw_err_set(err, SW_E_NOMEM, "cannot grow an interval history to %zu blocks", cap);
    for (size_t i = 0; i < r->n_blocks; i++)
        blocks[i] = *block_at(r, i);
    free(r->blocks);
    r->blocks = blocks;
    r->block_cap = cap;
    r->block_head = 0;
    return SW_OK;
}

/* A new last block for the newest bucket, the one before it trimmed to what it holds. */
static sw_status
open_block(sw_ring *r, sw_err *err)
{
    if (r->n_blocks == r->block_cap) {
        sw_status st = grow_blocks(r, err);
        if (st != SW_OK)
            return st;
    }
    size_t cap = BLOCK_FIRST_BYTES + rec_max_bytes(r->n_sums);
    uint8_t *data = malloc(header_bytes(r) + cap);
    if (data == NULL)
        return sw_err_set(err, SW_E_NOMEM, "cannot allocate an interval history block");
    if (r->n_blocks > 0) {
        sw_ring_block *last = block_at(r, r->n_blocks - 1);
        uint8_t *trimmed = realloc(last->data, header_bytes(r) + last->len);
        if (trimmed != NULL) {
            last->data = trimmed;
            last->cap = last->len;
        }
    }
    memcpy(data, r->sealed_cum, header_bytes(r));
    if (r->n_blocks == 0) { /* the newest is `first`: the front starts here */
        r->front_off = 0;
        coder_reset(&r->front_prev, r->newest.start_ms, r->res_ms, r->n_sums);
    }
    *block_at(r, r->n_blocks++) =
        (sw_ring_block){r->newest.start_ms, r->newest.start_ms, data, 0, (uint32_t)cap};
    coder_reset(&r->coder, r->newest.start_ms, r->res_ms, r->n_sums);
    return SW_OK;
}

/* The newest bucket coded into the last block (a new one at a block boundary). */
static sw_status
seal_newest(sw_ring *r, sw_err *err)
{
    uint64_t seq = r->end - 1;
    if (r->n_blocks == 0 || seq % RING_BLOCK == 0) {
        sw_status st = open_block(r, err);
        if (st != SW_OK)
            return st;
    }
    sw_ring_block *b = block_at(r, r->n_blocks - 1);
    size_t need = rec_max_bytes(r->n_sums);
    if (b->cap - b->len < need) {
        size_t cap = 2 * (size_t)b->cap + need;
        uint8_t *data = realloc(b->data, header_bytes(r) + cap);
        if (data == NULL)
            return sw_err_set(err, SW_E_NOMEM, "cannot grow an interval history block");
        b->data = data;
        b->cap = (uint32_t)cap;
    }
    b->len +=
        (uint32_t)encode_rec(b->data + header_bytes(r) + b->len, &r->newest, &r->coder, r->n_sums);
    b->last_end_ms = r->newest.end_ms;
    r->coder = r->newest;
    for (size_t i = 0; i < r->n_sums; i++)
        r->sealed_cum[i] += r->newest.sums[i];
    return SW_OK;
}

/* ------------------------------------------------------------------ reading */

static void
enter_block(sw_ring_reader *rd, size_t i)
{
    const sw_ring *r = rd->r;
    const sw_ring_block *b = block_at(r, i);
    rd->block = i;
    rd->p = b->data + header_bytes(r);
    rd->stop = rd->p + b->len;
    memcpy(rd->cum, b->data, header_bytes(r));
    coder_reset(&rd->rec, b->start_ms, r->res_ms, r->n_sums);
    rd->next = block_first_seq(r, i);
}

static void
decode_next(sw_ring_reader *rd)
{
    decode_rec(&rd->p, &rd->rec);
    for (size_t i = 0; i < rd->r->n_sums; i++)
        rd->cum[i] += rd->rec.sums[i];
    rd->next++;
}

void
sw_ring_read_from(const sw_ring *r, uint64_t seq, sw_ring_reader *rd)
{
    rd->r = r;
    rd->next = seq;
    if (seq + 1 >= r->end) /* the newest (held decoded) or none */
        return;
    enter_block(rd, block_of(r, seq));
    while (rd->next < seq)
        decode_next(rd);
}

bool
sw_ring_read_next(sw_ring_reader *rd, const sw_rec **ret)
{
    const sw_ring *r = rd->r;
    if (rd->next >= r->end)
        return false;
    if (rd->next == r->end - 1) {
        rd->rec = r->newest;
        for (size_t i = 0; i < r->n_sums; i++)
            rd->cum[i] = r->sealed_cum[i] + r->newest.sums[i];
        rd->next++;
    } else {
        if (rd->p == rd->stop)
            enter_block(rd, rd->block + 1);
        decode_next(rd);
    }
    *ret = &rd->rec;
    return true;
}

/* ------------------------------------------------------------------ the ring */

void
sw_ring_init(sw_ring *r, size_t n_sums, int64_t res_ms, size_t fit)
{
    memset(r, 0, sizeof *r);
    r->n_sums = n_sums;
    r->res_ms = res_ms;
    r->fit_blocks = fit / RING_BLOCK + 2;
    r->dropped_start_ms = INT64_MIN;
}

static void
free_blocks(sw_ring *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(block_at(r, i)->data);
    r->block_head = (r->block_head + n) % (r->block_cap > 0 ? r->block_cap : 1);
    r->n_blocks -= n;
}

void
sw_ring_fini(sw_ring *r)
{
    free_blocks(r, r->n_blocks);
    free(r->blocks);
    memset(r, 0, sizeof *r);
}

void
sw_ring_start_at(sw_ring *r, uint64_t first, const uint64_t *base_cum)
{
    r->stored = r->first = r->end = first;
    memcpy(r->base_cum, base_cum, r->n_sums * sizeof base_cum[0]);
    memcpy(r->sealed_cum, base_cum, r->n_sums * sizeof base_cum[0]);
}

sw_status
sw_ring_push(sw_ring *r, int64_t start_ms, int64_t end_ms, sw_rec **ret, sw_err *err)
{
    if (r->end > r->stored) {
        sw_status st = seal_newest(r, err);
        if (st != SW_OK)
            return st;
    }
    memset(&r->newest, 0, sizeof r->newest);
    r->newest.start_ms = start_ms;
    r->newest.end_ms = end_ms;
    if (r->first == r->end)
        r->first_end_ms = end_ms;
    r->end++;
    *ret = &r->newest;
    return SW_OK;
}

sw_rec *
sw_ring_newest(sw_ring *r)
{
    return r->first < r->end ? &r->newest : NULL;
}

/* The bucket a search stops at (the newest or none: no decoding), with the running totals
 * before it. */
static uint64_t
found_newest(const sw_ring *r, uint64_t seq, uint64_t *cum)
{
    if (seq == r->end)
        for (size_t i = 0; i < r->n_sums; i++)
            cum[i] = r->sealed_cum[i] + r->newest.sums[i];
    else
        memcpy(cum, r->sealed_cum, r->n_sums * sizeof cum[0]);
    return seq;
}

/*
 * The first bucket of block i or after it that starts at or after t (by_end: ends after t)
 * and the running totals before it, decoding block i alone: by_end, i is the block holding it;
 * by start, it is in block i or it is the first of the next block (or the newest).
 */
static uint64_t
scan_block(const sw_ring *r, size_t i, int64_t t, bool by_end, uint64_t *cum)
{
    const sw_ring_block *b = block_at(r, i);
    const uint8_t *p = b->data + header_bytes(r), *stop = p + b->len;
    size_t n = r->n_sums;
    sw_rec rec;
    coder_reset(&rec, b->start_ms, r->res_ms, n);
    memcpy(cum, b->data, header_bytes(r));
    for (uint64_t seq = block_first_seq(r, i); p < stop; seq++) {
        decode_rec(&p, &rec);
        if (by_end ? rec.end_ms > t : rec.start_ms >= t)
            return seq;
        for (size_t k = 0; k < n; k++)
            cum[k] += rec.sums[k];
    }
    if (i + 1 < r->n_blocks) {
        memcpy(cum, block_at(r, i + 1)->data, header_bytes(r));
        return block_first_seq(r, i + 1);
    }
    return found_newest(r, r->end - 1, cum);
}

/*
 * The first bucket from `first` on that starts at or after t (by_end: that ends after t), or
 * end, and the running totals before it: one pass over the block the headers point to.
 */
static uint64_t
ring_find(const sw_ring *r, int64_t t, bool by_end, uint64_t *cum)
{
    if (r->first == r->end || (by_end ? r->newest.end_ms <= t : r->newest.start_ms < t))
        return r->first == r->end ? (memcpy(cum, r->base_cum, r->n_sums * sizeof cum[0]), r->end)
                                  : found_newest(r, r->end, cum);
    size_t lo = 0, hi = r->n_blocks; /* blocks wholly before what is sought: [0, lo) */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const sw_ring_block *b = block_at(r, mid);
        if (by_end ? b->last_end_ms <= t : b->start_ms < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    /* By start, the sought bucket may be the first of block lo: search from block lo - 1. */
    size_t from = by_end || lo == 0 ? lo : lo - 1;
    uint64_t seq = from == r->n_blocks ? found_newest(r, r->end - 1, cum)
                                       : scan_block(r, from, t, by_end, cum);
    if (seq <= r->first) {
        memcpy(cum, r->base_cum, r->n_sums * sizeof cum[0]);
        return r->first;
    }
    return seq;
}

uint64_t
sw_ring_seq_start_at_or_after(const sw_ring *r, int64_t t)
{
    uint64_t cum[SW_SUMS_MAX];
    return ring_find(r, t, false, cum);
}

uint64_t
sw_ring_seq_end_after(const sw_ring *r, int64_t t)
{
    uint64_t cum[SW_SUMS_MAX];
    return ring_find(r, t, true, cum);
}

uint64_t
sw_ring_cum_from(const sw_ring *r, int64_t t, uint64_t *ret)
{
    return ring_find(r, t, false, ret);
}

uint64_t
sw_ring_cum_after(const sw_ring *r, int64_t t, uint64_t *ret)
{
    return ring_find(r, t, true, ret);
}

/* The end of bucket `first`, read at the front (first < end - 1). */
static int64_t
front_end_ms(const sw_ring *r)
{
    const uint8_t *p = block_at(r, 0)->data + header_bytes(r) + r->front_off;
    sw_rec next = r->front_prev;
    decode_rec(&p, &next);
    return next.end_ms;
}

/* An emptied ring keeps its totals alone. */
static void
empty_ring(sw_ring *r)
{
    free_blocks(r, r->n_blocks);
    r->stored = r->end;
    memcpy(r->sealed_cum, r->base_cum, r->n_sums * sizeof r->base_cum[0]);
}

/* The first block's buckets all dropped: it is freed and the front moves to the next one. */
static void
leave_first_block(sw_ring *r)
{
    uint64_t next = r->n_blocks > 1 ? block_first_seq(r, 1) : r->end - 1;
    free_blocks(r, 1);
    r->stored = next;
    r->front_off = 0;
    if (r->n_blocks > 0)
        coder_reset(&r->front_prev, block_at(r, 0)->start_ms, r->res_ms, r->n_sums);
}

/*
 * Buckets leave from the front, where the ring keeps its place in the first block (the offset
 * of bucket `first` and the bucket before it): the tick drops one base interval at a time and
 * decodes only that one.
 */
void
sw_ring_drop(sw_ring *r, int64_t before_ms)
{
    while (r->first < r->end && r->first_end_ms <= before_ms) {
        const sw_rec *gone = &r->newest;
        if (r->first < r->end - 1) {
            const uint8_t *p = block_at(r, 0)->data + header_bytes(r) + r->front_off;
            const uint8_t *from = p;
            decode_rec(&p, &r->front_prev);
            r->front_off += (size_t)(p - from);
            gone = &r->front_prev;
        }
        for (size_t i = 0; i < r->n_sums; i++)
            r->base_cum[i] += gone->sums[i];
        r->dropped_start_ms = gone->start_ms;
        r->first++;
        if (r->first == r->end) {
            empty_ring(r);
            return;
        }
        if (r->first == (r->n_blocks > 1 ? block_first_seq(r, 1) : r->end - 1))
            leave_first_block(r);
        r->first_end_ms = r->first == r->end - 1 ? r->newest.end_ms : front_end_ms(r);
    }
}
