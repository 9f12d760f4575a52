/*
 * The credential sources behind HTTP: the ECS container endpoint and EC2 instance metadata
 * (IMDSv2 only: a session token from PUT /latest/api/token on every use). Each call uses a
 * temporary HTTP client; nothing is cached here (the provider caches credentials). Messages
 * name the endpoint without query or user info and never include a token or key.
 */
#include "collector/awscreds_int.h"

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "slawatch/http_client.h"
#include "slawatch/json.h"

#define ECS_DEFAULT_HOST "http://169.254.170.2"
#define IMDS_DEFAULT_ENDPOINT "http://169.254.169.254"
#define IMDS_IPV6_ENDPOINT "http://[fd00:ec2::254]"
#define IMDS_TOKEN_TTL_S "21600"
#define BODY_MAX ((size_t)64 << 10)
#define URL_MAX 1024
#define DEFAULT_TIMEOUT_MS 1000

/* GET/PUT url with extra header lines; only a 200 answer is a success. */
static sw_status
fetch_ok(const sw_awscreds_options *opt, const char *what, const char *method, const char *url,
         const char *const *headers, sw_http_fetch_response *resp, sw_err *err)
{
    sw_http_fetch_request rq = {
        .method = method,
        .url = url,
        .headers = headers,
        .timeout_ms = opt->http_timeout_ms > 0 ? opt->http_timeout_ms : DEFAULT_TIMEOUT_MS,
        .max_response_bytes = BODY_MAX,
    };
    sw_status st = sw_http_fetch(&rq, resp, err);
    if (st != SW_OK) {
        sw_err_prefix(err, "%s", what);
        return st;
    }
    if (resp->status == 200)
        return SW_OK;
    char redacted[256];
    sw_http_client_redact_url(url, redacted, sizeof redacted);
    long status = resp->status;
    sw_http_fetch_response_fini(resp);
    return sw_err_set(err, SW_E_IO, "%s: %s %s answered HTTP %ld", what, method, redacted, status);
}

static void
wipe_response(sw_http_fetch_response *resp)
{
    if (resp->body.data != NULL)
        OPENSSL_cleanse(resp->body.data, resp->body.cap);
    sw_http_fetch_response_fini(resp);
}

static const char *
json_string(const cJSON *root, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

sw_status
sw_awscreds_fill_json(const cJSON *root, const char *token_key, const char *where, sw_awscreds *c,
                      sw_err *err)
{
    const char *id = json_string(root, "AccessKeyId"),
               *secret = json_string(root, "SecretAccessKey");
    const char *token = json_string(root, token_key), *expiration = json_string(root, "Expiration");
    if (id == NULL || secret == NULL || id[0] == '\0' || secret[0] == '\0')
        return sw_err_set(err, SW_E_PARSE, "%s: credentials without AccessKeyId or SecretAccessKey",
                          where);
    if (!sw_awscreds_copy(c->access_key_id, sizeof c->access_key_id, id) ||
        !sw_awscreds_copy(c->secret_access_key, sizeof c->secret_access_key, secret) ||
        !sw_awscreds_copy(c->session_token, sizeof c->session_token, token ? token : ""))
        return sw_err_set(err, SW_E_PARSE, "%s: a credential field is too long", where);
    c->expires_unix_s = 0;
    if (expiration != NULL && (c->expires_unix_s = sw_awscreds_parse_time(expiration)) < 0)
        return sw_err_set(err, SW_E_PARSE, "%s: Expiration is not an ISO 8601 UTC time", where);
    return SW_OK;
}

sw_status
sw_awscreds_parse_json(const uint8_t *body, size_t len, const char *where, sw_awscreds *ret,
                       sw_err *err)
{
    cJSON *root = NULL;
    sw_status st = sw_json_parse(body, len, BODY_MAX, 8, &root, err);
    if (st != SW_OK) {
        sw_err_prefix(err, "%s", where);
        return st;
    }
    sw_awscreds c = {0};
    st = cJSON_IsObject(root) ? sw_awscreds_fill_json(root, "Token", where, &c, err)
                              : sw_err_set(err, SW_E_PARSE, "%s: expected a JSON object", where);
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(root, "Code");
    if (st == SW_OK && cJSON_IsString(code) && strcmp(code->valuestring, "Success") != 0)
        st = sw_err_set(err, SW_E_IO, "%s: Code is not Success", where);
    if (st == SW_OK)
        *ret = c;
    sw_awscreds_wipe(&c);
    cJSON_Delete(root);
    return st;
}

/* ---- ECS ---- */

/* Plain HTTP only to loopback and the ECS/EKS link-local hosts, as the SDKs allow. */
static bool
allowed_full_uri(const char *uri)
{
    if (strncmp(uri, "https://", 8) == 0)
        return true;
    if (strncmp(uri, "http://", 7) != 0)
        return false;
    static const char *const hosts[] = {"127.",          "localhost",      "[::1]",
                                        "169.254.170.2", "169.254.170.23", "[fd00:ec2::23]"};
    const char *host = uri + 7;
    size_t host_len = strcspn(host, ":/?#");
    if (host[0] == '[')
        host_len = strcspn(host, "]/?#") + (host[strcspn(host, "]/?#")] == ']');
    for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++) {
        size_t n = strlen(hosts[i]);
        bool prefix = hosts[i][n - 1] == '.';
        if ((prefix && host_len > n && strncmp(host, hosts[i], n) == 0) ||
            (host_len == n && strncmp(host, hosts[i], n) == 0))
            return true;
    }
    return false;
}

/* The authorization token: the _FILE variable wins over the literal one. */
static sw_status
ecs_token(const sw_awscreds_options *opt, char *out, size_t cap, sw_err *err)
{
    const char *path = sw_awscreds_env(opt, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    const char *literal = sw_awscreds_env(opt, "AWS_CONTAINER_AUTHORIZATION_TOKEN");
    out[0] = '\0';
    if (path != NULL) {
        FILE *f = fopen(path, "rb");
        if (f == NULL)
            return sw_err_sys(err, SW_E_IO, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE %s", path);
        size_t n = fread(out, 1, cap - 1, f);
        fclose(f);
        out[n] = '\0';
        out[strcspn(out, "\r\n")] = '\0';
    } else if (literal != NULL && !sw_awscreds_copy(out, cap, literal)) {
        return sw_err_set(err, SW_E_INVAL, "AWS_CONTAINER_AUTHORIZATION_TOKEN is too long");
    }
    if (strpbrk(out, "\r\n") != NULL)
        return sw_err_set(err, SW_E_INVAL, "the container authorization token has a line break");
    return SW_OK;
}

static sw_status
ecs_url(const sw_awscreds_options *opt, char *url, bool *ret_found, sw_err *err)
{
    const char *relative = sw_awscreds_env(opt, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    const char *full = sw_awscreds_env(opt, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
    *ret_found = relative != NULL || full != NULL;
    if (relative != NULL)
        snprintf(url, URL_MAX, "%s%s%s", ECS_DEFAULT_HOST, relative[0] == '/' ? "" : "/", relative);
    else if (full != NULL && !allowed_full_uri(full))
        return sw_err_set(err, SW_E_INVAL,
                          "AWS_CONTAINER_CREDENTIALS_FULL_URI must be https:// or http:// to a "
                          "loopback or ECS/EKS link-local host");
    else if (full != NULL && !sw_awscreds_copy(url, URL_MAX, full))
        return sw_err_set(err, SW_E_INVAL, "AWS_CONTAINER_CREDENTIALS_FULL_URI is too long");
    return SW_OK;
}

sw_status
sw_awscreds_from_ecs(const sw_awscreds_options *opt, sw_awscreds *ret, bool *ret_found, sw_err *err)
{
    char url[URL_MAX], token[4096], header[4096 + 32];
    sw_status st = ecs_url(opt, url, ret_found, err);
    if (st != SW_OK || !*ret_found)
        return st;
    st = ecs_token(opt, token, sizeof token, err);
    if (st != SW_OK)
        return st;
    snprintf(header, sizeof header, "Authorization: %s", token);
    const char *headers[] = {token[0] != '\0' ? header : NULL, NULL};
    sw_http_fetch_response resp;
    st = fetch_ok(opt, "ECS container credentials", "GET", url, headers, &resp, err);
    OPENSSL_cleanse(token, sizeof token);
    OPENSSL_cleanse(header, sizeof header);
    if (st != SW_OK)
        return st;
    st = sw_awscreds_parse_json(resp.body.data, resp.body.len, "ECS container credentials", ret,
                                err);
    wipe_response(&resp);
    if (st == SW_OK)
        ret->source = "ecs";
    return st;
}

/* ---- EC2 instance metadata, IMDSv2 ---- */

static const char *
imds_endpoint(const sw_awscreds_options *opt)
{
    const char *endpoint = sw_awscreds_env(opt, "AWS_EC2_METADATA_SERVICE_ENDPOINT");
    if (endpoint != NULL)
        return endpoint;
    const char *mode = sw_awscreds_env(opt, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
    return mode != NULL && strcasecmp(mode, "IPv6") == 0 ? IMDS_IPV6_ENDPOINT
                                                         : IMDS_DEFAULT_ENDPOINT;
}

/* GET base+path with the session token; the body, NUL-terminated, in resp. */
static sw_status
imds_get(const sw_awscreds_options *opt, const char *token, const char *path,
         sw_http_fetch_response *resp, sw_err *err)
{
    char url[URL_MAX], header[600];
    const char *base = imds_endpoint(opt);
    size_t base_len = strlen(base);
    while (base_len > 0 && base[base_len - 1] == '/')
        base_len--;
    snprintf(url, sizeof url, "%.*s%s", (int)base_len, base, path);
    snprintf(header, sizeof header, "X-aws-ec2-metadata-token: %s", token);
    const char *headers[] = {header, NULL};
    sw_status st = fetch_ok(opt, "EC2 instance metadata", "GET", url, headers, resp, err);
    OPENSSL_cleanse(header, sizeof header);
    if (st == SW_OK && sw_buf_cstr(&resp->body, err) == NULL) {
        wipe_response(resp);
        return SW_E_TOOBIG;
    }
    return st;
}

/* PUT /latest/api/token: the session token every IMDSv2 request carries. */
static sw_status
imds_token(const sw_awscreds_options *opt, char *out, size_t cap, sw_err *err)
{
    char url[URL_MAX];
    const char *base = imds_endpoint(opt);
    size_t base_len = strlen(base);
    while (base_len > 0 && base[base_len - 1] == '/')
        base_len--;
    snprintf(url, sizeof url, "%.*s/latest/api/token", (int)base_len, base);
    const char *headers[] = {"X-aws-ec2-metadata-token-ttl-seconds: " IMDS_TOKEN_TTL_S, NULL};
    sw_http_fetch_response resp;
    sw_status st = fetch_ok(opt, "EC2 instance metadata token", "PUT", url, headers, &resp, err);
    if (st != SW_OK)
        return st;
    const char *body = sw_buf_cstr(&resp.body, NULL);
    bool ok = body != NULL && body[0] != '\0' && strpbrk(body, "\r\n") == NULL &&
              sw_awscreds_copy(out, cap, body);
    wipe_response(&resp);
    if (!ok)
        return sw_err_set(err, SW_E_PARSE,
                          "EC2 instance metadata token: empty, too long or "
                          "with line breaks");
    return SW_OK;
}

/* The first role name listed under iam/security-credentials/. */
static sw_status
imds_role(const sw_awscreds_options *opt, const char *token, char *role, size_t cap, sw_err *err)
{
    sw_http_fetch_response resp;
    sw_status st = imds_get(opt, token, "/latest/meta-data/iam/security-credentials/", &resp, err);
    if (st != SW_OK)
        return st;
    const char *body = (const char *)resp.body.data;
    size_t n = body != NULL ? strcspn(body, "\r\n") : 0;
    bool ok = n > 0 && n < cap &&
              strspn(body, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                           "0123456789+=,.@_-") >= n;
    if (ok) {
        memcpy(role, body, n);
        role[n] = '\0';
    }
    wipe_response(&resp);
    if (!ok)
        return sw_err_set(err, SW_E_PARSE, "EC2 instance metadata: no valid instance role name");
    return SW_OK;
}

sw_status
sw_awscreds_from_imds(const sw_awscreds_options *opt, sw_awscreds *ret, bool *ret_found,
                      sw_err *err)
{
    *ret_found = !sw_awscreds_env_true(opt, "AWS_EC2_METADATA_DISABLED");
    if (!*ret_found)
        return SW_OK;
    char token[512], role[256], path[400];
    sw_status st = imds_token(opt, token, sizeof token, err);
    if (st == SW_OK)
        st = imds_role(opt, token, role, sizeof role, err);
    sw_http_fetch_response resp;
    if (st == SW_OK) {
        snprintf(path, sizeof path, "/latest/meta-data/iam/security-credentials/%s", role);
        st = imds_get(opt, token, path, &resp, err);
    }
    OPENSSL_cleanse(token, sizeof token);
    if (st != SW_OK)
        return st;
    st = sw_awscreds_parse_json(resp.body.data, resp.body.len, "EC2 instance metadata", ret, err);
    wipe_response(&resp);
    if (st == SW_OK)
        ret->source = "imds";
    return st;
}

sw_status
sw_awscreds_imds_region(const sw_awscreds_options *opt, char *out, size_t cap, bool *ret_found,
                        sw_err *err)
{
    *ret_found = !sw_awscreds_env_true(opt, "AWS_EC2_METADATA_DISABLED");
    if (!*ret_found)
        return SW_OK;
    char token[512];
    sw_http_fetch_response resp;
    sw_status st = imds_token(opt, token, sizeof token, err);
    if (st == SW_OK)
        st = imds_get(opt, token, "/latest/meta-data/placement/region", &resp, err);
    OPENSSL_cleanse(token, sizeof token);
    if (st != SW_OK)
        return st;
    const char *body = (const char *)resp.body.data;
    bool ok = body != NULL && sw_awscreds_copy(out, cap, body) && out[0] != '\0';
    sw_http_fetch_response_fini(&resp);
    if (!ok)
        return sw_err_set(err, SW_E_PARSE, "EC2 instance metadata: empty or too long region");
    return SW_OK;
}
