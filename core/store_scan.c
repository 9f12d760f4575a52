/*
 * The store's scans: a series' intervals at the finest resolution kept for each part of a
 * range, at one resolution, and by hours with their minutes' counts.
 */
#include "store_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "slawatch/hdr_codec.h"
#include "slawatch/minute_counts.h"

/* ---- scanning ---- */

/* One resolution's rows of a series, walked in start order; `has` false once exhausted. */
typedef struct cursor {
    sw_store_range rg; /* rg.s: the statement of the current row */
    sqlite3_stmt *first, *recent;
    int level;
    int64_t res;
    int64_t to;
    bool has;
    int64_t start;
} cursor;

/* The cursor of a level, its rows in [.., to); not open yet. */
static cursor
cursor_at(sw_store *st, int level, int64_t to)
{
    return (cursor){.first = st->stmt[S_SCAN0 + level],
                    .recent = st->stmt[S_SCAN0_RECENT],
                    .level = level,
                    .res = st->res_ms[level],
                    .to = to};
}

static sw_status
cursor_step(sw_store *st, cursor *c, sw_err *err)
{
    sw_status r = sw_store_range_step(st, &c->rg, &c->has, "scan", err);
    if (r == SW_OK && c->has)
        c->start = sqlite3_column_int64(c->rg.s, C_START);
    return r;
}

static sw_status
cursor_open(sw_store *st, cursor *c, int64_t sid, int64_t from, sw_err *err)
{
    sw_store_range_open(st, &c->rg, c->level, c->first, c->recent, sid, from, c->to);
    return cursor_step(st, c, err);
}

/* Move to the first row starting at or after t: one step when it is next, else a new seek. */
static sw_status
cursor_seek(sw_store *st, cursor *c, int64_t sid, int64_t t, sw_err *err)
{
    if (!c->has || c->start >= t)
        return SW_OK;
    sw_status r = cursor_step(st, c, err);
    if (r == SW_OK && c->has && c->start < t)
        r = cursor_open(st, c, sid, t, err);
    return r;
}

/* True when no row finer than level starts before end (cursors are at or after t). */
static bool
no_finer_within(const cursor *c, int level, int64_t end)
{
    for (int j = 0; j < level; j++)
        if (c[j].has && c[j].start < end)
            return false;
    return true;
}

/* The level whose row to use at t, or -1 when none starts at t. */
static int
pick_level(const cursor *c, int64_t t, int64_t fine_from, int64_t coarsest)
{
    if (t < fine_from)
        for (int i = LEVELS - 1; i >= 0; i--)
            if (c[i].has && c[i].start == t && t + c[i].res <= fine_from && c[i].res <= coarsest)
                return i;
    for (int i = 0; i < LEVELS; i++)
        if (c[i].has && c[i].start == t && no_finer_within(c, i, t + c[i].res))
            return i;
    return -1;
}

/* Nothing usable at t: skip the rows starting there; the next t is the earliest start left. */
static sw_status
skip_to_next(sw_store *st, cursor *c, int64_t *t, sw_err *err)
{
    int64_t next = INT64_MAX;
    for (int i = 0; i < LEVELS; i++) {
        if (c[i].has && c[i].start == *t) {
            sw_status r = cursor_step(st, &c[i], err);
            if (r != SW_OK)
                return r;
        }
        if (c[i].has && c[i].start < next)
            next = c[i].start;
    }
    *t = next;
    return SW_OK;
}

/* What a scan visits: rows starting in [from, to), handed to fn (hour_fn for hour scans). */
typedef struct scan_args {
    int64_t from, to;
    int64_t fine_from; /* sw_store_scan */
    int64_t coarsest;  /* sw_store_scan: the coarsest resolution to use before fine_from */
    int level;         /* sw_store_scan_level */
    bool with_latency; /* sw_store_scan_level, sw_store_scan_hours */
    sw_store_visit fn;
    sw_store_encoded_visit encoded_fn; /* sw_store_scan_encoded, instead of fn */
    sw_store_hour_visit hour_fn;
    void *ctx;
} scan_args;

static sw_status
visit_row(sw_store *st, const cursor *c, const char *service, const char *env, const scan_args *a,
          sw_err *err)
{
    sw_sli_interval iv;
    if (a->encoded_fn != NULL) {
        sqlite3_stmt *s = c->rg.s;
        sw_store_read_counts(s, &iv);
        bool has_lat = sqlite3_column_type(s, C_LAT) != SQLITE_NULL;
        const uint8_t *lat = has_lat ? sqlite3_column_blob(s, C_LAT) : NULL;
        size_t len = has_lat ? (size_t)sqlite3_column_bytes(s, C_LAT) : 0;
        return a->encoded_fn(a->ctx, service, sw_store_env_or_null(env), &iv, lat, len, err);
    }
    sw_status r = sw_store_read_interval(st, c->rg.s, &iv, err);
    if (r == SW_OK)
        r = a->fn(a->ctx, service, sw_store_env_or_null(env), &iv, err);
    sw_sli_interval_fini(&iv);
    return r;
}

static sw_status
scan_series(sw_store *st, int64_t sid, const char *service, const char *env, const scan_args *a,
            sw_err *err)
{
    cursor c[LEVELS] = {0};
    sw_status r = SW_OK;
    for (int i = 0; i < LEVELS && r == SW_OK; i++) {
        c[i] = cursor_at(st, i, a->to);
        r = cursor_open(st, &c[i], sid, a->from, err);
    }
    int64_t t = a->from;
    while (r == SW_OK && t < a->to) {
        for (int i = 0; i < LEVELS && r == SW_OK; i++)
            r = cursor_seek(st, &c[i], sid, t, err);
        if (r != SW_OK)
            break;
        int level = pick_level(c, t, a->fine_from, a->coarsest);
        if (level < 0) {
            r = skip_to_next(st, c, &t, err);
            continue;
        }
        r = visit_row(st, &c[level], service, env, a, err);
        t += c[level].res;
    }
    for (int i = 0; i < LEVELS; i++)
        if (c[i].rg.first != NULL)
            sw_store_range_reset(&c[i].rg);
    return r;
}

typedef struct series_list {
    int64_t *ids;
    char **names; /* service and env of series i at 2i and 2i + 1 */
    size_t n;
} series_list;

static void
series_list_fini(series_list *l)
{
    for (size_t i = 0; i < 2 * l->n; i++)
        free(l->names[i]);
    free(l->names);
    free(l->ids);
}

static sw_status
series_list_add(series_list *l, sqlite3_stmt *s, sw_err *err)
{
    int64_t *ids = realloc(l->ids, (l->n + 1) * sizeof *ids);
    if (ids != NULL)
        l->ids = ids;
    char **names = realloc(l->names, 2 * (l->n + 1) * sizeof *names);
    if (names != NULL)
        l->names = names;
    if (ids == NULL || names == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory listing series");
    names[2 * l->n] = strdup(sw_store_col_text(s, 1));
    names[2 * l->n + 1] = strdup(sw_store_col_text(s, 2));
    ids[l->n++] = sqlite3_column_int64(s, 0);
    if (names[2 * l->n - 2] == NULL || names[2 * l->n - 1] == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory listing series");
    return SW_OK;
}

static sw_status
list_series(sw_store *st, const char *service, series_list *l, sw_err *err)
{
    sqlite3_stmt *s = st->stmt[service != NULL ? S_SERIES_OF : S_SERIES_ALL];
    bool row = false;
    sw_status r;
    pthread_mutex_lock(&st->mu);
    if (service != NULL)
        sqlite3_bind_text(s, 1, service, -1, SQLITE_STATIC);
    while ((r = sw_store_step(st, s, &row, "list series", err)) == SW_OK && row)
        if ((r = series_list_add(l, s, err)) != SW_OK)
            break;
    sqlite3_reset(s);
    pthread_mutex_unlock(&st->mu);
    return r;
}

/* The scan of one series, run under the lock: its cursors see one state of the database. */
typedef sw_status (*series_scan)(sw_store *st, int64_t sid, const char *service, const char *env,
                                 const scan_args *a, sw_err *err);

static sw_status
each_series(sw_store *st, const char *service, series_scan scan, const scan_args *a, sw_err *err)
{
    series_list l = {0};
    sw_status r = list_series(st, service, &l, err);
    for (size_t i = 0; r == SW_OK && i < l.n; i++) {
        pthread_mutex_lock(&st->mu);
        r = scan(st, l.ids[i], l.names[2 * i], l.names[2 * i + 1], a, err);
        pthread_mutex_unlock(&st->mu);
    }
    series_list_fini(&l);
    return r;
}

/* A multi-resolution scan of [from_ms, to_ms), fine_from_ms held within it. */
static scan_args
range_args(int64_t from_ms, int64_t to_ms, int64_t fine_from_ms, int64_t coarsest_ms)
{
    scan_args a = {
        .from = from_ms, .to = to_ms, .fine_from = fine_from_ms, .coarsest = coarsest_ms};
    if (a.fine_from < from_ms)
        a.fine_from = from_ms;
    if (a.fine_from > to_ms)
        a.fine_from = to_ms;
    return a;
}

sw_status
sw_store_scan_upto(sw_store *st, const char *service, int64_t from_ms, int64_t to_ms,
                   int64_t fine_from_ms, int64_t coarsest_ms, sw_store_visit fn, void *ctx,
                   sw_err *err)
{
    scan_args a = range_args(from_ms, to_ms, fine_from_ms, coarsest_ms);
    a.fn = fn;
    a.ctx = ctx;
    return each_series(st, service, scan_series, &a, err);
}

sw_status
sw_store_scan_encoded(sw_store *st, const char *service, int64_t from_ms, int64_t to_ms,
                      int64_t fine_from_ms, int64_t coarsest_ms, sw_store_encoded_visit fn,
                      void *ctx, sw_err *err)
{
    scan_args a = range_args(from_ms, to_ms, fine_from_ms, coarsest_ms);
    a.encoded_fn = fn;
    a.ctx = ctx;
    return each_series(st, service, scan_series, &a, err);
}

sw_status
sw_store_scan(sw_store *st, const char *service, int64_t from_ms, int64_t to_ms,
              int64_t fine_from_ms, sw_store_visit fn, void *ctx, sw_err *err)
{
    return sw_store_scan_upto(st, service, from_ms, to_ms, fine_from_ms, INT64_MAX, fn, ctx, err);
}

static int
level_of(const sw_store *st, int64_t resolution_ms)
{
    for (int level = 0; level < LEVELS; level++)
        if (st->res_ms[level] == resolution_ms)
            return level;
    return -1;
}

/* The rows of one series at one level. */
static sw_status
scan_level_series(sw_store *st, int64_t sid, const char *service, const char *env,
                  const scan_args *a, sw_err *err)
{
    sw_store_range rg;
    sw_store_range_open(st, &rg, a->level, st->stmt[S_IV_RANGE], st->stmt[S_IV_RECENT], sid,
                        a->from, a->to);
    bool row = false;
    sw_status r;
    while ((r = sw_store_range_step(st, &rg, &row, "scan intervals", err)) == SW_OK && row) {
        sqlite3_stmt *s = rg.s;
        sw_sli_interval iv;
        if (a->with_latency) {
            r = sw_store_read_interval(st, s, &iv, err);
        } else {
            sw_store_read_counts(s, &iv);
        }
        if (r == SW_OK)
            r = a->fn(a->ctx, service, sw_store_env_or_null(env), &iv, err);
        sw_sli_interval_fini(&iv);
        if (r != SW_OK)
            break;
    }
    sw_store_range_reset(&rg);
    return r;
}

sw_status
sw_store_scan_level(sw_store *st, const char *service, int64_t resolution_ms, int64_t from_ms,
                    int64_t to_ms, bool with_latency, sw_store_visit fn, void *ctx, sw_err *err)
{
    int level = level_of(st, resolution_ms);
    if (level < 0)
        return sw_err_set(err, SW_E_INVAL, "%lld ms is not a resolution of the store",
                          (long long)resolution_ms);
    scan_args a = {.from = from_ms,
                   .to = to_ms,
                   .level = level,
                   .with_latency = with_latency,
                   .fn = fn,
                   .ctx = ctx};
    return each_series(st, service, scan_level_series, &a, err);
}

/* The minute counts of the hour row s is on, into *hm; *ret_has false when it has none. */
static sw_status
read_minutes(sw_store *st, sqlite3_stmt *s, sw_hour_minutes *hm, bool *ret_has, sw_err *err)
{
    *ret_has = sqlite3_column_type(s, C_MIN) != SQLITE_NULL;
    if (!*ret_has)
        return SW_OK;
    sw_status r = sw_hour_minutes_decode(sqlite3_column_blob(s, C_MIN),
                                         (size_t)sqlite3_column_bytes(s, C_MIN), hm, err);
    if (r != SW_OK && err != NULL)
        sw_err_prefix(err, "%s: the hour at %lld ms", st->path,
                      (long long)sqlite3_column_int64(s, C_START));
    return r;
}

/* The counts of the 1 m rows of the hour at t into *hm; *ret_has false when there are none. */
static sw_status
minutes_of_hour(sw_store *st, int64_t sid, int64_t t, sw_hour_minutes *hm, bool *ret_has,
                sw_err *err)
{
    sqlite3_stmt *s = st->stmt[S_IV_RANGE];
    sqlite3_bind_int64(s, 1, sid);
    sqlite3_bind_int64(s, 2, SW_STORE_1M_MS);
    sqlite3_bind_int64(s, 3, t);
    sqlite3_bind_int64(s, 4, t + SW_STORE_1H_MS);
    *hm = (sw_hour_minutes){0};
    *ret_has = false;
    bool row = false;
    sw_status r;
    while ((r = sw_store_step(st, s, &row, "scan minutes", err)) == SW_OK && row) {
        sw_sli_interval iv;
        sw_store_read_counts(s, &iv);
        sw_store_note_minute(hm, t, &iv);
        *ret_has = true;
    }
    sqlite3_reset(s);
    return r;
}

/* The hour row s is on, with its minute counts (read from the 1 m rows when it has none). */
static sw_status
visit_hour_row(sw_store *st, sqlite3_stmt *s, int64_t sid, const char *service, const char *env,
               const scan_args *a, sw_err *err)
{
    sw_sli_interval iv;
    sw_hour_minutes hm;
    bool has = false;
    sw_status r = SW_OK;
    if (a->with_latency) {
        r = sw_store_read_interval(st, s, &iv, err);
    } else {
        sw_store_read_counts(s, &iv);
    }
    if (r == SW_OK)
        r = read_minutes(st, s, &hm, &has, err);
    if (r == SW_OK && !has)
        r = minutes_of_hour(st, sid, iv.start_ms, &hm, &has, err);
    if (r == SW_OK)
        r = a->hour_fn(a->ctx, service, sw_store_env_or_null(env), &iv, has ? &hm : NULL, err);
    sw_sli_interval_fini(&iv);
    return r;
}

/* The hour at t without a row (not rolled up yet): as the rollup will build it, when it has
 * 1 m rows. */
static sw_status
visit_pending_hour(sw_store *st, int64_t sid, int64_t t, const char *service, const char *env,
                   const scan_args *a, sw_err *err)
{
    sw_sli_interval acc = {.start_ms = t, .length_ms = SW_STORE_1H_MS};
    sw_hour_minutes hm = {0};
    size_t rows = 0;
    sw_status r = sw_store_merge_period(st, L_HOUR, sid, t, &acc, &hm, &rows, err);
    if (!a->with_latency) {
        sw_hdr_free(acc.latency);
        acc.latency = NULL;
    }
    if (r == SW_OK && rows > 0)
        r = a->hour_fn(a->ctx, service, sw_store_env_or_null(env), &acc, &hm, err);
    sw_sli_interval_fini(&acc);
    return r;
}

static sw_status
scan_hours_series(sw_store *st, int64_t sid, const char *service, const char *env,
                  const scan_args *a, sw_err *err)
{
    cursor c = cursor_at(st, L_HOUR, a->to);
    cursor m = cursor_at(st, L_MINUTE, a->to);
    sw_status r = cursor_open(st, &c, sid, a->from, err);
    if (r == SW_OK)
        r = cursor_open(st, &m, sid, a->from, err);
    /* Every hour of the range: one without a row may still have 1 m rows (the minute cursor
     * says whether it has, without a query per empty hour). */
    for (int64_t t = sw_store_floor_to(a->from + SW_STORE_1H_MS - 1, SW_STORE_1H_MS);
         r == SW_OK && t < a->to; t += SW_STORE_1H_MS) {
        if (c.has && c.start == t) {
            r = visit_hour_row(st, c.rg.s, sid, service, env, a, err);
            if (r == SW_OK)
                r = cursor_step(st, &c, err);
            continue;
        }
        r = cursor_seek(st, &m, sid, t, err);
        if (r == SW_OK && m.has && m.start < t + SW_STORE_1H_MS)
            r = visit_pending_hour(st, sid, t, service, env, a, err);
    }
    if (c.rg.first != NULL)
        sw_store_range_reset(&c.rg);
    if (m.rg.first != NULL)
        sw_store_range_reset(&m.rg);
    return r;
}

sw_status
sw_store_scan_hours(sw_store *st, const char *service, int64_t from_ms, int64_t to_ms,
                    bool with_latency, sw_store_hour_visit fn, void *ctx, sw_err *err)
{
    scan_args a = {
        .from = from_ms, .to = to_ms, .with_latency = with_latency, .hour_fn = fn, .ctx = ctx};
    return each_series(st, service, scan_hours_series, &a, err);
}
