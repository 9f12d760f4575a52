/*
 * From Prometheus samples to SLI intervals, through the rules: each service's `prometheus`
 * selectors pick series (matchers = != =~ !~, regexes anchored as in PromQL) and the matching
 * series are summed. Counters become per-interval increases with resets handled the Prometheus
 * way (a lower value starts over from zero); classic histograms (`_bucket` series) and native
 * histograms become latency histograms; gauges become health results (non-zero: ok). The
 * `env` label of a series picks the environment of a service that has environments.
 *
 * Samples arrive in batches, one per scrape, remote-write request or query page: a batch is
 * applied whole at commit or not at all. Counter and bucket increases for intervals the daemon
 * already took are counted in the oldest open interval (sw_accum_carried); health samples for
 * them are late: the accumulators count them (sw_accum_late) and drop them. Counter state is
 * kept per source (a target, a remote-write sender) and series; the first sample of a series
 * counts from zero or only sets its baseline, and `_created` and `process_start_time_seconds`
 * show resets a decrease does not, as promstart.h says.
 * Thread-safe: any number of batches may be open at once from any threads; commits serialize.
 */
#ifndef SLAWATCH_PROMMAP_H
#define SLAWATCH_PROMMAP_H

#include <stddef.h>
#include <stdint.h>

#include "slawatch/accum.h"
#include "slawatch/err.h"
#include "slawatch/promsample.h"
#include "slawatch/promstart.h"
#include "slawatch/rules.h"

typedef struct sw_prommap sw_prommap;
typedef struct sw_prommap_batch sw_prommap_batch;

/* What showed a counter reset. */
typedef enum sw_prommap_reset {
    SW_PROMMAP_RESET_DECREASE,      /* the value went down */
    SW_PROMMAP_RESET_CREATED,       /* the series' `_created` moved past its previous sample */
    SW_PROMMAP_RESET_PROCESS_START, /* the target's process started after it */
    SW_PROMMAP_N_RESETS
} sw_prommap_reset;

/* What became of the samples committed so far (totals since the map was made). */
typedef struct sw_prommap_stats {
    uint64_t samples;      /* every sample and native histogram seen in committed batches */
    uint64_t matched;      /* those a selector took */
    uint64_t out_of_order; /* older than or as old as the series' last sample: dropped */
    uint64_t invalid;      /* NaN, infinite or negative counters; histograms without `le` */
    uint64_t no_env;       /* matched a service with environments but had no listed `env` */
    uint64_t late;         /* matched, but health or a gauge histogram for a taken interval */
    uint64_t evicted;      /* series forgotten after an hour of silence, or refused at the cap */
    uint64_t started[SW_PROMSTART_N_WHY];      /* new series counted from zero, by why */
    uint64_t resets[SW_PROMMAP_N_RESETS];      /* counter resets, by what showed them */
    uint64_t start_ignored[SW_PROMSTART_N_BAD]; /* start times ignored, by why (NONE unused) */
} sw_prommap_stats;

/*
 * Series whose counter state is kept at most. At the cap, series silent for five minutes (ended,
 * in Prometheus' terms) are forgotten; if that frees nothing, new series are refused (counted).
 */
#define SW_PROMMAP_MAX_SERIES 1000000u

/* A map for rules (which must outlive it or be replaced first) feeding a. */
sw_status sw_prommap_new(const sw_rules *rules, sw_accum *a, sw_prommap **ret, sw_err *err);

/* Batches must be committed or aborted first. sw_prommap_free(NULL) does nothing. */
void sw_prommap_free(sw_prommap *m);

/* New rules (a reload); counter state of series that still match is kept. */
sw_status sw_prommap_set_rules(sw_prommap *m, const sw_rules *rules, sw_err *err);

/*
 * Open a batch from source (copied): labels (copied) are added to every sample's own, as a
 * scrape target's labels are; at_ms is the time of samples that carry no timestamp.
 */
sw_status sw_prommap_begin(sw_prommap *m, const char *source, const sw_prom_label *labels,
                           size_t n_labels, int64_t at_ms, sw_prommap_batch **ret, sw_err *err);

/*
 * The batch is a scrape target's whole exposition (the source is the target): a series new to it
 * counts from zero as promstart.h says, and its `process_start_time_seconds` marks restarts.
 */
void sw_prommap_mark_scrape(sw_prommap_batch *b);

/* The sink to hand a reader; valid until the batch is committed or aborted. */
sw_prom_sink sw_prommap_sink(sw_prommap_batch *b);

/* Apply the batch and free it (also on error). */
sw_status sw_prommap_commit(sw_prommap_batch *b, sw_err *err);

/* Drop the batch: nothing of it is applied. sw_prommap_abort(NULL) does nothing. */
void sw_prommap_abort(sw_prommap_batch *b);

/* Forget the counter state of source (a target that went away). */
void sw_prommap_forget(sw_prommap *m, const char *source);

/*
 * Hand the accumulators what is pending for intervals that end at or before until_ms (classic
 * histogram buckets of one series can arrive in separate remote-write requests, so their
 * increases are joined per interval before they are spread into a histogram). The daemon calls
 * this just before it takes those intervals.
 */
sw_status sw_prommap_flush(sw_prommap *m, int64_t until_ms, sw_err *err);

void sw_prommap_stats_get(sw_prommap *m, sw_prommap_stats *st);

/* The label values of a service with by (rules/README.md, "One SLO per label value"): tracked
 * now, refused (beyond by_limit, without the label or longer than 1 KiB) and forgotten after
 * by_idle without samples, totals since the map was made. */
typedef struct sw_prommap_label_count {
    const char *service, *label;
    size_t tracked;
    uint64_t refused, aged;
} sw_prommap_label_count;

typedef void (*sw_prommap_label_visit)(void *ctx, const sw_prommap_label_count *c);

/* Visit each service with by that has seen a sample, under the map's lock. */
void sw_prommap_label_values(sw_prommap *m, sw_prommap_label_visit visit, void *ctx);

#endif
