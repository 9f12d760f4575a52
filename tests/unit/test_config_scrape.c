/*
 * Unit tests for the scrape_configs section of the daemon configuration: defaults from
 * Prometheus' documentation (1m interval, 10s timeout, /metrics, http), every key read, paths
 * resolved against the file's folder, and errors reported as FILE:LINE:COL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "slawatch/config.h"

static char path[64];

static void
write_config(const char *text)
{
    snprintf(path, sizeof path, "/tmp/sw_cfg_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static const char good[] = "rules_files: [r.yaml]\n"
                           "scrape_configs:\n"
                           "  - job_name: app\n"
                           "    static_configs:\n"
                           "      - targets: ['127.0.0.1:8080']\n"
                           "        labels: {env: blue}\n"
                           "  - job_name: secure\n"
                           "    scrape_interval: 15s\n"
                           "    scrape_timeout: 5s\n"
                           "    metrics_path: /m\n"
                           "    scheme: https\n"
                           "    body_size_limit: 10MB\n"
                           "    bearer_token_file: token\n"
                           "    tls_config: {ca_file: /ca.pem, server_name: app.test}\n"
                           "    file_sd_configs:\n"
                           "      - files: [sd/a.json, /abs/b.yaml]\n"
                           "        refresh_interval: 30s\n"
                           "    relabel_configs:\n"
                           "      - source_labels: [__address__]\n"
                           "        regex: '([^:]+):.*'\n"
                           "        target_label: host\n"
                           "      - action: labeldrop\n"
                           "        regex: tmp_.*\n";

static void
test_good(void **state)
{
    (void)state;
    write_config(good);
    sw_config *c;
    sw_err err;
    sw_status st = sw_config_load(path, &c, NULL, &err);
    unlink(path);
    if (st != SW_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(c->n_scrape_jobs, 2);
    const sw_scrape_job *a = &c->scrape_jobs[0], *b = &c->scrape_jobs[1];
    assert_string_equal(a->job_name, "app");
    assert_int_equal(a->interval_ms, 60000);
    assert_int_equal(a->timeout_ms, 10000);
    assert_string_equal(a->metrics_path, "/metrics");
    assert_string_equal(a->scheme, "http");
    assert_int_equal(a->n_static_groups, 1);
    assert_string_equal(a->static_groups[0].targets[0], "127.0.0.1:8080");
    assert_string_equal(a->static_groups[0].labels[0].name, "env");
    assert_int_equal(b->interval_ms, 15000);
    assert_int_equal(b->timeout_ms, 5000);
    assert_string_equal(b->scheme, "https");
    assert_int_equal(b->body_size_limit, 10 << 20);
    assert_string_equal(b->auth_type, "Bearer");
    assert_string_equal(b->auth_credentials_file, "/tmp/token");
    assert_string_equal(b->tls.server_name, "app.test");
    assert_int_equal(b->n_sd_files, 2);
    assert_string_equal(b->sd_files[0], "/tmp/sd/a.json");
    assert_string_equal(b->sd_files[1], "/abs/b.yaml");
    assert_int_equal(b->sd_refresh_ms, 30000);
    assert_int_equal(b->n_relabel, 2);
    assert_int_equal(b->relabel[1].action, SW_RELABEL_LABELDROP);
    sw_config_free(c);
}

static void
test_errors(void **state)
{
    (void)state;
    struct {
        const char *text, *want;
    } cases[] = {
        {"rules_files: [r.yaml]\nscrape_configs:\n  - job_name: a\n    scrape_interval: 5s\n"
         "    scrape_timeout: 10s\n",
         ":5:21: error: expected scrape_timeout at most scrape_interval"},
        {"rules_files: [r.yaml]\nscrape_configs:\n  - job_name: a\n  - job_name: a\n",
         ":4:15: error: expected a unique job_name"},
        {"rules_files: [r.yaml]\nscrape_configs:\n  - job_name: a\n    relabel_configs:\n"
         "      - {action: keep, regex: '(x'}\n",
         ":5:31: error: relabel rule 0: bad regex (x"},
        {"rules_files: [r.yaml]\nscrape_configs:\n  - job_name: a\n    scheme: ftp\n",
         ":4:13: error: expected http or https for scheme"},
        {"rules_files: [r.yaml]\nscrape_configs:\n  - job_name: a\n    static_configs:\n"
         "      - targets: [host/path]\n",
         ":5:19: error: expected host:port without a path"},
        {"rules_files: [r.yaml]\nscrape_configs:\n  - job_name: a\n    honor_labels: true\n",
         ":4:5: error: unknown key"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_config(cases[i].text);
        sw_config *c;
        sw_err err;
        sw_rules_diag *diag = sw_rules_diag_new();
        assert_int_equal(sw_config_load(path, &c, diag, &err), SW_E_PARSE);
        unlink(path);
        bool found = false;
        for (size_t k = 0; k < sw_rules_diag_count(diag); k++)
            found |= strstr(sw_rules_diag_line(diag, k), cases[i].want) != NULL;
        if (!found)
            fail_msg("case %zu: wanted %s, got %s", i, cases[i].want,
                     sw_rules_diag_count(diag) ? sw_rules_diag_line(diag, 0) : "nothing");
        sw_rules_diag_free(diag);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
