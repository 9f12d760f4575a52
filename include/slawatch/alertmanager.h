/*
 * Alerts pushed to Alertmanager (API v2, `POST /api/v2/alerts`), the way Prometheus does it.
 * The daemon owns one tracker, feeds it every alert and rollback trigger after each evaluation
 * (sw_am_observe) and then calls sw_am_push; one thread uses a tracker at a time. Time is
 * passed in (epoch milliseconds).
 *
 * Sending, as Prometheus' rule manager and notifier do:
 *  - a firing alert is sent at once, then again every resend interval (default 1 m), each time
 *    with endsAt = now + 4 * max(resend interval, evaluation interval), so Alertmanager resolves
 *    it by itself if slawatch stops sending;
 *  - a resolved alert is sent at once with endsAt = the resolution time, then again every
 *    resend interval for 15 minutes (in case a send was lost), then forgotten;
 *  - a failed push keeps everything due; the next attempts back off (10 s doubling up to the
 *    resend interval) so a down Alertmanager costs at most one short try per backoff step.
 *
 * The payload, a JSON array with one object per alert due:
 *   [{"labels": {"alertname": "HighErrorRate", "severity": "critical", "service": "api",
 *                "env": "green", "kind": "alert"},           <- env only when set;
 *                                                               kind "alert" | "rollback_trigger"
 *     "annotations": {"summary": "error_rate is 2.3% (> 1% over 5m)",
 *                     "description": "...", "runbook_url": "..."},   <- the last two when known
 *     "startsAt": "2026-10-01T10:00:00Z", "endsAt": "2026-10-01T10:04:00Z",
 *     "generatorURL": "http://slawatch:9464/api/v1/status"}]       <- when configured
 */
#ifndef SLAWATCH_ALERTMANAGER_H
#define SLAWATCH_ALERTMANAGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slawatch/buf.h"
#include "slawatch/err.h"
#include "slawatch/eval.h"
#include "slawatch/rules.h"

#define SW_AM_DEFAULT_RESEND_MS 60000
#define SW_AM_DEFAULT_EVAL_INTERVAL_MS 10000
#define SW_AM_RESOLVED_KEEP_MS (15 * 60000)
#define SW_AM_DEFAULT_TIMEOUT_MS 2000
#define SW_AM_DEFAULT_ATTEMPTS 2
#define SW_AM_MAX_PAYLOAD (4u << 20)

typedef enum sw_am_kind { SW_AM_ALERT, SW_AM_ROLLBACK_TRIGGER } sw_am_kind;

/* Zero fields take the defaults above. Strings are copied by sw_am_new. */
typedef struct sw_am_config {
    int64_t resend_ms;
    int64_t eval_interval_ms;
    int64_t timeout_ms;        /* per POST attempt */
    int attempts;              /* POSTs per push at most (5xx and network errors are retried) */
    const char *generator_url; /* generatorURL of every alert; NULL: omitted */
    const char *bearer_token;  /* for an Alertmanager behind auth; NULL: none; never logged */
} sw_am_config;

/* One alert as the evaluator sees it now. Strings are borrowed for the call. */
typedef struct sw_am_observation {
    const char *service;
    const char *env;         /* NULL when the series has no environment */
    sw_am_kind kind;
    const char *name;        /* alertname */
    const char *severity;    /* "critical", "warning", "info" */
    bool firing;
    int64_t since_ms;        /* firing: when it started firing (startsAt); else when resolved */
    const char *summary;     /* with the measured value in readable units (sw_am_summary) */
    const char *description; /* NULL: none */
    const char *runbook_url; /* NULL: none */
} sw_am_observation;

typedef struct sw_am sw_am;

/* cfg may be NULL for all defaults. */
sw_status sw_am_new(const sw_am_config *cfg, sw_am **ret_am, sw_err *err);

/* sw_am_free(NULL) does nothing. */
void sw_am_free(sw_am *am);

/*
 * Record the current state of one alert, identified by (kind, service, env, name). A change
 * from firing to resolved or back makes it due at once; a resolved alert never seen firing is
 * ignored. SW_E_NOMEM only.
 */
sw_status sw_am_observe(sw_am *am, const sw_am_observation *obs, int64_t now_ms, sw_err *err);

/*
 * sw_am_observe for an evaluator alert result of rules (severity, summary, description and
 * runbook_url from its rule; a resolved burn-rate alert says which objective's budget recovered).
 */
sw_status sw_am_observe_alert(sw_am *am, const sw_rules *rules, const char *service,
                              const char *env, const sw_alert_result *r, int64_t now_ms,
                              sw_err *err);

/* The same for a rollback trigger: firing while latched, severity critical. */
sw_status sw_am_observe_trigger(sw_am *am, const char *service, const char *env,
                                const sw_trigger_result *r, int64_t now_ms, sw_err *err);

/* `error_rate is 2.3% (> 1% over 5m)`, or for a burn-rate alert `error budget burning 15x
 * (> 14.4x over 1h and 5m)`, into out (>= 128 bytes advised). */
void sw_am_summary(const sw_alert *a, double measured, char *out, size_t cap);

/*
 * Append the JSON array of the alerts due at now_ms to out (`[]` when none) and set *ret_n to
 * their number. Those alerts are the ones the next sw_am_mark_sent marks. SW_E_TOOBIG when out's
 * cap is reached.
 */
sw_status sw_am_build_payload(sw_am *am, int64_t now_ms, sw_buf *out, size_t *ret_n,
                              sw_err *err);

/* The last payload was delivered at now_ms: its alerts are not due until the next resend;
 * resolved alerts past their 15 minutes are forgotten. */
void sw_am_mark_sent(sw_am *am, int64_t now_ms);

/*
 * Send what is due to url (`http://am:9093/api/v2/alerts`) with the HTTP client: blocks at most
 * attempts * timeout plus 250 ms between attempts. Nothing due, or a backoff after an earlier
 * failure still running: SW_OK without a request. Errors: SW_E_IO (unreachable, timeout, or a
 * non-2xx status, named in the message), SW_E_TOOBIG; what was due stays due. *ret_sent is the
 * number of alerts delivered (0 unless a POST succeeded).
 */
sw_status sw_am_push(sw_am *am, const char *url, int64_t now_ms, size_t *ret_sent, sw_err *err);

/* Alerts tracked (firing, or resolved within the last 15 minutes). */
size_t sw_am_count(const sw_am *am);

#endif
