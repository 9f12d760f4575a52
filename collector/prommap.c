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
#include "prommap_int.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "slawatch/hash.h"
#include "slawatch/promhist.h"
#include "slawatch/selector.h"
#include "slawatch/u64map.h"

#define MATCH_SCRATCH (64u << 10) /* longest label value a regex is tested against */
#define ENV_LABEL "env"

/* ------------------------------------------------------------------ compiling the rules */

static void
ruleset_unref(ruleset *rs)
{
    if (rs == NULL || --rs->refs > 0)
        return;
    for (size_t i = 0; i < rs->n_targets; i++) {
        target *t = &rs->targets[i];
        free(t->service);
        free(t->by);
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
    if (svc->by != NULL) {
        t->by = strdup(svc->by);
        t->by_limit = svc->by_limit;
        t->by_idle_ms = svc->by_idle_ms;
    }
    if (t->service == NULL || t->envs == NULL || (svc->by != NULL && t->by == NULL))
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
    sw_u64map_init(&m->value_at);
    *ret = m;
    return SW_OK;
}

void
sw_prommap_free(sw_prommap *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->n_states; i++)
        sw_prommap_state_fini(&m->states[i]);
    for (size_t i = 0; i < m->n_pend; i++) {
        free(m->pend[i].b);
        free(m->pend[i].value_key);
    }
    free(m->states);
    free(m->srcs);
    free(m->pend);
    sw_u64map_fini(&m->state_at);
    sw_u64map_fini(&m->pend_at);
    sw_prommap_by_fini(m);
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

/* The value of t's by label on the sample, copied into the batch (the sample's labels are
 * lent); it is admitted, or refused, at the commit (prommap_by.c). */
static sw_status
keep_by_value(sw_prommap_batch *b, const target *t, hit *h, sw_err *err)
{
    const char *v;
    size_t len;
    lookup_label(b, t->by, &v, &len);
    if (b->cap_values - b->n_values < len) {
        size_t cap = b->cap_values ? 2 * b->cap_values : 256;
        while (cap - b->n_values < len)
            cap *= 2;
        char *grown = realloc(b->values, cap);
        if (grown == NULL)
            return sw_err_set(err, SW_E_NOMEM, "out of memory collecting samples");
        b->values = grown;
        b->cap_values = cap;
    }
    if (len > 0)
        memcpy(b->values + b->n_values, v, len);
    h->value_at = b->n_values;
    h->value_len = len;
    b->n_values += len;
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
    hit h = {(uint32_t)c->target, env, 0, 0};
    sw_status st = t->by != NULL ? keep_by_value(b, t, &h, err) : SW_OK;
    return st == SW_OK ? push_hit(b, h, err) : st;
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

/* The family part of a sample name: without `_total`, `_bucket` or `_created`. */
static size_t
family_len(const char *name, size_t len)
{
    static const char *const suffixes[] = {"_total", "_bucket", "_created"};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        size_t n = strlen(suffixes[i]);
        if (len > n && memcmp(name + len - n, suffixes[i], n) == 0)
            return len - n;
    }
    return len;
}

/* Order-independent identity of a series from this batch's source, with or without `le`, and
 * of its family (what its `_created` sample is keyed by). */
static void
series_keys(const sw_prommap_batch *b, const sw_prom_sample *s, uint64_t *key,
            uint64_t *hist_key, uint64_t *family_key, double *le)
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
    uint64_t family = sw_hash_bytes(s->name, family_len(s->name, s->name_len), 5);
    *family_key = sw_hash_mix(sw_hash_mix(b->source ^ family) + sum);
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
    series_keys(b, s, &u->key, &u->hist_key, &u->family_key, &u->le);
    b->n_u++;
    return SW_OK;
}

/* Could name_len bytes of name, with suffix, be a series some selector takes? */
static bool
wanted_name(ruleset *rs, const char *name, size_t len, const char *suffix)
{
    char full[512];
    size_t n = strlen(suffix);
    if (len + n >= sizeof full)
        return false;
    memcpy(full, name, len);
    memcpy(full + len, suffix, n);
    return name_slot(rs, full, len + n) != NULL;
}

/* Keep a `_created` sample of a family some selector may take. */
static sw_status
note_created(sw_prommap_batch *b, const sw_prom_sample *s, sw_err *err)
{
    size_t len = family_len(s->name, s->name_len);
    if (b->rs->n_nameless == 0 && !wanted_name(b->rs, s->name, len, "_total") &&
        !wanted_name(b->rs, s->name, len, "_bucket") && !wanted_name(b->rs, s->name, len, ""))
        return SW_OK;
    if (b->n_cr == b->cap_cr) {
        size_t cap = b->cap_cr ? 2 * b->cap_cr : 16;
        created *grown = realloc(b->cr, cap * sizeof *grown);
        if (grown == NULL)
            return sw_err_set(err, SW_E_NOMEM, "out of memory collecting samples");
        b->cr = grown;
        b->cap_cr = cap;
    }
    uint64_t key, hist_key;
    double le;
    created *c = &b->cr[b->n_cr++];
    series_keys(b, s, &key, &hist_key, &c->family_key, &le);
    c->at = s->value;
    return SW_OK;
}

/* The samples that say when counting began (promstart.h). */
static sw_status
note_start(sw_prommap_batch *b, const sw_prom_sample *s, sw_err *err)
{
    static const char process_start[] = "process_start_time_seconds";
    if (s->name_len == sizeof process_start - 1 &&
        memcmp(s->name, process_start, sizeof process_start - 1) == 0) {
        b->process_start = s->value;
        return SW_OK;
    }
    size_t len = family_len(s->name, s->name_len);
    if (len + 8 == s->name_len && memcmp(s->name + len, "_created", 8) == 0)
        return note_created(b, s, err);
    return SW_OK;
}

static sw_status
on_sample(void *ctx, const sw_prom_sample *s, sw_err *err)
{
    sw_prommap_batch *b = ctx;
    b->samples++;
    sw_status noted = note_start(b, s, err);
    if (noted != SW_OK)
        return noted;
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

void
sw_prommap_batch_free(sw_prommap_batch *b)
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
    free(b->cr);
    free(b->u);
    free(b->hits);
    free(b->values);
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
    b->process_start = NAN;
    sw_buf_init(&b->scratch, MATCH_SCRATCH + 1);
    pthread_mutex_lock(&m->lock);
    b->rs = m->rs;
    b->rs->refs++;
    pthread_mutex_unlock(&m->lock);
    sw_status st = copy_labels(b, labels, n_labels, err);
    if (st != SW_OK) {
        sw_prommap_batch_free(b);
        return st;
    }
    *ret = b;
    return SW_OK;
}

void
sw_prommap_mark_scrape(sw_prommap_batch *b)
{
    b->scrape = true;
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
        sw_prommap_batch_free(b);
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
    st = sw_prommap_flush_locked(m, INT64_MAX, err);
    ruleset *old = m->rs;
    m->rs = rs;
    ruleset_unref(old);
    sw_prommap_by_retain(m, rs);
    pthread_mutex_unlock(&m->lock);
    return st;
}
