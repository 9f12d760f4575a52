/*
 * The Markdown report, for wikis and tickets: the headline and what was missed first, the
 * summary table, then per service its sentences, figures, environments, the why of each missed
 * or at-risk commitment and the month's changes. The same content as the JSON report; a section
 * with nothing to say is left out, heading and all. No charts.
 */
#include "report_int.h"

#include <math.h>

#include "slawatch/rules.h"

static const char *
verdict(const sw_objective_result *o)
{
    if (!o->has_verdict)
        return "no verdict";
    if (o->so_far)
        return o->met ? "met so far" : "**missed so far**";
    return o->met ? "met" : "**missed**";
}

static void
summary(sw_buf *b, const sw_report *r, sw_err *err)
{
    rp_tally t = sw_report_count(r, NULL);
    char head[128];
    sw_report_tally_text(&t, head, sizeof head);
    sw_buf_printf(b, err, "# SLA report %04d-%02d (%s)%s\n\n", r->year, r->month,
                  sw_report_tz_name(r->tz), r->partial ? " — month in progress" : "");
    sw_buf_printf(b, err, "**%s** (%zu commitments)\n\n", head, t.total);
    for (size_t i = 0; i < r->n_services; i++) {
        const rp_service *s = &r->services[i];
        for (size_t k = 0; k < s->own->n_objectives; k++)
            if (s->objectives[k].has_verdict && !s->objectives[k].met)
                sw_buf_printf(b, err, "- %s %s\n", s->title, s->sentences[k]);
    }
    sw_buf_printf(b, err,
                  "%s| service | commitment | target | actual | margin | verdict |\n"
                  "|---|---|---|---|---|---|\n",
                  t.missed ? "\n" : "");
    for (size_t i = 0; i < r->n_services; i++)
        for (size_t k = 0; k < r->services[i].own->n_objectives; k++) {
            const sw_objective_result *o = &r->services[i].objectives[k];
            char tg[96], m[96], g[64];
            sw_report_format_target(o, tg, sizeof tg);
            sw_report_format_measured(o, m, sizeof m);
            sw_report_format_margin(o, g, sizeof g);
            sw_buf_printf(b, err, "| %s | %s | %s | %s | %s | %s |\n", r->services[i].title,
                          o->objective->name, tg, m, g, verdict(o));
        }
}

static void
facts(sw_buf *b, const sw_report *r, const rp_service *s, sw_err *err)
{
    char a[48], c[48], pct[24];
    sw_report_words_percent(s->coverage, pct, sizeof pct);
    sw_buf_printf(b, err, "- Data coverage: %s of the month's minutes%s outside maintenance%s\n",
                  pct, r->partial ? " so far" : "",
                  s->enough_coverage ? "" : " — too low for a verdict, commitments not judged");
    rp_fact_words f;
    sw_report_fact_words(s, &f);
    sw_buf_printf(b, err, "- Requests: %s, failed: %s (%s)\n", f.requests, f.failed, f.error_share);
    sw_buf_printf(b, err, "- Latency over the month: P95 %s, P99 %s\n", f.p95, f.p99);
    sw_buf_printf(b, err, "- Throughput: ≥ %s in 99 %% of minutes; peak minute %s\n", f.sustained,
                  f.peak);
    for (size_t k = 0; k < s->own->n_objectives; k++) {
        const sw_objective_result *o = &s->objectives[k];
        if (!isfinite(o->allowed_downtime_s))
            continue;
        sw_report_words_minutes(o->downtime_s, a, sizeof a);
        sw_report_words_minutes(o->allowed_downtime_s, c, sizeof c);
        sw_buf_printf(b, err, "- %s: downtime %s of %s allowed\n", o->objective->name, a, c);
    }
}

static void
environments(sw_buf *b, const rp_service *s, sw_err *err)
{
    if (s->n_envs == 0)
        return;
    sw_buf_printf(b, err, "\n### Environments\n\n| environment | requests | failed | P95 | P99 |");
    for (size_t k = 0; k < s->own->n_objectives; k++)
        if (!sw_report_by_slices(&s->own->objectives[k]))
            sw_buf_printf(b, err, " %s |", s->own->objectives[k].name);
    sw_buf_printf(b, err, "\n|---|---|---|---|---|");
    for (size_t k = 0; k < s->own->n_objectives; k++)
        if (!sw_report_by_slices(&s->own->objectives[k]))
            sw_buf_printf(b, err, "---|");
    for (size_t i = 0; i < s->n_envs + 1; i++) {
        const rp_env *e = i < s->n_envs ? &s->envs[i] : NULL;
        const rp_counts *c = e ? &e->c : &s->month;
        char q[32], f[32], p95[32], p99[32];
        sw_report_words_count((double)c->requests, q, sizeof q);
        sw_report_words_count((double)c->errors, f, sizeof f);
        sw_report_words_latency(e ? e->p95_us : s->p95_us, p95, sizeof p95);
        sw_report_words_latency(e ? e->p99_us : s->p99_us, p99, sizeof p99);
        sw_buf_printf(b, err, "\n| %s | %s | %s | %s | %s |", e ? e->name : "**all**", q, f, p95,
                      p99);
        for (size_t k = 0; k < s->own->n_objectives; k++) {
            if (sw_report_by_slices(&s->own->objectives[k]))
                continue;
            const sw_objective_result *o =
                e ? (e->objectives ? &e->objectives[k] : NULL) : &s->objectives[k];
            char m[64];
            sw_report_format_measured(o != NULL ? o : &s->objectives[k], m, sizeof m);
            sw_buf_printf(b, err, " %s (%s) |", o ? m : "n/a", o ? verdict(o) : "no verdict");
        }
    }
    sw_buf_printf(b, err, "\n");
}

static void
why(sw_buf *b, const sw_report *r, const rp_service *s, sw_err *err)
{
    if (!sw_report_has_why(s))
        return;
    sw_buf_printf(b, err, "\n### Why: the periods that spent the budget\n");
    for (size_t i = 0; i < s->n_why; i++) {
        const rp_why *w = &s->why[i];
        if (w->n_periods == 0)
            continue;
        char total[32];
        sw_report_words_count(w->total_bad, total, sizeof total);
        sw_buf_printf(b, err, "\n%s (%s %s in the month):\n\n",
                      s->own->objectives[w->objective].name, total, w->unit_text);
        for (size_t p = 0; p < w->n_periods; p++) {
            rp_period_words pw;
            sw_report_period_words(r, &w->periods[p], &pw);
            sw_buf_printf(b, err, "- %s: %s %s (%s)\n", pw.span, pw.bad, w->unit_text, pw.share);
        }
    }
}

static void
changes(sw_buf *b, const sw_report *r, const rp_service *s, sw_err *err)
{
    if (s->n_changes == 0)
        return;
    sw_buf_printf(b, err, "\n### Changes this month\n\n");
    for (size_t i = 0; i < s->n_changes; i++) {
        char t[40], text[512];
        sw_report_words_time(r, s->changes[i].at_ms, t, sizeof t);
        sw_report_change_text(r, &s->changes[i], text, sizeof text);
        sw_buf_printf(b, err, "- %s: %s\n", t, text);
    }
}

static void
details(sw_buf *b, const sw_report *r, const rp_service *s, sw_err *err)
{
    rp_tally t = sw_report_count(r, s);
    char head[128];
    sw_report_tally_text(&t, head, sizeof head);
    sw_buf_printf(b, err, "\n## %s\n\n**%s**\n\n", s->title, head);
    for (size_t k = 0; k < s->own->n_objectives; k++)
        sw_buf_printf(b, err, "- %s\n", s->sentences[k]);
    sw_buf_printf(b, err, "\n");
    facts(b, r, s, err);
    environments(b, s, err);
    why(b, r, s, err);
    changes(b, r, s, err);
}

sw_status
sw_report_write_md(const sw_report *r, sw_buf *b, sw_err *err)
{
    summary(b, r, err);
    for (size_t i = 0; i < r->n_services; i++)
        details(b, r, &r->services[i], err);
    return SW_OK;
}
