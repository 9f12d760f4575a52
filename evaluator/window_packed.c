/*
 * Short sliding latency windows read where their intervals already are. An alert's minute holds
 * six 10 s intervals, which the history keeps packed (chist) for as long as its sliding windows
 * reach; a merged histogram of them cost a pass over its thousand-odd buckets at every step and
 * 15 KB a series. Such a window keeps no histogram: moving it costs one pass over the interval
 * that arrives (its last bucket and the values the latency layout takes of it, which a read from
 * the top needs), and a percentile is read from the intervals themselves, merged k ways from
 * the nearer end of its rank, so a p95 visits the top twentieth of their buckets. Every answer
 * is the merged histogram's: the same buckets counted, the same rank.
 */
#include "eval_int.h"

#include <stdlib.h>

/* ------------------------------------------------------------------ the window's intervals */

/* Intervals (t - length, t] can hold: each is a whole number of base intervals, aligned. */
static size_t
packed_cap(int64_t length_ms, int64_t base_ms)
{
    return (size_t)(length_ms / base_ms) + 2;
}

bool
sw_packed_fits(const sw_lat_spec *spec, int64_t base_ms)
{
    return spec->kind == SW_LAT_SLIDING && spec->length_ms < SW_HOUR_MS && base_ms > 0 &&
           packed_cap(spec->length_ms, base_ms) <= SW_PACKED_MAX;
}

sw_status
sw_packed_init(sw_lat_window *w, const sw_lat_spec *spec, int64_t base_ms, sw_err *err)
{
    w->packed_cap = packed_cap(spec->length_ms, base_ms);
    w->packed = calloc(w->packed_cap, sizeof *w->packed);
    if (w->packed == NULL)
        return sw_err_set(err, SW_E_NOMEM, "cannot allocate a sliding latency window");
    return SW_OK;
}

static sw_packed_iv *
slot(const sw_lat_window *w, uint64_t seq)
{
    return &w->packed[seq % w->packed_cap];
}

/* What a read needs of interval seq, noted as it enters; false when it has no usable latency. */
static bool
note(sw_lat_window *w, const sw_lat_spec *spec, const sw_history *h, uint64_t seq)
{
    const sw_lat_rec *rec = sw_history_lat(h, seq);
    sw_packed_iv *iv = slot(w, seq);
    *iv = (sw_packed_iv){.last = -1, .held = 0};
    if (!sw_lat_rec_usable(rec, spec->excl_maint))
        return false;
    sw_chist_extent(rec->latency, sw_hdr_latency_config.highest_trackable_value, &iv->last,
                    &iv->held);
    w->packed_total += iv->held;
    return true;
}

sw_status
sw_packed_move(sw_lat_window *w, const sw_lat_spec *spec, const sw_history *h, int64_t to_ms,
               sw_err *err)
{
    uint64_t tail = sw_history_seq_from(h, to_ms - spec->length_ms);
    uint64_t head = sw_max_u64(sw_history_seq_after(h, to_ms), tail);
    if (head - tail > (uint64_t)w->packed_cap) /* only intervals shorter than the base's */
        return sw_err_set(err, SW_E_INVAL, "a sliding latency window holds %llu intervals",
                          (unsigned long long)(head - tail));
    for (uint64_t seq = w->tail; seq < sw_min_u64(w->head, tail); seq++) {
        const sw_packed_iv *iv = slot(w, seq);
        w->packed_total -= iv->held;
        w->steps += iv->last >= 0;
    }
    for (uint64_t seq = sw_max_u64(w->head, tail); seq < head; seq++)
        w->steps += note(w, spec, h, seq);
    w->tail = tail;
    w->head = head;
    return SW_OK;
}

sw_status
sw_packed_reload(sw_lat_window *w, const sw_lat_spec *spec, const sw_history *h, sw_err *err)
{
    if (w->tail < w->head &&
        (w->tail < h->latency_first || w->head - w->tail > (uint64_t)w->packed_cap))
        return sw_err_set(err, SW_E_PARSE, "a sliding latency window's intervals are not kept");
    w->packed_total = 0;
    for (uint64_t seq = w->tail; seq < w->head; seq++)
        note(w, spec, h, seq);
    return SW_OK;
}

void
sw_packed_merge(const sw_lat_window *w, const sw_history *h, sw_hdr *dst)
{
    for (uint64_t seq = w->tail; seq < w->head; seq++)
        if (slot(w, seq)->last >= 0)
            sw_chist_add_to(dst, sw_history_lat(h, seq)->latency);
}

int64_t
sw_packed_total(const sw_lat_window *w)
{
    return w->packed_total;
}

/* ------------------------------------------------------------------ percentiles */

/* An interval's next bucket in the walk: its lowest value, and which interval. */
typedef struct walk_head {
    int64_t value;
    uint32_t i;
} walk_head;

/* The intervals' cursors, their next buckets in a heap: the walk's next one first (down: the
 * highest). */
typedef struct walk {
    sw_chist_cursor cur[SW_PACKED_MAX];
    walk_head heap[SW_PACKED_MAX];
    size_t n;
    bool down;
} walk;

static inline bool
first(const walk *k, const walk_head *a, const walk_head *b)
{
    return k->down ? a->value > b->value : a->value < b->value;
}

static void
sift(walk *k, size_t i)
{
    walk_head h = k->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= k->n)
            break;
        if (c + 1 < k->n && first(k, &k->heap[c + 1], &k->heap[c]))
            c++;
        if (!first(k, &k->heap[c], &h))
            break;
        k->heap[i] = k->heap[c];
        i = c;
    }
    k->heap[i] = h;
}

/* Every interval holding values at its first bucket of the walk (down: the highest the latency
 * layout holds; the values above it were never counted). */
static void
walk_start(const sw_lat_window *w, const sw_history *h, bool down, walk *k)
{
    int64_t max = sw_hdr_latency_config.highest_trackable_value;
    k->n = 0;
    k->down = down;
    for (uint64_t seq = w->tail; seq < w->head; seq++) {
        const sw_packed_iv *iv = slot(w, seq);
        if (iv->held == 0)
            continue;
        sw_chist_cursor *c = &k->cur[k->n];
        const sw_chist *packed = sw_history_lat(h, seq)->latency;
        if (down) {
            sw_chist_cursor_top(packed, iv->last, c);
            while (c->value > max && sw_chist_down(c))
                ;
        } else {
            sw_chist_cursor_bottom(packed, c);
            sw_chist_up(c);
        }
        k->heap[k->n] = (walk_head){c->value, (uint32_t)k->n};
        k->n++;
    }
    for (size_t i = k->n / 2; i-- > 0;)
        sift(k, i);
}

/*
 * The lowest value of the bucket the walk reaches past `enough` values: going up, the first
 * whose count brings the values seen to enough; going down, past it. Buckets are ranges of
 * values, so walking by value visits a bucket's values from every interval together, and the
 * bucket found is the merged histogram's.
 */
static int64_t
walk_to(walk *k, int64_t enough)
{
    int64_t seen = 0, value = 0;
    while (k->n > 0) {
        sw_chist_cursor *c = &k->cur[k->heap[0].i];
        seen += c->count;
        value = c->value;
        if (k->down ? seen > enough : seen >= enough)
            break;
        if (k->down ? sw_chist_down(c) : sw_chist_up(c))
            k->heap[0].value = c->value;
        else
            k->heap[0] = k->heap[--k->n];
        sift(k, 0);
    }
    return value;
}

/* The answer a read of w made during this advance (the memo's key: where the window ends and
 * what it took in or let go, so a window that moved or took a late interval is read again). */
static bool
memo_find(const sw_packed_memo *m, const sw_lat_window *w, double percentile, int64_t *ret)
{
    for (size_t i = 0; m != NULL && i < m->n; i++) {
        const sw_packed_memo_entry *e = &m->e[i];
        if (e->w == w && e->to_ms == w->to_ms && e->steps == w->steps &&
            e->percentile == percentile) {
            *ret = e->value;
            return true;
        }
    }
    return false;
}

static void
memo_keep(sw_packed_memo *m, const sw_lat_window *w, double percentile, int64_t value)
{
    if (m == NULL)
        return;
    sw_packed_memo_entry *e = &m->e[m->n < SW_PACKED_MEMO_MAX ? m->n++ : m->next];
    if (m->n == SW_PACKED_MEMO_MAX)
        m->next = (m->next + 1) % SW_PACKED_MEMO_MAX;
    *e = (sw_packed_memo_entry){w, w->to_ms, w->steps, percentile, value};
}

void
sw_packed_memo_clear(sw_packed_memo *m)
{
    m->n = 0;
    m->next = 0;
}

/* sw_hdr_value_at_percentile of the merged histogram, from the intervals. */
static int64_t
percentile_of(const sw_lat_window *w, const sw_history *h, const sw_hdr *layout, double percentile)
{
    int64_t total = w->packed_total;
    int64_t rank = sw_hdr_percentile_rank(percentile, total);
    walk k;
    bool down = rank > total / 2;
    walk_start(w, h, down, &k);
    int64_t value = walk_to(&k, down ? total - rank : rank);
    if (percentile == 0.0)
        return sw_hdr_lowest_equivalent(layout, value);
    return sw_hdr_highest_equivalent(layout, value);
}

int64_t
sw_packed_percentile(const sw_lat_window *w, const sw_history *h, const sw_hdr *layout,
                     double percentile, sw_packed_memo *memo)
{
    if (w->packed_total == 0)
        return 0;
    int64_t value;
    if (memo_find(memo, w, percentile, &value))
        return value;
    value = percentile_of(w, h, layout, percentile);
    memo_keep(memo, w, percentile, value);
    return value;
}
