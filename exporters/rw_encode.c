/*
 * The remote-write request encoder: protobuf-c messages laid out in one arena per request
 * (nothing outlives the call), packed, then snappy compressed. Histogram buckets go out as
 * Prometheus sends them: spans of consecutive buckets, the first count absolute and each next
 * one as its difference from the previous bucket.
 */
#include "slawatch/rw_encode.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prompb.pb-c.h"
#include "slawatch/arena.h"
#include "slawatch/snappy.h"

/* Values at or below it are in the zero bucket (see sw_expo_native). */
#define RW_ZERO_THRESHOLD 0x1p-128

sw_status
sw_rw_hist_new(const sw_expo_native *nat, sw_rw_hist **ret, sw_err *err)
{
    size_t bytes = sizeof(sw_rw_hist) + nat->n * (sizeof(uint64_t) + sizeof(int32_t));
    sw_rw_hist *h = malloc(bytes);
    if (h == NULL)
        return sw_err_set(err, SW_E_NOMEM, "remote write: out of memory for a histogram");
    /* counts first after the header: uint64_t alignment holds for both arrays. */
    h->counts = (uint64_t *)(void *)(h + 1);
    h->index = (int32_t *)(void *)(h->counts + nat->n);
    h->count = nat->count;
    h->zero_count = nat->zero_count;
    h->sum = nat->sum;
    h->n = nat->n;
    if (nat->n > 0) {
        memcpy(h->counts, nat->counts, nat->n * sizeof *h->counts);
        memcpy(h->index, nat->index, nat->n * sizeof *h->index);
    }
    *ret = h;
    return SW_OK;
}

void
sw_rw_hist_free(sw_rw_hist *h)
{
    free(h);
}

/* Position in the batch, grouped by series. */
typedef struct rw_order {
    uintptr_t series;
    size_t pos;
} rw_order;

static int
order_cmp(const void *a, const void *b)
{
    const rw_order *x = a, *y = b;
    if (x->series != y->series)
        return x->series < y->series ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static void *
alloc_n(sw_arena *a, size_t n, size_t size)
{
    return sw_arena_alloc(a, (n > 0 ? n : 1) * size, 8);
}

static bool
fill_spans(sw_arena *a, const sw_rw_hist *h, Prometheus__Histogram *ph)
{
    Prometheus__BucketSpan *spans = alloc_n(a, h->n, sizeof *spans);
    Prometheus__BucketSpan **span_ptrs = alloc_n(a, h->n, sizeof *span_ptrs);
    int64_t *deltas = alloc_n(a, h->n, sizeof *deltas);
    if (spans == NULL || span_ptrs == NULL || deltas == NULL)
        return false;
    size_t n_spans = 0;
    for (size_t i = 0; i < h->n; i++) {
        int32_t gap = i == 0 ? h->index[0] : h->index[i] - h->index[i - 1] - 1;
        if (i == 0 || gap != 0) {
            prometheus__bucket_span__init(&spans[n_spans]);
            spans[n_spans].offset = gap;
            span_ptrs[n_spans] = &spans[n_spans];
            n_spans++;
        }
        spans[n_spans - 1].length++;
        deltas[i] = (int64_t)h->counts[i] - (i == 0 ? 0 : (int64_t)h->counts[i - 1]);
    }
    ph->n_positive_spans = n_spans;
    ph->positive_spans = span_ptrs;
    ph->n_positive_deltas = h->n;
    ph->positive_deltas = deltas;
    return true;
}

static bool
fill_histogram(sw_arena *a, const sw_rw_sample *s, Prometheus__Histogram *ph)
{
    prometheus__histogram__init(ph);
    ph->count_case = PROMETHEUS__HISTOGRAM__COUNT_COUNT_INT;
    ph->count_int = s->hist->count;
    ph->sum = s->hist->sum;
    ph->schema = SW_EXPO_SCHEMA;
    ph->zero_threshold = RW_ZERO_THRESHOLD;
    ph->zero_count_case = PROMETHEUS__HISTOGRAM__ZERO_COUNT_ZERO_COUNT_INT;
    ph->zero_count_int = s->hist->zero_count;
    ph->timestamp = s->ts_ms;
    return fill_spans(a, s->hist, ph);
}

static bool
fill_labels(sw_arena *a, const sw_rw_series *series, Prometheus__TimeSeries *ts)
{
    Prometheus__Label *labels = alloc_n(a, series->n_labels, sizeof *labels);
    Prometheus__Label **ptrs = alloc_n(a, series->n_labels, sizeof *ptrs);
    if (labels == NULL || ptrs == NULL)
        return false;
    for (size_t i = 0; i < series->n_labels; i++) {
        prometheus__label__init(&labels[i]);
        /* protobuf-c's message fields are not const; packing only reads them. */
        labels[i].name = (char *)(uintptr_t)series->labels[i].name;
        labels[i].value = (char *)(uintptr_t)series->labels[i].value;
        ptrs[i] = &labels[i];
    }
    ts->n_labels = series->n_labels;
    ts->labels = ptrs;
    return true;
}

/* One TimeSeries from the group of samples at order[0..n), all of one series. */
static bool
fill_series(sw_arena *a, const sw_rw_sample *samples, const rw_order *order, size_t n,
            Prometheus__TimeSeries *ts)
{
    prometheus__time_series__init(ts);
    Prometheus__Sample *fs = alloc_n(a, n, sizeof *fs);
    Prometheus__Sample **fs_ptrs = alloc_n(a, n, sizeof *fs_ptrs);
    Prometheus__Histogram *hs = alloc_n(a, n, sizeof *hs);
    Prometheus__Histogram **hs_ptrs = alloc_n(a, n, sizeof *hs_ptrs);
    if (fs == NULL || fs_ptrs == NULL || hs == NULL || hs_ptrs == NULL ||
        !fill_labels(a, samples[order[0].pos].series, ts))
        return false;
    ts->samples = fs_ptrs;
    ts->histograms = hs_ptrs;
    for (size_t i = 0; i < n; i++) {
        const sw_rw_sample *s = &samples[order[i].pos];
        if (s->hist != NULL) {
            if (!fill_histogram(a, s, &hs[ts->n_histograms]))
                return false;
            hs_ptrs[ts->n_histograms] = &hs[ts->n_histograms];
            ts->n_histograms++;
            continue;
        }
        prometheus__sample__init(&fs[ts->n_samples]);
        fs[ts->n_samples].value = s->value;
        fs[ts->n_samples].timestamp = s->ts_ms;
        fs_ptrs[ts->n_samples] = &fs[ts->n_samples];
        ts->n_samples++;
    }
    return true;
}

static bool
fill_request(sw_arena *a, const sw_rw_sample *samples, size_t n, Prometheus__WriteRequest *wr)
{
    rw_order *order = alloc_n(a, n, sizeof *order);
    Prometheus__TimeSeries *ts = alloc_n(a, n, sizeof *ts);
    Prometheus__TimeSeries **ts_ptrs = alloc_n(a, n, sizeof *ts_ptrs);
    if (order == NULL || ts == NULL || ts_ptrs == NULL)
        return false;
    for (size_t i = 0; i < n; i++)
        order[i] = (rw_order){(uintptr_t)samples[i].series, i};
    qsort(order, n, sizeof *order, order_cmp);
    prometheus__write_request__init(wr);
    wr->timeseries = ts_ptrs;
    for (size_t i = 0, end; i < n; i = end) {
        for (end = i + 1; end < n && order[end].series == order[i].series; end++)
            ;
        if (!fill_series(a, samples, &order[i], end - i, &ts[wr->n_timeseries]))
            return false;
        ts_ptrs[wr->n_timeseries] = &ts[wr->n_timeseries];
        wr->n_timeseries++;
    }
    return true;
}

sw_status
sw_rw_encode(const sw_rw_sample *samples, size_t n, sw_buf *out, sw_err *err)
{
    sw_arena a;
    sw_arena_init(&a);
    Prometheus__WriteRequest wr;
    sw_status st = SW_OK;
    uint8_t *packed = NULL;
    if (!fill_request(&a, samples, n, &wr)) {
        st = sw_err_set(err, SW_E_NOMEM, "remote write: out of memory encoding %zu samples", n);
        goto out;
    }
    size_t len = prometheus__write_request__get_packed_size(&wr);
    packed = malloc(len > 0 ? len : 1);
    if (packed == NULL) {
        st = sw_err_set(err, SW_E_NOMEM, "remote write: out of memory packing %zu bytes", len);
        goto out;
    }
    prometheus__write_request__pack(&wr, packed);
    size_t room = sw_snappy_max_compressed_len(len);
    st = sw_buf_reserve(out, room, err);
    if (st == SW_OK)
        st = sw_snappy_compress(packed, len, out->data + out->len, &room, err);
    if (st == SW_OK)
        out->len += room;
out:
    free(packed);
    sw_arena_fini(&a);
    return st;
}
