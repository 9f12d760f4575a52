/*
 * The remote-write sender. The pushing thread (the daemon's tick) and the sender thread share
 * the queue, the stats and the stop flag under `lock`; the series table belongs to the pushing
 * side (the sender thread only reads series already queued, which never move or change). The
 * sender thread alone owns the HTTP client, the batch in flight and the jitter's state.
 */
#include "slawatch/rw_send.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "slawatch/http_client.h"
#include "slawatch/rng.h"
#include "slawatch/rw_queue.h"
#include "slawatch/thread_prio.h"

#define RW_CONTENT_TYPE "application/x-protobuf"
/* A request body is capped, as every buffer is; a batch this large would be refused anyway. */
#define RW_BODY_MAX (64u << 20)

/* One series: the public view first, so the pointer handed out converts back. */
typedef struct rw_series {
    sw_rw_series pub;
    uint64_t hash;
    int64_t last_ts_ms;
    struct rw_series *next;
    sw_rw_label labels[];
} rw_series;

struct sw_rw_send {
    sw_rw_send_config cfg; /* strings point into owned copies below */
    char *url, *bearer, *basic_user, *basic_password, *ca_file;
    char **headers; /* the 1.0 headers and the configured ones, NULL-terminated */
    size_t n_headers;
    rw_series *series; /* a list: a handful per service */

    pthread_mutex_t lock; /* guards the fields below */
    pthread_cond_t wake;
    sw_rw_queue *queue;
    int64_t first_at_ms; /* monotonic: when the oldest queued sample arrived (roughly) */
    bool stopping;
    int64_t flush_until_ms; /* monotonic; set with stopping */
    sw_rw_send_stats stats;

    pthread_t thread;
    bool started;
    uint64_t rng;
    sw_rw_sample *batch;
    sw_http_client *http;
    sw_buf body;
};

static int64_t
mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t
wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------ policy */

sw_rw_send_verdict
sw_rw_send_judge(long status)
{
    if (status >= 200 && status < 300)
        return SW_RW_SEND_DELIVERED;
    if (status == 0 || status == 429 || (status >= 500 && status < 600))
        return SW_RW_SEND_RETRY;
    return SW_RW_SEND_DROP;
}

int64_t
sw_rw_send_backoff_ms(const sw_rw_send_config *c, unsigned attempt, int64_t retry_after_s,
                      uint64_t *rng)
{
    if (retry_after_s > 0)
        return retry_after_s < SW_RW_SEND_RETRY_AFTER_MAX_MS / 1000 ? retry_after_s * 1000
                                                                    : SW_RW_SEND_RETRY_AFTER_MAX_MS;
    int64_t whole = c->min_backoff_ms;
    for (unsigned i = 0; i < attempt && whole < c->max_backoff_ms; i++)
        whole *= 2;
    if (whole > c->max_backoff_ms)
        whole = c->max_backoff_ms;
    sw_rng r = {*rng};
    int64_t half = whole / 2;
    int64_t wait = half + (int64_t)(sw_rng_next(&r) % (uint64_t)(whole - half + 1));
    *rng = r.state;
    return wait;
}

/* ------------------------------------------------------------------ series */

static uint64_t
labels_hash(const sw_rw_label *labels, size_t n)
{
    uint64_t h = UINT64_C(14695981039346656037);
    for (size_t i = 0; i < n; i++) {
        for (const char *p = labels[i].name; *p; p++)
            h = (h ^ (uint8_t)*p) * UINT64_C(1099511628211);
        h = (h ^ 0xff) * UINT64_C(1099511628211);
        for (const char *p = labels[i].value; *p; p++)
            h = (h ^ (uint8_t)*p) * UINT64_C(1099511628211);
        h = (h ^ 0xfe) * UINT64_C(1099511628211);
    }
    return h;
}

static int
label_cmp(const void *a, const void *b)
{
    return strcmp(((const sw_rw_label *)a)->name, ((const sw_rw_label *)b)->name);
}

static bool
same_labels(const rw_series *s, const sw_rw_label *labels, size_t n)
{
    if (s->pub.n_labels != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (strcmp(s->labels[i].name, labels[i].name) != 0 ||
            strcmp(s->labels[i].value, labels[i].value) != 0)
            return false;
    return true;
}

/* A series holding copies of sorted[0..n), its strings after its labels. */
static rw_series *
series_new(const sw_rw_label *sorted, size_t n, uint64_t hash)
{
    size_t bytes = sizeof(rw_series) + n * sizeof(sw_rw_label);
    for (size_t i = 0; i < n; i++)
        bytes += strlen(sorted[i].name) + strlen(sorted[i].value) + 2;
    rw_series *s = malloc(bytes);
    if (s == NULL)
        return NULL;
    char *text = (char *)&s->labels[n];
    for (size_t i = 0; i < n; i++) {
        size_t ln = strlen(sorted[i].name) + 1, lv = strlen(sorted[i].value) + 1;
        s->labels[i].name = memcpy(text, sorted[i].name, ln);
        s->labels[i].value = memcpy(text + ln, sorted[i].value, lv);
        text += ln + lv;
    }
    s->pub = (sw_rw_series){s->labels, n};
    s->hash = hash;
    s->last_ts_ms = INT64_MIN;
    s->next = NULL;
    return s;
}

static sw_status
check_labels(const sw_rw_label *sorted, size_t n, sw_err *err)
{
    bool named = false;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && strcmp(sorted[i - 1].name, sorted[i].name) == 0)
            return sw_err_set(err, SW_E_INVAL, "remote write: label %s given twice",
                              sorted[i].name);
        named = named || strcmp(sorted[i].name, "__name__") == 0;
    }
    return named ? SW_OK : sw_err_set(err, SW_E_INVAL, "remote write: a series without __name__");
}

sw_status
sw_rw_send_series(sw_rw_send *s, const sw_rw_label *labels, size_t n, const sw_rw_series **ret,
                  sw_err *err)
{
    sw_rw_label *sorted = malloc((n > 0 ? n : 1) * sizeof *sorted);
    if (sorted == NULL)
        return sw_err_set(err, SW_E_NOMEM, "remote write: out of memory for a series");
    if (n > 0)
        memcpy(sorted, labels, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, label_cmp);
    sw_status st = check_labels(sorted, n, err);
    uint64_t hash = labels_hash(sorted, n);
    rw_series *found = NULL;
    for (rw_series *p = s->series; st == SW_OK && p != NULL && found == NULL; p = p->next)
        if (p->hash == hash && same_labels(p, sorted, n))
            found = p;
    if (st == SW_OK && found == NULL) {
        found = series_new(sorted, n, hash);
        if (found == NULL)
            st = sw_err_set(err, SW_E_NOMEM, "remote write: out of memory for a series");
        else {
            found->next = s->series;
            s->series = found;
        }
    }
    free(sorted);
    if (st == SW_OK)
        *ret = &found->pub;
    return st;
}

/* ------------------------------------------------------------------ pushing */

sw_status
sw_rw_send_push(sw_rw_send *s, sw_rw_sample *sample, sw_err *err)
{
    rw_series *series = (rw_series *)(void *)(uintptr_t)sample->series;
    if (sample->ts_ms <= series->last_ts_ms) {
        sw_rw_hist_free(sample->hist);
        sample->hist = NULL;
        return sw_err_set(err, SW_E_RANGE, "remote write: sample at %lld not after the last one",
                          (long long)sample->ts_ms);
    }
    series->last_ts_ms = sample->ts_ms;
    pthread_mutex_lock(&s->lock);
    if (sw_rw_queue_len(s->queue) == 0)
        s->first_at_ms = mono_ms();
    s->stats.dropped += sw_rw_queue_push(s->queue, sample);
    if (sw_rw_queue_len(s->queue) >= s->cfg.max_samples_per_send)
        pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
    return SW_OK;
}

void
sw_rw_send_stats_get(sw_rw_send *s, sw_rw_send_stats *ret)
{
    pthread_mutex_lock(&s->lock);
    *ret = s->stats;
    ret->queued = sw_rw_queue_len(s->queue);
    pthread_mutex_unlock(&s->lock);
}

/* ------------------------------------------------------------------ the sender thread */

/* Wait on `wake` until the monotonic time at_ms (lock held). */
static void
wait_until(sw_rw_send *s, int64_t at_ms)
{
    struct timespec ts = {.tv_sec = (time_t)(at_ms / 1000),
                          .tv_nsec = (long)(at_ms % 1000) * 1000000};
    pthread_cond_timedwait(&s->wake, &s->lock, &ts);
}

/* The next batch into s->batch (lock held): full, or its oldest sample waited long enough,
 * or anything while flushing. 0 when the thread should end. */
static size_t
next_batch(sw_rw_send *s)
{
    size_t max = s->cfg.max_samples_per_send;
    for (;;) {
        size_t len = sw_rw_queue_len(s->queue);
        int64_t now = mono_ms();
        bool due = len >= max || (len > 0 && now >= s->first_at_ms + s->cfg.batch_send_deadline_ms);
        if (s->stopping && (len == 0 || now >= s->flush_until_ms))
            return 0;
        if (due || s->stopping) {
            size_t n = sw_rw_queue_take(s->queue, s->batch, max);
            s->first_at_ms = now; /* the rest have waited at most this long for the next one */
            return n;
        }
        wait_until(s, len > 0 ? s->first_at_ms + s->cfg.batch_send_deadline_ms : now + 1000);
    }
}

static void
emit(const sw_rw_send *s, sw_rw_send_event ev)
{
    if (s->cfg.on_event != NULL)
        s->cfg.on_event(s->cfg.event_ctx, &ev);
}

/* One POST of s->body; *status 0 when no answer came (err says why). */
static void
post_once(sw_rw_send *s, int64_t timeout_ms, long *status, int64_t *retry_after_s, char *detail,
          size_t cap)
{
    sw_http_fetch_request rq = {.method = "POST",
                                .url = s->url,
                                .content_type = RW_CONTENT_TYPE,
                                .body = s->body.data,
                                .body_len = s->body.len,
                                .bearer_token = s->bearer,
                                .basic_user = s->basic_user,
                                .basic_password = s->basic_password,
                                .headers = (const char *const *)s->headers,
                                .timeout_ms = timeout_ms,
                                .max_response_bytes = 64 * 1024,
                                .tls_ca_file = s->ca_file};
    sw_http_fetch_response resp;
    sw_err err;
    *status = 0;
    *retry_after_s = 0;
    if (sw_http_client_fetch(s->http, &rq, &resp, &err) != SW_OK) {
        snprintf(detail, cap, "%s", err.msg);
        return;
    }
    *status = resp.status;
    *retry_after_s = resp.retry_after_s;
    size_t n = resp.body.len < cap - 1 ? resp.body.len : cap - 1;
    if (n > 0)
        memcpy(detail, resp.body.data, n);
    detail[n] = '\0';
    sw_http_fetch_response_fini(&resp);
}

static void
count(sw_rw_send *s, uint64_t *field, size_t n)
{
    pthread_mutex_lock(&s->lock);
    *field += n;
    if (field == &s->stats.sent)
        s->stats.last_send_ms = wall_ms();
    pthread_mutex_unlock(&s->lock);
}

/* Sleep ms unless stopping with the flush deadline before then; false when the batch must be
 * given up (stopping, and the deadline passed or would pass first). */
static bool
backoff(sw_rw_send *s, int64_t ms)
{
    pthread_mutex_lock(&s->lock);
    int64_t until = mono_ms() + ms;
    while (!s->stopping && mono_ms() < until)
        wait_until(s, until);
    bool go_on = !s->stopping || until < s->flush_until_ms;
    while (go_on && mono_ms() < until)
        wait_until(s, until);
    pthread_mutex_unlock(&s->lock);
    return go_on;
}

/* The request's timeout: while flushing, no later than the flush deadline. 0: none left. */
static int64_t
request_timeout(sw_rw_send *s)
{
    pthread_mutex_lock(&s->lock);
    int64_t t = s->cfg.timeout_ms;
    if (s->stopping) {
        int64_t left = s->flush_until_ms - mono_ms();
        t = left < t ? left : t;
    }
    pthread_mutex_unlock(&s->lock);
    return t > 0 ? t : 0;
}

/* Send the encoded batch of n samples until it is delivered, refused, or given up. */
static void
deliver(sw_rw_send *s, size_t n)
{
    char detail[SW_RW_SEND_BODY_EXCERPT + SW_ERR_MSG_MAX];
    for (unsigned attempt = 0;; attempt++) {
        int64_t timeout = request_timeout(s);
        long status = 0;
        int64_t retry_after_s = 0;
        if (timeout == 0) {
            count(s, &s->stats.dropped, n);
            emit(s, (sw_rw_send_event){SW_RW_SEND_ABANDONED, n, 0, "flush deadline passed", 0});
            return;
        }
        post_once(s, timeout, &status, &retry_after_s, detail, sizeof detail);
        sw_rw_send_verdict v = sw_rw_send_judge(status);
        if (v == SW_RW_SEND_DELIVERED) {
            count(s, &s->stats.sent, n);
            if (attempt > 0)
                emit(s, (sw_rw_send_event){SW_RW_SEND_RECOVERED, n, status, "", 0});
            return;
        }
        if (v == SW_RW_SEND_DROP) {
            detail[SW_RW_SEND_BODY_EXCERPT] = '\0';
            count(s, &s->stats.failed, n);
            emit(s, (sw_rw_send_event){SW_RW_SEND_REJECTED, n, status, detail, 0});
            return;
        }
        int64_t wait = sw_rw_send_backoff_ms(&s->cfg, attempt, retry_after_s, &s->rng);
        emit(s, (sw_rw_send_event){SW_RW_SEND_RETRYING, n, status, detail, wait});
        if (!backoff(s, wait)) {
            count(s, &s->stats.dropped, n);
            emit(s, (sw_rw_send_event){SW_RW_SEND_ABANDONED, n, status, detail, 0});
            return;
        }
        count(s, &s->stats.retried, n);
    }
}

static void
send_batch(sw_rw_send *s, size_t n)
{
    sw_err err;
    sw_buf_reset(&s->body);
    if (sw_rw_encode(s->batch, n, &s->body, &err) != SW_OK) {
        count(s, &s->stats.failed, n);
        emit(s, (sw_rw_send_event){SW_RW_SEND_REJECTED, n, 0, err.msg, 0});
    } else {
        deliver(s, n);
    }
    for (size_t i = 0; i < n; i++) {
        sw_rw_hist_free(s->batch[i].hist);
        s->batch[i].hist = NULL;
    }
}

static void *
sender_main(void *arg)
{
    sw_rw_send *s = arg;
    sw_thread_prio_set("sw-rw-send", s->cfg.nice);
    pthread_mutex_lock(&s->lock);
    size_t n;
    while ((n = next_batch(s)) > 0) {
        pthread_mutex_unlock(&s->lock);
        send_batch(s, n);
        pthread_mutex_lock(&s->lock);
    }
    /* Stopped with the flush deadline passed: what is left is dropped, and said so. */
    while ((n = sw_rw_queue_take(s->queue, s->batch, s->cfg.max_samples_per_send)) > 0) {
        s->stats.dropped += n;
        for (size_t i = 0; i < n; i++)
            sw_rw_hist_free(s->batch[i].hist);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* ------------------------------------------------------------------ lifecycle */

static sw_status
check_config(const sw_rw_send_config *c, sw_err *err)
{
    if (c->url == NULL ||
        (strncmp(c->url, "http://", 7) != 0 && strncmp(c->url, "https://", 8) != 0))
        return sw_err_set(err, SW_E_INVAL, "remote write: expected an http:// or https:// URL");
    if (c->capacity < 1 || c->max_samples_per_send < 1 || c->timeout_ms < 1 ||
        c->batch_send_deadline_ms < 1 || c->flush_deadline_ms < 0)
        return sw_err_set(err, SW_E_INVAL,
                          "remote write: capacity, max samples per send, timeout and batch "
                          "deadline must be positive");
    if (c->min_backoff_ms < 1 || c->max_backoff_ms < c->min_backoff_ms)
        return sw_err_set(err, SW_E_INVAL,
                          "remote write: expected 1 ms <= min_backoff <= max_backoff");
    if ((c->basic_user == NULL) != (c->basic_password == NULL))
        return sw_err_set(err, SW_E_INVAL, "remote write: basic auth needs a user and a password");
    return SW_OK;
}

static bool
add_header(sw_rw_send *s, const char *name, const char *value)
{
    size_t n = strlen(name) + strlen(value) + 3;
    char *line = malloc(n);
    if (line == NULL)
        return false;
    snprintf(line, n, "%s: %s", name, value);
    s->headers[s->n_headers++] = line;
    return true;
}

/* The 1.0 headers, then the configured lines (which may override none of them: curl sends a
 * repeated header twice), NULL-terminated. */
static bool
build_headers(sw_rw_send *s, const sw_rw_send_config *c)
{
    s->headers = calloc(c->n_headers + 3, sizeof *s->headers);
    if (s->headers == NULL || !add_header(s, "Content-Encoding", "snappy") ||
        !add_header(s, "X-Prometheus-Remote-Write-Version", "0.1.0"))
        return false;
    for (size_t i = 0; i < c->n_headers; i++)
        if ((s->headers[s->n_headers++] = strdup(c->headers[i])) == NULL)
            return false;
    return true;
}

static char *
dup_or_null(const char *p, bool *ok)
{
    char *d = p != NULL ? strdup(p) : NULL;
    *ok = *ok && (p == NULL || d != NULL);
    return d;
}

static sw_status
init_state(sw_rw_send *s, const sw_rw_send_config *c, sw_err *err)
{
    bool ok = true;
    s->cfg = *c;
    s->url = dup_or_null(c->url, &ok);
    s->bearer = dup_or_null(c->bearer_token, &ok);
    s->basic_user = dup_or_null(c->basic_user, &ok);
    s->basic_password = dup_or_null(c->basic_password, &ok);
    s->ca_file = dup_or_null(c->ca_file, &ok);
    s->rng = c->seed;
    sw_buf_init(&s->body, RW_BODY_MAX);
    s->batch = calloc(c->max_samples_per_send, sizeof *s->batch);
    if (!ok || s->batch == NULL || !build_headers(s, c))
        return sw_err_set(err, SW_E_NOMEM, "remote write: out of memory starting a sender");
    /* The copies are what the thread reads; the caller's strings may go. */
    s->cfg.url = s->url;
    s->cfg.bearer_token = s->bearer;
    s->cfg.ca_file = s->ca_file;
    s->cfg.basic_user = s->basic_user;
    s->cfg.basic_password = s->basic_password;
    s->cfg.headers = NULL;
    s->cfg.n_headers = 0;
    sw_status st = sw_rw_queue_new(c->capacity, &s->queue, err);
    return st == SW_OK ? sw_http_client_new(&s->http, err) : st;
}

static void
init_sync(sw_rw_send *s)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&s->wake, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&s->lock, NULL);
}

sw_status
sw_rw_send_new(const sw_rw_send_config *c, sw_rw_send **ret, sw_err *err)
{
    sw_status st = check_config(c, err);
    if (st != SW_OK)
        return st;
    sw_rw_send *s = calloc(1, sizeof *s);
    if (s == NULL)
        return sw_err_set(err, SW_E_NOMEM, "remote write: out of memory starting a sender");
    init_sync(s);
    st = init_state(s, c, err);
    if (st == SW_OK && pthread_create(&s->thread, NULL, sender_main, s) != 0)
        st = sw_err_set(err, SW_E_NOMEM, "remote write: cannot start the sender thread");
    s->started = st == SW_OK;
    if (st != SW_OK) {
        sw_rw_send_free(s);
        return st;
    }
    *ret = s;
    return SW_OK;
}

void
sw_rw_send_free(sw_rw_send *s)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->lock);
    s->stopping = true;
    s->flush_until_ms = mono_ms() + s->cfg.flush_deadline_ms;
    pthread_cond_broadcast(&s->wake);
    pthread_mutex_unlock(&s->lock);
    if (s->started)
        pthread_join(s->thread, NULL);
    sw_rw_queue_free(s->queue);
    sw_http_client_free(s->http);
    sw_buf_fini(&s->body);
    for (rw_series *p = s->series, *next; p != NULL; p = next) {
        next = p->next;
        free(p);
    }
    for (size_t i = 0; s->headers != NULL && i < s->n_headers; i++)
        free(s->headers[i]);
    free(s->headers);
    free(s->batch);
    free(s->url);
    free(s->bearer);
    free(s->basic_user);
    free(s->basic_password);
    free(s->ca_file);
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
