/*
 * The health prober: a table of targets with their next due time. Due probes run as one
 * concurrent batch on the prober's HTTP client (connections reused between runs). Owned by the
 * daemon, driven by one thread; time comes in as arguments.
 */
#include "slawatch/probe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slawatch/http_client.h"

typedef struct target_state {
    sw_probe_target t;
    int64_t next_due_ms;
} target_state;

struct sw_probe {
    target_state *targets;
    size_t n;
    sw_http_client *http;
};

/* splitmix64: a seeded stream for the jitter, so tests and restarts are reproducible. */
static uint64_t
next_random(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static sw_status
check_target(const sw_probe_target *t, sw_err *err)
{
    const char *who = t->service_name != NULL ? t->service_name : "?";
    if (t->url == NULL)
        return sw_err_set(err, SW_E_INVAL, "probe for %s: no URL", who);
    if (t->every_ms <= 0 || t->timeout_ms <= 0)
        return sw_err_set(err, SW_E_INVAL, "probe for %s: interval and timeout must be positive",
                          who);
    return SW_OK;
}

sw_status
sw_probe_new(const sw_probe_target *targets, size_t n, int64_t now_ms, uint64_t seed,
             sw_probe **ret_probe, sw_err *err)
{
    for (size_t i = 0; i < n; i++) {
        sw_status st = check_target(&targets[i], err);
        if (st != SW_OK)
            return st;
    }
    sw_probe *p = calloc(1, sizeof *p);
    if (p == NULL || (n > 0 && (p->targets = calloc(n, sizeof *p->targets)) == NULL)) {
        free(p);
        return sw_err_set(err, SW_E_NOMEM, "cannot allocate %zu probe targets", n);
    }
    sw_status st = sw_http_client_new(&p->http, err);
    if (st != SW_OK) {
        sw_probe_free(p);
        return st;
    }
    for (size_t i = 0; i < n; i++) {
        p->targets[i].t = targets[i];
        p->targets[i].next_due_ms = now_ms + (int64_t)(next_random(&seed) %
                                                       (uint64_t)targets[i].every_ms);
    }
    p->n = n;
    *ret_probe = p;
    return SW_OK;
}

sw_status
sw_probe_new_from_rules(const sw_rules *rules, int64_t now_ms, uint64_t seed,
                        sw_probe **ret_probe, sw_err *err)
{
    sw_probe_target *ts = calloc(rules->n_services ? rules->n_services : 1, sizeof *ts);
    if (ts == NULL)
        return sw_err_set(err, SW_E_NOMEM, "cannot allocate probe targets");
    size_t n = 0;
    for (size_t i = 0; i < rules->n_services; i++) {
        const sw_service *s = &rules->services[i];
        if (s->health.kind != SW_SOURCE_PROBE)
            continue;
        ts[n++] = (sw_probe_target){.service = i, .service_name = s->name, .url = s->health.url,
                                    .every_ms = s->health.every_ms,
                                    .timeout_ms = s->health.timeout_ms,
                                    .expect_status = s->health.expect_status};
    }
    sw_status st = sw_probe_new(ts, n, now_ms, seed, ret_probe, err);
    free(ts);
    return st;
}

void
sw_probe_free(sw_probe *p)
{
    if (p == NULL)
        return;
    sw_http_client_free(p->http);
    free(p->targets);
    free(p);
}

size_t
sw_probe_count(const sw_probe *p)
{
    return p->n;
}

int64_t
sw_probe_next_due_ms(const sw_probe *p)
{
    int64_t next = INT64_MAX;
    for (size_t i = 0; i < p->n; i++)
        if (p->targets[i].next_due_ms < next)
            next = p->targets[i].next_due_ms;
    return next;
}

/* Judge one outcome and hand it to the sink. */
static void
deliver(const sw_probe_target *t, const sw_http_fetch_result *res, int64_t at_ms,
        sw_probe_sink sink, void *ctx)
{
    char reason[SW_ERR_MSG_MAX + 32];
    sw_probe_result r = {.service = t->service, .service_name = t->service_name, .env = t->env,
                         .at_ms = at_ms, .reason = reason};
    if (res->err.code != SW_OK) {
        snprintf(reason, sizeof reason, "%s", res->err.msg);
    } else {
        r.status = res->resp.status;
        r.latency_us = res->resp.elapsed_us;
        r.ok = r.status == t->expect_status;
        if (r.ok)
            snprintf(reason, sizeof reason, "HTTP %ld", r.status);
        else
            snprintf(reason, sizeof reason, "HTTP %ld, expected %d", r.status, t->expect_status);
    }
    sink(ctx, &r);
}

sw_status
sw_probe_run_due(sw_probe *p, int64_t now_ms, sw_probe_sink sink, void *ctx, sw_err *err)
{
    size_t n_due = 0;
    for (size_t i = 0; i < p->n; i++)
        n_due += p->targets[i].next_due_ms <= now_ms;
    if (n_due == 0)
        return SW_OK;
    sw_http_fetch_request *rqs = calloc(n_due, sizeof *rqs);
    sw_http_fetch_result *res = calloc(n_due, sizeof *res);
    size_t *which = calloc(n_due, sizeof *which);
    sw_status st = SW_OK;
    if (rqs == NULL || res == NULL || which == NULL) {
        st = sw_err_set(err, SW_E_NOMEM, "cannot allocate %zu probes", n_due);
        goto out;
    }
    for (size_t i = 0, k = 0; i < p->n; i++) {
        target_state *ts = &p->targets[i];
        if (ts->next_due_ms > now_ms)
            continue;
        which[k] = i;
        rqs[k++] = (sw_http_fetch_request){.url = ts->t.url, .timeout_ms = ts->t.timeout_ms,
                                           .discard_body = true};
        ts->next_due_ms += ts->t.every_ms;
        if (ts->next_due_ms <= now_ms) /* missed runs are skipped, not caught up */
            ts->next_due_ms = now_ms + ts->t.every_ms;
    }
    /* Per-request failures are in res; only a batch that could not run at all is reported. */
    sw_http_client_fetch_all(p->http, rqs, n_due, res, NULL);
    for (size_t k = 0; k < n_due; k++) {
        deliver(&p->targets[which[k]].t, &res[k], now_ms, sink, ctx);
        sw_http_fetch_result_fini(&res[k]);
    }
out:
    free(rqs);
    free(res);
    free(which);
    return st;
}
