/*
 * promtool-style naming lints. A light second pass over an exposition the parser accepted:
 * metadata lines and sample names are enough to know each family's name, type and HELP. The
 * family list is owned by one call; nothing is kept.
 */
#include "slawatch/promlint.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct lint_family {
    const char *name;
    size_t len;
    uint32_t line, col;
    sw_prom_type type;
    bool help;
} lint_family;

typedef struct lint_state {
    lint_family *fams;
    size_t n, cap;
    size_t *index; /* open addressing: 1 + position in fams, 0 free */
    size_t n_index;
    bool om;
} lint_state;

static uint64_t
name_hash(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 0x100000001b3u;
    return h;
}

static size_t *
index_slot(const lint_state *L, const char *name, size_t len)
{
    size_t mask = L->n_index - 1;
    for (size_t i = (size_t)name_hash(name, len) & mask;; i = (i + 1) & mask) {
        size_t k = L->index[i];
        if (k == 0 || (L->fams[k - 1].len == len && memcmp(L->fams[k - 1].name, name, len) == 0))
            return &L->index[i];
    }
}

static lint_family *
lookup(const lint_state *L, const char *name, size_t len)
{
    if (!L->n_index)
        return NULL;
    size_t k = *index_slot(L, name, len);
    return k ? &L->fams[k - 1] : NULL;
}

static sw_status
grow(lint_state *L, sw_err *err)
{
    if (L->n >= SW_PROMTEXT_MAX_FAMILIES)
        return sw_err_set(err, SW_E_TOOBIG, "more than %zu metric families",
                          SW_PROMTEXT_MAX_FAMILIES);
    size_t cap = L->cap ? L->cap * 2 : 64;
    lint_family *f = realloc(L->fams, cap * sizeof *f);
    size_t *idx = calloc(cap * 2, sizeof *idx);
    if (f)
        L->fams = f;
    if (!f || !idx) {
        free(idx);
        return sw_err_set(err, SW_E_NOMEM, "out of memory for the lint family list");
    }
    free(L->index);
    L->index = idx, L->n_index = cap * 2, L->cap = cap;
    for (size_t i = 0; i < L->n; i++)
        *index_slot(L, L->fams[i].name, L->fams[i].len) = i + 1;
    return SW_OK;
}

static lint_family *
get(lint_state *L, const char *name, size_t len, uint32_t line, uint32_t col, sw_err *err)
{
    lint_family *f = lookup(L, name, len);
    if (f)
        return f;
    if (L->n == L->cap && grow(L, err) != SW_OK)
        return NULL;
    f = &L->fams[L->n++];
    *f = (lint_family){.name = name, .len = len, .line = line, .col = col};
    *index_slot(L, name, len) = L->n;
    return f;
}

static bool
ends_with(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

/* The family a sample name belongs to: a declared family it is a part of, else itself. */
static lint_family *
sample_family(lint_state *L, const char *name, size_t len)
{
    static const char *const parts[] = {"_bucket", "_count", "_sum", "_total", "_created",
                                        "_gcount", "_gsum",  "_info"};
    lint_family *f = lookup(L, name, len);
    if (f)
        return f;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        if (ends_with(name, len, parts[i]) &&
            (f = lookup(L, name, len - strlen(parts[i]))) != NULL)
            return f;
    return NULL;
}

static sw_prom_type
type_of(const char *s, size_t n)
{
    static const struct {
        const char *w;
        sw_prom_type t;
    } types[] = {{"counter", SW_PROM_COUNTER},   {"gauge", SW_PROM_GAUGE},
                 {"histogram", SW_PROM_HISTOGRAM}, {"summary", SW_PROM_SUMMARY},
                 {"gaugehistogram", SW_PROM_GAUGEHISTOGRAM}, {"info", SW_PROM_INFO},
                 {"stateset", SW_PROM_STATESET}};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strlen(types[i].w) == n && memcmp(types[i].w, s, n) == 0)
            return types[i].t;
    return SW_PROM_UNKNOWN;
}

static size_t
name_len_at(const char *p, const char *e)
{
    const char *q = p;
    while (q < e && *q != ' ' && *q != '\t' && *q != '{')
        q++;
    return (size_t)(q - p);
}

/* One line of a valid exposition: note HELP, TYPE and sample names. */
static sw_status
scan_line(lint_state *L, const char *line, const char *e, uint32_t lineno, sw_err *err)
{
    const char *p = line;
    while (p < e && (*p == ' ' || *p == '\t'))
        p++;
    if (p == e)
        return SW_OK;
    if (*p != '#') {
        size_t n = name_len_at(p, e);
        if (sample_family(L, p, n))
            return SW_OK;
        lint_family *f = get(L, p, n, lineno, (uint32_t)(p - line) + 1, err);
        return f ? SW_OK : err->code;
    }
    for (p++; p < e && (*p == ' ' || *p == '\t');)
        p++;
    bool help = e - p > 4 && memcmp(p, "HELP", 4) == 0, type = e - p > 4 && !memcmp(p, "TYPE", 4);
    if (!help && !type)
        return SW_OK;
    for (p += 4; p < e && (*p == ' ' || *p == '\t');)
        p++;
    size_t n = name_len_at(p, e);
    if (n == 0 || p + n == e)
        return SW_OK; /* a comment to the parser, too */
    lint_family *f = get(L, p, n, lineno, (uint32_t)(p - line) + 1, err);
    if (!f)
        return err->code;
    const char *a = p + n;
    while (a < e && (*a == ' ' || *a == '\t'))
        a++;
    if (help)
        f->help |= a < e; /* blanks only: no help text, as promtool says */
    else
        f->type = type_of(a, (size_t)(e - a) - (e > a && e[-1] == ' '));
    return SW_OK;
}

static const char *const unit_fixes[][2] = {
    {"_milliseconds", "seconds"}, {"_microseconds", "seconds"}, {"_nanoseconds", "seconds"},
    {"_minutes", "seconds"},      {"_hours", "seconds"},        {"_days", "seconds"},
    {"_kilobytes", "bytes"},      {"_megabytes", "bytes"},      {"_gigabytes", "bytes"},
    {"_kibibytes", "bytes"},      {"_mebibytes", "bytes"},      {"_gibibytes", "bytes"},
};

static void
warn(const lint_family *f, sw_promlint_fn fn, void *ctx, const char *msg)
{
    sw_promlint_warning w = {.line = f->line, .col = f->col, .family = f->name,
                             .family_len = f->len, .message = msg};
    fn(ctx, &w);
}

static bool
contains(const char *s, size_t n, const char *w)
{
    size_t k = strlen(w);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(s + i, w, k) == 0)
            return true;
    return false;
}

static void
lint_family_names(const lint_state *L, const lint_family *f, sw_promlint_fn fn, void *ctx)
{
    char msg[160];
    if (!f->help)
        warn(f, fn, ctx, "no help text");
    bool total = ends_with(f->name, f->len, "_total");
    if (f->type == SW_PROM_COUNTER && !total && !L->om)
        warn(f, fn, ctx, "counter metrics should have \"_total\" suffix");
    if (f->type != SW_PROM_COUNTER && total)
        warn(f, fn, ctx, "non-counter metrics should not have \"_total\" suffix");
    for (size_t i = 0; i < sizeof unit_fixes / sizeof unit_fixes[0]; i++)
        if (contains(f->name, f->len, unit_fixes[i][0])) {
            snprintf(msg, sizeof msg, "use base unit \"%s\" instead of \"%s\"", unit_fixes[i][1],
                     unit_fixes[i][0] + 1);
            warn(f, fn, ctx, msg);
        }
    if (memchr(f->name, ':', f->len))
        warn(f, fn, ctx, "metric names should not contain ':' (reserved for recording rules)");
    for (size_t i = 0; i < f->len; i++)
        if (f->name[i] >= 'A' && f->name[i] <= 'Z') {
            warn(f, fn, ctx, "metric names should be written in 'snake_case' not 'camelCase'");
            break;
        }
    static const char *const type_words[] = {"_counter", "_gauge", "_histogram", "_summary"};
    for (size_t i = 0; i < sizeof type_words / sizeof type_words[0]; i++)
        if (contains(f->name, f->len, type_words[i])) {
            snprintf(msg, sizeof msg, "metric name should not include type '%s'",
                     type_words[i] + 1);
            warn(f, fn, ctx, msg);
        }
}

sw_status
sw_promlint_check(const char *buf, size_t len, sw_promtext_format fmt, sw_promlint_fn fn,
                  void *ctx, sw_err *err)
{
    lint_state L = {.om = fmt == SW_PROMTEXT_OPENMETRICS};
    sw_err local;
    if (!err)
        err = &local;
    const char *p = buf, *end = buf + len;
    uint32_t lineno = 0;
    sw_status st = SW_OK;
    while (p < end && st == SW_OK) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        st = scan_line(&L, p, e, ++lineno, err);
        p = nl ? nl + 1 : end;
    }
    for (size_t i = 0; st == SW_OK && i < L.n; i++)
        lint_family_names(&L, &L.fams[i], fn, ctx);
    free(L.fams);
    free(L.index);
    return st;
}
