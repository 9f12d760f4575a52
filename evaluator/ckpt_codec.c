/* The evaluator checkpoint's encoding (see ckpt_codec.h). */
#include "ckpt_codec.h"

#include <string.h>

#include "slawatch/varint.h"

void
sw_ckw_u64(sw_ckw *w, uint64_t v)
{
    uint8_t b[SW_VARINT_MAX];
    if (w->st == SW_OK)
        w->st = sw_buf_append(w->out, b, sw_varint_put(b, v), w->err);
}

void
sw_ckw_i64(sw_ckw *w, int64_t v)
{
    sw_ckw_u64(w, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

void
sw_ckw_f64(sw_ckw *w, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(bits >> (8 * i));
    if (w->st == SW_OK)
        w->st = sw_buf_append(w->out, b, sizeof b, w->err);
}

void
sw_ckw_bytes(sw_ckw *w, const void *data, size_t len)
{
    sw_ckw_u64(w, len);
    if (w->st == SW_OK && len > 0)
        w->st = sw_buf_append(w->out, data, len, w->err);
}

uint64_t
sw_ckr_u64(sw_ckr *r)
{
    uint64_t v = 0;
    size_t n = r->bad ? 0 : sw_varint_get(r->p, (size_t)(r->end - r->p), &v);
    if (n == 0) {
        r->bad = true;
        return 0;
    }
    r->p += n;
    return v;
}

int64_t
sw_ckr_i64(sw_ckr *r)
{
    uint64_t u = sw_ckr_u64(r);
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

double
sw_ckr_f64(sw_ckr *r)
{
    if (r->bad || r->end - r->p < 8) {
        r->bad = true;
        return 0.0;
    }
    uint64_t bits = 0;
    for (int i = 7; i >= 0; i--)
        bits = bits << 8 | r->p[i];
    r->p += 8;
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

const uint8_t *
sw_ckr_bytes(sw_ckr *r, size_t *ret_len)
{
    uint64_t len = sw_ckr_u64(r);
    if (r->bad || len > (uint64_t)(r->end - r->p)) {
        r->bad = true;
        *ret_len = 0;
        return NULL;
    }
    const uint8_t *v = r->p;
    r->p += len;
    *ret_len = (size_t)len;
    return v;
}

size_t
sw_ckr_count(sw_ckr *r)
{
    uint64_t n = sw_ckr_u64(r);
    if (n > (uint64_t)(r->end - r->p)) {
        r->bad = true;
        return 0;
    }
    return (size_t)n;
}
