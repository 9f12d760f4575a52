/*
 * The ingest journal read back at start, from any bytes. First byte 0: the rest is one record's
 * payload, framed here (so the record decoder is reached past the CRC); otherwise the rest is
 * the journal file as found. The open either fails with the sw_err contract or replays intact
 * records; a torn tail is cut off, so a second open replays the same and drops nothing; what
 * was merged is taken out whole.
 */
#include "fuzz.h"

#include <unistd.h>

#include "slawatch/accum.h"
#include "slawatch/buf.h"
#include "slawatch/journal.h"

#define BASE_MS 10000

static sw_status
count(void *ctx, const char *service, const char *env, sw_sli_interval *iv, sw_err *err)
{
    (void)service;
    (void)env;
    (void)err;
    FUZZ_CHECK(iv->length_ms == BASE_MS && iv->start_ms % BASE_MS == 0);
    *(size_t *)ctx += 1;
    sw_sli_interval_fini(iv);
    return SW_OK;
}

/* Open the journal into new accumulators; the intervals replayed (or SIZE_MAX on error). */
static size_t
replay(const char *path)
{
    sw_accum *a;
    FUZZ_CHECK(sw_accum_new(BASE_MS, &a, NULL) == SW_OK);
    size_t n = 0, taken = 0;
    sw_err err = {0};
    sw_status st = sw_accum_journal_open(a, path, INT64_MIN, &n, &err);
    if (st != SW_OK) {
        fuzz_check_err(st, &err);
        sw_accum_free(a);
        return SIZE_MAX;
    }
    FUZZ_CHECK(sw_accum_take(a, INT64_MAX, count, &taken, NULL) == SW_OK);
    FUZZ_CHECK(taken <= n);
    sw_accum_free(a);
    return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    char path[64];
    snprintf(path, sizeof path, "/tmp/sw-fuzz-journal-%ld", (long)getpid());
    sw_buf file;
    sw_buf_init(&file, SW_JOURNAL_FRAME_MAX + 16);
    if (data[0] == 0)
        FUZZ_CHECK(sw_journal_frame(&file, data + 1, size - 1, NULL) == SW_OK);
    else
        FUZZ_CHECK(sw_buf_append(&file, data + 1, size - 1, NULL) == SW_OK);
    FILE *f = fopen(path, "wb");
    FUZZ_CHECK(f != NULL);
    FUZZ_CHECK(file.len == 0 || fwrite(file.data, 1, file.len, f) == file.len);
    fclose(f);
    sw_buf_fini(&file);
    size_t first = replay(path);
    size_t second = replay(path);
    FUZZ_CHECK(first == SIZE_MAX || second == first);
    unlink(path);
    return 0;
}
