/*
 * Unit tests for the remote-write encoder: the request is snappy-decompressed with libsnappy and
 * decoded with the protobuf-c code generated from proto/prompb.proto, then checked against the
 * values fed in. Native bucket placement is checked against the schema's definition (bucket i
 * of schema 8 holds (2^((i-1)/256), 2^(i/256)]) computed here, not by the code under test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <snappy-c.h>
#include <stdlib.h>
#include <string.h>

#include "prompb.pb-c.h"
#include "slawatch/rw_encode.h"

#define OUT_MAX (1u << 20)

/* Decompress and decode out; the caller frees with prometheus__write_request__free_unpacked. */
static Prometheus__WriteRequest *
decode(const sw_buf *out)
{
    size_t len;
    assert_int_equal(snappy_uncompressed_length((const char *)out->data, out->len, &len),
                     SNAPPY_OK);
    char *raw = malloc(len + 1);
    assert_non_null(raw);
    assert_int_equal(snappy_uncompress((const char *)out->data, out->len, raw, &len), SNAPPY_OK);
    Prometheus__WriteRequest *wr =
        prometheus__write_request__unpack(NULL, len, (const uint8_t *)raw);
    free(raw);
    assert_non_null(wr);
    return wr;
}

static const char *
label(const Prometheus__TimeSeries *ts, const char *name)
{
    for (size_t i = 0; i < ts->n_labels; i++)
        if (strcmp(ts->labels[i]->name, name) == 0)
            return ts->labels[i]->value;
    return NULL;
}

static const Prometheus__TimeSeries *
series_named(const Prometheus__WriteRequest *wr, const char *name, const char *service)
{
    for (size_t i = 0; i < wr->n_timeseries; i++) {
        const char *n = label(wr->timeseries[i], "__name__");
        const char *s = label(wr->timeseries[i], "service");
        if (n != NULL && s != NULL && strcmp(n, name) == 0 && strcmp(s, service) == 0)
            return wr->timeseries[i];
    }
    return NULL;
}

static void
test_float_series_grouped(void **state)
{
    (void)state;
    const sw_rw_label a_labels[] = {{"__name__", "x_total"}, {"env", "blue"}, {"service", "a"}};
    const sw_rw_label b_labels[] = {{"__name__", "x_total"}, {"service", "b"}};
    const sw_rw_series a = {a_labels, 3}, b = {b_labels, 2};
    /* Interleaved as the tick pushes them: each series must come out as one TimeSeries, its
     * samples in the order given. */
    const sw_rw_sample samples[] = {{&a, 1000, 5, NULL},
                                    {&b, 1000, 7, NULL},
                                    {&a, 2000, 9, NULL},
                                    {&b, 2000, 8, NULL},
                                    {&a, 3000, 12.5, NULL}};
    sw_buf out;
    sw_buf_init(&out, OUT_MAX);
    assert_int_equal(sw_rw_encode(samples, 5, &out, NULL), SW_OK);
    Prometheus__WriteRequest *wr = decode(&out);
    assert_int_equal(wr->n_timeseries, 2);
    const Prometheus__TimeSeries *ta = series_named(wr, "x_total", "a");
    const Prometheus__TimeSeries *tb = series_named(wr, "x_total", "b");
    assert_non_null(ta);
    assert_non_null(tb);
    assert_int_equal(ta->n_labels, 3);
    assert_string_equal(ta->labels[0]->name, "__name__");
    assert_string_equal(ta->labels[1]->name, "env");
    assert_string_equal(label(ta, "env"), "blue");
    assert_int_equal(ta->n_samples, 3);
    assert_int_equal(ta->n_histograms, 0);
    const double a_values[] = {5, 9, 12.5};
    for (size_t i = 0; i < 3; i++) {
        assert_true(ta->samples[i]->value == a_values[i]);
        assert_int_equal(ta->samples[i]->timestamp, 1000 * (int64_t)(i + 1));
    }
    assert_int_equal(tb->n_samples, 2);
    assert_true(tb->samples[0]->value == 7 && tb->samples[1]->value == 8);
    prometheus__write_request__free_unpacked(wr, NULL);
    sw_buf_fini(&out);
}

/* Absolute bucket counts back from spans and deltas, as a receiver reads them. */
static size_t
expand(const Prometheus__Histogram *h, int32_t *index, int64_t *counts, size_t cap)
{
    size_t n = 0, d = 0;
    int32_t at = 0;
    int64_t running = 0;
    for (size_t s = 0; s < h->n_positive_spans; s++) {
        at += h->positive_spans[s]->offset;
        for (uint32_t k = 0; k < h->positive_spans[s]->length; k++, at++) {
            assert_true(n < cap && d < h->n_positive_deltas);
            running += h->positive_deltas[d++];
            index[n] = at;
            counts[n++] = running;
        }
        /* the next span's offset counts from the bucket after this span's last */
    }
    assert_int_equal(d, h->n_positive_deltas);
    return n;
}

/* The schema-8 bucket holding x seconds, found by the definition's bounds. */
static int32_t
bucket_of(double x)
{
    int32_t i = (int32_t)floor(log2(x) * 256) - 2;
    while (!(exp2((i - 1) / 256.0) < x && x <= exp2(i / 256.0)))
        i++;
    return i;
}

static void
test_native_histogram(void **state)
{
    (void)state;
    sw_hdr *h;
    sw_expo *e;
    assert_int_equal(sw_hdr_new(&sw_hdr_latency_config, &h, NULL), SW_OK);
    assert_int_equal(sw_expo_new(&e, NULL), SW_OK);
    /* Values below 2048 us are exact in a 3-digit HDR, so each lands on its own bound. */
    const int64_t values_us[] = {1000, 1001, 1500, 2000};
    const int64_t counts[] = {5, 2, 3, 7};
    double sum = 0;
    for (size_t i = 0; i < 4; i++) {
        assert_true(sw_hdr_record_n(h, values_us[i], counts[i]));
        sum += (double)values_us[i] * 1e-6 * (double)counts[i];
    }
    sw_expo_native nat;
    sw_rw_hist *hist;
    assert_int_equal(sw_expo_native_of(e, h, 1e-6, &nat, NULL), SW_OK);
    assert_int_equal(sw_rw_hist_new(&nat, &hist, NULL), SW_OK);
    const sw_rw_label labels[] = {{"__name__", "lat_seconds"}, {"service", "api"}};
    const sw_rw_series series = {labels, 2};
    sw_rw_sample sample = {&series, 42000, 0, hist};
    sw_buf out;
    sw_buf_init(&out, OUT_MAX);
    assert_int_equal(sw_rw_encode(&sample, 1, &out, NULL), SW_OK);
    Prometheus__WriteRequest *wr = decode(&out);
    assert_int_equal(wr->n_timeseries, 1);
    const Prometheus__TimeSeries *ts = wr->timeseries[0];
    assert_int_equal(ts->n_samples, 0);
    assert_int_equal(ts->n_histograms, 1);
    const Prometheus__Histogram *ph = ts->histograms[0];
    assert_int_equal(ph->timestamp, 42000);
    assert_int_equal(ph->schema, 8);
    assert_int_equal(ph->count_case, PROMETHEUS__HISTOGRAM__COUNT_COUNT_INT);
    assert_int_equal(ph->count_int, 17);
    assert_int_equal(ph->zero_count_int, 0);
    assert_true(ph->zero_threshold > 0 && ph->zero_threshold < 1e-30);
    assert_true(fabs(ph->sum - sum) < 1e-12);
    /* 1000 us and 1001 us are 0.1 % apart: one schema-8 bucket (0.27 % wide) or two. */
    int32_t index[16];
    int64_t got[16];
    size_t n = expand(ph, index, got, 16);
    int64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t want = 0;
        for (size_t v = 0; v < 4; v++)
            want += bucket_of((double)values_us[v] * 1e-6) == index[i] ? counts[v] : 0;
        assert_int_equal(got[i], want);
        assert_true(want > 0);
        total += got[i];
    }
    assert_int_equal(total, 17);
    prometheus__write_request__free_unpacked(wr, NULL);
    sw_rw_hist_free(hist);
    sw_buf_fini(&out);
    sw_expo_free(e);
    sw_hdr_free(h);
}

/* Buckets far apart need several spans; the offsets must add up to each bucket's index. */
static void
test_native_spans(void **state)
{
    (void)state;
    int32_t index[] = {-2551, -2550, -2400, -100, 7};
    uint64_t counts[] = {4, 1, 9, 2, 30};
    sw_expo_native nat = {46, 0, 1.5, index, counts, 5};
    sw_rw_hist *hist;
    assert_int_equal(sw_rw_hist_new(&nat, &hist, NULL), SW_OK);
    const sw_rw_label labels[] = {{"__name__", "h"}};
    const sw_rw_series series = {labels, 1};
    sw_rw_sample sample = {&series, 1, 0, hist};
    sw_buf out;
    sw_buf_init(&out, OUT_MAX);
    assert_int_equal(sw_rw_encode(&sample, 1, &out, NULL), SW_OK);
    Prometheus__WriteRequest *wr = decode(&out);
    const Prometheus__Histogram *ph = wr->timeseries[0]->histograms[0];
    assert_int_equal(ph->n_positive_spans, 4);
    int32_t got_index[8];
    int64_t got[8];
    assert_int_equal(expand(ph, got_index, got, 8), 5);
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(got_index[i], index[i]);
        assert_int_equal(got[i], (int64_t)counts[i]);
    }
    prometheus__write_request__free_unpacked(wr, NULL);
    sw_rw_hist_free(hist);
    sw_buf_fini(&out);
}

static void
test_too_big(void **state)
{
    (void)state;
    const sw_rw_label labels[] = {{"__name__", "x_total"}};
    const sw_rw_series series = {labels, 1};
    sw_rw_sample samples[100];
    for (size_t i = 0; i < 100; i++)
        samples[i] = (sw_rw_sample){&series, (int64_t)i, (double)i, NULL};
    sw_buf out;
    sw_buf_init(&out, 64);
    sw_err err;
    assert_int_equal(sw_rw_encode(samples, 100, &out, &err), SW_E_TOOBIG);
    assert_int_equal(out.len, 0);
    sw_buf_fini(&out);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_float_series_grouped),
        cmocka_unit_test(test_native_histogram),
        cmocka_unit_test(test_native_spans),
        cmocka_unit_test(test_too_big),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
