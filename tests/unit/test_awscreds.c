/*
 * Tests for collector/awscreds and awscreds_file: the INI rules of the AWS shared files, the
 * chain's order between environment and files, profiles, region and endpoint resolution,
 * and that no error message carries a secret. The environment is a table passed through the
 * getenv callback and IMDS is always disabled, so nothing outside the test is read or called.
 * The network sources (ECS, IMDSv2, refresh) run against the stand-in in tests/cloudwatch.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "slawatch/awscreds.h"
#include "slawatch/awscreds_file.h"

#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

typedef struct fake_env {
    const char *pairs[16][2];
    char dir[64];
} fake_env;

static const char *
fake_getenv(void *ctx, const char *name)
{
    fake_env *e = ctx;
    for (size_t i = 0; i < 16 && e->pairs[i][0] != NULL; i++)
        if (strcmp(e->pairs[i][0], name) == 0)
            return e->pairs[i][1];
    return NULL;
}

static void
set(fake_env *e, const char *name, const char *value)
{
    size_t i = 0;
    while (e->pairs[i][0] != NULL && strcmp(e->pairs[i][0], name) != 0)
        i++;
    e->pairs[i][0] = name;
    e->pairs[i][1] = value;
}

static int
setup(void **state)
{
    fake_env *e = test_calloc(1, sizeof *e);
    strcpy(e->dir, "/tmp/sw-awscreds-XXXXXX");
    assert_non_null(mkdtemp(e->dir));
    set(e, "HOME", e->dir);
    set(e, "AWS_EC2_METADATA_DISABLED", "true");
    *state = e;
    return 0;
}

static int
teardown(void **state)
{
    fake_env *e = *state;
    char path[128];
    static const char *const names[] = {"credentials", "config"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/.aws/%s", e->dir, names[i]);
        unlink(path);
    }
    snprintf(path, sizeof path, "%s/.aws", e->dir);
    rmdir(path);
    rmdir(e->dir);
    test_free(e);
    return 0;
}

static void
write_aws_file(const fake_env *e, const char *name, const char *text)
{
    char path[128];
    snprintf(path, sizeof path, "%s/.aws", e->dir);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/.aws/%s", e->dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static sw_awscreds_options
options(fake_env *e)
{
    return (sw_awscreds_options){.getenv = fake_getenv, .getenv_ctx = e};
}

static sw_status
get(fake_env *e, sw_awscreds *c, sw_err *err)
{
    sw_awscreds_options opt = options(e);
    sw_awscreds_provider *p = NULL;
    assert_int_equal(sw_awscreds_provider_new(&opt, &p, NULL), SW_OK);
    sw_status st = sw_awscreds_get(p, c, err);
    sw_awscreds_provider_free(p);
    return st;
}

static void
test_file_syntax(void **state)
{
    (void)state;
    const char *text = "# comment\n; another\n[default]\nAWS_Access_Key_Id = AKID1\n"
                       "aws_secret_access_key=" SECRET "\r\n\n[ profile dev ]\nregion: eu-west-1\n"
                       "endpoint_url = http://127.0.0.1:1/x=y\n[services s]\ncloudwatch =\n"
                       "  endpoint_url = http://127.0.0.1:2\n  # indented comment\n"
                       "[default]\naws_access_key_id = AKID2\n";
    sw_awscreds_file *f = NULL;
    assert_int_equal(sw_awscreds_file_parse(text, strlen(text), "t", &f, NULL), SW_OK);
    assert_string_equal(sw_awscreds_file_get(f, "default", "aws_access_key_id"), "AKID2");
    assert_string_equal(sw_awscreds_file_get(f, "default", "aws_secret_access_key"), SECRET);
    assert_string_equal(sw_awscreds_file_get(f, "profile dev", "region"), "eu-west-1");
    assert_string_equal(sw_awscreds_file_get(f, "profile dev", "endpoint_url"),
                        "http://127.0.0.1:1/x=y");
    assert_string_equal(sw_awscreds_file_get(f, "services s", "cloudwatch.endpoint_url"),
                        "http://127.0.0.1:2");
    assert_string_equal(sw_awscreds_file_get(f, "services s", "cloudwatch"), "");
    assert_null(sw_awscreds_file_get(f, "dev", "region"));
    assert_true(sw_awscreds_file_has_section(f, "services s"));
    assert_int_equal(sw_awscreds_file_count(f), 7);
    sw_awscreds_file_free(f);
}

static void
test_file_errors_name_line_not_text(void **state)
{
    (void)state;
    static const struct {
        const char *text, *want;
    } bad[] = {
        {"aws_secret_access_key = " SECRET "\n", "f:1: key outside any [section]"},
        {"[default]\n" SECRET "\n", "f:2: expected `key = value`"},
        {"[default\nx=1\n", "f:1: section header without a closing ']'"},
        {"[ ]\n", "f:1: empty section name"},
        {"[a]\nk = v\n  " SECRET "\n", "f:3: indented line outside a sub-section"},
        {"[a]\n\n= " SECRET "\n", "f:3: empty key"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sw_awscreds_file *f = NULL;
        sw_err err = {0};
        assert_int_equal(sw_awscreds_file_parse(bad[i].text, strlen(bad[i].text), "f", &f, &err),
                         SW_E_PARSE);
        assert_null(f);
        if (strncmp(err.msg, bad[i].want, strlen(bad[i].want)) != 0)
            fail_msg("case %zu: got \"%s\"", i, err.msg);
        assert_null(strstr(err.msg, SECRET));
    }
    sw_awscreds_file *f = NULL;
    assert_int_equal(sw_awscreds_file_parse("[a]\nk=\0v", 8, "f", &f, NULL), SW_E_PARSE);
}

static void
test_env_first(void **state)
{
    fake_env *e = *state;
    write_aws_file(e, "credentials", "[default]\naws_access_key_id=FILEKEY\n"
                                     "aws_secret_access_key=filesecret\n");
    sw_awscreds c;
    assert_int_equal(get(e, &c, NULL), SW_OK);
    assert_string_equal(c.source, "shared-credentials-file");
    assert_string_equal(c.access_key_id, "FILEKEY");
    set(e, "AWS_ACCESS_KEY_ID", "ENVKEY");
    set(e, "AWS_SECRET_ACCESS_KEY", SECRET);
    set(e, "AWS_SESSION_TOKEN", "envtoken");
    assert_int_equal(get(e, &c, NULL), SW_OK);
    assert_string_equal(c.source, "env");
    assert_string_equal(c.access_key_id, "ENVKEY");
    assert_string_equal(c.secret_access_key, SECRET);
    assert_string_equal(c.session_token, "envtoken");
    assert_int_equal(c.expires_unix_s, 0);
    set(e, "AWS_SECRET_ACCESS_KEY", "");
    sw_err err = {0};
    assert_int_equal(get(e, &c, &err), SW_E_INVAL);
    assert_non_null(strstr(err.msg, "AWS_SECRET_ACCESS_KEY"));
}

static void
test_profiles_and_config(void **state)
{
    fake_env *e = *state;
    write_aws_file(e, "credentials", "[default]\naws_access_key_id=DEFAULTKEY\n"
                                     "aws_secret_access_key=s\n");
    write_aws_file(e, "config", "[default]\nregion=us-west-2\n[profile ops]\n"
                                "aws_access_key_id=OPSKEY\naws_secret_access_key=" SECRET "\n"
                                "aws_session_token=opstoken\nregion=eu-central-1\n");
    set(e, "AWS_PROFILE", "ops");
    sw_awscreds c;
    assert_int_equal(get(e, &c, NULL), SW_OK);
    assert_string_equal(c.source, "config-file");
    assert_string_equal(c.access_key_id, "OPSKEY");
    assert_string_equal(c.session_token, "opstoken");
    sw_awscreds_options opt = options(e);
    char region[SW_AWSCREDS_REGION_MAX];
    assert_int_equal(sw_awscreds_region(&opt, region, sizeof region, NULL), SW_OK);
    assert_string_equal(region, "eu-central-1");
    set(e, "AWS_DEFAULT_REGION", "ap-south-1");
    assert_int_equal(sw_awscreds_region(&opt, region, sizeof region, NULL), SW_OK);
    assert_string_equal(region, "ap-south-1");
    set(e, "AWS_REGION", "sa-east-1");
    assert_int_equal(sw_awscreds_region(&opt, region, sizeof region, NULL), SW_OK);
    assert_string_equal(region, "sa-east-1");
    opt.profile = "missing";
    set(e, "AWS_REGION", "");
    set(e, "AWS_DEFAULT_REGION", "");
    sw_err err = {0};
    assert_int_equal(sw_awscreds_region(&opt, region, sizeof region, &err), SW_E_INVAL);
    set(e, "AWS_PROFILE", "missing");
    assert_int_equal(get(e, &c, &err), SW_E_INVAL);
    assert_non_null(strstr(err.msg, "no AWS credentials"));
    assert_non_null(strstr(err.msg, "profile missing"));
}

static void
test_endpoint_url(void **state)
{
    fake_env *e = *state;
    sw_awscreds_options opt = options(e);
    char url[256];
    assert_int_equal(sw_awscreds_endpoint_url(&opt, "CLOUDWATCH", "cloudwatch", "monitoring",
                                              "eu-west-1", url, sizeof url, NULL),
                     SW_OK);
    assert_string_equal(url, "https://monitoring.eu-west-1.amazonaws.com");
    assert_int_equal(sw_awscreds_endpoint_url(&opt, "CLOUDWATCH", "cloudwatch", "monitoring",
                                              "cn-north-1", url, sizeof url, NULL),
                     SW_OK);
    assert_string_equal(url, "https://monitoring.cn-north-1.amazonaws.com.cn");
    write_aws_file(e, "config", "[default]\nendpoint_url = http://127.0.0.1:3\nservices = local\n"
                                "[services local]\ncloudwatch =\n  endpoint_url = http://127.0.0.1:4\n");
    assert_int_equal(sw_awscreds_endpoint_url(&opt, "CLOUDWATCH", "cloudwatch", "monitoring",
                                              "eu-west-1", url, sizeof url, NULL),
                     SW_OK);
    assert_string_equal(url, "http://127.0.0.1:4");
    assert_int_equal(sw_awscreds_endpoint_url(&opt, "STS", "sts", "sts", "eu-west-1", url,
                                              sizeof url, NULL),
                     SW_OK);
    assert_string_equal(url, "http://127.0.0.1:3");
    set(e, "AWS_ENDPOINT_URL", "http://127.0.0.1:5");
    assert_int_equal(sw_awscreds_endpoint_url(&opt, "CLOUDWATCH", "cloudwatch", "monitoring",
                                              "eu-west-1", url, sizeof url, NULL),
                     SW_OK);
    assert_string_equal(url, "http://127.0.0.1:5");
    set(e, "AWS_ENDPOINT_URL_CLOUDWATCH", "http://127.0.0.1:6");
    assert_int_equal(sw_awscreds_endpoint_url(&opt, "CLOUDWATCH", "cloudwatch", "monitoring",
                                              "eu-west-1", url, sizeof url, NULL),
                     SW_OK);
    assert_string_equal(url, "http://127.0.0.1:6");
    set(e, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "TRUE");
    assert_int_equal(sw_awscreds_endpoint_url(&opt, "CLOUDWATCH", "cloudwatch", "monitoring",
                                              "eu-west-1", url, sizeof url, NULL),
                     SW_OK);
    assert_string_equal(url, "https://monitoring.eu-west-1.amazonaws.com");
    set(e, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "");
    set(e, "AWS_ENDPOINT_URL_CLOUDWATCH", "ftp://x");
    assert_int_equal(sw_awscreds_endpoint_url(&opt, "CLOUDWATCH", "cloudwatch", "monitoring",
                                              "eu-west-1", url, sizeof url, NULL),
                     SW_E_INVAL);
}

/* Static credentials never expire, so repeated gets serve the cache without re-reading. */
static void
test_cache_and_invalidate(void **state)
{
    fake_env *e = *state;
    set(e, "AWS_ACCESS_KEY_ID", "FIRSTKEY");
    set(e, "AWS_SECRET_ACCESS_KEY", SECRET);
    sw_awscreds_options opt = options(e);
    sw_awscreds_provider *p = NULL;
    assert_int_equal(sw_awscreds_provider_new(&opt, &p, NULL), SW_OK);
    sw_awscreds c;
    assert_int_equal(sw_awscreds_get(p, &c, NULL), SW_OK);
    set(e, "AWS_ACCESS_KEY_ID", "SECONDKEY");
    assert_int_equal(sw_awscreds_get(p, &c, NULL), SW_OK);
    assert_string_equal(c.access_key_id, "FIRSTKEY");
    sw_awscreds_invalidate(p);
    assert_int_equal(sw_awscreds_get(p, &c, NULL), SW_OK);
    assert_string_equal(c.access_key_id, "SECONDKEY");
    sw_awscreds_provider_free(p);
    sw_awscreds_provider_free(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_syntax),
        cmocka_unit_test(test_file_errors_name_line_not_text),
        cmocka_unit_test_setup_teardown(test_env_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_profiles_and_config, setup, teardown),
        cmocka_unit_test_setup_teardown(test_endpoint_url, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_and_invalidate, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
