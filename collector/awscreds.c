/*
 * The credential chain and its cache. A provider owns one cached sw_awscreds under a mutex;
 * sw_awscreds_get() walks the chain the first time and afterwards refreshes from the source
 * that answered, early enough that a request signed now is still valid when it arrives.
 */
#include "collector/awscreds_int.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "slawatch/awscreds_file.h"

#define PROFILE_MAX 128

typedef sw_status (*source_fn)(const sw_awscreds_options *opt, const char *profile,
                               sw_awscreds *ret, bool *ret_found, sw_err *err);

struct sw_awscreds_provider {
    sw_awscreds_options opt;
    char profile[PROFILE_MAX];
    pthread_mutex_t lock; /* guards everything below */
    bool have;
    source_fn source; /* the source the cache came from */
    sw_awscreds cached;
};

const char *
sw_awscreds_env(const sw_awscreds_options *opt, const char *name)
{
    const char *v = opt != NULL && opt->getenv != NULL ? opt->getenv(opt->getenv_ctx, name)
                                                       : getenv(name);
    return v != NULL && v[0] != '\0' ? v : NULL;
}

bool
sw_awscreds_env_true(const sw_awscreds_options *opt, const char *name)
{
    const char *v = sw_awscreds_env(opt, name);
    return v != NULL && strcasecmp(v, "true") == 0;
}

bool
sw_awscreds_copy(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        return false;
    memcpy(dst, src, n + 1);
    return true;
}

void
sw_awscreds_wipe(sw_awscreds *c)
{
    OPENSSL_cleanse(c->secret_access_key, sizeof c->secret_access_key);
    OPENSSL_cleanse(c->session_token, sizeof c->session_token);
}

int64_t
sw_awscreds_now(const sw_awscreds_options *opt)
{
    return opt->now_unix_s != NULL ? opt->now_unix_s(opt->clock_ctx) : (int64_t)time(NULL);
}

int64_t
sw_awscreds_parse_time(const char *s)
{
    struct tm tm = {0};
    int used = 0;
    if (s == NULL || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                            &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &used) != 6)
        return -1;
    const char *rest = s + used;
    if (*rest == '.')
        rest += 1 + strspn(rest + 1, "0123456789");
    if (strcmp(rest, "Z") != 0 && strcmp(rest, "+00:00") != 0)
        return -1;
    if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
        tm.tm_min > 59 || tm.tm_sec > 60 || tm.tm_year < 1970)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm);
}

sw_status
sw_awscreds_unexpired(const sw_awscreds_options *opt, const sw_awscreds *c, const char *where,
                      sw_err *err)
{
    if (c->expires_unix_s == 0 || c->expires_unix_s > sw_awscreds_now(opt))
        return SW_OK;
    time_t t = (time_t)c->expires_unix_s;
    struct tm tm;
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
    return sw_err_set(err, SW_E_INVAL, "%s: the credentials it returned expired at %s", where,
                      when);
}

static const char *
profile_of(const sw_awscreds_options *opt)
{
    if (opt->profile != NULL && opt->profile[0] != '\0')
        return opt->profile;
    const char *p = sw_awscreds_env(opt, "AWS_PROFILE");
    return p != NULL ? p : "default";
}

/* ---- environment ---- */

sw_status
sw_awscreds_from_env(const sw_awscreds_options *opt, sw_awscreds *ret, bool *ret_found, sw_err *err)
{
    const char *id = sw_awscreds_env(opt, "AWS_ACCESS_KEY_ID");
    const char *secret = sw_awscreds_env(opt, "AWS_SECRET_ACCESS_KEY");
    const char *token = sw_awscreds_env(opt, "AWS_SESSION_TOKEN");
    *ret_found = id != NULL || secret != NULL;
    if (!*ret_found)
        return SW_OK;
    if (id == NULL || secret == NULL)
        return sw_err_set(err, SW_E_INVAL, "environment: AWS_ACCESS_KEY_ID and "
                                           "AWS_SECRET_ACCESS_KEY must be set together");
    if (!sw_awscreds_copy(ret->access_key_id, sizeof ret->access_key_id, id) ||
        !sw_awscreds_copy(ret->secret_access_key, sizeof ret->secret_access_key, secret) ||
        !sw_awscreds_copy(ret->session_token, sizeof ret->session_token, token ? token : ""))
        return sw_err_set(err, SW_E_INVAL, "environment: an AWS_* credential variable is too long");
    ret->expires_unix_s = 0;
    ret->source = "env";
    return SW_OK;
}

/* ---- shared files ---- */

static sw_status
from_files(const sw_awscreds_options *opt, const char *profile, sw_awscreds *ret, bool *ret_found,
           sw_err *err)
{
    return sw_awscreds_from_profile(opt, profile, ret, ret_found, err);
}

/* ---- the chain ---- */

static sw_status
from_env(const sw_awscreds_options *opt, const char *profile, sw_awscreds *ret, bool *ret_found,
         sw_err *err)
{
    (void)profile;
    return sw_awscreds_from_env(opt, ret, ret_found, err);
}

static sw_status
from_ecs(const sw_awscreds_options *opt, const char *profile, sw_awscreds *ret,
         bool *ret_found, sw_err *err)
{
    (void)profile;
    return sw_awscreds_from_ecs(opt, ret, ret_found, err);
}

/* Instance metadata that cannot be reached is not an instance with a role: like the SDKs, the
 * chain then ends with "no credentials" rather than the connection's error. */
static sw_status
from_imds(const sw_awscreds_options *opt, const char *profile, sw_awscreds *ret,
          bool *ret_found, sw_err *err)
{
    (void)profile;
    sw_status st = sw_awscreds_from_imds(opt, ret, ret_found, err);
    if (st == SW_E_IO) {
        *ret_found = false;
        return SW_OK;
    }
    return st;
}

static const source_fn chain[] = {from_env, from_files, from_ecs, from_imds};

/* The first source that has credentials; a configured source that fails stops the walk. */
static sw_status
walk_chain(sw_awscreds_provider *p, sw_awscreds *ret, sw_err *err)
{
    for (size_t i = 0; i < sizeof chain / sizeof chain[0]; i++) {
        bool found = false;
        sw_status st = chain[i](&p->opt, p->profile, ret, &found, err);
        if (st != SW_OK)
            return st;
        if (found) {
            p->source = chain[i];
            return SW_OK;
        }
    }
    return sw_err_set(err, SW_E_INVAL,
                      "no AWS credentials found (tried: env, shared files (profile %s), ECS, "
                      "IMDS)",
                      p->profile);
}

sw_status
sw_awscreds_provider_new(const sw_awscreds_options *opt, sw_awscreds_provider **ret_provider,
                         sw_err *err)
{
    sw_awscreds_provider *p = calloc(1, sizeof *p);
    if (p == NULL)
        return sw_err_set(err, SW_E_NOMEM, "cannot allocate a credentials provider");
    if (opt != NULL)
        p->opt = *opt;
    if (!sw_awscreds_copy(p->profile, sizeof p->profile, profile_of(&p->opt))) {
        free(p);
        return sw_err_set(err, SW_E_INVAL, "AWS profile name longer than %d bytes",
                          PROFILE_MAX - 1);
    }
    pthread_mutex_init(&p->lock, NULL);
    *ret_provider = p;
    return SW_OK;
}

void
sw_awscreds_provider_free(sw_awscreds_provider *p)
{
    if (p == NULL)
        return;
    pthread_mutex_destroy(&p->lock);
    OPENSSL_cleanse(p, sizeof *p);
    free(p);
}

static bool
needs_refresh(const sw_awscreds_provider *p, int64_t now)
{
    int64_t early = p->opt.refresh_early_s > 0 ? p->opt.refresh_early_s
                                               : SW_AWSCREDS_REFRESH_EARLY_S;
    return p->cached.expires_unix_s != 0 && now >= p->cached.expires_unix_s - early;
}

/* Credentials a source hands out already expired are its error, named so. */
static sw_status
unexpired(const sw_awscreds_provider *p, const sw_awscreds *c, sw_err *err)
{
    char where[PROFILE_MAX + 64];
    snprintf(where, sizeof where, "AWS credential source %s (profile %s)", c->source, p->profile);
    return sw_awscreds_unexpired(&p->opt, c, where, err);
}

/* Under the lock: make the cache current. */
static sw_status
refresh_locked(sw_awscreds_provider *p, sw_err *err)
{
    int64_t now = sw_awscreds_now(&p->opt);
    if (p->have && !needs_refresh(p, now))
        return SW_OK;
    sw_awscreds fresh = {0};
    bool found = false;
    sw_err local = {0};
    sw_status st = p->have ? p->source(&p->opt, p->profile, &fresh, &found, &local)
                           : walk_chain(p, &fresh, &local);
    if (p->have && st == SW_OK && !found)
        st = sw_err_set(&local, SW_E_INVAL,
                        "the AWS credential source (%s) is no longer configured",
                        p->cached.source);
    if (st == SW_OK)
        st = unexpired(p, &fresh, &local);
    if (st == SW_OK) {
        p->cached = fresh;
        p->have = true;
    } else if (p->have && now < p->cached.expires_unix_s) {
        st = SW_OK; /* keep using the still-valid credentials; retry on the next call */
    } else if (err != NULL) {
        *err = local;
    }
    sw_awscreds_wipe(&fresh);
    return st;
}

sw_status
sw_awscreds_get(sw_awscreds_provider *p, sw_awscreds *ret, sw_err *err)
{
    SW_REQUIRE(p != NULL && ret != NULL);
    pthread_mutex_lock(&p->lock);
    sw_status st = refresh_locked(p, err);
    if (st == SW_OK)
        *ret = p->cached;
    pthread_mutex_unlock(&p->lock);
    return st;
}

void
sw_awscreds_invalidate(sw_awscreds_provider *p)
{
    pthread_mutex_lock(&p->lock);
    p->have = false;
    sw_awscreds_wipe(&p->cached);
    pthread_mutex_unlock(&p->lock);
}

/* ---- region and endpoints ---- */

static bool
valid_region(const char *r)
{
    size_t n = strlen(r);
    return n > 0 && n < SW_AWSCREDS_REGION_MAX &&
           strspn(r, "abcdefghijklmnopqrstuvwxyz0123456789-") == n && r[0] != '-';
}

/* A value from the profile's config-file section; copies it into out[cap]. */
static sw_status
config_value(const sw_awscreds_options *opt, const char *key, char *out, size_t cap,
             bool *ret_found, sw_err *err)
{
    sw_awscreds_file *config = NULL;
    char section[PROFILE_MAX + 16];
    *ret_found = false;
    sw_status st = sw_awscreds_load_optional(opt, "AWS_CONFIG_FILE", "config", &config, err);
    if (st != SW_OK || config == NULL)
        return st;
    sw_awscreds_config_section(profile_of(opt), section, sizeof section);
    const char *v = sw_awscreds_file_get(config, section, key);
    if (v != NULL && v[0] != '\0') {
        *ret_found = true;
        if (!sw_awscreds_copy(out, cap, v))
            st = sw_err_set(err, SW_E_INVAL, "config file [%s]: %s is too long", section, key);
    }
    sw_awscreds_file_free(config);
    return st;
}

static sw_status
region_candidate(const sw_awscreds_options *opt, char *out, size_t cap, const char **ret_where,
                 sw_err *err)
{
    static const char *const vars[] = {"AWS_REGION", "AWS_DEFAULT_REGION"};
    for (size_t i = 0; i < 2; i++) {
        const char *v = sw_awscreds_env(opt, vars[i]);
        *ret_where = vars[i];
        if (v != NULL && !sw_awscreds_copy(out, cap, v))
            return sw_err_set(err, SW_E_INVAL, "%s is too long", vars[i]);
        if (v != NULL)
            return SW_OK;
    }
    bool found = false;
    *ret_where = "config file region";
    sw_status st = config_value(opt, "region", out, cap, &found, err);
    if (st != SW_OK || found)
        return st;
    *ret_where = "EC2 instance metadata placement/region";
    st = sw_awscreds_imds_region(opt, out, cap, &found, err);
    if (st == SW_OK && !found)
        return sw_err_set(err, SW_E_INVAL, "no AWS region: set AWS_REGION, AWS_DEFAULT_REGION "
                                           "or region in the config file");
    return st;
}

sw_status
sw_awscreds_region(const sw_awscreds_options *opt, char *out, size_t cap, sw_err *err)
{
    char region[SW_AWSCREDS_REGION_MAX];
    const char *where = NULL;
    sw_status st = region_candidate(opt, region, sizeof region, &where, err);
    if (st != SW_OK)
        return st;
    if (!valid_region(region))
        return sw_err_set(err, SW_E_INVAL, "%s: \"%s\" is not a region name", where, region);
    if (!sw_awscreds_copy(out, cap, region))
        return sw_err_set(err, SW_E_INVAL, "region name longer than %zu bytes", cap);
    return SW_OK;
}

/* AWS_ENDPOINT_URL_<ID>, AWS_ENDPOINT_URL, then the config file's services section. */
static sw_status
configured_endpoint(const sw_awscreds_options *opt, const char *env_id, const char *config_id,
                    char *out, size_t cap, bool *ret_found, sw_err *err)
{
    char name[128], key[128];
    snprintf(name, sizeof name, "AWS_ENDPOINT_URL_%s", env_id);
    const char *v = sw_awscreds_env(opt, name);
    if (v == NULL)
        v = sw_awscreds_env(opt, "AWS_ENDPOINT_URL");
    *ret_found = v != NULL;
    if (v != NULL)
        return sw_awscreds_copy(out, cap, v) ? SW_OK
                                             : sw_err_set(err, SW_E_INVAL, "%s is too long", name);
    char services[PROFILE_MAX + 16];
    sw_status st = config_value(opt, "services", services, sizeof services - 9, ret_found, err);
    if (st != SW_OK)
        return st;
    if (*ret_found) {
        sw_awscreds_file *config = NULL;
        st = sw_awscreds_load_optional(opt, "AWS_CONFIG_FILE", "config", &config, err);
        char section[PROFILE_MAX + 32];
        snprintf(section, sizeof section, "services %s", services);
        snprintf(key, sizeof key, "%s.endpoint_url", config_id);
        const char *u = config != NULL ? sw_awscreds_file_get(config, section, key) : NULL;
        *ret_found = u != NULL && u[0] != '\0';
        if (st == SW_OK && *ret_found && !sw_awscreds_copy(out, cap, u))
            st = sw_err_set(err, SW_E_INVAL, "config file [%s]: %s is too long", section, key);
        sw_awscreds_file_free(config);
        if (st != SW_OK || *ret_found)
            return st;
    }
    return config_value(opt, "endpoint_url", out, cap, ret_found, err);
}

sw_status
sw_awscreds_endpoint_url(const sw_awscreds_options *opt, const char *env_id,
                         const char *config_id, const char *host_prefix, const char *region,
                         char *out, size_t cap, sw_err *err)
{
    bool found = false;
    sw_status st = SW_OK;
    if (!sw_awscreds_env_true(opt, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"))
        st = configured_endpoint(opt, env_id, config_id, out, cap, &found, err);
    if (st != SW_OK)
        return st;
    if (found) {
        if (strncmp(out, "http://", 7) != 0 && strncmp(out, "https://", 8) != 0)
            return sw_err_set(err, SW_E_INVAL, "the configured %s endpoint is not an http(s) URL",
                              env_id);
        return SW_OK;
    }
    if (region == NULL || !valid_region(region))
        return sw_err_set(err, SW_E_INVAL, "no valid region to build the %s endpoint from", env_id);
    int n = snprintf(out, cap, "https://%s.%s.amazonaws.com%s", host_prefix, region,
                     strncmp(region, "cn-", 3) == 0 ? ".cn" : "");
    if (n < 0 || (size_t)n >= cap)
        return sw_err_set(err, SW_E_INVAL, "the %s endpoint URL is longer than %zu bytes", env_id,
                          cap);
    return SW_OK;
}
