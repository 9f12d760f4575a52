/*
 * Writes the fuzz seed corpora: DIR/hdr_decode, DIR/hlog and DIR/base64 (see README.md).
 *
 * Encodings are built here, from the format notes in shared/conformance/README.md ("hdr/ —
 * format notes"), with zlib and nothing from core/: seeds must not depend on the code they
 * test. Output is deterministic, so re-running rewrites identical files.
 *
 *     ninja -C build fuzz/gen_corpus && build/fuzz/gen_corpus fuzz/corpus
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#define V2_COOKIE UINT32_C(0x1c849313)
#define V2_COMPRESSED_COOKIE UINT32_C(0x1c849314)
#define V1_COOKIE_BASE UINT32_C(0x1c849301)
#define V1_COMPRESSED_COOKIE_BASE UINT32_C(0x1c849302)
#define V0_COOKIE_BASE UINT32_C(0x1c849308)
#define V0_COMPRESSED_COOKIE_BASE UINT32_C(0x1c849309)
#define DOUBLE_HIST_COOKIE UINT32_C(0x0c72124f)

static const char *out_dir;

static _Noreturn void
die(const char *what, const char *detail)
{
    fprintf(stderr, "gen_corpus: %s: %s\n", what, detail);
    exit(1);
}

/* ---- byte strings ---- */

typedef struct bytes {
    uint8_t *p;
    size_t len, cap;
} bytes;

static void
put(bytes *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *q = realloc(b->p, cap);
        if (q == NULL)
            die("realloc", "out of memory");
        b->p = q;
        b->cap = cap;
    }
    if (n > 0)
        memcpy(b->p + b->len, p, n);
    b->len += n;
}

static void
put_u8(bytes *b, unsigned v)
{
    uint8_t c = (uint8_t)v;
    put(b, &c, 1);
}

static void
put_be(bytes *b, uint64_t v, int width)
{
    for (int i = width - 1; i >= 0; i--)
        put_u8(b, (unsigned)(v >> (8 * i)) & 0xff);
}

static void
put_str(bytes *b, const char *s)
{
    put(b, s, strlen(s));
}

static void
bytes_free(bytes *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* ---- histograms: the bucket layout of the format notes ---- */

typedef struct hist {
    int64_t lowest, highest;
    int digits;
    int unit;     /* floor(log2(lowest)) */
    int hm;       /* log2(half) */
    int64_t half; /* subBucketCount / 2 */
    int32_t len;  /* countsLen */
    int64_t *counts;
} hist;

static void
hist_init(hist *h, int64_t lowest, int64_t highest, int digits)
{
    memset(h, 0, sizeof *h);
    h->lowest = lowest;
    h->highest = highest;
    h->digits = digits;
    h->unit = 63 - __builtin_clzll((unsigned long long)lowest);
    int64_t largest = 2;
    for (int i = 0; i < digits; i++)
        largest *= 10;
    int mag = 0;
    while ((INT64_C(1) << mag) < largest)
        mag++;
    h->hm = mag - 1;
    h->half = INT64_C(1) << h->hm;
    uint64_t untrackable = (uint64_t)(2 * h->half) << h->unit;
    int buckets = 1;
    while (untrackable <= (uint64_t)highest) {
        if (untrackable > (uint64_t)INT64_MAX / 2) {
            buckets++;
            break;
        }
        untrackable <<= 1;
        buckets++;
    }
    h->len = (int32_t)((buckets + 1) * h->half);
    h->counts = calloc((size_t)h->len, sizeof *h->counts);
    if (h->counts == NULL)
        die("calloc", "out of memory");
}

static int32_t
hist_index(const hist *h, int64_t v)
{
    uint64_t mask = (uint64_t)(2 * h->half - 1) << h->unit;
    int b = 63 - __builtin_clzll((unsigned long long)((uint64_t)v | mask)) - h->unit - h->hm;
    int64_t s = (int64_t)((uint64_t)v >> (b + h->unit));
    return (int32_t)((((int64_t)b + 1) << h->hm) + s - h->half);
}

static void
hist_record(hist *h, int64_t v, int64_t n)
{
    int32_t i = hist_index(h, v);
    if (i < 0 || i >= h->len)
        die("hist_record", "value outside the layout");
    h->counts[i] += n;
}

static int32_t
hist_top(const hist *h)
{
    int32_t top = -1;
    for (int32_t i = 0; i < h->len; i++)
        if (h->counts[i] != 0)
            top = i;
    return top;
}

static void
hist_free(hist *h)
{
    free(h->counts);
    h->counts = NULL;
}

/* ---- encodings ---- */

/* ZigZag, then 7 bits per byte little-endian; a 9th byte holds 8 bits. */
static void
put_varint(bytes *b, int64_t n)
{
    uint64_t z = ((uint64_t)n << 1) ^ (n < 0 ? UINT64_MAX : 0);
    for (int i = 0; i < 8; i++) {
        if (z < 0x80) {
            put_u8(b, (unsigned)z);
            return;
        }
        put_u8(b, (unsigned)(z & 0x7f) | 0x80);
        z >>= 7;
    }
    put_u8(b, (unsigned)z);
}

enum zero_style { ZERO_JAVA, ZERO_C };

/* Counts 0 ... top: a lone zero as 0 (Java) or -1 (C); longer runs as -k. */
static void
put_v2_counts(bytes *b, const hist *h, int32_t top, enum zero_style style)
{
    int32_t i = 0;
    while (i <= top) {
        if (h->counts[i] != 0) {
            put_varint(b, h->counts[i++]);
            continue;
        }
        int32_t run = 0;
        while (i + run <= top && h->counts[i + run] == 0)
            run++;
        put_varint(b, run == 1 && style == ZERO_JAVA ? 0 : -(int64_t)run);
        i += run;
    }
}

static void
put_header40(bytes *b, uint32_t cookie, uint32_t payload_len, int32_t norm, const hist *h)
{
    put_be(b, cookie, 4);
    put_be(b, payload_len, 4);
    put_be(b, (uint32_t)norm, 4);
    put_be(b, (uint32_t)h->digits, 4);
    put_be(b, (uint64_t)h->lowest, 8);
    put_be(b, (uint64_t)h->highest, 8);
    double ratio = 1.0;
    uint64_t bits;
    memcpy(&bits, &ratio, sizeof bits);
    put_be(b, bits, 8);
}

static void
encode_v2(bytes *out, const hist *h, enum zero_style style)
{
    bytes payload = {0};
    put_v2_counts(&payload, h, hist_top(h), style);
    put_header40(out, V2_COOKIE, (uint32_t)payload.len, 0, h);
    put(out, payload.p, payload.len);
    bytes_free(&payload);
}

/* V1: fixed-width big-endian counts 0 ... top, `width` bytes each. */
static void
encode_v1(bytes *out, const hist *h, int width)
{
    int32_t n = hist_top(h) + 1;
    put_header40(out, V1_COOKIE_BASE | (uint32_t)width << 4, (uint32_t)(n * width), 0, h);
    for (int32_t i = 0; i < n; i++)
        put_be(out, (uint64_t)h->counts[i], width);
}

/* V0: 32-byte header, then 8-byte counts for `n` indexes (to the end of the data). */
static void
encode_v0(bytes *out, const hist *h, int32_t n, int64_t total)
{
    put_be(out, V0_COOKIE_BASE | 8u << 4, 4);
    put_be(out, (uint32_t)h->digits, 4);
    put_be(out, (uint64_t)h->lowest, 8);
    put_be(out, (uint64_t)h->highest, 8);
    put_be(out, (uint64_t)total, 8);
    for (int32_t i = 0; i < n; i++)
        put_be(out, (uint64_t)h->counts[i], 8);
}

static int64_t
hist_total(const hist *h)
{
    int64_t t = 0;
    for (int32_t i = 0; i < h->len; i++)
        t += h->counts[i];
    return t;
}

/* Compressed form: cookie, int32 length N, N bytes of zlib stream of `inner`. */
static void
compress_into(bytes *out, uint32_t cookie, const bytes *inner, int level)
{
    uLongf zlen = compressBound((uLong)inner->len);
    uint8_t *z = malloc(zlen);
    if (z == NULL)
        die("malloc", "out of memory");
    if (compress2(z, &zlen, inner->p, (uLong)inner->len, level) != Z_OK)
        die("compress2", "failed");
    put_be(out, cookie, 4);
    put_be(out, (uint32_t)zlen, 4);
    put(out, z, zlen);
    free(z);
}

static void
base64(bytes *out, const uint8_t *p, size_t n)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        put_u8(out, (unsigned char)a[v >> 18 & 63]);
        put_u8(out, (unsigned char)a[v >> 12 & 63]);
        put_u8(out, i + 1 < n ? (unsigned char)a[v >> 6 & 63] : '=');
        put_u8(out, i + 2 < n ? (unsigned char)a[v & 63] : '=');
    }
}

/* ---- files ---- */

static void
make_dir(const char *path)
{
    if (mkdir(path, 0777) != 0 && errno != EEXIST)
        die(path, strerror(errno));
}

static void
write_file(const char *sub, const char *name, const void *p, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s/%s", out_dir, sub, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        die(path, strerror(errno));
    if ((n > 0 && fwrite(p, 1, n, f) != n) || fclose(f) != 0)
        die(path, "write failed");
}

static void
write_bytes(const char *sub, const char *name, const bytes *b)
{
    write_file(sub, name, b->p, b->len);
}

/* ---- the histograms the seeds are made of ---- */

/* Deterministic pseudo-random numbers (xorshift64*). */
static uint64_t rng_state = UINT64_C(0x9e3779b97f4a7c15);

static uint64_t
rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * UINT64_C(0x2545f4914f6cdd1d);
}

/* slawatch's latency layout (1 us ... 1 h, 3 digits) with latency-like values. */
static void
make_many(hist *h)
{
    hist_init(h, 1, INT64_C(3600000000), 3);
    for (int i = 0; i < 300; i++) {
        int mag = (int)(rng() % 25);
        int64_t v = (int64_t)(rng() % (UINT64_C(1) << mag));
        hist_record(h, v, (int64_t)(rng() % 50) + 1);
    }
    hist_record(h, INT64_C(3600000000), 1);
}

static void
v2_pair(const char *name, const hist *h, int level)
{
    char fname[256];
    bytes plain = {0}, z = {0};
    encode_v2(&plain, h, ZERO_JAVA);
    compress_into(&z, V2_COMPRESSED_COOKIE, &plain, level);
    snprintf(fname, sizeof fname, "v2-%s", name);
    write_bytes("hdr_decode", fname, &plain);
    snprintf(fname, sizeof fname, "v2z-%s", name);
    write_bytes("hdr_decode", fname, &z);
    bytes_free(&plain);
    bytes_free(&z);
}

/* Compressed V2 of h as base64: an .hlog histogram field. */
static char *
hlog_field(const hist *h)
{
    bytes plain = {0}, z = {0}, text = {0};
    encode_v2(&plain, h, ZERO_JAVA);
    compress_into(&z, V2_COMPRESSED_COOKIE, &plain, 9);
    base64(&text, z.p, z.len);
    put_u8(&text, 0);
    bytes_free(&plain);
    bytes_free(&z);
    return (char *)text.p;
}

static void
gen_hdr_decode(void)
{
    bytes b = {0}, inner = {0};
    hist h;

    /* Valid V2, plain and compressed. */
    hist_init(&h, 1, INT64_C(3600000000), 3);
    v2_pair("empty", &h, Z_DEFAULT_COMPRESSION);
    put_header40(&b, V2_COOKIE, 1, 0, &h); /* Java writes counts[0] = 0 for an empty one */
    put_u8(&b, 0);
    write_bytes("hdr_decode", "v2-empty-java", &b);
    b.len = 0;
    hist_record(&h, 1000, 1);
    v2_pair("one-1000us", &h, 9);
    hist_free(&h);

    make_many(&h);
    v2_pair("many-d3", &h, 9);
    encode_v2(&b, &h, ZERO_C);
    write_bytes("hdr_decode", "v2-many-d3-c-zero-runs", &b);
    b.len = 0;
    hist_free(&h);

    hist_init(&h, 1, 1000, 1);
    for (int64_t v = 0; v <= 1000; v += 7)
        hist_record(&h, v, v % 5 + 1);
    v2_pair("d1-0-1000", &h, Z_DEFAULT_COMPRESSION);
    hist_free(&h);

    hist_init(&h, 1, 1000000, 5);
    for (int i = 0; i < 60; i++)
        hist_record(&h, (int64_t)(rng() % 1000000), 3);
    v2_pair("d5-1e6", &h, 9);
    hist_free(&h);

    hist_init(&h, 1000, INT64_C(1000000000), 2);
    hist_record(&h, 0, 2);
    hist_record(&h, 999, 1);
    hist_record(&h, 1000, 4);
    hist_record(&h, 123456789, 5);
    hist_record(&h, 1000000000, 1);
    v2_pair("d2-lowest1000", &h, 9);
    hist_free(&h);

    /* Widest layout: 1 ... INT64_MAX; big values and big counts. */
    hist_init(&h, 1, INT64_MAX, 2);
    hist_record(&h, 0, 1);
    hist_record(&h, INT64_MAX / 3, INT64_C(1) << 40);
    hist_record(&h, INT64_MAX, 7);
    v2_pair("d2-highest-int64max", &h, 9);
    hist_free(&h);

    /* One count of INT64_MAX (a 9-byte varint); then two that overflow the total. */
    hist_init(&h, 1, 100000, 2);
    hist_record(&h, 5, INT64_MAX);
    encode_v2(&b, &h, ZERO_JAVA);
    write_bytes("hdr_decode", "v2-count-int64max", &b);
    b.len = 0;
    h.counts[hist_index(&h, 5)] = INT64_C(1) << 62;
    hist_record(&h, 50, INT64_C(1) << 62);
    encode_v2(&b, &h, ZERO_JAVA);
    write_bytes("hdr_decode", "v2-total-overflows", &b);
    b.len = 0;
    hist_free(&h);

    /* The largest layout digits 5 allow (6M counts, 48 MiB), with a single value. */
    hist_init(&h, 1, INT64_MAX, 5);
    hist_record(&h, INT64_C(1) << 62, 1);
    encode_v2(&inner, &h, ZERO_JAVA);
    compress_into(&b, V2_COMPRESSED_COOKIE, &inner, 9);
    write_bytes("hdr_decode", "v2z-d5-int64max-layout", &b);
    b.len = inner.len = 0;
    hist_free(&h);

    /* Header variations on a small valid histogram. */
    hist_init(&h, 1, 10000, 2);
    hist_record(&h, 3, 2);
    hist_record(&h, 300, 1);
    hist_record(&h, 9000, 5);
    bytes payload = {0};
    put_v2_counts(&payload, &h, hist_top(&h), ZERO_JAVA);

    put_header40(&b, V2_COOKIE, (uint32_t)payload.len, 2, &h);
    put(&b, payload.p, payload.len);
    write_bytes("hdr_decode", "v2-normalizing-offset-2", &b);
    b.len = 0;

    put_header40(&b, 0x1c8493f3, (uint32_t)payload.len, 0, &h); /* bits 4-7 ignored */
    put(&b, payload.p, payload.len);
    write_bytes("hdr_decode", "v2-cookie-bits-f", &b);
    b.len = 0;

    put_header40(&b, DOUBLE_HIST_COOKIE, (uint32_t)payload.len, 0, &h);
    put(&b, payload.p, payload.len);
    write_bytes("hdr_decode", "bad-double-histogram-cookie", &b);
    b.len = 0;

    put_header40(&b, V2_COOKIE ^ 0x01000000, (uint32_t)payload.len, 0, &h);
    put(&b, payload.p, payload.len);
    write_bytes("hdr_decode", "bad-cookie", &b);
    b.len = 0;

    /* Truncations of a valid encoding. */
    put_header40(&b, V2_COOKIE, (uint32_t)payload.len, 0, &h);
    put(&b, payload.p, payload.len);
    write_file("hdr_decode", "bad-truncated-header", b.p, 20);
    write_file("hdr_decode", "bad-truncated-payload", b.p, b.len - 2);
    b.len = 0;

    /* Header fields out of range. */
    static const struct {
        const char *name;
        int64_t lowest, highest;
        int digits;
        int64_t payload_len;
    } bad_headers[] = {
        {"bad-digits-0", 1, 10000, 0, -1},
        {"bad-digits-6", 1, 10000, 6, -1},
        {"bad-lowest-0", 0, 10000, 2, -1},
        {"bad-lowest-negative", -5, 10000, 2, -1},
        {"bad-highest-below-2-lowest", 1000, 1999, 2, -1},
        {"bad-payload-len-negative", 1, 10000, 2, -8},
        {"bad-payload-len-huge", 1, 10000, 2, INT32_MAX},
    };
    for (size_t i = 0; i < sizeof bad_headers / sizeof bad_headers[0]; i++) {
        hist hh = h;
        hh.lowest = bad_headers[i].lowest;
        hh.highest = bad_headers[i].highest;
        hh.digits = bad_headers[i].digits;
        int64_t plen = bad_headers[i].payload_len;
        put_header40(&b, V2_COOKIE, plen == -1 ? (uint32_t)payload.len : (uint32_t)plen, 0, &hh);
        put(&b, payload.p, payload.len);
        write_bytes("hdr_decode", bad_headers[i].name, &b);
        b.len = 0;
    }
    bytes_free(&payload);

    /* Payloads that break the counts array (h: 10000 highest, 2 digits). */
    struct {
        const char *name;
        int64_t varints[4];
        int n;
        const char *raw; /* raw bytes instead, when set */
        size_t raw_len;
    } bad_payloads[] = {
        {"bad-zero-run-past-end", {2, -(int64_t)h.len}, 2, NULL, 0},
        {"bad-zero-run-int32min", {-(INT64_C(1) << 31)}, 1, NULL, 0},
        {"bad-zero-run-int64min", {INT64_MIN}, 1, NULL, 0},
        {"bad-varint-truncated", {0}, 0, "\x02\x80", 2},
        {"bad-varint-9-bytes-ff", {0}, 0, "\xff\xff\xff\xff\xff\xff\xff\xff\xff", 9},
        {"v2-c-lone-zero", {4, -1, 3}, 3, NULL, 0},
        {"bad-leftover-after-full", {-(int64_t)h.len + 1, 5, 1}, 3, NULL, 0},
    };
    for (size_t i = 0; i < sizeof bad_payloads / sizeof bad_payloads[0]; i++) {
        bytes p = {0};
        if (bad_payloads[i].raw != NULL)
            put(&p, bad_payloads[i].raw, bad_payloads[i].raw_len);
        for (int k = 0; k < bad_payloads[i].n; k++)
            put_varint(&p, bad_payloads[i].varints[k]);
        put_header40(&b, V2_COOKIE, (uint32_t)p.len, 0, &h);
        put(&b, p.p, p.len);
        write_bytes("hdr_decode", bad_payloads[i].name, &b);
        b.len = 0;
        bytes_free(&p);
    }

    /* Compressed wrappers gone wrong. */
    encode_v2(&inner, &h, ZERO_JAVA);
    compress_into(&b, V2_COMPRESSED_COOKIE, &inner, 9);
    b.p[b.len - 1] ^= 0x55; /* Adler-32 */
    write_bytes("hdr_decode", "bad-z-adler", &b);
    b.p[b.len - 1] ^= 0x55;
    write_file("hdr_decode", "bad-z-truncated", b.p, b.len - 5);
    b.p[4] = 0x7f; /* length beyond the data */
    write_bytes("hdr_decode", "bad-z-length-huge", &b);
    b.p[4] = 0xff; /* negative length */
    write_bytes("hdr_decode", "bad-z-length-negative", &b);
    b.p[4] = 0;
    put_str(&b, "trailing");
    write_bytes("hdr_decode", "bad-z-trailing-bytes", &b);
    b.len = 0;
    static uint8_t garbage[] = "not a histogram";
    compress_into(&b, V2_COMPRESSED_COOKIE, &(bytes){garbage, sizeof garbage - 1, 0}, 9);
    write_bytes("hdr_decode", "bad-z-inner-garbage", &b);
    b.len = 0;
    /* A compressed encoding inside a compressed one (a decoder must not recurse). */
    bytes once = {0};
    compress_into(&once, V2_COMPRESSED_COOKIE, &inner, 9);
    compress_into(&b, V2_COMPRESSED_COOKIE, &once, 9);
    write_bytes("hdr_decode", "bad-z-nested", &b);
    b.len = 0;
    bytes_free(&once);
    bytes_free(&inner);

    /* V1: 2-, 4- and 8-byte words, plain and compressed. */
    static const int widths[] = {2, 4, 8};
    for (size_t i = 0; i < 3; i++) {
        char name[64];
        encode_v1(&inner, &h, widths[i]);
        snprintf(name, sizeof name, "v1-w%d", widths[i]);
        write_bytes("hdr_decode", name, &inner);
        compress_into(&b, V1_COMPRESSED_COOKIE_BASE | (uint32_t)widths[i] << 4, &inner, 9);
        snprintf(name, sizeof name, "v1z-w%d", widths[i]);
        write_bytes("hdr_decode", name, &b);
        b.len = inner.len = 0;
    }
    h.counts[hist_index(&h, 300)] = -1; /* 0xffff as a 2-byte word */
    encode_v1(&b, &h, 2);
    write_bytes("hdr_decode", "bad-v1-negative-count", &b);
    b.len = 0;
    h.counts[hist_index(&h, 300)] = 1;
    encode_v1(&b, &h, 2);
    b.p[7] |= 1; /* payload length odd for 2-byte words */
    write_bytes("hdr_decode", "bad-v1-partial-word", &b);
    b.p[3] = 0x61; /* word size 6 */
    b.p[7] &= 0xfe;
    write_bytes("hdr_decode", "bad-v1-word-size-6", &b);
    b.len = 0;

    /* V0: 8-byte words; all counts (as Java wrote them) or only up to the last. */
    encode_v0(&inner, &h, h.len, hist_total(&h));
    compress_into(&b, V0_COMPRESSED_COOKIE_BASE | 8u << 4, &inner, 9);
    write_bytes("hdr_decode", "v0z-w8", &b);
    b.len = inner.len = 0;
    encode_v0(&b, &h, hist_top(&h) + 1, hist_total(&h));
    write_bytes("hdr_decode", "v0-w8", &b);
    b.len = 0;
    encode_v0(&b, &h, hist_top(&h) + 1, 12345);
    write_bytes("hdr_decode", "v0-total-mismatch", &b);
    put_str(&b, "abc");
    write_bytes("hdr_decode", "bad-v0-partial-word", &b);
    b.len = 0;
    hist_free(&h);

    write_file("hdr_decode", "empty", "", 0);
    bytes_free(&inner);
    bytes_free(&b);
}

static void
gen_hlog(void)
{
    hist h;
    hist_init(&h, 1, INT64_C(3600000000), 3);
    hist_record(&h, 1500, 3);
    hist_record(&h, 2700, 1);
    char *f1 = hlog_field(&h);
    hist_record(&h, 250000, 2);
    char *f2 = hlog_field(&h);
    hist_free(&h);
    hist_init(&h, 1, INT64_C(3600000000), 3);
    char *f_empty = hlog_field(&h);
    hist_free(&h);

    /* V1 and V0 payloads, compressed, as old jHiccup logs carry them. */
    hist_init(&h, 1, 10000, 2);
    hist_record(&h, 42, 2);
    bytes inner = {0}, z = {0}, t1 = {0}, t0 = {0};
    encode_v1(&inner, &h, 8);
    compress_into(&z, V1_COMPRESSED_COOKIE_BASE | 8u << 4, &inner, 9);
    base64(&t1, z.p, z.len);
    put_u8(&t1, 0);
    inner.len = z.len = 0;
    encode_v0(&inner, &h, h.len, hist_total(&h));
    compress_into(&z, V0_COMPRESSED_COOKIE_BASE | 8u << 4, &inner, 9);
    base64(&t0, z.p, z.len);
    put_u8(&t0, 0);
    bytes_free(&inner);
    bytes_free(&z);
    hist_free(&h);

    static const char legend[] =
        "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"";
    static const char start[] =
        "#[StartTime: 1700000000.000 (seconds since epoch), Tue Nov 14 22:13:20 UTC 2023]";
    bytes b = {0};
    char line[8192];

#define LINE(...)                                                                                  \
    do {                                                                                           \
        snprintf(line, sizeof line, __VA_ARGS__);                                                  \
        put_str(&b, line);                                                                         \
    } while (0)
#define EMIT(name)                                                                                 \
    do {                                                                                           \
        write_bytes("hlog", name, &b);                                                             \
        b.len = 0;                                                                                 \
    } while (0)

    /* What Java writes: version 1.3, StartTime, BaseTime, legend, tagged and untagged. */
    LINE("#[Logged with slawatch fuzz/gen_corpus]\n#[Histogram log format version 1.3]\n");
    LINE("%s\n#[BaseTime: 1700000000.000 (seconds since epoch)]\n%s\n", start, legend);
    LINE("0.000,1.000,0.003,%s\nTag=db,1.000,1.000,0.250,%s\n2.000,1.000,0.000,%s\n", f1, f2,
         f_empty);
    EMIT("java-1.3-basetime-tags.hlog");

    /* What C writes: version 1.2, max as an integer with ".0". */
    LINE("#[Histogram log format version 1.2]\n%s\n%s\n", start, legend);
    LINE("0.127,1.007,2700.0,%s\n1.134,0.999,250000.0,%s\n", f1, f2);
    EMIT("c-1.2.hlog");

    /* Absolute epoch timestamps, no StartTime (base time inferred as 0). */
    LINE("%s\n1700000000.123,1.000,0.003,%s\n1700000001.123,1.000,0.250,%s\n", legend, f1, f2);
    EMIT("absolute-no-starttime.hlog");

    /* Relative timestamps, StartTime but no BaseTime (base inferred as StartTime). */
    LINE("%s\n0.500,1.000,0.003,%s\n1.500,1.000,0.250,%s\n", start, f1, f2);
    EMIT("relative-starttime.hlog");

    /* Old header spellings and payloads: 1.01, EndTimestamp, V1 and V0 histograms. */
    LINE("#[Histogram log format version 1.01]\n#[StartTime: 1400000000.000 (seconds since "
         "epoch), Tue May 13 16:53:20 UTC 2014]\n");
    LINE(
        "\"StartTimestamp\",\"EndTimestamp\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n");
    LINE("0.000,1.000,0.042,%s\n1.000,1.000,0.042,%s\n", (char *)t1.p, (char *)t0.p);
    EMIT("old-v1-v0-payloads.hlog");

    /* CRLF endings, trailing blanks, blank lines, no final line feed. */
    LINE("#[Histogram log format version 1.3]\r\n%s \r\n\r\n%s\t\r\n", start, legend);
    LINE("Tag=a,0.000,1.000,0.003,%s  \r\n\r\n", f1);
    LINE("Tag=b,1.000,1.000,0.250,%s\r\n   \r\n2.000,1.000,0.003,%s", f2, f1);
    EMIT("crlf-blanks.hlog");

    /* The fuzz callback stops at the tag "stop": nothing after it may be visited. */
    LINE("%s\nTag=a,0.000,1.000,0.003,%s\nTag=stop,1.000,1.000,0.250,%s\n", start, f1, f2);
    LINE("2.000,1.000,0.003,%s\nnot even a valid line\n", f1);
    EMIT("visit-stop.hlog");

    LINE("#[just a comment]\n#\n#[Histogram log format version 1.2]\n");
    EMIT("comments-only.hlog");
    EMIT("empty.hlog");

    /* Lines that must be rejected (each file fails at its last line). */
    LINE("%s\n0.000,1.000,0.003,%s\n", start, f1);
    size_t good = b.len;
    /* '@' stands for a valid histogram field. */
    static const char *const bad[][2] = {
        {"bad-missing-histogram.hlog", "1.000,1.000,0.003\n"},
        {"bad-empty-histogram.hlog", "1.000,1.000,0.003,\n"},
        {"bad-tag-key.hlog", "Tagg=x,1.000,1.000,0.003,@\n"},
        {"bad-tag-empty.hlog", "Tag=,1.000,1.000,0.003,@\n"},
        {"bad-tag-blank.hlog", "Tag=a b,1.000,1.000,0.003,@\n"},
        {"bad-timestamp.hlog", "1.0x0,1.000,0.003,@\n"},
        {"bad-timestamp-nan.hlog", "nan,inf,0.003,@\n"},
        {"bad-timestamp-huge.hlog", "1e999,1.000,0.003,@\n"},
        {"bad-length-negative.hlog", "1.000,-1.000,0.003,@\n"},
        {"bad-too-many-fields.hlog", "1.000,1.000,0.003,@,extra\n"},
        {"bad-base64.hlog", "1.000,1.000,0.003,HISTFAAAA*AAA\n"},
        {"bad-base64-unpadded.hlog", "1.000,1.000,0.003,HISTFAAAAEV\n"},
        {"bad-histogram.hlog", "1.000,1.000,0.003,bm90IGEgaGlzdG9ncmFt\n"},
        {"bad-version.hlog", "#[Histogram log format version 2.0]\n"},
        {"bad-starttime.hlog", "#[StartTime: abc (seconds since epoch), x]\n"},
        {"bad-basetime.hlog", "#[BaseTime: 1e400 (seconds since epoch)]\n"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        b.len = good;
        for (const char *c = bad[i][1]; *c != '\0'; c++) {
            if (*c == '@')
                put_str(&b, f1);
            else
                put_u8(&b, (unsigned char)*c);
        }
        write_bytes("hlog", bad[i][0], &b);
    }
    b.len = good;
    put(&b, "1.000,1.000,0.003\0,", 19);
    put_str(&b, f1);
    put_u8(&b, '\n');
    write_bytes("hlog", "bad-nul-in-line.hlog", &b);
    b.len = 0;

    /* A tag just over the limit (256). */
    char tag[300];
    memset(tag, 'x', sizeof tag - 1);
    tag[sizeof tag - 1] = '\0';
    LINE("Tag=%s,0.000,1.000,0.003,%s\n", tag, f1);
    EMIT("bad-tag-too-long.hlog");
    tag[256] = '\0';
    LINE("Tag=%s,0.000,1.000,0.003,%s\n", tag, f1);
    EMIT("tag-256.hlog");

#undef LINE
#undef EMIT
    bytes_free(&b);
    bytes_free(&t1);
    bytes_free(&t0);
    free(f1);
    free(f2);
    free(f_empty);
}

static void
gen_base64(void)
{
    static const struct {
        const char *name, *text;
    } seeds[] = {
        {"empty", ""},
        {"one-byte", "QQ=="},
        {"two-bytes", "QUI="},
        {"three-bytes", "QUJD"},
        {"sentence", "VGhlIHF1aWNrIGJyb3duIGZveCBqdW1wcyBvdmVyIHRoZSBsYXp5IGRvZw=="},
        {"noncanonical-bits-1", "QR=="},
        {"noncanonical-bits-2", "QUJ="},
        {"bad-char", "QU*D"},
        {"bad-missing-padding", "QUI"},
        {"bad-padding-inside", "QQ==QUJD"},
        {"bad-padding-three", "Q==="},
        {"bad-padding-only", "===="},
        {"bad-blank", "QU JD"},
        {"bad-newline", "QUJD\nQUJD"},
        {"bad-urlsafe", "-_-_"},
        {"bad-length-5", "QUJDR"},
    };
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++)
        write_file("base64", seeds[i].name, seeds[i].text, strlen(seeds[i].text));

    /* Every byte value once. */
    uint8_t all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
    bytes b = {0};
    base64(&b, all, sizeof all);
    write_bytes("base64", "all-bytes", &b);
    write_file("base64", "bad-nul", "QU\0D", 4);
    write_file("base64", "bad-high-bytes", "\xc3\xa9\xff\x80", 4);

    /* An .hlog histogram field (compressed V2 of a small histogram). */
    hist h;
    hist_init(&h, 1, INT64_C(3600000000), 3);
    hist_record(&h, 1500, 3);
    hist_record(&h, 250000, 1);
    char *field = hlog_field(&h);
    write_file("base64", "v2-hlog-field", field, strlen(field));
    free(field);
    hist_free(&h);
    bytes_free(&b);
}

int
main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR   (writes CORPUS_DIR/{hdr_decode,hlog,base64})\n",
                argv[0]);
        return 2;
    }
    out_dir = argv[1];
    char path[4096];
    make_dir(out_dir);
    static const char *const subs[] = {"hdr_decode", "hlog", "base64"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", out_dir, subs[i]);
        make_dir(path);
    }
    gen_hdr_decode();
    gen_hlog();
    gen_base64();
    return 0;
}
