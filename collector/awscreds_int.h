/*
 * Shared between the credential chain (awscreds.c) and its remote sources (awscreds_remote.c:
 * the ECS container endpoint and EC2 instance metadata).
 */
#ifndef SLAWATCH_AWSCREDS_INT_H
#define SLAWATCH_AWSCREDS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slawatch/awscreds.h"

/* The variable's value through opt's getenv, or NULL when unset or empty. */
const char *sw_awscreds_env(const sw_awscreds_options *opt, const char *name);

/* Whether the variable is "true" (any case). */
bool sw_awscreds_env_true(const sw_awscreds_options *opt, const char *name);

/* Copy src into dst[cap] when it fits; false otherwise (dst untouched). */
bool sw_awscreds_copy(char *dst, size_t cap, const char *src);

/*
 * The credentials JSON the ECS endpoint and IMDS serve (AccessKeyId, SecretAccessKey, Token,
 * Expiration as ISO 8601 UTC); where names the source in messages.
 */
sw_status sw_awscreds_parse_json(const uint8_t *body, size_t len, const char *where,
                                 sw_awscreds *ret, sw_err *err);

/* ECS container credentials; *ret_found false when neither URI variable is set. */
sw_status sw_awscreds_from_ecs(const sw_awscreds_options *opt, sw_awscreds *ret, bool *ret_found,
                               sw_err *err);

/* EC2 instance metadata (IMDSv2); *ret_found false when disabled by AWS_EC2_METADATA_DISABLED
 * or when no instance role is attached. */
sw_status sw_awscreds_from_imds(const sw_awscreds_options *opt, sw_awscreds *ret,
                                bool *ret_found, sw_err *err);

/* placement/region from IMDSv2; *ret_found false when disabled. */
sw_status sw_awscreds_imds_region(const sw_awscreds_options *opt, char *out, size_t cap,
                                  bool *ret_found, sw_err *err);

#endif
