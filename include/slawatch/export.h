/*
 * Exporting stored intervals of one service (docs/reports.md, "Export"): the latency histograms
 * as an HdrHistogram interval log (hlog.h; readable by Java HdrHistogram's HistogramLogReader),
 * or the interval counts as CSV. One line per stored row, at the finest resolution the store
 * still holds for each period (base rows, else the finest rollup). Only reads the store.
 */
#ifndef SLAWATCH_EXPORT_H
#define SLAWATCH_EXPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "slawatch/err.h"
#include "slawatch/store.h"

typedef enum sw_export_format {
    SW_EXPORT_HLOG, /* rows without latency are left out: a log line needs a histogram */
    SW_EXPORT_CSV,  /* every row: start,length_s,env,requests,errors,probes,probe_failures,has_data
                     */
} sw_export_format;

typedef struct sw_export_request {
    const char *service;
    /* One value of a service judged per label value (rules/README.md, "One SLO per label
     * value"): its rows are stored under the value's key (sw_rules_by_key). NULL: the service. */
    const char *label, *value;
    const char *env; /* NULL: every environment (each hlog line tagged with its env, if any) */
    int64_t from_ms, to_ms; /* rows starting in [from_ms, to_ms) */
    int64_t resolution_ms;  /* 0: the finest held; else only rows of this resolution (1 m, 1 h,
                               1 d or the base interval) */
    sw_export_format format;
} sw_export_request;

/*
 * Write the rows of req to out (borrowed; not closed) and their number to *ret_rows.
 * SW_E_INVAL when from_ms >= to_ms, the label value is too long for a key or the store has never
 * held the service (or that value or env of it);
 * SW_E_RANGE when it holds no row of it in the range; SW_E_IO when out cannot be written.
 * Store errors pass through. On error part of the output may have been written.
 */
sw_status sw_export_write(sw_store *st, const sw_export_request *req, FILE *out, size_t *ret_rows,
                          sw_err *err);

#endif
