/*
 * Unit tests for the interval accumulators: events land in the base interval holding their
 * time, taking hands over only ended intervals in start order, late data is dropped and
 * counted, a late counter increase is counted in the oldest open interval, whole intervals
 * merge, and concurrent adds from several threads lose nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "slawatch/accum.h"

#define BASE 10000
#define T0 INT64_C(1790812800000) /* 2026-10-01T00:00:00Z */

typedef struct taken {
    char service[16], env[16];
    sw_sli_interval iv[16];
    size_t n;
} taken;

static sw_status
collect(void *ctx, const char *service, const char *env, sw_sli_interval *iv, sw_err *err)
{
    (void)err;
    taken *t = ctx;
    assert_true(t->n < 16);
    snprintf(t->service, sizeof t->service, "%s", service);
    snprintf(t->env, sizeof t->env, "%s", env ? env : "-");
    t->iv[t->n++] = *iv; /* takes ownership */
    return SW_OK;
}

static void
release(taken *t)
{
    for (size_t i = 0; i < t->n; i++)
        sw_sli_interval_fini(&t->iv[i]);
    t->n = 0;
}

static void
test_counts_land_in_their_interval(void **state)
{
    (void)state;
    sw_accum *a;
    assert_int_equal(sw_accum_new(BASE, &a, NULL), SW_OK);
    assert_int_equal(sw_accum_add_counts(a, "api", "green", T0 + 12000, 100, 1, NULL), SW_OK);
    assert_int_equal(sw_accum_add_counts(a, "api", "green", T0 + 3000, 50, 0, NULL), SW_OK);
    assert_int_equal(sw_accum_add_counts(a, "api", "green", T0 + 19999, 10, 2, NULL), SW_OK);
    assert_int_equal(sw_accum_add_latency(a, "api", "green", T0 + 15000, 2500, 7, NULL), SW_OK);
    assert_int_equal(sw_accum_add_probe(a, "api", "green", T0 + 11000, false, NULL), SW_OK);
    assert_int_equal(sw_accum_add_probe(a, "api", "green", T0 + 16000, true, NULL), SW_OK);
    taken t = {0};
    /* At T0 + 15 s only [T0, T0+10s) has ended. */
    assert_int_equal(sw_accum_take(a, T0 + 15000, collect, &t, NULL), SW_OK);
    assert_int_equal(t.n, 1);
    assert_string_equal(t.service, "api");
    assert_string_equal(t.env, "green");
    assert_int_equal(t.iv[0].start_ms, T0);
    assert_int_equal(t.iv[0].requests, 50);
    assert_null(t.iv[0].latency);
    release(&t);
    assert_int_equal(sw_accum_take(a, T0 + 20000, collect, &t, NULL), SW_OK);
    assert_int_equal(t.n, 1);
    assert_int_equal(t.iv[0].start_ms, T0 + 10000);
    assert_int_equal(t.iv[0].length_ms, BASE);
    assert_int_equal(t.iv[0].requests, 110);
    assert_int_equal(t.iv[0].errors, 3);
    assert_true(t.iv[0].has_data);
    assert_int_equal(sw_hdr_total_count(t.iv[0].latency), 7);
    assert_int_equal(t.iv[0].health.probes, 2);
    assert_int_equal(t.iv[0].health.failures, 1);
    assert_int_equal(t.iv[0].health.leading_failures, 1);
    release(&t);
    /* Late: the interval [T0+10s, T0+20s) was taken. */
    assert_int_equal(sw_accum_add_counts(a, "api", "green", T0 + 19000, 5, 5, NULL), SW_OK);
    assert_int_equal(sw_accum_late(a), 1);
    assert_int_equal(sw_accum_take(a, T0 + 30000, collect, &t, NULL), SW_OK);
    assert_int_equal(t.n, 0);
    sw_accum_free(a);
}

/* Health for a taken interval is dropped; the batch says how many of its values were, so a
 * source can count its own. */
static void
test_batch_counts_its_late_values(void **state)
{
    (void)state;
    sw_accum *a;
    assert_int_equal(sw_accum_new(BASE, &a, NULL), SW_OK);
    taken t = {0};
    assert_int_equal(sw_accum_add_probe(a, "api", NULL, T0 + 1000, true, NULL), SW_OK);
    assert_int_equal(sw_accum_take(a, T0 + 10000, collect, &t, NULL), SW_OK);
    release(&t);
    assert_int_equal(sw_accum_add_probe(a, "api", NULL, T0 + 9000, true, NULL), SW_OK);
    sw_accum_batch *b = sw_accum_batch_new(a);
    assert_non_null(b);
    assert_int_equal(sw_accum_batch_probe(b, "api", NULL, T0 + 8000, false, NULL), SW_OK);
    assert_int_equal(sw_accum_batch_probe(b, "api", NULL, T0 + 9500, true, NULL), SW_OK);
    assert_int_equal(sw_accum_batch_probe(b, "api", NULL, T0 + 11000, false, NULL), SW_OK);
    assert_int_equal(sw_accum_commit(a, b, NULL), SW_OK);
    assert_int_equal(sw_accum_batch_late(b), 2);
    assert_int_equal(sw_accum_late(a), 3);
    sw_accum_batch_free(b);
    assert_int_equal(sw_accum_take(a, T0 + 20000, collect, &t, NULL), SW_OK);
    assert_int_equal(t.n, 1);
    assert_int_equal(t.iv[0].start_ms, T0 + 10000);
    assert_int_equal(t.iv[0].health.probes, 1);
    assert_int_equal(t.iv[0].health.failures, 1);
    release(&t);
    sw_accum_free(a);
}

/* A scrape stamped in a taken interval: its increase is cumulative, so it lands in the next. */
static void
test_late_increase_carried(void **state)
{
    (void)state;
    sw_accum *a;
    sw_hdr *h;
    assert_int_equal(sw_accum_new(BASE, &a, NULL), SW_OK);
    assert_int_equal(sw_hdr_new(&sw_hdr_latency_config, &h, NULL), SW_OK);
    sw_hdr_record_n(h, 4000, 9);
    taken t = {0};
    assert_int_equal(sw_accum_add_counts(a, "api", NULL, T0 + 1000, 1, 0, NULL), SW_OK);
    assert_int_equal(sw_accum_take(a, T0 + 10000, collect, &t, NULL), SW_OK);
    release(&t);
    /* One scrape's batch: an increase stamped in the taken interval and one in the open one. */
    sw_accum_batch *b = sw_accum_batch_new(a);
    assert_non_null(b);
    assert_int_equal(sw_accum_batch_increase(b, "api", NULL, T0 + 9500, 40, 4, h, NULL), SW_OK);
    assert_int_equal(sw_accum_batch_increase(b, "api", NULL, T0 + 12000, 2, 0, NULL, NULL), SW_OK);
    assert_int_equal(sw_accum_commit(a, b, NULL), SW_OK);
    assert_int_equal(sw_accum_batch_late(b), 0);
    sw_accum_batch_free(b);
    assert_int_equal(sw_accum_late(a), 0);
    assert_int_equal(sw_accum_carried(a), 1);
    assert_int_equal(sw_accum_take(a, T0 + 20000, collect, &t, NULL), SW_OK);
    assert_int_equal(t.n, 1);
    assert_int_equal(t.iv[0].start_ms, T0 + 10000);
    assert_int_equal(t.iv[0].requests, 42);
    assert_int_equal(t.iv[0].errors, 4);
    assert_int_equal(sw_hdr_total_count(t.iv[0].latency), 9);
    release(&t);
    sw_hdr_free(h);
    sw_accum_free(a);
}

static void
test_whole_intervals_merge(void **state)
{
    (void)state;
    sw_accum *a;
    assert_int_equal(sw_accum_new(BASE, &a, NULL), SW_OK);
    sw_sli_interval iv = {
        .start_ms = T0, .length_ms = BASE, .requests = 10, .errors = 1, .has_data = true};
    assert_int_equal(sw_hdr_new(&sw_hdr_latency_config, &iv.latency, NULL), SW_OK);
    sw_hdr_record_n(iv.latency, 1000, 10);
    sw_health_record(&iv.health, false);
    assert_int_equal(sw_accum_add_interval(a, "api", NULL, &iv, NULL), SW_OK);
    assert_int_equal(sw_accum_add_interval(a, "api", NULL, &iv, NULL), SW_OK);
    sw_sli_interval_fini(&iv);
    taken t = {0};
    assert_int_equal(sw_accum_take(a, T0 + BASE, collect, &t, NULL), SW_OK);
    assert_int_equal(t.n, 1);
    assert_string_equal(t.env, "-");
    assert_int_equal(t.iv[0].requests, 20);
    assert_int_equal(t.iv[0].errors, 2);
    assert_int_equal(sw_hdr_total_count(t.iv[0].latency), 20);
    /* Two failed probes in a row across the two merged intervals: one run of 2. */
    assert_int_equal(t.iv[0].health.longest_failures, 2);
    release(&t);
    sw_accum_free(a);
}

static int64_t
fixed_clock(void *ctx)
{
    return *(const int64_t *)ctx;
}

/* Far-future data is refused with the bound in the message and takes no interval, so it cannot
 * block current data however often it comes. */
static void
test_too_far_ahead_refused(void **state)
{
    (void)state;
    sw_accum *a;
    sw_err err;
    int64_t now = T0;
    assert_int_equal(sw_accum_new(BASE, &a, NULL), SW_OK);
    sw_accum_set_horizon(a, fixed_clock, &now, 300000);
    const int64_t y2099 = INT64_C(4070908800000); /* 2099-01-01T00:00:00Z */
    for (int i = 0; i < 200; i++)
        assert_int_equal(sw_accum_add_counts(a, "api", NULL, y2099 + i * BASE, 1, 0, &err),
                         SW_E_RANGE);
    assert_non_null(strstr(err.msg, "2099-01-01T00:33:10"));
    assert_non_null(strstr(err.msg, "2026-10-01T00:05:00"));
    assert_non_null(strstr(err.msg, "now + 5m"));
    assert_int_equal(sw_accum_add_counts(a, "api", NULL, T0 + 300000, 1, 0, NULL), SW_OK);
    assert_int_equal(sw_accum_add_counts(a, "api", NULL, T0 + 300001, 1, 0, &err), SW_E_RANGE);
    assert_int_equal(sw_accum_add_counts(a, "api", NULL, T0 + 1000, 7, 0, NULL), SW_OK);
    taken t = {0};
    assert_int_equal(sw_accum_take(a, INT64_MAX, collect, &t, NULL), SW_OK);
    assert_int_equal(t.n, 2);
    assert_int_equal(t.iv[0].start_ms, T0);
    assert_int_equal(t.iv[0].requests, 7);
    assert_int_equal(t.iv[1].start_ms, T0 + 300000);
    release(&t);
    sw_accum_free(a);
}

/* A batch whose last part is refused applies none of its parts. */
static void
test_batch_whole_or_nothing(void **state)
{
    (void)state;
    sw_accum *a;
    sw_err err;
    int64_t now = T0;
    assert_int_equal(sw_accum_new(BASE, &a, NULL), SW_OK);
    sw_accum_set_horizon(a, fixed_clock, &now, 300000);
    sw_accum_batch *b = sw_accum_batch_new(a);
    assert_int_equal(sw_accum_batch_counts(b, "api", "blue", T0 + 1000, 100, 2, NULL), SW_OK);
    assert_int_equal(sw_accum_batch_latency(b, "web", NULL, T0 + 2000, 1500, 3, NULL), SW_OK);
    assert_int_equal(sw_accum_batch_probe(b, "api", "blue", T0 + 3000, false, NULL), SW_OK);
    assert_int_equal(sw_accum_batch_counts(b, "api", "blue", T0 + 900000, 1, 0, NULL), SW_OK);
    assert_int_equal(sw_accum_commit(a, b, &err), SW_E_RANGE);
    sw_accum_batch_free(b);
    taken t = {0};
    assert_int_equal(sw_accum_take(a, INT64_MAX, collect, &t, NULL), SW_OK);
    assert_int_equal(t.n, 0);
    sw_accum_free(a);
}

/* After sw_accum_close, a strict batch reaching into a closed interval is refused whole; other
 * batches still add to it until it is taken, then count as late. */
static void
test_closed_intervals(void **state)
{
    (void)state;
    sw_accum *a;
    sw_err err;
    assert_int_equal(sw_accum_new(BASE, &a, NULL), SW_OK);
    sw_accum_close(a, T0 + BASE);
    sw_accum_batch *b = sw_accum_batch_new_strict(a);
    assert_int_equal(sw_accum_batch_counts(b, "api", NULL, T0 + BASE, 5, 0, NULL), SW_OK);
    assert_int_equal(sw_accum_batch_counts(b, "api", NULL, T0 + BASE - 1, 7, 0, NULL), SW_OK);
    assert_int_equal(sw_accum_commit(a, b, &err), SW_E_RANGE);
    assert_non_null(strstr(err.msg, "too late"));
    sw_accum_batch_free(b);
    b = sw_accum_batch_new(a);
    assert_int_equal(sw_accum_batch_counts(b, "api", NULL, T0 + BASE, 5, 0, NULL), SW_OK);
    assert_int_equal(sw_accum_batch_counts(b, "api", NULL, T0 + BASE - 1, 7, 0, NULL), SW_OK);
    assert_int_equal(sw_accum_commit(a, b, NULL), SW_OK);
    sw_accum_batch_free(b);
    taken t = {0};
    assert_int_equal(sw_accum_take(a, T0 + BASE, collect, &t, NULL), SW_OK);
    assert_int_equal(t.n, 1);
    assert_int_equal(t.iv[0].start_ms, T0);
    assert_int_equal(t.iv[0].requests, 7);
    assert_int_equal(sw_accum_add_counts(a, "api", NULL, T0, 1, 0, NULL), SW_OK);
    assert_int_equal(sw_accum_late(a), 1);
    release(&t);
    assert_int_equal(sw_accum_take(a, INT64_MAX, collect, &t, NULL), SW_OK);
    assert_int_equal(t.n, 1);
    assert_int_equal(t.iv[0].requests, 5);
    release(&t);
    sw_accum_free(a);
}

/* Counts that would pass 2^64 - 1 are refused, in a batch and against the open interval. */
static void
test_counts_that_would_wrap_refused(void **state)
{
    (void)state;
    sw_accum *a;
    sw_err err;
    assert_int_equal(sw_accum_new(BASE, &a, NULL), SW_OK);
    assert_int_equal(sw_accum_add_counts(a, "api", NULL, T0, UINT64_MAX - 1, 0, NULL), SW_OK);
    assert_int_equal(sw_accum_add_counts(a, "api", NULL, T0 + 1, 2, 0, &err), SW_E_RANGE);
    assert_non_null(strstr(err.msg, "2^64"));
    assert_int_equal(sw_accum_add_counts(a, "api", NULL, T0 + 2, 1, 0, NULL), SW_OK);
    sw_accum_batch *b = sw_accum_batch_new(a);
    assert_int_equal(sw_accum_batch_counts(b, "web", NULL, T0, UINT64_MAX, UINT64_MAX, NULL),
                     SW_OK);
    assert_int_equal(sw_accum_batch_counts(b, "web", NULL, T0, 0, 1, &err), SW_E_RANGE);
    sw_accum_batch_free(b);
    taken t = {0};
    assert_int_equal(sw_accum_take(a, INT64_MAX, collect, &t, NULL), SW_OK);
    assert_int_equal(t.n, 1);
    assert_true(t.iv[0].requests == UINT64_MAX);
    release(&t);
    sw_accum_free(a);
}

static void
journal_path(char *out, size_t cap)
{
    snprintf(out, cap, "/tmp/sw-test-accum-%ld.journal", (long)getpid());
    unlink(out);
}

/* Commits, a crash (the accumulators dropped without a take), a new process: everything
 * committed is back, nothing twice; after a compaction only the open intervals remain. */
static void
test_journal_replays_commits(void **state)
{
    (void)state;
    char path[128];
    journal_path(path, sizeof path);
    sw_accum *a;
    size_t n;
    assert_int_equal(sw_accum_new(BASE, &a, NULL), SW_OK);
    assert_int_equal(sw_accum_journal_open(a, path, INT64_MIN, &n, NULL), SW_OK);
    assert_int_equal(n, 0);
    for (int i = 0; i < 30; i++) {
        assert_int_equal(sw_accum_add_counts(a, "api", "blue", T0 + i * 1000, 10, i % 3 == 0, NULL),
                         SW_OK);
        assert_int_equal(
            sw_accum_add_latency(a, "api", "blue", T0 + i * 1000, 100 * (i + 1), 2, NULL), SW_OK);
        assert_int_equal(sw_accum_add_probe(a, "api", "blue", T0 + i * 1000, i != 4, NULL), SW_OK);
    }
    assert_int_equal(sw_accum_sync(a, NULL), SW_OK);
    sw_accum_free(a); /* kill -9: nothing taken */

    assert_int_equal(sw_accum_new(BASE, &a, NULL), SW_OK);
    assert_int_equal(sw_accum_journal_open(a, path, INT64_MIN, &n, NULL), SW_OK);
    assert_int_equal(n, 90);
    taken t = {0};
    assert_int_equal(sw_accum_take(a, T0 + 2 * BASE, collect, &t, NULL), SW_OK);
    assert_int_equal(t.n, 2);
    assert_int_equal(t.iv[0].requests + t.iv[1].requests, 200);
    assert_int_equal(t.iv[0].errors + t.iv[1].errors, 7);
    assert_int_equal(sw_hdr_total_count(t.iv[0].latency) + sw_hdr_total_count(t.iv[1].latency), 40);
    release(&t);
    /* Everything taken is stored (say): compact, then crash again. */
    assert_int_equal(sw_accum_journal_compact(a, NULL), SW_OK);
    assert_int_equal(sw_accum_add_counts(a, "api", "blue", T0 + 25000, 5, 0, NULL), SW_OK);
    sw_accum_free(a);

    assert_int_equal(sw_accum_new(BASE, &a, NULL), SW_OK);
    assert_int_equal(sw_accum_journal_open(a, path, INT64_MIN, &n, NULL), SW_OK);
    assert_int_equal(sw_accum_take(a, INT64_MAX, collect, &t, NULL), SW_OK);
    assert_int_equal(t.n, 1); /* the interval open at the compaction, once */
    uint64_t requests = 0, probes = 0;
    for (size_t i = 0; i < t.n; i++) {
        requests += t.iv[i].requests;
        probes += t.iv[i].health.probes;
    }
    assert_int_equal(requests, 100 + 5);
    assert_int_equal(probes, 10);
    release(&t);
    sw_accum_free(a);
    unlink(path);
}

/* A torn last record (the process died inside a write) is cut off; records of intervals the
 * store already holds are skipped. */
static void
test_journal_torn_tail_and_skip(void **state)
{
    (void)state;
    char path[128];
    journal_path(path, sizeof path);
    sw_accum *a;
    size_t n;
    assert_int_equal(sw_accum_new(BASE, &a, NULL), SW_OK);
    assert_int_equal(sw_accum_journal_open(a, path, INT64_MIN, &n, NULL), SW_OK);
    assert_int_equal(sw_accum_add_counts(a, "api", NULL, T0, 3, 0, NULL), SW_OK);
    assert_int_equal(sw_accum_add_counts(a, "api", NULL, T0 + BASE, 4, 0, NULL), SW_OK);
    sw_accum_free(a);
    FILE *f = fopen(path, "ab");
    assert_non_null(f);
    const uint8_t torn[] = {40, 0, 0, 0, 1, 2, 3, 4, 'A', 1, 1};
    assert_int_equal(fwrite(torn, 1, sizeof torn, f), sizeof torn);
    fclose(f);

    assert_int_equal(sw_accum_new(BASE, &a, NULL), SW_OK);
    assert_int_equal(sw_accum_journal_open(a, path, T0 + BASE, &n, NULL), SW_OK);
    assert_int_equal(n, 1);
    assert_int_equal(sw_accum_add_counts(a, "api", NULL, T0 + BASE, 6, 0, NULL), SW_OK);
    sw_accum_free(a);

    assert_int_equal(sw_accum_new(BASE, &a, NULL), SW_OK);
    assert_int_equal(sw_accum_journal_open(a, path, INT64_MIN, &n, NULL), SW_OK);
    taken t = {0};
    assert_int_equal(sw_accum_take(a, INT64_MAX, collect, &t, NULL), SW_OK);
    assert_int_equal(t.n, 2);
    assert_int_equal(t.iv[0].requests, 3);
    assert_int_equal(t.iv[1].requests, 4 + 6);
    release(&t);
    sw_accum_free(a);
    unlink(path);
}

/* The requests of every interval a new process replays from the journal (taken whole). */
static uint64_t
replayed_requests(const char *path, int64_t skip_before, uint64_t per_interval[4], size_t *ret_n)
{
    sw_accum *a;
    assert_int_equal(sw_accum_new(BASE, &a, NULL), SW_OK);
    assert_int_equal(sw_accum_journal_open(a, path, skip_before, ret_n, NULL), SW_OK);
    taken t = {0};
    assert_int_equal(sw_accum_take(a, INT64_MAX, collect, &t, NULL), SW_OK);
    uint64_t total = 0;
    memset(per_interval, 0, 4 * sizeof *per_interval);
    for (size_t i = 0; i < t.n; i++) {
        int64_t k = (t.iv[i].start_ms - T0) / BASE;
        assert_true(k >= 0 && k < 4);
        per_interval[k] += t.iv[i].requests;
        total += t.iv[i].requests;
    }
    release(&t);
    sw_accum_free(a);
    return total;
}

/*
 * A compaction keeps the records of intervals not taken yet as they were written and drops the
 * others, so a new process replays exactly the commits into open intervals (counted here as
 * they are made); a counter increase stamped in a taken interval and carried to an open one is
 * kept with that interval's records, and so are the open intervals after a replay (whose
 * records' intervals are not known: encoded again).
 */
static void
test_journal_compaction_keeps_untaken_records(void **state)
{
    (void)state;
    char path[128];
    journal_path(path, sizeof path);
    sw_accum *a;
    size_t n;
    uint64_t want[4] = {0}, got[4];
    size_t open_commits = 0;
    assert_int_equal(sw_accum_new(BASE, &a, NULL), SW_OK);
    assert_int_equal(sw_accum_journal_open(a, path, INT64_MIN, &n, NULL), SW_OK);
    for (int i = 0; i < 40; i++) { /* 10 commits into each of 4 intervals, 2 series */
        int64_t k = i % 4;
        uint64_t r = 1 + (uint64_t)i;
        assert_int_equal(sw_accum_add_counts(a, "api", i % 2 ? "blue" : "green",
                                             T0 + k * BASE + i * 100, r, 0, NULL),
                         SW_OK);
        want[k] += r;
        open_commits += k >= 2;
    }
    taken t = {0};
    assert_int_equal(sw_accum_take(a, T0 + 2 * BASE, collect, &t, NULL), SW_OK);
    release(&t);
    assert_int_equal(sw_accum_journal_compact(a, NULL), SW_OK);
    sw_accum_free(a); /* kill -9 */
    want[0] = want[1] = 0;
    /* Replayed without a skip: only the open intervals' records are left, each as committed. */
    assert_int_equal(replayed_requests(path, INT64_MIN, got, &n), want[2] + want[3]);
    assert_int_equal(n, open_commits);
    assert_memory_equal(got, want, sizeof want);

    /* A counter increase stamped in a taken interval, carried into the oldest open one. */
    assert_int_equal(sw_accum_new(BASE, &a, NULL), SW_OK);
    assert_int_equal(sw_accum_journal_open(a, path, T0 + 2 * BASE, &n, NULL), SW_OK);
    assert_int_equal(sw_accum_journal_compact(a, NULL), SW_OK); /* after a replay: encoded */
    assert_int_equal(sw_accum_take(a, T0 + 2 * BASE, collect, &t, NULL), SW_OK);
    assert_int_equal(t.n, 0);
    sw_accum_batch *b = sw_accum_batch_new(a);
    assert_non_null(b);
    assert_int_equal(sw_accum_batch_increase(b, "api", "green", T0 + BASE + 500, 7, 0, NULL, NULL),
                     SW_OK);
    assert_int_equal(sw_accum_commit(a, b, NULL), SW_OK);
    sw_accum_batch_free(b);
    assert_int_equal(sw_accum_carried(a), 1);
    want[2] += 7;
    assert_int_equal(sw_accum_journal_compact(a, NULL), SW_OK);
    /* And one more commit after it, into the last interval, kept as written. */
    assert_int_equal(sw_accum_add_counts(a, "api", "blue", T0 + 3 * BASE, 5, 0, NULL), SW_OK);
    want[3] += 5;
    sw_accum_free(a); /* kill -9 */
    assert_int_equal(replayed_requests(path, T0 + 2 * BASE, got, &n), want[2] + want[3]);
    assert_memory_equal(got, want, sizeof want);
    unlink(path);
}

typedef struct worker {
    sw_accum *a;
    const char *env;
} worker;

static void *
add_many(void *arg)
{
    const worker *w = arg;
    for (int i = 0; i < 20000; i++)
        sw_accum_add_counts(w->a, "api", w->env, T0 + (i % 5) * 1000, 1, i % 2, NULL);
    return NULL;
}

static void
test_concurrent_adds(void **state)
{
    (void)state;
    sw_accum *a;
    assert_int_equal(sw_accum_new(BASE, &a, NULL), SW_OK);
    pthread_t th[4];
    worker w[4] = {{a, "blue"}, {a, "blue"}, {a, "green"}, {a, "green"}};
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, add_many, &w[i]);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    taken t = {0};
    assert_int_equal(sw_accum_take(a, T0 + BASE, collect, &t, NULL), SW_OK);
    assert_int_equal(t.n, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(t.iv[i].requests, 40000);
        assert_int_equal(t.iv[i].errors, 20000);
    }
    release(&t);
    sw_accum_free(a);
}

/* Many series, looked up by name: each one's counts land in its own accumulator, an absent
 * env and an empty one are different series, and a series named again is the same one. */
#define MANY 3000
static const char *const many_envs[] = {"blue", "green", "", NULL};

typedef struct many_seen {
    uint64_t requests[MANY][4];
    size_t intervals;
} many_seen;

static sw_status
collect_many(void *ctx, const char *service, const char *env, sw_sli_interval *iv, sw_err *err)
{
    (void)err;
    many_seen *seen = ctx;
    unsigned k;
    assert_int_equal(sscanf(service, "svc%u", &k), 1);
    assert_true(k < MANY);
    size_t e = env == NULL ? 3 : strcmp(env, "") == 0 ? 2 : strcmp(env, "green") == 0 ? 1 : 0;
    if (e == 0)
        assert_string_equal(env, "blue");
    seen->requests[k][e] += iv->requests;
    seen->intervals++;
    sw_sli_interval_fini(iv);
    return SW_OK;
}

static void
test_many_series_each_its_own(void **state)
{
    (void)state;
    sw_accum *a;
    assert_int_equal(sw_accum_new(BASE, &a, NULL), SW_OK);
    char name[32];
    for (int pass = 0; pass < 2; pass++)
        for (unsigned k = 0; k < MANY; k++)
            for (size_t e = 0; e < 4; e++) {
                snprintf(name, sizeof name, "svc%u", k);
                assert_int_equal(sw_accum_add_counts(a, name, many_envs[e], T0 + pass * 1000,
                                                     k * 4 + e + 1, 0, NULL),
                                 SW_OK);
            }
    static many_seen seen;
    memset(&seen, 0, sizeof seen);
    assert_int_equal(sw_accum_take(a, T0 + BASE, collect_many, &seen, NULL), SW_OK);
    assert_int_equal(seen.intervals, MANY * 4);
    for (unsigned k = 0; k < MANY; k++)
        for (size_t e = 0; e < 4; e++)
            assert_int_equal(seen.requests[k][e], 2 * (k * 4 + e + 1));
    sw_accum_free(a);
}

/*
 * The n latencies added at once land exactly as recorded one by one into a histogram of their
 * own (every bucket's count), whatever their order (values is shuffled by the add).
 */
static void
check_latencies_at_once(int64_t *values, size_t n)
{
    sw_accum *a;
    assert_int_equal(sw_accum_new(BASE, &a, NULL), SW_OK);
    sw_hdr *want;
    assert_int_equal(sw_hdr_new(&sw_hdr_latency_config, &want, NULL), SW_OK);
    for (size_t i = 0; i < n; i++)
        assert_true(sw_hdr_record(want, values[i]));
    sw_accum_batch *b = sw_accum_batch_new_strict(a);
    assert_int_equal(sw_accum_batch_latencies(b, "api", "blue", T0 + 1000, values, n, NULL), SW_OK);
    assert_int_equal(sw_accum_commit(a, b, NULL), SW_OK);
    sw_accum_batch_free(b);
    taken t = {0};
    assert_int_equal(sw_accum_take(a, T0 + BASE, collect, &t, NULL), SW_OK);
    assert_int_equal(t.n, 1);
    const sw_hdr *got = t.iv[0].latency;
    assert_int_equal(sw_hdr_total_count(got), (int64_t)n);
    assert_int_equal(sw_hdr_recorded_buckets(got), sw_hdr_recorded_buckets(want));
    sw_hdr_iter it;
    sw_hdr_iter_init(&it, want);
    while (sw_hdr_iter_next(&it))
        assert_int_equal(sw_hdr_count_at_or_below(got, it.value_hi),
                         sw_hdr_count_at_or_below(want, it.value_hi));
    assert_int_equal(sw_hdr_min(got), sw_hdr_min(want));
    assert_int_equal(sw_hdr_max(got), sw_hdr_max(want));
    release(&t);
    sw_hdr_free(want);
    sw_accum_free(a);
}

static uint64_t
xorshift(uint64_t *x)
{
    *x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17;
    return *x;
}

/* Repeats, neighbours in one bucket and the range's ends; one value out of range adds none. */
static void
test_latencies_at_once(void **state)
{
    (void)state;
    int64_t values[700];
    uint64_t x = 88172645463325252u;
    for (size_t i = 0; i < 700; i++)
        values[i] = i % 7 == 0    ? 1
                    : i % 11 == 0 ? 3600000000
                                  : 1 + (int64_t)(xorshift(&x) % 5000000);
    sw_accum *a;
    assert_int_equal(sw_accum_new(BASE, &a, NULL), SW_OK);
    sw_accum_batch *b = sw_accum_batch_new_strict(a);
    int64_t bad[3] = {5, 0, 7};
    sw_err err;
    assert_int_equal(sw_accum_batch_latencies(b, "api", "blue", T0 + 1000, bad, 3, &err),
                     SW_E_RANGE);
    assert_non_null(strstr(err.msg, "latency 0 us"));
    sw_accum_batch_free(b);
    sw_accum_free(a);
    check_latencies_at_once(values, 700);
}

/*
 * Value shapes a sort by bytes treats apart: bytes every value shares (one value, one value
 * repeated, values below 256, below 2^16, sharing their low bytes), descending and ascending
 * runs, values over the whole range.
 */
static void
test_latencies_at_once_shapes(void **state)
{
    (void)state;
    enum { N = 300 };
    int64_t values[N];
    uint64_t x = 2463534242u;
    for (int shape = 0; shape < 8; shape++) {
        size_t n = shape == 0 ? 1 : N;
        for (size_t i = 0; i < n; i++) {
            int64_t r = (int64_t)(xorshift(&x) % 3600000000u) + 1;
            int64_t by_shape[8] = {r,
                                   80000,
                                   1 + r % 255,
                                   1 + r % 65535,
                                   (r % 200 + 1) << 24 | 0x3456,
                                   (int64_t)(N - i) * 10007,
                                   (int64_t)i * 12000017 + 1,
                                   r};
            values[i] = by_shape[shape];
        }
        check_latencies_at_once(values, n);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_land_in_their_interval),
        cmocka_unit_test(test_late_increase_carried),
        cmocka_unit_test(test_batch_counts_its_late_values),
        cmocka_unit_test(test_whole_intervals_merge),
        cmocka_unit_test(test_too_far_ahead_refused),
        cmocka_unit_test(test_batch_whole_or_nothing),
        cmocka_unit_test(test_closed_intervals),
        cmocka_unit_test(test_counts_that_would_wrap_refused),
        cmocka_unit_test(test_journal_replays_commits),
        cmocka_unit_test(test_journal_torn_tail_and_skip),
        cmocka_unit_test(test_journal_compaction_keeps_untaken_records),
        cmocka_unit_test(test_concurrent_adds),
        cmocka_unit_test(test_many_series_each_its_own),
        cmocka_unit_test(test_latencies_at_once),
        cmocka_unit_test(test_latencies_at_once_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
