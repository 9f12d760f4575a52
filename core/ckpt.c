/*
 * Checkpoint files (see ckpt.h). The checksum is SHA-256, not a CRC: the same primitive as the
 * digest, and a file that passes it was written by a writer, not merely left uncorrupted.
 */
#include "slawatch/ckpt.h"
#include "slawatch/durable.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const uint8_t MAGIC[8] = {'S', 'W', 'C', 'K', 'P', 'T', '\r', '\n'};

/* Header offsets. */
enum {
    OFF_VERSION = 8,
    OFF_ZERO = 12,
    OFF_DIGEST = 16,
    OFF_STORE_UNTIL = 48,
    OFF_EVALUATED = 56,
    OFF_PAYLOAD_LEN = 64,
    OFF_CHECKSUM = 72,
};

static void
put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t
get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
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

/* SHA-256 of a then b. */
static sw_status
sha256_two(const void *a, size_t a_len, const void *b, size_t b_len,
           uint8_t ret[SW_CKPT_DIGEST_LEN], sw_err *err)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int n = 0;
    bool ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
              EVP_DigestUpdate(ctx, a, a_len) == 1 && EVP_DigestUpdate(ctx, b, b_len) == 1 &&
              EVP_DigestFinal_ex(ctx, ret, &n) == 1 && n == SW_CKPT_DIGEST_LEN;
    EVP_MD_CTX_free(ctx);
    return ok ? SW_OK : sw_err_set(err, SW_E_NOMEM, "checkpoint: SHA-256 failed");
}

const char *
sw_ckpt_verdict_text(sw_ckpt_verdict v)
{
    switch (v) {
    case SW_CKPT_LOADED:
        return "loaded";
    case SW_CKPT_MISSING:
        return "no checkpoint file";
    case SW_CKPT_UNREADABLE:
        return "the checkpoint file cannot be read";
    case SW_CKPT_TOO_LARGE:
        return "the checkpoint file is larger than allowed";
    case SW_CKPT_CORRUPT:
        return "the checkpoint file is damaged (its checksum or length differs)";
    case SW_CKPT_OTHER_VERSION:
        return "the checkpoint file is of another format version";
    case SW_CKPT_OTHER_INPUTS:
        return "the checkpoint was built from other rules, base interval or shard";
    case SW_CKPT_AHEAD_OF_STORE:
        return "the checkpoint covers rows the store does not hold";
    }
    return "unknown";
}

sw_status
sw_ckpt_digest(const char *rules_text, size_t rules_len, int64_t base_ms, uint32_t shard_count,
               uint32_t shard_index, uint8_t ret[SW_CKPT_DIGEST_LEN], sw_err *err)
{
    /* A 16-byte tag, the fixed fields and the text's length, so no two inputs encode alike. */
    uint8_t fixed[40] = "slawatch inputs";
    put_u64(fixed + 16, (uint64_t)base_ms);
    put_u32(fixed + 24, shard_count);
    put_u32(fixed + 28, shard_index);
    put_u64(fixed + 32, (uint64_t)rules_len);
    return sha256_two(fixed, sizeof fixed, rules_text, rules_len, ret, err);
}

sw_ckpt_verdict
sw_ckpt_parse(const uint8_t *data, size_t len, const uint8_t expect_digest[SW_CKPT_DIGEST_LEN],
              int64_t store_until_ms, sw_ckpt_meta *ret_meta, const uint8_t **ret_payload,
              size_t *ret_payload_len)
{
    if (len < SW_CKPT_HEADER_LEN || memcmp(data, MAGIC, sizeof MAGIC) != 0)
        return SW_CKPT_CORRUPT;
    if (get_u32(data + OFF_VERSION) != SW_CKPT_VERSION)
        return SW_CKPT_OTHER_VERSION;
    uint64_t payload_len = get_u64(data + OFF_PAYLOAD_LEN);
    if (get_u32(data + OFF_ZERO) != 0 || payload_len != len - SW_CKPT_HEADER_LEN)
        return SW_CKPT_CORRUPT;
    uint8_t sum[SW_CKPT_DIGEST_LEN];
    if (sha256_two(data, OFF_CHECKSUM, data + SW_CKPT_HEADER_LEN, (size_t)payload_len, sum, NULL) !=
            SW_OK ||
        memcmp(sum, data + OFF_CHECKSUM, sizeof sum) != 0)
        return SW_CKPT_CORRUPT;
    sw_ckpt_meta m;
    memcpy(m.digest, data + OFF_DIGEST, sizeof m.digest);
    m.store_until_ms = (int64_t)get_u64(data + OFF_STORE_UNTIL);
    m.evaluated_ms = (int64_t)get_u64(data + OFF_EVALUATED);
    if (memcmp(m.digest, expect_digest, sizeof m.digest) != 0)
        return SW_CKPT_OTHER_INPUTS;
    if (m.store_until_ms > store_until_ms)
        return SW_CKPT_AHEAD_OF_STORE;
    *ret_meta = m;
    *ret_payload = data + SW_CKPT_HEADER_LEN;
    *ret_payload_len = (size_t)payload_len;
    return SW_CKPT_LOADED;
}

/* The whole file into buf, refusing one over max_bytes before reading it. */
static sw_ckpt_verdict
read_file(const char *path, size_t max_bytes, sw_buf *buf, sw_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return SW_CKPT_MISSING;
    if (fd < 0) {
        sw_err_sys(err, SW_E_IO, "%s: cannot open", path);
        return SW_CKPT_UNREADABLE;
    }
    struct stat sb;
    sw_ckpt_verdict v = SW_CKPT_LOADED;
    if (fstat(fd, &sb) != 0)
        v = (sw_err_sys(err, SW_E_IO, "%s: cannot stat", path), SW_CKPT_UNREADABLE);
    else if ((uint64_t)sb.st_size > max_bytes)
        v = SW_CKPT_TOO_LARGE;
    else if (sw_buf_reserve(buf, (size_t)sb.st_size, err) != SW_OK)
        v = SW_CKPT_UNREADABLE;
    while (v == SW_CKPT_LOADED && buf->len < (size_t)sb.st_size) {
        ssize_t r = read(fd, buf->data + buf->len, (size_t)sb.st_size - buf->len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            v = (sw_err_sys(err, SW_E_IO, "%s: cannot read", path), SW_CKPT_UNREADABLE);
        else if (r == 0) /* shrank while read: what is there is not the file that was stat'ed */
            v = SW_CKPT_CORRUPT;
        else
            buf->len += (size_t)r;
    }
    close(fd);
    return v;
}

sw_ckpt_verdict
sw_ckpt_load(const char *path, size_t max_bytes, const uint8_t expect_digest[SW_CKPT_DIGEST_LEN],
             int64_t store_until_ms, sw_buf *file, sw_ckpt_meta *ret_meta,
             const uint8_t **ret_payload, size_t *ret_payload_len, sw_err *err)
{
    sw_buf_reset(file);
    sw_ckpt_verdict v = read_file(path, max_bytes, file, err);
    if (v != SW_CKPT_LOADED)
        return v;
    return sw_ckpt_parse(file->data, file->len, expect_digest, store_until_ms, ret_meta,
                         ret_payload, ret_payload_len);
}

sw_status
sw_ckpt_write(const char *path, const sw_ckpt_meta *meta, const void *payload, size_t payload_len,
              sw_err *err)
{
    uint8_t h[SW_CKPT_HEADER_LEN] = {0};
    memcpy(h, MAGIC, sizeof MAGIC);
    put_u32(h + OFF_VERSION, SW_CKPT_VERSION);
    memcpy(h + OFF_DIGEST, meta->digest, SW_CKPT_DIGEST_LEN);
    put_u64(h + OFF_STORE_UNTIL, (uint64_t)meta->store_until_ms);
    put_u64(h + OFF_EVALUATED, (uint64_t)meta->evaluated_ms);
    put_u64(h + OFF_PAYLOAD_LEN, (uint64_t)payload_len);
    sw_status st = sha256_two(h, OFF_CHECKSUM, payload, payload_len, h + OFF_CHECKSUM, err);
    if (st != SW_OK)
        return st;
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
        return sw_err_set(err, SW_E_INVAL, "%s: checkpoint path too long", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return sw_err_sys(err, SW_E_IO, "%s: cannot create", tmp);
    st = sw_durable_write_all(fd, h, sizeof h, tmp, err);
    if (st == SW_OK)
        st = sw_durable_write_all(fd, payload, payload_len, tmp, err);
    /* The data must be durable before the rename can name it. */
    if (st == SW_OK && fsync(fd) != 0)
        st = sw_err_sys(err, SW_E_IO, "%s: cannot sync", tmp);
    if (close(fd) != 0 && st == SW_OK)
        st = sw_err_sys(err, SW_E_IO, "%s: cannot close", tmp);
    if (st == SW_OK && rename(tmp, path) != 0)
        st = sw_err_sys(err, SW_E_IO, "%s: cannot rename to %s", tmp, path);
    if (st != SW_OK) {
        unlink(tmp);
        return st;
    }
    return sw_durable_sync_dir_of(path, err);
}
