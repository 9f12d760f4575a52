/*
 * The HTTP server's state, shared by http.c (connections, routing, answering) and
 * http_start.c (listening, start and stop, the header watchdog) only.
 */
#ifndef SLAWATCH_HTTP_INT_H
#define SLAWATCH_HTTP_INT_H

#include "slawatch/http.h"
#include "slawatch/workq.h"

#include <microhttpd.h>

#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

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

/* CLOCK_MONOTONIC in ns: the header deadlines' clock. */
int64_t sw_http_monotonic_ns(void);

/* libmicrohttpd's callbacks, registered by sw_http_start. */
void sw_http_on_connection(void *cls, struct MHD_Connection *mc, void **socket_context,
                           enum MHD_ConnectionNotificationCode toe);
void *sw_http_on_uri(void *cls, const char *uri, struct MHD_Connection *mc);
void sw_http_on_completed(void *cls, struct MHD_Connection *mc, void **con_cls,
                          enum MHD_RequestTerminationCode toe);
enum MHD_Result sw_http_on_request(void *cls, struct MHD_Connection *mc, const char *url,
                                   const char *method, const char *version, const char *upload_data,
                                   size_t *upload_data_size, void **con_cls);

#endif
