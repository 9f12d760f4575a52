/*
 * Canary comparisons for the deploy gate: is the candidate worse than the baseline by more than
 * a tolerance? Each comparison gives an effect estimate and a confidence interval that stays
 * valid however often it is looked at (a confidence sequence from the normal mixture of the
 * mixture sequential probability ratio test, mSPRT: Robbins 1970, Johari et al. 2017), so a
 * gate polled every base interval for a whole deployment keeps its false-fail guarantee.
 *
 * Error rates: the difference of the two rates (Agresti-Caffo adjusted, one added error and one
 * added success per side). Latency at a percentile q: the baseline's q-quantile v, and the
 * exceedance shares P(candidate > r v) against P(baseline > v); the candidate is worse than r
 * times the baseline at q exactly when the first share is higher, so the ratio's bounds come
 * from comparing those two proportions. Stateless; the histograms are only read.
 */
#ifndef SLAWATCH_CANARY_H
#define SLAWATCH_CANARY_H

#include <stdint.h>

#include "slawatch/err.h"
#include "slawatch/hdr.h"

typedef enum sw_canary_call {
    SW_CANARY_WITHIN,    /* worse by at most the tolerance, with the stated confidence */
    SW_CANARY_WORSE,     /* worse by more than the tolerance, with the stated confidence */
    SW_CANARY_UNDECIDED, /* the interval still straddles the tolerance */
} sw_canary_call;

typedef struct sw_canary_result {
    double estimate;     /* error rate increase (ratio points), or latency increase (ratio - 1) */
    double lower, upper; /* always-valid bounds of estimate; NAN when the data bounds nothing */
    sw_canary_call call;
    uint64_t more_samples; /* undecided: about this many more per environment would decide;
                               UINT64_MAX when no amount would (estimate on the tolerance) */
} sw_canary_result;

/*
 * Candidate errors_c of n_c requests against baseline errors_b of n_b. alpha is the chance,
 * over the whole sequence of looks, that the interval misses the true difference.
 */
void sw_canary_error_rate(uint64_t errors_c, uint64_t n_c, uint64_t errors_b, uint64_t n_b,
                          double tolerance, double alpha, sw_canary_result *ret);

/*
 * Latency comparisons of candidate against baseline, at as many percentiles as asked: both
 * histograms' cumulative counts are built once (the gate compares p50, p95 and p99 of the same
 * windows). Both histograms need values (SW_E_INVAL). They are read, not copied: they must
 * outlive the object and not change meanwhile.
 */
typedef struct sw_canary_latencies sw_canary_latencies;

sw_status sw_canary_latencies_new(const sw_hdr *candidate, const sw_hdr *baseline,
                                  sw_canary_latencies **ret, sw_err *err);
void sw_canary_latencies_free(sw_canary_latencies *p);

/* The same over *p's arrays, kept with their room (*p NULL: a new one), for a run of
 * comparisons on one thread. On error *p may hold partial counts: build it again before use. */
sw_status sw_canary_latencies_renew(sw_canary_latencies **p, const sw_hdr *candidate,
                                    const sw_hdr *baseline, sw_err *err);

/* Latency at percentile (0 < percentile < 100); tolerance is the relative increase allowed (0.2:
 * 20 % slower). */
void sw_canary_latency_at(const sw_canary_latencies *p, double percentile, double tolerance,
                          double alpha, sw_canary_result *ret);

#endif
