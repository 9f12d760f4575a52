/*
 * Unit tests for core/hlog.c: the writer's header and interval lines, and the reader's
 * timestamp rules, tolerated noise and errors. Histogram fields come from jHiccup 2.0.7 logs
 * (HdrHistogram_c and HdrHistogramJS test data); their totals were decoded by hand from the
 * format notes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "hdr_assert.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slawatch/hlog.h"

/* 741 values, max 2,768,895 (ns); and 754 values, max 458,751. */
#define H741                                                                                       \
    "HISTFAAAAEV42pNpmSzMwMCgyAABTBDKT4GBgdnNYMcCBvsPEBEJISEuATEZMQ4uASkhIR4nrxg9v2lMaxhvMekILGZk" \
    "KmcCAEf2CsI="
#define H754                                                                                       \
    "HISTFAAAAEJ42pNpmSzMwMCgwAABTBDKD8hndjPYsYDB/gNEhEtMQEBBTk5MQERCRkBEQEWlh9FJbg9jE+MS5ig1LhYm" \
    "ADkkCcE="
#define START_LINE                                                                                 \
    "#[StartTime: 1441812279.474 (seconds since epoch), Wed Sep 09 08:24:39 PDT 2015]"
#define LEGEND                                                                                     \
    "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\""
#define START_S 1441812279.474
#define TIME_TOLERANCE 1e-5 /* files carry milliseconds; doubles near 1.4e9 resolve 2.4e-7 */
#define MAX_SEEN 8

/* ---- fixture: what the visitor saw ---- */

typedef struct seen_interval {
    bool tagged;
    char tag[SW_HLOG_MAX_TAG + 1];
    double start_s;
    double offset_s;
    double length_s;
    double max;
    sw_hdr *hist;
} seen_interval;

typedef struct seen {
    size_t calls;
    size_t fail_on;  /* 1-based call that fails with SW_E_IO; 0 for none */
    bool clone_hist; /* copy the lent histogram instead of taking it */
    seen_interval iv[MAX_SEEN];
    sw_hlog_reader r;
} seen;

static sw_status
collect(void *ctx, sw_hlog_interval *iv, sw_err *err)
{
    seen *s = ctx;
    if (++s->calls == s->fail_on)
        return sw_err_set(err, SW_E_IO, "visitor stops at call %zu", s->calls);
    assert_true(s->calls <= MAX_SEEN);
    seen_interval *out = &s->iv[s->calls - 1];
    out->tagged = iv->tag != NULL;
    if (iv->tag != NULL)
        snprintf(out->tag, sizeof out->tag, "%s", iv->tag);
    out->start_s = iv->start_s;
    out->offset_s = iv->offset_s;
    out->length_s = iv->length_s;
    out->max = iv->max;
    assert_non_null(iv->hist);
    if (s->clone_hist) {
        out->hist = sw_hdr_clone(iv->hist);
    } else {
        out->hist = iv->hist;
        iv->hist = NULL;
    }
    return SW_OK;
}

static int
setup_seen(void **state)
{
    seen *s = calloc(1, sizeof *s);
    if (s == NULL)
        return -1;
    sw_hlog_reader_init(&s->r, "test.hlog", collect, s);
    *state = s;
    return 0;
}

static int
teardown_seen(void **state)
{
    seen *s = *state;
    for (size_t i = 0; i < MAX_SEEN; i++)
        sw_hdr_free(s->iv[i].hist);
    free(s);
    return 0;
}

static void
reset_seen(seen *s)
{
    for (size_t i = 0; i < MAX_SEEN; i++)
        sw_hdr_free(s->iv[i].hist);
    memset(s->iv, 0, sizeof s->iv);
    s->calls = 0;
    sw_hlog_reader_init(&s->r, "test.hlog", collect, s);
}

static sw_status
read_text(seen *s, const char *text, sw_err *err)
{
    return sw_hlog_read_mem(&s->r, text, strlen(text), err);
}

static void
read_ok(seen *s, const char *text)
{
    sw_err err = {0};
    sw_status st = read_text(s, text, &err);
    if (st != SW_OK)
        fail_msg("read: %s: %s", sw_err_str(st), err.msg);
}

/* ---- assertions ---- */

static void
assert_close(double got, double want, double tolerance)
{
    if (!(fabs(got - want) <= tolerance))
        fail_msg("got %.9f, want %.9f", got, want);
}

static void
assert_untagged(const seen_interval *iv)
{
    assert_false(iv->tagged);
}

static void
assert_tag(const seen_interval *iv, const char *tag)
{
    assert_true(iv->tagged);
    assert_string_equal(iv->tag, tag);
}

/* ---- writer ---- */

static sw_hdr *
new_latency_hdr(void)
{
    sw_hdr *h = NULL;
    assert_int_equal(sw_hdr_new(&sw_hdr_latency_config, &h, NULL), SW_OK);
    return h;
}

/* Position of needle at a line start in text, or fail. */
static size_t
line_at(const char *text, const char *needle)
{
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p++) {
        if (p == text || p[-1] == '\n')
            return (size_t)(p - text);
    }
    fail_msg("no line starting with %s in:\n%s", needle, text);
    return 0;
}

static void
check_written_text(const char *text)
{
    size_t version = line_at(text, "#[Histogram log format version 1.3]\n");
    size_t start = line_at(text, "#[StartTime: 1700000000.125 (seconds since epoch)");
    size_t base = line_at(text, "#[BaseTime: 1700000000.125 (seconds since epoch)");
    size_t legend = line_at(text, "\"StartTimestamp\",");
    /* 123456 us lies in [123456, 123519]; the max column is 123519 / 1000 */
    size_t first = line_at(text, "10.500,5.000,123.519,HISTFA");
    size_t second = line_at(text, "Tag=A,20.000,5.000,0.005,HISTFA");
    assert_true(version < start && start < base && base < legend);
    assert_true(legend < first && first < second);
}

static void
write_log(char **text, sw_hdr *h1, sw_hdr *h2)
{
    size_t size = 0;
    sw_hlog_writer w;
    sw_err err = {0};
    FILE *f = open_memstream(text, &size);
    assert_non_null(f);
    assert_int_equal(sw_hlog_write_header(&w, f, 1700000000.125, 1000.0, &err), SW_OK);
    assert_int_equal(sw_hlog_write_interval(&w, NULL, 1700000010.625, 5.0, h1, &err), SW_OK);
    assert_int_equal(sw_hlog_write_interval(&w, "A", 1700000020.125, 5.0, h2, &err), SW_OK);
    assert_int_equal(fclose(f), 0);
}

static void
test_write_then_read(void **state)
{
    seen *s = *state;
    sw_hdr *h1 = new_latency_hdr();
    sw_hdr *h2 = new_latency_hdr();
    char *text = NULL;
    assert_true(sw_hdr_record(h1, 123456));
    assert_true(sw_hdr_record_n(h1, 1000, 10));
    assert_true(sw_hdr_record(h2, 5));
    write_log(&text, h1, h2);
    check_written_text(text);

    read_ok(s, text);
    assert_int_equal(s->calls, 2);
    assert_close(s->r.start_time_s, 1700000000.125, TIME_TOLERANCE);
    assert_close(s->r.base_time_s, 1700000000.125, TIME_TOLERANCE);
    assert_false(s->r.base_inferred);
    assert_untagged(&s->iv[0]);
    assert_close(s->iv[0].start_s, 1700000010.625, TIME_TOLERANCE);
    assert_close(s->iv[0].offset_s, 10.5, TIME_TOLERANCE);
    assert_close(s->iv[0].length_s, 5.0, TIME_TOLERANCE);
    assert_close(s->iv[0].max, 123.519, 1e-9);
    assert_same_buckets(s->iv[0].hist, h1);
    assert_tag(&s->iv[1], "A");
    assert_close(s->iv[1].offset_s, 20.0, TIME_TOLERANCE);
    assert_close(s->iv[1].max, 0.005, 1e-9);
    assert_same_buckets(s->iv[1].hist, h2);
    free(text);
    sw_hdr_free(h2);
    sw_hdr_free(h1);
}

/* ---- reading ---- */

typedef struct reader_times {
    double start_time_s;
    double base_time_s;
    bool inferred;
} reader_times;

static const struct time_case {
    const char *name;
    const char *text;
    reader_times want;
    size_t n;
    double start_s[2];
    double offset_s[2];
} time_cases[] = {
    {"relative to StartTime",
     START_LINE "\n0.127,1.007,2.769," H741 "\n1.134,0.999,0.442," H754 "\n",
     {START_S, START_S, true},
     2,
     {START_S + 0.127, START_S + 1.134},
     {0.127, 1.134}},
    {"absolute",
     START_LINE "\n1441812280.000,1.000,2.769," H741 "\n",
     {START_S, 0.0, true},
     1,
     {1441812280.0},
     {0.526}},
    {"explicit BaseTime",
     START_LINE "\n#[BaseTime: 1441812123.123 (seconds since epoch), Wed Sep 09 08:22:03 PDT 2015]"
                "\n0.127,1.007,2.769," H741 "\n",
     {START_S, 1441812123.123, false},
     1,
     {1441812123.25},
     {1441812123.25 - START_S}},
    {"no header: StartTime is the first interval",
     "0.127,1.007,2.769," H741 "\n1.134,0.999,0.442," H754 "\n",
     {0.127, 0.0, true},
     2,
     {0.127, 1.134},
     {0.0, 1.007}},
    {"a year and a second before StartTime is relative",
     "#[StartTime: 100000000.000 (seconds since epoch), x]\n68463999.000,1.000,0.5," H754 "\n",
     {1e8, 1e8, true},
     1,
     {168463999.0},
     {68463999.0}},
    {"a second less than a year before StartTime is absolute",
     "#[StartTime: 100000000.000 (seconds since epoch), x]\n68464001.000,1.000,0.5," H754 "\n",
     {1e8, 0.0, true},
     1,
     {68464001.0},
     {-31535999.0}},
};

static void
check_time_case(seen *s, const struct time_case *c)
{
    reset_seen(s);
    read_ok(s, c->text);
    assert_int_equal(s->calls, c->n);
    assert_close(s->r.start_time_s, c->want.start_time_s, TIME_TOLERANCE);
    assert_close(s->r.base_time_s, c->want.base_time_s, TIME_TOLERANCE);
    assert_int_equal(s->r.base_inferred, c->want.inferred);
    for (size_t i = 0; i < c->n; i++) {
        assert_close(s->iv[i].start_s, c->start_s[i], TIME_TOLERANCE);
        assert_close(s->iv[i].offset_s, c->offset_s[i], TIME_TOLERANCE);
    }
}

static void
test_timestamps(void **state)
{
    for (size_t i = 0; i < sizeof time_cases / sizeof time_cases[0]; i++) {
        print_message("time case: %s\n", time_cases[i].name);
        check_time_case(*state, &time_cases[i]);
    }
}

/* HdrHistogram_java tagged-Log.logV2.hlog, first two lines of data. */
static void
test_read_tagged_java_log(void **state)
{
    seen *s = *state;
    read_ok(s, "#[Logged with jHiccup version 2.0.7-SNAPSHOT, manually edited to duplicate "
               "contents with Tag=A]\n"
               "#[Histogram log format version 1.2]\n" START_LINE "\n" LEGEND "\n"
               "0.127,1.007,2.769," H741 "\n"
               "Tag=A,0.127,1.007,2.769," H741 "\n");
    assert_int_equal(s->calls, 2);
    assert_untagged(&s->iv[0]);
    assert_tag(&s->iv[1], "A");
    for (size_t i = 0; i < 2; i++) {
        assert_close(s->iv[i].start_s, START_S + 0.127, TIME_TOLERANCE);
        assert_close(s->iv[i].length_s, 1.007, 1e-9);
        assert_close(s->iv[i].max, 2.769, 1e-9);
        assert_int_equal(sw_hdr_total_count(s->iv[i].hist), 741);
        assert_int_equal(sw_hdr_max(s->iv[i].hist), 2768895);
    }
    assert_same_buckets(s->iv[0].hist, s->iv[1].hist);
}

static void
test_comments_and_legends_ignored(void **state)
{
    seen *s = *state;
    read_ok(s, "#[Logged with jHiccup version 2.0.7-SNAPSHOT]\n"
               "#[Histogram log format version 1.01]\n"
               "#[Histogram log format version 1.3]\n"
               "#free text, with commas, 1.0,2.0,HISTFA\n" START_LINE "\n"
               "\"StartTimestamp\",\"EndTimestamp\",\"Interval_Max\","
               "\"Interval_Compressed_Histogram\"\n" LEGEND "\n"
               "0.127,1.007,2.769," H741 "\n"
               "#[a comment between intervals]\n");
    assert_int_equal(s->calls, 1);
    assert_close(s->iv[0].start_s, START_S + 0.127, TIME_TOLERANCE);
}

static const char crlf_log[] =
    "#[Histogram log format version 1.2]\r\n" START_LINE "\r\n" LEGEND "\r\n"
    "0.127,1.007,2.769," H741 "  \r\n"
    "Tag=A,1.134,0.999,0.442," H754 " \t \r\n"
    "2.133,1.001,0.426," H754 "\t\n"
    "3.134,1.001,0.426," H754;

static void
check_crlf_log(const seen *s)
{
    static const int64_t totals[] = {741, 754, 754, 754};
    static const double lengths[] = {1.007, 0.999, 1.001, 1.001};
    assert_int_equal(s->calls, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(sw_hdr_total_count(s->iv[i].hist), totals[i]);
        assert_close(s->iv[i].length_s, lengths[i], 1e-9);
    }
    assert_tag(&s->iv[1], "A");
    assert_close(s->iv[3].offset_s, 3.134, TIME_TOLERANCE);
}

static void
test_crlf_and_trailing_blanks(void **state)
{
    seen *s = *state;
    read_ok(s, crlf_log);
    check_crlf_log(s);
}

static const char *const malformed_lines[] = {
    "Tag=a7.133a,7.1a33,0.999,0.459," H754,                        /* bad timestamp */
    "Tag=a7.133a,7.133,0.999,0.459",                               /* missing histogram */
    "Ta=a7.133a,7.133,0.999,0.459," H754,                          /* bad tag key */
    "Tag=a7.133a,7.133,0.999,0.459,HISTFAAAAEJ42pNpmSzMwMCgwAABT", /* truncated base64 */
    "0.127,1.007,2.769,HISTFA*A",                                  /* bad base64 character */
    "0.127,1.007,2.769,AAAA",                                      /* not a histogram */
    "0.127,1.0x7,2.769," H754,                                     /* bad length */
    "0.127,1.007,2.7.69," H754,                                    /* bad max */
    "0.127,1.007," H754,                                           /* too few fields */
    "hello",
};

static sw_status
read_with_bad_line(seen *s, const char *line, sw_err *err)
{
    char text[1024];
    snprintf(text, sizeof text, "%s\n0.127,1.007,2.769,%s\n%s\n1.134,0.999,0.442,%s\n", START_LINE,
             H741, line, H754);
    reset_seen(s);
    return read_text(s, text, err);
}

static void
test_malformed_lines(void **state)
{
    for (size_t i = 0; i < sizeof malformed_lines / sizeof malformed_lines[0]; i++) {
        sw_err err = {0};
        print_message("malformed: %s\n", malformed_lines[i]);
        sw_status st = read_with_bad_line(*state, malformed_lines[i], &err);
        assert_int_not_equal(st, SW_OK);
        assert_int_equal(err.code, st);
        if (strstr(err.msg, "test.hlog:3:") == NULL)
            fail_msg("message without test.hlog:3: %s", err.msg);
        assert_int_equal(((seen *)*state)->calls, 1);
    }
}

/* sw_hlog_reader_line's contract: every malformed line is SW_E_PARSE. */
static void
test_malformed_lines_are_parse_errors(void **state)
{
    for (size_t i = 0; i < sizeof malformed_lines / sizeof malformed_lines[0]; i++) {
        sw_err err = {0};
        sw_status st = read_with_bad_line(*state, malformed_lines[i], &err);
        if (st != SW_E_PARSE)
            fail_msg("%s: %s (%s)", malformed_lines[i], sw_err_str(st), err.msg);
    }
}

static void
test_callback_error_stops_reading(void **state)
{
    seen *s = *state;
    sw_err err = {0};
    s->fail_on = 2;
    assert_int_equal(read_text(s, crlf_log, &err), SW_E_IO);
    assert_int_equal(err.code, SW_E_IO);
    assert_non_null(strstr(err.msg, "visitor stops at call 2"));
    assert_int_equal(s->calls, 2);
}

static void
test_reader_line_by_line(void **state)
{
    seen *s = *state;
    static const char interval[] = "0.127,1.007,2.769," H741 "\r";
    assert_true(isnan(s->r.start_time_s));
    assert_true(isnan(s->r.base_time_s));
    assert_int_equal(sw_hlog_reader_line(&s->r, START_LINE, strlen(START_LINE), NULL), SW_OK);
    assert_int_equal(s->r.line, 1);
    assert_close(s->r.start_time_s, START_S, TIME_TOLERANCE);
    assert_int_equal(sw_hlog_reader_line(&s->r, interval, strlen(interval), NULL), SW_OK);
    assert_int_equal(s->r.line, 2);
    assert_int_equal(s->calls, 1);
    assert_true(s->r.base_inferred);
    assert_close(s->r.base_time_s, START_S, TIME_TOLERANCE);
    /* len, not a NUL, ends the line: the histogram field stops before the garbage */
    assert_int_equal(sw_hlog_reader_line(&s->r, "1.134,0.999,0.442," H754 "garbage",
                                         strlen("1.134,0.999,0.442," H754), NULL),
                     SW_OK);
    assert_int_equal(s->calls, 2);
    assert_int_equal(sw_hdr_total_count(s->iv[1].hist), 754);
}

/* ---- files ---- */

static FILE *
temp_file_with(const char *text)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_true(fputs(text, f) >= 0);
    rewind(f);
    return f;
}

static void
test_read_file_lending_histograms(void **state)
{
    seen *s = *state;
    FILE *f = temp_file_with(crlf_log);
    sw_err err = {0};
    s->clone_hist = true;
    assert_int_equal(sw_hlog_read_file(&s->r, f, &err), SW_OK);
    check_crlf_log(s);
    assert_int_equal(s->r.line, 7);
    fclose(f);
}

static void
test_read_file_line_too_long(void **state)
{
    seen *s = *state;
    FILE *f = temp_file_with("0.127,1.007,2.769," H741 "\n");
    sw_err err = {0};
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    for (size_t i = 0; i <= SW_HLOG_MAX_LINE; i++)
        assert_int_not_equal(fputc('A', f), EOF);
    assert_true(fputs("\n1.134,0.999,0.442," H754 "\n", f) >= 0);
    rewind(f);
    assert_int_equal(sw_hlog_read_file(&s->r, f, &err), SW_E_TOOBIG);
    assert_int_equal(err.code, SW_E_TOOBIG);
    assert_true(err.msg[0] != '\0');
    assert_int_equal(s->calls, 1);
    fclose(f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_write_then_read, setup_seen, teardown_seen),
        cmocka_unit_test_setup_teardown(test_timestamps, setup_seen, teardown_seen),
        cmocka_unit_test_setup_teardown(test_read_tagged_java_log, setup_seen, teardown_seen),
        cmocka_unit_test_setup_teardown(test_comments_and_legends_ignored, setup_seen,
                                        teardown_seen),
        cmocka_unit_test_setup_teardown(test_crlf_and_trailing_blanks, setup_seen, teardown_seen),
        cmocka_unit_test_setup_teardown(test_malformed_lines, setup_seen, teardown_seen),
        cmocka_unit_test_setup_teardown(test_malformed_lines_are_parse_errors, setup_seen,
                                        teardown_seen),
        cmocka_unit_test_setup_teardown(test_callback_error_stops_reading, setup_seen,
                                        teardown_seen),
        cmocka_unit_test_setup_teardown(test_reader_line_by_line, setup_seen, teardown_seen),
        cmocka_unit_test_setup_teardown(test_read_file_lending_histograms, setup_seen,
                                        teardown_seen),
        cmocka_unit_test_setup_teardown(test_read_file_line_too_long, setup_seen, teardown_seen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
