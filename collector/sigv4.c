/*
 * SigV4 signing with OpenSSL's SHA-256. The signer owns the fetched digest and the derived-key
 * cache (under a mutex, so any thread may sign); each result owns the buffers one signature is
 * built in. Key material on the stack is wiped before returning.
 */
#include "collector/sigv4_int.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define SHA256_LEN 32
#define HMAC_BLOCK 64
#define NAME_MAX_LEN 63
#define CANONICAL_MAX ((size_t)1 << 20)
#define ALGORITHM "AWS4-HMAC-SHA256"

struct sw_sigv4_signer {
    char region[NAME_MAX_LEN + 1];
    char service[NAME_MAX_LEN + 1];
    EVP_MD *sha256;
    pthread_mutex_t lock; /* guards the cache below */
    bool cached;
    char cached_date[9];
    char cached_secret[SW_AWSCREDS_SECRET_MAX];
    uint8_t cached_key[SHA256_LEN];
};

/* One header in canonical order: lowercase name, then the caller's order. */
typedef struct hdr_ref {
    const char *name;
    const char *value;
    size_t order;
} hdr_ref;

/* One canonical query pair: offsets into the scratch buffer. */
typedef struct query_pair {
    size_t key, key_len, value, value_len;
} query_pair;

static bool
valid_scope_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > NAME_MAX_LEN)
        return false;
    return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

sw_status
sw_sigv4_signer_new(const char *region, const char *service, sw_sigv4_signer **ret_signer,
                    sw_err *err)
{
    if (region == NULL || !valid_scope_name(region))
        return sw_err_set(err, SW_E_INVAL, "sigv4: region must be 1..63 of [A-Za-z0-9._-]");
    if (service == NULL || !valid_scope_name(service))
        return sw_err_set(err, SW_E_INVAL, "sigv4: service must be 1..63 of [A-Za-z0-9._-]");
    sw_sigv4_signer *s = calloc(1, sizeof *s);
    if (s == NULL)
        return sw_err_set(err, SW_E_NOMEM, "sigv4: cannot allocate a signer");
    s->sha256 = EVP_MD_fetch(NULL, "SHA2-256", NULL);
    if (s->sha256 == NULL) {
        free(s);
        return sw_err_set(err, SW_E_IO, "sigv4: OpenSSL provides no SHA-256");
    }
    pthread_mutex_init(&s->lock, NULL);
    snprintf(s->region, sizeof s->region, "%s", region);
    snprintf(s->service, sizeof s->service, "%s", service);
    *ret_signer = s;
    return SW_OK;
}

void
sw_sigv4_signer_free(sw_sigv4_signer *s)
{
    if (s == NULL)
        return;
    EVP_MD_free(s->sha256);
    pthread_mutex_destroy(&s->lock);
    OPENSSL_cleanse(s, sizeof *s);
    free(s);
}

void
sw_sigv4_result_init(sw_sigv4_result *r)
{
    memset(r, 0, sizeof *r);
    sw_buf_init(&r->canonical, CANONICAL_MAX);
    sw_buf_init(&r->scratch, CANONICAL_MAX);
    sw_buf_init(&r->authorization, CANONICAL_MAX);
    sw_buf_init(&r->token, SW_AWSCREDS_TOKEN_MAX);
}

static void
wipe_buf(sw_buf *b)
{
    if (b->data != NULL)
        OPENSSL_cleanse(b->data, b->cap);
    sw_buf_fini(b);
}

void
sw_sigv4_result_fini(sw_sigv4_result *r)
{
    wipe_buf(&r->canonical);
    wipe_buf(&r->scratch);
    wipe_buf(&r->authorization);
    wipe_buf(&r->token);
    r->n_added = 0;
}

const char *
sw_sigv4_result_canonical_request(const sw_sigv4_result *r)
{
    return r->canonical.data != NULL ? (const char *)r->canonical.data : "";
}

const char *
sw_sigv4_result_string_to_sign(const sw_sigv4_result *r)
{
    return r->string_to_sign;
}

/* ---- hashing ---- */

static bool
sha256(const sw_sigv4_signer *s, const void *data, size_t len, uint8_t out[SHA256_LEN])
{
    return EVP_Digest(data, len, out, NULL, s->sha256, NULL) == 1;
}

/* HMAC-SHA256 (RFC 2104) over keys of at most one block, which is all SigV4 uses. */
static bool
hmac_sha256(const sw_sigv4_signer *s, const uint8_t *key, size_t key_len, const void *msg,
            size_t msg_len, uint8_t out[SHA256_LEN])
{
    uint8_t pad[HMAC_BLOCK], inner[SHA256_LEN];
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx != NULL && key_len <= HMAC_BLOCK;
    for (size_t i = 0; ok && i < HMAC_BLOCK; i++)
        pad[i] = (uint8_t)((i < key_len ? key[i] : 0) ^ 0x36);
    ok = ok && EVP_DigestInit_ex(ctx, s->sha256, NULL) && EVP_DigestUpdate(ctx, pad, HMAC_BLOCK) &&
         EVP_DigestUpdate(ctx, msg, msg_len) && EVP_DigestFinal_ex(ctx, inner, NULL);
    for (size_t i = 0; ok && i < HMAC_BLOCK; i++)
        pad[i] ^= 0x36 ^ 0x5c;
    ok = ok && EVP_DigestInit_ex(ctx, s->sha256, NULL) && EVP_DigestUpdate(ctx, pad, HMAC_BLOCK) &&
         EVP_DigestUpdate(ctx, inner, SHA256_LEN) && EVP_DigestFinal_ex(ctx, out, NULL);
    EVP_MD_CTX_free(ctx);
    OPENSSL_cleanse(pad, sizeof pad);
    OPENSSL_cleanse(inner, sizeof inner);
    return ok;
}

static void
hex_encode(const uint8_t *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

/* kSigning = HMAC chain over "AWS4"+secret, date, region, service, "aws4_request". */
static bool
derive_key(const sw_sigv4_signer *s, const char *secret, const char *date,
           uint8_t out[SHA256_LEN])
{
    uint8_t seed[4 + SW_AWSCREDS_SECRET_MAX], k[SHA256_LEN];
    size_t secret_len = strlen(secret);
    memcpy(seed, "AWS4", 4);
    memcpy(seed + 4, secret, secret_len);
    bool ok = hmac_sha256(s, seed, 4 + secret_len, date, strlen(date), k) &&
              hmac_sha256(s, k, SHA256_LEN, s->region, strlen(s->region), k) &&
              hmac_sha256(s, k, SHA256_LEN, s->service, strlen(s->service), k) &&
              hmac_sha256(s, k, SHA256_LEN, "aws4_request", 12, out);
    OPENSSL_cleanse(seed, sizeof seed);
    OPENSSL_cleanse(k, sizeof k);
    return ok;
}

/* The signing key for date and secret, from the cache when both match. */
static bool
signing_key(sw_sigv4_signer *s, const char *secret, const char *date, uint8_t out[SHA256_LEN])
{
    size_t secret_len = strlen(secret) + 1;
    pthread_mutex_lock(&s->lock);
    bool hit = s->cached && strcmp(s->cached_date, date) == 0 &&
               CRYPTO_memcmp(s->cached_secret, secret, secret_len) == 0;
    if (hit)
        memcpy(out, s->cached_key, SHA256_LEN);
    pthread_mutex_unlock(&s->lock);
    if (hit)
        return true;
    if (!derive_key(s, secret, date, out))
        return false;
    pthread_mutex_lock(&s->lock);
    memcpy(s->cached_key, out, SHA256_LEN);
    memcpy(s->cached_secret, secret, secret_len);
    memcpy(s->cached_date, date, sizeof s->cached_date);
    s->cached = true;
    pthread_mutex_unlock(&s->lock);
    return true;
}

/* ---- canonical request ---- */

static bool
unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_' || c == '~';
}

/* Percent-encode everything but the unreserved set (and '/' when keep_slash), uppercase hex. */
static sw_status
uri_encode(sw_buf *b, const char *s, size_t n, bool keep_slash, sw_err *err)
{
    static const char digits[] = "0123456789ABCDEF";
    sw_status st = sw_buf_reserve(b, 3 * n, err);
    if (st != SW_OK)
        return st;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (unreserved(c) || (keep_slash && c == '/')) {
            b->data[b->len++] = c;
        } else {
            b->data[b->len++] = '%';
            b->data[b->len++] = (uint8_t)digits[c >> 4];
            b->data[b->len++] = (uint8_t)digits[c & 15];
        }
    }
    return SW_OK;
}

/*
 * RFC 3986 dot-segment removal that also drops empty segments ("//"), as the SDKs do for
 * non-S3 services; a trailing slash survives. Writes the normalized path to out.
 */
static sw_status
normalize_path(sw_buf *out, const char *path, sw_err *err)
{
    size_t start = out->len, n = strlen(path);
    sw_status st = sw_buf_reserve(out, n + 2, err);
    if (st != SW_OK)
        return st;
    for (const char *p = path; *p != '\0';) {
        size_t seg = strcspn(p, "/");
        if (seg == 2 && p[0] == '.' && p[1] == '.') {
            while (out->len > start && out->data[--out->len] != '/')
                ;
        } else if (seg > 0 && !(seg == 1 && p[0] == '.')) {
            out->data[out->len++] = '/';
            memcpy(out->data + out->len, p, seg);
            out->len += seg;
        }
        p += seg + (p[seg] == '/');
    }
    if (out->len == start || (n > 0 && path[n - 1] == '/'))
        out->data[out->len++] = '/';
    return SW_OK;
}

static sw_status
put_path(sw_sigv4_result *r, const char *path, unsigned flags, sw_err *err)
{
    if (path == NULL || path[0] == '\0')
        path = "/";
    if (flags & SW_SIGV4_NO_NORMALIZE)
        return uri_encode(&r->canonical, path, strlen(path), true, err);
    sw_buf_reset(&r->scratch);
    sw_status st = normalize_path(&r->scratch, path, err);
    if (st == SW_OK)
        st = uri_encode(&r->canonical, (const char *)r->scratch.data, r->scratch.len, true, err);
    return st;
}

static int
hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decode %XX (a malformed escape stays literal) then encode canonically, into scratch. */
static sw_status
recode(sw_buf *scratch, const char *s, size_t n, size_t *ret_off, size_t *ret_len, sw_err *err)
{
    char decoded[256];
    size_t off = scratch->len;
    for (size_t i = 0; i < n;) {
        size_t d = 0;
        for (; i < n && d < sizeof decoded; d++) {
            if (s[i] == '%' && i + 2 < n && hex_value(s[i + 1]) >= 0 &&
                hex_value(s[i + 2]) >= 0) {
                decoded[d] = (char)(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
                i += 3;
            } else {
                decoded[d] = s[i++];
            }
        }
        sw_status st = uri_encode(scratch, decoded, d, false, err);
        if (st != SW_OK)
            return st;
    }
    *ret_off = off;
    *ret_len = scratch->len - off;
    return SW_OK;
}

static int
compare_bytes(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    return c != 0 ? c : (an > bn) - (an < bn);
}

/* Insertion sort by encoded key, then value: query strings hold few pairs. */
static void
sort_pairs(query_pair *pairs, size_t n, const uint8_t *base)
{
    for (size_t i = 1; i < n; i++) {
        query_pair x = pairs[i];
        size_t j = i;
        while (j > 0) {
            const query_pair *y = &pairs[j - 1];
            int c = compare_bytes(base + y->key, y->key_len, base + x.key, x.key_len);
            if (c == 0)
                c = compare_bytes(base + y->value, y->value_len, base + x.value, x.value_len);
            if (c <= 0)
                break;
            pairs[j] = pairs[j - 1];
            j--;
        }
        pairs[j] = x;
    }
}

static size_t
count_pairs(const char *q)
{
    size_t n = 1;
    for (; *q != '\0'; q++)
        n += *q == '&';
    return n;
}

/* Split at '&' and '=', recode each name and value, keep the non-empty pairs. */
static sw_status
collect_pairs(sw_buf *scratch, const char *q, query_pair *pairs, size_t *ret_n, sw_err *err)
{
    size_t n = 0;
    for (const char *p = q; *p != '\0';) {
        size_t len = strcspn(p, "&");
        if (len > 0) {
            const char *eq = memchr(p, '=', len);
            size_t key_len = eq != NULL ? (size_t)(eq - p) : len;
            query_pair *qp = &pairs[n++];
            sw_status st = recode(scratch, p, key_len, &qp->key, &qp->key_len, err);
            if (st == SW_OK)
                st = recode(scratch, p + key_len + (eq != NULL), len - key_len - (eq != NULL),
                            &qp->value, &qp->value_len, err);
            if (st != SW_OK)
                return st;
        }
        p += len + (p[len] == '&');
    }
    *ret_n = n;
    return SW_OK;
}

static sw_status
put_query(sw_sigv4_result *r, const char *query, sw_err *err)
{
    if (query == NULL || query[0] == '\0')
        return SW_OK;
    size_t cap = count_pairs(query), n = 0;
    query_pair *pairs = malloc(cap * sizeof *pairs);
    if (pairs == NULL)
        return sw_err_set(err, SW_E_NOMEM, "sigv4: cannot allocate %zu query pairs", cap);
    sw_buf_reset(&r->scratch);
    sw_status st = collect_pairs(&r->scratch, query, pairs, &n, err);
    sort_pairs(pairs, st == SW_OK ? n : 0, r->scratch.data);
    for (size_t i = 0; st == SW_OK && i < n; i++) {
        const uint8_t *base = r->scratch.data;
        if (i > 0)
            st = sw_buf_append(&r->canonical, "&", 1, err);
        if (st == SW_OK)
            st = sw_buf_append(&r->canonical, base + pairs[i].key, pairs[i].key_len, err);
        if (st == SW_OK)
            st = sw_buf_append(&r->canonical, "=", 1, err);
        if (st == SW_OK)
            st = sw_buf_append(&r->canonical, base + pairs[i].value, pairs[i].value_len, err);
    }
    free(pairs);
    return st;
}

#define BLANKS " \t\r\n"

static bool
is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool
valid_header(const sw_sigv4_header *h)
{
    if (h->name == NULL || h->value == NULL || h->name[0] == '\0')
        return false;
    for (const unsigned char *p = (const unsigned char *)h->name; *p != '\0'; p++)
        if (*p <= 0x20 || *p >= 0x7f || *p == ':')
            return false;
    for (const unsigned char *p = (const unsigned char *)h->value; *p != '\0'; p++)
        if ((*p < 0x20 && !is_blank((char)*p)) || *p == 0x7f)
            return false;
    return true;
}

static bool
signer_owned(const char *name)
{
    static const char *const owned[] = {"authorization", "x-amz-date", "x-amz-security-token",
                                        "x-amz-content-sha256"};
    for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++)
        if (strcasecmp(name, owned[i]) == 0)
            return true;
    return false;
}

/* The caller's headers plus the signer's, checked, into refs; *ret_n of them. */
static sw_status
gather_headers(const sw_sigv4_request *rq, const sw_sigv4_result *r, const char *token,
               hdr_ref *refs, size_t *ret_n, sw_err *err)
{
    bool has_host = false;
    size_t n = 0;
    for (size_t i = 0; i < rq->n_headers; i++) {
        const sw_sigv4_header *h = &rq->headers[i];
        if (!valid_header(h))
            return sw_err_set(err, SW_E_INVAL, "sigv4: header %zu has a bad name or value", i);
        if (signer_owned(h->name))
            return sw_err_set(err, SW_E_INVAL, "sigv4: header %s is set by the signer", h->name);
        has_host = has_host || strcasecmp(h->name, "host") == 0;
        refs[n] = (hdr_ref){h->name, h->value, n};
        n++;
    }
    if (!has_host)
        return sw_err_set(err, SW_E_INVAL, "sigv4: the request has no Host header");
    refs[n] = (hdr_ref){"x-amz-date", r->amz_date, n};
    n++;
    if (token != NULL) {
        refs[n] = (hdr_ref){"x-amz-security-token", token, n};
        n++;
    }
    if (rq->flags & SW_SIGV4_CONTENT_SHA256) {
        refs[n] = (hdr_ref){"x-amz-content-sha256", r->payload_hash, n};
        n++;
    }
    *ret_n = n;
    return SW_OK;
}

static int
compare_refs(const hdr_ref *a, const hdr_ref *b)
{
    int c = strcasecmp(a->name, b->name);
    return c != 0 ? c : (a->order > b->order) - (a->order < b->order);
}

static void
sort_refs(hdr_ref *refs, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        hdr_ref x = refs[i];
        size_t j = i;
        for (; j > 0 && compare_refs(&refs[j - 1], &x) > 0; j--)
            refs[j] = refs[j - 1];
        refs[j] = x;
    }
}

static sw_status
put_lower(sw_buf *b, const char *s, sw_err *err)
{
    size_t n = strlen(s);
    sw_status st = sw_buf_reserve(b, n, err);
    for (size_t i = 0; st == SW_OK && i < n; i++)
        b->data[b->len++] = (uint8_t)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' : s[i]);
    return st;
}

/* The value trimmed, each run of blanks (folded lines too) as one space; copies whole runs of
 * non-blanks at a time, since session tokens make this the longest value signed. */
static sw_status
put_value(sw_buf *b, const char *v, sw_err *err)
{
    sw_status st = sw_buf_reserve(b, strlen(v), err);
    v += strspn(v, BLANKS);
    while (st == SW_OK && *v != '\0') {
        size_t word = strcspn(v, BLANKS);
        memcpy(b->data + b->len, v, word);
        b->len += word;
        v += word;
        v += strspn(v, BLANKS);
        if (*v != '\0')
            b->data[b->len++] = ' ';
    }
    return st;
}

/* "name:v1,v2\n" per distinct name, a blank line, then "name;name" (the signed list). */
static sw_status
put_headers(sw_buf *b, const hdr_ref *refs, size_t n, sw_err *err)
{
    sw_status st = SW_OK;
    for (size_t i = 0; st == SW_OK && i < n; i++) {
        bool same = i > 0 && strcasecmp(refs[i - 1].name, refs[i].name) == 0;
        if (i > 0)
            st = sw_buf_append(b, same ? "," : "\n", 1, err);
        if (st == SW_OK && !same)
            st = put_lower(b, refs[i].name, err);
        if (st == SW_OK && !same)
            st = sw_buf_append(b, ":", 1, err);
        if (st == SW_OK)
            st = put_value(b, refs[i].value, err);
    }
    if (st == SW_OK)
        st = sw_buf_append(b, "\n\n", 2, err);
    for (size_t i = 0; st == SW_OK && i < n; i++) {
        if (i > 0 && strcasecmp(refs[i - 1].name, refs[i].name) == 0)
            continue;
        if (i > 0)
            st = sw_buf_append(b, ";", 1, err);
        if (st == SW_OK)
            st = put_lower(b, refs[i].name, err);
    }
    return st;
}

static bool
format_amz_date(int64_t now_unix_s, char out[SW_SIGV4_AMZ_DATE_LEN + 1])
{
    if (now_unix_s < 0 || now_unix_s > INT64_C(253402300799)) /* 9999-12-31T23:59:59Z */
        return false;
    time_t t = (time_t)now_unix_s;
    struct tm tm;
    return gmtime_r(&t, &tm) != NULL &&
           strftime(out, SW_SIGV4_AMZ_DATE_LEN + 1, "%Y%m%dT%H%M%SZ", &tm) ==
               SW_SIGV4_AMZ_DATE_LEN;
}

static bool
all_of(const char *s, size_t max, const char *set)
{
    size_t n = strlen(s);
    return n > 0 && n <= max && strspn(s, set) == n;
}

/* Control characters would split or fold the header the value is sent in. */
static bool
has_control(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

#define ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

static sw_status
check_inputs(const sw_awscreds *creds, const sw_sigv4_request *rq, sw_err *err)
{
    if (!all_of(creds->access_key_id, SW_AWSCREDS_KEY_ID_MAX - 1, ALNUM))
        return sw_err_set(err, SW_E_INVAL, "sigv4: the access key id is empty or not alphanumeric");
    if (creds->secret_access_key[0] == '\0' ||
        memchr(creds->secret_access_key, '\0', SW_AWSCREDS_SECRET_MAX) == NULL)
        return sw_err_set(err, SW_E_INVAL, "sigv4: the secret access key is empty or too long");
    if (memchr(creds->session_token, '\0', SW_AWSCREDS_TOKEN_MAX) == NULL ||
        has_control(creds->session_token))
        return sw_err_set(err, SW_E_INVAL, "sigv4: the session token has control characters");
    if (rq->method == NULL || !all_of(rq->method, 32, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
        return sw_err_set(err, SW_E_INVAL, "sigv4: the method must be uppercase letters");
    if (rq->payload_sha256_hex != NULL && !all_of(rq->payload_sha256_hex, 64, "0123456789abcdef"))
        return sw_err_set(err, SW_E_INVAL, "sigv4: payload_sha256_hex is not 64 lowercase hex");
    if (rq->payload_sha256_hex != NULL && strlen(rq->payload_sha256_hex) != 64)
        return sw_err_set(err, SW_E_INVAL, "sigv4: payload_sha256_hex is not 64 lowercase hex");
    if (rq->n_headers > 0 && rq->headers == NULL)
        return sw_err_set(err, SW_E_INVAL, "sigv4: n_headers without headers");
    return SW_OK;
}

static sw_status
payload_hash(const sw_sigv4_signer *s, const sw_sigv4_request *rq, sw_sigv4_result *r,
             sw_err *err)
{
    if (rq->payload_sha256_hex != NULL) {
        memcpy(r->payload_hash, rq->payload_sha256_hex, 65);
        return SW_OK;
    }
    uint8_t digest[SHA256_LEN];
    if (!sha256(s, rq->payload_len > 0 ? rq->payload : "", rq->payload_len, digest))
        return sw_err_set(err, SW_E_IO, "sigv4: SHA-256 of the payload failed");
    hex_encode(digest, SHA256_LEN, r->payload_hash);
    return SW_OK;
}

/* The canonical request into r->canonical; *ret_signed spans its signed-headers line. */
static sw_status
build_canonical(const sw_sigv4_request *rq, sw_sigv4_result *r, const char *token,
                size_t *ret_signed_off, size_t *ret_signed_len, sw_err *err)
{
    sw_buf *c = &r->canonical;
    sw_buf_reset(c);
    sw_status st = sw_buf_printf(c, err, "%s\n", rq->method);
    if (st == SW_OK)
        st = put_path(r, rq->path, rq->flags, err);
    if (st == SW_OK)
        st = sw_buf_append(c, "\n", 1, err);
    if (st == SW_OK)
        st = put_query(r, rq->query, err);
    if (st == SW_OK)
        st = sw_buf_append(c, "\n", 1, err);
    size_t n = 0;
    sw_buf_reset(&r->scratch);
    if (st == SW_OK)
        st = sw_buf_reserve(&r->scratch, (rq->n_headers + 3) * sizeof(hdr_ref), err);
    hdr_ref *refs = (hdr_ref *)(void *)r->scratch.data;
    if (st == SW_OK)
        st = gather_headers(rq, r, token, refs, &n, err);
    if (st != SW_OK)
        return st;
    sort_refs(refs, n);
    size_t before = c->len;
    st = put_headers(c, refs, n, err);
    if (st == SW_OK)
        st = sw_buf_printf(c, err, "\n%s", r->payload_hash);
    if (st != SW_OK)
        return st;
    sw_buf_cstr(c, NULL); /* cannot fail: every append leaves room for the NUL */
    const char *blank = strstr((const char *)c->data + before, "\n\n");
    *ret_signed_off = (size_t)(blank - (const char *)c->data) + 2;
    *ret_signed_len = c->len - 65 - *ret_signed_off;
    return SW_OK;
}

/* String to sign, then the signature as 64 hex digits into sig_hex. */
static sw_status
sign_canonical(sw_sigv4_signer *s, const sw_awscreds *creds, sw_sigv4_result *r,
               char sig_hex[2 * SHA256_LEN + 1], sw_err *err)
{
    uint8_t digest[SHA256_LEN], key[SHA256_LEN];
    char hash_hex[2 * SHA256_LEN + 1], date[9];
    if (!sha256(s, r->canonical.data, r->canonical.len, digest))
        return sw_err_set(err, SW_E_IO, "sigv4: SHA-256 of the canonical request failed");
    hex_encode(digest, SHA256_LEN, hash_hex);
    memcpy(date, r->amz_date, 8);
    date[8] = '\0';
    snprintf(r->string_to_sign, sizeof r->string_to_sign, ALGORITHM "\n%s\n%s/%s/%s/aws4_request\n%s",
             r->amz_date, date, s->region, s->service, hash_hex);
    bool ok = signing_key(s, creds->secret_access_key, date, key) &&
              hmac_sha256(s, key, SHA256_LEN, r->string_to_sign, strlen(r->string_to_sign),
                          digest);
    OPENSSL_cleanse(key, sizeof key);
    if (!ok)
        return sw_err_set(err, SW_E_IO, "sigv4: HMAC-SHA256 failed");
    hex_encode(digest, SHA256_LEN, sig_hex);
    return SW_OK;
}

static void
add_header(sw_sigv4_result *r, const char *name, const char *value)
{
    r->added[r->n_added++] = (sw_sigv4_header){name, value};
}

static sw_status
finish_headers(const sw_sigv4_signer *s, const sw_awscreds *creds, const sw_sigv4_request *rq,
               sw_sigv4_result *r, size_t signed_off, size_t signed_len, const char *sig_hex,
               sw_err *err)
{
    sw_buf_reset(&r->authorization);
    sw_status st = sw_buf_printf(
        &r->authorization, err,
        ALGORITHM " Credential=%s/%.8s/%s/%s/aws4_request, SignedHeaders=%.*s, Signature=%s",
        creds->access_key_id, r->amz_date, s->region, s->service, (int)signed_len,
        (const char *)r->canonical.data + signed_off, sig_hex);
    sw_buf_reset(&r->token);
    if (st == SW_OK)
        st = sw_buf_append(&r->token, creds->session_token, strlen(creds->session_token) + 1, err);
    if (st != SW_OK)
        return st;
    add_header(r, "X-Amz-Date", r->amz_date);
    if (creds->session_token[0] != '\0')
        add_header(r, "X-Amz-Security-Token", (const char *)r->token.data);
    if (rq->flags & SW_SIGV4_CONTENT_SHA256)
        add_header(r, "x-amz-content-sha256", r->payload_hash);
    add_header(r, "Authorization", sw_buf_cstr(&r->authorization, NULL));
    return SW_OK;
}

sw_status
sw_sigv4_sign(sw_sigv4_signer *s, const sw_awscreds *creds, const sw_sigv4_request *rq,
              sw_sigv4_result *r, sw_err *err)
{
    SW_REQUIRE(s != NULL && creds != NULL && rq != NULL && r != NULL);
    r->n_added = 0;
    sw_status st = check_inputs(creds, rq, err);
    if (st != SW_OK)
        return st;
    if (!format_amz_date(rq->now_unix_s, r->amz_date))
        return sw_err_set(err, SW_E_INVAL, "sigv4: signing time %lld is outside 1970..9999",
                          (long long)rq->now_unix_s);
    st = payload_hash(s, rq, r, err);
    bool sign_token = creds->session_token[0] != '\0' && !(rq->flags & SW_SIGV4_TOKEN_UNSIGNED);
    size_t signed_off = 0, signed_len = 0;
    if (st == SW_OK)
        st = build_canonical(rq, r, sign_token ? creds->session_token : NULL, &signed_off,
                             &signed_len, err);
    char sig_hex[2 * SHA256_LEN + 1];
    if (st == SW_OK)
        st = sign_canonical(s, creds, r, sig_hex, err);
    if (st == SW_OK)
        st = finish_headers(s, creds, rq, r, signed_off, signed_len, sig_hex, err);
    if (st != SW_OK)
        r->n_added = 0;
    return st;
}
