/*
 * Status strings and the sw_err helpers. Stateless; safe from any thread.
 */
#include "slawatch/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const status_text[] = {
#define SW_STATUS_TEXT(name, text) [name] = text,
    SW_STATUS_LIST(SW_STATUS_TEXT)
#undef SW_STATUS_TEXT
};

const char *
sw_err_str(sw_status code)
{
    if ((size_t)code >= sizeof status_text / sizeof status_text[0])
        return "unknown status";
    return status_text[code];
}

static sw_status
err_vset(sw_err *err, sw_status code, int sys_errno, const char *fmt, va_list ap)
{
    if (err == NULL)
        return code;
    err->code = code;
    err->sys_errno = sys_errno;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    if (sys_errno != 0) {
        size_t used = strlen(err->msg);
        snprintf(err->msg + used, sizeof err->msg - used, ": %s", strerror(sys_errno));
    }
    return code;
}

sw_status
sw_err_set(sw_err *err, sw_status code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_vset(err, code, 0, fmt, ap);
    va_end(ap);
    return code;
}

sw_status
sw_err_sys(sw_err *err, sw_status code, const char *fmt, ...)
{
    int saved = errno;
    va_list ap;
    va_start(ap, fmt);
    err_vset(err, code, saved, fmt, ap);
    va_end(ap);
    return code;
}

void
sw_err_prefix(sw_err *err, const char *fmt, ...)
{
    if (err == NULL)
        return;
    char head[SW_ERR_MSG_MAX];
    char joined[2 * SW_ERR_MSG_MAX + 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    snprintf(joined, sizeof joined, "%s: %s", head, err->msg);
    snprintf(err->msg, sizeof err->msg, "%.*s", SW_ERR_MSG_MAX - 1, joined);
}

void
sw_require_failed(const char *cond, const char *file, int line)
{
    fprintf(stderr, "%s:%d: requirement failed: %s\n", file, line, cond);
    abort();
}
