/*
 * Several rules files loaded as one rule set (rules/README.md, "Many files"): every file is
 * read and parsed first, the settings (base_interval, min_requests) agreed across the files
 * that set them, then each file compiled against them; its services join one list, each
 * defined in exactly one file, and profiles are shared by all. Any error anywhere: no rule
 * set. Also the expansion of the daemon's `rules_files` patterns.
 */
#include "rules_int.h"

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One file of the load: its text (columns are found in it) and its parsed document. */
typedef struct file {
    const char *name;
    const char *text;
    size_t len;
    sw_yaml_doc *doc;
    sw_rules *top;
    bool openslo; /* compiled with the set's other OpenSLO files */
} file;

typedef struct setting {
    const char *key;
    sw_rules_pos at; /* where it was first set; line 0: not set */
    int64_t value;
} setting;

/* A setting set in two files must agree: the second place is named with the first. */
static void
agree(sw_rules_loader *ld, setting *s, const sw_yaml_node *node, int64_t value)
{
    sw_rules_pos here = sw_rules_pos_of(ld, node);
    if (s->at.line == 0) {
        s->at = here;
        s->value = value;
    } else if (value != s->value) {
        sw_rules_error(ld, node,
                       "%s differs from the one set at %s:%u:%u: the rules files must agree on it "
                       "(or set it in one place)",
                       s->key, s->at.file, s->at.line, s->at.col);
    }
}

/* The settings each file gives, read quietly: compiling the file reports their errors. */
static void
read_settings(sw_rules_loader *ld, const sw_yaml_node *root, setting *base, setting *min)
{
    if (root->kind != SW_YAML_MAPPING)
        return;
    sw_rules_loader quiet = *ld;
    quiet.diag = NULL;
    sw_rules r;
    sw_rules_set_defaults(&r);
    quiet.n_errors = 0;
    const sw_yaml_node *b = sw_yaml_get(root, "base_interval");
    const sw_yaml_node *m = sw_yaml_get(root, "min_requests");
    if (!b && !m)
        return;
    sw_rules_compile_settings(&quiet, root, &r);
    if (quiet.nomem)
        ld->nomem = true;
    if (quiet.n_errors > 0)
        return; /* compiling the file says what is wrong */
    if (b != NULL)
        agree(ld, base, b, r.base_interval_ms);
    if (m != NULL)
        agree(ld, min, m, r.min_requests);
}

static void
use_file(sw_rules_loader *ld, file *f)
{
    ld->name = f->name;
    ld->text = f->text;
    ld->len = f->len;
    ld->cur_line = 0;
    ld->cur_off = 0;
}

static sw_status
parse_all(sw_rules_loader *ld, file *files, size_t n, sw_err *err)
{
    for (size_t i = 0; i < n; i++) {
        file *f = &files[i];
        use_file(ld, f);
        sw_err yaml_err = {0};
        sw_status st = sw_yaml_parse(f->text, f->len, f->name, &f->doc, &yaml_err);
        if (st == SW_E_NOMEM)
            return sw_err_set(err, st, "out of memory loading rules");
        if (st != SW_OK)
            sw_rules_yaml_error(ld, yaml_err.msg);
    }
    return SW_OK;
}

/* The document's root, or NULL: OpenSLO files may hold several documents, rules files one. */
static const sw_yaml_node *
root_of(sw_rules_loader *ld, const file *f, bool report)
{
    size_t n = f->doc != NULL ? sw_yaml_doc_count(f->doc) : 0;
    if (n == 0) {
        if (f->doc != NULL && report)
            sw_rules_error_pos(ld, (sw_rules_pos){f->name, 1, 1},
                               "expected a rules file, found an empty file");
        return NULL;
    }
    const sw_yaml_node *root = sw_yaml_doc_root(f->doc, 0);
    if (n > 1 && !sw_rules_is_openslo(root)) {
        if (report)
            sw_rules_error(ld, sw_yaml_doc_root(f->doc, 1),
                           "expected one document in a rules file, found %zu", n);
        return NULL;
    }
    return root;
}

/* The OpenSLO files of the set as one OpenSLO set (references resolve across them) into the
 * first one's top; each is compiled through a loader of its own (positions name its file),
 * sharing ld's arena and diagnostics, whose counts come back to ld. */
static void
compile_openslo_set(sw_rules_loader *ld, file *files, size_t n)
{
    size_t count = 0, first = SIZE_MAX;
    /* A file that did not parse may hold what the others refer to: its YAML error is enough. */
    for (size_t i = 0; i < n; i++)
        if (files[i].doc == NULL)
            return;
    for (size_t i = 0; i < n; i++)
        if (files[i].top != NULL && files[i].openslo) {
            count++;
            first = first == SIZE_MAX ? i : first;
        }
    if (count == 0)
        return;
    sw_rules_loader *lds = calloc(count, sizeof *lds);
    sw_rules_openslo_file *set = calloc(count, sizeof *set);
    if (lds == NULL || set == NULL) {
        ld->nomem = true;
    } else {
        for (size_t i = 0, k = 0; i < n; i++) {
            if (files[i].top == NULL || !files[i].openslo)
                continue;
            /* A diagnostics list each, so each file's lines come in its own line order. */
            sw_rules_diag *own = ld->diag != NULL ? sw_rules_diag_new() : NULL;
            if (ld->diag != NULL && own == NULL)
                ld->nomem = true;
            lds[k] = (sw_rules_loader){.arena = ld->arena, .diag = own};
            use_file(&lds[k], &files[i]);
            set[k] = (sw_rules_openslo_file){&lds[k], files[i].doc};
            k++;
        }
        sw_rules_openslo_compile_files(set, count, files[first].top);
        for (size_t k = 0; k < count; k++) {
            if (lds[k].n_errors > 0 && ld->n_errors == 0)
                memcpy(ld->first, lds[k].first, sizeof ld->first);
            ld->n_errors += lds[k].n_errors;
            ld->nomem = ld->nomem || lds[k].nomem;
            sw_rules_diag_sort_from(lds[k].diag, 0);
            if (lds[k].diag != NULL && !sw_rules_diag_move(ld->diag, lds[k].diag))
                ld->nomem = true;
            sw_rules_diag_free(lds[k].diag);
        }
    }
    free(lds);
    free(set);
}

static void
compile_all(sw_rules_loader *ld, file *files, size_t n, sw_rules_profiles *profiles)
{
    setting base = {"base_interval", {0}, 0}, min = {"min_requests", {0}, 0};
    for (size_t i = 0; i < n; i++) {
        use_file(ld, &files[i]);
        const sw_yaml_node *root = root_of(ld, &files[i], false);
        if (root != NULL)
            read_settings(ld, root, &base, &min);
    }
    for (size_t i = 0; i < n && !ld->nomem; i++) {
        size_t from = ld->diag != NULL ? sw_rules_diag_count(ld->diag) : 0;
        use_file(ld, &files[i]);
        const sw_yaml_node *root = root_of(ld, &files[i], true);
        sw_rules *r = files[i].top = sw_rules_alloc(ld, 1, sizeof *r);
        if (r == NULL)
            break;
        sw_rules_set_defaults(r);
        if (base.at.line != 0)
            r->base_interval_ms = base.value;
        if (min.at.line != 0)
            r->min_requests = r->gate.min_requests = min.value;
        files[i].openslo = root != NULL && sw_rules_is_openslo(root);
        if (root != NULL && !files[i].openslo)
            sw_rules_compile_file(ld, root, r, profiles);
        sw_rules_diag_sort_from(ld->diag, from);
    }
    compile_openslo_set(ld, files, n);
}

/* The services of every file in one list; file_of[i] says whose. */
static void
join_services(sw_rules_loader *ld, file *files, size_t n, sw_rules *all, size_t **ret_file_of)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += files[i].top->n_services;
    sw_service *s = sw_rules_alloc(ld, total, sizeof *s);
    size_t *file_of = sw_rules_alloc(ld, total, sizeof *file_of);
    if (s == NULL || file_of == NULL) {
        if (total == 0)
            sw_rules_error_pos(ld, (sw_rules_pos){files[0].name, 1, 1},
                               "expected at least one service in the rules files, found none");
        return;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < files[i].top->n_services; j++, k++) {
            s[k] = files[i].top->services[j];
            file_of[k] = i;
        }
    all->services = s;
    all->n_services = total;
    *ret_file_of = file_of;
}

static int
by_name(const void *a, const void *b)
{
    const sw_service *x = *(const sw_service *const *)a, *y = *(const sw_service *const *)b;
    int c = strcmp(x->name, y->name);
    return c != 0 ? c : (x > y) - (x < y);
}

/* A service defined twice, in one file or two: the second place is named with the first. */
static void
check_unique(sw_rules_loader *ld, const sw_rules *all)
{
    size_t n = all->n_services;
    const sw_service **order = sw_rules_alloc(ld, n, sizeof *order);
    if (order == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        order[i] = &all->services[i];
    qsort(order, n, sizeof *order, by_name);
    for (size_t i = 1; i < n; i++) {
        const sw_service *a = order[i - 1], *b = order[i];
        if (strcmp(a->name, b->name) == 0)
            sw_rules_error_pos(ld, b->pos,
                               "service '%s' is defined twice: here and at %s:%u:%u (each "
                               "service is defined in exactly one rules file)",
                               b->name, a->pos.file, a->pos.line, a->pos.col);
    }
}

static void
load_all(sw_rules_loader *ld, file *files, size_t n, sw_rules *all)
{
    sw_rules_profiles profiles = {0};
    size_t *file_of = NULL;
    compile_all(ld, files, n, &profiles);
    if (ld->n_errors > 0 || ld->nomem)
        return;
    join_services(ld, files, n, all, &file_of);
    if (ld->n_errors > 0 || ld->nomem || file_of == NULL)
        return;
    check_unique(ld, all);
    sw_rules_check_profiles(ld, &profiles);
    if (ld->n_errors > 0)
        return;
    const sw_rules **tops = sw_rules_alloc(ld, n, sizeof *tops);
    if (tops == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        tops[i] = files[i].top;
    sw_rules_resolve(ld, (sw_service *)(void *)all->services, all->n_services, tops, file_of,
                     &profiles);
    /* The whole set's own sections are the first file's; each service's are in its set. */
    const sw_rules *first = files[0].top;
    all->base_interval_ms = first->base_interval_ms;
    all->min_requests = first->min_requests;
    all->objectives = first->objectives;
    all->n_objectives = first->n_objectives;
    all->alerts = first->alerts;
    all->n_alerts = first->n_alerts;
    all->triggers = first->triggers;
    all->n_triggers = first->n_triggers;
    all->gate = first->gate;
}

/* Load pieces (name and text each) as one rule set into a new box. */
sw_status
sw_rules_load_pieces(const char *const *names, const char *const *texts, const size_t *lens,
                     size_t n, sw_rules **ret_rules, sw_rules_diag *diag, sw_err *err)
{
    sw_rules_box *box = calloc(1, sizeof *box);
    file *files = calloc(n, sizeof *files);
    if (box == NULL || files == NULL) {
        free(box);
        free(files);
        return sw_err_set(err, SW_E_NOMEM, "out of memory loading rules");
    }
    sw_arena_init(&box->arena);
    sw_rules_loader ld = {.arena = &box->arena, .diag = diag};
    sw_status st = SW_OK;
    for (size_t i = 0; i < n && st == SW_OK; i++) {
        files[i] = (file){.name = sw_rules_strdup(&ld, names[i], strlen(names[i])),
                          .text = texts[i],
                          .len = lens[i]};
        if (files[i].name == NULL)
            st = sw_err_set(err, SW_E_NOMEM, "out of memory loading rules");
    }
    if (st == SW_OK)
        st = parse_all(&ld, files, n, err);
    if (st == SW_OK) {
        load_all(&ld, files, n, &box->rules);
        st = sw_rules_summarise(&ld, SW_OK, err);
    }
    for (size_t i = 0; i < n; i++)
        sw_yaml_free(files[i].doc);
    free(files);
    if (st == SW_OK) {
        *ret_rules = &box->rules;
    } else {
        sw_arena_fini(&box->arena);
        free(box);
    }
    return st;
}

sw_status
sw_rules_load_files(const char *const *paths, size_t n, sw_rules **ret_rules, sw_rules_diag *diag,
                    sw_err *err)
{
    SW_REQUIRE(paths != NULL && n > 0 && ret_rules != NULL);
    sw_buf bundle;
    sw_buf_init(&bundle, SW_RULES_MAX_BUNDLE);
    sw_status st = sw_rules_bundle_files(paths, n, &bundle, err);
    if (st == SW_OK)
        st = sw_rules_load_mem((const char *)bundle.data, bundle.len, paths[0], ret_rules, diag,
                               err);
    sw_buf_fini(&bundle);
    return st;
}

/* ---- bundles: several files in one text -------------------------------------------------- */

#define BUNDLE_MAGIC "# slawatch rules bundle 1\n"
#define BUNDLE_FILE "# file "

sw_status
sw_rules_bundle_files(const char *const *paths, size_t n, sw_buf *out, sw_err *err)
{
    sw_buf one;
    sw_status st = sw_buf_append(out, BUNDLE_MAGIC, strlen(BUNDLE_MAGIC), err);
    for (size_t i = 0; i < n && st == SW_OK; i++) {
        sw_buf_init(&one, (size_t)SW_YAML_MAX_INPUT + 1);
        st = sw_rules_read_file(paths[i], &one, err);
        if (st == SW_OK && strchr(paths[i], '\n') != NULL)
            st = sw_err_set(err, SW_E_INVAL, "a rules file's name holds a line break");
        if (st == SW_OK)
            st = sw_buf_printf(out, err, BUNDLE_FILE "%zu %s\n", one.len, paths[i]);
        if (st == SW_OK)
            st = sw_buf_append(out, one.data, one.len, err);
        sw_buf_fini(&one);
    }
    return st;
}

bool
sw_rules_is_bundle(const char *text, size_t len)
{
    return len >= strlen(BUNDLE_MAGIC) && memcmp(text, BUNDLE_MAGIC, strlen(BUNDLE_MAGIC)) == 0;
}

/* One piece's header at *at: `# file LEN NAME`; the name is copied into name. */
static bool
next_piece(const char *text, size_t len, size_t *at, char *name, size_t cap, size_t *ret_len)
{
    size_t head = strlen(BUNDLE_FILE), i = *at;
    if (len - i < head || memcmp(text + i, BUNDLE_FILE, head) != 0)
        return false;
    i += head;
    size_t n = 0, digits = 0;
    while (i < len && text[i] >= '0' && text[i] <= '9' && digits++ < 9)
        n = n * 10 + (size_t)(text[i++] - '0');
    if (digits == 0 || i >= len || text[i++] != ' ')
        return false;
    const char *nl = memchr(text + i, '\n', len - i);
    if (nl == NULL || (size_t)(nl - (text + i)) >= cap || (size_t)(nl - (text + i)) == 0)
        return false;
    memcpy(name, text + i, (size_t)(nl - (text + i)));
    name[nl - (text + i)] = '\0';
    i = (size_t)(nl - text) + 1;
    if (n > len - i)
        return false;
    *ret_len = n;
    *at = i;
    return true;
}

/* A malformed bundle: one diagnostic line naming it, as a file's errors would. */
static sw_status
bundle_error(const char *name, size_t at, sw_rules_diag *diag, sw_err *err)
{
    sw_rules_loader ld = {.name = name, .diag = diag};
    sw_rules_error_pos(&ld, (sw_rules_pos){name, 0, 0},
                       "expected a rules bundle (a file's header, then its bytes) at byte %zu", at);
    return sw_rules_summarise(&ld, SW_OK, err);
}

sw_status
sw_rules_load_bundle(const char *text, size_t len, const char *name_of_all, sw_rules **ret_rules,
                     sw_rules_diag *diag, sw_err *err)
{
    enum { MAX_PIECES = 10000, NAME_MAX_LEN = 4096 };
    size_t at = strlen(BUNDLE_MAGIC), n = 0, cap = 0;
    char **names = NULL;
    const char **texts = NULL;
    size_t *lens = NULL;
    sw_status st = SW_OK;
    char name[NAME_MAX_LEN];
    while (at < len && st == SW_OK) {
        size_t piece;
        if (n == MAX_PIECES || !next_piece(text, len, &at, name, sizeof name, &piece)) {
            st = bundle_error(name_of_all, at, diag, err);
            break;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            char **nn = realloc(names, cap * sizeof *nn);
            names = nn != NULL ? nn : names;
            const char **tt = realloc(texts, cap * sizeof *tt);
            texts = tt != NULL ? tt : texts;
            size_t *ll = realloc(lens, cap * sizeof *ll);
            lens = ll != NULL ? ll : lens;
            if (nn == NULL || tt == NULL || ll == NULL) {
                st = sw_err_set(err, SW_E_NOMEM, "out of memory loading rules");
                break;
            }
        }
        names[n] = strdup(name);
        texts[n] = text + at;
        lens[n] = piece;
        if (names[n++] == NULL)
            st = sw_err_set(err, SW_E_NOMEM, "out of memory loading rules");
        at += piece;
    }
    if (st == SW_OK && n == 0)
        st = bundle_error(name_of_all, at, diag, err);
    if (st == SW_OK)
        st = sw_rules_load_pieces((const char *const *)names, texts, lens, n, ret_rules, diag, err);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    free(texts);
    free(lens);
    return st;
}

/* ---- rules_files patterns ----------------------------------------------------------------- */

void
sw_rules_paths_free(char **paths, size_t n)
{
    for (size_t i = 0; paths != NULL && i < n; i++)
        free(paths[i]);
    free(paths);
}

static bool
push_path(char ***paths, size_t *n, size_t *cap, const char *p)
{
    if (*n == *cap) {
        size_t c = *cap ? 2 * *cap : 16;
        char **grown = realloc(*paths, c * sizeof *grown);
        if (grown == NULL)
            return false;
        *paths = grown;
        *cap = c;
    }
    char *copy = strdup(p);
    if (copy == NULL)
        return false;
    (*paths)[(*n)++] = copy;
    return true;
}

static bool
is_pattern(const char *p)
{
    return strpbrk(p, "*?[") != NULL;
}

sw_status
sw_rules_expand_paths(const char *const *patterns, size_t n, char ***ret_paths, size_t *ret_n,
                      sw_err *err)
{
    char **paths = NULL;
    size_t got = 0, cap = 0;
    sw_status st = SW_OK;
    for (size_t i = 0; i < n && st == SW_OK; i++) {
        glob_t g = {0};
        /* glob sorts its matches (LC_COLLATE; the daemon runs in the C locale). */
        int rc = is_pattern(patterns[i]) ? glob(patterns[i], GLOB_ERR, NULL, &g) : -1;
        if (rc == GLOB_NOMATCH || (rc == 0 && g.gl_pathc == 0))
            st = sw_err_set(err, SW_E_IO, "rules_files: %s matches no file", patterns[i]);
        else if (rc > 0)
            st = sw_err_set(err, SW_E_IO, "rules_files: cannot read the files of %s", patterns[i]);
        for (size_t k = 0; rc == 0 && k < g.gl_pathc && st == SW_OK; k++)
            if (!push_path(&paths, &got, &cap, g.gl_pathv[k]))
                st = sw_err_set(err, SW_E_NOMEM, "out of memory expanding rules_files");
        if (rc < 0 && !push_path(&paths, &got, &cap, patterns[i]))
            st = sw_err_set(err, SW_E_NOMEM, "out of memory expanding rules_files");
        if (rc >= 0)
            globfree(&g);
    }
    for (size_t i = 0; st == SW_OK && i < got; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(paths[i], paths[j]) == 0) {
                st = sw_err_set(err, SW_E_IO, "rules_files: %s is named twice", paths[i]);
                break;
            }
    if (st != SW_OK) {
        sw_rules_paths_free(paths, got);
        return st;
    }
    *ret_paths = paths;
    *ret_n = got;
    return SW_OK;
}

sw_status
sw_rules_read_patterns(const char *const *patterns, size_t n, sw_buf *text, sw_err *err)
{
    char **paths = NULL;
    size_t n_paths = 0;
    sw_status st = sw_rules_expand_paths(patterns, n, &paths, &n_paths, err);
    /* A single file named as such keeps its own text (and the rules history its old form). */
    if (st == SW_OK && n_paths == 1 && strcmp(paths[0], patterns[0]) == 0)
        st = sw_rules_read_file(paths[0], text, err);
    else if (st == SW_OK)
        st = sw_rules_bundle_files((const char *const *)paths, n_paths, text, err);
    sw_rules_paths_free(paths, n_paths);
    return st;
}
