/*
 * The loopback HTTP stand-in (http_responder.h). The accept thread owns the listening socket;
 * each connection gets a detached thread; `active` counts them so stop can wait for all.
 */
#define _GNU_SOURCE /* strcasestr */
#include "http_responder.h"

#include <arpa/inet.h>
#include <poll.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct http_responder {
    int listen_fd;
    int port;
    pthread_t accept_thread;
    atomic_bool stopping;
    atomic_int active;
    atomic_int hanging, most_hanging; /* /hang requests whose client is still connected */
    pthread_mutex_t lock;
    char last[8192];
};

typedef struct conn {
    http_responder *r;
    int fd;
} conn;

static void
sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Read headers and a Content-Length body; returns bytes read (NUL-terminated). */
static size_t
read_request(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    while (len + 1 < cap) {
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        buf[len] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (end == NULL)
            continue;
        const char *cl = strcasestr(buf, "\r\ncontent-length:");
        size_t body = cl != NULL && cl < end ? strtoul(cl + 17, NULL, 10) : 0;
        if (len >= (size_t)(end + 4 - buf) + body)
            break;
    }
    buf[len] = '\0';
    return len;
}

static void
respond(int fd, int status, const char *body, size_t body_len)
{
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d X\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n",
                     status, body_len);
    /* MSG_NOSIGNAL: a client that gave up (a timeout under test) must not kill the test. */
    if (send(fd, head, (size_t)n, MSG_NOSIGNAL) < 0)
        return;
    for (size_t off = 0; off < body_len;) {
        ssize_t w = send(fd, body + off, body_len - off, MSG_NOSIGNAL);
        if (w <= 0)
            return;
        off += (size_t)w;
    }
}

/* Wait up to ms for the client to close: false then (it sends nothing more after its request).
 * Woken at once by the close, so a client that gives up stops being counted before it could
 * open its next connection. */
static bool
client_stays(int fd, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN | POLLRDHUP};
    if (poll(&p, 1, ms) <= 0)
        return true;
    char c;
    return recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

/* Answer nothing for up to ms, or until the client gives up; counted while it waits. */
static void
hang(http_responder *r, int fd, long ms)
{
    int now = atomic_fetch_add(&r->hanging, 1) + 1;
    for (int most = atomic_load(&r->most_hanging);
         now > most && !atomic_compare_exchange_weak(&r->most_hanging, &most, now);)
        ;
    for (long waited = 0; waited < ms && !atomic_load(&r->stopping) && client_stays(fd, 20);
         waited += 20)
        ;
    atomic_fetch_sub(&r->hanging, 1);
}

int
http_responder_most_hanging(http_responder *r)
{
    return atomic_load(&r->most_hanging);
}

static void
serve(http_responder *r, int fd)
{
    char req[8192], path[256] = "";
    size_t len = read_request(fd, req, sizeof req);
    pthread_mutex_lock(&r->lock);
    memcpy(r->last, req, len + 1);
    pthread_mutex_unlock(&r->lock);
    sscanf(req, "%*s %255s", path);
    long arg = 0;
    if (sscanf(path, "/status/%ld", &arg) == 1) {
        char body[32];
        int n = snprintf(body, sizeof body, "status %ld", arg);
        respond(fd, (int)arg, body, (size_t)n);
    } else if (sscanf(path, "/big/%ld", &arg) == 1) {
        char *body = malloc((size_t)arg + 1);
        memset(body, 'x', (size_t)arg);
        respond(fd, 200, body, (size_t)arg);
        free(body);
    } else if (sscanf(path, "/hang/%ld", &arg) == 1) {
        hang(r, fd, arg);
    } else if (strcmp(path, "/echo") == 0 || strncmp(path, "/echo/", 6) == 0) {
        respond(fd, 200, req, len);
    } else {
        respond(fd, 404, "not found", 9);
    }
}

static void *
conn_main(void *arg)
{
    conn *c = arg;
    serve(c->r, c->fd);
    close(c->fd);
    atomic_fetch_sub(&c->r->active, 1);
    free(c);
    return NULL;
}

static void *
accept_main(void *arg)
{
    http_responder *r = arg;
    for (;;) {
        int fd = accept(r->listen_fd, NULL, NULL);
        if (fd < 0 || atomic_load(&r->stopping)) {
            if (fd >= 0)
                close(fd);
            return NULL;
        }
        conn *c = malloc(sizeof *c);
        c->r = r;
        c->fd = fd;
        atomic_fetch_add(&r->active, 1);
        pthread_t t;
        if (pthread_create(&t, NULL, conn_main, c) == 0)
            pthread_detach(t);
        else
            conn_main(c);
    }
}

http_responder *
http_responder_start(void)
{
    http_responder *r = calloc(1, sizeof *r);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    r->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    if (r->listen_fd < 0 || bind(r->listen_fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(r->listen_fd, 64) != 0 ||
        getsockname(r->listen_fd, (struct sockaddr *)&a, &alen) != 0) {
        free(r);
        return NULL;
    }
    r->port = ntohs(a.sin_port);
    pthread_mutex_init(&r->lock, NULL);
    if (pthread_create(&r->accept_thread, NULL, accept_main, r) != 0) {
        close(r->listen_fd);
        free(r);
        return NULL;
    }
    return r;
}

void
http_responder_stop(http_responder *r)
{
    atomic_store(&r->stopping, true);
    shutdown(r->listen_fd, SHUT_RDWR); /* wakes accept() */
    pthread_join(r->accept_thread, NULL);
    close(r->listen_fd);
    while (atomic_load(&r->active) > 0)
        sleep_ms(5);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

int
http_responder_port(const http_responder *r)
{
    return r->port;
}

void
http_responder_url(const http_responder *r, const char *path, char *out, size_t cap)
{
    snprintf(out, cap, "http://127.0.0.1:%d%s", r->port, path);
}

void
http_responder_last_request(http_responder *r, char *out, size_t cap)
{
    pthread_mutex_lock(&r->lock);
    snprintf(out, cap, "%s", r->last);
    pthread_mutex_unlock(&r->lock);
}
