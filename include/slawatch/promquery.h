/*
 * The Prometheus query source: `/api/v1/query_range` of an existing Prometheus-compatible
 * server (Prometheus, Mimir, Thanos) read back as raw series. Each rules selector is queried
 * as written at step = the base interval, and every result series' samples go to a sink (the
 * prommap batch), exactly as a scrape's would; the map turns them into per-interval increases
 * and histograms. This is how the evaluator reads SLIs back when collectors are sharded and
 * push to a distributed store (DESIGN.md, Scale-out).
 *
 * A client belongs to one thread at a time. The parser is stateless and bounded: the body is
 * capped before it is parsed, and nothing is allocated per sample.
 */
#ifndef SLAWATCH_PROMQUERY_H
#define SLAWATCH_PROMQUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slawatch/err.h"
#include "slawatch/promsample.h"

/* Prometheus refuses a range query with more than 11,000 points per series. */
#define SW_PROMQUERY_MAX_POINTS 11000u
#define SW_PROMQUERY_DEFAULT_MAX_RESPONSE ((size_t)16 << 20)
#define SW_PROMQUERY_DEFAULT_TIMEOUT_MS 30000
#define SW_PROMQUERY_DEFAULT_RETRIES 3
#define SW_PROMQUERY_DEFAULT_BACKOFF_MS 500
#define SW_PROMQUERY_MAX_BACKOFF_MS 30000
#define SW_PROMQUERY_MAX_HEADERS 32

/* What responses held. */
typedef struct sw_promquery_counts {
    uint64_t series;         /* result series handed on */
    uint64_t samples;        /* samples handed on */
    uint64_t skipped_series; /* already handed on for an earlier selector of the same range */
    uint64_t native_series;  /* series carrying native histograms: not read (unsupported) */
} sw_promquery_counts;

/*
 * Who receives a response's samples. Each sample carries the series' name (its `__name__`,
 * "" when absent), its other labels in the response's order, type SW_PROM_UNKNOWN, the value
 * (NaN, +Inf and -Inf as Prometheus writes them) and the timestamp in milliseconds.
 */
typedef struct sw_promquery_reader {
    sw_prom_sink sink;
    /* NULL, or asked once per series before its samples (s->value unset): true skips it. */
    bool (*skip)(void *ctx, const sw_prom_sample *series);
    void *skip_ctx;
} sw_promquery_reader;

/*
 * Parse one query_range response body data[0..len) and hand its samples to rd. Bodies over
 * max_bytes are SW_E_TOOBIG; malformed JSON or a shape other than a matrix of
 * [timestamp, "value"] pairs is SW_E_PARSE naming the series and sample; `status: error` is
 * SW_E_INVAL with the server's errorType and error. A sink error stops parsing and is
 * returned. The sink may have been given samples before a failure: callers abort the batch.
 * counts (may be NULL) is added to.
 */
sw_status sw_promquery_parse(const uint8_t *data, size_t len, size_t max_bytes,
                             const sw_promquery_reader *rd, sw_promquery_counts *counts,
                             sw_err *err);

/*
 * Range splitting: the last evaluation time of the page that starts at start_ms and holds at
 * most max_points points (start, start + step, ...) without passing end_ms. The next page
 * starts one step later. start_ms <= end_ms, step_ms > 0, max_points > 0.
 */
int64_t sw_promquery_page_end(int64_t start_ms, int64_t end_ms, int64_t step_ms, size_t max_points);

/* The selector of a family's classic histogram buckets: `name{m}` -> `name_bucket{m}` into
 * out. SW_E_INVAL when the selector does not start with a metric name; SW_E_TOOBIG when out
 * is too small. */
sw_status sw_promquery_bucket_selector(const char *selector, char *out, size_t cap, sw_err *err);

typedef struct sw_promquery_options {
    const char *url;          /* the server's base URL; /api/v1/query_range is appended */
    const char *bearer_token; /* NULL: none */
    const char *basic_user;   /* with basic_password: HTTP basic auth; NULL: none */
    const char *basic_password;
    const char *const *headers; /* "Name: value" lines sent with every query (X-Scope-OrgID) */
    size_t n_headers;           /* at most SW_PROMQUERY_MAX_HEADERS */
    int64_t timeout_ms;         /* per request; 0: SW_PROMQUERY_DEFAULT_TIMEOUT_MS */
    size_t max_response_bytes;  /* 0: SW_PROMQUERY_DEFAULT_MAX_RESPONSE */
    unsigned retries;           /* after the first attempt, on 5xx, 429 and network errors */
    int64_t backoff_ms; /* first wait, doubled per retry up to SW_PROMQUERY_MAX_BACKOFF_MS */
    /* Waits between attempts; returns false to give up (the daemon stopping). NULL: nanosleep */
    bool (*sleep)(void *ctx, int64_t ms);
    void *sleep_ctx;
} sw_promquery_options;

typedef struct sw_promquery sw_promquery;

/* A client; o and what it points to are copied. SW_E_INVAL for a URL that is not http(s). */
sw_status sw_promquery_new(const sw_promquery_options *o, sw_promquery **ret, sw_err *err);

/* sw_promquery_free(NULL) does nothing. */
void sw_promquery_free(sw_promquery *q);

/*
 * Query each of the n selectors over [start_ms, end_ms] at step_ms (one page: at most
 * SW_PROMQUERY_MAX_POINTS points; see sw_promquery_page_end) and hand the samples to sink. A
 * series returned for more than one selector is handed on once. Errors name the server, the
 * selector and, for a PromQL error, its errorType and message: SW_E_INVAL (the server refused
 * the query, never retried), SW_E_IO (network, timeout, 5xx after the retries), SW_E_TOOBIG,
 * SW_E_PARSE, or the sink's error. counts (may be NULL) is added to.
 */
sw_status sw_promquery_fetch(sw_promquery *q, const char *const *selectors, size_t n,
                             int64_t start_ms, int64_t end_ms, int64_t step_ms,
                             const sw_prom_sink *sink, sw_promquery_counts *counts, sw_err *err);

#endif
