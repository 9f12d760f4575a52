/*
 * STS AssumeRole for assume-role profiles: a Query-protocol POST (form body, Version
 * 2011-06-15) signed with SigV4 for service "sts" with the source profile's keys, and the
 * XML answer read by a small strict reader that knows only what STS sends: a prolog,
 * elements, attributes, text with the five predefined and numeric character references,
 * comments and CDATA. A DOCTYPE is refused, so no entity can expand; depth and size are capped.
 */
#include "collector/awscreds_int.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slawatch/buf.h"
#include "slawatch/http_client.h"
#include "slawatch/sigv4.h"

#define XML_MAX_DEPTH 16
#define NAME_MAX_LEN 64
#define STS_TIMEOUT_MS 10000
#define FORM_MAX 4096
#define URL_MAX 1024
#define HEADER_LINE_MAX (SW_AWSCREDS_TOKEN_MAX + 64)
#define STS_VERSION "2011-06-15"
#define FORM_TYPE "application/x-www-form-urlencoded; charset=utf-8"

/* ------------------------------------------------------------------ the XML reader */

/* The fields read from an answer; every text is bounded by its array. */
enum { F_KEY_ID, F_SECRET, F_TOKEN, F_EXPIRATION, F_CODE, F_MESSAGE, F_COUNT };

static const char *const field_paths[F_COUNT] = {
    "AssumeRoleResponse/AssumeRoleResult/Credentials/AccessKeyId",
    "AssumeRoleResponse/AssumeRoleResult/Credentials/SecretAccessKey",
    "AssumeRoleResponse/AssumeRoleResult/Credentials/SessionToken",
    "AssumeRoleResponse/AssumeRoleResult/Credentials/Expiration",
    "ErrorResponse/Error/Code",
    "ErrorResponse/Error/Message",
};

typedef struct sts_fields {
    char key_id[SW_AWSCREDS_KEY_ID_MAX];
    char secret[SW_AWSCREDS_SECRET_MAX];
    char token[SW_AWSCREDS_TOKEN_MAX];
    char expiration[64];
    char code[128];
    char message[512];
    bool seen[F_COUNT];
} sts_fields;

typedef struct xml_reader {
    const char *p, *end;
    char path[XML_MAX_DEPTH * (NAME_MAX_LEN + 1) + 1]; /* "A/B/C" of the open elements */
    size_t depth;
    size_t path_len[XML_MAX_DEPTH + 1];
    int field;       /* the field the innermost open element is, or -1 */
    size_t text_len; /* of that field so far */
    bool text_overflow;
    bool root_closed;
    sts_fields *out;
} xml_reader;

static char *
field_buf(sts_fields *f, int field, size_t *ret_cap)
{
    char *bufs[F_COUNT] = {f->key_id, f->secret, f->token, f->expiration, f->code, f->message};
    size_t caps[F_COUNT] = {sizeof f->key_id,     sizeof f->secret, sizeof f->token,
                            sizeof f->expiration, sizeof f->code,   sizeof f->message};
    *ret_cap = caps[field];
    return bufs[field];
}

static sw_status
xml_error(const xml_reader *x, const char *start, const char *what, sw_err *err)
{
    return sw_err_set(err, SW_E_PARSE, "malformed XML at byte %zu: %s", (size_t)(x->p - start),
                      what);
}

static bool
name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.' || c == ':';
}

/* Append text bytes to the open field (message texts are cut, the others must fit). */
static void
add_text(xml_reader *x, const char *s, size_t n)
{
    if (x->field < 0)
        return;
    size_t cap;
    char *b = field_buf(x->out, x->field, &cap);
    if (x->text_len + n >= cap) {
        x->text_overflow |= x->field != F_MESSAGE;
        n = cap - 1 - x->text_len;
    }
    memcpy(b + x->text_len, s, n);
    x->text_len += n;
    b[x->text_len] = '\0';
}

/* A UTF-8 encoding of code point cp into out (at most 4 bytes); 0 when cp is not a char. */
static size_t
utf8(unsigned long cp, char *out)
{
    if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
        return 0;
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* "&...;" at x->p: the five predefined entities and &#N; / &#xH;. */
static sw_status
read_reference(xml_reader *x, const char *start, sw_err *err)
{
    static const struct {
        const char *name, *text;
    } named[] = {{"amp;", "&"}, {"lt;", "<"}, {"gt;", ">"}, {"quot;", "\""}, {"apos;", "'"}};
    x->p++;
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
        size_t n = strlen(named[i].name);
        if ((size_t)(x->end - x->p) >= n && memcmp(x->p, named[i].name, n) == 0) {
            add_text(x, named[i].text, 1);
            x->p += n;
            return SW_OK;
        }
    }
    if (x->p >= x->end || *x->p != '#')
        return xml_error(x, start, "unknown entity reference", err);
    x->p++;
    bool hex = x->p < x->end && *x->p == 'x';
    x->p += hex;
    unsigned long cp = 0;
    size_t digits = 0;
    for (; x->p < x->end && *x->p != ';' && digits < 8; x->p++, digits++) {
        char c = *x->p;
        int v = c >= '0' && c <= '9'          ? c - '0'
                : hex && c >= 'a' && c <= 'f' ? c - 'a' + 10
                : hex && c >= 'A' && c <= 'F' ? c - 'A' + 10
                                              : -1;
        if (v < 0)
            return xml_error(x, start, "bad character reference", err);
        cp = cp * (hex ? 16 : 10) + (unsigned long)v;
    }
    char enc[4];
    size_t n = utf8(cp, enc);
    if (digits == 0 || x->p >= x->end || *x->p != ';' || n == 0)
        return xml_error(x, start, "bad character reference", err);
    x->p++;
    add_text(x, enc, n);
    return SW_OK;
}

/* Skip past the terminator; false when the document ends first. */
static bool
skip_past(xml_reader *x, const char *terminator)
{
    size_t n = strlen(terminator);
    for (; x->p + n <= x->end; x->p++)
        if (memcmp(x->p, terminator, n) == 0) {
            x->p += n;
            return true;
        }
    return false;
}

static sw_status
read_name(xml_reader *x, const char *start, char *out, sw_err *err)
{
    size_t n = 0;
    while (x->p < x->end && name_char(*x->p)) {
        if (n + 1 >= NAME_MAX_LEN)
            return xml_error(x, start, "name too long", err);
        out[n++] = *x->p++;
    }
    out[n] = '\0';
    if (n == 0)
        return xml_error(x, start, "expected a name", err);
    return SW_OK;
}

static void
skip_blanks(xml_reader *x)
{
    while (x->p < x->end && (*x->p == ' ' || *x->p == '\t' || *x->p == '\r' || *x->p == '\n'))
        x->p++;
}

/* Attributes are read and dropped (STS puts only xmlns there). */
static sw_status
read_attributes(xml_reader *x, const char *start, sw_err *err)
{
    char name[NAME_MAX_LEN];
    for (;;) {
        skip_blanks(x);
        if (x->p >= x->end)
            return xml_error(x, start, "unterminated start tag", err);
        if (*x->p == '>' || *x->p == '/')
            return SW_OK;
        sw_status st = read_name(x, start, name, err);
        if (st != SW_OK)
            return st;
        skip_blanks(x);
        if (x->p + 1 >= x->end || *x->p != '=')
            return xml_error(x, start, "attribute without a value", err);
        x->p++;
        skip_blanks(x);
        char quote = x->p < x->end ? *x->p : '\0';
        if (quote != '"' && quote != '\'')
            return xml_error(x, start, "unquoted attribute value", err);
        const char *close = memchr(x->p + 1, quote, (size_t)(x->end - x->p - 1));
        if (close == NULL || memchr(x->p + 1, '<', (size_t)(close - x->p - 1)) != NULL)
            return xml_error(x, start, "bad attribute value", err);
        x->p = close + 1;
    }
}

/* The local part of a qualified name (STS answers carry no prefixes, but allow them). */
static const char *
local_name(const char *name)
{
    const char *colon = strrchr(name, ':');
    return colon != NULL ? colon + 1 : name;
}

static int
field_of(const char *path)
{
    for (int i = 0; i < F_COUNT; i++)
        if (strcmp(path, field_paths[i]) == 0)
            return i;
    return -1;
}

static sw_status
open_element(xml_reader *x, const char *start, sw_err *err)
{
    char name[NAME_MAX_LEN];
    sw_status st = read_name(x, start, name, err);
    if (st == SW_OK)
        st = read_attributes(x, start, err);
    if (st != SW_OK)
        return st;
    if (x->root_closed || x->depth >= XML_MAX_DEPTH)
        return xml_error(x, start, x->root_closed ? "a second root element" : "nested too deep",
                         err);
    size_t len = x->path_len[x->depth];
    len += (size_t)snprintf(x->path + len, sizeof x->path - len, "%s%s", x->depth ? "/" : "",
                            local_name(name));
    x->path_len[++x->depth] = len;
    x->field = field_of(x->path);
    x->text_len = 0;
    if (x->field >= 0) {
        size_t cap;
        field_buf(x->out, x->field, &cap)[0] = '\0';
        x->out->seen[x->field] = true;
    }
    bool empty = *x->p == '/';
    if (empty && (x->p + 1 >= x->end || x->p[1] != '>'))
        return xml_error(x, start, "bad empty-element tag", err);
    x->p += empty ? 2 : 1;
    if (empty) {
        x->path[x->path_len[--x->depth]] = '\0';
        x->field = -1;
        x->root_closed = x->depth == 0;
    }
    return SW_OK;
}

static sw_status
close_element(xml_reader *x, const char *start, sw_err *err)
{
    char name[NAME_MAX_LEN];
    sw_status st = read_name(x, start, name, err);
    if (st != SW_OK)
        return st;
    skip_blanks(x);
    if (x->p >= x->end || *x->p != '>')
        return xml_error(x, start, "unterminated end tag", err);
    x->p++;
    const char *open = x->path + x->path_len[x->depth - (x->depth > 0)] + (x->depth > 1);
    if (x->depth == 0 || strcmp(open, local_name(name)) != 0)
        return xml_error(x, start, "end tag does not match", err);
    x->path[x->path_len[--x->depth]] = '\0';
    x->field = -1;
    x->root_closed = x->depth == 0;
    return SW_OK;
}

/* "<" at x->p: a tag, a comment, CDATA or a processing instruction. */
static sw_status
read_markup(xml_reader *x, const char *start, sw_err *err)
{
    size_t left = (size_t)(x->end - x->p);
    if (left >= 4 && memcmp(x->p, "<!--", 4) == 0)
        return skip_past(x, "-->") ? SW_OK : xml_error(x, start, "unterminated comment", err);
    if (left >= 9 && memcmp(x->p, "<![CDATA[", 9) == 0) {
        const char *text = x->p + 9;
        x->p = text;
        if (x->depth == 0 || !skip_past(x, "]]>"))
            return xml_error(x, start, "bad CDATA section", err);
        add_text(x, text, (size_t)(x->p - 3 - text));
        return SW_OK;
    }
    if (left >= 2 && x->p[1] == '!')
        return xml_error(x, start, "DOCTYPE and declarations are not accepted", err);
    if (left >= 2 && x->p[1] == '?')
        return skip_past(x, "?>") ? SW_OK : xml_error(x, start, "unterminated <?", err);
    x->p++;
    if (x->p < x->end && *x->p == '/') {
        x->p++;
        return close_element(x, start, err);
    }
    return open_element(x, start, err);
}

static sw_status
read_document(xml_reader *x, const char *start, sw_err *err)
{
    while (x->p < x->end) {
        sw_status st = SW_OK;
        if (*x->p == '<') {
            st = read_markup(x, start, err);
        } else if (*x->p == '&') {
            st = x->depth > 0 ? read_reference(x, start, err)
                              : xml_error(x, start, "text outside the root element", err);
        } else if (*x->p == '\0') {
            st = xml_error(x, start, "NUL byte", err);
        } else {
            bool blank = *x->p == ' ' || *x->p == '\t' || *x->p == '\r' || *x->p == '\n';
            if (x->depth == 0 && !blank)
                st = xml_error(x, start, "text outside the root element", err);
            add_text(x, x->p++, 1);
        }
        if (st != SW_OK)
            return st;
    }
    if (!x->root_closed)
        return xml_error(x, start, "the document ends inside an element", err);
    if (x->text_overflow)
        return sw_err_set(err, SW_E_PARSE, "a credential field is too long");
    return SW_OK;
}

/* ------------------------------------------------------------------ answers */

static sw_status
take_credentials(const sts_fields *f, const char *where, sw_awscreds *ret, sw_err *err)
{
    for (int i = F_KEY_ID; i <= F_EXPIRATION; i++)
        if (!f->seen[i] || field_buf((sts_fields *)f, i, &(size_t){0})[0] == '\0')
            return sw_err_set(err, SW_E_PARSE, "%s: the answer has no %s", where,
                              strrchr(field_paths[i], '/') + 1);
    int64_t expires = sw_awscreds_parse_time(f->expiration);
    if (expires < 0)
        return sw_err_set(err, SW_E_PARSE, "%s: Expiration is not an ISO 8601 UTC time", where);
    sw_awscreds c = {.expires_unix_s = expires, .source = "assume-role"};
    memcpy(c.access_key_id, f->key_id, sizeof c.access_key_id);
    memcpy(c.secret_access_key, f->secret, sizeof c.secret_access_key);
    memcpy(c.session_token, f->token, sizeof c.session_token);
    *ret = c;
    sw_awscreds_wipe(&c);
    return SW_OK;
}

/* A message from the server, printable ASCII only (it goes into logs). */
static void
printable(char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7E)
            *s = '?';
}

static sw_status
error_answer(long status, sts_fields *f, const char *where, sw_err *err)
{
    printable(f->code);
    printable(f->message);
    bool transient = status >= 500 || status == 429 || strcmp(f->code, "Throttling") == 0;
    return sw_err_set(err, transient ? SW_E_IO : SW_E_INVAL, "%s: HTTP %ld %s: %s", where, status,
                      f->code[0] != '\0' ? f->code : "(no error code)", f->message);
}

sw_status
sw_awscreds_sts_parse(long status, const uint8_t *body, size_t len, const char *where,
                      sw_awscreds *ret, sw_err *err)
{
    if (len > SW_AWSCREDS_STS_BODY_MAX)
        return sw_err_set(err, SW_E_TOOBIG, "%s: answer larger than %zu bytes", where,
                          SW_AWSCREDS_STS_BODY_MAX);
    sts_fields *f = calloc(1, sizeof *f);
    if (f == NULL)
        return sw_err_set(err, SW_E_NOMEM, "%s: out of memory", where);
    xml_reader x = {
        .p = (const char *)body, .end = (const char *)body + len, .field = -1, .out = f};
    sw_status st = read_document(&x, x.p, err);
    if (st != SW_OK && status != 200)
        st = sw_err_set(err, status >= 500 ? SW_E_IO : SW_E_INVAL,
                        "%s: HTTP %ld with an unreadable error answer", where, status);
    else if (st != SW_OK)
        sw_err_prefix(err, "%s", where);
    else if (status != 200)
        st = error_answer(status, f, where, err);
    else
        st = take_credentials(f, where, ret, err);
    OPENSSL_cleanse(f, sizeof *f);
    free(f);
    return st;
}

/* ------------------------------------------------------------------ the call */

/* Append "&name=value" with value percent-encoded as RFC 3986 unreserved characters allow. */
static bool
form_add(char *form, size_t cap, const char *name, const char *value)
{
    size_t n = strlen(form);
    int w = snprintf(form + n, cap - n, "%s%s=", n ? "&" : "", name);
    if (w < 0 || (size_t)w >= cap - n)
        return false;
    n += (size_t)w;
    for (const unsigned char *v = (const unsigned char *)value; *v != '\0'; v++) {
        bool plain = (*v >= 'A' && *v <= 'Z') || (*v >= 'a' && *v <= 'z') ||
                     (*v >= '0' && *v <= '9') || *v == '-' || *v == '_' || *v == '.' || *v == '~';
        if (n + 4 >= cap)
            return false;
        n += (size_t)snprintf(form + n, cap - n, plain ? "%c" : "%%%02X", *v);
    }
    return true;
}

static sw_status
build_form(const sw_awscreds_options *opt, const sw_awscreds_role *role, char *form,
           const char *where, sw_err *err)
{
    char session[64], duration[24];
    if (role->session_name == NULL)
        snprintf(session, sizeof session, "slawatch-%lld", (long long)sw_awscreds_now(opt));
    snprintf(duration, sizeof duration, "%lld", (long long)role->duration_s);
    form[0] = '\0';
    bool ok =
        form_add(form, FORM_MAX, "Action", "AssumeRole") &&
        form_add(form, FORM_MAX, "Version", STS_VERSION) &&
        form_add(form, FORM_MAX, "RoleArn", role->role_arn) &&
        form_add(form, FORM_MAX, "RoleSessionName",
                 role->session_name != NULL ? role->session_name : session) &&
        (role->external_id == NULL || form_add(form, FORM_MAX, "ExternalId", role->external_id)) &&
        (role->duration_s == 0 || form_add(form, FORM_MAX, "DurationSeconds", duration));
    return ok ? SW_OK : sw_err_set(err, SW_E_INVAL, "%s: the request is too long", where);
}

/* Sign the form for STS at url; extra gets the header lines to send, stored in lines. */
static sw_status
sign_form(const sw_awscreds_options *opt, const char *region, const char *url, const char *form,
          const sw_awscreds *source, char lines[][HEADER_LINE_MAX], const char **extra, sw_err *err)
{
    const char *host = strstr(url, "://") + 3;
    char host_header[300];
    snprintf(host_header, sizeof host_header, "%.*s", (int)strcspn(host, "/?#"), host);
    const char *path = host + strcspn(host, "/?#");
    sw_sigv4_header hdrs[] = {{"Host", host_header}, {"Content-Type", FORM_TYPE}};
    sw_sigv4_request rq = {.method = "POST",
                           .path = *path == '/' ? path : "/",
                           .headers = hdrs,
                           .n_headers = 2,
                           .payload = form,
                           .payload_len = strlen(form),
                           .now_unix_s = sw_awscreds_now(opt)};
    sw_sigv4_signer *signer = NULL;
    sw_sigv4_result r;
    sw_sigv4_result_init(&r);
    sw_status st = sw_sigv4_signer_new(region, "sts", &signer, err);
    if (st == SW_OK)
        st = sw_sigv4_sign(signer, source, &rq, &r, err);
    for (size_t i = 0; st == SW_OK && i < r.n_added; i++) {
        snprintf(lines[i], HEADER_LINE_MAX, "%s: %s", r.added[i].name, r.added[i].value);
        extra[i] = lines[i];
    }
    extra[st == SW_OK ? r.n_added : 0] = NULL;
    sw_sigv4_result_fini(&r);
    sw_sigv4_signer_free(signer);
    return st;
}

sw_status
sw_awscreds_assume_role(const sw_awscreds_options *opt, const sw_awscreds_role *role,
                        const sw_awscreds *source, sw_awscreds *ret, sw_err *err)
{
    char where[300], url[URL_MAX], form[FORM_MAX];
    snprintf(where, sizeof where, "STS AssumeRole (profile %s)", role->profile);
    const char *region = role->region != NULL ? role->region : "us-east-1";
    sw_status st = sw_awscreds_endpoint_url(opt, "STS", "sts", "sts", region, url, sizeof url, err);
    if (st == SW_OK)
        st = build_form(opt, role, form, where, err);
    char(*lines)[HEADER_LINE_MAX] = calloc(SW_SIGV4_MAX_ADDED, HEADER_LINE_MAX);
    const char *extra[SW_SIGV4_MAX_ADDED + 1];
    if (st == SW_OK && lines == NULL)
        st = sw_err_set(err, SW_E_NOMEM, "out of memory");
    if (st == SW_OK)
        st = sign_form(opt, region, url, form, source, lines, extra, err);
    if (st != SW_OK) {
        free(lines);
        sw_err_prefix(err, "%s", where);
        return st;
    }
    sw_http_fetch_request rq = {.method = "POST",
                                .url = url,
                                .content_type = FORM_TYPE,
                                .body = form,
                                .body_len = strlen(form),
                                .headers = extra,
                                .timeout_ms = STS_TIMEOUT_MS,
                                .max_response_bytes = SW_AWSCREDS_STS_BODY_MAX};
    sw_http_fetch_response resp;
    st = sw_http_fetch(&rq, &resp, err);
    OPENSSL_cleanse(lines, SW_SIGV4_MAX_ADDED * HEADER_LINE_MAX);
    free(lines);
    if (st != SW_OK) {
        sw_err_prefix(err, "%s", where);
        return st;
    }
    st = sw_awscreds_sts_parse(resp.status, resp.body.data, resp.body.len, where, ret, err);
    if (resp.body.data != NULL)
        OPENSSL_cleanse(resp.body.data, resp.body.cap);
    sw_http_fetch_response_fini(&resp);
    return st;
}
