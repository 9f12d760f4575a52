/*
 * The histogram's layout, shared by hdr.c, hdr_sparse.c and hdr_codec.c only. Bucket arithmetic
 * follows HdrHistogram: sub-buckets of 2^(digits precision) values, doubling bucket widths, the
 * first bucket split in two halves so counts_len = (bucket_count + 1) * sub_bucket_half_count.
 *
 * Counts are held one of two ways. Compact: the recorded buckets only, as sorted (index, count)
 * pairs, 12 bytes a bucket: a 10 s interval touches a few hundred of the latency layout's 23,552
 * buckets. Dense: every bucket, one count each. A histogram starts compact and turns dense once
 * its recorded buckets pass sw_hdr_sp_max, where binary search and insertion would cost more
 * than they save (a reset makes it compact again); one made by sw_hdr_new_dense is dense from
 * the start and stays dense.
 */
#ifndef SLAWATCH_HDR_INT_H
#define SLAWATCH_HDR_INT_H

#include "slawatch/hdr.h"

struct sw_hdr {
    int64_t lowest_discernible_value;
    int64_t highest_trackable_value;
    int16_t significant_figures;
    bool fixed_dense;                        /* made dense: a reset keeps the counts array */
    int32_t unit_magnitude;                  /* floor(log2(lowest)) */
    int32_t sub_bucket_half_count_magnitude; /* log2(sub_bucket_half_count) */
    int32_t sub_bucket_half_count;
    int64_t sub_bucket_mask; /* (sub_bucket_count - 1) << unit_magnitude */
    int32_t bucket_count;
    int32_t counts_len;
    int64_t min_value; /* smallest non-zero value recorded; INT64_MAX when none */
    int64_t max_value; /* largest value recorded; 0 when none */
    int64_t total_count;
    int64_t overflow_count;
    int64_t *counts; /* dense: counts_len counts; NULL while compact */
    /* compact: sp_n pairs in one block of room for sp_cap, the counts (none of them zero)
     * followed by their bucket indices (increasing, sw_hdr_sp_index) */
    int64_t *sp_count;
    int32_t sp_n, sp_cap;
};

static inline uint32_t *
sw_hdr_sp_index(const sw_hdr *h)
{
    /* NULL while no pairs were ever reserved: an offset from NULL is undefined even when 0. */
    return h->sp_count != NULL ? (uint32_t *)(h->sp_count + h->sp_cap) : NULL;
}

/* Compact pairs are worth their search and insertion up to an eighth of the layout: past it
 * the histogram turns dense. */
static inline int32_t
sw_hdr_sp_max(const sw_hdr *h)
{
    return h->counts_len / 8 > 16 ? h->counts_len / 8 : 16;
}

/* Index of the bucket holding value (0 <= value, within the layout). */
static inline int32_t
sw_hdr_counts_index(const sw_hdr *h, int64_t value)
{
    int32_t pow2ceiling = 64 - __builtin_clzll((uint64_t)(value | h->sub_bucket_mask));
    int32_t bucket = pow2ceiling - h->unit_magnitude - (h->sub_bucket_half_count_magnitude + 1);
    int32_t sub_bucket = (int32_t)(value >> (bucket + h->unit_magnitude));
    return ((bucket + 1) << h->sub_bucket_half_count_magnitude) + sub_bucket -
           h->sub_bucket_half_count;
}

/* Lowest value of the bucket at index. */
static inline int64_t
sw_hdr_value_from_index(const sw_hdr *h, int32_t index)
{
    int32_t bucket = (index >> h->sub_bucket_half_count_magnitude) - 1;
    int32_t sub_bucket = (index & (h->sub_bucket_half_count - 1)) + h->sub_bucket_half_count;
    if (bucket < 0) {
        sub_bucket -= h->sub_bucket_half_count;
        bucket = 0;
    }
    return (int64_t)sub_bucket << (bucket + h->unit_magnitude);
}

/* Count of the bucket at index, in either representation. */
int64_t sw_hdr_count_at_index(const sw_hdr *h, int32_t index);

/* ------------------------------------------------------------------ hdr_sparse.c */

/* Turn a compact histogram dense; false (nothing changed) when out of memory. */
bool sw_hdr_sp_densify(sw_hdr *h);

/* Drop the compact pairs (the histogram is then empty and compact). */
void sw_hdr_sp_release(sw_hdr *h);

/* Position of the first pair whose index is >= index. */
int32_t sw_hdr_sp_find(const sw_hdr *h, uint32_t index);

/* counts[index] += count (count > 0) on a compact histogram, which may turn dense; false when
 * out of memory (nothing changed). */
bool sw_hdr_sp_add(sw_hdr *h, int32_t index, int64_t count);

/* counts[index[j]] += count[j] on a compact histogram (which may turn dense), index increasing;
 * false when out of memory (nothing changed). */
bool sw_hdr_sp_add_sorted(sw_hdr *h, const int32_t *index, const int64_t *count, size_t n);

/* Room for `more` buckets beyond those held, turning dense past sp_max; false when out of
 * memory. */
bool sw_hdr_sp_reserve(sw_hdr *h, int64_t more);

/* dst += src's buckets, dst compact, src's indices within dst's layout; false when out of
 * memory (nothing changed). */
bool sw_hdr_sp_merge(sw_hdr *dst, const sw_hdr *src);

/* dst -= src with dst compact; -1 when done, else the index of the first bucket of src that
 * dst holds less of (nothing changed). Pairs that reach zero are removed. */
int32_t sw_hdr_sp_subtract(sw_hdr *dst, const sw_hdr *src);

/* Index of the first pair whose cumulative count reaches rank (1 <= rank <= total). */
int32_t sw_hdr_sp_rank_index(const sw_hdr *h, int64_t rank);

/* Shrink a compact histogram's block to its pairs, as a clone's (a decoded histogram keeps no
 * room to grow); nothing changes when out of memory or already fitting. */
void sw_hdr_sp_fit(sw_hdr *h);

/* Copy the compact pairs of src into dst (which holds none); false when out of memory. */
bool sw_hdr_sp_copy(sw_hdr *dst, const sw_hdr *src);

/*
 * Recompute min_value and max_value from the counts after a bulk change, knowing every non-zero
 * count lies in [lo, hi]; stops at the first non-zero count from each end.
 */
void sw_hdr_refresh_min_max(sw_hdr *h, int32_t lo, int32_t hi);

#endif
