/*
 * Tests for core/http over loopback with libcurl as the client: routing, 404/405, queries,
 * bodies and their cap (declared and chunked), header cap, bearer auth, concurrency, a
 * stalled client, keep-alive and TLS. Each test starts its own server on 127.0.0.1:0.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "slawatch/http.h"
#include "slawatch/http_query.h"

#define TOKEN "s3cret-token-0123"
#define MAX_BODY ((size_t)64 << 10)

/* --- handlers ------------------------------------------------------------------------------ */

static void
h_hello(void *ctx, const sw_http_request *req, sw_http_response *resp)
{
    (void)ctx;
    (void)req;
    resp->content_type = "text/plain";
    sw_buf_append(&resp->body, "hello", 5, NULL);
}

/* A browser route: says what its own token check finds. */
static void
h_page(void *ctx, const sw_http_request *req, sw_http_response *resp)
{
    (void)ctx;
    resp->content_type = "text/plain";
    sw_buf_printf(&resp->body, NULL, "required=%d header=%d right=%d wrong=%d",
                  sw_http_token_required(req), sw_http_token_matches(req, NULL, 0),
                  sw_http_token_matches(req, TOKEN, strlen(TOKEN)),
                  sw_http_token_matches(req, TOKEN "x", strlen(TOKEN) + 1));
}

static void
h_echo(void *ctx, const sw_http_request *req, sw_http_response *resp)
{
    (void)ctx;
    resp->content_type = "application/octet-stream";
    sw_buf_append(&resp->body, req->body, req->body_len, NULL);
}

static void
h_query(void *ctx, const sw_http_request *req, sw_http_response *resp)
{
    (void)ctx;
    char service[32];
    switch (sw_http_query_get(req->query, "service", service, sizeof service)) {
    case SW_HTTP_QUERY_FOUND:
        sw_buf_printf(&resp->body, NULL, "[%s]", service);
        break;
    case SW_HTTP_QUERY_ABSENT:
        sw_http_response_error(resp, 400, "service is required");
        break;
    case SW_HTTP_QUERY_MALFORMED:
        sw_http_response_error(resp, 400, "service is malformed");
        break;
    }
}

/* Reports what the server saw, for header and remote checks. */
static void
h_info(void *ctx, const sw_http_request *req, sw_http_response *resp)
{
    (void)ctx;
    sw_buf_printf(&resp->body, NULL, "%s|%s|%s|%s|%s", req->method, req->path,
                  req->user_agent ? req->user_agent : "-", req->accept ? req->accept : "-",
                  req->remote);
}

static void
h_busy(void *ctx, const sw_http_request *req, sw_http_response *resp)
{
    (void)ctx;
    (void)req;
    sw_http_response_header(resp, "Retry-After", "%d", 30);
    sw_http_response_error(resp, 503, "busy \"now\"\n");
}

static void
h_bad_status(void *ctx, const sw_http_request *req, sw_http_response *resp)
{
    (void)ctx;
    (void)req;
    resp->status = 0;
}

static void
h_sleep(void *ctx, const sw_http_request *req, sw_http_response *resp)
{
    (void)ctx;
    (void)req;
    nanosleep(&(struct timespec){0, 300 * 1000 * 1000}, NULL);
    sw_buf_append(&resp->body, "slept", 5, NULL);
}

/* A heavy handler that holds its worker until the test opens the gate. */
static pthread_mutex_t heavy_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t heavy_cond = PTHREAD_COND_INITIALIZER;
static bool heavy_open;
static int heavy_entered;

static void
h_heavy(void *ctx, const sw_http_request *req, sw_http_response *resp)
{
    (void)ctx;
    (void)req;
    pthread_mutex_lock(&heavy_lock);
    heavy_entered++;
    while (!heavy_open)
        pthread_cond_wait(&heavy_cond, &heavy_lock);
    pthread_mutex_unlock(&heavy_lock);
    sw_buf_append(&resp->body, "heavy done", 10, NULL);
}

/* A body the handler does not own, larger than the response cap (16 MiB by default): served
 * whole, without a copy, and released once after it is sent. */
#define SHARED_LEN (((size_t)16 << 20) + 4096)
static char *shared_body;
static atomic_int shared_released;

static void
release_shared(void *ctx)
{
    assert_ptr_equal(ctx, shared_body);
    atomic_fetch_add(&shared_released, 1);
}

static void
h_shared(void *ctx, const sw_http_request *req, sw_http_response *resp)
{
    (void)ctx;
    (void)req;
    resp->content_type = "text/plain";
    sw_http_response_share(resp, shared_body, SHARED_LEN, release_shared, shared_body);
}

static const sw_http_route routes[] = {
    {"GET", "/sleep", h_sleep, false, false, false},
    {"GET", "/hello", h_hello, false, false, false},
    {"POST", "/echo", h_echo, false, false, false},
    {"PUT", "/echo", h_echo, false, false, false},
    {"GET", "/q", h_query, false, false, false},
    {"GET", "/info", h_info, false, false, false},
    {"GET", "/busy", h_busy, false, false, false},
    {"GET", "/bad", h_bad_status, false, false, false},
    {"GET", "/secret", h_hello, true, false, false},
    {"GET", "/heavy", h_heavy, false, true, false},
    {"GET", "/shared", h_shared, false, false, false},
    {"GET", "/page", h_page, true, false, true}, /* checks the token itself */
};
#define N_ROUTES (sizeof routes / sizeof routes[0])

/* --- client -------------------------------------------------------------------------------- */

typedef struct reply {
    long status;
    CURLcode code;
    sw_buf body;
    char allow[128], www_auth[128], retry_after[32], content_type[64];
} reply;

static size_t
on_body(char *p, size_t size, size_t n, void *ud)
{
    reply *r = ud;
    return sw_buf_append(&r->body, p, size * n, NULL) == SW_OK ? size * n : 0;
}

static void
copy_header(const char *line, size_t n, const char *name, char *out, size_t cap)
{
    size_t nn = strlen(name);
    if (n <= nn + 1 || strncasecmp(line, name, nn) != 0 || line[nn] != ':')
        return;
    const char *v = line + nn + 1;
    while (*v == ' ')
        v++;
    size_t vn = (size_t)(line + n - v);
    while (vn > 0 && (v[vn - 1] == '\r' || v[vn - 1] == '\n'))
        vn--;
    snprintf(out, cap, "%.*s", (int)vn, v);
}

static size_t
on_header(char *p, size_t size, size_t n, void *ud)
{
    reply *r = ud;
    copy_header(p, size * n, "Allow", r->allow, sizeof r->allow);
    copy_header(p, size * n, "WWW-Authenticate", r->www_auth, sizeof r->www_auth);
    copy_header(p, size * n, "Retry-After", r->retry_after, sizeof r->retry_after);
    copy_header(p, size * n, "Content-Type", r->content_type, sizeof r->content_type);
    return size * n;
}

typedef struct call {
    const char *method;
    const char *path;
    const char *auth; /* whole Authorization value, or NULL */
    const void *body; /* NULL: no body */
    size_t body_len;
    bool chunked;
    const char *extra;  /* one more request header line, or NULL */
    const char *cainfo; /* https with this CA when set */
} call;

typedef struct upload {
    const uint8_t *p;
    size_t left;
} upload;

static size_t
on_read(char *out, size_t size, size_t n, void *ud)
{
    upload *u = ud;
    size_t k = size * n < u->left ? size * n : u->left;
    memcpy(out, u->p, k);
    u->p += k;
    u->left -= k;
    return k;
}

static void
setup_call(CURL *h, uint16_t port, const call *c, reply *r, struct curl_slist **hdrs, upload *u)
{
    char url[512];
    snprintf(url, sizeof url, "%s://127.0.0.1:%u%s", c->cainfo ? "https" : "http", port, c->path);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, c->method);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    if (c->cainfo != NULL)
        curl_easy_setopt(h, CURLOPT_CAINFO, c->cainfo);
    char auth[256];
    if (c->auth != NULL) {
        snprintf(auth, sizeof auth, "Authorization: %s", c->auth);
        *hdrs = curl_slist_append(*hdrs, auth);
    }
    if (c->extra != NULL)
        *hdrs = curl_slist_append(*hdrs, c->extra);
    if (c->body != NULL) {
        u->p = c->body;
        u->left = c->body_len;
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(h, CURLOPT_READDATA, u);
        if (c->chunked)
            *hdrs = curl_slist_append(*hdrs, "Transfer-Encoding: chunked");
        else
            curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)c->body_len);
        *hdrs = curl_slist_append(*hdrs, "Expect: 100-continue");
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, *hdrs);
}

/* One request on handle h (reused, so keep-alive applies); r is reset first. */
static void
perform(CURL *h, uint16_t port, const call *c, reply *r)
{
    sw_buf_fini(&r->body);
    memset(r, 0, sizeof *r);
    sw_buf_init(&r->body, (size_t)32 << 20);
    struct curl_slist *hdrs = NULL;
    upload u;
    setup_call(h, port, c, r, &hdrs, &u);
    r->code = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(hdrs);
    sw_buf_cstr(&r->body, NULL);
}

static reply
fetch(uint16_t port, const call *c)
{
    reply r;
    memset(&r, 0, sizeof r);
    CURL *h = curl_easy_init();
    assert_non_null(h);
    perform(h, port, c, &r);
    curl_easy_cleanup(h);
    return r;
}

static const char *
body_str(const reply *r)
{
    return r->body.data ? (const char *)r->body.data : "";
}

/* --- fixture ------------------------------------------------------------------------------- */

typedef struct fixture {
    sw_http_server *srv;
    uint16_t port;
} fixture;

static sw_http_options
base_options(void)
{
    sw_http_options o = {
        .listen = "127.0.0.1:0", .max_body = MAX_BODY, .max_header = 8192, .timeout_s = 1};
    return o;
}

static void
start(fixture *f, const sw_http_options *o)
{
    sw_err err = {0};
    sw_status st = sw_http_start(o, routes, N_ROUTES, NULL, &f->srv, &err);
    if (st != SW_OK)
        fail_msg("sw_http_start: %s", err.msg);
    f->port = sw_http_port(f->srv);
    assert_true(f->port != 0);
}

static int
setup_plain(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    sw_http_options o = base_options();
    start(f, &o);
    *state = f;
    return 0;
}

static int
setup_auth(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    sw_http_options o = base_options();
    o.bearer_token = TOKEN;
    start(f, &o);
    *state = f;
    return 0;
}

static int
setup_auth_all(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    sw_http_options o = base_options();
    o.bearer_token = TOKEN;
    o.auth_all = true;
    start(f, &o);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture *f = *state;
    sw_http_stop(f->srv);
    free(f);
    return 0;
}

static void
assert_reply(const reply *r, long status, const char *body)
{
    assert_int_equal(r->code, CURLE_OK);
    assert_int_equal(r->status, status);
    if (body != NULL)
        assert_string_equal(body_str(r), body);
}

/* --- routing and responses ----------------------------------------------------------------- */

static void
test_route_ok(void **state)
{
    fixture *f = *state;
    reply r = fetch(f->port, &(call){.method = "GET", .path = "/hello"});
    assert_reply(&r, 200, "hello");
    assert_string_equal(r.content_type, "text/plain");
    sw_buf_fini(&r.body);
}

static void
test_shared_body_over_the_cap(void **state)
{
    fixture *f = *state;
    shared_body = malloc(SHARED_LEN);
    assert_non_null(shared_body);
    for (size_t i = 0; i < SHARED_LEN; i++)
        shared_body[i] = (char)('a' + i % 26);
    atomic_store(&shared_released, 0);
    reply r = fetch(f->port, &(call){.method = "GET", .path = "/shared"});
    assert_int_equal(r.code, CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body.len, SHARED_LEN);
    assert_memory_equal(r.body.data, shared_body, SHARED_LEN);
    sw_buf_fini(&r.body);
    /* MHD releases the body when it destroys the response, just after the last byte. */
    for (int i = 0; i < 2000 && atomic_load(&shared_released) == 0; i++)
        nanosleep(&(struct timespec){0, 1000 * 1000}, NULL);
    assert_int_equal(atomic_load(&shared_released), 1);
    free(shared_body);
    shared_body = NULL;
}

static void
test_not_found(void **state)
{
    fixture *f = *state;
    reply r = fetch(f->port, &(call){.method = "GET", .path = "/nope?x=1"});
    assert_reply(&r, 404, "{\"error\":\"no such endpoint\"}\n");
    assert_string_equal(r.content_type, "application/json");
    sw_buf_fini(&r.body);
}

static void
test_method_not_allowed(void **state)
{
    fixture *f = *state;
    reply r = fetch(f->port, &(call){.method = "GET", .path = "/echo"});
    assert_reply(&r, 405, "{\"error\":\"method GET not allowed here\"}\n");
    assert_string_equal(r.allow, "POST, PUT");
    sw_buf_fini(&r.body);
}

static void
test_request_fields(void **state)
{
    fixture *f = *state;
    reply r = fetch(f->port,
                    &(call){.method = "GET", .path = "/info?a=b", .extra = "Accept: text/x-test"});
    assert_int_equal(r.status, 200);
    /* curl sends no User-Agent unless told; the remote is loopback with some port. */
    assert_true(strncmp(body_str(&r), "GET|/info|-|text/x-test|127.0.0.1:", 34) == 0);
    sw_buf_fini(&r.body);
}

static void
test_extra_header_and_escaping(void **state)
{
    fixture *f = *state;
    reply r = fetch(f->port, &(call){.method = "GET", .path = "/busy"});
    assert_reply(&r, 503, "{\"error\":\"busy \\\"now\\\"\\u000a\"}\n");
    assert_string_equal(r.retry_after, "30");
    sw_buf_fini(&r.body);
}

static void
test_bad_handler_status(void **state)
{
    fixture *f = *state;
    reply r = fetch(f->port, &(call){.method = "GET", .path = "/bad"});
    assert_reply(&r, 500, NULL);
    sw_buf_fini(&r.body);
}

static void
test_query(void **state)
{
    fixture *f = *state;
    static const struct {
        const char *path;
        long status;
        const char *body;
    } cases[] = {
        {"/q?service=api", 200, "[api]"},
        {"/q?env=x&service=a%20b+c", 200, "[a b c]"},
        {"/q?service=first&service=second", 200, "[first]"},
        {"/q?service=%zz", 400, "{\"error\":\"service is malformed\"}\n"},
        {"/q", 400, "{\"error\":\"service is required\"}\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        reply r = fetch(f->port, &(call){.method = "GET", .path = cases[i].path});
        assert_reply(&r, cases[i].status, cases[i].body);
        sw_buf_fini(&r.body);
    }
}

/* --- bodies and limits --------------------------------------------------------------------- */

static uint8_t *
pattern(size_t n)
{
    uint8_t *p = malloc(n);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 7 + i / 251);
    return p;
}

static void
test_post_body(void **state)
{
    fixture *f = *state;
    size_t sizes[] = {1, 1000, MAX_BODY};
    for (size_t i = 0; i < 3; i++) {
        for (int chunked = 0; chunked < 2; chunked++) {
            uint8_t *p = pattern(sizes[i]);
            reply r = fetch(f->port, &(call){.method = "POST",
                                             .path = "/echo",
                                             .body = p,
                                             .body_len = sizes[i],
                                             .chunked = chunked});
            assert_reply(&r, 200, NULL);
            assert_int_equal(r.body.len, sizes[i]);
            assert_memory_equal(r.body.data, p, sizes[i]);
            sw_buf_fini(&r.body);
            free(p);
        }
    }
}

static void
test_body_too_large(void **state)
{
    fixture *f = *state;
    for (int chunked = 0; chunked < 2; chunked++) {
        size_t n = MAX_BODY * 3 + 1;
        uint8_t *p = pattern(n);
        reply r = fetch(
            f->port,
            &(call){
                .method = "POST", .path = "/echo", .body = p, .body_len = n, .chunked = chunked});
        assert_reply(&r, 413, "{\"error\":\"request body larger than 65536 bytes\"}\n");
        sw_buf_fini(&r.body);
        free(p);
    }
}

static void
test_headers_too_large(void **state)
{
    fixture *f = *state;
    char *line = malloc(20000);
    memcpy(line, "X-Big: ", 7);
    memset(line + 7, 'a', 20000 - 8);
    line[20000 - 1] = '\0';
    reply r = fetch(f->port, &(call){.method = "GET", .path = "/hello", .extra = line});
    assert_int_equal(r.code, CURLE_OK);
    assert_true(r.status == 431 || r.status == 400);
    sw_buf_fini(&r.body);
    free(line);
    /* The server is still fine. */
    r = fetch(f->port, &(call){.method = "GET", .path = "/hello"});
    assert_reply(&r, 200, "hello");
    sw_buf_fini(&r.body);
}

/* --- auth ---------------------------------------------------------------------------------- */

static void
test_auth(void **state)
{
    fixture *f = *state;
    static const struct {
        const char *path;
        const char *auth;
        long status;
    } cases[] = {
        {"/secret", NULL, 401},
        {"/secret", "Bearer " TOKEN, 200},
        {"/secret", "bearer  " TOKEN, 200},
        {"/secret", "Bearer s3cret-token-0124", 401}, /* same length, last byte differs */
        {"/secret", "Bearer S3cret-token-0123", 401}, /* same length, first byte differs */
        {"/secret", "Bearer " TOKEN "4", 401},        /* longer */
        {"/secret", "Bearer s3cret", 401},            /* a prefix */
        {"/secret", "Bearer ", 401},
        {"/secret", "Basic " TOKEN, 401},
        {"/hello", NULL, 200}, /* not marked needs_auth */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        reply r =
            fetch(f->port, &(call){.method = "GET", .path = cases[i].path, .auth = cases[i].auth});
        assert_reply(&r, cases[i].status, NULL);
        if (r.status == 401) {
            assert_string_equal(r.www_auth, "Bearer realm=\"slawatch\"");
            assert_null(strstr(body_str(&r), "s3cret"));
        }
        sw_buf_fini(&r.body);
    }
    /* A browser route reaches its handler with or without the header, and can check a token
     * it was given (a cookie, a form) against the configured one. */
    reply r = fetch(f->port, &(call){.method = "GET", .path = "/page"});
    assert_reply(&r, 200, "required=1 header=0 right=1 wrong=0");
    sw_buf_fini(&r.body);
    r = fetch(f->port, &(call){.method = "GET", .path = "/page", .auth = "Bearer " TOKEN});
    assert_reply(&r, 200, "required=1 header=1 right=1 wrong=0");
    sw_buf_fini(&r.body);
}

static void
test_auth_all(void **state)
{
    fixture *f = *state;
    static const struct {
        const char *path;
        const char *auth;
        long status;
    } cases[] = {
        {"/hello", NULL, 401},
        {"/hello", "Bearer " TOKEN, 200},
        {"/nope", NULL, 401}, /* unknown paths do not show without the token */
        {"/nope", "Bearer " TOKEN, 404},
        {"/echo", "Bearer wrong", 401},
        /* a browser route is never refused: its handler checks the token itself */
        {"/page", NULL, 200},
        {"/page", "Bearer wrong", 200},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        reply r =
            fetch(f->port, &(call){.method = "GET", .path = cases[i].path, .auth = cases[i].auth});
        assert_reply(&r, cases[i].status, NULL);
        sw_buf_fini(&r.body);
    }
}

/* --- connections --------------------------------------------------------------------------- */

typedef struct worker {
    uint16_t port;
    int ok;
} worker;

static void *
run_worker(void *arg)
{
    worker *w = arg;
    CURL *h = curl_easy_init();
    reply r;
    memset(&r, 0, sizeof r);
    for (int i = 0; i < 50; i++) {
        char path[64];
        snprintf(path, sizeof path, "/q?service=w%d", i);
        perform(h, w->port, &(call){.method = "GET", .path = path}, &r);
        char want[32];
        snprintf(want, sizeof want, "[w%d]", i);
        w->ok += r.code == CURLE_OK && r.status == 200 && strcmp(body_str(&r), want) == 0;
    }
    sw_buf_fini(&r.body);
    curl_easy_cleanup(h);
    return NULL;
}

static void
test_concurrent_clients(void **state)
{
    fixture *f = *state;
    enum { N = 8 };
    pthread_t t[N];
    worker w[N];
    for (int i = 0; i < N; i++) {
        w[i] = (worker){f->port, 0};
        assert_int_equal(pthread_create(&t[i], NULL, run_worker, &w[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].ok, 50);
    }
}

static void
test_keep_alive(void **state)
{
    fixture *f = *state;
    CURL *h = curl_easy_init();
    reply r;
    memset(&r, 0, sizeof r);
    for (int i = 0; i < 5; i++) {
        perform(h, f->port, &(call){.method = "GET", .path = i % 2 ? "/hello" : "/nope"}, &r);
        assert_int_equal(r.status, i % 2 ? 200 : 404);
        long connects = -1;
        curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects);
        assert_int_equal(connects, i == 0 ? 1 : 0);
    }
    sw_buf_fini(&r.body);
    curl_easy_cleanup(h);
}

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
test_slow_client(void **state)
{
    fixture *f = *state; /* timeout_s = 1 */
    int fds[4];
    for (int i = 0; i < 4; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(f->port)};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(connect(fds[i], (struct sockaddr *)&a, sizeof a), 0);
        static const char half[] = "GET /hello HTTP/1.1\r\nHost: x\r\n";
        assert_int_equal(send(fds[i], half, sizeof half - 1, 0), (ssize_t)sizeof half - 1);
    }
    /* Stalled clients pin no thread: others are served at once. */
    double t0 = now_s();
    reply r = fetch(f->port, &(call){.method = "GET", .path = "/hello"});
    assert_reply(&r, 200, "hello");
    sw_buf_fini(&r.body);
    assert_true(now_s() - t0 < 0.5);
    /* And each stalled connection is closed by the server after the timeout. */
    for (int i = 0; i < 4; i++) {
        struct pollfd p = {.fd = fds[i], .events = POLLIN};
        assert_int_equal(poll(&p, 1, 4000), 1);
        char c;
        assert_true(recv(fds[i], &c, 1, 0) <= 0);
        close(fds[i]);
    }
    double waited = now_s() - t0;
    assert_true(waited >= 0.9 && waited < 4.0);
}

static void
test_ipv6(void **state)
{
    (void)state;
    sw_http_options o = base_options();
    o.listen = "[::1]:0";
    sw_http_server *srv = NULL;
    sw_err err = {0};
    if (sw_http_start(&o, routes, N_ROUTES, NULL, &srv, &err) != SW_OK)
        skip(); /* no IPv6 loopback in this environment */
    CURL *h = curl_easy_init();
    char url[64];
    snprintf(url, sizeof url, "http://[::1]:%u/hello", sw_http_port(srv));
    reply r;
    memset(&r, 0, sizeof r);
    sw_buf_init(&r.body, 1024);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
    assert_int_equal(curl_easy_perform(h), CURLE_OK);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
    assert_int_equal(r.status, 200);
    curl_easy_cleanup(h);
    sw_buf_fini(&r.body);
    sw_http_stop(srv);
}

typedef struct pending {
    uint16_t port;
    reply r;
} pending;

static void *
run_sleep(void *arg)
{
    pending *p = arg;
    p->r = fetch(p->port, &(call){.method = "GET", .path = "/sleep"});
    return NULL;
}

static void
test_stop_finishes_in_flight(void **state)
{
    (void)state;
    fixture f;
    sw_http_options o = base_options();
    o.timeout_s = 5;
    start(&f, &o);
    pending p = {.port = f.port};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, run_sleep, &p), 0);
    nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL);
    sw_http_stop(f.srv);
    pthread_join(t, NULL);
    assert_reply(&p.r, 200, "slept");
    sw_buf_fini(&p.r.body);
    sw_http_stop(NULL);
}

static void *
run_heavy_fetch(void *arg)
{
    pending *p = arg;
    p->r = fetch(p->port, &(call){.method = "GET", .path = "/heavy"});
    return NULL;
}

static int
heavy_entered_count(void)
{
    pthread_mutex_lock(&heavy_lock);
    int n = heavy_entered;
    pthread_mutex_unlock(&heavy_lock);
    return n;
}

/*
 * With one pool thread and one heavy worker with one queue place: while a heavy request holds
 * its worker and another waits, a cheap request is still answered, and a third heavy one is
 * refused with 503 and Retry-After instead of waiting.
 */
static void
test_heavy_off_pool(void **state)
{
    (void)state;
    fixture f;
    sw_http_options o = base_options();
    o.threads = 1;
    o.heavy_workers = 1;
    o.heavy_waiting = 1;
    start(&f, &o);
    heavy_open = false;
    heavy_entered = 0;
    pending p[2] = {{.port = f.port}, {.port = f.port}};
    pthread_t t[2];
    for (unsigned k = 0; k < 2; k++) {
        assert_int_equal(pthread_create(&t[k], NULL, run_heavy_fetch, &p[k]), 0);
        for (int i = 0; i < 2000 && sw_http_heavy_busy(f.srv) < k + 1; i++)
            nanosleep(&(struct timespec){0, 5 * 1000 * 1000}, NULL);
        assert_int_equal(sw_http_heavy_busy(f.srv), k + 1);
    }
    for (int i = 0; i < 2000 && heavy_entered_count() == 0; i++)
        nanosleep(&(struct timespec){0, 5 * 1000 * 1000}, NULL);
    assert_int_equal(heavy_entered_count(), 1);

    reply r = fetch(f.port, &(call){.method = "GET", .path = "/hello"});
    assert_reply(&r, 200, "hello");
    sw_buf_fini(&r.body);
    r = fetch(f.port, &(call){.method = "GET", .path = "/heavy"});
    assert_int_equal(r.status, 503);
    assert_string_equal(r.retry_after, "5");
    assert_non_null(strstr(body_str(&r), "busy"));
    sw_buf_fini(&r.body);

    pthread_mutex_lock(&heavy_lock);
    heavy_open = true;
    pthread_cond_broadcast(&heavy_cond);
    pthread_mutex_unlock(&heavy_lock);
    for (unsigned k = 0; k < 2; k++) {
        pthread_join(t[k], NULL);
        assert_reply(&p[k].r, 200, "heavy done");
        sw_buf_fini(&p[k].r.body);
    }
    assert_int_equal(heavy_entered_count(), 2);
    sw_http_stop(f.srv);
}

/* --- options ------------------------------------------------------------------------------- */

static void
test_bad_options(void **state)
{
    (void)state;
    static const struct {
        const char *listen;
        const char *token;
        bool auth_all;
        const char *cert, *key;
        sw_status want;
    } cases[] = {
        {"nonsense", NULL, false, NULL, NULL, SW_E_INVAL},
        {"127.0.0.1", NULL, false, NULL, NULL, SW_E_INVAL},
        {"127.0.0.1:", NULL, false, NULL, NULL, SW_E_INVAL},
        {"127.0.0.1:65536", NULL, false, NULL, NULL, SW_E_INVAL},
        {"127.0.0.1:-1", NULL, false, NULL, NULL, SW_E_INVAL},
        {"localhost:80", NULL, false, NULL, NULL, SW_E_INVAL},
        {"[::1:80", NULL, false, NULL, NULL, SW_E_INVAL},
        {"::1:80", NULL, false, NULL, NULL, SW_E_INVAL},
        {"127.0.0.1:0", NULL, true, NULL, NULL, SW_E_INVAL},
        {"127.0.0.1:0", "", false, NULL, NULL, SW_E_INVAL},
        {"127.0.0.1:0", NULL, false, "/nonexistent/cert.pem", NULL, SW_E_INVAL},
        {"127.0.0.1:0", NULL, false, "/nonexistent/c.pem", "/nonexistent/k.pem", SW_E_IO},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sw_http_options o = {.listen = cases[i].listen,
                             .bearer_token = cases[i].token,
                             .auth_all = cases[i].auth_all,
                             .tls_cert_file = cases[i].cert,
                             .tls_key_file = cases[i].key};
        sw_http_server *srv = NULL;
        sw_err err = {0};
        sw_status st = sw_http_start(&o, routes, N_ROUTES, NULL, &srv, &err);
        if (st == SW_E_UNSUPPORTED && cases[i].cert != NULL)
            continue;
        assert_int_equal(st, cases[i].want);
        assert_int_equal(err.code, st);
        assert_true(err.msg[0] != '\0');
        assert_null(srv);
    }
}

static void
test_port_in_use(void **state)
{
    fixture *f = *state;
    char listen[32];
    snprintf(listen, sizeof listen, "127.0.0.1:%u", f->port);
    sw_http_options o = {.listen = listen};
    sw_http_server *srv = NULL;
    sw_err err = {0};
    assert_int_equal(sw_http_start(&o, routes, N_ROUTES, NULL, &srv, &err), SW_E_IO);
    assert_non_null(strstr(err.msg, listen));
    assert_null(srv);
}

/* --- TLS ----------------------------------------------------------------------------------- */

static void
test_tls(void **state)
{
    (void)state;
    char dir[] = "/tmp/sw_http_tls_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char cmd[512], cert[64], key[64];
    snprintf(cert, sizeof cert, "%s/cert.pem", dir);
    snprintf(key, sizeof key, "%s/key.pem", dir);
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
             "-addext subjectAltName=IP:127.0.0.1 -keyout %s -out %s 2>/dev/null",
             key, cert);
    assert_int_equal(system(cmd), 0);
    sw_http_options o = base_options();
    o.tls_cert_file = cert;
    o.tls_key_file = key;
    sw_http_server *srv = NULL;
    sw_err err = {0};
    sw_status st = sw_http_start(&o, routes, N_ROUTES, NULL, &srv, &err);
    if (st == SW_E_UNSUPPORTED) {
        unlink(cert), unlink(key), rmdir(dir);
        skip();
    }
    if (st != SW_OK)
        fail_msg("sw_http_start: %s", err.msg);
    uint16_t port = sw_http_port(srv);
    reply r = fetch(port, &(call){.method = "GET", .path = "/hello", .cainfo = cert});
    assert_reply(&r, 200, "hello");
    sw_buf_fini(&r.body);
    /* Plain HTTP to the TLS port gets no answer from a handler. */
    r = fetch(port, &(call){.method = "GET", .path = "/hello"});
    assert_true(r.code != CURLE_OK || r.status != 200);
    sw_buf_fini(&r.body);
    sw_http_stop(srv);
    unlink(cert), unlink(key), rmdir(dir);
}

int
main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_route_ok, setup_plain, teardown),
        cmocka_unit_test_setup_teardown(test_shared_body_over_the_cap, setup_plain, teardown),
        cmocka_unit_test_setup_teardown(test_not_found, setup_plain, teardown),
        cmocka_unit_test_setup_teardown(test_method_not_allowed, setup_plain, teardown),
        cmocka_unit_test_setup_teardown(test_request_fields, setup_plain, teardown),
        cmocka_unit_test_setup_teardown(test_extra_header_and_escaping, setup_plain, teardown),
        cmocka_unit_test_setup_teardown(test_bad_handler_status, setup_plain, teardown),
        cmocka_unit_test_setup_teardown(test_query, setup_plain, teardown),
        cmocka_unit_test_setup_teardown(test_post_body, setup_plain, teardown),
        cmocka_unit_test_setup_teardown(test_body_too_large, setup_plain, teardown),
        cmocka_unit_test_setup_teardown(test_headers_too_large, setup_plain, teardown),
        cmocka_unit_test_setup_teardown(test_auth, setup_auth, teardown),
        cmocka_unit_test_setup_teardown(test_auth_all, setup_auth_all, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_clients, setup_plain, teardown),
        cmocka_unit_test_setup_teardown(test_keep_alive, setup_plain, teardown),
        cmocka_unit_test_setup_teardown(test_slow_client, setup_plain, teardown),
        cmocka_unit_test_setup_teardown(test_port_in_use, setup_plain, teardown),
        cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_stop_finishes_in_flight),
        cmocka_unit_test(test_heavy_off_pool),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_tls),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return failed;
}
