/*
 * The webhook's body: Slack's incoming webhooks read `text` (and ignore other fields), so the
 * summary is written once as a few lines of text and once as fields for other receivers.
 */
#include "slawatch/report_mail.h"

#include "slawatch/json.h"

static sw_status
put_text(const sw_report_summary *s, const char *link, sw_buf *text, sw_err *err)
{
    sw_status st = sw_report_summary_line(s, text, err);
    for (size_t i = 0; st == SW_OK && i < s->n_services; i++) {
        const sw_report_tally *t = &s->services[i];
        st = sw_buf_printf(text, err, "\n%s: %u met, %u missed%s%s%s, %u without a verdict",
                           t->name, t->met, t->missed, t->missed ? " (" : "", t->missed_names,
                           t->missed ? ")" : "", t->no_verdict);
    }
    if (st == SW_OK && link != NULL)
        st = sw_buf_printf(text, err, "\n%s", link);
    return st == SW_OK ? sw_buf_cstr(text, err) != NULL ? SW_OK : SW_E_NOMEM : st;
}

static sw_status
put_service(const sw_report_tally *t, sw_buf *out, sw_err *err)
{
    sw_status st = sw_buf_printf(out, err, "{\"name\":");
    if (st == SW_OK)
        st = sw_json_put_string(out, t->name, err);
    if (st == SW_OK)
        st = sw_buf_printf(out, err, ",\"met\":%u,\"missed\":%u,\"no_verdict\":%u}", t->met,
                           t->missed, t->no_verdict);
    return st;
}

sw_status
sw_report_webhook_body(const sw_report_summary *s, const char *link, sw_buf *out, sw_err *err)
{
    sw_buf text;
    sw_buf_init(&text, 1 << 20);
    sw_status st = put_text(s, link, &text, err);
    if (st == SW_OK)
        st = sw_buf_printf(out, err, "{\"text\":");
    if (st == SW_OK)
        st = sw_json_put_string(out, (const char *)text.data, err);
    if (st == SW_OK)
        st = sw_buf_printf(out, err, ",\"month\":");
    if (st == SW_OK)
        st = sw_json_put_string(out, s->month, err);
    if (st == SW_OK)
        st = sw_buf_printf(out, err, ",\"time_zone\":");
    if (st == SW_OK)
        st = sw_json_put_string(out, s->time_zone, err);
    if (st == SW_OK)
        st = sw_buf_printf(out, err, ",\"met\":%u,\"missed\":%u,\"no_verdict\":%u,\"url\":", s->met,
                           s->missed, s->no_verdict);
    if (st == SW_OK)
        st = link != NULL ? sw_json_put_string(out, link, err) : sw_buf_printf(out, err, "null");
    if (st == SW_OK)
        st = sw_buf_printf(out, err, ",\"services\":[");
    for (size_t i = 0; st == SW_OK && i < s->n_services; i++)
        if ((st = i ? sw_buf_printf(out, err, ",") : SW_OK) == SW_OK)
            st = put_service(&s->services[i], out, err);
    if (st == SW_OK)
        st = sw_buf_printf(out, err, "]}");
    sw_buf_fini(&text);
    return st;
}
