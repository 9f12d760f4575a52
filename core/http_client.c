/*
 * The HTTP client over libcurl: every request runs as an easy handle on the client's multi
 * handle, so one code path serves single requests and concurrent batches, and the multi's
 * connection cache gives reuse across calls. A client is used by one thread at a time.
 */
#include "slawatch/http_client.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "sw_config.h"

typedef struct transfer transfer;

struct sw_http_client {
    CURLM *multi;
    transfer *async; /* started with sw_http_client_start, not yet done */
    size_t n_async;
};

/* One request in flight. */
struct transfer {
    CURL *easy;
    struct curl_slist *headers;
    struct curl_slist *connect_to; /* tls_server_name: the URL's host:port */
    sw_buf body;
    bool discard;
    bool toobig;
    bool started; /* added to the multi handle */
    char errbuf[CURL_ERROR_SIZE];
    char where[320]; /* "GET http://host/path" for messages */
    sw_http_done_fn done; /* asynchronous requests only */
    void *done_ctx;
    transfer *prev, *next; /* in the client's async list */
};

sw_status
sw_http_client_global_init(sw_err *err)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return sw_err_set(err, SW_E_IO, "cannot initialise libcurl");
    return SW_OK;
}

void
sw_http_client_global_cleanup(void)
{
    curl_global_cleanup();
}

sw_status
sw_http_client_new(sw_http_client **ret_client, sw_err *err)
{
    sw_http_client *c = calloc(1, sizeof *c);
    if (c == NULL)
        return sw_err_set(err, SW_E_NOMEM, "cannot allocate an HTTP client");
    c->multi = curl_multi_init();
    if (c->multi == NULL) {
        free(c);
        return sw_err_set(err, SW_E_NOMEM, "cannot create a libcurl multi handle");
    }
    *ret_client = c;
    return SW_OK;
}

static void transfer_fini(transfer *t);

void
sw_http_client_free(sw_http_client *c)
{
    if (c == NULL)
        return;
    while (c->async != NULL) {
        transfer *t = c->async;
        c->async = t->next;
        curl_multi_remove_handle(c->multi, t->easy);
        sw_http_fetch_result res = {0};
        sw_buf_init(&res.resp.body, 0);
        sw_err_set(&res.err, SW_E_IO, "%s: cancelled: the client was closed", t->where);
        sw_http_done_fn done = t->done;
        void *ctx = t->done_ctx;
        transfer_fini(t);
        free(t);
        done(ctx, &res);
    }
    curl_multi_cleanup(c->multi);
    free(c);
}

/* A scheme (RFC 3986: a letter, then letters, digits, +, - or .) followed by "://". */
static bool
has_scheme(const char *url, size_t *ret_len)
{
    size_t n = strspn(url, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.");
    if (n == 0 || !((url[0] >= 'a' && url[0] <= 'z') || (url[0] >= 'A' && url[0] <= 'Z')) ||
        strncmp(url + n, "://", 3) != 0)
        return false;
    *ret_len = n + 3;
    return true;
}

void
sw_http_client_redact_url(const char *url, char *out, size_t cap)
{
    size_t prefix_len;
    /* Where a URL cannot be taken apart, no part of it is safe to show: a password may sit
     * anywhere in it. */
    if (!has_scheme(url, &prefix_len)) {
        snprintf(out, cap, "%s", url[0] != '\0' ? "(malformed URL)" : "");
        return;
    }
    const char *host = url + prefix_len;
    size_t host_len = strcspn(host, "/?#");
    const char *at = NULL; /* the last '@': a password may hold more (unescaped) */
    for (const char *p = host; p < host + host_len; p++)
        at = *p == '@' ? p : at;
    const char *rest = host + host_len;
    const char *host_from = at != NULL ? at + 1 : host;
    snprintf(out, cap, "%.*s%.*s%.*s", (int)prefix_len, url, (int)(rest - host_from), host_from,
             (int)strcspn(rest, "?#"), rest);
}

static size_t
on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
    transfer *t = userdata;
    size_t n = size * nmemb;
    if (t->discard)
        return n;
    if (sw_buf_append(&t->body, data, n, NULL) != SW_OK) {
        t->toobig = t->body.len + n > t->body.max;
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    return n;
}

static void
transfer_fini(transfer *t)
{
    curl_easy_cleanup(t->easy);
    curl_slist_free_all(t->headers);
    curl_slist_free_all(t->connect_to);
    sw_buf_fini(&t->body);
    t->easy = NULL;
    t->headers = NULL;
    t->connect_to = NULL;
}

/* Method and body; any method but GET and HEAD carries the body (possibly empty). */
static void
set_method(CURL *e, const sw_http_fetch_request *rq, const char *method)
{
    if (strcmp(method, "GET") == 0)
        return;
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
        return;
    }
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, rq->body_len > 0 ? rq->body : "");
    if (strcmp(method, "POST") != 0)
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
}

/* h with "name value" appended; NULL (h freed) when out of memory. */
static struct curl_slist *
append_header(struct curl_slist *h, const char *name, const char *value)
{
    size_t n = strlen(name) + strlen(value) + 1;
    char *line = malloc(n);
    struct curl_slist *more = NULL;
    if (line != NULL) {
        snprintf(line, n, "%s%s", name, value);
        more = curl_slist_append(h, line);
        free(line);
    }
    if (more == NULL)
        curl_slist_free_all(h);
    return more;
}

/* Certificates, client keys and the name checked; curl copies every string. */
static sw_status
set_tls(transfer *t, const sw_http_fetch_request *rq, sw_err *err)
{
    CURL *e = t->easy;
    if (rq->tls_ca_file != NULL)
        curl_easy_setopt(e, CURLOPT_CAINFO, rq->tls_ca_file);
    if (rq->tls_cert_file != NULL)
        curl_easy_setopt(e, CURLOPT_SSLCERT, rq->tls_cert_file);
    if (rq->tls_key_file != NULL)
        curl_easy_setopt(e, CURLOPT_SSLKEY, rq->tls_key_file);
    if (rq->tls_insecure) {
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (rq->tls_server_name == NULL)
        return SW_OK;
    /* curl checks and sends the URL's host: ask for server_name and connect to the real one. */
    CURLU *u = curl_url();
    char *host = NULL, *port = NULL, *url = NULL;
    sw_status st = SW_OK;
    if (u == NULL || curl_url_set(u, CURLUPART_URL, rq->url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK ||
        curl_url_set(u, CURLUPART_HOST, rq->tls_server_name, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK) {
        st = sw_err_set(err, SW_E_INVAL, "%s: cannot use server name %.100s", t->where,
                        rq->tls_server_name);
    } else {
        char to[512];
        snprintf(to, sizeof to, "%s:%s:%s:%s", rq->tls_server_name, port, host, port);
        t->connect_to = curl_slist_append(NULL, to);
        if (t->connect_to == NULL)
            st = sw_err_set(err, SW_E_NOMEM, "%s: out of memory", t->where);
        curl_easy_setopt(e, CURLOPT_URL, url);
        curl_easy_setopt(e, CURLOPT_CONNECT_TO, t->connect_to);
    }
    curl_free(host);
    curl_free(port);
    curl_free(url);
    curl_url_cleanup(u);
    return st;
}

static sw_status
set_headers(transfer *t, const sw_http_fetch_request *rq, sw_err *err)
{
    char line[160];
    /* curl would otherwise wait for 100 Continue on larger bodies. */
    struct curl_slist *h = curl_slist_append(NULL, "Expect:");
    if (h != NULL && rq->content_type != NULL) {
        snprintf(line, sizeof line, "Content-Type: %s", rq->content_type);
        struct curl_slist *more = curl_slist_append(h, line);
        if (more == NULL)
            curl_slist_free_all(h);
        h = more;
    }
    if (h != NULL && rq->accept != NULL)
        h = append_header(h, "Accept: ", rq->accept);
    if (h != NULL && rq->authorization != NULL)
        h = append_header(h, "Authorization: ", rq->authorization);
    for (size_t i = 0; h != NULL && rq->headers != NULL && rq->headers[i] != NULL; i++) {
        struct curl_slist *more = curl_slist_append(h, rq->headers[i]);
        if (more == NULL)
            curl_slist_free_all(h);
        h = more;
    }
    if (h == NULL)
        return sw_err_set(err, SW_E_NOMEM, "%s: cannot allocate headers", t->where);
    t->headers = h;
    curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, h);
    if (rq->bearer_token != NULL && rq->authorization == NULL) {
        curl_easy_setopt(t->easy, CURLOPT_HTTPAUTH, CURLAUTH_BEARER);
        curl_easy_setopt(t->easy, CURLOPT_XOAUTH2_BEARER, rq->bearer_token);
    }
    return SW_OK;
}

static sw_status
transfer_setup(transfer *t, const sw_http_fetch_request *rq, sw_err *err)
{
    const char *method = rq->method != NULL ? rq->method : "GET";
    char redacted[256];
    sw_http_client_redact_url(rq->url != NULL ? rq->url : "", redacted, sizeof redacted);
    snprintf(t->where, sizeof t->where, "%s %s", method, redacted);
    sw_buf_init(&t->body, rq->max_response_bytes ? rq->max_response_bytes
                                                 : SW_HTTP_CLIENT_DEFAULT_MAX_RESPONSE);
    t->discard = rq->discard_body;
    if (rq->url == NULL || (strncmp(rq->url, "http://", 7) != 0 &&
                            strncmp(rq->url, "https://", 8) != 0))
        return sw_err_set(err, SW_E_INVAL, "%s: expected an http:// or https:// URL", t->where);
    t->easy = curl_easy_init();
    if (t->easy == NULL)
        return sw_err_set(err, SW_E_NOMEM, "%s: cannot create a libcurl handle", t->where);
    CURL *e = t->easy;
    long timeout = rq->timeout_ms > 0 ? (long)rq->timeout_ms : SW_HTTP_CLIENT_DEFAULT_TIMEOUT_MS;
    curl_easy_setopt(e, CURLOPT_URL, rq->url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L); /* no SIGALRM in a threaded daemon */
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, timeout);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "slawatch/" SW_VERSION);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
    if (rq->accept_gzip)
        curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "gzip");
    if (rq->basic_user != NULL) {
        curl_easy_setopt(e, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
        curl_easy_setopt(e, CURLOPT_USERNAME, rq->basic_user);
        curl_easy_setopt(e, CURLOPT_PASSWORD, rq->basic_password != NULL ? rq->basic_password : "");
    }
    set_method(e, rq, method);
    sw_status st = set_headers(t, rq, err);
    return st == SW_OK ? set_tls(t, rq, err) : st;
}

/* Turn a finished transfer into a response or an error naming the URL and curl's reason. */
static sw_status
transfer_finish(transfer *t, CURLcode rc, sw_http_fetch_response *resp, sw_err *err)
{
    if (t->toobig)
        return sw_err_set(err, SW_E_TOOBIG, "%s: response body exceeds %zu bytes", t->where,
                          t->body.max);
    if (rc != CURLE_OK)
        return sw_err_set(err, SW_E_IO, "%s: %s", t->where,
                          t->errbuf[0] != '\0' ? t->errbuf : curl_easy_strerror(rc));
    long status = 0;
    char *ctype = NULL;
    curl_off_t total_us = 0, retry_after_s = 0;
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(t->easy, CURLINFO_CONTENT_TYPE, &ctype);
    curl_easy_getinfo(t->easy, CURLINFO_TOTAL_TIME_T, &total_us);
    curl_easy_getinfo(t->easy, CURLINFO_RETRY_AFTER, &retry_after_s);
    resp->status = status;
    resp->body = t->body;
    sw_buf_init(&t->body, t->body.max); /* ownership moved to resp */
    snprintf(resp->content_type, sizeof resp->content_type, "%s", ctype != NULL ? ctype : "");
    resp->elapsed_us = (int64_t)total_us;
    resp->retry_after_s = (int64_t)retry_after_s;
    return SW_OK;
}

/* Drive the multi handle until every added transfer finished; collects their codes. */
static sw_status
run_multi(CURLM *m, transfer *ts, CURLcode *codes, size_t n, sw_err *err)
{
    int running = 1;
    while (running > 0) {
        CURLMcode mc = curl_multi_perform(m, &running);
        if (mc == CURLM_OK && running > 0)
            mc = curl_multi_poll(m, NULL, 0, 1000, NULL);
        if (mc != CURLM_OK)
            return sw_err_set(err, SW_E_IO, "HTTP transfers failed: %s", curl_multi_strerror(mc));
    }
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(m, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        for (size_t i = 0; i < n; i++)
            if (ts[i].easy == msg->easy_handle)
                codes[i] = msg->data.result;
    }
    return SW_OK;
}

static void
run_batch(sw_http_client *c, const sw_http_fetch_request *rqs, transfer *ts, CURLcode *codes,
          size_t n, sw_http_fetch_result *results)
{
    bool added_any = false;
    for (size_t i = 0; i < n; i++) {
        codes[i] = CURLE_FAILED_INIT;
        if (transfer_setup(&ts[i], &rqs[i], &results[i].err) != SW_OK)
            continue;
        if (curl_multi_add_handle(c->multi, ts[i].easy) != CURLM_OK) {
            sw_err_set(&results[i].err, SW_E_NOMEM, "%s: cannot start", ts[i].where);
            continue;
        }
        ts[i].started = true;
        added_any = true;
    }
    sw_err batch_err = {0};
    sw_status st = added_any ? run_multi(c->multi, ts, codes, n, &batch_err) : SW_OK;
    for (size_t i = 0; i < n; i++) {
        if (!ts[i].started)
            continue;
        if (st != SW_OK)
            results[i].err = batch_err;
        else
            transfer_finish(&ts[i], codes[i], &results[i].resp, &results[i].err);
        results[i].timed_out = st == SW_OK && codes[i] == CURLE_OPERATION_TIMEDOUT;
        curl_multi_remove_handle(c->multi, ts[i].easy);
    }
}

sw_status
sw_http_client_fetch_all(sw_http_client *c, const sw_http_fetch_request *rqs, size_t n,
                         sw_http_fetch_result *results, sw_err *err)
{
    SW_REQUIRE(c != NULL && (n == 0 || (rqs != NULL && results != NULL)));
    for (size_t i = 0; i < n; i++) {
        memset(&results[i], 0, sizeof results[i]);
        sw_buf_init(&results[i].resp.body, 0);
    }
    transfer *ts = calloc(n ? n : 1, sizeof *ts);
    CURLcode *codes = calloc(n ? n : 1, sizeof *codes);
    sw_status st = SW_OK;
    if (ts == NULL || codes == NULL) {
        sw_err oom;
        st = sw_err_set(&oom, SW_E_NOMEM, "cannot allocate %zu HTTP transfers", n);
        for (size_t i = 0; i < n; i++)
            results[i].err = oom;
        if (err != NULL)
            *err = oom;
        goto out;
    }
    run_batch(c, rqs, ts, codes, n, results);
    for (size_t i = 0; i < n; i++)
        transfer_fini(&ts[i]);
out:
    free(ts);
    free(codes);
    return st;
}

sw_status
sw_http_client_fetch(sw_http_client *c, const sw_http_fetch_request *rq,
                     sw_http_fetch_response *resp, sw_err *err)
{
    sw_http_fetch_result res;
    sw_http_client_fetch_all(c, rq, 1, &res, NULL);
    if (res.err.code != SW_OK) {
        if (err != NULL)
            *err = res.err;
        return res.err.code;
    }
    *resp = res.resp;
    return SW_OK;
}

/* ------------------------------------------------------------------ asynchronous */

sw_status
sw_http_client_start(sw_http_client *c, const sw_http_fetch_request *rq, sw_http_done_fn done,
                     void *ctx, sw_err *err)
{
    SW_REQUIRE(c != NULL && rq != NULL && done != NULL);
    transfer *t = calloc(1, sizeof *t);
    if (t == NULL)
        return sw_err_set(err, SW_E_NOMEM, "cannot allocate an HTTP transfer");
    sw_status st = transfer_setup(t, rq, err);
    if (st == SW_OK && curl_multi_add_handle(c->multi, t->easy) != CURLM_OK)
        st = sw_err_set(err, SW_E_NOMEM, "%s: cannot start", t->where);
    if (st != SW_OK) {
        transfer_fini(t);
        free(t);
        return st;
    }
    curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t);
    t->done = done;
    t->done_ctx = ctx;
    t->next = c->async;
    if (c->async != NULL)
        c->async->prev = t;
    c->async = t;
    c->n_async++;
    return SW_OK;
}

/* Unlink a finished transfer, hand its outcome to its callback and free it. */
static void
finish_async(sw_http_client *c, transfer *t, CURLcode rc)
{
    if (t->prev != NULL)
        t->prev->next = t->next;
    else
        c->async = t->next;
    if (t->next != NULL)
        t->next->prev = t->prev;
    c->n_async--;
    curl_multi_remove_handle(c->multi, t->easy);
    sw_http_fetch_result res = {0};
    sw_buf_init(&res.resp.body, 0);
    transfer_finish(t, rc, &res.resp, &res.err);
    res.timed_out = rc == CURLE_OPERATION_TIMEDOUT;
    sw_http_done_fn done = t->done;
    void *ctx = t->done_ctx;
    transfer_fini(t);
    free(t);
    done(ctx, &res);
}

sw_status
sw_http_client_drive(sw_http_client *c, int64_t wait_ms, size_t *ret_running, sw_err *err)
{
    int running;
    CURLMcode mc = curl_multi_perform(c->multi, &running);
    if (mc == CURLM_OK && wait_ms > 0)
        mc = curl_multi_poll(c->multi, NULL, 0, (int)(wait_ms < 60000 ? wait_ms : 60000), NULL);
    if (mc == CURLM_OK)
        mc = curl_multi_perform(c->multi, &running);
    if (mc != CURLM_OK)
        return sw_err_set(err, SW_E_IO, "HTTP transfers failed: %s", curl_multi_strerror(mc));
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(c->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        transfer *t = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
        if (t != NULL)
            finish_async(c, t, msg->data.result);
    }
    *ret_running = c->n_async;
    return SW_OK;
}

/* One request on a temporary client (no connection reuse). */
sw_status
sw_http_fetch(const sw_http_fetch_request *rq, sw_http_fetch_response *resp, sw_err *err)
{
    sw_http_client *c;
    sw_status st = sw_http_client_new(&c, err);
    if (st != SW_OK)
        return st;
    st = sw_http_client_fetch(c, rq, resp, err);
    sw_http_client_free(c);
    return st;
}

void
sw_http_fetch_response_fini(sw_http_fetch_response *resp)
{
    sw_buf_fini(&resp->body);
}

void
sw_http_fetch_result_fini(sw_http_fetch_result *res)
{
    sw_http_fetch_response_fini(&res->resp);
}
