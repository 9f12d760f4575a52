/*
 * The HTML report printed to PDF by headless Chromium (docs/reports.md, "PDF"): the document is
 * written to a private temporary directory, Chromium (the first of chromium, chromium-browser,
 * google-chrome on PATH) prints it there with a fresh profile and no network, and the directory
 * is removed whatever happens. The report's print stylesheet does the pagination.
 */
#ifndef SLAWATCH_REPORT_PDF_H
#define SLAWATCH_REPORT_PDF_H

#include <stddef.h>

#include "slawatch/buf.h"
#include "slawatch/err.h"

#define SW_REPORT_PDF_TIMEOUT_S 300 /* Chromium's whole run, start to PDF (50 services: ~45 s) */

/*
 * Print html[len] to PDF into out (replacing nothing: appended). SW_E_UNSUPPORTED when no
 * Chromium is on PATH; SW_E_IO when it fails, gives no PDF or runs past timeout_s (then it and
 * its children are killed). The message says which and what to do.
 */
sw_status sw_report_pdf_render(const char *html, size_t len, int timeout_s, sw_buf *out,
                               sw_err *err);

#endif
