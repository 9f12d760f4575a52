/*
 * The report charts' marks (report_marks.h): deployments per service from the store, the gate
 * audits of the month read once and dealt to their services, the events already paired by
 * report.c, and the rules' maintenance windows. A pipeline polls the gate every few seconds, so
 * only decisions are marked: an environment's first answer of the month and each change of
 * verdict.
 */
#include "report_marks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENVS_TRACKED 16 /* environments whose last verdict is remembered per service */

static rp_marks *
marks_of(rp_service *s)
{
    return (rp_marks *)s->marks;
}

static void
add_mark(rp_marks *m, int64_t at_ms, sw_chart_mark_kind kind, const char *fmt, const char *a,
         const char *b)
{
    if (m->n == RP_MARKS_MAX) {
        m->truncated = true;
        return;
    }
    char *label = m->labels[m->n];
    snprintf(label, RP_MARK_LABEL, fmt, a, b);
    size_t k = strlen(label);
    while (k > 0 && label[k - 1] == ' ')
        label[--k] = '\0'; /* an empty environment leaves no trailing space */
    m->m[m->n] = (sw_chart_mark){m->labels[m->n], at_ms, kind};
    m->n++;
}

static const char *
env_text(const char *env)
{
    return env != NULL && env[0] ? env : "";
}

static sw_status
visit_deployment(void *ctx, const sw_store_override *o, sw_err *err)
{
    (void)err;
    add_mark(ctx, o->at_ms, SW_CHART_MARK_DEPLOY, "deployed %s%s", env_text(o->env),
             o->policy_override != NULL && o->policy_override[0] ? " (policy override)" : "");
    return SW_OK;
}

/* The last verdict seen per environment of each service, to mark changes only. */
typedef struct gate_seen {
    char env[ENVS_TRACKED][RP_NAME_MAX];
    char verdict[ENVS_TRACKED][16];
    size_t n;
} gate_seen;

typedef struct gates_ctx {
    sw_report *r;
    gate_seen *seen; /* one per service */
} gates_ctx;

/* True when verdict is news for (seen, env): the first of the environment or a change. */
static bool
gate_changed(gate_seen *g, const char *env, const char *verdict)
{
    for (size_t i = 0; i < g->n; i++)
        if (strcmp(g->env[i], env) == 0) {
            if (strcmp(g->verdict[i], verdict) == 0)
                return false;
            snprintf(g->verdict[i], sizeof g->verdict[i], "%s", verdict);
            return true;
        }
    if (g->n < ENVS_TRACKED) {
        snprintf(g->env[g->n], sizeof g->env[0], "%s", env);
        snprintf(g->verdict[g->n], sizeof g->verdict[0], "%s", verdict);
        g->n++;
    }
    return true;
}

static sw_status
visit_audit(void *ctx, const sw_store_gate_audit *a, sw_err *err)
{
    (void)err;
    gates_ctx *c = ctx;
    if (a->service == NULL || a->verdict == NULL || strcmp(a->verdict, "override") == 0)
        return SW_OK; /* an override is the deployment's, marked with it */
    for (size_t i = 0; i < c->r->n_services; i++) {
        rp_service *s = &c->r->services[i];
        if (strcmp(s->svc->name, a->service) != 0 ||
            !gate_changed(&c->seen[i], env_text(a->env), a->verdict))
            continue;
        add_mark(marks_of(s), a->at_ms,
                 strcmp(a->verdict, "pass") == 0 ? SW_CHART_MARK_GATE_PASS
                                                 : SW_CHART_MARK_GATE_FAIL,
                 "gate %s %s", a->verdict, env_text(a->env));
    }
    return SW_OK;
}

static void
add_events(rp_service *s)
{
    for (size_t i = 0; i < s->n_events; i++) {
        const rp_event *e = &s->events[i];
        add_mark(marks_of(s), e->fired_ms, SW_CHART_MARK_EVENT,
                 e->kind[0] == 't' ? "trigger %s %s" : "alert %s %s", e->name, e->env);
    }
}

static sw_status
add_maintenance(const sw_report *r, rp_service *s, sw_err *err)
{
    rp_marks *m = marks_of(s);
    m->maint = calloc(s->svc->n_maintenance + 1, sizeof *m->maint);
    if (m->maint == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory listing maintenance");
    for (size_t i = 0; i < s->svc->n_maintenance; i++) {
        const sw_maintenance *w = &s->svc->maintenance[i];
        if (w->end_ms > r->start_ms && w->start_ms < r->end_ms)
            m->maint[m->n_maint++] =
                (sw_chart_range){w->reason ? w->reason : "maintenance", w->start_ms, w->end_ms};
    }
    return SW_OK;
}

static int
by_time(const void *a, const void *b)
{
    int64_t x = ((const sw_chart_mark *)a)->at_ms, y = ((const sw_chart_mark *)b)->at_ms;
    return (x > y) - (x < y);
}

sw_status
sw_report_load_marks(sw_store *st, sw_report *r, sw_err *err)
{
    sw_status rc = SW_OK;
    for (size_t i = 0; i < r->n_services && rc == SW_OK; i++) {
        rp_service *s = &r->services[i];
        if ((s->marks = calloc(1, sizeof(rp_marks))) == NULL)
            return sw_err_set(err, SW_E_NOMEM, "out of memory for a service's marks");
        rc = sw_store_deployments(st, s->svc->name, r->start_ms, r->end_ms, visit_deployment,
                                  s->marks, err);
        if (rc == SW_OK) {
            add_events(s);
            rc = add_maintenance(r, s, err);
        }
    }
    gates_ctx c = {r, calloc(r->n_services + 1, sizeof(gate_seen))};
    if (rc == SW_OK && c.seen == NULL)
        rc = sw_err_set(err, SW_E_NOMEM, "out of memory reading gate decisions");
    if (rc == SW_OK)
        rc = sw_store_gate_audits(st, r->start_ms, r->end_ms, visit_audit, &c, err);
    free(c.seen);
    for (size_t i = 0; i < r->n_services && rc == SW_OK; i++)
        qsort(marks_of(&r->services[i])->m, marks_of(&r->services[i])->n, sizeof(sw_chart_mark),
              by_time);
    return rc;
}

void
sw_report_marks_free(rp_marks *m)
{
    if (m == NULL)
        return;
    free(m->maint);
    free(m);
}
