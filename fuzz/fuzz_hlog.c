/*
 * The .hlog reader over arbitrary text, fed three ways that must agree: sw_hlog_read_mem() on
 * the whole input, sw_hlog_reader_line() on each line copied into an exact-size buffer (so a
 * parser that reads past a line's end trips ASan), and sw_hlog_read_file() on a memory stream.
 * The visit callback reads every lent histogram, takes ownership of every other one (the
 * reader must then leave it alone), and stops the read with an error at a line tagged "stop".
 */
#include "fuzz.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slawatch/err.h"
#include "slawatch/hdr.h"
#include "slawatch/hlog.h"

#define LOG_NAME "fuzz.hlog"

typedef struct visit_ctx {
    const sw_hlog_reader *reader;
    unsigned long intervals;
    uint64_t digest; /* FNV-1a over everything the reader reported */
    sw_hdr *kept;    /* the last histogram taken from the reader */
    bool stopped;    /* the callback has returned an error; no further calls allowed */
} visit_ctx;

typedef struct outcome {
    sw_status status;
    unsigned long intervals;
    uint64_t digest;
} outcome;

static void
mix(uint64_t *d, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        *d ^= b[i];
        *d *= UINT64_C(0x100000001b3);
    }
}

static void
mix_i64(uint64_t *d, int64_t v)
{
    mix(d, &v, sizeof v);
}

static void
mix_double(uint64_t *d, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    mix(d, &bits, sizeof bits);
}

/* Read the whole histogram; its iteration must add up to its total. */
static void
touch_histogram(visit_ctx *c, const sw_hdr *h)
{
    int64_t total = sw_hdr_total_count(h);
    FUZZ_CHECK(total >= 0);
    mix_i64(&c->digest, total);
    mix_i64(&c->digest, sw_hdr_min(h));
    mix_i64(&c->digest, sw_hdr_max(h));
    mix_i64(&c->digest, sw_hdr_value_at_percentile(h, 50.0));
    mix_i64(&c->digest, sw_hdr_value_at_percentile(h, 99.0));
    mix_double(&c->digest, sw_hdr_mean(h));

    sw_hdr_iter it;
    sw_hdr_iter_init(&it, h);
    int64_t cum = 0;
    while (sw_hdr_iter_next(&it)) {
        FUZZ_CHECK(it.count > 0 && it.count <= INT64_MAX - cum);
        cum += it.count;
        mix_i64(&c->digest, it.value_lo);
        mix_i64(&c->digest, it.count);
    }
    FUZZ_CHECK(cum == total);
}

static sw_status
visit(void *vctx, sw_hlog_interval *iv, sw_err *err)
{
    visit_ctx *c = vctx;
    FUZZ_CHECK(!c->stopped);
    FUZZ_CHECK(iv->hist != NULL);
    FUZZ_CHECK(c->reader->line >= 1);
    c->intervals++;
    mix(&c->digest, &c->intervals, sizeof c->intervals);

    if (iv->tag != NULL) {
        size_t n = strlen(iv->tag);
        FUZZ_CHECK(n <= SW_HLOG_MAX_TAG);
        FUZZ_CHECK(strpbrk(iv->tag, ", \r\n") == NULL);
        mix(&c->digest, iv->tag, n + 1);
    } else {
        mix(&c->digest, "", 1);
    }
    mix_double(&c->digest, iv->start_s);
    mix_double(&c->digest, iv->offset_s);
    mix_double(&c->digest, iv->length_s);
    mix_double(&c->digest, iv->max);

    /* offset_s is the start relative to the log's StartTime. */
    double st = c->reader->start_time_s;
    if (isfinite(iv->start_s) && isfinite(st) && isfinite(iv->offset_s) &&
        fabs(iv->start_s) < 1e15 && fabs(st) < 1e15) {
        double want = iv->start_s - st;
        FUZZ_CHECK(fabs(iv->offset_s - want) <= 1e-6 * fmax(1.0, fabs(iv->start_s) + fabs(st)));
    }

    touch_histogram(c, iv->hist);

    if (c->intervals % 2 == 0) {
        sw_hdr_free(c->kept);
        c->kept = iv->hist;
        iv->hist = NULL;
    }

    if (iv->tag != NULL && strcmp(iv->tag, "stop") == 0) {
        c->stopped = true;
        return sw_err_set(err, SW_E_RANGE, "visit: stopped at tag \"stop\"");
    }
    return SW_OK;
}

static void
check_status(sw_status st, const sw_err *err)
{
    if (st == SW_OK)
        return;
    fuzz_check_err(st, err);
    /* hlog.h: parse errors carry "name:line:col: ..." */
    if (st == SW_E_PARSE)
        FUZZ_CHECK(strstr(err->msg, LOG_NAME ":") != NULL);
}

static void
finish(visit_ctx *c, outcome *o, sw_status st)
{
    sw_hdr_free(c->kept);
    c->kept = NULL;
    o->status = st;
    o->intervals = c->intervals;
    o->digest = c->digest;
    /* The callback's error passes through unchanged; after it nothing more was read. */
    if (c->stopped)
        FUZZ_CHECK(st == SW_E_RANGE);
}

static void
run_mem(const char *text, size_t len, outcome *o)
{
    visit_ctx c = {.digest = UINT64_C(0xcbf29ce484222325)};
    sw_hlog_reader r;
    sw_hlog_reader_init(&r, LOG_NAME, visit, &c);
    c.reader = &r;
    sw_err err = {0};
    sw_status st = sw_hlog_read_mem(&r, text, len, &err);
    check_status(st, &err);
    finish(&c, o, st);
}

/* Each line (without its '\n') in its own allocation of exactly its length. */
static void
run_lines(const char *text, size_t len, outcome *o)
{
    visit_ctx c = {.digest = UINT64_C(0xcbf29ce484222325)};
    sw_hlog_reader r;
    sw_hlog_reader_init(&r, LOG_NAME, visit, &c);
    c.reader = &r;
    sw_err err = {0};
    sw_status st = SW_OK;
    size_t pos = 0;
    while (pos < len && st == SW_OK) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl != NULL ? (size_t)(nl - (text + pos)) : len - pos;
        char *line = malloc(n > 0 ? n : 1);
        if (line == NULL)
            abort();
        memcpy(line, text + pos, n);
        st = sw_hlog_reader_line(&r, line, n, &err);
        free(line);
        pos += n + 1;
    }
    check_status(st, &err);
    finish(&c, o, st);
}

static bool
run_file(const char *text, size_t len, outcome *o)
{
    FILE *f = fmemopen((void *)text, len, "r");
    if (f == NULL)
        return false;
    visit_ctx c = {.digest = UINT64_C(0xcbf29ce484222325)};
    sw_hlog_reader r;
    sw_hlog_reader_init(&r, LOG_NAME, visit, &c);
    c.reader = &r;
    sw_err err = {0};
    sw_status st = sw_hlog_read_file(&r, f, &err);
    fclose(f);
    check_status(st, &err);
    finish(&c, o, st);
    return true;
}

static void
check_agree(const outcome *a, const outcome *b, const char *what)
{
    if (a->status == b->status && a->intervals == b->intervals && a->digest == b->digest)
        return;
    fprintf(stderr, "read_mem and %s disagree: status %s/%s, intervals %lu/%lu, digest %s\n", what,
            sw_err_str(a->status), sw_err_str(b->status), a->intervals, b->intervals,
            a->digest == b->digest ? "same" : "differs");
    FUZZ_CHECK(!"readers disagree");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    outcome mem, lines, file;

    run_mem(text, size, &mem);
    run_lines(text, size, &lines);
    check_agree(&mem, &lines, "reader_line per line");
    /* read_file() alone limits line length; fmemopen() wants a non-empty buffer. */
    if (size > 0 && size <= SW_HLOG_MAX_LINE && run_file(text, size, &file))
        check_agree(&mem, &file, "read_file");
    return 0;
}
