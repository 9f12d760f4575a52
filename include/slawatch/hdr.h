/*
 * HDR histogram: counts of integer values (slawatch records latencies in microseconds) in
 * buckets whose width keeps a fixed number of significant decimal digits, with the bucket
 * layout, percentile convention and statistics of the HdrHistogram family (Java, C, JS), so
 * encodings and answers agree with those tools. A histogram holds only the buckets it recorded,
 * or, once that is cheaper, every bucket of the range they span: as 8-byte counts when recorded
 * value by value or fed dense histograms, in pages at the width their counts need when fed
 * bucket lists or paged histograms (a window: memory follows the buckets used and their
 * counts' magnitudes; the answers are the same either way). It is not thread-safe: one owner
 * records into it, others read copies or merged results.
 */
#ifndef SLAWATCH_HDR_H
#define SLAWATCH_HDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slawatch/err.h"

typedef struct sw_hdr sw_hdr;

typedef struct sw_hdr_config {
    int64_t lowest_discernible_value; /* >= 1; values below it share one bucket with 0 */
    int64_t highest_trackable_value;  /* >= 2 * lowest_discernible_value */
    int significant_figures;          /* 1 ... 5 */
} sw_hdr_config;

/* slawatch's latency histogram: microseconds, 1 us ... 1 h, 3 significant digits. */
#define SW_HDR_LATENCY_LOWEST_US INT64_C(1)
#define SW_HDR_LATENCY_HIGHEST_US INT64_C(3600000000)
#define SW_HDR_LATENCY_DIGITS 3

extern const sw_hdr_config sw_hdr_latency_config;

/* Check a configuration without allocating; the message says which field is wrong. */
sw_status sw_hdr_config_check(const sw_hdr_config *cfg, sw_err *err);

/* Bytes a dense histogram of this configuration occupies (0 for an invalid configuration). */
size_t sw_hdr_config_memory_size(const sw_hdr_config *cfg);

/* Allocate an empty histogram. Fails with SW_E_INVAL for a bad configuration. */
sw_status sw_hdr_new(const sw_hdr_config *cfg, sw_hdr **ret_h, sw_err *err);

/* The same, holding every bucket from the start and through resets: for a hot path that
 * records many values into one histogram, and as the reference the compact form is held to. */
sw_status sw_hdr_new_dense(const sw_hdr_config *cfg, sw_hdr **ret_h, sw_err *err);

/* Allocate a copy of src (same configuration and contents). NULL when out of memory. */
sw_hdr *sw_hdr_clone(const sw_hdr *src);

/* Release h; sw_hdr_free(NULL) does nothing. */
void sw_hdr_free(sw_hdr *h);

/* Forget every recorded value, keeping the configuration. */
void sw_hdr_reset(sw_hdr *h);

/*
 * Make room for `buckets` recorded buckets more than h holds, so that adds bringing at most
 * that many new buckets in all cannot run out of memory (for a caller that must not fail
 * half-way). SW_E_NOMEM otherwise, h unchanged in content. Where new buckets fall is not known:
 * a histogram already dense over a range is given the whole layout.
 */
sw_status sw_hdr_reserve(sw_hdr *h, int64_t buckets, sw_err *err);

/*
 * Size an empty h for what it is about to hold: `buckets` recorded buckets whose lowest values
 * run from lo to hi (a window restored from its packed form). Pages over exactly those
 * buckets when a range is preferred for them (no slack: a restored window mostly keeps its
 * span, and grows like any paged histogram when it does not), else room for an eighth more
 * pairs than that. A hint: nothing changes when h holds values, the values lie outside its
 * layout or memory runs out (the adds then grow it as they go).
 */
void sw_hdr_presize(sw_hdr *h, int64_t buckets, int64_t lo, int64_t hi);

/* Number of buckets holding values. */
int64_t sw_hdr_recorded_buckets(const sw_hdr *h);

/* The configuration h was created with. */
sw_hdr_config sw_hdr_get_config(const sw_hdr *h);

/* Bytes h occupies in memory now, counts included. */
size_t sw_hdr_memory_size(const sw_hdr *h);

/* True when a and b have the same bucket layout, so add and subtract are exact and dense. */
bool sw_hdr_same_layout(const sw_hdr *a, const sw_hdr *b);

/* True when h was created with cfg (every field equal). */
bool sw_hdr_has_config(const sw_hdr *h, const sw_hdr_config *cfg);

/*
 * Record value once / count times. Returns false, storing nothing, when value is negative or
 * above the highest trackable value (or memory for a new bucket ran out): such values are added
 * to the overflow count, which is reported, never dropped silently. A negative count is a
 * caller error: false, nothing changes.
 */
bool sw_hdr_record(sw_hdr *h, int64_t value);
bool sw_hdr_record_n(sw_hdr *h, int64_t value, int64_t count);

/*
 * sw_hdr_record_n of each (values[i], counts[i]), for values in increasing order of their
 * buckets, one per bucket (an unpacked histogram): merged in one pass where h holds only its
 * recorded buckets. Same result as recording them one by one.
 */
void sw_hdr_record_sorted(sw_hdr *h, const int64_t *values, const int64_t *counts, size_t n);

/*
 * Record value count times and correct for coordinated omission: when value exceeds
 * expected_interval (> 0), also record value - k * expected_interval for every k >= 1 while
 * that stays >= expected_interval, as a load generator that stalled would have measured.
 * Returns false when value was not storable (counted as overflow, as sw_hdr_record_n).
 */
bool sw_hdr_record_corrected(sw_hdr *h, int64_t value, int64_t count, int64_t expected_interval);

/* Number of recorded values (overflowed values excluded). */
int64_t sw_hdr_total_count(const sw_hdr *h);

/* Number of values that could not be stored (negative, above the highest trackable, or no
 * memory for their bucket). */
int64_t sw_hdr_overflow_count(const sw_hdr *h);

/* Smallest recorded value (lowest equivalent of its bucket); 0 when empty. */
int64_t sw_hdr_min(const sw_hdr *h);

/* Largest recorded value (highest equivalent of its bucket); 0 when empty. */
int64_t sw_hdr_max(const sw_hdr *h);

/* Mean and standard deviation over bucket midpoints, as HdrHistogram computes them; 0 when empty.
 */
double sw_hdr_mean(const sw_hdr *h);
double sw_hdr_stddev(const sw_hdr *h);

/*
 * The value at percentile (0 ... 100), by HdrHistogram's convention: the highest value
 * equivalent to the first bucket whose cumulative count reaches ceil(p/100 * total), p stepped
 * down by one ulp first (the lowest equivalent value for p == 0). 0 when empty.
 */
int64_t sw_hdr_value_at_percentile(const sw_hdr *h, double percentile);
/* That convention's rank, 1 ... total, of percentile among total (> 0) values: for readers that
 * walk buckets held elsewhere (a window's packed intervals) and must answer alike. */
int64_t sw_hdr_percentile_rank(double percentile, int64_t total);

/*
 * Count of recorded values at or below value, at bucket resolution: every value equivalent
 * to value (same bucket) counts, as in HdrHistogram's getCountBetweenValues.
 */
int64_t sw_hdr_count_at_or_below(const sw_hdr *h, int64_t value);

/* 100 * count_at_or_below(value) / total; 100 when empty, as HdrHistogram does. */
double sw_hdr_percentile_of_value(const sw_hdr *h, int64_t value);

/* Bucket arithmetic: the range of values that share value's bucket. */
int64_t sw_hdr_lowest_equivalent(const sw_hdr *h, int64_t value);
int64_t sw_hdr_highest_equivalent(const sw_hdr *h, int64_t value);
int64_t sw_hdr_median_equivalent(const sw_hdr *h, int64_t value);

/*
 * dst += src. When src's buckets are dst's (same lowest value and digits, and src's values
 * within dst's array) the merge is exact and touches only src's recorded range; otherwise each
 * of src's buckets is re-recorded into dst at its lowest equivalent value, as HdrHistogram does
 * (values dst cannot hold go to its overflow count, as do src's values when memory for dst's new
 * buckets runs out: see sw_hdr_reserve). Overflow counts add up.
 */
void sw_hdr_add(sw_hdr *dst, const sw_hdr *src);

/*
 * *acc += src, replacing *acc by a histogram with a higher highest trackable value (same
 * lowest value and digits) when src holds values *acc cannot, as HdrHistogram's auto-resizing
 * histograms do. For merging logs whose intervals were recorded with different ranges.
 * On error *acc is unchanged.
 */
sw_status sw_hdr_add_grow(sw_hdr **acc, const sw_hdr *src, sw_err *err);

/*
 * dst -= src, for sliding windows. Needs src's buckets to be dst's (SW_E_MISMATCH otherwise) and
 * every count of src at most dst's (SW_E_RANGE, naming the first bucket that would go negative); on
 * error dst is unchanged.
 */
sw_status sw_hdr_subtract(sw_hdr *dst, const sw_hdr *src, sw_err *err);

/*
 * dst += in - out, a sliding window's move (the intervals that arrived, those that left): the
 * counts sw_hdr_subtract(dst, out) then sw_hdr_add(dst, in) give, with its errors (out checked
 * against dst before anything changes), in one pass over dst's buckets where all three are
 * compact instead of one per histogram.
 */
sw_status sw_hdr_slide(sw_hdr *dst, const sw_hdr *in, const sw_hdr *out, sw_err *err);

/* Iteration over recorded (non-zero) buckets in increasing value order. */
typedef struct sw_hdr_iter {
    const sw_hdr *h;
    int32_t index;      /* bucket index of the current step */
    int64_t count;      /* values in this bucket */
    int64_t value_lo;   /* lowest value equivalent to the bucket */
    int64_t value_hi;   /* highest value equivalent to the bucket */
    int64_t cumulative; /* values in this bucket and every lower one */
    int32_t end;        /* internal: last bucket index holding values, set by the first step */
    int32_t pos;        /* internal: next recorded bucket of a compact histogram */
} sw_hdr_iter;

void sw_hdr_iter_init(sw_hdr_iter *it, const sw_hdr *h);

/* Advance to the next recorded bucket; false when there is none. */
bool sw_hdr_iter_next(sw_hdr_iter *it);

#endif
