/*
 * The scripted loopback responder (script_responder.h). The serving thread owns the sockets;
 * the request log is appended under the lock and read by the test.
 */
#define _GNU_SOURCE /* strcasestr */
#include "script_responder.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LOG_MAX 64

struct script_responder {
    int fd, port;
    pthread_t thread;
    atomic_bool stopping;
    script_step steps[SCRIPT_MAX];
    size_t n_steps;
    pthread_mutex_t lock;
    script_request log[LOG_MAX];
    size_t n_log;
};

static int64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Headers then a Content-Length body into req; false when the peer went away. */
static bool
read_request(int fd, script_request *req)
{
    static char buf[1 << 20];
    size_t len = 0, body = 0;
    char *end = NULL;
    while (len < sizeof buf - 1) {
        ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
        if (n <= 0)
            return false;
        len += (size_t)n;
        buf[len] = '\0';
        if (end == NULL && (end = strstr(buf, "\r\n\r\n")) != NULL) {
            const char *cl = strcasestr(buf, "\r\ncontent-length:");
            body = cl != NULL && cl < end ? strtoul(cl + 17, NULL, 10) : 0;
        }
        if (end != NULL && len >= (size_t)(end + 4 - buf) + body)
            break;
    }
    size_t head = (size_t)(end + 4 - buf);
    snprintf(req->head, sizeof req->head, "%.*s", (int)head, buf);
    req->body = malloc(body + 1);
    memcpy(req->body, buf + head, body);
    req->body_len = body;
    req->at_ms = now_ms();
    return true;
}

static void
answer(script_responder *r, int fd, size_t i)
{
    script_step s = i < r->n_steps ? r->steps[i] : (script_step){204, NULL, NULL};
    const char *body = s.body != NULL ? s.body : "";
    char out[2048];
    int n = snprintf(out, sizeof out,
                     "HTTP/1.1 %d Scripted\r\nContent-Length: %zu\r\nConnection: close\r\n%s%s"
                     "\r\n%s",
                     s.status, strlen(body), s.header != NULL ? s.header : "",
                     s.header != NULL ? "\r\n" : "", body);
    if (write(fd, out, (size_t)n) < 0)
        perror("script_responder: write");
}

static void *
serve(void *arg)
{
    script_responder *r = arg;
    while (!atomic_load(&r->stopping)) {
        struct pollfd p = {r->fd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0)
            continue;
        int c = accept(r->fd, NULL, NULL);
        if (c < 0)
            continue;
        script_request req;
        pthread_mutex_lock(&r->lock);
        size_t i = r->n_log;
        pthread_mutex_unlock(&r->lock);
        if (i < LOG_MAX && read_request(c, &req)) {
            /* Logged before the answer: a client that has its answer finds its request logged. */
            pthread_mutex_lock(&r->lock);
            r->log[r->n_log++] = req;
            pthread_mutex_unlock(&r->lock);
            answer(r, c, i);
        }
        close(c);
    }
    return NULL;
}

script_responder *
script_responder_start(const script_step *steps, size_t n)
{
    script_responder *r = calloc(1, sizeof *r);
    if (r == NULL || n > SCRIPT_MAX)
        return NULL;
    if (n > 0)
        memcpy(r->steps, steps, n * sizeof *steps);
    r->n_steps = n;
    pthread_mutex_init(&r->lock, NULL);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    r->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (r->fd < 0 || bind(r->fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(r->fd, 16) != 0 ||
        getsockname(r->fd, (struct sockaddr *)&a, &alen) != 0 ||
        pthread_create(&r->thread, NULL, serve, r) != 0) {
        free(r);
        return NULL;
    }
    r->port = ntohs(a.sin_port);
    return r;
}

void
script_responder_stop(script_responder *r)
{
    atomic_store(&r->stopping, true);
    pthread_join(r->thread, NULL);
    close(r->fd);
    for (size_t i = 0; i < r->n_log; i++)
        free(r->log[i].body);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

void
script_responder_url(const script_responder *r, char *out, size_t cap)
{
    snprintf(out, cap, "http://127.0.0.1:%d/api/v1/write", r->port);
}

size_t
script_responder_count(script_responder *r)
{
    pthread_mutex_lock(&r->lock);
    size_t n = r->n_log;
    pthread_mutex_unlock(&r->lock);
    return n;
}

const script_request *
script_responder_request(script_responder *r, size_t i)
{
    pthread_mutex_lock(&r->lock);
    const script_request *q = i < r->n_log ? &r->log[i] : NULL;
    pthread_mutex_unlock(&r->lock);
    return q;
}
