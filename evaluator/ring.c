/*
 * A compact ring of buckets (eval_int.h, "ring.c"). Buckets are kept in blocks of RING_BLOCK,
 * each block frame-of-reference coded: a header (the running totals before its first bucket
 * as varints relative to the ring's origin, then per field a width, a reference and a
 * minimum) and the buckets' fields bit-packed at those widths, a row of row_bits per bucket.
 * A field's value is its minimum plus its bits, plus its reference's value when it has one (a
 * count coded as its difference from an earlier count: latency values beside requests take no
 * bits when every request is recorded). A production series' bucket is regular (it starts where
 * the one before it ended and lasts res_ms: its time fields take no bits, and a lookup finds
 * its place by arithmetic), its runs are zero and its counts vary within a few bits: a base
 * interval of the production rules takes about 3.5 bytes with its share of the header and
 * allocation, instead of 104 as a plain record or ~10 coded as varints against the bucket
 * before. Every value is exact mod 2^64 at any width (up to 64 bits: counts past 2^32 just
 * widen their block).
 *
 * The open block is coded loose (two bits of room a field) and re-coded whole when a bucket
 * does not fit it, then tight once full. A lookup binary-searches the block descriptors,
 * reads one header and sums the rows from the block's start or back from its end (the next
 * block's totals), a quarter of a block on average; the newest bucket is held decoded
 * (rollups add to it, and the tick asks about it most), so windows ending now cost no decoding
 * at their new edge.
 */
#include "eval_int.h"

#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "slawatch/varint.h"

#define RING_BLOCK 64 /* buckets a block holds: a lookup sums a quarter of one on average */
#define PAD 7         /* bytes after a block's bits: a field's load stays inside it */

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
n_fields(const sw_ring *r)
{
    return SW_FLD_SUMS + r->n_sums;
}

/* ------------------------------------------------------------------ bits */

static uint64_t
low_bits(unsigned w)
{
    return w >= 64 ? UINT64_MAX : (UINT64_C(1) << w) - 1;
}

/* The w bits at bit pos of bits, least significant first (a block's bits are followed by
 * PAD bytes, so a field is one unaligned load). */
static inline uint64_t
get_bits(const uint8_t *bits, uint64_t pos, unsigned w)
{
    size_t at = (size_t)(pos >> 3);
    unsigned sh = (unsigned)(pos & 7);
    if (w + sh <= 64) {
        uint64_t x;
        memcpy(&x, bits + at, sizeof x);
        return (le64toh(x) >> sh) & low_bits(w);
    }
    uint64_t v = 0;
    for (unsigned got = 0; got < w; at++, sh = 0) {
        unsigned take = 8 - sh < w - got ? 8 - sh : w - got;
        v |= (uint64_t)((bits[at] >> sh) & ((1u << take) - 1)) << got;
        got += take;
    }
    return v;
}

/* bits (zeroed there) |= v's w low bits at bit pos. */
static void
put_bits(uint8_t *bits, uint64_t pos, unsigned w, uint64_t v)
{
    size_t at = (size_t)(pos >> 3);
    unsigned sh = (unsigned)(pos & 7);
    while (w > 0) {
        unsigned take = 8 - sh < w ? 8 - sh : w;
        bits[at++] |= (uint8_t)((v & ((1u << take) - 1)) << sh);
        v = take >= 64 ? 0 : v >> take;
        w -= take;
        sh = 0;
    }
}

static unsigned
bits_for(uint64_t range)
{
    return range == 0 ? 0 : 64 - (unsigned)__builtin_clzll(range);
}

static size_t
bytes_for(size_t buckets, uint32_t row_bits)
{
    return (buckets * row_bits + 7) / 8;
}

/* ------------------------------------------------------------------ fields */

/* A bucket's fields (before references): its time against the grid of block_start, its runs,
 * its counts. */
static void
fields_of(const sw_ring *r, const sw_rec *rec, int64_t block_start, size_t j, uint64_t *v)
{
    uint64_t grid = (uint64_t)block_start + (uint64_t)j * (uint64_t)r->res_ms;
    v[SW_FLD_START] = (uint64_t)rec->start_ms - grid;
    v[SW_FLD_LENGTH] = (uint64_t)rec->end_ms - (uint64_t)rec->start_ms - (uint64_t)r->res_ms;
    v[SW_FLD_TAIL] = rec->tail_run;
    v[SW_FLD_PEAK] = rec->peak_run;
    v[SW_FLD_MAINT] = rec->in_maint;
    memcpy(v + SW_FLD_SUMS, rec->sums, r->n_sums * sizeof rec->sums[0]);
}

static void
rec_of(const sw_ring *r, const uint64_t *v, int64_t block_start, size_t j, sw_rec *rec)
{
    uint64_t start = (uint64_t)block_start + (uint64_t)j * (uint64_t)r->res_ms + v[SW_FLD_START];
    rec->start_ms = (int64_t)start;
    rec->end_ms = (int64_t)(start + (uint64_t)r->res_ms + v[SW_FLD_LENGTH]);
    rec->tail_run = (uint32_t)v[SW_FLD_TAIL];
    rec->peak_run = (uint32_t)v[SW_FLD_PEAK];
    rec->in_maint = (uint32_t)v[SW_FLD_MAINT];
    memcpy(rec->sums, v + SW_FLD_SUMS, r->n_sums * sizeof rec->sums[0]);
}

/* Bucket j's fields from a view. */
static void
view_fields(const sw_ring *r, const sw_ring_view *b, size_t j, uint64_t *v)
{
    uint64_t row = (uint64_t)j * b->row_bits;
    for (size_t f = 0; f < n_fields(r); f++) {
        v[f] = b->min[f] + (b->width[f] != 0 ? get_bits(b->bits, row + b->off[f], b->width[f]) : 0);
        if (b->ref[f] != 0)
            v[f] += v[b->ref[f] - 1];
    }
}

/* Bucket j's start (or end) from a view: its time fields alone, which are never coded against
 * a reference. */
static int64_t
view_time(const sw_ring *r, const sw_ring_view *b, size_t j, bool end)
{
    uint64_t row = (uint64_t)j * b->row_bits;
    uint64_t v[SW_FLD_SUMS];
    for (size_t f = SW_FLD_START; f <= (end ? SW_FLD_LENGTH : SW_FLD_START); f++)
        v[f] = b->min[f] + (b->width[f] != 0 ? get_bits(b->bits, row + b->off[f], b->width[f]) : 0);
    uint64_t start = (uint64_t)b->start_ms + (uint64_t)j * (uint64_t)r->res_ms + v[SW_FLD_START];
    return (int64_t)(end ? start + (uint64_t)r->res_ms + v[SW_FLD_LENGTH] : start);
}

/* ------------------------------------------------------------------ block headers */

/* The running totals in a block's header alone. */
static const uint8_t *
read_cum(const sw_ring *r, const uint8_t *p, uint64_t *cum)
{
    for (size_t i = 0; i < r->n_sums; i++)
        cum[i] = r->origin[i] + get_varint(&p);
    return p;
}

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

/* Buckets coded in block i: the newest is held apart. */
static size_t
block_count(const sw_ring *r, size_t i)
{
    uint64_t stop = i + 1 < r->n_blocks ? block_first_seq(r, i + 1) : r->end - 1;
    return (size_t)(stop - block_first_seq(r, i));
}

static void
view_block(const sw_ring *r, size_t i, sw_ring_view *b)
{
    const sw_ring_block *blk = block_at(r, i);
    const uint8_t *p = read_cum(r, blk->data, b->cum);
    uint32_t row = 0;
    bool regular = true;
    for (size_t f = 0; f < n_fields(r); f++) {
        uint64_t wr = get_varint(&p);
        b->width[f] = (uint8_t)(wr & 127);
        b->ref[f] = (uint8_t)(wr >> 7);
        b->min[f] = unzigzag(get_varint(&p));
        b->off[f] = (uint16_t)row;
        row += b->width[f];
        if (f <= SW_FLD_LENGTH)
            regular &= b->width[f] == 0 && b->min[f] == 0;
    }
    b->row_bits = row;
    b->bits = p;
    b->n = block_count(r, i);
    b->first_seq = block_first_seq(r, i);
    b->start_ms = blk->start_ms;
    b->regular = regular;
}

/* The counts of a view's buckets [from, to), per sum. */
static void
sum_rows(const sw_ring *r, const sw_ring_view *b, size_t from, size_t to, uint64_t *ret)
{
    uint64_t tot[SW_FLD_MAX];
    for (size_t f = SW_FLD_SUMS; f < n_fields(r); f++) {
        uint64_t s = (uint64_t)(to - from) * b->min[f];
        unsigned w = b->width[f];
        if (w != 0)
            for (size_t j = from; j < to; j++)
                s += get_bits(b->bits, (uint64_t)j * b->row_bits + b->off[f], w);
        if (b->ref[f] != 0)
            s += tot[b->ref[f] - 1];
        tot[f] = s;
        ret[f - SW_FLD_SUMS] = s;
    }
}

/*
 * The running totals before bucket j of block i (viewed in b): summed from the block's start
 * or back from its end (the next block's header, or the totals before the newest), whichever
 * is nearer.
 */
static void
cum_before(const sw_ring *r, size_t i, const sw_ring_view *b, size_t j, uint64_t *cum)
{
    uint64_t part[SW_SUMS_MAX];
    if (j <= b->n / 2) {
        sum_rows(r, b, 0, j, part);
        for (size_t k = 0; k < r->n_sums; k++)
            cum[k] = b->cum[k] + part[k];
        return;
    }
    if (i + 1 < r->n_blocks)
        read_cum(r, block_at(r, i + 1)->data, cum);
    else
        memcpy(cum, r->sealed_cum, r->n_sums * sizeof cum[0]);
    sum_rows(r, b, j, b->n, part);
    for (size_t k = 0; k < r->n_sums; k++)
        cum[k] -= part[k];
}

/* ------------------------------------------------------------------ coding */

/* The smallest width that holds the values' spread above their least (as signed numbers). */
static unsigned
spread(const uint64_t *v, size_t n, size_t stride, uint64_t *ret_min)
{
    int64_t lo = (int64_t)v[0], hi = lo;
    for (size_t j = 1; j < n; j++) {
        int64_t x = (int64_t)v[j * stride];
        lo = x < lo ? x : lo;
        hi = x > hi ? x : hi;
    }
    *ret_min = (uint64_t)lo;
    return bits_for((uint64_t)hi - (uint64_t)lo);
}

/*
 * Code n buckets (their fields in v, SW_FLD_MAX a bucket) as a block with room for cap:
 * each count against no reference or the earlier count that makes it narrowest; loose (an
 * open block), its runs and counts two bits wider, centred, so that the buckets still to come
 * mostly fit without coding it again (a full block is coded tight). Returns
 * the block's bytes (malloc'd, zeroed past what is written) or NULL.
 */
static uint8_t *
encode_block(const sw_ring *r, const uint64_t *cum, uint64_t *v, size_t n, size_t cap, bool loose)
{
    size_t nf = n_fields(r);
    uint8_t width[SW_FLD_MAX], ref[SW_FLD_MAX];
    uint64_t min[SW_FLD_MAX], diff[RING_BLOCK];
    uint32_t row = 0;
    for (size_t f = 0; f < nf; f++) {
        ref[f] = 0;
        width[f] = (uint8_t)spread(v + f, n, SW_FLD_MAX, &min[f]);
        for (size_t g = SW_FLD_SUMS; f >= SW_FLD_SUMS && g < f && width[f] > 0; g++) {
            for (size_t j = 0; j < n; j++)
                diff[j] = v[j * SW_FLD_MAX + f] - v[j * SW_FLD_MAX + g];
            uint64_t m;
            unsigned w = spread(diff, n, 1, &m);
            if (w < width[f]) {
                width[f] = (uint8_t)w;
                ref[f] = (uint8_t)(g + 1);
                min[f] = m;
            }
        }
        if (loose && f >= SW_FLD_TAIL && width[f] < 62) { /* a regular grid stays regular */
            min[f] -= UINT64_C(1) << width[f];
            width[f] += 2;
        }
        row += width[f];
    }
    size_t head = (SW_SUMS_MAX + 2 * SW_FLD_MAX) * SW_VARINT_MAX; /* room for any header */
    size_t body = bytes_for(cap < RING_BLOCK ? cap : RING_BLOCK, row) + PAD; /* < 14 KB */
    uint8_t *data = calloc(1, head + body);
    if (data == NULL)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < r->n_sums; i++)
        k += sw_varint_put(data + k, cum[i] - r->origin[i]);
    for (size_t f = 0; f < nf; f++) {
        k += sw_varint_put(data + k, width[f] | (uint64_t)ref[f] << 7);
        k += sw_varint_put(data + k, zigzag(min[f]));
    }
    for (size_t j = 0; j < n; j++) {
        const uint64_t *b = v + j * SW_FLD_MAX;
        uint64_t at = (uint64_t)j * row;
        for (size_t f = 0; f < nf; f++) {
            uint64_t x = b[f] - min[f] - (ref[f] != 0 ? b[ref[f] - 1] : 0);
            put_bits(data + k, at, width[f], x);
            at += width[f];
        }
    }
    size_t bytes = k + body;
    uint8_t *trimmed = realloc(data, bytes);
    return trimmed != NULL ? trimmed : data;
}

/* The newest bucket's fields into the last block's row j when they fit its widths. */
static bool
append_in_place(sw_ring *r, const sw_ring_view *b, const uint64_t *v)
{
    size_t j = b->n;
    for (size_t f = 0; f < n_fields(r); f++) {
        uint64_t x = v[f] - b->min[f] - (b->ref[f] != 0 ? v[b->ref[f] - 1] : 0);
        if (x > low_bits(b->width[f]))
            return false;
    }
    uint8_t *bits = (uint8_t *)b->bits;
    uint64_t at = (uint64_t)j * b->row_bits;
    for (size_t f = 0; f < n_fields(r); f++) {
        uint64_t x = v[f] - b->min[f] - (b->ref[f] != 0 ? v[b->ref[f] - 1] : 0);
        put_bits(bits, at + b->off[f], b->width[f], x);
    }
    return true;
}

/* ------------------------------------------------------------------ blocks */

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

/* The room a block holds from its first sequence number to its boundary. */
static size_t
block_room(uint64_t first_seq)
{
    return RING_BLOCK - (size_t)(first_seq % RING_BLOCK);
}

/* A new last block holding the newest bucket alone. */
static sw_status
open_block(sw_ring *r, sw_err *err)
{
    if (r->n_blocks == r->block_cap) {
        sw_status st = grow_blocks(r, err);
        if (st != SW_OK)
            return st;
    }
    uint64_t v[SW_FLD_MAX];
    fields_of(r, &r->newest, r->newest.start_ms, 0, v);
    uint8_t *data = encode_block(r, r->sealed_cum, v, 1, block_room(r->end - 1), true);
    if (data == NULL)
        return sw_err_set(err, SW_E_NOMEM, "cannot allocate an interval history block");
    *block_at(r, r->n_blocks++) = (sw_ring_block){r->newest.start_ms, r->newest.end_ms, data};
    return SW_OK;
}

/* The last block coded again with the newest bucket after its own; tight once it is full. */
static sw_status
recode_last(sw_ring *r, const sw_ring_view *b, const uint64_t *newest, bool full, sw_err *err)
{
    uint64_t v[RING_BLOCK * SW_FLD_MAX];
    for (size_t j = 0; j < b->n; j++)
        view_fields(r, b, j, v + j * SW_FLD_MAX);
    memcpy(v + b->n * SW_FLD_MAX, newest, n_fields(r) * sizeof newest[0]);
    uint8_t *data = encode_block(r, b->cum, v, b->n + 1, block_room(b->first_seq), !full);
    if (data == NULL)
        return sw_err_set(err, SW_E_NOMEM, "cannot grow an interval history block");
    sw_ring_block *last = block_at(r, r->n_blocks - 1);
    free(last->data);
    last->data = data;
    return SW_OK;
}

/* The newest bucket coded into the last block (a new one at a block boundary). */
static sw_status
seal_newest(sw_ring *r, sw_err *err)
{
    uint64_t seq = r->end - 1;
    sw_status st;
    if (r->n_blocks == 0 || seq % RING_BLOCK == 0) {
        st = open_block(r, err);
    } else {
        sw_ring_view b;
        view_block(r, r->n_blocks - 1, &b); /* its coded buckets: the newest is not yet */
        uint64_t v[SW_FLD_MAX];
        fields_of(r, &r->newest, b.start_ms, b.n, v);
        bool full = b.n + 1 == block_room(b.first_seq);
        st = !full && append_in_place(r, &b, v) ? SW_OK : recode_last(r, &b, v, full, err);
    }
    if (st != SW_OK)
        return st;
    block_at(r, r->n_blocks - 1)->last_end_ms = r->newest.end_ms;
    for (size_t i = 0; i < r->n_sums; i++)
        r->sealed_cum[i] += r->newest.sums[i];
    return SW_OK;
}

/* ------------------------------------------------------------------ reading */

static void
enter_block(sw_ring_reader *rd, size_t i)
{
    rd->block = i;
    view_block(rd->r, i, &rd->view);
    memcpy(rd->cum, rd->view.cum, sizeof rd->cum);
}

static void
decode_next(sw_ring_reader *rd)
{
    const sw_ring *r = rd->r;
    size_t j = (size_t)(rd->next - rd->view.first_seq);
    uint64_t v[SW_FLD_MAX];
    view_fields(r, &rd->view, j, v);
    rec_of(r, v, rd->view.start_ms, j, &rd->rec);
    for (size_t i = 0; i < r->n_sums; i++)
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
    size_t i = block_of(r, seq);
    enter_block(rd, i);
    cum_before(r, i, &rd->view, (size_t)(seq - rd->view.first_seq), rd->cum);
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
        if (rd->next == rd->view.first_seq + rd->view.n)
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
    memcpy(r->origin, base_cum, r->n_sums * sizeof base_cum[0]);
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

/* The first of a view's buckets that starts at or after t (by_end: ends after t); n if none. */
static size_t
find_in_view(const sw_ring *r, const sw_ring_view *b, int64_t t, bool by_end)
{
    if (b->regular) { /* bucket j is [start + j res, start + (j + 1) res) */
        if (t < b->start_ms)
            return 0;
        uint64_t k = ((uint64_t)t - (uint64_t)b->start_ms) / (uint64_t)r->res_ms;
        bool on_grid = (uint64_t)t - (uint64_t)b->start_ms == k * (uint64_t)r->res_ms;
        if (!by_end && !on_grid)
            k++;
        return k < b->n ? (size_t)k : b->n;
    }
    size_t lo = 0, hi = b->n; /* starts and ends never decrease: buckets [0, lo) are before t */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int64_t at = view_time(r, b, mid, by_end);
        if (by_end ? at > t : at >= t)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/*
 * The first bucket of block i or after it that starts at or after t (by_end: ends after t)
 * and the running totals before it, reading block i alone: by_end, i is the block holding it;
 * by start, it is in block i or it is the first of the next block (or the newest).
 */
static uint64_t
scan_block(const sw_ring *r, size_t i, int64_t t, bool by_end, uint64_t *cum)
{
    sw_ring_view b;
    view_block(r, i, &b);
    size_t j = find_in_view(r, &b, t, by_end);
    if (j < b.n) {
        cum_before(r, i, &b, j, cum);
        return b.first_seq + j;
    }
    if (i + 1 < r->n_blocks) {
        read_cum(r, block_at(r, i + 1)->data, cum);
        return block_first_seq(r, i + 1);
    }
    return found_newest(r, r->end - 1, cum);
}

/*
 * The first bucket from `first` on that starts at or after t (by_end: that ends after t), or
 * end, and the running totals before it: one block read after a search of the descriptors.
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

/* ------------------------------------------------------------------ fingers */

#define FINGER_STEPS 16 /* buckets a finger reads on before a search is cheaper */

/* Block i viewed in b unless b holds it already (*held: the block b views, SIZE_MAX none). */
static void
hold_block(const sw_ring *r, size_t i, sw_ring_view *b, size_t *held)
{
    if (*held != i)
        view_block(r, i, b);
    *held = i;
}

/* Bucket seq's start (by_end: its end), first <= seq < end. */
static int64_t
bucket_time(const sw_ring *r, uint64_t seq, bool by_end, sw_ring_view *b, size_t *held)
{
    if (seq == r->end - 1)
        return by_end ? r->newest.end_ms : r->newest.start_ms;
    hold_block(r, block_of(r, seq), b, held);
    return view_time(r, b, (size_t)(seq - b->first_seq), by_end);
}

/* cum += bucket seq's counts, first <= seq < end. */
static void
add_bucket(const sw_ring *r, uint64_t seq, sw_ring_view *b, size_t *held, uint64_t *cum)
{
    const uint64_t *sums = r->newest.sums;
    uint64_t v[SW_FLD_MAX];
    if (seq != r->end - 1) {
        hold_block(r, block_of(r, seq), b, held);
        view_fields(r, b, (size_t)(seq - b->first_seq), v);
        sums = v + SW_FLD_SUMS;
    }
    for (size_t i = 0; i < r->n_sums; i++)
        cum[i] += sums[i];
}

/*
 * ring_find read on from finger f: every bucket before f's was before f->t, so before t too,
 * and the answer is the first from f's on that is not. False, nothing changed, when f is past t
 * or unset, its bucket no longer held, or the answer more than FINGER_STEPS buckets on. The
 * newest bucket is the answer or before it (the caller saw to that), so f never holds totals
 * that a rollup's add to the newest would change.
 */
static bool
move_finger(const sw_ring *r, int64_t t, bool by_end, sw_ring_finger *f, uint64_t *f_cum)
{
    if (f->t > t || f->seq < r->first || f->seq >= r->end)
        return false;
    sw_ring_view b;
    size_t held = SIZE_MAX;
    uint64_t seq = f->seq, cum[SW_SUMS_MAX];
    int64_t at = f->seq_at != INT64_MIN ? f->seq_at : bucket_time(r, seq, by_end, &b, &held);
    memcpy(cum, f_cum, r->n_sums * sizeof cum[0]);
    for (int steps = 0; by_end ? at <= t : at < t; steps++) {
        if (steps == FINGER_STEPS)
            return false;
        add_bucket(r, seq, &b, &held, cum);
        at = bucket_time(r, ++seq, by_end, &b, &held);
    }
    *f = (sw_ring_finger){t, seq, at};
    memcpy(f_cum, cum, r->n_sums * sizeof cum[0]);
    return true;
}

uint64_t
sw_ring_cum_on(const sw_ring *r, int64_t t, bool by_end, sw_ring_finger *f, uint64_t *f_cum,
               uint64_t *ret, sw_finger_use *use)
{
    /* None, or the newest bucket or none answers: no search to spare. */
    if (r->first == r->end || (by_end ? r->newest.end_ms <= t : r->newest.start_ms < t)) {
        *use = SW_FINGER_UNUSED;
        return ring_find(r, t, by_end, ret);
    }
    if (f != NULL && move_finger(r, t, by_end, f, f_cum)) {
        *use = SW_FINGER_MOVED;
        memcpy(ret, f_cum, r->n_sums * sizeof ret[0]);
        return f->seq;
    }
    *use = SW_FINGER_WANTED;
    return ring_find(r, t, by_end, ret);
}

/* Bucket seq (first <= seq < end - 1) from the first block, viewed in b once (*viewed). */
static void
front_rec(const sw_ring *r, uint64_t seq, sw_ring_view *b, bool *viewed, sw_rec *rec)
{
    if (!*viewed)
        view_block(r, 0, b);
    *viewed = true;
    size_t j = (size_t)(seq - b->first_seq);
    uint64_t v[SW_FLD_MAX];
    view_fields(r, b, j, v);
    rec_of(r, v, b->start_ms, j, rec);
}

/* An emptied ring keeps its totals alone. */
static void
empty_ring(sw_ring *r)
{
    free_blocks(r, r->n_blocks);
    r->stored = r->end;
    memcpy(r->sealed_cum, r->base_cum, r->n_sums * sizeof r->base_cum[0]);
}

/* Buckets leave from the front, each handed to gone first; a block goes once its last bucket
 * has. The first block is read once a call (the tick drops one base interval at a time). */
sw_status
sw_ring_drop(sw_ring *r, int64_t before_ms, sw_ring_gone_fn *gone_fn, void *ctx, sw_err *err)
{
    sw_ring_view b;
    bool viewed = false;
    while (r->first < r->end && r->first_end_ms <= before_ms) {
        sw_rec gone;
        if (r->first < r->end - 1)
            front_rec(r, r->first, &b, &viewed, &gone);
        else
            gone = r->newest;
        sw_status st = gone_fn != NULL ? gone_fn(ctx, &gone, err) : SW_OK;
        if (st != SW_OK)
            return st;
        for (size_t i = 0; i < r->n_sums; i++)
            r->base_cum[i] += gone.sums[i];
        r->dropped_start_ms = gone.start_ms;
        r->first++;
        if (r->first == r->end) {
            empty_ring(r);
            return SW_OK;
        }
        if ((r->n_blocks > 1 && r->first == block_first_seq(r, 1)) ||
            (r->n_blocks == 1 && r->first == r->end - 1)) {
            free_blocks(r, 1);
            r->stored = r->first;
            viewed = false;
        }
        sw_rec next;
        if (r->first < r->end - 1)
            front_rec(r, r->first, &b, &viewed, &next);
        r->first_end_ms = r->first == r->end - 1 ? r->newest.end_ms : next.end_ms;
    }
    return SW_OK;
}
