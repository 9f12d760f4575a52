/*
 * Fuzz target for the recorded-intervals reader (sw_intervals_parse_line) and the evaluator
 * fed by it: each input line is parsed at a 10 s base interval; accepted intervals must be
 * well formed and are replayed through an evaluator with a small rule set, which must either
 * take them or refuse them with a proper error.
 */
#include "fuzz.h"

#include "slawatch/eval.h"
#include "slawatch/intervals.h"

#define BASE_MS 10000

static const char rules_text[] = "version: 1\n"
                                 "services:\n"
                                 "  - name: api\n"
                                 "    environments: [blue, green]\n"
                                 "    sli:\n"
                                 "      requests: {push: true}\n"
                                 "      errors: {push: true}\n"
                                 "      latency: {push: true}\n"
                                 "      health: {push: true}\n"
                                 "objectives:\n"
                                 "  - name: availability\n"
                                 "    objective: availability >= 99.9%\n"
                                 "  - name: latency\n"
                                 "    objective: p95 <= 500ms\n"
                                 "    window: 1h\n"
                                 "alerts:\n"
                                 "  - name: Burn\n"
                                 "    burn_rate: 14.4\n"
                                 "    objective: availability\n"
                                 "    long: 1h\n"
                                 "    short: 5m\n"
                                 "rollback_triggers:\n"
                                 "  - name: Health\n"
                                 "    when: health_consecutive_failures > 3\n";

static void
check_line(const sw_intervals_line *l)
{
    FUZZ_CHECK(l->service[0] != '\0' && memchr(l->service, '\0', sizeof l->service) != NULL);
    FUZZ_CHECK(memchr(l->env, '\0', sizeof l->env) != NULL);
    FUZZ_CHECK(l->iv.start_ms % BASE_MS == 0);
    FUZZ_CHECK(l->iv.length_ms > 0 && l->iv.length_ms % BASE_MS == 0);
    FUZZ_CHECK(l->iv.errors <= l->iv.requests);
    FUZZ_CHECK(l->iv.health.failures <= l->iv.health.probes);
    FUZZ_CHECK(l->iv.has_data);
}

/* Feed one parsed line to the evaluator; out-of-order or unknown series are refused cleanly. */
static void
replay_line(sw_eval *ev, const sw_intervals_line *l)
{
    sw_err err = {0};
    sw_status st = sw_eval_advance(ev, l->iv.start_ms, &err);
    if (st == SW_OK)
        st = sw_eval_add(ev, l->service, l->env[0] ? l->env : NULL, &l->iv, &err);
    if (st != SW_OK)
        fuzz_check_err(st, &err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sw_rules *rules = NULL;
    sw_eval *ev = NULL;
    FUZZ_CHECK(sw_rules_load_mem(rules_text, sizeof rules_text - 1, "fuzz.yaml", &rules, NULL,
                                 NULL) == SW_OK);
    FUZZ_CHECK(sw_eval_new(rules, &ev, NULL) == SW_OK);
    const char *text = (const char *)data;
    unsigned long line_no = 0;
    for (size_t pos = 0; pos < size;) {
        const char *nl = memchr(text + pos, '\n', size - pos);
        size_t end = nl ? (size_t)(nl - text) : size;
        sw_intervals_line l;
        sw_err err = {0};
        sw_status st = sw_intervals_parse_line(text + pos, end - pos, BASE_MS, "fuzz.jsonl",
                                               ++line_no, &l, &err);
        if (st == SW_OK) {
            check_line(&l);
            replay_line(ev, &l);
            sw_sli_interval_fini(&l.iv);
        } else {
            fuzz_check_err(st, &err);
        }
        pos = end + 1;
    }
    sw_eval_free(ev);
    sw_rules_free(rules);
    return 0;
}
