/*
 * A series' interval history. Base intervals are kept (with their compact histograms and
 * health runs) as long as the longest window up to 2 d needs them; 1-minute and 1-hour
 * rollups of the counts carry longer windows (3 d burn rates, 30 d, months). Every bucket
 * stores running totals, so any window's sums are a difference of two totals found by binary
 * search: no window is ever re-summed. A second set of levels holds only the intervals that
 * overlap maintenance, subtracted when objectives leave maintenance out.
 *
 * Minutes are read only at the old edge of a window the base intervals no longer reach, so
 * they hold only the intervals the base level has dropped: an interval is rolled into its
 * minute as it leaves the base level (a day late with the production rules, whose minutes
 * reach back 3 days: a third less kept), and a minute the base level still partly holds is
 * summed from both.
 */
#include "eval_int.h"

#include <stdlib.h>
#include <string.h>

static const int64_t level_res_ms[SW_LEVELS] = {0, SW_MINUTE_MS, SW_HOUR_MS};

/* Add to the rollup bucket of resolution res holding start_ms, opening it when new. */
static sw_status
ring_roll(sw_ring *r, size_t n_sums, int64_t res, int64_t start_ms, const uint64_t *s, sw_err *err)
{
    int64_t bucket = sw_floor_to(start_ms, res);
    sw_rec *rec = sw_ring_newest(r);
    if (rec == NULL || rec->start_ms != bucket) {
        sw_status st = sw_ring_push(r, bucket, bucket + res, &rec, err);
        if (st != SW_OK)
            return st;
    }
    for (size_t i = 0; i < n_sums; i++)
        rec->sums[i] += s[i];
    return SW_OK;
}

/* How a window's sums look its rings up: searched (a reader's), or through the advancing
 * series' fingers into set `set` (0: all intervals, 1: maintenance). */
typedef struct lookup {
    sw_history_fingers *fingers; /* NULL: search */
    int set;
} lookup;

/* sw_ring_cum_from (by_end: sw_ring_cum_after) of the set's ring at level. */
static uint64_t
cum_at(const lookup *lk, int level, const sw_ring *r, int64_t t, bool by_end, uint64_t *ret)
{
    if (lk->fingers != NULL)
        return sw_sums_fingers_cum(lk->fingers, lk->set, level, r, t, by_end, ret);
    return by_end ? sw_ring_cum_after(r, t, ret) : sw_ring_cum_from(r, t, ret);
}

/* out +/-= the sums of the buckets between cum_* a and b. */
static void
add_diff(size_t n_sums, const uint64_t *a, const uint64_t *b, bool subtract, uint64_t *out)
{
    for (size_t i = 0; i < n_sums; i++)
        out[i] = subtract ? out[i] - (b[i] - a[i]) : out[i] + (b[i] - a[i]);
}

/* out += sign * sums of the buckets with start >= from and end <= to. */
static void
ring_sum(const lookup *lk, int level, const sw_ring *r, size_t n_sums, int64_t from, int64_t to,
         bool subtract, uint64_t *out)
{
    if (from >= to || r->first == r->end)
        return;
    uint64_t a[SW_SUMS_MAX], b[SW_SUMS_MAX];
    uint64_t hi = cum_at(lk, level, r, to, true, b), lo = cum_at(lk, level, r, from, false, a);
    if (hi > lo)
        add_diff(n_sums, a, b, subtract, out);
}

/*
 * out += sign * sums of the base intervals with start in [from, to) (minute-aligned): the
 * minutes rolled from those the base level dropped, and those it still holds.
 */
static void
minutes_sum(const lookup *lk, const sw_ring *set, size_t n_sums, int64_t from, int64_t to,
            bool subtract, uint64_t *out)
{
    if (from >= to)
        return;
    ring_sum(lk, SW_LEVEL_MINUTE, &set[SW_LEVEL_MINUTE], n_sums, from, to, subtract, out);
    const sw_ring *base = &set[SW_LEVEL_BASE];
    if (base->first == base->end || to <= base->dropped_start_ms) /* none kept starts before to */
        return;
    uint64_t a[SW_SUMS_MAX], b[SW_SUMS_MAX];
    uint64_t hi = cum_at(lk, SW_LEVEL_BASE, base, to, false, b);
    uint64_t lo = cum_at(lk, SW_LEVEL_BASE, base, from, false, a);
    if (hi > lo)
        add_diff(n_sums, a, b, subtract, out);
}

/* ------------------------------------------------------------------ kept histograms */

static sw_lat_rec *
lat_at(const sw_history *h, uint64_t seq)
{
    size_t slot = h->lat_head + (size_t)(seq - h->latency_first);
    return &h->lat[slot >= h->lat_cap ? slot - h->lat_cap : slot];
}

static size_t
lat_held(const sw_history *h)
{
    return (size_t)(h->level[SW_LEVEL_BASE].end - h->latency_first);
}

#define LAT_MIN_CAP 16

/* The kept histograms moved to an array of cap slots (at least those held); false when out of
 * memory, the array left as it was. */
static bool
lat_resize(sw_history *h, size_t cap)
{
    size_t n = lat_held(h);
    sw_lat_rec *lat = malloc(cap * sizeof *lat);
    if (lat == NULL)
        return false;
    for (size_t i = 0; i < n; i++)
        lat[i] = *lat_at(h, h->latency_first + i);
    free(h->lat);
    h->lat = lat;
    h->lat_cap = cap;
    h->lat_head = 0;
    return true;
}

/* Room for one more kept histogram. */
static sw_status
lat_reserve(sw_history *h, sw_err *err)
{
    if (lat_held(h) < h->lat_cap)
        return SW_OK;
    size_t cap = h->lat_cap < LAT_MIN_CAP ? LAT_MIN_CAP : 2 * h->lat_cap;
    if (!lat_resize(h, cap))
        return sw_err_set(err, SW_E_NOMEM, "cannot keep %zu interval histograms", cap);
    return SW_OK;
}

/*
 * The oldest kept histogram freed. The array shrinks by half once a quarter of it is held: a
 * rebuild feeds a month of rows before it advances, so the array grows to hold them all
 * (1,024-2,048 slots, 32-64 KB a series) where a running series keeps its last 10 minutes (64).
 * A failed shrink keeps the larger array.
 */
static void
lat_pop(sw_history *h)
{
    sw_chist_free(lat_at(h, h->latency_first)->latency);
    h->latency_first++;
    h->lat_head = h->lat_head + 1 == h->lat_cap ? 0 : h->lat_head + 1;
    if (h->lat_cap > LAT_MIN_CAP && lat_held(h) * 4 <= h->lat_cap)
        (void)lat_resize(h, h->lat_cap / 2);
}

sw_status
sw_history_put_base(sw_history *h, const sw_rec *rec, sw_chist *lat, sw_err *err)
{
    sw_ring *base = &h->level[SW_LEVEL_BASE];
    bool kept = base->end >= h->latency_first;
    sw_status st = kept ? lat_reserve(h, err) : SW_OK;
    sw_rec *put;
    if (st == SW_OK)
        st = sw_ring_push(base, rec->start_ms, rec->end_ms, &put, err);
    if (st == SW_OK)
        memcpy(put, rec, sizeof *put);
    if (st != SW_OK || !kept) {
        sw_chist_free(lat);
        return st;
    }
    *lat_at(h, base->end - 1) = (sw_lat_rec){rec->start_ms, rec->end_ms, lat, rec->in_maint};
    return SW_OK;
}

/* ------------------------------------------------------------------ history */

/* A set of levels (all intervals, or maintenance only), empty. */
static void
init_set(const sw_history_config *cfg, sw_ring *set)
{
    for (int l = 0; l < SW_LEVELS; l++) {
        int64_t res = l == SW_LEVEL_BASE ? cfg->base_ms : level_res_ms[l];
        size_t fit = (size_t)(cfg->keep_ms[l] / res) + 4; /* + intervals fed ahead of time */
        sw_ring_init(&set[l], cfg->n_sums, res, fit);
    }
}

void
sw_history_init(sw_history *h, const sw_history_config *cfg)
{
    memset(h, 0, sizeof *h);
    h->cfg = *cfg;
    h->fingers = sw_sums_fingers_new(cfg->n_sums); /* NULL: the sums search */
    init_set(cfg, h->level);
    h->maint = NULL;
    h->first_start_ms = INT64_MIN;
    h->last_end_ms = INT64_MIN;
}

void
sw_history_fini(sw_history *h)
{
    while (h->latency_first < h->level[SW_LEVEL_BASE].end)
        lat_pop(h);
    free(h->lat);
    for (int l = 0; l < SW_LEVELS; l++) {
        sw_ring_fini(&h->level[l]);
        if (h->maint != NULL)
            sw_ring_fini(&h->maint[l]);
    }
    free(h->maint);
    sw_sums_fingers_free(h->fingers);
}

sw_status
sw_history_maint_set(sw_history *h, sw_err *err)
{
    if (h->maint != NULL)
        return SW_OK;
    h->maint = malloc(SW_LEVELS * sizeof *h->maint);
    if (h->maint == NULL)
        return sw_err_set(err, SW_E_NOMEM, "cannot keep an interval history of maintenance");
    init_set(&h->cfg, h->maint);
    return SW_OK;
}

void
sw_history_maint_unset_unused(sw_history *h)
{
    if (h->maint == NULL)
        return;
    for (int l = 0; l < SW_LEVELS; l++) {
        const sw_ring *r = &h->maint[l];
        if (r->end != 0 || r->dropped_start_ms != INT64_MIN)
            return;
        for (size_t i = 0; i < h->cfg.n_sums; i++)
            if (r->base_cum[i] != 0)
                return;
    }
    sw_sums_fingers_forget_set(h->fingers, 1);
    for (int l = 0; l < SW_LEVELS; l++)
        sw_ring_fini(&h->maint[l]);
    free(h->maint);
    h->maint = NULL;
}

/* The hours of one set (all intervals, or maintenance only); minutes roll as base intervals
 * drop. */
static sw_status
roll_up(sw_history *h, sw_ring *set, int64_t start_ms, const sw_sums *sums, sw_err *err)
{
    if (h->cfg.keep_ms[SW_LEVEL_HOUR] == 0)
        return SW_OK;
    return ring_roll(&set[SW_LEVEL_HOUR], h->cfg.n_sums, SW_HOUR_MS, start_ms, sums->v, err);
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
    sw_status st = in_maint ? sw_history_maint_set(h, err) : SW_OK; /* before anything is put */
    if (st == SW_OK)
        st = lat_reserve(h, err);
    if (st == SW_OK)
        st = sw_ring_push(&h->level[SW_LEVEL_BASE], iv->start_ms, end, &rec, err);
    if (st != SW_OK) {
        sw_chist_free(lat);
        return st;
    }
    memcpy(rec->sums, sums->v, n * sizeof rec->sums[0]);
    rec->peak_run = peak_run(h->tail_run, &iv->health);
    h->tail_run = next_tail_run(h->tail_run, &iv->health);
    rec->tail_run = h->tail_run;
    rec->in_maint = in_maint;
    *lat_at(h, h->level[SW_LEVEL_BASE].end - 1) = (sw_lat_rec){iv->start_ms, end, lat, in_maint};
    if (h->first_start_ms == INT64_MIN)
        h->first_start_ms = iv->start_ms;
    h->last_end_ms = end;
    st = roll_up(h, h->level, iv->start_ms, sums, err);
    if (st != SW_OK || !in_maint)
        return st;
    sw_rec *m;
    st = sw_ring_push(&h->maint[SW_LEVEL_BASE], iv->start_ms, end, &m, err);
    if (st != SW_OK)
        return st;
    memcpy(m->sums, sums->v, n * sizeof m->sums[0]);
    return roll_up(h, h->maint, iv->start_ms, sums, err);
}

/*
 * Sums of one set over [from, to]. Base intervals answer exactly while they reach back to
 * from; otherwise the window's old edge is taken to the minute and the bulk comes from hours:
 * minutes up to the first whole hour, hours up to the last, base intervals after that.
 */
static void
set_sums(const sw_history *h, const lookup *lk, const sw_ring *set, int64_t from, int64_t to,
         bool subtract, uint64_t *out)
{
    size_t n = h->cfg.n_sums;
    const sw_ring *base = &set[SW_LEVEL_BASE];
    bool base_reaches = from > h->level[SW_LEVEL_BASE].dropped_start_ms;
    if (base_reaches ||
        (h->cfg.keep_ms[SW_LEVEL_MINUTE] == 0 && h->cfg.keep_ms[SW_LEVEL_HOUR] == 0)) {
        ring_sum(lk, SW_LEVEL_BASE, base, n, from, to, subtract, out);
        return;
    }
    int64_t from_min = sw_ceil_to(from, SW_MINUTE_MS);
    int64_t first_hour = sw_ceil_to(from_min, SW_HOUR_MS), last_hour = sw_floor_to(to, SW_HOUR_MS);
    int64_t minutes_end = sw_max_i64(from_min, sw_min_i64(first_hour, last_hour));
    int64_t hours_end = sw_max_i64(minutes_end, last_hour);
    minutes_sum(lk, set, n, from_min, minutes_end, subtract, out);
    ring_sum(lk, SW_LEVEL_HOUR, &set[SW_LEVEL_HOUR], n, minutes_end, hours_end, subtract, out);
    ring_sum(lk, SW_LEVEL_BASE, base, n, hours_end, to, subtract, out);
}

/* The sums of both sets, each ring looked up through fingers (NULL: searched). */
static void
history_sums(const sw_history *h, sw_history_fingers *fingers, int64_t from_ms, int64_t to_ms,
             bool excl_maint, sw_sums *ret)
{
    memset(ret, 0, sizeof *ret);
    const lookup all = {fingers, 0}, maint = {fingers, 1};
    set_sums(h, &all, h->level, from_ms, to_ms, false, ret->v);
    if (excl_maint && h->maint != NULL)
        set_sums(h, &maint, h->maint, from_ms, to_ms, true, ret->v);
}

void
sw_history_sums(const sw_history *h, int64_t from_ms, int64_t to_ms, bool excl_maint, sw_sums *ret)
{
    history_sums(h, NULL, from_ms, to_ms, excl_maint, ret);
}

void
sw_history_sums_on(const sw_history *h, int64_t from_ms, int64_t to_ms, bool excl_maint,
                   sw_sums *ret)
{
    history_sums(h, h->fingers, from_ms, to_ms, excl_maint, ret);
}

/* Base interval seq's runs (first <= seq < end). */
static const sw_rec *
base_rec(const sw_history *h, uint64_t seq, sw_ring_reader *rd)
{
    const sw_rec *rec = NULL;
    sw_ring_read_from(&h->level[SW_LEVEL_BASE], seq, rd);
    sw_ring_read_next(rd, &rec);
    return rec;
}

uint32_t
sw_history_tail_run(const sw_history *h, int64_t to_ms)
{
    const sw_ring *base = &h->level[SW_LEVEL_BASE];
    uint64_t seq = sw_ring_seq_end_after(base, to_ms);
    sw_ring_reader rd;
    return seq > base->first ? base_rec(h, seq - 1, &rd)->tail_run : 0;
}

uint32_t
sw_history_peak_run(const sw_history *h, int64_t from_ms, int64_t to_ms)
{
    const sw_ring *base = &h->level[SW_LEVEL_BASE];
    uint32_t peak = sw_history_tail_run(h, to_ms);
    uint64_t hi = sw_ring_seq_end_after(base, to_ms);
    uint64_t lo = sw_ring_seq_start_at_or_after(base, from_ms);
    if (lo >= hi)
        return peak;
    sw_ring_reader rd;
    const sw_rec *rec;
    sw_ring_read_from(base, lo, &rd);
    while (rd.next < hi && sw_ring_read_next(&rd, &rec))
        peak = rec->peak_run > peak ? rec->peak_run : peak;
    return peak;
}

uint64_t
sw_history_total(const sw_history *h, int64_t to_ms, int which)
{
    const sw_ring *base = &h->level[SW_LEVEL_BASE];
    uint64_t cum[SW_SUMS_MAX];
    sw_ring_cum_after(base, to_ms, cum);
    return cum[which];
}

/* A base interval leaving its level, rolled into its minute. */
typedef struct minute_roll {
    sw_ring *minutes;
    size_t n_sums;
} minute_roll;

static sw_status
roll_minute(void *ctx, const sw_rec *rec, sw_err *err)
{
    minute_roll *m = ctx;
    return ring_roll(m->minutes, m->n_sums, SW_MINUTE_MS, rec->start_ms, rec->sums, err);
}

/* The base intervals of one set ending at or before before_ms dropped, rolled into their
 * minutes first. */
static sw_status
drop_base(sw_history *h, sw_ring *set, int64_t before_ms, sw_err *err)
{
    minute_roll roll = {&set[SW_LEVEL_MINUTE], h->cfg.n_sums};
    bool minutes = h->cfg.keep_ms[SW_LEVEL_MINUTE] != 0;
    return sw_ring_drop(&set[SW_LEVEL_BASE], before_ms, minutes ? roll_minute : NULL, &roll, err);
}

sw_status
sw_history_drop(sw_history *h, int64_t now_ms, sw_err *err)
{
    sw_ring *base = &h->level[SW_LEVEL_BASE];
    int64_t lat_before = now_ms - h->cfg.latency_keep_ms;
    while (h->latency_first < base->end && lat_at(h, h->latency_first)->end_ms <= lat_before)
        lat_pop(h);
    sw_status st = SW_OK;
    if (h->cfg.keep_ms[SW_LEVEL_BASE] != 0) {
        st = drop_base(h, h->level, now_ms - h->cfg.keep_ms[SW_LEVEL_BASE], err);
        if (st == SW_OK && h->maint != NULL)
            st = drop_base(h, h->maint, now_ms - h->cfg.keep_ms[SW_LEVEL_BASE], err);
    }
    for (int l = SW_LEVEL_MINUTE; l < SW_LEVELS; l++) {
        int64_t keep = h->cfg.keep_ms[l];
        if (keep == 0)
            continue;
        sw_ring_drop(&h->level[l], now_ms - keep, NULL, NULL, err); /* nothing to fail */
        if (h->maint != NULL)
            sw_ring_drop(&h->maint[l], now_ms - keep, NULL, NULL, err);
    }
    while (h->latency_first < base->first) /* histograms of intervals no longer kept */
        lat_pop(h);
    return st;
}

const sw_lat_rec *
sw_history_lat(const sw_history *h, uint64_t seq)
{
    if (seq < h->latency_first || seq >= h->level[SW_LEVEL_BASE].end)
        return NULL;
    return lat_at(h, seq);
}

uint64_t
sw_history_seq_from(const sw_history *h, int64_t start_ms)
{
    return sw_ring_seq_start_at_or_after(&h->level[SW_LEVEL_BASE], start_ms);
}

uint64_t
sw_history_seq_after(const sw_history *h, int64_t end_ms)
{
    return sw_ring_seq_end_after(&h->level[SW_LEVEL_BASE], end_ms);
}
