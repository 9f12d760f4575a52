/*
 * sw_cwgmd_parse (GetMetricData responses) and sw_cwgmd_classify (error responses) over
 * arbitrary bytes, for three asked queries over [1000, 5000). An accepted page must hold only
 * datapoints in the range, strictly increasing per query, with finite values; a rejected one
 * must fill err as err.h promises.
 */
#include "fuzz.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "slawatch/cwgmd.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sw_cwgmd_query q[3] = {{.id = "q0"}, {.id = "q1"}, {.id = "q2"}};
    for (size_t i = 0; i < 3; i++) {
        q[i].namespace_ = "AWS/ApplicationELB";
        q[i].metric = "RequestCount";
        q[i].stat = "Sum";
        q[i].period_s = 60;
    }
    sw_cwgmd_series series[3] = {{0}};
    sw_cwgmd_page page = {.series = series, .n_series = 3};
    sw_err err = {0};
    sw_status st = sw_cwgmd_parse(data, size, q, 3, 1000, 5000, &page, &err);
    if (st != SW_OK && (err.code != st || err.msg[0] == '\0'))
        abort();
    for (size_t i = 0; st == SW_OK && i < 3; i++)
        for (size_t j = 0; j < series[i].n; j++)
            if (series[i].ts_s[j] < 1000 || series[i].ts_s[j] >= 5000 ||
                !isfinite(series[i].values[j]) ||
                (j > 0 && series[i].ts_s[j] <= series[i].ts_s[j - 1]))
                abort();
    for (size_t i = 0; i < 3; i++)
        sw_cwgmd_series_fini(&series[i]);
    sw_err cerr = {0};
    sw_cwgmd_classify(400, data, size, &cerr);
    if (cerr.msg[0] == '\0')
        abort();
    return 0;
}
