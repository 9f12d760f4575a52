/*
 * A snapshot is written once by the tick thread and only read afterwards; an atomic reference
 * count decides who frees it. Gate entries are sorted by (service, env, window) for lookup.
 */
#include "slawatch/snapshot.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slawatch/eval_json.h"
#include "slawatch/json.h"
#include "slawatch/units.h"

#define BODY_MAX ((size_t)64 << 20)

typedef struct gate_entry {
    const char *service, *env; /* the evaluator's strings are not kept: copies in names */
    int64_t window_ms;
    sw_verdict verdict;
    size_t off, len; /* in gate_text */
} gate_entry;

struct sw_snapshot {
    atomic_int refs;
    int64_t at_ms;
    int64_t *gate_windows; /* per service, in rules order: its own gate's window */
    sw_buf status;
    sw_buf metrics[3];
    sw_buf gate_text;
    gate_entry *gates;
    size_t n_gates;
    sw_buf names; /* NUL-separated copies of service and env names */
    sw_buf services_json;
    sw_buf envs_json; /* per service, NUL-terminated, in rules order */
    const char **env_lists;
    char **service_names;
    size_t n_services;
};

static void
snapshot_free(sw_snapshot *s)
{
    sw_buf_fini(&s->status);
    for (size_t i = 0; i < 3; i++)
        sw_buf_fini(&s->metrics[i]);
    sw_buf_fini(&s->gate_text);
    sw_buf_fini(&s->names);
    sw_buf_fini(&s->services_json);
    sw_buf_fini(&s->envs_json);
    free(s->gates);
    free(s->env_lists);
    free(s->gate_windows);
    for (size_t i = 0; s->service_names != NULL && i < s->n_services; i++)
        free(s->service_names[i]);
    free(s->service_names);
    free(s);
}

sw_snapshot *
sw_snapshot_ref(sw_snapshot *s)
{
    atomic_fetch_add(&s->refs, 1);
    return s;
}

void
sw_snapshot_unref(sw_snapshot *s)
{
    if (s != NULL && atomic_fetch_sub(&s->refs, 1) == 1)
        snapshot_free(s);
}

int64_t
sw_snapshot_time(const sw_snapshot *s)
{
    return s->at_ms;
}

/* ------------------------------------------------------------------ building */

static sw_status
put_time(sw_buf *b, int64_t ms, sw_err *err)
{
    char t[40];
    sw_units_format_time(ms, t, sizeof t);
    return sw_buf_printf(b, err, "\"%s\"", t);
}

static sw_status
write_gate(sw_snapshot *s, const char *service, const char *env, int64_t window_ms,
           const sw_gate_result *g, sw_err *err)
{
    sw_buf *b = &s->gate_text;
    char window[32], asked[32];
    /* The window judged, and the one asked for when it had to be shorter. */
    sw_units_format_duration(g->window_end_ms - g->window_start_ms, window, sizeof window);
    sw_units_format_duration(window_ms, asked, sizeof asked);
    const char *limit = sw_eval_gate_limit_str(g->limited_by);
    sw_buf_printf(b, err, "{\"service\":");
    sw_json_put_string(b, service, err);
    if (env != NULL) {
        sw_buf_printf(b, err, ",\"env\":");
        sw_json_put_string(b, env, err);
    }
    sw_buf_printf(b, err,
                  ",\"window\":\"%s\",\"window_requested\":\"%s\",\"window_limited_by\":", window,
                  asked);
    if (limit != NULL)
        sw_buf_printf(b, err, "\"%s\"", limit);
    else
        sw_buf_printf(b, err, "null");
    sw_buf_printf(b, err, ",\"evaluated_at\":");
    put_time(b, s->at_ms, err);
    sw_buf_printf(b, err, ",\"window_start\":");
    put_time(b, g->window_start_ms, err);
    sw_buf_printf(b, err, ",\"window_end\":");
    put_time(b, g->window_end_ms, err);
    sw_buf_printf(b, err, ",");
    sw_eval_json_gate_fields(b, g, err);
    return sw_buf_printf(b, err, "}\n");
}

static const char *
keep_name(sw_snapshot *s, const char *name, sw_err *err)
{
    if (name == NULL)
        return NULL;
    /* Offsets now, pointers once the buffer stops moving (fix_names). */
    size_t off = s->names.len;
    if (sw_buf_append(&s->names, name, strlen(name) + 1, err) != SW_OK)
        return NULL;
    return (const char *)(uintptr_t)(off + 1);
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

static sw_status
add_gate(sw_snapshot *s, const sw_eval *ev, const char *service, const char *env, int64_t window_ms,
         sw_err *err)
{
    sw_gate_result g;
    if (sw_eval_has_series(ev, service, env))
        SW_REQUIRE(sw_eval_gate(ev, service, env, window_ms, &g, NULL) == SW_OK);
    else
        no_data_gate(service, env, s->at_ms, window_ms, &g);
    gate_entry *e = &s->gates[s->n_gates++];
    e->service = keep_name(s, service, err);
    e->env = keep_name(s, env, err);
    e->window_ms = window_ms;
    e->verdict = g.verdict;
    e->off = s->gate_text.len;
    sw_status st = write_gate(s, service, env, window_ms, &g, err);
    e->len = s->gate_text.len - e->off;
    return st;
}

static const char *
fixed(const sw_snapshot *s, const char *offset)
{
    return offset == NULL ? NULL : (const char *)s->names.data + ((uintptr_t)offset - 1);
}

static int
entry_cmp(const void *pa, const void *pb)
{
    const gate_entry *a = pa, *b = pb;
    int c = strcmp(a->service, b->service);
    if (c != 0)
        return c;
    if ((a->env == NULL) != (b->env == NULL))
        return a->env == NULL ? -1 : 1;
    if (a->env != NULL && (c = strcmp(a->env, b->env)) != 0)
        return c;
    return (a->window_ms > b->window_ms) - (a->window_ms < b->window_ms);
}

static sw_status
build_gates(sw_snapshot *s, const sw_eval *ev, const sw_rules *rules, sw_err *err)
{
    static const int64_t offered[] = SW_SNAPSHOT_GATE_WINDOWS_MS;
    size_t n_windows = sizeof offered / sizeof offered[0] + 1;
    size_t n_series = 0;
    for (size_t i = 0; i < rules->n_services; i++)
        n_series += rules->services[i].n_environments + 1;
    s->gates = calloc(n_series * n_windows + 1, sizeof *s->gates);
    s->gate_windows = calloc(rules->n_services + 1, sizeof *s->gate_windows);
    if (s->gates == NULL || s->gate_windows == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory building gate verdicts");
    sw_status st = SW_OK;
    for (size_t i = 0; i < rules->n_services && st == SW_OK; i++) {
        const sw_service *svc = &rules->services[i];
        int64_t own = sw_rules_of_service(rules, i)->gate.window_ms;
        s->gate_windows[i] = own;
        /* A service with environments is judged per environment, one without as itself. */
        for (size_t e = 0; e < (svc->n_environments ? svc->n_environments : 1) && st == SW_OK;
             e++) {
            const char *env = svc->n_environments ? svc->environments[e] : NULL;
            st = add_gate(s, ev, svc->name, env, own, err);
            for (size_t w = 0; w + 1 < n_windows && st == SW_OK; w++)
                if (offered[w] != own)
                    st = add_gate(s, ev, svc->name, env, offered[w], err);
        }
    }
    for (size_t i = 0; i < s->n_gates; i++) {
        s->gates[i].service = fixed(s, s->gates[i].service);
        s->gates[i].env = fixed(s, s->gates[i].env);
    }
    qsort(s->gates, s->n_gates, sizeof *s->gates, entry_cmp);
    return st;
}

static sw_status
build_names(sw_snapshot *s, const sw_rules *r, sw_err *err)
{
    s->n_services = r->n_services;
    s->service_names = calloc(r->n_services + 1, sizeof *s->service_names);
    s->env_lists = calloc(r->n_services + 1, sizeof *s->env_lists);
    if (s->service_names == NULL || s->env_lists == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory building the snapshot");
    size_t *offs = calloc(r->n_services + 1, sizeof *offs);
    if (offs == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory building the snapshot");
    sw_buf_printf(&s->services_json, err, "[");
    for (size_t i = 0; i < r->n_services; i++) {
        const sw_service *svc = &r->services[i];
        s->service_names[i] = strdup(svc->name); /* the rules may be gone before the snapshot */
        if (s->service_names[i] == NULL) {
            free(offs);
            return sw_err_set(err, SW_E_NOMEM, "out of memory building the snapshot");
        }
        sw_buf_printf(&s->services_json, err, "%s", i ? "," : "");
        sw_json_put_string(&s->services_json, svc->name, err);
        offs[i] = s->envs_json.len;
        sw_buf_printf(&s->envs_json, err, "[");
        for (size_t e = 0; e < svc->n_environments; e++) {
            sw_buf_printf(&s->envs_json, err, "%s", e ? "," : "");
            sw_json_put_string(&s->envs_json, svc->environments[e], err);
        }
        sw_buf_append(&s->envs_json, "]", 2, err);
    }
    sw_status st = sw_buf_printf(&s->services_json, err, "]");
    sw_buf_cstr(&s->services_json, err);
    for (size_t i = 0; i < r->n_services; i++)
        s->env_lists[i] = (const char *)s->envs_json.data + offs[i];
    free(offs);
    return st;
}

static sw_status
build_metrics(sw_snapshot *s, const sw_snapshot_input *in, sw_err *err)
{
    static const sw_expo_format formats[] = {SW_EXPO_TEXT, SW_EXPO_OPENMETRICS, SW_EXPO_PROTOBUF};
    sw_metrics_view *view = NULL;
    sw_status st = sw_metrics_view_new(in->ev, in->rules, in->metrics, &view, err);
    for (size_t f = 0; f < 3 && st == SW_OK; f++) {
        sw_expo_begin(in->expo, formats[f], &s->metrics[f]);
        st = sw_metrics_write(in->expo, view, err);
        sw_status fin = sw_expo_finish(in->expo, err);
        if (st == SW_OK)
            st = fin;
    }
    sw_metrics_view_free(view);
    return st;
}

sw_status
sw_snapshot_build(const sw_snapshot_input *in, sw_snapshot **ret, sw_err *err)
{
    sw_snapshot *s = calloc(1, sizeof *s);
    if (s == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory building the snapshot");
    atomic_init(&s->refs, 1);
    s->at_ms = in->now_ms;
    sw_buf_init(&s->status, BODY_MAX);
    for (size_t i = 0; i < 3; i++)
        sw_buf_init(&s->metrics[i], BODY_MAX);
    sw_buf_init(&s->gate_text, BODY_MAX);
    sw_buf_init(&s->names, BODY_MAX);
    sw_buf_init(&s->services_json, BODY_MAX);
    sw_buf_init(&s->envs_json, BODY_MAX);
    sw_status st = sw_eval_json_write(in->ev, in->now_ms, &s->status, err);
    if (st == SW_OK)
        st = build_gates(s, in->ev, in->rules, err);
    if (st == SW_OK)
        st = build_names(s, in->rules, err);
    if (st == SW_OK)
        st = build_metrics(s, in, err);
    if (st != SW_OK) {
        snapshot_free(s);
        return st;
    }
    *ret = s;
    return SW_OK;
}

/* ------------------------------------------------------------------ reading */

static ptrdiff_t
service_index(const sw_snapshot *s, const char *service)
{
    for (size_t i = 0; i < s->n_services; i++)
        if (strcmp(s->service_names[i], service) == 0)
            return (ptrdiff_t)i;
    return -1;
}

sw_snapshot_lookup
sw_snapshot_gate(const sw_snapshot *s, const char *service, const char *env, int64_t window_ms,
                 const char **ret_json, size_t *ret_len, sw_verdict *ret_verdict)
{
    ptrdiff_t si = service_index(s, service);
    if (si < 0)
        return SW_SNAPSHOT_UNKNOWN_SERVICE;
    if (env == NULL && strcmp(s->env_lists[si], "[]") != 0)
        return SW_SNAPSHOT_NEEDS_ENV;
    gate_entry key = {.service = service,
                      .env = env,
                      .window_ms = window_ms != 0 ? window_ms : s->gate_windows[si]};
    const gate_entry *e = bsearch(&key, s->gates, s->n_gates, sizeof *s->gates, entry_cmp);
    if (e == NULL) {
        key.window_ms = s->gate_windows[si];
        if (bsearch(&key, s->gates, s->n_gates, sizeof *s->gates, entry_cmp) != NULL)
            return SW_SNAPSHOT_UNKNOWN_WINDOW;
        return SW_SNAPSHOT_UNKNOWN_ENV;
    }
    *ret_json = (const char *)s->gate_text.data + e->off;
    *ret_len = e->len;
    *ret_verdict = e->verdict;
    return SW_SNAPSHOT_FOUND;
}

const sw_buf *
sw_snapshot_status(const sw_snapshot *s)
{
    return &s->status;
}

const sw_buf *
sw_snapshot_metrics(const sw_snapshot *s, sw_expo_format format)
{
    return &s->metrics[format == SW_EXPO_OPENMETRICS ? 1 : format == SW_EXPO_PROTOBUF ? 2 : 0];
}

const char *
sw_snapshot_services_json(const sw_snapshot *s)
{
    return (const char *)s->services_json.data;
}

const char *
sw_snapshot_envs_json(const sw_snapshot *s, const char *service)
{
    ptrdiff_t si = service_index(s, service);
    return si < 0 ? "[]" : s->env_lists[si];
}
