/*
 * Unit tests for sw_yaml: node kinds, values and 1-based positions in small documents (counted
 * by hand), scalar styles and escapes, JSON through the same loader, several documents, every
 * error path with its exact message, and the input, depth and node caps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "slawatch/yaml.h"

#define NAME "t.yaml"
#define MAX_WANT 12

typedef struct fixture {
    sw_yaml_doc *doc; /* freed by teardown, so a failed assertion leaks nothing */
    sw_err err;
    char *big;     /* generated input */
    char path[64]; /* temporary file, removed by teardown */
} fixture;

static int
setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    if (fx == NULL)
        return -1;
    *state = fx;
    return 0;
}

static int
teardown(void **state)
{
    fixture *fx = *state;
    sw_yaml_free(fx->doc);
    free(fx->big);
    if (fx->path[0] != '\0')
        unlink(fx->path);
    free(fx);
    return 0;
}

/* Parse text into fx->doc (freeing the previous one) and require success. */
static const sw_yaml_doc *
parse_ok(fixture *fx, const char *text, size_t len)
{
    sw_yaml_free(fx->doc);
    fx->doc = NULL;
    sw_status st = sw_yaml_parse(text, len, NAME, &fx->doc, &fx->err);
    if (st != SW_OK)
        fail_msg("parse of \"%.40s\" failed: %s", text ? text : "(null)", fx->err.msg);
    assert_non_null(fx->doc);
    return fx->doc;
}

static const sw_yaml_node *
only_root(fixture *fx, const char *text)
{
    const sw_yaml_doc *doc = parse_ok(fx, text, strlen(text));
    assert_int_equal(sw_yaml_doc_count(doc), 1);
    return sw_yaml_doc_root(doc, 0);
}

/* Follow a path of dot-separated segments: mapping keys, list indexes, "^key" for a key node. */
static const sw_yaml_node *
walk(const sw_yaml_node *n, const char *path)
{
    while (n != NULL && *path != '\0') {
        char seg[64];
        size_t len = strcspn(path, ".");
        assert_true(len < sizeof seg);
        memcpy(seg, path, len);
        seg[len] = '\0';
        path += path[len] == '.' ? len + 1 : len;
        if (n->kind == SW_YAML_SEQUENCE) {
            size_t i = strtoul(seg, NULL, 10);
            n = i < n->n ? n->items[i] : NULL;
        } else if (seg[0] == '^') {
            const sw_yaml_node *key = NULL;
            for (size_t i = 0; i < n->n && key == NULL; i++)
                if (strcmp(n->pairs[i].key->str, seg + 1) == 0)
                    key = n->pairs[i].key;
            n = key;
        } else {
            n = sw_yaml_get(n, seg);
        }
    }
    return n;
}

typedef struct node_want {
    const char *path; /* for walk(); "" is the root */
    sw_yaml_kind kind;
    unsigned line, col;
    size_t n;        /* lists and mappings: items or pairs */
    const char *str; /* scalars: the value */
    bool plain;      /* scalars */
} node_want;

typedef struct tree_case {
    const char *name;
    const char *text;
    node_want want[MAX_WANT]; /* ends at the first entry with a NULL path */
} tree_case;

static void
check_node(const char *name, const sw_yaml_node *root, const node_want *w)
{
    const sw_yaml_node *n = walk(root, w->path);
    if (n == NULL)
        fail_msg("%s: no node at \"%s\"", name, w->path);
    if (n->kind != w->kind || n->line != w->line || n->col != w->col)
        fail_msg("%s: \"%s\" is %s at %u:%u, want %s at %u:%u", name, w->path, sw_yaml_kind_name(n),
                 n->line, n->col, sw_yaml_kind_name(&(sw_yaml_node){.kind = w->kind}), w->line,
                 w->col);
    if (w->kind != SW_YAML_SCALAR) {
        if (n->n != w->n)
            fail_msg("%s: \"%s\" has %zu entries, want %zu", name, w->path, n->n, w->n);
        return;
    }
    if (n->len != strlen(w->str) || memcmp(n->str, w->str, n->len + 1) != 0)
        fail_msg("%s: \"%s\" is \"%s\", want \"%s\"", name, w->path, n->str, w->str);
    if (n->plain != w->plain)
        fail_msg("%s: \"%s\" plain is %d, want %d", name, w->path, n->plain, w->plain);
}

/* One line per kind: the formatter would spread each over four. */
/* clang-format off */
#define S(path, line, col, str, plain) {path, SW_YAML_SCALAR, line, col, 0, str, plain}
#define L(path, line, col, n) {path, SW_YAML_SEQUENCE, line, col, n, NULL, false}
#define M(path, line, col, n) {path, SW_YAML_MAPPING, line, col, n, NULL, false}
/* clang-format on */

static const tree_case tree_cases[] = {
    {"block mapping",
     "name: api\n"
     "slo:\n"
     "  target: 99.9\n"
     "  windows: [5m, 1h]\n",
     {
         M("", 1, 1, 2),
         S("^name", 1, 1, "name", true),
         S("name", 1, 7, "api", true),
         S("^slo", 2, 1, "slo", true),
         M("slo", 3, 3, 2),
         S("slo.^target", 3, 3, "target", true),
         S("slo.target", 3, 11, "99.9", true),
         L("slo.windows", 4, 12, 2),
         S("slo.windows.0", 4, 13, "5m", true),
         S("slo.windows.1", 4, 17, "1h", true),
     }},
    {"block sequence",
     "- a\n"
     "- b: 1\n"
     "  c: 2\n"
     "-\n"
     "  - nested\n",
     {
         L("", 1, 1, 3),
         S("0", 1, 3, "a", true),
         M("1", 2, 3, 2),
         S("1.^b", 2, 3, "b", true),
         S("1.b", 2, 6, "1", true),
         S("1.c", 3, 6, "2", true),
         L("2", 5, 3, 1),
         S("2.0", 5, 5, "nested", true),
     }},
    {"indentless sequence",
     "k:\n"
     "- x\n"
     "- 'y'\n",
     {
         L("k", 2, 1, 2),
         S("k.0", 2, 3, "x", true),
         S("k.1", 3, 3, "y", false),
     }},
    {"flow collections",
     "[1, {a: b}, [], {}]",
     {
         L("", 1, 1, 4),
         S("0", 1, 2, "1", true),
         M("1", 1, 5, 1),
         S("1.^a", 1, 6, "a", true),
         S("1.a", 1, 9, "b", true),
         L("2", 1, 13, 0),
         M("3", 1, 17, 0),
     }},
    {"columns count characters, not bytes",
     "\xc3\xa9: \xc3\xbc\n"
     "x: '\xc3\x9f'\n",
     {
         S("\xc3\xa9", 1, 4, "\xc3\xbc", true),
         S("x", 2, 4, "\xc3\x9f", false),
     }},
    {"crlf line ends",
     "a: 1\r\n"
     "b: 2\r\n",
     {
         S("a", 1, 4, "1", true),
         S("b", 2, 4, "2", true),
     }},
    {"comments, anchors and tags",
     "# header\n"
     "a: &anchor 1   # trailing\n"
     "b: !!str 2\n"
     "c: !custom {x: y}\n"
     "d: !<tag:yaml.org,2002:int> 3\n",
     {
         M("", 2, 1, 4),
         S("a", 2, 4, "1", true),
         S("b", 3, 4, "2", true),
         M("c", 4, 4, 1),
         S("c.x", 4, 16, "y", true),
         S("d", 5, 4, "3", true),
     }},
    {"pretty JSON",
     "{\n"
     "  \"name\": \"api\",\n"
     "  \"tags\": [\"a\", \"b\\\"c\\u00e9\\/\\n\"],\n"
     "  \"n\": -1.5e3,\n"
     "  \"ok\": true,\n"
     "  \"none\": null,\n"
     "  \"nested\": {\"x\": {}, \"y\": []}\n"
     "}\n",
     {
         M("", 1, 1, 6),
         S("^name", 2, 3, "name", false),
         S("name", 2, 11, "api", false),
         L("tags", 3, 11, 2),
         S("tags.0", 3, 12, "a", false),
         S("tags.1", 3, 17, "b\"c\xc3\xa9/\n", false),
         S("n", 4, 8, "-1.5e3", true),
         S("ok", 5, 9, "true", true),
         S("none", 6, 11, "null", true),
         M("nested", 7, 13, 2),
         M("nested.x", 7, 19, 0),
         L("nested.y", 7, 28, 0),
     }},
    {"compact JSON",
     "{\"a\":1,\"b\":[true,false,null],\"c\":\"x\"}",
     {
         S("a", 1, 6, "1", true),
         L("b", 1, 12, 3),
         S("b.0", 1, 13, "true", true),
         S("b.1", 1, 18, "false", true),
         S("b.2", 1, 24, "null", true),
         S("c", 1, 34, "x", false),
     }},
    {"JSON array at the top",
     "[1, \"two\", {\"three\": 3}]",
     {
         L("", 1, 1, 3),
         S("1", 1, 5, "two", false),
         S("2.three", 1, 22, "3", true),
     }},
};

static void
test_trees(void **state)
{
    fixture *fx = *state;
    for (size_t i = 0; i < sizeof tree_cases / sizeof tree_cases[0]; i++) {
        const tree_case *c = &tree_cases[i];
        const sw_yaml_node *root = only_root(fx, c->text);
        for (size_t j = 0; j < MAX_WANT && c->want[j].path != NULL; j++)
            check_node(c->name, root, &c->want[j]);
    }
}

static const struct scalar_case {
    const char *text;
    const char *want;
    size_t len;
    bool plain;
} scalar_cases[] = {
    {"plain text", "plain text", 10, true},
    {"\"q \\\" bs \\\\ tab \\t hex \\x41 u \\u00e9 slash \\/\"",
     "q \" bs \\ tab \t hex A u \xc3\xa9 slash /", 33, false},
    {"'it''s'", "it's", 4, false},
    {"\"nul\\0byte\"", "nul\0byte", 8, false},
    {"|\n  line1\n  line2\n", "line1\nline2\n", 12, false},
    {"|-\n  keep\n", "keep", 4, false},
    {">\n  folded\n  text\n", "folded text\n", 12, false},
    {"\"multi\n  line\"", "multi line", 10, false},
    {"a\n  b", "a b", 3, true},
    {"''", "", 0, false},
    {"\"\"", "", 0, false},
    {"---\n", "", 0, true},
    {"~", "~", 1, true},
};

static void
test_scalars(void **state)
{
    fixture *fx = *state;
    for (size_t i = 0; i < sizeof scalar_cases / sizeof scalar_cases[0]; i++) {
        const struct scalar_case *c = &scalar_cases[i];
        const sw_yaml_node *n = only_root(fx, c->text);
        assert_int_equal(n->kind, SW_YAML_SCALAR);
        if (n->len != c->len || memcmp(n->str, c->want, c->len) != 0)
            fail_msg("%s: got \"%s\" (%zu bytes), want \"%s\"", c->text, n->str, n->len, c->want);
        assert_int_equal(n->str[n->len], '\0');
        assert_int_equal(n->plain, c->plain);
        assert_int_equal(n->n, 0);
    }
}

static const struct null_case {
    const char *text;
    bool is_null;
} null_cases[] = {
    {"~", true},     {"null", true},      {"Null", true}, {"NULL", true},        {"---\n", true},
    {"nULL", false}, {"\"null\"", false}, {"'~'", false}, {"\"\"", false},       {"nil", false},
    {"0", false},    {"[]", false},       {"{}", false},  {"\"nul\\0\"", false},
};

static void
test_is_null(void **state)
{
    fixture *fx = *state;
    for (size_t i = 0; i < sizeof null_cases / sizeof null_cases[0]; i++) {
        const sw_yaml_node *n = only_root(fx, null_cases[i].text);
        if (sw_yaml_is_null(n) != null_cases[i].is_null)
            fail_msg("is_null(%s) should be %d", null_cases[i].text, null_cases[i].is_null);
    }
    assert_false(sw_yaml_is_null(NULL));
    /* The value of `k:` with nothing after it is an empty plain scalar. */
    assert_true(sw_yaml_is_null(sw_yaml_get(only_root(fx, "k:\nj: 1\n"), "k")));
}

static const struct docs_case {
    const char *text;
    size_t count;
    unsigned line[3], col[3];
    sw_yaml_kind kind[3];
} docs_cases[] = {
    {"", 0, {0}, {0}, {0}},
    {"# only a comment\n", 0, {0}, {0}, {0}},
    {"# a\n\n   \n# b", 0, {0}, {0}, {0}},
    {"a: 1\n---\n- x\n...\n---\nplain\n",
     3,
     {1, 3, 6},
     {1, 1, 1},
     {SW_YAML_MAPPING, SW_YAML_SEQUENCE, SW_YAML_SCALAR}},
    {"--- a\n--- b\n", 2, {1, 2}, {5, 5}, {SW_YAML_SCALAR, SW_YAML_SCALAR}},
    /* libyaml places an empty document's null where the next token starts. */
    {"---\n---\n", 2, {2, 3}, {1, 1}, {SW_YAML_SCALAR, SW_YAML_SCALAR}},
};

static void
test_documents(void **state)
{
    fixture *fx = *state;
    for (size_t i = 0; i < sizeof docs_cases / sizeof docs_cases[0]; i++) {
        const struct docs_case *c = &docs_cases[i];
        const sw_yaml_doc *doc = parse_ok(fx, c->text, strlen(c->text));
        assert_int_equal(sw_yaml_doc_count(doc), c->count);
        for (size_t j = 0; j < c->count; j++) {
            const sw_yaml_node *root = sw_yaml_doc_root(doc, j);
            if (root->kind != c->kind[j] || root->line != c->line[j] || root->col != c->col[j])
                fail_msg("\"%s\" document %zu: %s at %u:%u", c->text, j, sw_yaml_kind_name(root),
                         root->line, root->col);
        }
    }
    /* An empty input may come without a buffer. */
    assert_int_equal(sw_yaml_doc_count(parse_ok(fx, NULL, 0)), 0);
    assert_string_equal(sw_yaml_doc_name(fx->doc), NAME);
}

static const struct error_case {
    const char *what;
    const char *text;
    sw_status code;
    const char *msg;
} error_cases[] = {
    {"scanner", "a: 1\nb: @x\n", SW_E_PARSE,
     NAME ":2:4: found character that cannot start any token while scanning for the next token"},
    {"tab indent", "a:\n\tb: 1\n", SW_E_PARSE,
     NAME ":2:1: found character that cannot start any token while scanning for the next token"},
    {"parser", "a: 1\n- b\n", SW_E_PARSE,
     NAME ":2:1: did not find expected key while parsing a block mapping"},
    {"unclosed quote", "a: \"abc", SW_E_PARSE,
     NAME ":1:8: found unexpected end of stream while scanning a quoted scalar"},
    {"unclosed flow", "[1, 2\n", SW_E_PARSE,
     NAME ":2:1: did not find expected ',' or ']' while parsing a flow sequence"},
    {"bad utf-8", "a: 1\nb: \xff\n", SW_E_PARSE, NAME ":2:4: invalid leading UTF-8 octet (0xff)"},
    {"control char", "a: \x01\n", SW_E_PARSE,
     NAME ":1:4: control characters are not allowed (0x01)"},
    {"bad utf-8 after a byte order mark",
     "\xef\xbb\xbf"
     "a: \xc3\xa9\xff",
     SW_E_PARSE, NAME ":1:5: invalid leading UTF-8 octet (0xff)"},
    {"bad utf-8 after crlf and cr", "a: 1\r\nb: 2\rc: \xff", SW_E_PARSE,
     NAME ":3:4: invalid leading UTF-8 octet (0xff)"},
    {"alias", "a: &x 1\nb: *x\n", SW_E_PARSE, NAME ":2:4: aliases are not supported"},
    {"alias in flow", "[&a x, *a]", SW_E_PARSE, NAME ":1:8: aliases are not supported"},
    {"duplicate key", "a: 1\nb: 2\na: 3\n", SW_E_PARSE,
     NAME ":3:1: duplicate key \"a\" (first at line 1)"},
    {"duplicate key, other quoting", "m:\n  k: 1\n  'k': 2\n", SW_E_PARSE,
     NAME ":3:3: duplicate key \"k\" (first at line 2)"},
    {"duplicate JSON key", "{\"a\": 1, \"a\": 2}", SW_E_PARSE,
     NAME ":1:10: duplicate key \"a\" (first at line 1)"},
    {"earliest repeat wins", "b: 1\na: 1\na: 2\nb: 2\n", SW_E_PARSE,
     NAME ":3:1: duplicate key \"a\" (first at line 2)"},
    {"thrice", "x: 1\nx: 2\nx: 3\n", SW_E_PARSE,
     NAME ":2:1: duplicate key \"x\" (first at line 1)"},
    {"list key", "? [a]\n: b\n", SW_E_PARSE,
     NAME ":1:3: a mapping key must be a scalar, not a list"},
    {"flow list key", "{[a]: b}", SW_E_PARSE,
     NAME ":1:2: a mapping key must be a scalar, not a list"},
    {"mapping key", "? {a: 1}\n: b\n", SW_E_PARSE,
     NAME ":1:3: a mapping key must be a scalar, not a mapping"},
};

static void
test_errors(void **state)
{
    fixture *fx = *state;
    for (size_t i = 0; i < sizeof error_cases / sizeof error_cases[0]; i++) {
        const struct error_case *c = &error_cases[i];
        sw_yaml_doc *untouched = (sw_yaml_doc *)fx;
        sw_yaml_doc *doc = untouched;
        sw_err err = {0};
        sw_status st = sw_yaml_parse(c->text, strlen(c->text), NAME, &doc, &err);
        if (st != c->code || err.code != c->code || strcmp(err.msg, c->msg) != 0)
            fail_msg("%s: got %s \"%s\"\nwant %s \"%s\"", c->what, sw_err_str(st), err.msg,
                     sw_err_str(c->code), c->msg);
        assert_ptr_equal(doc, untouched);
        /* A NULL err still gets the status. */
        assert_int_equal(sw_yaml_parse(c->text, strlen(c->text), NAME, &doc, NULL), c->code);
    }
}

static void
test_long_duplicate_key_is_cut(void **state)
{
    fixture *fx = *state;
    char key[71], text[160], want[128];
    memset(key, 'k', 70);
    key[70] = '\0';
    snprintf(text, sizeof text, "%s: 1\n%s: 2\n", key, key);
    snprintf(want, sizeof want, NAME ":2:1: duplicate key \"%.64s...\" (first at line 1)", key);
    assert_int_equal(sw_yaml_parse(text, strlen(text), NAME, &fx->doc, &fx->err), SW_E_PARSE);
    assert_string_equal(fx->err.msg, want);
}

/* `[` * depth then `]` * depth, or `- ` * depth then `x` for block style. */
static const char *
nested(fixture *fx, size_t depth, bool block)
{
    free(fx->big);
    fx->big = malloc(2 * depth + 2);
    assert_non_null(fx->big);
    for (size_t i = 0; i < depth; i++) {
        fx->big[block ? 2 * i : i] = block ? '-' : '[';
        fx->big[block ? 2 * i + 1 : depth + i] = block ? ' ' : ']';
    }
    strcpy(fx->big + 2 * depth, block ? "x" : "");
    return fx->big;
}

static void
test_depth_cap(void **state)
{
    fixture *fx = *state;
    for (int block = 0; block <= 1; block++) {
        const sw_yaml_node *n = only_root(fx, nested(fx, SW_YAML_MAX_DEPTH, block));
        for (int level = 1; level < SW_YAML_MAX_DEPTH; level++) {
            assert_int_equal(n->kind, SW_YAML_SEQUENCE);
            assert_int_equal(n->n, 1);
            n = n->items[0];
        }
        assert_int_equal(n->kind, SW_YAML_SEQUENCE);
        assert_int_equal(n->n, block ? 1 : 0);

        const char *deep = nested(fx, SW_YAML_MAX_DEPTH + 1, block);
        sw_err err = {0};
        sw_yaml_doc *doc = NULL;
        assert_int_equal(sw_yaml_parse(deep, strlen(deep), NAME, &doc, &err), SW_E_TOOBIG);
        /* The 65th `[` is at column 65; the 65th `- ` at column 129. */
        assert_string_equal(err.msg, block ? NAME ":1:129: nesting deeper than 64 levels"
                                           : NAME ":1:65: nesting deeper than 64 levels");
        assert_null(doc);
    }
}

/* A flow list of `items` zeros: "[0,0,...,0]". */
static const char *
flat_list(fixture *fx, size_t items, size_t *len)
{
    free(fx->big);
    *len = 2 * items + 1;
    fx->big = malloc(*len + 1);
    assert_non_null(fx->big);
    fx->big[0] = '[';
    for (size_t i = 0; i < items; i++) {
        fx->big[1 + 2 * i] = '0';
        fx->big[2 + 2 * i] = i + 1 < items ? ',' : ']';
    }
    fx->big[*len] = '\0';
    return fx->big;
}

static void
test_node_cap(void **state)
{
    fixture *fx = *state;
    size_t len;
    /* The list itself is a node: MAX_NODES - 1 items is exactly at the cap. */
    const char *text = flat_list(fx, SW_YAML_MAX_NODES - 1, &len);
    const sw_yaml_node *root = sw_yaml_doc_root(parse_ok(fx, text, len), 0);
    assert_int_equal(root->n, SW_YAML_MAX_NODES - 1);
    assert_int_equal(root->items[SW_YAML_MAX_NODES - 2]->col, 2 * (SW_YAML_MAX_NODES - 1));

    text = flat_list(fx, SW_YAML_MAX_NODES, &len);
    sw_err err = {0};
    sw_yaml_doc *doc = NULL;
    assert_int_equal(sw_yaml_parse(text, len, NAME, &doc, &err), SW_E_TOOBIG);
    /* Item k sits at column 2 + 2k; the one past the cap is k = MAX_NODES - 1. */
    assert_string_equal(err.msg, NAME ":1:2000000: more than 1000000 nodes");
    assert_null(doc);
}

static void
write_file(fixture *fx, const char *data, size_t len)
{
    strcpy(fx->path, "/tmp/test_yaml.XXXXXX");
    int fd = mkstemp(fx->path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void
test_input_cap(void **state)
{
    fixture *fx = *state;
    /* A comment exactly at the cap is accepted, from memory and from a file. */
    size_t len = SW_YAML_MAX_INPUT;
    fx->big = malloc(len + 1);
    assert_non_null(fx->big);
    memset(fx->big, 'x', len + 1);
    fx->big[0] = '#';
    fx->big[len - 1] = '\n';
    assert_int_equal(sw_yaml_doc_count(parse_ok(fx, fx->big, len)), 0);
    write_file(fx, fx->big, len);
    sw_yaml_free(fx->doc);
    fx->doc = NULL;
    assert_int_equal(sw_yaml_parse_file(fx->path, &fx->doc, &fx->err), SW_OK);
    assert_int_equal(sw_yaml_doc_count(fx->doc), 0);

    sw_yaml_doc *doc = NULL;
    assert_int_equal(sw_yaml_parse(fx->big, len + 1, NAME, &doc, &fx->err), SW_E_TOOBIG);
    assert_string_equal(fx->err.msg, NAME ": input is 16777217 bytes, more than the limit of "
                                          "16777216 bytes");
    assert_null(doc);

    unlink(fx->path);
    write_file(fx, fx->big, len + 1);
    assert_int_equal(sw_yaml_parse_file(fx->path, &doc, &fx->err), SW_E_TOOBIG);
    char want[128];
    snprintf(want, sizeof want, "%s: file is larger than the limit of 16777216 bytes", fx->path);
    assert_string_equal(fx->err.msg, want);
    assert_null(doc);
}

static void
test_parse_file(void **state)
{
    fixture *fx = *state;
    static const char text[] = "a: 1\nb: [x]\n";
    write_file(fx, text, sizeof text - 1);
    assert_int_equal(sw_yaml_parse_file(fx->path, &fx->doc, &fx->err), SW_OK);
    assert_string_equal(sw_yaml_doc_name(fx->doc), fx->path);
    const sw_yaml_node *b = sw_yaml_get(sw_yaml_doc_root(fx->doc, 0), "b");
    assert_non_null(b);
    assert_int_equal(b->line, 2);
    assert_int_equal(b->col, 4);

    sw_yaml_doc *doc = NULL;
    sw_err err = {0};
    assert_int_equal(sw_yaml_parse_file("/nonexistent/x.yaml", &doc, &err), SW_E_IO);
    assert_string_equal(err.msg, "/nonexistent/x.yaml: cannot open: No such file or directory");
    assert_int_equal(sw_yaml_parse_file("/", &doc, &err), SW_E_IO);
    assert_string_equal(err.msg, "/: cannot read: Is a directory");
    /* Syntax errors name the path. */
    unlink(fx->path);
    write_file(fx, "a: *x\n", 6);
    assert_int_equal(sw_yaml_parse_file(fx->path, &doc, &err), SW_E_PARSE);
    char want[128];
    snprintf(want, sizeof want, "%s:1:4: aliases are not supported", fx->path);
    assert_string_equal(err.msg, want);
    assert_null(doc);
}

static void
test_get(void **state)
{
    fixture *fx = *state;
    const sw_yaml_node *root = only_root(fx, "a: 1\nb: [2]\n\"c\\0d\": 3\n");
    assert_string_equal(sw_yaml_get(root, "a")->str, "1");
    assert_int_equal(sw_yaml_get(root, "b")->kind, SW_YAML_SEQUENCE);
    assert_null(sw_yaml_get(root, "z"));
    assert_null(sw_yaml_get(root, ""));
    /* A key with a NUL inside is not found by its prefix. */
    assert_null(sw_yaml_get(root, "c"));
    assert_null(sw_yaml_get(sw_yaml_get(root, "b"), "0"));
    assert_null(sw_yaml_get(sw_yaml_get(root, "a"), "a"));
    assert_null(sw_yaml_get(NULL, "a"));
}

static void
test_kind_name(void **state)
{
    fixture *fx = *state;
    static const struct {
        const char *text;
        const char *name;
    } cases[] = {{"x", "a scalar"}, {"[]", "a list"}, {"- 1", "a list"}, {"{}", "a mapping"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_string_equal(sw_yaml_kind_name(only_root(fx, cases[i].text)), cases[i].name);
}

static void
test_free_null(void **state)
{
    (void)state;
    sw_yaml_free(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_trees, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scalars, setup, teardown),
        cmocka_unit_test_setup_teardown(test_is_null, setup, teardown),
        cmocka_unit_test_setup_teardown(test_documents, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_duplicate_key_is_cut, setup, teardown),
        cmocka_unit_test_setup_teardown(test_depth_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_node_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_input_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kind_name, setup, teardown),
        cmocka_unit_test(test_free_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
