/*
 * GET /api/v1/report?month=YYYY-MM[&format=html|md|json|csv][&service=S]...[&tz=ZONE]: the
 * monthly SLA report (report.h) served by the daemon from its store, built by the same code as
 * `slawatch report`. The handler runs on the HTTP pool threads; it reaches the store only
 * through the sw_api_hooks report hook. Statuses are documented in docs/api.md.
 */
#ifndef SLAWATCH_REPORT_HTTP_H
#define SLAWATCH_REPORT_HTTP_H

#include "slawatch/http.h"

/* Longest service list accepted in one request (repeated service= or comma-separated). */
#define SW_REPORT_HTTP_MAX_SERVICES 64

/*
 * The route's handler; ctx is the sw_api_hooks. 400 for a bad month, format, zone or service
 * list; 422 when the month cannot be judged (not started, no rules recorded, service not in the
 * month's rules); 404 when the store holds no data for the month; 500 for store failures.
 */
void sw_report_http_handle(void *ctx, const sw_http_request *req, sw_http_response *resp);

#endif
