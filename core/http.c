/*
 * The HTTP server: libmicrohttpd (only here) with its own epoll thread pool. The server owns
 * the daemon, copies of the token and TLS files, and one `conn` per TCP connection whose
 * buffers are reused by every request on it, so a keep-alive request allocates nothing of
 * ours. A connection is served by one pool thread at a time, or, for a heavy, bulk or render
 * route, by a worker while MHD holds it suspended; besides, `in_flight`, the start-up log message
 * and the connection list (for the header watchdog, under conns_lock) are shared between threads.
 */
#include "slawatch/http.h"

#include "slawatch/json.h"
#include "slawatch/thread_prio.h"
#include "slawatch/workq.h"

#include <microhttpd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_MAX_BODY ((size_t)1 << 20)
#define DEFAULT_MAX_HEADER ((size_t)16 << 10)
#define MIN_MAX_HEADER ((size_t)2 << 10) /* below this MHD cannot hold even a short request */
#define DEFAULT_MAX_RESPONSE ((size_t)16 << 20)
#define DEFAULT_TIMEOUT_S 10
#define DEFAULT_MAX_CONNECTIONS 1024
#define DEFAULT_MAX_PER_CLIENT 128
#define DEFAULT_HEADER_TIMEOUT_S 10
#define DEFAULT_HEAVY_WORKERS 2
#define DEFAULT_HEAVY_WAITING 8
#define HEAVY_NICE SW_THREAD_NICE_MAX /* heavy handlers: yield to every other thread */
#define HEAVY_RETRY_AFTER_S 5
#define DEFAULT_BULK_WORKERS 2
#define DEFAULT_BULK_WAITING 32
/* Ingest at the pool threads' priority: niced, the pool threads waited less for a CPU in the
 * benchmark but the gate's p99 did not move, and a flood of pushes would wait longer and be
 * refused more (bench/README.md, "The gate's threads first"). */
#define BULK_NICE 0
#define BULK_RETRY_AFTER_S 1
#define DEFAULT_RENDER_WORKERS 2
#define DEFAULT_RENDER_WAITING 16
#define RENDER_RETRY_AFTER_S 1
#define WATCHDOG_PERIOD_MS 250 /* how late past its header deadline a connection may be closed */
#define MAX_THREADS 32
#define KEEP_BYTES ((size_t)64 << 10) /* larger per-connection buffers are freed after use */
#define TLS_FILE_MAX ((size_t)1 << 20)
/* A chunked body past max_body is read and dropped up to this many times max_body more, so
 * the client gets its 413; beyond that the connection is simply closed. */
#define DISCARD_FACTOR 8

struct sw_http_server {
    struct MHD_Daemon *mhd;
    const sw_http_route *routes;
    size_t n_routes;
    void *ctx;
    sw_http_options opts; /* defaults filled in; string fields not used after start */
    char *token;          /* NULL: no auth */
    size_t token_len;
    char *tls_cert, *tls_key;
    atomic_uint in_flight; /* requests whose handler side has started and not completed */
    pthread_mutex_t log_lock;
    char log_msg[SW_ERR_MSG_MAX]; /* MHD's last message, for sw_http_start's error */
    /* Every open connection, for the header watchdog; a connection leaves the list in MHD's
     * close notification, before MHD closes its socket, so a listed fd is still its own. */
    pthread_mutex_t conns_lock;
    pthread_cond_t watchdog_wake;
    bool watchdog_stop;
    bool watchdog_running;
    pthread_t watchdog;
    struct conn *conns;
    sw_workq *heavy;      /* the routes marked heavy run here, off the pool threads */
    sw_workq *bulk;       /* the routes marked bulk (ingest) run here, off the pool threads */
    sw_workq *render;     /* the routes marked render (/metrics, status) run here */
    atomic_bool stopping; /* offloaded jobs not started yet are answered 503 instead */
};

typedef struct conn {
    sw_http_server *srv;
    const sw_http_route *route;
    bool started;
    bool uri_failed; /* the raw query could not be kept */
    bool refused;    /* resp already holds the error answer; the handler is not called */
    bool too_big;    /* the body went past max_body; the rest is being dropped */
    bool close;      /* answer with Connection: close (the request's framing is unsafe) */
    bool offloaded;  /* a handler off the pool has been handed to its workers ... */
    bool done;       /* ... and has filled resp (the connection was resumed) */
    struct MHD_Connection *mc;
    sw_http_request req; /* what an offloaded handler sees; its strings outlive the suspension */
    size_t discarded;
    sw_buf body;
    sw_buf query;
    sw_http_response resp;
    char remote[INET6_ADDRSTRLEN + 8];
    int fd;
    /* CLOCK_MONOTONIC ns by which the next request's headers must be in; 0 while a request
     * is being read or answered. Written by the connection's pool thread, read by the
     * watchdog under conns_lock. */
    _Atomic int64_t header_deadline_ns;
    struct conn *prev, *next; /* srv->conns, under conns_lock */
} conn;

/* --- per-connection state ------------------------------------------------------------------ */

static void
format_remote(const struct sockaddr *sa, char *out, size_t cap)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    if (sa != NULL && sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)(const void *)sa;
        inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
        snprintf(out, cap, "[%s]:%u", ip, ntohs(a->sin6_port));
    } else if (sa != NULL && sa->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)(const void *)sa;
        inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
        snprintf(out, cap, "%s:%u", ip, ntohs(a->sin_port));
    } else {
        snprintf(out, cap, "unknown");
    }
}

static int64_t
monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The client has header_timeout_s from now to send a whole request head. */
static void
arm_header_deadline(conn *c)
{
    int64_t t = monotonic_ns() + (int64_t)c->srv->opts.header_timeout_s * 1000000000;
    atomic_store(&c->header_deadline_ns, t);
}

static void
conns_add(sw_http_server *srv, conn *c)
{
    pthread_mutex_lock(&srv->conns_lock);
    c->next = srv->conns;
    if (srv->conns != NULL)
        srv->conns->prev = c;
    srv->conns = c;
    pthread_mutex_unlock(&srv->conns_lock);
}

static void
conns_remove(sw_http_server *srv, conn *c)
{
    pthread_mutex_lock(&srv->conns_lock);
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&srv->conns_lock);
}

static void
on_connection(void *cls, struct MHD_Connection *mc, void **socket_context,
              enum MHD_ConnectionNotificationCode toe)
{
    sw_http_server *srv = cls;
    conn *c = *socket_context;
    if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        if (c != NULL) {
            conns_remove(srv, c);
            sw_buf_fini(&c->body);
            sw_buf_fini(&c->query);
            sw_http_response_unshare(&c->resp);
            sw_buf_fini(&c->resp.body);
            free(c);
        }
        return;
    }
    /* Without a context every request on this connection is refused (see on_uri). */
    c = calloc(1, sizeof *c);
    if (c == NULL)
        return;
    c->srv = srv;
    sw_buf_init(&c->body, srv->opts.max_body);
    sw_buf_init(&c->query, srv->opts.max_header);
    sw_buf_init(&c->resp.body, srv->opts.max_response);
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    format_remote(ci != NULL ? ci->client_addr : NULL, c->remote, sizeof c->remote);
    ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
    c->fd = ci != NULL ? ci->connect_fd : -1;
    arm_header_deadline(c);
    *socket_context = c;
    conns_add(srv, c);
}

/*
 * Called once per request with the raw URI, before MHD decodes it in place: the only place
 * the raw query string can be had. Resets the connection's per-request state.
 */
static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *mc)
{
    (void)cls;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    conn *c = ci != NULL ? ci->socket_context : NULL;
    if (c == NULL)
        return NULL;
    c->route = NULL;
    c->started = false;
    c->uri_failed = false;
    c->refused = false;
    c->too_big = false;
    c->close = false;
    c->offloaded = false;
    c->done = false;
    c->discarded = 0;
    sw_buf_reset(&c->body);
    sw_buf_reset(&c->query);
    const char *q = strchr(uri, '?');
    if (q != NULL && sw_buf_append(&c->query, q + 1, strlen(q + 1), NULL) != SW_OK)
        c->uri_failed = true;
    return c;
}

static void
on_completed(void *cls, struct MHD_Connection *mc, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
    (void)mc;
    (void)toe;
    sw_http_server *srv = cls;
    conn *c = *con_cls;
    if (c == NULL || !c->started)
        return;
    arm_header_deadline(c); /* the next request on this connection */
    c->started = false;
    atomic_fetch_sub(&srv->in_flight, 1);
    /* One large request must not keep its memory for the life of the connection. */
    if (c->body.cap > KEEP_BYTES)
        sw_buf_fini(&c->body);
    if (c->resp.body.cap > KEEP_BYTES)
        sw_buf_fini(&c->resp.body);
}

/* --- auth and routing ---------------------------------------------------------------------- */

/*
 * Compare in time that depends only on the length the client sent: no early exit at the
 * first difference nor on a length mismatch, and the real token's length does not show.
 */
static bool
token_equal(const char *given, size_t n, const char *want, size_t want_len)
{
    volatile unsigned diff = n != want_len;
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)given[i] ^ (unsigned char)want[i % want_len];
    return diff == 0;
}

static bool
authorized(const sw_http_server *srv, const char *header)
{
    /* The scheme name is case-insensitive (RFC 7235, section 2.1). */
    if (header == NULL || strncasecmp(header, "Bearer ", 7) != 0)
        return false;
    const char *t = header + 7;
    while (*t == ' ')
        t++;
    return token_equal(t, strlen(t), srv->token, srv->token_len);
}

static bool
needs_auth(const sw_http_server *srv, const sw_http_route *route)
{
    return srv->token != NULL && (srv->opts.auth_all || (route != NULL && route->needs_auth));
}

/* A browser route at path and method: its handler checks the token itself. */
static bool
browser_route(const sw_http_server *srv, const char *path, const char *method)
{
    for (size_t i = 0; i < srv->n_routes; i++) {
        const sw_http_route *r = &srv->routes[i];
        if (r->browser && strcmp(r->path, path) == 0 && strcmp(r->method, method) == 0)
            return true;
    }
    return false;
}

bool
sw_http_token_required(const sw_http_request *req)
{
    return req->server != NULL && req->server->token != NULL;
}

bool
sw_http_token_matches(const sw_http_request *req, const char *given, size_t n)
{
    const sw_http_server *srv = req->server;
    if (srv == NULL || srv->token == NULL)
        return false;
    if (given == NULL)
        return authorized(srv, req->authorization);
    return token_equal(given, n, srv->token, srv->token_len);
}

/* The route for path and method; NULL with resp set to 404 or 405 when there is none. */
static const sw_http_route *
find_route(const sw_http_server *srv, const char *path, const char *method, sw_http_response *resp)
{
    size_t allow_len = 0;
    for (size_t i = 0; i < srv->n_routes; i++) {
        const sw_http_route *r = &srv->routes[i];
        if (strcmp(r->path, path) != 0)
            continue;
        if (strcmp(r->method, method) == 0)
            return r;
        int n = snprintf(resp->header_value + allow_len, sizeof resp->header_value - allow_len,
                         "%s%s", allow_len ? ", " : "", r->method);
        if (n > 0 && (size_t)n < sizeof resp->header_value - allow_len)
            allow_len += (size_t)n;
    }
    if (allow_len == 0) {
        sw_http_response_error(resp, MHD_HTTP_NOT_FOUND, "no such endpoint");
        return NULL;
    }
    resp->header_name = MHD_HTTP_HEADER_ALLOW;
    sw_http_response_error(resp, MHD_HTTP_METHOD_NOT_ALLOWED, "method %s not allowed here", method);
    return NULL;
}

/* --- answering ----------------------------------------------------------------------------- */

/* The MHD response of resp's body. A shared body is MHD's to release from here on (when the
 * response is destroyed, sent or not); an own body stays in c->resp until the connection's
 * next request, after this one is sent. */
static struct MHD_Response *
create_mhd_response(sw_http_response *resp)
{
    if (resp->shared == NULL)
        return MHD_create_response_from_buffer(
            resp->body.len, resp->body.len ? resp->body.data : (void *)"", MHD_RESPMEM_PERSISTENT);
    struct MHD_Response *r = MHD_create_response_from_buffer_with_free_callback_cls(
        resp->shared_len, (void *)resp->shared, resp->release, resp->release_ctx);
    if (r == NULL)
        return NULL; /* the shared body is released with the connection */
    resp->shared = NULL;
    resp->release = NULL;
    resp->release_ctx = NULL;
    return r;
}

static enum MHD_Result
send_response(conn *c, struct MHD_Connection *mc)
{
    sw_http_response *resp = &c->resp;
    if (resp->status < 100 || resp->status > 599)
        sw_http_response_error(resp, MHD_HTTP_INTERNAL_SERVER_ERROR, "handler set no status");
    struct MHD_Response *r = create_mhd_response(resp);
    if (r == NULL)
        return MHD_NO;
    enum MHD_Result ok =
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                resp->content_type ? resp->content_type : "application/json");
    if (ok == MHD_YES && c->close)
        ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    /* MHD refuses values with CR or LF: a handler bug, answered as such, never sent as is. */
    if (ok == MHD_YES && resp->header_name != NULL)
        ok = MHD_add_response_header(r, resp->header_name, resp->header_value);
    if (ok != MHD_YES) {
        MHD_destroy_response(r);
        resp->header_name = NULL;
        sw_http_response_error(resp, MHD_HTTP_INTERNAL_SERVER_ERROR, "bad response header");
        return send_response(c, mc);
    }
    enum MHD_Result ret = MHD_queue_response(mc, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    return ret;
}

static void
reset_response(sw_http_response *resp)
{
    resp->status = MHD_HTTP_OK;
    resp->content_type = "application/json";
    resp->header_name = NULL;
    resp->header_value[0] = '\0';
    sw_http_response_unshare(resp);
}

/* A declared Content-Length over the cap: refuse before reading a byte of the body. */
static bool
declared_too_big(struct MHD_Connection *mc, size_t max_body)
{
    const char *cl =
        MHD_lookup_connection_value(mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl == NULL)
        return false;
    char *end;
    unsigned long long n = strtoull(cl, &end, 10);
    return n > max_body;
}

static bool
has_body(struct MHD_Connection *mc)
{
    const char *cl =
        MHD_lookup_connection_value(mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    return (cl != NULL && strtoull(cl, NULL, 10) > 0) ||
           MHD_lookup_connection_value(mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
}

/* What the request head says about where its body ends (RFC 9112, section 6). */
typedef struct framing {
    const char *length; /* the first Content-Length */
    bool lengths_differ;
    bool chunked; /* any Transfer-Encoding */
    bool space_in_name;
} framing;

static enum MHD_Result
note_framing(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    framing *f = cls;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
        const char *v = value != NULL ? value : "";
        if (f->length != NULL && strcmp(f->length, v) != 0)
            f->lengths_differ = true;
        if (f->length == NULL)
            f->length = v;
    }
    if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0)
        f->chunked = true;
    if (strpbrk(key, " \t") != NULL)
        f->space_in_name = true;
    return MHD_YES;
}

/*
 * Why the body's end is ambiguous, or NULL. A front proxy may frame such a request otherwise
 * than we do, and the rest of the connection would then be read as a request it never checked
 * (request smuggling), so these are refused and the connection closed (RFC 9112, 5.1, 6.3).
 */
static const char *
unsafe_framing(struct MHD_Connection *mc)
{
    framing f = {0};
    MHD_get_connection_values(mc, MHD_HEADER_KIND, note_framing, &f);
    if (f.space_in_name)
        return "whitespace in a header field name";
    if (f.lengths_differ)
        return "differing Content-Length headers";
    if (f.chunked && f.length != NULL)
        return "both Content-Length and Transfer-Encoding";
    return NULL;
}

/*
 * Answer with the error already in c->resp. With a body on the way, answer now: MHD then
 * drops the body unread and closes the connection. Without one, answer when the request
 * completes, which keeps the connection alive (MHD closes it after any early answer).
 */
static enum MHD_Result
refuse(conn *c, struct MHD_Connection *mc)
{
    c->refused = true;
    return has_body(mc) ? send_response(c, mc) : MHD_YES;
}

/*
 * First call for a request, headers read: route, auth and the declared size are checked
 * before the body is read, so a refused request costs no buffering.
 */
static enum MHD_Result
begin(conn *c, struct MHD_Connection *mc, const char *path, const char *method)
{
    sw_http_server *srv = c->srv;
    c->started = true;
    atomic_store(&c->header_deadline_ns, 0);
    atomic_fetch_add(&srv->in_flight, 1);
    reset_response(&c->resp);
    const char *why = unsafe_framing(mc);
    if (why != NULL) {
        c->close = true;
        sw_http_response_error(&c->resp, MHD_HTTP_BAD_REQUEST, "%s", why);
        c->refused = true;
        return send_response(c, mc);
    }
    if (c->uri_failed) {
        sw_http_response_error(&c->resp, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
        return refuse(c, mc);
    }
    bool auth_first = srv->token != NULL && srv->opts.auth_all;
    const sw_http_route *route = auth_first ? NULL : find_route(srv, path, method, &c->resp);
    if (!auth_first && route == NULL)
        return refuse(c, mc);
    if (needs_auth(srv, route) && !browser_route(srv, path, method) &&
        !authorized(srv, MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "Authorization"))) {
        sw_http_response_header(&c->resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                "Bearer realm=\"slawatch\"");
        sw_http_response_error(&c->resp, MHD_HTTP_UNAUTHORIZED, "a valid bearer token is required");
        return refuse(c, mc);
    }
    if (route == NULL && (route = find_route(srv, path, method, &c->resp)) == NULL)
        return refuse(c, mc);
    if (declared_too_big(mc, srv->opts.max_body)) {
        sw_http_response_error(&c->resp, MHD_HTTP_CONTENT_TOO_LARGE,
                               "request body larger than %zu bytes", srv->opts.max_body);
        return refuse(c, mc);
    }
    c->route = route;
    return MHD_YES;
}

/* A piece of the body: kept up to max_body, then counted and dropped (chunked bodies). */
static enum MHD_Result
take_body(conn *c, const char *data, size_t n)
{
    if (!c->too_big && sw_buf_append(&c->body, data, n, NULL) == SW_OK)
        return MHD_YES;
    c->too_big = true;
    size_t limit = c->srv->opts.max_body * DISCARD_FACTOR;
    c->discarded += n;
    return c->discarded <= limit ? MHD_YES : MHD_NO;
}

/* A worker runs the offloaded handler, then hands the connection back to MHD to answer. */
static void
run_offloaded(void *arg)
{
    conn *c = arg;
    if (atomic_load(&c->srv->stopping)) {
        sw_http_response_header(&c->resp, "Retry-After", "%d", HEAVY_RETRY_AFTER_S);
        sw_http_response_error(&c->resp, MHD_HTTP_SERVICE_UNAVAILABLE, "shutting down");
    } else {
        c->route->handler(c->srv->ctx, &c->req, &c->resp);
    }
    c->done = true;
    MHD_resume_connection(c->mc);
}

/* What a lane other than the pool runs on, and how it refuses when full. */
typedef struct lane_queue {
    sw_workq *q;
    unsigned places; /* workers + waiting */
    int retry_after_s;
    const char *name;
} lane_queue;

static lane_queue
queue_of(const sw_http_server *srv, sw_http_lane lane)
{
    const sw_http_options *o = &srv->opts;
    switch (lane) {
    case SW_HTTP_HEAVY:
        return (lane_queue){srv->heavy, o->heavy_workers + o->heavy_waiting, HEAVY_RETRY_AFTER_S,
                            "heavy"};
    case SW_HTTP_RENDER:
        return (lane_queue){srv->render, o->render_workers + o->render_waiting,
                            RENDER_RETRY_AFTER_S, "render"};
    default:
        return (lane_queue){srv->bulk, o->bulk_workers + o->bulk_waiting, BULK_RETRY_AFTER_S,
                            "ingest"};
    }
}

/*
 * A route off the pool: suspend the connection and queue the handler, or refuse with 503
 * when every worker of its queue is busy and the queue is full. The pool threads stay free
 * for the cheap routes (the gate), whatever the reports, the scrapes or the ingest clients ask.
 */
static enum MHD_Result
offload(conn *c, struct MHD_Connection *mc)
{
    sw_http_server *srv = c->srv;
    lane_queue lq = queue_of(srv, c->route->lane);
    /* Stopping: the queues are being drained and freed (a keep-alive connection may still send
     * a request after the in-flight ones are done), so nothing is queued any more. */
    if (atomic_load(&srv->stopping)) {
        sw_http_response_header(&c->resp, "Retry-After", "%d", BULK_RETRY_AFTER_S);
        sw_http_response_error(&c->resp, MHD_HTTP_SERVICE_UNAVAILABLE, "shutting down");
        return send_response(c, mc);
    }
    if (!sw_workq_reserve(lq.q)) {
        sw_http_response_header(&c->resp, "Retry-After", "%d", lq.retry_after_s);
        sw_http_response_error(&c->resp, MHD_HTTP_SERVICE_UNAVAILABLE,
                               "busy: %u %s requests running or waiting; retry later", lq.places,
                               lq.name);
        return send_response(c, mc);
    }
    c->offloaded = true;
    c->mc = mc;
    /* Suspended before the job can run, so its resume always finds it suspended. */
    MHD_suspend_connection(mc);
    sw_workq_submit(lq.q, run_offloaded, c);
    return MHD_YES;
}

static enum MHD_Result
finish(conn *c, struct MHD_Connection *mc, const char *path, const char *method)
{
    sw_http_server *srv = c->srv;
    if (c->offloaded)
        return c->done ? send_response(c, mc) : MHD_YES;
    if (c->too_big)
        sw_http_response_error(&c->resp, MHD_HTTP_CONTENT_TOO_LARGE,
                               "request body larger than %zu bytes", srv->opts.max_body);
    if (c->refused || c->too_big)
        return send_response(c, mc);
    const char *query = sw_buf_cstr(&c->query, NULL);
    c->req = (sw_http_request){
        .method = method,
        .path = path,
        .query = query != NULL ? query : "",
        .accept = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT),
        .content_type =
            MHD_lookup_connection_value(mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE),
        .authorization =
            MHD_lookup_connection_value(mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
        .user_agent = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_USER_AGENT),
        .content_encoding =
            MHD_lookup_connection_value(mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_ENCODING),
        .remote_write_version =
            MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "X-Prometheus-Remote-Write-Version"),
        .remote = c->remote,
        .cookie = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_COOKIE),
        .server = srv,
        .body = c->body.len ? c->body.data : NULL,
        .body_len = c->body.len,
    };
    if (c->route->lane != SW_HTTP_POOL)
        return offload(c, mc);
    c->route->handler(srv->ctx, &c->req, &c->resp);
    return send_response(c, mc);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *mc, const char *url, const char *method,
           const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    (void)cls;
    (void)version;
    conn *c = *con_cls;
    if (c == NULL)
        return MHD_NO;
    if (!c->started)
        return begin(c, mc, url, method);
    if (*upload_data_size != 0) {
        enum MHD_Result r = take_body(c, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return r;
    }
    return finish(c, mc, url, method);
}

/* --- start and stop ------------------------------------------------------------------------ */

typedef struct listen_addr {
    struct sockaddr_storage sa;
    bool any; /* ":port": every interface, IPv6 and IPv4 */
} listen_addr;

static sw_status
parse_port(const char *s, uint16_t *ret, sw_err *err)
{
    char *end;
    unsigned long port = strtoul(s, &end, 10);
    if (*s < '0' || *s > '9' || *end != '\0' || port > 65535)
        return sw_err_set(err, SW_E_INVAL, "listen: bad port \"%s\"", s);
    *ret = (uint16_t)port;
    return SW_OK;
}

/* "127.0.0.1:9464", "[::1]:9464" or ":9464"; names are not resolved. */
static sw_status
parse_listen(const char *listen, listen_addr *ret, sw_err *err)
{
    char host[INET6_ADDRSTRLEN];
    const char *colon = listen[0] == '[' ? strstr(listen, "]:") : strrchr(listen, ':');
    if (colon == NULL)
        return sw_err_set(err, SW_E_INVAL, "listen: expected host:port, [v6]:port or :port");
    const char *h = listen[0] == '[' ? listen + 1 : listen;
    size_t hn = (size_t)(colon - h);
    if (hn >= sizeof host)
        return sw_err_set(err, SW_E_INVAL, "listen: address too long");
    memcpy(host, h, hn);
    host[hn] = '\0';
    uint16_t port;
    sw_status st = parse_port(colon + (listen[0] == '[' ? 2 : 1), &port, err);
    if (st != SW_OK)
        return st;
    memset(ret, 0, sizeof *ret);
    struct sockaddr_in *v4 = (struct sockaddr_in *)&ret->sa;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ret->sa;
    if (hn == 0 && listen[0] != '[') {
        ret->any = true;
        v6->sin6_family = AF_INET6;
        v6->sin6_addr = in6addr_any;
        v6->sin6_port = htons(port);
    } else if (listen[0] == '[' && inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
    } else if (listen[0] != '[' && inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
    } else {
        return sw_err_set(err, SW_E_INVAL, "listen: \"%s\" is not an IP address", host);
    }
    return SW_OK;
}

/* A whole (small) PEM file as a string. */
static sw_status
read_file(const char *path, char **ret, sw_err *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return sw_err_sys(err, SW_E_IO, "%s", path);
    sw_buf b;
    sw_buf_init(&b, TLS_FILE_MAX);
    char chunk[4096];
    size_t n;
    sw_status st = SW_OK;
    while (st == SW_OK && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        st = sw_buf_append(&b, chunk, n, err);
    if (st == SW_OK && ferror(f))
        st = sw_err_sys(err, SW_E_IO, "%s", path);
    fclose(f);
    if (st == SW_OK && sw_buf_cstr(&b, err) == NULL)
        st = SW_E_NOMEM;
    if (st != SW_OK) {
        sw_err_prefix(err, "%s", path);
        sw_buf_fini(&b);
        return st;
    }
    *ret = (char *)b.data;
    return SW_OK;
}

/* MHD reports why it failed to start only through its logger; keep the last message. */
static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    sw_http_server *srv = cls;
    pthread_mutex_lock(&srv->log_lock);
    vsnprintf(srv->log_msg, sizeof srv->log_msg, fmt, ap);
    size_t n = strlen(srv->log_msg);
    while (n > 0 && (srv->log_msg[n - 1] == '\n' || srv->log_msg[n - 1] == '.'))
        srv->log_msg[--n] = '\0';
    pthread_mutex_unlock(&srv->log_lock);
}

/* Why the server did not start, from libmicrohttpd's last message. Its bind failure names
 * "port 0" when given an address, so only the system's reason after it is kept. */
static const char *
start_failure_reason(const char *mhd_msg)
{
    static const char bind_failed[] = "Failed to bind to port ";
    if (mhd_msg[0] == '\0')
        return "libmicrohttpd failed to start";
    const char *reason =
        strncmp(mhd_msg, bind_failed, sizeof bind_failed - 1) == 0 ? strstr(mhd_msg, ": ") : NULL;
    return reason != NULL ? reason + 2 : mhd_msg;
}

static unsigned
default_threads(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (cpus < 1)
        cpus = 1;
    return cpus * 2 > MAX_THREADS ? MAX_THREADS : (unsigned)cpus * 2;
}

static sw_status
set_options(sw_http_server *srv, const sw_http_options *o, sw_err *err)
{
    srv->opts = *o;
    sw_http_options *d = &srv->opts;
    d->threads = d->threads ? d->threads : default_threads();
    if (d->threads > MAX_THREADS)
        d->threads = MAX_THREADS;
    d->max_body = d->max_body ? d->max_body : DEFAULT_MAX_BODY;
    d->max_header = d->max_header ? d->max_header : DEFAULT_MAX_HEADER;
    if (d->max_header < MIN_MAX_HEADER)
        d->max_header = MIN_MAX_HEADER;
    d->max_response = d->max_response ? d->max_response : DEFAULT_MAX_RESPONSE;
    d->timeout_s = d->timeout_s ? d->timeout_s : DEFAULT_TIMEOUT_S;
    d->max_connections = d->max_connections ? d->max_connections : DEFAULT_MAX_CONNECTIONS;
    d->max_per_client = d->max_per_client ? d->max_per_client : DEFAULT_MAX_PER_CLIENT;
    d->header_timeout_s = d->header_timeout_s ? d->header_timeout_s : DEFAULT_HEADER_TIMEOUT_S;
    d->heavy_workers = d->heavy_workers ? d->heavy_workers : DEFAULT_HEAVY_WORKERS;
    d->heavy_waiting = d->heavy_waiting ? d->heavy_waiting : DEFAULT_HEAVY_WAITING;
    d->bulk_workers = d->bulk_workers ? d->bulk_workers : DEFAULT_BULK_WORKERS;
    d->bulk_waiting = d->bulk_waiting ? d->bulk_waiting : DEFAULT_BULK_WAITING;
    d->render_workers = d->render_workers ? d->render_workers : DEFAULT_RENDER_WORKERS;
    d->render_waiting = d->render_waiting ? d->render_waiting : DEFAULT_RENDER_WAITING;
    if (o->bearer_token != NULL && o->bearer_token[0] == '\0')
        return sw_err_set(err, SW_E_INVAL, "bearer token is empty");
    if (o->auth_all && o->bearer_token == NULL)
        return sw_err_set(err, SW_E_INVAL, "auth_all needs a bearer token");
    if ((o->tls_cert_file == NULL) != (o->tls_key_file == NULL))
        return sw_err_set(err, SW_E_INVAL, "TLS needs both a certificate and a key file");
    if (o->bearer_token != NULL) {
        srv->token = strdup(o->bearer_token);
        if (srv->token == NULL)
            return sw_err_set(err, SW_E_NOMEM, "out of memory");
        srv->token_len = strlen(srv->token);
    }
    return SW_OK;
}

static sw_status
load_tls(sw_http_server *srv, const sw_http_options *o, sw_err *err)
{
    if (o->tls_cert_file == NULL)
        return SW_OK;
    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
        return sw_err_set(err, SW_E_UNSUPPORTED,
                          "TLS requested but this libmicrohttpd was built without TLS support");
    sw_status st = read_file(o->tls_cert_file, &srv->tls_cert, err);
    return st == SW_OK ? read_file(o->tls_key_file, &srv->tls_key, err) : st;
}

static struct MHD_Daemon *
start_daemon(sw_http_server *srv, const listen_addr *la, bool dual_stack)
{
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_TURBO |
                     MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
    if (la->sa.ss_family == AF_INET6)
        flags |= dual_stack ? MHD_USE_DUAL_STACK : MHD_USE_IPv6;
    if (srv->tls_cert != NULL)
        flags |= MHD_USE_TLS;
    const sw_http_options *o = &srv->opts;
    struct MHD_OptionItem tls[] = {
        {srv->tls_cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, srv->tls_cert},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, srv->tls_key},
        {MHD_OPTION_END, 0, NULL},
    };
    return MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, srv,
        MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)&la->sa, MHD_OPTION_THREAD_POOL_SIZE,
        o->threads, MHD_OPTION_CONNECTION_MEMORY_LIMIT, o->max_header,
        MHD_OPTION_CONNECTION_TIMEOUT, o->timeout_s, MHD_OPTION_CONNECTION_LIMIT,
        o->max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT, o->max_per_client,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv, MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_ARRAY, tls, MHD_OPTION_END);
}

/* --- the header watchdog ------------------------------------------------------------------- */

/*
 * MHD's connection timeout restarts with every byte received, so a client trickling its
 * headers a byte at a time would hold its connection (and its share of max_connections)
 * forever. A connection past its header deadline is shut down here; MHD sees the end of the
 * stream on its own thread and closes it as usual.
 */
static void
close_late_headers(sw_http_server *srv)
{
    int64_t now = monotonic_ns();
    pthread_mutex_lock(&srv->conns_lock);
    for (conn *c = srv->conns; c != NULL; c = c->next) {
        int64_t deadline = atomic_load(&c->header_deadline_ns);
        if (deadline != 0 && deadline < now && c->fd >= 0) {
            shutdown(c->fd, SHUT_RDWR);
            atomic_store(&c->header_deadline_ns, 0);
        }
    }
    pthread_mutex_unlock(&srv->conns_lock);
}

static void *
watchdog_main(void *arg)
{
    sw_http_server *srv = arg;
    sw_thread_prio_set("sw-http-watch", 0);
    pthread_mutex_lock(&srv->conns_lock);
    while (!srv->watchdog_stop) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += WATCHDOG_PERIOD_MS * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&srv->watchdog_wake, &srv->conns_lock, &until);
        if (srv->watchdog_stop)
            break;
        pthread_mutex_unlock(&srv->conns_lock);
        close_late_headers(srv);
        pthread_mutex_lock(&srv->conns_lock);
    }
    pthread_mutex_unlock(&srv->conns_lock);
    return NULL;
}

/* The watchdog's condition waits on CLOCK_MONOTONIC, as its deadlines do. */
static void
watchdog_init(sw_http_server *srv)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&srv->watchdog_wake, &attr);
    pthread_condattr_destroy(&attr);
}

static sw_status
watchdog_start(sw_http_server *srv, sw_err *err)
{
    int e = pthread_create(&srv->watchdog, NULL, watchdog_main, srv);
    if (e != 0)
        return sw_err_set(err, SW_E_NOMEM, "cannot start the header watchdog: %s", strerror(e));
    srv->watchdog_running = true;
    return SW_OK;
}

static void
watchdog_stop(sw_http_server *srv)
{
    if (!srv->watchdog_running)
        return;
    pthread_mutex_lock(&srv->conns_lock);
    srv->watchdog_stop = true;
    pthread_cond_signal(&srv->watchdog_wake);
    pthread_mutex_unlock(&srv->conns_lock);
    pthread_join(srv->watchdog, NULL);
    srv->watchdog_running = false;
}

static void
server_free(sw_http_server *srv)
{
    /* Every offloaded job resumes its connection before MHD stops: it refuses to stop with a
     * connection still suspended. */
    sw_workq_free(srv->heavy);
    srv->heavy = NULL;
    sw_workq_free(srv->bulk);
    srv->bulk = NULL;
    sw_workq_free(srv->render);
    srv->render = NULL;
    watchdog_stop(srv);
    if (srv->mhd != NULL)
        MHD_stop_daemon(srv->mhd);
    pthread_mutex_destroy(&srv->log_lock);
    pthread_mutex_destroy(&srv->conns_lock);
    pthread_cond_destroy(&srv->watchdog_wake);
    if (srv->token != NULL)
        memset(srv->token, 0, srv->token_len);
    free(srv->token);
    free(srv->tls_cert);
    free(srv->tls_key);
    free(srv);
}

sw_status
sw_http_start(const sw_http_options *opts, const sw_http_route *routes, size_t n_routes, void *ctx,
              sw_http_server **ret, sw_err *err)
{
    SW_REQUIRE(opts != NULL && opts->listen != NULL && ret != NULL);
    SW_REQUIRE(routes != NULL || n_routes == 0);
    listen_addr la;
    sw_status st = parse_listen(opts->listen, &la, err);
    if (st != SW_OK)
        return st;
    uint16_t listen_port =
        ntohs(la.sa.ss_family == AF_INET ? ((struct sockaddr_in *)&la.sa)->sin_port
                                         : ((struct sockaddr_in6 *)&la.sa)->sin6_port);
    sw_http_server *srv = calloc(1, sizeof *srv);
    if (srv == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory");
    pthread_mutex_init(&srv->log_lock, NULL);
    pthread_mutex_init(&srv->conns_lock, NULL);
    watchdog_init(srv);
    atomic_init(&srv->in_flight, 0);
    atomic_init(&srv->stopping, false);
    srv->routes = routes;
    srv->n_routes = n_routes;
    srv->ctx = ctx;
    st = set_options(srv, opts, err);
    if (st == SW_OK)
        st = load_tls(srv, opts, err);
    if (st == SW_OK)
        st = sw_workq_new(srv->opts.heavy_workers, srv->opts.heavy_waiting, "sw-report", HEAVY_NICE,
                          &srv->heavy, err);
    if (st == SW_OK)
        st = sw_workq_new(srv->opts.bulk_workers, srv->opts.bulk_waiting, "sw-ingest", BULK_NICE,
                          &srv->bulk, err);
    if (st == SW_OK)
        st = sw_workq_new(srv->opts.render_workers, srv->opts.render_waiting, "sw-render",
                          srv->opts.render_nice, &srv->render, err);
    if (st == SW_OK) {
        srv->mhd = start_daemon(srv, &la, la.any);
        /* ":port" falls back to IPv4 only on hosts without IPv6. */
        if (srv->mhd == NULL && la.any) {
            struct sockaddr_in *v4 = (struct sockaddr_in *)&la.sa;
            uint16_t port = ((struct sockaddr_in6 *)&la.sa)->sin6_port;
            memset(&la.sa, 0, sizeof la.sa);
            v4->sin_family = AF_INET;
            v4->sin_port = port;
            v4->sin_addr.s_addr = htonl(INADDR_ANY);
            srv->mhd = start_daemon(srv, &la, false);
        }
        if (srv->mhd == NULL)
            st = sw_err_set(err, SW_E_IO, "cannot listen on %s (port %u): %s", opts->listen,
                            (unsigned)listen_port, start_failure_reason(srv->log_msg));
    }
    if (st == SW_OK)
        st = watchdog_start(srv, err);
    if (st != SW_OK) {
        server_free(srv);
        return st;
    }
    *ret = srv;
    return SW_OK;
}

unsigned
sw_http_heavy_busy(const sw_http_server *srv)
{
    return sw_workq_busy(srv->heavy);
}

unsigned
sw_http_render_busy(const sw_http_server *srv)
{
    return sw_workq_busy(srv->render);
}

uint16_t
sw_http_port(const sw_http_server *srv)
{
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_BIND_PORT);
    return info != NULL ? info->port : 0;
}

void
sw_http_stop(sw_http_server *srv)
{
    if (srv == NULL)
        return;
    MHD_socket listen_fd = MHD_quiesce_daemon(srv->mhd);
    atomic_store(&srv->stopping, true);
    /* in_flight counts offloaded requests too, running or waiting. */
    struct timespec step = {0, 5 * 1000 * 1000};
    for (unsigned waited_ms = 0;
         atomic_load(&srv->in_flight) > 0 && waited_ms < srv->opts.timeout_s * 1000u;
         waited_ms += 5)
        nanosleep(&step, NULL);
    sw_workq_free(srv->heavy);
    srv->heavy = NULL;
    sw_workq_free(srv->bulk);
    srv->bulk = NULL;
    sw_workq_free(srv->render);
    srv->render = NULL;
    watchdog_stop(srv);
    MHD_stop_daemon(srv->mhd);
    srv->mhd = NULL;
    if (listen_fd != MHD_INVALID_SOCKET)
        close(listen_fd);
    server_free(srv);
}
