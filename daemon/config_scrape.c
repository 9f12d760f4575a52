/*
 * The scrape_configs section: Prometheus' scrape_config subset documented in
 * docs/configuration.md, validated whole (every error FILE:LINE:COL) and built into the
 * configuration's arena as sw_scrape_job values.
 */
#include <stdlib.h>
#include <string.h>

#include "config_int.h"

#define DEFAULT_INTERVAL_MS 60000
#define DEFAULT_TIMEOUT_MS 10000
#define DEFAULT_SD_REFRESH_MS 300000

static const char *const job_keys[] = {
    "job_name",        "scrape_interval", "scrape_timeout",  "metrics_path", "scheme",
    "body_size_limit", "bearer_token_file", "authorization", "basic_auth",   "tls_config",
    "static_configs",  "file_sd_configs", "relabel_configs", NULL};
static const char *const authorization_keys[] = {"type", "credentials", "credentials_file", NULL};
static const char *const basic_keys[] = {"username", "password", "password_file", NULL};
static const char *const tls_keys[] = {"ca_file", "cert_file", "key_file", "server_name",
                                       "insecure_skip_verify", NULL};
static const char *const static_keys[] = {"targets", "labels", NULL};
static const char *const file_sd_keys[] = {"files", "refresh_interval", NULL};
static const char *const relabel_keys[] = {"source_labels", "separator", "regex", "target_label",
                                           "replacement",   "action",    NULL};

static bool
valid_label_name(const char *s)
{
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
        return false;
    for (s++; *s != '\0'; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return false;
    return true;
}

static bool
get_label_name(sw_rules_loader *ld, const sw_yaml_node *v, const char **ret)
{
    if (!sw_rules_get_text(ld, v, "a label name", ret))
        return false;
    if (valid_label_name(*ret))
        return true;
    sw_rules_error(ld, v, "expected a label name ([a-zA-Z_][a-zA-Z0-9_]*), found %s",
                   sw_rules_found(v).s);
    return false;
}

static void
get_file(sw_rules_loader *ld, const sw_yaml_node *v, const sw_config *c, const char **ret)
{
    if (sw_rules_get_text(ld, v, "a file path", ret))
        *ret = sw_config_resolve_path(ld, c->path, *ret);
}

/* Bytes, or a number with B, KB, MB, GB (powers of 1024, as Prometheus reads them) or KiB... */
static void
get_size(sw_rules_loader *ld, const sw_yaml_node *v, int64_t *ret)
{
    static const struct {
        const char *suffix;
        int64_t mult;
    } units[] = {{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1 << 10},
                 {"MB", 1 << 20},  {"GB", 1 << 30},  {"B", 1},         {"", 1}};
    const char *s = v->kind == SW_YAML_SCALAR ? v->str : "";
    char *end;
    long long n = strtoll(s, &end, 10);
    for (size_t i = 0; v->kind == SW_YAML_SCALAR && end != s && n > 0 && n < (1LL << 40) &&
                       i < sizeof units / sizeof units[0];
         i++)
        if (strcmp(end, units[i].suffix) == 0 && n * units[i].mult <= (INT64_C(1) << 34)) {
            *ret = n * units[i].mult;
            return;
        }
    sw_rules_error(ld, v, "expected a size such as 10MB (at most 16GiB) for body_size_limit, "
                   "found %s", sw_rules_found(v).s);
}

static void
get_authorization(sw_rules_loader *ld, const sw_yaml_node *node, const sw_config *c,
                  sw_scrape_job *j)
{
    const sw_yaml_node *v;
    if (!sw_rules_check_map(ld, node, "authorization", authorization_keys))
        return;
    j->auth_type = "Bearer";
    if ((v = sw_yaml_get(node, "type")) != NULL)
        sw_rules_get_name(ld, v, "the authorization type", &j->auth_type);
    if ((v = sw_yaml_get(node, "credentials")) != NULL)
        sw_rules_get_text(ld, v, "credentials", &j->auth_credentials);
    if ((v = sw_yaml_get(node, "credentials_file")) != NULL)
        get_file(ld, v, c, &j->auth_credentials_file);
    if ((j->auth_credentials == NULL) == (j->auth_credentials_file == NULL))
        sw_rules_error(ld, node, "expected exactly one of credentials and credentials_file");
}

static void
get_basic_auth(sw_rules_loader *ld, const sw_yaml_node *node, const sw_config *c,
               sw_scrape_job *j)
{
    const sw_yaml_node *v;
    if (!sw_rules_check_map(ld, node, "basic_auth", basic_keys))
        return;
    if ((v = sw_rules_require(ld, node, "username", "basic_auth")) != NULL)
        sw_rules_get_text(ld, v, "a user name", &j->basic_username);
    if ((v = sw_yaml_get(node, "password")) != NULL)
        sw_rules_get_text(ld, v, "a password", &j->basic_password);
    if ((v = sw_yaml_get(node, "password_file")) != NULL)
        get_file(ld, v, c, &j->basic_password_file);
    if (j->basic_password != NULL && j->basic_password_file != NULL)
        sw_rules_error(ld, node, "expected at most one of password and password_file");
}

static void
get_tls(sw_rules_loader *ld, const sw_yaml_node *node, const sw_config *c, sw_scrape_tls *t)
{
    const sw_yaml_node *v;
    if (!sw_rules_check_map(ld, node, "tls_config", tls_keys))
        return;
    if ((v = sw_yaml_get(node, "ca_file")) != NULL)
        get_file(ld, v, c, &t->ca_file);
    if ((v = sw_yaml_get(node, "cert_file")) != NULL)
        get_file(ld, v, c, &t->cert_file);
    if ((v = sw_yaml_get(node, "key_file")) != NULL)
        get_file(ld, v, c, &t->key_file);
    if ((v = sw_yaml_get(node, "server_name")) != NULL)
        sw_rules_get_name(ld, v, "server_name", &t->server_name);
    if ((v = sw_yaml_get(node, "insecure_skip_verify")) != NULL)
        sw_rules_get_bool(ld, v, &t->insecure_skip_verify);
    if ((t->cert_file == NULL) != (t->key_file == NULL))
        sw_rules_error(ld, node, "expected both cert_file and key_file or neither");
}

static void
get_labels(sw_rules_loader *ld, const sw_yaml_node *node, sw_target_group *g)
{
    if (sw_yaml_is_null(node))
        return;
    if (node->kind != SW_YAML_MAPPING) {
        sw_rules_error(ld, node, "expected a mapping of labels, found %s", sw_rules_found(node).s);
        return;
    }
    sw_targets_label *ls = sw_rules_alloc(ld, node->n, sizeof *ls);
    for (size_t i = 0; ls != NULL && i < node->n; i++)
        if (get_label_name(ld, node->pairs[i].key, &ls[i].name))
            sw_rules_get_text(ld, node->pairs[i].value, "a label value", &ls[i].value);
    g->labels = ls;
    g->n_labels = ls != NULL ? node->n : 0;
}

static void
get_group(sw_rules_loader *ld, const sw_yaml_node *node, sw_target_group *g)
{
    const sw_yaml_node *v;
    if (!sw_rules_check_map(ld, node, "a static config", static_keys))
        return;
    if ((v = sw_rules_require(ld, node, "targets", "a static config")) != NULL &&
        sw_rules_check_list(ld, v, "targets") && v->kind == SW_YAML_SEQUENCE) {
        const char **ts = sw_rules_alloc(ld, v->n, sizeof *ts);
        for (size_t i = 0; ts != NULL && i < v->n; i++)
            if (sw_rules_get_text(ld, v->items[i], "a host:port target", &ts[i]) &&
                (ts[i][0] == '\0' || strchr(ts[i], '/') != NULL))
                sw_rules_error(ld, v->items[i], "expected host:port without a path, found %s",
                               sw_rules_found(v->items[i]).s);
        g->targets = ts;
        g->n_targets = ts != NULL ? v->n : 0;
    }
    if ((v = sw_yaml_get(node, "labels")) != NULL)
        get_labels(ld, v, g);
}

static void
get_static(sw_rules_loader *ld, const sw_yaml_node *node, sw_scrape_job *j)
{
    if (!sw_rules_check_list(ld, node, "static configs") || node->kind != SW_YAML_SEQUENCE)
        return;
    sw_target_group *gs = sw_rules_alloc(ld, node->n, sizeof *gs);
    for (size_t i = 0; gs != NULL && i < node->n; i++)
        get_group(ld, node->items[i], &gs[i]);
    j->static_groups = gs;
    j->n_static_groups = gs != NULL ? node->n : 0;
}

static void
get_file_sd(sw_rules_loader *ld, const sw_yaml_node *node, const sw_config *c, sw_scrape_job *j)
{
    if (!sw_rules_check_list(ld, node, "file_sd configs") || node->kind != SW_YAML_SEQUENCE)
        return;
    size_t total = 0;
    for (size_t i = 0; i < node->n; i++) {
        const sw_yaml_node *f = sw_yaml_get(node->items[i], "files");
        total += f != NULL && f->kind == SW_YAML_SEQUENCE ? f->n : 0;
    }
    const char **files = sw_rules_alloc(ld, total, sizeof *files);
    for (size_t i = 0; i < node->n; i++) {
        const sw_yaml_node *sd = node->items[i], *v;
        if (!sw_rules_check_map(ld, sd, "a file_sd config", file_sd_keys))
            continue;
        if ((v = sw_yaml_get(sd, "refresh_interval")) != NULL)
            sw_rules_get_duration(ld, v, "refresh_interval", false, &j->sd_refresh_ms);
        if ((v = sw_rules_require(ld, sd, "files", "a file_sd config")) == NULL ||
            !sw_rules_check_list(ld, v, "files") || v->kind != SW_YAML_SEQUENCE)
            continue;
        for (size_t k = 0; files != NULL && k < v->n; k++)
            get_file(ld, v->items[k], c, &files[j->n_sd_files++]);
    }
    j->sd_files = files;
}

static void
get_action(sw_rules_loader *ld, const sw_yaml_node *v, sw_relabel_rule *r)
{
    static const char *const names[] = {"replace", "keep", "drop", "labeldrop", "labelkeep"};
    static const sw_relabel_action actions[] = {SW_RELABEL_REPLACE, SW_RELABEL_KEEP,
                                                SW_RELABEL_DROP, SW_RELABEL_LABELDROP,
                                                SW_RELABEL_LABELKEEP};
    for (size_t i = 0; i < 5; i++)
        if (sw_rules_is(v, names[i])) {
            r->action = actions[i];
            return;
        }
    sw_rules_error(ld, v, "expected replace, keep, drop, labeldrop or labelkeep, found %s",
                   sw_rules_found(v).s);
}

static void
get_source_labels(sw_rules_loader *ld, const sw_yaml_node *v, sw_relabel_rule *r)
{
    if (!sw_rules_check_list(ld, v, "source labels") || v->kind != SW_YAML_SEQUENCE)
        return;
    const char **names = sw_rules_alloc(ld, v->n, sizeof *names);
    for (size_t i = 0; names != NULL && i < v->n; i++)
        get_label_name(ld, v->items[i], &names[i]);
    r->source_labels = names;
    r->n_source_labels = names != NULL ? v->n : 0;
}

/* Compile the rule alone, so a regex POSIX refuses is reported at its line. */
static void
check_rule(sw_rules_loader *ld, const sw_yaml_node *node, const sw_relabel_rule *r)
{
    sw_relabel *compiled;
    sw_err err;
    if (sw_relabel_new(r, 1, &compiled, &err) == SW_OK) {
        sw_relabel_free(compiled);
        return;
    }
    const sw_yaml_node *at = sw_yaml_get(node, "regex");
    sw_rules_error(ld, at != NULL ? at : node, "%s", err.msg);
}

static void
get_relabel_rule(sw_rules_loader *ld, const sw_yaml_node *node, sw_relabel_rule *r)
{
    const sw_yaml_node *v;
    if (!sw_rules_check_map(ld, node, "a relabel config", relabel_keys))
        return;
    size_t errors = ld->n_errors;
    if ((v = sw_yaml_get(node, "action")) != NULL)
        get_action(ld, v, r);
    if ((v = sw_yaml_get(node, "source_labels")) != NULL)
        get_source_labels(ld, v, r);
    if ((v = sw_yaml_get(node, "separator")) != NULL)
        sw_rules_get_text(ld, v, "a separator", &r->separator);
    if ((v = sw_yaml_get(node, "regex")) != NULL)
        sw_rules_get_text(ld, v, "a regular expression", &r->regex);
    if ((v = sw_yaml_get(node, "target_label")) != NULL)
        sw_rules_get_text(ld, v, "a label name", &r->target_label);
    if ((v = sw_yaml_get(node, "replacement")) != NULL)
        sw_rules_get_text(ld, v, "a replacement", &r->replacement);
    if (r->action == SW_RELABEL_REPLACE && r->target_label == NULL)
        sw_rules_error(ld, node, "expected target_label in a replace rule");
    else if (ld->n_errors == errors && !ld->nomem)
        check_rule(ld, node, r);
}

static void
get_relabel(sw_rules_loader *ld, const sw_yaml_node *node, sw_scrape_job *j)
{
    if (!sw_rules_check_list(ld, node, "relabel configs") || node->kind != SW_YAML_SEQUENCE)
        return;
    sw_relabel_rule *rs = sw_rules_alloc(ld, node->n, sizeof *rs);
    for (size_t i = 0; rs != NULL && i < node->n; i++)
        get_relabel_rule(ld, node->items[i], &rs[i]);
    j->relabel = rs;
    j->n_relabel = rs != NULL ? node->n : 0;
}

static void
get_scheme(sw_rules_loader *ld, const sw_yaml_node *v, sw_scrape_job *j)
{
    if (sw_rules_is(v, "http") || sw_rules_is(v, "https"))
        j->scheme = sw_rules_is(v, "http") ? "http" : "https";
    else
        sw_rules_error(ld, v, "expected http or https for scheme, found %s", sw_rules_found(v).s);
}

static void
get_auth(sw_rules_loader *ld, const sw_yaml_node *node, const sw_config *c, sw_scrape_job *j)
{
    const sw_yaml_node *v, *authz = sw_yaml_get(node, "authorization");
    if ((v = sw_yaml_get(node, "bearer_token_file")) != NULL) {
        j->auth_type = "Bearer";
        get_file(ld, v, c, &j->auth_credentials_file);
        if (authz != NULL)
            sw_rules_error(ld, v, "expected bearer_token_file or authorization, not both");
    }
    if (authz != NULL)
        get_authorization(ld, authz, c, j);
    if ((v = sw_yaml_get(node, "basic_auth")) != NULL) {
        get_basic_auth(ld, v, c, j);
        if (j->auth_type != NULL)
            sw_rules_error(ld, v, "expected basic_auth or a bearer token, not both");
    }
}

static void
get_timing(sw_rules_loader *ld, const sw_yaml_node *node, sw_scrape_job *j)
{
    const sw_yaml_node *v, *t = sw_yaml_get(node, "scrape_timeout");
    if ((v = sw_yaml_get(node, "scrape_interval")) != NULL)
        sw_rules_get_duration(ld, v, "scrape_interval", false, &j->interval_ms);
    j->timeout_ms = j->interval_ms < DEFAULT_TIMEOUT_MS ? j->interval_ms : DEFAULT_TIMEOUT_MS;
    if (t != NULL && sw_rules_get_duration(ld, t, "scrape_timeout", false, &j->timeout_ms) &&
        j->timeout_ms > j->interval_ms)
        sw_rules_error(ld, t, "expected scrape_timeout at most scrape_interval");
}

static void
get_job(sw_rules_loader *ld, const sw_yaml_node *node, const sw_config *c, sw_scrape_job *j)
{
    const sw_yaml_node *v;
    *j = (sw_scrape_job){.interval_ms = DEFAULT_INTERVAL_MS, .metrics_path = "/metrics",
                         .scheme = "http", .body_size_limit = SW_SCRAPE_DEFAULT_BODY_LIMIT,
                         .sd_refresh_ms = DEFAULT_SD_REFRESH_MS};
    if (!sw_rules_check_map(ld, node, "a scrape config", job_keys))
        return;
    if ((v = sw_rules_require(ld, node, "job_name", "a scrape config")) != NULL)
        sw_rules_get_name(ld, v, "job_name", &j->job_name);
    get_timing(ld, node, j);
    if ((v = sw_yaml_get(node, "metrics_path")) != NULL &&
        sw_rules_get_text(ld, v, "a path", &j->metrics_path) && j->metrics_path[0] != '/')
        sw_rules_error(ld, v, "expected a path starting with /, found %s", sw_rules_found(v).s);
    if ((v = sw_yaml_get(node, "scheme")) != NULL)
        get_scheme(ld, v, j);
    if ((v = sw_yaml_get(node, "body_size_limit")) != NULL)
        get_size(ld, v, &j->body_size_limit);
    get_auth(ld, node, c, j);
    if ((v = sw_yaml_get(node, "tls_config")) != NULL)
        get_tls(ld, v, c, &j->tls);
    if ((v = sw_yaml_get(node, "static_configs")) != NULL)
        get_static(ld, v, j);
    if ((v = sw_yaml_get(node, "file_sd_configs")) != NULL)
        get_file_sd(ld, v, c, j);
    if ((v = sw_yaml_get(node, "relabel_configs")) != NULL)
        get_relabel(ld, v, j);
}

void
sw_config_scrape_compile(sw_rules_loader *ld, const sw_yaml_node *v, sw_config *c)
{
    if (!sw_rules_check_list(ld, v, "scrape configs") || v->kind != SW_YAML_SEQUENCE)
        return;
    sw_scrape_job *jobs = sw_rules_alloc(ld, v->n, sizeof *jobs);
    for (size_t i = 0; jobs != NULL && i < v->n; i++) {
        get_job(ld, v->items[i], c, &jobs[i]);
        for (size_t k = 0; k < i && jobs[i].job_name != NULL; k++)
            if (jobs[k].job_name != NULL && strcmp(jobs[k].job_name, jobs[i].job_name) == 0)
                sw_rules_error(ld, sw_yaml_get(v->items[i], "job_name"),
                               "expected a unique job_name, found %s again",
                               sw_rules_show(jobs[i].job_name, strlen(jobs[i].job_name)).s);
    }
    c->scrape_jobs = jobs;
    c->n_scrape_jobs = jobs != NULL ? v->n : 0;
}
