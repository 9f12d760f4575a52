/*
 * AWS credentials and region, found the way the AWS SDKs find them: environment variables, the
 * shared credentials and config files (profile from AWS_PROFILE: role_arn through STS
 * AssumeRole, static keys, credential_process), the ECS container credentials endpoint, then
 * EC2 instance metadata (IMDSv2). A provider resolves the chain once, caches the
 * credentials and refreshes temporary ones before they expire; it is safe from any thread.
 *
 * The environment is read through a callback so tests and embedders control it completely; the
 * clock is a callback too. Secret keys and session tokens never appear in error messages.
 */
#ifndef SLAWATCH_AWSCREDS_H
#define SLAWATCH_AWSCREDS_H

#include <stdint.h>

#include "slawatch/err.h"

#define SW_AWSCREDS_KEY_ID_MAX 129   /* access key id, NUL included */
#define SW_AWSCREDS_SECRET_MAX 129   /* secret access key, NUL included */
#define SW_AWSCREDS_TOKEN_MAX 8192   /* session token, NUL included */
#define SW_AWSCREDS_REGION_MAX 64    /* region name, NUL included */
#define SW_AWSCREDS_REFRESH_EARLY_S 300 /* default: refresh this long before expiry */

/* One set of credentials, by value: copies never alias the provider's cache. */
typedef struct sw_awscreds {
    char access_key_id[SW_AWSCREDS_KEY_ID_MAX];
    char secret_access_key[SW_AWSCREDS_SECRET_MAX];
    char session_token[SW_AWSCREDS_TOKEN_MAX]; /* "" for long-term keys */
    int64_t expires_unix_s;                     /* 0: does not expire */
    const char *source; /* static text: "env", "shared-credentials-file", "config-file",
                           "credential-process", "assume-role", "ecs", "imds" */
} sw_awscreds;

/* Where the provider reads its environment and time; every field may be zero. */
typedef struct sw_awscreds_options {
    /* Environment lookup; NULL uses getenv(3). Returns NULL for unset names. */
    const char *(*getenv)(void *ctx, const char *name);
    void *getenv_ctx;
    /* Wall clock in Unix seconds; NULL uses time(2). */
    int64_t (*now_unix_s)(void *ctx);
    void *clock_ctx;
    const char *profile;       /* NULL: AWS_PROFILE, else "default" */
    int64_t refresh_early_s;   /* 0: SW_AWSCREDS_REFRESH_EARLY_S */
    int64_t http_timeout_ms;   /* per metadata request; 0: 1000 */
} sw_awscreds_options;

typedef struct sw_awscreds_provider sw_awscreds_provider;

/* A provider over opt (copied; the callbacks' contexts must outlive it). Resolves nothing yet. */
sw_status sw_awscreds_provider_new(const sw_awscreds_options *opt,
                                   sw_awscreds_provider **ret_provider, sw_err *err);

/* sw_awscreds_provider_free(NULL) does nothing; cached secrets are wiped. */
void sw_awscreds_provider_free(sw_awscreds_provider *p);

/*
 * The current credentials into *ret. The first call walks the chain; later calls return the
 * cache and refresh it from the same source once it is within refresh_early_s of expiry. When
 * a refresh fails while the cached credentials are still valid, those are returned (the SDKs'
 * behaviour). Errors: SW_E_INVAL when no source has credentials (the message lists what was
 * tried), SW_E_PARSE / SW_E_IO from the source that failed, naming it (file:line, URL).
 * Thread-safe; concurrent callers wait for one refresh.
 */
sw_status sw_awscreds_get(sw_awscreds_provider *p, sw_awscreds *ret, sw_err *err);

/* Forget the cache so the next get walks the chain again (after an ExpiredToken answer). */
void sw_awscreds_invalidate(sw_awscreds_provider *p);

/*
 * The region: AWS_REGION, AWS_DEFAULT_REGION, `region` in the profile's config-file section,
 * then IMDSv2's placement/region (unless AWS_EC2_METADATA_DISABLED=true). SW_E_INVAL when none
 * is set. out gets at most cap bytes, NUL included.
 */
sw_status sw_awscreds_region(const sw_awscreds_options *opt, char *out, size_t cap,
                             sw_err *err);

/*
 * The endpoint URL for a service the way the SDKs configure it: AWS_ENDPOINT_URL_<ENV_ID>
 * (env_id e.g. "CLOUDWATCH"), then AWS_ENDPOINT_URL, then in the config file the profile's
 * `services` section (`<config_id> = \n  endpoint_url = URL`, config_id e.g. "cloudwatch") and
 * the profile's `endpoint_url` (all skipped when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true);
 * otherwise https://<host_prefix>.<region>.amazonaws.com (".com.cn" in cn-* regions).
 * SW_E_INVAL for a configured value that is not an http(s) URL, or a region that cannot be a
 * host name.
 */
sw_status sw_awscreds_endpoint_url(const sw_awscreds_options *opt, const char *env_id,
                                   const char *config_id, const char *host_prefix,
                                   const char *region, char *out, size_t cap, sw_err *err);

/* Overwrite the secret fields of c (so they do not linger on the stack). */
void sw_awscreds_wipe(sw_awscreds *c);

#endif
