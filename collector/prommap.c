/*
 * The rules-driven map from Prometheus samples to SLI intervals (see prommap.h).
 *
 * The rules are compiled into a ruleset: one target per service SLI that has a `prometheus`
 * selector, indexed by the metric name a sample must carry to concern it. A ruleset is
 * self-contained (it copies the service and environment names) and reference-counted, so a
 * batch opened before a reload keeps using the selectors it started with, and the daemon may
 * free the old rules as soon as sw_prommap_set_rules returns.
 *
 * The sink does the matching, without the lock, and records each matching sample as an update;
 * commit then walks the updates under the lock against the per-series counter state.
 */
#include "slawatch/prommap.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "slawatch/hash.h"
#include "slawatch/promhist.h"
#include "slawatch/selector.h"
#include "slawatch/u64map.h"

#define SILENCE_MS (3600 * 1000)      /* a series without samples this long is forgotten */
#define SWEEP_EVERY_MS (60 * 1000)    /* how often flush looks for such series */
#define MATCH_SCRATCH (64u << 10)     /* longest label value a regex is tested against */
#define ENV_LABEL "env"

typedef enum role { ROLE_REQUESTS, ROLE_ERRORS, ROLE_LATENCY, ROLE_HEALTH } role;

/* How a sample name relates to a target's selector. */
typedef enum form { FORM_PLAIN, FORM_BUCKET, FORM_NATIVE } form;

typedef struct target {
    char *service;
    char **envs; /* NULL-free list of the service's environments; none: the env is NULL */
    size_t n_envs;
    role role;
    sw_selector *sel;
    double unit_us; /* latency: microseconds per unit of the histogram */
} target;

typedef struct candidate {
    size_t target;
    form form;
} candidate;

/* The targets a metric name concerns. */
typedef struct name_entry {
    char *name;
    candidate *c;
    size_t n;
} name_entry;

typedef struct ruleset {
    int refs;
    int64_t base_ms;
    target *targets;
    size_t n_targets;
    name_entry *names;
    size_t n_names;
    sw_u64map by_name; /* hash of a name -> index into names (collisions: compared) */
    candidate *nameless;
    size_t n_nameless;
} ruleset;

typedef struct hit {
    uint32_t target;
    int32_t env; /* index into the target's envs, -1 for none */
} hit;

typedef struct update {
    uint64_t key;      /* source and series, all labels */
    uint64_t hist_key; /* source and series without `le`: one classic histogram */
    int64_t at_ms;
    double value, le;
    sw_native_dense *native; /* owned */
    bool gauge;              /* a gauge histogram: its counts are this interval's own */
    size_t first_hit, n_hits;
} update;

typedef struct series_state {
    uint64_t key, source;
    int64_t last_ms;
    double last;
    sw_native_dense *native;
} series_state;

typedef struct bucket_delta {
    double le, delta;
} bucket_delta;

/* Increases of one classic histogram's buckets within one interval, joined until flush. */
typedef struct pending {
    uint64_t key;
    const target *t; /* of the ruleset in force when it was made; flushed before a change */
    int32_t env;
    int64_t start_ms;
    bucket_delta *b;
    size_t n, cap;
} pending;

struct sw_prommap {
    pthread_mutex_t lock;
    sw_accum *accum;
    ruleset *rs;
    series_state *states;
    size_t n_states, cap_states;
    sw_u64map state_at;
    pending *pend;
    size_t n_pend, cap_pend;
    sw_u64map pend_at;
    int64_t newest_ms, swept_ms;
    sw_prommap_stats stats;
    sw_accum_batch *out; /* what the commit or flush under way adds, committed whole at its end */
};

struct sw_prommap_batch {
    sw_prommap *m;
    ruleset *rs;
    uint64_t source;
    sw_prom_label *labels; /* the batch's own, owned with their strings */
    size_t n_labels;
    int64_t at_ms;
    update *u;
    size_t n_u, cap_u;
    hit *hits;
    size_t n_hits, cap_hits;
    uint64_t samples, invalid, no_env;
    sw_buf scratch;
    const sw_prom_sample *cur; /* the sample being matched, for label lookups */
};

/* ------------------------------------------------------------------ compiling the rules */

static void
ruleset_unref(ruleset *rs)
{
    if (rs == NULL || --rs->refs > 0)
        return;
    for (size_t i = 0; i < rs->n_targets; i++) {
        target *t = &rs->targets[i];
        free(t->service);
        for (size_t e = 0; e < t->n_envs; e++)
            free(t->envs[e]);
        free(t->envs);
        sw_selector_free(t->sel);
    }
    for (size_t i = 0; i < rs->n_names; i++) {
        free(rs->names[i].name);
        free(rs->names[i].c);
    }
    free(rs->targets);
    free(rs->names);
    free(rs->nameless);
    sw_u64map_fini(&rs->by_name);
    free(rs);
}

/* Microseconds per unit, from the base-unit suffix Prometheus names carry; seconds by default. */
static double
unit_from_name(const char *name)
{
    static const struct {
        const char *suffix;
        double us;
    } units[] = {{"_milliseconds", 1e3}, {"_microseconds", 1.0}, {"_ms", 1e3}, {"_us", 1.0}};
    size_t len = strlen(name);
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        size_t n = strlen(units[i].suffix);
        if (len >= n && strcmp(name + len - n, units[i].suffix) == 0)
            return units[i].us;
    }
    return 1e6;
}

static name_entry *
name_slot(ruleset *rs, const char *name, size_t len)
{
    size_t i;
    uint64_t h = sw_hash_bytes(name, len, 0);
    for (uint64_t probe = h; sw_u64map_get(&rs->by_name, probe, &i); probe++)
        if (strlen(rs->names[i].name) == len && memcmp(rs->names[i].name, name, len) == 0)
            return &rs->names[i];
    return NULL;
}

static sw_status
index_name(ruleset *rs, const char *name, const char *suffix, candidate c, sw_err *err)
{
    char full[512];
    int n = snprintf(full, sizeof full, "%s%s", name, suffix);
    if (n < 0 || (size_t)n >= sizeof full)
        return sw_err_set(err, SW_E_TOOBIG, "metric name '%.64s...' is too long", name);
    name_entry *e = name_slot(rs, full, (size_t)n);
    if (e == NULL) {
        name_entry *grown = realloc(rs->names, (rs->n_names + 1) * sizeof *grown);
        if (grown == NULL)
            return sw_err_set(err, SW_E_NOMEM, "out of memory indexing selectors");
        rs->names = grown;
        e = &rs->names[rs->n_names];
        *e = (name_entry){.name = strdup(full)};
        uint64_t probe = sw_hash_bytes(full, (size_t)n, 0);
        size_t taken;
        while (sw_u64map_get(&rs->by_name, probe, &taken))
            probe++;
        if (e->name == NULL || sw_u64map_put(&rs->by_name, probe, rs->n_names, err) != SW_OK) {
            free(e->name);
            return sw_err_set(err, SW_E_NOMEM, "out of memory indexing selectors");
        }
        rs->n_names++;
    }
    candidate *grown = realloc(e->c, (e->n + 1) * sizeof *grown);
    if (grown == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory indexing selectors");
    e->c = grown;
    e->c[e->n++] = c;
    return SW_OK;
}

static sw_status
index_target(ruleset *rs, size_t i, sw_err *err)
{
    const target *t = &rs->targets[i];
    if (t->sel->name == NULL) {
        candidate *grown = realloc(rs->nameless, (rs->n_nameless + 1) * sizeof *grown);
        if (grown == NULL)
            return sw_err_set(err, SW_E_NOMEM, "out of memory indexing selectors");
        rs->nameless = grown;
        rs->nameless[rs->n_nameless++] = (candidate){i, FORM_PLAIN};
        return SW_OK;
    }
    if (t->role != ROLE_LATENCY)
        return index_name(rs, t->sel->name, "", (candidate){i, FORM_PLAIN}, err);
    sw_status st = index_name(rs, t->sel->name, "_bucket", (candidate){i, FORM_BUCKET}, err);
    return st == SW_OK ? index_name(rs, t->sel->name, "", (candidate){i, FORM_NATIVE}, err) : st;
}

static sw_status
add_target(ruleset *rs, const sw_service *svc, role r, const sw_source *src, sw_err *err)
{
    if (src->kind != SW_SOURCE_PROMETHEUS)
        return SW_OK;
    target *t = &rs->targets[rs->n_targets];
    *t = (target){.role = r, .unit_us = 1e6};
    sw_status st = sw_selector_compile(src->selector, strlen(src->selector), &t->sel, err);
    if (st != SW_OK) {
        sw_err_prefix(err, "service %s", svc->name);
        return st;
    }
    rs->n_targets++;
    t->service = strdup(svc->name);
    t->envs = calloc(svc->n_environments + 1, sizeof *t->envs);
    if (t->service == NULL || t->envs == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory compiling selectors");
    for (; t->n_envs < svc->n_environments; t->n_envs++)
        if ((t->envs[t->n_envs] = strdup(svc->environments[t->n_envs])) == NULL)
            return sw_err_set(err, SW_E_NOMEM, "out of memory compiling selectors");
    if (t->sel->name != NULL)
        t->unit_us = unit_from_name(t->sel->name);
    return index_target(rs, rs->n_targets - 1, err);
}

static sw_status
ruleset_new(const sw_rules *rules, ruleset **ret, sw_err *err)
{
    ruleset *rs = calloc(1, sizeof *rs);
    if (rs == NULL || (rs->targets = calloc(4 * rules->n_services + 1, sizeof *rs->targets)) == NULL) {
        free(rs);
        return sw_err_set(err, SW_E_NOMEM, "out of memory compiling selectors");
    }
    rs->refs = 1;
    rs->base_ms = rules->base_interval_ms;
    sw_u64map_init(&rs->by_name);
    sw_status st = SW_OK;
    for (size_t i = 0; st == SW_OK && i < rules->n_services; i++) {
        const sw_service *s = &rules->services[i];
        st = add_target(rs, s, ROLE_REQUESTS, &s->requests, err);
        st = st == SW_OK ? add_target(rs, s, ROLE_ERRORS, &s->errors, err) : st;
        st = st == SW_OK ? add_target(rs, s, ROLE_LATENCY, &s->latency, err) : st;
        st = st == SW_OK ? add_target(rs, s, ROLE_HEALTH, &s->health, err) : st;
    }
    if (st != SW_OK) {
        ruleset_unref(rs);
        return st;
    }
    *ret = rs;
    return SW_OK;
}

/* ------------------------------------------------------------------ the map */

sw_status
sw_prommap_new(const sw_rules *rules, sw_accum *a, sw_prommap **ret, sw_err *err)
{
    sw_prommap *m = calloc(1, sizeof *m);
    if (m == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory making the Prometheus map");
    sw_status st = ruleset_new(rules, &m->rs, err);
    if (st != SW_OK) {
        free(m);
        return st;
    }
    pthread_mutex_init(&m->lock, NULL);
    m->accum = a;
    sw_u64map_init(&m->state_at);
    sw_u64map_init(&m->pend_at);
    *ret = m;
    return SW_OK;
}

static void
state_fini(series_state *s)
{
    if (s->native != NULL) {
        sw_native_dense_fini(s->native);
        free(s->native);
    }
}

void
sw_prommap_free(sw_prommap *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->n_states; i++)
        state_fini(&m->states[i]);
    for (size_t i = 0; i < m->n_pend; i++)
        free(m->pend[i].b);
    free(m->states);
    free(m->pend);
    sw_u64map_fini(&m->state_at);
    sw_u64map_fini(&m->pend_at);
    ruleset_unref(m->rs);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

void
sw_prommap_stats_get(sw_prommap *m, sw_prommap_stats *st)
{
    pthread_mutex_lock(&m->lock);
    *st = m->stats;
    pthread_mutex_unlock(&m->lock);
}

/* ------------------------------------------------------------------ matching (the sink) */

static void
lookup_label(const void *ctx, const char *label, const char **value, size_t *len)
{
    const sw_prommap_batch *b = ctx;
    size_t n = strlen(label);
    /* The batch's labels (a scrape target's) win over the sample's own, as in Prometheus. */
    for (size_t i = 0; i < b->n_labels; i++)
        if (b->labels[i].name_len == n && memcmp(b->labels[i].name, label, n) == 0) {
            *value = b->labels[i].value;
            *len = b->labels[i].value_len;
            return;
        }
    for (size_t i = 0; i < b->cur->n_labels; i++) {
        const sw_prom_label *l = &b->cur->labels[i];
        if (l->name_len == n && memcmp(l->name, label, n) == 0) {
            *value = l->value;
            *len = l->value_len;
            return;
        }
    }
    *value = "";
    *len = 0;
}

/* The environment index of the series for t: -1 for a service without environments, -2 when
 * the series has no `env` label naming one of them. */
static int32_t
series_env(const sw_prommap_batch *b, const target *t)
{
    if (t->n_envs == 0)
        return -1;
    const char *v;
    size_t len;
    lookup_label(b, ENV_LABEL, &v, &len);
    for (size_t e = 0; e < t->n_envs; e++)
        if (strlen(t->envs[e]) == len && memcmp(t->envs[e], v, len) == 0)
            return (int32_t)e;
    return -2;
}

static sw_status
push_hit(sw_prommap_batch *b, hit h, sw_err *err)
{
    if (b->n_hits == b->cap_hits) {
        size_t cap = b->cap_hits ? 2 * b->cap_hits : 64;
        hit *grown = realloc(b->hits, cap * sizeof *grown);
        if (grown == NULL)
            return sw_err_set(err, SW_E_NOMEM, "out of memory collecting samples");
        b->hits = grown;
        b->cap_hits = cap;
    }
    b->hits[b->n_hits++] = h;
    return SW_OK;
}

/* Test one candidate; a match is appended to the batch's hits. */
static sw_status
try_candidate(sw_prommap_batch *b, const candidate *c, const char *name, size_t len,
              sw_err *err)
{
    const target *t = &b->rs->targets[c->target];
    if (!sw_selector_matches(t->sel, name, len, lookup_label, b, &b->scratch))
        return SW_OK;
    int32_t env = series_env(b, t);
    if (env == -2) {
        b->no_env++;
        return SW_OK;
    }
    return push_hit(b, (hit){(uint32_t)c->target, env}, err);
}

/* Name-less selectors see every sample; a `_bucket` sample concerns their latency role. */
static sw_status
try_nameless(sw_prommap_batch *b, const sw_prom_sample *s, bool native, sw_err *err)
{
    size_t len = s->name_len;
    bool bucket = len > 7 && memcmp(s->name + len - 7, "_bucket", 7) == 0;
    for (size_t i = 0; i < b->rs->n_nameless; i++) {
        const candidate *c = &b->rs->nameless[i];
        bool latency = b->rs->targets[c->target].role == ROLE_LATENCY;
        if (native != latency && !(latency && bucket))
            continue;
        sw_status st = try_candidate(b, c, s->name, bucket && latency ? len - 7 : len, err);
        if (st != SW_OK)
            return st;
    }
    return SW_OK;
}

/* Match s against every target it may concern; the hits start at b->n_hits on entry. */
static sw_status
match(sw_prommap_batch *b, const sw_prom_sample *s, bool native, sw_err *err)
{
    b->cur = s;
    const name_entry *e = name_slot(b->rs, s->name, s->name_len);
    for (size_t i = 0; e != NULL && i < e->n; i++) {
        const candidate *c = &e->c[i];
        if ((c->form == FORM_NATIVE) != native)
            continue;
        size_t len = c->form == FORM_BUCKET ? s->name_len - 7 : s->name_len;
        sw_status st = try_candidate(b, c, s->name, len, err);
        if (st != SW_OK)
            return st;
    }
    return b->rs->n_nameless > 0 ? try_nameless(b, s, native, err) : SW_OK;
}

/* Order-independent identity of a series from this batch's source, with or without `le`. */
static void
series_keys(const sw_prommap_batch *b, const sw_prom_sample *s, uint64_t *key,
            uint64_t *hist_key, double *le)
{
    uint64_t sum = 0, le_part = 0;
    *le = NAN;
    for (size_t i = 0; i < s->n_labels + b->n_labels; i++) {
        const sw_prom_label *l = i < s->n_labels ? &s->labels[i] : &b->labels[i - s->n_labels];
        uint64_t h = sw_hash_mix(sw_hash_bytes(l->name, l->name_len, 1) ^
                                 sw_hash_bytes(l->value, l->value_len, 2));
        if (l->name_len == 2 && memcmp(l->name, "le", 2) == 0 && i < s->n_labels) {
            le_part = h;
            char buf[64];
            size_t n = l->value_len < sizeof buf - 1 ? l->value_len : sizeof buf - 1;
            memcpy(buf, l->value, n);
            buf[n] = '\0';
            char *end;
            double v = strtod(buf, &end);
            *le = end != buf && *end == '\0' && n == l->value_len ? v : NAN;
            continue;
        }
        sum += h;
    }
    uint64_t base = sw_hash_mix(b->source ^ sw_hash_bytes(s->name, s->name_len, 3));
    *hist_key = sw_hash_mix(base + sum);
    *key = sw_hash_mix(base + sum + le_part);
}

static sw_status
push_update(sw_prommap_batch *b, const sw_prom_sample *s, size_t first_hit,
            sw_native_dense *native, sw_err *err)
{
    if (b->n_u == b->cap_u) {
        size_t cap = b->cap_u ? 2 * b->cap_u : 64;
        update *grown = realloc(b->u, cap * sizeof *grown);
        if (grown == NULL)
            return sw_err_set(err, SW_E_NOMEM, "out of memory collecting samples");
        b->u = grown;
        b->cap_u = cap;
    }
    update *u = &b->u[b->n_u];
    *u = (update){.at_ms = s->has_timestamp ? s->timestamp_ms : b->at_ms,
                  .value = s->value,
                  .native = native,
                  .first_hit = first_hit,
                  .n_hits = b->n_hits - first_hit};
    series_keys(b, s, &u->key, &u->hist_key, &u->le);
    b->n_u++;
    return SW_OK;
}

static sw_status
on_sample(void *ctx, const sw_prom_sample *s, sw_err *err)
{
    sw_prommap_batch *b = ctx;
    b->samples++;
    size_t first = b->n_hits;
    sw_status st = match(b, s, false, err);
    if (st != SW_OK || b->n_hits == first)
        return st;
    return push_update(b, s, first, NULL, err);
}

static sw_status
on_native(void *ctx, const sw_prom_sample *s, const sw_prom_native *h, sw_err *err)
{
    sw_prommap_batch *b = ctx;
    b->samples++;
    size_t first = b->n_hits;
    sw_status st = match(b, s, true, err);
    if (st != SW_OK || b->n_hits == first)
        return st;
    sw_native_dense *d = calloc(1, sizeof *d);
    if (d == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory collecting a native histogram");
    if ((st = sw_native_dense_set(d, h, err)) == SW_OK &&
        (st = push_update(b, s, first, d, err)) == SW_OK)
        b->u[b->n_u - 1].gauge = h->gauge;
    if (st != SW_OK) {
        sw_native_dense_fini(d);
        free(d);
        b->n_hits = first;
        if (st == SW_E_TOOBIG) {
            b->invalid++;
            return SW_OK;
        }
    }
    return st;
}

/* ------------------------------------------------------------------ batches */

static void
batch_free(sw_prommap_batch *b)
{
    for (size_t i = 0; i < b->n_u; i++)
        if (b->u[i].native != NULL) {
            sw_native_dense_fini(b->u[i].native);
            free(b->u[i].native);
        }
    for (size_t i = 0; i < b->n_labels; i++) {
        free((char *)b->labels[i].name);
        free((char *)b->labels[i].value);
    }
    free(b->labels);
    free(b->u);
    free(b->hits);
    sw_buf_fini(&b->scratch);
    pthread_mutex_lock(&b->m->lock);
    ruleset_unref(b->rs);
    pthread_mutex_unlock(&b->m->lock);
    free(b);
}

static sw_status
copy_labels(sw_prommap_batch *b, const sw_prom_label *labels, size_t n, sw_err *err)
{
    b->labels = calloc(n + 1, sizeof *b->labels);
    if (b->labels == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory opening a batch");
    for (; b->n_labels < n; b->n_labels++) {
        const sw_prom_label *l = &labels[b->n_labels];
        sw_prom_label *c = &b->labels[b->n_labels];
        c->name = strndup(l->name, l->name_len);
        c->value = strndup(l->value, l->value_len);
        c->name_len = l->name_len;
        c->value_len = l->value_len;
        if (c->name == NULL || c->value == NULL) {
            free((char *)c->name);
            free((char *)c->value);
            return sw_err_set(err, SW_E_NOMEM, "out of memory opening a batch");
        }
    }
    return SW_OK;
}

sw_status
sw_prommap_begin(sw_prommap *m, const char *source, const sw_prom_label *labels,
                 size_t n_labels, int64_t at_ms, sw_prommap_batch **ret, sw_err *err)
{
    sw_prommap_batch *b = calloc(1, sizeof *b);
    if (b == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory opening a batch");
    b->m = m;
    b->source = sw_hash_bytes(source, strlen(source), 4);
    b->at_ms = at_ms;
    sw_buf_init(&b->scratch, MATCH_SCRATCH + 1);
    pthread_mutex_lock(&m->lock);
    b->rs = m->rs;
    b->rs->refs++;
    pthread_mutex_unlock(&m->lock);
    sw_status st = copy_labels(b, labels, n_labels, err);
    if (st != SW_OK) {
        batch_free(b);
        return st;
    }
    *ret = b;
    return SW_OK;
}

sw_prom_sink
sw_prommap_sink(sw_prommap_batch *b)
{
    return (sw_prom_sink){b, on_sample, on_native};
}

void
sw_prommap_abort(sw_prommap_batch *b)
{
    if (b != NULL)
        batch_free(b);
}

/* ------------------------------------------------------------------ series state */

static void
rebuild_state_index(sw_prommap *m)
{
    sw_u64map_fini(&m->state_at);
    for (size_t i = 0; i < m->n_states; i++)
        if (sw_u64map_put(&m->state_at, m->states[i].key, i, NULL) != SW_OK)
            break; /* smaller than the map it replaces: only fails when memory is gone */
}

/* Forget the series keep() refuses; returns how many went. */
static size_t
drop_states(sw_prommap *m, bool (*keep)(const series_state *, const void *), const void *ctx)
{
    size_t kept = 0, n = m->n_states;
    for (size_t i = 0; i < n; i++) {
        if (keep(&m->states[i], ctx))
            m->states[kept++] = m->states[i];
        else
            state_fini(&m->states[i]);
    }
    m->n_states = kept;
    if (kept != n)
        rebuild_state_index(m);
    return n - kept;
}

static bool
heard_since(const series_state *s, const void *ctx)
{
    return s->last_ms >= *(const int64_t *)ctx;
}

static bool
other_source(const series_state *s, const void *ctx)
{
    return s->source != *(const uint64_t *)ctx;
}

static void
evict_silent(sw_prommap *m, int64_t silence_ms)
{
    int64_t since = m->newest_ms - silence_ms;
    m->stats.evicted += drop_states(m, heard_since, &since);
}

/* The state of key, made (without a value yet) when new; NULL when full or out of memory. */
static series_state *
state_for(sw_prommap *m, uint64_t key, uint64_t source, bool *is_new)
{
    size_t i;
    *is_new = false;
    if (sw_u64map_get(&m->state_at, key, &i))
        return &m->states[i];
    if (m->n_states >= SW_PROMMAP_MAX_SERIES)
        evict_silent(m, 5 * 60 * 1000); /* Prometheus' staleness: such series have ended */
    if (m->n_states >= SW_PROMMAP_MAX_SERIES)
        return NULL;
    if (m->n_states == m->cap_states) {
        size_t cap = m->cap_states ? 2 * m->cap_states : 256;
        series_state *grown = realloc(m->states, cap * sizeof *grown);
        if (grown == NULL)
            return NULL;
        m->states = grown;
        m->cap_states = cap;
    }
    if (sw_u64map_put(&m->state_at, key, m->n_states, NULL) != SW_OK)
        return NULL;
    *is_new = true;
    series_state *s = &m->states[m->n_states++];
    *s = (series_state){.key = key, .source = source, .last_ms = INT64_MIN};
    return s;
}

static void
drop_state(sw_prommap *m, uint64_t key)
{
    size_t i;
    if (!sw_u64map_get(&m->state_at, key, &i))
        return;
    state_fini(&m->states[i]);
    sw_u64map_del(&m->state_at, key);
    size_t last = --m->n_states;
    if (i != last) {
        m->states[i] = m->states[last];
        /* Re-pointing a key the map holds never grows it, so this cannot fail. */
        sw_u64map_put(&m->state_at, m->states[i].key, i, NULL);
    }
}

void
sw_prommap_forget(sw_prommap *m, const char *source)
{
    uint64_t h = sw_hash_bytes(source, strlen(source), 4);
    pthread_mutex_lock(&m->lock);
    drop_states(m, other_source, &h);
    pthread_mutex_unlock(&m->lock);
}

/* ------------------------------------------------------------------ classic histograms */

static int64_t
interval_start(int64_t at_ms, int64_t base_ms)
{
    return at_ms - ((at_ms % base_ms) + base_ms) % base_ms;
}

static sw_status
pending_add(sw_prommap *m, const target *t, int32_t env, uint64_t hist_key, int64_t start_ms,
            double le, double delta, sw_err *err)
{
    uint64_t key = sw_hash_mix(hist_key ^ sw_hash_mix((uint64_t)(uintptr_t)t) ^
                               sw_hash_mix((uint64_t)start_ms + (uint64_t)(env + 2)));
    size_t i;
    if (!sw_u64map_get(&m->pend_at, key, &i)) {
        if (m->n_pend == m->cap_pend) {
            size_t cap = m->cap_pend ? 2 * m->cap_pend : 64;
            pending *grown = realloc(m->pend, cap * sizeof *grown);
            if (grown == NULL)
                return sw_err_set(err, SW_E_NOMEM, "out of memory joining histogram buckets");
            m->pend = grown;
            m->cap_pend = cap;
        }
        i = m->n_pend;
        sw_status st = sw_u64map_put(&m->pend_at, key, i, err);
        if (st != SW_OK)
            return st;
        m->pend[m->n_pend++] = (pending){.key = key, .t = t, .env = env, .start_ms = start_ms};
    }
    pending *p = &m->pend[i];
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 16;
        bucket_delta *grown = realloc(p->b, cap * sizeof *grown);
        if (grown == NULL)
            return sw_err_set(err, SW_E_NOMEM, "out of memory joining histogram buckets");
        p->b = grown;
        p->cap = cap;
    }
    p->b[p->n++] = (bucket_delta){le, delta};
    return SW_OK;
}

static int
by_le(const void *a, const void *b)
{
    double x = ((const bucket_delta *)a)->le, y = ((const bucket_delta *)b)->le;
    return (x > y) - (x < y);
}

static const char *
env_name(const target *t, int32_t env)
{
    return env >= 0 ? t->envs[env] : NULL;
}

/* Add a latency histogram to the interval starting at start_ms. */
static sw_status
add_latency(sw_prommap *m, const target *t, int32_t env, int64_t start_ms, sw_hdr *h,
            sw_err *err)
{
    sw_sli_interval iv = {.start_ms = start_ms, .length_ms = m->rs->base_ms, .latency = h,
                          .has_data = true};
    return sw_accum_batch_interval(m->out, t->service, env_name(t, env), &iv, err);
}

/* Cumulative bucket increases into per-bucket counts, each spread over its bucket. */
static sw_status
spread_pending(sw_prommap *m, pending *p, sw_err *err)
{
    qsort(p->b, p->n, sizeof *p->b, by_le);
    sw_hdr *h;
    sw_status st = sw_hdr_new(&sw_hdr_latency_config, &h, err);
    double below = 0, lo = -INFINITY;
    for (size_t i = 0; st == SW_OK && i < p->n;) {
        double le = p->b[i].le, cum = 0;
        for (; i < p->n && p->b[i].le == le; i++)
            cum += p->b[i].delta;
        double n = cum - below;
        if (n >= 0.5)
            st = sw_promhist_spread(h, lo, le, (uint64_t)llround(n), p->t->unit_us, err);
        below = cum > below ? cum : below;
        lo = le;
    }
    if (st == SW_OK)
        st = add_latency(m, p->t, p->env, p->start_ms, h, err);
    sw_hdr_free(h);
    return st;
}

/* Start gathering what m hands the accumulators (under m->lock). */
static sw_status
out_begin(sw_prommap *m, sw_err *err)
{
    m->out = sw_accum_batch_new(m->accum);
    return m->out != NULL ? SW_OK
                          : sw_err_set(err, SW_E_NOMEM, "out of memory gathering intervals");
}

/* Commit what was gathered in one piece; when a part failed (first), commit it anyway only if
 * partial is true. Returns the first error. */
static sw_status
out_commit(sw_prommap *m, sw_status first, bool partial, sw_err *err)
{
    sw_status st = first;
    if (first == SW_OK || partial) {
        sw_err e;
        sw_status c = sw_accum_commit(m->accum, m->out, first == SW_OK ? err : &e);
        st = first == SW_OK ? c : first;
    }
    sw_accum_batch_free(m->out);
    m->out = NULL;
    return st;
}

/* Spread and hand over every pending histogram of an interval ending at or before until_ms. */
static sw_status
flush_locked(sw_prommap *m, int64_t until_ms, sw_err *err)
{
    sw_status first = out_begin(m, err);
    if (first != SW_OK)
        return first;
    size_t kept = 0, n = m->n_pend;
    int64_t base = m->rs->base_ms;
    for (size_t i = 0; i < n; i++) {
        pending *p = &m->pend[i];
        if (p->start_ms + base > until_ms) {
            m->pend[kept++] = *p;
            continue;
        }
        sw_err e;
        sw_status st = spread_pending(m, p, &e);
        if (st != SW_OK && first == SW_OK) {
            first = st;
            if (err != NULL)
                *err = e;
        }
        free(p->b);
    }
    m->n_pend = kept;
    if (kept != n) {
        sw_u64map_fini(&m->pend_at);
        for (size_t i = 0; i < kept; i++)
            if (sw_u64map_put(&m->pend_at, m->pend[i].key, i, err) != SW_OK && first == SW_OK)
                first = SW_E_NOMEM;
    }
    return out_commit(m, first, true, err);
}

sw_status
sw_prommap_flush(sw_prommap *m, int64_t until_ms, sw_err *err)
{
    pthread_mutex_lock(&m->lock);
    sw_status st = flush_locked(m, until_ms, err);
    if (m->newest_ms - m->swept_ms >= SWEEP_EVERY_MS) {
        evict_silent(m, SILENCE_MS);
        m->swept_ms = m->newest_ms;
    }
    pthread_mutex_unlock(&m->lock);
    return st;
}

sw_status
sw_prommap_set_rules(sw_prommap *m, const sw_rules *rules, sw_err *err)
{
    ruleset *rs;
    sw_status st = ruleset_new(rules, &rs, err);
    if (st != SW_OK)
        return st;
    pthread_mutex_lock(&m->lock);
    /* Pending histograms point at the old targets: hand them over before those go. */
    st = flush_locked(m, INT64_MAX, err);
    ruleset *old = m->rs;
    m->rs = rs;
    ruleset_unref(old);
    pthread_mutex_unlock(&m->lock);
    return st;
}

/* ------------------------------------------------------------------ commit */

static bool
is_stale_marker(double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    return bits == UINT64_C(0x7ff0000000000002);
}

static sw_status
apply_native(sw_prommap *m, const target *t, int32_t env, update *u, const series_state *s,
             sw_err *err)
{
    sw_native_dense delta = {0};
    bool reset = false;
    const sw_native_dense *use = u->native;
    sw_status st = SW_OK;
    if (!u->gauge) {
        if (s->native == NULL)
            return SW_OK; /* the first histogram of a series only sets its baseline */
        st = sw_native_dense_delta(u->native, s->native, &delta, &reset, err);
        use = &delta;
    }
    sw_hdr *h = NULL;
    if (st == SW_OK)
        st = sw_hdr_new(&sw_hdr_latency_config, &h, err);
    if (st == SW_OK)
        st = sw_native_dense_record(use, t->unit_us, h, err);
    if (st == SW_OK)
        st = add_latency(m, t, env, interval_start(u->at_ms, m->rs->base_ms), h, err);
    sw_hdr_free(h);
    sw_native_dense_fini(&delta);
    return st;
}

/* What one matching sample means for one target, given the series' previous value. */
static sw_status
apply_hit(sw_prommap *m, const hit *h, update *u, const series_state *s, bool baseline,
          sw_err *err)
{
    const target *t = &m->rs->targets[h->target];
    const char *env = env_name(t, h->env);
    double delta = baseline ? 0 : (u->value >= s->last ? u->value - s->last : u->value);
    if (t->role != ROLE_HEALTH && !(delta < 0x1p63)) /* counts are checked 64-bit sums */
        return sw_err_set(err, SW_E_RANGE, "%s: a counter increase of %g is over 2^63", t->service,
                          delta);
    uint64_t n = (uint64_t)llround(delta);
    switch (t->role) {
    case ROLE_HEALTH:
        return sw_accum_batch_probe(m->out, t->service, env, u->at_ms, u->value != 0, err);
    case ROLE_REQUESTS:
        return baseline ? SW_OK
                        : sw_accum_batch_counts(m->out, t->service, env, u->at_ms, n, 0, err);
    case ROLE_ERRORS:
        return baseline ? SW_OK
                        : sw_accum_batch_counts(m->out, t->service, env, u->at_ms, 0, n, err);
    case ROLE_LATENCY:
        if (u->native != NULL)
            return apply_native(m, t, h->env, u, s, err);
        return baseline ? SW_OK
                        : pending_add(m, t, h->env, u->hist_key,
                                      interval_start(u->at_ms, m->rs->base_ms), u->le, delta,
                                      err);
    }
    return SW_OK;
}

/* Is the value usable for every target it matched? */
static bool
valid_for(const sw_prommap *m, const sw_prommap_batch *b, const update *u)
{
    if (u->native != NULL)
        return true;
    if (!isfinite(u->value))
        return false;
    for (size_t i = 0; i < u->n_hits; i++) {
        role r = m->rs->targets[b->hits[u->first_hit + i].target].role;
        if (r != ROLE_HEALTH && u->value < 0)
            return false;
        if (r == ROLE_LATENCY && isnan(u->le))
            return false;
    }
    return true;
}

static sw_status
apply_update(sw_prommap *m, sw_prommap_batch *b, update *u, sw_err *err)
{
    if (u->native == NULL && is_stale_marker(u->value)) {
        drop_state(m, u->key); /* the series ended; if it comes back, it starts over */
        return SW_OK;
    }
    if (!valid_for(m, b, u)) {
        m->stats.invalid++;
        return SW_OK;
    }
    bool is_new;
    series_state *s = state_for(m, u->key, b->source, &is_new);
    if (s == NULL) {
        m->stats.evicted++;
        return SW_OK;
    }
    if (!is_new && u->at_ms <= s->last_ms) {
        m->stats.out_of_order++;
        return SW_OK;
    }
    m->stats.matched++;
    sw_status first = SW_OK;
    for (size_t i = 0; i < u->n_hits; i++) {
        sw_status st = apply_hit(m, &b->hits[u->first_hit + i], u, s, is_new, err);
        first = first == SW_OK ? st : first;
    }
    s->last = u->value;
    s->last_ms = u->at_ms;
    if (u->native != NULL) {
        if (s->native != NULL) {
            sw_native_dense_fini(s->native);
            free(s->native);
        }
        s->native = u->native;
        u->native = NULL;
    }
    m->newest_ms = u->at_ms > m->newest_ms ? u->at_ms : m->newest_ms;
    return first;
}

sw_status
sw_prommap_commit(sw_prommap_batch *b, sw_err *err)
{
    sw_prommap *m = b->m;
    pthread_mutex_lock(&m->lock);
    sw_status first = out_begin(m, err);
    if (first != SW_OK) {
        pthread_mutex_unlock(&m->lock);
        batch_free(b);
        return first;
    }
    m->stats.samples += b->samples;
    m->stats.invalid += b->invalid;
    m->stats.no_env += b->no_env;
    /*
     * A batch that straddled a reload matched against selectors that are gone: drop it. The
     * series' counter state is untouched, so their next samples carry the increase.
     */
    for (size_t i = 0; b->rs == m->rs && i < b->n_u; i++) {
        sw_status st = apply_update(m, b, &b->u[i], err);
        first = first == SW_OK ? st : first;
    }
    /* The batch reaches the accumulators whole or not at all. */
    first = out_commit(m, first, false, err);
    pthread_mutex_unlock(&m->lock);
    batch_free(b);
    return first;
}
