/*
 * Fuzz target: sw_promtext_parse on OpenMetrics 1.0 text. Besides no crash, leak or UB: a rejected input
 * follows the sw_err contract with a position inside the input; every sample the sink sees has
 * a valid metric name, at most SW_PROMTEXT_MAX_LABELS labels whose names are valid and whose
 * values stay under the cap; the parse is deterministic (a second run sees the same samples).
 */
#include "fuzz.h"

#include "slawatch/promtext.h"

#include "fuzz_promtext_check.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_promtext_run((const char *)data, size, SW_PROMTEXT_OPENMETRICS);
    return 0;
}
