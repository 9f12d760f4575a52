/*
 * The schema walker the rules loader and the daemon's configuration loader share: diagnostics
 * in file order, FILE:LINE:COL positions (columns inside plain scalars too), mappings, lists
 * and scalar readers, and one load from text to a compiled result (sw_rules_loader_run).
 */
#include "rules_int.h"

#include "slawatch/buf.h"
#include "slawatch/selector.h"
#include "slawatch/units.h"

#include <math.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DIAG 1000 /* diagnostic lines kept; the rest are counted */
#define MSG_MAX 1024

typedef struct diag_entry {
    char *text;
    unsigned line, col; /* line 0: the whole file, or the line saying errors were cut */
    size_t seq;         /* order of discovery, which breaks ties */
} diag_entry;

struct sw_rules_diag {
    diag_entry *lines;
    size_t n, cap;
};

/* ---- diagnostics ------------------------------------------------------------------------ */

sw_rules_diag *
sw_rules_diag_new(void)
{
    return calloc(1, sizeof(sw_rules_diag));
}

void
sw_rules_diag_free(sw_rules_diag *d)
{
    if (d == NULL)
        return;
    for (size_t i = 0; i < d->n; i++)
        free(d->lines[i].text);
    free(d->lines);
    free(d);
}

size_t
sw_rules_diag_count(const sw_rules_diag *d)
{
    return d->n;
}

const char *
sw_rules_diag_line(const sw_rules_diag *d, size_t i)
{
    SW_REQUIRE(i < d->n);
    return d->lines[i].text;
}

/* Append a line the diag takes ownership of; false (line freed) when memory ran out. */
static bool
diag_take(sw_rules_diag *d, char *text, unsigned line, unsigned col)
{
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        diag_entry *lines = realloc(d->lines, cap * sizeof *lines);
        if (lines == NULL) {
            free(text);
            return false;
        }
        d->lines = lines;
        d->cap = cap;
    }
    d->lines[d->n] = (diag_entry){text, line, col, d->n};
    d->n++;
    return true;
}

static bool
before(unsigned line_a, unsigned col_a, unsigned line_b, unsigned col_b)
{
    if (line_a == 0 || line_b == 0) /* positionless lines after every positioned one */
        return line_a != 0 && line_b == 0;
    return line_a < line_b || (line_a == line_b && col_a < col_b);
}

static int
cmp_entries(const void *a, const void *b)
{
    const diag_entry *x = a, *y = b;
    if (before(x->line, x->col, y->line, y->col))
        return -1;
    if (before(y->line, y->col, x->line, x->col))
        return 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* One file's lines, from..n, in file order: checks run section by section and cross-references
 * last, but a reader goes down the file. */
void
sw_rules_diag_sort_from(sw_rules_diag *d, size_t from)
{
    if (d != NULL && d->n > from)
        qsort(d->lines + from, d->n - from, sizeof *d->lines, cmp_entries);
}

void *
sw_rules_alloc(sw_rules_loader *ld, size_t n, size_t size)
{
    size_t total;
    if (n == 0)
        return NULL;
    void *p = NULL;
    if (!__builtin_mul_overflow(n, size, &total))
        p = sw_arena_alloc(ld->arena, total, alignof(max_align_t));
    if (p == NULL)
        ld->nomem = true;
    return p;
}

const char *
sw_rules_strdup(sw_rules_loader *ld, const char *s, size_t len)
{
    char *p = len < SIZE_MAX ? sw_arena_alloc(ld->arena, len + 1, 1) : NULL;
    if (p == NULL) {
        ld->nomem = true;
        return NULL;
    }
    memcpy(p, s, len);
    return p;
}

/* ---- positions and messages --------------------------------------------------------------- */

sw_rules_pos
sw_rules_pos_of(const sw_rules_loader *ld, const sw_yaml_node *node)
{
    return (sw_rules_pos){.file = ld->name, .line = node->line, .col = node->col};
}

sw_rules_shown
sw_rules_show(const char *s, size_t len)
{
    sw_rules_shown out;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (o >= 68) {
            /* Cut before a whole character, never inside one. */
            while ((ch & 0xc0) == 0x80 && o > 0 && ((unsigned char)out.s[o - 1] & 0xc0) == 0x80)
                o--;
            if ((ch & 0xc0) == 0x80 && o > 0 && (unsigned char)out.s[o - 1] >= 0xc0)
                o--;
            memcpy(out.s + o, "...", 4);
            return out;
        }
        if (ch < 0x20 || ch == 0x7f)
            o += (size_t)snprintf(out.s + o, sizeof out.s - o, "\\x%02x", ch);
        else
            out.s[o++] = (char)ch;
    }
    out.s[o] = '\0';
    return out;
}

sw_rules_shown
sw_rules_found(const sw_yaml_node *node)
{
    if (sw_yaml_is_null(node))
        return sw_rules_show("nothing", 7);
    if (node->kind != SW_YAML_SCALAR) {
        const char *kind = sw_yaml_kind_name(node);
        return sw_rules_show(kind, strlen(kind));
    }
    sw_rules_shown text = sw_rules_show(node->str, node->len), out;
    size_t n = strlen(text.s);
    out.s[0] = '\'';
    memcpy(out.s + 1, text.s, n);
    memcpy(out.s + 1 + n, "'", 2);
    return out;
}

/* A node's kind for "expected a list ..., found a scalar"; null reads as nothing. */
static const char *
found_kind(const sw_yaml_node *node)
{
    return sw_yaml_is_null(node) ? "nothing" : sw_yaml_kind_name(node);
}

/* Find line's first byte in the source, moving a cursor from the last lookup either way. */
static bool
line_start(sw_rules_loader *ld, unsigned line, size_t *ret)
{
    if (ld->cur_line == 0) {
        ld->cur_line = 1;
        ld->cur_off = 0;
    }
    while (ld->cur_line < line) {
        const char *nl = memchr(ld->text + ld->cur_off, '\n', ld->len - ld->cur_off);
        if (nl == NULL)
            return false;
        ld->cur_off = (size_t)(nl - ld->text) + 1;
        ld->cur_line++;
    }
    while (ld->cur_line > line) {
        size_t i = ld->cur_off - 1; /* the '\n' that ends the line before */
        while (i > 0 && ld->text[i - 1] != '\n')
            i--;
        ld->cur_off = i;
        ld->cur_line--;
    }
    *ret = ld->cur_off;
    return true;
}

/* Byte offset of (line, col); columns count characters, as libyaml's do. */
static bool
source_at(sw_rules_loader *ld, unsigned line, unsigned col, size_t *ret)
{
    size_t at;
    if (ld->text == NULL || !line_start(ld, line, &at))
        return false;
    for (unsigned c = 1; c < col; c++) {
        if (at >= ld->len || ld->text[at] == '\n')
            return false;
        at++;
        while (at < ld->len && ((unsigned char)ld->text[at] & 0xc0) == 0x80)
            at++;
    }
    *ret = at;
    return true;
}

/*
 * Column of byte offset inside a scalar. Only a plain scalar found verbatim on one source line
 * maps offsets to columns; quoting, escapes and folding do not, so those point at the scalar.
 */
static unsigned
scalar_col(sw_rules_loader *ld, const sw_yaml_node *n, size_t offset)
{
    size_t at;
    if (offset == 0 || n->kind != SW_YAML_SCALAR || !n->plain || offset > n->len ||
        memchr(n->str, '\n', n->len) != NULL || !source_at(ld, n->line, n->col, &at) ||
        ld->len - at < n->len || memcmp(ld->text + at, n->str, n->len) != 0)
        return n->col;
    unsigned chars = 0;
    for (size_t i = 0; i < offset; i++)
        chars += ((unsigned char)n->str[i] & 0xc0) != 0x80;
    return n->col + chars;
}

/* Format one diagnostic; line 0 means the whole file (no position). */
static void
record(sw_rules_loader *ld, unsigned line, unsigned col, const char *msg)
{
    char where[32] = "";
    if (line > 0)
        snprintf(where, sizeof where, ":%u:%u", line, col);
    if (ld->n_errors == 1 || before(line, col, ld->first_line, ld->first_col)) {
        snprintf(ld->first, sizeof ld->first, "%.80s%s: %.140s", ld->name, where, msg);
        ld->first_line = line;
        ld->first_col = col;
    }
    if (ld->diag == NULL)
        return;
    int n = snprintf(NULL, 0, "%s%s: error: %s", ld->name, where, msg);
    char *text = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (text == NULL) {
        ld->nomem = true;
        return;
    }
    snprintf(text, (size_t)n + 1, "%s%s: error: %s", ld->name, where, msg);
    if (!diag_take(ld->diag, text, line, col))
        ld->nomem = true;
}

/* Count every error; keep the first MAX_DIAG and one line saying the rest were cut. */
static bool
counted(sw_rules_loader *ld, unsigned *line, unsigned *col, char *msg)
{
    ld->n_errors++;
    if (ld->n_errors <= MAX_DIAG)
        return true;
    if (ld->n_errors > MAX_DIAG + 1)
        return false;
    snprintf(msg, MSG_MAX, "too many errors; only the first %d are listed", MAX_DIAG);
    *line = *col = 0;
    return true;
}

static void
verror(sw_rules_loader *ld, const sw_yaml_node *node, size_t offset, unsigned line, unsigned col,
       const char *fmt, va_list ap)
{
    char msg[MSG_MAX];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (!counted(ld, &line, &col, msg))
        return;
    if (node != NULL && line != 0)
        col = scalar_col(ld, node, offset);
    record(ld, line, col, msg);
}

void
sw_rules_error(sw_rules_loader *ld, const sw_yaml_node *node, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verror(ld, NULL, 0, node->line, node->col, fmt, ap);
    va_end(ap);
}

/* At byte offset within the scalar node (see scalar_col), or at a compiled position. */
void
sw_rules_error_in(sw_rules_loader *ld, const sw_yaml_node *node, size_t offset, const char *fmt,
                  ...)
{
    va_list ap;
    va_start(ap, fmt);
    verror(ld, node, offset, node->line, node->col, fmt, ap);
    va_end(ap);
}

void
sw_rules_error_pos(sw_rules_loader *ld, sw_rules_pos pos, const char *fmt, ...)
{
    /* A position may be in another file of the same load. */
    const char *name = ld->name;
    if (pos.file != NULL)
        ld->name = pos.file;
    va_list ap;
    va_start(ap, fmt);
    verror(ld, NULL, 0, pos.line, pos.col, fmt, ap);
    va_end(ap);
    ld->name = name;
}

/* ---- schema ------------------------------------------------------------------------------- */

bool
sw_rules_text_is(const char *s, size_t len, const char *want)
{
    return len == strlen(want) && memcmp(s, want, len) == 0;
}

bool
sw_rules_is(const sw_yaml_node *node, const char *s)
{
    return node != NULL && node->kind == SW_YAML_SCALAR &&
           sw_rules_text_is(node->str, node->len, s);
}

bool
sw_rules_is_text(const sw_yaml_node *node)
{
    return node->kind == SW_YAML_SCALAR && !sw_yaml_is_null(node);
}

static void
join_keys(const char *const *keys, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; keys[i] != NULL && used < cap; i++) {
        int n = snprintf(out + used, cap - used, "%s%s", i ? ", " : "", keys[i]);
        used += n > 0 ? (size_t)n : 0;
    }
}

bool
sw_rules_key_known(const sw_yaml_node *key, const char *const *keys)
{
    for (size_t i = 0; keys[i] != NULL; i++)
        if (sw_rules_text_is(key->str, key->len, keys[i]))
            return true;
    return false;
}

bool
sw_rules_check_map(sw_rules_loader *ld, const sw_yaml_node *node, const char *what,
                   const char *const *keys)
{
    if (node->kind != SW_YAML_MAPPING) {
        sw_rules_error(ld, node, "expected a mapping for %s, found %s", what, found_kind(node));
        return false;
    }
    char list[512];
    join_keys(keys, list, sizeof list);
    for (size_t i = 0; i < node->n; i++) {
        const sw_yaml_node *k = node->pairs[i].key;
        if (!sw_rules_key_known(k, keys))
            sw_rules_error(ld, k, "unknown key '%s' in %s; expected one of: %s",
                           sw_rules_show(k->str, k->len).s, what, list);
    }
    return true;
}

const sw_yaml_node *
sw_rules_require(sw_rules_loader *ld, const sw_yaml_node *map, const char *key, const char *what)
{
    const sw_yaml_node *v = sw_yaml_get(map, key);
    if (v == NULL)
        sw_rules_error(ld, map, "missing key '%s' in %s", key, what);
    return v;
}

/* The key node of key in map (for errors about the key itself), or NULL. */
const sw_yaml_node *
sw_rules_key_of(const sw_yaml_node *map, const char *key)
{
    for (size_t i = 0; i < map->n; i++)
        if (sw_rules_text_is(map->pairs[i].key->str, map->pairs[i].key->len, key))
            return map->pairs[i].key;
    return NULL;
}

bool
sw_rules_check_list(sw_rules_loader *ld, const sw_yaml_node *node, const char *what)
{
    if (sw_yaml_is_null(node))
        return true;
    if (node->kind != SW_YAML_SEQUENCE) {
        sw_rules_error(ld, node, "expected a list of %s, found %s", what, found_kind(node));
        return false;
    }
    if (node->n > SW_RULES_MAX_LIST) {
        sw_rules_error(ld, node, "expected at most %d %s, found %zu", SW_RULES_MAX_LIST, what,
                       node->n);
        return false;
    }
    return true;
}

/* Items of a list checked by sw_rules_check_list (null has none). */
size_t
sw_rules_list_len(const sw_yaml_node *node)
{
    return node->kind == SW_YAML_SEQUENCE ? node->n : 0;
}

/* ---- scalars ------------------------------------------------------------------------------ */

bool
sw_rules_get_name(sw_rules_loader *ld, const sw_yaml_node *node, const char *what, const char **ret)
{
    if (!sw_rules_is_text(node) || node->len == 0) {
        sw_rules_error(ld, node, "expected a name for %s, found %s", what, sw_rules_found(node).s);
        return false;
    }
    if (node->len > SW_RULES_MAX_NAME) {
        sw_rules_error(ld, node, "expected a name of at most %d bytes for %s, found %zu bytes",
                       SW_RULES_MAX_NAME, what, node->len);
        return false;
    }
    for (size_t i = 0; i < node->len; i++)
        if ((unsigned char)node->str[i] < 0x20 || node->str[i] == 0x7f) {
            sw_rules_error(ld, node,
                           "expected a name without control characters for %s, "
                           "found %s",
                           what, sw_rules_found(node).s);
            return false;
        }
    *ret = sw_rules_strdup(ld, node->str, node->len);
    return *ret != NULL;
}

/* Stored strings are C strings: a NUL byte (a "\0" escape) would silently cut them. */
bool
sw_rules_get_text(sw_rules_loader *ld, const sw_yaml_node *node, const char *what, const char **ret)
{
    if (!sw_rules_is_text(node) || memchr(node->str, '\0', node->len) != NULL) {
        sw_rules_error(ld, node, "expected %s, found %s", what, sw_rules_found(node).s);
        return false;
    }
    *ret = sw_rules_strdup(ld, node->str, node->len);
    return *ret != NULL;
}

bool
sw_rules_get_number(sw_rules_loader *ld, const sw_yaml_node *node, const char *what, double *ret)
{
    if (!sw_rules_is_text(node) || !sw_units_parse_number(node->str, node->len, ret)) {
        sw_rules_error(ld, node, "expected %s, found %s", what, sw_rules_found(node).s);
        return false;
    }
    return true;
}

bool
sw_rules_get_bool(sw_rules_loader *ld, const sw_yaml_node *node, bool *ret)
{
    if (sw_rules_is(node, "true") || sw_rules_is(node, "false")) {
        *ret = sw_rules_is(node, "true");
        return true;
    }
    sw_rules_error(ld, node, "expected true or false, found %s", sw_rules_found(node).s);
    return false;
}

/* A whole number of at most 15 digits in [min, max]. */
bool
sw_rules_get_int(sw_rules_loader *ld, const sw_yaml_node *node, const char *what, int64_t min,
                 int64_t max, int64_t *ret)
{
    int64_t v = 0;
    bool ok = sw_rules_is_text(node) && node->len > 0 && node->len <= 15;
    for (size_t i = 0; ok && i < node->len; i++) {
        ok = node->str[i] >= '0' && node->str[i] <= '9';
        v = v * 10 + (node->str[i] - '0');
    }
    if (!ok || v < min || v > max) {
        sw_rules_error(ld, node, "expected %s, found %s", what, sw_rules_found(node).s);
        return false;
    }
    *ret = v;
    return true;
}

/* Prometheus accepts `0`, `0s`, `0m` ... where a zero duration makes sense (`for`). */
static bool
is_zero_duration(const sw_yaml_node *node)
{
    static const char *const zeros[] = {"0", "0ms", "0s", "0m", "0h", "0d", "0w", "0y"};
    for (size_t i = 0; i < sizeof zeros / sizeof zeros[0]; i++)
        if (sw_rules_is(node, zeros[i]))
            return true;
    return false;
}

bool
sw_rules_get_duration(sw_rules_loader *ld, const sw_yaml_node *node, const char *key, bool zero_ok,
                      int64_t *ret_ms)
{
    if (zero_ok && is_zero_duration(node)) {
        *ret_ms = 0;
        return true;
    }
    if (!sw_rules_is_text(node) || !sw_units_parse_duration_ms(node->str, node->len, ret_ms)) {
        sw_rules_error(ld, node, "expected a duration (e.g. 5m, 1h30m) for %s, found %s", key,
                       sw_rules_found(node).s);
        return false;
    }
    return true;
}

/* Windows are made of base intervals: at least one, and a whole number of them. */
void
sw_rules_check_step(sw_rules_loader *ld, const sw_rules *r, const sw_yaml_node *node,
                    const char *key, int64_t ms)
{
    char have[32], base[32];
    if (ms == 0 || (ms >= r->base_interval_ms && ms % r->base_interval_ms == 0))
        return;
    sw_units_format_duration(ms, have, sizeof have);
    sw_units_format_duration(r->base_interval_ms, base, sizeof base);
    if (ms < r->base_interval_ms)
        sw_rules_error(ld, node, "expected %s to be at least base_interval %s, found %s", key, base,
                       have);
    else
        sw_rules_error(ld, node, "expected %s to be a multiple of base_interval %s, found %s", key,
                       base, have);
}

/* A default (over 1m, slice 1m, gate window 10m) must fit base_interval like a written value. */
void
sw_rules_check_default_step(sw_rules_loader *ld, const sw_rules *r, const sw_yaml_node *map,
                            const char *key, int64_t ms)
{
    char dflt[32], base[32];
    if (ms % r->base_interval_ms == 0)
        return;
    sw_units_format_duration(ms, dflt, sizeof dflt);
    sw_units_format_duration(r->base_interval_ms, base, sizeof base);
    sw_rules_error(ld, map,
                   "expected key '%s': its default %s is not a multiple of "
                   "base_interval %s",
                   key, dflt, base);
}

bool
sw_rules_get_step(sw_rules_loader *ld, const sw_rules *r, const sw_yaml_node *node, const char *key,
                  bool zero_ok, int64_t *ret_ms)
{
    if (!sw_rules_get_duration(ld, node, key, zero_ok, ret_ms))
        return false;
    sw_rules_check_step(ld, r, node, key, *ret_ms);
    return true;
}

bool
sw_rules_get_ratio(sw_rules_loader *ld, const sw_yaml_node *node, const char *what, double *ret)
{
    if (!sw_rules_is_text(node) || !sw_units_parse_ratio(node->str, node->len, ret)) {
        sw_rules_error(ld, node, "expected %s, found %s", what, sw_rules_found(node).s);
        return false;
    }
    return true;
}

/* ---- times ------------------------------------------------------------------------------ */

bool
sw_rules_get_time(sw_rules_loader *ld, const sw_yaml_node *node, const char *key, int64_t *ret_ms)
{
    if (!sw_rules_is_text(node) || !sw_units_parse_time_ms(node->str, node->len, ret_ms)) {
        sw_rules_error(ld, node,
                       "expected an RFC 3339 time (e.g. 2026-10-10T02:00:00Z) for %s, "
                       "found %s",
                       key, sw_rules_found(node).s);
        return false;
    }
    return true;
}

/* core/yaml says "name:line:col: message" (or "name: message"); re-emit it as a diagnostic. */
void
sw_rules_yaml_error(sw_rules_loader *ld, const char *msg)
{
    size_t n = strlen(ld->name);
    unsigned line = 0, col = 0;
    int used = 0;
    if (strncmp(msg, ld->name, n) == 0 && msg[n] == ':') {
        msg += n + 1;
        if (sscanf(msg, "%u:%u: %n", &line, &col, &used) == 2 && used > 0)
            msg += used;
        else
            line = col = 0;
        msg += strspn(msg, " ");
    }
    ld->n_errors++;
    record(ld, line, col, msg);
}

sw_status
sw_rules_summarise(const sw_rules_loader *ld, sw_status yaml_st, sw_err *err)
{
    if (ld->nomem || yaml_st == SW_E_NOMEM)
        return sw_err_set(err, SW_E_NOMEM, "out of memory loading rules");
    if (ld->n_errors == 0)
        return SW_OK;
    sw_status code = yaml_st == SW_E_TOOBIG ? SW_E_TOOBIG : SW_E_PARSE;
    if (ld->n_errors == 1)
        return sw_err_set(err, code, "%s", ld->first);
    return sw_err_set(err, code, "%s (and %zu more error%s)", ld->first, ld->n_errors - 1,
                      ld->n_errors == 2 ? "" : "s");
}

sw_status
sw_rules_loader_parse(sw_rules_loader *ld, const char *text, size_t len, const char *name,
                      sw_yaml_doc **ret_doc)
{
    sw_err yaml_err = {0};
    *ret_doc = NULL;
    ld->text = text;
    ld->len = len;
    ld->name = sw_rules_strdup(ld, name, strlen(name));
    sw_status st =
        ld->name != NULL ? sw_yaml_parse(text, len, ld->name, ret_doc, &yaml_err) : SW_E_NOMEM;
    if (st != SW_OK && st != SW_E_NOMEM)
        sw_rules_yaml_error(ld, yaml_err.msg);
    return st;
}

bool
sw_rules_diag_move(sw_rules_diag *dst, sw_rules_diag *src)
{
    bool ok = true;
    for (size_t i = 0; i < src->n; i++)
        ok &= diag_take(dst, src->lines[i].text, src->lines[i].line, src->lines[i].col);
    src->n = 0;
    return ok;
}

sw_status
sw_rules_loader_run(const char *text, size_t len, const char *name, sw_arena *arena,
                    sw_rules_diag *diag, sw_rules_compile_fn compile, void *target, sw_err *err)
{
    sw_rules_loader ld = {.arena = arena, .diag = diag};
    size_t diag_from = diag != NULL ? diag->n : 0;
    sw_yaml_doc *doc;
    sw_status st = sw_rules_loader_parse(&ld, text, len, name, &doc);
    if (st == SW_OK)
        compile(&ld, doc, target);
    sw_yaml_free(doc);
    sw_rules_diag_sort_from(diag, diag_from);
    return sw_rules_summarise(&ld, st, err);
}

sw_status
sw_rules_read_file(const char *path, sw_buf *b, sw_err *err)
{
    char chunk[16384];
    size_t got;
    sw_status st = SW_OK;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return sw_err_sys(err, SW_E_IO, "cannot read %s", path);
    while (st == SW_OK && (got = fread(chunk, 1, sizeof chunk, f)) > 0)
        st = sw_buf_append(b, chunk, got, NULL);
    if (st == SW_E_TOOBIG)
        st = sw_err_set(err, st, "%s is larger than %u bytes", path, (unsigned)SW_YAML_MAX_INPUT);
    else if (st != SW_OK)
        st = sw_err_set(err, st, "out of memory reading %s", path);
    else if (ferror(f))
        st = sw_err_sys(err, SW_E_IO, "cannot read %s", path);
    fclose(f);
    return st;
}
