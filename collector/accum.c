/*
 * Open intervals per series, guarded by one mutex: sources add from their threads, the daemon's
 * tick takes. A series keeps its open intervals in a short list sorted by start; taken
 * intervals move a per-series watermark so late data is recognised.
 */
#include "slawatch/accum.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MAX_OPEN 64 /* open intervals per series: data more than this far ahead is refused */

typedef struct series {
    char *service, *env;
    sw_sli_interval open[MAX_OPEN]; /* sorted by start_ms */
    size_t n_open;
    int64_t taken_until_ms; /* intervals starting before this were handed over */
} series;

struct sw_accum {
    pthread_mutex_t lock;
    int64_t base_ms;
    series *series;
    size_t n_series, cap_series;
    uint64_t late, carried;
};

sw_status
sw_accum_new(int64_t base_ms, sw_accum **ret, sw_err *err)
{
    SW_REQUIRE(base_ms > 0);
    sw_accum *a = calloc(1, sizeof *a);
    if (a == NULL)
        return sw_err_set(err, SW_E_NOMEM, "cannot allocate interval accumulators");
    pthread_mutex_init(&a->lock, NULL);
    a->base_ms = base_ms;
    *ret = a;
    return SW_OK;
}

void
sw_accum_free(sw_accum *a)
{
    if (a == NULL)
        return;
    for (size_t i = 0; i < a->n_series; i++) {
        series *s = &a->series[i];
        for (size_t j = 0; j < s->n_open; j++)
            sw_sli_interval_fini(&s->open[j]);
        free(s->service);
        free(s->env);
    }
    free(a->series);
    pthread_mutex_destroy(&a->lock);
    free(a);
}

static bool
same_env(const char *a, const char *b)
{
    return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

static series *
find_series(sw_accum *a, const char *service, const char *env, sw_err *err)
{
    for (size_t i = 0; i < a->n_series; i++)
        if (strcmp(a->series[i].service, service) == 0 && same_env(a->series[i].env, env))
            return &a->series[i];
    if (a->n_series == a->cap_series) {
        size_t cap = a->cap_series ? a->cap_series * 2 : 8;
        series *grown = realloc(a->series, cap * sizeof *grown);
        if (grown == NULL)
            goto nomem;
        a->series = grown;
        a->cap_series = cap;
    }
    series *s = &a->series[a->n_series];
    memset(s, 0, sizeof *s);
    s->taken_until_ms = INT64_MIN;
    s->service = strdup(service);
    s->env = env != NULL ? strdup(env) : NULL;
    if (s->service == NULL || (env != NULL && s->env == NULL)) {
        free(s->service);
        free(s->env);
        goto nomem;
    }
    a->n_series++;
    return s;
nomem:
    sw_err_set(err, SW_E_NOMEM, "cannot allocate an accumulator for %s", service);
    return NULL;
}

/*
 * The open interval holding at_ms, created in order; NULL (status in *st) when late or full.
 * A cumulative increase for an interval already taken goes to the oldest open one instead.
 */
static sw_sli_interval *
open_at(sw_accum *a, series *s, int64_t at_ms, bool carry, sw_status *st, sw_err *err)
{
    int64_t start = at_ms - ((at_ms % a->base_ms) + a->base_ms) % a->base_ms;
    *st = SW_OK;
    if (start < s->taken_until_ms && carry) {
        start = s->taken_until_ms;
        a->carried++;
    } else if (start < s->taken_until_ms) {
        a->late++;
        return NULL;
    }
    size_t i = 0;
    while (i < s->n_open && s->open[i].start_ms < start)
        i++;
    if (i < s->n_open && s->open[i].start_ms == start)
        return &s->open[i];
    if (s->n_open == MAX_OPEN) {
        *st = sw_err_set(err, SW_E_RANGE, "%s: more than %d intervals open; data too far ahead",
                         s->service, MAX_OPEN);
        return NULL;
    }
    memmove(&s->open[i + 1], &s->open[i], (s->n_open - i) * sizeof s->open[0]);
    s->n_open++;
    s->open[i] = (sw_sli_interval){.start_ms = start, .length_ms = a->base_ms, .has_data = true};
    return &s->open[i];
}

/* Look up (service, env, at) under the lock; on NULL the lock is released already. */
static sw_sli_interval *
locked_interval(sw_accum *a, const char *service, const char *env, int64_t at_ms, bool carry,
                sw_status *st, sw_err *err)
{
    pthread_mutex_lock(&a->lock);
    series *s = find_series(a, service, env, err);
    sw_sli_interval *iv = s != NULL ? open_at(a, s, at_ms, carry, st, err) : NULL;
    if (s == NULL)
        *st = SW_E_NOMEM;
    if (iv == NULL)
        pthread_mutex_unlock(&a->lock);
    return iv;
}

sw_status
sw_accum_add_counts(sw_accum *a, const char *service, const char *env, int64_t at_ms,
                    uint64_t requests, uint64_t errors, sw_err *err)
{
    sw_status st;
    sw_sli_interval *iv = locked_interval(a, service, env, at_ms, false, &st, err);
    if (iv == NULL)
        return st;
    iv->requests += requests;
    iv->errors += errors;
    pthread_mutex_unlock(&a->lock);
    return SW_OK;
}

static sw_status
ensure_latency(sw_sli_interval *iv, sw_err *err)
{
    return iv->latency != NULL ? SW_OK : sw_hdr_new(&sw_hdr_latency_config, &iv->latency, err);
}

sw_status
sw_accum_add_latency(sw_accum *a, const char *service, const char *env, int64_t at_ms,
                     int64_t value_us, uint64_t count, sw_err *err)
{
    sw_status st;
    sw_sli_interval *iv = locked_interval(a, service, env, at_ms, false, &st, err);
    if (iv == NULL)
        return st;
    st = ensure_latency(iv, err);
    if (st == SW_OK && !sw_hdr_record_n(iv->latency, value_us, (int64_t)count))
        st = sw_err_set(err, SW_E_RANGE, "%s: latency %lld us is outside 1 us .. 1 h", service,
                        (long long)value_us);
    pthread_mutex_unlock(&a->lock);
    return st;
}

sw_status
sw_accum_add_probe(sw_accum *a, const char *service, const char *env, int64_t at_ms, bool ok,
                   sw_err *err)
{
    sw_status st;
    sw_sli_interval *iv = locked_interval(a, service, env, at_ms, false, &st, err);
    if (iv == NULL)
        return st;
    sw_health_record(&iv->health, ok);
    pthread_mutex_unlock(&a->lock);
    return SW_OK;
}

sw_status
sw_accum_add_interval(sw_accum *a, const char *service, const char *env, const sw_sli_interval *in,
                      sw_err *err)
{
    SW_REQUIRE(in->length_ms == a->base_ms && in->start_ms % a->base_ms == 0);
    sw_status st;
    sw_sli_interval *iv = locked_interval(a, service, env, in->start_ms, false, &st, err);
    if (iv == NULL)
        return st;
    iv->requests += in->requests;
    iv->errors += in->errors;
    sw_health_append(&iv->health, &in->health);
    if (in->latency != NULL && (st = ensure_latency(iv, err)) == SW_OK)
        sw_hdr_add(iv->latency, in->latency);
    pthread_mutex_unlock(&a->lock);
    return st;
}

sw_status
sw_accum_add_increase(sw_accum *a, const char *service, const char *env, int64_t at_ms,
                      uint64_t requests, uint64_t errors, const sw_hdr *latency, sw_err *err)
{
    sw_status st;
    sw_sli_interval *iv = locked_interval(a, service, env, at_ms, true, &st, err);
    if (iv == NULL)
        return st;
    iv->requests += requests;
    iv->errors += errors;
    if (latency != NULL && (st = ensure_latency(iv, err)) == SW_OK)
        sw_hdr_add(iv->latency, latency);
    pthread_mutex_unlock(&a->lock);
    return st;
}

/* Detach the intervals of s that ended by until_ms into out (n returned). */
static size_t
detach_ended(sw_accum *a, series *s, int64_t until_ms, sw_sli_interval *out)
{
    size_t n = 0;
    while (n < s->n_open && s->open[n].start_ms + a->base_ms <= until_ms) {
        out[n] = s->open[n];
        n++;
    }
    memmove(&s->open[0], &s->open[n], (s->n_open - n) * sizeof s->open[0]);
    s->n_open -= n;
    int64_t until_start = until_ms - ((until_ms % a->base_ms) + a->base_ms) % a->base_ms;
    if (until_start > s->taken_until_ms)
        s->taken_until_ms = until_start;
    return n;
}

sw_status
sw_accum_take(sw_accum *a, int64_t until_ms, sw_accum_sink sink, void *ctx, sw_err *err)
{
    sw_status first = SW_OK;
    sw_err one;
    sw_sli_interval ended[MAX_OPEN];
    for (size_t i = 0;; i++) {
        /* The lock is held only to detach: the sink (store, evaluator) runs without it. */
        pthread_mutex_lock(&a->lock);
        if (i >= a->n_series) {
            pthread_mutex_unlock(&a->lock);
            break;
        }
        series *s = &a->series[i];
        size_t n = detach_ended(a, s, until_ms, ended);
        char *service = s->service, *env = s->env; /* series names never move or change */
        pthread_mutex_unlock(&a->lock);
        for (size_t j = 0; j < n; j++) {
            sw_status st = sink(ctx, service, env, &ended[j], first == SW_OK ? err : &one);
            if (st != SW_OK && first == SW_OK)
                first = st;
        }
    }
    return first;
}

uint64_t
sw_accum_late(sw_accum *a)
{
    pthread_mutex_lock(&a->lock);
    uint64_t late = a->late;
    pthread_mutex_unlock(&a->lock);
    return late;
}

uint64_t
sw_accum_carried(sw_accum *a)
{
    pthread_mutex_lock(&a->lock);
    uint64_t carried = a->carried;
    pthread_mutex_unlock(&a->lock);
    return carried;
}
