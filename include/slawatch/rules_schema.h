/*
 * The schema walker of the rules loader (ruleset/rules_schema.c), shared with the daemon's
 * configuration loader so both report errors alike: the state of one load (sw_rules_loader),
 * every problem recorded as `FILE:LINE:COL: error: MESSAGE` in file order, mapping and list
 * checks, and scalar readers that say what they expected and what they found. One load runs
 * on one thread.
 */
#ifndef SLAWATCH_RULES_SCHEMA_H
#define SLAWATCH_RULES_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slawatch/arena.h"
#include "slawatch/buf.h"
#include "slawatch/err.h"
#include "slawatch/rules.h"
#include "slawatch/yaml.h"

typedef struct sw_rules_loader {
    const char *name; /* in messages and positions: the arena's copy */
    const char *text; /* the source, to place columns inside plain scalars */
    size_t len;
    unsigned cur_line; /* a line start found before, so lookups go forward */
    size_t cur_off;
    sw_arena *arena;     /* where the result is built */
    sw_rules_diag *diag; /* may be NULL */
    size_t n_errors;
    char first[SW_ERR_MSG_MAX]; /* the first error in file order, for the summary in sw_err */
    unsigned first_line, first_col;
    bool nomem;
    bool late_refs; /* a burn-rate alert's objective is looked up at resolution, not here */
} sw_rules_loader;

/* Build target from a parsed document, reporting problems through ld. */
typedef void (*sw_rules_compile_fn)(sw_rules_loader *ld, const sw_yaml_doc *doc, void *target);

/*
 * One load: parse text as YAML (name in messages), hand the document to compile, and sum up:
 * SW_OK, or SW_E_PARSE / SW_E_TOOBIG / SW_E_NOMEM with every problem in diag (may be NULL) and
 * the first in err. The daemon's configuration is loaded the same way, so its errors read alike.
 */
sw_status sw_rules_loader_run(const char *text, size_t len, const char *name, sw_arena *arena,
                              sw_rules_diag *diag, sw_rules_compile_fn compile, void *target,
                              sw_err *err);

/*
 * The parse half of sw_rules_loader_run, for a load that holds several files' documents at once
 * (an OpenSLO set): ld (arena and diag set, the rest zero) takes text and name; a YAML error is
 * recorded through ld. *ret_doc is the tree on SW_OK (the caller frees it), else NULL.
 */
sw_status sw_rules_loader_parse(sw_rules_loader *ld, const char *text, size_t len, const char *name,
                                sw_yaml_doc **ret_doc);

/* Append src's lines to dst, leaving src empty; false when memory ran out (lines lost). */
bool sw_rules_diag_move(sw_rules_diag *dst, sw_rules_diag *src);

/* Read a whole file of at most SW_YAML_MAX_INPUT bytes into b (replacing nothing: appends). */
sw_status sw_rules_read_file(const char *path, sw_buf *b, sw_err *err);

/* User text made safe for a one-line message: control bytes escaped, long text cut. */
typedef struct sw_rules_shown {
    char s[80];
} sw_rules_shown;

sw_rules_shown sw_rules_show(const char *s, size_t len);

/* Zeroed arena memory for n items of size bytes; NULL when n is 0 or memory ran out. */
void *sw_rules_alloc(sw_rules_loader *ld, size_t n, size_t size);
const char *sw_rules_strdup(sw_rules_loader *ld, const char *s, size_t len);
sw_rules_pos sw_rules_pos_of(const sw_rules_loader *ld, const sw_yaml_node *node);

/* Record `FILE:LINE:COL: error: MESSAGE` at node's position. */
void sw_rules_error(sw_rules_loader *ld, const sw_yaml_node *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The same at a recorded position. */
void sw_rules_error_pos(sw_rules_loader *ld, sw_rules_pos pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "a list", "a mapping", "nothing" (null) or the scalar's text, for "found ..." */
sw_rules_shown sw_rules_found(const sw_yaml_node *node);

/* A mapping whose keys are all in keys (NULL-terminated); what names it in messages. False
 * (after an error) when node is not a mapping; unknown keys are reported and skipped. */
bool sw_rules_check_map(sw_rules_loader *ld, const sw_yaml_node *node, const char *what,
                        const char *const *keys);

/* The value of a required key, or NULL after "missing key" at the mapping. */
const sw_yaml_node *sw_rules_require(sw_rules_loader *ld, const sw_yaml_node *map, const char *key,
                                     const char *what);

/* A list of at most SW_RULES_MAX_LIST items (null counts as empty); what is plural. */
bool sw_rules_check_list(sw_rules_loader *ld, const sw_yaml_node *node, const char *what);

/* Scalar readers: each reports "expected ..., found ..." at node and returns false. */
bool sw_rules_get_name(sw_rules_loader *ld, const sw_yaml_node *node, const char *what,
                       const char **ret);
bool sw_rules_get_number(sw_rules_loader *ld, const sw_yaml_node *node, const char *what,
                         double *ret);
bool sw_rules_get_bool(sw_rules_loader *ld, const sw_yaml_node *node, bool *ret);
/* A string without NUL bytes, copied into the arena. */
bool sw_rules_get_text(sw_rules_loader *ld, const sw_yaml_node *node, const char *what,
                       const char **ret);
/* A whole number of at most 15 digits in [min, max]. */
bool sw_rules_get_int(sw_rules_loader *ld, const sw_yaml_node *node, const char *what, int64_t min,
                      int64_t max, int64_t *ret);
/* A Prometheus duration (`5m`, `1h30m`) for key; `0s` only when zero_ok. */
bool sw_rules_get_duration(sw_rules_loader *ld, const sw_yaml_node *node, const char *key,
                           bool zero_ok, int64_t *ret_ms);

/* Does the scalar's text equal s? */
bool sw_rules_is(const sw_yaml_node *node, const char *s);

#endif
