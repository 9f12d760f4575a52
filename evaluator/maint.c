/*
 * Maintenance windows of a service as the evaluator uses them: widened outwards to whole base
 * intervals (an interval that overlaps maintenance is left out whole), merged and sorted, so
 * "does this interval or slice overlap maintenance" and "how much of this window is under
 * maintenance" are short scans. Built once per rule set; read-only afterwards.
 */
#include "eval_int.h"

#include <stdlib.h>

static int
cmp_start(const void *a, const void *b)
{
    const sw_maintenance *x = a, *y = b;
    return (x->start_ms > y->start_ms) - (x->start_ms < y->start_ms);
}

/* Append [s, e) to the sorted list, merging with the last range when they touch. */
static void
merge_in(sw_maint *m, int64_t s, int64_t e)
{
    if (m->n > 0 && s <= m->end_ms[m->n - 1]) {
        m->end_ms[m->n - 1] = sw_max_i64(m->end_ms[m->n - 1], e);
        return;
    }
    m->start_ms[m->n] = s;
    m->end_ms[m->n] = e;
    m->n++;
}

sw_status
sw_maint_build(const sw_service *svc, int64_t base_ms, sw_maint *ret, sw_err *err)
{
    sw_maint m = {0};
    size_t n = svc->n_maintenance;
    if (n == 0) {
        *ret = m;
        return SW_OK;
    }
    sw_maintenance *sorted = malloc(n * sizeof *sorted);
    m.start_ms = malloc(n * sizeof *m.start_ms);
    m.end_ms = malloc(n * sizeof *m.end_ms);
    if (sorted == NULL || m.start_ms == NULL || m.end_ms == NULL) {
        free(sorted);
        sw_maint_fini(&m);
        return sw_err_set(err, SW_E_NOMEM, "cannot allocate maintenance windows");
    }
    for (size_t i = 0; i < n; i++)
        sorted[i] = svc->maintenance[i];
    qsort(sorted, n, sizeof *sorted, cmp_start);
    for (size_t i = 0; i < n; i++)
        if (sorted[i].end_ms > sorted[i].start_ms)
            merge_in(&m, sw_floor_to(sorted[i].start_ms, base_ms),
                     sw_ceil_to(sorted[i].end_ms, base_ms));
    free(sorted);
    *ret = m;
    return SW_OK;
}

void
sw_maint_fini(sw_maint *m)
{
    free(m->start_ms);
    free(m->end_ms);
    m->start_ms = m->end_ms = NULL;
    m->n = 0;
}

bool
sw_maint_overlaps(const sw_maint *m, int64_t from_ms, int64_t to_ms)
{
    for (size_t i = 0; i < m->n && m->start_ms[i] < to_ms; i++)
        if (m->end_ms[i] > from_ms)
            return true;
    return false;
}

int64_t
sw_maint_ms_in(const sw_maint *m, int64_t from_ms, int64_t to_ms)
{
    int64_t ms = 0;
    for (size_t i = 0; i < m->n && m->start_ms[i] < to_ms; i++) {
        int64_t s = sw_max_i64(m->start_ms[i], from_ms), e = sw_min_i64(m->end_ms[i], to_ms);
        if (e > s)
            ms += e - s;
    }
    return ms;
}

int64_t
sw_maint_slices_in(const sw_maint *m, int64_t slice_ms, int64_t from_ms, int64_t to_ms)
{
    int64_t first = sw_ceil_to(from_ms, slice_ms) / slice_ms;
    int64_t end = sw_floor_to(to_ms, slice_ms) / slice_ms; /* slices [first, end) lie inside */
    int64_t count = 0, next = first;                       /* next: first slice not counted */
    for (size_t i = 0; i < m->n && m->start_ms[i] < to_ms; i++) {
        int64_t lo = sw_max_i64(next, sw_floor_to(m->start_ms[i], slice_ms) / slice_ms);
        int64_t hi = sw_min_i64(end, sw_ceil_to(m->end_ms[i], slice_ms) / slice_ms);
        if (hi > lo) {
            count += hi - lo;
            next = hi;
        }
    }
    return count;
}
