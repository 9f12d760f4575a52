/*
 * The `report_schedule` section of the configuration: when last month's report is sent (day of
 * the month, hour, the report's time zone), to whom (SMTP mail, a webhook) and how failed
 * deliveries are retried. Checked like every other key (FILE:LINE:COL errors); secrets come from
 * files or the environment, never from the file itself.
 */
#include <stdio.h>
#include <string.h>

#include "config_int.h"
#include "slawatch/report_tz.h"

static const char *const schedule_keys[] = {"day",   "hour",  "time_zone", "services",
                                            "retry", "email", "webhook",   NULL};
static const char *const retry_keys[] = {"min_backoff", "max_backoff", NULL};
static const char *const email_keys[] = {
    "url",           "from",         "to",      "starttls", "username",
    "password_file", "password_env", "ca_file", "timeout",  NULL};
static const char *const webhook_keys[] = {"url", "bearer_token_file", "timeout", NULL};

static void
defaults(sw_config_report_schedule *s)
{
    s->day = 1;
    s->hour = 6;
    s->time_zone = "UTC";
    s->min_backoff_ms = 60000;
    s->max_backoff_ms = 3600000;
    s->mail.starttls = true;
    s->mail.timeout_ms = 60000;
    s->webhook_timeout_ms = 30000;
}

/* local@domain in printable ASCII, nothing a header or an SMTP command could be split at. */
static bool
valid_address(const char *a)
{
    const char *at = strchr(a, '@');
    if (at == NULL || at == a || at[1] == '\0' || strchr(at + 1, '@') != NULL)
        return false;
    for (const unsigned char *p = (const unsigned char *)a; *p != '\0'; p++)
        if (*p <= ' ' || *p >= 127 || strchr("<>()[],;:\\\"", *p) != NULL)
            return false;
    return true;
}

static void
get_address(sw_rules_loader *ld, const sw_yaml_node *v, const char **ret)
{
    if (sw_rules_get_text(ld, v, "a mail address", ret) && !valid_address(*ret))
        sw_rules_error(ld, v, "expected a mail address (user@example.com), found %s",
                       sw_rules_found(v).s);
}

static void
get_recipients(sw_rules_loader *ld, const sw_yaml_node *v, sw_config_report_mail *m)
{
    if (!sw_rules_check_list(ld, v, "mail addresses") || v->kind != SW_YAML_SEQUENCE)
        return;
    if (v->n == 0) {
        sw_rules_error(ld, v, "expected at least one mail address in to");
        return;
    }
    const char **to = sw_rules_alloc(ld, v->n, sizeof *to);
    for (size_t i = 0; to != NULL && i < v->n; i++)
        get_address(ld, v->items[i], &to[m->n_to++]);
    m->to = to;
}

static void
get_file(sw_rules_loader *ld, const sw_yaml_node *v, const char *config_path, const char **ret)
{
    if (sw_rules_get_text(ld, v, "a file path", ret))
        *ret = sw_config_resolve_path(ld, config_path, *ret);
}

static void
get_mail_auth(sw_rules_loader *ld, const sw_yaml_node *node, const char *path,
              sw_config_report_mail *m)
{
    const sw_yaml_node *user = sw_yaml_get(node, "username");
    const sw_yaml_node *file = sw_yaml_get(node, "password_file");
    const sw_yaml_node *env = sw_yaml_get(node, "password_env");
    if (user != NULL)
        sw_rules_get_text(ld, user, "a user name", &m->username);
    if (file != NULL)
        get_file(ld, file, path, &m->password_file);
    if (env != NULL)
        sw_rules_get_name(ld, env, "an environment variable name", &m->password_env);
    if (file != NULL && env != NULL)
        sw_rules_error(ld, env, "expected password_file or password_env, not both");
    else if (user != NULL && file == NULL && env == NULL)
        sw_rules_error(ld, user, "expected password_file or password_env with username");
    else if (user == NULL && (file != NULL || env != NULL))
        sw_rules_error(ld, file != NULL ? file : env, "expected a username with the password");
}

static void
get_mail_url(sw_rules_loader *ld, const sw_yaml_node *v, sw_config_report_mail *m)
{
    if (sw_rules_get_text(ld, v, "an smtp:// or smtps:// URL", &m->url) &&
        strncmp(m->url, "smtp://", 7) != 0 && strncmp(m->url, "smtps://", 8) != 0)
        sw_rules_error(ld, v, "expected an smtp:// or smtps:// URL for email url, found %s",
                       sw_rules_found(v).s);
}

static void
get_email(sw_rules_loader *ld, const sw_yaml_node *node, const char *path, sw_config_report_mail *m)
{
    const sw_yaml_node *v;
    if (!sw_rules_check_map(ld, node, "email", email_keys))
        return;
    if ((v = sw_rules_require(ld, node, "url", "email")) != NULL)
        get_mail_url(ld, v, m);
    if ((v = sw_rules_require(ld, node, "from", "email")) != NULL)
        get_address(ld, v, &m->from);
    if ((v = sw_rules_require(ld, node, "to", "email")) != NULL)
        get_recipients(ld, v, m);
    if ((v = sw_yaml_get(node, "starttls")) != NULL)
        sw_rules_get_bool(ld, v, &m->starttls);
    if ((v = sw_yaml_get(node, "ca_file")) != NULL)
        get_file(ld, v, path, &m->ca_file);
    if ((v = sw_yaml_get(node, "timeout")) != NULL)
        sw_rules_get_duration(ld, v, "timeout", false, &m->timeout_ms);
    get_mail_auth(ld, node, path, m);
}

static void
get_webhook(sw_rules_loader *ld, const sw_yaml_node *node, const char *path,
            sw_config_report_schedule *s)
{
    const sw_yaml_node *v;
    if (!sw_rules_check_map(ld, node, "webhook", webhook_keys))
        return;
    if ((v = sw_rules_require(ld, node, "url", "webhook")) != NULL)
        sw_config_get_url(ld, v, "webhook url", &s->webhook_url);
    if ((v = sw_yaml_get(node, "bearer_token_file")) != NULL)
        get_file(ld, v, path, &s->webhook_bearer_token_file);
    if ((v = sw_yaml_get(node, "timeout")) != NULL)
        sw_rules_get_duration(ld, v, "timeout", false, &s->webhook_timeout_ms);
}

static void
get_retry(sw_rules_loader *ld, const sw_yaml_node *node, sw_config_report_schedule *s)
{
    const sw_yaml_node *v;
    if (!sw_rules_check_map(ld, node, "retry", retry_keys))
        return;
    if ((v = sw_yaml_get(node, "min_backoff")) != NULL)
        sw_rules_get_duration(ld, v, "min_backoff", false, &s->min_backoff_ms);
    if ((v = sw_yaml_get(node, "max_backoff")) != NULL &&
        sw_rules_get_duration(ld, v, "max_backoff", false, &s->max_backoff_ms) &&
        s->max_backoff_ms < s->min_backoff_ms)
        sw_rules_error(ld, v, "expected max_backoff at least min_backoff");
}

static void
get_time_zone(sw_rules_loader *ld, const sw_yaml_node *v, sw_config_report_schedule *s)
{
    sw_report_tz *tz = NULL;
    sw_err err = {0};
    if (!sw_rules_get_text(ld, v, "a time zone name", &s->time_zone))
        return;
    if (sw_report_tz_load(s->time_zone, &tz, &err) != SW_OK)
        sw_rules_error(ld, v, "expected an IANA time zone (e.g. Europe/Berlin), found %s",
                       sw_rules_found(v).s);
    sw_report_tz_free(tz);
}

static void
get_services(sw_rules_loader *ld, const sw_yaml_node *v, sw_config_report_schedule *s)
{
    if (!sw_rules_check_list(ld, v, "service names") || v->kind != SW_YAML_SEQUENCE || v->n == 0)
        return;
    const char **names = sw_rules_alloc(ld, v->n, sizeof *names);
    for (size_t i = 0; names != NULL && i < v->n; i++)
        if (sw_rules_get_name(ld, v->items[i], "a service name", &names[s->n_services]))
            s->n_services++;
    s->services = names;
}

static void
get_when(sw_rules_loader *ld, const sw_yaml_node *node, sw_config_report_schedule *s)
{
    const sw_yaml_node *v;
    int64_t n;
    /* Up to the 28th, so that every month has the day. */
    if ((v = sw_yaml_get(node, "day")) != NULL &&
        sw_rules_get_int(ld, v, "a day of the month from 1 to 28", 1, 28, &n))
        s->day = (int)n;
    if ((v = sw_yaml_get(node, "hour")) != NULL &&
        sw_rules_get_int(ld, v, "an hour from 0 to 23", 0, 23, &n))
        s->hour = (int)n;
    if ((v = sw_yaml_get(node, "time_zone")) != NULL)
        get_time_zone(ld, v, s);
}

void
sw_config_get_report_schedule(sw_rules_loader *ld, const sw_yaml_node *node, sw_config *c)
{
    sw_config_report_schedule *s = &c->report_schedule;
    const sw_yaml_node *v, *email, *hook;
    defaults(s);
    if (!sw_rules_check_map(ld, node, "report_schedule", schedule_keys))
        return;
    get_when(ld, node, s);
    if ((v = sw_yaml_get(node, "services")) != NULL)
        get_services(ld, v, s);
    if ((v = sw_yaml_get(node, "retry")) != NULL)
        get_retry(ld, v, s);
    if ((email = sw_yaml_get(node, "email")) != NULL)
        get_email(ld, email, c->path, &s->mail);
    if ((hook = sw_yaml_get(node, "webhook")) != NULL)
        get_webhook(ld, hook, c->path, s);
    if (email == NULL && hook == NULL)
        sw_rules_error(ld, node, "expected email or webhook (or both) in report_schedule");
    s->enabled = true;
}
