/*
 * Shared by rules*.c (the slawatch rules format) and rules_openslo.c (OpenSLO v1 mapped onto
 * it): the arena the rule set is built in and the checks both front ends use so they report
 * errors alike (the schema walker itself is slawatch/rules_schema.h). One load runs on one
 * thread.
 */
#ifndef SLAWATCH_RULES_INT_H
#define SLAWATCH_RULES_INT_H

#include "slawatch/arena.h"
#include "slawatch/buf.h"
#include "slawatch/rules.h"
#include "slawatch/rules_schema.h"
#include "slawatch/yaml.h"

#define SW_RULES_MAX_LIST 1000 /* items in any list (services, alerts, checks ...) */
#define SW_RULES_MAX_NAME 256  /* bytes in a name */

/* The rule set first, so the sw_rules * handed out converts back; the arena holds the rest. */
typedef struct sw_rules_box {
    sw_rules rules;
    sw_arena arena;
} sw_rules_box;

/* A rule set's defaults (base interval, min_requests, the gate), before a file is compiled. */
void sw_rules_set_defaults(sw_rules *r);

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

/* One parsed file of an OpenSLO set: its own loader (name and text for positions; every
 * loader of a set shares one arena) and its documents. */
typedef struct sw_rules_openslo_file {
    sw_rules_loader *ld;
    const sw_yaml_doc *doc;
} sw_rules_openslo_file;

/* The n files as one set into r (defaults already set): what sw_rules_openslo_load_mem does
 * after parsing, for a caller that parses several files itself. Each file's problems are
 * reported through its own loader. */
void sw_rules_openslo_compile_files(const sw_rules_openslo_file *files, size_t n, sw_rules *r);

#endif
