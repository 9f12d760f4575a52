/*
 * The exposition writer's format-neutral part: content negotiation, the handle, validation of
 * names, labels and bounds, and dispatch. expo_hist.c turns an HDR histogram into buckets; the
 * text and protobuf writers (expo_text.c, expo_pb.c) render what this part has checked.
 */
#include "expo_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CT_TEXT "text/plain; version=0.0.4; charset=utf-8"
#define CT_OPENMETRICS "application/openmetrics-text; version=1.0.0; charset=utf-8"
#define CT_PROTOBUF                                                                                \
    "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; "                   \
    "encoding=delimited"

const char *
sw_expo_content_type(sw_expo_format format)
{
    switch (format) {
    case SW_EXPO_OPENMETRICS:
        return CT_OPENMETRICS;
    case SW_EXPO_PROTOBUF:
        return CT_PROTOBUF;
    case SW_EXPO_TEXT:
        break;
    }
    return CT_TEXT;
}

/* A piece of the Accept header, not NUL-terminated. */
typedef struct span {
    const char *p;
    size_t n;
} span;

static bool
span_is(span s, const char *lit)
{
    return s.n == strlen(lit) && strncasecmp(s.p, lit, s.n) == 0;
}

static span
trim(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    if (end - p >= 2 && *p == '"' && end[-1] == '"')
        p++, end--;
    return (span){p, (size_t)(end - p)};
}

/* One media range of an Accept header, with the parameters that select a format. */
typedef struct media_range {
    span type, proto, encoding, version;
    double q;
} media_range;

static double
parse_q(span v)
{
    char digits[16];
    if (v.n == 0 || v.n >= sizeof digits)
        return 0;
    memcpy(digits, v.p, v.n);
    digits[v.n] = '\0';
    char *end;
    double q = strtod(digits, &end);
    return *end == '\0' && q >= 0 && q <= 1 ? q : 0;
}

static void
parse_param(media_range *r, span param)
{
    const char *eq = memchr(param.p, '=', param.n);
    if (eq == NULL)
        return;
    span key = trim(param.p, eq);
    span value = trim(eq + 1, param.p + param.n);
    if (span_is(key, "q"))
        r->q = parse_q(value);
    else if (span_is(key, "proto"))
        r->proto = value;
    else if (span_is(key, "encoding"))
        r->encoding = value;
    else if (span_is(key, "version"))
        r->version = value;
}

/* Parse the range in [p, end): type, then ';'-separated parameters. */
static media_range
parse_range(const char *p, const char *end)
{
    media_range r = {.q = 1};
    const char *semi = memchr(p, ';', (size_t)(end - p));
    r.type = trim(p, semi != NULL ? semi : end);
    while (semi != NULL) {
        p = semi + 1;
        semi = memchr(p, ';', (size_t)(end - p));
        parse_param(&r, trim(p, semi != NULL ? semi : end));
    }
    return r;
}

/* The format a range asks for; false when it names none slawatch writes. */
static bool
range_format(const media_range *r, sw_expo_format *ret)
{
    if (span_is(r->type, "application/vnd.google.protobuf")) {
        if (!span_is(r->proto, "io.prometheus.client.MetricFamily") ||
            (r->encoding.n > 0 && !span_is(r->encoding, "delimited")))
            return false;
        *ret = SW_EXPO_PROTOBUF;
        return true;
    }
    if (span_is(r->type, "application/openmetrics-text")) {
        if (r->version.n > 0 && !span_is(r->version, "1.0.0"))
            return false;
        *ret = SW_EXPO_OPENMETRICS;
        return true;
    }
    if (span_is(r->type, "text/plain") && (r->version.n == 0 || span_is(r->version, "0.0.4"))) {
        *ret = SW_EXPO_TEXT;
        return true;
    }
    if (span_is(r->type, "*/*") || span_is(r->type, "text/*")) {
        *ret = SW_EXPO_TEXT;
        return true;
    }
    return false;
}

sw_expo_format
sw_expo_negotiate(const char *accept)
{
    sw_expo_format best = SW_EXPO_TEXT;
    double best_q = 0;
    if (accept == NULL)
        return best;
    const char *p = accept, *end = accept + strlen(accept);
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma != NULL ? comma : end;
        media_range r = parse_range(p, stop);
        sw_expo_format f;
        /* Strictly greater: on a tie the range listed first wins. */
        if (r.q > best_q && range_format(&r, &f)) {
            best = f;
            best_q = r.q;
        }
        p = stop + 1;
    }
    return best;
}

sw_status
sw_expo_new(sw_expo **ret_e, sw_err *err)
{
    sw_expo *e = calloc(1, sizeof *e);
    if (e == NULL)
        return sw_err_set(err, SW_E_NOMEM, "cannot allocate an exposition writer");
    sw_buf_init(&e->pb_family, 0); /* its cap is the output's, set by sw_expo_begin */
    *ret_e = e;
    return SW_OK;
}

void
sw_expo_free(sw_expo *e)
{
    if (e == NULL)
        return;
    free(e->cumulative);
    free(e->bound_units);
    free(e->native_index);
    free(e->native_count);
    free(e->table_upper);
    expo_pb_fini(e);
    free(e);
}

void
sw_expo_begin(sw_expo *e, sw_expo_format format, sw_buf *out)
{
    e->format = format;
    e->out = out;
    e->visitor = NULL;
    e->failed = SW_OK;
    e->in_family = false;
    sw_buf_reset(&e->pb_family);
    /* A family is copied into out whole, so it can never usefully outgrow out's cap. */
    e->pb_family.max = out->max;
}

void
sw_expo_begin_visit(sw_expo *e, const sw_expo_visitor *v)
{
    e->format = SW_EXPO_TEXT;
    e->out = NULL;
    e->visitor = v;
    e->failed = SW_OK;
    e->in_family = false;
}

sw_status
expo_grow(void **array, size_t *cap, size_t need, size_t elem, sw_err *err)
{
    if (need <= *cap)
        return SW_OK;
    size_t n = *cap > 0 ? *cap : 16;
    while (n < need)
        n *= 2;
    void *p = realloc(*array, n * elem);
    if (p == NULL)
        return sw_err_set(err, SW_E_NOMEM, "cannot grow exposition scratch to %zu entries", n);
    *array = p;
    *cap = n;
    return SW_OK;
}

static bool
valid_name(const char *s, bool colon)
{
    if (*s == '\0' || (*s >= '0' && *s <= '9'))
        return false;
    for (; *s; s++) {
        char c = *s;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || (colon && c == ':');
        if (!ok)
            return false;
    }
    return true;
}

static bool
ends_with(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    return n > k && memcmp(s + n - k, suffix, k) == 0;
}

/* The family name without "_total" must end in "_" unit. */
static sw_status
check_unit(const char *name, size_t family_len, const char *unit, sw_err *err)
{
    size_t k = strlen(unit);
    if (!valid_name(unit, false))
        return sw_err_set(err, SW_E_INVAL, "expo: bad unit \"%s\"", unit);
    if (family_len <= k + 1 || name[family_len - k - 1] != '_' ||
        memcmp(name + family_len - k, unit, k) != 0)
        return sw_err_set(err, SW_E_INVAL, "expo: metric %s does not end in its unit _%s", name,
                          unit);
    return SW_OK;
}

/* Every call after a failure returns the failure, writing nothing more. */
static sw_status
still_ok(const sw_expo *e, sw_err *err)
{
    if (e->failed == SW_OK)
        return SW_OK;
    return sw_err_set(err, e->failed, "expo: the exposition already failed");
}

static sw_status
set_family(sw_expo *e, const char *name, sw_expo_type type, const char *unit, sw_err *err)
{
    size_t len = strlen(name);
    if (len > SW_EXPO_NAME_MAX || !valid_name(name, true))
        return sw_err_set(err, SW_E_INVAL, "expo: bad metric name \"%.*s\"", SW_EXPO_NAME_MAX,
                          name);
    size_t family_len = len;
    if (type == SW_EXPO_COUNTER) {
        if (!ends_with(name, len, "_total"))
            return sw_err_set(err, SW_E_INVAL, "expo: counter %s does not end in _total", name);
        family_len -= strlen("_total");
    }
    if (unit != NULL && check_unit(name, family_len, unit, err) != SW_OK)
        return SW_E_INVAL;
    memcpy(e->name, name, len + 1);
    e->name_len = len;
    e->family_len = family_len;
    e->type = type;
    e->in_family = true;
    return SW_OK;
}

sw_status
sw_expo_family(sw_expo *e, const char *name, sw_expo_type type, const char *help, const char *unit,
               sw_err *err)
{
    if (still_ok(e, err) != SW_OK)
        return e->failed;
    if (e->format == SW_EXPO_PROTOBUF && e->in_family)
        expo_pb_finish(e, err);
    if (e->failed == SW_OK)
        e->failed = set_family(e, name, type, unit, err);
    if (e->failed != SW_OK)
        return e->failed;
    if (e->format == SW_EXPO_PROTOBUF)
        expo_pb_family(e, help, unit, err);
    else
        expo_text_family(e, help, unit, err);
    return e->failed;
}

/* The label the family's own samples carry (histograms le, summaries quantile); NULL for none. */
static const char *
reserved_label(sw_expo_type type)
{
    return type == SW_EXPO_HISTOGRAM ? "le" : type == SW_EXPO_SUMMARY ? "quantile" : NULL;
}

static sw_status
check_labels(const sw_expo_label *labels, size_t n, sw_expo_type type, sw_err *err)
{
    const char *reserved = reserved_label(type);
    if (n > SW_EXPO_LABELS_MAX)
        return sw_err_set(err, SW_E_INVAL, "expo: %zu labels, at most %d", n, SW_EXPO_LABELS_MAX);
    for (size_t i = 0; i < n; i++) {
        if (!valid_name(labels[i].name, false) || labels[i].value == NULL)
            return sw_err_set(err, SW_E_INVAL, "expo: bad label \"%s\"", labels[i].name);
        if (reserved != NULL && strcmp(labels[i].name, reserved) == 0)
            return sw_err_set(err, SW_E_INVAL, "expo: a series of this family cannot have label %s",
                              reserved);
    }
    return SW_OK;
}

/* A call that does not fit the current family is a programming error. Counters and gauges
 * share sw_expo_sample; histograms and summaries have their own call. */
static sw_status
check_series(sw_expo *e, sw_expo_type type, const sw_expo_label *labels, size_t n, sw_err *err)
{
    if (still_ok(e, err) != SW_OK)
        return e->failed;
    bool scalar = type == SW_EXPO_COUNTER || type == SW_EXPO_GAUGE;
    bool fits = e->in_family &&
                (scalar ? e->type == SW_EXPO_COUNTER || e->type == SW_EXPO_GAUGE : e->type == type);
    if (!fits)
        e->failed = sw_err_set(err, SW_E_INVAL, "expo: series does not fit family %s",
                               e->in_family ? e->name : "(none)");
    else
        e->failed = check_labels(labels, n, e->type, err);
    return e->failed;
}

sw_status
sw_expo_sample(sw_expo *e, const sw_expo_label *labels, size_t n, double value, sw_err *err)
{
    if (check_series(e, SW_EXPO_GAUGE, labels, n, err) != SW_OK)
        return e->failed;
    if (e->format == SW_EXPO_PROTOBUF)
        expo_pb_sample(e, labels, n, value, err);
    else
        expo_text_sample(e, labels, n, value, err);
    return e->failed;
}

sw_status
expo_check_bounds(double scale, const double *bounds, size_t n, sw_err *err)
{
    if (!(scale > 0) || !isfinite(scale))
        return sw_err_set(err, SW_E_INVAL, "expo: histogram scale must be positive");
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(bounds[i]) || (i > 0 && !(bounds[i] > bounds[i - 1])))
            return sw_err_set(err, SW_E_INVAL,
                              "expo: bucket bounds must be finite and increasing (bound %zu)", i);
    }
    return SW_OK;
}

/* A built histogram series in the writer's format. */
static sw_status
write_histogram(sw_expo *e, const sw_expo_label *labels, size_t n, const expo_hist *c, bool native,
                sw_err *err)
{
    if (native)
        expo_pb_histogram(e, labels, n, c, err);
    else
        expo_text_histogram(e, labels, n, c, err);
    return e->failed;
}

sw_status
sw_expo_histogram(sw_expo *e, const sw_expo_label *labels, size_t n, const sw_hdr *h, double scale,
                  const double *bounds, size_t n_bounds, sw_err *err)
{
    if (check_series(e, SW_EXPO_HISTOGRAM, labels, n, err) != SW_OK)
        return e->failed;
    if ((e->failed = expo_check_bounds(scale, bounds, n_bounds, err)) != SW_OK)
        return e->failed;
    expo_hist c;
    bool native = e->format == SW_EXPO_PROTOBUF;
    if ((e->failed = expo_hist_build(e, h, scale, bounds, n_bounds, native, &c, err)) != SW_OK)
        return e->failed;
    return write_histogram(e, labels, n, &c, native, err);
}

sw_status
sw_expo_histogram_totals(sw_expo *e, const sw_expo_label *labels, size_t n, const sw_expo_totals *t,
                         sw_err *err)
{
    if (check_series(e, SW_EXPO_HISTOGRAM, labels, n, err) != SW_OK)
        return e->failed;
    expo_hist c;
    bool native = e->format == SW_EXPO_PROTOBUF;
    if ((e->failed = expo_totals_build(e, t, native, &c, err)) != SW_OK)
        return e->failed;
    return write_histogram(e, labels, n, &c, native, err);
}

static sw_status
check_quantiles(const sw_expo_quantile *q, size_t n_q, double sum, sw_err *err)
{
    if (n_q > SW_EXPO_QUANTILES_MAX)
        return sw_err_set(err, SW_E_INVAL, "expo: %zu quantiles, at most %d", n_q,
                          SW_EXPO_QUANTILES_MAX);
    for (size_t i = 0; i < n_q; i++)
        if (!(q[i].quantile > 0 && q[i].quantile < 1) ||
            (i > 0 && !(q[i].quantile > q[i - 1].quantile)))
            return sw_err_set(err, SW_E_INVAL,
                              "expo: quantiles must be increasing within (0, 1) (quantile %zu)", i);
    if (isnan(sum))
        return sw_err_set(err, SW_E_INVAL, "expo: a summary's sum cannot be NaN");
    return SW_OK;
}

sw_status
sw_expo_summary(sw_expo *e, const sw_expo_label *labels, size_t n, const sw_expo_quantile *q,
                size_t n_q, double sum, uint64_t count, sw_err *err)
{
    if (check_series(e, SW_EXPO_SUMMARY, labels, n, err) != SW_OK)
        return e->failed;
    if ((e->failed = check_quantiles(q, n_q, sum, err)) != SW_OK)
        return e->failed;
    if (e->format == SW_EXPO_PROTOBUF)
        expo_pb_summary(e, labels, n, q, n_q, sum, count, err);
    else
        expo_text_summary(e, labels, n, q, n_q, sum, count, err);
    return e->failed;
}

/* The native buckets of a built histogram (borrowed from the writer's scratch). */
static sw_expo_native
native_of(const expo_hist *c)
{
    return (sw_expo_native){.count = c->count,
                            .zero_count = c->zero_count,
                            .sum = c->sum,
                            .index = c->native_index,
                            .counts = c->native_count,
                            .n = c->n_native};
}

sw_status
sw_expo_native_of(sw_expo *e, const sw_hdr *h, double scale, sw_expo_native *ret, sw_err *err)
{
    SW_REQUIRE(!e->in_family);
    sw_status st = expo_check_bounds(scale, NULL, 0, err);
    expo_hist c;
    if (st == SW_OK)
        st = expo_hist_build(e, h, scale, NULL, 0, true, &c, err);
    if (st != SW_OK)
        return st;
    *ret = native_of(&c);
    return SW_OK;
}

sw_status
sw_expo_native_of_totals(sw_expo *e, const sw_expo_totals *t, sw_expo_native *ret, sw_err *err)
{
    SW_REQUIRE(!e->in_family);
    expo_hist c;
    sw_status st = expo_totals_build(e, t, true, &c, err);
    if (st != SW_OK)
        return st;
    *ret = native_of(&c);
    return SW_OK;
}

sw_status
sw_expo_finish(sw_expo *e, sw_err *err)
{
    if (still_ok(e, err) != SW_OK)
        return e->failed;
    if (e->format == SW_EXPO_PROTOBUF) {
        if (e->in_family)
            expo_pb_finish(e, err);
    } else {
        expo_text_finish(e, err);
    }
    e->in_family = false;
    return e->failed;
}
