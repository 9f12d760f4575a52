/*
 * slawatch hdr: read latency values (one integer per line) or an HdrHistogram interval log,
 * print percentiles as a table or JSON, optionally write the values as an interval log.
 */
#include "cli.h"

#include "slawatch/buf.h"
#include "slawatch/hdr.h"
#include "slawatch/hlog.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct hdr_opts {
    bool json;
    const char *tag;
    const char *write_hlog;
    const char *path; /* NULL for stdin */
} hdr_opts;

/* What has been read so far; the histogram is created by the first line that needs one. */
typedef struct hdr_input {
    const hdr_opts *opts;
    const char *name;
    enum { INPUT_UNKNOWN, INPUT_VALUES, INPUT_HLOG } kind;
    sw_hlog_reader reader;
    unsigned long line;
    sw_hdr *hist;
} hdr_input;

static const struct {
    const char *key;
    double percentile;
} percentiles[] = {{"p50", 50.0}, {"p90", 90.0}, {"p95", 95.0}, {"p99", 99.0}, {"p99.9", 99.9}};

static void
hdr_usage(FILE *f)
{
    fprintf(f,
            "usage: slawatch hdr [--json] [--tag T] [--write-hlog FILE] [FILE]\n\n"
            "Summarise latencies read from FILE (standard input when absent): either one\n"
            "integer per line (microseconds, 1 us ... 1 h, 3 significant digits) or an\n"
            "HdrHistogram interval log (.hlog), whose intervals are merged.\n\n"
            "  --json             one JSON object: total_count, overflow_count, min, max, mean,\n"
            "                     p50, p90, p95, p99, p99.9 (null when empty)\n"
            "  --tag T            only the log's intervals tagged T\n"
            "  --write-hlog FILE  also write the histogram as an interval log\n"
            "  -h, --help, --version\n");
}

static int
parse_opts(int argc, char **argv, hdr_opts *o)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'},       {"tag", required_argument, NULL, 't'},
        {"write-hlog", required_argument, NULL, 'w'}, {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},    {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'j': o->json = true; break;
        case 't': o->tag = optarg; break;
        case 'w': o->write_hlog = optarg; break;
        case 'h': hdr_usage(stdout); return -1;
        case 'V': sw_cli_version(stdout); return -1;
        default: hdr_usage(stderr); return SW_EXIT_USAGE;
        }
    }
    if (argc - optind > 1) {
        hdr_usage(stderr);
        return SW_EXIT_USAGE;
    }
    o->path = optind < argc ? argv[optind] : NULL;
    return SW_EXIT_OK;
}

/* Interval log callback: keep the first matching histogram, merge the rest into it. */
static sw_status
merge_interval(void *ctx, sw_hlog_interval *iv, sw_err *err)
{
    hdr_input *in = ctx;
    const char *want = in->opts->tag;
    if (want != NULL && (iv->tag == NULL || strcmp(iv->tag, want) != 0))
        return SW_OK;
    if (in->hist == NULL) {
        in->hist = iv->hist;
        iv->hist = NULL;
        return SW_OK;
    }
    return sw_hdr_add_grow(&in->hist, iv->hist, err);
}

static bool
looks_like_hlog(const char *line, size_t len)
{
    /* Log comments are `#[...]`; a plain `# note` starts a file of values. */
    if ((len >= 2 && memcmp(line, "#[", 2) == 0) || line[0] == '"' ||
        (len >= 4 && memcmp(line, "Tag=", 4) == 0))
        return true;
    for (size_t i = 0; i + 5 <= len; i++)
        if (memcmp(line + i, ",HIST", 5) == 0)
            return true;
    return false;
}

static sw_status
read_value(hdr_input *in, const char *line, size_t len, sw_err *err)
{
    size_t start = 0;
    while (start < len && (line[start] == ' ' || line[start] == '\t'))
        start++;
    if (start == len || line[start] == '#')
        return SW_OK;
    /* Digits within len only: the line is not NUL-terminated. */
    int64_t v = 0;
    size_t stop = start;
    bool overflow = false;
    for (; stop < len && line[stop] >= '0' && line[stop] <= '9'; stop++)
        overflow = overflow || __builtin_mul_overflow(v, 10, &v) ||
                   __builtin_add_overflow(v, line[stop] - '0', &v);
    size_t digits_end = stop;
    while (stop < len && (line[stop] == ' ' || line[stop] == '\t' || line[stop] == '\r'))
        stop++;
    if (digits_end == start || stop != len || overflow)
        return sw_err_set(err, SW_E_PARSE, "%s:%lu:%zu: expected a non-negative integer",
                          in->name, in->line, start + 1);
    if (in->hist == NULL) {
        sw_status st = sw_hdr_new(&sw_hdr_latency_config, &in->hist, err);
        if (st != SW_OK)
            return st;
    }
    sw_hdr_record(in->hist, v);
    return SW_OK;
}

static sw_status
read_line(hdr_input *in, const char *line, size_t len, sw_err *err)
{
    in->line++;
    if (in->kind == INPUT_UNKNOWN) {
        size_t i = 0;
        while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
            i++;
        if (i == len) {
            in->reader.line++; /* keep the log reader's line numbers in step */
            return SW_OK;
        }
        in->kind = looks_like_hlog(line + i, len - i) ? INPUT_HLOG : INPUT_VALUES;
    }
    if (in->kind == INPUT_HLOG)
        return sw_hlog_reader_line(&in->reader, line, len, err);
    return read_value(in, line, len, err);
}

static sw_status
read_input(hdr_input *in, FILE *f, sw_err *err)
{
    sw_buf line;
    sw_buf_init(&line, SW_HLOG_MAX_LINE);
    bool got;
    sw_status st;
    while ((st = sw_buf_getline(&line, f, &got, err)) == SW_OK && got)
        if ((st = read_line(in, (const char *)line.data, line.len, err)) != SW_OK)
            break;
    if (st == SW_E_TOOBIG || st == SW_E_IO)
        sw_err_prefix(err, "%s:%lu", in->name, in->line + 1);
    sw_buf_fini(&line);
    return st;
}

static void
print_json(const sw_hdr *h, int64_t overflow)
{
    int64_t total = h ? sw_hdr_total_count(h) : 0;
    printf("{\"total_count\":%lld,\"overflow_count\":%lld", (long long)total, (long long)overflow);
    if (total == 0) {
        printf(",\"min\":null,\"max\":null,\"mean\":null");
        for (size_t i = 0; i < sizeof percentiles / sizeof percentiles[0]; i++)
            printf(",\"%s\":null", percentiles[i].key);
    } else {
        printf(",\"min\":%lld,\"max\":%lld,\"mean\":%.17g", (long long)sw_hdr_min(h),
               (long long)sw_hdr_max(h), sw_hdr_mean(h));
        for (size_t i = 0; i < sizeof percentiles / sizeof percentiles[0]; i++)
            printf(",\"%s\":%lld", percentiles[i].key,
                   (long long)sw_hdr_value_at_percentile(h, percentiles[i].percentile));
    }
    printf("}\n");
}

static void
print_table(const sw_hdr *h, int64_t overflow)
{
    int64_t total = h ? sw_hdr_total_count(h) : 0;
    printf("%-10s %16lld\n%-10s %16lld\n", "count", (long long)total, "overflow",
           (long long)overflow);
    if (total == 0) {
        printf("(no values)\n");
        return;
    }
    printf("%-10s %16lld\n", "min", (long long)sw_hdr_min(h));
    printf("%-10s %16.3f\n%-10s %16.3f\n", "mean", sw_hdr_mean(h), "stddev", sw_hdr_stddev(h));
    for (size_t i = 0; i < sizeof percentiles / sizeof percentiles[0]; i++)
        printf("%-10s %16lld\n", percentiles[i].key,
               (long long)sw_hdr_value_at_percentile(h, percentiles[i].percentile));
    printf("%-10s %16lld\n", "max", (long long)sw_hdr_max(h));
}

static sw_status
write_hlog(const char *path, const sw_hdr *h, sw_err *err)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return sw_err_sys(err, SW_E_IO, "cannot create %s", path);
    sw_hlog_writer w;
    double now_s = (double)time(NULL);
    /* Microsecond values: the max column in milliseconds, as jHiccup logs show it. */
    sw_status st = sw_hlog_write_header(&w, f, now_s, 1000.0, err);
    if (st == SW_OK)
        st = sw_hlog_write_interval(&w, NULL, now_s, 0.0, h, err);
    if (fclose(f) != 0 && st == SW_OK)
        st = sw_err_sys(err, SW_E_IO, "cannot write %s", path);
    return st;
}

int
sw_cli_hdr(int argc, char **argv)
{
    hdr_opts opts = {0};
    int rc = parse_opts(argc, argv, &opts);
    if (rc != SW_EXIT_OK)
        return rc < 0 ? SW_EXIT_OK : rc;
    FILE *f = opts.path ? fopen(opts.path, "r") : stdin;
    if (f == NULL) {
        fprintf(stderr, "slawatch hdr: cannot open %s: %s\n", opts.path, strerror(errno));
        return SW_EXIT_USAGE;
    }
    hdr_input in = {.opts = &opts, .name = opts.path ? opts.path : "<stdin>"};
    sw_hlog_reader_init(&in.reader, in.name, merge_interval, &in);
    sw_err err = {0};
    sw_status st = read_input(&in, f, &err);
    if (f != stdin)
        fclose(f);
    if (st == SW_OK && in.hist == NULL)
        st = sw_hdr_new(&sw_hdr_latency_config, &in.hist, &err);
    if (st == SW_OK && opts.write_hlog)
        st = write_hlog(opts.write_hlog, in.hist, &err);
    if (st != SW_OK) {
        fprintf(stderr, "slawatch hdr: %s\n", err.msg);
        sw_hdr_free(in.hist);
        return st == SW_E_IO ? SW_EXIT_USAGE : SW_EXIT_INPUT;
    }
    int64_t overflow = sw_hdr_overflow_count(in.hist);
    if (opts.json)
        print_json(in.hist, overflow);
    else
        print_table(in.hist, overflow);
    sw_hdr_free(in.hist);
    return SW_EXIT_OK;
}
