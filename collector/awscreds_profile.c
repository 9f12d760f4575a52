/*
 * The shared files' profile as the AWS SDKs (botocore's provider order) read it:
 *   1. role_arn (unless a web identity profile): STS AssumeRole with the credentials of
 *      source_profile (its static keys first, else its own role or credential_process) or of
 *      credential_source (Environment, EcsContainer, Ec2InstanceMetadata);
 *   2. static keys in the credentials file;
 *   3. credential_process;
 *   4. static keys in the config file.
 * A key is looked up in the credentials file's [NAME] first, then the config file's [default]
 * or [profile NAME]: the SDKs merge the two files so. Everything is resolved again at each
 * refresh: the provider caches only the final credentials.
 */
#include "collector/awscreds_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_MAX_LEN 4096
#define SECTION_MAX 160
#define MAX_ROLE_HOPS 8
#define PROCESS_TIMEOUT_MS 60000
#define MIN_DURATION_S 900
#define MAX_DURATION_S 43200

/* ------------------------------------------------------------------ files */

/* The file named by env_name, or ~/.aws/<base>; "~/" in the variable is expanded too. */
static sw_status
file_path(const sw_awscreds_options *opt, const char *env_name, const char *base, char *out,
          sw_err *err)
{
    const char *set = sw_awscreds_env(opt, env_name), *home = sw_awscreds_env(opt, "HOME");
    int n;
    if (set != NULL && strncmp(set, "~/", 2) != 0)
        n = snprintf(out, PATH_MAX_LEN, "%s", set);
    else if (home == NULL)
        return sw_err_set(err, SW_E_INVAL, "%s: HOME is not set", env_name);
    else if (set != NULL)
        n = snprintf(out, PATH_MAX_LEN, "%s/%s", home, set + 2);
    else
        n = snprintf(out, PATH_MAX_LEN, "%s/.aws/%s", home, base);
    if (n < 0 || n >= PATH_MAX_LEN)
        return sw_err_set(err, SW_E_INVAL, "%s: path too long", env_name);
    return SW_OK;
}

sw_status
sw_awscreds_load_optional(const sw_awscreds_options *opt, const char *env_name, const char *base,
                          sw_awscreds_file **ret_file, sw_err *err)
{
    char path[PATH_MAX_LEN];
    *ret_file = NULL;
    sw_status st = file_path(opt, env_name, base, path, err);
    if (st != SW_OK)
        return st;
    sw_err local = {0};
    st = sw_awscreds_file_load(path, ret_file, &local);
    if (st == SW_E_IO && (local.sys_errno == ENOENT || local.sys_errno == ENOTDIR))
        return SW_OK;
    if (st != SW_OK && err != NULL)
        *err = local;
    return st;
}

void
sw_awscreds_config_section(const char *profile, char *out, size_t cap)
{
    snprintf(out, cap, strcmp(profile, "default") == 0 ? "%s" : "profile %s", profile);
}

/* Both files, loaded once per resolution; top is the profile asked for (its region). */
typedef struct profile_files {
    const sw_awscreds_options *opt;
    const char *top;
    sw_awscreds_file *creds, *config;
} profile_files;

/* A profile's value: credentials file first, then the config file; NULL when unset or "". */
static const char *
profile_get(const profile_files *pf, const char *profile, const char *key)
{
    char section[SECTION_MAX];
    const char *v = pf->creds != NULL ? sw_awscreds_file_get(pf->creds, profile, key) : NULL;
    sw_awscreds_config_section(profile, section, sizeof section);
    if ((v == NULL || v[0] == '\0') && pf->config != NULL)
        v = sw_awscreds_file_get(pf->config, section, key);
    return v != NULL && v[0] != '\0' ? v : NULL;
}

/* ------------------------------------------------------------------ static keys */

/* Keys from one file's section; *ret_found when the section names a key id or secret. */
static sw_status
from_section(const sw_awscreds_file *f, const char *section, const char *what, const char *source,
             sw_awscreds *ret, bool *ret_found, sw_err *err)
{
    const char *id = sw_awscreds_file_get(f, section, "aws_access_key_id");
    const char *secret = sw_awscreds_file_get(f, section, "aws_secret_access_key");
    const char *token = sw_awscreds_file_get(f, section, "aws_session_token");
    *ret_found = (id != NULL && id[0] != '\0') || (secret != NULL && secret[0] != '\0');
    if (!*ret_found)
        return SW_OK;
    if (id == NULL || id[0] == '\0' || secret == NULL || secret[0] == '\0')
        return sw_err_set(err, SW_E_INVAL,
                          "%s [%s]: aws_access_key_id and "
                          "aws_secret_access_key must be set together",
                          what, section);
    if (!sw_awscreds_copy(ret->access_key_id, sizeof ret->access_key_id, id) ||
        !sw_awscreds_copy(ret->secret_access_key, sizeof ret->secret_access_key, secret) ||
        !sw_awscreds_copy(ret->session_token, sizeof ret->session_token, token ? token : ""))
        return sw_err_set(err, SW_E_INVAL, "%s [%s]: a credential value is too long", what,
                          section);
    ret->expires_unix_s = 0;
    ret->source = source;
    return SW_OK;
}

static sw_status
keys_in_credentials_file(const profile_files *pf, const char *profile, sw_awscreds *ret,
                         bool *ret_found, sw_err *err)
{
    *ret_found = false;
    if (pf->creds == NULL)
        return SW_OK;
    return from_section(pf->creds, profile, "shared credentials file", "shared-credentials-file",
                        ret, ret_found, err);
}

static sw_status
keys_in_config_file(const profile_files *pf, const char *profile, sw_awscreds *ret, bool *ret_found,
                    sw_err *err)
{
    char section[SECTION_MAX];
    *ret_found = false;
    if (pf->config == NULL)
        return SW_OK;
    sw_awscreds_config_section(profile, section, sizeof section);
    return from_section(pf->config, section, "config file", "config-file", ret, ret_found, err);
}

static bool
has_keys(const profile_files *pf, const char *profile)
{
    return profile_get(pf, profile, "aws_access_key_id") != NULL ||
           profile_get(pf, profile, "aws_secret_access_key") != NULL;
}

/* ------------------------------------------------------------------ process */

static sw_status
from_process(const profile_files *pf, const char *profile, sw_awscreds *ret, bool *ret_found,
             sw_err *err)
{
    const char *cmd = profile_get(pf, profile, "credential_process");
    *ret_found = cmd != NULL;
    if (cmd == NULL)
        return SW_OK;
    char where[SECTION_MAX + 32];
    snprintf(where, sizeof where, "credential_process (profile %s)", profile);
    return sw_awscreds_run_process(cmd, where, PROCESS_TIMEOUT_MS, ret, err);
}

/* ------------------------------------------------------------------ assume role */

static sw_status resolve(const profile_files *pf, const char *profile, unsigned hops,
                         bool as_source, sw_awscreds *ret, bool *ret_found, sw_err *err);

/* credential_source: one of the chain's own sources supplies the keys. */
static sw_status
from_credential_source(const profile_files *pf, const char *profile, const char *name,
                       sw_awscreds *ret, sw_err *err)
{
    bool found = false;
    sw_status st;
    if (strcmp(name, "Environment") == 0)
        st = sw_awscreds_from_env(pf->opt, ret, &found, err);
    else if (strcmp(name, "EcsContainer") == 0)
        st = sw_awscreds_from_ecs(pf->opt, ret, &found, err);
    else if (strcmp(name, "Ec2InstanceMetadata") == 0)
        st = sw_awscreds_from_imds(pf->opt, ret, &found, err);
    else
        return sw_err_set(err, SW_E_INVAL,
                          "profile %s: credential_source must be Environment, "
                          "EcsContainer or Ec2InstanceMetadata",
                          profile);
    if (st == SW_OK && !found)
        st = sw_err_set(err, SW_E_INVAL, "profile %s: credential_source %s has no credentials",
                        profile, name);
    return st;
}

/* The credentials that sign the AssumeRole call. */
static sw_status
role_source(const profile_files *pf, const char *profile, unsigned hops, sw_awscreds *ret,
            sw_err *err)
{
    const char *source_profile = profile_get(pf, profile, "source_profile");
    const char *credential_source = profile_get(pf, profile, "credential_source");
    if (source_profile != NULL && credential_source != NULL)
        return sw_err_set(err, SW_E_INVAL,
                          "profile %s: source_profile and credential_source "
                          "are both set",
                          profile);
    if (credential_source != NULL)
        return from_credential_source(pf, profile, credential_source, ret, err);
    if (source_profile == NULL)
        return sw_err_set(err, SW_E_INVAL,
                          "profile %s: role_arn needs source_profile or "
                          "credential_source",
                          profile);
    if (strcmp(source_profile, profile) == 0 && !has_keys(pf, profile))
        return sw_err_set(err, SW_E_INVAL,
                          "profile %s: source_profile names itself but the "
                          "profile has no keys",
                          profile);
    bool found = false;
    sw_status st = resolve(pf, source_profile, hops + 1, true, ret, &found, err);
    if (st == SW_OK && !found)
        st = sw_err_set(err, SW_E_INVAL, "profile %s: source profile %s has no credentials",
                        profile, source_profile);
    return st;
}

/* duration_seconds: STS takes 900 s to 12 h (the role's own maximum may be lower). */
static sw_status
role_duration(const profile_files *pf, const char *profile, int64_t *ret, sw_err *err)
{
    const char *text = profile_get(pf, profile, "duration_seconds");
    *ret = 0;
    if (text == NULL)
        return SW_OK;
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno != 0 || *end != '\0' || v < MIN_DURATION_S || v > MAX_DURATION_S)
        return sw_err_set(err, SW_E_INVAL,
                          "profile %s: duration_seconds must be a whole "
                          "number from %d to %d",
                          profile, MIN_DURATION_S, MAX_DURATION_S);
    *ret = v;
    return SW_OK;
}

/* The region STS is asked in: the environment's, else the profile asked for's. */
static const char *
sts_region(const profile_files *pf)
{
    const char *r = sw_awscreds_env(pf->opt, "AWS_REGION");
    if (r == NULL)
        r = sw_awscreds_env(pf->opt, "AWS_DEFAULT_REGION");
    return r != NULL ? r : profile_get(pf, pf->top, "region");
}

static sw_status
assume_role(const profile_files *pf, const char *profile, const char *role_arn, unsigned hops,
            sw_awscreds *ret, sw_err *err)
{
    if (hops >= MAX_ROLE_HOPS)
        return sw_err_set(err, SW_E_INVAL,
                          "profile %s: more than %d roles chained through "
                          "source_profile (a loop?)",
                          profile, MAX_ROLE_HOPS);
    if (profile_get(pf, profile, "mfa_serial") != NULL)
        return sw_err_set(err, SW_E_INVAL,
                          "profile %s: mfa_serial needs a code typed in, which "
                          "a daemon cannot do; use a role without MFA",
                          profile);
    sw_awscreds_role role = {.profile = profile,
                             .role_arn = role_arn,
                             .session_name = profile_get(pf, profile, "role_session_name"),
                             .external_id = profile_get(pf, profile, "external_id"),
                             .region = sts_region(pf)};
    sw_awscreds source = {0};
    char where[SECTION_MAX + 32];
    snprintf(where, sizeof where, "source of profile %s", profile);
    sw_status st = role_duration(pf, profile, &role.duration_s, err);
    if (st == SW_OK)
        st = role_source(pf, profile, hops, &source, err);
    if (st == SW_OK)
        st = sw_awscreds_unexpired(pf->opt, &source, where, err);
    if (st == SW_OK)
        st = sw_awscreds_assume_role(pf->opt, &role, &source, ret, err);
    sw_awscreds_wipe(&source);
    return st;
}

/* ------------------------------------------------------------------ one profile */

/* A source profile's static keys win over its role; the profile asked for's role wins. */
static sw_status
resolve(const profile_files *pf, const char *profile, unsigned hops, bool as_source,
        sw_awscreds *ret, bool *ret_found, sw_err *err)
{
    const char *role_arn = profile_get(pf, profile, "role_arn");
    bool web_identity = profile_get(pf, profile, "web_identity_token_file") != NULL;
    *ret_found = false;
    if (web_identity)
        return sw_err_set(err, SW_E_INVAL,
                          "profile %s: web_identity_token_file is not "
                          "supported",
                          profile);
    if (role_arn != NULL && !(as_source && has_keys(pf, profile))) {
        *ret_found = true;
        return assume_role(pf, profile, role_arn, hops, ret, err);
    }
    sw_status st = keys_in_credentials_file(pf, profile, ret, ret_found, err);
    if (st == SW_OK && !*ret_found)
        st = from_process(pf, profile, ret, ret_found, err);
    if (st == SW_OK && !*ret_found)
        st = keys_in_config_file(pf, profile, ret, ret_found, err);
    return st;
}

sw_status
sw_awscreds_from_profile(const sw_awscreds_options *opt, const char *profile, sw_awscreds *ret,
                         bool *ret_found, sw_err *err)
{
    profile_files pf = {.opt = opt, .top = profile};
    *ret_found = false;
    sw_status st = sw_awscreds_load_optional(opt, "AWS_SHARED_CREDENTIALS_FILE", "credentials",
                                             &pf.creds, err);
    if (st == SW_OK)
        st = sw_awscreds_load_optional(opt, "AWS_CONFIG_FILE", "config", &pf.config, err);
    if (st == SW_OK)
        st = resolve(&pf, profile, 0, false, ret, ret_found, err);
    sw_awscreds_file_free(pf.creds);
    sw_awscreds_file_free(pf.config);
    return st;
}
