/*
 * Thread names and priorities (Linux: per-thread nice through the thread id, SCHED_BATCH).
 */
#define _GNU_SOURCE /* pthread_setname_np, SCHED_BATCH */
#include "slawatch/thread_prio.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "slawatch/log.h"

#define NAME_MAX_LEN 15 /* the kernel keeps 16 bytes with the terminating NUL */

static atomic_bool warned;

static id_t
thread_id(void)
{
    return (id_t)syscall(SYS_gettid);
}

/* The calling thread's niceness (-20 .. 19). */
static int
own_nice(void)
{
    errno = 0;
    int n = getpriority(PRIO_PROCESS, thread_id());
    return errno == 0 ? n : 0;
}

static void
warn_once(int e)
{
    if (atomic_exchange(&warned, true))
        return;
    sw_log(SW_LOG_WARN,
           "cannot lower the CPU priority of background threads: they compete with the gate's "
           "threads (allow setpriority and sched_setscheduler)",
           "err", strerror(e), NULL);
}

/* Batch scheduling: the kernel treats the thread as CPU-bound and never lets its wakeup
 * preempt a running thread; not SCHED_IDLE, since a background thread holding a lock the
 * tick needs (the store's) must still get CPU on a busy machine. */
static int
lower(int nice)
{
    int e = 0;
#ifdef SCHED_BATCH
    struct sched_param sp = {0};
    e = pthread_setschedparam(pthread_self(), SCHED_BATCH, &sp);
#endif
    int target = own_nice() + nice;
    if (target > SW_THREAD_NICE_MAX)
        target = SW_THREAD_NICE_MAX;
    if (setpriority(PRIO_PROCESS, thread_id(), target) != 0 && e == 0)
        e = errno;
    return e;
}

void
sw_thread_prio_set(const char *name, int nice)
{
    if (name != NULL) {
        char cut[NAME_MAX_LEN + 1];
        snprintf(cut, sizeof cut, "%s", name);
        (void)pthread_setname_np(pthread_self(), cut);
    }
    if (nice <= 0)
        return;
    int e = lower(nice);
    if (e != 0)
        warn_once(e);
}
