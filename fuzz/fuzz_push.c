/*
 * sw_push_parse (a plain valid batch read directly, anything else through the cJSON tree)
 * against sw_push_parse_tree (the tree path alone, the reference) on hostile bodies. Checks:
 * the sw_err contract on failure; the same status, message and batch from both, so the
 * direct reader never accepts what the tree refuses nor reads a value differently.
 */
#include "fuzz.h"

#include "slawatch/push.h"

static void
check_same(const sw_push_batch *a, const sw_push_batch *b)
{
    FUZZ_CHECK(strcmp(a->service, b->service) == 0 && strcmp(a->env, b->env) == 0);
    FUZZ_CHECK(a->at_ms == b->at_ms && a->requests == b->requests && a->errors == b->errors);
    FUZZ_CHECK(a->errors <= a->requests);
    FUZZ_CHECK(a->n_latency == b->n_latency && a->n_probes == b->n_probes);
    for (size_t i = 0; i < a->n_latency; i++)
        FUZZ_CHECK(a->latency_us[i] == b->latency_us[i]);
    for (size_t i = 0; i < a->n_probes; i++)
        FUZZ_CHECK(a->probes[i] == b->probes[i]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sw_push_batch direct, tree;
    sw_err err_direct = {0}, err_tree = {0};
    sw_status st = sw_push_parse(data, size, &direct, &err_direct);
    sw_status st_tree = sw_push_parse_tree(data, size, &tree, &err_tree);
    FUZZ_CHECK(st == st_tree);
    if (st != SW_OK) {
        fuzz_check_err(st, &err_direct);
        FUZZ_CHECK(strcmp(err_direct.msg, err_tree.msg) == 0);
        return 0;
    }
    check_same(&direct, &tree);
    sw_push_batch_fini(&direct);
    sw_push_batch_fini(&tree);
    return 0;
}
