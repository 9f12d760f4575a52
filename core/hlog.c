/*
 * HdrHistogram interval log reading and writing. The reader keeps only the log's times between
 * lines; each interval's histogram is decoded, lent to the caller's callback and freed. Not
 * thread-safe per reader or writer.
 */
#include "slawatch/hlog.h"

#include "slawatch/buf.h"
#include "slawatch/hdr_codec.h"
#include "slawatch/units.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SECONDS_PER_YEAR (365.0 * 24 * 3600)

void
sw_hlog_reader_init(sw_hlog_reader *r, const char *name, sw_hlog_visit_fn visit, void *ctx)
{
    r->name = name;
    r->line = 0;
    r->start_time_s = NAN;
    r->base_time_s = NAN;
    r->base_inferred = false;
    r->visit = visit;
    r->ctx = ctx;
}

static sw_status
line_error(const sw_hlog_reader *r, size_t col, sw_err *err, const char *what)
{
    return sw_err_set(err, SW_E_PARSE, "%s:%lu:%zu: %s", r->name, r->line, col + 1, what);
}

static bool
has_prefix(const char *s, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len >= n && memcmp(s, prefix, n) == 0;
}

/* `#[StartTime: 1441812279.474 (seconds ...` and `#[BaseTime: ...`: the number after the key. */
static sw_status
parse_time_comment(sw_hlog_reader *r, const char *s, size_t len, size_t key_len, double *ret,
                   sw_err *err)
{
    size_t end = key_len;
    while (end < len && s[end] != ' ' && s[end] != ']')
        end++;
    if (!sw_units_parse_number(s + key_len, end - key_len, ret))
        return line_error(r, key_len, err, "expected seconds since the epoch");
    return SW_OK;
}

/* Fields of an interval line, split on commas. */
typedef struct interval_fields {
    const char *field[4];
    size_t len[4];
    size_t col[4];
} interval_fields;

static sw_status
split_fields(const sw_hlog_reader *r, const char *s, size_t len, size_t from,
             interval_fields *f, sw_err *err)
{
    static const char *const names[4] = {"start timestamp", "interval length", "interval max",
                                         "histogram"};
    size_t pos = from;
    for (int i = 0; i < 4; i++) {
        size_t end = pos;
        while (end < len && s[end] != ',')
            end++;
        if (end == pos || (i < 3 && end == len) || (i == 3 && end != len)) {
            char what[80];
            snprintf(what, sizeof what, i == 3 && end != len ? "unexpected field after the %s"
                                                             : "missing %s", names[i]);
            return line_error(r, pos, err, what);
        }
        f->field[i] = s + pos;
        f->len[i] = end - pos;
        f->col[i] = pos;
        pos = end + 1;
    }
    return SW_OK;
}

/* Base time from the first interval, as Java's reader infers it without a BaseTime line. */
static void
infer_base(sw_hlog_reader *r, double first_start)
{
    if (isnan(r->base_time_s)) {
        bool relative = !isnan(r->start_time_s) && first_start < r->start_time_s - SECONDS_PER_YEAR;
        r->base_time_s = relative ? r->start_time_s : 0.0;
        r->base_inferred = true;
    }
    if (isnan(r->start_time_s))
        r->start_time_s = first_start + r->base_time_s;
}

static sw_status
parse_interval(sw_hlog_reader *r, const char *s, size_t len, sw_err *err)
{
    char tag[SW_HLOG_MAX_TAG + 1];
    size_t from = 0;
    bool tagged = has_prefix(s, len, "Tag=");
    if (tagged) {
        size_t end = 4;
        while (end < len && !strchr(", \t\r\n", s[end]))
            end++;
        if (end == 4 || end == len || s[end] != ',' || end - 4 > SW_HLOG_MAX_TAG)
            return line_error(r, 4, err, "expected a tag of 1...256 characters and a comma");
        memcpy(tag, s + 4, end - 4);
        tag[end - 4] = '\0';
        from = end + 1;
    }
    interval_fields f;
    sw_status st = split_fields(r, s, len, from, &f, err);
    if (st != SW_OK)
        return st;
    double v[3];
    for (int i = 0; i < 3; i++)
        if (!sw_units_parse_number(f.field[i], f.len[i], &v[i]))
            return line_error(r, f.col[i], err, i == 2 ? "expected a number (interval max)"
                                                       : "expected seconds (a decimal number)");
    sw_hlog_interval iv = {.tag = tagged ? tag : NULL, .length_s = v[1], .max = v[2]};
    st = sw_hdr_decode_base64(f.field[3], f.len[3], &iv.hist, err);
    if (st != SW_OK) {
        /* Any undecodable histogram is a parse error of the line, whatever the codec said. */
        sw_err_prefix(err, "%s:%lu:%zu: histogram", r->name, r->line, f.col[3] + 1);
        if (st == SW_E_NOMEM)
            return st;
        return err ? (err->code = SW_E_PARSE) : SW_E_PARSE;
    }
    infer_base(r, v[0]);
    iv.start_s = v[0] + r->base_time_s;
    iv.offset_s = iv.start_s - r->start_time_s;
    st = r->visit(r->ctx, &iv, err);
    sw_hdr_free(iv.hist);
    return st;
}

sw_status
sw_hlog_reader_line(sw_hlog_reader *r, const char *line, size_t len, sw_err *err)
{
    r->line++;
    while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
        len--;
    if (len == 0)
        return SW_OK;
    if (has_prefix(line, len, "#[StartTime: "))
        return parse_time_comment(r, line, len, strlen("#[StartTime: "), &r->start_time_s, err);
    if (has_prefix(line, len, "#[BaseTime: ")) {
        r->base_inferred = false;
        return parse_time_comment(r, line, len, strlen("#[BaseTime: "), &r->base_time_s, err);
    }
    if (line[0] == '#' || has_prefix(line, len, "\"StartTimestamp\""))
        return SW_OK;
    return parse_interval(r, line, len, err);
}

sw_status
sw_hlog_read_mem(sw_hlog_reader *r, const char *text, size_t len, sw_err *err)
{
    size_t pos = 0;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        sw_status st = sw_hlog_reader_line(r, text + pos, end - pos, err);
        if (st != SW_OK)
            return st;
        pos = end + 1;
    }
    return SW_OK;
}

sw_status
sw_hlog_read_file(sw_hlog_reader *r, FILE *f, sw_err *err)
{
    sw_buf line;
    sw_buf_init(&line, SW_HLOG_MAX_LINE);
    bool got;
    sw_status st;
    while ((st = sw_buf_getline(&line, f, &got, err)) == SW_OK && got)
        if ((st = sw_hlog_reader_line(r, (const char *)line.data, line.len, err)) != SW_OK)
            break;
    if (st == SW_E_TOOBIG || st == SW_E_IO)
        sw_err_prefix(err, "%s:%lu", r->name, r->line + 1);
    sw_buf_fini(&line);
    return st;
}

/* ------------------------------------------------------------------ writer */

sw_status
sw_hlog_write_header(sw_hlog_writer *w, FILE *f, double start_time_s, double max_unit_ratio,
                     sw_err *err)
{
    w->f = f;
    w->base_time_s = start_time_s;
    w->max_unit_ratio = max_unit_ratio > 0 ? max_unit_ratio : 1.0;
    char date[64] = "";
    time_t secs = (time_t)start_time_s;
    struct tm tm;
    if (gmtime_r(&secs, &tm) != NULL)
        strftime(date, sizeof date, "%a %b %d %H:%M:%S UTC %Y", &tm);
    fprintf(f, "#[Logged with slawatch]\n");
    fprintf(f, "#[Histogram log format version 1.3]\n");
    fprintf(f, "#[StartTime: %.3f (seconds since epoch), %s]\n", start_time_s, date);
    fprintf(f, "#[BaseTime: %.3f (seconds since epoch)]\n", start_time_s);
    fprintf(f, "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\","
               "\"Interval_Compressed_Histogram\"\n");
    if (ferror(f))
        return sw_err_sys(err, SW_E_IO, "cannot write the interval log header");
    return SW_OK;
}

sw_status
sw_hlog_write_interval(sw_hlog_writer *w, const char *tag, double start_s, double length_s,
                       const sw_hdr *h, sw_err *err)
{
    if (tag != NULL && (tag[0] == '\0' || strlen(tag) > SW_HLOG_MAX_TAG || strpbrk(tag, ", \t\r\n")))
        return sw_err_set(err, SW_E_INVAL, "tag \"%s\" is empty, too long or has a comma or blank",
                          tag);
    sw_buf b64;
    sw_buf_init(&b64, (size_t)1 << 30);
    sw_status st = sw_hdr_encode_base64(h, &b64, err);
    if (st == SW_OK) {
        if (tag != NULL)
            fprintf(w->f, "Tag=%s,", tag);
        fprintf(w->f, "%.3f,%.3f,%.3f,%.*s\n", start_s - w->base_time_s, length_s,
                (double)sw_hdr_max(h) / w->max_unit_ratio, (int)b64.len, (const char *)b64.data);
        if (ferror(w->f))
            st = sw_err_sys(err, SW_E_IO, "cannot write an interval");
    }
    sw_buf_fini(&b64);
    return st;
}
