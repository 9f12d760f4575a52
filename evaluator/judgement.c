/*
 * The verdict rule shared by the live evaluator and the monthly report (judgement.h). The
 * report used to need 90 % of the whole month while the live answers needed none, so early in
 * a month one said "met" and the other "no verdict"; both now ask this module.
 */
#include "slawatch/judgement.h"

double
sw_judgement_coverage(int64_t data_ms, int64_t span_ms)
{
    if (span_ms <= 0 || data_ms <= 0)
        return 0.0;
    return data_ms >= span_ms ? 1.0 : (double)data_ms / (double)span_ms;
}

bool
sw_judgement_enough(bool measured, double coverage)
{
    return measured && coverage >= SW_JUDGEMENT_MIN_COVERAGE;
}

bool
sw_judgement_so_far(int64_t as_of_ms, int64_t window_end_ms)
{
    return as_of_ms < window_end_ms;
}
