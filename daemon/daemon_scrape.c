/*
 * Prometheus scraping inside `slawatch serve`: the scrape thread drives the scraper (holding
 * scrape_lock while it runs, so a reload can swap jobs between runs), and each scrape body is
 * parsed into one prommap batch that is committed only when the whole body parsed.
 */
#include "daemon_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "slawatch/log.h"
#include "slawatch/promproto.h"
#include "slawatch/promtext.h"
#include "slawatch/thread_prio.h"

#define SCRAPE_SLICE_MS 200 /* longest wait between looks at the stop flag and due scrapes */

/* Counts what the parser reads, then hands it to the batch. */
typedef struct counting_sink {
    sw_prom_sink inner;
    uint64_t samples;
} counting_sink;

static sw_status
count_sample(void *ctx, const sw_prom_sample *s, sw_err *err)
{
    counting_sink *c = ctx;
    c->samples++;
    return c->inner.sample(c->inner.ctx, s, err);
}

static sw_status
count_native(void *ctx, const sw_prom_sample *s, const sw_prom_native *h, sw_err *err)
{
    counting_sink *c = ctx;
    c->samples++;
    return c->inner.native != NULL ? c->inner.native(c->inner.ctx, s, h, err) : SW_OK;
}

static sw_status
parse_body(sw_scrape_format fmt, const uint8_t *body, size_t len, const sw_prom_sink *sink,
           sw_err *err)
{
    if (fmt == SW_SCRAPE_PROTOBUF) {
        size_t off = 0;
        return sw_promproto_parse(body, len, sink, &off, err);
    }
    sw_promtext_pos where = {0, 0};
    sw_status st = sw_promtext_parse((const char *)body, len,
                                     fmt == SW_SCRAPE_OPENMETRICS ? SW_PROMTEXT_OPENMETRICS
                                                                  : SW_PROMTEXT_TEXT,
                                     sink, &where, err);
    if (st == SW_E_PARSE)
        sw_err_prefix(err, "line %u column %u", (unsigned)where.line, (unsigned)where.col);
    return st;
}

static sw_status
scrape_apply(void *ctx, const sw_target *t, sw_scrape_format fmt, const uint8_t *body,
             size_t len, int64_t at_ms, uint64_t *ret_samples, sw_err *err)
{
    sw_daemon *d = ctx;
    sw_prom_label *labels = calloc(t->labels.n ? t->labels.n : 1, sizeof *labels);
    if (labels == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory applying a scrape");
    for (size_t i = 0; i < t->labels.n; i++)
        labels[i] = (sw_prom_label){t->labels.l[i].name, t->labels.l[i].value,
                                    strlen(t->labels.l[i].name), strlen(t->labels.l[i].value)};
    sw_prommap_batch *b;
    sw_status st = sw_prommap_begin(d->prommap, t->identity, labels, t->labels.n, at_ms, &b, err);
    free(labels);
    if (st != SW_OK)
        return st;
    sw_prommap_mark_scrape(b);
    counting_sink cs = {sw_prommap_sink(b), 0};
    sw_prom_sink sink = {&cs, count_sample, count_native};
    if ((st = parse_body(fmt, body, len, &sink, err)) != SW_OK) {
        sw_prommap_abort(b);
        return st;
    }
    *ret_samples = cs.samples;
    return sw_prommap_commit(b, err);
}

static void
scrape_forget(void *ctx, const sw_target *t)
{
    sw_daemon *d = ctx;
    sw_prommap_forget(d->prommap, t->identity);
}

static void
scrape_problem(void *ctx, const sw_target *t, const sw_err *err)
{
    (void)ctx;
    if (t == NULL) {
        sw_log_err(SW_LOG_WARN, "scrape target discovery problem", err, NULL);
        return;
    }
    const char *job = sw_relabel_get(&t->labels, "job");
    const char *instance = sw_relabel_get(&t->labels, "instance");
    /* A body that does not parse is a fault of the target worth seeing; the rest is routine. */
    sw_log_err(err->code == SW_E_PARSE ? SW_LOG_WARN : SW_LOG_DEBUG, "scrape failed", err, "job",
               job != NULL ? job : "", "instance", instance != NULL ? instance : "", NULL);
}

static bool
stopping(sw_daemon *d)
{
    pthread_mutex_lock(&d->stop_lock);
    bool stop = d->stopping;
    pthread_mutex_unlock(&d->stop_lock);
    return stop;
}

static void *
scrape_loop(void *arg)
{
    sw_daemon *d = arg;
    sw_thread_prio_set("sw-scrape", 0); /* scrapes are timed: at the gate's priority */
    while (!stopping(d)) {
        pthread_mutex_lock(&d->scrape_lock);
        sw_err err;
        if (sw_scrape_run(d->scraper, sw_daemon_now(d), SCRAPE_SLICE_MS, &err) != SW_OK) {
            sw_log_err(SW_LOG_WARN, "scrapes did not run", &err, NULL);
            pthread_mutex_unlock(&d->scrape_lock);
            struct timespec pause = {0, SCRAPE_SLICE_MS * 1000000L};
            nanosleep(&pause, NULL);
            continue;
        }
        pthread_mutex_unlock(&d->scrape_lock);
    }
    return NULL;
}

sw_status
sw_daemon_scrape_start(sw_daemon *d, sw_err *err)
{
    sw_scrape_consumer c = {d, scrape_apply, scrape_forget, scrape_problem};
    sw_status st = sw_scrape_new(&c, &d->scraper, err);
    if (st == SW_OK)
        st = sw_scrape_set_jobs(d->scraper, d->cfg->scrape_jobs, d->cfg->n_scrape_jobs,
                                sw_daemon_now(d), err);
    if (st != SW_OK)
        return st;
    if (pthread_create(&d->scrape_thread, NULL, scrape_loop, d) != 0)
        return sw_err_set(err, SW_E_NOMEM, "cannot start the scrape thread");
    d->scrape_started = true;
    return SW_OK;
}

sw_status
sw_daemon_scrape_reload(sw_daemon *d, const sw_config *cfg, sw_err *err)
{
    pthread_mutex_lock(&d->scrape_lock);
    sw_status st = sw_scrape_set_jobs(d->scraper, cfg->scrape_jobs, cfg->n_scrape_jobs,
                                      sw_daemon_now(d), err);
    pthread_mutex_unlock(&d->scrape_lock);
    return st;
}

void
sw_daemon_scrape_stop(sw_daemon *d)
{
    if (d->scrape_started)
        pthread_join(d->scrape_thread, NULL);
    d->scrape_started = false;
    sw_scrape_free(d->scraper);
    d->scraper = NULL;
}

/* The sample map's counts for /metrics, in the exporter's terms (metrics.h). */
void
sw_daemon_prom_self(sw_daemon *d, sw_metrics_self *self)
{
    sw_prommap_stats p;
    sw_prommap_stats_get(d->prommap, &p);
    sw_metrics_prom *m = &self->prom;
    _Static_assert(sizeof m->started == sizeof p.started && sizeof m->resets == sizeof p.resets,
                   "sw_metrics_prom keeps prommap's reasons in their order");
    *m = (sw_metrics_prom){.samples = p.samples,
                           .matched = p.matched,
                           .out_of_order = p.out_of_order,
                           .invalid = p.invalid,
                           .no_env = p.no_env,
                           .late = p.late,
                           .evicted = p.evicted,
                           .start_ignored = {p.start_ignored[SW_PROMSTART_FUTURE],
                                             p.start_ignored[SW_PROMSTART_MOVED]}};
    memcpy(m->started, p.started, sizeof m->started);
    memcpy(m->resets, p.resets, sizeof m->resets);
}

typedef struct label_values {
    sw_metrics_label_values *v;
    size_t n, cap;
} label_values;

static void
add_label_values(void *ctx, const sw_prommap_label_count *c)
{
    label_values *lv = ctx;
    if (lv->n == lv->cap) {
        size_t cap = lv->cap ? 2 * lv->cap : 8;
        sw_metrics_label_values *grown = realloc(lv->v, cap * sizeof *grown);
        if (grown == NULL)
            return; /* shown at the next snapshot */
        lv->v = grown;
        lv->cap = cap;
    }
    lv->v[lv->n++] = (sw_metrics_label_values){c->service, c->label, c->tracked, c->refused};
}

/* The label values of services with by, for /metrics (their names borrowed from the map, which
 * keeps them until it is freed); free mi->label_values after the snapshot is built. A value the
 * evaluator forgot after by_idle is logged once. */
void
sw_daemon_label_values(sw_daemon *d, sw_metrics_input *mi)
{
    label_values lv = {0};
    sw_prommap_label_values(d->prommap, add_label_values, &lv);
    mi->label_values = lv.v;
    mi->n_label_values = lv.n;
    uint64_t aged = sw_eval_values_aged(d->ev);
    if (aged < d->values_aged_logged) /* a reload made a new evaluator */
        d->values_aged_logged = 0;
    if (aged > d->values_aged_logged) {
        char n[24];
        snprintf(n, sizeof n, "%llu", (unsigned long long)(aged - d->values_aged_logged));
        sw_log(SW_LOG_INFO, "label values forgotten after by_idle without data", "count", n, NULL);
        d->values_aged_logged = aged;
    }
}

#define REASON_TEXT(name, text) text,
static const char *const reason_texts[] = {SW_SCRAPE_REASONS(REASON_TEXT)};
#undef REASON_TEXT

void
sw_daemon_scrape_targets(sw_daemon *d, sw_metrics_input *mi, sw_daemon_targets *t)
{
    *t = (sw_daemon_targets){0};
    sw_err err;
    if (d->scraper == NULL || sw_scrape_stats(d->scraper, &t->stats, &t->n, &err) != SW_OK)
        return;
    t->targets = t->n > 0 ? calloc(t->n, sizeof *t->targets) : NULL;
    if (t->targets == NULL)
        return;
    for (size_t i = 0; i < t->n; i++) {
        const sw_scrape_target_stats *s = &t->stats[i];
        t->targets[i] = (sw_metrics_target){s->job,     s->instance, s->up, s->duration_seconds,
                                            s->samples, s->failures};
    }
    mi->scrape = t->targets;
    mi->n_scrape = t->n;
    mi->failure_reasons = reason_texts;
    mi->n_failure_reasons = SW_SCRAPE_N_REASONS;
}

void
sw_daemon_scrape_targets_free(sw_daemon_targets *t)
{
    free(t->targets);
    sw_scrape_stats_free(t->stats, t->n);
}
