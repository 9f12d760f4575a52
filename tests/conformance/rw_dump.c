/*
 * The remote-write side of the conformance suite, driven by rw_conformance.py:
 *   rw_dump snappy FILE EXPECTED   FILE snappy-decodes to EXPECTED's bytes (exit 0) or not (1)
 *   rw_dump reject FILE            FILE is refused as corrupt snappy (exit 0) or not (1)
 *   rw_dump samples FILE           decode the request body FILE, one line per sample:
 *                                  name TAB labels (name=value, 0x1f between) TAB value TAB ms
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slawatch/rw_recv.h"
#include "slawatch/snappy.h"

static uint8_t *
slurp(const char *path, size_t *ret_len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    size_t n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *data = malloc(n + 1);
    if (data == NULL || fread(data, 1, n, f) != n) {
        fprintf(stderr, "%s: read failed\n", path);
        exit(2);
    }
    fclose(f);
    *ret_len = n;
    return data;
}

static sw_status
unsnappy(const uint8_t *in, size_t len, uint8_t **out, size_t *out_len, sw_err *err)
{
    sw_status st = sw_snappy_decoded_len(in, len, out_len, err);
    if (st != SW_OK)
        return st;
    *out = malloc(*out_len + 1);
    return sw_snappy_uncompress(in, len, *out, *out_len, err);
}

static int
check_snappy(const char *path, const char *expected_path)
{
    size_t len, want_len, got_len = 0;
    uint8_t *in = slurp(path, &len), *want = slurp(expected_path, &want_len), *got = NULL;
    sw_err err;
    if (unsnappy(in, len, &got, &got_len, &err) != SW_OK) {
        fprintf(stderr, "%s: %s\n", path, err.msg);
        return 1;
    }
    int bad = got_len != want_len || memcmp(got, want, want_len) != 0;
    fprintf(stderr, "%s: %zu bytes decoded, %s %s\n", path, got_len,
            bad ? "differ from" : "equal to", expected_path);
    free(in);
    free(want);
    free(got);
    return bad;
}

static int
check_reject(const char *path)
{
    size_t len, got_len = 0;
    uint8_t *in = slurp(path, &len), *got = NULL;
    sw_err err;
    sw_status st = unsnappy(in, len, &got, &got_len, &err);
    fprintf(stderr, "%s: %s\n", path, st == SW_OK ? "accepted" : err.msg);
    free(in);
    free(got);
    return st == SW_OK;
}

static sw_status
print_sample(void *ctx, const sw_prom_sample *s, sw_err *err)
{
    (void)ctx;
    (void)err;
    printf("%.*s\t", (int)s->name_len, s->name);
    for (size_t i = 0; i < s->n_labels; i++)
        printf("%s%.*s=%.*s", i ? "\x1f" : "", (int)s->labels[i].name_len, s->labels[i].name,
               (int)s->labels[i].value_len, s->labels[i].value);
    printf("\t%.17g\t%lld\n", s->value, (long long)s->timestamp_ms);
    return SW_OK;
}

static int
dump_samples(const char *path)
{
    size_t len;
    uint8_t *in = slurp(path, &len);
    sw_prom_sink sink = {NULL, print_sample, NULL};
    sw_rw_counts c;
    sw_err err;
    sw_status st = sw_rw_recv_decode(in, len, NULL, &sink, &c, &err);
    free(in);
    if (st != SW_OK) {
        fprintf(stderr, "%s: %s\n", path, err.msg);
        return 1;
    }
    fprintf(stderr, "%s: %llu series, %llu samples\n", path, (unsigned long long)c.series,
            (unsigned long long)c.samples);
    return 0;
}

int
main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "snappy") == 0)
        return check_snappy(argv[2], argv[3]);
    if (argc == 3 && strcmp(argv[1], "reject") == 0)
        return check_reject(argv[2]);
    if (argc == 3 && strcmp(argv[1], "samples") == 0)
        return dump_samples(argv[2]);
    fprintf(stderr, "usage: rw_dump snappy FILE EXPECTED | reject FILE | samples FILE\n");
    return 2;
}
