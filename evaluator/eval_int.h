/*
 * Private interfaces between the evaluator's modules: compact histograms (chist), a series'
 * multi-resolution history (history), sliding latency windows (window), maintenance ranges
 * (maint), the plan compiled from a rule set (plan), conditions, slices, budgets, alerts and
 * triggers. Everything here belongs to one sw_eval and is touched by the thread that owns it.
 */
#ifndef SLAWATCH_EVAL_INT_H
#define SLAWATCH_EVAL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slawatch/buf.h"
#include "slawatch/canary.h"
#include "slawatch/eval.h"
#include "slawatch/gate_policy.h"
#include "slawatch/hdr.h"
#include "slawatch/rules.h"
#include "slawatch/sli.h"

#include "ckpt_codec.h"

#define SW_MINUTE_MS INT64_C(60000)
#define SW_HOUR_MS INT64_C(3600000)
#define SW_DAY_MS INT64_C(86400000)
/* Windows up to this long are summed from base intervals, exactly; longer ones from rollups. */
#define SW_EXACT_MAX_MS (2 * SW_DAY_MS)

static inline int64_t
sw_floor_to(int64_t t, int64_t step)
{
    int64_t q = t / step;
    return (q - (t % step < 0)) * step;
}

static inline int64_t
sw_ceil_to(int64_t t, int64_t step)
{
    return -sw_floor_to(-t, step);
}

static inline int64_t
sw_max_i64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

static inline int64_t
sw_min_i64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static inline uint64_t
sw_max_u64(uint64_t a, uint64_t b)
{
    return a > b ? a : b;
}

static inline uint64_t
sw_min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

/* ------------------------------------------------------------------ chist.c */

/*
 * A histogram's recorded buckets packed as LEB128 pairs (gap from the previous bucket's lowest
 * value, count): a few bytes per recorded bucket instead of the dense layout. One allocation.
 */
typedef struct sw_chist sw_chist;

/* Pack h's recorded buckets; buf is scratch space (reset here). */
sw_status sw_chist_pack(const sw_hdr *h, sw_buf *buf, sw_chist **ret, sw_err *err);
/*
 * Pack the histogram a V0/V1/V2 encoding holds, without decoding it into one: the same pairs
 * sw_chist_pack() gives for sw_hdr_decode()'s result. ret_at_or_below[k] is what
 * sw_hdr_count_at_or_below(thresholds[k]) says of that histogram (the values in buckets whose
 * lowest value is <= thresholds[k]). buf is scratch space (reset here).
 */
sw_status sw_chist_decode(const uint8_t *data, size_t len, const int64_t *thresholds,
                          size_t n_thresholds, int64_t *ret_at_or_below, sw_buf *buf,
                          sw_chist **ret, sw_err *err);

/* Values recorded. */
int64_t sw_chist_total(const sw_chist *c);

sw_chist *sw_chist_clone(const sw_chist *c);
void sw_chist_free(sw_chist *c);
size_t sw_chist_size(const sw_chist *c);

/* Recorded buckets. */
int64_t sw_chist_buckets(const sw_chist *c);

/* The lowest values of its first and last recorded buckets (-1 and 0 when it holds none). */
void sw_chist_span(const sw_chist *c, int64_t *ret_first, int64_t *ret_last);

/* Its last recorded bucket's lowest value (0 when it holds none) and the values recorded in
 * buckets whose lowest value is at most max_value (what a histogram of that highest trackable
 * value takes of it), in one pass. */
void sw_chist_extent(const sw_chist *c, int64_t max_value, int64_t *ret_last, int64_t *ret_held);

/* A compact histogram's buckets read one at a time: up from the first, or down from the last
 * (whose lowest value sw_chist_extent gives: the gaps are coded upwards). */
typedef struct sw_chist_cursor {
    const uint8_t *begin, *p, *end;
    bool scaled;
    int64_t value, count; /* the bucket read last: its lowest value and count */
    uint64_t gap;         /* going down: the gap that led to it */
} sw_chist_cursor;

/* Before the first bucket: sw_chist_up reads it. */
void sw_chist_cursor_bottom(const sw_chist *c, sw_chist_cursor *cur);
/* The next bucket up; false past the last. */
bool sw_chist_up(sw_chist_cursor *cur);
/* At the last bucket (last its lowest value; c not empty): sw_chist_down reads those below. */
void sw_chist_cursor_top(const sw_chist *c, int64_t last, sw_chist_cursor *cur);
/* The next bucket down; false past the first. */
bool sw_chist_down(sw_chist_cursor *cur);

/* dst += c, exactly when dst has the layout c was packed from. */
void sw_chist_add_to(sw_hdr *dst, const sw_chist *c);

/* dst -= c through scratch (empty on entry and on return, same layout as dst). */
sw_status sw_chist_subtract_from(sw_hdr *dst, const sw_chist *c, sw_hdr *scratch, sw_err *err);

/* ------------------------------------------------------------------ sums */

/* Per-interval counts that add and subtract; windows are differences of running totals. */
enum {
    SW_SUM_REQUESTS,
    SW_SUM_ERRORS,
    SW_SUM_PROBES,
    SW_SUM_FAILURES,
    SW_SUM_DATA_MS,   /* milliseconds of intervals with data */
    SW_SUM_LAT_TOTAL, /* values in the latency histograms (may be a sample of the requests) */
    SW_SUM_SLOW,      /* first of the plan's n_slow counts of values above a latency threshold */
};

#define SW_SLOW_MAX SW_RULES_MAX_SLOW_THRESHOLDS
#define SW_SUMS_MAX (SW_SUM_SLOW + SW_SLOW_MAX)

typedef struct sw_sums {
    uint64_t v[SW_SUMS_MAX];
} sw_sums;

/* ------------------------------------------------------------------ ring.c */

/* One bucket: a base interval or a 1-minute / 1-hour rollup, with its own counts. */
typedef struct sw_rec {
    int64_t start_ms, end_ms;
    uint32_t tail_run; /* base level only: consecutive failed probes up to end_ms */
    uint32_t peak_run; /* base level only: the longest run of failed probes with one in here,
                          counted whole (with its failures in earlier intervals) */
    uint32_t in_maint; /* base level only: overlaps a maintenance window */
    uint64_t sums[SW_SUMS_MAX];
} sw_rec;

/* Up to 32 buckets coded compactly (ring.c); data holds the running totals before the first
 * (varints, relative to the ring's origin), each field's width, reference and minimum, then
 * the buckets' fields bit-packed at those widths. */
typedef struct sw_ring_block {
    int64_t start_ms;    /* its first bucket's start */
    int64_t last_end_ms; /* its last coded bucket's end */
    uint8_t *data;
} sw_ring_block;

/* A bucket's fields as a block codes them: where it starts and how long it lasts against the
 * block's regular grid, its runs, its counts. */
enum { SW_FLD_START, SW_FLD_LENGTH, SW_FLD_TAIL, SW_FLD_PEAK, SW_FLD_MAINT, SW_FLD_SUMS };
#define SW_FLD_MAX (SW_FLD_SUMS + SW_SUMS_MAX)

/* A block's header read (ring.c): what finding and decoding its buckets needs. */
typedef struct sw_ring_view {
    uint64_t cum[SW_SUMS_MAX]; /* running totals before its first bucket */
    uint64_t min[SW_FLD_MAX];  /* each field's value = min + its bits (+ its reference's) */
    uint8_t width[SW_FLD_MAX];
    uint8_t ref[SW_FLD_MAX];  /* 0, or 1 + the earlier field it is a difference from */
    uint16_t off[SW_FLD_MAX]; /* its bits' offset in a bucket's row */
    uint32_t row_bits;
    const uint8_t *bits;
    size_t n;           /* coded buckets */
    uint64_t first_seq; /* the first one's sequence number */
    int64_t start_ms;   /* the first one's start */
    bool regular;       /* every bucket res_ms long, each starting where the one before ends */
} sw_ring_view;

/*
 * Buckets in start order (starts and ends never decrease), addressed by absolute sequence
 * numbers, with running totals of their counts: blocks of coded buckets in a circular array,
 * the newest bucket decoded apart (rollups add to it).
 */
typedef struct sw_ring {
    size_t n_sums;
    int64_t res_ms; /* the nominal length: buckets are coded against a grid of it */
    sw_ring_block *blocks;
    size_t block_cap, block_head, n_blocks;
    size_t fit_blocks;                /* the retention's blocks: growth stops there first */
    uint64_t stored;                  /* first sequence number the blocks hold (<= first) */
    uint64_t first, end;              /* live sequence numbers are [first, end) */
    int64_t first_end_ms;             /* the end of bucket `first` */
    uint64_t origin[SW_SUMS_MAX];     /* what block headers' totals are relative to */
    uint64_t base_cum[SW_SUMS_MAX];   /* running totals before `first` */
    uint64_t sealed_cum[SW_SUMS_MAX]; /* running totals before the newest bucket */
    sw_rec newest;                    /* bucket end - 1, when end > stored */
    int64_t dropped_start_ms;         /* start of the newest dropped bucket; INT64_MIN: none */
} sw_ring;

/* Reads buckets forward from a sequence number, with their running totals. */
typedef struct sw_ring_reader {
    const sw_ring *r;
    uint64_t next; /* the sequence number read next */
    size_t block;
    sw_ring_view view;         /* of that block */
    sw_rec rec;                /* the bucket read last */
    uint64_t cum[SW_SUMS_MAX]; /* running totals through rec */
} sw_ring_reader;

/* fit: the buckets the retention holds. */
void sw_ring_init(sw_ring *r, size_t n_sums, int64_t res_ms, size_t fit);
void sw_ring_fini(sw_ring *r);
/* An empty ring (just initialised) made to start at sequence number first after base_cum. */
void sw_ring_start_at(sw_ring *r, uint64_t first, const uint64_t *base_cum);
/* A new newest bucket without counts (the previous newest is coded). */
sw_status sw_ring_push(sw_ring *r, int64_t start_ms, int64_t end_ms, sw_rec **ret, sw_err *err);
sw_rec *sw_ring_newest(sw_ring *r); /* NULL when empty */
uint64_t sw_ring_seq_start_at_or_after(const sw_ring *r, int64_t t);
uint64_t sw_ring_seq_end_after(const sw_ring *r, int64_t t);
/* Those two with the running totals before the bucket found (ret), in one pass. */
uint64_t sw_ring_cum_from(const sw_ring *r, int64_t t, uint64_t *ret);
uint64_t sw_ring_cum_after(const sw_ring *r, int64_t t, uint64_t *ret);
/* What a drop hands each bucket before it forgets it. */
typedef sw_status sw_ring_gone_fn(void *ctx, const sw_rec *rec, sw_err *err);
/* Forget the buckets ending at or before before_ms, oldest first, each handed to gone (may be
 * NULL) first; its error stops the drop before that bucket. */
sw_status sw_ring_drop(sw_ring *r, int64_t before_ms, sw_ring_gone_fn *gone, void *ctx,
                       sw_err *err);
/* Where a lookup stopped: a later lookup at a time no earlier reads on from there instead of
 * searching (the tick's windows move one bucket a boundary). Its owner keeps the running totals
 * before its bucket beside it. */
typedef struct sw_ring_finger {
    int64_t t;      /* the time asked; INT64_MAX: unset */
    uint64_t seq;   /* the bucket found */
    int64_t seq_at; /* its start (by end: its end); INT64_MIN: not read yet */
} sw_ring_finger;

/* How sw_ring_cum_on answered: without a search (no finger needed), by moving the finger, or
 * by a search whose answer a finger may be placed at (t, the answer, INT64_MIN; f_cum = ret). */
typedef enum { SW_FINGER_UNUSED, SW_FINGER_MOVED, SW_FINGER_WANTED } sw_finger_use;

/* sw_ring_cum_from (by_end: sw_ring_cum_after) at t, read on from finger f (NULL: none; f_cum
 * its totals) when it lies at or before t and a few buckets from the answer; the same answer. */
uint64_t sw_ring_cum_on(const sw_ring *r, int64_t t, bool by_end, sw_ring_finger *f,
                        uint64_t *f_cum, uint64_t *ret, sw_finger_use *use);
/* first <= seq <= end; then each sw_ring_read_next gives the next bucket, false past the end. */
void sw_ring_read_from(const sw_ring *r, uint64_t seq, sw_ring_reader *rd);
bool sw_ring_read_next(sw_ring_reader *rd, const sw_rec **ret);

/* ------------------------------------------------------------------ history.c */

enum { SW_LEVEL_BASE, SW_LEVEL_MINUTE, SW_LEVEL_HOUR, SW_LEVELS };

typedef struct sw_history_config {
    size_t n_sums;
    int64_t base_ms;
    int64_t keep_ms[SW_LEVELS]; /* 0: the level is not kept (base is always kept) */
    int64_t latency_keep_ms;    /* base-interval histograms are kept this long */
} sw_history_config;

/* A base interval as latency windows read it, while its histogram is kept. */
typedef struct sw_lat_rec {
    int64_t start_ms, end_ms;
    sw_chist *latency; /* NULL when absent */
    uint32_t in_maint;
} sw_lat_rec;

/* The interval has latency a window takes (maintenance left out when excl_maint). */
static inline bool
sw_lat_rec_usable(const sw_lat_rec *rec, bool excl_maint)
{
    return rec != NULL && rec->latency != NULL && !(excl_maint && rec->in_maint);
}

/*
 * A series' intervals: base intervals (exact, with health runs), 1-minute and 1-hour rollups
 * of their counts, and the same three levels again for the intervals that overlap
 * maintenance, so objectives can leave those out; the recent base intervals' compact
 * histograms in a ring of their own.
 */
typedef struct sw_history {
    sw_history_config cfg;
    sw_ring level[SW_LEVELS];
    sw_ring *maint; /* [SW_LEVELS], from the first interval in maintenance on; NULL before */
    /* Where the advancing series' window sums last looked each ring up (sw_history_sums_on);
     * NULL when it could not be allocated (every lookup then searches). */
    struct sw_history_fingers *fingers;
    sw_lat_rec *lat; /* base intervals [latency_first, level[base].end), circular */
    size_t lat_cap, lat_head;
    uint64_t latency_first; /* first base sequence number whose histogram may be held */
    uint32_t tail_run;      /* after the newest interval */
    int64_t first_start_ms; /* INT64_MIN before the first interval */
    int64_t last_end_ms;    /* INT64_MIN before the first interval */
} sw_history;

void sw_history_init(sw_history *h, const sw_history_config *cfg);
void sw_history_fini(sw_history *h);

/* The maintenance levels made (empty) if the history has none yet; unmade again when they never
 * held an interval (as a history without maintenance saves them: a checkpoint's load). */
sw_status sw_history_maint_set(sw_history *h, sw_err *err);
void sw_history_maint_unset_unused(sw_history *h);

/* Store an interval with its sums; takes lat (may be NULL). On error lat is freed. */
sw_status sw_history_append(sw_history *h, const sw_sli_interval *iv, const sw_sums *sums,
                            bool in_maint, sw_chist *lat, sw_err *err);

/* Sums of the buckets with start >= from and end <= to; excl_maint leaves maintenance out. */
void sw_history_sums(const sw_history *h, int64_t from_ms, int64_t to_ms, bool excl_maint,
                     sw_sums *ret);
/* The same sums, each ring looked up through the history's fingers: read on from where the same
 * window stopped at the last boundary, not searched. Only the thread advancing the series calls
 * it (it writes the fingers); readers beside it ask sw_history_sums. */
void sw_history_sums_on(const sw_history *h, int64_t from_ms, int64_t to_ms, bool excl_maint,
                        sw_sums *ret);

/* Consecutive failed probes up to the last base interval ending at or before to_ms. */
uint32_t sw_history_tail_run(const sw_history *h, int64_t to_ms);

/*
 * The longest run of failed probes that reached into the base intervals with start >= from and
 * end <= to, counted whole (a run that began earlier, ended inside and was followed by a
 * success there included), or the run still going at to_ms if longer: what
 * health_consecutive_failures measures. Scans the base intervals kept.
 */
uint32_t sw_history_peak_run(const sw_history *h, int64_t from_ms, int64_t to_ms);

/* Forget what no window needs any more, now_ms being the evaluation time (base intervals roll
 * into their minutes as they go: an error only when a minute cannot be added). */
sw_status sw_history_drop(sw_history *h, int64_t now_ms, sw_err *err);

/* Base intervals, for sliding windows: sequence numbers and lookups. NULL: the interval's
 * histogram is no longer kept (or seq is not an interval's). */
const sw_lat_rec *sw_history_lat(const sw_history *h, uint64_t seq);
/* The checkpoint's load: the next base interval as saved, its histogram (taken, may be NULL)
 * kept from latency_first on. */
sw_status sw_history_put_base(sw_history *h, const sw_rec *rec, sw_chist *lat, sw_err *err);
uint64_t sw_history_seq_from(const sw_history *h, int64_t start_ms); /* first start >= */
uint64_t sw_history_seq_after(const sw_history *h, int64_t end_ms);  /* first end > */
/* Running total of sum `which` over every interval ending at or before to_ms, ever. */
uint64_t sw_history_total(const sw_history *h, int64_t to_ms, int which);

/* ------------------------------------------------------------------ sums_fingers.c */

/* An advancing series' fingers into its history's rings (sw_history.fingers). */
typedef struct sw_history_fingers sw_history_fingers;

sw_history_fingers *sw_sums_fingers_new(size_t n_sums); /* NULL when out of memory */
void sw_sums_fingers_free(sw_history_fingers *fs);
/* The fingers into one set of levels (0: all intervals, 1: maintenance) forgotten: its rings
 * are about to be unmade. */
void sw_sums_fingers_forget_set(sw_history_fingers *fs, int set);
/* sw_ring_cum_from (by_end: sw_ring_cum_after) of ring r, level `level` of set `set`, at t: the
 * same answer, read on from the nearest finger of that ring and edge kind at or before t. */
uint64_t sw_sums_fingers_cum(sw_history_fingers *fs, int set, int level, const sw_ring *r,
                             int64_t t, bool by_end, uint64_t *ret);

/* ------------------------------------------------------------------ sums_memo.c */

#define SW_SUMS_MEMO_MAX 16

typedef struct sw_sums_memo_entry {
    int64_t from_ms, to_ms;
    bool excl_maint;
    sw_sums sums;
} sw_sums_memo_entry;

/* The sums of the windows asked for during one advance of one series (its history unchanged). */
typedef struct sw_sums_memo {
    size_t n;
    sw_sums_memo_entry e[SW_SUMS_MEMO_MAX];
} sw_sums_memo;

void sw_sums_memo_clear(sw_sums_memo *m);

/* sw_history_sums, answered from m when the same window was asked since m was cleared and kept
 * there; m NULL: from the history (a reader beside the advancing thread). */
void sw_series_sums(sw_sums_memo *m, const sw_history *h, int64_t from_ms, int64_t to_ms,
                    bool excl_maint, sw_sums *ret);

/* ------------------------------------------------------------------ maint.c */

/* A service's maintenance windows widened to base intervals, merged and sorted. */
typedef struct sw_maint {
    int64_t *start_ms, *end_ms;
    size_t n;
} sw_maint;

sw_status sw_maint_build(const sw_service *svc, int64_t base_ms, sw_maint *ret, sw_err *err);
void sw_maint_fini(sw_maint *m);
bool sw_maint_overlaps(const sw_maint *m, int64_t from_ms, int64_t to_ms);
/* Milliseconds of [from, to) under maintenance. */
int64_t sw_maint_ms_in(const sw_maint *m, int64_t from_ms, int64_t to_ms);
/* Slices (of slice_ms, aligned to the epoch) inside [from, to) that overlap maintenance. */
int64_t sw_maint_slices_in(const sw_maint *m, int64_t slice_ms, int64_t from_ms, int64_t to_ms);

/* ------------------------------------------------------------------ window.c */

typedef enum sw_lat_kind {
    SW_LAT_SLIDING, /* (t - length, t] from base intervals: add the newest, subtract the oldest;
                       an hour or longer, once pinned: whole hours packed, edges as intervals;
                       short ones read from the packed intervals (sw_packed_fits) */
    SW_LAT_MONTH,   /* the calendar month so far: add only, reset at the month's start */
    SW_LAT_HOURLY,  /* rolling windows beyond 2 d: the old edge leaves by whole hours */
} sw_lat_kind;

/*
 * Alert and trigger windows keep maintenance in and move at every base-interval boundary;
 * objective windows leave it out and move at the evaluation time only.
 */
typedef struct sw_lat_spec {
    sw_lat_kind kind;
    int64_t length_ms;
    bool excl_maint;
    bool at_boundaries;
} sw_lat_spec;

/* What a short sliding window's read needs of one of its intervals (window_packed.c). */
typedef struct sw_packed_iv {
    int64_t last; /* its last bucket's lowest value; -1: no usable latency */
    int64_t held; /* its values the latency layout holds */
} sw_packed_iv;

/* Most intervals a window read from its packed intervals holds. */
#define SW_PACKED_MAX 64

/* A latency window's merged histogram and how far it has consumed the base intervals. */
typedef struct sw_lat_window {
    sw_hdr *acc;                /* NULL for a window read from its packed intervals */
    sw_packed_iv *packed;       /* those: [tail, head)'s, at seq % packed_cap; else NULL */
    size_t packed_cap;
    int64_t packed_total;       /* those: the values of [tail, head) the latency layout holds */
    uint64_t tail, head;    /* sliding: base intervals [tail, head) are in acc; others: head */
    int64_t edge_ms;        /* sliding, packing hours: its first whole hour (INT64_MIN before) */
    int64_t to_ms;          /* where it was last moved to; INT64_MIN before */
    int64_t month_start_ms; /* month: the month acc holds; INT64_MIN before the first */
    sw_hdr *build;          /* hourly, sliding packing hours: the newest hour being gathered */
    int64_t build_hour_ms;  /* INT64_MIN when build is empty */
    sw_chist **hours;       /* those too: packed hours in acc, oldest first */
    int64_t *hour_ms;
    bool *hour_pinned; /* the entry is its hour pinned (live, or a stored hourly row) */
    size_t n_hours, cap_hours;
    uint64_t steps;      /* histograms added to acc or taken out of it, ever (sw_eval_work) */
    sw_hdr *view;        /* acc pinned to the window's own statistics (sw_window_pin_view) */
    int64_t view_to_ms;  /* the window's end the view was made at */
    uint64_t view_steps; /* steps when it was made: acc unchanged since while equal */
} sw_lat_window;

/* base_ms: the rules' base interval (a short sliding window is read from its intervals). */
sw_status sw_window_init(sw_lat_window *w, const sw_lat_spec *spec, int64_t base_ms, sw_err *err);
/* The window packs whole hours, so a pinned hour can take a packed one's place. */
bool sw_window_packs_hours(const sw_lat_window *w);
/* Rolling windows beyond 2 d always do; sliding ones of an hour or more once asked to. */
bool sw_window_can_pack_hours(const sw_lat_spec *spec);
/*
 * Make a sliding window of an hour or more pack its whole hours from now on (a pin came for
 * its series): the hours it holds are packed from h once, then as they end.
 */
sw_status sw_window_pack_hours(sw_lat_window *w, const sw_lat_spec *spec, const sw_history *h,
                               sw_buf *buf, sw_err *err);
void sw_window_fini(sw_lat_window *w);

/* A window move's scratch histograms, empty between uses: hdr, the evaluator's shared one, and
 * the two sides of a sliding window's steady step, which hold one interval each and so stay
 * compact (a reset keeps a range a merge made). */
typedef struct sw_move_scratch {
    sw_hdr *hdr, *slide_out, *slide_in;
} sw_move_scratch;

/* Make w hold the window ending at to_ms (never earlier than before). */
sw_status sw_window_move(sw_lat_window *w, const sw_lat_spec *spec, const sw_history *h,
                         int64_t to_ms, const sw_move_scratch *scratch, sw_buf *buf, sw_err *err);

/* An hour's latency statistics and the function that pins a histogram to them. */
typedef struct sw_hour_pin {
    sw_eval_pin_fn fn;
    void *ctx;
    const void *stats;
    size_t len;
} sw_hour_pin;

/* A window packing hours has packed hour_ms: it was moved past the hour's end. */
bool sw_window_hour_sealed(const sw_lat_window *w, int64_t hour_ms);

/*
 * Replace hour_ms's packed histograms in an hourly window (and in acc) with their sum pinned by
 * pin; nothing to do when the window holds none of the hour. scratch is empty.
 */
sw_status sw_window_pin_hour(sw_lat_window *w, int64_t hour_ms, const sw_hour_pin *pin,
                             sw_hdr *scratch, sw_buf *buf, sw_err *err);

/*
 * A view of the window as it is now (acc, which keeps its totals) pinned by pin to the
 * statistics of the whole window asked as one period; answered by sw_window_latency() until the
 * window moves or acc changes. On error no view is answered.
 */
sw_status sw_window_pin_view(sw_lat_window *w, const sw_history *h, const sw_hour_pin *pin,
                             sw_err *err);

/* What the window's answers read: its pinned view while it holds, else acc (NULL for a window
 * read from its packed intervals: sw_packed_percentile). */
const sw_hdr *sw_window_latency(const sw_lat_window *w);

/* ------------------------------------------------------------------ window_packed.c */

/*
 * Sliding windows shorter than an hour of at most SW_PACKED_MAX base intervals keep no merged
 * histogram: their intervals stay packed in the history (which keeps them while the window
 * reaches them), and their percentiles are read from there.
 */
bool sw_packed_fits(const sw_lat_spec *spec, int64_t base_ms);
sw_status sw_packed_init(sw_lat_window *w, const sw_lat_spec *spec, int64_t base_ms, sw_err *err);
/* (to - length, to]: what enters is noted, what leaves forgotten. */
sw_status sw_packed_move(sw_lat_window *w, const sw_lat_spec *spec, const sw_history *h,
                         int64_t to_ms, sw_err *err);
/* A window loaded with its positions only (checkpoint): its intervals noted again from h. */
sw_status sw_packed_reload(sw_lat_window *w, const sw_lat_spec *spec, const sw_history *h,
                           sw_err *err);
/* dst += the window's intervals: the merged histogram it does not keep. */
void sw_packed_merge(const sw_lat_window *w, const sw_history *h, sw_hdr *dst);
/* Values in the window, as its merged histogram's total count. */
int64_t sw_packed_total(const sw_lat_window *w);
/*
 * The percentiles read during one advance of one series: two conditions over the same window at
 * the same boundary (the production rules' alert and rollback trigger on the minute's p95) read
 * it once. A pointer in the evaluator, as sums_memo: the advance's modules take it const.
 */
#define SW_PACKED_MEMO_MAX 4

typedef struct sw_packed_memo_entry {
    const sw_lat_window *w;
    int64_t to_ms;
    uint64_t steps;
    double percentile;
    int64_t value;
} sw_packed_memo_entry;

typedef struct sw_packed_memo {
    size_t n, next; /* entries kept; the one replaced next once full */
    sw_packed_memo_entry e[SW_PACKED_MEMO_MAX];
} sw_packed_memo;

void sw_packed_memo_clear(sw_packed_memo *m);

/* sw_hdr_value_at_percentile of its merged histogram; layout: any histogram of the latency
 * layout (its bucket boundaries); memo: the advance's (NULL: none). */
int64_t sw_packed_percentile(const sw_lat_window *w, const sw_history *h, const sw_hdr *layout,
                             double percentile, sw_packed_memo *memo);

/* dst += the histograms of base intervals with start >= from and end <= to. */
void sw_window_merge(const sw_history *h, int64_t from_ms, int64_t to_ms, bool excl_maint,
                     sw_hdr *dst);

/* ------------------------------------------------------------------ condition.c */

/* What a condition is measured on: a window's sums, health run and merged latency. */
typedef struct sw_measure_in {
    const sw_sums *sums;
    uint32_t failure_run;  /* sw_history_peak_run of the window */
    const sw_hdr *latency; /* NULL when the window has no latency merged */
    int64_t min_requests;  /* request-based SLIs need at least this many requests */
    const struct sw_packed_in *packed; /* latency NULL: a window read from its packed intervals */
} sw_measure_in;

/* A window read from its packed intervals, as a condition measures it. */
typedef struct sw_packed_in {
    const sw_lat_window *w;
    const sw_history *h;
    const sw_hdr *layout;
    sw_packed_memo *memo;
} sw_packed_in;

/* The condition's SLI over the window; false (and NAN) without enough data. */
bool sw_condition_measure(const sw_condition *c, const sw_measure_in *in, double *ret);

/* Measured and the comparison holds. */
bool sw_condition_holds(const sw_condition *c, const sw_measure_in *in, double *ret_measured);

/* Request-based SLIs need requests; health SLIs need probes. */
bool sw_condition_is_health(const sw_condition *c);

/* ------------------------------------------------------------------ plan.c */

/* What a rule set asks of every series, compiled once. */
typedef struct sw_plan {
    int64_t base_ms;
    size_t n_slow;
    int64_t slow_us[SW_SLOW_MAX]; /* latency thresholds whose slow counts are kept */
    sw_lat_spec *lat;             /* distinct latency windows */
    size_t n_lat;
    ptrdiff_t *alert_lat, *trigger_lat, *objective_lat; /* index into lat, or -1 */
    ptrdiff_t *objective_slow;                          /* index into slow_us, or -1 */
    int64_t *slice_keep_ms; /* per objective: slice verdicts kept; 0 without slices */
    sw_history_config history;
    int64_t longest_condition_ms; /* alerts and triggers: past it, an empty window */
    sw_maint *maint;              /* per service */
    size_t n_maint;
} sw_plan;

sw_status sw_plan_init(sw_plan *p, const sw_rules *rules, sw_err *err);
void sw_plan_fini(sw_plan *p);

/* The objective's window at now: [*start, now] and the whole window's length. */
void sw_plan_objective_window(const sw_objective *o, int64_t now_ms, int64_t *ret_start,
                              int64_t *ret_whole_start, int64_t *ret_whole_end);

/* Objectives whose judgement goes slice by slice. */
bool sw_plan_uses_slices(const sw_objective *o);

/* ------------------------------------------------------------------ series (eval.c) */

typedef struct sw_slices sw_slices;

/* A marked deployment's gate: the comparison data since the mark and the latched fail. */
typedef struct sw_gate_state {
    int64_t from_ms, to_ms;          /* accumulated base intervals [from, to) of both sides */
    uint64_t requests[2], errors[2]; /* [0] candidate, [1] baseline */
    sw_hdr *lat[2];
    int64_t failed_at_ms; /* INT64_MIN: no fail latched */
    char failed_reason[SW_GATE_REASON_MAX];
    char policy_override[SW_POLICY_OVERRIDE_MAX + 1]; /* the mark's; "" when none */
} sw_gate_state;

typedef struct sw_series {
    uint64_t id; /* unique in the process, never reused: what a kept gate side names */
    const sw_service *service;
    size_t service_index;
    const sw_rules *rules; /* the service's resolved set (sw_service.rules) */
    const sw_plan *plan;   /* compiled from it */
    char *key; /* a label value's series key (sw_rules_by_key), owned; NULL: service->name */
    char *env; /* NULL: no environment */
    sw_history hist;
    sw_lat_window *lat; /* plan.n_lat */
    sw_slices **slices; /* per objective; NULL where it has no slices */
    sw_objective_result *objectives;
    sw_alert_result *alerts;
    sw_alert_result *trigger_states; /* the conditions under the triggers */
    sw_trigger_result *triggers;
    int64_t evaluated_ms; /* last boundary evaluated; INT64_MIN before the first */
    int64_t deployed_ms;  /* last deployment mark; INT64_MIN: none */
    int64_t fed_until_ms; /* end of the newest interval fed; INT64_MIN: none */
    sw_gate_state *gate;  /* from the first deployment mark on */
    uint64_t fed;         /* intervals fed, ever */
    uint64_t fed_seen;    /* fed when it was last evaluated */
    int64_t advanced_ms;  /* the time it was last evaluated at; INT64_MIN: never */
} sw_series;

struct sw_eval {
    const sw_rules *rules;
    sw_plan plan;   /* the whole set's: base interval, every service's maintenance */
    sw_plan *plans; /* one per distinct resolved set; services alike share one */
    size_t n_plans;
    size_t *plan_of; /* per service: index into plans */
    sw_series **series;
    size_t n_series, cap_series;
    size_t *slots; /* open-addressing table of series index + 1 */
    size_t n_slots;
    sw_hdr *scratch; /* empty between uses */
    sw_hdr *slide_out, *slide_in; /* the sliding windows' steady steps (sw_move_scratch) */
    /* The advancing series' window sums (sums_memo.c). A pointer, as scratch is: the advance's
     * modules take the evaluator const and write only these. */
    sw_sums_memo *sums_memo;
    sw_packed_memo *packed_memo; /* the advancing series' percentiles of packed windows */
    sw_buf pack_buf;
    int64_t now_ms; /* last advance; INT64_MIN before the first */
    int64_t alerts_from_ms; /* boundaries before it are not evaluated (a rebuild) */
    uint64_t series_evaluated; /* series an advance evaluated, ever (sw_eval_work) */
    uint64_t values_aged;   /* label values forgotten after by_idle without data */
    /* A stepped advance (eval_step.c): its time (INT64_MIN: none in progress), which services
     * it has stepped, and the series that existed when it began, grouped by service. */
    int64_t step_ms;
    uint8_t *stepped;
    size_t *step_order, *step_first, step_n_series;
};

/* Evaluate series s at now_ms (its boundaries, then its objectives), unless it already was and
 * was fed nothing since. */
sw_status sw_eval_series_advance(sw_eval *ev, sw_series *s, int64_t now_ms, sw_err *err);

/* Forget the label values idle for their service's by_idle at now_ms. */
void sw_eval_forget_idle(sw_eval *ev, int64_t now_ms);

/* ------------------------------------------------------------------ gate.c */

/* A deployment mark: the gate's comparison and latch start again at at_ms. */
sw_status sw_gate_mark(sw_gate_state **g, int64_t at_ms, const char *policy_override, sw_err *err);
void sw_gate_state_free(sw_gate_state *g);

/* Boundary t of a marked series: take in both sides' data up to t, judge, latch a fail. */
sw_status sw_gate_step(const sw_eval *ev, sw_series *s, int64_t t, sw_err *err);

/* ------------------------------------------------------------------ gate_scratch.c */

/* s's latency over [from_ms, to_ms) as sw_window_merge merges it, held in a slot of x until
 * the next side x loads (the one loaded before stays valid too); NULL: out of memory. */
const sw_hdr *sw_gate_scratch_side(sw_gate_scratch *x, const sw_series *s, int64_t from_ms,
                                   int64_t to_ms);

/* The latency comparisons' cumulative counts x keeps for its answers (NULL until made). */
sw_canary_latencies **sw_gate_scratch_comparison(sw_gate_scratch *x);

/* The percentiles a latency comparison holds against the baseline's (gate.c). */
#define SW_GATE_PERCENTILES 3

/* The last latency comparison of a deployment's accumulation x made, and its results: every
 * window of a marked series compares the same accumulation. */
typedef struct sw_gate_cmp_memo {
    bool valid, measured;
    uint64_t series_id;                  /* the marked series */
    int64_t from_ms, to_ms;              /* what its accumulation held */
    int64_t values[2];                   /* latency values on each side */
    const sw_hdr *lat[2];                /* its histograms */
    double tolerance, alpha;
    sw_canary_result cr[SW_GATE_PERCENTILES];
} sw_gate_cmp_memo;
sw_gate_cmp_memo *sw_gate_scratch_memo(sw_gate_scratch *x);

/* The resolved set and plan of service i of the rules (sw_eval_resolve's index). */
const sw_rules *sw_eval_service_rules(const sw_eval *ev, size_t i);
const sw_plan *sw_eval_service_plan(const sw_eval *ev, size_t i);

/* The name a series is keyed by: its service's, or its label value's key. */
static inline const char *
sw_series_name(const sw_series *s)
{
    return s->key != NULL ? s->key : s->service->name;
}

/* The series of (service, env), or NULL. */
sw_series *sw_eval_find(const sw_eval *ev, const char *service, const char *env);

/* The series of (service, env), added when new; SW_E_INVAL for one the rules do not know. */
sw_status sw_eval_series_get(sw_eval *ev, const char *service, const char *env, sw_series **ret,
                             sw_err *err);

/* The index of service in the rules; SW_E_INVAL unless env is NULL or one of its environments. */
sw_status sw_eval_resolve(const sw_rules *r, const char *service, const char *env, size_t *ret,
                          sw_err *err);

/* ------------------------------------------------------------------ slice.c */

typedef enum sw_slice_verdict {
    SW_SLICE_NODATA, /* no data, or too little to judge */
    SW_SLICE_GOOD,
    SW_SLICE_BAD,
    SW_SLICE_MAINT, /* overlaps maintenance: left out */
    SW_SLICE_VERDICTS
} sw_slice_verdict;

sw_status sw_slices_new(int64_t slice_ms, sw_slices **ret, sw_err *err);
void sw_slices_free(sw_slices *sl);

/* Judge every slice ending at or before upto_ms that has not been judged. */
sw_status sw_slices_judge(sw_slices *sl, const sw_eval *ev, const sw_series *s,
                          const sw_objective *o, int64_t upto_ms, sw_hdr *scratch, sw_err *err);

/* Verdict counts of the judged slices from from_ms on, kept up to date as the window moves. */
void sw_slices_window(sw_slices *sl, int64_t from_ms, uint64_t ret_count[SW_SLICE_VERDICTS]);

/* Verdict counts of the slices inside [from, to], counted on the spot. */
void sw_slices_count(const sw_slices *sl, int64_t from_ms, int64_t to_ms,
                     uint64_t ret_count[SW_SLICE_VERDICTS]);

void sw_slices_drop(sw_slices *sl, int64_t before_ms);

/* Bytes the tracker holds (its verdicts' ring included). */
size_t sw_slices_bytes(const sw_slices *sl);

/* Checkpoints (checkpoint.c): the verdicts and counts, written and read back. */
void sw_slices_save(const sw_slices *sl, sw_ckw *w);
sw_status sw_slices_load(sw_slices *sl, sw_ckr *r, sw_err *err);

/* ------------------------------------------------------------------ budget.c */

/*
 * Burn rate of objective oi over [from, to]: bad fraction / allowed fraction. False (and NAN)
 * without data, or, when need_min, with fewer requests than the rules' minimum. The window's
 * sums through memo (sw_series_sums; NULL outside an advance).
 */
bool sw_budget_burn(const sw_eval *ev, const sw_series *s, size_t oi, int64_t from_ms,
                    int64_t to_ms, bool need_min, sw_sums_memo *memo, double *ret);

/* 1 - bad / allowed: negative when overspent; 1 when nothing was allowed or spent. */
double sw_budget_remaining(double bad, double allowed);

/* Seconds until the budget is gone at this burn rate: 0 when spent, INFINITY when not burning. */
double sw_budget_exhaustion_s(double remaining, double whole_window_s, double burn);

/* ------------------------------------------------------------------ objective.c */

void sw_objective_result_init(sw_objective_result *r, const sw_objective *o);

/* Compute objective oi of series s at now_ms (latency windows already moved). */
sw_status sw_objective_eval(const sw_eval *ev, sw_series *s, size_t oi, int64_t now_ms,
                            sw_err *err);

/* ------------------------------------------------------------------ alert.c, trigger.c */

void sw_alert_result_init(sw_alert_result *r, const sw_alert *a);

/* Evaluate the condition of a (alert or trigger, latency window lat or NULL) at t, over a window
 * that starts no earlier than from_ms (triggers: the deployment mark; INT64_MIN: no cut). */
bool sw_alert_holds(const sw_eval *ev, const sw_series *s, const sw_alert *a,
                    const sw_lat_window *lat, int64_t from_ms, int64_t t_ms,
                    double *ret_measured, double *ret_short);

/* Prometheus `for` semantics: one evaluation at t. */
void sw_alert_step(sw_alert_result *r, const sw_alert *a, bool holds, int64_t t_ms);

void sw_trigger_result_init(sw_trigger_result *r, const sw_alert *t);
/* After the state machine stepped at t: latch the first firing. */
void sw_trigger_latch(sw_trigger_result *r, const sw_alert_result *state, int64_t t_ms);
/* A deployment mark: the latch clears and the condition's `for` timer restarts. */
void sw_trigger_reset(sw_trigger_result *r, sw_alert_result *state);

#endif
