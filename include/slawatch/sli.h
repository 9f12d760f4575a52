/*
 * The SLI interval, the one data type every source produces and the evaluator, store and
 * exporters consume: per service and environment and per base interval, request and error
 * counts, a latency histogram and the ordered health-probe results, plus whether data arrived.
 * Windows are sums of intervals. An interval owns its histogram; not thread-safe.
 */
#ifndef SLAWATCH_SLI_H
#define SLAWATCH_SLI_H

#include <stdbool.h>
#include <stdint.h>

#include "slawatch/hdr.h"

/*
 * Health-probe results in time order, kept as run lengths so that "N consecutive failures"
 * stays exact when intervals are joined: a run that ends one interval and starts the next is
 * one run.
 */
typedef struct sw_health {
    uint32_t probes;
    uint32_t failures;
    uint32_t leading_failures;  /* failures before the first success (all of them if none) */
    uint32_t trailing_failures; /* failures after the last success (all of them if none) */
    uint32_t longest_failures;  /* longest run of failures */
} sw_health;

/* Append one probe result (true = healthy). */
void sw_health_record(sw_health *h, bool ok);

/* acc = acc followed by next (time order matters). */
void sw_health_append(sw_health *acc, const sw_health *next);

typedef struct sw_sli_interval {
    int64_t start_ms;   /* epoch milliseconds, a multiple of the base interval */
    int64_t length_ms;
    uint64_t requests;
    uint64_t errors;
    sw_health health;
    sw_hdr *latency;    /* owned; NULL when no latency was reported */
    bool has_data;      /* false: unknown, never counted as good */
} sw_sli_interval;

/* Free the histogram and zero the interval. */
void sw_sli_interval_fini(sw_sli_interval *iv);

#endif
