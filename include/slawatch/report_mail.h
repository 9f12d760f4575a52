/*
 * Delivering a monthly report (docs/reports.md, "Delivery"): the report's summary (met, missed
 * and without a verdict, per service) read from its JSON form, a MIME message (multipart/mixed:
 * a multipart/alternative of the Markdown as text/plain and the HTML, then the CSV attached)
 * sent through libcurl's SMTP (STARTTLS, AUTH), and the JSON body of a webhook, Slack-compatible
 * (a `text` field). Reports are rendered by the report module (report.h); nothing here knows
 * how they look. Stateless; safe from any thread.
 */
#ifndef SLAWATCH_REPORT_MAIL_H
#define SLAWATCH_REPORT_MAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slawatch/buf.h"
#include "slawatch/err.h"

/* One service's tally of commitments in a report. */
typedef struct sw_report_tally {
    char *name;
    unsigned met, missed, no_verdict;
    char *missed_names; /* the missed objectives' names, ", "-separated; "" when none */
} sw_report_tally;

typedef struct sw_report_summary {
    char month[8];      /* "2026-10" */
    char time_zone[64]; /* the zone the month was cut in */
    unsigned met, missed, no_verdict;
    sw_report_tally *services;
    size_t n_services;
} sw_report_summary;

/* Read the summary from a report's JSON (report.h's SW_REPORT_JSON). SW_E_PARSE when it is not
 * such a document. The caller frees it with sw_report_summary_fini(). */
sw_status sw_report_summary_read(const uint8_t *json, size_t len, sw_report_summary *ret,
                                 sw_err *err);
void sw_report_summary_fini(sw_report_summary *s);

/* "SLA report 2026-10 (UTC): 4 met, 1 missed, 5 without a verdict" into out. */
sw_status sw_report_summary_line(const sw_report_summary *s, sw_buf *out, sw_err *err);

typedef struct sw_report_mail {
    const char *from;
    const char *const *to;
    size_t n_to;
    int64_t date_ms;  /* the Date header */
    const char *link; /* where the report is on the daemon (in the text part); NULL: none */
    const sw_report_summary *summary;
    const sw_buf *html, *md, *csv; /* the report in three formats */
} sw_report_mail;

/* Append the whole message (headers, CRLF line ends, base64 parts) to out. */
sw_status sw_report_mail_build(const sw_report_mail *m, sw_buf *out, sw_err *err);

typedef struct sw_report_smtp {
    const char *url;      /* smtp://host:port or smtps://host:port */
    bool starttls;        /* smtp://: refuse to send unless STARTTLS succeeds */
    const char *username; /* NULL: no AUTH */
    const char *password;
    const char *ca_file; /* NULL: the system's */
    int64_t timeout_ms;
} sw_report_smtp;

/* Send message to every recipient of m. SW_E_IO with libcurl's reason (the server's reply
 * code when it refused) on failure; nothing is retried here. */
sw_status sw_report_mail_send(const sw_report_smtp *o, const sw_report_mail *m,
                              const sw_buf *message, sw_err *err);

/* The webhook's JSON body: `text` (the summary line, each service's tally, the link) for Slack,
 * and the same as fields: month, time_zone, met, missed, no_verdict, url, services[]. */
sw_status sw_report_webhook_body(const sw_report_summary *s, const char *link, sw_buf *out,
                                 sw_err *err);

#endif
