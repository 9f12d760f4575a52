/*
 * Prometheus series selectors (see selector.h). One cursor walks the text once; label values
 * are unescaped into one scratch buffer, owned by the call, so regexes can be compiled with
 * regcomp. Validation keeps nothing; compilation also collects the matchers it passes.
 */
#include "slawatch/selector.h"

#include <regex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * PromQL compiles regexes with RE2, which refuses a count above 1000, nested counts whose
 * product exceeds 1000, a repetition of a repetition (`x++`) and one of nothing (`(*x)`);
 * the scan below refuses the same and works out whether the regex matches "" from its
 * structure. glibc's regcomp then checks the rest of the syntax (brackets, classes, groups)
 * on a copy without the repetition operators: its epsilon closures explode on nested loops
 * and optionals (`((x*)+)+`, `(x?y?)?...` take minutes on a few hundred bytes), and dropping
 * the operators changes no other syntax.
 */
#define RE2_MAX_REPEAT 1000
#define REGEX_MAX_LEN 4096 /* bytes in one regex */
#define REGEX_MAX_DEPTH 32 /* nested groups: glibc's parser recurses on them */

typedef struct cursor {
    const char *s;
    size_t len, i;
    size_t err_at;  /* offset of the problem, on failure */
    char *scratch;  /* an unescaped value at scratch + 2, room for "^(" value ")$" NUL */
    char *rewrite;  /* the same size: the copy handed to regcomp */
    bool has_name;  /* a metric name before the braces */
    bool non_empty; /* some matcher does not match the empty string */
    sw_selector *out; /* compiling: where the matchers go; NULL when only validating */
} cursor;

static sw_status fail(cursor *c, size_t at, sw_err *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static sw_status
fail(cursor *c, size_t at, sw_err *err, const char *fmt, ...)
{
    char msg[SW_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->err_at = at;
    return sw_err_set(err, SW_E_PARSE, "%s", msg);
}

static bool
is_blank(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

static void
skip_blanks(cursor *c)
{
    while (c->i < c->len && is_blank(c->s[c->i]))
        c->i++;
}

static bool
is_name_char(char ch, bool first, bool colon)
{
    bool alpha = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_';
    return alpha || (colon && ch == ':') || (!first && ch >= '0' && ch <= '9');
}

/* Length of the name at the cursor (0 when there is none); the cursor moves past it. */
static size_t
scan_name(cursor *c, bool colon)
{
    size_t start = c->i;
    while (c->i < c->len && is_name_char(c->s[c->i], c->i == start, colon))
        c->i++;
    return c->i - start;
}

/* The character at the cursor for messages, or "the end". */
static const char *
shown_char(const cursor *c, char buf[8])
{
    if (c->i >= c->len)
        return "the end";
    unsigned char ch = (unsigned char)c->s[c->i];
    if (ch >= 0x20 && ch < 0x7f && ch != '\'')
        snprintf(buf, 8, "'%c'", ch);
    else
        snprintf(buf, 8, "\\x%02x", ch);
    return buf;
}

static int
hex_value(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Append code point cp as UTF-8 at out; returns the bytes written. */
static size_t
put_utf8(char *out, uint32_t cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Digits of a numeric escape (\ooo \xhh \uhhhh \Uhhhhhhhh) after the cursor's backslash. */
static sw_status
numeric_escape(cursor *c, size_t at, size_t digits, int base, uint32_t max, char *out, size_t *n,
               sw_err *err)
{
    uint32_t v = 0;
    for (size_t k = 0; k < digits; k++, c->i++) {
        int d = c->i < c->len ? hex_value(c->s[c->i]) : -1;
        if (d < 0 || d >= base)
            return fail(c, at, err, "expected %zu %s digits in the escape sequence", digits,
                        base == 8 ? "octal" : "hexadecimal");
        v = v * (uint32_t)base + (uint32_t)d;
    }
    if (v > max || (v >= 0xd800 && v <= 0xdfff && max > 0xff))
        return fail(c, at, err, "escape sequence is not a valid %s",
                    max > 0xff ? "Unicode code point" : "byte");
    if (max > 0xff)
        *n += put_utf8(out + *n, v);
    else
        out[(*n)++] = (char)v;
    return SW_OK;
}

/* One escape sequence; the cursor is on the backslash. Go's escapes, as PromQL takes them. */
static sw_status
escape(cursor *c, char quote, char *out, size_t *n, sw_err *err)
{
    static const char simple_in[] = "abfnrtv\\", simple_out[] = "\a\b\f\n\r\t\v\\";
    size_t at = c->i;
    c->i++;
    if (c->i >= c->len)
        return fail(c, at, err, "expected an escape sequence after '\\'");
    char ch = c->s[c->i++];
    const char *simple = ch != '\0' ? strchr(simple_in, ch) : NULL;
    if (simple != NULL || ch == quote) {
        out[(*n)++] = simple != NULL ? simple_out[simple - simple_in] : quote;
        return SW_OK;
    }
    if (ch >= '0' && ch <= '7') {
        c->i--;
        return numeric_escape(c, at, 3, 8, 0xff, out, n, err);
    }
    if (ch == 'x')
        return numeric_escape(c, at, 2, 16, 0xff, out, n, err);
    if (ch == 'u')
        return numeric_escape(c, at, 4, 16, 0x10ffff, out, n, err);
    if (ch == 'U')
        return numeric_escape(c, at, 8, 16, 0x10ffff, out, n, err);
    char buf[8];
    c->i--;
    return fail(c, at, err, "unknown escape sequence '\\' followed by %s", shown_char(c, buf));
}

/* A quoted label value into scratch + 2; *ret_len is its unescaped length. */
static sw_status
quoted_string(cursor *c, size_t *ret_len, sw_err *err)
{
    size_t start = c->i;
    char quote = c->i < c->len ? c->s[c->i] : '\0';
    char buf[8];
    if (quote != '"' && quote != '\'' && quote != '`')
        return fail(c, c->i, err, "expected a quoted string (\"...\", '...' or `...`), found %s",
                    shown_char(c, buf));
    char *out = c->scratch + 2;
    size_t n = 0;
    for (c->i++; c->i < c->len && c->s[c->i] != quote;) {
        char ch = c->s[c->i];
        if (quote != '`' && ch == '\n')
            break;
        if (quote != '`' && ch == '\\') {
            sw_status st = escape(c, quote, out, &n, err);
            if (st != SW_OK)
                return st;
            continue;
        }
        out[n++] = ch;
        c->i++;
    }
    if (c->i >= c->len || c->s[c->i] != quote)
        return fail(c, start, err, "unterminated quoted string");
    c->i++;
    *ret_len = n;
    return SW_OK;
}

/* Skip a bracket expression starting at re[i] == '['; returns the index after it. */
static size_t
skip_bracket(const char *re, size_t len, size_t i)
{
    i++;
    if (i < len && re[i] == '^')
        i++;
    if (i < len && re[i] == ']')
        i++;
    while (i < len && re[i] != ']') {
        if (re[i] == '[' && i + 1 < len && strchr(":.=", re[i + 1]) != NULL) {
            const char *close = memchr(re + i + 2, ']', len - i - 2);
            i = close != NULL ? (size_t)(close - re) : len;
        }
        i++;
    }
    return i < len ? i + 1 : len;
}

/* Digits at re[j] (*ret_n capped past RE2_MAX_REPEAT); returns the index after them. */
static size_t
count_at(const char *re, size_t len, size_t j, uint64_t *ret_n)
{
    uint64_t n = 0;
    for (; j < len && re[j] >= '0' && re[j] <= '9'; j++)
        n = n > RE2_MAX_REPEAT ? n : n * 10 + (uint64_t)(re[j] - '0');
    *ret_n = n;
    return j;
}

/* A count `{n}`, `{n,m}`, `{n,}` (or glibc's `{,m}`) at re[i]; false for a literal brace. */
typedef struct rx_count {
    size_t end;
    uint64_t lo, hi;
    bool has_lo, comma, has_hi;
} rx_count;

static bool
parse_count(const char *re, size_t len, size_t i, rx_count *ret)
{
    rx_count c = {0};
    size_t j = count_at(re, len, i + 1, &c.lo);
    c.has_lo = j > i + 1;
    c.comma = j < len && re[j] == ',';
    if (c.comma) {
        size_t k = count_at(re, len, j + 1, &c.hi);
        c.has_hi = k > j + 1;
        j = k;
    }
    if ((!c.has_lo && !c.comma) || j >= len || re[j] != '}')
        return false;
    c.end = j + 1;
    *ret = c;
    return true;
}

typedef enum rx_after {
    AFTER_NOTHING, /* the start, `(` or `|`: nothing to repeat */
    AFTER_ATOM,
    AFTER_REPEAT,
    AFTER_LAZY, /* RE2's lazy marker, the `?` of `x*?`: it matches what `x*` matches */
} rx_after;

/*
 * Per open group (level 0 holds the ^( )$ wrapper): the largest product of nested counts in
 * it and that of the atom before the cursor; whether an alternative already closed matches
 * "", whether the sequence before the last atom does, and whether the last atom does.
 */
typedef struct rx_scan {
    char *out; /* the copy for regcomp */
    size_t n, d;
    rx_after after;
    uint64_t max_prod[REGEX_MAX_DEPTH + 2], last_prod[REGEX_MAX_DEPTH + 2];
    bool alt_empty[REGEX_MAX_DEPTH + 2], seq_empty[REGEX_MAX_DEPTH + 2];
    bool last_empty[REGEX_MAX_DEPTH + 2];
} rx_scan;

static void
rx_emit(rx_scan *k, const char *s, size_t n)
{
    memcpy(k->out + k->n, s, n);
    k->n += n;
}

static void
rx_level(rx_scan *k, size_t d)
{
    k->max_prod[d] = k->last_prod[d] = 1;
    k->alt_empty[d] = false;
    k->seq_empty[d] = k->last_empty[d] = true; /* an empty sequence matches "" */
}

/* The next atom of the sequence; empty says whether it matches "". */
static void
rx_next(rx_scan *k, bool empty, uint64_t prod)
{
    size_t d = k->d;
    k->seq_empty[d] = k->seq_empty[d] && k->last_empty[d];
    k->last_empty[d] = empty;
    k->last_prod[d] = prod;
    k->after = AFTER_ATOM;
}

/* A repetition by up to count; optional says whether it lets the atom be absent. */
static const char *
rx_repeat(rx_scan *k, bool question, bool optional, uint64_t count)
{
    size_t d = k->d;
    if (k->after == AFTER_NOTHING)
        return "expected something to repeat before the repetition operator, as in PromQL";
    if (k->after == AFTER_LAZY || (k->after == AFTER_REPEAT && !question))
        return "expected no repetition of a repetition (such as '++'), as in PromQL";
    k->after = k->after == AFTER_REPEAT ? AFTER_LAZY : AFTER_REPEAT;
    if (k->after == AFTER_LAZY)
        return NULL;
    k->last_empty[d] = k->last_empty[d] || optional;
    k->last_prod[d] *= count;
    if (k->last_prod[d] > RE2_MAX_REPEAT)
        return "expected nested repetition counts whose product is at most 1000, as in PromQL";
    k->max_prod[d] = k->last_prod[d] > k->max_prod[d] ? k->last_prod[d] : k->max_prod[d];
    return NULL;
}

static const char *
rx_count_repeat(rx_scan *k, const rx_count *c)
{
    if ((c->has_lo && c->lo > RE2_MAX_REPEAT) || (c->has_hi && c->hi > RE2_MAX_REPEAT))
        return "expected repetition counts of at most 1000, as in PromQL";
    if (c->has_hi && c->hi < c->lo)
        return "expected a repetition {n,m} with n <= m";
    uint64_t most = c->has_hi ? c->hi : c->lo;
    return rx_repeat(k, false, c->lo == 0, most > 0 ? most : 1);
}

/* `(`, `|` or a closing `)`. */
static const char *
rx_group(rx_scan *k, char ch)
{
    size_t d = k->d;
    rx_emit(k, &ch, 1);
    if (ch == '(') {
        if (d == REGEX_MAX_DEPTH + 1)
            return "expected groups nested at most 32 deep";
        rx_level(k, ++k->d);
        k->after = AFTER_NOTHING;
        return NULL;
    }
    bool alt_empty = k->alt_empty[d] || (k->seq_empty[d] && k->last_empty[d]);
    if (ch == '|') {
        uint64_t max = k->max_prod[d];
        rx_level(k, d);
        k->max_prod[d] = max;
        k->alt_empty[d] = alt_empty;
        k->after = AFTER_NOTHING;
        return NULL;
    }
    k->d--;
    if (k->max_prod[d] > k->max_prod[d - 1])
        k->max_prod[d - 1] = k->max_prod[d];
    rx_next(k, alt_empty, k->max_prod[d]);
    return NULL;
}

/* Zero-width escapes match "" except at a word boundary (there is none in ""). */
static bool
escape_matches_empty(char ch)
{
    return ch != '\0' && strchr("B`'", ch) != NULL;
}

/* One step at re[i]; returns the index after it, with *why set on a refusal. */
static size_t
rx_step(rx_scan *k, const char *re, size_t len, size_t i, const char **why)
{
    char ch = re[i];
    rx_count c;
    if (ch == '{' && parse_count(re, len, i, &c)) {
        *why = rx_count_repeat(k, &c);
        return c.end;
    }
    if (ch == '*' || ch == '+' || ch == '?') {
        *why = rx_repeat(k, ch == '?', ch != '+', 1);
        return i + 1;
    }
    if (ch == '(' || ch == '|' || (ch == ')' && k->d > 0)) {
        *why = rx_group(k, ch);
        return i + 1;
    }
    size_t end = ch == '[' ? skip_bracket(re, len, i) : i + (ch == '\\' ? 2 : 1);
    end = end < len ? end : len;
    rx_emit(k, re + i, end - i);
    bool empty =
        ch == '^' || ch == '$' || (ch == '\\' && end == i + 2 && escape_matches_empty(re[i + 1]));
    rx_next(k, empty, 1);
    return end;
}

/*
 * Check re (already wrapped in ^( )$) against RE2's limits, write the copy for regcomp and
 * set *ret_empty to whether re matches "".
 */
static const char *
rx_rewrite(rx_scan *k, const char *re, size_t len, bool *ret_empty)
{
    rx_level(k, 0);
    k->after = AFTER_NOTHING;
    for (size_t i = 0; i < len;) {
        const char *why = NULL;
        i = rx_step(k, re, len, i, &why);
        if (why != NULL)
            return why;
    }
    k->out[k->n] = '\0';
    *ret_empty = k->alt_empty[0] || (k->seq_empty[0] && k->last_empty[0]);
    return NULL;
}

/* RE2 syntax that POSIX regcomp rejects or, worse, reads differently. */
static const char *
re2_only(const char *re, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++) {
        if (re[i] == '(' && re[i + 1] == '?')
            return "'(?' flags and non-capturing groups are RE2 syntax; POSIX regexes have "
                   "neither";
        if (re[i] == '\\' && (re[i + 1] == 'd' || re[i + 1] == 'D'))
            return "'\\d' is RE2 syntax; use [0-9] in a POSIX regex";
        if (re[i] == '\\' && re[i + 1] >= '1' && re[i + 1] <= '9')
            return "expected no backreference: PromQL's RE2 has none";
        if (re[i] == '\\')
            i++;
    }
    return NULL;
}

/* Check the value in scratch as the regex ^(re)$; *matches_empty says whether "" matches. */
static sw_status
check_regex(cursor *c, size_t at, size_t len, bool *matches_empty, sw_err *err)
{
    char *re = c->scratch + 2;
    if (memchr(re, '\0', len) != NULL)
        return fail(c, at, err, "a regex cannot contain a NUL character");
    if (len > REGEX_MAX_LEN)
        return fail(c, at, err, "expected a regex of at most %d bytes", REGEX_MAX_LEN);
    memcpy(c->scratch, "^(", 2);
    memcpy(re + len, ")$", 3);
    /* Scan the wrapped text: a stray ')' in re closes the "^(" around it, as in regcomp. */
    rx_scan k = {.out = c->rewrite};
    const char *why = re2_only(re, len);
    if (why == NULL)
        why = rx_rewrite(&k, c->scratch, len + 4, matches_empty);
    if (why != NULL)
        return fail(c, at, err, "%s", why);
    regex_t rx;
    int rc = regcomp(&rx, c->rewrite, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        char msg[128];
        regerror(rc, &rx, msg, sizeof msg);
        return fail(c, at, err, "expected a valid regex: %s", msg);
    }
    regfree(&rx);
    return SW_OK;
}

/* `=`, `!=`, `=~` or `!~` at the cursor: sets *regex and *negate, or returns false. */
static bool
matcher_op(cursor *c, bool *regex, bool *negate)
{
    char a = c->i < c->len ? c->s[c->i] : '\0';
    char b = c->i + 1 < c->len ? c->s[c->i + 1] : '\0';
    if (a != '=' && (a != '!' || (b != '=' && b != '~')))
        return false;
    *negate = a == '!';
    *regex = b == '~';
    c->i += a == '=' && b != '~' ? 1 : 2;
    return true;
}

/* Does `label op value` match the empty string? (PromQL's rule for name-less selectors.) */
static sw_status
matcher_value(cursor *c, bool regex, bool negate, bool *matches_empty, sw_err *err)
{
    size_t at = c->i, len = 0;
    sw_status st = quoted_string(c, &len, err);
    if (st != SW_OK)
        return st;
    bool hit = len == 0;
    if (regex && (st = check_regex(c, at, len, &hit, err)) != SW_OK)
        return st;
    *matches_empty = negate ? !hit : hit;
    return SW_OK;
}

/* Keep the matcher just checked, its value unescaped again from value_at into scratch + 2. */
static sw_status
collect(cursor *c, const char *label, size_t label_len, bool regex, bool negate, size_t value_at,
        sw_err *err)
{
    sw_selector *sel = c->out;
    sw_matcher *grown = realloc(sel->matchers, (sel->n_matchers + 1) * sizeof *grown);
    if (grown == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory compiling a selector");
    sel->matchers = grown;
    size_t end = c->i, len = 0;
    c->i = value_at;
    sw_status st = quoted_string(c, &len, err);
    c->i = end;
    if (st != SW_OK)
        return st;
    sw_matcher *m = &sel->matchers[sel->n_matchers];
    *m = (sw_matcher){.negate = negate, .regex = regex, .value_len = len};
    m->label = strndup(label, label_len);
    m->value = malloc(len + 5);
    if (m->label == NULL || m->value == NULL) {
        free(m->label);
        free(m->value);
        return sw_err_set(err, SW_E_NOMEM, "out of memory compiling a selector");
    }
    memcpy(m->value, c->scratch + 2, len);
    m->value[len] = '\0';
    if (regex) {
        memcpy(c->scratch, "^(", 2);
        memcpy(c->scratch + 2 + len, ")$", 3);
        if (regcomp(&m->re, c->scratch, REG_EXTENDED | REG_NOSUB) != 0) {
            st = sw_err_set(err, SW_E_PARSE, "regex of label '%s' does not compile", m->label);
            free(m->label);
            free(m->value);
            return st;
        }
    }
    sel->n_matchers++;
    return SW_OK;
}

/* One `label op value`; the cursor is on the label name. */
static sw_status
matcher(cursor *c, sw_err *err)
{
    size_t at = c->i;
    char buf[8];
    size_t n = scan_name(c, false);
    if (n == 0)
        return fail(c, c->i, err, "expected a label name or '}', found %s", shown_char(c, buf));
    bool is_name = n == 8 && memcmp(c->s + at, "__name__", 8) == 0;
    if (is_name && c->has_name)
        return fail(c, at, err, "expected the metric name once, not also as __name__");
    skip_blanks(c);
    bool regex, negate, matches_empty;
    if (!matcher_op(c, &regex, &negate))
        return fail(c, c->i, err,
                    "expected a matcher operator (=, !=, =~, !~) after '%.*s', "
                    "found %s",
                    (int)(n > 64 ? 64 : n), c->s + at, shown_char(c, buf));
    skip_blanks(c);
    size_t value_at = c->i;
    sw_status st = matcher_value(c, regex, negate, &matches_empty, err);
    if (st == SW_OK && !matches_empty)
        c->non_empty = true;
    if (st == SW_OK && c->out != NULL)
        st = collect(c, c->s + at, n, regex, negate, value_at, err);
    return st;
}

/* `{ matcher, ... }`; the cursor is on the '{'. */
static sw_status
matchers(cursor *c, sw_err *err)
{
    char buf[8];
    for (c->i++;;) {
        skip_blanks(c);
        if (c->i < c->len && c->s[c->i] == '}')
            break;
        sw_status st = matcher(c, err);
        if (st != SW_OK)
            return st;
        skip_blanks(c);
        if (c->i < c->len && c->s[c->i] == ',') {
            c->i++;
            continue;
        }
        if (c->i >= c->len || c->s[c->i] != '}')
            return fail(c, c->i, err, "expected ',' or '}' after a matcher, found %s",
                        shown_char(c, buf));
    }
    c->i++;
    return SW_OK;
}

static sw_status
selector(cursor *c, sw_err *err)
{
    char buf[8];
    skip_blanks(c);
    size_t name_at = c->i;
    c->has_name = scan_name(c, true) > 0;
    if (c->has_name && c->out != NULL) {
        c->out->name = strndup(c->s + name_at, c->i - name_at);
        if (c->out->name == NULL)
            return sw_err_set(err, SW_E_NOMEM, "out of memory compiling a selector");
    }
    skip_blanks(c);
    if (c->i < c->len && c->s[c->i] == '{') {
        sw_status st = matchers(c, err);
        if (st != SW_OK)
            return st;
        skip_blanks(c);
    } else if (!c->has_name) {
        return fail(c, c->i, err, "expected a metric name or '{', found %s", shown_char(c, buf));
    }
    if (c->i < c->len)
        return fail(c, c->i, err, "expected the end of the selector, found %s", shown_char(c, buf));
    if (!c->has_name && !c->non_empty)
        return fail(c, 0, err,
                    "expected a metric name or a matcher that does not match the "
                    "empty string");
    return SW_OK;
}

static sw_status
run(const char *text, size_t len, sw_selector *out, size_t *err_offset, sw_err *err)
{
    SW_REQUIRE(text != NULL || len == 0);
    if (len > SW_SELECTOR_MAX_LEN)
        return sw_err_set(err, SW_E_TOOBIG, "selector is %zu bytes, more than the limit of %u", len,
                          (unsigned)SW_SELECTOR_MAX_LEN);
    const char *nul = len > 0 ? memchr(text, '\0', len) : NULL;
    if (nul != NULL) {
        if (err_offset != NULL)
            *err_offset = (size_t)(nul - text);
        return sw_err_set(err, SW_E_PARSE, "expected text without NUL bytes");
    }
    cursor c = {.s = text, .len = len, .out = out};
    c.scratch = malloc(2 * (len + 8));
    c.rewrite = c.scratch != NULL ? c.scratch + len + 8 : NULL;
    if (c.scratch == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory checking a selector");
    sw_status st = selector(&c, err);
    free(c.scratch);
    if (st == SW_E_PARSE && err_offset != NULL)
        *err_offset = c.err_at;
    return st;
}

sw_status
sw_selector_validate(const char *text, size_t len, size_t *err_offset, sw_err *err)
{
    return run(text, len, NULL, err_offset, err);
}

sw_status
sw_selector_compile(const char *text, size_t len, sw_selector **ret, sw_err *err)
{
    sw_selector *sel = calloc(1, sizeof *sel);
    if (sel == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory compiling a selector");
    sw_status st = run(text, len, sel, NULL, err);
    if (st != SW_OK) {
        sw_selector_free(sel);
        return st;
    }
    *ret = sel;
    return SW_OK;
}

void
sw_selector_free(sw_selector *sel)
{
    if (sel == NULL)
        return;
    for (size_t i = 0; i < sel->n_matchers; i++) {
        if (sel->matchers[i].regex)
            regfree(&sel->matchers[i].re);
        free(sel->matchers[i].label);
        free(sel->matchers[i].value);
    }
    free(sel->matchers);
    free(sel->name);
    free(sel);
}

/* Does value[0..len) satisfy m? A regex needs a NUL-terminated copy: scratch holds it. */
static bool
matcher_holds(const sw_matcher *m, const char *value, size_t len, sw_buf *scratch)
{
    bool hit;
    if (!m->regex) {
        hit = len == m->value_len && memcmp(value, m->value, len) == 0;
    } else {
        sw_buf_reset(scratch);
        const char *s = sw_buf_append(scratch, value, len, NULL) == SW_OK
                            ? sw_buf_cstr(scratch, NULL)
                            : NULL;
        /* A value too big for the scratch cannot be tested: it matches nothing. */
        if (s == NULL || strlen(s) != len)
            return false;
        hit = regexec(&m->re, s, 0, NULL, 0) == 0;
    }
    return m->negate ? !hit : hit;
}

bool
sw_selector_matches(const sw_selector *sel, const char *name, size_t name_len,
                    sw_selector_label_fn lookup, const void *ctx, sw_buf *scratch)
{
    for (size_t i = 0; i < sel->n_matchers; i++) {
        const sw_matcher *m = &sel->matchers[i];
        const char *value = "";
        size_t len = 0;
        if (strcmp(m->label, "__name__") == 0) {
            value = name;
            len = name_len;
        } else {
            lookup(ctx, m->label, &value, &len);
        }
        if (!matcher_holds(m, value, len, scratch))
            return false;
    }
    return true;
}
