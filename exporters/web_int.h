/*
 * What the web UI's files share: the page frame, HTML escaping, the token check and the error
 * page (exporters/web.c).
 */
#ifndef SLAWATCH_WEB_INT_H
#define SLAWATCH_WEB_INT_H

#include <stdbool.h>

#include "slawatch/api.h"
#include "slawatch/web.h"

#define SW_WEB_PARAM_MAX 256

/* HTML text or attribute value: & < > " ' escaped. */
void sw_web_put_text(sw_buf *b, const char *s);
/* A query-string value: everything but unreserved characters percent-encoded. */
void sw_web_put_query_value(sw_buf *b, const char *s);

/*
 * Start a page answer: false when the request may not see pages (a login page or an error has
 * been answered). Otherwise resp holds an empty HTML 200 to append to.
 */
bool sw_web_begin(const sw_api_hooks *h, const sw_http_request *req, sw_http_response *resp);

/* The document head, header and navigation up to <main>; active: the nav entry ("" none). */
void sw_web_page_open(const sw_api_hooks *h, sw_buf *b, const char *title, const char *active);
void sw_web_page_close(sw_buf *b);

/* An error page (400, 404, 503 ...) replacing what resp holds. */
void sw_web_error_page(const sw_api_hooks *h, sw_http_response *resp, int status, const char *what,
                       const char *detail);

/* A query parameter decoded into out ("" when absent); false after a 400 page. */
bool sw_web_param(const sw_api_hooks *h, const sw_http_request *req, sw_http_response *resp,
                  const char *name, char *out, size_t cap);

/* A time as "YYYY-MM-DD HH:MM:SS UTC" in a <time> element. */
void sw_web_put_time(sw_buf *b, int64_t ms);

/* The gate decisions of service ("" every one) in [from_ms, to_ms), newest first, with a
 * summary line ending in period ("in the last 7 days"); h->store must be set. */
sw_status sw_web_gate_decisions(const sw_api_hooks *h, sw_buf *b, const char *service,
                                int64_t from_ms, int64_t to_ms, const char *period, sw_err *err);

/* The status document's row of (service, value of its by label or "", env) as the overview
 * shows it; false when the document has no such series. */
bool sw_web_overview_series(sw_buf *b, const char *status, size_t len, const char *service,
                            const char *value, const char *env);

#endif
