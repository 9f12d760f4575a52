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

/* Report the latency objective of r that brings more than SW_RULES_MAX_SLOW_THRESHOLDS
 * distinct thresholds (whose: "service 'NAME'" or "the top level", for the message). */
void sw_rules_check_slow_thresholds(sw_rules_loader *ld, const sw_rules *r, const char *whose);

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

/* A service's `by`, `by_limit` and `by_idle` keys (rules_by.c), after its sli; and, once its
 * set is resolved, the checks that need its objectives (by_idle's default and floor). */
void sw_rules_compile_by(sw_rules_loader *ld, const sw_yaml_node *node, sw_service *s);
void sw_rules_check_by(sw_rules_loader *ld, sw_service *s);

/* A burn-rate alert's factor that its objective's budget can never reach: true, with the
 * message in why. */
bool sw_rules_burn_unreachable(const sw_objective *o, const sw_alert *a, char *why, size_t cap);

/* ---- per-service commitments and profiles (rules_sections.c, rules_resolve.c) ------------- */

/* Names written in a list (`drop`, `profile`, `extends`) and where each was written. */
typedef struct sw_rules_names {
    const char **names;
    sw_rules_pos *pos;
    size_t n;
} sw_rules_names;

/* What one place says: a profile, or a service's own entries. */
typedef struct sw_rules_section {
    sw_rules r; /* first, so a service's rules pointer converts back before resolution */
    bool has_gate;
    sw_rules_pos gate_pos;
    sw_rules_names drop; /* inherited entries removed, before this section's own are added */
    sw_rules_names uses; /* a service's profiles, a profile's extends; applied in order */
    const char *name;    /* a profile's name */
    sw_rules_pos pos;
} sw_rules_section;

/* The profiles of every file of a load. */
typedef struct sw_rules_profiles {
    sw_rules_section *items;
    size_t n, cap;
} sw_rules_profiles;

/* The service's own section, NULL when it has none (before resolution only). */
sw_rules_section *sw_rules_own(const sw_service *s);

/*
 * Give service s an objective of its own (before resolution: while compiling its file). It
 * replaces an inherited objective of the same name; two of its own with one name are an error
 * at the second. False when out of memory. OpenSLO attaches an SLO's objectives this way.
 */
bool sw_rules_service_add_objective(sw_rules_loader *ld, sw_service *s, const sw_objective *o);

/* A service's `profile`, `objectives`, `alerts`, `rollback_triggers`, `gate`, `drop` keys. */
void sw_rules_compile_own(sw_rules_loader *ld, const sw_yaml_node *node, const sw_rules *top,
                          sw_service *s);

/* The top-level `profiles` mapping of a file, added to profiles (a name defined twice, in this
 * file or another one, is an error naming both places). */
void sw_rules_compile_profiles(sw_rules_loader *ld, const sw_yaml_node *node, const sw_rules *top,
                               sw_rules_profiles *profiles);

/* Profiles extending unknown profiles or one another in a cycle: reported once each. */
void sw_rules_check_profiles(sw_rules_loader *ld, const sw_rules_profiles *profiles);

/* Replace each service's own section with its resolved set (sw_service.rules): file_top of
 * service i is the top level of the file that defined it (tops[file_of[i]]). */
void sw_rules_resolve(sw_rules_loader *ld, sw_service *services, size_t n_services,
                      const sw_rules *const *tops, const size_t *file_of,
                      const sw_rules_profiles *profiles);

/* One file of the rules format: settings, services, top-level sections, its profiles. */
void sw_rules_compile_file(sw_rules_loader *ld, const sw_yaml_node *root, sw_rules *r,
                           sw_rules_profiles *profiles);

/* version, base_interval and min_requests of a file's root into r (unset ones kept). */
void sw_rules_compile_settings(sw_rules_loader *ld, const sw_yaml_node *root, sw_rules *r);

/* The defaults of a rule set's settings and gate. */
void sw_rules_set_defaults(sw_rules *r);

/* Is text a bundle of several files (sw_rules_bundle_files), and load one. */
bool sw_rules_is_bundle(const char *text, size_t len);
sw_status sw_rules_load_bundle(const char *text, size_t len, const char *name, sw_rules **ret_rules,
                               sw_rules_diag *diag, sw_err *err);

/* Loader pieces for loads of several files (rules_files.c). */
void sw_rules_yaml_error(sw_rules_loader *ld, const char *msg);
sw_status sw_rules_summarise(const sw_rules_loader *ld, sw_status yaml_st, sw_err *err);
void sw_rules_diag_sort_from(sw_rules_diag *d, size_t from);

/* OpenSLO (rules_openslo.c): is this document root an OpenSLO object, and compile them all. */
bool sw_rules_is_openslo(const sw_yaml_node *root);
void sw_rules_openslo_compile(sw_rules_loader *ld, const sw_yaml_doc *doc, sw_rules *r);

/* Bind r's gate's error-budget policy to r's objectives (their indices), refusing a name r does
 * not hold or an objective without a budget: after r's objectives are final. */
void sw_rules_bind_budget(sw_rules_loader *ld, sw_rules *r);

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

/* Load n pieces (each a file's name and text) as one rule set into a new box: what several
 * rules files and a bundle are (rules_files.c). */
sw_status sw_rules_load_pieces(const char *const *names, const char *const *texts,
                               const size_t *lens, size_t n, sw_rules **ret_rules,
                               sw_rules_diag *diag, sw_err *err);

#endif
