/*
 * The HTTP API's handlers: /metrics, the deploy gate (GET for Argo Rollouts, POST for Flagger
 * webhooks), deployment marks, pushed SLI batches, remote-write requests, monthly reports, status, reload, and the /-/healthy and
 * /-/ready probes. They
 * answer from the current snapshot and reach the daemon only through the hooks, so they can
 * be tested and fuzzed without one. Shapes are documented in docs/api.md.
 */
#ifndef SLAWATCH_API_H
#define SLAWATCH_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slawatch/err.h"
#include "slawatch/http.h"
#include "slawatch/report.h"
#include "slawatch/report_cache.h"
#include "slawatch/snapshot.h"
#include "slawatch/store.h"

/* Times written to the API (pushed data, EMF, remote write, deployment marks) may lie at most
 * this far after now: later ones are refused (400), so no one can hold a series' future. */
#define SW_API_AHEAD_MS (5 * 60 * 1000)

/* One gate decision, for the audit log (strings borrowed for the call). */
typedef struct sw_api_gate_audit {
    int64_t at_ms;
    const char *who, *service, *env;
    const char *remote; /* the caller's "ip:port" */
    int64_t window_ms;
    const char *verdict;
    const char *json; /* the verdict as served, checks included */
    size_t json_len;
} sw_api_gate_audit;

typedef struct sw_api_hooks {
    void *ctx;
    /* The current snapshot with a reference taken, or NULL before the first tick. */
    sw_snapshot *(*snapshot)(void *ctx);
    int64_t (*now)(void *ctx);
    /* Record a deployment start of (service, env), with its policy_override (NULL: none);
     * SW_E_INVAL for an unknown series, SW_E_PARSE for a malformed override. */
    sw_status (*mark_deployment)(void *ctx, const char *service, const char *env, int64_t at_ms,
                                 const char *policy_override, const char *who, sw_err *err);
    /* Reload config and rules; on error the old ones stay and err says why. */
    sw_status (*reload)(void *ctx, sw_err *err);
    /* Queue an audit record (must not block for long: it runs on every gate request). */
    void (*audit)(void *ctx, const sw_api_gate_audit *a);
    /* Answer a pushed batch (POST /api/v1/ingest): the daemon runs collector/push's handler
     * (sw_push_handle) over its data. */
    void (*ingest)(void *ctx, const sw_http_request *req, sw_http_response *resp);
    /* Ready to serve? When not, why (e.g. the store is failing). */
    bool (*ready)(void *ctx, char *why, size_t cap);
    /*
     * A remote-write request (POST /api/v1/write): the HTTP status to answer (204 applied; 400
     * invalid, 413 too big: never retried; 429 over the ingest rate; 5xx when a retry can
     * help) with err saying why when not 204. NULL: the receiver is off (404).
     */
    int (*remote_write)(void *ctx, const sw_http_request *req, sw_err *err);
    /*
     * EMF lines (POST /api/v1/ingest/emf): parse all, apply all or nothing. On success the
     * counts applied in *ret (values, lines, unmatched). SW_E_PARSE/SW_E_TOOBIG bad input (err
     * names line and field), SW_E_RANGE too late. NULL: 404.
     */
    sw_status (*ingest_emf)(void *ctx, const uint8_t *body, size_t len, size_t ret[3],
                            sw_err *err);
    /*
     * Build the report of req from the daemon's store (GET /api/v1/report), as
     * sw_report_build() does, with its errors. NULL: reports are not served (404).
     */
    sw_status (*report)(void *ctx, const sw_report_request *req, sw_report **ret, sw_err *err);
    /* Written reports served again for a while (NULL: none); keyed with rules_version(), which
     * changes whenever the rules reports are judged by may have (a reload). */
    sw_report_cache *report_cache;
    uint64_t (*rules_version)(void *ctx);
    /* The web UI's pages read gate audits and the stored months here (NULL: not shown); the
     * store serialises its reads with the tick's writes. */
    sw_store *store;
    int64_t base_interval_ms; /* pages refresh this often */
    int64_t store_keep_ms;    /* how far back the store keeps data (its longest retention) */
} sw_api_hooks;

/* The route table, every handler taking the sw_api_hooks as ctx. */
const sw_http_route *sw_api_routes(size_t *ret_n);

#endif
