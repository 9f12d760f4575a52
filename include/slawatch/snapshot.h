/*
 * What one evaluation tick concluded, frozen for the HTTP threads: the status JSON, the gate
 * verdict of every series over each offered window (as JSON), the /metrics body in each
 * exposition format, and the known service names. Verdicts are computed once per tick and
 * served from here, so a gate request costs a lookup. The tick thread builds a snapshot and
 * publishes it; readers hold a reference while they use it.
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

/* Everything a snapshot is built from; all borrowed for the call. */
typedef struct sw_snapshot_input {
    const sw_eval *ev;
    const sw_rules *rules;
    int64_t now_ms;
    const sw_metrics_input *metrics;
    sw_expo *expo; /* scratch writer */
} sw_snapshot_input;

sw_status sw_snapshot_build(const sw_snapshot_input *in, sw_snapshot **ret, sw_err *err);

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
} sw_snapshot_lookup;

/*
 * The gate JSON of (service, env) over window_ms (0: the rules' gate window) and its verdict.
 * env NULL: the series without environment. The text stays valid while s is referenced.
 */
sw_snapshot_lookup sw_snapshot_gate(const sw_snapshot *s, const char *service, const char *env,
                                    int64_t window_ms, const char **ret_json, size_t *ret_len,
                                    sw_verdict *ret_verdict);

/* `{"at": ..., "services": [...]}` as `slawatch eval --json` writes it. */
const sw_buf *sw_snapshot_status(const sw_snapshot *s);

/* The /metrics body in format. */
const sw_buf *sw_snapshot_metrics(const sw_snapshot *s, sw_expo_format format);

/* The services of the rules in force, as a JSON array of strings. */
const char *sw_snapshot_services_json(const sw_snapshot *s);

/* The environments of service, as a JSON array of strings ("[]" when it has none or is not
 * known), for error messages. */
const char *sw_snapshot_envs_json(const sw_snapshot *s, const char *service);

#endif
