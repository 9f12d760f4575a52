/*
 * The window sums one advance of a series asks for, each distinct window read from the history
 * once. At a boundary the production rules ask for the same windows many times: every condition
 * alert and trigger over the default minute, the five objectives' month, and their hour's burn
 * rate, which is also the first burn-rate alert's long window (25 windows, 10 of them distinct).
 * The history does not change while a series advances, so the sums of a window are the same
 * at each ask; the memo is emptied when an advance begins (sw_eval_series_advance).
 */
#include "eval_int.h"

#include <string.h>

void
sw_sums_memo_clear(sw_sums_memo *m)
{
    m->n = 0;
}

static const sw_sums_memo_entry *
memo_find(const sw_sums_memo *m, int64_t from_ms, int64_t to_ms, bool excl_maint)
{
    for (size_t i = 0; i < m->n; i++) {
        const sw_sums_memo_entry *e = &m->e[i];
        if (e->from_ms == from_ms && e->to_ms == to_ms && e->excl_maint == excl_maint)
            return e;
    }
    return NULL;
}

void
sw_series_sums(sw_sums_memo *m, const sw_history *h, int64_t from_ms, int64_t to_ms,
               bool excl_maint, sw_sums *ret)
{
    const sw_sums_memo_entry *hit = m != NULL ? memo_find(m, from_ms, to_ms, excl_maint) : NULL;
    if (hit != NULL) {
        *ret = hit->sums;
        return;
    }
    if (m == NULL) {
        sw_history_sums(h, from_ms, to_ms, excl_maint, ret);
        return;
    }
    sw_history_sums_on(h, from_ms, to_ms, excl_maint, ret); /* the advancing thread's */
    /* Full: the windows of earlier boundaries (a catch-up over many) are not asked again, as
     * their ends are past. */
    if (m->n == SW_SUMS_MEMO_MAX)
        m->n = 0;
    m->e[m->n++] = (sw_sums_memo_entry){from_ms, to_ms, excl_maint, *ret};
}
