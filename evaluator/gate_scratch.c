/*
 * The gate's scratch (sw_gate_scratch): the merged latency of the sides a run of answers
 * loaded, kept in slots by series and base intervals, so that a side asked again is brought to
 * its window by the intervals that differ instead of merged again. Within a run that is a
 * series' longer windows (intervals added before the shorter one's) and a baseline asked of
 * itself and compared with; across runs (a tick preparing the answers the next tick prepares
 * again) the intervals that arrived added and those that left subtracted. A slot names its
 * series by id (sw_series.id, never reused), so a series forgotten since is never matched, and
 * the intervals it holds by base sequence number: a series' base intervals are appended and
 * dropped from the front, never changed, so the same numbers are the same histograms.
 */
#include "eval_int.h"
#include "slawatch/canary.h"

#include <stdlib.h>
#include <string.h>

/*
 * Slots kept: the sides of the last few questions. A slot is dense over the whole layout (188 KB,
 * cleared where it held values): merging a window's 60 intervals into it is a slot add a bucket,
 * where a paged or compact histogram made the fresh answers a third slower (bench_gate_answer),
 * and most of a random sweep's prepared questions are not prepared again at the next tick.
 */
#define SLOTS 8

typedef struct side_slot {
    sw_hdr *lat;        /* dense; NULL until first used */
    uint64_t series_id; /* whose intervals it holds; 0: none */
    uint64_t lo, hi;    /* the base intervals [lo, hi) merged (those with latency) */
    uint64_t used;      /* when last used: the slot used longest ago is taken */
} side_slot;

struct sw_gate_scratch {
    side_slot slot[SLOTS];
    sw_hdr *unpacked; /* an interval unpacked to be subtracted, empty between uses */
    uint64_t uses;
    uint64_t intervals; /* merged or subtracted through the slots, ever */
    sw_canary_latencies *cmp;
    sw_gate_cmp_memo memo;
};

sw_status
sw_gate_scratch_new(sw_gate_scratch **ret, sw_err *err)
{
    sw_gate_scratch *x = calloc(1, sizeof *x);
    if (x == NULL)
        return sw_err_set(err, SW_E_NOMEM, "cannot allocate the gate's scratch");
    sw_status st = sw_hdr_new(&sw_hdr_latency_config, &x->unpacked, err);
    if (st != SW_OK) {
        free(x);
        return st;
    }
    *ret = x;
    return SW_OK;
}

void
sw_gate_scratch_free(sw_gate_scratch *x)
{
    if (x == NULL)
        return;
    for (size_t i = 0; i < SLOTS; i++)
        sw_hdr_free(x->slot[i].lat);
    sw_hdr_free(x->unpacked);
    sw_canary_latencies_free(x->cmp);
    free(x);
}

uint64_t
sw_gate_scratch_intervals(const sw_gate_scratch *x)
{
    return x->intervals;
}

sw_canary_latencies **
sw_gate_scratch_comparison(sw_gate_scratch *x)
{
    return &x->cmp;
}

sw_gate_cmp_memo *
sw_gate_scratch_memo(sw_gate_scratch *x)
{
    return &x->memo;
}

/* The intervals of [from, to) with latency added to lat. */
static void
add_span(sw_gate_scratch *x, const sw_history *h, uint64_t from, uint64_t to, sw_hdr *lat)
{
    for (uint64_t seq = from; seq < to; seq++) {
        const sw_lat_rec *rec = sw_history_lat(h, seq);
        if (sw_lat_rec_usable(rec, false)) {
            sw_chist_add_to(lat, rec->latency);
            x->intervals++;
        }
    }
}

/* The intervals of [from, to) with latency taken out of lat; false (lat then unusable) when
 * one cannot be. */
static bool
subtract_span(sw_gate_scratch *x, const sw_history *h, uint64_t from, uint64_t to, sw_hdr *lat)
{
    for (uint64_t seq = from; seq < to; seq++) {
        const sw_lat_rec *rec = sw_history_lat(h, seq);
        if (!sw_lat_rec_usable(rec, false))
            continue;
        if (sw_chist_subtract_from(lat, rec->latency, x->unpacked, NULL) != SW_OK)
            return false;
        x->intervals++;
    }
    return true;
}

static uint64_t
distance(uint64_t a, uint64_t b)
{
    return a > b ? a - b : b - a;
}

/* Intervals to add or subtract to bring k to [lo, hi) of s; UINT64_MAX when it cannot be (not
 * s's, nothing in common, or reaching back to intervals whose histograms are no longer held:
 * k may hold some a merge now would not find, and could not subtract them). */
static uint64_t
move_cost(const side_slot *k, const sw_series *s, uint64_t lo, uint64_t hi)
{
    if (k->lat == NULL || k->series_id != s->id || k->lo >= hi || lo >= k->hi)
        return UINT64_MAX;
    if (k->lo < s->hist.latency_first || lo < s->hist.latency_first)
        return UINT64_MAX;
    return distance(k->lo, lo) + distance(k->hi, hi);
}

/* k brought from what it holds to [lo, hi) (move_cost said it can be); false when a
 * subtraction failed. */
static bool
slot_move(sw_gate_scratch *x, side_slot *k, const sw_history *h, uint64_t lo, uint64_t hi)
{
    bool ok = true;
    if (lo < k->lo)
        add_span(x, h, lo, k->lo, k->lat);
    else
        ok = subtract_span(x, h, k->lo, lo, k->lat);
    if (ok && hi > k->hi)
        add_span(x, h, k->hi, hi, k->lat);
    else if (ok)
        ok = subtract_span(x, h, hi, k->hi, k->lat);
    k->lo = lo;
    k->hi = hi;
    return ok;
}

/* k emptied and made to hold s's [lo, hi); false when out of memory. */
static bool
slot_fill(sw_gate_scratch *x, side_slot *k, const sw_series *s, uint64_t lo, uint64_t hi)
{
    if (k->lat == NULL && sw_hdr_new_dense(&sw_hdr_latency_config, &k->lat, NULL) != SW_OK)
        return false;
    sw_hdr_reset(k->lat);
    k->series_id = s->id;
    k->lo = lo;
    k->hi = hi;
    add_span(x, &s->hist, lo, hi, k->lat);
    return true;
}

const sw_hdr *
sw_gate_scratch_side(sw_gate_scratch *x, const sw_series *s, int64_t from_ms, int64_t to_ms)
{
    /* The intervals sw_window_merge(from_ms, to_ms) merges. */
    uint64_t lo = sw_history_seq_from(&s->hist, from_ms);
    uint64_t hi = sw_max_u64(sw_history_seq_after(&s->hist, to_ms), lo);
    side_slot *best = NULL, *oldest = &x->slot[0];
    uint64_t best_cost = hi - lo; /* merged afresh */
    for (size_t i = 0; i < SLOTS; i++) {
        side_slot *k = &x->slot[i];
        uint64_t cost = move_cost(k, s, lo, hi);
        if (cost < best_cost || (cost == best_cost && cost != UINT64_MAX && best == NULL)) {
            best = k;
            best_cost = cost;
        }
        if (k->used < oldest->used)
            oldest = k;
    }
    bool ok = best != NULL && slot_move(x, best, &s->hist, lo, hi);
    if (!ok) {
        /* The slot used longest ago: never the other side of this answer, used last. */
        best = best != NULL ? best : oldest;
        if (!slot_fill(x, best, s, lo, hi)) {
            best->series_id = 0;
            return NULL;
        }
    }
    best->used = ++x->uses;
    return best->lat;
}
