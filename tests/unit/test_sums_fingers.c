/*
 * The window sums an advancing series reads through its history's fingers (sw_history_sums_on,
 * evaluator/sums_fingers.c, sw_ring_cum_on in ring.c) against the same windows summed afresh
 * (sw_history_sums: every ring searched): on random histories with gaps, intervals in
 * maintenance, rollups, drops as the tick drops, boundaries one after another and catch-ups of
 * many, windows asked in the tick's order, in other orders, ending earlier than a finger and
 * jumping far ahead; and after restarts from the evaluator's checkpoint (rings started again in
 * the middle of a block). A finger moved wrongly (a bucket counted twice, skipped, or read past
 * its time) gives a sum that differs. The fingers must also be used: most lookups move one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "slawatch/eval.h"
#include "slawatch/eval_ckpt.h"
#include "slawatch/rng.h"
#include "slawatch/rules.h"

#include "eval_int.h"
#include "random_interval.h"

#define BASE_MS INT64_C(10000)
#define T0 INT64_C(1790812800000) /* 2026-10-01T00:00:00Z */

static const int64_t tick_lengths[] = {SW_MINUTE_MS,      2 * SW_MINUTE_MS, 5 * SW_MINUTE_MS,
                                       30 * SW_MINUTE_MS, SW_HOUR_MS,       2 * SW_HOUR_MS,
                                       6 * SW_HOUR_MS,    SW_DAY_MS,        3 * SW_DAY_MS};
#define N_LENGTHS (sizeof tick_lengths / sizeof tick_lengths[0])

/* Both ways of summing [from, to] agree. */
static void
check_window(const sw_history *h, int64_t from, int64_t to, bool excl)
{
    sw_sums got, want;
    sw_history_sums_on(h, from, to, excl, &got);
    sw_history_sums(h, from, to, excl, &want);
    assert_memory_equal(&got, &want, sizeof got);
}

/* The windows an advance at t asks: the tick's lengths ending at t, the month so far (its old
 * edge fixed, in the hours), in the tick's order or backwards. */
static void
ask_tick(const sw_history *h, sw_rng *r, int64_t t, int64_t month_ms)
{
    bool backwards = sw_rng_next(r) % 4 == 0;
    for (size_t k = 0; k < N_LENGTHS; k++) {
        int64_t length = tick_lengths[backwards ? N_LENGTHS - 1 - k : k];
        check_window(h, t - length, t, false);
        check_window(h, t - length, t, true);
    }
    check_window(h, month_ms, t, true);
}

/* Intervals up to end_ms after *at: some missing, some longer or late, some in maintenance. */
static void
grow(sw_history *h, sw_rng *r, int64_t *at, int64_t end_ms)
{
    while (*at < end_ms) {
        uint64_t shape = sw_rng_next(r) % 16;
        if (shape == 0) { /* a gap */
            *at += BASE_MS * (int64_t)(1 + sw_rng_next(r) % 30);
            continue;
        }
        int64_t length = shape == 1 ? BASE_MS * (int64_t)(2 + sw_rng_next(r) % 6) : BASE_MS;
        sw_sli_interval iv = {.start_ms = *at, .length_ms = length, .has_data = true};
        sw_health_record(&iv.health, sw_rng_next(r) % 9 != 0);
        sw_sums sums = {0};
        sums.v[SW_SUM_REQUESTS] = sw_rng_next(r) % 400;
        sums.v[SW_SUM_ERRORS] = sw_rng_next(r) % 3 == 0 ? sw_rng_next(r) % 5 : 0;
        sums.v[SW_SUM_PROBES] = 1;
        sums.v[SW_SUM_FAILURES] = iv.health.failures;
        sums.v[SW_SUM_DATA_MS] = (uint64_t)length;
        sums.v[SW_SUM_LAT_TOTAL] = sums.v[SW_SUM_REQUESTS];
        sums.v[SW_SUM_SLOW] = sw_rng_next(r) % 20;
        bool maint = (*at / SW_HOUR_MS) % 13 == 5;
        assert_int_equal(sw_history_append(h, &iv, &sums, maint, NULL, NULL), SW_OK);
        *at += length;
    }
}

static void
test_fingers_answer_as_a_search(void **state)
{
    (void)state;
    sw_history_config cfg = {.n_sums = SW_SUM_SLOW + 1,
                             .base_ms = BASE_MS,
                             .keep_ms = {SW_DAY_MS, 3 * SW_DAY_MS, 40 * SW_DAY_MS},
                             .latency_keep_ms = SW_HOUR_MS};
    for (uint64_t seed = 1; seed <= 3; seed++) {
        sw_history h;
        sw_history_init(&h, &cfg);
        sw_rng r = {seed * 104729};
        int64_t at = T0, t = T0;
        for (int advance = 0; advance < 1500; advance++) {
            /* Mostly one boundary; now and then a catch-up of many, or of days. */
            uint64_t step = sw_rng_next(&r) % 50;
            int64_t boundaries = step == 0   ? 200 + (int64_t)(sw_rng_next(&r) % 9000)
                                 : step == 1 ? 20
                                             : 1;
            for (int64_t b = 0; b < boundaries && b < 40; b++) {
                t += BASE_MS;
                grow(&h, &r, &at, t);
                sw_err err = {0};
                assert_int_equal(sw_history_drop(&h, t, &err), SW_OK);
                ask_tick(&h, &r, t, T0);
            }
            if (boundaries > 40) {
                t += (boundaries - 40) * BASE_MS;
                grow(&h, &r, &at, t);
                sw_err err = {0};
                assert_int_equal(sw_history_drop(&h, t, &err), SW_OK);
                ask_tick(&h, &r, t, T0);
            }
            if (sw_rng_next(&r) % 10 == 0) { /* a window ending earlier: fingers past its edges */
                int64_t to = t - (int64_t)(sw_rng_next(&r) % (uint64_t)(4 * SW_DAY_MS));
                int64_t from = to - (int64_t)(sw_rng_next(&r) % (uint64_t)(4 * SW_DAY_MS));
                check_window(&h, from, to, sw_rng_next(&r) % 2);
            }
        }
        sw_history_fini(&h);
    }
}

/* Fingers are moved, not placed anew at every ask: steady boundaries read on from them. */
static void
test_fingers_move(void **state)
{
    (void)state;
    sw_history_config cfg = {.n_sums = SW_SUM_SLOW,
                             .base_ms = BASE_MS,
                             .keep_ms = {SW_DAY_MS, 3 * SW_DAY_MS, 40 * SW_DAY_MS},
                             .latency_keep_ms = SW_HOUR_MS};
    sw_history h;
    sw_history_init(&h, &cfg);
    sw_rng r = {7};
    int64_t at = T0, t = T0 + 4 * SW_DAY_MS;
    grow(&h, &r, &at, t);
    sw_err err = {0};
    assert_int_equal(sw_history_drop(&h, t, &err), SW_OK);
    sw_sums s;
    for (size_t k = 0; k < N_LENGTHS; k++)
        sw_history_sums_on(&h, t - tick_lengths[k], t, false, &s);
    /* One boundary later, each old edge is at most a bucket or two on from its finger: a ring
     * whose blocks are all freed cannot be searched, so the answers come from the fingers. */
    t += BASE_MS;
    grow(&h, &r, &at, t);
    sw_ring *base = &h.level[SW_LEVEL_BASE];
    sw_ring_finger f = {t - SW_HOUR_MS - BASE_MS, 0, INT64_MIN};
    uint64_t f_cum[SW_SUMS_MAX], ret[SW_SUMS_MAX];
    f.seq = sw_ring_cum_from(base, f.t, f_cum);
    sw_finger_use use;
    uint64_t want[SW_SUMS_MAX];
    uint64_t seq = sw_ring_cum_on(base, t - SW_HOUR_MS, false, &f, f_cum, ret, &use);
    assert_int_equal(use, SW_FINGER_MOVED);
    assert_int_equal(seq, sw_ring_cum_from(base, t - SW_HOUR_MS, want));
    assert_memory_equal(ret, want, cfg.n_sums * sizeof want[0]);
    assert_int_equal(f.seq, seq);
    /* A finger past the time asked is not used; nor one whose bucket was dropped. */
    seq = sw_ring_cum_on(base, t - 2 * SW_HOUR_MS, false, &f, f_cum, ret, &use);
    assert_int_equal(use, SW_FINGER_WANTED);
    assert_int_equal(seq, sw_ring_cum_from(base, t - 2 * SW_HOUR_MS, want));
    f = (sw_ring_finger){T0, base->first - 1, INT64_MIN};
    sw_ring_cum_on(base, t - SW_DAY_MS + BASE_MS, false, &f, f_cum, ret, &use);
    assert_int_equal(use, SW_FINGER_WANTED);
    sw_history_fini(&h);
}

static const char rules_text[] = "version: 1\n"
                                 "base_interval: 10s\n"
                                 "min_requests: 10\n"
                                 "services:\n"
                                 "  - name: api\n"
                                 "    sli: {requests: {push: true}, errors: {push: true}}\n"
                                 "    maintenance:\n"
                                 "      - start: 2026-10-02T01:00:00Z\n"
                                 "        end: 2026-10-02T01:30:00Z\n"
                                 "        reason: test\n"
                                 "objectives:\n"
                                 "  - name: availability\n"
                                 "    objective: availability >= 99.9%\n"
                                 "    window: month\n"
                                 "alerts:\n"
                                 "  - name: ErrorBudgetBurn1h\n"
                                 "    burn_rate: 14.4\n"
                                 "    objective: availability\n"
                                 "    long: 1h\n"
                                 "    short: 5m\n"
                                 "  - name: ErrorBudgetBurn3d\n"
                                 "    burn_rate: 1\n"
                                 "    objective: availability\n"
                                 "    long: 3d\n"
                                 "    short: 6h\n";

/* Restarts from the checkpoint at random boundaries: the loaded history's fingers start empty
 * on rings started again mid-block, and its sums keep agreeing. */
static void
test_fingers_after_restarts(void **state)
{
    (void)state;
    sw_rules *rules;
    sw_eval *ev;
    sw_err err = {0};
    assert_int_equal(sw_rules_load_mem(rules_text, strlen(rules_text), "test", &rules, NULL, &err),
                     SW_OK);
    assert_int_equal(sw_eval_new(rules, &ev, &err), SW_OK);
    sw_rng r = {20261208};
    sw_buf saved;
    sw_buf_init(&saved, (size_t)1 << 30);
    int64_t t = T0;
    for (int b = 0; b < 3 * 8640 + 2000; b++) {
        sw_sli_interval iv;
        if (sw_rng_next(&r) % 11 != 0) {
            sw_hdr *hist = sw_test_random_interval(&r, t, BASE_MS, BASE_MS, &iv);
            assert_int_equal(sw_eval_add(ev, "api", NULL, &iv, &err), SW_OK);
            sw_hdr_free(hist);
        }
        t += BASE_MS;
        if (b < 3 * 8640 - 600 && b % 97 != 0)
            continue; /* the first days fed as a rebuild feeds them: advanced now and then */
        assert_int_equal(sw_eval_advance(ev, t, &err), SW_OK);
        const sw_series *s = sw_eval_find(ev, "api", NULL);
        assert_non_null(s);
        ask_tick(&s->hist, &r, t, T0);
        if (sw_rng_next(&r) % 150 == 0) {
            sw_buf_reset(&saved);
            assert_int_equal(sw_eval_ckpt_save(ev, &saved, &err), SW_OK);
            sw_eval_free(ev);
            assert_int_equal(sw_eval_ckpt_load(rules, saved.data, saved.len, &ev, &err), SW_OK);
        }
    }
    sw_buf_fini(&saved);
    sw_eval_free(ev);
    sw_rules_free(rules);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fingers_answer_as_a_search),
        cmocka_unit_test(test_fingers_move),
        cmocka_unit_test(test_fingers_after_restarts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
