/*
 * Latency windows: the merged histogram of a window, kept up to date incrementally. Sliding
 * windows (up to 2 d) add each base interval as it enters and subtract it as it leaves; once a
 * pin comes for their series (sw_window_pack_hours), those of an hour or more hold their whole
 * hours packed and only their partial edge hours as base intervals, so a pinned hour can take
 * a packed one's place (series no source pins pay nothing for it);
 * the calendar month only adds, and starts over at the month's first instant; rolling windows
 * beyond 2 d add base intervals and let whole hours leave, from packed hourly histograms.
 * Each window belongs to one series; its dense histogram is the only dense one it holds.
 * Sliding windows shorter than an hour of a few base intervals hold none (window_packed.c).
 */
#include "eval_int.h"
#include "slawatch/units.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ windows */

sw_status
sw_window_init(sw_lat_window *w, const sw_lat_spec *spec, int64_t base_ms, sw_err *err)
{
    memset(w, 0, sizeof *w);
    w->month_start_ms = INT64_MIN;
    w->build_hour_ms = INT64_MIN;
    w->edge_ms = INT64_MIN;
    w->to_ms = INT64_MIN;
    if (sw_packed_fits(spec, base_ms))
        return sw_packed_init(w, spec, base_ms, err);
    sw_status st = sw_hdr_new(&sw_hdr_latency_config, &w->acc, err);
    if (st == SW_OK && spec->kind == SW_LAT_HOURLY)
        st = sw_hdr_new(&sw_hdr_latency_config, &w->build, err);
    if (st != SW_OK)
        sw_window_fini(w);
    return st;
}

void
sw_window_fini(sw_lat_window *w)
{
    sw_hdr_free(w->acc);
    sw_hdr_free(w->build);
    sw_hdr_free(w->view);
    for (size_t i = 0; i < w->n_hours; i++)
        sw_chist_free(w->hours[i]);
    free(w->hours);
    free(w->hour_ms);
    free(w->hour_pinned);
    free(w->packed);
    memset(w, 0, sizeof *w);
}

bool
sw_window_can_pack_hours(const sw_lat_spec *spec)
{
    return spec->kind != SW_LAT_SLIDING || spec->length_ms >= SW_HOUR_MS;
}

bool
sw_window_packs_hours(const sw_lat_window *w)
{
    return w->build != NULL;
}

static bool
usable(const sw_lat_rec *rec, bool excl_maint)
{
    return sw_lat_rec_usable(rec, excl_maint);
}

/* acc -= the usable base intervals [from, to). */
static sw_status
subtract_span(sw_lat_window *w, const sw_lat_spec *spec, const sw_history *h, uint64_t from,
              uint64_t to, sw_hdr *scratch, sw_err *err)
{
    for (uint64_t seq = from; seq < to; seq++) {
        const sw_lat_rec *rec = sw_history_lat(h, seq);
        if (!usable(rec, spec->excl_maint))
            continue;
        sw_status st = sw_chist_subtract_from(w->acc, rec->latency, scratch, err);
        if (st != SW_OK)
            return st;
        w->steps++;
    }
    return SW_OK;
}

/* acc += the usable base intervals [from, to). */
static void
add_span(sw_lat_window *w, const sw_lat_spec *spec, const sw_history *h, uint64_t from, uint64_t to)
{
    for (uint64_t seq = from; seq < to; seq++)
        if (usable(sw_history_lat(h, seq), spec->excl_maint)) {
            sw_chist_add_to(w->acc, sw_history_lat(h, seq)->latency);
            w->steps++;
        }
}

/* The usable base interval seq unpacked into into (empty); whether it was. */
static bool
unpack_rec(const sw_lat_spec *spec, const sw_history *h, uint64_t seq, sw_hdr *into)
{
    const sw_lat_rec *rec = sw_history_lat(h, seq);
    if (!usable(rec, spec->excl_maint))
        return false;
    sw_chist_add_to(into, rec->latency);
    return true;
}

/*
 * A window's steady step, one interval out (seq out) and one in (seq in): both unpacked, then
 * one pass over acc (sw_hdr_slide) instead of a subtraction's and an addition's. Only one of
 * each: the slide's scratch histograms stay compact, as the pass needs.
 */
static sw_status
slide_one(sw_lat_window *w, const sw_lat_spec *spec, const sw_history *h, uint64_t out, uint64_t in,
          const sw_move_scratch *scratch, sw_err *err)
{
    uint64_t steps = unpack_rec(spec, h, out, scratch->slide_out);
    steps += unpack_rec(spec, h, in, scratch->slide_in);
    sw_status st = sw_hdr_slide(w->acc, scratch->slide_in, scratch->slide_out, err);
    sw_hdr_reset(scratch->slide_out);
    sw_hdr_reset(scratch->slide_in);
    if (st == SW_OK)
        w->steps += steps;
    return st;
}

/* (to - length, to]: subtract what left, add what arrived. */
static sw_status
move_sliding(sw_lat_window *w, const sw_lat_spec *spec, const sw_history *h, int64_t to_ms,
             const sw_move_scratch *scratch, sw_err *err)
{
    uint64_t tail = sw_history_seq_from(h, to_ms - spec->length_ms);
    uint64_t head = sw_max_u64(sw_history_seq_after(h, to_ms), tail);
    uint64_t out_end = sw_min_u64(w->head, tail), in_from = sw_max_u64(w->head, tail);
    sw_status st = SW_OK;
    if (w->tail + 1 == out_end && in_from + 1 == head) {
        st = slide_one(w, spec, h, w->tail, in_from, scratch, err);
    } else {
        st = subtract_span(w, spec, h, w->tail, out_end, scratch->hdr, err);
        if (st == SW_OK)
            add_span(w, spec, h, in_from, head);
    }
    if (st != SW_OK)
        return st;
    w->tail = tail;
    w->head = head;
    return SW_OK;
}

/* Keep hour_ms sorted: late intervals may belong to an hour already packed. */
static sw_status
insert_hour(sw_lat_window *w, int64_t hour_ms, sw_chist *c, bool pinned, sw_err *err)
{
    if (w->n_hours == w->cap_hours) {
        size_t cap = w->cap_hours ? 2 * w->cap_hours : 32;
        sw_chist **hours = realloc(w->hours, cap * sizeof *hours);
        if (hours == NULL)
            goto nomem;
        w->hours = hours;
        int64_t *ms = realloc(w->hour_ms, cap * sizeof *ms);
        if (ms == NULL)
            goto nomem;
        w->hour_ms = ms;
        bool *flags = realloc(w->hour_pinned, cap * sizeof *flags);
        if (flags == NULL)
            goto nomem;
        w->hour_pinned = flags;
        w->cap_hours = cap;
    }
    size_t i = w->n_hours;
    for (; i > 0 && w->hour_ms[i - 1] > hour_ms; i--) {
        w->hours[i] = w->hours[i - 1];
        w->hour_ms[i] = w->hour_ms[i - 1];
        w->hour_pinned[i] = w->hour_pinned[i - 1];
    }
    w->hours[i] = c;
    w->hour_ms[i] = hour_ms;
    w->hour_pinned[i] = pinned;
    w->n_hours++;
    return SW_OK;
nomem:
    sw_chist_free(c);
    return sw_err_set(err, SW_E_NOMEM, "cannot grow an hourly latency window");
}

/* Pack the hour being gathered and start the next one. */
static sw_status
seal_hour(sw_lat_window *w, int64_t next_hour_ms, sw_buf *buf, sw_err *err)
{
    if (sw_hdr_total_count(w->build) > 0) {
        sw_chist *c;
        sw_status st = sw_chist_pack(w->build, buf, &c, err);
        if (st == SW_OK)
            st = insert_hour(w, w->build_hour_ms, c, false, err);
        if (st != SW_OK)
            return st;
        sw_hdr_reset(w->build);
    }
    w->build_hour_ms = next_hour_ms;
    return SW_OK;
}

/* Entries [from, from + n) out of the packed hours (their histograms freed by the caller). */
static void
remove_hours(sw_lat_window *w, size_t from, size_t n)
{
    if (n == 0)
        return; /* the arrays may not exist yet */
    size_t rest = w->n_hours - from - n;
    memmove(w->hours + from, w->hours + from + n, rest * sizeof *w->hours);
    memmove(w->hour_ms + from, w->hour_ms + from + n, rest * sizeof *w->hour_ms);
    memmove(w->hour_pinned + from, w->hour_pinned + from + n, rest * sizeof *w->hour_pinned);
    w->n_hours -= n;
}

/*
 * Remember an interval added to acc under its hour, so the hour can leave as one. An interval
 * that is a whole hour is a stored hourly row (a rebuild feeds them): the store pinned it where
 * its hour's statistics were fetched, so it is packed as pinned and a pin leaves it as it is.
 */
static sw_status
gather(sw_lat_window *w, const sw_lat_rec *rec, sw_buf *buf, sw_err *err)
{
    int64_t hour = sw_floor_to(rec->start_ms, SW_HOUR_MS);
    if (hour > w->build_hour_ms) {
        sw_status st = seal_hour(w, hour, buf, err);
        if (st != SW_OK)
            return st;
    }
    bool whole = rec->start_ms == hour && rec->end_ms == hour + SW_HOUR_MS;
    if (hour == w->build_hour_ms && !whole) {
        sw_chist_add_to(w->build, rec->latency);
        return SW_OK;
    }
    sw_chist *copy = sw_chist_clone(rec->latency);
    if (copy == NULL)
        return sw_err_set(err, SW_E_NOMEM, "cannot copy an interval's histogram");
    return insert_hour(w, hour, copy, whole, err);
}

/* The packed hours before edge leave the window, and acc. */
static sw_status
drop_hours_before(sw_lat_window *w, int64_t edge, sw_hdr *scratch, sw_err *err)
{
    size_t gone = 0;
    for (; gone < w->n_hours && w->hour_ms[gone] < edge; gone++) {
        sw_status st = sw_chist_subtract_from(w->acc, w->hours[gone], scratch, err);
        if (st != SW_OK)
            return st;
        w->steps++;
        sw_chist_free(w->hours[gone]);
    }
    remove_hours(w, 0, gone);
    return SW_OK;
}

/* Every interval of an hour that has ended is in: pack it now, a pin may come for it. */
static sw_status
seal_ended_hour(sw_lat_window *w, int64_t to_ms, sw_buf *buf, sw_err *err)
{
    int64_t hour = sw_floor_to(to_ms, SW_HOUR_MS);
    return w->build_hour_ms < hour ? seal_hour(w, hour, buf, err) : SW_OK;
}

/* Pins come at most this long after their hour (serve's queue gives up then). */
#define MONTH_PIN_REACH_MS (48 * SW_HOUR_MS)

/* Forget the packed form of the hours before `before`; acc keeps them. */
static void
forget_hours(sw_lat_window *w, int64_t before)
{
    size_t gone = 0;
    for (; gone < w->n_hours && w->hour_ms[gone] < before; gone++)
        sw_chist_free(w->hours[gone]);
    remove_hours(w, 0, gone);
}

/*
 * The month so far; at a new month, start over from its first interval. Packing hours (once
 * pinned), it keeps the last two days' hours packed too, so a pin can swap one: the month only
 * adds, so older hours never leave and need no packed form.
 */
static sw_status
move_month(sw_lat_window *w, const sw_lat_spec *spec, const sw_history *h, int64_t to_ms,
           sw_buf *buf, sw_err *err)
{
    int64_t start, end;
    sw_units_month_of(to_ms - 1, &start, &end);
    if (start != w->month_start_ms) {
        sw_hdr_reset(w->acc);
        w->month_start_ms = start;
        w->head = sw_max_u64(w->head, sw_history_seq_from(h, start));
        forget_hours(w, INT64_MAX);
        if (w->build != NULL)
            sw_hdr_reset(w->build);
        w->build_hour_ms = INT64_MIN;
    }
    uint64_t head = sw_max_u64(sw_history_seq_after(h, to_ms), w->head);
    sw_status st = SW_OK;
    for (uint64_t seq = w->head; st == SW_OK && seq < head; seq++) {
        const sw_lat_rec *rec = sw_history_lat(h, seq);
        if (!usable(rec, spec->excl_maint))
            continue;
        sw_chist_add_to(w->acc, rec->latency);
        w->steps++;
        if (w->build != NULL)
            st = gather(w, rec, buf, err);
    }
    w->head = head;
    if (st != SW_OK || w->build == NULL)
        return st;
    forget_hours(w, to_ms - MONTH_PIN_REACH_MS);
    return seal_ended_hour(w, to_ms, buf, err);
}

/* (to - length, to] with the old edge moved up to a whole hour. */
static sw_status
move_hourly(sw_lat_window *w, const sw_lat_spec *spec, const sw_history *h, int64_t to_ms,
            sw_hdr *scratch, sw_buf *buf, sw_err *err)
{
    int64_t edge = sw_ceil_to(to_ms - spec->length_ms, SW_HOUR_MS);
    uint64_t head = sw_max_u64(sw_history_seq_after(h, to_ms), w->head);
    for (uint64_t seq = w->head; seq < head; seq++) {
        const sw_lat_rec *rec = sw_history_lat(h, seq);
        if (!usable(rec, spec->excl_maint) || rec->start_ms < edge)
            continue;
        sw_chist_add_to(w->acc, rec->latency);
        w->steps++;
        sw_status st = gather(w, rec, buf, err);
        if (st != SW_OK)
            return st;
    }
    w->head = head;
    sw_status st = seal_ended_hour(w, to_ms, buf, err);
    return st == SW_OK ? drop_hours_before(w, edge, scratch, err) : st;
}

/*
 * A sliding window of whole hours, (to - length, to]: its trailing partial hour as base
 * intervals [tail, first of edge_ms), the whole hours from edge_ms on packed, the newest hour
 * gathered in build. When the old edge moves into a packed hour, the hour's packed (maybe
 * pinned) sum leaves and its base intervals still inside come back: once an hour, whatever
 * the window's length.
 */
static sw_status
leave_edge(sw_lat_window *w, const sw_lat_spec *spec, const sw_history *h, int64_t from_ms,
           sw_hdr *scratch, sw_buf *buf, sw_err *err)
{
    int64_t edge = sw_ceil_to(from_ms, SW_HOUR_MS);
    uint64_t tail = sw_history_seq_from(h, from_ms);
    if (edge == w->edge_ms) {
        sw_status st = subtract_span(w, spec, h, w->tail, sw_min_u64(tail, w->head), scratch, err);
        w->tail = sw_max_u64(w->tail, tail);
        return st;
    }
    uint64_t old_end = sw_min_u64(sw_history_seq_from(h, w->edge_ms), w->head);
    sw_status st = subtract_span(w, spec, h, w->tail, old_end, scratch, err);
    if (st == SW_OK && w->build_hour_ms < edge)
        st = seal_hour(w, edge, buf, err);
    if (st == SW_OK)
        st = drop_hours_before(w, edge, scratch, err);
    if (st != SW_OK)
        return st;
    add_span(w, spec, h, tail, sw_min_u64(sw_history_seq_from(h, edge), w->head));
    w->tail = tail;
    w->edge_ms = edge;
    return SW_OK;
}

static sw_status
move_edged(sw_lat_window *w, const sw_lat_spec *spec, const sw_history *h, int64_t to_ms,
           sw_hdr *scratch, sw_buf *buf, sw_err *err)
{
    sw_status st = leave_edge(w, spec, h, to_ms - spec->length_ms, scratch, buf, err);
    uint64_t head = sw_max_u64(sw_history_seq_after(h, to_ms), w->head);
    for (uint64_t seq = sw_max_u64(w->head, w->tail); st == SW_OK && seq < head; seq++) {
        const sw_lat_rec *rec = sw_history_lat(h, seq);
        if (!usable(rec, spec->excl_maint))
            continue;
        sw_chist_add_to(w->acc, rec->latency);
        w->steps++;
        if (rec->start_ms >= w->edge_ms)
            st = gather(w, rec, buf, err);
    }
    if (st != SW_OK)
        return st;
    w->head = head;
    return seal_ended_hour(w, to_ms, buf, err);
}

sw_status
sw_window_pack_hours(sw_lat_window *w, const sw_lat_spec *spec, const sw_history *h, sw_buf *buf,
                     sw_err *err)
{
    if (w->build != NULL || !sw_window_can_pack_hours(spec))
        return SW_OK;
    sw_status st = sw_hdr_new(&sw_hdr_latency_config, &w->build, err);
    if (st != SW_OK || w->to_ms == INT64_MIN)
        return st; /* not moved yet: the first move gathers from the start */
    uint64_t seq;
    if (spec->kind == SW_LAT_MONTH) { /* the month's last two days */
        int64_t from = sw_floor_to(w->to_ms - MONTH_PIN_REACH_MS, SW_HOUR_MS);
        seq = sw_history_seq_from(h, sw_max_i64(from, w->month_start_ms));
    } else { /* acc holds [tail, head) as a sliding window; from the first whole hour on */
        w->edge_ms = sw_ceil_to(w->to_ms - spec->length_ms, SW_HOUR_MS);
        seq = sw_max_u64(w->tail, sw_history_seq_from(h, w->edge_ms));
    }
    for (; st == SW_OK && seq < w->head; seq++)
        if (usable(sw_history_lat(h, seq), spec->excl_maint))
            st = gather(w, sw_history_lat(h, seq), buf, err);
    return st == SW_OK ? seal_ended_hour(w, w->to_ms, buf, err) : st;
}

static sw_status
move(sw_lat_window *w, const sw_lat_spec *spec, const sw_history *h, int64_t to_ms,
     const sw_move_scratch *scratch, sw_buf *buf, sw_err *err)
{
    switch (spec->kind) {
    case SW_LAT_SLIDING:
        if (w->packed != NULL)
            return sw_packed_move(w, spec, h, to_ms, err);
        if (w->build != NULL)
            return move_edged(w, spec, h, to_ms, scratch->hdr, buf, err);
        return move_sliding(w, spec, h, to_ms, scratch, err);
    case SW_LAT_MONTH:
        return move_month(w, spec, h, to_ms, buf, err);
    case SW_LAT_HOURLY:
        return move_hourly(w, spec, h, to_ms, scratch->hdr, buf, err);
    }
    return SW_OK;
}

sw_status
sw_window_move(sw_lat_window *w, const sw_lat_spec *spec, const sw_history *h, int64_t to_ms,
               const sw_move_scratch *scratch, sw_buf *buf, sw_err *err)
{
    sw_status st = move(w, spec, h, to_ms, scratch, buf, err);
    if (st == SW_OK)
        w->to_ms = sw_max_i64(w->to_ms, to_ms);
    return st;
}

void
sw_window_merge(const sw_history *h, int64_t from_ms, int64_t to_ms, bool excl_maint, sw_hdr *dst)
{
    uint64_t end = sw_history_seq_after(h, to_ms);
    for (uint64_t seq = sw_history_seq_from(h, from_ms); seq < end; seq++)
        if (usable(sw_history_lat(h, seq), excl_maint))
            sw_chist_add_to(dst, sw_history_lat(h, seq)->latency);
}

bool
sw_window_hour_sealed(const sw_lat_window *w, int64_t hour_ms)
{
    /* Moved past the hour's end (or an interval of a later hour gathered): it is packed. */
    return w->build != NULL && w->build_hour_ms != INT64_MIN && hour_ms < w->build_hour_ms;
}

/* The entries [*lo, *hi) that hold hour_ms (a late interval adds one more entry). */
static void
hour_entries(const sw_lat_window *w, int64_t hour_ms, size_t *lo, size_t *hi)
{
    size_t i = 0;
    while (i < w->n_hours && w->hour_ms[i] < hour_ms)
        i++;
    *lo = i;
    while (i < w->n_hours && w->hour_ms[i] == hour_ms)
        i++;
    *hi = i;
}

/* The hour's entries summed and handed to pin, packed. */
static sw_status
pinned_hour(const sw_lat_window *w, size_t lo, size_t hi, const sw_hour_pin *pin, sw_buf *buf,
            sw_chist **ret, sw_err *err)
{
    sw_hdr *sum;
    sw_status st = sw_hdr_new(&sw_hdr_latency_config, &sum, err);
    if (st != SW_OK)
        return st;
    for (size_t i = lo; i < hi; i++)
        sw_chist_add_to(sum, w->hours[i]);
    st = pin->fn(pin->ctx, pin->stats, pin->len, sum, err);
    if (st == SW_OK)
        st = sw_chist_pack(sum, buf, ret, err);
    sw_hdr_free(sum);
    return st;
}

sw_status
sw_window_pin_hour(sw_lat_window *w, int64_t hour_ms, const sw_hour_pin *pin, sw_hdr *scratch,
                   sw_buf *buf, sw_err *err)
{
    size_t lo, hi;
    hour_entries(w, hour_ms, &lo, &hi);
    if (lo == hi)
        return SW_OK; /* left the window already, or all of it under left-out maintenance */
    if (hi - lo == 1 && w->hour_pinned[lo])
        return SW_OK; /* pinned already (live, or where it was stored): once is the pin */
    sw_chist *c;
    sw_status st = pinned_hour(w, lo, hi, pin, buf, &c, err);
    if (st != SW_OK)
        return st;
    /* The pin keeps the hour's total, so only its latency shape changes in acc. */
    for (size_t i = lo; st == SW_OK && i < hi; i++) {
        st = sw_chist_subtract_from(w->acc, w->hours[i], scratch, err);
        w->steps++;
    }
    if (st != SW_OK) {
        sw_chist_free(c);
        return st;
    }
    for (size_t i = lo; i < hi; i++)
        sw_chist_free(w->hours[i]);
    sw_chist_add_to(w->acc, c);
    w->steps++;
    w->hours[lo] = c;
    w->hour_ms[lo] = hour_ms;
    w->hour_pinned[lo] = true;
    remove_hours(w, lo + 1, hi - lo - 1);
    return SW_OK;
}

/* ------------------------------------------------------------------ the window's own statistics */

sw_status
sw_window_pin_view(sw_lat_window *w, const sw_history *h, const sw_hour_pin *pin, sw_err *err)
{
    w->view_to_ms = INT64_MIN; /* no view answers until this one is made */
    if (w->view == NULL) {
        sw_status st = sw_hdr_new(&sw_hdr_latency_config, &w->view, err);
        if (st != SW_OK)
            return st;
    }
    sw_hdr_reset(w->view);
    if (w->packed != NULL)
        sw_packed_merge(w, h, w->view);
    else
        sw_hdr_add(w->view, w->acc);
    sw_status st = pin->fn(pin->ctx, pin->stats, pin->len, w->view, err);
    if (st != SW_OK)
        return st;
    w->view_to_ms = w->to_ms;
    w->view_steps = w->steps;
    return SW_OK;
}

const sw_hdr *
sw_window_latency(const sw_lat_window *w)
{
    bool holds = w->view != NULL && w->view_to_ms != INT64_MIN && w->view_to_ms == w->to_ms &&
                 w->view_steps == w->steps;
    return holds ? w->view : w->acc;
}
