/*
 * Remote-write request decoding: caps on the body, the snappy preamble (checked before any
 * allocation) and the decoded size; the WriteRequest read in place (prompb_wire): first checked
 * and validated whole, then walked again to emit to the sink, with labels lent from the decoded
 * bytes and scratch arrays sized by the validation pass, so nothing is allocated per sample.
 */
#include "slawatch/rw_recv.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "slawatch/json.h"
#include "slawatch/promhist.h"
#include "slawatch/prompb_wire.h"
#include "slawatch/snappy.h"
#include "slawatch/units.h"

/* Labels per series; beyond it the duplicate check (quadratic for unsorted labels) is refused. */
#define MAX_LABELS 1024
#define SCHEMA_MIN (-4)
#define SCHEMA_MAX 8
#define SHOWN 64 /* bytes of a name or value quoted in an error */

/* Scratch space for one series at a time: its labels, and a histogram's spans and counts
 * (both signs), sized by the validation pass for the largest. */
typedef struct rw_scratch {
    sw_prom_label *labels;
    sw_prom_span *spans;
    double *counts;
    size_t max_spans, max_buckets;
    bool labels_first; /* in every series: emitting takes one walk per series */
} rw_scratch;

/* One series as the validation pass sees it. */
typedef struct series_view {
    size_t n_labels; /* in scratch, __name__ among them */
    size_t samples, histograms;
    int64_t latest_ms;
    bool labels_first; /* no label after a sample or histogram */
} series_view;

static void
limits_resolve(const sw_rw_limits *in, sw_rw_limits *out)
{
    *out = in != NULL ? *in : (sw_rw_limits){0};
    out->max_body = out->max_body ? out->max_body : SW_RW_DEFAULT_MAX_BODY;
    out->max_decoded = out->max_decoded ? out->max_decoded : SW_RW_DEFAULT_MAX_DECODED;
    out->max_series = out->max_series ? out->max_series : SW_RW_DEFAULT_MAX_SERIES;
    out->max_samples = out->max_samples ? out->max_samples : SW_RW_DEFAULT_MAX_SAMPLES;
}

/*
 * Each thread keeps its decoded-body buffer and label scratch between requests (up to
 * KEEP_BYTES of body), so receiving allocates nothing in the steady state; freed at thread exit.
 */
#define KEEP_BYTES ((size_t)1 << 20)

typedef struct rw_thread {
    uint8_t *data;
    size_t cap;
    sw_prom_label labels[MAX_LABELS];
} rw_thread;

static pthread_key_t thread_key;
static pthread_once_t thread_once = PTHREAD_ONCE_INIT;
static bool thread_key_ok;

static void
thread_free(void *p)
{
    rw_thread *t = p;
    free(t->data);
    free(t);
}

static void
thread_key_init(void)
{
    thread_key_ok = pthread_key_create(&thread_key, thread_free) == 0;
}

/* This thread's buffers; NULL without memory. */
static rw_thread *
thread_buffers(void)
{
    pthread_once(&thread_once, thread_key_init);
    if (!thread_key_ok)
        return NULL;
    rw_thread *t = pthread_getspecific(thread_key);
    if (t == NULL && (t = calloc(1, sizeof *t)) != NULL &&
        pthread_setspecific(thread_key, t) != 0) {
        free(t);
        t = NULL;
    }
    return t;
}

/* The decoded body in t->data, its size checked against the cap before allocating. */
static sw_status
decompress(const uint8_t *body, size_t len, const sw_rw_limits *lim, rw_thread *t, size_t *ret_len,
           sw_err *err)
{
    if (len > lim->max_body)
        return sw_err_set(err, SW_E_TOOBIG, "body of %zu bytes is over the limit of %zu", len,
                          lim->max_body);
    size_t n;
    sw_status st = sw_snappy_decoded_len(body, len, &n, err);
    if (st != SW_OK)
        return st;
    if (n > lim->max_decoded)
        return sw_err_set(err, SW_E_TOOBIG, "snappy: decodes to %zu bytes, over the limit of %zu",
                          n, lim->max_decoded);
    if (n > t->cap) {
        free(t->data);
        t->cap = 0;
        if ((t->data = malloc(n)) == NULL)
            return sw_err_set(err, SW_E_NOMEM, "no memory for a decoded body of %zu bytes", n);
        t->cap = n;
    }
    if ((st = sw_snappy_uncompress(body, len, t->data, n, err)) != SW_OK)
        return st;
    *ret_len = n;
    return SW_OK;
}

static int
shown(size_t len)
{
    return len < SHOWN ? (int)len : SHOWN;
}

/* Bytes of label names ([a-zA-Z0-9_], not first a digit) and, with ':', metric names: one
 * table lookup a byte, as every label of every series is checked. */
enum { NAME_BYTE = 1, METRIC_BYTE = 2, DIGIT_BYTE = 4 };
static const uint8_t name_bytes[256] = {
    ['a' ... 'z'] = NAME_BYTE | METRIC_BYTE,
    ['A' ... 'Z'] = NAME_BYTE | METRIC_BYTE,
    ['0' ... '9'] = NAME_BYTE | METRIC_BYTE | DIGIT_BYTE,
    ['_'] = NAME_BYTE | METRIC_BYTE,
    [':'] = METRIC_BYTE,
};

static bool
name_ok(const char *s, size_t n, uint8_t allowed)
{
    if (n == 0 || (name_bytes[(unsigned char)s[0]] & DIGIT_BYTE))
        return false;
    uint8_t all = allowed;
    for (size_t i = 0; i < n; i++)
        all &= name_bytes[(unsigned char)s[i]];
    return all != 0;
}

static bool
label_name_ok(const char *s, size_t n)
{
    return name_ok(s, n, NAME_BYTE);
}

static bool
metric_name_ok(const char *s, size_t n)
{
    return name_ok(s, n, METRIC_BYTE);
}

/* Whether s holds only bytes 1..127 (then it is UTF-8 without NUL), 8 bytes at a time. */
static bool
ascii_without_nul(const char *s, size_t n)
{
    const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
    uint64_t bad = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, sizeof w);
        bad |= (w | ((w - ones) & ~w)) & highs; /* a high bit, or a zero byte */
    }
    for (; i < n; i++)
        bad |= (uint8_t)s[i] - 1u >= 0x7fu;
    return bad == 0;
}

static bool
is_metric_name(const sw_prom_label *l)
{
    return l->name_len == 8 && memcmp(l->name, "__name__", 8) == 0;
}

/* Byte order, shorter first on a common prefix (strcmp's order for names without NUL). */
static int
name_cmp(const sw_prom_label *a, const sw_prom_label *b)
{
    size_t n = a->name_len < b->name_len ? a->name_len : b->name_len;
    int c = memcmp(a->name, b->name, n);
    return c != 0 ? c : (a->name_len > b->name_len) - (a->name_len < b->name_len);
}

static bool
has_duplicate_name(const sw_prom_label *l, size_t n)
{
    bool sorted = true;
    for (size_t i = 1; i < n && sorted; i++)
        sorted = name_cmp(&l[i - 1], &l[i]) < 0;
    if (sorted)
        return false;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (name_cmp(&l[i], &l[j]) == 0)
                return true;
    return false;
}

/* One label: a valid name, a value of UTF-8 without NUL (which no reader here could carry). */
static sw_status
check_label(const sw_prom_label *l, size_t idx, sw_err *err)
{
    if (!label_name_ok(l->name, l->name_len))
        return sw_err_set(err, SW_E_INVAL, "series %zu: invalid label name '%.*s'", idx,
                          shown(l->name_len), l->name);
    if (ascii_without_nul(l->value, l->value_len))
        return SW_OK;
    if (memchr(l->value, '\0', l->value_len) != NULL)
        return sw_err_set(err, SW_E_INVAL, "series %zu: label '%.*s' has a value with a NUL byte",
                          idx, shown(l->name_len), l->name);
    if (!sw_json_utf8_valid_n(l->value, l->value_len))
        return sw_err_set(err, SW_E_INVAL,
                          "series %zu: label '%.*s' has a value that is not "
                          "valid UTF-8",
                          idx, shown(l->name_len), l->name);
    return SW_OK;
}

/* One sign's spans against its deltas or counts; the counts neither negative nor NaN, the
 * int deltas adding up without overflow. */
static sw_status
check_side(const sw_prompb_hist *h, bool negative, size_t idx, size_t *ret_spans,
           size_t *ret_buckets, sw_err *err)
{
    const char *side = negative ? "negative" : "positive";
    uint64_t buckets;
    *ret_spans = sw_prompb_hist_spans(h, negative, NULL, 0, &buckets);
    if (buckets > SW_NATIVE_MAX_BUCKETS)
        return sw_err_set(err, SW_E_TOOBIG, "series %zu: %s spans cover over %u buckets", idx, side,
                          SW_NATIVE_MAX_BUCKETS);
    size_t deltas, counts;
    sw_prompb_hist_sizes(h, negative, &deltas, &counts);
    size_t given = h->count_is_float ? counts : deltas;
    size_t other = h->count_is_float ? deltas : counts;
    if (given != buckets || other != 0)
        return sw_err_set(err, SW_E_INVAL,
                          "series %zu: histogram has %zu %s %s for spans of %zu buckets%s", idx,
                          given, side, h->count_is_float ? "counts" : "deltas", (size_t)buckets,
                          other ? " and counts of the other kind" : "");
    *ret_buckets = (size_t)buckets;
    sw_prompb_values v = sw_prompb_hist_values(h, negative, h->count_is_float);
    int64_t abs_count = 0, delta;
    double count;
    for (size_t i = 0; i < given; i++) {
        bool ok = h->count_is_float
                      ? sw_prompb_next_count(&v, &count) && count >= 0
                      : sw_prompb_next_delta(&v, &delta) &&
                            !__builtin_add_overflow(abs_count, delta, &abs_count) && abs_count >= 0;
        if (!ok)
            return sw_err_set(err, SW_E_INVAL,
                              "series %zu: histogram %s bucket %zu has a negative, NaN or "
                              "overflowing count",
                              idx, side, i);
    }
    return SW_OK;
}

static sw_status
check_histogram(const sw_prompb_hist *h, size_t idx, rw_scratch *sc, sw_err *err)
{
    if (h->schema < SCHEMA_MIN || h->schema > SCHEMA_MAX)
        return sw_err_set(err, SW_E_INVAL, "series %zu: histogram schema %d outside %d..%d", idx,
                          (int)h->schema, SCHEMA_MIN, SCHEMA_MAX);
    size_t pos_spans, pos, neg_spans, neg;
    sw_status st = check_side(h, false, idx, &pos_spans, &pos, err);
    if (st == SW_OK)
        st = check_side(h, true, idx, &neg_spans, &neg, err);
    if (st != SW_OK)
        return st;
    /* Span counts are bounded by the decoded size, buckets by the cap: the sums cannot wrap. */
    size_t spans = pos_spans + neg_spans;
    sc->max_spans = spans > sc->max_spans ? spans : sc->max_spans;
    sc->max_buckets = pos + neg > sc->max_buckets ? pos + neg : sc->max_buckets;
    return SW_OK;
}

/* A series' labels into scratch, its samples and histograms counted and the latest time found,
 * in one walk; false past MAX_LABELS. */
static bool
scan_series(sw_prompb_iter ts, rw_scratch *sc, series_view *v)
{
    sw_prompb_item it;
    sw_prompb_kind k;
    *v = (series_view){.latest_ms = INT64_MIN, .labels_first = true};
    while ((k = sw_prompb_next_item(&ts, SW_PROMPB_WANT_ALL, &it)) != SW_PROMPB_END) {
        if (k == SW_PROMPB_LABEL) {
            if (v->n_labels == MAX_LABELS)
                return false;
            sc->labels[v->n_labels++] = it.label;
            v->labels_first &= v->samples + v->histograms == 0;
            continue;
        }
        int64_t at = k == SW_PROMPB_SAMPLE ? it.timestamp_ms : it.hist.timestamp_ms;
        v->latest_ms = at > v->latest_ms ? at : v->latest_ms;
        v->samples += k == SW_PROMPB_SAMPLE;
        v->histograms += k == SW_PROMPB_HISTOGRAM;
    }
    return true;
}

/* The labels in scratch: each valid, __name__ present and valid, no name twice. */
static sw_status
check_labels(rw_scratch *sc, series_view *v, size_t idx, sw_err *err)
{
    const sw_prom_label *name = NULL;
    for (size_t i = 0; i < v->n_labels; i++) {
        sw_status st = check_label(&sc->labels[i], idx, err);
        if (st != SW_OK)
            return st;
        if (is_metric_name(&sc->labels[i]))
            name = &sc->labels[i];
    }
    if (name == NULL || !metric_name_ok(name->value, name->value_len))
        return sw_err_set(err, SW_E_INVAL, "series %zu: %s metric name '%.*s'", idx,
                          name == NULL ? "no" : "invalid", name ? shown(name->value_len) : 0,
                          name ? name->value : "");
    if (has_duplicate_name(sc->labels, v->n_labels))
        return sw_err_set(err, SW_E_INVAL, "series %zu (%.*s): repeated label name", idx,
                          shown(name->value_len), name->value);
    return SW_OK;
}

static sw_status
check_histograms(sw_prompb_iter ts, rw_scratch *sc, size_t idx, sw_err *err)
{
    sw_prompb_item it;
    while (sw_prompb_next_item(&ts, SW_PROMPB_WANT(SW_PROMPB_HISTOGRAM), &it) != SW_PROMPB_END) {
        sw_status st = check_histogram(&it.hist, idx, sc, err);
        if (st != SW_OK)
            return st;
    }
    return SW_OK;
}

/* Samples and histograms dated after lim->max_timestamp_ms (when set) are refused. */
static sw_status
check_times(const series_view *v, size_t idx, const sw_rw_limits *lim, sw_err *err)
{
    if (lim->max_timestamp_ms == 0 || v->latest_ms <= lim->max_timestamp_ms)
        return SW_OK;
    char at[40], bound[40];
    sw_units_format_time(v->latest_ms, at, sizeof at);
    sw_units_format_time(lim->max_timestamp_ms, bound, sizeof bound);
    return sw_err_set(err, SW_E_INVAL, "series %zu: sample time %s is after %s: too far ahead", idx,
                      at, bound);
}

static size_t
count_series(const uint8_t *data, size_t len)
{
    sw_prompb_iter req = sw_prompb_iter_of(data, len), ts;
    size_t n = 0;
    while (sw_prompb_next_series(&req, &ts))
        n++;
    return n;
}

/* Every series checked and counted before the sink sees any. */
static sw_status
validate(const uint8_t *data, size_t len, const sw_rw_limits *lim, rw_scratch *sc,
         sw_rw_counts *counts, sw_err *err)
{
    sw_status st = sw_prompb_check(data, len, err);
    if (st != SW_OK)
        return st;
    size_t n_series = count_series(data, len);
    if (n_series > lim->max_series)
        return sw_err_set(err, SW_E_TOOBIG, "%zu series, over the limit of %zu", n_series,
                          lim->max_series);
    sw_rw_counts c = {.series = n_series};
    sc->labels_first = true;
    sw_prompb_iter req = sw_prompb_iter_of(data, len), ts;
    for (size_t i = 0; sw_prompb_next_series(&req, &ts); i++) {
        series_view v;
        if (!scan_series(ts, sc, &v))
            return sw_err_set(err, SW_E_TOOBIG, "series %zu: over %d labels", i, MAX_LABELS);
        if ((st = check_labels(sc, &v, i, err)) != SW_OK ||
            (st = check_times(&v, i, lim, err)) != SW_OK ||
            (v.histograms > 0 && (st = check_histograms(ts, sc, i, err)) != SW_OK))
            return st;
        c.samples += v.samples;
        c.histograms += v.histograms;
        sc->labels_first &= v.labels_first;
        if (c.samples + c.histograms > lim->max_samples)
            return sw_err_set(err, SW_E_TOOBIG, "over %zu samples by series %zu", lim->max_samples,
                              i);
    }
    *counts = c;
    return SW_OK;
}

/* The sample template of a series: its name and other labels (in scratch). */
static void
series_sample(sw_prompb_iter ts, rw_scratch *sc, sw_prom_sample *s)
{
    sw_prompb_item it;
    size_t n = 0;
    *s = (sw_prom_sample){.type = SW_PROM_UNKNOWN, .has_timestamp = true};
    while (sw_prompb_next_item(&ts, SW_PROMPB_WANT(SW_PROMPB_LABEL), &it) != SW_PROMPB_END) {
        if (is_metric_name(&it.label)) {
            s->name = it.label.value;
            s->name_len = it.label.value_len;
        } else {
            sc->labels[n++] = it.label;
        }
    }
    s->labels = sc->labels;
    s->n_labels = n;
}

/* One side's spans and absolute counts into the scratch arrays (int deltas accumulated:
 * validation checked they neither overflow nor go negative). */
static void
convert_side(const sw_prompb_hist *h, bool negative, sw_prom_span *spans, size_t *ret_spans,
             double *counts, size_t *ret_counts)
{
    uint64_t buckets;
    *ret_spans = sw_prompb_hist_spans(h, negative, spans, SIZE_MAX, &buckets);
    sw_prompb_values v = sw_prompb_hist_values(h, negative, h->count_is_float);
    int64_t abs_count = 0, delta;
    double count;
    size_t n = 0;
    /* Read into a local first: counts is NULL while the scratch has never held a bucket, and
     * &counts[0] of NULL is already undefined even if nothing is stored. */
    if (h->count_is_float)
        while (sw_prompb_next_count(&v, &count))
            counts[n++] = count;
    else
        while (sw_prompb_next_delta(&v, &delta))
            counts[n++] = (double)(abs_count += delta);
    *ret_counts = n;
}

static sw_status
emit_histogram(const sw_prompb_hist *h, sw_prom_sample *s, rw_scratch *sc, const sw_prom_sink *sink,
               sw_err *err)
{
    sw_prom_native n = {
        .schema = h->schema,
        .zero_threshold = h->zero_threshold,
        .zero_count = h->zero_count_is_float ? h->zero_count_float : (double)h->zero_count_int,
        .count = h->count_is_float ? h->count_float : (double)h->count_int,
        .sum = h->sum,
        .counter_reset = h->reset_hint == 1,
        .gauge = h->reset_hint == 3,
    };
    /* Both signs share the scratch arrays: the positive side sits after the negative one. The
     * arrays are NULL until a histogram with buckets came (no offset from NULL, even 0). */
    convert_side(h, true, sc->spans, &n.n_neg_spans, sc->counts, &n.n_neg_counts);
    sw_prom_span *pos_spans = sc->spans != NULL ? sc->spans + n.n_neg_spans : NULL;
    double *pos_counts = sc->counts != NULL ? sc->counts + n.n_neg_counts : NULL;
    convert_side(h, false, pos_spans, &n.n_pos_spans, pos_counts, &n.n_pos_counts);
    n.neg_spans = sc->spans;
    n.neg_counts = sc->counts;
    n.pos_spans = pos_spans;
    n.pos_counts = pos_counts;
    s->timestamp_ms = h->timestamp_ms;
    return sink->native(sink->ctx, s, &n, err);
}

/* A series whose labels all come first (as every sender writes them): labels and samples in
 * one walk; whether it holds histograms in *ret_histograms. */
static sw_status
emit_samples_one_walk(sw_prompb_iter ts, rw_scratch *sc, sw_prom_sample *s,
                      const sw_prom_sink *sink, bool *ret_histograms, sw_err *err)
{
    sw_prompb_item it;
    sw_prompb_kind k;
    size_t n = 0;
    *s = (sw_prom_sample){.type = SW_PROM_UNKNOWN, .has_timestamp = true, .labels = sc->labels};
    *ret_histograms = false;
    while ((k = sw_prompb_next_item(&ts, SW_PROMPB_WANT_ALL, &it)) != SW_PROMPB_END) {
        if (k == SW_PROMPB_LABEL && is_metric_name(&it.label)) {
            s->name = it.label.value;
            s->name_len = it.label.value_len;
        } else if (k == SW_PROMPB_LABEL) {
            sc->labels[n++] = it.label;
            s->n_labels = n;
        } else if (k == SW_PROMPB_SAMPLE) {
            s->value = it.value;
            s->timestamp_ms = it.timestamp_ms;
            sw_status st = sink->sample(sink->ctx, s, err);
            if (st != SW_OK)
                return st;
        } else {
            *ret_histograms = true;
        }
    }
    return SW_OK;
}

/* Labels first, then the samples: two walks, for series with labels after points. */
static sw_status
emit_samples_two_walks(sw_prompb_iter ts, rw_scratch *sc, sw_prom_sample *s,
                       const sw_prom_sink *sink, sw_err *err)
{
    series_sample(ts, sc, s);
    sw_prompb_item it;
    while (sw_prompb_next_item(&ts, SW_PROMPB_WANT(SW_PROMPB_SAMPLE), &it) != SW_PROMPB_END) {
        s->value = it.value;
        s->timestamp_ms = it.timestamp_ms;
        sw_status st = sink->sample(sink->ctx, s, err);
        if (st != SW_OK)
            return st;
    }
    return SW_OK;
}

/* A series' samples, then (to a sink that takes them) its histograms. */
static sw_status
emit_series(sw_prompb_iter ts, size_t idx, rw_scratch *sc, const sw_prom_sink *sink, sw_err *err)
{
    sw_prom_sample s;
    bool histograms = true;
    sw_status st = sc->labels_first ? emit_samples_one_walk(ts, sc, &s, sink, &histograms, err)
                                    : emit_samples_two_walks(ts, sc, &s, sink, err);
    if (st != SW_OK || sink->native == NULL || !histograms)
        return st;
    sw_prompb_item it;
    while (sw_prompb_next_item(&ts, SW_PROMPB_WANT(SW_PROMPB_HISTOGRAM), &it) != SW_PROMPB_END) {
        if ((st = emit_histogram(&it.hist, &s, sc, sink, err)) != SW_OK) {
            sw_err_prefix(err, "series %zu (%.*s)", idx, shown(s.name_len), s.name);
            return st;
        }
    }
    return SW_OK;
}

static sw_status
emit(const uint8_t *data, size_t len, rw_scratch *sc, const sw_prom_sink *sink, sw_err *err)
{
    sw_prompb_iter req = sw_prompb_iter_of(data, len), ts;
    for (size_t i = 0; sw_prompb_next_series(&req, &ts); i++) {
        sw_status st = emit_series(ts, i, sc, sink, err);
        if (st != SW_OK)
            return st;
    }
    return SW_OK;
}

/* value is token, case-insensitively, followed by nothing or by parameters. */
static bool
header_is(const char *value, const char *token)
{
    size_t n = strlen(token);
    return value != NULL && strncasecmp(value, token, n) == 0 &&
           (value[n] == '\0' || value[n] == ';' || value[n] == ' ');
}

/* The proto parameter of a Content-Type ("" when none), into out. */
static void
proto_param(const char *content_type, char *out, size_t cap)
{
    out[0] = '\0';
    for (const char *p = strchr(content_type, ';'); p != NULL; p = strchr(p + 1, ';')) {
        const char *q = p + 1 + strspn(p + 1, " \t");
        if (strncasecmp(q, "proto=", 6) == 0) {
            q += 6;
            snprintf(out, cap, "%.*s", (int)strcspn(q, " \t;"), q);
            return;
        }
    }
}

sw_status
sw_rw_recv_check_headers(const char *content_encoding, const char *content_type,
                         const char *version, sw_err *err)
{
    /* Remote write 2.0 asks by content type (and version); 415 tells its sender to fall back. */
    char proto[128];
    proto_param(content_type != NULL ? content_type : "", proto, sizeof proto);
    if (proto[0] != '\0' && strcmp(proto, "prometheus.WriteRequest") != 0)
        return sw_err_set(err, SW_E_UNSUPPORTED,
                          "Content-Type asks for proto=%.64s: this receiver speaks remote write "
                          "1.0 (prometheus.WriteRequest)",
                          proto);
    if (version != NULL && strncmp(version, "2.", 2) == 0)
        return sw_err_set(err, SW_E_UNSUPPORTED,
                          "X-Prometheus-Remote-Write-Version is '%.32s': this receiver speaks "
                          "0.1.0 (remote write 1.0)",
                          version);
    if (!header_is(content_encoding, "snappy"))
        return sw_err_set(err, SW_E_INVAL,
                          "Content-Encoding is '%.64s': remote write 1.0 sends 'snappy'",
                          content_encoding ? content_encoding : "");
    if (!header_is(content_type, "application/x-protobuf"))
        return sw_err_set(err, SW_E_INVAL,
                          "Content-Type is '%.64s': remote write 1.0 sends "
                          "'application/x-protobuf'",
                          content_type ? content_type : "");
    if (version != NULL && strncmp(version, "0.1.", 4) != 0)
        return sw_err_set(err, SW_E_INVAL,
                          "X-Prometheus-Remote-Write-Version is '%.32s': this receiver speaks "
                          "0.1.0",
                          version);
    return SW_OK;
}

sw_status
sw_rw_recv_decode(const uint8_t *body, size_t len, const sw_rw_limits *lim,
                  const sw_prom_sink *sink, sw_rw_counts *ret_counts, sw_err *err)
{
    sw_rw_limits l;
    limits_resolve(lim, &l);
    rw_thread *t = thread_buffers();
    if (t == NULL)
        return sw_err_set(err, SW_E_NOMEM, "no memory for decoding buffers");
    size_t n = 0;
    sw_status st = decompress(body, len, &l, t, &n, err);
    if (st != SW_OK)
        return st;
    rw_scratch sc = {.labels = t->labels};
    sw_rw_counts counts;
    if ((st = validate(t->data, n, &l, &sc, &counts, err)) != SW_OK)
        goto out;
    if (sc.max_spans + sc.max_buckets > 0) {
        /* Histogram scratch for the largest one validation saw: bounded by the bucket cap. */
        sc.spans = malloc(sc.max_spans * sizeof *sc.spans + 1);
        sc.counts = malloc(sc.max_buckets * sizeof *sc.counts + 1);
        if (sc.spans == NULL || sc.counts == NULL) {
            st = sw_err_set(err, SW_E_NOMEM, "no memory for decoding scratch space");
            goto out;
        }
    }
    if ((st = emit(t->data, n, &sc, sink, err)) == SW_OK)
        *ret_counts = counts;
out:
    free(sc.spans);
    free(sc.counts);
    if (t->cap > KEEP_BYTES) {
        free(t->data);
        t->data = NULL;
        t->cap = 0;
    }
    return st;
}
