/*
 * Private to the /metrics families (metrics.c): the classic latency buckets of each service,
 * worked out once per view (metrics_bounds.c).
 */
#ifndef SLAWATCH_METRICS_INT_H
#define SLAWATCH_METRICS_INT_H

#include <stddef.h>

#include "slawatch/err.h"
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

#endif
