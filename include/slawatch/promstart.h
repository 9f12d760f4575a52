/*
 * When a Prometheus counter series started, and what that means for its next sample: the
 * OpenMetrics `_created` time of the series and the `process_start_time_seconds` of the target
 * that exposes it say when counting began, so a series new to slawatch can be counted from zero
 * (its whole value happened while slawatch watched) and a restart whose new values are already
 * above the old ones is still seen as a reset. The rule (collector/PROMETHEUS.md):
 *
 * - a series already known resets when its `_created` or its target's process start is later
 *   than its previous sample (or, as always, when its value decreased);
 * - a series new on a scrape target counts from zero when its `_created` is known and later than
 *   the target's previous successful scrape; otherwise when the target's process started after
 *   that scrape; otherwise when there was a previous successful scrape at all (the series was
 *   absent from it). On a target's first scrape "the previous scrape" is the start of the base
 *   interval that scrape falls in, so a series older than that only sets its baseline;
 * - a series new in any other batch (remote write, queries) only sets its baseline;
 * - a start time later than the sample, or one that moved back or within what was already seen,
 *   is ignored and counted.
 * Stateless.
 */
#ifndef SLAWATCH_PROMSTART_H
#define SLAWATCH_PROMSTART_H

#include <stdbool.h>
#include <stdint.h>

/* How a sample's increase is taken. */
typedef enum sw_promstart_use {
    SW_PROMSTART_BASELINE,  /* nothing counted: the value only sets the baseline */
    SW_PROMSTART_CONTINUE,  /* value - previous (a decrease: a reset, the whole value) */
    SW_PROMSTART_FROM_ZERO, /* the whole value: a new series or a reset */
} sw_promstart_use;

/* Why a new series counted from zero. */
typedef enum sw_promstart_why {
    SW_PROMSTART_CREATED,       /* its `_created` */
    SW_PROMSTART_PROCESS_START, /* its target's `process_start_time_seconds` */
    SW_PROMSTART_ABSENT,        /* absent from the target's previous successful scrape */
    SW_PROMSTART_N_WHY
} sw_promstart_why;

/* Why a start time was ignored. */
typedef enum sw_promstart_bad {
    SW_PROMSTART_NONE,
    SW_PROMSTART_FUTURE, /* later than the sample */
    SW_PROMSTART_MOVED,  /* changed, but not to after the previous sample */
    SW_PROMSTART_N_BAD
} sw_promstart_bad;

typedef struct sw_promstart_in {
    int64_t at_ms;         /* the sample's time */
    int64_t base_ms;       /* the base interval */
    bool known;            /* the series has a previous sample */
    int64_t last_ms;       /* its time (known) */
    double created;        /* the series' `_created` in this batch, seconds; NaN: none */
    double created_before; /* the one seen with its previous sample; NaN: none */
    double process_start;  /* the target's usable process start (sw_promstart_process); NaN */
    bool scrape;           /* the batch is a scrape target's whole exposition */
    int64_t since_ms;      /* the target's previous successful scrape; INT64_MIN: none */
} sw_promstart_in;

typedef struct sw_promstart_out {
    sw_promstart_use use;
    sw_promstart_why why;         /* FROM_ZERO of a new series */
    bool reset;                   /* FROM_ZERO of a known series */
    bool reset_by_created;        /* ... by its `_created` (else by the process start) */
    sw_promstart_bad created_bad; /* the series' `_created` was ignored */
} sw_promstart_out;

void sw_promstart_judge(const sw_promstart_in *in, sw_promstart_out *out);

/*
 * The target's process start (seconds; NaN: none) as far as it can be used for a scrape at
 * at_ms, given the one of the previous scrape (NaN: none) at since_ms (INT64_MIN: none): NaN,
 * with the reason in *bad, when it is later than the scrape or changed to a time not after the
 * previous scrape.
 */
double sw_promstart_process(double start, double before, int64_t at_ms, int64_t since_ms,
                            sw_promstart_bad *bad);

#endif
