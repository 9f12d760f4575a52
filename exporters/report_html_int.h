/*
 * Pieces of the HTML report (report_html.c) kept in files of their own: the portfolio, one line
 * per service (report_portfolio.c).
 */
#ifndef SLAWATCH_REPORT_HTML_INT_H
#define SLAWATCH_REPORT_HTML_INT_H

#include "report_int.h"

/* The portfolio section (id "portfolio") with its sorting script; nothing for one service. */
void sw_report_html_portfolio(const sw_report *r, sw_buf *b, sw_err *err);

/* The print stylesheet's rules and the portfolio's, for the page's <style>. */
extern const char sw_report_html_print_css[];

#endif
