/*
 * slawatch: dispatch to a subcommand. Library initialisation belongs here and nowhere else.
 */
#include "cli.h"
#include "sw_config.h"

#include "slawatch/http_client.h"

#include <stdlib.h>
#include <string.h>

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"serve", sw_cli_serve, "run the daemon: store, evaluation, /metrics, deploy gate, alerts"},
    {"demo", sw_cli_demo, "run the daemon on simulated blue-green traffic (no setup needed)"},
    {"check", sw_cli_check, "validate rules (slawatch or OpenSLO) and configuration files"},
    {"eval", sw_cli_eval, "replay recorded intervals through the evaluator"},
    {"gate", sw_cli_gate, "ask a slawatch server whether a deployment may proceed"},
    {"report", sw_cli_report, "write the monthly SLA report (HTML, Markdown, JSON or CSV)"},
    {"export", sw_cli_export, "write a service's stored intervals as an HdrHistogram log or CSV"},
    {"hdr", sw_cli_hdr, "summarise latency values or an HdrHistogram interval log"},
    {"backfill", sw_cli_backfill, "pull history from a source (cloudwatch) into the store"},
    {"lint-metrics", sw_cli_lint_metrics, "check a Prometheus exposition, like promtool check metrics"},
};

void
sw_cli_version(FILE *f)
{
    fprintf(f, "slawatch %s\n", SW_VERSION);
}

static void
usage(FILE *f)
{
    fprintf(f, "usage: slawatch COMMAND [OPTIONS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nRun 'slawatch COMMAND --help' for a command's options.\n");
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return SW_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--version") == 0) {
        sw_cli_version(stdout);
        return SW_EXIT_OK;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return SW_EXIT_OK;
    }
    sw_err err;
    if (sw_http_client_global_init(&err) != SW_OK) {
        fprintf(stderr, "slawatch: %s\n", err.msg);
        return SW_EXIT_USAGE;
    }
    atexit(sw_http_client_global_cleanup);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "slawatch: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return SW_EXIT_USAGE;
}
