/*
 * sw_promquery_parse on hostile query_range responses. The first byte picks the sample at
 * which the sink refuses (0xff: never), the rest is the body, parsed under a cap at and just
 * below its length. Checks: the sw_err contract; SW_E_TOOBIG exactly over the cap (and then
 * nothing reached the sink); a refusing sink's error comes back unchanged; every sample handed
 * on has a timestamp, bounded labels and a name and labels inside the body's strings' sizes;
 * counts agree with what the sink saw.
 */
#include "fuzz.h"

#include "slawatch/promquery.h"

typedef struct sink_state {
    size_t seen, refuse_at, body_len;
} sink_state;

static sw_status
on_sample(void *ctx, const sw_prom_sample *s, sw_err *err)
{
    sink_state *st = ctx;
    FUZZ_CHECK(s->has_timestamp && s->type == SW_PROM_UNKNOWN);
    FUZZ_CHECK(s->name != NULL && s->name_len <= st->body_len);
    FUZZ_CHECK(s->n_labels <= st->body_len);
    for (size_t i = 0; i < s->n_labels; i++)
        FUZZ_CHECK(s->labels[i].name_len + s->labels[i].value_len <= st->body_len);
    if (st->seen++ == st->refuse_at)
        return sw_err_set(err, SW_E_RANGE, "refused by the fuzz sink");
    return SW_OK;
}

static void
check_one(const uint8_t *body, size_t n, size_t max_bytes, size_t refuse_at)
{
    sink_state ss = {0, refuse_at, n};
    sw_promquery_reader rd = {{&ss, on_sample, NULL}, NULL, NULL};
    sw_promquery_counts c = {0};
    sw_err err = {0};
    sw_status st = sw_promquery_parse(body, n, max_bytes, &rd, &c, &err);
    if (st != SW_OK) {
        fuzz_check_err(st, &err);
        FUZZ_CHECK((st == SW_E_TOOBIG) == (n > max_bytes) || st == SW_E_NOMEM);
        if (st == SW_E_TOOBIG)
            FUZZ_CHECK(ss.seen == 0);
        if (st == SW_E_RANGE)
            FUZZ_CHECK(ss.seen == refuse_at + 1 &&
                       strcmp(err.msg, "refused by the fuzz sink") == 0);
        return;
    }
    FUZZ_CHECK(n <= max_bytes);
    FUZZ_CHECK(refuse_at == SIZE_MAX || ss.seen <= refuse_at);
    FUZZ_CHECK(c.samples == ss.seen);
    FUZZ_CHECK(c.samples == 0 || c.series > 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t refuse_at = data[0] == 0xff ? SIZE_MAX : data[0];
    const uint8_t *body = data + 1;
    size_t n = size - 1;
    check_one(body, n, n, refuse_at);
    if (n > 0)
        check_one(body, n, n - 1, refuse_at);
    return 0;
}
