/*
 * The histogram's layout, shared by hdr.c and hdr_codec.c only. Bucket arithmetic follows
 * HdrHistogram: sub-buckets of 2^(digits precision) values, doubling bucket widths, the first
 * bucket split in two halves so counts_len = (bucket_count + 1) * sub_bucket_half_count.
 */
#ifndef SLAWATCH_HDR_INT_H
#define SLAWATCH_HDR_INT_H

#include "slawatch/hdr.h"

struct sw_hdr {
    int64_t lowest_discernible_value;
    int64_t highest_trackable_value;
    int32_t significant_figures;
    int32_t unit_magnitude;                  /* floor(log2(lowest)) */
    int32_t sub_bucket_half_count_magnitude; /* log2(sub_bucket_half_count) */
    int32_t sub_bucket_half_count;
    int64_t sub_bucket_mask; /* (sub_bucket_count - 1) << unit_magnitude */
    int32_t bucket_count;
    int32_t counts_len;
    int64_t min_value;  /* smallest non-zero value recorded; INT64_MAX when none */
    int64_t max_value;  /* largest value recorded; 0 when none */
    int64_t total_count;
    int64_t overflow_count;
    int64_t counts[];
};

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

/*
 * Recompute min_value and max_value from the counts after a bulk change, knowing every non-zero
 * count lies in [lo, hi]; stops at the first non-zero count from each end.
 */
void sw_hdr_refresh_min_max(sw_hdr *h, int32_t lo, int32_t hi);

#endif
