/*
 * sw_yaml_parse over arbitrary bytes. A rejected input must fill err as err.h promises, with
 * "fuzz.yaml:line:col: " in front of parse and cap errors; an accepted one must be a well-formed
 * tree: every node placed at 1-based positions inside the input and no earlier than the node
 * before it, scalars NUL-terminated, keys scalar and unique (sw_yaml_get finds each one's own
 * value), nesting and node count within the caps.
 */
#include "fuzz.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "slawatch/err.h"
#include "slawatch/yaml.h"

#define DOC_NAME "fuzz.yaml"

typedef struct walk_ctx {
    size_t max_line;    /* bound on the input's lines */
    size_t max_col;     /* bound on any line's length */
    unsigned line, col; /* position of the previous node in document order */
    size_t nodes;
} walk_ctx;

/*
 * More lines than libyaml can count: it breaks at \n, \r, NEL (C2 85), LS and PS (E2 80 A8/A9);
 * UTF-16 (told by its byte order mark) spells them otherwise, so bound it by the size.
 */
static size_t
line_bound(const uint8_t *data, size_t size)
{
    if (size >= 2 && ((data[0] == 0xff && data[1] == 0xfe) || (data[0] == 0xfe && data[1] == 0xff)))
        return size + 2;
    /* libyaml ends the stream on a line of its own: an empty value there sits one line past. */
    size_t lines = 2;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n' || data[i] == '\r' || data[i] == 0x85 || data[i] == 0xa8 ||
                 data[i] == 0xa9;
    return lines;
}

/* Nodes come in document order, so their start positions never go backwards. */
static void
check_position(walk_ctx *w, const sw_yaml_node *n)
{
    FUZZ_CHECK(n->line >= 1 && n->col >= 1);
    FUZZ_CHECK(n->line <= w->max_line && n->col <= w->max_col);
    FUZZ_CHECK(n->line > w->line || (n->line == w->line && n->col >= w->col));
    w->line = n->line;
    w->col = n->col;
    w->nodes++;
    FUZZ_CHECK(w->nodes <= SW_YAML_MAX_NODES);
}

static void
check_scalar(const sw_yaml_node *n)
{
    FUZZ_CHECK(n->str != NULL && n->str[n->len] == '\0');
    FUZZ_CHECK(n->n == 0 && n->items == NULL && n->pairs == NULL);
    if (sw_yaml_is_null(n))
        FUZZ_CHECK(n->plain && n->len <= 4);
}

static void walk(walk_ctx *w, const sw_yaml_node *n, int depth);

static void
check_mapping(walk_ctx *w, const sw_yaml_node *n, int depth)
{
    FUZZ_CHECK((n->n == 0) == (n->pairs == NULL) && n->items == NULL);
    for (size_t i = 0; i < n->n; i++) {
        const sw_yaml_pair *p = &n->pairs[i];
        FUZZ_CHECK(p->key != NULL && p->value != NULL);
        FUZZ_CHECK(p->key->kind == SW_YAML_SCALAR);
        walk(w, p->key, depth + 1);
        walk(w, p->value, depth + 1);
        /* Keys with a NUL inside cannot be looked up by a C string. */
        if (strlen(p->key->str) == p->key->len)
            FUZZ_CHECK(sw_yaml_get(n, p->key->str) == p->value);
    }
}

static void
walk(walk_ctx *w, const sw_yaml_node *n, int depth)
{
    FUZZ_CHECK(n != NULL);
    check_position(w, n);
    FUZZ_CHECK(sw_yaml_kind_name(n) != NULL);
    switch (n->kind) {
    case SW_YAML_SCALAR:
        check_scalar(n);
        break;
    case SW_YAML_SEQUENCE:
        FUZZ_CHECK(depth < SW_YAML_MAX_DEPTH);
        FUZZ_CHECK((n->n == 0) == (n->items == NULL) && n->pairs == NULL);
        FUZZ_CHECK(sw_yaml_get(n, "") == NULL);
        for (size_t i = 0; i < n->n; i++)
            walk(w, n->items[i], depth + 1);
        break;
    case SW_YAML_MAPPING:
        FUZZ_CHECK(depth < SW_YAML_MAX_DEPTH);
        check_mapping(w, n, depth);
        break;
    default:
        FUZZ_CHECK(!"unknown node kind");
    }
}

/* Parse and cap errors start with "fuzz.yaml:LINE:COL: " and positive numbers. */
static void
check_error(sw_status st, const sw_err *err)
{
    fuzz_check_err(st, err);
    if (st != SW_E_PARSE && st != SW_E_TOOBIG)
        return;
    FUZZ_CHECK(strncmp(err->msg, DOC_NAME ":", strlen(DOC_NAME ":")) == 0);
    char *end;
    unsigned long line = strtoul(err->msg + strlen(DOC_NAME ":"), &end, 10);
    FUZZ_CHECK(line >= 1 && *end == ':');
    unsigned long col = strtoul(end + 1, &end, 10);
    FUZZ_CHECK(col >= 1 && strncmp(end, ": ", 2) == 0 && end[2] != '\0');
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sw_yaml_doc *doc = NULL;
    sw_err err = {0};
    sw_status st = sw_yaml_parse((const char *)data, size, DOC_NAME, &doc, &err);
    if (st != SW_OK) {
        FUZZ_CHECK(doc == NULL);
        check_error(st, &err);
        return 0;
    }
    FUZZ_CHECK(doc != NULL);
    FUZZ_CHECK(strcmp(sw_yaml_doc_name(doc), DOC_NAME) == 0);
    walk_ctx w = {.max_line = line_bound(data, size), .max_col = size + 1};
    for (size_t i = 0; i < sw_yaml_doc_count(doc); i++)
        walk(&w, sw_yaml_doc_root(doc, i), 0);
    sw_yaml_free(doc);
    return 0;
}
