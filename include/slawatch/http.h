/*
 * The HTTP server every daemon endpoint runs on: a thread pool (epoll), a router over an exact
 * path + method table, body and header size limits, a connection timeout, optional bearer-token
 * auth and optional TLS. Handlers live with their modules and are plugged in by the daemon;
 * they run on the pool threads, concurrently, and must be thread-safe.
 */
#ifndef SLAWATCH_HTTP_H
#define SLAWATCH_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slawatch/buf.h"
#include "slawatch/err.h"

/* What a handler sees. Every pointer is borrowed for the call; copy what must outlive it. */
typedef struct sw_http_request {
    const char *method; /* "GET", "POST", ... */
    const char *path;   /* percent-decoded, without the query */
    const char *query;  /* raw, after '?'; "" when none (see http_query.h) */
    const char *accept; /* header values; NULL when absent */
    const char *content_type;
    const char *authorization; /* already checked when the route needs auth */
    const char *user_agent;
    const char *content_encoding;
    const char *remote_write_version;    /* X-Prometheus-Remote-Write-Version */
    const char *remote;                  /* "ip:port" of the client ("[ip]:port" for IPv6) */
    const char *cookie;                  /* the Cookie header, for browser routes' own auth */
    const struct sw_http_server *server; /* for sw_http_token_matches */
    const uint8_t *body; /* NULL when empty; at most sw_http_options.max_body bytes */
    size_t body_len;
} sw_http_request;

#define SW_HTTP_HEADER_VALUE_MAX 128

/*
 * What a handler fills. Before the call: status 200, content type "application/json", no extra
 * header, body empty (its storage is reused between requests on a connection).
 */
typedef struct sw_http_response {
    int status;
    const char *content_type; /* a static string */
    const char *header_name;  /* one extra header (a static string, e.g. "Retry-After") or NULL */
    char header_value[SW_HTTP_HEADER_VALUE_MAX];
    sw_buf body; /* capped at sw_http_options.max_response */
    /* Set by sw_http_response_share instead of body: bytes the handler does not own. */
    const void *shared;
    size_t shared_len;
    void (*release)(void *ctx);
    void *release_ctx;
} sw_http_response;

typedef void (*sw_http_handler)(void *ctx, const sw_http_request *req, sw_http_response *resp);

/* Where a route's handler runs (sw_http_options says how many of each). A table may write
 * false and true for the first two. */
typedef enum sw_http_lane {
    SW_HTTP_POOL = 0,   /* cheap: on the pool thread that read the request */
    SW_HTTP_HEAVY = 1,  /* may take long (reports): the heavy-request workers */
    SW_HTTP_BULK = 2,   /* many and costly (ingest): the bulk workers, so a flood of them never
                           holds up the pool that answers the gate */
    SW_HTTP_RENDER = 3, /* long to compute from the snapshot (/metrics, the status): the render
                           workers (at render_nice), so a scrape never holds up the other
                           connections of the pool thread that read it */
} sw_http_lane;

typedef struct sw_http_route {
    const char *method; /* exact, e.g. "GET" */
    const char *path;   /* exact, e.g. "/api/v1/gate" */
    sw_http_handler handler;
    bool needs_auth;   /* require the bearer token, when one is configured */
    sw_http_lane lane; /* which threads run the handler */
    /* A page for browsers, which cannot send the bearer header: the server never refuses it
     * for auth (not even under auth_all); its handler checks the token itself (a cookie or a
     * form, sw_http_token_matches) and answers a login page without it. */
    bool browser;
} sw_http_route;

/* Zero fields take the defaults in brackets. */
typedef struct sw_http_options {
    const char *listen;        /* "127.0.0.1:9464", "[::1]:9464", ":9464" (all); port 0 = any */
    unsigned threads;          /* [2 x online CPUs, at most 32] */
    size_t max_body;           /* request body cap [1 MiB]; larger is 413 */
    size_t max_header;         /* memory per connection for request line + headers [16 KiB] */
    size_t max_response;       /* response body cap [16 MiB] */
    unsigned timeout_s;        /* an idle or stalled connection is closed after this [10] */
    unsigned max_connections;  /* [1024] */
    unsigned max_per_client;   /* connections from one client address [128] */
    unsigned heavy_workers;    /* threads running heavy routes [2], at lower CPU priority */
    unsigned heavy_waiting;    /* heavy requests queued behind them [8]; more get 503 */
    unsigned bulk_workers;     /* threads running bulk routes [2] */
    unsigned bulk_waiting;     /* bulk requests queued behind them [32]; more get 503 */
    unsigned render_workers;   /* threads running render routes [2] */
    unsigned render_waiting;   /* render requests queued behind them [16]; more get 503 */
    int render_nice;           /* the render workers' priority, as sw_thread_prio_set takes
                                  it [0: the pool threads'] */
    unsigned header_timeout_s; /* a request head (line and headers) must be in within this,
                                  counted from the connection or the previous answer [10] */
    const char *bearer_token;  /* NULL: no auth at all; copied */
    bool auth_all;             /* every route (and unknown paths) need the token */
    const char *tls_cert_file; /* PEM; both or neither; NULL: plain HTTP */
    const char *tls_key_file;
} sw_http_options;

typedef struct sw_http_server sw_http_server;

/*
 * Listen and serve routes (borrowed: the table and ctx must outlive the server; ctx is passed
 * to every handler). An unknown path is answered 404, a known path with another method 405
 * with Allow, a route needing auth without "Authorization: Bearer <token>" 401 with
 * WWW-Authenticate, a body over max_body 413, oversized headers 431, a request whose body's
 * end is ambiguous (differing Content-Length headers, Content-Length with Transfer-Encoding,
 * whitespace before a header's colon) 400 with the connection closed — all with a JSON
 * {"error": ...} body. Routes marked heavy (and, on pools of their own, routes marked bulk or
 * render) run on their own worker threads, so they never hold up the pool that answers the
 * others; past heavy_workers running and heavy_waiting queued (bulk_workers and bulk_waiting,
 * render_workers and render_waiting) they are answered 503 with Retry-After. A connection whose
 * request head is not in within header_timeout_s is closed. SW_E_INVAL for a bad listen address or
 * contradictory options (auth_all without a token, one TLS file without the other),
 * SW_E_UNSUPPORTED when TLS is asked for and libmicrohttpd was built without it, SW_E_IO when TLS
 * files cannot be read or the server cannot start (the message says why, e.g. address in use).
 */
sw_status sw_http_start(const sw_http_options *opts, const sw_http_route *routes, size_t n_routes,
                        void *ctx, sw_http_server **ret, sw_err *err);

/* Whether a bearer token is configured on the server that received req. */
bool sw_http_token_required(const sw_http_request *req);

/* Whether given (n bytes) is the configured token (compared in time independent of where it
 * differs), or the Authorization header carries it when given is NULL. False without a token. */
bool sw_http_token_matches(const sw_http_request *req, const char *given, size_t n);

/* Heavy requests running or waiting now. */
unsigned sw_http_heavy_busy(const sw_http_server *srv);

/* Render requests running or waiting now. */
unsigned sw_http_render_busy(const sw_http_server *srv);

/* The port actually bound (the ephemeral one when listen asked for port 0). */
uint16_t sw_http_port(const sw_http_server *srv);

/*
 * Stop accepting, let requests already being handled finish (waiting at most timeout_s),
 * close every connection and free the server. NULL does nothing.
 */
void sw_http_stop(sw_http_server *srv);

/* Set the extra header of resp to name (static) and a formatted value (truncated to fit). */
void sw_http_response_header(sw_http_response *resp, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Answer with len bytes at data that stay valid until release(release_ctx) is called, once
 * they are sent or the answer is dropped: a body built once and served to many (a cached
 * /metrics) is neither copied per request nor held to the max_response cap, which bounds
 * what a handler writes into body. Replaces body; status and content type are the caller's.
 */
void sw_http_response_share(sw_http_response *resp, const void *data, size_t len,
                            void (*release)(void *ctx), void *release_ctx);

/* Drop a shared body (releasing it) and empty body; done by the server between requests. */
void sw_http_response_unshare(sw_http_response *resp);

/*
 * Replace the body of resp with {"error": "<formatted message>"} (escaped; message truncated
 * to 256 bytes) and set status and content type. Never echo secrets into it.
 */
void sw_http_response_error(sw_http_response *resp, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The answer to a refused write: 400 bad input (a time too far ahead included), 413 over a cap,
 * 422 a closed interval or counts that would wrap, 503 when a retry may succeed (memory, the
 * journal's disk); SW_E_INVAL answers invalid (what it means depends on the endpoint). */
int sw_http_write_status(sw_status st, int invalid);

#endif
