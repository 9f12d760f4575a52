/*
 * slawatch backfill --source cloudwatch --from T --to T: history from GetMetricData into the
 * store, with the serve poller's mapping (collector/cloudwatch.c).
 *
 * Why chunks of a UTC day with a done mark each: a backfill of months takes long and may be
 * killed; each chunk's rows and its mark commit in one transaction (sw_store_import_done), so
 * a re-run skips the chunks marked and redoes the rest, and rows replace by key, so nothing is
 * counted twice. The period follows what CloudWatch keeps at the chunk's age (1 min for 15 d,
 * 5 min for 63 d, 1 h for 455 d), coarsened to the finest store resolution whose retention still
 * holds the chunk, so the rows are not refused as already expired.
 */
#include "cli.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "slawatch/rules_schema.h"
#include "slawatch/cloudwatch.h"
#include "slawatch/config.h"
#include "slawatch/cwpct.h"
#include "slawatch/hash.h"
#include "slawatch/hdr.h"
#include "slawatch/rules.h"
#include "slawatch/store.h"
#include "slawatch/units.h"
#include "slawatch/yaml.h"

#define DAY_S INT64_C(86400)
#define CHUNK_S DAY_S
/* Ages are taken this much older: CloudWatch judges a query's age when it answers, later. */
#define AGE_MARGIN_S INT64_C(3600)
/* A batch job may wait: a chunk is tried this often, with full-jitter backoff between tries,
 * before the run gives up on a transient failure; each try's call retries on its own too. */
#define CHUNK_TRIES 12
#define CHUNK_BACKOFF_MS INT64_C(500)
#define CHUNK_BACKOFF_MAX_MS INT64_C(60000)
#define CALL_RETRIES 8
#define CALL_BUDGET 100000

/* CloudWatch's retention: data younger than max_age_s is kept at period_s. */
static const struct {
    int64_t max_age_s, period_s;
} cw_retention[] = {{15 * DAY_S, 60}, {63 * DAY_S, 300}, {455 * DAY_S, 3600}};

typedef struct bf_opts {
    const char *source, *from, *to, *config, *data, *rules, *period;
} bf_opts;

static void
backfill_usage(FILE *f)
{
    fprintf(f, "usage: slawatch backfill --source cloudwatch --from T --to T [--config FILE]\n"
               "                         [--data DIR] [--rules FILE] [--period D]\n\n"
               "Pull CloudWatch history over [--from, --to) (RFC 3339) into the store, a UTC day\n"
               "at a time; an interrupted run resumes after the last day stored.\n\n"
               "  --config FILE  the daemon's configuration (cloudwatch:, store:, rules_files)\n"
               "  --data DIR     the store's data directory (default: the configuration's)\n"
               "  --rules FILE   the rules whose cloudwatch sources to read (default: the\n"
               "                 configuration's rules_files)\n"
               "  --period D     read at this period (a multiple of 1m dividing a day; default:\n"
               "                 the finest CloudWatch still keeps at each day's age)\n"
               "  -h, --help, --version\n");
}

static int
parse_args(int argc, char **argv, bf_opts *o)
{
    static const struct option longopts[] = {
        {"source", required_argument, NULL, 's'}, {"from", required_argument, NULL, 'f'},
        {"to", required_argument, NULL, 't'},     {"config", required_argument, NULL, 'c'},
        {"data", required_argument, NULL, 'd'},   {"rules", required_argument, NULL, 'r'},
        {"period", required_argument, NULL, 'p'}, {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 's': o->source = optarg; break;
        case 'f': o->from = optarg; break;
        case 't': o->to = optarg; break;
        case 'c': o->config = optarg; break;
        case 'd': o->data = optarg; break;
        case 'r': o->rules = optarg; break;
        case 'p': o->period = optarg; break;
        case 'h': backfill_usage(stdout); return -1;
        case 'V': sw_cli_version(stdout); return -1;
        default: backfill_usage(stderr); return SW_EXIT_USAGE;
        }
    }
    const char *why = o->source == NULL ? "--source is required"
                      : strcmp(o->source, "cloudwatch") != 0 ? "--source must be cloudwatch"
                      : o->from == NULL || o->to == NULL ? "--from and --to are required"
                      : optind != argc ? "unexpected argument"
                                       : NULL;
    if (why == NULL)
        return SW_EXIT_OK;
    fprintf(stderr, "slawatch backfill: %s\n", why);
    backfill_usage(stderr);
    return SW_EXIT_USAGE;
}

/* ------------------------------------------------------------------ the job */

/* The windows a whole-day chunk also asks as one period each: its hours and the day. */
static const int64_t window_s[] = {3600, DAY_S};
#define N_WINDOWS (sizeof window_s / sizeof window_s[0])

typedef struct plan_slot {
    int64_t period_s, res_ms;
    sw_cloudwatch *plan;
    sw_cloudwatch *windows[N_WINDOWS]; /* NULL: the period is not finer than the window */
    uint64_t hash;                     /* of the queries: other rules make other done marks */
} plan_slot;

typedef struct job {
    const sw_config *cfg;
    const sw_rules *rules;
    sw_store *store;
    sw_cwgmd *client;
    int64_t now_s, from_s, to_s;
    int64_t period_s; /* --period, 0: the finest retained */
    plan_slot slots[9]; /* at most one per (CloudWatch period, store resolution) */
    size_t n_slots;
    bool tty;
    bool cloudwatch_failed; /* the error came from CloudWatch (exit 1), not the store */
    uint64_t rng;           /* backoff jitter */
    size_t chunks_total, chunks_done, chunks_skipped;
    uint64_t rows;
} job;

static int64_t
floor_to(int64_t v, int64_t m)
{
    int64_t r = v % m;
    return r < 0 ? v - r - m : v - r;
}

static uint64_t
plan_hash(const sw_cloudwatch *plan, uint64_t h)
{
    size_t n;
    const sw_cwgmd_query *q = sw_cloudwatch_queries(plan, &n);
    for (size_t i = 0; i < n; i++) {
        const char *parts[] = {q[i].id, q[i].namespace_, q[i].metric, q[i].stat};
        for (size_t k = 0; k < 4; k++)
            h = sw_hash_bytes(parts[k], strlen(parts[k]) + 1, h);
        for (size_t k = 0; k < q[i].n_dimensions; k++) {
            h = sw_hash_bytes(q[i].dimensions[k].name, strlen(q[i].dimensions[k].name) + 1, h);
            h = sw_hash_bytes(q[i].dimensions[k].value, strlen(q[i].dimensions[k].value) + 1, h);
        }
    }
    return h;
}

/*
 * The period and store resolution for a chunk starting at start_s: CloudWatch's period at that
 * age, coarsened to the finest rollup resolution the store still keeps there.
 */
static sw_status
choose_period(const job *j, int64_t start_s, int64_t *ret_period_s, int64_t *ret_res_ms,
              sw_err *err)
{
    int64_t age_s = j->now_s - start_s + AGE_MARGIN_S;
    int64_t period_s = 0;
    for (size_t i = 0; i < sizeof cw_retention / sizeof cw_retention[0] && period_s == 0; i++)
        if (age_s <= cw_retention[i].max_age_s)
            period_s = cw_retention[i].period_s;
    if (period_s == 0)
        return sw_err_set(err, SW_E_RANGE, "CloudWatch keeps no data older than 455 days");
    if (j->period_s > 0)
        period_s = j->period_s; /* parse_range checked it is kept over the whole range */
    static const int64_t res_ms[] = {SW_STORE_1M_MS, SW_STORE_1H_MS, SW_STORE_1D_MS};
    size_t level = 0;
    while (level < 2 && age_s * 1000 > j->cfg->retention_ms[level + 1])
        level++;
    *ret_res_ms = res_ms[level];
    *ret_period_s = period_s > res_ms[level] / 1000 ? period_s : res_ms[level] / 1000;
    return SW_OK;
}

/* The plan for (period, resolution), made once. */
static sw_status
plan_for(job *j, int64_t period_s, int64_t res_ms, plan_slot **ret, sw_err *err)
{
    for (size_t i = 0; i < j->n_slots; i++)
        if (j->slots[i].period_s == period_s && j->slots[i].res_ms == res_ms) {
            *ret = &j->slots[i];
            return SW_OK;
        }
    plan_slot *s = &j->slots[j->n_slots];
    sw_status st = sw_cloudwatch_new(j->rules, period_s, res_ms, &s->plan, err);
    /* Windows pin rollup rows built from minute rows; rows stored coarser have none. */
    for (size_t w = 0; st == SW_OK && w < N_WINDOWS && res_ms == SW_STORE_1M_MS; w++)
        if (period_s < window_s[w])
            st = sw_cloudwatch_new_windows(j->rules, window_s[w], &s->windows[w], err);
    if (st != SW_OK) {
        sw_cloudwatch_free(s->plan);
        for (size_t w = 0; w < N_WINDOWS; w++)
            sw_cloudwatch_free(s->windows[w]);
        memset(s, 0, sizeof *s);
        return st;
    }
    s->period_s = period_s;
    s->res_ms = res_ms;
    s->hash = plan_hash(s->plan, 0);
    for (size_t w = 0; w < N_WINDOWS; w++)
        if (s->windows[w] != NULL)
            s->hash = plan_hash(s->windows[w], s->hash);
    j->n_slots++;
    *ret = s;
    return SW_OK;
}

/* The intervals of one chunk, owned (the sink's are lent for the call). */
typedef struct chunk_rows {
    sw_store_row *rows;
    sw_sli_interval *ivs;
    size_t n, cap;
} chunk_rows;

static void
chunk_rows_fini(chunk_rows *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free((char *)c->rows[i].service);
        sw_hdr_free(c->ivs[i].latency);
    }
    free(c->rows);
    free(c->ivs);
    memset(c, 0, sizeof *c);
}

static sw_status
grow(chunk_rows *c, sw_err *err)
{
    size_t cap = c->cap ? c->cap * 2 : 1024;
    sw_store_row *r = realloc(c->rows, cap * sizeof *r);
    if (r != NULL)
        c->rows = r;
    sw_sli_interval *v = r != NULL ? realloc(c->ivs, cap * sizeof *v) : NULL;
    if (v == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory collecting a chunk");
    c->ivs = v;
    c->cap = cap;
    return SW_OK;
}

static sw_status
collect(void *ctx, const char *service, const sw_sli_interval *iv, sw_err *err)
{
    chunk_rows *c = ctx;
    if (c->n == c->cap && grow(c, err) != SW_OK)
        return SW_E_NOMEM;
    sw_sli_interval *v = &c->ivs[c->n];
    *v = *iv;
    v->latency = iv->latency != NULL ? sw_hdr_clone(iv->latency) : NULL;
    char *name = strdup(service);
    if (name == NULL || (iv->latency != NULL && v->latency == NULL)) {
        free(name);
        sw_hdr_free(v->latency);
        return sw_err_set(err, SW_E_NOMEM, "out of memory collecting a chunk");
    }
    c->rows[c->n++] = (sw_store_row){.service = name, .env = NULL}; /* .iv once ivs stop moving */
    return SW_OK;
}

/* The windows' statistics of one chunk, encoded for the store, owned. */
typedef struct chunk_stats {
    sw_store_window_stats *ws;
    size_t n, cap;
    int64_t res_ms; /* of the windows being collected */
} chunk_stats;

static void
chunk_stats_fini(chunk_stats *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free((char *)c->ws[i].service);
        free((void *)c->ws[i].data);
    }
    free(c->ws);
    memset(c, 0, sizeof *c);
}

static sw_status
collect_window(void *ctx, const char *service, int64_t start_s, const sw_cwpct_period *stats,
               sw_err *err)
{
    chunk_stats *c = ctx;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        sw_store_window_stats *ws = realloc(c->ws, cap * sizeof *ws);
        if (ws == NULL)
            return sw_err_set(err, SW_E_NOMEM, "out of memory collecting a chunk");
        c->ws = ws;
        c->cap = cap;
    }
    uint8_t bytes[SW_CWPCT_WINDOW_MAX_BYTES];
    size_t len = 0;
    sw_status st = sw_cwpct_window_encode(stats, bytes, &len, err);
    if (st != SW_OK)
        return st;
    char *name = strdup(service);
    void *data = malloc(len);
    if (name == NULL || data == NULL) {
        free(name);
        free(data);
        return sw_err_set(err, SW_E_NOMEM, "out of memory collecting a chunk");
    }
    memcpy(data, bytes, len);
    c->ws[c->n++] = (sw_store_window_stats){.service = name,
                                            .resolution_ms = c->res_ms,
                                            .start_ms = start_s * 1000,
                                            .data = data,
                                            .len = len};
    return SW_OK;
}

static void
nap_ms(job *j, unsigned tries)
{
    int64_t cap = CHUNK_BACKOFF_MS << (tries < 16 ? tries : 16);
    cap = cap < CHUNK_BACKOFF_MAX_MS ? cap : CHUNK_BACKOFF_MAX_MS;
    uint64_t x = (j->rng += UINT64_C(0x9E3779B97F4A7C15));
    x = (x ^ (x >> 31)) * UINT64_C(0xBF58476D1CE4E5B9);
    int64_t ms = (int64_t)((x ^ (x >> 29)) % (uint64_t)(cap + 1));
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/*
 * The chunk's series, tried again after transient failures (throttling, 5xx, resets,
 * InternalError results, garbled answers) with jittered backoff. A permanent error or the
 * last try fails the run with the metric, the chunk's time and the tries in the message.
 */
static sw_status
fetch_series(job *j, const sw_cwgmd_query *q, size_t n, int64_t start_s, int64_t end_s,
             sw_cwgmd_series *series, sw_err *err)
{
    for (unsigned tries = 1;; tries++) {
        sw_status st = sw_cwgmd_fetch(j->client, q, n, start_s, end_s, series, err);
        if (st == SW_OK)
            return SW_OK;
        bool again = sw_cwgmd_transient(j->client) && tries < CHUNK_TRIES;
        char at[40];
        sw_units_format_time(start_s * 1000, at, sizeof at);
        if (!again) {
            j->cloudwatch_failed = true;
            sw_err_prefix(err, "%s %s%s from %s: gave up after %u tr%s", q[0].namespace_,
                          q[0].metric, n > 1 ? " (and the chunk's other metrics)" : "", at,
                          tries, tries == 1 ? "y" : "ies");
            return st;
        }
        fprintf(stderr, "slawatch backfill: chunk from %s: try %u failed, retrying: %s\n", at,
                tries, err != NULL ? err->msg : "");
        nap_ms(j, tries);
    }
}

/* The chunk's queries: the period's, then (whole days only) each window's; *ret_n_plans the
 * plans in ret_plans. One GetMetricData call asks them all. */
static sw_status
chunk_queries(const plan_slot *s, bool whole_day, sw_cwgmd_query **ret, size_t *ret_n,
              const sw_cloudwatch **ret_plans, size_t *ret_n_plans, sw_err *err)
{
    size_t n_plans = 0, n = 0;
    ret_plans[n_plans++] = s->plan;
    for (size_t w = 0; whole_day && w < N_WINDOWS; w++)
        if (s->windows[w] != NULL)
            ret_plans[n_plans++] = s->windows[w];
    for (size_t p = 0; p < n_plans; p++) {
        size_t k;
        sw_cloudwatch_queries(ret_plans[p], &k);
        n += k;
    }
    sw_cwgmd_query *q = calloc(n + 1, sizeof *q);
    if (q == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory fetching a chunk");
    size_t at = 0;
    for (size_t p = 0; p < n_plans; p++) {
        size_t k;
        const sw_cwgmd_query *pq = sw_cloudwatch_queries(ret_plans[p], &k);
        memcpy(q + at, pq, k * sizeof *q);
        at += k;
    }
    *ret = q;
    *ret_n = n;
    *ret_n_plans = n_plans;
    return SW_OK;
}

/* Hand each plan's part of the series on: periods as rows, windows as statistics. */
static sw_status
apply_chunk(const sw_cloudwatch *const *plans, size_t n_plans, const sw_cwgmd_series *series,
            int64_t start_s, int64_t end_s, chunk_rows *rows, chunk_stats *stats, sw_err *err)
{
    sw_status st = sw_cloudwatch_apply(plans[0], series, start_s, end_s, collect, rows, err);
    size_t at;
    sw_cloudwatch_queries(plans[0], &at);
    for (size_t p = 1; st == SW_OK && p < n_plans; p++) {
        size_t k;
        sw_cloudwatch_queries(plans[p], &k);
        stats->res_ms = sw_cloudwatch_period_s(plans[p]) * 1000;
        st = sw_cloudwatch_windows(plans[p], series + at, start_s, end_s, collect_window, stats,
                                   err);
        at += k;
    }
    return st;
}

/* Fetch [start_s, end_s) at the slot's period (a whole day with its hours and the day as
 * windows) and store it with its mark. */
static sw_status
fetch_chunk(job *j, const plan_slot *s, int64_t start_s, int64_t end_s, const char *mark,
            sw_err *err)
{
    const sw_cloudwatch *plans[1 + N_WINDOWS];
    size_t n = 0, n_plans = 0;
    sw_cwgmd_query *q = NULL;
    bool whole_day = start_s % DAY_S == 0 && end_s == start_s + DAY_S;
    sw_status st = chunk_queries(s, whole_day, &q, &n, plans, &n_plans, err);
    sw_cwgmd_series *series = st == SW_OK ? calloc(n + 1, sizeof *series) : NULL;
    if (st == SW_OK && series == NULL)
        st = sw_err_set(err, SW_E_NOMEM, "out of memory fetching a chunk");
    chunk_rows c = {0};
    chunk_stats w = {0};
    if (st == SW_OK)
        st = fetch_series(j, q, n, start_s, end_s, series, err);
    if (st == SW_OK) {
        st = apply_chunk(plans, n_plans, series, start_s, end_s, &c, &w, err);
        j->cloudwatch_failed = st != SW_OK && st != SW_E_NOMEM;
    }
    for (size_t i = 0; i < c.n; i++)
        c.rows[i].iv = &c.ivs[i];
    if (st == SW_OK)
        st = sw_store_import_done(j->store, s->res_ms, c.rows, c.n, w.ws, w.n, mark, err);
    if (st == SW_OK)
        j->rows += c.n;
    chunk_rows_fini(&c);
    chunk_stats_fini(&w);
    for (size_t i = 0; series != NULL && i < n; i++)
        sw_cwgmd_series_fini(&series[i]);
    free(series);
    free(q);
    return st;
}

static void
report_chunk(const job *j, int64_t start_s, int64_t period_s, const char *what)
{
    size_t done = j->chunks_done + j->chunks_skipped;
    if (j->tty) {
        enum { WIDTH = 40 };
        size_t fill = j->chunks_total ? done * WIDTH / j->chunks_total : WIDTH;
        char bar[WIDTH + 1];
        memset(bar, '#', fill);
        memset(bar + fill, '.', WIDTH - fill);
        bar[WIDTH] = '\0';
        fprintf(stderr, "\r[%s] %zu/%zu days, %" PRIu64 " rows ", bar, done, j->chunks_total,
                j->rows);
        if (done == j->chunks_total)
            fputc('\n', stderr);
        return;
    }
    char day[40];
    sw_units_format_time(start_s * 1000, day, sizeof day);
    fprintf(stderr, "slawatch backfill: chunk %zu/%zu %s period %" PRId64 "s %s (%" PRIu64
                    " rows in total)\n",
            done, j->chunks_total, day, period_s, what, j->rows);
}

static sw_status
run_chunk(job *j, int64_t start_s, int64_t end_s, sw_err *err)
{
    int64_t period_s = 0, res_ms = 0;
    plan_slot *s = NULL;
    sw_status st = choose_period(j, start_s, &period_s, &res_ms, err);
    if (st == SW_OK)
        st = plan_for(j, period_s, res_ms, &s, err);
    if (st != SW_OK)
        return st;
    start_s = floor_to(start_s, period_s);
    end_s = floor_to(end_s, period_s);
    if (end_s <= start_s)
        return SW_OK;
    char mark[128];
    snprintf(mark, sizeof mark, "backfill/cloudwatch/%016" PRIx64 "/%" PRId64 "/%" PRId64 "/%" PRId64,
             s->hash, start_s, end_s, period_s);
    bool done = false;
    st = sw_store_is_done(j->store, mark, &done, err);
    if (st == SW_OK && !done)
        st = fetch_chunk(j, s, start_s, end_s, mark, err);
    if (st != SW_OK)
        return st;
    if (done)
        j->chunks_skipped++;
    else
        j->chunks_done++;
    report_chunk(j, start_s, period_s, done ? "already stored" : "stored");
    return SW_OK;
}

static sw_status
run_job(job *j, sw_err *err)
{
    int64_t first = floor_to(j->from_s, CHUNK_S);
    j->chunks_total = (size_t)((j->to_s - first + CHUNK_S - 1) / CHUNK_S);
    for (int64_t day = first; day < j->to_s; day += CHUNK_S) {
        int64_t start = day > j->from_s ? day : j->from_s;
        int64_t end = day + CHUNK_S < j->to_s ? day + CHUNK_S : j->to_s;
        sw_status st = run_chunk(j, start, end, err);
        if (st != SW_OK)
            return st;
    }
    return sw_store_rollup(j->store, j->now_s * 1000, err);
}

/* ------------------------------------------------------------------ setup */

/* Exit 1 for CloudWatch's errors and bad input, 2 for store I/O and memory. */
static int
fail(const sw_err *err, bool cloudwatch)
{
    fprintf(stderr, "slawatch backfill: %s\n", err->msg);
    return !cloudwatch && (err->code == SW_E_IO || err->code == SW_E_NOMEM) ? SW_EXIT_USAGE
                                                                              : SW_EXIT_INPUT;
}

/*
 * --period: a multiple of a minute that divides a day (chunks are days), and one CloudWatch
 * still answers at the age of --from: periods of data older than 15 days must be multiples of
 * 5 minutes, older than 63 days of an hour.
 */
static int
check_period(const char *text, job *j)
{
    int64_t ms;
    if (!sw_units_parse_duration_ms(text, strlen(text), &ms) || ms % 60000 != 0 || ms <= 0 ||
        (DAY_S * 1000) % ms != 0) {
        fprintf(stderr, "slawatch backfill: --period %s: give a multiple of 1m that divides a "
                        "day (1m, 5m, 15m, 1h, ...)\n", text);
        return SW_EXIT_USAGE;
    }
    j->period_s = ms / 1000;
    for (size_t i = 0; i < sizeof cw_retention / sizeof cw_retention[0]; i++) {
        int64_t oldest_s = j->now_s - cw_retention[i].max_age_s + AGE_MARGIN_S;
        if (j->from_s >= oldest_s)
            break;
        if (i + 1 < sizeof cw_retention / sizeof cw_retention[0] &&
            j->period_s % cw_retention[i + 1].period_s != 0) {
            char at[40];
            sw_units_format_time(oldest_s * 1000, at, sizeof at);
            fprintf(stderr, "slawatch backfill: --period %s: CloudWatch keeps data older than "
                            "%" PRId64 " days only at multiples of %" PRId64 " s; with this "
                            "period --from must be at or after %s\n",
                    text, cw_retention[i].max_age_s / DAY_S, cw_retention[i + 1].period_s, at);
            return SW_EXIT_USAGE;
        }
    }
    return SW_EXIT_OK;
}

/* Times, range checks against CloudWatch's retention and the settled end. */
static int
parse_range(const bf_opts *o, const sw_config *cfg, job *j)
{
    int64_t from_ms, to_ms;
    char oldest[40];
    if (!sw_units_parse_time_ms(o->from, strlen(o->from), &from_ms) ||
        !sw_units_parse_time_ms(o->to, strlen(o->to), &to_ms)) {
        fprintf(stderr, "slawatch backfill: --from and --to must be RFC 3339 times\n");
        return SW_EXIT_USAGE;
    }
    j->now_s = (int64_t)time(NULL);
    j->from_s = floor_to(from_ms / 1000, 60);
    int64_t settled = sw_cloudwatch_settled_end(j->now_s, (cfg->cloudwatch.settle_ms + 999) / 1000,
                                                60);
    j->to_s = to_ms / 1000 < settled ? to_ms / 1000 : settled;
    int64_t oldest_s = j->now_s - cw_retention[2].max_age_s + AGE_MARGIN_S;
    sw_units_format_time(oldest_s * 1000, oldest, sizeof oldest);
    if (j->from_s < oldest_s) {
        fprintf(stderr, "slawatch backfill: --from %s is older than CloudWatch keeps data (1-hour"
                        " data for 455 days): the oldest possible is %s\n", o->from, oldest);
        return SW_EXIT_INPUT;
    }
    if (o->period != NULL && check_period(o->period, j) != SW_EXIT_OK)
        return SW_EXIT_USAGE;
    if (j->to_s <= j->from_s) {
        fprintf(stderr, "slawatch backfill: nothing to do: --to must be after --from and not in "
                        "the last %" PRId64 " s CloudWatch is still settling\n",
                (cfg->cloudwatch.settle_ms + 999) / 1000);
        return SW_EXIT_INPUT;
    }
    return SW_EXIT_OK;
}

/* The rules and their text (kept in the store, so a report of the backfilled months judges by
 * the rules they were read with): --rules FILE, or the configuration's rules_files read as the
 * daemon reads them (several files and patterns as one bundle). */
static sw_status
load_rules(const bf_opts *o, const sw_config *cfg, sw_rules **ret, sw_buf *text, sw_err *err)
{
    if (o->rules == NULL && cfg->n_rules_files == 0)
        return sw_err_set(err, SW_E_INVAL, "give --rules FILE, or --config with rules_files");
    const char *name = o->rules != NULL ? o->rules : cfg->rules_files[0];
    sw_status st = o->rules != NULL
                       ? sw_rules_read_file(o->rules, text, err)
                       : sw_rules_read_patterns(cfg->rules_files, cfg->n_rules_files, text, err);
    return st == SW_OK
               ? sw_rules_load_mem((const char *)text->data, text->len, name, ret, NULL, err)
               : st;
}

static sw_status
open_store(const bf_opts *o, const sw_config *cfg, const sw_rules *rules, sw_store **ret,
           sw_err *err)
{
    sw_store_options so = {
        .base_interval_ms = rules->base_interval_ms,
        .retention_base_ms = cfg->retention_ms[0],
        .retention_1m_ms = cfg->retention_ms[1],
        .retention_1h_ms = cfg->retention_ms[2],
        .retention_1d_ms = cfg->retention_ms[3],
    };
    return sw_store_open(o->data != NULL ? o->data : cfg->data_dir, &so, ret, err);
}

static int
backfill(const bf_opts *o, sw_config *cfg)
{
    job j = {.cfg = cfg, .tty = isatty(STDERR_FILENO) == 1};
    int rc = parse_range(o, cfg, &j);
    if (rc != SW_EXIT_OK)
        return rc;
    sw_err err;
    sw_rules *rules = NULL;
    sw_awscreds_provider *creds = NULL;
    char endpoint[512];
    sw_cwgmd_options tuning = {
        .seed = (uint64_t)j.now_s, .retries = CALL_RETRIES, .budget = CALL_BUDGET};
    j.rng = (uint64_t)j.now_s ^ (uint64_t)getpid();
    sw_buf text;
    sw_buf_init(&text, SW_RULES_MAX_BUNDLE);
    sw_status st = load_rules(o, cfg, &rules, &text, &err);
    j.rules = rules;
    if (st == SW_OK)
        st = open_store(o, cfg, rules, &j.store, &err);
    if (st == SW_OK) /* hour and day rows pinned to the windows' statistics fetched */
        sw_store_set_pin(j.store, sw_cwpct_pin_stored, NULL);
    if (st == SW_OK)
        st = sw_store_put_rules(j.store, j.from_s * 1000, (const char *)text.data, text.len, &err);
    sw_buf_fini(&text);
    if (st == SW_OK) {
        st = sw_cloudwatch_client_new(&cfg->cloudwatch, &tuning, &creds, &j.client, endpoint,
                                      sizeof endpoint, &err);
        j.cloudwatch_failed = st != SW_OK && st != SW_E_NOMEM;
    }
    if (st == SW_OK)
        st = run_job(&j, &err);
    rc = st == SW_OK ? SW_EXIT_OK : fail(&err, j.cloudwatch_failed);
    if (st == SW_OK)
        fprintf(stderr, "slawatch backfill: done: %zu days fetched, %zu already stored, %" PRIu64
                        " rows\n", j.chunks_done, j.chunks_skipped, j.rows);
    for (size_t i = 0; i < j.n_slots; i++) {
        sw_cloudwatch_free(j.slots[i].plan);
        for (size_t w = 0; w < N_WINDOWS; w++)
            sw_cloudwatch_free(j.slots[i].windows[w]);
    }
    sw_cwgmd_free(j.client);
    sw_awscreds_provider_free(creds);
    sw_store_close(j.store);
    sw_rules_free(rules);
    return rc;
}

int
sw_cli_backfill(int argc, char **argv)
{
    bf_opts o = {0};
    int rc = parse_args(argc, argv, &o);
    if (rc != SW_EXIT_OK)
        return rc < 0 ? SW_EXIT_OK : rc;
    sw_err err;
    sw_config *cfg = NULL;
    if (o.config != NULL && sw_config_load(o.config, &cfg, NULL, &err) != SW_OK)
        return fail(&err, false);
    if (cfg == NULL && (cfg = sw_config_defaults()) == NULL) {
        fprintf(stderr, "slawatch backfill: out of memory\n");
        return SW_EXIT_USAGE;
    }
    rc = backfill(&o, cfg);
    sw_config_free(cfg);
    return rc;
}
