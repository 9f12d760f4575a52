/*
 * HdrHistogram binary encodings. Encoding writes V2 (ZigZag LEB128 counts, runs of zeros as
 * negative lengths, as Java writes them); decoding reads V2, V1 and V0, streaming the inflated
 * bytes through a fixed chunk so memory stays bounded whatever the input claims. Stateless.
 */
#include "hdr_int.h"
#include "slawatch/base64.h"
#include "slawatch/hdr_codec.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define COOKIE_BASE_MASK (~UINT32_C(0xf0))
#define V2_BASE UINT32_C(0x1c849303)
#define V2_COMPRESSED_BASE UINT32_C(0x1c849304)
#define V1_BASE UINT32_C(0x1c849301)
#define V1_COMPRESSED_BASE UINT32_C(0x1c849302)
#define V0_BASE UINT32_C(0x1c849308)
#define V0_COMPRESSED_BASE UINT32_C(0x1c849309)

#define V2_HEADER_LEN 40
#define V0_HEADER_LEN 32
#define VARINT_MAX 9
#define CHUNK 16384

/* ------------------------------------------------------------------ byte order and varints */

static void
put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void
put_be64(uint8_t *p, uint64_t v)
{
    put_be32(p, (uint32_t)(v >> 32));
    put_be32(p + 4, (uint32_t)v);
}

static uint64_t
get_be(const uint8_t *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v = v << 8 | p[i];
    return v;
}

/* HdrHistogram's varint: ZigZag, 7 bits a byte, at most 9 bytes (the 9th carries 8 bits). */
static size_t
put_varint(uint8_t *p, int64_t v)
{
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    size_t n = 0;
    while (n < VARINT_MAX - 1 && z >= 0x80) {
        p[n++] = (uint8_t)(z | 0x80);
        z >>= 7;
    }
    p[n++] = (uint8_t)z;
    return n;
}

/* Bytes used by the varint at p (0 when truncated within n bytes). */
static size_t
get_varint(const uint8_t *p, size_t n, int64_t *ret)
{
    uint64_t z = 0;
    for (size_t k = 0; k < VARINT_MAX && k < n; k++) {
        if (k == VARINT_MAX - 1) {
            z |= (uint64_t)p[k] << 56;
        } else {
            z |= (uint64_t)(p[k] & 0x7f) << (7 * k);
            if (p[k] & 0x80)
                continue;
        }
        *ret = (int64_t)((z >> 1) ^ (~(z & 1) + 1));
        return k + 1;
    }
    return 0;
}

/* ------------------------------------------------------------------ encoding */

/* Walks the counts as the tokens of the V2 payload: a count, or -n for n >= 2 zeros. */
typedef struct token_walk {
    const sw_hdr *h;
    int32_t index;
    int32_t limit;
    int32_t pos; /* compact: the next recorded bucket */
} token_walk;

/* The first bucket at or after w->index (up to the limit) holding values. */
static int32_t
next_recorded(const token_walk *w)
{
    const sw_hdr *h = w->h;
    if (sw_hdr_is_paged(h)) {
        int64_t count;
        int32_t i = sw_hdr_pg_next(h, w->index, &count);
        return i >= 0 && i < w->limit ? i : w->limit;
    }
    if (h->counts == NULL)
        return w->pos < h->sp_n && (int32_t)sw_hdr_sp_index(h)[w->pos] < w->limit
                   ? (int32_t)sw_hdr_sp_index(h)[w->pos]
                   : w->limit;
    /* Outside the dense range every count is zero. */
    int32_t i = w->index > h->c_lo ? w->index : h->c_lo;
    int32_t end = w->limit < sw_hdr_range_end(h) ? w->limit : sw_hdr_range_end(h);
    while (i < end && *sw_hdr_slot(h, i) == 0)
        i++;
    return i < end ? i : w->limit;
}

static bool
next_token(token_walk *w, int64_t *ret)
{
    if (w->index >= w->limit)
        return false;
    int32_t next = next_recorded(w);
    if (next == w->index) {
        *ret = w->h->counts != NULL   ? *sw_hdr_slot(w->h, w->index)
               : sw_hdr_is_paged(w->h) ? sw_hdr_pg_count(w->h, w->index)
                                       : w->h->sp_count[w->pos++];
        w->index++;
        return true;
    }
    int32_t run = next - w->index;
    w->index = next;
    *ret = run > 1 ? -(int64_t)run : 0;
    return true;
}

static token_walk
walk_of(const sw_hdr *h)
{
    /* Counts up to the bucket of the largest value, as Java does (one zero when empty). */
    return (token_walk){.h = h, .index = 0, .limit = sw_hdr_counts_index(h, h->max_value) + 1};
}

static size_t
varint_len(int64_t v)
{
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    size_t n = 1;
    while (n < VARINT_MAX && z >= 0x80) {
        z >>= 7;
        n++;
    }
    return n;
}

/* Most bytes the raw (uncompressed) encoding of h can take. No count exceeds the total and no
 * zero run the walk's length, so no token is longer than the longer of those two varints. */
static size_t
raw_bound(const sw_hdr *h)
{
    int32_t limit = walk_of(h).limit;
    size_t count_len = varint_len(h->total_count), run_len = varint_len(-(int64_t)limit);
    return V2_HEADER_LEN + (size_t)limit * (count_len > run_len ? count_len : run_len);
}

/* Most bytes deflate makes of n bytes with any window or memory level (zlib's stored-block
 * bound), plus the zlib wrapper. */
static size_t
deflated_bound(size_t n)
{
    return n + (n + 7) / 8 + (n + 63) / 64 + 5 + 6;
}

/* Room sw_hdr_encode needs for h compressed: the result, then the raw encoding as scratch. */
static size_t
compressed_room(const sw_hdr *h)
{
    return 8 + deflated_bound(raw_bound(h)) + raw_bound(h);
}

static void
put_v2_header(const sw_hdr *h, size_t payload, uint8_t *p)
{
    union {
        double d;
        uint64_t u;
    } ratio = {.d = 1.0};
    put_be32(p, SW_HDR_V2_COOKIE);
    put_be32(p + 4, (uint32_t)payload);
    put_be32(p + 8, 0); /* normalizing index offset */
    put_be32(p + 12, (uint32_t)h->significant_figures);
    put_be64(p + 16, (uint64_t)h->lowest_discernible_value);
    put_be64(p + 24, (uint64_t)h->highest_trackable_value);
    put_be64(p + 32, ratio.u);
}

/* The raw V2 encoding of h at dst (room for raw_bound(h)) in one walk over the counts: the
 * tokens first, then the header that states their length. Returns its length. */
static size_t
put_raw(const sw_hdr *h, uint8_t *dst)
{
    token_walk w = walk_of(h);
    size_t payload = 0;
    int64_t token;
    while (next_token(&w, &token))
        payload += put_varint(dst + V2_HEADER_LEN + payload, token);
    put_v2_header(h, payload, dst);
    return V2_HEADER_LEN + payload;
}

/* Window and hash sizes fitted to the input: a 1-minute histogram is a few KiB, and zlib's
 * defaults would spend more time clearing 64 KiB tables than compressing. */
static int
window_bits_for(size_t raw)
{
    int bits = 9;
    while (bits < 15 && ((size_t)1 << bits) < raw)
        bits++;
    return bits;
}

/* Compress raw[0..n) into dst (room for deflated_bound(n)) in one deflate call. */
static sw_status
deflate_raw(const uint8_t *raw, size_t n, uint8_t *dst, size_t *ret_len, sw_err *err)
{
    int bits = window_bits_for(n);
    int mem_level = bits - 7 < 1 ? 1 : bits - 7 > 8 ? 8 : bits - 7;
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, bits, mem_level, Z_DEFAULT_STRATEGY) !=
        Z_OK)
        return sw_err_set(err, SW_E_NOMEM, "cannot initialise deflate");
    zs.next_in = (Bytef *)(uintptr_t)raw;
    zs.avail_in = (uInt)n;
    zs.next_out = dst;
    zs.avail_out = (uInt)deflated_bound(n);
    int rc = deflate(&zs, Z_FINISH);
    *ret_len = zs.total_out;
    deflateEnd(&zs);
    if (rc != Z_STREAM_END)
        return sw_err_set(err, SW_E_IO, "deflate failed (%d)", rc);
    return SW_OK;
}

/* The compressed encoding at dst (room for compressed_room(h)); the room after the result holds
 * the raw encoding meanwhile, so the caller's buffer is the only memory used. */
static sw_status
put_compressed(const sw_hdr *h, uint8_t *dst, size_t *ret_len, sw_err *err)
{
    uint8_t *raw = dst + 8 + deflated_bound(raw_bound(h));
    size_t zlen = 0;
    sw_status st = deflate_raw(raw, put_raw(h, raw), dst + 8, &zlen, err);
    if (st != SW_OK)
        return st;
    put_be32(dst, SW_HDR_V2_COMPRESSED_COOKIE);
    put_be32(dst + 4, (uint32_t)zlen);
    *ret_len = 8 + zlen;
    return SW_OK;
}

sw_status
sw_hdr_encode(const sw_hdr *h, bool compressed, sw_buf *out, sw_err *err)
{
    sw_status st = sw_buf_reserve(out, compressed ? compressed_room(h) : raw_bound(h), err);
    if (st != SW_OK)
        return st;
    size_t n = 0;
    if (compressed)
        st = put_compressed(h, out->data + out->len, &n, err);
    else
        n = put_raw(h, out->data + out->len);
    out->len += st == SW_OK ? n : 0;
    return st;
}

sw_status
sw_hdr_encode_base64(const sw_hdr *h, sw_buf *out, sw_err *err)
{
    /* The text goes first, the binary it is made from after it: one buffer, no overlap. */
    size_t text_room = sw_base64_encoded_len(8 + deflated_bound(raw_bound(h)));
    sw_status st = sw_buf_reserve(out, text_room + compressed_room(h), err);
    if (st != SW_OK)
        return st;
    char *text = (char *)out->data + out->len;
    uint8_t *bin = out->data + out->len + text_room;
    size_t n = 0;
    st = put_compressed(h, bin, &n, err);
    if (st == SW_OK)
        out->len += sw_base64_encode_to(bin, n, text);
    return st;
}

/* ------------------------------------------------------------------ decoding */

/* The decoder's input: memory as it is, or the output of inflate through a fixed chunk. */
typedef struct byte_source {
    const uint8_t *p; /* readable bytes */
    size_t n;
    z_stream *zs;    /* NULL for uncompressed input */
    bool z_end;      /* inflate reached the end of the stream */
    size_t consumed; /* bytes of decoded data handed out before p, for messages */
    uint8_t chunk[CHUNK];
} byte_source;

/* Inflate more into the chunk (source_fill's slow path). */
static sw_status
source_refill(byte_source *s, sw_err *err)
{
    memmove(s->chunk, s->p, s->n);
    s->zs->next_out = s->chunk + s->n;
    s->zs->avail_out = (uInt)(CHUNK - s->n);
    while (s->zs->avail_out > 0) {
        int rc = inflate(s->zs, Z_NO_FLUSH);
        if (rc == Z_STREAM_END) {
            s->z_end = true;
            break;
        }
        if (rc == Z_BUF_ERROR || (rc == Z_OK && s->zs->avail_in == 0 && s->zs->avail_out > 0))
            return sw_err_set(err, SW_E_TRUNCATED, "compressed data ends before its stream does");
        if (rc != Z_OK)
            return sw_err_set(err, SW_E_PARSE, "corrupt compressed data: %s",
                              s->zs->msg ? s->zs->msg : "inflate error");
    }
    s->p = s->chunk;
    s->n = (size_t)(s->zs->next_out - s->chunk);
    return SW_OK;
}

/* Make at least `want` (<= CHUNK) bytes readable, fewer only at the end of the data. Inline:
 * the decoder asks before every varint, and uncompressed input never needs more. */
static inline sw_status
source_fill(byte_source *s, size_t want, sw_err *err)
{
    if (s->n >= want || s->zs == NULL || s->z_end)
        return SW_OK;
    return source_refill(s, err);
}

static void
source_skip(byte_source *s, size_t n)
{
    s->p += n;
    s->n -= n;
    s->consumed += n;
}

/* What a header says, whatever the version. */
typedef struct header_info {
    int version;         /* 0, 1 or 2 */
    int word_size;       /* V0/V1 count width in bytes */
    int64_t payload_len; /* V1/V2; -1 for V0 (to the end of the data) */
    sw_hdr_config cfg;
} header_info;

static sw_status
parse_header(byte_source *s, uint32_t base, uint32_t cookie, header_info *hi, sw_err *err)
{
    size_t need = base == V0_BASE ? V0_HEADER_LEN : V2_HEADER_LEN;
    sw_status st = source_fill(s, need, err);
    if (st != SW_OK)
        return st;
    if (s->n < need)
        return sw_err_set(err, SW_E_TRUNCATED, "header needs %zu bytes, %zu present", need, s->n);
    const uint8_t *p = s->p;
    hi->version = base == V2_BASE ? 2 : base == V1_BASE ? 1 : 0;
    hi->word_size = (int)((cookie >> 4) & 0xe);
    if (hi->version == 0) {
        hi->payload_len = -1;
        hi->cfg.significant_figures = (int)(int32_t)get_be(p + 4, 4);
        hi->cfg.lowest_discernible_value = (int64_t)get_be(p + 8, 8);
        hi->cfg.highest_trackable_value = (int64_t)get_be(p + 16, 8);
    } else {
        hi->payload_len = (int32_t)get_be(p + 4, 4);
        hi->cfg.significant_figures = (int)(int32_t)get_be(p + 12, 4);
        hi->cfg.lowest_discernible_value = (int64_t)get_be(p + 16, 8);
        hi->cfg.highest_trackable_value = (int64_t)get_be(p + 24, 8);
    }
    if (hi->payload_len < -1 || (hi->version > 0 && hi->payload_len < 0))
        return sw_err_set(err, SW_E_PARSE, "negative payload length %lld",
                          (long long)hi->payload_len);
    if (hi->version < 2 && hi->word_size != 2 && hi->word_size != 4 && hi->word_size != 8)
        return sw_err_set(err, SW_E_PARSE, "V%d cookie 0x%08x has no valid word size", hi->version,
                          (unsigned)cookie);
    source_skip(s, need);
    return SW_OK;
}

/* Buckets handed to a sw_hdr_buckets_fn per call. */
#define BUCKET_BATCH 256

/* Where sw_hdr_decode_buckets() gathers buckets before handing them on. */
typedef struct bucket_batch {
    sw_hdr_buckets_fn fn;
    void *ctx;
    size_t n;
    int64_t value_lo[BUCKET_BATCH];
    int64_t count[BUCKET_BATCH];
} bucket_batch;

/* Decoding state for the counts: into h, or, with batch set, into the batch (h then only
 * gives the layout and holds no counts). */
typedef struct counts_sink {
    sw_hdr *h;
    bucket_batch *batch;
    int32_t index; /* next bucket to fill */
    int32_t last;  /* last non-zero bucket, -1 when none */
    int64_t total;
} counts_sink;

/* Hand the gathered buckets on; false when the callee could not take them (no memory). */
static bool
batch_flush(bucket_batch *b)
{
    bool ok = b->n == 0 || b->fn(b->ctx, b->value_lo, b->count, b->n);
    b->n = 0;
    return ok;
}

/* Why sink_count refused count (kept out of line: the accepting path runs per bucket). */
static sw_status
sink_refuse(const counts_sink *k, int64_t count, size_t at, sw_err *err)
{
    if (count < 0)
        return sw_err_set(err, SW_E_PARSE, "negative count %lld at payload offset %zu",
                          (long long)count, at);
    if (k->index >= k->h->counts_len)
        return sw_err_set(err, SW_E_PARSE,
                          "payload has more counts than the %d buckets of its layout (offset %zu)",
                          k->h->counts_len, at);
    return sw_err_set(err, SW_E_RANGE, "total count overflows at payload offset %zu", at);
}

/* counts[index] = count (> 0) for an index past every bucket set so far: appended to the
 * compact pairs (dense past sp_max; the representation is settled at the end), or stored, the
 * dense range grown upwards to it. False when out of memory. */
static inline bool
put_count(const counts_sink *k, int32_t index, int64_t count)
{
    sw_hdr *h = k->h;
    if (k->batch != NULL) {
        bucket_batch *b = k->batch;
        b->value_lo[b->n] = sw_hdr_value_from_index(h, index);
        b->count[b->n++] = count;
        return b->n < BUCKET_BATCH || batch_flush(b);
    }
    if (h->counts == NULL)
        return sw_hdr_sp_append(h, index, count);
    if (!sw_hdr_range_cover(h, index, index))
        return false;
    *sw_hdr_slot(h, index) = count;
    return true;
}

static inline sw_status
sink_count(counts_sink *k, int64_t count, size_t at, sw_err *err)
{
    int64_t total;
    if (count < 0 || k->index >= k->h->counts_len ||
        __builtin_add_overflow(k->total, count, &total))
        return sink_refuse(k, count, at, err);
    k->total = total;
    if (count != 0) {
        k->last = k->index;
        if (!put_count(k, k->index, count))
            return sw_err_set(err, SW_E_NOMEM, "cannot allocate a decoded histogram's buckets");
    }
    k->index++;
    return SW_OK;
}

/*
 * Decode the tokens of p[0..n) into k, those that start at least a whole varint before the end
 * (all of them when `whole`: the payload's remaining bytes are all in p); *ret_used is the bytes
 * taken. at0 is p's payload offset, for messages. The bucket state lives in locals here: this
 * loop runs once per bucket of every histogram a scan reads.
 */
static sw_status
decode_tokens(const uint8_t *p, size_t n, bool whole, size_t at0, counts_sink *k, size_t *ret_used,
              sw_err *err)
{
    size_t stop = whole ? n : n - VARINT_MAX + 1, i = 0;
    int32_t index = k->index, last = k->last, len = k->h->counts_len;
    int64_t total = k->total;
    sw_status st = SW_OK;
    while (i < stop) {
        int64_t token;
        size_t used = get_varint(p + i, n - i, &token);
        if (used == 0) {
            st = sw_err_set(err, SW_E_TRUNCATED, "truncated varint at payload offset %zu", at0 + i);
            break;
        }
        if (token >= 0) {
            int64_t sum;
            if (index >= len || __builtin_add_overflow(total, token, &sum)) {
                k->index = index;
                st = sink_refuse(k, token, at0 + i, err);
                break;
            }
            total = sum;
            if (token != 0) {
                last = index;
                if (!put_count(k, index, token)) {
                    st = sw_err_set(err, SW_E_NOMEM,
                                    "cannot allocate a decoded histogram's buckets");
                    break;
                }
            }
            index++;
        } else if (token <= INT32_MIN || -token > (int64_t)(len - index)) {
            st = sw_err_set(err, SW_E_PARSE,
                            "run of %llu zeros at payload offset %zu "
                            "passes the %d buckets",
                            (unsigned long long)-(uint64_t)token, at0 + i, len);
            break;
        } else {
            index += (int32_t)-token; /* counts are already zero */
        }
        i += used;
    }
    k->index = index;
    k->last = last;
    k->total = total;
    *ret_used = i;
    return st;
}

static sw_status
decode_v2_counts(byte_source *s, int64_t payload, counts_sink *k, sw_err *err)
{
    size_t start = s->consumed;
    while ((int64_t)(s->consumed - start) < payload) {
        size_t left = (size_t)payload - (s->consumed - start);
        sw_status st = source_fill(s, VARINT_MAX, err);
        if (st != SW_OK)
            return st;
        size_t avail = s->n < left ? s->n : left, used = 0;
        if (avail == 0)
            return sw_err_set(err, SW_E_TRUNCATED, "truncated varint at payload offset %zu",
                              s->consumed - start);
        /* Less than a varint's worth buffered only at the end of the data or payload. */
        bool whole = avail == left || s->zs == NULL || s->z_end;
        st = decode_tokens(s->p, avail, whole, s->consumed - start, k, &used, err);
        source_skip(s, used);
        if (st != SW_OK)
            return st;
    }
    return SW_OK;
}

/* V1 (payload_len bytes) and V0 (to the end) of fixed-width big-endian counts. */
static sw_status
decode_word_counts(byte_source *s, const header_info *hi, counts_sink *k, sw_err *err)
{
    size_t start = s->consumed, ws = (size_t)hi->word_size;
    if (hi->payload_len >= 0 && (size_t)hi->payload_len % ws != 0)
        return sw_err_set(err, SW_E_PARSE, "payload length %lld is not a multiple of %zu",
                          (long long)hi->payload_len, ws);
    for (;;) {
        size_t done = s->consumed - start;
        if (hi->payload_len >= 0 && (int64_t)done >= hi->payload_len)
            return SW_OK;
        sw_status st = source_fill(s, ws, err);
        if (st != SW_OK)
            return st;
        if (s->n == 0 && hi->payload_len < 0)
            return SW_OK;
        if (s->n < ws)
            return sw_err_set(err, SW_E_TRUNCATED, "truncated count at payload offset %zu", done);
        uint64_t raw = get_be(s->p, (int)ws);
        int shift = 64 - 8 * (int)ws; /* sign-extend the word */
        int64_t count = (int64_t)(raw << shift) >> shift;
        source_skip(s, ws);
        st = sink_count(k, count, done, err);
        if (st != SW_OK)
            return st;
    }
}

/* After the payload: the data must end (and a compressed stream reach its checksum). */
static sw_status
expect_end(byte_source *s, sw_err *err)
{
    sw_status st = source_fill(s, 1, err);
    if (st != SW_OK)
        return st;
    if (s->n != 0)
        return sw_err_set(err, SW_E_PARSE, "%zu unexpected bytes after the payload", s->n);
    if (s->zs != NULL && !s->z_end)
        return sw_err_set(err, SW_E_TRUNCATED, "compressed stream does not end after the payload");
    return SW_OK;
}

/* Decode into a new histogram (*ret_h), or into batch when it is not NULL (*ret_h untouched). */
static sw_status
decode_body(byte_source *s, uint32_t base, uint32_t cookie, bucket_batch *batch, sw_hdr **ret_h,
            sw_err *err)
{
    header_info hi;
    sw_status st = parse_header(s, base, cookie, &hi, err);
    if (st != SW_OK)
        return st;
    if (sw_hdr_config_check(&hi.cfg, err) != SW_OK) {
        sw_err_prefix(err, "header");
        return err ? (err->code = SW_E_PARSE) : SW_E_PARSE;
    }
    size_t max_bytes = sizeof(sw_hdr) + sizeof(int64_t) * (size_t)SW_HDR_DECODE_MAX_COUNTS;
    if (sw_hdr_config_memory_size(&hi.cfg) > max_bytes)
        return sw_err_set(err, SW_E_TOOBIG, "histogram layout needs %zu bytes, limit is %zu",
                          sw_hdr_config_memory_size(&hi.cfg), max_bytes);
    if (hi.version == 2 && hi.payload_len > (int64_t)VARINT_MAX * SW_HDR_DECODE_MAX_COUNTS)
        return sw_err_set(err, SW_E_TOOBIG, "payload length %lld exceeds any valid histogram",
                          (long long)hi.payload_len);
    counts_sink k = {.batch = batch, .index = 0, .last = -1, .total = 0};
    /* Compact, as a recorded one: the payload's buckets come in increasing order, so each is
     * appended, and the cheaper representation chosen once they are all there. */
    st = sw_hdr_new(&hi.cfg, &k.h, err);
    if (st != SW_OK)
        return st;
    if (hi.version == 2)
        st = decode_v2_counts(s, hi.payload_len, &k, err);
    else
        st = decode_word_counts(s, &hi, &k, err);
    if (st == SW_OK)
        st = expect_end(s, err);
    if (st == SW_OK && batch != NULL && !batch_flush(batch))
        st = sw_err_set(err, SW_E_NOMEM, "cannot take a decoded histogram's buckets");
    if (st != SW_OK || batch != NULL) {
        sw_hdr_free(k.h);
        return st;
    }
    k.h->total_count = k.total;
    if (k.last >= 0)
        sw_hdr_refresh_min_max(k.h, 0, k.last);
    sw_hdr_range_fit(k.h);
    sw_hdr_sp_fit(k.h);
    *ret_h = k.h;
    return SW_OK;
}

static sw_status
decode_compressed(const uint8_t *data, size_t len, uint32_t base, bucket_batch *batch,
                  sw_hdr **ret_h, sw_err *err)
{
    if (len < 8)
        return sw_err_set(err, SW_E_TRUNCATED, "compressed header needs 8 bytes, %zu present", len);
    int64_t clen = (int32_t)get_be(data + 4, 4);
    if (clen <= 0 || (uint64_t)clen > len - 8)
        return sw_err_set(err, SW_E_TRUNCATED, "compressed length %lld but %zu bytes follow",
                          (long long)clen, len - 8);
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit(&zs) != Z_OK)
        return sw_err_set(err, SW_E_NOMEM, "cannot initialise inflate");
    zs.next_in = (Bytef *)(uintptr_t)(data + 8);
    zs.avail_in = (uInt)clen;
    byte_source *s = malloc(sizeof *s);
    sw_status st = SW_E_NOMEM;
    if (s == NULL) {
        sw_err_set(err, st, "cannot allocate the inflate buffer");
    } else {
        *s = (byte_source){.p = NULL, .n = 0, .zs = &zs};
        s->p = s->chunk;
        st = source_fill(s, 4, err);
        if (st == SW_OK && s->n < 4)
            st = sw_err_set(err, SW_E_TRUNCATED, "compressed data holds no encoding cookie");
        uint32_t inner = st == SW_OK ? (uint32_t)get_be(s->p, 4) : 0;
        /* The compressed cookie's base is the plain one plus one (V0: 8 -> 9). */
        if (st == SW_OK && (inner & COOKIE_BASE_MASK) + 1 != base)
            st = sw_err_set(err, SW_E_PARSE, "inner cookie 0x%08x does not match outer 0x%08x",
                            (unsigned)inner, (unsigned)base);
        if (st == SW_OK)
            st = decode_body(s, inner & COOKIE_BASE_MASK, inner, batch, ret_h, err);
        free(s);
    }
    inflateEnd(&zs);
    return st;
}

static sw_status
decode_any(const uint8_t *data, size_t len, bucket_batch *batch, sw_hdr **ret_h, sw_err *err)
{
    if (len < 4)
        return sw_err_set(err, SW_E_TRUNCATED, "encoding needs a 4-byte cookie, %zu bytes present",
                          len);
    uint32_t cookie = (uint32_t)get_be(data, 4);
    uint32_t base = cookie & COOKIE_BASE_MASK;
    switch (base) {
    case V2_COMPRESSED_BASE:
    case V1_COMPRESSED_BASE:
    case V0_COMPRESSED_BASE:
        return decode_compressed(data, len, base, batch, ret_h, err);
    case V2_BASE:
    case V1_BASE:
    case V0_BASE: {
        byte_source s = {.p = data, .n = len, .zs = NULL};
        return decode_body(&s, base, cookie, batch, ret_h, err);
    }
    default:
        return sw_err_set(err, SW_E_UNSUPPORTED, "unknown encoding cookie 0x%08x",
                          (unsigned)cookie);
    }
}

sw_status
sw_hdr_decode(const uint8_t *data, size_t len, sw_hdr **ret_h, sw_err *err)
{
    return decode_any(data, len, NULL, ret_h, err);
}

sw_status
sw_hdr_decode_buckets(const uint8_t *data, size_t len, sw_hdr_buckets_fn fn, void *ctx, sw_err *err)
{
    bucket_batch batch; /* its arrays are filled before they are read */
    batch.fn = fn;
    batch.ctx = ctx;
    batch.n = 0;
    return decode_any(data, len, &batch, NULL, err);
}

sw_status
sw_hdr_decode_base64(const char *text, size_t len, sw_hdr **ret_h, sw_err *err)
{
    sw_buf bin;
    sw_buf_init(&bin, len / 4 * 3 + 16);
    sw_status st = sw_base64_decode(text, len, &bin, err);
    if (st == SW_OK)
        st = sw_hdr_decode(bin.data, bin.len, ret_h, err);
    sw_buf_fini(&bin);
    return st;
}
