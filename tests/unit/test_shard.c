/*
 * Unit tests for sharding: the hash against FNV-1a 64 test vectors published with the
 * algorithm (Fowler, Noll, Vo: "FNV hash" reference test suite), a rule set keeping exactly the
 * services the hash gives an index (every service in exactly one shard), and the `shard` key of
 * the configuration refusing count 0, an index at or past count and negative numbers with
 * FILE:LINE:COL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "slawatch/config.h"
#include "slawatch/rules.h"
#include "slawatch/shard.h"

static void
test_fnv1a64_vectors(void **state)
{
    (void)state;
    assert_true(sw_shard_hash("") == UINT64_C(0xcbf29ce484222325));
    assert_true(sw_shard_hash("a") == UINT64_C(0xaf63dc4c8601ec8c));
    assert_true(sw_shard_hash("foobar") == UINT64_C(0x85944171f73967e8));
    /* Bytes above 0x7f (UTF-8 names) are hashed as unsigned bytes. */
    assert_true(sw_shard_hash("\xc3\xa9") ==
                ((UINT64_C(0xcbf29ce484222325) ^ 0xc3) * UINT64_C(0x100000001b3) ^ 0xa9) *
                    UINT64_C(0x100000001b3));
}

static void
test_not_sharded_owns_all(void **state)
{
    (void)state;
    sw_shard none = {0, 0};
    assert_true(sw_shard_owns(&none, "anything"));
    sw_shard one = {1, 0};
    assert_true(sw_shard_owns(&one, "anything"));
}

static const char rules_text[] = "version: 1\n"
                                 "services:\n"
                                 "  - {name: s0, sli: {requests: {push: true}}}\n"
                                 "  - {name: s1, sli: {requests: {push: true}}}\n"
                                 "  - {name: s2, sli: {requests: {push: true}}}\n"
                                 "  - {name: s3, sli: {requests: {push: true}}}\n"
                                 "  - {name: s4, sli: {requests: {push: true}}}\n"
                                 "  - {name: s5, sli: {requests: {push: true}}}\n"
                                 "  - {name: s6, sli: {requests: {push: true}}}\n";

/* Every service lands in exactly one of count shards, in the rules' order, and the shard is
 * FNV-1a 64 of its name mod count. */
static void
test_rules_partitioned(void **state)
{
    (void)state;
    const uint32_t count = 3;
    size_t seen[7] = {0};
    for (uint32_t index = 0; index < count; index++) {
        sw_rules *r = NULL;
        sw_err err;
        assert_int_equal(sw_rules_load_mem(rules_text, strlen(rules_text), "r", &r, NULL, &err),
                         SW_OK);
        sw_shard s = {count, index};
        sw_shard_rules(r, &s);
        int last = -1;
        for (size_t i = 0; i < r->n_services; i++) {
            int k = r->services[i].name[1] - '0';
            assert_true(k > last);
            last = k;
            assert_int_equal(sw_shard_hash(r->services[i].name) % count, index);
            seen[k]++;
        }
        sw_rules_free(r);
    }
    for (size_t k = 0; k < 7; k++)
        assert_int_equal(seen[k], 1);
}

static char path[64];

static void
write_config(const char *text)
{
    snprintf(path, sizeof path, "/tmp/sw_shard_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

/* The first diagnostic of loading text, or "" when it loads. */
static void
load(const char *text, char *out, size_t cap, sw_shard *ret)
{
    write_config(text);
    sw_rules_diag *diag = sw_rules_diag_new();
    sw_config *cfg = NULL;
    sw_err err;
    out[0] = '\0';
    if (sw_config_load(path, &cfg, diag, &err) == SW_OK)
        *ret = cfg->shard;
    else
        snprintf(out, cap, "%s", sw_rules_diag_line(diag, 0) + strlen(path));
    sw_config_free(cfg);
    sw_rules_diag_free(diag);
    unlink(path);
}

static void
test_config(void **state)
{
    (void)state;
    char msg[256];
    sw_shard s = {99, 99};
    load("rules_files: [r.yaml]\n", msg, sizeof msg, &s);
    assert_string_equal(msg, "");
    assert_int_equal(s.count, 0);
    load("rules_files: [r.yaml]\nshard: {count: 4, index: 3}\n", msg, sizeof msg, &s);
    assert_string_equal(msg, "");
    assert_int_equal(s.count, 4);
    assert_int_equal(s.index, 3);
    load("rules_files: [r.yaml]\nshard: {count: 0, index: 0}\n", msg, sizeof msg, &s);
    assert_string_equal(msg, ":2:16: error: expected a shard count from 1 to 4096, found '0'");
    load("rules_files: [r.yaml]\nshard: {count: 2, index: 2}\n", msg, sizeof msg, &s);
    assert_string_equal(msg,
                        ":2:26: error: expected a shard index from 0 to 1 (count - 1), found '2'");
    load("rules_files: [r.yaml]\nshard: {count: 2, index: -1}\n", msg, sizeof msg, &s);
    assert_string_equal(msg,
                        ":2:26: error: expected a shard index from 0 to 1 (count - 1), found '-1'");
    load("rules_files: [r.yaml]\nshard: {count: -2, index: 0}\n", msg, sizeof msg, &s);
    assert_string_equal(msg, ":2:16: error: expected a shard count from 1 to 4096, found '-2'");
    load("rules_files: [r.yaml]\nshard: {index: 0}\n", msg, sizeof msg, &s);
    assert_string_equal(msg, ":2:8: error: missing key 'count' in shard");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fnv1a64_vectors),
        cmocka_unit_test(test_not_sharded_owns_all),
        cmocka_unit_test(test_rules_partitioned),
        cmocka_unit_test(test_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
