/*
 * slawatch eval: replay recorded intervals (JSON lines) through the evaluator and print the
 * verdicts, alerts, triggers and budgets as a table or JSON. Every base interval from the first
 * is evaluated, so `for` timers and trigger latches come out as they would have live.
 */
#include "cli.h"

#include "slawatch/eval.h"
#include "slawatch/eval_json.h"
#include "slawatch/intervals.h"
#include "slawatch/units.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_DEPLOYMENTS 64

/* `--deployment SERVICE[/ENV]@TIME`: a deployment mark replayed at its time. */
typedef struct deployment {
    char service[SW_INTERVALS_MAX_NAME];
    char env[SW_INTERVALS_MAX_NAME]; /* "" for none */
    int64_t at_ms;
} deployment;

typedef struct eval_opts {
    const char *rules_path;
    const char *intervals_path;
    const char *data, *config, *from, *to, *quarter; /* what-if over a store */
    const char *at;
    bool json;
    deployment deployments[MAX_DEPLOYMENTS];
    size_t n_deployments;
} eval_opts;

/* One parsed line, kept with its line number for messages. */
typedef struct recorded {
    sw_intervals_line line;
    unsigned long line_no;
} recorded;

typedef struct recording {
    recorded *items;
    size_t n, cap;
} recording;

static void
eval_usage(FILE *f)
{
    fprintf(f, "usage: slawatch eval --rules FILE --intervals FILE [--at TIME] [--json]\n"
               "                     [--deployment SERVICE[/ENV]@TIME]...\n"
               "       slawatch eval --rules FILE (--data DIR | --config FILE)\n"
               "                     (--from TIME --to TIME | --quarter YYYY-QN|last) [--json]\n\n"
               "Replay recorded SLI intervals (JSON lines, see rules/README.md) through the\n"
               "evaluator and print objectives, error budgets, alerts, rollback triggers and the\n"
               "deploy gate per service, at TIME (RFC 3339; default: the end of the last\n"
               "interval). With a store instead (what-if): judge every objective of FILE over\n"
               "the stored period [--from, --to) (whole hours, UTC) or the calendar quarter,\n"
               "whatever rules were in force then.\n\n"
               "  --json      one JSON object (the shape of /api/v1/status)\n"
               "  --data DIR, --config FILE\n"
               "              the store's data directory, or the daemon's configuration naming it\n"
               "  --from TIME, --to TIME\n"
               "              the period [from, to): RFC 3339, whole hours (UTC)\n"
               "  --quarter YYYY-QN|last\n"
               "              the calendar quarter (UTC); last: the last one that has ended\n"
               "  --deployment SERVICE[/ENV]@TIME\n"
               "              a deployment was marked then: latched rollback triggers clear and\n"
               "              the gate window starts (repeatable)\n"
               "  -h, --help, --version\n");
}

static sw_status
parse_deployment(const char *arg, eval_opts *o)
{
    const char *at = strrchr(arg, '@');
    const char *slash = memchr(arg, '/', at ? (size_t)(at - arg) : 0);
    size_t service_len = slash ? (size_t)(slash - arg) : at ? (size_t)(at - arg) : 0;
    size_t env_len = slash ? (size_t)(at - slash - 1) : 0;
    deployment *d = &o->deployments[o->n_deployments];
    if (o->n_deployments == MAX_DEPLOYMENTS || at == NULL || service_len == 0 ||
        service_len >= sizeof d->service || env_len >= sizeof d->env || (slash && env_len == 0) ||
        !sw_units_parse_time_ms(at + 1, strlen(at + 1), &d->at_ms)) {
        fprintf(stderr,
                "slawatch eval: --deployment: expected SERVICE[/ENV]@TIME (RFC 3339), "
                "got \"%s\"\n",
                arg);
        return SW_E_INVAL;
    }
    memcpy(d->service, arg, service_len);
    d->service[service_len] = '\0';
    memcpy(d->env, slash ? slash + 1 : "", env_len);
    d->env[env_len] = '\0';
    o->n_deployments++;
    return SW_OK;
}

static int
parse_opts(int argc, char **argv, eval_opts *o)
{
    static const struct option longopts[] = {
        {"rules", required_argument, NULL, 'r'},
        {"intervals", required_argument, NULL, 'i'},
        {"at", required_argument, NULL, 'a'},
        {"json", no_argument, NULL, 'j'},
        {"deployment", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {"data", required_argument, NULL, 'D'},
        {"config", required_argument, NULL, 'c'},
        {"from", required_argument, NULL, 'f'},
        {"to", required_argument, NULL, 't'},
        {"quarter", required_argument, NULL, 'q'},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'r':
            o->rules_path = optarg;
            break;
        case 'i':
            o->intervals_path = optarg;
            break;
        case 'a':
            o->at = optarg;
            break;
        case 'j':
            o->json = true;
            break;
        case 'D':
            o->data = optarg;
            break;
        case 'c':
            o->config = optarg;
            break;
        case 'f':
            o->from = optarg;
            break;
        case 't':
            o->to = optarg;
            break;
        case 'q':
            o->quarter = optarg;
            break;
        case 'd':
            if (parse_deployment(optarg, o) != SW_OK)
                return SW_EXIT_USAGE;
            break;
        case 'h':
            eval_usage(stdout);
            return -1;
        case 'V':
            sw_cli_version(stdout);
            return -1;
        default:
            eval_usage(stderr);
            return SW_EXIT_USAGE;
        }
    }
    bool store = o->data != NULL || o->config != NULL;
    bool span = o->from != NULL || o->to != NULL || o->quarter != NULL;
    const char *why = optind != argc                         ? "unexpected argument"
                      : o->rules_path == NULL                ? "--rules FILE is required"
                      : store && o->intervals_path != NULL   ? "--intervals and --data/--config "
                                                               "exclude each other"
                      : !store && o->intervals_path == NULL  ? "--intervals FILE or --data DIR "
                                                               "is required"
                      : store && (o->at || o->n_deployments) ? "with --data the evaluation is at "
                                                               "--to: no --at or --deployment"
                      : store && !span
                          ? "--from TIME --to TIME or --quarter is required with --data"
                      : !store && span ? "--from, --to and --quarter need --data or --config"
                                       : NULL;
    if (why != NULL) {
        fprintf(stderr, "slawatch eval: %s\n", why);
        eval_usage(stderr);
        return SW_EXIT_USAGE;
    }
    return SW_EXIT_OK;
}

static void
recording_free(recording *rec)
{
    for (size_t i = 0; i < rec->n; i++)
        sw_sli_interval_fini(&rec->items[i].line.iv);
    free(rec->items);
}

static sw_status
recording_push(recording *rec, const sw_intervals_line *line, unsigned long line_no, sw_err *err)
{
    if (rec->n == rec->cap) {
        size_t cap = rec->cap ? rec->cap * 2 : 1024;
        recorded *items = realloc(rec->items, cap * sizeof *items);
        if (items == NULL)
            return sw_err_set(err, SW_E_NOMEM, "out of memory after %zu intervals", rec->n);
        rec->items = items;
        rec->cap = cap;
    }
    rec->items[rec->n++] = (recorded){.line = *line, .line_no = line_no};
    return SW_OK;
}

static sw_status
read_recording(const char *path, int64_t base_ms, recording *rec, sw_err *err)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return sw_err_sys(err, SW_E_IO, "cannot open %s", path);
    sw_buf text;
    sw_buf_init(&text, SW_INTERVALS_MAX_LINE);
    unsigned long line_no = 0;
    bool got;
    sw_status st;
    while ((st = sw_buf_getline(&text, f, &got, err)) == SW_OK && got) {
        size_t n = text.len;
        line_no++;
        while (n > 0 && text.data[n - 1] == '\r')
            n--;
        if (n == 0)
            continue;
        sw_intervals_line line;
        st =
            sw_intervals_parse_line((const char *)text.data, n, base_ms, path, line_no, &line, err);
        if (st == SW_OK && (st = recording_push(rec, &line, line_no, err)) != SW_OK)
            sw_sli_interval_fini(&line.iv);
        if (st != SW_OK)
            break;
    }
    if (st == SW_E_TOOBIG || st == SW_E_IO)
        sw_err_prefix(err, "%s:%lu", path, line_no + 1);
    sw_buf_fini(&text);
    fclose(f);
    return st;
}

/* Time order, then file order: replay must see every series' intervals as they happened. */
static int
by_start(const void *a, const void *b)
{
    const recorded *x = a, *y = b;
    if (x->line.iv.start_ms != y->line.iv.start_ms)
        return x->line.iv.start_ms < y->line.iv.start_ms ? -1 : 1;
    return x->line_no < y->line_no ? -1 : x->line_no > y->line_no;
}

/* Advance to t_ms, applying the deployment marks due by then at their own times. */
static sw_status
advance_to(sw_eval *ev, const eval_opts *o, size_t *next_mark, int64_t t_ms, sw_err *err)
{
    for (; *next_mark < o->n_deployments && o->deployments[*next_mark].at_ms <= t_ms;
         ++*next_mark) {
        const deployment *d = &o->deployments[*next_mark];
        sw_status st = sw_eval_advance(ev, d->at_ms, err);
        if (st != SW_OK)
            return st;
        sw_eval_mark_deployment(ev, d->service, d->env[0] ? d->env : NULL, d->at_ms);
    }
    return sw_eval_advance(ev, t_ms, err);
}

static sw_status
replay(sw_eval *ev, const eval_opts *o, const recording *rec, int64_t at_ms, sw_err *err)
{
    size_t next_mark = 0;
    for (size_t i = 0; i < rec->n; i++) {
        const recorded *r = &rec->items[i];
        if (r->line.iv.start_ms + r->line.iv.length_ms > at_ms)
            break;
        sw_status st = advance_to(ev, o, &next_mark, r->line.iv.start_ms, err);
        if (st == SW_OK)
            st = sw_eval_add(ev, r->line.service, r->line.env[0] ? r->line.env : NULL, &r->line.iv,
                             err);
        if (st != SW_OK) {
            sw_err_prefix(err, "%s:%lu", o->intervals_path, r->line_no);
            return st;
        }
    }
    return advance_to(ev, o, &next_mark, at_ms, err);
}

/* Deployment marks in time order, so replay meets them as they happened. */
static int
by_time(const void *a, const void *b)
{
    const deployment *x = a, *y = b;
    return x->at_ms < y->at_ms ? -1 : x->at_ms > y->at_ms;
}

static int64_t
recording_end(const recording *rec)
{
    int64_t end = 0;
    for (size_t i = 0; i < rec->n; i++) {
        int64_t e = rec->items[i].line.iv.start_ms + rec->items[i].line.iv.length_ms;
        end = e > end ? e : end;
    }
    return end;
}

static void
print_objective(const sw_objective_result *r)
{
    const sw_condition *c = &r->objective->objective;
    char measured[32], target[64], window[32] = "month", budget[48] = "";
    /* Throughput is judged on the share of slices that reached the rate: a ratio. */
    bool slices = c->sli == SW_SLI_THROUGHPUT;
    sw_sli unit = slices ? SW_SLI_AVAILABILITY : c->sli;
    sw_rules_format_value(unit, r->has_verdict ? r->measured : NAN, measured, sizeof measured);
    sw_rules_format_value(unit, r->target, target, sizeof target);
    if (slices) {
        char rate[32];
        sw_rules_format_value(c->sli, c->value, rate, sizeof rate);
        size_t used = strlen(target);
        snprintf(target + used, sizeof target - used, " of slices at %s", rate);
    }
    if (r->objective->window.kind == SW_WINDOW_ROLLING)
        sw_units_format_duration(r->objective->window.length_ms, window, sizeof window);
    if (isfinite(r->budget_remaining))
        snprintf(budget, sizeof budget, "budget left %.1f%%", r->budget_remaining * 100.0);
    const char *verdict = !r->has_verdict ? "NOT ENOUGH DATA" : r->met ? "met" : "MISSED";
    printf("  %-18s %-6s %10s %-2s %-9s %-15s %s (%llu samples, coverage %.1f%%)\n",
           r->objective->name, window, measured, sw_rules_op_str(r->op), target, verdict, budget,
           (unsigned long long)r->samples, r->coverage * 100.0);
}

static void
print_alert(const sw_alert_result *r)
{
    char since[40] = "", measured[32] = "";
    if (r->state != SW_ALERT_INACTIVE)
        sw_units_format_time(r->active_since_ms, since, sizeof since);
    if (r->alert->kind == SW_ALERT_CONDITION)
        sw_rules_format_value(r->alert->when.sli, r->measured, measured, sizeof measured);
    else if (isfinite(r->measured))
        snprintf(measured, sizeof measured, "burn %.3gx", r->measured);
    printf("  %-22s %-8s %-8s", r->alert->name, sw_rules_severity_str(r->alert->severity),
           sw_eval_alert_state_str(r->state));
    if (since[0])
        printf(" since %s", since);
    if (measured[0])
        printf(" (now %s)", measured);
    printf("\n");
}

static void
print_series(const sw_eval *ev, size_t i)
{
    sw_series_result s;
    sw_eval_series(ev, i, &s);
    printf("%s%s%s%s%s%s%s: data coverage %.1f%%\n\nobjectives\n", s.name, s.label ? " " : "",
           s.label ? s.label : "", s.label ? "=" : "", s.label ? s.value : "", s.env ? " env=" : "",
           s.env ? s.env : "", s.coverage * 100.0);
    for (size_t k = 0; k < s.rules->n_objectives; k++)
        print_objective(&s.objectives[k]);
    printf("\nalerts\n");
    for (size_t k = 0; k < s.rules->n_alerts; k++)
        print_alert(&s.alerts[k]);
    printf("\nrollback triggers\n");
    for (size_t k = 0; k < s.rules->n_triggers; k++) {
        char at[40] = "";
        if (s.triggers[k].fired)
            sw_units_format_time(s.triggers[k].fired_at_ms, at, sizeof at);
        printf("  %-22s %s%s\n", s.triggers[k].trigger->name,
               s.triggers[k].fired ? "FIRED at " : "not fired", at);
    }
    sw_gate_result gate;
    sw_err err = {0};
    if (sw_eval_gate(ev, s.service, s.env, 0, &gate, &err) == SW_OK)
        printf("\ngate: %s\n\n", gate.reason);
    else
        printf("\ngate: error: %s\n\n", err.msg);
}

static int
print_results(const sw_eval *ev, int64_t at_ms, bool json)
{
    if (json) {
        sw_buf out;
        sw_buf_init(&out, (size_t)1 << 30);
        sw_err err = {0};
        sw_status st = sw_eval_json_write(ev, at_ms, &out, &err);
        if (st == SW_OK)
            fwrite(out.data, 1, out.len, stdout);
        else
            fprintf(stderr, "slawatch eval: %s\n", err.msg);
        sw_buf_fini(&out);
        return st == SW_OK ? SW_EXIT_OK : SW_EXIT_INPUT;
    }
    char at[40];
    sw_units_format_time(at_ms, at, sizeof at);
    printf("evaluation at %s\n\n", at);
    for (size_t i = 0; i < sw_eval_series_count(ev); i++)
        print_series(ev, i);
    return SW_EXIT_OK;
}

static sw_status
resolve_at(const eval_opts *o, const recording *rec, int64_t *at_ms, sw_err *err)
{
    if (o->at == NULL) {
        *at_ms = recording_end(rec);
        return SW_OK;
    }
    if (!sw_units_parse_time_ms(o->at, strlen(o->at), at_ms))
        return sw_err_set(err, SW_E_INVAL, "--at: expected an RFC 3339 time, got \"%s\"", o->at);
    return SW_OK;
}

static int
run_eval(eval_opts *o, const sw_rules *rules)
{
    recording rec = {0};
    sw_eval *ev = NULL;
    int64_t at_ms = 0;
    sw_err err = {0};
    sw_status st = read_recording(o->intervals_path, rules->base_interval_ms, &rec, &err);
    if (st == SW_OK) {
        qsort(rec.items, rec.n, sizeof rec.items[0], by_start);
        qsort(o->deployments, o->n_deployments, sizeof o->deployments[0], by_time);
        st = resolve_at(o, &rec, &at_ms, &err);
    }
    if (st == SW_OK)
        st = sw_eval_new(rules, &ev, &err);
    if (st == SW_OK)
        st = replay(ev, o, &rec, at_ms, &err);
    int rc = SW_EXIT_OK;
    if (st != SW_OK) {
        fprintf(stderr, "slawatch eval: %s\n", err.msg);
        rc = st == SW_E_IO ? SW_EXIT_USAGE : SW_EXIT_INPUT;
    } else {
        rc = print_results(ev, at_ms, o->json);
    }
    sw_eval_free(ev);
    recording_free(&rec);
    return rc;
}

static int64_t
wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Judge rules over the period of st and print the answer, or why there is none. */
static int
judge_store(const eval_opts *o, sw_store *st, const sw_rules *rules, const sw_cli_period *p)
{
    sw_err err = {0};
    sw_rules whatif;
    void *objectives = NULL;
    sw_cli_held *held = sw_cli_held_new(rules);
    sw_eval *ev = NULL;
    sw_status s = held != NULL ? SW_OK : sw_err_set(&err, SW_E_NOMEM, "out of memory");
    if (s == SW_OK)
        s = sw_cli_whatif_rules(rules, p, &whatif, &objectives, &err);
    if (s == SW_OK)
        s = sw_cli_eval_store(st, &whatif, p, held, &ev, &err);
    sw_cli_scope scope = {p->from_ms, p->to_ms, NULL, 0, NULL};
    int rc;
    if (s != SW_OK) {
        fprintf(stderr, "slawatch eval: %s\n", err.msg);
        rc = s == SW_E_NOMEM || s == SW_E_IO ? SW_EXIT_USAGE : SW_EXIT_INPUT;
    } else if (sw_cli_held_check(rules, held, &scope) > 0) {
        rc = SW_EXIT_INPUT;
    } else {
        rc = print_results(ev, p->to_ms, o->json);
    }
    sw_eval_free(ev);
    free(held);
    free(objectives);
    return rc;
}

/* The what-if: the rules' objectives judged over a stored period. */
static int
run_store(const eval_opts *o, sw_rules *rules)
{
    sw_err err = {0};
    sw_cli_period p;
    if (sw_cli_period_parse(o->from, o->to, o->quarter, wall_ms(), &p, &err) != SW_OK) {
        fprintf(stderr, "slawatch eval: %s\n", err.msg);
        return SW_EXIT_USAGE;
    }
    sw_config *cfg = NULL;
    sw_store *st = NULL;
    int rc = sw_cli_open_store("eval", o->data, o->config, &cfg, &st);
    if (rc == SW_EXIT_OK && cfg != NULL) /* a shard's store holds only its own services */
        sw_shard_rules(rules, &cfg->shard);
    if (rc == SW_EXIT_OK)
        rc = judge_store(o, st, rules, &p);
    sw_store_close(st);
    sw_config_free(cfg);
    return rc;
}

int
sw_cli_eval(int argc, char **argv)
{
    eval_opts opts = {0};
    int rc = parse_opts(argc, argv, &opts);
    if (rc != SW_EXIT_OK)
        return rc < 0 ? SW_EXIT_OK : rc;
    sw_rules *rules = NULL;
    sw_rules_diag *diag = sw_rules_diag_new();
    sw_err err = {0};
    sw_status st = sw_rules_load_file(opts.rules_path, &rules, diag, &err);
    if (st != SW_OK) {
        for (size_t i = 0; diag && i < sw_rules_diag_count(diag); i++)
            fprintf(stderr, "%s\n", sw_rules_diag_line(diag, i));
        if (!diag || sw_rules_diag_count(diag) == 0)
            fprintf(stderr, "slawatch eval: %s\n", err.msg);
        sw_rules_diag_free(diag);
        return st == SW_E_IO ? SW_EXIT_USAGE : SW_EXIT_INPUT;
    }
    sw_rules_diag_free(diag);
    rc = opts.intervals_path != NULL ? run_eval(&opts, rules) : run_store(&opts, rules);
    sw_rules_free(rules);
    return rc;
}
