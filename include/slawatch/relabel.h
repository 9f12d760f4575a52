/*
 * Target label sets and the relabelling rules applied to them before a scrape, a documented
 * subset of Prometheus' relabel_config: actions replace, keep, drop, labeldrop and labelkeep,
 * with POSIX extended regexes anchored at both ends as Prometheus anchors its RE2 ones. A label
 * set owns its strings and stays sorted by name; compiled rules are immutable, so any thread
 * may apply them.
 */
#ifndef SLAWATCH_RELABEL_H
#define SLAWATCH_RELABEL_H

#include <stdbool.h>
#include <stddef.h>

#include "slawatch/err.h"

typedef struct sw_relabel_label {
    char *name, *value;
} sw_relabel_label;

/* Sorted by name, names unique; zero-initialised is empty. */
typedef struct sw_labelset {
    sw_relabel_label *l;
    size_t n, cap;
} sw_labelset;

/* Set name to value (both copied), replacing an existing value. SW_E_NOMEM. */
sw_status sw_relabel_set(sw_labelset *ls, const char *name, const char *value, sw_err *err);

/* The value of name, or NULL. */
const char *sw_relabel_get(const sw_labelset *ls, const char *name);

/* Remove name if present. */
void sw_relabel_del(sw_labelset *ls, const char *name);

/* A deep copy into dst (emptied first). SW_E_NOMEM. */
sw_status sw_relabel_copy(sw_labelset *dst, const sw_labelset *src, sw_err *err);

/* Free the strings; the set is empty afterwards and may be reused. */
void sw_relabel_clear(sw_labelset *ls);

typedef enum sw_relabel_action {
    SW_RELABEL_REPLACE,
    SW_RELABEL_KEEP,
    SW_RELABEL_DROP,
    SW_RELABEL_LABELDROP,
    SW_RELABEL_LABELKEEP,
} sw_relabel_action;

/* One rule as configured; strings are borrowed until sw_relabel_new returns. */
typedef struct sw_relabel_rule {
    sw_relabel_action action;
    const char *const *source_labels; /* replace, keep, drop: values joined with separator */
    size_t n_source_labels;
    const char *separator;    /* NULL: ";" */
    const char *regex;        /* NULL: "(.*)"; anchored: it must match the whole value */
    const char *target_label; /* replace only; $N expands as in replacement */
    const char *replacement;  /* NULL: "$1"; $N, ${N} and $$ as in Go's Regexp.Expand */
} sw_relabel_rule;

typedef struct sw_relabel sw_relabel;

/*
 * Compile n rules (copied). SW_E_PARSE names the rule index and the regex that POSIX regcomp
 * refused; SW_E_INVAL for a replace without target_label; SW_E_NOMEM.
 */
sw_status sw_relabel_new(const sw_relabel_rule *rules, size_t n, sw_relabel **ret, sw_err *err);

/* sw_relabel_free(NULL) does nothing. */
void sw_relabel_free(sw_relabel *r);

/*
 * Apply every rule in order to ls. *ret_keep is false when a keep or drop rule dropped the
 * target (ls is then left as it was at that rule). SW_E_NOMEM only.
 */
sw_status sw_relabel_apply(const sw_relabel *r, sw_labelset *ls, bool *ret_keep, sw_err *err);

#endif
