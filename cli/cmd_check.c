/*
 * slawatch check: validate rules files (slawatch's format or OpenSLO) and daemon configuration
 * files (with the rules files they name).
 * Errors go to stderr, one line each (FILE:LINE:COL: error: MESSAGE); each valid file gets a
 * one-line summary on stdout.
 */
#include "cli.h"

#include "slawatch/config.h"
#include "slawatch/rules.h"
#include "slawatch/rules_openslo.h"
#include "slawatch/shard.h"
#include "slawatch/yaml.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static void
check_usage(FILE *f)
{
    fprintf(f,
            "usage: slawatch check FILE...\n\n"
            "Validate each FILE; print every error as FILE:LINE:COL: error: MESSAGE on standard\n"
            "error and, for a valid file, one summary line on standard output. A file is\n"
            "recognised by its top-level keys:\n"
            "  rules     version, services, objectives, alerts, rollback_triggers or gate:\n"
            "            checked fully (rules/README.md)\n"
            "  OpenSLO   apiVersion: openslo/v1 with kind: SLO, SLI and Service documents:\n"
            "            checked fully and mapped onto rules (rules/OPENSLO.md); several\n"
            "            OpenSLO files are checked together as one set, their references\n"
            "            resolved across them\n"
            "  config    listen, data_dir, rules_files, alertmanager ...: the daemon's\n"
            "            configuration (docs/configuration.md), checked fully, and every rules\n"
            "            file it names checked too; with `shard`, the services this\n"
            "            instance evaluates are listed\n"
            "Anything else is checked as a rules file.\n\n"
            "Exit status: 0 every file is valid, 1 some file is invalid, 2 usage or I/O error.\n\n"
            "  -h, --help, --version\n");
}

/* Returns -1 when --help or --version answered, else an exit status; files start at optind. */
static int
parse_opts(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
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

static int
check_rules(const char *path, sw_rules_file_kind kind)
{
    sw_rules_diag *diag = sw_rules_diag_new();
    sw_rules *rules = NULL;
    sw_err err = {0};
    if (diag == NULL) {
        fprintf(stderr, "%s: error: out of memory\n", path);
        return SW_EXIT_USAGE;
    }
    sw_status st = sw_rules_load_file(path, &rules, diag, &err);
    int rc = SW_EXIT_OK;
    if (st == SW_OK)
        print_summary(path, kind == SW_FILE_OPENSLO ? "OpenSLO" : "rules", rules);
    else
        rc = report_failure(path, st, &err, diag);
    sw_rules_free(rules);
    sw_rules_diag_free(diag);
    return rc;
}

/* OpenSLO files given together are one set (rules/OPENSLO.md): one summary line for all. */
static int
check_openslo_set(const char *const *paths, size_t n)
{
    sw_rules_diag *diag = sw_rules_diag_new();
    sw_rules *rules = NULL;
    sw_err err = {0};
    if (diag == NULL) {
        fprintf(stderr, "%s: error: out of memory\n", paths[0]);
        return SW_EXIT_USAGE;
    }
    sw_status st = sw_rules_openslo_load_files(paths, n, &rules, NULL, diag, &err);
    int rc = SW_EXIT_OK;
    if (st == SW_OK) {
        for (size_t i = 0; i + 1 < n; i++)
            printf("%s, ", paths[i]);
        print_summary(paths[n - 1], "OpenSLO set", rules);
    } else if (st == SW_E_IO) {
        fprintf(stderr, "error: %s: %s\n", err.msg, strerror(err.sys_errno));
        rc = SW_EXIT_USAGE;
    } else {
        rc = report_failure(paths[0], st, &err, diag);
    }
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

/* A configuration, then every rules file it names: `serve` would refuse to start otherwise. */
static int
check_config(const char *path)
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
    /* The configuration is only as valid as its rules: `serve` would not start otherwise. */
    /* Several rules files are one OpenSLO set: the daemon loads them so. */
    bool set = cfg->n_rules_files > 1;
    if (set && (rc = check_openslo_set(cfg->rules_files, cfg->n_rules_files)) != SW_EXIT_OK)
        fprintf(stderr, "%s: error: its OpenSLO rules files are invalid (see above)\n", path);
    for (size_t i = 0; !set && i < cfg->n_rules_files; i++) {
        const char *rules_path = cfg->rules_files[i];
        int file_rc = check_rules(rules_path, sw_rules_file_kind_of(rules_path));
        if (file_rc != SW_EXIT_OK)
            fprintf(stderr, "%s: error: its rules file %s is invalid (see above)\n", path,
                    rules_path);
        rc = file_rc > rc ? file_rc : rc;
    }
    if (rc == SW_EXIT_OK) {
        printf("%s: ok (configuration: listen %s, data_dir %s, %zu rules %s)\n", path, cfg->listen,
               cfg->data_dir, cfg->n_rules_files, plural(cfg->n_rules_files, "file", "files"));
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
    int rc = parse_opts(argc, argv);
    if (rc != SW_EXIT_OK)
        return rc < 0 ? SW_EXIT_OK : rc;
    const char **openslo = calloc((size_t)argc, sizeof *openslo);
    size_t n_openslo = 0;
    if (openslo == NULL) {
        fprintf(stderr, "error: out of memory\n");
        return SW_EXIT_USAGE;
    }
    for (int i = optind; i < argc; i++) {
        sw_rules_file_kind kind = sw_rules_file_kind_of(argv[i]);
        if (kind == SW_FILE_OPENSLO) {
            openslo[n_openslo++] = argv[i];
            continue;
        }
        int file_rc = kind == SW_FILE_CONFIG ? check_config(argv[i]) : check_rules(argv[i], kind);
        rc = file_rc > rc ? file_rc : rc;
    }
    /* One OpenSLO file alone keeps its own summary; several are one set. */
    int set_rc = n_openslo == 1  ? check_rules(openslo[0], SW_FILE_OPENSLO)
                 : n_openslo > 1 ? check_openslo_set(openslo, n_openslo)
                                 : SW_EXIT_OK;
    free(openslo);
    return set_rc > rc ? set_rc : rc;
}
