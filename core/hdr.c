/*
 * HDR histogram: layout, recording, percentiles, merge and subtract, over any representation
 * of the counts (hdr_int.h: compact pairs, a dense range or pages; hdr_sparse.c keeps the pairs,
 * hdr_range.c the range, hdr_paged.c the pages; hdr_stats.c reads them bucket by bucket). Not
 * thread-safe; callers serialise access. Scans over dense counts run in fixed-size blocks so the
 * compiler can vectorise them: the evaluator asks for percentiles and merges windows every tick.
 */
#include "hdr_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Counts summed per step when scanning for a rank; a multiple of the vector width. */
#define SCAN_BLOCK 32

/*
 * Two counts as one value (an SSE2 register on baseline x86-64, NEON on arm64; GCC and Clang
 * split it elsewhere), so the dense loops below are vectorised without -O3 or machine-specific
 * flags. Loads and stores go through memcpy: counts need no extra alignment.
 */
typedef int64_t vec2 __attribute__((vector_size(16)));
#define VEC_LANES 2

static inline vec2
load2(const int64_t *p)
{
    vec2 v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void
store2(int64_t *p, vec2 v)
{
    memcpy(p, &v, sizeof v);
}

const sw_hdr_config sw_hdr_latency_config = {
    .lowest_discernible_value = SW_HDR_LATENCY_LOWEST_US,
    .highest_trackable_value = SW_HDR_LATENCY_HIGHEST_US,
    .significant_figures = SW_HDR_LATENCY_DIGITS,
};

/* Fill the layout fields of h from cfg, or say which field is wrong. */
static sw_status
layout_from_config(const sw_hdr_config *cfg, sw_hdr *h, sw_err *err)
{
    int64_t lowest = cfg->lowest_discernible_value, highest = cfg->highest_trackable_value;
    if (lowest < 1)
        return sw_err_set(err, SW_E_INVAL, "lowest discernible value %lld must be >= 1",
                          (long long)lowest);
    if (cfg->significant_figures < 1 || cfg->significant_figures > 5)
        return sw_err_set(err, SW_E_INVAL, "significant figures %d must be within 1...5",
                          cfg->significant_figures);
    if (highest / 2 < lowest)
        return sw_err_set(err, SW_E_INVAL,
                          "highest trackable value %lld must be >= 2 * lowest (%lld)",
                          (long long)highest, (long long)lowest);
    int64_t single_unit_resolution = 2;
    for (int d = 0; d < cfg->significant_figures; d++)
        single_unit_resolution *= 10;
    int32_t sub_bucket_count_magnitude = 64 - __builtin_clzll((uint64_t)single_unit_resolution - 1);
    int32_t half_magnitude = sub_bucket_count_magnitude - 1;
    int32_t unit_magnitude = 63 - __builtin_clzll((uint64_t)lowest);
    if (unit_magnitude + half_magnitude > 61)
        return sw_err_set(err, SW_E_INVAL,
                          "%d significant figures cannot be represented above lowest value %lld",
                          cfg->significant_figures, (long long)lowest);
    int32_t sub_bucket_count = INT32_C(1) << (half_magnitude + 1);
    int64_t smallest_untrackable = (int64_t)sub_bucket_count << unit_magnitude;
    int32_t bucket_count = 1;
    while (smallest_untrackable <= highest) {
        bucket_count++;
        if (smallest_untrackable > INT64_MAX / 2)
            break;
        smallest_untrackable <<= 1;
    }
    h->lowest_discernible_value = lowest;
    h->highest_trackable_value = highest;
    h->significant_figures = (int8_t)cfg->significant_figures;
    h->unit_magnitude = (int16_t)unit_magnitude;
    h->sub_bucket_half_count_magnitude = (int8_t)half_magnitude;
    h->sub_bucket_half_count = sub_bucket_count / 2;
    h->sub_bucket_mask = (int64_t)(sub_bucket_count - 1) << unit_magnitude;
    h->bucket_count = (int16_t)bucket_count;
    h->counts_len = (bucket_count + 1) * (sub_bucket_count / 2);
    return SW_OK;
}

sw_status
sw_hdr_config_check(const sw_hdr_config *cfg, sw_err *err)
{
    sw_hdr layout = {0};
    return layout_from_config(cfg, &layout, err);
}

size_t
sw_hdr_config_memory_size(const sw_hdr_config *cfg)
{
    sw_hdr layout = {0};
    if (layout_from_config(cfg, &layout, NULL) != SW_OK)
        return 0;
    return sizeof layout + (size_t)layout.counts_len * sizeof(int64_t);
}

static sw_status
new_compact(const sw_hdr_config *cfg, sw_hdr **ret_h, sw_err *err)
{
    sw_hdr layout = {0};
    sw_status st = layout_from_config(cfg, &layout, err);
    if (st != SW_OK)
        return st;
    sw_hdr *h = malloc(sizeof *h);
    if (h == NULL)
        return sw_err_set(err, SW_E_NOMEM, "cannot allocate a histogram");
    *h = layout;
    h->min_value = INT64_MAX;
    *ret_h = h;
    return SW_OK;
}

sw_status
sw_hdr_new(const sw_hdr_config *cfg, sw_hdr **ret_h, sw_err *err)
{
    return new_compact(cfg, ret_h, err);
}

sw_status
sw_hdr_new_dense(const sw_hdr_config *cfg, sw_hdr **ret_h, sw_err *err)
{
    sw_hdr *h;
    sw_status st = new_compact(cfg, &h, err);
    if (st != SW_OK)
        return st;
    h->counts = calloc((size_t)h->counts_len, sizeof(int64_t));
    if (h->counts == NULL) {
        free(h);
        return sw_err_set(err, SW_E_NOMEM, "cannot allocate a %zu-byte histogram",
                          sw_hdr_config_memory_size(cfg));
    }
    h->fixed_dense = true;
    h->c_n = h->counts_len;
    *ret_h = h;
    return SW_OK;
}

size_t
sw_hdr_memory_size(const sw_hdr *h)
{
    if (h->counts != NULL)
        return sizeof *h + (size_t)h->c_n * sizeof h->counts[0];
    if (sw_hdr_is_paged(h))
        return sizeof *h + sw_hdr_pg_memory_size(h);
    return sizeof *h + (size_t)h->sp_cap * (sizeof(uint32_t) + sizeof(int64_t));
}


sw_hdr *
sw_hdr_clone(const sw_hdr *src)
{
    sw_hdr *h = malloc(sizeof *h);
    if (h == NULL)
        return NULL;
    *h = *src;
    if (!src->fixed_dense) {
        bool copied = sw_hdr_is_compact(src) ? sw_hdr_sp_copy(h, src)
                      : sw_hdr_is_paged(src) ? sw_hdr_pg_copy(h, src)
                                             : sw_hdr_range_copy(h, src);
        if (!copied) {
            free(h);
            return NULL;
        }
        return h;
    }
    h->counts = calloc((size_t)src->counts_len, sizeof(int64_t));
    if (h->counts == NULL) {
        free(h);
        return NULL;
    }
    /* Only the recorded range: the other pages stay unbacked. */
    int32_t lo, hi;
    if (sw_hdr_recorded_range(src, &lo, &hi))
        memcpy(h->counts + lo, src->counts + lo, (size_t)(hi - lo + 1) * sizeof h->counts[0]);
    return h;
}

void
sw_hdr_free(sw_hdr *h)
{
    if (h == NULL)
        return;
    free(h->counts);
    if (sw_hdr_is_paged(h))
        sw_hdr_pg_release(h);
    else
        sw_hdr_sp_release(h);
    free(h);
}

void
sw_hdr_reset(sw_hdr *h)
{
    int32_t lo, hi;
    /* A dense histogram keeps its range, cleared where it holds values: a scratch histogram
     * reset between uses then needs no allocation (and no pairs grown again) at the next. */
    if (h->counts != NULL && sw_hdr_recorded_range(h, &lo, &hi))
        memset(sw_hdr_slot(h, lo), 0, (size_t)(hi - lo + 1) * sizeof h->counts[0]);
    if (sw_hdr_is_paged(h))
        sw_hdr_pg_clear(h);
    h->sp_n = 0;
    h->min_value = INT64_MAX;
    h->max_value = 0;
    h->total_count = 0;
    h->overflow_count = 0;
}

sw_status
sw_hdr_reserve(sw_hdr *h, int64_t buckets, sw_err *err)
{
    if (!sw_hdr_sp_reserve(h, buckets))
        return sw_err_set(err, SW_E_NOMEM, "cannot make room for %lld histogram buckets",
                          (long long)buckets);
    return SW_OK;
}

void
sw_hdr_presize(sw_hdr *h, int64_t buckets, int64_t lo, int64_t hi)
{
    bool empty = sw_hdr_is_compact(h) && h->sp_n == 0;
    if (!empty || buckets <= 0 || lo < 0 || hi < lo || hi > h->highest_trackable_value)
        return;
    sw_hdr_range_presize(h, buckets, sw_hdr_counts_index(h, lo), sw_hdr_counts_index(h, hi));
}

int64_t
sw_hdr_recorded_buckets(const sw_hdr *h)
{
    if (sw_hdr_is_compact(h))
        return h->sp_n;
    int64_t n = 0;
    sw_hdr_iter it;
    sw_hdr_iter_init(&it, h);
    while (sw_hdr_iter_next(&it))
        n++;
    return n;
}

int64_t
sw_hdr_count_at_index(const sw_hdr *h, int32_t index)
{
    if (h->counts != NULL)
        return sw_hdr_holds(h, index) ? *sw_hdr_slot(h, index) : 0;
    if (sw_hdr_is_paged(h))
        return sw_hdr_pg_count(h, index);
    int32_t pos = sw_hdr_sp_find(h, (uint32_t)index);
    return pos < h->sp_n && sw_hdr_sp_index(h)[pos] == (uint32_t)index ? h->sp_count[pos] : 0;
}

sw_hdr_config
sw_hdr_get_config(const sw_hdr *h)
{
    return (sw_hdr_config){
        .lowest_discernible_value = h->lowest_discernible_value,
        .highest_trackable_value = h->highest_trackable_value,
        .significant_figures = h->significant_figures,
    };
}

bool
sw_hdr_same_layout(const sw_hdr *a, const sw_hdr *b)
{
    return a->unit_magnitude == b->unit_magnitude &&
           a->sub_bucket_half_count_magnitude == b->sub_bucket_half_count_magnitude &&
           a->counts_len == b->counts_len;
}

bool
sw_hdr_has_config(const sw_hdr *h, const sw_hdr_config *cfg)
{
    sw_hdr_config c = sw_hdr_get_config(h);
    return c.lowest_discernible_value == cfg->lowest_discernible_value &&
           c.highest_trackable_value == cfg->highest_trackable_value &&
           c.significant_figures == cfg->significant_figures;
}

/* ------------------------------------------------------------------ recording */

/*
 * One value into a compact histogram. One recorded value by value into this many buckets is on
 * a hot recording path (an interval gathered from thousands of requests, a spread classic
 * histogram, a benchmark): it turns dense, where a record is an add instead of a search and an
 * insertion (past this, those cost more than clearing a dense range). Histograms that live long
 * (windows, open intervals) are fed by merges, not here.
 */
#define RECORD_DENSE_BUCKETS 512

/* A value outside the dense range, or into a compact histogram. Out of line: the dense path of
 * record_count stays a few instructions. */
__attribute__((noinline)) static bool
record_slow(sw_hdr *h, int32_t index, int64_t count)
{
    if (sw_hdr_is_paged(h)) {
        uint32_t at = (uint32_t)index;
        return sw_hdr_pg_add_sorted(h, &at, &count, 1);
    }
    if (h->counts != NULL) {
        if (!sw_hdr_range_cover(h, index, index))
            return false;
    } else if (h->sp_n < RECORD_DENSE_BUCKETS || !sw_hdr_range_from_pairs(h, index, index)) {
        return sw_hdr_sp_add(h, index, count);
    }
    *sw_hdr_slot(h, index) += count;
    return true;
}

static inline bool
record_count(sw_hdr *h, int64_t value, int64_t count)
{
    /* One unsigned compare rejects both negative and too-large values. */
    if ((uint64_t)value > (uint64_t)h->highest_trackable_value) {
        h->overflow_count += count;
        return false;
    }
    int32_t index = sw_hdr_counts_index(h, value);
    if (__builtin_expect(sw_hdr_holds(h, index), 1)) {
        *sw_hdr_slot(h, index) += count;
    } else if (count != 0 && !record_slow(h, index, count)) {
        h->overflow_count += count; /* out of memory: reported as not stored */
        return false;
    }
    h->total_count += count;
    if (value > h->max_value)
        h->max_value = value;
    if (value < h->min_value && value != 0)
        h->min_value = value;
    return true;
}

bool
sw_hdr_record(sw_hdr *h, int64_t value)
{
    return record_count(h, value, 1);
}

bool
sw_hdr_record_n(sw_hdr *h, int64_t value, int64_t count)
{
    if (count < 0)
        return false;
    return record_count(h, value, count);
}

/* Sorted buckets merged in one pass; the chunk keeps their indices. */
#define SORTED_CHUNK 256

/* counts[index[j]] += count[j] on a dense h, index increasing: the range grown once to cover
 * them; false (nothing changed) when out of memory. */
static bool
dense_add_sorted(sw_hdr *h, const int32_t *index, const int64_t *count, size_t n)
{
    size_t first, last;
    if (!sw_hdr_nonzero_span(count, n, &first, &last))
        return true;
    if (!sw_hdr_range_cover(h, index[first], index[last - 1]))
        return false;
    for (size_t j = first; j < last; j++)
        *sw_hdr_slot(h, index[j]) += count[j];
    return true;
}

static bool
add_sorted_chunk(sw_hdr *h, const int64_t *values, const int64_t *counts, size_t n)
{
    int32_t index[SORTED_CHUNK];
    int64_t total = 0;
    for (size_t j = 0; j < n; j++) {
        if ((uint64_t)values[j] > (uint64_t)h->highest_trackable_value || counts[j] < 0)
            return false;
        index[j] = sw_hdr_counts_index(h, values[j]);
        if (j > 0 && index[j] <= index[j - 1])
            return false;
        total += counts[j];
    }
    /* Indices are never negative: the unsigned view of the same array for the paged form. */
    if (!(h->counts != NULL ? dense_add_sorted(h, index, counts, n)
          : sw_hdr_is_paged(h)
              ? sw_hdr_pg_add_sorted(h, (const uint32_t *)(const void *)index, counts, n)
              : sw_hdr_sp_add_sorted(h, index, counts, n)))
        return false;
    h->total_count += total;
    /* The values are sorted (their indices increase): the last is the largest, the first
     * non-zero the least non-zero (a value 0 is at most the first). */
    if (n > 0 && values[n - 1] > h->max_value)
        h->max_value = values[n - 1];
    int64_t least = n > 0 && values[0] != 0 ? values[0] : n > 1 ? values[1] : 0;
    if (least != 0 && least < h->min_value)
        h->min_value = least;
    return true;
}

void
sw_hdr_record_sorted(sw_hdr *h, const int64_t *values, const int64_t *counts, size_t n)
{
    for (size_t done = 0; done < n;) {
        size_t m = n - done < SORTED_CHUNK ? n - done : SORTED_CHUNK;
        /* Values out of order or range (or no memory): one at a time, as sw_hdr_record_n. */
        if (!add_sorted_chunk(h, values + done, counts + done, m))
            for (size_t j = done; j < done + m; j++)
                if (counts[j] >= 0)
                    record_count(h, values[j], counts[j]);
        done += m;
    }
}

bool
sw_hdr_record_corrected(sw_hdr *h, int64_t value, int64_t count, int64_t expected_interval)
{
    if (!sw_hdr_record_n(h, value, count))
        return false;
    if (expected_interval <= 0)
        return true;
    for (int64_t missing = value - expected_interval; missing >= expected_interval;
         missing -= expected_interval)
        record_count(h, missing, count);
    return true;
}

/* ------------------------------------------------------------------ bucket arithmetic */

static int32_t
bucket_of(const sw_hdr *h, int64_t value)
{
    int32_t pow2ceiling = 64 - __builtin_clzll((uint64_t)(value | h->sub_bucket_mask));
    return pow2ceiling - h->unit_magnitude - (h->sub_bucket_half_count_magnitude + 1);
}

static int64_t
equivalent_range_size(const sw_hdr *h, int64_t value)
{
    int32_t bucket = bucket_of(h, value);
    int64_t sub_bucket = value >> (bucket + h->unit_magnitude);
    if (sub_bucket >= 2 * (int64_t)h->sub_bucket_half_count)
        bucket++;
    return INT64_C(1) << (h->unit_magnitude + bucket);
}

int64_t
sw_hdr_lowest_equivalent(const sw_hdr *h, int64_t value)
{
    int32_t bucket = bucket_of(h, value);
    int64_t sub_bucket = value >> (bucket + h->unit_magnitude);
    return sub_bucket << (bucket + h->unit_magnitude);
}

int64_t
sw_hdr_highest_equivalent(const sw_hdr *h, int64_t value)
{
    /* Subtract first: in the top bucket of a full-range histogram lo + size passes 2^63. */
    return sw_hdr_lowest_equivalent(h, value) + (equivalent_range_size(h, value) - 1);
}

int64_t
sw_hdr_median_equivalent(const sw_hdr *h, int64_t value)
{
    return sw_hdr_lowest_equivalent(h, value) + (equivalent_range_size(h, value) >> 1);
}

/* ------------------------------------------------------------------ scans */

bool
sw_hdr_recorded_range(const sw_hdr *h, int32_t *lo, int32_t *hi)
{
    if (h->total_count == 0)
        return false;
    *lo = sw_hdr_count_at_index(h, 0) != 0 || h->min_value == INT64_MAX
              ? 0
              : sw_hdr_counts_index(h, h->min_value);
    *hi = sw_hdr_counts_index(h, h->max_value);
    if (h->counts == NULL) /* compact or paged: not tightened, a bound is all callers need */
        return true;
    *lo = *lo > h->c_lo ? *lo : h->c_lo;
    *hi = *hi < sw_hdr_range_end(h) - 1 ? *hi : sw_hdr_range_end(h) - 1;
    while (*lo < *hi && *sw_hdr_slot(h, *lo) == 0)
        ++*lo;
    while (*hi > *lo && *sw_hdr_slot(h, *hi) == 0)
        --*hi;
    return true;
}

static inline int64_t
block_sum(const int64_t *c)
{
    /* Two accumulators: independent adds overlap in the pipeline. */
    vec2 a = load2(c), b = load2(c + VEC_LANES);
    for (int k = 2 * VEC_LANES; k < SCAN_BLOCK; k += 2 * VEC_LANES) {
        a += load2(c + k);
        b += load2(c + k + VEC_LANES);
    }
    a += b;
    return a[0] + a[1];
}

/* First index from lo whose cumulative count (from lo) reaches rank. */
static int32_t
rank_index_upward(const sw_hdr *h, int64_t rank, int32_t lo, int32_t hi)
{
    int64_t acc = 0;
    int32_t i = lo;
    for (; i + SCAN_BLOCK - 1 <= hi; i += SCAN_BLOCK) {
        int64_t s = block_sum(sw_hdr_slot(h, i));
        if (acc + s >= rank)
            break;
        acc += s;
    }
    for (; i <= hi; i++) {
        acc += *sw_hdr_slot(h, i);
        if (acc >= rank)
            return i;
    }
    return hi;
}

/* Lowest index whose count plus everything above it exceeds `above` (walking down from hi). */
static int32_t
rank_index_downward(const sw_hdr *h, int64_t above, int32_t lo, int32_t hi)
{
    int64_t acc = 0;
    int32_t i = hi;
    for (; i - SCAN_BLOCK + 1 >= lo; i -= SCAN_BLOCK) {
        int64_t s = block_sum(sw_hdr_slot(h, i - SCAN_BLOCK + 1));
        if (acc + s > above)
            break;
        acc += s;
    }
    for (; i >= lo; i--) {
        acc += *sw_hdr_slot(h, i);
        if (acc > above)
            return i;
    }
    return lo;
}

/* First index whose cumulative count reaches rank (1 <= rank <= total), from the nearer end. */
static int32_t
index_of_rank(const sw_hdr *h, int64_t rank)
{
    if (sw_hdr_is_paged(h))
        return sw_hdr_pg_rank_index(h, rank);
    if (h->counts == NULL)
        return sw_hdr_sp_rank_index(h, rank);
    int32_t lo, hi;
    sw_hdr_recorded_range(h, &lo, &hi);
    if (rank <= h->total_count / 2)
        return rank_index_upward(h, rank, lo, hi);
    return rank_index_downward(h, h->total_count - rank, lo, hi);
}

int64_t
sw_hdr_percentile_rank(double percentile, int64_t total)
{
    double p = nextafter(percentile, -INFINITY);
    p = p > 0.0 ? (p < 100.0 ? p : 100.0) : 0.0; /* also maps NaN to 0 */
    int64_t rank = (int64_t)ceil((p * (double)total) / 100.0);
    return rank < 1 ? 1 : rank > total ? total : rank;
}

int64_t
sw_hdr_value_at_percentile(const sw_hdr *h, double percentile)
{
    if (h->total_count == 0)
        return 0;
    int64_t rank = sw_hdr_percentile_rank(percentile, h->total_count);
    int64_t value = sw_hdr_value_from_index(h, index_of_rank(h, rank));
    if (percentile == 0.0)
        return sw_hdr_lowest_equivalent(h, value);
    return sw_hdr_highest_equivalent(h, value);
}

/* Sum of counts[lo..hi]. */
static int64_t
range_sum(const sw_hdr *h, int32_t lo, int32_t hi)
{
    int64_t s = 0;
    int32_t i = lo;
    for (; i + SCAN_BLOCK - 1 <= hi; i += SCAN_BLOCK)
        s += block_sum(sw_hdr_slot(h, i));
    for (; i <= hi; i++)
        s += *sw_hdr_slot(h, i);
    return s;
}

/* The compact pairs' count at or below index: whichever side is shorter. */
static int64_t
sp_count_at_or_below(const sw_hdr *h, int32_t index)
{
    int32_t pos = sw_hdr_sp_find(h, (uint32_t)index);
    int32_t end = pos < h->sp_n && sw_hdr_sp_index(h)[pos] == (uint32_t)index ? pos + 1 : pos;
    int64_t s = 0;
    if (end <= h->sp_n - end) {
        for (int32_t i = 0; i < end; i++)
            s += h->sp_count[i];
        return s;
    }
    for (int32_t i = end; i < h->sp_n; i++)
        s += h->sp_count[i];
    return h->total_count - s;
}

int64_t
sw_hdr_count_at_or_below(const sw_hdr *h, int64_t value)
{
    int32_t lo, hi;
    if (value < 0 || !sw_hdr_recorded_range(h, &lo, &hi))
        return 0;
    if (value >= h->max_value)
        return h->total_count;
    int32_t index = sw_hdr_counts_index(h, value);
    if (index < lo)
        return 0;
    if (sw_hdr_is_paged(h))
        return sw_hdr_pg_count_at_or_below(h, index);
    if (h->counts == NULL)
        return sp_count_at_or_below(h, index);
    if (index >= hi)
        return h->total_count;
    /* Sum whichever side of index is shorter. */
    if (index - lo <= hi - index)
        return range_sum(h, lo, index);
    return h->total_count - range_sum(h, index + 1, hi);
}

double
sw_hdr_percentile_of_value(const sw_hdr *h, int64_t value)
{
    if (h->total_count == 0)
        return 100.0;
    return 100.0 * (double)sw_hdr_count_at_or_below(h, value) / (double)h->total_count;
}

/* ------------------------------------------------------------------ merge and subtract */

static void
add_min_max(sw_hdr *dst, const sw_hdr *src)
{
    if (src->max_value > dst->max_value)
        dst->max_value = src->max_value;
    if (src->min_value < dst->min_value)
        dst->min_value = src->min_value;
}

/* d[i] += s[i] for the n counts from d and s. */
static void
add_counts(int64_t *d, const int64_t *s, int32_t n)
{
    int32_t i = 0;
    for (; i + VEC_LANES <= n; i += VEC_LANES)
        store2(d + i, load2(d + i) + load2(s + i));
    for (; i < n; i++)
        d[i] += s[i];
}

static void
subtract_counts(int64_t *d, const int64_t *s, int32_t n)
{
    int32_t i = 0;
    for (; i + VEC_LANES <= n; i += VEC_LANES)
        store2(d + i, load2(d + i) - load2(s + i));
    for (; i < n; i++)
        d[i] -= s[i];
}

/* dst += src's counts, both of the same buckets, dst dense; false (nothing changed) when dst's
 * range cannot grow to src's recorded buckets lo ... hi. */
static bool
add_into_dense(sw_hdr *dst, const sw_hdr *src, int32_t lo, int32_t hi)
{
    const uint32_t *idx = sw_hdr_is_compact(src) ? sw_hdr_sp_index(src) : NULL;
    if (idx != NULL && src->sp_n > 0) {
        lo = (int32_t)idx[0];
        hi = (int32_t)idx[src->sp_n - 1];
    }
    if (!sw_hdr_range_cover(dst, lo, hi))
        return false;
    if (src->counts != NULL) /* src may be dst: its slots are read after the cover */
        add_counts(sw_hdr_slot(dst, lo), sw_hdr_slot(src, lo), hi - lo + 1);
    else if (sw_hdr_is_paged(src))
        sw_hdr_pg_add_into_range(dst, src);
    else
        for (int32_t i = 0; i < src->sp_n; i++)
            *sw_hdr_slot(dst, (int32_t)idx[i]) += src->sp_count[i];
    return true;
}

/* True when src's buckets up to hi are dst's buckets at the same indices. */
static bool
shares_buckets(const sw_hdr *dst, const sw_hdr *src, int32_t hi)
{
    return dst->unit_magnitude == src->unit_magnitude &&
           dst->sub_bucket_half_count_magnitude == src->sub_bucket_half_count_magnitude &&
           hi < dst->counts_len;
}

void
sw_hdr_add(sw_hdr *dst, const sw_hdr *src)
{
    int32_t lo, hi;
    dst->overflow_count += src->overflow_count;
    if (!sw_hdr_recorded_range(src, &lo, &hi))
        return;
    if (!shares_buckets(dst, src, hi)) {
        sw_hdr_iter it;
        sw_hdr_iter_init(&it, src);
        while (sw_hdr_iter_next(&it))
            record_count(dst, it.value_lo, it.count);
        return;
    }
    bool added = dst->counts != NULL   ? add_into_dense(dst, src, lo, hi)
                 : sw_hdr_is_paged(dst) ? sw_hdr_pg_merge(dst, src, lo, hi)
                                        : sw_hdr_sp_merge(dst, src);
    if (!added) {
        dst->overflow_count += src->total_count; /* out of memory: reported as not stored */
        return;
    }
    dst->total_count += src->total_count;
    add_min_max(dst, src);
}

sw_status
sw_hdr_add_grow(sw_hdr **acc, const sw_hdr *src, sw_err *err)
{
    sw_hdr *dst = *acc;
    int64_t src_max = sw_hdr_max(src);
    if (src_max <= dst->highest_trackable_value) {
        sw_hdr_add(dst, src);
        return SW_OK;
    }
    sw_hdr_config wider = sw_hdr_get_config(dst);
    wider.highest_trackable_value = src_max;
    sw_hdr *grown;
    sw_status st = sw_hdr_new(&wider, &grown, err);
    if (st != SW_OK)
        return st;
    sw_hdr_add(grown, dst);
    sw_hdr_add(grown, src);
    sw_hdr_free(dst);
    *acc = grown;
    return SW_OK;
}

/* First of the n buckets from d and s where d's count is below s's, or -1 (an offset). */
static int32_t
first_below(const int64_t *d, const int64_t *s, int32_t n)
{
    /* OR of the differences: the sign bit is set iff some difference is negative. Branch-free,
     * so it vectorises; the exact place is searched only on failure. */
    vec2 any2 = {0, 0};
    int32_t i = 0;
    for (; i + VEC_LANES <= n; i += VEC_LANES)
        any2 |= load2(d + i) - load2(s + i);
    int64_t any = any2[0] | any2[1];
    for (; i < n; i++)
        any |= d[i] - s[i];
    if (any >= 0)
        return -1;
    for (i = 0; i < n; i++)
        if (d[i] < s[i])
            return i;
    return -1;
}

/* First index in src's recorded buckets lo ... hi where dense dst's count is below src's
 * (dense too), or -1. Outside dst's range dst holds nothing: any count of src there is. */
static int32_t
first_underflow(const sw_hdr *dst, const sw_hdr *src, int32_t lo, int32_t hi)
{
    int32_t from = lo > dst->c_lo ? lo : dst->c_lo,
            to = hi < sw_hdr_range_end(dst) - 1 ? hi : sw_hdr_range_end(dst) - 1;
    for (int32_t i = lo; i <= hi && i < from; i++)
        if (*sw_hdr_slot(src, i) > 0)
            return i;
    int32_t at = from <= to
                     ? first_below(sw_hdr_slot(dst, from), sw_hdr_slot(src, from), to - from + 1)
                     : -1;
    if (at >= 0)
        return from + at;
    for (int32_t i = to + 1 > lo ? to + 1 : lo; i <= hi; i++)
        if (*sw_hdr_slot(src, i) > 0)
            return i;
    return -1;
}

/* First index of src's buckets (compact or paged) where dense dst's count is below src's, or
 * -1. */
static int32_t
pairs_underflow(const sw_hdr *dst, const sw_hdr *src)
{
    if (sw_hdr_is_paged(src))
        return sw_hdr_pg_underflow_in(dst, src);
    for (int32_t i = 0; i < src->sp_n; i++) {
        int32_t at = (int32_t)sw_hdr_sp_index(src)[i];
        if (sw_hdr_count_at_index(dst, at) < src->sp_count[i])
            return at;
    }
    return -1;
}

/* dst -= src, checked first (first_underflow, pairs_underflow): every count of src lies in
 * dst's range. */
static void
subtract_from_dense(sw_hdr *dst, const sw_hdr *src, int32_t lo, int32_t hi)
{
    if (src->counts != NULL) {
        subtract_counts(sw_hdr_slot(dst, lo), sw_hdr_slot(src, lo), hi - lo + 1);
        return;
    }
    if (sw_hdr_is_paged(src)) {
        sw_hdr_pg_subtract_from_range(dst, src);
        return;
    }
    for (int32_t i = 0; i < src->sp_n; i++)
        *sw_hdr_slot(dst, (int32_t)sw_hdr_sp_index(src)[i]) -= src->sp_count[i];
}

sw_status
sw_hdr_subtract(sw_hdr *dst, const sw_hdr *src, sw_err *err)
{
    int32_t lo = 0, hi = 0;
    bool recorded = sw_hdr_recorded_range(src, &lo, &hi);
    if (!sw_hdr_same_layout(dst, src) && !(recorded && shares_buckets(dst, src, hi)))
        return sw_err_set(err, SW_E_MISMATCH, "cannot subtract histograms of different layouts");
    if (src->overflow_count > dst->overflow_count)
        return sw_err_set(err, SW_E_RANGE, "subtracting %lld overflowed values from %lld",
                          (long long)src->overflow_count, (long long)dst->overflow_count);
    if (!recorded) {
        dst->overflow_count -= src->overflow_count;
        return SW_OK;
    }
    int32_t bad = sw_hdr_is_paged(dst)    ? sw_hdr_pg_subtract(dst, src, lo, hi)
                  : dst->counts == NULL   ? sw_hdr_sp_subtract(dst, src)
                  : src->counts != NULL ? first_underflow(dst, src, lo, hi)
                                          : pairs_underflow(dst, src);
    if (bad >= 0) {
        int64_t v = sw_hdr_value_from_index(dst, bad);
        return sw_err_set(err, SW_E_RANGE, "count at value %lld would go negative (%lld - %lld)",
                          (long long)v, (long long)sw_hdr_count_at_index(dst, bad),
                          (long long)sw_hdr_count_at_index(src, bad));
    }
    int32_t dst_lo = 0, dst_hi = 0;
    sw_hdr_recorded_range(dst, &dst_lo, &dst_hi);
    if (dst->counts != NULL)
        subtract_from_dense(dst, src, lo, hi);
    dst->overflow_count -= src->overflow_count;
    dst->total_count -= src->total_count;
    sw_hdr_refresh_min_max(dst, dst_lo, dst_hi);
    return SW_OK;
}

/* The slide's one pass applies: all three compact, of one layout, nothing overflowed. */
static bool
slides_in_pairs(const sw_hdr *dst, const sw_hdr *in, const sw_hdr *out)
{
    return sw_hdr_is_compact(dst) && sw_hdr_is_compact(in) && sw_hdr_is_compact(out) &&
           sw_hdr_same_layout(dst, in) && sw_hdr_same_layout(dst, out) &&
           in->overflow_count == 0 && out->overflow_count == 0;
}

sw_status
sw_hdr_slide(sw_hdr *dst, const sw_hdr *in, const sw_hdr *out, sw_err *err)
{
    bool done = false;
    int32_t bad = slides_in_pairs(dst, in, out) ? sw_hdr_sp_slide(dst, in, out, &done) : -1;
    if (!done) { /* the general case, or out of memory for the pass */
        sw_status st = sw_hdr_subtract(dst, out, err);
        if (st == SW_OK)
            sw_hdr_add(dst, in);
        return st;
    }
    if (bad >= 0)
        return sw_err_set(err, SW_E_RANGE, "count at value %lld would go negative (%lld - %lld)",
                          (long long)sw_hdr_value_from_index(dst, bad),
                          (long long)sw_hdr_count_at_index(dst, bad),
                          (long long)sw_hdr_count_at_index(out, bad));
    dst->total_count += in->total_count - out->total_count;
    sw_hdr_refresh_min_max(dst, 0, dst->counts_len - 1);
    return SW_OK;
}

/* As below, from the compact pairs (every one of them non-zero). */
static void
refresh_min_max_pairs(sw_hdr *h)
{
    int32_t first = h->sp_n > 0 && sw_hdr_sp_index(h)[0] == 0 ? 1 : 0;
    int32_t last = h->sp_n - 1;
    h->min_value = first < h->sp_n ? sw_hdr_value_from_index(h, (int32_t)sw_hdr_sp_index(h)[first])
                                   : INT64_MAX;
    h->max_value = last >= 0 && sw_hdr_sp_index(h)[last] > 0
                       ? sw_hdr_value_from_index(h, (int32_t)sw_hdr_sp_index(h)[last])
                       : 0;
}

void
sw_hdr_refresh_min_max(sw_hdr *h, int32_t lo, int32_t hi)
{
    if (sw_hdr_is_paged(h)) {
        sw_hdr_pg_refresh_min_max(h, lo, hi);
        return;
    }
    if (h->counts == NULL) {
        refresh_min_max_pairs(h);
        return;
    }
    lo = lo > h->c_lo ? lo : h->c_lo;
    hi = hi < sw_hdr_range_end(h) - 1 ? hi : sw_hdr_range_end(h) - 1;
    /* The minimum ignores bucket 0 (zero is reported through its count, as HdrHistogram does). */
    int32_t first = lo > 0 ? lo : 1;
    while (first <= hi && *sw_hdr_slot(h, first) == 0)
        first++;
    int32_t last = hi;
    while (last > 0 && last >= lo && *sw_hdr_slot(h, last) == 0)
        last--;
    h->min_value = first <= hi ? sw_hdr_value_from_index(h, first) : INT64_MAX;
    h->max_value = last > 0 && last >= lo ? sw_hdr_value_from_index(h, last) : 0;
}
