/*
 * The `remote_write` section of the configuration: a list of receivers, each with its URL,
 * auth, extra headers, external labels and queue settings (Prometheus' queue_config names),
 * checked like every other key (FILE:LINE:COL errors). Lives in the config's arena.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config_int.h"

static const char *const rw_keys[] = {
    "url",        "name", "timeout", "headers", "external_labels", "bearer_token_file",
    "basic_auth", "tls",  "queue",   NULL};
static const char *const basic_keys[] = {"username", "password_file", NULL};
static const char *const tls_keys[] = {"ca_file", NULL};
static const char *const queue_keys[] = {
    "capacity",    "max_samples_per_send", "batch_send_deadline",
    "min_backoff", "max_backoff",          "flush_deadline",
    NULL};
/* Headers the sender sets itself; the receiver must see them as the protocol says. */
static const char *const reserved_headers[] = {"Content-Encoding",
                                               "Content-Type",
                                               "Content-Length",
                                               "User-Agent",
                                               "X-Prometheus-Remote-Write-Version",
                                               "Authorization",
                                               "Host",
                                               NULL};
/* Labels every series carries already. */
static const char *const reserved_labels[] = {"__name__", "service", "env", NULL};

static void
defaults(sw_config_remote_write *rw)
{
    rw->timeout_ms = 30000;
    rw->capacity = 10000;
    rw->max_samples_per_send = 2000;
    rw->batch_send_deadline_ms = 5000;
    rw->min_backoff_ms = 30;
    rw->max_backoff_ms = 5000;
    rw->flush_deadline_ms = 5000;
}

static bool
in_list(const char *const *list, const char *s, bool ignore_case)
{
    for (size_t i = 0; list[i] != NULL; i++)
        if ((ignore_case ? strcasecmp(list[i], s) : strcmp(list[i], s)) == 0)
            return true;
    return false;
}

/* An HTTP token (RFC 9110): the characters a header name may hold. */
static bool
valid_header_name(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s != '\0'; s++)
        if (*s <= ' ' || *s >= 127 || strchr("()<>@,;:\\\"/[]?={}", *s) != NULL)
            return false;
    return true;
}

static bool
valid_label_name(const char *s)
{
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_') ||
        strncmp(s, "__", 2) == 0)
        return false;
    for (s++; *s != '\0'; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return false;
    return true;
}

/* A mapping of names the user chooses; false (after an error) when node is something else. */
static bool
check_free_map(sw_rules_loader *ld, const sw_yaml_node *node, const char *what)
{
    if (node->kind == SW_YAML_MAPPING)
        return true;
    sw_rules_error(ld, node, "expected a mapping for %s, found %s", what, sw_rules_found(node).s);
    return false;
}

static void
get_headers(sw_rules_loader *ld, const sw_yaml_node *node, sw_config_remote_write *rw)
{
    if (!check_free_map(ld, node, "headers") || node->n == 0)
        return;
    const char **lines = sw_rules_alloc(ld, node->n, sizeof *lines);
    for (size_t i = 0; lines != NULL && i < node->n; i++) {
        const sw_yaml_node *k = node->pairs[i].key;
        const char *value;
        if (!valid_header_name(k->str) || in_list(reserved_headers, k->str, true)) {
            sw_rules_error(ld, k,
                           "expected a header name other than the ones remote write sets, "
                           "found %s",
                           sw_rules_found(k).s);
            continue;
        }
        if (!sw_rules_get_text(ld, node->pairs[i].value, "a header value", &value))
            continue;
        if (strpbrk(value, "\r\n") != NULL) {
            sw_rules_error(ld, node->pairs[i].value, "a header value cannot span lines");
            continue;
        }
        size_t n = strlen(k->str) + strlen(value) + 3;
        char *line = sw_rules_alloc(ld, n, 1);
        if (line != NULL)
            snprintf(line, n, "%s: %s", k->str, value);
        lines[rw->n_headers++] = line;
    }
    rw->headers = lines;
}

static void
get_external_labels(sw_rules_loader *ld, const sw_yaml_node *node, sw_config_remote_write *rw)
{
    if (!check_free_map(ld, node, "external_labels") || node->n == 0)
        return;
    const char **pairs = sw_rules_alloc(ld, 2 * node->n, sizeof *pairs);
    for (size_t i = 0; pairs != NULL && i < node->n; i++) {
        const sw_yaml_node *k = node->pairs[i].key;
        if (!valid_label_name(k->str) || in_list(reserved_labels, k->str, false)) {
            sw_rules_error(ld, k, "expected a label name other than service and env, found %s",
                           sw_rules_found(k).s);
            continue;
        }
        if (!sw_rules_get_text(ld, node->pairs[i].value, "a label value",
                               &pairs[2 * rw->n_external_labels + 1]))
            continue;
        pairs[2 * rw->n_external_labels++] = sw_rules_strdup(ld, k->str, k->len);
    }
    rw->external_labels = pairs;
}

static void
get_file(sw_rules_loader *ld, const sw_yaml_node *v, const char *config_path, const char **ret)
{
    if (sw_rules_get_text(ld, v, "a file path", ret))
        *ret = sw_config_resolve_path(ld, config_path, *ret);
}

static void
get_auth(sw_rules_loader *ld, const sw_yaml_node *entry, const char *path,
         sw_config_remote_write *rw)
{
    const sw_yaml_node *v, *basic = sw_yaml_get(entry, "basic_auth");
    if ((v = sw_yaml_get(entry, "bearer_token_file")) != NULL)
        get_file(ld, v, path, &rw->bearer_token_file);
    if (basic == NULL || !sw_rules_check_map(ld, basic, "basic_auth", basic_keys))
        return;
    if (v != NULL)
        sw_rules_error(ld, basic, "expected bearer_token_file or basic_auth, not both");
    if ((v = sw_rules_require(ld, basic, "username", "basic_auth")) != NULL)
        sw_rules_get_text(ld, v, "a user name", &rw->basic_user);
    if ((v = sw_rules_require(ld, basic, "password_file", "basic_auth")) != NULL)
        get_file(ld, v, path, &rw->basic_password_file);
}

static void
get_queue(sw_rules_loader *ld, const sw_yaml_node *node, sw_config_remote_write *rw)
{
    const sw_yaml_node *v;
    if (!sw_rules_check_map(ld, node, "queue", queue_keys))
        return;
    if ((v = sw_yaml_get(node, "capacity")) != NULL)
        sw_rules_get_int(ld, v, "a sample count from 1 to 100000000", 1, 100000000, &rw->capacity);
    if ((v = sw_yaml_get(node, "max_samples_per_send")) != NULL)
        sw_rules_get_int(ld, v, "a sample count from 1 to 100000", 1, 100000,
                         &rw->max_samples_per_send);
    if ((v = sw_yaml_get(node, "batch_send_deadline")) != NULL)
        sw_rules_get_duration(ld, v, "batch_send_deadline", false, &rw->batch_send_deadline_ms);
    if ((v = sw_yaml_get(node, "min_backoff")) != NULL)
        sw_rules_get_duration(ld, v, "min_backoff", false, &rw->min_backoff_ms);
    if ((v = sw_yaml_get(node, "max_backoff")) != NULL &&
        sw_rules_get_duration(ld, v, "max_backoff", false, &rw->max_backoff_ms) &&
        rw->max_backoff_ms < rw->min_backoff_ms)
        sw_rules_error(ld, v, "expected max_backoff at least min_backoff");
    if ((v = sw_yaml_get(node, "flush_deadline")) != NULL)
        sw_rules_get_duration(ld, v, "flush_deadline", true, &rw->flush_deadline_ms);
}

static void
get_entry(sw_rules_loader *ld, const sw_yaml_node *node, const char *path,
          sw_config_remote_write *rw)
{
    const sw_yaml_node *v;
    defaults(rw);
    if (!sw_rules_check_map(ld, node, "remote_write entry", rw_keys))
        return;
    if ((v = sw_rules_require(ld, node, "url", "remote_write entry")) != NULL)
        sw_config_get_url(ld, v, "remote_write url", &rw->url);
    if ((v = sw_yaml_get(node, "name")) != NULL)
        sw_rules_get_text(ld, v, "a name", &rw->name);
    if ((v = sw_yaml_get(node, "timeout")) != NULL)
        sw_rules_get_duration(ld, v, "timeout", false, &rw->timeout_ms);
    if ((v = sw_yaml_get(node, "headers")) != NULL)
        get_headers(ld, v, rw);
    if ((v = sw_yaml_get(node, "external_labels")) != NULL)
        get_external_labels(ld, v, rw);
    get_auth(ld, node, path, rw);
    if ((v = sw_yaml_get(node, "tls")) != NULL && sw_rules_check_map(ld, v, "tls", tls_keys) &&
        (v = sw_rules_require(ld, v, "ca_file", "tls")) != NULL)
        get_file(ld, v, path, &rw->ca_file);
    if ((v = sw_yaml_get(node, "queue")) != NULL)
        get_queue(ld, v, rw);
}

void
sw_config_get_remote_writes(sw_rules_loader *ld, const sw_yaml_node *v, sw_config *c)
{
    if (!sw_rules_check_list(ld, v, "remote_write entries") || v->kind != SW_YAML_SEQUENCE ||
        v->n == 0)
        return;
    sw_config_remote_write *rws = sw_rules_alloc(ld, v->n, sizeof *rws);
    if (rws == NULL)
        return;
    for (size_t i = 0; i < v->n; i++)
        get_entry(ld, v->items[i], c->path, &rws[i]);
    c->remote_writes = rws;
    c->n_remote_writes = v->n;
}
