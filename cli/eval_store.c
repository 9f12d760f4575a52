/*
 * `slawatch eval --data DIR --from T --to T` (or --quarter): the evaluator run over a stored
 * period with rules that may never have been in force then. Every objective is judged over the
 * period itself, whatever window the rules give it: the histograms are stored, so a changed
 * threshold or percentile is answered exactly, with no re-collection. The period is read as
 * hourly rows (rolled-up days would be as exact for one evaluation at its end, but alerts'
 * windows move by the hour), or minutes where objectives judge slices, the last stretch that
 * alert timers can reach at base resolution.
 */
#include "cli.h"

#include "slawatch/eval.h"
#include "slawatch/hdr_codec.h"

#include <stdlib.h>
#include <string.h>

#define HOUR_MS INT64_C(3600000)

/* n objectives of from into *to, each judged over the period. */
static sw_objective *
over_period(const sw_objective *from, size_t n, const sw_cli_period *p, sw_objective *to)
{
    memcpy(to, from, n * sizeof *to);
    for (size_t i = 0; i < n; i++)
        to[i].window = (sw_window_spec){SW_WINDOW_ROLLING, p->to_ms - p->from_ms};
    return to + n;
}

sw_status
sw_cli_whatif_rules(const sw_rules *rules, const sw_cli_period *p, sw_rules *copy, void **ret_block,
                    sw_err *err)
{
    /* Each service is judged by its own resolved set (sw_service.rules), so the services and
     * their sets are copied too, in one block: views, services, then every objective. */
    size_t n = rules->n_services, n_obj = rules->n_objectives;
    for (size_t i = 0; i < n; i++)
        n_obj += sw_rules_of_service(rules, i)->n_objectives;
    *copy = *rules;
    *ret_block = NULL;
    char *block =
        malloc(n * (sizeof(sw_rules) + sizeof(sw_service)) + n_obj * sizeof(sw_objective) + 1);
    if (block == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory copying the objectives");
    sw_rules *views = (sw_rules *)(void *)block;
    sw_service *services = (sw_service *)(void *)(views + n);
    sw_objective *o = (sw_objective *)(void *)(services + n);
    copy->objectives = o;
    o = over_period(rules->objectives, rules->n_objectives, p, o);
    for (size_t i = 0; i < n; i++) {
        const sw_rules *own = sw_rules_of_service(rules, i);
        views[i] = *own;
        views[i].objectives = o;
        o = over_period(own->objectives, own->n_objectives, p, o);
        services[i] = rules->services[i];
        services[i].rules = &views[i];
        views[i].services = &services[i];
    }
    copy->services = services;
    *ret_block = block;
    return SW_OK;
}

static bool
judges_slices(const sw_rules *r)
{
    for (size_t i = 0; i < r->n_objectives; i++)
        if (r->objectives[i].budgeting == SW_BUDGET_TIMESLICES ||
            r->objectives[i].objective.sli == SW_SLI_THROUGHPUT)
            return true;
    return false;
}

/* Slices (throughput, timeslice budgeting) are whole minutes: they need rows no coarser. */
static int64_t
coarsest_row_ms(const sw_rules *r)
{
    bool slices = judges_slices(r);
    for (size_t i = 0; i < r->n_services && !slices; i++)
        slices = judges_slices(sw_rules_of_service(r, i));
    return slices ? SW_STORE_1M_MS : HOUR_MS;
}

typedef struct feed_ctx {
    sw_eval *ev;
    const sw_rules *rules;
    sw_cli_held *held;
} feed_ctx;

/* What a row tells of what the store holds; its histogram is decoded only while no row of
 * the service has shown latency yet (after that, whether one more has does not matter). */
static sw_status
note_held(const feed_ctx *f, const char *service, const sw_sli_interval *iv, const uint8_t *latency,
          size_t latency_len, sw_err *err)
{
    ptrdiff_t i = sw_rules_series_service(f->rules, service, NULL);
    sw_sli_interval row = *iv;
    sw_status s = SW_OK;
    if (latency != NULL && iv->has_data && !f->held[i].latency)
        s = sw_hdr_decode(latency, latency_len, &row.latency, err);
    if (s == SW_OK)
        sw_cli_held_note(f->rules, f->held, service, &row);
    sw_hdr_free(row.latency);
    return s;
}

/* A stored row, its histogram packed from its encoding (no histogram decoded per row). */
static sw_status
feed(void *ctx, const char *service, const char *env, const sw_sli_interval *iv,
     const uint8_t *latency, size_t latency_len, sw_err *err)
{
    feed_ctx *f = ctx;
    /* The store may hold services these rules do not name: they are not asked about. A label
     * value's key (sw_rules_by_key) belongs to its service when that service still uses by. */
    if (sw_rules_series_service(f->rules, service, NULL) < 0)
        return SW_OK;
    sw_status s = note_held(f, service, iv, latency, latency_len, err);
    if (s == SW_OK)
        s = sw_eval_add_encoded(f->ev, service, env, iv, latency, latency_len, err);
    if (s != SW_OK)
        sw_err_prefix(err, "%s%s%s at %lld ms", service, env ? "/" : "", env ? env : "",
                      (long long)iv->start_ms);
    return s;
}

sw_status
sw_cli_eval_store(sw_store *st, const sw_rules *rules, const sw_cli_period *p, sw_cli_held *held,
                  sw_eval **ret, sw_err *err)
{
    sw_eval *ev;
    sw_status s = sw_eval_new(rules, &ev, err);
    if (s != SW_OK)
        return s;
    int64_t fine_from = p->to_ms - sw_rules_timers_reach_ms(rules);
    sw_eval_alerts_from(ev, fine_from);
    feed_ctx f = {ev, rules, held};
    s = sw_store_scan_encoded(st, NULL, p->from_ms, p->to_ms, fine_from, coarsest_row_ms(rules),
                              feed, &f, err);
    if (s == SW_OK)
        s = sw_eval_advance(ev, p->to_ms, err);
    if (s != SW_OK) {
        sw_err_prefix(err, "evaluating the store");
        sw_eval_free(ev);
        return s;
    }
    *ret = ev;
    return SW_OK;
}
