/*
 * EMF lines into a batch: each line parsed with the capped JSON parser, its directives matched
 * against the map's targets, values checked and converted, nothing applied here. The map is
 * immutable once built; batches belong to their caller.
 */
#include "slawatch/emf.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "slawatch/hdr.h"
#include "slawatch/json.h"

#define DIMS_MAX 30                               /* dimensions per set (the spec's limit) */
#define TIMESTAMP_MAX 253402300799999.0           /* 9999-12-31T23:59:59.999Z */
#define COUNT_MAX 9007199254740992.0              /* 2^53 */

typedef struct target {
    char *service, *env, *ns, *metric; /* ns NULL: any namespace (push convention) */
    sw_emf_kind kind;
    char *dim_names[DIMS_MAX], *dim_values[DIMS_MAX];
    size_t n_dims;
} target;

struct sw_emf_map {
    target *t;
    size_t n, cap;
};

/* The presets' metrics, by kind (requests, errors, latency). */
static const struct preset {
    const char *name, *ns, *metric[3];
} presets[] = {
    {"alb", "AWS/ApplicationELB", {"RequestCount", "HTTPCode_Target_5XX_Count", "TargetResponseTime"}},
    {"apigateway", "AWS/ApiGateway", {"Count", "5XXError", "Latency"}},
    {"lambda", "AWS/Lambda", {"Invocations", "Errors", "Duration"}},
};

static const char *const push_metric[3] = {"Requests", "Errors", "Latency"};

static char *
dup_or_null(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

static void
target_fini(target *t)
{
    free(t->service);
    free(t->env);
    free(t->ns);
    free(t->metric);
    for (size_t i = 0; i < t->n_dims; i++) {
        free(t->dim_names[i]);
        free(t->dim_values[i]);
    }
}

static bool
add_dim(target *t, const char *name, const char *value)
{
    if (t->n_dims == DIMS_MAX)
        return true; /* a set CloudWatch cannot hold never matches: keep it unmatched */
    t->dim_names[t->n_dims] = strdup(name);
    t->dim_values[t->n_dims] = strdup(value);
    return t->dim_names[t->n_dims] != NULL && t->dim_values[t->n_dims++] != NULL;
}

static target *
push_target(sw_emf_map *m, const char *service, const char *env, sw_emf_kind kind,
            const char *ns, const char *metric)
{
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        target *g = realloc(m->t, cap * sizeof *g);
        if (g == NULL)
            return NULL;
        m->t = g;
        m->cap = cap;
    }
    target *t = &m->t[m->n++];
    *t = (target){.service = strdup(service), .env = dup_or_null(env), .ns = dup_or_null(ns),
                  .metric = strdup(metric), .kind = kind};
    bool ok = t->service && t->metric && (t->env || !env) && (t->ns || !ns);
    return ok ? t : NULL;
}

static bool
add_cloudwatch(sw_emf_map *m, const sw_service *s, const sw_source *src, sw_emf_kind kind)
{
    const char *ns = src->cw_namespace, *metric = src->cw_metric;
    for (size_t i = 0; src->preset != NULL && i < sizeof presets / sizeof presets[0]; i++)
        if (strcmp(presets[i].name, src->preset) == 0) {
            ns = presets[i].ns;
            metric = presets[i].metric[kind];
        }
    if (ns == NULL || metric == NULL)
        return true;
    target *t = push_target(m, s->name, NULL, kind, ns, metric);
    for (size_t i = 0; t != NULL && i < src->n_dimensions; i++)
        if (!add_dim(t, src->dimensions[i].name, src->dimensions[i].value))
            return false;
    return t != NULL;
}

/* push: true — metric Requests/Errors/Latency in any namespace, dimension set {Service} or,
 * for a service with environments, {Service, Env}. */
static bool
add_push(sw_emf_map *m, const sw_service *s, sw_emf_kind kind)
{
    size_t n_env = s->n_environments ? s->n_environments : 1;
    for (size_t e = 0; e < n_env; e++) {
        const char *env = s->n_environments ? s->environments[e] : NULL;
        target *t = push_target(m, s->name, env, kind, NULL, push_metric[kind]);
        if (t == NULL || !add_dim(t, "Service", s->name) || (env && !add_dim(t, "Env", env)))
            return false;
    }
    return true;
}

sw_status
sw_emf_map_new(const sw_rules *rules, sw_emf_map **ret, sw_err *err)
{
    sw_emf_map *m = calloc(1, sizeof *m);
    bool ok = m != NULL;
    for (size_t i = 0; ok && i < rules->n_services; i++) {
        const sw_service *s = &rules->services[i];
        const sw_source *src[3] = {&s->requests, &s->errors, &s->latency};
        for (int k = 0; ok && k < 3; k++) {
            if (src[k]->kind == SW_SOURCE_CLOUDWATCH)
                ok = add_cloudwatch(m, s, src[k], (sw_emf_kind)k);
            else if (src[k]->kind == SW_SOURCE_PUSH)
                ok = add_push(m, s, (sw_emf_kind)k);
        }
    }
    if (!ok) {
        sw_emf_map_free(m);
        return sw_err_set(err, SW_E_NOMEM, "out of memory compiling the EMF targets");
    }
    *ret = m;
    return SW_OK;
}

void
sw_emf_map_free(sw_emf_map *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->n; i++)
        target_fini(&m->t[i]);
    free(m->t);
    free(m);
}

void
sw_emf_batch_fini(sw_emf_batch *b)
{
    free(b->items);
    free(b->values_us);
    *b = (sw_emf_batch){0};
}

/* ------------------------------------------------------------------ parsing */

typedef struct line_ctx {
    const sw_emf_map *m;
    sw_emf_batch *b;
    const cJSON *root;
    size_t line;
    int64_t at_ms;
    sw_err *err;
} line_ctx;

static sw_status
bad(const line_ctx *c, const char *field, const char *what)
{
    return sw_err_set(c->err, SW_E_PARSE, "line %zu: %.120s: %s", c->line, field, what);
}

static sw_status
get_timestamp(line_ctx *c, const cJSON *aws)
{
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(aws, "Timestamp");
    if (!cJSON_IsNumber(ts) || !(ts->valuedouble >= 0) || ts->valuedouble > TIMESTAMP_MAX ||
        floor(ts->valuedouble) != ts->valuedouble)
        return bad(c, "_aws.Timestamp", "must be whole milliseconds since the epoch");
    c->at_ms = (int64_t)ts->valuedouble;
    return SW_OK;
}

/* A dimension set: names (strings, at most 30) whose top-level members are strings. */
static sw_status
check_set(const line_ctx *c, const cJSON *set)
{
    if (!cJSON_IsArray(set) || cJSON_GetArraySize(set) > DIMS_MAX)
        return bad(c, "_aws.CloudWatchMetrics[].Dimensions", "must hold lists of at most 30 names");
    const cJSON *d;
    cJSON_ArrayForEach(d, set)
    {
        if (!cJSON_IsString(d))
            return bad(c, "_aws.CloudWatchMetrics[].Dimensions", "dimension names must be strings");
        if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(c->root, d->valuestring)))
            return bad(c, d->valuestring, "a dimension's value must be a string member");
    }
    return SW_OK;
}

static bool
set_matches(const line_ctx *c, const target *t, const cJSON *set)
{
    if ((size_t)cJSON_GetArraySize(set) != t->n_dims)
        return false;
    for (size_t i = 0; i < t->n_dims; i++) {
        const cJSON *d;
        bool found = false;
        cJSON_ArrayForEach(d, set) found |= strcmp(d->valuestring, t->dim_names[i]) == 0;
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->root, t->dim_names[i]);
        if (!found || strcmp(v->valuestring, t->dim_values[i]) != 0)
            return false;
    }
    return true;
}

/* The metric's member: a number or a list of at most 100 numbers. */
static sw_status
check_values(const line_ctx *c, const char *name, const cJSON *v)
{
    if (cJSON_IsNumber(v))
        return SW_OK;
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) > SW_EMF_ARRAY_MAX)
        return bad(c, name, "a metric's value must be a number or a list of at most 100 numbers");
    const cJSON *x;
    cJSON_ArrayForEach(x, v) if (!cJSON_IsNumber(x)) return bad(c, name, "list holds a non-number");
    return SW_OK;
}

static double
unit_scale(const cJSON *unit)
{
    const char *u = cJSON_IsString(unit) ? unit->valuestring : "";
    return strcmp(u, "Milliseconds") == 0   ? 1e3
           : strcmp(u, "Seconds") == 0      ? 1e6
           : strcmp(u, "Microseconds") == 0 ? 1
                                            : 0;
}

static sw_emf_item *
new_item(line_ctx *c, const target *t)
{
    sw_emf_batch *b = c->b;
    if (b->n_items == b->cap_items) {
        size_t cap = b->cap_items ? b->cap_items * 2 : 64;
        sw_emf_item *g = realloc(b->items, cap * sizeof *g);
        if (g == NULL)
            return NULL;
        b->items = g;
        b->cap_items = cap;
    }
    sw_emf_item *it = &b->items[b->n_items++];
    *it = (sw_emf_item){t->service, t->env, c->at_ms, t->kind, 0, b->n_values};
    return it;
}

static sw_status
reserve_values(line_ctx *c, size_t n)
{
    sw_emf_batch *b = c->b;
    if (b->n_values + n > SW_EMF_VALUES_MAX)
        return sw_err_set(c->err, SW_E_TOOBIG, "line %zu: more than %zu latency values in one request",
                          c->line, SW_EMF_VALUES_MAX);
    if (b->n_values + n <= b->cap_values)
        return SW_OK;
    size_t cap = b->cap_values ? b->cap_values * 2 : 1024;
    while (cap < b->n_values + n)
        cap *= 2;
    int64_t *g = realloc(b->values_us, cap * sizeof *g);
    if (g == NULL)
        return sw_err_set(c->err, SW_E_NOMEM, "out of memory reading line %zu", c->line);
    b->values_us = g;
    b->cap_values = cap;
    return SW_OK;
}

static sw_status
add_value(line_ctx *c, sw_emf_item *it, const char *name, double scale, double v)
{
    if (it->kind != SW_EMF_LATENCY) {
        if (!(v >= 0) || v > COUNT_MAX || floor(v) != v)
            return bad(c, name, "a count must be a whole number >= 0");
        it->count += (uint64_t)v;
        return SW_OK;
    }
    double us = v * scale;
    if (!(us >= 0) || us > (double)SW_HDR_LATENCY_HIGHEST_US)
        return bad(c, name, "latency outside 0 ... 1 h");
    c->b->values_us[c->b->n_values++] = llround(us);
    it->count++;
    return SW_OK;
}

static sw_status
take(line_ctx *c, const target *t, const cJSON *def)
{
    const char *name = t->metric;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->root, name);
    double scale = unit_scale(cJSON_GetObjectItemCaseSensitive(def, "Unit"));
    if (t->kind == SW_EMF_LATENCY && scale == 0)
        return bad(c, name, "latency needs Unit Milliseconds, Seconds or Microseconds");
    size_t n = cJSON_IsArray(v) ? (size_t)cJSON_GetArraySize(v) : 1;
    sw_status st = t->kind == SW_EMF_LATENCY ? reserve_values(c, n) : SW_OK;
    sw_emf_item *it = st == SW_OK ? new_item(c, t) : NULL;
    if (st != SW_OK)
        return st;
    if (it == NULL)
        return sw_err_set(c->err, SW_E_NOMEM, "out of memory reading line %zu", c->line);
    if (!cJSON_IsArray(v))
        return add_value(c, it, name, scale, v->valuedouble);
    const cJSON *x;
    cJSON_ArrayForEach(x, v) if ((st = add_value(c, it, name, scale, x->valuedouble)) != SW_OK)
        return st;
    return SW_OK;
}

/* Each metric definition against each target of the directive's namespace and dimension sets;
 * a target takes a metric once per directive even when two of its sets are the same. */
static sw_status
match(line_ctx *c, const char *ns, const cJSON *sets, const cJSON *def)
{
    const char *name = cJSON_GetObjectItemCaseSensitive(def, "Name")->valuestring;
    bool taken = false;
    for (size_t i = 0; i < c->m->n; i++) {
        const target *t = &c->m->t[i];
        if (strcmp(t->metric, name) != 0 || (t->ns != NULL && strcmp(t->ns, ns) != 0))
            continue;
        const cJSON *set;
        cJSON_ArrayForEach(set, sets) if (set_matches(c, t, set))
        {
            sw_status st = take(c, t, def);
            if (st != SW_OK)
                return st;
            taken = true;
            break;
        }
    }
    c->b->unmatched += !taken;
    return SW_OK;
}

static sw_status
check_def(const line_ctx *c, const cJSON *def)
{
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(def, "Name");
    const cJSON *unit = cJSON_GetObjectItemCaseSensitive(def, "Unit");
    if (!cJSON_IsObject(def) || !cJSON_IsString(name) || name->valuestring[0] == '\0' ||
        strlen(name->valuestring) > 255)
        return bad(c, "_aws.CloudWatchMetrics[].Metrics[].Name", "must be a string of 1 ... 255");
    if (unit != NULL && !cJSON_IsString(unit))
        return bad(c, name->valuestring, "Unit must be a string");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->root, name->valuestring);
    if (v == NULL)
        return bad(c, name->valuestring, "declared metric has no value member");
    return check_values(c, name->valuestring, v);
}

static sw_status
directive(line_ctx *c, const cJSON *d)
{
    const cJSON *ns = cJSON_GetObjectItemCaseSensitive(d, "Namespace");
    const cJSON *sets = cJSON_GetObjectItemCaseSensitive(d, "Dimensions");
    const cJSON *defs = cJSON_GetObjectItemCaseSensitive(d, "Metrics");
    if (!cJSON_IsString(ns) || ns->valuestring[0] == '\0' || strlen(ns->valuestring) > 255)
        return bad(c, "_aws.CloudWatchMetrics[].Namespace", "must be a string of 1 ... 255");
    if (!cJSON_IsArray(sets))
        return bad(c, "_aws.CloudWatchMetrics[].Dimensions", "must be a list of dimension sets");
    if (!cJSON_IsArray(defs) || cJSON_GetArraySize(defs) > 100)
        return bad(c, "_aws.CloudWatchMetrics[].Metrics", "must be a list of at most 100");
    const cJSON *x;
    sw_status st;
    cJSON_ArrayForEach(x, sets) if ((st = check_set(c, x)) != SW_OK) return st;
    cJSON_ArrayForEach(x, defs) if ((st = check_def(c, x)) != SW_OK) return st;
    cJSON_ArrayForEach(x, defs) if ((st = match(c, ns->valuestring, sets, x)) != SW_OK) return st;
    return SW_OK;
}

static sw_status
parse_line(line_ctx *c, const uint8_t *text, size_t len)
{
    cJSON *root;
    sw_status st = sw_json_parse(text, len, SW_EMF_LINE_MAX, 8, &root, c->err);
    if (st != SW_OK) {
        char why[SW_ERR_MSG_MAX] = "bad JSON";
        if (c->err != NULL)
            memcpy(why, c->err->msg, sizeof why);
        return sw_err_set(c->err, st, "line %zu: %s", c->line, why);
    }
    c->root = root;
    const cJSON *aws = cJSON_GetObjectItemCaseSensitive(root, "_aws");
    const cJSON *dirs = cJSON_GetObjectItemCaseSensitive(aws, "CloudWatchMetrics");
    if (!cJSON_IsObject(root) || !cJSON_IsObject(aws))
        st = bad(c, "_aws", "missing: not an EMF document");
    else if ((st = get_timestamp(c, aws)) == SW_OK && !cJSON_IsArray(dirs))
        st = bad(c, "_aws.CloudWatchMetrics", "must be a list of metric directives");
    const cJSON *d;
    if (st == SW_OK)
        cJSON_ArrayForEach(d, dirs) if ((st = directive(c, d)) != SW_OK) break;
    cJSON_Delete(root);
    return st;
}

static bool
blank(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return false;
    return true;
}

sw_status
sw_emf_parse(const sw_emf_map *m, const uint8_t *body, size_t len, sw_emf_batch *b, sw_err *err)
{
    b->n_items = b->n_values = b->lines = b->unmatched = 0;
    if (len > SW_EMF_BODY_MAX)
        return sw_err_set(err, SW_E_TOOBIG, "body of %zu bytes is over %zu", len, SW_EMF_BODY_MAX);
    line_ctx c = {.m = m, .b = b, .err = err};
    sw_status st = SW_OK;
    for (size_t pos = 0; pos < len && st == SW_OK;) {
        const uint8_t *nl = memchr(body + pos, '\n', len - pos);
        size_t n = nl != NULL ? (size_t)(nl - (body + pos)) : len - pos;
        c.line++;
        if (n > SW_EMF_LINE_MAX)
            st = sw_err_set(err, SW_E_TOOBIG, "line %zu: longer than %zu bytes", c.line,
                            SW_EMF_LINE_MAX);
        else if (!blank(body + pos, n)) {
            b->lines++;
            st = parse_line(&c, body + pos, n);
        }
        pos += n + 1;
    }
    if (st != SW_OK)
        b->n_items = b->n_values = b->lines = b->unmatched = 0;
    return st;
}
