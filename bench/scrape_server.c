/*
 * The scrape benchmark's target: one epoll loop on 127.0.0.1 answering every GET, whatever the
 * path, with the same generated text exposition (keep-alive, HTTP/1.1). C so that the server
 * is never what limits or disturbs the measurement of the scraper.
 *
 * Usage: scrape_server PORT SERIES   (prints "ready BYTES" once listening)
 * The exposition: SERIES/2 counter series bench_requests_total{route, code} and the rest in
 * classic histograms bench_duration_seconds{route} of 8 buckets + _sum + _count (10 series).
 */
#define _GNU_SOURCE /* memmem, accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_REQUEST 8192

typedef struct conn {
    int fd;
    char in[MAX_REQUEST];
    size_t in_len;
    size_t out_off; /* bytes of the response sent; 0 when idle */
    int sending;
} conn;

static char *response;
static size_t response_len;

__attribute__((format(printf, 4, 5))) static void
append(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < *cap - *len) {
            *len += (size_t)n;
            return;
        }
        *cap *= 2;
        if ((*buf = realloc(*buf, *cap)) == NULL) {
            perror("realloc");
            exit(1);
        }
    }
}

static void
build_response(int series)
{
    static const char *const le[] = {"0.005", "0.01", "0.025", "0.05", "0.1", "0.5", "1", "+Inf"};
    size_t cap = 1 << 16, len = 0;
    char *body = malloc(cap);
    int counters = series / 2, hists = (series - counters) / 10;
    append(&body, &len, &cap, "# TYPE bench_requests_total counter\n");
    for (int i = 0; i < counters; i++)
        append(&body, &len, &cap, "bench_requests_total{route=\"/api/r%d\",code=\"%s\"} %d\n",
               i / 2, i % 2 ? "500" : "200", 1000 + i * 7);
    append(&body, &len, &cap, "# TYPE bench_duration_seconds histogram\n");
    for (int h = 0; h < hists; h++) {
        for (int b = 0; b < 8; b++)
            append(&body, &len, &cap, "bench_duration_seconds_bucket{route=\"/api/r%d\",le=\"%s\"} %d\n",
                   h, le[b], 100 * (b + 1) + h);
        append(&body, &len, &cap, "bench_duration_seconds_sum{route=\"/api/r%d\"} %d.25\n", h,
               40 + h);
        append(&body, &len, &cap, "bench_duration_seconds_count{route=\"/api/r%d\"} %d\n", h,
               800 + h);
    }
    size_t rcap = len + 256;
    response = malloc(rcap);
    response_len = (size_t)snprintf(response, rcap,
                                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
                                    "Content-Length: %zu\r\n\r\n",
                                    len);
    memcpy(response + response_len, body, len);
    response_len += len;
    free(body);
}

static int
listen_on(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 4096) != 0) {
        perror("listen");
        exit(1);
    }
    return fd;
}

static void
close_conn(conn *c)
{
    close(c->fd);
    free(c);
}

/* Send what the socket takes; returns 0 when done or waiting, -1 when the peer went away. */
static int
flush_out(int ep, conn *c)
{
    while (c->out_off < response_len) {
        ssize_t n = send(c->fd, response + c->out_off, response_len - c->out_off, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
            epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
            return 0;
        }
        if (n <= 0)
            return -1;
        c->out_off += (size_t)n;
    }
    c->out_off = 0;
    c->sending = 0;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
    return 0;
}

/* Read requests; answer each complete one (headers only: GETs carry no body). */
static int
on_readable(int ep, conn *c)
{
    for (;;) {
        if (c->in_len == sizeof c->in)
            return -1;
        ssize_t n = recv(c->fd, c->in + c->in_len, sizeof c->in - c->in_len, 0);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (n <= 0)
            return -1;
        c->in_len += (size_t)n;
        char *end;
        while (!c->sending && (end = memmem(c->in, c->in_len, "\r\n\r\n", 4)) != NULL) {
            size_t used = (size_t)(end + 4 - c->in);
            memmove(c->in, c->in + used, c->in_len - used);
            c->in_len -= used;
            c->sending = 1;
            if (flush_out(ep, c) != 0)
                return -1;
        }
    }
}

static void
accept_all(int ep, int lfd)
{
    int fd;
    while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
        conn *c = calloc(1, sizeof *c);
        c->fd = fd;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    }
}

int
main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: scrape_server PORT SERIES\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    build_response(atoi(argv[2]));
    int lfd = listen_on(atoi(argv[1])), ep = epoll_create1(0);
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);
    printf("ready %zu\n", response_len);
    fflush(stdout);
    struct epoll_event evs[256];
    for (;;) {
        int n = epoll_wait(ep, evs, 256, -1);
        for (int i = 0; i < n; i++) {
            conn *c = evs[i].data.ptr;
            if (c == NULL) {
                accept_all(ep, lfd);
                continue;
            }
            int rc = (evs[i].events & EPOLLOUT) && c->sending ? flush_out(ep, c) : 0;
            if (rc == 0 && (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                rc = on_readable(ep, c);
            if (rc != 0)
                close_conn(c);
        }
    }
}
