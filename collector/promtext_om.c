/*
 * OpenMetrics 1.0 semantics for the exposition parser: families contiguous and never repeated
 * (nor clashing through their sample names), metadata once and before samples, each labelset's
 * samples contiguous with ordered timestamps, and the rules of each type (histogram buckets,
 * counts, sums, quantiles, stateset and info values, where exemplars may go). State is the
 * current family, its current labelset and a set of the labelsets it has had.
 */
#include "promtext_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void
pt_om_init(pt_om *o)
{
    memset(o, 0, sizeof *o);
}

void
pt_om_fini(pt_om *o)
{
    free(o->groups.hashes);
    free(o->groups.gens);
}

/* The suffixes each type's samples may carry, PT_SFX_N-terminated. */
static const pt_suffix *
allowed_suffixes(sw_prom_type t)
{
    static const pt_suffix none[] = {PT_SFX_NONE, PT_SFX_N};
    static const pt_suffix counter[] = {PT_SFX_TOTAL, PT_SFX_CREATED, PT_SFX_N};
    static const pt_suffix hist[] = {PT_SFX_BUCKET, PT_SFX_COUNT, PT_SFX_SUM, PT_SFX_CREATED,
                                     PT_SFX_N};
    static const pt_suffix ghist[] = {PT_SFX_BUCKET, PT_SFX_GCOUNT, PT_SFX_GSUM, PT_SFX_N};
    static const pt_suffix summary[] = {PT_SFX_NONE, PT_SFX_COUNT, PT_SFX_SUM, PT_SFX_CREATED,
                                        PT_SFX_N};
    static const pt_suffix info[] = {PT_SFX_INFO, PT_SFX_N};
    switch (t) {
    case SW_PROM_COUNTER: return counter;
    case SW_PROM_HISTOGRAM: return hist;
    case SW_PROM_GAUGEHISTOGRAM: return ghist;
    case SW_PROM_SUMMARY: return summary;
    case SW_PROM_INFO: return info;
    default: return none;
    }
}

static pt_suffix
suffix_in_family(const pt_om *o, const char *n, size_t nlen)
{
    if (nlen < o->fam_len || memcmp(n, o->fam, o->fam_len) != 0)
        return PT_SFX_N;
    for (const pt_suffix *s = allowed_suffixes(o->type); *s != PT_SFX_N; s++) {
        size_t slen = strlen(pt_suffix_text[*s]);
        if (nlen == o->fam_len + slen && memcmp(n + o->fam_len, pt_suffix_text[*s], slen) == 0)
            return *s;
    }
    return PT_SFX_N;
}

/* Each name a family's samples may carry belongs to that family alone. */
static sw_status
claim(pt_parser *P, const char *name, size_t len, const char *at)
{
    pt_family_entry *f = pt_names_get(P, name, len, at);
    if (!f)
        return P->err ? P->err->code : SW_E_NOMEM;
    if (f->flags & PT_F_CLAIMED)
        return pt_fail(P, at, SW_E_PARSE, "metric name '%.*s' clashes with an earlier family",
                       (int)len, name);
    f->flags |= PT_F_CLAIMED;
    return SW_OK;
}

static sw_status
claim_suffixes(pt_parser *P, const char *at)
{
    const pt_om *o = &P->omstate;
    char name[SW_PROMTEXT_MAX_NAME + 16];
    memcpy(name, o->fam, o->fam_len);
    for (const pt_suffix *s = allowed_suffixes(o->type); *s != PT_SFX_N; s++) {
        if (*s == PT_SFX_NONE)
            continue;
        size_t slen = strlen(pt_suffix_text[*s]);
        memcpy(name + o->fam_len, pt_suffix_text[*s], slen);
        sw_status st = claim(P, name, o->fam_len + slen, at);
        if (st != SW_OK)
            return st;
    }
    return SW_OK;
}

/* ---- labelsets ---- */

static uint64_t
mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9u;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebu;
    return x ^ (x >> 31);
}

static uint64_t
label_hash(const sw_prom_label *l)
{
    return mix64(pt_hash(l->name, l->name_len) * 31 + pt_hash(l->value, l->value_len));
}

/* Insert h into the current family's labelsets; *ret_seen when it was there already. */
static sw_status
groups_insert(pt_parser *P, uint64_t h, bool *ret_seen, const char *at)
{
    pt_groups *g = &P->omstate.groups;
    if ((g->n_used + 1) * 2 > g->n_slots) {
        if (g->n_used >= SW_PROMTEXT_MAX_GROUPS)
            return pt_fail(P, at, SW_E_TOOBIG, "more than %zu labelsets in family '%.*s'",
                           SW_PROMTEXT_MAX_GROUPS, (int)P->omstate.fam_len, P->omstate.fam);
        size_t n = g->n_slots ? g->n_slots * 2 : 64;
        uint64_t *hs = calloc(n, sizeof *hs);
        uint32_t *gs = calloc(n, sizeof *gs);
        if (!hs || !gs) {
            free(hs);
            free(gs);
            return pt_fail(P, at, SW_E_NOMEM, "out of memory for labelsets");
        }
        for (size_t i = 0; i < g->n_slots; i++)
            if (g->gens[i] == g->gen) {
                size_t j = (size_t)g->hashes[i] & (n - 1);
                while (gs[j] == g->gen)
                    j = (j + 1) & (n - 1);
                hs[j] = g->hashes[i], gs[j] = g->gen;
            }
        free(g->hashes);
        free(g->gens);
        g->hashes = hs, g->gens = gs, g->n_slots = n;
    }
    size_t mask = g->n_slots - 1;
    for (size_t j = (size_t)h & mask;; j = (j + 1) & mask) {
        if (g->gens[j] != g->gen) {
            g->hashes[j] = h, g->gens[j] = g->gen;
            g->n_used++;
            *ret_seen = false;
            return SW_OK;
        }
        if (g->hashes[j] == h) {
            *ret_seen = true;
            return SW_OK;
        }
    }
}

/* ---- families ---- */

static sw_status
group_end(pt_parser *P, const char *at)
{
    pt_om *o = &P->omstate;
    bool hist = o->type == SW_PROM_HISTOGRAM, gauge = o->type == SW_PROM_GAUGEHISTOGRAM;
    if (!o->in_group || !(hist || gauge))
        return SW_OK;
    o->in_group = false;
    const char *count = hist ? "_count" : "_gcount", *sum = hist ? "_sum" : "_gsum";
    int fl = (int)o->fam_len;
    if (!o->any_bucket && !o->has_count && !o->has_sum)
        return SW_OK;
    if (!o->has_inf)
        return pt_fail(P, at, SW_E_PARSE, "histogram '%.*s' has no +Inf bucket", fl, o->fam);
    if (o->has_count != o->has_sum)
        return pt_fail(P, at, SW_E_PARSE, "histogram '%.*s' has %s without %s", fl, o->fam,
                       o->has_count ? count : sum, o->has_count ? sum : count);
    if (o->has_count && o->count_value != o->inf_value)
        return pt_fail(P, at, SW_E_PARSE, "histogram '%.*s': %s %g differs from the +Inf bucket %g",
                       fl, o->fam, count, o->count_value, o->inf_value);
    if (hist && o->has_sum && o->neg_bucket)
        return pt_fail(P, at, SW_E_PARSE, "histogram '%.*s' has negative buckets and a _sum", fl,
                       o->fam);
    if (gauge && o->has_sum && o->sum_value < 0 && !o->neg_bucket)
        return pt_fail(P, at, SW_E_PARSE,
                       "gauge histogram '%.*s': negative _gsum without negative buckets", fl,
                       o->fam);
    return SW_OK;
}

static sw_status
family_start(pt_parser *P, const char *name, size_t len, const char *at)
{
    pt_om *o = &P->omstate;
    sw_status st = group_end(P, at);
    if (st != SW_OK)
        return st;
    if ((st = claim(P, name, len, at)) != SW_OK)
        return st;
    o->fam = name, o->fam_len = len;
    o->type = SW_PROM_UNKNOWN;
    o->flags = 0;
    o->open = true;
    o->groups.gen++;
    o->groups.n_used = 0;
    o->series_valid = false;
    return SW_OK;
}

static bool
unit_fits(const char *fam, size_t flen, const char *unit, size_t ulen)
{
    return ulen == 0 || (flen > ulen + 1 && fam[flen - ulen - 1] == '_' &&
                         memcmp(fam + flen - ulen, unit, ulen) == 0);
}

static sw_status
metadata_type(pt_parser *P, const char *arg, size_t alen)
{
    pt_om *o = &P->omstate;
    sw_prom_type t;
    if (pt_om_parse_type(arg, arg + alen, &t) != SW_OK)
        return pt_fail(P, arg, SW_E_PARSE, "unknown metric type '%.*s'",
                       (int)(alen > 40 ? 40 : alen), arg);
    if ((o->flags & PT_F_UNIT) && (t == SW_PROM_INFO || t == SW_PROM_STATESET))
        return pt_fail(P, arg, SW_E_PARSE, "%s families have no unit", arg);
    o->type = t;
    return claim_suffixes(P, arg);
}

static sw_status
metadata_unit(pt_parser *P, const char *arg, size_t alen)
{
    pt_om *o = &P->omstate;
    for (size_t i = 0; i < alen; i++)
        if (!((arg[i] >= 'a' && arg[i] <= 'z') || (arg[i] >= 'A' && arg[i] <= 'Z') ||
              (arg[i] >= '0' && arg[i] <= '9') || arg[i] == '_' || arg[i] == ':'))
            return pt_fail(P, arg + i, SW_E_PARSE, "invalid character in unit");
    if (o->type == SW_PROM_INFO || o->type == SW_PROM_STATESET)
        return pt_fail(P, arg, SW_E_PARSE, "info and stateset families have no unit");
    if (!unit_fits(o->fam, o->fam_len, arg, alen))
        return pt_fail(P, arg, SW_E_PARSE, "unit '%.*s' is not a suffix of the family name '%.*s'",
                       (int)alen, arg, (int)o->fam_len, o->fam);
    return SW_OK;
}

sw_status
pt_om_metadata(pt_parser *P, const char *kw, const char *name, size_t name_len, const char *arg,
               size_t arg_len)
{
    pt_om *o = &P->omstate;
    sw_status st;
    if (!o->open || o->fam_len != name_len || memcmp(o->fam, name, name_len) != 0) {
        if ((st = family_start(P, name, name_len, name)) != SW_OK)
            return st;
    } else if (o->flags & PT_F_SAMPLES) {
        return pt_fail(P, kw, SW_E_PARSE, "metadata for '%.*s' after its samples",
                       (int)name_len, name);
    }
    uint8_t bit = kw[0] == 'H' ? PT_F_HELP : kw[0] == 'T' ? PT_F_TYPE : PT_F_UNIT;
    if (o->flags & bit)
        return pt_fail(P, kw, SW_E_PARSE, "repeated %.4s for '%.*s'", kw, (int)name_len, name);
    o->flags |= bit;
    if (bit == PT_F_TYPE)
        return metadata_type(P, arg, arg_len);
    if (bit == PT_F_UNIT)
        return metadata_unit(P, arg, arg_len);
    return SW_OK;
}

/* ---- samples ---- */

static const sw_prom_label *
find_label(const sw_prom_sample *s, const char *name, size_t len)
{
    for (size_t i = 0; i < s->n_labels; i++)
        if (s->labels[i].name_len == len && memcmp(s->labels[i].name, name, len) == 0)
            return &s->labels[i];
    return NULL;
}

/* The label that tells a labelset's samples apart, if the type has one. */
static const char *
part_label(const pt_om *o, pt_suffix sfx, size_t *ret_len)
{
    if ((o->type == SW_PROM_HISTOGRAM || o->type == SW_PROM_GAUGEHISTOGRAM) &&
        sfx == PT_SFX_BUCKET)
        return *ret_len = 2, "le";
    if (o->type == SW_PROM_SUMMARY && sfx == PT_SFX_NONE)
        return *ret_len = 8, "quantile";
    if (o->type == SW_PROM_STATESET)
        return *ret_len = o->fam_len, o->fam;
    return NULL;
}

static sw_status
bucket(pt_parser *P, const sw_prom_sample *s, const sw_prom_label *le)
{
    pt_om *o = &P->omstate;
    double b;
    bool inf = le->value_len == 4 && memcmp(le->value, "+Inf", 4) == 0;
    if (!pt_parse_om_number(le->value, le->value + le->value_len, false, &b) || isnan(b) ||
        (isinf(b) && !inf))
        return pt_fail(P, s->name, SW_E_PARSE, "invalid bucket bound le=\"%.*s\"",
                       (int)(le->value_len > 40 ? 40 : le->value_len), le->value);
    if (o->any_bucket && !(b > o->last_le))
        return pt_fail(P, s->name, SW_E_PARSE, "buckets of '%.*s' out of order", (int)o->fam_len,
                       o->fam);
    if (o->any_bucket && s->value < o->last_bucket)
        return pt_fail(P, s->name, SW_E_PARSE, "bucket counts of '%.*s' decrease",
                       (int)o->fam_len, o->fam);
    o->any_bucket = true;
    o->last_le = b, o->last_bucket = s->value;
    o->neg_bucket |= b < 0;
    if (inf)
        o->has_inf = true, o->inf_value = s->value;
    return SW_OK;
}

static sw_status
quantile(pt_parser *P, const sw_prom_sample *s, const sw_prom_label *q)
{
    double v;
    if (!pt_parse_om_number(q->value, q->value + q->value_len, false, &v) || isnan(v) || v < 0 ||
        v > 1)
        return pt_fail(P, s->name, SW_E_PARSE, "quantile=\"%.*s\" is not a number in [0, 1]",
                       (int)(q->value_len > 40 ? 40 : q->value_len), q->value);
    if (s->value < 0)
        return pt_fail(P, s->name, SW_E_PARSE, "negative quantile value");
    return SW_OK;
}

/* Rules on one sample's name, labels and value for its family's type. */
static sw_status
check_typed(pt_parser *P, const sw_prom_sample *s, pt_suffix sfx, const sw_prom_label *part,
            const pt_om_extra *x)
{
    pt_om *o = &P->omstate;
    bool counted = sfx == PT_SFX_TOTAL || sfx == PT_SFX_BUCKET || sfx == PT_SFX_COUNT ||
                   sfx == PT_SFX_GCOUNT || (sfx == PT_SFX_SUM) || sfx == PT_SFX_GSUM;
    if (counted && (isnan(s->value) || (s->value < 0 && sfx != PT_SFX_GSUM)))
        return pt_fail(P, x->value_at, SW_E_PARSE, "%s of '%.*s' must not be negative or NaN",
                       sfx == PT_SFX_TOTAL ? "counter value" : pt_suffix_text[sfx] + 1,
                       (int)o->fam_len, o->fam);
    if (x->has_exemplar && sfx != PT_SFX_TOTAL && sfx != PT_SFX_BUCKET)
        return pt_fail(P, x->value_at, SW_E_PARSE,
                       "exemplars are allowed only on counter _total and histogram _bucket");
    size_t plen;
    if (part_label(o, sfx, &plen) && !part)
        return pt_fail(P, s->name, SW_E_PARSE, "sample of %s '%.*s' lacks its '%s' label",
                       o->type == SW_PROM_STATESET ? "stateset" : "family", (int)o->fam_len,
                       o->fam, o->type == SW_PROM_STATESET ? "state" : part_label(o, sfx, &plen));
    switch (sfx) {
    case PT_SFX_BUCKET: return bucket(P, s, part);
    case PT_SFX_COUNT:
    case PT_SFX_GCOUNT: o->has_count = true, o->count_value = s->value; break;
    case PT_SFX_SUM:
    case PT_SFX_GSUM: o->has_sum = true, o->sum_value = s->value; break;
    case PT_SFX_INFO:
        if (s->value != 1)
            return pt_fail(P, x->value_at, SW_E_PARSE, "info value must be 1");
        break;
    case PT_SFX_NONE:
        if (o->type == SW_PROM_SUMMARY)
            return quantile(P, s, part);
        if (o->type == SW_PROM_STATESET && s->value != 0 && s->value != 1)
            return pt_fail(P, x->value_at, SW_E_PARSE, "stateset value must be 0 or 1");
        break;
    default: break;
    }
    return SW_OK;
}

/* Group (labelset) change and the series' timestamps. */
static sw_status
track_series(pt_parser *P, const sw_prom_sample *s, pt_suffix sfx, const sw_prom_label *part,
             const pt_om_extra *x)
{
    pt_om *o = &P->omstate;
    uint64_t group = 0;
    for (size_t i = 0; i < s->n_labels; i++)
        if (&s->labels[i] != part)
            group += label_hash(&s->labels[i]);
    sw_status st;
    if (!o->in_group || group != o->group_hash) {
        if ((st = group_end(P, s->name)) != SW_OK)
            return st;
        bool seen;
        if ((st = groups_insert(P, group, &seen, s->name)) != SW_OK)
            return st;
        if (seen)
            return pt_fail(P, s->name, SW_E_PARSE,
                           "samples of one labelset of '%.*s' are not together", (int)o->fam_len,
                           o->fam);
        o->in_group = true, o->group_hash = group;
        o->has_inf = o->has_count = o->has_sum = o->neg_bucket = o->any_bucket = false;
    }
    uint64_t series = mix64(group + (part ? label_hash(part) : 0) + (uint64_t)sfx);
    if (o->series_valid && series == o->series_hash) {
        if (o->series_has_ts != s->has_timestamp || !s->has_timestamp)
            return pt_fail(P, s->name, SW_E_PARSE, "repeated sample %s",
                           s->has_timestamp || o->series_has_ts ? "mixes samples with and without timestamps"
                                                                : "without timestamps");
        if (x->ts_s < o->series_ts)
            return pt_fail(P, x->ts_at, SW_E_PARSE, "timestamps of a series go backwards");
    }
    o->series_valid = true, o->series_hash = series;
    o->series_has_ts = s->has_timestamp, o->series_ts = x->ts_s;
    return SW_OK;
}

sw_status
pt_om_sample(pt_parser *P, sw_prom_sample *s, const pt_om_extra *x)
{
    pt_om *o = &P->omstate;
    pt_suffix sfx = o->open ? suffix_in_family(o, s->name, s->name_len) : PT_SFX_N;
    sw_status st;
    if (sfx == PT_SFX_N) {
        if ((st = family_start(P, s->name, s->name_len, s->name)) != SW_OK)
            return st;
        sfx = PT_SFX_NONE;
    }
    o->flags |= PT_F_SAMPLES;
    s->type = o->type;
    size_t plen = 0;
    const char *pname = part_label(o, sfx, &plen);
    const sw_prom_label *part = pname ? find_label(s, pname, plen) : NULL;
    if ((st = track_series(P, s, sfx, part, x)) != SW_OK)
        return st;
    return check_typed(P, s, sfx, part, x);
}

sw_status
pt_om_eof(pt_parser *P, const char *at)
{
    return group_end(P, at);
}
