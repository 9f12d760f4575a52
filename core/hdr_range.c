/*
 * Dense histogram storage: the counts of a contiguous range of bucket indices covering every
 * recorded bucket (hdr_int.h). Private to the hdr module. The range grows on demand, with slack
 * in the direction it had to grow, so memory follows the range a distribution uses (a few
 * octaves of the layout's 32) and each slot is copied O(1) times amortised; adding buckets the
 * range holds is an add, as into the whole layout.
 */
#include "hdr_int.h"

#include <stdlib.h>
#include <string.h>

/* Pairs below which a compact histogram stays compact whatever range it spans: they cost under
 * a kilobyte, and a range chosen from so few buckets could grow far as the distribution fills
 * in. */
#define RANGE_MIN_PAIRS 64

/* A range is chosen once its 8-byte slots cost at most this many times the pairs' 12 bytes:
 * a window of a log-normal latency (sigma 0.5) gets there after eight to ten 10 s intervals of
 * 250 values, and no later than that its memory does not grow by turning dense. At four times
 * (three to five intervals) the benchmark's young windows held 1.8 times the memory (412 KiB
 * per service instead of 230) for no saving in the tick; an interval's own 250 values span ten
 * times their pairs and stay compact either way. */
#define RANGE_COST_RATIO 2

/* Slack added on the side a range grows: a sixteenth of the new range, at least this many
 * slots, so growing by one bucket at a time copies each slot a bounded number of times (about
 * sixteen) while a grown range holds little it does not use. */
#define RANGE_SLACK_SHARE 16
#define RANGE_MIN_SLACK 32

/* The block for buckets lo ... hi - 1, holding the counts the old block held there (the rest
 * zero); false (nothing changed) when out of memory. */
static bool
replace_block(sw_hdr *h, int32_t lo, int32_t hi)
{
    int64_t *block = calloc((size_t)(hi - lo), sizeof *block);
    if (block == NULL)
        return false;
    int32_t end = sw_hdr_range_end(h);
    int32_t from = lo > h->c_lo ? lo : h->c_lo, to = hi < end ? hi : end;
    if (h->counts != NULL && from < to)
        memcpy(block + (from - lo), sw_hdr_slot(h, from), (size_t)(to - from) * sizeof *block);
    free(h->counts);
    h->counts = block;
    h->c_lo = lo;
    h->c_n = hi - lo;
    return true;
}

/* Grow the block upwards to end at hi: realloc keeps the counts where they are. */
static bool
extend_block(sw_hdr *h, int32_t hi)
{
    int64_t *block = realloc(h->counts, (size_t)(hi - h->c_lo) * sizeof *block);
    if (block == NULL)
        return false;
    memset(block + h->c_n, 0, (size_t)(hi - sw_hdr_range_end(h)) * sizeof *block);
    h->counts = block;
    h->c_n = hi - h->c_lo;
    return true;
}

/* The range [*ret_lo, *ret_hi) to hold buckets lo ... hi, with slack below when `down` and
 * above when `up`, within the layout. */
static void
with_slack(const sw_hdr *h, int32_t lo, int32_t hi, bool down, bool up, int32_t *ret_lo,
           int32_t *ret_hi)
{
    int32_t span = hi - lo + 1;
    int32_t slack =
        span / RANGE_SLACK_SHARE > RANGE_MIN_SLACK ? span / RANGE_SLACK_SHARE : RANGE_MIN_SLACK;
    *ret_lo = down && lo > slack ? lo - slack : down ? 0 : lo;
    *ret_hi = up && h->counts_len - 1 - hi > slack ? hi + 1 + slack : up ? h->counts_len : hi + 1;
}

bool
sw_hdr_range_cover(sw_hdr *h, int32_t lo, int32_t hi)
{
    bool down = lo < h->c_lo, up = hi >= sw_hdr_range_end(h);
    if (!down && !up)
        return true;
    int32_t new_lo, new_hi;
    with_slack(h, down ? lo : h->c_lo, up ? hi : sw_hdr_range_end(h) - 1, down, up, &new_lo,
               &new_hi);
    if (!down)
        return extend_block(h, new_hi);
    return replace_block(h, new_lo, new_hi);
}

/* The compact pairs moved into a dense range [lo, hi) covering them; false (nothing changed)
 * when out of memory. */
static bool
pairs_to_range(sw_hdr *h, int32_t lo, int32_t hi)
{
    const uint32_t *idx = sw_hdr_sp_index(h);
    int64_t *block = calloc((size_t)(hi - lo), sizeof *block);
    if (block == NULL)
        return false;
    for (int32_t i = 0; i < h->sp_n; i++)
        block[(int32_t)idx[i] - lo] = h->sp_count[i];
    sw_hdr_sp_release(h);
    h->counts = block;
    h->c_lo = lo;
    h->c_n = hi - lo;
    return true;
}

bool
sw_hdr_range_from_pairs(sw_hdr *h, int32_t lo, int32_t hi)
{
    sw_hdr_sp_widen(h, &lo, &hi);
    int32_t new_lo, new_hi;
    with_slack(h, lo, hi, true, true, &new_lo, &new_hi);
    return pairs_to_range(h, new_lo, new_hi);
}

bool
sw_hdr_range_preferred(const sw_hdr *h, int64_t need, int32_t lo, int32_t hi)
{
    if (need > sw_hdr_sp_max(h))
        return true;
    if (need < RANGE_MIN_PAIRS)
        return false;
    sw_hdr_sp_widen(h, &lo, &hi);
    int64_t slots = (int64_t)hi - lo + 1;
    return slots * (int64_t)sizeof(int64_t) <=
           RANGE_COST_RATIO * need * (int64_t)(sizeof(int64_t) + sizeof(uint32_t));
}

void
sw_hdr_range_presize(sw_hdr *h, int64_t need, int32_t lo, int32_t hi)
{
    if (sw_hdr_range_preferred(h, need, lo, hi)) {
        (void)sw_hdr_pg_from_pairs(h, lo, hi); /* a window: paged, as its merges would make it */
        return;
    }
    int64_t room = need + need / 8;
    (void)sw_hdr_sp_grow(h, (int32_t)(room < sw_hdr_sp_max(h) ? room : sw_hdr_sp_max(h)));
}

/* The first and last buckets of a dense h holding values; false when none does. */
static bool
nonzero_bounds(const sw_hdr *h, int32_t *ret_lo, int32_t *ret_hi)
{
    int32_t lo = h->c_lo, hi = sw_hdr_range_end(h) - 1;
    while (lo <= hi && *sw_hdr_slot(h, lo) == 0)
        lo++;
    while (hi >= lo && *sw_hdr_slot(h, hi) == 0)
        hi--;
    *ret_lo = lo;
    *ret_hi = hi;
    return lo <= hi;
}

bool
sw_hdr_range_copy(sw_hdr *dst, const sw_hdr *src)
{
    dst->counts = NULL;
    dst->sp_count = NULL;
    dst->sp_n = dst->sp_cap = 0;
    dst->c_lo = dst->c_n = 0;
    int32_t lo, hi;
    if (!nonzero_bounds(src, &lo, &hi))
        return true; /* nothing recorded: compact and empty */
    dst->counts = malloc((size_t)(hi - lo + 1) * sizeof *dst->counts);
    if (dst->counts == NULL)
        return false;
    dst->c_lo = lo;
    dst->c_n = hi - lo + 1;
    memcpy(dst->counts, sw_hdr_slot(src, lo), (size_t)(hi - lo + 1) * sizeof *dst->counts);
    return true;
}

void
sw_hdr_range_fit(sw_hdr *h)
{
    int32_t lo, hi;
    if (h->counts == NULL && h->sp_n > 0) {
        const uint32_t *idx = sw_hdr_sp_index(h);
        lo = (int32_t)idx[0];
        hi = (int32_t)idx[h->sp_n - 1];
        if (sw_hdr_range_preferred(h, h->sp_n, lo, hi))
            (void)pairs_to_range(h, lo, hi + 1); /* out of memory: the pairs stay, correct */
        return;
    }
    if (h->counts == NULL || h->fixed_dense)
        return;
    if (!nonzero_bounds(h, &lo, &hi)) {
        free(h->counts);
        h->counts = NULL;
        h->c_lo = h->c_n = 0;
        return;
    }
    if (lo == h->c_lo && hi + 1 == sw_hdr_range_end(h))
        return;
    /* In place: the counts moved to the block's start, the block shrunk (realloc to a smaller
     * size does not fail in glibc; if it did, the block is kept, as big as before). */
    int32_t n = hi - lo + 1;
    memmove(h->counts, sw_hdr_slot(h, lo), (size_t)n * sizeof *h->counts);
    h->c_lo = lo;
    h->c_n = n;
    int64_t *block = realloc(h->counts, (size_t)n * sizeof *block);
    if (block != NULL)
        h->counts = block;
}
