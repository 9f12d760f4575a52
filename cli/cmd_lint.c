/*
 * slawatch lint-metrics: check a Prometheus exposition (text 0.0.4 or OpenMetrics) the way
 * promtool's `check metrics` does: parse errors first, then naming-convention warnings.
 */
#include "cli.h"

#include "slawatch/buf.h"
#include "slawatch/promlint.h"
#include "slawatch/promtext.h"

#include <getopt.h>
#include <stdbool.h>
#include <string.h>

#define LINT_INPUT_MAX ((size_t)256 << 20)

typedef struct lint_opts {
    sw_promtext_format fmt;
    bool strict;
    const char *path; /* NULL for stdin */
} lint_opts;

typedef struct lint_report {
    const char *name;
    size_t warnings;
} lint_report;

static void
lint_usage(FILE *f)
{
    fprintf(f, "usage: slawatch lint-metrics [--format text|openmetrics] [--strict] [FILE]\n\n"
               "Check a Prometheus exposition read from FILE (standard input when absent).\n"
               "Parse errors are printed as NAME:LINE:COL: error: MESSAGE (exit 1); naming\n"
               "lints as NAME:LINE:COL: warning: MESSAGE (exit 0 unless --strict).\n\n"
               "  --format F  text (0.0.4, the default) or openmetrics (1.0)\n"
               "  --strict    warnings make the exit status 1\n"
               "  -h, --help, --version\n");
}

static int
parse_opts(int argc, char **argv, lint_opts *o)
{
    static const struct option longopts[] = {
        {"format", required_argument, NULL, 'f'}, {"strict", no_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},         {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (strcmp(optarg, "text") == 0) {
                o->fmt = SW_PROMTEXT_TEXT;
            } else if (strcmp(optarg, "openmetrics") == 0) {
                o->fmt = SW_PROMTEXT_OPENMETRICS;
            } else {
                fprintf(stderr, "slawatch lint-metrics: unknown format '%s'\n", optarg);
                return SW_EXIT_USAGE;
            }
            break;
        case 's': o->strict = true; break;
        case 'h': lint_usage(stdout); return -1;
        case 'V': sw_cli_version(stdout); return -1;
        default: lint_usage(stderr); return SW_EXIT_USAGE;
        }
    }
    if (argc - optind > 1) {
        lint_usage(stderr);
        return SW_EXIT_USAGE;
    }
    o->path = optind < argc ? argv[optind] : NULL;
    return SW_EXIT_OK;
}

static sw_status
read_input(FILE *f, sw_buf *b, sw_err *err)
{
    char chunk[1 << 16];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        sw_status st = sw_buf_append(b, chunk, n, err);
        if (st != SW_OK)
            return st;
    }
    return ferror(f) ? sw_err_sys(err, SW_E_IO, "read") : SW_OK;
}

static sw_status
ignore_sample(void *ctx, const sw_prom_sample *s, sw_err *err)
{
    (void)ctx;
    (void)s;
    (void)err;
    return SW_OK;
}

static void
print_warning(void *ctx, const sw_promlint_warning *w)
{
    lint_report *r = ctx;
    fprintf(stderr, "%s:%u:%u: warning: %.*s: %s\n", r->name, w->line, w->col, (int)w->family_len,
           w->family, w->message);
    r->warnings++;
}

static int
lint(const lint_opts *o, const sw_buf *in, const char *name)
{
    const char *text = in->data ? (const char *)in->data : "";
    sw_prom_sink sink = {.sample = ignore_sample};
    sw_promtext_pos where = {0};
    sw_err err = {0};
    if (sw_promtext_parse(text, in->len, o->fmt, &sink, &where, &err) != SW_OK) {
        fprintf(stderr, "%s:%u:%u: error: %s\n", name, where.line, where.col, err.msg);
        return SW_EXIT_INPUT;
    }
    lint_report r = {.name = name};
    if (sw_promlint_check(text, in->len, o->fmt, print_warning, &r, &err) != SW_OK) {
        fprintf(stderr, "%s: error: %s\n", name, err.msg);
        return SW_EXIT_INPUT;
    }
    return o->strict && r.warnings ? SW_EXIT_INPUT : SW_EXIT_OK;
}

int
sw_cli_lint_metrics(int argc, char **argv)
{
    lint_opts o = {.fmt = SW_PROMTEXT_TEXT};
    int rc = parse_opts(argc, argv, &o);
    if (rc != SW_EXIT_OK)
        return rc < 0 ? SW_EXIT_OK : rc;
    FILE *f = o.path ? fopen(o.path, "rb") : stdin;
    if (!f) {
        fprintf(stderr, "slawatch lint-metrics: cannot open %s\n", o.path);
        return SW_EXIT_USAGE;
    }
    sw_buf in;
    sw_buf_init(&in, LINT_INPUT_MAX);
    sw_err err = {0};
    sw_status st = read_input(f, &in, &err);
    if (o.path)
        fclose(f);
    if (st != SW_OK) {
        fprintf(stderr, "slawatch lint-metrics: %s: %s\n", o.path ? o.path : "<stdin>", err.msg);
        sw_buf_fini(&in);
        return SW_EXIT_USAGE;
    }
    rc = lint(&o, &in, o.path ? o.path : "<stdin>");
    sw_buf_fini(&in);
    return rc;
}
