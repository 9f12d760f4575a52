/*
 * What a profile or a service says for itself (rules/README.md, "Per-service commitments"):
 * the `objectives`, `alerts`, `rollback_triggers`, `gate` and `drop` keys of a service or of a
 * `profiles` entry, a service's `profile` and a profile's `extends`, compiled into sections
 * that rules_resolve.c turns into each service's resolved set. Profiles extending unknown
 * profiles, or one another in a cycle, are found here, once for the whole load.
 */
#include "rules_int.h"

#include <stdio.h>
#include <string.h>

static const char *const profile_keys[] = {
    "objectives", "alerts", "rollback_triggers", "gate", "drop", "extends", NULL};

sw_rules_section *
sw_rules_own(const sw_service *s)
{
    /* Before resolution a service's rules pointer is its own section (its first member). */
    return (sw_rules_section *)(void *)s->rules;
}

/* The section's rule set starts with the top level's settings, so steps are checked alike. */
static void
section_init(sw_rules_section *sec, const sw_rules *top)
{
    sw_rules_set_defaults(&sec->r);
    sec->r.base_interval_ms = top->base_interval_ms;
    sec->r.min_requests = top->min_requests;
    sec->r.gate.min_requests = top->min_requests;
}

static sw_rules_section *
own_section(sw_rules_loader *ld, const sw_rules *top, sw_service *s)
{
    sw_rules_section *sec = sw_rules_own(s);
    if (sec != NULL)
        return sec;
    sec = sw_rules_alloc(ld, 1, sizeof *sec);
    if (sec == NULL)
        return NULL;
    section_init(sec, top);
    sec->r.services = s;
    sec->r.n_services = 1;
    sec->pos = s->pos;
    s->rules = &sec->r;
    return sec;
}

bool
sw_rules_service_add_objective(sw_rules_loader *ld, sw_service *s, const sw_objective *o)
{
    sw_rules defaults;
    sw_rules_set_defaults(&defaults);
    sw_rules_section *sec = own_section(ld, &defaults, s);
    if (sec == NULL)
        return false;
    size_t n = sec->r.n_objectives;
    for (size_t i = 0; i < n; i++)
        if (o->name != NULL && sec->r.objectives[i].name != NULL &&
            strcmp(sec->r.objectives[i].name, o->name) == 0)
            sw_rules_error_pos(
                ld, o->pos, "duplicate objective '%s' of service '%s' (first at %s:%u:%u)", o->name,
                s->name != NULL ? s->name : "?", sec->r.objectives[i].pos.file,
                sec->r.objectives[i].pos.line, sec->r.objectives[i].pos.col);
    sw_objective *grown = sw_rules_alloc(ld, n + 1, sizeof *grown);
    if (grown == NULL)
        return false;
    if (n > 0)
        memcpy(grown, sec->r.objectives, n * sizeof *grown);
    grown[n] = *o;
    sec->r.objectives = grown;
    sec->r.n_objectives = n + 1;
    return true;
}

/* A name or a list of names, each remembered with its position. */
static void
compile_names(sw_rules_loader *ld, const sw_yaml_node *node, const char *what, sw_rules_names *ret)
{
    bool one = node->kind == SW_YAML_SCALAR && !sw_yaml_is_null(node);
    if (!one && !sw_rules_check_list(ld, node, what))
        return;
    size_t n = one ? 1 : sw_rules_list_len(node);
    ret->names = sw_rules_alloc(ld, n, sizeof *ret->names);
    ret->pos = sw_rules_alloc(ld, n, sizeof *ret->pos);
    if (ret->names == NULL || ret->pos == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        const sw_yaml_node *item = one ? node : node->items[i];
        ret->pos[i] = sw_rules_pos_of(ld, item);
        if (!sw_rules_get_name(ld, item, what, &ret->names[i]))
            ret->names[i] = NULL;
    }
    ret->n = n;
}

/* The entries of a section: what a profile and a service's own part have in common. */
static void
compile_entries(sw_rules_loader *ld, const sw_yaml_node *node, sw_rules_section *sec)
{
    const sw_yaml_node *v;
    if ((v = sw_yaml_get(node, "objectives")) != NULL)
        sw_rules_compile_objectives(ld, v, &sec->r);
    ld->late_refs = true;
    if ((v = sw_yaml_get(node, "alerts")) != NULL)
        sw_rules_compile_alerts(ld, v, &sec->r, false);
    ld->late_refs = false;
    if ((v = sw_yaml_get(node, "rollback_triggers")) != NULL)
        sw_rules_compile_alerts(ld, v, &sec->r, true);
    if ((v = sw_yaml_get(node, "gate")) != NULL) {
        sec->has_gate = true;
        sec->gate_pos = sw_rules_pos_of(ld, v);
        sw_rules_compile_gate(ld, v, node, &sec->r);
    }
    if ((v = sw_yaml_get(node, "drop")) != NULL)
        compile_names(ld, v, "the name of an inherited objective, alert or rollback trigger",
                      &sec->drop);
    sw_rules_check_latency_order(ld, &sec->r);
}

void
sw_rules_compile_own(sw_rules_loader *ld, const sw_yaml_node *node, const sw_rules *top,
                     sw_service *s)
{
    static const char *const own_keys[] = {"objectives", "alerts", "rollback_triggers",
                                           "gate",       "drop",   "profile"};
    bool any = false;
    for (size_t i = 0; i < sizeof own_keys / sizeof own_keys[0]; i++)
        any = any || sw_yaml_get(node, own_keys[i]) != NULL;
    sw_rules_section *sec = any ? own_section(ld, top, s) : NULL;
    if (sec == NULL)
        return;
    compile_entries(ld, node, sec);
    const sw_yaml_node *v = sw_yaml_get(node, "profile");
    if (v != NULL)
        compile_names(ld, v, "a profile", &sec->uses);
}

static sw_rules_section *
find_profile(const sw_rules_profiles *p, const char *name)
{
    for (size_t i = 0; name != NULL && i < p->n; i++)
        if (p->items[i].name != NULL && strcmp(p->items[i].name, name) == 0)
            return &p->items[i];
    return NULL;
}

static sw_rules_section *
add_profile(sw_rules_loader *ld, sw_rules_profiles *p)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 8;
        sw_rules_section *grown = sw_rules_alloc(ld, cap, sizeof *grown);
        if (grown == NULL)
            return NULL;
        if (p->n > 0)
            memcpy(grown, p->items, p->n * sizeof *grown);
        p->items = grown;
        p->cap = cap;
    }
    return &p->items[p->n++];
}

static void
compile_profile(sw_rules_loader *ld, const sw_yaml_node *key, const sw_yaml_node *node,
                const sw_rules *top, sw_rules_profiles *profiles)
{
    const char *name;
    if (!sw_rules_get_name(ld, key, "a profile name", &name))
        return;
    const sw_rules_section *seen = find_profile(profiles, name);
    sw_rules_pos here = sw_rules_pos_of(ld, key);
    if (seen != NULL) {
        sw_rules_error(ld, key, "profile '%s' is defined twice: here and at %s:%u:%u", name,
                       seen->pos.file, seen->pos.line, seen->pos.col);
        return;
    }
    sw_rules_section *sec = add_profile(ld, profiles);
    if (sec == NULL)
        return;
    section_init(sec, top);
    sec->name = name;
    sec->pos = here;
    if (!sw_rules_check_map(ld, node, "profile", profile_keys))
        return;
    compile_entries(ld, node, sec);
    const sw_yaml_node *v = sw_yaml_get(node, "extends");
    if (v != NULL)
        compile_names(ld, v, "a profile", &sec->uses);
}

void
sw_rules_compile_profiles(sw_rules_loader *ld, const sw_yaml_node *node, const sw_rules *top,
                          sw_rules_profiles *profiles)
{
    if (node->kind != SW_YAML_MAPPING) {
        sw_rules_error(ld, node, "expected a mapping of profile names to profiles, found %s",
                       sw_rules_found(node).s);
        return;
    }
    for (size_t i = 0; i < node->n; i++)
        compile_profile(ld, node->pairs[i].key, node->pairs[i].value, top, profiles);
}

/* ---- extends: unknown names and cycles ---------------------------------------------------- */

enum { WHITE, GREY, BLACK };

static void
visit(sw_rules_loader *ld, const sw_rules_profiles *p, size_t i, unsigned char *colour)
{
    colour[i] = GREY;
    const sw_rules_section *sec = &p->items[i];
    for (size_t k = 0; k < sec->uses.n; k++) {
        const sw_rules_section *next = find_profile(p, sec->uses.names[k]);
        if (sec->uses.names[k] == NULL)
            continue;
        if (next == NULL) {
            sw_rules_error_pos(ld, sec->uses.pos[k],
                               "unknown profile '%s' in extends of profile '%s' (no rules file "
                               "defines it)",
                               sec->uses.names[k], sec->name);
            continue;
        }
        size_t j = (size_t)(next - p->items);
        if (colour[j] == GREY)
            sw_rules_error_pos(ld, sec->uses.pos[k],
                               "profiles extend one another in a cycle: '%s' extends '%s', "
                               "defined at %s:%u:%u, which leads back to '%s'",
                               sec->name, next->name, next->pos.file, next->pos.line, next->pos.col,
                               sec->name);
        else if (colour[j] == WHITE)
            visit(ld, p, j, colour);
    }
    colour[i] = BLACK;
}

void
sw_rules_check_profiles(sw_rules_loader *ld, const sw_rules_profiles *profiles)
{
    unsigned char *colour = sw_rules_alloc(ld, profiles->n, 1);
    for (size_t i = 0; colour != NULL && i < profiles->n; i++)
        if (colour[i] == WHITE)
            visit(ld, profiles, i, colour);
}
