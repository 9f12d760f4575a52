/*
 * Unit tests for the Prometheus sample map: selectors pick series as PromQL would (anchored
 * regexes, absent labels as ""), counters become per-interval increases with resets handled,
 * the `env` label picks the environment, batches apply whole or not at all, out-of-order and
 * invalid samples are dropped and counted, classic buckets joined across batches become the
 * histogram of their interval, native histograms their deltas, gauges health results; on a
 * scrape target new series count from zero and `_created` / `process_start_time_seconds` show
 * resets (bad start times ignored and counted). Every expected value is worked out by hand
 * from the samples fed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "slawatch/prommap.h"
#include "slawatch/promsample.h"
#include "slawatch/rules.h"

#define BASE 10000
#define T0 INT64_C(1790812800000) /* 2026-10-01T00:00:00Z, a multiple of BASE */

static const char rules_text[] =
    "version: 1\n"
    "base_interval: 10s\n"
    "services:\n"
    "  - name: api\n"
    "    sli:\n"
    "      requests: { prometheus: 'http_requests_total{job=\"api\"}' }\n"
    "      errors: { prometheus: 'http_requests_total{job=\"api\",code=~\"5..\"}' }\n"
    "      latency: { prometheus: 'http_request_duration_seconds{job=\"api\"}' }\n"
    "      health: { prometheus: 'up{job=\"api\"}' }\n"
    "  - name: web\n"
    "    environments: [blue, green]\n"
    "    sli:\n"
    "      requests: { prometheus: 'web_requests_total{path!~\"/health.*\"}' }\n"
    "      errors: { prometheus: 'web_errors_total' }\n"
    "      latency: { prometheus: 'web_latency_milliseconds' }\n";

typedef struct fixture {
    sw_rules *rules;
    sw_accum *accum;
    sw_prommap *map;
} fixture;

/* Intervals taken, by service and env ("-" for none), at most 16. */
typedef struct taken {
    char key[16][32];
    sw_sli_interval iv[16];
    size_t n;
} taken;

static int
setup(void **state)
{
    static fixture f;
    sw_err err;
    assert_int_equal(sw_rules_load_mem(rules_text, strlen(rules_text), "test.yaml", &f.rules, NULL,
                                       &err),
                     SW_OK);
    assert_int_equal(sw_accum_new(BASE, &f.accum, NULL), SW_OK);
    assert_int_equal(sw_prommap_new(f.rules, f.accum, &f.map, &err), SW_OK);
    *state = &f;
    return 0;
}

static int
teardown(void **state)
{
    fixture *f = *state;
    sw_prommap_free(f->map);
    sw_accum_free(f->accum);
    sw_rules_free(f->rules);
    return 0;
}

static sw_status
collect(void *ctx, const char *service, const char *env, sw_sli_interval *iv, sw_err *err)
{
    (void)err;
    taken *t = ctx;
    assert_true(t->n < 16);
    snprintf(t->key[t->n], sizeof t->key[0], "%s/%s@%lld", service, env ? env : "-",
             (long long)((iv->start_ms - T0) / 1000));
    t->iv[t->n++] = *iv;
    return SW_OK;
}

static const sw_sli_interval *
find(const taken *t, const char *key)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->key[i], key) == 0)
            return &t->iv[i];
    return NULL;
}

static void
take(fixture *f, int64_t until_ms, taken *t)
{
    assert_int_equal(sw_prommap_flush(f->map, until_ms, NULL), SW_OK);
    assert_int_equal(sw_accum_take(f->accum, until_ms, collect, t, NULL), SW_OK);
}

static void
release(taken *t)
{
    for (size_t i = 0; i < t->n; i++)
        sw_sli_interval_fini(&t->iv[i]);
    t->n = 0;
}

/* A sample from "name{k=v,...}" written plainly: labels as alternating names and values. */
typedef struct sample_spec {
    const char *name;
    const char *labels[8];
    double value;
    int64_t ts; /* 0: none */
} sample_spec;

static sw_status
feed(sw_prom_sink *sink, const sample_spec *spec)
{
    sw_prom_label labels[4];
    size_t n = 0;
    for (; n < 4 && spec->labels[2 * n] != NULL; n++)
        labels[n] = (sw_prom_label){spec->labels[2 * n], spec->labels[2 * n + 1],
                                    strlen(spec->labels[2 * n]), strlen(spec->labels[2 * n + 1])};
    sw_prom_sample s = {.name = spec->name,
                        .name_len = strlen(spec->name),
                        .labels = labels,
                        .n_labels = n,
                        .value = spec->value,
                        .timestamp_ms = spec->ts,
                        .has_timestamp = spec->ts != 0};
    return sink->sample(sink->ctx, &s, NULL);
}

/* One committed batch from source at at_ms with the target label job=api. */
static void
batch(fixture *f, const char *source, int64_t at_ms, const sample_spec *specs, size_t n)
{
    sw_prom_label job = {"job", "api", 3, 3};
    sw_prommap_batch *b;
    assert_int_equal(sw_prommap_begin(f->map, source, &job, 1, at_ms, &b, NULL), SW_OK);
    sw_prom_sink sink = sw_prommap_sink(b);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(feed(&sink, &specs[i]), SW_OK);
    assert_int_equal(sw_prommap_commit(b, NULL), SW_OK);
}

/* The same, as a scrape of target source (its whole exposition). */
static void
scrape(fixture *f, const char *source, int64_t at_ms, const sample_spec *specs, size_t n)
{
    sw_prom_label job = {"job", "api", 3, 3};
    sw_prommap_batch *b;
    assert_int_equal(sw_prommap_begin(f->map, source, &job, 1, at_ms, &b, NULL), SW_OK);
    sw_prommap_mark_scrape(b);
    sw_prom_sink sink = sw_prommap_sink(b);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(feed(&sink, &specs[i]), SW_OK);
    assert_int_equal(sw_prommap_commit(b, NULL), SW_OK);
}

static sw_prommap_stats
stats(fixture *f)
{
    sw_prommap_stats st;
    sw_prommap_stats_get(f->map, &st);
    return st;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define SECONDS(ms) ((double)(ms) / 1000.0)

static void
test_counters_become_increases(void **state)
{
    fixture *f = *state;
    sample_spec s1[] = {{"http_requests_total", {"code", "200"}, 100, 0},
                        {"http_requests_total", {"code", "500"}, 5, 0},
                        {"http_requests_total", {"code", "5000"}, 7, 0}};
    sample_spec s2[] = {{"http_requests_total", {"code", "200"}, 150, 0},
                        {"http_requests_total", {"code", "500"}, 8, 0},
                        {"http_requests_total", {"code", "5000"}, 9, 0}};
    /* The 200s counter restarted at 20 (a reset): its increase is 20, not -130. */
    sample_spec s3[] = {{"http_requests_total", {"code", "200"}, 20, 0},
                        {"http_requests_total", {"code", "500"}, 8, 0},
                        {"http_requests_total", {"code", "5000"}, 9, 0}};
    batch(f, "t1", T0 + 1000, s1, N(s1));
    batch(f, "t1", T0 + 11000, s2, N(s2));
    batch(f, "t1", T0 + 21000, s3, N(s3));
    taken t = {0};
    take(f, T0 + 30000, &t);
    /* The first scrape only sets the baselines: nothing for [0, 10 s). */
    assert_null(find(&t, "api/-@0"));
    const sw_sli_interval *a = find(&t, "api/-@10"), *b = find(&t, "api/-@20");
    assert_non_null(a);
    assert_non_null(b);
    /* code="5000" is a request but not an error: the regex 5.. is anchored. */
    assert_int_equal(a->requests, 50 + 3 + 2);
    assert_int_equal(a->errors, 3);
    assert_int_equal(b->requests, 20 + 0 + 0);
    assert_int_equal(b->errors, 0);
    release(&t);
}

static void
test_sources_keep_their_own_state(void **state)
{
    fixture *f = *state;
    sample_spec x[] = {{"http_requests_total", {"code", "200"}, 10, 0}};
    sample_spec y[] = {{"http_requests_total", {"code", "200"}, 1000, 0}};
    batch(f, "a", T0 + 1000, x, 1);
    batch(f, "b", T0 + 1000, y, 1);
    x[0].value = 15;
    y[0].value = 1010;
    batch(f, "a", T0 + 11000, x, 1);
    batch(f, "b", T0 + 11000, y, 1);
    taken t = {0};
    take(f, T0 + 20000, &t);
    const sw_sli_interval *iv = find(&t, "api/-@10");
    assert_non_null(iv);
    assert_int_equal(iv->requests, 5 + 10);
    release(&t);
    sw_prommap_forget(f->map, "a");
    x[0].value = 40;
    batch(f, "a", T0 + 21000, x, 1); /* a new baseline after forgetting */
    take(f, T0 + 30000, &t);
    assert_null(find(&t, "api/-@20"));
    release(&t);
}

static void
test_environments_come_from_the_env_label(void **state)
{
    fixture *f = *state;
    sample_spec s1[] = {{"web_requests_total", {"env", "blue", "path", "/"}, 10, 0},
                        {"web_requests_total", {"env", "green", "path", "/"}, 20, 0},
                        {"web_requests_total", {"env", "red", "path", "/"}, 30, 0},
                        {"web_requests_total", {"env", "blue", "path", "/healthz"}, 40, 0}};
    sample_spec s2[] = {{"web_requests_total", {"env", "blue", "path", "/"}, 11, 0},
                        {"web_requests_total", {"env", "green", "path", "/"}, 25, 0},
                        {"web_requests_total", {"env", "red", "path", "/"}, 90, 0},
                        {"web_requests_total", {"env", "blue", "path", "/healthz"}, 99, 0}};
    batch(f, "t", T0 + 1000, s1, N(s1));
    batch(f, "t", T0 + 11000, s2, N(s2));
    taken t = {0};
    take(f, T0 + 20000, &t);
    const sw_sli_interval *blue = find(&t, "web/blue@10"), *green = find(&t, "web/green@10");
    assert_non_null(blue);
    assert_non_null(green);
    assert_int_equal(blue->requests, 1); /* /healthz is excluded by !~ */
    assert_int_equal(green->requests, 5);
    sw_prommap_stats st;
    sw_prommap_stats_get(f->map, &st);
    assert_int_equal(st.no_env, 2); /* env="red", once per batch */
    release(&t);
}

static void
test_aborted_batch_changes_nothing(void **state)
{
    fixture *f = *state;
    sample_spec s[] = {{"http_requests_total", {"code", "200"}, 100, 0}};
    batch(f, "t", T0 + 1000, s, 1);
    sw_prom_label job = {"job", "api", 3, 3};
    sw_prommap_batch *b;
    assert_int_equal(sw_prommap_begin(f->map, "t", &job, 1, T0 + 11000, &b, NULL), SW_OK);
    sw_prom_sink sink = sw_prommap_sink(b);
    s[0].value = 160;
    assert_int_equal(feed(&sink, &s[0]), SW_OK);
    sw_prommap_abort(b);
    s[0].value = 170;
    batch(f, "t", T0 + 21000, s, 1);
    taken t = {0};
    take(f, T0 + 30000, &t);
    assert_null(find(&t, "api/-@10"));
    const sw_sli_interval *iv = find(&t, "api/-@20");
    assert_non_null(iv);
    assert_int_equal(iv->requests, 70); /* the aborted 160 never became the baseline */
    release(&t);
}

/* A committed batch whose last sample cannot be applied (an increase past 2^63: counts are
 * 64-bit sums) hands the accumulators none of its samples. */
static void
test_failed_commit_applies_nothing(void **state)
{
    fixture *f = *state;
    sample_spec base[] = {{"http_requests_total", {"code", "200"}, 100, 0},
                          {"http_requests_total", {"code", "201"}, 0, 0}};
    batch(f, "t", T0 + 1000, base, 2);
    sw_prom_label job = {"job", "api", 3, 3};
    sw_prommap_batch *b;
    assert_int_equal(sw_prommap_begin(f->map, "t", &job, 1, T0 + 2000, &b, NULL), SW_OK);
    sw_prom_sink sink = sw_prommap_sink(b);
    sample_spec next[] = {{"http_requests_total", {"code", "200"}, 160, 0},
                          {"http_requests_total", {"code", "201"}, 1e30, 0}};
    for (size_t i = 0; i < N(next); i++)
        assert_int_equal(feed(&sink, &next[i]), SW_OK);
    sw_err err;
    assert_int_equal(sw_prommap_commit(b, &err), SW_E_RANGE);
    assert_non_null(strstr(err.msg, "2^63"));
    taken t = {0};
    take(f, T0 + 10000, &t);
    const sw_sli_interval *iv = find(&t, "api/-@0");
    assert_true(iv == NULL || iv->requests == 0);
    release(&t);
}

static void
test_out_of_order_invalid_and_stale(void **state)
{
    fixture *f = *state;
    sample_spec s[] = {{"http_requests_total", {"code", "200"}, 100, T0 + 12000},
                       {"http_requests_total", {"code", "200"}, 90, T0 + 11000}, /* older */
                       {"http_requests_total", {"code", "200"}, 110, T0 + 12000}, /* same ts */
                       {"http_requests_total", {"code", "200"}, NAN, T0 + 13000},
                       {"http_requests_total", {"code", "200"}, -5, T0 + 14000},
                       {"http_requests_total", {"code", "200"}, 130, T0 + 15000}};
    batch(f, "rw", 0, s, N(s));
    sw_prommap_stats st;
    sw_prommap_stats_get(f->map, &st);
    assert_int_equal(st.out_of_order, 2);
    assert_int_equal(st.invalid, 2);
    /* A stale marker ends the series: the next value is a new baseline. */
    double stale;
    uint64_t bits = UINT64_C(0x7ff0000000000002);
    memcpy(&stale, &bits, sizeof stale);
    sample_spec end[] = {{"http_requests_total", {"code", "200"}, stale, T0 + 16000},
                         {"http_requests_total", {"code", "200"}, 500, T0 + 17000}};
    batch(f, "rw", 0, end, N(end));
    taken t = {0};
    take(f, T0 + 20000, &t);
    const sw_sli_interval *iv = find(&t, "api/-@10");
    assert_non_null(iv);
    assert_int_equal(iv->requests, 30); /* 100 -> 130 only */
    release(&t);
}

static void
test_health_from_a_gauge(void **state)
{
    fixture *f = *state;
    sample_spec s[] = {{"up", {NULL}, 1, T0 + 1000},
                       {"up", {NULL}, 0, T0 + 4000},
                       {"up", {NULL}, 0, T0 + 7000}};
    batch(f, "t", 0, s, N(s));
    taken t = {0};
    take(f, T0 + 10000, &t);
    const sw_sli_interval *iv = find(&t, "api/-@0");
    assert_non_null(iv);
    assert_int_equal(iv->health.probes, 3);
    assert_int_equal(iv->health.failures, 2);
    assert_int_equal(iv->health.trailing_failures, 2);
    release(&t);
}

/* Cumulative bucket counts of http_request_duration_seconds at one time. */
static void
buckets(fixture *f, const char *source, int64_t ts, const double cum[4], size_t from, size_t to)
{
    static const char *les[] = {"0.1", "0.5", "1", "+Inf"};
    sample_spec s[4];
    for (size_t i = from; i < to; i++)
        s[i - from] = (sample_spec){"http_request_duration_seconds_bucket", {"le", les[i]},
                                    cum[i], ts};
    batch(f, source, 0, s, to - from);
}

static void
test_classic_buckets_joined_across_batches(void **state)
{
    fixture *f = *state;
    double before[4] = {100, 300, 400, 400}, after[4] = {110, 330, 440, 440};
    buckets(f, "rw", T0 + 5000, before, 0, 4);
    /* The next scrape's buckets arrive in two requests, as remote write may split them. */
    buckets(f, "rw", T0 + 15000, after, 0, 2);
    buckets(f, "rw", T0 + 15000, after, 2, 4);
    taken t = {0};
    take(f, T0 + 20000, &t);
    const sw_sli_interval *iv = find(&t, "api/-@10");
    assert_non_null(iv);
    assert_non_null(iv->latency);
    /* Increases 10, 30, 40, 40: 10 in (0, 0.1 s], 20 in (0.1, 0.5], 10 in (0.5, 1]. */
    assert_int_equal(sw_hdr_total_count(iv->latency), 40);
    int64_t below_100ms = sw_hdr_count_at_or_below(iv->latency, 99000);
    int64_t below_500ms = sw_hdr_count_at_or_below(iv->latency, 499000);
    int64_t below_1s = sw_hdr_count_at_or_below(iv->latency, 1000000);
    assert_true(below_100ms >= 9 && below_100ms <= 10);
    assert_true(below_500ms >= 29 && below_500ms <= 30);
    assert_int_equal(below_1s, 40);
    assert_true(sw_hdr_min(iv->latency) < 100000);
    release(&t);
}

static void
test_native_histogram_deltas(void **state)
{
    fixture *f = *state;
    sw_prom_label job = {"job", "api", 3, 3};
    /* Schema 0: bucket 1 is (1, 2] ms, bucket 2 is (2, 4] ms (the name says milliseconds). */
    sw_prom_span span = {1, 2};
    double first[2] = {3, 5}, second[2] = {7, 5};
    sw_prom_native h = {.schema = 0, .pos_spans = &span, .n_pos_spans = 1, .n_pos_counts = 2};
    sw_prom_label env = {"env", "green", 3, 5};
    sw_prom_sample s = {.name = "web_latency_milliseconds",
                        .name_len = strlen("web_latency_milliseconds"),
                        .labels = &env,
                        .n_labels = 1,
                        .has_timestamp = true};
    for (int round = 0; round < 2; round++) {
        sw_prommap_batch *b;
        assert_int_equal(sw_prommap_begin(f->map, "t", &job, 1, 0, &b, NULL), SW_OK);
        sw_prom_sink sink = sw_prommap_sink(b);
        h.pos_counts = round == 0 ? first : second;
        h.count = round == 0 ? 8 : 12;
        s.timestamp_ms = T0 + (round == 0 ? 5000 : 15000);
        assert_int_equal(sink.native(sink.ctx, &s, &h, NULL), SW_OK);
        assert_int_equal(sw_prommap_commit(b, NULL), SW_OK);
    }
    taken t = {0};
    take(f, T0 + 20000, &t);
    const sw_sli_interval *iv = find(&t, "web/green@10");
    assert_non_null(iv);
    assert_non_null(iv->latency);
    /* Deltas: 4 in (1, 2] ms, 0 in (2, 4] ms. */
    assert_int_equal(sw_hdr_total_count(iv->latency), 4);
    assert_true(sw_hdr_min(iv->latency) >= 1000 - 1);
    assert_true(sw_hdr_max(iv->latency) <= 2000 + 2);
    release(&t);
}

/* A code="504" series appearing during an incident: all 7 of its requests are new. */
static void
test_new_series_on_a_scraped_target(void **state)
{
    fixture *f = *state;
    sample_spec s1[] = {{"http_requests_total", {"code", "200"}, 100, 0}};
    sample_spec s2[] = {{"http_requests_total", {"code", "200"}, 150, 0},
                        {"http_requests_total", {"code", "504"}, 7, 0}};
    scrape(f, "t1", T0 + 1000, s1, N(s1));
    scrape(f, "t1", T0 + 11000, s2, N(s2));
    /* Remote write sends any subset of series per request: there a new series is a baseline. */
    batch(f, "rw", T0 + 1000, s1, N(s1));
    batch(f, "rw", T0 + 11000, s2, N(s2));
    taken t = {0};
    take(f, T0 + 20000, &t);
    assert_null(find(&t, "api/-@0")); /* a target's first scrape sets baselines */
    const sw_sli_interval *iv = find(&t, "api/-@10");
    assert_non_null(iv);
    assert_int_equal(iv->requests, (50 + 7) + 50);
    assert_int_equal(iv->errors, 7);
    assert_int_equal(stats(f).started[SW_PROMSTART_ABSENT], 1);
    release(&t);
}

/* On a target's first scrape, `_created` tells new series from old ones. */
static void
test_created_dates_new_series(void **state)
{
    fixture *f = *state;
    sample_spec s1[] = {{"http_requests_total", {"code", "200"}, 4, 0},
                        {"http_requests_created", {"code", "200"}, SECONDS(T0 + 2000), 0},
                        {"http_requests_total", {"code", "500"}, 100, 0},
                        {"http_requests_created", {"code", "500"}, SECONDS(T0 - 60000), 0}};
    /* Created before the previous scrape though absent from it: counts from before: baseline. */
    sample_spec s2[] = {{"http_requests_total", {"code", "200"}, 6, 0},
                        {"http_requests_created", {"code", "200"}, SECONDS(T0 + 2000), 0},
                        {"http_requests_total", {"code", "500"}, 101, 0},
                        {"http_requests_created", {"code", "500"}, SECONDS(T0 - 60000), 0},
                        {"http_requests_total", {"code", "503"}, 9, 0},
                        {"http_requests_created", {"code", "503"}, SECONDS(T0 + 1000), 0}};
    scrape(f, "t1", T0 + 5000, s1, N(s1));
    scrape(f, "t1", T0 + 15000, s2, N(s2));
    taken t = {0};
    take(f, T0 + 20000, &t);
    const sw_sli_interval *a = find(&t, "api/-@0"), *b = find(&t, "api/-@10");
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(a->requests, 4);
    assert_int_equal(a->errors, 0);
    assert_int_equal(b->requests, 2 + 1);
    assert_int_equal(b->errors, 1);
    assert_int_equal(stats(f).started[SW_PROMSTART_CREATED], 1);
    release(&t);
}

/* A restart whose new values are already above the old ones: the new value is the increase. */
static void
test_restart_without_a_decrease(void **state)
{
    fixture *f = *state;
    sample_spec s1[] = {{"process_start_time_seconds", {NULL}, SECONDS(T0 - 3600000), 0},
                        {"http_requests_total", {"code", "200"}, 100, 0},
                        {"http_requests_total", {"code", "500"}, 10, 0},
                        {"http_requests_created", {"code", "500"}, SECONDS(T0 - 3600000), 0}};
    /* The process restarted at T0 + 10.5 s and served 150 requests since. */
    sample_spec s2[] = {{"process_start_time_seconds", {NULL}, SECONDS(T0 + 10500), 0},
                        {"http_requests_total", {"code", "200"}, 150, 0},
                        {"http_requests_total", {"code", "500"}, 10, 0},
                        {"http_requests_created", {"code", "500"}, SECONDS(T0 - 3600000), 0}};
    /* Only the 500s series was made again (its _created moved past its last sample). */
    sample_spec s3[] = {{"process_start_time_seconds", {NULL}, SECONDS(T0 + 10500), 0},
                        {"http_requests_total", {"code", "200"}, 170, 0},
                        {"http_requests_total", {"code", "500"}, 12, 0},
                        {"http_requests_created", {"code", "500"}, SECONDS(T0 + 20000), 0}};
    scrape(f, "t1", T0 + 1000, s1, N(s1));
    scrape(f, "t1", T0 + 11000, s2, N(s2));
    scrape(f, "t1", T0 + 21000, s3, N(s3));
    taken t = {0};
    take(f, T0 + 30000, &t);
    const sw_sli_interval *a = find(&t, "api/-@10"), *b = find(&t, "api/-@20");
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(a->requests, 150 + 10);
    assert_int_equal(a->errors, 10);
    assert_int_equal(b->requests, 20 + 12);
    assert_int_equal(b->errors, 12);
    sw_prommap_stats st = stats(f);
    assert_int_equal(st.resets[SW_PROMMAP_RESET_PROCESS_START], 2);
    assert_int_equal(st.resets[SW_PROMMAP_RESET_CREATED], 1);
    assert_int_equal(st.resets[SW_PROMMAP_RESET_DECREASE], 0);
    release(&t);
}

/* A start time in the future, a flapping _created, a target that restarts at every scrape. */
static void
test_bad_start_times(void **state)
{
    fixture *f = *state;
    double c1 = SECONDS(T0 - 50000), c2 = SECONDS(T0 + 5000);
    double future = SECONDS(T0 + 86400000);
    /* value of code 200, _created of code 500 (flapping), value of code 500, process start */
    const struct {
        double ok, created, err, start;
    } scrapes[] = {
        {100, c1, 10, future}, /* first scrape: baselines; a future start is ignored */
        {110, c2, 12, future}, /* c2 is after the 500s' last sample: a reset, 12 counted */
        {120, c1, 14, future}, /* moved back: ignored, +2 */
        {130, c2, 16, future}, /* moved again but not past the last sample: ignored, +2 */
    };
    for (size_t i = 0; i < N(scrapes); i++) {
        sample_spec s[] = {
            {"process_start_time_seconds", {NULL}, scrapes[i].start, 0},
            {"http_requests_total", {"code", "200"}, scrapes[i].ok, 0},
            {"http_requests_total", {"code", "500"}, scrapes[i].err, 0},
            {"http_requests_created", {"code", "500"}, scrapes[i].created, 0},
        };
        scrape(f, "t1", T0 + 1000 + 10000 * (int64_t)i, s, N(s));
    }
    /* A target that restarts before every scrape: each value is new, never negative; even the
     * first, as the process started inside the interval of that first scrape. */
    const double values[] = {5, 3, 8, 8};
    for (size_t i = 0; i < N(values); i++) {
        int64_t at = T0 + 2000 + 10000 * (int64_t)i;
        sample_spec s[] = {{"process_start_time_seconds", {NULL}, SECONDS(at - 500), 0},
                           {"http_requests_total", {"code", "201"}, values[i], 0}};
        scrape(f, "t2", at, s, N(s));
    }
    taken t = {0};
    take(f, T0 + 40000, &t);
    uint64_t requests = 0, errors = 0;
    for (size_t i = 0; i < t.n; i++) {
        requests += t.iv[i].requests;
        errors += t.iv[i].errors;
    }
    assert_int_equal(errors, 12 + 2 + 2);
    assert_int_equal(requests, 30 + (12 + 2 + 2) + (5 + 3 + 8 + 8));
    sw_prommap_stats st = stats(f);
    assert_int_equal(st.start_ignored[SW_PROMSTART_FUTURE], 4);
    assert_int_equal(st.start_ignored[SW_PROMSTART_MOVED], 2);
    assert_int_equal(st.resets[SW_PROMMAP_RESET_CREATED], 1);
    assert_int_equal(st.resets[SW_PROMMAP_RESET_PROCESS_START], 3);
    assert_int_equal(st.started[SW_PROMSTART_PROCESS_START], 1);
    release(&t);
}

static void
test_reload_keeps_counter_state(void **state)
{
    fixture *f = *state;
    sample_spec s[] = {{"http_requests_total", {"code", "200"}, 100, 0}};
    batch(f, "t", T0 + 1000, s, 1);
    sw_err err;
    assert_int_equal(sw_prommap_set_rules(f->map, f->rules, &err), SW_OK);
    s[0].value = 125;
    batch(f, "t", T0 + 11000, s, 1);
    taken t = {0};
    take(f, T0 + 20000, &t);
    const sw_sli_interval *iv = find(&t, "api/-@10");
    assert_non_null(iv);
    assert_int_equal(iv->requests, 25);
    release(&t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_counters_become_increases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sources_keep_their_own_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_environments_come_from_the_env_label, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_aborted_batch_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_commit_applies_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_out_of_order_invalid_and_stale, setup, teardown),
        cmocka_unit_test_setup_teardown(test_health_from_a_gauge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_classic_buckets_joined_across_batches, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_native_histogram_deltas, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload_keeps_counter_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_new_series_on_a_scraped_target, setup, teardown),
        cmocka_unit_test_setup_teardown(test_created_dates_new_series, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_without_a_decrease, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_start_times, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
