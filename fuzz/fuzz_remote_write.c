/*
 * Fuzz target for the remote-write decoder (sw_rw_recv_decode): snappy, protobuf-c into the
 * budgeted arena, validation and emission. Besides "no crash, no leak, no UB": the sw_err
 * contract; every emitted sample has a valid name and its labels no __name__; a native
 * histogram's counts match its spans and are never negative; on success the counts returned
 * equal what the sink saw.
 */
#include "fuzz.h"

#include "slawatch/rw_recv.h"

typedef struct seen {
    uint64_t samples, histograms;
} seen;

static void
check_series(const sw_prom_sample *s)
{
    FUZZ_CHECK(s->name != NULL && s->name_len > 0 && s->has_timestamp);
    for (size_t i = 0; i < s->n_labels; i++) {
        const sw_prom_label *l = &s->labels[i];
        FUZZ_CHECK(l->name_len > 0);
        FUZZ_CHECK(!(l->name_len == 8 && memcmp(l->name, "__name__", 8) == 0));
    }
}

static sw_status
on_sample(void *ctx, const sw_prom_sample *s, sw_err *err)
{
    (void)err;
    check_series(s);
    ((seen *)ctx)->samples++;
    return SW_OK;
}

static void
check_side(const sw_prom_span *spans, size_t n_spans, const double *counts, size_t n)
{
    size_t total = 0;
    for (size_t i = 0; i < n_spans; i++)
        total += spans[i].length;
    FUZZ_CHECK(total == n);
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK(counts[i] >= 0);
}

static sw_status
on_native(void *ctx, const sw_prom_sample *s, const sw_prom_native *h, sw_err *err)
{
    (void)err;
    check_series(s);
    FUZZ_CHECK(h->schema >= -4 && h->schema <= 8);
    check_side(h->pos_spans, h->n_pos_spans, h->pos_counts, h->n_pos_counts);
    check_side(h->neg_spans, h->n_neg_spans, h->neg_counts, h->n_neg_counts);
    ((seen *)ctx)->histograms++;
    return SW_OK;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    seen s = {0};
    sw_prom_sink sink = {&s, on_sample, on_native};
    /* Small caps so the fuzzer reaches them; a body of at most 1 MiB decoded. */
    sw_rw_limits lim = {.max_decoded = 1 << 20, .max_series = 2000, .max_samples = 20000};
    sw_rw_counts c;
    sw_err err = {0};
    sw_status st = sw_rw_recv_decode(data, size, &lim, &sink, &c, &err);
    if (st != SW_OK) {
        fuzz_check_err(st, &err);
        return 0;
    }
    FUZZ_CHECK(c.samples == s.samples && c.histograms == s.histograms);
    return 0;
}
