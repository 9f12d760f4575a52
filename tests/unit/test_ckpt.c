/*
 * Unit tests for checkpoint files: the reader and the digest against seeds encoded by
 * fuzz/gen_ckpt_corpus.py with Python's hashlib (an independent encoder of ckpt.h's layout);
 * written files read back; every byte flipped and every truncation refused; each verdict for its
 * cause; and a writer killed with SIGKILL at random moments leaving a whole old or new file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "slawatch/ckpt.h"

#define SEED_RULES "objectives: []\n"
#define SEED_BASE_MS 10000
#define SEED_STORE_UNTIL INT64_C(1700000000000)
#define MAX_BYTES ((size_t)64 << 20)

static void
seed_digest(uint8_t d[SW_CKPT_DIGEST_LEN])
{
    assert_int_equal(sw_ckpt_digest(SEED_RULES, strlen(SEED_RULES), SEED_BASE_MS, 0, 0, d, NULL),
                     SW_OK);
}

static sw_ckpt_verdict
load_seed(const char *name, int64_t store_until_ms, sw_buf *file, sw_ckpt_meta *meta,
          const uint8_t **payload, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", SW_CKPT_CORPUS, name);
    uint8_t d[SW_CKPT_DIGEST_LEN];
    seed_digest(d);
    return sw_ckpt_load(path, MAX_BYTES, d, store_until_ms, file, meta, payload, len, NULL);
}

static void
test_seeds_from_an_independent_encoder(void **state)
{
    (void)state;
    sw_buf file;
    sw_buf_init(&file, MAX_BYTES);
    sw_ckpt_meta meta;
    const uint8_t *payload;
    size_t len;
    assert_int_equal(load_seed("valid", SEED_STORE_UNTIL, &file, &meta, &payload, &len),
                     SW_CKPT_LOADED);
    assert_true(meta.store_until_ms == SEED_STORE_UNTIL);
    assert_true(meta.evaluated_ms == SEED_STORE_UNTIL - 10000);
    assert_int_equal(len, 1024);
    for (size_t i = 0; i < len; i++)
        assert_int_equal(payload[i], i % 256);
    assert_int_equal(load_seed("valid-empty", 0, &file, &meta, &payload, &len), SW_CKPT_LOADED);
    assert_int_equal(len, 0);
    /* The same file is ahead of a store whose newest row ends earlier. */
    assert_int_equal(load_seed("valid", SEED_STORE_UNTIL - 1, &file, &meta, &payload, &len),
                     SW_CKPT_AHEAD_OF_STORE);
    assert_int_equal(load_seed("ahead-of-store", SEED_STORE_UNTIL, &file, &meta, &payload, &len),
                     SW_CKPT_AHEAD_OF_STORE);
    assert_int_equal(load_seed("other-version", SEED_STORE_UNTIL, &file, &meta, &payload, &len),
                     SW_CKPT_OTHER_VERSION);
    assert_int_equal(load_seed("other-inputs", SEED_STORE_UNTIL, &file, &meta, &payload, &len),
                     SW_CKPT_OTHER_INPUTS);
    assert_int_equal(load_seed("torn", SEED_STORE_UNTIL, &file, &meta, &payload, &len),
                     SW_CKPT_CORRUPT);
    assert_int_equal(load_seed("no-such-file", SEED_STORE_UNTIL, &file, &meta, &payload, &len),
                     SW_CKPT_MISSING);
    sw_buf_fini(&file);
}

static void
test_digest_covers_every_input(void **state)
{
    (void)state;
    uint8_t base[SW_CKPT_DIGEST_LEN], other[SW_CKPT_DIGEST_LEN];
    seed_digest(base);
    const char *text = SEED_RULES;
    size_t n = strlen(text);
    assert_int_equal(sw_ckpt_digest("objectives: [] \n", n + 1, SEED_BASE_MS, 0, 0, other, NULL),
                     SW_OK);
    assert_memory_not_equal(base, other, sizeof base);
    assert_int_equal(sw_ckpt_digest(text, n, 60000, 0, 0, other, NULL), SW_OK);
    assert_memory_not_equal(base, other, sizeof base);
    assert_int_equal(sw_ckpt_digest(text, n, SEED_BASE_MS, 2, 0, other, NULL), SW_OK);
    assert_memory_not_equal(base, other, sizeof base);
    uint8_t shard1[SW_CKPT_DIGEST_LEN];
    assert_int_equal(sw_ckpt_digest(text, n, SEED_BASE_MS, 2, 1, shard1, NULL), SW_OK);
    assert_memory_not_equal(other, shard1, sizeof other);
    assert_int_equal(sw_ckpt_digest(text, n, SEED_BASE_MS, 0, 0, other, NULL), SW_OK);
    assert_memory_equal(base, other, sizeof base);
}

static char *
temp_dir(void)
{
    char tmpl[] = "/tmp/sw-test-ckpt-XXXXXX";
    char *dir = mkdtemp(tmpl);
    assert_non_null(dir);
    return strdup(dir);
}

static void
remove_dir(char *dir, const char *path)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    unlink(tmp);
    unlink(path);
    assert_int_equal(rmdir(dir), 0);
    free(dir);
}

static void
test_written_file_reads_back_and_damage_is_refused(void **state)
{
    (void)state;
    char *dir = temp_dir(), path[4096];
    snprintf(path, sizeof path, "%s/checkpoint", dir);
    sw_ckpt_meta meta = {.store_until_ms = 5000, .evaluated_ms = -20};
    seed_digest(meta.digest);
    uint8_t payload[300];
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)(i * 7 + 3);
    assert_int_equal(sw_ckpt_write(path, &meta, payload, sizeof payload, NULL), SW_OK);

    sw_buf file;
    sw_buf_init(&file, MAX_BYTES);
    sw_ckpt_meta got;
    const uint8_t *p;
    size_t len;
    assert_int_equal(sw_ckpt_load(path, MAX_BYTES, meta.digest, 5000, &file, &got, &p, &len, NULL),
                     SW_CKPT_LOADED);
    assert_memory_equal(&got, &meta, sizeof meta);
    assert_int_equal(len, sizeof payload);
    assert_memory_equal(p, payload, len);
    assert_int_equal(sw_ckpt_load(path, SW_CKPT_HEADER_LEN + sizeof payload - 1, meta.digest, 5000,
                                  &file, &got, &p, &len, NULL),
                     SW_CKPT_TOO_LARGE);

    /* Every byte flipped: the version field says so, anything else fails the checksum. */
    uint8_t *copy = malloc(file.len);
    assert_non_null(copy);
    for (size_t i = 0; i < file.len; i++) {
        memcpy(copy, file.data, file.len);
        copy[i] ^= 0x5a;
        sw_ckpt_verdict want = i >= 8 && i < 12 ? SW_CKPT_OTHER_VERSION : SW_CKPT_CORRUPT;
        assert_int_equal(sw_ckpt_parse(copy, file.len, meta.digest, 5000, &got, &p, &len), want);
    }
    /* Every truncation, and one byte too many. */
    for (size_t n = 0; n < file.len; n++)
        assert_int_equal(sw_ckpt_parse(file.data, n, meta.digest, 5000, &got, &p, &len),
                         SW_CKPT_CORRUPT);
    uint8_t *longer = realloc(copy, file.len + 1);
    assert_non_null(longer);
    memcpy(longer, file.data, file.len);
    longer[file.len] = 0;
    assert_int_equal(sw_ckpt_parse(longer, file.len + 1, meta.digest, 5000, &got, &p, &len),
                     SW_CKPT_CORRUPT);
    free(longer);

    /* A temporary file left by a writer that died does not matter; the next write replaces it. */
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    assert_non_null(f);
    fputs("half a checkpoint", f);
    fclose(f);
    assert_int_equal(sw_ckpt_load(path, MAX_BYTES, meta.digest, 5000, &file, &got, &p, &len, NULL),
                     SW_CKPT_LOADED);
    meta.store_until_ms = 6000;
    assert_int_equal(sw_ckpt_write(path, &meta, payload, 10, NULL), SW_OK);
    assert_int_equal(sw_ckpt_load(path, MAX_BYTES, meta.digest, 6000, &file, &got, &p, &len, NULL),
                     SW_CKPT_LOADED);
    assert_int_equal(len, 10);
    assert_true(got.store_until_ms == 6000);
    sw_buf_fini(&file);
    remove_dir(dir, path);
}

/* The child: write generation after generation, each payload filled with its number. */
static void
write_forever(const char *path, const uint8_t digest[SW_CKPT_DIGEST_LEN])
{
    size_t len = (size_t)256 << 10;
    uint8_t *payload = malloc(len);
    if (payload == NULL)
        _exit(2);
    sw_ckpt_meta meta;
    memcpy(meta.digest, digest, sizeof meta.digest);
    for (int64_t gen = 1;; gen++) {
        memset(payload, (int)(gen & 0xff), len);
        meta.store_until_ms = gen;
        meta.evaluated_ms = gen;
        if (sw_ckpt_write(path, &meta, payload, len - (size_t)(gen % 1000), NULL) != SW_OK)
            _exit(3);
    }
}

static void
test_writer_killed_leaves_a_whole_file(void **state)
{
    (void)state;
    char *dir = temp_dir(), path[4096];
    snprintf(path, sizeof path, "%s/checkpoint", dir);
    uint8_t digest[SW_CKPT_DIGEST_LEN];
    seed_digest(digest);
    sw_buf file;
    sw_buf_init(&file, MAX_BYTES);
    unsigned seed = 12345;
    for (int round = 0; round < 5; round++) {
        int64_t before = 0;
        sw_ckpt_meta got;
        const uint8_t *p;
        size_t len;
        if (sw_ckpt_load(path, MAX_BYTES, digest, INT64_MAX, &file, &got, &p, &len, NULL) ==
            SW_CKPT_LOADED)
            before = got.store_until_ms;
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
            write_forever(path, digest);
        /* Kill it once it has written a random number of new generations (polled, bounded). */
        int64_t until = before + 1 + rand_r(&seed) % 4;
        for (int polls = 0; polls < 1000000; polls++) {
            sw_ckpt_verdict v =
                sw_ckpt_load(path, MAX_BYTES, digest, INT64_MAX, &file, &got, &p, &len, NULL);
            assert_true(v == SW_CKPT_LOADED || v == SW_CKPT_MISSING);
            if (v == SW_CKPT_LOADED && got.store_until_ms >= until)
                break;
        }
        kill(pid, SIGKILL);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status));
        /* Whatever it was doing, the file is one whole generation. */
        assert_int_equal(
            sw_ckpt_load(path, MAX_BYTES, digest, INT64_MAX, &file, &got, &p, &len, NULL),
            SW_CKPT_LOADED);
        assert_true(got.store_until_ms >= until);
        assert_int_equal(len, ((size_t)256 << 10) - (size_t)(got.store_until_ms % 1000));
        for (size_t i = 0; i < len; i++)
            if (p[i] != (uint8_t)(got.store_until_ms & 0xff))
                fail_msg("byte %zu of generation %lld is %u", i, (long long)got.store_until_ms,
                         p[i]);
    }
    sw_buf_fini(&file);
    remove_dir(dir, path);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seeds_from_an_independent_encoder),
        cmocka_unit_test(test_digest_covers_every_input),
        cmocka_unit_test(test_written_file_reads_back_and_damage_is_refused),
        cmocka_unit_test(test_writer_killed_leaves_a_whole_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
