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

/* Does h have slawatch's latency layout, so a kept accumulator can hold it bucket for bucket? */
static bool
latency_layout(const sw_hdr *h)
{
    sw_hdr_config c = sw_hdr_get_config(h);
    return c.lowest_discernible_value == sw_hdr_latency_config.lowest_discernible_value &&
           c.highest_trackable_value == sw_hdr_latency_config.highest_trackable_value &&
           c.significant_figures == sw_hdr_latency_config.significant_figures;
}

/* An empty dense latency histogram: a kept one, else a new one. */
static sw_hdr *
pool_take(rp_hdr_pool *p)
{
    if (p->n > 0)
        return p->kept[--p->n];
    sw_hdr *h = NULL;
    return sw_hdr_new_dense(&sw_hdr_latency_config, &h, NULL) == SW_OK ? h : NULL;
}

sw_hdr *
sw_report_pool_copy(rp_hdr_pool *p, const sw_hdr *h)
{
    if (p == NULL || !latency_layout(h))
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
    return latency_layout(h) &&
           sw_hdr_memory_size(h) == sw_hdr_config_memory_size(&sw_hdr_latency_config);
}

void
sw_report_pool_put(rp_hdr_pool *p, sw_hdr *h)
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

void
sw_report_pool_fini(rp_hdr_pool *p)
{
    for (size_t i = 0; i < p->n; i++)
        sw_hdr_free(p->kept[i]);
    free(p->kept);
    memset(p, 0, sizeof *p);
}
