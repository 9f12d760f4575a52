/*
 * Writes the seeds of fuzz/corpus/promproto: delimited MetricFamily messages encoded here by
 * hand from the protobuf encoding rules (varints, zigzag, tags) and the field numbers of
 * io.prometheus.client, without protobuf-c or core/, so the seeds do not depend on the code
 * they test. Output is deterministic.
 *
 *     ninja -C build fuzz/gen_promproto && build/fuzz/gen_promproto fuzz/corpus/promproto
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MSG_MAX 4096

typedef struct msg {
    uint8_t p[MSG_MAX];
    size_t len;
} msg;

static void
put_byte(msg *m, unsigned v)
{
    if (m->len >= MSG_MAX) {
        fprintf(stderr, "gen_promproto: message too long\n");
        exit(1);
    }
    m->p[m->len++] = (uint8_t)v;
}

static void
put_varint(msg *m, uint64_t v)
{
    while (v >= 0x80) {
        put_byte(m, (unsigned)(v & 0x7f) | 0x80);
        v >>= 7;
    }
    put_byte(m, (unsigned)v);
}

static uint64_t
zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static void
put_tag(msg *m, unsigned field, unsigned wire)
{
    put_varint(m, (uint64_t)field << 3 | wire);
}

static void
put_uint(msg *m, unsigned field, uint64_t v)
{
    put_tag(m, field, 0);
    put_varint(m, v);
}

static void
put_sint(msg *m, unsigned field, int64_t v)
{
    put_uint(m, field, zigzag(v));
}

static void
put_double(msg *m, unsigned field, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    put_tag(m, field, 1);
    for (int i = 0; i < 8; i++)
        put_byte(m, (unsigned)(bits >> (8 * i)) & 0xff);
}

static void
put_bytes(msg *m, unsigned field, const void *p, size_t n)
{
    put_tag(m, field, 2);
    put_varint(m, n);
    for (size_t i = 0; i < n; i++)
        put_byte(m, ((const uint8_t *)p)[i]);
}

static void
put_str(msg *m, unsigned field, const char *s)
{
    put_bytes(m, field, s, strlen(s));
}

static void
put_msg(msg *m, unsigned field, const msg *sub)
{
    put_bytes(m, field, sub->p, sub->len);
}

static void
label(msg *metric, const char *name, const char *value)
{
    msg l = {0};
    put_str(&l, 1, name);
    put_str(&l, 2, value);
    put_msg(metric, 1, &l);
}

/* MetricFamily fields: 1 name, 2 help, 3 type, 4 metric. */
static void
family(msg *out, const char *name, unsigned type, const msg *metrics, size_t n)
{
    msg f = {0};
    put_str(&f, 1, name);
    put_str(&f, 2, "seed");
    put_uint(&f, 3, type);
    for (size_t i = 0; i < n; i++)
        put_msg(&f, 4, &metrics[i]);
    put_varint(out, f.len);
    for (size_t i = 0; i < f.len; i++)
        put_byte(out, f.p[i]);
}

static void
value_metric(msg *metric, unsigned field, double v)
{
    msg inner = {0};
    put_double(&inner, 1, v);
    put_msg(metric, field, &inner);
}

static void
summary_metric(msg *metric)
{
    msg s = {0}, q = {0};
    put_uint(&s, 1, 300);
    put_double(&s, 2, 7.5);
    put_double(&q, 1, 0.99);
    put_double(&q, 2, 0.25);
    put_msg(&s, 3, &q);
    put_msg(metric, 4, &s);
}

/* Histogram fields: 1 count, 2 sum, 3 bucket, 5 schema, 6 zero threshold, 7 zero count,
 * 9/12 negative/positive span, 10/13 deltas (packed), 11/14 float counts. */
static void
classic_buckets(msg *h)
{
    static const double bounds[] = {0.005, 0.1, 1, 10};
    for (int i = 0; i < 4; i++) {
        msg b = {0};
        put_uint(&b, 1, (uint64_t)(i + 1) * 10);
        put_double(&b, 2, bounds[i]);
        put_msg(h, 3, &b);
    }
}

static void
span(msg *h, unsigned field, int32_t offset, uint32_t length)
{
    msg s = {0};
    put_sint(&s, 1, offset);
    put_uint(&s, 2, length);
    put_msg(h, field, &s);
}

static void
packed_deltas(msg *h, unsigned field, const int64_t *d, size_t n)
{
    msg p = {0};
    for (size_t i = 0; i < n; i++)
        put_varint(&p, zigzag(d[i]));
    put_msg(h, field, &p);
}

static void
native_histogram(msg *metric, int schema, int is_float)
{
    static const int64_t pos[] = {2, 1, -2}, neg[] = {4};
    msg h = {0};
    put_uint(&h, 1, 15);
    put_double(&h, 2, 2.5);
    classic_buckets(&h);
    put_sint(&h, 5, schema);
    put_double(&h, 6, 0.001);
    put_uint(&h, 7, 5);
    span(&h, 12, -2, 2);
    span(&h, 12, 3, 1);
    span(&h, 9, 0, 1);
    if (is_float) {
        put_double(&h, 4, 15.5);
        put_double(&h, 8, 5.5);
        put_double(&h, 14, 2.5);
        put_double(&h, 14, 3);
        put_double(&h, 14, 1);
        put_double(&h, 11, 4);
    } else {
        packed_deltas(&h, 13, pos, 3);
        packed_deltas(&h, 10, neg, 1);
    }
    put_msg(metric, 7, &h);
}

static void
save(const char *dir, const char *name, const msg *m, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(m->p, 1, len, f) != len || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

int
main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen_promproto DIR\n");
        return 2;
    }
    const char *dir = argv[1];
    msg out = {0}, m[3] = {{{0}, 0}};

    label(&m[0], "service", "api");
    value_metric(&m[0], 3, 1027);
    put_uint(&m[0], 6, 1700000000123);
    family(&out, "http_requests", 0, m, 1);
    save(dir, "counter", &out, out.len);

    memset(m, 0, sizeof m);
    value_metric(&m[0], 2, -0.5);
    value_metric(&m[1], 5, 42);
    msg all = out;
    family(&all, "temp_celsius", 1, m, 1);
    family(&all, "something_untyped", 3, m + 1, 1);
    memset(m, 0, sizeof m);
    summary_metric(&m[0]);
    family(&all, "rpc_seconds", 2, m, 1);
    save(dir, "all-simple-types", &all, all.len);

    memset(m, 0, sizeof m);
    msg classic = {0};
    msg h = {0};
    put_uint(&h, 1, 45);
    put_double(&h, 2, 12.25);
    classic_buckets(&h);
    label(&m[0], "env", "green");
    put_msg(&m[0], 7, &h);
    family(&classic, "lat_seconds", 4, m, 1);
    save(dir, "classic-histogram", &classic, classic.len);

    static const struct {
        const char *name;
        int schema, is_float;
        unsigned type;
    } natives[] = {
        {"native-int-schema3", 3, 0, 4},
        {"native-float-schema8", 8, 1, 4},
        {"native-gauge-schema-4", -4, 0, 5},
    };
    msg both = {0};
    for (size_t i = 0; i < sizeof natives / sizeof natives[0]; i++) {
        msg one = {0};
        memset(m, 0, sizeof m);
        native_histogram(&m[0], natives[i].schema, natives[i].is_float);
        family(&one, "rt_seconds", natives[i].type, m, 1);
        family(&both, "rt_seconds", natives[i].type, m, 1);
        save(dir, natives[i].name, &one, one.len);
    }
    save(dir, "native-three-messages", &both, both.len);
    save(dir, "truncated", &both, both.len - 7);

    msg bad = {0};
    memset(m, 0, sizeof m);
    value_metric(&m[0], 2, 1);
    family(&bad, "9bad", 1, m, 1);
    save(dir, "bad-name", &bad, bad.len);
    return 0;
}
