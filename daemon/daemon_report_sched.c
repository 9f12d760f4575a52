/*
 * The report schedule (`report_schedule`, docs/reports.md "Delivery"): on its own thread, once
 * the configured day and hour of a month have come in the report's zone, last month's report is
 * built from the store and delivered to each target (mail, webhook). A delivery is recorded in
 * the store's meta table (`report_sent:TARGET:YYYY-MM`) in its own transaction once the target
 * accepted it, so a restart after that sends nothing again and a restart before it sends. A
 * failed delivery is retried with doubling backoff. Only the latest month due is sent, and only
 * to a target that was scheduled when it came due (`report_first:TARGET`), so adding a schedule
 * does not send old months.
 */
#include "daemon_int.h"

#include <stdlib.h>
#include <string.h>

#include "slawatch/http_client.h"
#include "slawatch/log.h"
#include "slawatch/report.h"
#include "slawatch/report_mail.h"
#include "slawatch/report_tz.h"
#include "slawatch/thread_prio.h"

#define HOUR_MS INT64_C(3600000)
#define IDLE_MS INT64_C(30000)  /* the longest nap: the clock may jump */
#define SETTLE_MS INT64_C(5000) /* between looks while the month's last data is being stored */
#define REPORT_BYTES ((size_t)1 << 30)
#define MESSAGE_BYTES ((size_t)2 << 30)

enum { T_EMAIL, T_WEBHOOK, T_COUNT };
static const char *const target_names[T_COUNT] = {"email", "webhook"};

typedef struct sched_target {
    bool on;
    int64_t first_ms; /* when the target was first scheduled (kept in the store) */
    int64_t next_try_ms, backoff_ms;
    char done[24], skipped[24]; /* the month known delivered; the month that had nothing to send */
    uint64_t counts[SW_REPORT_DELIVERY_RESULTS];
} sched_target;

struct sw_daemon_rsched {
    sw_config *own; /* the configuration as started: a reload frees the daemon's */
    const sw_config_report_schedule *cfg;
    sw_report_tz *tz;
    char link[512];
    pthread_t thread;
    bool started;
    pthread_mutex_t lock; /* guards the targets' counts */
    sched_target t[T_COUNT];
    bool waiting_logged;
};

/* The month that is due and when it came due. */
typedef struct due_month {
    int year, month;
    char text[24];
    int64_t due_ms, from_ms, to_ms; /* the month's span in its zone */
} due_month;

static void
month_before(int *year, int *month)
{
    if (--*month == 0) {
        *month = 12;
        --*year;
    }
}

/* The configured day and hour of local month (year, month), as a UTC instant. */
static int64_t
due_at(const sw_daemon_rsched *rs, int year, int month)
{
    int64_t day = sw_report_tz_day_start(rs->tz, year, month, rs->cfg->day);
    int64_t t = day + rs->cfg->hour * HOUR_MS;
    /* A daylight-saving change between midnight and the hour moves the hour with it. */
    return t - (sw_report_tz_offset_ms(rs->tz, t) - sw_report_tz_offset_ms(rs->tz, day));
}

static due_month
latest_due(const sw_daemon_rsched *rs, int64_t now_ms)
{
    int y, m, day, hour, minute;
    sw_report_tz_local(rs->tz, now_ms, &y, &m, &day, &hour, &minute);
    int64_t due = due_at(rs, y, m);
    if (now_ms < due) {
        month_before(&y, &m);
        due = due_at(rs, y, m);
    }
    due_month d = {.year = y, .month = m, .due_ms = due};
    month_before(&d.year, &d.month);
    snprintf(d.text, sizeof d.text, "%04d-%02d", d.year, d.month);
    d.from_ms = sw_report_tz_day_start(rs->tz, d.year, d.month, 1);
    d.to_ms = sw_report_tz_day_start(rs->tz, d.year, d.month + 1, 1);
    return d;
}

static void
sent_key(int target, const char *month, char *out, size_t cap)
{
    snprintf(out, cap, "report_sent:%s:%s", target_names[target], month);
}

/* ---- one delivery ---- */

/* The report of the month in the formats the targets need. */
typedef struct built {
    sw_buf html, md, csv, json;
    sw_report_summary summary;
} built;

static void
built_fini(built *b)
{
    sw_buf_fini(&b->html);
    sw_buf_fini(&b->md);
    sw_buf_fini(&b->csv);
    sw_buf_fini(&b->json);
    sw_report_summary_fini(&b->summary);
}

static sw_status
build(sw_daemon *d, const due_month *m, int64_t now_ms, built *b, sw_err *err)
{
    const sw_config_report_schedule *c = d->rsched->cfg;
    sw_report_request req = {.year = m->year,
                             .month = m->month,
                             .tz = c->time_zone,
                             .services = c->services,
                             .n_services = c->n_services,
                             .now_ms = now_ms,
                             .shard = &d->shard};
    sw_buf *bufs[] = {&b->html, &b->md, &b->csv, &b->json};
    const sw_report_format formats[] = {SW_REPORT_HTML, SW_REPORT_MD, SW_REPORT_CSV,
                                        SW_REPORT_JSON};
    for (size_t i = 0; i < 4; i++)
        sw_buf_init(bufs[i], REPORT_BYTES);
    sw_report *rep = NULL;
    sw_status st = sw_report_build(d->store, &req, &rep, err);
    for (size_t i = 0; st == SW_OK && i < 4; i++)
        st = sw_report_write(rep, formats[i], bufs[i], err);
    sw_report_free(rep);
    if (st == SW_OK)
        st = sw_report_summary_read(b->json.data, b->json.len, &b->summary, err);
    return st;
}

static sw_status
password(const sw_config_report_mail *c, char **ret, sw_err *err)
{
    *ret = NULL;
    if (c->password_file != NULL)
        return sw_daemon_read_secret(c->password_file, ret, err);
    if (c->password_env == NULL)
        return SW_OK;
    const char *v = getenv(c->password_env);
    if (v == NULL)
        return sw_err_set(err, SW_E_INVAL, "environment variable %s (email password) is not set",
                          c->password_env);
    *ret = strdup(v);
    return *ret != NULL ? SW_OK : sw_err_set(err, SW_E_NOMEM, "out of memory");
}

static sw_status
send_mail(sw_daemon *d, const built *b, int64_t now_ms, sw_err *err)
{
    const sw_config_report_mail *c = &d->rsched->cfg->mail;
    sw_report_mail m = {c->from,     c->to,    c->n_to, now_ms, d->rsched->link,
                        &b->summary, &b->html, &b->md,  &b->csv};
    sw_report_smtp o = {c->url, c->starttls, c->username, NULL, c->ca_file, c->timeout_ms};
    char *pass = NULL;
    sw_buf msg;
    sw_buf_init(&msg, MESSAGE_BYTES);
    sw_status st = password(c, &pass, err);
    o.password = pass;
    if (st == SW_OK)
        st = sw_report_mail_build(&m, &msg, err);
    if (st == SW_OK)
        st = sw_report_mail_send(&o, &m, &msg, err);
    sw_buf_fini(&msg);
    free(pass);
    return st;
}

static sw_status
send_webhook(sw_daemon *d, const built *b, sw_err *err)
{
    const sw_config_report_schedule *c = d->rsched->cfg;
    char *token = NULL;
    sw_buf body;
    sw_buf_init(&body, 1 << 24);
    sw_status st = c->webhook_bearer_token_file != NULL
                       ? sw_daemon_read_secret(c->webhook_bearer_token_file, &token, err)
                       : SW_OK;
    if (st == SW_OK)
        st = sw_report_webhook_body(&b->summary, d->rsched->link, &body, err);
    sw_http_fetch_response resp = {0};
    sw_http_fetch_request rq = {.method = "POST",
                                .url = c->webhook_url,
                                .content_type = "application/json",
                                .body = body.data,
                                .body_len = body.len,
                                .bearer_token = token,
                                .timeout_ms = c->webhook_timeout_ms,
                                .discard_body = true};
    if (st == SW_OK && (st = sw_http_fetch(&rq, &resp, err)) == SW_OK &&
        (resp.status < 200 || resp.status > 299))
        st = sw_err_set(err, SW_E_IO, "webhook answered HTTP %ld", resp.status);
    sw_http_fetch_response_fini(&resp);
    sw_buf_fini(&body);
    free(token);
    return st;
}

static void
count(sw_daemon_rsched *rs, int target, sw_report_delivery_result r)
{
    pthread_mutex_lock(&rs->lock);
    rs->t[target].counts[r]++;
    pthread_mutex_unlock(&rs->lock);
}

/* After the target took the report: recorded, so no restart sends it again. */
static void
delivered(sw_daemon *d, int target, const due_month *m, int64_t now_ms)
{
    sw_daemon_rsched *rs = d->rsched;
    sched_target *t = &rs->t[target];
    char key[64];
    sent_key(target, m->text, key, sizeof key);
    sw_err err;
    snprintf(t->done, sizeof t->done, "%s", m->text);
    t->backoff_ms = 0;
    count(rs, target, SW_REPORT_DELIVERY_SENT);
    sw_log(SW_LOG_INFO, "report delivered", "month", m->text, "target", target_names[target], NULL);
    if (sw_store_meta_put(d->store, key, now_ms, false, &err) != SW_OK)
        sw_log_err(SW_LOG_ERROR, "report delivery not recorded: a restart sends it again", &err,
                   "month", m->text, "target", target_names[target], NULL);
}

static void
failed(sw_daemon *d, int target, const due_month *m, int64_t now_ms, const sw_err *err)
{
    sched_target *t = &d->rsched->t[target];
    const sw_config_report_schedule *c = d->rsched->cfg;
    t->backoff_ms = t->backoff_ms == 0 ? c->min_backoff_ms : t->backoff_ms * 2;
    if (t->backoff_ms > c->max_backoff_ms)
        t->backoff_ms = c->max_backoff_ms;
    t->next_try_ms = now_ms + t->backoff_ms;
    count(d->rsched, target, SW_REPORT_DELIVERY_FAILED);
    char retry[32];
    snprintf(retry, sizeof retry, "%llds", (long long)(t->backoff_ms / 1000));
    sw_log_err(SW_LOG_WARN, "report delivery failed", err, "month", m->text, "target",
               target_names[target], "retry_in", retry, NULL);
}

/* Nothing to send for the month (no data, no rules): said once, not retried. */
static void
skipped(sw_daemon *d, const due_month *m, const sw_err *err)
{
    for (int i = 0; i < T_COUNT; i++) {
        sched_target *t = &d->rsched->t[i];
        if (t->on && strcmp(t->done, m->text) != 0) {
            snprintf(t->skipped, sizeof t->skipped, "%s", m->text);
            count(d->rsched, i, SW_REPORT_DELIVERY_SKIPPED);
        }
    }
    sw_log_err(SW_LOG_WARN, "report not delivered: nothing to report", err, "month", m->text, NULL);
}

/* ---- the loop ---- */

/* Whether target i still owes month m; looks the store up once per month. */
static bool
owes(sw_daemon *d, int i, const due_month *m, int64_t now_ms)
{
    sched_target *t = &d->rsched->t[i];
    if (!t->on || t->first_ms > m->due_ms || strcmp(t->done, m->text) == 0 ||
        strcmp(t->skipped, m->text) == 0 || now_ms < t->next_try_ms)
        return false;
    char key[64];
    int64_t at;
    bool found = false;
    sw_err err;
    sent_key(i, m->text, key, sizeof key);
    if (sw_store_meta_get(d->store, key, &at, &found, &err) != SW_OK) {
        sw_log_err(SW_LOG_WARN, "report delivery record unreadable", &err, NULL);
        return false;
    }
    if (found) {
        snprintf(t->done, sizeof t->done, "%s", m->text);
        sw_log(SW_LOG_INFO, "report already delivered", "month", m->text, "target", target_names[i],
               NULL);
    }
    return !found;
}

/* The month's last intervals stored and rolled up into minutes, which the report reads. */
static bool
month_settled(sw_daemon *d, const due_month *m)
{
    int64_t taken = INT64_MIN, unrolled = INT64_MIN;
    sw_err err;
    if (sw_store_taken_until(d->store, &taken, &err) != SW_OK ||
        sw_store_first_unrolled_minute(d->store, &unrolled, &err) != SW_OK)
        return false;
    return taken >= m->to_ms && unrolled >= m->to_ms;
}

static void
deliver(sw_daemon *d, const due_month *m, const bool due[T_COUNT], int64_t now_ms)
{
    built b = {0};
    sw_err err = {0};
    sw_status st = build(d, m, now_ms, &b, &err);
    if (st == SW_E_RANGE || st == SW_E_INVAL) {
        skipped(d, m, &err);
    } else {
        for (int i = 0; i < T_COUNT; i++) {
            if (!due[i])
                continue;
            sw_status s = st;
            if (s == SW_OK)
                s = i == T_EMAIL ? send_mail(d, &b, now_ms, &err) : send_webhook(d, &b, &err);
            if (s == SW_OK)
                delivered(d, i, m, now_ms);
            else
                failed(d, i, m, now_ms, &err);
        }
    }
    built_fini(&b);
}

/* One look: deliver what is owed; returns how long to nap. */
static int64_t
step(sw_daemon *d)
{
    sw_daemon_rsched *rs = d->rsched;
    int64_t now = sw_daemon_now(d);
    due_month m = latest_due(rs, now);
    bool due[T_COUNT], any = false;
    for (int i = 0; i < T_COUNT; i++)
        any |= due[i] = owes(d, i, &m, now);
    if (any && !month_settled(d, &m)) {
        if (!rs->waiting_logged)
            sw_log(SW_LOG_INFO, "report waits for the month's last data", "month", m.text, NULL);
        rs->waiting_logged = true;
        return SETTLE_MS;
    }
    if (any)
        deliver(d, &m, due, now);
    /* Month m came due in the month after it; the next one comes due in the month after that. */
    int y = m.year, mo = m.month + 2;
    if (mo > 12) {
        mo -= 12;
        y++;
    }
    int64_t nap = due_at(rs, y, mo) - now;
    for (int i = 0; i < T_COUNT; i++)
        if (rs->t[i].on && rs->t[i].next_try_ms > now && rs->t[i].next_try_ms - now < nap)
            nap = rs->t[i].next_try_ms - now;
    return nap < 1 ? 1 : nap > IDLE_MS ? IDLE_MS : nap;
}

static void *
sched_loop(void *arg)
{
    sw_daemon *d = arg;
    sw_thread_prio_set("sw-report-sched", d->background_nice);
    while (sw_daemon_nap(d, step(d)))
        ;
    return NULL;
}

/* ---- start, stop, counts ---- */

static sw_status
check_files(const sw_config_report_schedule *c, sw_err *err)
{
    sw_status st = SW_OK;
    if (c->mail.password_file != NULL)
        st = sw_daemon_check_readable(c->mail.password_file, "email password_file", err);
    if (st == SW_OK && c->mail.ca_file != NULL)
        st = sw_daemon_check_readable(c->mail.ca_file, "email ca_file", err);
    if (st == SW_OK && c->webhook_bearer_token_file != NULL)
        st = sw_daemon_check_readable(c->webhook_bearer_token_file, "webhook bearer_token_file",
                                      err);
    return st;
}

/* When each target was first scheduled: recorded once, read back. */
static sw_status
first_scheduled(sw_daemon *d, int64_t now_ms, sw_err *err)
{
    sw_daemon_rsched *rs = d->rsched;
    sw_status st = SW_OK;
    for (int i = 0; st == SW_OK && i < T_COUNT; i++) {
        if (!rs->t[i].on)
            continue;
        char key[64];
        bool found = false;
        snprintf(key, sizeof key, "report_first:%s", target_names[i]);
        st = sw_store_meta_put(d->store, key, now_ms, true, err);
        if (st == SW_OK)
            st = sw_store_meta_get(d->store, key, &rs->t[i].first_ms, &found, err);
    }
    return st;
}

/* The schedule keeps a configuration of its own, read again from the file the daemon started
 * with: a reload replaces (and frees) the daemon's, and the schedule changes only at a restart. */
static sw_status
own_config(sw_daemon *d, sw_daemon_rsched *rs, sw_err *err)
{
    sw_status st = sw_config_load(d->cfg->path, &rs->own, NULL, err);
    if (st == SW_OK && !rs->own->report_schedule.enabled)
        st = sw_err_set(err, SW_E_INVAL, "%s changed while slawatch started", d->cfg->path);
    if (st == SW_OK)
        rs->cfg = &rs->own->report_schedule;
    return st;
}

sw_status
sw_daemon_report_sched_start(sw_daemon *d, sw_err *err)
{
    if (!d->cfg->report_schedule.enabled)
        return SW_OK;
    sw_daemon_rsched *rs = calloc(1, sizeof *rs);
    if (rs == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory starting the report schedule");
    pthread_mutex_init(&rs->lock, NULL);
    d->rsched = rs;
    sw_status st = own_config(d, rs, err);
    if (st == SW_OK)
        st = check_files(rs->cfg, err);
    if (st != SW_OK)
        return st;
    const sw_config_report_schedule *c = rs->cfg;
    rs->t[T_EMAIL].on = c->mail.url != NULL;
    rs->t[T_WEBHOOK].on = c->webhook_url != NULL;
    if (d->cfg->external_url != NULL)
        snprintf(rs->link, sizeof rs->link, "%s/reports", d->cfg->external_url);
    else
        snprintf(rs->link, sizeof rs->link, "http://%s/reports", d->listen);
    if ((st = sw_report_tz_load(c->time_zone, &rs->tz, err)) != SW_OK ||
        (st = first_scheduled(d, sw_daemon_now(d), err)) != SW_OK)
        return st;
    if (pthread_create(&rs->thread, NULL, sched_loop, d) != 0)
        return sw_err_set(err, SW_E_NOMEM, "cannot start the report schedule's thread");
    rs->started = true;
    char when[64];
    snprintf(when, sizeof when, "day %d %02d:00 %s", c->day, c->hour, c->time_zone);
    sw_log(SW_LOG_INFO, "report schedule started", "at", when, NULL);
    return SW_OK;
}

void
sw_daemon_report_sched_stop(sw_daemon *d)
{
    sw_daemon_rsched *rs = d->rsched;
    if (rs == NULL)
        return;
    if (rs->started)
        pthread_join(rs->thread, NULL);
    sw_report_tz_free(rs->tz);
    sw_config_free(rs->own);
    pthread_mutex_destroy(&rs->lock);
    free(rs);
    d->rsched = NULL;
}

void
sw_daemon_report_sched_self(sw_daemon *d, sw_metrics_self *self)
{
    sw_daemon_rsched *rs = d->rsched;
    if (rs == NULL)
        return;
    self->report_targets = 0;
    pthread_mutex_lock(&rs->lock);
    for (int i = 0; i < T_COUNT; i++) {
        if (!rs->t[i].on)
            continue;
        self->report_targets |= 1u << i;
        memcpy(self->report_deliveries[i], rs->t[i].counts, sizeof rs->t[i].counts);
    }
    pthread_mutex_unlock(&rs->lock);
}
