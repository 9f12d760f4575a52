/*
 * What the /metrics module's files share: the label lists of a sample and the classic latency
 * buckets of each service. metrics.c writes the families read live (slawatch's own, scrape
 * targets, the totals), metrics_view.c gathers the evaluator's per-series answers into a view and
 * writes their families from it, metrics_bounds.c works out each service's buckets once per view.
 */
#ifndef SLAWATCH_METRICS_INT_H
#define SLAWATCH_METRICS_INT_H

#include <stddef.h>

#include "slawatch/err.h"
#include "slawatch/metrics.h"
#include "slawatch/rules.h"

/*
 * The `le` bounds of slawatch_request_duration_seconds per service: a standard ladder (5 ms to
 * 10 s) plus every latency threshold of that service's resolved set (objectives, alerts,
 * rollback triggers, gate checks), in seconds, ascending, each once. Services resolved alike
 * share one list. No cap: a set holds at most the rules' list limits of conditions.
 */
typedef struct sw_metrics_bounds sw_metrics_bounds;

sw_status sw_metrics_bounds_new(const sw_rules *rules, sw_metrics_bounds **ret, sw_err *err);

/* The bounds of service (those of the rules' top level when the rules do not name it, as a
 * series whose service a reload removed). */
size_t sw_metrics_bounds_of(const sw_metrics_bounds *b, const char *service,
                            const double **ret_bounds);

void sw_metrics_bounds_free(sw_metrics_bounds *b);

#define SW_METRICS_MAX_LABELS 7

/* Labels of one series plus up to three more. */
typedef struct labels {
    sw_expo_label l[SW_METRICS_MAX_LABELS];
    size_t n;
} labels;

/* A series' labels: its service, its environment and, for one value of a service's by label
 * (rules/README.md, "One SLO per label value"), that label and value (label NULL: none). */
static inline labels
sw_metrics_series_labels(const char *service, const char *label, const char *value,
                         const char *env)
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

/* What the live families read: each service's buckets (worked out when the view was gathered),
 * and the rule set and input the view was gathered with (borrowed). */
const sw_metrics_bounds *sw_metrics_view_bounds(const sw_metrics_view *v);
const sw_rules *sw_metrics_view_rules(const sw_metrics_view *v);
const sw_metrics_input *sw_metrics_view_input(const sw_metrics_view *v);

#endif
