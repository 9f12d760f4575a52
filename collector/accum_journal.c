/*
 * The accumulators' write-ahead journal: every commit's entries become one journal record
 * before they are merged, so what a source was told is accepted survives kill -9; a restart
 * merges the records back. Once the daemon has stored everything taken, the journal is
 * compacted to the open intervals alone, so it holds about one tick of data.
 *
 * Record: 'A' 1, then varint entry count and per entry: service (varint length, bytes), env
 * (varint length + 1, 0 for none), start (zigzag varint), requests, errors, the five health
 * counts, the latency histogram (varint length, 0 for none, then its uncompressed V2 encoding).
 */
#include "accum_int.h"

#include <stdlib.h>
#include <string.h>

#include "slawatch/hdr_codec.h"
#include "slawatch/varint.h"

#define MAGIC 'A'
#define VERSION 1
#define NAME_MAX_LEN 4096

static sw_status
put_varint(sw_buf *out, uint64_t v, sw_err *err)
{
    uint8_t tmp[SW_VARINT_MAX];
    return sw_buf_append(out, tmp, sw_varint_put(tmp, v), err);
}

static sw_status
put_name(sw_buf *out, const char *s, bool nullable, sw_err *err)
{
    size_t n = s != NULL ? strlen(s) : 0;
    sw_status st = put_varint(out, nullable ? (s != NULL ? n + 1 : 0) : n, err);
    return st == SW_OK && n > 0 ? sw_buf_append(out, s, n, err) : st;
}

static sw_status
put_entry(const accum_entry *e, sw_buf *out, sw_buf *hdr, accum_span *span, sw_err *err)
{
    const sw_sli_interval *iv = &e->iv;
    const sw_health *h = &iv->health;
    uint64_t start = ((uint64_t)iv->start_ms << 1) ^ (uint64_t)(iv->start_ms >> 63);
    const uint64_t v[] = {
        start,       iv->requests,        iv->errors,           h->probes,
        h->failures, h->leading_failures, h->trailing_failures, h->longest_failures};
    sw_status st = put_name(out, e->service, false, err);
    if (st == SW_OK)
        st = put_name(out, e->env, true, err);
    for (size_t i = 0; st == SW_OK && i < sizeof v / sizeof v[0]; i++)
        st = put_varint(out, v[i], err);
    sw_buf_reset(hdr);
    if (st == SW_OK && iv->latency != NULL)
        st = sw_hdr_encode(iv->latency, false, hdr, err);
    if (st == SW_OK)
        st = put_varint(out, hdr->len, err);
    if (span != NULL)
        *span = (accum_span){out->len, hdr->len};
    if (st == SW_OK && hdr->len > 0)
        st = sw_buf_append(out, hdr->data, hdr->len, err);
    return st;
}

sw_status
sw_accum_encode_entries(const accum_entry *e, size_t n, sw_buf *out, accum_span *spans,
                        sw_err *err)
{
    const uint8_t head[] = {MAGIC, VERSION};
    sw_buf hdr;
    sw_buf_init(&hdr, SW_JOURNAL_FRAME_MAX);
    sw_status st = sw_buf_append(out, head, sizeof head, err);
    if (st == SW_OK)
        st = put_varint(out, n, err);
    for (size_t i = 0; st == SW_OK && i < n; i++)
        st = put_entry(&e[i], out, &hdr, spans != NULL ? &spans[i] : NULL, err);
    sw_buf_fini(&hdr);
    return st;
}

/* ------------------------------------------------------------------ decoding */

typedef struct cursor {
    const uint8_t *p;
    size_t left;
    bool bad;
} cursor;

static uint64_t
get_varint(cursor *c)
{
    uint64_t v = 0;
    size_t n = c->bad ? 0 : sw_varint_get(c->p, c->left, &v);
    c->bad |= n == 0;
    c->p += n;
    c->left -= n;
    return v;
}

/* The next n bytes as a string (malloc'd); NULL on a bad record. */
static char *
get_name(cursor *c, size_t n)
{
    if (c->bad || n > c->left || n > NAME_MAX_LEN) {
        c->bad = true;
        return NULL;
    }
    char *s = strndup((const char *)c->p, n);
    c->p += n;
    c->left -= n;
    c->bad |= s == NULL;
    return s;
}

static bool
fits_u32(uint64_t v)
{
    return v <= UINT32_MAX;
}

static sw_status
get_entry(cursor *c, int64_t base_ms, sw_accum_batch *b, int64_t skip_before_ms, sw_err *err)
{
    char *service = get_name(c, get_varint(c));
    uint64_t env_len = get_varint(c);
    char *env = env_len > 0 ? get_name(c, env_len - 1) : NULL;
    uint64_t zz = get_varint(c);
    sw_sli_interval iv = {
        .start_ms = (int64_t)((zz >> 1) ^ (~(zz & 1) + 1)), .length_ms = base_ms, .has_data = true};
    iv.requests = get_varint(c);
    iv.errors = get_varint(c);
    uint64_t h[5];
    for (int i = 0; i < 5; i++)
        c->bad |= !fits_u32(h[i] = get_varint(c));
    iv.health =
        (sw_health){(uint32_t)h[0], (uint32_t)h[1], (uint32_t)h[2], (uint32_t)h[3], (uint32_t)h[4]};
    uint64_t hdr_len = get_varint(c);
    sw_status st = SW_OK;
    if (!c->bad && hdr_len > c->left)
        c->bad = true;
    if (!c->bad && hdr_len > 0) {
        st = sw_hdr_decode(c->p, (size_t)hdr_len, &iv.latency, err);
        c->p += hdr_len;
        c->left -= hdr_len;
    }
    if (st == SW_OK &&
        (c->bad || service == NULL || (env_len > 0 && env == NULL) || iv.start_ms % base_ms != 0))
        st = sw_err_set(err, SW_E_PARSE, "journal record: a malformed entry");
    if (st == SW_OK && iv.start_ms >= skip_before_ms)
        st = sw_accum_batch_interval(b, service, env, &iv, err);
    sw_sli_interval_fini(&iv);
    free(service);
    free(env);
    return st;
}

sw_status
sw_accum_decode_entries(const uint8_t *p, size_t len, int64_t skip_before_ms, sw_accum_batch *b,
                        sw_err *err)
{
    if (len < 2 || p[0] != MAGIC || p[1] != VERSION)
        return sw_err_set(err, SW_E_PARSE, "journal record: not version %d of this format",
                          VERSION);
    cursor c = {p + 2, len - 2, false};
    uint64_t n = get_varint(&c);
    sw_status st = c.bad ? sw_err_set(err, SW_E_PARSE, "journal record: no entry count") : SW_OK;
    for (uint64_t i = 0; st == SW_OK && i < n; i++)
        st = get_entry(&c, b->base_ms, b, skip_before_ms, err);
    if (st == SW_OK && c.left != 0)
        st = sw_err_set(err, SW_E_PARSE, "journal record: %zu bytes after its entries", c.left);
    return st;
}

/* ------------------------------------------------------------------ the journal */

typedef struct replay_ctx {
    sw_accum *a;
    int64_t skip_before_ms;
    size_t entries;
} replay_ctx;

static sw_status
replay_record(void *ctx, const uint8_t *payload, size_t len, sw_err *err)
{
    replay_ctx *r = ctx;
    sw_accum_batch *b = sw_accum_batch_new(r->a);
    if (b == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory replaying the journal");
    sw_status st = sw_accum_decode_entries(payload, len, r->skip_before_ms, b, err);
    if (st == SW_OK) {
        pthread_mutex_lock(&r->a->lock);
        st = sw_accum_commit_locked(r->a, b, false, err);
        pthread_mutex_unlock(&r->a->lock);
        r->entries += b->n;
    }
    sw_accum_batch_free(b);
    return st;
}

sw_status
sw_accum_journal_open(sw_accum *a, const char *path, int64_t skip_before_ms, size_t *ret_replayed,
                      sw_err *err)
{
    SW_REQUIRE(a->journal == NULL);
    replay_ctx r = {a, skip_before_ms, 0};
    sw_journal *j;
    sw_status st = sw_journal_open(path, replay_record, &r, NULL, &j, err);
    if (st != SW_OK) {
        sw_err_prefix(err, "%s", path);
        return st;
    }
    pthread_mutex_lock(&a->lock);
    a->journal = j;
    pthread_mutex_unlock(&a->lock);
    if (ret_replayed != NULL)
        *ret_replayed = r.entries;
    return SW_OK;
}

sw_status
sw_accum_sync(sw_accum *a, sw_err *err)
{
    return a->journal != NULL ? sw_journal_sync(a->journal, err) : SW_OK;
}

/* One series' open intervals as one record, framed into frames. */
static sw_status
frame_series(const accum_series *s, sw_buf *record, sw_buf *frames, sw_err *err)
{
    accum_entry *e = calloc(s->n_open + 1, sizeof *e);
    if (e == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory compacting the journal");
    for (size_t i = 0; i < s->n_open; i++)
        e[i] = (accum_entry){.service = s->service, .env = s->env, .iv = s->open[i]};
    sw_buf_reset(record);
    sw_status st = sw_accum_encode_entries(e, s->n_open, record, NULL, err);
    if (st == SW_OK)
        st = sw_journal_frame(frames, record->data, record->len, err);
    free(e);
    return st;
}

/* Every series' open intervals encoded again, one frame a series tagged with its latest
 * interval: under a's lock. */
static sw_status
encode_open(sw_accum *a, sw_err *err)
{
    sw_buf frames, record;
    sw_buf_init(&frames, SIZE_MAX);
    sw_buf_init(&record, SW_JOURNAL_FRAME_MAX);
    int64_t *tags = calloc(a->n_series + 1, sizeof *tags);
    size_t n = 0;
    sw_status st =
        tags != NULL ? SW_OK : sw_err_set(err, SW_E_NOMEM, "out of memory compacting the journal");
    for (size_t i = 0; st == SW_OK && i < a->n_series; i++) {
        const accum_series *s = &a->series[i];
        if (s->n_open == 0)
            continue;
        tags[n++] = s->open[s->n_open - 1].start_ms;
        st = frame_series(s, &record, &frames, err);
    }
    if (st == SW_OK)
        st = sw_journal_replace(a->journal, frames.data, frames.len, tags, err);
    free(tags);
    sw_buf_fini(&frames);
    sw_buf_fini(&record);
    return st;
}

/*
 * The records of intervals not taken yet are kept as they were written (a record's tag is the
 * latest interval it holds; a carried increase is journaled in the interval it went to), so
 * the compaction costs the bytes still needed, not every open interval encoded again. Encoded
 * again instead when a record's tag is not known (replayed at the start).
 */
sw_status
sw_accum_journal_compact(sw_accum *a, sw_err *err)
{
    if (a->journal == NULL)
        return SW_OK;
    /* Under the lock: no commit may land between the snapshot and the switch. */
    pthread_mutex_lock(&a->lock);
    bool kept;
    sw_status st = sw_journal_keep_from(a->journal, sw_accum_taken_until_locked(a), &kept, err);
    if (st == SW_OK && !kept)
        st = encode_open(a, err);
    pthread_mutex_unlock(&a->lock);
    /* Synced outside the lock: commits go on meanwhile (and share this sync). */
    return st == SW_OK ? sw_journal_sync(a->journal, err) : st;
}
