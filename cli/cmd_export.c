/*
 * slawatch export: one service's stored intervals (or one label value's, --label LABEL=VALUE)
 * as an HdrHistogram interval log (--hlog FILE) or as CSV counts (--format csv, standard output
 * or -o FILE). Reads the store only; the output goes through a temporary file renamed at the
 * end, so a failed run leaves nothing behind.
 */
#include "cli.h"

#include "slawatch/config.h"
#include "slawatch/export.h"
#include "slawatch/store.h"
#include "slawatch/units.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct export_opts {
    const char *service, *label, *env, *from, *to, *hlog, *format, *out, *data, *config,
        *resolution;
} export_opts;

static void
export_usage(FILE *f)
{
    fprintf(f,
            "usage: slawatch export --service S [--label L=V] [--env E] --from TIME --to TIME\n"
            "                       (--hlog FILE | --format csv [-o FILE]) (--data DIR | --config "
            "FILE)\n\n"
            "The stored intervals of one service, one line per stored row (the finest resolution\n"
            "the store still holds), starting in [--from, --to) (RFC 3339 times).\n\n"
            "  --hlog FILE      the latency histograms as an HdrHistogram interval log, tagged\n"
            "                   with the environment when there is one\n"
            "  --format csv     the interval counts: start, length, requests, errors, probes\n"
            "  -o FILE          write the CSV to FILE instead of standard output\n"
            "  --label L=V      one value of a service judged per label value (its by label L),\n"
            "                   e.g. --label route=/pay\n"
            "  --env E          only this environment\n"
            "  --resolution R   only the rows of R (1m, 1h, 1d or the base interval), not the\n"
            "                   finest held\n"
            "  --data DIR       the store's data directory\n"
            "  --config FILE    take the data directory from the daemon's configuration\n"
            "  -h, --help, --version\n");
}

static int
usage_error(const char *msg)
{
    fprintf(stderr, "slawatch export: %s\n", msg);
    export_usage(stderr);
    return SW_EXIT_USAGE;
}

static int
parse_opts(int argc, char **argv, export_opts *o)
{
    static const struct option longopts[] = {{"service", required_argument, NULL, 's'},
                                             {"env", required_argument, NULL, 'e'},
                                             {"from", required_argument, NULL, 'F'},
                                             {"to", required_argument, NULL, 'T'},
                                             {"hlog", required_argument, NULL, 'l'},
                                             {"format", required_argument, NULL, 'f'},
                                             {"data", required_argument, NULL, 'd'},
                                             {"config", required_argument, NULL, 'c'},
                                             {"resolution", required_argument, NULL, 'r'},
                                             {"label", required_argument, NULL, 'L'},
                                             {"help", no_argument, NULL, 'h'},
                                             {"version", no_argument, NULL, 'V'},
                                             {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "ho:", longopts, NULL)) != -1) {
        switch (c) {
        case 's':
            o->service = optarg;
            break;
        case 'e':
            o->env = optarg;
            break;
        case 'L':
            o->label = optarg;
            break;
        case 'F':
            o->from = optarg;
            break;
        case 'T':
            o->to = optarg;
            break;
        case 'l':
            o->hlog = optarg;
            break;
        case 'f':
            o->format = optarg;
            break;
        case 'o':
            o->out = optarg;
            break;
        case 'd':
            o->data = optarg;
            break;
        case 'c':
            o->config = optarg;
            break;
        case 'r':
            o->resolution = optarg;
            break;
        case 'h':
            export_usage(stdout);
            return -1;
        case 'V':
            sw_cli_version(stdout);
            return -1;
        default:
            export_usage(stderr);
            return SW_EXIT_USAGE;
        }
    }
    if (optind != argc)
        return usage_error("unexpected argument");
    if (o->service == NULL || o->from == NULL || o->to == NULL)
        return usage_error("--service, --from and --to are required");
    if (o->data == NULL && o->config == NULL)
        return usage_error("--data DIR or --config FILE is required");
    if ((o->hlog == NULL) == (o->format == NULL))
        return usage_error("give one of --hlog FILE and --format csv");
    if (o->format != NULL && strcmp(o->format, "csv") != 0)
        return usage_error("--format must be csv (use --hlog FILE for histograms)");
    if (o->hlog != NULL && o->out != NULL)
        return usage_error("-o goes with --format csv; --hlog names its own file");
    return SW_EXIT_OK;
}

static int
parse_time(const char *flag, const char *text, int64_t *ret_ms)
{
    if (sw_units_parse_time_ms(text, strlen(text), ret_ms))
        return SW_EXIT_OK;
    fprintf(stderr,
            "slawatch export: %s '%s' is not an RFC 3339 time (e.g. 2026-10-01T00:00:00Z)\n", flag,
            text);
    return SW_EXIT_USAGE;
}

/* --label LABEL=VALUE: the label (copied into label) and the value (pointing into text). */
static int
parse_label(const char *text, char *label, size_t cap, sw_export_request *req)
{
    const char *eq = strchr(text, '=');
    size_t len = eq != NULL ? (size_t)(eq - text) : 0;
    if (len == 0 || len >= cap || eq[1] == '\0') {
        fprintf(stderr,
                "slawatch export: --label '%s' is not LABEL=VALUE (the service's by label and one "
                "of its values, e.g. route=/pay)\n",
                text);
        return SW_EXIT_USAGE;
    }
    memcpy(label, text, len);
    label[len] = '\0';
    req->label = label;
    req->value = eq + 1;
    return SW_EXIT_OK;
}

/* The data directory: --data, else the configuration's; it must hold a store already. */
static int
open_store(const export_opts *o, sw_store **ret)
{
    sw_config *cfg = NULL;
    sw_err err = {0};
    const char *dir = o->data;
    if (dir == NULL && sw_config_load(o->config, &cfg, NULL, &err) != SW_OK) {
        fprintf(stderr, "slawatch export: %s\n", err.msg);
        return SW_EXIT_USAGE;
    }
    if (dir == NULL)
        dir = cfg->data_dir;
    char db[4096];
    struct stat sb;
    snprintf(db, sizeof db, "%s/%s", dir, SW_STORE_DB_NAME);
    int rc = SW_EXIT_OK;
    /* Opening would create an empty store: a mistyped directory must be an error instead. */
    if (stat(db, &sb) != 0) {
        fprintf(stderr, "slawatch export: no store in %s (%s: %s)\n", dir, db, strerror(errno));
        rc = SW_EXIT_USAGE;
    } else if (sw_store_open(dir, NULL, ret, &err) != SW_OK) {
        fprintf(stderr, "slawatch export: %s\n", err.msg);
        rc = SW_EXIT_USAGE;
    }
    sw_config_free(cfg);
    return rc;
}

static int
export_to(sw_store *st, const sw_export_request *req, const char *path)
{
    char tmp[4096];
    FILE *f = stdout;
    if (path != NULL) {
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        if ((f = fopen(tmp, "w")) == NULL) {
            fprintf(stderr, "slawatch export: cannot write %s: %s\n", path, strerror(errno));
            return SW_EXIT_USAGE;
        }
    }
    sw_err err = {0};
    size_t rows = 0;
    sw_status s = sw_export_write(st, req, f, &rows, &err);
    bool flushed = path != NULL ? fclose(f) == 0 : fflush(f) == 0;
    if (s == SW_OK && (!flushed || (path != NULL && rename(tmp, path) != 0)))
        s = sw_err_sys(&err, SW_E_IO, "cannot write %s", path ? path : "standard output");
    if (s != SW_OK && path != NULL)
        remove(tmp);
    if (s != SW_OK) {
        fprintf(stderr, "slawatch export: %s\n", err.msg);
        return s == SW_E_INVAL || s == SW_E_RANGE ? SW_EXIT_INPUT : SW_EXIT_USAGE;
    }
    fprintf(stderr, "slawatch export: %zu intervals\n", rows);
    return SW_EXIT_OK;
}

int
sw_cli_export(int argc, char **argv)
{
    export_opts o = {0};
    int rc = parse_opts(argc, argv, &o);
    if (rc != SW_EXIT_OK)
        return rc < 0 ? SW_EXIT_OK : rc;
    sw_export_request req = {.service = o.service,
                             .env = o.env,
                             .format = o.hlog != NULL ? SW_EXPORT_HLOG : SW_EXPORT_CSV};
    char label[256];
    if (o.label != NULL && (rc = parse_label(o.label, label, sizeof label, &req)) != SW_EXIT_OK)
        return rc;
    if ((rc = parse_time("--from", o.from, &req.from_ms)) != SW_EXIT_OK ||
        (rc = parse_time("--to", o.to, &req.to_ms)) != SW_EXIT_OK)
        return rc;
    if (req.from_ms >= req.to_ms) {
        fprintf(stderr, "slawatch export: empty time range: --from must be before --to\n");
        return SW_EXIT_USAGE;
    }
    if (o.resolution != NULL &&
        !sw_units_parse_duration_ms(o.resolution, strlen(o.resolution), &req.resolution_ms)) {
        fprintf(stderr, "slawatch export: --resolution '%s' is not a duration (1m, 1h, 1d)\n",
                o.resolution);
        return SW_EXIT_USAGE;
    }
    sw_store *st = NULL;
    if ((rc = open_store(&o, &st)) == SW_EXIT_OK)
        rc = export_to(st, &req, o.hlog != NULL ? o.hlog : o.out);
    sw_store_close(st);
    return rc;
}
