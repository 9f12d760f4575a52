/*
 * The protobuf writer: each family is one varint-length-delimited MetricFamily message. A
 * family's series arrive one at a time, so the message is built in e->pb_family as its header
 * fields followed by one "field 4" entry per Metric (a repeated field may be written entry by
 * entry), and copied to the output when the family ends. Metrics are protobuf-c structs on
 * the stack pointing into the handle's scratch arrays; nothing is allocated per series.
 */
#include "expo_int.h"

#include <stdlib.h>
#include <string.h>

#include "slawatch/varint.h"

/* MetricFamily field 4 (metric), wire type 2 (length-delimited). */
#define TAG_METRIC ((4u << 3) | 2u)

/* Append m packed, preceded by its tag (when tag != 0) and length (when delimit). */
static void
append_message(sw_expo *e, sw_buf *b, unsigned tag, bool delimit, const ProtobufCMessage *m,
               sw_err *err)
{
    if (e->failed != SW_OK)
        return;
    uint8_t head[1 + SW_VARINT_MAX];
    size_t size = protobuf_c_message_get_packed_size(m), k = 0;
    if (tag != 0)
        head[k++] = (uint8_t)tag;
    if (delimit)
        k += sw_varint_put(head + k, size);
    if ((e->failed = sw_buf_reserve(b, k + size, err)) != SW_OK)
        return;
    memcpy(b->data + b->len, head, k);
    b->len += k;
    b->len += protobuf_c_message_pack(m, b->data + b->len);
}

static Io__Prometheus__Client__MetricType
pb_type(sw_expo_type type)
{
    switch (type) {
    case SW_EXPO_COUNTER:
        return IO__PROMETHEUS__CLIENT__METRIC_TYPE__COUNTER;
    case SW_EXPO_GAUGE:
        return IO__PROMETHEUS__CLIENT__METRIC_TYPE__GAUGE;
    case SW_EXPO_SUMMARY:
        return IO__PROMETHEUS__CLIENT__METRIC_TYPE__SUMMARY;
    case SW_EXPO_HISTOGRAM:
        break;
    }
    return IO__PROMETHEUS__CLIENT__METRIC_TYPE__HISTOGRAM;
}

void
expo_pb_family(sw_expo *e, const char *help, const char *unit, sw_err *err)
{
    /* protobuf-c wants char *; packing only reads the strings. */
    Io__Prometheus__Client__MetricFamily f = IO__PROMETHEUS__CLIENT__METRIC_FAMILY__INIT;
    f.name = e->name;
    f.help = (char *)help;
    f.unit = (char *)unit;
    f.has_type = true;
    f.type = pb_type(e->type);
    sw_buf_reset(&e->pb_family);
    append_message(e, &e->pb_family, 0, false, &f.base, err);
}

static void
set_labels(sw_expo *e, Io__Prometheus__Client__Metric *m, const sw_expo_label *labels, size_t n)
{
    static const expo_pb_label init = IO__PROMETHEUS__CLIENT__LABEL_PAIR__INIT;
    for (size_t i = 0; i < n; i++) {
        e->pb_labels[i] = init;
        e->pb_labels[i].name = (char *)labels[i].name;
        e->pb_labels[i].value = (char *)labels[i].value;
        e->pb_label_ptrs[i] = &e->pb_labels[i];
    }
    m->n_label = n;
    m->label = e->pb_label_ptrs;
}

void
expo_pb_sample(sw_expo *e, const sw_expo_label *labels, size_t n, double value, sw_err *err)
{
    Io__Prometheus__Client__Metric m = IO__PROMETHEUS__CLIENT__METRIC__INIT;
    Io__Prometheus__Client__Counter counter = IO__PROMETHEUS__CLIENT__COUNTER__INIT;
    Io__Prometheus__Client__Gauge gauge = IO__PROMETHEUS__CLIENT__GAUGE__INIT;
    set_labels(e, &m, labels, n);
    if (e->type == SW_EXPO_COUNTER) {
        counter.has_value = true;
        counter.value = value;
        m.counter = &counter;
    } else {
        gauge.has_value = true;
        gauge.value = value;
        m.gauge = &gauge;
    }
    append_message(e, &e->pb_family, TAG_METRIC, true, &m.base, err);
}

static sw_status
classic_buckets(sw_expo *e, Io__Prometheus__Client__Histogram *hist, const expo_hist *c,
                sw_err *err)
{
    static const expo_pb_bucket init = IO__PROMETHEUS__CLIENT__BUCKET__INIT;
    if (expo_grow((void **)&e->pb_buckets, &e->pb_buckets_cap, c->n_bounds,
                  sizeof *e->pb_buckets, err) != SW_OK ||
        expo_grow((void **)&e->pb_bucket_ptrs, &e->pb_bucket_ptrs_cap, c->n_bounds,
                  sizeof *e->pb_bucket_ptrs, err) != SW_OK)
        return SW_E_NOMEM;
    for (size_t i = 0; i < c->n_bounds; i++) {
        expo_pb_bucket *b = &e->pb_buckets[i];
        *b = init;
        b->has_cumulative_count = b->has_upper_bound = true;
        b->cumulative_count = c->cumulative[i];
        b->upper_bound = c->bounds[i];
        e->pb_bucket_ptrs[i] = b;
    }
    hist->n_bucket = c->n_bounds;
    hist->bucket = e->pb_bucket_ptrs;
    return SW_OK;
}

/* The positive buckets being built: spans and deltas in the handle's scratch. */
typedef struct native {
    size_t n_spans, n_deltas;
    int32_t last_index;
    int64_t last_count;
} native;

/* Room for n buckets: at most n spans and n deltas. */
static sw_status
grow_native(sw_expo *e, size_t n, sw_err *err)
{
    if (expo_grow((void **)&e->pb_deltas, &e->pb_deltas_cap, n, sizeof *e->pb_deltas, err) !=
            SW_OK ||
        expo_grow((void **)&e->pb_spans, &e->pb_spans_cap, n, sizeof *e->pb_spans, err) != SW_OK)
        return SW_E_NOMEM;
    return SW_OK;
}

/* protobuf-c takes repeated messages as pointers; set them once the spans stop moving. */
static sw_status
point_spans(sw_expo *e, size_t n_spans, sw_err *err)
{
    if (expo_grow((void **)&e->pb_span_ptrs, &e->pb_span_ptrs_cap, n_spans,
                  sizeof *e->pb_span_ptrs, err) != SW_OK)
        return SW_E_NOMEM;
    for (size_t i = 0; i < n_spans; i++)
        e->pb_span_ptrs[i] = &e->pb_spans[i];
    return SW_OK;
}

/* Add bucket index with count after the previous one: extend the span or start one. */
static void
emit_bucket(sw_expo *e, native *nb, int32_t index, int64_t count)
{
    int32_t gap = nb->n_deltas == 0 ? index : index - nb->last_index - 1;
    if (nb->n_deltas == 0 || gap != 0) {
        static const expo_pb_span init = IO__PROMETHEUS__CLIENT__BUCKET_SPAN__INIT;
        expo_pb_span *s = &e->pb_spans[nb->n_spans++];
        *s = init;
        s->has_offset = s->has_length = true;
        s->offset = gap;
        s->length = 0;
    }
    e->pb_spans[nb->n_spans - 1].length++;
    e->pb_deltas[nb->n_deltas++] = count - nb->last_count;
    nb->last_index = index;
    nb->last_count = count;
}

/* Spans and deltas of the native buckets expo_hist_build found. */
static sw_status
native_buckets(sw_expo *e, const expo_hist *c, Io__Prometheus__Client__Histogram *hist,
               sw_err *err)
{
    native nb = {0};
    if (grow_native(e, c->n_native, err) != SW_OK)
        return SW_E_NOMEM;
    for (size_t i = 0; i < c->n_native; i++)
        emit_bucket(e, &nb, c->native_index[i], (int64_t)c->native_count[i]);
    if (point_spans(e, nb.n_spans, err) != SW_OK)
        return SW_E_NOMEM;
    hist->has_schema = hist->has_zero_threshold = hist->has_zero_count = true;
    hist->schema = SW_EXPO_SCHEMA;
    hist->zero_threshold = EXPO_ZERO_THRESHOLD;
    hist->zero_count = c->zero_count;
    hist->n_positive_span = nb.n_spans;
    hist->positive_span = e->pb_span_ptrs;
    hist->n_positive_delta = nb.n_deltas;
    hist->positive_delta = e->pb_deltas;
    return SW_OK;
}

void
expo_pb_histogram(sw_expo *e, const sw_expo_label *labels, size_t n, const expo_hist *c,
                  sw_err *err)
{
    Io__Prometheus__Client__Metric m = IO__PROMETHEUS__CLIENT__METRIC__INIT;
    Io__Prometheus__Client__Histogram hist = IO__PROMETHEUS__CLIENT__HISTOGRAM__INIT;
    set_labels(e, &m, labels, n);
    hist.has_sample_count = hist.has_sample_sum = true;
    hist.sample_count = c->count;
    hist.sample_sum = c->sum;
    if ((e->failed = classic_buckets(e, &hist, c, err)) != SW_OK ||
        (e->failed = native_buckets(e, c, &hist, err)) != SW_OK)
        return;
    m.histogram = &hist;
    append_message(e, &e->pb_family, TAG_METRIC, true, &m.base, err);
}

void
expo_pb_summary(sw_expo *e, const sw_expo_label *labels, size_t n, const sw_expo_quantile *q,
                size_t n_q, double sum, uint64_t count, sw_err *err)
{
    static const Io__Prometheus__Client__Quantile init = IO__PROMETHEUS__CLIENT__QUANTILE__INIT;
    Io__Prometheus__Client__Quantile qs[SW_EXPO_QUANTILES_MAX]; /* expo.c checked n_q */
    Io__Prometheus__Client__Quantile *ptrs[SW_EXPO_QUANTILES_MAX];
    Io__Prometheus__Client__Metric m = IO__PROMETHEUS__CLIENT__METRIC__INIT;
    Io__Prometheus__Client__Summary summary = IO__PROMETHEUS__CLIENT__SUMMARY__INIT;
    set_labels(e, &m, labels, n);
    for (size_t i = 0; i < n_q; i++) {
        qs[i] = init;
        qs[i].has_quantile = qs[i].has_value = true;
        qs[i].quantile = q[i].quantile;
        qs[i].value = q[i].value;
        ptrs[i] = &qs[i];
    }
    summary.has_sample_count = summary.has_sample_sum = true;
    summary.sample_count = count;
    summary.sample_sum = sum;
    summary.n_quantile = n_q;
    summary.quantile = ptrs;
    m.summary = &summary;
    append_message(e, &e->pb_family, TAG_METRIC, true, &m.base, err);
}

void
expo_pb_finish(sw_expo *e, sw_err *err)
{
    uint8_t head[SW_VARINT_MAX];
    if (e->failed != SW_OK)
        return;
    size_t k = sw_varint_put(head, e->pb_family.len);
    if ((e->failed = sw_buf_reserve(e->out, k + e->pb_family.len, err)) != SW_OK)
        return;
    memcpy(e->out->data + e->out->len, head, k);
    if (e->pb_family.len > 0)
        memcpy(e->out->data + e->out->len + k, e->pb_family.data, e->pb_family.len);
    e->out->len += k + e->pb_family.len;
    sw_buf_reset(&e->pb_family);
}

void
expo_pb_fini(sw_expo *e)
{
    sw_buf_fini(&e->pb_family);
    free(e->pb_buckets);
    free(e->pb_bucket_ptrs);
    free(e->pb_spans);
    free(e->pb_span_ptrs);
    free(e->pb_deltas);
}
