/*
 * The WriteRequest reader: one field walker with libprotobuf-c's limits, a table of the prompb
 * messages' fields for the check, and readers that take from checked bytes only what the
 * receiver uses.
 */
#include "slawatch/prompb_wire.h"

#include <string.h>

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

/* Known fields' kinds: what the check demands of their wire type. */
typedef enum kind {
    K_VARINT,  /* singular integer or enum */
    K_I64,     /* singular double */
    K_BYTES,   /* string */
    K_MSG,     /* message (singular or repeated) */
    K_VARINTS, /* repeated integer: varints, or packed */
    K_I64S,    /* repeated double: 8 bytes each, or packed */
} kind;

typedef struct msg_spec msg_spec;

typedef struct field_spec {
    uint32_t num;
    kind k;
    const msg_spec *sub;
} field_spec;

struct msg_spec {
    const char *name;
    const field_spec *fields;
    size_t n;
};

#define SPEC(name, fields)                                                                         \
    {                                                                                              \
        name, fields, sizeof fields / sizeof fields[0]                                             \
    }

static const field_spec label_fields[] = {{1, K_BYTES, NULL}, {2, K_BYTES, NULL}};
static const msg_spec label_spec = SPEC("Label", label_fields);
static const field_spec sample_fields[] = {{1, K_I64, NULL}, {2, K_VARINT, NULL}};
static const msg_spec sample_spec = SPEC("Sample", sample_fields);
static const field_spec exemplar_fields[] = {
    {1, K_MSG, &label_spec}, {2, K_I64, NULL}, {3, K_VARINT, NULL}};
static const msg_spec exemplar_spec = SPEC("Exemplar", exemplar_fields);
static const field_spec span_fields[] = {{1, K_VARINT, NULL}, {2, K_VARINT, NULL}};
static const msg_spec span_spec = SPEC("BucketSpan", span_fields);
static const field_spec hist_fields[] = {
    {1, K_VARINT, NULL},  {2, K_I64, NULL},     {3, K_I64, NULL},        {4, K_VARINT, NULL},
    {5, K_I64, NULL},     {6, K_VARINT, NULL},  {7, K_I64, NULL},        {8, K_MSG, &span_spec},
    {9, K_VARINTS, NULL}, {10, K_I64S, NULL},   {11, K_MSG, &span_spec}, {12, K_VARINTS, NULL},
    {13, K_I64S, NULL},   {14, K_VARINT, NULL}, {15, K_VARINT, NULL},
};
static const msg_spec hist_spec = SPEC("Histogram", hist_fields);
static const field_spec series_fields[] = {
    {1, K_MSG, &label_spec},
    {2, K_MSG, &sample_spec},
    {3, K_MSG, &exemplar_spec},
    {4, K_MSG, &hist_spec},
};
static const msg_spec series_spec = SPEC("TimeSeries", series_fields);
static const field_spec metadata_fields[] = {
    {1, K_VARINT, NULL}, {2, K_BYTES, NULL}, {4, K_BYTES, NULL}, {5, K_BYTES, NULL}};
static const msg_spec metadata_spec = SPEC("MetricMetadata", metadata_fields);
static const field_spec request_fields[] = {{1, K_MSG, &series_spec}, {3, K_MSG, &metadata_spec}};
static const msg_spec request_spec = SPEC("WriteRequest", request_fields);

/* One field as the walker found it: its number, wire type, and payload. */
typedef struct field {
    uint32_t num;
    unsigned wt;
    uint64_t v;          /* a varint's value, a fixed field's bits */
    const uint8_t *data; /* a length-delimited field's payload, or the varint's bytes */
    size_t len;
} field;

/* A varint of at most 10 bytes (bits past 64 dropped); its size, 0 when unterminated. */
static inline size_t
read_varint(const uint8_t *p, const uint8_t *end, uint64_t *ret)
{
    if (p < end && p[0] < 0x80) {
        *ret = p[0];
        return 1;
    }
    size_t max = (size_t)(end - p) < 10 ? (size_t)(end - p) : 10;
    uint64_t v = 0;
    for (size_t i = 0; i < max; i++) {
        v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
        if (p[i] < 0x80) {
            *ret = v;
            return i + 1;
        }
    }
    return 0;
}

/*
 * A tag as libprotobuf-c 1.4 reads one: at most 5 bytes, the field number kept to 32 bits; a
 * one-byte tag of field 0 is refused (a longer one is an unknown field). Its size, 0 when bad.
 */
static inline size_t
read_tag(const uint8_t *p, const uint8_t *end, uint32_t *num, unsigned *wt)
{
    *wt = p[0] & 7;
    uint32_t tag = (uint32_t)(p[0] & 0x7f) >> 3;
    if (p[0] < 0x80) {
        *num = tag;
        return tag != 0;
    }
    size_t max = (size_t)(end - p) < 5 ? (size_t)(end - p) : 5;
    unsigned shift = 4;
    for (size_t i = 1; i < max; i++, shift += 7) {
        tag |= (uint32_t)(p[i] & 0x7f) << shift;
        if (p[i] < 0x80) {
            *num = tag;
            return i + 1;
        }
    }
    return 0;
}

static inline uint64_t
le64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/*
 * The next field at it into *f: 1, or 0 at the end, or -1 when malformed (what in *why, it->p
 * left at the field's start).
 */
/* Inlined into every reader: the walk is the whole cost of reading. */
static inline __attribute__((always_inline)) int
next_field(sw_prompb_iter *it, field *f, const char **why)
{
    const uint8_t *p = it->p, *end = it->end;
    if (p >= end)
        return 0;
    size_t n = read_tag(p, end, &f->num, &f->wt);
    if (n == 0) {
        *why = "bad tag (unterminated, or a one-byte tag of field 0)";
        return -1;
    }
    p += n;
    switch (f->wt) {
    case WT_VARINT:
        if ((n = read_varint(p, end, &f->v)) == 0) {
            *why = "unterminated varint";
            return -1;
        }
        f->data = p;
        f->len = n;
        p += n;
        break;
    case WT_I64:
    case WT_I32:
        f->len = f->wt == WT_I64 ? 8 : 4;
        if ((size_t)(end - p) < f->len) {
            *why = "fixed-size value cut short";
            return -1;
        }
        f->v = f->wt == WT_I64 ? le64(p) : 0;
        f->data = p;
        p += f->len;
        break;
    case WT_LEN: {
        /* A length prefix of at most 5 bytes, as libprotobuf-c reads one. */
        uint64_t len;
        n = read_varint(p, end, &len);
        if (n == 0 || n > 5) {
            *why = "bad length prefix";
            return -1;
        }
        if (len > (uint64_t)(end - p) - n) {
            *why = "length past the end of its message";
            return -1;
        }
        f->data = p + n;
        f->len = (size_t)len;
        f->v = 0;
        p += n + len;
        break;
    }
    default:
        *why = "unsupported wire type (group, or 6 or 7)";
        return -1;
    }
    it->p = p;
    return 1;
}

static const field_spec *
spec_of(const msg_spec *m, uint32_t num)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->fields[i].num == num)
            return &m->fields[i];
    return NULL;
}

/* Every varint of a packed run terminated within 10 bytes. */
static bool
packed_varints_ok(const uint8_t *p, const uint8_t *end)
{
    uint64_t v;
    for (size_t n; p < end; p += n)
        if ((n = read_varint(p, end, &v)) == 0)
            return false;
    return true;
}

typedef struct check_ctx {
    const uint8_t *base;
    sw_err *err;
} check_ctx;

/* A known field in the wrong form. */
static sw_status
refuse_field(check_ctx *c, const msg_spec *m, const uint8_t *at, const char *what, uint32_t num)
{
    return sw_err_set(c->err, SW_E_PARSE, "protobuf: %s in %s field %u at byte %zu", what, m->name,
                      (unsigned)num, (size_t)(at - c->base));
}

/* Bytes that are no field at all. */
static sw_status
refuse_bytes(check_ctx *c, const msg_spec *m, const uint8_t *at, const char *what)
{
    return sw_err_set(c->err, SW_E_PARSE, "protobuf: %s in a %s at byte %zu", what, m->name,
                      (size_t)(at - c->base));
}

/* A known field's wire type against its kind; a packed run's contents. */
static const char *
field_problem(const field_spec *s, const field *f)
{
    switch (s->k) {
    case K_VARINT:
        return f->wt == WT_VARINT ? NULL : "wrong wire type";
    case K_I64:
        return f->wt == WT_I64 ? NULL : "wrong wire type";
    case K_BYTES:
    case K_MSG:
        return f->wt == WT_LEN ? NULL : "wrong wire type";
    case K_VARINTS:
        if (f->wt == WT_VARINT)
            return NULL;
        if (f->wt != WT_LEN)
            return "wrong wire type";
        return packed_varints_ok(f->data, f->data + f->len) ? NULL : "bad packed varint";
    case K_I64S:
        if (f->wt == WT_I64)
            return NULL;
        if (f->wt != WT_LEN)
            return "wrong wire type";
        return f->len % 8 == 0 ? NULL : "packed doubles not a multiple of 8 bytes";
    }
    return "unknown kind";
}

static sw_status
check_msg(check_ctx *c, const msg_spec *m, const uint8_t *p, size_t len)
{
    sw_prompb_iter it = sw_prompb_iter_of(p, len);
    field f;
    const char *why = NULL;
    int got;
    while ((got = next_field(&it, &f, &why)) == 1) {
        const field_spec *s = spec_of(m, f.num);
        if (s == NULL)
            continue;
        const char *problem = field_problem(s, &f);
        if (problem != NULL)
            return refuse_field(c, m, f.data, problem, f.num);
        if (s->k == K_MSG) {
            sw_status st = check_msg(c, s->sub, f.data, f.len);
            if (st != SW_OK)
                return st;
        }
    }
    return got == 0 ? SW_OK : refuse_bytes(c, m, it.p, why);
}

sw_status
sw_prompb_check(const uint8_t *p, size_t len, sw_err *err)
{
    check_ctx c = {p, err};
    return check_msg(&c, &request_spec, p, len);
}

bool
sw_prompb_next_series(sw_prompb_iter *request, sw_prompb_iter *series)
{
    field f;
    const char *why;
    while (next_field(request, &f, &why) == 1)
        if (f.num == 1 && f.wt == WT_LEN) {
            *series = sw_prompb_iter_of(f.data, f.len);
            return true;
        }
    return false;
}

static double
as_double(uint64_t bits)
{
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

static int32_t
unzigzag32(uint64_t v)
{
    uint32_t u = (uint32_t)v;
    return (int32_t)((u >> 1) ^ (0u - (u & 1)));
}

static int64_t
unzigzag64(uint64_t v)
{
    return (int64_t)((v >> 1) ^ (0 - (v & 1)));
}

/* A label as senders write it, name (field 1) then value (field 2) with one-byte lengths and
 * nothing else, read without the walk; false for any other layout. Both walks of a request read
 * every label, so this is most of the reading. */
static inline bool
read_label_common(const uint8_t *p, size_t len, sw_prom_label *l)
{
    if (len < 4 || p[0] != 0x0a || p[1] >= 0x80)
        return false;
    size_t name_len = p[1], at = 2 + name_len;
    if (at + 2 > len || p[at] != 0x12 || p[at + 1] >= 0x80 || at + 2 + p[at + 1] != len)
        return false;
    *l = (sw_prom_label){(const char *)p + 2, (const char *)p + at + 2, name_len, p[at + 1]};
    return true;
}

static void
read_label(const uint8_t *p, size_t len, sw_prom_label *l)
{
    if (read_label_common(p, len, l))
        return;
    sw_prompb_iter it = sw_prompb_iter_of(p, len);
    field f;
    const char *why;
    *l = (sw_prom_label){"", "", 0, 0};
    while (next_field(&it, &f, &why) == 1) {
        if (f.num == 1 && f.wt == WT_LEN) {
            l->name = (const char *)f.data;
            l->name_len = f.len;
        } else if (f.num == 2 && f.wt == WT_LEN) {
            l->value = (const char *)f.data;
            l->value_len = f.len;
        }
    }
}

static void
read_sample(const uint8_t *p, size_t len, double *value, int64_t *ts)
{
    sw_prompb_iter it = sw_prompb_iter_of(p, len);
    field f;
    const char *why;
    *value = 0;
    *ts = 0;
    while (next_field(&it, &f, &why) == 1) {
        if (f.num == 1 && f.wt == WT_I64)
            *value = as_double(f.v);
        else if (f.num == 2 && f.wt == WT_VARINT)
            *ts = (int64_t)f.v;
    }
}

/* A Histogram's singular fields: the last of each counts, and of each oneof. */
static void
read_hist(const uint8_t *p, size_t len, sw_prompb_hist *h)
{
    sw_prompb_iter it = sw_prompb_iter_of(p, len);
    field f;
    const char *why;
    *h = (sw_prompb_hist){.p = p, .len = len};
    while (next_field(&it, &f, &why) == 1) {
        switch (f.num) {
        case 1:
            h->count_is_float = false, h->count_int = f.v, h->count_float = 0;
            break;
        case 2:
            h->count_is_float = true, h->count_float = as_double(f.v), h->count_int = 0;
            break;
        case 3:
            h->sum = as_double(f.v);
            break;
        case 4:
            h->schema = unzigzag32(f.v);
            break;
        case 5:
            h->zero_threshold = as_double(f.v);
            break;
        case 6:
            h->zero_count_is_float = false, h->zero_count_int = f.v, h->zero_count_float = 0;
            break;
        case 7:
            h->zero_count_is_float = true, h->zero_count_float = as_double(f.v);
            h->zero_count_int = 0;
            break;
        case 14:
            h->reset_hint = (int32_t)(uint32_t)f.v;
            break;
        case 15:
            h->timestamp_ms = (int64_t)f.v;
            break;
        default:
            break;
        }
    }
}

sw_prompb_kind
sw_prompb_next_item(sw_prompb_iter *series, unsigned want, sw_prompb_item *item)
{
    /* TimeSeries field numbers to kinds: 1 labels, 2 samples, 4 histograms. */
    static const sw_prompb_kind kind_of[] = {SW_PROMPB_END, SW_PROMPB_LABEL, SW_PROMPB_SAMPLE,
                                             SW_PROMPB_END, SW_PROMPB_HISTOGRAM};
    field f;
    const char *why;
    while (next_field(series, &f, &why) == 1) {
        if (f.wt != WT_LEN || f.num > 4 || kind_of[f.num] == SW_PROMPB_END ||
            !(want & SW_PROMPB_WANT(kind_of[f.num])))
            continue;
        switch (f.num) {
        case 1:
            read_label(f.data, f.len, &item->label);
            return SW_PROMPB_LABEL;
        case 2:
            read_sample(f.data, f.len, &item->value, &item->timestamp_ms);
            return SW_PROMPB_SAMPLE;
        case 4:
            read_hist(f.data, f.len, &item->hist);
            return SW_PROMPB_HISTOGRAM;
        default:
            break;
        }
    }
    return SW_PROMPB_END;
}

size_t
sw_prompb_hist_spans(const sw_prompb_hist *h, bool negative, sw_prom_span *out, size_t cap,
                     uint64_t *ret_buckets)
{
    uint64_t buckets = 0;
    sw_prompb_iter it = sw_prompb_iter_of(h->p, h->len);
    field f;
    const char *why;
    size_t n = 0;
    uint32_t want = negative ? 8 : 11;
    while (next_field(&it, &f, &why) == 1) {
        if (f.num != want || f.wt != WT_LEN)
            continue;
        sw_prom_span s = {0, 0};
        sw_prompb_iter span = sw_prompb_iter_of(f.data, f.len);
        field g;
        while (next_field(&span, &g, &why) == 1) {
            if (g.num == 1 && g.wt == WT_VARINT)
                s.offset = unzigzag32(g.v);
            else if (g.num == 2 && g.wt == WT_VARINT)
                s.length = (uint32_t)g.v;
        }
        if (out != NULL && n < cap)
            out[n] = s;
        n++;
        if (__builtin_add_overflow(buckets, s.length, &buckets))
            buckets = UINT64_MAX;
    }
    if (ret_buckets != NULL)
        *ret_buckets = buckets;
    return n;
}

/* Elements in one occurrence of a repeated number field. */
static size_t
occurrence_count(const field *f, bool floats)
{
    if (f->wt != WT_LEN)
        return 1;
    if (floats)
        return f->len / 8;
    size_t n = 0;
    for (size_t i = 0; i < f->len; i++)
        n += f->data[i] < 0x80;
    return n;
}

void
sw_prompb_hist_sizes(const sw_prompb_hist *h, bool negative, size_t *ret_deltas, size_t *ret_counts)
{
    sw_prompb_iter it = sw_prompb_iter_of(h->p, h->len);
    field f;
    const char *why;
    uint32_t deltas = negative ? 9 : 12;
    *ret_deltas = *ret_counts = 0;
    while (next_field(&it, &f, &why) == 1) {
        if (f.num == deltas)
            *ret_deltas += occurrence_count(&f, false);
        else if (f.num == deltas + 1)
            *ret_counts += occurrence_count(&f, true);
    }
}

sw_prompb_values
sw_prompb_hist_values(const sw_prompb_hist *h, bool negative, bool floats)
{
    uint32_t deltas = negative ? 9 : 12;
    return (sw_prompb_values){sw_prompb_iter_of(h->p, h->len), NULL, NULL,
                              floats ? deltas + 1 : deltas};
}

/* The next element's raw bits: from the packed run being read, else from the next occurrence. */
static bool
next_value(sw_prompb_values *v, bool floats, uint64_t *bits)
{
    for (;;) {
        if (v->run != NULL && v->run < v->run_end) {
            if (floats) {
                *bits = le64(v->run);
                v->run += 8;
                return true;
            }
            size_t n = read_varint(v->run, v->run_end, bits);
            v->run = n ? v->run + n : v->run_end;
            if (n)
                return true;
        }
        field f;
        const char *why;
        do {
            if (next_field(&v->msg, &f, &why) != 1)
                return false;
        } while (f.num != v->field);
        if (f.wt != WT_LEN) {
            *bits = f.v;
            return true;
        }
        v->run = f.data;
        v->run_end = f.data + (floats ? f.len - f.len % 8 : f.len);
    }
}

bool
sw_prompb_next_delta(sw_prompb_values *v, int64_t *ret)
{
    uint64_t bits;
    if (!next_value(v, false, &bits))
        return false;
    *ret = unzigzag64(bits);
    return true;
}

bool
sw_prompb_next_count(sw_prompb_values *v, double *ret)
{
    uint64_t bits;
    if (!next_value(v, true, &bits))
        return false;
    *ret = as_double(bits);
    return true;
}
