/*
 * sw_thread_prio_set on a thread of the test's own, read back from the kernel
 * (/proc/self/task/TID/stat, proc(5): field 2 the name, 19 the nice value, 41 the policy), and
 * the workers of a sw_workq, which take their pool's name and priority.
 */
#define _GNU_SOURCE /* SCHED_BATCH */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "slawatch/thread_prio.h"
#include "slawatch/workq.h"

typedef struct seen {
    char name[32];
    int nice, policy;
} seen;

static seen
read_task(long tid)
{
    char path[64], stat[1024];
    snprintf(path, sizeof path, "/proc/self/task/%ld/stat", tid);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(stat, 1, sizeof stat - 1, f);
    fclose(f);
    stat[n] = '\0';
    seen s = {0};
    char *open = strchr(stat, '('), *close = strrchr(stat, ')');
    assert_true(open != NULL && close != NULL && close - open - 1 < (long)sizeof s.name);
    memcpy(s.name, open + 1, (size_t)(close - open - 1));
    /* After ") " come fields 3 (the state) onwards: the nice value is field 19, the policy 41. */
    char *save = NULL;
    int field = 3;
    for (char *tok = strtok_r(close + 2, " ", &save); tok != NULL && field <= 41;
         tok = strtok_r(NULL, " ", &save), field++) {
        if (field == 19)
            s.nice = atoi(tok);
        if (field == 41)
            s.policy = atoi(tok);
    }
    assert_int_equal(field, 42);
    return s;
}

static long
own_tid(void)
{
    return (long)syscall(SYS_gettid);
}

typedef struct job {
    const char *name;
    int nice;
    seen before, after;
} job;

static void *
set_and_read(void *arg)
{
    job *j = arg;
    j->before = read_task(own_tid());
    sw_thread_prio_set(j->name, j->nice);
    j->after = read_task(own_tid());
    return NULL;
}

static job
run(const char *name, int nice)
{
    job j = {.name = name, .nice = nice};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, set_and_read, &j), 0);
    pthread_join(t, NULL);
    return j;
}

static int
lowered(int base, int steps)
{
    return base + steps > 19 ? 19 : base + steps;
}

static void
test_background_lowered(void **state)
{
    (void)state;
    job j = run("sw-test", 5);
    assert_string_equal(j.after.name, "sw-test");
    assert_int_equal(j.after.nice, lowered(j.before.nice, 5));
    assert_int_equal(j.after.policy, SCHED_BATCH);
    /* Per thread: the caller (this thread) is untouched. */
    seen me = read_task(own_tid());
    assert_int_equal(me.nice, j.before.nice);
    assert_int_equal(me.policy, SCHED_OTHER);
}

static void
test_zero_only_names(void **state)
{
    (void)state;
    job j = run("sw-test-zero", 0);
    assert_string_equal(j.after.name, "sw-test-zero");
    assert_int_equal(j.after.nice, j.before.nice);
    assert_int_equal(j.after.policy, SCHED_OTHER);
}

static void
test_long_name_cut_nice_capped(void **state)
{
    (void)state;
    job j = run("sw-a-name-longer-than-fifteen", 40);
    assert_string_equal(j.after.name, "sw-a-name-longe"); /* 15 bytes */
    assert_int_equal(j.after.nice, 19);
    assert_int_equal(j.after.policy, SCHED_BATCH);
}

typedef struct pool_seen {
    pthread_mutex_t lock;
    seen workers[2];
    unsigned n;
} pool_seen;

static void
record_worker(void *arg)
{
    pool_seen *ps = arg;
    seen s = read_task(own_tid());
    pthread_mutex_lock(&ps->lock);
    ps->workers[ps->n++] = s;
    pthread_mutex_unlock(&ps->lock);
}

static void
test_workq_workers(void **state)
{
    (void)state;
    int base = read_task(own_tid()).nice;
    pool_seen ps = {.lock = PTHREAD_MUTEX_INITIALIZER};
    sw_workq *q = NULL;
    assert_int_equal(sw_workq_new(1, 1, "sw-pool", 3, &q, NULL), SW_OK);
    for (int i = 0; i < 2; i++) {
        assert_true(sw_workq_reserve(q));
        sw_workq_submit(q, record_worker, &ps);
    }
    sw_workq_free(q); /* runs both jobs first */
    assert_int_equal(ps.n, 2);
    for (unsigned i = 0; i < ps.n; i++) {
        assert_string_equal(ps.workers[i].name, "sw-pool-1");
        assert_int_equal(ps.workers[i].nice, lowered(base, 3));
        assert_int_equal(ps.workers[i].policy, SCHED_BATCH);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_background_lowered),
        cmocka_unit_test(test_zero_only_names),
        cmocka_unit_test(test_long_name_cut_nice_capped),
        cmocka_unit_test(test_workq_workers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
