/*
 * The Markdown report, for wikis and tickets: the same summary table first, then per service
 * its commitments, worst periods, events and maintenance. No charts.
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
    size_t met, judged, total;
    sw_report_tally(r, &met, &judged, &total);
    sw_buf_printf(b, err, "# SLA report %04d-%02d (%s)%s\n\n", r->year, r->month,
                  sw_report_tz_name(r->tz), r->partial ? " — month in progress" : "");
    sw_buf_printf(b, err, "**%zu of %zu commitments met**", met, total);
    if (judged < total)
        sw_buf_printf(b, err, " (%zu without a verdict: too little data)", total - judged);
    sw_buf_printf(b, err, "\n\n| service | commitment | target | actual | margin | verdict |\n"
                          "|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < r->n_services; i++)
        for (size_t k = 0; k < r->services[i].own->n_objectives; k++) {
            const sw_objective_result *o = &r->services[i].objectives[k];
            char t[48], m[48], g[48];
            sw_report_format_target(o, t, sizeof t);
            sw_report_format_measured(o, m, sizeof m);
            sw_report_format_margin(o, g, sizeof g);
            sw_buf_printf(b, err, "| %s | %s | %s | %s | %s | %s |\n", r->services[i].title,
                          o->objective->name, t, m, g, verdict(o));
        }
}

static void
details(sw_buf *b, const sw_report *r, const rp_service *s, sw_err *err)
{
    char t[40], v[40];
    sw_buf_printf(b, err, "\n## %s\n\n", s->title);
    sw_buf_printf(b, err, "- Data coverage: %.2f %% of the month's minutes%s%s\n",
                  100.0 * s->coverage, r->partial ? " so far" : "",
                  s->enough_coverage ? "" : " — too low for a verdict, commitments not judged");
    sw_buf_printf(b, err, "- Requests: %llu, errors: %llu\n",
                  (unsigned long long)s->month.requests, (unsigned long long)s->month.errors);
    sw_rules_format_value(SW_SLI_LATENCY, s->p95_us, t, sizeof t);
    sw_rules_format_value(SW_SLI_LATENCY, s->p99_us, v, sizeof v);
    sw_buf_printf(b, err, "- Latency for the month: P95 %s, P99 %s\n", t, v);
    sw_rules_format_value(SW_SLI_THROUGHPUT, s->peak_rps, t, sizeof t);
    sw_rules_format_value(SW_SLI_THROUGHPUT, s->sustained_rps, v, sizeof v);
    sw_buf_printf(b, err, "- Throughput: peak %s, sustained (99 %% of minutes) %s\n", t, v);
    for (size_t k = 0; k < s->own->n_objectives; k++) {
        const sw_objective_result *o = &s->objectives[k];
        if (isfinite(o->allowed_downtime_s))
            sw_buf_printf(b, err, "- %s: downtime %.1f of %.1f allowed minutes, error budget "
                                  "left %.1f %%\n",
                          o->objective->name, o->downtime_s / 60.0, o->allowed_downtime_s / 60.0,
                          100.0 * o->budget_remaining);
    }
    sw_buf_printf(b, err, "\n### Worst hours\n\n");
    for (size_t i = 0; i < s->n_worst_hours; i++) {
        const rp_hour *h = &s->hours[s->worst_hours[i]];
        sw_report_local_time(r, h->start_ms, t, sizeof t);
        char bad[24];
        sw_buf_printf(b, err, "- %s: %llu errors, %s bad minutes\n", t,
                      (unsigned long long)h->c.errors, sw_report_bad_text(&h->c, bad, sizeof bad));
    }
    sw_buf_printf(b, err, "\n### Alerts and rollback triggers\n\n");
    for (size_t i = 0; i < s->n_events; i++) {
        const rp_event *e = &s->events[i];
        sw_report_local_time(r, e->fired_ms, t, sizeof t);
        if (e->resolved_ms >= 0)
            sw_report_local_time(r, e->resolved_ms, v, sizeof v);
        sw_buf_printf(b, err, "- %s %s%s%s fired %s, %s%s\n", e->kind, e->name,
                      e->env[0] ? " env=" : "", e->env, t,
                      e->resolved_ms >= 0 ? "resolved " : "still firing at the month's end",
                      e->resolved_ms >= 0 ? v : "");
    }
    if (s->n_events == 0)
        sw_buf_printf(b, err, "None fired.\n");
    sw_buf_printf(b, err, "\n### Error-budget policy overrides\n\n");
    for (size_t i = 0; i < s->n_overrides; i++) {
        const rp_override *o = &s->overrides[i];
        sw_report_local_time(r, o->at_ms, t, sizeof t);
        sw_buf_printf(b, err, "- %s: deployment%s%s by %s, override %s\n", t,
                      o->env[0] ? " env=" : "", o->env, o->who, o->ticket);
    }
    if (s->n_overrides == 0)
        sw_buf_printf(b, err, "None.\n");
    sw_buf_printf(b, err, "\n### Planned maintenance (excluded)\n\n");
    for (size_t i = 0; i < s->svc->n_maintenance; i++) {
        const sw_maintenance *m = &s->svc->maintenance[i];
        if (m->end_ms <= r->start_ms || m->start_ms >= r->end_ms)
            continue;
        sw_report_local_time(r, m->start_ms, t, sizeof t);
        sw_report_local_time(r, m->end_ms, v, sizeof v);
        sw_buf_printf(b, err, "- %s – %s: %s\n", t, v, m->reason ? m->reason : "");
    }
}

sw_status
sw_report_write_md(const sw_report *r, sw_buf *b, sw_err *err)
{
    summary(b, r, err);
    for (size_t i = 0; i < r->n_services; i++)
        details(b, r, &r->services[i], err);
    return SW_OK;
}
