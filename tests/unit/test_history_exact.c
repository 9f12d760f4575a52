/*
 * The evaluator's interval history (evaluator/history.c) against a naive model kept here: every
 * interval appended is also kept in a plain array with its probes spelled out, and each answer
 * (window sums with and without maintenance, running totals, failure runs, sequence lookups,
 * the base intervals' reads) is recomputed from that array by the rules the history documents:
 * base intervals while they reach back to the window's start, else minutes to the first whole
 * hour, hours, then base intervals; a level forgets buckets that ended at or before
 * now - its retention; histograms are kept for latency_keep_ms. Random intervals with gaps,
 * maintenance, probe failures, per-interval counts past 2^32 and running totals past 2^53 (and
 * past 2^64, which wrap), random windows at random times, several seeds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "slawatch/buf.h"
#include "slawatch/hdr.h"
#include "slawatch/rng.h"

#include "eval_int.h"

#define SEC INT64_C(1000)
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)
#define BASE (10 * SEC)
#define N_SUMS 8
#define PROBES_MAX 6

typedef struct truth_iv {
    int64_t start, end;
    uint64_t sums[N_SUMS];
    bool maint;
    int n_probes;
    bool probe_ok[PROBES_MAX];
    int64_t lat_total; /* 0: no histogram */
} truth_iv;

typedef struct model {
    truth_iv *iv;
    size_t n, cap;
    int64_t horizon[SW_LEVELS]; /* buckets ending at or before are forgotten */
    int64_t lat_horizon;
    sw_history_config cfg;
} model;

static const sw_history_config test_cfg = {
    .n_sums = N_SUMS,
    .base_ms = BASE,
    .keep_ms = {3 * HOUR, 9 * HOUR, 2 * DAY},
    .latency_keep_ms = 10 * MIN + BASE,
};

static uint64_t
draw(sw_rng *r, uint64_t below)
{
    return sw_rng_next(r) % below;
}

/* A count: usually small, now and then past 2^32, rarely near 2^63 (totals wrap). */
static uint64_t
draw_count(sw_rng *r, uint64_t typical)
{
    uint64_t k = draw(r, 1000);
    if (k == 0)
        return (UINT64_C(1) << 62) + draw(r, UINT64_C(1) << 40);
    if (k < 20)
        return (UINT64_C(1) << 33) + draw(r, UINT64_C(1) << 50);
    return draw(r, 2 * typical + 1);
}

static void
model_add(model *m, const truth_iv *iv)
{
    if (m->n == m->cap) {
        m->cap = m->cap ? 2 * m->cap : 1024;
        m->iv = realloc(m->iv, m->cap * sizeof *m->iv);
        assert_non_null(m->iv);
    }
    m->iv[m->n++] = *iv;
}

static bool
base_kept(const model *m, size_t i)
{
    return m->iv[i].end > m->horizon[SW_LEVEL_BASE];
}

/* The newest forgotten base interval's start, INT64_MIN when none is. */
static int64_t
dropped_start(const model *m)
{
    int64_t s = INT64_MIN;
    for (size_t i = 0; i < m->n && !base_kept(m, i); i++)
        s = m->iv[i].start;
    return s;
}

/* out += sums of the level's buckets in [lo, hi] that the level still holds. */
static void
level_sum(const model *m, int level, bool maint_only, int64_t lo, int64_t hi, uint64_t *out)
{
    if (lo >= hi)
        return;
    int64_t res = level == SW_LEVEL_MINUTE ? MIN : HOUR;
    for (size_t i = 0; i < m->n; i++) {
        const truth_iv *iv = &m->iv[i];
        if (maint_only && !iv->maint)
            continue;
        int64_t s = iv->start, e = iv->end;
        if (level != SW_LEVEL_BASE) {
            s = iv->start - iv->start % res;
            e = s + res;
        }
        if (s < lo || e > hi || e <= m->horizon[level])
            continue;
        for (int k = 0; k < N_SUMS; k++)
            out[k] += iv->sums[k];
    }
}

static int64_t
ceil_to(int64_t t, int64_t res)
{
    return t % res == 0 ? t : t - t % res + res;
}

static void
set_sum(const model *m, bool maint_only, int64_t from, int64_t to, uint64_t *out)
{
    if (from > dropped_start(m)) {
        level_sum(m, SW_LEVEL_BASE, maint_only, from, to, out);
        return;
    }
    int64_t from_min = ceil_to(from, MIN);
    int64_t first_hour = ceil_to(from_min, HOUR), last_hour = to - to % HOUR;
    int64_t minutes_end = first_hour < last_hour ? first_hour : last_hour;
    minutes_end = minutes_end > from_min ? minutes_end : from_min;
    int64_t hours_end = last_hour > minutes_end ? last_hour : minutes_end;
    level_sum(m, SW_LEVEL_MINUTE, maint_only, from_min, minutes_end, out);
    level_sum(m, SW_LEVEL_HOUR, maint_only, minutes_end, hours_end, out);
    level_sum(m, SW_LEVEL_BASE, maint_only, hours_end, to, out);
}

static void
check_sums(const model *m, const sw_history *h, int64_t from, int64_t to, bool excl)
{
    uint64_t want[N_SUMS] = {0}, maint[N_SUMS] = {0};
    set_sum(m, false, from, to, want);
    if (excl) {
        set_sum(m, true, from, to, maint);
        for (int k = 0; k < N_SUMS; k++)
            want[k] -= maint[k];
    }
    sw_sums got;
    sw_history_sums(h, from, to, excl, &got);
    for (int k = 0; k < N_SUMS; k++)
        assert_int_equal(got.v[k], want[k]);
}

/* ---------------------------------------------------------------- runs from the probes */

/* Failed probes in a row ending with interval i (intervals without probes pass through). */
static uint32_t
trailing_run(const model *m, size_t i)
{
    uint32_t run = 0;
    for (size_t j = i + 1; j-- > 0;) {
        const truth_iv *iv = &m->iv[j];
        for (int p = iv->n_probes; p-- > 0;) {
            if (iv->probe_ok[p])
                return run;
            run++;
        }
    }
    return run;
}

/* The longest run with a failed probe in interval i, counted from its beginning up to i's end;
 * an interval without probes carries the run before it. */
static uint32_t
peak_of(const model *m, size_t i)
{
    const truth_iv *iv = &m->iv[i];
    if (iv->n_probes == 0)
        return i > 0 ? trailing_run(m, i - 1) : 0;
    uint32_t run = i > 0 ? trailing_run(m, i - 1) : 0, best = 0;
    for (int p = 0; p < iv->n_probes; p++) {
        run = iv->probe_ok[p] ? 0 : run + 1;
        best = run > best ? run : best;
    }
    return best;
}

/* The first kept base interval, and the first kept with start >= t / end > t. */
static size_t
first_kept(const model *m)
{
    size_t i = 0;
    while (i < m->n && !base_kept(m, i))
        i++;
    return i;
}

static size_t
seq_from(const model *m, int64_t t)
{
    size_t i = first_kept(m);
    while (i < m->n && m->iv[i].start < t)
        i++;
    return i;
}

static size_t
seq_after(const model *m, int64_t t)
{
    size_t i = first_kept(m);
    while (i < m->n && m->iv[i].end <= t)
        i++;
    return i;
}

static void
check_runs(const model *m, const sw_history *h, int64_t from, int64_t to)
{
    size_t lo = seq_from(m, from), hi = seq_after(m, to), first = first_kept(m);
    uint32_t tail = hi > first ? trailing_run(m, hi - 1) : 0;
    assert_int_equal(sw_history_tail_run(h, to), tail);
    uint32_t peak = tail;
    for (size_t i = lo; i < hi; i++)
        peak = peak_of(m, i) > peak ? peak_of(m, i) : peak;
    assert_int_equal(sw_history_peak_run(h, from, to), peak);
}

static void
check_total(const model *m, const sw_history *h, int64_t to, int which)
{
    uint64_t want = 0;
    for (size_t i = 0; i < m->n; i++)
        if (!base_kept(m, i) || m->iv[i].end <= to)
            want += m->iv[i].sums[which];
    assert_int_equal(sw_history_total(h, to, which), want);
}

/* ---------------------------------------------------------------- base interval reads */

typedef struct read_rec {
    int64_t start_ms;
    bool in_maint;
    const sw_chist *latency;
} read_rec;

static read_rec
history_read(const sw_history *h, uint64_t seq)
{
    const sw_lat_rec *rec = sw_history_lat(h, seq);
    if (rec == NULL)
        return (read_rec){0, false, NULL};
    return (read_rec){rec->start_ms, rec->in_maint != 0, rec->latency};
}

static void
check_reads(const model *m, const sw_history *h, int64_t from, int64_t to)
{
    assert_int_equal(sw_history_seq_from(h, from), seq_from(m, from));
    assert_int_equal(sw_history_seq_after(h, to), seq_after(m, to));
    size_t lo = seq_from(m, from), hi = seq_after(m, to);
    for (size_t i = lo; i < hi && i < lo + 200; i++) {
        read_rec r = history_read(h, i);
        const truth_iv *iv = &m->iv[i];
        bool held = iv->lat_total > 0 && iv->end > m->lat_horizon;
        if (held) {
            assert_non_null(r.latency);
            assert_int_equal(sw_chist_total(r.latency), iv->lat_total);
            assert_int_equal(r.start_ms, iv->start);
            assert_int_equal(r.in_maint, iv->maint);
        } else {
            assert_null(r.latency);
        }
    }
}

/* ---------------------------------------------------------------- feeding */

static sw_chist *
latency_of(int64_t total, sw_buf *buf)
{
    sw_err err = {0};
    sw_hdr *h;
    sw_chist *c;
    assert_int_equal(sw_hdr_new(&sw_hdr_latency_config, &h, &err), SW_OK);
    sw_hdr_record_n(h, 1000 + total, total);
    assert_int_equal(sw_chist_pack(h, buf, &c, &err), SW_OK);
    sw_hdr_free(h);
    return c;
}

static void
draw_interval(sw_rng *r, int64_t start, truth_iv *iv)
{
    memset(iv, 0, sizeof *iv);
    iv->start = start;
    iv->end = start + (draw(r, 50) == 0 ? 2 * BASE : BASE);
    iv->sums[SW_SUM_REQUESTS] = draw_count(r, 250);
    iv->sums[SW_SUM_ERRORS] = draw(r, 4) == 0 ? draw_count(r, 2) : 0;
    iv->n_probes = (int)draw(r, PROBES_MAX + 1);
    bool failing = draw(r, 5) == 0;
    for (int p = 0; p < iv->n_probes; p++)
        iv->probe_ok[p] = failing ? draw(r, 4) == 0 : draw(r, 20) != 0;
    iv->sums[SW_SUM_PROBES] = (uint64_t)iv->n_probes;
    for (int p = 0; p < iv->n_probes; p++)
        iv->sums[SW_SUM_FAILURES] += !iv->probe_ok[p];
    iv->sums[SW_SUM_DATA_MS] = draw(r, 10) == 0 ? 0 : (uint64_t)(iv->end - iv->start);
    iv->sums[SW_SUM_LAT_TOTAL] = iv->sums[SW_SUM_REQUESTS];
    iv->sums[SW_SUM_SLOW] = draw_count(r, 10);
    iv->sums[SW_SUM_SLOW + 1] = (UINT64_C(1) << 51) + draw(r, UINT64_C(1) << 20);
    iv->maint = draw(r, 30) == 0;
    iv->lat_total = draw(r, 8) == 0 ? 0 : (int64_t)draw(r, 300) + 1;
}

static void
append(sw_history *h, const truth_iv *iv, sw_buf *buf)
{
    sw_sli_interval sli = {.start_ms = iv->start, .length_ms = iv->end - iv->start};
    for (int p = 0; p < iv->n_probes; p++)
        sw_health_record(&sli.health, iv->probe_ok[p]);
    sw_sums sums = {{0}};
    memcpy(sums.v, iv->sums, sizeof iv->sums);
    sw_err err = {0};
    sw_chist *lat = iv->lat_total > 0 ? latency_of(iv->lat_total, buf) : NULL;
    assert_int_equal(sw_history_append(h, &sli, &sums, iv->maint, lat, &err), SW_OK);
}

static void
drop(model *m, sw_history *h, int64_t now)
{
    sw_err err = {0};
    assert_int_equal(sw_history_drop(h, now, &err), SW_OK);
    for (int l = 0; l < SW_LEVELS; l++)
        if (now - m->cfg.keep_ms[l] > m->horizon[l])
            m->horizon[l] = now - m->cfg.keep_ms[l];
    if (now - m->cfg.latency_keep_ms > m->lat_horizon)
        m->lat_horizon = now - m->cfg.latency_keep_ms;
}

/* A window somewhere in what the history spans: random edges, or edges on the grid. */
static void
draw_window(sw_rng *r, int64_t t0, int64_t now, int64_t *from, int64_t *to)
{
    int64_t span = now - t0 + HOUR;
    *to = draw(r, 3) == 0 ? now : now - (int64_t)draw(r, (uint64_t)span);
    *from = *to - (int64_t)draw(r, (uint64_t)span);
    if (draw(r, 2) == 0) {
        *from -= *from % BASE;
        *to -= *to % BASE;
    }
}

static void
check_at(model *m, const sw_history *h, sw_rng *r, int64_t t0, int64_t now)
{
    for (int q = 0; q < 12; q++) {
        int64_t from, to;
        draw_window(r, t0, now, &from, &to);
        check_sums(m, h, from, to, draw(r, 2) == 0);
        check_runs(m, h, from, to);
        check_total(m, h, to, (int)draw(r, N_SUMS));
        check_reads(m, h, from, to);
    }
}

static void
run_seed(uint64_t seed)
{
    sw_rng r = {seed};
    model m = {.cfg = test_cfg};
    for (int l = 0; l < SW_LEVELS; l++)
        m.horizon[l] = INT64_MIN;
    m.lat_horizon = INT64_MIN;
    sw_history h;
    sw_history_init(&h, &test_cfg);
    sw_buf buf;
    sw_buf_init(&buf, SIZE_MAX);
    int64_t t0 = INT64_C(1796000000000) + (int64_t)draw(&r, 360) * BASE, t = t0;
    while (t < t0 + 3 * DAY) {
        uint64_t k = draw(&r, 400);
        if (k == 0)
            t += (int64_t)draw(&r, 3 * 360) * BASE; /* an outage: up to three hours */
        else if (k < 20)
            t += (int64_t)draw(&r, 6) * BASE;
        truth_iv iv;
        draw_interval(&r, t, &iv);
        append(&h, &iv, &buf);
        model_add(&m, &iv);
        t = iv.end;
        if (draw(&r, 3) != 0)
            drop(&m, &h, t + (int64_t)draw(&r, 3) * BASE);
        if (draw(&r, 150) == 0)
            check_at(&m, &h, &r, t0, t);
    }
    check_at(&m, &h, &r, t0, t);
    sw_history_fini(&h);
    sw_buf_fini(&buf);
    free(m.iv);
}

static void
test_history_matches_model(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 4; seed++)
        run_seed(seed * UINT64_C(0x2545F4914F6CDD1D) + 7); /* not the generator's own step */
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_history_matches_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
