/*
 * HDR histogram statistics (total, min, max, mean, standard deviation) and the walk over its
 * recorded buckets, whatever holds the counts (hdr.c says which forms there are).
 */
#include "hdr_int.h"

#include <math.h>
#include <string.h>

/* ------------------------------------------------------------------ statistics */

int64_t
sw_hdr_total_count(const sw_hdr *h)
{
    return h->total_count;
}

int64_t
sw_hdr_overflow_count(const sw_hdr *h)
{
    return h->overflow_count;
}

int64_t
sw_hdr_min(const sw_hdr *h)
{
    if (h->total_count == 0 || sw_hdr_count_at_index(h, 0) != 0 || h->min_value == INT64_MAX)
        return 0;
    return sw_hdr_lowest_equivalent(h, h->min_value);
}

int64_t
sw_hdr_max(const sw_hdr *h)
{
    if (h->max_value == 0)
        return 0;
    return sw_hdr_highest_equivalent(h, h->max_value);
}

double
sw_hdr_mean(const sw_hdr *h)
{
    if (h->total_count == 0)
        return 0.0;
    double total = 0.0;
    sw_hdr_iter it;
    sw_hdr_iter_init(&it, h);
    while (sw_hdr_iter_next(&it))
        total += (double)sw_hdr_median_equivalent(h, it.value_lo) * (double)it.count;
    return total / (double)h->total_count;
}

double
sw_hdr_stddev(const sw_hdr *h)
{
    if (h->total_count == 0)
        return 0.0;
    double mean = sw_hdr_mean(h), deviation = 0.0;
    sw_hdr_iter it;
    sw_hdr_iter_init(&it, h);
    while (sw_hdr_iter_next(&it)) {
        double d = (double)sw_hdr_median_equivalent(h, it.value_lo) - mean;
        deviation += d * d * (double)it.count;
    }
    return sqrt(deviation / (double)h->total_count);
}

/* ------------------------------------------------------------------ iteration */

void
sw_hdr_iter_init(sw_hdr_iter *it, const sw_hdr *h)
{
    memset(it, 0, sizeof *it);
    it->h = h;
    it->index = -1;
}

static inline bool iter_step(sw_hdr_iter *it, int32_t i);

bool
sw_hdr_iter_next(sw_hdr_iter *it)
{
    const sw_hdr *h = it->h;
    int32_t i;
    if (sw_hdr_is_paged(h)) {
        i = sw_hdr_pg_next(h, it->index + 1, &it->count);
        return i >= 0 && iter_step(it, i);
    }
    if (h->counts == NULL) {
        if (it->pos >= h->sp_n)
            return false;
        i = (int32_t)sw_hdr_sp_index(h)[it->pos++];
        it->count = h->sp_count[it->pos - 1];
        return iter_step(it, i);
    }
    /* The recorded range cannot change during the walk: find it once, not at every step. */
    if (it->index < 0) {
        if (!sw_hdr_recorded_range(h, &i, &it->end))
            return false;
    } else {
        i = it->index + 1;
    }
    while (i <= it->end && *sw_hdr_slot(h, i) == 0)
        i++;
    if (i > it->end)
        return false;
    it->count = *sw_hdr_slot(h, i);
    return iter_step(it, i);
}

/* The step to bucket i, whose count is set. */
static inline bool
iter_step(sw_hdr_iter *it, int32_t i)
{
    const sw_hdr *h = it->h;
    it->index = i;
    it->cumulative += it->count;
    it->value_lo = sw_hdr_value_from_index(h, i);
    /* The bucket's width from its index, as sw_hdr_value_from_index derives its start. */
    int32_t bucket = (i >> h->sub_bucket_half_count_magnitude) - 1;
    int32_t shift = (bucket < 0 ? 0 : bucket) + h->unit_magnitude;
    it->value_hi = it->value_lo + ((INT64_C(1) << shift) - 1);
    return true;
}
