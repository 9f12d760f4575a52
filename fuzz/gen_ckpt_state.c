/*
 * Writes evaluator-state seeds for fuzz_ckpt (its first byte 0: the rest is a state read by
 * sw_eval_ckpt_load): an evaluator of fuzz_ckpt_rules.h fed a few intervals, marked, advanced,
 * saved at three moments. Deterministic.
 *
 *     ninja -C build fuzz/gen_ckpt_state && build/fuzz/gen_ckpt_state fuzz/corpus/ckpt
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slawatch/eval_ckpt.h"
#include "slawatch/rng.h"

#include "fuzz_ckpt_rules.h"

#define BASE 10000
#define START INT64_C(1796515200000)

static void
check(sw_status st, const sw_err *err)
{
    if (st != SW_OK) {
        fprintf(stderr, "gen_ckpt_state: %s\n", err->msg);
        exit(1);
    }
}

static void
save(const sw_eval *ev, const sw_rules *rules, const char *dir, const char *name)
{
    sw_buf out;
    sw_buf_init(&out, (size_t)1 << 30);
    sw_err err = {0};
    uint8_t mode = 0;
    check(sw_buf_append(&out, &mode, 1, &err), &err);
    check(sw_eval_ckpt_save(ev, &out, &err), &err);
    sw_eval *back; /* a seed that does not load would only reach the first check */
    check(sw_eval_ckpt_load(rules, out.data + 1, out.len - 1, &back, &err), &err);
    sw_eval_free(back);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(out.data, 1, out.len, f) != out.len || fclose(f) != 0) {
        fprintf(stderr, "gen_ckpt_state: cannot write %s\n", path);
        exit(1);
    }
    sw_buf_fini(&out);
}

int
main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen_ckpt_state DIR\n");
        return 2;
    }
    sw_err err = {0};
    sw_rules *rules;
    sw_eval *ev;
    check(sw_rules_load_mem(fuzz_ckpt_rules, strlen(fuzz_ckpt_rules), "fuzz", &rules, NULL, &err),
          &err);
    check(sw_eval_new(rules, &ev, &err), &err);
    save(ev, rules, argv[1], "state-empty");
    sw_rng rng = {.state = 1};
    static const char *const envs[] = {"blue", "green"};
    for (int64_t t = START - 2 * 3600000; t < START + 15 * 60000; t += BASE) {
        if (t == START)
            sw_eval_mark_deployment(ev, "api", "green", t);
        for (int e = 0; e < 2; e++) {
            sw_sli_interval iv = {.start_ms = t, .length_ms = BASE, .has_data = true};
            check(sw_hdr_new(&sw_hdr_latency_config, &iv.latency, &err), &err);
            for (int v = 0; v < 8; v++)
                sw_hdr_record(iv.latency, sw_rng_lognormal_us(&rng, 100000.0, 0.5));
            iv.requests = 8;
            check(sw_eval_add(ev, "api", envs[e], &iv, &err), &err);
            sw_sli_interval_fini(&iv);
        }
        check(sw_eval_advance(ev, t + BASE, &err), &err);
        if (t == START - 3600000)
            save(ev, rules, argv[1], "state-an-hour");
    }
    save(ev, rules, argv[1], "state-marked");
    sw_eval_free(ev);
    sw_rules_free(rules);
    return 0;
}
