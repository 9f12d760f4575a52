/*
 * Prometheus scraping: the jobs of `scrape_configs` (docs/configuration.md) and the scraper that
 * drives every target of every job from one thread over the HTTP client's multi interface. Each
 * target is scraped once per interval at a stable phase (a hash of its identity, as Prometheus
 * spreads targets), with a timeout, a body size limit, gzip and Prometheus' Accept header; the
 * body is handed whole to a consumer (the daemon: parse into a prommap batch, commit or abort),
 * so a scrape is applied entirely or not at all. Per-target health (up, duration, samples,
 * failures by reason) is kept for /metrics.
 *
 * One thread calls sw_scrape_run and sw_scrape_set_jobs (or the caller serialises them);
 * sw_scrape_stats may be called from any thread.
 */
#ifndef SLAWATCH_SCRAPE_H
#define SLAWATCH_SCRAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slawatch/err.h"
#include "slawatch/relabel.h"
#include "slawatch/targets.h"

/* Protobuf first (native histograms), then OpenMetrics 1.0.0, then text 0.0.4, as Prometheus. */
#define SW_SCRAPE_ACCEPT                                                                           \
    "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;"  \
    "q=0.7,application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4,"       \
    "*/*;q=0.1"

#define SW_SCRAPE_DEFAULT_BODY_LIMIT (64 << 20) /* bytes, after gzip decoding */

typedef struct sw_scrape_tls {
    const char *ca_file, *cert_file, *key_file; /* PEM; NULL: system CAs, no client cert */
    const char *server_name; /* certificate name checked and sent (SNI); NULL: the URL's host */
    bool insecure_skip_verify;
} sw_scrape_tls;

/* One job of scrape_configs; strings borrowed for the call that takes it. */
typedef struct sw_scrape_job {
    const char *job_name;
    int64_t interval_ms, timeout_ms; /* 0 < timeout <= interval */
    const char *metrics_path, *scheme;
    int64_t body_size_limit; /* bytes of the decoded body; past it the scrape fails */
    const char *auth_type;   /* the Authorization scheme, "Bearer"; NULL: no Authorization */
    const char *auth_credentials_file; /* read at start and reload, whitespace trimmed */
    const char *auth_credentials;      /* inline instead of the file */
    const char *basic_username;        /* NULL: no basic auth */
    const char *basic_password, *basic_password_file;
    sw_scrape_tls tls;
    const sw_target_group *static_groups;
    size_t n_static_groups;
    const char *const *sd_files; /* file_sd files */
    size_t n_sd_files;
    int64_t sd_refresh_ms;
    const sw_relabel_rule *relabel;
    size_t n_relabel;
} sw_scrape_job;

/* How the body is parsed, from the response's Content-Type. */
typedef enum sw_scrape_format {
    SW_SCRAPE_TEXT, /* text/plain 0.0.4, and anything unrecognised (as Prometheus falls back) */
    SW_SCRAPE_OPENMETRICS,
    SW_SCRAPE_PROTOBUF,
} sw_scrape_format;

sw_scrape_format sw_scrape_format_of(const char *content_type);

/* Why a scrape failed, the `reason` label of slawatch_scrape_failures_total. */
#define SW_SCRAPE_REASONS(X)                                                                       \
    X(SW_SCRAPE_FAIL_CONNECT, "connect")                                                           \
    X(SW_SCRAPE_FAIL_TIMEOUT, "timeout")                                                           \
    X(SW_SCRAPE_FAIL_STATUS, "http_status")                                                        \
    X(SW_SCRAPE_FAIL_TOO_BIG, "body_size_limit")                                                   \
    X(SW_SCRAPE_FAIL_PARSE, "parse")

typedef enum sw_scrape_reason {
#define SW_SCRAPE_REASON_ENUM(name, text) name,
    SW_SCRAPE_REASONS(SW_SCRAPE_REASON_ENUM)
#undef SW_SCRAPE_REASON_ENUM
        SW_SCRAPE_N_REASONS
} sw_scrape_reason;

const char *sw_scrape_reason_name(sw_scrape_reason r);

/* Where scraped bodies go. Called on the scraping thread. */
typedef struct sw_scrape_consumer {
    void *ctx;
    /*
     * Apply one scrape of t taken at at_ms whole, or nothing of it and return an error (a parse
     * error names line and column); *ret_samples: how many samples the body held.
     */
    sw_status (*apply)(void *ctx, const sw_target *t, sw_scrape_format fmt, const uint8_t *body,
                       size_t len, int64_t at_ms, uint64_t *ret_samples, sw_err *err);
    void (*forget)(void *ctx, const sw_target *t); /* t is no longer scraped */
    /* A failed scrape (err says why) or a discovery problem (t NULL), for the log. */
    void (*problem)(void *ctx, const sw_target *t, const sw_err *err);
} sw_scrape_consumer;

/* A target's health for /metrics: as the last scrape left it, and failures since it appeared. */
typedef struct sw_scrape_target_stats {
    char *job, *instance;
    bool up;
    double duration_seconds;
    uint64_t samples;
    uint64_t failures[SW_SCRAPE_N_REASONS];
} sw_scrape_target_stats;

typedef struct sw_scrape sw_scrape;

/* A scraper with no jobs feeding consumer (copied). SW_E_NOMEM. */
sw_status sw_scrape_new(const sw_scrape_consumer *consumer, sw_scrape **ret, sw_err *err);

/* Transfers in flight are abandoned. sw_scrape_free(NULL) does nothing. */
void sw_scrape_free(sw_scrape *s);

/*
 * Replace the jobs (copied; credentials files read now). Targets whose identity is unchanged
 * keep their phase and health; targets gone are forgotten (consumer->forget). On error
 * (unreadable credentials, bad regex, out of memory) nothing changes.
 */
sw_status sw_scrape_set_jobs(sw_scrape *s, const sw_scrape_job *jobs, size_t n, int64_t now_ms,
                             sw_err *err);

/*
 * Re-read file_sd files that are due, start every scrape due at now_ms and run transfers for at
 * most wait_ms (real time), applying those that finish. SW_E_IO when the transfers could not
 * run at all.
 */
sw_status sw_scrape_run(sw_scrape *s, int64_t now_ms, int64_t wait_ms, sw_err *err);

/* The earliest time something is due (a scrape or a file_sd refresh); INT64_MAX if nothing. */
int64_t sw_scrape_next_due_ms(const sw_scrape *s);

/* The phase of a target within interval_ms: scrapes start when now % interval == phase. */
int64_t sw_scrape_phase_ms(const char *identity, int64_t interval_ms);

/* Every target's health, copied into *ret (free with sw_scrape_stats_free). SW_E_NOMEM. */
sw_status sw_scrape_stats(sw_scrape *s, sw_scrape_target_stats **ret, size_t *ret_n, sw_err *err);

void sw_scrape_stats_free(sw_scrape_target_stats *st, size_t n);

#endif
