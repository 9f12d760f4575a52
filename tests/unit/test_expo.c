/*
 * Unit tests for the exposition writer. The expected texts are written by hand from the
 * Prometheus 0.0.4 and OpenMetrics 1.0 rules (HELP/TYPE/UNIT lines, escaping, counter names,
 * le spelling, # EOF); protobuf output is decoded with the protobuf-c code generated from
 * proto/metrics.proto and native bucket indexes are recomputed here from the schema formula.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.pb-c.h"
#include "slawatch/expo.h"

#define OUT_MAX (1u << 20)

typedef struct fixture {
    sw_expo *e;
    sw_buf out;
    sw_hdr *h;
} fixture;

static int
setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (f == NULL || sw_expo_new(&f->e, NULL) != SW_OK ||
        sw_hdr_new(&sw_hdr_latency_config, &f->h, NULL) != SW_OK)
        return -1;
    sw_buf_init(&f->out, OUT_MAX);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture *f = *state;
    sw_expo_free(f->e);
    sw_hdr_free(f->h);
    sw_buf_fini(&f->out);
    free(f);
    return 0;
}

static const char *help_counter = "Requests \"seen\" \\ per\nservice.";
static const double sla_bounds[] = {0.001, 0.0015, 0.0025, 1, 10};

/* The same families in every format: a counter, a gauge with awkward numbers, a histogram. */
static void
write_families(fixture *f, sw_expo_format format)
{
    sw_expo *e = f->e;
    const sw_expo_label odd[] = {{"service", "a\"b\\c\nd"}};
    const sw_expo_label api_green[] = {{"service", "api"}, {"env", "green"}};
    const sw_expo_label api[] = {{"service", "api"}};
    sw_buf_reset(&f->out);
    sw_expo_begin(e, format, &f->out);
    assert_int_equal(sw_expo_family(e, "slawatch_requests_total", SW_EXPO_COUNTER, help_counter,
                                    NULL, NULL), SW_OK);
    assert_int_equal(sw_expo_sample(e, odd, 1, 42, NULL), SW_OK);
    assert_int_equal(sw_expo_sample(e, api_green, 2, 1e20, NULL), SW_OK);
    assert_int_equal(sw_expo_family(e, "slawatch_budget_ratio", SW_EXPO_GAUGE, "Budget left.",
                                    "ratio", NULL), SW_OK);
    const double values[] = {0.25, NAN, INFINITY, -INFINITY, -3, 0.1 + 0.2, 1e-7};
    for (size_t i = 0; i < sizeof values / sizeof *values; i++)
        assert_int_equal(sw_expo_sample(e, NULL, 0, values[i], NULL), SW_OK);
    assert_int_equal(sw_expo_family(e, "slawatch_latency_seconds", SW_EXPO_HISTOGRAM, "Latency.",
                                    "seconds", NULL), SW_OK);
    /* Below 2048 us every HDR bucket is one microsecond wide: these are exact. */
    sw_hdr_record_n(f->h, 1000, 2);
    sw_hdr_record(f->h, 1500);
    sw_hdr_record(f->h, 2000);
    assert_int_equal(sw_expo_histogram(e, api, 1, f->h, 1e-6, sla_bounds, 5, NULL), SW_OK);
    assert_int_equal(sw_expo_finish(e, NULL), SW_OK);
}

static void
assert_text(sw_buf *out, const char *want)
{
    const char *got = sw_buf_cstr(out, NULL);
    assert_non_null(got);
    assert_string_equal(got, want);
}

static void
test_text_004(void **state)
{
    fixture *f = *state;
    write_families(f, SW_EXPO_TEXT);
    assert_text(&f->out,
                "# HELP slawatch_requests_total Requests \"seen\" \\\\ per\\nservice.\n"
                "# TYPE slawatch_requests_total counter\n"
                "slawatch_requests_total{service=\"a\\\"b\\\\c\\nd\"} 42\n"
                "slawatch_requests_total{service=\"api\",env=\"green\"} 1e+20\n"
                "# HELP slawatch_budget_ratio Budget left.\n"
                "# TYPE slawatch_budget_ratio gauge\n"
                "slawatch_budget_ratio 0.25\n"
                "slawatch_budget_ratio NaN\n"
                "slawatch_budget_ratio +Inf\n"
                "slawatch_budget_ratio -Inf\n"
                "slawatch_budget_ratio -3\n"
                "slawatch_budget_ratio 0.30000000000000004\n"
                "slawatch_budget_ratio 1e-07\n"
                "# HELP slawatch_latency_seconds Latency.\n"
                "# TYPE slawatch_latency_seconds histogram\n"
                "slawatch_latency_seconds_bucket{service=\"api\",le=\"0.001\"} 2\n"
                "slawatch_latency_seconds_bucket{service=\"api\",le=\"0.0015\"} 3\n"
                "slawatch_latency_seconds_bucket{service=\"api\",le=\"0.0025\"} 4\n"
                "slawatch_latency_seconds_bucket{service=\"api\",le=\"1\"} 4\n"
                "slawatch_latency_seconds_bucket{service=\"api\",le=\"10\"} 4\n"
                "slawatch_latency_seconds_bucket{service=\"api\",le=\"+Inf\"} 4\n"
                "slawatch_latency_seconds_sum{service=\"api\"} 0.0055\n"
                "slawatch_latency_seconds_count{service=\"api\"} 4\n");
}

static void
test_openmetrics(void **state)
{
    fixture *f = *state;
    write_families(f, SW_EXPO_OPENMETRICS);
    assert_text(&f->out,
                "# TYPE slawatch_requests counter\n"
                "# HELP slawatch_requests Requests \\\"seen\\\" \\\\ per\\nservice.\n"
                "slawatch_requests_total{service=\"a\\\"b\\\\c\\nd\"} 42\n"
                "slawatch_requests_total{service=\"api\",env=\"green\"} 1e+20\n"
                "# TYPE slawatch_budget_ratio gauge\n"
                "# UNIT slawatch_budget_ratio ratio\n"
                "# HELP slawatch_budget_ratio Budget left.\n"
                "slawatch_budget_ratio 0.25\n"
                "slawatch_budget_ratio NaN\n"
                "slawatch_budget_ratio +Inf\n"
                "slawatch_budget_ratio -Inf\n"
                "slawatch_budget_ratio -3\n"
                "slawatch_budget_ratio 0.30000000000000004\n"
                "slawatch_budget_ratio 1e-07\n"
                "# TYPE slawatch_latency_seconds histogram\n"
                "# UNIT slawatch_latency_seconds seconds\n"
                "# HELP slawatch_latency_seconds Latency.\n"
                "slawatch_latency_seconds_bucket{service=\"api\",le=\"0.001\"} 2\n"
                "slawatch_latency_seconds_bucket{service=\"api\",le=\"0.0015\"} 3\n"
                "slawatch_latency_seconds_bucket{service=\"api\",le=\"0.0025\"} 4\n"
                "slawatch_latency_seconds_bucket{service=\"api\",le=\"1.0\"} 4\n"
                "slawatch_latency_seconds_bucket{service=\"api\",le=\"10.0\"} 4\n"
                "slawatch_latency_seconds_bucket{service=\"api\",le=\"+Inf\"} 4\n"
                "slawatch_latency_seconds_sum{service=\"api\"} 0.0055\n"
                "slawatch_latency_seconds_count{service=\"api\"} 4\n"
                "# EOF\n");
}

/* A counter with a unit: OpenMetrics checks the unit against the name without _total. */
static void
test_counter_unit(void **state)
{
    fixture *f = *state;
    sw_expo_begin(f->e, SW_EXPO_OPENMETRICS, &f->out);
    assert_int_equal(sw_expo_family(f->e, "cpu_seconds_total", SW_EXPO_COUNTER, NULL, "seconds",
                                    NULL), SW_OK);
    assert_int_equal(sw_expo_sample(f->e, NULL, 0, 1.5, NULL), SW_OK);
    assert_int_equal(sw_expo_finish(f->e, NULL), SW_OK);
    assert_text(&f->out, "# TYPE cpu_seconds counter\n"
                         "# UNIT cpu_seconds seconds\n"
                         "cpu_seconds_total 1.5\n"
                         "# EOF\n");
}

/* Empty exposition: OpenMetrics is just the EOF marker, 0.0.4 and protobuf are empty. */
static void
test_empty(void **state)
{
    fixture *f = *state;
    sw_expo_begin(f->e, SW_EXPO_OPENMETRICS, &f->out);
    assert_int_equal(sw_expo_finish(f->e, NULL), SW_OK);
    assert_text(&f->out, "# EOF\n");
    sw_buf_reset(&f->out);
    sw_expo_begin(f->e, SW_EXPO_TEXT, &f->out);
    assert_int_equal(sw_expo_finish(f->e, NULL), SW_OK);
    sw_expo_begin(f->e, SW_EXPO_PROTOBUF, &f->out);
    assert_int_equal(sw_expo_finish(f->e, NULL), SW_OK);
    assert_int_equal(f->out.len, 0);
}

typedef enum misuse {
    BAD_NAME_EMPTY, BAD_NAME_DIGIT, BAD_NAME_DASH, COUNTER_NO_TOTAL, UNIT_MISMATCH, BAD_UNIT,
    LABEL_COLON, LABEL_DIGIT, LABEL_EMPTY, HISTOGRAM_LE, TOO_MANY_LABELS, BOUNDS_DOWN,
    BOUND_NAN, BOUND_INF, SCALE_ZERO, SAMPLE_IN_HISTOGRAM, HISTOGRAM_IN_GAUGE, NO_FAMILY,
    MISUSE_COUNT
} misuse;

static sw_status
misuse_call(fixture *f, misuse m, sw_err *err)
{
    sw_expo *e = f->e;
    const sw_expo_label colon[] = {{"a:b", "x"}}, digit[] = {{"1a", "x"}}, empty[] = {{"", "x"}};
    const sw_expo_label le[] = {{"le", "1"}};
    sw_expo_label many[SW_EXPO_LABELS_MAX + 1];
    for (size_t i = 0; i <= SW_EXPO_LABELS_MAX; i++)
        many[i] = (sw_expo_label){"l", "v"};
    const double down[] = {1, 0.5}, nan_b[] = {NAN}, inf_b[] = {1, INFINITY}, ok_b[] = {1};
    switch (m) {
    case BAD_NAME_EMPTY: return sw_expo_family(e, "", SW_EXPO_GAUGE, NULL, NULL, err);
    case BAD_NAME_DIGIT: return sw_expo_family(e, "1up", SW_EXPO_GAUGE, NULL, NULL, err);
    case BAD_NAME_DASH: return sw_expo_family(e, "a-b", SW_EXPO_GAUGE, NULL, NULL, err);
    case COUNTER_NO_TOTAL: return sw_expo_family(e, "reqs", SW_EXPO_COUNTER, NULL, NULL, err);
    case UNIT_MISMATCH:
        return sw_expo_family(e, "lat_seconds", SW_EXPO_GAUGE, NULL, "milliseconds", err);
    case BAD_UNIT: return sw_expo_family(e, "lat_s-x", SW_EXPO_GAUGE, NULL, "s-x", err);
    default:
        break;
    }
    bool hist = m == HISTOGRAM_LE || (m >= BOUNDS_DOWN && m <= SAMPLE_IN_HISTOGRAM);
    if (m != NO_FAMILY)
        assert_int_equal(sw_expo_family(e, "m", hist ? SW_EXPO_HISTOGRAM : SW_EXPO_GAUGE, NULL,
                                        NULL, err), SW_OK);
    switch (m) {
    case LABEL_COLON: return sw_expo_sample(e, colon, 1, 1, err);
    case LABEL_DIGIT: return sw_expo_sample(e, digit, 1, 1, err);
    case LABEL_EMPTY: return sw_expo_sample(e, empty, 1, 1, err);
    case TOO_MANY_LABELS: return sw_expo_sample(e, many, SW_EXPO_LABELS_MAX + 1, 1, err);
    case HISTOGRAM_LE: return sw_expo_histogram(e, le, 1, f->h, 1, ok_b, 1, err);
    case BOUNDS_DOWN: return sw_expo_histogram(e, NULL, 0, f->h, 1, down, 2, err);
    case BOUND_NAN: return sw_expo_histogram(e, NULL, 0, f->h, 1, nan_b, 1, err);
    case BOUND_INF: return sw_expo_histogram(e, NULL, 0, f->h, 1, inf_b, 2, err);
    case SCALE_ZERO: return sw_expo_histogram(e, NULL, 0, f->h, 0, ok_b, 1, err);
    case SAMPLE_IN_HISTOGRAM: return sw_expo_sample(e, NULL, 0, 1, err);
    case HISTOGRAM_IN_GAUGE: return sw_expo_histogram(e, NULL, 0, f->h, 1, ok_b, 1, err);
    default: return sw_expo_sample(e, NULL, 0, 1, err); /* NO_FAMILY */
    }
}

/* Programming errors are SW_E_INVAL with a message, and the exposition stays failed. */
static void
test_misuse(void **state)
{
    fixture *f = *state;
    for (int format = SW_EXPO_TEXT; format <= SW_EXPO_PROTOBUF; format++) {
        for (int m = 0; m < MISUSE_COUNT; m++) {
            sw_err err = {0};
            sw_buf_reset(&f->out);
            sw_expo_begin(f->e, (sw_expo_format)format, &f->out);
            if (misuse_call(f, (misuse)m, &err) != SW_E_INVAL)
                fail_msg("misuse %d in format %d was accepted", m, format);
            assert_true(strncmp(err.msg, "expo: ", 6) == 0);
            assert_int_equal(sw_expo_sample(f->e, NULL, 0, 1, NULL), SW_E_INVAL);
            assert_int_equal(sw_expo_finish(f->e, NULL), SW_E_INVAL);
        }
    }
}

/* A full output buffer fails the exposition with SW_E_TOOBIG, in every format. */
static void
test_output_cap(void **state)
{
    fixture *f = *state;
    for (int format = SW_EXPO_TEXT; format <= SW_EXPO_PROTOBUF; format++) {
        sw_buf small;
        sw_buf_init(&small, 40);
        sw_expo_begin(f->e, (sw_expo_format)format, &small);
        sw_status st = sw_expo_family(f->e, "a_fairly_long_metric_name_total", SW_EXPO_COUNTER,
                                      "help text that is long enough", NULL, NULL);
        for (int i = 0; i < 10 && st == SW_OK; i++)
            st = sw_expo_sample(f->e, NULL, 0, i, NULL);
        if (st == SW_OK)
            st = sw_expo_finish(f->e, NULL);
        assert_int_equal(st, SW_E_TOOBIG);
        assert_int_equal(sw_expo_finish(f->e, NULL), SW_E_TOOBIG);
        sw_buf_fini(&small);
    }
}

static void
test_negotiate(void **state)
{
    (void)state;
    static const struct {
        const char *accept;
        sw_expo_format want;
    } cases[] = {
        /* Prometheus 2.42 with native histograms enabled, then its default. */
        {"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
         "encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3,*/*;q=0.1", SW_EXPO_PROTOBUF},
        {"application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
         "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1", SW_EXPO_OPENMETRICS},
        {NULL, SW_EXPO_TEXT},
        {"", SW_EXPO_TEXT},
        {"*/*", SW_EXPO_TEXT},
        {"text/plain", SW_EXPO_TEXT},
        {"text/plain;version=0.0.4", SW_EXPO_TEXT},
        {"application/json", SW_EXPO_TEXT},
        /* q decides, not order; a later range with a higher q wins. */
        {"text/plain;version=0.0.4;q=0.5,application/openmetrics-text;version=1.0.0;q=0.6",
         SW_EXPO_OPENMETRICS},
        {"text/plain;q=0.9, application/openmetrics-text;q=0.8", SW_EXPO_TEXT},
        /* Ties go to the first listed. */
        {"application/openmetrics-text;q=0.5,text/plain;q=0.5", SW_EXPO_OPENMETRICS},
        /* q=0 refuses a range. */
        {"application/openmetrics-text;version=1.0.0;q=0,text/plain;q=0.1", SW_EXPO_TEXT},
        /* Protobuf without the right proto, or with another encoding, is not ours. */
        {"application/vnd.google.protobuf;encoding=delimited", SW_EXPO_TEXT},
        {"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text",
         SW_EXPO_TEXT},
        {"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily",
         SW_EXPO_PROTOBUF},
        /* Only OpenMetrics 1.0.0 is written: 0.0.1 alone falls back to text. */
        {"application/openmetrics-text;version=0.0.1", SW_EXPO_TEXT},
        {"text/plain;version=1.0.0", SW_EXPO_TEXT},
        /* Spaces, quoted parameters and capitals are fine. */
        {" Application/OpenMetrics-Text ; version=\"1.0.0\" ; q=1 , text/plain ; q=0.2",
         SW_EXPO_OPENMETRICS},
        {"text/plain;q=abc,application/openmetrics-text;q=0.1", SW_EXPO_OPENMETRICS},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        if (sw_expo_negotiate(cases[i].accept) != cases[i].want)
            fail_msg("case %zu: %s", i, cases[i].accept ? cases[i].accept : "(null)");
    }
    assert_string_equal(sw_expo_content_type(SW_EXPO_TEXT),
                        "text/plain; version=0.0.4; charset=utf-8");
    assert_string_equal(sw_expo_content_type(SW_EXPO_OPENMETRICS),
                        "application/openmetrics-text; version=1.0.0; charset=utf-8");
    assert_string_equal(sw_expo_content_type(SW_EXPO_PROTOBUF),
                        "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily;"
                        " encoding=delimited");
}

/* Split the delimited stream into MetricFamily messages (at most max). */
static size_t
decode_families(const sw_buf *out, Io__Prometheus__Client__MetricFamily **fams, size_t max)
{
    size_t n = 0, pos = 0;
    while (pos < out->len) {
        uint64_t len = 0;
        for (int shift = 0;; shift += 7) {
            assert_true(pos < out->len && shift < 64);
            uint8_t byte = out->data[pos++];
            len |= (uint64_t)(byte & 0x7f) << shift;
            if (!(byte & 0x80))
                break;
        }
        assert_true(len <= out->len - pos && n < max);
        fams[n] = io__prometheus__client__metric_family__unpack(NULL, len, out->data + pos);
        assert_non_null(fams[n]);
        n++;
        pos += len;
    }
    return n;
}

static void
free_families(Io__Prometheus__Client__MetricFamily **fams, size_t n)
{
    for (size_t i = 0; i < n; i++)
        io__prometheus__client__metric_family__free_unpacked(fams[i], NULL);
}

static void
test_protobuf_families(void **state)
{
    fixture *f = *state;
    Io__Prometheus__Client__MetricFamily *fams[4];
    write_families(f, SW_EXPO_PROTOBUF);
    size_t n = decode_families(&f->out, fams, 4);
    assert_int_equal(n, 3);

    assert_string_equal(fams[0]->name, "slawatch_requests_total");
    assert_string_equal(fams[0]->help, help_counter); /* raw: protobuf needs no escaping */
    assert_int_equal(fams[0]->type, IO__PROMETHEUS__CLIENT__METRIC_TYPE__COUNTER);
    assert_int_equal(fams[0]->n_metric, 2);
    assert_int_equal(fams[0]->metric[0]->n_label, 1);
    assert_string_equal(fams[0]->metric[0]->label[0]->value, "a\"b\\c\nd");
    assert_true(fams[0]->metric[0]->counter->value == 42);
    assert_string_equal(fams[0]->metric[1]->label[1]->name, "env");
    assert_true(fams[0]->metric[1]->counter->value == 1e20);

    assert_int_equal(fams[1]->type, IO__PROMETHEUS__CLIENT__METRIC_TYPE__GAUGE);
    assert_string_equal(fams[1]->unit, "ratio");
    assert_int_equal(fams[1]->n_metric, 7);
    assert_true(isnan(fams[1]->metric[1]->gauge->value));
    assert_true(fams[1]->metric[2]->gauge->value == INFINITY);
    assert_int_equal(fams[1]->metric[0]->n_label, 0);

    Io__Prometheus__Client__Histogram *h = fams[2]->metric[0]->histogram;
    assert_int_equal(fams[2]->type, IO__PROMETHEUS__CLIENT__METRIC_TYPE__HISTOGRAM);
    assert_non_null(h);
    assert_int_equal(h->sample_count, 4);
    assert_true(fabs(h->sample_sum - 0.0055) < 1e-15);
    static const uint64_t cumulative[] = {2, 3, 4, 4, 4};
    assert_int_equal(h->n_bucket, 5);
    for (size_t i = 0; i < 5; i++) {
        assert_true(h->bucket[i]->upper_bound == sla_bounds[i]);
        assert_int_equal(h->bucket[i]->cumulative_count, cumulative[i]);
    }
    free_families(fams, n);
}

/* Native buckets as (absolute index, count) pairs, rebuilt from spans and deltas. */
static size_t
native_buckets(const Io__Prometheus__Client__Histogram *h, int32_t *index, int64_t *count,
               size_t max)
{
    size_t n = 0, d = 0;
    int32_t at = 0;
    int64_t c = 0;
    for (size_t s = 0; s < h->n_positive_span; s++) {
        at += h->positive_span[s]->offset;
        for (uint32_t k = 0; k < h->positive_span[s]->length; k++) {
            assert_true(d < h->n_positive_delta && n < max);
            c += h->positive_delta[d++];
            assert_true(c > 0);
            index[n] = at++;
            count[n++] = c;
        }
    }
    assert_int_equal(d, h->n_positive_delta);
    return n;
}

static Io__Prometheus__Client__Histogram *
one_histogram(fixture *f, Io__Prometheus__Client__MetricFamily **fam)
{
    static const double bounds[] = {0.005, 0.05, 0.5, 10};
    sw_buf_reset(&f->out);
    sw_expo_begin(f->e, SW_EXPO_PROTOBUF, &f->out);
    assert_int_equal(sw_expo_family(f->e, "lat_seconds", SW_EXPO_HISTOGRAM, NULL, "seconds",
                                    NULL), SW_OK);
    assert_int_equal(sw_expo_histogram(f->e, NULL, 0, f->h, 1e-6, bounds, 4, NULL), SW_OK);
    assert_int_equal(sw_expo_finish(f->e, NULL), SW_OK);
    assert_int_equal(decode_families(&f->out, fam, 1), 1);
    return fam[0]->metric[0]->histogram;
}

/* 1 ms, 10 ms and 100 ms: three native buckets, at ceil(log2(v) * 2^8) each. */
static void
test_native_known_values(void **state)
{
    fixture *f = *state;
    static const double v_s[] = {0.001, 0.01, 0.1};
    static const int64_t times[] = {7, 50, 3};
    for (size_t i = 0; i < 3; i++)
        sw_hdr_record_n(f->h, (int64_t)(v_s[i] * 1e6), times[i]);
    sw_hdr_record_n(f->h, 0, 2); /* a zero duration: the zero bucket */
    Io__Prometheus__Client__MetricFamily *fam;
    Io__Prometheus__Client__Histogram *h = one_histogram(f, &fam);

    assert_int_equal(h->schema, 8);
    assert_true(h->zero_threshold > 0 && h->zero_threshold < 1e-6);
    assert_int_equal(h->zero_count, 2);
    assert_int_equal(h->sample_count, 62);
    int32_t index[8];
    int64_t count[8];
    assert_int_equal(native_buckets(h, index, count, 8), 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(index[i], (int32_t)ceil(log2(v_s[i]) * 256));
        assert_int_equal(count[i], times[i]);
        /* v lies in (base^(i-1), base^i]. */
        assert_true(v_s[i] > pow(2, (index[i] - 1) / 256.0) && v_s[i] <= pow(2, index[i] / 256.0));
    }
    static const uint64_t cumulative[] = {9, 59, 62, 62};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(h->bucket[i]->cumulative_count, cumulative[i]);
    free_families(&fam, 1);
}

/* A wide spread of values: counts add up, indexes increase, every value in its bucket. */
static void
test_native_spread(void **state)
{
    fixture *f = *state;
    uint64_t x = 12345;
    int64_t total = 0;
    for (int i = 0; i < 20000; i++) {
        x = x * 6364136223846793005u + 1442695040888963407u;
        int64_t v = (int64_t)(exp((double)(x >> 11) / 9007199254740992.0 * 21.0)); /* 1 us..1.3 s */
        sw_hdr_record(f->h, v);
        total++;
    }
    Io__Prometheus__Client__MetricFamily *fam;
    Io__Prometheus__Client__Histogram *h = one_histogram(f, &fam);
    enum { MAX = 10000 };
    int32_t *index = malloc(MAX * sizeof *index);
    int64_t *count = malloc(MAX * sizeof *count);
    assert_non_null(index);
    assert_non_null(count);
    size_t n = native_buckets(h, index, count, MAX);
    int64_t sum = (int64_t)h->zero_count;
    for (size_t i = 0; i < n; i++) {
        sum += count[i];
        if (i > 0)
            assert_true(index[i] > index[i - 1]);
    }
    assert_int_equal(sum, total);
    assert_int_equal(h->sample_count, (uint64_t)total);
    /* Classic buckets agree with the HDR's own at-or-below counts. */
    assert_int_equal(h->bucket[0]->cumulative_count, sw_hdr_count_at_or_below(f->h, 5000));
    assert_int_equal(h->bucket[2]->cumulative_count, sw_hdr_count_at_or_below(f->h, 500000));
    free(index);
    free(count);
    free_families(&fam, 1);
}

/* The writer is reused: a second exposition is complete and independent of the first. */
/* A summary: quantile="..." per value, then _sum and _count (Prometheus' text format 0.0.4 and
 * OpenMetrics 1.0 spell summaries this way; protobuf's Summary carries the same). */
static const sw_expo_quantile summary_q[] = {{0.5, 0.01}, {0.95, 0.25}, {0.99, NAN}};

static void
write_summary(fixture *f, sw_expo_format format)
{
    const sw_expo_label api[] = {{"service", "api"}, {"window", "5m"}};
    sw_buf_reset(&f->out);
    sw_expo_begin(f->e, format, &f->out);
    assert_int_equal(sw_expo_family(f->e, "slawatch_sli_latency_seconds", SW_EXPO_SUMMARY,
                                    "Latency.", "seconds", NULL),
                     SW_OK);
    assert_int_equal(sw_expo_summary(f->e, api, 2, summary_q, 3, 1.5, 120, NULL), SW_OK);
    assert_int_equal(sw_expo_finish(f->e, NULL), SW_OK);
}

static void
test_summary(void **state)
{
    fixture *f = *state;
    const char *series = "slawatch_sli_latency_seconds{service=\"api\",window=\"5m\",quantile=\"0.5\"} 0.01\n"
                         "slawatch_sli_latency_seconds{service=\"api\",window=\"5m\",quantile=\"0.95\"} 0.25\n"
                         "slawatch_sli_latency_seconds{service=\"api\",window=\"5m\",quantile=\"0.99\"} NaN\n"
                         "slawatch_sli_latency_seconds_sum{service=\"api\",window=\"5m\"} 1.5\n"
                         "slawatch_sli_latency_seconds_count{service=\"api\",window=\"5m\"} 120\n";
    char want[2048];
    write_summary(f, SW_EXPO_TEXT);
    snprintf(want, sizeof want,
             "# HELP slawatch_sli_latency_seconds Latency.\n"
             "# TYPE slawatch_sli_latency_seconds summary\n%s",
             series);
    assert_text(&f->out, want);
    write_summary(f, SW_EXPO_OPENMETRICS);
    snprintf(want, sizeof want,
             "# TYPE slawatch_sli_latency_seconds summary\n"
             "# UNIT slawatch_sli_latency_seconds seconds\n"
             "# HELP slawatch_sli_latency_seconds Latency.\n%s# EOF\n",
             series);
    assert_text(&f->out, want);

    Io__Prometheus__Client__MetricFamily *fams[2];
    write_summary(f, SW_EXPO_PROTOBUF);
    assert_int_equal(decode_families(&f->out, fams, 2), 1);
    assert_int_equal(fams[0]->type, IO__PROMETHEUS__CLIENT__METRIC_TYPE__SUMMARY);
    const Io__Prometheus__Client__Summary *sm = fams[0]->metric[0]->summary;
    assert_non_null(sm);
    assert_true(sm->sample_count == 120 && sm->sample_sum == 1.5);
    assert_int_equal(sm->n_quantile, 3);
    assert_true(sm->quantile[1]->quantile == 0.95 && sm->quantile[1]->value == 0.25);
    assert_true(isnan(sm->quantile[2]->value));
    free_families(fams, 1);

    /* A quantile label of its own, quantiles out of order or outside (0, 1): refused. */
    const sw_expo_label own[] = {{"quantile", "0.5"}};
    const sw_expo_quantile bad[][2] = {{{0.95, 1}, {0.5, 1}}, {{0, 1}, {0.5, 1}}, {{0.5, 1}, {1, 1}}};
    for (size_t i = 0; i <= sizeof bad / sizeof bad[0]; i++) {
        sw_buf_reset(&f->out);
        sw_expo_begin(f->e, SW_EXPO_TEXT, &f->out);
        assert_int_equal(sw_expo_family(f->e, "x_seconds", SW_EXPO_SUMMARY, NULL, NULL, NULL),
                         SW_OK);
        sw_status st = i < sizeof bad / sizeof bad[0]
                           ? sw_expo_summary(f->e, NULL, 0, bad[i], 2, 0, 0, NULL)
                           : sw_expo_summary(f->e, own, 1, summary_q, 3, 0, 0, NULL);
        assert_int_equal(st, SW_E_INVAL);
    }
    /* A summary series in a gauge family, and a gauge sample in a summary family: refused. */
    sw_expo_begin(f->e, SW_EXPO_TEXT, &f->out);
    assert_int_equal(sw_expo_family(f->e, "g", SW_EXPO_GAUGE, NULL, NULL, NULL), SW_OK);
    assert_int_equal(sw_expo_summary(f->e, NULL, 0, summary_q, 3, 0, 0, NULL), SW_E_INVAL);
    sw_expo_begin(f->e, SW_EXPO_TEXT, &f->out);
    assert_int_equal(sw_expo_family(f->e, "s", SW_EXPO_SUMMARY, NULL, NULL, NULL), SW_OK);
    assert_int_equal(sw_expo_sample(f->e, NULL, 0, 1, NULL), SW_E_INVAL);
}

static void
test_reuse(void **state)
{
    fixture *f = *state;
    write_families(f, SW_EXPO_PROTOBUF);
    size_t first = f->out.len;
    sw_hdr_reset(f->h);
    write_families(f, SW_EXPO_PROTOBUF);
    assert_int_equal(f->out.len, first);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_text_004, setup, teardown),
        cmocka_unit_test_setup_teardown(test_openmetrics, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counter_unit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_misuse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_output_cap, setup, teardown),
        cmocka_unit_test(test_negotiate),
        cmocka_unit_test_setup_teardown(test_protobuf_families, setup, teardown),
        cmocka_unit_test_setup_teardown(test_native_known_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_native_spread, setup, teardown),
        cmocka_unit_test_setup_teardown(test_summary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reuse, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
