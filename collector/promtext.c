/*
 * The exposition parser's syntax: lines, metadata, samples, labels, values, timestamps and
 * exemplars of the text format 0.0.4 and OpenMetrics 1.0, plus the text format's per-name
 * rules. Written for speed: a line is found with memchr, labels point into the input unless
 * they hold escapes (then into a scratch buffer sized once per line), and only a change of
 * family touches the family table. OpenMetrics semantics live in promtext_om.c.
 */
#include "promtext_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const pt_suffix_text[PT_SFX_N] = {"",       "_total", "_created", "_bucket", "_count",
                                              "_sum",   "_gcount", "_gsum",   "_info"};

enum { C_NAME = 1, C_NAME_FIRST = 2, C_LABEL = 4, C_LABEL_FIRST = 8, C_DIGIT = 16 };

/* Character classes, indexed by byte. */
static const uint8_t cls[256] = {
#define R4(c) c, c, c, c
#define R8(c) R4(c), R4(c)
    ['0'] = C_NAME | C_LABEL | C_DIGIT, ['1'] = C_NAME | C_LABEL | C_DIGIT,
    ['2'] = C_NAME | C_LABEL | C_DIGIT, ['3'] = C_NAME | C_LABEL | C_DIGIT,
    ['4'] = C_NAME | C_LABEL | C_DIGIT, ['5'] = C_NAME | C_LABEL | C_DIGIT,
    ['6'] = C_NAME | C_LABEL | C_DIGIT, ['7'] = C_NAME | C_LABEL | C_DIGIT,
    ['8'] = C_NAME | C_LABEL | C_DIGIT, ['9'] = C_NAME | C_LABEL | C_DIGIT,
    [':'] = C_NAME | C_NAME_FIRST,
    ['_'] = C_NAME | C_NAME_FIRST | C_LABEL | C_LABEL_FIRST,
    ['A'] = R8(15), R8(15), R8(15), 15, 15,
    ['a'] = R8(15), R8(15), R8(15), 15, 15,
#undef R4
#undef R8
};

sw_status
pt_fail(pt_parser *P, const char *at, sw_status code, const char *fmt, ...)
{
    if (P->where) {
        P->where->line = P->lineno;
        P->where->col = (uint32_t)(at - P->line) + 1;
    }
    if (P->err) {
        va_list ap;
        va_start(ap, fmt);
        char msg[SW_ERR_MSG_MAX];
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        sw_err_set(P->err, code, "%s", msg);
    }
    return code;
}

static bool
is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static const char *
skip_blanks(const char *p, const char *e)
{
    while (p < e && is_blank(*p))
        p++;
    return p;
}

/* Text format separators are runs of blanks; OpenMetrics wants exactly one space. */
static sw_status
expect_sep(pt_parser *P, const char **pp, const char *e, const char *what)
{
    const char *p = *pp;
    if (p >= e || !is_blank(*p))
        return pt_fail(P, p, SW_E_PARSE, "expected a space before %s", what);
    if (P->om) {
        if (*p != ' ' || (p + 1 < e && is_blank(p[1])))
            return pt_fail(P, p, SW_E_PARSE, "expected exactly one space before %s", what);
        *pp = p + 1;
    } else {
        *pp = skip_blanks(p, e);
    }
    return SW_OK;
}

static const char *
scan_name(const char *p, const char *e, uint8_t first, uint8_t rest)
{
    if (p >= e || !(cls[(uint8_t)*p] & first))
        return p;
    p++;
    while (p < e && (cls[(uint8_t)*p] & rest))
        p++;
    return p;
}

/* ---- numbers ---- */

static const double pow10_exact[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/*
 * A decimal real number: [sign] digits [. digits] [e [sign] digits], at least one digit in the
 * mantissa. Exact (Clinger's fast path) when the mantissa fits 2^53 and the power of ten 10^22;
 * otherwise strtod on a copy gives the correctly rounded value.
 */
static bool
parse_decimal(const char *s, const char *e, double *ret)
{
    const char *p = s;
    bool neg = false;
    if (p < e && (*p == '+' || *p == '-'))
        neg = *p++ == '-';
    uint64_t mant = 0;
    int digits = 0, frac = 0, mant_digits = 0;
    for (; p < e && (cls[(uint8_t)*p] & C_DIGIT); p++, digits++) {
        if (mant_digits < 19 && (mant || *p != '0')) {
            mant = mant * 10 + (uint64_t)(*p - '0');
            mant_digits++;
        } else if (mant) {
            frac--; /* an integer digit past 19: the slow path below takes over */
        }
    }
    if (p < e && *p == '.') {
        for (p++; p < e && (cls[(uint8_t)*p] & C_DIGIT); p++, digits++) {
            if (mant_digits < 19 && (mant || *p != '0')) {
                mant = mant * 10 + (uint64_t)(*p - '0');
                mant_digits++;
                frac++;
            } else if (!mant) {
                frac++;
            }
        }
    }
    if (digits == 0)
        return false;
    long exp10 = 0;
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        bool eneg = false;
        if (p < e && (*p == '+' || *p == '-'))
            eneg = *p++ == '-';
        if (p >= e || !(cls[(uint8_t)*p] & C_DIGIT))
            return false;
        for (; p < e && (cls[(uint8_t)*p] & C_DIGIT); p++)
            if (exp10 < 100000)
                exp10 = exp10 * 10 + (*p - '0');
        if (eneg)
            exp10 = -exp10;
    }
    if (p != e)
        return false;
    long scale = exp10 - frac;
    if (mant == 0) {
        *ret = neg ? -0.0 : 0.0;
        return true;
    }
    if (mant_digits < 19 && mant < ((uint64_t)1 << 53) && scale >= -22 && scale <= 22) {
        double v = (double)mant;
        v = scale < 0 ? v / pow10_exact[-scale] : v * pow10_exact[scale];
        *ret = neg ? -v : v;
        return true;
    }
    char tmp[256];
    size_t n = (size_t)(e - s);
    if (n >= sizeof tmp)
        return false;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    *ret = strtod(tmp, NULL);
    return true;
}

static bool
word_is(const char *s, const char *e, const char *w, bool any_case)
{
    size_t n = strlen(w);
    if ((size_t)(e - s) != n)
        return false;
    if (!any_case)
        return memcmp(s, w, n) == 0;
    for (size_t i = 0; i < n; i++)
        if ((s[i] | 0x20) != w[i])
            return false;
    return true;
}

/* Infinity and NaN as both formats spell them (Go's ParseFloat, OpenMetrics): any case. */
static bool
parse_special(const char *s, const char *e, double *ret)
{
    const char *p = s;
    bool neg = false, sign = false;
    if (p < e && (*p == '+' || *p == '-'))
        sign = true, neg = *p++ == '-';
    if (word_is(p, e, "inf", true) || word_is(p, e, "infinity", true)) {
        *ret = neg ? -INFINITY : INFINITY;
        return true;
    }
    if (!sign && word_is(p, e, "nan", true)) {
        *ret = NAN;
        return true;
    }
    return false;
}

bool
pt_parse_om_number(const char *s, const char *e, bool real_only, double *ret)
{
    if (parse_decimal(s, e, ret))
        return true;
    return !real_only && parse_special(s, e, ret);
}

/* The text format's values are Go's strconv.ParseFloat: decimal, hex, Inf and NaN spellings. */
static bool
parse_text_value(const char *s, const char *e, double *ret)
{
    if (parse_decimal(s, e, ret) || parse_special(s, e, ret))
        return true;
    char tmp[128];
    size_t n = (size_t)(e - s);
    if (n == 0 || n >= sizeof tmp)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!strchr("0123456789abcdefABCDEFxXpP.+-", s[i]))
            return false;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    char *stop;
    *ret = strtod(tmp, &stop);
    return stop == tmp + n && (memchr(tmp, 'x', n) || memchr(tmp, 'X', n));
}

static bool
parse_int64(const char *s, const char *e, int64_t *ret)
{
    const char *p = s;
    bool neg = false;
    if (p < e && (*p == '+' || *p == '-'))
        neg = *p++ == '-';
    if (p >= e)
        return false;
    uint64_t v = 0;
    for (; p < e; p++) {
        if (!(cls[(uint8_t)*p] & C_DIGIT) || v > (UINT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if (v > (uint64_t)INT64_MAX + neg)
        return false;
    *ret = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

static int64_t
seconds_to_ms(double s)
{
    double ms = floor(s * 1000.0);
    if (ms >= 9.2233720368547748e18)
        return INT64_MAX;
    if (ms <= -9.2233720368547748e18)
        return INT64_MIN;
    return (int64_t)ms;
}

/* ---- labels ---- */

static bool
is_escape_ok(pt_parser *P, char c, bool help)
{
    if (P->om)
        return true; /* OpenMetrics keeps unknown escapes as written */
    return c == '\\' || c == 'n' || (!help && c == '"');
}

/* Unescape [s, e) (which holds at least one backslash) into the line's scratch buffer. */
static sw_status
unescape_value(pt_parser *P, const char *s, const char *e, sw_prom_label *l)
{
    size_t line_len = (size_t)(P->eol - P->line) + 1;
    if (P->scratch.len == 0 && P->scratch.cap < line_len &&
        sw_buf_reserve(&P->scratch, line_len, P->err) != SW_OK)
        return pt_fail(P, s, SW_E_NOMEM, "out of memory unescaping a label value");
    char *out = (char *)P->scratch.data + P->scratch.len, *o = out;
    for (const char *p = s; p < e; p++) {
        if (*p != '\\') {
            *o++ = *p;
            continue;
        }
        char c = p[1];
        if (!is_escape_ok(P, c, false))
            return pt_fail(P, p, SW_E_PARSE, "invalid escape sequence '\\%c' in a label value",
                           c);
        if (c == 'n')
            *o++ = '\n';
        else if (c == '\\' || c == '"')
            *o++ = c;
        else
            *o++ = '\\', *o++ = c;
        p++;
    }
    l->value = out;
    l->value_len = (size_t)(o - out);
    P->scratch.len += l->value_len;
    return SW_OK;
}

/* A quoted label value starting at *pp (the opening quote). */
static sw_status
parse_label_value(pt_parser *P, const char **pp, const char *e, sw_prom_label *l)
{
    const char *s = *pp + 1, *p = s;
    bool escaped = false;
    for (;;) {
        const char *q = memchr(p, '"', (size_t)(e - p));
        if (!q)
            return pt_fail(P, *pp, SW_E_PARSE, "label value not closed before the end of the line");
        const char *b = memchr(p, '\\', (size_t)(q - p));
        if (!b) {
            p = q;
            break;
        }
        escaped = true;
        if (b + 1 >= e)
            return pt_fail(P, b, SW_E_PARSE, "label value not closed before the end of the line");
        p = b + 2;
    }
    if ((size_t)(p - s) > SW_PROMTEXT_MAX_LABEL_VALUE)
        return pt_fail(P, s, SW_E_TOOBIG, "label value of '%.*s' is %zu bytes, over the cap of %zu",
                       (int)l->name_len, l->name, (size_t)(p - s), SW_PROMTEXT_MAX_LABEL_VALUE);
    *pp = p + 1;
    if (!escaped) {
        l->value = s;
        l->value_len = (size_t)(p - s);
        return SW_OK;
    }
    return unescape_value(P, s, p, l);
}

static sw_status
check_label_name(pt_parser *P, const sw_prom_label *ls, size_t n, const char *at)
{
    const sw_prom_label *l = &ls[n];
    if (l->name_len > SW_PROMTEXT_MAX_NAME)
        return pt_fail(P, at, SW_E_TOOBIG, "label name of %zu bytes, over the cap of %d",
                       l->name_len, SW_PROMTEXT_MAX_NAME);
    if (l->name_len == 8 && memcmp(l->name, "__name__", 8) == 0)
        return pt_fail(P, at, SW_E_PARSE, "label name __name__ is reserved");
    for (size_t i = 0; i < n; i++)
        if (ls[i].name_len == l->name_len && memcmp(ls[i].name, l->name, l->name_len) == 0)
            return pt_fail(P, at, SW_E_PARSE, "duplicate label name '%.*s'", (int)l->name_len,
                           l->name);
    return SW_OK;
}

/* Labels from *pp (just after '{') to the closing brace, into ls; *ret_n labels. */
static sw_status
parse_labels(pt_parser *P, const char **pp, const char *e, sw_prom_label *ls, size_t *ret_n)
{
    const char *p = *pp;
    size_t n = 0;
    for (;;) {
        if (!P->om)
            p = skip_blanks(p, e);
        if (p < e && *p == '}' && (!P->om || n == 0))
            break;
        const char *ne = scan_name(p, e, C_LABEL_FIRST, C_LABEL);
        if (ne == p)
            return pt_fail(P, p, SW_E_PARSE, n ? "expected a label name after ','"
                                               : "expected a label name or '}'");
        if (n == SW_PROMTEXT_MAX_LABELS)
            return pt_fail(P, p, SW_E_TOOBIG, "more than %d labels", SW_PROMTEXT_MAX_LABELS);
        ls[n].name = p;
        ls[n].name_len = (size_t)(ne - p);
        sw_status st = check_label_name(P, ls, n, p);
        if (st != SW_OK)
            return st;
        p = P->om ? ne : skip_blanks(ne, e);
        if (p >= e || *p != '=')
            return pt_fail(P, p, SW_E_PARSE, "expected '=' after label name");
        p = P->om ? p + 1 : skip_blanks(p + 1, e);
        if (p >= e || *p != '"')
            return pt_fail(P, p, SW_E_PARSE, "expected '\"' to open the label value");
        if ((st = parse_label_value(P, &p, e, &ls[n])) != SW_OK)
            return st;
        n++;
        if (!P->om)
            p = skip_blanks(p, e);
        if (p < e && *p == ',') {
            p++;
            continue;
        }
        if (p < e && *p == '}')
            break;
        return pt_fail(P, p, SW_E_PARSE, "expected ',' or '}' after a label value");
    }
    *pp = p + 1;
    *ret_n = n;
    return SW_OK;
}

/* ---- the text format's per-name rules ---- */

static bool
name_is(const char *n, size_t nlen, const char *fam, size_t flen, pt_suffix sfx)
{
    size_t slen = strlen(pt_suffix_text[sfx]);
    return nlen == flen + slen && memcmp(n, fam, flen) == 0 &&
           memcmp(n + flen, pt_suffix_text[sfx], slen) == 0;
}

/* Whether sample name n belongs to family fam of text-format type t. */
static bool
text_in_family(const char *n, size_t nlen, const char *fam, size_t flen, sw_prom_type t)
{
    if (nlen == flen)
        return memcmp(n, fam, flen) == 0 && t != SW_PROM_HISTOGRAM;
    if (t != SW_PROM_HISTOGRAM && t != SW_PROM_SUMMARY)
        return false;
    return name_is(n, nlen, fam, flen, PT_SFX_COUNT) || name_is(n, nlen, fam, flen, PT_SFX_SUM) ||
           (t == SW_PROM_HISTOGRAM && name_is(n, nlen, fam, flen, PT_SFX_BUCKET));
}

/* The family of a text sample whose name is not in the cached family: a typed histogram or
 * summary it is a part of, else the name itself. Marks the family as having samples. */
static sw_status
text_resolve(pt_parser *P, const char *n, size_t nlen)
{
    static const pt_suffix parts[] = {PT_SFX_BUCKET, PT_SFX_COUNT, PT_SFX_SUM};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        size_t slen = strlen(pt_suffix_text[parts[i]]);
        if (nlen <= slen || memcmp(n + nlen - slen, pt_suffix_text[parts[i]], slen) != 0)
            continue;
        pt_family_entry *f = pt_names_find(&P->names, n, nlen - slen);
        if (f && text_in_family(n, nlen, n, nlen - slen, f->type)) {
            f->flags |= PT_F_SAMPLES;
            P->cur = n, P->cur_len = nlen - slen, P->cur_type = f->type;
            return SW_OK;
        }
    }
    pt_family_entry *f = pt_names_get(P, n, nlen, n);
    if (!f)
        return P->err ? P->err->code : SW_E_NOMEM;
    f->flags |= PT_F_SAMPLES;
    P->cur = n, P->cur_len = nlen;
    P->cur_type = (f->flags & PT_F_TYPE) ? f->type : SW_PROM_UNKNOWN;
    return SW_OK;
}

static const sw_prom_label *
find_label(const sw_prom_sample *s, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < s->n_labels; i++)
        if (s->labels[i].name_len == n && memcmp(s->labels[i].name, name, n) == 0)
            return &s->labels[i];
    return NULL;
}

/* expfmt's checks on histogram `le` and summary `quantile` labels. */
static sw_status
text_check_parts(pt_parser *P, const sw_prom_sample *s, const char *at)
{
    const char *key = NULL;
    if (s->type == SW_PROM_HISTOGRAM && name_is(s->name, s->name_len, P->cur, P->cur_len,
                                                 PT_SFX_BUCKET))
        key = "le";
    else if (s->type == SW_PROM_SUMMARY && s->name_len == P->cur_len)
        key = "quantile";
    if (!key)
        return SW_OK;
    const sw_prom_label *l = find_label(s, key);
    double v;
    if (!l)
        return pt_fail(P, at, SW_E_PARSE, "%s sample without a '%s' label",
                       s->type == SW_PROM_HISTOGRAM ? "histogram bucket" : "summary quantile",
                       key);
    if (!parse_text_value(l->value, l->value + l->value_len, &v))
        return pt_fail(P, at, SW_E_PARSE, "'%s' label value '%.*s' is not a number", key,
                       (int)(l->value_len > 40 ? 40 : l->value_len), l->value);
    return SW_OK;
}

static sw_status
text_sample(pt_parser *P, sw_prom_sample *s, const char *at)
{
    if (!P->cur || !text_in_family(s->name, s->name_len, P->cur, P->cur_len, P->cur_type)) {
        sw_status st = text_resolve(P, s->name, s->name_len);
        if (st != SW_OK)
            return st;
    }
    s->type = P->cur_type;
    if (s->type == SW_PROM_HISTOGRAM || s->type == SW_PROM_SUMMARY)
        return text_check_parts(P, s, at);
    return SW_OK;
}

/* ---- sample lines ---- */

/* OpenMetrics exemplar: from p (just past the space before '#') to the end of the line. */
static sw_status
parse_exemplar(pt_parser *P, const char *p, const char *e, pt_om_extra *x)
{
    if (e - p < 3 || p[0] != '#' || p[1] != ' ' || p[2] != '{')
        return pt_fail(P, p, SW_E_PARSE, "expected '# {' to start an exemplar");
    p += 2;
    const char *open = p++;
    sw_status st = parse_labels(P, &p, e, P->ex_labels, &x->n_ex_labels);
    if (st != SW_OK)
        return st;
    size_t points = 0;
    for (size_t i = 0; i < x->n_ex_labels; i++) {
        const sw_prom_label *l = &P->ex_labels[i];
        for (size_t j = 0; j < l->name_len; j++)
            points += ((uint8_t)l->name[j] & 0xC0) != 0x80;
        for (size_t j = 0; j < l->value_len; j++)
            points += ((uint8_t)l->value[j] & 0xC0) != 0x80;
    }
    if (points > 128)
        return pt_fail(P, open, SW_E_PARSE,
                       "exemplar labels are %zu code points long, over the limit of 128", points);
    if ((st = expect_sep(P, &p, e, "the exemplar value")) != SW_OK)
        return st;
    const char *v = p;
    while (p < e && *p != ' ')
        p++;
    double val;
    if (!pt_parse_om_number(v, p, false, &val))
        return pt_fail(P, v, SW_E_PARSE, "exemplar value '%.*s' is not a number",
                       (int)(p - v > 40 ? 40 : p - v), v);
    if (p < e) {
        if ((st = expect_sep(P, &p, e, "the exemplar timestamp")) != SW_OK)
            return st;
        const char *t = p;
        while (p < e && *p != ' ')
            p++;
        if (!pt_parse_om_number(t, p, true, &val))
            return pt_fail(P, t, SW_E_PARSE, "exemplar timestamp '%.*s' is not a number",
                           (int)(p - t > 40 ? 40 : p - t), t);
        if (p < e)
            return pt_fail(P, p, SW_E_PARSE, "unexpected text after the exemplar timestamp");
    }
    x->has_exemplar = true;
    return SW_OK;
}

/* Value, optional timestamp, optional exemplar (OpenMetrics), from p to e. */
static sw_status
parse_value_ts(pt_parser *P, const char *p, const char *e, sw_prom_sample *s, pt_om_extra *x)
{
    const char *v = p;
    while (p < e && !is_blank(*p))
        p++;
    x->value_at = v;
    bool ok = P->om ? pt_parse_om_number(v, p, false, &s->value) : parse_text_value(v, p, &s->value);
    if (!ok)
        return pt_fail(P, v, SW_E_PARSE, v == p ? "expected a value" : "value '%.*s' is not a number",
                       (int)(p - v > 40 ? 40 : p - v), v);
    if ((P->om ? p : skip_blanks(p, e)) == e)
        return SW_OK;
    sw_status st = expect_sep(P, &p, e, "the timestamp");
    if (st != SW_OK)
        return st;
    if (P->om && p < e && *p == '#')
        return parse_exemplar(P, p, e, x);
    const char *t = p;
    while (p < e && !is_blank(*p))
        p++;
    x->ts_at = t;
    if (P->om) {
        if (!pt_parse_om_number(t, p, true, &x->ts_s))
            return pt_fail(P, t, SW_E_PARSE, "timestamp '%.*s' is not a number",
                           (int)(p - t > 40 ? 40 : p - t), t);
        s->timestamp_ms = seconds_to_ms(x->ts_s);
    } else if (!parse_int64(t, p, &s->timestamp_ms)) {
        return pt_fail(P, t, SW_E_PARSE, "timestamp '%.*s' is not an integer (milliseconds)",
                       (int)(p - t > 40 ? 40 : p - t), t);
    }
    s->has_timestamp = true;
    if ((P->om ? p : skip_blanks(p, e)) == e)
        return SW_OK;
    if (!P->om)
        return pt_fail(P, skip_blanks(p, e), SW_E_PARSE, "unexpected text after the timestamp");
    if ((st = expect_sep(P, &p, e, "the exemplar")) != SW_OK)
        return st;
    return parse_exemplar(P, p, e, x);
}

static sw_status
parse_sample(pt_parser *P, const char *p, const char *e)
{
    const char *ne = scan_name(p, e, C_NAME_FIRST, C_NAME);
    if (ne == p)
        return pt_fail(P, p, SW_E_PARSE, "expected a metric name");
    if (ne - p > SW_PROMTEXT_MAX_NAME)
        return pt_fail(P, p, SW_E_TOOBIG, "metric name of %zu bytes, over the cap of %d",
                       (size_t)(ne - p), SW_PROMTEXT_MAX_NAME);
    sw_prom_sample s = {.name = p, .name_len = (size_t)(ne - p), .labels = P->labels};
    pt_om_extra x = {0};
    P->scratch.len = 0;
    p = P->om ? ne : skip_blanks(ne, e);
    sw_status st;
    if (p < e && *p == '{') {
        p++;
        if ((st = parse_labels(P, &p, e, P->labels, &s.n_labels)) != SW_OK)
            return st;
        if (!P->om)
            p = skip_blanks(p, e);
        else if ((st = expect_sep(P, &p, e, "the value")) != SW_OK)
            return st;
    } else if (p == ne && p < e && !is_blank(*p)) {
        return pt_fail(P, p, SW_E_PARSE, "invalid character in metric name");
    } else if (P->om && (st = expect_sep(P, &p, e, "the value")) != SW_OK) {
        return st;
    }
    if ((st = parse_value_ts(P, p, e, &s, &x)) != SW_OK)
        return st;
    st = P->om ? pt_om_sample(P, &s, &x) : text_sample(P, &s, s.name);
    if (st != SW_OK)
        return st;
    return P->sink->sample(P->sink->ctx, &s, P->err);
}

/* ---- metadata ---- */

static sw_status
text_help_escapes(pt_parser *P, const char *p, const char *e)
{
    for (; p < e; p++)
        if (*p == '\\') {
            if (p + 1 >= e || !is_escape_ok(P, p[1], true))
                return pt_fail(P, p, SW_E_PARSE, "invalid escape sequence in HELP text");
            p++;
        }
    return SW_OK;
}

static sw_status
text_type(const char *s, const char *e, bool om, sw_prom_type *ret)
{
    static const struct {
        const char *word;
        sw_prom_type type;
        bool text, om;
    } types[] = {
        {"counter", SW_PROM_COUNTER, true, true},   {"gauge", SW_PROM_GAUGE, true, true},
        {"histogram", SW_PROM_HISTOGRAM, true, true}, {"summary", SW_PROM_SUMMARY, true, true},
        {"untyped", SW_PROM_UNKNOWN, true, false},  {"unknown", SW_PROM_UNKNOWN, false, true},
        {"gaugehistogram", SW_PROM_GAUGEHISTOGRAM, false, true},
        {"info", SW_PROM_INFO, false, true},        {"stateset", SW_PROM_STATESET, false, true},
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if ((om ? types[i].om : types[i].text) && word_is(s, e, types[i].word, false)) {
            *ret = types[i].type;
            return SW_OK;
        }
    return SW_E_PARSE;
}

/* `# HELP name text` or `# TYPE name type` in the text format (p: just after the keyword). */
static sw_status
text_metadata(pt_parser *P, bool help, const char *p, const char *e)
{
    p = skip_blanks(p, e);
    if (p == e)
        return SW_OK; /* "# HELP" alone is a comment, as in expfmt */
    const char *n = p, *ne = scan_name(p, e, C_NAME_FIRST, C_NAME);
    if (ne == n || (ne < e && !is_blank(*ne)))
        return pt_fail(P, ne == n ? n : ne, SW_E_PARSE, "invalid metric name in %s line",
                       help ? "HELP" : "TYPE");
    if (ne == e)
        return SW_OK; /* a name and nothing after it: still a comment for expfmt */
    p = skip_blanks(ne, e);
    sw_prom_type type = SW_PROM_UNKNOWN;
    if (help) {
        sw_status st = text_help_escapes(P, p, e);
        if (st != SW_OK)
            return st;
    } else {
        const char *te = e;
        while (te > p && is_blank(te[-1]))
            te--;
        if (text_type(p, te, false, &type) != SW_OK)
            return pt_fail(P, p, SW_E_PARSE, "unknown metric type '%.*s'",
                           (int)(te - p > 40 ? 40 : te - p), p);
    }
    pt_family_entry *f = pt_names_get(P, n, (size_t)(ne - n), n);
    if (!f)
        return P->err ? P->err->code : SW_E_NOMEM;
    uint8_t bit = help ? PT_F_HELP : PT_F_TYPE;
    if (f->flags & bit)
        return pt_fail(P, n, SW_E_PARSE, "second %s line for metric name '%.*s'",
                       help ? "HELP" : "TYPE", (int)(ne - n), n);
    if (!help && (f->flags & PT_F_SAMPLES))
        return pt_fail(P, n, SW_E_PARSE, "TYPE line for '%.*s' after its samples",
                       (int)(ne - n), n);
    f->flags |= bit;
    f->type = (uint8_t)type;
    P->cur = NULL; /* a TYPE may change what the cached family means */
    return SW_OK;
}

static sw_status
text_comment(pt_parser *P, const char *p, const char *e)
{
    p = skip_blanks(p + 1, e);
    const char *w = p;
    while (p < e && !is_blank(*p))
        p++;
    bool help = word_is(w, p, "HELP", false);
    if (!help && !word_is(w, p, "TYPE", false))
        return SW_OK;
    return text_metadata(P, help, p, e);
}

/* OpenMetrics `# KEYWORD name arg`: exactly one space between the parts. */
static sw_status
om_comment(pt_parser *P, const char *p, const char *e)
{
    if (word_is(p, e, "# EOF", false))
        return SW_OK;
    if (e - p < 2 || p[1] != ' ')
        return pt_fail(P, p, SW_E_PARSE, "expected '# HELP', '# TYPE', '# UNIT' or '# EOF'");
    const char *w = p + 2, *we = w;
    while (we < e && *we != ' ')
        we++;
    if (!word_is(w, we, "HELP", false) && !word_is(w, we, "TYPE", false) &&
        !word_is(w, we, "UNIT", false))
        return pt_fail(P, w, SW_E_PARSE, "expected HELP, TYPE, UNIT or EOF after '# '");
    if (we == e)
        return pt_fail(P, we, SW_E_PARSE, "expected a space and a metric name");
    const char *n = we + 1, *ne = scan_name(n, e, C_NAME_FIRST, C_NAME);
    if (ne == n)
        return pt_fail(P, n, SW_E_PARSE, "expected a metric name");
    if (ne == e || *ne != ' ')
        return pt_fail(P, ne, SW_E_PARSE, "expected a space after the metric name");
    if (ne - n > SW_PROMTEXT_MAX_NAME)
        return pt_fail(P, n, SW_E_TOOBIG, "metric name of %zu bytes, over the cap of %d",
                       (size_t)(ne - n), SW_PROMTEXT_MAX_NAME);
    return pt_om_metadata(P, w, n, (size_t)(ne - n), ne + 1, (size_t)(e - ne - 1));
}

sw_status
pt_om_parse_type(const char *s, const char *e, sw_prom_type *ret)
{
    return text_type(s, e, true, ret);
}

/* ---- lines ---- */

static sw_status
parse_line(pt_parser *P, const char *p, const char *e)
{
    if (P->om) {
        if (p == e)
            return pt_fail(P, p, SW_E_PARSE, "empty line");
        if (*p == '#')
            return om_comment(P, p, e);
        return parse_sample(P, p, e);
    }
    p = skip_blanks(p, e);
    if (p == e)
        return SW_OK;
    if (*p == '#')
        return text_comment(P, p, e);
    return parse_sample(P, p, e);
}

static bool
len_ends_line(const pt_parser *P)
{
    return P->end == P->buf || P->end[-1] == '\n';
}

static sw_status
parse_all(pt_parser *P)
{
    const char *p = P->buf;
    while (p < P->end) {
        const char *nl = memchr(p, '\n', (size_t)(P->end - p));
        const char *e = nl ? nl : P->end;
        P->line = p;
        P->lineno++;
        if ((size_t)(e - p) > SW_PROMTEXT_MAX_LINE)
            return pt_fail(P, p, SW_E_TOOBIG, "line of %zu bytes, over the cap of %zu",
                           (size_t)(e - p), SW_PROMTEXT_MAX_LINE);
        if (P->om && word_is(p, e, "# EOF", false)) {
            if (nl && nl + 1 < P->end) {
                P->lineno++, P->line = nl + 1;
                return pt_fail(P, nl + 1, SW_E_PARSE, "text after '# EOF'");
            }
            return pt_om_eof(P, p);
        }
        P->eol = e;
        sw_status st = parse_line(P, p, e);
        if (st != SW_OK)
            return st;
        if (!nl && !P->om && skip_blanks(p, e) < e)
            return pt_fail(P, e, SW_E_PARSE, "expected a line feed at the end of the input");
        p = nl ? nl + 1 : P->end;
    }
    if (P->om) {
        if (len_ends_line(P))
            P->lineno++, P->line = P->end;
        return pt_fail(P, P->end, SW_E_PARSE, "missing '# EOF' at the end of the input");
    }
    return SW_OK;
}

sw_status
sw_promtext_parse(const char *buf, size_t len, sw_promtext_format fmt, const sw_prom_sink *sink,
                  sw_promtext_pos *where, sw_err *err)
{
    SW_REQUIRE(buf || len == 0);
    SW_REQUIRE(sink && sink->sample);
    pt_parser *P = malloc(sizeof *P);
    if (!P)
        return sw_err_set(err, SW_E_NOMEM, "out of memory for the exposition parser");
    memset(P, 0, offsetof(pt_parser, labels));
    P->buf = buf ? buf : "";
    P->end = P->buf + len;
    P->line = P->buf;
    P->om = fmt == SW_PROMTEXT_OPENMETRICS;
    P->sink = sink;
    P->err = err;
    P->where = where;
    P->cur = NULL;
    sw_buf_init(&P->scratch, SW_PROMTEXT_MAX_LINE + 1);
    pt_names_init(&P->names);
    pt_om_init(&P->omstate);
    sw_status st = parse_all(P);
    pt_om_fini(&P->omstate);
    pt_names_fini(&P->names);
    sw_buf_fini(&P->scratch);
    free(P);
    return st;
}
