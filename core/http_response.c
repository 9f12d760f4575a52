/*
 * Building a handler's answer: the extra header, the JSON error body, and the status of a
 * refused write (part of core/http, slawatch/http.h; no server state, any thread).
 */
#include "slawatch/http.h"

#include "slawatch/json.h"

#include <stdarg.h>
#include <stdio.h>

void
sw_http_response_header(sw_http_response *resp, const char *name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(resp->header_value, sizeof resp->header_value, fmt, ap);
    va_end(ap);
    resp->header_name = name;
}

void
sw_http_response_share(sw_http_response *resp, const void *data, size_t len,
                       void (*release)(void *ctx), void *release_ctx)
{
    sw_http_response_unshare(resp);
    resp->shared = data;
    resp->shared_len = len;
    resp->release = release;
    resp->release_ctx = release_ctx;
}

void
sw_http_response_unshare(sw_http_response *resp)
{
    if (resp->shared != NULL && resp->release != NULL)
        resp->release(resp->release_ctx);
    resp->shared = NULL;
    resp->shared_len = 0;
    resp->release = NULL;
    resp->release_ctx = NULL;
    sw_buf_reset(&resp->body);
}

void
sw_http_response_error(sw_http_response *resp, int status, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    resp->status = status;
    resp->content_type = "application/json";
    sw_http_response_unshare(resp);
    /* The buffer cap is far above this size; a failed append leaves an empty body. */
    if (sw_buf_append(&resp->body, "{\"error\":", 9, NULL) != SW_OK ||
        sw_json_put_string(&resp->body, msg, NULL) != SW_OK ||
        sw_buf_append(&resp->body, "}\n", 2, NULL) != SW_OK)
        sw_buf_reset(&resp->body);
}

int
sw_http_write_status(sw_status st, int invalid)
{
    switch (st) {
    case SW_E_PARSE:
        return 400;
    case SW_E_INVAL:
        return invalid;
    case SW_E_TOOBIG:
        return 413;
    case SW_E_RANGE:
        return 422;
    case SW_E_NOMEM:
    case SW_E_IO:
        return 503;
    default:
        return 500;
    }
}
