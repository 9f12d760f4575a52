/*
 * Target discovery: file_sd files through the one YAML loader (JSON is YAML), a watcher that
 * re-reads changed files, and the label pipeline that turns group entries into targets. Used
 * by the scrape thread only.
 */
#include "slawatch/targets.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "slawatch/arena.h"
#include "slawatch/buf.h"
#include "slawatch/yaml.h"

struct sw_targets_file {
    sw_arena arena;
    sw_target_group *groups;
    size_t n_groups;
};

/* ------------------------------------------------------------------ one file */

static sw_status
bad(const char *path, const sw_yaml_node *n, const char *what, sw_err *err)
{
    return sw_err_set(err, SW_E_PARSE, "%s:%u:%u: expected %s, found %s", path, n->line, n->col,
                      what, sw_yaml_kind_name(n));
}

static char *
arena_str(sw_arena *a, const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = sw_arena_alloc(a, n, 1);
    if (d != NULL)
        memcpy(d, s, n);
    return d;
}

static sw_status
load_targets(sw_targets_file *f, const char *path, const sw_yaml_node *v, sw_target_group *g,
             size_t *total, sw_err *err)
{
    if (v == NULL || v->kind != SW_YAML_SEQUENCE)
        return v == NULL ? sw_err_set(err, SW_E_PARSE, "%s: a group without targets", path)
                         : bad(path, v, "a list of host:port targets", err);
    if ((*total += v->n) > SW_TARGETS_MAX_PER_FILE)
        return sw_err_set(err, SW_E_TOOBIG, "%s: more than %d targets", path,
                          SW_TARGETS_MAX_PER_FILE);
    const char **ts = sw_arena_alloc(&f->arena, (v->n ? v->n : 1) * sizeof *ts, sizeof(void *));
    if (ts == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory reading %s", path);
    for (size_t i = 0; i < v->n; i++) {
        const sw_yaml_node *t = v->items[i];
        if (t->kind != SW_YAML_SCALAR || t->len == 0 || strlen(t->str) != t->len)
            return bad(path, t, "a host:port target", err);
        if ((ts[i] = arena_str(&f->arena, t->str)) == NULL)
            return sw_err_set(err, SW_E_NOMEM, "out of memory reading %s", path);
    }
    g->targets = ts;
    g->n_targets = v->n;
    return SW_OK;
}

static sw_status
load_labels(sw_targets_file *f, const char *path, const sw_yaml_node *v, sw_target_group *g,
            sw_err *err)
{
    if (v == NULL || sw_yaml_is_null(v))
        return SW_OK;
    if (v->kind != SW_YAML_MAPPING)
        return bad(path, v, "a mapping of labels", err);
    sw_targets_label *ls = sw_arena_alloc(&f->arena, (v->n ? v->n : 1) * sizeof *ls,
                                          sizeof(void *));
    if (ls == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory reading %s", path);
    for (size_t i = 0; i < v->n; i++) {
        const sw_yaml_node *k = v->pairs[i].key, *val = v->pairs[i].value;
        if (k->len == 0 || strlen(k->str) != k->len)
            return bad(path, k, "a label name", err);
        if (val->kind != SW_YAML_SCALAR || strlen(val->str) != val->len)
            return bad(path, val, "a label value (a string)", err);
        ls[i] = (sw_targets_label){arena_str(&f->arena, k->str), arena_str(&f->arena, val->str)};
        if (ls[i].name == NULL || ls[i].value == NULL)
            return sw_err_set(err, SW_E_NOMEM, "out of memory reading %s", path);
    }
    g->labels = ls;
    g->n_labels = v->n;
    return SW_OK;
}

static sw_status
load_groups(sw_targets_file *f, const char *path, const sw_yaml_node *root, sw_err *err)
{
    if (root->kind != SW_YAML_SEQUENCE)
        return bad(path, root, "a list of target groups", err);
    f->groups = sw_arena_alloc(&f->arena, (root->n ? root->n : 1) * sizeof *f->groups,
                               sizeof(void *));
    const char *file = arena_str(&f->arena, path);
    if (f->groups == NULL || file == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory reading %s", path);
    size_t total = 0;
    for (size_t i = 0; i < root->n; i++) {
        const sw_yaml_node *g = root->items[i];
        if (g->kind != SW_YAML_MAPPING)
            return bad(path, g, "a mapping with targets and labels", err);
        for (size_t k = 0; k < g->n; k++)
            if (strcmp(g->pairs[k].key->str, "targets") != 0 &&
                strcmp(g->pairs[k].key->str, "labels") != 0)
                return sw_err_set(err, SW_E_PARSE, "%s:%u:%u: unknown key %s in a target group",
                                  path, g->pairs[k].key->line, g->pairs[k].key->col,
                                  g->pairs[k].key->str);
        sw_target_group *out = &f->groups[i];
        out->file = file;
        sw_status st = load_targets(f, path, sw_yaml_get(g, "targets"), out, &total, err);
        if (st == SW_OK)
            st = load_labels(f, path, sw_yaml_get(g, "labels"), out, err);
        if (st != SW_OK)
            return st;
    }
    f->n_groups = root->n;
    return SW_OK;
}

sw_status
sw_targets_file_load(const char *path, sw_targets_file **ret, sw_err *err)
{
    sw_yaml_doc *doc;
    sw_status st = sw_yaml_parse_file(path, &doc, err);
    if (st != SW_OK)
        return st;
    sw_targets_file *f = calloc(1, sizeof *f);
    if (f == NULL) {
        sw_yaml_free(doc);
        return sw_err_set(err, SW_E_NOMEM, "out of memory reading %s", path);
    }
    sw_arena_init(&f->arena);
    if (sw_yaml_doc_count(doc) > 1)
        st = sw_err_set(err, SW_E_PARSE, "%s: expected one document", path);
    else if (sw_yaml_doc_count(doc) == 1 && !sw_yaml_is_null(sw_yaml_doc_root(doc, 0)))
        st = load_groups(f, path, sw_yaml_doc_root(doc, 0), err);
    sw_yaml_free(doc);
    if (st != SW_OK) {
        sw_targets_file_free(f);
        return st;
    }
    *ret = f;
    return SW_OK;
}

void
sw_targets_file_free(sw_targets_file *f)
{
    if (f == NULL)
        return;
    sw_arena_fini(&f->arena);
    free(f);
}

const sw_target_group *
sw_targets_file_groups(const sw_targets_file *f, size_t *ret_n)
{
    *ret_n = f->n_groups;
    return f->groups;
}

/* ------------------------------------------------------------------ watcher */

typedef struct watched {
    char *path;
    bool seen; /* stat succeeded once: dev..mtime are valid */
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    sw_targets_file *last_good;
} watched;

struct sw_targets_sd {
    watched *files;
    size_t n;
};

sw_status
sw_targets_sd_new(const char *const *paths, size_t n, sw_targets_sd **ret, sw_err *err)
{
    sw_targets_sd *sd = calloc(1, sizeof *sd);
    if (sd == NULL || (sd->files = calloc(n ? n : 1, sizeof *sd->files)) == NULL) {
        free(sd);
        return sw_err_set(err, SW_E_NOMEM, "out of memory watching %zu files", n);
    }
    for (; sd->n < n; sd->n++)
        if ((sd->files[sd->n].path = strdup(paths[sd->n])) == NULL) {
            sw_targets_sd_free(sd);
            return sw_err_set(err, SW_E_NOMEM, "out of memory watching %zu files", n);
        }
    *ret = sd;
    return SW_OK;
}

void
sw_targets_sd_free(sw_targets_sd *sd)
{
    if (sd == NULL)
        return;
    for (size_t i = 0; i < sd->n; i++) {
        free(sd->files[i].path);
        sw_targets_file_free(sd->files[i].last_good);
    }
    free(sd->files);
    free(sd);
}

static bool
same_file(const watched *w, const struct stat *st)
{
    return w->seen && w->dev == st->st_dev && w->ino == st->st_ino && w->size == st->st_size &&
           w->mtime.tv_sec == st->st_mtim.tv_sec && w->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

/* Re-read w if it changed; true when its groups were replaced. */
static bool
refresh_one(watched *w, sw_targets_warn_fn warn, void *ctx)
{
    struct stat st;
    sw_err err = {0};
    if (stat(w->path, &st) != 0) {
        sw_err_sys(&err, SW_E_IO, "file_sd %s: cannot stat; keeping its previous targets", w->path);
        warn(ctx, &err);
        return false;
    }
    if (same_file(w, &st))
        return false;
    /* Remembered before reading: a bad file is reported once, not every refresh. */
    w->seen = true;
    w->dev = st.st_dev;
    w->ino = st.st_ino;
    w->size = st.st_size;
    w->mtime = st.st_mtim;
    sw_targets_file *f;
    if (sw_targets_file_load(w->path, &f, &err) != SW_OK) {
        sw_err_prefix(&err, "file_sd: keeping the previous targets");
        warn(ctx, &err);
        return false;
    }
    sw_targets_file_free(w->last_good);
    w->last_good = f;
    return true;
}

void
sw_targets_sd_refresh(sw_targets_sd *sd, bool *ret_changed, sw_targets_warn_fn warn, void *ctx)
{
    bool changed = false;
    for (size_t i = 0; i < sd->n; i++)
        changed |= refresh_one(&sd->files[i], warn, ctx);
    *ret_changed = changed;
}

sw_status
sw_targets_sd_groups(const sw_targets_sd *sd, sw_target_group **ret, size_t *ret_n, sw_err *err)
{
    size_t total = 0, k = 0, n;
    for (size_t i = 0; i < sd->n; i++)
        if (sd->files[i].last_good != NULL)
            total += sd->files[i].last_good->n_groups;
    sw_target_group *gs = calloc(total ? total : 1, sizeof *gs);
    if (gs == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory listing %zu target groups", total);
    for (size_t i = 0; i < sd->n; i++) {
        if (sd->files[i].last_good == NULL)
            continue;
        const sw_target_group *g = sw_targets_file_groups(sd->files[i].last_good, &n);
        memcpy(&gs[k], g, n * sizeof *g);
        k += n;
    }
    *ret = gs;
    *ret_n = total;
    return SW_OK;
}

/* ------------------------------------------------------------------ building targets */

static sw_status
initial_labels(const sw_targets_job *job, const sw_target_group *g, const char *address,
               sw_labelset *ls, sw_err *err)
{
    sw_status st = SW_OK;
    for (size_t i = 0; i < g->n_labels && st == SW_OK; i++)
        st = sw_relabel_set(ls, g->labels[i].name, g->labels[i].value, err);
    if (st == SW_OK && g->file != NULL)
        st = sw_relabel_set(ls, "__meta_filepath", g->file, err);
    if (st == SW_OK)
        st = sw_relabel_set(ls, "__address__", address, err);
    /* The job's settings only where the group did not set them, as in Prometheus. */
    const char *defaults[][2] = {{"job", job->job_name},
                                 {"__scheme__", job->scheme},
                                 {"__metrics_path__", job->metrics_path}};
    for (size_t i = 0; i < 3 && st == SW_OK; i++)
        if (sw_relabel_get(ls, defaults[i][0]) == NULL)
            st = sw_relabel_set(ls, defaults[i][0], defaults[i][1], err);
    return st;
}

static char *
join3(const char *a, const char *b, const char *c, const char *d)
{
    size_t n = strlen(a) + strlen(b) + strlen(c) + strlen(d) + 1;
    char *s = malloc(n);
    if (s != NULL)
        snprintf(s, n, "%s%s%s%s", a, b, c, d);
    return s;
}

/* An address as a label: "user:password@" (up to the last '@') is never shown. */
static const char *
without_userinfo(const char *address)
{
    const char *at = strrchr(address, '@');
    return at != NULL ? at + 1 : address;
}

/* URL and identity from the relabelled set, then the internal labels go. */
static sw_status
finish_target(sw_labelset *ls, sw_target *t, sw_err *err)
{
    const char *path = sw_relabel_get(ls, "__metrics_path__");
    if (path == NULL)
        path = "";
    t->url = join3(sw_relabel_get(ls, "__scheme__") ? sw_relabel_get(ls, "__scheme__") : "http",
                   "://", sw_relabel_get(ls, "__address__"), path);
    sw_status st = t->url != NULL ? SW_OK : sw_err_set(err, SW_E_NOMEM, "out of memory");
    if (st == SW_OK && sw_relabel_get(ls, "instance") == NULL)
        st = sw_relabel_set(ls, "instance", without_userinfo(sw_relabel_get(ls, "__address__")),
                            err);
    for (size_t i = ls->n; st == SW_OK && i-- > 0;)
        if (strncmp(ls->l[i].name, "__", 2) == 0)
            sw_relabel_del(ls, ls->l[i].name);
    sw_buf id;
    sw_buf_init(&id, SIZE_MAX);
    if (st == SW_OK)
        st = sw_buf_append(&id, t->url, strlen(t->url), err);
    for (size_t i = 0; i < ls->n && st == SW_OK; i++)
        st = sw_buf_printf(&id, err, " %s=\"%s\"", ls->l[i].name, ls->l[i].value);
    if (st == SW_OK && sw_buf_cstr(&id, err) != NULL)
        t->identity = (char *)id.data;
    else
        sw_buf_fini(&id);
    t->labels = *ls;
    *ls = (sw_labelset){0};
    return t->identity != NULL ? SW_OK : SW_E_NOMEM;
}

static void
target_fini(sw_target *t)
{
    sw_relabel_clear(&t->labels);
    free(t->url);
    free(t->identity);
}

static bool
address_ok(const char *a, sw_targets_warn_fn warn, void *ctx, const char *job)
{
    if (a != NULL && a[0] != '\0' && strchr(a, '/') == NULL)
        return true;
    sw_err e;
    sw_err_set(&e, SW_E_INVAL, "job %s: target without a valid __address__ (%.100s) skipped", job,
               a != NULL ? a : "none");
    warn(ctx, &e);
    return false;
}

static bool
known(const sw_target *ts, size_t n, const char *identity)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(ts[i].identity, identity) == 0)
            return true;
    return false;
}

/* One address of a group: relabelled and appended to ts unless dropped or a duplicate. */
static sw_status
build_one(const sw_targets_job *job, const sw_target_group *g, const char *address,
          sw_targets_warn_fn warn, void *ctx, sw_target *ts, size_t *n, sw_err *err)
{
    sw_labelset ls = {0};
    bool keep = true;
    sw_status st = initial_labels(job, g, address, &ls, err);
    if (st == SW_OK && job->relabel != NULL)
        st = sw_relabel_apply(job->relabel, &ls, &keep, err);
    if (st != SW_OK || !keep || !address_ok(sw_relabel_get(&ls, "__address__"), warn, ctx,
                                             job->job_name)) {
        sw_relabel_clear(&ls);
        return st;
    }
    sw_target t = {0};
    if ((st = finish_target(&ls, &t, err)) != SW_OK || known(ts, *n, t.identity)) {
        sw_relabel_clear(&ls);
        target_fini(&t);
        return st;
    }
    ts[(*n)++] = t;
    return SW_OK;
}

sw_status
sw_targets_build(const sw_targets_job *job, const sw_target_group *groups, size_t n_groups,
                 sw_targets_warn_fn warn, void *ctx, sw_target **ret, size_t *ret_n, sw_err *err)
{
    size_t cap = 0, n = 0;
    for (size_t i = 0; i < n_groups; i++)
        cap += groups[i].n_targets;
    sw_target *ts = calloc(cap ? cap : 1, sizeof *ts);
    if (ts == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory building %zu targets", cap);
    sw_status st = SW_OK;
    for (size_t i = 0; i < n_groups && st == SW_OK; i++)
        for (size_t k = 0; k < groups[i].n_targets && st == SW_OK; k++)
            st = build_one(job, &groups[i], groups[i].targets[k], warn, ctx, ts, &n, err);
    if (st != SW_OK) {
        sw_targets_free(ts, n);
        return st;
    }
    if (n == 0) {
        free(ts);
        ts = NULL;
    }
    *ret = ts;
    *ret_n = n;
    return SW_OK;
}

void
sw_targets_free(sw_target *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        target_fini(&t[i]);
    free(t);
}
