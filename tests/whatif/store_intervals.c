/*
 * Writes recorded intervals (the JSON lines of `slawatch eval --intervals`, rules/README.md) into
 * a store as a backfill would: each line imported at its own length (1 m, 1 h or 1 d rows), then
 * rolled up. The what-if tests generate the lines, with known per-request latencies, and compute
 * their expected answers from the same lines.
 * usage: store_intervals DIR INTERVALS_FILE [ROLLUP_AT_MS]
 * (ROLLUP_AT_MS: the rollup's "now", default the end of the last interval)
 */
#include "slawatch/buf.h"
#include "slawatch/intervals.h"
#include "slawatch/store.h"

#include <stdio.h>
#include <stdlib.h>

#define YEAR_MS (366 * INT64_C(86400000))

static void
die(const char *what, const sw_err *err)
{
    fprintf(stderr, "store_intervals: %s: %s\n", what, err->msg);
    exit(2);
}

#define BATCH 256

/* Lines waiting to be imported together: one transaction per batch of one resolution. */
typedef struct batch {
    sw_intervals_line lines[BATCH];
    sw_store_row rows[BATCH];
    size_t n;
    int64_t end_ms;
} batch;

static void
flush(sw_store *st, batch *b)
{
    sw_err err;
    for (size_t i = 0; i < b->n; i++) {
        sw_intervals_line *l = &b->lines[i];
        b->rows[i] = (sw_store_row){l->service, l->env[0] ? l->env : NULL, &l->iv};
        if (l->iv.start_ms + l->iv.length_ms > b->end_ms)
            b->end_ms = l->iv.start_ms + l->iv.length_ms;
    }
    if (b->n > 0 && sw_store_import(st, b->lines[0].iv.length_ms, b->rows, b->n, &err) != SW_OK)
        die("import", &err);
    for (size_t i = 0; i < b->n; i++)
        sw_sli_interval_fini(&b->lines[i].iv);
    b->n = 0;
}

int
main(int argc, char **argv)
{
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: store_intervals DIR INTERVALS_FILE [ROLLUP_AT_MS]\n");
        return 2;
    }
    sw_err err;
    sw_store *st = NULL;
    sw_store_options opt = {.retention_1h_ms = 3 * YEAR_MS, .retention_1d_ms = 3 * YEAR_MS};
    if (sw_store_open(argv[1], &opt, &st, &err) != SW_OK)
        die(argv[1], &err);
    FILE *f = fopen(argv[2], "r");
    if (f == NULL) {
        perror(argv[2]);
        return 2;
    }
    sw_buf text;
    sw_buf_init(&text, SW_INTERVALS_MAX_LINE);
    unsigned long line_no = 0;
    static batch b;
    bool got;
    while (sw_buf_getline(&text, f, &got, &err) == SW_OK && got) {
        sw_intervals_line *line = &b.lines[b.n];
        if (sw_intervals_parse_line((const char *)text.data, text.len, SW_STORE_1M_MS, argv[2],
                                    ++line_no, line, &err) != SW_OK)
            die("parse", &err);
        bool same = b.n == 0 || line->iv.length_ms == b.lines[0].iv.length_ms;
        if (same)
            b.n++;
        if (!same || b.n == BATCH) {
            sw_intervals_line keep = *line;
            flush(st, &b);
            if (!same)
                b.lines[b.n++] = keep;
        }
    }
    flush(st, &b);
    sw_buf_fini(&text);
    fclose(f);
    if (sw_store_rollup(st, argc == 4 ? strtoll(argv[3], NULL, 10) : b.end_ms, &err) != SW_OK)
        die("rollup", &err);
    sw_store_close(st);
    return 0;
}
