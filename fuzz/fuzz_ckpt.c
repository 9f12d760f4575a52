/*
 * The checkpoint reader from any bytes. First byte 0: the rest is an evaluator state, read by
 * sw_eval_ckpt_load against fuzz_ckpt_rules.h (the file's checksum keeps fuzzed states from
 * reaching it otherwise): it loads, or fails with SW_E_PARSE, and what loads advances and saves.
 * Otherwise the bytes are a checkpoint file, read as a file (sw_ckpt_load) and in memory
 * (sw_ckpt_parse) against the digest of fuzz/gen_ckpt_corpus.py's inputs: both say the same; a
 * loaded payload lies inside the bytes given and is what follows the header; memory stays
 * bounded by the file.
 */
#include "fuzz.h"

#include <string.h>
#include <unistd.h>

#include "slawatch/buf.h"
#include "slawatch/ckpt.h"
#include "slawatch/eval_ckpt.h"

#include "fuzz_ckpt_rules.h"

#define RULES_TEXT "objectives: []\n"
#define BASE_MS 10000
#define STORE_UNTIL_MS INT64_C(1700000000000)
#define MAX_BYTES ((size_t)1 << 20)

static void
state(const uint8_t *data, size_t size)
{
    sw_rules *rules;
    FUZZ_CHECK(sw_rules_load_mem(fuzz_ckpt_rules, strlen(fuzz_ckpt_rules), "fuzz", &rules, NULL,
                                 NULL) == SW_OK);
    sw_eval *ev = NULL;
    sw_err err = {0};
    sw_status st = sw_eval_ckpt_load(rules, data, size, &ev, &err);
    FUZZ_CHECK(st == SW_OK || st == SW_E_PARSE);
    if (st == SW_OK) {
        sw_buf out;
        sw_buf_init(&out, (size_t)1 << 30);
        FUZZ_CHECK(sw_eval_ckpt_save(ev, &out, NULL) == SW_OK);
        sw_buf_fini(&out);
        sw_eval_free(ev);
    } else {
        fuzz_check_err(st, &err);
        FUZZ_CHECK(ev == NULL);
    }
    sw_rules_free(rules);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 0 && data[0] == 0) {
        state(data + 1, size - 1);
        return 0;
    }
    uint8_t digest[SW_CKPT_DIGEST_LEN];
    FUZZ_CHECK(sw_ckpt_digest(RULES_TEXT, strlen(RULES_TEXT), BASE_MS, 0, 0, digest, NULL) ==
               SW_OK);
    sw_ckpt_meta meta;
    const uint8_t *payload = NULL;
    size_t payload_len = 0;
    sw_ckpt_verdict mem =
        sw_ckpt_parse(data, size, digest, STORE_UNTIL_MS, &meta, &payload, &payload_len);
    if (mem == SW_CKPT_LOADED) {
        FUZZ_CHECK(payload == data + SW_CKPT_HEADER_LEN);
        FUZZ_CHECK(payload_len == size - SW_CKPT_HEADER_LEN);
        FUZZ_CHECK(meta.store_until_ms <= STORE_UNTIL_MS);
    }

    char path[64];
    snprintf(path, sizeof path, "/tmp/sw-fuzz-ckpt-%ld", (long)getpid());
    FILE *f = fopen(path, "wb");
    FUZZ_CHECK(f != NULL);
    FUZZ_CHECK(size == 0 || fwrite(data, 1, size, f) == size);
    fclose(f);
    sw_buf file;
    sw_buf_init(&file, MAX_BYTES);
    sw_err err = {0};
    sw_ckpt_meta file_meta;
    sw_ckpt_verdict v = sw_ckpt_load(path, MAX_BYTES, digest, STORE_UNTIL_MS, &file, &file_meta,
                                     &payload, &payload_len, &err);
    unlink(path);
    FUZZ_CHECK(v == (size > MAX_BYTES ? SW_CKPT_TOO_LARGE : mem));
    FUZZ_CHECK(file.cap <= MAX_BYTES + 1); /* sw_buf keeps room for a NUL */
    if (v == SW_CKPT_LOADED)
        FUZZ_CHECK(memcmp(&file_meta, &meta, sizeof meta) == 0 &&
                   memcmp(payload, data + SW_CKPT_HEADER_LEN, payload_len) == 0);
    FUZZ_CHECK(strlen(sw_ckpt_verdict_text(v)) > 0);
    sw_buf_fini(&file);
    return 0;
}
