/*
 * Unit tests for the remote-write decoder: requests built here with protobuf-c's encoder and
 * wrapped in snappy literals written from the format notes (not with the code under test),
 * read back through a sink that prints what it was given; native histograms with int deltas
 * and float counts; truncated, garbage and invalid input and every cap refused with the sink
 * untouched.
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
#include "slawatch/rw_recv.h"
#include "snappy_literals.h"

/* ------------------------------------------------------------------ building requests */

static uint8_t *
pack_body(const Prometheus__WriteRequest *req, size_t *ret_len)
{
    size_t n = prometheus__write_request__get_packed_size(req);
    uint8_t *raw = malloc(n + 1);
    prometheus__write_request__pack(req, raw);
    uint8_t *body = snappy_literals(raw, n, ret_len);
    free(raw);
    return body;
}

#define LABEL(n, v)                                                                                \
    {                                                                                              \
        PROTOBUF_C_MESSAGE_INIT(&prometheus__label__descriptor), (char *)(n), (char *)(v)          \
    }
#define SAMPLE(v, t)                                                                               \
    {                                                                                              \
        PROTOBUF_C_MESSAGE_INIT(&prometheus__sample__descriptor), (v), (t)                         \
    }

/* ------------------------------------------------------------------ a sink that prints */

typedef struct rec {
    sw_buf out;
    int fail_at; /* return an error at this call (1-based); 0: never */
    int calls;
} rec;

static void
put_head(rec *r, const sw_prom_sample *s)
{
    sw_buf_printf(&r->out, NULL, "%.*s{", (int)s->name_len, s->name);
    for (size_t i = 0; i < s->n_labels; i++)
        sw_buf_printf(&r->out, NULL, "%s%.*s=\"%.*s\"", i ? "," : "", (int)s->labels[i].name_len,
                      s->labels[i].name, (int)s->labels[i].value_len, s->labels[i].value);
    sw_buf_printf(&r->out, NULL, "}");
}

static sw_status
rec_sample(void *ctx, const sw_prom_sample *s, sw_err *err)
{
    rec *r = ctx;
    if (++r->calls == r->fail_at)
        return sw_err_set(err, SW_E_NOMEM, "sink full");
    put_head(r, s);
    sw_buf_printf(&r->out, NULL, " %g %lld%s\n", s->value, (long long)s->timestamp_ms,
                  s->has_timestamp ? "" : " no-ts");
    return SW_OK;
}

static void
put_side(rec *r, const char *what, const sw_prom_span *sp, size_t n_sp, const double *c, size_t n)
{
    sw_buf_printf(&r->out, NULL, " %s=", what);
    for (size_t i = 0; i < n_sp; i++)
        sw_buf_printf(&r->out, NULL, "%s%d:%u", i ? "," : "", (int)sp[i].offset, sp[i].length);
    sw_buf_printf(&r->out, NULL, "[");
    for (size_t i = 0; i < n; i++)
        sw_buf_printf(&r->out, NULL, "%s%g", i ? " " : "", c[i]);
    sw_buf_printf(&r->out, NULL, "]");
}

static sw_status
rec_native(void *ctx, const sw_prom_sample *s, const sw_prom_native *h, sw_err *err)
{
    rec *r = ctx;
    if (++r->calls == r->fail_at)
        return sw_err_set(err, SW_E_NOMEM, "sink full");
    put_head(r, s);
    sw_buf_printf(&r->out, NULL, " H@%lld schema=%d zt=%g zc=%g count=%g sum=%g",
                  (long long)s->timestamp_ms, (int)h->schema, h->zero_threshold, h->zero_count,
                  h->count, h->sum);
    put_side(r, "pos", h->pos_spans, h->n_pos_spans, h->pos_counts, h->n_pos_counts);
    put_side(r, "neg", h->neg_spans, h->n_neg_spans, h->neg_counts, h->n_neg_counts);
    sw_buf_printf(&r->out, NULL, "%s%s\n", h->counter_reset ? " reset" : "",
                  h->gauge ? " gauge" : "");
    return SW_OK;
}

static int
setup(void **state)
{
    rec *r = calloc(1, sizeof *r);
    sw_buf_init(&r->out, 1 << 20);
    *state = r;
    return 0;
}

static int
teardown(void **state)
{
    rec *r = *state;
    sw_buf_fini(&r->out);
    free(r);
    return 0;
}

static sw_status
decode(rec *r, const uint8_t *body, size_t len, const sw_rw_limits *lim, sw_rw_counts *c,
       sw_err *err)
{
    sw_prom_sink sink = {r, rec_sample, rec_native};
    return sw_rw_recv_decode(body, len, lim, &sink, c, err);
}

static const char *
text(rec *r)
{
    return sw_buf_cstr(&r->out, NULL);
}

/* ------------------------------------------------------------------ samples */

/* Two series; the second's labels unsorted with __name__ last. */
static Prometheus__WriteRequest *
two_series(void)
{
    static Prometheus__Label la[] = {LABEL("__name__", "http_requests_total"), LABEL("code", "500"),
                                     LABEL("job", "api")};
    static Prometheus__Label lb[] = {LABEL("le", "0.25"), LABEL("job", "api"),
                                     LABEL("__name__", "http_duration_seconds_bucket")};
    static Prometheus__Sample sa[] = {SAMPLE(10, 1760000000000), SAMPLE(12.5, 1760000015000),
                                      SAMPLE(11, 1760000005000)};
    static Prometheus__Sample sb[] = {SAMPLE(-0.5, -1)};
    static Prometheus__Label *pla[] = {&la[0], &la[1], &la[2]};
    static Prometheus__Label *plb[] = {&lb[0], &lb[1], &lb[2]};
    static Prometheus__Sample *psa[] = {&sa[0], &sa[1], &sa[2]};
    static Prometheus__Sample *psb[] = {&sb[0]};
    static Prometheus__TimeSeries ts[2] = {PROMETHEUS__TIME_SERIES__INIT,
                                           PROMETHEUS__TIME_SERIES__INIT};
    static Prometheus__TimeSeries *pts[] = {&ts[0], &ts[1]};
    static Prometheus__WriteRequest req = PROMETHEUS__WRITE_REQUEST__INIT;
    ts[0].n_labels = 3, ts[0].labels = pla, ts[0].n_samples = 3, ts[0].samples = psa;
    ts[1].n_labels = 3, ts[1].labels = plb, ts[1].n_samples = 1, ts[1].samples = psb;
    req.n_timeseries = 2, req.timeseries = pts;
    return &req;
}

static void
test_samples(void **state)
{
    rec *r = *state;
    size_t len;
    uint8_t *body = pack_body(two_series(), &len);
    sw_rw_counts c;
    sw_err err;
    assert_int_equal(decode(r, body, len, NULL, &c, &err), SW_OK);
    /* Samples in the order given (the map drops out-of-order ones, not the decoder). */
    assert_string_equal(text(r),
                        "http_requests_total{code=\"500\",job=\"api\"} 10 1760000000000\n"
                        "http_requests_total{code=\"500\",job=\"api\"} 12.5 1760000015000\n"
                        "http_requests_total{code=\"500\",job=\"api\"} 11 1760000005000\n"
                        "http_duration_seconds_bucket{le=\"0.25\",job=\"api\"} -0.5 -1\n");
    assert_int_equal(c.series, 2);
    assert_int_equal(c.samples, 4);
    assert_int_equal(c.histograms, 0);
    free(body);
}

static void
test_empty_request(void **state)
{
    rec *r = *state;
    static const uint8_t body[] = {0x00}; /* snappy: length 0, no elements */
    sw_rw_counts c;
    assert_int_equal(decode(r, body, sizeof body, NULL, &c, NULL), SW_OK);
    assert_int_equal(c.series, 0);
    assert_string_equal(text(r), "");
}

static void
test_sink_error_propagates(void **state)
{
    rec *r = *state;
    r->fail_at = 2;
    size_t len;
    uint8_t *body = pack_body(two_series(), &len);
    sw_err err;
    sw_rw_counts c = {99, 99, 99};
    assert_int_equal(decode(r, body, len, NULL, &c, &err), SW_E_NOMEM);
    assert_string_equal(err.msg, "sink full");
    assert_int_equal(c.series, 99); /* outputs untouched on failure */
    free(body);
}

/* ------------------------------------------------------------------ native histograms */

#define SPAN(o, l)                                                                                 \
    {                                                                                              \
        PROTOBUF_C_MESSAGE_INIT(&prometheus__bucket_span__descriptor), (o), (l)                    \
    }

static void
test_native_histograms(void **state)
{
    rec *r = *state;
    static Prometheus__BucketSpan pos[] = {SPAN(-2, 2), SPAN(1, 2)}, neg[] = {SPAN(0, 1)};
    static Prometheus__BucketSpan *ppos[] = {&pos[0], &pos[1]}, *pneg[] = {&neg[0]};
    /* int deltas 1, +2, -1, +3 are the absolute counts 1, 3, 2, 5 */
    int64_t pdeltas[] = {1, 2, -1, 3}, ndeltas[] = {4};
    double fcounts[] = {0.5, 2.25, 0, 7};
    Prometheus__Histogram hi = PROMETHEUS__HISTOGRAM__INIT, hf = PROMETHEUS__HISTOGRAM__INIT;
    hi.count_case = PROMETHEUS__HISTOGRAM__COUNT_COUNT_INT, hi.count_int = 17;
    hi.zero_count_case = PROMETHEUS__HISTOGRAM__ZERO_COUNT_ZERO_COUNT_INT, hi.zero_count_int = 2;
    hi.sum = 3.5, hi.schema = 3, hi.zero_threshold = 0.001;
    hi.n_positive_spans = 2, hi.positive_spans = ppos, hi.n_positive_deltas = 4;
    hi.positive_deltas = pdeltas, hi.n_negative_spans = 1, hi.negative_spans = pneg;
    hi.n_negative_deltas = 1, hi.negative_deltas = ndeltas;
    hi.reset_hint = PROMETHEUS__HISTOGRAM__RESET_HINT__YES, hi.timestamp = 1760000000000;
    hf.count_case = PROMETHEUS__HISTOGRAM__COUNT_COUNT_FLOAT, hf.count_float = 9.75;
    hf.zero_count_case = PROMETHEUS__HISTOGRAM__ZERO_COUNT_ZERO_COUNT_FLOAT;
    hf.zero_count_float = 0.25, hf.sum = -1, hf.schema = -4;
    hf.n_positive_spans = 2, hf.positive_spans = ppos, hf.n_positive_counts = 4;
    hf.positive_counts = fcounts, hf.reset_hint = PROMETHEUS__HISTOGRAM__RESET_HINT__GAUGE;
    hf.timestamp = 1760000010000;
    Prometheus__Histogram *ph[] = {&hi, &hf};
    Prometheus__Label l[] = {LABEL("__name__", "rpc_seconds"), LABEL("job", "x")};
    Prometheus__Label *pl[] = {&l[0], &l[1]};
    Prometheus__TimeSeries ts = PROMETHEUS__TIME_SERIES__INIT;
    ts.n_labels = 2, ts.labels = pl, ts.n_histograms = 2, ts.histograms = ph;
    Prometheus__TimeSeries *pts[] = {&ts};
    Prometheus__WriteRequest req = PROMETHEUS__WRITE_REQUEST__INIT;
    req.n_timeseries = 1, req.timeseries = pts;
    size_t len;
    uint8_t *body = pack_body(&req, &len);
    sw_rw_counts c;
    sw_err err;
    assert_int_equal(decode(r, body, len, NULL, &c, &err), SW_OK);
    assert_string_equal(
        text(r), "rpc_seconds{job=\"x\"} H@1760000000000 schema=3 zt=0.001 zc=2 count=17 sum=3.5"
                 " pos=-2:2,1:2[1 3 2 5] neg=0:1[4] reset\n"
                 "rpc_seconds{job=\"x\"} H@1760000010000 schema=-4 zt=0 zc=0.25 count=9.75 sum=-1"
                 " pos=-2:2,1:2[0.5 2.25 0 7] neg=[] gauge\n");
    assert_int_equal(c.histograms, 2);
    assert_int_equal(c.samples, 0);
    free(body);

    /* Deltas that go below zero (1 then -2) are refused before the sink sees anything. */
    sw_buf_reset(&r->out);
    pdeltas[1] = -2;
    body = pack_body(&req, &len);
    assert_int_equal(decode(r, body, len, NULL, &c, &err), SW_E_INVAL);
    assert_non_null(strstr(err.msg, "series 0: histogram positive bucket 1"));
    assert_string_equal(text(r), "");
    free(body);

    /* Four buckets in the spans but three deltas. */
    pdeltas[1] = 2;
    hi.n_positive_deltas = 3;
    body = pack_body(&req, &len);
    assert_int_equal(decode(r, body, len, NULL, &c, &err), SW_E_INVAL);
    assert_non_null(strstr(err.msg, "3 positive deltas for spans of 4 buckets"));
    free(body);

    hi.n_positive_deltas = 4;
    hi.schema = 9;
    body = pack_body(&req, &len);
    assert_int_equal(decode(r, body, len, NULL, &c, &err), SW_E_INVAL);
    assert_non_null(strstr(err.msg, "schema 9"));
    free(body);
}

/* ------------------------------------------------------------------ bad input */

static void
expect_refused(rec *r, const uint8_t *body, size_t len, const sw_rw_limits *lim, sw_status want,
               const char *msg_part)
{
    sw_rw_counts c;
    sw_err err = {0};
    sw_status st = decode(r, body, len, lim, &c, &err);
    if (st != want || strstr(err.msg, msg_part) == NULL)
        fail_msg("status %s (want %s), message '%s' (want '%s' in it)", sw_err_str(st),
                 sw_err_str(want), err.msg, msg_part);
    assert_int_equal(err.code, want);
    assert_string_equal(text(r), "");
}

static void
test_garbage_and_truncation(void **state)
{
    rec *r = *state;
    size_t len;
    uint8_t *body = pack_body(two_series(), &len);
    /* Every strict prefix: the snappy length no longer matches (or the preamble is cut). */
    for (size_t cut = 0; cut < len; cut++)
        expect_refused(r, body, cut, NULL, SW_E_PARSE, "snappy");
    /* A copy whose offset points before the start of the output. */
    static const uint8_t bad_copy[] = {0x08, 0x00, 'a', 0x0a, 0x05, 0x00};
    expect_refused(r, bad_copy, sizeof bad_copy, NULL, SW_E_PARSE, "snappy");
    /* Valid snappy of bytes that are not a WriteRequest (field 1 wire type 7). */
    static const uint8_t raw[] = {0x0f, 0x01, 0x02};
    size_t n;
    uint8_t *garbage = snappy_literals(raw, sizeof raw, &n);
    expect_refused(r, garbage, n, NULL, SW_E_PARSE, "protobuf");
    free(garbage);
    /* A protobuf cut inside the first series. */
    size_t raw_n = prometheus__write_request__get_packed_size(two_series());
    uint8_t *full = malloc(raw_n);
    prometheus__write_request__pack(two_series(), full);
    garbage = snappy_literals(full, raw_n - 3, &n);
    expect_refused(r, garbage, n, NULL, SW_E_PARSE, "protobuf");
    free(garbage);
    free(full);
    free(body);
}

static void
expect_labels_refused(rec *r, Prometheus__Label *labels, size_t n, const char *msg_part)
{
    Prometheus__Label *pl[8];
    for (size_t i = 0; i < n; i++)
        pl[i] = &labels[i];
    Prometheus__Sample s = SAMPLE(1, 1), *ps[] = {&s};
    Prometheus__TimeSeries ts = PROMETHEUS__TIME_SERIES__INIT, *pts[2] = {NULL, &ts};
    ts.n_labels = n, ts.labels = pl, ts.n_samples = 1, ts.samples = ps;
    /* A good series first: a request is refused whole. */
    pts[0] = two_series()->timeseries[0];
    Prometheus__WriteRequest req = PROMETHEUS__WRITE_REQUEST__INIT;
    req.n_timeseries = 2, req.timeseries = pts;
    size_t len;
    uint8_t *body = pack_body(&req, &len);
    expect_refused(r, body, len, NULL, SW_E_INVAL, msg_part);
    free(body);
}

static void
test_bad_labels(void **state)
{
    rec *r = *state;
    Prometheus__Label no_name[] = {LABEL("job", "a")};
    expect_labels_refused(r, no_name, 1, "series 1: no metric name");
    Prometheus__Label empty_name[] = {LABEL("__name__", "")};
    expect_labels_refused(r, empty_name, 1, "series 1: invalid metric name ''");
    Prometheus__Label bad_metric[] = {LABEL("__name__", "1x")};
    expect_labels_refused(r, bad_metric, 1, "invalid metric name '1x'");
    Prometheus__Label bad_label[] = {LABEL("__name__", "x"), LABEL("a-b", "1")};
    expect_labels_refused(r, bad_label, 2, "invalid label name 'a-b'");
    Prometheus__Label empty_label[] = {LABEL("", "1"), LABEL("__name__", "x")};
    expect_labels_refused(r, empty_label, 2, "invalid label name ''");
    Prometheus__Label repeated[] = {LABEL("job", "a"), LABEL("__name__", "x"), LABEL("job", "b")};
    expect_labels_refused(r, repeated, 3, "series 1 (x): repeated label name");
    /* Label values are UTF-8 (as Prometheus requires): a stray continuation byte, an overlong
     * '/', a surrogate. */
    Prometheus__Label stray[] = {LABEL("__name__", "x"), LABEL("path", "/a\x80"
                                                                       "b")};
    expect_labels_refused(r, stray, 2, "label 'path' has a value that is not valid UTF-8");
    Prometheus__Label overlong[] = {LABEL("__name__", "x"), LABEL("path", "\xc0\xaf")};
    expect_labels_refused(r, overlong, 2, "not valid UTF-8");
    Prometheus__Label surrogate[] = {LABEL("__name__", "x"), LABEL("path", "\xed\xa0\x80")};
    expect_labels_refused(r, surrogate, 2, "not valid UTF-8");
}

/* One series of labels as a body, the byte at every '#' of the packed request made NUL (the
 * snappy stream is literals only: the packed bytes appear as they are). */
static uint8_t *
labels_body(Prometheus__Label *labels, size_t n, size_t *ret_len)
{
    Prometheus__Label *pl[8];
    for (size_t i = 0; i < n; i++)
        pl[i] = &labels[i];
    Prometheus__Sample s = SAMPLE(1, 1), *ps[] = {&s};
    Prometheus__TimeSeries ts = PROMETHEUS__TIME_SERIES__INIT, *pts[] = {&ts};
    ts.n_labels = n, ts.labels = pl, ts.n_samples = 1, ts.samples = ps;
    Prometheus__WriteRequest req = PROMETHEUS__WRITE_REQUEST__INIT;
    req.n_timeseries = 1, req.timeseries = pts;
    uint8_t *body = pack_body(&req, ret_len);
    for (size_t i = 0; i < *ret_len; i++)
        if (body[i] == '#')
            body[i] = '\0';
    return body;
}

/* Label bytes where the checks read 8 at a time and where they read the rest one by one: a
 * NUL, a non-ASCII byte that is not UTF-8, and valid UTF-8 in either place; names with bytes
 * of the other kind of name. */
static void
test_label_bytes(void **state)
{
    rec *r = *state;
    static const char *const nul_values[] = {"ab#defghijklmnop", "abcdefghij#k", "#", "abcdefg#"};
    for (size_t i = 0; i < sizeof nul_values / sizeof nul_values[0]; i++) {
        Prometheus__Label l[] = {LABEL("__name__", "x"), LABEL("path", nul_values[i])};
        size_t len;
        uint8_t *body = labels_body(l, 2, &len);
        expect_refused(r, body, len, NULL, SW_E_INVAL, "label 'path' has a value with a NUL byte");
        free(body);
    }
    Prometheus__Label stray_word[] = {LABEL("__name__", "x"), LABEL("path", "abcd\xff"
                                                                            "efghijklm")};
    expect_labels_refused(r, stray_word, 2, "label 'path' has a value that is not valid UTF-8");
    Prometheus__Label stray_tail[] = {LABEL("__name__", "x"), LABEL("path", "abcdefghij\x80")};
    expect_labels_refused(r, stray_tail, 2, "label 'path' has a value that is not valid UTF-8");
    Prometheus__Label colon[] = {LABEL("__name__", "x"), LABEL("a:b", "1")};
    expect_labels_refused(r, colon, 2, "invalid label name 'a:b'");
    Prometheus__Label digit[] = {LABEL("__name__", "x"), LABEL("9a", "1")};
    expect_labels_refused(r, digit, 2, "invalid label name '9a'");
    Prometheus__Label dash[] = {LABEL("__name__", "a-b")};
    expect_labels_refused(r, dash, 1, "invalid metric name 'a-b'");

    Prometheus__Label good[] = {LABEL("__name__", "job:rate_5m9"),
                                LABEL("_Z9", "gr\xc3\xbc\xc3\x9f"
                                             "e aus k\xc3\xb6ln"),
                                LABEL("a", "\x7f\x01 ~")};
    size_t len;
    uint8_t *body = labels_body(good, 3, &len);
    sw_rw_counts c;
    sw_err err;
    assert_int_equal(decode(r, body, len, NULL, &c, &err), SW_OK);
    assert_string_equal(text(r), "job:rate_5m9{_Z9=\"gr\xc3\xbc\xc3\x9f"
                                 "e aus k\xc3\xb6ln\",a=\"\x7f\x01 ~\"} 1 1\n");
    free(body);
}

/* A sample dated after the bound refuses the whole request, before the sink sees any. */
static void
test_time_bound(void **state)
{
    rec *r = *state;
    size_t len;
    uint8_t *body = pack_body(two_series(), &len);
    /* two_series' latest sample is at 1760000015000 (2025-10-09T08:53:35Z). */
    expect_refused(r, body, len, &(sw_rw_limits){.max_timestamp_ms = 1760000014999}, SW_E_INVAL,
                   "series 0: sample time 2025-10-09T08:53:35Z is after "
                   "2025-10-09T08:53:34.999Z: too far ahead");
    sw_rw_counts c;
    assert_int_equal(
        decode(r, body, len, &(sw_rw_limits){.max_timestamp_ms = 1760000015000}, &c, NULL), SW_OK);
    free(body);
}

/* Remote write 2.0 is answered "unsupported" (415) so its sender falls back to 1.0. */
static void
test_headers(void **state)
{
    (void)state;
    sw_err err;
    assert_int_equal(sw_rw_recv_check_headers("snappy", "application/x-protobuf", "0.1.0", NULL),
                     SW_OK);
    assert_int_equal(
        sw_rw_recv_check_headers("snappy", "application/x-protobuf;proto=prometheus.WriteRequest",
                                 NULL, NULL),
        SW_OK);
    assert_int_equal(
        sw_rw_recv_check_headers(
            "snappy", "application/x-protobuf;proto=io.prometheus.write.v2.Request", "2.0.0", &err),
        SW_E_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "proto=io.prometheus.write.v2.Request"));
    assert_int_equal(sw_rw_recv_check_headers("snappy", "application/x-protobuf", "2.0.0", &err),
                     SW_E_UNSUPPORTED);
    assert_int_equal(sw_rw_recv_check_headers("gzip", "application/x-protobuf", NULL, &err),
                     SW_E_INVAL);
}

static void
test_caps(void **state)
{
    rec *r = *state;
    size_t len;
    uint8_t *body = pack_body(two_series(), &len);
    size_t raw_n = prometheus__write_request__get_packed_size(two_series());
    expect_refused(r, body, len, &(sw_rw_limits){.max_body = len - 1}, SW_E_TOOBIG,
                   "over the limit");
    expect_refused(r, body, len, &(sw_rw_limits){.max_decoded = raw_n - 1}, SW_E_TOOBIG,
                   "snappy: decodes to");
    expect_refused(r, body, len, &(sw_rw_limits){.max_series = 1}, SW_E_TOOBIG,
                   "2 series, over the limit of 1");
    expect_refused(r, body, len, &(sw_rw_limits){.max_samples = 3}, SW_E_TOOBIG,
                   "over 3 samples by series 1");
    /* At the caps exactly: accepted. */
    sw_rw_counts c;
    sw_rw_limits exact = {len, raw_n, 2, 4, 0};
    assert_int_equal(decode(r, body, len, &exact, &c, NULL), SW_OK);
    free(body);

    /* A preamble claiming 4 GiB - 1 is refused before anything is allocated for it. */
    static const uint8_t huge[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x00};
    sw_buf_reset(&r->out);
    expect_refused(r, huge, sizeof huge, NULL, SW_E_TOOBIG, "decodes to 4294967295 bytes");
}

/* Many empty labels: few wire bytes each; refused by the label cap, nothing allocated per label. */
static void
test_many_labels(void **state)
{
    rec *r = *state;
    size_t n_raw = 200000;
    uint8_t *raw = malloc(n_raw);
    /* one series (field 1, length n_raw - 4) of empty labels (field 1, length 0) */
    size_t inner = n_raw - 4;
    raw[0] = 0x0a;
    raw[1] = (uint8_t)(0x80 | (inner & 0x7f));
    raw[2] = (uint8_t)(0x80 | ((inner >> 7) & 0x7f));
    raw[3] = (uint8_t)(inner >> 14);
    for (size_t i = 4; i < n_raw; i += 2)
        raw[i] = 0x0a, raw[i + 1] = 0x00;
    size_t len;
    uint8_t *body = snappy_literals(raw, n_raw, &len);
    expect_refused(r, body, len, NULL, SW_E_TOOBIG, "series 0: over 1024 labels");
    free(body);
    free(raw);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_samples, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sink_error_propagates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_native_histograms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_and_truncation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_labels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_label_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_time_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_caps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_labels, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
