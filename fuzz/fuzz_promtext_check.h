/*
 * The properties fuzz_promtext and fuzz_openmetrics check on every input (see those files).
 * Header-only so each target stays one translation unit.
 */
#ifndef SLAWATCH_FUZZ_PROMTEXT_CHECK_H
#define SLAWATCH_FUZZ_PROMTEXT_CHECK_H

#include "fuzz.h"

#include "slawatch/promtext.h"

typedef struct fuzz_pt_seen {
    uint64_t digest;
    size_t samples;
} fuzz_pt_seen;

static inline bool
fuzz_pt_name_ok(const char *s, size_t n, bool metric)
{
    if (n == 0 || n > SW_PROMTEXT_MAX_NAME)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                     (metric && c == ':');
        if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
            return false;
    }
    return true;
}

static inline uint64_t
fuzz_pt_mix(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 0x100000001b3u;
    return h;
}

static inline sw_status
fuzz_pt_sample(void *ctx, const sw_prom_sample *s, sw_err *err)
{
    (void)err;
    fuzz_pt_seen *k = ctx;
    FUZZ_CHECK(fuzz_pt_name_ok(s->name, s->name_len, true));
    FUZZ_CHECK(s->n_labels <= SW_PROMTEXT_MAX_LABELS);
    FUZZ_CHECK(s->type >= SW_PROM_UNKNOWN && s->type <= SW_PROM_STATESET);
    uint64_t h = fuzz_pt_mix(k->digest, s->name, s->name_len);
    for (size_t i = 0; i < s->n_labels; i++) {
        FUZZ_CHECK(fuzz_pt_name_ok(s->labels[i].name, s->labels[i].name_len, false));
        FUZZ_CHECK(s->labels[i].value_len <= SW_PROMTEXT_MAX_LABEL_VALUE);
        h = fuzz_pt_mix(h, s->labels[i].value, s->labels[i].value_len);
    }
    k->digest = h + (uint64_t)s->type + (s->has_timestamp ? (uint64_t)s->timestamp_ms : 0);
    k->samples++;
    return SW_OK;
}

static inline void
fuzz_promtext_run(const char *data, size_t size, sw_promtext_format fmt)
{
    fuzz_pt_seen a = {0}, b = {0};
    sw_prom_sink sink = {.ctx = &a, .sample = fuzz_pt_sample};
    sw_promtext_pos where = {0};
    sw_err err = {0};
    sw_status st = sw_promtext_parse(data, size, fmt, &sink, &where, &err);
    if (st != SW_OK) {
        fuzz_check_err(st, &err);
        FUZZ_CHECK(st == SW_E_PARSE || st == SW_E_TOOBIG || st == SW_E_NOMEM);
        FUZZ_CHECK(where.line >= 1 && where.col >= 1);
        FUZZ_CHECK(where.line <= size + 2 && where.col <= size + 1);
    }
    sink.ctx = &b;
    sw_status st2 = sw_promtext_parse(data, size, fmt, &sink, NULL, NULL);
    FUZZ_CHECK(st2 == st);
    FUZZ_CHECK(a.samples == b.samples && a.digest == b.digest);
}

#endif
