/*
 * The one entry point every fuzz target defines, declared here so -Wmissing-prototypes holds
 * for the targets and replay.c can call it. libFuzzer supplies main() when built with
 * -fsanitize=fuzzer; replay.c supplies it otherwise (see fuzz/README.md).
 */
#ifndef SLAWATCH_FUZZ_H
#define SLAWATCH_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slawatch/err.h"

/* Run one input. Returns 0; a bug aborts (or trips a sanitizer) instead of returning. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * A property that holds for every input, whatever its bytes: failing means a bug in the code
 * under test, so abort (libFuzzer then saves the input; replay fails the test). Unlike
 * assert() it stays on with NDEBUG.
 */
#define FUZZ_CHECK(cond) ((cond) ? (void)0 : fuzz_check_failed(#cond, __FILE__, __LINE__))

static inline _Noreturn void
fuzz_check_failed(const char *cond, const char *file, int line)
{
    fprintf(stderr, "%s:%d: fuzz check failed: %s\n", file, line, cond);
    abort();
}

/*
 * The sw_err contract (err.h): a failing call returns its status and has written the same code
 * and a message into err. Call only with st != SW_OK and err zero-initialised before the call.
 */
static inline void
fuzz_check_err(sw_status st, const sw_err *err)
{
    FUZZ_CHECK(st != SW_OK);
    FUZZ_CHECK(err->code == st);
    FUZZ_CHECK(memchr(err->msg, '\0', sizeof err->msg) != NULL);
    FUZZ_CHECK(err->msg[0] != '\0');
}

#endif
