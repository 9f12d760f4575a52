/*
 * When an objective's window has enough data for a verdict, and whether that verdict is final.
 * One rule for every place that judges an objective: the live evaluator (/metrics and
 * /api/v1/status) and the monthly report. A window is judged over the part of it that has
 * passed (its start up to the instant the data is complete to), maintenance left out.
 */
#ifndef SLAWATCH_JUDGEMENT_H
#define SLAWATCH_JUDGEMENT_H

#include <stdbool.h>
#include <stdint.h>

/* Below this share of the judged span with data, no verdict. */
#define SW_JUDGEMENT_MIN_COVERAGE 0.9

/* Share of span_ms (the judged span outside maintenance) that data_ms covers; 0 for no span. */
double sw_judgement_coverage(int64_t data_ms, int64_t span_ms);

/* A verdict needs the SLI measured (min_requests and the data it needs) and enough coverage. */
bool sw_judgement_enough(bool measured, double coverage);

/* A verdict judged at as_of_ms is "so far" while the window (ending at window_end_ms) is not
 * over: a calendar month in progress. A rolling window ends at the instant it is judged. */
bool sw_judgement_so_far(int64_t as_of_ms, int64_t window_end_ms);

#endif
