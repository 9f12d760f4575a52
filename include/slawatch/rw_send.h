/*
 * The remote-write sender (Prometheus remote-write 1.0): samples pushed by the daemon's tick are
 * queued (bounded: past the capacity the oldest are dropped and counted), batched (at most
 * max_samples_per_send per request, and no sample waits past batch_send_deadline for a batch to
 * fill) and POSTed by the sender's own thread, snappy compressed with the 1.0 headers, so the
 * tick never waits on the network. 5xx, 429 and failed connections are retried with capped
 * exponential backoff and jitter (Retry-After honoured); any other status is final: the batch
 * is dropped and counted. Each sender owns its series table, queue, HTTP client and thread.
 * sw_rw_send_series, _push and _stats may be called from any one thread at a time.
 */
#ifndef SLAWATCH_RW_SEND_H
#define SLAWATCH_RW_SEND_H

#include <stddef.h>
#include <stdint.h>

#include "slawatch/err.h"
#include "slawatch/rw_encode.h"

/* A Retry-After asking for longer is cut to this, so a misbehaving receiver cannot stall us. */
#define SW_RW_SEND_RETRY_AFTER_MAX_MS INT64_C(300000)
/* Bytes of a rejecting receiver's answer kept for the event (and the log). */
#define SW_RW_SEND_BODY_EXCERPT 200

typedef enum sw_rw_send_event_kind {
    SW_RW_SEND_RETRYING,  /* a batch failed and will be tried again */
    SW_RW_SEND_RECOVERED, /* a batch went through after retries */
    SW_RW_SEND_REJECTED,  /* the receiver refused a batch for good (4xx but 429): dropped */
    SW_RW_SEND_ABANDONED, /* stopping: the flush deadline passed with the batch unsent */
} sw_rw_send_event_kind;

typedef struct sw_rw_send_event {
    sw_rw_send_event_kind kind;
    size_t samples;      /* in the batch */
    long status;         /* the HTTP status; 0 when no answer came */
    const char *detail;  /* the error, or the start of the answer's body; never NULL */
    int64_t retry_in_ms; /* RETRYING: the wait before the next attempt */
} sw_rw_send_event;

typedef struct sw_rw_send_config {
    const char *url;                         /* http:// or https:// */
    const char *bearer_token;                /* NULL: none */
    const char *basic_user, *basic_password; /* both or neither (NULL) */
    const char *const *headers;              /* n_headers more "Name: value" (e.g. X-Scope-OrgID) */
    size_t n_headers;
    const char *ca_file;                    /* PEM bundle for https; NULL: the system's */
    int64_t timeout_ms;                     /* per request */
    size_t capacity;                        /* samples queued at most (>= 1) */
    size_t max_samples_per_send;            /* >= 1 */
    int64_t batch_send_deadline_ms;         /* longest a sample waits for its batch to fill */
    int64_t min_backoff_ms, max_backoff_ms; /* 1 <= min <= max */
    int64_t flush_deadline_ms;              /* on free: how long queued samples may still go */
    uint64_t seed;                          /* of the jitter */
    int nice; /* the sender thread's priority, as sw_thread_prio_set takes it (0: the caller's) */
    /* Called on the sender's thread for what the daemon should log; may be NULL. */
    void (*on_event)(void *ctx, const sw_rw_send_event *ev);
    void *event_ctx;
} sw_rw_send_config;

typedef struct sw_rw_send_stats {
    uint64_t sent;        /* samples the receiver accepted */
    uint64_t failed;      /* samples in batches it refused for good */
    uint64_t dropped;     /* samples pushed out of a full queue or unsent when stopped */
    uint64_t retried;     /* samples in batches sent again */
    size_t queued;        /* samples waiting now (the batch in flight not counted) */
    int64_t last_send_ms; /* wall-clock time of the last accepted batch; 0: none yet */
} sw_rw_send_stats;

typedef struct sw_rw_send sw_rw_send;

/* What a response means for its batch. */
typedef enum sw_rw_send_verdict {
    SW_RW_SEND_DELIVERED, /* 2xx */
    SW_RW_SEND_RETRY,     /* 5xx, 429, or no answer (status 0) */
    SW_RW_SEND_DROP,      /* any other status */
} sw_rw_send_verdict;

sw_rw_send_verdict sw_rw_send_judge(long status);

/*
 * The wait before retry number attempt (0 for the first retry): the receiver's Retry-After
 * when it sent one (retry_after_s > 0, cut to SW_RW_SEND_RETRY_AFTER_MAX_MS), else
 * min_backoff doubled per attempt, capped at max_backoff, with "equal jitter": uniformly in
 * [half, whole] of that, drawn from *rng (splitmix64 state).
 */
int64_t sw_rw_send_backoff_ms(const sw_rw_send_config *c, unsigned attempt, int64_t retry_after_s,
                              uint64_t *rng);

/*
 * Start a sender for c (copied; its strings are copied too) and its thread. The program must
 * have called sw_http_client_global_init. SW_E_INVAL for a bad config, SW_E_NOMEM.
 */
sw_status sw_rw_send_new(const sw_rw_send_config *c, sw_rw_send **ret, sw_err *err);

/*
 * Stop: the thread keeps sending what is queued for up to flush_deadline_ms (retrying within
 * it; a request already in flight first ends or times out), then the rest is dropped and
 * counted; then everything is freed. NULL does nothing.
 */
void sw_rw_send_free(sw_rw_send *s);

/*
 * The sender's handle for the series with labels[0..n) (any order; copied), found or added.
 * The pointer lives as long as the sender. SW_E_INVAL for a duplicate label name or no
 * __name__, SW_E_NOMEM.
 */
sw_status sw_rw_send_series(sw_rw_send *s, const sw_rw_label *labels, size_t n,
                            const sw_rw_series **ret, sw_err *err);

/*
 * Queue *sample (its series from sw_rw_send_series), taking its histogram. Never blocks on the
 * network. A sample not later than the last one queued for its series is not queued (the
 * receiver would refuse the whole batch for it): SW_E_RANGE, and the histogram is freed.
 */
sw_status sw_rw_send_push(sw_rw_send *s, sw_rw_sample *sample, sw_err *err);

void sw_rw_send_stats_get(sw_rw_send *s, sw_rw_send_stats *ret);

#endif
