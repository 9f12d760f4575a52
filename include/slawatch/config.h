/*
 * The daemon's configuration file (`slawatch serve --config FILE`), documented in
 * docs/configuration.md: where to listen, where the data lives, which rules files to load,
 * where Alertmanager is, auth, TLS, HTTP limits, store retention, the log level, the Prometheus
 * scrape jobs, the remote-write targets and the report schedule. Loaded
 * and validated whole like a rules file (every error `FILE:LINE:COL: error: MESSAGE`). A config
 * owns its strings; command-line flags may replace `listen` and `data_dir` with strings that
 * outlive it before the config is shared, and nothing changes it after that.
 */
#ifndef SLAWATCH_CONFIG_H
#define SLAWATCH_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slawatch/cloudwatch.h"
#include "slawatch/err.h"
#include "slawatch/rules.h"
#include "slawatch/scrape.h"
#include "slawatch/shard.h"

#define SW_CONFIG_DEFAULT_LISTEN "127.0.0.1:9464"
/* How far the background threads (renders, rollup, checkpoint writer, remote-write senders,
 * report schedule) are niced below the threads that answer the gate: bench/README.md. */
#define SW_CONFIG_DEFAULT_BACKGROUND_NICE 0

/* The `prometheus_query` source (daemon/daemon_query.c); url NULL when not configured. */
typedef struct sw_config_query {
    const char *url;
    int64_t every_ms;    /* 0: the rules' base interval */
    int64_t lag_ms;      /* how far behind now the queried range ends */
    int64_t lookback_ms; /* how far before that the first query starts */
    int64_t timeout_ms;
    int64_t max_response; /* bytes */
    int64_t retries;
    const char *bearer_token_file;                 /* NULL: none */
    const char *basic_user, *basic_password_file;  /* NULL: none */
    const char *const *headers;                    /* "Name: value" */
    size_t n_headers;
} sw_config_query;
/* One `remote_write` entry: where to push the SLI series and how to queue them (rw_send.h). */
typedef struct sw_config_remote_write {
    const char *url;
    const char *name; /* the `remote` label of the self-metrics; default: the URL, redacted */
    int64_t timeout_ms;
    const char *const *headers; /* n_headers lines "Name: value" */
    size_t n_headers;
    const char *const *external_labels; /* n_external_labels name, value pairs */
    size_t n_external_labels;
    const char *bearer_token_file;                /* NULL: none */
    const char *basic_user, *basic_password_file; /* both or neither */
    const char *ca_file;                          /* NULL: the system's */
    int64_t capacity, max_samples_per_send;
    int64_t batch_send_deadline_ms, min_backoff_ms, max_backoff_ms, flush_deadline_ms;
} sw_config_remote_write;

/* The `report_schedule` section (daemon/daemon_report_sched.c): last month's report sent on a
 * day and hour of each month by mail and/or webhook; enabled false when absent. */
typedef struct sw_config_report_mail {
    const char *url;                     /* smtp:// or smtps://; NULL: no mail */
    const char *from;                    /* the envelope and From: address */
    const char *const *to;               /* n_to recipients */
    size_t n_to;
    bool starttls;                       /* smtp://: STARTTLS required (default true) */
    const char *username;                /* NULL: no AUTH */
    const char *password_file, *password_env; /* one of them with a username */
    const char *ca_file;                 /* NULL: the system's */
    int64_t timeout_ms;
} sw_config_report_mail;
typedef struct sw_config_report_schedule {
    bool enabled;
    int day, hour;         /* of the month (1..28) and of the day (0..23), local */
    const char *time_zone; /* IANA name; "UTC" by default */
    const char *const *services; /* n_services 0: every service */
    size_t n_services;
    int64_t min_backoff_ms, max_backoff_ms; /* between attempts of a failed delivery */
    sw_config_report_mail mail;
    const char *webhook_url; /* NULL: no webhook */
    const char *webhook_bearer_token_file;
    int64_t webhook_timeout_ms;
} sw_config_report_schedule;

typedef struct sw_config {
    const char *path;   /* the file it came from */
    const char *listen; /* ADDR:PORT */
    const char *data_dir;
    const char *const *rules_files; /* resolved against the config file's directory */
    size_t n_rules_files;
    const char *external_url;     /* base of generatorURL links; NULL: http://<listen> */
    const char *log_level;        /* debug | info | warn | error */
    const char *alertmanager_url; /* its alerts endpoint (/api/v2/alerts); NULL: no alert push */
    int64_t alertmanager_resend_ms;
    const char *token_file;                   /* NULL: no auth */
    bool auth_all;                            /* the token guards every endpoint, not only writes */
    const char *tls_cert_file, *tls_key_file; /* both or neither */
    unsigned http_threads;                    /* 0: automatic */
    int64_t http_max_body;                    /* bytes */
    int64_t http_timeout_ms;
    int64_t http_header_timeout_ms; /* a request head must be in within this */
    unsigned http_max_per_client;   /* open connections from one client address */
    unsigned http_report_workers;   /* threads building reports (heavy routes) */
    unsigned http_report_queue;     /* report requests waiting for them */
    unsigned http_ingest_workers;   /* threads running pushes, EMF and remote write (bulk) */
    unsigned http_ingest_queue;     /* ingest requests waiting for them */
    unsigned http_render_workers;   /* threads rendering /metrics and the status (render routes) */
    unsigned http_render_queue;     /* render requests waiting for them */
    int background_nice;     /* nice steps the background threads run below the gate's threads */
    int64_t retention_ms[4]; /* base, 1m, 1h, 1d */
    /* store.audits, .deployments, .events (sw_store_record order): kept this long, this many */
    int64_t record_keep_ms[3], record_max_rows[3];
    int64_t audit_min_interval_ms; /* a caller's repeated gate answer is recorded once per this */
    int64_t audit_max_per_minute;  /* such repeats recorded per minute, all callers together */
    bool rw_enabled;              /* remote_write_receiver: POST /api/v1/write */
    int64_t rw_samples_per_second; /* 0: no rate limit */
    int64_t rw_max_body;           /* compressed bytes (http.max_body applies first) */
    int64_t ingest_delay_ms; /* intervals are taken this long after they end (late sources) */
    bool ingest_sync;        /* fdatasync the ingest journal before acknowledging */
    const sw_scrape_job *scrape_jobs; /* scrape_configs, paths resolved */
    size_t n_scrape_jobs;
    sw_config_query query;
    const sw_config_remote_write *remote_writes;
    size_t n_remote_writes;
    sw_cloudwatch_options cloudwatch; /* the `cloudwatch` section (collector/cloudwatch) */
    sw_shard shard; /* count 0: this instance evaluates every service */
    sw_config_report_schedule report_schedule;
} sw_config;

/*
 * Load and validate path. On any error returns SW_E_PARSE with every problem in diag (may be
 * NULL) and the first in err; SW_E_IO when unreadable. *ret is set only on success.
 */
sw_status sw_config_load(const char *path, sw_config **ret, sw_rules_diag *diag, sw_err *err);

/* The defaults alone (for `slawatch demo` and flags-only runs); NULL when out of memory. */
sw_config *sw_config_defaults(void);

void sw_config_free(sw_config *c);

#endif
