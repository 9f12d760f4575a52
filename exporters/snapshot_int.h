/*
 * What snapshot.c (building, lifetime, bodies) and snapshot_gate.c (gate answers) share: the
 * source's and a snapshot's layout and the guards.
 */
#ifndef SLAWATCH_SNAPSHOT_INT_H
#define SLAWATCH_SNAPSHOT_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "slawatch/snapshot.h"
#include "slawatch/u64map.h"

#define BODY_MAX ((size_t)64 << 20)
/* /metrics grows with the series: about 17 KB a service in text (170 MB at 10,000). */
#define METRICS_BODY_MAX ((size_t)1 << 30)
#define N_FORMATS 3
/* Per-service locks of a stepped write section, shared by services index modulo this. */
#define STRIPES 4096
/* A gate question's asks are counted up to this: enough to tell a poll from a sweep. */
#define ASKS_COUNTED 16

/*
 * Two locks. lock keeps every reader of the whole evaluator (the status, /metrics) off it for a
 * write section. A gate answer reads one service's series and what is shared (the series table,
 * the evaluator's time), so it takes shared (held by the writer except while it is open: the
 * evaluator then changes one service at a time, under that service's stripe) and its service's
 * stripe, never lock: a tick, or a /metrics gather the tick waits behind, does not hold it up.
 */
struct sw_snapshot_source {
    pthread_rwlock_t lock, shared;
    atomic_uint_fast64_t generation; /* bumped by every write section */
    atomic_uint_fast64_t epoch;      /* bumped by those that may replace the evaluator or rules */
    atomic_bool writing;
    bool shared_held;            /* by the writer: only it reads and writes this */
    atomic_int stripes[STRIPES]; /* readers of a service's series; -1: the writer changes them */
    pthread_t writer;            /* set before writing, read only while it is true */
    atomic_uint_fast64_t renders[N_FORMATS], gate_computations, gates_prepared;
    atomic_size_t last_size[N_FORMATS]; /* of the last /metrics body, to allocate it at once */
    pthread_mutex_t latest_lock;
    sw_snapshot *latest; /* the last one built (a reference): whose questions to prepare */
    /* The sides the prepared answers merged, kept for the next snapshot's (the same questions
     * brought forward by the intervals that arrived): used by the preparing thread only. */
    sw_gate_scratch *prepared;
    /* A snapshot replaced while it kept a /metrics body (17 MB at 1,000 services): let go by the
     * next /metrics render, so that the render workers unmap the bodies they made, not the tick
     * (which lets it go itself only when no render came before the next one replaced). */
    _Atomic(sw_snapshot *) retired;
};

/* A computed gate answer: its verdict and JSON. */
typedef struct gate_answer {
    struct gate_answer *next; /* answers not kept in an entry (the snapshot's extras) */
    sw_verdict verdict;
    size_t len;
    char json[];
} gate_answer;

typedef struct gate_entry {
    const char *service, *env; /* the evaluator's strings are not kept: copies in names */
    int64_t window_ms;
    _Atomic(gate_answer *) answer; /* NULL until asked for (or prepared by the tick) */
    atomic_uint asks;              /* times asked of this snapshot, counted up to ASKS_COUNTED */
    bool asked_before; /* asked of the snapshot before too (set and read by the tick thread) */
} gate_entry;

/* A body computed once, when first asked for; the mutex keeps two askers from both computing. */
typedef struct lazy_body {
    pthread_mutex_t lock;
    _Atomic(sw_buf *) body;
} lazy_body;

struct sw_snapshot {
    atomic_int refs;
    int64_t at_ms;
    int64_t *gate_windows; /* per service, in rules order: its own gate's window */
    sw_snapshot_source *source;
    uint_fast64_t generation; /* the source's when built */
    uint_fast64_t epoch;      /* the source's when built */
    sw_snapshot *previous;    /* until prepared (sw_snapshot_prepare): whose questions to prepare */
    _Atomic(gate_answer *) extras; /* answers from a later state than the snapshot's */
    const sw_eval *ev;
    const sw_rules *rules;
    sw_metrics_input metrics; /* self and scrape targets copied, series borrowed */
    sw_metrics_self self;
    sw_metrics_remote *remotes;
    sw_metrics_target *targets;
    uint64_t *target_failures;
    sw_buf target_names;
    sw_metrics_label_values *label_values; /* names in label_names */
    sw_buf label_names;
    lazy_body status;
    lazy_body bodies[N_FORMATS];
    gate_entry *gates;
    size_t n_gates;
    sw_buf names; /* NUL-separated copies of service and env names */
    sw_buf services_json;
    sw_buf envs_json; /* per service, NUL-terminated, in rules order */
    const char **env_lists;
    char **service_names;
    char **by_labels; /* per service: its by label, or NULL */
    size_t n_services;
    sw_u64map service_at; /* name_key(name), probing on: index into service_names */
};

/* The writing thread itself: it holds the lock already. */
bool sw_snapshot_is_writer(const sw_snapshot_source *src);

/* May s compute from the whole evaluator now? When true, sw_snapshot_guard_leave must follow. */
bool sw_snapshot_guard_enter(const sw_snapshot *s);
void sw_snapshot_guard_leave(const sw_snapshot *s);

/* The rules index of a service, or of the service of a label value's key; -1 when unknown. */
ptrdiff_t sw_snapshot_service_index(const sw_snapshot *s, const char *service);

/* Whether a /metrics body of s has been rendered and kept. */
bool sw_snapshot_keeps_metrics(const sw_snapshot *s);

/* Gate entries' order: (service, env, window). */
int sw_snapshot_entry_cmp(const void *pa, const void *pb);

#endif
