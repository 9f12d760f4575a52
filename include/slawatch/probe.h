/*
 * HTTP health probes: per target a URL, an interval, a timeout and the status that means
 * healthy. The daemon owns one prober and one thread drives it: sw_probe_run_due(now) performs
 * every probe that is due, concurrently, and hands each result to a sink, which records it in
 * the health SLI (sw_health_record). First runs are spread over each interval (jitter) so
 * targets are not all probed at once after a start.
 */
#ifndef SLAWATCH_PROBE_H
#define SLAWATCH_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slawatch/err.h"
#include "slawatch/rules.h"

/* Strings are borrowed for the prober's life (rules are immutable; a reload makes a new one). */
typedef struct sw_probe_target {
    size_t service;           /* the caller's index, e.g. into sw_rules.services */
    const char *service_name;
    const char *env;          /* NULL when the series has no environment */
    const char *url;
    int64_t every_ms;         /* > 0 */
    int64_t timeout_ms;       /* > 0; a probe slower than this fails */
    int expect_status;        /* the only healthy status, e.g. 200 */
} sw_probe_target;

typedef struct sw_probe_result {
    size_t service;
    const char *service_name;
    const char *env;
    bool ok;                  /* status == expect_status, within the timeout */
    int64_t at_ms;            /* when the probe started (the now_ms of the run) */
    int64_t latency_us;       /* to the last byte; 0 when no response arrived */
    long status;              /* HTTP status; 0 when no response arrived */
    const char *reason;       /* "HTTP 200", "HTTP 500, expected 200", or the failure; valid
                                 during the sink call only */
} sw_probe_result;

typedef void (*sw_probe_sink)(void *ctx, const sw_probe_result *r);

typedef struct sw_probe sw_probe;

/*
 * A prober for n targets (copied; their strings borrowed). Each target's first run falls at a
 * pseudo-random point of [now_ms, now_ms + every_ms) drawn from seed. SW_E_INVAL for a target
 * without URL or with a non-positive interval or timeout; SW_E_NOMEM.
 */
sw_status sw_probe_new(const sw_probe_target *targets, size_t n, int64_t now_ms, uint64_t seed,
                       sw_probe **ret_probe, sw_err *err);

/* One target per service whose health source is a probe (env NULL); rules must outlive it. */
sw_status sw_probe_new_from_rules(const sw_rules *rules, int64_t now_ms, uint64_t seed,
                                  sw_probe **ret_probe, sw_err *err);

/* sw_probe_free(NULL) does nothing. */
void sw_probe_free(sw_probe *p);

/*
 * Probe every target due at now_ms, concurrently, blocking until all finished or timed out (at
 * most the largest timeout), then call sink once per result in target order. Each probed target
 * is next due one interval later (missed runs are skipped, not caught up). Probe failures are
 * results, not errors; SW_E_NOMEM only.
 */
sw_status sw_probe_run_due(sw_probe *p, int64_t now_ms, sw_probe_sink sink, void *ctx,
                           sw_err *err);

/* The earliest time a target is due, so the driving thread knows how long to sleep. */
int64_t sw_probe_next_due_ms(const sw_probe *p);

size_t sw_probe_count(const sw_probe *p);

#endif
