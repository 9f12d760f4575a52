/*
 * One SLO per label value (rules/README.md, "One SLO per label value"): a service's `by`,
 * `by_limit` and `by_idle` keys, and the checks that the label can reach slawatch at all. What
 * is checked: every SLI source of the service is a Prometheus selector (CloudWatch, probes and
 * pushed batches carry no labels), no selector requires the label to be absent (`route=""`),
 * and the label is neither a structural Prometheus label nor one slawatch's own outputs use.
 */
#include "rules_int.h"

#include "slawatch/selector.h"
#include "slawatch/units.h"

#include <string.h>

#define MAX_BY_LIMIT 10000
#define DEFAULT_BY_LIMIT 100
#define LONGEST_MONTH_MS (31 * MS_PER_DAY)

/* Labels a value of `by` may not be: Prometheus' own (`le`, `quantile`, `__*`), the
 * environment's, and the labels slawatch's outputs already give their own meaning. */
static const char *const reserved[] = {"env",      "le",      "quantile", "service", "objective",
                                       "alert",    "trigger", "verdict",  "window",  "alertname",
                                       "severity", "kind",    NULL};

static bool
label_name_ok(const char *s)
{
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
        return false;
    for (s++; *s != '\0'; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return false;
    return true;
}

static bool
is_reserved(const char *name)
{
    if (strncmp(name, "__", 2) == 0)
        return true;
    for (size_t i = 0; reserved[i] != NULL; i++)
        if (strcmp(reserved[i], name) == 0)
            return true;
    return false;
}

static void
compile_label(sw_rules_loader *ld, const sw_yaml_node *node, sw_service *s)
{
    if (node->kind != SW_YAML_SEQUENCE) {
        sw_rules_error(ld, node, "expected a list of one label name for by, found %s",
                       sw_rules_found(node).s);
        return;
    }
    if (node->n != 1) {
        sw_rules_error(ld, node,
                       "expected exactly one label in by (one SLO per value of one label; "
                       "several labels are not supported), found %zu",
                       node->n);
        return;
    }
    const sw_yaml_node *item = node->items[0];
    const char *name = NULL;
    if (!sw_rules_get_text(ld, item, "a label name", &name))
        return;
    if (!label_name_ok(name))
        sw_rules_error(ld, item,
                       "expected a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*), found %s",
                       sw_rules_found(item).s);
    else if (is_reserved(name))
        sw_rules_error(ld, item,
                       "expected a label of the service's own series in by, found '%s', which "
                       "slawatch reserves (env, le, quantile, __*, and its outputs' labels)",
                       name);
    else {
        s->by = name;
        s->by_pos = sw_rules_pos_of(ld, item);
    }
}

/* The sources that cannot carry the label, each named at its own place. */
static void
check_sources(sw_rules_loader *ld, const sw_service *s)
{
    static const char *const sli[] = {"requests", "errors", "latency", "health"};
    static const char *const kind[] = {"", "prometheus", "cloudwatch", "probe", "push"};
    const sw_source *src[] = {&s->requests, &s->errors, &s->latency, &s->health};
    for (size_t i = 0; i < sizeof src / sizeof src[0]; i++) {
        if (src[i]->kind == SW_SOURCE_NONE || src[i]->kind == SW_SOURCE_PROMETHEUS)
            continue;
        sw_rules_error_pos(ld, src[i]->pos,
                           "expected a prometheus source for sli %s of a service with by: [%s], "
                           "found %s, which carries no labels",
                           sli[i], s->by, kind[src[i]->kind]);
    }
}

/* A selector matching only series without the label (`route=""`) can never carry it. */
static void
check_selector(sw_rules_loader *ld, const sw_service *s, const sw_source *src, const char *sli)
{
    sw_selector *sel = NULL;
    sw_err err = {0};
    sw_status st = sw_selector_compile(src->selector, strlen(src->selector), &sel, &err);
    if (st == SW_E_NOMEM)
        ld->nomem = true;
    if (st != SW_OK)
        return; /* reported where the selector was compiled */
    for (size_t i = 0; i < sel->n_matchers; i++) {
        const sw_matcher *m = &sel->matchers[i];
        if (strcmp(m->label, s->by) == 0 && !m->regex && !m->negate && m->value_len == 0)
            sw_rules_error_pos(ld, src->pos,
                               "expected a selector for sli %s that series with the label "
                               "'%s' of by can match, found %s=\"\", which only series "
                               "without it match",
                               sli, s->by, s->by);
    }
    sw_selector_free(sel);
}

static void
check_selectors(sw_rules_loader *ld, const sw_service *s)
{
    static const char *const sli[] = {"requests", "errors", "latency", "health"};
    const sw_source *src[] = {&s->requests, &s->errors, &s->latency, &s->health};
    for (size_t i = 0; i < sizeof src / sizeof src[0]; i++)
        if (src[i]->kind == SW_SOURCE_PROMETHEUS && src[i]->selector != NULL)
            check_selector(ld, s, src[i], sli[i]);
}

void
sw_rules_compile_by(sw_rules_loader *ld, const sw_yaml_node *node, sw_service *s)
{
    const sw_yaml_node *by = sw_yaml_get(node, "by"), *v;
    int64_t limit = DEFAULT_BY_LIMIT;
    if ((v = sw_yaml_get(node, "by_limit")) != NULL) {
        if (by == NULL)
            sw_rules_error(ld, sw_rules_key_of(node, "by_limit"), "expected by_limit only with by");
        else
            sw_rules_get_int(ld, v, "a number of label values of at least 1 for by_limit", 1,
                             MAX_BY_LIMIT, &limit);
    }
    if ((v = sw_yaml_get(node, "by_idle")) != NULL) {
        if (by == NULL)
            sw_rules_error(ld, sw_rules_key_of(node, "by_idle"), "expected by_idle only with by");
        else if (sw_rules_get_duration(ld, v, "by_idle", false, &s->by_idle_ms))
            s->by_idle_pos = sw_rules_pos_of(ld, v);
    }
    if (by == NULL)
        return;
    compile_label(ld, by, s);
    s->by_limit = (size_t)limit;
    if (s->by == NULL)
        return;
    check_sources(ld, s);
    check_selectors(ld, s);
}

/* What a value must stay known for: its longest objective window (a calendar month counting
 * as its longest, 31 days), its alert and trigger timers, its gate window. */
static int64_t
idle_floor(const sw_rules *r)
{
    int64_t floor = sw_rules_timers_reach_ms(r);
    for (size_t i = 0; i < r->n_objectives; i++) {
        const sw_window_spec *w = &r->objectives[i].window;
        int64_t ms = w->kind == SW_WINDOW_MONTH ? LONGEST_MONTH_MS : w->length_ms;
        if (ms > floor)
            floor = ms;
    }
    return r->gate.window_ms > floor ? r->gate.window_ms : floor;
}

void
sw_rules_check_by(sw_rules_loader *ld, sw_service *s)
{
    if (s->by == NULL || s->rules == NULL)
        return;
    int64_t floor = idle_floor(s->rules);
    if (s->by_idle_ms == 0) {
        s->by_idle_ms = floor;
        return;
    }
    if (s->by_idle_ms >= floor)
        return;
    char want[32], found[32];
    sw_units_format_duration(floor, want, sizeof want);
    sw_units_format_duration(s->by_idle_ms, found, sizeof found);
    sw_rules_error_pos(ld, s->by_idle_pos,
                       "expected by_idle of at least %s (the service's longest window, a "
                       "calendar month counting 31 days), so no value's budget is forgotten "
                       "mid-window, found %s",
                       want, found);
}

/* ---- a label value's series key ---------------------------------------------------------- */

/* The key is "SERVICE\x1fLABEL=VALUE". Names never hold control characters and label names
 * never hold '=', so the first \x1f and the first '=' after it split it back unambiguously, and
 * no plain service name is ever a key of this form. */
#define KEY_SEP '\x1f'

size_t
sw_rules_by_key(const char *service, const char *label, const char *value, size_t value_len,
                char *out, size_t cap)
{
    size_t s = strlen(service), l = strlen(label), need = s + 1 + l + 1 + value_len;
    if (need < cap) {
        memcpy(out, service, s);
        out[s] = KEY_SEP;
        memcpy(out + s + 1, label, l);
        out[s + 1 + l] = '=';
        memcpy(out + s + 2 + l, value, value_len);
        out[need] = '\0';
    }
    return need;
}

bool
sw_rules_by_split(const char *key, sw_rules_by_parts *ret)
{
    const char *sep = strchr(key, KEY_SEP);
    if (sep == NULL || sep == key)
        return false;
    const char *eq = strchr(sep + 1, '=');
    if (eq == NULL || eq == sep + 1)
        return false;
    *ret = (sw_rules_by_parts){.service = key,
                               .service_len = (size_t)(sep - key),
                               .label = sep + 1,
                               .label_len = (size_t)(eq - sep - 1),
                               .value = eq + 1};
    return true;
}

ptrdiff_t
sw_rules_series_service(const sw_rules *rules, const char *key, const char **ret_value)
{
    ptrdiff_t i = sw_rules_service_index(rules, key);
    sw_rules_by_parts p;
    if (ret_value != NULL)
        *ret_value = NULL;
    if (i >= 0 || !sw_rules_by_split(key, &p))
        return i;
    for (size_t k = 0; k < rules->n_services; k++) {
        const sw_service *s = &rules->services[k];
        if (s->by != NULL && strlen(s->name) == p.service_len &&
            memcmp(s->name, p.service, p.service_len) == 0 && strlen(s->by) == p.label_len &&
            memcmp(s->by, p.label, p.label_len) == 0) {
            if (ret_value != NULL)
                *ret_value = p.value;
            return (ptrdiff_t)k;
        }
    }
    return -1;
}
