/*
 * Stopping core/http's server while clients keep connecting. libmicrohttpd's quiesce of an
 * epoll thread pool races its workers' own removal of the listening socket and aborts the
 * process ("Failed to remove listen FD from epoll set"): before the server turned new
 * connections away itself, a thousand stops under a stream of connections hit it in most runs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "slawatch/http.h"

#define CYCLES 1000
#define CLIENTS 3

static atomic_int current_port; /* 0 between servers */
static atomic_bool clients_done;
static atomic_long answers;

static void
answer_ok(void *ctx, const sw_http_request *req, sw_http_response *resp)
{
    (void)ctx;
    (void)req;
    (void)resp;
}

static const sw_http_route routes[] = {{.method = "GET", .path = "/x", .handler = answer_ok}};

/* One request a connection, as fast as the server takes them, on whichever server is up. */
static void *
connect_in_a_loop(void *arg)
{
    (void)arg;
    static const char request[] = "GET /x HTTP/1.1\r\nHost: t\r\n\r\n";
    char reply[512];
    while (!atomic_load(&clients_done)) {
        int port = atomic_load(&current_port);
        if (port == 0)
            continue;
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (fd >= 0 && connect(fd, (const struct sockaddr *)&sa, sizeof sa) == 0 &&
            write(fd, request, sizeof request - 1) == (ssize_t)(sizeof request - 1) &&
            read(fd, reply, sizeof reply) > 0)
            atomic_fetch_add(&answers, 1);
        if (fd >= 0)
            close(fd);
    }
    return NULL;
}

static void
test_stop_while_clients_connect(void **state)
{
    (void)state;
    pthread_t clients[CLIENTS];
    for (int i = 0; i < CLIENTS; i++)
        assert_int_equal(pthread_create(&clients[i], NULL, connect_in_a_loop, NULL), 0);
    for (int cycle = 0; cycle < CYCLES; cycle++) {
        sw_http_options o = {.listen = "127.0.0.1:0", .threads = 8, .timeout_s = 1};
        sw_http_server *srv = NULL;
        sw_err err = {0};
        if (sw_http_start(&o, routes, 1, NULL, &srv, &err) != SW_OK)
            fail_msg("cycle %d: sw_http_start: %s", cycle, err.msg);
        atomic_store(&current_port, sw_http_port(srv));
        nanosleep(&(struct timespec){0, 3 * 1000 * 1000}, NULL);
        sw_http_stop(srv);
        atomic_store(&current_port, 0);
    }
    atomic_store(&clients_done, true);
    for (int i = 0; i < CLIENTS; i++)
        pthread_join(clients[i], NULL);
    /* The servers were answering while they were stopped, or the race was never reached. */
    assert_true(atomic_load(&answers) > CYCLES);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stop_while_clients_connect),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
