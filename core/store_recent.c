/*
 * The base rows of the last minutes, kept apart from the others (recent_rows, migration 5).
 *
 * Why: the other rows sit in series_rows, keyed (series, resolution, start); a tick's base row of
 * each series goes at the end of that series' run in the key's index, a page of its own per
 * series once a series holds more than a page of rows, so a tick of N series dirtied N pages
 * (16 MB of WAL frames at 2,000 series) whatever its rows' size. recent_rows is keyed (start,
 * series): a tick's rows are all appended at its end, so a tick writes about its rows' bytes.
 * The rollup thread folds the rows of each minute that is FOLD_LAG_MS older than the newest
 * recent row into series_rows in one transaction, series by series, so each series' index page
 * is written once a minute for its six rows, off the tick.
 *
 * Where a row is: meta's recent_from_ms (F) splits the base rows by start, those before F in
 * series_rows, the others in recent_rows (a base row is written to the table its start belongs
 * to; a fold moves the rows before its new F and records F in the same transaction). So a row is
 * in one table only, and a series' base rows read in start order are those of series_rows, then
 * those of recent_rows (sw_store_range). Stores migrated from before keep their rows where they
 * were: F starts past the last of them. The view `intervals` shows both tables as one.
 *
 * Measured (bench/README.md, h21store2): a tick of 2,000 series writes its rows' pages and ten
 * more (main: 2,688 pages for 301 of rows, in a store some hours old); rollup_pending keeps its
 * series-major key, its minute marks being among those ten. The price is the rows' bytes written
 * a second time by the fold, in one transaction a minute that holds the store's lock for about
 * its CPU (a few hundred ms at 2,000 series).
 */
#include "store_int.h"

#include <stdint.h>

/* The rows a fold leaves in recent_rows: a tick's rows written up to a minute after their start
 * (the take delay) still find their minute there. */
#define FOLD_LAG_MS SW_STORE_1M_MS

/* The smallest multiple of period at or after v (INT64_MAX when none is representable). */
static int64_t
ceil_to(int64_t v, int64_t period)
{
    int64_t f = sw_store_floor_to(v, period);
    if (f == v)
        return v;
    return f > INT64_MAX - period ? INT64_MAX : f + period;
}

static void
bind_range(sqlite3_stmt *s, int64_t sid, int64_t res, int64_t from, int64_t to)
{
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, sid);
    sqlite3_bind_int64(s, 2, res);
    sqlite3_bind_int64(s, 3, from);
    sqlite3_bind_int64(s, 4, to);
}

void
sw_store_range_open(sw_store *st, sw_store_range *rg, int level, sqlite3_stmt *first,
                    sqlite3_stmt *recent, int64_t sid, int64_t from, int64_t to)
{
    *rg = (sw_store_range){.s = first,
                           .first = first,
                           .recent = level == 0 ? recent : NULL,
                           .sid = sid,
                           .res = st->res_ms[level],
                           .from = from,
                           .to = to};
    if (rg->recent != NULL)
        sqlite3_reset(rg->recent);
    bind_range(first, sid, rg->res, from, to);
}

sw_status
sw_store_range_step(sw_store *st, sw_store_range *rg, bool *ret_row, const char *what, sw_err *err)
{
    sw_status r = sw_store_step(st, rg->s, ret_row, what, err);
    if (r != SW_OK || *ret_row || rg->s != rg->first || rg->recent == NULL)
        return r;
    /* The folded rows are done: the recent ones all start later. */
    rg->s = rg->recent;
    bind_range(rg->s, rg->sid, rg->res, ceil_to(rg->from, rg->res), rg->to);
    return sw_store_step(st, rg->s, ret_row, what, err);
}

void
sw_store_range_reset(sw_store_range *rg)
{
    sqlite3_reset(rg->first);
    if (rg->recent != NULL)
        sqlite3_reset(rg->recent);
    rg->s = rg->first;
}

/* F: base rows starting before it are in series_rows, the others in recent_rows. */
sw_status
sw_store_recent_from(sw_store *st, int64_t *ret, sw_err *err)
{
    sqlite3_stmt *s = st->stmt[S_RECENT_FROM_GET];
    bool row = false;
    sw_status r = sw_store_step(st, s, &row, "read where recent rows start", err);
    if (r != SW_OK)
        return r;
    *ret = row ? sqlite3_column_int64(s, 0) : INT64_MIN;
    sqlite3_reset(s);
    return SW_OK;
}

/* The first and last starts in recent_rows; *ret_any false when it is empty. */
static sw_status
recent_span(sw_store *st, int64_t *ret_lo, int64_t *ret_hi, bool *ret_any, sw_err *err)
{
    sqlite3_stmt *s = st->stmt[S_RECENT_SPAN];
    bool row = false;
    sw_status r = sw_store_step(st, s, &row, "read the recent rows' span", err);
    if (r != SW_OK)
        return r;
    *ret_any = row && sqlite3_column_type(s, 0) != SQLITE_NULL;
    if (*ret_any) {
        *ret_lo = sqlite3_column_int64(s, 0);
        *ret_hi = sqlite3_column_int64(s, 1);
    }
    sqlite3_reset(s);
    return SW_OK;
}

/* Move the recent rows starting before upto into series_rows and make upto F. */
static sw_status
move_before(sw_store *st, int64_t upto, sw_err *err)
{
    sqlite3_stmt *steps[] = {st->stmt[S_FOLD_MOVE], st->stmt[S_FOLD_DROP],
                             st->stmt[S_RECENT_FROM_PUT]};
    const char *what[] = {"fold recent rows", "drop folded rows", "record where recent rows start"};
    sw_status r = SW_OK;
    for (size_t i = 0; r == SW_OK && i < sizeof steps / sizeof steps[0]; i++) {
        sqlite3_bind_int64(steps[i], 1, upto);
        r = sw_store_run(st, steps[i], what[i], err);
    }
    return r;
}

/* One transaction: fold the oldest minute of recent rows when it is FOLD_LAG_MS older than the
 * newest; *ret_folded whether there was one. */
static sw_status
fold_minute(sw_store *st, bool *ret_folded, sw_err *err)
{
    int64_t lo = 0, hi = 0;
    bool any = false;
    *ret_folded = false;
    sw_status r = sw_store_txn_begin(st, err);
    if (r != SW_OK)
        return r;
    r = recent_span(st, &lo, &hi, &any, err);
    if (r == SW_OK && any) {
        int64_t upto = sw_store_floor_to(hi - FOLD_LAG_MS, SW_STORE_1M_MS);
        int64_t minute_end = sw_store_floor_to(lo, SW_STORE_1M_MS) + SW_STORE_1M_MS;
        if (minute_end < upto)
            upto = minute_end;
        if (lo < upto) {
            r = move_before(st, upto, err);
            *ret_folded = r == SW_OK;
        }
    }
    return sw_store_txn_end(st, r, err);
}

sw_status
sw_store_fold(sw_store *st, sw_err *err)
{
    bool folded = true;
    sw_status r = SW_OK;
    while (r == SW_OK && folded)
        r = fold_minute(st, &folded, err);
    return r;
}

/* Retention of base rows: the recent ones before horizon too (in the caller's transaction). */
sw_status
sw_store_recent_prune(sw_store *st, int64_t horizon, sw_err *err)
{
    sqlite3_stmt *s = st->stmt[S_RECENT_PRUNE];
    sqlite3_bind_int64(s, 1, horizon);
    return sw_store_run(st, s, "apply retention to recent rows", err);
}
