/*
 * Label sets and relabelling. Regexes are wrapped as ^(...)$ for POSIX regcomp, which has no
 * non-capturing group, so the user's group N is match N + 1 of regexec. Compiled rules are read
 * only after sw_relabel_new; regexec on a shared regex_t is thread-safe.
 */
#include "slawatch/relabel.h"

#include <regex.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "slawatch/buf.h"

#define MAX_GROUPS 32  /* regexec slots: the wrapper group and 31 of the user's */
#define MAX_VALUE 4096 /* bytes of a joined or expanded value */

typedef struct compiled_rule {
    sw_relabel_action action;
    char **source_labels;
    size_t n_source_labels;
    char *separator, *target_label, *replacement;
    regex_t re;
    bool re_ok;
} compiled_rule;

struct sw_relabel {
    compiled_rule *rules;
    size_t n;
};

/* ------------------------------------------------------------------ label sets */

static size_t
find(const sw_labelset *ls, const char *name, bool *found)
{
    size_t lo = 0, hi = ls->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(ls->l[mid].name, name);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

sw_status
sw_relabel_set(sw_labelset *ls, const char *name, const char *value, sw_err *err)
{
    bool found;
    size_t at = find(ls, name, &found);
    char *v = strdup(value);
    if (v == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory setting label %s", name);
    if (found) {
        free(ls->l[at].value);
        ls->l[at].value = v;
        return SW_OK;
    }
    char *k = strdup(name);
    if (k == NULL || (ls->n == ls->cap && !(ls->cap = ls->cap ? ls->cap * 2 : 8))) {
        free(k);
        free(v);
        return sw_err_set(err, SW_E_NOMEM, "out of memory setting label %s", name);
    }
    sw_relabel_label *grown = realloc(ls->l, ls->cap * sizeof *grown);
    if (grown == NULL) {
        free(k);
        free(v);
        return sw_err_set(err, SW_E_NOMEM, "out of memory setting label %s", name);
    }
    ls->l = grown;
    memmove(&ls->l[at + 1], &ls->l[at], (ls->n - at) * sizeof ls->l[0]);
    ls->l[at] = (sw_relabel_label){k, v};
    ls->n++;
    return SW_OK;
}

const char *
sw_relabel_get(const sw_labelset *ls, const char *name)
{
    bool found;
    size_t at = find(ls, name, &found);
    return found ? ls->l[at].value : NULL;
}

static void
remove_at(sw_labelset *ls, size_t at)
{
    free(ls->l[at].name);
    free(ls->l[at].value);
    memmove(&ls->l[at], &ls->l[at + 1], (ls->n - at - 1) * sizeof ls->l[0]);
    ls->n--;
}

void
sw_relabel_del(sw_labelset *ls, const char *name)
{
    bool found;
    size_t at = find(ls, name, &found);
    if (found)
        remove_at(ls, at);
}

sw_status
sw_relabel_copy(sw_labelset *dst, const sw_labelset *src, sw_err *err)
{
    sw_relabel_clear(dst);
    for (size_t i = 0; i < src->n; i++) {
        sw_status st = sw_relabel_set(dst, src->l[i].name, src->l[i].value, err);
        if (st != SW_OK)
            return st;
    }
    return SW_OK;
}

void
sw_relabel_clear(sw_labelset *ls)
{
    for (size_t i = 0; i < ls->n; i++) {
        free(ls->l[i].name);
        free(ls->l[i].value);
    }
    free(ls->l);
    *ls = (sw_labelset){0};
}

/* ------------------------------------------------------------------ compiling */

static void
rule_fini(compiled_rule *c)
{
    for (size_t i = 0; i < c->n_source_labels; i++)
        free(c->source_labels[i]);
    free(c->source_labels);
    free(c->separator);
    free(c->target_label);
    free(c->replacement);
    if (c->re_ok)
        regfree(&c->re);
}

static char *
dup_or(const char *s, const char *dflt, bool *nomem)
{
    char *d = strdup(s != NULL ? s : dflt);
    *nomem |= d == NULL;
    return d;
}

static sw_status
compile_regex(compiled_rule *c, const char *regex, size_t index, sw_err *err)
{
    size_t n = strlen(regex) + 5;
    char *wrapped = malloc(n);
    if (wrapped == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory compiling relabel rule %zu", index);
    snprintf(wrapped, n, "^(%s)$", regex);
    int rc = regcomp(&c->re, wrapped, REG_EXTENDED);
    free(wrapped);
    if (rc != 0) {
        char why[128];
        regerror(rc, &c->re, why, sizeof why);
        return sw_err_set(err, SW_E_PARSE, "relabel rule %zu: bad regex %.80s: %s", index, regex,
                          why);
    }
    c->re_ok = true;
    return SW_OK;
}

static sw_status
compile_rule(compiled_rule *c, const sw_relabel_rule *r, size_t index, sw_err *err)
{
    bool nomem = false;
    c->action = r->action;
    if (r->action == SW_RELABEL_REPLACE && r->target_label == NULL)
        return sw_err_set(err, SW_E_INVAL, "relabel rule %zu: replace needs target_label", index);
    c->source_labels = calloc(r->n_source_labels ? r->n_source_labels : 1, sizeof(char *));
    nomem |= c->source_labels == NULL;
    for (size_t i = 0; !nomem && i < r->n_source_labels; i++, c->n_source_labels++)
        c->source_labels[i] = dup_or(r->source_labels[i], "", &nomem);
    c->separator = dup_or(r->separator, ";", &nomem);
    c->target_label = dup_or(r->target_label, "", &nomem);
    c->replacement = dup_or(r->replacement, "$1", &nomem);
    if (nomem)
        return sw_err_set(err, SW_E_NOMEM, "out of memory compiling relabel rule %zu", index);
    return compile_regex(c, r->regex != NULL ? r->regex : "(.*)", index, err);
}

sw_status
sw_relabel_new(const sw_relabel_rule *rules, size_t n, sw_relabel **ret, sw_err *err)
{
    sw_relabel *r = calloc(1, sizeof *r);
    if (r == NULL || (r->rules = calloc(n ? n : 1, sizeof *r->rules)) == NULL) {
        free(r);
        return sw_err_set(err, SW_E_NOMEM, "out of memory compiling %zu relabel rules", n);
    }
    for (size_t i = 0; i < n; i++) {
        r->n = i + 1;
        sw_status st = compile_rule(&r->rules[i], &rules[i], i, err);
        if (st != SW_OK) {
            sw_relabel_free(r);
            return st;
        }
    }
    *ret = r;
    return SW_OK;
}

void
sw_relabel_free(sw_relabel *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->n; i++)
        rule_fini(&r->rules[i]);
    free(r->rules);
    free(r);
}

/* ------------------------------------------------------------------ applying */

/* The source labels' values joined with the separator (missing labels are empty). */
static sw_status
join_sources(const compiled_rule *c, const sw_labelset *ls, sw_buf *out, sw_err *err)
{
    sw_buf_reset(out);
    sw_status st = SW_OK;
    for (size_t i = 0; i < c->n_source_labels && st == SW_OK; i++) {
        const char *v = sw_relabel_get(ls, c->source_labels[i]);
        if (i > 0)
            st = sw_buf_append(out, c->separator, strlen(c->separator), err);
        if (st == SW_OK && v != NULL)
            st = sw_buf_append(out, v, strlen(v), err);
    }
    if (st != SW_OK)
        return st;
    return sw_buf_cstr(out, err) != NULL ? SW_OK : SW_E_NOMEM;
}

/* Length of the $name after a '$' at tmpl (Go: the longest run of letters, digits, '_'). */
static size_t
name_len(const char *s)
{
    size_t n = 0;
    while ((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
           (s[n] >= '0' && s[n] <= '9') || s[n] == '_')
        n++;
    return n;
}

/* The user's group named by name[0..n): a number; named groups do not exist in POSIX. */
static sw_status
append_group(sw_buf *out, const char *name, size_t n, const char *subject, const regmatch_t *m,
             sw_err *err)
{
    size_t group = 0;
    for (size_t i = 0; i < n; i++) {
        if (name[i] < '0' || name[i] > '9' || group > MAX_GROUPS)
            return SW_OK; /* not a group number: expands to nothing, as in Go */
        group = group * 10 + (size_t)(name[i] - '0');
    }
    if (group + 1 >= MAX_GROUPS || m[group + 1].rm_so < 0)
        return SW_OK;
    return sw_buf_append(out, subject + m[group + 1].rm_so,
                         (size_t)(m[group + 1].rm_eo - m[group + 1].rm_so), err);
}

/* Go's Regexp.Expand: $$ is a dollar, $N and ${N} the Nth group; anything else is literal. */
static sw_status
expand(const char *tmpl, const char *subject, const regmatch_t *m, sw_buf *out, sw_err *err)
{
    sw_buf_reset(out);
    sw_status st = SW_OK;
    for (const char *p = tmpl; *p != '\0' && st == SW_OK;) {
        const char *dollar = strchr(p, '$');
        size_t lit = dollar != NULL ? (size_t)(dollar - p) : strlen(p);
        if ((st = sw_buf_append(out, p, lit, err)) != SW_OK || dollar == NULL)
            break;
        p = dollar + 1;
        if (*p == '$') {
            st = sw_buf_append(out, "$", 1, err);
            p++;
        } else if (*p == '{' && strchr(p, '}') != NULL && name_len(p + 1) == strcspn(p + 1, "}")) {
            size_t n = name_len(p + 1);
            st = n > 0 ? append_group(out, p + 1, n, subject, m, err) : sw_buf_append(out, "${", 2, err);
            p += n + 2;
        } else if (name_len(p) > 0) {
            st = append_group(out, p, name_len(p), subject, m, err);
            p += name_len(p);
        } else {
            st = sw_buf_append(out, "$", 1, err);
        }
    }
    if (st != SW_OK)
        return st;
    return sw_buf_cstr(out, err) != NULL ? SW_OK : SW_E_NOMEM;
}

static sw_status
apply_replace(const compiled_rule *c, sw_labelset *ls, const char *subject, const regmatch_t *m,
              sw_err *err)
{
    sw_buf target, value;
    sw_buf_init(&target, MAX_VALUE);
    sw_buf_init(&value, MAX_VALUE);
    sw_status st = expand(c->target_label, subject, m, &target, err);
    if (st == SW_OK)
        st = expand(c->replacement, subject, m, &value, err);
    if (st == SW_OK && target.len > 0) {
        if (value.len == 0)
            sw_relabel_del(ls, (const char *)target.data);
        else
            st = sw_relabel_set(ls, (const char *)target.data, (const char *)value.data, err);
    }
    sw_buf_fini(&target);
    sw_buf_fini(&value);
    /* A value past the cap is skipped, as Prometheus skips an invalid target label. */
    return st == SW_E_TOOBIG ? SW_OK : st;
}

/* labeldrop / labelkeep: remove the labels whose names match (drop) or do not (keep). */
static void
filter_names(const compiled_rule *c, sw_labelset *ls)
{
    bool drop_matching = c->action == SW_RELABEL_LABELDROP;
    for (size_t i = ls->n; i-- > 0;) {
        bool match = regexec(&c->re, ls->l[i].name, 0, NULL, 0) == 0;
        if (match == drop_matching)
            remove_at(ls, i);
    }
}

static sw_status
apply_rule(const compiled_rule *c, sw_labelset *ls, sw_buf *joined, bool *keep, sw_err *err)
{
    if (c->action == SW_RELABEL_LABELDROP || c->action == SW_RELABEL_LABELKEEP) {
        filter_names(c, ls);
        return SW_OK;
    }
    sw_status st = join_sources(c, ls, joined, err);
    if (st != SW_OK)
        return st == SW_E_TOOBIG ? SW_OK : st;
    const char *subject = (const char *)joined->data;
    regmatch_t m[MAX_GROUPS];
    bool match = regexec(&c->re, subject, MAX_GROUPS, m, 0) == 0;
    if (c->action == SW_RELABEL_KEEP || c->action == SW_RELABEL_DROP) {
        *keep = match == (c->action == SW_RELABEL_KEEP);
        return SW_OK;
    }
    return match ? apply_replace(c, ls, subject, m, err) : SW_OK;
}

sw_status
sw_relabel_apply(const sw_relabel *r, sw_labelset *ls, bool *ret_keep, sw_err *err)
{
    sw_buf joined;
    sw_buf_init(&joined, MAX_VALUE);
    bool keep = true;
    sw_status st = SW_OK;
    for (size_t i = 0; i < r->n && keep && st == SW_OK; i++)
        st = apply_rule(&r->rules[i], ls, &joined, &keep, err);
    sw_buf_fini(&joined);
    if (st == SW_OK)
        *ret_keep = keep;
    return st;
}
