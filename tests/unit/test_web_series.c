/*
 * Unit tests for exporters/web_series: a store written here with six known hours of one-minute
 * rows (rolled up to hours by the store), read back as a service page's buckets. The expected
 * figures come from the minute model below, added up by the test itself: counts per bucket,
 * percentiles by the nearest-rank rule over the recorded values, the budget as the errors over
 * (1 - target) of the requests, maintenance minutes left out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "slawatch/hdr.h"
#include "slawatch/rules.h"
#include "slawatch/store.h"
#include "slawatch/web_series.h"
#include "store_dir.h"

#define MIN_MS INT64_C(60000)
#define HOUR_MS INT64_C(3600000)
#define DAY_MS INT64_C(86400000)
#define T0 INT64_C(1796601600000) /* 2026-12-07T00:00:00Z */
#define MINUTES 360
#define NOW (T0 + 7 * HOUR_MS)
#define MAINT_FROM 200 /* 03:20 */
#define MAINT_TO 230   /* 03:50 */
#define INCIDENT_FROM 60
#define INCIDENT_TO 90

static const char rules_text[] = "version: 1\n"
                                 "base_interval: 10s\n"
                                 "services:\n"
                                 "  - name: api\n"
                                 "    environments: [blue]\n"
                                 "    sli: {requests: {push: true}, errors: {push: true},\n"
                                 "          latency: {push: true}}\n"
                                 "    maintenance:\n"
                                 "      - start: 2026-12-07T03:20:00Z\n"
                                 "        end: 2026-12-07T03:50:00Z\n"
                                 "        reason: disk <swap>\n"
                                 "  - name: web\n"
                                 "    sli: {requests: {push: true}, errors: {push: true}}\n"
                                 "objectives:\n"
                                 "  - name: availability\n"
                                 "    objective: availability >= 99%\n"
                                 "  - name: p95\n"
                                 "    objective: p95 <= 500ms\n"
                                 "  - name: p99\n"
                                 "    objective: p99 <= 1000ms\n";

/* The minute model: 600 requests; errors 1 (60 in the incident); latency 88 x 100 ms, 10 x
 * 300 ms, 2 x 1 s (in the incident 40 x 100 ms, 60 x 2 s). */
static const int64_t lat_values[] = {100000, 300000, 1000000, 2000000};

static bool
incident(int m)
{
    return m >= INCIDENT_FROM && m < INCIDENT_TO;
}

static bool
maint(int m)
{
    return m >= MAINT_FROM && m < MAINT_TO;
}

static void
minute_counts(int m, int64_t counts[4])
{
    int64_t normal[4] = {88, 10, 2, 0}, bad[4] = {40, 0, 0, 60};
    memcpy(counts, incident(m) ? bad : normal, sizeof normal);
}

typedef struct expect {
    uint64_t requests, errors;
    int64_t lat[4];
} expect;

static void
expect_minutes(int from, int to, expect *e)
{
    memset(e, 0, sizeof *e);
    for (int m = from; m < to && m < MINUTES; m++) {
        if (m < 0 || maint(m))
            continue;
        int64_t c[4];
        minute_counts(m, c);
        e->requests += 600;
        e->errors += incident(m) ? 60 : 1;
        for (int i = 0; i < 4; i++)
            e->lat[i] += c[i];
    }
}

/* Nearest rank: the first value whose running count reaches ceil(p% of the total). */
static double
nearest_rank(const expect *e, double p)
{
    int64_t total = e->lat[0] + e->lat[1] + e->lat[2] + e->lat[3], seen = 0;
    if (total == 0)
        return NAN;
    double rank = ceil(p / 100.0 * (double)total);
    for (int i = 0; i < 4; i++) {
        seen += e->lat[i];
        if ((double)seen >= rank)
            return (double)lat_values[i];
    }
    return NAN;
}

static void
near(double got, double want, const char *what, size_t k)
{
    /* Relative to the value, but budgets pass through 0: absolute there. */
    if (isnan(want) ? !isnan(got) : !(fabs(got - want) <= fmax(1e-3 * fabs(want), 1e-9)))
        fail_msg("%s of bucket %zu: got %g, want %g", what, k, got, want);
}

typedef struct fixture {
    char dir[64];
    sw_store *st;
    sw_rules *rules;
} fixture;

static sw_sli_interval
minute_row(int m)
{
    sw_sli_interval iv = {.start_ms = T0 + m * MIN_MS,
                          .length_ms = MIN_MS,
                          .requests = 600,
                          .errors = incident(m) ? 60 : 1,
                          .has_data = true};
    assert_int_equal(sw_hdr_new(&sw_hdr_latency_config, &iv.latency, NULL), SW_OK);
    int64_t c[4];
    minute_counts(m, c);
    for (int i = 0; i < 4; i++)
        if (c[i])
            assert_true(sw_hdr_record_n(iv.latency, lat_values[i], c[i]));
    return iv;
}

static void
write_store(sw_store *st)
{
    sw_err err = {0};
    for (int m = 0; m < MINUTES; m++) {
        sw_sli_interval iv = minute_row(m);
        /* web shares the store: none of it may reach api's page. */
        sw_store_row rows[] = {{"api", "blue", &iv}, {"web", NULL, &iv}};
        assert_int_equal(sw_store_import(st, SW_STORE_1M_MS, rows, 2, &err), SW_OK);
        sw_sli_interval_fini(&iv);
    }
    assert_int_equal(sw_store_rollup(st, NOW, &err), SW_OK);
    assert_int_equal(sw_store_put_deployment(st, "api", "blue", T0 + 2 * HOUR_MS, "ci", NULL, &err),
                     SW_OK);
    assert_int_equal(sw_store_put_deployment(st, "web", NULL, T0 + 2 * HOUR_MS, "ci", NULL, &err),
                     SW_OK);
    assert_int_equal(sw_store_put_deployment(st, "api", "blue", T0 - 3 * DAY_MS, "ci", NULL, &err),
                     SW_OK);
    sw_store_gate_audit a = {T0 + 2 * HOUR_MS + MIN_MS,
                             "pipeline",
                             "api",
                             "blue",
                             600000,
                             "fail",
                             "[{\"check\":\"error_rate <= 1%\",\"ok\":false}]"};
    assert_int_equal(sw_store_put_gate_audit(st, &a, &err), SW_OK);
    a.service = "web";
    assert_int_equal(sw_store_put_gate_audit(st, &a, &err), SW_OK);
    sw_store_event e = {"alert", "ErrorBudgetBurn", "api",
                        "blue",  "firing",          T0 + INCIDENT_FROM * MIN_MS + 2 * MIN_MS,
                        0.1};
    assert_int_equal(sw_store_put_event(st, &e, &err), SW_OK);
}

static int
setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/sw_web_series_XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    sw_err err = {0};
    assert_int_equal(sw_store_open(f->dir, NULL, &f->st, &err), SW_OK);
    assert_int_equal(sw_rules_load_mem(rules_text, strlen(rules_text), "t", &f->rules, NULL, &err),
                     SW_OK);
    write_store(f->st);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture *f = *state;
    sw_store_close(f->st);
    sw_rules_free(f->rules);
    store_dir_remove(f->dir);
    free(f);
    return 0;
}

static sw_web_series *
load(fixture *f, const char *from, const char *to)
{
    sw_web_range r;
    sw_err err = {0};
    sw_web_series *s = NULL;
    if (sw_web_range_parse("custom", from, to, NOW, 0, 30 * DAY_MS, &r, &err) != SW_OK)
        fail_msg("range: %s", err.msg);
    if (sw_web_series_load(f->st, f->rules, "api", &r, &s, &err) != SW_OK)
        fail_msg("load: %s", err.msg);
    return s;
}

static void
check_bucket(const sw_web_series *s, size_t k, int from_min, int to_min)
{
    const sw_web_bucket *b = &s->buckets[k];
    expect e;
    expect_minutes(from_min, to_min, &e);
    assert_int_equal(b->start_ms, T0 + from_min * MIN_MS);
    assert_int_equal(b->requests, e.requests);
    assert_int_equal(b->errors, e.errors);
    near(b->availability, e.requests ? 1.0 - (double)e.errors / (double)e.requests : NAN,
         "availability", k);
    int open = 0;
    for (int m = from_min; m < to_min; m++)
        open += !maint(m);
    near(b->rate_rps, e.requests ? (double)e.requests / (open * 60.0) : NAN, "rate", k);
    near(b->p50_us, nearest_rank(&e, 50), "p50", k);
    near(b->p95_us, nearest_rank(&e, 95), "p95", k);
    near(b->p99_us, nearest_rank(&e, 99), "p99", k);
    assert_int_equal(b->maint, from_min < MAINT_TO && MAINT_FROM < to_min);
}

static void
check_whole(const sw_web_series *s)
{
    expect all;
    expect_minutes(0, MINUTES, &all);
    assert_int_equal(s->requests, all.requests);
    assert_int_equal(s->errors, all.errors);
    near(s->p50_us, nearest_rank(&all, 50), "range p50", 0);
    near(s->p95_us, nearest_rank(&all, 95), "range p95", 0);
    near(s->p99_us, nearest_rank(&all, 99), "range p99", 0);
    /* 330 open minutes x 600 requests, 300 x 1 + 30 x 60 errors: 1 - 2100 / 1980. */
    near(s->budget_left, 1.0 - 2100.0 / 1980.0, "budget", 0);
}

static void
test_five_minute_buckets(void **state)
{
    fixture *f = *state;
    sw_web_series *s = load(f, "2026-12-07T00:00:00Z", "2026-12-07T06:00:00Z");
    /* 6 h: 360 one-minute buckets is past 200, 72 of 5 minutes is not. */
    assert_int_equal(s->range.bucket_ms, 5 * MIN_MS);
    assert_int_equal(s->n_buckets, 72);
    uint64_t spent = 0;
    for (size_t k = 0; k < 72; k++) {
        check_bucket(s, k, (int)k * 5, (int)k * 5 + 5);
        spent += s->buckets[k].errors;
        near(s->buckets[k].budget_left, 1.0 - (double)spent / (0.01 * 330 * 600), "budget", k);
        near(s->buckets[k].budget_ideal, 1.0 - (double)(k + 1) / 72.0, "ideal", k);
    }
    check_whole(s);
    near(s->availability_target, 0.99, "target", 0);
    near(s->p99_target_us, 1000000, "p99 target", 0);
    assert_int_equal(s->n_maint, 1);
    assert_string_equal(s->maint[0].reason, "disk <swap>");
    sw_web_series_free(s);
}

static void
test_hour_buckets_cut_by_maintenance(void **state)
{
    fixture *f = *state;
    /* 2 days and 6 hours: 15-minute buckets would be 216, hours 54, read from hour rows; the
     * hour 03:00 is read again by the minute to leave out 03:20-03:50 only. */
    sw_web_series *s = load(f, "2026-12-05T00:00:00Z", "2026-12-07T06:00:00Z");
    assert_int_equal(s->range.bucket_ms, HOUR_MS);
    assert_int_equal(s->n_buckets, 54);
    for (size_t k = 0; k < 48; k++)
        assert_int_equal(s->buckets[k].requests, 0);
    for (size_t h = 0; h < 6; h++)
        check_bucket(s, 48 + h, (int)h * 60, (int)h * 60 + 60);
    /* The hour of the maintenance: 30 open minutes, 18,000 requests over 1,800 s. */
    assert_int_equal(s->buckets[51].requests, 18000);
    near(s->buckets[51].rate_rps, 10.0, "rate", 51);
    check_whole(s);
    sw_web_series_free(s);
}

static void
test_marks_gates_events(void **state)
{
    fixture *f = *state;
    sw_web_series *s = load(f, "2026-12-07T00:00:00Z", "2026-12-07T06:00:00Z");
    /* api's deployment in the range; web's and the one three days back are not on the page. */
    assert_int_equal(s->n_deployments, 1);
    assert_int_equal(s->deployments[0].at_ms, T0 + 2 * HOUR_MS);
    assert_string_equal(s->deployments[0].env, "blue");
    assert_string_equal(s->deployments[0].policy_override, "");
    assert_int_equal(s->n_gates, 1);
    assert_string_equal(s->gates[0].verdict, "fail");
    assert_non_null(strstr(s->gates[0].checks_json, "error_rate <= 1%"));
    assert_int_equal(s->n_events, 1);
    assert_string_equal(s->events[0].name, "ErrorBudgetBurn");
    assert_string_equal(s->events[0].state, "firing");
    assert_false(s->truncated);
    sw_web_series_free(s);
}

static void
test_minutes_not_rolled_up(void **state)
{
    fixture *f = *state;
    /* Six base rows of 10 s at 06:00, 100 requests and 2 errors each, written after the last
     * rollup: the page reads them as they are, as the month's report does. */
    sw_err err = {0};
    for (int i = 0; i < 6; i++) {
        sw_sli_interval iv = {.start_ms = T0 + 6 * HOUR_MS + i * 10000,
                              .length_ms = 10000,
                              .requests = 100,
                              .errors = 2,
                              .has_data = true};
        sw_store_row row = {"api", "blue", &iv};
        assert_int_equal(sw_store_put(f->st, &row, 1, &err), SW_OK);
    }
    sw_web_series *s = load(f, "2026-12-07T05:00:00Z", "2026-12-07T06:05:00Z");
    assert_int_equal(s->range.bucket_ms, MIN_MS);
    assert_int_equal(s->n_buckets, 65);
    assert_int_equal(s->buckets[60].requests, 600);
    assert_int_equal(s->buckets[60].errors, 12);
    near(s->buckets[60].rate_rps, 10.0, "rate", 60);
    assert_int_equal(s->buckets[61].requests, 0);
    assert_false(s->buckets[61].has_data);
    assert_true(isnan(s->buckets[61].availability));
    check_bucket(s, 59, 359, 360); /* 05:59, from its 1 m row */
    sw_web_series_free(s);
}

static void
want_range(const char *name, int64_t now, int offset_s, int64_t from, int64_t to, int64_t bucket)
{
    sw_web_range r;
    sw_err err = {0};
    if (sw_web_range_parse(name, NULL, NULL, now, offset_s, 400 * DAY_MS, &r, &err) != SW_OK)
        fail_msg("%s: %s", name, err.msg);
    assert_int_equal(r.from_ms, from);
    assert_int_equal(r.to_ms, to);
    assert_int_equal(r.bucket_ms, bucket);
    assert_string_equal(r.name, name);
}

static void
test_ranges(void **state)
{
    (void)state;
    int64_t now = T0 + 10 * HOUR_MS + 7 * MIN_MS; /* 10:07 */
    /* 1 h: 61 one-minute buckets from 09:07. 1 d: 5 minutes would be 289, 15 give 97. 7 d:
     * hours (169). 30 d: 6 hours (121), from a 6-hour boundary. */
    want_range("1h", now, 0, now - HOUR_MS, now, MIN_MS);
    want_range("6h", now, 0, now - 6 * HOUR_MS - 2 * MIN_MS, now, 5 * MIN_MS);
    want_range("1d", now, 0, now - DAY_MS - 7 * MIN_MS, now, 15 * MIN_MS);
    want_range("7d", now, 0, T0 - 7 * DAY_MS + 10 * HOUR_MS, now, HOUR_MS);
    want_range("30d", now, 0, T0 - 30 * DAY_MS + 6 * HOUR_MS, now, 6 * HOUR_MS);
    /* This month: from December 1 (6 days before Dec 7), 6 d 10 h in 155 hours. At -05:00 the
     * local month starts at 05:00 UTC. */
    want_range("this-month", now, 0, T0 - 6 * DAY_MS, now, HOUR_MS);
    want_range("this-month", now, -18000, T0 - 6 * DAY_MS + 5 * HOUR_MS, now, HOUR_MS);
    /* Last month: November, 30 days: 6 hours give 120. */
    want_range("last-month", now, 0, T0 - 36 * DAY_MS, T0 - 6 * DAY_MS, 6 * HOUR_MS);

    sw_web_range r;
    sw_err err = {0};
    assert_int_equal(sw_web_range_parse("2h", NULL, NULL, now, 0, 0, &r, &err), SW_E_INVAL);
    assert_non_null(strstr(err.msg, "range: unknown"));
    assert_int_equal(sw_web_range_parse(NULL, "2026-12-07T05:00:00Z", "2026-12-07T04:00:00Z", now,
                                        0, 0, &r, &err),
                     SW_E_INVAL);
    assert_non_null(strstr(err.msg, "before"));
    assert_int_equal(
        sw_web_range_parse(NULL, "yesterday", "2026-12-07T04:00:00Z", now, 0, 0, &r, &err),
        SW_E_INVAL);
    assert_non_null(strstr(err.msg, "from:"));
    assert_int_equal(sw_web_range_parse(NULL, "2026-12-07T04:00:00Z", "2027-12-07T04:00:00Z", now,
                                        0, 0, &r, &err),
                     SW_E_INVAL);
    assert_non_null(strstr(err.msg, "future"));
    assert_int_equal(sw_web_range_parse(NULL, "-9223372036854775807", "1000", now, 0, 0, &r, &err),
                     SW_E_INVAL);
    assert_non_null(strstr(err.msg, "1970"));
    /* Before what the store keeps (35 days), and longer than a page's 400 days. */
    assert_int_equal(sw_web_range_parse("last-month", NULL, NULL, now, 0, 35 * DAY_MS, &r, &err),
                     SW_E_RANGE);
    assert_non_null(strstr(err.msg, "35 days"));
    assert_int_equal(sw_web_range_parse(NULL, "2024-01-01T00:00:00Z", "2026-12-07T00:00:00Z", now,
                                        0, 0, &r, &err),
                     SW_E_RANGE);
}

static void
test_unknown_service(void **state)
{
    fixture *f = *state;
    sw_web_range r;
    sw_err err = {0};
    sw_web_series *s = NULL;
    assert_int_equal(sw_web_range_parse("1h", NULL, NULL, NOW, 0, 0, &r, &err), SW_OK);
    assert_int_equal(sw_web_series_load(f->st, f->rules, "<script>", &r, &s, &err), SW_E_INVAL);
    assert_null(s);
    assert_non_null(strstr(err.msg, "not in the rules"));
}

/* A service judged per value of route: each value's page reads that value's rows and events
 * (keyed SERVICE\x1fLABEL=VALUE in the store), not the other value's. */
static void
test_label_value_rows(void **state)
{
    fixture *f = *state;
    static const char by_rules[] =
        "version: 1\n"
        "base_interval: 10s\n"
        "services:\n"
        "  - name: checkout\n"
        "    by: [route]\n"
        "    sli:\n"
        "      requests: {prometheus: 'http_requests_total'}\n"
        "      errors: {prometheus: 'http_requests_total{code=\"500\"}'}\n"
        "objectives:\n"
        "  - name: availability\n"
        "    objective: availability >= 99%\n";
    sw_rules *rules = NULL;
    sw_err err = {0};
    assert_int_equal(sw_rules_load_mem(by_rules, strlen(by_rules), "by", &rules, NULL, &err),
                     SW_OK);
    char pay[64], cart[64];
    sw_rules_by_key("checkout", "route", "/pay", 4, pay, sizeof pay);
    sw_rules_by_key("checkout", "route", "/cart", 5, cart, sizeof cart);
    /* Six 10 s rows each at 06:00: /pay 100 requests and 1 error, /cart 50 and 5. */
    for (int i = 0; i < 6; i++) {
        sw_sli_interval p = {.start_ms = T0 + 6 * HOUR_MS + i * 10000,
                             .length_ms = 10000,
                             .requests = 100,
                             .errors = 1,
                             .has_data = true};
        sw_sli_interval c = p;
        c.requests = 50;
        c.errors = 5;
        sw_store_row rows[2] = {{pay, NULL, &p}, {cart, NULL, &c}};
        assert_int_equal(sw_store_put(f->st, rows, 2, &err), SW_OK);
    }
    sw_store_event e = {"alert", "Burn", cart, NULL, "firing", T0 + 6 * HOUR_MS, 5.0};
    assert_int_equal(sw_store_put_event(f->st, &e, &err), SW_OK);
    sw_web_range r;
    assert_int_equal(sw_web_range_parse("custom", "2026-12-07T05:00:00Z", "2026-12-07T06:05:00Z",
                                        NOW, 0, 30 * DAY_MS, &r, &err),
                     SW_OK);
    sw_web_series *s = NULL;
    assert_int_equal(sw_web_series_load(f->st, rules, pay, &r, &s, &err), SW_OK);
    assert_string_equal(s->service, "checkout");
    assert_int_equal(s->requests, 600);
    assert_int_equal(s->errors, 6);
    assert_int_equal(s->n_events, 0);
    near(s->budget_left, 1.0 - 6.0 / 6.0, "budget", 0);
    sw_web_series_free(s);
    s = NULL;
    assert_int_equal(sw_web_series_load(f->st, rules, cart, &r, &s, &err), SW_OK);
    assert_int_equal(s->requests, 300);
    assert_int_equal(s->errors, 30);
    assert_int_equal(s->n_events, 1);
    sw_web_series_free(s);
    /* The service's name alone has no rows of its own. */
    s = NULL;
    assert_int_equal(sw_web_series_load(f->st, rules, "checkout", &r, &s, &err), SW_OK);
    assert_int_equal(s->requests, 0);
    sw_web_series_free(s);
    sw_rules_free(rules);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_five_minute_buckets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hour_buckets_cut_by_maintenance, setup, teardown),
        cmocka_unit_test_setup_teardown(test_marks_gates_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_minutes_not_rolled_up, setup, teardown),
        cmocka_unit_test(test_ranges),
        cmocka_unit_test_setup_teardown(test_unknown_service, setup, teardown),
        cmocka_unit_test_setup_teardown(test_label_value_rows, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
