/*
 * The gate's side of a snapshot: its answers computed on request (under the whole evaluator's
 * guard, or, outside it, in the source's shared state and the service's stripe while a tick
 * steps the services), the answers prepared once a snapshot is published, and the lookups of
 * the gate API. The stripes and the open state of a stepwise write section are here too.
 */
#define _GNU_SOURCE /* pthread_rwlock_clockrdlock */
#include "snapshot_int.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "slawatch/eval_json.h"
#include "slawatch/json.h"
#include "slawatch/units.h"

/* ------------------------------------------------------------------ the stepwise section */

void
sw_snapshot_source_open(sw_snapshot_source *src)
{
    if (src->shared_held)
        pthread_rwlock_unlock(&src->shared);
    src->shared_held = false;
}

void
sw_snapshot_source_close(sw_snapshot_source *src)
{
    if (!src->shared_held)
        pthread_rwlock_wrlock(&src->shared);
    src->shared_held = true;
}

void
sw_snapshot_source_service_begin(sw_snapshot_source *src, size_t service)
{
    atomic_int *stripe = &src->stripes[service % STRIPES];
    for (int free_stripe = 0; !atomic_compare_exchange_weak(stripe, &free_stripe, -1);
         free_stripe = 0)
        sched_yield(); /* a gate answer reads the service: it is short */
}

void
sw_snapshot_source_service_end(sw_snapshot_source *src, size_t service)
{
    atomic_store(&src->stripes[service % STRIPES], 0);
}

/* ------------------------------------------------------------------ gate answers */

static sw_status
put_time(sw_buf *b, int64_t ms, sw_err *err)
{
    char t[40];
    sw_units_format_time(ms, t, sizeof t);
    return sw_buf_printf(b, err, "\"%s\"", t);
}

/* "route=/pay: " and then the reason, cut to the reason's size. */
static void
name_value(sw_gate_result *g, const sw_rules_by_parts *by, const char *reason)
{
    size_t cap = sizeof g->reason;
    int n = snprintf(g->reason, cap, "%.*s=%.200s: ", (int)by->label_len, by->label, by->value);
    size_t used = n > 0 && (size_t)n < cap ? (size_t)n : 0;
    size_t len = strlen(reason);
    len = len < cap - used - 1 ? len : cap - used - 1;
    memcpy(g->reason + used, reason, len);
    g->reason[used + len] = '\0';
}

/* A JSON string of len bytes of text (a part of a series key). */
static void
put_part(sw_buf *b, const char *text, size_t len, sw_err *err)
{
    char part[1024];
    snprintf(part, sizeof part, "%.*s", (int)len, text);
    sw_json_put_string(b, part, err);
}

static sw_status
write_gate(sw_buf *b, int64_t at_ms, const char *service, const char *env, int64_t window_ms,
           const sw_gate_result *g, sw_err *err)
{
    char window[32], asked[32];
    /* The window judged, and the one asked for when it had to be shorter. */
    sw_units_format_duration(g->window_end_ms - g->window_start_ms, window, sizeof window);
    sw_units_format_duration(window_ms, asked, sizeof asked);
    const char *limit = sw_eval_gate_limit_str(g->limited_by);
    sw_rules_by_parts by;
    bool is_value = sw_rules_by_split(service, &by);
    sw_gate_result named;
    sw_buf_printf(b, err, "{\"service\":");
    if (is_value)
        put_part(b, by.service, by.service_len, err);
    else
        sw_json_put_string(b, service, err);
    if (env != NULL) {
        sw_buf_printf(b, err, ",\"env\":");
        sw_json_put_string(b, env, err);
    }
    if (is_value) { /* one value of the service's by label: "labels":{"route":"/pay"} */
        sw_buf_printf(b, err, ",\"labels\":{");
        put_part(b, by.label, by.label_len, err);
        sw_buf_printf(b, err, ":");
        sw_json_put_string(b, by.value, err);
        sw_buf_printf(b, err, "}");
        /* The reason names the value, so the worst value's answer says which one it is. */
        named = *g;
        name_value(&named, &by, g->reason);
        g = &named;
    }
    sw_buf_printf(b, err,
                  ",\"window\":\"%s\",\"window_requested\":\"%s\",\"window_limited_by\":", window,
                  asked);
    if (limit != NULL)
        sw_buf_printf(b, err, "\"%s\"", limit);
    else
        sw_buf_printf(b, err, "null");
    sw_buf_printf(b, err, ",\"evaluated_at\":");
    put_time(b, at_ms, err);
    sw_buf_printf(b, err, ",\"window_start\":");
    put_time(b, g->window_start_ms, err);
    sw_buf_printf(b, err, ",\"window_end\":");
    put_time(b, g->window_end_ms, err);
    sw_buf_printf(b, err, ",");
    sw_eval_json_gate_fields(b, g, err);
    return sw_buf_printf(b, err, "}\n");
}

/* A series the evaluator has not seen has had no data: nothing to judge yet. */
static void
no_data_gate(const char *service, const char *env, int64_t at_ms, int64_t window_ms,
             sw_gate_result *g)
{
    memset(g, 0, sizeof *g);
    g->verdict = SW_VERDICT_INCONCLUSIVE;
    g->window_start_ms = at_ms - window_ms;
    g->window_end_ms = at_ms;
    g->requested_window_ms = window_ms;
    g->failed_at_ms = -1;
    snprintf(g->reason, sizeof g->reason, "inconclusive: no data for %s%s%s yet", service,
             env ? "/" : "", env ? env : "");
}

/* The answer of entry e, computed from the evaluator (under the guard, or in e's service's stripe)
 * as it stood at at_ms, through x (NULL: none). NULL: out of memory. */
static gate_answer *
compute_gate(const sw_snapshot *s, const gate_entry *e, int64_t at_ms, sw_gate_scratch *x)
{
    sw_gate_result g;
    if (sw_eval_has_series(s->ev, e->service, e->env))
        SW_REQUIRE(sw_eval_gate_with(s->ev, e->service, e->env, e->window_ms, x, &g, NULL) ==
                   SW_OK);
    else
        no_data_gate(e->service, e->env, at_ms, e->window_ms, &g);
    sw_buf b;
    sw_buf_init(&b, BODY_MAX);
    sw_err err;
    gate_answer *a = NULL;
    if (write_gate(&b, at_ms, e->service, e->env, e->window_ms, &g, &err) == SW_OK &&
        (a = malloc(sizeof *a + b.len + 1)) != NULL) {
        a->next = NULL;
        a->verdict = g.verdict;
        a->len = b.len;
        memcpy(a->json, b.data, b.len);
        a->json[b.len] = '\0';
    }
    sw_buf_fini(&b);
    return a;
}

/* a kept in e, unless another thread kept the same answer first: the one kept. */
static gate_answer *
keep_answer(gate_entry *e, gate_answer *a)
{
    gate_answer *none = NULL;
    if (atomic_compare_exchange_strong(&e->answer, &none, a))
        return a;
    free(a);
    return none;
}

/* An answer from a later state than s's, kept with s until it is freed (the asker's text). */
static gate_answer *
keep_extra(const sw_snapshot *s, gate_answer *a)
{
    _Atomic(gate_answer *) *extras = &((sw_snapshot *)s)->extras;
    a->next = atomic_load(extras);
    while (!atomic_compare_exchange_weak(extras, &a->next, a))
        ;
    return a;
}

static struct timespec
gate_deadline(void)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_nsec += SW_SNAPSHOT_GATE_WAIT_MS * 1000000L;
    until.tv_sec += until.tv_nsec / 1000000000L;
    until.tv_nsec %= 1000000000L;
    return until;
}

static bool
past(const struct timespec *until)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > until->tv_sec ||
           (now.tv_sec == until->tv_sec && now.tv_nsec >= until->tv_nsec);
}

/* A reader in service's stripe before until; false: the writer held it until then. */
static bool
stripe_enter(sw_snapshot_source *src, size_t service, const struct timespec *until)
{
    atomic_int *stripe = &src->stripes[service % STRIPES];
    for (;;) {
        int readers = atomic_load(stripe);
        if (readers >= 0 && atomic_compare_exchange_weak(stripe, &readers, readers + 1))
            return true;
        if (readers < 0) {
            if (past(until))
                return false;
            sched_yield(); /* the writer steps one service: a few hundred microseconds */
        }
    }
}

/*
 * Entry e's answer computed from its service's series as they are now, outside the whole
 * evaluator's lock: between write sections, or in one while it is open (a tick stepping the
 * services one by one). The state is the service's, whole: as s was built (kept in e when no
 * write section began since), or fed and evaluated at the service's time (the answer says that
 * time, and is kept with s only for the asker). BUSY when the shared state or the service stays
 * held past SW_SNAPSHOT_GATE_WAIT_MS; STALE when the evaluator was replaced since s was built.
 */
static sw_snapshot_lookup
gate_answer_shared(const sw_snapshot *s, gate_entry *e, const gate_answer **ret)
{
    sw_snapshot_source *src = s->source;
    struct timespec until = gate_deadline();
    if (pthread_rwlock_clockrdlock(&src->shared, CLOCK_MONOTONIC, &until) != 0)
        return SW_SNAPSHOT_BUSY;
    ptrdiff_t k = sw_snapshot_service_index(s, e->service);
    sw_snapshot_lookup l = SW_SNAPSHOT_STALE;
    gate_answer *a = NULL;
    bool as_built = false;
    if (atomic_load(&src->epoch) == s->epoch && k >= 0) {
        l = SW_SNAPSHOT_BUSY;
        if (stripe_enter(src, (size_t)k, &until)) {
            as_built = atomic_load(&src->generation) == s->generation;
            int64_t at = sw_eval_service_time(s->ev, (size_t)k);
            a = compute_gate(s, e, as_built || at == INT64_MIN ? s->at_ms : at, NULL);
            atomic_fetch_sub(&src->stripes[(size_t)k % STRIPES], 1);
            l = a != NULL ? SW_SNAPSHOT_FOUND : SW_SNAPSHOT_FAILED;
        }
    }
    pthread_rwlock_unlock(&src->shared);
    if (a == NULL)
        return l;
    atomic_fetch_add(&src->gate_computations, 1);
    *ret = as_built ? keep_answer(e, a) : keep_extra(s, a);
    return SW_SNAPSHOT_FOUND;
}

/* Entry e's answer, computed now when not kept yet. */
static sw_snapshot_lookup
gate_answer_of(const sw_snapshot *s, gate_entry *e, const gate_answer **ret)
{
    /* Counted up to a bound only: a question asked by many threads at once stops writing. */
    if (atomic_load_explicit(&e->asks, memory_order_relaxed) < ASKS_COUNTED)
        atomic_fetch_add_explicit(&e->asks, 1, memory_order_relaxed);
    gate_answer *a = atomic_load(&e->answer);
    if (a != NULL) {
        *ret = a;
        return SW_SNAPSHOT_FOUND;
    }
    if (s->source != NULL && !sw_snapshot_is_writer(s->source))
        return gate_answer_shared(s, e, ret);
    /* No source (nothing changes the evaluator), or the writer itself. */
    if (!sw_snapshot_guard_enter(s))
        return SW_SNAPSHOT_STALE;
    a = compute_gate(s, e, s->at_ms, NULL);
    sw_snapshot_guard_leave(s);
    if (a == NULL)
        return SW_SNAPSHOT_FAILED;
    *ret = keep_answer(e, a);
    return SW_SNAPSHOT_FOUND;
}

/* ------------------------------------------------------------------ prepared answers */

/* The first entry of (service, env) in the sorted entries, or n_gates. */
static size_t
first_entry(const sw_snapshot *s, const char *service, const char *env)
{
    gate_entry key = {.service = service, .env = env, .window_ms = INT64_MIN};
    size_t lo = 0, hi = s->n_gates;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (sw_snapshot_entry_cmp(&s->gates[mid], &key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static bool
of_series(const gate_entry *e, const char *service, const char *env)
{
    gate_entry key = {.service = service, .env = env, .window_ms = e->window_ms};
    return sw_snapshot_entry_cmp(e, &key) == 0;
}

/* want[i]: NOT_WANTED, the times a polled question was asked of the snapshot before (1 ...
 * ASKS_COUNTED), or WANTED_MARKED; prepared in decreasing order. */
enum { NOT_WANTED = 0, WANTED_MARKED = ASKS_COUNTED + 1 };

/* want[i] = WANTED_MARKED for every window of a series marked within the last
 * SW_SNAPSHOT_PREPARE_MARKED_MS. */
static void
want_marked(const sw_snapshot *s, uint8_t *want)
{
    for (size_t i = 0; i < sw_eval_series_count(s->ev); i++) {
        sw_series_result sr;
        sw_eval_series(s->ev, i, &sr);
        if (sr.deployed_ms < 0 || s->at_ms - sr.deployed_ms > SW_SNAPSHOT_PREPARE_MARKED_MS)
            continue;
        for (size_t k = first_entry(s, sr.service, sr.env);
             k < s->n_gates && of_series(&s->gates[k], sr.service, sr.env); k++)
            want[k] = WANTED_MARKED;
    }
}

/*
 * want[i] = the times asked of previous, for each question asked of previous and of the
 * snapshot before it: a pipeline polls its question tick after tick, while a question asked
 * once (a dashboard, a probe over every service) would cost the tick a verdict per snapshot for
 * nothing. Each question asked of previous is marked in s, so the next snapshot can tell.
 */
static void
want_asked(const sw_snapshot *s, const sw_snapshot *previous, uint8_t *want)
{
    for (size_t i = 0; previous != NULL && i < previous->n_gates; i++) {
        const gate_entry *p = &previous->gates[i];
        unsigned asks = atomic_load_explicit(&p->asks, memory_order_relaxed);
        if (asks == 0)
            continue;
        gate_entry *e = bsearch(p, s->gates, s->n_gates, sizeof *s->gates, sw_snapshot_entry_cmp);
        if (e == NULL)
            continue;
        e->asked_before = true;
        if (p->asked_before && want[e - s->gates] == NOT_WANTED)
            want[e - s->gates] = (uint8_t)(asks < ASKS_COUNTED ? asks : ASKS_COUNTED);
    }
}

/* The wanted entries, most wanted first (marked, then the polled asked most), in entry order
 * among equals: their indices in *ret, their number returned; 0 with *ret NULL when none or out
 * of memory. */
static size_t
wanted_order(const sw_snapshot *s, const uint8_t *want, size_t **ret)
{
    size_t at[WANTED_MARKED + 1] = {0}, n = 0; /* per kind: how many, then where they go */
    for (size_t i = 0; i < s->n_gates; i++)
        at[want[i]]++;
    for (int kind = WANTED_MARKED; kind > NOT_WANTED; kind--) {
        size_t count = at[kind];
        at[kind] = n;
        n += count;
    }
    *ret = n > 0 ? malloc(n * sizeof **ret) : NULL;
    if (*ret == NULL)
        return 0;
    for (size_t i = 0; i < s->n_gates; i++)
        if (want[i] != NOT_WANTED)
            (*ret)[at[want[i]]++] = i;
    return n;
}

/*
 * The gate questions most likely to come, answered by the builder (the tick thread, which holds
 * the evaluator as s shows it) so that they cost their askers a lookup. Every window of a series
 * marked recently (a pipeline watching its deployment), then of the questions asked of the two
 * snapshots before (a pipeline polling) the SW_SNAPSHOT_PREPARE_POLLED_MAX asked most often of
 * the last one, at most SW_SNAPSHOT_PREPARE_MAX in all: the work follows the questions, not the
 * services, and a sweep over every service's gate costs its own threads, not the tick. The answers
 * share the source's scratch (sw_gate_scratch), kept from one snapshot to the next: a side merged
 * for one answer is reused by the next that loads it (a series' windows in increasing order,
 * entries being sorted so; a baseline asked of itself and compared with), and a question
 * prepared again at the next tick (a pipeline polling) has its sides brought forward by the
 * interval that arrived and the one that left, not merged again. Out of memory (or no evaluator
 * yet): nothing prepared, every answer computed when asked for.
 */
static void
prepare_gates(sw_snapshot *s, const sw_snapshot *previous)
{
    /* Only while the evaluator is still as s shows it. */
    if (s->source != NULL && atomic_load(&s->source->generation) != s->generation)
        return;
    uint8_t *want = s->ev != NULL ? calloc(s->n_gates + 1, 1) : NULL;
    if (want == NULL)
        return;
    want_marked(s, want);
    want_asked(s, previous, want);
    size_t *order, n = wanted_order(s, want, &order), done = 0, polled = 0;
    sw_snapshot_source *src = s->source;
    if (n > 0 && src != NULL && src->prepared == NULL)
        (void)sw_gate_scratch_new(&src->prepared, NULL); /* still NULL: each answer alone */
    sw_gate_scratch *x = src != NULL ? src->prepared : NULL;
    for (size_t k = 0; k < n && done < SW_SNAPSHOT_PREPARE_MAX; k++) {
        gate_entry *e = &s->gates[order[k]];
        bool marked = want[order[k]] == WANTED_MARKED;
        if (!marked && polled == SW_SNAPSHOT_PREPARE_POLLED_MAX)
            break;
        if (atomic_load(&e->answer) != NULL)
            continue;
        gate_answer *a = compute_gate(s, e, s->at_ms, x);
        if (a != NULL)
            keep_answer(e, a);
        done++;
        polled += !marked;
    }
    if (src != NULL)
        atomic_fetch_add(&src->gates_prepared, done);
    free(order);
    free(want);
}

void
sw_snapshot_prepare(sw_snapshot *s)
{
    if (s->source == NULL)
        return;
    prepare_gates(s, s->previous);
    sw_snapshot *p = s->previous;
    s->previous = NULL;
    /* Its /metrics bodies unmapped by the next render (a render worker), not here. */
    if (p != NULL && sw_snapshot_keeps_metrics(p))
        p = atomic_exchange(&s->source->retired, p);
    sw_snapshot_unref(p);
}

/* ------------------------------------------------------------------ the gate API */

/* fail before inconclusive before pass */
static int
verdict_rank(sw_verdict v)
{
    return v == SW_VERDICT_FAIL ? 2 : v == SW_VERDICT_INCONCLUSIVE ? 1 : 0;
}

sw_snapshot_lookup
sw_snapshot_gate_worst(const sw_snapshot *s, const char *service, const char *env,
                       int64_t window_ms, char *ret_key, size_t cap)
{
    ptrdiff_t si = sw_snapshot_service_index(s, service);
    if (si < 0 || s->by_labels[si] == NULL)
        return SW_SNAPSHOT_UNKNOWN_SERVICE;
    int64_t want = window_ms != 0 ? window_ms : s->gate_windows[si];
    size_t n = strlen(service), l = strlen(s->by_labels[si]);
    gate_entry *worst = NULL;
    int worst_rank = -1;
    for (size_t i = 0; i < s->n_gates; i++) {
        gate_entry *e = &s->gates[i];
        const char *k = e->service;
        bool mine = strncmp(k, service, n) == 0 && k[n] == '\x1f' &&
                    strncmp(k + n + 1, s->by_labels[si], l) == 0 && k[n + 1 + l] == '=';
        bool same_env = env == NULL ? e->env == NULL : e->env != NULL && strcmp(e->env, env) == 0;
        if (!mine || !same_env || e->window_ms != want)
            continue;
        const gate_answer *a;
        sw_snapshot_lookup l2 = gate_answer_of(s, e, &a);
        if (l2 != SW_SNAPSHOT_FOUND)
            return l2;
        if (verdict_rank(a->verdict) > worst_rank) {
            worst = e;
            worst_rank = verdict_rank(a->verdict);
        }
    }
    if (worst == NULL || strlen(worst->service) >= cap)
        return SW_SNAPSHOT_UNKNOWN_ENV;
    memcpy(ret_key, worst->service, strlen(worst->service) + 1);
    return SW_SNAPSHOT_FOUND;
}

/* The entry of (service, env, window_ms), or why there is none. */
static sw_snapshot_lookup
find_gate(const sw_snapshot *s, const char *service, const char *env, int64_t window_ms,
          gate_entry **ret)
{
    ptrdiff_t si = sw_snapshot_service_index(s, service);
    if (si < 0)
        return SW_SNAPSHOT_UNKNOWN_SERVICE;
    if (env == NULL && strcmp(s->env_lists[si], "[]") != 0)
        return SW_SNAPSHOT_NEEDS_ENV;
    gate_entry key = {.service = service,
                      .env = env,
                      .window_ms = window_ms != 0 ? window_ms : s->gate_windows[si]};
    gate_entry *e = bsearch(&key, s->gates, s->n_gates, sizeof *s->gates, sw_snapshot_entry_cmp);
    if (e == NULL) {
        key.window_ms = s->gate_windows[si];
        if (bsearch(&key, s->gates, s->n_gates, sizeof *s->gates, sw_snapshot_entry_cmp) != NULL)
            return SW_SNAPSHOT_UNKNOWN_WINDOW;
        return SW_SNAPSHOT_UNKNOWN_ENV;
    }
    *ret = e;
    return SW_SNAPSHOT_FOUND;
}

sw_snapshot_lookup
sw_snapshot_gate_known(const sw_snapshot *s, const char *service, const char *env,
                       int64_t window_ms)
{
    gate_entry *e;
    return find_gate(s, service, env, window_ms, &e);
}

sw_snapshot_lookup
sw_snapshot_gate(const sw_snapshot *s, const char *service, const char *env, int64_t window_ms,
                 const char **ret_json, size_t *ret_len, sw_verdict *ret_verdict)
{
    gate_entry *e;
    sw_snapshot_lookup l = find_gate(s, service, env, window_ms, &e);
    const gate_answer *a;
    if (l == SW_SNAPSHOT_FOUND)
        l = gate_answer_of(s, e, &a);
    if (l != SW_SNAPSHOT_FOUND)
        return l;
    *ret_json = a->json;
    *ret_len = a->len;
    *ret_verdict = a->verdict;
    return SW_SNAPSHOT_FOUND;
}
