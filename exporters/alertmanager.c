/*
 * The Alertmanager push: a table of tracked alerts (firing, or resolved for 15 minutes) with
 * when each was last sent, turned into API v2 JSON when due. The tracker owns copies of every
 * string and its own HTTP client; one thread at a time (alertmanager.h).
 */
#include "slawatch/alertmanager.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "slawatch/http_client.h"
#include "slawatch/units.h"

#define FIRST_BACKOFF_MS 10000
#define ATTEMPT_PAUSE_MS 250

typedef struct entry {
    sw_am_kind kind;
    char *service, *env, *name, *severity, *summary, *description, *runbook_url;
    int64_t starts_ms;
    int64_t resolved_ms;  /* -1 while firing */
    int64_t last_sent_ms; /* -1 before the first delivery */
    bool changed;         /* firing/resolved changed since the last delivery */
    bool in_payload;      /* in the last sw_am_build_payload */
} entry;

struct sw_am {
    sw_am_config cfg;
    char *generator_url, *bearer_token;
    entry *entries;
    size_t n, cap;
    sw_http_client *http;
    int64_t next_attempt_ms; /* after a failed push */
    int64_t backoff_ms;
};

static const char *const kind_names[] = {
    [SW_AM_ALERT] = "alert", [SW_AM_ROLLBACK_TRIGGER] = "rollback_trigger"};

/* ------------------------------------------------------------------ lifecycle */

static char *
dup_or_null(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

sw_status
sw_am_new(const sw_am_config *cfg, sw_am **ret_am, sw_err *err)
{
    sw_am *am = calloc(1, sizeof *am);
    if (am == NULL)
        return sw_err_set(err, SW_E_NOMEM, "cannot allocate the Alertmanager tracker");
    if (cfg != NULL)
        am->cfg = *cfg;
    sw_am_config *c = &am->cfg;
    c->resend_ms = c->resend_ms > 0 ? c->resend_ms : SW_AM_DEFAULT_RESEND_MS;
    c->eval_interval_ms =
        c->eval_interval_ms > 0 ? c->eval_interval_ms : SW_AM_DEFAULT_EVAL_INTERVAL_MS;
    c->timeout_ms = c->timeout_ms > 0 ? c->timeout_ms : SW_AM_DEFAULT_TIMEOUT_MS;
    c->attempts = c->attempts > 0 ? c->attempts : SW_AM_DEFAULT_ATTEMPTS;
    am->generator_url = dup_or_null(c->generator_url);
    am->bearer_token = dup_or_null(c->bearer_token);
    c->generator_url = c->bearer_token = NULL; /* the copies above are the ones used */
    if ((cfg != NULL && cfg->generator_url != NULL && am->generator_url == NULL) ||
        (cfg != NULL && cfg->bearer_token != NULL && am->bearer_token == NULL)) {
        sw_am_free(am);
        return sw_err_set(err, SW_E_NOMEM, "cannot copy the Alertmanager configuration");
    }
    sw_status st = sw_http_client_new(&am->http, err);
    if (st != SW_OK) {
        sw_am_free(am);
        return st;
    }
    *ret_am = am;
    return SW_OK;
}

static void
entry_fini(entry *e)
{
    free(e->service);
    free(e->env);
    free(e->name);
    free(e->severity);
    free(e->summary);
    free(e->description);
    free(e->runbook_url);
}

void
sw_am_free(sw_am *am)
{
    if (am == NULL)
        return;
    for (size_t i = 0; i < am->n; i++)
        entry_fini(&am->entries[i]);
    free(am->entries);
    free(am->generator_url);
    free(am->bearer_token);
    sw_http_client_free(am->http);
    free(am);
}

size_t
sw_am_count(const sw_am *am)
{
    return am->n;
}

/* ------------------------------------------------------------------ observing */

static bool
same_str(const char *a, const char *b)
{
    return (a == NULL || b == NULL) ? a == b : strcmp(a, b) == 0;
}

static entry *
find(sw_am *am, const sw_am_observation *o)
{
    for (size_t i = 0; i < am->n; i++) {
        entry *e = &am->entries[i];
        if (e->kind == o->kind && same_str(e->service, o->service) && same_str(e->env, o->env) &&
            same_str(e->name, o->name))
            return e;
    }
    return NULL;
}

/* Replace *slot with a copy of s unless equal (summaries rarely change between evaluations). */
static bool
set_str(char **slot, const char *s)
{
    if (same_str(*slot, s))
        return true;
    char *copy = dup_or_null(s);
    if (s != NULL && copy == NULL)
        return false;
    free(*slot);
    *slot = copy;
    return true;
}

static entry *
add_entry(sw_am *am, const sw_am_observation *o)
{
    if (am->n == am->cap) {
        size_t cap = am->cap ? am->cap * 2 : 8;
        entry *grown = realloc(am->entries, cap * sizeof *grown);
        if (grown == NULL)
            return NULL;
        am->entries = grown;
        am->cap = cap;
    }
    entry *e = &am->entries[am->n];
    memset(e, 0, sizeof *e);
    e->kind = o->kind;
    e->last_sent_ms = -1;
    if (!set_str(&e->service, o->service) || !set_str(&e->env, o->env) ||
        !set_str(&e->name, o->name)) {
        entry_fini(e);
        return NULL;
    }
    am->n++;
    return e;
}

sw_status
sw_am_observe(sw_am *am, const sw_am_observation *o, int64_t now_ms, sw_err *err)
{
    SW_REQUIRE(o->service != NULL && o->name != NULL && o->severity != NULL);
    (void)now_ms;
    entry *e = find(am, o);
    if (e == NULL && !o->firing)
        return SW_OK;
    bool created = e == NULL;
    if (created && (e = add_entry(am, o)) == NULL)
        return sw_err_set(err, SW_E_NOMEM, "cannot track alert %s", o->name);
    bool was_firing = !created && e->resolved_ms < 0;
    if (o->firing && !was_firing) {
        e->starts_ms = o->since_ms;
        e->resolved_ms = -1;
        e->changed = true;
    } else if (!o->firing && was_firing) {
        e->resolved_ms = o->since_ms;
        e->changed = true;
    }
    if (!set_str(&e->severity, o->severity) || !set_str(&e->summary, o->summary) ||
        !set_str(&e->description, o->description) || !set_str(&e->runbook_url, o->runbook_url))
        return sw_err_set(err, SW_E_NOMEM, "cannot track alert %s", o->name);
    return SW_OK;
}

/* A burn rate as "2.5x", or "n/a" without data. */
static void
format_burn(double burn, char *out, size_t cap)
{
    if (isnan(burn))
        snprintf(out, cap, "n/a");
    else
        snprintf(out, cap, "%.3gx", burn);
}

void
sw_am_summary(const sw_alert *a, double measured, char *out, size_t cap)
{
    char sli[64], m[32], t[32], over[32], shrt[32];
    if (a->kind == SW_ALERT_BURN_RATE) {
        sw_units_format_duration(a->long_ms, over, sizeof over);
        sw_units_format_duration(a->short_ms, shrt, sizeof shrt);
        format_burn(measured, m, sizeof m);
        snprintf(out, cap, "error budget burning %s (> %.3gx over %s and %s)", m, a->burn_rate,
                 over, shrt);
        return;
    }
    sw_rules_sli_name(&a->when, sli, sizeof sli);
    sw_rules_format_value(a->when.sli, measured, m, sizeof m);
    sw_rules_format_value(a->when.sli, a->when.value, t, sizeof t);
    sw_units_format_duration(a->over_ms, over, sizeof over);
    snprintf(out, cap, "%s is %s (%s %s over %s)", sli, m, sw_rules_op_str(a->when.op), t, over);
}

/* A resolved burn-rate alert: which objective's budget recovered, and to what burn rates. */
static void
recovered_summary(const sw_rules *rules, const sw_alert_result *r, char *out, size_t cap)
{
    const sw_alert *a = r->alert;
    char lng[32], shrt[32], over[32], over_short[32];
    format_burn(r->measured, lng, sizeof lng);
    format_burn(r->measured_short, shrt, sizeof shrt);
    sw_units_format_duration(a->long_ms, over, sizeof over);
    sw_units_format_duration(a->short_ms, over_short, sizeof over_short);
    const char *objective = rules != NULL && a->objective < rules->n_objectives
                                ? rules->objectives[a->objective].name
                                : "the objective";
    snprintf(out, cap,
             "error budget of %s recovered: burning %s over %s and %s over %s, not both above "
             "%.3gx",
             objective, lng, over, shrt, over_short, a->burn_rate);
}

sw_status
sw_am_observe_alert(sw_am *am, const sw_rules *rules, const char *service, const char *env,
                    const sw_alert_result *r, int64_t now_ms, sw_err *err)
{
    bool firing = r->state == SW_ALERT_FIRING;
    char summary[320];
    if (!firing && r->alert->kind == SW_ALERT_BURN_RATE)
        recovered_summary(rules, r, summary, sizeof summary);
    else
        sw_am_summary(r->alert, r->measured, summary, sizeof summary);
    sw_am_observation o = {
        .service = service,
        .env = env,
        .kind = SW_AM_ALERT,
        .name = r->alert->name,
        .severity = sw_rules_severity_str(r->alert->severity),
        .firing = firing,
        .since_ms =
            firing ? r->last_fired_ms : (r->last_resolved_ms >= 0 ? r->last_resolved_ms : now_ms),
        .summary = summary,
        .description = r->alert->description,
        .runbook_url = r->alert->runbook_url,
    };
    return sw_am_observe(am, &o, now_ms, err);
}

/* A series key for people: the service, or "checkout route=/pay" for a label value. */
static void
series_text(const char *key, char *out, size_t cap)
{
    sw_rules_by_parts p;
    if (!sw_rules_by_split(key, &p))
        snprintf(out, cap, "%s", key);
    else
        snprintf(out, cap, "%.*s %.*s=%.100s", (int)p.service_len, p.service, (int)p.label_len,
                 p.label, p.value);
}

sw_status
sw_am_observe_trigger(sw_am *am, const char *service, const char *env, const sw_trigger_result *r,
                      int64_t now_ms, sw_err *err)
{
    char summary[320], at[32], cleared[32], name[320];
    series_text(service, name, sizeof name);
    sw_am_observation key = {
        .service = service, .env = env, .kind = SW_AM_ROLLBACK_TRIGGER, .name = r->trigger->name};
    const entry *e = find(am, &key);
    if (r->fired) {
        sw_units_format_time(r->fired_at_ms, at, sizeof at);
        snprintf(summary, sizeof summary, "rollback trigger %s fired at %s: roll back %.100s%s%s",
                 r->trigger->name, at, name, env != NULL ? "/" : "", env != NULL ? env : "");
    } else if (e != NULL) {
        /* A latched trigger only clears at a deployment mark; the mark's tick is now. */
        sw_units_format_time(e->starts_ms, at, sizeof at);
        sw_units_format_time(e->resolved_ms >= 0 ? e->resolved_ms : now_ms, cleared,
                             sizeof cleared);
        snprintf(summary, sizeof summary,
                 "rollback trigger %s fired at %s; cleared by a deployment mark of %.100s%s%s, "
                 "seen at %s",
                 r->trigger->name, at, name, env != NULL ? "/" : "", env != NULL ? env : "",
                 cleared);
    } else {
        return SW_OK; /* never fired: nothing to tell Alertmanager */
    }
    sw_am_observation o = {
        .service = service,
        .env = env,
        .kind = SW_AM_ROLLBACK_TRIGGER,
        .name = r->trigger->name,
        .severity = "critical",
        .firing = r->fired,
        .since_ms = r->fired ? r->fired_at_ms : now_ms,
        .summary = summary,
        .description = r->trigger->description,
        .runbook_url = r->trigger->runbook_url,
    };
    return sw_am_observe(am, &o, now_ms, err);
}

/* ------------------------------------------------------------------ payload */

static bool
is_due(const sw_am *am, const entry *e, int64_t now_ms)
{
    if (e->changed || e->last_sent_ms < 0)
        return true;
    return now_ms - e->last_sent_ms >= am->cfg.resend_ms;
}

static int64_t
ends_at(const sw_am *am, const entry *e, int64_t now_ms)
{
    if (e->resolved_ms >= 0)
        return e->resolved_ms;
    int64_t step =
        am->cfg.resend_ms > am->cfg.eval_interval_ms ? am->cfg.resend_ms : am->cfg.eval_interval_ms;
    return now_ms + 4 * step;
}

static bool
add_time(cJSON *obj, const char *key, int64_t ms)
{
    char t[40];
    sw_units_format_time(ms, t, sizeof t);
    return cJSON_AddStringToObject(obj, key, t) != NULL;
}

/* Add key: value unless value is NULL; false only when out of memory. */
static bool
add_opt(cJSON *obj, const char *key, const char *value)
{
    return value == NULL || cJSON_AddStringToObject(obj, key, value) != NULL;
}

/* service, and for one value of a service judged per label value (sw_rules_by_key) that label:
 * {"service": "checkout", "route": "/pay"}. */
static bool
add_service(cJSON *labels, const char *key)
{
    sw_rules_by_parts p;
    if (!sw_rules_by_split(key, &p))
        return add_opt(labels, "service", key);
    char service[1024], label[1024];
    snprintf(service, sizeof service, "%.*s", (int)p.service_len, p.service);
    snprintf(label, sizeof label, "%.*s", (int)p.label_len, p.label);
    return add_opt(labels, "service", service) && add_opt(labels, label, p.value);
}

static cJSON *
alert_json(const sw_am *am, const entry *e, int64_t now_ms)
{
    cJSON *a = cJSON_CreateObject();
    cJSON *labels = cJSON_AddObjectToObject(a, "labels");
    cJSON *ann = cJSON_AddObjectToObject(a, "annotations");
    bool ok = labels != NULL && ann != NULL && add_opt(labels, "alertname", e->name) &&
              add_opt(labels, "severity", e->severity) && add_service(labels, e->service) &&
              add_opt(labels, "env", e->env) && add_opt(labels, "kind", kind_names[e->kind]) &&
              add_opt(ann, "summary", e->summary) && add_opt(ann, "description", e->description) &&
              add_opt(ann, "runbook_url", e->runbook_url) &&
              add_time(a, "startsAt", e->starts_ms) &&
              add_time(a, "endsAt", ends_at(am, e, now_ms)) &&
              add_opt(a, "generatorURL", am->generator_url);
    if (!ok) {
        cJSON_Delete(a);
        return NULL;
    }
    return a;
}

sw_status
sw_am_build_payload(sw_am *am, int64_t now_ms, sw_buf *out, size_t *ret_n, sw_err *err)
{
    cJSON *arr = cJSON_CreateArray();
    size_t n = 0;
    char *text = NULL;
    sw_status st = SW_OK;
    for (size_t i = 0; arr != NULL && i < am->n; i++) {
        entry *e = &am->entries[i];
        e->in_payload = is_due(am, e, now_ms);
        if (!e->in_payload)
            continue;
        cJSON *a = alert_json(am, e, now_ms);
        if (a == NULL || !cJSON_AddItemToArray(arr, a)) {
            cJSON_Delete(a);
            st = sw_err_set(err, SW_E_NOMEM, "cannot build the Alertmanager payload");
            goto out;
        }
        n++;
    }
    text = arr != NULL ? cJSON_PrintUnformatted(arr) : NULL;
    if (text == NULL) {
        st = sw_err_set(err, SW_E_NOMEM, "cannot build the Alertmanager payload");
        goto out;
    }
    st = sw_buf_append(out, text, strlen(text), err);
    if (st == SW_OK)
        *ret_n = n;
out:
    free(text);
    cJSON_Delete(arr);
    return st;
}

void
sw_am_mark_sent(sw_am *am, int64_t now_ms)
{
    size_t kept = 0;
    for (size_t i = 0; i < am->n; i++) {
        entry *e = &am->entries[i];
        if (e->in_payload) {
            e->last_sent_ms = now_ms;
            e->changed = false;
            e->in_payload = false;
        }
        bool expired =
            e->resolved_ms >= 0 && !e->changed && now_ms - e->resolved_ms >= SW_AM_RESOLVED_KEEP_MS;
        if (expired)
            entry_fini(e);
        else
            am->entries[kept++] = *e;
    }
    am->n = kept;
}

/* ------------------------------------------------------------------ push */

static void
pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* POST with retries on network errors and 5xx; 4xx means a bad payload, never retried. */
static sw_status
post(sw_am *am, const char *url, const sw_buf *payload, sw_err *err)
{
    sw_http_fetch_request rq = {.method = "POST",
                                .url = url,
                                .content_type = "application/json",
                                .body = payload->data,
                                .body_len = payload->len,
                                .bearer_token = am->bearer_token,
                                .timeout_ms = am->cfg.timeout_ms,
                                .max_response_bytes = 65536};
    char where[256];
    sw_http_client_redact_url(url, where, sizeof where);
    sw_status st = SW_E_IO;
    for (int attempt = 0; attempt < am->cfg.attempts; attempt++) {
        if (attempt > 0)
            pause_ms(ATTEMPT_PAUSE_MS);
        sw_http_fetch_response resp;
        st = sw_http_client_fetch(am->http, &rq, &resp, err);
        if (st != SW_OK)
            continue;
        long status = resp.status;
        sw_http_fetch_response_fini(&resp);
        if (status >= 200 && status < 300)
            return SW_OK;
        st = sw_err_set(err, SW_E_IO, "POST %s: Alertmanager answered HTTP %ld", where, status);
        if (status < 500)
            break;
    }
    return st;
}

sw_status
sw_am_push(sw_am *am, const char *url, int64_t now_ms, size_t *ret_sent, sw_err *err)
{
    *ret_sent = 0;
    if (now_ms < am->next_attempt_ms)
        return SW_OK;
    sw_buf payload;
    sw_buf_init(&payload, SW_AM_MAX_PAYLOAD);
    size_t n = 0;
    sw_status st = sw_am_build_payload(am, now_ms, &payload, &n, err);
    if (st == SW_OK && n > 0)
        st = post(am, url, &payload, err);
    sw_buf_fini(&payload);
    if (st == SW_OK) {
        *ret_sent = n;
        sw_am_mark_sent(am, now_ms);
        am->backoff_ms = 0;
        am->next_attempt_ms = 0;
        return SW_OK;
    }
    am->backoff_ms = am->backoff_ms == 0 ? FIRST_BACKOFF_MS : am->backoff_ms * 2;
    if (am->backoff_ms > am->cfg.resend_ms)
        am->backoff_ms = am->cfg.resend_ms;
    am->next_attempt_ms = now_ms + am->backoff_ms;
    return st;
}
