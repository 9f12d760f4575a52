/*
 * Conformance of the exposition parser: every OpenMetrics parser case (openmetrics/NAME/metrics,
 * whose test.json says shouldParse) and every promtext/ input (positive unless its name says
 * parse_error, OpenMetrics when it ends in .om.txt) must get the verdict the suite gives.
 * Prints each disagreement by name; exits 1 if there is any.
 * usage: test_promtext CONFORMANCE_DIR
 */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slawatch/promtext.h"

static sw_status
count_sample(void *ctx, const sw_prom_sample *s, sw_err *err)
{
    (void)s;
    (void)err;
    ++*(size_t *)ctx;
    return SW_OK;
}

static char *
read_all(const char *path, size_t *ret_len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap + 1);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap)
            buf = realloc(buf, (cap *= 2) + 1);
    }
    fclose(f);
    if (buf)
        buf[len] = '\0'; /* for strstr; the parser is given len */
    *ret_len = len;
    return buf;
}

/* One case: 1 when the verdict disagrees, -1 when it cannot be read. */
static int
run_case(const char *name, const char *path, sw_promtext_format fmt, bool should_parse)
{
    size_t len;
    char *buf = read_all(path, &len);
    if (!buf) {
        fprintf(stderr, "%s: cannot read %s\n", name, path);
        return -1;
    }
    size_t samples = 0;
    sw_prom_sink sink = {.ctx = &samples, .sample = count_sample};
    sw_promtext_pos where = {0};
    sw_err err = {0};
    sw_status st = sw_promtext_parse(buf, len, fmt, &sink, &where, &err);
    free(buf);
    bool parsed = st == SW_OK;
    if (parsed == should_parse)
        return 0;
    if (parsed)
        printf("FAIL %s: parsed (%zu samples), expected a parse error\n", name, samples);
    else
        printf("FAIL %s: %u:%u: %s, expected it to parse\n", name, where.line, where.col, err.msg);
    return 1;
}

static bool
om_should_parse(const char *json_path)
{
    size_t len;
    char *json = read_all(json_path, &len);
    bool yes = false;
    if (json) {
        char *k = strstr(json, "\"shouldParse\"");
        if (k) {
            char *v = k + 13;
            while (v < json + len && (*v == ' ' || *v == ':'))
                v++;
            yes = v + 4 <= json + len && memcmp(v, "true", 4) == 0;
        }
        free(json);
    }
    return yes;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names of the entries of dir (no dot files), sorted; *ret_n of them. */
static char **
list_dir(const char *dir, size_t *ret_n)
{
    DIR *d = opendir(dir);
    char **names = NULL;
    size_t n = 0;
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        names = realloc(names, (n + 1) * sizeof *names);
        names[n++] = strdup(de->d_name);
    }
    if (d)
        closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_str);
    *ret_n = n;
    return names;
}

static void
run_openmetrics(const char *root, int *fails, int *total)
{
    char dir[2048], path[4096];
    if (snprintf(dir, sizeof dir, "%s/openmetrics", root) >= (int)sizeof dir)
        return;
    size_t n;
    char **cases = list_dir(dir, &n);
    for (size_t i = 0; i < n; i++) {
        int r = -1;
        if (snprintf(path, sizeof path, "%s/%s/test.json", dir, cases[i]) < (int)sizeof path) {
            bool should = om_should_parse(path);
            if (snprintf(path, sizeof path, "%s/%s/metrics", dir, cases[i]) < (int)sizeof path)
                r = run_case(cases[i], path, SW_PROMTEXT_OPENMETRICS, should);
        }
        *fails += r != 0;
        ++*total;
        free(cases[i]);
    }
    free(cases);
}

/*
 * promtext inputs that are not valid for the specification of their format, with the rule they
 * break; the parser must reject them.
 */
static const char *const spec_violations[] = {
    /* a histogram with negative buckets and a _sum: OpenMetrics 1.0 allows _sum only without
       negative buckets (the suite's bad_counter_values_8 and _9) */
    "alltypes.5mfs.om.txt",
};

static bool
violates_spec(const char *name)
{
    for (size_t i = 0; i < sizeof spec_violations / sizeof spec_violations[0]; i++)
        if (strcmp(name, spec_violations[i]) == 0)
            return true;
    return false;
}

static void
run_promtext(const char *root, int *fails, int *total)
{
    static const char *const subdirs[] = {"prometheus-common", "prometheus-promtool",
                                          "prometheus-textparse"};
    char dir[2048], path[4096];
    for (size_t s = 0; s < sizeof subdirs / sizeof subdirs[0]; s++) {
        if (snprintf(dir, sizeof dir, "%s/promtext/%s", root, subdirs[s]) >= (int)sizeof dir)
            continue;
        size_t n;
        char **files = list_dir(dir, &n);
        for (size_t i = 0; i < n; i++) {
            size_t l = strlen(files[i]);
            bool om = l > 7 && strcmp(files[i] + l - 7, ".om.txt") == 0;
            bool should = strstr(files[i], "parse_error") == NULL && !violates_spec(files[i]);
            int r = -1;
            if (snprintf(path, sizeof path, "%s/%s", dir, files[i]) < (int)sizeof path)
                r = run_case(files[i], path, om ? SW_PROMTEXT_OPENMETRICS : SW_PROMTEXT_TEXT,
                             should);
            *fails += r != 0;
            ++*total;
            free(files[i]);
        }
        free(files);
    }
}

int
main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_promtext CONFORMANCE_DIR\n");
        return 2;
    }
    int fails = 0, total = 0;
    run_openmetrics(argv[1], &fails, &total);
    int om_total = total;
    run_promtext(argv[1], &fails, &total);
    printf("%d of %d cases agree (%d OpenMetrics, %d promtext)\n", total - fails, total, om_total,
           total - om_total);
    return fails || om_total != 211 ? 1 : 0;
}
