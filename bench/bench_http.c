/*
 * A trivial gate-shaped endpoint for load tests of core/http with wrk:
 *
 *     ninja -C build bench/bench_http && build/bench/bench_http 127.0.0.1:9464 30 [threads] &
 *     wrk -t2 -c32 -d5s --latency 'http://127.0.0.1:9464/api/v1/gate?service=api&env=green'
 *
 * Serves for the given seconds (default 30) on the given number of threads (default: the
 * server default), then stops. Prints "listening port N".
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "slawatch/http.h"
#include "slawatch/http_query.h"
#include "slawatch/json.h"

static void
gate(void *ctx, const sw_http_request *req, sw_http_response *resp)
{
    (void)ctx;
    char service[64];
    if (sw_http_query_get(req->query, "service", service, sizeof service) !=
        SW_HTTP_QUERY_FOUND) {
        sw_http_response_error(resp, 400, "service is required");
        return;
    }
    sw_buf_printf(&resp->body, NULL, "{\"service\":");
    sw_json_put_string(&resp->body, service, NULL);
    sw_buf_printf(&resp->body, NULL, ",\"verdict\":\"pass\"}\n");
}

int
main(int argc, char **argv)
{
    static const sw_http_route routes[] = {{"GET", "/api/v1/gate", gate, false}};
    sw_http_options o = {.listen = argc > 1 ? argv[1] : "127.0.0.1:0"};
    unsigned seconds = argc > 2 ? (unsigned)atoi(argv[2]) : 30;
    o.threads = argc > 3 ? (unsigned)atoi(argv[3]) : 0;
    sw_http_server *srv;
    sw_err err = {0};
    if (sw_http_start(&o, routes, 1, NULL, &srv, &err) != SW_OK) {
        fprintf(stderr, "bench_http: %s\n", err.msg);
        return 1;
    }
    printf("listening port %u\n", sw_http_port(srv));
    fflush(stdout);
    sleep(seconds);
    sw_http_stop(srv);
    return 0;
}
