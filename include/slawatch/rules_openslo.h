/*
 * A set of OpenSLO v1 files loaded as one rule set (rules/OPENSLO.md): a repository of
 * definitions whose SLOs, SLIs and Services refer to one another across files. Every file is
 * read and checked; names are unique per kind across the set, an SLO's `indicatorRef` and
 * `service` resolve in any file of it, and every problem is reported as FILE:LINE:COL of the
 * file it is in. Any error means no rule set. A single OpenSLO file given to sw_rules_load_file
 * is a set of one.
 */
#ifndef SLAWATCH_RULES_OPENSLO_H
#define SLAWATCH_RULES_OPENSLO_H

#include <stddef.h>

#include "slawatch/err.h"
#include "slawatch/rules.h"

/* One file of a set, already in memory; name is used in messages. */
typedef struct sw_rules_openslo_text {
    const char *name;
    const char *text;
    size_t len;
} sw_rules_openslo_text;

/*
 * Load the n files as one set: SW_OK with *ret_rules, or SW_E_PARSE / SW_E_TOOBIG /
 * SW_E_NOMEM with every problem in diag (may be NULL) and the first (and how many more) in err.
 */
sw_status sw_rules_openslo_load_mem(const sw_rules_openslo_text *files, size_t n,
                                    sw_rules **ret_rules, sw_rules_diag *diag, sw_err *err);

#endif
