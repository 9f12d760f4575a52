/*
 * Open intervals per series, guarded by one mutex: sources commit batches from their threads,
 * the daemon's tick takes. A series keeps its open intervals in a list sorted by start; taken
 * intervals move a per-series watermark so late data is recognised. A commit checks every part
 * of its batch first and merges only when all can be merged, so it never fails half-way.
 */
#include "accum_int.h"

#include <stdlib.h>
#include <string.h>

#include "slawatch/hash.h"
#include "slawatch/units.h"

sw_status
sw_accum_new(int64_t base_ms, sw_accum **ret, sw_err *err)
{
    SW_REQUIRE(base_ms > 0);
    sw_accum *a = calloc(1, sizeof *a);
    if (a == NULL)
        return sw_err_set(err, SW_E_NOMEM, "cannot allocate interval accumulators");
    pthread_mutex_init(&a->lock, NULL);
    sw_u64map_init(&a->series_at);
    a->base_ms = base_ms;
    a->closed_until_ms = INT64_MIN;
    a->taken_from_ms = INT64_MIN;
    sw_buf_init(&a->enc, SW_JOURNAL_FRAME_MAX);
    *ret = a;
    return SW_OK;
}

void
sw_accum_free(sw_accum *a)
{
    if (a == NULL)
        return;
    for (size_t i = 0; i < a->n_series; i++) {
        accum_series *s = &a->series[i];
        for (size_t j = 0; j < s->n_open; j++) {
            sw_sli_interval_fini(&s->open[j]);
            free(s->open_enc[j].data);
        }
        free(s->open);
        free(s->open_enc);
        free(s->service);
        free(s->env);
    }
    free(a->series);
    sw_u64map_fini(&a->series_at);
    sw_journal_close(a->journal);
    sw_buf_fini(&a->enc);
    pthread_mutex_destroy(&a->lock);
    free(a);
}

void
sw_accum_set_horizon(sw_accum *a, sw_accum_clock clock, void *ctx, int64_t ahead_ms)
{
    pthread_mutex_lock(&a->lock);
    a->clock = clock;
    a->clock_ctx = ctx;
    a->ahead_ms = ahead_ms;
    pthread_mutex_unlock(&a->lock);
}

void
sw_accum_close(sw_accum *a, int64_t until_ms)
{
    pthread_mutex_lock(&a->lock);
    a->closed_until_ms = until_ms;
    pthread_mutex_unlock(&a->lock);
}

static bool
same_env(const char *a, const char *b)
{
    return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

static int64_t
interval_start(int64_t at_ms, int64_t base_ms)
{
    return at_ms - ((at_ms % base_ms) + base_ms) % base_ms;
}

/* ------------------------------------------------------------------ batches */

sw_accum_batch *
sw_accum_batch_new(const sw_accum *a)
{
    sw_accum_batch *b = calloc(1, sizeof *b);
    if (b != NULL)
        b->base_ms = a->base_ms;
    return b;
}

sw_accum_batch *
sw_accum_batch_new_strict(const sw_accum *a)
{
    sw_accum_batch *b = sw_accum_batch_new(a);
    if (b != NULL)
        b->strict = true;
    return b;
}

void
sw_accum_batch_free(sw_accum_batch *b)
{
    if (b == NULL)
        return;
    for (size_t i = 0; i < b->n; i++) {
        free(b->e[i].service);
        free(b->e[i].env);
        sw_sli_interval_fini(&b->e[i].iv);
    }
    free(b->e);
    free(b);
}

/* The batch's entry for (service, env, the interval holding at_ms), made on first use. */
static accum_entry *
entry_at(sw_accum_batch *b, const char *service, const char *env, int64_t at_ms, bool carry,
         sw_err *err)
{
    int64_t start = interval_start(at_ms, b->base_ms);
    for (size_t i = b->n; i-- > 0;) {
        accum_entry *e = &b->e[i];
        if (e->iv.start_ms == start && e->carry == carry && strcmp(e->service, service) == 0 &&
            same_env(e->env, env)) {
            e->latest_ms = at_ms > e->latest_ms ? at_ms : e->latest_ms;
            return e;
        }
    }
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4;
        accum_entry *grown = realloc(b->e, cap * sizeof *grown);
        if (grown == NULL)
            goto nomem;
        b->e = grown;
        b->cap = cap;
    }
    accum_entry *e = &b->e[b->n];
    *e = (accum_entry){.service = strdup(service),
                       .env = env != NULL ? strdup(env) : NULL,
                       .iv = {.start_ms = start, .length_ms = b->base_ms, .has_data = true},
                       .latest_ms = at_ms,
                       .carry = carry};
    if (e->service == NULL || (env != NULL && e->env == NULL)) {
        free(e->service);
        free(e->env);
        goto nomem;
    }
    b->n++;
    return e;
nomem:
    sw_err_set(err, SW_E_NOMEM, "out of memory gathering a batch for %s", service);
    return NULL;
}

/* acc += add for requests and errors, refused when either would pass 2^64 - 1. */
static sw_status
add_counts(const char *service, sw_sli_interval *acc, uint64_t requests, uint64_t errors,
           sw_err *err)
{
    uint64_t r, e;
    if (__builtin_add_overflow(acc->requests, requests, &r) ||
        __builtin_add_overflow(acc->errors, errors, &e))
        return sw_err_set(err, SW_E_RANGE,
                          "%s: the interval's request or error count would pass "
                          "2^64 - 1",
                          service);
    acc->requests = r;
    acc->errors = e;
    return SW_OK;
}

sw_status
sw_accum_batch_counts(sw_accum_batch *b, const char *service, const char *env, int64_t at_ms,
                      uint64_t requests, uint64_t errors, sw_err *err)
{
    accum_entry *e = entry_at(b, service, env, at_ms, false, err);
    if (e == NULL)
        return SW_E_NOMEM;
    e->values++;
    return add_counts(service, &e->iv, requests, errors, err);
}

static sw_status
ensure_latency(sw_sli_interval *iv, sw_err *err)
{
    return iv->latency != NULL ? SW_OK : sw_hdr_new(&sw_hdr_latency_config, &iv->latency, err);
}

sw_status
sw_accum_batch_latency(sw_accum_batch *b, const char *service, const char *env, int64_t at_ms,
                       int64_t value_us, uint64_t count, sw_err *err)
{
    if (value_us < SW_HDR_LATENCY_LOWEST_US || value_us > SW_HDR_LATENCY_HIGHEST_US ||
        count > (uint64_t)INT64_MAX)
        return sw_err_set(err, SW_E_RANGE, "%s: latency %lld us is outside 1 us .. 1 h", service,
                          (long long)value_us);
    accum_entry *e = entry_at(b, service, env, at_ms, false, err);
    if (e == NULL)
        return SW_E_NOMEM;
    e->values++;
    sw_status st = ensure_latency(&e->iv, err);
    /* The value is in range: only memory for a new bucket can be missing. */
    if (st == SW_OK && !sw_hdr_record_n(e->iv.latency, value_us, (int64_t)count))
        st = sw_err_set(err, SW_E_NOMEM, "%s: out of memory recording a latency", service);
    return st;
}

/*
 * Latencies (checked: 1 us .. 1 h, below 2^32) sorted ascending a byte at a time from the
 * lowest (LSD radix sort), skipping a byte every value shares; tmp has room for n values. For
 * a push's few hundred values this is several times cheaper than qsort's comparisons.
 */
static void
sort_latencies(int64_t *values, int64_t *tmp, size_t n)
{
    uint32_t offsets[4][256] = {{0}};
    for (size_t i = 0; i < n; i++)
        for (int d = 0; d < 4; d++)
            offsets[d][(values[i] >> (8 * d)) & 0xff]++;
    int64_t *from = values, *to = tmp;
    for (int d = 0; d < 4; d++) {
        uint32_t *at = offsets[d];
        if (at[(from[0] >> (8 * d)) & 0xff] == n)
            continue;
        for (uint32_t k = 0, sum = 0; k < 256; k++) {
            uint32_t here = at[k];
            at[k] = sum;
            sum += here;
        }
        for (size_t i = 0; i < n; i++)
            to[at[(from[i] >> (8 * d)) & 0xff]++] = from[i];
        int64_t *swap = from;
        from = to;
        to = swap;
    }
    if (from != values)
        memcpy(values, from, n * sizeof *values);
}

/*
 * Sorted values become one (value, count) per bucket, written over the front of values, so a
 * push's latencies are merged into the batch's histogram in one pass instead of being inserted
 * one at a time into its sorted buckets. counts (n long) is the sort's scratch first. Returns
 * the number of buckets.
 */
static size_t
group_by_bucket(const sw_hdr *h, int64_t *values, int64_t *counts, size_t n)
{
    sort_latencies(values, counts, n);
    size_t m = 0;
    int64_t bucket = -1;
    for (size_t i = 0; i < n; i++) {
        int64_t low = sw_hdr_lowest_equivalent(h, values[i]);
        if (m > 0 && low == bucket) {
            counts[m - 1]++;
            continue;
        }
        bucket = low;
        values[m] = values[i];
        counts[m++] = 1;
    }
    return m;
}

sw_status
sw_accum_batch_latencies(sw_accum_batch *b, const char *service, const char *env, int64_t at_ms,
                         int64_t *values, size_t n, sw_err *err)
{
    for (size_t i = 0; i < n; i++)
        if (values[i] < SW_HDR_LATENCY_LOWEST_US || values[i] > SW_HDR_LATENCY_HIGHEST_US)
            return sw_err_set(err, SW_E_RANGE, "%s: latency %lld us is outside 1 us .. 1 h",
                              service, (long long)values[i]);
    if (n == 0)
        return SW_OK;
    accum_entry *e = entry_at(b, service, env, at_ms, false, err);
    int64_t *counts = e != NULL ? malloc(n * sizeof *counts) : NULL;
    if (counts == NULL)
        return e == NULL ? SW_E_NOMEM : sw_err_set(err, SW_E_NOMEM, "out of memory");
    e->values += n;
    sw_status st = ensure_latency(&e->iv, err);
    size_t m = st == SW_OK ? group_by_bucket(e->iv.latency, values, counts, n) : 0;
    /* Room first, so the merge cannot run out of memory half-way. */
    if (st == SW_OK && (st = sw_hdr_reserve(e->iv.latency, (int64_t)m, err)) == SW_OK)
        sw_hdr_record_sorted(e->iv.latency, values, counts, m);
    free(counts);
    return st;
}

sw_status
sw_accum_batch_probe(sw_accum_batch *b, const char *service, const char *env, int64_t at_ms,
                     bool ok, sw_err *err)
{
    accum_entry *e = entry_at(b, service, env, at_ms, false, err);
    if (e == NULL)
        return SW_E_NOMEM;
    e->values++;
    sw_health_record(&e->iv.health, ok);
    return SW_OK;
}

sw_status
sw_accum_batch_interval(sw_accum_batch *b, const char *service, const char *env,
                        const sw_sli_interval *in, sw_err *err)
{
    SW_REQUIRE(in->length_ms == b->base_ms && in->start_ms % b->base_ms == 0);
    accum_entry *e = entry_at(b, service, env, in->start_ms, false, err);
    if (e == NULL)
        return SW_E_NOMEM;
    e->values++;
    sw_status st = add_counts(service, &e->iv, in->requests, in->errors, err);
    if (st == SW_OK && in->latency != NULL && (st = ensure_latency(&e->iv, err)) == SW_OK)
        sw_hdr_add(e->iv.latency, in->latency);
    if (st == SW_OK)
        sw_health_append(&e->iv.health, &in->health);
    return st;
}

sw_status
sw_accum_batch_increase(sw_accum_batch *b, const char *service, const char *env, int64_t at_ms,
                        uint64_t requests, uint64_t errors, const sw_hdr *latency, sw_err *err)
{
    accum_entry *e = entry_at(b, service, env, at_ms, true, err);
    if (e == NULL)
        return SW_E_NOMEM;
    e->values++;
    sw_status st = add_counts(service, &e->iv, requests, errors, err);
    if (st == SW_OK && latency != NULL && (st = ensure_latency(&e->iv, err)) == SW_OK)
        sw_hdr_add(e->iv.latency, latency);
    return st;
}

/* ------------------------------------------------------------------ commits */

/* Where (service, env) is looked up first in series_at; a taken key moves on to the next. */
static uint64_t
series_key(const char *service, const char *env)
{
    uint64_t h = sw_hash_bytes(service, strlen(service) + 1, 0);
    return env != NULL ? sw_hash_bytes(env, strlen(env) + 1, h) : sw_hash_mix(h);
}

/*
 * The series of (service, env), made when new. Every commit looks its series up under the
 * lock, so this is a hash lookup, not a walk over every series (20,000 of them at 10,000
 * services of two environments).
 */
static accum_series *
find_series(sw_accum *a, const char *service, const char *env, sw_err *err)
{
    uint64_t key = series_key(service, env);
    size_t i;
    for (; sw_u64map_get(&a->series_at, key, &i); key++)
        if (strcmp(a->series[i].service, service) == 0 && same_env(a->series[i].env, env))
            return &a->series[i];
    if (a->n_series == a->cap_series) {
        size_t cap = a->cap_series ? a->cap_series * 2 : 8;
        accum_series *grown = realloc(a->series, cap * sizeof *grown);
        if (grown == NULL)
            goto nomem;
        a->series = grown;
        a->cap_series = cap;
    }
    accum_series *s = &a->series[a->n_series];
    *s = (accum_series){.taken_until_ms = INT64_MIN,
                        .service = strdup(service),
                        .env = env != NULL ? strdup(env) : NULL};
    if (s->service == NULL || (env != NULL && s->env == NULL) ||
        sw_u64map_put(&a->series_at, key, a->n_series, err) != SW_OK) {
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

/* Index of the first open interval of s starting at or after start. */
static size_t
slot_of(const accum_series *s, int64_t start)
{
    size_t i = 0;
    while (i < s->n_open && s->open[i].start_ms < start)
        i++;
    return i;
}

/* What a commit will do with one entry, decided before anything changes. */
typedef struct plan {
    size_t series; /* index: series never move once made, but the array may grow */
    bool late;
    bool carried;   /* a carry entry moved from a taken interval to the oldest open one */
    sw_hdr *spare;  /* the histogram the interval will need, allocated up front */
    sw_hdr *target; /* the histogram the entry's latency goes into: room reserved there */
} plan;

/* Room for need open intervals in s, and for their encodings beside them. */
static sw_status
grow_open(accum_series *s, size_t need, sw_err *err)
{
    size_t cap = s->cap_open ? s->cap_open * 2 : 4;
    cap = cap < need ? need : cap;
    sw_sli_interval *grown = realloc(s->open, cap * sizeof *grown);
    if (grown != NULL)
        s->open = grown;
    sw_accum_encoding *grown_enc =
        grown != NULL ? realloc(s->open_enc, cap * sizeof *grown_enc) : NULL;
    if (grown_enc == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory opening an interval");
    s->open_enc = grown_enc;
    s->cap_open = cap;
    return SW_OK;
}

/* A strict batch is refused whole, naming the time, when a part is in a closed interval. */
static sw_status
check_closed(const sw_accum *a, const sw_accum_batch *b, const accum_entry *e, sw_err *err)
{
    if (!b->strict || e->iv.start_ms >= a->closed_until_ms)
        return SW_OK;
    char at[40], when[40];
    sw_units_format_time(e->iv.start_ms, at, sizeof at);
    sw_units_format_time(a->closed_until_ms, when, sizeof when);
    return sw_err_set(err, SW_E_RANGE, "too late: %s's interval at %s is closed (before %s)",
                      e->service, at, when);
}

static sw_status
check_horizon(const sw_accum *a, const accum_entry *e, sw_err *err)
{
    if (a->clock == NULL)
        return SW_OK;
    int64_t bound = a->clock(a->clock_ctx) + a->ahead_ms;
    if (e->latest_ms <= bound)
        return SW_OK;
    char at[40], when[40], ahead[32];
    sw_units_format_time(e->latest_ms, at, sizeof at);
    sw_units_format_time(bound, when, sizeof when);
    sw_units_format_duration(a->ahead_ms, ahead, sizeof ahead);
    return sw_err_set(err, SW_E_RANGE, "%s: time %s is after %s (now + %s): too far ahead",
                      e->service, at, when, ahead);
}

/* One entry's checks; may grow the series' list (never its length) so the merge cannot fail. */
static sw_status
plan_entry(sw_accum *a, accum_entry *e, bool replaying, plan *p, size_t *reserved, sw_err *err)
{
    sw_status st = replaying ? SW_OK : check_horizon(a, e, err);
    accum_series *s = st == SW_OK ? find_series(a, e->service, e->env, err) : NULL;
    if (s == NULL)
        return st != SW_OK ? st : SW_E_NOMEM;
    p->series = (size_t)(s - a->series);
    if (e->iv.start_ms < s->taken_until_ms && e->carry) {
        e->iv.start_ms = s->taken_until_ms; /* before journaling: a replay puts it there too */
        p->carried = true;
    } else if (e->iv.start_ms < s->taken_until_ms) {
        p->late = true;
        return SW_OK;
    }
    size_t i = slot_of(s, e->iv.start_ms);
    bool exists = i < s->n_open && s->open[i].start_ms == e->iv.start_ms;
    if (exists) {
        sw_sli_interval sum = s->open[i];
        if ((st = add_counts(e->service, &sum, e->iv.requests, e->iv.errors, err)) != SW_OK)
            return st;
    } else {
        size_t need = s->n_open + reserved[p->series] + 1;
        if (need > SW_ACCUM_MAX_OPEN)
            return sw_err_set(err, SW_E_RANGE, "%s: more than %d intervals open", e->service,
                              SW_ACCUM_MAX_OPEN);
        if (need > s->cap_open && (st = grow_open(s, need, err)) != SW_OK)
            return st;
        reserved[p->series]++;
    }
    if (e->iv.latency != NULL && (!exists || s->open[i].latency == NULL))
        return sw_hdr_new(&sw_hdr_latency_config, &p->spare, err);
    return SW_OK;
}

/*
 * An open interval's kept encoding after a merge into its histogram: the entry's journaled
 * bytes when the histogram is the entry's alone (it had none before), else none, the bytes no
 * longer being its encoding. Without memory for the copy, none: the store encodes it.
 */
static void
keep_encoding(sw_accum_encoding *kept, bool alone, const uint8_t *journaled, size_t len)
{
    free(kept->data);
    *kept = (sw_accum_encoding){0};
    if (!alone || journaled == NULL || len == 0 || (kept->data = malloc(len)) == NULL)
        return;
    memcpy(kept->data, journaled, len);
    kept->len = len;
}

/*
 * Merge a checked entry (cannot fail: room and histograms were made by plan_entry). journaled:
 * the entry's histogram bytes in its journal record (NULL: not journaled).
 */
static void
merge_entry(sw_accum *a, const accum_entry *e, plan *p, const uint8_t *journaled, size_t len)
{
    accum_series *s = &a->series[p->series];
    size_t i = slot_of(s, e->iv.start_ms);
    if (i == s->n_open || s->open[i].start_ms != e->iv.start_ms) {
        memmove(&s->open[i + 1], &s->open[i], (s->n_open - i) * sizeof s->open[0]);
        memmove(&s->open_enc[i + 1], &s->open_enc[i], (s->n_open - i) * sizeof s->open_enc[0]);
        s->n_open++;
        s->open[i] = (sw_sli_interval){
            .start_ms = e->iv.start_ms, .length_ms = a->base_ms, .has_data = true};
        s->open_enc[i] = (sw_accum_encoding){0};
    }
    sw_sli_interval *iv = &s->open[i];
    iv->requests += e->iv.requests;
    iv->errors += e->iv.errors;
    sw_health_append(&iv->health, &e->iv.health);
    if (e->iv.latency == NULL)
        return;
    bool alone = iv->latency == NULL;
    if (alone) {
        iv->latency = p->spare;
        p->spare = NULL;
    }
    sw_hdr_add(iv->latency, e->iv.latency);
    keep_encoding(&s->open_enc[i], alone, journaled, len);
}

/* The histogram entry i's latency will be added to: its open interval's, or the spare made
 * for the interval by the first entry of the batch that opens it. */
static sw_hdr *
target_of(sw_accum *a, const sw_accum_batch *b, plan *p, size_t i)
{
    const accum_series *s = &a->series[p[i].series];
    int64_t start = b->e[i].iv.start_ms;
    size_t k = slot_of(s, start);
    if (k < s->n_open && s->open[k].start_ms == start && s->open[k].latency != NULL)
        return s->open[k].latency;
    for (size_t j = 0; j < i; j++)
        if (p[j].spare != NULL && p[j].series == p[i].series && b->e[j].iv.start_ms == start) {
            sw_hdr_free(p[i].spare);
            p[i].spare = NULL;
            return p[j].spare;
        }
    return p[i].spare;
}

/*
 * Histograms hold the buckets they recorded, so merging may need memory: room for every bucket
 * the batch brings to a histogram is made before anything is applied, and the merge cannot fail.
 */
static sw_status
reserve_latency(sw_accum *a, const sw_accum_batch *b, plan *p, sw_err *err)
{
    for (size_t i = 0; i < b->n; i++) {
        if (p[i].late || b->e[i].iv.latency == NULL)
            continue;
        p[i].target = target_of(a, b, p, i);
        int64_t more = 0;
        for (size_t j = 0; j <= i; j++)
            if (p[j].target == p[i].target && b->e[j].iv.latency != NULL)
                more += sw_hdr_recorded_buckets(b->e[j].iv.latency);
        sw_status st = sw_hdr_reserve(p[i].target, more, err);
        if (st != SW_OK)
            return st;
    }
    return SW_OK;
}

/* The latest interval the batch's entries are for: its journal record's tag (needed until that
 * interval is taken). */
static int64_t
latest_start(const sw_accum_batch *b)
{
    int64_t latest = INT64_MIN;
    for (size_t i = 0; i < b->n; i++)
        if (b->e[i].iv.start_ms > latest)
            latest = b->e[i].iv.start_ms;
    return latest;
}

sw_status
sw_accum_commit_locked(sw_accum *a, sw_accum_batch *b, bool replaying, sw_err *err)
{
    plan *p = calloc(b->n + 1, sizeof *p);
    size_t *reserved = NULL, n_reserved = 0; /* new intervals planned per series */
    sw_status st = p != NULL ? SW_OK : sw_err_set(err, SW_E_NOMEM, "out of memory committing");
    for (size_t i = 0; st == SW_OK && i < b->n; i++) {
        /* An entry may make one more series: keep a reservation count for it too. */
        size_t want = a->n_series + 1;
        if (want > n_reserved) {
            size_t *grown = realloc(reserved, want * sizeof *grown);
            if (grown == NULL) {
                st = sw_err_set(err, SW_E_NOMEM, "out of memory committing");
                break;
            }
            memset(grown + n_reserved, 0, (want - n_reserved) * sizeof *grown);
            reserved = grown;
            n_reserved = want;
        }
        st = replaying ? SW_OK : check_closed(a, b, &b->e[i], err);
        if (st == SW_OK)
            st = plan_entry(a, &b->e[i], replaying, &p[i], reserved, err);
    }
    if (st == SW_OK)
        st = reserve_latency(a, b, p, err);
    accum_span *spans = NULL;
    if (st == SW_OK && !replaying && a->journal != NULL) {
        sw_buf_reset(&a->enc);
        spans = calloc(b->n + 1, sizeof *spans); /* none: each histogram encoded by the store */
        if ((st = sw_accum_encode_entries(b->e, b->n, &a->enc, spans, err)) == SW_OK)
            st = sw_journal_append(a->journal, a->enc.data, a->enc.len, latest_start(b), err);
    }
    for (size_t i = 0; st == SW_OK && i < b->n; i++) {
        if (p[i].late) {
            a->late += b->e[i].values;
            b->late += b->e[i].values;
            continue;
        }
        a->carried += p[i].carried;
        merge_entry(a, &b->e[i], &p[i], spans != NULL ? a->enc.data + spans[i].at : NULL,
                    spans != NULL ? spans[i].len : 0);
    }
    for (size_t i = 0; p != NULL && i < b->n; i++)
        sw_hdr_free(p[i].spare);
    free(spans);
    free(p);
    free(reserved);
    return st;
}

sw_status
sw_accum_commit(sw_accum *a, sw_accum_batch *b, sw_err *err)
{
    pthread_mutex_lock(&a->lock);
    sw_status st = sw_accum_commit_locked(a, b, false, err);
    pthread_mutex_unlock(&a->lock);
    return st;
}

/* ------------------------------------------------------------------ one-item batches */

static sw_status
commit_one(sw_accum *a, sw_accum_batch *b, sw_status st, sw_err *err)
{
    if (st == SW_OK)
        st = sw_accum_commit(a, b, err);
    sw_accum_batch_free(b);
    return st;
}

static sw_accum_batch *
one_batch(const sw_accum *a, sw_status *st, sw_err *err)
{
    sw_accum_batch *b = sw_accum_batch_new(a);
    *st = b != NULL ? SW_OK : sw_err_set(err, SW_E_NOMEM, "out of memory");
    return b;
}

sw_status
sw_accum_add_counts(sw_accum *a, const char *service, const char *env, int64_t at_ms,
                    uint64_t requests, uint64_t errors, sw_err *err)
{
    sw_status st;
    sw_accum_batch *b = one_batch(a, &st, err);
    if (st == SW_OK)
        st = sw_accum_batch_counts(b, service, env, at_ms, requests, errors, err);
    return commit_one(a, b, st, err);
}

sw_status
sw_accum_add_latency(sw_accum *a, const char *service, const char *env, int64_t at_ms,
                     int64_t value_us, uint64_t count, sw_err *err)
{
    sw_status st;
    sw_accum_batch *b = one_batch(a, &st, err);
    if (st == SW_OK)
        st = sw_accum_batch_latency(b, service, env, at_ms, value_us, count, err);
    return commit_one(a, b, st, err);
}

sw_status
sw_accum_add_probe(sw_accum *a, const char *service, const char *env, int64_t at_ms, bool ok,
                   sw_err *err)
{
    sw_status st;
    sw_accum_batch *b = one_batch(a, &st, err);
    if (st == SW_OK)
        st = sw_accum_batch_probe(b, service, env, at_ms, ok, err);
    return commit_one(a, b, st, err);
}

sw_status
sw_accum_add_interval(sw_accum *a, const char *service, const char *env, const sw_sli_interval *in,
                      sw_err *err)
{
    sw_status st;
    sw_accum_batch *b = one_batch(a, &st, err);
    if (st == SW_OK)
        st = sw_accum_batch_interval(b, service, env, in, err);
    return commit_one(a, b, st, err);
}

/* ------------------------------------------------------------------ taking */

/* The intervals a take detached from one series, with their kept encodings. */
typedef struct detached {
    sw_sli_interval *iv;
    sw_accum_encoding *enc;
    size_t cap;
} detached;

static bool
detached_room(detached *out, size_t n)
{
    if (n <= out->cap)
        return true;
    sw_sli_interval *grown = realloc(out->iv, n * sizeof *grown);
    if (grown != NULL)
        out->iv = grown;
    sw_accum_encoding *grown_enc = grown != NULL ? realloc(out->enc, n * sizeof *grown_enc) : NULL;
    if (grown_enc == NULL)
        return false;
    out->enc = grown_enc;
    out->cap = n;
    return true;
}

/* Detach the intervals of s that ended by until_ms into *out (grown as needed), their number in
 * *ret_n. false when out grows past memory: they are kept open, the series' mark unmoved. */
static bool
detach_ended(sw_accum *a, accum_series *s, int64_t until_ms, detached *out, size_t *ret_n)
{
    size_t n = 0;
    *ret_n = 0;
    while (n < s->n_open && s->open[n].start_ms + a->base_ms <= until_ms)
        n++;
    if (!detached_room(out, n))
        return false;
    int64_t until_start = interval_start(until_ms, a->base_ms);
    if (until_start > s->taken_until_ms)
        s->taken_until_ms = until_start;
    if (n == 0)
        return true;
    memcpy(out->iv, s->open, n * sizeof s->open[0]);
    memcpy(out->enc, s->open_enc, n * sizeof s->open_enc[0]);
    memmove(&s->open[0], &s->open[n], (s->n_open - n) * sizeof s->open[0]);
    memmove(&s->open_enc[0], &s->open_enc[n], (s->n_open - n) * sizeof s->open_enc[0]);
    s->n_open -= n;
    *ret_n = n;
    return true;
}

sw_status
sw_accum_take_encoded(sw_accum *a, int64_t until_ms, sw_accum_encoded_sink sink, void *ctx,
                      sw_err *err)
{
    sw_status first = SW_OK;
    sw_err one;
    detached ended = {0};
    bool all_detached = true;
    for (size_t i = 0;; i++) {
        /* The lock is held only to detach: the sink (store, evaluator) runs without it. */
        pthread_mutex_lock(&a->lock);
        if (i >= a->n_series) {
            pthread_mutex_unlock(&a->lock);
            break;
        }
        accum_series *s = &a->series[i];
        size_t n;
        all_detached &= detach_ended(a, s, until_ms, &ended, &n);
        char *service = s->service, *env = s->env; /* series names never move or change */
        pthread_mutex_unlock(&a->lock);
        for (size_t j = 0; j < n; j++) {
            sw_status st =
                sink(ctx, service, env, &ended.iv[j], &ended.enc[j], first == SW_OK ? err : &one);
            free(ended.enc[j].data);
            if (st != SW_OK && first == SW_OK)
                first = st;
        }
    }
    free(ended.iv);
    free(ended.enc);
    /* Only once every series is detached: the journal's compaction drops what is before the
     * mark, and an interval still open there would be lost to a crash. */
    pthread_mutex_lock(&a->lock);
    int64_t until_start = interval_start(until_ms, a->base_ms);
    if (all_detached && until_start > a->taken_from_ms)
        a->taken_from_ms = until_start;
    pthread_mutex_unlock(&a->lock);
    if (!all_detached && first == SW_OK)
        first = sw_err_set(err, SW_E_NOMEM,
                           "out of memory taking intervals; some stay open until the next take");
    return first;
}

/* Under the lock. The last complete take's mark, or the start of an interval still open before
 * it: a series first seen after that take may have opened one (a late source's first batch is
 * not late for a series without a take yet). */
int64_t
sw_accum_taken_until_locked(const sw_accum *a)
{
    int64_t mark = a->taken_from_ms;
    for (size_t i = 0; i < a->n_series; i++)
        if (a->series[i].n_open > 0 && a->series[i].open[0].start_ms < mark)
            mark = a->series[i].open[0].start_ms;
    return mark;
}

int64_t
sw_accum_taken_until(sw_accum *a)
{
    pthread_mutex_lock(&a->lock);
    int64_t mark = sw_accum_taken_until_locked(a);
    pthread_mutex_unlock(&a->lock);
    return mark;
}

/* sw_accum_take's sink behind sw_accum_take_encoded: the encodings are not wanted. */
typedef struct plain_sink {
    sw_accum_sink sink;
    void *ctx;
} plain_sink;

static sw_status
without_encoding(void *ctx, const char *service, const char *env, sw_sli_interval *iv,
                 sw_accum_encoding *latency, sw_err *err)
{
    (void)latency;
    const plain_sink *p = ctx;
    return p->sink(p->ctx, service, env, iv, err);
}

sw_status
sw_accum_take(sw_accum *a, int64_t until_ms, sw_accum_sink sink, void *ctx, sw_err *err)
{
    plain_sink p = {sink, ctx};
    return sw_accum_take_encoded(a, until_ms, without_encoding, &p, err);
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
sw_accum_batch_late(const sw_accum_batch *b)
{
    return b->late;
}

uint64_t
sw_accum_carried(sw_accum *a)
{
    pthread_mutex_lock(&a->lock);
    uint64_t carried = a->carried;
    pthread_mutex_unlock(&a->lock);
    return carried;
}
