/*
 * Encoding and decoding of an hour's per-minute counts (minute_counts.h). At most
 * 1 + 60 * (1 + 4 * 10) bytes; a busy hour with small counts takes about 300.
 */
#include "slawatch/minute_counts.h"

#include "slawatch/varint.h"

#define FORMAT 1u
#define F_STORED 1u
#define F_DATA 2u
#define MAX_BYTES (1 + SW_MINUTES_PER_HOUR * (1 + 4 * SW_VARINT_MAX))

sw_status
sw_hour_minutes_encode(const sw_hour_minutes *hm, sw_buf *out, sw_err *err)
{
    sw_buf_reset(out);
    sw_status r = sw_buf_reserve(out, MAX_BYTES, err);
    if (r != SW_OK)
        return r;
    uint8_t *p = out->data;
    size_t n = 0;
    p[n++] = FORMAT;
    for (int i = 0; i < SW_MINUTES_PER_HOUR; i++) {
        const sw_minute_count *c = &hm->m[i];
        p[n++] = (uint8_t)((c->stored ? F_STORED : 0) | (c->has_data ? F_DATA : 0));
        if (!c->stored)
            continue;
        n += sw_varint_put(p + n, c->requests);
        n += sw_varint_put(p + n, c->errors);
        n += sw_varint_put(p + n, c->probes);
        n += sw_varint_put(p + n, c->failures);
    }
    out->len = n;
    return SW_OK;
}

/* The varint at *pos, advancing it; false when malformed or above max. */
static bool
next_count(const uint8_t *data, size_t len, size_t *pos, uint64_t max, uint64_t *ret)
{
    size_t used = sw_varint_get(data + *pos, len - *pos, ret);
    if (used == 0 || *ret > max)
        return false;
    *pos += used;
    return true;
}

static sw_status
decode_minute(const uint8_t *data, size_t len, size_t *pos, sw_minute_count *c, sw_err *err)
{
    size_t at = *pos;
    if (at >= len)
        return sw_err_set(err, SW_E_PARSE, "minute counts: truncated at byte %zu", at);
    uint8_t flags = data[at];
    if (flags & ~(F_STORED | F_DATA))
        return sw_err_set(err, SW_E_PARSE, "minute counts: unknown flags 0x%02x at byte %zu",
                          flags, at);
    *c = (sw_minute_count){.stored = flags & F_STORED, .has_data = flags & F_DATA};
    *pos = at + 1;
    if (!c->stored)
        return SW_OK;
    uint64_t probes = 0, failures = 0;
    if (!next_count(data, len, pos, UINT64_MAX, &c->requests) ||
        !next_count(data, len, pos, UINT64_MAX, &c->errors) ||
        !next_count(data, len, pos, UINT32_MAX, &probes) ||
        !next_count(data, len, pos, UINT32_MAX, &failures))
        return sw_err_set(err, SW_E_PARSE, "minute counts: bad count after byte %zu", *pos);
    c->probes = (uint32_t)probes;
    c->failures = (uint32_t)failures;
    return SW_OK;
}

sw_status
sw_hour_minutes_decode(const uint8_t *data, size_t len, sw_hour_minutes *hm, sw_err *err)
{
    if (len == 0 || data[0] != FORMAT)
        return sw_err_set(err, SW_E_PARSE, "minute counts: unknown format %d at byte 0",
                          len == 0 ? -1 : data[0]);
    size_t pos = 1;
    for (int i = 0; i < SW_MINUTES_PER_HOUR; i++) {
        sw_status r = decode_minute(data, len, &pos, &hm->m[i], err);
        if (r != SW_OK)
            return r;
    }
    if (pos != len)
        return sw_err_set(err, SW_E_PARSE, "minute counts: %zu bytes left over at byte %zu",
                          len - pos, pos);
    return SW_OK;
}
