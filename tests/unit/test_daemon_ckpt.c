/*
 * Unit tests for the daemon's start from its checkpoint (daemon/daemon_ckpt.c), through the
 * functions the daemon calls: a run fed random intervals (each stored, as the tick stores
 * them, and fed to an evaluator advanced at every boundary), checkpointed, then run on while the
 * rows go on being stored (a daemon killed after storing them, or one whose journal gave them
 * back); a start from the checkpoint must replay the rows after it and the marks made since, and
 * equal bit for bit the evaluator that never stopped, now and as both go on. A damaged
 * checkpoint, one ahead of the store and one of other rules are refused, with the reason logged,
 * and the start then equals the full rebuild.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemon_int.h"
#include "slawatch/ckpt.h"
#include "slawatch/cwpct.h"
#include "slawatch/log.h"
#include "slawatch/rng.h"

#include "eval_assert.h"

#define SEC INT64_C(1000)
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define BASE (10 * SEC)
/* 2026-12-06 00:00:00 UTC. */
#define START INT64_C(1796515200000)

static const char rules_text[] =
    "version: 1\n"
    "base_interval: 10s\n"
    "min_requests: 10\n"
    "services:\n"
    "  - name: api\n"
    "    environments: [blue, green]\n"
    "    sli: {requests: {push: true}, errors: {push: true}, latency: {push: true}}\n"
    "  - name: web\n"
    "    sli: {requests: {push: true}, errors: {push: true}, latency: {push: true}}\n"
    "objectives:\n"
    "  - name: availability\n"
    "    objective: availability >= 99.9%\n"
    "    window: month\n"
    "  - name: latency-p95\n"
    "    objective: p95 <= 120ms\n"
    "    window: 1d\n"
    "  - name: latency-p99-3d\n"
    "    objective: p99 <= 300ms\n"
    "    window: 3d\n"
    "  - name: availability-slices\n"
    "    objective: availability >= 99%\n"
    "    window: 1d\n"
    "    budgeting: timeslices\n"
    "alerts:\n"
    "  - name: LatencyP95High\n"
    "    when: p95 > 110ms\n"
    "    for: 2m\n"
    "  - name: ErrorBudgetBurn1h\n"
    "    burn_rate: 2\n"
    "    objective: availability\n"
    "    long: 1h\n"
    "    short: 5m\n"
    "rollback_triggers:\n"
    "  - name: LatencyP95Spike\n"
    "    when: p95 > 115ms\n"
    "    for: 1m\n"
    "gate:\n"
    "  window: 10m\n"
    "  min_requests: 10\n"
    "  checks:\n"
    "    - p95 <= 500ms\n"
    "  compare:\n"
    "    baseline: blue\n"
    "    max_latency_increase: 20%\n"
    "    confidence: 99%\n";

static const struct {
    const char *service, *env;
} series[] = {{"api", "blue"}, {"api", "green"}, {"web", NULL}};
#define N_SERIES (sizeof series / sizeof series[0])

typedef struct fx {
    char dir[64], log_path[96];
    sw_rules *rules;
    sw_daemon *d;
    sw_eval *whole; /* never stops: the truth */
    sw_rng rng;
    int64_t t; /* the next interval's start */
} fx;

static int
setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/sw-test-daemon-ckpt-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->log_path, sizeof f->log_path, "%s.log", f->dir);
    sw_err err = {0};
    assert_int_equal(
        sw_rules_load_mem(rules_text, strlen(rules_text), "test", &f->rules, NULL, &err), SW_OK);
    f->d = calloc(1, sizeof *f->d);
    assert_non_null(f->d);
    sw_store_options so = {.base_interval_ms = BASE};
    assert_int_equal(sw_store_open(f->dir, &so, &f->d->store, &err), SW_OK);
    f->d->data_dir = f->dir;
    f->d->rules = f->rules;
    f->d->rules_text = (char *)rules_text;
    f->d->rules_len = strlen(rules_text);
    f->d->base_ms = BASE;
    assert_int_equal(sw_eval_new(f->rules, &f->whole, &err), SW_OK);
    f->rng.state = 7;
    f->t = START;
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fx *f = *state;
    sw_daemon_checkpoint_wait(f->d);
    sw_store_close(f->d->store);
    sw_eval_free(f->d->ev);
    free(f->d);
    sw_eval_free(f->whole);
    sw_rules_free(f->rules);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", f->dir, f->log_path);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* One base interval of every series: stored, fed to the evaluator that never stops, which is
 * advanced to its end as a tick does; a slow phase every 20 minutes fires alerts. */
static void
step(fx *f)
{
    sw_store_row rows[N_SERIES];
    sw_sli_interval ivs[N_SERIES];
    sw_err err = {0};
    for (size_t i = 0; i < N_SERIES; i++) {
        sw_sli_interval *iv = &ivs[i];
        bool data = sw_rng_next(&f->rng) % 15 != 0;
        *iv = (sw_sli_interval){.start_ms = f->t, .length_ms = BASE, .has_data = data};
        if (data) {
            assert_int_equal(sw_hdr_new(&sw_hdr_latency_config, &iv->latency, NULL), SW_OK);
            int64_t n = 20 + (int64_t)(sw_rng_next(&f->rng) % 40);
            double median = (f->t / (20 * MIN)) % 2 == 0 ? 100000.0 : 70000.0;
            for (int64_t v = 0; v < n; v++)
                sw_hdr_record(iv->latency, sw_rng_lognormal_us(&f->rng, median, 0.5));
            iv->requests = (uint64_t)n;
            iv->errors = sw_rng_next(&f->rng) % 2;
        }
        rows[i] = (sw_store_row){series[i].service, series[i].env, iv};
        assert_int_equal(sw_eval_add(f->whole, series[i].service, series[i].env, iv, &err), SW_OK);
    }
    f->t += BASE;
    assert_int_equal(sw_store_put_taken(f->d->store, rows, N_SERIES, f->t, &err), SW_OK);
    for (size_t i = 0; i < N_SERIES; i++)
        sw_sli_interval_fini(&ivs[i]);
    assert_int_equal(sw_eval_advance(f->whole, f->t, &err), SW_OK);
}

static void
mark(fx *f, const char *service, const char *env)
{
    sw_err err = {0};
    assert_int_equal(sw_store_put_deployment(f->d->store, service, env, f->t, "test", NULL, &err),
                     SW_OK);
    sw_eval_mark_deployment(f->whole, service, env, f->t);
}

/* Start as the daemon does, its log into the fixture's file; returns the log's text. */
static char *
start(fx *f, sw_eval **ret)
{
    FILE *log = fopen(f->log_path, "w+");
    assert_non_null(log);
    sw_log_setup(SW_LOG_INFO, log);
    sw_err err = {0};
    assert_int_equal(sw_daemon_evaluator_start(f->d, f->t, ret, &err), SW_OK);
    sw_daemon_log_start_note(f->d); /* as sw_daemon_new does once started */
    sw_log_setup(SW_LOG_INFO, stderr);
    static char text[4096];
    rewind(log);
    size_t n = fread(text, 1, sizeof text - 1, log);
    text[n] = '\0';
    fclose(log);
    return text;
}

/* The truth's state written as the daemon writes it, covering every row stored so far. */
static void
checkpoint(fx *f)
{
    f->d->ev = f->whole;
    f->d->last_tick_ms = f->t;
    sw_daemon_checkpoint(f->d, f->t);
    f->d->ev = NULL;
}

/* Feeds `started` the stored rows of [from, to) and advances it to `to`. */
static sw_status
feed_row(void *ctx, const char *service, const char *env, const sw_sli_interval *iv, sw_err *err)
{
    return sw_eval_add(ctx, service, env, iv, err);
}

static void
go_on_together(fx *f, sw_eval *started, int64_t minutes)
{
    sw_err err = {0};
    for (int64_t end = f->t + minutes * MIN; f->t < end;) {
        int64_t from = f->t;
        step(f);
        assert_int_equal(
            sw_store_scan(f->d->store, NULL, from, f->t, from, feed_row, started, &err), SW_OK);
        assert_int_equal(sw_eval_advance(started, f->t, &err), SW_OK);
        assert_same_results(f->whole, started);
        for (size_t i = 0; i < N_SERIES; i++)
            assert_same_gate(f->whole, started, series[i].service, series[i].env, 10 * MIN);
    }
}

/* Checkpoint, then 20 minutes stored after it with a mark among them, then a start. */
static void
test_start_from_checkpoint_equals_uninterrupted(void **state)
{
    fx *f = *state;
    while (f->t < START + 50 * MIN)
        step(f);
    mark(f, "api", "green");
    while (f->t < START + 90 * MIN)
        step(f);
    checkpoint(f);
    for (int k = 0; f->t < START + 110 * MIN; k++) {
        if (k == 30)
            mark(f, "api", "green"); /* marked again after the checkpoint */
        step(f);
    }
    sw_eval *started;
    const char *log = start(f, &started);
    assert_non_null(strstr(log, "evaluator loaded from its checkpoint"));
    assert_true(assert_same_results(f->whole, started) > 0);
    for (size_t i = 0; i < N_SERIES; i++)
        assert_same_gate(f->whole, started, series[i].service, series[i].env, 10 * MIN);
    go_on_together(f, started, 15);
    sw_eval_free(started);
}

/* The 3-day objective's measured P99 of web. */
static double
web_p99_3d(const sw_eval *ev)
{
    sw_series_result r;
    for (size_t i = 0; i < sw_eval_series_count(ev); i++) {
        sw_eval_series(ev, i, &r);
        if (strcmp(r.service, "web") != 0)
            continue;
        for (size_t k = 0; k < r.rules->n_objectives; k++)
            if (strcmp(r.objectives[k].objective->name, "latency-p99-3d") == 0)
                return r.objectives[k].measured;
    }
    fail_msg("no web latency-p99-3d");
    return 0;
}

/* A start that loads the checkpoint, equals the truth and goes on equal for 5 minutes. */
static void
assert_checkpoint_start_goes_on(fx *f)
{
    sw_eval *started;
    const char *log = start(f, &started);
    assert_non_null(strstr(log, "evaluator loaded from its checkpoint"));
    assert_true(assert_same_results(f->whole, started) > 0);
    go_on_together(f, started, 5);
    sw_eval_free(started);
}

/* The first hour's CloudWatch statistics (a slower P99 than the minutes give), stored as the
 * poller stores them; stats (SW_CWPCT_WINDOW_MAX_BYTES) holds their encoding. */
static size_t
store_first_hour_stats(fx *f, uint8_t *stats)
{
    sw_cwpct_point pts[] = {{50, 40}, {99, 900}};
    sw_cwpct_period pd = {.points = pts,
                          .n_points = 2,
                          .sample_count = 2000,
                          .min = 5,
                          .max = 2000,
                          .unit_us = 1000,
                          .sum = NAN};
    size_t len = 0;
    sw_err err = {0};
    assert_int_equal(sw_cwpct_window_encode(&pd, stats, &len, &err), SW_OK);
    sw_store_window_stats ws = {"web", NULL, HOUR, START, stats, len};
    assert_int_equal(sw_store_put_window_stats(f->d->store, &ws, 1, &err), SW_OK);
    return len;
}

/* The truth pins the first hour live, as the tick does once the poller has fetched it. */
static void
pin_first_hour_live(fx *f, const uint8_t *stats, size_t len)
{
    bool done = false;
    sw_err err = {0};
    assert_int_equal(sw_eval_pin_hour(f->whole, "web", NULL, START, sw_cwpct_pin_stored, NULL,
                                      stats, len, &done, &err),
                     SW_OK);
    assert_true(done);
    assert_int_equal(sw_eval_advance(f->whole, f->t, &err), SW_OK);
}

/*
 * An hour stored with its CloudWatch statistics after the checkpoint: the truth pinned it live
 * (as the tick does once the poller fetched it); the start replays the hour's rows and must pin
 * it the same way, or its 3-day window would be the minutes' again.
 */
static void
test_start_repins_replayed_hours(void **state)
{
    fx *f = *state;
    while (f->t < START + 30 * MIN)
        step(f);
    checkpoint(f);
    while (f->t < START + HOUR + MIN)
        step(f);
    uint8_t stats[SW_CWPCT_WINDOW_MAX_BYTES];
    size_t len = store_first_hour_stats(f, stats);
    double minutes = web_p99_3d(f->whole);
    pin_first_hour_live(f, stats, len);
    double pinned = web_p99_3d(f->whole);
    if (!(pinned > 1.5 * minutes)) /* the pin moved it: the test can fail */
        fail_msg("3-day P99 %g us pinned, %g us from minutes", pinned, minutes);
    assert_checkpoint_start_goes_on(f);
}

/*
 * An hour packed in the checkpoint whose pin was still queued when serve stopped (the poller had
 * stored its statistics, no tick had pinned it yet): the truth pins it, as the next tick would
 * have; the start must pin it too, though the checkpoint holds the hour and nothing of it is
 * replayed.
 */
static void
test_start_pins_hour_queued_at_stop(void **state)
{
    fx *f = *state;
    while (f->t < START + HOUR + 5 * MIN)
        step(f);
    uint8_t stats[SW_CWPCT_WINDOW_MAX_BYTES];
    size_t len = store_first_hour_stats(f, stats);
    checkpoint(f);
    double minutes = web_p99_3d(f->whole);
    pin_first_hour_live(f, stats, len);
    if (!(web_p99_3d(f->whole) > 1.2 * minutes)) /* the pin moved it: the test can fail */
        fail_msg("3-day P99 %g us pinned, %g us from minutes", web_p99_3d(f->whole), minutes);
    assert_checkpoint_start_goes_on(f);
}

/* The tick's side of an hourly checkpoint: the truth is the tick's evaluator. */
typedef struct hourly_tick {
    fx *f;
    atomic_bool returned;
} hourly_tick;

static void
tick_checkpoint_hourly(fx *f)
{
    f->d->ev = f->whole;
    f->d->last_tick_ms = f->t;
    sw_daemon_checkpoint_hourly(f->d, f->t);
    f->d->ev = NULL;
}

static void *
hourly_on_tick(void *arg)
{
    hourly_tick *h = arg;
    tick_checkpoint_hourly(h->f);
    atomic_store(&h->returned, true);
    return NULL;
}

/* Whether flag is set within 60 s, polled every millisecond. */
static bool
becomes_true(atomic_bool *flag)
{
    for (int i = 0; i < 60000 && !atomic_load(flag); i++)
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    return atomic_load(flag);
}

/*
 * The hourly checkpoint is written off the tick: with its file's writer held (the temporary
 * file a FIFO nobody reads yet, so the writer blocks opening it), the tick that asked for it
 * returns, and the next tick too (it skips the hour while the last one is written). Once
 * the writer is let go and the next hour's checkpoint written, a start from it equals the
 * evaluator that never stopped.
 */
static void
test_hourly_checkpoint_off_the_tick(void **state)
{
    fx *f = *state;
    step(f);
    tick_checkpoint_hourly(f); /* the first hour counts from here */
    while (f->t < START + 70 * MIN)
        step(f);
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s/evaluator.ckpt.tmp", f->dir);
    assert_int_equal(mkfifo(tmp, 0600), 0);
    hourly_tick h = {.f = f};
    atomic_init(&h.returned, false);
    pthread_t tick;
    assert_int_equal(pthread_create(&tick, NULL, hourly_on_tick, &h), 0);
    bool returned = becomes_true(&h.returned);
    if (returned) {
        step(f); /* the next tick, while the writer is still held */
        tick_checkpoint_hourly(f);
    }
    int fd = open(tmp, O_RDONLY); /* the writer let go, whichever thread it is */
    assert_true(fd >= 0);
    char drain[65536];
    while (read(fd, drain, sizeof drain) > 0)
        ;
    close(fd);
    assert_int_equal(pthread_join(tick, NULL), 0);
    assert_true(returned);
    sw_daemon_checkpoint_wait(f->d); /* a FIFO cannot be synced: that one was not written */
    assert_int_equal(access(tmp, F_OK), -1);

    while (f->t < START + 135 * MIN)
        step(f);
    tick_checkpoint_hourly(f);
    sw_daemon_checkpoint_wait(f->d);
    for (int k = 0; k < 12; k++)
        step(f);
    assert_checkpoint_start_goes_on(f);
}

/* A refused checkpoint: the reason in the log, and the start is the full rebuild. */
static void
assert_falls_back(fx *f, const char *reason)
{
    sw_eval *started, *rebuilt;
    const char *log = start(f, &started);
    assert_non_null(strstr(log, "evaluator rebuilt from the store"));
    assert_non_null(strstr(log, reason));
    sw_err err = {0};
    assert_int_equal(sw_daemon_rebuild(f->d, f->rules, f->t, &rebuilt, &err), SW_OK);
    assert_true(assert_same_results(rebuilt, started) > 0);
    for (size_t i = 0; i < N_SERIES; i++)
        assert_same_gate(rebuilt, started, series[i].service, series[i].env, 10 * MIN);
    sw_eval_free(started);
    sw_eval_free(rebuilt);
}

static void
test_refused_checkpoints_fall_back_to_the_rebuild(void **state)
{
    fx *f = *state;
    while (f->t < START + 40 * MIN)
        step(f);
    assert_falls_back(f, sw_ckpt_verdict_text(SW_CKPT_MISSING));

    checkpoint(f);
    char path[200];
    snprintf(path, sizeof path, "%s/evaluator.ckpt", f->dir);
    FILE *file = fopen(path, "r+b");
    assert_non_null(file);
    assert_int_equal(fseek(file, 500, SEEK_SET), 0);
    int c = fgetc(file);
    assert_int_equal(fseek(file, 500, SEEK_SET), 0);
    fputc(c ^ 0x10, file);
    fclose(file);
    assert_falls_back(f, sw_ckpt_verdict_text(SW_CKPT_CORRUPT));

    /* Written by the previous version (its minutes also held the intervals the base level
     * still had): refused, not read as this one. */
    checkpoint(f);
    file = fopen(path, "r+b");
    assert_non_null(file);
    uint8_t older[4] = {SW_CKPT_VERSION - 1, 0, 0, 0};
    assert_int_equal(fseek(file, 8, SEEK_SET), 0);
    assert_int_equal(fwrite(older, 1, sizeof older, file), sizeof older);
    fclose(file);
    assert_falls_back(f, sw_ckpt_verdict_text(SW_CKPT_OTHER_VERSION));

    /* Covering rows the store does not hold (the store restored from an older backup). */
    f->d->ev = f->whole;
    sw_daemon_checkpoint(f->d, f->t + BASE);
    f->d->ev = NULL;
    assert_falls_back(f, sw_ckpt_verdict_text(SW_CKPT_AHEAD_OF_STORE));

    /* Other rules: the same services, one more alert. */
    checkpoint(f);
    static const char more[] = "  - name: LatencyP95Higher\n    when: p95 > 200ms\n    for: 1m\n";
    size_t n = strlen(rules_text) + sizeof more;
    char *other = malloc(n);
    assert_non_null(other);
    const char *cut = strstr(rules_text, "rollback_triggers:");
    size_t head = (size_t)(cut - rules_text);
    memcpy(other, rules_text, head);
    snprintf(other + head, n - head, "%s%s", more, cut);
    sw_rules *rules;
    sw_err err = {0};
    assert_int_equal(sw_rules_load_mem(other, strlen(other), "other", &rules, NULL, &err), SW_OK);
    f->d->rules = rules;
    f->d->rules_text = other;
    f->d->rules_len = strlen(other);
    assert_falls_back(f, sw_ckpt_verdict_text(SW_CKPT_OTHER_INPUTS));
    f->d->rules = f->rules;
    f->d->rules_text = (char *)rules_text;
    f->d->rules_len = strlen(rules_text);
    sw_rules_free(rules);
    free(other);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_start_repins_replayed_hours, setup, teardown),
        cmocka_unit_test_setup_teardown(test_start_pins_hour_queued_at_stop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_start_from_checkpoint_equals_uninterrupted, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_refused_checkpoints_fall_back_to_the_rebuild, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_hourly_checkpoint_off_the_tick, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
