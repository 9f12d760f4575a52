/*
 * Mann-Whitney U test on two latency histograms: is the candidate (green) slower than the
 * baseline (blue)? Values in one bucket are ties; the p-value comes from the tie-corrected
 * normal approximation with a continuity correction, one-sided. The deploy gate uses it to
 * compare environments. Stateless; the histograms are only read.
 */
#ifndef SLAWATCH_RANKTEST_H
#define SLAWATCH_RANKTEST_H

#include <stdint.h>

#include "slawatch/err.h"
#include "slawatch/hdr.h"

typedef struct sw_ranktest_result {
    double u;       /* U of the candidate: pairs (c, b) with c > b, a tie counting one half */
    double z;       /* (u - n_c n_b / 2 - 1/2) / sigma; 0 when every value ties */
    double p_value; /* P(U >= u) if the candidate is not slower; 1 when every value ties */
    int64_t n_candidate, n_baseline;
} sw_ranktest_result;

/*
 * Test candidate against baseline. Both must have the same bucket layout (SW_E_MISMATCH) and
 * at least one value each (SW_E_INVAL). The arithmetic is in doubles: exact for U up to 2^53
 * pairs, and the normal approximation is what matters beyond a few dozen values anyway.
 */
sw_status sw_ranktest_mann_whitney(const sw_hdr *candidate, const sw_hdr *baseline,
                                   sw_ranktest_result *ret, sw_err *err);

#endif
