/*
 * A window's CloudWatch statistics as the store keeps them, decoded from any bytes: refused
 * with SW_E_PARSE and a message, or accepted within the caps and then encoded into the same
 * bytes (the layout has one spelling), and the pin over them never changes a histogram's total.
 */
#include "fuzz.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "slawatch/cwpct.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sw_cwpct_window w;
    sw_err err = {0};
    sw_status st = sw_cwpct_window_decode(data, size, &w, &err);
    if (st != SW_OK) {
        fuzz_check_err(st, &err);
        FUZZ_CHECK(st == SW_E_PARSE);
        return 0;
    }
    FUZZ_CHECK(w.period.n_points <= SW_CWPCT_WINDOW_MAX_POINTS);
    FUZZ_CHECK(w.period.n_ranks <= SW_CWPCT_WINDOW_MAX_RANKS);
    sw_hdr *h = NULL;
    FUZZ_CHECK(sw_hdr_new(&sw_hdr_latency_config, &h, NULL) == SW_OK);
    for (int64_t v = 1000; v <= 64000; v *= 2)
        sw_hdr_record_n(h, v, 3);
    int64_t total = sw_hdr_total_count(h);
    st = sw_cwpct_pin_stored(NULL, data, size, h, &err);
    if (st != SW_OK)
        fuzz_check_err(st, &err);
    FUZZ_CHECK(sw_hdr_total_count(h) == total);
    sw_hdr_free(h);
    /* NaN points and ranks are not written back, so only finite ones round-trip */
    bool finite = true;
    for (size_t i = 0; i < w.period.n_points; i++)
        finite = finite && isfinite(w.period.points[i].value);
    for (size_t i = 0; i < w.period.n_ranks; i++)
        finite = finite && isfinite(w.period.ranks[i].rank_pct);
    if (finite) {
        uint8_t out[SW_CWPCT_WINDOW_MAX_BYTES];
        size_t len = 0;
        FUZZ_CHECK(sw_cwpct_window_encode(&w.period, out, &len, NULL) == SW_OK);
        FUZZ_CHECK(len == size && memcmp(out, data, size) == 0);
    }
    return 0;
}
