/*
 * Scrape target discovery, as Prometheus does it for static_configs and file_sd_configs: target
 * groups (addresses sharing labels), file_sd files (a JSON or YAML list of {targets, labels})
 * re-read when their inode, size or modification time change, and the final targets of a job:
 * group labels plus `__address__`, `__scheme__`, `__metrics_path__` and `job`, relabelled, then
 * `instance` defaulting to the address and every `__` label dropped. One thread uses a watcher;
 * built targets are plain values owned by the caller.
 */
#ifndef SLAWATCH_TARGETS_H
#define SLAWATCH_TARGETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slawatch/err.h"
#include "slawatch/relabel.h"

#define SW_TARGETS_MAX_PER_FILE 100000 /* targets in one file_sd file */

typedef struct sw_targets_label {
    const char *name, *value;
} sw_targets_label;

/* Addresses (host:port) sharing labels; borrowed strings. */
typedef struct sw_target_group {
    const char *const *targets;
    size_t n_targets;
    const sw_targets_label *labels;
    size_t n_labels;
    const char *file; /* the file_sd file it came from (`__meta_filepath`); NULL if static */
} sw_target_group;

/* A parsed file_sd file: owns its groups. */
typedef struct sw_targets_file sw_targets_file;

/*
 * Read path: a list of mappings with `targets` (a list of host:port) and optional `labels` (a
 * mapping of label names to strings). SW_E_PARSE names path:line:col; SW_E_IO when unreadable;
 * SW_E_TOOBIG past SW_YAML_MAX_INPUT bytes or SW_TARGETS_MAX_PER_FILE targets.
 */
sw_status sw_targets_file_load(const char *path, sw_targets_file **ret, sw_err *err);

/* sw_targets_file_free(NULL) does nothing. */
void sw_targets_file_free(sw_targets_file *f);

const sw_target_group *sw_targets_file_groups(const sw_targets_file *f, size_t *ret_n);

/* Problems that do not stop the caller (a bad file keeps its previous groups); for the log. */
typedef void (*sw_targets_warn_fn)(void *ctx, const sw_err *problem);

/* Watches file_sd files and keeps the groups of the last good read of each. */
typedef struct sw_targets_sd sw_targets_sd;

/* A watcher for n paths (copied); nothing is read until the first refresh. SW_E_NOMEM. */
sw_status sw_targets_sd_new(const char *const *paths, size_t n, sw_targets_sd **ret, sw_err *err);

/* sw_targets_sd_free(NULL) does nothing. */
void sw_targets_sd_free(sw_targets_sd *sd);

/*
 * Stat every file and re-read those whose device, inode, size or mtime changed since the last
 * read (all of them the first time). A file that cannot be read or parsed keeps its previous
 * groups and is reported through warn. *ret_changed tells whether any file's groups changed.
 */
void sw_targets_sd_refresh(sw_targets_sd *sd, bool *ret_changed, sw_targets_warn_fn warn,
                           void *ctx);

/* The groups of every file, in path order, into *ret (malloc'd, borrowed strings valid until
 * the next refresh). SW_E_NOMEM. */
sw_status sw_targets_sd_groups(const sw_targets_sd *sd, sw_target_group **ret, size_t *ret_n,
                               sw_err *err);

/* A target ready to scrape. */
typedef struct sw_target {
    sw_labelset labels; /* public labels (job, instance, the rest), sorted */
    char *url;          /* __scheme__://__address____metrics_path__ */
    char *identity;     /* the URL and labels: equal identities are the same target */
} sw_target;

typedef struct sw_targets_job {
    const char *job_name, *scheme, *metrics_path;
    const sw_relabel *relabel; /* may be NULL */
} sw_targets_job;

/*
 * The targets of job from its groups, in group order, without duplicates. Targets dropped by
 * relabelling are left out; those left without an address, or whose address holds a '/', are
 * left out and reported through warn. *ret is malloc'd (NULL when none). SW_E_NOMEM.
 */
sw_status sw_targets_build(const sw_targets_job *job, const sw_target_group *groups,
                           size_t n_groups, sw_targets_warn_fn warn, void *ctx, sw_target **ret,
                           size_t *ret_n, sw_err *err);

/* Free n targets and the array. */
void sw_targets_free(sw_target *t, size_t n);

#endif
