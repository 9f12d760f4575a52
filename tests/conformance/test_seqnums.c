/*
 * Conformance with Java's V2 encoding (suite 'conformance').
 *
 * hdr/HdrHistogram_rust/seq-nums.hist is Java's uncompressed V2 encoding of the values
 * 0 .. 99,999 recorded once each into a histogram with lowest 1, highest INT64_MAX and 3
 * significant digits; seq-nums.histz is the same histogram compressed by the Rust port. This
 * program records the same values, checks that sw_hdr_encode(uncompressed) reproduces
 * seq-nums.hist byte for byte, and that decoding either file gives the recorded histogram.
 *
 * usage: test_seqnums CONFORMANCE_HDR_DIR
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slawatch/buf.h"
#include "slawatch/err.h"
#include "slawatch/hdr.h"
#include "slawatch/hdr_codec.h"

#define N_VALUES INT64_C(100000)
#define FILE_MAX (1u << 20)

static int failures;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
fail(const char *fmt, ...)
{
    va_list ap;
    failures++;
    printf("FAIL ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
}

static bool
read_file(const char *path, uint8_t **ret, size_t *ret_len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        return false;
    }
    uint8_t *data = malloc(FILE_MAX);
    size_t len = data ? fread(data, 1, FILE_MAX, f) : 0;
    bool ok = data != NULL && !ferror(f) && len < FILE_MAX;
    fclose(f);
    if (!ok) {
        fprintf(stderr, "%s: cannot read (or larger than %u bytes)\n", path, FILE_MAX);
        free(data);
        return false;
    }
    *ret = data;
    *ret_len = len;
    return true;
}

/* Same configuration and the same count in every bucket; prints the first difference. */
static bool
same_histogram(const char *what, const sw_hdr *got, const sw_hdr *want)
{
    sw_hdr_config g = sw_hdr_get_config(got), w = sw_hdr_get_config(want);
    if (g.lowest_discernible_value != w.lowest_discernible_value ||
        g.highest_trackable_value != w.highest_trackable_value ||
        g.significant_figures != w.significant_figures) {
        printf("FAIL %s: config (%" PRId64 ", %" PRId64 ", %d), want (%" PRId64 ", %" PRId64
               ", %d)\n",
               what, g.lowest_discernible_value, g.highest_trackable_value, g.significant_figures,
               w.lowest_discernible_value, w.highest_trackable_value, w.significant_figures);
        failures++;
        return false;
    }
    if (sw_hdr_total_count(got) != sw_hdr_total_count(want)) {
        printf("FAIL %s: total count %" PRId64 ", want %" PRId64 "\n", what,
               sw_hdr_total_count(got), sw_hdr_total_count(want));
        failures++;
        return false;
    }
    sw_hdr_iter a, b;
    sw_hdr_iter_init(&a, got);
    sw_hdr_iter_init(&b, want);
    int64_t buckets = 0;
    for (;;) {
        bool more_a = sw_hdr_iter_next(&a), more_b = sw_hdr_iter_next(&b);
        if (!more_a && !more_b) {
            break;
        }
        if (more_a != more_b || a.value_lo != b.value_lo || a.count != b.count) {
            printf("FAIL %s: bucket %" PRId64 ": got %s[%" PRId64 "] = %" PRId64
                   ", want %s[%" PRId64 "] = %" PRId64 "\n",
                   what, buckets, more_a ? "" : "(end) ", more_a ? a.value_lo : 0,
                   more_a ? a.count : 0, more_b ? "" : "(end) ", more_b ? b.value_lo : 0,
                   more_b ? b.count : 0);
            failures++;
            return false;
        }
        buckets++;
    }
    if (sw_hdr_max(got) != sw_hdr_max(want) || sw_hdr_min(got) != sw_hdr_min(want)) {
        printf("FAIL %s: min/max %" PRId64 "/%" PRId64 ", want %" PRId64 "/%" PRId64 "\n", what,
               sw_hdr_min(got), sw_hdr_max(got), sw_hdr_min(want), sw_hdr_max(want));
        failures++;
        return false;
    }
    printf("ok   %s (%" PRId64 " buckets)\n", what, buckets);
    return true;
}

static void
check_decode(const char *what, const uint8_t *data, size_t len, const sw_hdr *want)
{
    sw_err err = {0};
    sw_hdr *got = NULL;
    if (sw_hdr_decode(data, len, &got, &err) != SW_OK) {
        fail("%s: sw_hdr_decode: %s", what, err.msg);
        return;
    }
    same_histogram(what, got, want);
    sw_hdr_free(got);
}

int
main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CONFORMANCE_HDR_DIR\n", argv[0]);
        return 2;
    }
    char hist_path[4096], histz_path[4096];
    snprintf(hist_path, sizeof hist_path, "%s/HdrHistogram_rust/seq-nums.hist", argv[1]);
    snprintf(histz_path, sizeof histz_path, "%s/HdrHistogram_rust/seq-nums.histz", argv[1]);

    uint8_t *hist = NULL, *histz = NULL;
    size_t hist_len = 0, histz_len = 0;
    if (!read_file(hist_path, &hist, &hist_len) || !read_file(histz_path, &histz, &histz_len)) {
        return 1;
    }

    const sw_hdr_config cfg = {1, INT64_MAX, 3};
    sw_err err = {0};
    sw_hdr *h = NULL;
    if (sw_hdr_new(&cfg, &h, &err) != SW_OK) {
        printf("FAIL sw_hdr_new(1, INT64_MAX, 3): %s\n", err.msg);
        return 1;
    }
    for (int64_t v = 0; v < N_VALUES; v++) {
        if (!sw_hdr_record(h, v)) {
            printf("FAIL sw_hdr_record(%" PRId64 ") refused the value\n", v);
            return 1;
        }
    }

    /* Encoder: byte for byte what Java wrote. */
    sw_buf out;
    sw_buf_init(&out, FILE_MAX);
    if (sw_hdr_encode(h, false, &out, &err) != SW_OK) {
        fail("sw_hdr_encode(uncompressed): %s", err.msg);
    } else if (out.len != hist_len || memcmp(out.data, hist, hist_len) != 0) {
        size_t i = 0;
        while (i < out.len && i < hist_len && out.data[i] == hist[i]) {
            i++;
        }
        printf("FAIL sw_hdr_encode(uncompressed) != seq-nums.hist: %zu bytes vs %zu, first"
               " difference at offset %zu",
               out.len, hist_len, i);
        if (i < out.len && i < hist_len) {
            printf(" (got 0x%02x, want 0x%02x)", out.data[i], hist[i]);
        }
        printf("\n");
        failures++;
    } else {
        printf("ok   sw_hdr_encode(uncompressed) == seq-nums.hist (%zu bytes)\n", hist_len);
    }

    /* Decoders: Java's uncompressed and Rust's compressed forms. */
    check_decode("sw_hdr_decode(seq-nums.hist) == recorded", hist, hist_len, h);
    check_decode("sw_hdr_decode(seq-nums.histz) == recorded", histz, histz_len, h);

    /* slawatch's own compressed form decodes to the same histogram. */
    sw_buf_reset(&out);
    if (sw_hdr_encode(h, true, &out, &err) != SW_OK) {
        fail("sw_hdr_encode(compressed): %s", err.msg);
    } else if (out.len < 8 || out.data[0] != 0x1c || out.data[1] != 0x84 || out.data[2] != 0x93 ||
               out.data[3] != 0x14) {
        fail("sw_hdr_encode(compressed): cookie is not 0x1c849314");
    } else {
        check_decode("sw_hdr_decode(sw_hdr_encode(compressed)) == recorded", out.data, out.len, h);
    }

    sw_buf_fini(&out);
    sw_hdr_free(h);
    free(hist);
    free(histz);
    printf("test_seqnums: %s\n", failures ? "FAILED" : "passed");
    return failures ? 1 : 0;
}
