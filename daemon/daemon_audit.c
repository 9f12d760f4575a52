/*
 * Which gate answers become audit rows. The gate is unauthenticated and asked in a loop by
 * pipelines (and by anyone else), so recording every answer would let any client grow the
 * database at request rate. An answer is recorded when it matters:
 *
 * - its verdict differs from the last one recorded for the same question (service, env,
 *   window) — the first answer to a question included; these are bounded by the data (one per
 *   question and tick at most), never by the callers, and are always kept;
 * - otherwise, when this caller (its address, without the port) has had no row for this
 *   question for min_interval, within a budget of max_per_minute such rows for all callers
 *   together.
 *
 * Everything else is counted as skipped. Both tables are fixed-size and direct-mapped: a
 * collision only forgets an entry, which at worst records one answer more (still under the
 * budget for callers' rows). Runs on the HTTP threads under d->lock.
 */
#include "daemon_int.h"

#include <stdlib.h>
#include <string.h>

#include "slawatch/hash.h"

#define SLOTS 4096 /* per table; a power of two */
#define MINUTE_MS 60000

typedef struct slot {
    uint64_t key; /* 0: empty */
    int64_t at_ms;
    uint64_t verdict; /* hash of the verdict string */
} slot;

struct sw_audit_sampler {
    int64_t min_interval_ms;
    int64_t max_per_minute;
    slot questions[SLOTS]; /* (service, env, window) -> last recorded verdict */
    slot callers[SLOTS];   /* (caller, question) -> when last recorded */
    int64_t minute_ms;     /* the minute the budget counts */
    int64_t in_minute;     /* callers' rows admitted in it */
    uint64_t skipped;
};

sw_audit_sampler *
sw_audit_sampler_new(int64_t min_interval_ms, int64_t max_per_minute)
{
    sw_audit_sampler *s = calloc(1, sizeof *s);
    if (s != NULL) {
        s->min_interval_ms = min_interval_ms;
        s->max_per_minute = max_per_minute;
    }
    return s;
}

void
sw_audit_sampler_free(sw_audit_sampler *s)
{
    free(s);
}

static uint64_t
hash_text(const char *text, uint64_t seed)
{
    /* Length included, so ("ab", "c") and ("a", "bc") differ. */
    size_t n = text != NULL ? strlen(text) : 0;
    return sw_hash_bytes(text != NULL ? text : "", n, sw_hash_mix(seed + n + 1));
}

/* The caller's address without its port: "10.0.0.1:5555" -> "10.0.0.1", "[::1]:80" -> "[::1]". */
static uint64_t
hash_caller(const char *remote, uint64_t seed)
{
    const char *r = remote != NULL ? remote : "";
    const char *colon = strrchr(r, ':');
    size_t n = colon != NULL && (r[0] != '[' || colon[-1] == ']') ? (size_t)(colon - r) : strlen(r);
    return sw_hash_bytes(r, n, sw_hash_mix(seed + n + 1));
}

/* Never 0, which marks an empty slot. */
static uint64_t
nonzero(uint64_t h)
{
    return h != 0 ? h : 1;
}

static bool
budget_left(sw_audit_sampler *s, int64_t now_ms)
{
    int64_t minute = now_ms - ((now_ms % MINUTE_MS) + MINUTE_MS) % MINUTE_MS;
    if (minute != s->minute_ms) {
        s->minute_ms = minute;
        s->in_minute = 0;
    }
    return s->in_minute < s->max_per_minute;
}

bool
sw_audit_sampler_admit(sw_audit_sampler *s, const sw_api_gate_audit *a)
{
    uint64_t question = nonzero(sw_hash_mix(hash_text(a->env, hash_text(a->service, 0)) ^
                                            sw_hash_mix((uint64_t)a->window_ms)));
    uint64_t caller = nonzero(hash_caller(a->remote, question));
    uint64_t verdict = hash_text(a->verdict, 0);
    slot *q = &s->questions[question & (SLOTS - 1)];
    slot *c = &s->callers[caller & (SLOTS - 1)];
    bool changed = q->key != question || q->verdict != verdict;
    bool due = c->key != caller || a->at_ms - c->at_ms >= s->min_interval_ms;
    if (!changed && !(due && budget_left(s, a->at_ms))) {
        s->skipped++;
        return false;
    }
    if (!changed)
        s->in_minute++;
    *q = (slot){question, a->at_ms, verdict};
    *c = (slot){caller, a->at_ms, verdict};
    return true;
}

uint64_t
sw_audit_sampler_skipped(const sw_audit_sampler *s)
{
    return s != NULL ? s->skipped : 0;
}
