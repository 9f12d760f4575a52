/*
 * A small blocking HTTP client (libcurl behind it; this is the only module that sees libcurl).
 * A client handle keeps a connection cache, so repeated requests to one peer (Alertmanager,
 * probe targets) reuse connections; sw_http_client_fetch_all() runs many requests concurrently
 * in one call. A client belongs to one thread at a time. The program's main() must call
 * sw_http_client_global_init() once before any thread uses the client.
 *
 * Error messages name the method and the URL without user:password and without the query
 * string (either may hold secrets); the bearer token never appears in any message.
 */
#ifndef SLAWATCH_HTTP_CLIENT_H
#define SLAWATCH_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slawatch/buf.h"
#include "slawatch/err.h"

#define SW_HTTP_CLIENT_DEFAULT_TIMEOUT_MS 10000
#define SW_HTTP_CLIENT_DEFAULT_MAX_RESPONSE (1u << 20)

typedef struct sw_http_fetch_request {
    const char *method;       /* "GET" when NULL; any other method sends body */
    const char *url;          /* http:// or https:// only */
    const char *content_type; /* of body; NULL sends none */
    const void *body;
    size_t body_len;
    const char *bearer_token; /* sent as `Authorization: Bearer`; NULL for none */
    const char *const *headers; /* more "Name: value" lines, NULL-terminated; NULL for none */
    int64_t timeout_ms;       /* whole request, connect included; 0: the default */
    size_t max_response_bytes; /* body cap; 0: the default; more is SW_E_TOOBIG */
    bool discard_body;        /* read and drop the body (probes only want the status) */
    const char *accept;       /* the Accept header; NULL sends none */
    bool accept_gzip;         /* offer gzip; the body is decoded before the cap applies */
    const char *authorization; /* the whole Authorization value ("Bearer x"); overrides
                                  bearer_token; never in messages */
    const char *basic_user, *basic_password; /* HTTP basic auth when basic_user is set */
    const char *tls_ca_file, *tls_cert_file, *tls_key_file; /* PEM; NULL: defaults */
    const char *tls_server_name; /* name checked in the certificate and sent as SNI instead of
                                    the URL's host (the connection still goes to the URL's) */
    bool tls_insecure;           /* no certificate or name check */
} sw_http_fetch_request;

typedef struct sw_http_fetch_response {
    long status;            /* HTTP status code */
    sw_buf body;            /* owned; capped at the request's max_response_bytes */
    char content_type[128]; /* "" when the server sent none (truncated if longer) */
    int64_t elapsed_us;     /* from start to the last byte */
    int64_t retry_after_s;  /* the Retry-After header (seconds or HTTP date) as seconds; 0: none */
} sw_http_fetch_response;

/* One request's outcome in sw_http_client_fetch_all(): err.code SW_OK means resp is valid. */
typedef struct sw_http_fetch_result {
    sw_err err;
    sw_http_fetch_response resp;
    bool timed_out; /* err is the request's timeout */
} sw_http_fetch_result;

typedef struct sw_http_client sw_http_client;

/* Library initialisation, once per process from main() before threads start (libcurl's
 * curl_global_init is not thread-safe). SW_E_IO when libcurl cannot initialise. */
sw_status sw_http_client_global_init(sw_err *err);

/* The matching cleanup, once at exit after every client is freed. */
void sw_http_client_global_cleanup(void);

sw_status sw_http_client_new(sw_http_client **ret_client, sw_err *err);

/* sw_http_client_free(NULL) does nothing. */
void sw_http_client_free(sw_http_client *c);

/*
 * Perform one request and wait for it. Any HTTP status is a success (the caller judges it);
 * failures: SW_E_INVAL (bad request fields), SW_E_IO (connection, TLS, timeout: the message
 * says which and names the URL), SW_E_TOOBIG (body over the cap), SW_E_NOMEM. resp is written
 * only on success and then owned by the caller (sw_http_fetch_response_fini).
 */
sw_status sw_http_client_fetch(sw_http_client *c, const sw_http_fetch_request *rq,
                               sw_http_fetch_response *resp, sw_err *err);

/*
 * Perform n requests concurrently and wait until all are done or timed out; results[i] gets
 * request i's outcome as sw_http_client_fetch() would report it. Returns SW_OK once every
 * request has an outcome (even a failed one); an error only when the batch could not run at
 * all, with every results[i].err set to it too. Finish every result with
 * sw_http_fetch_result_fini().
 */
sw_status sw_http_client_fetch_all(sw_http_client *c, const sw_http_fetch_request *rqs, size_t n,
                                   sw_http_fetch_result *results, sw_err *err);

/*
 * Asynchronous use, for one thread driving many requests with their own timing (the scraper):
 * start requests at any time, and call sw_http_client_drive() in a loop. done is called from
 * sw_http_client_drive() exactly once per started request, with a result it must finish
 * (sw_http_fetch_result_fini); requests still running when the client is freed are done then,
 * with an SW_E_IO "cancelled" error. rq's strings are copied except body, which must live until done. A client
 * used this way is not used with the blocking calls meanwhile (they would take its messages).
 */
typedef void (*sw_http_done_fn)(void *ctx, sw_http_fetch_result *res);

sw_status sw_http_client_start(sw_http_client *c, const sw_http_fetch_request *rq,
                               sw_http_done_fn done, void *ctx, sw_err *err);

/*
 * Move every started request along, waiting at most wait_ms for network activity, and call
 * done for those that finished. *ret_running: requests still in flight. SW_E_IO when libcurl's
 * multi interface fails as a whole.
 */
sw_status sw_http_client_drive(sw_http_client *c, int64_t wait_ms, size_t *ret_running,
                               sw_err *err);

/* One request on a temporary client (no connection reuse). */
sw_status sw_http_fetch(const sw_http_fetch_request *rq, sw_http_fetch_response *resp,
                        sw_err *err);

void sw_http_fetch_response_fini(sw_http_fetch_response *resp);
void sw_http_fetch_result_fini(sw_http_fetch_result *res);

/* url for messages and labels: without user:password@ (up to the last '@' of the authority),
 * `?query` and `#fragment`, into out; "(malformed URL)" when it has no scheme://. */
void sw_http_client_redact_url(const char *url, char *out, size_t cap);

#endif
