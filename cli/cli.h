/*
 * The subcommands of the slawatch executable. Each takes argv from its own name on and
 * returns the process exit status: 0 success, 1 bad input or a negative verdict, 2 usage or
 * I/O errors (except `gate`, below).
 */
#ifndef SLAWATCH_CLI_H
#define SLAWATCH_CLI_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "slawatch/config.h"
#include "slawatch/daemon.h"
#include "slawatch/eval.h"
#include "slawatch/rules.h"
#include "slawatch/shard.h"
#include "slawatch/sli.h"
#include "slawatch/store.h"

enum { SW_EXIT_OK = 0, SW_EXIT_INPUT = 1, SW_EXIT_USAGE = 2 };

/* `slawatch gate` exits with the verdict, as deploy pipelines read it (DESIGN.md). */
enum {
    SW_EXIT_GATE_PASS = 0,
    SW_EXIT_GATE_FAIL = 1,
    SW_EXIT_GATE_INCONCLUSIVE = 2,
    SW_EXIT_GATE_ERROR = 3, /* usage, connection, HTTP status, bad answer, timeout */
};

int sw_cli_check(int argc, char **argv);

/* `check --explain`: print service's resolved set (explain.c); SW_EXIT_INPUT when unknown. */
struct sw_rules;
int sw_cli_explain(const struct sw_rules *rules, const char *service);
int sw_cli_hdr(int argc, char **argv);
int sw_cli_eval(int argc, char **argv);
int sw_cli_gate(int argc, char **argv);
int sw_cli_serve(int argc, char **argv);
int sw_cli_demo(int argc, char **argv);
int sw_cli_report(int argc, char **argv);
int sw_cli_export(int argc, char **argv);
int sw_cli_lint_metrics(int argc, char **argv);
int sw_cli_backfill(int argc, char **argv);

/* Install SIGTERM/SIGINT (stop) and SIGHUP (reload) handlers; SIGPIPE is ignored. */
void sw_cli_signals(volatile sig_atomic_t **ret_stop, volatile sig_atomic_t **ret_reload);
/* sw_daemon_run with those handlers also waking the daemon's tick thread when they fire. */
void sw_cli_run_daemon(sw_daemon *d, volatile sig_atomic_t *stop, volatile sig_atomic_t *reload);

/* Print "slawatch X.Y.Z" to f. */
void sw_cli_version(FILE *f);

/* The demo's data directory (demo_dir.c). */
typedef struct sw_demo_dir {
    char path[PATH_MAX];
    bool created;   /* by this run */
    bool temporary; /* no --data: removed on every exit */
    bool replaced;  /* a previous demo's store was there and is gone: a fresh story */
} sw_demo_dir;

/* A temporary directory (data NULL) or data: new, empty or a previous demo's (its store
 * removed); a store the demo did not write is refused. Errors name the directory. */
sw_status sw_demo_dir_open(const char *data, sw_demo_dir *dd, sw_err *err);

/* On exit: a temporary directory goes; after a failed start, whatever this run wrote goes. */
void sw_demo_dir_close(const sw_demo_dir *dd, bool failed);

/* The demo's simulated previous month (demo_history.c): times in epoch milliseconds. */
typedef struct sw_demo_history {
    int64_t from_ms, to_ms; /* the calendar month (UTC) before the demo's start */
    int64_t incident_ms;    /* when its incident began (it lasts 90 minutes) */
} sw_demo_history;

/* The first instant of the UTC calendar month months_back months before at_ms's. */
int64_t sw_demo_month_start(int64_t at_ms, int months_back);

/* Write the previous month of api/blue (with an incident and its alert), the rules in force,
 * and the rollups into the store in dir; a few seconds. */
sw_status sw_demo_fill_history(const char *dir, const sw_store_options *so, const char *rules_text,
                               int64_t now_ms, sw_demo_history *ret, sw_err *err);

/* What-if over the stored history (whatif.c): `eval --data` and `report --rules`. */
typedef struct sw_cli_period {
    int64_t from_ms, to_ms; /* [from, to), whole hours (UTC) */
} sw_cli_period;

/* --from/--to (RFC 3339, whole hours) or --quarter (YYYY-QN, or `last`: the last quarter ended
 * by now_ms, UTC). Errors name the flag and the text. */
sw_status sw_cli_period_parse(const char *from, const char *to, const char *quarter, int64_t now_ms,
                              sw_cli_period *p, sw_err *err);

/* The store of --data DIR, else of --config FILE's data directory (*ret_cfg, kept for the
 * caller); a directory without a store is refused, not created. Prints the error; returns the
 * exit status. */
int sw_cli_open_store(const char *cmd, const char *data, const char *config, sw_config **ret_cfg,
                      sw_store **ret_st);

/* What the store holds of each service of a rule set (indexed like rules->services). */
typedef struct sw_cli_held {
    bool rows, requests, latency, health;
} sw_cli_held;

typedef struct sw_cli_held_scan_ctx {
    const sw_rules *rules;
    sw_cli_held *held;
} sw_cli_held_scan_ctx;

/* Which services a what-if judges, over which period. */
typedef struct sw_cli_scope {
    int64_t from_ms, to_ms;
    const char *const *services; /* n_services 0: every service of the rules the shard owns */
    size_t n_services;
    const sw_shard *shard; /* NULL: every service */
} sw_cli_scope;

/* A zeroed array for the rules' services (free()), or NULL without memory. */
sw_cli_held *sw_cli_held_new(const sw_rules *rules);

/* Count a stored interval of service (services not in the rules are ignored). */
void sw_cli_held_note(const sw_rules *rules, sw_cli_held *held, const char *service,
                      const sw_sli_interval *iv);

/* Note every row stored for [from, to) (the coarsest rows). Store errors pass through. */
sw_status sw_cli_held_scan(sw_store *st, const sw_rules *rules, int64_t from_ms, int64_t to_ms,
                           sw_cli_held *held, sw_err *err);

/* Print `FILE:LINE:COL: error: ...` for each objective whose SLI the store does not hold for a
 * service in scope, and for each such service without any data; returns how many. */
size_t sw_cli_held_check(const sw_rules *rules, const sw_cli_held *held, const sw_cli_scope *scope);

/* The rules with every objective's window made the period, every service's own set included:
 * *copy shares all else with rules (which must outlive it); free(*ret_block) after. */
sw_status sw_cli_whatif_rules(const sw_rules *rules, const sw_cli_period *p, sw_rules *copy,
                              void **ret_block, sw_err *err);

/* An evaluator fed the period's stored rows of the rules' services and evaluated at its end,
 * noting in held what each service's rows hold (eval_store.c). */
sw_status sw_cli_eval_store(sw_store *st, const sw_rules *rules, const sw_cli_period *p,
                            sw_cli_held *held, sw_eval **ret, sw_err *err);

#endif
