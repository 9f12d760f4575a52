/*
 * The compact ring of buckets (evaluator/ring.c) against a plain array of the same buckets
 * kept here: every lookup (first bucket starting at or after t, first ending after t, with the
 * running totals before it), every forward read and every drop (with the buckets it hands
 * back) answered from the array. The
 * buckets are what a frame-of-reference block finds hardest: counts of every width up to 64
 * bits (a field wider than 57 bits read byte by byte), counts that equal another count give or
 * take a little (coded as a difference, negative too), runs up to 2^32 - 1, buckets that start
 * late, last longer or shorter than the ring's resolution, or start together, newest buckets
 * changed after they were pushed (as rollups add to them), rings started at a sequence number
 * in the middle of a block with running totals near 2^64 (as a checkpoint's load starts them),
 * and all sums a ring can hold.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "slawatch/rng.h"

#include "eval_int.h"

#define RES INT64_C(10000)
#define N_PUSH 3000

typedef struct truth {
    sw_rec *rec; /* every bucket pushed, by sequence number - first_seq */
    size_t n;
    uint64_t (*cum)[SW_SUMS_MAX]; /* running totals before each of them, and after the last */
    uint64_t first_seq;           /* where the ring started */
    uint64_t first;               /* live from here */
    uint64_t origin[SW_SUMS_MAX];
} truth;

static uint64_t
draw(sw_rng *r, uint64_t below)
{
    return sw_rng_next(r) % below;
}

/* A count in the regime a stretch of buckets is in. */
static uint64_t
draw_count(sw_rng *r, int regime, uint64_t other)
{
    switch (regime) {
    case 0:
        return 200 + draw(r, 80);
    case 1:
        return (UINT64_C(1) << 32) + draw(r, UINT64_C(1) << 20);
    case 2:
        return sw_rng_next(r); /* all 64 bits */
    case 3:
        return other + draw(r, 7) - 3; /* beside the previous count, either side */
    default:
        return draw(r, 1000) == 0 ? UINT64_MAX - draw(r, 5) : 0;
    }
}

static void
draw_rec(sw_rng *r, const sw_rec *prev, int regime, size_t n_sums, sw_rec *rec)
{
    memset(rec, 0, sizeof *rec);
    int64_t start = prev->end_ms, length = RES;
    uint64_t shape = draw(r, 40);
    if (shape == 0)
        start += (int64_t)draw(r, 5 * RES); /* a gap */
    else if (shape == 1)
        start = prev->start_ms; /* starts with the one before, ends no earlier */
    if (shape == 2)
        length = (int64_t)draw(r, 3 * RES);
    rec->start_ms = start;
    rec->end_ms = start + length < prev->end_ms ? prev->end_ms : start + length;
    if (draw(r, 20) == 0) {
        rec->tail_run = (uint32_t)draw(r, 4);
        rec->peak_run = draw(r, 2) == 0 ? UINT32_MAX : rec->tail_run;
        rec->in_maint = 1;
    }
    for (size_t i = 0; i < n_sums; i++)
        rec->sums[i] = draw_count(r, regime, i > 0 ? rec->sums[i - 1] : 0);
}

/* The running totals before bucket seq (first <= seq <= the truth's end). */
static const uint64_t *
truth_cum(const truth *t, uint64_t seq)
{
    return t->cum[seq - t->first_seq];
}

/* The newest bucket's totals after it, again. */
static void
truth_sum_newest(truth *t, size_t n_sums)
{
    for (size_t i = 0; i < n_sums; i++)
        t->cum[t->n][i] = t->cum[t->n - 1][i] + t->rec[t->n - 1].sums[i];
}

/* The first live bucket from `first` on that starts at or after at (by_end: ends after). */
static uint64_t
truth_find(const truth *t, int64_t at, bool by_end)
{
    uint64_t end = t->first_seq + t->n;
    for (uint64_t k = t->first; k < end; k++) {
        const sw_rec *rec = &t->rec[k - t->first_seq];
        if (by_end ? rec->end_ms > at : rec->start_ms >= at)
            return k;
    }
    return end;
}

static void
check_find(const sw_ring *ring, const truth *t, int64_t at, size_t n_sums)
{
    uint64_t got[SW_SUMS_MAX];
    for (int by_end = 0; by_end < 2; by_end++) {
        uint64_t seq = truth_find(t, at, by_end);
        uint64_t found =
            by_end ? sw_ring_cum_after(ring, at, got) : sw_ring_cum_from(ring, at, got);
        assert_int_equal(found, seq);
        assert_int_equal(by_end ? sw_ring_seq_end_after(ring, at)
                                : sw_ring_seq_start_at_or_after(ring, at),
                         seq);
        assert_memory_equal(got, truth_cum(t, seq), n_sums * sizeof got[0]);
    }
}

static void
check_read(const sw_ring *ring, const truth *t, uint64_t from, size_t n_sums)
{
    sw_ring_reader rd;
    const sw_rec *rec;
    sw_ring_read_from(ring, from, &rd);
    for (uint64_t k = from; k < t->first_seq + t->n; k++) {
        assert_true(sw_ring_read_next(&rd, &rec));
        const sw_rec *w = &t->rec[k - t->first_seq];
        assert_true(rec->start_ms == w->start_ms && rec->end_ms == w->end_ms);
        assert_true(rec->tail_run == w->tail_run && rec->peak_run == w->peak_run);
        assert_true(rec->in_maint == w->in_maint);
        assert_memory_equal(rec->sums, w->sums, n_sums * sizeof w->sums[0]);
        assert_memory_equal(rd.cum, truth_cum(t, k + 1), n_sums * sizeof rd.cum[0]);
    }
    assert_false(sw_ring_read_next(&rd, &rec));
}

/* Times worth asking about: a live bucket's edges and around them, and anywhere. */
static int64_t
draw_time(sw_rng *r, const truth *t)
{
    uint64_t live = t->first_seq + t->n - t->first;
    if (live == 0 || draw(r, 8) == 0)
        return t->rec[0].start_ms - RES + (int64_t)draw(r, (uint64_t)(t->n + 2) * RES);
    const sw_rec *rec = &t->rec[t->first + draw(r, live) - t->first_seq];
    int64_t edge = draw(r, 2) == 0 ? rec->start_ms : rec->end_ms;
    return edge + (int64_t)draw(r, 3) - 1;
}

/* A drop hands each bucket it forgets, oldest first. */
typedef struct gone_check {
    const truth *t;
    uint64_t next; /* the sequence number handed next */
    size_t n_sums;
} gone_check;

static sw_status
check_gone(void *ctx, const sw_rec *rec, sw_err *err)
{
    (void)err;
    gone_check *g = ctx;
    const sw_rec *w = &g->t->rec[g->next++ - g->t->first_seq];
    assert_true(rec->start_ms == w->start_ms && rec->end_ms == w->end_ms);
    assert_memory_equal(rec->sums, w->sums, g->n_sums * sizeof w->sums[0]);
    return SW_OK;
}

static void
run(uint64_t seed, size_t n_sums)
{
    sw_rng r = {seed};
    truth t = {.rec = calloc(N_PUSH, sizeof(sw_rec)), .cum = calloc(N_PUSH + 1, sizeof *t.cum)};
    assert_true(t.rec != NULL && t.cum != NULL);
    t.first_seq = t.first = draw(&r, 1000); /* mostly in the middle of a block */
    for (size_t i = 0; i < n_sums; i++)
        t.origin[i] = draw(&r, 2) == 0 ? UINT64_MAX - draw(&r, 1u << 20) : draw(&r, 1000);
    sw_ring ring;
    sw_ring_init(&ring, n_sums, RES, 500);
    sw_ring_start_at(&ring, t.first, t.origin);
    memcpy(t.cum[0], t.origin, sizeof t.origin);
    sw_rec prev = {.start_ms = INT64_C(1796601600000) - RES, .end_ms = INT64_C(1796601600000)};
    int regime = 0;
    sw_err err = {0};
    for (size_t k = 0; k < N_PUSH; k++) {
        if (draw(&r, 50) == 0)
            regime = (int)draw(&r, 5);
        sw_rec *rec = &t.rec[t.n++], *put;
        draw_rec(&r, &prev, regime, n_sums, rec);
        assert_int_equal(sw_ring_push(&ring, rec->start_ms, rec->end_ms, &put, &err), SW_OK);
        *put = *rec;
        if (draw(&r, 3) == 0) { /* a rollup adds to its newest bucket */
            uint64_t more = draw_count(&r, regime, 0);
            rec->sums[0] += more;
            put->sums[0] += more;
        }
        truth_sum_newest(&t, n_sums);
        prev = *rec;
        if (draw(&r, 40) == 0) { /* forget what ended by a time near the front */
            int64_t before = t.rec[t.first - t.first_seq].end_ms + (int64_t)draw(&r, 200) * RES;
            gone_check g = {&t, t.first, n_sums};
            assert_int_equal(sw_ring_drop(&ring, before, check_gone, &g, &err), SW_OK);
            while (t.first < t.first_seq + t.n && t.rec[t.first - t.first_seq].end_ms <= before)
                t.first++;
            assert_int_equal(g.next, t.first);
        }
        assert_int_equal(ring.first, t.first);
        for (int ask = 0; ask < 4; ask++)
            check_find(&ring, &t, draw_time(&r, &t), n_sums);
        if (k % 97 == 0 || t.first == t.first_seq + t.n)
            check_read(&ring, &t, t.first, n_sums);
        else
            check_read(&ring, &t, t.first + draw(&r, t.first_seq + t.n - t.first), n_sums);
    }
    sw_ring_fini(&ring);
    free(t.rec);
    free(t.cum);
}

static void
test_ring_matches_its_buckets(void **state)
{
    (void)state;
    static const size_t sums[] = {1, 8, SW_SUMS_MAX};
    for (uint64_t seed = 1; seed <= 4; seed++)
        for (size_t i = 0; i < sizeof sums / sizeof sums[0]; i++)
            run(seed * 7919 + i, sums[i]);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ring_matches_its_buckets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
