/*
 * logfmt lines built in a local buffer and written with one fwrite under the stream lock.
 */
#include "slawatch/log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "slawatch/units.h"

#define LOG_LINE_MAX 4096

static sw_log_level log_min = SW_LOG_INFO;
static FILE *log_out;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void
sw_log_setup(sw_log_level min, FILE *out)
{
    log_min = min;
    log_out = out;
}

int
sw_log_level_parse(const char *name)
{
    for (int i = 0; i < (int)(sizeof level_names / sizeof level_names[0]); i++)
        if (strcmp(name, level_names[i]) == 0)
            return i;
    return -1;
}

typedef struct line {
    char text[LOG_LINE_MAX];
    size_t len;
} line;

static void
put_char(line *l, char c)
{
    /* Keep room for the newline; a line that would overflow is cut, never overrun. */
    if (l->len + 2 < sizeof l->text)
        l->text[l->len++] = c;
}

static void
put_str(line *l, const char *s)
{
    while (*s != '\0')
        put_char(l, *s++);
}

static bool
needs_quotes(const char *v)
{
    if (*v == '\0')
        return true;
    for (; *v != '\0'; v++)
        if ((unsigned char)*v <= ' ' || *v == '"' || *v == '=' || *v == '\\' ||
            (unsigned char)*v >= 0x7f)
            return true;
    return false;
}

static void
put_value(line *l, const char *v)
{
    if (v == NULL)
        v = "";
    if (!needs_quotes(v)) {
        put_str(l, v);
        return;
    }
    static const char hex[] = "0123456789abcdef";
    put_char(l, '"');
    for (; *v != '\0'; v++) {
        unsigned char c = (unsigned char)*v;
        if (c == '"' || c == '\\') {
            put_char(l, '\\');
            put_char(l, (char)c);
        } else if (c == '\n') {
            put_str(l, "\\n");
        } else if (c < ' ' || c == 0x7f) {
            put_str(l, "\\x");
            put_char(l, hex[c >> 4]);
            put_char(l, hex[c & 15]);
        } else {
            put_char(l, (char)c);
        }
    }
    put_char(l, '"');
}

static void
put_pair(line *l, const char *key, const char *value)
{
    put_char(l, ' ');
    put_str(l, key);
    put_char(l, '=');
    put_value(l, value);
}

static void
put_head(line *l, sw_log_level level, const char *msg)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char when[40];
    sw_units_format_time((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, when, sizeof when);
    put_str(l, "ts=");
    put_str(l, when);
    put_pair(l, "level", level_names[level]);
    put_pair(l, "msg", msg);
}

static void
put_pairs(line *l, va_list ap)
{
    const char *key;
    while ((key = va_arg(ap, const char *)) != NULL)
        put_pair(l, key, va_arg(ap, const char *));
}

static void
emit(line *l)
{
    FILE *out = log_out != NULL ? log_out : stderr;
    l->text[l->len++] = '\n';
    flockfile(out);
    fwrite(l->text, 1, l->len, out);
    fflush(out);
    funlockfile(out);
}

void
sw_log(sw_log_level level, const char *msg, ...)
{
    if (level < log_min)
        return;
    line l = {.len = 0};
    put_head(&l, level, msg);
    va_list ap;
    va_start(ap, msg);
    put_pairs(&l, ap);
    va_end(ap);
    emit(&l);
}

void
sw_log_err(sw_log_level level, const char *msg, const sw_err *err, ...)
{
    if (level < log_min)
        return;
    line l = {.len = 0};
    put_head(&l, level, msg);
    va_list ap;
    va_start(ap, err);
    put_pairs(&l, ap);
    va_end(ap);
    if (err != NULL) {
        put_pair(&l, "code", sw_err_str(err->code));
        put_pair(&l, "err", err->msg);
    }
    emit(&l);
}
