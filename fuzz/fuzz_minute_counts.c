/*
 * An hour's minute counts, decoded from any bytes: refused with SW_E_PARSE and a message, or
 * accepted with nothing counted in unstored minutes, and then re-encoded into no more bytes
 * (varints padded with continuation bytes shrink) that decode to the same counts.
 */
#include "fuzz.h"

#include "slawatch/buf.h"
#include "slawatch/minute_counts.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sw_hour_minutes hm;
    sw_err err = {0};
    sw_status st = sw_hour_minutes_decode(data, size, &hm, &err);
    if (st != SW_OK) {
        fuzz_check_err(st, &err);
        FUZZ_CHECK(st == SW_E_PARSE);
        return 0;
    }
    for (int k = 0; k < SW_MINUTES_PER_HOUR; k++)
        FUZZ_CHECK(hm.m[k].stored || (hm.m[k].requests == 0 && hm.m[k].errors == 0 &&
                                      hm.m[k].probes == 0 && hm.m[k].failures == 0));
    sw_buf out;
    sw_buf_init(&out, (size_t)1 << 20);
    FUZZ_CHECK(sw_hour_minutes_encode(&hm, &out, NULL) == SW_OK);
    FUZZ_CHECK(out.len <= size);
    sw_hour_minutes again;
    FUZZ_CHECK(sw_hour_minutes_decode(out.data, out.len, &again, NULL) == SW_OK);
    FUZZ_CHECK(memcmp(&again, &hm, sizeof hm) == 0);
    sw_buf_fini(&out);
    return 0;
}
