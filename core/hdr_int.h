/*
 * The histogram's layout, shared by hdr.c, hdr_sparse.c, hdr_range.c and hdr_codec.c only. Bucket
 * arithmetic follows HdrHistogram: sub-buckets of 2^(digits precision) values, doubling bucket
 * widths, the first bucket split in two halves so counts_len = (bucket_count + 1) *
 * sub_bucket_half_count.
 *
 * Counts are held one of three ways. Compact: the recorded buckets only, as sorted (index, count)
 * pairs, 12 bytes a bucket: a 10 s interval touches a few hundred of the latency layout's 23,552
 * buckets, spread over thousands. Dense: one count for every bucket of a contiguous range of
 * indices [c_lo, c_lo + c_n) that covers every recorded bucket, 8 bytes a slot; the range grows on
 * demand in either direction with slack (sw_hdr_range_cover: amortised, clamped to the layout),
 * so memory follows the range used and adding k sorted buckets is O(k). A real latency
 * distribution covers a few of the layout's 32 octaves: a month of it fills a range of 5,000 to
 * 8,000 buckets, not the whole layout. Paged (hdr_paged.c): such a range cut into pages of 64
 * slots, each held at the width its largest count needs (1, 2, 4 or 8 bytes), with per-page
 * totals: memory follows the counts' magnitudes, for histograms that live long and are fed by
 * merges (windows), where the hot recording paths keep the dense range.
 *
 * A histogram starts compact and turns dense (recorded value by value, or fed dense histograms)
 * or paged (fed bucket lists or paged histograms) when the range its pairs span would cost at
 * most twice their bytes (from RANGE_MIN_PAIRS pairs on: below that the pairs are cheap whatever
 * they span), or when they pass sw_hdr_sp_max, where binary search and insertion would cost
 * more than they save; a reset clears a range and keeps it (scratch histograms reset between
 * uses allocate nothing again). One made by sw_hdr_new_dense holds the whole layout from the
 * start (c_lo 0, c_n counts_len).
 */
#ifndef SLAWATCH_HDR_INT_H
#define SLAWATCH_HDR_INT_H

#include "slawatch/hdr.h"

typedef struct sw_hdr_pages sw_hdr_pages;

struct sw_hdr {
    int64_t lowest_discernible_value;
    int64_t highest_trackable_value;
    /* The small fields share one word, so the header stays 104 bytes with the range's. */
    int8_t significant_figures;
    bool paged;                             /* the counts are in pages (hdr_paged.c) */
    bool fixed_dense;                       /* made dense: a clone holds the whole layout too */
    int8_t sub_bucket_half_count_magnitude; /* log2(sub_bucket_half_count) */
    int16_t unit_magnitude;                 /* floor(log2(lowest)) */
    int16_t bucket_count;
    int32_t sub_bucket_half_count;
    int32_t counts_len;
    int64_t sub_bucket_mask; /* (sub_bucket_count - 1) << unit_magnitude */
    int64_t min_value;       /* smallest non-zero value recorded; INT64_MAX when none */
    int64_t max_value;       /* largest value recorded; 0 when none */
    int64_t total_count;
    int64_t overflow_count;
    int64_t *counts; /* dense: the counts of buckets c_lo ... c_lo + c_n - 1; NULL while compact */
    int32_t c_lo, c_n; /* c_n 0 while compact: one compare finds a recorded value's slot */
    union {
        /* compact: sp_n pairs in one block of room for sp_cap, the counts (none of them zero)
         * followed by their bucket indices (increasing, sw_hdr_sp_index); NULL when dense */
        int64_t *sp_count;
        sw_hdr_pages *pages; /* paged: its directory (sp_n and sp_cap then 0) */
    };
    int32_t sp_n, sp_cap;
};

/* Which of the three forms holds the counts. */
static inline bool
sw_hdr_is_compact(const sw_hdr *h)
{
    return h->counts == NULL && !h->paged;
}

static inline bool
sw_hdr_is_paged(const sw_hdr *h)
{
    return h->paged;
}

static inline uint32_t *
sw_hdr_sp_index(const sw_hdr *h)
{
    /* NULL while no pairs were ever reserved: an offset from NULL is undefined even when 0. */
    return h->sp_count != NULL ? (uint32_t *)(h->sp_count + h->sp_cap) : NULL;
}

/* Compact pairs are worth their search and insertion up to an eighth of the layout: past it
 * the histogram turns dense whatever range they span. */
static inline int32_t
sw_hdr_sp_max(const sw_hdr *h)
{
    return h->counts_len / 8 > 16 ? h->counts_len / 8 : 16;
}

/* True when index lies in a dense histogram's range (never for a compact one). */
static inline bool
sw_hdr_holds(const sw_hdr *h, int32_t index)
{
    return (uint32_t)(index - h->c_lo) < (uint32_t)h->c_n;
}

/* One past the last bucket of a dense histogram's range. */
static inline int32_t
sw_hdr_range_end(const sw_hdr *h)
{
    return h->c_lo + h->c_n;
}

/* The count of bucket index of a dense histogram that holds it. */
static inline int64_t *
sw_hdr_slot(const sw_hdr *h, int32_t index)
{
    return h->counts + (index - h->c_lo);
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

/* Room for need pairs (past sp_max only as sw_hdr_sp_reserve makes it); false when out of
 * memory. */
bool sw_hdr_sp_grow(sw_hdr *h, int32_t need);

/* Drop the compact pairs (the histogram is then empty and compact). */
void sw_hdr_sp_release(sw_hdr *h);

/* Position of the first pair whose index is >= index. */
int32_t sw_hdr_sp_find(const sw_hdr *h, uint32_t index);

/* A pair (index, count > 0) appended to a compact histogram, index past every one it holds,
 * turning dense once a range is preferred (no search, no merge: the caller shrinks the result
 * once, with sw_hdr_range_fit); false when out of memory (nothing changed). */
bool sw_hdr_sp_append(sw_hdr *h, int32_t index, int64_t count);

/* counts[index] += count (count > 0) on a compact histogram, which may turn dense; false when
 * out of memory (nothing changed). */
bool sw_hdr_sp_add(sw_hdr *h, int32_t index, int64_t count);

/* counts[index[j]] += count[j] on a compact histogram (which may turn dense), index increasing;
 * false when out of memory (nothing changed). */
bool sw_hdr_sp_add_sorted(sw_hdr *h, const int32_t *index, const int64_t *count, size_t n);

/* Room for `more` buckets beyond those held, wherever they fall: compact pairs while they cost
 * no more than the whole layout dense, else that; false when out of memory. */
bool sw_hdr_sp_reserve(sw_hdr *h, int64_t more);

/* dst += src's buckets, dst compact, src's indices within dst's layout; false when out of
 * memory (nothing changed). */
bool sw_hdr_sp_merge(sw_hdr *dst, const sw_hdr *src);

/* dst -= src with dst compact; -1 when done, else the index of the first bucket of src that
 * dst holds less of (nothing changed). Pairs that reach zero are removed. */
int32_t sw_hdr_sp_subtract(sw_hdr *dst, const sw_hdr *src);

/* dst += in - out, dst, in and out compact, out's counts checked against dst's first as
 * sw_hdr_sp_subtract does: -1 when done, else the first bucket dst holds less of than out
 * (nothing changed). dst may turn dense. *ret_done false when out of memory (nothing changed). */
int32_t sw_hdr_sp_slide(sw_hdr *dst, const sw_hdr *in, const sw_hdr *out, bool *ret_done);

/* Index of the first pair whose cumulative count reaches rank (1 <= rank <= total). */
int32_t sw_hdr_sp_rank_index(const sw_hdr *h, int64_t rank);

/* Shrink a compact histogram's block to its pairs, as a clone's (a decoded histogram keeps no
 * room to grow); nothing changes when out of memory or already fitting. */
void sw_hdr_sp_fit(sw_hdr *h);

/* Copy the compact pairs of src into dst (which holds none); false when out of memory. */
bool sw_hdr_sp_copy(sw_hdr *dst, const sw_hdr *src);

/* ------------------------------------------------------------------ hdr_paged.c */

/* Turn a compact histogram paged over pages covering its pairs and lo ... hi; false (nothing
 * changed) when out of memory. */
bool sw_hdr_pg_from_pairs(sw_hdr *h, int32_t lo, int32_t hi);

/* counts[index[j]] += count[j] on a paged h, index increasing; false (nothing changed) when out
 * of memory. */
bool sw_hdr_pg_add_sorted(sw_hdr *h, const uint32_t *index, const int64_t *count, size_t n);

/* dst += src's counts (any form, dst's buckets, every one of them within lo ... hi) on a paged
 * dst, page by page; false (nothing changed) when out of memory. */
bool sw_hdr_pg_merge(sw_hdr *dst, const sw_hdr *src, int32_t lo, int32_t hi);

/* dst -= src (any form, every count within lo ... hi) on a paged dst: -1 when done, else the
 * first bucket of src dst holds less of (nothing changed). */
int32_t sw_hdr_pg_subtract(sw_hdr *dst, const sw_hdr *src, int32_t lo, int32_t hi);

/* [*lo, *hi] widened to take in the buckets compact h holds (for a form that replaces them). */
static inline void
sw_hdr_sp_widen(const sw_hdr *h, int32_t *lo, int32_t *hi)
{
    if (h->sp_n == 0)
        return;
    const uint32_t *idx = sw_hdr_sp_index(h);
    if ((int32_t)idx[0] < *lo)
        *lo = (int32_t)idx[0];
    if ((int32_t)idx[h->sp_n - 1] > *hi)
        *hi = (int32_t)idx[h->sp_n - 1];
}

/* A sorted bucket list's entries [*first, *last) between its leading and trailing zero counts;
 * false when every count is zero (nothing to add). */
static inline bool
sw_hdr_nonzero_span(const int64_t *count, size_t n, size_t *first, size_t *last)
{
    size_t f = 0, l = n;
    while (f < n && count[f] == 0)
        f++;
    while (l > f && count[l - 1] == 0)
        l--;
    *first = f;
    *last = l;
    return f < l;
}

/* Index range [*lo, *hi] outside which every count is zero; false when h is empty. Within a
 * dense histogram's range, and tight there (min and max move on values recorded zero times). */
bool sw_hdr_recorded_range(const sw_hdr *h, int32_t *lo, int32_t *hi);

/* Count of bucket index of a paged h. */
int64_t sw_hdr_pg_count(const sw_hdr *h, int32_t index);

/* First bucket at or after from holding values (its count in *ret_count), or -1. */
int32_t sw_hdr_pg_next(const sw_hdr *h, int32_t from, int64_t *ret_count);

/* Last bucket at or before upto holding values, or -1. */
int32_t sw_hdr_pg_last(const sw_hdr *h, int32_t upto);

/* First bucket whose cumulative count reaches rank (1 <= rank <= total). */
int32_t sw_hdr_pg_rank_index(const sw_hdr *h, int64_t rank);

/* Count of the buckets up to index. */
int64_t sw_hdr_pg_count_at_or_below(const sw_hdr *h, int32_t index);

/* dst += src, dst dense over a range covering src's recorded buckets, src paged. */
void sw_hdr_pg_add_into_range(sw_hdr *dst, const sw_hdr *src);

/* First bucket of a paged src where dense dst holds less than src, or -1. */
int32_t sw_hdr_pg_underflow_in(const sw_hdr *dst, const sw_hdr *src);

/* dst -= a paged src, checked first (sw_hdr_pg_underflow_in): dst dense over its buckets. */
void sw_hdr_pg_subtract_from_range(sw_hdr *dst, const sw_hdr *src);

/* sw_hdr_refresh_min_max of a paged h. */
void sw_hdr_pg_refresh_min_max(sw_hdr *h, int32_t lo, int32_t hi);

/* Every count zero, the pages' widths kept (sw_hdr_reset). */
void sw_hdr_pg_clear(sw_hdr *h);

/* Copy the pages of src into dst (which holds none); false when out of memory. */
bool sw_hdr_pg_copy(sw_hdr *dst, const sw_hdr *src);

/* Drop the pages (the histogram is then empty and compact). */
void sw_hdr_pg_release(sw_hdr *h);

/* Bytes the pages take. */
size_t sw_hdr_pg_memory_size(const sw_hdr *h);

/* Turn a paged histogram dense over the whole layout (sw_hdr_reserve); false (nothing changed)
 * when out of memory. */
bool sw_hdr_pg_to_layout(sw_hdr *h);

/* ------------------------------------------------------------------ hdr_range.c */

/* Grow a dense histogram's range to cover buckets lo ... hi (slack added, clamped to the
 * layout); false (nothing changed) when out of memory. */
bool sw_hdr_range_cover(sw_hdr *h, int32_t lo, int32_t hi);

/* Turn a compact histogram dense over a range covering its pairs and lo ... hi; false
 * (nothing changed) when out of memory. */
bool sw_hdr_range_from_pairs(sw_hdr *h, int32_t lo, int32_t hi);

/* True when a compact histogram that would hold need pairs spanning lo ... hi (its own pairs
 * included) is better dense. */
bool sw_hdr_range_preferred(const sw_hdr *h, int64_t need, int32_t lo, int32_t hi);

/* An empty compact histogram sized for need buckets within lo ... hi (sw_hdr_presize): pages
 * over exactly them when preferred, else pairs with an eighth's room to spare; nothing changes
 * when out of memory. */
void sw_hdr_range_presize(sw_hdr *h, int64_t need, int32_t lo, int32_t hi);

/* Copy the dense counts of src (not made dense) into dst (a copy of src's header): a range
 * fitted to the recorded buckets, or compact and empty when none holds values. False when out
 * of memory. */
bool sw_hdr_range_copy(sw_hdr *dst, const sw_hdr *src);

/* The cheaper of pairs and a range for what h holds, without slack (a decoded histogram): compact
 * pairs turned into a range fitted to them when that is preferred, a range shrunk to its
 * recorded buckets; nothing changes when out of memory, already fitting, or made dense. */
void sw_hdr_range_fit(sw_hdr *h);

/*
 * Recompute min_value and max_value from the counts after a bulk change, knowing every non-zero
 * count lies in [lo, hi]; stops at the first non-zero count from each end.
 */
void sw_hdr_refresh_min_max(sw_hdr *h, int32_t lo, int32_t hi);

#endif
