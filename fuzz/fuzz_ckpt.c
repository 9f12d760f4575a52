/*
 * The checkpoint reader from any bytes, as a file (sw_ckpt_load) and in memory (sw_ckpt_parse),
 * against the digest of fuzz/gen_ckpt_corpus.py's inputs: both say the same; a loaded payload
 * lies inside the bytes given and is what follows the header; memory stays bounded by the file.
 */
#include "fuzz.h"

#include <string.h>
#include <unistd.h>

#include "slawatch/buf.h"
#include "slawatch/ckpt.h"

#define RULES_TEXT "objectives: []\n"
#define BASE_MS 10000
#define STORE_UNTIL_MS INT64_C(1700000000000)
#define MAX_BYTES ((size_t)1 << 20)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
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
