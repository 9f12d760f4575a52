/*
 * A snapshot is written once by the tick thread; what it computes on request (gate answers,
 * the status JSON, /metrics bodies) is kept in slots filled at most once, published with an
 * atomic store, so a kept answer is read without a lock. An atomic reference count decides who
 * frees it. Gate entries are sorted by (service, env, window) for lookup. This file: the source's
 * write sections, building, lifetime, the status and /metrics bodies; the gate's answers are in
 * snapshot_gate.c.
 */
#define _GNU_SOURCE /* pthread_rwlockattr_setkind_np: a steady stream of readers must not          \
                       starve the tick */
#include "slawatch/snapshot.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slawatch/eval_json.h"
#include "slawatch/hash.h"
#include "slawatch/json.h"
#include "slawatch/u64map.h"

#include "snapshot_int.h"

/* ------------------------------------------------------------------ the source */

sw_status
sw_snapshot_source_new(sw_snapshot_source **ret, sw_err *err)
{
    sw_snapshot_source *src = calloc(1, sizeof *src);
    if (src == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory for the snapshot source");
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    int rc = pthread_rwlock_init(&src->lock, &attr);
    int rc_shared = pthread_rwlock_init(&src->shared, &attr);
    pthread_rwlockattr_destroy(&attr);
    if (rc != 0 || rc_shared != 0 || pthread_mutex_init(&src->latest_lock, NULL) != 0) {
        if (rc == 0)
            pthread_rwlock_destroy(&src->lock);
        if (rc_shared == 0)
            pthread_rwlock_destroy(&src->shared);
        free(src);
        return sw_err_set(err, SW_E_NOMEM, "cannot create the snapshot source's lock");
    }
    *ret = src;
    return SW_OK;
}

void
sw_snapshot_source_free(sw_snapshot_source *src)
{
    if (src == NULL)
        return;
    sw_snapshot_unref(src->latest);
    sw_gate_scratch_free(src->prepared);
    sw_snapshot_unref(atomic_load(&src->retired));
    pthread_mutex_destroy(&src->latest_lock);
    pthread_rwlock_destroy(&src->lock);
    pthread_rwlock_destroy(&src->shared);
    free(src);
}

void
sw_snapshot_source_write_begin_stepwise(sw_snapshot_source *src)
{
    pthread_rwlock_wrlock(&src->lock);
    src->writer = pthread_self();
    atomic_store(&src->writing, true);
    atomic_fetch_add(&src->generation, 1);
    pthread_rwlock_wrlock(&src->shared);
    src->shared_held = true;
}

void
sw_snapshot_source_write_begin(sw_snapshot_source *src)
{
    sw_snapshot_source_write_begin_stepwise(src);
    atomic_fetch_add(&src->epoch, 1);
}

void
sw_snapshot_source_write_end(sw_snapshot_source *src)
{
    sw_snapshot_source_open(src);
    atomic_store(&src->writing, false);
    pthread_rwlock_unlock(&src->lock);
}

/* The writing thread itself: it holds the lock already. */
bool
sw_snapshot_is_writer(const sw_snapshot_source *src)
{
    return atomic_load(&src->writing) && pthread_equal(src->writer, pthread_self());
}

/* May s compute now? When true, guard_leave must follow. */
bool
sw_snapshot_guard_enter(const sw_snapshot *s)
{
    sw_snapshot_source *src = s->source;
    if (src == NULL)
        return true;
    if (sw_snapshot_is_writer(src))
        return atomic_load(&src->generation) == s->generation;
    pthread_rwlock_rdlock(&src->lock);
    if (atomic_load(&src->generation) == s->generation)
        return true;
    pthread_rwlock_unlock(&src->lock);
    return false;
}

void
sw_snapshot_guard_leave(const sw_snapshot *s)
{
    if (s->source != NULL && !sw_snapshot_is_writer(s->source))
        pthread_rwlock_unlock(&s->source->lock);
}

/* ------------------------------------------------------------------ lifetime */

static void
lazy_init(lazy_body *l)
{
    pthread_mutex_init(&l->lock, NULL);
    atomic_init(&l->body, NULL);
}

static void
lazy_fini(lazy_body *l)
{
    sw_buf *b = atomic_load(&l->body);
    if (b != NULL) {
        sw_buf_fini(b);
        free(b);
    }
    pthread_mutex_destroy(&l->lock);
}

static void
snapshot_free(sw_snapshot *s)
{
    lazy_fini(&s->status);
    for (size_t i = 0; i < N_FORMATS; i++)
        lazy_fini(&s->bodies[i]);
    for (size_t i = 0; i < s->n_gates; i++)
        free(atomic_load(&s->gates[i].answer));
    for (gate_answer *a = atomic_load(&s->extras), *next; a != NULL; a = next) {
        next = a->next;
        free(a);
    }
    sw_snapshot_unref(s->previous);
    free(s->remotes);
    free(s->targets);
    free(s->target_failures);
    sw_buf_fini(&s->target_names);
    sw_buf_fini(&s->label_names);
    free(s->label_values);
    sw_buf_fini(&s->names);
    sw_buf_fini(&s->services_json);
    sw_buf_fini(&s->envs_json);
    free(s->gates);
    free(s->env_lists);
    free(s->gate_windows);
    for (size_t i = 0; s->service_names != NULL && i < s->n_services; i++)
        free(s->service_names[i]);
    for (size_t i = 0; s->by_labels != NULL && i < s->n_services; i++)
        free(s->by_labels[i]);
    free(s->by_labels);
    free(s->service_names);
    sw_u64map_fini(&s->service_at);
    free(s);
}

sw_snapshot *
sw_snapshot_ref(sw_snapshot *s)
{
    atomic_fetch_add(&s->refs, 1);
    return s;
}

void
sw_snapshot_unref(sw_snapshot *s)
{
    if (s != NULL && atomic_fetch_sub(&s->refs, 1) == 1)
        snapshot_free(s);
}

int64_t
sw_snapshot_time(const sw_snapshot *s)
{
    return s->at_ms;
}

/* ------------------------------------------------------------------ building */

static const char *
keep_name(sw_snapshot *s, const char *name, sw_err *err)
{
    if (name == NULL)
        return NULL;
    /* Offsets now, pointers once the buffer stops moving (fixed). */
    size_t off = s->names.len;
    if (sw_buf_append(&s->names, name, strlen(name) + 1, err) != SW_OK)
        return NULL;
    return (const char *)(uintptr_t)(off + 1);
}

static void
add_gate(sw_snapshot *s, const char *service, const char *env, int64_t window_ms, sw_err *err)
{
    gate_entry *e = &s->gates[s->n_gates++];
    e->service = keep_name(s, service, err);
    e->env = keep_name(s, env, err);
    e->window_ms = window_ms;
    atomic_init(&e->answer, NULL);
    atomic_init(&e->asks, 0);
}

static const char *
fixed(const sw_snapshot *s, const char *offset)
{
    return offset == NULL ? NULL : (const char *)s->names.data + ((uintptr_t)offset - 1);
}

int
sw_snapshot_entry_cmp(const void *pa, const void *pb)
{
    const gate_entry *a = pa, *b = pb;
    int c = strcmp(a->service, b->service);
    if (c != 0)
        return c;
    if ((a->env == NULL) != (b->env == NULL))
        return a->env == NULL ? -1 : 1;
    if (a->env != NULL && (c = strcmp(a->env, b->env)) != 0)
        return c;
    return (a->window_ms > b->window_ms) - (a->window_ms < b->window_ms);
}

/* Each label value's series (rules/README.md, "One SLO per label value") the evaluator holds. */
static void
add_value_gates(sw_snapshot *s, const sw_rules *rules, const sw_eval *ev, const int64_t *offered,
                size_t n_offered, sw_err *err)
{
    for (size_t i = 0; ev != NULL && i < sw_eval_series_count(ev); i++) {
        sw_series_result sr;
        sw_eval_series(ev, i, &sr);
        ptrdiff_t k = sr.label != NULL ? sw_rules_series_service(rules, sr.service, NULL) : -1;
        if (k < 0)
            continue;
        int64_t own = sw_rules_of_service(rules, (size_t)k)->gate.window_ms;
        add_gate(s, sr.service, sr.env, own, err);
        for (size_t w = 0; w < n_offered; w++)
            if (offered[w] != own)
                add_gate(s, sr.service, sr.env, offered[w], err);
    }
}

/* The gate's questions this snapshot can answer: every series over every offered window. */
static sw_status
build_gates(sw_snapshot *s, const sw_rules *rules, const sw_eval *ev, sw_err *err)
{
    static const int64_t offered[] = SW_SNAPSHOT_GATE_WINDOWS_MS;
    size_t n_windows = sizeof offered / sizeof offered[0] + 1;
    size_t n_series = ev != NULL ? sw_eval_series_count(ev) : 0;
    for (size_t i = 0; i < rules->n_services; i++)
        n_series += rules->services[i].n_environments + 1;
    s->gates = calloc(n_series * n_windows + 1, sizeof *s->gates);
    s->gate_windows = calloc(rules->n_services + 1, sizeof *s->gate_windows);
    if (s->gates == NULL || s->gate_windows == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory building gate verdicts");
    for (size_t i = 0; i < rules->n_services; i++) {
        const sw_service *svc = &rules->services[i];
        int64_t own = sw_rules_of_service(rules, i)->gate.window_ms;
        s->gate_windows[i] = own;
        /* A service with environments is judged per environment, one without as itself. */
        for (size_t e = 0; e < (svc->n_environments ? svc->n_environments : 1); e++) {
            const char *env = svc->n_environments ? svc->environments[e] : NULL;
            add_gate(s, svc->name, env, own, err);
            for (size_t w = 0; w + 1 < n_windows; w++)
                if (offered[w] != own)
                    add_gate(s, svc->name, env, offered[w], err);
        }
    }
    add_value_gates(s, rules, ev, offered, n_windows - 1, err);
    for (size_t i = 0; i < s->n_gates; i++) {
        s->gates[i].service = fixed(s, s->gates[i].service);
        s->gates[i].env = fixed(s, s->gates[i].env);
    }
    qsort(s->gates, s->n_gates, sizeof *s->gates, sw_snapshot_entry_cmp);
    return SW_OK;
}

/* s becomes the source's latest snapshot; the one before is kept until s is prepared. */
static void
take_over(sw_snapshot *s)
{
    sw_snapshot_source *src = s->source;
    pthread_mutex_lock(&src->latest_lock);
    s->previous = src->latest;
    src->latest = sw_snapshot_ref(s);
    pthread_mutex_unlock(&src->latest_lock);
}

static uint64_t
name_key(const char *name)
{
    return sw_hash_bytes(name, strlen(name), 0);
}

/* Every ingest and gate request looks its service up: by hash, not by a walk over 10,000. */
static sw_status
index_service(sw_snapshot *s, size_t i, sw_err *err)
{
    uint64_t key = name_key(s->service_names[i]);
    size_t taken;
    while (sw_u64map_get(&s->service_at, key, &taken))
        key++;
    return sw_u64map_put(&s->service_at, key, i, err);
}

static sw_status
build_names(sw_snapshot *s, const sw_rules *r, sw_err *err)
{
    s->n_services = r->n_services;
    s->service_names = calloc(r->n_services + 1, sizeof *s->service_names);
    s->env_lists = calloc(r->n_services + 1, sizeof *s->env_lists);
    s->by_labels = calloc(r->n_services + 1, sizeof *s->by_labels);
    if (s->service_names == NULL || s->env_lists == NULL || s->by_labels == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory building the snapshot");
    size_t *offs = calloc(r->n_services + 1, sizeof *offs);
    if (offs == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory building the snapshot");
    sw_buf_printf(&s->services_json, err, "[");
    for (size_t i = 0; i < r->n_services; i++) {
        const sw_service *svc = &r->services[i];
        s->service_names[i] = strdup(svc->name); /* the rules may be gone before the snapshot */
        if (svc->by != NULL)
            s->by_labels[i] = strdup(svc->by);
        if (s->service_names[i] == NULL || (svc->by != NULL && s->by_labels[i] == NULL) ||
            index_service(s, i, err) != SW_OK) {
            free(offs);
            return sw_err_set(err, SW_E_NOMEM, "out of memory building the snapshot");
        }
        sw_buf_printf(&s->services_json, err, "%s", i ? "," : "");
        sw_json_put_string(&s->services_json, svc->name, err);
        offs[i] = s->envs_json.len;
        sw_buf_printf(&s->envs_json, err, "[");
        for (size_t e = 0; e < svc->n_environments; e++) {
            sw_buf_printf(&s->envs_json, err, "%s", e ? "," : "");
            sw_json_put_string(&s->envs_json, svc->environments[e], err);
        }
        sw_buf_append(&s->envs_json, "]", 2, err);
    }
    sw_status st = sw_buf_printf(&s->services_json, err, "]");
    sw_buf_cstr(&s->services_json, err);
    for (size_t i = 0; i < r->n_services; i++)
        s->env_lists[i] = (const char *)s->envs_json.data + offs[i];
    free(offs);
    return st;
}

/* The self-metrics and scrape targets as they are now: the daemon changes its own copies. */
static sw_status
copy_metrics(sw_snapshot *s, const sw_metrics_input *in, sw_err *err)
{
    s->metrics = *in;
    s->self = *in->self;
    s->metrics.self = &s->self;
    s->remotes = calloc(in->self->n_remotes + 1, sizeof *s->remotes);
    s->targets = calloc(in->n_scrape + 1, sizeof *s->targets);
    s->target_failures = calloc(in->n_scrape * in->n_failure_reasons + 1, sizeof(uint64_t));
    if (s->remotes == NULL || s->targets == NULL || s->target_failures == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory building the snapshot");
    if (in->self->n_remotes > 0)
        memcpy(s->remotes, in->self->remotes, in->self->n_remotes * sizeof *s->remotes);
    s->self.remotes = s->remotes;
    s->metrics.scrape = s->targets;
    /* Names as offsets while the buffer grows, pointers after. */
    size_t *offs = calloc(3 * in->self->n_remotes + 2 * in->n_scrape + 1, sizeof *offs);
    if (offs == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory building the snapshot");
    size_t k = 0;
    sw_status st = SW_OK;
    for (size_t i = 0; i < in->self->n_remotes && st == SW_OK; i++) {
        offs[k++] = s->target_names.len;
        st = sw_buf_append(&s->target_names, in->self->remotes[i].name,
                           strlen(in->self->remotes[i].name) + 1, err);
    }
    for (size_t i = 0; i < in->n_scrape && st == SW_OK; i++) {
        const sw_metrics_target *t = &in->scrape[i];
        s->targets[i] = *t;
        offs[k++] = s->target_names.len;
        st = sw_buf_append(&s->target_names, t->job, strlen(t->job) + 1, err);
        offs[k++] = s->target_names.len;
        if (st == SW_OK)
            st = sw_buf_append(&s->target_names, t->instance, strlen(t->instance) + 1, err);
        if (in->n_failure_reasons > 0) {
            uint64_t *f = s->target_failures + i * in->n_failure_reasons;
            memcpy(f, t->failures, in->n_failure_reasons * sizeof *f);
            s->targets[i].failures = f;
        }
    }
    const char *base = (const char *)s->target_names.data;
    k = 0;
    for (size_t i = 0; i < in->self->n_remotes && st == SW_OK; i++)
        s->remotes[i].name = base + offs[k++];
    for (size_t i = 0; i < in->n_scrape && st == SW_OK; i++) {
        s->targets[i].job = base + offs[k++];
        s->targets[i].instance = base + offs[k++];
    }
    free(offs);
    return st;
}

/* The label values' counts, their names copied (offsets while the buffer grows, then pointers). */
static sw_status
copy_label_values(sw_snapshot *s, const sw_metrics_input *in, sw_err *err)
{
    size_t n = in->n_label_values;
    s->label_values = calloc(n + 1, sizeof *s->label_values);
    if (s->label_values == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory building the snapshot");
    sw_status st = SW_OK;
    for (size_t i = 0; i < n && st == SW_OK; i++) {
        const sw_metrics_label_values *v = &in->label_values[i];
        s->label_values[i] = *v;
        s->label_values[i].service = (const char *)(uintptr_t)s->label_names.len;
        st = sw_buf_append(&s->label_names, v->service, strlen(v->service) + 1, err);
        s->label_values[i].label = (const char *)(uintptr_t)s->label_names.len;
        if (st == SW_OK)
            st = sw_buf_append(&s->label_names, v->label, strlen(v->label) + 1, err);
    }
    for (size_t i = 0; i < n && st == SW_OK; i++) {
        sw_metrics_label_values *v = &s->label_values[i];
        v->service = (const char *)s->label_names.data + (uintptr_t)v->service;
        v->label = (const char *)s->label_names.data + (uintptr_t)v->label;
    }
    s->metrics.label_values = s->label_values;
    return st;
}

sw_status
sw_snapshot_build(const sw_snapshot_input *in, sw_snapshot **ret, sw_err *err)
{
    sw_snapshot *s = calloc(1, sizeof *s);
    if (s == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory building the snapshot");
    atomic_init(&s->refs, 1);
    s->at_ms = in->now_ms;
    s->ev = in->ev;
    s->rules = in->rules;
    s->source = in->source;
    s->generation = in->source != NULL ? atomic_load(&in->source->generation) : 0;
    s->epoch = in->source != NULL ? atomic_load(&in->source->epoch) : 0;
    atomic_init(&s->extras, NULL);
    lazy_init(&s->status);
    for (size_t i = 0; i < N_FORMATS; i++)
        lazy_init(&s->bodies[i]);
    sw_buf_init(&s->target_names, BODY_MAX);
    sw_buf_init(&s->label_names, BODY_MAX);
    sw_buf_init(&s->names, BODY_MAX);
    sw_buf_init(&s->services_json, BODY_MAX);
    sw_buf_init(&s->envs_json, BODY_MAX);
    sw_status st = copy_metrics(s, in->metrics, err);
    if (st == SW_OK)
        st = copy_label_values(s, in->metrics, err);
    if (st == SW_OK)
        st = build_gates(s, in->rules, in->ev, err);
    if (st == SW_OK)
        st = build_names(s, in->rules, err);
    if (st != SW_OK) {
        snapshot_free(s);
        return st;
    }
    if (s->source != NULL)
        take_over(s);
    *ret = s;
    return SW_OK;
}

/* ------------------------------------------------------------------ bodies on request */

/* The guard a computation entered; a writer may leave it early, once it reads only copies. */
typedef struct guard {
    const sw_snapshot *s;
    bool held;
} guard;

static void
guard_release(guard *g)
{
    if (g->held)
        sw_snapshot_guard_leave(g->s);
    g->held = false;
}

typedef sw_status (*body_writer)(const sw_snapshot *s, size_t which, guard *g, sw_buf *out,
                                 sw_err *err);

/* l's body computed by write and kept, under l's lock and the guard g already holds. */
static sw_buf *
compute_body(const sw_snapshot *s, lazy_body *l, body_writer write, size_t which, size_t max,
             guard *g)
{
    sw_buf *b = malloc(sizeof *b);
    if (b == NULL)
        return NULL;
    sw_err err;
    sw_buf_init(b, max);
    if (write(s, which, g, b, &err) != SW_OK) {
        sw_buf_fini(b);
        free(b);
        return NULL;
    }
    atomic_store(&l->body, b);
    return b;
}

/*
 * l's body, computed by write when not kept yet; which is handed on to write. Nobody waits for
 * l's lock while holding the guard: the tick thread may ask its new snapshot (unguarded, its
 * section not ended) and need that lock, and a /metrics render leaves the guard long before it
 * leaves the lock, so a second asker holding the guard while it waited would hold the tick
 * back for the whole rest of the render. The guard is taken first and the lock only tried;
 * when another asker holds it, the guard is left and the lock waited for, then the body that
 * asker kept is taken, or (its render failed) the whole asks again.
 */
static sw_snapshot_lookup
lazy_get(const sw_snapshot *s, lazy_body *l, body_writer write, size_t which, size_t max,
         const sw_buf **ret)
{
    for (;;) {
        sw_buf *b = atomic_load(&l->body);
        if (b != NULL) {
            *ret = b;
            return SW_SNAPSHOT_FOUND;
        }
        if (!sw_snapshot_guard_enter(s)) {
            *ret = NULL;
            return SW_SNAPSHOT_STALE;
        }
        guard g = {s, true};
        if (pthread_mutex_trylock(&l->lock) == 0) {
            if ((b = atomic_load(&l->body)) == NULL)
                b = compute_body(s, l, write, which, max, &g);
            pthread_mutex_unlock(&l->lock);
            guard_release(&g);
            *ret = b;
            return b != NULL ? SW_SNAPSHOT_FOUND : SW_SNAPSHOT_FAILED;
        }
        guard_release(&g);
        pthread_mutex_lock(&l->lock); /* until the asker computing it is done */
        pthread_mutex_unlock(&l->lock);
    }
}

static sw_status
write_status(const sw_snapshot *s, size_t which, guard *g, sw_buf *out, sw_err *err)
{
    (void)which;
    (void)g;
    return sw_eval_json_write(s->ev, s->at_ms, out, err);
}

/*
 * Every /metrics family, begun on out (NULL: visited with v). What reads the evaluator, the
 * rules and the totals is gathered or written under g; the guard is then left, and the
 * per-series families (most of the body) are written from the gathered copy: a tick that
 * starts meanwhile does not wait, and this render still shows its own snapshot.
 */
static sw_status
write_families(const sw_snapshot *s, const sw_metrics_self *self, sw_expo_format format,
               sw_buf *out, const sw_expo_visitor *v, guard *g, sw_err *err)
{
    sw_metrics_input in = s->metrics;
    in.self = self;
    sw_expo *e;
    sw_metrics_view *view = NULL;
    sw_status st = sw_expo_new(&e, err);
    if (st != SW_OK)
        return st;
    st = sw_metrics_view_new(s->ev, s->rules, &in, &view, err);
    if (st == SW_OK) {
        if (out != NULL)
            sw_expo_begin(e, format, out);
        else
            sw_expo_begin_visit(e, v);
        st = sw_metrics_write_live(e, view, err);
        guard_release(g);
        if (st == SW_OK)
            st = sw_metrics_write_gathered(e, view, err);
        sw_status fin = sw_expo_finish(e, err);
        if (st == SW_OK)
            st = fin;
    }
    sw_metrics_view_free(view);
    sw_expo_free(e);
    return st;
}

/*
 * The body of a format about the size of the last one (tens of MB at 10,000 services): room
 * reserved at once, so writing it never copies what it has written to grow. A failure to
 * reserve is not one: the body grows as it is written.
 */
static void
reserve_like_last(const sw_snapshot *s, size_t which, sw_buf *out)
{
    size_t last = s->source != NULL ? atomic_load(&s->source->last_size[which]) : 0;
    if (last > 0)
        sw_buf_reserve(out, last + last / 16, NULL);
}

static sw_status
write_metrics(const sw_snapshot *s, size_t which, guard *g, sw_buf *out, sw_err *err)
{
    static const sw_expo_format formats[] = {SW_EXPO_TEXT, SW_EXPO_OPENMETRICS, SW_EXPO_PROTOBUF};
    sw_metrics_self self = s->self;
    reserve_like_last(s, which, out);
    if (s->source != NULL) {
        self.metrics_renders[which] = atomic_fetch_add(&s->source->renders[which], 1) + 1;
        for (size_t f = 0; f < N_FORMATS; f++)
            if (f != which)
                self.metrics_renders[f] = atomic_load(&s->source->renders[f]);
        self.gate_computations = atomic_load(&s->source->gate_computations);
        self.gates_prepared = atomic_load(&s->source->gates_prepared);
    }
    sw_status st = write_families(s, &self, formats[which], out, NULL, g, err);
    if (st == SW_OK && s->source != NULL)
        atomic_store(&s->source->last_size[which], out->len);
    return st;
}

sw_snapshot_lookup
sw_snapshot_metrics_visit(const sw_snapshot *s, const sw_expo_visitor *v)
{
    if (!sw_snapshot_guard_enter(s))
        return SW_SNAPSHOT_STALE;
    guard g = {s, true};
    sw_err err;
    sw_status st = write_families(s, &s->self, SW_EXPO_TEXT, NULL, v, &g, &err);
    guard_release(&g);
    return st == SW_OK ? SW_SNAPSHOT_FOUND : SW_SNAPSHOT_FAILED;
}

sw_snapshot_lookup
sw_snapshot_status(const sw_snapshot *s, const sw_buf **ret)
{
    return lazy_get(s, (lazy_body *)&s->status, write_status, 0, BODY_MAX, ret);
}

sw_snapshot_lookup
sw_snapshot_metrics(const sw_snapshot *s, sw_expo_format format, const sw_buf **ret)
{
    size_t which = format == SW_EXPO_OPENMETRICS ? 1 : format == SW_EXPO_PROTOBUF ? 2 : 0;
    /* Before this render allocates its body: the one replaced and its own are never both held
     * for the render's sake. */
    if (s->source != NULL)
        sw_snapshot_unref(atomic_exchange(&s->source->retired, NULL));
    return lazy_get(s, (lazy_body *)&s->bodies[which], write_metrics, which, METRICS_BODY_MAX, ret);
}

bool
sw_snapshot_keeps_metrics(const sw_snapshot *s)
{
    for (size_t i = 0; i < N_FORMATS; i++)
        if (atomic_load(&((lazy_body *)&s->bodies[i])->body) != NULL)
            return true;
    return false;
}

/* ------------------------------------------------------------------ reading */

/* The service of a series key: a service's name, or a label value's key naming its by label. */
/* The index of a service named by name_len bytes of name (by hash), or -1. */
static ptrdiff_t
named_service(const sw_snapshot *s, const char *name, size_t name_len)
{
    size_t i;
    for (uint64_t key = sw_hash_bytes(name, name_len, 0); sw_u64map_get(&s->service_at, key, &i);
         key++)
        if (strlen(s->service_names[i]) == name_len &&
            memcmp(s->service_names[i], name, name_len) == 0)
            return (ptrdiff_t)i;
    return -1;
}

/* A plain service's index, or, for a label value's key, that of its service when that service
 * is judged per value of the key's label. */
ptrdiff_t
sw_snapshot_service_index(const sw_snapshot *s, const char *service)
{
    ptrdiff_t i = named_service(s, service, strlen(service));
    sw_rules_by_parts p;
    if (i >= 0 || !sw_rules_by_split(service, &p))
        return i;
    i = named_service(s, p.service, p.service_len);
    if (i < 0 || s->by_labels[i] == NULL || strlen(s->by_labels[i]) != p.label_len ||
        memcmp(s->by_labels[i], p.label, p.label_len) != 0)
        return -1;
    return i;
}

const char *
sw_snapshot_by_label(const sw_snapshot *s, const char *service)
{
    /* Asked by every gate request: by hash, not by a walk over 10,000 names. */
    ptrdiff_t i = named_service(s, service, strlen(service));
    return i < 0 ? NULL : s->by_labels[i];
}

const char *
sw_snapshot_services_json(const sw_snapshot *s)
{
    return (const char *)s->services_json.data;
}

const char *
sw_snapshot_envs_json(const sw_snapshot *s, const char *service)
{
    ptrdiff_t si = sw_snapshot_service_index(s, service);
    return si < 0 ? "[]" : s->env_lists[si];
}
