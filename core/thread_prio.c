/*
 * Thread names and priorities (Linux: per-thread nice through the thread id, SCHED_BATCH,
 * SCHED_IDLE).
 */
#define _GNU_SOURCE /* pthread_setname_np, SCHED_BATCH, SCHED_IDLE */
#include "slawatch/thread_prio.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "slawatch/log.h"

#define NAME_MAX_LEN 15 /* the kernel keeps 16 bytes with the terminating NUL */

static atomic_bool warned, warned_slice;

/* sched_setattr(2)'s argument, its first version (<linux/sched/types.h> clashes with glibc's
 * sched_param on older systems, and glibc before 2.41 has no wrapper). */
typedef struct sched_attr_v0 {
    uint32_t size;
    uint32_t sched_policy;
    uint64_t sched_flags;
    int32_t sched_nice;
    uint32_t sched_priority;
    uint64_t sched_runtime; /* SCHED_OTHER: the slice asked for (Linux 6.12) */
    uint64_t sched_deadline;
    uint64_t sched_period;
} sched_attr_v0;

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

/* The class a lowered thread takes: batch (the kernel treats the thread as CPU-bound and
 * never lets its wakeup preempt a running thread) for a nice level, idle past nice 19. */
static int
lowered_policy(int nice)
{
#ifdef SCHED_IDLE
    if (nice >= SW_THREAD_IDLE)
        return SCHED_IDLE;
#endif
#ifdef SCHED_BATCH
    return SCHED_BATCH;
#else
    (void)nice;
    return SCHED_OTHER;
#endif
}

static int
lower(int nice)
{
    struct sched_param sp = {0};
    int e = pthread_setschedparam(pthread_self(), lowered_policy(nice), &sp);
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

void
sw_thread_prio_short_slice(void)
{
    sched_attr_v0 attr = {
        .size = sizeof attr,
        .sched_policy = SCHED_OTHER,
        .sched_nice = own_nice(),
        .sched_runtime = SW_THREAD_SHORT_SLICE_NS,
    };
    if (syscall(SYS_sched_setattr, thread_id(), &attr, 0u) == 0)
        return;
    int e = errno;
    if (atomic_exchange(&warned_slice, true))
        return;
    sw_log(SW_LOG_WARN,
           "cannot shorten the time slice of the gate's threads: they may wait behind background "
           "threads for a CPU (allow sched_setattr)",
           "err", strerror(e), NULL);
}
