/*
 * Private to the exposition parser: the parser state shared by promtext.c (syntax, the text
 * format's rules), promtext_names.c (the family table) and promtext_om.c (OpenMetrics
 * semantics). One parser per call of sw_promtext_parse; single-threaded.
 */
#ifndef SLAWATCH_PROMTEXT_INT_H
#define SLAWATCH_PROMTEXT_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "slawatch/buf.h"
#include "slawatch/promtext.h"

/* Which of its family's names a sample carries. */
typedef enum pt_suffix {
    PT_SFX_NONE,
    PT_SFX_TOTAL,
    PT_SFX_CREATED,
    PT_SFX_BUCKET,
    PT_SFX_COUNT,
    PT_SFX_SUM,
    PT_SFX_GCOUNT,
    PT_SFX_GSUM,
    PT_SFX_INFO,
    PT_SFX_N
} pt_suffix;

extern const char *const pt_suffix_text[PT_SFX_N];

/* Bits of pt_family_entry.flags. */
enum { PT_F_HELP = 1, PT_F_TYPE = 2, PT_F_SAMPLES = 4, PT_F_UNIT = 8, PT_F_CLAIMED = 16 };

/* One name in the family table: a family (text, OpenMetrics) or a name one claims (OpenMetrics). */
typedef struct pt_family_entry {
    uint64_t hash;
    uint32_t name_off, name_len; /* in pt_names.bytes */
    uint8_t flags;
    uint8_t type; /* sw_prom_type */
} pt_family_entry;

typedef struct pt_names {
    pt_family_entry *slots; /* open addressing; hash 0 marks a free slot */
    size_t n_slots, n_used;
    sw_buf bytes;
} pt_names;

/* The labelsets seen in the current OpenMetrics family (hashes; generation-stamped slots). */
typedef struct pt_groups {
    uint64_t *hashes;
    uint32_t *gens;
    size_t n_slots, n_used;
    uint32_t gen;
} pt_groups;

/* OpenMetrics: the family being read and its current labelset. */
typedef struct pt_om {
    const char *fam; /* into the input */
    size_t fam_len;
    sw_prom_type type;
    uint8_t flags; /* PT_F_* */
    bool open;     /* a family has started */
    pt_groups groups;
    /* current labelset (group) */
    bool in_group;
    uint64_t group_hash;
    bool has_inf, has_count, has_sum, neg_bucket, any_bucket;
    double last_le, last_bucket, inf_value, count_value, sum_value;
    /* previous sample, for a series' timestamps */
    uint64_t series_hash;
    bool series_valid, series_has_ts;
    double series_ts;
} pt_om;

typedef struct pt_parser {
    const char *buf, *end;
    const char *line; /* start of the current line */
    const char *eol;  /* its end (the line feed or the end of the input) */
    uint32_t lineno;
    bool om;
    const sw_prom_sink *sink;
    sw_err *err;
    sw_promtext_pos *where;
    sw_prom_label labels[SW_PROMTEXT_MAX_LABELS];
    sw_prom_label ex_labels[SW_PROMTEXT_MAX_LABELS];
    sw_buf scratch;  /* unescaped label values of the current line */
    pt_names names;  /* text: HELP/TYPE/samples per name; OpenMetrics: families and claims */
    const char *cur; /* the family the last sample resolved to (into the input) */
    size_t cur_len;
    sw_prom_type cur_type;
    pt_om omstate;
} pt_parser;

/* What a parsed OpenMetrics sample line carried besides the sample. */
typedef struct pt_om_extra {
    bool has_exemplar;
    size_t n_ex_labels;
    const char *ts_at, *value_at; /* for error positions */
    double ts_s;                  /* the timestamp as written, in seconds */
} pt_om_extra;

/* Record a parse error at `at` (a pointer into the current line) and return code. */
sw_status pt_fail(pt_parser *P, const char *at, sw_status code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Parse an OpenMetrics number (case-insensitive inf/nan allowed) or, when real_only, a
 * decimal real number only. Returns false when [s, e) is not one. */
bool pt_parse_om_number(const char *s, const char *e, bool real_only, double *ret);

/* An OpenMetrics type name; SW_E_PARSE when [s, e) is none. */
sw_status pt_om_parse_type(const char *s, const char *e, sw_prom_type *ret);

/* The family table. */
void pt_names_init(pt_names *t);
void pt_names_fini(pt_names *t);
uint64_t pt_hash(const char *s, size_t n);
pt_family_entry *pt_names_find(const pt_names *t, const char *name, size_t len);
/* Find or add; NULL with err set past a cap or out of memory. */
pt_family_entry *pt_names_get(pt_parser *P, const char *name, size_t len, const char *at);

/* OpenMetrics semantics, called by promtext.c. */
void pt_om_init(pt_om *o);
void pt_om_fini(pt_om *o);
sw_status pt_om_metadata(pt_parser *P, const char *kw, const char *name, size_t name_len,
                         const char *arg, size_t arg_len);
sw_status pt_om_sample(pt_parser *P, sw_prom_sample *s, const pt_om_extra *x);
sw_status pt_om_eof(pt_parser *P, const char *at);

#endif
