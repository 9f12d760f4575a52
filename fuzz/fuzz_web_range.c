/*
 * sw_web_range_parse on hostile range, from and to parameters (the input's bytes split at 0x01;
 * the first byte picks the zone offset). Checks: an accepted range is non-empty, ends by now +
 * 1 h, starts within what the store keeps, has one of the bucket sizes on a bucket boundary and
 * at most SW_WEB_MAX_BUCKETS buckets; a refused one says why.
 */
#include "fuzz.h"

#include "slawatch/web_series.h"

#define NOW_MS INT64_C(1796601600000) /* 2026-12-07T00:00:00Z */
#define DAY_MS INT64_C(86400000)
#define KEEP_MS (400 * DAY_MS)

static bool
known_bucket(int64_t b)
{
    static const int64_t sizes[] = {60000, 300000, 900000, 3600000, 21600000, DAY_MS};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        if (b == sizes[i])
            return true;
    return false;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    int offset_s = ((int)data[0] - 128) * 900; /* -32 h .. +32 h in quarter hours */
    char *text = malloc(size);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    char *parts[3] = {text, NULL, NULL};
    for (int i = 1; i < 3 && parts[i - 1] != NULL; i++) {
        char *sep = strchr(parts[i - 1], '\x01');
        if (sep != NULL) {
            *sep = '\0';
            parts[i] = sep + 1;
        }
    }
    const char *range = parts[0][0] ? parts[0] : NULL;
    sw_web_range r;
    sw_err err = {0};
    if (sw_web_range_parse(range, parts[1], parts[2], NOW_MS, offset_s, KEEP_MS, &r, &err) ==
        SW_OK) {
        FUZZ_CHECK(r.from_ms < r.to_ms);
        FUZZ_CHECK(r.to_ms <= NOW_MS + 3600000);
        FUZZ_CHECK(known_bucket(r.bucket_ms));
        FUZZ_CHECK(r.from_ms % r.bucket_ms == 0);
        FUZZ_CHECK(r.from_ms >= NOW_MS - KEEP_MS - r.bucket_ms);
        FUZZ_CHECK((r.to_ms - r.from_ms + r.bucket_ms - 1) / r.bucket_ms <= SW_WEB_MAX_BUCKETS);
    } else {
        FUZZ_CHECK(err.msg[0] != '\0');
    }
    free(text);
    return 0;
}
