/*
 * The HTTP server's connections: libmicrohttpd (only in this file and http_start.c) with its
 * own epoll thread pool. The server owns the daemon, copies of the token and TLS files, and one
 * `conn` per TCP connection whose buffers are reused by every request on it, so a keep-alive
 * request allocates nothing of ours. A connection is served by one pool thread at a time, or,
 * for a heavy, bulk or render route, by a worker while MHD holds it suspended; besides,
 * `in_flight`, the start-up log message and the connection list (for the header watchdog, under
 * conns_lock) are shared between threads. Listening, start, stop and the watchdog are in
 * http_start.c.
 */
#include "http_int.h"

#include "slawatch/json.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define HEAVY_RETRY_AFTER_S 5
#define BULK_RETRY_AFTER_S 1
#define RENDER_RETRY_AFTER_S 1
#define KEEP_BYTES ((size_t)64 << 10) /* larger per-connection buffers are freed after use */
/* A chunked body past max_body is read and dropped up to this many times max_body more, so
 * the client gets its 413; beyond that the connection is simply closed. */
#define DISCARD_FACTOR 8

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

int64_t
sw_http_monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The client has header_timeout_s from now to send a whole request head. */
static void
arm_header_deadline(conn *c)
{
    int64_t t = sw_http_monotonic_ns() + (int64_t)c->srv->opts.header_timeout_s * 1000000000;
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

void
sw_http_on_connection(void *cls, struct MHD_Connection *mc, void **socket_context,
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
    /* Without a context every request on this connection is refused (see sw_http_on_uri). */
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
void *
sw_http_on_uri(void *cls, const char *uri, struct MHD_Connection *mc)
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

void
sw_http_on_completed(void *cls, struct MHD_Connection *mc, void **con_cls,
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

enum MHD_Result
sw_http_on_request(void *cls, struct MHD_Connection *mc, const char *url, const char *method,
                   const char *version, const char *upload_data, size_t *upload_data_size,
                   void **con_cls)
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
