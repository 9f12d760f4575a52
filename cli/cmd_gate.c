/*
 * slawatch gate: the deploy gate client. GETs /api/v1/gate from a slawatch server, explains
 * the verdict (or prints the server's JSON with --json) and exits with it: 0 pass, 1 fail,
 * 2 inconclusive, 3 error. --wait polls until the verdict is pass or fail, within a bound.
 */
#include "cli.h"

#include "slawatch/buf.h"
#include "slawatch/http_client.h"
#include "slawatch/rules.h"
#include "slawatch/units.h"

#include <cjson/cJSON.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define POLL_MS 2000
#define REQUEST_TIMEOUT_MS 10000
#define MAX_ANSWER (1u << 20)
#define MAX_TOKEN 4096

typedef struct gate_opts {
    const char *server, *service, *env, *window, *token_file;
    int64_t wait_ms;
    bool json;
} gate_opts;

static void
gate_usage(FILE *f)
{
    fprintf(f,
            "usage: slawatch gate --server URL --service S [--env E] [--window W] [--wait T]\n"
            "                     [--json] [--token-file F]\n\n"
            "Ask a slawatch server whether a deployment of service S (environment E) may\n"
            "proceed, judged over window W (default: the server's gate window).\n\n"
            "  --server URL      slawatch server, e.g. http://slawatch:9464\n"
            "  --service S       service name\n"
            "  --env E           environment of the candidate, e.g. green\n"
            "  --window W        evaluation window, e.g. 10m\n"
            "  --wait T          while inconclusive, ask again every 2s for up to T (e.g. 5m)\n"
            "  --json            print the server's JSON answer instead of an explanation\n"
            "  --token-file F    bearer token for the server (default: $SLAWATCH_TOKEN)\n"
            "  -h, --help, --version\n\n"
            "Exit status: 0 pass, 1 fail, 2 inconclusive, 3 error (unreachable server, HTTP\n"
            "error, unknown service, malformed answer, timeout).\n");
}

/* Returns -1 to go on, else the exit status (after --help, --version or a usage error). */
static int
parse_opts(int argc, char **argv, gate_opts *o)
{
    static const struct option longopts[] = {
        {"server", required_argument, NULL, 's'}, {"service", required_argument, NULL, 'S'},
        {"env", required_argument, NULL, 'e'},    {"window", required_argument, NULL, 'w'},
        {"wait", required_argument, NULL, 'W'},   {"json", no_argument, NULL, 'j'},
        {"token-file", required_argument, NULL, 't'}, {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},      {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 's': o->server = optarg; break;
        case 'S': o->service = optarg; break;
        case 'e': o->env = optarg; break;
        case 'w': o->window = optarg; break;
        case 't': o->token_file = optarg; break;
        case 'j': o->json = true; break;
        case 'W':
            if (!sw_units_parse_duration_ms(optarg, strlen(optarg), &o->wait_ms)) {
                fprintf(stderr, "slawatch gate: --wait: expected a duration such as 5m, "
                                "found '%s'\n", optarg);
                return SW_EXIT_GATE_ERROR;
            }
            break;
        case 'h': gate_usage(stdout); return SW_EXIT_GATE_PASS;
        case 'V': sw_cli_version(stdout); return SW_EXIT_GATE_PASS;
        default: gate_usage(stderr); return SW_EXIT_GATE_ERROR;
        }
    }
    if (o->server == NULL || o->service == NULL || optind < argc) {
        gate_usage(stderr);
        return SW_EXIT_GATE_ERROR;
    }
    return -1;
}

/* The token from --token-file (first line) or $SLAWATCH_TOKEN; *ret NULL when neither. */
static bool
load_token(const char *path, char *out, size_t cap, const char **ret)
{
    *ret = NULL;
    if (path == NULL) {
        *ret = getenv("SLAWATCH_TOKEN");
        return true;
    }
    FILE *f = fopen(path, "r");
    if (f == NULL || fgets(out, (int)cap, f) == NULL) {
        fprintf(stderr, "slawatch gate: cannot read the token file %s\n", path);
        if (f != NULL)
            fclose(f);
        return false;
    }
    fclose(f);
    out[strcspn(out, "\r\n")] = '\0';
    *ret = out;
    return true;
}

static sw_status
append_encoded(sw_buf *b, const char *key, const char *value)
{
    sw_status st = sw_buf_printf(b, NULL, "%s%s=", b->data[b->len - 1] == '?' ? "" : "&", key);
    for (const unsigned char *p = (const unsigned char *)value; st == SW_OK && *p; p++) {
        bool plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                     (*p >= '0' && *p <= '9') || strchr("-._~", *p) != NULL;
        st = plain ? sw_buf_append(b, p, 1, NULL) : sw_buf_printf(b, NULL, "%%%02X", *p);
    }
    return st;
}

/* URL/api/v1/gate?service=..&env=..&window=.. with the values percent-encoded. */
static const char *
build_url(const gate_opts *o, sw_buf *b)
{
    size_t n = strlen(o->server);
    while (n > 0 && o->server[n - 1] == '/')
        n--;
    sw_status st = sw_buf_printf(b, NULL, "%.*s/api/v1/gate?", (int)n, o->server);
    if (st == SW_OK)
        st = append_encoded(b, "service", o->service);
    if (st == SW_OK && o->env != NULL)
        st = append_encoded(b, "env", o->env);
    if (st == SW_OK && o->window != NULL)
        st = append_encoded(b, "window", o->window);
    return st == SW_OK ? sw_buf_cstr(b, NULL) : NULL;
}

/* A check's value in the unit people read, chosen by the check's name (gate.c names them). */
static void
format_check_value(const char *name, double v, char *out, size_t cap)
{
    sw_sli sli;
    double pct;
    size_t len = strlen(name);
    if (isnan(v))
        snprintf(out, cap, "n/a");
    else if (strncmp(name, "rollback_trigger:", 17) == 0)
        snprintf(out, cap, "%s", v > 0 ? "fired" : "not fired");
    else if ((len > 9 && strcmp(name + len - 9, "_increase") == 0) ||
             strncmp(name, "error_budget:", 13) == 0)
        sw_rules_format_value(SW_SLI_ERROR_RATE, v, out, cap); /* a ratio */
    else if (sw_rules_sli_parse(name, &sli, &pct))
        sw_rules_format_value(sli, v, out, cap);
    else
        snprintf(out, cap, "%.3g", v);
}

static const char *
json_str(const cJSON *obj, const char *key, const char *dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : dflt;
}

static double
json_num(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* ok, FAIL, or -- for a check not judged yet (too little data, or a comparison undecided). */
static const char *
check_mark(const cJSON *c)
{
    const char *v = json_str(c, "verdict", NULL);
    if (v == NULL)
        return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "passed")) ? "ok" : "FAIL";
    return strcmp(v, "pass") == 0 ? "ok" : strcmp(v, "fail") == 0 ? "FAIL" : "--";
}

/* A comparison with the baseline: its confidence interval and both sides' counts. */
static void
print_comparison(const char *name, const cJSON *c)
{
    char lo[48], hi[48];
    format_check_value(name, json_num(c, "lower"), lo, sizeof lo);
    format_check_value(name, json_num(c, "upper"), hi, sizeof hi);
    printf(", %g%% confidence: %s .. %s, %.0f vs %.0f samples", json_num(c, "confidence") * 100, lo,
           hi, json_num(c, "samples"), json_num(c, "baseline_samples"));
    double more = json_num(c, "more_samples");
    if (!isnan(more))
        printf(", about %.0f more each would decide", more);
}

static void
print_check(const cJSON *c)
{
    const char *name = json_str(c, "name", "?");
    char m[48], t[48];
    format_check_value(name, json_num(c, "measured"), m, sizeof m);
    format_check_value(name, json_num(c, "threshold"), t, sizeof t);
    double samples = json_num(c, "samples");
    printf("  %-4s %-24s %10s  ", check_mark(c), name, m);
    /* A trigger's threshold is "not fired"; an operator in front of it reads wrong. */
    if (strncmp(name, "rollback_trigger:", 17) == 0)
        printf("(want %s", t);
    else
        printf("(want %s %s", json_str(c, "op", "?"), t);
    if (strncmp(name, "error_budget:", 13) == 0) { /* judged over the objective's own window */
        const char *by = json_str(c, "overridden_by", NULL);
        printf(" left%s%s)\n", by ? ", overridden by " : "", by ? by : "");
        return;
    }
    if (cJSON_GetObjectItemCaseSensitive(c, "confidence") != NULL)
        print_comparison(name, c);
    else if (!isnan(samples))
        printf(", %.0f samples", samples);
    printf(" over %s)\n", json_str(c, "window", "?"));
}

static void
print_human(const gate_opts *o, const cJSON *ans, const char *verdict)
{
    char upper[16];
    size_t i = 0;
    for (; verdict[i] != '\0' && i + 1 < sizeof upper; i++)
        upper[i] = (char)(verdict[i] >= 'a' && verdict[i] <= 'z' ? verdict[i] - 32 : verdict[i]);
    upper[i] = '\0';
    const char *env = json_str(ans, "env", o->env);
    printf("gate %s%s%s over %s: %s\n", json_str(ans, "service", o->service), env ? "/" : "",
           env ? env : "", json_str(ans, "window", "?"), upper);
    const char *limit = json_str(ans, "window_limited_by", NULL);
    if (limit != NULL)
        printf("window: %s asked, %s judged (%s)\n", json_str(ans, "window_requested", "?"),
               json_str(ans, "window", "?"),
               strcmp(limit, "deployment") == 0 ? "the deployment is more recent"
                                                : "latency is kept for the rules' gate window");
    printf("reason: %s\n", json_str(ans, "reason", "(none given)"));
    const cJSON *checks = cJSON_GetObjectItemCaseSensitive(ans, "checks");
    const cJSON *c;
    if (cJSON_GetArraySize(checks) > 0)
        printf("checks:\n");
    cJSON_ArrayForEach(c, checks)
        print_check(c);
    printf("evaluated at %s\n", json_str(ans, "evaluated_at", "?"));
}

/* 404's body names the known services; anything else non-200 is reported by status. */
static void
report_http_error(long status, const sw_buf *body)
{
    cJSON *j = cJSON_ParseWithLength((const char *)body->data, body->len);
    const char *msg = json_str(j, "error", NULL);
    fprintf(stderr, "slawatch gate: server answered HTTP %ld%s%s\n", status, msg ? ": " : "",
            msg ? msg : "");
    const cJSON *svc, *list = cJSON_GetObjectItemCaseSensitive(j, "services");
    if (status == 404 && cJSON_IsArray(list)) {
        fprintf(stderr, "slawatch gate: known services:");
        cJSON_ArrayForEach(svc, list)
            if (cJSON_IsString(svc))
                fprintf(stderr, " %s", svc->valuestring);
        fprintf(stderr, "\n");
    }
    cJSON_Delete(j);
}

static int
verdict_exit(const char *v)
{
    if (strcmp(v, "pass") == 0)
        return SW_EXIT_GATE_PASS;
    if (strcmp(v, "fail") == 0)
        return SW_EXIT_GATE_FAIL;
    if (strcmp(v, "inconclusive") == 0)
        return SW_EXIT_GATE_INCONCLUSIVE;
    return -1;
}

/* One question to the server: the verdict's exit status (printing it when final) or an error. */
static int
ask(const gate_opts *o, const char *url, const char *token, bool final)
{
    sw_http_fetch_request rq = {.url = url, .bearer_token = token,
                                .timeout_ms = REQUEST_TIMEOUT_MS, .max_response_bytes = MAX_ANSWER};
    sw_http_fetch_response resp;
    sw_err err;
    if (sw_http_fetch(&rq, &resp, &err) != SW_OK) {
        fprintf(stderr, "slawatch gate: %s\n", err.msg);
        return SW_EXIT_GATE_ERROR;
    }
    int rc = SW_EXIT_GATE_ERROR;
    cJSON *ans = NULL;
    if (resp.status != 200) {
        report_http_error(resp.status, &resp.body);
        goto out;
    }
    ans = cJSON_ParseWithLength((const char *)resp.body.data, resp.body.len);
    const char *verdict = json_str(ans, "verdict", NULL);
    if (verdict == NULL || (rc = verdict_exit(verdict)) < 0) {
        fprintf(stderr, "slawatch gate: the server's answer is not a gate verdict (expected JSON "
                        "with \"verdict\": pass, fail or inconclusive)\n");
        rc = SW_EXIT_GATE_ERROR;
        goto out;
    }
    if (!final && rc == SW_EXIT_GATE_INCONCLUSIVE)
        fprintf(stderr, "slawatch gate: inconclusive, asking again: %s\n",
                json_str(ans, "reason", ""));
    else if (o->json)
        printf("%.*s\n", (int)resp.body.len, (const char *)resp.body.data);
    else
        print_human(o, ans, verdict);
out:
    cJSON_Delete(ans);
    sw_http_fetch_response_fini(&resp);
    return rc;
}

static int64_t
monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Ask until pass or fail, or until wait_ms is spent (the last answer is then final). */
static int
ask_until(const gate_opts *o, const char *url, const char *token)
{
    int64_t deadline = monotonic_ms() + o->wait_ms;
    for (;;) {
        int64_t left = deadline - monotonic_ms();
        bool final = left <= 0;
        int rc = ask(o, url, token, final);
        if (rc != SW_EXIT_GATE_INCONCLUSIVE || final)
            return rc;
        sleep_ms(left < POLL_MS ? left : POLL_MS);
    }
}

int
sw_cli_gate(int argc, char **argv)
{
    gate_opts o = {0};
    int rc = parse_opts(argc, argv, &o);
    if (rc >= 0)
        return rc;
    char token_buf[MAX_TOKEN];
    const char *token;
    if (!load_token(o.token_file, token_buf, sizeof token_buf, &token))
        return SW_EXIT_GATE_ERROR;
    sw_buf url;
    sw_buf_init(&url, 8192);
    const char *u = build_url(&o, &url);
    if (u == NULL) {
        fprintf(stderr, "slawatch gate: the request URL is too long\n");
        rc = SW_EXIT_GATE_ERROR;
    } else {
        rc = ask_until(&o, u, token);
    }
    sw_buf_fini(&url);
    memset(token_buf, 0, sizeof token_buf);
    return rc;
}
