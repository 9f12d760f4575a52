/*
 * Mann-Whitney U from two histograms of the same layout, in one pass over their recorded
 * buckets in value order: a candidate value beats every baseline value in lower buckets and
 * ties with the baseline values in its own bucket. The variance is corrected for those ties
 * (sum of t^3 - t over buckets), as in every statistics package. Stateless.
 */
#include "slawatch/ranktest.h"

#include <math.h>
#include <stdbool.h>

/* Running state of the merged walk over both histograms. */
typedef struct walk {
    sw_hdr_iter c, b;
    bool has_c, has_b;
} walk;

/* Counts of both histograms in the next bucket either has; false when both are done. */
static bool
walk_next(walk *w, double *ret_c, double *ret_b)
{
    if (!w->has_c && !w->has_b)
        return false;
    int32_t index = !w->has_b || (w->has_c && w->c.index < w->b.index) ? w->c.index : w->b.index;
    *ret_c = *ret_b = 0.0;
    if (w->has_c && w->c.index == index) {
        *ret_c = (double)w->c.count;
        w->has_c = sw_hdr_iter_next(&w->c);
    }
    if (w->has_b && w->b.index == index) {
        *ret_b = (double)w->b.count;
        w->has_b = sw_hdr_iter_next(&w->b);
    }
    return true;
}

sw_status
sw_ranktest_mann_whitney(const sw_hdr *candidate, const sw_hdr *baseline, sw_ranktest_result *ret,
                         sw_err *err)
{
    if (!sw_hdr_same_layout(candidate, baseline))
        return sw_err_set(err, SW_E_MISMATCH, "rank test needs histograms of one layout");
    double n1 = (double)sw_hdr_total_count(candidate), n2 = (double)sw_hdr_total_count(baseline);
    if (n1 == 0 || n2 == 0)
        return sw_err_set(err, SW_E_INVAL, "rank test needs values in both histograms");
    walk w;
    sw_hdr_iter_init(&w.c, candidate);
    sw_hdr_iter_init(&w.b, baseline);
    w.has_c = sw_hdr_iter_next(&w.c);
    w.has_b = sw_hdr_iter_next(&w.b);
    double u = 0.0, ties = 0.0, below_b = 0.0, cx, cy;
    while (walk_next(&w, &cx, &cy)) {
        u += cx * (below_b + cy / 2.0);
        double t = cx + cy;
        ties += t * (t * t - 1.0);
        below_b += cy;
    }
    double n = n1 + n2;
    double var = n1 * n2 / 12.0 * ((n + 1.0) - ties / (n * (n - 1.0)));
    *ret = (sw_ranktest_result){
        .u = u, .z = 0.0, .p_value = 1.0, .n_candidate = (int64_t)n1, .n_baseline = (int64_t)n2};
    if (var > 0) {
        ret->z = (u - n1 * n2 / 2.0 - 0.5) / sqrt(var);
        ret->p_value = 0.5 * erfc(ret->z / sqrt(2.0));
    }
    return SW_OK;
}
