/*
 * Unit tests for the protobuf exposition decoder. Messages are built here with the protobuf-c
 * code generated from proto/metrics.proto (or written as bytes from the protobuf encoding
 * rules); the expected sample streams are written by hand from Prometheus' rules for turning
 * a MetricFamily into series (_count, _sum, then buckets with an implied +Inf; le spelled as
 * Go's shortest %g with ".0" added) and from the native histogram spec (deltas add up).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.pb-c.h"
#include "slawatch/buf.h"
#include "slawatch/promproto.h"

typedef Io__Prometheus__Client__MetricFamily pb_family;
typedef Io__Prometheus__Client__Metric pb_metric;
typedef Io__Prometheus__Client__Histogram pb_histogram;
typedef Io__Prometheus__Client__Bucket pb_bucket;
typedef Io__Prometheus__Client__BucketSpan pb_span;
typedef Io__Prometheus__Client__LabelPair pb_label;

#define TEXT_MAX (1u << 20)

/* What the sink saw, one line per sample, and when to fail. */
typedef struct seen {
    sw_buf text;
    size_t calls, fail_at; /* fail_at: 1-based call that returns SW_E_RANGE; 0 never */
} seen;

static void
put_labels(seen *r, const sw_prom_sample *s)
{
    sw_buf_printf(&r->text, NULL, "%.*s{", (int)s->name_len, s->name);
    for (size_t i = 0; i < s->n_labels; i++)
        sw_buf_printf(&r->text, NULL, "%s%.*s=\"%.*s\"", i > 0 ? "," : "",
                      (int)s->labels[i].name_len, s->labels[i].name, (int)s->labels[i].value_len,
                      s->labels[i].value);
    sw_buf_printf(&r->text, NULL, "}");
}

static sw_status
count_call(seen *r, sw_err *err)
{
    if (++r->calls == r->fail_at)
        return sw_err_set(err, SW_E_RANGE, "sink refuses call %zu", r->calls);
    return SW_OK;
}

static sw_status
on_sample(void *ctx, const sw_prom_sample *s, sw_err *err)
{
    seen *r = ctx;
    put_labels(r, s);
    sw_buf_printf(&r->text, NULL, " %.17g", s->value);
    if (s->has_timestamp)
        sw_buf_printf(&r->text, NULL, " @%lld", (long long)s->timestamp_ms);
    sw_buf_printf(&r->text, NULL, " t%d\n", (int)s->type);
    return count_call(r, err);
}

static void
put_side(seen *r, const char *tag, const sw_prom_span *spans, size_t n_spans, const double *counts,
         size_t n_counts)
{
    sw_buf_printf(&r->text, NULL, " %s=", tag);
    for (size_t i = 0; i < n_spans; i++)
        sw_buf_printf(&r->text, NULL, "%s%d:%u", i > 0 ? "," : "", (int)spans[i].offset,
                      (unsigned)spans[i].length);
    sw_buf_printf(&r->text, NULL, "/");
    for (size_t i = 0; i < n_counts; i++)
        sw_buf_printf(&r->text, NULL, "%s%g", i > 0 ? "," : "", counts[i]);
}

static sw_status
on_native(void *ctx, const sw_prom_sample *s, const sw_prom_native *h, sw_err *err)
{
    seen *r = ctx;
    put_labels(r, s);
    sw_buf_printf(&r->text, NULL, " native schema=%d zt=%g zero=%g count=%g sum=%g%s",
                  (int)h->schema, h->zero_threshold, h->zero_count, h->count, h->sum,
                  h->gauge ? " gauge" : "");
    put_side(r, "pos", h->pos_spans, h->n_pos_spans, h->pos_counts, h->n_pos_counts);
    put_side(r, "neg", h->neg_spans, h->n_neg_spans, h->neg_counts, h->n_neg_counts);
    if (s->has_timestamp)
        sw_buf_printf(&r->text, NULL, " @%lld", (long long)s->timestamp_ms);
    sw_buf_printf(&r->text, NULL, "\n");
    return count_call(r, err);
}

/* Append f varint-length-delimited, as the exposition format frames it. */
static void
append_family(sw_buf *out, const pb_family *f)
{
    size_t size = protobuf_c_message_get_packed_size(&f->base);
    uint8_t head[10];
    size_t k = 0;
    for (size_t v = size;; v >>= 7) {
        head[k++] = (uint8_t)((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
        if (v < 0x80)
            break;
    }
    assert_int_equal(sw_buf_append(out, head, k, NULL), SW_OK);
    assert_int_equal(sw_buf_reserve(out, size, NULL), SW_OK);
    out->len += protobuf_c_message_pack(&f->base, out->data + out->len);
}

static sw_status
decode(const sw_buf *in, seen *r, bool with_native, size_t *offset, sw_err *err)
{
    sw_prom_sink sink = {.ctx = r, .sample = on_sample, .native = with_native ? on_native : NULL};
    sw_buf_reset(&r->text);
    r->calls = 0;
    return sw_promproto_parse(in->data, in->len, &sink, offset, err);
}

static void
expect_text(seen *r, const char *want)
{
    const char *got = sw_buf_cstr(&r->text, NULL);
    if (strcmp(got, want) != 0)
        fail_msg("sample stream differs:\n--- got\n%s--- want\n%s", got, want);
}

typedef struct fixture {
    sw_buf in;
    seen r;
} fixture;

static int
setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    sw_buf_init(&f->in, (size_t)64 << 20);
    sw_buf_init(&f->r.text, TEXT_MAX);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture *f = *state;
    sw_buf_fini(&f->in);
    sw_buf_fini(&f->r.text);
    free(f);
    return 0;
}

/* ---------------------------------------------------------------- simple types */

static void
test_counter_gauge_untyped_summary(void **state)
{
    fixture *fx = *state;
    pb_label svc = IO__PROMETHEUS__CLIENT__LABEL_PAIR__INIT, code = svc;
    svc.name = (char *)"service";
    svc.value = (char *)"api";
    code.name = (char *)"code";
    code.value = (char *)"5\"xx";
    pb_label *labels[] = {&svc, &code};

    Io__Prometheus__Client__Counter cv = IO__PROMETHEUS__CLIENT__COUNTER__INIT;
    cv.has_value = true;
    cv.value = 1027;
    pb_metric cm = IO__PROMETHEUS__CLIENT__METRIC__INIT;
    cm.n_label = 2;
    cm.label = labels;
    cm.counter = &cv;
    cm.has_timestamp_ms = true;
    cm.timestamp_ms = 1700000000123;
    pb_metric *cms[] = {&cm};
    pb_family counter = IO__PROMETHEUS__CLIENT__METRIC_FAMILY__INIT;
    counter.name = (char *)"http_requests";
    counter.has_type = true;
    counter.type = IO__PROMETHEUS__CLIENT__METRIC_TYPE__COUNTER;
    counter.n_metric = 1;
    counter.metric = cms;

    Io__Prometheus__Client__Gauge gv = IO__PROMETHEUS__CLIENT__GAUGE__INIT;
    gv.has_value = true;
    gv.value = -0.5;
    pb_metric gm = IO__PROMETHEUS__CLIENT__METRIC__INIT;
    gm.gauge = &gv;
    pb_metric *gms[] = {&gm};
    pb_family gauge = IO__PROMETHEUS__CLIENT__METRIC_FAMILY__INIT;
    gauge.name = (char *)"temp_celsius";
    gauge.has_type = true;
    gauge.type = IO__PROMETHEUS__CLIENT__METRIC_TYPE__GAUGE;
    gauge.n_metric = 1;
    gauge.metric = gms;

    Io__Prometheus__Client__Untyped uv = IO__PROMETHEUS__CLIENT__UNTYPED__INIT;
    uv.has_value = true;
    uv.value = 42;
    pb_metric um = IO__PROMETHEUS__CLIENT__METRIC__INIT;
    um.untyped = &uv;
    pb_metric *ums[] = {&um};
    pb_family untyped = gauge;
    untyped.name = (char *)"something_untyped";
    untyped.type = IO__PROMETHEUS__CLIENT__METRIC_TYPE__UNTYPED;
    untyped.metric = ums;

    Io__Prometheus__Client__Quantile q50 = IO__PROMETHEUS__CLIENT__QUANTILE__INIT, q99 = q50;
    q50.has_quantile = q50.has_value = true;
    q50.quantile = 0.5;
    q50.value = 0.012;
    q99.has_quantile = q99.has_value = true;
    q99.quantile = 0.99;
    q99.value = 0.25;
    Io__Prometheus__Client__Quantile *qs[] = {&q50, &q99};
    Io__Prometheus__Client__Summary sv = IO__PROMETHEUS__CLIENT__SUMMARY__INIT;
    sv.has_sample_count = sv.has_sample_sum = true;
    sv.sample_count = 300;
    sv.sample_sum = 7.5;
    sv.n_quantile = 2;
    sv.quantile = qs;
    pb_metric sm = IO__PROMETHEUS__CLIENT__METRIC__INIT;
    sm.summary = &sv;
    pb_metric *sms[] = {&sm};
    pb_family summary = gauge;
    summary.name = (char *)"rpc_seconds";
    summary.type = IO__PROMETHEUS__CLIENT__METRIC_TYPE__SUMMARY;
    summary.metric = sms;

    append_family(&fx->in, &counter);
    append_family(&fx->in, &gauge);
    append_family(&fx->in, &untyped);
    append_family(&fx->in, &summary);
    sw_err err = {0};
    assert_int_equal(decode(&fx->in, &fx->r, true, NULL, &err), SW_OK);
    expect_text(&fx->r, "http_requests{service=\"api\",code=\"5\"xx\"} 1027 @1700000000123 t1\n"
                        "temp_celsius{} -0.5 t2\n"
                        "something_untyped{} 42 t0\n"
                        "rpc_seconds_count{} 300 t5\n"
                        "rpc_seconds_sum{} 7.5 t5\n"
                        "rpc_seconds{quantile=\"0.5\"} 0.012 t5\n"
                        "rpc_seconds{quantile=\"0.99\"} 0.25 t5\n");
}

/* ---------------------------------------------------------------- classic histograms */

static void
test_classic_histogram_le_spelling(void **state)
{
    fixture *fx = *state;
    /* Go's strconv 'g' with shortest precision, plus ".0": the spellings Prometheus gives le. */
    static const double bounds[] = {-0.0, 1e-05, 0.005, 0.1, 1, 10, 123456, 1e6};
    pb_bucket b[8];
    pb_bucket *bp[8];
    for (int i = 0; i < 8; i++) {
        b[i] = (pb_bucket)IO__PROMETHEUS__CLIENT__BUCKET__INIT;
        b[i].has_upper_bound = b[i].has_cumulative_count = true;
        b[i].upper_bound = bounds[i];
        b[i].cumulative_count = (uint64_t)(i + 1) * 10;
        bp[i] = &b[i];
    }
    pb_histogram h = IO__PROMETHEUS__CLIENT__HISTOGRAM__INIT;
    h.has_sample_count = h.has_sample_sum = true;
    h.sample_count = 85;
    h.sample_sum = 12.25;
    h.n_bucket = 8;
    h.bucket = bp;
    pb_metric m = IO__PROMETHEUS__CLIENT__METRIC__INIT;
    m.histogram = &h;
    pb_metric *ms[] = {&m};
    pb_family fam = IO__PROMETHEUS__CLIENT__METRIC_FAMILY__INIT;
    fam.name = (char *)"lat_seconds";
    fam.has_type = true;
    fam.type = IO__PROMETHEUS__CLIENT__METRIC_TYPE__HISTOGRAM;
    fam.n_metric = 1;
    fam.metric = ms;
    append_family(&fx->in, &fam);
    sw_err err = {0};
    assert_int_equal(decode(&fx->in, &fx->r, true, NULL, &err), SW_OK);
    expect_text(&fx->r, "lat_seconds_count{} 85 t3\n"
                        "lat_seconds_sum{} 12.25 t3\n"
                        "lat_seconds_bucket{le=\"0.0\"} 10 t3\n"
                        "lat_seconds_bucket{le=\"1e-05\"} 20 t3\n"
                        "lat_seconds_bucket{le=\"0.005\"} 30 t3\n"
                        "lat_seconds_bucket{le=\"0.1\"} 40 t3\n"
                        "lat_seconds_bucket{le=\"1.0\"} 50 t3\n"
                        "lat_seconds_bucket{le=\"10.0\"} 60 t3\n"
                        "lat_seconds_bucket{le=\"123456.0\"} 70 t3\n"
                        "lat_seconds_bucket{le=\"1e+06\"} 80 t3\n"
                        "lat_seconds_bucket{le=\"+Inf\"} 85 t3\n");
}

static void
test_classic_float_counts_explicit_inf(void **state)
{
    fixture *fx = *state;
    pb_bucket b0 = IO__PROMETHEUS__CLIENT__BUCKET__INIT, b1 = b0;
    b0.has_upper_bound = b0.has_cumulative_count_float = true;
    b0.upper_bound = 0.25;
    b0.cumulative_count_float = 2.5;
    b1.has_upper_bound = b1.has_cumulative_count_float = true;
    b1.upper_bound = INFINITY;
    b1.cumulative_count_float = 4.5;
    pb_bucket *bp[] = {&b0, &b1};
    pb_histogram h = IO__PROMETHEUS__CLIENT__HISTOGRAM__INIT;
    h.has_sample_count_float = h.has_sample_sum = true;
    h.sample_count_float = 4.5;
    h.sample_sum = 3;
    h.n_bucket = 2;
    h.bucket = bp;
    pb_label l = IO__PROMETHEUS__CLIENT__LABEL_PAIR__INIT;
    l.name = (char *)"env";
    l.value = (char *)"green";
    pb_label *lp[] = {&l};
    pb_metric m = IO__PROMETHEUS__CLIENT__METRIC__INIT;
    m.histogram = &h;
    m.n_label = 1;
    m.label = lp;
    m.has_timestamp_ms = true;
    m.timestamp_ms = 5;
    pb_metric *ms[] = {&m};
    pb_family fam = IO__PROMETHEUS__CLIENT__METRIC_FAMILY__INIT;
    fam.name = (char *)"q";
    fam.has_type = true;
    fam.type = IO__PROMETHEUS__CLIENT__METRIC_TYPE__GAUGE_HISTOGRAM;
    fam.n_metric = 1;
    fam.metric = ms;
    append_family(&fx->in, &fam);
    sw_err err = {0};
    assert_int_equal(decode(&fx->in, &fx->r, true, NULL, &err), SW_OK);
    expect_text(&fx->r, "q_count{env=\"green\"} 4.5 @5 t4\n"
                        "q_sum{env=\"green\"} 3 @5 t4\n"
                        "q_bucket{env=\"green\",le=\"0.25\"} 2.5 @5 t4\n"
                        "q_bucket{env=\"green\",le=\"+Inf\"} 4.5 @5 t4\n");
}

/* ---------------------------------------------------------------- native histograms */

/*
 * A histogram with both parts: classic buckets and, at schema 3, positive spans [-2:2, 3:1]
 * (buckets -2, -1, 2) with deltas 2, +1, -2 (counts 2, 3, 1), negative span [0:1] (count 4),
 * zero bucket 5 under threshold 0.001.
 */
static void
build_native(pb_family *fam, pb_metric *m, pb_histogram *h, pb_span sp[3], pb_span *spp[3],
             pb_bucket *b, pb_bucket **bp, int64_t pos_delta[3], int64_t neg_delta[1])
{
    *b = (pb_bucket)IO__PROMETHEUS__CLIENT__BUCKET__INIT;
    b->has_upper_bound = b->has_cumulative_count = true;
    b->upper_bound = 1;
    b->cumulative_count = 12;
    bp[0] = b;
    for (int i = 0; i < 3; i++) {
        sp[i] = (pb_span)IO__PROMETHEUS__CLIENT__BUCKET_SPAN__INIT;
        sp[i].has_offset = sp[i].has_length = true;
        spp[i] = &sp[i];
    }
    sp[0].offset = -2;
    sp[0].length = 2;
    sp[1].offset = 3;
    sp[1].length = 1;
    sp[2].offset = 0;
    sp[2].length = 1;
    pos_delta[0] = 2;
    pos_delta[1] = 1;
    pos_delta[2] = -2;
    neg_delta[0] = 4;
    *h = (pb_histogram)IO__PROMETHEUS__CLIENT__HISTOGRAM__INIT;
    h->has_sample_count = h->has_sample_sum = h->has_schema = true;
    h->sample_count = 15;
    h->sample_sum = 2.5;
    h->n_bucket = 1;
    h->bucket = bp;
    h->schema = 3;
    h->has_zero_threshold = h->has_zero_count = true;
    h->zero_threshold = 0.001;
    h->zero_count = 5;
    h->n_positive_span = 2;
    h->positive_span = spp;
    h->n_positive_delta = 3;
    h->positive_delta = pos_delta;
    h->n_negative_span = 1;
    h->negative_span = spp + 2;
    h->n_negative_delta = 1;
    h->negative_delta = neg_delta;
    *m = (pb_metric)IO__PROMETHEUS__CLIENT__METRIC__INIT;
    m->histogram = h;
    *fam = (pb_family)IO__PROMETHEUS__CLIENT__METRIC_FAMILY__INIT;
    fam->name = (char *)"rt_seconds";
    fam->has_type = true;
    fam->type = IO__PROMETHEUS__CLIENT__METRIC_TYPE__HISTOGRAM;
}

static void
test_native_int_counts(void **state)
{
    fixture *fx = *state;
    pb_family fam;
    pb_metric m;
    pb_metric *ms[] = {&m};
    pb_histogram h;
    pb_span sp[3];
    pb_span *spp[3];
    pb_bucket b;
    pb_bucket *bp[1];
    int64_t pd[3], nd[1];
    build_native(&fam, &m, &h, sp, spp, &b, bp, pd, nd);
    fam.n_metric = 1;
    fam.metric = ms;
    append_family(&fx->in, &fam);
    sw_err err = {0};
    assert_int_equal(decode(&fx->in, &fx->r, true, NULL, &err), SW_OK);
    expect_text(&fx->r, "rt_seconds{} native schema=3 zt=0.001 zero=5 count=15 sum=2.5 "
                        "pos=-2:2,3:1/2,3,1 neg=0:1/4\n");
    /* Without a native consumer the classic buckets are what is left. */
    assert_int_equal(decode(&fx->in, &fx->r, false, NULL, &err), SW_OK);
    expect_text(&fx->r, "rt_seconds_count{} 15 t3\n"
                        "rt_seconds_sum{} 2.5 t3\n"
                        "rt_seconds_bucket{le=\"1.0\"} 12 t3\n"
                        "rt_seconds_bucket{le=\"+Inf\"} 15 t3\n");
}

static void
test_native_float_counts_gauge(void **state)
{
    fixture *fx = *state;
    pb_family fam;
    pb_metric m;
    pb_metric *ms[] = {&m};
    pb_histogram h;
    pb_span sp[3];
    pb_span *spp[3];
    pb_bucket b;
    pb_bucket *bp[1];
    int64_t pd[3], nd[1];
    build_native(&fam, &m, &h, sp, spp, &b, bp, pd, nd);
    double pos[] = {0.5, 1.5, 2.25}, neg[] = {0.75};
    h.n_positive_delta = h.n_negative_delta = 0;
    h.n_positive_count = 3;
    h.positive_count = pos;
    h.n_negative_count = 1;
    h.negative_count = neg;
    h.has_sample_count_float = h.has_zero_count_float = true;
    h.sample_count_float = 6.5;
    h.zero_count_float = 1.5;
    m.has_timestamp_ms = true;
    m.timestamp_ms = 99;
    fam.type = IO__PROMETHEUS__CLIENT__METRIC_TYPE__GAUGE_HISTOGRAM;
    fam.n_metric = 1;
    fam.metric = ms;
    append_family(&fx->in, &fam);
    sw_err err = {0};
    assert_int_equal(decode(&fx->in, &fx->r, true, NULL, &err), SW_OK);
    expect_text(&fx->r, "rt_seconds{} native schema=3 zt=0.001 zero=1.5 count=6.5 sum=2.5 "
                        "gauge pos=-2:2,3:1/0.5,1.5,2.25 neg=0:1/0.75 @99\n");
}

/* Schema set but no spans, zero threshold or zero count: Prometheus reads it as classic. */
static void
test_schema_without_native_part_is_classic(void **state)
{
    fixture *fx = *state;
    pb_histogram h = IO__PROMETHEUS__CLIENT__HISTOGRAM__INIT;
    h.has_schema = true;
    h.schema = 8;
    pb_metric m = IO__PROMETHEUS__CLIENT__METRIC__INIT;
    m.histogram = &h;
    pb_metric *ms[] = {&m};
    pb_family fam = IO__PROMETHEUS__CLIENT__METRIC_FAMILY__INIT;
    fam.name = (char *)"empty";
    fam.has_type = true;
    fam.type = IO__PROMETHEUS__CLIENT__METRIC_TYPE__HISTOGRAM;
    fam.n_metric = 1;
    fam.metric = ms;
    append_family(&fx->in, &fam);
    sw_err err = {0};
    assert_int_equal(decode(&fx->in, &fx->r, true, NULL, &err), SW_OK);
    expect_text(&fx->r, "empty_count{} 0 t3\nempty_sum{} 0 t3\nempty_bucket{le=\"+Inf\"} 0 t3\n");
}

/* ---------------------------------------------------------------- bad input */

/* A good gauge family first, so a failure in the next message has a non-zero offset. */
static size_t
append_good(fixture *fx)
{
    Io__Prometheus__Client__Gauge g = IO__PROMETHEUS__CLIENT__GAUGE__INIT;
    pb_metric m = IO__PROMETHEUS__CLIENT__METRIC__INIT;
    m.gauge = &g;
    pb_metric *ms[] = {&m};
    pb_family fam = IO__PROMETHEUS__CLIENT__METRIC_FAMILY__INIT;
    fam.name = (char *)"up";
    fam.has_type = true;
    fam.type = IO__PROMETHEUS__CLIENT__METRIC_TYPE__GAUGE;
    fam.n_metric = 1;
    fam.metric = ms;
    append_family(&fx->in, &fam);
    return fx->in.len;
}

static void
expect_failure(fixture *fx, sw_status want, size_t want_offset)
{
    sw_err err = {0};
    size_t offset = SIZE_MAX;
    sw_status st = decode(&fx->in, &fx->r, true, &offset, &err);
    assert_int_equal(st, want);
    assert_int_equal(err.code, want);
    assert_int_equal(offset, want_offset);
    char where[64];
    snprintf(where, sizeof where, "message at byte %zu", want_offset);
    if (strstr(err.msg, where) == NULL)
        fail_msg("error \"%s\" does not name \"%s\"", err.msg, where);
}

typedef struct bad_case {
    const char *what;
    uint8_t bytes[16];
    size_t len;
    sw_status want;
} bad_case;

static void
test_malformed_bytes(void **state)
{
    fixture *fx = *state;
    static const bad_case cases[] = {
        {"length prefix cut short", {0x80}, 1, SW_E_PARSE},
        {"length past the end", {0x05, 0x0a, 0x01, 'x'}, 4, SW_E_PARSE},
        /* field 1 (name) as a varint: wrong wire type for a string */
        {"wrong wire type", {0x02, 0x08, 0x01}, 3, SW_E_PARSE},
        /* name "x", then field 4 (metric) claiming 9 bytes that are not there */
        {"nested length past the message", {0x05, 0x0a, 0x01, 'x', 0x22, 0x09}, 6, SW_E_PARSE},
        {"invalid metric name", {0x03, 0x0a, 0x01, '9'}, 4, SW_E_PARSE},
        {"no metric name", {0x00}, 1, SW_E_PARSE},
        /* name "x", type 9 */
        {"unknown type", {0x05, 0x0a, 0x01, 'x', 0x18, 0x09}, 6, SW_E_PARSE},
        /* 16 MiB + 1: 0x81 0x80 0x80 0x08 */
        {"message over the cap", {0x81, 0x80, 0x80, 0x08}, 4, SW_E_TOOBIG},
        {"length prefix of more than ten bytes",
         {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00},
         11,
         SW_E_PARSE},
        {"overlong varint",
         {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
         11,
         SW_E_TOOBIG},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sw_buf_reset(&fx->in);
        size_t good = append_good(fx);
        assert_int_equal(sw_buf_append(&fx->in, cases[i].bytes, cases[i].len, NULL), SW_OK);
        print_message("case: %s\n", cases[i].what);
        expect_failure(fx, cases[i].want, good);
        assert_int_equal(fx->r.calls, 1); /* the good family's sample came through */
    }
}

static void
test_native_bad_spans_and_schema(void **state)
{
    fixture *fx = *state;
    pb_family fam;
    pb_metric m;
    pb_metric *ms[] = {&m};
    pb_histogram h;
    pb_span sp[3];
    pb_span *spp[3];
    pb_bucket b;
    pb_bucket *bp[1];
    int64_t pd[3], nd[1];
    build_native(&fam, &m, &h, sp, spp, &b, bp, pd, nd);
    fam.n_metric = 1;
    fam.metric = ms;

    h.n_positive_delta = 2; /* spans cover 3 */
    append_family(&fx->in, &fam);
    expect_failure(fx, SW_E_PARSE, 0);

    h.n_positive_delta = 3;
    pd[2] = -4; /* count 3 - 4 < 0 */
    sw_buf_reset(&fx->in);
    append_family(&fx->in, &fam);
    expect_failure(fx, SW_E_PARSE, 0);

    pd[2] = -2;
    h.schema = 9;
    sw_buf_reset(&fx->in);
    append_family(&fx->in, &fam);
    expect_failure(fx, SW_E_PARSE, 0);
}

/* ~1M empty Metric entries: 2 MiB on the wire, over 64 MiB decoded. */
static void
test_decoded_size_cap(void **state)
{
    fixture *fx = *state;
    size_t n = ((size_t)1 << 20) - 2, body = 3 + 2 * n;
    uint8_t head[] = {(uint8_t)(0x80 | (body & 0x7f)), (uint8_t)(0x80 | ((body >> 7) & 0x7f)),
                      (uint8_t)(body >> 14)};
    assert_true(body >> 21 == 0);
    assert_int_equal(sw_buf_append(&fx->in, head, sizeof head, NULL), SW_OK);
    assert_int_equal(sw_buf_append(&fx->in, "\x0a\x01x", 3, NULL), SW_OK);
    assert_int_equal(sw_buf_reserve(&fx->in, 2 * n, NULL), SW_OK);
    for (size_t i = 0; i < n; i++) {
        fx->in.data[fx->in.len++] = 0x22;
        fx->in.data[fx->in.len++] = 0x00;
    }
    expect_failure(fx, SW_E_TOOBIG, 0);
}

static void
test_sink_error_stops(void **state)
{
    fixture *fx = *state;
    size_t second = append_good(fx);
    append_good(fx);
    append_good(fx);
    fx->r.fail_at = 2;
    expect_failure(fx, SW_E_RANGE, second);
    assert_int_equal(fx->r.calls, 2);
    fx->r.fail_at = 0;
}

static void
test_empty_input(void **state)
{
    fixture *fx = *state;
    sw_err err = {0};
    assert_int_equal(decode(&fx->in, &fx->r, true, NULL, &err), SW_OK);
    assert_int_equal(fx->r.calls, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_counter_gauge_untyped_summary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_classic_histogram_le_spelling, setup, teardown),
        cmocka_unit_test_setup_teardown(test_classic_float_counts_explicit_inf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_native_int_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_native_float_counts_gauge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema_without_native_part_is_classic, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_malformed_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_native_bad_spans_and_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_decoded_size_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sink_error_stops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_input, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
