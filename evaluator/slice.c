/*
 * Slices: throughput and timeslice objectives judge their window slice by slice (slices of
 * slice_ms aligned to the epoch). A slice is judged once data has gone past its end, and its
 * verdict (good, bad, no data, maintenance) is kept, two bits a slice, as long as the objective
 * window or a burn-rate alert on it looks back: a month of 1-minute slices, in a ring of 65,536
 * slots (a power of two), is 16 KB, where a byte a slice took 64 KB a series. Verdict counts of the
 * objective window are kept up to date as the window moves. One tracker per (series, objective).
 */
#include "eval_int.h"

#include <stdlib.h>
#include <string.h>

#define MIN_CAP 64 /* slices; a power of two, as every capacity */

/* Four verdicts to a byte. */
#define VERDICT_BITS 2
#define PER_BYTE (8 / VERDICT_BITS)
_Static_assert(SW_SLICE_VERDICTS <= 1 << VERDICT_BITS, "a verdict fits its bits");

struct sw_slices {
    int64_t slice_ms;
    uint8_t *verdict; /* cap / PER_BYTE bytes: slice k at ring slot k mod cap */
    uint64_t cap;
    int64_t first, next;  /* slice numbers held: [first, next); INT64_MIN before the first */
    int64_t counted_from; /* count[] covers the slices [counted_from, next) */
    uint64_t count[SW_SLICE_VERDICTS];
};

/* rules/README.md's default bad_when, for rule sets built without one. */
static const sw_condition default_bad_when[] = {
    {.sli = SW_SLI_ERROR_RATE, .op = SW_OP_GT, .value = 0.05},
    {.sli = SW_SLI_HEALTH_SUCCESS, .op = SW_OP_LT, .value = 0.5},
};

sw_status
sw_slices_new(int64_t slice_ms, sw_slices **ret, sw_err *err)
{
    sw_slices *sl = calloc(1, sizeof *sl);
    if (sl == NULL)
        return sw_err_set(err, SW_E_NOMEM, "cannot allocate a slice tracker");
    sl->slice_ms = slice_ms;
    sl->first = sl->next = sl->counted_from = INT64_MIN;
    *ret = sl;
    return SW_OK;
}

void
sw_slices_free(sw_slices *sl)
{
    if (sl == NULL)
        return;
    free(sl->verdict);
    free(sl);
}

/* The verdict of slice k in a ring of cap slots. */
static unsigned
verdict_in(const uint8_t *ring, uint64_t cap, int64_t k)
{
    uint64_t slot = (uint64_t)k & (cap - 1);
    return (ring[slot / PER_BYTE] >> (slot % PER_BYTE * VERDICT_BITS)) & ((1u << VERDICT_BITS) - 1);
}

static void
set_verdict_in(uint8_t *ring, uint64_t cap, int64_t k, unsigned v)
{
    uint64_t slot = (uint64_t)k & (cap - 1);
    unsigned shift = (unsigned)(slot % PER_BYTE * VERDICT_BITS);
    uint8_t *byte = &ring[slot / PER_BYTE];
    *byte = (uint8_t)((*byte & ~(((1u << VERDICT_BITS) - 1) << shift)) | (v << shift));
}

static unsigned
at(const sw_slices *sl, int64_t k)
{
    return verdict_in(sl->verdict, sl->cap, k);
}

/* A ring of cap slots (a power of two, at least MIN_CAP); NULL when out of memory. */
static uint8_t *
ring_new(uint64_t cap)
{
    return malloc((size_t)(cap / PER_BYTE));
}

size_t
sw_slices_bytes(const sw_slices *sl)
{
    return sizeof *sl + (size_t)(sl->cap / PER_BYTE);
}

static sw_status
push(sw_slices *sl, uint8_t v, sw_err *err)
{
    if ((uint64_t)(sl->next - sl->first) == sl->cap) {
        uint64_t cap = sl->cap ? 2 * sl->cap : MIN_CAP;
        uint8_t *data = ring_new(cap);
        if (data == NULL)
            return sw_err_set(err, SW_E_NOMEM, "cannot grow slice verdicts to %llu",
                              (unsigned long long)cap);
        for (int64_t k = sl->first; k < sl->next; k++)
            set_verdict_in(data, cap, k, at(sl, k));
        free(sl->verdict);
        sl->verdict = data;
        sl->cap = cap;
    }
    set_verdict_in(sl->verdict, sl->cap, sl->next, v);
    if (sl->next >= sl->counted_from)
        sl->count[v]++;
    sl->next++;
    return SW_OK;
}

static sw_slice_verdict
judge_throughput(const sw_objective *o, const sw_sums *sums)
{
    const uint64_t *v = sums->v;
    if (v[SW_SUM_DATA_MS] == 0)
        return SW_SLICE_NODATA;
    double rate = 1000.0 * (double)v[SW_SUM_REQUESTS] / (double)v[SW_SUM_DATA_MS];
    return sw_rules_compare(o->objective.op, rate, o->objective.value) ? SW_SLICE_GOOD
                                                                       : SW_SLICE_BAD;
}

static bool
needs_latency(const sw_condition *conds, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (conds[i].sli == SW_SLI_LATENCY)
            return true;
    return false;
}

/* Bad when any condition holds; good when none does and at least one could be judged. */
static sw_slice_verdict
judge_timeslice(const sw_eval *ev, const sw_series *s, const sw_objective *o, int64_t from,
                const sw_sums *sums, sw_hdr *scratch)
{
    const sw_condition *conds = o->n_bad_when ? o->bad_when : default_bad_when;
    size_t n = o->n_bad_when ? o->n_bad_when : sizeof default_bad_when / sizeof *conds;
    bool latency = needs_latency(conds, n);
    if (latency)
        sw_window_merge(&s->hist, from, from + o->slice_ms, false, scratch);
    sw_measure_in in = {sums, sw_history_peak_run(&s->hist, from, from + o->slice_ms),
                        latency ? scratch : NULL, ev->rules->min_requests, NULL};
    sw_slice_verdict verdict = SW_SLICE_NODATA;
    for (size_t i = 0; i < n && verdict != SW_SLICE_BAD; i++) {
        double measured;
        if (sw_condition_measure(&conds[i], &in, &measured))
            verdict = sw_rules_compare(conds[i].op, measured, conds[i].value) ? SW_SLICE_BAD
                                                                              : SW_SLICE_GOOD;
    }
    if (latency)
        sw_hdr_reset(scratch);
    return verdict;
}

static sw_slice_verdict
judge(const sw_eval *ev, const sw_series *s, const sw_objective *o, int64_t k, sw_hdr *scratch)
{
    int64_t from = k * o->slice_ms, to = from + o->slice_ms;
    if (sw_maint_overlaps(&ev->plan.maint[s->service_index], from, to))
        return SW_SLICE_MAINT;
    sw_sums sums;
    sw_history_sums(&s->hist, from, to, false, &sums);
    if (o->objective.sli == SW_SLI_THROUGHPUT)
        return judge_throughput(o, &sums);
    return judge_timeslice(ev, s, o, from, &sums, scratch);
}

sw_status
sw_slices_judge(sw_slices *sl, const sw_eval *ev, const sw_series *s, const sw_objective *o,
                int64_t upto_ms, sw_hdr *scratch, sw_err *err)
{
    if (s->hist.first_start_ms == INT64_MIN)
        return SW_OK;
    if (sl->first == INT64_MIN)
        sl->first = sl->next = sl->counted_from =
            sw_floor_to(s->hist.first_start_ms, sl->slice_ms) / sl->slice_ms;
    /* Only once data has gone past a slice: a collector running late must not leave holes. */
    int64_t limit = sw_min_i64(upto_ms, s->hist.last_end_ms);
    while ((sl->next + 1) * sl->slice_ms <= limit) {
        sw_status st = push(sl, (uint8_t)judge(ev, s, o, sl->next, scratch), err);
        if (st != SW_OK)
            return st;
    }
    return SW_OK;
}

void
sw_slices_window(sw_slices *sl, int64_t from_ms, uint64_t ret_count[SW_SLICE_VERDICTS])
{
    memset(ret_count, 0, SW_SLICE_VERDICTS * sizeof ret_count[0]);
    if (sl->first == INT64_MIN)
        return;
    int64_t from = sw_ceil_to(from_ms, sl->slice_ms) / sl->slice_ms;
    for (; sl->counted_from < from && sl->counted_from < sl->next; sl->counted_from++)
        if (sl->counted_from >= sl->first)
            sl->count[at(sl, sl->counted_from)]--;
    sl->counted_from = sw_max_i64(sl->counted_from, from);
    memcpy(ret_count, sl->count, sizeof sl->count);
}

void
sw_slices_count(const sw_slices *sl, int64_t from_ms, int64_t to_ms,
                uint64_t ret_count[SW_SLICE_VERDICTS])
{
    memset(ret_count, 0, SW_SLICE_VERDICTS * sizeof ret_count[0]);
    if (sl->first == INT64_MIN)
        return;
    int64_t from = sw_max_i64(sl->first, sw_ceil_to(from_ms, sl->slice_ms) / sl->slice_ms);
    int64_t to = sw_min_i64(sl->next, sw_floor_to(to_ms, sl->slice_ms) / sl->slice_ms);
    for (int64_t k = from; k < to; k++)
        ret_count[at(sl, k)]++;
}

void
sw_slices_drop(sw_slices *sl, int64_t before_ms)
{
    if (sl->first == INT64_MIN)
        return;
    while (sl->first < sl->next && sl->first < sl->counted_from &&
           (sl->first + 1) * sl->slice_ms <= before_ms)
        sl->first++;
}

void
sw_slices_save(const sw_slices *sl, sw_ckw *w)
{
    sw_ckw_i64(w, sl->first);
    sw_ckw_i64(w, sl->next);
    sw_ckw_i64(w, sl->counted_from);
    for (int v = 0; v < SW_SLICE_VERDICTS; v++)
        sw_ckw_u64(w, sl->count[v]);
    sw_ckw_u64(w, sl->first == INT64_MIN ? 0 : (uint64_t)(sl->next - sl->first));
    for (int64_t k = sl->first; sl->first != INT64_MIN && k < sl->next; k++)
        sw_ckw_u64(w, at(sl, k));
}

sw_status
sw_slices_load(sw_slices *sl, sw_ckr *r, sw_err *err)
{
    int64_t first = sw_ckr_i64(r), next = sw_ckr_i64(r), counted_from = sw_ckr_i64(r);
    uint64_t count[SW_SLICE_VERDICTS];
    for (int v = 0; v < SW_SLICE_VERDICTS; v++)
        count[v] = sw_ckr_u64(r);
    size_t n = sw_ckr_count(r);
    bool empty = first == INT64_MIN;
    bool fits =
        empty ? n == 0 && next == INT64_MIN : next >= first && (uint64_t)(next - first) == n;
    if (r->bad || !fits)
        return sw_err_set(err, SW_E_PARSE, "slice verdicts do not fit together");
    uint64_t cap = MIN_CAP;
    while (cap < n)
        cap *= 2;
    uint8_t *data = ring_new(cap);
    if (data == NULL)
        return sw_err_set(err, SW_E_NOMEM, "cannot allocate %zu slice verdicts", n);
    free(sl->verdict);
    sl->verdict = data;
    sl->cap = cap;
    sl->first = first;
    sl->next = next;
    sl->counted_from = counted_from;
    memcpy(sl->count, count, sizeof count);
    for (int64_t k = first; !empty && k < next; k++) {
        uint64_t v = sw_ckr_u64(r);
        if (v >= SW_SLICE_VERDICTS)
            r->bad = true;
        else
            set_verdict_in(sl->verdict, sl->cap, k, (unsigned)v);
    }
    return r->bad ? sw_err_set(err, SW_E_PARSE, "a slice verdict is out of range") : SW_OK;
}
