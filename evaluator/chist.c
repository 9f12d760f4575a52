/*
 * Compact histograms: what the evaluator keeps of each closed interval's latency. A 10 s
 * interval records a few hundred to a few thousand buckets of the 23,552 a dense latency
 * histogram has (188 KB), so intervals are packed as LEB128 pairs (gap from the previous
 * recorded bucket's lowest value, count), 2-4 bytes a bucket where even a compact histogram
 * takes 12, and unpacked straight into the running histograms of the windows that need
 * latency. Owned by the history that stores them.
 */
#include "eval_int.h"

#include <stdlib.h>
#include <string.h>

#include "slawatch/hdr_codec.h"
#include "slawatch/varint.h"

struct sw_chist {
    uint32_t len;  /* bytes of data */
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

/* Pairs are gathered in a chunk on the stack and appended to buf a chunk at a time. */
#define CHUNK 4096
#define PAIR_MAX 20

sw_status
sw_chist_pack(const sw_hdr *h, sw_buf *buf, sw_chist **ret, sw_err *err)
{
    uint8_t chunk[CHUNK];
    size_t n = 0;
    sw_status st = SW_OK;
    sw_buf_reset(buf);
    sw_hdr_iter it;
    sw_hdr_iter_init(&it, h);
    int64_t prev = 0;
    while (st == SW_OK && sw_hdr_iter_next(&it)) {
        n += sw_varint_put(chunk + n, (uint64_t)(it.value_lo - prev));
        n += sw_varint_put(chunk + n, (uint64_t)it.count);
        prev = it.value_lo;
        if (n > CHUNK - PAIR_MAX) {
            st = sw_buf_append(buf, chunk, n, err);
            n = 0;
        }
    }
    /* Most intervals fit in one chunk: then buf is not needed at all. */
    if (st == SW_OK && buf->len > 0)
        st = sw_buf_append(buf, chunk, n, err);
    if (st != SW_OK)
        return st;
    const uint8_t *data = buf->len > 0 ? buf->data : chunk;
    size_t len = buf->len > 0 ? buf->len : n;
    sw_chist *c = malloc(sizeof *c + len);
    if (c == NULL)
        return sw_err_set(err, SW_E_NOMEM, "cannot allocate a %zu-byte compact histogram", len);
    c->len = (uint32_t)len;
    c->total = sw_hdr_total_count(h);
    if (len > 0)
        memcpy(c->data, data, len);
    *ret = c;
    return SW_OK;
}

/* Buckets decoded from an encoding, packed into buf as they come, counted below thresholds. */
typedef struct packer {
    sw_buf *buf;
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
        len += sw_varint_put(chunk + len, (uint64_t)(value_lo[i] - pk->prev));
        len += sw_varint_put(chunk + len, (uint64_t)count[i]);
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

sw_status
sw_chist_decode(const uint8_t *data, size_t len, const int64_t *thresholds, size_t n_thresholds,
                int64_t *ret_at_or_below, sw_buf *buf, sw_chist **ret, sw_err *err)
{
    sw_buf_reset(buf);
    memset(ret_at_or_below, 0, n_thresholds * sizeof *ret_at_or_below);
    packer pk = {.buf = buf,
                 .prev = 0,
                 .total = 0,
                 .thresholds = thresholds,
                 .n_thresholds = n_thresholds,
                 .at_or_below = ret_at_or_below};
    sw_status st = sw_hdr_decode_buckets(data, len, pack_buckets, &pk, err);
    if (st != SW_OK)
        return st;
    sw_chist *c = malloc(sizeof *c + buf->len);
    if (c == NULL)
        return sw_err_set(err, SW_E_NOMEM, "cannot allocate a %zu-byte compact histogram",
                          buf->len);
    c->len = (uint32_t)buf->len;
    c->total = pk.total;
    if (buf->len > 0)
        memcpy(c->data, buf->data, buf->len);
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
    /* Two LEB128 numbers a bucket; each number's last byte is the one below 0x80. */
    int64_t ends = 0;
    for (uint32_t i = 0; i < c->len; i++)
        ends += c->data[i] < 0x80;
    return ends / 2;
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
            value += (int64_t)get_varint(&p);
            values[n] = value;
            counts[n] = (int64_t)get_varint(&p);
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
