/*
 * OpenSLO v1 `kind: SLO` documents mapped onto a rule set, as rules/OPENSLO.md describes:
 * ratio metrics become availability or error-rate objectives, threshold metrics latency
 * objectives, and plain Prometheus selectors the service's SLI sources. Called by rules.c
 * within one load: it allocates from that load's arena and reports through its diagnostics.
 */
#include "rules_int.h"

#include "slawatch/selector.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MS_PER_MINUTE INT64_C(60000)

static const char *const slo_keys[] = {"apiVersion", "kind", "metadata", "spec", NULL};
static const char *const metadata_keys[] = {"name", "displayName", "labels", "annotations", NULL};
static const char *const spec_keys[] = {"description",  "service",       "indicator",
                                        "indicatorRef", "timeWindow",    "budgetingMethod",
                                        "objectives",   "alertPolicies", NULL};
static const char *const indicator_keys[] = {"metadata", "spec", NULL};
static const char *const sli_spec_keys[] = {"description", "thresholdMetric", "ratioMetric", NULL};
static const char *const ratio_keys[] = {"counter", "good", "bad", "total", "rawType", "raw", NULL};
static const char *const metric_keys[] = {"metricSource", NULL};
static const char *const source_keys[] = {"metricSourceRef", "type", "spec", NULL};
static const char *const window_keys[] = {"duration", "isRolling", "calendar", NULL};
static const char *const calendar_keys[] = {"startTime", "timeZone", NULL};
static const char *const objective_keys[] = {
    "displayName",     "op", "value", "target", "targetPercent", "timeSliceTarget",
    "timeSliceWindow", NULL};

typedef enum indicator_kind { IND_NONE, IND_GOOD, IND_BAD, IND_THRESHOLD } indicator_kind;

/* What all the documents have said so far: one service and every objective. */
typedef struct openslo {
    sw_rules_loader *ld;
    sw_service *service;
    sw_objective *objectives;
    size_t n_objectives, cap_objectives;
} openslo;

/* One SLO document, as far as its objectives need it. */
typedef struct slo {
    const char *name;
    const sw_yaml_node *name_node;
    const sw_yaml_node *budgeting_node;
    indicator_kind kind;
    bool seconds; /* threshold values in seconds (the metric says so), else milliseconds */
    sw_window_spec window;
    sw_budgeting budgeting;
} slo;

bool
sw_rules_is_openslo(const sw_yaml_node *root)
{
    if (root->kind == SW_YAML_SEQUENCE && root->n > 0)
        root = root->items[0];
    const sw_yaml_node *v = sw_yaml_get(root, "apiVersion");
    /* Any openslo/ version counts, so v1alpha or v2 files get a message naming openslo/v1. */
    return v != NULL && v->kind == SW_YAML_SCALAR && v->len >= 8 &&
           memcmp(v->str, "openslo/", 8) == 0;
}

static bool
is_text(const sw_yaml_node *node)
{
    return node->kind == SW_YAML_SCALAR && !sw_yaml_is_null(node);
}

static bool
contains(const char *s, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(s + i, needle, n) == 0)
            return true;
    return false;
}

/* duration-shorthand: a positive integer and one of m h d w M Q Y. */
static bool
parse_shorthand(const sw_yaml_node *node, int64_t *ret_n, char *ret_unit)
{
    int64_t n = 0;
    if (!is_text(node) || node->len < 2 || node->len > 10 ||
        strchr("mhdwMQY", node->str[node->len - 1]) == NULL || node->str[node->len - 1] == 0)
        return false;
    for (size_t i = 0; i + 1 < node->len; i++) {
        if (node->str[i] < '0' || node->str[i] > '9')
            return false;
        n = n * 10 + (node->str[i] - '0');
    }
    *ret_n = n;
    *ret_unit = node->str[node->len - 1];
    return n > 0;
}

static int64_t
unit_ms(char unit)
{
    switch (unit) {
    case 'h':
        return 60 * MS_PER_MINUTE;
    case 'd':
        return 24 * 60 * MS_PER_MINUTE;
    case 'w':
        return 7 * 24 * 60 * MS_PER_MINUTE;
    default:
        return MS_PER_MINUTE;
    }
}

/* ---- indicators --------------------------------------------------------------------------- */

/* The spec.query of a Prometheus metricSource, or NULL for other sources (they are no SLI
 * source slawatch can read; the objective still applies). */
static const sw_yaml_node *
prometheus_query(openslo *os, const sw_yaml_node *node)
{
    const sw_yaml_node *ms, *type, *spec, *query;
    if (!sw_rules_check_map(os->ld, node, "metric", metric_keys) ||
        (ms = sw_rules_require(os->ld, node, "metricSource", "metric")) == NULL ||
        !sw_rules_check_map(os->ld, ms, "metricSource", source_keys))
        return NULL;
    type = sw_yaml_get(ms, "type");
    if (type == NULL || type->kind != SW_YAML_SCALAR || type->len != 10 ||
        strncasecmp(type->str, "prometheus", 10) != 0)
        return NULL;
    spec = sw_yaml_get(ms, "spec");
    query = spec != NULL ? sw_yaml_get(spec, "query") : NULL;
    if (query == NULL || !is_text(query)) {
        sw_rules_error(os->ld, spec != NULL ? spec : ms,
                       "expected spec.query (a PromQL "
                       "selector) in a Prometheus metricSource");
        return NULL;
    }
    return query;
}

/* A query that is a plain series selector becomes the service's source; one per SLI. */
static void
use_selector(openslo *os, const sw_yaml_node *query, sw_source *dst, const char *what)
{
    sw_status st = sw_selector_validate(query->str, query->len, NULL, NULL);
    if (st == SW_E_NOMEM)
        os->ld->nomem = true;
    if (st != SW_OK)
        return; /* a PromQL expression, not a selector */
    if (dst->kind == SW_SOURCE_PROMETHEUS) {
        if (strlen(dst->selector) != query->len || memcmp(dst->selector, query->str, query->len))
            sw_rules_error(os->ld, query,
                           "expected the %s selector given at line %u (one per "
                           "service), found a different one",
                           what, dst->pos.line);
        return;
    }
    dst->kind = SW_SOURCE_PROMETHEUS;
    dst->selector = sw_rules_strdup(os->ld, query->str, query->len);
    dst->pos = sw_rules_pos_of(os->ld, query);
}

static void
compile_ratio(openslo *os, const sw_yaml_node *node, slo *s)
{
    const sw_yaml_node *v, *good, *bad, *total;
    bool counter;
    if (!sw_rules_check_map(os->ld, node, "ratioMetric", ratio_keys))
        return;
    if ((v = sw_yaml_get(node, "counter")) != NULL)
        sw_rules_get_bool(os->ld, v, &counter);
    if ((v = sw_yaml_get(node, "raw")) != NULL || (v = sw_yaml_get(node, "rawType")) != NULL) {
        sw_rules_error(os->ld, v,
                       "expected good or bad with total: raw ratios are not "
                       "supported");
        return;
    }
    good = sw_yaml_get(node, "good");
    bad = sw_yaml_get(node, "bad");
    total = sw_rules_require(os->ld, node, "total", "ratioMetric");
    if (good != NULL && bad != NULL)
        sw_rules_error(os->ld, bad, "expected either good or bad, not both");
    else if (good == NULL && bad == NULL)
        sw_rules_error(os->ld, node, "missing key 'good' or 'bad' in ratioMetric");
    else
        s->kind = good != NULL ? IND_GOOD : IND_BAD;
    /* slawatch counts errors, not good events: a good query is checked but is no source. */
    if (good != NULL)
        prometheus_query(os, good);
    if (bad != NULL && (v = prometheus_query(os, bad)) != NULL)
        use_selector(os, v, &os->service->errors, "errors");
    if (total != NULL && (v = prometheus_query(os, total)) != NULL)
        use_selector(os, v, &os->service->requests, "requests");
}

static void
compile_threshold(openslo *os, const sw_yaml_node *node, slo *s)
{
    const sw_yaml_node *query = prometheus_query(os, node);
    s->kind = IND_THRESHOLD;
    if (query == NULL)
        return;
    /* Prometheus names carry their base unit: http_request_duration_seconds. */
    s->seconds = contains(query->str, query->len, "_seconds");
    use_selector(os, query, &os->service->latency, "latency");
}

static void
compile_indicator(openslo *os, const sw_yaml_node *node, slo *s)
{
    const sw_yaml_node *v, *spec, *ratio, *threshold;
    if (!sw_rules_check_map(os->ld, node, "indicator", indicator_keys))
        return;
    if ((v = sw_yaml_get(node, "metadata")) != NULL)
        sw_rules_check_map(os->ld, v, "indicator metadata", metadata_keys);
    spec = sw_rules_require(os->ld, node, "spec", "indicator");
    if (spec == NULL || !sw_rules_check_map(os->ld, spec, "indicator spec", sli_spec_keys))
        return;
    ratio = sw_yaml_get(spec, "ratioMetric");
    threshold = sw_yaml_get(spec, "thresholdMetric");
    if (ratio != NULL && threshold != NULL)
        sw_rules_error(os->ld, threshold,
                       "expected either ratioMetric or thresholdMetric, "
                       "not both");
    else if (ratio != NULL)
        compile_ratio(os, ratio, s);
    else if (threshold != NULL)
        compile_threshold(os, threshold, s);
    else
        sw_rules_error(os->ld, spec,
                       "missing key 'ratioMetric' or 'thresholdMetric' in "
                       "indicator spec");
}

/* ---- windows and budgeting ---------------------------------------------------------------- */

static void
window_duration(openslo *os, const sw_yaml_node *node, bool rolling, slo *s)
{
    int64_t n;
    char unit;
    if (!parse_shorthand(node, &n, &unit)) {
        sw_rules_error(os->ld, node,
                       "expected a duration shorthand (e.g. 28d, 1M) for "
                       "duration, found %s",
                       sw_rules_found(node).s);
        return;
    }
    if (!rolling) {
        if (n == 1 && unit == 'M')
            s->window.kind = SW_WINDOW_MONTH;
        else
            sw_rules_error(os->ld, node,
                           "expected 1M for a calendar window (slawatch's "
                           "calendar window is the month), found %s",
                           sw_rules_found(node).s);
        return;
    }
    if (strchr("MQY", unit) != NULL) {
        sw_rules_error(os->ld, node,
                       "expected a rolling duration in m, h, d or w (e.g. 28d), "
                       "found %s",
                       sw_rules_found(node).s);
        return;
    }
    s->window.kind = SW_WINDOW_ROLLING;
    s->window.length_ms = n * unit_ms(unit);
}

static void
compile_time_window(openslo *os, const sw_yaml_node *node, slo *s)
{
    const sw_yaml_node *w, *v, *cal;
    size_t n = node->kind == SW_YAML_SEQUENCE ? node->n : 0;
    if (!sw_rules_check_list(os->ld, node, "time windows"))
        return;
    if (n != 1) {
        sw_rules_error(os->ld, node, "expected exactly one item in timeWindow, found %zu", n);
        return;
    }
    w = node->items[0];
    if (!sw_rules_check_map(os->ld, w, "timeWindow", window_keys))
        return;
    /* The calendar's start and zone are accepted; slawatch's months are UTC months. */
    cal = sw_yaml_get(w, "calendar");
    if (cal != NULL)
        sw_rules_check_map(os->ld, cal, "calendar", calendar_keys);
    bool rolling = cal == NULL;
    if ((v = sw_yaml_get(w, "isRolling")) != NULL && sw_rules_get_bool(os->ld, v, &rolling) &&
        rolling && cal != NULL)
        sw_rules_error(os->ld, v, "expected isRolling: false with a calendar");
    if ((v = sw_rules_require(os->ld, w, "duration", "timeWindow")) != NULL)
        window_duration(os, v, rolling, s);
}

static void
compile_budgeting(openslo *os, const sw_yaml_node *node, slo *s)
{
    s->budgeting_node = node;
    if (sw_rules_is(node, "Occurrences"))
        s->budgeting = SW_BUDGET_EVENTS;
    else if (sw_rules_is(node, "Timeslices"))
        s->budgeting = SW_BUDGET_TIMESLICES;
    else
        sw_rules_error(os->ld, node,
                       "expected Occurrences or Timeslices for budgetingMethod, "
                       "found %s",
                       sw_rules_found(node).s);
}

/* ---- objectives --------------------------------------------------------------------------- */

static bool
parse_op(openslo *os, const sw_yaml_node *node, sw_op *ret)
{
    static const struct {
        const char *name;
        sw_op op;
    } ops[] = {{"lt", SW_OP_LT}, {"lte", SW_OP_LE}, {"gt", SW_OP_GT}, {"gte", SW_OP_GE}};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (sw_rules_is(node, ops[i].name)) {
            *ret = ops[i].op;
            return true;
        }
    sw_rules_error(os->ld, node, "expected op lte, lt, gte or gt, found %s",
                   sw_rules_found(node).s);
    return false;
}

/* target in (0, 1) or targetPercent in (0, 100); *ret_percent is the target in percent. */
static bool
get_target(openslo *os, const sw_yaml_node *node, double *ret_percent)
{
    const sw_yaml_node *t = sw_yaml_get(node, "target"), *tp = sw_yaml_get(node, "targetPercent");
    double v;
    if (t != NULL && tp != NULL) {
        sw_rules_error(os->ld, tp, "expected either target or targetPercent, not both");
        return false;
    }
    if (t == NULL && tp == NULL) {
        sw_rules_error(os->ld, node, "missing key 'target' (or 'targetPercent') in objective");
        return false;
    }
    const sw_yaml_node *n = t != NULL ? t : tp;
    double scale = t != NULL ? 100 : 1;
    if (!sw_rules_get_number(
            os->ld, n, t != NULL ? "a target (e.g. 0.999)" : "a target percentage (e.g. 99.9)", &v))
        return false;
    if (v * scale <= 0 || v * scale >= 100) {
        sw_rules_error(os->ld, n, "expected a %s above 0 and below %s, found %s",
                       t != NULL ? "target" : "targetPercent", t != NULL ? "1" : "100",
                       sw_rules_found(n).s);
        return false;
    }
    *ret_percent = v * scale;
    return true;
}

static void
ratio_objective(openslo *os, const sw_yaml_node *node, const slo *s, double percent,
                sw_objective *o)
{
    const sw_yaml_node *v;
    sw_op op;
    double value;
    /* op and value belong to threshold metrics; on a ratio they are checked, then unused. */
    if ((v = sw_yaml_get(node, "op")) != NULL)
        parse_op(os, v, &op);
    if ((v = sw_yaml_get(node, "value")) != NULL)
        sw_rules_get_number(os->ld, v, "a number for value", &value);
    sw_condition c = {.pos = o->pos, .value = percent / 100};
    c.sli = s->kind == IND_GOOD ? SW_SLI_AVAILABILITY : SW_SLI_ERROR_RATE;
    c.op = s->kind == IND_GOOD ? SW_OP_GE : SW_OP_LE;
    if (s->kind == IND_BAD)
        c.value = 1 - c.value;
    o->objective = c;
}

static void
latency_objective(openslo *os, const sw_yaml_node *node, const slo *s, double percent,
                  sw_objective *o)
{
    const sw_yaml_node *opn = sw_rules_require(os->ld, node, "op", "objective");
    const sw_yaml_node *val = sw_rules_require(os->ld, node, "value", "objective");
    sw_op op;
    double v;
    bool ok = opn != NULL && parse_op(os, opn, &op);
    if (ok && op != SW_OP_LE && op != SW_OP_LT) {
        sw_rules_error(os->ld, opn, "expected op lte or lt for a latency threshold, found %s",
                       sw_rules_found(opn).s);
        ok = false;
    }
    if (val == NULL || !sw_rules_get_number(os->ld, val, "a latency threshold (a number)", &v))
        return;
    if (v <= 0) {
        sw_rules_error(os->ld, val, "expected a latency threshold above 0, found %s",
                       sw_rules_found(val).s);
        return;
    }
    /* Round away the binary noise of target * 100 (0.999 -> 99.9). */
    double percentile = round(percent * 1e9) / 1e9;
    if (ok)
        o->objective = (sw_condition){.sli = SW_SLI_LATENCY,
                                      .percentile = percentile,
                                      .op = op,
                                      .value = v * (s->seconds ? 1e6 : 1e3),
                                      .pos = o->pos};
}

/* timeSliceWindow: minutes as a plain number, or a duration shorthand in m, h, d or w. */
static void
slice_window(openslo *os, const sw_yaml_node *node, sw_objective *o)
{
    int64_t n;
    char unit;
    bool minutes = is_text(node) && node->len <= 9 && strspn(node->str, "0123456789") == node->len;
    if (minutes) {
        n = 0;
        for (size_t i = 0; i < node->len; i++)
            n = n * 10 + (node->str[i] - '0');
        unit = 'm';
    }
    if ((!minutes && !parse_shorthand(node, &n, &unit)) || n == 0 || strchr("MQY", unit) != NULL) {
        sw_rules_error(os->ld, node,
                       "expected minutes or a duration in m, h, d or w (e.g. 1m) "
                       "for timeSliceWindow, found %s",
                       sw_rules_found(node).s);
        return;
    }
    o->slice_ms = n * unit_ms(unit);
    int64_t window =
        o->window.kind == SW_WINDOW_MONTH ? 28 * 24 * 60 * MS_PER_MINUTE : o->window.length_ms;
    if (o->slice_ms > window)
        sw_rules_error(os->ld, node, "expected a timeSliceWindow no longer than the window");
}

/* A slice is good when its good ratio reaches timeSliceTarget: bad when error_rate > 1 - t. */
static void
slice_target(openslo *os, const sw_yaml_node *node, sw_objective *o)
{
    double t;
    if (!sw_rules_get_number(os->ld, node, "a share (e.g. 0.95) for timeSliceTarget", &t))
        return;
    if (t <= 0 || t > 1) {
        sw_rules_error(os->ld, node, "expected a timeSliceTarget above 0 and at most 1, found %s",
                       sw_rules_found(node).s);
        return;
    }
    sw_condition *bad = sw_rules_alloc(os->ld, 1, sizeof *bad);
    if (bad == NULL)
        return;
    *bad = (sw_condition){.sli = SW_SLI_ERROR_RATE,
                          .op = SW_OP_GT,
                          .value = 1 - t,
                          .pos = sw_rules_pos_of(os->ld, node)};
    o->bad_when = bad;
    o->n_bad_when = 1;
}

static void
objective_slices(openslo *os, const sw_yaml_node *node, const slo *s, sw_objective *o)
{
    const sw_yaml_node *tst = sw_yaml_get(node, "timeSliceTarget");
    const sw_yaml_node *tsw = sw_yaml_get(node, "timeSliceWindow");
    if (s->budgeting != SW_BUDGET_TIMESLICES || s->kind == IND_THRESHOLD) {
        if (tst != NULL)
            sw_rules_error(os->ld, tst,
                           "expected budgetingMethod Timeslices with "
                           "timeSliceTarget");
        if (tsw != NULL)
            sw_rules_error(os->ld, tsw,
                           "expected budgetingMethod Timeslices with "
                           "timeSliceWindow");
        return;
    }
    if (tst == NULL || tsw == NULL)
        sw_rules_error(os->ld, node,
                       "missing key '%s' in objective (Timeslices budgeting needs "
                       "it)",
                       tst == NULL ? "timeSliceTarget" : "timeSliceWindow");
    if (tst != NULL)
        slice_target(os, tst, o);
    if (tsw != NULL)
        slice_window(os, tsw, o);
}

/* One objective is named after its SLO; several are name-1, name-2 ... */
static void
objective_name(openslo *os, const slo *s, size_t index, sw_objective *o)
{
    char name[SW_RULES_MAX_NAME + 24];
    if (s->name == NULL)
        return;
    if (index > 0)
        snprintf(name, sizeof name, "%s-%zu", s->name, index);
    else
        snprintf(name, sizeof name, "%s", s->name);
    for (size_t i = 0; i + 1 < os->n_objectives; i++)
        if (os->objectives[i].name != NULL && strcmp(os->objectives[i].name, name) == 0) {
            sw_rules_error(os->ld, s->name_node,
                           "expected a unique objective name, found "
                           "'%s' again (first at line %u)",
                           sw_rules_show(name, strlen(name)).s, os->objectives[i].pos.line);
            return;
        }
    o->name = sw_rules_strdup(os->ld, name, strlen(name));
}

static void
compile_objective(openslo *os, const sw_yaml_node *node, const slo *s, size_t index)
{
    SW_REQUIRE(os->n_objectives < os->cap_objectives);
    sw_objective *o = &os->objectives[os->n_objectives++];
    double percent;
    o->pos = sw_rules_pos_of(os->ld, node);
    sw_rules_objective_defaults(os->ld, o);
    o->window = s->window;
    o->budgeting = s->budgeting;
    objective_name(os, s, index, o);
    if (!sw_rules_check_map(os->ld, node, "objective", objective_keys))
        return;
    bool target_ok = get_target(os, node, &percent);
    if (target_ok && s->kind == IND_THRESHOLD)
        latency_objective(os, node, s, percent, o);
    else if (target_ok && s->kind != IND_NONE)
        ratio_objective(os, node, s, percent, o);
    objective_slices(os, node, s, o);
}

static void
compile_objective_list(openslo *os, const sw_yaml_node *node, const slo *s)
{
    if (!sw_rules_check_list(os->ld, node, "objectives"))
        return;
    size_t n = node->kind == SW_YAML_SEQUENCE ? node->n : 0;
    if (n == 0) {
        sw_rules_error(os->ld, node, "expected at least one objective");
        return;
    }
    if (s->kind == IND_THRESHOLD && n > 1) {
        sw_rules_error(os->ld, node->items[1],
                       "expected one objective with a thresholdMetric "
                       "(as OpenSLO allows), found %zu",
                       n);
        return;
    }
    for (size_t i = 0; i < n; i++)
        compile_objective(os, node->items[i], s, n > 1 ? i + 1 : 0);
}

/* ---- documents ---------------------------------------------------------------------------- */

/* slawatch applies a file's objectives to all its services, so a file holds one service. */
static void
compile_service_name(openslo *os, const sw_yaml_node *node)
{
    const char *name;
    sw_service *svc = os->service;
    if (!sw_rules_get_name(os->ld, node, "a service", &name))
        return;
    if (svc->name == NULL) {
        svc->name = name;
        svc->pos = sw_rules_pos_of(os->ld, node);
    } else if (strcmp(svc->name, name) != 0) {
        sw_rules_error(os->ld, node,
                       "expected service '%s' as at line %u (one service per "
                       "file), found %s",
                       svc->name, svc->pos.line, sw_rules_found(node).s);
    }
}

static void
compile_spec(openslo *os, const sw_yaml_node *spec, slo *s)
{
    const sw_yaml_node *v, *ref = sw_yaml_get(spec, "indicatorRef");
    if (!sw_rules_check_map(os->ld, spec, "SLO spec", spec_keys))
        return;
    if (ref != NULL)
        sw_rules_error(os->ld, ref,
                       "expected an inline indicator: indicatorRef is not "
                       "supported");
    if ((v = sw_yaml_get(spec, "alertPolicies")) != NULL)
        sw_rules_error(os->ld, v,
                       "expected no alertPolicies: write slawatch alerts in a rules "
                       "file");
    if ((v = sw_rules_require(os->ld, spec, "service", "SLO spec")) != NULL)
        compile_service_name(os, v);
    if ((v = sw_yaml_get(spec, "indicator")) != NULL)
        compile_indicator(os, v, s);
    else if (ref == NULL)
        sw_rules_error(os->ld, spec, "missing key 'indicator' in SLO spec");
    if ((v = sw_yaml_get(spec, "timeWindow")) != NULL)
        compile_time_window(os, v, s);
    if ((v = sw_rules_require(os->ld, spec, "budgetingMethod", "SLO spec")) != NULL)
        compile_budgeting(os, v, s);
    if (s->kind == IND_THRESHOLD && s->budgeting == SW_BUDGET_TIMESLICES)
        sw_rules_error(os->ld, s->budgeting_node,
                       "expected Occurrences for a thresholdMetric: "
                       "Timeslices applies to ratio metrics only");
    if ((v = sw_rules_require(os->ld, spec, "objectives", "SLO spec")) != NULL)
        compile_objective_list(os, v, s);
}

static void
compile_slo(openslo *os, const sw_yaml_node *node)
{
    const sw_yaml_node *v;
    slo s = {.window = {.kind = SW_WINDOW_MONTH}};
    if (!sw_rules_check_map(os->ld, node, "SLO", slo_keys))
        return;
    if ((v = sw_rules_require(os->ld, node, "apiVersion", "SLO")) != NULL &&
        !sw_rules_is(v, "openslo/v1"))
        sw_rules_error(os->ld, v, "expected apiVersion openslo/v1, found %s", sw_rules_found(v).s);
    if ((v = sw_rules_require(os->ld, node, "kind", "SLO")) != NULL && !sw_rules_is(v, "SLO")) {
        sw_rules_error(os->ld, v, "expected kind SLO (with an inline indicator), found %s",
                       sw_rules_found(v).s);
        return;
    }
    const sw_yaml_node *meta = sw_rules_require(os->ld, node, "metadata", "SLO");
    if (meta != NULL && sw_rules_check_map(os->ld, meta, "metadata", metadata_keys) &&
        (s.name_node = sw_rules_require(os->ld, meta, "name", "metadata")) != NULL)
        sw_rules_get_name(os->ld, s.name_node, "an SLO", &s.name);
    if ((v = sw_rules_require(os->ld, node, "spec", "SLO")) != NULL)
        compile_spec(os, v, &s);
}

static void
count_objectives(openslo *os, const sw_yaml_node *node)
{
    const sw_yaml_node *list = sw_yaml_get(sw_yaml_get(node, "spec"), "objectives");
    if (list != NULL && list->kind == SW_YAML_SEQUENCE)
        os->cap_objectives += list->n;
}

/* Every object of every document: a document holds one object or a list of them. */
static void
each_object(openslo *os, const sw_yaml_doc *doc, void (*fn)(openslo *os, const sw_yaml_node *node))
{
    for (size_t i = 0; i < sw_yaml_doc_count(doc); i++) {
        const sw_yaml_node *root = sw_yaml_doc_root(doc, i);
        if (sw_yaml_is_null(root))
            continue; /* an empty document, as a trailing `---` leaves */
        if (root->kind != SW_YAML_SEQUENCE)
            fn(os, root);
        for (size_t j = 0; root->kind == SW_YAML_SEQUENCE && j < root->n; j++)
            fn(os, root->items[j]);
    }
}

void
sw_rules_openslo_compile(sw_rules_loader *ld, const sw_yaml_doc *doc, sw_rules *r)
{
    openslo os = {.ld = ld};
    each_object(&os, doc, count_objectives);
    if (os.cap_objectives > SW_RULES_MAX_LIST) {
        sw_rules_error(ld, sw_yaml_doc_root(doc, 0),
                       "expected at most %d objectives in all, "
                       "found %zu",
                       SW_RULES_MAX_LIST, os.cap_objectives);
        return;
    }
    os.service = sw_rules_alloc(ld, 1, sizeof *os.service);
    os.objectives = sw_rules_alloc(ld, os.cap_objectives, sizeof *os.objectives);
    if (os.service == NULL || (os.cap_objectives > 0 && os.objectives == NULL))
        return;
    each_object(&os, doc, compile_slo);
    r->services = os.service;
    r->n_services = 1;
    r->objectives = os.objectives;
    r->n_objectives = os.n_objectives;
    sw_rules_check_latency_order(ld, r);
}
