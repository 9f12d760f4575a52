/*
 * The scraper: jobs (copied from the configuration, credentials read), their targets (static
 * ones built once, file_sd ones rebuilt when a file changes) and one scrape_target per distinct
 * target identity, which keeps its phase and health across reloads. The scraping thread does
 * everything; stats_lock guards the target table and health against sw_scrape_stats readers.
 */
#include "slawatch/scrape.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "slawatch/http_client.h"

#define MAX_CREDENTIALS 4096 /* bytes of a credentials or password file */

typedef struct job_state {
    char *name, *scheme, *metrics_path;
    int64_t interval_ms, timeout_ms, body_limit, sd_refresh_ms, next_sd_ms;
    char *authorization, *basic_user, *basic_password;
    char *ca_file, *cert_file, *key_file, *server_name;
    bool insecure;
    sw_relabel *relabel;
    sw_target *static_targets, *sd_targets;
    size_t n_static, n_sd;
    sw_targets_sd *sd; /* NULL without file_sd */
} job_state;

typedef struct scrape_target {
    sw_scrape *owner;
    sw_target t;
    const job_state *job;
    int64_t phase_ms, next_due_ms, at_ms;
    struct timespec started;
    bool in_flight, gone, seen; /* seen: still wanted by the last reconcile */
    /* health, under the owner's stats_lock */
    bool up;
    double duration_seconds;
    uint64_t samples;
    uint64_t failures[SW_SCRAPE_N_REASONS];
} scrape_target;

struct sw_scrape {
    sw_scrape_consumer consumer;
    sw_http_client *http;
    job_state **jobs;
    size_t n_jobs;
    scrape_target **targets;
    size_t n_targets;
    pthread_mutex_t stats_lock;
    bool closing; /* being freed: finished transfers are dropped unjudged */
};

static const char *const reason_names[] = {
#define SW_SCRAPE_REASON_NAME(name, text) text,
    SW_SCRAPE_REASONS(SW_SCRAPE_REASON_NAME)
#undef SW_SCRAPE_REASON_NAME
};

const char *
sw_scrape_reason_name(sw_scrape_reason r)
{
    return r < SW_SCRAPE_N_REASONS ? reason_names[r] : "unknown";
}

/* ------------------------------------------------------------------ negotiation */

/* Does the media type (before ';', case-insensitive, spaces around ignored) equal type? */
static bool
media_type_is(const char *ct, const char *type)
{
    while (*ct == ' ')
        ct++;
    size_t n = strcspn(ct, ";");
    while (n > 0 && ct[n - 1] == ' ')
        n--;
    return n == strlen(type) && strncasecmp(ct, type, n) == 0;
}

/* The value of parameter name in a Content-Type, into out ("" when absent). */
static void
param_of(const char *ct, const char *name, char *out, size_t cap)
{
    out[0] = '\0';
    size_t name_len = strlen(name);
    for (const char *p = strchr(ct, ';'); p != NULL; p = strchr(p + 1, ';')) {
        const char *k = p + 1;
        while (*k == ' ')
            k++;
        if (strncasecmp(k, name, name_len) != 0 || k[name_len] != '=')
            continue;
        const char *v = k + name_len + 1;
        size_t n = strcspn(v, "; ");
        snprintf(out, cap, "%.*s", (int)n, v);
        return;
    }
}

sw_scrape_format
sw_scrape_format_of(const char *content_type)
{
    if (media_type_is(content_type, "application/openmetrics-text"))
        return SW_SCRAPE_OPENMETRICS;
    if (media_type_is(content_type, "application/vnd.google.protobuf")) {
        char proto[64], encoding[32];
        param_of(content_type, "proto", proto, sizeof proto);
        param_of(content_type, "encoding", encoding, sizeof encoding);
        if (strcmp(proto, "io.prometheus.client.MetricFamily") == 0 &&
            strcmp(encoding, "delimited") == 0)
            return SW_SCRAPE_PROTOBUF;
    }
    return SW_SCRAPE_TEXT;
}

/* ------------------------------------------------------------------ phase */

int64_t
sw_scrape_phase_ms(const char *identity, int64_t interval_ms)
{
    /* FNV-1a 64: stable across runs and machines, so a target keeps its slot. */
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const unsigned char *p = (const unsigned char *)identity; *p != '\0'; p++)
        h = (h ^ *p) * 0x100000001b3ULL;
    return (int64_t)(h % (uint64_t)interval_ms);
}

/* The first time at or after now_ms that falls on the phase. */
static int64_t
first_due(int64_t now_ms, int64_t phase_ms, int64_t interval_ms)
{
    int64_t due = now_ms - (now_ms % interval_ms) + phase_ms;
    return due < now_ms ? due + interval_ms : due;
}

/* ------------------------------------------------------------------ jobs */

static void
job_free(job_state *j)
{
    if (j == NULL)
        return;
    free(j->name);
    free(j->scheme);
    free(j->metrics_path);
    free(j->authorization);
    free(j->basic_user);
    free(j->basic_password);
    free(j->ca_file);
    free(j->cert_file);
    free(j->key_file);
    free(j->server_name);
    sw_relabel_free(j->relabel);
    sw_targets_free(j->static_targets, j->n_static);
    sw_targets_free(j->sd_targets, j->n_sd);
    sw_targets_sd_free(j->sd);
    free(j);
}

/* A credentials file's content without surrounding whitespace, as Prometheus trims it. */
static sw_status
read_secret(const char *path, char **ret, sw_err *err)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return sw_err_sys(err, SW_E_IO, "cannot read the credentials file %s", path);
    char *buf = malloc(MAX_CREDENTIALS + 1);
    size_t n = buf != NULL ? fread(buf, 1, MAX_CREDENTIALS + 1, f) : 0;
    fclose(f);
    if (buf == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory reading %s", path);
    if (n > MAX_CREDENTIALS) {
        free(buf);
        return sw_err_set(err, SW_E_TOOBIG, "the credentials file %s exceeds %d bytes", path,
                          MAX_CREDENTIALS);
    }
    while (n > 0 && isspace((unsigned char)buf[n - 1]))
        n--;
    buf[n] = '\0';
    size_t lead = strspn(buf, " \t\r\n");
    memmove(buf, buf + lead, n - lead + 1);
    *ret = buf;
    return SW_OK;
}

static char *
dup_opt(const char *s, bool *nomem)
{
    if (s == NULL)
        return NULL;
    char *d = strdup(s);
    *nomem |= d == NULL;
    return d;
}

static sw_status
job_auth(job_state *j, const sw_scrape_job *cfg, sw_err *err)
{
    sw_status st = SW_OK;
    char *secret = NULL;
    if (cfg->auth_type != NULL) {
        if (cfg->auth_credentials_file != NULL)
            st = read_secret(cfg->auth_credentials_file, &secret, err);
        else if ((secret = strdup(cfg->auth_credentials ? cfg->auth_credentials : "")) == NULL)
            st = sw_err_set(err, SW_E_NOMEM, "out of memory");
        size_t n = strlen(cfg->auth_type) + (secret ? strlen(secret) : 0) + 2;
        if (st == SW_OK && (j->authorization = malloc(n)) != NULL)
            snprintf(j->authorization, n, "%s %s", cfg->auth_type, secret);
        else if (st == SW_OK)
            st = sw_err_set(err, SW_E_NOMEM, "out of memory");
    } else if (cfg->basic_password_file != NULL) {
        st = read_secret(cfg->basic_password_file, &j->basic_password, err);
    }
    free(secret);
    if (st != SW_OK)
        sw_err_prefix(err, "job %s", cfg->job_name);
    return st;
}

static sw_status
job_copy(job_state *j, const sw_scrape_job *cfg, sw_err *err)
{
    bool nomem = false;
    j->name = dup_opt(cfg->job_name, &nomem);
    j->scheme = dup_opt(cfg->scheme ? cfg->scheme : "http", &nomem);
    j->metrics_path = dup_opt(cfg->metrics_path ? cfg->metrics_path : "/metrics", &nomem);
    j->basic_user = dup_opt(cfg->basic_username, &nomem);
    if (cfg->basic_password_file == NULL)
        j->basic_password = dup_opt(cfg->basic_password, &nomem);
    j->ca_file = dup_opt(cfg->tls.ca_file, &nomem);
    j->cert_file = dup_opt(cfg->tls.cert_file, &nomem);
    j->key_file = dup_opt(cfg->tls.key_file, &nomem);
    j->server_name = dup_opt(cfg->tls.server_name, &nomem);
    j->insecure = cfg->tls.insecure_skip_verify;
    j->interval_ms = cfg->interval_ms;
    j->timeout_ms = cfg->timeout_ms;
    j->body_limit = cfg->body_size_limit > 0 ? cfg->body_size_limit : SW_SCRAPE_DEFAULT_BODY_LIMIT;
    j->sd_refresh_ms = cfg->sd_refresh_ms > 0 ? cfg->sd_refresh_ms : 300000;
    if (nomem)
        return sw_err_set(err, SW_E_NOMEM, "out of memory copying job %s", cfg->job_name);
    return job_auth(j, cfg, err);
}

static void
warn_problem(void *ctx, const sw_err *problem)
{
    const sw_scrape *s = ctx;
    if (s->consumer.problem != NULL)
        s->consumer.problem(s->consumer.ctx, NULL, problem);
}

static sw_targets_job
targets_job(const job_state *j)
{
    return (sw_targets_job){j->name, j->scheme, j->metrics_path, j->relabel};
}

/* Re-read the job's file_sd files; rebuild its file targets when any changed. */
static sw_status
job_refresh_sd(sw_scrape *s, job_state *j, bool *ret_changed, sw_err *err)
{
    bool changed;
    sw_targets_sd_refresh(j->sd, &changed, warn_problem, s);
    *ret_changed = false;
    if (!changed)
        return SW_OK;
    sw_target_group *groups;
    size_t n_groups, n;
    sw_target *ts;
    sw_status st = sw_targets_sd_groups(j->sd, &groups, &n_groups, err);
    if (st != SW_OK)
        return st;
    sw_targets_job tj = targets_job(j);
    st = sw_targets_build(&tj, groups, n_groups, warn_problem, s, &ts, &n, err);
    free(groups);
    if (st != SW_OK)
        return st;
    sw_targets_free(j->sd_targets, j->n_sd);
    j->sd_targets = ts;
    j->n_sd = n;
    *ret_changed = true;
    return SW_OK;
}

static sw_status
job_new(sw_scrape *s, const sw_scrape_job *cfg, int64_t now_ms, job_state **ret, sw_err *err)
{
    job_state *j = calloc(1, sizeof *j);
    if (j == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory copying job %s", cfg->job_name);
    sw_status st = job_copy(j, cfg, err);
    if (st == SW_OK)
        st = sw_relabel_new(cfg->relabel, cfg->n_relabel, &j->relabel, err);
    sw_targets_job tj = targets_job(j);
    if (st == SW_OK)
        st = sw_targets_build(&tj, cfg->static_groups, cfg->n_static_groups, warn_problem, s,
                              &j->static_targets, &j->n_static, err);
    if (st == SW_OK && cfg->n_sd_files > 0)
        st = sw_targets_sd_new(cfg->sd_files, cfg->n_sd_files, &j->sd, err);
    bool changed;
    if (st == SW_OK && j->sd != NULL)
        st = job_refresh_sd(s, j, &changed, err);
    if (st != SW_OK) {
        job_free(j);
        return st;
    }
    j->next_sd_ms = now_ms + j->sd_refresh_ms;
    *ret = j;
    return SW_OK;
}

/* ------------------------------------------------------------------ targets */

static void
target_free(scrape_target *t)
{
    sw_relabel_clear(&t->t.labels);
    free(t->t.url);
    free(t->t.identity);
    free(t);
}

static scrape_target *
target_new(sw_scrape *s, const sw_target *src, const job_state *j, int64_t now_ms)
{
    scrape_target *t = calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    t->owner = s;
    t->job = j;
    t->t.url = strdup(src->url);
    t->t.identity = strdup(src->identity);
    if (t->t.url == NULL || t->t.identity == NULL ||
        sw_relabel_copy(&t->t.labels, &src->labels, NULL) != SW_OK) {
        target_free(t);
        return NULL;
    }
    t->phase_ms = sw_scrape_phase_ms(t->t.identity, j->interval_ms);
    t->next_due_ms = first_due(now_ms, t->phase_ms, j->interval_ms);
    return t;
}

static scrape_target *
find_target(scrape_target *const *ts, size_t n, const char *identity)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(ts[i]->t.identity, identity) == 0)
            return ts[i];
    return NULL;
}

/* A target of the new table: an existing one (to move to job j) or a new one. */
typedef struct wanted {
    scrape_target *t;
    const job_state *j;
    bool existing;
} wanted;

static bool
already_wanted(const wanted *w, size_t n, const char *identity)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(w[i].t->t.identity, identity) == 0)
            return true;
    return false;
}

/* Plan to keep or create the scrape target for desired target d; nothing existing changes. */
static sw_status
want(sw_scrape *s, const sw_target *d, const job_state *j, int64_t now_ms, wanted *w, size_t *n,
     sw_err *err)
{
    if (already_wanted(w, *n, d->identity))
        return SW_OK; /* the same target twice (static and file_sd): scraped once */
    scrape_target *t = find_target(s->targets, s->n_targets, d->identity);
    bool existing = t != NULL;
    if (!existing && (t = target_new(s, d, j, now_ms)) == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory adding a target");
    w[(*n)++] = (wanted){t, j, existing};
    return SW_OK;
}

/* A target no longer wanted: forgotten now, freed now or when its scrape in flight ends. */
static void
retire(sw_scrape *s, scrape_target *t)
{
    if (s->consumer.forget != NULL)
        s->consumer.forget(s->consumer.ctx, &t->t);
    if (t->in_flight)
        t->gone = true;
    else
        target_free(t);
}

/* Install the planned table: kept targets move to their new job, the rest retire. */
static void
install(sw_scrape *s, const wanted *w, size_t n, scrape_target **table, int64_t now_ms)
{
    for (size_t i = 0; i < s->n_targets; i++)
        s->targets[i]->seen = false;
    for (size_t i = 0; i < n; i++) {
        scrape_target *t = w[i].t;
        if (w[i].existing && t->job->interval_ms != w[i].j->interval_ms) {
            t->phase_ms = sw_scrape_phase_ms(t->t.identity, w[i].j->interval_ms);
            t->next_due_ms = first_due(now_ms, t->phase_ms, w[i].j->interval_ms);
        }
        t->job = w[i].j;
        t->seen = true;
        table[i] = t;
    }
    pthread_mutex_lock(&s->stats_lock);
    for (size_t i = 0; i < s->n_targets; i++)
        if (!s->targets[i]->seen)
            retire(s, s->targets[i]);
    free(s->targets);
    s->targets = table;
    s->n_targets = n;
    pthread_mutex_unlock(&s->stats_lock);
}

/* Make the target table match the jobs' targets; on error nothing changes. */
static sw_status
reconcile(sw_scrape *s, job_state *const *jobs, size_t n_jobs, int64_t now_ms, sw_err *err)
{
    size_t total = 0, n = 0;
    for (size_t i = 0; i < n_jobs; i++)
        total += jobs[i]->n_static + jobs[i]->n_sd;
    wanted *w = calloc(total ? total : 1, sizeof *w);
    scrape_target **table = calloc(total ? total : 1, sizeof *table);
    sw_status st = w != NULL && table != NULL
                       ? SW_OK
                       : sw_err_set(err, SW_E_NOMEM, "out of memory for %zu targets", total);
    for (size_t i = 0; i < n_jobs && st == SW_OK; i++) {
        const job_state *j = jobs[i];
        for (size_t k = 0; k < j->n_static && st == SW_OK; k++)
            st = want(s, &j->static_targets[k], j, now_ms, w, &n, err);
        for (size_t k = 0; k < j->n_sd && st == SW_OK; k++)
            st = want(s, &j->sd_targets[k], j, now_ms, w, &n, err);
    }
    if (st == SW_OK) {
        install(s, w, n, table, now_ms);
        table = NULL;
    }
    for (size_t i = 0; st != SW_OK && i < n; i++)
        if (!w[i].existing)
            target_free(w[i].t);
    free(w);
    free(table);
    return st;
}

/* ------------------------------------------------------------------ scraping */

static double
seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* The target's URL for messages: credentials in it never reach a log line. */
static const char *
redacted(const scrape_target *t, char *out, size_t cap)
{
    sw_http_client_redact_url(t->t.url, out, cap);
    return out;
}

/* Judge a finished transfer and apply its body; SW_SCRAPE_N_REASONS when it succeeded. */
static sw_scrape_reason
judge(scrape_target *t, sw_http_fetch_result *res, uint64_t *samples, sw_err *err)
{
    const sw_scrape_consumer *c = &t->owner->consumer;
    char where[256];
    if (res->err.code != SW_OK) {
        *err = res->err;
        return res->timed_out                  ? SW_SCRAPE_FAIL_TIMEOUT
               : res->err.code == SW_E_TOOBIG ? SW_SCRAPE_FAIL_TOO_BIG
                                               : SW_SCRAPE_FAIL_CONNECT;
    }
    if (res->resp.status != 200) {
        sw_err_set(err, SW_E_IO, "%s: HTTP status %ld", redacted(t, where, sizeof where),
                   res->resp.status);
        return SW_SCRAPE_FAIL_STATUS;
    }
    sw_scrape_format fmt = sw_scrape_format_of(res->resp.content_type);
    if (c->apply(c->ctx, &t->t, fmt, res->resp.body.data, res->resp.body.len, t->at_ms, samples,
                 err) != SW_OK) {
        sw_err_prefix(err, "%s", redacted(t, where, sizeof where));
        return SW_SCRAPE_FAIL_PARSE;
    }
    return SW_SCRAPE_N_REASONS;
}

static void
on_done(void *ctx, sw_http_fetch_result *res)
{
    scrape_target *t = ctx;
    t->in_flight = false;
    if (t->gone || t->owner->closing) {
        sw_http_fetch_result_fini(res);
        if (t->gone)
            target_free(t);
        return;
    }
    sw_err err = {0};
    uint64_t samples = 0;
    sw_scrape_reason why = judge(t, res, &samples, &err);
    sw_http_fetch_result_fini(res);
    sw_scrape *s = t->owner;
    pthread_mutex_lock(&s->stats_lock);
    t->up = why == SW_SCRAPE_N_REASONS;
    t->duration_seconds = seconds_since(&t->started);
    t->samples = t->up ? samples : 0;
    if (!t->up)
        t->failures[why]++;
    pthread_mutex_unlock(&s->stats_lock);
    if (!t->up && s->consumer.problem != NULL)
        s->consumer.problem(s->consumer.ctx, &t->t, &err);
}

static void
start_scrape(sw_scrape *s, scrape_target *t, int64_t now_ms)
{
    const job_state *j = t->job;
    sw_http_fetch_request rq = {
        .url = t->t.url,
        .timeout_ms = j->timeout_ms,
        .max_response_bytes = (size_t)j->body_limit,
        .accept = SW_SCRAPE_ACCEPT,
        .accept_gzip = true,
        .authorization = j->authorization,
        .basic_user = j->basic_user,
        .basic_password = j->basic_password,
        .tls_ca_file = j->ca_file,
        .tls_cert_file = j->cert_file,
        .tls_key_file = j->key_file,
        .tls_server_name = j->server_name,
        .tls_insecure = j->insecure,
    };
    t->at_ms = now_ms;
    clock_gettime(CLOCK_MONOTONIC, &t->started);
    sw_err err;
    if (sw_http_client_start(s->http, &rq, on_done, t, &err) == SW_OK) {
        t->in_flight = true;
        return;
    }
    pthread_mutex_lock(&s->stats_lock);
    t->up = false;
    t->failures[SW_SCRAPE_FAIL_CONNECT]++;
    pthread_mutex_unlock(&s->stats_lock);
    if (s->consumer.problem != NULL)
        s->consumer.problem(s->consumer.ctx, &t->t, &err);
}

static void
start_due(sw_scrape *s, int64_t now_ms)
{
    for (size_t i = 0; i < s->n_targets; i++) {
        scrape_target *t = s->targets[i];
        if (t->next_due_ms > now_ms)
            continue;
        /* A scrape still running at its next turn is not doubled; missed turns are skipped. */
        if (!t->in_flight)
            start_scrape(s, t, now_ms);
        t->next_due_ms += t->job->interval_ms;
        if (t->next_due_ms <= now_ms)
            t->next_due_ms = first_due(now_ms + 1, t->phase_ms, t->job->interval_ms);
    }
}

static void
refresh_due_sd(sw_scrape *s, int64_t now_ms)
{
    bool any = false;
    for (size_t i = 0; i < s->n_jobs; i++) {
        job_state *j = s->jobs[i];
        if (j->sd == NULL || j->next_sd_ms > now_ms)
            continue;
        j->next_sd_ms = now_ms + j->sd_refresh_ms;
        bool changed = false;
        sw_err err;
        if (job_refresh_sd(s, j, &changed, &err) != SW_OK)
            warn_problem(s, &err);
        any |= changed;
    }
    sw_err err;
    if (any && reconcile(s, s->jobs, s->n_jobs, now_ms, &err) != SW_OK)
        warn_problem(s, &err);
}

sw_status
sw_scrape_run(sw_scrape *s, int64_t now_ms, int64_t wait_ms, sw_err *err)
{
    refresh_due_sd(s, now_ms);
    start_due(s, now_ms);
    int64_t until_due = sw_scrape_next_due_ms(s) - now_ms;
    if (until_due < wait_ms)
        wait_ms = until_due > 0 ? until_due : 0;
    size_t running;
    return sw_http_client_drive(s->http, wait_ms, &running, err);
}

int64_t
sw_scrape_next_due_ms(const sw_scrape *s)
{
    int64_t next = INT64_MAX;
    for (size_t i = 0; i < s->n_targets; i++)
        if (s->targets[i]->next_due_ms < next)
            next = s->targets[i]->next_due_ms;
    for (size_t i = 0; i < s->n_jobs; i++)
        if (s->jobs[i]->sd != NULL && s->jobs[i]->next_sd_ms < next)
            next = s->jobs[i]->next_sd_ms;
    return next;
}

/* ------------------------------------------------------------------ lifecycle */

sw_status
sw_scrape_new(const sw_scrape_consumer *consumer, sw_scrape **ret, sw_err *err)
{
    SW_REQUIRE(consumer != NULL && consumer->apply != NULL);
    sw_scrape *s = calloc(1, sizeof *s);
    if (s == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory starting the scraper");
    s->consumer = *consumer;
    sw_status st = sw_http_client_new(&s->http, err);
    if (st != SW_OK) {
        free(s);
        return st;
    }
    pthread_mutex_init(&s->stats_lock, NULL);
    *ret = s;
    return SW_OK;
}

static void
free_jobs(job_state **jobs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        job_free(jobs[i]);
    free(jobs);
}

void
sw_scrape_free(sw_scrape *s)
{
    if (s == NULL)
        return;
    /* First the transfers: their callbacks free retired targets and touch no others. */
    s->closing = true;
    sw_http_client_free(s->http);
    for (size_t i = 0; i < s->n_targets; i++)
        target_free(s->targets[i]);
    free(s->targets);
    free_jobs(s->jobs, s->n_jobs);
    pthread_mutex_destroy(&s->stats_lock);
    free(s);
}

sw_status
sw_scrape_set_jobs(sw_scrape *s, const sw_scrape_job *jobs, size_t n, int64_t now_ms,
                   sw_err *err)
{
    job_state **js = calloc(n ? n : 1, sizeof *js);
    if (js == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory copying %zu jobs", n);
    sw_status st = SW_OK;
    for (size_t i = 0; i < n && st == SW_OK; i++)
        st = job_new(s, &jobs[i], now_ms, &js[i], err);
    if (st == SW_OK)
        st = reconcile(s, js, n, now_ms, err);
    if (st != SW_OK) {
        free_jobs(js, n);
        return st;
    }
    free_jobs(s->jobs, s->n_jobs);
    s->jobs = js;
    s->n_jobs = n;
    return SW_OK;
}

/* ------------------------------------------------------------------ stats */

void
sw_scrape_stats_free(sw_scrape_target_stats *st, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(st[i].job);
        free(st[i].instance);
    }
    free(st);
}

sw_status
sw_scrape_stats(sw_scrape *s, sw_scrape_target_stats **ret, size_t *ret_n, sw_err *err)
{
    pthread_mutex_lock(&s->stats_lock);
    size_t n = s->n_targets;
    sw_scrape_target_stats *st = calloc(n ? n : 1, sizeof *st);
    bool nomem = st == NULL;
    for (size_t i = 0; !nomem && i < n; i++) {
        const scrape_target *t = s->targets[i];
        const char *job = sw_relabel_get(&t->t.labels, "job");
        const char *instance = sw_relabel_get(&t->t.labels, "instance");
        st[i] = (sw_scrape_target_stats){.up = t->up, .duration_seconds = t->duration_seconds,
                                         .samples = t->samples};
        memcpy(st[i].failures, t->failures, sizeof st[i].failures);
        st[i].job = strdup(job != NULL ? job : "");
        st[i].instance = strdup(instance != NULL ? instance : "");
        nomem = st[i].job == NULL || st[i].instance == NULL;
    }
    pthread_mutex_unlock(&s->stats_lock);
    if (nomem) {
        sw_scrape_stats_free(st, st != NULL ? n : 0);
        return sw_err_set(err, SW_E_NOMEM, "out of memory copying scrape stats");
    }
    *ret = st;
    *ret_n = n;
    return SW_OK;
}
