/*
 * Shared between the credential chain (awscreds.c), the shared-files source (awscreds_profile.c:
 * keys, assume-role and credential_process profiles), STS AssumeRole (awscreds_sts.c), the
 * credential process (awscreds_process.c) and the remote sources (awscreds_remote.c: the ECS
 * container endpoint and EC2 instance metadata).
 */
#ifndef SLAWATCH_AWSCREDS_INT_H
#define SLAWATCH_AWSCREDS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slawatch/awscreds.h"
#include "slawatch/awscreds_file.h"

/* The variable's value through opt's getenv, or NULL when unset or empty. */
const char *sw_awscreds_env(const sw_awscreds_options *opt, const char *name);

/* Whether the variable is "true" (any case). */
bool sw_awscreds_env_true(const sw_awscreds_options *opt, const char *name);

/* Copy src into dst[cap] when it fits; false otherwise (dst untouched). */
bool sw_awscreds_copy(char *dst, size_t cap, const char *src);

/* The options' clock (time(2) when it has none). */
int64_t sw_awscreds_now(const sw_awscreds_options *opt);

/* SW_E_INVAL naming where when c has an expiry that has passed. */
sw_status sw_awscreds_unexpired(const sw_awscreds_options *opt, const sw_awscreds *c,
                                const char *where, sw_err *err);

/* An ISO 8601 UTC time ("2026-12-06T20:00:00Z", fractions and "+00:00" allowed) as Unix
 * seconds; -1 when s is NULL or not such a time. */
int64_t sw_awscreds_parse_time(const char *s);

/* Load the file named by env_name (default ~/.aws/<base>); a missing one is no error and
 * leaves *ret_file NULL. */
sw_status sw_awscreds_load_optional(const sw_awscreds_options *opt, const char *env_name,
                                    const char *base, sw_awscreds_file **ret_file, sw_err *err);

/* The config file's section for a profile: "default" or "profile NAME". */
void sw_awscreds_config_section(const char *profile, char *out, size_t cap);

/* Credentials from the environment variables; *ret_found false when none is set. */
sw_status sw_awscreds_from_env(const sw_awscreds_options *opt, sw_awscreds *ret, bool *ret_found,
                               sw_err *err);

/*
 * The shared files' profile (credentials file first, then the config file, key by key as the
 * SDKs merge them): role_arn with source_profile or credential_source (STS AssumeRole), static
 * keys, credential_process. *ret_found false when the profile configures none of them.
 */
sw_status sw_awscreds_from_profile(const sw_awscreds_options *opt, const char *profile,
                                   sw_awscreds *ret, bool *ret_found, sw_err *err);

/* ---- STS AssumeRole (awscreds_sts.c) ---- */

/* What an assume-role profile asks for; strings borrowed for the call. */
typedef struct sw_awscreds_role {
    const char *profile; /* names the source in messages */
    const char *role_arn;
    const char *session_name; /* NULL: "slawatch-<unix time>" */
    const char *external_id;  /* NULL: none */
    int64_t duration_s;       /* 0: STS's default (1 hour) */
    const char *region;       /* NULL: us-east-1; picks the regional endpoint and signing scope */
} sw_awscreds_role;

/* The body of an STS answer at most this long; more is an error. */
#define SW_AWSCREDS_STS_BODY_MAX ((size_t)64 << 10)

/*
 * Parse an STS Query-protocol answer: for status 200 the AssumeRoleResponse's Credentials
 * (AccessKeyId, SecretAccessKey, SessionToken, Expiration all required), otherwise the
 * ErrorResponse's Code and Message, which become the error (SW_E_IO for 5xx and throttling,
 * which may pass; SW_E_INVAL for the other 4xx such as AccessDenied, which will not). Malformed
 * XML, a DOCTYPE, unknown entities, mismatched tags, more than 16 levels or a missing field are
 * SW_E_PARSE. where names the source in every message.
 */
sw_status sw_awscreds_sts_parse(long status, const uint8_t *body, size_t len, const char *where,
                                sw_awscreds *ret, sw_err *err);

/* Call sts:AssumeRole signed with source's keys; the role's temporary credentials. */
sw_status sw_awscreds_assume_role(const sw_awscreds_options *opt, const sw_awscreds_role *role,
                                  const sw_awscreds *source, sw_awscreds *ret, sw_err *err);

/* ---- credential_process (awscreds_process.c) ---- */

#define SW_AWSCREDS_PROCESS_OUTPUT_MAX ((size_t)64 << 10)
#define SW_AWSCREDS_PROCESS_MAX_ARGS 64

/*
 * Split a credential_process command line into argv as a POSIX shell splits words (blanks,
 * '...' literal, "..." with \ \" \$ \` escapes, \ outside quotes), without expansions.
 * The words are written into buf[cap]; argv gets at most SW_AWSCREDS_PROCESS_MAX_ARGS + 1
 * entries, NULL-terminated. SW_E_PARSE for an unterminated quote or an empty command.
 */
sw_status sw_awscreds_split_command(const char *cmd, char *buf, size_t cap, char **argv,
                                    sw_err *err);

/* Parse a credential process's output (JSON: Version 1, AccessKeyId, SecretAccessKey,
 * optional SessionToken and Expiration). where names the source in messages. */
sw_status sw_awscreds_process_parse(const uint8_t *out, size_t len, const char *where,
                                    sw_awscreds *ret, sw_err *err);

/* Run cmd (no shell; stdin /dev/null) and parse what it prints; a non-zero exit, a signal,
 * no answer within timeout_ms or output over the cap is an error naming where. */
sw_status sw_awscreds_run_process(const char *cmd, const char *where, int64_t timeout_ms,
                                  sw_awscreds *ret, sw_err *err);

/*
 * The credentials JSON the ECS endpoint and IMDS serve (AccessKeyId, SecretAccessKey, Token,
 * Expiration as ISO 8601 UTC); where names the source in messages.
 */
sw_status sw_awscreds_parse_json(const uint8_t *body, size_t len, const char *where,
                                 sw_awscreds *ret, sw_err *err);

/*
 * The fields every JSON credential source shares into *c: AccessKeyId and SecretAccessKey
 * (present, not empty), the session token under token_key (ECS and IMDS say "Token",
 * credential_process "SessionToken"), Expiration as ISO 8601 UTC when given. root is a cJSON
 * object (declared opaque here so this header needs no cJSON).
 */
struct cJSON;
sw_status sw_awscreds_fill_json(const struct cJSON *root, const char *token_key, const char *where,
                                sw_awscreds *c, sw_err *err);

/* ECS container credentials; *ret_found false when neither URI variable is set. */
sw_status sw_awscreds_from_ecs(const sw_awscreds_options *opt, sw_awscreds *ret, bool *ret_found,
                               sw_err *err);

/* EC2 instance metadata (IMDSv2); *ret_found false when disabled by AWS_EC2_METADATA_DISABLED
 * or when no instance role is attached. */
sw_status sw_awscreds_from_imds(const sw_awscreds_options *opt, sw_awscreds *ret, bool *ret_found,
                                sw_err *err);

/* placement/region from IMDSv2; *ret_found false when disabled. */
sw_status sw_awscreds_imds_region(const sw_awscreds_options *opt, char *out, size_t cap,
                                  bool *ret_found, sw_err *err);

#endif
