/*
 * The daemon: one object that owns everything `slawatch serve` and `slawatch demo` run — the
 * store, the rules and the evaluator rebuilt from the store, interval accumulators fed by the
 * sources (health probes, the demo's simulator), the HTTP API, the Alertmanager pusher and a
 * background rollup thread. The thread that calls sw_daemon_run() is the evaluation tick: every
 * base interval it takes the ended intervals, writes them in one transaction, evaluates, and
 * publishes a snapshot the HTTP threads answer from.
 */
#ifndef SLAWATCH_DAEMON_H
#define SLAWATCH_DAEMON_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "slawatch/config.h"
#include "slawatch/err.h"
#include "slawatch/sim.h"
#include "slawatch/snapshot.h"

/* The ingest journal, in the data directory beside the store's database. */
#define SW_DAEMON_JOURNAL_NAME "ingest.journal"
/* The evaluator's checkpoint in the data directory (docs/scaling.md, "Start-up"). */
#define SW_DAEMON_CHECKPOINT_NAME "evaluator.ckpt"

/* Epoch milliseconds; the demo's clock runs faster than the wall clock. */
typedef int64_t (*sw_daemon_clock)(void *ctx);

/* Called on the tick thread after each snapshot is published (the demo narrates from it). */
typedef void (*sw_daemon_tick_hook)(void *ctx, const sw_snapshot *s);

typedef struct sw_daemon_options {
    sw_config *config;      /* taken: the daemon frees it (reloads replace it) */
    const char *rules_text; /* NULL: the config's rules file; else these rules (the demo) */
    sw_daemon_clock clock;  /* NULL: the wall clock */
    void *clock_ctx;
    double speed;                    /* simulated seconds per real second (1 for serve) */
    const sw_sim_scenario *simulate; /* NULL: no simulated traffic */
    sw_daemon_tick_hook on_tick;
    void *hook_ctx;
} sw_daemon_options;

typedef struct sw_daemon sw_daemon;

/*
 * Load the rules, open the store, rebuild the evaluator's windows from it, and start the HTTP
 * server and the background threads. Errors say what failed (rules with FILE:LINE:COL, the
 * store's path, the listen address).
 */
sw_status sw_daemon_new(const sw_daemon_options *opts, sw_daemon **ret, sw_err *err);

/* The port the API listens on. */
uint16_t sw_daemon_port(const sw_daemon *d);

/*
 * Run ticks until *stop is set (a signal handler's flag); *reload set: reload the config and
 * rules at the next tick (and clear it). On stop the ended intervals are flushed.
 */
void sw_daemon_run(sw_daemon *d, volatile sig_atomic_t *stop, volatile sig_atomic_t *reload);

/*
 * A descriptor that ends the tick thread's wait between ticks: a signal handler that sets *stop
 * or *reload writes an 8-byte 1 to it (write(2) is async-signal-safe), so the flag is seen at
 * once, whichever thread the signal interrupted and however close to the wait it came.
 */
int sw_daemon_signal_fd(const sw_daemon *d);

/* Mark a deployment (as POST /api/v1/deployments does); policy_override NULL when none, else
 * checked first (gate_policy.h: SW_E_PARSE saying what is wrong). */
sw_status sw_daemon_mark_deployment(sw_daemon *d, const char *service, const char *env,
                                    int64_t at_ms, const char *policy_override, const char *who,
                                    sw_err *err);

/* Stop the threads and the server, close the store. NULL does nothing. */
void sw_daemon_free(sw_daemon *d);

/*
 * How long after an interval ends the tick takes it: a tenth of the base interval, plus the
 * longest scrape or probe timeout (a scrape or probe is stamped when it starts), plus
 * ingest_delay. Data for a taken interval is late: increases are carried, other values
 * dropped and counted.
 */
int64_t sw_daemon_take_delay_ms(const sw_config *cfg, const sw_rules *rules);

/*
 * Refuse cfg with rules (cut to the instance's shard) when a source's values can arrive after
 * their interval is taken: health read through `prometheus_query` (remote-written values
 * arrive when the sender sends them, which no configuration bounds). Every problem in diag
 * (may be NULL) as FILE:LINE:COL at the health source, saying what to change; the first in err.
 */
sw_status sw_daemon_check_arrivals(const sw_config *cfg, const sw_rules *rules,
                                   sw_rules_diag *diag, sw_err *err);


#endif
