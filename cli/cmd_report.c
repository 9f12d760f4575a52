/*
 * slawatch report: the monthly SLA report of a store, in HTML, Markdown, JSON or CSV, to a file
 * or standard output. Reads the store only (a running daemon may keep writing to it).
 */
#include "cli.h"

#include "slawatch/config.h"
#include "slawatch/report.h"
#include "slawatch/report_pdf.h"
#include "slawatch/report_tz.h"
#include "slawatch/store.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_SERVICES 256
#define REPORT_MAX_BYTES ((size_t)1 << 30)

typedef struct report_opts {
    const char *month, *tz, *out, *data, *config, *rules;
    sw_report_format format;
    bool pdf;          /* the HTML printed to PDF by headless Chromium */
    int pdf_timeout_s; /* Chromium's time to print it */
    const char *services[MAX_SERVICES];
    size_t n_services;
} report_opts;

static void
report_usage(FILE *f)
{
    fprintf(f,
            "usage: slawatch report [--month YYYY-MM] (--data DIR | --config FILE) [--service S]...\n"
            "                       [--format html|md|json|csv|pdf] [-o FILE] [--tz ZONE] "
            "[--rules FILE]\n"
            "                       [--pdf-timeout SECONDS]\n\n"
            "The SLA report of a calendar month from the store: each commitment met or missed,\n"
            "by how much, downtime, error budget, worst periods, alerts and maintenance.\n\n"
            "  --month YYYY-MM  the calendar month (in --tz); default the last complete one\n"
            "  --data DIR       the store's data directory\n"
            "  --config FILE    take the data directory from the daemon's configuration\n"
            "  --service S      only this service (repeatable; default every service)\n"
            "  --format F       html (default), md, json, csv (one row per service and day)\n"
            "                   or pdf (the HTML printed by headless Chromium, if installed)\n"
            "  --pdf-timeout S  Chromium's time to print the PDF (default 300)\n"
            "  -o FILE          write to FILE instead of standard output\n"
            "  --tz ZONE        IANA time zone of the month, e.g. Europe/Berlin (default UTC)\n"
            "  --rules FILE     judge by these rules instead of those recorded that month\n"
            "  -h, --help, --version\n");
}

/* --pdf-timeout: whole seconds, 1 to a day. */
static bool
parse_timeout(const char *text, int *ret)
{
    char *end = NULL;
    long v = strtol(text, &end, 10);
    if (end == text || *end != '\0' || v < 1 || v > 86400) {
        fprintf(stderr, "slawatch report: --pdf-timeout '%s' is not 1..86400 seconds\n", text);
        return false;
    }
    *ret = (int)v;
    return true;
}

static int
parse_opts(int argc, char **argv, report_opts *o)
{
    static const struct option longopts[] = {
        {"month", required_argument, NULL, 'm'}, {"service", required_argument, NULL, 's'},
        {"format", required_argument, NULL, 'f'}, {"tz", required_argument, NULL, 'z'},
        {"data", required_argument, NULL, 'd'},   {"config", required_argument, NULL, 'c'},
        {"rules", required_argument, NULL, 'r'},  {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},      {"pdf-timeout", required_argument, NULL, 'T'},
        {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "ho:", longopts, NULL)) != -1) {
        switch (c) {
        case 'm': o->month = optarg; break;
        case 'z': o->tz = optarg; break;
        case 'o': o->out = optarg; break;
        case 'd': o->data = optarg; break;
        case 'c': o->config = optarg; break;
        case 'r': o->rules = optarg; break;
        case 's':
            if (o->n_services == MAX_SERVICES) {
                fprintf(stderr, "slawatch report: more than %d --service\n", MAX_SERVICES);
                return SW_EXIT_USAGE;
            }
            o->services[o->n_services++] = optarg;
            break;
        case 'T':
            if (!parse_timeout(optarg, &o->pdf_timeout_s))
                return SW_EXIT_USAGE;
            break;
        case 'f':
            o->pdf = strcmp(optarg, "pdf") == 0;
            if (!o->pdf && !sw_report_parse_format(optarg, &o->format)) {
                fprintf(stderr,
                        "slawatch report: --format '%s' is not html, md, json, csv or pdf\n",
                        optarg);
                return SW_EXIT_USAGE;
            }
            break;
        case 'h': report_usage(stdout); return -1;
        case 'V': sw_cli_version(stdout); return -1;
        default: report_usage(stderr); return SW_EXIT_USAGE;
        }
    }
    if ((o->data == NULL && o->config == NULL) || optind != argc) {
        fprintf(stderr, "slawatch report: %s\n",
                optind != argc ? "unexpected argument" : "--data DIR or --config FILE is required");
        report_usage(stderr);
        return SW_EXIT_USAGE;
    }
    /* A page of HTML scrolling past is of no use to anyone at a terminal. */
    if (o->out == NULL && (o->pdf || o->format == SW_REPORT_HTML) && isatty(STDOUT_FILENO)) {
        fprintf(stderr, "slawatch report: not writing %s to a terminal: add -o report.%s "
                        "(then open it), or --format md to read it here\n",
                o->pdf ? "PDF" : "HTML", o->pdf ? "pdf" : "html");
        return SW_EXIT_USAGE;
    }
    return SW_EXIT_OK;
}

static int64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Write through a temporary file so a failed run never leaves half a report behind. */
static int
write_out(const char *path, const sw_buf *b)
{
    FILE *f = path ? NULL : stdout;
    char tmp[4096];
    if (path != NULL) {
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        f = fopen(tmp, "wb");
        if (f == NULL) {
            fprintf(stderr, "slawatch report: cannot write %s: %s\n", path, strerror(errno));
            return SW_EXIT_USAGE;
        }
    }
    bool ok = fwrite(b->data, 1, b->len, f) == b->len;
    ok = (path != NULL ? fclose(f) == 0 : fflush(f) == 0) && ok;
    if (ok && path != NULL && rename(tmp, path) != 0)
        ok = false;
    if (!ok) {
        fprintf(stderr, "slawatch report: cannot write %s: %s\n", path ? path : "standard output",
                strerror(errno));
        if (path != NULL)
            remove(tmp);
        return SW_EXIT_USAGE;
    }
    return SW_EXIT_OK;
}

static int
fail(const char *what, const sw_err *err, int code)
{
    fprintf(stderr, "slawatch report: %s%s\n", what, err->msg);
    return code;
}

/* Other rules than those recorded may need an SLI the store never held: refused by name. The
 * month is local to --tz, up to 14 hours either side of the UTC month. */
static int
check_held(sw_store *st, const sw_report_request *req)
{
    const int64_t zone_ms = INT64_C(14) * 3600000;
    struct tm first = {.tm_year = req->year - 1900, .tm_mon = req->month - 1, .tm_mday = 1};
    struct tm next = {
        .tm_year = req->year - 1900 + req->month / 12, .tm_mon = req->month % 12, .tm_mday = 1};
    sw_cli_scope scope = {(int64_t)timegm(&first) * 1000 - zone_ms,
                          (int64_t)timegm(&next) * 1000 + zone_ms, req->services, req->n_services,
                          req->shard};
    sw_cli_held *held = sw_cli_held_new(req->rules);
    sw_err err = {0};
    sw_status s = held != NULL
                      ? sw_cli_held_scan(st, req->rules, scope.from_ms, scope.to_ms, held, &err)
                      : sw_err_set(&err, SW_E_NOMEM, "out of memory");
    int rc = SW_EXIT_OK;
    if (s != SW_OK)
        rc = fail("", &err, SW_EXIT_USAGE);
    else if (sw_cli_held_check(req->rules, held, &scope) > 0)
        rc = SW_EXIT_INPUT;
    free(held);
    return rc;
}

/* The HTML in html printed to PDF, then written like any report. */
static int
print_pdf(const char *path, const sw_buf *html, int timeout_s)
{
    sw_buf pdf;
    sw_err err = {0};
    sw_buf_init(&pdf, REPORT_MAX_BYTES);
    int rc = sw_report_pdf_render((const char *)html->data, html->len, timeout_s, &pdf, &err) ==
                     SW_OK
                 ? write_out(path, &pdf)
                 : fail("", &err, SW_EXIT_USAGE);
    sw_buf_fini(&pdf);
    return rc;
}

static int
build_and_write(sw_store *st, const report_opts *o, sw_report_request *req)
{
    sw_err err = {0};
    sw_rules *rules = NULL;
    if (o->rules != NULL && sw_rules_load_file(o->rules, &rules, NULL, &err) != SW_OK)
        return fail("", &err, SW_EXIT_INPUT);
    req->rules = rules;
    if (rules != NULL) {
        int rc = check_held(st, req);
        if (rc != SW_EXIT_OK) {
            sw_rules_free(rules);
            return rc;
        }
    }
    sw_report *rep = NULL;
    sw_buf out;
    sw_buf_init(&out, REPORT_MAX_BYTES);
    sw_status s = sw_report_build(st, req, &rep, &err);
    int rc = SW_EXIT_OK;
    if (s != SW_OK)
        rc = fail("", &err, s == SW_E_IO || s == SW_E_NOMEM ? SW_EXIT_USAGE : SW_EXIT_INPUT);
    else if (sw_report_write(rep, o->pdf ? SW_REPORT_HTML : o->format, &out, &err) != SW_OK)
        rc = fail("", &err, SW_EXIT_USAGE);
    else if (o->pdf)
        rc = print_pdf(o->out, &out, o->pdf_timeout_s);
    else
        rc = write_out(o->out, &out);
    sw_buf_fini(&out);
    sw_report_free(rep);
    sw_rules_free(rules);
    return rc;
}

/* Without --month: the last month that has ended in the report's zone. */
static sw_status
last_complete_month(sw_report_request *req, sw_err *err)
{
    sw_report_tz *tz = NULL;
    sw_status st = sw_report_tz_load(req->tz, &tz, err);
    if (st != SW_OK)
        return st;
    int day, hour, minute;
    sw_report_tz_local(tz, req->now_ms, &req->year, &req->month, &day, &hour, &minute);
    if (--req->month == 0) {
        req->month = 12;
        req->year--;
    }
    sw_report_tz_free(tz);
    return SW_OK;
}

int
sw_cli_report(int argc, char **argv)
{
    report_opts o = {.format = SW_REPORT_HTML, .pdf_timeout_s = SW_REPORT_PDF_TIMEOUT_S};
    int rc = parse_opts(argc, argv, &o);
    if (rc != SW_EXIT_OK)
        return rc < 0 ? SW_EXIT_OK : rc;
    sw_err err = {0};
    sw_report_request req = {
        .tz = o.tz, .services = o.services, .n_services = o.n_services, .now_ms = now_ms()};
    if (o.month != NULL && sw_report_parse_month(o.month, &req.year, &req.month, &err) != SW_OK)
        return fail("", &err, SW_EXIT_USAGE);
    if (o.month == NULL && last_complete_month(&req, &err) != SW_OK)
        return fail("", &err, SW_EXIT_INPUT); /* an unknown zone, as with --month */
    sw_config *cfg = NULL;
    sw_store *st = NULL;
    rc = sw_cli_open_store("report", o.data, o.config, &cfg, &st);
    if (cfg != NULL)
        req.shard = &cfg->shard;
    if (rc == SW_EXIT_OK)
        rc = build_and_write(st, &o, &req);
    sw_store_close(st);
    sw_config_free(cfg);
    return rc;
}
