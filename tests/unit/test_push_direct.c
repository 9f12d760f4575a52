/*
 * The push batch's direct reader against its references. sw_json_number against strtod (the
 * conversion cJSON makes, so the spec of today's values) on random and adversarial number
 * text, plus hand-derived values; sw_push_parse against sw_push_parse_tree (the cJSON path,
 * kept as the reference) on random bodies, mutated and cut: same status, same message, same
 * batch, for every input.
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

#include "slawatch/json.h"
#include "slawatch/push.h"
#include "slawatch/rng.h"

/* sw_json_number over exactly the bytes of text (a copy without a NUL after it, so reading
 * past the end is ASan's to see). */
static bool
number_of(const char *text, double *ret, size_t *ret_len)
{
    size_t n = strlen(text);
    uint8_t *copy = malloc(n + 1);
    assert_non_null(copy);
    memcpy(copy, text, n);
    bool ok = sw_json_number(copy, copy + n, ret, ret_len);
    free(copy);
    return ok;
}

/* Same bits as strtod's double (so -0 differs from 0). */
static void
assert_as_strtod(const char *text)
{
    double got, want = strtod(text, NULL);
    size_t len;
    if (!number_of(text, &got, &len))
        fail_msg("'%s' not read", text);
    if (memcmp(&got, &want, sizeof got) != 0 || len != strlen(text))
        fail_msg("'%s': %.17g (%zu bytes), strtod %.17g", text, got, len, want);
}

static void
test_hand_values(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        double value;
    } cases[] = {
        {"0", 0.0},
        {"1", 1.0},
        {"3600000000", 3600000000.0},
        {"3.6e9", 3600000000.0},
        {"36E8", 3600000000.0},
        {"1e+2", 100.0},
        {"100e-2", 1.0},
        {"1500e-2", 15.0},
        {"1.5e1", 15.0},
        {"0.0001e4", 1.0},
        {"0.000", 0.0},
        {"0e999999", 0.0},
        {"-7", -7.0},
        {"9007199254740992", 9007199254740992.0},
        {"9007199254740993", 9007199254740992.0}, /* halfway: ties to the even 2^53 */
        {"9007199254740995", 9007199254740996.0}, /* halfway: ties to the even ...996 */
        {"9007199254740992.5", 9007199254740992.0},
        {"1.00000000000000000001", 1.0}, /* 21 digits: rounds to 1 */
        {"0.99999999999999999999", 1.0},
        {"1234567890123456789", 1234567890123456768.0},
        {"1e400", HUGE_VAL},
        {"1e-400", 0.0},
        {"0.5", 0.5},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double got;
        size_t len;
        assert_true(number_of(cases[i].text, &got, &len));
        assert_int_equal(len, strlen(cases[i].text));
        if (got != cases[i].value)
            fail_msg("'%s': %.17g, expected %.17g", cases[i].text, got, cases[i].value);
    }
    double z;
    size_t len;
    assert_true(number_of("-0", &z, &len));
    assert_true(z == 0 && signbit(z));
    assert_true(number_of("-0.0e5", &z, &len));
    assert_true(z == 0 && signbit(z));
}

/* Text cJSON would read otherwise (or not as a number) is left alone. */
static void
test_not_read(void **state)
{
    (void)state;
    static const char *const refused[] = {
        "",    "-",     "01",   "-01",  "1.",   ".5",  "1e", "1e+",      "+1",
        "1-2", "1.5.2", "1e5e", "1+",   "1..2", "1E-", " 1", "Infinity", "-Infinity",
        "NaN", "-inf",  "1.e5", "0.e1", "00",   "--1", "e5", "true",     "\"1\"",
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        double v;
        size_t len;
        if (number_of(refused[i], &v, &len))
            fail_msg("'%s' read as %.17g", refused[i], v);
    }
    /* Stops where cJSON stops too: at a byte that is no part of a number. */
    double v;
    size_t len;
    assert_true(number_of("0x10", &v, &len) && len == 1 && v == 0);
    assert_true(number_of("12,3", &v, &len) && len == 2 && v == 12);
    assert_true(number_of("7]", &v, &len) && len == 1 && v == 7);
    /* cJSON reads at most 63 bytes of a number. */
    char longest[80];
    memset(longest, '1', sizeof longest);
    longest[SW_JSON_NUMBER_MAX] = '\0';
    assert_as_strtod(longest);
    longest[SW_JSON_NUMBER_MAX] = '1';
    longest[SW_JSON_NUMBER_MAX + 1] = '\0';
    assert_false(number_of(longest, &v, &len));
}

static unsigned
below(sw_rng *r, unsigned n)
{
    return (unsigned)(sw_rng_next(r) % n);
}

static void
put_digits(sw_rng *r, char *out, size_t *at, unsigned n, bool zeros)
{
    for (unsigned i = 0; i < n; i++)
        out[(*at)++] = (char)('0' + (zeros && below(r, 2) ? 0 : below(r, 10)));
}

/* A JSON number up to SW_JSON_NUMBER_MAX bytes: the shapes a latency list holds, and the
 * adversarial ones (many digits, zeros, fractions, exponents, signs, values past 2^53). */
static void
random_number(sw_rng *r, char *out)
{
    size_t at = 0;
    if (below(r, 4) == 0)
        out[at++] = '-';
    unsigned n_int = below(r, 3) == 0 ? 1 : 1 + below(r, 22);
    out[at++] = (char)('1' + below(r, 9));
    if (below(r, 6) == 0)
        out[at - 1] = '0', n_int = 1;
    put_digits(r, out, &at, n_int - 1, below(r, 3) == 0);
    if (below(r, 3) == 0) {
        out[at++] = '.';
        put_digits(r, out, &at, 1 + below(r, 22), below(r, 2) == 0);
    }
    if (below(r, 3) == 0) {
        out[at++] = below(r, 2) ? 'e' : 'E';
        unsigned sign = below(r, 3);
        if (sign > 0)
            out[at++] = sign == 1 ? '+' : '-';
        unsigned n_exp = below(r, 8) == 0 ? 1 + below(r, 4) : 1 + below(r, 2);
        put_digits(r, out, &at, n_exp, false);
    }
    out[at < SW_JSON_NUMBER_MAX ? at : SW_JSON_NUMBER_MAX] = '\0';
}

static void
test_random_against_strtod(void **state)
{
    (void)state;
    sw_rng r = {20261207};
    char text[80];
    for (int i = 0; i < 400000; i++) {
        random_number(&r, text);
        size_t n = strlen(text);
        /* A cut may leave "1." or "1e-": not JSON, so not read; strtod is then not the spec. */
        char last = text[n - 1];
        if (last == '.' || last == 'e' || last == 'E' || last == '+' || last == '-') {
            double v;
            size_t len;
            assert_false(number_of(text, &v, &len));
            continue;
        }
        assert_as_strtod(text);
    }
}

/* Whole numbers around the edges of the exact conversion (2^53, 19 digits, 10^15 scaling)
 * written plainly, with trailing zeros against a negative exponent, and as fractions. */
static void
test_edges_against_strtod(void **state)
{
    (void)state;
    static const uint64_t edges[] = {UINT64_C(1) << 53, UINT64_C(9999999999999999999),
                                     UINT64_C(1000000000000000), UINT64_C(3600000000), 1};
    char text[80];
    for (size_t e = 0; e < sizeof edges / sizeof edges[0]; e++)
        for (int64_t d = -300; d <= 300; d++) {
            uint64_t v = edges[e] + (uint64_t)d;
            if (d < 0 && (uint64_t)-d >= edges[e]) /* from 1: "0000e-3" is no JSON */
                continue;
            snprintf(text, sizeof text, "%llu", (unsigned long long)v);
            assert_as_strtod(text);
            snprintf(text, sizeof text, "%llu000e-3", (unsigned long long)v);
            assert_as_strtod(text);
            snprintf(text, sizeof text, "%llu.%02llue2", (unsigned long long)v / 100,
                     (unsigned long long)v % 100);
            assert_as_strtod(text);
            snprintf(text, sizeof text, "-%llue1", (unsigned long long)v);
            assert_as_strtod(text);
            snprintf(text, sizeof text, "%llu.5", (unsigned long long)v);
            assert_as_strtod(text);
            snprintf(text, sizeof text, "0.%llue19", (unsigned long long)v);
            assert_as_strtod(text);
        }
}

/* A body under construction (the bodies stay far below its size). */
typedef struct text {
    char s[65536];
    size_t n;
} text;

static void
put(text *t, const char *piece)
{
    size_t k = strlen(piece);
    assert_true(t->n + k < sizeof t->s);
    memcpy(t->s + t->n, piece, k);
    t->n += k;
}

static const char *
pick(sw_rng *r, const char *const *choices, size_t n)
{
    return choices[below(r, (unsigned)n)];
}

#define PICK(r, a) pick(r, a, sizeof a / sizeof a[0])

/* Mostly JSON's own whitespace or none; sometimes what cJSON skips but JSON does not. */
static void
put_space(sw_rng *r, text *t)
{
    static const char *const spaces[] = {"", "", "", "", " ", "\n", "\t", "\r\n  ", "\v", "\f"};
    put(t, below(r, 3) ? "" : PICK(r, spaces));
}

static void
put_name(sw_rng *r, text *t)
{
    static const char *const names[] = {
        "\"api\"",     "\"svc17\"",    "\"green\"", "\"\"",        "\"caf\xc3\xa9\"",
        "\"bad\xff\"", "\"a\\u0041\"", "\"q\\\"\"", "\"ctl\x01\"", "5",
        "null",        "[\"a\"]",      "\"a"};
    if (below(r, 12) == 0) {
        put(t, "\"");
        unsigned n = 250 + below(r, 10); /* either side of the 255-byte limit */
        for (unsigned i = 0; i < n; i++)
            put(t, "n");
        put(t, "\"");
        return;
    }
    put(t, PICK(r, names));
}

static void
put_number(sw_rng *r, text *t)
{
    static const char *const odd[] = {"0",    "-0",   "1",     "3600000000", "3600000001",
                                      "1.5",  "1e3",  "2.5e2", "-5",         "\"5\"",
                                      "null", "true", "1e400", "-0.0",       "9007199254740993",
                                      "01",   "1.",   ".5",    "+1",         "0x10"};
    char num[80];
    switch (below(r, 4)) {
    case 0:
        put(t, PICK(r, odd));
        return;
    case 1:
        random_number(r, num);
        put(t, num);
        return;
    default:
        snprintf(num, sizeof num, "%llu", (unsigned long long)(1 + below(r, 3600000000u)));
        put(t, num);
    }
}

static void
put_list(sw_rng *r, text *t, bool probes)
{
    static const char *const probe_values[] = {"true", "false", "true", "false",
                                               "null", "1",     "tru",  "falsey"};
    if (below(r, 16) == 0) {
        put_number(r, t);
        return;
    }
    put(t, "[");
    unsigned n = below(r, 20) == 0 ? 200 + below(r, 200) : below(r, 8);
    for (unsigned i = 0; i < n; i++) {
        put_space(r, t);
        if (probes)
            put(t, PICK(r, probe_values));
        else
            put_number(r, t);
        put_space(r, t);
        if (i + 1 < n)
            put(t, below(r, 200) ? "," : ",,");
    }
    put(t, "]");
}

static void
put_value(sw_rng *r, text *t, unsigned key)
{
    static const char *const times[] = {"\"2026-10-01T00:00:03Z\"",
                                        "\"2026-10-01T00:00:03.25+02:00\"", "\"yesterday\"",
                                        "\"2026-02-30T00:00:00Z\"", "17"};
    if (key <= 1)
        put_name(r, t);
    else if (key == 2)
        put(t, PICK(r, times));
    else if (key <= 4)
        put_number(r, t);
    else
        put_list(r, t, key == 6);
}

/* Fields in random order, sometimes one twice or an unknown one, with random whitespace. */
static void
random_body(sw_rng *r, text *t)
{
    static const char *const keys[] = {"service",    "env",    "at",    "requests", "errors",
                                       "latency_us", "probes", "extra", "Service"};
    t->n = 0;
    put_space(r, t);
    put(t, "{");
    unsigned n = below(r, 10);
    for (unsigned i = 0; i < n; i++) {
        unsigned key = below(r, 3) == 0 ? below(r, 9) : (unsigned[]){0, 3, 4, 5, 1}[i % 5];
        put_space(r, t);
        put(t, "\"");
        put(t, keys[key]);
        put(t, "\"");
        put_space(r, t);
        put(t, ":");
        put_space(r, t);
        put_value(r, t, key < 7 ? key : 3);
        put_space(r, t);
        if (i + 1 < n)
            put(t, ",");
    }
    put(t, "}");
    put_space(r, t);
}

/* A cut, a changed byte or trailing data, on some bodies. */
static void
mutate(sw_rng *r, text *t)
{
    static const char bytes[] = "{}[],:\" \\0-e.x1\x80";
    switch (below(r, 8)) {
    case 0:
        t->n = below(r, (unsigned)t->n + 1);
        break;
    case 1:
        if (t->n > 0)
            t->s[below(r, (unsigned)t->n)] = bytes[below(r, sizeof bytes)]; /* NUL included */
        break;
    case 2:
        put(t, below(r, 2) ? "x" : "{}");
        break;
    default:
        break;
    }
}

static void
assert_same_batch(const sw_push_batch *a, const sw_push_batch *b)
{
    assert_string_equal(a->service, b->service);
    assert_string_equal(a->env, b->env);
    assert_int_equal(a->at_ms, b->at_ms);
    assert_int_equal(a->requests, b->requests);
    assert_int_equal(a->errors, b->errors);
    assert_int_equal(a->n_latency, b->n_latency);
    assert_int_equal(a->n_probes, b->n_probes);
    for (size_t i = 0; i < a->n_latency; i++)
        assert_int_equal(a->latency_us[i], b->latency_us[i]);
    for (size_t i = 0; i < a->n_probes; i++)
        assert_int_equal(a->probes[i], b->probes[i]);
}

/* Same status, same message and same batch as the tree path for one body. */
static bool
assert_as_tree(const uint8_t *body, size_t len)
{
    sw_push_batch direct, tree;
    sw_err err_direct = {0}, err_tree = {0};
    sw_status st_direct = sw_push_parse(body, len, &direct, &err_direct);
    sw_status st_tree = sw_push_parse_tree(body, len, &tree, &err_tree);
    if (st_direct != st_tree)
        fail_msg("'%.*s': status %d, the tree's %d (%s)", (int)len, (const char *)body, st_direct,
                 st_tree, err_tree.msg);
    if (st_tree != SW_OK) {
        assert_string_equal(err_direct.msg, err_tree.msg);
        return false;
    }
    assert_same_batch(&direct, &tree);
    sw_push_batch_fini(&direct);
    sw_push_batch_fini(&tree);
    return true;
}

static void
test_random_bodies_against_tree(void **state)
{
    (void)state;
    sw_rng r = {7};
    static text t;
    size_t accepted = 0, total = 200000;
    for (size_t i = 0; i < total; i++) {
        random_body(&r, &t);
        mutate(&r, &t);
        uint8_t *copy = malloc(t.n + 1); /* exactly the body's bytes: no NUL after it */
        assert_non_null(copy);
        memcpy(copy, t.s, t.n);
        accepted += assert_as_tree(copy, t.n);
        free(copy);
    }
    /* Both sides of the direct reader's line were exercised. */
    assert_true(accepted > total / 50 && accepted < total - total / 50);
}

/* scale_serve.py's body and the bodies of docs/api.md, whitespace and all. */
static void
test_usual_bodies_against_tree(void **state)
{
    (void)state;
    static const char *const bodies[] = {
        "{\"service\":\"svc1\",\"env\":\"green\",\"requests\":250,\"errors\":1,"
        "\"latency_us\":[80000,91234,1,3600000000]}",
        "{\n  \"service\": \"api\",\n  \"env\": \"green\",\n  \"at\": \"2026-10-01T12:00:03Z\",\n"
        "  \"requests\": 120,\n  \"errors\": 2,\n  \"latency_us\": [1830, 2400],\n"
        "  \"probes\": [true, false]\n}\n",
        "{\"service\":\"api\"}",
        "{\"service\":\"api\",\"latency_us\":[],\"probes\":[]}",
        "{\"service\":\"api\",\"requests\":1,\"errors\":2}",
        "{\"service\":\"api\",\"latency_us\":[0]}",
        "{\"service\":\"api\",\"latency_us\":[1.5]}",
        "{\"service\":\"api\",\"latency_us\":[-0]}",
        "{\"service\":\"api\",\"latency_us\":[3.6e9, 36e8, 3600000000.0, 1e0]}",
        "{\"service\":\"api\",\"service\":\"web\"}",
        "{\"env\":\"green\"}",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++)
        assert_as_tree((const uint8_t *)bodies[i], strlen(bodies[i]));
    assert_as_tree(NULL, 0); /* an empty request's body */
}

/* Either side of the caps on the number of latency values and probes. */
static void
test_list_caps_against_tree(void **state)
{
    (void)state;
    static const struct {
        const char *key, *item;
        size_t cap;
    } lists[] = {{"latency_us", "7", SW_PUSH_MAX_VALUES}, {"probes", "true", SW_PUSH_MAX_PROBES}};
    for (size_t l = 0; l < 2; l++)
        for (size_t n = lists[l].cap - 1; n <= lists[l].cap + 1; n++) {
            size_t cap = 64 + n * (strlen(lists[l].item) + 1);
            char *body = malloc(cap);
            assert_non_null(body);
            size_t at = (size_t)snprintf(body, cap, "{\"service\":\"api\",\"%s\":[", lists[l].key);
            for (size_t i = 0; i < n; i++)
                at += (size_t)snprintf(body + at, cap - at, "%s%s", i ? "," : "", lists[l].item);
            at += (size_t)snprintf(body + at, cap - at, "]}");
            assert_int_equal(assert_as_tree((const uint8_t *)body, at), n <= lists[l].cap);
            free(body);
        }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_values),
        cmocka_unit_test(test_not_read),
        cmocka_unit_test(test_random_against_strtod),
        cmocka_unit_test(test_edges_against_strtod),
        cmocka_unit_test(test_usual_bodies_against_tree),
        cmocka_unit_test(test_list_caps_against_tree),
        cmocka_unit_test(test_random_bodies_against_tree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
