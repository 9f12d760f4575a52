/*
 * CloudWatch Embedded Metric Format ingestion: newline-delimited JSON log lines carrying
 * `_aws: {Timestamp, CloudWatchMetrics: [{Namespace, Dimensions, Metrics}]}` with the values
 * at the top level. A map compiled from the rules says which (namespace, metric, dimension
 * set) feeds which service's requests, errors or latency; a whole request is parsed into a
 * batch before anything is applied, so a bad line changes nothing. Conventions in
 * collector/CLOUDWATCH.md ("EMF").
 */
#ifndef SLAWATCH_EMF_H
#define SLAWATCH_EMF_H

#include <stddef.h>
#include <stdint.h>

#include "slawatch/err.h"
#include "slawatch/rules.h"

#define SW_EMF_LINE_MAX ((size_t)256 << 10) /* a CloudWatch Logs event's size limit */
#define SW_EMF_BODY_MAX ((size_t)8 << 20)
#define SW_EMF_ARRAY_MAX 100               /* values per metric in one line (the spec's limit) */
#define SW_EMF_VALUES_MAX ((size_t)1 << 20) /* latency values per request */

typedef struct sw_emf_map sw_emf_map;

typedef enum sw_emf_kind { SW_EMF_REQUESTS, SW_EMF_ERRORS, SW_EMF_LATENCY } sw_emf_kind;

/* One metric of one line for one service; strings point into the map. */
typedef struct sw_emf_item {
    const char *service, *env; /* env NULL: the service as a whole */
    int64_t at_ms;
    sw_emf_kind kind;
    uint64_t count; /* requests/errors: the values' sum; latency: how many values */
    size_t first;   /* latency: index of the first value in values_us */
} sw_emf_item;

/* A parsed request. Zero-initialise; reusable across parses; owns its arrays. */
typedef struct sw_emf_batch {
    sw_emf_item *items;
    size_t n_items, cap_items;
    int64_t *values_us;
    size_t n_values, cap_values;
    size_t lines;     /* non-blank lines read */
    size_t unmatched; /* metric/dimension-set pairs no service takes */
} sw_emf_batch;

/* Compile the targets of rules (copied: the map does not keep rules). */
sw_status sw_emf_map_new(const sw_rules *rules, sw_emf_map **ret, sw_err *err);

/* sw_emf_map_free(NULL) does nothing. */
void sw_emf_map_free(sw_emf_map *m);

/*
 * Parse body (newline-delimited EMF documents, blank lines skipped) into b, replacing what b
 * held. On error b is empty and err says "line N: field: what" (SW_E_PARSE), or SW_E_TOOBIG for
 * a body, line or value count over its cap. b's strings point into m, which must outlive it.
 */
sw_status sw_emf_parse(const sw_emf_map *m, const uint8_t *body, size_t len, sw_emf_batch *b,
                       sw_err *err);

/* Release b's arrays. */
void sw_emf_batch_fini(sw_emf_batch *b);

#endif
