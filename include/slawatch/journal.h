/*
 * An append-only journal of framed records, for data acknowledged before it reaches the store.
 * Each frame is [u32 length][u32 CRC-32C of the payload][payload], little endian, appended with
 * one write(2): a process killed at any moment leaves whole frames and at most one torn frame at
 * the end, which the next open cuts off. sw_journal_sync makes everything appended so far
 * durable with one fdatasync shared by every caller waiting at the same time (group commit).
 * sw_journal_replace swaps the whole contents for new frames atomically (a temporary file renamed
 * over the journal; the next sync makes both durable), so the journal stays as small as what it
 * must keep. Each frame carries a tag, the caller's (the latest interval its record holds):
 * sw_journal_keep_from swaps the contents the same way for the frames tagged from a value on,
 * copied as they are, so dropping what is no longer needed costs the bytes still needed, not
 * the records encoded again.
 *
 * Appends, replaces and keeps must be serialised by the caller; sync may be called from any
 * thread.
 */
#ifndef SLAWATCH_JOURNAL_H
#define SLAWATCH_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slawatch/buf.h"
#include "slawatch/err.h"

#define SW_JOURNAL_FRAME_MAX ((size_t)64 << 20) /* a longer frame is corrupt */

typedef struct sw_journal sw_journal;

/* Called with each intact frame's payload in order while the journal is opened. */
typedef sw_status (*sw_journal_replay_fn)(void *ctx, const uint8_t *payload, size_t len,
                                          sw_err *err);

/*
 * Open (creating) the journal at path and replay its intact frames to fn; a torn or corrupt
 * tail is cut off and its size put in *ret_dropped (bytes). A replay error stops the open.
 */
sw_status sw_journal_open(const char *path, sw_journal_replay_fn fn, void *ctx, size_t *ret_dropped,
                          sw_journal **ret, sw_err *err);

/* sw_journal_close(NULL) does nothing. Nothing is synced. */
void sw_journal_close(sw_journal *j);

/* Append payload as one frame tagged tag (written, not yet synced). On error nothing is
 * appended: a frame written part way is cut off, and while that fails further appends are
 * refused (until a cut or a replace succeeds). */
sw_status sw_journal_append(sw_journal *j, const void *payload, size_t len, int64_t tag,
                            sw_err *err);

/* Append payload to out as one frame, for sw_journal_replace. */
sw_status sw_journal_frame(sw_buf *out, const void *payload, size_t len, sw_err *err);

/* Make every frame appended before the call durable. Thread-safe. */
sw_status sw_journal_sync(sw_journal *j, sw_err *err);

/* Replace the journal's contents with frames (sw_journal_frame's output), tagged tags[i] each in
 * order (NULL: not known); durable at the next sw_journal_sync. */
sw_status sw_journal_replace(sw_journal *j, const uint8_t *frames, size_t len, const int64_t *tags,
                             sw_err *err);

/*
 * Replace the journal's contents with its frames tagged from `from` on, as they are, in their
 * order; durable at the next sw_journal_sync. *ret_kept false and nothing done when some
 * frame's tag is not known: those replayed at the open, or replaced without tags (the caller
 * then replaces the contents itself).
 */
sw_status sw_journal_keep_from(sw_journal *j, int64_t from, bool *ret_kept, sw_err *err);

/* Bytes the journal file holds now. */
uint64_t sw_journal_size(sw_journal *j);

#endif
