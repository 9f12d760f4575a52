/*
 * Rebuilding the evaluator from the store, on start and on reload, so a restart resets
 * neither budgets nor alert `for` timers, and new rules answer at once for their whole windows:
 * the span of rolling windows comes back as hourly rollups (their edges move by whole hours),
 * older parts of the month as daily ones, the recent past at base resolution, deployment marks
 * and latched rollback triggers from their tables. Alerts are evaluated only over the recent
 * past their timers can reach.
 */
#include "daemon_int.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slawatch/rules_schema.h"
#include "slawatch/log.h"
#include "slawatch/shard.h"
#include "slawatch/units.h"

#define HOUR_MS INT64_C(3600000)
#define DAY_MS INT64_C(86400000)

/* The text of the configuration's rules files: one file's own text, several as a bundle
 * (their patterns expanded now, so a reload sees files added to a rules.d folder). */
static sw_status
read_rules_files(const sw_config *cfg, sw_buf *text, const char **ret_name, sw_err *err)
{
    /* A bundle names its files itself; the name outlives the paths. */
    *ret_name = cfg->n_rules_files > 0 ? cfg->rules_files[0] : "rules";
    return sw_rules_read_patterns((const char *const *)cfg->rules_files, cfg->n_rules_files, text,
                                  err);
}

sw_status
sw_daemon_load_rules(const sw_daemon *d, const sw_config *cfg, bool log_each, sw_rules **ret_rules,
                     char **ret_text, size_t *ret_len, sw_err *err)
{
    sw_buf text;
    sw_buf_init(&text, SW_RULES_MAX_BUNDLE);
    const char *name = "embedded rules";
    sw_status st = d->opts.rules_text != NULL
                       ? sw_buf_append(&text, d->opts.rules_text, strlen(d->opts.rules_text), err)
                       : read_rules_files(cfg, &text, &name, err);
    sw_rules_diag *diag = sw_rules_diag_new();
    if (st == SW_OK)
        st = sw_rules_load_mem((const char *)text.data, text.len, name, ret_rules, diag, err);
    if (st == SW_OK) /* a sharded instance evaluates, and so reads, only its own services */
        sw_shard_rules(*ret_rules, &d->shard);
    size_t n_diag = diag != NULL ? sw_rules_diag_count(diag) : 0;
    for (size_t i = 0; log_each && i < n_diag; i++)
        sw_log(SW_LOG_ERROR, "rules error", "detail", sw_rules_diag_line(diag, i), NULL);
    sw_rules_diag_free(diag);
    /* err holds the first problem and how many more: a failed start says it in one line,
     * pointing at the rest. */
    if (st != SW_OK && n_diag > 1 && cfg->path != NULL && err != NULL) {
        char first[sizeof err->msg];
        snprintf(first, sizeof first, "%s", err->msg);
        sw_err_set(err, st, "%s; `slawatch check %s` lists them all", first, cfg->path);
    }
    if (st == SW_OK && (st = sw_buf_cstr(&text, err) != NULL ? SW_OK : SW_E_NOMEM) == SW_OK) {
        *ret_len = text.len;
        *ret_text = (char *)text.data; /* the buffer's data becomes the caller's */
        return SW_OK;
    }
    if (st == SW_OK)
        sw_rules_free(*ret_rules);
    sw_buf_fini(&text);
    return st;
}

/* How far back any window reaches: calendar months, rolling objectives, burn-rate windows. */
static int64_t
history_from_of_set(const sw_rules *r, int64_t now_ms)
{
    int64_t month_start, month_end, from = now_ms - 2 * DAY_MS;
    sw_units_month_of(now_ms, &month_start, &month_end);
    for (size_t i = 0; i < r->n_objectives; i++) {
        const sw_window_spec *w = &r->objectives[i].window;
        int64_t start = w->kind == SW_WINDOW_MONTH ? month_start : now_ms - w->length_ms;
        if (start < from)
            from = start;
    }
    for (size_t i = 0; i < r->n_alerts; i++)
        if (now_ms - r->alerts[i].long_ms < from)
            from = now_ms - r->alerts[i].long_ms;
    return from - from % DAY_MS;
}

/* Where the oldest rolling window starts, on a whole hour: from there on, windows slide. */
static int64_t
rolling_from_of_set(const sw_rules *r, int64_t now_ms)
{
    int64_t from = now_ms - 2 * DAY_MS;
    for (size_t i = 0; i < r->n_objectives; i++)
        if (r->objectives[i].window.kind == SW_WINDOW_ROLLING &&
            now_ms - r->objectives[i].window.length_ms < from)
            from = now_ms - r->objectives[i].window.length_ms;
    for (size_t i = 0; i < r->n_alerts; i++)
        if (now_ms - r->alerts[i].long_ms < from)
            from = now_ms - r->alerts[i].long_ms;
    return from - from % HOUR_MS;
}

/* The earliest of_set gives over r's own sections and every service's resolved set. */
static int64_t
earliest_over_sets(const sw_rules *r, int64_t now_ms, int64_t (*of_set)(const sw_rules *, int64_t))
{
    int64_t from = of_set(r, now_ms);
    for (size_t i = 0; i < r->n_services; i++) {
        int64_t own = of_set(sw_rules_of_service(r, i), now_ms);
        from = own < from ? own : from;
    }
    return from;
}

/* A stored row, its histogram packed from its encoding (no histogram decoded per row). */
static sw_status
feed(void *ctx, const char *service, const char *env, const sw_sli_interval *iv,
     const uint8_t *latency, size_t latency_len, sw_err *err)
{
    sw_eval *ev = ctx;
    sw_status st = sw_eval_add_encoded(ev, service, env, iv, latency, latency_len, err);
    /* Services no longer in the rules (or environments renamed) are left in the store: the
     * evaluator refuses their intervals with SW_E_INVAL; a histogram that does not decode
     * stops the rebuild. */
    if (st == SW_E_INVAL)
        return SW_OK;
    if (st != SW_OK)
        sw_err_prefix(err, "latency of %s%s%s at %lld ms", service, env ? "/" : "", env ? env : "",
                      (long long)iv->start_ms);
    return st;
}

typedef struct marks_ctx {
    sw_eval *ev;
    const sw_rules *rules;
} marks_ctx;

static sw_status
apply_mark(void *ctx, const char *service, const char *env, int64_t at_ms,
           const char *policy_override, sw_err *err)
{
    (void)err;
    marks_ctx *m = ctx;
    if (sw_rules_series_service(m->rules, service, NULL) >= 0)
        sw_eval_mark_deployment_override(m->ev, service, env, at_ms, policy_override);
    return SW_OK;
}

typedef struct latch_ctx {
    sw_eval *ev;
    const sw_rules *rules;
} latch_ctx;

/* A trigger that fired after its series' last mark is latched again. Marks clear latches, so
 * only firings later than the mark count; the evaluator keeps the first. */
static sw_status
restore_latch(void *ctx, const sw_store_event *e, sw_err *err)
{
    (void)err;
    const latch_ctx *l = ctx;
    if (strcmp(e->kind, "trigger") != 0 || strcmp(e->state, "firing") != 0)
        return SW_OK;
    sw_series_result sr;
    for (size_t i = 0; i < sw_eval_series_count(l->ev); i++) {
        sw_eval_series(l->ev, i, &sr);
        bool same_env = e->env == NULL ? sr.env == NULL : sr.env && strcmp(sr.env, e->env) == 0;
        if (strcmp(sr.service, e->service) != 0 || !same_env)
            continue;
        for (size_t t = 0; t < sr.rules->n_triggers; t++)
            if (strcmp(sr.rules->triggers[t].name, e->name) == 0 && !sr.triggers[t].fired &&
                e->at_ms >= sr.deployed_ms)
                sw_eval_restore_trigger(l->ev, e->service, e->env, e->name, e->at_ms, NULL);
    }
    return SW_OK;
}

/* Only the rows' ends are wanted: their histograms are left encoded, not decoded. */
static sw_status
note_end(void *ctx, const char *service, const char *env, const sw_sli_interval *iv,
         const uint8_t *latency, size_t latency_len, sw_err *err)
{
    (void)service, (void)env, (void)latency, (void)latency_len, (void)err;
    int64_t *end = ctx;
    if (iv->start_ms + iv->length_ms > *end)
        *end = iv->start_ms + iv->length_ms;
    return SW_OK;
}

sw_status
sw_daemon_first_tick(sw_daemon *d, int64_t grace_ms, int64_t stored_until_ms, int64_t *io_tick_ms,
                     sw_err *err)
{
    int64_t now_floor = *io_tick_ms, base = d->base_ms;
    int64_t from = now_floor - grace_ms;
    from -= ((from % base) + base) % base;
    int64_t end = stored_until_ms > from ? stored_until_ms : from;
    sw_status st =
        sw_store_scan_encoded(d->store, NULL, end, now_floor, end, INT64_MAX, note_end, &end, err);
    if (st != SW_OK)
        return st;
    end += (base - end % base) % base; /* a row ending inside an interval covers it */
    *io_tick_ms = end < now_floor ? end : now_floor;
    return SW_OK;
}

/*
 * The rebuild's merges and subtractions free far more than the evaluator keeps (at 1,000
 * services about 1.2 GB resident once ready, 0.4 GB of it live): glibc keeps what was freed in
 * its arenas, so it is handed back to the system once, here.
 */
static void
give_back_freed_memory(void)
{
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}

sw_status
sw_daemon_rebuild(sw_daemon *d, const sw_rules *rules, int64_t now_ms, sw_eval **ret, sw_err *err)
{
    sw_eval *ev;
    sw_status st = sw_eval_new(rules, &ev, err);
    if (st != SW_OK)
        return st;
    int64_t horizon = sw_rules_timers_reach_ms(rules);
    int64_t fine_from = now_ms - (horizon > 2 * HOUR_MS ? horizon : 2 * HOUR_MS);
    int64_t from = earliest_over_sets(rules, now_ms, history_from_of_set);
    sw_eval_alerts_from(ev, now_ms - horizon);
    /* A rolling window lets whole hours leave at its old edge: a daily row there would leave
     * (or be left out) whole, so rolling windows are fed hourly rows at the coarsest. Only the
     * calendar month reaches further back, and it starts at a midnight. */
    int64_t rolling_from = earliest_over_sets(rules, now_ms, rolling_from_of_set);
    st = sw_store_scan_encoded(d->store, NULL, from, rolling_from, rolling_from, INT64_MAX, feed,
                               ev, err);
    if (st == SW_OK)
        st = sw_store_scan_encoded(d->store, NULL, rolling_from, now_ms, fine_from, HOUR_MS, feed,
                                   ev, err);
    marks_ctx mc = {ev, rules};
    if (st == SW_OK)
        st = sw_store_last_deployments(d->store, apply_mark, &mc, err);
    latch_ctx lc = {ev, rules};
    if (st == SW_OK)
        st = sw_store_events(d->store, from, now_ms + 1, restore_latch, &lc, err);
    if (st == SW_OK)
        st = sw_eval_advance(ev, now_ms, err);
    if (st == SW_OK) /* the hours fed as minutes, as serve pinned them */
        st = sw_daemon_repin_stored(d, ev, now_ms, err);
    if (st != SW_OK) {
        sw_err_prefix(err, "rebuilding from the store");
        sw_eval_free(ev);
        return st;
    }
    give_back_freed_memory();
    *ret = ev;
    return SW_OK;
}
