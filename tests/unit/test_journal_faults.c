/*
 * The ingest journal and the accumulators' take when memory or the disk fails. Chosen calls
 * fail: the C library's realloc, write, ftruncate, fdatasync and rename are wrapped at link time
 * (-Wl,--wrap), and pass through unless a test arms them. What must hold is what a crash after
 * the failure replays, read back from the file by a new journal:
 * - a take that cannot detach a series (out of memory) keeps that series' intervals open, and
 *   the compaction after it keeps their records, so a kill -9 then loses nothing;
 * - a frame written part way whose cut-off fails leaves torn bytes, where an open stops: the
 *   appends after it are refused (never acknowledged and then dropped) until a cut or a
 *   compaction succeeds;
 * - a compaction's new file is synced before it is renamed over the journal.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "slawatch/accum.h"
#include "slawatch/journal.h"

#define BASE 10000
#define T0 INT64_C(1790812800000) /* 2026-10-01T00:00:00Z */

/* ------------------------------------------------------------------ the failing calls */

static int realloc_fail_in; /* the realloc that many calls from now fails; 0: none */
static int write_torn;      /* 1: the next write stops half way, and the one after fails */
static int ftruncate_fails; /* this many ftruncate calls fail (ftruncate64: glibc's name for
                             * it under the build's 64-bit file offsets) */
static char synced[PATH_MAX];
static int renames, renames_unsynced;

void *__real_realloc(void *p, size_t n);
ssize_t __real_write(int fd, const void *p, size_t n);
int __real_ftruncate64(int fd, off_t len);
int __real_fdatasync(int fd);
int __real_rename(const char *from, const char *to);
void *__wrap_realloc(void *p, size_t n);
ssize_t __wrap_write(int fd, const void *p, size_t n);
int __wrap_ftruncate64(int fd, off_t len);
int __wrap_fdatasync(int fd);
int __wrap_rename(const char *from, const char *to);

void *
__wrap_realloc(void *p, size_t n)
{
    if (realloc_fail_in > 0 && --realloc_fail_in == 0)
        return NULL;
    return __real_realloc(p, n);
}

ssize_t
__wrap_write(int fd, const void *p, size_t n)
{
    if (write_torn == 1 && n > 1) {
        write_torn = 2;
        return __real_write(fd, p, n / 2);
    }
    if (write_torn == 2) {
        write_torn = 0;
        errno = ENOSPC;
        return -1;
    }
    return __real_write(fd, p, n);
}

int
__wrap_ftruncate64(int fd, off_t len)
{
    if (ftruncate_fails > 0) {
        ftruncate_fails--;
        errno = EIO;
        return -1;
    }
    return __real_ftruncate64(fd, len);
}

/* The file a descriptor names, recorded as the last one synced. */
int
__wrap_fdatasync(int fd)
{
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, synced, sizeof synced - 1);
    synced[n > 0 ? n : 0] = '\0';
    return __real_fdatasync(fd);
}

int
__wrap_rename(const char *from, const char *to)
{
    char *from_abs = realpath(from, NULL);
    renames++;
    renames_unsynced += from_abs == NULL || strcmp(from_abs, synced) != 0;
    free(from_abs);
    synced[0] = '\0';
    return __real_rename(from, to);
}

static void
fresh_path(char *out, size_t cap, const char *what)
{
    snprintf(out, cap, "/tmp/sw-test-journal-faults-%s-%ld", what, (long)getpid());
    unlink(out);
}

/* ------------------------------------------------------------------ a take out of memory */

typedef struct taken {
    uint64_t requests[2][3]; /* [green, blue][interval from T0] */
    size_t n;
} taken;

static sw_status
collect(void *ctx, const char *service, const char *env, sw_sli_interval *iv, sw_err *err)
{
    (void)service;
    (void)err;
    taken *t = ctx;
    int64_t k = (iv->start_ms - T0) / BASE;
    assert_true(k >= 0 && k < 3);
    t->requests[strcmp(env, "blue") == 0][k] += iv->requests;
    t->n++;
    sw_sli_interval_fini(iv);
    return SW_OK;
}

/* Two series, three intervals each; the first two end by T0 + 2 BASE. */
static void
commit_three_intervals(sw_accum *a, uint64_t want[2][3])
{
    for (int k = 0; k < 3; k++)
        for (int blue = 0; blue < 2; blue++) {
            uint64_t r = 10 * (uint64_t)(k + 1) + (uint64_t)blue;
            assert_int_equal(sw_accum_add_counts(a, "api", blue ? "blue" : "green",
                                                 T0 + k * BASE + 100, r, 0, NULL),
                             SW_OK);
            want[blue][k] = r;
        }
}

static void
test_take_out_of_memory_keeps_the_series_open(void **state)
{
    (void)state;
    char path[128];
    fresh_path(path, sizeof path, "take");
    sw_accum *a;
    size_t n;
    uint64_t want[2][3];
    assert_int_equal(sw_accum_new(BASE, &a, NULL), SW_OK);
    assert_int_equal(sw_accum_journal_open(a, path, INT64_MIN, &n, NULL), SW_OK);
    commit_three_intervals(a, want);

    taken t = {0};
    sw_err err = {0};
    realloc_fail_in = 1; /* the first series' detach (green, made first) */
    sw_status st = sw_accum_take(a, T0 + 2 * BASE, collect, &t, &err);
    realloc_fail_in = 0;
    assert_int_equal(st, SW_E_NOMEM);
    assert_int_equal(t.n, 2); /* blue's two ended intervals */
    assert_int_equal(t.requests[1][0], want[1][0]);
    assert_int_equal(t.requests[1][1], want[1][1]);
    /* Not every series is taken to T0 + 2 BASE: a store may not record that mark. */
    assert_int_equal(sw_accum_taken_until(a), INT64_MIN);
    assert_int_equal(sw_accum_journal_compact(a, NULL), SW_OK);
    sw_accum_free(a); /* kill -9 */

    /* The new process replays from the mark the store could record: green is all there. */
    assert_int_equal(sw_accum_new(BASE, &a, NULL), SW_OK);
    assert_int_equal(sw_accum_journal_open(a, path, INT64_MIN, &n, NULL), SW_OK);
    memset(&t, 0, sizeof t);
    assert_int_equal(sw_accum_take(a, T0 + 2 * BASE, collect, &t, NULL), SW_OK);
    assert_int_equal(t.requests[0][0], want[0][0]);
    assert_int_equal(t.requests[0][1], want[0][1]);
    assert_int_equal(sw_accum_taken_until(a), T0 + 2 * BASE);
    assert_int_equal(sw_accum_take(a, INT64_MAX, collect, &t, NULL), SW_OK);
    assert_int_equal(t.requests[0][2], want[0][2]);
    assert_int_equal(t.requests[1][2], want[1][2]);
    sw_accum_free(a);
    unlink(path);
}

/* A series first seen after a take, with data for an interval before the take's mark (a late
 * source's first batch): its interval is open, so the compaction keeps its record and the mark a
 * store may record stays before it. */
static void
test_new_series_before_the_mark_kept(void **state)
{
    (void)state;
    char path[128];
    fresh_path(path, sizeof path, "late-series");
    sw_accum *a;
    size_t n;
    assert_int_equal(sw_accum_new(BASE, &a, NULL), SW_OK);
    assert_int_equal(sw_accum_journal_open(a, path, INT64_MIN, &n, NULL), SW_OK);
    assert_int_equal(sw_accum_add_counts(a, "api", "blue", T0 + 100, 11, 0, NULL), SW_OK);
    taken t = {0};
    assert_int_equal(sw_accum_take(a, T0 + 2 * BASE, collect, &t, NULL), SW_OK);
    assert_int_equal(t.requests[1][0], 11);
    assert_int_equal(sw_accum_taken_until(a), T0 + 2 * BASE);
    assert_int_equal(sw_accum_add_counts(a, "api", "green", T0 + BASE + 100, 7, 0, NULL), SW_OK);
    assert_int_equal(sw_accum_taken_until(a), T0 + BASE);
    assert_int_equal(sw_accum_journal_compact(a, NULL), SW_OK);
    sw_accum_free(a); /* kill -9 */

    assert_int_equal(sw_accum_new(BASE, &a, NULL), SW_OK);
    assert_int_equal(sw_accum_journal_open(a, path, T0 + BASE, &n, NULL), SW_OK);
    memset(&t, 0, sizeof t);
    assert_int_equal(sw_accum_take(a, INT64_MAX, collect, &t, NULL), SW_OK);
    assert_int_equal(t.n, 1);
    assert_int_equal(t.requests[0][1], 7);
    sw_accum_free(a);
    unlink(path);
}

/* ------------------------------------------------------------------ torn appends */

typedef struct replayed {
    char text[8][16];
    size_t n;
} replayed;

static sw_status
record_frame(void *ctx, const uint8_t *payload, size_t len, sw_err *err)
{
    (void)err;
    replayed *r = ctx;
    assert_true(r->n < 8 && len < 16);
    memcpy(r->text[r->n], payload, len);
    r->text[r->n++][len] = '\0';
    return SW_OK;
}

static sw_status
append(sw_journal *j, const char *text, int64_t tag)
{
    return sw_journal_append(j, text, strlen(text), tag, NULL);
}

/* What a new process replays of path, its frames' payloads in order. */
static replayed
replay(const char *path)
{
    replayed r = {0};
    size_t dropped;
    sw_journal *j;
    assert_int_equal(sw_journal_open(path, record_frame, &r, &dropped, &j, NULL), SW_OK);
    sw_journal_close(j);
    return r;
}

/* A new process replays exactly want[0..n) of path, in order; path removed after. */
static void
assert_replays(const char *path, const char *const *want, size_t n)
{
    replayed r = replay(path);
    assert_int_equal(r.n, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(r.text[i], want[i]);
    unlink(path);
}

static void
test_torn_append_refuses_until_cut(void **state)
{
    (void)state;
    char path[128];
    fresh_path(path, sizeof path, "torn");
    size_t dropped;
    sw_journal *j;
    assert_int_equal(sw_journal_open(path, NULL, NULL, &dropped, &j, NULL), SW_OK);
    assert_int_equal(append(j, "one", 1), SW_OK);
    write_torn = 1;
    ftruncate_fails = 2; /* the cut after the failed write, and the retry at the next append */
    assert_int_equal(append(j, "two", 2), SW_E_IO);
    assert_int_equal(append(j, "three", 3), SW_E_IO); /* after torn bytes: refused */
    assert_int_equal(append(j, "four", 4), SW_OK);      /* the cut works again */
    assert_int_equal(sw_journal_sync(j, NULL), SW_OK);
    sw_journal_close(j); /* kill -9 */
    assert_replays(path, (const char *const[]){"one", "four"}, 2);
}

static void
test_torn_journal_mended_by_a_compaction(void **state)
{
    (void)state;
    char path[128];
    fresh_path(path, sizeof path, "mend");
    size_t dropped;
    sw_journal *j;
    assert_int_equal(sw_journal_open(path, NULL, NULL, &dropped, &j, NULL), SW_OK);
    assert_int_equal(append(j, "old", 1), SW_OK);
    assert_int_equal(append(j, "open", 5), SW_OK);
    write_torn = 1;
    ftruncate_fails = 1000;
    assert_int_equal(append(j, "lost", 5), SW_E_IO);
    assert_int_equal(append(j, "refused", 5), SW_E_IO);
    bool kept;
    assert_int_equal(sw_journal_keep_from(j, 5, &kept, NULL), SW_OK);
    assert_true(kept);
    ftruncate_fails = 0;
    assert_int_equal(append(j, "after", 6), SW_OK);
    assert_int_equal(sw_journal_sync(j, NULL), SW_OK);
    sw_journal_close(j); /* kill -9 */
    assert_replays(path, (const char *const[]){"open", "after"}, 2);
}

/* ------------------------------------------------------------------ sync before rename */

static void
test_new_file_synced_before_its_rename(void **state)
{
    (void)state;
    char path[128];
    fresh_path(path, sizeof path, "rename");
    size_t dropped;
    sw_journal *j;
    assert_int_equal(sw_journal_open(path, NULL, NULL, &dropped, &j, NULL), SW_OK);
    assert_int_equal(append(j, "a", 1), SW_OK);
    assert_int_equal(append(j, "b", 2), SW_OK);
    renames = renames_unsynced = 0;
    bool kept;
    assert_int_equal(sw_journal_keep_from(j, 2, &kept, NULL), SW_OK);
    assert_true(kept);
    sw_buf frames;
    sw_buf_init(&frames, 1024);
    assert_int_equal(sw_journal_frame(&frames, "c", 1, NULL), SW_OK);
    assert_int_equal(sw_journal_replace(j, frames.data, frames.len, NULL, NULL), SW_OK);
    sw_buf_fini(&frames);
    assert_int_equal(renames, 2);
    assert_int_equal(renames_unsynced, 0);
    sw_journal_close(j);
    assert_replays(path, (const char *const[]){"c"}, 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_take_out_of_memory_keeps_the_series_open),
        cmocka_unit_test(test_new_series_before_the_mark_kept),
        cmocka_unit_test(test_torn_append_refuses_until_cut),
        cmocka_unit_test(test_torn_journal_mended_by_a_compaction),
        cmocka_unit_test(test_new_file_synced_before_its_rename),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
