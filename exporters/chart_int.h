/*
 * What the chart module's files share: number and time formatting and the SVG frame
 * (chart.c, chart_axis.c, chart_heatmap.c).
 */
#ifndef SLAWATCH_CHART_INT_H
#define SLAWATCH_CHART_INT_H

#include "slawatch/chart.h"

/* Decimals that tell ticks step apart (0 for steps of 1 and more). */
int sw_chart_step_decimals(double step);

/*
 * v with the given decimals and the unit ("99.95 %"), into out[cap]; magnitudes past 1e9 or
 * non-zero ones under 1e-4 in exponent form, so huge and tiny values stay short.
 */
void sw_chart_format_value(double v, int decimals, const char *unit, char *out, size_t cap);

/* "2026-12-07 13:05" in local time (UTC + offset_s), into out[cap]. */
void sw_chart_format_time(int64_t utc_ms, int offset_s, char *out, size_t cap);

#endif
