/*
 * CloudWatch GetMetricData over the AWS JSON 1.0 protocol: the request body, the bounded
 * response parser, and a client that signs (SigV4, service `monitoring`), splits queries into
 * calls of at most 500, follows NextToken, retries throttling and 5xx with full-jitter
 * exponential backoff under a retry budget, and refreshes expired credentials once.
 *
 * A fetch returns every query's whole series or nothing: a failed page, a result with
 * StatusCode InternalError or Forbidden, or a malformed response yields an error and no data,
 * so callers never apply half a range. A client belongs to one thread at a time.
 */
#ifndef SLAWATCH_CWGMD_H
#define SLAWATCH_CWGMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slawatch/awscreds.h"
#include "slawatch/buf.h"
#include "slawatch/err.h"
#include "slawatch/rules.h"

#define SW_CWGMD_MAX_QUERIES 500               /* per GetMetricData call (AWS limit) */
#define SW_CWGMD_MAX_RESPONSE ((size_t)10 << 20) /* response body cap */
#define SW_CWGMD_MAX_DIMENSIONS 30             /* per metric (AWS limit) */
#define SW_CWGMD_ID_MAX 16                     /* query id, NUL included */
#define SW_CWGMD_DEFAULT_RETRIES 4             /* per call */
#define SW_CWGMD_DEFAULT_BUDGET 20             /* retries per client before it stops retrying */
#define SW_CWGMD_DEFAULT_BACKOFF_MS 200
#define SW_CWGMD_MAX_BACKOFF_MS 20000
#define SW_CWGMD_MAX_PAGES 1000 /* NextToken rounds per call: a server looping is an error */

/* One MetricDataQuery with a MetricStat. Strings are borrowed for the call. */
typedef struct sw_cwgmd_query {
    char id[SW_CWGMD_ID_MAX]; /* [a-z][a-zA-Z0-9_]* */
    const char *namespace_, *metric, *stat;
    const sw_label *dimensions;
    size_t n_dimensions;
    int64_t period_s;
} sw_cwgmd_query;

/* One query's datapoints, in increasing time order (epoch seconds). */
typedef struct sw_cwgmd_series {
    int64_t *ts_s;
    double *values;
    size_t n, cap;
} sw_cwgmd_series;

/* What one response page held; the parser's output. Caller-owned, reused across pages. */
typedef struct sw_cwgmd_page {
    sw_cwgmd_series *series; /* per asked query, in the asked order (appended to) */
    size_t n_series;
    char next_token[4096]; /* "" when the answer is complete */
    bool partial;          /* some result had StatusCode PartialData */
    bool internal_error;   /* the SW_E_IO was a result's StatusCode InternalError (transient) */
    uint64_t messages;     /* entries of Messages (informational) */
} sw_cwgmd_page;

/*
 * Append the GetMetricData request body for q[0..n) over [start_s, end_s) (ScanBy
 * TimestampAscending) to out; next_token NULL or "" for the first page. SW_E_INVAL for n over
 * SW_CWGMD_MAX_QUERIES or a bad range.
 */
sw_status sw_cwgmd_request_body(const sw_cwgmd_query *q, size_t n, int64_t start_s, int64_t end_s,
                                const char *next_token, sw_buf *out, sw_err *err);

/*
 * Parse one 200 response body data[0..len): each MetricDataResults entry's datapoints are
 * appended to page->series[i] for the query q[i] with its Id. Checked, each a SW_E_PARSE
 * naming the query and the datapoint: malformed JSON, missing or mistyped fields, Timestamps
 * and Values of different lengths, an Id not asked for, timestamps not strictly increasing
 * (across pages too) or outside [start_s, end_s), non-finite values. StatusCode InternalError
 * or Forbidden is SW_E_IO with the result's Messages. Bodies over SW_CWGMD_MAX_RESPONSE are
 * SW_E_TOOBIG. On error the series may hold part of the page: the caller drops them all.
 */
sw_status sw_cwgmd_parse(const uint8_t *data, size_t len, const sw_cwgmd_query *q, size_t n,
                         int64_t start_s, int64_t end_s, sw_cwgmd_page *page, sw_err *err);

/* Kinds of error responses (`__type` without its namespace prefix). */
typedef enum sw_cwgmd_fault {
    SW_CWGMD_FAULT_NONE,
    SW_CWGMD_FAULT_THROTTLED,  /* ThrottlingException, Throttling, RequestLimitExceeded, 429 */
    SW_CWGMD_FAULT_SERVER,     /* 5xx, InternalServiceFault, ServiceUnavailable */
    SW_CWGMD_FAULT_EXPIRED,    /* ExpiredTokenException, ExpiredToken, RequestExpired */
    SW_CWGMD_FAULT_DENIED,     /* AccessDenied*, signature and unrecognised-client errors */
    SW_CWGMD_FAULT_INVALID,    /* InvalidParameterValue, InvalidParameterCombination, ... */
} sw_cwgmd_fault;

/*
 * Classify an error response (status and body) and write a message naming the error type and
 * the server's message (never request headers) into err. Returns the fault kind.
 */
sw_cwgmd_fault sw_cwgmd_classify(long status, const uint8_t *body, size_t len, sw_err *err);

void sw_cwgmd_page_reset(sw_cwgmd_page *page);
void sw_cwgmd_series_fini(sw_cwgmd_series *s);

typedef struct sw_cwgmd_options {
    const char *endpoint_url; /* e.g. https://monitoring.eu-west-1.amazonaws.com */
    const char *region;
    sw_awscreds_provider *creds; /* borrowed; outlives the client */
    int64_t timeout_ms;          /* per HTTP request; 0: 30 s */
    unsigned retries;            /* per call; 0: SW_CWGMD_DEFAULT_RETRIES */
    unsigned budget;             /* client-wide retry tokens; 0: SW_CWGMD_DEFAULT_BUDGET */
    int64_t backoff_ms;          /* first backoff cap; 0: SW_CWGMD_DEFAULT_BACKOFF_MS */
    /* Sleep ms (false: stop, the fetch fails); NULL uses nanosleep. */
    bool (*sleep)(void *ctx, int64_t ms);
    void *sleep_ctx;
    uint64_t seed; /* jitter stream */
} sw_cwgmd_options;

/* Counters of one client since it was made. */
typedef struct sw_cwgmd_stats {
    uint64_t calls;       /* HTTP requests sent */
    uint64_t throttled;   /* answers that were throttling */
    uint64_t errors;      /* fetches that failed */
    uint64_t retries;     /* requests repeated */
    uint64_t refreshed;   /* credentials refreshed after an expired-token answer */
    uint64_t partial;     /* PartialData results followed */
} sw_cwgmd_stats;

typedef struct sw_cwgmd sw_cwgmd;

/* A client for opt (copied). SW_E_INVAL for a missing endpoint, region or provider. */
sw_status sw_cwgmd_new(const sw_cwgmd_options *opt, sw_cwgmd **ret, sw_err *err);

/* sw_cwgmd_free(NULL) does nothing. */
void sw_cwgmd_free(sw_cwgmd *c);

/*
 * Fetch q[0..n) (any n; split into calls of SW_CWGMD_MAX_QUERIES) over [start_s, end_s) into
 * out[0..n), each reset first and then holding the query's datapoints in time order. On any
 * error every out[i] is empty: SW_E_IO (network, 5xx or throttling after the retries or the
 * budget, InternalError/Forbidden results, denied), SW_E_INVAL (InvalidParameter*), SW_E_PARSE,
 * SW_E_TOOBIG, and the credential provider's errors.
 */
sw_status sw_cwgmd_fetch(sw_cwgmd *c, const sw_cwgmd_query *q, size_t n, int64_t start_s,
                         int64_t end_s, sw_cwgmd_series *out, sw_err *err);

/* The client's counters. */
void sw_cwgmd_stats_get(const sw_cwgmd *c, sw_cwgmd_stats *ret);

/*
 * Whether the last failed fetch may succeed if repeated later: throttling, 5xx and connection
 * failures past the call's retries, results with StatusCode InternalError, malformed,
 * truncated or oversized answers, PartialData that made no progress. False for access denied,
 * Forbidden results, invalid parameters and credential errors, which repeating cannot fix.
 */
bool sw_cwgmd_transient(const sw_cwgmd *c);

#endif
