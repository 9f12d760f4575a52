/*
 * Always-valid comparisons of two proportions, and latency comparisons built on them.
 *
 * The normal-mixture SPRT with mixing variance tau^2 rejects theta once
 *   sqrt(V / (V + tau^2)) exp(tau^2 (d - theta)^2 / (2 V (V + tau^2))) >= 1 / alpha,
 * d the estimated difference and V its variance. By Ville's inequality the chance that this
 * ever happens for the true theta, at any of unboundedly many looks, is at most alpha; the
 * thetas not rejected form the interval d -+ h returned here. tau only trades early power for
 * late power; it is set near the effects a gate should catch.
 */
#include "slawatch/canary.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

/* Mixing scale for error rates: the tolerance, at least 0.1 percentage points. */
#define ERROR_TAU_MIN 0.001
/* Mixing scale for exceedance shares: this fraction of the share above the baseline quantile. */
#define LATENCY_TAU_SHARE 0.3
/* Ratios searched for latency bounds: 1/1024 ... 1024 times the baseline. */
#define RATIO_LOG2_SPAN 10.0
#define BISECT_STEPS 48
/* The most "more requests" can be: a billion times the data seen. */
#define MORE_FACTOR_MAX 1e9

typedef struct diff {
    double d, var; /* adjusted difference of shares and its variance */
    double n;      /* candidate sample size */
} diff;

/* Agresti-Caffo: one success and one failure added per side keeps small counts honest. */
static diff
adjusted_diff(double xc, double nc, double xb, double nb)
{
    double pc = (xc + 1.0) / (nc + 2.0), pb = (xb + 1.0) / (nb + 2.0);
    return (diff){
        .d = pc - pb, .var = pc * (1.0 - pc) / (nc + 2.0) + pb * (1.0 - pb) / (nb + 2.0), .n = nc};
}

/* 2 log(1 / alpha): the half-width's constant term, computed once per comparison. */
static double
alpha_term(double alpha)
{
    return 2.0 * log(1.0 / alpha);
}

static double
half_width(double var, double tau, double a_term)
{
    double t2 = tau * tau;
    return sqrt(var * (var + t2) / t2 * (log((var + t2) / var) + a_term));
}

static sw_canary_call
call_at(const diff *x, double margin, double tau, double a_term)
{
    double h = half_width(x->var, tau, a_term);
    if (x->d - h > margin)
        return SW_CANARY_WORSE;
    if (x->d + h <= margin)
        return SW_CANARY_WITHIN;
    return SW_CANARY_UNDECIDED;
}

/*
 * Requests per environment that would shrink the interval enough to clear the margin if the
 * difference stayed where it is: the variance falls as 1/n, the log term grows slowly.
 */
static uint64_t
more_samples(const diff *x, double margin, double tau, double a_term)
{
    double gap = fabs(x->d - margin);
    if (gap <= 0 || half_width(x->var / MORE_FACTOR_MAX, tau, a_term) > gap)
        return UINT64_MAX;
    double lo = 1.0, hi = MORE_FACTOR_MAX;
    for (int i = 0; i < BISECT_STEPS * 2; i++) {
        double mid = sqrt(lo * hi), was_lo = lo, was_hi = hi;
        if (half_width(x->var / mid, tau, a_term) > gap)
            lo = mid;
        else
            hi = mid;
        /* A step is a function of (lo, hi) alone: once one changes neither (they are next to
         * each other), every later step would not either. */
        if (lo == was_lo && hi == was_hi)
            break;
    }
    double more = ceil(x->n * (hi - 1.0));
    return more < 0x1p63 ? (uint64_t)more : UINT64_MAX; /* beyond any counter: no amount */
}

void
sw_canary_error_rate(uint64_t errors_c, uint64_t n_c, uint64_t errors_b, uint64_t n_b,
                     double tolerance, double alpha, sw_canary_result *ret)
{
    diff x = adjusted_diff((double)errors_c, (double)n_c, (double)errors_b, (double)n_b);
    double tau = fmax(tolerance, ERROR_TAU_MIN);
    double a_term = alpha_term(alpha);
    double h = half_width(x.var, tau, a_term);
    double rc = n_c > 0 ? (double)errors_c / (double)n_c : NAN;
    double rb = n_b > 0 ? (double)errors_b / (double)n_b : NAN;
    *ret = (sw_canary_result){.estimate = rc - rb,
                              .lower = x.d - h,
                              .upper = x.d + h,
                              .call = call_at(&x, tolerance, tau, a_term)};
    if (ret->call == SW_CANARY_UNDECIDED)
        ret->more_samples = more_samples(&x, tolerance, tau, a_term);
}

/* ------------------------------------------------------------------ latency */

/* A histogram as sorted bucket floors with cumulative counts: counts above a value by search. */
typedef struct cumul {
    int64_t *lo, *cum;
    size_t n;
    size_t cap; /* room in lo and cum, kept when built again */
    double total;
} cumul;

/* Room for at least `need` buckets; false when out of memory (what is held stays valid). */
static bool
cumul_reserve(cumul *c, size_t need)
{
    if (need <= c->cap)
        return true;
    size_t grown = c->cap * 2 > need ? c->cap * 2 : need;
    int64_t *lo = realloc(c->lo, grown * sizeof *lo);
    if (lo != NULL)
        c->lo = lo;
    int64_t *cum = lo != NULL ? realloc(c->cum, grown * sizeof *cum) : NULL;
    if (cum == NULL)
        return false;
    c->cum = cum;
    c->cap = grown;
    return true;
}

/*
 * One pass over the recorded buckets, the arrays grown as they come: counting the buckets first
 * was a second pass, over every bucket of a dense histogram (the gate's merged windows). The
 * arrays c holds are reused (sw_canary_latencies_renew).
 */
static bool
cumul_build(const sw_hdr *h, cumul *c)
{
    c->n = 0;
    c->total = (double)sw_hdr_total_count(h);
    if (!cumul_reserve(c, 256))
        return false;
    sw_hdr_iter it;
    sw_hdr_iter_init(&it, h);
    while (sw_hdr_iter_next(&it)) {
        if (!cumul_reserve(c, c->n + 1))
            return false;
        c->lo[c->n] = it.value_lo;
        c->cum[c->n] = it.cumulative;
        c->n++;
    }
    return true;
}

static void
cumul_free(cumul *c)
{
    free(c->lo);
    free(c->cum);
}

/* Values in buckets wholly above x (a bucket holding x counts as not above). */
static double
count_above(const cumul *c, double x)
{
    size_t lo = 0, hi = c->n; /* first bucket whose floor is above x */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if ((double)c->lo[mid] > x)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo == 0 ? c->total : c->total - (double)c->cum[lo - 1];
}

/*
 * Candidate C against r times baseline B near B's q-quantile v: C is worse when more of it lies
 * above r v than of B above v, P(C > r v) > P(B > v), and within when less of it lies above
 * r v than of B at or above v, P(C > r v) < P(B >= v). For continuous latencies the two shares
 * of B differ by v's bucket only; when many values share v's bucket (a constant latency) they
 * keep a candidate exactly r times slower from reading as worse than r times.
 */
typedef struct latency_cmp {
    const cumul *c, *b;
    double v;           /* the baseline's quantile */
    double above_b;     /* baseline values above it: what a fail must exceed */
    double from_b;      /* baseline values at or above it: what a pass must stay under */
    double tau, a_term; /* a_term: alpha_term(alpha) */
    double memo_above;  /* the candidate's count above the last ratio called (NAN: none) */
    sw_canary_call memo_call;
} latency_cmp;

/* The exceedance difference when the candidate is scaled down by ratio, for one side. */
static diff
diff_at(const latency_cmp *l, double ratio, bool worse_side)
{
    return adjusted_diff(count_above(l->c, ratio * l->v), l->c->total,
                         worse_side ? l->above_b : l->from_b, l->b->total);
}

/*
 * The call at a ratio depends on the ratio only through the candidate's count above ratio v,
 * which changes at bucket edges only: a bisection's steps mostly find the count of the step
 * before, whose call is kept.
 */
static sw_canary_call
ratio_call(latency_cmp *l, double ratio)
{
    double above_c = count_above(l->c, ratio * l->v);
    if (above_c == l->memo_above)
        return l->memo_call;
    diff worse = adjusted_diff(above_c, l->c->total, l->above_b, l->b->total);
    diff within = adjusted_diff(above_c, l->c->total, l->from_b, l->b->total);
    sw_canary_call call = SW_CANARY_UNDECIDED;
    if (call_at(&worse, 0.0, l->tau, l->a_term) == SW_CANARY_WORSE)
        call = SW_CANARY_WORSE;
    else if (call_at(&within, 0.0, l->tau, l->a_term) == SW_CANARY_WITHIN)
        call = SW_CANARY_WITHIN;
    l->memo_above = above_c;
    l->memo_call = call;
    return call;
}

/*
 * The boundary ratio of a call that holds at one end of the range and not the other: the lower
 * bound is the highest ratio the candidate is shown to exceed, the upper the lowest it is shown
 * to stay under. NAN when the call does not hold even at its end of the range.
 */
static double
ratio_bound(latency_cmp *l, sw_canary_call want, bool from_below)
{
    double lo = -RATIO_LOG2_SPAN, hi = RATIO_LOG2_SPAN;
    if (ratio_call(l, exp2(from_below ? lo : hi)) != want)
        return NAN;
    for (int i = 0; i < BISECT_STEPS; i++) {
        double mid = (lo + hi) / 2;
        if ((ratio_call(l, exp2(mid)) == want) == from_below)
            lo = mid;
        else
            hi = mid;
    }
    return exp2(from_below ? lo : hi);
}

/* Both histograms' cumulative counts, built once for every percentile compared. */
struct sw_canary_latencies {
    const sw_hdr *candidate, *baseline;
    cumul c, b;
};

sw_status
sw_canary_latencies_new(const sw_hdr *candidate, const sw_hdr *baseline, sw_canary_latencies **ret,
                        sw_err *err)
{
    sw_canary_latencies *p = NULL;
    sw_status st = sw_canary_latencies_renew(&p, candidate, baseline, err);
    if (st != SW_OK) {
        sw_canary_latencies_free(p);
        return st;
    }
    *ret = p;
    return SW_OK;
}

sw_status
sw_canary_latencies_renew(sw_canary_latencies **p, const sw_hdr *candidate, const sw_hdr *baseline,
                          sw_err *err)
{
    if (sw_hdr_total_count(candidate) == 0 || sw_hdr_total_count(baseline) == 0)
        return sw_err_set(err, SW_E_INVAL, "a latency comparison needs values on both sides");
    if (*p == NULL && (*p = calloc(1, sizeof **p)) == NULL)
        return sw_err_set(err, SW_E_NOMEM, "out of memory comparing latencies");
    if (!cumul_build(candidate, &(*p)->c) || !cumul_build(baseline, &(*p)->b))
        return sw_err_set(err, SW_E_NOMEM, "out of memory comparing latencies");
    (*p)->candidate = candidate;
    (*p)->baseline = baseline;
    return SW_OK;
}

void
sw_canary_latencies_free(sw_canary_latencies *p)
{
    if (p == NULL)
        return;
    cumul_free(&p->c);
    cumul_free(&p->b);
    free(p);
}

void
sw_canary_latency_at(const sw_canary_latencies *p, double percentile, double tolerance,
                     double alpha, sw_canary_result *ret)
{
    latency_cmp l = {.c = &p->c,
                     .b = &p->b,
                     .a_term = alpha_term(alpha),
                     .tau = LATENCY_TAU_SHARE * (1.0 - percentile / 100.0),
                     .memo_above = NAN};
    l.v = (double)sw_hdr_value_at_percentile(p->baseline, percentile);
    l.above_b = count_above(l.b, l.v);
    l.from_b = count_above(l.b, (double)sw_hdr_lowest_equivalent(p->baseline, (int64_t)l.v) - 1.0);
    double ratio = 1.0 + tolerance;
    double cq = (double)sw_hdr_value_at_percentile(p->candidate, percentile);
    *ret = (sw_canary_result){
        .estimate = l.v > 0 ? cq / l.v - 1.0 : NAN,
        .lower = ratio_bound(&l, SW_CANARY_WORSE, true) - 1.0,
        .upper = ratio_bound(&l, SW_CANARY_WITHIN, false) - 1.0,
        .call = ratio_call(&l, ratio),
    };
    if (ret->call == SW_CANARY_UNDECIDED) {
        /* The side the estimate leans to is the one more data would settle. */
        diff worse = diff_at(&l, ratio, true), within = diff_at(&l, ratio, false);
        uint64_t a = more_samples(&worse, 0.0, l.tau, l.a_term);
        uint64_t b = more_samples(&within, 0.0, l.tau, l.a_term);
        ret->more_samples = worse.d > 0 ? a : within.d < 0 ? b : UINT64_MAX;
    }
}
