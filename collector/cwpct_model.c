/*
 * The shape that guides a period's curve between its known points. Latency of one kind of
 * request is close to log-normal, and an incident adds a second log-normal mode of slow
 * requests; a mixture of at most two log-normals is fitted to the period's points, ranks,
 * Minimum, Maximum and mean. Residuals are taken in the normal quantile of the level, where
 * every level weighs alike whether it sits in the body or the tail; the mean enters as one more
 * residual, which places an incident's gap between two grid points when no PR(:T) lies in it.
 * Levenberg-Marquardt with a numerical Jacobian: at most a few dozen residuals and five
 * parameters, so a fit costs some thousands of erfc calls.
 */
#include <math.h>
#include <string.h>

#include "cwpct_int.h"

#define MAX_OBS 256
#define N_PARAM 5
/* Two modes are taken only if they bend through the points this much better than one. */
#define TWO_MODE_GAIN 0.2
/* A one-mode misfit (sum of squared normal-quantile residuals) below this is a log-normal. */
#define ONE_MODE_EXACT 1e-8
/* Two modes are looked for only where one misses the points by more than this many times
 * what sampling scatters them by (per point, in variance). */
#define NOISE_GATE 16.0
/* One percent off the mean weighs like a point 0.1 off in normal quantile. */
#define MEAN_WEIGHT 10.0
#define SIGMA_MIN 1e-3
#define SIGMA_MAX 5.0
#define SHARE_MIN 0.002
#define SHARE_MAX 0.7

static double
horner(const double *c, size_t n, double x)
{
    double r = c[n - 1];
    for (size_t i = n - 1; i-- > 0;)
        r = r * x + c[i];
    return r;
}

/* Wichura's algorithm AS 241 (PPND16), relative error about 1e-16 for 1e-11 <= p <= 1 - 1e-11,
 * the range used here. */
double
cwpct_normal_quantile(double p)
{
    static const double a[] = {3.3871328727963666080e0,  1.3314166789178437745e+2,
                               1.9715909503065514427e+3, 1.3731693765509461125e+4,
                               4.5921953931549871457e+4, 6.7265770927008700853e+4,
                               3.3430575583588128105e+4, 2.5090809287301226727e+3};
    static const double b[] = {1.0,
                               4.2313330701600911252e+1,
                               6.8718700749205790830e+2,
                               5.3941960214247511077e+3,
                               2.1213794301586595867e+4,
                               3.9307895800092710610e+4,
                               2.8729085735721942674e+4,
                               5.2264952788528545610e+3};
    static const double c[] = {1.42343711074968357734e0,  4.63033784615654529590e0,
                               5.76949722146069140550e0,  3.64784832476320460504e0,
                               1.27045825245236838258e0,  2.41780725177450611770e-1,
                               2.27238449892691845833e-2, 7.74545014278341407640e-4};
    static const double d[] = {1.0,
                               2.05319162663775882187e0,
                               1.67638483018380384940e0,
                               6.89767334985100004550e-1,
                               1.48103976427480074590e-1,
                               1.51986665636164571966e-2,
                               5.47593808499534494600e-4,
                               1.05075007164441684324e-9};
    p = fmin(fmax(p, CWPCT_LEVEL_EDGE), 1 - CWPCT_LEVEL_EDGE);
    double q = p - 0.5;
    if (fabs(q) <= 0.425) {
        double r = 0.180625 - q * q;
        return q * horner(a, 8, r) / horner(b, 8, r);
    }
    double r = sqrt(-log(q < 0 ? p : 1 - p)) - 1.6; /* <= 5 - 1.6 within the edge */
    double z = horner(c, 8, r) / horner(d, 8, r);
    return q < 0 ? -z : z;
}

/* ------------------------------------------------------------------ the mixture */

static size_t
n_modes(const cwpct_model *m)
{
    return m->w > 0 ? 2 : 1;
}

/* From the nearer tail, so that levels close to 1 keep their precision. */
double
cwpct_model_z(const cwpct_model *m, double y)
{
    double lower = 0, upper = 0;
    for (size_t k = 0; k < n_modes(m); k++) {
        double share = k == 1 ? m->w : 1 - m->w, t = (y - m->mu[k]) / m->sigma[k] / M_SQRT2;
        lower += share * 0.5 * erfc(-t);
        upper += share * 0.5 * erfc(t);
    }
    return lower < 0.5 ? cwpct_normal_quantile(lower) : -cwpct_normal_quantile(upper);
}

/* The model's mean of e^y - 1 (the value). */
static double
model_mean(const cwpct_model *m)
{
    double e = 0;
    for (size_t k = 0; k < n_modes(m); k++)
        e += (k == 1 ? m->w : 1 - m->w) * exp(m->mu[k] + m->sigma[k] * m->sigma[k] / 2);
    return e - 1;
}

double
cwpct_model_y(const cwpct_model *m, double target)
{
    double lo = INFINITY, hi = -INFINITY;
    for (size_t k = 0; k < n_modes(m); k++) {
        lo = fmin(lo, m->mu[k] - 9 * m->sigma[k]);
        hi = fmax(hi, m->mu[k] + 9 * m->sigma[k]);
    }
    for (int i = 0; i < 52 && hi - lo > 1e-9; i++) {
        double mid = (lo + hi) / 2;
        if (cwpct_model_z(m, mid) < target)
            lo = mid;
        else
            hi = mid;
    }
    return (lo + hi) / 2;
}

/* ------------------------------------------------------------------ fitting */

typedef struct problem {
    const cwpct_obs *obs;
    double z[MAX_OBS]; /* the observations' levels as normal quantiles */
    size_t n;
    double log_mean; /* NaN: unknown */
} problem;

/* Parameters as fitted (unbounded): mu0, log sigma0, logit w, mu1, log sigma1. */
static cwpct_model
model_of(const double *t)
{
    double w = 1 / (1 + exp(-t[2]));
    return (cwpct_model){
        fmin(fmax(w, SHARE_MIN), SHARE_MAX),
        {t[0], t[3]},
        {fmin(fmax(exp(t[1]), SIGMA_MIN), SIGMA_MAX), fmin(fmax(exp(t[4]), SIGMA_MIN), SIGMA_MAX)}};
}

/* Residuals into e (n + 1 with a known mean); returns their number. */
static size_t
residuals(const problem *p, const cwpct_model *m, double *e)
{
    size_t n = 0;
    for (size_t i = 0; i < p->n; i++)
        e[n++] = cwpct_model_z(m, p->obs[i].y) - p->z[i];
    if (isfinite(p->log_mean))
        e[n++] = MEAN_WEIGHT * (log(fmax(model_mean(m), 1e-300)) - p->log_mean);
    return n;
}

static double
sum_sq(const double *e, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += e[i] * e[i];
    return s;
}

/* The points' misfit alone (the mean left out), for comparing one mode with two. */
static double
points_cost(const problem *p, const cwpct_model *m)
{
    double e[MAX_OBS + 1];
    residuals(p, m, e);
    return sum_sq(e, p->n);
}

static double
cost_of(const problem *p, const double *t)
{
    double e[MAX_OBS + 1];
    cwpct_model m = model_of(t);
    return sum_sq(e, residuals(p, &m, e));
}

/* Solve a x = b (N_PARAM unknowns) by Gaussian elimination with partial pivoting; false when
 * singular. */
static bool
solve(double a[N_PARAM][N_PARAM], double *b, double *x)
{
    for (int c = 0; c < N_PARAM; c++) {
        int piv = c;
        for (int r = c + 1; r < N_PARAM; r++)
            if (fabs(a[r][c]) > fabs(a[piv][c]))
                piv = r;
        if (fabs(a[piv][c]) < 1e-300)
            return false;
        for (int k = 0; k < N_PARAM; k++) {
            double t = a[c][k];
            a[c][k] = a[piv][k];
            a[piv][k] = t;
        }
        double t = b[c];
        b[c] = b[piv];
        b[piv] = t;
        for (int r = c + 1; r < N_PARAM; r++) {
            double f = a[r][c] / a[c][c];
            for (int k = c; k < N_PARAM; k++)
                a[r][k] -= f * a[c][k];
            b[r] -= f * b[c];
        }
    }
    for (int c = N_PARAM; c-- > 0;) {
        double s = b[c];
        for (int k = c + 1; k < N_PARAM; k++)
            s -= a[c][k] * x[k];
        x[c] = s / a[c][c];
    }
    return true;
}

/* One Levenberg-Marquardt step's normal equations at t: JᵀJ and -Jᵀe. */
static void
normal_equations(const problem *p, const double *t, double jtj[N_PARAM][N_PARAM], double *g)
{
    double e[MAX_OBS + 1], j[N_PARAM][MAX_OBS + 1];
    cwpct_model m = model_of(t);
    size_t n = residuals(p, &m, e);
    for (int k = 0; k < N_PARAM; k++) {
        double tk[N_PARAM], h = 1e-6 * fmax(1, fabs(t[k]));
        memcpy(tk, t, sizeof tk);
        tk[k] += h;
        cwpct_model mk = model_of(tk);
        residuals(p, &mk, j[k]);
        for (size_t i = 0; i < n; i++)
            j[k][i] = (j[k][i] - e[i]) / h;
    }
    for (int a = 0; a < N_PARAM; a++) {
        g[a] = 0;
        for (size_t i = 0; i < n; i++)
            g[a] -= j[a][i] * e[i];
        for (int b = 0; b < N_PARAM; b++) {
            double s = 0;
            for (size_t i = 0; i < n; i++)
                s += j[a][i] * j[b][i];
            jtj[a][b] = s;
        }
    }
}

/* Levenberg-Marquardt from t; t left at the best parameters found, their cost returned. */
static double
refine(const problem *p, double *t)
{
    double cost = cost_of(p, t), lambda = 1e-3;
    for (int it = 0; it < 60 && lambda < 1e10; it++) {
        double jtj[N_PARAM][N_PARAM], g[N_PARAM], step[N_PARAM], next[N_PARAM];
        normal_equations(p, t, jtj, g);
        for (int k = 0; k < N_PARAM; k++)
            jtj[k][k] += lambda * (jtj[k][k] + 1e-9);
        if (!solve(jtj, g, step))
            break;
        for (int k = 0; k < N_PARAM; k++)
            next[k] = t[k] + step[k];
        double c = cost_of(p, next);
        if (!(c < cost)) {
            lambda *= 4;
            continue;
        }
        bool settled = cost - c < 1e-10 * (1 + cost);
        memcpy(t, next, sizeof next);
        cost = c;
        lambda /= 3;
        if (settled)
            break;
    }
    return cost;
}

/* Least squares of y on z over observations [from, to) with levels taken within the
 * sub-population (f0, f1) (fractions); false with fewer than two distinct levels. */
static bool
line_fit(const problem *p, size_t from, size_t to, double f0, double f1, double *mu, double *sigma)
{
    double sz = 0, sy = 0, szz = 0, szy = 0, n = 0;
    for (size_t i = from; i < to; i++) {
        double z = cwpct_normal_quantile((p->obs[i].level - f0) / (f1 - f0)), y = p->obs[i].y;
        sz += z, sy += y, szz += z * z, szy += z * y, n++;
    }
    double var = n * szz - sz * sz;
    if (n < 2 || var < 1e-12)
        return false;
    *sigma = (n * szy - sz * sy) / var;
    *mu = (sy - *sigma * sz) / n;
    return true;
}

/* Two modes started with their gap between observations g and g + 1, then refined. */
static double
try_gap(const problem *p, size_t g, double *t)
{
    double fast = (p->obs[g].level + p->obs[g + 1].level) / 2, mu0, s0, mu1, s1;
    if (!line_fit(p, 0, g + 1, 0, fast, &mu0, &s0)) {
        s0 = 0.5;
        mu0 = p->obs[g].y - s0 * cwpct_normal_quantile(p->obs[g].level / fast);
    }
    if (!line_fit(p, g + 1, p->n, fast, 1, &mu1, &s1)) {
        s1 = s0;
        mu1 =
            p->obs[g + 1].y - s1 * cwpct_normal_quantile((p->obs[g + 1].level - fast) / (1 - fast));
    }
    double w = fmin(fmax(1 - fast, SHARE_MIN), SHARE_MAX);
    t[0] = mu0, t[1] = log(fmax(s0, SIGMA_MIN)), t[2] = log(w / (1 - w));
    t[3] = mu1, t[4] = log(fmax(s1, SIGMA_MIN));
    return refine(p, t);
}

/* The steepest step between consecutive observations in the upper half (where an incident's
 * gap lies) that is not the last one (Maximum's), excluding index `skip`; n when none. */
static size_t
steepest(const problem *p, size_t skip)
{
    size_t best = p->n;
    double top = 0;
    for (size_t i = 0; i + 2 < p->n; i++) {
        double dz = p->z[i + 1] - p->z[i];
        if (i == skip || dz <= 0 || p->obs[i + 1].level < 0.5 || p->obs[i].level > 0.995)
            continue;
        double slope = (p->obs[i + 1].y - p->obs[i].y) / dz;
        if (slope > top) {
            top = slope;
            best = i;
        }
    }
    return best;
}

/* Whether one log-normal misses the points by more than a sample of count values scatters
 * them: the i-th smallest of count values lies about sqrt(l (1 - l) / count) / phi(z) from
 * its level's z. */
static bool
beyond_noise(const problem *p, const cwpct_model *m, double count)
{
    double e[MAX_OBS + 1], chi = 0;
    residuals(p, m, e);
    for (size_t i = 0; i < p->n; i++) {
        double l = p->obs[i].level, z = p->z[i];
        double density = exp(-z * z / 2) / sqrt(2 * M_PI);
        double var = l * (1 - l) / count / (density * density);
        chi += e[i] * e[i] / fmax(var, 1e-12);
    }
    return chi > NOISE_GATE * (double)p->n;
}

bool
cwpct_model_fit(const cwpct_obs *obs, size_t n, double count, double mean, cwpct_model *ret)
{
    problem p = {.obs = obs, .n = n < MAX_OBS ? n : MAX_OBS, .log_mean = NAN};
    for (size_t i = 0; i < p.n; i++)
        p.z[i] = cwpct_normal_quantile(obs[i].level);
    if (isfinite(mean) && mean > 0)
        p.log_mean = log(mean);
    *ret = (cwpct_model){0, {0, 0}, {1, 1}};
    if (!line_fit(&p, 0, p.n, 0, 1, &ret->mu[0], &ret->sigma[0])) {
        ret->mu[0] = p.n > 0 ? obs[0].y : 0;
        return false;
    }
    ret->sigma[0] = fmin(fmax(ret->sigma[0], SIGMA_MIN), SIGMA_MAX);
    double one = points_cost(&p, ret);
    if (one < ONE_MODE_EXACT * (double)p.n || p.n < 5 || !beyond_noise(&p, ret, count))
        return false;
    double best_t[N_PARAM], best = INFINITY;
    size_t first = steepest(&p, p.n);
    size_t gaps[2] = {first, first < p.n ? steepest(&p, first) : p.n};
    for (size_t i = 0; i < 2; i++) {
        double t[N_PARAM];
        if (gaps[i] >= p.n || try_gap(&p, gaps[i], t) >= best)
            continue;
        best = cost_of(&p, t);
        memcpy(best_t, t, sizeof t);
    }
    if (!isfinite(best))
        return false;
    cwpct_model two = model_of(best_t);
    if (!(points_cost(&p, &two) < TWO_MODE_GAIN * one) || two.mu[1] <= two.mu[0])
        return false;
    *ret = two;
    return true;
}
