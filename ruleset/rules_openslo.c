/*
 * A set of OpenSLO v1 files as one rule set (rules/OPENSLO.md): every object of every file is
 * indexed by kind and name first (kinds slawatch does not read are refused by name, a name
 * given twice in one kind is an error naming both places), then SLIs are compiled once each,
 * Services become services, and each SLO resolves its indicatorRef and service in any file of
 * the set before its objectives are attached to that service (sw_rules_openslo_attach). Once
 * the set is checked, each service is given its SLOs' objectives as its own, as a rules file's
 * service with `objectives:` of its own has them. What one object says is read in
 * rules_openslo_slo.c.
 */
#include "rules_openslo_int.h"

#include "slawatch/rules_openslo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const object_keys[] = {"apiVersion", "kind", "metadata", "spec", NULL};
static const char *const service_spec_keys[] = {"description", NULL};

bool
sw_rules_is_openslo(const sw_yaml_node *root)
{
    if (root->kind == SW_YAML_SEQUENCE && root->n > 0)
        root = root->items[0];
    const sw_yaml_node *v = sw_yaml_get(root, "apiVersion");
    /* Any openslo/ version counts, so v1alpha or v2 files get a message naming openslo/v1. */
    return v != NULL && v->kind == SW_YAML_SCALAR && v->len >= 8 &&
           memcmp(v->str, "openslo/", 8) == 0;
}

openslo_where
sw_rules_openslo_where(sw_rules_pos pos)
{
    openslo_where w;
    snprintf(w.s, sizeof w.s, "%.280s:%u:%u", pos.file != NULL ? pos.file : "?", pos.line, pos.col);
    return w;
}

static const char *
kind_name(openslo_kind kind)
{
    static const char *const names[] = {
        [OPENSLO_SLO] = "SLO", [OPENSLO_SLI] = "SLI", [OPENSLO_SERVICE] = "Service"};
    return names[kind];
}

/* ---- the index: every object by kind and name --------------------------------------------- */

/* One file's document objects: a document holds one object or a list of them. */
static void
each_object(const sw_yaml_doc *doc, void (*fn)(void *ctx, const sw_yaml_node *node), void *ctx)
{
    for (size_t i = 0; i < sw_yaml_doc_count(doc); i++) {
        const sw_yaml_node *root = sw_yaml_doc_root(doc, i);
        if (sw_yaml_is_null(root))
            continue; /* an empty document, as a trailing `---` leaves */
        if (root->kind != SW_YAML_SEQUENCE)
            fn(ctx, root);
        for (size_t j = 0; root->kind == SW_YAML_SEQUENCE && j < root->n; j++)
            fn(ctx, root->items[j]);
    }
}

static void
count_one(void *ctx, const sw_yaml_node *node)
{
    (void)node;
    (*(size_t *)ctx)++;
}

/* An object's kind: SLO, SLI or Service; anything else is refused by name. */
static bool
object_kind(sw_rules_loader *ld, const sw_yaml_node *node, openslo_kind *ret)
{
    const sw_yaml_node *v = sw_rules_require(ld, node, "kind", "an OpenSLO object");
    for (int k = OPENSLO_SLO; v != NULL && k <= OPENSLO_SERVICE; k++)
        if (sw_rules_is(v, kind_name((openslo_kind)k))) {
            *ret = (openslo_kind)k;
            return true;
        }
    if (v != NULL && sw_rules_is_text(v))
        sw_rules_error(ld, v, "unsupported OpenSLO kind %s; slawatch reads SLO, SLI and Service",
                       sw_rules_show(v->str, v->len).s);
    else if (v != NULL)
        sw_rules_error(ld, v, "expected an OpenSLO kind (SLO, SLI or Service), found %s",
                       sw_rules_found(v).s);
    return false;
}

/* The first object of the same kind and name before index i, or NULL. */
static const openslo_object *
earlier_named(const openslo_set *set, size_t i)
{
    const openslo_object *o = &set->objects[i];
    for (size_t j = 0; o->name != NULL && j < i; j++) {
        const openslo_object *e = &set->objects[j];
        if (e->kind == o->kind && e->name != NULL && strcmp(e->name, o->name) == 0)
            return e;
    }
    return NULL;
}

typedef struct index_ctx {
    openslo_set *set;
    sw_rules_loader *ld;
} index_ctx;

static void
index_one(void *ctx, const sw_yaml_node *node)
{
    index_ctx *c = ctx;
    sw_rules_loader *ld = c->ld;
    openslo_object o = {.ld = ld, .node = node};
    const sw_yaml_node *v, *meta;
    if (!sw_rules_check_map(ld, node, "an OpenSLO object", object_keys))
        return;
    if ((v = sw_rules_require(ld, node, "apiVersion", "an OpenSLO object")) != NULL &&
        !sw_rules_is(v, "openslo/v1"))
        sw_rules_error(ld, v, "expected apiVersion openslo/v1, found %s", sw_rules_found(v).s);
    if (!object_kind(ld, node, &o.kind))
        return;
    char what[32];
    snprintf(what, sizeof what, "an %s", kind_name(o.kind));
    if ((meta = sw_rules_require(ld, node, "metadata", kind_name(o.kind))) != NULL &&
        meta->kind == SW_YAML_MAPPING) {
        sw_rules_openslo_check_metadata(ld, meta, "metadata");
        if ((o.name_node = sw_rules_require(ld, meta, "name", "metadata")) != NULL)
            sw_rules_get_name(ld, o.name_node, what, &o.name);
    } else if (meta != NULL) {
        sw_rules_openslo_check_metadata(ld, meta, "metadata");
    }
    openslo_set *set = c->set;
    set->objects[set->n_objects] = o;
    const openslo_object *first = earlier_named(set, set->n_objects);
    if (first != NULL)
        sw_rules_error(ld, o.name_node, "expected a unique %s name, found '%s' again (first at %s)",
                       kind_name(o.kind), sw_rules_show(o.name, strlen(o.name)).s,
                       sw_rules_openslo_where(sw_rules_pos_of(first->ld, first->name_node)).s);
    set->n_objects++;
}

/* ---- services ----------------------------------------------------------------------------- */

static size_t
add_service(openslo_set *set, const openslo_object *origin, const char *name,
            const sw_yaml_node *at)
{
    size_t i = set->n_services++;
    set->services[i].name = name;
    set->services[i].pos = sw_rules_pos_of(origin->ld, at);
    return i;
}

static void
compile_service(openslo_set *set, const openslo_object *obj)
{
    const sw_yaml_node *spec = sw_yaml_get(obj->node, "spec");
    if (spec != NULL && !sw_yaml_is_null(spec))
        sw_rules_check_map(obj->ld, spec, "Service spec", service_spec_keys);
    if (obj->name != NULL && earlier_named(set, (size_t)(obj - set->objects)) == NULL)
        add_service(set, obj, obj->name, obj->name_node);
}

ptrdiff_t
sw_rules_openslo_service(openslo_set *set, const openslo_object *slo, const sw_yaml_node *name)
{
    const char *s;
    if (!sw_rules_get_name(slo->ld, name, "a service", &s))
        return -1;
    ptrdiff_t i = sw_rules_find_name(set->services, set->n_services, sizeof *set->services, s);
    /* Without kind: Service objects, SLOs name their services, as one file always could. */
    if (i < 0 && !set->declared)
        i = (ptrdiff_t)add_service(set, slo, s, name);
    if (i >= 0)
        return i;
    sw_rules_error(slo->ld, name,
                   "expected the name of a kind: Service of the set for service, found %s",
                   sw_rules_found(name).s);
    return -1;
}

/* ---- indicators --------------------------------------------------------------------------- */

const openslo_sli *
sw_rules_openslo_sli_ref(openslo_set *set, const openslo_object *slo, const sw_yaml_node *ref)
{
    const char *name;
    if (!sw_rules_get_name(slo->ld, ref, "an SLI for indicatorRef", &name))
        return NULL;
    for (size_t i = 0; i < set->n_objects; i++)
        if (set->objects[i].kind == OPENSLO_SLI && set->objects[i].name != NULL &&
            strcmp(set->objects[i].name, name) == 0)
            return &set->slis[i];
    sw_rules_error(slo->ld, ref,
                   "expected the name of a kind: SLI of the set for indicatorRef, "
                   "found %s",
                   sw_rules_found(ref).s);
    return NULL;
}

static void
compile_sli_object(openslo_set *set, size_t i)
{
    const openslo_object *obj = &set->objects[i];
    const sw_yaml_node *spec = sw_rules_require(obj->ld, obj->node, "spec", "SLI");
    if (spec != NULL)
        sw_rules_openslo_compile_sli(obj->ld, spec, &set->slis[i]);
}

/* A plain selector becomes the service's source; every SLI of a service must agree on it. */
static void
use_selector(sw_rules_loader *ld, const sw_yaml_node *query, sw_source *dst, const char *what)
{
    if (dst->kind == SW_SOURCE_PROMETHEUS) {
        if (strlen(dst->selector) != query->len || memcmp(dst->selector, query->str, query->len))
            sw_rules_error(ld, query,
                           "expected the %s selector given at %s (one per service), found a "
                           "different one",
                           what, sw_rules_openslo_where(dst->pos).s);
        return;
    }
    dst->kind = SW_SOURCE_PROMETHEUS;
    dst->selector = sw_rules_strdup(ld, query->str, query->len);
    dst->pos = sw_rules_pos_of(ld, query);
}

void
sw_rules_openslo_use_sli(openslo_set *set, size_t service, const openslo_sli *sli)
{
    sw_service *svc = &set->services[service];
    if (sli->requests != NULL)
        use_selector(sli->ld, sli->requests, &svc->requests, "requests");
    if (sli->errors != NULL)
        use_selector(sli->ld, sli->errors, &svc->errors, "errors");
    if (sli->latency != NULL)
        use_selector(sli->ld, sli->latency, &svc->latency, "latency");
}

/* ---- objectives meet the model ------------------------------------------------------------ */

/* Objective names are unique across the set, whichever services they are for. */
static void
append_objective(openslo_set *set, const openslo_object *slo, size_t service, const sw_objective *o)
{
    for (size_t i = 0; o->name != NULL && i < set->n_objectives; i++)
        if (set->objectives[i].name != NULL && strcmp(set->objectives[i].name, o->name) == 0) {
            sw_rules_error(slo->ld, slo->name_node,
                           "expected a unique objective name, found '%s' again (first at %s)",
                           sw_rules_show(o->name, strlen(o->name)).s,
                           sw_rules_openslo_where(set->objectives[i].pos).s);
            return;
        }
    SW_REQUIRE(set->n_objectives < set->cap_objectives);
    set->objective_ld[set->n_objectives] = slo->ld;
    set->objective_service[set->n_objectives] = service;
    set->objectives[set->n_objectives++] = *o;
}

/* An SLO's objectives are its service's: collected here, given to the services once the set
 * is checked (give_objectives). */
void
sw_rules_openslo_attach(openslo_set *set, const openslo_object *slo, size_t service,
                        const sw_objective *objectives, size_t n)
{
    for (size_t i = 0; i < n; i++)
        append_objective(set, slo, service, &objectives[i]);
}

/* Each service gets its SLOs' objectives as its own (rules_sections.c), as a rules file's
 * `objectives:` under a service would; a Service no SLO is for has none. */
static void
give_objectives(openslo_set *set)
{
    for (size_t i = 0; i < set->n_objectives; i++) {
        sw_service *svc = &set->services[set->objective_service[i]];
        if (!sw_rules_service_add_objective(set->objective_ld[i], svc, &set->objectives[i]))
            set->ld->nomem = true;
    }
}

/* Latency objectives of one service in one window: the higher percentile may not have the lower
 * bound. The message goes to the later objective's own file. */
static void
check_latency_order(const openslo_set *set)
{
    char desc[128];
    for (size_t j = 0; j < set->n_objectives; j++)
        for (size_t i = 0; i < j; i++) {
            const sw_objective *a = &set->objectives[i], *b = &set->objectives[j];
            if (a->name == NULL || set->objective_service[i] != set->objective_service[j] ||
                a->window.kind != b->window.kind ||
                sw_rules_window_ms(&a->window) != sw_rules_window_ms(&b->window))
                continue;
            snprintf(desc, sizeof desc, "objective '%s' in the same window",
                     sw_rules_show(a->name, strlen(a->name)).s);
            sw_rules_latency_pair(set->objective_ld[j], &a->objective, &b->objective, desc);
        }
}

/* ---- the set ------------------------------------------------------------------------------ */

static void
count_objectives(openslo_set *set)
{
    for (size_t i = 0; i < set->n_objects; i++) {
        const sw_yaml_node *spec = sw_yaml_get(set->objects[i].node, "spec");
        const sw_yaml_node *list = sw_yaml_get(spec, "objectives");
        if (set->objects[i].kind == OPENSLO_SLO && list != NULL && list->kind == SW_YAML_SEQUENCE)
            set->cap_objectives += list->n;
    }
}

static bool
allocate(openslo_set *set, size_t n_objects)
{
    sw_rules_loader *ld = set->ld;
    set->objects = sw_rules_alloc(ld, n_objects, sizeof *set->objects);
    set->slis = sw_rules_alloc(ld, n_objects, sizeof *set->slis);
    set->services = sw_rules_alloc(ld, n_objects, sizeof *set->services);
    return set->objects != NULL && set->slis != NULL && set->services != NULL;
}

static bool
allocate_objectives(openslo_set *set)
{
    if (set->cap_objectives == 0)
        return true;
    set->objectives = sw_rules_alloc(set->ld, set->cap_objectives, sizeof *set->objectives);
    set->objective_ld = sw_rules_alloc(set->ld, set->cap_objectives, sizeof *set->objective_ld);
    set->objective_service =
        sw_rules_alloc(set->ld, set->cap_objectives, sizeof *set->objective_service);
    return set->objectives != NULL && set->objective_ld != NULL && set->objective_service != NULL;
}

/* Index every file, then SLIs, Services and SLOs in that order, so references resolve
 * whichever file they point into. */
static void
compile_set(openslo_set *set, const sw_rules_openslo_file *files, size_t n_files, sw_rules *r)
{
    size_t n_objects = 0;
    for (size_t f = 0; f < n_files; f++)
        each_object(files[f].doc, count_one, &n_objects);
    if (n_objects > SW_RULES_MAX_LIST) {
        sw_rules_error_pos(set->ld, (sw_rules_pos){set->ld->name, 1, 1},
                           "expected at most %d OpenSLO objects in a set, found %zu",
                           SW_RULES_MAX_LIST, n_objects);
        return;
    }
    if (n_objects == 0) {
        sw_rules_error_pos(set->ld, (sw_rules_pos){set->ld->name, 1, 1},
                           "expected at least one SLO or Service in an OpenSLO set");
        return;
    }
    if (!allocate(set, n_objects))
        return;
    for (size_t f = 0; f < n_files; f++) {
        index_ctx ctx = {set, files[f].ld};
        each_object(files[f].doc, index_one, &ctx);
    }
    count_objectives(set);
    if (set->cap_objectives > SW_RULES_MAX_LIST) {
        sw_rules_error_pos(set->ld, (sw_rules_pos){set->ld->name, 1, 1},
                           "expected at most %d objectives in all, found %zu", SW_RULES_MAX_LIST,
                           set->cap_objectives);
        return;
    }
    if (!allocate_objectives(set))
        return;
    for (size_t i = 0; i < set->n_objects; i++)
        if (set->objects[i].kind == OPENSLO_SLI)
            compile_sli_object(set, i);
    for (size_t i = 0; i < set->n_objects; i++)
        if (set->objects[i].kind == OPENSLO_SERVICE) {
            set->declared = true;
            compile_service(set, &set->objects[i]);
        }
    /* An SLO whose name was taken is reported once, as a duplicate, not compiled again. */
    for (size_t i = 0; i < set->n_objects; i++)
        if (set->objects[i].kind == OPENSLO_SLO && earlier_named(set, i) == NULL)
            sw_rules_openslo_compile_slo(set, &set->objects[i]);
    if (set->n_services == 0)
        sw_rules_error_pos(set->ld, (sw_rules_pos){set->ld->name, 1, 1},
                           "expected at least one SLO or Service in an OpenSLO set");
    check_latency_order(set);
    give_objectives(set);
    r->services = set->services;
    r->n_services = set->n_services;
}

void
sw_rules_openslo_compile_files(const sw_rules_openslo_file *files, size_t n, sw_rules *r)
{
    SW_REQUIRE(n > 0);
    openslo_set set = {.ld = files[0].ld};
    compile_set(&set, files, n, r);
}

void
sw_rules_openslo_compile(sw_rules_loader *ld, const sw_yaml_doc *doc, sw_rules *r)
{
    sw_rules_openslo_file file = {ld, doc};
    sw_rules_openslo_compile_files(&file, 1, r);
}

/* ---- several files ------------------------------------------------------------------------ */

sw_status
sw_rules_openslo_load_mem(const sw_rules_openslo_text *files, size_t n, sw_rules **ret_rules,
                          sw_rules_diag *diag, sw_err *err)
{
    SW_REQUIRE(files != NULL && n > 0 && ret_rules != NULL);
    /* A set of OpenSLO files is loaded as any several rules files are (rules_files.c), where
     * the OpenSLO ones are compiled together. */
    const char **names = calloc(n, sizeof *names), **texts = calloc(n, sizeof *texts);
    size_t *lens = calloc(n, sizeof *lens);
    sw_status st = SW_E_NOMEM;
    if (names != NULL && texts != NULL && lens != NULL) {
        for (size_t i = 0; i < n; i++) {
            names[i] = files[i].name;
            texts[i] = files[i].text;
            lens[i] = files[i].len;
        }
        st = sw_rules_load_pieces(names, texts, lens, n, ret_rules, diag, err);
    } else {
        sw_err_set(err, SW_E_NOMEM, "out of memory loading rules");
    }
    free(names);
    free(texts);
    free(lens);
    return st;
}
