/*
 * A stepped advance (eval.h, sw_eval_step_*): the advance of sw_eval_advance() taken one service
 * at a time, each service fed its intervals right before its step, so that between steps every
 * service is whole and a reader kept off the service being stepped may judge the others' gates
 * while the tick goes on. The series table changes only before the steps begin and when they
 * end (label values forgotten).
 */
#include "eval_int.h"

#include <stdlib.h>
#include <string.h>

sw_status
sw_eval_step_series(sw_eval *ev, const char *service, const char *env, size_t *ret_service,
                    sw_err *err)
{
    SW_REQUIRE(ev->step_ms == INT64_MIN);
    sw_series *s;
    sw_status st = sw_eval_series_get(ev, service, env, &s, err);
    if (st == SW_OK)
        *ret_service = s->service_index;
    return st;
}

ptrdiff_t
sw_eval_step_held(const sw_eval *ev, const char *service, const char *env)
{
    const sw_series *s = sw_eval_find(ev, service, env);
    return s != NULL ? (ptrdiff_t)s->service_index : -1;
}

static void
steps_free(sw_eval *ev)
{
    free(ev->stepped);
    free(ev->step_order);
    free(ev->step_first);
    ev->stepped = NULL;
    ev->step_order = ev->step_first = NULL;
    ev->step_ms = INT64_MIN;
}

/* The series grouped by service (a counting sort): service k's are step_order[step_first[k]]
 * up to step_order[step_first[k + 1]]. next: room for n_services positions. */
static void
group_by_service(sw_eval *ev, size_t *next)
{
    size_t n = ev->rules->n_services;
    for (size_t i = 0; i < ev->n_series; i++)
        ev->step_first[ev->series[i]->service_index + 1]++;
    for (size_t k = 0; k < n; k++)
        ev->step_first[k + 1] += ev->step_first[k];
    memcpy(next, ev->step_first, n * sizeof *next);
    for (size_t i = 0; i < ev->n_series; i++)
        ev->step_order[next[ev->series[i]->service_index]++] = i;
}

sw_status
sw_eval_step_begin(sw_eval *ev, int64_t now_ms, sw_err *err)
{
    SW_REQUIRE(ev->step_ms == INT64_MIN);
    if (ev->now_ms != INT64_MIN && now_ms < ev->now_ms)
        return sw_err_set(err, SW_E_INVAL, "evaluation time %lld is before the previous %lld",
                          (long long)now_ms, (long long)ev->now_ms);
    size_t n = ev->rules->n_services;
    ev->stepped = calloc(n + 1, 1);
    ev->step_first = calloc(n + 2, sizeof *ev->step_first);
    ev->step_order = calloc(ev->n_series + 1, sizeof *ev->step_order);
    size_t *next = calloc(n + 1, sizeof *next);
    if (ev->stepped == NULL || ev->step_first == NULL || ev->step_order == NULL || next == NULL) {
        free(next);
        steps_free(ev);
        return sw_err_set(err, SW_E_NOMEM, "out of memory for a stepped advance");
    }
    group_by_service(ev, next);
    free(next);
    ev->step_n_series = ev->n_series;
    ev->step_ms = now_ms;
    return SW_OK;
}

sw_status
sw_eval_step_service(sw_eval *ev, size_t service, sw_err *err)
{
    SW_REQUIRE(ev->step_ms != INT64_MIN && service < ev->rules->n_services);
    sw_status st = SW_OK;
    for (size_t j = ev->step_first[service]; j < ev->step_first[service + 1] && st == SW_OK; j++)
        st = sw_eval_series_advance(ev, ev->series[ev->step_order[j]], ev->step_ms, err);
    /* Series the feed added since the steps began (the owner did not declare them). */
    for (size_t i = ev->step_n_series; i < ev->n_series && st == SW_OK; i++)
        if (ev->series[i]->service_index == service)
            st = sw_eval_series_advance(ev, ev->series[i], ev->step_ms, err);
    ev->stepped[service] = 1;
    return st;
}

sw_status
sw_eval_step_end(sw_eval *ev, sw_err *err)
{
    SW_REQUIRE(ev->step_ms != INT64_MIN);
    int64_t now_ms = ev->step_ms;
    sw_status st = SW_OK;
    /* Those stepped are unchanged since and pass at once. */
    for (size_t i = 0; i < ev->n_series && st == SW_OK; i++)
        st = sw_eval_series_advance(ev, ev->series[i], now_ms, err);
    steps_free(ev);
    if (st != SW_OK)
        return st;
    sw_eval_forget_idle(ev, now_ms);
    ev->now_ms = now_ms;
    return SW_OK;
}

int64_t
sw_eval_service_time(const sw_eval *ev, size_t service)
{
    return ev->step_ms != INT64_MIN && ev->stepped[service] ? ev->step_ms : ev->now_ms;
}
