/*
 * What the report's charts mark on the month (report_marks.c): each service's deployments, the
 * gate's decisions (the first answer per environment and every change of verdict after it, not
 * every poll of a pipeline), the alerts and rollback triggers that fired, and its maintenance
 * windows as shaded ranges, read from the store as the web UI's service page reads them.
 */
#ifndef SLAWATCH_REPORT_MARKS_H
#define SLAWATCH_REPORT_MARKS_H

#include "report_int.h"

#include "slawatch/chart.h"

#define RP_MARKS_MAX 120 /* per service and month: deployments first, then events, gates */
#define RP_MARK_LABEL 160

typedef struct rp_marks {
    sw_chart_mark m[RP_MARKS_MAX];
    char labels[RP_MARKS_MAX][RP_MARK_LABEL];
    size_t n;
    bool truncated; /* more than RP_MARKS_MAX: the rest left out (the page says so) */
    sw_chart_range *maint;
    size_t n_maint;
} rp_marks;

/* Each service's marks of the month from the store into s->marks (after the events are read). */
sw_status sw_report_load_marks(sw_store *st, sw_report *r, sw_err *err);

/* NULL does nothing. */
void sw_report_marks_free(rp_marks *m);

#endif
