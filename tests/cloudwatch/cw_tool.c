/*
 * Test driver for the CloudWatch building blocks, run by the Python tests:
 *   cw_tool sign                 JSON requests on stdin, one per line -> the headers slawatch
 *                                adds, one JSON object per line (for the botocore cross-check)
 *   cw_tool creds [--count N] [--interval-ms M] [--refresh-early S] [--call]
 *                                the credential chain from the real environment: per round one
 *                                line "source=... key_id=... expires=..." (never the secret);
 *                                with --call, also a signed GetMetricData POST to the endpoint
 *                                resolved for CloudWatch and "status=..." with its HTTP status
 *   cw_tool region               the resolved region
 * Errors go to stderr as "error: MESSAGE" with exit status 1.
 */
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "slawatch/awscreds.h"
#include "slawatch/buf.h"
#include "slawatch/http_client.h"
#include "slawatch/json.h"
#include "slawatch/sigv4.h"

#define MAX_HEADERS 64

static int
fail(const sw_err *err)
{
    fprintf(stderr, "error: %s\n", err->msg);
    return 1;
}

static const char *
str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Sign one request described by JSON; print {"headers": [[name, value], ...]} or {"error"}. */
static void
sign_one(const cJSON *in)
{
    static sw_awscreds creds;
    sw_sigv4_header headers[MAX_HEADERS];
    sw_sigv4_request rq = {.method = str(in, "method"), .path = str(in, "path"),
                           .query = str(in, "query")};
    const cJSON *h;
    cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(in, "headers"))
    {
        if (rq.n_headers < MAX_HEADERS)
            headers[rq.n_headers++] = (sw_sigv4_header){cJSON_GetArrayItem(h, 0)->valuestring,
                                                        cJSON_GetArrayItem(h, 1)->valuestring};
    }
    rq.headers = headers;
    const char *body = str(in, "body");
    rq.payload = body;
    rq.payload_len = body != NULL ? strlen(body) : 0;
    rq.now_unix_s = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(in, "time"));
    snprintf(creds.access_key_id, sizeof creds.access_key_id, "%s", str(in, "access_key_id"));
    snprintf(creds.secret_access_key, sizeof creds.secret_access_key, "%s", str(in, "secret"));
    snprintf(creds.session_token, sizeof creds.session_token, "%s",
             str(in, "token") ? str(in, "token") : "");
    sw_sigv4_signer *s = NULL;
    sw_sigv4_result r;
    sw_sigv4_result_init(&r);
    sw_err err = {0};
    cJSON *out = cJSON_CreateObject();
    if (sw_sigv4_signer_new(str(in, "region"), str(in, "service"), &s, &err) == SW_OK &&
        sw_sigv4_sign(s, &creds, &rq, &r, &err) == SW_OK) {
        cJSON *arr = cJSON_AddArrayToObject(out, "headers");
        for (size_t i = 0; i < r.n_added; i++) {
            const char *pair[] = {r.added[i].name, r.added[i].value};
            cJSON_AddItemToArray(arr, cJSON_CreateStringArray(pair, 2));
        }
    } else {
        cJSON_AddStringToObject(out, "error", err.msg);
    }
    char *text = cJSON_PrintUnformatted(out);
    printf("%s\n", text);
    free(text);
    cJSON_Delete(out);
    sw_sigv4_result_fini(&r);
    sw_sigv4_signer_free(s);
}

static int
cmd_sign(void)
{
    sw_buf line;
    sw_buf_init(&line, 1 << 20);
    bool got = true;
    while (sw_buf_getline(&line, stdin, &got, NULL) == SW_OK && got) {
        cJSON *in = NULL;
        if (sw_json_parse(line.data, line.len, 1 << 20, 8, &in, NULL) == SW_OK)
            sign_one(in);
        else
            printf("{\"error\":\"bad input line\"}\n");
        cJSON_Delete(in);
        fflush(stdout);
    }
    sw_buf_fini(&line);
    return 0;
}

/* POST a GetMetricData request signed with creds to the CloudWatch endpoint; its status. */
static sw_status
call_cloudwatch(const sw_awscreds *creds, const char *region, long *ret_status, sw_err *err)
{
    char url[512], host_header[300];
    sw_status st = sw_awscreds_endpoint_url(NULL, "CLOUDWATCH", "cloudwatch", "monitoring",
                                            region, url, sizeof url, err);
    if (st != SW_OK)
        return st;
    const char *host = strstr(url, "://") + 3;
    snprintf(host_header, sizeof host_header, "%.*s", (int)strcspn(host, "/"), host);
    const char *body = "{\"MetricDataQueries\":[{\"Id\":\"q1\",\"MetricStat\":{\"Metric\":"
                       "{\"Namespace\":\"AWS/ApplicationELB\",\"MetricName\":\"RequestCount\"},"
                       "\"Period\":60,\"Stat\":\"Sum\"}}],\"StartTime\":0,\"EndTime\":60}";
    sw_sigv4_header signed_headers[] = {
        {"Host", host_header},
        {"Content-Type", "application/x-amz-json-1.0"},
        {"X-Amz-Target", "GraniteServiceVersion20100801.GetMetricData"},
    };
    sw_sigv4_request rq = {.method = "POST", .path = "/", .headers = signed_headers,
                           .n_headers = 3, .payload = body, .payload_len = strlen(body),
                           .now_unix_s = (int64_t)time(NULL)};
    sw_sigv4_signer *s = NULL;
    sw_sigv4_result r;
    sw_sigv4_result_init(&r);
    st = sw_sigv4_signer_new(region, "monitoring", &s, err);
    if (st == SW_OK)
        st = sw_sigv4_sign(s, creds, &rq, &r, err);
    char lines[SW_SIGV4_MAX_ADDED + 1][SW_AWSCREDS_TOKEN_MAX + 64];
    const char *extra[SW_SIGV4_MAX_ADDED + 2] = {0};
    extra[0] = "X-Amz-Target: GraniteServiceVersion20100801.GetMetricData";
    for (size_t i = 0; st == SW_OK && i < r.n_added; i++) {
        snprintf(lines[i], sizeof lines[i], "%s: %s", r.added[i].name, r.added[i].value);
        extra[i + 1] = lines[i];
    }
    sw_http_fetch_response resp;
    sw_http_fetch_request hrq = {.method = "POST", .url = url,
                                 .content_type = "application/x-amz-json-1.0", .body = body,
                                 .body_len = strlen(body), .headers = extra};
    if (st == SW_OK)
        st = sw_http_fetch(&hrq, &resp, err);
    if (st == SW_OK) {
        *ret_status = resp.status;
        if (resp.status != 200)
            fprintf(stderr, "cloudwatch: %.*s\n", (int)resp.body.len, (const char *)resp.body.data);
        sw_http_fetch_response_fini(&resp);
    }
    sw_sigv4_result_fini(&r);
    sw_sigv4_signer_free(s);
    return st;
}

static void
sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int
cmd_creds(int argc, char **argv)
{
    long count = 1, interval_ms = 0;
    sw_awscreds_options opt = {0};
    bool call = false;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--call") == 0)
            call = true;
        else if (i + 1 < argc && strcmp(argv[i], "--count") == 0)
            count = atol(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--interval-ms") == 0)
            interval_ms = atol(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--refresh-early") == 0)
            opt.refresh_early_s = atol(argv[++i]);
    }
    sw_awscreds_provider *p = NULL;
    sw_err err = {0};
    char region[SW_AWSCREDS_REGION_MAX];
    if (sw_awscreds_provider_new(&opt, &p, &err) != SW_OK ||
        (call && sw_awscreds_region(&opt, region, sizeof region, &err) != SW_OK))
        return fail(&err);
    static sw_awscreds c;
    int rc = 0;
    for (long i = 0; i < count && rc == 0; i++) {
        long status = 0;
        if (i > 0)
            sleep_ms(interval_ms);
        if (sw_awscreds_get(p, &c, &err) != SW_OK ||
            (call && call_cloudwatch(&c, region, &status, &err) != SW_OK)) {
            rc = fail(&err);
            break;
        }
        printf("source=%s key_id=%s expires=%lld token=%s", c.source, c.access_key_id,
               (long long)c.expires_unix_s, c.session_token[0] != '\0' ? "yes" : "no");
        if (call)
            printf(" status=%ld", status);
        printf("\n");
        fflush(stdout);
    }
    sw_awscreds_wipe(&c);
    sw_awscreds_provider_free(p);
    return rc;
}

static int
cmd_region(void)
{
    char region[SW_AWSCREDS_REGION_MAX];
    sw_err err = {0};
    if (sw_awscreds_region(NULL, region, sizeof region, &err) != SW_OK)
        return fail(&err);
    printf("%s\n", region);
    return 0;
}

int
main(int argc, char **argv)
{
    sw_err err = {0};
    if (sw_http_client_global_init(&err) != SW_OK)
        return fail(&err);
    int rc = 2;
    if (argc >= 2 && strcmp(argv[1], "sign") == 0)
        rc = cmd_sign();
    else if (argc >= 2 && strcmp(argv[1], "creds") == 0)
        rc = cmd_creds(argc, argv);
    else if (argc >= 2 && strcmp(argv[1], "region") == 0)
        rc = cmd_region();
    else
        fprintf(stderr, "usage: cw_tool sign | creds [--count N] [--interval-ms M] "
                        "[--refresh-early S] [--call] | region\n");
    sw_http_client_global_cleanup();
    return rc;
}
