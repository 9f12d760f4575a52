/*
 * Writes a store from a plan file that a test generated (tests/report/test_report_story.py), so
 * the test computes what the report must say from the same raw data it handed over. One record
 * a line, fields separated by tabs:
 *   r  RULES_AT_MS                                 (the rules file is recorded then)
 *   m  START_MS ENV REQUESTS ERRORS LATENCY_US N   (a 1-minute row; N latency values)
 *   d  AT_MS ENV WHO OVERRIDE                      (a deployment mark; "-" for none)
 *   g  AT_MS ENV VERDICT REASON                    (a gate answer, audited)
 *   e  AT_MS KIND NAME ENV STATE                   (an alert or trigger state change)
 *   u  NOW_MS                                      (roll up as the daemon would by then)
 * ENV "-" means none.
 * usage: store_from_plan DIR RULES_FILE PLAN_FILE
 */
#include "slawatch/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FIELDS 8
#define BATCH 2048

static void
die(const char *what, const sw_err *err)
{
    fprintf(stderr, "store_from_plan: %s%s%s\n", what, err ? ": " : "", err ? err->msg : "");
    exit(2);
}

static const char *
opt(const char *s)
{
    return strcmp(s, "-") == 0 ? NULL : s;
}

typedef struct minutes {
    sw_sli_interval iv[BATCH];
    sw_store_row rows[BATCH];
    char env[BATCH][32];
    size_t n;
} minutes;

static void
flush(sw_store *st, minutes *m)
{
    sw_err err;
    if (m->n > 0 && sw_store_import(st, SW_STORE_1M_MS, m->rows, m->n, &err) != SW_OK)
        die("import", &err);
    for (size_t i = 0; i < m->n; i++)
        sw_sli_interval_fini(&m->iv[i]);
    m->n = 0;
}

static void
add_minute(sw_store *st, minutes *m, char **f)
{
    if (m->n == BATCH)
        flush(st, m);
    sw_sli_interval *iv = &m->iv[m->n];
    *iv = (sw_sli_interval){.start_ms = atoll(f[1]),
                            .length_ms = SW_STORE_1M_MS,
                            .requests = strtoull(f[3], NULL, 10),
                            .errors = strtoull(f[4], NULL, 10),
                            .has_data = true};
    if (sw_hdr_new(&sw_hdr_latency_config, &iv->latency, NULL) != SW_OK)
        die("histogram", NULL);
    sw_hdr_record_n(iv->latency, atoll(f[5]), atoll(f[6]));
    snprintf(m->env[m->n], sizeof m->env[m->n], "%s", f[2]);
    m->rows[m->n] = (sw_store_row){"shop", opt(m->env[m->n]), iv};
    m->n++;
}

static void
record(sw_store *st, char **f, size_t n, const char *rules, size_t rules_len)
{
    sw_err err;
    sw_status rc = SW_OK;
    if (f[0][0] == 'r' && n == 2) {
        rc = sw_store_put_rules(st, atoll(f[1]), rules, rules_len, &err);
    } else if (f[0][0] == 'd' && n == 5) {
        rc = sw_store_put_deployment(st, "shop", opt(f[2]), atoll(f[1]), f[3], opt(f[4]), &err);
    } else if (f[0][0] == 'g' && n == 5) {
        char json[512];
        snprintf(json, sizeof json, "{\"verdict\":\"%s\",\"reason\":\"%s\"}", f[3], f[4]);
        sw_store_gate_audit a = {atoll(f[1]), "pipeline", "shop", opt(f[2]), 600000, f[3], json};
        rc = sw_store_put_gate_audit(st, &a, &err);
    } else if (f[0][0] == 'e' && n == 6) {
        sw_store_event e = {f[2], f[3], "shop", opt(f[4]), f[5], atoll(f[1]), 0.5};
        rc = sw_store_put_event(st, &e, &err);
    } else if (f[0][0] == 'u' && n == 2) {
        rc = sw_store_rollup(st, atoll(f[1]), &err);
    } else {
        die("bad plan line", NULL);
    }
    if (rc != SW_OK)
        die(f[0], &err);
}

static char *
slurp(const char *path, size_t *ret_len)
{
    FILE *f = fopen(path, "rb");
    static char text[1 << 16];
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    if (f == NULL || n == 0)
        die("cannot read the rules", NULL);
    fclose(f);
    *ret_len = n;
    return text;
}

int
main(int argc, char **argv)
{
    if (argc != 4)
        die("usage: store_from_plan DIR RULES_FILE PLAN_FILE", NULL);
    sw_err err;
    sw_store *st = NULL;
    sw_store_options o = {.retention_1m_ms = 400 * 86400000LL};
    if (sw_store_open(argv[1], &o, &st, &err) != SW_OK)
        die("open", &err);
    size_t rules_len;
    const char *rules = slurp(argv[2], &rules_len);
    FILE *plan = fopen(argv[3], "r");
    if (plan == NULL)
        die("cannot read the plan", NULL);
    static minutes m;
    char line[1024];
    while (fgets(line, sizeof line, plan) != NULL) {
        char *f[MAX_FIELDS] = {0};
        size_t n = 0;
        line[strcspn(line, "\n")] = '\0';
        for (char *p = strtok(line, "\t"); p != NULL && n < MAX_FIELDS; p = strtok(NULL, "\t"))
            f[n++] = p;
        if (n == 0)
            continue;
        if (n == 7 && f[0][0] == 'm') {
            add_minute(st, &m, f);
            continue;
        }
        flush(st, &m);
        record(st, f, n, rules, rules_len);
    }
    flush(st, &m);
    fclose(plan);
    sw_store_close(st);
    return 0;
}
