/*
 * The CSV report: one row per service and local day (RFC 4180, header first), for
 * spreadsheets. Ratios are fractions, latencies milliseconds; empty cells are unknown.
 */
#include "report_int.h"

#include <math.h>

static void
cell(sw_buf *b, double v, const char *fmt, sw_err *err)
{
    if (isfinite(v))
        sw_buf_printf(b, err, fmt, v);
    sw_buf_printf(b, err, ",");
}

/* Service names come from rules; quote them as RFC 4180 asks. */
static void
quoted(sw_buf *b, const char *s, sw_err *err)
{
    sw_buf_printf(b, err, "\"");
    for (; *s; s++)
        sw_buf_printf(b, err, *s == '"' ? "\"\"" : "%c", *s);
    sw_buf_printf(b, err, "\",");
}

sw_status
sw_report_write_csv(const sw_report *r, sw_buf *b, sw_err *err)
{
    sw_buf_printf(b, err, "service,date,requests,errors,error_rate,availability,p95_ms,p99_ms,"
                          "coverage,bad_minutes,maintenance_minutes,budget_remaining\r\n");
    for (size_t i = 0; i < r->n_services; i++) {
        const rp_service *s = &r->services[i];
        for (int d = 0; d < r->n_days; d++) {
            const rp_day *day = &s->days[d];
            const rp_counts *c = &day->c;
            double er = c->requests ? (double)c->errors / (double)c->requests : NAN;
            int64_t outside = c->span_ms - c->maint_ms;
            quoted(b, s->title, err);
            sw_buf_printf(b, err, "%04d-%02d-%02d,%llu,%llu,", r->year, r->month, day->mday,
                          (unsigned long long)c->requests, (unsigned long long)c->errors);
            cell(b, er, "%.8f", err);
            cell(b, 1.0 - er, "%.8f", err);
            cell(b, day->p95_us / 1000.0, "%.3f", err);
            cell(b, day->p99_us / 1000.0, "%.3f", err);
            cell(b, outside > 0 ? (double)c->data_ms / (double)outside : NAN, "%.6f", err);
            if (!c->bad_unknown)
                sw_buf_printf(b, err, "%llu", (unsigned long long)c->bad_minutes);
            sw_buf_printf(b, err, ",%lld,", (long long)(c->maint_ms / RP_MINUTE_MS));
            if (isfinite(day->budget_left))
                sw_buf_printf(b, err, "%.6f", day->budget_left);
            sw_buf_printf(b, err, "\r\n");
        }
    }
    return SW_OK;
}
