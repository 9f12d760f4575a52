/*
 * SLI intervals: health run-length composition and interval cleanup. Stateless helpers over
 * caller-owned values.
 */
#include "slawatch/sli.h"

#include <string.h>

static uint32_t
max_u32(uint32_t a, uint32_t b)
{
    return a > b ? a : b;
}

void
sw_health_record(sw_health *h, bool ok)
{
    sw_health one = {.probes = 1};
    if (!ok)
        one = (sw_health){1, 1, 1, 1, 1};
    sw_health_append(h, &one);
}

void
sw_health_append(sw_health *acc, const sw_health *next)
{
    if (next->probes == 0)
        return;
    if (acc->probes == 0) {
        *acc = *next;
        return;
    }
    bool acc_all_failed = acc->failures == acc->probes;
    bool next_all_failed = next->failures == next->probes;
    /* The run spanning the boundary: acc's tail joined to next's head. */
    uint32_t joined = acc->trailing_failures + next->leading_failures;
    acc->longest_failures = max_u32(max_u32(acc->longest_failures, next->longest_failures), joined);
    if (acc_all_failed)
        acc->leading_failures = joined;
    acc->trailing_failures = next_all_failed ? joined : next->trailing_failures;
    acc->probes += next->probes;
    acc->failures += next->failures;
}

void
sw_sli_interval_fini(sw_sli_interval *iv)
{
    sw_hdr_free(iv->latency);
    memset(iv, 0, sizeof *iv);
}
