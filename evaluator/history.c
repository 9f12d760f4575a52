/*
 * A series' interval history. Base intervals are kept (with their compact histograms and
 * health runs) as long as the longest window up to 2 d needs them; 1-minute and 1-hour
 * rollups of the counts carry longer windows (3 d burn rates, 30 d, months). Every bucket
 * stores running totals, so any window's sums are a difference of two totals found by binary
 * search: no window is ever re-summed. A second set of levels holds only the intervals that
 * overlap maintenance, subtracted when objectives leave maintenance out.
 */
#include "eval_int.h"

#include <stdlib.h>
#include <string.h>

#define RING_MIN_CAP 64

static const int64_t level_res_ms[SW_LEVELS] = {0, SW_MINUTE_MS, SW_HOUR_MS};

/* ------------------------------------------------------------------ rings */

static sw_rec *
ring_at(const sw_ring *r, uint64_t seq)
{
    size_t slot = r->head + (size_t)(seq - r->first);
    if (slot >= r->cap)
        slot -= r->cap;
    return (sw_rec *)(void *)(r->data + slot * r->stride);
}

static void
ring_init(sw_ring *r, size_t n_sums, size_t fit)
{
    memset(r, 0, sizeof *r);
    r->stride = sizeof(sw_rec) + n_sums * sizeof(uint64_t);
    r->fit = fit;
    r->dropped_start_ms = INT64_MIN;
}

static bool
ring_empty(const sw_ring *r)
{
    return r->first == r->end;
}

static const uint64_t *
cum_before(const sw_ring *r, uint64_t seq)
{
    return seq == r->first ? r->base_cum : ring_at(r, seq - 1)->cum;
}

/* Grow by half, but stop at what the retention holds: in steady state the ring is full, not
 * a power of two with a third of it unused. Data fed ahead of evaluation grows it further. */
static sw_status
ring_grow(sw_ring *r, sw_err *err)
{
    size_t cap = r->cap < RING_MIN_CAP ? RING_MIN_CAP : r->cap + r->cap / 2;
    if (r->cap < r->fit && cap > r->fit)
        cap = r->fit;
    uint8_t *data = malloc(cap * r->stride);
    if (data == NULL)
        return sw_err_set(err, SW_E_NOMEM, "cannot grow an interval history to %zu buckets", cap);
    for (uint64_t seq = r->first; seq < r->end; seq++)
        memcpy(data + (size_t)(seq - r->first) * r->stride, ring_at(r, seq), r->stride);
    free(r->data);
    r->data = data;
    r->cap = cap;
    r->head = 0;
    return SW_OK;
}

/* A new newest bucket whose running totals start where the previous ones end. */
static sw_status
ring_push(sw_ring *r, size_t n_sums, int64_t start_ms, int64_t end_ms, sw_rec **ret, sw_err *err)
{
    if (r->end - r->first == r->cap) {
        sw_status st = ring_grow(r, err);
        if (st != SW_OK)
            return st;
    }
    const uint64_t *prev = cum_before(r, r->end);
    sw_rec *rec = ring_at(r, r->end);
    memset(rec, 0, sizeof *rec);
    rec->start_ms = start_ms;
    rec->end_ms = end_ms;
    memcpy(rec->cum, prev, n_sums * sizeof rec->cum[0]);
    r->end++;
    *ret = rec;
    return SW_OK;
}

static void
add_sums(uint64_t *cum, const sw_sums *s, size_t n_sums)
{
    for (size_t i = 0; i < n_sums; i++)
        cum[i] += s->v[i];
}

/* Add to the rollup bucket of resolution res holding start_ms, opening it when new. */
static sw_status
ring_roll(sw_ring *r, size_t n_sums, int64_t res, int64_t start_ms, const sw_sums *s, sw_err *err)
{
    int64_t bucket = sw_floor_to(start_ms, res);
    sw_rec *rec;
    if (!ring_empty(r) && ring_at(r, r->end - 1)->start_ms == bucket) {
        rec = ring_at(r, r->end - 1);
    } else {
        sw_status st = ring_push(r, n_sums, bucket, bucket + res, &rec, err);
        if (st != SW_OK)
            return st;
    }
    add_sums(rec->cum, s, n_sums);
    return SW_OK;
}

static uint64_t
seq_start_at_or_after(const sw_ring *r, int64_t t)
{
    uint64_t lo = r->first, hi = r->end;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (ring_at(r, mid)->start_ms < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static uint64_t
seq_end_after(const sw_ring *r, int64_t t)
{
    /* Live evaluation asks about the newest data most of the time: answer that at once. */
    if (ring_empty(r) || ring_at(r, r->end - 1)->end_ms <= t)
        return r->end;
    uint64_t lo = r->first, hi = r->end - 1;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (ring_at(r, mid)->end_ms <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* out += sign * sums of the buckets with start >= from and end <= to. */
static void
ring_sum(const sw_ring *r, size_t n_sums, int64_t from, int64_t to, bool subtract, uint64_t *out)
{
    if (from >= to || ring_empty(r))
        return;
    uint64_t lo = seq_start_at_or_after(r, from), hi = seq_end_after(r, to);
    if (hi <= lo)
        return;
    const uint64_t *a = cum_before(r, lo), *b = cum_before(r, hi);
    for (size_t i = 0; i < n_sums; i++)
        out[i] = subtract ? out[i] - (b[i] - a[i]) : out[i] + (b[i] - a[i]);
}

static void
ring_drop(sw_ring *r, size_t n_sums, int64_t before_ms)
{
    while (!ring_empty(r) && ring_at(r, r->first)->end_ms <= before_ms) {
        const sw_rec *rec = ring_at(r, r->first);
        sw_chist_free(rec->latency);
        memcpy(r->base_cum, rec->cum, n_sums * sizeof rec->cum[0]);
        r->dropped_start_ms = rec->start_ms;
        r->first++;
        r->head = r->head + 1 == r->cap ? 0 : r->head + 1;
    }
}

static void
ring_fini(sw_ring *r)
{
    for (uint64_t seq = r->first; seq < r->end; seq++)
        sw_chist_free(ring_at(r, seq)->latency);
    free(r->data);
    memset(r, 0, sizeof *r);
}

/* ------------------------------------------------------------------ history */

void
sw_history_init(sw_history *h, const sw_history_config *cfg)
{
    memset(h, 0, sizeof *h);
    h->cfg = *cfg;
    for (int l = 0; l < SW_LEVELS; l++) {
        int64_t res = l == SW_LEVEL_BASE ? cfg->base_ms : level_res_ms[l];
        size_t fit = (size_t)(cfg->keep_ms[l] / res) + 4; /* + intervals fed ahead of time */
        ring_init(&h->level[l], cfg->n_sums, fit);
        ring_init(&h->maint[l], cfg->n_sums, fit);
    }
    h->first_start_ms = INT64_MIN;
    h->last_end_ms = INT64_MIN;
}

void
sw_history_fini(sw_history *h)
{
    for (int l = 0; l < SW_LEVELS; l++) {
        ring_fini(&h->level[l]);
        ring_fini(&h->maint[l]);
    }
}

/* The rollup levels of one set (all intervals, or maintenance only). */
static sw_status
roll_up(sw_history *h, sw_ring *set, int64_t start_ms, const sw_sums *sums, sw_err *err)
{
    for (int l = SW_LEVEL_MINUTE; l < SW_LEVELS; l++) {
        if (h->cfg.keep_ms[l] == 0)
            continue;
        sw_status st = ring_roll(&set[l], h->cfg.n_sums, level_res_ms[l], start_ms, sums, err);
        if (st != SW_OK)
            return st;
    }
    return SW_OK;
}

static uint32_t
next_tail_run(uint32_t run, const sw_health *next)
{
    /* The run so far as an all-failed stretch, then the interval appended after it. */
    sw_health acc = {run, run, run, run, run};
    sw_health_append(&acc, next);
    return acc.trailing_failures;
}

/* The longest run of failures with a probe in next, the run before it (run) included. */
static uint32_t
peak_run(uint32_t run, const sw_health *next)
{
    if (next->probes == 0)
        return run; /* the run goes on through an interval without probes */
    uint32_t joined = next->leading_failures > 0 ? run + next->leading_failures : 0;
    return joined > next->longest_failures ? joined : next->longest_failures;
}

sw_status
sw_history_append(sw_history *h, const sw_sli_interval *iv, const sw_sums *sums, bool in_maint,
                  sw_chist *lat, sw_err *err)
{
    size_t n = h->cfg.n_sums;
    int64_t end = iv->start_ms + iv->length_ms;
    sw_rec *rec;
    sw_status st = ring_push(&h->level[SW_LEVEL_BASE], n, iv->start_ms, end, &rec, err);
    if (st != SW_OK) {
        sw_chist_free(lat);
        return st;
    }
    add_sums(rec->cum, sums, n);
    rec->latency = lat;
    rec->peak_run = peak_run(h->tail_run, &iv->health);
    h->tail_run = next_tail_run(h->tail_run, &iv->health);
    rec->tail_run = h->tail_run;
    rec->in_maint = in_maint;
    if (h->first_start_ms == INT64_MIN)
        h->first_start_ms = iv->start_ms;
    h->last_end_ms = end;
    st = roll_up(h, h->level, iv->start_ms, sums, err);
    if (st != SW_OK || !in_maint)
        return st;
    sw_rec *m;
    st = ring_push(&h->maint[SW_LEVEL_BASE], n, iv->start_ms, end, &m, err);
    if (st != SW_OK)
        return st;
    add_sums(m->cum, sums, n);
    return roll_up(h, h->maint, iv->start_ms, sums, err);
}

/*
 * Sums of one set over [from, to]. Base intervals answer exactly while they reach back to
 * from; otherwise the window's old edge is taken to the minute and the bulk comes from hours:
 * minutes up to the first whole hour, hours up to the last, base intervals after that.
 */
static void
set_sums(const sw_history *h, const sw_ring *set, int64_t from, int64_t to, bool subtract,
         uint64_t *out)
{
    size_t n = h->cfg.n_sums;
    const sw_ring *base = &set[SW_LEVEL_BASE];
    bool base_reaches = from > h->level[SW_LEVEL_BASE].dropped_start_ms;
    if (base_reaches ||
        (h->cfg.keep_ms[SW_LEVEL_MINUTE] == 0 && h->cfg.keep_ms[SW_LEVEL_HOUR] == 0)) {
        ring_sum(base, n, from, to, subtract, out);
        return;
    }
    int64_t from_min = sw_ceil_to(from, SW_MINUTE_MS);
    int64_t first_hour = sw_ceil_to(from_min, SW_HOUR_MS), last_hour = sw_floor_to(to, SW_HOUR_MS);
    int64_t minutes_end = sw_max_i64(from_min, sw_min_i64(first_hour, last_hour));
    int64_t hours_end = sw_max_i64(minutes_end, last_hour);
    ring_sum(&set[SW_LEVEL_MINUTE], n, from_min, minutes_end, subtract, out);
    ring_sum(&set[SW_LEVEL_HOUR], n, minutes_end, hours_end, subtract, out);
    ring_sum(base, n, hours_end, to, subtract, out);
}

void
sw_history_sums(const sw_history *h, int64_t from_ms, int64_t to_ms, bool excl_maint, sw_sums *ret)
{
    memset(ret, 0, sizeof *ret);
    set_sums(h, h->level, from_ms, to_ms, false, ret->v);
    if (excl_maint)
        set_sums(h, h->maint, from_ms, to_ms, true, ret->v);
}

uint32_t
sw_history_tail_run(const sw_history *h, int64_t to_ms)
{
    const sw_ring *base = &h->level[SW_LEVEL_BASE];
    uint64_t seq = seq_end_after(base, to_ms);
    return seq > base->first ? ring_at(base, seq - 1)->tail_run : 0;
}

uint32_t
sw_history_peak_run(const sw_history *h, int64_t from_ms, int64_t to_ms)
{
    const sw_ring *base = &h->level[SW_LEVEL_BASE];
    uint32_t peak = sw_history_tail_run(h, to_ms);
    uint64_t hi = seq_end_after(base, to_ms);
    for (uint64_t seq = seq_start_at_or_after(base, from_ms); seq < hi; seq++) {
        uint32_t run = ring_at(base, seq)->peak_run;
        peak = run > peak ? run : peak;
    }
    return peak;
}

uint64_t
sw_history_total(const sw_history *h, int64_t to_ms, int which)
{
    const sw_ring *base = &h->level[SW_LEVEL_BASE];
    return cum_before(base, seq_end_after(base, to_ms))[which];
}

void
sw_history_drop(sw_history *h, int64_t now_ms)
{
    sw_ring *base = &h->level[SW_LEVEL_BASE];
    int64_t lat_before = now_ms - h->cfg.latency_keep_ms;
    if (h->latency_first < base->first)
        h->latency_first = base->first;
    for (; h->latency_first < base->end; h->latency_first++) {
        sw_rec *rec = ring_at(base, h->latency_first);
        if (rec->end_ms > lat_before)
            break;
        sw_chist_free(rec->latency);
        rec->latency = NULL;
    }
    for (int l = 0; l < SW_LEVELS; l++) {
        int64_t keep = h->cfg.keep_ms[l];
        if (keep == 0)
            continue;
        ring_drop(&h->level[l], h->cfg.n_sums, now_ms - keep);
        ring_drop(&h->maint[l], h->cfg.n_sums, now_ms - keep);
    }
}

const sw_rec *
sw_history_rec(const sw_history *h, uint64_t seq)
{
    return ring_at(&h->level[SW_LEVEL_BASE], seq);
}

uint64_t
sw_history_seq_from(const sw_history *h, int64_t start_ms)
{
    return seq_start_at_or_after(&h->level[SW_LEVEL_BASE], start_ms);
}

uint64_t
sw_history_seq_after(const sw_history *h, int64_t end_ms)
{
    return seq_end_after(&h->level[SW_LEVEL_BASE], end_ms);
}
