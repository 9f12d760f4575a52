/*
 * The HTTP server's start and stop: the listen address, the options and their defaults, TLS
 * files, libmicrohttpd's daemon with the workers' lanes, and the header watchdog that closes
 * connections whose request head is late (http.c serves the connections).
 */
#include "http_int.h"

#include "slawatch/thread_prio.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
#define DEFAULT_BULK_WORKERS 2
#define DEFAULT_BULK_WAITING 32
/* Ingest at the pool threads' priority: niced, the pool threads waited less for a CPU in the
 * benchmark but the gate's p99 did not move, and a flood of pushes would wait longer and be
 * refused more (bench/README.md, "The gate's threads first"). */
#define BULK_NICE 0
#define DEFAULT_RENDER_WORKERS 2
#define DEFAULT_RENDER_WAITING 16
#define WATCHDOG_PERIOD_MS 250 /* how late past its header deadline a connection may be closed */
#define MAX_THREADS 32
#define TLS_FILE_MAX ((size_t)1 << 20)

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
        flags, 0, NULL, NULL, sw_http_on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, srv,
        MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)&la->sa, MHD_OPTION_THREAD_POOL_SIZE,
        o->threads, MHD_OPTION_CONNECTION_MEMORY_LIMIT, o->max_header,
        MHD_OPTION_CONNECTION_TIMEOUT, o->timeout_s, MHD_OPTION_CONNECTION_LIMIT,
        o->max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT, o->max_per_client,
        MHD_OPTION_NOTIFY_CONNECTION, sw_http_on_connection, srv, MHD_OPTION_URI_LOG_CALLBACK,
        sw_http_on_uri, srv, MHD_OPTION_NOTIFY_COMPLETED, sw_http_on_completed, srv,
        MHD_OPTION_ARRAY, tls, MHD_OPTION_END);
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
    int64_t now = sw_http_monotonic_ns();
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
    server_free(srv); /* the lanes, the watchdog, then MHD, as a failed start frees them */
    if (listen_fd != MHD_INVALID_SOCKET)
        close(listen_fd); /* the quiesced listener is ours to close once MHD has stopped */
}
