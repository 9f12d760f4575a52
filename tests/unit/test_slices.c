/*
 * The slice verdicts' ring (evaluator/slice.c), against a plain array of the verdicts: a month of
 * 1-minute verdicts of every kind, numbered far from zero so the ring wraps, loaded as a
 * checkpoint gives them; every count over random ranges, the objective window's counts as it
 * moves, and the verdicts saved again equal the array's (so each slot holds its own verdict and
 * no neighbour's). The ring takes two bits a slice (a byte a slice fails it), and a verdict
 * outside the four is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "slawatch/rng.h"

#include "ckpt_codec.h"
#include "eval_int.h"

#define SLICE_MS INT64_C(60000)
#define MONTH_SLICES 44640 /* 31 days of minutes */

typedef struct twin {
    int64_t first, next, counted_from;
    uint8_t *v; /* v[k - first] */
} twin;

/* A checkpoint's bytes of the verdicts t holds, as sw_slices_save writes them. */
static void
write_twin(const twin *t, sw_buf *out)
{
    sw_err err = {0};
    sw_ckw w = {out, SW_OK, &err};
    uint64_t count[SW_SLICE_VERDICTS] = {0};
    for (int64_t k = t->counted_from; k < t->next; k++)
        count[t->v[k - t->first]]++;
    sw_ckw_i64(&w, t->first);
    sw_ckw_i64(&w, t->next);
    sw_ckw_i64(&w, t->counted_from);
    for (int v = 0; v < SW_SLICE_VERDICTS; v++)
        sw_ckw_u64(&w, count[v]);
    sw_ckw_u64(&w, (uint64_t)(t->next - t->first));
    for (int64_t k = t->first; k < t->next; k++)
        sw_ckw_u64(&w, t->v[k - t->first]);
    assert_int_equal(w.st, SW_OK);
}

static sw_slices *
load(const sw_buf *bytes)
{
    sw_err err = {0};
    sw_slices *sl;
    assert_int_equal(sw_slices_new(SLICE_MS, &sl, &err), SW_OK);
    sw_ckr r = {bytes->data, bytes->data + bytes->len, false};
    assert_int_equal(sw_slices_load(sl, &r, &err), SW_OK);
    return sl;
}

static void
assert_counts(const twin *t, const sw_slices *sl, int64_t from, int64_t to)
{
    uint64_t want[SW_SLICE_VERDICTS] = {0}, got[SW_SLICE_VERDICTS];
    for (int64_t k = from; k < to; k++)
        if (k >= t->first && k < t->next)
            want[t->v[k - t->first]]++;
    sw_slices_count(sl, from * SLICE_MS, to * SLICE_MS, got);
    for (int v = 0; v < SW_SLICE_VERDICTS; v++)
        assert_int_equal(got[v], want[v]);
}

static void
test_month_of_verdicts_against_an_array(void **state)
{
    (void)state;
    sw_rng rng = {31};
    const int64_t starts[] = {29980000, 29980001, 29980003, 0};
    const int64_t lengths[] = {MONTH_SLICES, MONTH_SLICES - 1, 63, 64, 65, 1};
    for (size_t a = 0; a < sizeof starts / sizeof starts[0]; a++)
        for (size_t b = 0; b < sizeof lengths / sizeof lengths[0]; b++) {
            twin t = {starts[a], starts[a] + lengths[b], starts[a] + lengths[b] / 3, NULL};
            t.v = malloc((size_t)lengths[b]);
            assert_non_null(t.v);
            for (int64_t i = 0; i < lengths[b]; i++) /* runs of one verdict and single ones */
                t.v[i] = (uint8_t)(i % 7 < 3 ? sw_rng_next(&rng) % SW_SLICE_VERDICTS
                                             : (i > 0 ? t.v[i - 1] : 0));
            sw_buf bytes, again;
            sw_buf_init(&bytes, SIZE_MAX);
            sw_buf_init(&again, SIZE_MAX);
            write_twin(&t, &bytes);
            sw_slices *sl = load(&bytes);
            for (int round = 0; round < 200; round++) {
                int64_t from =
                    t.first - 2 + (int64_t)(sw_rng_next(&rng) % (uint64_t)(lengths[b] + 4));
                int64_t to = from + (int64_t)(sw_rng_next(&rng) % (uint64_t)(lengths[b] + 4));
                assert_counts(&t, sl, from, to);
            }
            assert_counts(&t, sl, t.first, t.next);
            /* The objective window's counts as its start moves up through the verdicts. */
            for (int64_t from = t.counted_from; from <= t.next; from += 1 + from % 97) {
                uint64_t want[SW_SLICE_VERDICTS] = {0}, got[SW_SLICE_VERDICTS];
                for (int64_t k = from; k < t.next; k++)
                    want[t.v[k - t.first]]++;
                sw_slices_window(sl, from * SLICE_MS, got);
                for (int v = 0; v < SW_SLICE_VERDICTS; v++)
                    assert_int_equal(got[v], want[v]);
            }
            sw_slices_free(sl);
            sl = load(&bytes);
            sw_err err = {0};
            sw_ckw w = {&again, SW_OK, &err};
            sw_slices_save(sl, &w);
            assert_int_equal(again.len, bytes.len);
            assert_memory_equal(again.data, bytes.data, bytes.len);
            sw_slices_free(sl);
            sw_buf_fini(&bytes);
            sw_buf_fini(&again);
            free(t.v);
        }
}

/* A month of 1-minute verdicts in a quarter of a byte each (a ring of 65,536 slots: 16 KB and
 * the tracker; a byte a slice took 64 KB). */
static void
test_two_bits_a_slice(void **state)
{
    (void)state;
    twin t = {29980000, 29980000 + MONTH_SLICES, 29980000, calloc(MONTH_SLICES, 1)};
    assert_non_null(t.v);
    sw_buf bytes;
    sw_buf_init(&bytes, SIZE_MAX);
    write_twin(&t, &bytes);
    sw_slices *sl = load(&bytes);
    assert_true(sw_slices_bytes(sl) <= 65536 / 4 + 256);
    sw_slices_free(sl);
    sw_buf_fini(&bytes);
    free(t.v);
}

static void
test_verdict_out_of_range_refused(void **state)
{
    (void)state;
    sw_err err = {0};
    sw_buf bytes;
    sw_buf_init(&bytes, SIZE_MAX);
    sw_ckw w = {&bytes, SW_OK, &err};
    sw_ckw_i64(&w, 100);
    sw_ckw_i64(&w, 102);
    sw_ckw_i64(&w, 100);
    for (int v = 0; v < SW_SLICE_VERDICTS; v++)
        sw_ckw_u64(&w, 0);
    sw_ckw_u64(&w, 2);
    sw_ckw_u64(&w, SW_SLICE_GOOD);
    sw_ckw_u64(&w, SW_SLICE_VERDICTS);
    sw_slices *sl;
    assert_int_equal(sw_slices_new(SLICE_MS, &sl, &err), SW_OK);
    sw_ckr r = {bytes.data, bytes.data + bytes.len, false};
    assert_int_equal(sw_slices_load(sl, &r, &err), SW_E_PARSE);
    sw_slices_free(sl);
    sw_buf_fini(&bytes);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_month_of_verdicts_against_an_array),
        cmocka_unit_test(test_two_bits_a_slice),
        cmocka_unit_test(test_verdict_out_of_range_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
