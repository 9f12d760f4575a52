/*
 * Growable byte buffer with a cap. Owned by its caller; not thread-safe.
 */
#include "slawatch/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
sw_buf_init(sw_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void
sw_buf_fini(sw_buf *b)
{
    free(b->data);
    sw_buf_init(b, b->max);
}

void
sw_buf_reset(sw_buf *b)
{
    b->len = 0;
}

sw_status
sw_buf_reserve(sw_buf *b, size_t extra, sw_err *err)
{
    size_t need;
    /* need + 1 must fit too: the NUL of sw_buf_cstr. */
    if (__builtin_add_overflow(b->len, extra, &need) || need > b->max || need == SIZE_MAX)
        return sw_err_set(err, SW_E_TOOBIG, "buffer would exceed its limit of %zu bytes", b->max);
    if (need < b->cap)
        return SW_OK;
    size_t cap = b->cap ? b->cap : 256;
    while (cap <= need)
        cap = cap > SIZE_MAX / 2 ? need + 1 : cap * 2;
    size_t limit = b->max == SIZE_MAX ? SIZE_MAX : b->max + 1;
    if (cap > limit)
        cap = limit;
    uint8_t *data = realloc(b->data, cap);
    if (data == NULL)
        return sw_err_set(err, SW_E_NOMEM, "cannot grow buffer to %zu bytes", cap);
    b->data = data;
    b->cap = cap;
    return SW_OK;
}

sw_status
sw_buf_append(sw_buf *b, const void *data, size_t n, sw_err *err)
{
    sw_status st = sw_buf_reserve(b, n, err);
    if (st != SW_OK)
        return st;
    if (n > 0)
        memcpy(b->data + b->len, data, n);
    b->len += n;
    return SW_OK;
}

sw_status
sw_buf_printf(sw_buf *b, sw_err *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return sw_err_set(err, SW_E_INVAL, "bad format string");
    sw_status st = sw_buf_reserve(b, (size_t)n, err);
    if (st != SW_OK)
        return st;
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return SW_OK;
}

sw_status
sw_buf_getline(sw_buf *b, FILE *f, bool *ret_got, sw_err *err)
{
    sw_status st = SW_OK;
    bool got = false;
    int c;
    sw_buf_reset(b);
    flockfile(f);
    while ((c = getc_unlocked(f)) != EOF) {
        got = true;
        if (c == '\n')
            break;
        if (b->len + 1 >= b->cap && (st = sw_buf_reserve(b, 1, NULL)) != SW_OK)
            break;
        b->data[b->len++] = (uint8_t)c;
    }
    bool failed = ferror(f) != 0;
    funlockfile(f);
    if (st != SW_OK)
        return sw_err_set(err, SW_E_TOOBIG, "line longer than %zu bytes", b->max);
    if (failed)
        return sw_err_sys(err, SW_E_IO, "read error");
    *ret_got = got;
    return SW_OK;
}

const char *
sw_buf_cstr(sw_buf *b, sw_err *err)
{
    if (sw_buf_reserve(b, 0, err) != SW_OK)
        return NULL;
    b->data[b->len] = '\0';
    return (const char *)b->data;
}
