/*
 * The one YAML loader (rules, config, file_sd, OpenSLO): libyaml's events become a read-only
 * tree of scalars, sequences and mappings, each node with its 1-based line and column so every
 * later error can say `path:line:col`. JSON is read by the same loader (JSON is YAML flow style).
 * A document owns all its nodes; nothing points into the input text after parsing.
 * Hostile input is bounded: input size, nesting depth and node count are capped; aliases are
 * refused (no "billion laughs"); duplicate mapping keys are errors.
 */
#ifndef SLAWATCH_YAML_H
#define SLAWATCH_YAML_H

#include <stdbool.h>
#include <stddef.h>

#include "slawatch/err.h"

#define SW_YAML_MAX_INPUT (16u << 20) /* bytes */
#define SW_YAML_MAX_DEPTH 64
#define SW_YAML_MAX_NODES 1000000

typedef enum sw_yaml_kind {
    SW_YAML_SCALAR,
    SW_YAML_SEQUENCE,
    SW_YAML_MAPPING,
} sw_yaml_kind;

typedef struct sw_yaml_node sw_yaml_node;
typedef struct sw_yaml_pair sw_yaml_pair;

struct sw_yaml_node {
    sw_yaml_kind kind;
    unsigned line; /* 1-based */
    unsigned col;  /* 1-based */
    /* SW_YAML_SCALAR: the value, NUL-terminated (len excludes the NUL). */
    const char *str;
    size_t len;
    bool plain; /* unquoted: `null`, `true`, `5m` as opposed to "5m" */
    /* SW_YAML_SEQUENCE: items[0..n); SW_YAML_MAPPING: pairs[0..n) in document order. */
    size_t n;
    sw_yaml_node **items;
    sw_yaml_pair *pairs;
};

struct sw_yaml_pair {
    sw_yaml_node *key; /* always a scalar */
    sw_yaml_node *value;
};

typedef struct sw_yaml_doc sw_yaml_doc;

/*
 * Parse every document of text (`---` separates documents; an empty input has none). name is
 * used in messages only. Errors are SW_E_PARSE ("name:line:col: message", 1-based) or
 * SW_E_TOOBIG; on error *ret_doc is untouched.
 */
sw_status sw_yaml_parse(const char *text, size_t len, const char *name, sw_yaml_doc **ret_doc,
                        sw_err *err);

/* Read a whole file (at most SW_YAML_MAX_INPUT bytes) and parse it; name is the path. */
sw_status sw_yaml_parse_file(const char *path, sw_yaml_doc **ret_doc, sw_err *err);

/* sw_yaml_free(NULL) does nothing. */
void sw_yaml_free(sw_yaml_doc *doc);

/* Number of documents, and the root node of document i (i < count). */
size_t sw_yaml_doc_count(const sw_yaml_doc *doc);
const sw_yaml_node *sw_yaml_doc_root(const sw_yaml_doc *doc, size_t i);

/* The name given to sw_yaml_parse (for messages). */
const char *sw_yaml_doc_name(const sw_yaml_doc *doc);

/* Value of key in a mapping, or NULL (also when node is not a mapping). */
const sw_yaml_node *sw_yaml_get(const sw_yaml_node *map, const char *key);

/* True when node is a plain scalar spelling YAML's null (`null`, `~`, or empty). */
bool sw_yaml_is_null(const sw_yaml_node *node);

/* Human name of a node's kind for messages: "a scalar", "a list", "a mapping". */
const char *sw_yaml_kind_name(const sw_yaml_node *node);

#endif
