/*
 * AWS Signature Version 4 request signing (header form): canonical request, string to sign,
 * signing key, and the headers to add (X-Amz-Date, X-Amz-Security-Token, optionally
 * x-amz-content-sha256, Authorization). A signer is bound to one region and service and caches
 * the derived signing key per day and secret key, so signing costs two SHA-256 and one HMAC.
 * A signer is safe from any thread; a result belongs to one thread at a time.
 *
 * Nothing this module writes into an error message contains a secret or a session token.
 */
#ifndef SLAWATCH_SIGV4_H
#define SLAWATCH_SIGV4_H

#include <stddef.h>
#include <stdint.h>

#include "slawatch/awscreds.h"
#include "slawatch/buf.h"
#include "slawatch/err.h"

#define SW_SIGV4_AMZ_DATE_LEN 16 /* "20150830T123600Z" */
#define SW_SIGV4_MAX_ADDED 4

/* Flags of sw_sigv4_request. 0 is right for CloudWatch and every non-S3 service. */
enum {
    SW_SIGV4_NO_NORMALIZE = 1u << 0,   /* keep "." "..", "//" in the path (S3 style) */
    SW_SIGV4_CONTENT_SHA256 = 1u << 1, /* add and sign x-amz-content-sha256 */
    SW_SIGV4_TOKEN_UNSIGNED = 1u << 2, /* add X-Amz-Security-Token after signing */
};

typedef struct sw_sigv4_header {
    const char *name;
    const char *value;
} sw_sigv4_header;

/* A request to sign; every pointer is borrowed for the call. */
typedef struct sw_sigv4_request {
    const char *method; /* "GET", "POST", ... */
    const char *path;   /* as sent on the wire ("/" for CloudWatch); URI-encoded once more */
    const char *query;  /* after '?', as sent; NULL or "" for none; pairs decoded and re-encoded */
    /* Every header to sign, Host included (names in any case; repeated names are joined in
     * order). Leave out headers a proxy may change (User-Agent, Expect). */
    const sw_sigv4_header *headers;
    size_t n_headers;
    const void *payload; /* the body, hashed with SHA-256 unless payload_sha256_hex is set */
    size_t payload_len;
    const char *payload_sha256_hex; /* 64 lowercase hex digits, or NULL */
    int64_t now_unix_s;             /* signing time */
    unsigned flags;                 /* SW_SIGV4_* */
} sw_sigv4_request;

/*
 * What signing produced: the headers to add to the request, in order. Caller-owned storage
 * reused across signatures (no allocation once warm); the strings live until the next
 * sw_sigv4_sign() into it or sw_sigv4_result_fini(). The private part holds the canonical
 * request, which contains the session token: it is never exposed for logging.
 */
typedef struct sw_sigv4_result {
    sw_sigv4_header added[SW_SIGV4_MAX_ADDED];
    size_t n_added;
    /* private */
    char amz_date[SW_SIGV4_AMZ_DATE_LEN + 1];
    char payload_hash[65];
    char string_to_sign[256];
    sw_buf canonical; /* canonical request */
    sw_buf scratch;   /* canonical query pairs, header order */
    sw_buf authorization;
    sw_buf token; /* copy of the session token */
} sw_sigv4_result;

typedef struct sw_sigv4_signer sw_sigv4_signer;

/*
 * A signer for region and service (copied; each 1..63 characters from [A-Za-z0-9._-]).
 * SW_E_INVAL for bad names, SW_E_NOMEM, SW_E_IO when OpenSSL has no SHA-256.
 */
sw_status sw_sigv4_signer_new(const char *region, const char *service,
                              sw_sigv4_signer **ret_signer, sw_err *err);

/* sw_sigv4_signer_free(NULL) does nothing; the cached key is wiped. */
void sw_sigv4_signer_free(sw_sigv4_signer *s);

void sw_sigv4_result_init(sw_sigv4_result *r);

/* Release and wipe the result's storage. */
void sw_sigv4_result_fini(sw_sigv4_result *r);

/*
 * Sign rq with creds into r. SW_E_INVAL when the request sets a header the signer owns
 * (Authorization, X-Amz-Date, X-Amz-Security-Token, x-amz-content-sha256), lacks Host, has an
 * empty header name or one outside visible ASCII, a value with control characters other than
 * the blanks tab, CR and LF (folded lines collapse to one space), a bad payload hash or a time
 * outside years 1970..9999, or when creds lack a key id or secret; SW_E_NOMEM / SW_E_TOOBIG (1 MiB canonical
 * request cap) from storage. On failure r holds no headers (n_added 0).
 */
sw_status sw_sigv4_sign(sw_sigv4_signer *s, const sw_awscreds *creds, const sw_sigv4_request *rq,
                        sw_sigv4_result *r, sw_err *err);

#endif
