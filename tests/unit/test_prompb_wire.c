/*
 * The in-place WriteRequest reader against libprotobuf-c, the independent decoder: random
 * requests written here in every way the wire format allows (fields out of order and
 * interleaved, repeated numbers packed, split into several runs or unpacked, singular fields
 * and oneofs given twice, unknown fields of every wire type, varints, tags and length prefixes
 * padded to their longest), their truncations and random byte changes, and hand-made
 * malformed ones. Both must accept the same bytes and, when they do, read the same labels,
 * samples and histograms; refused requests leave a remote-write sink untouched.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prompb.pb-c.h"
#include "slawatch/buf.h"
#include "slawatch/prompb_wire.h"
#include "slawatch/rw_recv.h"
#include "snappy_literals.h"

/* ------------------------------------------------------------------ randomness */

static uint64_t rng_state;

static uint64_t
rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static unsigned
below(unsigned n)
{
    return (unsigned)(rnd() % n);
}

/* Interesting 64-bit values: small, signed extremes, random. */
static uint64_t
some_u64(void)
{
    static const uint64_t edges[] = {0,
                                     1,
                                     2,
                                     127,
                                     128,
                                     0x7fffffff,
                                     0x80000000,
                                     0xffffffff,
                                     0x100000000u,
                                     INT64_MAX,
                                     (uint64_t)INT64_MIN,
                                     UINT64_MAX};
    return below(3) == 0 ? edges[below(sizeof edges / sizeof edges[0])] : rnd() >> below(64);
}

/* ------------------------------------------------------------------ a wire writer */

typedef struct wbuf {
    uint8_t *d;
    size_t len, cap;
} wbuf;

static void
put_bytes(wbuf *w, const void *p, size_t n)
{
    if (n == 0)
        return;
    if (w->len + n > w->cap) {
        w->cap = (w->len + n) * 2 + 64;
        w->d = realloc(w->d, w->cap);
    }
    memcpy(w->d + w->len, p, n);
    w->len += n;
}

/* A varint, padded with redundant continuation bytes up to max_len bytes now and then. */
static void
put_varint_max(wbuf *w, uint64_t v, size_t max_len)
{
    uint8_t b[10];
    size_t n = 0;
    do {
        b[n++] = (uint8_t)(v & 0x7f);
        v >>= 7;
    } while (v != 0);
    size_t pad = below(4) == 0 && n < max_len ? below((unsigned)(max_len - n) + 1) : 0;
    for (size_t i = 0; i < pad; i++)
        b[n++] = 0;
    for (size_t i = 0; i + 1 < n; i++)
        b[i] |= 0x80;
    put_bytes(w, b, n);
}

static void
put_tag(wbuf *w, uint32_t num, unsigned wt)
{
    put_varint_max(w, (uint64_t)num << 3 | wt, 5);
}

static void
put_len(wbuf *w, uint32_t num, const wbuf *payload)
{
    put_tag(w, num, 2);
    put_varint_max(w, payload->len, 5);
    put_bytes(w, payload->d, payload->len);
}

static void
put_varint_field(wbuf *w, uint32_t num, uint64_t v)
{
    put_tag(w, num, 0);
    put_varint_max(w, v, 10);
}

static void
put_double_field(wbuf *w, uint32_t num, double v)
{
    put_tag(w, num, 1);
    put_bytes(w, &v, 8);
}

static void
put_string_field(wbuf *w, uint32_t num, const char *s)
{
    wbuf p = {0};
    put_bytes(&p, s, strlen(s));
    put_len(w, num, &p);
    free(p.d);
}

/* An unknown field: a number no prompb message uses here, or field 0 in a tag of two bytes
 * (unknown too: only a one-byte tag of field 0 is refused), with any accepted wire type. */
static void
put_unknown(wbuf *w)
{
    static const unsigned wts[] = {0, 1, 2, 5};
    unsigned wt = wts[below(4)];
    if (below(8) == 0) {
        uint8_t t[2] = {(uint8_t)(0x80 | wt), 0};
        put_bytes(w, t, 2);
    } else {
        put_tag(w, 16 + below(5000), wt);
    }
    uint8_t junk[8];
    uint64_t r = rnd();
    memcpy(junk, &r, 8);
    if (wt == 0) {
        put_varint_max(w, rnd(), 10);
    } else if (wt == 1 || wt == 5) {
        put_bytes(w, junk, wt == 1 ? 8 : 4);
    } else {
        size_t n = below(6);
        put_varint_max(w, n, 5);
        put_bytes(w, junk, n);
    }
}

/* A message's fields: queues per field merged in random order (each field's own order kept),
 * unknown fields sprinkled in. */
#define MAX_PARTS 64
typedef struct parts {
    wbuf part[MAX_PARTS];
    uint32_t num[MAX_PARTS];
    size_t n;
} parts;

static wbuf *
part(parts *ps, uint32_t num)
{
    assert_true(ps->n < MAX_PARTS);
    ps->num[ps->n] = num;
    ps->part[ps->n] = (wbuf){0};
    return &ps->part[ps->n++];
}

static void
merge_parts(wbuf *out, parts *ps)
{
    bool used[MAX_PARTS] = {0};
    for (size_t done = 0; done < ps->n; done++) {
        /* Candidates: the first unused part of each field number. */
        size_t cand[MAX_PARTS], nc = 0;
        for (size_t i = 0; i < ps->n; i++) {
            bool first = !used[i];
            for (size_t j = 0; j < i && first; j++)
                first = used[j] || ps->num[j] != ps->num[i];
            if (first)
                cand[nc++] = i;
        }
        size_t k = cand[below((unsigned)nc)];
        used[k] = true;
        if (below(6) == 0)
            put_unknown(out);
        put_bytes(out, ps->part[k].d, ps->part[k].len);
        free(ps->part[k].d);
    }
    if (below(6) == 0)
        put_unknown(out);
}

/* A singular varint field, sometimes after a decoy the last one overrides. */
static void
singular_varint(parts *ps, uint32_t num, uint64_t v)
{
    wbuf *w = part(ps, num);
    if (below(5) == 0)
        put_varint_field(w, num, some_u64());
    if (v != 0 || below(2) == 0)
        put_varint_field(w, num, v);
}

static void
singular_double(parts *ps, uint32_t num, double v)
{
    wbuf *w = part(ps, num);
    if (below(5) == 0)
        put_double_field(w, num, (double)rnd());
    if (v != 0 || below(2) == 0)
        put_double_field(w, num, v);
}

static char *
random_string(void)
{
    size_t n = below(12);
    char *s = malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        s[i] = (char)(below(4) ? 'a' + below(26) : 1 + below(255)); /* no NUL: C strings */
    s[n] = '\0';
    return s;
}

static void
write_label(wbuf *out, uint32_t num)
{
    parts ps = {0};
    char *name = random_string(), *value = random_string();
    if (below(5) == 0)
        put_string_field(part(&ps, 1), 1, "decoy");
    if (*name || below(2))
        put_string_field(part(&ps, 1), 1, name);
    if (*value || below(2))
        put_string_field(part(&ps, 2), 2, value);
    wbuf m = {0};
    merge_parts(&m, &ps);
    put_len(out, num, &m);
    free(m.d);
    free(name);
    free(value);
}

static void
write_sample(wbuf *out)
{
    parts ps = {0};
    singular_double(&ps, 1, (double)(int64_t)rnd() / 1e6);
    singular_varint(&ps, 2, some_u64());
    wbuf m = {0};
    merge_parts(&m, &ps);
    put_len(out, 2, &m);
    free(m.d);
}

static void
write_exemplar(wbuf *out)
{
    parts ps = {0};
    for (unsigned i = below(3); i > 0; i--)
        write_label(part(&ps, 1), 1);
    singular_double(&ps, 2, 1.5);
    singular_varint(&ps, 3, some_u64());
    wbuf m = {0};
    merge_parts(&m, &ps);
    put_len(out, 3, &m);
    free(m.d);
}

static void
write_span(wbuf *out, uint32_t num)
{
    parts ps = {0};
    singular_varint(&ps, 1, some_u64());
    singular_varint(&ps, 2, below(3) ? below(20) : some_u64());
    wbuf m = {0};
    merge_parts(&m, &ps);
    put_len(out, num, &m);
    free(m.d);
}

/* n repeated numbers of field num: unpacked, one packed run, or several runs mixed. */
static void
write_numbers(parts *ps, uint32_t num, bool doubles, size_t n)
{
    size_t i = 0;
    while (i < n) {
        wbuf *w = part(ps, num);
        size_t k = below(3) == 0 ? 1 : 1 + below((unsigned)(n - i));
        bool packed = below(4) != 0;
        if (packed) {
            wbuf run = {0};
            for (size_t j = 0; j < k; j++) {
                if (doubles) {
                    double d = (double)(int64_t)(rnd() >> 8) / 1e3;
                    put_bytes(&run, &d, 8);
                } else {
                    put_varint_max(&run, some_u64(), 10);
                }
            }
            put_len(w, num, &run);
            free(run.d);
        } else {
            for (size_t j = 0; j < k; j++) {
                if (doubles)
                    put_double_field(w, num, (double)(int64_t)(rnd() >> 8) / 1e3);
                else
                    put_varint_field(w, num, some_u64());
            }
        }
        i += k;
    }
    if (n == 0 && below(4) == 0) /* an empty packed run */
        put_len(part(ps, num), num, &(wbuf){0});
}

static void
write_histogram(wbuf *out)
{
    parts ps = {0};
    /* The count oneof: sometimes both members, the last one counting. */
    unsigned order = below(4);
    if (order == 0 || order == 2)
        put_varint_field(part(&ps, 1), 1, some_u64());
    if (order == 1 || order == 2)
        put_double_field(part(&ps, 2), 2, 12.5);
    if (order == 1 && below(2))
        put_varint_field(part(&ps, 1), 1, some_u64()); /* after the float: int wins */
    singular_double(&ps, 3, 3.25);
    singular_varint(&ps, 4, some_u64());
    singular_double(&ps, 5, 1e-9);
    if (below(2))
        put_varint_field(part(&ps, 6), 6, some_u64());
    else
        put_double_field(part(&ps, 7), 7, 0.5);
    for (uint32_t side = 0; side < 2; side++) {
        uint32_t spans = side ? 11 : 8, deltas = side ? 12 : 9;
        for (unsigned i = below(4); i > 0; i--)
            write_span(part(&ps, spans), spans);
        write_numbers(&ps, deltas, false, below(6));
        write_numbers(&ps, deltas + 1, true, below(6));
    }
    singular_varint(&ps, 14, below(5));
    singular_varint(&ps, 15, some_u64());
    wbuf m = {0};
    merge_parts(&m, &ps);
    put_len(out, 4, &m);
    free(m.d);
}

static void
write_series(wbuf *out)
{
    parts ps = {0};
    for (unsigned i = below(5); i > 0; i--)
        write_label(part(&ps, 1), 1);
    for (unsigned i = below(4); i > 0; i--)
        write_sample(part(&ps, 2));
    for (unsigned i = below(5) == 0; i > 0; i--)
        write_exemplar(part(&ps, 3));
    for (unsigned i = below(3) == 0 ? 1 + below(2) : 0; i > 0; i--)
        write_histogram(part(&ps, 4));
    wbuf m = {0};
    merge_parts(&m, &ps);
    put_len(out, 1, &m);
    free(m.d);
}

static void
write_metadata(wbuf *out)
{
    parts ps = {0};
    singular_varint(&ps, 1, below(8));
    put_string_field(part(&ps, 2), 2, "family");
    put_string_field(part(&ps, 4), 4, "help text");
    put_string_field(part(&ps, 5), 5, "seconds");
    wbuf m = {0};
    merge_parts(&m, &ps);
    put_len(out, 3, &m);
    free(m.d);
}

static wbuf
random_request(void)
{
    parts ps = {0};
    for (unsigned i = below(6); i > 0; i--)
        write_series(part(&ps, 1));
    for (unsigned i = below(3) == 0; i > 0; i--)
        write_metadata(part(&ps, 3));
    wbuf w = {0};
    merge_parts(&w, &ps);
    return w;
}

/* ------------------------------------------------------------------ both readers, dumped */

/* libprotobuf-c's strings end at their first NUL (the receiver refuses a NUL: tested below), so
 * the reader's are compared up to it. */
static size_t
c_len(const char *s, size_t n)
{
    const char *nul = memchr(s, '\0', n);
    return nul != NULL ? (size_t)(nul - s) : n;
}

static void
dump_label(sw_buf *b, const char *name, size_t nl, const char *value, size_t vl)
{
    nl = c_len(name, nl);
    vl = c_len(value, vl);
    sw_buf_printf(b, NULL, "L %zu:", nl);
    sw_buf_append(b, name, nl, NULL);
    sw_buf_printf(b, NULL, " %zu:", vl);
    sw_buf_append(b, value, vl, NULL);
    sw_buf_printf(b, NULL, "\n");
}

static void
dump_hist_head(sw_buf *b, bool cf, uint64_t ci, double cfv, bool zf, uint64_t zi, double zfv,
               double sum, int32_t schema, double zt, int32_t hint, int64_t ts)
{
    sw_buf_printf(b, NULL, "H %d %llu %a %d %llu %a %a %d %a %d %lld\n", cf, (unsigned long long)ci,
                  cfv, zf, (unsigned long long)zi, zfv, sum, (int)schema, zt, (int)hint,
                  (long long)ts);
}

static void
dump_ref(const Prometheus__WriteRequest *r, sw_buf *b)
{
    for (size_t i = 0; i < r->n_timeseries; i++) {
        const Prometheus__TimeSeries *ts = r->timeseries[i];
        sw_buf_printf(b, NULL, "S\n");
        for (size_t j = 0; j < ts->n_labels; j++)
            dump_label(b, ts->labels[j]->name, strlen(ts->labels[j]->name), ts->labels[j]->value,
                       strlen(ts->labels[j]->value));
        for (size_t j = 0; j < ts->n_samples; j++)
            sw_buf_printf(b, NULL, "P %a %lld\n", ts->samples[j]->value,
                          (long long)ts->samples[j]->timestamp);
        for (size_t j = 0; j < ts->n_histograms; j++) {
            const Prometheus__Histogram *h = ts->histograms[j];
            bool cf = h->count_case == PROMETHEUS__HISTOGRAM__COUNT_COUNT_FLOAT;
            bool zf = h->zero_count_case == PROMETHEUS__HISTOGRAM__ZERO_COUNT_ZERO_COUNT_FLOAT;
            dump_hist_head(b, cf, cf ? 0 : h->count_int, cf ? h->count_float : 0, zf,
                           zf ? 0 : h->zero_count_int, zf ? h->zero_count_float : 0, h->sum,
                           h->schema, h->zero_threshold, (int32_t)h->reset_hint, h->timestamp);
            for (int side = 0; side < 2; side++) {
                size_t ns = side ? h->n_positive_spans : h->n_negative_spans;
                Prometheus__BucketSpan **sp = side ? h->positive_spans : h->negative_spans;
                size_t nd = side ? h->n_positive_deltas : h->n_negative_deltas;
                const int64_t *d = side ? h->positive_deltas : h->negative_deltas;
                size_t nc = side ? h->n_positive_counts : h->n_negative_counts;
                const double *c = side ? h->positive_counts : h->negative_counts;
                for (size_t k = 0; k < ns; k++)
                    sw_buf_printf(b, NULL, " s%d %d %u\n", side, (int)sp[k]->offset,
                                  (unsigned)sp[k]->length);
                for (size_t k = 0; k < nd; k++)
                    sw_buf_printf(b, NULL, " d%d %lld\n", side, (long long)d[k]);
                for (size_t k = 0; k < nc; k++)
                    sw_buf_printf(b, NULL, " c%d %a\n", side, c[k]);
            }
        }
    }
}

static void
dump_mine_hist(const sw_prompb_hist *h, sw_buf *b)
{
    dump_hist_head(b, h->count_is_float, h->count_int, h->count_float, h->zero_count_is_float,
                   h->zero_count_int, h->zero_count_float, h->sum, h->schema, h->zero_threshold,
                   h->reset_hint, h->timestamp_ms);
    for (int side = 0; side < 2; side++) {
        bool neg = side == 0;
        sw_prom_span spans[64];
        size_t ns = sw_prompb_hist_spans(h, neg, spans, 64, NULL);
        assert_true(ns <= 64);
        for (size_t k = 0; k < ns; k++)
            sw_buf_printf(b, NULL, " s%d %d %u\n", side, (int)spans[k].offset,
                          (unsigned)spans[k].length);
        size_t nd, nc, seen = 0;
        sw_prompb_hist_sizes(h, neg, &nd, &nc);
        sw_prompb_values v = sw_prompb_hist_values(h, neg, false);
        int64_t d;
        while (sw_prompb_next_delta(&v, &d) && ++seen)
            sw_buf_printf(b, NULL, " d%d %lld\n", side, (long long)d);
        assert_int_equal(seen, nd);
        v = sw_prompb_hist_values(h, neg, true);
        double c;
        seen = 0;
        while (sw_prompb_next_count(&v, &c) && ++seen)
            sw_buf_printf(b, NULL, " c%d %a\n", side, c);
        assert_int_equal(seen, nc);
    }
}

static void
dump_mine(const uint8_t *p, size_t n, sw_buf *b)
{
    sw_prompb_iter req = sw_prompb_iter_of(p, n), ts;
    while (sw_prompb_next_series(&req, &ts)) {
        sw_buf_printf(b, NULL, "S\n");
        /* The reference lists labels, then samples, then histograms: three walks. */
        for (sw_prompb_kind want = SW_PROMPB_LABEL; want <= SW_PROMPB_HISTOGRAM; want++) {
            sw_prompb_iter items = ts;
            sw_prompb_item it;
            sw_prompb_kind k;
            while ((k = sw_prompb_next_item(&items, SW_PROMPB_WANT(want), &it)) != SW_PROMPB_END) {
                if (k == SW_PROMPB_LABEL)
                    dump_label(b, it.label.name, it.label.name_len, it.label.value,
                               it.label.value_len);
                else if (k == SW_PROMPB_SAMPLE)
                    sw_buf_printf(b, NULL, "P %a %lld\n", it.value, (long long)it.timestamp_ms);
                else
                    dump_mine_hist(&it.hist, b);
            }
        }
    }
}

static unsigned accepted_both, refused_both;

/* Both readers on p: the same verdict, and the same reading when they accept. */
static void
agree(const uint8_t *p, size_t n)
{
    Prometheus__WriteRequest *ref = prometheus__write_request__unpack(NULL, n, p);
    sw_err err = {0};
    sw_status st = sw_prompb_check(p, n, &err);
    if (ref == NULL) {
        if (st != SW_E_PARSE)
            fail_msg("libprotobuf-c refused %zu bytes that the reader accepted", n);
        assert_non_null(strstr(err.msg, "protobuf: "));
        refused_both++;
        return;
    }
    if (st != SW_OK)
        fail_msg("libprotobuf-c accepted %zu bytes the reader refused: %s", n, err.msg);
    sw_buf a, b;
    sw_buf_init(&a, 1 << 24);
    sw_buf_init(&b, 1 << 24);
    sw_buf_printf(&a, NULL, "%s", "");
    sw_buf_printf(&b, NULL, "%s", "");
    dump_ref(ref, &a);
    dump_mine(p, n, &b);
    const char *ra = sw_buf_cstr(&a, NULL), *rb = sw_buf_cstr(&b, NULL);
    if (strcmp(ra, rb) != 0) {
        size_t i = 0, line = 1;
        for (; ra[i] == rb[i]; i++)
            line += ra[i] == '\n';
        fail_msg("%zu bytes read differently from line %zu: libprotobuf-c '%.60s', reader '%.60s'",
                 n, line, ra + i - (i > 20 ? 20 : i), rb + i - (i > 20 ? 20 : i));
    }
    sw_buf_fini(&a);
    sw_buf_fini(&b);
    prometheus__write_request__free_unpacked(ref, NULL);
    accepted_both++;
}

/* ------------------------------------------------------------------ tests */

static void
test_random_requests_agree(void **state)
{
    (void)state;
    rng_state = 2112;
    accepted_both = refused_both = 0;
    for (int i = 0; i < 3000; i++) {
        wbuf w = random_request();
        agree(w.d, w.len);
        free(w.d);
    }
    assert_int_equal(refused_both, 0);
    assert_int_equal(accepted_both, 3000);
}

/* Every prefix of some requests, and random byte changes: the verdicts and readings agree. */
static void
test_truncated_and_mutated_agree(void **state)
{
    (void)state;
    rng_state = 77;
    accepted_both = refused_both = 0;
    for (int i = 0; i < 150; i++) {
        wbuf w = random_request();
        for (size_t cut = 0; cut < w.len; cut++)
            agree(w.d, cut);
        for (int m = 0; m < 40 && w.len > 0; m++) {
            uint8_t *c = malloc(w.len);
            memcpy(c, w.d, w.len);
            for (unsigned k = 1 + below(3); k > 0; k--)
                c[below((unsigned)w.len)] = (uint8_t)rnd();
            agree(c, w.len);
            free(c);
        }
        free(w.d);
    }
    /* Both kinds of outcome were exercised. */
    assert_true(accepted_both > 1000);
    assert_true(refused_both > 1000);
}

/* Hand-made malformed requests: both refuse. */
static void
test_malformed_refused(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        uint8_t bytes[16];
        size_t len;
    } cases[] = {
        {"length past the end", {0x0a, 0x05, 0x0a, 0x00}, 4},
        {"length of 2^31", {0x0a, 0x80, 0x80, 0x80, 0x80, 0x08, 0x00}, 7},
        {"6-byte length prefix", {0x0a, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, 7},
        {"11-byte varint",
         {0xf8, 0x01, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00},
         13},
        {"6-byte tag", {0x88, 0x80, 0x80, 0x80, 0x80, 0x00, 0x00}, 7},
        {"group start", {0x0b, 0x0c}, 2},
        {"wire type 6", {0x0e}, 1},
        {"wire type 7", {0x0f}, 1},
        {"field number 0", {0x02, 0x00}, 2},
        {"length of 2^32 - 1", {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0, 0, 0}, 10},
        {"length of 2^32 in 5 bytes", {0x82, 0x01, 0x80, 0x80, 0x80, 0x80, 0x10}, 7},
        {"TimeSeries as a varint", {0x08, 0x01}, 2},
        {"Sample value as a varint", {0x0a, 0x04, 0x12, 0x02, 0x08, 0x01}, 6},
        {"packed doubles of 7 bytes",
         {0x0a, 0x0b, 0x22, 0x09, 0x52, 0x07, 0, 0, 0, 0, 0, 0, 0},
         13},
        {"packed varint cut short", {0x0a, 0x05, 0x22, 0x03, 0x4a, 0x01, 0x80}, 7},
        {"fixed64 cut short", {0x0a, 0x05, 0x12, 0x03, 0x09, 0x00, 0x00}, 7},
        {"label name as fixed32", {0x0a, 0x07, 0x0a, 0x05, 0x0d, 0, 0, 0, 0}, 9},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        Prometheus__WriteRequest *ref =
            prometheus__write_request__unpack(NULL, cases[i].len, cases[i].bytes);
        if (ref != NULL)
            fail_msg("%s: libprotobuf-c accepted it", cases[i].what);
        sw_err err = {0};
        if (sw_prompb_check(cases[i].bytes, cases[i].len, &err) != SW_E_PARSE)
            fail_msg("%s: the reader accepted it", cases[i].what);
        assert_non_null(strstr(err.msg, "at byte "));
    }
}

static sw_status
count_call(void *ctx, const sw_prom_sample *s, sw_err *err)
{
    (void)s;
    (void)err;
    (*(int *)ctx)++;
    return SW_OK;
}

/* A valid series, then one whose label claims 2^31 bytes: refused, the sink never called. */
static void
test_huge_length_applies_nothing(void **state)
{
    (void)state;
    /* {__name__="up", a=""} with one sample of 1.0 */
    static const uint8_t raw[] = {
        0x0a, 0x22, /* TimeSeries */
        0x0a, 0x0e, 0x0a, 0x08, '_',  '_',  'n',  'a',  'm', 'e',  '_',  '_',
        0x12, 0x02, 'u',  'p',  0x0a, 0x05, 0x0a, 0x01, 'a', 0x12, 0x00, /* Label a="" */
        0x12, 0x09, 0x09, 0,    0,    0,    0,    0,    0,   0xf0, 0x3f, /* Sample 1.0 */
        0x0a, 0x06, 0x0a, 0x80, 0x80, 0x80, 0x80, 0x08, /* TimeSeries: a Label of 2^31 bytes */
    };
    size_t first_len, len;
    uint8_t *first = snappy_literals(raw, 36, &first_len);
    uint8_t *body = snappy_literals(raw, sizeof raw, &len);
    int calls = 0;
    sw_prom_sink sink = {&calls, count_call, NULL};
    sw_rw_counts c;
    sw_err err = {0};
    /* The first series alone is valid and applied. */
    assert_int_equal(sw_rw_recv_decode(first, first_len, NULL, &sink, &c, &err), SW_OK);
    assert_int_equal(calls, 1);
    calls = 0;
    assert_int_equal(sw_rw_recv_decode(body, len, NULL, &sink, &c, &err), SW_E_PARSE);
    assert_int_equal(calls, 0);
    assert_non_null(strstr(err.msg, "length past the end"));
    free(first);
    free(body);
}

/* A NUL inside a label value: libprotobuf-c's strings would cut it short; refused whole. */
static void
test_nul_in_value_refused(void **state)
{
    (void)state;
    static const uint8_t raw[] = {
        0x0a, 0x1a, /* TimeSeries */
        0x0a, 0x0e, 0x0a, 0x08, '_',  '_',  'n',  'a',  'm', 'e',  '_',  '_',
        0x12, 0x02, 'u',  'p',  0x0a, 0x06, 0x0a, 0x01, 'a', 0x12, 0x01, 0x00, /* Label a="\0" */
        0x12, 0x00,                                                            /* Sample */
    };
    size_t len;
    uint8_t *body = snappy_literals(raw, sizeof raw, &len);
    int calls = 0;
    sw_prom_sink sink = {&calls, count_call, NULL};
    sw_rw_counts c;
    sw_err err = {0};
    assert_int_equal(sw_rw_recv_decode(body, len, NULL, &sink, &c, &err), SW_E_INVAL);
    assert_int_equal(calls, 0);
    assert_non_null(strstr(err.msg, "series 0: label 'a' has a value with a NUL byte"));
    free(body);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_requests_agree),
        cmocka_unit_test(test_truncated_and_mutated_agree),
        cmocka_unit_test(test_malformed_refused),
        cmocka_unit_test(test_huge_length_applies_nothing),
        cmocka_unit_test(test_nul_in_value_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
