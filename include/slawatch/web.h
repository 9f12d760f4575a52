/*
 * The web UI the daemon serves: server-rendered HTML pages (the overview, a service's page,
 * the gate decisions, the monthly reports) with one small stylesheet and script embedded in
 * the binary. Handlers for exporters/api's route table, taking the sw_api_hooks as ctx; like
 * the API they read the published snapshot and the store, never the tick's state. Pages work
 * without JavaScript: sorting and filtering are query parameters. With a bearer token
 * configured, a page needs it: in the Authorization header, or in the cookie that `?token=`
 * or the login form (POST /login) sets (docs/api.md).
 */
#ifndef SLAWATCH_WEB_H
#define SLAWATCH_WEB_H

#include <stddef.h>
#include <stdint.h>

#include "slawatch/buf.h"
#include "slawatch/err.h"
#include "slawatch/http.h"

void sw_web_handle_overview(void *ctx, const sw_http_request *req, sw_http_response *resp);
void sw_web_handle_service(void *ctx, const sw_http_request *req, sw_http_response *resp);
void sw_web_handle_gate(void *ctx, const sw_http_request *req, sw_http_response *resp);
void sw_web_handle_reports(void *ctx, const sw_http_request *req, sw_http_response *resp);
void sw_web_handle_login(void *ctx, const sw_http_request *req, sw_http_response *resp);
void sw_web_handle_css(void *ctx, const sw_http_request *req, sw_http_response *resp);
void sw_web_handle_js(void *ctx, const sw_http_request *req, sw_http_response *resp);

/* How the overview is shown: the text filter ("" none) and the order. */
typedef enum sw_web_order {
    SW_WEB_ORDER_WORST,  /* missed objectives first, then the least budget left */
    SW_WEB_ORDER_BUDGET, /* the least budget left first */
    SW_WEB_ORDER_NAME,
} sw_web_order;

/*
 * The overview's table (its <main>) of a status document (`{"at":..., "services":[...]}` as
 * /api/v1/status serves it) into b: what GET / shows, for the benchmark and the tests.
 * SW_E_PARSE when status is not such a document; SW_E_TOOBIG past b's cap.
 */
sw_status sw_web_overview_render(const char *status, size_t len, const char *filter,
                                 sw_web_order order, sw_buf *b, sw_err *err);

#endif
