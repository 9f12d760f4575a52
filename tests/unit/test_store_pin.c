/*
 * Unit tests for rollup rows pinned to their window's own statistics (core/store_pin.c): the
 * hourly and daily rows of a window whose CloudWatch statistics are stored are conformed to
 * them at every rebuild (a late minute included), their counts stay the sum of their minutes,
 * rows of windows without statistics stay the plain sum, and statistics for anything but an
 * aligned hour or day are refused. Expected counts follow from the statistics' definition (pXX
 * of N values is the ceil(XX/100 N)-th, scaled to the row's own total).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "slawatch/cwpct.h"
#include "slawatch/store.h"
#include "store_dir.h"

#define SEC INT64_C(1000)
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)
#define T0 (INT64_C(1700000000000) / DAY * DAY) /* a UTC midnight */

typedef struct fixture {
    char dir[64];
    sw_store *st;
} fixture;

static int
setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/sw-store-pin-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    sw_err err = {0};
    if (sw_store_open(f->dir, NULL, &f->st, &err) != SW_OK)
        return -1;
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture *f = *state;
    sw_store_close(f->st);
    store_dir_remove(f->dir);
    free(f);
    return 0;
}

/* A minute of 100 requests at 1, 2, ..., 100 ms. */
static void
import_minute(sw_store *st, const char *service, int64_t start_ms)
{
    sw_sli_interval iv = {
        .start_ms = start_ms, .length_ms = MIN, .requests = 100, .has_data = true};
    assert_int_equal(sw_hdr_new(&sw_hdr_latency_config, &iv.latency, NULL), SW_OK);
    for (int64_t ms = 1; ms <= 100; ms++)
        sw_hdr_record(iv.latency, ms * 1000);
    sw_store_row row = {service, NULL, &iv};
    sw_err err = {0};
    if (sw_store_import(st, SW_STORE_1M_MS, &row, 1, &err) != SW_OK)
        fail_msg("import: %s", err.msg);
    sw_hdr_free(iv.latency);
}

/* Statistics saying the window's median (of n values, in ms) is at p50_ms. */
static void
put_median(sw_store *st, const char *service, int64_t res_ms, int64_t start_ms, double n,
           double p50_ms)
{
    sw_cwpct_point pts[] = {{50, p50_ms}};
    sw_cwpct_period pd = {pts, 1, NULL, 0, n, 1, 100, 1000, NAN};
    uint8_t bytes[SW_CWPCT_WINDOW_MAX_BYTES];
    size_t len = 0;
    assert_int_equal(sw_cwpct_window_encode(&pd, bytes, &len, NULL), SW_OK);
    sw_store_window_stats ws = {service, NULL, res_ms, start_ms, bytes, len};
    sw_err err = {0};
    if (sw_store_put_window_stats(st, &ws, 1, &err) != SW_OK)
        fail_msg("window statistics: %s", err.msg);
}

typedef struct row {
    int64_t requests, total, at_or_below;
    int64_t below_ms;
    int rows;
} row;

static sw_status
note_row(void *ctx, const char *service, const char *env, const sw_sli_interval *iv, sw_err *err)
{
    (void)service, (void)env, (void)err;
    row *r = ctx;
    r->rows++;
    r->requests = (int64_t)iv->requests;
    r->total = sw_hdr_total_count(iv->latency);
    r->at_or_below = sw_hdr_count_at_or_below(iv->latency, r->below_ms * 1000);
    return SW_OK;
}

static row
read_row(sw_store *st, const char *service, int64_t res_ms, int64_t start_ms, int64_t below_ms)
{
    row r = {.below_ms = below_ms};
    assert_int_equal(
        sw_store_scan_level(st, service, res_ms, start_ms, start_ms + 1, true, note_row, &r, NULL),
        SW_OK);
    assert_int_equal(r.rows, 1);
    return r;
}

static void
test_rows_pinned(void **state)
{
    fixture *f = *state;
    sw_store *st = f->st;
    sw_store_set_pin(st, sw_cwpct_pin_stored, NULL);
    for (int m = 0; m < 2; m++) {
        import_minute(st, "api", T0 + m * MIN);
        import_minute(st, "plain", T0 + m * MIN);
    }
    put_median(st, "api", SW_STORE_1H_MS, T0, 200, 20);
    put_median(st, "api", SW_STORE_1D_MS, T0, 200, 30);
    assert_int_equal(sw_store_rollup(st, T0 + DAY, NULL), SW_OK);
    row h = read_row(st, "api", SW_STORE_1H_MS, T0, 20);
    assert_int_equal(h.requests, 200);
    assert_int_equal(h.total, 200);
    assert_int_equal(h.at_or_below, 100); /* the 100th of 200 at 20 ms, not the minutes' 40 */
    row d = read_row(st, "api", SW_STORE_1D_MS, T0, 30);
    assert_int_equal(d.total, 200);
    assert_int_equal(d.at_or_below, 100);
    assert_int_equal(read_row(st, "plain", SW_STORE_1H_MS, T0, 20).at_or_below, 40);

    /* A late minute rebuilds the hour, pinned again and scaled to its new total. */
    import_minute(st, "api", T0 + 2 * MIN);
    assert_int_equal(sw_store_rollup(st, T0 + DAY, NULL), SW_OK);
    h = read_row(st, "api", SW_STORE_1H_MS, T0, 20);
    assert_int_equal(h.requests, 300);
    assert_int_equal(h.total, 300);
    assert_int_equal(h.at_or_below, 150);

    /* Without the pin function, rows are their minutes' sum. */
    sw_store_set_pin(st, NULL, NULL);
    import_minute(st, "api", T0 + 3 * MIN);
    assert_int_equal(sw_store_rollup(st, T0 + DAY, NULL), SW_OK);
    assert_int_equal(read_row(st, "api", SW_STORE_1H_MS, T0, 20).at_or_below, 80);
}

static void
test_refused(void **state)
{
    fixture *f = *state;
    uint8_t bytes[] = "SWW1";
    const sw_store_window_stats bad[] = {
        {"api", NULL, SW_STORE_1M_MS, T0, bytes, 4},
        {"api", NULL, SW_STORE_1H_MS, T0 + MIN, bytes, 4},
        {NULL, NULL, SW_STORE_1H_MS, T0, bytes, 4},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sw_err err = {0};
        assert_int_equal(sw_store_put_window_stats(f->st, &bad[i], 1, &err), SW_E_INVAL);
        assert_non_null(strstr(err.msg, "window statistics"));
    }
}

typedef struct visits {
    char seen[8][64];
    size_t n;
} visits;

static sw_status
note_stats(void *ctx, const char *service, const char *env, int64_t start_ms, const void *stats,
           size_t len, sw_err *err)
{
    visits *v = ctx;
    sw_cwpct_window w;
    assert_int_equal(sw_cwpct_window_decode(stats, len, &w, err), SW_OK);
    assert_true(v->n < 8);
    snprintf(v->seen[v->n++], sizeof v->seen[0], "%s/%s +%lldh p50 %g", service,
             env != NULL ? env : "-", (long long)((start_ms - T0) / HOUR), w.points[0].value);
    return SW_OK;
}

/* Each stored hour in the range once, oldest first, as put: the evaluator re-pins from them. */
static void
test_scan_window_stats(void **state)
{
    fixture *f = *state;
    put_median(f->st, "api", SW_STORE_1H_MS, T0 + 2 * HOUR, 200, 22);
    put_median(f->st, "web", SW_STORE_1H_MS, T0 + HOUR, 200, 21);
    put_median(f->st, "api", SW_STORE_1H_MS, T0, 200, 20);            /* before the range */
    put_median(f->st, "api", SW_STORE_1D_MS, T0, 200, 30);            /* another resolution */
    put_median(f->st, "api", SW_STORE_1H_MS, T0 + 3 * HOUR, 200, 23); /* at its end */
    visits v = {0};
    sw_err err = {0};
    assert_int_equal(sw_store_scan_window_stats(f->st, SW_STORE_1H_MS, T0 + HOUR, T0 + 3 * HOUR,
                                                note_stats, &v, &err),
                     SW_OK);
    assert_int_equal(v.n, 2);
    assert_string_equal(v.seen[0], "web/- +1h p50 21");
    assert_string_equal(v.seen[1], "api/- +2h p50 22");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rows_pinned, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan_window_stats, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
