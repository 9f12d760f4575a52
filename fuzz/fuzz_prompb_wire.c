/*
 * Fuzz target for the in-place WriteRequest reader (prompb_wire) on raw protobuf bytes,
 * against libprotobuf-c: both accept the same inputs, and on accepted ones the reader finds the
 * same series, labels, samples and histograms (with their spans, deltas and counts) as the
 * unpacked message holds. The reader allocates nothing, so its memory is bounded by the input.
 */
#include "fuzz.h"

#include "prompb.pb-c.h"
#include "slawatch/prompb_wire.h"

static void
check_hist(const sw_prompb_hist *h, const Prometheus__Histogram *ref)
{
    FUZZ_CHECK(h->count_is_float == (ref->count_case == PROMETHEUS__HISTOGRAM__COUNT_COUNT_FLOAT));
    FUZZ_CHECK(h->schema == ref->schema && h->timestamp_ms == ref->timestamp);
    for (int side = 0; side < 2; side++) {
        bool neg = side == 0;
        size_t deltas, counts;
        sw_prompb_hist_sizes(h, neg, &deltas, &counts);
        FUZZ_CHECK(deltas == (neg ? ref->n_negative_deltas : ref->n_positive_deltas));
        FUZZ_CHECK(counts == (neg ? ref->n_negative_counts : ref->n_positive_counts));
        FUZZ_CHECK(sw_prompb_hist_spans(h, neg, NULL, 0, NULL) ==
                   (neg ? ref->n_negative_spans : ref->n_positive_spans));
        sw_prompb_values v = sw_prompb_hist_values(h, neg, false);
        const int64_t *want = neg ? ref->negative_deltas : ref->positive_deltas;
        int64_t d;
        for (size_t i = 0; sw_prompb_next_delta(&v, &d); i++)
            FUZZ_CHECK(i < deltas && d == want[i]);
    }
}

static void
check_series(sw_prompb_iter ts, const Prometheus__TimeSeries *ref)
{
    sw_prompb_item it;
    sw_prompb_kind k;
    size_t labels = 0, samples = 0, hists = 0;
    while ((k = sw_prompb_next_item(&ts, SW_PROMPB_WANT_ALL, &it)) != SW_PROMPB_END) {
        if (k == SW_PROMPB_LABEL) {
            FUZZ_CHECK(labels < ref->n_labels);
            /* libprotobuf-c's strings end at a NUL: compare up to it. */
            const Prometheus__Label *l = ref->labels[labels++];
            size_t n = strlen(l->name);
            FUZZ_CHECK(n <= it.label.name_len && memcmp(it.label.name, l->name, n) == 0);
        } else if (k == SW_PROMPB_SAMPLE) {
            FUZZ_CHECK(samples < ref->n_samples);
            const Prometheus__Sample *s = ref->samples[samples++];
            FUZZ_CHECK(memcmp(&it.value, &s->value, sizeof it.value) == 0);
            FUZZ_CHECK(it.timestamp_ms == s->timestamp);
        } else {
            FUZZ_CHECK(hists < ref->n_histograms);
            check_hist(&it.hist, ref->histograms[hists++]);
        }
    }
    FUZZ_CHECK(labels == ref->n_labels && samples == ref->n_samples && hists == ref->n_histograms);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sw_err err = {0};
    sw_status st = sw_prompb_check(data, size, &err);
    Prometheus__WriteRequest *ref = prometheus__write_request__unpack(NULL, size, data);
    FUZZ_CHECK((st == SW_OK) == (ref != NULL));
    if (st != SW_OK) {
        fuzz_check_err(st, &err);
        return 0;
    }
    sw_prompb_iter req = sw_prompb_iter_of(data, size), ts;
    size_t n = 0;
    while (sw_prompb_next_series(&req, &ts)) {
        FUZZ_CHECK(n < ref->n_timeseries);
        check_series(ts, ref->timeseries[n++]);
    }
    FUZZ_CHECK(n == ref->n_timeseries);
    prometheus__write_request__free_unpacked(ref, NULL);
    return 0;
}
