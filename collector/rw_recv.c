/*
 * Remote-write request decoding: caps on the body, the snappy preamble (checked before any
 * allocation) and the decoded size; protobuf-c unpacking into one arena with a memory budget;
 * the whole request validated; then emission to the sink from scratch arrays sized by the
 * validation pass, so nothing is allocated per sample.
 */
#include "slawatch/rw_recv.h"

#include <math.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "prompb.pb-c.h"
#include "slawatch/arena.h"
#include "slawatch/json.h"
#include "slawatch/promhist.h"
#include "slawatch/snappy.h"
#include "slawatch/units.h"

/* Labels per series; beyond it the duplicate check (quadratic for unsorted labels) is refused. */
#define MAX_LABELS 1024
#define SCHEMA_MIN (-4)
#define SCHEMA_MAX 8

typedef struct rw_alloc {
    sw_arena arena;
    size_t used, budget;
    bool over;  /* an allocation was refused for the budget */
    bool nomem; /* an allocation failed for lack of memory */
} rw_alloc;

/* Scratch space for one series at a time, sized for the largest (spans and counts hold
 * both signs of a histogram). */
typedef struct rw_scratch {
    sw_prom_label *labels;
    sw_prom_span *spans;
    double *counts;
    size_t max_labels, max_spans, max_buckets;
} rw_scratch;

typedef Prometheus__WriteRequest rw_request;
typedef Prometheus__TimeSeries rw_series;
typedef Prometheus__Histogram rw_hist;

static void *
rw_alloc_fn(void *data, size_t size)
{
    rw_alloc *a = data;
    if (size > a->budget - a->used) {
        a->over = true;
        return NULL;
    }
    a->used += size;
    void *p = sw_arena_alloc(&a->arena, size, alignof(max_align_t));
    a->nomem |= p == NULL;
    return p;
}

static void
rw_free_fn(void *data, void *ptr)
{
    /* Everything goes at once with the arena. */
    (void)data;
    (void)ptr;
}

static void
limits_resolve(const sw_rw_limits *in, sw_rw_limits *out)
{
    *out = in != NULL ? *in : (sw_rw_limits){0};
    out->max_body = out->max_body ? out->max_body : SW_RW_DEFAULT_MAX_BODY;
    out->max_decoded = out->max_decoded ? out->max_decoded : SW_RW_DEFAULT_MAX_DECODED;
    out->max_series = out->max_series ? out->max_series : SW_RW_DEFAULT_MAX_SERIES;
    out->max_samples = out->max_samples ? out->max_samples : SW_RW_DEFAULT_MAX_SAMPLES;
}

/* The decoded body in *ret (malloc'd), its size checked against the cap before allocating. */
static sw_status
decompress(const uint8_t *body, size_t len, const sw_rw_limits *lim, uint8_t **ret,
           size_t *ret_len, sw_err *err)
{
    if (len > lim->max_body)
        return sw_err_set(err, SW_E_TOOBIG, "body of %zu bytes is over the limit of %zu", len,
                          lim->max_body);
    size_t n;
    sw_status st = sw_snappy_decoded_len(body, len, &n, err);
    if (st != SW_OK)
        return st;
    if (n > lim->max_decoded)
        return sw_err_set(err, SW_E_TOOBIG,
                          "snappy: decodes to %zu bytes, over the limit of %zu", n,
                          lim->max_decoded);
    uint8_t *out = malloc(n ? n : 1);
    if (out == NULL)
        return sw_err_set(err, SW_E_NOMEM, "no memory for a decoded body of %zu bytes", n);
    if ((st = sw_snappy_uncompress(body, len, out, n, err)) != SW_OK) {
        free(out);
        return st;
    }
    *ret = out;
    *ret_len = n;
    return SW_OK;
}

static bool
label_name_ok(const char *s)
{
    if (s[0] == '\0' || (s[0] >= '0' && s[0] <= '9'))
        return false;
    for (; *s != '\0'; s++)
        if (!(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9')))
            return false;
    return true;
}

static bool
metric_name_ok(const char *s)
{
    if (s[0] == '\0' || (s[0] >= '0' && s[0] <= '9'))
        return false;
    for (; *s != '\0'; s++)
        if (!(*s == '_' || *s == ':' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9')))
            return false;
    return true;
}

static bool
has_duplicate_name(Prometheus__Label *const *l, size_t n)
{
    bool sorted = true;
    for (size_t i = 1; i < n && sorted; i++)
        sorted = strcmp(l[i - 1]->name, l[i]->name) < 0;
    if (sorted)
        return false;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (strcmp(l[i]->name, l[j]->name) == 0)
                return true;
    return false;
}

static sw_status
check_labels(const rw_series *ts, size_t idx, sw_err *err)
{
    if (ts->n_labels > MAX_LABELS)
        return sw_err_set(err, SW_E_TOOBIG, "series %zu: %zu labels, over the limit of %d", idx,
                          ts->n_labels, MAX_LABELS);
    const char *name = NULL;
    for (size_t i = 0; i < ts->n_labels; i++) {
        const Prometheus__Label *l = ts->labels[i];
        if (!label_name_ok(l->name))
            return sw_err_set(err, SW_E_INVAL, "series %zu: invalid label name '%.64s'", idx,
                              l->name);
        if (!sw_json_utf8_valid(l->value))
            return sw_err_set(err, SW_E_INVAL,
                              "series %zu: label '%.64s' has a value that is not "
                              "valid UTF-8",
                              idx, l->name);
        if (strcmp(l->name, "__name__") == 0)
            name = l->value;
    }
    if (name == NULL || !metric_name_ok(name))
        return sw_err_set(err, SW_E_INVAL, "series %zu: %s metric name '%.64s'", idx,
                          name == NULL ? "no" : "invalid", name == NULL ? "" : name);
    if (has_duplicate_name(ts->labels, ts->n_labels))
        return sw_err_set(err, SW_E_INVAL, "series %zu (%.64s): repeated label name", idx, name);
    return SW_OK;
}

/* Buckets the spans cover; false when over the cap (or overflowing). */
static bool
span_buckets(Prometheus__BucketSpan *const *spans, size_t n, size_t *ret)
{
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++)
        if (__builtin_add_overflow(total, spans[i]->length, &total) ||
            total > SW_NATIVE_MAX_BUCKETS)
            return false;
    *ret = (size_t)total;
    return true;
}

static bool
hist_is_float(const rw_hist *h)
{
    return h->count_case == PROMETHEUS__HISTOGRAM__COUNT_COUNT_FLOAT;
}

/* Int deltas must add up to counts that fit and are never negative; float counts too. */
static sw_status
check_counts(const int64_t *deltas, const double *counts, size_t n, bool is_float, size_t idx,
             const char *side, sw_err *err)
{
    int64_t abs_count = 0;
    for (size_t i = 0; i < n; i++) {
        bool ok = is_float ? counts[i] >= 0
                           : !__builtin_add_overflow(abs_count, deltas[i], &abs_count) &&
                                 abs_count >= 0;
        if (!ok)
            return sw_err_set(err, SW_E_INVAL,
                              "series %zu: histogram %s bucket %zu has a negative, NaN or "
                              "overflowing count",
                              idx, side, i);
    }
    return SW_OK;
}

/* One sign's spans against its deltas or counts. */
static sw_status
check_side(const rw_hist *h, bool negative, size_t idx, size_t *ret_buckets, sw_err *err)
{
    const char *side = negative ? "negative" : "positive";
    size_t n_spans = negative ? h->n_negative_spans : h->n_positive_spans;
    size_t n_deltas = negative ? h->n_negative_deltas : h->n_positive_deltas;
    size_t n_counts = negative ? h->n_negative_counts : h->n_positive_counts;
    size_t buckets;
    if (!span_buckets(negative ? h->negative_spans : h->positive_spans, n_spans, &buckets))
        return sw_err_set(err, SW_E_TOOBIG, "series %zu: %s spans cover over %u buckets", idx,
                          side, SW_NATIVE_MAX_BUCKETS);
    size_t given = hist_is_float(h) ? n_counts : n_deltas;
    size_t other = hist_is_float(h) ? n_deltas : n_counts;
    if (given != buckets || other != 0)
        return sw_err_set(err, SW_E_INVAL,
                          "series %zu: histogram has %zu %s %s for spans of %zu buckets%s", idx,
                          given, side, hist_is_float(h) ? "counts" : "deltas", buckets,
                          other ? " and counts of the other kind" : "");
    *ret_buckets = buckets;
    return check_counts(negative ? h->negative_deltas : h->positive_deltas,
                        negative ? h->negative_counts : h->positive_counts, given,
                        hist_is_float(h), idx, side, err);
}

static sw_status
check_histogram(const rw_hist *h, size_t idx, rw_scratch *sc, sw_err *err)
{
    if (h->schema < SCHEMA_MIN || h->schema > SCHEMA_MAX)
        return sw_err_set(err, SW_E_INVAL, "series %zu: histogram schema %d outside %d..%d", idx,
                          (int)h->schema, SCHEMA_MIN, SCHEMA_MAX);
    size_t pos, neg;
    sw_status st = check_side(h, false, idx, &pos, err);
    if (st == SW_OK)
        st = check_side(h, true, idx, &neg, err);
    if (st != SW_OK)
        return st;
    /* Span counts are bounded by the decoded size, buckets by the cap: the sums cannot wrap. */
    size_t spans = h->n_positive_spans + h->n_negative_spans;
    sc->max_spans = spans > sc->max_spans ? spans : sc->max_spans;
    sc->max_buckets = pos + neg > sc->max_buckets ? pos + neg : sc->max_buckets;
    return SW_OK;
}

/* Samples and histograms dated after lim->max_timestamp_ms (when set) are refused. */
static sw_status
check_times(const rw_series *ts, size_t idx, const sw_rw_limits *lim, sw_err *err)
{
    int64_t latest = INT64_MIN;
    for (size_t j = 0; j < ts->n_samples; j++)
        latest = ts->samples[j]->timestamp > latest ? ts->samples[j]->timestamp : latest;
    for (size_t j = 0; j < ts->n_histograms; j++)
        latest = ts->histograms[j]->timestamp > latest ? ts->histograms[j]->timestamp : latest;
    if (lim->max_timestamp_ms == 0 || latest <= lim->max_timestamp_ms)
        return SW_OK;
    char at[40], bound[40];
    sw_units_format_time(latest, at, sizeof at);
    sw_units_format_time(lim->max_timestamp_ms, bound, sizeof bound);
    return sw_err_set(err, SW_E_INVAL, "series %zu: sample time %s is after %s: too far ahead", idx,
                      at, bound);
}

/* Every series checked and counted before the sink sees any. */
static sw_status
validate(const rw_request *req, const sw_rw_limits *lim, rw_scratch *sc, sw_rw_counts *counts,
         sw_err *err)
{
    if (req->n_timeseries > lim->max_series)
        return sw_err_set(err, SW_E_TOOBIG, "%zu series, over the limit of %zu",
                          req->n_timeseries, lim->max_series);
    sw_rw_counts c = {.series = req->n_timeseries};
    for (size_t i = 0; i < req->n_timeseries; i++) {
        const rw_series *ts = req->timeseries[i];
        sw_status st = check_labels(ts, i, err);
        if (st == SW_OK)
            st = check_times(ts, i, lim, err);
        if (st != SW_OK)
            return st;
        sc->max_labels = ts->n_labels > sc->max_labels ? ts->n_labels : sc->max_labels;
        c.samples += ts->n_samples;
        c.histograms += ts->n_histograms;
        if (c.samples + c.histograms > lim->max_samples)
            return sw_err_set(err, SW_E_TOOBIG, "over %zu samples by series %zu",
                              lim->max_samples, i);
        for (size_t j = 0; j < ts->n_histograms; j++)
            if ((st = check_histogram(ts->histograms[j], i, sc, err)) != SW_OK)
                return st;
    }
    *counts = c;
    return SW_OK;
}

static sw_status
scratch_alloc(rw_alloc *a, rw_scratch *sc, sw_err *err)
{
    /* Past the budget's check on purpose: these are bounded by what the budget already let in. */
    sc->labels = sw_arena_alloc(&a->arena, (sc->max_labels + 1) * sizeof *sc->labels,
                                alignof(sw_prom_label));
    sc->spans = sw_arena_alloc(&a->arena, (sc->max_spans + 1) * sizeof *sc->spans,
                               alignof(sw_prom_span));
    sc->counts =
        sw_arena_alloc(&a->arena, (sc->max_buckets + 1) * sizeof *sc->counts, alignof(double));
    if (sc->labels == NULL || sc->spans == NULL || sc->counts == NULL)
        return sw_err_set(err, SW_E_NOMEM, "no memory for decoding scratch space");
    return SW_OK;
}

/* The sample template of a series: its name and other labels (in scratch). */
static void
series_sample(const rw_series *ts, rw_scratch *sc, sw_prom_sample *s)
{
    size_t k = 0;
    *s = (sw_prom_sample){.type = SW_PROM_UNKNOWN, .has_timestamp = true};
    for (size_t i = 0; i < ts->n_labels; i++) {
        const Prometheus__Label *l = ts->labels[i];
        if (strcmp(l->name, "__name__") == 0) {
            s->name = l->value;
            s->name_len = strlen(l->value);
            continue;
        }
        sc->labels[k++] = (sw_prom_label){l->name, l->value, strlen(l->name), strlen(l->value)};
    }
    s->labels = sc->labels;
    s->n_labels = k;
}

/*
 * Spans copied into spans; counts into counts, int deltas accumulated into absolute counts
 * (validation already checked they neither overflow nor go negative).
 */
static void
convert_side(Prometheus__BucketSpan *const *in_spans, size_t n_spans, const int64_t *deltas,
             const double *fcounts, size_t n, bool is_float, sw_prom_span *spans, double *counts)
{
    for (size_t i = 0; i < n_spans; i++)
        spans[i] = (sw_prom_span){in_spans[i]->offset, in_spans[i]->length};
    int64_t abs_count = 0;
    for (size_t i = 0; i < n; i++) {
        abs_count += is_float ? 0 : deltas[i];
        counts[i] = is_float ? fcounts[i] : (double)abs_count;
    }
}

static sw_status
emit_histogram(const rw_hist *h, sw_prom_sample *s, rw_scratch *sc, const sw_prom_sink *sink,
               sw_err *err)
{
    bool f = hist_is_float(h);
    sw_prom_native n = {
        .schema = h->schema,
        .zero_threshold = h->zero_threshold,
        .zero_count = h->zero_count_case == PROMETHEUS__HISTOGRAM__ZERO_COUNT_ZERO_COUNT_FLOAT
                          ? h->zero_count_float
                          : (double)h->zero_count_int,
        .count = f ? h->count_float : (double)h->count_int,
        .sum = h->sum,
        .counter_reset = h->reset_hint == PROMETHEUS__HISTOGRAM__RESET_HINT__YES,
        .gauge = h->reset_hint == PROMETHEUS__HISTOGRAM__RESET_HINT__GAUGE,
    };
    /* Both signs share the scratch arrays: the positive side sits after the negative one. */
    size_t n_neg = f ? h->n_negative_counts : h->n_negative_deltas;
    size_t n_pos = f ? h->n_positive_counts : h->n_positive_deltas;
    convert_side(h->negative_spans, h->n_negative_spans, h->negative_deltas, h->negative_counts,
                 n_neg, f, sc->spans, sc->counts);
    convert_side(h->positive_spans, h->n_positive_spans, h->positive_deltas, h->positive_counts,
                 n_pos, f, sc->spans + h->n_negative_spans, sc->counts + n_neg);
    n.neg_spans = sc->spans;
    n.n_neg_spans = h->n_negative_spans;
    n.neg_counts = sc->counts;
    n.n_neg_counts = n_neg;
    n.pos_spans = sc->spans + h->n_negative_spans;
    n.n_pos_spans = h->n_positive_spans;
    n.pos_counts = sc->counts + n_neg;
    n.n_pos_counts = n_pos;
    s->timestamp_ms = h->timestamp;
    return sink->native(sink->ctx, s, &n, err);
}

static sw_status
emit(const rw_request *req, rw_scratch *sc, const sw_prom_sink *sink, sw_err *err)
{
    for (size_t i = 0; i < req->n_timeseries; i++) {
        const rw_series *ts = req->timeseries[i];
        sw_prom_sample s;
        series_sample(ts, sc, &s);
        for (size_t j = 0; j < ts->n_samples; j++) {
            s.value = ts->samples[j]->value;
            s.timestamp_ms = ts->samples[j]->timestamp;
            sw_status st = sink->sample(sink->ctx, &s, err);
            if (st != SW_OK)
                return st;
        }
        for (size_t j = 0; sink->native != NULL && j < ts->n_histograms; j++) {
            sw_status st = emit_histogram(ts->histograms[j], &s, sc, sink, err);
            if (st != SW_OK) {
                sw_err_prefix(err, "series %zu (%.64s)", i, s.name);
                return st;
            }
        }
    }
    return SW_OK;
}

static sw_status
unpack(const uint8_t *data, size_t len, rw_alloc *a, rw_request **ret, sw_err *err)
{
    ProtobufCAllocator pa = {.alloc = rw_alloc_fn, .free = rw_free_fn, .allocator_data = a};
    rw_request *req = prometheus__write_request__unpack(&pa, len, data);
    if (req != NULL) {
        *ret = req;
        return SW_OK;
    }
    if (a->over)
        return sw_err_set(err, SW_E_TOOBIG, "protobuf: the decoded request needs over %zu bytes",
                          a->budget);
    if (a->nomem)
        return sw_err_set(err, SW_E_NOMEM, "protobuf: out of memory");
    return sw_err_set(err, SW_E_PARSE, "protobuf: not a valid WriteRequest (%zu bytes)", len);
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
    uint8_t *data = NULL;
    size_t n = 0;
    sw_status st = decompress(body, len, &l, &data, &n, err);
    if (st != SW_OK)
        return st;
    rw_alloc a = {.budget = n * SW_RW_MEMORY_FACTOR + 4096};
    sw_arena_init(&a.arena);
    rw_request *req = NULL;
    rw_scratch sc = {0};
    sw_rw_counts counts;
    if ((st = unpack(data, n, &a, &req, err)) != SW_OK ||
        (st = validate(req, &l, &sc, &counts, err)) != SW_OK ||
        (st = scratch_alloc(&a, &sc, err)) != SW_OK || (st = emit(req, &sc, sink, err)) != SW_OK)
        goto out;
    *ret_counts = counts;
out:
    sw_arena_fini(&a.arena);
    free(data);
    return st;
}
