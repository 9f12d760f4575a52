/*
 * Latency accumulators a report's scan merges into, kept for the next service instead of freed.
 *
 * A month's day and environment accumulators hold most of the latency layout's buckets, so each
 * is a dense array of ~188 KB; made afresh for every service (a clone of its first row), their
 * zeroing and first-touch page faults were over a third of a report's CPU. Kept here, one is
 * cleared over its recorded range only and refilled by an exact add of the row it starts from.
 */
#include <stdlib.h>
#include <string.h>

#include "report_int.h"

/* An empty dense latency histogram: a kept one, else a new one. */
static sw_hdr *
pool_take(rp_scan_pool *p)
{
    if (p->n > 0)
        return p->kept[--p->n];
    sw_hdr *h = NULL;
    return sw_hdr_new_dense(&sw_hdr_latency_config, &h, NULL) == SW_OK ? h : NULL;
}

sw_hdr *
sw_report_pool_copy(rp_scan_pool *p, const sw_hdr *h)
{
    if (p == NULL || !sw_hdr_has_config(h, &sw_hdr_latency_config))
        return sw_hdr_clone(h);
    sw_hdr *acc = pool_take(p);
    if (acc != NULL)
        sw_hdr_add(acc, h); /* same layout and range: what a clone would hold */
    return acc;
}

/* Made by sw_hdr_new_dense: a reset keeps its array (a dense clone's reset gives it back). */
static bool
fixed_dense(const sw_hdr *h)
{
    return sw_hdr_has_config(h, &sw_hdr_latency_config) &&
           sw_hdr_memory_size(h) == sw_hdr_config_memory_size(&sw_hdr_latency_config);
}

void
sw_report_pool_put(rp_scan_pool *p, sw_hdr *h)
{
    if (h == NULL)
        return;
    if (p != NULL)
        sw_hdr_reset(h);
    if (p == NULL || !fixed_dense(h)) {
        sw_hdr_free(h);
        return;
    }
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 64;
        sw_hdr **grown = realloc(p->kept, cap * sizeof *grown);
        if (grown == NULL) {
            sw_hdr_free(h);
            return;
        }
        p->kept = grown;
        p->cap = cap;
    }
    p->kept[p->n++] = h;
}

static sw_status
minutes_alloc(rp_minutes *m, size_t n, sw_err *err)
{
    m->n = n;
    m->requests = calloc(n, sizeof *m->requests);
    m->errors = calloc(n, sizeof *m->errors);
    m->probes = calloc(n, sizeof *m->probes);
    m->failures = calloc(n, sizeof *m->failures);
    m->flags = calloc(n, 1);
    if (!m->requests || !m->errors || !m->probes || !m->failures || !m->flags)
        return sw_err_set(err, SW_E_NOMEM, "out of memory for %zu minutes of a report", n);
    return SW_OK;
}

sw_status
sw_report_pool_minutes(rp_scan_pool *p, rp_minutes *m, size_t n, sw_err *err)
{
    if (p == NULL || p->spare.n != n)
        return minutes_alloc(m, n, err);
    *m = p->spare;
    memset(&p->spare, 0, sizeof p->spare);
    memset(m->requests, 0, n * sizeof *m->requests);
    memset(m->errors, 0, n * sizeof *m->errors);
    memset(m->probes, 0, n * sizeof *m->probes);
    memset(m->failures, 0, n * sizeof *m->failures);
    memset(m->flags, 0, n);
    return SW_OK;
}

void
sw_report_pool_put_minutes(rp_scan_pool *p, rp_minutes *m)
{
    bool whole = m->requests && m->errors && m->probes && m->failures && m->flags;
    if (p == NULL || p->spare.n != 0 || !whole) {
        sw_report_minutes_fini(m);
        return;
    }
    p->spare = *m;
    memset(m, 0, sizeof *m);
}

void
sw_report_pool_fini(rp_scan_pool *p)
{
    sw_report_minutes_fini(&p->spare);
    for (size_t i = 0; i < p->n; i++)
        sw_hdr_free(p->kept[i]);
    free(p->kept);
    memset(p, 0, sizeof *p);
}
