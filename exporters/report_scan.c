/*
 * Reading one service's month from the store, at the coarsest resolution that answers exactly:
 * the hours (sw_store_scan_hours), each with its per-minute counts and its merged latency
 * histogram, and in zones whose days are UTC days the days' latency from their 1 d rows. 1-minute
 * rows with histograms are read only where an hour's histogram would not do: the hours that overlap
 * maintenance (merged minute by minute, outside the window), and the whole month when the zone's
 * days do not start on the hour. When an hour has no minute counts left (only its hourly row), the
 * hourly rows give the counts. Every environment of the service adds into the same figures. The
 * requests over a latency threshold per hour are counted by a second read of the same latency
 * rows, made only when a why needs them (sw_report_scan_over).
 */
#include "report_int.h"
#include "slawatch/judgement.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool
sw_report_in_maint(const sw_service *svc, int64_t from_ms, int64_t to_ms)
{
    for (size_t i = 0; i < svc->n_maintenance; i++)
        if (svc->maintenance[i].start_ms < to_ms && from_ms < svc->maintenance[i].end_ms)
            return true;
    return false;
}

void
sw_report_minutes_fini(rp_minutes *m)
{
    free(m->requests);
    free(m->errors);
    free(m->probes);
    free(m->failures);
    free(m->flags);
    memset(m, 0, sizeof *m);
}

/* One environment's 1 d rows and what its hours hold, per day of the month (day_latency). */
typedef struct day_rows {
    char env[RP_NAME_MAX];
    sw_hdr *lat[RP_MAX_DAYS];
    uint64_t row_requests[RP_MAX_DAYS], hour_requests[RP_MAX_DAYS];
    bool has_row[RP_MAX_DAYS], has_hours[RP_MAX_DAYS];
} day_rows;

typedef struct scan_ctx {
    const sw_report *r;
    rp_service *s;
    rp_minutes *m;
    sw_hdr *day_lat[RP_MAX_DAYS];
    rp_counts *hour_rows; /* the hours' own counts per report hour, maintenance hours left out */
    size_t minute_rows;   /* minutes with stored counts */
    bool over_only;       /* the second read: only the counts over thresholds (scan_over) */
    bool by_day_rows;     /* latency from 1 d rows where they agree with the hours (day_latency) */
    day_rows *day_envs;
    size_t n_day_envs;
} scan_ctx;

static int
day_of(const sw_report *r, const rp_service *s, int64_t t_ms)
{
    for (int d = 0; d < r->n_days; d++)
        if (t_ms < s->days[d].end_ms)
            return t_ms >= s->days[d].start_ms ? d : -1;
    return -1;
}

/* The minute's counts, when it is inside the month. */
static void
add_minute(scan_ctx *c, const char *env, int64_t start_ms, const sw_minute_count *mc)
{
    int64_t i = (start_ms - c->r->start_ms) / RP_MINUTE_MS;
    if (start_ms < c->r->start_ms || (size_t)i >= c->m->n)
        return;
    c->m->requests[i] += mc->requests;
    c->m->errors[i] += mc->errors;
    c->m->probes[i] += mc->probes;
    c->m->failures[i] += mc->failures;
    if (mc->has_data)
        c->m->flags[i] |= RP_MIN_DATA;
    c->m->flags[i] |= RP_MIN_ROW;
    c->minute_rows++;
    sw_report_env_minute(c->s, env, start_ms, RP_MINUTE_MS, mc->requests, mc->errors, mc->has_data);
}

sw_status
sw_report_merge_pooled(rp_scan_pool *p, sw_hdr **acc, const sw_hdr *h, sw_err *err)
{
    if (*acc != NULL)
        return sw_hdr_add_grow(acc, h, err);
    *acc = sw_report_pool_copy(p, h);
    return *acc != NULL ? SW_OK : sw_err_set(err, SW_E_NOMEM, "out of memory merging latency");
}

sw_status
sw_report_merge_into(sw_hdr **acc, const sw_hdr *h, sw_err *err)
{
    return sw_report_merge_pooled(NULL, acc, h, err);
}

/* Into its day's and its environment's histograms (the month's is the sum of the days'); on the
 * second read, into the counts over thresholds instead. */
static sw_status
add_latency(scan_ctx *c, const char *env, const sw_sli_interval *iv, sw_err *err)
{
    if (iv->latency == NULL)
        return SW_OK;
    int d = day_of(c->r, c->s, iv->start_ms);
    if (d < 0)
        return SW_OK;
    if (c->over_only) {
        sw_report_count_over(c->r, c->s, iv);
        return SW_OK;
    }
    sw_status r = sw_report_env_latency(c->r->pool, c->s, env, iv->latency, err);
    return r == SW_OK ? sw_report_merge_pooled(c->r->pool, &c->day_lat[d], iv->latency, err) : r;
}

static void
add_counts(rp_counts *c, const sw_sli_interval *iv)
{
    c->requests += iv->requests;
    c->errors += iv->errors;
    c->probes += iv->health.probes;
    c->failures += iv->health.failures;
    if (iv->has_data)
        c->data_ms = RP_HOUR_MS; /* an hour row says only that some of the hour had data */
}

static bool
hour_latency(const scan_ctx *c)
{
    return c->r->latency_res_ms == RP_HOUR_MS;
}

/* ------------------------------------------------------------------ day rows */

/*
 * Decoding histograms is most of a report's cost, and a day's 1 d row is the exact merge of its
 * 24 hours: where the zone's days are UTC days, a day without maintenance takes its latency, and
 * each environment's, from its day rows, 31 decodes a month instead of 744. A day row the rollup
 * has not rebuilt since late data arrived would be short: each environment's day rows must hold
 * its hours' requests, else the day is merged from its hours as before.
 */
static bool
days_are_utc(const sw_report *r, const rp_service *s)
{
    if (r->latency_res_ms != RP_HOUR_MS)
        return false;
    for (int d = 0; d < r->n_days; d++)
        if (s->days[d].start_ms % SW_STORE_1D_MS != 0 ||
            s->days[d].end_ms - s->days[d].start_ms != SW_STORE_1D_MS)
            return false;
    return true;
}

static sw_status
day_rows_of(scan_ctx *c, const char *env, day_rows **ret, sw_err *err)
{
    const char *name = env != NULL ? env : "";
    for (size_t i = 0; i < c->n_day_envs; i++)
        if (strcmp(c->day_envs[i].env, name) == 0) {
            *ret = &c->day_envs[i];
            return SW_OK;
        }
    day_rows *grown = realloc(c->day_envs, (c->n_day_envs + 1) * sizeof *grown);
    if (grown == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory for a report's day rows");
    c->day_envs = grown;
    *ret = &c->day_envs[c->n_day_envs++];
    memset(*ret, 0, sizeof **ret);
    snprintf((*ret)->env, sizeof(*ret)->env, "%s", name);
    return SW_OK;
}

static sw_status
visit_day_row(void *ctx, const char *service, const char *env, const sw_sli_interval *iv,
              sw_err *err)
{
    (void)service;
    scan_ctx *c = ctx;
    int d = day_of(c->r, c->s, iv->start_ms);
    day_rows *e = NULL;
    if (d < 0 || iv->length_ms != SW_STORE_1D_MS)
        return SW_OK;
    sw_status r = day_rows_of(c, env, &e, err);
    if (r != SW_OK)
        return r;
    e->row_requests[d] += iv->requests;
    e->has_row[d] = true;
    return iv->latency == NULL ? SW_OK
                               : sw_report_merge_pooled(c->r->pool, &e->lat[d], iv->latency, err);
}

/* An hour's requests beside its environment's day rows, to check those against. */
static sw_status
day_hour(scan_ctx *c, const char *env, const sw_sli_interval *iv, sw_err *err)
{
    int d = day_of(c->r, c->s, iv->start_ms);
    day_rows *e = NULL;
    if (d < 0)
        return SW_OK;
    sw_status r = day_rows_of(c, env, &e, err);
    if (r != SW_OK)
        return r;
    e->hour_requests[d] += iv->requests;
    e->has_hours[d] = true;
    return SW_OK;
}

static sw_status
visit_hour(void *ctx, const char *service, const char *env, const sw_sli_interval *iv,
           const sw_hour_minutes *minutes, sw_err *err)
{
    (void)service;
    scan_ctx *c = ctx;
    for (int k = 0; minutes != NULL && k < SW_MINUTES_PER_HOUR; k++)
        if (minutes->m[k].stored)
            add_minute(c, env, iv->start_ms + k * RP_MINUTE_MS, &minutes->m[k]);
    bool maint = sw_report_in_maint(c->s->svc, iv->start_ms, iv->start_ms + RP_HOUR_MS);
    int64_t h = (iv->start_ms - c->r->start_ms) / RP_HOUR_MS;
    if (!maint && iv->start_ms >= c->r->start_ms && (size_t)h < c->s->n_hours) {
        add_counts(&c->hour_rows[h], iv);
        sw_report_env_hour(c->s, env, iv);
    }
    if (c->by_day_rows)
        return day_hour(c, env, iv, err);
    /* An hour that overlaps maintenance is merged from its minutes (minute_latency). */
    return maint || !hour_latency(c) ? SW_OK : add_latency(c, env, iv, err);
}

static sw_status
visit_hour_latency(void *ctx, const char *service, const char *env, const sw_sli_interval *iv,
                   const sw_hour_minutes *minutes, sw_err *err)
{
    (void)service, (void)minutes;
    scan_ctx *c = ctx;
    bool maint = sw_report_in_maint(c->s->svc, iv->start_ms, iv->start_ms + RP_HOUR_MS);
    return maint ? SW_OK : add_latency(c, env, iv, err);
}

/* Does every environment's day rows hold what its hours hold, on a day without maintenance? */
static bool
day_rows_whole(const scan_ctx *c, int d)
{
    const rp_day *day = &c->s->days[d];
    bool any_latency = false;
    for (size_t i = 0; i < c->n_day_envs; i++) {
        const day_rows *e = &c->day_envs[i];
        if (e->row_requests[d] != e->hour_requests[d] || e->has_row[d] != e->has_hours[d])
            return false;
        any_latency |= e->lat[d] != NULL;
    }
    return any_latency && !sw_report_in_maint(c->s->svc, day->start_ms, day->end_ms);
}

/* The day's rows into the day and their environments; the first is handed over, not copied:
 * cloning a histogram (a dense one is cleared first) costs as much as decoding it. */
static sw_status
day_from_rows(scan_ctx *c, int d, sw_err *err)
{
    sw_status r = SW_OK;
    for (size_t i = 0; r == SW_OK && i < c->n_day_envs; i++) {
        sw_hdr **h = &c->day_envs[i].lat[d];
        if (*h == NULL)
            continue;
        r = sw_report_env_latency(c->r->pool, c->s, c->day_envs[i].env, *h, err);
        if (r == SW_OK && c->day_lat[d] == NULL) {
            c->day_lat[d] = *h;
            *h = NULL;
        } else if (r == SW_OK) {
            r = sw_report_merge_pooled(c->r->pool, &c->day_lat[d], *h, err);
        }
    }
    return r;
}

static bool
day_stored(const scan_ctx *c, int d)
{
    for (size_t i = 0; i < c->n_day_envs; i++)
        if (c->day_envs[i].has_row[d] || c->day_envs[i].has_hours[d])
            return true;
    return false;
}

/* Each day's latency: its day rows' when they are whole, else its hours'. */
static sw_status
day_latency(sw_store *st, scan_ctx *c, sw_err *err)
{
    sw_status r = SW_OK;
    for (int d = 0; r == SW_OK && d < c->r->n_days; d++) {
        const rp_day *day = &c->s->days[d];
        if (day_rows_whole(c, d))
            r = day_from_rows(c, d, err);
        else if (day_stored(c, d))
            r = sw_store_scan_hours(st, c->s->key, day->start_ms, day->end_ms, true,
                                    visit_hour_latency, c, err);
    }
    return r;
}

static void
day_rows_free(scan_ctx *c)
{
    for (size_t i = 0; i < c->n_day_envs; i++)
        for (int d = 0; d < RP_MAX_DAYS; d++)
            sw_report_pool_put(c->r->pool, c->day_envs[i].lat[d]);
    free(c->day_envs);
}

static sw_status
visit_minute(void *ctx, const char *service, const char *env, const sw_sli_interval *iv,
             sw_err *err)
{
    (void)service;
    scan_ctx *c = ctx;
    bool maint = sw_report_in_maint(c->s->svc, iv->start_ms, iv->start_ms + iv->length_ms);
    return maint ? SW_OK : add_latency(c, env, iv, err);
}

/* Latency from 1-minute rows: the month's (days not on the hour), else the maintenance hours'. */
static sw_status
minute_latency(sw_store *st, scan_ctx *c, sw_err *err)
{
    const char *name = c->s->key;
    if (!hour_latency(c))
        return sw_store_scan_level(st, name, RP_MINUTE_MS, c->r->start_ms, c->r->end_ms, true,
                                   visit_minute, c, err);
    sw_status r = SW_OK;
    for (size_t h = 0; r == SW_OK && h < c->s->n_hours; h++) {
        int64_t from = c->s->hours[h].start_ms;
        if (sw_report_in_maint(c->s->svc, from, from + RP_HOUR_MS))
            r = sw_store_scan_level(st, name, RP_MINUTE_MS, from, from + RP_HOUR_MS, true,
                                    visit_minute, c, err);
    }
    return r;
}

static void
minute_into(rp_counts *c, const rp_minutes *m, size_t i, bool bad)
{
    c->span_ms += RP_MINUTE_MS;
    if (m->flags[i] & RP_MIN_MAINT) {
        c->maint_ms += RP_MINUTE_MS;
        return;
    }
    c->requests += m->requests[i];
    c->errors += m->errors[i];
    c->probes += m->probes[i];
    c->failures += m->failures[i];
    if (m->flags[i] & RP_MIN_DATA)
        c->data_ms += RP_MINUTE_MS;
    c->bad_minutes += bad;
}

const char *
sw_report_bad_text(const rp_counts *c, char *out, size_t cap)
{
    if (c->bad_unknown)
        snprintf(out, cap, "unknown");
    else
        snprintf(out, cap, "%llu", (unsigned long long)c->bad_minutes);
    return out;
}

static void
add_period(rp_counts *acc, const rp_counts *c)
{
    acc->requests += c->requests;
    acc->errors += c->errors;
    acc->probes += c->probes;
    acc->failures += c->failures;
    acc->span_ms += c->span_ms;
    acc->data_ms += c->data_ms;
    acc->maint_ms += c->maint_ms;
    acc->bad_minutes += c->bad_minutes;
    acc->bad_unknown |= c->bad_unknown;
}

/* Hours, days and the month from the minutes. */
static void
fold_minutes(const sw_report *r, rp_service *s, rp_minutes *m)
{
    const sw_condition *bad_when;
    size_t n_bad;
    sw_report_bad_when(s->own, &bad_when, &n_bad);
    for (size_t i = 0; i < m->n; i++) {
        int64_t t = r->start_ms + (int64_t)i * RP_MINUTE_MS;
        if (sw_report_in_maint(s->svc, t, t + RP_MINUTE_MS))
            m->flags[i] |= RP_MIN_MAINT;
        bool bad = sw_report_counts_bad(bad_when, n_bad, r->rules->min_requests, m->requests[i],
                                        m->errors[i], m->probes[i], m->failures[i]);
        size_t h = (size_t)(i * RP_MINUTE_MS / RP_HOUR_MS);
        minute_into(&s->hours[h].c, m, i, bad);
        if ((m->flags[i] & RP_MIN_DATA) && !(m->flags[i] & RP_MIN_MAINT)) {
            if (s->first_data_ms < 0)
                s->first_data_ms = t;
            s->last_data_ms = t + RP_MINUTE_MS;
        }
    }
}

/* Hourly counts (no minute counts): maintenance hours were left out when they were read. */
static void
fold_hours_only(rp_service *s, const rp_counts *hour_rows)
{
    for (size_t h = 0; h < s->n_hours; h++) {
        rp_hour *hr = &s->hours[h];
        hr->c = hour_rows[h];
        hr->c.span_ms = RP_HOUR_MS;
        hr->c.bad_unknown = hr->c.data_ms > 0; /* an hour's sums cannot say which minute was bad */
        if (sw_report_in_maint(s->svc, hr->start_ms, hr->start_ms + RP_HOUR_MS))
            hr->c.maint_ms = RP_HOUR_MS;
        if (hr->c.data_ms > 0) {
            if (s->first_data_ms < 0)
                s->first_data_ms = hr->start_ms;
            s->last_data_ms = hr->start_ms + RP_HOUR_MS;
        }
    }
}

static void
fold_days(const sw_report *r, rp_service *s)
{
    for (size_t h = 0; h < s->n_hours; h++) {
        int d = day_of(r, s, s->hours[h].start_ms);
        if (d >= 0)
            add_period(&s->days[d].c, &s->hours[h].c);
        add_period(&s->month, &s->hours[h].c);
    }
    s->has_data = s->month.data_ms > 0;
}

/* Coverage of the span verdicts judge, [start, judged_until), outside maintenance: minute by
 * minute, or hour by hour without minute counts. */
static void
judged_coverage(const sw_report *r, rp_service *s, const rp_minutes *m)
{
    int64_t outside = 0, data = 0, until = r->judged_until_ms;
    int64_t step = s->minute_counts ? RP_MINUTE_MS : RP_HOUR_MS;
    size_t n = s->minute_counts ? m->n : s->n_hours;
    for (size_t i = 0; i < n; i++) {
        int64_t t = r->start_ms + (int64_t)i * step;
        if (t >= until)
            break;
        int64_t len = until - t < step ? until - t : step;
        bool maint = s->minute_counts ? (m->flags[i] & RP_MIN_MAINT) != 0
                                      : s->hours[i].c.maint_ms >= RP_HOUR_MS;
        if (maint)
            continue;
        outside += len;
        data += s->minute_counts ? ((m->flags[i] & RP_MIN_DATA) ? len : 0)
                                 : (s->hours[i].c.data_ms < len ? s->hours[i].c.data_ms : len);
    }
    s->coverage = sw_judgement_coverage(data, outside);
    s->enough_coverage = sw_judgement_enough(true, s->coverage);
}

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static uint64_t
median3(uint64_t x, uint64_t y, uint64_t z)
{
    if (x < y)
        return y < z ? y : x < z ? z : x;
    return x < z ? x : y < z ? z : y;
}

/*
 * The k-th smallest of a[0..n) (k < n), a reordered around it: Hoare's FIND, each round
 * partitioning only the part that holds rank k, around the median of three of its values, so a
 * month of minutes costs a few passes instead of a sort. An order that defeats the pivots (past
 * twice log2 n rounds) has what is left sorted, so the worst case stays n log n.
 */
static uint64_t
kth_smallest(uint64_t *a, size_t n, size_t k)
{
    ptrdiff_t lo = 0, hi = (ptrdiff_t)n - 1, at = (ptrdiff_t)k;
    int rounds = 2;
    for (size_t m = n; m > 1; m >>= 1)
        rounds += 2;
    while (lo < hi) {
        if (rounds-- == 0) {
            qsort(a + lo, (size_t)(hi - lo + 1), sizeof *a, cmp_u64);
            break;
        }
        uint64_t pivot = median3(a[lo], a[lo + (hi - lo) / 2], a[hi]);
        ptrdiff_t i = lo, j = hi;
        while (i <= j) { /* a[lo, i) <= pivot <= a(j, hi]: the scans stop at the pivot's value */
            while (a[i] < pivot)
                i++;
            while (a[j] > pivot)
                j--;
            if (i <= j) {
                uint64_t t = a[i];
                a[i++] = a[j];
                a[j--] = t;
            }
        }
        if (j < at) /* a(j, i) all equal the pivot: rank k among them ends the search */
            lo = i;
        if (at < i)
            hi = j;
    }
    return a[k];
}

/* Peak minute and the rate 99 % of the minutes with data reached: the 1st percentile, the
 * (n / 100)-th smallest of n rates, is reached by n - n / 100 >= 99 % of them. */
static sw_status
throughput(rp_service *s, const rp_minutes *m, sw_err *err)
{
    uint64_t *rates = malloc((m->n ? m->n : 1) * sizeof *rates);
    if (rates == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory ranking minutes");
    size_t n = 0;
    uint64_t peak = 0;
    for (size_t i = 0; i < m->n; i++)
        if ((m->flags[i] & RP_MIN_DATA) && !(m->flags[i] & RP_MIN_MAINT)) {
            rates[n++] = m->requests[i];
            peak = m->requests[i] > peak ? m->requests[i] : peak;
        }
    s->peak_rps = n ? (double)peak / 60.0 : NAN;
    s->sustained_rps = n ? (double)kth_smallest(rates, n, n / 100) / 60.0 : NAN;
    free(rates);
    return SW_OK;
}

/* The days' percentiles, and the month's histogram as the sum of the days'. */
static sw_status
day_percentiles(scan_ctx *c, sw_hdr **month_lat, sw_err *err)
{
    sw_status r = SW_OK;
    for (int d = 0; d < c->r->n_days; d++) {
        rp_day *day = &c->s->days[d];
        const sw_hdr *h = c->day_lat[d];
        bool any = h != NULL && sw_hdr_total_count(h) > 0;
        day->p95_us = any ? (double)sw_hdr_value_at_percentile(h, 95.0) : NAN;
        day->p99_us = any ? (double)sw_hdr_value_at_percentile(h, 99.0) : NAN;
        if (h != NULL && r == SW_OK)
            r = sw_report_merge_pooled(c->r->pool, month_lat, h, err);
    }
    const sw_hdr *m = *month_lat;
    bool any = m != NULL && sw_hdr_total_count(m) > 0;
    c->s->p50_us = any ? (double)sw_hdr_value_at_percentile(m, 50.0) : NAN;
    c->s->p95_us = any ? (double)sw_hdr_value_at_percentile(m, 95.0) : NAN;
    c->s->p99_us = any ? (double)sw_hdr_value_at_percentile(m, 99.0) : NAN;
    return r;
}

static sw_status
scan_init(scan_ctx *c, sw_err *err)
{
    size_t n = (size_t)((c->r->end_ms - c->r->start_ms) / RP_MINUTE_MS);
    sw_status r = sw_report_pool_minutes(c->r->pool, c->m, n, err);
    if (r != SW_OK)
        return r;
    c->hour_rows = calloc(c->s->n_hours, sizeof *c->hour_rows);
    if (c->hour_rows == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory for %zu hours of a report",
                          c->s->n_hours);
    return SW_OK;
}

/* The base row's counts into its minute. */
static void
tail_counts(scan_ctx *c, const char *env, const sw_sli_interval *iv, size_t i)
{
    c->m->requests[i] += iv->requests;
    c->m->errors[i] += iv->errors;
    c->m->probes[i] += iv->health.probes;
    c->m->failures[i] += iv->health.failures;
    if (iv->has_data)
        c->m->flags[i] |= RP_MIN_DATA;
    c->minute_rows++;
    sw_report_env_minute(c->s, env, iv->start_ms, iv->length_ms, iv->requests, iv->errors,
                         iv->has_data);
}

/* A base row of a minute the rollup has not reached yet, into that minute. */
static sw_status
visit_tail(void *ctx, const char *service, const char *env, const sw_sli_interval *iv, sw_err *err)
{
    (void)service;
    scan_ctx *c = ctx;
    int64_t i = (iv->start_ms - c->r->start_ms) / RP_MINUTE_MS;
    if (iv->start_ms < c->r->start_ms || (size_t)i >= c->m->n || (c->m->flags[i] & RP_MIN_ROW))
        return SW_OK;
    if (!c->over_only)
        tail_counts(c, env, iv, (size_t)i);
    bool maint = sw_report_in_maint(c->s->svc, iv->start_ms, iv->start_ms + iv->length_ms);
    return maint ? SW_OK : add_latency(c, env, iv, err);
}

/* The minutes from the first one still waiting for its rollup are read from base rows, so a
 * month in progress is judged up to now, as the live evaluator judges it, not up to the last
 * rollup (which would read as missing data early in a month). */
static sw_status
scan_tail(sw_store *st, scan_ctx *c, sw_err *err)
{
    int64_t from = INT64_MAX;
    sw_status r = sw_store_first_unrolled_minute(st, &from, err);
    if (r != SW_OK || from >= c->r->end_ms)
        return r;
    from = from > c->r->start_ms ? from : c->r->start_ms;
    return sw_store_scan(st, c->s->key, from, c->r->end_ms, from, visit_tail, c, err);
}

static sw_status
scan_store(sw_store *st, scan_ctx *c, sw_err *err)
{
    /* From the hour the month starts in: a zone's month may start mid-hour. */
    int64_t from = c->r->start_ms - c->r->start_ms % RP_HOUR_MS;
    sw_status r = SW_OK;
    c->by_day_rows = days_are_utc(c->r, c->s);
    if (c->by_day_rows)
        r = sw_store_scan_level(st, c->s->key, SW_STORE_1D_MS, c->r->start_ms, c->r->end_ms, true,
                                visit_day_row, c, err);
    if (r == SW_OK)
        r = sw_store_scan_hours(st, c->s->key, from, c->r->end_ms,
                                hour_latency(c) && !c->by_day_rows, visit_hour, c, err);
    if (r == SW_OK && c->by_day_rows)
        r = day_latency(st, c, err);
    if (r == SW_OK)
        r = minute_latency(st, c, err);
    return r == SW_OK ? scan_tail(st, c, err) : r;
}

sw_status
sw_report_scan_service(sw_store *st, const sw_report *r, rp_service *s, rp_minutes *m,
                       sw_hdr **ret_lat, sw_err *err)
{
    scan_ctx c = {.r = r, .s = s, .m = m};
    sw_hdr *month_lat = NULL;
    sw_status rc = scan_init(&c, err);
    if (rc == SW_OK)
        rc = scan_store(st, &c, err);
    if (rc == SW_OK) {
        s->minute_counts = c.minute_rows > 0;
        if (s->minute_counts)
            fold_minutes(r, s, m);
        else
            fold_hours_only(s, c.hour_rows);
        fold_days(r, s);
        judged_coverage(r, s, m);
        rc = day_percentiles(&c, &month_lat, err);
    }
    if (rc == SW_OK)
        rc = throughput(s, m, err);
    for (int d = 0; d < RP_MAX_DAYS; d++)
        sw_report_pool_put(r->pool, c.day_lat[d]);
    day_rows_free(&c);
    free(c.hour_rows);
    if (rc != SW_OK) {
        sw_report_pool_put(r->pool, month_lat);
        return rc;
    }
    *ret_lat = month_lat;
    return SW_OK;
}

/*
 * The requests over each latency threshold per hour, for the why of a latency objective: a second
 * read of the latency rows the scan merged (the hours outside maintenance, the maintenance hours'
 * minutes or the month's minutes, the tail's base rows), decoding each hour's histogram. Made
 * only for a service with a latency objective missed or at risk, so the others keep the scan's
 * 31 day-row decodes a month.
 */
sw_status
sw_report_scan_over(sw_store *st, const sw_report *r, rp_service *s, rp_minutes *m, sw_err *err)
{
    scan_ctx c = {.r = r, .s = s, .m = m, .over_only = true};
    int64_t from = r->start_ms - r->start_ms % RP_HOUR_MS;
    sw_status rc = SW_OK;
    if (hour_latency(&c))
        rc = sw_store_scan_hours(st, s->key, from, r->end_ms, true, visit_hour_latency, &c, err);
    if (rc == SW_OK)
        rc = minute_latency(st, &c, err);
    return rc == SW_OK ? scan_tail(st, &c, err) : rc;
}
