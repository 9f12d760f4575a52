/*
 * Private to collector/cwpct*.c: the standard normal quantile, and the parametric shape fitted
 * to a period's statistics (one log-normal, or two for an incident's fast and slow requests)
 * that guides the curve between the known points.
 */
#ifndef SLAWATCH_CWPCT_INT_H
#define SLAWATCH_CWPCT_INT_H

#include <stdbool.h>
#include <stddef.h>

/* The standard normal quantile of p (a fraction), p kept within CWPCT_LEVEL_EDGE of 0 and 1. */
double cwpct_normal_quantile(double p);

/* Levels are kept this far from 0 and 1, where the normal quantile is infinite; periods of
 * more than 10^11 values lose only their extreme ends' shape. */
#define CWPCT_LEVEL_EDGE 1e-11

/* A mixture of log-normals in y = log(1 + value): share w from mode 1, the rest from mode 0.
 * w is 0 for a single log-normal. */
typedef struct cwpct_model {
    double w;
    double mu[2], sigma[2];
} cwpct_model;

/* One thing known of the period: the share `level` (a fraction) of its values is at or below
 * e^y - 1. */
typedef struct cwpct_obs {
    double level, y;
} cwpct_obs;

/*
 * The model that fits the observations (at least two distinct levels) of a period of count
 * values and, when finite, mean (the period's Sum / SampleCount, in the observations' unit)
 * best: a single log-normal unless one misses the points by more than sampling explains and
 * two modes fit far better. true when the fit has two modes.
 */
bool cwpct_model_fit(const cwpct_obs *obs, size_t n, double count, double mean, cwpct_model *ret);

/* The normal quantile of the model's level at y. */
double cwpct_model_z(const cwpct_model *m, double y);

/* The y whose level in the model has normal quantile z. */
double cwpct_model_y(const cwpct_model *m, double z);

#endif
