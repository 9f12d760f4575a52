/*
 * The evaluator's state saved and loaded (eval_ckpt.h). Histograms go as their V2 encoding and
 * come back through sw_chist_decode, which checks what it reads, into compact histograms packed
 * the way feeding packs them; everything else as varints in a fixed order. Running totals and
 * sequence numbers are kept as they were, so windows that point into a history still point at
 * the same intervals. A load checks that counts fit the bytes left and that positions fit the
 * history they point into; the file around it (ckpt.h) has a checksum.
 */
#include "eval_int.h"
#include "slawatch/eval_ckpt.h"
#include "slawatch/hdr_codec.h"

#include <stdlib.h>
#include <string.h>

#define NAME_MAX_LEN 4096

typedef struct saver {
    sw_ckw w;
    sw_hdr *scratch; /* empty between uses */
    sw_buf enc;
} saver;

typedef struct loader {
    sw_ckr r;
    sw_buf buf;
    sw_err *err;
} loader;

/* ------------------------------------------------------------------ histograms */

static void
save_hdr(saver *sv, const sw_hdr *h)
{
    sw_buf_reset(&sv->enc);
    if (h != NULL && sv->w.st == SW_OK && sw_hdr_total_count(h) > 0)
        sv->w.st = sw_hdr_encode(h, false, &sv->enc, sv->w.err);
    sw_ckw_bytes(&sv->w, sv->enc.data, sv->enc.len);
}

/* An absent histogram as an empty one: the history and windows keep no empty ones. */
static void
save_chist(saver *sv, const sw_chist *c)
{
    if (c != NULL)
        sw_chist_add_to(sv->scratch, c);
    save_hdr(sv, c != NULL ? sv->scratch : NULL);
    sw_hdr_reset(sv->scratch);
}

/* What a load found wrong makes the state unreadable, whichever code the function that found
 * it used: the message stays, the code becomes SW_E_PARSE (as the status returned). */
static sw_status
as_parse_error(sw_err *err)
{
    if (err != NULL)
        err->code = SW_E_PARSE;
    return SW_E_PARSE;
}

/* The next histogram packed, or NULL for an empty one. */
static sw_status
load_chist(loader *ld, sw_chist **ret)
{
    size_t len;
    const uint8_t *data = sw_ckr_bytes(&ld->r, &len);
    *ret = NULL;
    if (ld->r.bad)
        return sw_err_set(ld->err, SW_E_PARSE, "a histogram runs past the end");
    if (len == 0)
        return SW_OK;
    int64_t none[1];
    sw_status st = sw_chist_decode(data, len, none, 0, none, &ld->buf, ret, ld->err);
    if (st != SW_OK && st != SW_E_NOMEM)
        st = as_parse_error(ld->err); /* whatever the decoder found wrong */
    if (st == SW_OK && sw_chist_total(*ret) == 0) {
        sw_chist_free(*ret);
        *ret = NULL;
    }
    return st;
}

/* The next histogram added to h (empty on entry). */
static sw_status
load_into(loader *ld, sw_hdr *h)
{
    sw_chist *c;
    sw_status st = load_chist(ld, &c);
    if (st == SW_OK && c != NULL) {
        /* Sized once for what it holds (a range over exactly its buckets, or pairs with room),
         * instead of pairs reserved and turned into a range that grows chunk by chunk as the
         * buckets come; out of memory, the add copes as before. */
        int64_t first, last;
        sw_chist_span(c, &first, &last);
        sw_hdr_presize(h, sw_chist_buckets(c), first, last);
        sw_chist_add_to(h, c);
    }
    sw_chist_free(c);
    return st;
}

/* ------------------------------------------------------------------ history */

/* A ring's buckets with their running totals; the base level's with their histograms. */
static void
save_ring(saver *sv, const sw_history *h, const sw_ring *r)
{
    sw_ckw *w = &sv->w;
    sw_ckw_u64(w, r->first);
    sw_ckw_u64(w, r->end - r->first);
    sw_ckw_i64(w, r->dropped_start_ms);
    for (size_t i = 0; i < r->n_sums; i++)
        sw_ckw_u64(w, r->base_cum[i]);
    sw_ring_reader rd;
    const sw_rec *rec;
    sw_ring_read_from(r, r->first, &rd);
    while (sw_ring_read_next(&rd, &rec)) {
        sw_ckw_i64(w, rec->start_ms);
        sw_ckw_i64(w, rec->end_ms);
        sw_ckw_u64(w, rec->tail_run);
        sw_ckw_u64(w, rec->peak_run);
        sw_ckw_u64(w, rec->in_maint);
        for (size_t i = 0; i < r->n_sums; i++)
            sw_ckw_u64(w, rd.cum[i]);
        const sw_lat_rec *lat =
            r == &h->level[SW_LEVEL_BASE] ? sw_history_lat(h, rd.next - 1) : NULL;
        save_chist(sv, lat != NULL ? lat->latency : NULL);
    }
}

/* Into a ring just initialised; the base level's histograms into the history. */
static sw_status
load_ring(loader *ld, sw_history *h, sw_ring *r)
{
    sw_ckr *rd = &ld->r;
    size_t n_sums = r->n_sums;
    uint64_t first = sw_ckr_u64(rd);
    size_t n = sw_ckr_count(rd);
    int64_t dropped_start_ms = sw_ckr_i64(rd);
    uint64_t cum[SW_SUMS_MAX];
    for (size_t i = 0; i < n_sums; i++)
        cum[i] = sw_ckr_u64(rd);
    /* Each interval takes at least a byte per field: memory stays within a multiple of the
     * bytes given. */
    if (rd->bad || first > UINT64_MAX - n || n > (size_t)(rd->end - rd->p) / (6 + n_sums))
        return sw_err_set(ld->err, SW_E_PARSE, "an interval history does not fit");
    sw_ring_start_at(r, first, cum);
    r->dropped_start_ms = dropped_start_ms;
    bool base = r == &h->level[SW_LEVEL_BASE];
    if (base && h->latency_first < first)
        h->latency_first = first;
    sw_status st = SW_OK;
    for (size_t k = 0; k < n && st == SW_OK; k++) {
        sw_rec rec = {.start_ms = sw_ckr_i64(rd), .end_ms = sw_ckr_i64(rd)};
        rec.tail_run = (uint32_t)sw_ckr_u64(rd);
        rec.peak_run = (uint32_t)sw_ckr_u64(rd);
        rec.in_maint = (uint32_t)sw_ckr_u64(rd);
        for (size_t i = 0; i < n_sums; i++) {
            uint64_t next = sw_ckr_u64(rd);
            rec.sums[i] = next - cum[i]; /* mod 2^64: the running totals come back as saved */
            cum[i] = next;
        }
        sw_chist *lat;
        st = load_chist(ld, &lat);
        if (st == SW_OK && base) {
            st = sw_history_put_base(h, &rec, lat, ld->err);
        } else if (st == SW_OK) {
            sw_chist_free(lat); /* rollups keep none */
            sw_rec *put;
            st = sw_ring_push(r, rec.start_ms, rec.end_ms, &put, ld->err);
            if (st == SW_OK)
                *put = rec;
        }
    }
    return st;
}

static void
save_history(saver *sv, const sw_history *h)
{
    sw_ckw_u64(&sv->w, h->latency_first);
    sw_ckw_u64(&sv->w, h->tail_run);
    sw_ckw_i64(&sv->w, h->first_start_ms);
    sw_ckw_i64(&sv->w, h->last_end_ms);
    sw_ring none; /* a history without maintenance saves its levels as empty ones */
    sw_ring_init(&none, h->cfg.n_sums, 1, 0);
    for (int l = 0; l < SW_LEVELS; l++) {
        save_ring(sv, h, &h->level[l]);
        save_ring(sv, h, h->maint != NULL ? &h->maint[l] : &none);
    }
}

static sw_status
load_history(loader *ld, sw_history *h)
{
    uint64_t latency_first = sw_ckr_u64(&ld->r);
    h->tail_run = (uint32_t)sw_ckr_u64(&ld->r);
    h->first_start_ms = sw_ckr_i64(&ld->r);
    h->last_end_ms = sw_ckr_i64(&ld->r);
    h->latency_first = latency_first;
    sw_status st = sw_history_maint_set(h, ld->err); /* unmade again below if never used */
    for (int l = 0; l < SW_LEVELS && st == SW_OK; l++) {
        st = load_ring(ld, h, &h->level[l]);
        if (st == SW_OK)
            st = load_ring(ld, h, &h->maint[l]);
    }
    if (st == SW_OK)
        sw_history_maint_unset_unused(h);
    const sw_ring *base = &h->level[SW_LEVEL_BASE];
    if (st == SW_OK && latency_first > base->end)
        st = sw_err_set(ld->err, SW_E_PARSE, "the kept histograms start past the history");
    return st;
}

/* ------------------------------------------------------------------ windows */

/* A window read from its packed intervals is saved with the merged histogram it does not
 * keep, so the file is what a merged window's is. */
static void
save_window(saver *sv, const sw_lat_window *w, const sw_history *h)
{
    sw_ckw_u64(&sv->w, w->tail);
    sw_ckw_u64(&sv->w, w->head);
    sw_ckw_i64(&sv->w, w->month_start_ms);
    sw_ckw_i64(&sv->w, w->build_hour_ms);
    sw_ckw_i64(&sv->w, w->edge_ms);
    sw_ckw_i64(&sv->w, w->to_ms);
    sw_ckw_u64(&sv->w, w->build != NULL);
    if (w->packed != NULL) {
        sw_packed_merge(w, h, sv->scratch);
        save_hdr(sv, sv->scratch);
        sw_hdr_reset(sv->scratch);
    } else {
        save_hdr(sv, w->acc);
    }
    save_hdr(sv, w->build);
    sw_ckw_u64(&sv->w, w->n_hours);
    for (size_t i = 0; i < w->n_hours; i++) {
        sw_ckw_i64(&sv->w, w->hour_ms[i]);
        sw_ckw_u64(&sv->w, w->hour_pinned[i]);
        save_chist(sv, w->hours[i]);
    }
}

/* Into a window just initialised; its positions must lie inside the history h. */
static sw_status
load_window(loader *ld, sw_lat_window *w, const sw_lat_spec *spec, const sw_history *h)
{
    w->tail = sw_ckr_u64(&ld->r);
    w->head = sw_ckr_u64(&ld->r);
    w->month_start_ms = sw_ckr_i64(&ld->r);
    w->build_hour_ms = sw_ckr_i64(&ld->r);
    w->edge_ms = sw_ckr_i64(&ld->r);
    w->to_ms = sw_ckr_i64(&ld->r);
    bool packs_hours = sw_ckr_u64(&ld->r) != 0;
    if (w->head > h->level[SW_LEVEL_BASE].end || w->tail > w->head)
        return sw_err_set(ld->err, SW_E_PARSE, "a latency window points past its history");
    if (packs_hours != (w->build != NULL) && !sw_window_can_pack_hours(spec))
        return sw_err_set(ld->err, SW_E_PARSE, "a latency window packs hours it cannot");
    sw_status st = SW_OK;
    if (packs_hours && w->build == NULL)
        st = sw_hdr_new(&sw_hdr_latency_config, &w->build, ld->err);
    if (st == SW_OK && w->packed != NULL) { /* its merged histogram: read from h instead */
        sw_chist *merged = NULL;
        st = load_chist(ld, &merged);
        sw_chist_free(merged);
        if (st == SW_OK)
            st = sw_packed_reload(w, spec, h, ld->err);
    } else if (st == SW_OK) {
        st = load_into(ld, w->acc);
    }
    sw_chist *none = NULL;
    if (st == SW_OK && w->build != NULL)
        st = load_into(ld, w->build);
    else if (st == SW_OK && (st = load_chist(ld, &none)) == SW_OK && none != NULL)
        st = sw_err_set(ld->err, SW_E_PARSE, "an hour being gathered where none is");
    sw_chist_free(none);
    size_t n = st == SW_OK ? sw_ckr_count(&ld->r) : 0;
    if (st == SW_OK && n > 0) {
        w->hours = calloc(n, sizeof *w->hours);
        w->hour_ms = calloc(n, sizeof *w->hour_ms);
        w->hour_pinned = calloc(n, sizeof *w->hour_pinned);
        if (w->hours == NULL || w->hour_ms == NULL || w->hour_pinned == NULL)
            st = sw_err_set(ld->err, SW_E_NOMEM, "cannot allocate %zu hours", n);
        w->cap_hours = n;
    }
    for (size_t i = 0; i < n && st == SW_OK; i++) {
        w->hour_ms[i] = sw_ckr_i64(&ld->r);
        w->hour_pinned[i] = sw_ckr_u64(&ld->r) != 0;
        st = load_chist(ld, &w->hours[i]);
        w->n_hours += st == SW_OK;
        if (st == SW_OK && w->hours[i] == NULL)
            st = sw_err_set(ld->err, SW_E_PARSE, "an empty hour in a latency window");
    }
    return st;
}

/* ------------------------------------------------------------------ states */

static void
save_alert(sw_ckw *w, const sw_alert_result *a)
{
    sw_ckw_u64(w, (uint64_t)a->state);
    sw_ckw_i64(w, a->active_since_ms);
    sw_ckw_i64(w, a->last_fired_ms);
    sw_ckw_i64(w, a->last_resolved_ms);
    sw_ckw_f64(w, a->measured);
    sw_ckw_f64(w, a->measured_short);
}

static void
load_alert(sw_ckr *r, sw_alert_result *a)
{
    uint64_t state = sw_ckr_u64(r);
    r->bad |= state > SW_ALERT_FIRING;
    a->state = (sw_alert_state)state;
    a->active_since_ms = sw_ckr_i64(r);
    a->last_fired_ms = sw_ckr_i64(r);
    a->last_resolved_ms = sw_ckr_i64(r);
    a->measured = sw_ckr_f64(r);
    a->measured_short = sw_ckr_f64(r);
}

static void
save_gate(saver *sv, const sw_gate_state *g)
{
    sw_ckw *w = &sv->w;
    sw_ckw_u64(w, g != NULL);
    if (g == NULL)
        return;
    sw_ckw_i64(w, g->from_ms);
    sw_ckw_i64(w, g->to_ms);
    for (int i = 0; i < 2; i++) {
        sw_ckw_u64(w, g->requests[i]);
        sw_ckw_u64(w, g->errors[i]);
        sw_ckw_u64(w, g->lat[i] != NULL);
        save_hdr(sv, g->lat[i]);
    }
    sw_ckw_i64(w, g->failed_at_ms);
    sw_ckw_bytes(w, g->failed_reason, strlen(g->failed_reason));
    sw_ckw_bytes(w, g->policy_override, strlen(g->policy_override));
}

/* A string into a fixed array, NUL-terminated; longer than the array is bad. */
static void
load_text(sw_ckr *r, char *dst, size_t size)
{
    size_t len;
    const uint8_t *p = sw_ckr_bytes(r, &len);
    r->bad |= len >= size || (p != NULL && memchr(p, '\0', len) != NULL);
    if (r->bad)
        len = 0;
    if (len > 0)
        memcpy(dst, p, len);
    dst[len] = '\0';
}

static sw_status
load_gate(loader *ld, sw_series *s)
{
    if (sw_ckr_u64(&ld->r) == 0)
        return SW_OK;
    sw_status st = sw_gate_mark(&s->gate, 0, NULL, ld->err);
    sw_gate_state *g = s->gate;
    if (st != SW_OK)
        return st;
    g->from_ms = sw_ckr_i64(&ld->r);
    g->to_ms = sw_ckr_i64(&ld->r);
    for (int i = 0; i < 2 && st == SW_OK; i++) {
        g->requests[i] = sw_ckr_u64(&ld->r);
        g->errors[i] = sw_ckr_u64(&ld->r);
        if (sw_ckr_u64(&ld->r) != 0 && g->lat[i] == NULL)
            st = sw_hdr_new(&sw_hdr_latency_config, &g->lat[i], ld->err);
        sw_chist *stray = NULL;
        if (st == SW_OK && g->lat[i] != NULL)
            st = load_into(ld, g->lat[i]);
        else if (st == SW_OK && (st = load_chist(ld, &stray)) == SW_OK && stray != NULL)
            st = sw_err_set(ld->err, SW_E_PARSE, "a gate histogram where none is");
        sw_chist_free(stray);
    }
    g->failed_at_ms = sw_ckr_i64(&ld->r);
    load_text(&ld->r, g->failed_reason, sizeof g->failed_reason);
    load_text(&ld->r, g->policy_override, sizeof g->policy_override);
    return st;
}

/* ------------------------------------------------------------------ series */

static void
save_series(saver *sv, const sw_series *s)
{
    sw_ckw *w = &sv->w;
    /* A label value's series is known by its key (sw_rules_by_key), not its service's name. */
    const char *name = s->key != NULL ? s->key : s->service->name;
    sw_ckw_bytes(w, name, strlen(name));
    sw_ckw_u64(w, s->env != NULL);
    sw_ckw_bytes(w, s->env != NULL ? s->env : "", s->env != NULL ? strlen(s->env) : 0);
    sw_ckw_i64(w, s->evaluated_ms);
    sw_ckw_i64(w, s->deployed_ms);
    sw_ckw_i64(w, s->fed_until_ms);
    save_history(sv, &s->hist);
    for (size_t i = 0; i < s->plan->n_lat; i++)
        save_window(sv, &s->lat[i], &s->hist);
    for (size_t i = 0; i < s->rules->n_objectives; i++)
        if (s->slices[i] != NULL)
            sw_slices_save(s->slices[i], w);
    for (size_t i = 0; i < s->rules->n_alerts; i++)
        save_alert(w, &s->alerts[i]);
    for (size_t i = 0; i < s->rules->n_triggers; i++) {
        save_alert(w, &s->trigger_states[i]);
        sw_ckw_u64(w, s->triggers[i].fired);
        sw_ckw_i64(w, s->triggers[i].fired_at_ms);
        sw_ckw_u64(w, (uint64_t)s->triggers[i].state);
    }
    save_gate(sv, s->gate);
}

/* The next name as a C string (freed by the caller), or NULL with r bad. */
static char *
load_name(sw_ckr *r)
{
    size_t len;
    const uint8_t *p = sw_ckr_bytes(r, &len);
    if (p == NULL || len > NAME_MAX_LEN || memchr(p, '\0', len) != NULL) {
        r->bad = true;
        return NULL;
    }
    char *name = malloc(len + 1);
    if (name != NULL) {
        memcpy(name, p, len);
        name[len] = '\0';
    }
    return name;
}

/* The series the next bytes are about: new in ev, known to its rules. */
static sw_status
load_series_key(loader *ld, sw_eval *ev, sw_series **ret)
{
    char *service = load_name(&ld->r);
    bool has_env = sw_ckr_u64(&ld->r) != 0;
    char *env = load_name(&ld->r);
    sw_status st = SW_OK;
    if (ld->r.bad || service == NULL || env == NULL)
        st =
            sw_err_set(ld->err, ld->r.bad ? SW_E_PARSE : SW_E_NOMEM, "a series name is unreadable");
    size_t before = sw_eval_series_count(ev);
    if (st == SW_OK)
        st = sw_eval_series_get(ev, service, has_env ? env : NULL, ret, ld->err);
    if (st == SW_E_INVAL)
        st = as_parse_error(ld->err); /* not a state of these rules */
    if (st == SW_OK && sw_eval_series_count(ev) != before + 1)
        st = sw_err_set(ld->err, SW_E_PARSE, "series %s is there twice", service);
    free(service);
    free(env);
    return st;
}

static sw_status
load_series(loader *ld, sw_eval *ev)
{
    sw_series *s;
    sw_status st = load_series_key(ld, ev, &s);
    if (st != SW_OK)
        return st;
    sw_ckr *r = &ld->r;
    s->evaluated_ms = sw_ckr_i64(r);
    s->deployed_ms = sw_ckr_i64(r);
    s->fed_until_ms = sw_ckr_i64(r);
    st = load_history(ld, &s->hist);
    for (size_t i = 0; i < s->plan->n_lat && st == SW_OK; i++)
        st = load_window(ld, &s->lat[i], &s->plan->lat[i], &s->hist);
    for (size_t i = 0; i < s->rules->n_objectives && st == SW_OK; i++)
        if (s->slices[i] != NULL)
            st = sw_slices_load(s->slices[i], r, ld->err);
    for (size_t i = 0; i < s->rules->n_alerts && st == SW_OK; i++)
        load_alert(r, &s->alerts[i]);
    for (size_t i = 0; i < s->rules->n_triggers && st == SW_OK; i++) {
        load_alert(r, &s->trigger_states[i]);
        s->triggers[i].fired = sw_ckr_u64(r) != 0;
        s->triggers[i].fired_at_ms = sw_ckr_i64(r);
        uint64_t state = sw_ckr_u64(r);
        r->bad |= state > SW_ALERT_FIRING;
        s->triggers[i].state = (sw_alert_state)state;
    }
    if (st == SW_OK)
        st = load_gate(ld, s);
    if (st == SW_OK && r->bad)
        st = sw_err_set(ld->err, SW_E_PARSE, "the state of %s does not fit", s->service->name);
    return st;
}

/* ------------------------------------------------------------------ evaluator */

sw_status
sw_eval_ckpt_save(const sw_eval *ev, sw_buf *out, sw_err *err)
{
    saver sv = {.w = {.out = out, .st = SW_OK, .err = err}, .scratch = ev->scratch};
    sw_buf_init(&sv.enc, (size_t)64 << 20);
    sw_ckw_i64(&sv.w, ev->now_ms);
    sw_ckw_i64(&sv.w, ev->alerts_from_ms);
    sw_ckw_u64(&sv.w, ev->n_series);
    for (size_t i = 0; i < ev->n_series && sv.w.st == SW_OK; i++)
        save_series(&sv, ev->series[i]);
    sw_buf_fini(&sv.enc);
    return sv.w.st;
}

sw_status
sw_eval_ckpt_load(const sw_rules *rules, const uint8_t *data, size_t len, sw_eval **ret,
                  sw_err *err)
{
    sw_eval *ev;
    sw_status st = sw_eval_new(rules, &ev, err);
    if (st != SW_OK)
        return st;
    loader ld = {.r = {.p = data, .end = data + len}, .err = err};
    sw_buf_init(&ld.buf, (size_t)64 << 20);
    ev->now_ms = sw_ckr_i64(&ld.r);
    ev->alerts_from_ms = sw_ckr_i64(&ld.r);
    size_t n = sw_ckr_count(&ld.r);
    if (ld.r.bad)
        st = sw_err_set(err, SW_E_PARSE, "the evaluator's state is truncated");
    for (size_t i = 0; i < n && st == SW_OK; i++)
        st = load_series(&ld, ev);
    if (st == SW_OK && ld.r.p != ld.r.end)
        st = sw_err_set(err, SW_E_PARSE, "%zu bytes after the evaluator's state",
                        (size_t)(ld.r.end - ld.r.p));
    sw_buf_fini(&ld.buf);
    if (st != SW_OK) {
        sw_err_prefix(err, "checkpoint");
        sw_eval_free(ev);
        return st;
    }
    *ret = ev;
    return SW_OK;
}
