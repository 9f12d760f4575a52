/*
 * Unit tests for the remote-write sender against a scripted loopback receiver: the retry
 * policy (5xx and 429 retried, Retry-After honoured, other 4xx dropped and counted), the 1.0
 * headers and auth on the wire, the queue bound while the receiver is down, and the flush on
 * stop. Bodies are decoded with libsnappy and the protobuf-c code from proto/prompb.proto.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <math.h>
#include <pthread.h>
#include <snappy-c.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "prompb.pb-c.h"
#include "script_responder.h"
#include "slawatch/http_client.h"
#include "slawatch/rw_send.h"

static const sw_rw_label labels[] = {{"service", "api"}, {"__name__", "x_total"}};

typedef struct events {
    pthread_mutex_t lock;
    size_t count[4];
    char rejected_body[SW_RW_SEND_BODY_EXCERPT + 1];
} events;

static void
on_event(void *ctx, const sw_rw_send_event *ev)
{
    events *e = ctx;
    pthread_mutex_lock(&e->lock);
    e->count[ev->kind]++;
    if (ev->kind == SW_RW_SEND_REJECTED)
        snprintf(e->rejected_body, sizeof e->rejected_body, "%s", ev->detail);
    pthread_mutex_unlock(&e->lock);
}

static sw_rw_send_config
config(const char *url, events *ev)
{
    return (sw_rw_send_config){.url = url,
                               .timeout_ms = 5000,
                               .capacity = 100,
                               .max_samples_per_send = 100,
                               .batch_send_deadline_ms = 50,
                               .min_backoff_ms = 10,
                               .max_backoff_ms = 40,
                               .flush_deadline_ms = 2000,
                               .seed = 7,
                               .on_event = on_event,
                               .event_ctx = ev};
}

static void
sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Wait (bounded: 15 s) until the responder has answered n requests. */
static void
wait_requests(script_responder *r, size_t n)
{
    for (int i = 0; i < 1500 && script_responder_count(r) < n; i++)
        sleep_ms(10);
    assert_int_equal(script_responder_count(r), n);
}

static const sw_rw_series *
series_of(sw_rw_send *s)
{
    const sw_rw_series *series;
    assert_int_equal(sw_rw_send_series(s, labels, 2, &series, NULL), SW_OK);
    return series;
}

static void
push(sw_rw_send *s, int64_t ts, double value)
{
    sw_rw_sample sample = {series_of(s), ts, value, NULL};
    assert_int_equal(sw_rw_send_push(s, &sample, NULL), SW_OK);
}

/* The decoded body of request i: its float samples' values in order into values. */
static size_t
body_values(const script_request *q, double *values, size_t cap)
{
    size_t len;
    assert_int_equal(snappy_uncompressed_length((const char *)q->body, q->body_len, &len),
                     SNAPPY_OK);
    char *raw = malloc(len + 1);
    assert_int_equal(snappy_uncompress((const char *)q->body, q->body_len, raw, &len), SNAPPY_OK);
    Prometheus__WriteRequest *wr = prometheus__write_request__unpack(NULL, len, (uint8_t *)raw);
    free(raw);
    assert_non_null(wr);
    size_t n = 0;
    for (size_t t = 0; t < wr->n_timeseries; t++)
        for (size_t i = 0; i < wr->timeseries[t]->n_samples && n < cap; i++)
            values[n++] = wr->timeseries[t]->samples[i]->value;
    prometheus__write_request__free_unpacked(wr, NULL);
    return n;
}

static void
test_judge(void **state)
{
    (void)state;
    const struct {
        long status;
        sw_rw_send_verdict want;
    } cases[] = {{200, SW_RW_SEND_DELIVERED}, {204, SW_RW_SEND_DELIVERED}, {0, SW_RW_SEND_RETRY},
                 {429, SW_RW_SEND_RETRY},     {500, SW_RW_SEND_RETRY},     {503, SW_RW_SEND_RETRY},
                 {599, SW_RW_SEND_RETRY},     {400, SW_RW_SEND_DROP},      {401, SW_RW_SEND_DROP},
                 {404, SW_RW_SEND_DROP},      {413, SW_RW_SEND_DROP},      {302, SW_RW_SEND_DROP}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(sw_rw_send_judge(cases[i].status), cases[i].want);
}

static void
test_backoff(void **state)
{
    (void)state;
    sw_rw_send_config c = {.min_backoff_ms = 30, .max_backoff_ms = 5000};
    uint64_t rng = 1;
    for (unsigned attempt = 0; attempt < 40; attempt++) {
        /* 30, 60, 120 ... doubling, capped at 5000; jitter keeps the upper half. */
        double whole = 30 * pow(2, attempt < 20 ? attempt : 20);
        if (whole > 5000)
            whole = 5000;
        for (int k = 0; k < 50; k++) {
            int64_t w = sw_rw_send_backoff_ms(&c, attempt, 0, &rng);
            assert_true(w >= (int64_t)(whole / 2) && w <= (int64_t)whole);
        }
    }
    /* Jitter: not every draw alike. */
    int64_t first = sw_rw_send_backoff_ms(&c, 6, 0, &rng), differ = 0;
    for (int k = 0; k < 20; k++)
        differ += sw_rw_send_backoff_ms(&c, 6, 0, &rng) != first;
    assert_true(differ > 0);
    assert_int_equal(sw_rw_send_backoff_ms(&c, 0, 2, &rng), 2000);
    assert_int_equal(sw_rw_send_backoff_ms(&c, 3, 100000, &rng), SW_RW_SEND_RETRY_AFTER_MAX_MS);
}

static void
test_retry_then_drop_then_deliver(void **state)
{
    (void)state;
    const script_step steps[] = {{500, NULL, "try later"},
                                 {429, "Retry-After: 1", "slow down"},
                                 {400, NULL, "out of order sample"}};
    script_responder *r = script_responder_start(steps, 3);
    assert_non_null(r);
    char url[128];
    script_responder_url(r, url, sizeof url);
    events ev = {.lock = PTHREAD_MUTEX_INITIALIZER};
    sw_rw_send_config c = config(url, &ev);
    const char *headers[] = {"X-Scope-OrgID: team-a"};
    c.headers = headers;
    c.n_headers = 1;
    c.basic_user = "u";
    c.basic_password = "p";
    sw_rw_send *s;
    assert_int_equal(sw_rw_send_new(&c, &s, NULL), SW_OK);
    push(s, 1000, 3);
    push(s, 2000, 4);
    wait_requests(r, 3);
    sleep_ms(100); /* the 400's answer is counted just after it is read */
    sw_rw_send_stats st;
    sw_rw_send_stats_get(s, &st);
    assert_int_equal(st.sent, 0);
    assert_int_equal(st.failed, 2);
    assert_int_equal(st.retried, 4); /* two samples, sent again twice */
    assert_int_equal(st.dropped, 0);
    assert_int_equal(st.last_send_ms, 0);
    push(s, 3000, 5);
    wait_requests(r, 4);
    sleep_ms(100);
    sw_rw_send_stats_get(s, &st);
    assert_int_equal(st.sent, 1);
    assert_true(st.last_send_ms > 0);
    pthread_mutex_lock(&ev.lock);
    assert_int_equal(ev.count[SW_RW_SEND_RETRYING], 2);
    assert_int_equal(ev.count[SW_RW_SEND_REJECTED], 1);
    assert_string_equal(ev.rejected_body, "out of order sample");
    pthread_mutex_unlock(&ev.lock);

    for (size_t i = 0; i < 4; i++) {
        const script_request *q = script_responder_request(r, i);
        assert_non_null(strstr(q->head, "POST /api/v1/write HTTP/1.1\r\n"));
        assert_non_null(strstr(q->head, "\r\nContent-Encoding: snappy\r\n"));
        assert_non_null(strstr(q->head, "\r\nContent-Type: application/x-protobuf\r\n"));
        assert_non_null(strstr(q->head, "\r\nX-Prometheus-Remote-Write-Version: 0.1.0\r\n"));
        assert_non_null(strstr(q->head, "\r\nUser-Agent: slawatch/"));
        assert_non_null(strstr(q->head, "\r\nX-Scope-OrgID: team-a\r\n"));
        assert_non_null(strstr(q->head, "\r\nAuthorization: Basic dTpw\r\n")); /* "u:p" */
    }
    /* The same batch each time until the 400; the new sample alone after it. */
    double v[8];
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(body_values(script_responder_request(r, i), v, 8), 2);
        assert_true(v[0] == 3 && v[1] == 4);
    }
    assert_int_equal(body_values(script_responder_request(r, 3), v, 8), 1);
    assert_true(v[0] == 5);
    /* Retry-After: 1 was honoured between the 429 and the next try. */
    assert_true(script_responder_request(r, 2)->at_ms - script_responder_request(r, 1)->at_ms >=
                900);
    sw_rw_send_free(s);
    script_responder_stop(r);
}

/* A port nothing listens on: bound, then closed. */
static int
dead_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static void
test_receiver_down_bounded(void **state)
{
    (void)state;
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/api/v1/write", dead_port());
    events ev = {.lock = PTHREAD_MUTEX_INITIALIZER};
    sw_rw_send_config c = config(url, &ev);
    c.capacity = 5;
    c.max_samples_per_send = 2;
    c.batch_send_deadline_ms = 1;
    c.flush_deadline_ms = 0;
    sw_rw_send *s;
    assert_int_equal(sw_rw_send_new(&c, &s, NULL), SW_OK);
    for (int64_t ts = 1; ts <= 200; ts++)
        push(s, ts, (double)ts);
    sw_rw_send_stats st;
    sw_rw_send_stats_get(s, &st);
    assert_true(st.queued <= 5);
    /* At most one batch is outside the queue, in flight. */
    assert_true(st.dropped >= 200 - 5 - 2);
    assert_int_equal(st.sent, 0);
    sw_rw_send_free(s);
}

static void
test_flush_on_stop(void **state)
{
    (void)state;
    script_responder *r = script_responder_start(NULL, 0);
    assert_non_null(r);
    char url[128];
    script_responder_url(r, url, sizeof url);
    events ev = {.lock = PTHREAD_MUTEX_INITIALIZER};
    sw_rw_send_config c = config(url, &ev);
    c.batch_send_deadline_ms = 60000; /* only the stop sends them */
    sw_rw_send *s;
    assert_int_equal(sw_rw_send_new(&c, &s, NULL), SW_OK);
    push(s, 10, 1);
    push(s, 20, 2);
    push(s, 30, 3);
    /* Not after the last one of its series: refused, so the receiver never sees it. */
    sw_rw_sample late = {series_of(s), 30, 9, NULL};
    sw_err err;
    assert_int_equal(sw_rw_send_push(s, &late, &err), SW_E_RANGE);
    sw_rw_send_free(s);
    assert_int_equal(script_responder_count(r), 1);
    double v[8];
    assert_int_equal(body_values(script_responder_request(r, 0), v, 8), 3);
    assert_true(v[0] == 1 && v[1] == 2 && v[2] == 3);
    script_responder_stop(r);
}

static void
test_bad_config(void **state)
{
    (void)state;
    events ev = {.lock = PTHREAD_MUTEX_INITIALIZER};
    sw_rw_send *s = NULL;
    sw_rw_send_config c = config("ftp://x/", &ev);
    assert_int_equal(sw_rw_send_new(&c, &s, NULL), SW_E_INVAL);
    c = config("http://127.0.0.1:1/", &ev);
    c.max_backoff_ms = 5;
    assert_int_equal(sw_rw_send_new(&c, &s, NULL), SW_E_INVAL);
    c = config("http://127.0.0.1:1/", &ev);
    c.basic_user = "u";
    assert_int_equal(sw_rw_send_new(&c, &s, NULL), SW_E_INVAL);
    assert_null(s);
}

static int
global_setup(void **state)
{
    (void)state;
    return sw_http_client_global_init(NULL) == SW_OK ? 0 : -1;
}

static int
global_teardown(void **state)
{
    (void)state;
    sw_http_client_global_cleanup();
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_judge),
        cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_retry_then_drop_then_deliver),
        cmocka_unit_test(test_receiver_down_bounded),
        cmocka_unit_test(test_flush_on_stop),
        cmocka_unit_test(test_bad_config),
    };
    return cmocka_run_group_tests(tests, global_setup, global_teardown);
}
