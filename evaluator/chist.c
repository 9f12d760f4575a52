/*
 * Compact histograms: what the evaluator keeps of each closed interval's latency. A 10 s
 * interval records a few hundred to a few thousand buckets of the 23,552 a dense latency
 * histogram has (188 KB), so intervals are packed as LEB128 tokens, about one byte a bucket
 * where even a compact histogram takes 12, and unpacked straight into the running histograms of
 * the windows that need latency. Owned by the history that stores them.
 *
 * Each recorded bucket is a gap token, the gap from the previous recorded bucket's lowest value
 * shifted left by one (its low bit 0), followed by a count token, (count - 2) * 2 + 1 (its low
 * bit 1), only when its count is not 1. An interval of a few hundred values over thousands of
 * buckets has counts of 1 almost everywhere and gaps below 64: one byte a bucket (a gap and a
 * count of one byte each took two). A token's low bit is in its first byte, so a reader going
 * up sees whether a count follows and one going down whether it read a count or a gap.
 *
 * A gap is written in widths of the bucket it starts from, as the latency layout
 * (sw_hdr_latency_config: 2,048 sub-buckets, unit 1) has them: a bucket's lowest value is a
 * multiple of its width and widths only grow, so in that layout (and any coarser one) every gap
 * is a whole number of them. A 10 s interval's gaps are then tens of buckets, one byte, where
 * in values they took two or three. A histogram of a finer layout, where some gap is not a whole
 * number of widths, is packed with plain gaps.
 */
#include "eval_int.h"

#include <stdlib.h>
#include <string.h>

#include "slawatch/hdr_codec.h"
#include "slawatch/varint.h"

struct sw_chist {
    uint32_t len;  /* bytes of data */
    bool scaled;   /* gaps in widths of the bucket they start from (gap_shift), else in values */
    int64_t total; /* values recorded */
    uint8_t data[];
};

/* The data was written by sw_varint_put, so it is well formed: no bounds checks per byte. */
static uint64_t
get_varint(const uint8_t **p)
{
    uint64_t v = 0;
    unsigned shift = 0;
    const uint8_t *q = *p;
    while (*q & 0x80) {
        v |= (uint64_t)(*q++ & 0x7f) << shift;
        shift += 7;
    }
    v |= (uint64_t)*q++ << shift;
    *p = q;
    return v;
}

/* Tokens are gathered in a chunk on the stack and appended to buf a chunk at a time. */
#define CHUNK 4096
#define PAIR_MAX 20 /* a bucket's two tokens, at most 10 bytes each */

/* A bucket's tokens (its gap as written, its count) put at out; their length. */
static inline size_t
put_bucket(uint8_t *out, uint64_t gap, int64_t count)
{
    size_t n = sw_varint_put(out, gap << 1);
    if (count != 1) /* counts are at most INT64_MAX, so (count - 2) * 2 + 1 fits 64 bits */
        n += sw_varint_put(out + n, ((uint64_t)count - 2) * 2 + 1);
    return n;
}

/* The bucket whose gap token starts at *p: its gap as written, and its count. */
static inline uint64_t
get_bucket(const uint8_t **p, const uint8_t *end, int64_t *ret_count)
{
    uint64_t gap = get_varint(p) >> 1;
    *ret_count = *p < end && (**p & 1) ? (int64_t)(get_varint(p) >> 1) + 2 : 1;
    return gap;
}

/* log2 of the latency layout's sub-bucket count: values below it have buckets one wide. */
#define GAP_SUB_BITS 11

/* log2 of the width of the latency layout's bucket whose lowest value is value. */
static inline unsigned
gap_shift(int64_t value)
{
    unsigned bits = value > 0 ? 64 - (unsigned)__builtin_clzll((uint64_t)value) : 0;
    return bits > GAP_SUB_BITS ? bits - GAP_SUB_BITS : 0;
}

/* The gap from prev to value as written: in widths when scaled; false when it is not a whole
 * number of them. */
static inline bool
gap_of(int64_t prev, int64_t value, bool scaled, uint64_t *ret)
{
    uint64_t gap = (uint64_t)(value - prev);
    unsigned shift = scaled ? gap_shift(prev) : 0;
    *ret = gap >> shift;
    return (gap & ((UINT64_C(1) << shift) - 1)) == 0;
}

static sw_chist *
chist_new(const uint8_t *data, size_t len, bool scaled, int64_t total)
{
    sw_chist *c = malloc(sizeof *c + len);
    if (c == NULL)
        return NULL;
    c->len = (uint32_t)len;
    c->scaled = scaled;
    c->total = total;
    if (len > 0)
        memcpy(c->data, data, len);
    return c;
}

/* h's buckets into buf (or chunk alone when they fit it: *ret_n bytes); SW_E_RANGE when scaled
 * and a gap is not a whole number of widths. */
static sw_status
pack_into(const sw_hdr *h, bool scaled, uint8_t *chunk, size_t *ret_n, sw_buf *buf, sw_err *err)
{
    size_t n = 0;
    sw_status st = SW_OK;
    sw_buf_reset(buf);
    sw_hdr_iter it;
    sw_hdr_iter_init(&it, h);
    int64_t prev = 0;
    while (st == SW_OK && sw_hdr_iter_next(&it)) {
        uint64_t gap;
        if (!gap_of(prev, it.value_lo, scaled, &gap))
            return SW_E_RANGE;
        n += put_bucket(chunk + n, gap, it.count);
        prev = it.value_lo;
        if (n > CHUNK - PAIR_MAX) {
            st = sw_buf_append(buf, chunk, n, err);
            n = 0;
        }
    }
    /* Most intervals fit in one chunk: then buf is not needed at all. */
    if (st == SW_OK && buf->len > 0)
        st = sw_buf_append(buf, chunk, n, err);
    *ret_n = n;
    return st;
}

sw_status
sw_chist_pack(const sw_hdr *h, sw_buf *buf, sw_chist **ret, sw_err *err)
{
    uint8_t chunk[CHUNK];
    size_t n;
    bool scaled = true;
    sw_status st = pack_into(h, scaled, chunk, &n, buf, err);
    if (st == SW_E_RANGE) { /* a finer layout than the latency one */
        scaled = false;
        st = pack_into(h, scaled, chunk, &n, buf, err);
    }
    if (st != SW_OK)
        return st;
    const uint8_t *data = buf->len > 0 ? buf->data : chunk;
    size_t len = buf->len > 0 ? buf->len : n;
    sw_chist *c = chist_new(data, len, scaled, sw_hdr_total_count(h));
    if (c == NULL)
        return sw_err_set(err, SW_E_NOMEM, "cannot allocate a %zu-byte compact histogram", len);
    *ret = c;
    return SW_OK;
}

/* Buckets decoded from an encoding, packed into buf as they come, counted below thresholds. */
typedef struct packer {
    sw_buf *buf;
    bool scaled;
    bool unscalable; /* scaled, and a gap was not a whole number of widths */
    int64_t prev;
    int64_t total;
    const int64_t *thresholds;
    size_t n_thresholds;
    int64_t *at_or_below;
} packer;

static bool
pack_buckets(void *ctx, const int64_t *value_lo, const int64_t *count, size_t n)
{
    packer *pk = ctx;
    uint8_t chunk[CHUNK];
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t gap;
        if (!gap_of(pk->prev, value_lo[i], pk->scaled, &gap)) {
            pk->unscalable = true;
            return false;
        }
        len += put_bucket(chunk + len, gap, count[i]);
        pk->prev = value_lo[i];
        pk->total += count[i];
        for (size_t k = 0; k < pk->n_thresholds; k++)
            if (value_lo[i] <= pk->thresholds[k])
                pk->at_or_below[k] += count[i];
        if (len > CHUNK - PAIR_MAX) {
            if (sw_buf_append(pk->buf, chunk, len, NULL) != SW_OK)
                return false;
            len = 0;
        }
    }
    return sw_buf_append(pk->buf, chunk, len, NULL) == SW_OK;
}

/* The encoding's buckets packed into buf (gaps scaled or not), counted below thresholds. */
static sw_status
decode_packed(const uint8_t *data, size_t len, packer *pk, sw_err *err)
{
    sw_buf_reset(pk->buf);
    if (pk->n_thresholds > 0) /* no array is needed for none */
        memset(pk->at_or_below, 0, pk->n_thresholds * sizeof *pk->at_or_below);
    pk->prev = 0;
    pk->total = 0;
    pk->unscalable = false;
    return sw_hdr_decode_buckets(data, len, pack_buckets, pk, err);
}

sw_status
sw_chist_decode(const uint8_t *data, size_t len, const int64_t *thresholds, size_t n_thresholds,
                int64_t *ret_at_or_below, sw_buf *buf, sw_chist **ret, sw_err *err)
{
    packer pk = {.buf = buf,
                 .scaled = true,
                 .thresholds = thresholds,
                 .n_thresholds = n_thresholds,
                 .at_or_below = ret_at_or_below};
    sw_status st = decode_packed(data, len, &pk, err);
    if (st != SW_OK && pk.unscalable) { /* a finer layout than the latency one: plain gaps */
        pk.scaled = false;
        st = decode_packed(data, len, &pk, err);
    }
    if (st != SW_OK)
        return st;
    sw_chist *c = chist_new(buf->data, buf->len, pk.scaled, pk.total);
    if (c == NULL)
        return sw_err_set(err, SW_E_NOMEM, "cannot allocate a %zu-byte compact histogram",
                          buf->len);
    *ret = c;
    return SW_OK;
}

int64_t
sw_chist_total(const sw_chist *c)
{
    return c->total;
}

sw_chist *
sw_chist_clone(const sw_chist *c)
{
    sw_chist *copy = malloc(sw_chist_size(c));
    if (copy != NULL)
        memcpy(copy, c, sw_chist_size(c));
    return copy;
}

void
sw_chist_free(sw_chist *c)
{
    free(c);
}

int64_t
sw_chist_buckets(const sw_chist *c)
{
    /* One gap token a bucket: the tokens whose first byte (the one after the previous token's
     * last, below 0x80) has its low bit clear. */
    int64_t gaps = 0;
    bool token_start = true;
    for (uint32_t i = 0; i < c->len; i++) {
        gaps += token_start && !(c->data[i] & 1);
        token_start = c->data[i] < 0x80;
    }
    return gaps;
}

void
sw_chist_span(const sw_chist *c, int64_t *ret_first, int64_t *ret_last)
{
    const uint8_t *p = c->data, *end = c->data + c->len;
    int64_t value = 0;
    *ret_first = -1;
    while (p < end) {
        int64_t count;
        value += (int64_t)(get_bucket(&p, end, &count) << (c->scaled ? gap_shift(value) : 0));
        if (*ret_first < 0)
            *ret_first = value;
    }
    *ret_last = value;
}

/* ------------------------------------------------------------------ read one bucket at a time */

void
sw_chist_extent(const sw_chist *c, int64_t max_value, int64_t *ret_last, int64_t *ret_held)
{
    const uint8_t *p = c->data, *end = c->data + c->len;
    int64_t value = 0;
    *ret_held = 0;
    while (p < end) {
        int64_t count;
        value += (int64_t)(get_bucket(&p, end, &count) << (c->scaled ? gap_shift(value) : 0));
        if (value <= max_value)
            *ret_held += count;
    }
    *ret_last = value;
}

void
sw_chist_cursor_bottom(const sw_chist *c, sw_chist_cursor *cur)
{
    *cur = (sw_chist_cursor){c->data, c->data, c->data + c->len, c->scaled, 0, 0, 0};
}

bool
sw_chist_up(sw_chist_cursor *cur)
{
    if (cur->p == cur->end)
        return false;
    uint64_t gap = get_bucket(&cur->p, cur->end, &cur->count);
    cur->value += (int64_t)(gap << (cur->scaled ? gap_shift(cur->value) : 0));
    return true;
}

/* The LEB128 number that ends just before *p (its last byte is the one below 0x80, the bytes
 * before it up to the previous number's last byte are its own); *p moved to its first byte. */
static uint64_t
get_varint_back(const uint8_t *begin, const uint8_t **p)
{
    const uint8_t *q = *p - 1;
    while (q > begin && (q[-1] & 0x80))
        q--;
    *p = q;
    return get_varint(&q);
}

/* Read the bucket ending at cur->p backwards: its count token when it has one (low bit 1),
 * then the gap token that led to it. */
static void
read_back(sw_chist_cursor *cur)
{
    uint64_t token = get_varint_back(cur->begin, &cur->p);
    cur->count = 1;
    if (token & 1) {
        cur->count = (int64_t)(token >> 1) + 2;
        token = get_varint_back(cur->begin, &cur->p);
    }
    cur->gap = token >> 1;
}

void
sw_chist_cursor_top(const sw_chist *c, int64_t last, sw_chist_cursor *cur)
{
    *cur = (sw_chist_cursor){c->data, c->data + c->len, c->data + c->len, c->scaled, last, 0, 0};
    if (c->len > 0)
        read_back(cur);
}

/*
 * The bucket before value, which the gap led from. A scaled gap is in widths of the bucket it
 * starts from, unknown going down: the width w = 2^s with gap_shift(value - gap * w) == s.
 * gap_shift of that candidate only shrinks as s grows, so exactly one s agrees, and it is the
 * largest s (from value's own width down) whose candidate's width is at least its own. Widths
 * that would take the candidate below 0 are skipped before the product: gap << s can pass 2^63
 * there (a value near 2^50 above small ones) and wrap to a candidate that seems to agree.
 */
static int64_t
value_before(int64_t value, uint64_t gap, bool scaled)
{
    if (!scaled)
        return value - (int64_t)gap;
    for (unsigned s = gap_shift(value);; s--) {
        if (gap <= (uint64_t)value >> s) {
            int64_t prev = value - (int64_t)(gap << s);
            if (gap_shift(prev) >= s)
                return prev;
        }
        if (s == 0)
            return 0; /* a gap longer than value: only corrupt tokens, read as the layout's floor */
    }
}

bool
sw_chist_down(sw_chist_cursor *cur)
{
    if (cur->p == cur->begin)
        return false;
    cur->value = value_before(cur->value, cur->gap, cur->scaled);
    read_back(cur);
    return true;
}

size_t
sw_chist_size(const sw_chist *c)
{
    return sizeof *c + c->len;
}

/* Pairs unpacked per call of sw_hdr_record_sorted. */
#define UNPACK 256

void
sw_chist_add_to(sw_hdr *dst, const sw_chist *c)
{
    const uint8_t *p = c->data, *end = c->data + c->len;
    int64_t value = 0, values[UNPACK], counts[UNPACK];
    while (p < end) {
        size_t n = 0;
        for (; n < UNPACK && p < end; n++) {
            value +=
                (int64_t)(get_bucket(&p, end, &counts[n]) << (c->scaled ? gap_shift(value) : 0));
            values[n] = value;
        }
        /* In bucket order: merged into a compact dst in one pass, not searched bucket by
         * bucket. */
        sw_hdr_record_sorted(dst, values, counts, n);
    }
}

sw_status
sw_chist_subtract_from(sw_hdr *dst, const sw_chist *c, sw_hdr *scratch, sw_err *err)
{
    /* sw_hdr_subtract checks every bucket before it changes any: unpack into the scratch (an
     * append per bucket while it is compact), subtract, empty the scratch. */
    sw_chist_add_to(scratch, c);
    sw_status st = sw_hdr_subtract(dst, scratch, err);
    sw_hdr_reset(scratch);
    return st;
}
