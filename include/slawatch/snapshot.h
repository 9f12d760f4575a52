/*
 * What one evaluation tick concluded, for the HTTP threads: the status JSON, the gate verdict
 * of every series over each offered window (as JSON), the /metrics body in each exposition
 * format, and the known service names. A snapshot names the answers it can give; each is
 * computed the first time it is asked for, from the evaluator as the tick left it, and kept,
 * so a tick costs what changed and a repeated question costs a lookup. The tick thread builds
 * a snapshot and publishes it; readers hold a reference while they use it.
 *
 * The evaluator and the totals a snapshot reads belong to the tick thread. A source
 * (sw_snapshot_source) keeps the readers off them while the tick thread changes them: the tick
 * thread writes between sw_snapshot_source_write_begin and _end, and a snapshot built before
 * the last write began can no longer compute what it has not kept (SW_SNAPSHOT_STALE: take the
 * current snapshot and ask again).
 */
#ifndef SLAWATCH_SNAPSHOT_H
#define SLAWATCH_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slawatch/buf.h"
#include "slawatch/eval.h"
#include "slawatch/expo.h"
#include "slawatch/metrics.h"

/* Gate windows offered besides the rules' own (`window=` of the gate API). */
#define SW_SNAPSHOT_GATE_WINDOWS_MS                                                                \
    {                                                                                              \
        300000, 600000, 900000, 1800000, 3600000                                                   \
    }

typedef struct sw_snapshot sw_snapshot;
typedef struct sw_snapshot_source sw_snapshot_source;

sw_status sw_snapshot_source_new(sw_snapshot_source **ret, sw_err *err);
void sw_snapshot_source_free(sw_snapshot_source *src); /* NULL: nothing */

/*
 * The tick thread is about to change (begin) or has changed (end) what snapshots read: the
 * evaluator, the rules, the totals. Begin waits for the computations in progress; until end,
 * other threads wait to compute, and the writing thread may use its snapshots unguarded.
 * Snapshots built before begin answer only what they have kept.
 */
void sw_snapshot_source_write_begin(sw_snapshot_source *src);
void sw_snapshot_source_write_end(sw_snapshot_source *src);

/*
 * A write section that keeps the evaluator and the rules (a tick, deployment marks) and may be
 * opened to the gate: between sw_snapshot_source_open and _close the writer changes the
 * evaluator only one service at a time (sw_eval_step_*), each between
 * sw_snapshot_source_service_begin and _end (which waits for that service's gate answers in
 * progress). Meanwhile a gate answer not kept yet is computed from its service's series as they
 * are (sw_snapshot_gate); the status and /metrics still wait for write_end. Begins closed.
 */
void sw_snapshot_source_write_begin_stepwise(sw_snapshot_source *src);
void sw_snapshot_source_open(sw_snapshot_source *src);
void sw_snapshot_source_close(sw_snapshot_source *src);
void sw_snapshot_source_service_begin(sw_snapshot_source *src, size_t service);
void sw_snapshot_source_service_end(sw_snapshot_source *src, size_t service);

/*
 * Everything a snapshot is built from. ev, rules and metrics->series are read again when an
 * answer is computed: they must stay unchanged, outside write sections of source, while the
 * snapshot lives (source NULL: while the snapshot lives, full stop). The rest of metrics is
 * copied.
 */
typedef struct sw_snapshot_input {
    const sw_eval *ev;
    const sw_rules *rules;
    int64_t now_ms;
    const sw_metrics_input *metrics;
    sw_snapshot_source *source;
} sw_snapshot_input;

sw_status sw_snapshot_build(const sw_snapshot_input *in, sw_snapshot **ret, sw_err *err);

/*
 * Answer, with s's source, the gate questions likely to come before the next tick (see
 * SW_SNAPSHOT_PREPARE_MAX): called by the evaluator's owner after the write section that built
 * s ended, so readers do not wait for it; nothing when a write section began since.
 */
void sw_snapshot_prepare(sw_snapshot *s);

/* Reference counting: the builder holds the first reference. Both are thread-safe. */
sw_snapshot *sw_snapshot_ref(sw_snapshot *s);
void sw_snapshot_unref(sw_snapshot *s);

int64_t sw_snapshot_time(const sw_snapshot *s);

typedef enum sw_snapshot_lookup {
    SW_SNAPSHOT_FOUND,
    SW_SNAPSHOT_UNKNOWN_SERVICE,
    SW_SNAPSHOT_UNKNOWN_ENV,    /* the service exists, not with that environment */
    SW_SNAPSHOT_NEEDS_ENV,      /* the service has environments and none was given */
    SW_SNAPSHOT_UNKNOWN_WINDOW, /* not one of the offered windows */
    SW_SNAPSHOT_STALE,          /* not kept, and the evaluator has moved on: ask the current one */
    SW_SNAPSHOT_FAILED,         /* could not be computed (out of memory, over the size cap) */
    SW_SNAPSHOT_BUSY, /* not kept, and the tick held the evaluator past SW_SNAPSHOT_GATE_WAIT_MS */
} sw_snapshot_lookup;

/* How long a gate answer not kept yet waits for a closed write section (a reload, the start of
 * a tick: its deployment marks and new series, the end of its steps) or for the tick stepping
 * its own service before giving up with SW_SNAPSHOT_BUSY. It never waits for a whole tick or a
 * /metrics render: those leave the gate's state open (sw_snapshot_source_open). */
#define SW_SNAPSHOT_GATE_WAIT_MS 250

/*
 * The gate questions a snapshot answers once built (sw_snapshot_prepare, by the tick thread
 * after its write section), so that they cost a lookup: every window of a series marked within
 * the last SW_SNAPSHOT_PREPARE_MARKED_MS, and of the questions asked of both snapshots built
 * before it (polled, not asked once) the SW_SNAPSHOT_PREPARE_POLLED_MAX asked most often of the
 * last one; at most SW_SNAPSHOT_PREPARE_MAX in all. The answers are the ones computed on request.
 * A question asked of two snapshots in a row is not always polled: a probe or dashboard sweeping
 * every service asks each about once a tick, so at 1,000 services about 400 of its questions a
 * tick were asked of the two before, and a third of those answers prepared went unread. A
 * pipeline polling (`slawatch gate --wait`: every 2 s) asks its question several times a tick,
 * so it comes first; the rest are computed when asked, once a snapshot, as before.
 */
#define SW_SNAPSHOT_PREPARE_MARKED_MS INT64_C(3600000)
#define SW_SNAPSHOT_PREPARE_MAX 4096
#define SW_SNAPSHOT_PREPARE_POLLED_MAX 64

/* Whether the gate knows (service, env) over window_ms, computing nothing. */
sw_snapshot_lookup sw_snapshot_gate_known(const sw_snapshot *s, const char *service,
                                          const char *env, int64_t window_ms);

/*
 * The gate JSON of (service, env) over window_ms (0: the rules' gate window) and its verdict.
 * env NULL: the series without environment. The text stays valid while s is referenced.
 * Waits at most SW_SNAPSHOT_GATE_WAIT_MS for the evaluator (SW_SNAPSHOT_BUSY after). An answer
 * asked of s once a tick has begun stepping the services is the service's state then: as s shows
 * it, or fed and evaluated at the tick's time, which its evaluated_at says.
 */
sw_snapshot_lookup sw_snapshot_gate(const sw_snapshot *s, const char *service, const char *env,
                                    int64_t window_ms, const char **ret_json, size_t *ret_len,
                                    sw_verdict *ret_verdict);

/* The label a service is judged by, one SLO per value (rules/README.md, "One SLO per label
 * value"); NULL when it is one SLO or unknown. */
const char *sw_snapshot_by_label(const sw_snapshot *s, const char *service);

/*
 * For a service judged per label value: the series key (sw_rules_by_key, into ret_key of cap
 * bytes) of its value with the worst gate verdict (fail, then inconclusive, then pass; the first
 * in key order among equals) for env over window_ms (0: its gate's window), computing the
 * answers not kept yet. SW_SNAPSHOT_UNKNOWN_SERVICE for a service without by, _UNKNOWN_ENV when
 * no value has data, _STALE or _FAILED as sw_snapshot_gate.
 */
sw_snapshot_lookup sw_snapshot_gate_worst(const sw_snapshot *s, const char *service,
                                          const char *env, int64_t window_ms, char *ret_key,
                                          size_t cap);

/* `{"at": ..., "services": [...]}` as `slawatch eval --json` writes it, in *ret (valid while
 * s is referenced). SW_SNAPSHOT_FOUND, _STALE or _FAILED. */
sw_snapshot_lookup sw_snapshot_status(const sw_snapshot *s, const sw_buf **ret);

/* The /metrics body in format, rendered once per snapshot and format; as sw_snapshot_status. */
sw_snapshot_lookup sw_snapshot_metrics(const sw_snapshot *s, sw_expo_format format,
                                       const sw_buf **ret);

/* Each sample of the text /metrics body handed to v (sw_expo_begin_visit), without rendering
 * or keeping a body: what remote write forwards. SW_SNAPSHOT_FOUND, _STALE or _FAILED. */
sw_snapshot_lookup sw_snapshot_metrics_visit(const sw_snapshot *s, const sw_expo_visitor *v);

/* The services of the rules in force, as a JSON array of strings. */
const char *sw_snapshot_services_json(const sw_snapshot *s);

/* The environments of service, as a JSON array of strings ("[]" when it has none or is not
 * known), for error messages. */
const char *sw_snapshot_envs_json(const sw_snapshot *s, const char *service);

#endif
