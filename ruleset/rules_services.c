/*
 * The rules format's services: their SLIs' sources (prometheus, cloudwatch, probe, push),
 * environments and maintenance windows.
 */
#include "rules_int.h"

#include "slawatch/buf.h"
#include "slawatch/selector.h"
#include "slawatch/units.h"

#include <math.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DIMENSIONS 30 /* CloudWatch's own limit */

static const char *const service_keys[] = {"name",    "environments",
                                           "sli",     "maintenance",
                                           "profile", "objectives",
                                           "alerts",  "rollback_triggers",
                                           "gate",    "drop",
                                           "by",      "by_limit",
                                           "by_idle", NULL};

static const char *const sli_keys[] = {"requests", "errors", "latency", "health", NULL};

static const char *const source_keys[] = {"prometheus", "cloudwatch", "probe", "push", NULL};

static const char *const cloudwatch_keys[] = {"namespace",  "metric", "stat",
                                              "dimensions", "preset", NULL};

static const char *const probe_keys[] = {"url", "every", "timeout", "expect_status", NULL};

static const char *const maintenance_keys[] = {"start", "end", "reason", NULL};

/* ---- sources ------------------------------------------------------------------------------ */

static void
compile_prometheus(sw_rules_loader *ld, const sw_yaml_node *node, sw_source *src)
{
    size_t off = 0;
    sw_err err = {0};
    if (!sw_rules_is_text(node)) {
        sw_rules_error(ld, node, "expected a Prometheus series selector, found %s",
                       sw_rules_found(node).s);
        return;
    }
    sw_status st = sw_selector_validate(node->str, node->len, &off, &err);
    if (st == SW_E_NOMEM)
        ld->nomem = true;
    else if (st == SW_E_PARSE)
        sw_rules_error_in(ld, node, off, "selector: %s", err.msg);
    else if (st != SW_OK)
        sw_rules_error(ld, node, "selector: %s", err.msg);
    src->kind = SW_SOURCE_PROMETHEUS;
    src->selector = sw_rules_strdup(ld, node->str, node->len);
}

static bool
valid_stat(const sw_yaml_node *node)
{
    static const char *const stats[] = {"Sum", "SampleCount", "Average", "Minimum", "Maximum"};
    double p;
    for (size_t i = 0; i < sizeof stats / sizeof stats[0]; i++)
        if (sw_rules_is(node, stats[i]))
            return true;
    return sw_rules_is_text(node) && node->len > 1 && node->str[0] == 'p' &&
           sw_units_parse_number(node->str + 1, node->len - 1, &p) && p > 0 && p <= 100;
}

static void
compile_dimensions(sw_rules_loader *ld, const sw_yaml_node *node, sw_source *src)
{
    if (node->kind != SW_YAML_MAPPING || node->n > MAX_DIMENSIONS) {
        sw_rules_error(ld, node,
                       "expected a mapping of at most %d dimensions (Name: value), "
                       "found %s",
                       MAX_DIMENSIONS, sw_rules_found(node).s);
        return;
    }
    sw_label *dims = sw_rules_alloc(ld, node->n, sizeof *dims);
    for (size_t i = 0; dims != NULL && i < node->n; i++) {
        const sw_yaml_node *k = node->pairs[i].key, *v = node->pairs[i].value;
        sw_rules_get_text(ld, k, "a dimension name", &dims[i].name);
        sw_rules_get_text(ld, v, "a dimension value", &dims[i].value);
    }
    src->dimensions = dims;
    src->n_dimensions = dims != NULL ? node->n : 0;
}

static void
compile_cw_metric(sw_rules_loader *ld, const sw_yaml_node *node, sw_source *src)
{
    const sw_yaml_node *v;
    if ((v = sw_rules_require(ld, node, "namespace", "cloudwatch")) != NULL)
        sw_rules_get_text(ld, v, "a CloudWatch namespace", &src->cw_namespace);
    if ((v = sw_rules_require(ld, node, "metric", "cloudwatch")) != NULL)
        sw_rules_get_text(ld, v, "a CloudWatch metric name", &src->cw_metric);
    if ((v = sw_rules_require(ld, node, "stat", "cloudwatch")) == NULL)
        return;
    if (valid_stat(v))
        src->cw_stat = sw_rules_strdup(ld, v->str, v->len);
    else
        sw_rules_error(ld, v,
                       "expected a statistic (Sum, SampleCount, Average, Minimum, "
                       "Maximum or pNN), found %s",
                       sw_rules_found(v).s);
}

static void
compile_cw_preset(sw_rules_loader *ld, const sw_yaml_node *node, const sw_yaml_node *preset,
                  sw_source *src)
{
    static const char *const own[] = {"namespace", "metric", "stat"};
    if (sw_rules_is(preset, "alb") || sw_rules_is(preset, "apigateway") ||
        sw_rules_is(preset, "lambda"))
        src->preset = sw_rules_strdup(ld, preset->str, preset->len);
    else
        sw_rules_error(ld, preset, "expected a preset (alb, apigateway or lambda), found %s",
                       sw_rules_found(preset).s);
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++) {
        const sw_yaml_node *k = sw_rules_key_of(node, own[i]);
        if (k != NULL)
            sw_rules_error(ld, k, "expected either a preset or %s, not both", own[i]);
    }
    if (sw_yaml_get(node, "dimensions") == NULL)
        sw_rules_error(ld, node, "missing key 'dimensions' in cloudwatch (a preset needs them)");
}

static void
compile_cloudwatch(sw_rules_loader *ld, const sw_yaml_node *node, sw_source *src)
{
    src->kind = SW_SOURCE_CLOUDWATCH;
    if (!sw_rules_check_map(ld, node, "cloudwatch", cloudwatch_keys))
        return;
    const sw_yaml_node *preset = sw_yaml_get(node, "preset"), *dims;
    if (preset != NULL)
        compile_cw_preset(ld, node, preset, src);
    else
        compile_cw_metric(ld, node, src);
    if ((dims = sw_yaml_get(node, "dimensions")) != NULL)
        compile_dimensions(ld, dims, src);
}

static bool
is_http_url(const sw_yaml_node *node)
{
    size_t n = node->len;
    const char *s = node->str;
    bool http = n > 7 && memcmp(s, "http://", 7) == 0;
    bool https = n > 8 && memcmp(s, "https://", 8) == 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f)
            return false;
    return sw_rules_is_text(node) && (http || https);
}

static void
compile_probe(sw_rules_loader *ld, const sw_yaml_node *node, sw_source *src)
{
    const sw_yaml_node *v;
    int64_t status = 200;
    src->kind = SW_SOURCE_PROBE;
    src->every_ms = 10000;
    src->timeout_ms = 2000;
    if (!sw_rules_check_map(ld, node, "probe", probe_keys))
        return;
    if ((v = sw_rules_require(ld, node, "url", "probe")) != NULL && !is_http_url(v))
        sw_rules_error(ld, v, "expected an http:// or https:// URL, found %s", sw_rules_found(v).s);
    else if (v != NULL)
        src->url = sw_rules_strdup(ld, v->str, v->len);
    if ((v = sw_yaml_get(node, "every")) != NULL)
        sw_rules_get_duration(ld, v, "every", false, &src->every_ms);
    if ((v = sw_yaml_get(node, "timeout")) != NULL &&
        sw_rules_get_duration(ld, v, "timeout", false, &src->timeout_ms) &&
        src->timeout_ms > src->every_ms)
        sw_rules_error(ld, v,
                       "expected a timeout no longer than every, as Prometheus requires "
                       "of scrape timeouts");
    if ((v = sw_yaml_get(node, "expect_status")) != NULL)
        sw_rules_get_int(ld, v, "an HTTP status (100-599) for expect_status", 100, 599, &status);
    src->expect_status = (int)status;
}

/* Exactly one of prometheus, cloudwatch, probe or push; a probe measures health only. */
static void
compile_source(sw_rules_loader *ld, const sw_yaml_node *node, const char *sli, sw_source *src)
{
    char what[32];
    const sw_yaml_node *v;
    snprintf(what, sizeof what, "sli %s", sli);
    src->pos = sw_rules_pos_of(ld, node);
    if (!sw_rules_check_map(ld, node, what, source_keys))
        return;
    size_t given = 0;
    for (size_t i = 0; source_keys[i] != NULL; i++)
        given += sw_yaml_get(node, source_keys[i]) != NULL;
    if (given != 1) {
        sw_rules_error(ld, node,
                       "expected exactly one source in %s (prometheus, cloudwatch, "
                       "probe or push), found %zu",
                       what, given);
        return;
    }
    if ((v = sw_yaml_get(node, "prometheus")) != NULL)
        compile_prometheus(ld, v, src);
    else if ((v = sw_yaml_get(node, "cloudwatch")) != NULL)
        compile_cloudwatch(ld, v, src);
    else if ((v = sw_yaml_get(node, "probe")) != NULL && strcmp(sli, "health") != 0)
        sw_rules_error(ld, v,
                       "expected prometheus, cloudwatch or push for %s: a probe "
                       "measures health only",
                       sli);
    else if (v != NULL)
        compile_probe(ld, v, src);
    else if (!sw_rules_is(v = sw_yaml_get(node, "push"), "true"))
        sw_rules_error(ld, v, "expected true for push, found %s", sw_rules_found(v).s);
    else
        src->kind = SW_SOURCE_PUSH;
}

/* ---- services ----------------------------------------------------------------------------- */

/* Index of the first of items[0..n) called name, or -1; each item starts with its name. */
ptrdiff_t
sw_rules_find_name(const void *items, size_t n, size_t stride, const char *name)
{
    for (size_t i = 0; name != NULL && i < n; i++) {
        const char *have = *(const char *const *)(const void *)((const char *)items + i * stride);
        if (have != NULL && strcmp(have, name) == 0)
            return (ptrdiff_t)i;
    }
    return -1;
}

/* Item i of items must not share its name with an earlier one (pos at pos_off in each). */
void
sw_rules_check_duplicate(sw_rules_loader *ld, const sw_yaml_node *item, const void *items, size_t i,
                         size_t stride, size_t pos_off, const char *what)
{
    const char *name = *(const char *const *)(const void *)((const char *)items + i * stride);
    ptrdiff_t j = sw_rules_find_name(items, i, stride, name);
    if (j < 0)
        return;
    const sw_rules_pos *first = (const void *)((const char *)items + (size_t)j * stride + pos_off);
    const sw_yaml_node *at = sw_yaml_get(item, "name");
    sw_rules_error(ld, at != NULL ? at : item,
                   "expected a unique %s name, found '%s' again "
                   "(first at line %u)",
                   what, sw_rules_show(name, strlen(name)).s, first->line);
}

static void
compile_sli(sw_rules_loader *ld, const sw_yaml_node *node, sw_service *s)
{
    sw_source *dst[] = {&s->requests, &s->errors, &s->latency, &s->health};
    size_t given = 0;
    if (!sw_rules_check_map(ld, node, "sli", sli_keys))
        return;
    for (size_t i = 0; sli_keys[i] != NULL; i++) {
        const sw_yaml_node *v = sw_yaml_get(node, sli_keys[i]);
        if (v != NULL) {
            compile_source(ld, v, sli_keys[i], dst[i]);
            given++;
        }
    }
    if (given == 0)
        sw_rules_error(ld, node,
                       "expected at least one source in sli (requests, errors, "
                       "latency or health)");
}

static void
compile_environments(sw_rules_loader *ld, const sw_yaml_node *node, sw_service *s)
{
    if (!sw_rules_check_list(ld, node, "environments"))
        return;
    size_t n = sw_rules_list_len(node);
    const char **envs = sw_rules_alloc(ld, n, sizeof *envs);
    for (size_t i = 0; envs != NULL && i < n; i++) {
        if (!sw_rules_get_name(ld, node->items[i], "an environment", &envs[i]))
            continue;
        for (size_t j = 0; j < i; j++)
            if (envs[j] != NULL && strcmp(envs[j], envs[i]) == 0) {
                sw_rules_error(ld, node->items[i],
                               "expected unique environments, found '%s' "
                               "again",
                               sw_rules_show(envs[i], strlen(envs[i])).s);
                break;
            }
    }
    s->environments = envs;
    s->n_environments = envs != NULL ? n : 0;
}

static void
compile_downtime(sw_rules_loader *ld, const sw_yaml_node *node, sw_maintenance *m)
{
    const sw_yaml_node *start, *end, *reason;
    if (!sw_rules_check_map(ld, node, "maintenance window", maintenance_keys))
        return;
    start = sw_rules_require(ld, node, "start", "maintenance window");
    end = sw_rules_require(ld, node, "end", "maintenance window");
    bool start_ok = start != NULL && sw_rules_get_time(ld, start, "start", &m->start_ms);
    if (end != NULL && sw_rules_get_time(ld, end, "end", &m->end_ms) && start_ok &&
        m->end_ms <= m->start_ms)
        sw_rules_error(ld, end, "expected an end after the start %s, found %s",
                       sw_rules_found(start).s, sw_rules_found(end).s);
    if ((reason = sw_yaml_get(node, "reason")) != NULL)
        sw_rules_get_text(ld, reason, "a reason", &m->reason);
}

static void
compile_maintenance(sw_rules_loader *ld, const sw_yaml_node *node, sw_service *s)
{
    if (!sw_rules_check_list(ld, node, "maintenance windows"))
        return;
    size_t n = sw_rules_list_len(node);
    sw_maintenance *m = sw_rules_alloc(ld, n, sizeof *m);
    for (size_t i = 0; m != NULL && i < n; i++)
        compile_downtime(ld, node->items[i], &m[i]);
    s->maintenance = m;
    s->n_maintenance = m != NULL ? n : 0;
}

static void
compile_service(sw_rules_loader *ld, const sw_yaml_node *node, const sw_rules *r, sw_service *s)
{
    const sw_yaml_node *v;
    s->pos = sw_rules_pos_of(ld, node);
    if (!sw_rules_check_map(ld, node, "service", service_keys))
        return;
    if ((v = sw_rules_require(ld, node, "name", "service")) != NULL)
        sw_rules_get_name(ld, v, "a service", &s->name);
    if ((v = sw_yaml_get(node, "environments")) != NULL)
        compile_environments(ld, v, s);
    if ((v = sw_rules_require(ld, node, "sli", "service")) != NULL)
        compile_sli(ld, v, s);
    if ((v = sw_yaml_get(node, "maintenance")) != NULL)
        compile_maintenance(ld, v, s);
    sw_rules_compile_by(ld, node, s);
    sw_rules_compile_own(ld, node, r, s);
}

void
sw_rules_compile_services(sw_rules_loader *ld, const sw_yaml_node *node, sw_rules *r)
{
    if (!sw_rules_check_list(ld, node, "services"))
        return;
    size_t n = sw_rules_list_len(node);
    if (n == 0) {
        sw_rules_error(ld, node, "expected at least one service");
        return;
    }
    sw_service *s = sw_rules_alloc(ld, n, sizeof *s);
    for (size_t i = 0; s != NULL && i < n; i++) {
        compile_service(ld, node->items[i], r, &s[i]);
        sw_rules_check_duplicate(ld, node->items[i], s, i, sizeof *s, offsetof(sw_service, pos),
                                 "service");
    }
    r->services = s;
    r->n_services = s != NULL ? n : 0;
}
