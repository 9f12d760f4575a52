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

static int run_version(int argc, char **argv);
static int run_help(int argc, char **argv);

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
    {"version", run_version, "print the version"},
    {"help", run_help, "this list, or a command's options (slawatch help COMMAND)"},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

void
sw_cli_version(FILE *f)
{
    fprintf(f, "slawatch %s\n", SW_VERSION);
}

static void
usage(FILE *f)
{
    fprintf(f, "usage: slawatch COMMAND [OPTIONS]\n\ncommands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nRun 'slawatch COMMAND --help' for a command's options.\n");
}

static const command *
find_command(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(name, commands[i].name) == 0)
            return &commands[i];
    return NULL;
}

/* Optimal string alignment distance: edits, adjacent swaps counted as one (a typo's usual
 * shapes). Names are short; longer input is simply far from every name. */
static size_t
typo_distance(const char *a, const char *b)
{
    enum { MAX = 32 };
    size_t la = strlen(a), lb = strlen(b);
    if (la >= MAX || lb >= MAX)
        return MAX;
    size_t d[MAX + 1][MAX + 1];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] != b[j - 1];
            size_t best = d[i - 1][j - 1] + cost;
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[la][lb];
}

/* The command a mistyped name most likely meant: within two edits, and fewer than half its
 * letters, so short nonsense suggests nothing. */
static const char *
closest_command(const char *name)
{
    const char *best = NULL;
    size_t best_d = 3;
    for (size_t i = 0; i < N_COMMANDS; i++) {
        size_t dist = typo_distance(name, commands[i].name);
        if (dist < best_d && dist * 2 < strlen(commands[i].name)) {
            best = commands[i].name;
            best_d = dist;
        }
    }
    return best;
}

static int
run_version(int argc, char **argv)
{
    (void)argv;
    if (argc > 1) {
        fprintf(stderr, "usage: slawatch version\n");
        return SW_EXIT_USAGE;
    }
    sw_cli_version(stdout);
    return SW_EXIT_OK;
}

/* `slawatch help COMMAND` is `slawatch COMMAND --help`. */
static int
run_help(int argc, char **argv)
{
    if (argc == 1) {
        usage(stdout);
        return SW_EXIT_OK;
    }
    const command *c = find_command(argv[1]);
    if (argc > 2 || c == NULL || c->run == run_help) {
        usage(stderr);
        return SW_EXIT_USAGE;
    }
    char help[] = "--help";
    char *args[] = {argv[1], help, NULL};
    return c->run(2, args);
}

static int
unknown_command(const char *name)
{
    const char *guess = closest_command(name);
    if (guess != NULL)
        fprintf(stderr, "slawatch: unknown command '%s'; did you mean `%s`?\n", name, guess);
    else
        fprintf(stderr, "slawatch: unknown command '%s'\n", name);
    fprintf(stderr, "Run 'slawatch --help' for the list of commands.\n");
    return SW_EXIT_USAGE;
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return SW_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--version") == 0)
        return run_version(1, argv + 1);
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
        return run_help(1, argv + 1);
    const command *c = find_command(argv[1]);
    if (c == NULL)
        return unknown_command(argv[1]);
    sw_err err;
    if (sw_http_client_global_init(&err) != SW_OK) {
        fprintf(stderr, "slawatch: %s\n", err.msg);
        return SW_EXIT_USAGE;
    }
    atexit(sw_http_client_global_cleanup);
    /* getopt names the program by argv[0]: "slawatch serve: invalid option", as our own
     * messages say. */
    char name[64];
    snprintf(name, sizeof name, "slawatch %s", c->name);
    argv[1] = name;
    return c->run(argc - 1, argv + 1);
}
