/*
 * What the /metrics module's files share: the label lists of a sample. metrics.c writes the
 * families read live (slawatch's own, scrape targets, the totals), metrics_view.c gathers the
 * evaluator's per-series answers into a view and writes their families from it.
 */
#ifndef SLAWATCH_METRICS_INT_H
#define SLAWATCH_METRICS_INT_H

#include "slawatch/metrics.h"

#define SW_METRICS_MAX_LABELS 6

/* Labels of one series plus up to three more. */
typedef struct labels {
    sw_expo_label l[SW_METRICS_MAX_LABELS];
    size_t n;
} labels;

static inline labels
sw_metrics_series_labels(const char *service, const char *env)
{
    labels ls = {.n = 0};
    ls.l[ls.n++] = (sw_expo_label){"service", service};
    if (env != NULL)
        ls.l[ls.n++] = (sw_expo_label){"env", env};
    return ls;
}

static inline labels
sw_metrics_with(labels ls, const char *name, const char *value)
{
    SW_REQUIRE(ls.n < SW_METRICS_MAX_LABELS);
    ls.l[ls.n++] = (sw_expo_label){name, value};
    return ls;
}

/* The rule set and input a view was gathered with (borrowed): the live families read them. */
const sw_rules *sw_metrics_view_rules(const sw_metrics_view *v);
const sw_metrics_input *sw_metrics_view_input(const sw_metrics_view *v);

#endif
