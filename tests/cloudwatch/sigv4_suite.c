/*
 * The AWS SigV4 test suite (shared/conformance/sigv4/v4, from awslabs/aws-c-auth) run against
 * collector/sigv4 in header mode: for every case, the canonical request, string to sign and
 * signature must equal the published files byte for byte, and the headers the signer adds
 * must be the ones in header-signed-request.txt. Usage: sigv4_suite DIR. Query (presigned URL)
 * mode is not implemented by slawatch, so its files are not read.
 */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "collector/sigv4_int.h"
#include "slawatch/json.h"

#define MAX_HEADERS 32

typedef struct suite_case {
    char method[16];
    char *path, *query; /* into request text */
    sw_sigv4_header headers[MAX_HEADERS];
    size_t n_headers;
    const char *body;
    size_t body_len;
    char *text; /* request.txt, cut in place */
} suite_case;

static char *
read_file(const char *dir, const char *name, size_t *ret_len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *data = malloc(1 << 16);
    size_t n = data != NULL ? fread(data, 1, (1 << 16) - 1, f) : 0;
    fclose(f);
    if (data != NULL)
        data[n] = '\0';
    if (ret_len != NULL)
        *ret_len = n;
    return data;
}

/* "METHOD TARGET HTTP/1.1": the target may hold spaces, so cut at the last one. */
static bool
parse_request_line(suite_case *c, char *line)
{
    char *sp = strchr(line, ' '), *last = strrchr(line, ' ');
    if (sp == NULL || last == sp || (size_t)(sp - line) >= sizeof c->method)
        return false;
    memcpy(c->method, line, (size_t)(sp - line));
    *last = '\0';
    c->path = sp + 1;
    char *q = strchr(c->path, '?');
    c->query = q != NULL ? q + 1 : NULL;
    if (q != NULL)
        *q = '\0';
    return true;
}

/* Header lines "Name:value"; an indented line continues the previous value (kept folded). */
static bool
parse_request(suite_case *c, char *text, size_t len)
{
    c->text = text;
    char *body = strstr(text, "\n\n");
    if (body != NULL) {
        *body = '\0';
        c->body = body + 2;
        c->body_len = len - (size_t)(c->body - text);
    } else {
        c->body = "";
    }
    char *save = NULL, *line = strtok_r(text, "\n", &save);
    if (line == NULL || !parse_request_line(c, line))
        return false;
    while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
        if (line[0] == ' ' || line[0] == '\t') {
            line[-1] = '\n'; /* rejoin the folded line with its predecessor */
            continue;
        }
        char *colon = strchr(line, ':');
        if (colon == NULL || c->n_headers == MAX_HEADERS)
            return false;
        *colon = '\0';
        c->headers[c->n_headers++] = (sw_sigv4_header){line, colon + 1};
    }
    return true;
}

static bool
json_bool(const cJSON *ctx, const char *key)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ctx, key));
}

static const char *
json_str(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int64_t
parse_timestamp(const char *iso)
{
    struct tm tm = {0};
    if (iso == NULL || sscanf(iso, "%4d-%2d-%2dT%2d:%2d:%2dZ", &tm.tm_year, &tm.tm_mon,
                              &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm);
}

static bool
load_context(const char *dir, sw_awscreds *creds, char *region, char *service,
             sw_sigv4_request *rq)
{
    size_t len;
    char *text = read_file(dir, "context.json", &len);
    cJSON *ctx = NULL;
    if (text == NULL || sw_json_parse((const uint8_t *)text, len, 1 << 20, 8, &ctx, NULL) != SW_OK) {
        free(text);
        return false;
    }
    const cJSON *cr = cJSON_GetObjectItemCaseSensitive(ctx, "credentials");
    const char *token = json_str(cr, "token");
    snprintf(creds->access_key_id, sizeof creds->access_key_id, "%s", json_str(cr, "access_key_id"));
    snprintf(creds->secret_access_key, sizeof creds->secret_access_key, "%s",
             json_str(cr, "secret_access_key"));
    snprintf(creds->session_token, sizeof creds->session_token, "%s", token ? token : "");
    snprintf(region, 64, "%s", json_str(ctx, "region"));
    snprintf(service, 64, "%s", json_str(ctx, "service"));
    rq->now_unix_s = parse_timestamp(json_str(ctx, "timestamp"));
    rq->flags = (json_bool(ctx, "normalize") ? 0 : SW_SIGV4_NO_NORMALIZE) |
                (json_bool(ctx, "sign_body") ? SW_SIGV4_CONTENT_SHA256 : 0) |
                (json_bool(ctx, "omit_session_token") ? SW_SIGV4_TOKEN_UNSIGNED : 0);
    cJSON_Delete(ctx);
    free(text);
    return true;
}

/* Does "Name:value" appear as a line of the signed request (name compared without case)? */
static bool
signed_request_has(const char *signed_req, const sw_sigv4_header *h)
{
    size_t name_len = strlen(h->name);
    for (const char *line = signed_req; line != NULL && *line != '\0';) {
        const char *end = strchr(line, '\n');
        size_t len = end != NULL ? (size_t)(end - line) : strlen(line);
        if (len == name_len + 1 + strlen(h->value) && strncasecmp(line, h->name, name_len) == 0 &&
            line[name_len] == ':' && strncmp(line + name_len + 1, h->value, len - name_len - 1) == 0)
            return true;
        line = end != NULL ? end + 1 : NULL;
    }
    return false;
}

static bool
expect_file(const char *dir, const char *name, const char *got)
{
    char *want = read_file(dir, name, NULL);
    bool ok = want != NULL && strcmp(want, got) == 0;
    if (!ok)
        fprintf(stderr, "%s: %s differs\n--- want\n%s\n--- got\n%s\n", dir, name,
                want ? want : "(missing)", got);
    free(want);
    return ok;
}

static bool
check_added(const char *dir, const sw_sigv4_result *r)
{
    char *signed_req = read_file(dir, "header-signed-request.txt", NULL);
    bool ok = signed_req != NULL;
    for (size_t i = 0; ok && i < r->n_added; i++) {
        ok = signed_request_has(signed_req, &r->added[i]);
        if (!ok)
            fprintf(stderr, "%s: added header %s is not in the signed request\n", dir,
                    r->added[i].name);
    }
    free(signed_req);
    return ok;
}

static bool
run_case(const char *dir)
{
    static sw_awscreds creds;
    char region[64], service[64];
    sw_sigv4_request rq = {0};
    suite_case c = {0};
    size_t len;
    char *text = read_file(dir, "request.txt", &len);
    bool ok = text != NULL && parse_request(&c, text, len) &&
              load_context(dir, &creds, region, service, &rq);
    if (!ok) {
        fprintf(stderr, "%s: cannot read the case\n", dir);
        free(text);
        return false;
    }
    rq.method = c.method;
    rq.path = c.path;
    rq.query = c.query;
    rq.headers = c.headers;
    rq.n_headers = c.n_headers;
    rq.payload = c.body;
    rq.payload_len = c.body_len;
    sw_sigv4_signer *s = NULL;
    sw_sigv4_result r;
    sw_sigv4_result_init(&r);
    sw_err err = {0};
    ok = sw_sigv4_signer_new(region, service, &s, &err) == SW_OK &&
         sw_sigv4_sign(s, &creds, &rq, &r, &err) == SW_OK;
    if (!ok)
        fprintf(stderr, "%s: signing failed: %s\n", dir, err.msg);
    ok = ok && expect_file(dir, "header-canonical-request.txt", sw_sigv4_result_canonical_request(&r));
    ok = ok && expect_file(dir, "header-string-to-sign.txt", sw_sigv4_result_string_to_sign(&r));
    const char *sig = ok ? strstr(r.added[r.n_added - 1].value, "Signature=") : NULL;
    ok = ok && sig != NULL && expect_file(dir, "header-signature.txt", sig + strlen("Signature="));
    ok = ok && check_added(dir, &r);
    sw_sigv4_result_fini(&r);
    sw_sigv4_signer_free(s);
    free(text);
    return ok;
}

int
main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: sigv4_suite DIR\n");
        return 2;
    }
    DIR *d = opendir(argv[1]);
    if (d == NULL) {
        perror(argv[1]);
        return 2;
    }
    int passed = 0, failed = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/%s", argv[1], e->d_name);
        if (run_case(dir))
            passed++;
        else
            failed++;
    }
    closedir(d);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}
