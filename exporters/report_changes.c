/*
 * The month's changes of each service, in time order: deployment marks (who, and the
 * error-budget policy override when there was one), the deploy gate's decisions (each change of
 * verdict per environment, and the first one after each deployment, with the gate's reason),
 * rollback triggers (latched until the next deployment mark of their environment: that mark's
 * time is when they were cleared), alerts (firing and resolved) and planned maintenance.
 * Read from the store's deployment, gate audit and event records.
 */
#include "report_int.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slawatch/json.h"

static rp_change *
add_change(rp_service *s, rp_change_kind kind, int64_t at_ms, const char *env, sw_err *err)
{
    rp_change *grown = realloc(s->changes, (s->n_changes + 1) * sizeof *grown);
    if (grown == NULL) {
        sw_err_set(err, SW_E_NOMEM, "out of memory listing the month's changes");
        return NULL;
    }
    s->changes = grown;
    rp_change *c = &s->changes[s->n_changes++];
    memset(c, 0, sizeof *c);
    c->kind = kind;
    c->at_ms = at_ms;
    c->end_ms = -1;
    snprintf(c->env, sizeof c->env, "%s", env != NULL ? env : "");
    return c;
}

static sw_status
visit_deployment(void *ctx, const sw_store_override *o, sw_err *err)
{
    rp_service *s = ctx;
    rp_change *c = add_change(s, RP_CHANGE_DEPLOYMENT, o->at_ms, o->env, err);
    if (c == NULL)
        return err->code;
    snprintf(c->name, sizeof c->name, "%s", o->who != NULL ? o->who : "");
    snprintf(c->detail, sizeof c->detail, "%s", o->policy_override ? o->policy_override : "");
    return SW_OK;
}

/* The latest change of a kind in env before at_ms (the list holds them in time order). */
static const rp_change *
last_before(const rp_service *s, rp_change_kind kind, const char *env, int64_t at_ms)
{
    for (size_t i = s->n_changes; i-- > 0;) {
        const rp_change *c = &s->changes[i];
        if (c->kind == kind && c->at_ms <= at_ms && strcmp(c->env, env) == 0)
            return c;
    }
    return NULL;
}

/* The gate's reason from the answer it gave (docs/api.md); "" when it carries none. */
static void
gate_reason(const char *json, char *out, size_t cap)
{
    cJSON *tree = NULL;
    out[0] = '\0';
    if (json == NULL || sw_json_parse((const uint8_t *)json, strlen(json), SW_JSON_MAX_BYTES,
                                      SW_JSON_MAX_DEPTH, &tree, NULL) != SW_OK)
        return;
    const cJSON *reason = cJSON_GetObjectItemCaseSensitive(tree, "reason");
    if (cJSON_IsString(reason))
        snprintf(out, cap, "%s", reason->valuestring);
    cJSON_Delete(tree);
}

typedef struct gate_ctx {
    sw_report *r;
    sw_err *err;
} gate_ctx;

/* A decision is news when its verdict differs from the last one listed for the environment
 * since its last deployment (the gate is asked in a loop; the same answer again is not). */
static sw_status
add_gate(rp_service *s, const sw_store_gate_audit *a, sw_err *err)
{
    const char *env = a->env != NULL ? a->env : "";
    const rp_change *last = last_before(s, RP_CHANGE_GATE, env, a->at_ms);
    const rp_change *deployed = last_before(s, RP_CHANGE_DEPLOYMENT, env, a->at_ms);
    bool same = last != NULL && strcmp(last->name, a->verdict) == 0 &&
                (deployed == NULL || deployed->at_ms <= last->at_ms);
    if (same)
        return SW_OK;
    rp_change *c = add_change(s, RP_CHANGE_GATE, a->at_ms, env, err);
    if (c == NULL)
        return err->code;
    snprintf(c->name, sizeof c->name, "%s", a->verdict);
    gate_reason(a->checks_json, c->detail, sizeof c->detail);
    return SW_OK;
}

static sw_status
visit_audit(void *ctx, const sw_store_gate_audit *a, sw_err *err)
{
    gate_ctx *g = ctx;
    if (strcmp(a->verdict, "override") == 0)
        return SW_OK; /* listed with its deployment */
    for (size_t i = 0; i < g->r->n_services; i++) {
        rp_service *s = &g->r->services[i];
        if (strcmp(s->svc->name, a->service) != 0)
            continue;
        sw_status rc = add_gate(s, a, err);
        if (rc != SW_OK)
            return rc;
    }
    return SW_OK;
}

/* Triggers and alerts from the paired events; a trigger is cleared by the next mark of its
 * environment (rules/README.md, "Rollback triggers"). */
static sw_status
add_events(rp_service *s, sw_err *err)
{
    size_t marks_end = s->n_changes;
    for (size_t i = 0; i < s->n_events; i++) {
        const rp_event *e = &s->events[i];
        bool trigger = strcmp(e->kind, "trigger") == 0;
        int64_t end = e->resolved_ms;
        if (trigger) {
            end = -1;
            for (size_t k = 0; k < marks_end && end < 0; k++)
                if (s->changes[k].kind == RP_CHANGE_DEPLOYMENT &&
                    s->changes[k].at_ms > e->fired_ms && strcmp(s->changes[k].env, e->env) == 0)
                    end = s->changes[k].at_ms;
        }
        rp_change *c =
            add_change(s, trigger ? RP_CHANGE_TRIGGER : RP_CHANGE_ALERT, e->fired_ms, e->env, err);
        if (c == NULL)
            return err->code;
        c->end_ms = end;
        snprintf(c->name, sizeof c->name, "%s", e->name);
    }
    return SW_OK;
}

static sw_status
add_maintenance(const sw_report *r, rp_service *s, sw_err *err)
{
    for (size_t i = 0; i < s->svc->n_maintenance; i++) {
        const sw_maintenance *m = &s->svc->maintenance[i];
        if (m->end_ms <= r->start_ms || m->start_ms >= r->end_ms)
            continue;
        rp_change *c = add_change(s, RP_CHANGE_MAINTENANCE, m->start_ms, NULL, err);
        if (c == NULL)
            return err->code;
        c->end_ms = m->end_ms;
        snprintf(c->detail, sizeof c->detail, "%s", m->reason ? m->reason : "");
    }
    return SW_OK;
}

static int
by_time(const void *a, const void *b)
{
    const rp_change *x = a, *y = b;
    if (x->at_ms != y->at_ms)
        return x->at_ms < y->at_ms ? -1 : 1;
    return (int)x->kind - (int)y->kind;
}

static void
sort_changes(rp_service *s)
{
    if (s->n_changes > 1) /* none: no list to sort (qsort wants one) */
        qsort(s->changes, s->n_changes, sizeof *s->changes, by_time);
}

sw_status
sw_report_load_changes(sw_store *st, sw_report *r, sw_err *err)
{
    sw_status rc = SW_OK;
    for (size_t i = 0; rc == SW_OK && i < r->n_services; i++)
        rc = sw_store_deployments(st, r->services[i].svc->name, r->start_ms, r->end_ms,
                                  visit_deployment, &r->services[i], err);
    gate_ctx g = {r, err};
    if (rc == SW_OK)
        rc = sw_store_gate_audits(st, r->start_ms, r->end_ms, visit_audit, &g, err);
    for (size_t i = 0; rc == SW_OK && i < r->n_services; i++) {
        rp_service *s = &r->services[i];
        sort_changes(s);
        rc = add_events(s, err);
        if (rc == SW_OK)
            rc = add_maintenance(r, s, err);
        sort_changes(s);
    }
    return rc;
}
