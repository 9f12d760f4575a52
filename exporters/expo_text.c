/*
 * The text writers: Prometheus text 0.0.4 and OpenMetrics 1.0, which differ in counter family
 * names, UNIT and EOF lines, HELP escaping and the canonical form of le values; and the visitor,
 * which gets each 0.0.4 sample as a parser reads it back instead of its text. Called only by
 * expo.c, after it validated names and labels; failures are kept in e->failed.
 */
#include "expo_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NUMBER_MAX 32

static void
put(sw_expo *e, const void *s, size_t n, sw_err *err)
{
    sw_buf *b = e->out;
    if (e->failed != SW_OK)
        return;
    /* Most appends fit: skip the call; keep one byte free as sw_buf_reserve does. */
    if (b->data != NULL && b->cap - b->len > n) {
        memcpy(b->data + b->len, s, n);
        b->len += n;
        return;
    }
    e->failed = sw_buf_append(b, s, n, err);
}

static void
puts_(sw_expo *e, const char *s, sw_err *err)
{
    put(e, s, strlen(s), err);
}

/* Digits of |v| < 1e15, which every double in that range that is an integer has exactly. */
static size_t
format_integer(double v, char *buf)
{
    char tmp[NUMBER_MAX];
    size_t n = 0, len = 0;
    uint64_t u = (uint64_t)fabs(v);
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0)
        buf[len++] = '-';
    while (n > 0)
        buf[len++] = tmp[--n];
    buf[len] = '\0';
    return len;
}

/*
 * Prometheus number text: NaN, +Inf, -Inf; integers below 1e15 without exponent; otherwise the
 * shortest of 15, 16 or 17 significant digits that reads back as the same double (15 digits
 * give the shortest form whenever one of at most 15 digits exists).
 */
static size_t
format_number(double v, char *buf)
{
    if (isnan(v))
        return (size_t)snprintf(buf, NUMBER_MAX, "NaN");
    if (isinf(v))
        return (size_t)snprintf(buf, NUMBER_MAX, v > 0 ? "+Inf" : "-Inf");
    if (fabs(v) < 1e15 && v == nearbyint(v))
        return format_integer(v, buf);
    int n = 0;
    for (int digits = 15; digits <= 17; digits++) {
        n = snprintf(buf, NUMBER_MAX, "%.*g", digits, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    return (size_t)n;
}

static void
put_number(sw_expo *e, double v, sw_err *err)
{
    char buf[NUMBER_MAX];
    put(e, buf, format_number(v, buf), err);
}

static void
put_count(sw_expo *e, uint64_t v, sw_err *err)
{
    char buf[NUMBER_MAX];
    put(e, buf, (size_t)snprintf(buf, sizeof buf, "%llu", (unsigned long long)v), err);
}

/*
 * Escape backslash, newline and (when quote) double quote: label values in both formats,
 * HELP text in OpenMetrics; 0.0.4 HELP leaves quotes alone.
 */
static void
put_escaped(sw_expo *e, const char *s, bool quote, sw_err *err)
{
    const char *run = s;
    for (; *s; s++) {
        const char *esc = *s == '\\'           ? "\\\\"
                          : *s == '\n'         ? "\\n"
                          : *s == '"' && quote ? "\\\""
                                               : NULL;
        if (esc == NULL)
            continue;
        put(e, run, (size_t)(s - run), err);
        put(e, esc, 2, err);
        run = s + 1;
    }
    put(e, run, (size_t)(s - run), err);
}

/* {a="x",b="y"} with the family's own label (le, quantile) last when given; nothing for no
 * labels. */
static void
put_labels_with(sw_expo *e, const sw_expo_label *labels, size_t n, const char *own,
                const char *value, sw_err *err)
{
    if (n == 0 && value == NULL)
        return;
    put(e, "{", 1, err);
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            put(e, ",", 1, err);
        puts_(e, labels[i].name, err);
        put(e, "=\"", 2, err);
        put_escaped(e, labels[i].value, true, err);
        put(e, "\"", 1, err);
    }
    if (value != NULL) {
        if (n > 0)
            put(e, ",", 1, err);
        puts_(e, own, err);
        put(e, "=\"", 2, err);
        puts_(e, value, err);
        put(e, "\"", 1, err);
    }
    put(e, "}", 1, err);
}

/* {a="x",b="y"} with le last when given; nothing for no labels. */
static void
put_labels(sw_expo *e, const sw_expo_label *labels, size_t n, const char *le, sw_err *err)
{
    put_labels_with(e, labels, n, "le", le, err);
}

static const char *
type_name(sw_expo_type type)
{
    switch (type) {
    case SW_EXPO_COUNTER:
        return "counter";
    case SW_EXPO_GAUGE:
        return "gauge";
    case SW_EXPO_SUMMARY:
        return "summary";
    case SW_EXPO_HISTOGRAM:
        break;
    }
    return "histogram";
}

/* "# KEYWORD family" and a space, the start of every metadata line. */
static void
put_meta(sw_expo *e, const char *keyword, size_t family_len, sw_err *err)
{
    puts_(e, keyword, err);
    put(e, e->name, family_len, err);
    put(e, " ", 1, err);
}

void
expo_text_family(sw_expo *e, const char *help, const char *unit, sw_err *err)
{
    if (e->visitor != NULL)
        return; /* samples only */
    bool om = e->format == SW_EXPO_OPENMETRICS;
    /* 0.0.4 names a counter family by its samples' name; OpenMetrics without "_total". */
    size_t family_len = om ? e->family_len : e->name_len;
    if (help != NULL && !om) {
        put_meta(e, "# HELP ", family_len, err);
        put_escaped(e, help, false, err);
        put(e, "\n", 1, err);
    }
    put_meta(e, "# TYPE ", family_len, err);
    puts_(e, type_name(e->type), err);
    put(e, "\n", 1, err);
    if (unit != NULL && om) {
        put_meta(e, "# UNIT ", family_len, err);
        puts_(e, unit, err);
        put(e, "\n", 1, err);
    }
    if (help != NULL && om) {
        put_meta(e, "# HELP ", family_len, err);
        put_escaped(e, help, true, err);
        put(e, "\n", 1, err);
    }
}

/* ------------------------------------------------------------------ visiting */

/* One sample to the visitor: e's name + suffix, labels plus (extra, extra_value) when given. */
static void
visit(sw_expo *e, const char *suffix, const sw_expo_label *labels, size_t n, const char *extra,
      const char *extra_value, double value)
{
    char name[SW_EXPO_NAME_MAX + sizeof "_bucket"];
    sw_expo_label all[SW_EXPO_LABELS_MAX + 1];
    snprintf(name, sizeof name, "%s%s", e->name, suffix);
    if (n > 0) /* labels may be NULL then */
        memcpy(all, labels, n * sizeof all[0]);
    if (extra != NULL)
        all[n++] = (sw_expo_label){extra, extra_value};
    e->visitor->sample(e->visitor->ctx, e->type, name, all, n, isnan(value) ? NAN : value);
}

static void
visit_histogram(sw_expo *e, const sw_expo_label *labels, size_t n, const expo_hist *c)
{
    char le[NUMBER_MAX];
    for (size_t i = 0; i < c->n_bounds; i++) {
        format_number(c->bounds[i], le);
        visit(e, "_bucket", labels, n, "le", le, (double)c->cumulative[i]);
    }
    visit(e, "_bucket", labels, n, "le", "+Inf", (double)c->count);
    visit(e, "_sum", labels, n, NULL, NULL, c->sum);
    visit(e, "_count", labels, n, NULL, NULL, (double)c->count);
}

static void
visit_summary(sw_expo *e, const sw_expo_label *labels, size_t n, const sw_expo_quantile *q,
              size_t n_q, double sum, uint64_t count)
{
    char quantile[NUMBER_MAX];
    for (size_t i = 0; i < n_q; i++) {
        format_number(q[i].quantile, quantile);
        visit(e, "", labels, n, "quantile", quantile, q[i].value);
    }
    visit(e, "_sum", labels, n, NULL, NULL, sum);
    visit(e, "_count", labels, n, NULL, NULL, (double)count);
}

/* ------------------------------------------------------------------ samples */

void
expo_text_sample(sw_expo *e, const sw_expo_label *labels, size_t n, double value, sw_err *err)
{
    if (e->visitor != NULL) {
        visit(e, "", labels, n, NULL, NULL, value);
        return;
    }
    put(e, e->name, e->name_len, err);
    put_labels(e, labels, n, NULL, err);
    put(e, " ", 1, err);
    put_number(e, value, err);
    put(e, "\n", 1, err);
}

/* OpenMetrics asks for one canonical spelling of le values, integers with ".0" (1.0, 10.0). */
static void
format_le(const sw_expo *e, double bound, char *buf)
{
    size_t n = format_number(bound, buf);
    if (e->format == SW_EXPO_OPENMETRICS && strpbrk(buf, ".eIN") == NULL)
        memcpy(buf + n, ".0", 3);
}

static void
put_suffixed(sw_expo *e, const char *suffix, const sw_expo_label *labels, size_t n, const char *le,
             sw_err *err)
{
    put(e, e->name, e->name_len, err);
    puts_(e, suffix, err);
    put_labels(e, labels, n, le, err);
    put(e, " ", 1, err);
}

void
expo_text_histogram(sw_expo *e, const sw_expo_label *labels, size_t n, const expo_hist *c,
                    sw_err *err)
{
    if (e->visitor != NULL) {
        visit_histogram(e, labels, n, c);
        return;
    }
    char le[NUMBER_MAX + 2];
    for (size_t i = 0; i < c->n_bounds; i++) {
        format_le(e, c->bounds[i], le);
        put_suffixed(e, "_bucket", labels, n, le, err);
        put_count(e, c->cumulative[i], err);
        put(e, "\n", 1, err);
    }
    put_suffixed(e, "_bucket", labels, n, "+Inf", err);
    put_count(e, c->count, err);
    put(e, "\n", 1, err);
    put_suffixed(e, "_sum", labels, n, NULL, err);
    put_number(e, c->sum, err);
    put(e, "\n", 1, err);
    put_suffixed(e, "_count", labels, n, NULL, err);
    put_count(e, c->count, err);
    put(e, "\n", 1, err);
}

void
expo_text_summary(sw_expo *e, const sw_expo_label *labels, size_t n, const sw_expo_quantile *q,
                  size_t n_q, double sum, uint64_t count, sw_err *err)
{
    if (e->visitor != NULL) {
        visit_summary(e, labels, n, q, n_q, sum, count);
        return;
    }
    char quantile[NUMBER_MAX];
    for (size_t i = 0; i < n_q; i++) {
        format_number(q[i].quantile, quantile);
        put(e, e->name, e->name_len, err);
        put_labels_with(e, labels, n, "quantile", quantile, err);
        put(e, " ", 1, err);
        put_number(e, q[i].value, err);
        put(e, "\n", 1, err);
    }
    put_suffixed(e, "_sum", labels, n, NULL, err);
    put_number(e, sum, err);
    put(e, "\n", 1, err);
    put_suffixed(e, "_count", labels, n, NULL, err);
    put_count(e, count, err);
    put(e, "\n", 1, err);
}

void
expo_text_finish(sw_expo *e, sw_err *err)
{
    if (e->format == SW_EXPO_OPENMETRICS && e->visitor == NULL)
        put(e, "# EOF\n", 6, err);
}
