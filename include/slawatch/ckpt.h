/*
 * A checkpoint file: a state saved whole so a restart need not rebuild it, with what it was
 * built from and how far it reaches, refused on load unless it is intact, of this version, built
 * from the same inputs and not ahead of the store it summarises.
 *
 * Layout (little endian): the 8 bytes "SWCKPT\r\n", u32 version, u32 zero, the 32-byte digest of
 * the inputs (sw_ckpt_digest), i64 store_until_ms, i64 evaluated_ms, u64 payload length, the
 * 32-byte SHA-256 of everything before it followed by the payload, then the payload. A writer
 * replaces the file atomically (a temporary file written and synced, renamed over it, the
 * directory synced), so a process killed at any moment leaves the old file or the new one.
 */
#ifndef SLAWATCH_CKPT_H
#define SLAWATCH_CKPT_H

#include <stddef.h>
#include <stdint.h>

#include "slawatch/buf.h"
#include "slawatch/err.h"

#define SW_CKPT_VERSION 3u
#define SW_CKPT_DIGEST_LEN 32
#define SW_CKPT_HEADER_LEN 104

typedef struct sw_ckpt_meta {
    uint8_t digest[SW_CKPT_DIGEST_LEN]; /* of the inputs the state was built from */
    int64_t store_until_ms; /* the state holds every stored row ending at or before this */
    int64_t evaluated_ms;   /* the last boundary the state was evaluated at */
} sw_ckpt_meta;

/* Why a checkpoint was not loaded (SW_CKPT_LOADED: it was). */
typedef enum sw_ckpt_verdict {
    SW_CKPT_LOADED,
    SW_CKPT_MISSING,
    SW_CKPT_UNREADABLE,    /* an I/O error other than a missing file */
    SW_CKPT_TOO_LARGE,     /* over the caller's bound: not read */
    SW_CKPT_CORRUPT,       /* not a checkpoint, truncated, or its checksum differs */
    SW_CKPT_OTHER_VERSION, /* written by another version of the format */
    SW_CKPT_OTHER_INPUTS,  /* built from other rules, base interval or shard */
    SW_CKPT_AHEAD_OF_STORE /* covers rows the store does not hold */
} sw_ckpt_verdict;

/* A few words for a log line: "no checkpoint file", "its checksum differs", ... */
const char *sw_ckpt_verdict_text(sw_ckpt_verdict v);

/*
 * The digest of what a state depends on: the rules text (a bundle for several files), the base
 * interval and the shard (count 0: not sharded). SHA-256 of a fixed encoding of them, stable
 * across builds and platforms.
 */
sw_status sw_ckpt_digest(const char *rules_text, size_t rules_len, int64_t base_ms,
                         uint32_t shard_count, uint32_t shard_index,
                         uint8_t ret[SW_CKPT_DIGEST_LEN], sw_err *err);

/*
 * Check a checkpoint's bytes: on SW_CKPT_LOADED *ret_meta and the payload (a view into data)
 * are set. The store's newest row ends at store_until_ms. Reads nothing past data + len.
 */
sw_ckpt_verdict sw_ckpt_parse(const uint8_t *data, size_t len,
                              const uint8_t expect_digest[SW_CKPT_DIGEST_LEN],
                              int64_t store_until_ms, sw_ckpt_meta *ret_meta,
                              const uint8_t **ret_payload, size_t *ret_payload_len);

/*
 * Read the file at path into file (reset here; never more than max_bytes) and check it as
 * sw_ckpt_parse does. err says what went wrong on SW_CKPT_UNREADABLE.
 */
sw_ckpt_verdict sw_ckpt_load(const char *path, size_t max_bytes,
                             const uint8_t expect_digest[SW_CKPT_DIGEST_LEN],
                             int64_t store_until_ms, sw_buf *file, sw_ckpt_meta *ret_meta,
                             const uint8_t **ret_payload, size_t *ret_payload_len, sw_err *err);

/* Replace the file at path with a checkpoint of meta and payload, atomically and durably. */
sw_status sw_ckpt_write(const char *path, const sw_ckpt_meta *meta, const void *payload,
                        size_t payload_len, sw_err *err);

#endif
