/*
 * What the /metrics module's files share: the label lists of a sample and the classic latency
 * buckets of each service. metrics.c writes the families read live (slawatch's own, scrape
 * targets, the totals), metrics_view.c gathers the evaluator's per-series answers into a view and
 * writes their families from it, metrics_bounds.c works out each service's buckets (metrics.h).
 */
#ifndef SLAWATCH_METRICS_INT_H
#define SLAWATCH_METRICS_INT_H

#include <stddef.h>

#include "slawatch/err.h"
#include "slawatch/metrics.h"
#include "slawatch/rules.h"

#define SW_METRICS_MAX_LABELS 7

/* Labels of one series plus up to three more. */
typedef struct labels {
    sw_expo_label l[SW_METRICS_MAX_LABELS];
    size_t n;
} labels;

/* A series' labels: its service, its environment and, for one value of a service's by label
 * (rules/README.md, "One SLO per label value"), that label and value (label NULL: none). */
static inline labels
sw_metrics_series_labels(const char *service, const char *label, const char *value, const char *env)
{
    labels ls = {.n = 0};
    ls.l[ls.n++] = (sw_expo_label){"service", service};
    if (env != NULL)
        ls.l[ls.n++] = (sw_expo_label){"env", env};
    if (label != NULL)
        ls.l[ls.n++] = (sw_expo_label){label, value};
    return ls;
}

static inline labels
sw_metrics_with(labels ls, const char *name, const char *value)
{
    SW_REQUIRE(ls.n < SW_METRICS_MAX_LABELS);
    ls.l[ls.n++] = (sw_expo_label){name, value};
    return ls;
}

/* What the live families read: the rule set and input the view was gathered with (borrowed). */
const sw_rules *sw_metrics_view_rules(const sw_metrics_view *v);
const sw_metrics_input *sw_metrics_view_input(const sw_metrics_view *v);

#endif
