/*
 * HdrHistogram interval logs (.hlog): `#[StartTime: ...]`, `#[BaseTime: ...]`, the legend line
 * and `[Tag=T,]start,length,max,base64` lines, as jHiccup, HistogramLogAnalyzer and the
 * HdrHistogram libraries read and write them. The reader is line-at-a-time so files of any size
 * stream through bounded memory; each interval's histogram is lent to a callback.
 */
#ifndef SLAWATCH_HLOG_H
#define SLAWATCH_HLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "slawatch/err.h"
#include "slawatch/hdr.h"

/* Longest line accepted (a 64 MiB histogram would not fit; a realistic one is < 100 KiB). */
#define SW_HLOG_MAX_LINE (4u << 20)

/* Longest tag accepted. */
#define SW_HLOG_MAX_TAG 256

typedef struct sw_hlog_interval {
    const char *tag;   /* NULL when untagged */
    double start_s;    /* absolute start, seconds since the epoch (base time applied) */
    double offset_s;   /* start relative to the log's StartTime */
    double length_s;
    double max;        /* the informational max column, as written */
    sw_hdr *hist;      /* lent for the call; the callback may take it and set this to NULL */
} sw_hlog_interval;

/* Called per interval line; a non-SW_OK return stops reading and is passed through. */
typedef sw_status (*sw_hlog_visit_fn)(void *ctx, sw_hlog_interval *iv, sw_err *err);

typedef struct sw_hlog_reader {
    const char *name;     /* for messages: "file.hlog" */
    unsigned long line;   /* 1-based number of the last line fed */
    double start_time_s;  /* #[StartTime], or the first interval's time; NaN until known */
    double base_time_s;   /* #[BaseTime]; NaN until known or inferred */
    bool base_inferred;
    sw_hlog_visit_fn visit;
    void *ctx;
} sw_hlog_reader;

/* name is borrowed for the reader's life. */
void sw_hlog_reader_init(sw_hlog_reader *r, const char *name, sw_hlog_visit_fn visit, void *ctx);

/*
 * Feed one line (without its line feed; a trailing CR and blanks are ignored). Errors are
 * SW_E_PARSE with "name:line:col: ..." in the message.
 */
sw_status sw_hlog_reader_line(sw_hlog_reader *r, const char *line, size_t len, sw_err *err);

/* Feed a whole buffer, line by line. */
sw_status sw_hlog_read_mem(sw_hlog_reader *r, const char *text, size_t len, sw_err *err);

/* Feed a stream to its end. Lines longer than SW_HLOG_MAX_LINE are SW_E_TOOBIG. */
sw_status sw_hlog_read_file(sw_hlog_reader *r, FILE *f, sw_err *err);

/*
 * Writer. The header is written by sw_hlog_write_header(): format version 1.3, StartTime and
 * BaseTime (both start_time_s) and the legend; interval starts are then relative to it.
 * max_unit_ratio divides the max column (1000 turns microseconds into milliseconds).
 */
typedef struct sw_hlog_writer {
    FILE *f;
    double base_time_s;
    double max_unit_ratio;
} sw_hlog_writer;

sw_status sw_hlog_write_header(sw_hlog_writer *w, FILE *f, double start_time_s,
                               double max_unit_ratio, sw_err *err);

/* Append one interval; tag may be NULL. start_s is absolute (seconds since the epoch). */
sw_status sw_hlog_write_interval(sw_hlog_writer *w, const char *tag, double start_s,
                                 double length_s, const sw_hdr *h, sw_err *err);

#endif
