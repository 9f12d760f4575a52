/*
 * Unit tests for the exposition parser: what the sink receives (names, types, unescaped labels,
 * values, timestamps), one table row per rule of the text format and of OpenMetrics (expected
 * verdicts and positions worked out from the specifications, not from the parser), and the
 * defined behaviour on giant label values, a million series, NaN/Inf, duplicates and
 * out-of-order timestamps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slawatch/buf.h"
#include "slawatch/promtext.h"

#define KEEP 8

/* The first KEEP samples, copied out of the sink call. */
typedef struct seen {
    size_t n;
    char name[KEEP][64];
    sw_prom_type type[KEEP];
    size_t n_labels[KEEP];
    char label0[KEEP][64]; /* "name=value" of the first label */
    double value[KEEP];
    int64_t ts[KEEP];
    int has_ts[KEEP];
    size_t max_in_use; /* heap in use seen from the sink (glibc) */
} seen;

static sw_status
keep(void *ctx, const sw_prom_sample *s, sw_err *err)
{
    (void)err;
    seen *k = ctx;
    if (k->n < KEEP) {
        size_t i = k->n;
        snprintf(k->name[i], sizeof k->name[i], "%.*s", (int)s->name_len, s->name);
        k->type[i] = s->type;
        k->n_labels[i] = s->n_labels;
        if (s->n_labels)
            snprintf(k->label0[i], sizeof k->label0[i], "%.*s=%.*s", (int)s->labels[0].name_len,
                     s->labels[0].name, (int)s->labels[0].value_len, s->labels[0].value);
        k->value[i] = s->value;
        k->ts[i] = s->timestamp_ms;
        k->has_ts[i] = s->has_timestamp;
    }
    if ((k->n & 0xffff) == 0) {
        struct mallinfo2 mi = mallinfo2();
        if (mi.uordblks > k->max_in_use)
            k->max_in_use = mi.uordblks;
    }
    k->n++;
    return SW_OK;
}

static sw_status
parse(const char *text, sw_promtext_format fmt, seen *k, sw_promtext_pos *where, sw_err *err)
{
    memset(k, 0, sizeof *k);
    sw_prom_sink sink = {.ctx = k, .sample = keep};
    return sw_promtext_parse(text, strlen(text), fmt, &sink, where, err);
}

static void
test_text_samples(void **state)
{
    (void)state;
    seen k;
    sw_err err;
    const char *in = "# TYPE rq_seconds histogram\n"
                     "rq_seconds_bucket{le=\"0.5\",path=\"/a\\\"b\\\\c\\nd\"} 3 1700000000000\n"
                     "rq_seconds_count 3\n"
                     "up{job=\"x\"} NaN\n"
                     "temp -Inf\n";
    assert_int_equal(parse(in, SW_PROMTEXT_TEXT, &k, NULL, &err), SW_OK);
    assert_int_equal(k.n, 4);
    assert_string_equal(k.name[0], "rq_seconds_bucket");
    assert_int_equal(k.type[0], SW_PROM_HISTOGRAM);
    assert_int_equal(k.n_labels[0], 2);
    assert_int_equal(k.has_ts[0], 1);
    assert_true(k.ts[0] == 1700000000000);
    assert_string_equal(k.name[1], "rq_seconds_count");
    assert_int_equal(k.type[1], SW_PROM_HISTOGRAM);
    assert_int_equal(k.type[2], SW_PROM_UNKNOWN);
    assert_true(isnan(k.value[2]));
    assert_true(isinf(k.value[3]) && k.value[3] < 0);
}

/* The second label of the first sample, unescaped: \" \\ and \n become " \ and a line feed. */
static sw_status
second_label(void *ctx, const sw_prom_sample *s, sw_err *err)
{
    (void)err;
    if (s->n_labels > 1)
        snprintf(ctx, 64, "%.*s", (int)s->labels[1].value_len, s->labels[1].value);
    return SW_OK;
}

static void
test_label_unescaping(void **state)
{
    (void)state;
    char got[64] = "";
    sw_prom_sink sink = {.ctx = got, .sample = second_label};
    const char *in = "x{a=\"1\",b=\"q\\\"b\\\\s\\nn\"} 1\n";
    assert_int_equal(sw_promtext_parse(in, strlen(in), SW_PROMTEXT_TEXT, &sink, NULL, NULL), SW_OK);
    assert_string_equal(got, "q\"b\\s\nn");
}

static void
test_openmetrics_samples(void **state)
{
    (void)state;
    seen k;
    sw_err err;
    const char *in = "# TYPE c_seconds counter\n"
                     "# UNIT c_seconds seconds\n"
                     "c_seconds_total 5 1.5 # {trace=\"a\"} 1 2\n"
                     "c_seconds_created 100\n"
                     "# TYPE s stateset\n"
                     "s{s=\"on\"} 1\n"
                     "# EOF\n";
    assert_int_equal(parse(in, SW_PROMTEXT_OPENMETRICS, &k, NULL, &err), SW_OK);
    assert_int_equal(k.n, 3);
    assert_string_equal(k.name[0], "c_seconds_total");
    assert_int_equal(k.type[0], SW_PROM_COUNTER);
    assert_true(k.ts[0] == 1500); /* seconds in OpenMetrics, milliseconds for the sink */
    assert_string_equal(k.name[1], "c_seconds_created");
    assert_int_equal(k.type[1], SW_PROM_COUNTER);
    assert_int_equal(k.type[2], SW_PROM_STATESET);
    assert_string_equal(k.label0[2], "s=on");
}

typedef struct rule {
    const char *what;
    sw_promtext_format fmt;
    const char *in;
    sw_status want;
    uint32_t line, col; /* of the error; 0 when the input is valid */
    const char *msg;    /* a part of the message, or NULL */
} rule;

#define T SW_PROMTEXT_TEXT
#define OM SW_PROMTEXT_OPENMETRICS

static const rule rules[] = {
    /* text format 0.0.4 (Prometheus expfmt) */
    {"blanks between tokens", T, "  a {x = \"1\" , }  1   2  \n", SW_OK, 0, 0, NULL},
    {"comments and blank lines", T, "# hello\n\n#\n# HELP\na 1\n", SW_OK, 0, 0, NULL},
    {"missing final line feed", T, "a 1", SW_E_PARSE, 1, 4, "line feed"},
    {"name starts with a digit", T, "0a 1\n", SW_E_PARSE, 1, 1, "metric name"},
    {"missing '='", T, "a{b} 1\n", SW_E_PARSE, 1, 4, "expected '=' after label name"},
    {"unquoted label value", T, "a{b=c} 1\n", SW_E_PARSE, 1, 5, "'\"'"},
    {"unclosed label value", T, "a{b=\"c} 1\n", SW_E_PARSE, 1, 5, "not closed"},
    {"invalid escape", T, "a{b=\"\\t\"} 1\n", SW_E_PARSE, 1, 6, "escape"},
    {"duplicate label", T, "a{b=\"1\",b=\"2\"} 1\n", SW_E_PARSE, 1, 9, "duplicate label"},
    {"__name__ label", T, "a{__name__=\"b\"} 1\n", SW_E_PARSE, 1, 3, "__name__"},
    {"value not a number", T, "a blubb\n", SW_E_PARSE, 1, 3, "not a number"},
    {"hex value (Go ParseFloat)", T, "a 0x10\n", SW_OK, 0, 0, NULL},
    {"float timestamp", T, "a 1 2.5\n", SW_E_PARSE, 1, 5, "integer"},
    {"text after timestamp", T, "a 1 2 3\n", SW_E_PARSE, 1, 7, "after the timestamp"},
    {"second HELP", T, "# HELP a x\n# HELP a y\n", SW_E_PARSE, 2, 8, "second HELP"},
    {"second TYPE", T, "# TYPE a gauge\n# TYPE a counter\n", SW_E_PARSE, 2, 8, "second TYPE"},
    {"TYPE after samples", T, "a 1\n# TYPE a gauge\n", SW_E_PARSE, 2, 8, "after its samples"},
    {"unknown type", T, "# TYPE a stateset\n", SW_E_PARSE, 1, 10, "unknown metric type"},
    {"bucket le not a number", T, "# TYPE h histogram\nh_bucket{le=\"x\"} 1\n", SW_E_PARSE, 2, 1,
     "'le'"},
    {"bucket without le", T, "# TYPE h histogram\nh_bucket 1\n", SW_E_PARSE, 2, 1, "'le'"},
    {"quantile not a number", T, "# TYPE s summary\ns{quantile=\"x\"} 1\n", SW_E_PARSE, 2, 1,
     "'quantile'"},
    {"families may interleave", T, "# TYPE s summary\ns_sum 1\nx 1\ns_count 2\n", SW_OK, 0, 0,
     NULL},
    {"carriage return is not a blank", T, "a 1\r\n", SW_E_PARSE, 1, 3, "not a number"},
    /* OpenMetrics 1.0 */
    {"EOF required", OM, "a 1\n", SW_E_PARSE, 2, 1, "# EOF"},
    {"nothing after EOF", OM, "# EOF\nx", SW_E_PARSE, 2, 1, "after '# EOF'"},
    {"EOF without line feed", OM, "a 1\n# EOF", SW_OK, 0, 0, NULL},
    {"no blank lines", OM, "a 1\n\n# EOF\n", SW_E_PARSE, 2, 1, "empty line"},
    {"one space between tokens", OM, "a  1\n# EOF\n", SW_E_PARSE, 1, 2, "exactly one space"},
    {"no leading blanks", OM, " a 1\n# EOF\n", SW_E_PARSE, 1, 1, "metric name"},
    {"no trailing comma", OM, "a{b=\"1\",} 1\n# EOF\n", SW_E_PARSE, 1, 9, "label name"},
    {"unknown escapes kept", OM, "a{b=\"\\z\"} 1\n# EOF\n", SW_OK, 0, 0, NULL},
    {"only HELP TYPE UNIT EOF comments", OM, "# hi there\n# EOF\n", SW_E_PARSE, 1, 3, NULL},
    {"untyped is not a type", OM, "# TYPE a untyped\n# EOF\n", SW_E_PARSE, 1, 10, "unknown"},
    {"repeated HELP", OM, "# HELP a x\n# HELP a x\n# EOF\n", SW_E_PARSE, 2, 3, "repeated"},
    {"metadata after samples", OM, "a 1\n# HELP a x\n# EOF\n", SW_E_PARSE, 2, 3, "after its"},
    {"unit is a suffix", OM, "# UNIT a seconds\n# EOF\n", SW_E_PARSE, 1, 10, "suffix"},
    {"no unit on info", OM, "# TYPE a_u info\n# UNIT a_u u\n# EOF\n", SW_E_PARSE, 2, 12, NULL},
    {"families contiguous", OM, "a 1\nb 1\na 2\n# EOF\n", SW_E_PARSE, 3, 1, "clashes"},
    {"family names clash", OM, "# TYPE a counter\n# TYPE a_total gauge\n# EOF\n", SW_E_PARSE, 2,
     8, "clashes"},
    {"labelsets contiguous", OM, "a{x=\"1\"} 1\na{x=\"2\"} 1\na{x=\"1\"} 1\n# EOF\n", SW_E_PARSE, 3,
     1, "not together"},
    {"timestamps in order", OM, "a 1 2\na 1 1\n# EOF\n", SW_E_PARSE, 2, 5, "backwards"},
    {"timestamps all or none", OM, "a 1\na 1 1\n# EOF\n", SW_E_PARSE, 2, 1, "with and without"},
    {"timestamp NaN", OM, "a 1 NaN\n# EOF\n", SW_E_PARSE, 1, 5, "timestamp"},
    {"hex value", OM, "a 0x1\n# EOF\n", SW_E_PARSE, 1, 3, "not a number"},
    {"counter negative", OM, "# TYPE c counter\nc_total -1\n# EOF\n", SW_E_PARSE, 2, 9, NULL},
    {"counter NaN", OM, "# TYPE c counter\nc_total NaN\n# EOF\n", SW_E_PARSE, 2, 9, NULL},
    {"counter needs _total", OM, "# TYPE c counter\nc 1\n# EOF\n", SW_E_PARSE, 2, 1, "clashes"},
    {"histogram +Inf needed", OM, "# TYPE h histogram\nh_bucket{le=\"1\"} 0\n# EOF\n", SW_E_PARSE,
     3, 1, "+Inf"},
    {"histogram buckets ordered", OM,
     "# TYPE h histogram\nh_bucket{le=\"2\"} 0\nh_bucket{le=\"1\"} 0\nh_bucket{le=\"+Inf\"} 0\n# "
     "EOF\n",
     SW_E_PARSE, 3, 1, "out of order"},
    {"histogram counts cumulative", OM,
     "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\n# EOF\n", SW_E_PARSE, 3, 1,
     "decrease"},
    {"histogram _count equals +Inf", OM,
     "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 3\nh_sum 1\n# EOF\n", SW_E_PARSE, 5, 1,
     "differs"},
    {"histogram _sum with _count", OM,
     "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\n# EOF\n", SW_E_PARSE, 4, 1,
     "without"},
    {"histogram no _sum with negative buckets", OM,
     "# TYPE h histogram\nh_bucket{le=\"-1\"} 0\nh_bucket{le=\"+Inf\"} 2\nh_count 2\nh_sum 1\n# "
     "EOF\n",
     SW_E_PARSE, 6, 1, "negative buckets"},
    {"+Inf spelled +Inf", OM, "# TYPE h histogram\nh_bucket{le=\"+inf\"} 0\n# EOF\n", SW_E_PARSE, 2,
     1, "le="},
    {"valid histogram", OM,
     "# TYPE h histogram\nh_bucket{le=\"0.1\"} 1 # {t=\"x\"} 0.05\nh_bucket{le=\"+Inf\"} 2\n"
     "h_count 2\nh_sum 0.3\nh_created 1\n# EOF\n",
     SW_OK, 0, 0, NULL},
    {"gaugehistogram negative gsum", OM,
     "# TYPE g gaugehistogram\ng_bucket{le=\"-1\"} 1\ng_bucket{le=\"+Inf\"} 2\ng_gcount 2\n"
     "g_gsum -3\n# EOF\n",
     SW_OK, 0, 0, NULL},
    {"summary quantile in [0,1]", OM, "# TYPE s summary\ns{quantile=\"1.5\"} 1\n# EOF\n",
     SW_E_PARSE, 2, 1, "[0, 1]"},
    {"summary needs quantile", OM, "# TYPE s summary\ns 1\n# EOF\n", SW_E_PARSE, 2, 1, "quantile"},
    {"stateset 0 or 1", OM, "# TYPE s stateset\ns{s=\"a\"} 2\n# EOF\n", SW_E_PARSE, 2, 10, NULL},
    {"stateset needs its label", OM, "# TYPE s stateset\ns 1\n# EOF\n", SW_E_PARSE, 2, 1, "state"},
    {"info value 1", OM, "# TYPE i info\ni_info{v=\"1\"} 0\n# EOF\n", SW_E_PARSE, 2, 15, NULL},
    {"exemplar only on _total/_bucket", OM, "# TYPE g gauge\ng 1 # {a=\"b\"} 1\n# EOF\n",
     SW_E_PARSE, 2, 3, "exemplars"},
    {"exemplar 128 code points", OM,
     "# TYPE c counter\nc_total 1 # "
     "{a=\"23456789012345678901234567890123456789012345678901234567890123456789012345678901234"
     "5678901234567890123456789012345678901234567890\"} 1\n# EOF\n",
     SW_E_PARSE, 2, 13, "128"},
    {"exemplar needs one space", OM, "# TYPE c counter\nc_total 1 #{} 1\n# EOF\n", SW_E_PARSE, 2,
     11, "exemplar"},
};

static void
test_rules(void **state)
{
    (void)state;
    int bad = 0;
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        const rule *r = &rules[i];
        seen k;
        sw_promtext_pos where = {0};
        sw_err err = {0};
        sw_status st = parse(r->in, r->fmt, &k, &where, &err);
        bool ok = st == r->want;
        if (ok && st != SW_OK)
            ok = where.line == r->line && where.col == r->col &&
                 (!r->msg || strstr(err.msg, r->msg));
        if (!ok) {
            fprintf(stderr, "rule '%s': got %s %u:%u '%s', want %s %u:%u '%s'\n", r->what,
                    sw_err_str(st), where.line, where.col, st == SW_OK ? "" : err.msg,
                    sw_err_str(r->want), r->line, r->col, r->msg ? r->msg : "");
            bad++;
        }
    }
    assert_int_equal(bad, 0);
}

static void
test_giant_label_value(void **state)
{
    (void)state;
    size_t n = SW_PROMTEXT_MAX_LABEL_VALUE + 1;
    char *in = malloc(n + 32);
    assert_non_null(in);
    memcpy(in, "a{big=\"", 7);
    memset(in + 7, 'x', n);
    strcpy(in + 7 + n, "\"} 1\n");
    seen k;
    sw_promtext_pos where;
    sw_err err;
    assert_int_equal(parse(in, T, &k, &where, &err), SW_E_TOOBIG);
    assert_int_equal(where.line, 1);
    assert_int_equal(where.col, 8);
    assert_non_null(strstr(err.msg, "'big'"));
    in[7 + n - 1] = '"'; /* one byte shorter: at the cap, accepted */
    strcpy(in + 7 + n, "} 1\n");
    assert_int_equal(parse(in, T, &k, &where, &err), SW_OK);
    free(in);
}

static void
test_too_many_labels(void **state)
{
    (void)state;
    sw_buf b;
    sw_buf_init(&b, 1 << 20);
    sw_buf_append(&b, "a{", 2, NULL);
    for (int i = 0; i <= SW_PROMTEXT_MAX_LABELS; i++)
        sw_buf_printf(&b, NULL, "l%d=\"v\",", i);
    sw_buf_append(&b, "} 1\n", 5, NULL);
    seen k;
    sw_err err;
    assert_int_equal(parse((const char *)b.data, T, &k, NULL, &err), SW_E_TOOBIG);
    assert_non_null(strstr(err.msg, "labels"));
    sw_buf_fini(&b);
}

/* A million series: every one reaches the sink, and the heap does not grow with them. */
static void
test_million_series(void **state)
{
    (void)state;
    sw_buf b;
    sw_buf_init(&b, (size_t)64 << 20);
    sw_buf_printf(&b, NULL, "# TYPE requests_total counter\n");
    for (int i = 0; i < 1000000; i++)
        sw_buf_printf(&b, NULL, "requests_total{instance=\"host-%d\",path=\"/p\\\\%d\"} %d\n", i,
                      i % 7, i);
    const char *text = sw_buf_cstr(&b, NULL);
    assert_non_null(text);
    size_t before = mallinfo2().uordblks;
    seen k;
    sw_err err;
    assert_int_equal(parse(text, T, &k, NULL, &err), SW_OK);
    assert_int_equal(k.n, 1000000);
    /* label scratch (a line) and the family table: far below one byte per series */
    assert_true(k.max_in_use < before + ((size_t)1 << 20));
    sw_buf_fini(&b);
}

static void
test_duplicates_and_out_of_order_passed_on(void **state)
{
    (void)state;
    seen k;
    sw_err err;
    assert_int_equal(parse("a{x=\"1\"} 1 2000\na{x=\"1\"} 2 1000\na{x=\"1\"} 3 1000\n", T, &k, NULL,
                           &err),
                     SW_OK);
    assert_int_equal(k.n, 3);
    assert_true(k.ts[0] == 2000 && k.ts[1] == 1000 && k.ts[2] == 1000);
    assert_true(k.value[0] == 1 && k.value[1] == 2 && k.value[2] == 3);
}

static void
test_nan_inf_spellings(void **state)
{
    (void)state;
    seen k;
    sw_err err;
    assert_int_equal(parse("a NaN\nb +Inf\nc -Inf\nd Inf\ne nan\n", T, &k, NULL, &err), SW_OK);
    assert_true(isnan(k.value[0]) && isnan(k.value[4]));
    assert_true(isinf(k.value[1]) && k.value[1] > 0 && isinf(k.value[3]) && k.value[3] > 0);
    assert_true(isinf(k.value[2]) && k.value[2] < 0);
    assert_int_equal(parse("a NaN\nb +Inf\nc -Inf\n# EOF\n", OM, &k, NULL, &err), SW_OK);
    assert_int_equal(k.n, 3);
}

static void
test_values_exact(void **state)
{
    (void)state;
    seen k;
    sw_err err;
    assert_int_equal(parse("a 0.1\nb 1.7560473e+06\nc 9007199254740993\nd 123456789012345678901\n"
                           "e 1e-320\nf -0\n",
                           T, &k, NULL, &err),
                     SW_OK);
    assert_true(k.value[0] == 0.1);
    assert_true(k.value[1] == 1756047.3);
    assert_true(k.value[2] == 9007199254740992.0); /* round-half-even of 2^53 + 1 */
    assert_true(k.value[3] == 123456789012345678901.0);
    assert_true(k.value[4] == 1e-320);
    assert_true(k.value[5] == 0 && signbit(k.value[5]));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_samples),
        cmocka_unit_test(test_label_unescaping),
        cmocka_unit_test(test_openmetrics_samples),
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_giant_label_value),
        cmocka_unit_test(test_too_many_labels),
        cmocka_unit_test(test_million_series),
        cmocka_unit_test(test_duplicates_and_out_of_order_passed_on),
        cmocka_unit_test(test_nan_inf_spellings),
        cmocka_unit_test(test_values_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
