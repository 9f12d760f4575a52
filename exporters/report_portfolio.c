/*
 * The HTML report's portfolio: every service on one line (verdicts met, missed and without
 * one; the lowest error budget left of its commitments with a verdict; availability; P99;
 * requests; coverage), for the reader with fifty services. The table arrives sorted by budget left,
 * worst first, so it reads without JavaScript (and on paper); a small embedded script sorts by any
 * column heading clicked, on the raw values each cell carries in data-v.
 */
#include "report_html_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "slawatch/chart.h"

const char sw_report_html_print_css[] =
    "figure.chart{margin:0 0 1em}#portfolio-table td.num,#portfolio-table th.num{text-align:right}"
    "#portfolio-table th button{font:inherit;color:inherit;background:none;border:0;padding:0;"
    "cursor:pointer;text-decoration:underline dotted}"
    "@page{size:A4;margin:12mm}"
    "@media print{body{margin:0;max-width:none;font-size:10.5pt;background:#fff;color:#222}"
    "section.service{break-before:page}figure.chart,svg,tr,.note{break-inside:avoid}"
    "h2,h3{break-after:avoid}.sortnote{display:none}"
    "*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}";

static const char sort_script[] =
    "(function(){var t=document.getElementById('portfolio-table');if(!t)return;"
    "var hs=Array.prototype.slice.call(t.tHead.rows[0].cells);"
    "hs.forEach(function(th,i){var b=document.createElement('button');b.type='button';"
    "b.textContent=th.textContent;th.textContent='';th.appendChild(b);"
    "b.addEventListener('click',function(){"
    "var up=th.getAttribute('aria-sort')!=='ascending';"
    "hs.forEach(function(h){h.removeAttribute('aria-sort');});"
    "th.setAttribute('aria-sort',up?'ascending':'descending');"
    "var body=t.tBodies[0],rows=Array.prototype.slice.call(body.rows);"
    "rows.sort(function(a,c){var x=a.cells[i].getAttribute('data-v'),"
    "y=c.cells[i].getAttribute('data-v');if(x===y)return 0;if(x==='')return 1;"
    "if(y==='')return -1;var nx=Number(x),ny=Number(y),"
    "d=isNaN(nx)||isNaN(ny)?x.localeCompare(y):nx-ny;return up?d:-d;});"
    "rows.forEach(function(r){body.appendChild(r);});});});})();";

/* One service's line, its figures worked out once. */
typedef struct pf_line {
    const rp_service *s;
    size_t index; /* its section: #service-N */
    size_t met, missed, none;
    double budget, availability; /* fractions; NAN unknown */
} pf_line;

static pf_line
line_of(const rp_service *s, size_t index)
{
    pf_line l = {.s = s, .index = index, .budget = NAN, .availability = NAN};
    for (size_t k = 0; k < s->own->n_objectives; k++) {
        const sw_objective_result *o = &s->objectives[k];
        l.met += o->has_verdict && o->met;
        l.missed += o->has_verdict && !o->met;
        l.none += !o->has_verdict;
        if (o->has_verdict && isfinite(o->budget_remaining) && !(o->budget_remaining >= l.budget))
            l.budget = o->budget_remaining;
    }
    if (s->month.requests > 0)
        l.availability = 1.0 - (double)s->month.errors / (double)s->month.requests;
    return l;
}

/* Lowest budget first, unknown last, then by name. */
static int
by_budget(const void *a, const void *b)
{
    const pf_line *x = a, *y = b;
    bool kx = isfinite(x->budget), ky = isfinite(y->budget);
    if (kx != ky)
        return kx ? -1 : 1;
    if (kx && x->budget != y->budget)
        return x->budget < y->budget ? -1 : 1;
    return strcmp(x->s->title, y->s->title);
}

/* A numeric cell: the text shown, the raw value (empty when unknown) to sort by. */
static void
cell(sw_buf *b, const char *cls, double raw, const char *fmt, double shown, sw_err *err)
{
    if (!isfinite(raw)) {
        sw_buf_printf(b, err, "<td class=\"num %s\" data-v=\"\">—</td>", cls);
        return;
    }
    sw_buf_printf(b, err, "<td class=\"num %s\" data-v=\"%.17g\">", cls, raw);
    sw_buf_printf(b, err, fmt, shown);
    sw_buf_printf(b, err, "</td>");
}

static void
put_line(sw_buf *b, const pf_line *l, sw_err *err)
{
    const rp_service *s = l->s;
    sw_buf_printf(b, err, "<tr class=\"pf-row\"><td class=\"pf-name\" data-v=\"");
    sw_chart_escape(b, s->title, err);
    sw_buf_printf(b, err, "\"><a href=\"#service-%zu\">", l->index);
    sw_chart_escape(b, s->title, err);
    sw_buf_printf(b, err, "</a></td>");
    cell(b, "pf-met", (double)l->met, "%.0f", (double)l->met, err);
    cell(b, "pf-missed", (double)l->missed, "%.0f", (double)l->missed, err);
    cell(b, "pf-none", (double)l->none, "%.0f", (double)l->none, err);
    cell(b, "pf-budget", l->budget, "%.1f%%", 100.0 * l->budget, err);
    cell(b, "pf-availability", l->availability, "%.3f%%", 100.0 * l->availability, err);
    cell(b, "pf-p99", s->p99_us, "%.1f ms", s->p99_us / 1000.0, err);
    cell(b, "pf-requests", (double)s->month.requests, "%.0f", (double)s->month.requests, err);
    cell(b, "pf-coverage", s->coverage, "%.1f%%", 100.0 * s->coverage, err);
    sw_buf_printf(b, err, "</tr>\n");
}

void
sw_report_html_portfolio(const sw_report *r, sw_buf *b, sw_err *err)
{
    if (r->n_services < 2)
        return;
    pf_line *lines = calloc(r->n_services, sizeof *lines);
    if (lines == NULL) {
        sw_err_set(err, SW_E_NOMEM, "out of memory for the portfolio");
        return;
    }
    for (size_t i = 0; i < r->n_services; i++)
        lines[i] = line_of(&r->services[i], i);
    qsort(lines, r->n_services, sizeof *lines, by_budget);
    sw_buf_printf(b, err,
                  "<section id=\"portfolio\"><h2>Portfolio: every service on one line</h2>\n"
                  "<p class=\"sub sortnote\">Sorted by the lowest error budget left among a "
                  "service's commitments, worst first; click a column heading to sort by "
                  "it.</p>\n<table id=\"portfolio-table\"><thead><tr>"
                  "<th scope=\"col\">Service</th><th scope=\"col\" class=\"num\">Met</th>"
                  "<th scope=\"col\" class=\"num\">Missed</th>"
                  "<th scope=\"col\" class=\"num\">No verdict</th>"
                  "<th scope=\"col\" class=\"num\" aria-sort=\"ascending\">Lowest budget "
                  "left</th><th scope=\"col\" class=\"num\">Availability</th>"
                  "<th scope=\"col\" class=\"num\">P99</th>"
                  "<th scope=\"col\" class=\"num\">Requests</th>"
                  "<th scope=\"col\" class=\"num\">Coverage</th></tr></thead><tbody>\n");
    for (size_t i = 0; i < r->n_services; i++)
        put_line(b, &lines[i], err);
    sw_buf_printf(b, err, "</tbody></table>\n<script>%s</script></section>\n", sort_script);
    free(lines);
}
