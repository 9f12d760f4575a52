/*
 * slawatch check: validate rules files (slawatch's format or OpenSLO) and daemon configuration
 * files (with the rules files they name).
 * Errors go to stderr, one line each (FILE:LINE:COL: error: MESSAGE); each valid file gets a
 * one-line summary on stdout.
 */
#include "cli.h"

#include "slawatch/config.h"
#include "slawatch/daemon.h"
#include "slawatch/rules.h"
#include "slawatch/shard.h"
#include "slawatch/yaml.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static void
check_usage(FILE *f)
{
    fprintf(f,
            "usage: slawatch check [--explain SERVICE] FILE...\n\n"
            "Validate the FILEs; print every error as FILE:LINE:COL: error: MESSAGE on standard\n"
            "error and, for valid files, a summary on standard output. A file is recognised by\n"
            "its top-level keys:\n"
            "  rules     version, services, profiles, objectives, alerts, rollback_triggers or\n"
            "            gate: checked fully (rules/README.md)\n"
            "  OpenSLO   apiVersion: openslo/v1 with kind: SLO, SLI and Service documents:\n"
            "            checked fully and mapped onto rules (rules/OPENSLO.md); the OpenSLO\n"
            "            files given are one set, their references resolved across them\n"
            "  config    listen, data_dir, rules_files, alertmanager ...: the daemon's\n"
            "            configuration (docs/configuration.md), checked fully, and the rules\n"
            "            files it names checked together; with `shard`, the services this\n"
            "            instance evaluates are listed; refused when values a source reads\n"
            "            can arrive after their interval is taken (docs/configuration.md)\n"
            "Anything else is checked as a rules file. The rules files given are checked\n"
            "together, as one daemon would load them: each service defined once, profiles\n"
            "shared, settings agreeing.\n\n"
            "Exit status: 0 every file is valid, 1 some file is invalid, 2 usage or I/O error.\n\n"
            "  --explain SERVICE  print the service's resolved commitments: each objective,\n"
            "                     alert, rollback trigger and the gate with where it came from\n"
            "  -h, --help, --version\n");
}

/* Returns -1 when --help or --version answered, else an exit status; files start at optind. */
static int
parse_opts(int argc, char **argv, const char **ret_explain)
{
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {"explain", required_argument, NULL, 'e'},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            check_usage(stdout);
            return -1;
        case 'V':
            sw_cli_version(stdout);
            return -1;
        case 'e':
            *ret_explain = optarg;
            break;
        default:
            check_usage(stderr);
            return SW_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        check_usage(stderr);
        return SW_EXIT_USAGE;
    }
    return SW_EXIT_OK;
}

static const char *
plural(size_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

static void
print_summary(const char *path, const char *kind, const sw_rules *r)
{
    printf("%s: ok (%s: %zu %s, %zu %s, %zu %s, %zu %s)\n", path, kind, r->n_services,
           plural(r->n_services, "service", "services"), r->n_objectives,
           plural(r->n_objectives, "objective", "objectives"), r->n_alerts,
           plural(r->n_alerts, "alert", "alerts"), r->n_triggers,
           plural(r->n_triggers, "rollback trigger", "rollback triggers"));
}

/* The loader's lines when it has them; otherwise one line for the failure it returned. */
static int
report_failure(const char *path, sw_status st, const sw_err *err, const sw_rules_diag *diag)
{
    for (size_t i = 0; i < sw_rules_diag_count(diag); i++)
        fprintf(stderr, "%s\n", sw_rules_diag_line(diag, i));
    if (st == SW_E_IO) {
        fprintf(stderr, "%s: error: cannot read: %s\n", path, strerror(err->sys_errno));
        return SW_EXIT_USAGE;
    }
    if (sw_rules_diag_count(diag) > 0)
        return SW_EXIT_INPUT;
    if (st == SW_E_TOOBIG)
        fprintf(stderr, "%s: error: larger than the limit of %u bytes\n", path,
                (unsigned)SW_YAML_MAX_INPUT);
    else
        fprintf(stderr, "%s: error: %s\n", path, err->msg);
    return st == SW_E_TOOBIG ? SW_EXIT_INPUT : SW_EXIT_USAGE;
}

static size_t
services_in(const sw_rules *r, const char *path)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_services; i++)
        n += r->services[i].pos.file != NULL && strcmp(r->services[i].pos.file, path) == 0;
    return n;
}

/* One file: the summary it always had; several: each file's services, then the whole. */
static void
print_set(const char *const *paths, size_t n, sw_rules_file_kind kind, const sw_rules *r)
{
    if (n == 1) {
        print_summary(paths[0], kind == SW_FILE_OPENSLO ? "OpenSLO" : "rules", r);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        size_t k = services_in(r, paths[i]);
        printf("%s: ok (rules: %zu %s)\n", paths[i], k, plural(k, "service", "services"));
    }
    printf("%zu rules files: ok together (%zu %s)\n", n, r->n_services,
           plural(r->n_services, "service", "services"));
}

/* Which of the files could not be read, said as for a single file. */
static int
report_unreadable(const char *const *paths, size_t n, const sw_err *err)
{
    for (size_t i = 0; i < n; i++) {
        FILE *f = fopen(paths[i], "rb");
        if (f == NULL) {
            fprintf(stderr, "%s: error: cannot read: %s\n", paths[i], strerror(errno));
            return SW_EXIT_USAGE;
        }
        fclose(f);
    }
    fprintf(stderr, "error: %s\n", err->msg);
    return SW_EXIT_USAGE;
}

static int
check_rules_set(const char *const *paths, size_t n, const char *explain)
{
    sw_rules_diag *diag = sw_rules_diag_new();
    sw_rules *rules = NULL;
    sw_err err = {0};
    if (diag == NULL) {
        fprintf(stderr, "%s: error: out of memory\n", paths[0]);
        return SW_EXIT_USAGE;
    }
    sw_status st = n == 1 ? sw_rules_load_file(paths[0], &rules, diag, &err)
                          : sw_rules_load_files(paths, n, &rules, diag, &err);
    int rc = SW_EXIT_OK;
    if (st == SW_OK) {
        print_set(paths, n, sw_rules_file_kind_of(paths[0]), rules);
    } else if (st == SW_E_IO && n > 1) {
        rc = report_unreadable(paths, n, &err);
    } else {
        rc = report_failure(paths[0], st, &err, diag);
    }
    if (st == SW_OK && explain != NULL)
        rc = sw_cli_explain(rules, explain);
    sw_rules_free(rules);
    sw_rules_diag_free(diag);
    return rc;
}

/* Which of the rules' services a sharded instance evaluates, so the split can be checked
 * before any instance starts. */
static void
print_shard(const sw_config *cfg)
{
    sw_rules *rules = NULL;
    sw_err err = {0};
    if (cfg->shard.count == 0 || cfg->n_rules_files != 1 ||
        sw_rules_load_file(cfg->rules_files[0], &rules, NULL, &err) != SW_OK)
        return;
    size_t total = rules->n_services;
    sw_shard_rules(rules, &cfg->shard);
    printf("%s: shard index %u of count %u owns %zu of %zu %s:", cfg->path, cfg->shard.index,
           cfg->shard.count, rules->n_services, total, plural(total, "service", "services"));
    for (size_t i = 0; i < rules->n_services; i++)
        printf(" %s", rules->services[i].name);
    printf("\n");
    sw_rules_free(rules);
}

/* Values that could arrive after their interval is taken, with the rules the instance would
 * read (its shard's): `serve` refuses such a configuration too. */
static int
check_arrivals(const sw_config *cfg, const char *const *paths, size_t n)
{
    sw_rules *rules = NULL;
    sw_err err = {0};
    if (sw_rules_load_files(paths, n, &rules, NULL, &err) != SW_OK)
        return SW_EXIT_OK; /* its rules were checked, and reported, on their own */
    sw_shard_rules(rules, &cfg->shard);
    sw_rules_diag *diag = sw_rules_diag_new();
    int rc = SW_EXIT_USAGE;
    if (diag == NULL)
        fprintf(stderr, "%s: error: out of memory\n", cfg->path);
    else if (sw_daemon_check_arrivals(cfg, rules, diag, &err) == SW_OK)
        rc = SW_EXIT_OK;
    else
        rc = report_failure(cfg->path, SW_E_INVAL, &err, diag);
    sw_rules_diag_free(diag);
    sw_rules_free(rules);
    return rc;
}

/* A configuration, then its rules files together: `serve` would refuse to start otherwise. */
static int
check_config(const char *path, const char *explain)
{
    sw_rules_diag *diag = sw_rules_diag_new();
    sw_config *cfg = NULL;
    sw_err err = {0};
    if (diag == NULL) {
        fprintf(stderr, "%s: error: out of memory\n", path);
        return SW_EXIT_USAGE;
    }
    sw_status st = sw_config_load(path, &cfg, diag, &err);
    int rc = st == SW_OK ? SW_EXIT_OK : report_failure(path, st, &err, diag);
    sw_rules_diag_free(diag);
    if (st != SW_OK)
        return rc;
    char **paths = NULL;
    size_t n = 0;
    st = sw_rules_expand_paths(cfg->rules_files, cfg->n_rules_files, &paths, &n, &err);
    if (st != SW_OK) {
        fprintf(stderr, "%s: error: %s\n", path, err.msg);
        rc = SW_EXIT_INPUT;
    } else if (n > 0) {
        rc = check_rules_set((const char *const *)paths, n, explain);
        if (rc != SW_EXIT_OK)
            fprintf(stderr, "%s: error: its rules files are invalid (see above)\n", path);
    }
    if (rc == SW_EXIT_OK && n > 0)
        rc = check_arrivals(cfg, (const char *const *)paths, n);
    sw_rules_paths_free(paths, n);
    if (rc == SW_EXIT_OK) {
        printf("%s: ok (configuration: listen %s, data_dir %s, %zu rules %s)\n", path, cfg->listen,
               cfg->data_dir, n, plural(n, "file", "files"));
        if (cfg->alertmanager_url != NULL)
            printf("%s: alerts and rollback triggers are POSTed to %s\n", path,
                   cfg->alertmanager_url);
        print_shard(cfg);
    }
    sw_config_free(cfg);
    return rc;
}

int
sw_cli_check(int argc, char **argv)
{
    const char *explain = NULL;
    int rc = parse_opts(argc, argv, &explain);
    if (rc != SW_EXIT_OK)
        return rc < 0 ? SW_EXIT_OK : rc;
    /* Configurations each with their own rules; every other file in one set. */
    const char **set = calloc((size_t)argc, sizeof *set);
    size_t n = 0;
    if (set == NULL) {
        fprintf(stderr, "slawatch check: out of memory\n");
        return SW_EXIT_USAGE;
    }
    for (int i = optind; i < argc; i++) {
        if (sw_rules_file_kind_of(argv[i]) != SW_FILE_CONFIG) {
            set[n++] = argv[i];
            continue;
        }
        int file_rc = check_config(argv[i], explain);
        rc = file_rc > rc ? file_rc : rc;
    }
    if (n > 0) {
        int set_rc = check_rules_set(set, n, explain);
        rc = set_rc > rc ? set_rc : rc;
    }
    free(set);
    return rc;
}
