/*
 * Loads the daemon configuration with the rules loader's machinery (slawatch/rules_schema.h), so
 * a configuration error reads exactly like a rules error. The result lives in one arena.
 */
#include "slawatch/config.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"
#include "slawatch/arena.h"
#include "slawatch/buf.h"
#include "slawatch/http_client.h"
#include "slawatch/thread_prio.h"

#define DAY_MS INT64_C(86400000)

/* The config first, so the sw_config * handed out converts back to its box. */
typedef struct config_box {
    sw_config cfg;
    sw_arena arena;
} config_box;

static const char *const top_keys[] = {"listen",
                                       "data_dir",
                                       "rules_files",
                                       "external_url",
                                       "log_level",
                                       "alertmanager",
                                       "auth",
                                       "tls",
                                       "http",
                                       "store",
                                       "ingest_delay",
                                       "ingest_sync",
                                       "remote_write_receiver",
                                       "scrape_configs",
                                       "prometheus_query",
                                       "remote_write",
                                       "cloudwatch",
                                       "shard",
                                       "report_schedule",
                                       "background_nice",
                                       NULL};
static const char *const alertmanager_keys[] = {"url", "resend_interval", NULL};
static const char *const auth_keys[] = {"token_file", "all", NULL};
static const char *const tls_keys[] = {"cert_file", "key_file", NULL};
static const char *const http_keys[] = {
    "threads",        "max_body",       "timeout",        "header_timeout",
    "max_connections_per_client",       "report_workers", "report_queue",
    "ingest_workers", "ingest_queue",   "render_workers", "render_queue", NULL};
static const char *const rw_keys[] = {"enabled", "max_samples_per_second", "max_body", NULL};
static const char *const store_keys[] = {"retention", "audits", "deployments", "events", NULL};
static const char *const record_keys[] = {"retention", "max_rows", NULL};
static const char *const audit_keys[] = {"retention", "max_rows", "min_interval", "max_per_minute",
                                         NULL};
static const char *const retention_keys[] = {"base", "1m", "1h", "1d", NULL};
static const char *const query_keys[] = {"url",          "every",    "lag",
                                         "lookback",     "timeout",  "max_response",
                                         "retries",      "bearer_token_file", "basic_auth",
                                         "headers",      NULL};
static const char *const cloudwatch_keys[] = {"region",  "endpoint_url",    "profile",
                                              "period",  "settle",          "every",
                                              "timeout", "rolling_windows", NULL};
static const char *const basic_auth_keys[] = {"username", "password_file", NULL};
static const char *const shard_keys[] = {"count", "index", NULL};

static void
set_defaults(sw_config *c)
{
    c->listen = SW_CONFIG_DEFAULT_LISTEN;
    c->data_dir = "data";
    c->log_level = "info";
    c->alertmanager_resend_ms = 60000;
    c->http_max_body = 1 << 20;
    c->rw_max_body = 16 << 20;
    c->http_timeout_ms = 10000;
    c->http_header_timeout_ms = 10000;
    c->http_max_per_client = 128;
    c->http_report_workers = 2;
    c->http_report_queue = 8;
    c->http_ingest_workers = 2;
    c->http_ingest_queue = 32;
    c->http_render_workers = 2;
    c->http_render_queue = 16;
    c->background_nice = SW_CONFIG_DEFAULT_BACKGROUND_NICE;
    c->retention_ms[0] = 2 * DAY_MS;
    c->retention_ms[1] = 35 * DAY_MS;
    c->retention_ms[2] = 400 * DAY_MS;
    c->retention_ms[3] = 5 * 365 * DAY_MS;
    c->record_keep_ms[0] = 90 * DAY_MS; /* gate audits */
    c->record_max_rows[0] = 1000000;
    c->record_keep_ms[1] = 400 * DAY_MS; /* deployment marks */
    c->record_max_rows[1] = 100000;
    c->record_keep_ms[2] = 400 * DAY_MS; /* alert and trigger events */
    c->record_max_rows[2] = 1000000;
    c->audit_min_interval_ms = 60000;
    c->audit_max_per_minute = 600;
    c->query.lag_ms = 30000;
    c->query.lookback_ms = 60000;
    c->query.timeout_ms = 30000;
    c->query.max_response = 16 << 20;
    c->query.retries = 3;
    c->cloudwatch.period_ms = 60000;
    c->cloudwatch.settle_ms = 180000;
    c->cloudwatch.every_ms = 60000;
    c->cloudwatch.timeout_ms = 30000;
    c->cloudwatch.rolling_windows = true;
}

/* ADDR:PORT with a port in 0..65535; ADDR may be empty (all interfaces) or [v6]. */
static bool
valid_listen(const char *s)
{
    const char *colon = strrchr(s, ':');
    if (colon == NULL || colon[1] == '\0' || strlen(colon + 1) > 5)
        return false;
    long port = 0;
    for (const char *p = colon + 1; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            return false;
        port = port * 10 + (*p - '0');
    }
    return port <= 65535 && (s[0] != '[' || colon[-1] == ']');
}

static void
get_listen(sw_rules_loader *ld, const sw_yaml_node *v, sw_config *c)
{
    if (sw_rules_get_text(ld, v, "ADDR:PORT for listen", &c->listen) && !valid_listen(c->listen))
        sw_rules_error(ld, v, "expected ADDR:PORT for listen (e.g. 127.0.0.1:9464), found %s",
                       sw_rules_found(v).s);
}

static void
get_url(sw_rules_loader *ld, const sw_yaml_node *v, const char *key, const char **ret)
{
    if (!sw_rules_get_text(ld, v, "a URL", ret))
        return;
    /* The value is shown redacted: a URL that is wrong may still hold a password. */
    char shown[256];
    sw_http_client_redact_url(*ret, shown, sizeof shown);
    if (strncmp(*ret, "http://", 7) != 0 && strncmp(*ret, "https://", 8) != 0)
        sw_rules_error(ld, v, "expected an http:// or https:// URL for %s, found '%s'", key, shown);
}

void
sw_config_get_url(sw_rules_loader *ld, const sw_yaml_node *v, const char *key, const char **ret)
{
    get_url(ld, v, key, ret);
}

/* Relative paths are relative to the configuration file, as Prometheus' rule_files are. */
const char *
sw_config_resolve_path(sw_rules_loader *ld, const char *config_path, const char *p)
{
    if (p[0] == '/')
        return p;
    char *copy = strdup(config_path);
    if (copy == NULL) {
        ld->nomem = true;
        return NULL;
    }
    const char *dir = dirname(copy);
    size_t n = strlen(dir) + 1 + strlen(p);
    char *out = sw_rules_alloc(ld, n + 1, 1);
    if (out != NULL)
        snprintf(out, n + 1, "%s/%s", dir, p);
    free(copy);
    return out;
}

static void
get_rules_files(sw_rules_loader *ld, const sw_yaml_node *v, sw_config *c)
{
    if (!sw_rules_check_list(ld, v, "rules files") || v->kind != SW_YAML_SEQUENCE)
        return;
    const char **files = sw_rules_alloc(ld, v->n, sizeof *files);
    for (size_t i = 0; files != NULL && i < v->n; i++) {
        const char *p;
        if (sw_rules_get_text(ld, v->items[i], "a file path", &p))
            files[c->n_rules_files++] = sw_config_resolve_path(ld, c->path, p);
    }
    c->rules_files = files;
}

static void
get_log_level(sw_rules_loader *ld, const sw_yaml_node *v, sw_config *c)
{
    static const char *const levels[] = {"debug", "info", "warn", "error"};
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++)
        if (sw_rules_is(v, levels[i])) {
            c->log_level = levels[i];
            return;
        }
    sw_rules_error(ld, v, "expected debug, info, warn or error for log_level, found %s",
                   sw_rules_found(v).s);
}

#define AM_ALERTS_PATH "/api/v2/alerts"

/* Alertmanager's base URL, as Prometheus' `alertmanagers` take it, or its alerts endpoint. */
static const char *
alerts_endpoint(sw_rules_loader *ld, const char *url)
{
    size_t n = strlen(url), p = strlen(AM_ALERTS_PATH);
    while (n > 0 && url[n - 1] == '/')
        n--;
    if (n >= p && memcmp(url + n - p, AM_ALERTS_PATH, p) == 0)
        return url;
    char *out = sw_rules_alloc(ld, n + p + 1, 1);
    if (out != NULL) {
        memcpy(out, url, n);
        memcpy(out + n, AM_ALERTS_PATH, p + 1);
    }
    return out;
}

static void
get_alertmanager(sw_rules_loader *ld, const sw_yaml_node *node, sw_config *c)
{
    const sw_yaml_node *v;
    if (!sw_rules_check_map(ld, node, "alertmanager", alertmanager_keys))
        return;
    if ((v = sw_rules_require(ld, node, "url", "alertmanager")) != NULL)
        get_url(ld, v, "alertmanager url", &c->alertmanager_url);
    if (c->alertmanager_url != NULL)
        c->alertmanager_url = alerts_endpoint(ld, c->alertmanager_url);
    if ((v = sw_yaml_get(node, "resend_interval")) != NULL)
        sw_rules_get_duration(ld, v, "resend_interval", false, &c->alertmanager_resend_ms);
}

static void
get_auth(sw_rules_loader *ld, const sw_yaml_node *node, sw_config *c)
{
    const sw_yaml_node *v;
    if (!sw_rules_check_map(ld, node, "auth", auth_keys))
        return;
    if ((v = sw_rules_require(ld, node, "token_file", "auth")) != NULL &&
        sw_rules_get_text(ld, v, "a file path", &c->token_file))
        c->token_file = sw_config_resolve_path(ld, c->path, c->token_file);
    if ((v = sw_yaml_get(node, "all")) != NULL)
        sw_rules_get_bool(ld, v, &c->auth_all);
}

static void
get_tls(sw_rules_loader *ld, const sw_yaml_node *node, sw_config *c)
{
    const sw_yaml_node *v;
    if (!sw_rules_check_map(ld, node, "tls", tls_keys))
        return;
    if ((v = sw_rules_require(ld, node, "cert_file", "tls")) != NULL &&
        sw_rules_get_text(ld, v, "a file path", &c->tls_cert_file))
        c->tls_cert_file = sw_config_resolve_path(ld, c->path, c->tls_cert_file);
    if ((v = sw_rules_require(ld, node, "key_file", "tls")) != NULL &&
        sw_rules_get_text(ld, v, "a file path", &c->tls_key_file))
        c->tls_key_file = sw_config_resolve_path(ld, c->path, c->tls_key_file);
}

static void
get_http(sw_rules_loader *ld, const sw_yaml_node *node, sw_config *c)
{
    const sw_yaml_node *v;
    int64_t n;
    if (!sw_rules_check_map(ld, node, "http", http_keys))
        return;
    if ((v = sw_yaml_get(node, "threads")) != NULL &&
        sw_rules_get_int(ld, v, "a thread count from 1 to 256", 1, 256, &n))
        c->http_threads = (unsigned)n;
    if ((v = sw_yaml_get(node, "max_body")) != NULL)
        sw_rules_get_int(ld, v, "a size in bytes from 1024 to 268435456", 1024, 1 << 28,
                         &c->http_max_body);
    if ((v = sw_yaml_get(node, "timeout")) != NULL)
        sw_rules_get_duration(ld, v, "timeout", false, &c->http_timeout_ms);
    if ((v = sw_yaml_get(node, "header_timeout")) != NULL)
        sw_rules_get_duration(ld, v, "header_timeout", false, &c->http_header_timeout_ms);
    if ((v = sw_yaml_get(node, "max_connections_per_client")) != NULL &&
        sw_rules_get_int(ld, v, "a connection count from 1 to 1024", 1, 1024, &n))
        c->http_max_per_client = (unsigned)n;
    if ((v = sw_yaml_get(node, "report_workers")) != NULL &&
        sw_rules_get_int(ld, v, "a thread count from 1 to 64", 1, 64, &n))
        c->http_report_workers = (unsigned)n;
    if ((v = sw_yaml_get(node, "report_queue")) != NULL &&
        sw_rules_get_int(ld, v, "a request count from 1 to 1024", 1, 1024, &n))
        c->http_report_queue = (unsigned)n;
    if ((v = sw_yaml_get(node, "ingest_workers")) != NULL &&
        sw_rules_get_int(ld, v, "a thread count from 1 to 64", 1, 64, &n))
        c->http_ingest_workers = (unsigned)n;
    if ((v = sw_yaml_get(node, "ingest_queue")) != NULL &&
        sw_rules_get_int(ld, v, "a request count from 1 to 1024", 1, 1024, &n))
        c->http_ingest_queue = (unsigned)n;
    if ((v = sw_yaml_get(node, "render_workers")) != NULL &&
        sw_rules_get_int(ld, v, "a thread count from 1 to 64", 1, 64, &n))
        c->http_render_workers = (unsigned)n;
    if ((v = sw_yaml_get(node, "render_queue")) != NULL &&
        sw_rules_get_int(ld, v, "a request count from 1 to 1024", 1, 1024, &n))
        c->http_render_queue = (unsigned)n;
}

/* store.audits / .deployments / .events: index i of the record arrays. */
static void
get_record(sw_rules_loader *ld, const sw_yaml_node *node, const char *name, size_t i, sw_config *c)
{
    const sw_yaml_node *v;
    if (!sw_rules_check_map(ld, node, name, i == 0 ? audit_keys : record_keys))
        return;
    if ((v = sw_yaml_get(node, "retention")) != NULL)
        sw_rules_get_duration(ld, v, "retention", false, &c->record_keep_ms[i]);
    if ((v = sw_yaml_get(node, "max_rows")) != NULL)
        sw_rules_get_int(ld, v, "a row count from 1 to 1000000000", 1, 1000000000,
                         &c->record_max_rows[i]);
    if (i != 0)
        return;
    if ((v = sw_yaml_get(node, "min_interval")) != NULL)
        sw_rules_get_duration(ld, v, "min_interval", true, &c->audit_min_interval_ms);
    if ((v = sw_yaml_get(node, "max_per_minute")) != NULL)
        sw_rules_get_int(ld, v, "a row count from 0 to 1000000", 0, 1000000,
                         &c->audit_max_per_minute);
}

static void
get_store(sw_rules_loader *ld, const sw_yaml_node *node, sw_config *c)
{
    static const char *const records[] = {"audits", "deployments", "events"};
    const sw_yaml_node *ret, *v;
    if (!sw_rules_check_map(ld, node, "store", store_keys))
        return;
    for (size_t i = 0; i < 3; i++)
        if ((v = sw_yaml_get(node, records[i])) != NULL)
            get_record(ld, v, records[i], i, c);
    if ((ret = sw_yaml_get(node, "retention")) == NULL ||
        !sw_rules_check_map(ld, ret, "retention", retention_keys))
        return;
    for (size_t i = 0; retention_keys[i] != NULL; i++)
        if ((v = sw_yaml_get(ret, retention_keys[i])) != NULL)
            sw_rules_get_duration(ld, v, retention_keys[i], false, &c->retention_ms[i]);
}

/* An HTTP field name (RFC 9110 token) and a value without control characters. */
static bool
valid_header(const char *name, const char *value)
{
    static const char tchar[] = "!#$%&'*+-.^_`|~0123456789"
                                "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    if (name[0] == '\0' || name[strspn(name, tchar)] != '\0')
        return false;
    for (const unsigned char *p = (const unsigned char *)value; *p; p++)
        if (*p < 0x20 && *p != '\t')
            return false;
    return true;
}

static void
get_query_headers(sw_rules_loader *ld, const sw_yaml_node *node, sw_config_query *q)
{
    if (node->kind != SW_YAML_MAPPING) {
        sw_rules_error(ld, node, "expected a mapping of header names to values for headers, "
                       "found %s", sw_rules_found(node).s);
        return;
    }
    if (node->n > 32) {
        sw_rules_error(ld, node, "expected at most 32 headers, found %zu", node->n);
        return;
    }
    const char **lines = sw_rules_alloc(ld, node->n, sizeof *lines);
    for (size_t i = 0; lines != NULL && i < node->n; i++) {
        const sw_yaml_node *k = node->pairs[i].key, *v = node->pairs[i].value;
        const char *value;
        if (!sw_rules_get_text(ld, v, "a header value", &value))
            continue;
        if (!valid_header(k->str, value)) {
            sw_rules_error(ld, k, "expected an HTTP header name and a one-line value, found %s",
                           sw_rules_found(k).s);
            continue;
        }
        size_t n = k->len + 2 + strlen(value) + 1;
        char *line = sw_rules_alloc(ld, n, 1);
        if (line != NULL)
            snprintf(line, n, "%s: %s", k->str, value);
        lines[q->n_headers++] = line;
    }
    q->headers = lines;
}

static void
get_query_auth(sw_rules_loader *ld, const sw_yaml_node *node, sw_config *c)
{
    const sw_yaml_node *v;
    sw_config_query *q = &c->query;
    if ((v = sw_yaml_get(node, "bearer_token_file")) != NULL &&
        sw_rules_get_text(ld, v, "a file path", &q->bearer_token_file))
        q->bearer_token_file = sw_config_resolve_path(ld, c->path, q->bearer_token_file);
    const sw_yaml_node *basic = sw_yaml_get(node, "basic_auth");
    if (basic == NULL || !sw_rules_check_map(ld, basic, "basic_auth", basic_auth_keys))
        return;
    if (v != NULL)
        sw_rules_error(ld, basic, "expected bearer_token_file or basic_auth, not both");
    if ((v = sw_rules_require(ld, basic, "username", "basic_auth")) != NULL)
        sw_rules_get_text(ld, v, "a user name", &q->basic_user);
    if ((v = sw_rules_require(ld, basic, "password_file", "basic_auth")) != NULL &&
        sw_rules_get_text(ld, v, "a file path", &q->basic_password_file))
        q->basic_password_file = sw_config_resolve_path(ld, c->path, q->basic_password_file);
}

static void
get_query(sw_rules_loader *ld, const sw_yaml_node *node, sw_config *c)
{
    const sw_yaml_node *v;
    sw_config_query *q = &c->query;
    if (!sw_rules_check_map(ld, node, "prometheus_query", query_keys))
        return;
    if ((v = sw_rules_require(ld, node, "url", "prometheus_query")) != NULL)
        get_url(ld, v, "prometheus_query url", &q->url);
    if ((v = sw_yaml_get(node, "every")) != NULL)
        sw_rules_get_duration(ld, v, "every", false, &q->every_ms);
    if ((v = sw_yaml_get(node, "lag")) != NULL)
        sw_rules_get_duration(ld, v, "lag", true, &q->lag_ms);
    if ((v = sw_yaml_get(node, "lookback")) != NULL)
        sw_rules_get_duration(ld, v, "lookback", true, &q->lookback_ms);
    if ((v = sw_yaml_get(node, "timeout")) != NULL)
        sw_rules_get_duration(ld, v, "timeout", false, &q->timeout_ms);
    if ((v = sw_yaml_get(node, "max_response")) != NULL)
        sw_rules_get_int(ld, v, "a size in bytes from 1024 to 1073741824", 1024, 1 << 30,
                         &q->max_response);
    if ((v = sw_yaml_get(node, "retries")) != NULL)
        sw_rules_get_int(ld, v, "a retry count from 0 to 10", 0, 10, &q->retries);
    if ((v = sw_yaml_get(node, "headers")) != NULL)
        get_query_headers(ld, v, q);
    get_query_auth(ld, node, c);
}

/* The cloudwatch source: whole seconds, a period the poller and the accumulators can align. */
static void
get_cloudwatch(sw_rules_loader *ld, const sw_yaml_node *node, sw_config *c)
{
    const sw_yaml_node *v;
    sw_cloudwatch_options *cw = &c->cloudwatch;
    if (!sw_rules_check_map(ld, node, "cloudwatch", cloudwatch_keys))
        return;
    cw->enabled = true;
    if ((v = sw_yaml_get(node, "region")) != NULL)
        sw_rules_get_text(ld, v, "an AWS region", &cw->region);
    if ((v = sw_yaml_get(node, "endpoint_url")) != NULL)
        get_url(ld, v, "cloudwatch endpoint_url", &cw->endpoint_url);
    if ((v = sw_yaml_get(node, "profile")) != NULL)
        sw_rules_get_text(ld, v, "an AWS profile name", &cw->profile);
    if ((v = sw_yaml_get(node, "period")) != NULL &&
        sw_rules_get_duration(ld, v, "period", false, &cw->period_ms) && cw->period_ms % 1000 != 0)
        sw_rules_error(ld, v, "expected a period of whole seconds (CloudWatch's unit)");
    if ((v = sw_yaml_get(node, "settle")) != NULL)
        sw_rules_get_duration(ld, v, "settle", true, &cw->settle_ms);
    if ((v = sw_yaml_get(node, "every")) != NULL)
        sw_rules_get_duration(ld, v, "every", false, &cw->every_ms);
    if ((v = sw_yaml_get(node, "timeout")) != NULL)
        sw_rules_get_duration(ld, v, "timeout", false, &cw->timeout_ms);
    if ((v = sw_yaml_get(node, "rolling_windows")) != NULL)
        sw_rules_get_bool(ld, v, &cw->rolling_windows);
    /* A period reaches the accumulators up to settle + every after it ended, and its first
     * base interval ended a period before that; taken earlier, its intervals would already
     * be closed and the data dropped as late. */
    int64_t need_ms = cw->period_ms + cw->settle_ms + cw->every_ms;
    if (c->ingest_delay_ms < need_ms)
        sw_rules_error(ld, node,
                       "expected ingest_delay of at least cloudwatch period + settle + every "
                       "(%llds), found %llds",
                       (long long)(need_ms / 1000), (long long)(c->ingest_delay_ms / 1000));
}

static void
get_remote_write_receiver(sw_rules_loader *ld, const sw_yaml_node *node, sw_config *c)
{
    const sw_yaml_node *v;
    if (!sw_rules_check_map(ld, node, "remote_write_receiver", rw_keys))
        return;
    if ((v = sw_yaml_get(node, "enabled")) != NULL)
        sw_rules_get_bool(ld, v, &c->rw_enabled);
    if ((v = sw_yaml_get(node, "max_samples_per_second")) != NULL)
        sw_rules_get_int(ld, v, "a rate from 0 (unlimited) to 1000000000", 0, 1000000000,
                         &c->rw_samples_per_second);
    if ((v = sw_yaml_get(node, "max_body")) != NULL)
        sw_rules_get_int(ld, v, "a size in bytes from 1024 to 268435456", 1024, 1 << 28,
                         &c->rw_max_body);
}

/* shard: {count: N, index: i}; the index is checked against the count it came with. */
static void
get_shard(sw_rules_loader *ld, const sw_yaml_node *node, sw_config *c)
{
    const sw_yaml_node *count, *index;
    int64_t n = 0, i = 0;
    if (!sw_rules_check_map(ld, node, "shard", shard_keys))
        return;
    count = sw_rules_require(ld, node, "count", "shard");
    index = sw_rules_require(ld, node, "index", "shard");
    if (count == NULL || index == NULL ||
        !sw_rules_get_int(ld, count, "a shard count from 1 to " SW_SHARD_COUNT_MAX_TEXT, 1,
                          SW_SHARD_COUNT_MAX, &n))
        return;
    char what[64];
    snprintf(what, sizeof what, "a shard index from 0 to %lld (count - 1)", (long long)(n - 1));
    if (!sw_rules_get_int(ld, index, what, 0, n - 1, &i))
        return;
    c->shard = (sw_shard){(uint32_t)n, (uint32_t)i};
}

static void
compile_root(sw_rules_loader *ld, const sw_yaml_node *root, sw_config *c)
{
    const sw_yaml_node *v;
    int64_t n;
    if (!sw_rules_check_map(ld, root, "configuration", top_keys))
        return;
    if ((v = sw_yaml_get(root, "listen")) != NULL)
        get_listen(ld, v, c);
    if ((v = sw_yaml_get(root, "data_dir")) != NULL &&
        sw_rules_get_text(ld, v, "a directory", &c->data_dir))
        c->data_dir = sw_config_resolve_path(ld, c->path, c->data_dir);
    if ((v = sw_rules_require(ld, root, "rules_files", "configuration")) != NULL)
        get_rules_files(ld, v, c);
    if ((v = sw_yaml_get(root, "external_url")) != NULL)
        get_url(ld, v, "external_url", &c->external_url);
    if ((v = sw_yaml_get(root, "log_level")) != NULL)
        get_log_level(ld, v, c);
    if ((v = sw_yaml_get(root, "alertmanager")) != NULL)
        get_alertmanager(ld, v, c);
    if ((v = sw_yaml_get(root, "auth")) != NULL)
        get_auth(ld, v, c);
    if ((v = sw_yaml_get(root, "tls")) != NULL)
        get_tls(ld, v, c);
    if ((v = sw_yaml_get(root, "http")) != NULL)
        get_http(ld, v, c);
    if ((v = sw_yaml_get(root, "store")) != NULL)
        get_store(ld, v, c);
    if ((v = sw_yaml_get(root, "remote_write_receiver")) != NULL)
        get_remote_write_receiver(ld, v, c);
    if ((v = sw_yaml_get(root, "ingest_delay")) != NULL)
        sw_rules_get_duration(ld, v, "ingest_delay", true, &c->ingest_delay_ms);
    if ((v = sw_yaml_get(root, "ingest_sync")) != NULL)
        sw_rules_get_bool(ld, v, &c->ingest_sync);
    if ((v = sw_yaml_get(root, "background_nice")) != NULL &&
        sw_rules_get_int(ld, v, "a number of nice steps from 0 to 19 for background_nice", 0,
                         SW_THREAD_NICE_MAX, &n))
        c->background_nice = (int)n;
    if ((v = sw_yaml_get(root, "scrape_configs")) != NULL)
        sw_config_scrape_compile(ld, v, c);
    if ((v = sw_yaml_get(root, "prometheus_query")) != NULL)
        get_query(ld, v, c);
    if ((v = sw_yaml_get(root, "remote_write")) != NULL)
        sw_config_get_remote_writes(ld, v, c);
    if ((v = sw_yaml_get(root, "cloudwatch")) != NULL)
        get_cloudwatch(ld, v, c);
    if ((v = sw_yaml_get(root, "shard")) != NULL)
        get_shard(ld, v, c);
    if ((v = sw_yaml_get(root, "report_schedule")) != NULL)
        sw_config_get_report_schedule(ld, v, c);
}

static void
compile_config(sw_rules_loader *ld, const sw_yaml_doc *doc, void *target)
{
    sw_config *c = target;
    c->path = ld->name;
    if (sw_yaml_doc_count(doc) != 1) {
        sw_rules_error_pos(ld, (sw_rules_pos){ld->name, 1, 1},
                           "expected one YAML document in a configuration file, found %zu",
                           sw_yaml_doc_count(doc));
        return;
    }
    compile_root(ld, sw_yaml_doc_root(doc, 0), c);
}

static config_box *
box_new(void)
{
    config_box *box = calloc(1, sizeof *box);
    if (box != NULL) {
        sw_arena_init(&box->arena);
        set_defaults(&box->cfg);
    }
    return box;
}

static void
box_free(config_box *box)
{
    if (box == NULL)
        return;
    sw_arena arena = box->arena;
    free(box);
    sw_arena_fini(&arena);
}

sw_config *
sw_config_defaults(void)
{
    config_box *box = box_new();
    return box != NULL ? &box->cfg : NULL;
}

sw_status
sw_config_load(const char *path, sw_config **ret, sw_rules_diag *diag, sw_err *err)
{
    SW_REQUIRE(path != NULL && ret != NULL);
    config_box *box = box_new();
    if (box == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory loading %s", path);
    sw_buf text;
    sw_buf_init(&text, (size_t)SW_YAML_MAX_INPUT + 1);
    sw_status st = sw_rules_read_file(path, &text, err);
    if (st == SW_OK)
        st = sw_rules_loader_run((const char *)text.data, text.len, path, &box->arena, diag,
                                 compile_config, &box->cfg, err);
    sw_buf_fini(&text);
    if (st == SW_OK)
        *ret = &box->cfg;
    else
        box_free(box);
    return st;
}

void
sw_config_free(sw_config *c)
{
    /* c is the first member of its box. */
    box_free((config_box *)(void *)c);
}
