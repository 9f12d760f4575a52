/*
 * INI parsing for the AWS shared files. The parser copies the text once and cuts it in place;
 * entries point into that copy or, for sub-property keys, into the file's arena. Single pass,
 * memory bounded by the input size cap.
 */
#include "slawatch/awscreds_file.h"

#include <stdbool.h>
#include <stdint.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slawatch/arena.h"

typedef struct entry {
    const char *section, *key, *value;
} entry;

struct sw_awscreds_file {
    char *text;
    size_t text_len;
    entry *entries;
    size_t n, cap;
    const char **sections;
    size_t n_sections, cap_sections;
    sw_arena arena;
};

/* Parsing state: where we are and the key indented lines attach to. */
typedef struct parser {
    sw_awscreds_file *f;
    const char *name;
    size_t line_no;
    const char *section;
    size_t parent; /* index of the last top-level key of the section; SIZE_MAX: none */
} parser;

static char *
trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

static void
lowercase(char *s)
{
    for (; *s != '\0'; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

static sw_status
grow(void **items, size_t *cap, size_t n, size_t size, sw_err *err)
{
    if (n < *cap)
        return SW_OK;
    size_t new_cap = *cap ? *cap * 2 : 16;
    void *p = realloc(*items, new_cap * size);
    if (p == NULL)
        return sw_err_set(err, SW_E_NOMEM, "cannot grow a credentials file's entries");
    *items = p;
    *cap = new_cap;
    return SW_OK;
}

static sw_status
add_entry(parser *p, const char *key, const char *value, sw_err *err)
{
    sw_awscreds_file *f = p->f;
    sw_status st = grow((void **)&f->entries, &f->cap, f->n, sizeof(entry), err);
    if (st != SW_OK)
        return st;
    f->entries[f->n++] = (entry){p->section, key, value};
    return SW_OK;
}

static sw_status
parse_section(parser *p, char *line, sw_err *err)
{
    char *close = strrchr(line, ']');
    if (close == NULL || close[1] != '\0')
        return sw_err_set(err, SW_E_PARSE, "%s:%zu: section header without a closing ']'",
                          p->name, p->line_no);
    *close = '\0';
    char *name = trim(line + 1);
    if (name[0] == '\0')
        return sw_err_set(err, SW_E_PARSE, "%s:%zu: empty section name", p->name, p->line_no);
    sw_awscreds_file *f = p->f;
    sw_status st = grow((void **)&f->sections, &f->cap_sections, f->n_sections,
                        sizeof(const char *), err);
    if (st != SW_OK)
        return st;
    f->sections[f->n_sections++] = name;
    p->section = name;
    p->parent = SIZE_MAX;
    return SW_OK;
}

/* "key = value" or "key: value", split at the first delimiter as Python's configparser does. */
static sw_status
split_key_value(parser *p, char *line, char **ret_key, char **ret_value, sw_err *err)
{
    size_t at = strcspn(line, "=:");
    if (line[at] == '\0')
        return sw_err_set(err, SW_E_PARSE, "%s:%zu: expected `key = value`", p->name, p->line_no);
    line[at] = '\0';
    char *key = trim(line);
    if (key[0] == '\0')
        return sw_err_set(err, SW_E_PARSE, "%s:%zu: empty key", p->name, p->line_no);
    lowercase(key);
    *ret_key = key;
    *ret_value = trim(line + at + 1);
    return SW_OK;
}

/* An indented `k = v` under a key with an empty value becomes "parent.k". */
static sw_status
parse_sub_property(parser *p, char *line, sw_err *err)
{
    if (p->parent == SIZE_MAX || p->f->entries[p->parent].value[0] != '\0')
        return sw_err_set(err, SW_E_PARSE,
                          "%s:%zu: indented line outside a sub-section (continued values are "
                          "not supported)",
                          p->name, p->line_no);
    char *key, *value;
    sw_status st = split_key_value(p, line, &key, &value, err);
    if (st != SW_OK)
        return st;
    const char *parent_key = p->f->entries[p->parent].key;
    size_t n = strlen(parent_key) + 1 + strlen(key) + 1;
    char *full = sw_arena_alloc(&p->f->arena, n, 1);
    if (full == NULL)
        return sw_err_set(err, SW_E_NOMEM, "%s:%zu: out of memory", p->name, p->line_no);
    snprintf(full, n, "%s.%s", parent_key, key);
    return add_entry(p, full, value, err);
}

static sw_status
parse_key_value(parser *p, char *line, sw_err *err)
{
    if (p->section == NULL)
        return sw_err_set(err, SW_E_PARSE, "%s:%zu: key outside any [section]", p->name,
                          p->line_no);
    char *key, *value;
    sw_status st = split_key_value(p, line, &key, &value, err);
    if (st != SW_OK)
        return st;
    p->parent = p->f->n;
    return add_entry(p, key, value, err);
}

static sw_status
parse_line(parser *p, char *line, sw_err *err)
{
    bool indented = line[0] == ' ' || line[0] == '\t';
    char *t = trim(line);
    if (t[0] == '\0' || t[0] == '#' || t[0] == ';')
        return SW_OK;
    if (indented && p->section != NULL)
        return parse_sub_property(p, t, err);
    if (t[0] == '[')
        return parse_section(p, t, err);
    return parse_key_value(p, t, err);
}

static sw_status
parse_all(sw_awscreds_file *f, const char *name, sw_err *err)
{
    parser p = {.f = f, .name = name, .parent = SIZE_MAX};
    char *next = f->text;
    sw_status st = SW_OK;
    while (st == SW_OK && next != NULL) {
        char *line = next;
        next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        p.line_no++;
        st = parse_line(&p, line, err);
    }
    return st;
}

sw_status
sw_awscreds_file_parse(const char *text, size_t len, const char *name,
                       sw_awscreds_file **ret_file, sw_err *err)
{
    if (len > SW_AWSCREDS_FILE_MAX_BYTES)
        return sw_err_set(err, SW_E_TOOBIG, "%s: larger than %zu bytes", name,
                          SW_AWSCREDS_FILE_MAX_BYTES);
    const char *nul = memchr(text, '\0', len);
    if (nul != NULL) {
        size_t line = 1;
        for (const char *c = text; c < nul; c++)
            line += *c == '\n';
        return sw_err_set(err, SW_E_PARSE, "%s:%zu: NUL byte", name, line);
    }
    sw_awscreds_file *f = calloc(1, sizeof *f);
    char *copy = malloc(len + 1);
    if (f == NULL || copy == NULL) {
        free(f);
        free(copy);
        return sw_err_set(err, SW_E_NOMEM, "%s: cannot allocate %zu bytes", name, len);
    }
    if (len > 0)
        memcpy(copy, text, len);
    copy[len] = '\0';
    f->text = copy;
    f->text_len = len;
    sw_arena_init(&f->arena);
    sw_status st = parse_all(f, name, err);
    if (st != SW_OK) {
        sw_awscreds_file_free(f);
        return st;
    }
    *ret_file = f;
    return SW_OK;
}

sw_status
sw_awscreds_file_load(const char *path, sw_awscreds_file **ret_file, sw_err *err)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return sw_err_sys(err, SW_E_IO, "%s", path);
    char *data = malloc(SW_AWSCREDS_FILE_MAX_BYTES + 1);
    size_t n = data != NULL ? fread(data, 1, SW_AWSCREDS_FILE_MAX_BYTES + 1, fp) : 0;
    bool failed = data != NULL && ferror(fp);
    fclose(fp);
    sw_status st;
    if (data == NULL)
        st = sw_err_set(err, SW_E_NOMEM, "%s: cannot allocate a read buffer", path);
    else if (failed)
        st = sw_err_set(err, SW_E_IO, "%s: read error", path);
    else
        st = sw_awscreds_file_parse(data, n, path, ret_file, err);
    if (data != NULL)
        OPENSSL_cleanse(data, n);
    free(data);
    return st;
}

void
sw_awscreds_file_free(sw_awscreds_file *f)
{
    if (f == NULL)
        return;
    OPENSSL_cleanse(f->text, f->text_len);
    free(f->text);
    free(f->entries);
    free(f->sections);
    sw_arena_fini(&f->arena);
    free(f);
}

const char *
sw_awscreds_file_get(const sw_awscreds_file *f, const char *section, const char *key)
{
    for (size_t i = f->n; i > 0; i--) {
        const entry *e = &f->entries[i - 1];
        if (strcmp(e->section, section) == 0 && strcmp(e->key, key) == 0)
            return e->value;
    }
    return NULL;
}

bool
sw_awscreds_file_has_section(const sw_awscreds_file *f, const char *section)
{
    for (size_t i = 0; i < f->n_sections; i++)
        if (strcmp(f->sections[i], section) == 0)
            return true;
    return false;
}

size_t
sw_awscreds_file_count(const sw_awscreds_file *f)
{
    return f->n;
}
