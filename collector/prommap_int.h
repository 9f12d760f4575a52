/*
 * The Prometheus sample map's private types, shared by prommap.c (rules, matching, batches) and
 * prommap_apply.c (series state, classic histograms, commit).
 */
#ifndef SLAWATCH_PROMMAP_INT_H
#define SLAWATCH_PROMMAP_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "slawatch/buf.h"
#include "slawatch/prommap.h"
#include "slawatch/promhist.h"
#include "slawatch/selector.h"
#include "slawatch/u64map.h"

typedef enum role { ROLE_REQUESTS, ROLE_ERRORS, ROLE_LATENCY, ROLE_HEALTH } role;

/* How a sample name relates to a target's selector. */
typedef enum form { FORM_PLAIN, FORM_BUCKET, FORM_NATIVE } form;

typedef struct target {
    char *service;
    char **envs; /* NULL-free list of the service's environments; none: the env is NULL */
    size_t n_envs;
    role role;
    sw_selector *sel;
    double unit_us; /* latency: microseconds per unit of the histogram */
    char *by;       /* the service's by label (prommap_by.c); NULL: one series */
    size_t by_limit;
    int64_t by_idle_ms;
} target;

typedef struct candidate {
    size_t target;
    form form;
} candidate;

/* The targets a metric name concerns. */
typedef struct name_entry {
    char *name;
    candidate *c;
    size_t n;
} name_entry;

typedef struct ruleset {
    int refs;
    int64_t base_ms;
    target *targets;
    size_t n_targets;
    name_entry *names;
    size_t n_names;
    sw_u64map by_name; /* hash of a name -> index into names (collisions: compared) */
    candidate *nameless;
    size_t n_nameless;
} ruleset;

typedef struct hit {
    uint32_t target;
    int32_t env;        /* index into the target's envs, -1 for none */
    size_t value_at;    /* a target with by: its label's value in the batch's values */
    size_t value_len;
} hit;

typedef struct update {
    uint64_t key;        /* source and series, all labels */
    uint64_t hist_key;   /* source and series without `le`: one classic histogram */
    uint64_t family_key; /* source, family name and labels without `le`: its `_created` */
    int64_t at_ms;
    double value, le;
    sw_native_dense *native; /* owned */
    bool gauge;              /* a gauge histogram: its counts are this interval's own */
    size_t first_hit, n_hits;
} update;

typedef struct series_state {
    uint64_t key, source;
    int64_t last_ms;
    double last;
    double created; /* its `_created` with the last sample; NaN: none */
    sw_native_dense *native;
} series_state;

/* A `_created` sample of a batch, by the family key of the series it dates. */
typedef struct created {
    uint64_t family_key;
    double at;
} created;

/* What the previous successful scrape of a target said (promstart.h). */
typedef struct scrape_src {
    uint64_t source;
    int64_t last_ms;
    double process_start; /* NaN: none */
} scrape_src;

typedef struct bucket_delta {
    double le, delta;
} bucket_delta;

/* Increases of one classic histogram's buckets within one interval, joined until flush. */
typedef struct pending {
    uint64_t key;
    const target *t; /* of the ruleset in force when it was made; flushed before a change */
    char *value_key; /* a label value's series key (prommap_by.c), owned; NULL: t->service */
    int32_t env;
    int64_t start_ms;
    bucket_delta *b;
    size_t n, cap;
} pending;

/* A label value tracked for a service with by, and each such service's counts. */
typedef struct by_value {
    char *key;         /* its series key (sw_rules_by_key) */
    uint64_t slot_key; /* its key in value_at */
    int64_t last_ms;   /* its newest sample */
    size_t owner;      /* index into owners */
} by_value;

typedef struct by_owner {
    char *service, *label;
    size_t tracked;
    uint64_t refused, aged;
    int64_t idle_ms;
} by_owner;

struct sw_prommap {
    pthread_mutex_t lock;
    sw_accum *accum;
    ruleset *rs;
    series_state *states;
    size_t n_states, cap_states;
    sw_u64map state_at;
    pending *pend;
    size_t n_pend, cap_pend;
    sw_u64map pend_at;
    scrape_src *srcs; /* one per scrape target; targets are few, so a list */
    size_t n_srcs, cap_srcs;
    int64_t newest_ms, swept_ms;
    sw_prommap_stats stats;
    sw_accum_batch *out; /* what the commit or flush under way adds, committed whole at its end */
    by_value *values;
    size_t n_values, cap_values;
    sw_u64map value_at;
    by_owner *owners;
    size_t n_owners;
};

struct sw_prommap_batch {
    sw_prommap *m;
    ruleset *rs;
    uint64_t source;
    sw_prom_label *labels; /* the batch's own, owned with their strings */
    size_t n_labels;
    int64_t at_ms;
    bool scrape;          /* a target's whole exposition */
    double process_start; /* its `process_start_time_seconds`; NaN: none */
    created *cr;
    size_t n_cr, cap_cr;
    update *u;
    size_t n_u, cap_u;
    hit *hits;
    size_t n_hits, cap_hits;
    uint64_t samples, invalid, no_env;
    sw_buf scratch;
    char *values; /* the by labels' values of the hits, end to end */
    size_t n_values, cap_values;
    const sw_prom_sample *cur; /* the sample being matched, for label lookups */
};

void sw_prommap_state_fini(series_state *s);

/* prommap_by.c, with the lock held. The series key of value (len bytes) of t's label sampled at
 * at_ms, admitted if new and under by_limit; NULL when refused (counted). */
const char *sw_prommap_by_admit(sw_prommap *m, const target *t, const char *value, size_t len,
                                int64_t at_ms);
/* Forget the values without samples for their service's by_idle before now_ms (counted). */
void sw_prommap_by_sweep(sw_prommap *m, int64_t now_ms);
/* After new rules rs: the services whose by is gone lose their values and counts, as a fresh
 * start would know none of them (slawatch_label_values no longer lists them). */
void sw_prommap_by_retain(sw_prommap *m, const ruleset *rs);
void sw_prommap_by_fini(sw_prommap *m);

/* Hand the accumulators the pending histograms of intervals ending by until_ms; lock held. */
sw_status sw_prommap_flush_locked(sw_prommap *m, int64_t until_ms, sw_err *err);

/* Free a batch and drop its reference to the ruleset (takes the lock). */
void sw_prommap_batch_free(sw_prommap_batch *b);

#endif
