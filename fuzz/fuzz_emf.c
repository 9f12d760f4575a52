/*
 * Fuzz target for the EMF parser: any bytes parse into a batch whose items and values are
 * consistent, or fail with a message and an empty batch. The map comes from a fixed rule set
 * with a push service and an ALB preset service.
 */
#include "fuzz.h"

#include <string.h>

#include "slawatch/emf.h"
#include "slawatch/hdr.h"

static const char rules_text[] =
    "version: 1\nservices:\n  - name: api\n    sli:\n      requests: {push: true}\n"
    "      latency: {push: true}\n  - name: web\n    sli:\n"
    "      latency: {cloudwatch: {preset: alb, dimensions: {LoadBalancer: lb}}}\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    sw_rules *rules = NULL;
    sw_emf_map *map = NULL;
    FUZZ_CHECK(sw_rules_load_mem(rules_text, strlen(rules_text), "f", &rules, NULL, NULL) == SW_OK);
    FUZZ_CHECK(sw_emf_map_new(rules, &map, NULL) == SW_OK);
    sw_emf_batch b = {0};
    sw_err err = {0};
    sw_status st = sw_emf_parse(map, data, n, &b, &err);
    if (st != SW_OK) {
        fuzz_check_err(st, &err);
        FUZZ_CHECK(b.n_items == 0 && b.n_values == 0);
    }
    size_t values = 0;
    for (size_t i = 0; i < b.n_items; i++)
        if (b.items[i].kind == SW_EMF_LATENCY) {
            FUZZ_CHECK(b.items[i].first == values);
            values += b.items[i].count;
        }
    FUZZ_CHECK(values == b.n_values && b.n_values <= SW_EMF_VALUES_MAX);
    for (size_t i = 0; i < b.n_values; i++)
        FUZZ_CHECK(b.values_us[i] >= 0 && b.values_us[i] <= SW_HDR_LATENCY_HIGHEST_US);
    sw_emf_batch_fini(&b);
    sw_emf_map_free(map);
    sw_rules_free(rules);
    return 0;
}
