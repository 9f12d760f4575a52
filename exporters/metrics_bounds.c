/*
 * The classic latency buckets of /metrics, per service (metrics.h): the ladder plus the
 * latency thresholds of the service's own resolved set, so every threshold a service is
 * judged by is one bucket away however many other services' thresholds there are. Built once
 * per view: services sorted by name for the lookups, one list per distinct resolved set.
 */
#include "metrics_int.h"

#include <stdlib.h>
#include <string.h>

static const double ladder[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
#define N_LADDER (sizeof ladder / sizeof ladder[0])

typedef struct bounds_list {
    double *v;
    size_t n;
} bounds_list;

typedef struct service_bounds {
    const char *name;
    const bounds_list *list;
} service_bounds;

struct sw_metrics_bounds {
    bounds_list top;    /* the rules' top level */
    bounds_list *lists; /* one per distinct resolved set */
    size_t n_lists;
    service_bounds *by_name; /* sorted by name */
    size_t n_services;
};

static size_t
count_conditions(const sw_rules *r)
{
    return r->n_objectives + r->n_alerts + r->n_triggers + r->gate.n_checks;
}

/* Add a latency threshold (in µs) to the ascending list, unless it is there already. */
static void
add_latency(bounds_list *l, const sw_condition *c)
{
    if (c->sli != SW_SLI_LATENCY)
        return;
    double b = c->value / 1e6;
    size_t at = 0;
    while (at < l->n && l->v[at] < b)
        at++;
    if (at < l->n && l->v[at] == b)
        return;
    memmove(&l->v[at + 1], &l->v[at], (l->n - at) * sizeof l->v[0]);
    l->v[at] = b;
    l->n++;
}

static bool
build_list(const sw_rules *r, bounds_list *l)
{
    l->v = malloc((N_LADDER + count_conditions(r)) * sizeof *l->v);
    if (l->v == NULL)
        return false;
    memcpy(l->v, ladder, sizeof ladder);
    l->n = N_LADDER;
    for (size_t i = 0; i < r->n_objectives; i++)
        add_latency(l, &r->objectives[i].objective);
    for (size_t i = 0; i < r->n_alerts; i++)
        add_latency(l, &r->alerts[i].when);
    for (size_t i = 0; i < r->n_triggers; i++)
        add_latency(l, &r->triggers[i].when);
    for (size_t i = 0; i < r->gate.n_checks; i++)
        add_latency(l, &r->gate.checks[i]);
    return true;
}

static int
by_name(const void *a, const void *b)
{
    return strcmp(((const service_bounds *)a)->name, ((const service_bounds *)b)->name);
}

/* Same lists of entries (services that say nothing for themselves share their file's). */
static bool
same_entries(const sw_rules *a, const sw_rules *b)
{
    return a->objectives == b->objectives && a->n_objectives == b->n_objectives &&
           a->alerts == b->alerts && a->n_alerts == b->n_alerts && a->triggers == b->triggers &&
           a->n_triggers == b->n_triggers && a->gate.checks == b->gate.checks &&
           a->gate.n_checks == b->gate.n_checks;
}

/* The list of each service; a service with the entries of the one before it shares its list. */
static bool
build_services(const sw_rules *rules, sw_metrics_bounds *b)
{
    size_t n = rules->n_services;
    b->lists = calloc(n > 0 ? n : 1, sizeof *b->lists);
    b->by_name = calloc(n > 0 ? n : 1, sizeof *b->by_name);
    if (b->lists == NULL || b->by_name == NULL)
        return false;
    const sw_rules *prev = NULL;
    for (size_t i = 0; i < n; i++) {
        const sw_rules *own = sw_rules_of_service(rules, i);
        if ((prev == NULL || !same_entries(own, prev)) && !build_list(own, &b->lists[b->n_lists++]))
            return false;
        prev = own;
        b->by_name[i] = (service_bounds){rules->services[i].name, &b->lists[b->n_lists - 1]};
    }
    b->n_services = n;
    qsort(b->by_name, n, sizeof *b->by_name, by_name);
    return true;
}

sw_status
sw_metrics_bounds_new(const sw_rules *rules, sw_metrics_bounds **ret, sw_err *err)
{
    sw_metrics_bounds *b = calloc(1, sizeof *b);
    if (b == NULL || !build_list(rules, &b->top) || !build_services(rules, b)) {
        sw_metrics_bounds_free(b);
        return sw_err_set(err, SW_E_NOMEM, "out of memory gathering latency buckets");
    }
    *ret = b;
    return SW_OK;
}

size_t
sw_metrics_bounds_of(const sw_metrics_bounds *b, const char *service, const double **ret_bounds)
{
    service_bounds key = {service, NULL};
    const service_bounds *hit = bsearch(&key, b->by_name, b->n_services, sizeof key, by_name);
    const bounds_list *l = hit != NULL ? hit->list : &b->top;
    *ret_bounds = l->v;
    return l->n;
}

size_t
sw_metrics_bounds_of_key(const sw_metrics_bounds *b, const sw_rules *rules, const char *key,
                         const double **ret_bounds)
{
    sw_rules_by_parts parts;
    const char *service = key, *value;
    if (sw_rules_by_split(key, &parts)) {
        ptrdiff_t i = sw_rules_series_service(rules, key, &value);
        if (i >= 0 && value != NULL)
            service = rules->services[i].name;
    }
    return sw_metrics_bounds_of(b, service, ret_bounds);
}

void
sw_metrics_bounds_free(sw_metrics_bounds *b)
{
    if (b == NULL)
        return;
    free(b->top.v);
    for (size_t i = 0; i < b->n_lists; i++)
        free(b->lists[i].v);
    free(b->lists);
    free(b->by_name);
    free(b);
}
