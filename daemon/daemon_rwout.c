/*
 * The daemon's remote-write side: one sender per `remote_write` entry, fed on the tick thread
 * with each series' totals (the /metrics counters and latency histogram) stamped with the end
 * of the interval just ingested, so the receiver sees cumulative counters and a cumulative
 * native histogram, as Prometheus' own remote write sends them; and, at every tick, the rest of
 * the per-service series of /metrics (SLIs per window, objectives, budgets, alerts, triggers,
 * gate verdicts, the classic latency buckets), visited in the snapshot as its text exposition
 * would hold them (sw_snapshot_metrics_visit), so they are the very values a scrape of this
 * instance gets, without rendering and parsing the text. A sharded instance adds
 * `shard="INDEX"` to its external labels. Senders log through events raised on their own
 * threads; everything else here runs on the tick thread.
 */
#include <stdlib.h>
#include <string.h>

#include "daemon_int.h"
#include "slawatch/http_client.h"
#include "slawatch/log.h"
#include "slawatch/rw_send.h"
#include "slawatch/snapshot.h"

/* Extra labels a series carries besides __name__, service and env. */
#define RWOUT_LABELS_MAX (3 + SW_EXPO_LABELS_MAX)
/* Bytes of one forwarded /metrics sample's name and label texts; longer ones are skipped. */
#define RWOUT_TEXT_MAX 4096

struct sw_daemon_rwout {
    size_t n;
    sw_rw_send **senders;
    char **names;
    const char *const **external; /* per sender: name, value pairs copied at start */
    size_t *n_external;
    sw_metrics_remote *stats;
    sw_expo *expo; /* native buckets of the latency totals */
};

static const char *const counter_names[] = {
    "slawatch_requests_total", "slawatch_request_errors_total", "slawatch_health_probes_total",
    "slawatch_health_probe_failures_total"};
#define LATENCY_NAME "slawatch_request_duration_seconds"

static void
on_event(void *ctx, const sw_rw_send_event *ev)
{
    const char *name = ctx;
    char status[16], samples[24], wait[24];
    snprintf(status, sizeof status, "%ld", ev->status);
    snprintf(samples, sizeof samples, "%zu", ev->samples);
    snprintf(wait, sizeof wait, "%lldms", (long long)ev->retry_in_ms);
    switch (ev->kind) {
    case SW_RW_SEND_RETRYING:
        sw_log(SW_LOG_WARN, "remote write failed; retrying", "remote", name, "status", status,
               "samples", samples, "retry_in", wait, "detail", ev->detail, NULL);
        break;
    case SW_RW_SEND_RECOVERED:
        sw_log(SW_LOG_INFO, "remote write recovered", "remote", name, "samples", samples, NULL);
        break;
    case SW_RW_SEND_REJECTED:
        sw_log(SW_LOG_ERROR, "remote write refused; batch dropped", "remote", name, "status",
               status, "samples", samples, "body", ev->detail, NULL);
        break;
    case SW_RW_SEND_ABANDONED:
        sw_log(SW_LOG_ERROR, "remote write unsent at shutdown; batch dropped", "remote", name,
               "samples", samples, "detail", ev->detail, NULL);
        break;
    }
}

static char *
remote_name(const sw_config_remote_write *c)
{
    char redacted[256];
    if (c->name != NULL)
        return strdup(c->name);
    sw_http_client_redact_url(c->url, redacted, sizeof redacted);
    return strdup(redacted);
}

/* The secrets are read here, at start, and forgotten once the sender has its copies. */
static sw_status
start_one(const sw_config_remote_write *c, const char *name, uint64_t seed, int nice,
          sw_rw_send **ret, sw_err *err)
{
    char *token = NULL, *password = NULL;
    sw_status st = c->bearer_token_file != NULL
                       ? sw_daemon_read_secret(c->bearer_token_file, &token, err)
                       : SW_OK;
    if (st == SW_OK && c->basic_password_file != NULL)
        st = sw_daemon_read_secret(c->basic_password_file, &password, err);
    sw_rw_send_config sc = {.url = c->url,
                            .bearer_token = token,
                            .basic_user = c->basic_user,
                            .basic_password = password,
                            .headers = c->headers,
                            .n_headers = c->n_headers,
                            .ca_file = c->ca_file,
                            .timeout_ms = c->timeout_ms,
                            .capacity = (size_t)c->capacity,
                            .max_samples_per_send = (size_t)c->max_samples_per_send,
                            .batch_send_deadline_ms = c->batch_send_deadline_ms,
                            .min_backoff_ms = c->min_backoff_ms,
                            .max_backoff_ms = c->max_backoff_ms,
                            .flush_deadline_ms = c->flush_deadline_ms,
                            .seed = seed,
                            .nice = nice,
                            .on_event = on_event,
                            .event_ctx = (void *)name};
    if (st == SW_OK)
        st = sw_rw_send_new(&sc, ret, err);
    free(token);
    free(password);
    return st;
}

static void
rwout_free(sw_daemon_rwout *r)
{
    for (size_t i = 0; i < r->n; i++) {
        sw_rw_send_free(r->senders[i]);
        free(r->names[i]);
        for (size_t k = 0; r->external[i] != NULL && r->external[i][k] != NULL; k++)
            free((char *)r->external[i][k]);
        free((void *)r->external[i]);
    }
    free(r->senders);
    free(r->names);
    free(r->external);
    free(r->n_external);
    free(r->stats);
    sw_expo_free(r->expo);
    free(r);
}

static bool
has_label(const sw_config_remote_write *c, const char *name)
{
    for (size_t k = 0; k < c->n_external_labels; k++)
        if (strcmp(c->external_labels[2 * k], name) == 0)
            return true;
    return false;
}

/* The entry's external labels, and `shard` when sharded (unless the entry names it itself:
 * a shard may be called eu-1 rather than 0). */
static bool
copy_external(sw_daemon_rwout *r, size_t i, const sw_config_remote_write *c, const sw_shard *sh)
{
    size_t n = 2 * c->n_external_labels;
    bool add_shard = sh->count > 0 && !has_label(c, "shard");
    const char **pairs = calloc(n + 3, sizeof *pairs);
    r->external[i] = pairs;
    if (pairs == NULL)
        return false;
    for (size_t k = 0; k < n; k++)
        if ((pairs[k] = strdup(c->external_labels[k])) == NULL)
            return false;
    r->n_external[i] = c->n_external_labels;
    if (add_shard) {
        char index[16];
        snprintf(index, sizeof index, "%u", (unsigned)sh->index);
        if ((pairs[n] = strdup("shard")) == NULL || (pairs[n + 1] = strdup(index)) == NULL)
            return false;
        r->n_external[i]++;
    }
    return true;
}

static sw_daemon_rwout *
rwout_alloc(size_t n)
{
    sw_daemon_rwout *r = calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    r->senders = calloc(n, sizeof *r->senders);
    r->names = calloc(n, sizeof *r->names);
    r->external = calloc(n, sizeof *r->external);
    r->n_external = calloc(n, sizeof *r->n_external);
    r->stats = calloc(n, sizeof *r->stats);
    if (r->senders == NULL || r->names == NULL || r->external == NULL || r->n_external == NULL ||
        r->stats == NULL) {
        rwout_free(r);
        return NULL;
    }
    return r;
}

sw_status
sw_daemon_rwout_start(sw_daemon *d, sw_err *err)
{
    size_t n = d->cfg->n_remote_writes;
    if (n == 0)
        return SW_OK;
    sw_daemon_rwout *r = rwout_alloc(n);
    if (r == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory starting remote write");
    sw_status st = sw_expo_new(&r->expo, err);
    for (size_t i = 0; i < n && st == SW_OK; i++) {
        const sw_config_remote_write *c = &d->cfg->remote_writes[i];
        r->n = i + 1;
        if ((r->names[i] = remote_name(c)) == NULL || !copy_external(r, i, c, &d->shard))
            st = sw_err_set(err, SW_E_NOMEM, "out of memory starting remote write");
        else
            st = start_one(c, r->names[i], (uint64_t)sw_daemon_now(d) + i, d->background_nice,
                           &r->senders[i], err);
    }
    if (st != SW_OK) {
        rwout_free(r);
        return st;
    }
    d->rwout = r;
    return SW_OK;
}

/* Sender i's external labels after the series' own n, as Prometheus adds them: a label the
 * series has already keeps its value. Returns the new count. */
static size_t
add_external(const sw_daemon_rwout *r, size_t i, sw_rw_label *labels, size_t n)
{
    size_t own = n;
    for (size_t k = 0; k < r->n_external[i] && n < RWOUT_LABELS_MAX; k++) {
        const char *name = r->external[i][2 * k];
        bool taken = false;
        for (size_t j = 0; j < own && !taken; j++)
            taken = strcmp(labels[j].name, name) == 0;
        if (!taken)
            labels[n++] = (sw_rw_label){name, r->external[i][2 * k + 1]};
    }
    return n;
}

/* Queue one sample with labels[0..n) (external labels not yet added) on sender i; hist is
 * taken. */
static void
push_labels(sw_daemon_rwout *r, size_t i, sw_rw_label *labels, size_t n, int64_t at_ms,
            double value, sw_rw_hist *hist)
{
    n = add_external(r, i, labels, n);
    const sw_rw_series *series;
    sw_rw_sample sample = {.ts_ms = at_ms, .value = value, .hist = hist};
    sw_err err;
    sw_status st = sw_rw_send_series(r->senders[i], labels, n, &series, &err);
    if (st == SW_OK) {
        sample.series = series;
        st = sw_rw_send_push(r->senders[i], &sample, &err);
    } else {
        sw_rw_hist_free(hist);
    }
    /* An interval older than one already sent is in the next sample's totals: not an error. */
    if (st != SW_OK && st != SW_E_RANGE)
        sw_log_err(SW_LOG_WARN, "remote write sample lost", &err, "remote", r->names[i], NULL);
}

/* Queue one sample of metric for total's series on sender i; hist is taken. */
static void
push(sw_daemon_rwout *r, size_t i, const char *metric, const sw_metrics_series *total,
     int64_t end_ms, double value, sw_rw_hist *hist)
{
    sw_rw_label labels[RWOUT_LABELS_MAX];
    size_t n = 0;
    labels[n++] = (sw_rw_label){"__name__", metric};
    /* One value of a service judged per label value (rules.h): service and that label. */
    char service[1024], label[1024];
    sw_rules_by_parts p;
    if (sw_rules_by_split(total->service, &p)) {
        snprintf(service, sizeof service, "%.*s", (int)p.service_len, p.service);
        snprintf(label, sizeof label, "%.*s", (int)p.label_len, p.label);
        labels[n++] = (sw_rw_label){"service", service};
        labels[n++] = (sw_rw_label){label, p.value};
    } else {
        labels[n++] = (sw_rw_label){"service", total->service};
    }
    if (total->env != NULL)
        labels[n++] = (sw_rw_label){"env", total->env};
    push_labels(r, i, labels, n, end_ms, value, hist);
}

void
sw_daemon_rwout_add(sw_daemon *d, const sw_metrics_series *total, int64_t end_ms)
{
    sw_daemon_rwout *r = d->rwout;
    if (r == NULL)
        return;
    const uint64_t counts[] = {total->requests, total->errors, total->probes,
                               total->probe_failures};
    sw_expo_native nat;
    sw_err err;
    bool have_hist = total->latency_totals != NULL;
    if (have_hist &&
        sw_expo_native_of_totals(r->expo, total->latency_totals, &nat, &err) != SW_OK) {
        sw_log_err(SW_LOG_WARN, "remote write histogram lost", &err, NULL);
        have_hist = false;
    }
    for (size_t i = 0; i < r->n; i++) {
        for (size_t m = 0; m < sizeof counts / sizeof counts[0]; m++)
            push(r, i, counter_names[m], total, end_ms, (double)counts[m], NULL);
        sw_rw_hist *h;
        if (have_hist && sw_rw_hist_new(&nat, &h, &err) == SW_OK)
            push(r, i, LATENCY_NAME, total, end_ms, 0, h);
    }
}

/* One /metrics sample being forwarded: its texts NUL-terminated in one scratch buffer. */
typedef struct forward {
    sw_daemon_rwout *r;
    int64_t at_ms;
    sw_rw_label labels[RWOUT_LABELS_MAX];
    size_t n;
    char text[RWOUT_TEXT_MAX];
    size_t used;
} forward;

static const char *
forward_text(forward *f, const char *s, size_t len)
{
    if (len >= sizeof f->text - f->used)
        return NULL;
    char *out = f->text + f->used;
    memcpy(out, s, len);
    out[len] = '\0';
    f->used += len + 1;
    return out;
}

/* The sample's name and labels into f; false when it is not one to forward or does not fit. */
static bool
forward_labels(forward *f, const char *metric, const sw_expo_label *labels, size_t n)
{
    bool per_service = false;
    f->used = 0;
    f->n = 0;
    const char *name = forward_text(f, metric, strlen(metric));
    if (name == NULL || n + 1 > RWOUT_LABELS_MAX)
        return false;
    f->labels[f->n++] = (sw_rw_label){"__name__", name};
    for (size_t k = 0; k < n; k++) {
        const char *label = forward_text(f, labels[k].name, strlen(labels[k].name));
        const char *value = forward_text(f, labels[k].value, strlen(labels[k].value));
        if (label == NULL || value == NULL)
            return false;
        f->labels[f->n++] = (sw_rw_label){label, value};
        per_service = per_service || strcmp(label, "service") == 0;
    }
    return per_service;
}

/* Per-service series other than the counters, which go out per interval (rwout_add). */
static void
forward_sample(void *ctx, sw_expo_type family, const char *metric, const sw_expo_label *labels,
               size_t n, double value)
{
    forward *f = ctx;
    if (family == SW_EXPO_COUNTER || !forward_labels(f, metric, labels, n))
        return;
    sw_rw_label out[RWOUT_LABELS_MAX];
    for (size_t i = 0; i < f->r->n; i++) {
        memcpy(out, f->labels, f->n * sizeof out[0]);
        push_labels(f->r, i, out, f->n, f->at_ms, value, NULL);
    }
}

void
sw_daemon_rwout_snapshot(sw_daemon *d, const sw_snapshot *s, int64_t now_ms)
{
    if (d->rwout == NULL)
        return;
    forward *f = malloc(sizeof *f);
    if (f == NULL) {
        sw_log(SW_LOG_WARN, "remote write of the evaluation skipped: out of memory", NULL);
        return;
    }
    f->r = d->rwout;
    f->at_ms = now_ms;
    sw_expo_visitor v = {.ctx = f, .sample = forward_sample};
    if (sw_snapshot_metrics_visit(s, &v) != SW_SNAPSHOT_FOUND)
        sw_log(SW_LOG_WARN, "remote write of the evaluation failed: /metrics not gathered", NULL);
    free(f);
}

void
sw_daemon_rwout_stats(sw_daemon *d)
{
    sw_daemon_rwout *r = d->rwout;
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->n; i++) {
        sw_rw_send_stats s;
        sw_rw_send_stats_get(r->senders[i], &s);
        r->stats[i] = (sw_metrics_remote){r->names[i], s.sent,   s.failed,      s.dropped,
                                          s.retried,   s.queued, s.last_send_ms};
    }
    d->self.remotes = r->stats;
    d->self.n_remotes = r->n;
}

void
sw_daemon_rwout_stop(sw_daemon *d)
{
    if (d->rwout == NULL)
        return;
    rwout_free(d->rwout);
    d->rwout = NULL;
    d->self.remotes = NULL;
    d->self.n_remotes = 0;
}
