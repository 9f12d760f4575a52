/*
 * Pushed SLI data: a JSON batch posted to `POST /api/v1/ingest` by a service, a load balancer
 * log shipper or a test, recorded exactly (docs/api.md):
 *   {"service": "api", "env": "green", "at": "2026-10-01T12:00:03Z",
 *    "requests": 120, "errors": 2, "latency_us": [1830, 2400, ...], "probes": [true, false]}
 * Every field but service is optional; at defaults to the time of arrival. The parser is pure
 * and bounded, so it is fuzzed on its own.
 */
#ifndef SLAWATCH_PUSH_H
#define SLAWATCH_PUSH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slawatch/err.h"
#include "slawatch/http.h"

#define SW_PUSH_MAX_VALUES 100000 /* latency values in one batch */
#define SW_PUSH_MAX_PROBES 1000
#define SW_PUSH_NAME_MAX 256

typedef struct sw_push_batch {
    char service[SW_PUSH_NAME_MAX];
    char env[SW_PUSH_NAME_MAX]; /* "" when none */
    int64_t at_ms;              /* -1 when not given */
    uint64_t requests, errors;
    int64_t *latency_us; /* n_latency values, each 1 us .. 1 h */
    size_t n_latency;
    bool *probes;
    size_t n_probes;
} sw_push_batch;

/*
 * Parse one batch. SW_E_PARSE (or SW_E_TOOBIG) with a message naming the field and what was
 * wrong: errors > requests, a latency outside 1 us .. 1 h, a count that is not a whole number.
 * On success the caller finishes *ret with sw_push_batch_fini. A plain valid batch (names
 * without escapes, every field once) is read directly from the text, without a tree.
 */
sw_status sw_push_parse(const uint8_t *body, size_t len, sw_push_batch *ret, sw_err *err);

/*
 * The same through a cJSON tree only: the reference sw_push_parse matches on every input. It
 * reads the bodies sw_push_parse's direct reader leaves (anything but a plain, valid batch)
 * and words every refusal.
 */
sw_status sw_push_parse_tree(const uint8_t *body, size_t len, sw_push_batch *ret, sw_err *err);

void sw_push_batch_fini(sw_push_batch *b);

/* Where accepted batches go (the daemon's accumulators). */
typedef struct sw_push_sink {
    void *ctx;
    int64_t (*now)(void *ctx); /* the time of arrival, for batches without `at` */
    /* Record b at at_ms; SW_E_INVAL unknown series, SW_E_RANGE too late. */
    sw_status (*apply)(void *ctx, const sw_push_batch *b, int64_t at_ms, sw_err *err);
} sw_push_sink;

/*
 * The `POST /api/v1/ingest` handler: parse the body, hand the batch to sink and answer what was
 * recorded, or an error saying why nothing was (docs/api.md): 400 a bad body, 413 too big, 404
 * an unknown series, 422 too late, 503 when a retry may succeed.
 */
void sw_push_handle(const sw_push_sink *sink, const sw_http_request *req, sw_http_response *resp);

#endif
