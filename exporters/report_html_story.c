/*
 * The HTML report's words (report_html.c lays out the page and draws the charts; these print
 * what the report says, the same content as the Markdown and JSON): the headline and the missed
 * commitments at the top, and per service its sentences, environments, why and changes.
 */
#include "report_int.h"

#include "slawatch/chart.h"

void
sw_report_html_headline(sw_buf *b, const sw_report *r, sw_err *err)
{
    rp_tally t = sw_report_count(r, NULL);
    char head[128];
    sw_report_tally_text(&t, head, sizeof head);
    sw_buf_printf(b, err,
                  "<p class=\"tally\" id=\"tally\"><strong>%s</strong> of %zu "
                  "commitments</p>\n",
                  head, t.total);
    if (t.missed == 0)
        return;
    sw_buf_printf(b, err, "<ul id=\"missed\">");
    for (size_t i = 0; i < r->n_services; i++) {
        const rp_service *s = &r->services[i];
        for (size_t k = 0; k < s->own->n_objectives; k++) {
            if (!s->objectives[k].has_verdict || s->objectives[k].met)
                continue;
            sw_buf_printf(b, err, "<li class=\"missed-why\"><strong>");
            sw_chart_escape(b, s->title, err);
            sw_buf_printf(b, err, "</strong> ");
            sw_chart_escape(b, s->sentences[k], err);
            sw_buf_printf(b, err, "</li>");
        }
    }
    sw_buf_printf(b, err, "</ul>\n");
}

void
sw_report_html_sentences(sw_buf *b, const sw_report *r, const rp_service *s, sw_err *err)
{
    rp_tally t = sw_report_count(r, s);
    char head[128];
    sw_report_tally_text(&t, head, sizeof head);
    sw_buf_printf(b, err,
                  "<p class=\"service-tally\"><strong>%s</strong></p>\n<ul "
                  "class=\"sentences\">",
                  head);
    for (size_t k = 0; k < s->own->n_objectives; k++) {
        const sw_objective_result *o = &s->objectives[k];
        sw_buf_printf(b, err, "<li class=\"%s\">",
                      !o->has_verdict ? "none"
                      : o->met        ? "met"
                                      : "missed");
        sw_chart_escape(b, s->sentences[k], err);
        sw_buf_printf(b, err, "</li>");
    }
    sw_buf_printf(b, err, "</ul>\n");
}

static void
environments(sw_buf *b, const rp_service *s, sw_err *err)
{
    if (s->n_envs == 0)
        return;
    sw_buf_printf(b, err,
                  "<h3>Environments</h3>\n<table class=\"envs\"><tr><th>Environment</th>"
                  "<th>Requests</th><th>Failed</th><th>P95</th><th>P99</th>");
    for (size_t k = 0; k < s->own->n_objectives; k++)
        if (!sw_report_by_slices(&s->own->objectives[k])) {
            sw_buf_printf(b, err, "<th>");
            sw_chart_escape(b, s->own->objectives[k].name, err);
            sw_buf_printf(b, err, "</th>");
        }
    sw_buf_printf(b, err, "</tr>\n");
    for (size_t i = 0; i < s->n_envs + 1; i++) {
        const rp_env *e = i < s->n_envs ? &s->envs[i] : NULL;
        const rp_counts *c = e ? &e->c : &s->month;
        char q[32], f[32], p95[32], p99[32];
        sw_report_words_count((double)c->requests, q, sizeof q);
        sw_report_words_count((double)c->errors, f, sizeof f);
        sw_report_words_latency(e ? e->p95_us : s->p95_us, p95, sizeof p95);
        sw_report_words_latency(e ? e->p99_us : s->p99_us, p99, sizeof p99);
        sw_buf_printf(b, err, "<tr><td>");
        sw_chart_escape(b, e ? e->name : "all (the service)", err);
        sw_buf_printf(b, err, "</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td>", q, f, p95, p99);
        for (size_t k = 0; k < s->own->n_objectives; k++) {
            if (sw_report_by_slices(&s->own->objectives[k]))
                continue;
            const sw_objective_result *o =
                e ? (e->objectives ? &e->objectives[k] : NULL) : &s->objectives[k];
            char m[64] = "n/a";
            if (o != NULL)
                sw_report_format_measured(o, m, sizeof m);
            sw_buf_printf(b, err, "<td class=\"%s\">%s</td>",
                          o == NULL || !o->has_verdict ? "none"
                          : o->met                     ? "met"
                                                       : "missed",
                          m);
        }
        sw_buf_printf(b, err, "</tr>\n");
    }
    sw_buf_printf(b, err, "</table>\n");
}

static void
why(sw_buf *b, const sw_report *r, const rp_service *s, sw_err *err)
{
    if (!sw_report_has_why(s))
        return;
    sw_buf_printf(b, err, "<h3>Why: the periods that spent the budget</h3>\n");
    for (size_t i = 0; i < s->n_why; i++) {
        const rp_why *w = &s->why[i];
        if (w->n_periods == 0)
            continue;
        char total[32];
        sw_report_words_count(w->total_bad, total, sizeof total);
        sw_buf_printf(b, err, "<p>");
        sw_chart_escape(b, s->own->objectives[w->objective].name, err);
        sw_buf_printf(b, err,
                      " (%s %s in the month):</p>\n<table class=\"why\"><tr><th>Period"
                      "</th><th>%s</th><th>Share</th></tr>\n",
                      total, w->unit_text, w->unit_text);
        for (size_t p = 0; p < w->n_periods; p++) {
            rp_period_words pw;
            sw_report_period_words(r, &w->periods[p], &pw);
            sw_buf_printf(b, err, "<tr><td>%s</td><td>%s</td><td>%s</td></tr>\n", pw.span, pw.bad,
                          pw.share);
        }
        sw_buf_printf(b, err, "</table>\n");
    }
}

static void
changes(sw_buf *b, const sw_report *r, const rp_service *s, sw_err *err)
{
    if (s->n_changes == 0)
        return;
    sw_buf_printf(b, err, "<h3>Changes this month</h3>\n<ul class=\"changes\">");
    for (size_t i = 0; i < s->n_changes; i++) {
        char t[40], text[512];
        sw_report_words_time(r, s->changes[i].at_ms, t, sizeof t);
        sw_report_change_text(r, &s->changes[i], text, sizeof text);
        sw_buf_printf(b, err,
                      "<li class=\"%s\">%s: ", sw_report_change_kind_name(s->changes[i].kind), t);
        sw_chart_escape(b, text, err);
        sw_buf_printf(b, err, "</li>");
    }
    sw_buf_printf(b, err, "</ul>\n");
}

void
sw_report_html_details(sw_buf *b, const sw_report *r, const rp_service *s, sw_err *err)
{
    environments(b, s, err);
    why(b, r, s, err);
    changes(b, r, s, err);
}
