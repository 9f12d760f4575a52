/*
 * Written reports kept for a while, so the same report asked again (a dashboard refreshing, a
 * retry) costs a copy instead of a month's scan of the store. Keys are built by the caller
 * from everything the document depends on (month, format, zone, services, rules version).
 * Bounded in entries and bytes; thread-safe.
 */
#ifndef SLAWATCH_REPORT_CACHE_H
#define SLAWATCH_REPORT_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slawatch/buf.h"

typedef struct sw_report_cache sw_report_cache;

/* Up to max_entries documents of max_bytes in all, each served for ttl_ms. NULL: no memory. */
sw_report_cache *sw_report_cache_new(size_t max_entries, size_t max_bytes, int64_t ttl_ms);

/* NULL does nothing. */
void sw_report_cache_free(sw_report_cache *c);

/*
 * The document stored under key less than ttl_ms before now_ms, copied into out (replacing its
 * contents) with its content type; false when there is none or out cannot hold it.
 */
bool sw_report_cache_get(sw_report_cache *c, const char *key, int64_t now_ms, sw_buf *out,
                         const char **ret_content_type);

/*
 * Keep a copy of doc (content_type: a static string) under key, replacing an entry with the
 * same key or else the least recently used one. A document over a quarter of max_bytes is not
 * kept; older entries make room for it otherwise.
 */
void sw_report_cache_put(sw_report_cache *c, const char *key, int64_t now_ms, const void *doc,
                         size_t len, const char *content_type);

#endif
