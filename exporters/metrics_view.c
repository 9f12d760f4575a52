/*
 * The /metrics view: every per-series answer /metrics shows from the evaluator (window SLIs,
 * objective results, alert, trigger and gate states), copied out of it with the names they
 * are shown under. Gathered while the evaluator may be read; written afterwards from the copy
 * alone, so a long render never keeps the tick from moving the evaluator on, nor meets rules
 * a reload has freed.
 */
#include "metrics_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "slawatch/units.h"

#define NO_STRING SIZE_MAX
#define STRINGS_MAX ((size_t)1 << 31)

/* Names are offsets into the view's strings: the buffer moves while it grows. */
typedef struct view_series {
    size_t service, env; /* the series' key (sw_rules_by_key) and environment (NO_STRING: none) */
    size_t name, label, value; /* its service's name; a by label and value (NO_STRING: none) */
    size_t first_objective, n_objectives;
    size_t first_alert, n_alerts;
    size_t first_trigger, n_triggers;
    sw_verdict verdict; /* over the rules' gate window */
} view_series;

typedef enum measured_unit { UNIT_SECONDS, UNIT_RATIO, UNIT_COUNT } measured_unit;

typedef struct view_objective {
    size_t name, window;
    measured_unit unit;
    sw_objective_result res; /* res.objective not kept: the rules may be gone */
} view_objective;

typedef struct view_alert {
    size_t name;
    const char *severity; /* a constant string */
    sw_alert_state state;
} view_alert;

typedef struct view_trigger {
    size_t name;
    bool fired;
} view_trigger;

typedef struct window_row {
    size_t series;
    sw_window_stats ws;
    double latency_sum;     /* the series' latency totals since start: the summary's _sum */
    uint64_t latency_count; /* and _count */
} window_row;

struct sw_metrics_view {
    const sw_rules *rules;      /* borrowed, for the live families only */
    const sw_metrics_input *in; /* borrowed, for the live families only */
    sw_buf strings;
    view_series *series;
    size_t n_series;
    window_row *rows; /* two per series: 5m, 1h */
    view_objective *objectives;
    view_alert *alerts;
    view_trigger *triggers;
    size_t n_objectives, n_alerts, n_triggers;
};

static const char *
str(const sw_metrics_view *v, size_t off)
{
    return off == NO_STRING ? NULL : (const char *)v->strings.data + off;
}

static sw_status
keep(sw_metrics_view *v, const char *s, size_t *ret, sw_err *err)
{
    *ret = v->strings.len;
    return sw_buf_append(&v->strings, s, strlen(s) + 1, err);
}

void
sw_metrics_view_free(sw_metrics_view *v)
{
    if (v == NULL)
        return;
    sw_buf_fini(&v->strings);
    free(v->series);
    free(v->rows);
    free(v->objectives);
    free(v->alerts);
    free(v->triggers);
    free(v);
}

/* ------------------------------------------------------------------ gathering */

static measured_unit
measured_unit_of(const sw_objective *o)
{
    switch (o->objective.sli) {
    case SW_SLI_LATENCY:
        return UNIT_SECONDS;
    case SW_SLI_AVAILABILITY:
    case SW_SLI_ERROR_RATE:
    case SW_SLI_HEALTH_SUCCESS:
    case SW_SLI_THROUGHPUT: /* the share of slices that reached the rate */
        return UNIT_RATIO;
    default:
        return UNIT_COUNT;
    }
}

static const char *
window_text(const sw_window_spec *w, char *out, size_t cap)
{
    if (w->kind == SW_WINDOW_MONTH)
        return "month";
    sw_units_format_duration(w->length_ms, out, cap);
    return out;
}

/* The series before shares its rule set's lists: its names are reused, not copied again. */
typedef struct set_cache {
    const sw_objective *objectives;
    const sw_alert *alerts, *triggers;
    size_t n_objectives, n_alerts, n_triggers;
    size_t first_objective, first_alert, first_trigger;
} set_cache;

static sw_status
gather_objectives(sw_metrics_view *v, const sw_series_result *sr, set_cache *c, sw_err *err)
{
    const sw_rules *r = sr->rules;
    bool same = c->objectives == r->objectives && c->n_objectives == r->n_objectives;
    size_t first = v->n_objectives;
    sw_status st = SW_OK;
    char wbuf[32];
    for (size_t o = 0; o < r->n_objectives && st == SW_OK; o++) {
        view_objective *vo = &v->objectives[v->n_objectives++];
        vo->res = sr->objectives[o];
        vo->res.objective = NULL;
        vo->unit = measured_unit_of(&r->objectives[o]);
        if (same) {
            vo->name = v->objectives[c->first_objective + o].name;
            vo->window = v->objectives[c->first_objective + o].window;
            continue;
        }
        st = keep(v, r->objectives[o].name, &vo->name, err);
        if (st == SW_OK)
            st =
                keep(v, window_text(&r->objectives[o].window, wbuf, sizeof wbuf), &vo->window, err);
    }
    c->objectives = r->objectives;
    c->n_objectives = r->n_objectives;
    c->first_objective = first;
    return st;
}

static sw_status
gather_conditions(sw_metrics_view *v, const sw_series_result *sr, set_cache *c, sw_err *err)
{
    const sw_rules *r = sr->rules;
    bool same_alerts = c->alerts == r->alerts && c->n_alerts == r->n_alerts;
    bool same_triggers = c->triggers == r->triggers && c->n_triggers == r->n_triggers;
    size_t first_alert = v->n_alerts, first_trigger = v->n_triggers;
    sw_status st = SW_OK;
    for (size_t a = 0; a < r->n_alerts && st == SW_OK; a++) {
        view_alert *va = &v->alerts[v->n_alerts++];
        va->severity = sw_rules_severity_str(r->alerts[a].severity);
        va->state = sr->alerts[a].state;
        if (same_alerts)
            va->name = v->alerts[c->first_alert + a].name;
        else
            st = keep(v, r->alerts[a].name, &va->name, err);
    }
    for (size_t t = 0; t < r->n_triggers && st == SW_OK; t++) {
        view_trigger *vt = &v->triggers[v->n_triggers++];
        vt->fired = sr->triggers[t].fired;
        if (same_triggers)
            vt->name = v->triggers[c->first_trigger + t].name;
        else
            st = keep(v, r->triggers[t].name, &vt->name, err);
    }
    c->alerts = r->alerts;
    c->triggers = r->triggers;
    c->n_alerts = r->n_alerts;
    c->n_triggers = r->n_triggers;
    c->first_alert = first_alert;
    c->first_trigger = first_trigger;
    return st;
}

static int
totals_cmp(const void *pa, const void *pb)
{
    const sw_metrics_series *a = *(const sw_metrics_series *const *)pa;
    const sw_metrics_series *b = *(const sw_metrics_series *const *)pb;
    int c = strcmp(a->service, b->service);
    if (c != 0 || (a->env == NULL && b->env == NULL))
        return c;
    if (a->env == NULL || b->env == NULL)
        return a->env == NULL ? -1 : 1;
    return strcmp(a->env, b->env);
}

/* The latency totals of (service, env) in sorted (by totals_cmp): the summary's sum, count. */
static void
latency_totals(const sw_metrics_series *const *sorted, size_t n, const char *service,
               const char *env, window_row *row)
{
    sw_metrics_series key = {.service = service, .env = env};
    const sw_metrics_series *kp = &key;
    const sw_metrics_series *const *hit = bsearch(&kp, sorted, n, sizeof *sorted, totals_cmp);
    row->latency_sum = 0;
    row->latency_count = 0;
    if (hit == NULL)
        return;
    const sw_expo_totals *t = (*hit)->latency_totals;
    if (t == NULL)
        return;
    /* Mean x count, as the summary's sum always was (the totals' mean is the histogram's). */
    row->latency_count = sw_expo_totals_count(t);
    row->latency_sum = sw_expo_totals_mean(t) * (double)row->latency_count / 1e6;
}

/*
 * Series i's 5m and 1h rows. The windows' intervals are merged into one dense scratch
 * histogram (reset over the buckets used): adding a packed interval to it costs that
 * interval's buckets, where a compact one would move its pairs at every add.
 */
static sw_status
gather_windows(sw_metrics_view *v, const sw_eval *ev, const sw_series_result *sr,
               const sw_metrics_series *const *sorted, sw_hdr *scratch, sw_err *err)
{
    static const int64_t windows[] = SW_METRICS_WINDOWS_MS;
    sw_status st = SW_OK;
    for (size_t w = 0; w < 2 && st == SW_OK; w++) {
        window_row *row = &v->rows[2 * v->n_series + w];
        row->series = v->n_series;
        latency_totals(sorted, v->in->n_series, sr->service, sr->env, row);
        st = sw_eval_window_stats(ev, sr->service, sr->env, windows[w], scratch, &row->ws, err);
    }
    return st;
}

static sw_status
gather_series(sw_metrics_view *v, const sw_eval *ev, size_t i,
              const sw_metrics_series *const *sorted, sw_hdr *scratch, sw_gate_scratch *gate,
              set_cache *c, sw_err *err)
{
    sw_series_result sr;
    sw_eval_series(ev, i, &sr);
    view_series *vs = &v->series[v->n_series];
    vs->env = NO_STRING;
    vs->label = NO_STRING;
    vs->value = NO_STRING;
    vs->first_objective = v->n_objectives;
    vs->first_alert = v->n_alerts;
    vs->first_trigger = v->n_triggers;
    vs->n_objectives = sr.rules->n_objectives;
    vs->n_alerts = sr.rules->n_alerts;
    vs->n_triggers = sr.rules->n_triggers;
    sw_gate_result g;
    sw_status st = sw_eval_gate_with(ev, sr.service, sr.env, 0, gate, &g, err);
    vs->verdict = g.verdict;
    if (st == SW_OK)
        st = keep(v, sr.service, &vs->service, err);
    if (st == SW_OK && sr.env != NULL)
        st = keep(v, sr.env, &vs->env, err);
    if (st == SW_OK)
        st = keep(v, sr.name, &vs->name, err);
    if (st == SW_OK && sr.label != NULL)
        st = keep(v, sr.label, &vs->label, err);
    if (st == SW_OK && sr.label != NULL)
        st = keep(v, sr.value, &vs->value, err);
    if (st == SW_OK)
        st = gather_windows(v, ev, &sr, sorted, scratch, err);
    if (st == SW_OK)
        st = gather_objectives(v, &sr, c, err);
    if (st == SW_OK)
        st = gather_conditions(v, &sr, c, err);
    v->n_series++;
    return st;
}

/* Room for every series' objectives, alerts and triggers. */
static sw_status
view_alloc(sw_metrics_view *v, const sw_eval *ev, sw_err *err)
{
    size_t n = sw_eval_series_count(ev), no = 0, na = 0, nt = 0;
    for (size_t i = 0; i < n; i++) {
        sw_series_result sr;
        sw_eval_series(ev, i, &sr);
        no += sr.rules->n_objectives;
        na += sr.rules->n_alerts;
        nt += sr.rules->n_triggers;
    }
    v->series = calloc(n + 1, sizeof *v->series);
    v->rows = calloc(2 * n + 1, sizeof *v->rows);
    v->objectives = calloc(no + 1, sizeof *v->objectives);
    v->alerts = calloc(na + 1, sizeof *v->alerts);
    v->triggers = calloc(nt + 1, sizeof *v->triggers);
    if (!v->series || !v->rows || !v->objectives || !v->alerts || !v->triggers)
        return sw_err_set(err, SW_E_NOMEM, "out of memory gathering metrics");
    return SW_OK;
}

static sw_status
gather(sw_metrics_view *v, const sw_eval *ev, sw_err *err)
{
    const sw_metrics_input *in = v->in;
    const sw_metrics_series **sorted = calloc(in->n_series + 1, sizeof *sorted);
    if (sorted == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory gathering metrics");
    for (size_t i = 0; i < in->n_series; i++)
        sorted[i] = &in->series[i];
    qsort(sorted, in->n_series, sizeof *sorted, totals_cmp);
    sw_hdr *scratch;
    set_cache c = {0};
    /* Every series' gate verdict through one scratch: a baseline merged for its own verdict
     * is not merged again for its candidates'. Without one (out of memory), each alone. */
    sw_gate_scratch *gate = NULL;
    (void)sw_gate_scratch_new(&gate, NULL);
    sw_status st = sw_hdr_new_dense(&sw_hdr_latency_config, &scratch, err);
    for (size_t i = 0; i < sw_eval_series_count(ev) && st == SW_OK; i++)
        st = gather_series(v, ev, i, sorted, scratch, gate, &c, err);
    sw_gate_scratch_free(gate);
    sw_hdr_free(scratch);
    free(sorted);
    return st;
}

sw_status
sw_metrics_view_new(const sw_eval *ev, const sw_rules *rules, const sw_metrics_input *in,
                    sw_metrics_view **ret, sw_err *err)
{
    sw_metrics_view *v = calloc(1, sizeof *v);
    if (v == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory gathering metrics");
    v->rules = rules;
    v->in = in;
    sw_buf_init(&v->strings, STRINGS_MAX);
    sw_status st = view_alloc(v, ev, err);
    if (st == SW_OK)
        st = gather(v, ev, err);
    if (st != SW_OK) {
        sw_metrics_view_free(v);
        return st;
    }
    *ret = v;
    return SW_OK;
}

const sw_rules *
sw_metrics_view_rules(const sw_metrics_view *v)
{
    return v->rules;
}

const sw_metrics_input *
sw_metrics_view_input(const sw_metrics_view *v)
{
    return v->in;
}

/* ------------------------------------------------------------------ windows */

typedef double (*window_value)(const sw_window_stats *ws, int64_t window_ms);

static double
availability(const sw_window_stats *ws, int64_t window_ms)
{
    (void)window_ms;
    return ws->requests == 0 ? NAN : 1.0 - (double)ws->errors / (double)ws->requests;
}

static double
error_ratio(const sw_window_stats *ws, int64_t window_ms)
{
    (void)window_ms;
    return ws->requests == 0 ? NAN : (double)ws->errors / (double)ws->requests;
}

/* Per second of the window that had data, as the rules define throughput. */
static double
throughput(const sw_window_stats *ws, int64_t window_ms)
{
    double data_s = ws->coverage * (double)window_ms / 1000.0;
    return data_s > 0 ? (double)ws->requests / data_s : NAN;
}

static double
coverage(const sw_window_stats *ws, int64_t window_ms)
{
    (void)window_ms;
    return ws->coverage;
}

typedef struct window_family {
    const char *name, *help, *unit;
    window_value value;
} window_family;

static const window_family window_families[] = {
    {"slawatch_sli_availability_ratio", "Share of requests that succeeded over the window.",
     "ratio", availability},
    {"slawatch_sli_error_ratio", "Share of requests that failed over the window.", "ratio",
     error_ratio},
    {"slawatch_sli_throughput_requests_per_second",
     "Requests per second over the window's intervals with data.", NULL, throughput},
    {"slawatch_sli_coverage_ratio", "Share of the window's base intervals that had data.", "ratio",
     coverage},
};

static const char *const window_names[] = {"5m", "1h"};

static labels
series_labels_of(const sw_metrics_view *v, const view_series *s)
{
    return sw_metrics_series_labels(str(v, s->name), str(v, s->label), str(v, s->value),
                                    str(v, s->env));
}

static labels
row_labels(const sw_metrics_view *v, size_t i)
{
    const view_series *s = &v->series[v->rows[i].series];
    return sw_metrics_with(series_labels_of(v, s), "window", window_names[i % 2]);
}

static sw_status
write_window_rows(sw_expo *e, const sw_metrics_view *v, sw_err *err)
{
    static const int64_t windows[] = SW_METRICS_WINDOWS_MS;
    sw_status st = SW_OK;
    for (size_t f = 0; f < sizeof window_families / sizeof window_families[0] && st == SW_OK; f++) {
        const window_family *wf = &window_families[f];
        st = sw_expo_family(e, wf->name, SW_EXPO_GAUGE, wf->help, wf->unit, err);
        for (size_t i = 0; i < 2 * v->n_series && st == SW_OK; i++) {
            labels ls = row_labels(v, i);
            st = sw_expo_sample(e, ls.l, ls.n, wf->value(&v->rows[i].ws, windows[i % 2]), err);
        }
    }
    return st;
}

/* Latency percentiles per window as Prometheus summaries are: quantile="0.95" over the window,
 * _sum and _count since start. */
static sw_status
write_latency_summary(sw_expo *e, const sw_metrics_view *v, sw_err *err)
{
    sw_status st = sw_expo_family(e, "slawatch_sli_latency_seconds", SW_EXPO_SUMMARY,
                                  "Request latency at a quantile over the window; sum and count "
                                  "since slawatch started.",
                                  "seconds", err);
    for (size_t i = 0; i < 2 * v->n_series && st == SW_OK; i++) {
        const window_row *row = &v->rows[i];
        const sw_expo_quantile q[] = {{0.5, row->ws.p50_us / 1e6},
                                      {0.95, row->ws.p95_us / 1e6},
                                      {0.99, row->ws.p99_us / 1e6}};
        labels ls = row_labels(v, i);
        st = sw_expo_summary(e, ls.l, ls.n, q, sizeof q / sizeof q[0], row->latency_sum,
                             row->latency_count, err);
    }
    return st;
}

/* ------------------------------------------------------------------ objectives */

typedef double (*objective_value)(const view_objective *o);

static double
obj_measured_as(const view_objective *o, measured_unit unit)
{
    if (o->unit != unit)
        return NAN; /* not written: see write_objectives */
    return unit == UNIT_SECONDS ? o->res.measured / 1e6 : o->res.measured;
}

static double
obj_measured_seconds(const view_objective *o)
{
    return obj_measured_as(o, UNIT_SECONDS);
}

static double
obj_measured_ratio(const view_objective *o)
{
    return obj_measured_as(o, UNIT_RATIO);
}

static double
obj_measured_count(const view_objective *o)
{
    return obj_measured_as(o, UNIT_COUNT);
}

static double
obj_met(const view_objective *o)
{
    return o->res.has_verdict ? (o->res.met ? 1 : 0) : NAN;
}

static double
obj_so_far(const view_objective *o)
{
    return o->res.so_far ? 1 : 0;
}

static double
obj_budget(const view_objective *o)
{
    return o->res.budget_remaining;
}

static double
obj_burn(const view_objective *o)
{
    return o->res.burn_rate;
}

static double
obj_coverage(const view_objective *o)
{
    return o->res.coverage;
}

typedef struct objective_family {
    const char *name, *help, *unit;
    objective_value value;
    int only; /* a measured_unit: only the objectives of that unit; -1: all */
} objective_family;

static const objective_family objective_families[] = {
    {"slawatch_objective_measured_seconds", "A latency objective's SLI over its window.", "seconds",
     obj_measured_seconds, UNIT_SECONDS},
    {"slawatch_objective_measured_ratio",
     "A ratio objective's SLI over its window (availability, error rate, health success as "
     "fractions; throughput objectives as the share of slices that reached the rate).",
     "ratio", obj_measured_ratio, UNIT_RATIO},
    {"slawatch_objective_measured",
     "A count objective's SLI over its window (requests, errors, health failures).", NULL,
     obj_measured_count, UNIT_COUNT},
    {"slawatch_objective_met",
     "1 when the objective is met, 0 when missed, NaN without enough "
     "data.",
     NULL, obj_met, -1},
    {"slawatch_objective_met_so_far",
     "1 when slawatch_objective_met judges a window not over yet (a month in progress), 0 when "
     "its verdict is final or there is none.",
     NULL, obj_so_far, -1},
    {"slawatch_error_budget_remaining_ratio",
     "Share of the error budget left (negative when "
     "overspent).",
     "ratio", obj_budget, -1},
    {"slawatch_error_budget_burn_rate",
     "Error-budget burn rate over the last hour (1 spends "
     "exactly the budget over the window).",
     NULL, obj_burn, -1},
    {"slawatch_objective_coverage_ratio",
     "Share of the objective window's base intervals with "
     "data.",
     "ratio", obj_coverage, -1},
};

static sw_status
write_objective_family(sw_expo *e, const sw_metrics_view *v, const objective_family *of,
                       sw_err *err)
{
    sw_status st = sw_expo_family(e, of->name, SW_EXPO_GAUGE, of->help, of->unit, err);
    for (size_t i = 0; i < v->n_series && st == SW_OK; i++) {
        const view_series *s = &v->series[i];
        for (size_t o = 0; o < s->n_objectives && st == SW_OK; o++) {
            const view_objective *vo = &v->objectives[s->first_objective + o];
            if (of->only >= 0 && (int)vo->unit != of->only)
                continue;
            labels ls = sw_metrics_with(
                sw_metrics_with(series_labels_of(v, s), "objective", str(v, vo->name)), "window",
                str(v, vo->window));
            st = sw_expo_sample(e, ls.l, ls.n, of->value(vo), err);
        }
    }
    return st;
}

/* ------------------------------------------------------------------ alerts, triggers, gate */

static sw_status
write_alert_family(sw_expo *e, const sw_metrics_view *v, const char *name, const char *help,
                   sw_alert_state want, sw_err *err)
{
    sw_status st = sw_expo_family(e, name, SW_EXPO_GAUGE, help, NULL, err);
    for (size_t i = 0; i < v->n_series && st == SW_OK; i++) {
        const view_series *s = &v->series[i];
        for (size_t a = 0; a < s->n_alerts && st == SW_OK; a++) {
            const view_alert *va = &v->alerts[s->first_alert + a];
            labels ls =
                sw_metrics_with(sw_metrics_with(series_labels_of(v, s), "alert", str(v, va->name)),
                                "severity", va->severity);
            st = sw_expo_sample(e, ls.l, ls.n, va->state == want ? 1 : 0, err);
        }
    }
    return st;
}

static sw_status
write_triggers(sw_expo *e, const sw_metrics_view *v, sw_err *err)
{
    sw_status st = sw_expo_family(e, "slawatch_rollback_trigger_fired", SW_EXPO_GAUGE,
                                  "1 while the rollback trigger is latched (until the next "
                                  "deployment mark).",
                                  NULL, err);
    for (size_t i = 0; i < v->n_series && st == SW_OK; i++) {
        const view_series *s = &v->series[i];
        for (size_t t = 0; t < s->n_triggers && st == SW_OK; t++) {
            const view_trigger *vt = &v->triggers[s->first_trigger + t];
            labels ls = sw_metrics_with(series_labels_of(v, s), "trigger", str(v, vt->name));
            st = sw_expo_sample(e, ls.l, ls.n, vt->fired ? 1 : 0, err);
        }
    }
    return st;
}

static sw_status
write_gate(sw_expo *e, const sw_metrics_view *v, sw_err *err)
{
    static const sw_verdict verdicts[] = {SW_VERDICT_PASS, SW_VERDICT_FAIL,
                                          SW_VERDICT_INCONCLUSIVE};
    sw_status st = sw_expo_family(e, "slawatch_gate_verdict", SW_EXPO_GAUGE,
                                  "Deploy-gate verdict over the rules' gate window: 1 for the "
                                  "current verdict, 0 for the others.",
                                  NULL, err);
    for (size_t i = 0; i < v->n_series && st == SW_OK; i++) {
        const view_series *s = &v->series[i];
        for (size_t k = 0; k < 3 && st == SW_OK; k++) {
            labels ls = sw_metrics_with(series_labels_of(v, s), "verdict",
                                        sw_eval_verdict_str(verdicts[k]));
            st = sw_expo_sample(e, ls.l, ls.n, s->verdict == verdicts[k] ? 1 : 0, err);
        }
    }
    return st;
}

sw_status
sw_metrics_write_gathered(sw_expo *e, const sw_metrics_view *v, sw_err *err)
{
    sw_status st = write_window_rows(e, v, err);
    if (st == SW_OK)
        st = write_latency_summary(e, v, err);
    for (size_t f = 0; f < sizeof objective_families / sizeof objective_families[0] && st == SW_OK;
         f++)
        st = write_objective_family(e, v, &objective_families[f], err);
    if (st == SW_OK)
        st = write_alert_family(e, v, "slawatch_alert_firing", "1 while the alert is firing.",
                                SW_ALERT_FIRING, err);
    if (st == SW_OK)
        st = write_alert_family(e, v, "slawatch_alert_pending",
                                "1 while the alert's condition holds but its `for` has not "
                                "elapsed.",
                                SW_ALERT_PENDING, err);
    if (st == SW_OK)
        st = write_triggers(e, v, err);
    if (st == SW_OK)
        st = write_gate(e, v, err);
    return st;
}
