/*
 * The window sums an advance shares between its alerts, triggers and objectives
 * (evaluator/sums_memo.c): on a random history (gaps, maintenance, failed probes), asking a few
 * windows over and over through the memo, each answer equals the history's own sums of that
 * window asked afresh, whether the memo held it or not, and as the history grows between
 * advances (the memo emptied each time, as sw_eval_series_advance does). And the memo holds each
 * distinct window once: repeated asks are answered from it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "eval_int.h"

#define BASE_MS INT64_C(10000)
#define T0 INT64_C(1790812800000) /* 2026-10-01T00:00:00Z */

static uint64_t
rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void
history_of_days(sw_history *h)
{
    sw_history_config cfg = {.n_sums = SW_SUM_SLOW,
                             .base_ms = BASE_MS,
                             .keep_ms = {SW_DAY_MS, 2 * SW_DAY_MS, 40 * SW_DAY_MS},
                             .latency_keep_ms = SW_HOUR_MS};
    sw_history_init(h, &cfg);
}

/* Intervals up to end_ms after *at: some missing, some under maintenance, probes failing. */
static void
grow(sw_history *h, uint64_t *seed, int64_t *at, int64_t end_ms)
{
    for (; *at < end_ms; *at += BASE_MS) {
        if (rnd(seed) % 7 == 0)
            continue; /* a gap */
        sw_sli_interval iv = {.start_ms = *at, .length_ms = BASE_MS, .has_data = true};
        iv.requests = rnd(seed) % 300;
        iv.errors = iv.requests ? rnd(seed) % (iv.requests + 1) / (1 + rnd(seed) % 8) : 0;
        iv.health.probes = 1;
        iv.health.failures = rnd(seed) % 5 == 0;
        sw_sums sums = {0};
        sums.v[SW_SUM_REQUESTS] = iv.requests;
        sums.v[SW_SUM_ERRORS] = iv.errors;
        sums.v[SW_SUM_PROBES] = iv.health.probes;
        sums.v[SW_SUM_FAILURES] = iv.health.failures;
        sums.v[SW_SUM_DATA_MS] = (uint64_t)BASE_MS;
        bool maint = (*at / SW_HOUR_MS) % 9 == 4;
        assert_int_equal(sw_history_append(h, &iv, &sums, maint, NULL, NULL), SW_OK);
    }
}

/* The windows an advance at t asks for: the minute, the hour, the month so far, burn windows. */
static void
window_at(uint64_t *seed, int64_t t, int64_t *from, int64_t *to, bool *excl)
{
    static const int64_t lengths[] = {SW_MINUTE_MS,    5 * SW_MINUTE_MS, SW_HOUR_MS,
                                      6 * SW_HOUR_MS,  SW_DAY_MS,        3 * SW_DAY_MS,
                                      30 * SW_DAY_MS, 2 * SW_HOUR_MS};
    int64_t length = lengths[rnd(seed) % (sizeof lengths / sizeof *lengths)];
    *to = t - (int64_t)(rnd(seed) % 2) * BASE_MS; /* now, or the boundary before */
    *from = length == 30 * SW_DAY_MS ? T0 : *to - length;
    *excl = rnd(seed) % 2;
}

static void
test_memo_answers_as_the_history(void **state)
{
    (void)state;
    sw_history h;
    history_of_days(&h);
    uint64_t seed = 0x9e3779b97f4a7c15u;
    int64_t at = T0;
    sw_sums_memo memo;
    for (int advance = 0; advance < 400; advance++) {
        grow(&h, &seed, &at, at + (int64_t)(1 + rnd(&seed) % 400) * BASE_MS);
        sw_err err = {0};
        assert_int_equal(sw_history_drop(&h, at, &err), SW_OK);
        sw_sums_memo_clear(&memo);
        for (int ask = 0; ask < 40; ask++) {
            int64_t from, to;
            bool excl;
            window_at(&seed, at, &from, &to, &excl);
            sw_sums got, want;
            sw_series_sums(&memo, &h, from, to, excl, &got);
            sw_history_sums(&h, from, to, excl, &want);
            assert_memory_equal(&got, &want, sizeof got);
            /* 8 lengths x 2 ends x 2 maintenance choices: asked again, never kept twice. */
            assert_true(memo.n <= SW_SUMS_MEMO_MAX);
        }
    }
    sw_history_fini(&h);
}

static void
test_memo_keeps_each_window_once(void **state)
{
    (void)state;
    sw_history h;
    history_of_days(&h);
    uint64_t seed = 42;
    int64_t at = T0;
    grow(&h, &seed, &at, T0 + 2 * SW_DAY_MS);
    sw_sums_memo memo;
    sw_sums_memo_clear(&memo);
    sw_sums a, b;
    for (int i = 0; i < 5; i++) {
        sw_series_sums(&memo, &h, at - SW_HOUR_MS, at, true, &a);
        sw_series_sums(&memo, &h, at - SW_HOUR_MS, at, false, &b);
    }
    assert_int_equal(memo.n, 2); /* the maintenance choice is part of the window */
    /* Without maintenance in the last hour the two agree; with it they must not be confused. */
    sw_sums want;
    sw_history_sums(&h, at - SW_HOUR_MS, at, true, &want);
    assert_memory_equal(&a, &want, sizeof a);
    sw_history_sums(&h, at - SW_HOUR_MS, at, false, &want);
    assert_memory_equal(&b, &want, sizeof b);
    sw_series_sums(NULL, &h, at - SW_DAY_MS, at, false, &a); /* no memo: a reader */
    assert_int_equal(memo.n, 2);
    sw_history_fini(&h);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memo_answers_as_the_history),
        cmocka_unit_test(test_memo_keeps_each_window_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
