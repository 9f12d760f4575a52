/*
 * Heatmaps (rows by columns of classed cells, each with its hover text) and the stylesheet
 * fragment every chart is drawn for.
 */
#include "chart_int.h"

#include <string.h>

#define CELL_H 10.0
#define HEAT_TOP 24.0    /* the key's row */
#define HEAT_BOTTOM 18.0 /* the column labels */
#define KEY_CHAR_W 6.2

static const char *const cell_classes[] = {"l0", "l1", "l2", "l3", "nodata", "maint", "unknown"};

static bool
known_class(const char *cls)
{
    for (size_t i = 0; i < sizeof cell_classes / sizeof cell_classes[0]; i++)
        if (cls && strcmp(cls, cell_classes[i]) == 0)
            return true;
    return false;
}

static sw_status
check_cells(const sw_chart_heatmap *h, sw_err *err)
{
    for (size_t i = 0; i < h->n_cells; i++) {
        const sw_chart_cell *c = &h->cells[i];
        if (c->row >= h->n_rows || c->col >= h->n_cols)
            return sw_err_set(err, SW_E_INVAL,
                              "heatmap cell %zu at row %zu, column %zu is "
                              "outside %zu x %zu",
                              i, c->row, c->col, h->n_rows, h->n_cols);
        if (!known_class(c->cls))
            return sw_err_set(err, SW_E_INVAL, "heatmap cell %zu has an unknown class", i);
    }
    for (size_t i = 0; i < h->n_keys; i++)
        if (!known_class(h->keys[i].cls))
            return sw_err_set(err, SW_E_INVAL, "heatmap key %zu has an unknown class", i);
    return SW_OK;
}

static void
heat_keys(sw_buf *b, const sw_chart_heatmap *h, sw_err *err)
{
    double x = SW_CHART_PAD_LEFT;
    sw_buf_printf(b, err, "<g class=\"sw-legend\">");
    for (size_t i = 0; i < h->n_keys; i++) {
        const char *label = h->keys[i].label ? h->keys[i].label : "";
        sw_buf_printf(b, err,
                      "<rect class=\"sw-cell %s\" x=\"%.1f\" y=\"5\" width=\"12\" height=\"10\"/>"
                      "<text x=\"%.1f\" y=\"14\">",
                      h->keys[i].cls, x, x + 16);
        sw_chart_escape(b, label, err);
        sw_buf_printf(b, err, "</text>");
        x += 16 + KEY_CHAR_W * (double)strlen(label) + 12;
    }
    sw_buf_printf(b, err, "</g>");
}

sw_status
sw_chart_draw_heatmap(sw_buf *b, const sw_chart_heatmap *h, sw_err *err)
{
    sw_status st = check_cells(h, err);
    if (st != SW_OK)
        return st;
    double w = h->width > 0 ? h->width : SW_CHART_WIDTH;
    double cw = h->n_cols ? (w - SW_CHART_PAD_LEFT - SW_CHART_PAD_RIGHT) / (double)h->n_cols : 0;
    double ht = HEAT_TOP + CELL_H * (double)h->n_rows + HEAT_BOTTOM;
    sw_buf_printf(b, err,
                  "<svg class=\"sw-chart sw-heatmap %s\" viewBox=\"0 0 %.0f %.0f\" "
                  "width=\"100%%\" role=\"img\" aria-label=\"",
                  h->css_class ? h->css_class : "", w, ht);
    sw_chart_escape(b, h->title ? h->title : "", err);
    sw_buf_printf(b, err, "\"><title>");
    sw_chart_escape(b, h->title ? h->title : "", err);
    sw_buf_printf(b, err, "</title>");
    heat_keys(b, h, err);
    for (size_t i = 0; i < h->n_cells; i++) {
        const sw_chart_cell *c = &h->cells[i];
        sw_buf_printf(b, err,
                      "<rect class=\"sw-cell %s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                      "height=\"%.1f\"><title>",
                      c->cls, SW_CHART_PAD_LEFT + cw * (double)c->col,
                      HEAT_TOP + CELL_H * (double)c->row, cw, CELL_H);
        sw_chart_escape(b, c->title ? c->title : "", err);
        sw_buf_printf(b, err, "</title></rect>");
    }
    for (size_t r = 0; h->row_labels && r < h->n_rows; r++)
        if (h->row_labels[r]) {
            sw_buf_printf(b, err,
                          "<text class=\"sw-tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">",
                          SW_CHART_PAD_LEFT - 4, HEAT_TOP + CELL_H * (double)r + 8);
            sw_chart_escape(b, h->row_labels[r], err);
            sw_buf_printf(b, err, "</text>");
        }
    for (size_t k = 0; h->col_labels && k < h->n_cols; k++)
        if (h->col_labels[k]) {
            sw_buf_printf(b, err,
                          "<text class=\"sw-tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
                          SW_CHART_PAD_LEFT + cw * ((double)k + 0.5), ht - 5);
            sw_chart_escape(b, h->col_labels[k], err);
            sw_buf_printf(b, err, "</text>");
        }
    sw_buf_printf(b, err, "</svg>\n");
    return err->code;
}

/*
 * Colours are custom properties so a page can restyle them; the dark scheme redefines them.
 * Series differ by dash pattern (and the marker shape chart.c draws), not only by colour; bad
 * bars are hatched by a dashed outline; heatmap levels darken with the count.
 */
static const char chart_css[] =
    ":root{--sw-text:#333;--sw-grid:#e4e4e4;--sw-frame:#888;--sw-c0:#2f6f9f;--sw-c1:#9b4fa8;"
    "--sw-c2:#b8641b;--sw-c3:#2e7d4f;--sw-c4:#a33a3a;--sw-c5:#5a5a5a;--sw-bar:#7aa6c2;"
    "--sw-bad:#c9483e;--sw-threshold:#444;--sw-range:rgba(120,110,200,.18);"
    "--sw-deploy:#2f6f9f;--sw-pass:#2e7d4f;--sw-fail:#b3261e;--sw-event:#b8641b;"
    "--sw-l0:#cfe5d3;--sw-l1:#f2c4bd;--sw-l2:#e08a80;--sw-l3:#b3261e;--sw-nodata:#e6e6e6;"
    "--sw-maint:#c9c9e8;--sw-unknown:#d9d4bf;--sw-bg:#fff}"
    "@media (prefers-color-scheme:dark){:root{--sw-text:#ddd;--sw-grid:#3a3a3a;--sw-frame:#999;"
    "--sw-c0:#7ab8e6;--sw-c1:#d59be0;--sw-c2:#f0a860;--sw-c3:#7fd19f;--sw-c4:#f08c8c;"
    "--sw-c5:#c0c0c0;--sw-bar:#4f86a8;--sw-bad:#e06b60;--sw-threshold:#ccc;"
    "--sw-range:rgba(160,150,240,.22);--sw-deploy:#7ab8e6;--sw-pass:#7fd19f;--sw-fail:#ff8a80;"
    "--sw-event:#f0a860;--sw-l0:#29432f;--sw-l1:#6b3a35;--sw-l2:#a3453b;--sw-l3:#e0564a;"
    "--sw-nodata:#333;--sw-maint:#4a4a78;--sw-unknown:#5a5540;--sw-bg:#1b1b1b}}"
    ".sw-chart{display:block;margin:.3em 0 1em;overflow:visible}"
    ".sw-chart text{font-size:11px;fill:var(--sw-text)}"
    ".sw-grid{stroke:var(--sw-grid);stroke-width:1}.sw-frame{stroke:var(--sw-frame)}"
    ".sw-unit{font-weight:600}.sw-nodata{font-size:14px}"
    ".sw-line{fill:none;stroke-width:2}.sw-pt{stroke-width:1}"
    ".sw-s0{stroke:var(--sw-c0);fill:var(--sw-c0)}.sw-s1{stroke:var(--sw-c1);fill:var(--sw-c1)}"
    ".sw-s2{stroke:var(--sw-c2);fill:var(--sw-c2)}.sw-s3{stroke:var(--sw-c3);fill:var(--sw-c3)}"
    ".sw-s4{stroke:var(--sw-c4);fill:var(--sw-c4)}.sw-s5{stroke:var(--sw-c5);fill:var(--sw-c5)}"
    ".sw-s1 .sw-line{stroke-dasharray:6 3}.sw-s2 .sw-line{stroke-dasharray:2 2}"
    ".sw-s3 .sw-line{stroke-dasharray:8 3 2 3}.sw-s4 .sw-line{stroke-dasharray:4 4}"
    ".sw-s5 .sw-line{stroke-dasharray:1 3}"
    ".sw-bar{fill:var(--sw-bar)}.sw-bar.bad{fill:var(--sw-bad);stroke:var(--sw-text);"
    "stroke-dasharray:2 2}"
    ".sw-clip{fill:var(--sw-bad);stroke:var(--sw-text);stroke-width:1}"
    ".sw-threshold line{stroke:var(--sw-threshold);stroke-dasharray:5 3;stroke-width:1.2}"
    ".sw-threshold text{font-style:italic}.sw-range{fill:var(--sw-range)}"
    ".sw-mark line{stroke-width:1.5}.sw-mark.deploy line{stroke:var(--sw-deploy)}"
    ".sw-mark.gate-pass line{stroke:var(--sw-pass)}"
    ".sw-mark.gate-fail line{stroke:var(--sw-fail);stroke-dasharray:3 2}"
    ".sw-mark.event line{stroke:var(--sw-event);stroke-dasharray:1 2}"
    ".sw-cell{stroke:var(--sw-bg);stroke-width:1}.sw-cell.l0{fill:var(--sw-l0)}"
    ".sw-cell.l1{fill:var(--sw-l1)}.sw-cell.l2{fill:var(--sw-l2)}.sw-cell.l3{fill:var(--sw-l3)}"
    ".sw-cell.nodata{fill:var(--sw-nodata)}.sw-cell.maint{fill:var(--sw-maint)}"
    ".sw-cell.unknown{fill:var(--sw-unknown)}";

const char *
sw_chart_css(void)
{
    return chart_css;
}
