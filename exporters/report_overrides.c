/*
 * The report's list of error-budget policy overrides: the deployments of the month marked with
 * a policy_override (POST /api/v1/deployments), read from the store's deployment records, each
 * given to the service it names.
 */
#include "report_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slawatch/store.h"

static sw_status
add_override(rp_service *s, const sw_store_override *o, sw_err *err)
{
    rp_override *grown = realloc(s->overrides, (s->n_overrides + 1) * sizeof *grown);
    if (grown == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory listing policy overrides");
    s->overrides = grown;
    rp_override *x = &s->overrides[s->n_overrides++];
    snprintf(x->env, sizeof x->env, "%s", o->env != NULL ? o->env : "");
    snprintf(x->who, sizeof x->who, "%s", o->who);
    snprintf(x->ticket, sizeof x->ticket, "%s", o->policy_override);
    x->at_ms = o->at_ms;
    return SW_OK;
}

static sw_status
visit_override(void *ctx, const sw_store_override *o, sw_err *err)
{
    sw_report *r = ctx;
    for (size_t i = 0; i < r->n_services; i++)
        if (strcmp(r->services[i].svc->name, o->service) == 0)
            return add_override(&r->services[i], o, err);
    return SW_OK; /* a service this report leaves out */
}

sw_status
sw_report_load_overrides(sw_store *st, sw_report *r, sw_err *err)
{
    return sw_store_policy_overrides(st, r->start_ms, r->end_ms, visit_override, r, err);
}
