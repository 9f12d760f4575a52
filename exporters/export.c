/*
 * Export of stored rows: one store scan (finest resolution) whose visitor writes each row as
 * an hlog line or a CSV line straight to the caller's stream. The visitor runs with the store's
 * mutex held, so it only formats and writes. Single caller thread.
 */
#include "slawatch/export.h"

#include <string.h>

#include "slawatch/hlog.h"
#include "slawatch/rules.h"
#include "slawatch/units.h"

#define KEY_MAX 4096 /* a series key: service, label and a value of at most 1 KiB */

typedef struct export_ctx {
    const sw_export_request *req;
    const char *key;    /* the stored series: the service's name, or its value's key */
    char name[KEY_MAX]; /* how messages name it: "api" or "api route=/pay" */
    FILE *out;
    sw_hlog_writer hlog;
    size_t rows;
} export_ctx;

static bool
env_matches(const char *want, const char *env)
{
    return want == NULL || strcmp(want, env != NULL ? env : "") == 0;
}

static sw_status
write_csv_row(export_ctx *c, const char *env, const sw_sli_interval *iv, sw_err *err)
{
    char start[40];
    sw_units_format_time(iv->start_ms, start, sizeof start);
    /* Env names are rule identifiers (no quotes or commas), so they need no CSV quoting. */
    if (fprintf(c->out, "%s,%.3f,%s,%llu,%llu,%u,%u,%d\n", start, (double)iv->length_ms / 1e3,
                env != NULL ? env : "", (unsigned long long)iv->requests,
                (unsigned long long)iv->errors, iv->health.probes, iv->health.failures,
                iv->has_data ? 1 : 0) < 0)
        return sw_err_sys(err, SW_E_IO, "cannot write the export");
    return SW_OK;
}

static sw_status
visit_row(void *ctx, const char *service, const char *env, const sw_sli_interval *iv, sw_err *err)
{
    export_ctx *c = ctx;
    (void)service;
    if (!env_matches(c->req->env, env))
        return SW_OK;
    if (c->req->format == SW_EXPORT_CSV) {
        c->rows++;
        return write_csv_row(c, env, iv, err);
    }
    if (iv->latency == NULL)
        return SW_OK;
    c->rows++;
    return sw_hlog_write_interval(&c->hlog, env, (double)iv->start_ms / 1e3,
                                  (double)iv->length_ms / 1e3, iv->latency, err);
}

static sw_status
stop_at_first(void *ctx, const char *service, const char *env, const sw_sli_interval *iv,
              sw_err *err)
{
    (void)service;
    (void)iv;
    (void)err;
    const char *want = ctx;
    /* SW_E_MISMATCH only carries "found" out of the scan; it never reaches the caller. */
    return env_matches(want, env) ? SW_E_MISMATCH : SW_OK;
}

/* The first value of a service stored per label value, as LABEL=VALUE. */
static sw_status
first_value(void *ctx, const char *key, sw_err *err)
{
    (void)err;
    sw_rules_by_parts p;
    if (sw_rules_by_split(key, &p))
        snprintf(ctx, KEY_MAX, "%.*s=%s", (int)p.label_len, p.label, p.value);
    /* SW_E_MISMATCH only carries "found" out of the listing; it never reaches the caller. */
    return SW_E_MISMATCH;
}

/* Nothing in range: say whether the series (env) was ever stored, for a message that helps. */
static sw_status
explain_empty(sw_store *st, const export_ctx *c, sw_err *err)
{
    const sw_export_request *req = c->req;
    const int64_t all = INT64_C(1) << 60;
    sw_status s = sw_store_scan(st, c->key, -all, all, all, stop_at_first, (void *)req->env, err);
    char from[40], to[40];
    sw_units_format_time(req->from_ms, from, sizeof from);
    sw_units_format_time(req->to_ms, to, sizeof to);
    if (s == SW_E_MISMATCH)
        return sw_err_set(err, SW_E_RANGE, "%.200s%s%.100s has no %s stored between %s and %s",
                          c->name, req->env ? " env " : "", req->env ? req->env : "",
                          req->format == SW_EXPORT_HLOG ? "latency histograms" : "intervals", from,
                          to);
    if (s != SW_OK)
        return s;
    if (req->env != NULL)
        return sw_err_set(err, SW_E_INVAL,
                          "service '%.200s' has no environment '%.100s' in "
                          "the store",
                          c->name, req->env);
    if (req->label != NULL)
        return sw_err_set(err, SW_E_INVAL,
                          "service '%.100s' has no %.100s=%.200s in the store: no data for that "
                          "label value",
                          req->service, req->label, req->value);
    /* A service judged per label value is stored per value only: name one to choose. */
    char prefix[KEY_MAX], value[KEY_MAX] = "";
    snprintf(prefix, sizeof prefix, "%s\x1f", req->service);
    s = sw_store_service_names(st, prefix, first_value, value, err);
    if (s != SW_OK && s != SW_E_MISMATCH)
        return s;
    if (value[0] != '\0')
        return sw_err_set(err, SW_E_INVAL,
                          "service '%.100s' is stored per label value: choose one with --label "
                          "(e.g. --label %.200s)",
                          req->service, value);
    return sw_err_set(err, SW_E_INVAL, "unknown service '%.100s': the store holds no data for it",
                      req->service);
}

/* The stored series of req (its value's key when it names one) and its name for messages. */
static sw_status
series_of(const sw_export_request *req, char key[KEY_MAX], export_ctx *c, sw_err *err)
{
    c->key = req->service;
    snprintf(c->name, sizeof c->name, "%s", req->service);
    if (req->label == NULL)
        return SW_OK;
    if (sw_rules_by_key(req->service, req->label, req->value, strlen(req->value), key, KEY_MAX) >=
        KEY_MAX)
        return sw_err_set(err, SW_E_INVAL, "label value of %zu bytes: too long for a series",
                          strlen(req->value));
    c->key = key;
    snprintf(c->name, sizeof c->name, "%s %s=%s", req->service, req->label, req->value);
    return SW_OK;
}

sw_status
sw_export_write(sw_store *st, const sw_export_request *req, FILE *out, size_t *ret_rows,
                sw_err *err)
{
    if (req->from_ms >= req->to_ms)
        return sw_err_set(err, SW_E_INVAL, "empty time range: --from must be before --to");
    export_ctx c = {.req = req, .out = out};
    char key[KEY_MAX];
    sw_status s = series_of(req, key, &c, err);
    /* Microsecond values: the max column in milliseconds, as jHiccup logs show it. */
    if (s == SW_OK && req->format == SW_EXPORT_HLOG)
        s = sw_hlog_write_header(&c.hlog, out, (double)req->from_ms / 1e3, 1000.0, err);
    else if (s == SW_OK &&
             fputs("start,length_s,env,requests,errors,probes,probe_failures,has_data\n", out) < 0)
        s = sw_err_sys(err, SW_E_IO, "cannot write the export");
    if (s == SW_OK && req->resolution_ms != 0)
        s = sw_store_scan_level(st, c.key, req->resolution_ms, req->from_ms, req->to_ms, true,
                                visit_row, &c, err);
    else if (s == SW_OK)
        s = sw_store_scan(st, c.key, req->from_ms, req->to_ms, req->from_ms, visit_row, &c, err);
    if (s == SW_OK && c.rows == 0)
        s = explain_empty(st, &c, err);
    if (s == SW_OK)
        *ret_rows = c.rows;
    return s;
}
