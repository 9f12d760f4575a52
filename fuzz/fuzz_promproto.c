/*
 * The protobuf exposition decoder on raw bytes, with and without a native-histogram consumer.
 * Checks the sw_err contract and the error offset; every sample has a name, labels with names,
 * and native histograms whose counts match their spans and are never negative. Each native
 * histogram is also expanded, subtracted from the previous one and recorded into an HDR
 * histogram (promhist), so hostile spans and counts reach that code too.
 */
#include "fuzz.h"

#include <math.h>
#include <stdbool.h>

#include "slawatch/hdr.h"
#include "slawatch/promhist.h"
#include "slawatch/promproto.h"

typedef struct state {
    sw_hdr *h;
    sw_native_dense prev, cur, delta;
    size_t samples;
} state;

static void
check_sample(const sw_prom_sample *s)
{
    FUZZ_CHECK(s->name != NULL && s->name_len > 0);
    FUZZ_CHECK(s->n_labels == 0 || s->labels != NULL);
    for (size_t i = 0; i < s->n_labels; i++)
        FUZZ_CHECK(s->labels[i].name_len > 0 && s->labels[i].value != NULL);
}

static sw_status
on_sample(void *ctx, const sw_prom_sample *s, sw_err *err)
{
    (void)err;
    check_sample(s);
    ((state *)ctx)->samples++;
    return SW_OK;
}

static size_t
span_total(const sw_prom_span *spans, size_t n)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += spans[i].length;
    return total;
}

static void
convert(state *st, const sw_prom_native *n)
{
    sw_err err = {0};
    sw_status rc = sw_native_dense_set(&st->cur, n, &err);
    if (rc != SW_OK) {
        fuzz_check_err(rc, &err);
        return;
    }
    bool reset = false;
    rc = sw_native_dense_delta(&st->cur, &st->prev, &st->delta, &reset, &err);
    if (rc == SW_OK) {
        memset(&err, 0, sizeof err);
        rc = sw_native_dense_record(&st->delta, 1e6, st->h, &err);
    }
    if (rc != SW_OK)
        fuzz_check_err(rc, &err);
    sw_native_dense tmp = st->prev;
    st->prev = st->cur;
    st->cur = tmp;
}

static sw_status
on_native(void *ctx, const sw_prom_sample *s, const sw_prom_native *n, sw_err *err)
{
    (void)err;
    check_sample(s);
    FUZZ_CHECK(n->schema >= -4 && n->schema <= 8);
    FUZZ_CHECK(span_total(n->pos_spans, n->n_pos_spans) == n->n_pos_counts);
    FUZZ_CHECK(span_total(n->neg_spans, n->n_neg_spans) == n->n_neg_counts);
    state *st = ctx;
    st->samples++;
    convert(st, n);
    return SW_OK;
}

static void
run(const uint8_t *data, size_t size, state *st, bool with_native)
{
    sw_prom_sink sink = {.ctx = st, .sample = on_sample, .native = with_native ? on_native : NULL};
    sw_err err = {0};
    size_t offset = SIZE_MAX;
    sw_status rc = sw_promproto_parse(data, size, &sink, &offset, &err);
    if (rc == SW_OK)
        return;
    fuzz_check_err(rc, &err);
    FUZZ_CHECK(rc == SW_E_PARSE || rc == SW_E_TOOBIG || rc == SW_E_NOMEM);
    FUZZ_CHECK(offset < size);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    state st = {0};
    if (sw_hdr_new(&sw_hdr_latency_config, &st.h, NULL) != SW_OK)
        abort();
    run(data, size, &st, true);
    size_t with_native = st.samples;
    st.samples = 0;
    run(data, size, &st, false);
    /* A native histogram becomes at least three classic samples (_count, _sum, +Inf). */
    FUZZ_CHECK(st.samples >= with_native);
    sw_native_dense_fini(&st.prev);
    sw_native_dense_fini(&st.cur);
    sw_native_dense_fini(&st.delta);
    sw_hdr_free(st.h);
    return 0;
}
