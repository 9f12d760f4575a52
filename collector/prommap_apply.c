/*
 * The Prometheus sample map's second half (see prommap.h): per-series counter state, classic
 * histogram buckets joined per interval until flush, and commit, which turns each update into
 * increases for the accumulators under the map's lock, as promstart.h says new series and
 * restarts count.
 */
#include "prommap_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "slawatch/hash.h"
#include "slawatch/promstart.h"

#define SILENCE_MS (3600 * 1000)   /* a series without samples this long is forgotten */
#define SWEEP_EVERY_MS (60 * 1000) /* how often flush looks for such series */

/* ------------------------------------------------------------------ series state */

void
sw_prommap_state_fini(series_state *s)
{
    if (s->native != NULL) {
        sw_native_dense_fini(s->native);
        free(s->native);
    }
}

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
            sw_prommap_state_fini(&m->states[i]);
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
    *s = (series_state){.key = key, .source = source, .last_ms = INT64_MIN, .created = NAN};
    return s;
}

static void
drop_state(sw_prommap *m, uint64_t key)
{
    size_t i;
    if (!sw_u64map_get(&m->state_at, key, &i))
        return;
    sw_prommap_state_fini(&m->states[i]);
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
    for (size_t i = 0; i < m->n_srcs; i++)
        if (m->srcs[i].source == h)
            m->srcs[i] = m->srcs[--m->n_srcs];
    pthread_mutex_unlock(&m->lock);
}

/* ------------------------------------------------------------------ classic histograms */

static int64_t
interval_start(int64_t at_ms, int64_t base_ms)
{
    return at_ms - ((at_ms % base_ms) + base_ms) % base_ms;
}

static sw_status
pending_add(sw_prommap *m, const target *t, const char *service, int32_t env, uint64_t hist_key,
            int64_t start_ms, double le, double delta, sw_err *err)
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
        char *value_key = NULL;
        if (t->by != NULL && (value_key = strdup(service)) == NULL)
            return sw_err_set(err, SW_E_NOMEM, "out of memory joining histogram buckets");
        sw_status st = sw_u64map_put(&m->pend_at, key, i, err);
        if (st != SW_OK) {
            free(value_key);
            return st;
        }
        m->pend[m->n_pend++] =
            (pending){.key = key, .t = t, .value_key = value_key, .env = env, .start_ms = start_ms};
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

/*
 * Add a latency histogram to the interval starting at start_ms: an increase of cumulative
 * buckets (carried to an open interval when that one was taken), or a gauge histogram's own.
 */
static sw_status
add_latency(sw_prommap *m, const target *t, const char *service, int32_t env, int64_t start_ms,
            sw_hdr *h, bool gauge, sw_err *err)
{
    if (!gauge)
        return sw_accum_batch_increase(m->out, service, env_name(t, env), start_ms, 0, 0, h, err);
    sw_sli_interval iv = {
        .start_ms = start_ms, .length_ms = m->rs->base_ms, .latency = h, .has_data = true};
    return sw_accum_batch_interval(m->out, service, env_name(t, env), &iv, err);
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
        st = add_latency(m, p->t, p->value_key != NULL ? p->value_key : p->t->service, p->env,
                         p->start_ms, h, false, err);
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
        m->stats.late += sw_accum_batch_late(m->out);
    }
    sw_accum_batch_free(m->out);
    m->out = NULL;
    return st;
}

/* Spread and hand over every pending histogram of an interval ending at or before until_ms. */
sw_status
sw_prommap_flush_locked(sw_prommap *m, int64_t until_ms, sw_err *err)
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
        free(p->value_key);
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
    sw_status st = sw_prommap_flush_locked(m, until_ms, err);
    if (m->newest_ms - m->swept_ms >= SWEEP_EVERY_MS) {
        evict_silent(m, SILENCE_MS);
        sw_prommap_by_sweep(m, m->newest_ms);
        m->swept_ms = m->newest_ms;
    }
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
apply_native(sw_prommap *m, const target *t, const char *service, int32_t env, update *u,
             const series_state *s, sw_promstart_use how, sw_err *err)
{
    sw_native_dense delta = {0};
    bool reset = false;
    const sw_native_dense *use = u->native;
    sw_status st = SW_OK;
    if (!u->gauge && how != SW_PROMSTART_FROM_ZERO) {
        if (how == SW_PROMSTART_BASELINE || s->native == NULL)
            return SW_OK; /* the histogram only sets the series' baseline */
        st = sw_native_dense_delta(u->native, s->native, &delta, &reset, err);
        use = &delta;
    }
    sw_hdr *h = NULL;
    if (st == SW_OK)
        st = sw_hdr_new(&sw_hdr_latency_config, &h, err);
    if (st == SW_OK)
        st = sw_native_dense_record(use, t->unit_us, h, err);
    if (st == SW_OK)
        st = add_latency(m, t, service, env, interval_start(u->at_ms, m->rs->base_ms), h, u->gauge,
                         err);
    sw_hdr_free(h);
    sw_native_dense_fini(&delta);
    return st;
}

/* What one matching sample means for one target: delta is its increase (promstart.h). */
static sw_status
apply_hit(sw_prommap *m, const hit *h, const char *service, update *u, const series_state *s,
          sw_promstart_use how, double delta, sw_err *err)
{
    const target *t = &m->rs->targets[h->target];
    const char *env = env_name(t, h->env);
    bool baseline = how == SW_PROMSTART_BASELINE;
    if (t->role != ROLE_HEALTH && !(delta < 0x1p63)) /* counts are checked 64-bit sums */
        return sw_err_set(err, SW_E_RANGE, "%s: a counter increase of %g is over 2^63", t->service,
                          delta);
    /* service: t's, or for a service with by the key of the sample's label value */
    uint64_t n = (uint64_t)llround(delta);
    switch (t->role) {
    case ROLE_HEALTH:
        return sw_accum_batch_probe(m->out, service, env, u->at_ms, u->value != 0, err);
    case ROLE_REQUESTS:
        return baseline ? SW_OK
                        : sw_accum_batch_increase(m->out, service, env, u->at_ms, n, 0, NULL, err);
    case ROLE_ERRORS:
        return baseline ? SW_OK
                        : sw_accum_batch_increase(m->out, service, env, u->at_ms, 0, n, NULL, err);
    case ROLE_LATENCY:
        if (u->native != NULL)
            return apply_native(m, t, service, h->env, u, s, how, err);
        return baseline ? SW_OK
                        : pending_add(m, t, service, h->env, u->hist_key,
                                      interval_start(u->at_ms, m->rs->base_ms), u->le, delta, err);
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

static int
by_family_key(const void *a, const void *b)
{
    uint64_t x = ((const created *)a)->family_key, y = ((const created *)b)->family_key;
    return (x > y) - (x < y);
}

/* The `_created` the batch holds for the series of u (NaN: none); cr is sorted. */
static double
created_of(const sw_prommap_batch *b, const update *u)
{
    if (b->n_cr == 0)
        return NAN;
    created want = {.family_key = u->family_key};
    const created *c = bsearch(&want, b->cr, b->n_cr, sizeof *b->cr, by_family_key);
    return c != NULL ? c->at : NAN;
}

/* How the update's value counts, from the series' state and the start times; counted. */
static sw_promstart_use
judge_start(sw_prommap *m, const sw_prommap_batch *b, const update *u, const series_state *s,
            const scrape_src *src, double process_start, double *ret_delta)
{
    sw_promstart_in in = {.at_ms = u->at_ms,
                          .base_ms = m->rs->base_ms,
                          .known = s->last_ms != INT64_MIN,
                          .last_ms = s->last_ms,
                          .created = created_of(b, u),
                          .created_before = s->created,
                          .process_start = process_start,
                          .scrape = b->scrape,
                          .since_ms = src != NULL ? src->last_ms : INT64_MIN};
    sw_promstart_out out;
    sw_promstart_judge(&in, &out);
    sw_prommap_stats *st = &m->stats;
    st->start_ignored[out.created_bad] += out.created_bad != SW_PROMSTART_NONE;
    if (out.use == SW_PROMSTART_FROM_ZERO && !in.known)
        st->started[out.why]++;
    if (out.reset)
        st->resets[out.reset_by_created ? SW_PROMMAP_RESET_CREATED
                                        : SW_PROMMAP_RESET_PROCESS_START]++;
    bool decrease = out.use == SW_PROMSTART_CONTINUE && u->native == NULL && u->value < s->last;
    st->resets[SW_PROMMAP_RESET_DECREASE] += decrease;
    *ret_delta = out.use == SW_PROMSTART_BASELINE                ? 0
                 : out.use == SW_PROMSTART_FROM_ZERO || decrease ? u->value
                                                                 : u->value - s->last;
    return out.use;
}

/* The series a hit adds to: its service, or the admitted label value's (NULL: refused). */
static const char *
hit_service(sw_prommap *m, const sw_prommap_batch *b, const hit *h, int64_t at_ms)
{
    const target *t = &m->rs->targets[h->target];
    if (t->by == NULL)
        return t->service;
    return sw_prommap_by_admit(m, t, b->values + h->value_at, h->value_len, at_ms);
}

static sw_status
apply_update(sw_prommap *m, sw_prommap_batch *b, update *u, const scrape_src *src,
             double process_start, sw_err *err)
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
    double delta;
    sw_promstart_use how = judge_start(m, b, u, s, src, process_start, &delta);
    sw_status first = SW_OK;
    for (size_t i = 0; i < u->n_hits; i++) {
        const hit *h = &b->hits[u->first_hit + i];
        const char *service = hit_service(m, b, h, u->at_ms);
        sw_status st = service != NULL ? apply_hit(m, h, service, u, s, how, delta, err) : SW_OK;
        first = first == SW_OK ? st : first;
    }
    s->created = created_of(b, u);
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

/* The previous scrape of the batch's target, made (never scraped) when new; NULL: no memory. */
static scrape_src *
scrape_src_of(sw_prommap *m, uint64_t source)
{
    for (size_t i = 0; i < m->n_srcs; i++)
        if (m->srcs[i].source == source)
            return &m->srcs[i];
    if (m->n_srcs == m->cap_srcs) {
        size_t cap = m->cap_srcs ? 2 * m->cap_srcs : 16;
        scrape_src *grown = realloc(m->srcs, cap * sizeof *grown);
        if (grown == NULL)
            return NULL;
        m->srcs = grown;
        m->cap_srcs = cap;
    }
    scrape_src *src = &m->srcs[m->n_srcs++];
    *src = (scrape_src){source, INT64_MIN, NAN};
    return src;
}

/* Apply every update; for a scrape, against what the target's previous scrape said. */
static sw_status
apply_batch(sw_prommap *m, sw_prommap_batch *b, sw_err *err)
{
    scrape_src *src = b->scrape ? scrape_src_of(m, b->source) : NULL;
    double process_start = NAN;
    if (src != NULL) {
        sw_promstart_bad bad;
        process_start = sw_promstart_process(b->process_start, src->process_start, b->at_ms,
                                             src->last_ms, &bad);
        m->stats.start_ignored[bad] += bad != SW_PROMSTART_NONE;
    }
    if (b->n_cr > 1)
        qsort(b->cr, b->n_cr, sizeof *b->cr, by_family_key);
    sw_status first = SW_OK;
    for (size_t i = 0; i < b->n_u; i++) {
        sw_status st = apply_update(m, b, &b->u[i], src, process_start, err);
        first = first == SW_OK ? st : first;
    }
    if (src != NULL) {
        src->last_ms = b->at_ms;
        if (isfinite(b->process_start))
            src->process_start = b->process_start;
    }
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
        sw_prommap_batch_free(b);
        return first;
    }
    m->stats.samples += b->samples;
    m->stats.invalid += b->invalid;
    m->stats.no_env += b->no_env;
    /*
     * A batch that straddled a reload matched against selectors that are gone: drop it. The
     * series' counter state is untouched, so their next samples carry the increase.
     */
    if (b->rs == m->rs)
        first = apply_batch(m, b, err);
    /* The batch reaches the accumulators whole or not at all. */
    first = out_commit(m, first, false, err);
    pthread_mutex_unlock(&m->lock);
    sw_prommap_batch_free(b);
    return first;
}
