/*
 * The protobuf exposition decoder: each varint-delimited MetricFamily is unpacked by protobuf-c
 * into an arena that is reset per message (protobuf-c's allocator hook), then walked to hand
 * the sink one sample per series, the way Prometheus turns a MetricFamily into series. One
 * call owns its arena; nothing is shared between calls or threads.
 */
#include "slawatch/promproto.h"

#include <math.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.pb-c.h"
#include "slawatch/arena.h"

typedef Io__Prometheus__Client__MetricFamily pb_family;
typedef Io__Prometheus__Client__Metric pb_metric;
typedef Io__Prometheus__Client__Histogram pb_histogram;
typedef Io__Prometheus__Client__BucketSpan pb_span;

#define VARINT_MAX 10
#define FLOAT_TEXT_MAX 32 /* "-1.2345678901234567e-308" and room to spare */

typedef struct decoder {
    const sw_prom_sink *sink;
    sw_arena arena;
    size_t used; /* bytes handed out for the current message */
    bool over;   /* an allocation was refused by the SW_PROMPROTO_MAX_DECODED cap */
    ProtobufCAllocator pb_alloc;
    const pb_family *family;
    sw_prom_type type;
    char *names[4]; /* the family's name and its _count, _sum and _bucket series */
    size_t name_lens[4];
    sw_prom_sample s;
    sw_prom_label *labels; /* the metric's own labels, one spare slot for le / quantile */
    size_t n_labels;
} decoder;

static void *
decoder_alloc(decoder *d, size_t size)
{
    if (size > SW_PROMPROTO_MAX_DECODED - d->used) {
        d->over = true;
        return NULL;
    }
    d->used += size;
    return sw_arena_alloc(&d->arena, size, alignof(max_align_t));
}

static void *
pb_alloc(void *data, size_t size)
{
    return decoder_alloc(data, size);
}

/* Everything lives until the arena is reset for the next message. */
static void
pb_free(void *data, void *ptr)
{
    (void)data;
    (void)ptr;
}

/* ---------------------------------------------------------------- names and numbers */

static bool
valid_metric_name(const char *name)
{
    if (name == NULL || name[0] == '\0' || (name[0] >= '0' && name[0] <= '9'))
        return false;
    for (const char *p = name; *p; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == ':';
        if (!ok)
            return false;
    }
    return true;
}

/*
 * A float as Prometheus spells le and quantile values: the shortest decimal that reads back as
 * the same double, in exponent form when the exponent is below -4 or at least 6 (Go's %g),
 * with ".0" added when neither a point nor an exponent shows.
 */
static void
format_label_float(double v, char out[FLOAT_TEXT_MAX])
{
    if (isnan(v)) {
        snprintf(out, FLOAT_TEXT_MAX, "NaN");
        return;
    }
    if (isinf(v)) {
        snprintf(out, FLOAT_TEXT_MAX, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    if (v == 0) { /* -0 too, as Go compares it */
        snprintf(out, FLOAT_TEXT_MAX, "0.0");
        return;
    }
    int digits = 1;
    for (; digits < 17; digits++) {
        snprintf(out, FLOAT_TEXT_MAX, "%.*e", digits - 1, v);
        if (strtod(out, NULL) == v)
            break;
    }
    snprintf(out, FLOAT_TEXT_MAX, "%.*e", digits - 1, v);
    long exp10 = strtol(strchr(out, 'e') + 1, NULL, 10);
    if (exp10 >= -4 && exp10 < 6) {
        long decimals = digits - 1 - exp10;
        snprintf(out, FLOAT_TEXT_MAX, "%.*f", decimals > 0 ? (int)decimals : 0, v);
    }
    if (strpbrk(out, ".e") == NULL)
        strcat(out, ".0");
}

/* ---------------------------------------------------------------- emitting samples */

enum series_name { NAME_PLAIN, NAME_COUNT, NAME_SUM, NAME_BUCKET };

static const char *const name_suffixes[4] = {"", "_count", "_sum", "_bucket"};

static sw_status
out_of_memory(const decoder *d, const char *what, sw_err *err)
{
    if (d->over)
        return sw_err_set(err, SW_E_TOOBIG, "decoded message exceeds %zu bytes (at %s)",
                          SW_PROMPROTO_MAX_DECODED, what);
    return sw_err_set(err, SW_E_NOMEM, "out of memory for %s", what);
}

/* The series names a family's samples take, built once per family. */
static sw_status
make_names(decoder *d, sw_err *err)
{
    size_t base_len = strlen(d->family->name);
    for (int i = 0; i < 4; i++) {
        size_t suffix_len = strlen(name_suffixes[i]);
        d->names[i] = decoder_alloc(d, base_len + suffix_len + 1);
        if (d->names[i] == NULL)
            return out_of_memory(d, "series names", err);
        memcpy(d->names[i], d->family->name, base_len);
        memcpy(d->names[i] + base_len, name_suffixes[i], suffix_len + 1);
        d->name_lens[i] = base_len + suffix_len;
    }
    return SW_OK;
}

/* Hand the sink one sample of the series name, with extra_name=extra_value when given. */
static sw_status
emit(decoder *d, enum series_name name, double value, const char *extra_name, double extra_value,
     sw_err *err)
{
    char text[FLOAT_TEXT_MAX];
    size_t n = d->n_labels;
    if (extra_name != NULL) {
        format_label_float(extra_value, text);
        d->labels[n++] = (sw_prom_label){extra_name, text, strlen(extra_name), strlen(text)};
    }
    d->s.name = d->names[name];
    d->s.name_len = d->name_lens[name];
    d->s.labels = d->labels;
    d->s.n_labels = n;
    d->s.value = value;
    return d->sink->sample(d->sink->ctx, &d->s, err);
}

static sw_status
emit_summary(decoder *d, const Io__Prometheus__Client__Summary *sm, sw_err *err)
{
    Io__Prometheus__Client__Summary empty = IO__PROMETHEUS__CLIENT__SUMMARY__INIT;
    if (sm == NULL)
        sm = &empty;
    sw_status st = emit(d, NAME_COUNT, (double)sm->sample_count, NULL, 0, err);
    if (st == SW_OK)
        st = emit(d, NAME_SUM, sm->sample_sum, NULL, 0, err);
    for (size_t i = 0; i < sm->n_quantile && st == SW_OK; i++)
        st =
            emit(d, NAME_PLAIN, sm->quantile[i]->value, "quantile", sm->quantile[i]->quantile, err);
    return st;
}

/* A float count wins when set (> 0), as Prometheus reads them. */
static double
pick_count(double float_count, uint64_t int_count)
{
    return float_count > 0 ? float_count : (double)int_count;
}

static sw_status
emit_classic(decoder *d, const pb_histogram *h, sw_err *err)
{
    double count = pick_count(h->sample_count_float, h->sample_count);
    sw_status st = emit(d, NAME_COUNT, count, NULL, 0, err);
    if (st == SW_OK)
        st = emit(d, NAME_SUM, h->sample_sum, NULL, 0, err);
    bool has_inf = false;
    for (size_t i = 0; i < h->n_bucket && st == SW_OK && !has_inf; i++) {
        const Io__Prometheus__Client__Bucket *b = h->bucket[i];
        has_inf = isinf(b->upper_bound) && b->upper_bound > 0;
        st = emit(d, NAME_BUCKET, pick_count(b->cumulative_count_float, b->cumulative_count), "le",
                  b->upper_bound, err);
    }
    if (st == SW_OK && !has_inf)
        st = emit(d, NAME_BUCKET, count, "le", INFINITY, err);
    return st;
}

/* Prometheus' test: spans, a zero threshold or a zero count make a histogram native. */
static bool
has_native_part(const pb_histogram *h)
{
    return h->n_positive_span > 0 || h->n_negative_span > 0 || h->zero_threshold > 0 ||
           h->zero_count > 0;
}

/* Spans as sw_prom_span; the number of buckets they cover in *n_buckets. */
static sw_status
convert_spans(decoder *d, pb_span *const *in, size_t n, const sw_prom_span **out, size_t *n_buckets,
              sw_err *err)
{
    sw_prom_span *spans = decoder_alloc(d, n * sizeof *spans + 1);
    if (spans == NULL)
        return out_of_memory(d, "spans", err);
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        spans[i] = (sw_prom_span){in[i]->offset, in[i]->length};
        total += in[i]->length;
    }
    *out = spans;
    *n_buckets = (size_t)total;
    if (total > SIZE_MAX / sizeof(double))
        return sw_err_set(err, SW_E_PARSE, "spans cover %llu buckets", (unsigned long long)total);
    return SW_OK;
}

/* Absolute counts: the float counts as given, or the running sum of the integer deltas. */
static sw_status
absolute_counts(decoder *d, const int64_t *deltas, size_t n_deltas, const double *floats,
                size_t n_floats, bool is_float, size_t n_buckets, const double **out, sw_err *err)
{
    size_t n = is_float ? n_floats : n_deltas;
    if (n != n_buckets)
        return sw_err_set(err, SW_E_PARSE, "spans cover %zu buckets but %zu counts are given",
                          n_buckets, n);
    if (is_float) {
        *out = floats;
        return SW_OK;
    }
    double *counts = decoder_alloc(d, n * sizeof *counts + 1);
    if (counts == NULL)
        return out_of_memory(d, "bucket counts", err);
    int64_t running = 0;
    for (size_t i = 0; i < n; i++) {
        /* running stays >= 0, so only a positive delta can overflow. */
        if (deltas[i] > INT64_MAX - running || running + deltas[i] < 0)
            return sw_err_set(err, SW_E_PARSE, "bucket %zu: count out of range", i);
        running += deltas[i];
        counts[i] = (double)running;
    }
    *out = counts;
    return SW_OK;
}

static sw_status
emit_native(decoder *d, const pb_histogram *h, sw_err *err)
{
    if (h->schema < -4 || h->schema > 8)
        return sw_err_set(err, SW_E_PARSE, "native histogram schema %d outside -4 ... 8",
                          (int)h->schema);
    bool is_float = h->sample_count_float > 0 || h->zero_count_float > 0;
    sw_prom_native n = {
        .schema = h->schema,
        .zero_threshold = h->zero_threshold,
        .zero_count = pick_count(h->zero_count_float, h->zero_count),
        .count = pick_count(h->sample_count_float, h->sample_count),
        .sum = h->sample_sum,
        .gauge = d->type == SW_PROM_GAUGEHISTOGRAM,
    };
    size_t n_pos = 0, n_neg = 0;
    sw_status st =
        convert_spans(d, h->positive_span, h->n_positive_span, &n.pos_spans, &n_pos, err);
    if (st == SW_OK)
        st = convert_spans(d, h->negative_span, h->n_negative_span, &n.neg_spans, &n_neg, err);
    if (st == SW_OK)
        st = absolute_counts(d, h->positive_delta, h->n_positive_delta, h->positive_count,
                             h->n_positive_count, is_float, n_pos, &n.pos_counts, err);
    if (st == SW_OK)
        st = absolute_counts(d, h->negative_delta, h->n_negative_delta, h->negative_count,
                             h->n_negative_count, is_float, n_neg, &n.neg_counts, err);
    if (st != SW_OK)
        return st;
    n.n_pos_spans = h->n_positive_span;
    n.n_neg_spans = h->n_negative_span;
    n.n_pos_counts = n_pos;
    n.n_neg_counts = n_neg;
    d->s.name = d->names[NAME_PLAIN];
    d->s.name_len = d->name_lens[NAME_PLAIN];
    d->s.labels = d->labels;
    d->s.n_labels = d->n_labels;
    d->s.value = 0;
    return d->sink->native(d->sink->ctx, &d->s, &n, err);
}

static sw_status
emit_histogram(decoder *d, const pb_histogram *h, sw_err *err)
{
    pb_histogram empty = IO__PROMETHEUS__CLIENT__HISTOGRAM__INIT;
    if (h == NULL)
        h = &empty;
    if (d->sink->native != NULL && has_native_part(h))
        return emit_native(d, h, err);
    return emit_classic(d, h, err);
}

/* ---------------------------------------------------------------- families */

static sw_status
set_labels(decoder *d, const pb_metric *m, sw_err *err)
{
    d->labels = decoder_alloc(d, (m->n_label + 1) * sizeof *d->labels);
    if (d->labels == NULL)
        return out_of_memory(d, "labels", err);
    for (size_t i = 0; i < m->n_label; i++) {
        const char *name = m->label[i]->name, *value = m->label[i]->value;
        if (name == NULL || name[0] == '\0')
            return sw_err_set(err, SW_E_PARSE, "label %zu has no name", i);
        if (value == NULL)
            value = "";
        d->labels[i] = (sw_prom_label){name, value, strlen(name), strlen(value)};
    }
    d->n_labels = m->n_label;
    return SW_OK;
}

static sw_status
emit_metric(decoder *d, const pb_metric *m, sw_err *err)
{
    sw_status st = set_labels(d, m, err);
    if (st != SW_OK)
        return st;
    d->s.type = d->type;
    d->s.has_timestamp = m->has_timestamp_ms;
    d->s.timestamp_ms = m->timestamp_ms;
    switch (d->type) {
    case SW_PROM_COUNTER:
        return emit(d, NAME_PLAIN, m->counter != NULL ? m->counter->value : 0, NULL, 0, err);
    case SW_PROM_GAUGE:
        return emit(d, NAME_PLAIN, m->gauge != NULL ? m->gauge->value : 0, NULL, 0, err);
    case SW_PROM_SUMMARY:
        return emit_summary(d, m->summary, err);
    case SW_PROM_HISTOGRAM:
    case SW_PROM_GAUGEHISTOGRAM:
        return emit_histogram(d, m->histogram, err);
    default:
        return emit(d, NAME_PLAIN, m->untyped != NULL ? m->untyped->value : 0, NULL, 0, err);
    }
}

static sw_status
family_type(const pb_family *f, sw_prom_type *type, sw_err *err)
{
    switch (f->type) {
    case IO__PROMETHEUS__CLIENT__METRIC_TYPE__COUNTER:
        *type = SW_PROM_COUNTER;
        return SW_OK;
    case IO__PROMETHEUS__CLIENT__METRIC_TYPE__GAUGE:
        *type = SW_PROM_GAUGE;
        return SW_OK;
    case IO__PROMETHEUS__CLIENT__METRIC_TYPE__SUMMARY:
        *type = SW_PROM_SUMMARY;
        return SW_OK;
    case IO__PROMETHEUS__CLIENT__METRIC_TYPE__UNTYPED:
        *type = SW_PROM_UNKNOWN;
        return SW_OK;
    case IO__PROMETHEUS__CLIENT__METRIC_TYPE__HISTOGRAM:
        *type = SW_PROM_HISTOGRAM;
        return SW_OK;
    case IO__PROMETHEUS__CLIENT__METRIC_TYPE__GAUGE_HISTOGRAM:
        *type = SW_PROM_GAUGEHISTOGRAM;
        return SW_OK;
    default:
        return sw_err_set(err, SW_E_PARSE, "family %s: unknown metric type %d", f->name,
                          (int)f->type);
    }
}

static sw_status
decode_family(decoder *d, const uint8_t *msg, size_t len, sw_err *err)
{
    sw_arena_reset(&d->arena);
    d->used = 0;
    d->over = false;
    const pb_family *f = (const pb_family *)protobuf_c_message_unpack(
        &io__prometheus__client__metric_family__descriptor, &d->pb_alloc, len, msg);
    if (f == NULL && d->over)
        return out_of_memory(d, "MetricFamily", err);
    if (f == NULL)
        return sw_err_set(err, SW_E_PARSE, "not a valid MetricFamily message");
    if (!valid_metric_name(f->name))
        return sw_err_set(err, SW_E_PARSE, "invalid metric name \"%s\"",
                          f->name != NULL ? f->name : "");
    d->family = f;
    sw_status st = family_type(f, &d->type, err);
    if (st == SW_OK)
        st = make_names(d, err);
    for (size_t i = 0; i < f->n_metric && st == SW_OK; i++) {
        st = emit_metric(d, f->metric[i], err);
        if (st != SW_OK)
            sw_err_prefix(err, "family %s, metric %zu", f->name, i);
    }
    return st;
}

/* ---------------------------------------------------------------- framing */

/* The varint length prefix at p[0..avail): its size in *head, the message's length in *len. */
static sw_status
read_length(const uint8_t *p, size_t avail, size_t *head, size_t *len, sw_err *err)
{
    uint64_t v = 0;
    for (size_t i = 0; i < VARINT_MAX && i < avail; i++) {
        v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
        if (v > SW_PROMPROTO_MAX_MESSAGE)
            return sw_err_set(err, SW_E_TOOBIG, "message longer than %zu bytes",
                              SW_PROMPROTO_MAX_MESSAGE);
        if ((p[i] & 0x80) == 0) {
            *head = i + 1;
            *len = (size_t)v;
            if (*len > avail - *head)
                return sw_err_set(err, SW_E_PARSE, "truncated: %zu-byte message, %zu bytes left",
                                  *len, avail - *head);
            return SW_OK;
        }
    }
    return sw_err_set(err, SW_E_PARSE, "truncated or overlong length prefix");
}

sw_status
sw_promproto_parse(const uint8_t *buf, size_t len, const sw_prom_sink *sink, size_t *err_offset,
                   sw_err *err)
{
    decoder d = {.sink = sink};
    sw_arena_init(&d.arena);
    d.pb_alloc = (ProtobufCAllocator){.alloc = pb_alloc, .free = pb_free, .allocator_data = &d};
    sw_status st = SW_OK;
    size_t pos = 0;
    while (pos < len) {
        size_t head = 0, msg_len = 0;
        st = read_length(buf + pos, len - pos, &head, &msg_len, err);
        if (st == SW_OK)
            st = decode_family(&d, buf + pos + head, msg_len, err);
        if (st != SW_OK) {
            sw_err_prefix(err, "protobuf exposition: message at byte %zu", pos);
            if (err_offset != NULL)
                *err_offset = pos;
            break;
        }
        pos += head + msg_len;
    }
    sw_arena_fini(&d.arena);
    return st;
}
