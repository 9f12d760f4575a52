/*
 * The subcommands of the slawatch executable. Each takes argv from its own name on and
 * returns the process exit status: 0 success, 1 bad input or a negative verdict, 2 usage or
 * I/O errors (except `gate`, below).
 */
#ifndef SLAWATCH_CLI_H
#define SLAWATCH_CLI_H

#include <signal.h>
#include <stdio.h>

enum { SW_EXIT_OK = 0, SW_EXIT_INPUT = 1, SW_EXIT_USAGE = 2 };

/* `slawatch gate` exits with the verdict, as deploy pipelines read it (DESIGN.md). */
enum {
    SW_EXIT_GATE_PASS = 0,
    SW_EXIT_GATE_FAIL = 1,
    SW_EXIT_GATE_INCONCLUSIVE = 2,
    SW_EXIT_GATE_ERROR = 3, /* usage, connection, HTTP status, bad answer, timeout */
};

int sw_cli_check(int argc, char **argv);
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

#endif
