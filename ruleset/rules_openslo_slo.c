/*
 * What one OpenSLO v1 SLO or SLI says, as rules/OPENSLO.md maps it: ratio metrics become
 * availability or error-rate objectives, threshold metrics latency objectives, plain Prometheus
 * selectors the sources of the SLO's service, time windows and budgeting methods their slawatch
 * equivalents. The set (rules_openslo.c) resolves names across files and attaches the
 * objectives to a service; this file reads one object, reporting through its file's loader.
 */
#include "rules_openslo_int.h"

#include "slawatch/selector.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MS_PER_MINUTE INT64_C(60000)

static const char *const spec_keys[] = {"description",  "service",       "indicator",
                                        "indicatorRef", "timeWindow",    "budgetingMethod",
                                        "objectives",   "alertPolicies", NULL};
static const char *const metadata_keys[] = {"name", "displayName", "labels", "annotations", NULL};
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
prometheus_query(sw_rules_loader *ld, const sw_yaml_node *node)
{
    const sw_yaml_node *ms, *type, *spec, *query;
    if (!sw_rules_check_map(ld, node, "metric", metric_keys) ||
        (ms = sw_rules_require(ld, node, "metricSource", "metric")) == NULL ||
        !sw_rules_check_map(ld, ms, "metricSource", source_keys))
        return NULL;
    type = sw_yaml_get(ms, "type");
    if (type == NULL || type->kind != SW_YAML_SCALAR || type->len != 10 ||
        strncasecmp(type->str, "prometheus", 10) != 0)
        return NULL;
    spec = sw_yaml_get(ms, "spec");
    query = spec != NULL ? sw_yaml_get(spec, "query") : NULL;
    if (query == NULL || !is_text(query)) {
        sw_rules_error(ld, spec != NULL ? spec : ms,
                       "expected spec.query (a PromQL "
                       "selector) in a Prometheus metricSource");
        return NULL;
    }
    return query;
}

/* A query that is a plain series selector can be a service's source; a PromQL expression
 * cannot (NULL). */
static const sw_yaml_node *
selector_of(sw_rules_loader *ld, const sw_yaml_node *query)
{
    if (query == NULL)
        return NULL;
    sw_status st = sw_selector_validate(query->str, query->len, NULL, NULL);
    if (st == SW_E_NOMEM)
        ld->nomem = true;
    return st == SW_OK ? query : NULL;
}

static void
compile_ratio(sw_rules_loader *ld, const sw_yaml_node *node, openslo_sli *sli)
{
    const sw_yaml_node *v, *good, *bad, *total;
    bool counter;
    if (!sw_rules_check_map(ld, node, "ratioMetric", ratio_keys))
        return;
    if ((v = sw_yaml_get(node, "counter")) != NULL)
        sw_rules_get_bool(ld, v, &counter);
    if ((v = sw_yaml_get(node, "raw")) != NULL || (v = sw_yaml_get(node, "rawType")) != NULL) {
        sw_rules_error(ld, v,
                       "expected good or bad with total: raw ratios are not "
                       "supported");
        return;
    }
    good = sw_yaml_get(node, "good");
    bad = sw_yaml_get(node, "bad");
    total = sw_rules_require(ld, node, "total", "ratioMetric");
    if (good != NULL && bad != NULL)
        sw_rules_error(ld, bad, "expected either good or bad, not both");
    else if (good == NULL && bad == NULL)
        sw_rules_error(ld, node, "missing key 'good' or 'bad' in ratioMetric");
    else
        sli->kind = good != NULL ? IND_GOOD : IND_BAD;
    /* slawatch counts errors, not good events: a good query is checked but is no source. */
    if (good != NULL)
        prometheus_query(ld, good);
    if (bad != NULL)
        sli->errors = selector_of(ld, prometheus_query(ld, bad));
    if (total != NULL)
        sli->requests = selector_of(ld, prometheus_query(ld, total));
}

static void
compile_threshold(sw_rules_loader *ld, const sw_yaml_node *node, openslo_sli *sli)
{
    const sw_yaml_node *query = prometheus_query(ld, node);
    sli->kind = IND_THRESHOLD;
    if (query == NULL)
        return;
    /* Prometheus names carry their base unit: http_request_duration_seconds. */
    sli->seconds = contains(query->str, query->len, "_seconds");
    sli->latency = selector_of(ld, query);
}

void
sw_rules_openslo_compile_sli(sw_rules_loader *ld, const sw_yaml_node *spec, openslo_sli *ret)
{
    const sw_yaml_node *ratio, *threshold;
    *ret = (openslo_sli){.ld = ld};
    if (!sw_rules_check_map(ld, spec, "indicator spec", sli_spec_keys))
        return;
    ratio = sw_yaml_get(spec, "ratioMetric");
    threshold = sw_yaml_get(spec, "thresholdMetric");
    if (ratio != NULL && threshold != NULL)
        sw_rules_error(ld, threshold,
                       "expected either ratioMetric or thresholdMetric, "
                       "not both");
    else if (ratio != NULL)
        compile_ratio(ld, ratio, ret);
    else if (threshold != NULL)
        compile_threshold(ld, threshold, ret);
    else
        sw_rules_error(ld, spec,
                       "missing key 'ratioMetric' or 'thresholdMetric' in "
                       "indicator spec");
}

void
sw_rules_openslo_check_metadata(sw_rules_loader *ld, const sw_yaml_node *node, const char *what)
{
    sw_rules_check_map(ld, node, what, metadata_keys);
}

/* An SLO's inline indicator: metadata and the spec of an SLI. */
static void
compile_inline(sw_rules_loader *ld, const sw_yaml_node *node, openslo_sli *ret)
{
    const sw_yaml_node *v, *spec;
    *ret = (openslo_sli){.ld = ld};
    if (!sw_rules_check_map(ld, node, "indicator", indicator_keys))
        return;
    if ((v = sw_yaml_get(node, "metadata")) != NULL)
        sw_rules_openslo_check_metadata(ld, v, "indicator metadata");
    if ((spec = sw_rules_require(ld, node, "spec", "indicator")) != NULL)
        sw_rules_openslo_compile_sli(ld, spec, ret);
}

/* ---- windows and budgeting ---------------------------------------------------------------- */

static void
window_duration(sw_rules_loader *ld, const sw_yaml_node *node, bool rolling, slo *s)
{
    int64_t n;
    char unit;
    if (!parse_shorthand(node, &n, &unit)) {
        sw_rules_error(ld, node,
                       "expected a duration shorthand (e.g. 28d, 1M) for "
                       "duration, found %s",
                       sw_rules_found(node).s);
        return;
    }
    if (!rolling) {
        if (n == 1 && unit == 'M')
            s->window.kind = SW_WINDOW_MONTH;
        else
            sw_rules_error(ld, node,
                           "expected 1M for a calendar window (slawatch's "
                           "calendar window is the month), found %s",
                           sw_rules_found(node).s);
        return;
    }
    if (strchr("MQY", unit) != NULL) {
        sw_rules_error(ld, node,
                       "expected a rolling duration in m, h, d or w (e.g. 28d), "
                       "found %s",
                       sw_rules_found(node).s);
        return;
    }
    s->window.kind = SW_WINDOW_ROLLING;
    s->window.length_ms = n * unit_ms(unit);
}

static void
compile_time_window(sw_rules_loader *ld, const sw_yaml_node *node, slo *s)
{
    const sw_yaml_node *w, *v, *cal;
    size_t n = node->kind == SW_YAML_SEQUENCE ? node->n : 0;
    if (!sw_rules_check_list(ld, node, "time windows"))
        return;
    if (n != 1) {
        sw_rules_error(ld, node, "expected exactly one item in timeWindow, found %zu", n);
        return;
    }
    w = node->items[0];
    if (!sw_rules_check_map(ld, w, "timeWindow", window_keys))
        return;
    /* The calendar's start and zone are accepted; slawatch's months are UTC months. */
    cal = sw_yaml_get(w, "calendar");
    if (cal != NULL)
        sw_rules_check_map(ld, cal, "calendar", calendar_keys);
    bool rolling = cal == NULL;
    if ((v = sw_yaml_get(w, "isRolling")) != NULL && sw_rules_get_bool(ld, v, &rolling) &&
        rolling && cal != NULL)
        sw_rules_error(ld, v, "expected isRolling: false with a calendar");
    if ((v = sw_rules_require(ld, w, "duration", "timeWindow")) != NULL)
        window_duration(ld, v, rolling, s);
}

static void
compile_budgeting(sw_rules_loader *ld, const sw_yaml_node *node, slo *s)
{
    s->budgeting_node = node;
    if (sw_rules_is(node, "Occurrences"))
        s->budgeting = SW_BUDGET_EVENTS;
    else if (sw_rules_is(node, "Timeslices"))
        s->budgeting = SW_BUDGET_TIMESLICES;
    else
        sw_rules_error(ld, node,
                       "expected Occurrences or Timeslices for budgetingMethod, "
                       "found %s",
                       sw_rules_found(node).s);
}

/* ---- objectives --------------------------------------------------------------------------- */

static bool
parse_op(sw_rules_loader *ld, const sw_yaml_node *node, sw_op *ret)
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
    sw_rules_error(ld, node, "expected op lte, lt, gte or gt, found %s", sw_rules_found(node).s);
    return false;
}

/* target in (0, 1) or targetPercent in (0, 100); *ret_percent is the target in percent. */
static bool
get_target(sw_rules_loader *ld, const sw_yaml_node *node, double *ret_percent)
{
    const sw_yaml_node *t = sw_yaml_get(node, "target"), *tp = sw_yaml_get(node, "targetPercent");
    double v;
    if (t != NULL && tp != NULL) {
        sw_rules_error(ld, tp, "expected either target or targetPercent, not both");
        return false;
    }
    if (t == NULL && tp == NULL) {
        sw_rules_error(ld, node, "missing key 'target' (or 'targetPercent') in objective");
        return false;
    }
    const sw_yaml_node *n = t != NULL ? t : tp;
    double scale = t != NULL ? 100 : 1;
    if (!sw_rules_get_number(
            ld, n, t != NULL ? "a target (e.g. 0.999)" : "a target percentage (e.g. 99.9)", &v))
        return false;
    if (v * scale <= 0 || v * scale >= 100) {
        sw_rules_error(ld, n, "expected a %s above 0 and below %s, found %s",
                       t != NULL ? "target" : "targetPercent", t != NULL ? "1" : "100",
                       sw_rules_found(n).s);
        return false;
    }
    *ret_percent = v * scale;
    return true;
}

static void
ratio_objective(sw_rules_loader *ld, const sw_yaml_node *node, const slo *s, double percent,
                sw_objective *o)
{
    const sw_yaml_node *v;
    sw_op op;
    double value;
    /* op and value belong to threshold metrics; on a ratio they are checked, then unused. */
    if ((v = sw_yaml_get(node, "op")) != NULL)
        parse_op(ld, v, &op);
    if ((v = sw_yaml_get(node, "value")) != NULL)
        sw_rules_get_number(ld, v, "a number for value", &value);
    sw_condition c = {.pos = o->pos, .value = percent / 100};
    c.sli = s->kind == IND_GOOD ? SW_SLI_AVAILABILITY : SW_SLI_ERROR_RATE;
    c.op = s->kind == IND_GOOD ? SW_OP_GE : SW_OP_LE;
    if (s->kind == IND_BAD)
        c.value = 1 - c.value;
    o->objective = c;
}

static void
latency_objective(sw_rules_loader *ld, const sw_yaml_node *node, const slo *s, double percent,
                  sw_objective *o)
{
    const sw_yaml_node *opn = sw_rules_require(ld, node, "op", "objective");
    const sw_yaml_node *val = sw_rules_require(ld, node, "value", "objective");
    sw_op op;
    double v;
    bool ok = opn != NULL && parse_op(ld, opn, &op);
    if (ok && op != SW_OP_LE && op != SW_OP_LT) {
        sw_rules_error(ld, opn, "expected op lte or lt for a latency threshold, found %s",
                       sw_rules_found(opn).s);
        ok = false;
    }
    if (val == NULL || !sw_rules_get_number(ld, val, "a latency threshold (a number)", &v))
        return;
    if (v <= 0) {
        sw_rules_error(ld, val, "expected a latency threshold above 0, found %s",
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
slice_window(sw_rules_loader *ld, const sw_yaml_node *node, sw_objective *o)
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
        sw_rules_error(ld, node,
                       "expected minutes or a duration in m, h, d or w (e.g. 1m) "
                       "for timeSliceWindow, found %s",
                       sw_rules_found(node).s);
        return;
    }
    o->slice_ms = n * unit_ms(unit);
    int64_t window =
        o->window.kind == SW_WINDOW_MONTH ? 28 * 24 * 60 * MS_PER_MINUTE : o->window.length_ms;
    if (o->slice_ms > window)
        sw_rules_error(ld, node, "expected a timeSliceWindow no longer than the window");
}

/* A slice is good when its good ratio reaches timeSliceTarget: bad when error_rate > 1 - t. */
static void
slice_target(sw_rules_loader *ld, const sw_yaml_node *node, sw_objective *o)
{
    double t;
    if (!sw_rules_get_number(ld, node, "a share (e.g. 0.95) for timeSliceTarget", &t))
        return;
    if (t <= 0 || t > 1) {
        sw_rules_error(ld, node, "expected a timeSliceTarget above 0 and at most 1, found %s",
                       sw_rules_found(node).s);
        return;
    }
    sw_condition *bad = sw_rules_alloc(ld, 1, sizeof *bad);
    if (bad == NULL)
        return;
    *bad = (sw_condition){
        .sli = SW_SLI_ERROR_RATE, .op = SW_OP_GT, .value = 1 - t, .pos = sw_rules_pos_of(ld, node)};
    o->bad_when = bad;
    o->n_bad_when = 1;
}

static void
objective_slices(sw_rules_loader *ld, const sw_yaml_node *node, const slo *s, sw_objective *o)
{
    const sw_yaml_node *tst = sw_yaml_get(node, "timeSliceTarget");
    const sw_yaml_node *tsw = sw_yaml_get(node, "timeSliceWindow");
    if (s->budgeting != SW_BUDGET_TIMESLICES || s->kind == IND_THRESHOLD) {
        if (tst != NULL)
            sw_rules_error(ld, tst,
                           "expected budgetingMethod Timeslices with "
                           "timeSliceTarget");
        if (tsw != NULL)
            sw_rules_error(ld, tsw,
                           "expected budgetingMethod Timeslices with "
                           "timeSliceWindow");
        return;
    }
    if (tst == NULL || tsw == NULL)
        sw_rules_error(ld, node,
                       "missing key '%s' in objective (Timeslices budgeting needs "
                       "it)",
                       tst == NULL ? "timeSliceTarget" : "timeSliceWindow");
    if (tst != NULL)
        slice_target(ld, tst, o);
    if (tsw != NULL)
        slice_window(ld, tsw, o);
}

/* One objective is named after its SLO; several are name-1, name-2 ... */
static void
objective_name(sw_rules_loader *ld, const slo *s, size_t index, sw_objective *o)
{
    char name[SW_RULES_MAX_NAME + 24];
    if (s->name == NULL)
        return;
    if (index > 0)
        snprintf(name, sizeof name, "%s-%zu", s->name, index);
    else
        snprintf(name, sizeof name, "%s", s->name);
    o->name = sw_rules_strdup(ld, name, strlen(name));
}

static void
compile_objective(sw_rules_loader *ld, const sw_yaml_node *node, const slo *s, size_t index,
                  sw_objective *o)
{
    double percent;
    o->pos = sw_rules_pos_of(ld, node);
    sw_rules_objective_defaults(ld, o);
    o->window = s->window;
    o->budgeting = s->budgeting;
    objective_name(ld, s, index, o);
    if (!sw_rules_check_map(ld, node, "objective", objective_keys))
        return;
    bool target_ok = get_target(ld, node, &percent);
    if (target_ok && s->kind == IND_THRESHOLD)
        latency_objective(ld, node, s, percent, o);
    else if (target_ok && s->kind != IND_NONE)
        ratio_objective(ld, node, s, percent, o);
    objective_slices(ld, node, s, o);
}

/* The SLO's objectives, in the arena (NULL, *ret_n 0 after an error). */
static sw_objective *
compile_objective_list(sw_rules_loader *ld, const sw_yaml_node *node, const slo *s, size_t *ret_n)
{
    *ret_n = 0;
    if (!sw_rules_check_list(ld, node, "objectives"))
        return NULL;
    size_t n = node->kind == SW_YAML_SEQUENCE ? node->n : 0;
    if (n == 0) {
        sw_rules_error(ld, node, "expected at least one objective");
        return NULL;
    }
    if (s->kind == IND_THRESHOLD && n > 1) {
        sw_rules_error(ld, node->items[1],
                       "expected one objective with a thresholdMetric "
                       "(as OpenSLO allows), found %zu",
                       n);
        return NULL;
    }
    sw_objective *objectives = sw_rules_alloc(ld, n, sizeof *objectives);
    for (size_t i = 0; objectives != NULL && i < n; i++)
        compile_objective(ld, node->items[i], s, n > 1 ? i + 1 : 0, &objectives[i]);
    *ret_n = objectives != NULL ? n : 0;
    return objectives;
}

/* ---- the SLO ------------------------------------------------------------------------------ */

/* The indicator, inline or by indicatorRef; NULL after an error. */
static const openslo_sli *
slo_indicator(openslo_set *set, const openslo_object *obj, const sw_yaml_node *spec,
              openslo_sli *inline_sli)
{
    sw_rules_loader *ld = obj->ld;
    const sw_yaml_node *ind = sw_yaml_get(spec, "indicator");
    const sw_yaml_node *ref = sw_yaml_get(spec, "indicatorRef");
    if (ind != NULL && ref != NULL) {
        sw_rules_error(ld, sw_rules_key_of(spec, "indicatorRef"),
                       "expected either indicator or indicatorRef, not both");
        return NULL;
    }
    if (ref != NULL)
        return sw_rules_openslo_sli_ref(set, obj, ref);
    if (ind == NULL) {
        sw_rules_error(ld, spec, "missing key 'indicator' (or 'indicatorRef') in SLO spec");
        return NULL;
    }
    compile_inline(ld, ind, inline_sli);
    return inline_sli;
}

void
sw_rules_openslo_compile_slo(openslo_set *set, const openslo_object *obj)
{
    sw_rules_loader *ld = obj->ld;
    const sw_yaml_node *v, *spec = sw_rules_require(ld, obj->node, "spec", "SLO");
    slo s = {.name = obj->name, .name_node = obj->name_node, .window = {.kind = SW_WINDOW_MONTH}};
    openslo_sli inline_sli;
    ptrdiff_t service = -1;
    if (spec == NULL || !sw_rules_check_map(ld, spec, "SLO spec", spec_keys))
        return;
    if ((v = sw_yaml_get(spec, "alertPolicies")) != NULL)
        sw_rules_error(ld, sw_rules_key_of(spec, "alertPolicies"),
                       "unsupported OpenSLO field alertPolicies: write slawatch alerts in a "
                       "rules file");
    if ((v = sw_rules_require(ld, spec, "service", "SLO spec")) != NULL)
        service = sw_rules_openslo_service(set, obj, v);
    const openslo_sli *sli = slo_indicator(set, obj, spec, &inline_sli);
    if (sli != NULL) {
        s.kind = sli->kind;
        s.seconds = sli->seconds;
        if (service >= 0)
            sw_rules_openslo_use_sli(set, (size_t)service, sli);
    }
    if ((v = sw_yaml_get(spec, "timeWindow")) != NULL)
        compile_time_window(ld, v, &s);
    if ((v = sw_rules_require(ld, spec, "budgetingMethod", "SLO spec")) != NULL)
        compile_budgeting(ld, v, &s);
    if (s.kind == IND_THRESHOLD && s.budgeting == SW_BUDGET_TIMESLICES)
        sw_rules_error(ld, s.budgeting_node,
                       "expected Occurrences for a thresholdMetric: "
                       "Timeslices applies to ratio metrics only");
    size_t n = 0;
    sw_objective *objectives = NULL;
    if ((v = sw_rules_require(ld, spec, "objectives", "SLO spec")) != NULL)
        objectives = compile_objective_list(ld, v, &s, &n);
    if (service >= 0 && n > 0)
        sw_rules_openslo_attach(set, obj, (size_t)service, objectives, n);
}
