/*
 * The daemon's parts shared by its files: daemon.c (the tick and the run loop), daemon_setup.c
 * (start-up and shutdown), daemon_reload.c (probe and rollup threads, reload), daemon_rebuild.c
 * (evaluator windows rebuilt from the store on start and reload) and daemon_api.c (the hooks
 * the HTTP handlers call). Fields under `lock` are touched by the HTTP threads too.
 */
#ifndef SLAWATCH_DAEMON_INT_H
#define SLAWATCH_DAEMON_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "slawatch/accum.h"
#include "slawatch/alertmanager.h"
#include "slawatch/api.h"
#include "slawatch/daemon.h"
#include "slawatch/eval.h"
#include "slawatch/expo.h"
#include "slawatch/http.h"
#include "slawatch/metrics.h"
#include "slawatch/u64map.h"
#include "slawatch/probe.h"
#include "slawatch/prommap.h"
#include "slawatch/report_cache.h"
#include "slawatch/rules.h"
#include "slawatch/emf.h"
#include "slawatch/scrape.h"
#include "slawatch/store.h"

/* Intervals kept in memory while the store fails, before the oldest are dropped. */
#define SW_DAEMON_PENDING_MAX 100000
/* Pushed, EMF and remote-written data may be dated at most this far after now. */
#define SW_DAEMON_AHEAD_MS SW_API_AHEAD_MS
/* Gate audits queued between ticks, before more are dropped (and counted). */
#define SW_DAEMON_AUDIT_MAX 200000

/* The prometheus_query source (daemon_query.c). */
typedef struct sw_daemon_query sw_daemon_query;

/* The cloudwatch source (daemon_cloudwatch.c). */
typedef struct sw_daemon_cw sw_daemon_cw;

typedef struct sw_pending_row {
    char *service, *env;
    sw_sli_interval iv;
    sw_accum_encoding latency; /* iv's latency as the journal encoded it, or none */
} sw_pending_row;

typedef struct sw_audit_row {
    int64_t at_ms, window_ms;
    char *who, *service, *env, *verdict, *json;
} sw_audit_row;

/* Which gate answers become audit rows (daemon_audit.c); used under d->lock. */
typedef struct sw_audit_sampler sw_audit_sampler;

/* NULL when out of memory. */
sw_audit_sampler *sw_audit_sampler_new(int64_t min_interval_ms, int64_t max_per_minute);
void sw_audit_sampler_free(sw_audit_sampler *s);

/* Record this answer? Counts it as skipped when not. */
bool sw_audit_sampler_admit(sw_audit_sampler *s, const sw_api_gate_audit *a);

/* Answers not recorded since start; 0 for NULL. */
uint64_t sw_audit_sampler_skipped(const sw_audit_sampler *s);

typedef struct sw_mark {
    char *service, *env;
    int64_t at_ms;
    char *policy_override; /* NULL when none */
} sw_mark;

/* Per-series totals since start, for the /metrics counters and histogram. */
typedef struct sw_totals {
    sw_metrics_series *series;
    size_t n, cap;
    sw_u64map index; /* hash of (service, env) to the first series with it */
    /* Each service's classic latency bounds under the rules the totals last followed (the
     * latency totals hold them: sw_daemon_totals_rebound). */
    sw_metrics_bounds *bounds;
    const sw_rules *bounds_rules;
} sw_totals;

/* The remote-write senders and what they need per tick (daemon_rwout.c). */
typedef struct sw_daemon_rwout sw_daemon_rwout;
typedef struct sw_daemon_rsched sw_daemon_rsched;

/* The last state of every alert and trigger, to log and record changes. */
typedef struct sw_seen {
    uint8_t *state; /* per series x per (the most alerts + triggers of any service) */
    size_t n;
    size_t per; /* 0 until the first use after a reset */
} sw_seen;

/* The remote-write receiver (daemon_rw.c): settings as started, the rate bucket, counters. */
typedef struct sw_daemon_rw {
    pthread_mutex_t lock; /* guards what follows the settings */
    int64_t samples_per_second;
    size_t max_body;
    double tokens; /* samples that may still come this second; negative: in debt */
    int64_t bucket_ms;
    uint64_t requests[7]; /* by SW_METRICS_RW_CODES */
    uint64_t samples, rejected;
} sw_daemon_rw;

struct sw_daemon {
    sw_daemon_options opts;
    sw_config *cfg;
    int background_nice; /* the start's background_nice: the threads started later take it too */
    char *rules_text; /* the rules in force, as recorded in the store */
    size_t rules_len;
    sw_rules *rules;
    sw_eval *ev;
    sw_store *store;
    sw_accum *accum;
    sw_prommap *prommap;        /* Prometheus samples (scrape, remote write, query) into accum */
    sw_daemon_query *query;     /* NULL without prometheus_query */
    sw_daemon_cw *cw;           /* NULL without cloudwatch */
    sw_snapshot_source *source; /* the tick thread writes ev, rules, totals inside its sections */
    sw_am *am;
    pthread_mutex_t probe_lock; /* the probe thread holds it while probing; reload swaps */
    sw_probe *prober;
    uint64_t probe_errors;
    sw_http_server *http;
    sw_api_hooks hooks;
    sw_daemon_rw rw;
    char *token;
    char *listen, *data_dir; /* as started: changing them needs a restart */
    bool data_dir_created;   /* by this start: a failed start removes it again */
    bool ingest_sync;        /* as started */
    sw_shard shard;          /* as started: the services this instance owns */
    int64_t base_ms;
    int64_t last_tick_ms;  /* the boundary last taken */
    int64_t checkpoint_ms; /* the position of the last checkpoint written; 0: none yet */
    bool start_loaded;     /* the start's evaluator came from the checkpoint */
    char start_note[640];  /* what it covers, or why the store was read instead */
    /* An hourly checkpoint being written by its own thread; NULL: none. */
    struct sw_daemon_ckpt_job *ckpt_job;
    sw_totals totals;
    uint64_t values_aged_logged; /* the evaluator's forgotten label values already logged */
    uint64_t values_aged_ended;  /* ... whose totals sw_daemon_end_series dropped */
    sw_seen seen;
    sw_metrics_self self;
    sw_pending_row *pending;
    size_t n_pending, cap_pending;
    int64_t sim_until_ms;                 /* simulated traffic produced up to here */
    sw_daemon_rwout *rwout;               /* NULL without remote_write */
    sw_daemon_rsched *rsched;             /* NULL without report_schedule */
    atomic_uint_least64_t records_pruned; /* by the rollup thread: audits, marks, events */
    atomic_uint_least64_t rules_version;  /* reloads that installed rules */
    sw_report_cache *report_cache;        /* written reports, for GET /api/v1/report */

    pthread_mutex_t lock; /* guards the fields below */
    sw_snapshot *snapshot;
    sw_audit_row *audits;
    size_t n_audits, cap_audits;
    uint64_t audits_dropped;
    sw_audit_sampler *audit_sampler;
    sw_mark *marks;
    size_t n_marks, cap_marks;
    bool reload_requested, reload_done;
    sw_status reload_status;
    char reload_msg[SW_ERR_MSG_MAX];
    pthread_cond_t reloaded;
    char not_ready[256]; /* "" when ready */
    int wake_fd; /* eventfd: a mark or a reload request for the tick thread between ticks */

    pthread_mutex_t scrape_lock; /* the scrape thread holds it while scraping; reload swaps jobs */
    pthread_mutex_t emf_lock;    /* held while an EMF request uses emf; reload swaps it */
    sw_emf_map *emf;
    sw_scrape *scraper;
    pthread_t rollup_thread, probe_thread, scrape_thread;
    bool rollup_started, probe_started, scrape_started;
    volatile bool stopping;
    pthread_mutex_t stop_lock;
    pthread_cond_t stop_cond;
};

int64_t sw_daemon_now(const sw_daemon *d);

/* Load d->cfg's rules (or the options' text) into *ret_rules and its text. err holds the first
 * problem and how many more there are; log_each (a reload) also logs every one. */
sw_status sw_daemon_load_rules(const sw_daemon *d, const sw_config *cfg, bool log_each,
                               sw_rules **ret_rules, char **ret_text, size_t *ret_len, sw_err *err);

/* A new evaluator for rules with its windows, marks and latches rebuilt from the store. */
/*
 * The boundary the first tick starts from, in *io_tick_ms (now, floored to the base interval,
 * on entry): now - grace_ms, as if the daemon had been running, so intervals sources still
 * deliver late (CloudWatch's settle, remote write) stay open and marks are taken at the next
 * base interval instead of after the grace; but never before what the store holds
 * (stored_until_ms, and rows a backfill or the last run wrote after it), which the rebuild
 * feeds and no source must deliver again.
 */
sw_status sw_daemon_first_tick(sw_daemon *d, int64_t grace_ms, int64_t stored_until_ms,
                               int64_t *io_tick_ms, sw_err *err);

sw_status sw_daemon_rebuild(sw_daemon *d, const sw_rules *rules, int64_t now_ms, sw_eval **ret,
                            sw_err *err);

/* The start's evaluator: from the checkpoint in the data directory and the rows stored after
 * it, else (saying why in one log line) rebuilt from the store (daemon_ckpt.c). */
sw_status sw_daemon_evaluator_start(sw_daemon *d, int64_t now_ms, sw_eval **ret, sw_err *err);
/* Pin ev's windows to the hours' statistics the store holds from 48 hours before now_ms. */
sw_status sw_daemon_repin_stored(sw_daemon *d, sw_eval *ev, int64_t now_ms, sw_err *err);

/* Log how the start's evaluator was made, once the start succeeded. */
void sw_daemon_log_start_note(const sw_daemon *d);

/* Write the checkpoint of d->ev, which holds every stored row before covers_until_ms; skipped
 * while rows wait for the store. A failure is logged. */
void sw_daemon_checkpoint(sw_daemon *d, int64_t covers_until_ms);

/* Once an hour of base intervals has passed since the last: the state encoded on the calling
 * (tick) thread and the file written, synced and renamed by a thread of its own, so the ticks
 * after it go on meanwhile. Skipped while the previous one is still being written. */
void sw_daemon_checkpoint_hourly(sw_daemon *d, int64_t boundary_ms);

/* Wait for the hourly checkpoint being written, if any (sw_daemon_checkpoint waits too). */
void sw_daemon_checkpoint_wait(sw_daemon *d);

/* Fill d->hooks for the HTTP handlers. */
void sw_daemon_api_init(sw_daemon *d);

/* Take the receiver's settings and set its hook (after sw_daemon_api_init). */
void sw_daemon_rw_init(sw_daemon *d);

/* Copy the receiver's counters into self (tick thread). */
void sw_daemon_rw_self(sw_daemon *d, sw_metrics_self *self);

/* Ask the tick thread to reload and wait for its answer (HTTP threads). */
sw_status sw_daemon_request_reload(sw_daemon *d, sw_err *err);

/* Write the queued audits to the store (tick thread). */
void sw_daemon_flush_audits(sw_daemon *d);

/* Start scraping cfg's jobs on the scrape thread (daemon_scrape.c). */
sw_status sw_daemon_scrape_start(sw_daemon *d, sw_err *err);

/* Scrape cfg's jobs from now on; on error the previous jobs go on. */
sw_status sw_daemon_scrape_reload(sw_daemon *d, const sw_config *cfg, sw_err *err);

/* The sample map's counts into self->prom (tick thread, when publishing; daemon_scrape.c). */
void sw_daemon_prom_self(sw_daemon *d, sw_metrics_self *self);

/* Every scrape target's health for /metrics, lent to mi until sw_daemon_scrape_targets_free
 * (none when the scraper is off or memory ran out). */
typedef struct sw_daemon_targets {
    sw_scrape_target_stats *stats;
    sw_metrics_target *targets;
    size_t n;
} sw_daemon_targets;

void sw_daemon_scrape_targets(sw_daemon *d, sw_metrics_input *mi, sw_daemon_targets *t);
void sw_daemon_label_values(sw_daemon *d, sw_metrics_input *mi);
void sw_daemon_scrape_targets_free(sw_daemon_targets *t);

/* Join the scrape thread (after d->stopping is set) and free the scraper. */
void sw_daemon_scrape_stop(sw_daemon *d);

/* Apply the queued deployment marks to the evaluator (tick thread); whether there were any. */
bool sw_daemon_apply_marks(sw_daemon *d);

/* Wake the tick thread from its wait between boundaries (a mark or a reload request queued). */
void sw_daemon_wake(sw_daemon *d);

/* Sleep up to ms (real time) unless the daemon stops meanwhile; false when it stops. */
bool sw_daemon_nap(sw_daemon *d, int64_t ms);

/*
 * Make what the accumulators acknowledged durable before the answer (with ingest_sync). A
 * failing sync leaves the data applied and written, so it is logged, not refused: a client's
 * retry would count it twice.
 */
void sw_daemon_sync_journal(sw_daemon *d);

/* Refuse (SW_E_PARSE, naming the bound) a time more than SW_DAEMON_AHEAD_MS after now. */
sw_status sw_daemon_check_ahead(const sw_daemon *d, int64_t at_ms, const char *what, sw_err *err);

/* A secret (token, password): the first line of a file, whitespace around it dropped. */
sw_status sw_daemon_read_secret(const char *path, char **ret, sw_err *err);

/* Fail with "cannot read WHAT PATH: reason" unless the file can be opened for reading. */
sw_status sw_daemon_check_readable(const char *path, const char *what, sw_err *err);

/* Create the data directory if it is missing (*ret_created: it was), else check it is a
 * directory the store can use; errors name the directory. */
sw_status sw_daemon_data_dir_prepare(const char *dir, bool *ret_created, sw_err *err);

/* Remove a data directory this start created, with the store files in it (a failed start). */
void sw_daemon_data_dir_discard(const char *dir);

/* Start the prometheus_query thread when configured (after the prommap exists); stop it and
 * free it (after the stop flag is raised). Stopping a source never started does nothing. */
sw_status sw_daemon_query_start(sw_daemon *d, sw_err *err);
void sw_daemon_query_stop(sw_daemon *d);

/* The query source's selectors for rules, each once: every `prometheus` selector, a latency
 * family as its `_bucket` series. A poll sends one query per selector. */
sw_status sw_daemon_query_selectors(const sw_rules *rules, char ***ret, size_t *ret_n,
                                    sw_err *err);
void sw_daemon_query_selectors_free(char **sel, size_t n);

/* New rules' selectors for the query source (tick thread, on reload). */
void sw_daemon_query_set_rules(sw_daemon *d, const sw_rules *rules);

/* The query source's counters into self (tick thread, when publishing). */
void sw_daemon_query_self(sw_daemon *d, sw_metrics_self *self);
/* Start a sender per remote_write entry of d->cfg (they keep running across reloads). */
sw_status sw_daemon_rwout_start(sw_daemon *d, sw_err *err);

/* Queue a series' totals as of end_ms on every sender (tick thread; never waits). */
void sw_daemon_rwout_add(sw_daemon *d, const sw_metrics_series *total, int64_t end_ms);

/* Queue the per-service series of s's /metrics, other than the counters, as of now_ms on
 * every sender (tick thread, once s is published; never waits). */
void sw_daemon_rwout_snapshot(sw_daemon *d, const sw_snapshot *s, int64_t now_ms);

/* The senders' counts into d->self for /metrics (tick thread). */
void sw_daemon_rwout_stats(sw_daemon *d);

/* Flush (bounded by each flush_deadline) and stop the senders. */
void sw_daemon_rwout_stop(sw_daemon *d);

/* Start the cloudwatch thread when configured; stop and free it (after the stop flag is
 * raised). Stopping a source never started does nothing. */
sw_status sw_daemon_cw_start(sw_daemon *d, sw_err *err);
void sw_daemon_cw_stop(sw_daemon *d);

/* New rules' cloudwatch sources for the poller (tick thread, on reload). */
void sw_daemon_cw_set_rules(sw_daemon *d, const sw_rules *rules);

/* Pin the evaluator's windows beyond 2 days to the hours the poller stored since the last
 * call; true when any was applied (tick thread, after an advance: advance again to publish). */
bool sw_daemon_cw_pin_hours(sw_daemon *d, int64_t boundary_ms);

/* The cloudwatch source's counters into self (tick thread, when publishing). */
void sw_daemon_cw_self(sw_daemon *d, sw_metrics_self *self);

/* The report schedule's thread (daemon_report_sched.c) when configured: started after the
 * store is open, stopped (after the stop flag is raised) before it closes; its delivery counts
 * into self (tick thread, when publishing). Stopping one never started does nothing. */
sw_status sw_daemon_report_sched_start(sw_daemon *d, sw_err *err);
void sw_daemon_report_sched_stop(sw_daemon *d);
void sw_daemon_report_sched_self(sw_daemon *d, sw_metrics_self *self);

/* Shared among daemon.c, daemon_reload.c and daemon_setup.c. */
int64_t sw_daemon_wall_ms(void);
void sw_daemon_totals_fini(sw_totals *t);
/* Whether the series (service: its key) has ended. */
typedef bool (*sw_daemon_series_gone_fn)(void *ctx, const char *service, const char *env);
/* Drop the totals of the series gone names (the others keep their order); how many were
 * dropped: none when the new index cannot be built (out of memory). */
size_t sw_daemon_totals_drop(sw_totals *t, sw_daemon_series_gone_fn gone, void *ctx);
/* The latency totals follow the classic bounds of rules (after a start or a reload): a series
 * whose bounds changed starts its latency histogram again (docs/metrics.md). Out of memory keeps
 * the bounds as they were and logs it. */
void sw_daemon_totals_rebound(sw_totals *t, const sw_rules *rules);
/* The totals of series that ended leave /metrics and remote write (docs/metrics.md): a
 * label value the evaluator forgot after by_idle (looked for when it has forgotten more since
 * the last call), and after a reload (reloaded) every series the new rules no longer resolve
 * and every label value the rebuilt evaluator does not hold, as after a fresh start
 * (daemon_reload.c). */
void sw_daemon_end_series(sw_daemon *d, bool reloaded);
/* Queue iv for the store, its histogram taken (left in *iv on failure). */
sw_status sw_daemon_pending_push(sw_daemon *d, const char *service, const char *env,
                                 sw_sli_interval *iv, sw_err *err);
/* Queue row for the store, taking all it holds (left empty; left as it was on failure). */
sw_status sw_daemon_pending_move(sw_daemon *d, sw_pending_row *row, sw_err *err);
sw_status sw_daemon_ingest(void *ctx, const char *service, const char *env, sw_sli_interval *iv,
                           sw_err *err);
/* daemon_store.c: the pending rows written (false when the store refused), then the journal
 * compacted when they were. */
bool sw_daemon_store_flush(sw_daemon *d, int64_t taken_until_ms);
void sw_daemon_store_and_compact(sw_daemon *d, int64_t boundary_ms);
/* Monotonic seconds, for the self-metrics' durations. */
double sw_daemon_mono_s(void);
void sw_daemon_seen_reset(sw_daemon *d);
void sw_daemon_publish(sw_daemon *d, int64_t now_ms);
/* The snapshot just published prepares its likely gate answers (after the write section). */
void sw_daemon_prepare_published(sw_daemon *d);
void sw_daemon_tick(sw_daemon *d, int64_t boundary_ms);
int64_t sw_daemon_take_grace_ms(const sw_daemon *d);
void *sw_daemon_probe_loop(void *arg);
sw_status sw_daemon_probes_for(sw_daemon *d, const sw_rules *rules, sw_probe **ret, sw_err *err);
void *sw_daemon_rollup_loop(void *arg);
sw_status sw_daemon_reload(sw_daemon *d, sw_err *err);
void sw_daemon_serve_reload_request(sw_daemon *d);

#endif
