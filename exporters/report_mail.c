/*
 * The report's summary, read back from its JSON form (so the tally is the report's own, however
 * the report judges), and the MIME message that carries the report by mail (RFC 2045-2049,
 * RFC 5322): every part base64 in lines of 76 characters, so no line is too long for SMTP and
 * no part needs dot-stuffing or 8BITMIME.
 */
#include "slawatch/report_mail.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "slawatch/base64.h"
#include "slawatch/json.h"

#define REPORT_JSON_MAX ((size_t)1 << 30)
#define B64_LINE 57 /* input bytes per 76-character base64 line */

static char *
dup_or_null(const char *s)
{
    return strdup(s != NULL ? s : "");
}

/* Count one objective's verdict into t (and the missed one's name into *missed). */
static bool
count_objective(const cJSON *o, sw_report_tally *t, sw_buf *missed)
{
    const cJSON *met = cJSON_GetObjectItemCaseSensitive(o, "met");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "name");
    if (!cJSON_IsString(name))
        return false;
    if (cJSON_IsTrue(met)) {
        t->met++;
    } else if (cJSON_IsFalse(met)) {
        t->missed++;
        return sw_buf_printf(missed, NULL, "%s%s", missed->len ? ", " : "", name->valuestring) ==
               SW_OK;
    } else {
        t->no_verdict++;
    }
    return true;
}

static bool
read_service(const cJSON *svc, sw_report_tally *t)
{
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(svc, "name");
    const cJSON *objs = cJSON_GetObjectItemCaseSensitive(svc, "objectives"), *o;
    if (!cJSON_IsString(name) || !cJSON_IsArray(objs))
        return false;
    sw_buf missed;
    sw_buf_init(&missed, 1 << 16);
    bool ok = true;
    cJSON_ArrayForEach(o, objs) ok = ok && count_objective(o, t, &missed);
    t->name = strdup(name->valuestring);
    t->missed_names = dup_or_null(missed.len ? sw_buf_cstr(&missed, NULL) : "");
    sw_buf_fini(&missed);
    return ok && t->name != NULL && t->missed_names != NULL;
}

static bool
read_summary(const cJSON *doc, sw_report_summary *s)
{
    const cJSON *month = cJSON_GetObjectItemCaseSensitive(doc, "month");
    const cJSON *tz = cJSON_GetObjectItemCaseSensitive(doc, "time_zone");
    const cJSON *svcs = cJSON_GetObjectItemCaseSensitive(doc, "services"), *svc;
    if (!cJSON_IsString(month) || !cJSON_IsString(tz) || !cJSON_IsArray(svcs))
        return false;
    snprintf(s->month, sizeof s->month, "%s", month->valuestring);
    snprintf(s->time_zone, sizeof s->time_zone, "%s", tz->valuestring);
    size_t n = (size_t)cJSON_GetArraySize(svcs);
    s->services = calloc(n ? n : 1, sizeof *s->services);
    if (s->services == NULL)
        return false;
    cJSON_ArrayForEach(svc, svcs)
    {
        sw_report_tally *t = &s->services[s->n_services++];
        if (!read_service(svc, t))
            return false;
        s->met += t->met;
        s->missed += t->missed;
        s->no_verdict += t->no_verdict;
    }
    return true;
}

sw_status
sw_report_summary_read(const uint8_t *json, size_t len, sw_report_summary *ret, sw_err *err)
{
    cJSON *doc = NULL;
    *ret = (sw_report_summary){0};
    sw_status st = sw_json_parse(json, len, REPORT_JSON_MAX, SW_JSON_MAX_DEPTH, &doc, err);
    if (st != SW_OK)
        return st;
    if (!read_summary(doc, ret)) {
        sw_report_summary_fini(ret);
        st = sw_err_set(err, SW_E_PARSE, "not a report's JSON (month, time_zone, services)");
    }
    cJSON_Delete(doc);
    return st;
}

void
sw_report_summary_fini(sw_report_summary *s)
{
    for (size_t i = 0; i < s->n_services; i++) {
        free(s->services[i].name);
        free(s->services[i].missed_names);
    }
    free(s->services);
    *s = (sw_report_summary){0};
}

sw_status
sw_report_summary_line(const sw_report_summary *s, sw_buf *out, sw_err *err)
{
    return sw_buf_printf(out, err, "SLA report %s (%s): %u met, %u missed, %u without a verdict",
                         s->month, s->time_zone, s->met, s->missed, s->no_verdict);
}

/* ---- the MIME message ---- */

/* base64 of data in CRLF-ended lines of 76 characters. */
static sw_status
put_base64(sw_buf *out, const uint8_t *data, size_t n, sw_err *err)
{
    char line[80];
    sw_status st = SW_OK;
    for (size_t i = 0; st == SW_OK && i < n; i += B64_LINE) {
        size_t k = sw_base64_encode_to(data + i, n - i < B64_LINE ? n - i : B64_LINE, line);
        line[k++] = '\r';
        line[k++] = '\n';
        st = sw_buf_append(out, line, k, err);
    }
    return st;
}

static sw_status
put_part(sw_buf *out, const char *boundary, const char *headers, const sw_buf *body, sw_err *err)
{
    sw_status st = sw_buf_printf(out, err, "--%s\r\n%sContent-Transfer-Encoding: base64\r\n\r\n",
                                 boundary, headers);
    return st == SW_OK ? put_base64(out, body->data, body->len, err) : st;
}

/* RFC 5322's date-time, in UTC. */
static void
mail_date(int64_t ms, char *out, size_t cap)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, cap, "%a, %d %b %Y %H:%M:%S +0000", &tm);
}

/* The summary line, ASCII (zone names are), folded after the zone (RFC 5322 2.2.3: a line of
 * at most 78 characters; the reader unfolds it back to one line). */
static sw_status
put_subject(const sw_report_summary *s, sw_buf *out, sw_err *err)
{
    sw_buf line;
    sw_buf_init(&line, 1024);
    sw_status st = sw_report_summary_line(s, &line, err);
    const char *text = st == SW_OK ? sw_buf_cstr(&line, err) : NULL;
    const char *fold = text != NULL ? strstr(text, "): ") : NULL;
    if (text == NULL)
        st = st == SW_OK ? SW_E_NOMEM : st;
    else if (fold == NULL)
        st = sw_buf_append(out, text, line.len, err);
    else
        st = sw_buf_printf(out, err, "%.*s\r\n%s", (int)(fold + 2 - text), text, fold + 2);
    sw_buf_fini(&line);
    return st;
}

static sw_status
put_headers(const sw_report_mail *m, const char *mixed, sw_buf *out, sw_err *err)
{
    char date[64];
    mail_date(m->date_ms, date, sizeof date);
    sw_status st = sw_buf_printf(out, err, "From: <%s>\r\nTo: ", m->from);
    for (size_t i = 0; st == SW_OK && i < m->n_to; i++)
        st = sw_buf_printf(out, err, "%s<%s>", i ? ",\r\n " : "", m->to[i]);
    if (st == SW_OK)
        st = sw_buf_printf(out, err, "\r\nSubject: ");
    if (st == SW_OK)
        st = put_subject(m->summary, out, err);
    if (st == SW_OK)
        st = sw_buf_printf(out, err,
                           "\r\nDate: %s\r\nMessage-ID: <sla-report-%s-%lld@slawatch>\r\n"
                           "MIME-Version: 1.0\r\n"
                           "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n"
                           "This is a MIME message: the SLA report as text, as HTML, and its "
                           "CSV.\r\n",
                           date, m->summary->month, (long long)m->date_ms, mixed);
    return st;
}

/* The Markdown, with the link to the report on the daemon after it. */
static sw_status
text_body(const sw_report_mail *m, sw_buf *text, sw_err *err)
{
    sw_status st = sw_buf_append(text, m->md->data, m->md->len, err);
    if (st == SW_OK && m->link != NULL)
        st = sw_buf_printf(text, err, "\n\nOn slawatch: %s\n", m->link);
    return st;
}

sw_status
sw_report_mail_build(const sw_report_mail *m, sw_buf *out, sw_err *err)
{
    /* "=_" cannot occur in base64 text, so no part can hold a boundary line. */
    char mixed[64], alt[64], headers[256];
    snprintf(mixed, sizeof mixed, "=_slawatch_mixed_%lld", (long long)m->date_ms);
    snprintf(alt, sizeof alt, "=_slawatch_alt_%lld", (long long)m->date_ms);
    sw_buf text;
    sw_buf_init(&text, m->md->len + 4096);
    sw_status st = put_headers(m, mixed, out, err);
    if (st == SW_OK)
        st = text_body(m, &text, err);
    if (st == SW_OK)
        st = sw_buf_printf(out, err,
                           "--%s\r\nContent-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n",
                           mixed, alt);
    if (st == SW_OK)
        st = put_part(out, alt, "Content-Type: text/plain; charset=utf-8\r\n", &text, err);
    if (st == SW_OK)
        st = put_part(out, alt, "Content-Type: text/html; charset=utf-8\r\n", m->html, err);
    if (st == SW_OK)
        st = sw_buf_printf(out, err, "--%s--\r\n", alt);
    snprintf(headers, sizeof headers,
             "Content-Type: text/csv; charset=utf-8\r\n"
             "Content-Disposition: attachment; filename=\"sla-report-%s.csv\"\r\n",
             m->summary->month);
    if (st == SW_OK)
        st = put_part(out, mixed, headers, m->csv, err);
    if (st == SW_OK)
        st = sw_buf_printf(out, err, "--%s--\r\n", mixed);
    sw_buf_fini(&text);
    return st;
}
