/*
 * The heap's bytes in use, for the benchmarks that count what a structure holds: glibc's
 * mallinfo2, the arenas' chunks and the blocks mmap'd apart.
 */
#ifndef SW_BENCH_HEAP_H
#define SW_BENCH_HEAP_H

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static inline size_t
bench_heap_in_use(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

/* glibc's per-thread caches count the chunks they hold as in use: the program runs itself again
 * without them, so that the bytes are the structure's alone. Call first in main. */
static inline void
bench_without_thread_caches(const char *name, char **argv)
{
    const char *tunables = getenv("GLIBC_TUNABLES");
    if (tunables != NULL && strstr(tunables, "glibc.malloc.tcache_count=0") != NULL)
        return;
    setenv("GLIBC_TUNABLES", "glibc.malloc.tcache_count=0", 1);
    execv("/proc/self/exe", argv);
    fprintf(stderr, "%s: cannot run again without thread caches\n", name);
    exit(1);
}

#endif
