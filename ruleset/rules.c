/*
 * The rules loader: the YAML/JSON tree from core/yaml is walked against the format of
 * rules/README.md (or handed to rules_openslo.c) and compiled into one sw_rules whose arrays
 * and strings live in its arena; sw_rules_free releases it, and the tree is freed before
 * a load returns. Every problem is reported, and any problem means no rule set. A load runs on
 * one thread; a loaded rule set is immutable and may be shared.
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

/* Defaults, as rules/README.md gives them. */
#define DEFAULT_BASE_MS 10000
#define DEFAULT_MIN_REQUESTS 100
#define DEFAULT_SLICE_MS 60000
#define DEFAULT_SLICE_TARGET 0.99
#define DEFAULT_GATE_WINDOW_MS 600000
#define DEFAULT_GATE_CONFIDENCE 0.99

#define MSG_MAX 1024
#define MS_PER_DAY INT64_C(86400000)
#define MIN_MONTH_MS (28 * MS_PER_DAY)
#define MAX_COUNT 1e15    /* counts in conditions: exact in a double */
#define MAX_DIMENSIONS 30 /* CloudWatch's own limit */


typedef struct diag_entry {
    char *text;
    unsigned line, col; /* line 0: the whole file, or the line saying errors were cut */
    size_t seq;         /* order of discovery, which breaks ties */
} diag_entry;

struct sw_rules_diag {
    diag_entry *lines;
    size_t n, cap;
};

typedef enum unit_kind { UNIT_COUNT, UNIT_RATIO, UNIT_LATENCY, UNIT_RATE } unit_kind;

static const struct sli_entry {
    const char *name;
    sw_sli sli;
    unit_kind unit;
} sli_table[] = {
    {"requests", SW_SLI_REQUESTS, UNIT_COUNT},
    {"errors", SW_SLI_ERRORS, UNIT_COUNT},
    {"error_rate", SW_SLI_ERROR_RATE, UNIT_RATIO},
    {"availability", SW_SLI_AVAILABILITY, UNIT_RATIO},
    {"throughput", SW_SLI_THROUGHPUT, UNIT_RATE},
    {"health_consecutive_failures", SW_SLI_HEALTH_CONSECUTIVE_FAILURES, UNIT_COUNT},
    {"health_failures", SW_SLI_HEALTH_FAILURES, UNIT_COUNT},
    {"health_success", SW_SLI_HEALTH_SUCCESS, UNIT_RATIO},
};
#define N_SLIS (sizeof sli_table / sizeof sli_table[0])

static const char *const top_keys[] = {"version",           "base_interval", "min_requests",
                                       "services",          "objectives",    "alerts",
                                       "rollback_triggers", "gate",          NULL};
static const char *const config_keys[] = {"listen", "data_dir", "rules_files", "alertmanager",
                                          NULL};
static const char *const service_keys[] = {"name", "environments", "sli", "maintenance", NULL};
static const char *const sli_keys[] = {"requests", "errors", "latency", "health", NULL};
static const char *const source_keys[] = {"prometheus", "cloudwatch", "probe", "push", NULL};
static const char *const cloudwatch_keys[] = {"namespace",  "metric", "stat",
                                              "dimensions", "preset", NULL};
static const char *const probe_keys[] = {"url", "every", "timeout", "expect_status", NULL};
static const char *const maintenance_keys[] = {"start", "end", "reason", NULL};
static const char *const objective_keys[] = {"name",  "objective", "window",       "budgeting",
                                             "slice", "bad_when",  "slice_target", NULL};
static const char *const alert_keys[] = {"name",      "when",        "over",        "for",
                                         "severity",  "burn_rate",   "objective",   "long",
                                         "short",     "runbook_url", "description", NULL};
static const char *const burn_keys[] = {"objective", "long", "short", NULL};
static const char *const trigger_keys[] = {"name", "when",        "over",
                                           "for",  "runbook_url", "description", NULL};
static const char *const gate_keys[] = {"window", "min_requests", "checks", "compare", NULL};
static const char *const compare_keys[] = {
    "baseline",   "max_error_rate_increase", "max_latency_increase",
    "confidence", "rank_test_alpha",         NULL};

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
static void
diag_sort_from(sw_rules_diag *d, size_t from)
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

static void
box_free(sw_rules_box *box)
{
    if (box == NULL)
        return;
    sw_arena_fini(&box->arena);
    free(box);
}

void
sw_rules_free(sw_rules *rules)
{
    /* rules is the first member of its box (rules_int.h). */
    box_free((sw_rules_box *)(void *)rules);
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
static void error_in(sw_rules_loader *ld, const sw_yaml_node *node, size_t offset, const char *fmt,
                     ...) __attribute__((format(printf, 4, 5)));

static void
error_in(sw_rules_loader *ld, const sw_yaml_node *node, size_t offset, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verror(ld, node, offset, node->line, node->col, fmt, ap);
    va_end(ap);
}

void
sw_rules_error_pos(sw_rules_loader *ld, sw_rules_pos pos, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verror(ld, NULL, 0, pos.line, pos.col, fmt, ap);
    va_end(ap);
}

/* ---- schema ------------------------------------------------------------------------------- */

static bool
text_is(const char *s, size_t len, const char *want)
{
    return len == strlen(want) && memcmp(s, want, len) == 0;
}

bool
sw_rules_is(const sw_yaml_node *node, const char *s)
{
    return node != NULL && node->kind == SW_YAML_SCALAR && text_is(node->str, node->len, s);
}

static bool
is_text(const sw_yaml_node *node)
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

static bool
key_known(const sw_yaml_node *key, const char *const *keys)
{
    for (size_t i = 0; keys[i] != NULL; i++)
        if (text_is(key->str, key->len, keys[i]))
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
        if (!key_known(k, keys))
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
static const sw_yaml_node *
key_of(const sw_yaml_node *map, const char *key)
{
    for (size_t i = 0; i < map->n; i++)
        if (text_is(map->pairs[i].key->str, map->pairs[i].key->len, key))
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
static size_t
list_len(const sw_yaml_node *node)
{
    return node->kind == SW_YAML_SEQUENCE ? node->n : 0;
}

/* ---- scalars ------------------------------------------------------------------------------ */

bool
sw_rules_get_name(sw_rules_loader *ld, const sw_yaml_node *node, const char *what, const char **ret)
{
    if (!is_text(node) || node->len == 0) {
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
    if (!is_text(node) || memchr(node->str, '\0', node->len) != NULL) {
        sw_rules_error(ld, node, "expected %s, found %s", what, sw_rules_found(node).s);
        return false;
    }
    *ret = sw_rules_strdup(ld, node->str, node->len);
    return *ret != NULL;
}

bool
sw_rules_get_number(sw_rules_loader *ld, const sw_yaml_node *node, const char *what, double *ret)
{
    if (!is_text(node) || !sw_units_parse_number(node->str, node->len, ret)) {
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
sw_rules_get_int(sw_rules_loader *ld, const sw_yaml_node *node, const char *what, int64_t min, int64_t max,
        int64_t *ret)
{
    int64_t v = 0;
    bool ok = is_text(node) && node->len > 0 && node->len <= 15;
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
    if (!is_text(node) || !sw_units_parse_duration_ms(node->str, node->len, ret_ms)) {
        sw_rules_error(ld, node, "expected a duration (e.g. 5m, 1h30m) for %s, found %s", key,
                       sw_rules_found(node).s);
        return false;
    }
    return true;
}

/* Windows are made of base intervals: at least one, and a whole number of them. */
static void
check_step(sw_rules_loader *ld, const sw_rules *r, const sw_yaml_node *node, const char *key,
           int64_t ms)
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
static void
check_default_step(sw_rules_loader *ld, const sw_rules *r, const sw_yaml_node *map, const char *key,
                   int64_t ms)
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

static bool
get_step(sw_rules_loader *ld, const sw_rules *r, const sw_yaml_node *node, const char *key,
         bool zero_ok, int64_t *ret_ms)
{
    if (!sw_rules_get_duration(ld, node, key, zero_ok, ret_ms))
        return false;
    check_step(ld, r, node, key, *ret_ms);
    return true;
}

static bool
get_ratio(sw_rules_loader *ld, const sw_yaml_node *node, const char *what, double *ret)
{
    if (!is_text(node) || !sw_units_parse_ratio(node->str, node->len, ret)) {
        sw_rules_error(ld, node, "expected %s, found %s", what, sw_rules_found(node).s);
        return false;
    }
    return true;
}

/* ---- times ------------------------------------------------------------------------------ */

static bool
get_time(sw_rules_loader *ld, const sw_yaml_node *node, const char *key, int64_t *ret_ms)
{
    if (!is_text(node) || !sw_units_parse_time_ms(node->str, node->len, ret_ms)) {
        sw_rules_error(ld, node,
                       "expected an RFC 3339 time (e.g. 2026-10-10T02:00:00Z) for %s, "
                       "found %s",
                       key, sw_rules_found(node).s);
        return false;
    }
    return true;
}

/* ---- conditions --------------------------------------------------------------------------- */

/* Where each token of a condition starts, as byte offsets in its scalar. */
typedef struct cond_at {
    size_t sli, op, value;
} cond_at;

static const struct sli_entry *
sli_entry(sw_sli sli)
{
    for (size_t i = 0; i < N_SLIS; i++)
        if (sli_table[i].sli == sli)
            return &sli_table[i];
    return NULL;
}

static unit_kind
unit_of(sw_sli sli)
{
    const struct sli_entry *e = sli_entry(sli);
    return e != NULL ? e->unit : UNIT_LATENCY;
}

static bool
is_blank(char ch)
{
    return ch == ' ' || ch == '\t';
}

static size_t
skip_blanks(const char *s, size_t len, size_t i)
{
    while (i < len && is_blank(s[i]))
        i++;
    return i;
}

static size_t
token_end(const char *s, size_t len, size_t i)
{
    while (i < len && !is_blank(s[i]))
        i++;
    return i;
}

/* "'tok'" for the token at i, or "nothing" at the end. */
static sw_rules_shown
token_at(const char *s, size_t len, size_t i)
{
    if (i >= len)
        return sw_rules_show("nothing", 7);
    sw_rules_shown t = sw_rules_show(s + i, token_end(s, len, i) - i), out;
    size_t n = strlen(t.s);
    out.s[0] = '\'';
    memcpy(out.s + 1, t.s, n);
    memcpy(out.s + 1 + n, "'", 2);
    return out;
}

static bool
lookup_sli(const char *s, size_t len, sw_condition *c)
{
    for (size_t i = 0; i < N_SLIS; i++)
        if (text_is(s, len, sli_table[i].name)) {
            c->sli = sli_table[i].sli;
            return true;
        }
    double p;
    if (len < 2 || s[0] != 'p' || !sw_units_parse_number(s + 1, len - 1, &p) || p <= 0 || p > 100)
        return false;
    c->sli = SW_SLI_LATENCY;
    c->percentile = p;
    return true;
}

static bool
sli_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '.';
}

static bool
parse_sli(sw_rules_loader *ld, const sw_yaml_node *n, size_t *i, sw_condition *c)
{
    size_t start = skip_blanks(n->str, n->len, *i), end = start;
    while (end < n->len && sli_char(n->str[end]))
        end++;
    if (end == start) {
        error_in(ld, n, start,
                 "expected a condition '<sli> <op> <value>' (e.g. "
                 "error_rate > 1%%), found %s",
                 sw_rules_found(n).s);
        return false;
    }
    if (!lookup_sli(n->str + start, end - start, c)) {
        error_in(ld, n, start,
                 "unknown SLI '%s'; expected one of: requests, errors, "
                 "error_rate, availability, throughput, pNN (e.g. p95, p99.9), "
                 "health_consecutive_failures, health_failures, health_success",
                 sw_rules_show(n->str + start, end - start).s);
        return false;
    }
    *i = end;
    return true;
}

static bool
parse_op(sw_rules_loader *ld, const sw_yaml_node *n, size_t *i, sw_condition *c)
{
    size_t at = skip_blanks(n->str, n->len, *i);
    char sli[32];
    if (at >= n->len || (n->str[at] != '<' && n->str[at] != '>')) {
        sw_rules_sli_name(c, sli, sizeof sli);
        error_in(ld, n, at, "expected an operator (<, <=, >, >=) after '%s', found %s", sli,
                 token_at(n->str, n->len, at).s);
        return false;
    }
    bool eq = at + 1 < n->len && n->str[at + 1] == '=';
    c->op = n->str[at] == '<' ? (eq ? SW_OP_LE : SW_OP_LT) : (eq ? SW_OP_GE : SW_OP_GT);
    *i = at + 1 + eq;
    return true;
}

/* The value token, by the unit the SLI is measured in. */
static bool
parse_quantity(const char *s, size_t len, unit_kind unit, double *ret)
{
    switch (unit) {
    case UNIT_RATIO:
        return sw_units_parse_ratio(s, len, ret);
    case UNIT_LATENCY:
        return sw_units_parse_latency_us(s, len, ret);
    case UNIT_RATE:
        return sw_units_parse_rate(s, len, ret);
    case UNIT_COUNT:
        break;
    }
    double v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9' || v > MAX_COUNT)
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *ret = v;
    return len > 0 && v <= MAX_COUNT;
}

static const char *
unit_example(unit_kind unit)
{
    switch (unit) {
    case UNIT_RATIO:
        return "a ratio (e.g. 1% or 0.01)";
    case UNIT_LATENCY:
        return "a latency (e.g. 500ms, 1s, 250us)";
    case UNIT_RATE:
        return "a rate (e.g. 1000/s, 60000/m)";
    case UNIT_COUNT:
        break;
    }
    return "a count (a whole number)";
}

static bool
parse_value(sw_rules_loader *ld, const sw_yaml_node *n, size_t *i, sw_condition *c)
{
    const char *s = n->str;
    size_t at = skip_blanks(s, n->len, *i), end = token_end(s, n->len, at);
    size_t rest = skip_blanks(s, n->len, end);
    char sli[32];
    sw_rules_sli_name(c, sli, sizeof sli);
    unit_kind unit = unit_of(c->sli);
    if (rest < n->len) {
        error_in(ld, n, rest,
                 "expected the end of the condition after the value, "
                 "found %s",
                 token_at(s, n->len, rest).s);
        return false;
    }
    if (at == end || !parse_quantity(s + at, end - at, unit, &c->value)) {
        error_in(ld, n, at, "expected %s for %s, found %s", unit_example(unit), sli,
                 token_at(s, n->len, at).s);
        return false;
    }
    if (unit == UNIT_RATIO && (c->value < 0 || c->value > 1)) {
        error_in(ld, n, at, "expected a ratio between 0%% and 100%% for %s, found %s", sli,
                 token_at(s, n->len, at).s);
        return false;
    }
    *i = at;
    return true;
}

static bool
parse_condition(sw_rules_loader *ld, const sw_yaml_node *node, sw_condition *ret, cond_at *at)
{
    if (!is_text(node)) {
        sw_rules_error(ld, node,
                       "expected a condition '<sli> <op> <value>' (e.g. error_rate > "
                       "1%%), found %s",
                       sw_rules_found(node).s);
        return false;
    }
    sw_condition c = {.pos = sw_rules_pos_of(ld, node)};
    cond_at where = {0};
    size_t i = 0;
    if (!parse_sli(ld, node, &i, &c))
        return false;
    where.sli = skip_blanks(node->str, node->len, 0);
    where.op = skip_blanks(node->str, node->len, i);
    if (!parse_op(ld, node, &i, &c) || !parse_value(ld, node, &i, &c))
        return false;
    where.value = i;
    *ret = c;
    if (at != NULL)
        *at = where;
    return true;
}

/* ---- sources ------------------------------------------------------------------------------ */

static void
compile_prometheus(sw_rules_loader *ld, const sw_yaml_node *node, sw_source *src)
{
    size_t off = 0;
    sw_err err = {0};
    if (!is_text(node)) {
        sw_rules_error(ld, node, "expected a Prometheus series selector, found %s",
                       sw_rules_found(node).s);
        return;
    }
    sw_status st = sw_selector_validate(node->str, node->len, &off, &err);
    if (st == SW_E_NOMEM)
        ld->nomem = true;
    else if (st == SW_E_PARSE)
        error_in(ld, node, off, "selector: %s", err.msg);
    else if (st != SW_OK)
        sw_rules_error(ld, node, "selector: %s", err.msg);
    src->kind = SW_SOURCE_PROMETHEUS;
    src->selector = sw_rules_strdup(ld, node->str, node->len);
}

static bool
valid_stat(const sw_yaml_node *node)
{
    static const char *const stats[] = {"Sum", "SampleCount", "Average", "Minimum", "Maximum"};
    double p;
    for (size_t i = 0; i < sizeof stats / sizeof stats[0]; i++)
        if (sw_rules_is(node, stats[i]))
            return true;
    return is_text(node) && node->len > 1 && node->str[0] == 'p' &&
           sw_units_parse_number(node->str + 1, node->len - 1, &p) && p > 0 && p <= 100;
}

static void
compile_dimensions(sw_rules_loader *ld, const sw_yaml_node *node, sw_source *src)
{
    if (node->kind != SW_YAML_MAPPING || node->n > MAX_DIMENSIONS) {
        sw_rules_error(ld, node,
                       "expected a mapping of at most %d dimensions (Name: value), "
                       "found %s",
                       MAX_DIMENSIONS, sw_rules_found(node).s);
        return;
    }
    sw_label *dims = sw_rules_alloc(ld, node->n, sizeof *dims);
    for (size_t i = 0; dims != NULL && i < node->n; i++) {
        const sw_yaml_node *k = node->pairs[i].key, *v = node->pairs[i].value;
        sw_rules_get_text(ld, k, "a dimension name", &dims[i].name);
        sw_rules_get_text(ld, v, "a dimension value", &dims[i].value);
    }
    src->dimensions = dims;
    src->n_dimensions = dims != NULL ? node->n : 0;
}

static void
compile_cw_metric(sw_rules_loader *ld, const sw_yaml_node *node, sw_source *src)
{
    const sw_yaml_node *v;
    if ((v = sw_rules_require(ld, node, "namespace", "cloudwatch")) != NULL)
        sw_rules_get_text(ld, v, "a CloudWatch namespace", &src->cw_namespace);
    if ((v = sw_rules_require(ld, node, "metric", "cloudwatch")) != NULL)
        sw_rules_get_text(ld, v, "a CloudWatch metric name", &src->cw_metric);
    if ((v = sw_rules_require(ld, node, "stat", "cloudwatch")) == NULL)
        return;
    if (valid_stat(v))
        src->cw_stat = sw_rules_strdup(ld, v->str, v->len);
    else
        sw_rules_error(ld, v,
                       "expected a statistic (Sum, SampleCount, Average, Minimum, "
                       "Maximum or pNN), found %s",
                       sw_rules_found(v).s);
}

static void
compile_cw_preset(sw_rules_loader *ld, const sw_yaml_node *node, const sw_yaml_node *preset,
                  sw_source *src)
{
    static const char *const own[] = {"namespace", "metric", "stat"};
    if (sw_rules_is(preset, "alb") || sw_rules_is(preset, "apigateway") ||
        sw_rules_is(preset, "lambda"))
        src->preset = sw_rules_strdup(ld, preset->str, preset->len);
    else
        sw_rules_error(ld, preset, "expected a preset (alb, apigateway or lambda), found %s",
                       sw_rules_found(preset).s);
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++) {
        const sw_yaml_node *k = key_of(node, own[i]);
        if (k != NULL)
            sw_rules_error(ld, k, "expected either a preset or %s, not both", own[i]);
    }
    if (sw_yaml_get(node, "dimensions") == NULL)
        sw_rules_error(ld, node, "missing key 'dimensions' in cloudwatch (a preset needs them)");
}

static void
compile_cloudwatch(sw_rules_loader *ld, const sw_yaml_node *node, sw_source *src)
{
    src->kind = SW_SOURCE_CLOUDWATCH;
    if (!sw_rules_check_map(ld, node, "cloudwatch", cloudwatch_keys))
        return;
    const sw_yaml_node *preset = sw_yaml_get(node, "preset"), *dims;
    if (preset != NULL)
        compile_cw_preset(ld, node, preset, src);
    else
        compile_cw_metric(ld, node, src);
    if ((dims = sw_yaml_get(node, "dimensions")) != NULL)
        compile_dimensions(ld, dims, src);
}

static bool
is_http_url(const sw_yaml_node *node)
{
    size_t n = node->len;
    const char *s = node->str;
    bool http = n > 7 && memcmp(s, "http://", 7) == 0;
    bool https = n > 8 && memcmp(s, "https://", 8) == 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f)
            return false;
    return is_text(node) && (http || https);
}

static void
compile_probe(sw_rules_loader *ld, const sw_yaml_node *node, sw_source *src)
{
    const sw_yaml_node *v;
    int64_t status = 200;
    src->kind = SW_SOURCE_PROBE;
    src->every_ms = 10000;
    src->timeout_ms = 2000;
    if (!sw_rules_check_map(ld, node, "probe", probe_keys))
        return;
    if ((v = sw_rules_require(ld, node, "url", "probe")) != NULL && !is_http_url(v))
        sw_rules_error(ld, v, "expected an http:// or https:// URL, found %s", sw_rules_found(v).s);
    else if (v != NULL)
        src->url = sw_rules_strdup(ld, v->str, v->len);
    if ((v = sw_yaml_get(node, "every")) != NULL)
        sw_rules_get_duration(ld, v, "every", false, &src->every_ms);
    if ((v = sw_yaml_get(node, "timeout")) != NULL &&
        sw_rules_get_duration(ld, v, "timeout", false, &src->timeout_ms) && src->timeout_ms > src->every_ms)
        sw_rules_error(ld, v,
                       "expected a timeout no longer than every, as Prometheus requires "
                       "of scrape timeouts");
    if ((v = sw_yaml_get(node, "expect_status")) != NULL)
        sw_rules_get_int(ld, v, "an HTTP status (100-599) for expect_status", 100, 599, &status);
    src->expect_status = (int)status;
}

/* Exactly one of prometheus, cloudwatch, probe or push; a probe measures health only. */
static void
compile_source(sw_rules_loader *ld, const sw_yaml_node *node, const char *sli, sw_source *src)
{
    char what[32];
    const sw_yaml_node *v;
    snprintf(what, sizeof what, "sli %s", sli);
    src->pos = sw_rules_pos_of(ld, node);
    if (!sw_rules_check_map(ld, node, what, source_keys))
        return;
    size_t given = 0;
    for (size_t i = 0; source_keys[i] != NULL; i++)
        given += sw_yaml_get(node, source_keys[i]) != NULL;
    if (given != 1) {
        sw_rules_error(ld, node,
                       "expected exactly one source in %s (prometheus, cloudwatch, "
                       "probe or push), found %zu",
                       what, given);
        return;
    }
    if ((v = sw_yaml_get(node, "prometheus")) != NULL)
        compile_prometheus(ld, v, src);
    else if ((v = sw_yaml_get(node, "cloudwatch")) != NULL)
        compile_cloudwatch(ld, v, src);
    else if ((v = sw_yaml_get(node, "probe")) != NULL && strcmp(sli, "health") != 0)
        sw_rules_error(ld, v,
                       "expected prometheus, cloudwatch or push for %s: a probe "
                       "measures health only",
                       sli);
    else if (v != NULL)
        compile_probe(ld, v, src);
    else if (!sw_rules_is(v = sw_yaml_get(node, "push"), "true"))
        sw_rules_error(ld, v, "expected true for push, found %s", sw_rules_found(v).s);
    else
        src->kind = SW_SOURCE_PUSH;
}

/* ---- services ----------------------------------------------------------------------------- */

/* Index of the first of items[0..n) called name, or -1; each item starts with its name. */
static ptrdiff_t
find_name(const void *items, size_t n, size_t stride, const char *name)
{
    for (size_t i = 0; name != NULL && i < n; i++) {
        const char *have = *(const char *const *)(const void *)((const char *)items + i * stride);
        if (have != NULL && strcmp(have, name) == 0)
            return (ptrdiff_t)i;
    }
    return -1;
}

/* Item i of items must not share its name with an earlier one (pos at pos_off in each). */
static void
check_duplicate(sw_rules_loader *ld, const sw_yaml_node *item, const void *items, size_t i,
                size_t stride, size_t pos_off, const char *what)
{
    const char *name = *(const char *const *)(const void *)((const char *)items + i * stride);
    ptrdiff_t j = find_name(items, i, stride, name);
    if (j < 0)
        return;
    const sw_rules_pos *first = (const void *)((const char *)items + (size_t)j * stride + pos_off);
    const sw_yaml_node *at = sw_yaml_get(item, "name");
    sw_rules_error(ld, at != NULL ? at : item,
                   "expected a unique %s name, found '%s' again "
                   "(first at line %u)",
                   what, sw_rules_show(name, strlen(name)).s, first->line);
}

static void
compile_sli(sw_rules_loader *ld, const sw_yaml_node *node, sw_service *s)
{
    sw_source *dst[] = {&s->requests, &s->errors, &s->latency, &s->health};
    size_t given = 0;
    if (!sw_rules_check_map(ld, node, "sli", sli_keys))
        return;
    for (size_t i = 0; sli_keys[i] != NULL; i++) {
        const sw_yaml_node *v = sw_yaml_get(node, sli_keys[i]);
        if (v != NULL) {
            compile_source(ld, v, sli_keys[i], dst[i]);
            given++;
        }
    }
    if (given == 0)
        sw_rules_error(ld, node,
                       "expected at least one source in sli (requests, errors, "
                       "latency or health)");
}

static void
compile_environments(sw_rules_loader *ld, const sw_yaml_node *node, sw_service *s)
{
    if (!sw_rules_check_list(ld, node, "environments"))
        return;
    size_t n = list_len(node);
    const char **envs = sw_rules_alloc(ld, n, sizeof *envs);
    for (size_t i = 0; envs != NULL && i < n; i++) {
        if (!sw_rules_get_name(ld, node->items[i], "an environment", &envs[i]))
            continue;
        for (size_t j = 0; j < i; j++)
            if (envs[j] != NULL && strcmp(envs[j], envs[i]) == 0) {
                sw_rules_error(ld, node->items[i],
                               "expected unique environments, found '%s' "
                               "again",
                               sw_rules_show(envs[i], strlen(envs[i])).s);
                break;
            }
    }
    s->environments = envs;
    s->n_environments = envs != NULL ? n : 0;
}

static void
compile_downtime(sw_rules_loader *ld, const sw_yaml_node *node, sw_maintenance *m)
{
    const sw_yaml_node *start, *end, *reason;
    if (!sw_rules_check_map(ld, node, "maintenance window", maintenance_keys))
        return;
    start = sw_rules_require(ld, node, "start", "maintenance window");
    end = sw_rules_require(ld, node, "end", "maintenance window");
    bool start_ok = start != NULL && get_time(ld, start, "start", &m->start_ms);
    if (end != NULL && get_time(ld, end, "end", &m->end_ms) && start_ok && m->end_ms <= m->start_ms)
        sw_rules_error(ld, end, "expected an end after the start %s, found %s",
                       sw_rules_found(start).s, sw_rules_found(end).s);
    if ((reason = sw_yaml_get(node, "reason")) != NULL)
        sw_rules_get_text(ld, reason, "a reason", &m->reason);
}

static void
compile_maintenance(sw_rules_loader *ld, const sw_yaml_node *node, sw_service *s)
{
    if (!sw_rules_check_list(ld, node, "maintenance windows"))
        return;
    size_t n = list_len(node);
    sw_maintenance *m = sw_rules_alloc(ld, n, sizeof *m);
    for (size_t i = 0; m != NULL && i < n; i++)
        compile_downtime(ld, node->items[i], &m[i]);
    s->maintenance = m;
    s->n_maintenance = m != NULL ? n : 0;
}

static void
compile_service(sw_rules_loader *ld, const sw_yaml_node *node, sw_service *s)
{
    const sw_yaml_node *v;
    s->pos = sw_rules_pos_of(ld, node);
    if (!sw_rules_check_map(ld, node, "service", service_keys))
        return;
    if ((v = sw_rules_require(ld, node, "name", "service")) != NULL)
        sw_rules_get_name(ld, v, "a service", &s->name);
    if ((v = sw_yaml_get(node, "environments")) != NULL)
        compile_environments(ld, v, s);
    if ((v = sw_rules_require(ld, node, "sli", "service")) != NULL)
        compile_sli(ld, v, s);
    if ((v = sw_yaml_get(node, "maintenance")) != NULL)
        compile_maintenance(ld, v, s);
}

static void
compile_services(sw_rules_loader *ld, const sw_yaml_node *node, sw_rules *r)
{
    if (!sw_rules_check_list(ld, node, "services"))
        return;
    size_t n = list_len(node);
    if (n == 0) {
        sw_rules_error(ld, node, "expected at least one service");
        return;
    }
    sw_service *s = sw_rules_alloc(ld, n, sizeof *s);
    for (size_t i = 0; s != NULL && i < n; i++) {
        compile_service(ld, node->items[i], &s[i]);
        check_duplicate(ld, node->items[i], s, i, sizeof *s, offsetof(sw_service, pos), "service");
    }
    r->services = s;
    r->n_services = s != NULL ? n : 0;
}

/* ---- objectives --------------------------------------------------------------------------- */

typedef enum direction { DIR_NONE, DIR_FLOOR, DIR_CEILING } direction;

/* Which way an SLI can be promised: availability >= T, p95 <= L; counts cannot. */
static direction
objective_direction(sw_sli sli)
{
    switch (sli) {
    case SW_SLI_AVAILABILITY:
    case SW_SLI_HEALTH_SUCCESS:
    case SW_SLI_THROUGHPUT:
        return DIR_FLOOR;
    case SW_SLI_ERROR_RATE:
    case SW_SLI_LATENCY:
        return DIR_CEILING;
    default:
        return DIR_NONE;
    }
}

/* A promise of 100% (or of nothing) leaves no error budget to spend or measure. */
static bool
target_ok(sw_rules_loader *ld, const sw_yaml_node *node, size_t at, const sw_condition *c)
{
    const char *why = NULL;
    unit_kind unit = unit_of(c->sli);
    bool error_rate = c->sli == SW_SLI_ERROR_RATE;
    if (c->value <= 0)
        why = error_rate             ? "expected an error rate above 0% (0% leaves no error budget)"
              : unit == UNIT_RATIO   ? "expected a target above 0%"
              : unit == UNIT_LATENCY ? "expected a latency above 0"
                                     : "expected a rate above 0";
    else if (unit == UNIT_RATIO && c->value >= 1)
        why = error_rate ? "expected an error rate below 100%"
                         : "expected a target below 100% (100% leaves no error budget)";
    if (why != NULL)
        error_in(ld, node, at, "%s", why);
    return why == NULL;
}

/* The objective's condition is stored only when valid, so pos.line != 0 means usable. */
static void
objective_condition(sw_rules_loader *ld, const sw_yaml_node *node, sw_objective *o)
{
    cond_at at;
    sw_condition c;
    char sli[32];
    if (!parse_condition(ld, node, &c, &at))
        return;
    sw_rules_sli_name(&c, sli, sizeof sli);
    direction dir = objective_direction(c.sli);
    bool floor_op = c.op == SW_OP_GE || c.op == SW_OP_GT;
    if (dir == DIR_NONE)
        error_in(ld, node, at.sli,
                 "expected an objective on availability, error_rate, "
                 "pNN, throughput or health_success, found %s",
                 sli);
    else if ((dir == DIR_FLOOR) != floor_op)
        error_in(ld, node, at.op, "expected %s in the objective: %s is promised as a %s",
                 dir == DIR_FLOOR ? ">= or >" : "<= or <", sli,
                 dir == DIR_FLOOR ? "minimum" : "maximum");
    else if (target_ok(ld, node, at.value, &c))
        o->objective = c;
}

static void
get_window(sw_rules_loader *ld, const sw_rules *r, const sw_yaml_node *node, sw_window_spec *w)
{
    int64_t ms;
    if (sw_rules_is(node, "month")) {
        w->kind = SW_WINDOW_MONTH;
        return;
    }
    if (!is_text(node) || !sw_units_parse_duration_ms(node->str, node->len, &ms)) {
        sw_rules_error(ld, node, "expected a window: month or a duration (e.g. 30d), found %s",
                       sw_rules_found(node).s);
        return;
    }
    check_step(ld, r, node, "window", ms);
    w->kind = SW_WINDOW_ROLLING;
    w->length_ms = ms;
}

static void
compile_bad_when(sw_rules_loader *ld, const sw_yaml_node *node, sw_objective *o)
{
    if (!sw_rules_check_list(ld, node, "conditions"))
        return;
    size_t n = list_len(node);
    if (n == 0) {
        sw_rules_error(ld, node, "expected at least one condition in bad_when");
        return;
    }
    sw_condition *c = sw_rules_alloc(ld, n, sizeof *c);
    for (size_t i = 0; c != NULL && i < n; i++)
        parse_condition(ld, node->items[i], &c[i], NULL);
    o->bad_when = c;
    o->n_bad_when = c != NULL ? n : 0;
}

static int64_t
window_ms(const sw_window_spec *w)
{
    return w->kind == SW_WINDOW_MONTH ? MIN_MONTH_MS : w->length_ms;
}

/* Settings that only make sense for some objectives are errors elsewhere, not ignored. */
static void
objective_applies(sw_rules_loader *ld, const sw_yaml_node *node, const sw_objective *o)
{
    const sw_yaml_node *k;
    sw_sli sli = o->objective.sli;
    bool parsed = o->objective.pos.line != 0;
    bool slices = o->budgeting == SW_BUDGET_TIMESLICES;
    bool throughput = parsed && sli == SW_SLI_THROUGHPUT;
    if (parsed && slices && sli != SW_SLI_AVAILABILITY && sli != SW_SLI_ERROR_RATE &&
        (k = sw_yaml_get(node, "budgeting")) != NULL)
        sw_rules_error(ld, k,
                       "expected events budgeting: timeslices applies to availability "
                       "and error_rate objectives only");
    if (!slices && (k = key_of(node, "bad_when")) != NULL)
        sw_rules_error(ld, k, "expected budgeting: timeslices with bad_when");
    if (parsed && !slices && !throughput && (k = key_of(node, "slice")) != NULL)
        sw_rules_error(ld, k,
                       "expected budgeting: timeslices or a throughput objective with "
                       "slice");
    if (parsed && !throughput && (k = key_of(node, "slice_target")) != NULL)
        sw_rules_error(ld, k, "expected a throughput objective with slice_target");
    if (o->slice_ms > window_ms(&o->window) && (k = sw_yaml_get(node, "slice")) != NULL)
        sw_rules_error(ld, k, "expected a slice no longer than the objective's window");
}

static void
objective_options(sw_rules_loader *ld, const sw_rules *r, const sw_yaml_node *node, sw_objective *o)
{
    const sw_yaml_node *v;
    if ((v = sw_yaml_get(node, "window")) != NULL)
        get_window(ld, r, v, &o->window);
    if ((v = sw_yaml_get(node, "budgeting")) != NULL) {
        if (sw_rules_is(v, "events") || sw_rules_is(v, "timeslices"))
            o->budgeting = sw_rules_is(v, "events") ? SW_BUDGET_EVENTS : SW_BUDGET_TIMESLICES;
        else
            sw_rules_error(ld, v, "expected events or timeslices for budgeting, found %s",
                           sw_rules_found(v).s);
    }
    if ((v = sw_yaml_get(node, "slice")) != NULL)
        get_step(ld, r, v, "slice", false, &o->slice_ms);
    else if (o->budgeting == SW_BUDGET_TIMESLICES || o->objective.sli == SW_SLI_THROUGHPUT)
        check_default_step(ld, r, node, "slice", o->slice_ms);
    if ((v = sw_yaml_get(node, "bad_when")) != NULL)
        compile_bad_when(ld, v, o);
    if ((v = sw_yaml_get(node, "slice_target")) != NULL &&
        get_ratio(ld, v, "a share of slices (e.g. 99%) for slice_target", &o->slice_target) &&
        (o->slice_target <= 0 || o->slice_target > 1))
        sw_rules_error(ld, v,
                       "expected a share above 0%% and at most 100%% for slice_target, "
                       "found %s",
                       sw_rules_found(v).s);
}

static void
compile_objective(sw_rules_loader *ld, const sw_rules *r, const sw_yaml_node *node, sw_objective *o)
{
    const sw_yaml_node *v;
    o->pos = sw_rules_pos_of(ld, node);
    sw_rules_objective_defaults(ld, o);
    if (!sw_rules_check_map(ld, node, "objective", objective_keys))
        return;
    if ((v = sw_rules_require(ld, node, "name", "objective")) != NULL)
        sw_rules_get_name(ld, v, "an objective", &o->name);
    if ((v = sw_rules_require(ld, node, "objective", "objective")) != NULL)
        objective_condition(ld, v, o);
    objective_options(ld, r, node, o);
    objective_applies(ld, node, o);
}

static void
compile_objectives(sw_rules_loader *ld, const sw_yaml_node *node, sw_rules *r)
{
    if (!sw_rules_check_list(ld, node, "objectives"))
        return;
    size_t n = list_len(node);
    sw_objective *o = sw_rules_alloc(ld, n, sizeof *o);
    for (size_t i = 0; o != NULL && i < n; i++) {
        compile_objective(ld, r, node->items[i], &o[i]);
        check_duplicate(ld, node->items[i], o, i, sizeof *o, offsetof(sw_objective, pos),
                        "objective");
    }
    r->objectives = o;
    r->n_objectives = o != NULL ? n : 0;
}

/* ---- alerts and rollback triggers --------------------------------------------------------- */

/* A burn rate is measured against an error budget: availability or error_rate objectives. */
static bool
burn_objective(sw_rules_loader *ld, const sw_rules *r, const sw_yaml_node *node, sw_alert *a)
{
    char sli[32];
    for (size_t i = 0; is_text(node) && i < r->n_objectives; i++) {
        const sw_objective *o = &r->objectives[i];
        if (o->name == NULL || !text_is(node->str, node->len, o->name))
            continue;
        a->objective = i;
        if (o->objective.pos.line == 0)
            return false; /* its own error is reported already */
        if (o->objective.sli == SW_SLI_AVAILABILITY || o->objective.sli == SW_SLI_ERROR_RATE)
            return true;
        sw_rules_sli_name(&o->objective, sli, sizeof sli);
        sw_rules_error(ld, node,
                       "expected an availability or error_rate objective for a burn "
                       "rate, found objective '%s' on %s",
                       o->name, sli);
        return false;
    }
    sw_rules_error(ld, node,
                   "expected the name of an objective, found %s (no objective has "
                   "that name)",
                   sw_rules_found(node).s);
    return false;
}

/* At 100% bad the burn rate is 1 / budget; a factor at or above that can never be exceeded. */
static void
check_burn_reachable(sw_rules_loader *ld, const sw_rules *r, const sw_yaml_node *node,
                     const sw_alert *a)
{
    const sw_objective *o = &r->objectives[a->objective];
    const sw_condition *c = &o->objective;
    double budget = c->sli == SW_SLI_AVAILABILITY ? 1 - c->value : c->value;
    /* The tolerance absorbs binary noise: 1 - 99.9% is not exactly 0.001. */
    if (budget <= 0 || budget >= 1 || a->burn_rate < (1 / budget) * (1 - 1e-9))
        return;
    sw_rules_error(ld, node,
                   "expected a burn rate below %g: objective '%s' allows %g%% bad, "
                   "so its burn rate never exceeds %g",
                   1 / budget, o->name, budget * 100, 1 / budget);
}

static void
compile_burn_alert(sw_rules_loader *ld, const sw_rules *r, const sw_yaml_node *node,
                   const sw_yaml_node *burn, sw_alert *a)
{
    const sw_yaml_node *obj = sw_rules_require(ld, node, "objective", "alert");
    const sw_yaml_node *lng = sw_rules_require(ld, node, "long", "alert");
    const sw_yaml_node *shrt = sw_rules_require(ld, node, "short", "alert"), *k;
    char have[32];
    a->kind = SW_ALERT_BURN_RATE;
    if ((k = key_of(node, "over")) != NULL)
        sw_rules_error(ld, k, "expected long and short, not over, in a burn-rate alert");
    bool rate_ok = sw_rules_get_number(ld, burn, "a burn rate (e.g. 14.4)", &a->burn_rate);
    if (rate_ok && a->burn_rate <= 0) {
        sw_rules_error(ld, burn, "expected a burn rate above 0, found %s", sw_rules_found(burn).s);
        rate_ok = false;
    }
    bool obj_ok = obj != NULL && burn_objective(ld, r, obj, a);
    bool long_ok = lng != NULL && get_step(ld, r, lng, "long", false, &a->long_ms);
    if (shrt != NULL && get_step(ld, r, shrt, "short", false, &a->short_ms) && long_ok &&
        a->short_ms >= a->long_ms) {
        sw_units_format_duration(a->long_ms, have, sizeof have);
        sw_rules_error(ld, shrt, "expected a short window shorter than long (%s), found %s", have,
                       sw_rules_found(shrt).s);
    }
    if (rate_ok && obj_ok)
        check_burn_reachable(ld, r, burn, a);
}

static void
compile_condition_alert(sw_rules_loader *ld, const sw_rules *r, const sw_yaml_node *node,
                        const sw_yaml_node *when, sw_alert *a)
{
    const sw_yaml_node *v;
    a->kind = SW_ALERT_CONDITION;
    parse_condition(ld, when, &a->when, NULL);
    if ((v = sw_yaml_get(node, "over")) != NULL)
        get_step(ld, r, v, "over", false, &a->over_ms);
    else
        check_default_step(ld, r, node, "over", a->over_ms);
}

static void
get_severity(sw_rules_loader *ld, const sw_yaml_node *node, sw_severity *ret)
{
    static const sw_severity all[] = {SW_SEVERITY_CRITICAL, SW_SEVERITY_WARNING, SW_SEVERITY_INFO};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (sw_rules_is(node, sw_rules_severity_str(all[i]))) {
            *ret = all[i];
            return;
        }
    sw_rules_error(ld, node, "expected a severity (critical, warning or info), found %s",
                   sw_rules_found(node).s);
}

/* `when` alerts and burn-rate alerts; triggers are `when` alerts without severity. */
static void
compile_alert_kind(sw_rules_loader *ld, const sw_rules *r, const sw_yaml_node *node, sw_alert *a,
                   bool trigger)
{
    const sw_yaml_node *when = sw_yaml_get(node, "when"), *k;
    const sw_yaml_node *burn = trigger ? NULL : sw_yaml_get(node, "burn_rate");
    if (when != NULL && burn != NULL)
        sw_rules_error(ld, key_of(node, "burn_rate"),
                       "expected either when or burn_rate, "
                       "not both");
    else if (burn != NULL)
        compile_burn_alert(ld, r, node, burn, a);
    else if (when != NULL)
        compile_condition_alert(ld, r, node, when, a);
    else
        sw_rules_error(ld, node, "missing key 'when' in %s",
                       trigger ? "rollback trigger" : "alert (or burn_rate)");
    for (size_t i = 0; !trigger && burn == NULL && burn_keys[i] != NULL; i++)
        if ((k = key_of(node, burn_keys[i])) != NULL)
            sw_rules_error(ld, k,
                           "expected burn_rate with %s: it applies to burn-rate alerts "
                           "only",
                           burn_keys[i]);
}

static void
compile_alert(sw_rules_loader *ld, const sw_rules *r, const sw_yaml_node *node, sw_alert *a,
              bool trigger)
{
    const char *what = trigger ? "rollback trigger" : "alert";
    const sw_yaml_node *v;
    a->pos = sw_rules_pos_of(ld, node);
    /* Triggers have no severity; a rollback is as serious as it gets. */
    a->severity = trigger ? SW_SEVERITY_CRITICAL : SW_SEVERITY_WARNING;
    a->over_ms = 60000;
    if (!sw_rules_check_map(ld, node, what, trigger ? trigger_keys : alert_keys))
        return;
    if ((v = sw_rules_require(ld, node, "name", what)) != NULL)
        sw_rules_get_name(ld, v, trigger ? "a rollback trigger" : "an alert", &a->name);
    compile_alert_kind(ld, r, node, a, trigger);
    if ((v = sw_yaml_get(node, "for")) != NULL)
        get_step(ld, r, v, "for", true, &a->for_ms);
    if (!trigger && (v = sw_yaml_get(node, "severity")) != NULL)
        get_severity(ld, v, &a->severity);
    if ((v = sw_yaml_get(node, "runbook_url")) != NULL)
        sw_rules_get_text(ld, v, "a URL for runbook_url", &a->runbook_url);
    if ((v = sw_yaml_get(node, "description")) != NULL)
        sw_rules_get_text(ld, v, "a text for description", &a->description);
}

static void
compile_alerts(sw_rules_loader *ld, const sw_yaml_node *node, sw_rules *r, bool trigger)
{
    if (!sw_rules_check_list(ld, node, trigger ? "rollback triggers" : "alerts"))
        return;
    size_t n = list_len(node);
    sw_alert *a = sw_rules_alloc(ld, n, sizeof *a);
    for (size_t i = 0; a != NULL && i < n; i++) {
        compile_alert(ld, r, node->items[i], &a[i], trigger);
        check_duplicate(ld, node->items[i], a, i, sizeof *a, offsetof(sw_alert, pos),
                        trigger ? "rollback trigger" : "alert");
    }
    if (trigger) {
        r->triggers = a;
        r->n_triggers = a != NULL ? n : 0;
    } else {
        r->alerts = a;
        r->n_alerts = a != NULL ? n : 0;
    }
}

/* ---- latency contradictions --------------------------------------------------------------- */

static void
format_latency(double us, char *out, size_t cap)
{
    if (us >= 1e6)
        snprintf(out, cap, "%gs", us / 1e6);
    else if (us >= 1e3)
        snprintf(out, cap, "%gms", us / 1e3);
    else
        snprintf(out, cap, "%gus", us);
}

static bool
latency_ceiling(const sw_condition *c)
{
    return c->sli == SW_SLI_LATENCY && (c->op == SW_OP_LE || c->op == SW_OP_LT);
}

/* A higher percentile is never faster: p99 <= 500ms contradicts p95 <= 800ms. */
static void
latency_pair(sw_rules_loader *ld, const sw_condition *earlier, const sw_condition *later,
             const char *earlier_desc)
{
    if (!latency_ceiling(earlier) || !latency_ceiling(later) ||
        earlier->percentile == later->percentile)
        return;
    bool later_higher = later->percentile > earlier->percentile;
    if (later_higher ? later->value >= earlier->value : later->value <= earlier->value)
        return;
    char mine[32], theirs[32], bound[32];
    sw_rules_sli_name(later, mine, sizeof mine);
    sw_rules_sli_name(earlier, theirs, sizeof theirs);
    format_latency(earlier->value, bound, sizeof bound);
    sw_rules_error_pos(ld, later->pos,
              "expected a %s threshold of at %s %s, the %s threshold "
              "of %s",
              mine, later_higher ? "least" : "most", bound, theirs, earlier_desc);
}

static bool
same_window(const sw_window_spec *a, const sw_window_spec *b)
{
    return a->kind == b->kind && (a->kind == SW_WINDOW_MONTH || a->length_ms == b->length_ms);
}

void
sw_rules_check_latency_order(sw_rules_loader *ld, const sw_rules *r)
{
    char desc[128];
    for (size_t j = 0; j < r->n_objectives; j++)
        for (size_t i = 0; i < j; i++) {
            const sw_objective *a = &r->objectives[i], *b = &r->objectives[j];
            if (a->name == NULL || !same_window(&a->window, &b->window))
                continue;
            snprintf(desc, sizeof desc, "objective '%s' in the same window",
                     sw_rules_show(a->name, strlen(a->name)).s);
            latency_pair(ld, &a->objective, &b->objective, desc);
        }
}

/* ---- the gate ----------------------------------------------------------------------------- */

static void
compile_checks(sw_rules_loader *ld, const sw_yaml_node *node, sw_gate_spec *g)
{
    char desc[32];
    if (!sw_rules_check_list(ld, node, "conditions"))
        return;
    size_t n = list_len(node);
    sw_condition *c = sw_rules_alloc(ld, n, sizeof *c);
    for (size_t i = 0; c != NULL && i < n; i++) {
        if (!parse_condition(ld, node->items[i], &c[i], NULL))
            continue;
        for (size_t j = 0; j < i; j++) {
            snprintf(desc, sizeof desc, "gate check %zu", j + 1);
            latency_pair(ld, &c[j], &c[i], desc);
        }
    }
    g->checks = c;
    g->n_checks = c != NULL ? n : 0;
}

/* A comparison against an environment a service does not have could never be made. */
static void
check_baseline(sw_rules_loader *ld, const sw_rules *r, const sw_yaml_node *node)
{
    bool any_envs = false;
    for (size_t i = 0; i < r->n_services; i++)
        any_envs = any_envs || r->services[i].n_environments > 0;
    if (!any_envs && r->n_services > 0)
        sw_rules_error(ld, node,
                       "expected an environment of a service as baseline (no service lists "
                       "environments), found %s",
                       sw_rules_found(node).s);
    for (size_t i = 0; i < r->n_services; i++) {
        const sw_service *s = &r->services[i];
        char envs[256];
        bool found = false;
        size_t used = 0;
        envs[0] = '\0';
        for (size_t e = 0; e < s->n_environments && s->environments[e] != NULL; e++) {
            found = found || strcmp(s->environments[e], r->gate.baseline) == 0;
            int w = snprintf(envs + used, sizeof envs - used, "%s%s", e ? ", " : "",
                             sw_rules_show(s->environments[e], strlen(s->environments[e])).s);
            used = w > 0 && (size_t)w < sizeof envs - used ? used + (size_t)w : used;
        }
        if (!found && s->n_environments > 0 && s->name != NULL)
            sw_rules_error(ld, node,
                           "expected one of the environments of service '%s' (%s) as "
                           "baseline, found %s",
                           s->name, envs, sw_rules_found(node).s);
    }
}

/* A ratio read from v that must lie in (low, high] (or [low, high) when open_high). */
static void
get_bounded_ratio(sw_rules_loader *ld, const sw_yaml_node *v, const char *key, const char *range,
                  double low, double high, bool open_high, double *ret)
{
    char what[96];
    snprintf(what, sizeof what, "a ratio (e.g. %s) for %s", range, key);
    if (!get_ratio(ld, v, what, ret))
        return;
    bool inside = open_high ? *ret > low && *ret < high : *ret > low && *ret <= high;
    if (!inside)
        sw_rules_error(ld, v, "expected %s for %s, found %s", range, key, sw_rules_found(v).s);
}

static void
compile_compare(sw_rules_loader *ld, const sw_rules *r, const sw_yaml_node *node, sw_gate_spec *g)
{
    const sw_yaml_node *v;
    if (!sw_rules_check_map(ld, node, "compare", compare_keys))
        return;
    if ((v = sw_rules_require(ld, node, "baseline", "compare")) != NULL &&
        sw_rules_get_name(ld, v, "the baseline environment", &g->baseline))
        check_baseline(ld, r, v);
    if ((v = sw_yaml_get(node, "max_error_rate_increase")) != NULL)
        get_bounded_ratio(ld, v, "max_error_rate_increase", "more than 0% and at most 100%", 0, 1,
                          false, &g->max_error_rate_increase);
    if ((v = sw_yaml_get(node, "max_latency_increase")) != NULL)
        get_bounded_ratio(ld, v, "max_latency_increase", "more than 0% and at most 1000% (10x)", 0,
                          10, false, &g->max_latency_increase);
    if ((v = sw_yaml_get(node, "confidence")) != NULL)
        get_bounded_ratio(ld, v, "confidence", "more than 50% and less than 99.99%", 0.5, 0.9999,
                          true, &g->confidence);
    /* The old rank test's level reads as the false-fail chance it was meant to bound. */
    const sw_yaml_node *alpha = sw_yaml_get(node, "rank_test_alpha");
    double a;
    if (alpha != NULL && v != NULL)
        sw_rules_error(ld, alpha,
                       "expected confidence or rank_test_alpha (its old name: confidence is 1 - "
                       "rank_test_alpha), not both");
    else if (alpha != NULL) {
        get_bounded_ratio(ld, alpha, "rank_test_alpha", "more than 0.0001 and less than 0.5",
                          0.0001, 0.5, true, &a);
        g->confidence = 1.0 - a;
    }
}

/* node is the gate section, or NULL without one: the default gate still applies. */
static void
compile_gate(sw_rules_loader *ld, const sw_yaml_node *node, const sw_yaml_node *root, sw_rules *r)
{
    sw_gate_spec *g = &r->gate;
    const sw_yaml_node *v;
    if (sw_yaml_get(node, "window") == NULL)
        check_default_step(ld, r, node != NULL ? node : root, "gate.window", g->window_ms);
    if (node == NULL || sw_yaml_is_null(node) || !sw_rules_check_map(ld, node, "gate", gate_keys))
        return;
    if ((v = sw_yaml_get(node, "window")) != NULL)
        get_step(ld, r, v, "window", false, &g->window_ms);
    if ((v = sw_yaml_get(node, "min_requests")) != NULL)
        sw_rules_get_int(ld, v, "a positive whole number for min_requests", 1, INT64_MAX, &g->min_requests);
    if ((v = sw_yaml_get(node, "checks")) != NULL)
        compile_checks(ld, v, g);
    if ((v = sw_yaml_get(node, "compare")) != NULL)
        compile_compare(ld, r, v, g);
}

/* ---- the whole file ----------------------------------------------------------------------- */

static void
set_defaults(sw_rules *r)
{
    r->base_interval_ms = DEFAULT_BASE_MS;
    r->min_requests = DEFAULT_MIN_REQUESTS;
    r->gate.window_ms = DEFAULT_GATE_WINDOW_MS;
    r->gate.min_requests = DEFAULT_MIN_REQUESTS;
    r->gate.max_error_rate_increase = -1;
    r->gate.max_latency_increase = -1;
    r->gate.confidence = DEFAULT_GATE_CONFIDENCE;
}

void
sw_rules_objective_defaults(sw_rules_loader *ld, sw_objective *o)
{
    o->window.kind = SW_WINDOW_MONTH;
    o->budgeting = SW_BUDGET_EVENTS;
    o->slice_ms = DEFAULT_SLICE_MS;
    o->slice_target = DEFAULT_SLICE_TARGET;
    sw_condition *bad = sw_rules_alloc(ld, 2, sizeof *bad);
    if (bad == NULL)
        return;
    bad[0] = (sw_condition){.sli = SW_SLI_ERROR_RATE, .op = SW_OP_GT, .value = 0.05, .pos = o->pos};
    bad[1] =
        (sw_condition){.sli = SW_SLI_HEALTH_SUCCESS, .op = SW_OP_LT, .value = 0.5, .pos = o->pos};
    o->bad_when = bad;
    o->n_bad_when = 2;
}

/* version, base_interval and min_requests come first: everything else is checked against them. */
static void
compile_settings(sw_rules_loader *ld, const sw_yaml_node *root, sw_rules *r)
{
    const sw_yaml_node *v;
    int64_t version;
    if ((v = sw_rules_require(ld, root, "version", "the rules file")) != NULL)
        sw_rules_get_int(ld, v, "version 1", 1, 1, &version);
    if ((v = sw_yaml_get(root, "base_interval")) != NULL &&
        sw_rules_get_duration(ld, v, "base_interval", false, &r->base_interval_ms) &&
        (r->base_interval_ms % 1000 != 0 || MS_PER_DAY % r->base_interval_ms != 0)) {
        sw_rules_error(ld, v,
                       "expected a base_interval of whole seconds that divides a day "
                       "(e.g. 10s, 15s, 1m), found %s",
                       sw_rules_found(v).s);
        r->base_interval_ms = DEFAULT_BASE_MS; /* keep later checks meaningful */
    }
    if ((v = sw_yaml_get(root, "min_requests")) != NULL)
        sw_rules_get_int(ld, v, "a positive whole number for min_requests", 1, INT64_MAX, &r->min_requests);
    r->gate.min_requests = r->min_requests;
}

static void
compile_rules(sw_rules_loader *ld, const sw_yaml_node *root, sw_rules *r)
{
    const sw_yaml_node *v;
    if (!sw_rules_check_map(ld, root, "the rules file", top_keys))
        return;
    compile_settings(ld, root, r);
    if ((v = sw_rules_require(ld, root, "services", "the rules file")) != NULL)
        compile_services(ld, v, r);
    if ((v = sw_yaml_get(root, "objectives")) != NULL)
        compile_objectives(ld, v, r);
    if ((v = sw_yaml_get(root, "alerts")) != NULL)
        compile_alerts(ld, v, r, false);
    if ((v = sw_yaml_get(root, "rollback_triggers")) != NULL)
        compile_alerts(ld, v, r, true);
    compile_gate(ld, sw_yaml_get(root, "gate"), root, r);
    sw_rules_check_latency_order(ld, r);
}

static bool
has_any_key(const sw_yaml_node *map, const char *const *keys)
{
    for (size_t i = 0; i < map->n; i++)
        if (key_known(map->pairs[i].key, keys))
            return true;
    return false;
}

static sw_rules_file_kind
root_kind(const sw_yaml_node *root)
{
    static const char *const rules_keys[] = {
        "version", "services", "objectives", "alerts", "rollback_triggers", "gate", NULL};
    if (sw_rules_is_openslo(root))
        return SW_FILE_OPENSLO;
    if (root->kind != SW_YAML_MAPPING)
        return SW_FILE_UNKNOWN;
    if (has_any_key(root, rules_keys))
        return SW_FILE_RULES;
    return has_any_key(root, config_keys) ? SW_FILE_CONFIG : SW_FILE_UNKNOWN;
}

static void
compile_doc(sw_rules_loader *ld, const sw_yaml_doc *doc, sw_rules *r)
{
    size_t n = sw_yaml_doc_count(doc);
    set_defaults(r);
    if (n == 0) {
        sw_rules_error_pos(ld, (sw_rules_pos){ld->name, 1, 1},
                  "expected a rules file, found "
                  "an empty file");
        return;
    }
    const sw_yaml_node *root = sw_yaml_doc_root(doc, 0);
    sw_rules_file_kind kind = root_kind(root);
    if (kind == SW_FILE_OPENSLO) {
        sw_rules_openslo_compile(ld, doc, r);
        return;
    }
    if (kind == SW_FILE_CONFIG) {
        sw_rules_error(ld, root,
                       "expected a rules file, found a slawatch configuration "
                       "(listen, data_dir, rules_files ...)");
        return;
    }
    if (n > 1)
        sw_rules_error(ld, sw_yaml_doc_root(doc, 1),
                       "expected one document in a rules file, "
                       "found %zu",
                       n);
    compile_rules(ld, root, r);
}

/* core/yaml says "name:line:col: message" (or "name: message"); re-emit it as a diagnostic. */
static void
yaml_error(sw_rules_loader *ld, const char *msg)
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

static sw_status
summarise(const sw_rules_loader *ld, sw_status yaml_st, sw_err *err)
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
sw_rules_loader_run(const char *text, size_t len, const char *name, sw_arena *arena,
                    sw_rules_diag *diag, sw_rules_compile_fn compile, void *target, sw_err *err)
{
    sw_rules_loader ld = {.text = text, .len = len, .arena = arena, .diag = diag};
    size_t diag_from = diag != NULL ? diag->n : 0;
    ld.name = sw_rules_strdup(&ld, name, strlen(name));
    sw_yaml_doc *doc = NULL;
    sw_err yaml_err = {0};
    sw_status st =
        ld.name != NULL ? sw_yaml_parse(text, len, ld.name, &doc, &yaml_err) : SW_E_NOMEM;
    if (st == SW_OK)
        compile(&ld, doc, target);
    else if (st != SW_E_NOMEM)
        yaml_error(&ld, yaml_err.msg);
    sw_yaml_free(doc);
    diag_sort_from(diag, diag_from);
    return summarise(&ld, st, err);
}

static void
compile_rules_doc(sw_rules_loader *ld, const sw_yaml_doc *doc, void *target)
{
    compile_doc(ld, doc, target);
}

sw_status
sw_rules_load_mem(const char *text, size_t len, const char *name, sw_rules **ret_rules,
                  sw_rules_diag *diag, sw_err *err)
{
    SW_REQUIRE((text != NULL || len == 0) && name != NULL && ret_rules != NULL);
    sw_rules_box *box = calloc(1, sizeof *box);
    if (box == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory loading rules");
    sw_arena_init(&box->arena);
    sw_status st = sw_rules_loader_run(text, len, name, &box->arena, diag, compile_rules_doc,
                                       &box->rules, err);
    if (st == SW_OK)
        *ret_rules = &box->rules;
    else
        box_free(box);
    return st;
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

sw_status
sw_rules_load_file(const char *path, sw_rules **ret_rules, sw_rules_diag *diag, sw_err *err)
{
    SW_REQUIRE(path != NULL && ret_rules != NULL);
    sw_buf b;
    sw_buf_init(&b, (size_t)SW_YAML_MAX_INPUT + 1);
    sw_status st = sw_rules_read_file(path, &b, err);
    if (st == SW_OK)
        st = sw_rules_load_mem((const char *)b.data, b.len, path, ret_rules, diag, err);
    sw_buf_fini(&b);
    return st;
}

sw_rules_file_kind
sw_rules_file_kind_of(const char *path)
{
    sw_yaml_doc *doc;
    if (sw_yaml_parse_file(path, &doc, NULL) != SW_OK)
        return SW_FILE_UNKNOWN;
    sw_rules_file_kind kind = SW_FILE_UNKNOWN;
    if (sw_yaml_doc_count(doc) > 0)
        kind = root_kind(sw_yaml_doc_root(doc, 0));
    sw_yaml_free(doc);
    return kind;
}

/* ---- small public helpers ----------------------------------------------------------------- */

ptrdiff_t
sw_rules_objective_index(const sw_rules *rules, const char *name)
{
    return find_name(rules->objectives, rules->n_objectives, sizeof *rules->objectives, name);
}

ptrdiff_t
sw_rules_service_index(const sw_rules *rules, const char *name)
{
    return find_name(rules->services, rules->n_services, sizeof *rules->services, name);
}

void
sw_rules_sli_name(const sw_condition *c, char *out, size_t cap)
{
    if (c->sli == SW_SLI_LATENCY) {
        snprintf(out, cap, "p%g", c->percentile);
        return;
    }
    const struct sli_entry *e = sli_entry(c->sli);
    SW_REQUIRE(e != NULL);
    snprintf(out, cap, "%s", e->name);
}

bool
sw_rules_sli_parse(const char *name, sw_sli *ret_sli, double *ret_percentile)
{
    double p;
    if (name[0] == 'p' && sw_units_parse_number(name + 1, strlen(name + 1), &p) && p > 0 &&
        p < 100) {
        *ret_sli = SW_SLI_LATENCY;
        *ret_percentile = p;
        return true;
    }
    for (size_t i = 0; i < N_SLIS; i++) {
        if (strcmp(name, sli_table[i].name) == 0) {
            *ret_sli = sli_table[i].sli;
            *ret_percentile = 0;
            return true;
        }
    }
    return false;
}

void
sw_rules_format_value(sw_sli sli, double v, char *out, size_t cap)
{
    if (isnan(v)) {
        snprintf(out, cap, "n/a");
        return;
    }
    switch (sli) {
    case SW_SLI_ERROR_RATE:
    case SW_SLI_AVAILABILITY:
    case SW_SLI_HEALTH_SUCCESS: snprintf(out, cap, "%.4g%%", v * 100.0); break;
    case SW_SLI_LATENCY:
        if (v >= 1e6)
            snprintf(out, cap, "%.4gs", v / 1e6);
        else if (v >= 1e3)
            snprintf(out, cap, "%.4gms", v / 1e3);
        else
            snprintf(out, cap, "%.4gus", v);
        break;
    case SW_SLI_THROUGHPUT: snprintf(out, cap, "%.4g/s", v); break;
    default: snprintf(out, cap, "%.0f", v); break;
    }
}

const char *
sw_rules_op_str(sw_op op)
{
    static const char *const ops[] = {
        [SW_OP_LT] = "<", [SW_OP_LE] = "<=", [SW_OP_GT] = ">", [SW_OP_GE] = ">="};
    SW_REQUIRE((size_t)op < sizeof ops / sizeof ops[0]);
    return ops[op];
}

const char *
sw_rules_severity_str(sw_severity s)
{
    static const char *const names[] = {[SW_SEVERITY_CRITICAL] = "critical",
                                        [SW_SEVERITY_WARNING] = "warning",
                                        [SW_SEVERITY_INFO] = "info"};
    SW_REQUIRE((size_t)s < sizeof names / sizeof names[0]);
    return names[s];
}

bool
sw_rules_compare(sw_op op, double measured, double value)
{
    SW_REQUIRE((size_t)op <= SW_OP_GE);
    switch (op) {
    case SW_OP_LT:
        return measured < value;
    case SW_OP_LE:
        return measured <= value;
    case SW_OP_GT:
        return measured > value;
    case SW_OP_GE:
        break;
    }
    return measured >= value;
}
