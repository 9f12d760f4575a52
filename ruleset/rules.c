/*
 * The rules loader: the YAML/JSON tree from core/yaml is walked against the format of
 * rules/README.md (or handed to rules_openslo.c) and compiled into one sw_rules whose arrays
 * and strings live in its arena; sw_rules_free releases it, and the tree is freed before
 * a load returns. Every problem is reported, and any problem means no rule set. A load runs on
 * one thread; a loaded rule set is immutable and may be shared.
 *
 * This file holds the whole document (settings, defaults, the entry points), conditions and
 * the SLI table, and the small public helpers; services and sources, objectives, alerts and
 * triggers, and the gate are in rules_services.c, rules_objectives.c, rules_alerts.c and
 * rules_gate.c; the schema walker they share with the daemon's configuration in
 * rules_schema.c.
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

/* Defaults, as rules/README.md gives them. */
#define DEFAULT_BASE_MS 10000
#define DEFAULT_MIN_REQUESTS 100
#define DEFAULT_SLICE_MS 60000
#define DEFAULT_SLICE_TARGET 0.99
#define DEFAULT_GATE_WINDOW_MS 600000
#define DEFAULT_GATE_CONFIDENCE 0.99
#define MAX_COUNT 1e15 /* counts in conditions: exact in a double */

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

static const char *const top_keys[] = {
    "version", "base_interval",     "min_requests", "services", "objectives",
    "alerts",  "rollback_triggers", "gate",         "profiles", NULL};

static const char *const config_keys[] = {"listen", "data_dir", "rules_files", "alertmanager",
                                          NULL};

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

/* ---- conditions --------------------------------------------------------------------------- */

static const struct sli_entry *
sli_entry(sw_sli sli)
{
    for (size_t i = 0; i < N_SLIS; i++)
        if (sli_table[i].sli == sli)
            return &sli_table[i];
    return NULL;
}

unit_kind
sw_rules_unit_of(sw_sli sli)
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
        if (sw_rules_text_is(s, len, sli_table[i].name)) {
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
        sw_rules_error_in(ld, n, start,
                          "expected a condition '<sli> <op> <value>' (e.g. "
                          "error_rate > 1%%), found %s",
                          sw_rules_found(n).s);
        return false;
    }
    if (!lookup_sli(n->str + start, end - start, c)) {
        sw_rules_error_in(ld, n, start,
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
        sw_rules_error_in(ld, n, at, "expected an operator (<, <=, >, >=) after '%s', found %s",
                          sli, token_at(n->str, n->len, at).s);
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
    unit_kind unit = sw_rules_unit_of(c->sli);
    if (rest < n->len) {
        sw_rules_error_in(ld, n, rest,
                          "expected the end of the condition after the value, "
                          "found %s",
                          token_at(s, n->len, rest).s);
        return false;
    }
    if (at == end || !parse_quantity(s + at, end - at, unit, &c->value)) {
        sw_rules_error_in(ld, n, at, "expected %s for %s, found %s", unit_example(unit), sli,
                          token_at(s, n->len, at).s);
        return false;
    }
    if (unit == UNIT_RATIO && (c->value < 0 || c->value > 1)) {
        sw_rules_error_in(ld, n, at, "expected a ratio between 0%% and 100%% for %s, found %s", sli,
                          token_at(s, n->len, at).s);
        return false;
    }
    *i = at;
    return true;
}

bool
sw_rules_parse_condition(sw_rules_loader *ld, const sw_yaml_node *node, sw_condition *ret,
                         cond_at *at)
{
    if (!sw_rules_is_text(node)) {
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

/* ---- the whole file ----------------------------------------------------------------------- */

void
sw_rules_set_defaults(sw_rules *r)
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
void
sw_rules_compile_settings(sw_rules_loader *ld, const sw_yaml_node *root, sw_rules *r)
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
        sw_rules_get_int(ld, v, "a positive whole number for min_requests", 1, INT64_MAX,
                         &r->min_requests);
    r->gate.min_requests = r->min_requests;
}

void
sw_rules_compile_file(sw_rules_loader *ld, const sw_yaml_node *root, sw_rules *r,
                      sw_rules_profiles *profiles)
{
    const sw_yaml_node *v;
    if (!sw_rules_check_map(ld, root, "the rules file", top_keys))
        return;
    sw_rules_compile_settings(ld, root, r);
    if ((v = sw_yaml_get(root, "profiles")) != NULL)
        sw_rules_compile_profiles(ld, v, r, profiles);
    /* A file of profiles only, shared by teams' files, has no services of its own. */
    bool profiles_only = sw_yaml_get(root, "profiles") != NULL && !sw_yaml_get(root, "services");
    if (!profiles_only && (v = sw_rules_require(ld, root, "services", "the rules file")) != NULL)
        sw_rules_compile_services(ld, v, r);
    if ((v = sw_yaml_get(root, "objectives")) != NULL)
        sw_rules_compile_objectives(ld, v, r);
    if ((v = sw_yaml_get(root, "alerts")) != NULL)
        sw_rules_compile_alerts(ld, v, r, false);
    if ((v = sw_yaml_get(root, "rollback_triggers")) != NULL)
        sw_rules_compile_alerts(ld, v, r, true);
    sw_rules_compile_gate(ld, sw_yaml_get(root, "gate"), root, r);
    if (!profiles_only)
        sw_rules_bind_budget(ld, r); /* for the services that say nothing for themselves */
    sw_rules_check_latency_order(ld, r);
    sw_rules_check_slow_thresholds(ld, r, "the top level");
}

static bool
has_any_key(const sw_yaml_node *map, const char *const *keys)
{
    for (size_t i = 0; i < map->n; i++)
        if (sw_rules_key_known(map->pairs[i].key, keys))
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

/* The services of one file given their resolved sets, once the file compiled cleanly. */
static void
resolve_one_file(sw_rules_loader *ld, sw_rules *r, const sw_rules_profiles *profiles)
{
    if (ld->n_errors > 0 || ld->nomem)
        return;
    if (r->n_services == 0) {
        sw_rules_error_pos(ld, (sw_rules_pos){ld->name, 1, 1},
                           "expected at least one service (a file of profiles only is loaded "
                           "with the files that use them)");
        return;
    }
    sw_rules_check_profiles(ld, profiles);
    size_t *file_of = sw_rules_alloc(ld, r->n_services, sizeof *file_of);
    const sw_rules *tops[1] = {r};
    if (file_of != NULL && ld->n_errors == 0)
        sw_rules_resolve(ld, (sw_service *)(void *)r->services, r->n_services, tops, file_of,
                         profiles);
}

static void
compile_doc(sw_rules_loader *ld, const sw_yaml_doc *doc, sw_rules *r)
{
    size_t n = sw_yaml_doc_count(doc);
    sw_rules_profiles profiles = {0};
    sw_rules_set_defaults(r);
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
        resolve_one_file(ld, r, &profiles);
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
    sw_rules_compile_file(ld, root, r, &profiles);
    resolve_one_file(ld, r, &profiles);
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
    if (sw_rules_is_bundle(text, len))
        return sw_rules_load_bundle(text, len, name, ret_rules, diag, err);
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
    return sw_rules_find_name(rules->objectives, rules->n_objectives, sizeof *rules->objectives,
                              name);
}

static int64_t
timers_reach_of_set(const sw_rules *r)
{
    int64_t reach = INT64_C(3600000);
    for (size_t i = 0; i < r->n_alerts; i++)
        if (r->alerts[i].for_ms + r->alerts[i].over_ms > reach)
            reach = r->alerts[i].for_ms + r->alerts[i].over_ms;
    for (size_t i = 0; i < r->n_triggers; i++)
        if (r->triggers[i].for_ms + r->triggers[i].over_ms > reach)
            reach = r->triggers[i].for_ms + r->triggers[i].over_ms;
    return reach;
}

int64_t
sw_rules_timers_reach_ms(const sw_rules *rules)
{
    int64_t reach = timers_reach_of_set(rules);
    for (size_t i = 0; i < rules->n_services; i++)
        if (timers_reach_of_set(sw_rules_of_service(rules, i)) > reach)
            reach = timers_reach_of_set(sw_rules_of_service(rules, i));
    return reach;
}

const sw_rules *
sw_rules_of_service(const sw_rules *rules, size_t i)
{
    SW_REQUIRE(i < rules->n_services && rules->services[i].rules != NULL);
    return rules->services[i].rules;
}

ptrdiff_t
sw_rules_service_index(const sw_rules *rules, const char *name)
{
    return sw_rules_find_name(rules->services, rules->n_services, sizeof *rules->services, name);
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
    case SW_SLI_HEALTH_SUCCESS:
        snprintf(out, cap, "%.4g%%", v * 100.0);
        break;
    case SW_SLI_LATENCY:
        if (v >= 1e6)
            snprintf(out, cap, "%.4gs", v / 1e6);
        else if (v >= 1e3)
            snprintf(out, cap, "%.4gms", v / 1e3);
        else
            snprintf(out, cap, "%.4gus", v);
        break;
    case SW_SLI_THROUGHPUT:
        snprintf(out, cap, "%.4g/s", v);
        break;
    default:
        snprintf(out, cap, "%.0f", v);
        break;
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

double
sw_rules_budget_fraction(const sw_objective *o)
{
    const sw_condition *c = &o->objective;
    switch (c->sli) {
    case SW_SLI_AVAILABILITY:
    case SW_SLI_HEALTH_SUCCESS:
        return 1.0 - c->value;
    case SW_SLI_ERROR_RATE:
        return c->value;
    case SW_SLI_LATENCY:
        return c->op == SW_OP_LE || c->op == SW_OP_LT ? 1.0 - c->percentile / 100.0 : NAN;
    case SW_SLI_THROUGHPUT:
        return 1.0 - o->slice_target;
    default:
        return NAN;
    }
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
