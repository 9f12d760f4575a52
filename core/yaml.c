/*
 * The YAML loader: libyaml's event stream becomes the sw_yaml_node tree. Every node, array and
 * string of a document set is carved from one arena owned by its sw_yaml_doc (the doc struct
 * lives there too), so sw_yaml_free releases a handful of blocks. A parse touches only its own
 * parser and builder; a finished doc is read-only and may be shared between threads.
 */
#include "slawatch/yaml.h"

#include "slawatch/arena.h"
#include "slawatch/buf.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* Blocks start small (most rule files are a few KB) and double up to a cap. */
#define READ_CHUNK (64u << 10)
/* Longest key quoted in a duplicate-key message; the rest is cut. */
#define KEY_IN_MSG_MAX 64

struct sw_yaml_doc {
    sw_arena arena; /* owns this struct and everything reachable from it */
    const char *name;
    size_t count;
    sw_yaml_node **roots;
};

/* A sequence or mapping still receiving children. */
typedef struct frame {
    sw_yaml_node *node;
    size_t base; /* index in builder.stack of its first child */
} frame;

typedef struct builder {
    const char *name;
    const char *text; /* the input, only to place reader errors */
    size_t len;
    sw_arena arena;
    /* Children of the open containers, innermost last; below them the finished roots. */
    sw_buf stack;
    sw_buf sort; /* scratch for the duplicate-key check */
    frame frames[SW_YAML_MAX_DEPTH];
    size_t depth;
    size_t nodes;
} builder;

static sw_status
nomem(const builder *b, sw_err *err)
{
    return sw_err_set(err, SW_E_NOMEM, "%s: out of memory while parsing", b->name);
}

static sw_status
at_error(const builder *b, sw_status code, const yaml_mark_t *m, sw_err *err, const char *what)
{
    return sw_err_set(err, code, "%s:%zu:%zu: %s", b->name, m->line + 1, m->column + 1, what);
}

/*
 * Reader errors carry only a byte offset: count lines (\n, \r, \r\n) and UTF-8 characters up to
 * it, skipping a byte order mark as libyaml's marks do. UTF-16 input gets a rough position.
 */
static void
offset_mark(const builder *b, size_t offset, yaml_mark_t *m)
{
    const unsigned char *s = (const unsigned char *)b->text;
    size_t end = offset < b->len ? offset : b->len;
    size_t i = end >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
    m->line = 0;
    m->column = 0;
    for (; i < end; i++) {
        if (s[i] == '\r' || (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))) {
            m->line++;
            m->column = 0;
        } else if (s[i] != '\n' && (s[i] & 0xc0) != 0x80) {
            m->column++;
        }
    }
}

static sw_status
libyaml_error(const builder *b, const yaml_parser_t *p, sw_err *err)
{
    if (p->error == YAML_MEMORY_ERROR)
        return nomem(b, err);
    const char *problem = p->problem != NULL ? p->problem : "malformed input";
    char what[SW_ERR_MSG_MAX];
    yaml_mark_t m = p->problem_mark;
    if (p->error == YAML_READER_ERROR) {
        offset_mark(b, p->problem_offset, &m);
        if (p->problem_value != -1)
            snprintf(what, sizeof what, "%s (0x%02x)", problem, (unsigned)p->problem_value);
        else
            snprintf(what, sizeof what, "%s", problem);
    } else if (p->context != NULL) {
        snprintf(what, sizeof what, "%s %s", problem, p->context);
    } else {
        snprintf(what, sizeof what, "%s", problem);
    }
    return at_error(b, SW_E_PARSE, &m, err, what);
}

static sw_status
push(builder *b, sw_yaml_node *node, sw_err *err)
{
    if (sw_buf_append(&b->stack, &node, sizeof node, err) != SW_OK)
        return nomem(b, err);
    return SW_OK;
}

static size_t
stack_count(const builder *b)
{
    return b->stack.len / sizeof(sw_yaml_node *);
}

/* A node about to join the innermost open container must not be a non-scalar key. */
static sw_status
check_key(const builder *b, sw_yaml_kind kind, const yaml_mark_t *m, sw_err *err)
{
    if (b->depth == 0 || kind == SW_YAML_SCALAR)
        return SW_OK;
    const frame *f = &b->frames[b->depth - 1];
    if (f->node->kind != SW_YAML_MAPPING || (stack_count(b) - f->base) % 2 != 0)
        return SW_OK;
    return at_error(b, SW_E_PARSE, m, err,
                    kind == SW_YAML_SEQUENCE ? "a mapping key must be a scalar, not a list"
                                             : "a mapping key must be a scalar, not a mapping");
}

/* Allocate a node at mark m and append it to its parent's children (or to the roots). */
static sw_status
add_node(builder *b, sw_yaml_kind kind, const yaml_mark_t *m, sw_yaml_node **ret, sw_err *err)
{
    sw_status st = check_key(b, kind, m, err);
    if (st != SW_OK)
        return st;
    if (b->nodes == SW_YAML_MAX_NODES) {
        char what[64];
        snprintf(what, sizeof what, "more than %u nodes", (unsigned)SW_YAML_MAX_NODES);
        return at_error(b, SW_E_TOOBIG, m, err, what);
    }
    sw_yaml_node *node = sw_arena_alloc(&b->arena, sizeof *node, alignof(sw_yaml_node));
    if (node == NULL)
        return nomem(b, err);
    node->kind = kind;
    /* The input cap keeps lines and columns far below UINT_MAX. */
    node->line = (unsigned)m->line + 1;
    node->col = (unsigned)m->column + 1;
    b->nodes++;
    *ret = node;
    return push(b, node, err);
}

static sw_status
add_scalar(builder *b, const yaml_event_t *ev, sw_err *err)
{
    sw_yaml_node *node = NULL;
    sw_status st = add_node(b, SW_YAML_SCALAR, &ev->start_mark, &node, err);
    if (st != SW_OK)
        return st;
    size_t len = ev->data.scalar.length;
    char *str = sw_arena_alloc(&b->arena, len + 1, 1);
    if (str == NULL)
        return nomem(b, err);
    if (len > 0)
        memcpy(str, ev->data.scalar.value, len);
    node->str = str;
    node->len = len;
    node->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    return SW_OK;
}

static sw_status
open_container(builder *b, sw_yaml_kind kind, const yaml_mark_t *m, sw_err *err)
{
    if (b->depth == SW_YAML_MAX_DEPTH) {
        char what[64];
        snprintf(what, sizeof what, "nesting deeper than %d levels", SW_YAML_MAX_DEPTH);
        return at_error(b, SW_E_TOOBIG, m, err, what);
    }
    sw_yaml_node *node = NULL;
    sw_status st = add_node(b, kind, m, &node, err);
    if (st != SW_OK)
        return st;
    b->frames[b->depth].node = node;
    b->frames[b->depth].base = stack_count(b);
    b->depth++;
    return SW_OK;
}

static int
compare_pairs(const void *va, const void *vb)
{
    const sw_yaml_pair *a = *(const sw_yaml_pair *const *)va;
    const sw_yaml_pair *b = *(const sw_yaml_pair *const *)vb;
    size_t n = a->key->len < b->key->len ? a->key->len : b->key->len;
    int c = memcmp(a->key->str, b->key->str, n);
    if (c != 0)
        return c;
    if (a->key->len != b->key->len)
        return a->key->len < b->key->len ? -1 : 1;
    /* Equal keys stay in document order, so each run starts with the first occurrence. */
    return a < b ? -1 : a > b;
}

static bool
same_key(const sw_yaml_pair *a, const sw_yaml_pair *b)
{
    return a->key->len == b->key->len && memcmp(a->key->str, b->key->str, a->key->len) == 0;
}

/*
 * Sorting keeps big mappings from costing n^2 compares. Of all repeated keys, report the repeat
 * that comes first in the document, as a front-to-back reader would meet it.
 */
static sw_status
check_duplicates(builder *b, const sw_yaml_node *map, sw_err *err)
{
    sw_buf_reset(&b->sort);
    for (size_t i = 0; i < map->n; i++) {
        const sw_yaml_pair *p = &map->pairs[i];
        if (sw_buf_append(&b->sort, &p, sizeof p, err) != SW_OK)
            return nomem(b, err);
    }
    const sw_yaml_pair **sorted = (const sw_yaml_pair **)(void *)b->sort.data;
    if (map->n > 1)
        qsort(sorted, map->n, sizeof *sorted, compare_pairs);
    const sw_yaml_pair *first = NULL, *repeat = NULL;
    for (size_t i = 1; i < map->n; i++) {
        if (!same_key(sorted[i - 1], sorted[i]))
            continue;
        if (repeat == NULL || sorted[i] < repeat) {
            repeat = sorted[i];
            first = sorted[i - 1];
        }
        while (i + 1 < map->n && same_key(sorted[i], sorted[i + 1]))
            i++;
    }
    if (repeat == NULL)
        return SW_OK;
    const sw_yaml_node *k = repeat->key;
    int shown = k->len > KEY_IN_MSG_MAX ? KEY_IN_MSG_MAX : (int)k->len;
    return sw_err_set(err, SW_E_PARSE, "%s:%u:%u: duplicate key \"%.*s%s\" (first at line %u)",
                      b->name, k->line, k->col, shown, k->str, (size_t)shown < k->len ? "..." : "",
                      first->key->line);
}

static sw_status
close_mapping(builder *b, sw_yaml_node *map, sw_yaml_node *const *children, size_t n, sw_err *err)
{
    /* libyaml always pairs a key with a value, inventing empty scalars where one is missing. */
    SW_REQUIRE(n % 2 == 0);
    map->n = n / 2;
    if (map->n == 0)
        return SW_OK;
    map->pairs = sw_arena_alloc(&b->arena, map->n * sizeof *map->pairs, alignof(sw_yaml_pair));
    if (map->pairs == NULL)
        return nomem(b, err);
    for (size_t i = 0; i < map->n; i++) {
        map->pairs[i].key = children[2 * i];
        map->pairs[i].value = children[2 * i + 1];
    }
    return check_duplicates(b, map, err);
}

static sw_status
close_sequence(builder *b, sw_yaml_node *seq, sw_yaml_node *const *children, size_t n, sw_err *err)
{
    seq->n = n;
    if (n == 0)
        return SW_OK;
    seq->items = sw_arena_alloc(&b->arena, n * sizeof *seq->items, alignof(sw_yaml_node *));
    if (seq->items == NULL)
        return nomem(b, err);
    memcpy(seq->items, children, n * sizeof *seq->items);
    return SW_OK;
}

/* Move the innermost container's children from the stack into the arena. */
static sw_status
close_container(builder *b, sw_err *err)
{
    SW_REQUIRE(b->depth > 0);
    const frame *f = &b->frames[--b->depth];
    size_t n = stack_count(b) - f->base;
    sw_yaml_node *const *children = (sw_yaml_node *const *)(void *)b->stack.data + f->base;
    sw_status st = f->node->kind == SW_YAML_MAPPING ? close_mapping(b, f->node, children, n, err)
                                                    : close_sequence(b, f->node, children, n, err);
    b->stack.len = f->base * sizeof(sw_yaml_node *);
    return st;
}

static sw_status
on_event(builder *b, const yaml_event_t *ev, sw_err *err)
{
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        return add_scalar(b, ev, err);
    case YAML_SEQUENCE_START_EVENT:
        return open_container(b, SW_YAML_SEQUENCE, &ev->start_mark, err);
    case YAML_MAPPING_START_EVENT:
        return open_container(b, SW_YAML_MAPPING, &ev->start_mark, err);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        return close_container(b, err);
    case YAML_ALIAS_EVENT:
        return at_error(b, SW_E_PARSE, &ev->start_mark, err, "aliases are not supported");
    default:
        /* Stream and document boundaries: each document leaves its root on the stack. */
        return SW_OK;
    }
}

static sw_status
run_parser(builder *b, yaml_parser_t *p, sw_err *err)
{
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(p, &ev))
            return libyaml_error(b, p, err);
        bool done = ev.type == YAML_STREAM_END_EVENT;
        sw_status st = on_event(b, &ev, err);
        yaml_event_delete(&ev);
        if (st != SW_OK || done)
            return st;
    }
}

/* Build the doc inside the arena it then owns; the builder keeps no claim on the arena. */
static sw_status
finish(builder *b, sw_yaml_doc **ret_doc, sw_err *err)
{
    SW_REQUIRE(b->depth == 0);
    size_t name_len = strlen(b->name);
    sw_yaml_doc *doc = sw_arena_alloc(&b->arena, sizeof *doc, alignof(sw_yaml_doc));
    char *name = sw_arena_alloc(&b->arena, name_len + 1, 1);
    if (doc == NULL || name == NULL)
        return nomem(b, err);
    memcpy(name, b->name, name_len);
    doc->name = name;
    doc->count = stack_count(b);
    if (doc->count > 0) {
        doc->roots = sw_arena_alloc(&b->arena, b->stack.len, alignof(sw_yaml_node *));
        if (doc->roots == NULL)
            return nomem(b, err);
        memcpy(doc->roots, b->stack.data, b->stack.len);
    }
    doc->arena = b->arena;
    b->arena.head = NULL;
    *ret_doc = doc;
    return SW_OK;
}

static void
builder_init(builder *b, const char *text, size_t len, const char *name)
{
    memset(b, 0, sizeof *b);
    b->name = name;
    b->text = text;
    b->len = len;
    sw_arena_init(&b->arena);
    /* The node cap bounds both: one pointer per node at most. */
    size_t max_ptrs = ((size_t)SW_YAML_MAX_NODES + 1) * sizeof(sw_yaml_node *) + 1;
    sw_buf_init(&b->stack, max_ptrs);
    sw_buf_init(&b->sort, max_ptrs);
}

static void
builder_fini(builder *b)
{
    sw_buf_fini(&b->stack);
    sw_buf_fini(&b->sort);
    sw_arena_fini(&b->arena);
}

sw_status
sw_yaml_parse(const char *text, size_t len, const char *name, sw_yaml_doc **ret_doc, sw_err *err)
{
    SW_REQUIRE(text != NULL || len == 0);
    SW_REQUIRE(name != NULL && ret_doc != NULL);
    if (len > SW_YAML_MAX_INPUT)
        return sw_err_set(err, SW_E_TOOBIG,
                          "%s: input is %zu bytes, more than the limit of %u bytes", name, len,
                          (unsigned)SW_YAML_MAX_INPUT);
    /* libyaml insists on a non-NULL string even when it is empty. */
    const char *input = len > 0 ? text : "";
    builder b;
    builder_init(&b, input, len, name);
    sw_status st;
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        st = nomem(&b, err);
        goto out;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)input, len);
    st = run_parser(&b, &parser, err);
    yaml_parser_delete(&parser);
    if (st == SW_OK)
        st = finish(&b, ret_doc, err);
out:
    builder_fini(&b);
    return st;
}

/* Read all of f into b, failing once it holds more than SW_YAML_MAX_INPUT bytes. */
static sw_status
read_capped(FILE *f, const char *path, sw_buf *b, sw_err *err)
{
    for (;;) {
        size_t room = SW_YAML_MAX_INPUT - b->len;
        size_t want = room < READ_CHUNK ? room : READ_CHUNK;
        if (want == 0) {
            if (fgetc(f) != EOF)
                return sw_err_set(err, SW_E_TOOBIG, "%s: file is larger than the limit of %u bytes",
                                  path, (unsigned)SW_YAML_MAX_INPUT);
            break;
        }
        if (sw_buf_reserve(b, want, err) != SW_OK)
            return sw_err_set(err, SW_E_NOMEM, "%s: out of memory while reading", path);
        size_t got = fread(b->data + b->len, 1, want, f);
        b->len += got;
        if (got < want)
            break;
    }
    if (ferror(f))
        return sw_err_sys(err, SW_E_IO, "%s: cannot read", path);
    return SW_OK;
}

sw_status
sw_yaml_parse_file(const char *path, sw_yaml_doc **ret_doc, sw_err *err)
{
    SW_REQUIRE(path != NULL && ret_doc != NULL);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return sw_err_sys(err, SW_E_IO, "%s: cannot open", path);
    sw_buf b;
    sw_buf_init(&b, (size_t)SW_YAML_MAX_INPUT + 1);
    sw_status st = read_capped(f, path, &b, err);
    fclose(f);
    if (st == SW_OK)
        st = sw_yaml_parse((const char *)b.data, b.len, path, ret_doc, err);
    sw_buf_fini(&b);
    return st;
}

void
sw_yaml_free(sw_yaml_doc *doc)
{
    if (doc == NULL)
        return;
    /* The doc lives in its own arena: copy the arena out before releasing it. */
    sw_arena a = doc->arena;
    sw_arena_fini(&a);
}

size_t
sw_yaml_doc_count(const sw_yaml_doc *doc)
{
    return doc->count;
}

const sw_yaml_node *
sw_yaml_doc_root(const sw_yaml_doc *doc, size_t i)
{
    SW_REQUIRE(i < doc->count);
    return doc->roots[i];
}

const char *
sw_yaml_doc_name(const sw_yaml_doc *doc)
{
    return doc->name;
}

const sw_yaml_node *
sw_yaml_get(const sw_yaml_node *map, const char *key)
{
    SW_REQUIRE(key != NULL);
    if (map == NULL || map->kind != SW_YAML_MAPPING)
        return NULL;
    size_t len = strlen(key);
    for (size_t i = 0; i < map->n; i++) {
        const sw_yaml_node *k = map->pairs[i].key;
        if (k->len == len && memcmp(k->str, key, len) == 0)
            return map->pairs[i].value;
    }
    return NULL;
}

bool
sw_yaml_is_null(const sw_yaml_node *node)
{
    static const char *const spellings[] = {"", "null", "Null", "NULL", "~"};
    if (node == NULL || node->kind != SW_YAML_SCALAR || !node->plain)
        return false;
    for (size_t i = 0; i < sizeof spellings / sizeof spellings[0]; i++)
        if (strcmp(node->str, spellings[i]) == 0 && node->len == strlen(spellings[i]))
            return true;
    return false;
}

const char *
sw_yaml_kind_name(const sw_yaml_node *node)
{
    static const char *const names[] = {
        [SW_YAML_SCALAR] = "a scalar",
        [SW_YAML_SEQUENCE] = "a list",
        [SW_YAML_MAPPING] = "a mapping",
    };
    SW_REQUIRE(node != NULL && (size_t)node->kind < sizeof names / sizeof names[0]);
    return names[node->kind];
}
