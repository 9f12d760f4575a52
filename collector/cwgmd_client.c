/*
 * The GetMetricData client: signs each page with SigV4, sends it with the HTTP client, follows
 * NextToken and retries what AWS says may be retried (throttling, 5xx, connection failures)
 * with full-jitter exponential backoff, bounded per call and by a client-wide retry budget
 * that successes slowly refill. An expired-token answer invalidates the provider's cache and
 * the call is repeated once with fresh credentials. One thread at a time owns a client.
 */
#include "slawatch/cwgmd.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "slawatch/http_client.h"
#include "slawatch/sigv4.h"

#define JSON_10 "application/x-amz-json-1.0"
#define TARGET "GraniteServiceVersion20100801.GetMetricData"
#define HEADER_LINE_MAX (SW_AWSCREDS_TOKEN_MAX + 64)

struct sw_cwgmd {
    sw_cwgmd_options opt;
    char *endpoint, *region;
    char host[300];
    sw_http_client *http;
    sw_sigv4_signer *signer;
    sw_sigv4_result signed_;
    sw_buf body;
    uint64_t rng;
    unsigned tokens; /* retry budget left */
    unsigned successes; /* since the last refill */
    sw_cwgmd_stats stats;
    bool transient; /* of the last failure */
    char lines[SW_SIGV4_MAX_ADDED][HEADER_LINE_MAX];
};

sw_status
sw_cwgmd_new(const sw_cwgmd_options *opt, sw_cwgmd **ret, sw_err *err)
{
    if (opt->endpoint_url == NULL || opt->region == NULL || opt->creds == NULL)
        return sw_err_set(err, SW_E_INVAL, "GetMetricData client: endpoint, region and "
                                           "credentials are required");
    const char *host = strstr(opt->endpoint_url, "://");
    if (host == NULL)
        return sw_err_set(err, SW_E_INVAL, "GetMetricData client: endpoint is not a URL");
    sw_cwgmd *c = calloc(1, sizeof *c);
    if (c == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory for the GetMetricData client");
    c->opt = *opt;
    c->endpoint = strdup(opt->endpoint_url);
    c->region = strdup(opt->region);
    snprintf(c->host, sizeof c->host, "%.*s", (int)strcspn(host + 3, "/"), host + 3);
    c->rng = opt->seed ^ UINT64_C(0x5DEECE66D);
    c->tokens = opt->budget > 0 ? opt->budget : SW_CWGMD_DEFAULT_BUDGET;
    sw_sigv4_result_init(&c->signed_);
    sw_buf_init(&c->body, (size_t)4 << 20);
    sw_status st = c->endpoint != NULL && c->region != NULL
                       ? sw_http_client_new(&c->http, err)
                       : sw_err_set(err, SW_E_NOMEM, "out of memory");
    if (st == SW_OK)
        st = sw_sigv4_signer_new(opt->region, "monitoring", &c->signer, err);
    if (st != SW_OK) {
        sw_cwgmd_free(c);
        return st;
    }
    c->opt.endpoint_url = c->endpoint;
    c->opt.region = c->region;
    *ret = c;
    return SW_OK;
}

void
sw_cwgmd_free(sw_cwgmd *c)
{
    if (c == NULL)
        return;
    sw_http_client_free(c->http);
    sw_sigv4_signer_free(c->signer);
    sw_sigv4_result_fini(&c->signed_);
    sw_buf_fini(&c->body);
    memset(c->lines, 0, sizeof c->lines); /* they held the session token */
    free(c->endpoint);
    free(c->region);
    free(c);
}

void
sw_cwgmd_stats_get(const sw_cwgmd *c, sw_cwgmd_stats *ret)
{
    *ret = c->stats;
}

bool
sw_cwgmd_transient(const sw_cwgmd *c)
{
    return c->transient;
}

/* ------------------------------------------------------------------ one HTTP exchange */

/* Sign c->body with fresh credentials and POST it; resp is the caller's on success. */
static sw_status
post_signed(sw_cwgmd *c, sw_http_fetch_response *resp, sw_err *err)
{
    sw_awscreds creds;
    sw_status st = sw_awscreds_get(c->opt.creds, &creds, err);
    if (st != SW_OK)
        return st;
    sw_sigv4_header hdrs[] = {
        {"Host", c->host}, {"Content-Type", JSON_10}, {"X-Amz-Target", TARGET}};
    sw_sigv4_request rq = {.method = "POST", .path = "/", .headers = hdrs, .n_headers = 3,
                           .payload = c->body.data, .payload_len = c->body.len,
                           .now_unix_s = (int64_t)time(NULL)};
    st = sw_sigv4_sign(c->signer, &creds, &rq, &c->signed_, err);
    sw_awscreds_wipe(&creds);
    if (st != SW_OK)
        return st;
    const char *extra[SW_SIGV4_MAX_ADDED + 2] = {"X-Amz-Target: " TARGET};
    for (size_t i = 0; i < c->signed_.n_added; i++) {
        snprintf(c->lines[i], HEADER_LINE_MAX, "%s: %s", c->signed_.added[i].name,
                 c->signed_.added[i].value);
        extra[i + 1] = c->lines[i];
    }
    sw_http_fetch_request hrq = {.method = "POST", .url = c->endpoint, .content_type = JSON_10,
                                 .body = c->body.data, .body_len = c->body.len, .headers = extra,
                                 .timeout_ms = c->opt.timeout_ms > 0 ? c->opt.timeout_ms : 30000,
                                 .max_response_bytes = SW_CWGMD_MAX_RESPONSE};
    c->stats.calls++;
    return sw_http_client_fetch(c->http, &hrq, resp, err);
}

static uint64_t
next_random(sw_cwgmd *c)
{
    uint64_t x = (c->rng += UINT64_C(0x9E3779B97F4A7C15));
    x = (x ^ (x >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94D049BB133111EB);
    return x ^ (x >> 31);
}

static bool
nap(sw_cwgmd *c, int64_t ms)
{
    if (c->opt.sleep != NULL)
        return c->opt.sleep(c->opt.sleep_ctx, ms);
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    return true;
}

/* Full jitter: a uniform wait in [0, min(cap, base * 2^attempt)], as the AWS SDKs do. */
static bool
backoff(sw_cwgmd *c, unsigned attempt)
{
    int64_t base = c->opt.backoff_ms > 0 ? c->opt.backoff_ms : SW_CWGMD_DEFAULT_BACKOFF_MS;
    int64_t ceiling = base << (attempt < 16 ? attempt : 16);
    if (ceiling > SW_CWGMD_MAX_BACKOFF_MS)
        ceiling = SW_CWGMD_MAX_BACKOFF_MS;
    return nap(c, (int64_t)(next_random(c) % (uint64_t)(ceiling + 1)));
}

/* Successes put retry tokens back, one per ten, so a healthy client recovers its budget. */
static void
refill(sw_cwgmd *c)
{
    unsigned full = c->opt.budget > 0 ? c->opt.budget : SW_CWGMD_DEFAULT_BUDGET;
    if (++c->successes >= 10 && c->tokens < full) {
        c->tokens++;
        c->successes = 0;
    }
}

/* Whether a failed attempt may be repeated: bounded per call and by the budget. */
static bool
may_retry(sw_cwgmd *c, unsigned attempt, sw_err *err)
{
    unsigned retries = c->opt.retries > 0 ? c->opt.retries : SW_CWGMD_DEFAULT_RETRIES;
    if (attempt >= retries || c->tokens == 0) {
        sw_err_prefix(err, "%s", c->tokens == 0 ? "retry budget spent" : "retries exhausted");
        return false;
    }
    c->tokens--;
    c->stats.retries++;
    return backoff(c, attempt);
}

/*
 * POST c->body until a 200 (body into resp) or a final error: throttling, 5xx and transport
 * failures are retried; an expired token once after invalidating the credentials.
 */
static sw_status
exchange(sw_cwgmd *c, sw_http_fetch_response *resp, sw_err *err)
{
    bool refreshed = false;
    for (unsigned attempt = 0;; attempt++) {
        sw_http_fetch_response r;
        sw_status st = post_signed(c, &r, err);
        if (st == SW_OK && r.status == 200) {
            refill(c);
            *resp = r;
            return SW_OK;
        }
        sw_cwgmd_fault f = SW_CWGMD_FAULT_SERVER; /* transport failures are retried */
        if (st == SW_OK) {
            f = sw_cwgmd_classify(r.status, r.body.data, r.body.len, err);
            st = err != NULL ? err->code : SW_E_IO;
            sw_http_fetch_response_fini(&r);
        } else if (st != SW_E_IO) {
            c->transient = st == SW_E_TOOBIG; /* credentials, signing: repeating cannot help */
            return st;
        }
        c->stats.throttled += f == SW_CWGMD_FAULT_THROTTLED;
        if (f == SW_CWGMD_FAULT_EXPIRED && !refreshed) {
            sw_awscreds_invalidate(c->opt.creds);
            c->stats.refreshed++;
            refreshed = true;
            continue;
        }
        c->transient = f == SW_CWGMD_FAULT_THROTTLED || f == SW_CWGMD_FAULT_SERVER;
        if (!c->transient || !may_retry(c, attempt, err))
            return st;
    }
}

/* ------------------------------------------------------------------ fetch */

/* One call's queries q[0..n) into out[0..n), page by page. */
static sw_status
fetch_chunk(sw_cwgmd *c, const sw_cwgmd_query *q, size_t n, int64_t start_s, int64_t end_s,
            sw_cwgmd_series *out, sw_err *err)
{
    sw_cwgmd_page page = {.series = out, .n_series = n};
    char token[sizeof page.next_token] = "";
    for (unsigned pages = 0; pages < SW_CWGMD_MAX_PAGES; pages++) {
        sw_buf_reset(&c->body);
        sw_http_fetch_response resp;
        sw_status st = sw_cwgmd_request_body(q, n, start_s, end_s, token, &c->body, err);
        if (st == SW_OK)
            st = exchange(c, &resp, err);
        if (st != SW_OK)
            return st;
        st = sw_cwgmd_parse(resp.body.data, resp.body.len, q, n, start_s, end_s, &page, err);
        sw_http_fetch_response_fini(&resp);
        if (st != SW_OK) {
            /* a result's InternalError, or a body cut short or garbled on the way */
            c->transient = st != SW_E_IO || page.internal_error;
            return st;
        }
        c->stats.partial += page.partial;
        if (page.next_token[0] == '\0')
            return SW_OK;
        if (strcmp(page.next_token, token) == 0) {
            c->transient = true; /* PartialData without progress */
            return sw_err_set(err, SW_E_PARSE, "GetMetricData: NextToken repeated");
        }
        strcpy(token, page.next_token);
    }
    return sw_err_set(err, SW_E_PARSE, "GetMetricData: more than %d pages", SW_CWGMD_MAX_PAGES);
}

sw_status
sw_cwgmd_fetch(sw_cwgmd *c, const sw_cwgmd_query *q, size_t n, int64_t start_s, int64_t end_s,
               sw_cwgmd_series *out, sw_err *err)
{
    for (size_t i = 0; i < n; i++)
        out[i].n = 0;
    sw_status st = SW_OK;
    for (size_t off = 0; st == SW_OK && off < n; off += SW_CWGMD_MAX_QUERIES) {
        size_t k = n - off < SW_CWGMD_MAX_QUERIES ? n - off : SW_CWGMD_MAX_QUERIES;
        st = fetch_chunk(c, q + off, k, start_s, end_s, out + off, err);
    }
    if (st != SW_OK) {
        c->stats.errors++;
        for (size_t i = 0; i < n; i++)
            out[i].n = 0;
    }
    return st;
}
