/*
 * Thread names and CPU priorities. Every long-lived thread of the daemon names itself (so
 * `top -H` and /proc/PID/task/TID/comm tell them apart) and a background thread lowers its own
 * priority, so the threads that answer the gate win the CPU whenever both are runnable.
 */
#ifndef SLAWATCH_THREAD_PRIO_H
#define SLAWATCH_THREAD_PRIO_H

/* The most a thread is lowered: nice 19 is the lowest priority of ordinary threads. */
#define SW_THREAD_NICE_MAX 19

/* One step past nice 19: the idle class (Linux SCHED_IDLE). An idle thread gets a CPU only
 * when no ordinary thread of its group wants it, and an ordinary thread that wakes (a gate
 * request read) takes the CPU from it at once, where a nice-19 thread keeps its slice; a CPU
 * running only idle threads counts as free when the kernel places a waking thread. */
#define SW_THREAD_IDLE (SW_THREAD_NICE_MAX + 1)

/*
 * Name the calling thread (cut to 15 bytes, the kernel's limit) and, with nice > 0, make it a
 * background thread: batch-scheduled (on Linux: a waking background thread never preempts a
 * running one) at `nice` steps above the calling thread's niceness, at most 19; with
 * SW_THREAD_IDLE, idle-scheduled (and nice 19 where the idle class is missing). Lowering needs
 * no privilege; when the system refuses it (a seccomp filter) one warning is logged for the
 * process and the thread goes on at the priority it has.
 */
void sw_thread_prio_set(const char *name, int nice);

/* The time slice a latency-critical thread asks for (the kernel's least, 0.1 ms). */
#define SW_THREAD_SHORT_SLICE_NS 100000u

/*
 * The calling thread, which answers requests someone waits for (the gate's), asks the kernel for
 * a short time slice at its priority (Linux 6.12 and later, EEVDF's custom slice: no privilege,
 * no more CPU). Its deadline on waking is then earlier than those of the threads that have run
 * longer slices (the pushes' parsing, renders, the tick), so it is picked as soon as it wakes and
 * may take the CPU from a running thread, instead of waiting for that thread's slice to end.
 * Older kernels accept and ignore it. A refusal (a seccomp filter) is logged once.
 */
void sw_thread_prio_short_slice(void);

#endif
