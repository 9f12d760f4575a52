/*
 * The journal file (see journal.h). `mu` guards the descriptor, the byte counts and the frames'
 * index; `sync_mu` is held across an fdatasync and across a replace, so a sync never runs on a
 * descriptor a replace is closing. Positions are logical (they keep counting across replaces),
 * so a caller whose frame went into a replaced file is covered by the replace's own sync.
 */
#include "slawatch/journal.h"
#include "slawatch/durable.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HEADER 8

/* Where a frame (header included) lies in the current file, and its tag. */
typedef struct journal_frame {
    uint64_t at;
    size_t len;
    int64_t tag;
} journal_frame;

struct sw_journal {
    pthread_mutex_t mu, sync_mu;
    int fd;
    char *path;
    uint64_t size;    /* bytes in the current file */
    uint64_t written; /* logical bytes appended since open */
    uint64_t synced;  /* logical bytes known durable */
    bool dir_dirty;   /* a replace's rename is not durable yet */
    /* A failed append left bytes after the last whole frame that could not be cut off: a
     * frame appended after them would be acknowledged but not replayed (an open stops at the
     * torn bytes), so appends are refused until a cut or a replace succeeds. */
    bool torn;
    sw_buf frame;     /* the frame being appended */
    /* Every frame of the current file with its tag, in file order (sw_journal_keep_from);
     * tags_known false: some frame's tag is not known (replayed at the open, replaced without
     * tags, or the index could not grow), and the index is not kept. */
    journal_frame *frames;
    size_t n_frames, cap_frames;
    bool tags_known;
    sw_buf kept; /* the frames a keep copies, its memory kept for the next */
};

/* ------------------------------------------------------------------ CRC-32C */

/* Slicing by 8: crc_table[k][b] is byte b's CRC followed by k zero bytes, so eight bytes are
 * folded in with eight lookups and no dependency between them (a frame is a whole series' open
 * intervals, and the journal is rewritten at every tick). */
static uint32_t crc_table[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void
crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1; /* Castagnoli, reflected */
        crc_table[0][i] = c;
    }
    for (int k = 1; k < 8; k++)
        for (uint32_t i = 0; i < 256; i++)
            crc_table[k][i] = (crc_table[k - 1][i] >> 8) ^ crc_table[0][crc_table[k - 1][i] & 0xFF];
}

static uint32_t
crc32c(const uint8_t *p, size_t n)
{
    pthread_once(&crc_once, crc_init);
    uint32_t c = 0xFFFFFFFFu;
    for (; n >= 8; p += 8, n -= 8) {
        uint32_t lo = c ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                           (uint32_t)p[3] << 24);
        c = crc_table[7][lo & 0xFF] ^ crc_table[6][(lo >> 8) & 0xFF] ^
            crc_table[5][(lo >> 16) & 0xFF] ^ crc_table[4][lo >> 24] ^ crc_table[3][p[4]] ^
            crc_table[2][p[5]] ^ crc_table[1][p[6]] ^ crc_table[0][p[7]];
    }
    for (; n > 0; p++, n--)
        c = crc_table[0][(c ^ *p) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

static void
put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t
get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

sw_status
sw_journal_frame(sw_buf *out, const void *payload, size_t len, sw_err *err)
{
    if (len > SW_JOURNAL_FRAME_MAX)
        return sw_err_set(err, SW_E_TOOBIG, "journal frame of %zu bytes is over %zu", len,
                          SW_JOURNAL_FRAME_MAX);
    uint8_t h[HEADER];
    put_u32(h, (uint32_t)len);
    put_u32(h + 4, crc32c(payload, len));
    sw_status st = sw_buf_append(out, h, sizeof h, err);
    return st == SW_OK ? sw_buf_append(out, payload, len, err) : st;
}

/* ------------------------------------------------------------------ files */

typedef struct reader {
    FILE *f;
    sw_buf payload;
    uint64_t good; /* bytes of intact frames read */
} reader;

/* The next intact frame into r->payload; false at the end or at a torn or corrupt frame. */
static bool
next_frame(reader *r, sw_err *err)
{
    uint8_t h[HEADER];
    if (fread(h, 1, sizeof h, r->f) != sizeof h)
        return false;
    size_t len = get_u32(h);
    sw_buf_reset(&r->payload);
    if (len > SW_JOURNAL_FRAME_MAX || sw_buf_reserve(&r->payload, len, err) != SW_OK)
        return false;
    if (fread(r->payload.data, 1, len, r->f) != len ||
        crc32c(r->payload.data, len) != get_u32(h + 4))
        return false;
    r->payload.len = len;
    r->good += HEADER + len;
    return true;
}

static sw_status
replay(sw_journal *j, sw_journal_replay_fn fn, void *ctx, size_t *ret_dropped, sw_err *err)
{
    int fd = dup(j->fd);
    FILE *f = fd >= 0 ? fdopen(fd, "rb") : NULL;
    if (f == NULL) {
        if (fd >= 0)
            close(fd);
        return sw_err_sys(err, SW_E_IO, "%s: cannot read", j->path);
    }
    reader r = {.f = f};
    sw_buf_init(&r.payload, SW_JOURNAL_FRAME_MAX);
    sw_status st = SW_OK;
    while (st == SW_OK && next_frame(&r, NULL))
        st = fn(ctx, r.payload.data, r.payload.len, err);
    sw_buf_fini(&r.payload);
    fclose(f);
    if (st != SW_OK)
        return st;
    struct stat sb;
    if (fstat(j->fd, &sb) != 0)
        return sw_err_sys(err, SW_E_IO, "%s: cannot stat", j->path);
    *ret_dropped = (size_t)((uint64_t)sb.st_size - r.good);
    /* New frames must follow the last intact one, not a torn tail. */
    if (r.good < (uint64_t)sb.st_size && ftruncate(j->fd, (off_t)r.good) != 0)
        return sw_err_sys(err, SW_E_IO, "%s: cannot cut off a torn tail", j->path);
    if (lseek(j->fd, (off_t)r.good, SEEK_SET) < 0)
        return sw_err_sys(err, SW_E_IO, "%s: cannot seek", j->path);
    j->size = r.good;
    return SW_OK;
}

sw_status
sw_journal_open(const char *path, sw_journal_replay_fn fn, void *ctx, size_t *ret_dropped,
                sw_journal **ret, sw_err *err)
{
    sw_journal *j = calloc(1, sizeof *j);
    if (j == NULL || (j->path = strdup(path)) == NULL) {
        free(j);
        return sw_err_set(err, SW_E_NOMEM, "out of memory opening the journal");
    }
    pthread_mutex_init(&j->mu, NULL);
    pthread_mutex_init(&j->sync_mu, NULL);
    sw_buf_init(&j->frame, SW_JOURNAL_FRAME_MAX + HEADER);
    sw_buf_init(&j->kept, SIZE_MAX);
    j->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    size_t dropped = 0;
    sw_status st = j->fd < 0 ? sw_err_sys(err, SW_E_IO, "%s: cannot open", path)
                             : replay(j, fn, ctx, &dropped, err);
    if (st != SW_OK) {
        sw_journal_close(j);
        return st;
    }
    j->tags_known = j->size == 0; /* replayed frames' tags are not known */
    if (ret_dropped != NULL)
        *ret_dropped = dropped;
    *ret = j;
    return SW_OK;
}

void
sw_journal_close(sw_journal *j)
{
    if (j == NULL)
        return;
    if (j->fd >= 0)
        close(j->fd);
    sw_buf_fini(&j->frame);
    sw_buf_fini(&j->kept);
    free(j->frames);
    pthread_mutex_destroy(&j->mu);
    pthread_mutex_destroy(&j->sync_mu);
    free(j->path);
    free(j);
}

/* Under mu: the frame of len bytes at `at` indexed with its tag; when the index cannot grow,
 * tags are no longer known (sw_journal_keep_from then declines). */
static void
index_frame(sw_journal *j, uint64_t at, size_t len, int64_t tag)
{
    if (!j->tags_known)
        return;
    if (j->n_frames == j->cap_frames) {
        size_t cap = j->cap_frames ? 2 * j->cap_frames : 256;
        journal_frame *grown = realloc(j->frames, cap * sizeof *grown);
        if (grown == NULL) {
            j->tags_known = false;
            return;
        }
        j->frames = grown;
        j->cap_frames = cap;
    }
    j->frames[j->n_frames++] = (journal_frame){at, len, tag};
}

/* Under mu: the file cut back to its whole frames after a write that failed part way; the
 * journal stays torn while that fails. */
static sw_status
cut_off(sw_journal *j, sw_err *err)
{
    j->torn = ftruncate(j->fd, (off_t)j->size) != 0 || lseek(j->fd, (off_t)j->size, SEEK_SET) < 0;
    if (j->torn)
        return sw_err_sys(err, SW_E_IO, "%s: cannot cut off a failed write; appends refused",
                          j->path);
    return SW_OK;
}

sw_status
sw_journal_append(sw_journal *j, const void *payload, size_t len, int64_t tag, sw_err *err)
{
    sw_buf_reset(&j->frame);
    sw_status st = sw_journal_frame(&j->frame, payload, len, err);
    if (st != SW_OK)
        return st;
    pthread_mutex_lock(&j->mu);
    if (j->torn)
        st = cut_off(j, err);
    if (st == SW_OK)
        st = sw_durable_write_all(j->fd, j->frame.data, j->frame.len, j->path, err);
    if (st == SW_OK) {
        index_frame(j, j->size, j->frame.len, tag);
        j->size += j->frame.len;
        j->written += j->frame.len;
    } else if (!j->torn) {
        cut_off(j, NULL); /* the write's error is the one to report */
    }
    pthread_mutex_unlock(&j->mu);
    return st;
}

sw_status
sw_journal_sync(sw_journal *j, sw_err *err)
{
    pthread_mutex_lock(&j->mu);
    uint64_t target = j->written;
    bool done = j->synced >= target && !j->dir_dirty;
    pthread_mutex_unlock(&j->mu);
    if (done)
        return SW_OK;
    sw_status st = SW_OK;
    pthread_mutex_lock(&j->sync_mu);
    pthread_mutex_lock(&j->mu);
    /* Another caller's fdatasync may have covered this one's frames meanwhile. */
    done = j->synced >= target && !j->dir_dirty;
    uint64_t upto = j->written;
    bool dir = j->dir_dirty;
    int fd = j->fd;
    pthread_mutex_unlock(&j->mu);
    if (!done) {
        if (fdatasync(fd) != 0)
            st = sw_err_sys(err, SW_E_IO, "%s: cannot sync", j->path);
        /* After the file's data: a rename durable before it could name a file without it. */
        if (st == SW_OK && dir)
            st = sw_durable_sync_dir_of(j->path, err);
        pthread_mutex_lock(&j->mu);
        if (st == SW_OK && upto > j->synced)
            j->synced = upto;
        if (st == SW_OK && dir && j->fd == fd)
            j->dir_dirty = false;
        pthread_mutex_unlock(&j->mu);
    }
    pthread_mutex_unlock(&j->sync_mu);
    return st;
}

/* A new file at PATH.new holding frames[0..len), renamed over the journal; its descriptor in
 * *ret_fd. Under sync_mu. */
static sw_status
write_new(sw_journal *j, const uint8_t *frames, size_t len, int *ret_fd, sw_err *err)
{
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.new", j->path) >= sizeof tmp)
        return sw_err_set(err, SW_E_INVAL, "%s: journal path too long", j->path);
    int fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    sw_status st = fd < 0 ? sw_err_sys(err, SW_E_IO, "%s: cannot create", tmp)
                          : sw_durable_write_all(fd, frames, len, tmp, err);
    /* Synced before the rename: a rename made durable by the filesystem's own commit must not
     * name a file whose data is not (ext4 orders a replacing rename after the data; XFS and
     * others do not), or a crash between them would leave an empty journal. */
    if (st == SW_OK && fdatasync(fd) != 0)
        st = sw_err_sys(err, SW_E_IO, "%s: cannot sync", tmp);
    if (st == SW_OK && rename(tmp, j->path) != 0)
        st = sw_err_sys(err, SW_E_IO, "%s: cannot rename to %s", tmp, j->path);
    if (st != SW_OK && fd >= 0) {
        close(fd);
        unlink(tmp);
    }
    *ret_fd = fd;
    return st;
}

/* The new file (fd, len bytes, its data synced) is the journal now. The rename is durable at
 * the next sync; until then the old file's synced frames say the same. Under sync_mu; the
 * caller has set the index for the new file. */
static void
install_new(sw_journal *j, int fd, size_t len)
{
    pthread_mutex_lock(&j->mu);
    int old = j->fd;
    j->fd = fd;
    j->size = len;
    j->written += len;
    j->dir_dirty = true;
    j->torn = false;
    pthread_mutex_unlock(&j->mu);
    close(old);
}

/* The index of frames[0..len) (sw_journal_frame's output) with their tags. */
static void
index_frames(sw_journal *j, const uint8_t *frames, size_t len, const int64_t *tags)
{
    pthread_mutex_lock(&j->mu);
    j->n_frames = 0;
    j->tags_known = tags != NULL;
    for (size_t at = 0, k = 0; at + HEADER <= len; k++) {
        size_t n = HEADER + get_u32(frames + at);
        index_frame(j, at, n, tags != NULL ? tags[k] : 0);
        at += n;
    }
    pthread_mutex_unlock(&j->mu);
}

sw_status
sw_journal_replace(sw_journal *j, const uint8_t *frames, size_t len, const int64_t *tags,
                   sw_err *err)
{
    pthread_mutex_lock(&j->sync_mu);
    int fd;
    sw_status st = write_new(j, frames, len, &fd, err);
    if (st == SW_OK) {
        index_frames(j, frames, len, tags);
        install_new(j, fd, len);
    }
    pthread_mutex_unlock(&j->sync_mu);
    return st;
}

/* The frames tagged from `from` on, read back from the current file as they are, into out: one
 * read per run of consecutive frames kept (the open intervals' records are mostly the last). */
static sw_status
read_kept(sw_journal *j, int64_t from, sw_buf *out, sw_err *err)
{
    size_t total = 0;
    for (size_t i = 0; i < j->n_frames; i++)
        total += j->frames[i].tag >= from ? j->frames[i].len : 0;
    sw_status st = sw_buf_reserve(out, total, err);
    for (size_t i = 0; st == SW_OK && i < j->n_frames;) {
        if (j->frames[i].tag < from) {
            i++;
            continue;
        }
        uint64_t at = j->frames[i].at;
        size_t len = 0;
        for (; i < j->n_frames && j->frames[i].tag >= from; i++)
            len += j->frames[i].len;
        if (pread(j->fd, out->data + out->len, len, (off_t)at) != (ssize_t)len)
            return sw_err_sys(err, SW_E_IO, "%s: cannot read frames back", j->path);
        out->len += len;
    }
    return st;
}

sw_status
sw_journal_keep_from(sw_journal *j, int64_t from, bool *ret_kept, sw_err *err)
{
    *ret_kept = false;
    pthread_mutex_lock(&j->sync_mu);
    pthread_mutex_lock(&j->mu);
    bool known = j->tags_known;
    pthread_mutex_unlock(&j->mu);
    sw_buf *kept = &j->kept;
    sw_buf_reset(kept);
    sw_status st = known ? read_kept(j, from, kept, err) : SW_OK;
    int fd;
    if (known && st == SW_OK && (st = write_new(j, kept->data, kept->len, &fd, err)) == SW_OK) {
        pthread_mutex_lock(&j->mu);
        size_t n = 0;
        uint64_t at = 0;
        for (size_t i = 0; i < j->n_frames; i++)
            if (j->frames[i].tag >= from) {
                j->frames[n] = (journal_frame){at, j->frames[i].len, j->frames[i].tag};
                at += j->frames[n++].len;
            }
        j->n_frames = n;
        pthread_mutex_unlock(&j->mu);
        install_new(j, fd, kept->len);
        *ret_kept = true;
    }
    pthread_mutex_unlock(&j->sync_mu);
    return st;
}

uint64_t
sw_journal_size(sw_journal *j)
{
    pthread_mutex_lock(&j->mu);
    uint64_t n = j->size;
    pthread_mutex_unlock(&j->mu);
    return n;
}
