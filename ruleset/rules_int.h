/*
 * Shared by rules.c (the slawatch rules format) and rules_openslo.c (OpenSLO v1 mapped onto
 * it): the state of one sw_rules_load_* call, the arena the rule set is built in, and the
 * checks both front ends use so they report errors alike. One load runs on one thread.
 */
#ifndef SLAWATCH_RULES_INT_H
#define SLAWATCH_RULES_INT_H

#include "slawatch/arena.h"
#include "slawatch/buf.h"
#include "slawatch/rules.h"
#include "slawatch/yaml.h"

#define SW_RULES_MAX_LIST 1000 /* items in any list (services, alerts, checks ...) */
#define SW_RULES_MAX_NAME 256  /* bytes in a name */

/* The rule set first, so the sw_rules * handed out converts back; the arena holds the rest. */
typedef struct sw_rules_box {
    sw_rules rules;
    sw_arena arena;
} sw_rules_box;

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

/* An objective's defaults (month, events, 1m slices, 99%, the default bad_when). */
void sw_rules_objective_defaults(sw_rules_loader *ld, sw_objective *o);

/* Report latency objectives in the same window whose higher percentile has the lower bound. */
void sw_rules_check_latency_order(sw_rules_loader *ld, const sw_rules *r);

/* Shared among the files of the slawatch rules format (rules.c and rules_*.c). */
#define MS_PER_DAY INT64_C(86400000)

typedef enum unit_kind { UNIT_COUNT, UNIT_RATIO, UNIT_LATENCY, UNIT_RATE } unit_kind;

/* Where each token of a condition starts, as byte offsets in its scalar. */
typedef struct cond_at {
    size_t sli, op, value;
} cond_at;

unit_kind sw_rules_unit_of(sw_sli sli);
bool sw_rules_parse_condition(sw_rules_loader *ld, const sw_yaml_node *node, sw_condition *ret,
                              cond_at *at);
void sw_rules_error_in(sw_rules_loader *ld, const sw_yaml_node *node, size_t offset,
                       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
bool sw_rules_text_is(const char *s, size_t len, const char *want);
bool sw_rules_is_text(const sw_yaml_node *node);
bool sw_rules_key_known(const sw_yaml_node *key, const char *const *keys);
const sw_yaml_node *sw_rules_key_of(const sw_yaml_node *map, const char *key);
size_t sw_rules_list_len(const sw_yaml_node *node);
void sw_rules_check_step(sw_rules_loader *ld, const sw_rules *r, const sw_yaml_node *node,
                         const char *key, int64_t ms);
void sw_rules_check_default_step(sw_rules_loader *ld, const sw_rules *r, const sw_yaml_node *map,
                                 const char *key, int64_t ms);
bool sw_rules_get_step(sw_rules_loader *ld, const sw_rules *r, const sw_yaml_node *node,
                       const char *key, bool zero_ok, int64_t *ret_ms);
bool sw_rules_get_ratio(sw_rules_loader *ld, const sw_yaml_node *node, const char *what,
                        double *ret);
bool sw_rules_get_time(sw_rules_loader *ld, const sw_yaml_node *node, const char *key,
                       int64_t *ret_ms);
ptrdiff_t sw_rules_find_name(const void *items, size_t n, size_t stride, const char *name);
void sw_rules_check_duplicate(sw_rules_loader *ld, const sw_yaml_node *item, const void *items,
                              size_t i, size_t stride, size_t pos_off, const char *what);
void sw_rules_compile_services(sw_rules_loader *ld, const sw_yaml_node *node, sw_rules *r);
int64_t sw_rules_window_ms(const sw_window_spec *w);
void sw_rules_compile_objectives(sw_rules_loader *ld, const sw_yaml_node *node, sw_rules *r);
void sw_rules_latency_pair(sw_rules_loader *ld, const sw_condition *earlier,
                           const sw_condition *later, const char *earlier_desc);
void sw_rules_compile_alerts(sw_rules_loader *ld, const sw_yaml_node *node, sw_rules *r,
                             bool trigger);
void sw_rules_compile_gate(sw_rules_loader *ld, const sw_yaml_node *node, const sw_yaml_node *root,
                           sw_rules *r);

/* OpenSLO (rules_openslo.c): is this document root an OpenSLO object, and compile them all. */
bool sw_rules_is_openslo(const sw_yaml_node *root);
void sw_rules_openslo_compile(sw_rules_loader *ld, const sw_yaml_doc *doc, sw_rules *r);

#endif
