/*
 * Thread names and CPU priorities. Every long-lived thread of the daemon names itself (so
 * `top -H` and /proc/PID/task/TID/comm tell them apart) and a background thread lowers its own
 * priority, so the threads that answer the gate win the CPU whenever both are runnable.
 */
#ifndef SLAWATCH_THREAD_PRIO_H
#define SLAWATCH_THREAD_PRIO_H

/* The most a thread is lowered: nice 19 is the lowest priority of ordinary threads. */
#define SW_THREAD_NICE_MAX 19

/*
 * Name the calling thread (cut to 15 bytes, the kernel's limit) and, with nice > 0, make it a
 * background thread: batch-scheduled (on Linux: a waking background thread never preempts a
 * running one) at `nice` steps above the calling thread's niceness, at most 19. Lowering needs
 * no privilege; when the system refuses it (a seccomp filter) one warning is logged for the
 * process and the thread goes on at the priority it has.
 */
void sw_thread_prio_set(const char *name, int nice);

#endif
