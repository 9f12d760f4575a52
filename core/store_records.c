/*
 * The store's records beside the intervals: the rules history, gate audits, deployment marks
 * and events, and their pruning by age and count.
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

/* ---- rules history ---- */

static sw_status
put_rules_locked(sw_store *st, int64_t at_ms, const char *text, size_t len, sw_err *err)
{
    sqlite3_stmt *last = st->stmt[S_RULES_LAST];
    bool row = false;
    sw_status r = sw_store_step(st, last, &row, "read rules", err);
    if (r != SW_OK)
        return r;
    bool same = row && (size_t)sqlite3_column_bytes(last, 0) == len &&
                (len == 0 || memcmp(sqlite3_column_blob(last, 0), text, len) == 0);
    sqlite3_reset(last);
    if (same)
        return SW_OK;
    sqlite3_stmt *put = st->stmt[S_RULES_PUT];
    sqlite3_bind_int64(put, 1, at_ms);
    sqlite3_bind_blob(put, 2, len != 0 ? text : "", (int)len, SQLITE_STATIC);
    return sw_store_run(st, put, "write rules", err);
}

sw_status
sw_store_put_rules(sw_store *st, int64_t at_ms, const char *text, size_t len, sw_err *err)
{
    if (len > INT_MAX)
        return sw_err_set(err, SW_E_TOOBIG, "rules text of %zu bytes is too long", len);
    sw_status r = sw_store_txn_begin(st, err);
    if (r != SW_OK)
        return r;
    return sw_store_txn_end(st, put_rules_locked(st, at_ms, text, len, err), err);
}

static sw_status
copy_rules(sqlite3_stmt *s, char **ret_text, size_t *ret_len, int64_t *ret_since_ms, sw_err *err)
{
    size_t len = (size_t)sqlite3_column_bytes(s, 1);
    const void *blob = sqlite3_column_blob(s, 1);
    char *text = malloc(len + 1);
    if (text == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory reading rules");
    if (len > 0)
        memcpy(text, blob, len);
    text[len] = '\0';
    *ret_text = text;
    *ret_len = len;
    *ret_since_ms = sqlite3_column_int64(s, 0);
    return SW_OK;
}

sw_status
sw_store_rules_at(sw_store *st, int64_t at_ms, char **ret_text, size_t *ret_len,
                  int64_t *ret_since_ms, sw_err *err)
{
    sqlite3_stmt *s = st->stmt[S_RULES_AT];
    bool row = false;
    pthread_mutex_lock(&st->mu);
    sqlite3_bind_int64(s, 1, at_ms);
    sw_status r = sw_store_step(st, s, &row, "read rules", err);
    if (r == SW_OK && !row)
        r = sw_err_set(err, SW_E_INVAL, "%s: no rules recorded at or before %lld ms", st->path,
                       (long long)at_ms);
    if (r == SW_OK)
        r = copy_rules(s, ret_text, ret_len, ret_since_ms, err);
    sqlite3_reset(s);
    pthread_mutex_unlock(&st->mu);
    return r;
}

sw_status
sw_store_service_names(sw_store *st, const char *prefix, sw_store_name_visit visit, void *ctx,
                       sw_err *err)
{
    /* Every name starting with prefix sorts after it and before prefix with its last byte
     * increased; the prefix ends with a byte below 0xff ('=' of a value key). */
    size_t n = strlen(prefix);
    if (n == 0 || (unsigned char)prefix[n - 1] == 0xff)
        return sw_err_set(err, SW_E_INVAL, "a service name prefix must end below byte 0xff");
    char *above = strdup(prefix);
    if (above == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory listing series");
    above[n - 1] = (char)((unsigned char)above[n - 1] + 1);
    sqlite3_stmt *s = st->stmt[S_SERIES_NAMES];
    pthread_mutex_lock(&st->mu);
    sqlite3_bind_text(s, 1, prefix, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, above, -1, SQLITE_STATIC);
    bool row = true;
    sw_status r = SW_OK;
    while (r == SW_OK && (r = sw_store_step(st, s, &row, "list series", err)) == SW_OK && row)
        r = visit(ctx, (const char *)sqlite3_column_text(s, 0), err);
    sqlite3_reset(s);
    pthread_mutex_unlock(&st->mu);
    free(above);
    return r;
}

/* ---- gate audits, deployments, events ---- */

static void
bind_texts(sqlite3_stmt *s, int first, const char *const *texts, int n)
{
    for (int i = 0; i < n; i++)
        sqlite3_bind_text(s, first + i, texts[i] != NULL ? texts[i] : "", -1, SQLITE_STATIC);
}

static sw_status
put_one_audit(sw_store *st, const sw_store_gate_audit *a, sw_err *err)
{
    if (a->service == NULL || a->verdict == NULL)
        return sw_err_set(err, SW_E_INVAL, "gate audit without service or verdict");
    sqlite3_stmt *s = st->stmt[S_AUDIT_PUT];
    const char *texts[] = {a->who, a->service, a->env};
    const char *tail[] = {a->verdict, a->checks_json};
    sqlite3_bind_int64(s, 1, a->at_ms);
    bind_texts(s, 2, texts, 3);
    sqlite3_bind_int64(s, 5, a->window_ms);
    bind_texts(s, 6, tail, 2);
    return sw_store_run(st, s, "write gate audit", err);
}

sw_status
sw_store_put_gate_audits(sw_store *st, const sw_store_gate_audit *a, size_t n, sw_err *err)
{
    sw_status r = sw_store_txn_begin(st, err);
    if (r != SW_OK)
        return r;
    for (size_t i = 0; i < n && r == SW_OK; i++)
        r = put_one_audit(st, &a[i], err);
    return sw_store_txn_end(st, r, err);
}

sw_status
sw_store_put_gate_audit(sw_store *st, const sw_store_gate_audit *a, sw_err *err)
{
    return sw_store_put_gate_audits(st, a, 1, err);
}

/* Run a query (over [from_ms, to_ms) when it takes a range), calling each(row) under the lock. */
typedef sw_status (*row_fn)(sqlite3_stmt *s, void *arg, sw_err *err);

static sw_status
query_rows(sw_store *st, int id, int64_t from_ms, int64_t to_ms, const char *service, row_fn each,
           void *arg, sw_err *err)
{
    sqlite3_stmt *s = st->stmt[id];
    bool row = false;
    sw_status r;
    pthread_mutex_lock(&st->mu);
    if (sqlite3_bind_parameter_count(s) >= 2) {
        sqlite3_bind_int64(s, 1, from_ms);
        sqlite3_bind_int64(s, 2, to_ms);
    }
    if (service != NULL) /* ?3, for the queries of one service */
        sqlite3_bind_text(s, 3, service, -1, SQLITE_STATIC);
    while ((r = sw_store_step(st, s, &row, "read", err)) == SW_OK && row)
        if ((r = each(s, arg, err)) != SW_OK)
            break;
    sqlite3_reset(s);
    pthread_mutex_unlock(&st->mu);
    return r;
}

/* The caller's visitor; the field used depends on the query. */
typedef struct visit_ctx {
    sw_store_gate_audit_visit audit;
    sw_store_deployment_visit deployment;
    sw_store_override_visit override;
    sw_store_event_visit event;
    void *ctx;
} visit_ctx;

static sw_status
audit_row(sqlite3_stmt *s, void *arg, sw_err *err)
{
    const visit_ctx *v = arg;
    sw_store_gate_audit a = {
        .at_ms = sqlite3_column_int64(s, 0),
        .who = sw_store_col_text(s, 1),
        .service = sw_store_col_text(s, 2),
        .env = sw_store_env_or_null(sw_store_col_text(s, 3)),
        .window_ms = sqlite3_column_int64(s, 4),
        .verdict = sw_store_col_text(s, 5),
        .checks_json = sw_store_col_text(s, 6),
    };
    return v->audit(v->ctx, &a, err);
}

sw_status
sw_store_gate_audits(sw_store *st, int64_t from_ms, int64_t to_ms, sw_store_gate_audit_visit fn,
                     void *ctx, sw_err *err)
{
    visit_ctx v = {.audit = fn, .ctx = ctx};
    return query_rows(st, S_AUDIT_RANGE, from_ms, to_ms, NULL, audit_row, &v, err);
}

/* The override's audit row, beside the mark in the same transaction. */
static sw_status
put_override_audit(sw_store *st, const char *service, const char *env, int64_t at_ms,
                   const char *who, const char *policy_override, sw_err *err)
{
    sqlite3_stmt *s = st->stmt[S_OVERRIDE_AUDIT];
    const char *texts[] = {who, service, env, policy_override};
    sqlite3_bind_int64(s, 1, at_ms);
    bind_texts(s, 2, texts, 4);
    return sw_store_run(st, s, "write policy override audit", err);
}

sw_status
sw_store_put_deployment(sw_store *st, const char *service, const char *env, int64_t at_ms,
                        const char *who, const char *policy_override, sw_err *err)
{
    if (service == NULL || service[0] == '\0')
        return sw_err_set(err, SW_E_INVAL, "deployment without service");
    bool override = policy_override != NULL && policy_override[0] != '\0';
    sqlite3_stmt *s = st->stmt[S_DEPLOY_PUT];
    const char *texts[] = {service, env};
    sw_status r = sw_store_txn_begin(st, err);
    if (r != SW_OK)
        return r;
    bind_texts(s, 1, texts, 2);
    sqlite3_bind_int64(s, 3, at_ms);
    bind_texts(s, 4, &who, 1);
    if (override)
        sqlite3_bind_text(s, 5, policy_override, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, 5);
    r = sw_store_run(st, s, "write deployment", err);
    if (r == SW_OK && override)
        r = put_override_audit(st, service, env, at_ms, who, policy_override, err);
    return sw_store_txn_end(st, r, err);
}

static const char *
text_or_null(sqlite3_stmt *s, int col)
{
    return sqlite3_column_type(s, col) == SQLITE_NULL ? NULL : sw_store_col_text(s, col);
}

static sw_status
deployment_row(sqlite3_stmt *s, void *arg, sw_err *err)
{
    const visit_ctx *v = arg;
    return v->deployment(v->ctx, sw_store_col_text(s, 0),
                         sw_store_env_or_null(sw_store_col_text(s, 1)), sqlite3_column_int64(s, 2),
                         text_or_null(s, 3), err);
}

sw_status
sw_store_last_deployments(sw_store *st, sw_store_deployment_visit fn, void *ctx, sw_err *err)
{
    visit_ctx v = {.deployment = fn, .ctx = ctx};
    return query_rows(st, S_DEPLOY_LAST, INT64_MIN, INT64_MAX, NULL, deployment_row, &v, err);
}

static sw_status
override_row(sqlite3_stmt *s, void *arg, sw_err *err)
{
    const visit_ctx *v = arg;
    sw_store_override o = {
        .service = sw_store_col_text(s, 0),
        .env = sw_store_env_or_null(sw_store_col_text(s, 1)),
        .at_ms = sqlite3_column_int64(s, 2),
        .who = sw_store_col_text(s, 3),
        .policy_override = text_or_null(s, 4),
    };
    return v->override(v->ctx, &o, err);
}

sw_status
sw_store_policy_overrides(sw_store *st, int64_t from_ms, int64_t to_ms, sw_store_override_visit fn,
                          void *ctx, sw_err *err)
{
    visit_ctx v = {.override = fn, .ctx = ctx};
    return query_rows(st, S_OVERRIDE_RANGE, from_ms, to_ms, NULL, override_row, &v, err);
}

sw_status
sw_store_deployments(sw_store *st, const char *service, int64_t from_ms, int64_t to_ms,
                     sw_store_override_visit fn, void *ctx, sw_err *err)
{
    visit_ctx v = {.override = fn, .ctx = ctx};
    return query_rows(st, S_DEPLOY_RANGE, from_ms, to_ms, service, override_row, &v, err);
}

static bool
one_of(const char *s, const char *a, const char *b)
{
    return s != NULL && (strcmp(s, a) == 0 || strcmp(s, b) == 0);
}

/* What put_event refuses: another kind or state, no name or service. */
static sw_status
check_event(const sw_store_event *e, sw_err *err)
{
    if (!one_of(e->kind, "alert", "trigger"))
        return sw_err_set(err, SW_E_INVAL, "event kind must be \"alert\" or \"trigger\"");
    if (!one_of(e->state, "firing", "resolved"))
        return sw_err_set(err, SW_E_INVAL, "event state must be \"firing\" or \"resolved\"");
    if (e->name == NULL || e->service == NULL)
        return sw_err_set(err, SW_E_INVAL, "event without name or service");
    return SW_OK;
}

static sw_status
put_one_event(sw_store *st, const sw_store_event *e, sw_err *err)
{
    sqlite3_stmt *s = st->stmt[S_EVENT_PUT];
    const char *texts[] = {e->kind, e->name, e->service, e->env, e->state};
    sqlite3_bind_int64(s, 1, e->at_ms);
    bind_texts(s, 2, texts, 5);
    if (isnan(e->value)) /* SQLite has no NaN: unknown is NULL */
        sqlite3_bind_null(s, 7);
    else
        sqlite3_bind_double(s, 7, e->value);
    return sw_store_run(st, s, "write event", err);
}

sw_status
sw_store_put_events(sw_store *st, const sw_store_event *e, size_t n, sw_err *err)
{
    for (size_t i = 0; i < n; i++) {
        sw_status r = check_event(&e[i], err);
        if (r != SW_OK)
            return r;
    }
    sw_status r = sw_store_txn_begin(st, err);
    if (r != SW_OK)
        return r;
    for (size_t i = 0; i < n && r == SW_OK; i++)
        r = put_one_event(st, &e[i], err);
    return sw_store_txn_end(st, r, err);
}

sw_status
sw_store_put_event(sw_store *st, const sw_store_event *e, sw_err *err)
{
    return sw_store_put_events(st, e, 1, err);
}

static sw_status
event_row(sqlite3_stmt *s, void *arg, sw_err *err)
{
    const visit_ctx *v = arg;
    sw_store_event e = {
        .kind = sw_store_col_text(s, 0),
        .name = sw_store_col_text(s, 1),
        .service = sw_store_col_text(s, 2),
        .env = sw_store_env_or_null(sw_store_col_text(s, 3)),
        .state = sw_store_col_text(s, 4),
        .at_ms = sqlite3_column_int64(s, 5),
        .value = sqlite3_column_type(s, 6) == SQLITE_NULL ? NAN : sqlite3_column_double(s, 6),
    };
    return v->event(v->ctx, &e, err);
}

sw_status
sw_store_events(sw_store *st, int64_t from_ms, int64_t to_ms, sw_store_event_visit fn, void *ctx,
                sw_err *err)
{
    visit_ctx v = {.event = fn, .ctx = ctx};
    return query_rows(st, S_EVENT_RANGE, from_ms, to_ms, NULL, event_row, &v, err);
}

/* ---- pruning of the record tables ---- */

#define PRUNE_CHUNK 10000 /* rows per transaction: writers wait at most one chunk */

/* Run a prune statement in chunks until it deletes less than a chunk; *deleted adds up. */
static sw_status
prune_chunks(sw_store *st, int id, int64_t bound, uint64_t *deleted, sw_err *err)
{
    sqlite3_stmt *s = st->stmt[id];
    for (;;) {
        sw_status r = sw_store_txn_begin(st, err);
        if (r != SW_OK)
            return r;
        sqlite3_bind_int64(s, 1, bound);
        sqlite3_bind_int64(s, 2, PRUNE_CHUNK);
        r = sw_store_run(st, s, "prune", err);
        int changes = r == SW_OK ? sqlite3_changes(st->db) : 0;
        if ((r = sw_store_txn_end(st, r, err)) != SW_OK)
            return r;
        *deleted += (uint64_t)changes;
        if (changes < PRUNE_CHUNK)
            return SW_OK;
    }
}

sw_status
sw_store_prune(sw_store *st, sw_store_record which, int64_t now_ms, const sw_store_keep *keep,
               uint64_t *ret_deleted, sw_err *err)
{
    static const int by_age[] = {S_AUDIT_OLD, S_DEPLOY_OLD, S_EVENT_OLD};
    static const int by_count[] = {S_AUDIT_OVER, S_DEPLOY_OVER, S_EVENT_OVER};
    SW_REQUIRE(which >= SW_STORE_GATE_AUDITS && which <= SW_STORE_EVENTS && keep != NULL);
    sw_status r = SW_OK;
    if (keep->max_age_ms > 0)
        r = prune_chunks(st, by_age[which], now_ms - keep->max_age_ms, ret_deleted, err);
    if (r == SW_OK && keep->max_rows > 0)
        r = prune_chunks(st, by_count[which], keep->max_rows, ret_deleted, err);
    return r;
}
