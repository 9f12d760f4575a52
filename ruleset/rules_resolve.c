/*
 * Each service's resolved set (rules/README.md, "Per-service commitments"): the top level of
 * the service's file, then its profiles in the order listed (a profile's `extends` before the
 * profile itself), then its own entries. At each step `drop` removes inherited entries by
 * name, and an entry replaces the inherited one of the same name; a gate replaces the gate
 * whole. Burn-rate alerts find their objective by name in the resolved list. A service that
 * says nothing for itself shares its file's top-level arrays, so a plain file costs one small
 * rule set per service.
 */
#include "rules_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A growable list of objectives or alerts, with where each came from. */
typedef struct list {
    unsigned char *items;
    sw_rules_origin *from;
    size_t n, cap, size, name_off;
} list;

typedef struct build {
    sw_rules_loader *ld;
    const sw_service *svc;
    const sw_rules_profiles *profiles;
    list obj, alerts, triggers;
    sw_gate_spec gate;
    sw_rules_origin gate_from;
    const char **applied; /* profile names, in order */
    size_t n_applied, cap_applied;
    bool nomem;
} build;

static const char *
item_name(const list *l, size_t i)
{
    const char *name;
    memcpy(&name, l->items + i * l->size + l->name_off, sizeof name);
    return name;
}

static bool
grow(build *b, void **p, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return true;
    size_t c = *cap ? 2 * *cap : 8;
    void *q = realloc(*p, c * size);
    if (q == NULL) {
        b->nomem = true;
        return false;
    }
    *p = q;
    *cap = c;
    return true;
}

/* Replace the entry of the same name, or append. */
static void
list_put(build *b, list *l, const void *item, sw_rules_origin from)
{
    const char *name;
    memcpy(&name, (const unsigned char *)item + l->name_off, sizeof name);
    size_t i = 0;
    while (i < l->n && (name == NULL || item_name(l, i) == NULL || strcmp(item_name(l, i), name)))
        i++;
    if (i == l->n) {
        size_t cap = l->cap;
        if (!grow(b, (void **)&l->items, &cap, l->n, l->size) ||
            !grow(b, (void **)&l->from, &l->cap, l->n, sizeof *l->from))
            return;
        l->n++;
    }
    memcpy(l->items + i * l->size, item, l->size);
    l->from[i] = from;
}

static size_t
list_drop(list *l, const char *name)
{
    size_t kept = 0, n = l->n;
    for (size_t i = 0; i < n; i++) {
        if (item_name(l, i) != NULL && strcmp(item_name(l, i), name) == 0)
            continue;
        memmove(l->items + kept * l->size, l->items + i * l->size, l->size);
        l->from[kept++] = l->from[i];
    }
    l->n = kept;
    return n - kept;
}

static void
list_put_all(build *b, list *l, const void *items, size_t n, sw_rules_origin from)
{
    for (size_t i = 0; i < n; i++) {
        const void *item = (const unsigned char *)items + i * l->size;
        memcpy(&from.pos,
               (const unsigned char *)item +
                   (l == &b->obj ? offsetof(sw_objective, pos) : offsetof(sw_alert, pos)),
               sizeof from.pos);
        list_put(b, l, item, from);
    }
}

static void
apply_rules(build *b, const sw_rules *r, sw_rules_origin from)
{
    list_put_all(b, &b->obj, r->objectives, r->n_objectives, from);
    list_put_all(b, &b->alerts, r->alerts, r->n_alerts, from);
    list_put_all(b, &b->triggers, r->triggers, r->n_triggers, from);
}

static void
apply_drops(build *b, const sw_rules_section *sec)
{
    for (size_t i = 0; i < sec->drop.n; i++) {
        const char *name = sec->drop.names[i];
        if (name == NULL)
            continue;
        size_t gone =
            list_drop(&b->obj, name) + list_drop(&b->alerts, name) + list_drop(&b->triggers, name);
        if (gone == 0)
            sw_rules_error_pos(b->ld, sec->drop.pos[i],
                               "expected the name of an inherited objective, alert or rollback "
                               "trigger in drop, found '%s' (service '%s' inherits none of that "
                               "name)",
                               name, b->svc->name);
    }
}

static void
apply_section(build *b, const sw_rules_section *sec, sw_rules_origin from)
{
    apply_drops(b, sec);
    apply_rules(b, &sec->r, from);
    if (sec->has_gate) {
        b->gate = sec->r.gate;
        b->gate_from = from;
        b->gate_from.pos = sec->gate_pos;
    }
}

static const sw_rules_section *
find_profile(const sw_rules_profiles *p, const char *name)
{
    for (size_t i = 0; name != NULL && i < p->n; i++)
        if (p->items[i].name != NULL && strcmp(p->items[i].name, name) == 0)
            return &p->items[i];
    return NULL;
}

static void
note_applied(build *b, const char *name)
{
    for (size_t i = 0; i < b->n_applied; i++)
        if (strcmp(b->applied[i], name) == 0)
            return;
    if (grow(b, (void **)&b->applied, &b->cap_applied, b->n_applied, sizeof *b->applied))
        b->applied[b->n_applied++] = name;
}

/* Unknown names in extends and cycles were reported by sw_rules_check_profiles. */
static void
apply_profile(build *b, const char *name, sw_rules_pos at, size_t depth)
{
    const sw_rules_section *sec = find_profile(b->profiles, name);
    if (sec == NULL || depth > b->profiles->n) {
        if (depth == 0 && name != NULL)
            sw_rules_error_pos(b->ld, at,
                               "unknown profile '%s' for service '%s' (no rules file defines it)",
                               name, b->svc->name);
        return;
    }
    for (size_t k = 0; k < sec->uses.n; k++)
        apply_profile(b, sec->uses.names[k], sec->uses.pos[k], depth + 1);
    note_applied(b, sec->name);
    apply_section(b, sec, (sw_rules_origin){SW_ORIGIN_PROFILE, sec->name, sec->pos});
}

/* ---- checks of the resolved set ----------------------------------------------------------- */

static void
where(const sw_rules_origin *o, char *out, size_t cap)
{
    const char *kind = o->kind == SW_ORIGIN_PROFILE ? "profile " : "";
    const char *name = o->kind == SW_ORIGIN_PROFILE   ? o->profile
                       : o->kind == SW_ORIGIN_SERVICE ? "the service"
                                                      : "the top level";
    snprintf(out, cap, "%s%s, %s:%u:%u", kind, name, o->pos.file, o->pos.line, o->pos.col);
}

static void
link_burn_alerts(build *b)
{
    const sw_objective *objs = (const sw_objective *)(void *)b->obj.items;
    char from[256], why[512];
    for (size_t i = 0; i < b->alerts.n; i++) {
        sw_alert *a = (sw_alert *)(void *)(b->alerts.items + i * sizeof *a);
        if (a->kind != SW_ALERT_BURN_RATE || a->objective_name == NULL)
            continue;
        size_t k = 0;
        while (k < b->obj.n && strcmp(objs[k].name, a->objective_name) != 0)
            k++;
        if (k == b->obj.n) {
            sw_rules_error_pos(b->ld, a->pos,
                               "expected an objective of service '%s' (%s:%u:%u) for burn-rate "
                               "alert '%s', found '%s' (the service has no objective of that "
                               "name)",
                               b->svc->name, b->svc->pos.file, b->svc->pos.line, b->svc->pos.col,
                               a->name, a->objective_name);
            continue;
        }
        a->objective = k;
        bool inherited_together =
            b->alerts.from[i].kind == SW_ORIGIN_TOP && b->obj.from[k].kind == SW_ORIGIN_TOP;
        if (!inherited_together && sw_rules_burn_unreachable(&objs[k], a, why, sizeof why)) {
            where(&b->obj.from[k], from, sizeof from);
            sw_rules_error_pos(b->ld, a->pos, "%s (service '%s', objective from %s)", why,
                               b->svc->name, from);
        }
    }
}

static void
check_baseline(build *b)
{
    const sw_service *s = b->svc;
    if (b->gate_from.kind == SW_ORIGIN_TOP || b->gate.baseline == NULL || s->n_environments == 0)
        return;
    for (size_t e = 0; e < s->n_environments; e++)
        if (s->environments[e] != NULL && strcmp(s->environments[e], b->gate.baseline) == 0)
            return;
    sw_rules_error_pos(b->ld, b->gate_from.pos,
                       "expected one of the environments of service '%s' (%s:%u:%u) as the "
                       "gate's baseline, found '%s'",
                       s->name, s->pos.file, s->pos.line, s->pos.col, b->gate.baseline);
}

/* ---- the resolved set --------------------------------------------------------------------- */

static void *
copy_out(sw_rules_loader *ld, const void *items, size_t n, size_t size)
{
    void *p = sw_rules_alloc(ld, n, size);
    if (p != NULL)
        memcpy(p, items, n * size);
    return p;
}

static sw_rules *
new_view(sw_rules_loader *ld, const sw_rules *top, const sw_service *svc)
{
    sw_rules *v = sw_rules_alloc(ld, 1, sizeof *v);
    if (v == NULL)
        return NULL;
    *v = *top;
    v->services = svc;
    v->n_services = 1;
    return v;
}

static sw_rules_origin *
top_origins(sw_rules_loader *ld, const void *items, size_t n, size_t size, size_t pos_off)
{
    sw_rules_origin *o = sw_rules_alloc(ld, n, sizeof *o);
    for (size_t i = 0; o != NULL && i < n; i++) {
        o[i].kind = SW_ORIGIN_TOP;
        memcpy(&o[i].pos, (const unsigned char *)items + i * size + pos_off, sizeof o[i].pos);
    }
    return o;
}

/* The explanation every plain service of a file shares. */
static const sw_rules_explain *
top_explain(sw_rules_loader *ld, const sw_rules *top, const sw_service *any)
{
    sw_rules_explain *ex = sw_rules_alloc(ld, 1, sizeof *ex);
    if (ex == NULL)
        return NULL;
    ex->objectives = top_origins(ld, top->objectives, top->n_objectives, sizeof(sw_objective),
                                 offsetof(sw_objective, pos));
    ex->alerts =
        top_origins(ld, top->alerts, top->n_alerts, sizeof(sw_alert), offsetof(sw_alert, pos));
    ex->triggers =
        top_origins(ld, top->triggers, top->n_triggers, sizeof(sw_alert), offsetof(sw_alert, pos));
    ex->gate = (sw_rules_origin){SW_ORIGIN_TOP, NULL, {any->pos.file, 0, 0}};
    return ex;
}

static sw_rules *
finish(build *b, const sw_rules *top)
{
    sw_rules_loader *ld = b->ld;
    sw_rules *v = new_view(ld, top, b->svc);
    sw_rules_explain *ex = sw_rules_alloc(ld, 1, sizeof *ex);
    if (v == NULL || ex == NULL)
        return NULL;
    v->objectives = copy_out(ld, b->obj.items, b->obj.n, sizeof(sw_objective));
    v->n_objectives = b->obj.n;
    v->alerts = copy_out(ld, b->alerts.items, b->alerts.n, sizeof(sw_alert));
    v->n_alerts = b->alerts.n;
    v->triggers = copy_out(ld, b->triggers.items, b->triggers.n, sizeof(sw_alert));
    v->n_triggers = b->triggers.n;
    v->gate = b->gate;
    sw_rules_bind_budget(ld, v);
    ex->objectives = copy_out(ld, b->obj.from, b->obj.n, sizeof(sw_rules_origin));
    ex->alerts = copy_out(ld, b->alerts.from, b->alerts.n, sizeof(sw_rules_origin));
    ex->triggers = copy_out(ld, b->triggers.from, b->triggers.n, sizeof(sw_rules_origin));
    ex->gate = b->gate_from;
    ex->profiles = copy_out(ld, b->applied, b->n_applied, sizeof *b->applied);
    ex->n_profiles = b->n_applied;
    v->explain = ex;
    return v;
}

static void
build_reset(build *b, const sw_service *svc)
{
    b->svc = svc;
    b->obj.n = b->alerts.n = b->triggers.n = 0;
    b->n_applied = 0;
}

static sw_rules *
resolve_own(build *b, const sw_rules *top, const sw_rules_section *own)
{
    const sw_service *svc = b->svc;
    apply_rules(b, top, (sw_rules_origin){SW_ORIGIN_TOP, NULL, {NULL, 0, 0}});
    b->gate = top->gate;
    b->gate_from = (sw_rules_origin){SW_ORIGIN_TOP, NULL, {svc->pos.file, 0, 0}};
    for (size_t k = 0; k < own->uses.n; k++)
        apply_profile(b, own->uses.names[k], own->uses.pos[k], 0);
    apply_section(b, own, (sw_rules_origin){SW_ORIGIN_SERVICE, NULL, own->pos});
    link_burn_alerts(b);
    check_baseline(b);
    if (b->nomem) {
        b->ld->nomem = true;
        return NULL;
    }
    sw_rules *v = finish(b, top);
    if (v != NULL) {
        char whose[SW_RULES_MAX_NAME + 16];
        snprintf(whose, sizeof whose, "service '%s'", svc->name);
        sw_rules_check_latency_order(b->ld, v);
        sw_rules_check_slow_thresholds(b->ld, v, whose);
    }
    return v;
}

void
sw_rules_resolve(sw_rules_loader *ld, sw_service *services, size_t n_services,
                 const sw_rules *const *tops, const size_t *file_of,
                 const sw_rules_profiles *profiles)
{
    build b = {.ld = ld, .profiles = profiles};
    b.obj = (list){.size = sizeof(sw_objective), .name_off = offsetof(sw_objective, name)};
    b.alerts = (list){.size = sizeof(sw_alert), .name_off = offsetof(sw_alert, name)};
    b.triggers = b.alerts;
    const sw_rules_explain *shared = NULL;
    size_t shared_file = SIZE_MAX;
    for (size_t i = 0; i < n_services && !ld->nomem; i++) {
        sw_service *svc = &services[i];
        const sw_rules *top = tops[file_of[i]];
        const sw_rules_section *own = sw_rules_own(svc);
        build_reset(&b, svc);
        sw_rules *v = NULL;
        if (own != NULL) {
            v = resolve_own(&b, top, own);
        } else {
            if (shared_file != file_of[i]) {
                shared = top_explain(ld, top, svc);
                shared_file = file_of[i];
            }
            v = new_view(ld, top, svc);
            if (v != NULL)
                v->explain = shared;
        }
        svc->rules = v;
        sw_rules_check_by(ld, svc);
    }
    free(b.obj.items);
    free(b.obj.from);
    free(b.alerts.items);
    free(b.alerts.from);
    free(b.triggers.items);
    free(b.triggers.from);
    free(b.applied);
}
