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

#endif
