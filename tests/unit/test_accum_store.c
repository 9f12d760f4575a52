/*
 * The journal's encoding of an interval's latency reused as the store row's: an interval one
 * commit made is handed over by sw_accum_take_encoded in the bytes its journal record holds,
 * the store writes exactly those (sw_store_put_taken_encoded), and a reopened store reads back
 * the histogram of the latencies pushed. The truth is built apart: each series' latencies
 * recorded one at a time into a histogram of their own and encoded, nothing taken from the
 * accumulator. An interval two commits made, or one whose histogram a later commit added to,
 * has no encoding handed over (the store encodes it) and reads back the same way.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "slawatch/accum.h"
#include "slawatch/buf.h"
#include "slawatch/hdr.h"
#include "slawatch/hdr_codec.h"
#include "slawatch/store.h"

#define BASE 10000
#define T0 INT64_C(1790812800000) /* 2026-10-01T00:00:00Z */
#define N_VALUES 250

enum { ONE, TWO, LATER_COUNTS, LATER_LATENCY, SERIES };
static const char *const names[SERIES] = {"one", "two", "counts", "latency"};

typedef struct series_truth {
    int64_t values[2 * N_VALUES];
    size_t n;
    sw_hdr *h;     /* the values recorded one at a time */
    sw_buf bytes;  /* h encoded */
    bool reusable; /* one commit made the histogram: its journal bytes are handed over */
} series_truth;

typedef struct taken_rows {
    char service[SERIES][16];
    sw_sli_interval iv[SERIES];
    sw_accum_encoding enc[SERIES];
    size_t n;
} taken_rows;

static uint64_t
xorshift(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* n latencies from 1 ms to about 1.3 s, spread over many buckets. */
static void
some_latencies(uint64_t *x, int64_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = 1000 + (int64_t)(xorshift(x) % 1300000u);
}

/* Push n values of series k (with n requests, 1 error) in one commit; they join its truth. */
static void
push(sw_accum *a, series_truth *t, int k, int64_t at_ms, const int64_t *values, size_t n)
{
    int64_t copy[2 * N_VALUES];
    memcpy(copy, values, n * sizeof *copy);
    sw_accum_batch *b = sw_accum_batch_new(a);
    assert_non_null(b);
    assert_int_equal(sw_accum_batch_latencies(b, names[k], "green", at_ms, copy, n, NULL), SW_OK);
    assert_int_equal(sw_accum_batch_counts(b, names[k], "green", at_ms, n, 1, NULL), SW_OK);
    assert_int_equal(sw_accum_commit(a, b, NULL), SW_OK);
    sw_accum_batch_free(b);
    memcpy(&t[k].values[t[k].n], values, n * sizeof *values);
    t[k].n += n;
}

static void
build_truth(series_truth *t)
{
    assert_int_equal(sw_hdr_new(&sw_hdr_latency_config, &t->h, NULL), SW_OK);
    for (size_t i = 0; i < t->n; i++)
        assert_true(sw_hdr_record(t->h, t->values[i]));
    sw_buf_init(&t->bytes, SIZE_MAX);
    assert_int_equal(sw_hdr_encode(t->h, false, &t->bytes, NULL), SW_OK);
}

static int
series_of(const char *service)
{
    for (int k = 0; k < SERIES; k++)
        if (strcmp(service, names[k]) == 0)
            return k;
    fail_msg("unknown series %s", service);
    return -1;
}

static sw_status
collect(void *ctx, const char *service, const char *env, sw_sli_interval *iv,
        sw_accum_encoding *latency, sw_err *err)
{
    (void)env;
    (void)err;
    taken_rows *t = ctx;
    int k = series_of(service);
    snprintf(t->service[k], sizeof t->service[k], "%s", service);
    t->iv[k] = *iv;
    *iv = (sw_sli_interval){0};
    t->enc[k] = *latency; /* taken */
    *latency = (sw_accum_encoding){0};
    t->n++;
    return SW_OK;
}

/* Every value's rank in h equals its rank in the truth, and the totals agree. */
static void
assert_same_histogram(const sw_hdr *h, const series_truth *t)
{
    assert_int_equal(sw_hdr_total_count(h), (int64_t)t->n);
    for (size_t i = 0; i < t->n; i++)
        assert_int_equal(sw_hdr_count_at_or_below(h, t->values[i]),
                         sw_hdr_count_at_or_below(t->h, t->values[i]));
}

static bool
file_holds(const char *path, const sw_buf *bytes)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static uint8_t data[1 << 20];
    size_t n = fread(data, 1, sizeof data, f);
    fclose(f);
    for (size_t i = 0; i + bytes->len <= n; i++)
        if (memcmp(data + i, bytes->data, bytes->len) == 0)
            return true;
    return false;
}

typedef struct read_back {
    series_truth *truth;
    size_t rows, encoded_rows;
} read_back;

static sw_status
check_stored_bytes(void *ctx, const char *service, const char *env, const sw_sli_interval *iv,
                   const uint8_t *latency, size_t len, sw_err *err)
{
    (void)env;
    (void)iv;
    (void)err;
    read_back *r = ctx;
    const series_truth *t = &r->truth[series_of(service)];
    assert_int_equal(len, t->bytes.len);
    assert_memory_equal(latency, t->bytes.data, len);
    r->encoded_rows++;
    return SW_OK;
}

static sw_status
check_stored_histogram(void *ctx, const char *service, const char *env, const sw_sli_interval *iv,
                       sw_err *err)
{
    (void)env;
    (void)err;
    read_back *r = ctx;
    assert_non_null(iv->latency);
    assert_same_histogram(iv->latency, &r->truth[series_of(service)]);
    r->rows++;
    return SW_OK;
}

static void
test_row_carries_the_journals_bytes(void **state)
{
    (void)state;
    char dir[] = "/tmp/sw-test-accum-store-XXXXXX", journal[128];
    assert_non_null(mkdtemp(dir));
    snprintf(journal, sizeof journal, "%s/ingest.journal", dir);
    series_truth truth[SERIES] = {0};
    uint64_t x = 0x9e3779b97f4a7c15u;
    int64_t values[2 * N_VALUES];
    sw_accum *a;
    assert_int_equal(sw_accum_new(BASE, &a, NULL), SW_OK);
    assert_int_equal(sw_accum_journal_open(a, journal, INT64_MIN, NULL, NULL), SW_OK);
    /* one: one commit. two: two commits of latencies. counts: one commit of latencies, then
     * one of counts alone (its histogram stays the first's). latency: a commit of counts
     * alone, then one of latencies (the histogram is that commit's alone). */
    some_latencies(&x, values, N_VALUES);
    push(a, truth, ONE, T0 + 1000, values, N_VALUES);
    some_latencies(&x, values, 2 * N_VALUES);
    push(a, truth, TWO, T0 + 2000, values, N_VALUES);
    push(a, truth, TWO, T0 + 3000, values + N_VALUES, N_VALUES);
    some_latencies(&x, values, N_VALUES);
    push(a, truth, LATER_COUNTS, T0 + 4000, values, N_VALUES);
    assert_int_equal(sw_accum_add_counts(a, names[LATER_COUNTS], "green", T0 + 5000, 7, 0, NULL),
                     SW_OK);
    assert_int_equal(sw_accum_add_counts(a, names[LATER_LATENCY], "green", T0 + 500, 3, 0, NULL),
                     SW_OK);
    some_latencies(&x, values, N_VALUES);
    push(a, truth, LATER_LATENCY, T0 + 6000, values, N_VALUES);
    truth[ONE].reusable = truth[LATER_COUNTS].reusable = truth[LATER_LATENCY].reusable = true;
    for (int k = 0; k < SERIES; k++)
        build_truth(&truth[k]);

    taken_rows t = {0};
    assert_int_equal(sw_accum_take_encoded(a, T0 + BASE, collect, &t, NULL), SW_OK);
    assert_int_equal(t.n, SERIES);
    sw_store_row rows[SERIES];
    sw_store_encoded enc[SERIES];
    for (int k = 0; k < SERIES; k++) {
        assert_same_histogram(t.iv[k].latency, &truth[k]);
        if (truth[k].reusable) {
            /* Handed over, the same bytes as the independent encoding, and in the journal. */
            assert_int_equal(t.enc[k].len, truth[k].bytes.len);
            assert_memory_equal(t.enc[k].data, truth[k].bytes.data, truth[k].bytes.len);
            assert_true(file_holds(journal, &truth[k].bytes));
        } else {
            assert_null(t.enc[k].data);
        }
        rows[k] = (sw_store_row){names[k], "green", &t.iv[k]};
        enc[k] = (sw_store_encoded){t.enc[k].data, t.enc[k].len};
    }
    sw_store *st;
    assert_int_equal(sw_store_open(dir, NULL, &st, NULL), SW_OK);
    assert_int_equal(sw_store_put_taken_encoded(st, rows, enc, SERIES, T0 + BASE, NULL), SW_OK);
    sw_store_close(st);
    sw_accum_free(a);

    /* A restart: the reopened store holds each row in the truth's bytes, its histogram. */
    read_back r = {.truth = truth};
    assert_int_equal(sw_store_open(dir, NULL, &st, NULL), SW_OK);
    assert_int_equal(sw_store_scan_encoded(st, NULL, T0, T0 + BASE, T0, T0 + BASE,
                                           check_stored_bytes, &r, NULL),
                     SW_OK);
    assert_int_equal(sw_store_scan(st, NULL, T0, T0 + BASE, T0, check_stored_histogram, &r, NULL),
                     SW_OK);
    assert_int_equal(r.encoded_rows, SERIES);
    assert_int_equal(r.rows, SERIES);
    sw_store_close(st);

    for (int k = 0; k < SERIES; k++) {
        sw_sli_interval_fini(&t.iv[k]);
        free(t.enc[k].data);
        sw_hdr_free(truth[k].h);
        sw_buf_fini(&truth[k].bytes);
    }
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_row_carries_the_journals_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
