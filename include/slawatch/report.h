/*
 * Monthly SLA reports (docs/reports.md): for a calendar month in a time zone, per service and
 * commitment, target, actual, met or missed and by how much, downtime, error budget, monthly
 * percentiles from merged histograms, throughput, the worst days and hours, the alerts and
 * rollback triggers that fired, maintenance, data coverage and the previous month, judged by
 * the rules in force that month. Built from the store (daily and hourly rollups for
 * histograms, 1-minute rows for counts and slices), then written as HTML, Markdown, JSON or CSV.
 * A report is immutable once built; building only reads the store.
 */
#ifndef SLAWATCH_REPORT_H
#define SLAWATCH_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slawatch/buf.h"
#include "slawatch/err.h"
#include "slawatch/rules.h"
#include "slawatch/shard.h"
#include "slawatch/store.h"

typedef enum sw_report_format {
    SW_REPORT_HTML,
    SW_REPORT_MD,
    SW_REPORT_JSON,
    SW_REPORT_CSV,
} sw_report_format;

typedef struct sw_report_request {
    int year, month;                /* the calendar month, month 1..12 */
    const char *tz;                 /* IANA zone name; NULL or "" for UTC */
    const char *const *services;    /* borrowed; n_services 0: every service of the rules */
    size_t n_services;
    const sw_rules *rules;          /* borrowed; NULL: the rules the store recorded that month */
    int64_t now_ms;                 /* a month not yet over is a labelled partial report */
    const sw_shard *shard;          /* NULL: every service means all the rules'; else only the
                                     * ones this shard owns (services asked for by name: any) */
} sw_report_request;

typedef struct sw_report sw_report;

/* "2026-10" -> 2026, 10. SW_E_INVAL naming the text otherwise. */
sw_status sw_report_parse_month(const char *text, int *ret_year, int *ret_month, sw_err *err);

/* "html", "md" (or "markdown"), "json", "csv"; false for anything else. */
bool sw_report_parse_format(const char *text, sw_report_format *ret);

/* The HTTP content type of a format. */
const char *sw_report_content_type(sw_report_format f);

/*
 * Build the report. SW_E_INVAL for a month that has not started, an unknown zone or service, or
 * when no rules were recorded by the month's end (and none were given); SW_E_RANGE when the
 * store holds no data at all for the month. Store errors pass through. The caller frees *ret.
 */
sw_status sw_report_build(sw_store *st, const sw_report_request *req, sw_report **ret,
                          sw_err *err);

/* sw_report_free(NULL) does nothing. */
void sw_report_free(sw_report *r);

/* Append the report in format f to out (SW_E_TOOBIG / SW_E_NOMEM from the buffer). */
sw_status sw_report_write(const sw_report *r, sw_report_format f, sw_buf *out, sw_err *err);

#endif
