/*
 * What-if over the stored history (`eval --data`, `report --rules`): the period asked for, the
 * data directory's store, and whether the store holds what other rules need. Rules may ask for
 * an SLI that was never collected (a latency objective on a service that only ever sent
 * counts); such a question has no answer in the store, and saying so beats a silent "no
 * verdict".
 */
#include "cli.h"

#include "slawatch/config.h"
#include "slawatch/shard.h"
#include "slawatch/units.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define HOUR_MS INT64_C(3600000)

/* ------------------------------------------------------------------ the period */

/* Epoch milliseconds of YYYY-MM-01T00:00:00Z (months past 12 roll into the next year). */
static int64_t
month_start_ms(int year, int month)
{
    struct tm tm = {
        .tm_year = year - 1900 + (month - 1) / 12, .tm_mon = (month - 1) % 12, .tm_mday = 1};
    return (int64_t)timegm(&tm) * 1000;
}

static sw_status
parse_quarter(const char *text, int64_t now_ms, sw_cli_period *p, sw_err *err)
{
    int year, q;
    char tail;
    if (strcmp(text, "last") == 0) {
        time_t now = (time_t)(now_ms / 1000);
        struct tm tm;
        gmtime_r(&now, &tm);
        q = tm.tm_mon / 3; /* this quarter, 0-based: the last one ended at its start */
        year = tm.tm_year + 1900 - (q == 0);
        q = q == 0 ? 4 : q;
    } else if (sscanf(text, "%4d-Q%1d%c", &year, &q, &tail) != 2 || q < 1 || q > 4 || year < 1970 ||
               strlen(text) != 7) {
        return sw_err_set(err, SW_E_INVAL,
                          "--quarter: expected YYYY-QN (e.g. 2026-Q3) or last, got \"%s\"", text);
    }
    p->from_ms = month_start_ms(year, 3 * q - 2);
    p->to_ms = month_start_ms(year, 3 * q + 1);
    return SW_OK;
}

static sw_status
parse_hour(const char *flag, const char *text, int64_t *ret, sw_err *err)
{
    if (!sw_units_parse_time_ms(text, strlen(text), ret))
        return sw_err_set(err, SW_E_INVAL, "%s: expected an RFC 3339 time, got \"%s\"", flag, text);
    /* The evaluator moves a long window's old edge to a whole hour: any other start would
     * silently lose the rest of its first hour. */
    if (*ret % HOUR_MS != 0)
        return sw_err_set(err, SW_E_INVAL, "%s: \"%s\" is not a whole hour (UTC)", flag, text);
    return SW_OK;
}

sw_status
sw_cli_period_parse(const char *from, const char *to, const char *quarter, int64_t now_ms,
                    sw_cli_period *p, sw_err *err)
{
    if (quarter != NULL && (from != NULL || to != NULL))
        return sw_err_set(err, SW_E_INVAL, "--quarter and --from/--to exclude each other");
    if (quarter != NULL)
        return parse_quarter(quarter, now_ms, p, err);
    if (from == NULL || to == NULL)
        return sw_err_set(err, SW_E_INVAL, "--from and --to go together (or --quarter)");
    sw_status st = parse_hour("--from", from, &p->from_ms, err);
    if (st == SW_OK)
        st = parse_hour("--to", to, &p->to_ms, err);
    if (st == SW_OK && p->to_ms <= p->from_ms)
        st = sw_err_set(err, SW_E_INVAL, "--to (%s) must be after --from (%s)", to, from);
    return st;
}

/* ------------------------------------------------------------------ the store */

int
sw_cli_open_store(const char *cmd, const char *data, const char *config, sw_config **ret_cfg,
                  sw_store **ret_st)
{
    const char *dir = data;
    sw_err err = {0};
    *ret_cfg = NULL;
    *ret_st = NULL;
    if (data == NULL && sw_config_load(config, ret_cfg, NULL, &err) != SW_OK) {
        fprintf(stderr, "slawatch %s: %s\n", cmd, err.msg);
        return SW_EXIT_USAGE;
    }
    if (data == NULL)
        dir = (*ret_cfg)->data_dir;
    /* Opening would create an empty store: a mistyped directory must be an error instead. */
    char db[4096];
    struct stat sb;
    snprintf(db, sizeof db, "%s/%s", dir, SW_STORE_DB_NAME);
    if (stat(db, &sb) != 0) {
        fprintf(stderr, "slawatch %s: no store in %s (%s: %s)\n", cmd, dir, db, strerror(errno));
        return SW_EXIT_USAGE;
    }
    if (sw_store_open(dir, NULL, ret_st, &err) != SW_OK) {
        fprintf(stderr, "slawatch %s: %s\n", cmd, err.msg);
        return SW_EXIT_USAGE;
    }
    return SW_EXIT_OK;
}

/* ------------------------------------------------------------------ what the store holds */

sw_cli_held *
sw_cli_held_new(const sw_rules *rules)
{
    return calloc(rules->n_services ? rules->n_services : 1, sizeof(sw_cli_held));
}

void
sw_cli_held_note(const sw_rules *rules, sw_cli_held *held, const char *service,
                 const sw_sli_interval *iv)
{
    ptrdiff_t i = sw_rules_series_service(rules, service, NULL);
    if (i < 0 || !iv->has_data)
        return;
    held[i].rows = true;
    held[i].requests |= iv->requests > 0;
    held[i].latency |= iv->latency != NULL && sw_hdr_total_count(iv->latency) > 0;
    held[i].health |= iv->health.probes > 0;
}

static sw_status
note_row(void *ctx, const char *service, const char *env, const sw_sli_interval *iv, sw_err *err)
{
    (void)env, (void)err;
    sw_cli_held_scan_ctx *c = ctx;
    sw_cli_held_note(c->rules, c->held, service, iv);
    return SW_OK;
}

sw_status
sw_cli_held_scan(sw_store *st, const sw_rules *rules, int64_t from_ms, int64_t to_ms,
                 sw_cli_held *held, sw_err *err)
{
    sw_cli_held_scan_ctx c = {rules, held};
    /* The coarsest rows: what a period holds, not how it is spread. */
    return sw_store_scan(st, NULL, from_ms, to_ms, to_ms, note_row, &c, err);
}

/* What the store must hold for a condition on this SLI, or NULL when requests will do. */
static const char *
needs(sw_sli sli, const sw_cli_held *h)
{
    switch (sli) {
    case SW_SLI_LATENCY:
        return h->latency ? NULL : "latency";
    case SW_SLI_HEALTH_CONSECUTIVE_FAILURES:
    case SW_SLI_HEALTH_FAILURES:
    case SW_SLI_HEALTH_SUCCESS:
        return h->health ? NULL : "health probes";
    default:
        return h->requests ? NULL : "requests";
    }
}

static void
missing(const sw_rules_pos *pos, const char *objective, const sw_condition *c, const char *what,
        const char *service, const char *span)
{
    char sli[32];
    sw_rules_sli_name(c, sli, sizeof sli);
    fprintf(stderr,
            "%s:%u:%u: error: objective '%s' needs %s (%s), but the store holds no %s for "
            "service '%s' %s: it was never collected\n",
            pos->file ? pos->file : "?", pos->line, pos->col, objective, what, sli, what, service,
            span);
}

/* Is service among those asked for (none asked: every one the shard owns)? */
static bool
asked(const sw_cli_scope *scope, const char *service)
{
    for (size_t i = 0; i < scope->n_services; i++)
        if (strcmp(scope->services[i], service) == 0)
            return true;
    return scope->n_services == 0 && (scope->shard == NULL || sw_shard_owns(scope->shard, service));
}

size_t
sw_cli_held_check(const sw_rules *rules, const sw_cli_held *held, const sw_cli_scope *scope)
{
    int64_t from_ms = scope->from_ms, to_ms = scope->to_ms;
    char from[40], to[40], span[96];
    sw_units_format_time(from_ms, from, sizeof from);
    sw_units_format_time(to_ms, to, sizeof to);
    snprintf(span, sizeof span, "from %s to %s", from, to);
    size_t problems = 0;
    for (size_t s = 0; s < rules->n_services; s++) {
        const sw_service *svc = &rules->services[s];
        if (!asked(scope, svc->name))
            continue;
        if (!held[s].rows) {
            fprintf(stderr, "%s:%u:%u: error: the store holds no data for service '%s' %s\n",
                    svc->pos.file ? svc->pos.file : "?", svc->pos.line, svc->pos.col, svc->name,
                    span);
            problems++;
            continue;
        }
        const sw_rules *own = sw_rules_of_service(rules, s);
        for (size_t i = 0; i < own->n_objectives; i++) {
            const sw_objective *o = &own->objectives[i];
            /* Not its slices' bad_when: a slice is bad when any condition holds, and one on
             * an SLI never collected simply never does. */
            const char *what = needs(o->objective.sli, &held[s]);
            if (what != NULL) {
                missing(&o->objective.pos, o->name, &o->objective, what, svc->name, span);
                problems++;
            }
        }
    }
    return problems;
}
