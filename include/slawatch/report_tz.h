/*
 * Time zones for reports: a calendar month (and its days) in a named IANA zone, daylight-saving
 * transitions included, read from the system's compiled zone files (/usr/share/zoneinfo, TZif
 * version 2 or later). Reports are for people in one place; the process-wide TZ variable and
 * localtime() are not used, so the daemon's HTTP threads may build reports concurrently. A loaded
 * zone is immutable.
 */
#ifndef SLAWATCH_REPORT_TZ_H
#define SLAWATCH_REPORT_TZ_H

#include <stdint.h>

#include "slawatch/err.h"

typedef struct sw_report_tz sw_report_tz;

/*
 * Load zone name ("UTC", "Europe/Berlin"; NULL or "" is UTC). SW_E_INVAL for a name that is
 * not a zone name or not installed, SW_E_PARSE for a file that is not a TZif file, both naming
 * the zone. The caller frees *ret with sw_report_tz_free().
 */
sw_status sw_report_tz_load(const char *name, sw_report_tz **ret, sw_err *err);

/* sw_report_tz_free(NULL) does nothing. */
void sw_report_tz_free(sw_report_tz *tz);

/* The zone's name as loaded ("UTC" for the default). */
const char *sw_report_tz_name(const sw_report_tz *tz);

/* Offset from UTC in force at utc_ms, in milliseconds (east positive). */
int64_t sw_report_tz_offset_ms(const sw_report_tz *tz, int64_t utc_ms);

/*
 * The UTC instant at which the local day (year, month 1..12, day 1..31, normalised: day 32 is
 * the next month's first) begins: local midnight, or the first instant after it when midnight
 * falls in a daylight-saving gap.
 */
int64_t sw_report_tz_day_start(const sw_report_tz *tz, int year, int month, int day);

/* The local calendar date and hour of utc_ms. */
void sw_report_tz_local(const sw_report_tz *tz, int64_t utc_ms, int *ret_year, int *ret_month,
                        int *ret_day, int *ret_hour, int *ret_minute);

/* Days in a calendar month. */
int sw_report_tz_month_days(int year, int month);

#endif
